//! Secrets in a git repository's whole history: `git log -p --all` streamed, the lines each commit adds
//! scanned per file, and line numbers mapped back to the file at that commit.

use crate::engine::ScanError;
use crate::finding::{Location, Report, ScanStats};
use crate::secrets::{SecretsAnalyzer, TextSource};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// Most added text kept for one file of one commit (larger diffs are scanned in pieces of this size).
const MAX_CHUNK: usize = 8 << 20;

/// Added lines of one file in one commit.
#[derive(Default)]
struct Chunk {
    commit: String,
    path: String,
    text: Vec<u8>,
    /// New-file line number of each added line.
    lines: Vec<u64>,
}

/// Scans the history of the repository at `repo` for secrets.
pub fn scan_repo(repo: &Path, secrets: &SecretsAnalyzer) -> Result<Report, ScanError> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args([
            "log",
            "-p",
            "--all",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--unified=0",
            "--diff-filter=AM",
            "--format=commit %H",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ScanError::Git(format!("cannot run git: {e}")))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| ScanError::Git("no stdout from git".to_string()))?;
    let mut report = Report {
        kind: "repo".to_string(),
        target: repo.display().to_string(),
        ..Report::default()
    };
    let mut stats = ScanStats::default();
    let mut reader = BufReader::new(stdout);
    let mut chunk = Chunk::default();
    let mut commit = String::new();
    let mut new_line: u64 = 0;
    let mut raw = Vec::new();
    loop {
        raw.clear();
        let n = reader
            .read_until(b'\n', &mut raw)
            .map_err(|e| ScanError::Git(format!("reading git output: {e}")))?;
        if n == 0 {
            break;
        }
        let line = raw.strip_suffix(b"\n").unwrap_or(&raw);
        if let Some(id) = line.strip_prefix(b"commit ") {
            flush(&mut chunk, secrets, &mut report, &mut stats);
            commit = String::from_utf8_lossy(id).trim().to_string();
        } else if line.starts_with(b"diff --git ") {
            flush(&mut chunk, secrets, &mut report, &mut stats);
        } else if let Some(path) = line.strip_prefix(b"+++ ") {
            flush(&mut chunk, secrets, &mut report, &mut stats);
            let path = String::from_utf8_lossy(path);
            chunk.commit = commit.clone();
            chunk.path = path.strip_prefix("b/").unwrap_or(&path).to_string();
        } else if line.starts_with(b"@@ ") {
            new_line = hunk_start(line).unwrap_or(1);
        } else if let Some(added) = line.strip_prefix(b"+") {
            if chunk.path.is_empty() || chunk.path == "/dev/null" {
                continue;
            }
            if chunk.text.len() + added.len() > MAX_CHUNK {
                let (commit, path) = (chunk.commit.clone(), chunk.path.clone());
                flush(&mut chunk, secrets, &mut report, &mut stats);
                chunk.commit = commit;
                chunk.path = path;
            }
            chunk.text.extend_from_slice(added);
            chunk.text.push(b'\n');
            chunk.lines.push(new_line);
            new_line += 1;
        }
    }
    flush(&mut chunk, secrets, &mut report, &mut stats);
    let status = child.wait().map_err(|e| ScanError::Git(e.to_string()))?;
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        return Err(ScanError::Git(format!("git log failed ({status}): {}", err.trim())));
    }
    report.stats = stats;
    report.normalize();
    Ok(report)
}

/// `@@ -a,b +c,d @@` → c.
fn hunk_start(line: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(line).ok()?;
    let plus = text.split_whitespace().find(|w| w.starts_with('+'))?;
    plus[1..].split(',').next()?.parse().ok()
}

fn flush(chunk: &mut Chunk, secrets: &SecretsAnalyzer, report: &mut Report, stats: &mut ScanStats) {
    if chunk.text.is_empty() {
        chunk.path.clear();
        return;
    }
    stats.files_analyzed += 1;
    stats.bytes_analyzed += chunk.text.len() as u64;
    let location = Location {
        path: Some(chunk.path.clone()),
        commit: Some(chunk.commit.clone()),
        ..Location::default()
    };
    let source = TextSource {
        path: Some(&chunk.path),
        commit: Some(&chunk.commit),
    };
    for mut f in secrets.findings_for(&chunk.text, source, &location) {
        // Map the line within the added text back to the file's line at that commit.
        if let Some(l) = f.location.line {
            f.location.line = chunk.lines.get(l.saturating_sub(1) as usize).copied().or(Some(l));
        }
        report.findings.push(f);
    }
    *chunk = Chunk::default();
}

#[cfg(test)]
mod tests {
    #[test]
    fn hunk_headers() {
        assert_eq!(super::hunk_start(b"@@ -0,0 +12,3 @@ fn x"), Some(12));
        assert_eq!(super::hunk_start(b"@@ -1 +1 @@"), Some(1));
    }
}
