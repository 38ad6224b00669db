//! `mamoru-workload`: small, syscall-heavy programs used by `scripts/bench-overhead` to measure what a monitor
//! (mamoru's eBPF sensor, auditd) adds to the programs it watches. Each subcommand runs one loop of real system
//! calls (open+close of a file, fork+exec+wait of `/bin/true`, request/response over loopback TCP) and prints one
//! `key=value` line with its wall time and CPU time. `open-close --rate` and `close-ebadf --rate` pace the loop to
//! a target rate: the event storms of the capacity measurement. Only std and libc, so the workload itself adds no
//! hidden work.

mod args;
mod ops;

use args::{Command, USAGE};
use ops::Measurement;
use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let command = match args::parse(&argv) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mamoru-workload: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (name, n, result) = match command {
        Command::Help => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Command::OpenClose { n, rate } => ("open-close", n, ops::open_close(n, rate)),
        Command::CloseEbadf { n, rate } => ("close-ebadf", n, ops::close_ebadf(n, rate)),
        Command::ForkExec { n } => ("fork-exec", n, ops::fork_exec(n)),
        Command::TcpRr { n } => ("tcp-rr", n, ops::tcp_rr(n)),
    };
    match result {
        Ok(measured) => {
            println!("{}", report_line(name, n, measured));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mamoru-workload {name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One machine-readable line: `workload=open-close n=1000000 elapsed_s=2.345678 cpu_s=2.301000 ops_per_s=426315.8`.
fn report_line(name: &str, n: u64, measured: Measurement) -> String {
    let secs = measured.wall.as_secs_f64();
    let cpu = measured.cpu.as_secs_f64();
    let rate = if secs > 0.0 { n as f64 / secs } else { 0.0 };
    format!("workload={name} n={n} elapsed_s={secs:.6} cpu_s={cpu:.6} ops_per_s={rate:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn report_line_has_the_parsed_keys() {
        let measured = Measurement {
            wall: Duration::from_millis(500),
            cpu: Duration::from_millis(250),
        };
        let line = report_line("tcp-rr", 1000, measured);
        assert_eq!(
            line,
            "workload=tcp-rr n=1000 elapsed_s=0.500000 cpu_s=0.250000 ops_per_s=2000.0"
        );
    }
}
