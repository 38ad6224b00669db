//! Falco's alert schema, as JSON and as text.

use mamoru_engine::{Alert, FieldJson};
use serde_json::{Map, Value};

use crate::time::{format_rfc3339_nanos, format_time_of_day};

/// How alerts are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertFormat {
    /// One JSON object per line in Falco's schema (`json_output: true`).
    Json,
    /// Falco's text line: `<time>: <Priority> <message>`.
    Text,
}

impl std::str::FromStr for AlertFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "json" => Ok(AlertFormat::Json),
            "text" => Ok(AlertFormat::Text),
            other => Err(format!("unknown output format '{other}' (expected json or text)")),
        }
    }
}

/// Renders alerts for one host in one format.
#[derive(Debug, Clone)]
pub struct Renderer {
    pub format: AlertFormat,
    pub hostname: String,
}

impl Renderer {
    pub fn new(format: AlertFormat, hostname: String) -> Self {
        Renderer { format, hostname }
    }

    /// One line (without the trailing newline).
    pub fn render(&self, alert: &Alert) -> String {
        match self.format {
            AlertFormat::Json => render_json(alert, &self.hostname),
            AlertFormat::Text => render_text(alert),
        }
    }
}

fn field_json(v: &FieldJson) -> Value {
    match v {
        FieldJson::Null => Value::Null,
        FieldJson::U64(n) => Value::from(*n),
        FieldJson::I64(n) => Value::from(*n),
        FieldJson::F64(n) => serde_json::Number::from_f64(*n)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        FieldJson::Bool(b) => Value::Bool(*b),
        FieldJson::String(s) => Value::String(s.clone()),
        FieldJson::Array(items) => Value::Array(items.iter().map(field_json).collect()),
    }
}

/// Falco's JSON alert: keys sorted as Falco's JSON library emits them; `output` carries the ISO-8601 time and
/// priority prefix; `output_fields` holds every field of the rule's output plus `evt.time` (the prefix field, as the
/// raw nanosecond timestamp).
pub fn render_json(alert: &Alert, hostname: &str) -> String {
    let mut fields = Map::new();
    fields.insert("evt.time".to_string(), Value::from(alert.time_ns));
    for (k, v) in &alert.output_fields {
        fields.insert(k.clone(), field_json(v));
    }
    let mut obj = Map::new();
    obj.insert("hostname".into(), Value::String(hostname.to_string()));
    obj.insert(
        "output".into(),
        Value::String(format!(
            "{}: {} {}",
            format_rfc3339_nanos(alert.time_ns, "+0000"),
            alert.priority.as_str(),
            alert.message
        )),
    );
    obj.insert("output_fields".into(), Value::Object(fields));
    obj.insert("priority".into(), Value::String(alert.priority.as_str().to_string()));
    obj.insert("rule".into(), Value::String(alert.rule.to_string()));
    obj.insert("source".into(), Value::String(alert.source.to_string()));
    obj.insert(
        "tags".into(),
        Value::Array(alert.tags.iter().map(|t| Value::String(t.clone())).collect()),
    );
    obj.insert("time".into(), Value::String(format_rfc3339_nanos(alert.time_ns, "Z")));
    Value::Object(obj).to_string()
}

/// Falco's text alert line, with the default `evt.time` prefix (time of day, UTC). Control characters in the
/// message are escaped so one alert is always one line.
pub fn render_text(alert: &Alert) -> String {
    let mut line = format!("{}: {} ", format_time_of_day(alert.time_ns), alert.priority.as_str());
    for c in alert.message.chars() {
        match c {
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            '\t' => line.push_str("\\t"),
            c if c.is_control() => line.push_str(&format!("\\u{:04x}", c as u32)),
            c => line.push(c),
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamoru_rules::loaded::Priority;
    use std::sync::Arc;

    fn sample() -> Alert {
        Alert {
            time_ns: 1_470_327_477_881_781_397,
            rule: Arc::from("open_from_cat"),
            priority: Priority::Warning,
            source: "syscall",
            tags: vec!["filesystem".into(), "process".into()],
            message: "An open was seen (command=cat /dev/null)".into(),
            output_fields: vec![
                ("proc.cmdline".into(), FieldJson::String("cat /dev/null".into())),
                ("proc.tty".into(), FieldJson::U64(0)),
                ("user.loginuid".into(), FieldJson::I64(-1)),
                ("container.id".into(), FieldJson::Null),
            ],
            subject: None,
        }
    }

    #[test]
    fn json_alert_has_falcos_schema() {
        let v: Value = serde_json::from_str(&render_json(&sample(), "test-host")).unwrap();
        assert_eq!(v["hostname"], "test-host");
        assert_eq!(v["rule"], "open_from_cat");
        assert_eq!(v["priority"], "Warning");
        assert_eq!(v["source"], "syscall");
        assert_eq!(v["time"], "2016-08-04T16:17:57.881781397Z");
        assert_eq!(
            v["output"],
            "2016-08-04T16:17:57.881781397+0000: Warning An open was seen (command=cat /dev/null)"
        );
        assert_eq!(v["tags"], serde_json::json!(["filesystem", "process"]));
        assert_eq!(v["output_fields"]["evt.time"], 1_470_327_477_881_781_397u64);
        assert_eq!(v["output_fields"]["proc.cmdline"], "cat /dev/null");
        assert_eq!(v["output_fields"]["proc.tty"], 0);
        assert_eq!(v["output_fields"]["user.loginuid"], -1);
        assert!(v["output_fields"]["container.id"].is_null());
    }

    #[test]
    fn text_alert_is_one_escaped_line() {
        let mut a = sample();
        a.message = "evil\nsecond line".into();
        assert_eq!(render_text(&a), "16:17:57.881781397: Warning evil\\nsecond line");
    }
}
