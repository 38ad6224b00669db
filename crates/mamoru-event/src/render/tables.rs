//! The drivers' name/value tables for flag, enum and mode parameters (`driver/flags_table.c`), and which table each
//! parameter of the event table uses (the `info` pointer of the parameter in `driver/event_table.c`).
//!
//! Values are the drivers' portable `PPM_*` encodings, not the kernel's: the drivers translate the syscall arguments
//! before writing them. Table order matters, because the renderer walks a table front to back exactly as libsinsp
//! does (see [`super`]).

use std::sync::OnceLock;

use crate::table::{event_table, ParamType};

/// A name/value table (`struct ppm_name_value[]`).
pub type FlagTable = &'static [(&'static str, u32)];

/// `PPM_AT_FDCWD`: the dirfd value meaning "relative to the working directory".
pub const PPM_AT_FDCWD: i64 = -100;

pub mod open {
    //! `PPM_O_*` open flags.
    pub const O_NONE: u32 = 0;
    pub const O_RDONLY: u32 = 1 << 0;
    pub const O_WRONLY: u32 = 1 << 1;
    pub const O_RDWR: u32 = O_RDONLY | O_WRONLY;
    pub const O_CREAT: u32 = 1 << 2;
    pub const O_APPEND: u32 = 1 << 3;
    pub const O_DSYNC: u32 = 1 << 4;
    pub const O_EXCL: u32 = 1 << 5;
    pub const O_NONBLOCK: u32 = 1 << 6;
    pub const O_SYNC: u32 = 1 << 7;
    pub const O_TRUNC: u32 = 1 << 8;
    pub const O_DIRECT: u32 = 1 << 9;
    pub const O_DIRECTORY: u32 = 1 << 10;
    pub const O_LARGEFILE: u32 = 1 << 11;
    pub const O_CLOEXEC: u32 = 1 << 12;
    pub const O_TMPFILE: u32 = 1 << 13;
    /// Set by the driver when the syscall created the file.
    pub const O_F_CREATED: u32 = 1 << 14;
    pub const FD_UPPER_LAYER: u32 = 1 << 15;
    pub const FD_LOWER_LAYER: u32 = 1 << 16;
}

pub mod mode {
    //! `PPM_S_*` file mode bits (equal to the POSIX bits).
    pub const S_IXOTH: u32 = 1 << 0;
    pub const S_IWOTH: u32 = 1 << 1;
    pub const S_IROTH: u32 = 1 << 2;
    pub const S_IXGRP: u32 = 1 << 3;
    pub const S_IWGRP: u32 = 1 << 4;
    pub const S_IRGRP: u32 = 1 << 5;
    pub const S_IXUSR: u32 = 1 << 6;
    pub const S_IWUSR: u32 = 1 << 7;
    pub const S_IRUSR: u32 = 1 << 8;
    pub const S_ISVTX: u32 = 1 << 9;
    pub const S_ISGID: u32 = 1 << 10;
    pub const S_ISUID: u32 = 1 << 11;
    pub const S_IFREG: u32 = 0o100000;
    pub const S_IFCHR: u32 = 0o020000;
    pub const S_IFBLK: u32 = 0o060000;
    pub const S_IFIFO: u32 = 0o010000;
    pub const S_IFSOCK: u32 = 0o140000;
}

pub mod clone {
    //! `PPM_CL_*` clone flags (also used for `setns`/`unshare` namespace types).
    pub const CLONE_FILES: u32 = 1 << 0;
    pub const CLONE_FS: u32 = 1 << 1;
    pub const CLONE_IO: u32 = 1 << 2;
    pub const CLONE_NEWIPC: u32 = 1 << 3;
    pub const CLONE_NEWNET: u32 = 1 << 4;
    pub const CLONE_NEWNS: u32 = 1 << 5;
    pub const CLONE_NEWPID: u32 = 1 << 6;
    pub const CLONE_NEWUTS: u32 = 1 << 7;
    pub const CLONE_PARENT: u32 = 1 << 8;
    pub const CLONE_PARENT_SETTID: u32 = 1 << 9;
    pub const CLONE_PTRACE: u32 = 1 << 10;
    pub const CLONE_SIGHAND: u32 = 1 << 11;
    pub const CLONE_SYSVSEM: u32 = 1 << 12;
    pub const CLONE_THREAD: u32 = 1 << 13;
    pub const CLONE_UNTRACED: u32 = 1 << 14;
    pub const CLONE_VM: u32 = 1 << 15;
    pub const CLONE_INVERTED: u32 = 1 << 16;
    pub const NAME_CHANGED: u32 = 1 << 17;
    pub const CLOSED: u32 = 1 << 18;
    pub const ACTIVE: u32 = 1 << 19;
    pub const CLONE_NEWUSER: u32 = 1 << 20;
    pub const PIPE_SRC: u32 = 1 << 21;
    pub const PIPE_DST: u32 = 1 << 22;
    pub const CLONE_CHILD_CLEARTID: u32 = 1 << 23;
    pub const CLONE_CHILD_SETTID: u32 = 1 << 24;
    pub const CLONE_SETTLS: u32 = 1 << 25;
    pub const CLONE_STOPPED: u32 = 1 << 26;
    pub const CLONE_VFORK: u32 = 1 << 27;
    pub const CLONE_NEWCGROUP: u32 = 1 << 28;
    pub const CHILD_IN_PIDNS: u32 = 1 << 29;
    pub const IS_MAIN_THREAD: u32 = 1 << 30;
}

pub mod execve {
    //! `PPM_EXE_*` flags of the execve family's `flags` parameter.
    pub const EXE_WRITABLE: u32 = 1 << 0;
    pub const EXE_UPPER_LAYER: u32 = 1 << 1;
    pub const EXE_FROM_MEMFD: u32 = 1 << 2;
    pub const EXE_LOWER_LAYER: u32 = 1 << 3;
}

use self::clone::*;
use self::mode::*;
use self::open::*;

pub static SOCKET_FAMILIES: FlagTable = &[
    ("AF_NFC", 39),
    ("AF_ALG", 38),
    ("AF_CAIF", 37),
    ("AF_IEEE802154", 36),
    ("AF_PHONET", 35),
    ("AF_ISDN", 34),
    ("AF_RXRPC", 33),
    ("AF_IUCV", 32),
    ("AF_BLUETOOTH", 31),
    ("AF_TIPC", 30),
    ("AF_CAN", 29),
    ("AF_LLC", 26),
    ("AF_WANPIPE", 25),
    ("AF_PPPOX", 24),
    ("AF_IRDA", 23),
    ("AF_SNA", 22),
    ("AF_RDS", 21),
    ("AF_ATMSVC", 20),
    ("AF_ECONET", 19),
    ("AF_ASH", 18),
    ("AF_PACKET", 17),
    ("AF_ROUTE", 16),
    ("AF_NETLINK", 16),
    ("AF_KEY", 15),
    ("AF_SECURITY", 14),
    ("AF_NETBEUI", 13),
    ("AF_DECnet", 12),
    ("AF_ROSE", 11),
    ("AF_INET6", 10),
    ("AF_X25", 9),
    ("AF_ATMPVC", 8),
    ("AF_BRIDGE", 7),
    ("AF_NETROM", 6),
    ("AF_APPLETALK", 5),
    ("AF_IPX", 4),
    ("AF_AX25", 3),
    ("AF_INET", 2),
    ("AF_LOCAL", 1),
    ("AF_UNIX", 1),
    ("AF_UNSPEC", 0),
];

pub static FILE_FLAGS: FlagTable = &[
    ("O_LARGEFILE", O_LARGEFILE),
    ("O_DIRECTORY", O_DIRECTORY),
    ("O_DIRECT", O_DIRECT),
    ("O_TRUNC", O_TRUNC),
    ("O_SYNC", O_SYNC),
    ("O_NONBLOCK", O_NONBLOCK),
    ("O_EXCL", O_EXCL),
    ("O_DSYNC", O_DSYNC),
    ("O_APPEND", O_APPEND),
    ("O_CREAT", O_CREAT),
    ("O_RDWR", O_RDWR),
    ("O_WRONLY", O_WRONLY),
    ("O_RDONLY", O_RDONLY),
    ("O_CLOEXEC", O_CLOEXEC),
    ("O_NONE", O_NONE),
    ("O_TMPFILE", O_TMPFILE),
    ("O_F_CREATED", O_F_CREATED),
    ("FD_UPPER_LAYER", FD_UPPER_LAYER),
    ("FD_LOWER_LAYER", FD_LOWER_LAYER),
];

pub static CREAT_FLAGS: FlagTable = &[("FD_UPPER_LAYER_CREAT", 1 << 0), ("FD_LOWER_LAYER_CREAT", 1 << 1)];

pub static FLOCK_FLAGS: FlagTable = &[
    ("LOCK_SH", 1 << 0),
    ("LOCK_EX", 1 << 1),
    ("LOCK_NB", 1 << 2),
    ("LOCK_UN", 1 << 3),
    ("LOCK_NONE", 0),
];

pub static CLONE_FLAGS: FlagTable = &[
    ("CLONE_FILES", CLONE_FILES),
    ("CLONE_FS", CLONE_FS),
    ("CLONE_IO", CLONE_IO),
    ("CLONE_NEWIPC", CLONE_NEWIPC),
    ("CLONE_NEWNET", CLONE_NEWNET),
    ("CLONE_NEWNS", CLONE_NEWNS),
    ("CLONE_NEWPID", CLONE_NEWPID),
    ("CLONE_NEWUTS", CLONE_NEWUTS),
    ("CLONE_PARENT", CLONE_PARENT),
    ("CLONE_PARENT_SETTID", CLONE_PARENT_SETTID),
    ("CLONE_PTRACE", CLONE_PTRACE),
    ("CLONE_SIGHAND", CLONE_SIGHAND),
    ("CLONE_SYSVSEM", CLONE_SYSVSEM),
    ("CLONE_THREAD", CLONE_THREAD),
    ("CLONE_UNTRACED", CLONE_UNTRACED),
    ("CLONE_VM", CLONE_VM),
    ("CLONE_INVERTED", CLONE_INVERTED),
    ("NAME_CHANGED", NAME_CHANGED),
    ("CLOSED", CLOSED),
    ("CLONE_NEWUSER", CLONE_NEWUSER),
    ("CLONE_CHILD_CLEARTID", CLONE_CHILD_CLEARTID),
    ("CLONE_CHILD_SETTID", CLONE_CHILD_SETTID),
    ("CLONE_SETTLS", CLONE_SETTLS),
    ("CLONE_STOPPED", CLONE_STOPPED),
    ("CLONE_VFORK", CLONE_VFORK),
    ("CLONE_NEWCGROUP", CLONE_NEWCGROUP),
    ("CLONE_CHILD_IN_PIDNS", CHILD_IN_PIDNS),
];

pub static FUTEX_OPERATIONS: FlagTable = &[
    ("FUTEX_CLOCK_REALTIME", 256),
    ("FUTEX_PRIVATE_FLAG", 128),
    ("FUTEX_CMP_REQUEUE_PI", 12),
    ("FUTEX_WAIT_REQUEUE_PI", 11),
    ("FUTEX_WAKE_BITSET", 10),
    ("FUTEX_WAIT_BITSET", 9),
    ("FUTEX_TRYLOCK_PI", 8),
    ("FUTEX_UNLOCK_PI", 7),
    ("FUTEX_LOCK_PI", 6),
    ("FUTEX_WAKE_OP", 5),
    ("FUTEX_CMP_REQUEUE", 4),
    ("FUTEX_REQUEUE", 3),
    ("FUTEX_FD", 2),
    ("FUTEX_WAKE", 1),
    ("FUTEX_WAIT", 0),
];

pub static POLL_FLAGS: FlagTable = &[
    ("POLLIN", 1 << 0),
    ("POLLPRI", 1 << 1),
    ("POLLOUT", 1 << 2),
    ("POLLRDHUP", 1 << 3),
    ("POLLERR", 1 << 4),
    ("POLLHUP", 1 << 5),
    ("POLLNVAL", 1 << 6),
    ("POLLRDNORM", 1 << 7),
    ("POLLRDBAND", 1 << 8),
    ("POLLWRNORM", 1 << 9),
    ("POLLWRBAND", 1 << 10),
];

pub static MOUNT_FLAGS: FlagTable = &[
    ("RDONLY", 1 << 0),
    ("NOSUID", 1 << 1),
    ("NODEV", 1 << 2),
    ("NOEXEC", 1 << 3),
    ("SYNCHRONOUS", 1 << 4),
    ("REMOUNT", 1 << 5),
    ("MANDLOCK", 1 << 6),
    ("DIRSYNC", 1 << 7),
    ("NOATIME", 1 << 10),
    ("NODIRATIME", 1 << 11),
    ("BIND", 1 << 12),
    ("MOVE", 1 << 13),
    ("REC", 1 << 14),
    ("SILENT", 1 << 15),
    ("POSIXACL", 1 << 16),
    ("UNBINDABLE", 1 << 17),
    ("PRIVATE", 1 << 18),
    ("SLAVE", 1 << 19),
    ("SHARED", 1 << 20),
    ("RELATIME", 1 << 21),
    ("KERNMOUNT", 1 << 22),
    ("I_VERSION", 1 << 23),
    ("STRICTATIME", 1 << 24),
    ("LAZYTIME", 1 << 25),
    ("NOSEC", 1 << 28),
    ("BORN", 1 << 29),
    ("ACTIVE", 1 << 30),
    ("NOUSER", 1 << 31),
];

pub static UMOUNT_FLAGS: FlagTable = &[
    ("FORCE", 1 << 0),
    ("DETACH", 1 << 1),
    ("EXPIRE", 1 << 2),
    ("NOFOLLOW", 1 << 3),
];

pub static LSEEK_WHENCE: FlagTable = &[("SEEK_END", 2), ("SEEK_CUR", 1), ("SEEK_SET", 0)];

pub static SHUTDOWN_HOW: FlagTable = &[
    ("SHUT_UNKNOWN", 0xffff),
    ("SHUT_RDWR", 2),
    ("SHUT_WR", 1),
    ("SHUT_RD", 0),
];

pub static RLIMIT_RESOURCES: FlagTable = &[
    ("RLIMIT_UNKNOWN", 255),
    ("RLIMIT_RTTIME", 15),
    ("RLIMIT_RTPRIO", 14),
    ("RLIMIT_NICE", 13),
    ("RLIMIT_MSGQUEUE", 12),
    ("RLIMIT_SIGPENDING", 11),
    ("RLIMIT_LOCKS", 10),
    ("RLIMIT_AS", 9),
    ("RLIMIT_MEMLOCK", 8),
    ("RLIMIT_NOFILE", 7),
    ("RLIMIT_NPROC", 6),
    ("RLIMIT_RSS", 5),
    ("RLIMIT_CORE", 4),
    ("RLIMIT_STACK", 3),
    ("RLIMIT_DATA", 2),
    ("RLIMIT_FSIZE", 1),
    ("RLIMIT_CPU", 0),
];

/// The 64-bit drivers' table (the `F_*LK64` entries exist only on 32-bit builds).
pub static FCNTL_COMMANDS: FlagTable = &[
    ("F_GETPIPE_SZ", 29),
    ("F_SETPIPE_SZ", 28),
    ("F_NOTIFY", 27),
    ("F_DUPFD_CLOEXEC", 26),
    ("F_CANCELLK", 25),
    ("F_GETLEASE", 24),
    ("F_SETLEASE", 23),
    ("F_GETOWN_EX", 22),
    ("F_SETOWN_EX", 21),
    ("F_GETSIG", 15),
    ("F_SETSIG", 13),
    ("F_GETOWN", 12),
    ("F_SETOWN", 10),
    ("F_SETLKW", 9),
    ("F_SETLK", 8),
    ("F_GETLK", 6),
    ("F_SETFL", 5),
    ("F_GETFL", 4),
    ("F_SETFD", 3),
    ("F_GETFD", 2),
    ("F_DUPFD", 1),
    ("F_OFD_GETLK", 30),
    ("F_OFD_SETLK", 31),
    ("F_OFD_SETLKW", 32),
    ("UNKNOWN", 0),
];

pub static SOCKOPT_LEVELS: FlagTable = &[("SOL_SOCKET", 1), ("SOL_TCP", 2), ("UNKNOWN", 0)];

pub static SOCKOPT_OPTIONS: FlagTable = &[
    ("SO_COOKIE", 53),
    ("SO_MEMINFO", 52),
    ("SO_PEERGROUPS", 51),
    ("SO_ATTACH_BPF", 50),
    ("SO_INCOMING_CPU", 49),
    ("SO_BPF_EXTENSIONS", 48),
    ("SO_MAX_PACING_RATE", 47),
    ("SO_BUSY_POLL", 46),
    ("SO_SELECT_ERR_QUEUE", 45),
    ("SO_LOCK_FILTER", 44),
    ("SO_NOFCS", 43),
    ("SO_PEEK_OFF", 42),
    ("SO_WIFI_STATUS", 41),
    ("SO_RXQ_OVFL", 40),
    ("SO_DOMAIN", 39),
    ("SO_PROTOCOL", 38),
    ("SO_TIMESTAMPING", 37),
    ("SO_MARK", 36),
    ("SO_TIMESTAMPNS", 35),
    ("SO_PASSSEC", 34),
    ("SO_PEERSEC", 31),
    ("SO_ACCEPTCONN", 30),
    ("SO_TIMESTAMP", 29),
    ("SO_PEERNAME", 28),
    ("SO_DETACH_FILTER", 27),
    ("SO_ATTACH_FILTER", 26),
    ("SO_BINDTODEVICE", 25),
    ("SO_SECURITY_ENCRYPTION_NETWORK", 24),
    ("SO_SECURITY_ENCRYPTION_TRANSPORT", 23),
    ("SO_SECURITY_AUTHENTICATION", 22),
    ("SO_SNDTIMEO", 21),
    ("SO_RCVTIMEO", 20),
    ("SO_SNDLOWAT", 19),
    ("SO_RCVLOWAT", 18),
    ("SO_PEERCRED", 17),
    ("SO_PASSCRED", 16),
    ("SO_REUSEPORT", 15),
    ("SO_BSDCOMPAT", 14),
    ("SO_LINGER", 13),
    ("SO_PRIORITY", 12),
    ("SO_NO_CHECK", 11),
    ("SO_OOBINLINE", 10),
    ("SO_KEEPALIVE", 9),
    ("SO_RCVBUFFORCE", 33),
    ("SO_SNDBUFFORCE", 32),
    ("SO_RCVBUF", 8),
    ("SO_SNDBUF", 7),
    ("SO_BROADCAST", 6),
    ("SO_DONTROUTE", 5),
    ("SO_ERROR", 4),
    ("SO_TYPE", 3),
    ("SO_REUSEADDR", 2),
    ("SO_DEBUG", 1),
    ("UNKNOWN", 0),
];

pub static PTRACE_REQUESTS: FlagTable = &[
    ("PTRACE_SINGLEBLOCK", 38),
    ("PTRACE_SYSEMU_SINGLESTEP", 37),
    ("PTRACE_SYSEMU", 36),
    ("PTRACE_ARCH_PRCTL", 35),
    ("PTRACE_SET_THREAD_AREA", 34),
    ("PTRACE_GET_THREAD_AREA", 33),
    ("PTRACE_OLDSETOPTIONS", 32),
    ("PTRACE_SETFPXREGS", 31),
    ("PTRACE_GETFPXREGS", 30),
    ("PTRACE_SETFPREGS", 29),
    ("PTRACE_GETFPREGS", 28),
    ("PTRACE_SETREGS", 27),
    ("PTRACE_GETREGS", 26),
    ("PTRACE_SETSIGMASK", 25),
    ("PTRACE_GETSIGMASK", 24),
    ("PTRACE_PEEKSIGINFO", 23),
    ("PTRACE_LISTEN", 22),
    ("PTRACE_INTERRUPT", 21),
    ("PTRACE_SEIZE", 20),
    ("PTRACE_SETREGSET", 19),
    ("PTRACE_GETREGSET", 18),
    ("PTRACE_SETSIGINFO", 17),
    ("PTRACE_GETSIGINFO", 16),
    ("PTRACE_GETEVENTMSG", 15),
    ("PTRACE_SETOPTIONS", 14),
    ("PTRACE_SYSCALL", 13),
    ("PTRACE_DETACH", 12),
    ("PTRACE_ATTACH", 11),
    ("PTRACE_SINGLESTEP", 10),
    ("PTRACE_KILL", 9),
    ("PTRACE_CONT", 8),
    ("PTRACE_POKEUSR", 7),
    ("PTRACE_POKEDATA", 6),
    ("PTRACE_POKETEXT", 5),
    ("PTRACE_PEEKUSR", 4),
    ("PTRACE_PEEKDATA", 3),
    ("PTRACE_PEEKTEXT", 2),
    ("PTRACE_TRACEME", 1),
    ("PTRACE_UNKNOWN", 0),
];

pub static PROT_FLAGS: FlagTable = &[
    ("PROT_READ", 1 << 0),
    ("PROT_WRITE", 1 << 1),
    ("PROT_EXEC", 1 << 2),
    ("PROT_SEM", 1 << 3),
    ("PROT_GROWSDOWN", 1 << 4),
    ("PROT_GROWSUP", 1 << 5),
    ("PROT_SAO", 1 << 6),
    ("PROT_NONE", 0),
];

pub static MMAP_FLAGS: FlagTable = &[
    ("MAP_SHARED", 1 << 0),
    ("MAP_PRIVATE", 1 << 1),
    ("MAP_FIXED", 1 << 2),
    ("MAP_ANONYMOUS", 1 << 3),
    ("MAP_32BIT", 1 << 4),
    ("MAP_RENAME", 1 << 5),
    ("MAP_NORESERVE", 1 << 6),
    ("MAP_POPULATE", 1 << 7),
    ("MAP_NONBLOCK", 1 << 8),
    ("MAP_GROWSDOWN", 1 << 9),
    ("MAP_DENYWRITE", 1 << 10),
    ("MAP_EXECUTABLE", 1 << 11),
    ("MAP_INHERIT", 1 << 12),
    ("MAP_FILE", 1 << 13),
    ("MAP_LOCKED", 1 << 14),
];

pub static SPLICE_FLAGS: FlagTable = &[
    ("SPLICE_F_MOVE", 1 << 0),
    ("SPLICE_F_NONBLOCK", 1 << 1),
    ("SPLICE_F_MORE", 1 << 2),
    ("SPLICE_F_GIFT", 1 << 3),
];

pub static QUOTACTL_DQI_FLAGS: FlagTable = &[("DQF_NONE", 1 << 0), ("V1_DQF_RSQUASH", 1 << 1)];

pub static QUOTACTL_CMDS: FlagTable = &[
    ("Q_QUOTAON", 1 << 0),
    ("Q_QUOTAOFF", 1 << 1),
    ("Q_GETFMT", 1 << 2),
    ("Q_GETINFO", 1 << 3),
    ("Q_SETINFO", 1 << 4),
    ("Q_GETQUOTA", 1 << 5),
    ("Q_SETQUOTA", 1 << 6),
    ("Q_SYNC", 1 << 7),
    ("Q_XQUOTAON", 1 << 8),
    ("Q_XQUOTAOFF", 1 << 9),
    ("Q_XGETQUOTA", 1 << 10),
    ("Q_XSETQLIM", 1 << 11),
    ("Q_XGETQSTAT", 1 << 12),
    ("Q_XQUOTARM", 1 << 13),
    ("Q_XQUOTASYNC", 1 << 14),
];

pub static QUOTACTL_TYPES: FlagTable = &[("USRQUOTA", 1 << 0), ("GRPQUOTA", 1 << 1)];

pub static QUOTACTL_QUOTA_FMTS: FlagTable = &[
    ("QFMT_NOT_USED", 1 << 0),
    ("QFMT_VFS_OLD", 1 << 1),
    ("QFMT_VFS_V0", 1 << 2),
    ("QFMT_VFS_V1", 1 << 3),
];

pub static SEMOP_FLAGS: FlagTable = &[("IPC_NOWAIT", 1 << 0), ("SEM_UNDO", 1 << 1)];

pub static SEMGET_FLAGS: FlagTable = &[("IPC_EXCL", 1 << 14), ("IPC_CREAT", 1 << 13)];

pub static SEMCTL_COMMANDS: FlagTable = &[
    ("IPC_STAT", 1 << 0),
    ("IPC_SET", 1 << 1),
    ("IPC_RMID", 1 << 2),
    ("IPC_INFO", 1 << 3),
    ("SEM_INFO", 1 << 4),
    ("SEM_STAT", 1 << 5),
    ("GETALL", 1 << 6),
    ("GETNCNT", 1 << 7),
    ("GETPID", 1 << 8),
    ("GETVAL", 1 << 9),
    ("GETZCNT", 1 << 10),
    ("SETALL", 1 << 11),
    ("SETVAL", 1 << 12),
];

pub static ACCESS_FLAGS: FlagTable = &[("F_OK", 0), ("R_OK", 1 << 2), ("W_OK", 1 << 1), ("X_OK", 1 << 0)];

pub static PF_FLAGS: FlagTable = &[
    ("PROTECTION_VIOLATION", 1 << 0),
    ("PAGE_NOT_PRESENT", 1 << 1),
    ("WRITE_ACCESS", 1 << 2),
    ("READ_ACCESS", 1 << 3),
    ("USER_FAULT", 1 << 4),
    ("SUPERVISOR_FAULT", 1 << 5),
    ("RESERVED_PAGE", 1 << 6),
    ("INSTRUCTION_FETCH", 1 << 7),
];

pub static UNLINKAT_FLAGS: FlagTable = &[("AT_REMOVEDIR", 0x200)];

pub static LINKAT_FLAGS: FlagTable = &[("AT_SYMLINK_FOLLOW", 0x400), ("AT_EMPTY_PATH", 0x1000)];

pub static NEWFSTATAT_FLAGS: FlagTable = &[
    ("AT_EMPTY_PATH", 0x1000),
    ("AT_NO_AUTOMOUNT", 0x800),
    ("AT_SYMLINK_NOFOLLOW", 0x100),
];

pub static CHMOD_MODE: FlagTable = &[
    ("S_IXOTH", S_IXOTH),
    ("S_IWOTH", S_IWOTH),
    ("S_IROTH", S_IROTH),
    ("S_IXGRP", S_IXGRP),
    ("S_IWGRP", S_IWGRP),
    ("S_IRGRP", S_IRGRP),
    ("S_IXUSR", S_IXUSR),
    ("S_IWUSR", S_IWUSR),
    ("S_IRUSR", S_IRUSR),
    ("S_ISVTX", S_ISVTX),
    ("S_ISGID", S_ISGID),
    ("S_ISUID", S_ISUID),
];

/// As in the drivers: the `AT_SYMLINK_NOFOLLOW` name carries the `AT_SYMLINK_FOLLOW` value.
pub static FCHOWNAT_FLAGS: FlagTable = &[("AT_SYMLINK_NOFOLLOW", 0x400), ("AT_EMPTY_PATH", 0x1000)];

pub static RENAMEAT2_FLAGS: FlagTable = &[
    ("RENAME_NOREPLACE", 1 << 0),
    ("RENAME_EXCHANGE", 1 << 1),
    ("RENAME_WHITEOUT", 1 << 2),
];

pub static OPENAT2_FLAGS: FlagTable = &[
    ("RESOLVE_BENEATH", 1 << 0),
    ("RESOLVE_IN_ROOT", 1 << 1),
    ("RESOLVE_NO_MAGICLINKS", 1 << 2),
    ("RESOLVE_NO_SYMLINKS", 1 << 3),
    ("RESOLVE_NO_XDEV", 1 << 4),
    ("RESOLVE_CACHED", 1 << 5),
];

pub static EXECVE_FLAGS: FlagTable = &[
    ("EXE_WRITABLE", execve::EXE_WRITABLE),
    ("EXE_UPPER_LAYER", execve::EXE_UPPER_LAYER),
    ("EXE_FROM_MEMFD", execve::EXE_FROM_MEMFD),
    ("EXE_LOWER_LAYER", execve::EXE_LOWER_LAYER),
];

pub static EXECVEAT_FLAGS: FlagTable = &[("AT_EMPTY_PATH", 1 << 0), ("AT_SYMLINK_NOFOLLOW", 1 << 1)];

/// `IORING_SETUP_ATTACH_RW` is the drivers' spelling.
pub static IO_URING_SETUP_FLAGS: FlagTable = &[
    ("IORING_SETUP_IOPOLL", 1 << 0),
    ("IORING_SETUP_SQPOLL", 1 << 1),
    ("IORING_SQ_NEED_WAKEUP", 1 << 2),
    ("IORING_SETUP_SQ_AFF", 1 << 3),
    ("IORING_SETUP_CQSIZE", 1 << 4),
    ("IORING_SETUP_CLAMP", 1 << 5),
    ("IORING_SETUP_ATTACH_RW", 1 << 6),
    ("IORING_SETUP_R_DISABLED", 1 << 7),
];

pub static IO_URING_SETUP_FEATS: FlagTable = &[
    ("IORING_FEAT_SINGLE_MMAP", 1 << 0),
    ("IORING_FEAT_NODROP", 1 << 1),
    ("IORING_FEAT_SUBMIT_STABLE", 1 << 2),
    ("IORING_FEAT_RW_CUR_POS", 1 << 3),
    ("IORING_FEAT_CUR_PERSONALITY", 1 << 4),
    ("IORING_FEAT_FAST_POLL", 1 << 5),
    ("IORING_FEAT_POLL_32BITS", 1 << 6),
    ("IORING_FEAT_SQPOLL_NONFIXED", 1 << 7),
    ("IORING_FEAT_ENTER_EXT_ARG", 1 << 8),
    ("IORING_FEAT_NATIVE_WORKERS", 1 << 9),
    ("IORING_FEAT_RSRC_TAGS", 1 << 10),
];

pub static IO_URING_ENTER_FLAGS: FlagTable = &[
    ("IORING_ENTER_GETEVENTS", 1 << 0),
    ("IORING_ENTER_SQ_WAKEUP", 1 << 1),
    ("IORING_ENTER_SQ_WAIT", 1 << 2),
    ("IORING_ENTER_EXT_ARG", 1 << 3),
];

pub static IO_URING_REGISTER_OPCODES: FlagTable = &[
    ("IORING_REGISTER_BUFFERS", 0),
    ("IORING_UNREGISTER_BUFFERS", 1),
    ("IORING_REGISTER_FILES", 2),
    ("IORING_UNREGISTER_FILES", 3),
    ("IORING_REGISTER_EVENTFD", 4),
    ("IORING_UNREGISTER_EVENTFD", 5),
    ("IORING_REGISTER_FILES_UPDATE", 6),
    ("IORING_REGISTER_EVENTFD_ASYNC", 7),
    ("IORING_REGISTER_PROBE", 8),
    ("IORING_REGISTER_PERSONALITY", 9),
    ("IORING_UNREGISTER_PERSONALITY", 10),
    ("IORING_REGISTER_RESTRICTIONS", 11),
    ("IORING_REGISTER_ENABLE_RINGS", 12),
    ("IORING_REGISTER_FILES2", 13),
    ("IORING_REGISTER_FILES_UPDATE2", 14),
    ("IORING_REGISTER_BUFFERS2", 15),
    ("IORING_REGISTER_BUFFERS_UPDATE", 16),
    ("IORING_REGISTER_IOWQ_AFF", 17),
    ("IORING_UNREGISTER_IOWQ_AFF", 18),
    ("IORING_REGISTER_IOWQ_MAX_WORKERS", 19),
    ("IORING_REGISTER_RING_FDS", 20),
    ("IORING_UNREGISTER_RING_FDS", 21),
];

pub static MLOCKALL_FLAGS: FlagTable = &[("MCL_CURRENT", 1 << 0), ("MCL_FUTURE", 1 << 1), ("MCL_ONFAULT", 1 << 2)];

pub static MLOCK2_FLAGS: FlagTable = &[("MLOCK_ONFAULT", 1 << 0)];

pub static FSCONFIG_CMDS: FlagTable = &[
    ("FSCONFIG_SET_FLAG", 0),
    ("FSCONFIG_SET_STRING", 1),
    ("FSCONFIG_SET_BINARY", 2),
    ("FSCONFIG_SET_PATH", 3),
    ("FSCONFIG_SET_PATH_EMPTY", 4),
    ("FSCONFIG_SET_FD", 5),
    ("FSCONFIG_CMD_CREATE", 6),
    ("FSCONFIG_CMD_RECONFIGURE", 7),
];

pub static EPOLL_CREATE1_FLAGS: FlagTable = &[("EPOLL_CLOEXEC", 1 << 0)];

/// The drivers list `PR_MCE_KILL` twice; the duplicate is kept so enum rendering matches libsinsp.
pub static PRCTL_OPTIONS: FlagTable = &[
    ("PR_GET_DUMPABLE", 3),
    ("PR_SET_DUMPABLE", 4),
    ("PR_GET_KEEPCAPS", 7),
    ("PR_SET_KEEPCAPS", 8),
    ("PR_SET_NAME", 15),
    ("PR_GET_NAME", 16),
    ("PR_GET_SECCOMP", 21),
    ("PR_SET_SECCOMP", 22),
    ("PR_CAPBSET_READ", 23),
    ("PR_CAPBSET_DROP", 24),
    ("PR_GET_SECUREBITS", 27),
    ("PR_SET_SECUREBITS", 28),
    ("PR_MCE_KILL", 33),
    ("PR_MCE_KILL", 33),
    ("PR_SET_MM", 35),
    ("PR_SET_CHILD_SUBREAPER", 36),
    ("PR_GET_CHILD_SUBREAPER", 37),
    ("PR_SET_NO_NEW_PRIVS", 38),
    ("PR_GET_NO_NEW_PRIVS", 39),
    ("PR_GET_TID_ADDRESS", 40),
    ("PR_SET_THP_DISABLE", 41),
    ("PR_GET_THP_DISABLE", 42),
    ("PR_CAP_AMBIENT", 47),
];

pub static MEMFD_CREATE_FLAGS: FlagTable = &[
    ("MFD_CLOEXEC", 1 << 0),
    ("MFD_ALLOW_SEALING", 1 << 1),
    ("MFD_HUGETLB", 1 << 2),
];

pub static PIDFD_OPEN_FLAGS: FlagTable = &[("PIDFD_NONBLOCK", 1 << 0)];

pub static MKNOD_MODE: FlagTable = &[
    ("S_IXOTH", S_IXOTH),
    ("S_IWOTH", S_IWOTH),
    ("S_IROTH", S_IROTH),
    ("S_IXGRP", S_IXGRP),
    ("S_IWGRP", S_IWGRP),
    ("S_IRGRP", S_IRGRP),
    ("S_IXUSR", S_IXUSR),
    ("S_IWUSR", S_IWUSR),
    ("S_IRUSR", S_IRUSR),
    ("S_ISVTX", S_ISVTX),
    ("S_ISGID", S_ISGID),
    ("S_ISUID", S_ISUID),
    ("S_IFREG", S_IFREG),
    ("S_IFCHR", S_IFCHR),
    ("S_IFBLK", S_IFBLK),
    ("S_IFIFO", S_IFIFO),
    ("S_IFSOCK", S_IFSOCK),
];

pub static BPF_COMMANDS: FlagTable = &[
    ("BPF_MAP_CREATE", 0),
    ("BPF_MAP_LOOKUP_ELEM", 1),
    ("BPF_MAP_UPDATE_ELEM", 2),
    ("BPF_MAP_DELETE_ELEM", 3),
    ("BPF_MAP_GET_NEXT_KEY", 4),
    ("BPF_PROG_LOAD", 5),
    ("BPF_OBJ_PIN", 6),
    ("BPF_OBJ_GET", 7),
    ("BPF_PROG_ATTACH", 8),
    ("BPF_PROG_DETACH", 9),
    ("BPF_PROG_TEST_RUN", 10),
    ("BPF_PROG_RUN", 10),
    ("BPF_PROG_GET_NEXT_ID", 11),
    ("BPF_MAP_GET_NEXT_ID", 12),
    ("BPF_PROG_GET_FD_BY_ID", 13),
    ("BPF_MAP_GET_FD_BY_ID", 14),
    ("BPF_OBJ_GET_INFO_BY_FD", 15),
    ("BPF_PROG_QUERY", 16),
    ("BPF_RAW_TRACEPOINT_OPEN", 17),
    ("BPF_BTF_LOAD", 18),
    ("BPF_BTF_GET_FD_BY_ID", 19),
    ("BPF_TASK_FD_QUERY", 20),
    ("BPF_MAP_LOOKUP_AND_DELETE_ELEM", 21),
    ("BPF_MAP_FREEZE", 22),
    ("BPF_BTF_GET_NEXT_ID", 23),
    ("BPF_MAP_LOOKUP_BATCH", 24),
    ("BPF_MAP_LOOKUP_AND_DELETE_BATCH", 25),
    ("BPF_MAP_UPDATE_BATCH", 26),
    ("BPF_MAP_DELETE_BATCH", 27),
    ("BPF_LINK_CREATE", 28),
    ("BPF_LINK_UPDATE", 29),
    ("BPF_LINK_GET_FD_BY_ID", 30),
    ("BPF_LINK_GET_NEXT_ID", 31),
    ("BPF_ENABLE_STATS", 32),
    ("BPF_ITER_CREATE", 33),
    ("BPF_LINK_DETACH", 34),
    ("BPF_PROG_BIND_MAP", 35),
];

pub static DELETE_MODULE_FLAGS: FlagTable = &[("O_NONBLOCK", 1 << 1), ("O_TRUNC", 1 << 0)];

pub static FINIT_MODULE_FLAGS: FlagTable = &[
    ("MODULE_INIT_IGNORE_MODVERSIONS", 1),
    ("MODULE_INIT_IGNORE_VERMAGIC", 2),
    ("MODULE_INIT_COMPRESSED_FILE", 4),
];

/// Kinds of anonymous-inode fds reported by the fd iterator. The drivers define them as an enum in this order; the
/// numeric values are taken to be the enum positions.
pub static ANON_INODE_FD_TYPES: FlagTable = &[
    ("ANON_INODE_FD_TYPE_UNKNOWN", 0),
    ("ANON_INODE_FD_TYPE_EVENTFD", 1),
    ("ANON_INODE_FD_TYPE_EVENTPOLL", 2),
    ("ANON_INODE_FD_TYPE_INOTIFY", 3),
    ("ANON_INODE_FD_TYPE_SIGNALFD", 4),
    ("ANON_INODE_FD_TYPE_TIMERFD", 5),
    ("ANON_INODE_FD_TYPE_IO_URING", 6),
    ("ANON_INODE_FD_TYPE_USERFAULTFD", 7),
    ("ANON_INODE_FD_TYPE_PIDFD", 8),
    ("ANON_INODE_FD_TYPE_BPF_MAP", 9),
    ("ANON_INODE_FD_TYPE_BPF_PROG", 10),
    ("ANON_INODE_FD_TYPE_BPF_LINK", 11),
    ("ANON_INODE_FD_TYPE_PERF_EVENT", 12),
    ("ANON_INODE_FD_TYPE_DMABUF", 13),
];

/// `close_range(2)` flags with the kernel's bit values (the drivers pass these through).
pub static CLOSE_RANGE_FLAGS: FlagTable = &[("CLOSE_RANGE_UNSHARE", 1 << 1), ("CLOSE_RANGE_CLOEXEC", 1 << 2)];

/// `keyctl(2)` operations, numbered as the kernel numbers them.
pub static KEYCTL_OPERATIONS: FlagTable = &[
    ("KEYCTL_GET_KEYRING_ID", 0),
    ("KEYCTL_JOIN_SESSION_KEYRING", 1),
    ("KEYCTL_UPDATE", 2),
    ("KEYCTL_REVOKE", 3),
    ("KEYCTL_CHOWN", 4),
    ("KEYCTL_SETPERM", 5),
    ("KEYCTL_DESCRIBE", 6),
    ("KEYCTL_CLEAR", 7),
    ("KEYCTL_LINK", 8),
    ("KEYCTL_UNLINK", 9),
    ("KEYCTL_SEARCH", 10),
    ("KEYCTL_READ", 11),
    ("KEYCTL_INSTANTIATE", 12),
    ("KEYCTL_NEGATE", 13),
    ("KEYCTL_SET_REQKEY_KEYRING", 14),
    ("KEYCTL_SET_TIMEOUT", 15),
    ("KEYCTL_ASSUME_AUTHORITY", 16),
    ("KEYCTL_GET_SECURITY", 17),
    ("KEYCTL_SESSION_TO_PARENT", 18),
    ("KEYCTL_REJECT", 19),
    ("KEYCTL_INSTANTIATE_IOV", 20),
    ("KEYCTL_INVALIDATE", 21),
    ("KEYCTL_GET_PERSISTENT", 22),
    ("KEYCTL_DH_COMPUTE", 23),
    ("KEYCTL_PKEY_QUERY", 24),
    ("KEYCTL_PKEY_ENCRYPT", 25),
    ("KEYCTL_PKEY_DECRYPT", 26),
    ("KEYCTL_PKEY_SIGN", 27),
    ("KEYCTL_PKEY_VERIFY", 28),
    ("KEYCTL_RESTRICT_KEYRING", 29),
    ("KEYCTL_MOVE", 30),
    ("KEYCTL_CAPABILITIES", 31),
    ("KEYCTL_WATCH_KEY", 32),
];

/// Which table each flag, enum-flag and mode parameter uses, by event name and parameter name (every version of an
/// event shares its parameters' tables).
static PARAM_TABLES: &[(&str, &str, FlagTable)] = &[
    ("open", "flags", FILE_FLAGS),
    ("openat", "flags", FILE_FLAGS),
    ("openat2", "flags", FILE_FLAGS),
    ("openat2", "resolve", OPENAT2_FLAGS),
    ("open_by_handle_at", "flags", FILE_FLAGS),
    ("creat", "creat_flags", CREAT_FLAGS),
    ("task_file_regular", "flags", FILE_FLAGS),
    ("pipe2", "flags", FILE_FLAGS),
    ("dup3", "flags", FILE_FLAGS),
    ("inotify_init1", "flags", FILE_FLAGS),
    ("eventfd2", "flags", FILE_FLAGS),
    ("signalfd4", "flags", FILE_FLAGS),
    ("userfaultfd", "flags", FILE_FLAGS),
    ("socket", "flags", FILE_FLAGS),
    ("socket", "domain", SOCKET_FAMILIES),
    ("socketpair", "domain", SOCKET_FAMILIES),
    ("shutdown", "how", SHUTDOWN_HOW),
    ("setsockopt", "level", SOCKOPT_LEVELS),
    ("setsockopt", "optname", SOCKOPT_OPTIONS),
    ("getsockopt", "level", SOCKOPT_LEVELS),
    ("getsockopt", "optname", SOCKOPT_OPTIONS),
    ("futex", "op", FUTEX_OPERATIONS),
    ("lseek", "whence", LSEEK_WHENCE),
    ("llseek", "whence", LSEEK_WHENCE),
    ("getrlimit", "resource", RLIMIT_RESOURCES),
    ("setrlimit", "resource", RLIMIT_RESOURCES),
    ("prlimit", "resource", RLIMIT_RESOURCES),
    ("fcntl", "cmd", FCNTL_COMMANDS),
    ("clone", "flags", CLONE_FLAGS),
    ("clone3", "flags", CLONE_FLAGS),
    ("fork", "flags", CLONE_FLAGS),
    ("vfork", "flags", CLONE_FLAGS),
    ("setns", "nstype", CLONE_FLAGS),
    ("unshare", "flags", CLONE_FLAGS),
    ("execve", "flags", EXECVE_FLAGS),
    ("execveat", "flags", EXECVEAT_FLAGS),
    ("task", "flags", EXECVE_FLAGS),
    ("mmap", "prot", PROT_FLAGS),
    ("mmap", "flags", MMAP_FLAGS),
    ("mmap2", "prot", PROT_FLAGS),
    ("mmap2", "flags", MMAP_FLAGS),
    ("mprotect", "prot", PROT_FLAGS),
    ("splice", "flags", SPLICE_FLAGS),
    ("ptrace", "request", PTRACE_REQUESTS),
    ("quotactl", "cmd", QUOTACTL_CMDS),
    ("quotactl", "type", QUOTACTL_TYPES),
    ("quotactl", "dqi_flags", QUOTACTL_DQI_FLAGS),
    ("quotactl", "quota_fmt", QUOTACTL_QUOTA_FMTS),
    ("quotactl", "quota_fmt_out", QUOTACTL_QUOTA_FMTS),
    ("flock", "operation", FLOCK_FLAGS),
    ("semop", "sem_flg_0", SEMOP_FLAGS),
    ("semop", "sem_flg_1", SEMOP_FLAGS),
    ("semctl", "cmd", SEMCTL_COMMANDS),
    ("semget", "semflg", SEMGET_FLAGS),
    ("mount", "flags", MOUNT_FLAGS),
    ("umount", "flags", UMOUNT_FLAGS),
    ("umount2", "flags", UMOUNT_FLAGS),
    ("access", "mode", ACCESS_FLAGS),
    ("page_fault", "error", PF_FLAGS),
    ("unlinkat", "flags", UNLINKAT_FLAGS),
    ("linkat", "flags", LINKAT_FLAGS),
    ("newfstatat", "flags", NEWFSTATAT_FLAGS),
    ("fchownat", "flags", FCHOWNAT_FLAGS),
    ("renameat2", "flags", RENAMEAT2_FLAGS),
    ("chmod", "mode", CHMOD_MODE),
    ("fchmod", "mode", CHMOD_MODE),
    ("fchmodat", "mode", CHMOD_MODE),
    ("mknod", "mode", MKNOD_MODE),
    ("mknodat", "mode", MKNOD_MODE),
    ("io_uring_setup", "flags", IO_URING_SETUP_FLAGS),
    ("io_uring_setup", "features", IO_URING_SETUP_FEATS),
    ("io_uring_enter", "flags", IO_URING_ENTER_FLAGS),
    ("io_uring_register", "opcode", IO_URING_REGISTER_OPCODES),
    ("mlockall", "flags", MLOCKALL_FLAGS),
    ("mlock2", "flags", MLOCK2_FLAGS),
    ("fsconfig", "cmd", FSCONFIG_CMDS),
    ("epoll_create1", "flags", EPOLL_CREATE1_FLAGS),
    ("prctl", "option", PRCTL_OPTIONS),
    ("memfd_create", "flags", MEMFD_CREATE_FLAGS),
    ("pidfd_open", "flags", PIDFD_OPEN_FLAGS),
    ("bpf", "cmd", BPF_COMMANDS),
    ("delete_module", "flags", DELETE_MODULE_FLAGS),
    ("finit_module", "flags", FINIT_MODULE_FLAGS),
    ("task_file_anon_inode", "fd_type", ANON_INODE_FD_TYPES),
    ("close_range", "flags", CLOSE_RANGE_FLAGS),
    ("keyctl", "operation", KEYCTL_OPERATIONS),
];

/// True for the parameter types whose text comes from a name/value table.
pub fn uses_flag_table(ty: ParamType) -> bool {
    use ParamType::*;
    matches!(
        ty,
        Flags8 | Flags16 | Flags32 | Enumflags8 | Enumflags16 | Enumflags32 | Mode
    )
}

/// The per-parameter tables of every event code, built once from [`PARAM_TABLES`].
fn index() -> &'static [Vec<Option<FlagTable>>] {
    static INDEX: OnceLock<Vec<Vec<Option<FlagTable>>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        event_table()
            .iter()
            .map(|info| {
                info.params
                    .iter()
                    .map(|p| {
                        if !uses_flag_table(p.ty) {
                            return None;
                        }
                        PARAM_TABLES
                            .iter()
                            .find(|(ev, name, _)| *ev == info.name && *name == p.name)
                            .map(|(_, _, table)| *table)
                    })
                    .collect()
            })
            .collect()
    })
}

/// The name/value table of parameter `param_index` of event `event_code`, for flag, enum-flag and mode parameters.
pub fn flag_names(event_code: u16, param_index: usize) -> Option<FlagTable> {
    index().get(event_code as usize)?.get(param_index).copied().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_typed_param_of_the_event_table_has_a_table() {
        for info in event_table() {
            if info.is_unused() {
                continue;
            }
            for (i, p) in info.params.iter().enumerate() {
                if uses_flag_table(p.ty) {
                    assert!(
                        flag_names(info.code, i).is_some(),
                        "{} ({}) param {} `{}` has no flag table",
                        info.enum_name,
                        info.code,
                        i,
                        p.name
                    );
                }
            }
        }
    }

    #[test]
    fn every_mapping_names_a_real_flag_param() {
        for (ev, name, _) in PARAM_TABLES {
            let found = event_table()
                .iter()
                .any(|i| i.name == *ev && i.params.iter().any(|p| p.name == *name && uses_flag_table(p.ty)));
            assert!(found, "mapping {ev}.{name} matches no flag parameter");
        }
    }

    #[test]
    fn names_are_unique_within_each_table_except_the_drivers_aliases() {
        // Aliases the drivers define on purpose: two names for one value, or one name listed twice.
        let allowed = ["PR_MCE_KILL"];
        for (ev, name, table) in PARAM_TABLES {
            let mut seen = std::collections::HashSet::new();
            for (n, _) in table.iter() {
                assert!(seen.insert(*n) || allowed.contains(n), "{ev}.{name}: duplicate {n}");
            }
        }
    }

    #[test]
    fn open_flags_table_is_attached_to_open_events() {
        let code = event_table()
            .iter()
            .find(|i| i.enum_name == "PPME_SYSCALL_OPEN_X")
            .unwrap()
            .code;
        assert_eq!(flag_names(code, 2).map(|t| t.as_ptr()), Some(FILE_FLAGS.as_ptr()));
        assert_eq!(flag_names(code, 3), None, "open mode is a plain PT_UINT32");
    }
}
