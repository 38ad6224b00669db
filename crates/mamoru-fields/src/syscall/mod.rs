//! Fields of the syscall source: `evt.*`, `proc.*`, `thread.*`, `fd.*`, `fs.path.*`, `user.*`, `group.*`,
//! `container.*` and `k8s.*`, read from a scap event plus the state engine's tables.
//!
//! The hot fields (`evt.type`, `proc.name`, `fd.name`, `proc.cmdline`) are slices of data the state engine keeps
//! rendered, so extracting them is a lookup and a copy into the value arena. Generic syscall events
//! (`PPME_GENERIC_*`, whose `ID` parameter is a `ppm_sc` code) get synthetic event codes `PPM_EVENT_MAX + ppm_sc`, so
//! `evt.type = ptrace` selects a rule whether the syscall arrives as a dedicated event or as a generic one.

mod extract;
mod fields;
mod k8s_api;
mod resolve;
mod time;

use crate::catalog::{resolve_field_name, ArgSpec, BindError, BoundField, Catalog, FieldInfo, Source};
use extract::{Arg, SysExtractor};
use fields::{F, FIELDS, IDS};
use mamoru_event::{codes, event_table, ppm_sc, ParamType, RawEvent, PPM_EVENT_MAX};
use mamoru_state::{EventContext, Fd, State, Thread};
use std::sync::Arc;

pub use k8s_api::{K8sApiLookup, K8sObjectMeta, K8sPodMeta};

/// The syscall event source.
pub struct Syscall;

impl Source for Syscall {
    type Event<'a> = SysEvent<'a>;
}

/// A syscall event as extractors see it: the raw event, the state it was parsed into, and the lookups every field
/// family needs, done once.
#[derive(Clone, Copy)]
pub struct SysEvent<'a> {
    /// Borrowed, not copied: a raw event is a few hundred bytes and a `SysEvent` is built for every event.
    pub raw: &'a RawEvent<'a>,
    pub state: &'a State,
    /// `evt.num`.
    pub evt_num: u64,
    /// The thread that produced the event.
    pub thread: Option<&'a Thread>,
    /// What the state engine learned when it processed the event (`fd.num`, `fd.name_changed`).
    pub ctx: EventContext,
    /// The fd the event uses or created.
    pub fd: Option<&'a Fd>,
}

impl<'a> SysEvent<'a> {
    /// Resolves the event's thread and fd in `state` (call after `state.process_event(&raw)`).
    pub fn new(raw: &'a RawEvent<'a>, state: &'a State, evt_num: u64) -> SysEvent<'a> {
        let ctx = state.event_context(raw);
        let thread = state.thread(raw.tid as i64);
        let fd = match (thread, ctx.fd) {
            (Some(t), Some(n)) if n >= 0 => state.fd(t, n),
            (_, Some(n)) if n < 0 => state.failed_open_fd(),
            _ => None,
        };
        SysEvent {
            raw,
            state,
            evt_num,
            thread,
            ctx,
            fd,
        }
    }

    /// The `ppm_sc` code of a generic event.
    pub fn generic_syscall(&self) -> Option<u16> {
        generic_sc(self.raw)
    }

    /// `evt.type`: the event name, or the syscall name of a generic event.
    pub fn type_name(&self) -> &'static str {
        event_type_name(self.raw)
    }
}

fn generic_sc(raw: &RawEvent<'_>) -> Option<u16> {
    if raw.etype != codes::GENERIC_E && raw.etype != codes::GENERIC_X {
        return None;
    }
    let sc = raw.param_u64(0)? as u16;
    (sc < ppm_sc::PPM_SC_MAX && ppm_sc::syscall_name(sc).is_some()).then_some(sc)
}

/// The catalogue's event code of a raw event (what [`SyscallCatalog`]'s `event_code` gives for its [`SysEvent`]):
/// the event type, or `PPM_EVENT_MAX + ppm_sc` for a generic syscall event. Lets a caller ask a ruleset whether any
/// rule can match before resolving the event's thread and fd.
pub fn raw_event_code(raw: &RawEvent<'_>) -> u16 {
    match generic_sc(raw) {
        Some(sc) => PPM_EVENT_MAX + sc,
        None => raw.etype,
    }
}

/// `evt.type` of a raw event.
pub fn event_type_name(raw: &RawEvent<'_>) -> &'static str {
    match generic_sc(raw).and_then(ppm_sc::syscall_name) {
        Some(n) => n,
        None => raw.name(),
    }
}

/// The syscall field catalogue.
#[derive(Default, Clone)]
pub struct SyscallCatalog {
    /// Where the Kubernetes API enrichment fields read from; `None` leaves them `<NA>`.
    k8s_api: Option<Arc<dyn K8sApiLookup>>,
}

impl std::fmt::Debug for SyscallCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyscallCatalog")
            .field("k8s_api", &self.k8s_api.is_some())
            .finish()
    }
}

impl SyscallCatalog {
    pub fn new() -> Self {
        SyscallCatalog::default()
    }

    /// A catalogue whose `k8s.deployment.*`, `k8s.svc.*`, `k8smeta.*`, ... fields read from `lookup`.
    pub fn with_k8s_api(lookup: Arc<dyn K8sApiLookup>) -> Self {
        SyscallCatalog { k8s_api: Some(lookup) }
    }
}

fn is_index(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

fn bad_arg(info: &FieldInfo, arg: &str, why: &str) -> BindError {
    BindError::BadArg {
        field: info.name.to_string(),
        arg: arg.to_string(),
        why: why.to_string(),
    }
}

/// The type `evt.rawarg.NAME` takes: that of the first event parameter called `NAME` (as libsinsp decides it).
fn rawarg_info(name: &str) -> Option<&'static FieldInfo> {
    let ty = event_table()
        .iter()
        .filter(|e| !e.is_unused())
        .find_map(|e| e.params.iter().find(|p| p.name == name))?
        .ty;
    use ParamType::*;
    Some(match ty {
        Int16 | Int32 | Int64 | Errno | Fd | Fd32 | Pid | Pid32 => &fields::RAWARG_SIGNED,
        Uint8 | Uint16 | Uint32 | Uint64 | Flags8 | Flags16 | Flags32 | Enumflags8 | Enumflags16 | Enumflags32
        | Uid | Gid | Mode | Sigtype | Syscallid | Sigset | Port => &fields::RAWARG_UNSIGNED,
        Reltime => &fields::RAWARG_RELTIME,
        Abstime => &fields::RAWARG_ABSTIME,
        Charbuf => &fields::RAWARG_STRING,
        Fspath => &fields::RAWARG_FSPATH,
        Fsrelpath => &fields::RAWARG_FSRELPATH,
        Ipv4addr | Ipv6addr => &fields::RAWARG_IP,
        Bytebuf | Sockaddr | Socktuple | Fdlist | Dyn | Charbufarray | CharbufPairArray => &fields::RAWARG_BYTES,
    })
}

fn param_exists(name: &str) -> bool {
    event_table().iter().any(|e| e.params.iter().any(|p| p.name == name))
}

impl Catalog<Syscall> for SyscallCatalog {
    fn source_name(&self) -> &'static str {
        "syscall"
    }

    fn fields(&self) -> &'static [FieldInfo] {
        FIELDS
    }

    fn bind(&self, name: &str, arg: Option<&str>) -> Result<BoundField<Syscall>, BindError> {
        let (mut info, dotted) =
            resolve_field_name(FIELDS, name).ok_or_else(|| BindError::UnknownField(name.to_string()))?;
        let arg = match (dotted, arg) {
            (Some(d), None) => Some(d),
            (None, a) => a,
            (Some(d), Some(a)) => return Err(bad_arg(info, a, &format!("'{d}' already given in dotted form"))),
        };
        match (info.arg, arg) {
            (ArgSpec::None, Some(_)) => {
                return Err(BindError::ArgNotAllowed {
                    field: info.name.to_string(),
                })
            }
            (ArgSpec::Required(_), None) => {
                return Err(BindError::ArgRequired {
                    field: info.name.to_string(),
                })
            }
            _ => {}
        }
        let pos = FIELDS
            .iter()
            .position(|f| std::ptr::eq(f, info))
            .ok_or_else(|| BindError::UnknownField(name.to_string()))?;
        let id = IDS[pos];
        if k8s_api::is_api_field(id) {
            if arg.is_some_and(str::is_empty) {
                return Err(bad_arg(info, "", "empty argument"));
            }
            return Ok(BoundField {
                info,
                arg: arg.map(str::to_string),
                any_of: false,
                extractor: Box::new(k8s_api::K8sApiExtractor::new(id, arg, self.k8s_api.clone())),
            });
        }
        let mut any_of = false;
        let parsed = match (id, arg) {
            (_, None) => {
                any_of = matches!(
                    id,
                    F::ProcAname
                        | F::ProcApid
                        | F::ProcAexe
                        | F::ProcAexepath
                        | F::ProcAcmdline
                        | F::ProcAargs
                        | F::ProcAenv
                        | F::FdIp
                        | F::FdPort
                        | F::FdNet
                        | F::FdProto
                );
                Arg::None
            }
            (F::EvtArg, Some(a)) => {
                if is_index(a) {
                    Arg::Index(a.parse().map_err(|_| bad_arg(info, a, "index out of range"))?)
                } else if param_exists(a) {
                    Arg::Param(extract::ParamSel::new(a))
                } else {
                    return Err(bad_arg(info, a, "no event has an argument with this name"));
                }
            }
            (F::EvtRawarg, Some(a)) => {
                info = rawarg_info(a).ok_or_else(|| bad_arg(info, a, "no event has an argument with this name"))?;
                Arg::Param(extract::ParamSel::new(a))
            }
            (
                F::ProcAname
                | F::ProcApid
                | F::ProcAexe
                | F::ProcAexepath
                | F::ProcAcmdline
                | F::ProcAargs
                | F::ProcArgs,
                Some(a),
            ) => Arg::Index(
                a.trim()
                    .parse()
                    .map_err(|_| bad_arg(info, a, "expected a non-negative index"))?,
            ),
            (F::FdTypes, Some(a)) => Arg::Fd(
                a.trim()
                    .parse()
                    .map_err(|_| bad_arg(info, a, "expected an fd number"))?,
            ),
            (F::ProcEnv | F::ProcAenv, Some(a)) if is_index(a) => {
                Arg::Index(a.parse().map_err(|_| bad_arg(info, a, "index out of range"))?)
            }
            (
                F::ContainerMount
                | F::ContainerMountSource
                | F::ContainerMountDest
                | F::ContainerMountMode
                | F::ContainerMountRdwr
                | F::ContainerMountPropagation,
                Some(a),
            ) if is_index(a) => Arg::Index(a.parse().map_err(|_| bad_arg(info, a, "index out of range"))?),
            (F::EvtAbspath, Some(a)) => match a {
                "src" | "dst" => Arg::Key(a.as_bytes().to_vec()),
                _ => return Err(bad_arg(info, a, "expected 'src' or 'dst'")),
            },
            (F::EvtTypeIs, Some(a)) => Arg::Key(a.as_bytes().to_vec()),
            (_, Some(a)) => {
                if a.is_empty() {
                    return Err(bad_arg(info, a, "empty argument"));
                }
                Arg::Key(a.as_bytes().to_vec())
            }
        };
        Ok(BoundField {
            info,
            arg: arg.map(str::to_string),
            any_of,
            extractor: Box::new(SysExtractor::new(id, parsed)),
        })
    }

    fn num_event_codes(&self) -> usize {
        PPM_EVENT_MAX as usize + ppm_sc::PPM_SC_MAX as usize
    }

    fn event_codes_for(&self, evt_type: &str) -> Option<Vec<u16>> {
        let mut out: Vec<u16> = event_table()
            .iter()
            .filter(|e| e.name == evt_type && e.code != codes::GENERIC_E && e.code != codes::GENERIC_X)
            .map(|e| e.code)
            .collect();
        if let Some(sc) = ppm_sc::syscall_code(evt_type) {
            out.push(PPM_EVENT_MAX + sc);
        }
        if evt_type == "syscall" {
            out.extend([codes::GENERIC_E, codes::GENERIC_X]);
        }
        (!out.is_empty()).then_some(out)
    }

    fn event_code(&self, ev: &SysEvent<'_>) -> u16 {
        raw_event_code(ev.raw)
    }
}

#[cfg(test)]
mod tests;
