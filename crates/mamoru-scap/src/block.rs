//! Block type numbers of the scap format (`scap_savefile.h`) and how the reader classifies them.

/// Section header block (`\r\n\n\r`, as in pcapng).
pub const SHB: u32 = 0x0A0D_0D0A;
/// Byte-order magic inside the section header.
pub const SHB_MAGIC: u32 = 0x1A2B_3C4D;

pub const MI: u32 = 0x201;
pub const MI_INT: u32 = 0x8002_ABCD;

pub const PL_V1: u32 = 0x202;
pub const PL_V1_INT: u32 = 0x8000_ABCD;
pub const PL_V2: u32 = 0x207;
pub const PL_V2_INT: u32 = 0x8013_ABCD;
pub const PL_V3: u32 = 0x209;
pub const PL_V3_INT: u32 = 0x8014_ABCD;
pub const PL_V4: u32 = 0x210;
pub const PL_V5: u32 = 0x211;
pub const PL_V6: u32 = 0x212;
pub const PL_V7: u32 = 0x213;
pub const PL_V8: u32 = 0x214;
pub const PL_V9: u32 = 0x215;

pub const FDL: u32 = 0x203;
pub const FDL_INT: u32 = 0x8001_ABCD;
pub const FDL_V2: u32 = 0x218;

pub const EV: u32 = 0x204;
pub const EV_INT: u32 = 0x8010_ABCD;
pub const EV_V2: u32 = 0x216;
pub const EV_V2_LARGE: u32 = 0x221;

pub const EVF: u32 = 0x208;
pub const EVF_V2: u32 = 0x217;
pub const EVF_V2_LARGE: u32 = 0x222;

pub const IL: u32 = 0x205;
pub const IL_INT: u32 = 0x8011_ABCD;
pub const IL_V2: u32 = 0x219;

pub const UL: u32 = 0x206;
pub const UL_INT: u32 = 0x8012_ABCD;
pub const UL_V2: u32 = 0x220;

/// Block header (`type`, `total length`) plus the trailing repeated length.
pub const BLOCK_OVERHEAD: usize = 12;

/// What a block holds, with the version details its parser needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Section,
    MachineInfo,
    /// Process list, format version 1..=9.
    ProcList(u8),
    /// File descriptor list; `true` for the v2 layout with per-entry lengths.
    FdList(bool),
    InterfaceList(bool),
    UserList(bool),
    Event(EventBlock),
    Unknown,
}

/// Layout of an event block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventBlock {
    /// `u32 flags` follows the cpu id.
    pub has_flags: bool,
    /// Events carry `nparams` in their header (26-byte header); otherwise the legacy 22-byte header.
    pub v2: bool,
}

impl BlockKind {
    pub fn of(block_type: u32) -> BlockKind {
        match block_type {
            SHB => BlockKind::Section,
            MI | MI_INT => BlockKind::MachineInfo,
            PL_V1 | PL_V1_INT => BlockKind::ProcList(1),
            PL_V2 | PL_V2_INT => BlockKind::ProcList(2),
            PL_V3 | PL_V3_INT => BlockKind::ProcList(3),
            PL_V4 => BlockKind::ProcList(4),
            PL_V5 => BlockKind::ProcList(5),
            PL_V6 => BlockKind::ProcList(6),
            PL_V7 => BlockKind::ProcList(7),
            PL_V8 => BlockKind::ProcList(8),
            PL_V9 => BlockKind::ProcList(9),
            FDL | FDL_INT => BlockKind::FdList(false),
            FDL_V2 => BlockKind::FdList(true),
            IL | IL_INT => BlockKind::InterfaceList(false),
            IL_V2 => BlockKind::InterfaceList(true),
            UL | UL_INT => BlockKind::UserList(false),
            UL_V2 => BlockKind::UserList(true),
            EV | EV_INT => BlockKind::Event(EventBlock {
                has_flags: false,
                v2: false,
            }),
            EVF => BlockKind::Event(EventBlock {
                has_flags: true,
                v2: false,
            }),
            EV_V2 | EV_V2_LARGE => BlockKind::Event(EventBlock {
                has_flags: false,
                v2: true,
            }),
            EVF_V2 | EVF_V2_LARGE => BlockKind::Event(EventBlock {
                has_flags: true,
                v2: true,
            }),
            _ => BlockKind::Unknown,
        }
    }
}

/// Rounds a length up to the 4-byte block alignment.
pub fn padded(len: usize) -> usize {
    (len + 3) & !3
}
