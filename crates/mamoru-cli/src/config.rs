//! Run-time configuration: the YAML file of `mamoru run -c FILE` (keys mirror falco.yaml where the concept is the
//! same; `config/mamoru.yaml` documents every key with its default), overridable with `-o KEY=VALUE` as Falco allows.
//!
//! The file is one mapping of sections. Each section is a serde type owned by the crate that uses it (the outputs'
//! by mamoru-alerts), so adding a section is adding one field to [`FileConfig`] and its name to [`SECTIONS`]. A key
//! this build does not know is an error naming the key and its line, before anything starts; the Falco keys mamoru
//! has no use for (plugins, engine, ...) are accepted with a warning so a falco.yaml carries over.

use mamoru_alerts::config::{
    FileOutput, HttpOutput, NatsOutput, OutputsQueue, ProgramOutput, RateLimit, SpoolConfig, StdoutOutput,
    SyslogOutput, WebserverConfig,
};
use mamoru_alerts::RouterConfig;
use mamoru_engine::{EngineConfig, RuleMatching};
use mamoru_inputs::SourcesConfig;
use mamoru_k8s::K8sApiConfig;
use mamoru_output::AlertFormat;
use mamoru_response::ResponseConfig;
use mamoru_rules::Priority;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// A configuration problem, naming the key.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("-o {0}: expected KEY=VALUE")]
    NotKeyValue(String),
    #[error("unknown configuration key '{0}' (known: rule_matching, priority, json_output)")]
    UnknownKey(String),
    #[error("configuration key '{key}': invalid value '{value}' ({expected})")]
    BadValue {
        key: String,
        value: String,
        expected: &'static str,
    },
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: line {line}: unknown configuration key '{key}'")]
    UnknownSection { path: String, key: String, line: usize },
    #[error("{path}: {message}")]
    Yaml { path: String, message: String },
}

/// Top-level keys this build understands.
pub const SECTIONS: &[&str] = &[
    "rules_files",
    "rules_file",
    "rule_matching",
    "priority",
    "json_output",
    "stdout_output",
    "file_output",
    "syslog_output",
    "http_output",
    "program_output",
    "nats_output",
    "outputs",
    "outputs_queue",
    "spool",
    "webserver",
    "limits",
    "sources",
    "response",
    "k8s_api",
];

/// falco.yaml keys with no mamoru counterpart: accepted (with a warning) so that a Falco configuration loads.
const FALCO_ONLY: &[&str] = &[
    "config_files",
    "watch_config_files",
    "plugins",
    "load_plugins",
    "time_format_iso_8601",
    "buffered_outputs",
    "json_include_output_property",
    "json_include_tags_property",
    "json_include_message_property",
    "json_include_output_fields_property",
    "log_stderr",
    "log_syslog",
    "log_level",
    "libs_logger",
    "engine",
    "syscall_event_drops",
    "syscall_event_timeouts",
    "metrics",
    "base_syscalls",
    "falco_libs",
    "container_engines",
    "grpc",
    "grpc_output",
    "output_timeout",
    "rules_matching",
    "append_output",
    "static_fields",
    "capture",
    "file_output_rotate",
];

/// `limits`: resource bounds of the agent itself.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Kernel ring buffer size in bytes (a power of two); `--ring-buffer-bytes` overrides it.
    pub ring_buffer_bytes: usize,
    /// How long a stopping agent waits for the sinks to drain before leaving the rest in the spool.
    pub shutdown_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            ring_buffer_bytes: 16 << 20,
            shutdown_timeout_ms: 5000,
        }
    }
}

/// The file, section by section.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FileConfig {
    pub rules_files: Option<Vec<PathBuf>>,
    /// Falco's older singular spelling.
    pub rules_file: Option<Vec<PathBuf>>,
    pub rule_matching: Option<String>,
    pub priority: Option<String>,
    pub json_output: Option<bool>,
    pub stdout_output: StdoutOutput,
    pub file_output: FileOutput,
    pub syslog_output: SyslogOutput,
    pub http_output: HttpOutput,
    pub program_output: ProgramOutput,
    pub nats_output: NatsOutput,
    pub outputs: RateLimit,
    pub outputs_queue: OutputsQueue,
    pub spool: SpoolConfig,
    pub webserver: WebserverConfig,
    pub limits: Limits,
    /// Live cloud, identity and SaaS inputs (mamoru-inputs); none when absent.
    pub sources: Option<SourcesConfig>,
    /// Response actions and drift control (mamoru-response); off by default.
    pub response: ResponseConfig,
    /// Kubernetes API enrichment (mamoru-k8s); off by default.
    pub k8s_api: K8sApiConfig,
}

/// The settings `run` and `replay` share.
#[derive(Debug, Clone)]
pub struct Config {
    pub rule_matching: RuleMatching,
    /// Rules less severe than this are not evaluated (falco.yaml `priority`).
    pub min_priority: Priority,
    /// Alert format; `json_output` is the Falco key for it.
    pub format: AlertFormat,
    /// Rules files from the configuration (`-r` on the command line replaces them).
    pub rules_files: Vec<PathBuf>,
    /// Outputs, rate limits, queues and spool (the hostname and format are filled in by [`Config::router`]).
    pub outputs: RouterConfig,
    pub webserver: WebserverConfig,
    pub limits: Limits,
    pub sources: Option<SourcesConfig>,
    pub response: ResponseConfig,
    pub k8s_api: K8sApiConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rule_matching: RuleMatching::First,
            min_priority: Priority::Debug,
            format: AlertFormat::Json,
            rules_files: Vec::new(),
            outputs: RouterConfig {
                json_output: true,
                ..RouterConfig::default()
            },
            webserver: WebserverConfig::default(),
            limits: Limits::default(),
            sources: None,
            response: ResponseConfig::default(),
            k8s_api: K8sApiConfig::default(),
        }
    }
}

/// The 1-based line where top-level `key` is defined.
fn key_line(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
                || l.strip_prefix(&format!("\"{key}\""))
                    .is_some_and(|r| r.trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
        .unwrap_or(0)
}

/// The YAML library reports an unknown nested key without its position: find the line that defines it.
fn locate_unknown_field(text: &str, message: &str) -> String {
    let Some(name) = message
        .split_once("unknown field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name)
    else {
        return message.to_string();
    };
    let line = text.lines().position(|l| {
        let l = l.trim_start().trim_start_matches("- ");
        l.strip_prefix(name).is_some_and(|r| r.trim_start().starts_with(':'))
    });
    match line {
        Some(i) if !message.contains("line ") => format!("line {}: {message}", i + 1),
        _ => message.to_string(),
    }
}

impl Config {
    /// Reads a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Config::from_yaml(&text, &path.display().to_string())
    }

    /// Parses a configuration file's text; `origin` names it in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let options = || serde_saphyr::Options {
            with_snippet: false,
            ..serde_saphyr::Options::default()
        };
        let yaml_err = |e: serde_saphyr::Error| ConfigError::Yaml {
            path: origin.to_string(),
            message: locate_unknown_field(text, &e.to_string()),
        };
        // An empty file (or one holding only comments) is the defaults.
        if text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
        {
            return Ok(Config::default());
        }
        let top: BTreeMap<String, serde::de::IgnoredAny> =
            serde_saphyr::from_str_with_options(text, options()).map_err(yaml_err)?;
        for key in top.keys() {
            if SECTIONS.contains(&key.as_str()) {
                continue;
            }
            if FALCO_ONLY.contains(&key.as_str()) {
                tracing::warn!(
                    "{origin}: line {}: falco.yaml key '{key}' has no effect in mamoru",
                    key_line(text, key)
                );
                continue;
            }
            return Err(ConfigError::UnknownSection {
                path: origin.to_string(),
                key: key.clone(),
                line: key_line(text, key),
            });
        }
        let file: FileConfig = serde_saphyr::from_str_with_options(text, options()).map_err(yaml_err)?;
        Config::from_file(file, origin)
    }

    fn from_file(f: FileConfig, origin: &str) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        let prefixed = |e: ConfigError| match e {
            ConfigError::BadValue { key, value, expected } => ConfigError::BadValue {
                key: format!("{origin}: {key}"),
                value,
                expected,
            },
            other => other,
        };
        if let Some(v) = &f.rule_matching {
            cfg.set("rule_matching", v).map_err(prefixed)?;
        }
        if let Some(v) = &f.priority {
            cfg.set("priority", v).map_err(prefixed)?;
        }
        if let Some(v) = f.json_output {
            cfg.format = if v { AlertFormat::Json } else { AlertFormat::Text };
        }
        cfg.rules_files = f.rules_files.or(f.rules_file).unwrap_or_default();
        if f.outputs.rate < 0.0 || !f.outputs.rate.is_finite() {
            return Err(prefixed(ConfigError::BadValue {
                key: "outputs.rate".into(),
                value: f.outputs.rate.to_string(),
                expected: "a non-negative number of alerts per second",
            }));
        }
        if f.outputs_queue.capacity == 0 {
            return Err(prefixed(ConfigError::BadValue {
                key: "outputs_queue.capacity".into(),
                value: "0".into(),
                expected: "at least 1 (queues are always bounded)",
            }));
        }
        if !f.limits.ring_buffer_bytes.is_power_of_two() {
            return Err(prefixed(ConfigError::BadValue {
                key: "limits.ring_buffer_bytes".into(),
                value: f.limits.ring_buffer_bytes.to_string(),
                expected: "a power of two",
            }));
        }
        for (key, enabled, missing) in [
            ("http_output.url", f.http_output.enabled, f.http_output.url.is_empty()),
            (
                "program_output.program",
                f.program_output.enabled,
                f.program_output.program.trim().is_empty(),
            ),
            ("nats_output.url", f.nats_output.enabled, f.nats_output.url.is_empty()),
        ] {
            if enabled && missing {
                return Err(prefixed(ConfigError::BadValue {
                    key: key.into(),
                    value: String::new(),
                    expected: "required when the output is enabled",
                }));
            }
        }
        cfg.outputs = RouterConfig {
            json_output: cfg.format == AlertFormat::Json,
            hostname: String::new(),
            stdout: f.stdout_output,
            file: f.file_output,
            syslog: f.syslog_output,
            http: f.http_output,
            program: f.program_output,
            nats: f.nats_output,
            rate: f.outputs,
            queue: f.outputs_queue,
            spool: f.spool,
        };
        cfg.webserver = f.webserver;
        cfg.limits = f.limits;
        if let Some(sources) = &f.sources {
            sources.validate().map_err(|e| ConfigError::Yaml {
                path: origin.to_string(),
                message: format!("sources: {e}"),
            })?;
        }
        cfg.sources = f.sources;
        f.response.validate().map_err(|e| ConfigError::Yaml {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        cfg.response = f.response;
        if f.k8s_api.max_objects == 0 {
            return Err(prefixed(ConfigError::BadValue {
                key: "k8s_api.max_objects".into(),
                value: "0".into(),
                expected: "at least 1 (stores are always bounded)",
            }));
        }
        cfg.k8s_api = f.k8s_api;
        Ok(cfg)
    }

    /// Applies `-o KEY=VALUE` overrides in order.
    pub fn apply_overrides<S: AsRef<str>>(&mut self, overrides: &[S]) -> Result<(), ConfigError> {
        for o in overrides {
            let o = o.as_ref();
            let (key, value) = o
                .split_once('=')
                .ok_or_else(|| ConfigError::NotKeyValue(o.to_string()))?;
            self.set(key.trim(), value.trim())?;
        }
        Ok(())
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let bad = |expected| ConfigError::BadValue {
            key: key.to_string(),
            value: value.to_string(),
            expected,
        };
        match key {
            "rule_matching" => {
                self.rule_matching = match value {
                    "first" => RuleMatching::First,
                    "all" => RuleMatching::All,
                    _ => return Err(bad("first or all")),
                }
            }
            "priority" => {
                self.min_priority = Priority::parse(value).ok_or_else(|| bad("a Falco priority, e.g. warning"))?;
            }
            "json_output" => {
                self.format = match value {
                    "true" => AlertFormat::Json,
                    "false" => AlertFormat::Text,
                    _ => return Err(bad("true or false")),
                }
            }
            other => return Err(ConfigError::UnknownKey(other.to_string())),
        }
        Ok(())
    }

    pub fn engine(&self) -> EngineConfig {
        EngineConfig {
            rule_matching: self.rule_matching,
            min_priority: self.min_priority,
        }
    }

    /// The router's configuration for this host, in the configured alert format.
    pub fn router(&self, hostname: String) -> RouterConfig {
        RouterConfig {
            json_output: self.format == AlertFormat::Json,
            hostname,
            ..self.outputs.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_rule_matching_and_priority() {
        let mut c = Config::default();
        c.apply_overrides(&["rule_matching=all", "priority=WARNING", "json_output=false"])
            .unwrap();
        assert_eq!(c.rule_matching, RuleMatching::All);
        assert_eq!(c.min_priority, Priority::Warning);
        assert_eq!(c.format, AlertFormat::Text);
    }

    #[test]
    fn rejects_unknown_keys_and_values_naming_them() {
        let mut c = Config::default();
        assert_eq!(
            c.apply_overrides(&["nope=1"]),
            Err(ConfigError::UnknownKey("nope".into()))
        );
        let err = c.apply_overrides(&["rule_matching=some"]).unwrap_err();
        assert!(err.to_string().contains("rule_matching"));
        assert_eq!(
            c.apply_overrides(&["rule_matching"]),
            Err(ConfigError::NotKeyValue("rule_matching".into()))
        );
    }

    fn shipped() -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/mamoru.yaml");
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn shipped_file_states_the_defaults() {
        let c = Config::from_yaml(&shipped(), "mamoru.yaml").unwrap();
        let d = Config::default();
        assert_eq!(c.outputs, d.outputs);
        assert_eq!(c.webserver, d.webserver);
        assert_eq!(c.limits, d.limits);
        assert_eq!(c.k8s_api, d.k8s_api);
        assert_eq!(
            (c.rule_matching, c.min_priority, c.format),
            (d.rule_matching, d.min_priority, d.format)
        );
        assert!(c.rules_files.is_empty());
    }

    #[test]
    fn k8s_api_section_is_read_and_checked() {
        let text = "k8s_api:\n  enabled: true\n  kubeconfig: /etc/kube/config\n  node_name: node-3\n  resync_secs: 60\n  max_objects: 1000\n";
        let c = Config::from_yaml(text, "c.yaml").unwrap();
        assert!(c.k8s_api.enabled);
        assert_eq!(c.k8s_api.kubeconfig.as_deref(), Some(Path::new("/etc/kube/config")));
        assert_eq!(c.k8s_api.node_name.as_deref(), Some("node-3"));
        assert_eq!((c.k8s_api.resync_secs, c.k8s_api.max_objects), (60, 1000));
        let err = Config::from_yaml("k8s_api:\n  enable: true\n", "c.yaml").unwrap_err();
        assert!(err.to_string().contains("enable"), "{err}");
        assert!(Config::from_yaml("k8s_api:\n  max_objects: 0\n", "c.yaml").is_err());
    }

    #[test]
    fn every_section_of_the_shipped_file_is_known_and_documented() {
        let text = shipped();
        for key in SECTIONS.iter().filter(|k| **k != "rules_file") {
            assert!(key_line(&text, key) > 0, "{key} is not in config/mamoru.yaml");
        }
    }

    #[test]
    fn unknown_top_level_key_is_named_with_its_line() {
        let err = Config::from_yaml("priority: debug\n\nstdout_outptu:\n  enabled: true\n", "c.yaml").unwrap_err();
        assert_eq!(
            err,
            ConfigError::UnknownSection {
                path: "c.yaml".into(),
                key: "stdout_outptu".into(),
                line: 3
            }
        );
        assert_eq!(
            err.to_string(),
            "c.yaml: line 3: unknown configuration key 'stdout_outptu'"
        );
    }

    #[test]
    fn unknown_nested_key_and_bad_types_are_named() {
        let err = Config::from_yaml("file_output:\n  enabled: true\n  filenam: x\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("filenam") && err.contains("line 3"), "{err}");
        let err = Config::from_yaml("nats_output:\n  enabled: maybe\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        let err = Config::from_yaml("priority: loud\n", "c.yaml").unwrap_err().to_string();
        assert!(err.contains("priority") && err.contains("loud"), "{err}");
        let err = Config::from_yaml("outputs_queue:\n  capacity: 0\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("outputs_queue.capacity"), "{err}");
        let err = Config::from_yaml("http_output:\n  enabled: true\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("http_output.url"), "{err}");
    }

    #[test]
    fn falco_keys_carry_over() {
        let c = Config::from_yaml(
            "rules_file:\n  - /etc/falco/falco_rules.yaml\nplugins: []\nload_plugins: []\njson_output: false\n\
             outputs:\n  rate: 1\n  max_burst: 5\nfile_output:\n  enabled: true\n  keep_alive: false\n  filename: ./events.txt\n",
            "falco.yaml",
        )
        .unwrap();
        assert_eq!(c.rules_files, vec![PathBuf::from("/etc/falco/falco_rules.yaml")]);
        assert_eq!(c.format, AlertFormat::Text);
        assert!(c.outputs.file.enabled);
        assert_eq!(
            c.outputs.rate,
            RateLimit {
                rate: 1.0,
                max_burst: 5
            }
        );
        assert!(!c.router("h".into()).json_output);
    }
}
