//! An alert as the router carries it: rendered once on the event path, with a unique id.

use mamoru_engine::Alert;
use mamoru_output::{render_json, render_text};
use mamoru_rules::Priority;
use uuid::Uuid;

/// A rendered alert. `json` is Falco's JSON alert with one extra key, `uuid` (the alert's unique id, as
/// falcosidekick adds it; Falco consumers ignore unknown keys); `text` is Falco's text line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub id: String,
    pub priority: Priority,
    pub source: String,
    pub json: String,
    pub text: String,
}

impl Envelope {
    /// Renders `alert` with a fresh id (UUID v7: time-ordered, so ids sort in generation order).
    pub fn new(alert: &Alert, hostname: &str) -> Envelope {
        let id = Uuid::now_v7().to_string();
        let mut json = render_json(alert, hostname);
        // render_json always yields a JSON object; the id goes in as its last key.
        if json.ends_with('}') {
            json.pop();
            json.push_str(",\"uuid\":\"");
            json.push_str(&id);
            json.push_str("\"}");
        }
        Envelope {
            id,
            priority: alert.priority,
            source: alert.source.to_string(),
            json,
            text: render_text(alert),
        }
    }

    /// The spool record: `<priority>\t<source>\t<id>\n<json>\n<text>`.
    pub fn encode(&self) -> Vec<u8> {
        format!(
            "{}\t{}\t{}\n{}\n{}",
            self.priority.as_str(),
            self.source,
            self.id,
            self.json,
            self.text
        )
        .into_bytes()
    }

    /// Reads a spool record back; `None` when it is not one (the checksum passed, so this is a format change).
    pub fn decode(bytes: &[u8]) -> Option<Envelope> {
        let s = std::str::from_utf8(bytes).ok()?;
        let (head, rest) = s.split_once('\n')?;
        let (json, text) = rest.split_once('\n')?;
        let mut parts = head.split('\t');
        let priority = Priority::parse(parts.next()?)?;
        let source = parts.next()?.to_string();
        let id = parts.next()?.to_string();
        Some(Envelope {
            id,
            priority,
            source,
            json: json.to_string(),
            text: text.to_string(),
        })
    }

    /// The line a text-or-JSON sink writes.
    pub fn line(&self, json: bool) -> &str {
        if json {
            &self.json
        } else {
            &self.text
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use mamoru_engine::FieldJson;
    use std::sync::Arc;

    pub(crate) fn alert(rule: &str, n: u64) -> Alert {
        Alert {
            time_ns: 1_700_000_000_000_000_000 + n,
            rule: Arc::from(rule),
            priority: Priority::Warning,
            source: "syscall",
            tags: vec!["test".into()],
            message: format!("test alert {n}\nsecond line"),
            output_fields: vec![("n".into(), FieldJson::U64(n))],
            subject: None,
        }
    }

    #[test]
    fn json_keeps_falcos_schema_and_adds_uuid() {
        let e = Envelope::new(&alert("r", 7), "h");
        let v: serde_json::Value = serde_json::from_str(&e.json).unwrap();
        assert_eq!(v["rule"], "r");
        assert_eq!(v["hostname"], "h");
        assert_eq!(v["output_fields"]["n"], 7);
        assert_eq!(v["uuid"], e.id.as_str());
        assert_ne!(Envelope::new(&alert("r", 7), "h").id, e.id);
        assert!(!e.text.contains('\n'));
    }

    #[test]
    fn spool_encoding_round_trips() {
        let e = Envelope::new(&alert("a rule\twith tab", 1), "h");
        assert_eq!(Envelope::decode(&e.encode()), Some(e.clone()));
        assert_eq!(Envelope::decode(b"garbage"), None);
    }
}
