//! Plain state records: how capture files (process/fd/user list blocks) and `/proc` describe the world as it was
//! when observation began. The state engine is seeded from these; the capture writer writes them.

use std::net::IpAddr;

/// One thread as a capture's process list block or `/proc` describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThreadRecord {
    pub tid: i64,
    pub pid: i64,
    pub ptid: i64,
    pub sid: i64,
    pub vpgid: i64,
    pub pgid: i64,
    /// task->comm
    pub comm: Vec<u8>,
    /// `argv[0]`
    pub exe: Vec<u8>,
    /// The resolved executable path.
    pub exepath: Vec<u8>,
    /// `argv[1..]`
    pub args: Vec<Vec<u8>>,
    /// `NAME=value` entries.
    pub env: Vec<Vec<u8>>,
    pub cwd: Vec<u8>,
    pub fdlimit: i64,
    pub flags: u32,
    pub uid: u32,
    pub gid: u32,
    pub loginuid: u32,
    pub vtid: i64,
    pub vpid: i64,
    /// `(subsystem, path)` pairs, as in /proc/PID/cgroup.
    pub cgroups: Vec<(Vec<u8>, Vec<u8>)>,
    pub root: Vec<u8>,
    pub tty: u32,
    pub exe_ino: u64,
    pub exe_ino_ctime: u64,
    pub exe_ino_mtime: u64,
    pub exe_writable: bool,
    pub exe_upper_layer: bool,
    pub exe_from_memfd: bool,
    pub cap_inheritable: u64,
    pub cap_permitted: u64,
    pub cap_effective: u64,
    pub clone_ts: u64,
    pub pidns_init_start_ts: u64,
    pub fds: Vec<FdRecord>,
}

/// What one file descriptor refers to.
#[derive(Debug, Clone, PartialEq)]
pub enum FdInfo {
    File {
        path: Vec<u8>,
        flags: u32,
        dev: u32,
        ino: u64,
    },
    Directory {
        path: Vec<u8>,
    },
    Ipv4Socket {
        sip: IpAddr,
        sport: u16,
        dip: IpAddr,
        dport: u16,
        l4proto: u8,
    },
    Ipv6Socket {
        sip: IpAddr,
        sport: u16,
        dip: IpAddr,
        dport: u16,
        l4proto: u8,
    },
    Ipv4ServerSocket {
        ip: IpAddr,
        port: u16,
        l4proto: u8,
    },
    Ipv6ServerSocket {
        ip: IpAddr,
        port: u16,
        l4proto: u8,
    },
    Unix {
        source: u64,
        dest: u64,
        path: Vec<u8>,
    },
    Fifo {
        path: Vec<u8>,
    },
    Event,
    SignalFd,
    EventPoll,
    Inotify,
    Timerfd,
    Netlink,
    Bpf,
    UserFaultFd,
    IoUring,
    Memfd {
        name: Vec<u8>,
    },
    Pidfd,
    Unknown {
        name: Vec<u8>,
    },
}

/// One file descriptor of one thread.
#[derive(Debug, Clone, PartialEq)]
pub struct FdRecord {
    pub fd: i64,
    pub ino: u64,
    pub info: FdInfo,
}

/// One user, as a capture's user list block or a passwd file holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRecord {
    pub uid: u32,
    pub gid: u32,
    pub name: Vec<u8>,
    pub home: Vec<u8>,
    pub shell: Vec<u8>,
    /// Container the record belongs to; empty for the host.
    pub container_id: Vec<u8>,
}

/// One group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupRecord {
    pub gid: u32,
    pub name: Vec<u8>,
    pub container_id: Vec<u8>,
}

/// One network interface address (interface list block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceRecord {
    pub name: Vec<u8>,
    pub addr: IpAddr,
    pub netmask: IpAddr,
}
