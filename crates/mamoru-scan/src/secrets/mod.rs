//! Secret detection with gitleaks-compatible rule files: keyword pre-filter (Aho-Corasick), then each candidate
//! rule's regex, secret-group selection, Shannon entropy threshold, and per-rule and global allowlists. This is
//! a library API ([`SecretRules::scan`]) usable on any text, e.g. push diffs; [`SecretsAnalyzer`] applies it to
//! files of images, directories and git history.

mod config;

pub use config::SecretError;

use crate::analyzer::{FileAnalyzer, FileRef, FileWorker, StatelessAnalyze, StatelessWorker};
use crate::finding::{Category, Finding, Location, Severity};
use aho_corasick::AhoCorasick;
use regex::bytes::Regex;

/// The gitleaks default configuration bundled with mamoru.
pub const BUNDLED_GITLEAKS: &str = include_str!("../../rules/gitleaks.toml");
/// mamoru's extra rules (Terraform state, AWS secret keys, registry credentials, git credentials).
pub const BUNDLED_EXTRA: &str = include_str!("../../rules/mamoru-extra.toml");

/// What an allowlist regex is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Secret,
    Match,
    Line,
}

#[derive(Debug)]
struct Allowlist {
    all_required: bool,
    target: Target,
    regexes: Vec<Regex>,
    paths: Vec<Regex>,
    stopwords: Vec<String>,
    commits: Vec<String>,
}

#[derive(Debug)]
struct Rule {
    id: String,
    description: String,
    regex: Option<Regex>,
    secret_group: usize,
    entropy: f64,
    path: Option<Regex>,
    has_keywords: bool,
    allowlists: Vec<Allowlist>,
}

/// A compiled set of secret rules (one or more gitleaks files).
#[derive(Debug)]
pub struct SecretRules {
    rules: Vec<Rule>,
    global: Vec<Allowlist>,
    keywords: Option<AhoCorasick>,
    /// For each keyword pattern, the rules it enables.
    keyword_rules: Vec<Vec<usize>>,
}

/// One secret found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretMatch {
    pub rule_id: String,
    pub description: String,
    /// The secret itself (select the redacted form with [`redact`] before showing it).
    pub secret: String,
    /// The whole regex match.
    pub matched: String,
    /// 1-based line of the match start (0 for path-only rules).
    pub line: u64,
    /// Byte offsets of the match in the scanned content.
    pub start: usize,
    pub end: usize,
    pub entropy: f64,
}

/// Where a text came from, for path and commit allowlists.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextSource<'a> {
    pub path: Option<&'a str>,
    pub commit: Option<&'a str>,
}

impl SecretRules {
    /// Compiles gitleaks TOML documents, in order (`origin` names each in errors).
    pub fn from_toml(documents: &[(&str, &str)]) -> Result<SecretRules, SecretError> {
        let mut rules = Vec::new();
        let mut global = Vec::new();
        for (origin, text) in documents {
            let (mut r, mut g) = config::compile(text, origin)?;
            rules.append(&mut r);
            global.append(&mut g);
        }
        Self::assemble(rules, global)
    }

    /// The bundled gitleaks rules plus mamoru's extras.
    pub fn bundled() -> Result<SecretRules, SecretError> {
        Self::from_toml(&[
            ("bundled gitleaks.toml", BUNDLED_GITLEAKS),
            ("bundled mamoru-extra.toml", BUNDLED_EXTRA),
        ])
    }

    /// Loads rule files from disk.
    pub fn load(paths: &[std::path::PathBuf]) -> Result<SecretRules, SecretError> {
        let texts = paths
            .iter()
            .map(|p| {
                std::fs::read_to_string(p)
                    .map(|t| (p.display().to_string(), t))
                    .map_err(|source| SecretError::Io {
                        path: p.display().to_string(),
                        source,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let docs: Vec<(&str, &str)> = texts.iter().map(|(o, t)| (o.as_str(), t.as_str())).collect();
        Self::from_toml(&docs)
    }

    fn assemble(rules: Vec<config::CompiledRule>, global: Vec<Allowlist>) -> Result<SecretRules, SecretError> {
        let mut patterns: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut compiled = Vec::with_capacity(rules.len());
        for (index, (rule, keywords)) in rules.into_iter().enumerate() {
            for k in keywords {
                let k = k.to_ascii_lowercase();
                match patterns.iter().position(|p| *p == k) {
                    Some(i) => keyword_rules[i].push(index),
                    None => {
                        patterns.push(k);
                        keyword_rules.push(vec![index]);
                    }
                }
            }
            compiled.push(rule);
        }
        let keywords = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(&patterns)
                    .map_err(|e| SecretError::Rule {
                        origin: "keywords".to_string(),
                        rule: String::new(),
                        why: e.to_string(),
                    })?,
            )
        };
        Ok(SecretRules {
            rules: compiled,
            global,
            keywords,
            keyword_rules,
        })
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// True when the global allowlist excludes this path entirely.
    pub fn path_allowed(&self, path: &str) -> bool {
        self.global
            .iter()
            .any(|a| !a.all_required && a.paths.iter().any(|r| r.is_match(path.as_bytes())))
    }

    /// Finds the secrets in `content`.
    pub fn scan(&self, content: &[u8], source: TextSource<'_>) -> Vec<SecretMatch> {
        let mut out = Vec::new();
        if source.path.is_some_and(|p| self.path_allowed(p)) {
            return out;
        }
        let mut enabled = vec![false; self.rules.len()];
        for (i, rule) in self.rules.iter().enumerate() {
            enabled[i] = !rule.has_keywords;
        }
        if let Some(ac) = &self.keywords {
            for m in ac.find_overlapping_iter(content) {
                for &r in &self.keyword_rules[m.pattern().as_usize()] {
                    enabled[r] = true;
                }
            }
        }
        let mut lines = LineIndex::new(content);
        for (i, rule) in self.rules.iter().enumerate() {
            if enabled[i] {
                self.scan_rule(rule, content, source, &mut lines, &mut out);
            }
        }
        out
    }

    fn scan_rule(
        &self,
        rule: &Rule,
        content: &[u8],
        source: TextSource<'_>,
        lines: &mut LineIndex<'_>,
        out: &mut Vec<SecretMatch>,
    ) {
        if let Some(path_re) = &rule.path {
            let Some(path) = source.path else { return };
            if !path_re.is_match(path.as_bytes()) {
                return;
            }
            if rule.regex.is_none() {
                out.push(SecretMatch {
                    rule_id: rule.id.clone(),
                    description: rule.description.clone(),
                    secret: String::new(),
                    matched: path.to_string(),
                    line: 0,
                    start: 0,
                    end: 0,
                    entropy: 0.0,
                });
                return;
            }
        }
        let Some(regex) = &rule.regex else { return };
        for caps in regex.captures_iter(content) {
            let Some(whole) = caps.get(0) else { continue };
            let matched = String::from_utf8_lossy(whole.as_bytes()).trim_matches('\n').to_string();
            let secret = select_secret(&caps, rule.secret_group).unwrap_or_else(|| matched.clone());
            let entropy = shannon_entropy(&secret);
            if rule.entropy > 0.0 && entropy <= rule.entropy {
                continue;
            }
            if rule.id.starts_with("generic") && !secret.bytes().any(|b| b.is_ascii_digit()) {
                continue;
            }
            let line_text = lines.line_text(whole.start());
            let candidate = Candidate {
                secret: &secret,
                matched: &matched,
                line: &line_text,
                source,
            };
            if self.global.iter().any(|a| a.allows(&candidate)) || rule.allowlists.iter().any(|a| a.allows(&candidate))
            {
                continue;
            }
            out.push(SecretMatch {
                rule_id: rule.id.clone(),
                description: rule.description.clone(),
                secret,
                matched,
                line: lines.line_of(whole.start()),
                start: whole.start(),
                end: whole.end(),
                entropy,
            });
        }
    }
}

fn select_secret(caps: &regex::bytes::Captures<'_>, group: usize) -> Option<String> {
    if caps.len() < 2 {
        return None;
    }
    let bytes = if group > 0 {
        caps.get(group)?.as_bytes()
    } else {
        caps.iter().skip(1).flatten().find(|m| !m.is_empty())?.as_bytes()
    };
    Some(String::from_utf8_lossy(bytes).into_owned())
}

struct Candidate<'a> {
    secret: &'a str,
    matched: &'a str,
    line: &'a str,
    source: TextSource<'a>,
}

impl Allowlist {
    /// gitleaks semantics: with OR any criterion allows; with AND every criterion present must allow.
    fn allows(&self, c: &Candidate<'_>) -> bool {
        let mut checks: Vec<bool> = Vec::with_capacity(4);
        if !self.commits.is_empty() {
            checks.push(c.source.commit.is_some_and(|id| self.commits.iter().any(|x| x == id)));
        }
        if !self.paths.is_empty() {
            checks.push(
                c.source
                    .path
                    .is_some_and(|p| self.paths.iter().any(|r| r.is_match(p.as_bytes()))),
            );
        }
        if !self.regexes.is_empty() {
            let target = match self.target {
                Target::Secret => c.secret,
                Target::Match => c.matched,
                Target::Line => c.line,
            };
            checks.push(self.regexes.iter().any(|r| r.is_match(target.as_bytes())));
        }
        if !self.stopwords.is_empty() {
            let lower = c.secret.to_ascii_lowercase();
            checks.push(self.stopwords.iter().any(|w| lower.contains(w.as_str())));
        }
        if checks.is_empty() {
            return false;
        }
        if self.all_required {
            checks.iter().all(|&b| b)
        } else {
            checks.iter().any(|&b| b)
        }
    }
}

/// Shannon entropy in bits per character.
pub fn shannon_entropy(text: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut total = 0usize;
    for ch in text.chars() {
        *counts.entry(ch).or_insert(0usize) += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    counts
        .values()
        .map(|&n| {
            let p = n as f64 / total as f64;
            -p * p.log2()
        })
        .sum()
}

/// Keeps the first four characters of a secret and masks the rest.
pub fn redact(secret: &str) -> String {
    let keep: String = secret.chars().take(4).collect();
    if secret.chars().count() <= 6 {
        return "*****".to_string();
    }
    format!("{keep}*****")
}

/// Line numbers by byte offset, computed incrementally.
struct LineIndex<'a> {
    content: &'a [u8],
    starts: Option<Vec<usize>>,
}

impl<'a> LineIndex<'a> {
    fn new(content: &'a [u8]) -> Self {
        LineIndex { content, starts: None }
    }

    fn starts(&mut self) -> &[usize] {
        let content = self.content;
        self.starts.get_or_insert_with(|| {
            std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', content).map(|i| i + 1))
                .collect()
        })
    }

    fn line_of(&mut self, offset: usize) -> u64 {
        let starts = self.starts();
        starts.partition_point(|&s| s <= offset) as u64
    }

    fn line_text(&mut self, offset: usize) -> String {
        let line = self.line_of(offset) as usize;
        let content = self.content;
        let starts = self.starts();
        let begin = starts[line.saturating_sub(1)];
        let end = memchr::memchr(b'\n', &content[begin..]).map_or(content.len(), |i| begin + i);
        String::from_utf8_lossy(&content[begin..end]).into_owned()
    }
}

/// Runs [`SecretRules`] over text files (binary files are skipped, like gitleaks does).
pub struct SecretsAnalyzer {
    rules: SecretRules,
    show_secrets: bool,
    max_bytes: u64,
}

impl SecretsAnalyzer {
    pub fn new(rules: SecretRules, show_secrets: bool) -> Self {
        SecretsAnalyzer {
            rules,
            show_secrets,
            max_bytes: 10 << 20,
        }
    }

    pub fn rules(&self) -> &SecretRules {
        &self.rules
    }

    /// Whether findings carry secrets in clear.
    pub fn shows_secrets(&self) -> bool {
        self.show_secrets
    }

    /// Findings for the secrets of a text at `location` (used for files, image config fields and git diffs).
    pub fn findings_for(&self, content: &[u8], source: TextSource<'_>, location: &Location) -> Vec<Finding> {
        self.rules
            .scan(content, source)
            .into_iter()
            .map(|m| self.to_finding(m, location))
            .collect()
    }

    fn to_finding(&self, m: SecretMatch, location: &Location) -> Finding {
        let mut loc = location.clone();
        if m.line > 0 && loc.path.is_some() {
            loc.line = Some(m.line);
        }
        let severity = if m.rule_id == "terraform-state" || m.rule_id.starts_with("generic") {
            Severity::Medium
        } else {
            Severity::High
        };
        let evidence = if m.secret.is_empty() {
            None
        } else if self.show_secrets {
            Some(m.secret.clone())
        } else {
            Some(redact(&m.secret))
        };
        let why = if m.entropy > 0.0 {
            format!("{} (entropy {:.2})", m.description, m.entropy)
        } else {
            m.description.clone()
        };
        let mut f = Finding::new(
            Category::Secret,
            severity,
            format!("secret:{}", m.rule_id),
            format!("secret: {}", m.rule_id),
            why,
            loc,
        );
        f.evidence = evidence;
        f
    }
}

/// Files start with a NUL in their first 8000 bytes only when binary (git's heuristic).
pub fn looks_binary(content: &[u8]) -> bool {
    memchr::memchr(0, &content[..content.len().min(8000)]).is_some()
}

impl StatelessAnalyze for SecretsAnalyzer {
    fn analyze_file(&self, file: &FileRef, content: &[u8], out: &mut Vec<Finding>) {
        if looks_binary(content) {
            return;
        }
        let source = TextSource {
            path: Some(&file.path),
            commit: match &file.origin {
                crate::analyzer::Origin::Commit { id } => Some(id.as_str()),
                _ => None,
            },
        };
        out.extend(self.findings_for(content, source, &file.location()));
    }
}

impl FileAnalyzer for SecretsAnalyzer {
    fn name(&self) -> &'static str {
        "secrets"
    }

    fn wants(&self, file: &FileRef) -> bool {
        file.size <= self.max_bytes && !self.rules.path_allowed(&file.path)
    }

    fn worker(&self) -> Box<dyn FileWorker + '_> {
        Box::new(StatelessWorker(self))
    }
}

#[cfg(test)]
mod tests;
