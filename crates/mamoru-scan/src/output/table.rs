//! Plain-text table.

use crate::finding::{short_digest, Report, Severity};
use std::io::Write;

pub(super) fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{} scan of {}", report.kind, report.target)?;
    if let Some(image) = &report.image {
        if !image.names.is_empty() {
            writeln!(out, "names: {}", image.names.join(", "))?;
        }
        if let Some(d) = &image.manifest_digest {
            writeln!(out, "manifest: {d}")?;
        }
        for l in &image.layers {
            writeln!(
                out,
                "  layer {:>2} {} {:>10} B {:>6} entries{}{}",
                l.index,
                short_digest(&l.digest),
                l.uncompressed_bytes,
                l.entries,
                if l.truncated { " (walk stopped early)" } else { "" },
                l.created_by
                    .as_deref()
                    .map(|c| format!("  {}", c.chars().take(60).collect::<String>()))
                    .unwrap_or_default()
            )?;
        }
    }
    writeln!(out)?;
    if report.findings.is_empty() {
        writeln!(out, "no findings ({} files analyzed)", report.stats.files_analyzed)?;
        return Ok(());
    }
    writeln!(out, "{:<9} {:<13} {:<40} LOCATION", "SEVERITY", "CATEGORY", "RULE")?;
    for f in &report.findings {
        let hidden = match f.in_final_image {
            Some(false) => " [deleted or replaced in a later layer]",
            _ => "",
        };
        writeln!(
            out,
            "{:<9} {:<13} {:<40} {}{hidden}",
            f.severity.as_str().to_uppercase(),
            f.category.as_str(),
            f.rule,
            f.location.display()
        )?;
        writeln!(out, "          {}: {}", f.title, f.why)?;
        if let Some(e) = &f.evidence {
            writeln!(out, "          evidence: {}", e.chars().take(160).collect::<String>())?;
        }
    }
    writeln!(out)?;
    let counts: Vec<String> = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ]
    .iter()
    .map(|s| (s, report.findings.iter().filter(|f| f.severity == *s).count()))
    .filter(|(_, n)| *n > 0)
    .map(|(s, n)| format!("{n} {s}"))
    .collect();
    writeln!(
        out,
        "{} findings: {} ({} files, {} bytes analyzed)",
        report.findings.len(),
        counts.join(", "),
        report.stats.files_analyzed,
        report.stats.bytes_analyzed
    )
}
