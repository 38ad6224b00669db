//! Section header and machine info blocks.

use crate::error::BodyError;
use crate::wire::{Cursor, Out};

/// The section header block that starts every capture (and every section of a concatenated capture).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionHeader {
    pub major: u16,
    pub minor: u16,
    /// Declared section length; `u64::MAX` (unspecified) in every capture seen in practice.
    pub section_length: u64,
}

/// Size of the fixed part of the section header body (magic, versions, section length).
pub(crate) const SHB_BODY_LEN: usize = 16;

/// The machine info block: where the capture was taken.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineInfo {
    pub num_cpus: u32,
    pub memory_size_bytes: u64,
    pub max_pid: u64,
    pub hostname: Vec<u8>,
    /// Host boot time (ns since the epoch); `None` when the writer did not record it.
    pub boot_ts_epoch: Option<u64>,
    pub flags: u64,
}

const HOSTNAME_LEN: usize = 128;
/// The packed `scap_machine_info` struct: `num_cpus, memory_size_bytes, max_pid, hostname[128]` and four `u64`s.
#[cfg(test)]
const MI_BODY_LEN: usize = 4 + 8 + 8 + HOSTNAME_LEN + 4 * 8;

pub(crate) fn parse_machine_info(body: &[u8]) -> Result<MachineInfo, BodyError> {
    let mut c = Cursor::new(body);
    let num_cpus = c.u32("num_cpus")?;
    let memory_size_bytes = c.u64("memory_size_bytes")?;
    let max_pid = c.u64("max_pid")?;
    let raw_host = c.bytes(HOSTNAME_LEN, "hostname")?;
    let hostname = raw_host.split(|b| *b == 0).next().unwrap_or(&[]).to_vec();
    // Older writers had reserved words here; newer ones put the boot time and flags in the first two.
    let boot_ts = if c.remaining() >= 8 { c.u64("boot_ts_epoch")? } else { 0 };
    let flags = if c.remaining() >= 8 { c.u64("flags")? } else { 0 };
    Ok(MachineInfo {
        num_cpus,
        memory_size_bytes,
        max_pid,
        hostname,
        boot_ts_epoch: (boot_ts != 0).then_some(boot_ts),
        flags,
    })
}

pub(crate) fn encode_machine_info(mi: &MachineInfo, out: &mut Vec<u8>) {
    let mut o = Out(out);
    o.u32(mi.num_cpus).u64(mi.memory_size_bytes).u64(mi.max_pid);
    let mut host = [0u8; HOSTNAME_LEN];
    // Keep a terminating NUL, as the C struct requires.
    let n = mi.hostname.len().min(HOSTNAME_LEN - 1);
    host[..n].copy_from_slice(&mi.hostname[..n]);
    o.bytes(&host);
    o.u64(mi.boot_ts_epoch.unwrap_or(0)).u64(mi.flags).u64(0).u64(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_info_round_trips_and_truncates_long_hostnames() {
        let mi = MachineInfo {
            num_cpus: 8,
            memory_size_bytes: 1 << 34,
            max_pid: 4_194_304,
            hostname: b"box".to_vec(),
            boot_ts_epoch: Some(1_700_000_000_000_000_000),
            flags: 3,
        };
        let mut buf = Vec::new();
        encode_machine_info(&mi, &mut buf);
        assert_eq!(buf.len(), MI_BODY_LEN);
        assert_eq!(parse_machine_info(&buf).unwrap(), mi);

        let long = MachineInfo {
            hostname: vec![b'h'; 300],
            ..MachineInfo::default()
        };
        buf.clear();
        encode_machine_info(&long, &mut buf);
        assert_eq!(parse_machine_info(&buf).unwrap().hostname.len(), 127);
    }

    #[test]
    fn short_machine_info_is_an_error_with_offset() {
        let err = parse_machine_info(&[0u8; 30]).unwrap_err();
        assert_eq!(err.at, 20);
    }
}
