//! Packages, SBOMs and vulnerabilities for mamoru's supply-chain scanner. [`inventory`] lists the packages of a
//! root filesystem ([`RootFs`]: a directory, or an image's merged view) from dpkg and apk databases, Python
//! metadata, npm package files and lock files, Cargo.lock, Go build info and Java archives; [`cyclonedx`] and
//! [`spdx`] turn the list into CycloneDX 1.5 / SPDX 2.3 JSON; [`Database`] holds OSV records imported from osv.dev
//! exports and [`match_vulns`] matches packages against them with each ecosystem's own version ordering (dpkg,
//! apk, PEP 440, semver, Go), no CPE guessing; [`Vex`] applies OpenVEX statements. RPM databases are not read
//! (the sqlite/ndb formats need a reader this crate does not have).

pub mod db;
pub mod error;
pub mod fs;
pub mod inventory;
pub mod osv;
pub mod package;
pub mod sbom;
pub mod version;
pub mod vex;
pub mod vuln;

pub use db::{Database, ImportStats};
pub use error::{Error, Result};
pub use fs::{DirFs, FileInfo, RootFs};
pub use inventory::{inventory, packages_in_file, wants, Distro, PackageCollector};
pub use package::{Ecosystem, Package};
pub use sbom::{cyclonedx, spdx, SbomMeta, SubjectKind};
pub use vex::{Suppression, Vex};
pub use vuln::{match_vulns, VulnFinding};
