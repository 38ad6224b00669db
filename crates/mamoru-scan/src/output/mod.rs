//! Report rendering: a table for people, JSON, and SARIF 2.1.0 for code-scanning tools.

mod sarif;
mod table;

use crate::finding::Report;
use std::io::Write;

/// Output formats of this crate (CycloneDX and SPDX belong to the SBOM analyzer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Sarif,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            other => Err(format!("unknown format {other:?}")),
        }
    }
}

/// Writes `report` in `format`.
pub fn render(report: &Report, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Table => table::write(report, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report).map_err(std::io::Error::other)?;
            writeln!(out)
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif::to_sarif(report)).map_err(std::io::Error::other)?;
            writeln!(out)
        }
    }
}

pub use sarif::to_sarif;
