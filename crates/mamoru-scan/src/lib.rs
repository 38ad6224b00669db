//! mamoru's supply-chain scanner. [`Scanner`] walks every layer of an image on its own (files deleted by a later
//! whiteout are still found and attributed to the layer that ships them) plus the merged view, and runs
//! [`FileAnalyzer`]s on worker threads — YARA rules through yara-x (feature `yara`), hash IOC lists, cryptominer
//! heuristics, gitleaks-compatible secret rules — and [`ImageAnalyzer`]s on the image metadata: look-alike names
//! and risky configuration. It also scans directories and git history. Every result is a [`Finding`] naming the
//! layer, path, rule and why; [`output`] renders reports as a table, JSON or SARIF 2.1.0. Packages, SBOMs and
//! vulnerabilities plug in as further analyzers through the same traits.

pub mod analyzer;
pub mod cli;
pub mod config_check;
pub mod engine;
pub mod finding;
pub mod lookalike;
pub mod malware;
pub mod output;
pub mod packages;
pub mod repo;
pub mod secrets;

pub use analyzer::{FileAnalyzer, FileRef, FileWorker, ImageAnalyzer, Origin, StatelessAnalyze, StatelessWorker};
pub use engine::{ImageScan, Progress, ProgressFn, ScanError, ScanOptions, Scanner};
pub use finding::{Category, Finding, ImageReport, LayerReport, Location, Report, ScanStats, Severity};
pub use mamoru_oci;
