//! The scap event model shared by every layer of mamoru.
//!
//! Syscall events in mamoru use the scap event layout of Falco's drivers byte for byte: a packed header
//! (`ts`, `tid`, `len`, `type`, `nparams`), an array of parameter lengths, then the parameter bytes. The eBPF sensor
//! writes events in this layout, capture files store them unchanged, and replay reads them back, so one decoder
//! serves live detection, capture and replay. This crate holds the event table (generated at build time from
//! `data/scap-event-table.tsv`, the schema of Falco's `driver/event_table.c`), the zero-copy [`RawEvent`] view, the
//! [`EventBuilder`] used by writers and tests, decoders for the structured parameter types (socket addresses and
//! tuples, argument arrays), and the plain records ([`ThreadRecord`], [`FdRecord`], [`UserRecord`], ...) through which
//! capture files and `/proc` seed the state engine.

mod builder;
pub mod ppm_sc;
mod raw;
mod records;
pub mod render;
mod sockaddr;
mod table;

pub use builder::EventBuilder;
pub use raw::{EventError, RawEvent, HEADER_LEN_V1, HEADER_LEN_V2, MAX_PARAMS};
pub use records::{FdInfo, FdRecord, GroupRecord, InterfaceRecord, ThreadRecord, UserRecord};
pub use sockaddr::{SockAddr, SockTuple, PPM_AF_INET, PPM_AF_INET6, PPM_AF_LOCAL, PPM_AF_UNSPEC};
pub use table::{
    cat, event_info, event_table, flags, Direction, EventInfo, ParamFormat, ParamInfo, ParamType, PPM_EVENT_MAX,
};

/// Event codes used by name throughout mamoru (the newest version of each, as current drivers emit them).
pub mod codes {
    pub const GENERIC_E: u16 = 0;
    pub const GENERIC_X: u16 = 1;
    pub const PROCEXIT_1_E: u16 = 186;
    pub const PLUGINEVENT_E: u16 = 322;
    pub const ASYNCEVENT_E: u16 = 402;
}

/// Splits a NUL-separated byte buffer (execve `args`, `env`, `cgroups`) into its items, without the empty tail.
pub fn split_nul(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let trimmed = buf.strip_suffix(b"\0").unwrap_or(buf);
    let empty = trimmed.is_empty() && buf.len() <= 1;
    trimmed.split(|b| *b == 0).filter(move |_| !empty)
}
