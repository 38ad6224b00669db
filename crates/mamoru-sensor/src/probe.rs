//! Startup probe: can this process load and attach the sensor on this kernel?

use std::fs;
use std::path::Path;

use crate::error::SensorError;

/// Where the kernel exposes its BTF; CO-RE relocation needs it.
pub const KERNEL_BTF_PATH: &str = "/sys/kernel/btf/vmlinux";
/// Oldest kernel with every BPF feature the sensor uses (tp_btf, ring buffer, `bpf_get_current_task_btf`).
pub const MIN_KERNEL: (u32, u32) = (5, 11);

const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

/// What the probe found. [`ProbeReport::missing`] lists what prevents a start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// `uname -r`.
    pub kernel_release: String,
    /// Major, minor, patch parsed from the release (0 where absent).
    pub kernel_version: (u32, u32, u32),
    pub btf_present: bool,
    pub cap_bpf: bool,
    pub cap_perfmon: bool,
    pub cap_sys_admin: bool,
    /// The effective capability mask of the process (`CapEff` in /proc/self/status).
    pub effective_caps: u64,
}

impl ProbeReport {
    /// Human-readable names of what is missing; empty when the sensor can start.
    pub fn missing(&self) -> Vec<String> {
        let mut out = Vec::new();
        let (major, minor, _) = self.kernel_version;
        if (major, minor) < MIN_KERNEL {
            out.push(format!(
                "kernel >= {}.{} (running {})",
                MIN_KERNEL.0, MIN_KERNEL.1, self.kernel_release
            ));
        }
        if !self.btf_present {
            out.push(format!("kernel BTF at {KERNEL_BTF_PATH} (CONFIG_DEBUG_INFO_BTF=y)"));
        }
        // CAP_SYS_ADMIN implies both of the finer-grained capabilities for BPF tracing.
        if !self.cap_bpf && !self.cap_sys_admin {
            out.push("CAP_BPF (or CAP_SYS_ADMIN)".to_string());
        }
        if !self.cap_perfmon && !self.cap_sys_admin {
            out.push("CAP_PERFMON (or CAP_SYS_ADMIN)".to_string());
        }
        out
    }

    /// True when nothing is missing.
    pub fn ready(&self) -> bool {
        self.missing().is_empty()
    }

    /// Turns missing pieces into the matching error: kernel features first, privileges second.
    pub fn require_ready(&self) -> Result<(), SensorError> {
        let missing = self.missing();
        if missing.is_empty() {
            return Ok(());
        }
        let (privileges, platform): (Vec<String>, Vec<String>) =
            missing.into_iter().partition(|m| m.starts_with("CAP_"));
        if !platform.is_empty() {
            return Err(SensorError::Unsupported(format!("missing {}", platform.join(", "))));
        }
        Err(SensorError::MissingPrivileges { missing: privileges })
    }
}

/// Probes the running kernel and the calling process.
pub fn probe() -> Result<ProbeReport, SensorError> {
    let kernel_release = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_err(SensorError::io("reading /proc/sys/kernel/osrelease"))?
        .trim()
        .to_string();
    let status = fs::read_to_string("/proc/self/status").map_err(SensorError::io("reading /proc/self/status"))?;
    let effective_caps = parse_cap_eff(&status)
        .ok_or_else(|| SensorError::Unsupported("no parsable CapEff line in /proc/self/status".to_string()))?;
    let has = |cap: u32| effective_caps & (1u64 << cap) != 0;
    Ok(ProbeReport {
        kernel_version: parse_kernel_version(&kernel_release),
        kernel_release,
        btf_present: Path::new(KERNEL_BTF_PATH).exists(),
        cap_bpf: has(CAP_BPF),
        cap_perfmon: has(CAP_PERFMON),
        cap_sys_admin: has(CAP_SYS_ADMIN),
        effective_caps,
    })
}

/// "6.18.3-foo" → (6, 18, 3); missing or non-numeric parts are 0.
fn parse_kernel_version(release: &str) -> (u32, u32, u32) {
    let mut nums = release.split(['.', '-', '+']).map(|p| {
        let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u32>().unwrap_or(0)
    });
    (
        nums.next().unwrap_or(0),
        nums.next().unwrap_or(0),
        nums.next().unwrap_or(0),
    )
}

fn parse_cap_eff(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("CapEff:"))?;
    u64::from_str_radix(line.trim_start_matches("CapEff:").trim(), 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_versions_parse() {
        assert_eq!(parse_kernel_version("6.18.0"), (6, 18, 0));
        assert_eq!(parse_kernel_version("5.15.0-91-generic"), (5, 15, 0));
        assert_eq!(parse_kernel_version("6.1"), (6, 1, 0));
        assert_eq!(parse_kernel_version("6.8.0+rc1"), (6, 8, 0));
        assert_eq!(parse_kernel_version("garbage"), (0, 0, 0));
    }

    #[test]
    fn cap_eff_parses() {
        let status = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
        assert_eq!(parse_cap_eff(status), Some(0x1ff_ffff_ffff));
        assert_eq!(parse_cap_eff("Name:\tx\n"), None);
    }

    fn report(caps: u64, version: (u32, u32, u32), btf: bool) -> ProbeReport {
        ProbeReport {
            kernel_release: format!("{}.{}.{}", version.0, version.1, version.2),
            kernel_version: version,
            btf_present: btf,
            cap_bpf: caps & (1 << CAP_BPF) != 0,
            cap_perfmon: caps & (1 << CAP_PERFMON) != 0,
            cap_sys_admin: caps & (1 << CAP_SYS_ADMIN) != 0,
            effective_caps: caps,
        }
    }

    #[test]
    fn missing_names_each_gap() {
        assert!(report(1 << CAP_SYS_ADMIN, (6, 18, 0), true).ready());
        assert!(report((1 << CAP_BPF) | (1 << CAP_PERFMON), (6, 1, 0), true).ready());
        let r = report(1 << CAP_BPF, (5, 4, 0), false);
        let missing = r.missing();
        assert_eq!(missing.len(), 3, "{missing:?}");
        assert!(missing[0].contains("kernel >= 5.11"));
        assert!(missing[1].contains("BTF"));
        assert!(missing[2].contains("CAP_PERFMON"));
        assert!(matches!(r.require_ready(), Err(SensorError::Unsupported(_))));
        let r = report(0, (6, 18, 0), true);
        match r.require_ready() {
            Err(SensorError::MissingPrivileges { missing }) => assert_eq!(missing.len(), 2),
            other => panic!("unexpected {other:?}"),
        }
    }
}
