//! File descriptor list blocks: one thread's open descriptors (v1, and v2 with per-entry lengths).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mamoru_event::{FdInfo, FdRecord};

use crate::error::BodyError;
use crate::state::proclist::MAX_PATH;
use crate::wire::{Cursor, Out};

// scap_fd_type
const FD_FILE: u8 = 1;
const FD_DIRECTORY: u8 = 2;
const FD_IPV4_SOCK: u8 = 3;
const FD_IPV6_SOCK: u8 = 4;
const FD_IPV4_SERVSOCK: u8 = 5;
const FD_IPV6_SERVSOCK: u8 = 6;
const FD_FIFO: u8 = 7;
const FD_UNIX_SOCK: u8 = 8;
const FD_EVENT: u8 = 9;
const FD_UNSUPPORTED: u8 = 10;
const FD_SIGNALFD: u8 = 11;
const FD_EVENTPOLL: u8 = 12;
const FD_INOTIFY: u8 = 13;
const FD_TIMERFD: u8 = 14;
const FD_NETLINK: u8 = 15;
const FD_FILE_V2: u8 = 16;
const FD_BPF: u8 = 17;
const FD_USERFAULTFD: u8 = 18;
const FD_IOURING: u8 = 19;
const FD_MEMFD: u8 = 20;
const FD_PIDFD: u8 = 21;
/// File names must be shorter than this for libscap.
const MAX_FNAME: usize = MAX_PATH - 1;

/// Parses an fd list block body into the owning thread id and its descriptors.
pub(crate) fn parse_fdlist(body: &[u8], v2: bool) -> Result<(i64, Vec<FdRecord>), BodyError> {
    let mut c = Cursor::new(body);
    let tid = c.i64("tid")?;
    let mut fds = Vec::new();
    while c.remaining() >= 4 {
        fds.push(parse_entry(&mut c, v2)?);
    }
    Ok((tid, fds))
}

fn parse_entry(c: &mut Cursor<'_>, v2: bool) -> Result<FdRecord, BodyError> {
    let start = c.pos();
    let sub_len = if v2 { c.u32("fd entry length")? as usize } else { 0 };
    let fd = c.i64("fd")?;
    let ino = c.u64("ino")?;
    let ty = c.u8("fd type")?;
    let info = match ty {
        FD_IPV4_SOCK => {
            let sip = Ipv4Addr::from(c.array::<4>("source ip")?);
            let dip = Ipv4Addr::from(c.array::<4>("destination ip")?);
            FdInfo::Ipv4Socket {
                sip: IpAddr::V4(sip),
                dip: IpAddr::V4(dip),
                sport: c.u16("source port")?,
                dport: c.u16("destination port")?,
                l4proto: c.u8("l4 protocol")?,
            }
        }
        FD_IPV4_SERVSOCK => FdInfo::Ipv4ServerSocket {
            ip: IpAddr::V4(Ipv4Addr::from(c.array::<4>("server ip")?)),
            port: c.u16("server port")?,
            l4proto: c.u8("l4 protocol")?,
        },
        FD_IPV6_SOCK => {
            let sip = Ipv6Addr::from(c.array::<16>("source ip")?);
            let dip = Ipv6Addr::from(c.array::<16>("destination ip")?);
            FdInfo::Ipv6Socket {
                sip: IpAddr::V6(sip),
                dip: IpAddr::V6(dip),
                sport: c.u16("source port")?,
                dport: c.u16("destination port")?,
                l4proto: c.u8("l4 protocol")?,
            }
        }
        FD_IPV6_SERVSOCK => FdInfo::Ipv6ServerSocket {
            ip: IpAddr::V6(Ipv6Addr::from(c.array::<16>("server ip")?)),
            port: c.u16("server port")?,
            l4proto: c.u8("l4 protocol")?,
        },
        FD_UNIX_SOCK => FdInfo::Unix {
            source: c.u64("unix source")?,
            dest: c.u64("unix destination")?,
            path: c.str16("unix path")?.to_vec(),
        },
        FD_FILE_V2 => {
            let flags = c.u32("open flags")?;
            let path = c.str16("file name")?.to_vec();
            // `dev` was appended later; only v2 entries long enough carry it.
            let dev = if sub_len > 0 && c.pos() + 4 <= start + sub_len {
                c.u32("dev")?
            } else {
                0
            };
            FdInfo::File { path, flags, dev, ino }
        }
        FD_FILE => FdInfo::File {
            path: c.str16("file name")?.to_vec(),
            flags: 0,
            dev: 0,
            ino,
        },
        FD_DIRECTORY => FdInfo::Directory {
            path: c.str16("directory name")?.to_vec(),
        },
        FD_FIFO => FdInfo::Fifo {
            path: c.str16("fifo name")?.to_vec(),
        },
        FD_MEMFD => FdInfo::Memfd {
            name: c.str16("memfd name")?.to_vec(),
        },
        FD_UNSUPPORTED => FdInfo::Unknown {
            name: c.str16("fd name")?.to_vec(),
        },
        FD_EVENT | FD_SIGNALFD | FD_EVENTPOLL | FD_INOTIFY | FD_TIMERFD | FD_NETLINK | FD_BPF | FD_USERFAULTFD
        | FD_IOURING | FD_PIDFD => {
            // The name of these descriptors is empty in every capture libscap writes; the model does not keep it.
            c.str16("fd name")?;
            anon_kind(ty)
        }
        other => {
            // A type from a newer writer: libscap keeps it as "unsupported" with a descriptive name. Without an entry
            // length we cannot know its size, so only v2 entries can be skipped.
            if sub_len == 0 {
                return Err(BodyError::new(
                    start,
                    format!("unknown fd type {other} in a v1 fd list"),
                ));
            }
            FdInfo::Unknown {
                name: format!("unknown-type:[{other}]").into_bytes(),
            }
        }
    };
    if sub_len > 0 {
        let used = c.pos() - start;
        if used > sub_len {
            return Err(BodyError::new(
                start,
                format!("fd entry of {used} bytes overruns its length {sub_len}"),
            ));
        }
        c.skip(sub_len - used, "fd entry tail")?;
    }
    Ok(FdRecord { fd, ino, info })
}

fn anon_kind(ty: u8) -> FdInfo {
    match ty {
        FD_EVENT => FdInfo::Event,
        FD_SIGNALFD => FdInfo::SignalFd,
        FD_EVENTPOLL => FdInfo::EventPoll,
        FD_INOTIFY => FdInfo::Inotify,
        FD_TIMERFD => FdInfo::Timerfd,
        FD_NETLINK => FdInfo::Netlink,
        FD_BPF => FdInfo::Bpf,
        FD_USERFAULTFD => FdInfo::UserFaultFd,
        FD_IOURING => FdInfo::IoUring,
        _ => FdInfo::Pidfd,
    }
}

fn v4_octets(ip: &IpAddr) -> [u8; 4] {
    match ip {
        IpAddr::V4(a) => a.octets(),
        IpAddr::V6(a) => a.to_ipv4_mapped().map(|m| m.octets()).unwrap_or([0; 4]),
    }
}

fn v6_octets(ip: &IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}

/// Writes a v2 fd list body: the thread id, then each descriptor prefixed by its length (which counts itself).
///
/// `types_supported` is the highest fd type number the target reader knows; descriptors of newer types (memfd and
/// pidfd, for readers that predate them) are written as "unsupported" with a descriptive name, which is what such a
/// reader would have shown for them anyway.
pub(crate) fn encode_fdlist(tid: i64, fds: &[FdRecord], max_fd_type: u8, out: &mut Vec<u8>) {
    Out(out).i64(tid);
    for f in fds {
        let mut o = Out(out);
        let start = o.len();
        o.u32(0).i64(f.fd).u64(f.ino);
        encode_info(&f.info, max_fd_type, &mut o);
        let len = o.len() - start;
        o.patch_u32(start, len as u32);
    }
}

fn encode_info(info: &FdInfo, max_fd_type: u8, o: &mut Out<'_>) {
    let named = |o: &mut Out<'_>, ty: u8, name: &[u8]| {
        o.u8(ty).str16(name, MAX_FNAME);
    };
    match info {
        FdInfo::File { path, flags, dev, .. } => {
            o.u8(FD_FILE_V2).u32(*flags).str16(path, MAX_FNAME).u32(*dev);
        }
        FdInfo::Directory { path } => named(o, FD_DIRECTORY, path),
        FdInfo::Ipv4Socket {
            sip,
            sport,
            dip,
            dport,
            l4proto,
        } => {
            o.u8(FD_IPV4_SOCK).bytes(&v4_octets(sip)).bytes(&v4_octets(dip));
            o.u16(*sport).u16(*dport).u8(*l4proto);
        }
        FdInfo::Ipv6Socket {
            sip,
            sport,
            dip,
            dport,
            l4proto,
        } => {
            o.u8(FD_IPV6_SOCK).bytes(&v6_octets(sip)).bytes(&v6_octets(dip));
            o.u16(*sport).u16(*dport).u8(*l4proto);
        }
        FdInfo::Ipv4ServerSocket { ip, port, l4proto } => {
            o.u8(FD_IPV4_SERVSOCK).bytes(&v4_octets(ip)).u16(*port).u8(*l4proto);
        }
        FdInfo::Ipv6ServerSocket { ip, port, l4proto } => {
            o.u8(FD_IPV6_SERVSOCK).bytes(&v6_octets(ip)).u16(*port).u8(*l4proto);
        }
        FdInfo::Unix { source, dest, path } => {
            o.u8(FD_UNIX_SOCK).u64(*source).u64(*dest).str16(path, MAX_FNAME);
        }
        FdInfo::Fifo { path } => named(o, FD_FIFO, path),
        FdInfo::Memfd { name } if FD_MEMFD <= max_fd_type => named(o, FD_MEMFD, name),
        FdInfo::Memfd { name } => named(o, FD_UNSUPPORTED, name),
        FdInfo::Unknown { name } => named(o, FD_UNSUPPORTED, name),
        anon => {
            let ty = match anon {
                FdInfo::Event => FD_EVENT,
                FdInfo::SignalFd => FD_SIGNALFD,
                FdInfo::EventPoll => FD_EVENTPOLL,
                FdInfo::Inotify => FD_INOTIFY,
                FdInfo::Timerfd => FD_TIMERFD,
                FdInfo::Netlink => FD_NETLINK,
                FdInfo::Bpf => FD_BPF,
                FdInfo::UserFaultFd => FD_USERFAULTFD,
                FdInfo::IoUring => FD_IOURING,
                _ => FD_PIDFD,
            };
            if ty <= max_fd_type {
                named(o, ty, b"");
            } else {
                named(o, FD_UNSUPPORTED, format!("unknown-type:[{ty}]").as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_kinds() -> Vec<FdRecord> {
        let infos = vec![
            FdInfo::File {
                path: b"/etc/passwd".to_vec(),
                flags: 1,
                dev: 0x803,
                ino: 12,
            },
            FdInfo::Directory { path: b"/".to_vec() },
            FdInfo::Ipv4Socket {
                sip: "10.0.0.1".parse().unwrap(),
                sport: 5555,
                dip: "1.1.1.1".parse().unwrap(),
                dport: 443,
                l4proto: 2,
            },
            FdInfo::Ipv6Socket {
                sip: "::1".parse().unwrap(),
                sport: 1,
                dip: "2001:db8::1".parse().unwrap(),
                dport: 2,
                l4proto: 3,
            },
            FdInfo::Ipv4ServerSocket {
                ip: "0.0.0.0".parse().unwrap(),
                port: 22,
                l4proto: 2,
            },
            FdInfo::Ipv6ServerSocket {
                ip: "::".parse().unwrap(),
                port: 22,
                l4proto: 2,
            },
            FdInfo::Unix {
                source: 1,
                dest: 2,
                path: b"/run/x.sock".to_vec(),
            },
            FdInfo::Fifo {
                path: b"pipe:[1]".to_vec(),
            },
            FdInfo::Event,
            FdInfo::SignalFd,
            FdInfo::EventPoll,
            FdInfo::Inotify,
            FdInfo::Timerfd,
            FdInfo::Netlink,
            FdInfo::Bpf,
            FdInfo::UserFaultFd,
            FdInfo::IoUring,
            FdInfo::Memfd {
                name: b"memfd:x".to_vec(),
            },
            FdInfo::Pidfd,
            FdInfo::Unknown {
                name: b"weird".to_vec(),
            },
        ];
        infos
            .into_iter()
            .enumerate()
            .map(|(i, info)| FdRecord {
                fd: i as i64,
                ino: if let FdInfo::File { ino, .. } = &info {
                    *ino
                } else {
                    100 + i as u64
                },
                info,
            })
            .collect()
    }

    #[test]
    fn every_fd_kind_round_trips() {
        let fds = all_kinds();
        let mut buf = Vec::new();
        encode_fdlist(7, &fds, FD_PIDFD, &mut buf);
        let (tid, got) = parse_fdlist(&buf, true).unwrap();
        assert_eq!(tid, 7);
        assert_eq!(got, fds);
    }

    #[test]
    fn types_unknown_to_an_old_reader_are_written_as_unsupported() {
        let fds = vec![FdRecord {
            fd: 3,
            ino: 0,
            info: FdInfo::Pidfd,
        }];
        let mut buf = Vec::new();
        encode_fdlist(1, &fds, FD_IOURING, &mut buf);
        let (_, got) = parse_fdlist(&buf, true).unwrap();
        assert_eq!(
            got[0].info,
            FdInfo::Unknown {
                name: b"unknown-type:[21]".to_vec()
            }
        );
    }

    #[test]
    fn v2_unknown_type_is_skipped_by_length_and_v1_is_an_error() {
        let mut buf = Vec::new();
        Out(&mut buf)
            .i64(1)
            .u32(4 + 8 + 8 + 1 + 5)
            .i64(3)
            .u64(0)
            .u8(99)
            .bytes(&[1, 2, 3, 4, 5]);
        let (_, got) = parse_fdlist(&buf, true).unwrap();
        assert_eq!(
            got[0].info,
            FdInfo::Unknown {
                name: b"unknown-type:[99]".to_vec()
            }
        );
        let mut v1 = Vec::new();
        Out(&mut v1).i64(1).i64(3).u64(0).u8(99).bytes(&[1, 2, 3, 4, 5]);
        assert!(parse_fdlist(&v1, false).is_err());
    }
}
