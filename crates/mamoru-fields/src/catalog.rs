//! Sources, catalogues and field binding.

use crate::value::{FieldType, Values};
use thiserror::Error;

/// How a field takes an argument (`proc.aname[2]`, `proc.env[HOME]`, `evt.arg.flags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgForm {
    /// A non-negative integer.
    Index,
    /// A string key.
    Key,
    /// Either (e.g. `evt.arg[0]` or `evt.arg[flags]`).
    IndexOrKey,
}

/// Whether a field takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgSpec {
    None,
    Required(ArgForm),
    Optional(ArgForm),
}

/// Field property bits (Falco's `EPF_*` where they matter to mamoru).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FieldFlags {
    /// The field is multi-valued (`EPF_IS_LIST`): only `in`, `intersects` and `exists` apply.
    pub is_list: bool,
    /// The field cannot appear on the right-hand side (`EPF_NO_RHS`).
    pub no_rhs: bool,
    /// Transformers cannot be applied (`EPF_NO_TRANSFORMER`).
    pub no_transformer: bool,
    /// Hidden from `mamoru fields` (`EPF_TABLE_ONLY`).
    pub hidden: bool,
    /// The argument may also be written in dotted form (`evt.arg.flags` for `evt.arg[flags]`).
    pub dotted_arg: bool,
    /// Deprecated field: using it gives a LOAD_DEPRECATED_ITEM warning.
    pub deprecated: bool,
}

/// One entry of the catalogue.
#[derive(Debug, Clone)]
pub struct FieldInfo {
    pub name: &'static str,
    pub ty: FieldType,
    pub arg: ArgSpec,
    pub flags: FieldFlags,
    pub desc: &'static str,
}

/// An event source: the type of event its extractors read.
pub trait Source: 'static {
    /// The event as extractors see it (e.g. a raw scap event plus the thread state; a parsed JSON record).
    type Event<'a>;
}

/// Reads a field's value(s) from an event into `out`. Pushing nothing means "no value" (`<NA>`, every comparison
/// false). A list or any-of field pushes one value per element.
pub trait Extractor<S: Source>: Send + Sync {
    fn extract(&self, ev: &S::Event<'_>, out: &mut Values);
}

/// A field reference bound to its catalogue entry and its extractor.
pub struct BoundField<S: Source> {
    pub info: &'static FieldInfo,
    /// The argument as written, if any.
    pub arg: Option<String>,
    /// When true and the field is not a list, a comparison is true if ANY pushed value satisfies it (`proc.aname`
    /// with no index, Falco's ancestor search).
    pub any_of: bool,
    pub extractor: Box<dyn Extractor<S>>,
}

/// Why a field reference could not be bound.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum BindError {
    #[error("unknown field '{0}'")]
    UnknownField(String),
    #[error("field '{field}' requires an argument")]
    ArgRequired { field: String },
    #[error("field '{field}' does not take an argument")]
    ArgNotAllowed { field: String },
    #[error("invalid argument '{arg}' for field '{field}': {why}")]
    BadArg { field: String, arg: String, why: String },
}

/// A source's field catalogue.
pub trait Catalog<S: Source>: Send + Sync {
    /// The source name rules use (`syscall`, `k8s_audit`, `aws_cloudtrail`, `okta`, `github`, `gcp_auditlog`).
    fn source_name(&self) -> &'static str;
    /// Every field, in the order `mamoru fields` lists them.
    fn fields(&self) -> &'static [FieldInfo];
    /// Binds `name` (possibly with a dotted argument) and an optional bracket argument.
    fn bind(&self, name: &str, arg: Option<&str>) -> Result<BoundField<S>, BindError>;
    /// Number of distinct event codes of this source (the size of the engine's per-type index).
    fn num_event_codes(&self) -> usize;
    /// Event codes that `evt.type = <name>` selects; `None` when the name is no event type of this source.
    fn event_codes_for(&self, evt_type: &str) -> Option<Vec<u16>>;
    /// The event code of `ev` (index into the engine's per-type rule lists).
    fn event_code(&self, ev: &S::Event<'_>) -> u16;
}

/// Resolves a field name as written to a catalogue entry and a dotted argument: an exact name wins; otherwise the
/// longest entry name that is a prefix followed by `.` and that accepts a dotted argument (`evt.arg.flags`).
pub fn resolve_field_name<'n>(
    fields: &'static [FieldInfo],
    name: &'n str,
) -> Option<(&'static FieldInfo, Option<&'n str>)> {
    if let Some(f) = fields.iter().find(|f| f.name == name) {
        return Some((f, None));
    }
    fields
        .iter()
        .filter(|f| f.flags.dotted_arg && !matches!(f.arg, ArgSpec::None))
        .filter(|f| name.len() > f.name.len() + 1 && name.starts_with(f.name) && name.as_bytes()[f.name.len()] == b'.')
        .max_by_key(|f| f.name.len())
        .map(|f| (f, Some(&name[f.name.len() + 1..])))
}

/// A `'static` catalogue reference is a catalogue: lets a shared static catalogue be handed to code that takes an
/// owned `Arc<dyn Catalog<S>>` (`Arc::new(catalog_ref)`).
impl<S: Source, C: Catalog<S> + ?Sized> Catalog<S> for &'static C {
    fn source_name(&self) -> &'static str {
        (**self).source_name()
    }
    fn fields(&self) -> &'static [FieldInfo] {
        (**self).fields()
    }
    fn bind(&self, name: &str, arg: Option<&str>) -> Result<BoundField<S>, BindError> {
        (**self).bind(name, arg)
    }
    fn num_event_codes(&self) -> usize {
        (**self).num_event_codes()
    }
    fn event_codes_for(&self, evt_type: &str) -> Option<Vec<u16>> {
        (**self).event_codes_for(evt_type)
    }
    fn event_code(&self, ev: &S::Event<'_>) -> u16 {
        (**self).event_code(ev)
    }
}
