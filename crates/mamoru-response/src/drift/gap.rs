//! The enforcement gap after a crash. While drift control runs, a marker file in `state_dir` is touched every
//! second; a clean stop removes it. A marker found at start means the previous agent died without stopping: from
//! its last heartbeat until now the kernel allowed every exec (fanotify answers pending permission events with
//! "allow" when the listener's group closes, and BPF programs detach with their process).

use crate::alert::{field_str, field_u64, mamoru_alert, now_ns};
use crate::error::ResponseError;
use mamoru_engine::Alert;
use mamoru_rules::loaded::Priority;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

const MARKER: &str = "drift-enforcer.alive";

/// The liveness marker of a running drift enforcer.
#[derive(Debug)]
pub struct LivenessMarker {
    path: PathBuf,
}

impl LivenessMarker {
    /// Creates the marker in `state_dir`; when the previous run left one, also returns the gap alert.
    pub fn acquire(state_dir: &Path, description: &str) -> Result<(LivenessMarker, Option<Alert>), ResponseError> {
        fs::create_dir_all(state_dir).map_err(ResponseError::io(format!("creating {}", state_dir.display())))?;
        let path = state_dir.join(MARKER);
        let gap = match fs::read_to_string(&path) {
            Ok(previous) => {
                let last_beat_ns = fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos() as u64);
                Some(gap_alert(previous.trim(), last_beat_ns))
            }
            Err(_) => None,
        };
        let marker = LivenessMarker { path };
        marker.write(description)?;
        Ok((marker, gap))
    }

    fn write(&self, description: &str) -> Result<(), ResponseError> {
        let text = format!("pid={} started_ns={} {description}\n", std::process::id(), now_ns());
        fs::write(&self.path, text).map_err(ResponseError::io(format!("writing {}", self.path.display())))
    }

    /// Records that enforcement is alive now.
    pub fn beat(&self) {
        let now = std::time::SystemTime::now();
        if let Err(e) = fs::File::options()
            .append(true)
            .open(&self.path)
            .and_then(|f| f.set_modified(now))
        {
            tracing::warn!(error = %e, path = %self.path.display(), "drift liveness marker not updated");
        }
    }

    /// Clean stop: no gap to report next time.
    pub fn release(self) {
        let _ = fs::remove_file(&self.path);
    }
}

fn gap_alert(previous: &str, last_beat_ns: u64) -> Alert {
    let now = now_ns();
    let secs = now.saturating_sub(last_beat_ns) as f64 / 1e9;
    mamoru_alert(
        "mamoru drift: enforcement gap",
        Priority::Critical,
        &["mamoru", "drift"],
        format!(
            "Drift enforcement stopped without a clean shutdown ({previous}); it was last alive {secs:.1} s ago. \
             Execs in that window were allowed by the kernel unchecked."
        ),
        vec![
            field_str("mamoru.previous", previous),
            field_u64("mamoru.gap.start", last_beat_ns),
            field_u64("mamoru.gap.end", now),
        ],
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_left_behind_is_reported_once() {
        let dir = tempfile::tempdir().unwrap();
        let (m, gap) = LivenessMarker::acquire(dir.path(), "mechanism=fanotify").unwrap();
        assert!(gap.is_none());
        m.beat();
        // Crash: the marker stays.
        std::mem::forget(m);
        let (m, gap) = LivenessMarker::acquire(dir.path(), "mechanism=fanotify").unwrap();
        let gap = gap.expect("gap alert");
        assert_eq!(&*gap.rule, "mamoru drift: enforcement gap");
        assert!(gap.message.contains("mechanism=fanotify"), "{}", gap.message);
        m.release();
        let (_m, gap) = LivenessMarker::acquire(dir.path(), "x").unwrap();
        assert!(gap.is_none());
    }
}
