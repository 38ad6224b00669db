//! Capability sets as text, the way `thread.cap_*` prints them: the names of the set bits, space-separated.

/// Capability names by bit number (the drivers report capabilities with the kernel's bit positions).
pub const CAP_NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Every capability this table knows, as a mask (what an unshare into a new user namespace grants).
pub const ALL_CAPS: u64 = (1u64 << CAP_NAMES.len()) - 1;

/// Appends the names of the bits set in `caps` to `out`, separated by single spaces.
pub fn caps_to_text(caps: u64, out: &mut Vec<u8>) {
    let mut first = true;
    for (bit, name) in CAP_NAMES.iter().enumerate() {
        if caps & (1u64 << bit) != 0 {
            if !first {
                out.push(b' ');
            }
            first = false;
            out.extend_from_slice(name.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_names_in_bit_order() {
        let mut out = Vec::new();
        caps_to_text((1 << 0) | (1 << 21) | (1 << 39), &mut out);
        assert_eq!(out, b"CAP_CHOWN CAP_SYS_ADMIN CAP_BPF");
        out.clear();
        caps_to_text(0, &mut out);
        assert!(out.is_empty());
    }
}
