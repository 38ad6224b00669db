//! The text of event parameters as Falco shows it: `evt.arg.NAME` / `evt.arg[i]`, `evt.args` and `evt.res`.
//!
//! libsinsp renders every parameter twice: a *plain* text (`3`, `4097`, `-2`) and an optional *resolved* text
//! (`<f>/etc/passwd`, `O_RDONLY|O_CLOEXEC`, `ENOENT`). `evt.args` prints `name=plain(resolved) ` for each parameter;
//! `evt.arg` prints the resolved text when there is one and the plain text otherwise. Resolution of fds, thread
//! names, users and relative paths needs state this crate does not hold, so the renderer asks a [`Resolver`].
//! Everything is appended to a caller-owned buffer: the only allocation is that buffer's growth.

mod tables;
mod text;

use std::io::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

pub use tables::{flag_names, uses_flag_table, FlagTable, PPM_AT_FDCWD};
pub use text::{cap_names, errno_name, signal_name, CAPABILITY_NAMES};

/// The drivers' name/value tables and `PPM_*` constants.
pub mod flags {
    pub use super::tables::*;
}

use crate::codes;
use crate::ppm_sc;
use crate::raw::RawEvent;
use crate::table::{ParamFormat, ParamType};
use tables::open::{O_CREAT, O_F_CREATED, O_RDONLY, O_TMPFILE, O_WRONLY};
use text::{push_abstime, push_c_g, push_path_components, push_sanitized};

/// What the state engine knows about an fd, for the `<f>/etc/passwd` text of fd parameters.
#[derive(Debug, Clone, Copy)]
pub struct FdDesc<'a> {
    /// `fd.typechar`: `f`, `4`, `6`, `u`, `p`, ...
    pub typechar: u8,
    /// For IP sockets, `t`, `u`, `i` or `r` (TCP, UDP, ICMP, raw).
    pub l4proto: Option<u8>,
    /// `fd.name`.
    pub name: &'a [u8],
}

/// The state the renderer consults; every method defaults to "unknown".
pub trait Resolver {
    /// Whether the event's thread is known. libsinsp resolves fds, negative fds (as errno names) and relative paths
    /// only for known threads.
    fn has_thread(&self) -> bool;
    /// The fd `fd` of the event's thread.
    fn fd(&self, _fd: i64) -> Option<FdDesc<'_>> {
        None
    }
    /// The `comm` of thread `tid`.
    fn thread_comm(&self, _tid: i64) -> Option<&[u8]> {
        None
    }
    /// The user name of `uid` (in the thread's container).
    fn user_name(&self, _uid: u32) -> Option<&[u8]> {
        None
    }
    /// The group name of `gid` (in the thread's container).
    fn group_name(&self, _gid: u32) -> Option<&[u8]> {
        None
    }
    /// The thread's working directory.
    fn cwd(&self) -> Option<&[u8]> {
        None
    }
    /// The directory an `*at` syscall's dirfd refers to.
    fn dir_fd_path(&self, _dirfd: i64) -> Option<&[u8]> {
        None
    }
}

/// A resolver for an event whose thread is known but about which nothing else is known: fds print as numbers,
/// negative fds and errors by name, users as `<NA>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct KnownThread;

impl Resolver for KnownThread {
    fn has_thread(&self) -> bool {
        true
    }
}

/// A resolver for an event whose thread is unknown.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnknownThread;

impl Resolver for UnknownThread {
    fn has_thread(&self) -> bool {
        false
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Plain,
    Resolved,
}

/// Where a value comes from: the event and parameter (for tables and dirfds) and how to read it.
struct Ctx<'e, 'a> {
    ev: &'e RawEvent<'a>,
    index: usize,
    ty: ParamType,
    fmt: ParamFormat,
    r: &'e dyn Resolver,
}

/// Appends the text of `evt.arg[i]` (resolved text when there is one, plain text otherwise), with a [`KnownThread`]
/// resolver. Returns false when the event has no parameter `i`.
pub fn render_param(ev: &RawEvent, i: usize, out: &mut Vec<u8>) -> bool {
    render_param_with(ev, i, &KnownThread, out)
}

/// [`render_param`] with state.
pub fn render_param_with(ev: &RawEvent, i: usize, r: &dyn Resolver, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    if !write_part(ev, i, r, Part::Resolved, out) {
        return false;
    }
    if out.len() == start {
        write_part(ev, i, r, Part::Plain, out);
    }
    true
}

/// Appends the plain text of parameter `i` (`3` for an fd, `4097` for open flags). Returns false when absent.
pub fn render_param_plain(ev: &RawEvent, i: usize, r: &dyn Resolver, out: &mut Vec<u8>) -> bool {
    write_part(ev, i, r, Part::Plain, out)
}

/// Appends the resolved text of parameter `i` (`<f>/etc/passwd`, `O_RDONLY|O_CLOEXEC`); returns true when any was
/// written.
pub fn render_param_resolved(ev: &RawEvent, i: usize, r: &dyn Resolver, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    write_part(ev, i, r, Part::Resolved, out) && out.len() > start
}

/// Appends `evt.args` (`name=value name=value(resolved) `, each pair followed by a space), with a [`KnownThread`]
/// resolver. Generic syscall events have no arguments text: their only argument is the syscall, which `evt.type`
/// already names.
pub fn render_args(ev: &RawEvent, out: &mut Vec<u8>) {
    render_args_with(ev, &KnownThread, out)
}

/// [`render_args`] with state.
pub fn render_args_with(ev: &RawEvent, r: &dyn Resolver, out: &mut Vec<u8>) {
    if ev.etype == codes::GENERIC_E || ev.etype == codes::GENERIC_X {
        return;
    }
    for (i, param) in ev.info().params.iter().enumerate().take(ev.nparams()) {
        out.extend_from_slice(param.name.as_bytes());
        out.push(b'=');
        write_part(ev, i, r, Part::Plain, out);
        out.push(b'(');
        let mark = out.len();
        write_part(ev, i, r, Part::Resolved, out);
        if out.len() == mark {
            out.pop();
        } else {
            out.push(b')');
        }
        out.push(b' ');
    }
}

/// Event codes whose return value is the new fd rather than a `res` parameter.
const OPEN_FD_EVENTS: &[&str] = &[
    "PPME_SYSCALL_OPEN_X",
    "PPME_SYSCALL_CREAT_X",
    "PPME_SYSCALL_OPENAT_X",
    "PPME_SYSCALL_OPENAT_2_X",
    "PPME_SYSCALL_OPENAT2_X",
    "PPME_SYSCALL_OPEN_BY_HANDLE_AT_X",
];

/// Appends `evt.res` (with a [`KnownThread`] resolver): `SUCCESS` for non-negative results, the errno name (or the
/// number, when it has no name) otherwise. Returns false when the event has no result.
pub fn render_res(ev: &RawEvent, out: &mut Vec<u8>) -> bool {
    render_res_with(ev, &KnownThread, out)
}

/// [`render_res`] with state.
pub fn render_res_with(ev: &RawEvent, r: &dyn Resolver, out: &mut Vec<u8>) -> bool {
    let index = match ev.param_index("res") {
        Some(i) => i,
        None if OPEN_FD_EVENTS.contains(&ev.info().enum_name) => 0,
        None => return false,
    };
    let Some(value) = ev.param_i64(index) else {
        return false;
    };
    if value >= 0 {
        out.extend_from_slice(b"SUCCESS");
    } else {
        render_param_with(ev, index, r, out);
    }
    true
}

fn write_part(ev: &RawEvent, i: usize, r: &dyn Resolver, part: Part, out: &mut Vec<u8>) -> bool {
    let Some(data) = ev.param(i) else {
        return false;
    };
    let Some(info) = ev.info().params.get(i) else {
        return false;
    };
    let ctx = Ctx {
        ev,
        index: i,
        ty: info.ty,
        fmt: info.fmt,
        r,
    };
    if data.is_empty() {
        if part == Part::Plain {
            out.extend_from_slice(empty_text(info.ty));
        }
        return true;
    }
    if info.ty == ParamType::Dyn {
        write_dyn(&ctx, data, part, out);
    } else {
        write_value(&ctx, info.ty, data, part, out);
    }
    true
}

/// What libsinsp prints for a parameter the driver left empty.
fn empty_text(ty: ParamType) -> &'static [u8] {
    use ParamType::*;
    match ty {
        Bytebuf | Socktuple | Fdlist | Charbufarray | CharbufPairArray | Dyn => b"NULL",
        _ => b"<NA>",
    }
}

/// The types a `PT_DYN` parameter can take, by the index in its first byte (`driver/dynamic_params_table.c`).
fn dyn_types(event: &str, param: &str) -> Option<&'static [ParamType]> {
    use ParamType::*;
    match (event, param) {
        ("setsockopt" | "getsockopt", "val") => Some(&[Bytebuf, Errno, Uint32, Uint64, Reltime]),
        ("ptrace", "addr" | "data") => Some(&[Uint64, Sigtype]),
        ("bpf", "res_or_fd") => Some(&[Fd, Errno]),
        ("keyctl", _) => Some(&[Int64, Charbuf]),
        _ => None,
    }
}

fn write_dyn(ctx: &Ctx, data: &[u8], part: Part, out: &mut Vec<u8>) {
    let name = ctx.ev.info().params[ctx.index].name;
    let ty = dyn_types(ctx.ev.info().name, name).and_then(|t| t.get(data[0] as usize).copied());
    match ty {
        Some(ty) if data.len() > 1 => write_value(ctx, ty, &data[1..], part, out),
        Some(ty) if part == Part::Plain => out.extend_from_slice(empty_text(ty)),
        Some(_) => {}
        None if part == Part::Plain => out.extend_from_slice(b"INVALID DYNAMIC PARAMETER"),
        None => {}
    }
}

fn le_u64(data: &[u8], width: usize) -> Option<u64> {
    let b = data.get(..width)?;
    let mut a = [0u8; 8];
    a[..width].copy_from_slice(b);
    Some(u64::from_le_bytes(a))
}

/// Little-endian integer of the type's width, sign-extended for signed types.
fn int_value(ty: ParamType, data: &[u8]) -> Option<i64> {
    let width = ty.fixed_width().unwrap_or(8).min(8);
    let raw = le_u64(data, width)?;
    let shift = 64 - 8 * width as u32;
    Some(if ty.is_signed() && shift > 0 {
        ((raw << shift) as i64) >> shift
    } else {
        raw as i64
    })
}

fn write_value(ctx: &Ctx, ty: ParamType, data: &[u8], part: Part, out: &mut Vec<u8>) {
    use ParamType::*;
    let plain = part == Part::Plain;
    match ty {
        Int16 | Int32 | Int64 | Uint8 | Uint16 | Uint32 | Uint64 => {
            if let (true, Some(v)) = (plain, int_value(ty, data)) {
                write_number(ty, ctx.fmt, v, out);
            }
        }
        Fd | Fd32 => write_fd(ctx, int_value(ty, data), part, out),
        Pid | Pid32 => write_pid(ctx, int_value(ty, data), part, out),
        Errno => match (part, int_value(ty, data)) {
            (Part::Plain, Some(v)) => write_i64(v, out),
            (Part::Resolved, Some(v)) if v < 0 => {
                if let Some(n) = errno_name(v.unsigned_abs() as i64) {
                    out.extend_from_slice(n.as_bytes());
                }
            }
            _ => {}
        },
        Charbuf if plain => out.extend_from_slice(until_nul(data)),
        Fspath | Fsrelpath => write_path(ctx, until_nul(data), part, out),
        Bytebuf if plain => push_dotted(data, out),
        Sockaddr if plain => write_sockaddr(data, out),
        Socktuple if plain => write_socktuple(data, out),
        Fdlist if plain && ctx.r.has_thread() => write_fdlist(ctx, data, out),
        Syscallid => write_syscallid(data, part, out),
        Sigtype => {
            if let Some(sig) = data.first() {
                match part {
                    Part::Plain => write_i64(i64::from(*sig), out),
                    Part::Resolved => out.extend_from_slice(signal_name(*sig).unwrap_or("").as_bytes()),
                }
            }
        }
        Reltime => write_reltime(data, part, out),
        Flags8 | Flags16 | Flags32 | Enumflags8 | Enumflags16 | Enumflags32 => {
            if let Some(v) = int_value(ty, data) {
                let v = v as u32;
                match part {
                    Part::Plain => write_i64(i64::from(v), out),
                    Part::Resolved => {
                        if let Some(table) = flag_names(ctx.ev.etype, ctx.index) {
                            let exact = matches!(ty, Enumflags8 | Enumflags16 | Enumflags32);
                            render_flags(table, v, exact, out);
                        }
                    }
                }
            }
        }
        Mode => {
            if let Some(v) = int_value(ty, data) {
                let v = v as u32;
                match part {
                    Part::Plain => write_number(Uint32, ctx.fmt, i64::from(v), out),
                    Part::Resolved => {
                        if let Some(table) = flag_names(ctx.ev.etype, ctx.index) {
                            render_mode(table, v, out);
                        }
                    }
                }
            }
        }
        Abstime if plain => {
            if let Some(v) = le_u64(data, 8) {
                push_abstime(v, out);
            }
        }
        Uid | Gid => write_id(ctx, ty, data, part, out),
        Charbufarray if plain => join_nul_list(data, b'.', out),
        CharbufPairArray if plain => write_pair_array(data, out),
        Sigset if plain => write_sigset(data, out),
        Ipv4addr if plain => {
            if let Some(b) = data.get(..4) {
                let _ = write!(out, "{}", Ipv4Addr::new(b[0], b[1], b[2], b[3]));
            }
        }
        Ipv6addr if plain => {
            if let Some(a) = ipv6(data) {
                let _ = write!(out, "{a}");
            }
        }
        Port if plain => {
            if let Some(v) = le_u64(data, 2) {
                write_i64(v as i64, out);
            }
        }
        Dyn if plain => out.extend_from_slice(b"INVALID DYNAMIC PARAMETER"),
        _ => {}
    }
}

fn write_i64(v: i64, out: &mut Vec<u8>) {
    let _ = write!(out, "{v}");
}

/// libsinsp's numeric formats: decimal through the signed printf conversion of the type's width (so a `uint32` of
/// 4294967295 prints `-1` and a `uint64` prints as `int64`), hexadecimal upper-case without prefix, octal with a
/// leading `0`.
fn write_number(ty: ParamType, fmt: ParamFormat, v: i64, out: &mut Vec<u8>) {
    use ParamType::*;
    // The value as printf sees it after C's default promotions.
    let (signed, bits): (i64, u64) = match ty {
        Uint8 => (v & 0xff, (v & 0xff) as u64),
        Uint16 => (v & 0xffff, (v & 0xffff) as u64),
        Int16 | Int32 => (v, v as i32 as u32 as u64),
        Uint32 => (v as u32 as i32 as i64, v as u32 as u64),
        _ => (v, v as u64),
    };
    let _ = match fmt {
        ParamFormat::Hex => write!(out, "{bits:X}"),
        ParamFormat::Oct if bits == 0 => write!(out, "0"),
        ParamFormat::Oct => write!(out, "0{bits:o}"),
        ParamFormat::Dec | ParamFormat::Na => write!(out, "{signed}"),
    };
}

fn until_nul(data: &[u8]) -> &[u8] {
    match data.iter().position(|c| *c == 0) {
        Some(n) => &data[..n],
        None => data,
    }
}

/// Non-printable bytes become `.`, as libsinsp's default buffer format prints them.
fn push_dotted(data: &[u8], out: &mut Vec<u8>) {
    out.extend(data.iter().map(|&c| if (0x20..0x7f).contains(&c) { c } else { b'.' }));
}

fn write_fd(ctx: &Ctx, fd: Option<i64>, part: Part, out: &mut Vec<u8>) {
    let Some(fd) = fd else { return };
    if part == Part::Plain {
        write_i64(fd, out);
        return;
    }
    if !ctx.r.has_thread() {
        return;
    }
    if fd >= 0 {
        if let Some(desc) = ctx.r.fd(fd) {
            out.push(b'<');
            if desc.typechar != 0 {
                out.push(desc.typechar);
            }
            if let Some(l4) = desc.l4proto {
                out.push(l4);
            }
            out.push(b'>');
            push_sanitized(desc.name, out);
        }
    } else if fd == PPM_AT_FDCWD {
        out.extend_from_slice(b"AT_FDCWD");
    } else if let Some(name) = errno_name(fd.unsigned_abs() as i64) {
        out.extend_from_slice(name.as_bytes());
    }
}

fn write_pid(ctx: &Ctx, pid: Option<i64>, part: Part, out: &mut Vec<u8>) {
    let Some(pid) = pid else { return };
    match part {
        Part::Plain => write_i64(pid, out),
        Part::Resolved => {
            if let Some(comm) = ctx.r.thread_comm(pid) {
                out.extend_from_slice(comm);
            }
        }
    }
}

/// Paths print sanitized; relative paths of known threads resolve against the working directory or, for
/// `PT_FSRELPATH`, the directory of the dirfd parameter that precedes them.
fn write_path(ctx: &Ctx, path: &[u8], part: Part, out: &mut Vec<u8>) {
    if part == Part::Plain {
        push_sanitized(path, out);
        return;
    }
    if !ctx.r.has_thread() || path.is_empty() || path == b"<NA>" || path.starts_with(b"/") {
        return;
    }
    let Some(base) = base_dir(ctx) else { return };
    let start = out.len();
    push_path_components(base, start, out);
    push_path_components(path, start, out);
}

fn base_dir<'r>(ctx: &Ctx<'r, '_>) -> Option<&'r [u8]> {
    if ctx.ty != ParamType::Fsrelpath {
        return ctx.r.cwd();
    }
    let dirfd_index = ctx.index.checked_sub(1)?;
    let is_fd = matches!(
        ctx.ev.param_type(dirfd_index),
        Some(ParamType::Fd) | Some(ParamType::Fd32)
    );
    if !is_fd {
        return ctx.r.cwd();
    }
    match ctx.ev.param_i64(dirfd_index) {
        Some(PPM_AT_FDCWD) | None => ctx.r.cwd(),
        Some(dirfd) => ctx.r.dir_fd_path(dirfd),
    }
}

fn ipv6(data: &[u8]) -> Option<Ipv6Addr> {
    let b: [u8; 16] = data.get(..16)?.try_into().ok()?;
    Some(Ipv6Addr::from(b))
}

fn port_at(data: &[u8], at: usize) -> u16 {
    data.get(at..at + 2).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
}

fn write_v4(b: &[u8], out: &mut Vec<u8>) {
    let _ = write!(out, "{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
}

fn write_sockaddr(data: &[u8], out: &mut Vec<u8>) {
    let family = data[0];
    match family {
        crate::PPM_AF_LOCAL => push_sanitized(until_nul(&data[1..]), out),
        crate::PPM_AF_INET if data.len() == 7 => {
            write_v4(&data[1..5], out);
            let _ = write!(out, ":{}", port_at(data, 5));
        }
        crate::PPM_AF_INET => out.extend_from_slice(b"INVALID IPv4"),
        crate::PPM_AF_INET6 => match ipv6(&data[1..]).filter(|_| data.len() == 19) {
            Some(ip) => {
                let _ = write!(out, "{ip}:{}", port_at(data, 17));
            }
            None => out.extend_from_slice(b"INVALID IPv6"),
        },
        _ => {
            let _ = write!(out, "family {family}");
        }
    }
}

/// libsinsp treats all-zero addresses like v4-mapped ones when deciding to print a v6 tuple as IPv4.
fn is_ipv4_mapped(b: &[u8]) -> bool {
    b[..10].iter().all(|c| *c == 0) && ((b[10] == 0xff && b[11] == 0xff) || b[10..16].iter().all(|c| *c == 0))
}

fn write_socktuple(data: &[u8], out: &mut Vec<u8>) {
    let family = data[0];
    match family {
        crate::PPM_AF_INET if data.len() == 13 => {
            write_v4(&data[1..5], out);
            let _ = write!(out, ":{}->", port_at(data, 5));
            write_v4(&data[7..11], out);
            let _ = write!(out, ":{}", port_at(data, 11));
        }
        crate::PPM_AF_INET => out.extend_from_slice(b"INVALID IPv4"),
        crate::PPM_AF_INET6 if data.len() == 37 => {
            let (sip, dip) = (&data[1..17], &data[19..35]);
            if is_ipv4_mapped(sip) && is_ipv4_mapped(dip) {
                write_v4(&sip[12..], out);
                let _ = write!(out, ":{}->", port_at(data, 17));
                write_v4(&dip[12..], out);
                let _ = write!(out, ":{}", port_at(data, 35));
            } else if let (Some(s), Some(d)) = (ipv6(sip), ipv6(dip)) {
                let _ = write!(out, "{s}:{}->{d}:{}", port_at(data, 17), port_at(data, 35));
            }
        }
        crate::PPM_AF_INET6 => out.extend_from_slice(b"INVALID IPv6"),
        crate::PPM_AF_LOCAL if data.len() > 17 => {
            let src = le_u64(&data[1..], 8).unwrap_or(0);
            let dst = le_u64(&data[9..], 8).unwrap_or(0);
            let _ = write!(out, "{src:x}->{dst:x} ");
            push_sanitized(until_nul(&data[17..]), out);
        }
        _ => {
            let _ = write!(out, "family {family}");
        }
    }
}

/// `fd:<typechar><flags in hex>` per entry, space separated; fds the thread does not have get `?`.
fn write_fdlist(ctx: &Ctx, data: &[u8], out: &mut Vec<u8>) {
    let n = le_u64(data, 2).unwrap_or(0) as usize;
    for (j, entry) in data[2.min(data.len())..].chunks_exact(10).take(n).enumerate() {
        if j > 0 {
            out.push(b' ');
        }
        let fd = le_u64(entry, 8).unwrap_or(0);
        let flags = i16::from_le_bytes([entry[8], entry[9]]) as i32 as u32;
        let typechar = ctx.r.fd(fd as i64).map_or(b'?', |d| d.typechar);
        let _ = write!(out, "{fd}:");
        out.push(typechar);
        let _ = write!(out, "{flags:x}");
    }
}

fn write_syscallid(data: &[u8], part: Part, out: &mut Vec<u8>) {
    let Some(code) = le_u64(data, 2).map(|v| v as u16) else {
        return;
    };
    match (part, code < ppm_sc::PPM_SC_MAX) {
        (Part::Plain, true) => write_i64(i64::from(code), out),
        (Part::Plain, false) => out.extend_from_slice(b"<unknown syscall>"),
        (Part::Resolved, true) => out.extend_from_slice(ppm_sc::syscall_name(code).unwrap_or("").as_bytes()),
        (Part::Resolved, false) => {}
    }
}

fn write_reltime(data: &[u8], part: Part, out: &mut Vec<u8>) {
    let Some(v) = le_u64(data, 8) else { return };
    match part {
        Part::Plain if v == u64::MAX => out.extend_from_slice(b"none"),
        Part::Plain => write_i64(v as i64, out),
        Part::Resolved if v == u64::MAX => {}
        Part::Resolved => {
            push_c_g(v as f64 / 1e9, out);
            out.push(b's');
        }
    }
}

fn write_id(ctx: &Ctx, ty: ParamType, data: &[u8], part: Part, out: &mut Vec<u8>) {
    let Some(id) = le_u64(data, 4).map(|v| v as u32) else {
        return;
    };
    if id == u32::MAX {
        out.extend_from_slice(if part == Part::Plain { b"-1" } else { b"<NONE>" });
        return;
    }
    match part {
        Part::Plain => write_i64(i64::from(id as i32), out),
        Part::Resolved => {
            let name = match (ctx.r.has_thread(), ty) {
                (false, _) => None,
                (true, ParamType::Uid) => ctx.r.user_name(id),
                (true, _) => ctx.r.group_name(id),
            };
            match name.filter(|n| !n.is_empty()) {
                Some(n) => push_sanitized(n, out),
                None => out.extend_from_slice(b"<NA>"),
            }
        }
    }
}

/// NUL-separated items joined by `sep`.
fn join_nul_list(data: &[u8], sep: u8, out: &mut Vec<u8>) {
    for (j, item) in crate::split_nul(data).enumerate() {
        if j > 0 {
            out.push(sep);
        }
        out.extend_from_slice(item);
    }
}

/// NUL-separated `key, value` items printed as `key:value,key:value`.
fn write_pair_array(data: &[u8], out: &mut Vec<u8>) {
    let mut items = crate::split_nul(data);
    let mut first = true;
    while let (Some(k), Some(v)) = (items.next(), items.next()) {
        if !first {
            out.push(b',');
        }
        out.extend_from_slice(k);
        out.push(b':');
        out.extend_from_slice(v);
        first = false;
    }
}

fn write_sigset(data: &[u8], out: &mut Vec<u8>) {
    let Some(mask) = le_u64(data, 4) else { return };
    let mut first = true;
    for sig in 0..32u8 {
        if mask & (1 << sig) != 0 {
            if let Some(name) = signal_name(sig + 1) {
                if !first {
                    out.push(b' ');
                }
                out.extend_from_slice(name.as_bytes());
                first = false;
            }
        }
    }
}

/// Appends the names `value` resolves to in `table`, `|`-separated, as libsinsp resolves flag parameters.
///
/// Enum tables (`exact`) name every entry equal to the value. Bit tables walk the table in order: an entry matches
/// when all its bits are still set in the value (or when both are zero), its bits are then cleared so that
/// composite entries (`O_RDWR`) shadow their parts, and the walk stops at the entry equal to the original value.
pub fn render_flags(table: FlagTable, value: u32, exact: bool, out: &mut Vec<u8>) {
    let mut rest = value;
    let mut first = true;
    for &(name, flag) in table {
        let matched = if exact {
            flag == value
        } else if (flag == 0 && value == 0) || (flag != 0 && rest & flag == flag && rest != 0) {
            rest &= !flag;
            true
        } else {
            false
        };
        if matched {
            if !first {
                out.push(b'|');
            }
            out.extend_from_slice(name.as_bytes());
            first = false;
            if !exact && flag == value {
                break;
            }
        }
    }
}

/// Appends the names of a `PT_MODE` value: like bit flags, except that the walk stops before an entry equal to the
/// whole value and then names that entry.
pub fn render_mode(table: FlagTable, value: u32, out: &mut Vec<u8>) {
    let mut rest = value;
    let mut first = true;
    let mut exact = None;
    for &(name, flag) in table {
        if flag == value {
            exact = Some(name);
            break;
        }
        if (flag == 0 && value == 0) || (flag != 0 && rest & flag == flag && rest != 0) {
            if !first {
                out.push(b'|');
            }
            out.extend_from_slice(name.as_bytes());
            first = false;
            rest &= !flag;
        }
    }
    if let Some(name) = exact {
        if !first {
            out.push(b'|');
        }
        out.extend_from_slice(name.as_bytes());
    }
}

/// Whether `PPM_O_*` open flags open for reading and for writing (`evt.is_open_read` / `evt.is_open_write`).
pub fn open_flags_access(flags: u32) -> (bool, bool) {
    (flags & O_RDONLY != 0, flags & O_WRONLY != 0)
}

/// Whether an open created its file (`evt.is_open_create`): the driver saw the file created, or an `O_TMPFILE` open
/// succeeded.
pub fn open_is_create(flags: u32, res: i64) -> bool {
    flags & O_F_CREATED != 0 || (flags & O_TMPFILE != 0 && res >= 0)
}

/// Whether an open may create an executable file (`evt.is_open_exec`): `O_CREAT` or `O_TMPFILE` with any execute
/// bit in the mode.
pub fn open_is_exec(flags: u32, mode: u32) -> bool {
    flags & (O_TMPFILE | O_CREAT) != 0 && mode_is_exec(mode)
}

/// Whether a `PPM_S_*` mode has any execute bit (what `evt.is_open_exec` checks for `creat`).
pub fn mode_is_exec(mode: u32) -> bool {
    use tables::mode::{S_IXGRP, S_IXOTH, S_IXUSR};
    mode & (S_IXUSR | S_IXGRP | S_IXOTH) != 0
}

/// The open-related parameters of an open-family event, as the `evt.is_open_*` fields read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenInfo {
    /// `PPM_O_*` flags; 0 for `creat`, which has none.
    pub flags: u32,
    /// `PPM_S_*` mode, when the event carries one.
    pub mode: Option<u32>,
    /// The returned fd (exit events only).
    pub res: Option<i64>,
    /// True for `creat`, whose only open field is `evt.is_open_exec`.
    pub is_creat: bool,
}

impl OpenInfo {
    /// `evt.is_open_read`.
    pub fn is_read(&self) -> bool {
        !self.is_creat && open_flags_access(self.flags).0
    }
    /// `evt.is_open_write`.
    pub fn is_write(&self) -> bool {
        !self.is_creat && open_flags_access(self.flags).1
    }
    /// `evt.is_open_create`.
    pub fn is_create(&self) -> bool {
        !self.is_creat && open_is_create(self.flags, self.res.unwrap_or(-1))
    }
    /// `evt.is_open_exec`.
    pub fn is_exec(&self) -> bool {
        match self.mode {
            Some(mode) if self.is_creat => mode_is_exec(mode),
            Some(mode) => open_is_exec(self.flags, mode),
            None => false,
        }
    }
}

/// Where an open-like event keeps its flags, mode and result (parameter indices), and whether it is `creat`.
type OpenLayout = (Option<usize>, Option<usize>, Option<usize>, bool);

/// The [`OpenLayout`] of an event, by its table name.
fn open_layout(enum_name: &str) -> Option<OpenLayout> {
    Some(match enum_name {
        "PPME_SYSCALL_OPEN_X" => (Some(2), Some(3), Some(0), false),
        "PPME_SYSCALL_OPENAT_E" => (Some(2), Some(3), None, false),
        "PPME_SYSCALL_OPENAT_2_X" | "PPME_SYSCALL_OPENAT2_X" => (Some(3), Some(4), Some(0), false),
        "PPME_SYSCALL_OPEN_BY_HANDLE_AT_X" => (Some(2), None, Some(0), false),
        "PPME_SYSCALL_CREAT_X" => (None, Some(2), Some(0), true),
        _ => return None,
    })
}

/// [`open_layout`] per event code, computed once: rules ask `evt.is_open_*` of every open event, and matching the
/// event's name against five strings each time costs more than the rest of the field.
fn open_layouts() -> &'static [Option<OpenLayout>] {
    static LAYOUTS: std::sync::OnceLock<Box<[Option<OpenLayout>]>> = std::sync::OnceLock::new();
    LAYOUTS.get_or_init(|| {
        crate::table::event_table()
            .iter()
            .map(|info| open_layout(info.enum_name))
            .collect()
    })
}

/// The [`OpenInfo`] of the events libsinsp's `evt.is_open_*` fields look at; `None` for other events.
pub fn open_info(ev: &RawEvent) -> Option<OpenInfo> {
    let u32_at = |i: usize| ev.param_u64(i).map(|v| v as u32);
    let (flags_at, mode_at, res_at, is_creat) = open_layouts().get(ev.etype as usize).copied().flatten()?;
    Some(OpenInfo {
        flags: flags_at.and_then(u32_at).unwrap_or(0),
        mode: mode_at.and_then(u32_at),
        res: res_at.and_then(|i| ev.param_i64(i)),
        is_creat,
    })
}

#[cfg(test)]
mod tests;
