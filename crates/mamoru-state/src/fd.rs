//! File descriptor entries: what an fd refers to, plus its `fd.name` text rendered once when the entry changes (so
//! extracting `fd.name` is a slice, not a formatting job, on every event).

use mamoru_event::{FdInfo, FdRecord};
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};

/// Open flags (`PPM_O_*`) the state engine looks at.
pub mod oflags {
    use mamoru_event::render::flags::open as ppm;
    pub const RDONLY: u32 = ppm::O_RDONLY;
    pub const WRONLY: u32 = ppm::O_WRONLY;
    pub const RDWR: u32 = ppm::O_RDWR;
    pub const CREAT: u32 = ppm::O_CREAT;
    pub const TRUNC: u32 = ppm::O_TRUNC;
    pub const DIRECTORY: u32 = ppm::O_DIRECTORY;
    pub const CLOEXEC: u32 = ppm::O_CLOEXEC;
    pub const TMPFILE: u32 = ppm::O_TMPFILE;
    pub const F_CREATED: u32 = ppm::O_F_CREATED;
    pub const FD_UPPER_LAYER: u32 = ppm::FD_UPPER_LAYER;
    pub const FD_LOWER_LAYER: u32 = ppm::FD_LOWER_LAYER;
}

/// Layer-4 protocol of an IP socket (scap numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum L4 {
    #[default]
    Unknown,
    Tcp,
    Udp,
    Icmp,
    Raw,
}

impl L4 {
    /// From scap's `SCAP_L4_*` numbering (as capture fd blocks store it: 2 TCP, 3 UDP, 4 ICMP, 5 raw).
    pub fn from_scap(v: u8) -> L4 {
        match v {
            2 => L4::Tcp,
            3 => L4::Udp,
            4 => L4::Icmp,
            5 => L4::Raw,
            _ => L4::Unknown,
        }
    }

    /// scap's `SCAP_L4_*` number.
    pub fn to_scap(self) -> u8 {
        match self {
            L4::Tcp => 2,
            L4::Udp => 3,
            L4::Icmp => 4,
            L4::Raw => 5,
            L4::Unknown => 0,
        }
    }

    /// `fd.l4proto` text.
    pub fn name(self) -> &'static str {
        match self {
            L4::Tcp => "tcp",
            L4::Udp => "udp",
            L4::Icmp => "icmp",
            L4::Raw => "raw",
            L4::Unknown => "<NA>",
        }
    }
}

/// The endpoint role the owning process plays on a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    #[default]
    None,
    Client,
    Server,
}

/// What an fd refers to. IP sockets keep the tuple as libsinsp does: `sip:sport` is the client side, `dip:dport`
/// the server side, whichever end this process is.
#[derive(Debug, Clone, PartialEq)]
pub enum FdKind {
    File,
    Directory,
    Ipv4 {
        sip: IpAddr,
        sport: u16,
        dip: IpAddr,
        dport: u16,
        l4: L4,
    },
    Ipv6 {
        sip: IpAddr,
        sport: u16,
        dip: IpAddr,
        dport: u16,
        l4: L4,
    },
    Ipv4Server {
        ip: IpAddr,
        port: u16,
        l4: L4,
    },
    Ipv6Server {
        ip: IpAddr,
        port: u16,
        l4: L4,
    },
    Unix {
        source: u64,
        dest: u64,
    },
    Fifo,
    Event,
    SignalFd,
    EventPoll,
    Inotify,
    Timerfd,
    Netlink,
    Bpf,
    UserFaultFd,
    IoUring,
    Memfd,
    Pidfd {
        pid: i64,
    },
    Unknown,
}

const UNSPEC4: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

impl FdKind {
    /// An IPv4 socket with no tuple yet.
    pub fn unconnected_v4(l4: L4) -> FdKind {
        FdKind::Ipv4 {
            sip: UNSPEC4,
            sport: 0,
            dip: UNSPEC4,
            dport: 0,
            l4,
        }
    }

    /// An IPv6 socket with no tuple yet.
    pub fn unconnected_v6(l4: L4) -> FdKind {
        let z = IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED);
        FdKind::Ipv6 {
            sip: z,
            sport: 0,
            dip: z,
            dport: 0,
            l4,
        }
    }

    /// `fd.typechar`.
    pub fn typechar(&self) -> u8 {
        match self {
            FdKind::File => b'f',
            FdKind::Directory => b'd',
            FdKind::Ipv4 { .. } | FdKind::Ipv4Server { .. } => b'4',
            FdKind::Ipv6 { .. } | FdKind::Ipv6Server { .. } => b'6',
            FdKind::Unix { .. } => b'u',
            FdKind::Fifo => b'p',
            FdKind::Event => b'e',
            FdKind::SignalFd => b's',
            FdKind::EventPoll => b'l',
            FdKind::Inotify => b'i',
            FdKind::Timerfd => b't',
            FdKind::Netlink => b'n',
            FdKind::Bpf => b'b',
            FdKind::UserFaultFd => b'u',
            FdKind::IoUring => b'r',
            FdKind::Memfd => b'm',
            FdKind::Pidfd { .. } => b'P',
            FdKind::Unknown => b'o',
        }
    }

    /// `fd.type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            FdKind::File => "file",
            FdKind::Directory => "directory",
            FdKind::Ipv4 { .. } | FdKind::Ipv4Server { .. } => "ipv4",
            FdKind::Ipv6 { .. } | FdKind::Ipv6Server { .. } => "ipv6",
            FdKind::Unix { .. } => "unix",
            FdKind::Fifo => "pipe",
            FdKind::Event => "event",
            FdKind::SignalFd => "signalfd",
            FdKind::EventPoll => "eventpoll",
            FdKind::Inotify => "inotify",
            FdKind::Timerfd => "timerfd",
            FdKind::Netlink => "netlink",
            FdKind::Bpf => "bpf",
            FdKind::UserFaultFd => "userfaultfd",
            FdKind::IoUring => "io_uring",
            FdKind::Memfd => "memfd",
            FdKind::Pidfd { .. } => "pidfd",
            FdKind::Unknown => "<NA>",
        }
    }

    pub fn is_ip_socket(&self) -> bool {
        matches!(self, FdKind::Ipv4 { .. } | FdKind::Ipv6 { .. })
    }

    pub fn is_server_socket(&self) -> bool {
        matches!(self, FdKind::Ipv4Server { .. } | FdKind::Ipv6Server { .. })
    }

    pub fn is_unix(&self) -> bool {
        matches!(self, FdKind::Unix { .. })
    }

    /// Layer-4 protocol of IP sockets.
    pub fn l4(&self) -> Option<L4> {
        match self {
            FdKind::Ipv4 { l4, .. }
            | FdKind::Ipv6 { l4, .. }
            | FdKind::Ipv4Server { l4, .. }
            | FdKind::Ipv6Server { l4, .. } => Some(*l4),
            _ => None,
        }
    }
}

/// One file descriptor.
#[derive(Debug, Clone, PartialEq)]
pub struct Fd {
    pub kind: FdKind,
    /// `fd.name`, kept rendered.
    pub name: Vec<u8>,
    /// `fd.nameraw`: the path as the syscall passed it (files only).
    pub name_raw: Vec<u8>,
    /// `PPM_O_*` open flags (including `CLOEXEC`).
    pub open_flags: u32,
    pub dev: u32,
    pub ino: u64,
    pub role: Role,
    /// A connect/accept/read/write succeeded on this socket.
    pub connected: bool,
}

impl Fd {
    /// A new entry of `kind` with an empty name.
    pub fn new(kind: FdKind) -> Fd {
        Fd {
            kind,
            name: Vec::new(),
            name_raw: Vec::new(),
            open_flags: 0,
            dev: 0,
            ino: 0,
            role: Role::None,
            connected: false,
        }
    }

    /// A file or directory opened at `path`.
    pub fn file(kind: FdKind, path: Vec<u8>, raw: Vec<u8>, flags: u32) -> Fd {
        Fd {
            name: path,
            name_raw: raw,
            open_flags: flags,
            ..Fd::new(kind)
        }
    }

    pub fn cloexec(&self) -> bool {
        self.open_flags & oflags::CLOEXEC != 0
    }

    /// Whether the file was opened on the upper layer of an overlay filesystem.
    pub fn is_upper_layer(&self) -> bool {
        self.open_flags & oflags::FD_UPPER_LAYER != 0
    }

    /// Re-renders `name` from the socket tuple (IP sockets) after the tuple changed.
    pub fn render_tuple_name(&mut self) {
        self.name.clear();
        // Room for an IPv4 tuple at once (new sockets start with an empty buffer).
        self.name.reserve(48);
        match &self.kind {
            FdKind::Ipv4 {
                sip, sport, dip, dport, ..
            }
            | FdKind::Ipv6 {
                sip, sport, dip, dport, ..
            } => {
                write_tuple(&mut self.name, sip, *sport, dip, *dport);
            }
            FdKind::Ipv4Server { ip, port, .. } | FdKind::Ipv6Server { ip, port, .. } => {
                write_endpoint(&mut self.name, ip, *port);
            }
            _ => {}
        }
    }

    /// Builds an entry from a capture/`/proc` record.
    pub fn from_record(rec: &FdRecord) -> Fd {
        let mut fd = match &rec.info {
            FdInfo::File { path, flags, dev, ino } => {
                let mut f = Fd::file(FdKind::File, path.clone(), path.clone(), *flags);
                f.dev = *dev;
                f.ino = *ino;
                f
            }
            FdInfo::Directory { path } => Fd::file(FdKind::Directory, path.clone(), path.clone(), oflags::DIRECTORY),
            FdInfo::Ipv4Socket {
                sip,
                sport,
                dip,
                dport,
                l4proto,
            } => socket_from_tuple(true, *sip, *sport, *dip, *dport, L4::from_scap(*l4proto)),
            FdInfo::Ipv6Socket {
                sip,
                sport,
                dip,
                dport,
                l4proto,
            } => socket_from_tuple(false, *sip, *sport, *dip, *dport, L4::from_scap(*l4proto)),
            FdInfo::Ipv4ServerSocket { ip, port, l4proto } => server(true, *ip, *port, L4::from_scap(*l4proto)),
            FdInfo::Ipv6ServerSocket { ip, port, l4proto } => server(false, *ip, *port, L4::from_scap(*l4proto)),
            // Capture and /proc tables name unix sockets by their path only (events use the tuple text).
            FdInfo::Unix { source, dest, path } => Fd::file(
                FdKind::Unix {
                    source: *source,
                    dest: *dest,
                },
                path.clone(),
                Vec::new(),
                0,
            ),
            FdInfo::Fifo { path } => Fd::file(FdKind::Fifo, path.clone(), Vec::new(), 0),
            FdInfo::Event => Fd::new(FdKind::Event),
            FdInfo::SignalFd => Fd::new(FdKind::SignalFd),
            FdInfo::EventPoll => Fd::new(FdKind::EventPoll),
            FdInfo::Inotify => Fd::new(FdKind::Inotify),
            FdInfo::Timerfd => Fd::new(FdKind::Timerfd),
            FdInfo::Netlink => Fd::new(FdKind::Netlink),
            FdInfo::Bpf => Fd::new(FdKind::Bpf),
            FdInfo::UserFaultFd => Fd::new(FdKind::UserFaultFd),
            FdInfo::IoUring => Fd::new(FdKind::IoUring),
            FdInfo::Memfd { name } => Fd::file(FdKind::Memfd, name.clone(), Vec::new(), 0),
            FdInfo::Pidfd => Fd::new(FdKind::Pidfd { pid: -1 }),
            FdInfo::Unknown { name } => Fd::file(FdKind::Unknown, name.clone(), Vec::new(), 0),
        };
        if fd.ino == 0 {
            fd.ino = rec.ino;
        }
        fd
    }
}

/// A connected IP socket entry (role unknown: from `/proc` or a capture's fd table).
pub fn socket_from_tuple(v4: bool, sip: IpAddr, sport: u16, dip: IpAddr, dport: u16, l4: L4) -> Fd {
    socket_from_tuple_in(Vec::new(), v4, sip, sport, dip, dport, l4)
}

/// [`socket_from_tuple`] rendering the name into `name` (an empty buffer to reuse).
pub(crate) fn socket_from_tuple_in(
    name: Vec<u8>,
    v4: bool,
    sip: IpAddr,
    sport: u16,
    dip: IpAddr,
    dport: u16,
    l4: L4,
) -> Fd {
    let kind = if v4 {
        FdKind::Ipv4 {
            sip,
            sport,
            dip,
            dport,
            l4,
        }
    } else {
        FdKind::Ipv6 {
            sip,
            sport,
            dip,
            dport,
            l4,
        }
    };
    let mut fd = Fd::new(kind);
    fd.name = name;
    fd.connected = true;
    fd.role = Role::Client;
    fd.render_tuple_name();
    fd
}

/// A listening socket entry.
pub fn server(v4: bool, ip: IpAddr, port: u16, l4: L4) -> Fd {
    let kind = if v4 {
        FdKind::Ipv4Server { ip, port, l4 }
    } else {
        FdKind::Ipv6Server { ip, port, l4 }
    };
    let mut fd = Fd::new(kind);
    fd.role = Role::Server;
    fd.render_tuple_name();
    fd
}

/// A unix socket entry named as libsinsp names connected unix sockets: `source->dest path` (hex pointers).
/// The name is written into `name` (cleared first), so a recycled buffer can be used.
pub fn unix_in(mut name: Vec<u8>, source: u64, dest: u64, path: &[u8]) -> Fd {
    name.clear();
    let mut fd = Fd::new(FdKind::Unix { source, dest });
    write_unix_name(&mut name, source, dest, path);
    fd.name = name;
    fd
}

/// `ip:port`; IPv6 addresses are printed without brackets, as libsinsp does.
pub fn write_endpoint(out: &mut Vec<u8>, ip: &IpAddr, port: u16) {
    match ip {
        // IPv4 endpoints are rendered on every connect/accept: plain digit writing beats the formatting machinery.
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                write_decimal(out, u32::from(octet));
            }
        }
        // Writing into a Vec cannot fail.
        IpAddr::V6(_) => {
            let _ = write!(out, "{ip}");
        }
    }
    out.push(b':');
    write_decimal(out, u32::from(port));
}

/// Appends `v` in decimal.
fn write_decimal(out: &mut Vec<u8>, mut v: u32) {
    let mut digits = [0u8; 10];
    let mut n = digits.len();
    loop {
        n -= 1;
        digits[n] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[n..]);
}

/// `sip:sport->dip:dport`.
pub fn write_tuple(out: &mut Vec<u8>, sip: &IpAddr, sport: u16, dip: &IpAddr, dport: u16) {
    write_endpoint(out, sip, sport);
    out.extend_from_slice(b"->");
    write_endpoint(out, dip, dport);
}

/// `source->dest path` for unix sockets.
pub fn write_unix_name(out: &mut Vec<u8>, source: u64, dest: u64, path: &[u8]) {
    let _ = write!(out, "{source:x}->{dest:x} ");
    out.extend_from_slice(path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_socket_names() {
        let fd = socket_from_tuple(
            true,
            "10.0.0.1".parse().unwrap_or(UNSPEC4),
            40000,
            "93.184.216.34".parse().unwrap_or(UNSPEC4),
            443,
            L4::Tcp,
        );
        assert_eq!(fd.name, b"10.0.0.1:40000->93.184.216.34:443");
        assert_eq!(fd.kind.typechar(), b'4');
        let s = server(false, "::".parse().unwrap_or(UNSPEC4), 8080, L4::Tcp);
        assert_eq!(s.name, b":::8080");
        assert_eq!(s.kind.type_name(), "ipv6");
        let u = unix_in(Vec::new(), 0xffff1, 0xffff2, b"/run/x.sock");
        let mut e = Vec::new();
        for (ip, port) in [("0.0.0.0", 0), ("255.255.255.255", 65535), ("10.0.10.1", 100)] {
            e.clear();
            let addr: IpAddr = ip.parse().unwrap_or(UNSPEC4);
            write_endpoint(&mut e, &addr, port);
            assert_eq!(e, format!("{addr}:{port}").as_bytes());
        }
        assert_eq!(u.name, b"ffff1->ffff2 /run/x.sock");
    }
}
