//! `mamoru replay`: evaluate recorded events and print alerts.

use anyhow::{bail, Context, Result};
use clap::Args;
use mamoru_cli::config::Config;
use mamoru_cli::pipeline::{JsonPipeline, PipelineStats, SyscallPipeline};
use mamoru_cli::rulesets::{known_sources, Rulesets};
use mamoru_engine::Alert;
use mamoru_fields::json::JsonContext;
use mamoru_output::{hostname, AlertFormat, Renderer};
use mamoru_records::{Limits, RecordReader, RecordSource};
use mamoru_rules::Severity;
use mamoru_scap::{Record, ScapReader};
use mamoru_state::{State, StateConfig};
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ReplayArgs {
    /// Rules file (repeatable, loaded in order). Default: the bundled rules.
    #[arg(short = 'r', long = "rules")]
    pub rules: Vec<PathBuf>,
    /// Event source of the inputs: syscall (scap captures) or a JSON source (k8s_audit, aws_cloudtrail, okta,
    /// github, gcp_auditlog).
    #[arg(long, default_value = "syscall")]
    pub source: String,
    /// Alert format.
    #[arg(long, default_value = "json")]
    pub format: Option<AlertFormat>,
    /// Override a configuration key (rule_matching=first|all, priority=LEVEL, json_output=true|false).
    #[arg(short = 'o', value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Input files; `-` reads standard input.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
}

pub fn run(args: ReplayArgs) -> Result<ExitCode> {
    let mut cfg = Config::default();
    if let Some(f) = args.format {
        cfg.format = f;
    }
    cfg.apply_overrides(&args.overrides)?;
    if !known_sources().contains(&args.source) {
        bail!(
            "unknown source '{}' (known: {})",
            args.source,
            known_sources().join(", ")
        );
    }
    let sets = load_rules(&args.rules, &cfg)?;
    let renderer = Renderer::new(cfg.format, hostname());
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut write_err = None;
    let mut emit = |alert: Alert| {
        if write_err.is_none() {
            if let Err(e) = writeln!(out, "{}", renderer.render(&alert)) {
                write_err = Some(e);
            }
        }
    };
    let stats = if args.source == "syscall" {
        replay_scap(sets, &args.inputs, &mut emit)?
    } else {
        replay_json(&sets, &args.source, &args.inputs, &mut emit)?
    };
    out.flush().ok();
    if let Some(e) = write_err {
        if e.kind() != io::ErrorKind::BrokenPipe {
            return Err(e).context("writing alerts");
        }
    }
    eprintln!("{}", stats.summary());
    Ok(ExitCode::SUCCESS)
}

/// Loads and compiles rules, printing diagnostics; errors stop the command.
pub fn load_rules(files: &[PathBuf], cfg: &Config) -> Result<Rulesets> {
    load_rules_with(files, cfg, mamoru_cli::rulesets::syscall_catalog())
}

/// As [`load_rules`], with the syscall rules bound to `syscall`.
pub fn load_rules_with(
    files: &[PathBuf],
    cfg: &Config,
    syscall: std::sync::Arc<dyn mamoru_fields::Catalog<mamoru_fields::syscall::Syscall>>,
) -> Result<Rulesets> {
    let sets = Rulesets::load_with(files, &cfg.engine(), syscall);
    for d in &sets.diagnostics {
        if d.severity == Severity::Error {
            eprintln!("{d}");
        } else {
            tracing::info!("{d}");
        }
    }
    if sets.has_errors() {
        bail!("rules did not load; run `mamoru rules validate` for details");
    }
    Ok(sets)
}

fn open_input(path: &PathBuf) -> Result<Box<dyn Read + Send>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(io::stdin()));
    }
    let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(Box::new(f))
}

fn replay_scap(sets: Rulesets, inputs: &[PathBuf], emit: &mut impl FnMut(Alert)) -> Result<PipelineStats> {
    let mut pipeline = SyscallPipeline::new(State::new(StateConfig::default()), sets.syscall);
    for path in inputs {
        let mut reader =
            ScapReader::new(open_input(path)?).with_context(|| format!("{}: not a scap capture", path.display()))?;
        loop {
            let rec = reader
                .next_record()
                .with_context(|| format!("reading {}", path.display()))?;
            match rec {
                None => break,
                Some(Record::Event { event, .. }) => pipeline.on_event(&event, &mut *emit),
                Some(other) => pipeline.on_state_record(other),
            }
        }
        let s = reader.stats();
        tracing::info!(
            "{}: {} events ({} unknown blocks, {} unknown event types skipped)",
            path.display(),
            s.events,
            s.unknown_blocks,
            s.unknown_event_types
        );
    }
    Ok(pipeline.stats)
}

fn replay_json(
    sets: &Rulesets,
    source: &str,
    inputs: &[PathBuf],
    emit: &mut impl FnMut(Alert),
) -> Result<PipelineStats> {
    let Some(ruleset) = sets.json_ruleset(source) else {
        bail!("no ruleset for source '{source}'");
    };
    let Some(record_source) = RecordSource::from_name(source) else {
        bail!("source '{source}' has no record reader");
    };
    let mut pipeline = JsonPipeline::new(ruleset, JsonContext::from_environment());
    let mut errors = 0u64;
    for path in inputs {
        let reader = if path.as_os_str() == "-" {
            RecordReader::from_reader("-", io::stdin(), record_source, Limits::default())
        } else {
            RecordReader::open(path, record_source, Limits::default())
        }
        .with_context(|| format!("opening {}", path.display()))?;
        for rec in reader {
            match rec {
                Ok(rec) => pipeline.on_record(&rec, &mut *emit),
                Err(e) => {
                    // A malformed record is reported with its position; the records around it still count.
                    errors += 1;
                    eprintln!("mamoru: {e}");
                }
            }
        }
    }
    if errors > 0 {
        eprintln!("mamoru: {errors} malformed record(s) skipped");
    }
    Ok(pipeline.stats)
}
