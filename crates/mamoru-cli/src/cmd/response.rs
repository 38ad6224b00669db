//! `mamoru response probe`: which drift-control enforcement mechanism this node allows, which one `mamoru run`
//! would use, and why.

use anyhow::{bail, Result};
use clap::{Subcommand, ValueEnum};
use mamoru_response::config::{DriftConfig, DriftMode, MechanismChoice, MemfdMode};
use mamoru_response::drift::probe;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ResponseCommand {
    /// Probe the enforcement mechanisms (BPF LSM, fanotify, exec-kill BPF program) and print the choice (needs root).
    Probe {
        /// The mechanism the configuration asks for.
        #[arg(long, value_enum, default_value_t = MechanismArg::Auto)]
        mechanism: MechanismArg,
        /// Whether memfd execs are covered.
        #[arg(long, value_enum, default_value_t = MemfdArg::Block)]
        memfd: MemfdArg,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum MechanismArg {
    Auto,
    BpfLsm,
    Fanotify,
    BpfKill,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum MemfdArg {
    Off,
    Detect,
    Block,
}

pub fn run(cmd: ResponseCommand) -> Result<ExitCode> {
    match cmd {
        ResponseCommand::Probe { mechanism, memfd } => {
            let cfg = DriftConfig {
                enabled: true,
                mode: DriftMode::Block,
                mechanism: match mechanism {
                    MechanismArg::Auto => MechanismChoice::Auto,
                    MechanismArg::BpfLsm => MechanismChoice::BpfLsm,
                    MechanismArg::Fanotify => MechanismChoice::Fanotify,
                    MechanismArg::BpfKill => MechanismChoice::BpfKill,
                },
                memfd: match memfd {
                    MemfdArg::Off => MemfdMode::Off,
                    MemfdArg::Detect => MemfdMode::Detect,
                    MemfdArg::Block => MemfdMode::Block,
                },
                ..DriftConfig::default()
            };
            let report = probe(&cfg);
            print!("{report}");
            if report.new_binary.is_none() {
                bail!("no drift-control enforcement mechanism is usable on this node");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
