//! Alerts mamoru raises about its own actions: response results, drift detections and blocks, enforcement gaps.

use mamoru_engine::{Alert, AlertSubject, FieldJson};
use mamoru_rules::loaded::Priority;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The `source` of every alert this crate raises.
pub const SOURCE: &str = "mamoru";

/// Current time, epoch nanoseconds.
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Builds an alert of source `mamoru`; `fields` are sorted by key as the engine's are.
pub fn mamoru_alert(
    rule: &str,
    priority: Priority,
    tags: &[&str],
    message: String,
    mut fields: Vec<(String, FieldJson)>,
    subject: Option<AlertSubject>,
) -> Alert {
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    let mut tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
    tags.sort();
    Alert {
        time_ns: now_ns(),
        rule: Arc::from(rule),
        priority,
        source: SOURCE,
        tags,
        message,
        output_fields: fields,
        subject,
    }
}

pub(crate) fn field_str(key: &str, value: impl Into<String>) -> (String, FieldJson) {
    (key.to_string(), FieldJson::String(value.into()))
}

pub(crate) fn field_u64(key: &str, value: u64) -> (String, FieldJson) {
    (key.to_string(), FieldJson::U64(value))
}

pub(crate) fn field_i64(key: &str, value: i64) -> (String, FieldJson) {
    (key.to_string(), FieldJson::I64(value))
}

pub(crate) fn field_opt_str(key: &str, value: Option<&str>) -> (String, FieldJson) {
    (
        key.to_string(),
        value.map_or(FieldJson::Null, |v| FieldJson::String(v.to_string())),
    )
}
