//! Command-line parsing (std only: the workload binary links nothing but libc).

use std::fmt;

pub const USAGE: &str = "\
usage: mamoru-workload <command> [N] [options]

commands:
  open-close [N] [--rate R]  N x open(\"/etc/hostname\") + close (default 1000000);
                             --rate paces the loop to R open+close pairs per second
  close-ebadf [N] [--rate R] N x close(-1), failing with EBADF: the cheapest watched syscall,
                             a storm for capacity measurements (default 1000000)
  fork-exec [N]              N x fork + exec /bin/true + wait (default 20000)
  tcp-rr [N]                 N request/response round trips over one loopback TCP connection
                             to a server thread (default 100000)

Prints one line: workload=NAME n=N elapsed_s=WALL cpu_s=CPU ops_per_s=RATE
(cpu_s: user+system time of the process and its children during the loop)";

pub const DEFAULT_OPEN_CLOSE: u64 = 1_000_000;
pub const DEFAULT_CLOSE_EBADF: u64 = 1_000_000;
pub const DEFAULT_FORK_EXEC: u64 = 20_000;
pub const DEFAULT_TCP_RR: u64 = 100_000;

#[derive(Debug, PartialEq)]
pub enum Command {
    Help,
    /// `rate`: target open+close pairs per second; `None` runs flat out.
    OpenClose {
        n: u64,
        rate: Option<u64>,
    },
    /// `rate`: target calls per second; `None` runs flat out.
    CloseEbadf {
        n: u64,
        rate: Option<u64>,
    },
    ForkExec {
        n: u64,
    },
    TcpRr {
        n: u64,
    },
}

#[derive(Debug, PartialEq)]
pub struct ArgError(String);

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn parse(argv: &[String]) -> Result<Command, ArgError> {
    let Some((cmd, rest)) = argv.split_first() else {
        return Err(ArgError("missing command".into()));
    };
    match cmd.as_str() {
        "-h" | "--help" | "help" => Ok(Command::Help),
        "open-close" => {
            let (n, rate) = count_and_rate(rest, DEFAULT_OPEN_CLOSE)?;
            Ok(Command::OpenClose { n, rate })
        }
        "close-ebadf" => {
            let (n, rate) = count_and_rate(rest, DEFAULT_CLOSE_EBADF)?;
            Ok(Command::CloseEbadf { n, rate })
        }
        "fork-exec" => Ok(Command::ForkExec {
            n: count_only(rest, DEFAULT_FORK_EXEC)?,
        }),
        "tcp-rr" => Ok(Command::TcpRr {
            n: count_only(rest, DEFAULT_TCP_RR)?,
        }),
        other => Err(ArgError(format!("unknown command `{other}`"))),
    }
}

fn count_only(rest: &[String], default: u64) -> Result<u64, ArgError> {
    match rest {
        [] => Ok(default),
        [n] => positive(n, "N"),
        [_, extra, ..] => Err(ArgError(format!("unexpected argument `{extra}`"))),
    }
}

fn count_and_rate(rest: &[String], default: u64) -> Result<(u64, Option<u64>), ArgError> {
    let mut n = None;
    let mut rate = None;
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        if arg == "--rate" {
            let value = it.next().ok_or_else(|| ArgError("--rate needs a value".into()))?;
            rate = Some(positive(value, "--rate")?);
        } else if let Some(value) = arg.strip_prefix("--rate=") {
            rate = Some(positive(value, "--rate")?);
        } else if n.is_none() && !arg.starts_with('-') {
            n = Some(positive(arg, "N")?);
        } else {
            return Err(ArgError(format!("unexpected argument `{arg}`")));
        }
    }
    Ok((n.unwrap_or(default), rate))
}

/// A count such as `1000000` or `1_000_000`; zero is refused (it would measure nothing).
fn positive(text: &str, what: &str) -> Result<u64, ArgError> {
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    match digits.parse::<u64>() {
        Ok(0) => Err(ArgError(format!("{what} must be at least 1"))),
        Ok(v) => Ok(v),
        Err(_) => Err(ArgError(format!("{what}: `{text}` is not a whole number"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_apply_without_a_count() {
        assert_eq!(
            parse(&args(&["open-close"])),
            Ok(Command::OpenClose {
                n: DEFAULT_OPEN_CLOSE,
                rate: None
            })
        );
        assert_eq!(
            parse(&args(&["fork-exec"])),
            Ok(Command::ForkExec { n: DEFAULT_FORK_EXEC })
        );
        assert_eq!(parse(&args(&["tcp-rr"])), Ok(Command::TcpRr { n: DEFAULT_TCP_RR }));
    }

    #[test]
    fn counts_and_rates_parse_in_either_order() {
        let want = Command::OpenClose {
            n: 5000,
            rate: Some(250_000),
        };
        assert_eq!(parse(&args(&["open-close", "5_000", "--rate", "250000"])), Ok(want));
        let want = Command::OpenClose {
            n: 5000,
            rate: Some(250_000),
        };
        assert_eq!(parse(&args(&["open-close", "--rate=250000", "5000"])), Ok(want));
        assert_eq!(parse(&args(&["tcp-rr", "7"])), Ok(Command::TcpRr { n: 7 }));
        assert_eq!(
            parse(&args(&["close-ebadf", "--rate", "9"])),
            Ok(Command::CloseEbadf {
                n: DEFAULT_CLOSE_EBADF,
                rate: Some(9)
            })
        );
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        assert!(parse(&args(&[])).is_err());
        assert_eq!(parse(&args(&["spin"])), Err(ArgError("unknown command `spin`".into())));
        assert_eq!(
            parse(&args(&["fork-exec", "0"])),
            Err(ArgError("N must be at least 1".into()))
        );
        assert_eq!(
            parse(&args(&["tcp-rr", "ten"])),
            Err(ArgError("N: `ten` is not a whole number".into()))
        );
        assert!(parse(&args(&["fork-exec", "1", "2"])).is_err());
        assert!(parse(&args(&["open-close", "--rate"])).is_err());
        assert!(parse(&args(&["open-close", "1", "2"])).is_err());
    }
}
