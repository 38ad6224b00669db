//! Decoding of the drivers' socket address (`PT_SOCKADDR`) and socket tuple (`PT_SOCKTUPLE`) parameters.
//!
//! Layout: one family byte (`PPM_AF_*`), then for INET `ipv4(4) port(2)`, for INET6 `ipv6(16) port(2)`, for LOCAL a
//! NUL-terminated path. Tuples hold source then destination: INET `sip(4) sport(2) dip(4) dport(2)`, INET6
//! `sip(16) sport(2) dip(16) dport(2)`, LOCAL `src_ptr(8) dst_ptr(8) path`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const PPM_AF_UNSPEC: u8 = 0;
pub const PPM_AF_LOCAL: u8 = 1;
pub const PPM_AF_INET: u8 = 2;
pub const PPM_AF_INET6: u8 = 10;

/// A decoded socket address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SockAddr<'a> {
    Inet { ip: IpAddr, port: u16 },
    Unix { path: &'a [u8] },
    Unspec,
}

/// A decoded socket tuple (source → destination, as the driver reports it for the calling side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SockTuple<'a> {
    Inet {
        sip: IpAddr,
        sport: u16,
        dip: IpAddr,
        dport: u16,
    },
    Unix {
        source: u64,
        dest: u64,
        path: &'a [u8],
    },
}

fn port(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn v4(b: &[u8]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
}

fn v6(b: &[u8]) -> IpAddr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[..16]);
    let addr = Ipv6Addr::from(a);
    // The drivers report IPv4 peers of dual-stack sockets as v4-mapped v6 addresses; Falco prints them as IPv4.
    match addr.to_ipv4_mapped() {
        Some(m) => IpAddr::V4(m),
        None => IpAddr::V6(addr),
    }
}

fn nul_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|c| *c == 0) {
        Some(n) => &b[..n],
        None => b,
    }
}

impl<'a> SockAddr<'a> {
    /// Decodes a `PT_SOCKADDR` parameter; `None` if it is empty or malformed.
    pub fn decode(b: &'a [u8]) -> Option<Self> {
        let (&fam, rest) = b.split_first()?;
        match fam {
            PPM_AF_INET if rest.len() >= 6 => Some(SockAddr::Inet {
                ip: v4(rest),
                port: port(&rest[4..]),
            }),
            PPM_AF_INET6 if rest.len() >= 18 => Some(SockAddr::Inet {
                ip: v6(rest),
                port: port(&rest[16..]),
            }),
            PPM_AF_LOCAL => Some(SockAddr::Unix { path: nul_str(rest) }),
            PPM_AF_UNSPEC => Some(SockAddr::Unspec),
            _ => None,
        }
    }

    /// Encodes in the driver layout.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            SockAddr::Inet {
                ip: IpAddr::V4(a),
                port,
            } => {
                out.push(PPM_AF_INET);
                out.extend_from_slice(&a.octets());
                out.extend_from_slice(&port.to_le_bytes());
            }
            SockAddr::Inet {
                ip: IpAddr::V6(a),
                port,
            } => {
                out.push(PPM_AF_INET6);
                out.extend_from_slice(&a.octets());
                out.extend_from_slice(&port.to_le_bytes());
            }
            SockAddr::Unix { path } => {
                out.push(PPM_AF_LOCAL);
                out.extend_from_slice(path);
                out.push(0);
            }
            SockAddr::Unspec => out.push(PPM_AF_UNSPEC),
        }
        out
    }
}

impl<'a> SockTuple<'a> {
    /// Decodes a `PT_SOCKTUPLE` parameter; `None` if it is empty or malformed.
    pub fn decode(b: &'a [u8]) -> Option<Self> {
        let (&fam, r) = b.split_first()?;
        match fam {
            PPM_AF_INET if r.len() >= 12 => Some(SockTuple::Inet {
                sip: v4(r),
                sport: port(&r[4..]),
                dip: v4(&r[6..]),
                dport: port(&r[10..]),
            }),
            PPM_AF_INET6 if r.len() >= 36 => Some(SockTuple::Inet {
                sip: v6(r),
                sport: port(&r[16..]),
                dip: v6(&r[18..]),
                dport: port(&r[34..]),
            }),
            PPM_AF_LOCAL if r.len() >= 16 => {
                let mut s = [0u8; 8];
                let mut d = [0u8; 8];
                s.copy_from_slice(&r[..8]);
                d.copy_from_slice(&r[8..16]);
                Some(SockTuple::Unix {
                    source: u64::from_le_bytes(s),
                    dest: u64::from_le_bytes(d),
                    path: nul_str(&r[16..]),
                })
            }
            _ => None,
        }
    }

    /// Encodes in the driver layout.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            SockTuple::Inet {
                sip: IpAddr::V4(s),
                sport,
                dip: IpAddr::V4(d),
                dport,
            } => {
                out.push(PPM_AF_INET);
                out.extend_from_slice(&s.octets());
                out.extend_from_slice(&sport.to_le_bytes());
                out.extend_from_slice(&d.octets());
                out.extend_from_slice(&dport.to_le_bytes());
            }
            SockTuple::Inet { sip, sport, dip, dport } => {
                let to6 = |ip: &IpAddr| match ip {
                    IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
                    IpAddr::V6(a) => a.octets(),
                };
                out.push(PPM_AF_INET6);
                out.extend_from_slice(&to6(sip));
                out.extend_from_slice(&sport.to_le_bytes());
                out.extend_from_slice(&to6(dip));
                out.extend_from_slice(&dport.to_le_bytes());
            }
            SockTuple::Unix { source, dest, path } => {
                out.push(PPM_AF_LOCAL);
                out.extend_from_slice(&source.to_le_bytes());
                out.extend_from_slice(&dest.to_le_bytes());
                out.extend_from_slice(path);
                out.push(0);
            }
        }
        out
    }
}
