//! Parsing gitleaks TOML into compiled rules.

use super::{Allowlist, Rule, Target};
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

/// Why a rule file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: invalid TOML: {why}")]
    Toml { origin: String, why: String },
    #[error("{origin}: rule {rule:?}: {why}")]
    Rule { origin: String, rule: String, why: String },
}

#[derive(Deserialize)]
struct FileToml {
    #[serde(default)]
    allowlist: Option<AllowlistToml>,
    #[serde(default)]
    allowlists: Vec<AllowlistToml>,
    #[serde(default)]
    rules: Vec<RuleToml>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleToml {
    id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    secret_group: Option<usize>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    allowlist: Option<AllowlistToml>,
    #[serde(default)]
    allowlists: Vec<AllowlistToml>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AllowlistToml {
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    regex_target: Option<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    commits: Vec<String>,
}

pub(super) type CompiledRule = (Rule, Vec<String>);

fn build(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .size_limit(64 << 20)
        .dfa_size_limit(64 << 20)
        .build()
}

/// Compiles an RE2 (Go) pattern. Go reads a `{` that does not open a valid `{n}`, `{n,}` or `{n,m}` repetition
/// as a literal; Rust's parser rejects it, so such braces are escaped when the pattern does not compile as is.
fn regex(pattern: &str, origin: &str, rule: &str) -> Result<Regex, SecretError> {
    build(pattern)
        .or_else(|first| build(&escape_literal_braces(pattern)).map_err(|_| first))
        .map_err(|e| SecretError::Rule {
            origin: origin.to_string(),
            rule: rule.to_string(),
            why: e.to_string(),
        })
}

fn escape_literal_braces(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                out.push(c);
                if let Some(&next) = chars.get(i + 1) {
                    out.push(next);
                }
                i += 2;
                continue;
            }
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '{' if !in_class && !is_repetition(&chars[i..]) => {
                out.push_str("\\{");
                i += 1;
                continue;
            }
            '}' if !in_class && !closes_repetition(&chars[..i]) => {
                out.push_str("\\}");
                i += 1;
                continue;
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

/// `{n}`, `{n,}` or `{n,m}` at the start of `rest`.
fn is_repetition(rest: &[char]) -> bool {
    let Some(end) = rest.iter().position(|&c| c == '}') else {
        return false;
    };
    let body: String = rest[1..end].iter().collect();
    let mut parts = body.splitn(2, ',');
    let min = parts.next().unwrap_or("");
    let max = parts.next();
    !min.is_empty()
        && min.chars().all(|c| c.is_ascii_digit())
        && max.is_none_or(|m| m.chars().all(|c| c.is_ascii_digit()))
}

/// Whether the `}` ending `before` closes a repetition.
fn closes_repetition(before: &[char]) -> bool {
    match before.iter().rposition(|&c| c == '{') {
        Some(open) => {
            (open == 0 || before[open - 1] != '\\')
                && is_repetition(
                    &before[open..]
                        .iter()
                        .copied()
                        .chain(std::iter::once('}'))
                        .collect::<Vec<_>>(),
                )
        }
        None => false,
    }
}

fn allowlist(a: AllowlistToml, origin: &str, rule: &str) -> Result<Allowlist, SecretError> {
    let target = match a.regex_target.as_deref() {
        None | Some("secret") | Some("") => Target::Secret,
        Some("match") => Target::Match,
        Some("line") => Target::Line,
        Some(other) => {
            return Err(SecretError::Rule {
                origin: origin.to_string(),
                rule: rule.to_string(),
                why: format!("unknown regexTarget {other:?}"),
            })
        }
    };
    let all_required = match a.condition.as_deref() {
        None | Some("OR") | Some("or") | Some("") => false,
        Some("AND") | Some("and") => true,
        Some(other) => {
            return Err(SecretError::Rule {
                origin: origin.to_string(),
                rule: rule.to_string(),
                why: format!("unknown allowlist condition {other:?}"),
            })
        }
    };
    Ok(Allowlist {
        all_required,
        target,
        regexes: a
            .regexes
            .iter()
            .map(|r| regex(r, origin, rule))
            .collect::<Result<_, _>>()?,
        paths: a
            .paths
            .iter()
            .map(|r| regex(r, origin, rule))
            .collect::<Result<_, _>>()?,
        stopwords: a.stopwords.iter().map(|w| w.to_ascii_lowercase()).collect(),
        commits: a.commits,
    })
}

/// Compiles one gitleaks document into rules (with their keywords) and global allowlists.
pub(super) fn compile(text: &str, origin: &str) -> Result<(Vec<CompiledRule>, Vec<Allowlist>), SecretError> {
    let file: FileToml = toml::from_str(text).map_err(|e| SecretError::Toml {
        origin: origin.to_string(),
        why: e.to_string(),
    })?;
    let mut global = Vec::new();
    for a in file.allowlist.into_iter().chain(file.allowlists) {
        global.push(allowlist(a, origin, "(global allowlist)")?);
    }
    let mut rules = Vec::with_capacity(file.rules.len());
    for r in file.rules {
        if r.regex.is_none() && r.path.is_none() {
            return Err(SecretError::Rule {
                origin: origin.to_string(),
                rule: r.id,
                why: "neither regex nor path".to_string(),
            });
        }
        let compiled = Rule {
            regex: r.regex.as_deref().map(|p| regex(p, origin, &r.id)).transpose()?,
            path: r.path.as_deref().map(|p| regex(p, origin, &r.id)).transpose()?,
            secret_group: r.secret_group.unwrap_or(0),
            entropy: r.entropy.unwrap_or(0.0),
            has_keywords: !r.keywords.is_empty(),
            allowlists: r
                .allowlist
                .into_iter()
                .chain(r.allowlists)
                .map(|a| allowlist(a, origin, &r.id))
                .collect::<Result<_, _>>()?,
            description: r.description,
            id: r.id,
        };
        rules.push((compiled, r.keywords));
    }
    Ok((rules, global))
}

#[cfg(test)]
mod tests {
    #[test]
    fn go_literal_braces() {
        assert_eq!(
            super::escape_literal_braces(r"^\$(?:\d+|{\d+})$"),
            r"^\$(?:\d+|\{\d+\})$"
        );
        assert_eq!(super::escape_literal_braces(r"a{2,3}[{}]"), r"a{2,3}[{}]");
        assert!(super::regex(r"^\{\{[ \t]*[\w ().|]+[ \t]*}}$", "t", "r").is_ok());
    }
}
