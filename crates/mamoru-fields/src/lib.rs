//! The field catalogue: every field a condition or an output may name, per event source.
//!
//! A field is one table entry ([`FieldInfo`]: name, type, argument form, description, flags) plus an
//! [`Extractor`] that reads its value(s) from an event. `mamoru fields`, the rule type checker and the evaluator all
//! read the same table, so adding a field is one entry in one place. Sources are types implementing [`Source`]; each
//! has a [`Catalog`] that binds a field reference (`proc.aname[2]`, `evt.arg.flags`, `json.value[/a/b]`) to a
//! [`BoundField`]. Extractors write into a caller-owned [`Values`] arena, so extracting a field allocates nothing once
//! the arena has grown to its working size.

mod catalog;
pub mod json;
pub mod syscall;
mod value;

pub use catalog::{
    resolve_field_name, ArgForm, ArgSpec, BindError, BoundField, Catalog, Extractor, FieldFlags, FieldInfo, Source,
};
pub use value::{FieldType, IpNet, TypeClass, Value, Values};
