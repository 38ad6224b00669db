//! The static scap event table and its vocabulary (parameter types, print formats, categories, flags).

/// Event direction: scap numbers enter events even and exit events odd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Enter,
    Exit,
}

/// Parameter types (`PT_*` in the drivers' `ppm_events_public.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamType {
    Abstime,
    Bytebuf,
    Charbuf,
    Charbufarray,
    CharbufPairArray,
    Dyn,
    Enumflags16,
    Enumflags32,
    Enumflags8,
    Errno,
    Fd,
    Fd32,
    Fdlist,
    Flags16,
    Flags32,
    Flags8,
    Fspath,
    Fsrelpath,
    Gid,
    Int16,
    Int32,
    Int64,
    Ipv4addr,
    Ipv6addr,
    Mode,
    Pid,
    Pid32,
    Port,
    Reltime,
    Sigset,
    Sigtype,
    Sockaddr,
    Socktuple,
    Syscallid,
    Uid,
    Uint16,
    Uint32,
    Uint64,
    Uint8,
}

impl ParamType {
    /// Byte width of fixed-size integer parameters, `None` for variable-length ones.
    pub fn fixed_width(self) -> Option<usize> {
        use ParamType::*;
        match self {
            Uint8 | Flags8 | Enumflags8 | Sigtype => Some(1),
            Int16 | Uint16 | Flags16 | Enumflags16 | Port | Syscallid => Some(2),
            Int32 | Uint32 | Flags32 | Enumflags32 | Mode | Uid | Gid | Fd32 | Pid32 | Sigset | Ipv4addr => Some(4),
            Int64 | Uint64 | Errno | Fd | Pid | Reltime | Abstime => Some(8),
            Ipv6addr => Some(16),
            _ => None,
        }
    }

    /// True for signed integer parameters (read as `i64`).
    pub fn is_signed(self) -> bool {
        use ParamType::*;
        matches!(self, Int16 | Int32 | Int64 | Errno | Fd | Pid | Fd32 | Pid32)
    }
}

/// Print formats (`PF_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamFormat {
    Dec,
    Hex,
    Oct,
    Na,
}

/// One parameter of an event.
#[derive(Debug, Clone, Copy)]
pub struct ParamInfo {
    pub name: &'static str,
    pub ty: ParamType,
    pub fmt: ParamFormat,
}

/// One row of the event table.
#[derive(Debug)]
pub struct EventInfo {
    pub code: u16,
    pub enum_name: &'static str,
    /// The event name as `evt.type` prints it (`"NA"` for unused codes).
    pub name: &'static str,
    pub dir: Direction,
    /// `cat::*` bits.
    pub category: u32,
    /// `flags::*` bits.
    pub flags: u32,
    pub params: &'static [ParamInfo],
}

impl EventInfo {
    pub fn has_flag(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// Index of the parameter called `name`.
    pub fn param_index(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    /// True when parameter lengths are `u32` rather than `u16` (`EF_LARGE_PAYLOAD`).
    pub fn large_payload(&self) -> bool {
        self.has_flag(flags::LARGE_PAYLOAD)
    }

    /// Whether the event is unused in the current schema.
    pub fn is_unused(&self) -> bool {
        self.has_flag(flags::UNUSED)
    }
}

/// Event category bits (`EC_*`). Values are mamoru's own; only their names follow the drivers.
#[allow(missing_docs)]
pub mod cat {
    pub const UNKNOWN: u32 = 1 << 0;
    pub const OTHER: u32 = 1 << 1;
    pub const FILE: u32 = 1 << 2;
    pub const NET: u32 = 1 << 3;
    pub const IPC: u32 = 1 << 4;
    pub const MEMORY: u32 = 1 << 5;
    pub const PROCESS: u32 = 1 << 6;
    pub const SLEEP: u32 = 1 << 7;
    pub const SYSTEM: u32 = 1 << 8;
    pub const SIGNAL: u32 = 1 << 9;
    pub const USER: u32 = 1 << 10;
    pub const TIME: u32 = 1 << 11;
    pub const IO_READ: u32 = 1 << 12;
    pub const IO_WRITE: u32 = 1 << 13;
    pub const IO_OTHER: u32 = 1 << 14;
    pub const WAIT: u32 = 1 << 15;
    pub const SCHEDULER: u32 = 1 << 16;
    pub const INTERNAL: u32 = 1 << 17;
    pub const SYSCALL: u32 = 1 << 20;
    pub const TRACEPOINT: u32 = 1 << 21;
    pub const PLUGIN: u32 = 1 << 22;
    pub const METAEVENT: u32 = 1 << 23;
    pub const ITER: u32 = 1 << 24;
}

/// Event flag bits (`EF_*`).
#[allow(missing_docs)]
pub mod flags {
    pub const NONE: u32 = 0;
    pub const CREATES_FD: u32 = 1 << 0;
    pub const DESTROYS_FD: u32 = 1 << 1;
    pub const USES_FD: u32 = 1 << 2;
    pub const READS_FROM_FD: u32 = 1 << 3;
    pub const WRITES_TO_FD: u32 = 1 << 4;
    pub const MODIFIES_STATE: u32 = 1 << 5;
    pub const UNUSED: u32 = 1 << 6;
    pub const WAITS: u32 = 1 << 7;
    pub const SKIPPARSERESET: u32 = 1 << 8;
    pub const OLD_VERSION: u32 = 1 << 9;
    pub const USES_USER_FD: u32 = 1 << 10;
    pub const CONVERTER_MANAGED: u32 = 1 << 11;
    pub const LARGE_PAYLOAD: u32 = 1 << 12;
    pub const TMP_CONVERTER_MANAGED: u32 = 1 << 13;
}

include!(concat!(env!("OUT_DIR"), "/event_table.rs"));

/// Number of event codes in the table (`PPM_EVENT_MAX`).
pub const PPM_EVENT_MAX: u16 = EVENT_TABLE.len() as u16;

/// The whole table, indexed by code.
pub fn event_table() -> &'static [EventInfo] {
    &EVENT_TABLE
}

/// The table row of `code`, `None` when the code is beyond the table.
pub fn event_info(code: u16) -> Option<&'static EventInfo> {
    EVENT_TABLE.get(code as usize)
}
