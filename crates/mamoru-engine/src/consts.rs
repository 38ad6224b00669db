//! Parsing right-hand-side constants the way libsinsp's `string_to_rawval` does: integers with `sscanf` rules and
//! truncation to the field's width, doubles, ports (numbers or service names), booleans, addresses, networks, and
//! hex strings for `bcontains`/`bstartswith`. Errors use libsinsp's texts.

use mamoru_fields::{FieldType, IpNet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Num {
    U(u64),
    I(i64),
    F(f64),
}

impl Num {
    pub(crate) fn as_u64(&self) -> u64 {
        match *self {
            Num::U(x) => x,
            Num::I(x) => x as u64,
            Num::F(x) => x as u64,
        }
    }
    pub(crate) fn as_i64(&self) -> i64 {
        match *self {
            Num::U(x) => x as i64,
            Num::I(x) => x,
            Num::F(x) => x as i64,
        }
    }
    pub(crate) fn as_f64(&self) -> f64 {
        match *self {
            Num::U(x) => x as f64,
            Num::I(x) => x as f64,
            Num::F(x) => x,
        }
    }
}

fn bad_number(v: &str) -> String {
    format!("{v} is not a valid number")
}

/// Parses an integer the way `sscanf("%d%c")` accepts it (leading blanks, a sign, then digits and nothing else),
/// also taking `0x` hex as the condition grammar does.
fn parse_integer(v: &str) -> Option<i128> {
    let s = v.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|c| c.is_ascii_hexdigit()) => {
            u64::from_str_radix(hex, 16).ok()?
        }
        Some(_) => return None,
        None if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) => digits.parse::<u64>().ok()?,
        None => return None,
    };
    Some(if neg { -(magnitude as i128) } else { magnitude as i128 })
}

fn int_width(ty: FieldType) -> u32 {
    use FieldType::*;
    match ty {
        Int8 | Uint8 | Flags8 | Sigtype => 8,
        Int16 | Uint16 | Flags16 | Port | Syscallid => 16,
        Int32 | Uint32 | Flags32 | Enumflags | Mode => 32,
        _ => 64,
    }
}

pub(crate) fn parse_number(v: &str, ty: FieldType) -> Result<Num, String> {
    if ty == FieldType::Double {
        return v.trim_start().parse::<f64>().map(Num::F).map_err(|_| bad_number(v));
    }
    if ty == FieldType::Port && !v.bytes().all(|c| c.is_ascii_digit()) {
        return service_port(v)
            .map(|p| Num::U(p as u64))
            .ok_or_else(|| format!("unrecognized protocol {v}"));
    }
    if ty == FieldType::Port && v.is_empty() {
        return Ok(Num::U(0));
    }
    let x = parse_integer(v).ok_or_else(|| bad_number(v))?;
    let width = int_width(ty);
    Ok(if ty.is_signed() {
        let x = x as i64;
        Num::I(match width {
            8 => x as i8 as i64,
            16 => x as i16 as i64,
            32 => x as i32 as i64,
            _ => x,
        })
    } else {
        let x = x as u64;
        Num::U(if width == 64 { x } else { x & ((1u64 << width) - 1) })
    })
}

/// Port numbers by service name, from the system services database (`getservbyname`).
fn service_port(name: &str) -> Option<u16> {
    let db = std::fs::read_to_string("/etc/services").ok()?;
    db.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let service = words.next()?;
        let port = words.next()?.split('/').next()?.parse::<u16>().ok()?;
        (service == name || words.any(|alias| alias == name)).then_some(port)
    })
}

pub(crate) fn parse_bool(v: &str) -> Result<bool, String> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("filter error: unrecognized boolean value {v}")),
    }
}

pub(crate) fn parse_ip(v: &str, ty: FieldType) -> Result<IpAddr, String> {
    let v4 = match ty {
        FieldType::Ipv4addr => true,
        FieldType::Ipv6addr => false,
        _ => v.contains('.'),
    };
    if v4 {
        v.parse::<Ipv4Addr>()
            .map(IpAddr::V4)
            .map_err(|_| format!("unrecognized IPv4 address {v}"))
    } else {
        v.parse::<Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| format!("unrecognized IPv6 address {v}"))
    }
}

pub(crate) fn parse_net(v: &str, ty: FieldType) -> Result<IpNet, String> {
    let v4 = match ty {
        FieldType::Ipv4net => true,
        FieldType::Ipv6net => false,
        _ => v.contains('.'),
    };
    let Some((ip, mask)) = v.split_once('/') else {
        return Err(format!("unrecognized IP network {v}"));
    };
    let addr = if v4 {
        IpAddr::V4(
            ip.parse::<Ipv4Addr>()
                .map_err(|_| format!("unrecognized IP address {v}"))?,
        )
    } else {
        IpAddr::V6(
            ip.parse::<Ipv6Addr>()
                .map_err(|_| format!("unrecognized IPv6 address {v}"))?,
        )
    };
    let prefix = parse_integer(mask)
        .filter(|p| *p >= 0)
        .ok_or_else(|| bad_number(mask))?;
    let max = if v4 { 32 } else { 128 };
    if prefix > max {
        return Err(format!("invalid netmask {mask}"));
    }
    Ok(IpNet {
        addr,
        prefix: prefix as u8,
    })
}

/// Hex string to bytes (libsinsp `unhex`): an even number of hex digits.
pub(crate) fn unhex(v: &str) -> Result<Vec<u8>, String> {
    let err = || "filter error: bcontains and bstartswith operator support hex strings only".to_string();
    let b = v.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(2) {
        return Err(err());
    }
    b.chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).map_err(|_| err())?;
            u8::from_str_radix(s, 16).map_err(|_| err())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_like_sscanf() {
        assert_eq!(parse_integer("42"), Some(42));
        assert_eq!(parse_integer("  -7"), Some(-7));
        assert_eq!(parse_integer("+7"), Some(7));
        assert_eq!(parse_integer("0x1F"), Some(31));
        assert_eq!(parse_integer("7 "), None);
        assert_eq!(parse_integer("abc"), None);
        assert_eq!(parse_integer(""), None);
    }

    #[test]
    fn numbers_truncate_to_width() {
        assert!(matches!(parse_number("-1", FieldType::Uint32), Ok(Num::U(4294967295))));
        assert!(matches!(parse_number("300", FieldType::Uint8), Ok(Num::U(44))));
        assert!(matches!(parse_number("-1", FieldType::Int64), Ok(Num::I(-1))));
        assert!(matches!(parse_number("1.5", FieldType::Double), Ok(Num::F(x)) if x == 1.5));
        assert_eq!(
            parse_number("x", FieldType::Uint64).err().as_deref(),
            Some("x is not a valid number")
        );
    }

    #[test]
    fn networks() {
        assert!(parse_net("10.0.0.0/8", FieldType::Ipnet).is_ok());
        assert!(parse_net("fd00::/8", FieldType::Ipnet).is_ok());
        assert_eq!(
            parse_net("10.0.0.0", FieldType::Ipnet).err().as_deref(),
            Some("unrecognized IP network 10.0.0.0")
        );
        assert_eq!(
            parse_net("10.0.0.0/33", FieldType::Ipnet).err().as_deref(),
            Some("invalid netmask 33")
        );
    }

    #[test]
    fn hex() {
        assert_eq!(unhex("48545450"), Ok(b"HTTP".to_vec()));
        assert!(unhex("4").is_err());
        assert!(unhex("zz").is_err());
    }
}
