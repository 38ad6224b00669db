//! `mamoru sign` / `mamoru verify`: cosign-compatible image signatures (logic in `mamoru_sign`).

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use mamoru_sign::RegistryAuth;
use mamoru_sign::{LayerVerdict, PrivateKey, PublicKey, ScryptCost, SignOptions, VerifyOptions};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The variable cosign reads the private key password from; shared so scripts work with both tools.
const PASSWORD_VAR: &str = "COSIGN_PASSWORD";

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SignArgs {
    #[command(subcommand)]
    pub command: Option<SignCommand>,
    #[command(flatten)]
    pub image: SignImageArgs,
}

#[derive(Subcommand)]
pub enum SignCommand {
    /// Write a new ECDSA P-256 key pair in cosign's formats (PREFIX.key encrypted with $COSIGN_PASSWORD, PREFIX.pub).
    GenerateKeyPair(KeygenArgs),
}

#[derive(Args)]
pub struct KeygenArgs {
    /// File name prefix of the key pair.
    #[arg(long, default_value = "cosign")]
    pub output_key_prefix: String,
    /// Overwrite existing key files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args)]
pub struct RegistryArgs {
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
}

impl RegistryArgs {
    fn auth(&self) -> RegistryAuth {
        RegistryAuth {
            username: self.username.clone(),
            password: self
                .password
                .clone()
                .or_else(|| std::env::var("MAMORU_REGISTRY_PASSWORD").ok()),
            bearer_token: self
                .token
                .clone()
                .or_else(|| std::env::var("MAMORU_REGISTRY_TOKEN").ok()),
        }
    }
}

#[derive(Args)]
pub struct SignImageArgs {
    /// Encrypted private key (cosign format); password from $COSIGN_PASSWORD or a prompt.
    #[arg(long, default_value = "cosign.key")]
    pub key: PathBuf,
    /// KEY=VALUE annotations for the payload's `optional` section (repeatable).
    #[arg(short = 'a', long = "annotations")]
    pub annotations: Vec<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The image to sign: registry/repository:tag or @sha256:digest.
    pub image: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum VerifyOutput {
    /// A line per signature layer.
    Text,
    /// The verified payloads as a JSON array (what `cosign verify` prints).
    Json,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Public key (PKIX PEM, e.g. cosign.pub).
    #[arg(long)]
    pub key: PathBuf,
    /// Accept signatures made for another repository (e.g. after the image was copied).
    #[arg(long)]
    pub ignore_reference: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub output: VerifyOutput,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The image to verify.
    pub image: String,
}

pub fn sign(args: SignArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(SignCommand::GenerateKeyPair(k)) => generate_key_pair(&k),
        None => sign_image(args.image),
    }
}

fn sign_image(args: SignImageArgs) -> anyhow::Result<ExitCode> {
    let Some(image) = args.image.as_deref() else {
        bail!("no image given: mamoru sign --key cosign.key REGISTRY/REPO:TAG");
    };
    let annotations = parse_annotations(&args.annotations)?;
    let password = password(
        &format!("Enter password for private key {}: ", args.key.display()),
        false,
    )?;
    let key = PrivateKey::read_encrypted(&args.key, password.as_bytes())?;
    let options = SignOptions {
        auth: args.registry.auth(),
        insecure: args.registry.insecure,
        annotations,
    };
    let signed = mamoru_sign::sign_image(image, &key, &options)?;
    if signed.added {
        eprintln!(
            "Pushed signature to {} ({} signature(s) for {})",
            signed.signature_reference, signed.signature_count, signed.image_digest
        );
    } else {
        eprintln!("{} already carries this signature", signed.signature_reference);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let key = PublicKey::read(&args.key)?;
    let options = VerifyOptions {
        auth: args.registry.auth(),
        insecure: args.registry.insecure,
        ignore_reference: args.ignore_reference,
    };
    let report = mamoru_sign::verify_image_report(&args.image, &key, &options)?;
    match args.output {
        VerifyOutput::Text => {
            for verdict in &report.layers {
                match verdict {
                    LayerVerdict::Valid(v) => {
                        println!("OK       {}  signed for {}", v.layer_digest, v.docker_reference)
                    }
                    LayerVerdict::Invalid { layer_digest, why, .. } => println!("INVALID  {layer_digest}  {why}"),
                }
            }
        }
        VerifyOutput::Json => {
            let payloads: Vec<_> = report.valid().map(|v| &v.payload).collect();
            println!("{}", serde_json::to_string(&payloads)?);
        }
    }
    let valid = report.valid().count();
    if valid == 0 {
        eprintln!(
            "mamoru: {}: no valid signature for {} among {} checked with {}",
            args.image,
            report.image_digest,
            report.layers.len(),
            args.key.display()
        );
        return Ok(ExitCode::from(1));
    }
    eprintln!(
        "Verified {} of {} signature(s) of {} ({}) with {}",
        valid,
        report.layers.len(),
        args.image,
        report.image_digest,
        args.key.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn generate_key_pair(args: &KeygenArgs) -> anyhow::Result<ExitCode> {
    let private_path = PathBuf::from(format!("{}.key", args.output_key_prefix));
    let public_path = PathBuf::from(format!("{}.pub", args.output_key_prefix));
    let password = password("Enter password for private key: ", true)?;
    let key = PrivateKey::generate();
    let private_pem = key.to_encrypted_pem(password.as_bytes(), ScryptCost::COSIGN)?;
    let public_pem = key.public_key().to_pem()?;
    write_new(&private_path, private_pem.as_bytes(), 0o600, args.force)?;
    write_new(&public_path, public_pem.as_bytes(), 0o644, args.force)?;
    eprintln!("Private key written to {}", private_path.display());
    eprintln!("Public key written to {}", public_path.display());
    Ok(ExitCode::SUCCESS)
}

fn write_new(path: &Path, data: &[u8], mode: u32, force: bool) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(mode);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("{}: cannot create (use --force to overwrite)", path.display()))?;
    file.write_all(data)
        .with_context(|| format!("{}: write failed", path.display()))?;
    Ok(())
}

fn parse_annotations(items: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("annotation {item:?} is not KEY=VALUE"),
        })
        .collect()
}

/// $COSIGN_PASSWORD if set (even empty, as cosign does), else an unechoed prompt on the terminal.
fn password(prompt: &str, confirm: bool) -> anyhow::Result<String> {
    if let Ok(p) = std::env::var(PASSWORD_VAR) {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        bail!("${PASSWORD_VAR} is not set and there is no terminal to ask for the key password");
    }
    let first = prompt_hidden(prompt)?;
    if confirm && prompt_hidden("Enter password for private key again: ")? != first {
        bail!("passwords do not match");
    }
    Ok(first)
}

fn prompt_hidden(prompt: &str) -> anyhow::Result<String> {
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let set_echo = |flag: &str| {
        std::process::Command::new("stty")
            .arg(flag)
            .stdin(std::process::Stdio::inherit())
            .status()
    };
    let hidden = set_echo("-echo").is_ok_and(|s| s.success());
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    if hidden {
        let _ = set_echo("echo");
        eprintln!();
    }
    read.context("reading the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
