//! `mamoru scan image|fs|repo`: the supply-chain scanner (logic in `mamoru_scan::cli`).

use std::process::ExitCode;

pub use mamoru_scan::cli::ScanCommand;

pub fn run(command: ScanCommand) -> anyhow::Result<ExitCode> {
    let code = mamoru_scan::cli::run(command)?;
    Ok(ExitCode::from(code))
}
