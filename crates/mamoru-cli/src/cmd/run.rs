//! `mamoru run`: live detection.
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct RunArgs {
    #[arg(short = 'r', long = "rules")]
    pub rules: Vec<PathBuf>,
}

pub fn run(_args: RunArgs) -> Result<ExitCode> {
    anyhow::bail!("run: wiring in progress")
}
