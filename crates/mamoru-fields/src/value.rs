//! Field types (Falco's type vocabulary) and the value arena extractors write into.

use std::net::IpAddr;

/// Field types, named as Falco names them (`mamoru fields` prints [`FieldType::falco_name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    Charbuf,
    Fspath,
    Fsrelpath,
    Bytebuf,
    Bool,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Errno,
    Fd,
    Pid,
    Syscallid,
    Sigtype,
    Reltime,
    Abstime,
    Port,
    Flags8,
    Flags16,
    Flags32,
    Enumflags,
    Mode,
    Double,
    Ipv4addr,
    Ipv4net,
    Ipv6addr,
    Ipv6net,
    Ipaddr,
    Ipnet,
}

/// Operator-compatibility classes of field types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeClass {
    Numeric,
    Bool,
    String,
    Bytes,
    Ip,
    Net,
}

impl FieldType {
    pub fn class(self) -> TypeClass {
        use FieldType::*;
        match self {
            Charbuf | Fspath | Fsrelpath => TypeClass::String,
            Bytebuf => TypeClass::Bytes,
            Bool => TypeClass::Bool,
            Ipv4addr | Ipv6addr | Ipaddr => TypeClass::Ip,
            Ipv4net | Ipv6net | Ipnet => TypeClass::Net,
            _ => TypeClass::Numeric,
        }
    }

    /// True for signed numeric types (values are `i64`); unsigned ones are `u64`.
    pub fn is_signed(self) -> bool {
        use FieldType::*;
        matches!(self, Int8 | Int16 | Int32 | Int64 | Errno | Fd | Pid)
    }

    /// The type name Falco prints (`falco --list`).
    pub fn falco_name(self) -> &'static str {
        use FieldType::*;
        match self {
            Charbuf => "CHARBUF",
            Fspath => "FSPATH",
            Fsrelpath => "FSRELPATH",
            Bytebuf => "BYTEBUF",
            Bool => "BOOL",
            Int8 => "INT8",
            Int16 => "INT16",
            Int32 => "INT32",
            Int64 => "INT64",
            Uint8 => "UINT8",
            Uint16 => "UINT16",
            Uint32 => "UINT32",
            Uint64 => "UINT64",
            Errno => "ERRNO",
            Fd => "FD",
            Pid => "PID",
            Syscallid => "SYSCALLID",
            Sigtype => "SIGTYPE",
            Reltime => "RELTIME",
            Abstime => "ABSTIME",
            Port => "PORT",
            Flags8 => "FLAGS8",
            Flags16 => "FLAGS16",
            Flags32 => "FLAGS32",
            Enumflags => "ENUMFLAGS32",
            Mode => "MODE",
            Double => "DOUBLE",
            Ipv4addr => "IPV4ADDR",
            Ipv4net => "IPV4NET",
            Ipv6addr => "IPV6ADDR",
            Ipv6net => "IPV6NET",
            Ipaddr => "IPADDR",
            Ipnet => "IPNET",
        }
    }
}

/// An IP network in CIDR form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpNet {
    /// Parses `a.b.c.d/n`, `x::y/n`, or a bare address (a host network).
    pub fn parse(s: &str) -> Option<IpNet> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(IpNet { addr, prefix })
    }

    /// Whether `ip` lies in this network (IPv4 and IPv6 never match each other).
    pub fn contains(&self, ip: &IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.prefix as u32)
                };
                (u32::from(n) & mask) == (u32::from(*a) & mask)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.prefix as u32)
                };
                (u128::from(n) & mask) == (u128::from(*a) & mask)
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// One extracted value, borrowed from a [`Values`] arena.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Strings and byte buffers (not necessarily UTF-8).
    Bytes(&'a [u8]),
    U64(u64),
    I64(i64),
    Bool(bool),
    Ip(IpAddr),
    Net(IpNet),
    Double(f64),
}

#[derive(Debug, Clone, Copy)]
enum Item {
    Bytes { start: u32, end: u32 },
    U64(u64),
    I64(i64),
    Bool(bool),
    Ip(IpAddr),
    Net(IpNet),
    Double(f64),
}

/// A reusable arena of extracted values. Extractors push zero or more values (zero = "no value", several = a list
/// field or an any-of field such as `proc.aname` without an index). Cleared per event; never shrinks, so steady-state
/// extraction allocates nothing.
#[derive(Debug, Default)]
pub struct Values {
    buf: Vec<u8>,
    items: Vec<Item>,
}

impl Values {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets every value (keeps the capacity).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.items.clear();
    }

    /// Number of values pushed since the last clear.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Drops the values pushed after position `n` (used to undo a partial extraction).
    pub fn truncate(&mut self, n: usize) {
        if let Some(Item::Bytes { start, .. }) = self.items.get(n) {
            self.buf.truncate(*start as usize);
        }
        self.items.truncate(n);
    }

    pub fn push_bytes(&mut self, b: &[u8]) {
        let start = self.buf.len() as u32;
        self.buf.extend_from_slice(b);
        self.items.push(Item::Bytes {
            start,
            end: self.buf.len() as u32,
        });
    }

    /// Starts a string value built piecewise with [`Values::extend_last`]; returns nothing, the value is the bytes
    /// appended until the next push.
    pub fn begin_bytes(&mut self) {
        let start = self.buf.len() as u32;
        self.items.push(Item::Bytes { start, end: start });
    }

    /// Appends to the string value started by [`Values::begin_bytes`].
    pub fn extend_last(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
        if let Some(Item::Bytes { end, .. }) = self.items.last_mut() {
            *end = self.buf.len() as u32;
        }
    }

    /// Pushes a value formatted with `write!` (numbers rendered as text, flag names, ...).
    pub fn push_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        use std::io::Write;
        let start = self.buf.len() as u32;
        // Writing into a Vec<u8> cannot fail.
        let _ = self.buf.write_fmt(args);
        self.items.push(Item::Bytes {
            start,
            end: self.buf.len() as u32,
        });
    }

    pub fn push_u64(&mut self, v: u64) {
        self.items.push(Item::U64(v));
    }
    pub fn push_i64(&mut self, v: i64) {
        self.items.push(Item::I64(v));
    }
    pub fn push_bool(&mut self, v: bool) {
        self.items.push(Item::Bool(v));
    }
    pub fn push_ip(&mut self, v: IpAddr) {
        self.items.push(Item::Ip(v));
    }
    pub fn push_net(&mut self, v: IpNet) {
        self.items.push(Item::Net(v));
    }
    pub fn push_double(&mut self, v: f64) {
        self.items.push(Item::Double(v));
    }

    /// Pushes an already-borrowed value.
    pub fn push(&mut self, v: Value<'_>) {
        match v {
            Value::Bytes(b) => self.push_bytes(b),
            Value::U64(x) => self.push_u64(x),
            Value::I64(x) => self.push_i64(x),
            Value::Bool(x) => self.push_bool(x),
            Value::Ip(x) => self.push_ip(x),
            Value::Net(x) => self.push_net(x),
            Value::Double(x) => self.push_double(x),
        }
    }

    /// The value at position `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<Value<'_>> {
        Some(match *self.items.get(i)? {
            Item::Bytes { start, end } => Value::Bytes(&self.buf[start as usize..end as usize]),
            Item::U64(v) => Value::U64(v),
            Item::I64(v) => Value::I64(v),
            Item::Bool(v) => Value::Bool(v),
            Item::Ip(v) => Value::Ip(v),
            Item::Net(v) => Value::Net(v),
            Item::Double(v) => Value::Double(v),
        })
    }

    /// Values in positions `range`.
    pub fn range(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = Value<'_>> + '_ {
        range.filter_map(move |i| self.get(i))
    }
}
