//! Every field the shipped plugin rule files name binds in the catalogue of their source.

use mamoru_fields::json::catalog_for;
use std::path::PathBuf;

/// The rule files, from the repository's `rules/` directory, else the shared corpus.
fn rule_file(name: &str) -> (PathBuf, String) {
    let candidates = [
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules").join(name),
        PathBuf::from("/work/shared/corpus/plugin-rules").join(name),
    ];
    for path in candidates {
        if let Ok(text) = std::fs::read_to_string(&path) {
            return (path, text);
        }
    }
    panic!("rule file {name} not found in rules/ or the shared corpus");
}

const PREFIXES: &[&str] = &["ka.", "ct.", "json.", "jevt.", "s3.", "ec2.", "ecr.", "iam.", "evt."];

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
}

/// Field-looking tokens (`ka.user.name`, `jevt.value[/stage]`) not embedded in a longer word or path.
fn field_tokens(text: &str) -> Vec<(String, Option<String>)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !(is_name_byte(b[i - 1]) || matches!(b[i - 1], b'-' | b'/'));
        let prefix = PREFIXES.iter().find(|p| text[i..].starts_with(**p));
        let (true, Some(_)) = (boundary, prefix) else {
            i += 1;
            continue;
        };
        let start = i;
        while i < b.len() && is_name_byte(b[i]) {
            i += 1;
        }
        let name = text[start..i].trim_end_matches('.').to_string();
        if !name.contains('.') {
            // A bare prefix such as `ka.*` in prose.
            continue;
        }
        let mut arg = None;
        if b.get(i) == Some(&b'[') {
            if let Some(end) = text[i..].find(']') {
                arg = Some(text[i + 1..i + end].to_string());
                i += end + 1;
            }
        }
        out.push((name, arg));
    }
    out
}

fn check(file: &str, source: &str, must_see: &[&str]) {
    let (path, text) = rule_file(file);
    let catalog = catalog_for(source).expect("catalogue");
    let tokens = field_tokens(&text);
    let failures: Vec<String> = tokens
        .iter()
        .filter_map(|(name, arg)| {
            catalog.bind(name, arg.as_deref()).err().map(|e| {
                format!(
                    "{}: {name}{}: {e}",
                    path.display(),
                    arg.as_ref().map(|a| format!("[{a}]")).unwrap_or_default()
                )
            })
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for name in must_see {
        assert!(tokens.iter().any(|(n, _)| n == name), "{file}: expected to see {name}");
    }
}

#[test]
fn k8s_audit_rule_fields_bind() {
    check(
        "k8s_audit_rules.yaml",
        "k8s_audit",
        &[
            "ka.user.name",
            "ka.req.pod.containers.image.repository",
            "jevt.value",
            "jevt.rawtime",
            "jevt.obj",
        ],
    );
}

#[test]
fn cloudtrail_rule_fields_bind() {
    check(
        "aws_cloudtrail_rules.yaml",
        "aws_cloudtrail",
        &[
            "ct.name",
            "ct.user.identitytype",
            "json.value",
            "s3.bucket",
            "evt.plugininfo",
            "evt.num",
        ],
    );
}

#[test]
fn token_scanner_skips_hosts_and_paths() {
    let toks = field_tokens("x: public.ecr.aws/falco, %ka.verb. and jevt.value[/a/b] ka-foo.bar /ct.x any ka.* event");
    assert_eq!(
        toks,
        [
            ("ka.verb".to_string(), None),
            ("jevt.value".to_string(), Some("/a/b".to_string()))
        ]
    );
}
