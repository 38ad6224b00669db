use super::*;

fn bundled() -> SecretRules {
    SecretRules::bundled().expect("bundled rules compile")
}

#[test]
fn bundled_gitleaks_loads_unchanged() {
    let rules = bundled();
    assert!(rules.len() >= 222, "{} rules", rules.len());
}

#[test]
fn corpus_samples_match_their_rule() {
    let rules = bundled();
    let samples: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/data/secret-samples.json")).expect("samples parse");
    let positives = samples["positives"].as_array().expect("positives");
    assert!(positives.len() >= 20);
    let mut misses = Vec::new();
    for p in positives {
        let rule = p["rule_id"].as_str().unwrap_or_default();
        let sample = p["sample"].as_str().unwrap_or_default();
        let found = rules.scan(sample.as_bytes(), TextSource::default());
        if !found.iter().any(|m| m.rule_id == rule) {
            misses.push(format!(
                "{rule}: {sample} -> {:?}",
                found.iter().map(|m| &m.rule_id).collect::<Vec<_>>()
            ));
        }
    }
    assert!(misses.is_empty(), "missed:\n{}", misses.join("\n"));
    for n in samples["negatives"].as_array().expect("negatives") {
        let rule = n["rule_id"].as_str().unwrap_or_default();
        let sample = n["sample"].as_str().unwrap_or_default();
        let found = rules.scan(sample.as_bytes(), TextSource::default());
        assert!(
            !found.iter().any(|m| m.rule_id == rule),
            "negative {sample:?} matched {found:?}"
        );
    }
}

#[test]
fn allowlists_entropy_and_paths() {
    let rules = bundled();
    // AWS's documented example key is allowlisted by the rule's `.+EXAMPLE$` regex.
    let found = rules.scan(b"aws_access_key_id = AKIAIOSFODNN7EXAMPLE", TextSource::default());
    assert!(!found.iter().any(|m| m.rule_id == "aws-access-token"), "{found:?}");
    // A low-entropy token does not pass the entropy threshold.
    let found = rules.scan(b"ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", TextSource::default());
    assert!(found.is_empty(), "{found:?}");
    // The global allowlist drops whole paths.
    let text = b"GITHUB_TOKEN=ghp_cg3hPOJ0EW1zkso24L5PjV1AyD1hiH0daF6r";
    let found = rules.scan(
        text,
        TextSource {
            path: Some("app/node_modules/x/README"),
            commit: None,
        },
    );
    assert!(found.is_empty());
    let found = rules.scan(
        text,
        TextSource {
            path: Some("app/.env"),
            commit: None,
        },
    );
    let pat = found
        .iter()
        .find(|m| m.rule_id == "github-pat")
        .expect("github-pat found");
    assert_eq!(pat.line, 1);
}

#[test]
fn private_keys_terraform_state_and_custom_rules() {
    let rules = bundled();
    let key = "x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0\n-----END RSA PRIVATE KEY-----\n";
    let found = rules.scan(key.as_bytes(), TextSource::default());
    assert!(
        found.iter().any(|m| m.rule_id == "private-key" && m.line == 2),
        "{found:?}"
    );
    let state = br#"{"resources":[{"instances":[{"attributes":{"password":"Zq8#kLp2!vN4xR7t"}}]}]}"#;
    let found = rules.scan(
        state,
        TextSource {
            path: Some("infra/terraform.tfstate"),
            commit: None,
        },
    );
    let ids: Vec<&str> = found.iter().map(|m| m.rule_id.as_str()).collect();
    assert!(
        ids.contains(&"terraform-state") && ids.contains(&"terraform-state-secret"),
        "{ids:?}"
    );

    let custom = r#"
[[rules]]
id = "acme-key"
description = "ACME key"
regex = '''acme_([a-z0-9]{16})'''
keywords = ["acme_"]
[[rules.allowlists]]
condition = "AND"
paths = ['''test/''']
stopwords = ["0000"]
"#;
    let rules = SecretRules::from_toml(&[("custom", custom)]).unwrap();
    let hit = rules.scan(b"k=acme_ab12cd34ef56gh78", TextSource::default());
    assert_eq!(hit[0].secret, "ab12cd34ef56gh78");
    // AND: both the path and the stopword must hold to allow.
    let src = TextSource {
        path: Some("test/x"),
        commit: None,
    };
    assert_eq!(rules.scan(b"acme_ab12cd34ef56gh78", src).len(), 1);
    assert!(rules.scan(b"acme_ab12cd000056gh78", src).is_empty());
    assert!(SecretRules::from_toml(&[("bad", "[[rules]]\nid='x'\nregex='(unclosed'\n")]).is_err());
}

#[test]
fn redaction_and_entropy() {
    assert_eq!(redact("ghp_cg3hPOJ0EW1zkso24L5PjV1AyD1hiH0daF6r"), "ghp_*****");
    assert_eq!(redact("abc"), "*****");
    assert!(shannon_entropy("aaaa") < 0.01);
    assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-9);
}
