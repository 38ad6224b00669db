//! Interface list blocks (v1 without and v2 with per-entry lengths).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mamoru_event::InterfaceRecord;

use crate::error::BodyError;
use crate::wire::{Cursor, Out};

const II_IPV4: u16 = 1;
const II_IPV6: u16 = 2;
const II_IPV4_NOLINKSPEED: u16 = 3;
const II_IPV6_NOLINKSPEED: u16 = 4;
/// Interface names longer than this are rejected by libscap.
const MAX_IFNAME: usize = 1023;

pub(crate) fn parse_iflist(body: &[u8], v2: bool) -> Result<Vec<InterfaceRecord>, BodyError> {
    let mut c = Cursor::new(body);
    let mut out = Vec::new();
    // Fewer than 4 bytes left is block padding.
    while c.remaining() >= 4 {
        let entry_len = if v2 {
            Some(c.u32("interface entry length")? as usize)
        } else {
            None
        };
        let start = c.pos();
        let ty = c.u16("interface type")?;
        let name_len = c.u16("interface name length")? as usize;
        let (addr, netmask) = match ty {
            II_IPV4 | II_IPV4_NOLINKSPEED => {
                let addr = Ipv4Addr::from(c.array::<4>("interface address")?);
                let mask = Ipv4Addr::from(c.array::<4>("interface netmask")?);
                c.skip(4, "interface broadcast address")?;
                if ty == II_IPV4 {
                    c.skip(8, "interface link speed")?;
                }
                (IpAddr::V4(addr), IpAddr::V4(mask))
            }
            II_IPV6 | II_IPV6_NOLINKSPEED => {
                let addr = Ipv6Addr::from(c.array::<16>("interface address")?);
                let mask = Ipv6Addr::from(c.array::<16>("interface netmask")?);
                c.skip(16, "interface broadcast address")?;
                if ty == II_IPV6 {
                    c.skip(8, "interface link speed")?;
                }
                (IpAddr::V6(addr), IpAddr::V6(mask))
            }
            other => return Err(BodyError::new(start, format!("unknown interface address type {other}"))),
        };
        let name = c.bytes(name_len, "interface name")?.to_vec();
        if let Some(len) = entry_len {
            // Newer writers may append fields; the entry length says how far to skip.
            let used = c.pos() - start;
            if used > len {
                return Err(BodyError::new(
                    start,
                    format!("interface entry of {used} bytes overruns its length {len}"),
                ));
            }
            c.skip(len - used, "interface entry tail")?;
        }
        out.push(InterfaceRecord { name, addr, netmask });
    }
    Ok(out)
}

/// Writes the v2 layout (what libscap has written since 2021 and sysdig 0.29 reads).
pub(crate) fn encode_iflist(ifs: &[InterfaceRecord], out: &mut Vec<u8>) {
    let mut o = Out(out);
    for i in ifs {
        let name = &i.name[..i.name.len().min(MAX_IFNAME)];
        match (i.addr, i.netmask) {
            (IpAddr::V4(a), mask) => {
                let m = match mask {
                    IpAddr::V4(m) => m,
                    IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
                };
                let bcast = Ipv4Addr::from(u32::from(a) | !u32::from(m));
                o.u32((2 + 2 + 4 + 4 + 4 + 8 + name.len()) as u32);
                o.u16(II_IPV4).u16(name.len() as u16);
                o.bytes(&a.octets())
                    .bytes(&m.octets())
                    .bytes(&bcast.octets())
                    .u64(0)
                    .bytes(name);
            }
            (IpAddr::V6(a), mask) => {
                let m = match mask {
                    IpAddr::V6(m) => m,
                    IpAddr::V4(_) => Ipv6Addr::UNSPECIFIED,
                };
                o.u32((2 + 2 + 16 * 3 + 8 + name.len()) as u32);
                o.u16(II_IPV6).u16(name.len() as u16);
                o.bytes(&a.octets())
                    .bytes(&m.octets())
                    .bytes(&[0u8; 16])
                    .u64(0)
                    .bytes(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_list_round_trips_both_families() {
        let ifs = vec![
            InterfaceRecord {
                name: b"lo".to_vec(),
                addr: "127.0.0.1".parse().unwrap(),
                netmask: "255.0.0.0".parse().unwrap(),
            },
            InterfaceRecord {
                name: b"eth0".to_vec(),
                addr: "fe80::1".parse().unwrap(),
                netmask: "ffff:ffff:ffff:ffff::".parse().unwrap(),
            },
        ];
        let mut buf = Vec::new();
        encode_iflist(&ifs, &mut buf);
        buf.extend_from_slice(&[0, 0]); // block padding
        assert_eq!(parse_iflist(&buf, true).unwrap(), ifs);
    }

    #[test]
    fn v1_entries_without_link_speed_are_read() {
        let mut buf = Vec::new();
        let mut o = Out(&mut buf);
        o.u16(II_IPV4_NOLINKSPEED)
            .u16(2)
            .bytes(&[10, 0, 0, 1])
            .bytes(&[255, 255, 255, 0])
            .bytes(&[10, 0, 0, 255]);
        o.bytes(b"lo");
        let got = parse_iflist(&buf, false).unwrap();
        assert_eq!(got[0].addr, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(got[0].name, b"lo");
    }

    #[test]
    fn unknown_interface_type_is_reported_at_its_offset() {
        let mut buf = Vec::new();
        Out(&mut buf).u32(8).u16(9).u16(0).u32(0);
        let err = parse_iflist(&buf, true).unwrap_err();
        assert_eq!(err.at, 4);
    }
}
