//! `mamoru`: cloud-native threat detection with Falco's rules language.

mod alloc_count;
mod cmd;

#[global_allocator]
static GLOBAL: alloc_count::CountingAlloc = alloc_count::CountingAlloc;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mamoru",
    version,
    about = "Threat detection with Falco's rules: live eBPF sensor, captures, cloud audit logs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with rules files.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// List every field conditions and outputs may use (like `falco --list`).
    Fields {
        /// Only this source's fields (syscall, k8s_audit, aws_cloudtrail, okta, github, gcp_auditlog).
        #[arg(long)]
        source: Option<String>,
    },
    /// Evaluate recorded events (scap captures, or JSON records of a cloud source) and print alerts.
    Replay(cmd::replay::ReplayArgs),
    /// Live detection: attach the eBPF sensor and print alerts as they fire (needs root).
    Run(cmd::run::RunArgs),
    /// Record the live event stream, with the initial process/fd/user tables, to a scap capture file (needs root).
    Capture(cmd::capture::CaptureArgs),
    /// Supply-chain scans: malware, miners, look-alike names, risky config and secrets in images, trees, repos.
    Scan {
        #[command(subcommand)]
        command: Box<cmd::scan::ScanCommand>,
    },
    /// Sign an image in its registry with a cosign key (`sign generate-key-pair` makes one).
    Sign(cmd::sign::SignArgs),
    /// Check an image's cosign signatures against a public key.
    Verify(cmd::sign::VerifyArgs),
    /// The local vulnerability database (OSV records) scans match packages against.
    Db {
        #[command(subcommand)]
        command: cmd::db::DbCommand,
    },
    /// Benchmarks of the hot paths.
    Bench {
        #[command(subcommand)]
        command: cmd::bench::BenchCommand,
    },
    /// Response actions and drift control.
    Response {
        #[command(subcommand)]
        command: cmd::response::ResponseCommand,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Load the files in order as one ruleset; print errors and warnings; exit non-zero on any error.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List the rules, macros and lists of the given files (or of the bundled rules).
    List {
        #[arg(short = 'r', long = "rules")]
        rules: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Rules {
            command: RulesCommand::Validate { files },
        } => cmd::rules::validate(&files),
        Command::Rules {
            command: RulesCommand::List { rules },
        } => cmd::rules::list(&rules),
        Command::Fields { source } => cmd::fields::list(source.as_deref()),
        Command::Replay(args) => cmd::replay::run(args),
        Command::Run(args) => cmd::run::run(args),
        Command::Capture(args) => cmd::capture::run(args),
        Command::Db { command } => cmd::db::run(command),
        Command::Sign(args) => cmd::sign::sign(args),
        Command::Verify(args) => cmd::sign::verify(args),
        Command::Bench { command } => cmd::bench::run(command),
        Command::Scan { command } => cmd::scan::run(*command),
        Command::Response { command } => cmd::response::run(command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mamoru: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Logs go to stderr (stdout carries alerts), level from `MAMORU_LOG` (default `warn`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MAMORU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
