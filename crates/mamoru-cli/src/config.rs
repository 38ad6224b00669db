//! Run-time configuration: Falco-compatible keys, overridable with `-o KEY=VALUE` as Falco allows.

use mamoru_engine::{EngineConfig, RuleMatching};
use mamoru_output::AlertFormat;
use mamoru_rules::Priority;
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
}

/// The settings `run` and `replay` share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub rule_matching: RuleMatching,
    /// Rules less severe than this are not evaluated (falco.yaml `priority`).
    pub min_priority: Priority,
    /// Alert format; `json_output` is the Falco key for it.
    pub format: AlertFormat,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rule_matching: RuleMatching::First,
            min_priority: Priority::Debug,
            format: AlertFormat::Json,
        }
    }
}

impl Config {
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
}
