//! Alert rendering and delivery.
//!
//! An [`mamoru_engine::Alert`] is rendered here in Falco's alert schema, so that anything that consumes Falco's
//! output (falcosidekick, a SIEM pipeline, a script written for `falco -o json_output=true`) consumes mamoru's
//! unchanged: one JSON object per line with `hostname`, `output` (the message with its time and priority prefix),
//! `output_fields`, `priority`, `rule`, `source`, `tags` and `time`, or Falco's text line
//! `<time>: <Priority> <message>`. Time formatting is done here, in UTC, without a time-zone database.

mod format;
mod time;

pub use format::{render_json, render_text, AlertFormat, Renderer};
pub use time::{format_rfc3339_nanos, format_time_of_day};

/// The host name alerts carry: `FALCO_HOSTNAME` (Falco's override, honoured for drop-in compatibility), then
/// `MAMORU_HOSTNAME`, then the kernel's node name.
pub fn hostname() -> String {
    for var in ["MAMORU_HOSTNAME", "FALCO_HOSTNAME"] {
        if let Ok(h) = std::env::var(var) {
            if !h.is_empty() {
                return h;
            }
        }
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".to_string())
}
