//! `mamoru capture`.
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct CaptureArgs {
    #[arg(short = 'w')]
    pub write: PathBuf,
}

pub fn run(_args: CaptureArgs) -> Result<ExitCode> {
    anyhow::bail!("capture: wiring in progress")
}
