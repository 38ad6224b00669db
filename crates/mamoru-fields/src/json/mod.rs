//! Fields of the JSON (plugin) sources: `k8s_audit`, `aws_cloudtrail`, `okta`, `github`, `gcp_auditlog`.
//!
//! Each source has one [`JsonCatalog`] holding the fields of its Falco plugin (same names, types, argument forms
//! and semantics; see `docs` of each submodule for the few places where mamoru deliberately follows the plugin's
//! evident intent instead of a bug), plus what every plugin event offers in Falco: the generic `evt.*` fields
//! (`evt.time`, `evt.rawtime`, `evt.num`, `evt.source`, `evt.plugininfo`, ...) and the json plugin's
//! `json.value[<pointer>]`, `json.obj`, `json.rawtime` with their `jevt.*` aliases.
//!
//! An event is a [`JsonEvent`]: the record as a validated JSON tape ([`JsonRef`], from `mamoru-records`; objects
//! render from their original text, with the plugins' key order and spelling), its timestamp, its number and the
//! run's [`JsonContext`]. Extractors look values up by path tokens fixed at bind time and write into the caller's
//! [`Values`] arena; they do not allocate.
//!
//! Missing values follow the plugins (see §0 of the sources reference): most fields have no value when their path
//! is absent; fields of plugins that fill a Go struct or always call `SetValue` (okta, github, some gcp fields)
//! give `""` instead. Where a plugin would hand back `""` for a present non-string value (fastjson
//! `GetStringBytes`), mamoru renders the value's JSON text, which is what the shipped rules evidently expect.

mod cloudtrail;
mod context;
mod gcp;
mod github;
mod k8s;
mod okta;
mod path;
mod timefmt;

pub use context::{JsonContext, DEFAULT_OKTA_CACHE_EXPIRATION_S, DEFAULT_OKTA_CACHE_USERMAXSIZE};
pub use github::WEBHOOK_TYPE_KEY as GITHUB_WEBHOOK_TYPE_KEY;
pub use path::JsonPointer;

use crate::catalog::{resolve_field_name, ArgForm, ArgSpec, BindError, BoundField, Catalog, Extractor, FieldFlags};
use crate::catalog::{FieldInfo, Source};
use crate::value::{FieldType, Values};
pub use mamoru_records::JsonRef;
use std::sync::OnceLock;

/// The source type of every JSON plugin source.
pub struct JsonSource;

impl Source for JsonSource {
    type Event<'a> = JsonEvent<'a>;
}

/// One record as extractors see it.
#[derive(Debug, Clone, Copy)]
pub struct JsonEvent<'a> {
    /// The record.
    pub value: JsonRef<'a>,
    /// The record's JSON text (`value.raw()`).
    pub raw: &'a [u8],
    /// Event time, nanoseconds since the epoch.
    pub ts_ns: u64,
    /// `evt.num`: 1 for the first event of the run.
    pub num: u64,
    /// The run's context (host name, okta settings and history).
    pub ctx: &'a JsonContext,
}

static EMPTY_CONTEXT: JsonContext = JsonContext::empty();

impl<'a> JsonEvent<'a> {
    /// An event with number 0 and an empty context; see [`JsonEvent::with_num`] and [`JsonEvent::with_context`].
    pub fn new(value: JsonRef<'a>, ts_ns: u64) -> JsonEvent<'a> {
        JsonEvent {
            value,
            raw: value.raw(),
            ts_ns,
            num: 0,
            ctx: &EMPTY_CONTEXT,
        }
    }

    pub fn with_num(self, num: u64) -> JsonEvent<'a> {
        JsonEvent { num, ..self }
    }

    pub fn with_context(self, ctx: &'a JsonContext) -> JsonEvent<'a> {
        JsonEvent { ctx, ..self }
    }
}

/// Source names of the JSON sources, as rules name them in `source:`.
pub const JSON_SOURCES: &[&str] = &["k8s_audit", "aws_cloudtrail", "okta", "github", "gcp_auditlog"];

/// Which plugin a catalogue mirrors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceKind {
    K8sAudit,
    CloudTrail,
    Okta,
    Github,
    GcpAudit,
}

impl SourceKind {
    const ALL: [SourceKind; 5] = [
        SourceKind::K8sAudit,
        SourceKind::CloudTrail,
        SourceKind::Okta,
        SourceKind::Github,
        SourceKind::GcpAudit,
    ];

    fn source_name(self) -> &'static str {
        match self {
            SourceKind::K8sAudit => "k8s_audit",
            SourceKind::CloudTrail => "aws_cloudtrail",
            SourceKind::Okta => "okta",
            SourceKind::Github => "github",
            SourceKind::GcpAudit => "gcp_auditlog",
        }
    }

    /// The Falco plugin name (`evt.pluginname`).
    fn plugin_name(self) -> &'static str {
        match self {
            SourceKind::K8sAudit => "k8saudit",
            SourceKind::CloudTrail => "cloudtrail",
            SourceKind::Okta => "okta",
            SourceKind::Github => "github",
            SourceKind::GcpAudit => "gcpaudit",
        }
    }

    fn plugin_fields(self) -> &'static [(FieldInfo, Bind)] {
        match self {
            SourceKind::K8sAudit => k8s::FIELDS,
            SourceKind::CloudTrail => cloudtrail::FIELDS,
            SourceKind::Okta => okta::FIELDS,
            SourceKind::Github => github::FIELDS,
            SourceKind::GcpAudit => gcp::FIELDS,
        }
    }
}

/// How a catalogue entry binds: the extraction function, by the argument it takes.
#[derive(Clone, Copy)]
pub(crate) enum Bind {
    /// No argument.
    Plain(fn(&JsonEvent<'_>, &mut Values)),
    /// An optional or required index argument.
    Index(fn(&JsonEvent<'_>, Option<usize>, &mut Values)),
    /// A required key argument.
    Key(fn(&JsonEvent<'_>, &str, &mut Values)),
    /// A required JSON pointer argument.
    Pointer(fn(&JsonEvent<'_>, &JsonPointer, &mut Values)),
    /// Needs to know which source it is bound in.
    Source(fn(&JsonEvent<'_>, SourceKind, &mut Values)),
}

struct PlainX(fn(&JsonEvent<'_>, &mut Values));
struct IndexX(fn(&JsonEvent<'_>, Option<usize>, &mut Values), Option<usize>);
struct KeyX(fn(&JsonEvent<'_>, &str, &mut Values), Box<str>);
struct PointerX(fn(&JsonEvent<'_>, &JsonPointer, &mut Values), JsonPointer);
struct SourceX(fn(&JsonEvent<'_>, SourceKind, &mut Values), SourceKind);

impl Extractor<JsonSource> for PlainX {
    fn extract(&self, ev: &JsonEvent<'_>, out: &mut Values) {
        (self.0)(ev, out)
    }
}
impl Extractor<JsonSource> for IndexX {
    fn extract(&self, ev: &JsonEvent<'_>, out: &mut Values) {
        (self.0)(ev, self.1, out)
    }
}
impl Extractor<JsonSource> for KeyX {
    fn extract(&self, ev: &JsonEvent<'_>, out: &mut Values) {
        (self.0)(ev, &self.1, out)
    }
}
impl Extractor<JsonSource> for PointerX {
    fn extract(&self, ev: &JsonEvent<'_>, out: &mut Values) {
        (self.0)(ev, &self.1, out)
    }
}
impl Extractor<JsonSource> for SourceX {
    fn extract(&self, ev: &JsonEvent<'_>, out: &mut Values) {
        (self.0)(ev, self.1, out)
    }
}

// Table-building helpers shared by the source modules.
pub(crate) const S: FieldType = FieldType::Charbuf;
pub(crate) const U64: FieldType = FieldType::Uint64;
pub(crate) const NO_ARG: ArgSpec = ArgSpec::None;
pub(crate) const OPT_INDEX: ArgSpec = ArgSpec::Optional(ArgForm::Index);
pub(crate) const REQ_INDEX: ArgSpec = ArgSpec::Required(ArgForm::Index);
pub(crate) const REQ_KEY: ArgSpec = ArgSpec::Required(ArgForm::Key);
pub(crate) const PLAIN: FieldFlags = FieldFlags {
    is_list: false,
    no_rhs: false,
    no_transformer: false,
    hidden: false,
    dotted_arg: false,
    deprecated: false,
};
pub(crate) const LIST: FieldFlags = FieldFlags { is_list: true, ..PLAIN };
pub(crate) const HIDDEN: FieldFlags = FieldFlags { hidden: true, ..PLAIN };
pub(crate) const DEPRECATED: FieldFlags = FieldFlags {
    deprecated: true,
    ..PLAIN
};

/// A catalogue entry.
pub(crate) const fn field(
    name: &'static str,
    ty: FieldType,
    arg: ArgSpec,
    flags: FieldFlags,
    desc: &'static str,
) -> FieldInfo {
    FieldInfo {
        name,
        ty,
        arg,
        flags,
        desc,
    }
}

/// The field catalogue of one JSON source: `evt.*`, the plugin's fields, then `json.*`/`jevt.*`.
pub struct JsonCatalog {
    kind: SourceKind,
    fields: &'static [FieldInfo],
    binds: Vec<Bind>,
}

impl JsonCatalog {
    fn build(kind: SourceKind) -> JsonCatalog {
        let rows = EVT_FIELDS.iter().chain(kind.plugin_fields()).chain(JSON_FIELDS);
        let (fields, binds): (Vec<FieldInfo>, Vec<Bind>) = rows.cloned().unzip();
        // Built once per source for the life of the process (five small tables).
        let fields: &'static [FieldInfo] = Box::leak(fields.into_boxed_slice());
        JsonCatalog { kind, fields, binds }
    }

    fn bind_at(
        &self,
        index: usize,
        info: &'static FieldInfo,
        arg: Option<&str>,
    ) -> Result<BoundField<JsonSource>, BindError> {
        let field = || info.name.to_string();
        match (info.arg, arg) {
            (ArgSpec::None, Some(_)) => return Err(BindError::ArgNotAllowed { field: field() }),
            (ArgSpec::Required(_), None) => return Err(BindError::ArgRequired { field: field() }),
            _ => {}
        }
        let bad_arg = |why: String| BindError::BadArg {
            field: field(),
            arg: arg.unwrap_or_default().to_string(),
            why,
        };
        let extractor: Box<dyn Extractor<JsonSource>> = match self.binds[index] {
            Bind::Plain(f) => Box::new(PlainX(f)),
            Bind::Source(f) => Box::new(SourceX(f, self.kind)),
            Bind::Index(f) => {
                let idx = match arg {
                    None => None,
                    Some(a) => Some(
                        path::parse_index(a.trim())
                            .ok_or_else(|| bad_arg("expected a non-negative integer index".to_string()))?,
                    ),
                };
                Box::new(IndexX(f, idx))
            }
            Bind::Key(f) => Box::new(KeyX(f, arg.unwrap_or_default().into())),
            Bind::Pointer(f) => Box::new(PointerX(
                f,
                JsonPointer::parse(arg.unwrap_or_default()).map_err(bad_arg)?,
            )),
        };
        Ok(BoundField {
            info,
            arg: arg.map(str::to_string),
            any_of: false,
            extractor,
        })
    }
}

impl Catalog<JsonSource> for JsonCatalog {
    fn source_name(&self) -> &'static str {
        self.kind.source_name()
    }

    fn fields(&self) -> &'static [FieldInfo] {
        self.fields
    }

    fn bind(&self, name: &str, arg: Option<&str>) -> Result<BoundField<JsonSource>, BindError> {
        let (info, dotted) =
            resolve_field_name(self.fields, name).ok_or_else(|| BindError::UnknownField(name.to_string()))?;
        let arg = match (dotted, arg) {
            (Some(d), None) => Some(d),
            (Some(_), Some(_)) => return Err(BindError::UnknownField(name.to_string())),
            (None, a) => a,
        };
        let index = self
            .fields
            .iter()
            .position(|f| std::ptr::eq(f, info))
            .unwrap_or_default();
        self.bind_at(index, info, arg)
    }

    fn num_event_codes(&self) -> usize {
        1
    }

    /// Plugin events have no `evt.type` in Falco (their only code is the plugin-event code), so no name selects one.
    fn event_codes_for(&self, _evt_type: &str) -> Option<Vec<u16>> {
        None
    }

    fn event_code(&self, _ev: &JsonEvent<'_>) -> u16 {
        0
    }
}

fn catalogs() -> &'static [JsonCatalog] {
    static CATALOGS: OnceLock<Vec<JsonCatalog>> = OnceLock::new();
    CATALOGS.get_or_init(|| SourceKind::ALL.iter().map(|&k| JsonCatalog::build(k)).collect())
}

/// The catalogue of a JSON source by its rule-facing name (`k8s_audit`, `aws_cloudtrail`, `okta`, `github`,
/// `gcp_auditlog`).
pub fn catalog_for(source: &str) -> Option<&'static dyn Catalog<JsonSource>> {
    catalogs()
        .iter()
        .find(|c| c.kind.source_name() == source)
        .map(|c| c as &'static dyn Catalog<JsonSource>)
}

// ---------------------------------------------------------------------------------------------------------------
// Fields every plugin event has.

const NS: u64 = 1_000_000_000;

fn reltime(ev: &JsonEvent<'_>) -> u64 {
    ev.ts_ns.saturating_sub(ev.ctx.first_ts().unwrap_or(ev.ts_ns))
}

/// `evt.plugininfo`: the plugin's one-line rendering of the event (its `String()` method).
fn push_plugininfo(ev: &JsonEvent<'_>, kind: SourceKind, out: &mut Values) {
    match kind {
        SourceKind::CloudTrail => cloudtrail::push_plugininfo(ev, out),
        SourceKind::Github => github::push_plugininfo(ev, out),
        SourceKind::K8sAudit | SourceKind::Okta | SourceKind::GcpAudit => out.push_bytes(ev.raw),
    }
}

static EVT_FIELDS: &[(FieldInfo, Bind)] = &[
    (
        field("evt.num", U64, NO_ARG, PLAIN, "event number."),
        Bind::Plain(|ev, out| out.push_u64(ev.num)),
    ),
    (
        field(
            "evt.time",
            S,
            NO_ARG,
            PLAIN,
            "event timestamp as a time string that includes the nanosecond part.",
        ),
        Bind::Plain(|ev, out| timefmt::push_time(ev.ts_ns, true, out)),
    ),
    (
        field(
            "evt.time.s",
            S,
            NO_ARG,
            PLAIN,
            "event timestamp as a time string with no nanoseconds.",
        ),
        Bind::Plain(|ev, out| timefmt::push_time(ev.ts_ns, false, out)),
    ),
    (
        field(
            "evt.time.iso8601",
            S,
            NO_ARG,
            PLAIN,
            "event timestamp in ISO 8601 format, including nanoseconds and time zone offset (in UTC).",
        ),
        Bind::Plain(|ev, out| timefmt::push_iso8601(ev.ts_ns, out)),
    ),
    (
        field(
            "evt.datetime",
            S,
            NO_ARG,
            PLAIN,
            "event timestamp as a time string that includes the date.",
        ),
        Bind::Plain(|ev, out| timefmt::push_datetime(ev.ts_ns, true, out)),
    ),
    (
        field(
            "evt.datetime.s",
            S,
            NO_ARG,
            PLAIN,
            "event timestamp as a datetime string with no nanoseconds.",
        ),
        Bind::Plain(|ev, out| timefmt::push_datetime(ev.ts_ns, false, out)),
    ),
    (
        field(
            "evt.rawtime",
            FieldType::Abstime,
            NO_ARG,
            PLAIN,
            "absolute event timestamp, i.e. nanoseconds from epoch.",
        ),
        Bind::Plain(|ev, out| out.push_u64(ev.ts_ns)),
    ),
    (
        field(
            "evt.rawtime.s",
            FieldType::Abstime,
            NO_ARG,
            PLAIN,
            "integer part of the event timestamp (e.g. seconds since epoch).",
        ),
        Bind::Plain(|ev, out| out.push_u64(ev.ts_ns / NS)),
    ),
    (
        field(
            "evt.rawtime.ns",
            FieldType::Abstime,
            NO_ARG,
            PLAIN,
            "fractional part of the absolute event timestamp.",
        ),
        Bind::Plain(|ev, out| out.push_u64(ev.ts_ns % NS)),
    ),
    (
        field(
            "evt.reltime",
            FieldType::Reltime,
            NO_ARG,
            PLAIN,
            "number of nanoseconds from the beginning of the capture.",
        ),
        Bind::Plain(|ev, out| out.push_u64(reltime(ev))),
    ),
    (
        field(
            "evt.reltime.s",
            FieldType::Reltime,
            NO_ARG,
            PLAIN,
            "number of seconds from the beginning of the capture.",
        ),
        Bind::Plain(|ev, out| out.push_u64(reltime(ev) / NS)),
    ),
    (
        field(
            "evt.reltime.ns",
            FieldType::Reltime,
            NO_ARG,
            PLAIN,
            "fractional part (in ns) of the time from the beginning of the capture.",
        ),
        Bind::Plain(|ev, out| out.push_u64(reltime(ev) % NS)),
    ),
    (
        field(
            "evt.pluginname",
            S,
            NO_ARG,
            PLAIN,
            "if the event comes from a plugin-defined event source, the name of the plugin that generated it.",
        ),
        Bind::Source(|_, kind, out| out.push_bytes(kind.plugin_name().as_bytes())),
    ),
    (
        field(
            "evt.plugininfo",
            S,
            NO_ARG,
            PLAIN,
            "if the event comes from a plugin-defined event source, a summary of the event as formatted by the plugin.",
        ),
        Bind::Source(push_plugininfo),
    ),
    (
        field(
            "evt.source",
            S,
            NO_ARG,
            PLAIN,
            "the name of the source that produced the event.",
        ),
        Bind::Source(|_, kind, out| out.push_bytes(kind.source_name().as_bytes())),
    ),
    (
        field(
            "evt.is_async",
            FieldType::Bool,
            NO_ARG,
            PLAIN,
            "'true' for asynchronous events, 'false' otherwise.",
        ),
        Bind::Plain(|_, out| out.push_bool(false)),
    ),
    (
        field(
            "evt.asynctype",
            S,
            NO_ARG,
            PLAIN,
            "If the event is asynchronous, the type of the event (e.g. 'container').",
        ),
        Bind::Plain(|_, _| {}),
    ),
    (
        field(
            "evt.hostname",
            S,
            NO_ARG,
            PLAIN,
            "The hostname of the underlying host (FALCO_HOSTNAME when set, else the kernel's host name).",
        ),
        Bind::Plain(|ev, out| {
            if !ev.ctx.hostname.is_empty() {
                out.push_bytes(ev.ctx.hostname.as_bytes())
            }
        }),
    ),
];

/// `json.value[<pointer>]`: the value at the pointer, strings as themselves, anything else as JSON text.
fn json_value(ev: &JsonEvent<'_>, ptr: &JsonPointer, out: &mut Values) {
    if let Some(v) = ptr.lookup(ev.value) {
        path::push_text(v, out);
    }
}

fn json_obj(ev: &JsonEvent<'_>, out: &mut Values) {
    path::push_indented(ev.raw, out);
}

const JSON_VALUE_DESC: &str = "Extracts a value from a JSON-encoded input. Syntax is json.value[<json pointer>], \
     where <json pointer> is a json pointer (see https://datatracker.ietf.org/doc/html/rfc6901)";

static JSON_FIELDS: &[(FieldInfo, Bind)] = &[
    (
        field("json.value", S, REQ_KEY, PLAIN, JSON_VALUE_DESC),
        Bind::Pointer(json_value),
    ),
    (
        field("json.obj", S, NO_ARG, PLAIN, "The full json message as a text string."),
        Bind::Plain(json_obj),
    ),
    (
        field(
            "json.rawtime",
            U64,
            NO_ARG,
            PLAIN,
            "The time of the event, identical to evt.rawtime.",
        ),
        Bind::Plain(|ev, out| out.push_u64(ev.ts_ns)),
    ),
    (
        field(
            "jevt.value",
            S,
            REQ_KEY,
            PLAIN,
            "Alias for json.value, provided for backwards compatibility.",
        ),
        Bind::Pointer(json_value),
    ),
    (
        field(
            "jevt.obj",
            S,
            NO_ARG,
            PLAIN,
            "Alias for json.obj, provided for backwards compatibility.",
        ),
        Bind::Plain(json_obj),
    ),
    (
        field(
            "jevt.rawtime",
            U64,
            NO_ARG,
            PLAIN,
            "Alias for json.rawtime, provided for backwards compatibility.",
        ),
        Bind::Plain(|ev, out| out.push_u64(ev.ts_ns)),
    ),
];
