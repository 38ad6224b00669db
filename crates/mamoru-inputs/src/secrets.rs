//! Secret detection in pushed diffs, behind [`SecretMatcher`] so that a fuller rule set (gitleaks-style rules
//! from the scanner crates) can replace the built-in one. The built-in rules cover the high-value, low-false-
//! positive patterns: AWS access key ids and secret keys next to an AWS keyword, GitHub tokens, Slack tokens,
//! Google API keys, Stripe live keys and private key blocks.

use regex::Regex;

/// One secret found in a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMatch {
    /// Rule id, e.g. `aws_access_key_id`.
    pub kind: String,
    pub desc: String,
    pub platform: String,
}

/// Finds secrets in one line of text.
pub trait SecretMatcher: Send + Sync {
    fn find(&self, line: &str) -> Vec<SecretMatch>;
}

struct Rule {
    kind: &'static str,
    desc: &'static str,
    platform: &'static str,
    re: Regex,
}

/// The built-in rules.
pub struct BuiltinMatcher {
    rules: Vec<Rule>,
}

const RULES: &[(&str, &str, &str, &str)] = &[
    (
        "aws_access_key_id",
        "AWS access key id",
        "aws",
        r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}\b",
    ),
    (
        "aws_secret_access_key",
        "AWS secret access key",
        "aws",
        r#"(?i)aws.{0,20}?(?:secret|key).{0,20}?['"=:\s]\s*['"]?[A-Za-z0-9/+]{40}\b"#,
    ),
    (
        "github_pat",
        "GitHub personal access token",
        "github",
        r"\bghp_[A-Za-z0-9]{36}\b",
    ),
    (
        "github_fine_grained_pat",
        "GitHub fine-grained personal access token",
        "github",
        r"\bgithub_pat_[A-Za-z0-9_]{82}\b",
    ),
    (
        "github_oauth",
        "GitHub OAuth access token",
        "github",
        r"\bgho_[A-Za-z0-9]{36}\b",
    ),
    (
        "github_app_token",
        "GitHub app token",
        "github",
        r"\b(?:ghu|ghs)_[A-Za-z0-9]{36}\b",
    ),
    (
        "github_refresh_token",
        "GitHub refresh token",
        "github",
        r"\bghr_[A-Za-z0-9]{36,76}\b",
    ),
    (
        "slack_token",
        "Slack token",
        "slack",
        r"\bxox[baprs]-[0-9A-Za-z-]{10,72}\b",
    ),
    (
        "google_api_key",
        "Google API key",
        "google",
        r"\bAIza[0-9A-Za-z_\-]{35}\b",
    ),
    (
        "stripe_live_key",
        "Stripe live secret key",
        "stripe",
        r"\b(?:sk|rk)_live_[0-9a-zA-Z]{24,99}\b",
    ),
    (
        "private_key",
        "Private key",
        "generic",
        r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----",
    ),
];

impl BuiltinMatcher {
    pub fn new() -> BuiltinMatcher {
        let rules = RULES
            .iter()
            .filter_map(|(kind, desc, platform, re)| match Regex::new(re) {
                Ok(re) => Some(Rule {
                    kind,
                    desc,
                    platform,
                    re,
                }),
                Err(e) => {
                    // The patterns are constants covered by the tests; never reached in a tested build.
                    tracing::error!(kind, error = %e, "invalid built-in secret pattern");
                    None
                }
            })
            .collect();
        BuiltinMatcher { rules }
    }
}

impl Default for BuiltinMatcher {
    fn default() -> Self {
        Self::new()
    }
}

impl SecretMatcher for BuiltinMatcher {
    fn find(&self, line: &str) -> Vec<SecretMatch> {
        self.rules
            .iter()
            .filter(|r| r.re.is_match(line))
            .map(|r| SecretMatch {
                kind: r.kind.to_string(),
                desc: r.desc.to_string(),
                platform: r.platform.to_string(),
            })
            .collect()
    }
}

/// A secret in a file of a diff, at its line number in the new version of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffFinding {
    pub line: u64,
    pub found: SecretMatch,
}

/// Scans the added lines of a unified-diff patch (one file's `patch` from the compare API).
pub fn scan_patch(patch: &str, matcher: &dyn SecretMatcher) -> Vec<DiffFinding> {
    let mut out = Vec::new();
    let mut new_line = 0u64;
    for line in patch.lines() {
        if let Some(header) = line.strip_prefix("@@") {
            new_line = hunk_new_start(header).unwrap_or(0);
            continue;
        }
        match line.as_bytes().first() {
            Some(b'+') => {
                for found in matcher.find(&line[1..]) {
                    out.push(DiffFinding { line: new_line, found });
                }
                new_line += 1;
            }
            Some(b'-') | Some(b'\\') => {}
            _ => new_line += 1,
        }
    }
    out
}

/// The new-file start line of a hunk header ` -a,b +c,d @@`.
fn hunk_new_start(header: &str) -> Option<u64> {
    let plus = header.split_whitespace().find(|p| p.starts_with('+'))?;
    plus[1..].split(',').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_high_value_secrets_in_added_lines_only() {
        let m = BuiltinMatcher::new();
        let patch = "@@ -1,2 +10,4 @@\n context\n-old AKIAIOSFODNN7EXAMPLE\n+aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n+token: ghp_0123456789abcdefghijABCDEFGHIJ012345\n+-----BEGIN RSA PRIVATE KEY-----\n";
        let found = scan_patch(patch, &m);
        let got: Vec<(u64, &str)> = found.iter().map(|f| (f.line, f.found.kind.as_str())).collect();
        assert_eq!(
            got,
            vec![(11, "aws_access_key_id"), (12, "github_pat"), (13, "private_key")]
        );
    }

    #[test]
    fn ignores_look_alikes() {
        let m = BuiltinMatcher::new();
        assert!(m.find("AKIA_short and ghp_tooshort and BEGIN PUBLIC KEY").is_empty());
        assert!(
            m.find("let x = \"AKIAIOSFODNN7EXAMPLEX\";").is_empty(),
            "21 characters is not a key id"
        );
        let secret = "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assert_eq!(m.find(secret)[0].kind, "aws_secret_access_key");
    }
}
