//! The `mamoru scan` command line (`image`, `fs`, `repo`), kept here so the binary's wrapper stays thin and
//! tests drive exactly what users run.

use crate::config_check::ConfigAnalyzer;
use crate::engine::{ProgressFn, ScanOptions, Scanner};
use crate::finding::{Report, Severity};
use crate::lookalike::{LookAlikeAnalyzer, LookAlikeConfig};
use crate::malware::hashes::{HashAnalyzer, HashIocs};
use crate::malware::miner::MinerAnalyzer;
use crate::output::{render, Format};
use crate::packages::PackagesAnalyzer;
use crate::secrets::{SecretRules, SecretsAnalyzer};
use mamoru_oci::{Image, OpenOptions, Platform, RegistryAuth};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

/// Why a scan command failed (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Scan(#[from] crate::engine::ScanError),
    #[error(transparent)]
    Image(#[from] mamoru_oci::OciError),
    #[error(transparent)]
    Secrets(#[from] crate::secrets::SecretError),
    #[error(transparent)]
    Ioc(#[from] crate::malware::hashes::IocError),
    #[error("{0}")]
    Setup(String),
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
}

/// `mamoru scan ...`
#[derive(Debug, clap::Subcommand)]
pub enum ScanCommand {
    /// Scan a container image: OCI layout dir, OCI archive, `docker save` archive, or registry reference.
    Image(ImageArgs),
    /// Scan a directory tree (e.g. an unpacked root filesystem).
    Fs(FsArgs),
    /// Scan a git repository's whole history for secrets.
    Repo(RepoArgs),
}

/// Options shared by every scan.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Output format: table, json, sarif (findings), cyclonedx (CycloneDX 1.5 SBOM) or spdx (SPDX 2.3 SBOM).
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Exit with code 1 if a finding of this severity or worse is found (info, low, medium, high, critical).
    #[arg(long)]
    pub fail_on: Option<Severity>,
    /// Write the report to this file instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// YARA rule files (repeatable; includes resolve relative to each file). Default: $MAMORU_YARA_RULES.
    #[arg(long = "yara-rules")]
    pub yara_rules: Vec<PathBuf>,
    /// Hash IOC list files (MD5/SHA-1/SHA-256 per line; repeatable).
    #[arg(long = "ioc-hashes")]
    pub ioc_hashes: Vec<PathBuf>,
    /// gitleaks-format secret rule files (repeatable). Default: the bundled gitleaks rules plus mamoru's extras.
    #[arg(long = "secret-rules")]
    pub secret_rules: Vec<PathBuf>,
    /// Print secrets in clear instead of redacted.
    #[arg(long)]
    pub show_secrets: bool,
    /// Skip these analyzers: yara, hashes, miner, secrets, config, look-alike (repeatable).
    #[arg(long = "skip")]
    pub skip: Vec<String>,
    /// Worker threads (default: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Vulnerability database directory (filled by `mamoru db import`). Default: $MAMORU_DB, else
    /// ~/.cache/mamoru/db. Without one, packages are listed but not matched.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// OpenVEX documents whose statements suppress vulnerability findings (shown with the reason; repeatable).
    #[arg(long = "vex")]
    pub vex: Vec<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ImageArgs {
    pub target: String,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Platform to pick from a multi-platform index (os/arch[/variant]; default: this machine's).
    #[arg(long)]
    pub platform: Option<String>,
    /// Registry user name (password from --password or $MAMORU_REGISTRY_PASSWORD).
    #[arg(long)]
    pub username: Option<String>,
    #[arg(long)]
    pub password: Option<String>,
    /// A bearer token for the registry (default: $MAMORU_REGISTRY_TOKEN).
    #[arg(long)]
    pub token: Option<String>,
    /// Use plain HTTP for the registry.
    #[arg(long)]
    pub insecure: bool,
    /// Verify a cosign signature with this public key (cosign.pub) before scanning, and scan the verified digest;
    /// refuse to scan when no signature is valid (registry references only).
    #[arg(long = "require-signature", value_name = "PUBKEY")]
    pub require_signature: Option<PathBuf>,
    /// Docker Official Images list (one name a line) for look-alike checks. Default: the bundled list.
    #[arg(long)]
    pub official_images: Option<PathBuf>,
    /// Extra trusted registry/namespace prefixes (e.g. ghcr.io/my-org; repeatable).
    #[arg(long = "trusted")]
    pub trusted: Vec<String>,
    /// Also check this name for look-alikes (e.g. the reference an archive was pulled as).
    #[arg(long = "name")]
    pub names: Vec<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct FsArgs {
    pub dir: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RepoArgs {
    pub path: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// The Docker Official Images list bundled with mamoru.
pub const BUNDLED_OFFICIAL_IMAGES: &str = include_str!("../rules/official-images.txt");

/// Runs a scan command; returns the process exit code (0 clean, 1 findings at or above --fail-on).
pub fn run(command: ScanCommand) -> Result<u8, CliError> {
    match command {
        ScanCommand::Image(args) => run_image(args),
        ScanCommand::Fs(args) => {
            let mut scanner = build_scanner(&args.common, None)?;
            let packages = add_packages(&mut scanner, &args.common, vec![args.dir.display().to_string()])?;
            let report = scanner.scan_dir(&args.dir)?;
            finish(&report, &args.common, packages.as_deref())
        }
        ScanCommand::Repo(args) => {
            let secrets = secrets_analyzer(&args.common)?;
            let report = crate::repo::scan_repo(&args.path, &secrets)?;
            finish(&report, &args.common, None)
        }
    }
}

fn run_image(args: ImageArgs) -> Result<u8, CliError> {
    let platform = match &args.platform {
        Some(p) => Some(Platform::parse(p).ok_or_else(|| CliError::Usage(format!("invalid --platform {p:?}")))?),
        None => None,
    };
    let options = OpenOptions {
        platform,
        auth: RegistryAuth {
            username: args.username.clone(),
            password: args
                .password
                .clone()
                .or_else(|| std::env::var("MAMORU_REGISTRY_PASSWORD").ok()),
            bearer_token: args
                .token
                .clone()
                .or_else(|| std::env::var("MAMORU_REGISTRY_TOKEN").ok()),
        },
        insecure_registry: args.insecure,
        ..OpenOptions::default()
    };
    let target = match &args.require_signature {
        Some(key_path) => verified_target(&args, key_path, &options.auth)?,
        None => args.target.clone(),
    };
    let mut image = Image::open(&target, &options)?;
    image.names.extend(args.names.iter().cloned());
    let official = match &args.official_images {
        Some(p) => std::fs::read_to_string(p).map_err(|e| CliError::Setup(format!("{}: {e}", p.display())))?,
        None => BUNDLED_OFFICIAL_IMAGES.to_string(),
    };
    let mut look = LookAlikeConfig::from_official_list(&official);
    look.trusted.extend(args.trusted.iter().cloned());
    let mut scanner = build_scanner(&args.common, Some(look))?;
    let packages = add_packages(&mut scanner, &args.common, vec![args.target.clone(), target.clone()])?;
    let scan = scanner.scan_image(&image)?;
    finish(&scan.report, &args.common, packages.as_deref())
}

/// Verifies the image's cosign signature and returns the reference to scan: the verified digest, so the tag
/// cannot be moved to another image between the check and the scan.
fn verified_target(args: &ImageArgs, key_path: &std::path::Path, auth: &RegistryAuth) -> Result<String, CliError> {
    let key = mamoru_sign::PublicKey::read(key_path)
        .map_err(|e| CliError::Setup(format!("--require-signature {}: {e}", key_path.display())))?;
    let options = mamoru_sign::VerifyOptions {
        auth: auth.clone(),
        insecure: args.insecure,
        ignore_reference: false,
    };
    let verified = mamoru_sign::verify_image(&args.target, &key, &options)
        .map_err(|e| CliError::Setup(format!("signature check of {} failed: {e}", args.target)))?;
    let mut reference = mamoru_oci::Reference::parse(&args.target).map_err(CliError::Image)?;
    eprintln!(
        "mamoru: {} signed ({}), scanning {}",
        args.target, verified.layer_digest, verified.image_digest
    );
    reference.tag = None;
    reference.digest = Some(verified.image_digest);
    Ok(reference.to_string())
}

/// Adds the packages/vulnerabilities analyzer unless skipped; returns it so the SBOM outputs can read the packages.
fn add_packages(
    scanner: &mut Scanner,
    common: &CommonArgs,
    subjects: Vec<String>,
) -> Result<Option<Arc<PackagesAnalyzer>>, CliError> {
    if skipped(common, "packages") {
        return Ok(None);
    }
    let dir = common.db.clone().unwrap_or_else(mamoru_sbom::Database::default_dir);
    let db = mamoru_sbom::Database::open(&dir).map_err(|e| CliError::Setup(e.to_string()))?;
    let db = if db.is_empty() {
        tracing::warn!(
            "no vulnerability database in {} (run `mamoru db import`): packages are listed, not matched",
            dir.display()
        );
        None
    } else {
        Some(db)
    };
    let mut vex = mamoru_sbom::Vex::default();
    for path in &common.vex {
        vex.load(path).map_err(|e| CliError::Setup(e.to_string()))?;
    }
    let analyzer = Arc::new(PackagesAnalyzer::new(db, vex, subjects));
    scanner.add_file_analyzer(analyzer.clone());
    Ok(Some(analyzer))
}

fn skipped(common: &CommonArgs, name: &str) -> bool {
    common.skip.iter().any(|s| s == name)
}

fn secrets_analyzer(common: &CommonArgs) -> Result<SecretsAnalyzer, CliError> {
    let rules = if common.secret_rules.is_empty() {
        SecretRules::bundled()?
    } else {
        SecretRules::load(&common.secret_rules)?
    };
    Ok(SecretsAnalyzer::new(rules, common.show_secrets))
}

/// Builds a scanner with every analyzer the options enable; `look_alike` only for images.
pub fn build_scanner(common: &CommonArgs, look_alike: Option<LookAlikeConfig>) -> Result<Scanner, CliError> {
    let mut options = ScanOptions {
        threads: common.threads,
        ..ScanOptions::default()
    };
    options.progress = progress_bar();
    let mut scanner = Scanner::new(options);
    add_yara(&mut scanner, common)?;
    if !common.ioc_hashes.is_empty() && !skipped(common, "hashes") {
        let mut iocs = HashIocs::new();
        for p in &common.ioc_hashes {
            iocs.load_file(p)?;
        }
        scanner.add_file_analyzer(Arc::new(HashAnalyzer::new(iocs)));
    }
    if !skipped(common, "miner") {
        scanner.add_file_analyzer(Arc::new(
            MinerAnalyzer::new().map_err(|e| CliError::Setup(e.to_string()))?,
        ));
    }
    let secrets = if skipped(common, "secrets") {
        None
    } else {
        let s = Arc::new(secrets_analyzer(common)?);
        scanner.add_file_analyzer(s.clone());
        Some(s)
    };
    if let Some(look) = look_alike.filter(|_| !skipped(common, "look-alike")) {
        scanner.add_image_analyzer(Arc::new(LookAlikeAnalyzer::new(look)));
    }
    if !skipped(common, "config") {
        scanner.add_image_analyzer(Arc::new(
            ConfigAnalyzer::new(secrets).map_err(|e| CliError::Setup(e.to_string()))?,
        ));
    }
    Ok(scanner)
}

fn yara_paths(common: &CommonArgs) -> Vec<PathBuf> {
    if !common.yara_rules.is_empty() {
        return common.yara_rules.clone();
    }
    std::env::var_os("MAMORU_YARA_RULES")
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default()
}

#[cfg(feature = "yara")]
fn add_yara(scanner: &mut Scanner, common: &CommonArgs) -> Result<(), CliError> {
    let paths = yara_paths(common);
    if paths.is_empty() || skipped(common, "yara") {
        return Ok(());
    }
    let yara = crate::malware::yara::YaraAnalyzer::compile(&paths).map_err(|e| CliError::Setup(e.to_string()))?;
    tracing::info!(rules = yara.rule_count(), "YARA rules compiled");
    scanner.add_file_analyzer(Arc::new(yara));
    Ok(())
}

#[cfg(not(feature = "yara"))]
fn add_yara(_scanner: &mut Scanner, common: &CommonArgs) -> Result<(), CliError> {
    if !yara_paths(common).is_empty() && !skipped(common, "yara") {
        return Err(CliError::Setup(
            "YARA rules were given but this build has no YARA support (build with the `yara` feature)".to_string(),
        ));
    }
    Ok(())
}

/// A progress line on stderr, only when stderr is a terminal.
fn progress_bar() -> Option<ProgressFn> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    Some(Arc::new(|p: crate::engine::Progress| {
        eprint!(
            "\r\x1b[Kscanning layer {}/{} ({} bytes)",
            p.layer + 1,
            p.layers,
            p.layer_bytes
        );
        if p.layer + 1 == p.layers {
            eprintln!();
        }
    }))
}

fn finish(report: &Report, common: &CommonArgs, packages: Option<&PackagesAnalyzer>) -> Result<u8, CliError> {
    if let f @ ("cyclonedx" | "spdx") = common.format.as_str() {
        return write_sbom(report, common, packages, f);
    }
    let format: Format = common.format.parse().map_err(CliError::Usage)?;
    match &common.output {
        Some(path) => {
            let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
            render(report, format, &mut file)?;
            std::io::Write::flush(&mut file)?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            render(report, format, &mut lock)?;
        }
    }
    let failed = common.fail_on.is_some_and(|t| report.count_at_least(t) > 0);
    Ok(u8::from(failed))
}

/// The SBOM of the scan (CycloneDX 1.5 or SPDX 2.3 JSON); `--fail-on` still applies to the findings.
fn write_sbom(
    report: &Report,
    common: &CommonArgs,
    packages: Option<&PackagesAnalyzer>,
    format: &str,
) -> Result<u8, CliError> {
    let Some(packages) = packages else {
        return Err(CliError::Usage(format!(
            "--format {format} needs the packages analyzer (remove --skip packages; not available for `scan repo`)"
        )));
    };
    let kind = if report.kind == "image" {
        mamoru_sbom::SubjectKind::Container
    } else {
        mamoru_sbom::SubjectKind::Filesystem
    };
    let mut meta = mamoru_sbom::SbomMeta::new(report.target.clone(), kind);
    meta.digest = report.image.as_ref().and_then(|i| i.manifest_digest.clone());
    let pkgs = packages.packages();
    let doc = if format == "cyclonedx" {
        mamoru_sbom::cyclonedx(&pkgs, &meta)
    } else {
        mamoru_sbom::spdx(&pkgs, &meta)
    };
    let text = serde_json::to_string_pretty(&doc).map_err(|e| CliError::Setup(e.to_string()))?;
    match &common.output {
        Some(path) => std::fs::write(path, text + "\n")?,
        None => println!("{text}"),
    }
    let failed = common.fail_on.is_some_and(|t| report.count_at_least(t) > 0);
    Ok(u8::from(failed))
}
