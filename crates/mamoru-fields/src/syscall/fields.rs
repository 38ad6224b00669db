//! The syscall field table: one entry per field, in the order `mamoru fields` lists them. The `F` enum and the
//! `FIELDS` slice are generated together, so an entry and its extractor id cannot drift apart.

use crate::catalog::{ArgForm, ArgSpec, FieldFlags, FieldInfo};
use crate::value::FieldType;

pub(crate) const NO: FieldFlags = FieldFlags {
    is_list: false,
    no_rhs: false,
    no_transformer: false,
    hidden: false,
    dotted_arg: false,
    deprecated: false,
};
pub(crate) const DOT: FieldFlags = FieldFlags { dotted_arg: true, ..NO };
pub(crate) const DEP: FieldFlags = FieldFlags { deprecated: true, ..NO };
pub(crate) const HID: FieldFlags = FieldFlags { hidden: true, ..NO };
pub(crate) const LIST: FieldFlags = FieldFlags {
    is_list: true,
    no_rhs: true,
    ..NO
};
pub(crate) const ANC: FieldFlags = FieldFlags { no_rhs: true, ..NO };
pub(crate) const RAW: FieldFlags = FieldFlags {
    no_rhs: true,
    no_transformer: true,
    dotted_arg: true,
    ..NO
};
pub(crate) const FONLY: FieldFlags = FieldFlags { no_rhs: true, ..NO };

const A0: ArgSpec = ArgSpec::None;
const OI: ArgSpec = ArgSpec::Optional(ArgForm::Index);
const OK: ArgSpec = ArgSpec::Optional(ArgForm::Key);
const OB: ArgSpec = ArgSpec::Optional(ArgForm::IndexOrKey);
const RK: ArgSpec = ArgSpec::Required(ArgForm::Key);
const RB: ArgSpec = ArgSpec::Required(ArgForm::IndexOrKey);

macro_rules! fields {
    ($($id:ident: $name:literal, $ty:ident, $arg:ident, $fl:ident, $desc:literal;)*) => {
        /// Field ids, in table order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(non_camel_case_types)]
        pub(crate) enum F { $($id),* }

        /// The catalogue, in listing order.
        pub(crate) static FIELDS: &[FieldInfo] = &[
            $(FieldInfo { name: $name, ty: FieldType::$ty, arg: $arg, flags: $fl, desc: $desc }),*
        ];

        /// `IDS[i]` is the id of `FIELDS[i]`.
        pub(crate) const IDS: &[F] = &[$(F::$id),*];
    };
}

fields! {
    EvtNum: "evt.num", Uint64, A0, NO, "Sequence number of the event, starting at 1.";
    EvtTime: "evt.time", Charbuf, A0, NO, "Event time of day (UTC) with nanoseconds, hh:mm:ss.nnnnnnnnn.";
    EvtTimeS: "evt.time.s", Charbuf, A0, NO, "Event time of day (UTC) without the fractional part.";
    EvtTimeIso: "evt.time.iso8601", Charbuf, A0, NO, "Event time in ISO 8601 form with nanoseconds, in UTC.";
    EvtDatetime: "evt.datetime", Charbuf, A0, NO, "Event date and time (UTC) with nanoseconds.";
    EvtDatetimeS: "evt.datetime.s", Charbuf, A0, NO, "Event date and time (UTC) without the fractional part.";
    EvtRawtime: "evt.rawtime", Abstime, A0, NO, "Event time as nanoseconds since the epoch.";
    EvtRawtimeS: "evt.rawtime.s", Abstime, A0, NO, "Whole seconds of the event time since the epoch.";
    EvtRawtimeNs: "evt.rawtime.ns", Abstime, A0, NO, "Nanosecond part of the event time.";
    EvtReltime: "evt.reltime", Reltime, A0, NO, "Nanoseconds since the first event of the stream.";
    EvtReltimeS: "evt.reltime.s", Reltime, A0, NO, "Whole seconds since the first event of the stream.";
    EvtReltimeNs: "evt.reltime.ns", Reltime, A0, NO, "Nanosecond part of the time since the first event.";
    EvtLatency: "evt.latency", Reltime, A0, DEP, "Deprecated: exit-minus-enter latency; always 0 with exit-only events.";
    EvtLatencyS: "evt.latency.s", Reltime, A0, DEP, "Deprecated: whole seconds of evt.latency; always 0.";
    EvtLatencyNs: "evt.latency.ns", Reltime, A0, DEP, "Deprecated: nanosecond part of evt.latency; always 0.";
    EvtLatencyQuantized: "evt.latency.quantized", Uint64, A0, HID, "Deprecated: log10 bucket of evt.latency; always 0.";
    EvtLatencyHuman: "evt.latency.human", Charbuf, A0, DEP, "Deprecated: evt.latency as readable text; always 0ns.";
    EvtDeltatime: "evt.deltatime", Reltime, A0, NO, "Nanoseconds since the previous event.";
    EvtDeltatimeS: "evt.deltatime.s", Reltime, A0, NO, "Whole seconds since the previous event.";
    EvtDeltatimeNs: "evt.deltatime.ns", Reltime, A0, NO, "Nanosecond part of the time since the previous event.";
    EvtOutputtime: "evt.outputtime", Charbuf, A0, NO, "Event time as outputs print it (same as evt.time).";
    EvtDir: "evt.dir", Charbuf, A0, DEP, "Deprecated: '>' for enter events, '<' for exit events.";
    EvtType: "evt.type", Charbuf, A0, NO, "Event name, e.g. 'open' (for generic events, the syscall name).";
    EvtTypeIs: "evt.type.is", Uint32, RK, DOT, "1 when the event is of the type named in the argument, 0 otherwise.";
    SyscallType: "syscall.type", Charbuf, A0, NO, "Syscall name for syscall events; no value for other events.";
    EvtCategory: "evt.category", Charbuf, A0, NO, "Event category: file, net, IPC, memory, process, ...";
    EvtCpu: "evt.cpu", Int16, A0, NO, "CPU the event happened on.";
    EvtArgs: "evt.args", Charbuf, A0, NO, "All event arguments as one string of name=value pairs.";
    EvtArg: "evt.arg", Charbuf, RB, DOT, "One event argument, by name or index, as text (flags by name, fds with their names).";
    EvtRawarg: "evt.rawarg", Int64, RK, RAW, "One event argument by name, with its own type (compare numerically).";
    EvtInfo: "evt.info", Charbuf, A0, NO, "Same as evt.args.";
    EvtBuffer: "evt.buffer", Bytebuf, A0, NO, "Data buffer of I/O events (read, recvfrom, write, ...).";
    EvtBuflen: "evt.buflen", Uint64, A0, NO, "Bytes transferred by an I/O event.";
    EvtRes: "evt.res", Charbuf, A0, NO, "Return value as text: SUCCESS, or the errno name of a failure.";
    EvtRawres: "evt.rawres", Int64, A0, NO, "Return value as a number (negative errno on failure).";
    EvtFailed: "evt.failed", Bool, A0, NO, "True when the syscall returned an error.";
    EvtIsIo: "evt.is_io", Bool, A0, NO, "True for events that read or write an fd.";
    EvtIsIoRead: "evt.is_io_read", Bool, A0, NO, "True for events that read from an fd.";
    EvtIsIoWrite: "evt.is_io_write", Bool, A0, NO, "True for events that write to an fd.";
    EvtIoDir: "evt.io_dir", Charbuf, A0, NO, "'r' for reads, 'w' for writes.";
    EvtIsWait: "evt.is_wait", Bool, A0, NO, "True for events that make the thread wait (sleep, poll, ...).";
    EvtWaitLatency: "evt.wait_latency", Reltime, A0, DEP, "Deprecated: time spent waiting; always 0 with exit-only events.";
    EvtIsSyslog: "evt.is_syslog", Bool, A0, NO, "True for writes to /dev/log.";
    EvtCount: "evt.count", Uint32, A0, NO, "Always 1.";
    EvtCountError: "evt.count.error", Uint32, A0, NO, "1 for events that failed, 0 otherwise.";
    EvtCountErrorFile: "evt.count.error.file", Uint32, A0, NO, "1 for failed file events, 0 otherwise.";
    EvtCountErrorNet: "evt.count.error.net", Uint32, A0, NO, "1 for failed network events, 0 otherwise.";
    EvtCountErrorMemory: "evt.count.error.memory", Uint32, A0, NO, "1 for failed memory events, 0 otherwise.";
    EvtCountErrorOther: "evt.count.error.other", Uint32, A0, NO, "1 for failed events of other categories, 0 otherwise.";
    EvtCountExit: "evt.count.exit", Uint32, A0, NO, "1 for exit events, 0 otherwise.";
    EvtAbspath: "evt.abspath", Charbuf, OK, DOT, "Absolute path an *at syscall works on (dirfd + name); .src/.dst for two-path syscalls.";
    EvtIsOpenRead: "evt.is_open_read", Bool, A0, NO, "True for opens of a path for reading.";
    EvtIsOpenWrite: "evt.is_open_write", Bool, A0, NO, "True for opens of a path for writing.";
    EvtIsOpenExec: "evt.is_open_exec", Bool, A0, NO, "True for opens/creats that create a file with execute permission.";
    EvtIsOpenCreate: "evt.is_open_create", Bool, A0, NO, "True for opens that created the file.";
    EvtSource: "evt.source", Charbuf, A0, NO, "Name of the source the event comes from (syscall).";
    EvtHostname: "evt.hostname", Charbuf, A0, NO, "Hostname of the machine the event comes from.";
    EvtIsAsync: "evt.is_async", Bool, A0, NO, "True for asynchronous (meta) events.";
    EvtAsynctype: "evt.asynctype", Charbuf, A0, NO, "Kind of an asynchronous event (e.g. container).";
    EvtPluginname: "evt.pluginname", Charbuf, A0, NO, "Plugin that produced a plugin event (none for syscalls).";

    ProcExe: "proc.exe", Charbuf, A0, NO, "First command-line argument (argv[0]) of the process.";
    ProcPexe: "proc.pexe", Charbuf, A0, NO, "proc.exe of the parent process.";
    ProcAexe: "proc.aexe", Charbuf, OI, ANC, "proc.exe of an ancestor ([0] self, [1] parent, ...); without index, any ancestor.";
    ProcExepath: "proc.exepath", Charbuf, A0, NO, "Full path of the executable (symlinks resolved).";
    ProcPexepath: "proc.pexepath", Charbuf, A0, NO, "proc.exepath of the parent process.";
    ProcAexepath: "proc.aexepath", Charbuf, OI, ANC, "proc.exepath of an ancestor; without index, any ancestor.";
    ProcName: "proc.name", Charbuf, A0, NO, "Process name (task comm, at most 16 characters).";
    ProcPname: "proc.pname", Charbuf, A0, NO, "proc.name of the parent process.";
    ProcAname: "proc.aname", Charbuf, OI, ANC, "proc.name of an ancestor ([0] self, [1] parent, ...); without index, any ancestor.";
    ProcArgs: "proc.args", Charbuf, OI, NO, "Command-line arguments after argv[0], space-separated; [n] for one argument.";
    ProcCmdline: "proc.cmdline", Charbuf, A0, NO, "proc.name followed by the arguments.";
    ProcPcmdline: "proc.pcmdline", Charbuf, A0, NO, "proc.cmdline of the parent process.";
    ProcAcmdline: "proc.acmdline", Charbuf, OI, ANC, "proc.cmdline of an ancestor; without index, any ancestor.";
    ProcAargs: "proc.aargs", Charbuf, OI, ANC, "proc.args of an ancestor; without index, any ancestor.";
    ProcCmdnargs: "proc.cmdnargs", Uint64, A0, NO, "Number of command-line arguments after argv[0].";
    ProcCmdlenargs: "proc.cmdlenargs", Uint64, A0, NO, "Total length of the arguments after argv[0], without separators.";
    ProcExeline: "proc.exeline", Charbuf, A0, NO, "proc.exe followed by the arguments.";
    ProcEnv: "proc.env", Charbuf, OB, NO, "Environment as NAME=value pairs; [NAME] for one variable's value.";
    ProcAenv: "proc.aenv", Charbuf, OB, ANC, "Environment of an ancestor ([n]), or the first value of [NAME] up the lineage.";
    ProcCwd: "proc.cwd", Charbuf, A0, NO, "Current working directory (with a trailing slash).";
    ProcLoginshellid: "proc.loginshellid", Int64, A0, NO, "Pid of the oldest shell among the process and its ancestors.";
    ProcTty: "proc.tty", Uint32, A0, NO, "Controlling terminal number; 0 without one.";
    ProcPid: "proc.pid", Int64, A0, NO, "Process id.";
    ProcPpid: "proc.ppid", Int64, A0, NO, "Parent process id.";
    ProcApid: "proc.apid", Int64, OI, ANC, "Pid of an ancestor; without index, any ancestor.";
    ProcVpid: "proc.vpid", Int64, A0, NO, "Process id as seen in its pid namespace.";
    ProcPvpid: "proc.pvpid", Int64, A0, NO, "Parent process id as seen in its pid namespace.";
    ProcSid: "proc.sid", Int64, A0, NO, "Session id.";
    ProcSname: "proc.sname", Charbuf, A0, NO, "Name of the session leader.";
    ProcSidExe: "proc.sid.exe", Charbuf, A0, NO, "proc.exe of the session leader.";
    ProcSidExepath: "proc.sid.exepath", Charbuf, A0, NO, "proc.exepath of the session leader.";
    ProcVpgid: "proc.vpgid", Int64, A0, NO, "Process group id as seen in its pid namespace.";
    ProcVpgidName: "proc.vpgid.name", Charbuf, A0, NO, "Name of the process group leader.";
    ProcVpgidExe: "proc.vpgid.exe", Charbuf, A0, NO, "proc.exe of the process group leader.";
    ProcVpgidExepath: "proc.vpgid.exepath", Charbuf, A0, NO, "proc.exepath of the process group leader.";
    ProcDuration: "proc.duration", Reltime, A0, NO, "Nanoseconds since the process started.";
    ProcPpidDuration: "proc.ppid.duration", Reltime, A0, NO, "Nanoseconds since the parent process started.";
    ProcPidTs: "proc.pid.ts", Reltime, A0, NO, "Process start as nanoseconds since the epoch.";
    ProcPpidTs: "proc.ppid.ts", Reltime, A0, NO, "Parent process start as nanoseconds since the epoch.";
    ProcIsExeWritable: "proc.is_exe_writable", Bool, A0, NO, "True when the executable is writable by the process's user.";
    ProcIsExeUpperLayer: "proc.is_exe_upper_layer", Bool, A0, NO, "True when the executable is in the upper layer of an overlay filesystem.";
    ProcIsExeLowerLayer: "proc.is_exe_lower_layer", Bool, A0, NO, "True when the executable is in a lower layer of an overlay filesystem.";
    ProcIsExeFromMemfd: "proc.is_exe_from_memfd", Bool, A0, NO, "True when the executable is a memfd_create() anonymous file.";
    ProcIsSidLeader: "proc.is_sid_leader", Bool, A0, NO, "True when the process leads its session (sid == vpid).";
    ProcIsVpgidLeader: "proc.is_vpgid_leader", Bool, A0, NO, "True when the process leads its process group (vpgid == vpid).";
    ProcExeIno: "proc.exe_ino", Int64, A0, NO, "Inode number of the executable.";
    ProcExeInoCtime: "proc.exe_ino.ctime", Abstime, A0, NO, "Status-change time of the executable's inode.";
    ProcExeInoMtime: "proc.exe_ino.mtime", Abstime, A0, NO, "Modification time of the executable's inode.";
    ProcExeInoCtimeDurProc: "proc.exe_ino.ctime_duration_proc_start", Abstime, A0, NO, "Nanoseconds between the executable's ctime and the process start.";
    ProcExeInoCtimeDurPidns: "proc.exe_ino.ctime_duration_pidns_start", Abstime, A0, NO, "Nanoseconds between the pid namespace start and the executable's ctime, when the ctime is later.";
    ProcPidnsInitStartTs: "proc.pidns_init_start_ts", Uint64, A0, NO, "Start of the process's pid namespace, nanoseconds since the epoch.";
    ThreadCapPermitted: "thread.cap_permitted", Charbuf, A0, NO, "Permitted capability set, as names.";
    ThreadCapInheritable: "thread.cap_inheritable", Charbuf, A0, NO, "Inheritable capability set, as names.";
    ThreadCapEffective: "thread.cap_effective", Charbuf, A0, NO, "Effective capability set, as names.";
    ProcIsContainerHealthcheck: "proc.is_container_healthcheck", Bool, A0, DEP, "Deprecated: whether the process runs a container health check (false).";
    ProcIsContainerLiveness: "proc.is_container_liveness_probe", Bool, A0, DEP, "Deprecated: whether the process runs a liveness probe (false).";
    ProcIsContainerReadiness: "proc.is_container_readiness_probe", Bool, A0, DEP, "Deprecated: whether the process runs a readiness probe (false).";
    ProcFdopencount: "proc.fdopencount", Uint64, A0, NO, "Number of fds the process has open.";
    ProcFdlimit: "proc.fdlimit", Int64, A0, NO, "Maximum number of fds the process may open.";
    ProcFdusage: "proc.fdusage", Double, A0, NO, "Open fds as a percentage of the fd limit.";
    ProcStdinType: "proc.stdin.type", Charbuf, A0, NO, "fd.type of the process's fd 0.";
    ProcStdoutType: "proc.stdout.type", Charbuf, A0, NO, "fd.type of the process's fd 1.";
    ProcStderrType: "proc.stderr.type", Charbuf, A0, NO, "fd.type of the process's fd 2.";
    ProcStdinName: "proc.stdin.name", Charbuf, A0, NO, "fd.name of the process's fd 0.";
    ProcStdoutName: "proc.stdout.name", Charbuf, A0, NO, "fd.name of the process's fd 1.";
    ProcStderrName: "proc.stderr.name", Charbuf, A0, NO, "fd.name of the process's fd 2.";
    ThreadTid: "thread.tid", Int64, A0, NO, "Thread id.";
    ThreadIsmain: "thread.ismain", Bool, A0, NO, "True for the main thread of the process.";
    ThreadVtid: "thread.vtid", Int64, A0, NO, "Thread id as seen in its pid namespace.";
    ThreadNametid: "thread.nametid", Charbuf, A0, HID, "proc.name and thread id chained, e.g. bash1234.";
    ThreadCgroups: "thread.cgroups", Charbuf, A0, NO, "All cgroups of the thread as subsystem=path pairs.";
    ThreadCgroup: "thread.cgroup", Charbuf, RK, DOT, "Cgroup path of the thread for one subsystem, e.g. thread.cgroup.cpuacct.";
    ProcNthreads: "proc.nthreads", Uint64, A0, NO, "Live threads of the process, the main thread included.";
    ProcNchilds: "proc.nchilds", Uint64, A0, NO, "Live threads of the process other than the main thread.";

    FdNum: "fd.num", Int64, A0, NO, "Number of the fd the event uses or creates.";
    FdType: "fd.type", Charbuf, A0, NO, "fd type: file, directory, ipv4, ipv6, unix, pipe, event, signalfd, eventpoll, inotify, timerfd, netlink, bpf, userfaultfd, io_uring, memfd, pidfd.";
    FdTypechar: "fd.typechar", Charbuf, A0, NO, "fd type as one character: f d 4 6 u p e s l i t n b r m P, o for unknown.";
    FdName: "fd.name", Charbuf, A0, NO, "Full fd name: the path of files, the connection tuple of sockets.";
    FdDirectory: "fd.directory", Charbuf, A0, NO, "Directory containing the file an fd refers to.";
    FdFilename: "fd.filename", Charbuf, A0, NO, "File name (without directory) of the file an fd refers to.";
    FdIp: "fd.ip", Ipaddr, A0, FONLY, "Matches the client or the server IP address of the fd.";
    FdCip: "fd.cip", Ipaddr, A0, NO, "Client IP address.";
    FdSip: "fd.sip", Ipaddr, A0, NO, "Server IP address.";
    FdLip: "fd.lip", Ipaddr, A0, NO, "Local IP address.";
    FdRip: "fd.rip", Ipaddr, A0, NO, "Remote IP address.";
    FdPort: "fd.port", Port, A0, FONLY, "Matches the client or the server port of the fd.";
    FdCport: "fd.cport", Port, A0, NO, "Client port.";
    FdSport: "fd.sport", Port, A0, NO, "Server port.";
    FdLport: "fd.lport", Port, A0, NO, "Local port.";
    FdRport: "fd.rport", Port, A0, NO, "Remote port.";
    FdL4proto: "fd.l4proto", Charbuf, A0, NO, "IP protocol of a socket: tcp, udp, icmp or raw.";
    FdSockfamily: "fd.sockfamily", Charbuf, A0, NO, "Socket family: ip or unix.";
    FdIsServer: "fd.is_server", Bool, A0, NO, "True when the process is the server end of the connection.";
    FdUid: "fd.uid", Charbuf, A0, NO, "Unique fd identifier: thread id and fd number chained.";
    FdContainername: "fd.containername", Charbuf, A0, NO, "Container id and fd name chained with ':'.";
    FdContainerdirectory: "fd.containerdirectory", Charbuf, A0, NO, "Container id and fd directory chained with ':'.";
    FdProto: "fd.proto", Charbuf, A0, FONLY, "Matches the client or the server protocol (port) of the fd.";
    FdCproto: "fd.cproto", Charbuf, A0, NO, "Client protocol (port, as text).";
    FdSproto: "fd.sproto", Charbuf, A0, NO, "Server protocol (port, as text).";
    FdLproto: "fd.lproto", Charbuf, A0, NO, "Local protocol (port, as text).";
    FdRproto: "fd.rproto", Charbuf, A0, NO, "Remote protocol (port, as text).";
    FdNet: "fd.net", Ipnet, A0, FONLY, "Matches the network of the client or the server IP address.";
    FdCnet: "fd.cnet", Ipnet, A0, FONLY, "Matches the network of the client IP address.";
    FdSnet: "fd.snet", Ipnet, A0, FONLY, "Matches the network of the server IP address.";
    FdLnet: "fd.lnet", Ipnet, A0, FONLY, "Matches the network of the local IP address.";
    FdRnet: "fd.rnet", Ipnet, A0, FONLY, "Matches the network of the remote IP address.";
    FdConnected: "fd.connected", Bool, A0, NO, "True for sockets that are connected.";
    FdNameChanged: "fd.name_changed", Bool, A0, NO, "True when the event changed its fd's name (e.g. a new UDP peer).";
    FdCipName: "fd.cip.name", Charbuf, A0, NO, "Domain name of the client IP (no DNS cache: no value).";
    FdSipName: "fd.sip.name", Charbuf, A0, NO, "Domain name of the server IP (no DNS cache: no value).";
    FdLipName: "fd.lip.name", Charbuf, A0, NO, "Domain name of the local IP (no DNS cache: no value).";
    FdRipName: "fd.rip.name", Charbuf, A0, NO, "Domain name of the remote IP (no DNS cache: no value).";
    FdDev: "fd.dev", Int32, A0, NO, "Device number of the file's filesystem.";
    FdDevMajor: "fd.dev.major", Int32, A0, NO, "Major device number of the file's filesystem.";
    FdDevMinor: "fd.dev.minor", Int32, A0, NO, "Minor device number of the file's filesystem.";
    FdIno: "fd.ino", Int64, A0, NO, "Inode number of the file.";
    FdNameraw: "fd.nameraw", Charbuf, A0, NO, "File path as the syscall passed it (not made absolute).";
    FdTypes: "fd.types", Charbuf, OI, LIST, "Distinct types of the process's open fds; [n] for fd n only.";
    FdIsUpperLayer: "fd.is_upper_layer", Bool, A0, NO, "True when the file is in the upper layer of an overlay filesystem.";
    FdIsLowerLayer: "fd.is_lower_layer", Bool, A0, NO, "True when the file is in a lower layer of an overlay filesystem.";

    FsPathName: "fs.path.name", Charbuf, A0, NO, "Absolute path a filesystem syscall works on.";
    FsPathNameraw: "fs.path.nameraw", Charbuf, A0, NO, "Path a filesystem syscall works on, as passed.";
    FsPathSource: "fs.path.source", Charbuf, A0, NO, "Absolute source path of rename/link/symlink syscalls.";
    FsPathSourceraw: "fs.path.sourceraw", Charbuf, A0, NO, "Source path of rename/link/symlink syscalls, as passed.";
    FsPathTarget: "fs.path.target", Charbuf, A0, NO, "Absolute target path of rename/link/symlink syscalls.";
    FsPathTargetraw: "fs.path.targetraw", Charbuf, A0, NO, "Target path of rename/link/symlink syscalls, as passed.";

    UserUid: "user.uid", Uint32, A0, NO, "Effective user id.";
    UserName: "user.name", Charbuf, A0, NO, "User name.";
    UserHomedir: "user.homedir", Charbuf, A0, NO, "Home directory of the user.";
    UserShell: "user.shell", Charbuf, A0, NO, "Login shell of the user.";
    UserLoginuid: "user.loginuid", Int64, A0, NO, "Audit login user id; -1 when unset.";
    UserLoginname: "user.loginname", Charbuf, A0, NO, "Name of the audit login user.";
    GroupGid: "group.gid", Uint32, A0, NO, "Effective group id.";
    GroupName: "group.name", Charbuf, A0, NO, "Group name.";

    ContainerId: "container.id", Charbuf, A0, NO, "Truncated (12 characters) container id from the cgroups; 'host' outside containers.";
    ContainerFullId: "container.full_id", Charbuf, A0, NO, "Full container id.";
    ContainerName: "container.name", Charbuf, A0, NO, "Container name; 'host' outside containers.";
    ContainerImage: "container.image", Charbuf, A0, NO, "Container image name.";
    ContainerImageId: "container.image.id", Charbuf, A0, NO, "Container image id.";
    ContainerType: "container.type", Charbuf, A0, NO, "Container runtime: docker, cri-o, containerd, podman, ...";
    ContainerPrivileged: "container.privileged", Bool, A0, NO, "True for privileged containers.";
    ContainerMounts: "container.mounts", Charbuf, A0, NO, "Mounts as source:dest:mode:rdwr:propagation items, comma-separated.";
    ContainerMount: "container.mount", Charbuf, RB, NO, "One mount, by index or source (glob); 'none' when there is no match.";
    ContainerMountSource: "container.mount.source", Charbuf, RB, NO, "Mount source, by index or destination (glob).";
    ContainerMountDest: "container.mount.dest", Charbuf, RB, NO, "Mount destination, by index or source (glob).";
    ContainerMountMode: "container.mount.mode", Charbuf, RB, NO, "Mount mode, by index or source (glob).";
    ContainerMountRdwr: "container.mount.rdwr", Charbuf, RB, NO, "Mount read/write flag, by index or source (glob).";
    ContainerMountPropagation: "container.mount.propagation", Charbuf, RB, NO, "Mount propagation, by index or source (glob).";
    ContainerImageRepository: "container.image.repository", Charbuf, A0, NO, "Container image repository.";
    ContainerImageTag: "container.image.tag", Charbuf, A0, NO, "Container image tag.";
    ContainerImageDigest: "container.image.digest", Charbuf, A0, NO, "Container image registry digest.";
    ContainerHealthcheck: "container.healthcheck", Charbuf, A0, DEP, "Deprecated: container health check.";
    ContainerLiveness: "container.liveness_probe", Charbuf, A0, DEP, "Deprecated: container liveness probe.";
    ContainerReadiness: "container.readiness_probe", Charbuf, A0, DEP, "Deprecated: container readiness probe.";
    ContainerStartTs: "container.start_ts", Abstime, A0, NO, "Container start (its pid namespace start), nanoseconds since the epoch.";
    ContainerDuration: "container.duration", Reltime, A0, NO, "Nanoseconds since container.start_ts.";
    ContainerIp: "container.ip", Charbuf, A0, NO, "Primary IP address of the container.";
    ContainerCniJson: "container.cni.json", Charbuf, A0, NO, "CNI result of the container's pod, as JSON.";
    ContainerHostPid: "container.host_pid", Bool, A0, NO, "True when the container uses the host pid namespace.";
    ContainerHostNetwork: "container.host_network", Bool, A0, NO, "True when the container uses the host network namespace.";
    ContainerHostIpc: "container.host_ipc", Bool, A0, NO, "True when the container uses the host IPC namespace.";
    ContainerLabel: "container.label", Charbuf, RK, DOT, "One container label, e.g. container.label.foo.";
    ContainerLabels: "container.labels", Charbuf, A0, NO, "Container labels as key:value pairs, comma-separated.";
    K8sPodName: "k8s.pod.name", Charbuf, A0, NO, "Kubernetes pod name.";
    K8sNsName: "k8s.ns.name", Charbuf, A0, NO, "Kubernetes namespace name.";
    K8sPodId: "k8s.pod.id", Charbuf, A0, NO, "Legacy name of k8s.pod.uid.";
    K8sPodUid: "k8s.pod.uid", Charbuf, A0, NO, "Kubernetes pod UID.";
    K8sPodSandboxId: "k8s.pod.sandbox_id", Charbuf, A0, NO, "Truncated pod sandbox id.";
    K8sPodFullSandboxId: "k8s.pod.full_sandbox_id", Charbuf, A0, NO, "Full pod sandbox id.";
    K8sPodLabel: "k8s.pod.label", Charbuf, RK, DOT, "One pod label, e.g. k8s.pod.label.app.";
    K8sPodLabels: "k8s.pod.labels", Charbuf, A0, NO, "Pod labels as key:value pairs, comma-separated.";
    K8sPodIp: "k8s.pod.ip", Charbuf, A0, NO, "Pod IP address.";
    K8sPodCniJson: "k8s.pod.cni.json", Charbuf, A0, NO, "CNI result of the pod, as JSON.";
    K8sRcName: "k8s.rc.name", Charbuf, A0, NO, "Kubernetes replication controller name. Filled by the Kubernetes API enrichment (k8s_api).";
    K8sRcId: "k8s.rc.id", Charbuf, A0, NO, "Kubernetes replication controller UID. Filled by the Kubernetes API enrichment (k8s_api).";
    K8sRcLabel: "k8s.rc.label", Charbuf, RK, DOT, "One replication controller label, e.g. k8s.rc.label.foo. Filled by the Kubernetes API enrichment (k8s_api).";
    K8sRcLabels: "k8s.rc.labels", Charbuf, A0, NO, "Kubernetes replication controller labels as key:value pairs, comma-separated. Filled by the Kubernetes API enrichment (k8s_api).";
    K8sSvcName: "k8s.svc.name", Charbuf, A0, NO, "Kubernetes service name (several services: values joined with ', '). Filled by the Kubernetes API enrichment (k8s_api).";
    K8sSvcId: "k8s.svc.id", Charbuf, A0, NO, "Kubernetes service UID (several services: values joined with ', '). Filled by the Kubernetes API enrichment (k8s_api).";
    K8sSvcLabel: "k8s.svc.label", Charbuf, RK, DOT, "One service label, e.g. k8s.svc.label.foo (several services: values joined with ', '). Filled by the Kubernetes API enrichment (k8s_api).";
    K8sSvcLabels: "k8s.svc.labels", Charbuf, A0, NO, "Kubernetes service labels as key:value pairs, comma-separated (several services: values joined with ', '). Filled by the Kubernetes API enrichment (k8s_api).";
    K8sNsId: "k8s.ns.id", Charbuf, A0, NO, "Kubernetes namespace UID. Filled by the Kubernetes API enrichment (k8s_api).";
    K8sNsLabel: "k8s.ns.label", Charbuf, RK, DOT, "One namespace label, e.g. k8s.ns.label.foo. Filled by the Kubernetes API enrichment (k8s_api).";
    K8sNsLabels: "k8s.ns.labels", Charbuf, A0, NO, "Kubernetes namespace labels as key:value pairs, comma-separated. Filled by the Kubernetes API enrichment (k8s_api).";
    K8sRsName: "k8s.rs.name", Charbuf, A0, NO, "Kubernetes replica set name. Filled by the Kubernetes API enrichment (k8s_api).";
    K8sRsId: "k8s.rs.id", Charbuf, A0, NO, "Kubernetes replica set UID. Filled by the Kubernetes API enrichment (k8s_api).";
    K8sRsLabel: "k8s.rs.label", Charbuf, RK, DOT, "One replica set label, e.g. k8s.rs.label.foo. Filled by the Kubernetes API enrichment (k8s_api).";
    K8sRsLabels: "k8s.rs.labels", Charbuf, A0, NO, "Kubernetes replica set labels as key:value pairs, comma-separated. Filled by the Kubernetes API enrichment (k8s_api).";
    K8sDeploymentName: "k8s.deployment.name", Charbuf, A0, NO, "Kubernetes deployment name. Filled by the Kubernetes API enrichment (k8s_api).";
    K8sDeploymentId: "k8s.deployment.id", Charbuf, A0, NO, "Kubernetes deployment UID. Filled by the Kubernetes API enrichment (k8s_api).";
    K8sDeploymentLabel: "k8s.deployment.label", Charbuf, RK, DOT, "One deployment label, e.g. k8s.deployment.label.foo. Filled by the Kubernetes API enrichment (k8s_api).";
    K8sDeploymentLabels: "k8s.deployment.labels", Charbuf, A0, NO, "Kubernetes deployment labels as key:value pairs, comma-separated. Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaPodName: "k8smeta.pod.name", Charbuf, A0, NO, "Kubernetes pod name (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaPodUid: "k8smeta.pod.uid", Charbuf, A0, NO, "Kubernetes pod UID (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaPodLabel: "k8smeta.pod.label", Charbuf, RK, NO, "One pod label, e.g. k8smeta.pod.label[foo] (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaPodLabels: "k8smeta.pod.labels", Charbuf, A0, LIST, "Kubernetes pod labels, a list of key:value (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaPodIp: "k8smeta.pod.ip", Charbuf, A0, NO, "Kubernetes pod IP, from the pod status (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaNsName: "k8smeta.ns.name", Charbuf, A0, NO, "Kubernetes namespace name (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaNsUid: "k8smeta.ns.uid", Charbuf, A0, NO, "Kubernetes namespace UID (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaNsLabel: "k8smeta.ns.label", Charbuf, RK, NO, "One namespace label, e.g. k8smeta.ns.label[foo] (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaNsLabels: "k8smeta.ns.labels", Charbuf, A0, LIST, "Kubernetes namespace labels, a list of key:value (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaDeploymentName: "k8smeta.deployment.name", Charbuf, A0, NO, "Kubernetes deployment name (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaDeploymentUid: "k8smeta.deployment.uid", Charbuf, A0, NO, "Kubernetes deployment UID (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaDeploymentLabel: "k8smeta.deployment.label", Charbuf, RK, NO, "One deployment label, e.g. k8smeta.deployment.label[foo] (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaDeploymentLabels: "k8smeta.deployment.labels", Charbuf, A0, LIST, "Kubernetes deployment labels, a list of key:value (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaSvcName: "k8smeta.svc.name", Charbuf, A0, LIST, "List: one value per service matching the pod. Kubernetes service name (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaSvcUid: "k8smeta.svc.uid", Charbuf, A0, LIST, "List: one value per service matching the pod. Kubernetes service UID (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaSvcLabel: "k8smeta.svc.label", Charbuf, RK, LIST, "List: one value per service matching the pod. One service label, e.g. k8smeta.svc.label[foo] (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaSvcLabels: "k8smeta.svc.labels", Charbuf, A0, LIST, "Kubernetes service labels, a list of key:value (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaRsName: "k8smeta.rs.name", Charbuf, A0, NO, "Kubernetes replica set name (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaRsUid: "k8smeta.rs.uid", Charbuf, A0, NO, "Kubernetes replica set UID (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaRsLabel: "k8smeta.rs.label", Charbuf, RK, NO, "One replica set label, e.g. k8smeta.rs.label[foo] (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaRsLabels: "k8smeta.rs.labels", Charbuf, A0, LIST, "Kubernetes replica set labels, a list of key:value (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaRcName: "k8smeta.rc.name", Charbuf, A0, NO, "Kubernetes replication controller name (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaRcUid: "k8smeta.rc.uid", Charbuf, A0, NO, "Kubernetes replication controller UID (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaRcLabel: "k8smeta.rc.label", Charbuf, RK, NO, "One replication controller label, e.g. k8smeta.rc.label[foo] (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
    K8smetaRcLabels: "k8smeta.rc.labels", Charbuf, A0, LIST, "Kubernetes replication controller labels, a list of key:value (k8smeta plugin name). Filled by the Kubernetes API enrichment (k8s_api).";
}

/// `evt.rawarg` entries by the type of the argument it names (the catalogue lists the first).
pub(crate) static RAWARG_SIGNED: FieldInfo = raw_variant(FieldType::Int64);
pub(crate) static RAWARG_UNSIGNED: FieldInfo = raw_variant(FieldType::Uint64);
pub(crate) static RAWARG_STRING: FieldInfo = raw_variant(FieldType::Charbuf);
pub(crate) static RAWARG_FSPATH: FieldInfo = raw_variant(FieldType::Fspath);
pub(crate) static RAWARG_FSRELPATH: FieldInfo = raw_variant(FieldType::Fsrelpath);
pub(crate) static RAWARG_BYTES: FieldInfo = raw_variant(FieldType::Bytebuf);
pub(crate) static RAWARG_IP: FieldInfo = raw_variant(FieldType::Ipaddr);
pub(crate) static RAWARG_RELTIME: FieldInfo = raw_variant(FieldType::Reltime);
pub(crate) static RAWARG_ABSTIME: FieldInfo = raw_variant(FieldType::Abstime);

const fn raw_variant(ty: FieldType) -> FieldInfo {
    FieldInfo {
        name: "evt.rawarg",
        ty,
        arg: RK,
        flags: RAW,
        desc: "one of the event arguments specified by name, with the argument's own type",
    }
}
