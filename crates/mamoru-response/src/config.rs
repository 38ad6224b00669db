//! The `response:` section of the mamoru configuration file, as a serde struct the config loader embeds.
//!
//! ```yaml
//! response:
//!   enabled: true
//!   start_time_tolerance_ms: 100
//!   runtime: { kind: containerd, address: /run/containerd/containerd.sock, namespace: k8s.io }
//!   actions:
//!     - match: { rules: ["Terminal shell in container"], tags: [], min_priority: Critical }
//!       actions: [kill_process]
//!   drift:
//!     enabled: true
//!     mode: block            # detect | block
//!     mechanism: auto        # auto | bpf_lsm | fanotify | bpf_kill
//!     memfd: block           # off | detect | block
//!     allow: ["/usr/local/bin/entrypoint-helper", "/tmp/build-*"]
//!     scope: { images: ["registry.example/app*"], namespaces: [prod], labels: { drift: enforce } }
//!     state_dir: /var/lib/mamoru
//! ```

use crate::error::ResponseError;
use mamoru_engine::Alert;
use mamoru_rules::loaded::Priority;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Response actions and drift control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResponseConfig {
    /// Master switch for response actions (drift control has its own).
    pub enabled: bool,
    /// How far the alert's process start time may be from the one in /proc (clock-tick rounding and the time
    /// between fork and the sensor's clone event) and still be the same process. Safe while a pid cannot be
    /// reused within this window: pids are allocated cyclically, so that takes `pid_max` (32768 at least) forks.
    pub start_time_tolerance_ms: u64,
    /// The container runtime that pauses and stops containers.
    pub runtime: RuntimeConfig,
    /// Which alerts trigger which actions; every matching entry runs.
    pub actions: Vec<ActionRule>,
    pub drift: DriftConfig,
}

impl Default for ResponseConfig {
    fn default() -> Self {
        ResponseConfig {
            enabled: false,
            start_time_tolerance_ms: 100,
            runtime: RuntimeConfig::default(),
            actions: Vec::new(),
            drift: DriftConfig::default(),
        }
    }
}

/// One entry of `response.actions`: a selector and the actions it triggers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRule {
    #[serde(rename = "match", default)]
    pub when: AlertSelector,
    pub actions: Vec<ActionKind>,
}

/// Selects alerts: by rule name or by tag (either matches; both empty means any rule), and at least as severe
/// as `min_priority` when set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertSelector {
    pub rules: Vec<String>,
    pub tags: Vec<String>,
    pub min_priority: Option<String>,
}

impl AlertSelector {
    /// Whether `alert` is selected. `min_priority` must have been validated ([`ResponseConfig::validate`]).
    pub fn matches(&self, alert: &Alert) -> bool {
        let by_name = self.rules.is_empty() && self.tags.is_empty()
            || self.rules.iter().any(|r| **r == *alert.rule)
            || self.tags.iter().any(|t| alert.tags.iter().any(|at| at == t));
        let severe_enough = match self.min_priority.as_deref().and_then(Priority::parse) {
            // Priorities are ordered most severe first.
            Some(min) => alert.priority <= min,
            None => true,
        };
        by_name && severe_enough
    }
}

/// A response action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// SIGKILL the alerted process through a pidfd after checking its start time.
    KillProcess,
    /// SIGKILL every process of the alerted process's process group, each through a verified pidfd.
    KillProcessGroup,
    /// Freeze the alerted process's container through its runtime.
    PauseContainer,
    /// Kill the alerted process's container (its init with SIGKILL) through its runtime.
    StopContainer,
}

impl ActionKind {
    /// The name used in the action's own alert (`mamoru response: kill`).
    pub fn label(self) -> &'static str {
        match self {
            ActionKind::KillProcess => "kill",
            ActionKind::KillProcessGroup => "kill process group",
            ActionKind::PauseContainer => "pause container",
            ActionKind::StopContainer => "stop container",
        }
    }
}

/// Which runtime manages the containers, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeConfig {
    pub kind: RuntimeKind,
    /// The runtime's command-line client (`runc` or `ctr`); looked up in PATH when relative.
    pub binary: Option<PathBuf>,
    /// runc: its state directory (`runc --root`).
    pub root: Option<PathBuf>,
    /// containerd: its socket.
    pub address: Option<PathBuf>,
    /// containerd: the namespace (`k8s.io` under Kubernetes).
    pub namespace: String,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            kind: RuntimeKind::Containerd,
            binary: None,
            root: None,
            address: None,
            namespace: "default".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeKind {
    Containerd,
    Runc,
}

/// Drift control: executables that were not in the container's image must not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriftConfig {
    pub enabled: bool,
    /// `detect` raises alerts only; `block` stops the exec (and alerts).
    pub mode: DriftMode,
    /// Which mechanism blocks; `auto` picks the strongest the startup probe finds.
    pub mechanism: MechanismChoice,
    /// Exec of a memfd (fileless malware).
    pub memfd: MemfdMode,
    /// Executables (paths inside the container; `*` matches any run of characters, `?` one) that may run even
    /// when they are new. The BPF mechanisms resolve entries without wildcards to inodes when a container is added.
    pub allow: Vec<String>,
    pub scope: DriftScope,
    /// Where the enforcer keeps its liveness marker, to report an enforcement gap after a crash.
    pub state_dir: PathBuf,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            enabled: false,
            mode: DriftMode::Detect,
            mechanism: MechanismChoice::Auto,
            memfd: MemfdMode::Detect,
            allow: Vec::new(),
            scope: DriftScope::default(),
            state_dir: PathBuf::from("/var/lib/mamoru"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftMode {
    Detect,
    Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemfdMode {
    Off,
    Detect,
    Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MechanismChoice {
    Auto,
    BpfLsm,
    Fanotify,
    BpfKill,
}

/// Which containers drift control covers. Every non-empty list must match (images by glob, namespaces exactly,
/// labels all present with these values); all empty means every container.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriftScope {
    pub images: Vec<String>,
    pub namespaces: Vec<String>,
    pub labels: BTreeMap<String, String>,
}

impl ResponseConfig {
    /// Checks what serde cannot: priorities, actions lists, paths. Errors name the key.
    pub fn validate(&self) -> Result<(), ResponseError> {
        for (i, rule) in self.actions.iter().enumerate() {
            let key = format!("response.actions[{i}]");
            if rule.actions.is_empty() {
                return Err(ResponseError::config(format!("{key}.actions"), "lists no action"));
            }
            if let Some(p) = &rule.when.min_priority {
                if Priority::parse(p).is_none() {
                    return Err(ResponseError::config(
                        format!("{key}.match.min_priority"),
                        format!("{p:?} is not a priority (emergency, alert, critical, error, warning, notice, informational, debug)"),
                    ));
                }
            }
        }
        for (i, path) in self.drift.allow.iter().enumerate() {
            if !path.starts_with('/') {
                return Err(ResponseError::config(
                    format!("response.drift.allow[{i}]"),
                    format!("{path:?} is not an absolute path inside the container"),
                ));
            }
        }
        if self.drift.enabled && !self.drift.state_dir.is_absolute() {
            return Err(ResponseError::config(
                "response.drift.state_dir",
                format!("{} is not an absolute path", self.drift.state_dir.display()),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::mamoru_alert;

    fn parse(json: &str) -> ResponseConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn defaults_and_a_full_section() {
        let d = ResponseConfig::default();
        assert!(!d.enabled && !d.drift.enabled);
        assert_eq!(d.drift.mode, DriftMode::Detect);
        let cfg = parse(
            r#"{"enabled": true,
                "actions": [{"match": {"tags": ["shell"], "min_priority": "critical"},
                             "actions": ["kill_process", "pause_container"]}],
                "runtime": {"kind": "runc", "root": "/run/runc"},
                "drift": {"enabled": true, "mode": "block", "mechanism": "fanotify", "memfd": "off",
                          "allow": ["/opt/*"], "scope": {"namespaces": ["prod"], "labels": {"a": "b"}}}}"#,
        );
        cfg.validate().unwrap();
        assert_eq!(
            cfg.actions[0].actions,
            vec![ActionKind::KillProcess, ActionKind::PauseContainer]
        );
        assert_eq!(cfg.runtime.kind, RuntimeKind::Runc);
        assert_eq!(cfg.drift.mechanism, MechanismChoice::Fanotify);
        assert_eq!(cfg.drift.scope.labels["a"], "b");
    }

    #[test]
    fn errors_name_the_key() {
        let err = serde_json::from_str::<ResponseConfig>(r#"{"drift": {"mode": "stop"}}"#).unwrap_err();
        assert!(err.to_string().contains("unknown variant `stop`"), "{err}");
        let err = serde_json::from_str::<ResponseConfig>(r#"{"actionz": []}"#).unwrap_err();
        assert!(err.to_string().contains("actionz"), "{err}");
        let cfg = parse(r#"{"actions": [{"match": {"min_priority": "urgent"}, "actions": ["kill_process"]}]}"#);
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("response.actions[0].match.min_priority"), "{err}");
        let cfg = parse(r#"{"actions": [{"actions": []}]}"#);
        assert!(cfg
            .validate()
            .unwrap_err()
            .to_string()
            .contains("response.actions[0].actions"));
        let cfg = parse(r#"{"drift": {"allow": ["bin/x"]}}"#);
        assert!(cfg
            .validate()
            .unwrap_err()
            .to_string()
            .contains("response.drift.allow[0]"));
    }

    #[test]
    fn selection_by_rule_tag_and_priority() {
        let alert =
            |rule: &str, prio: Priority, tags: &[&str]| mamoru_alert(rule, prio, tags, String::new(), vec![], None);
        let by_tag = AlertSelector {
            tags: vec!["shell".into()],
            min_priority: Some("error".into()),
            ..AlertSelector::default()
        };
        assert!(by_tag.matches(&alert("x", Priority::Critical, &["shell"])));
        assert!(by_tag.matches(&alert("x", Priority::Error, &["shell"])));
        assert!(!by_tag.matches(&alert("x", Priority::Warning, &["shell"])));
        assert!(!by_tag.matches(&alert("x", Priority::Critical, &["network"])));
        let by_rule = AlertSelector {
            rules: vec!["Terminal shell in container".into()],
            ..AlertSelector::default()
        };
        assert!(by_rule.matches(&alert("Terminal shell in container", Priority::Debug, &[])));
        assert!(!by_rule.matches(&alert("Terminal shell", Priority::Debug, &[])));
        assert!(AlertSelector::default().matches(&alert("any", Priority::Debug, &[])));
    }
}
