//! End-to-end replay of Okta, GitHub and GCP audit records with mamoru's bundled rules for those sources.
//!
//! The fixtures in `tests/data/` are what the sources deliver: an Okta System Log API page (a JSON array of
//! LogEvents), GitHub webhook deliveries (one envelope per line: the headers, the body and the receipt time), and
//! Cloud Audit Logs LogEntries. Each attack record must fire exactly the rule written for it, with the output
//! fields that identify who did what; the benign records around them (routine sign-ins, a single push denial,
//! stricter branch protection, a bucket made private, an egress rule, a denied call) must fire nothing.

use crate::common;

use common::json_replay::{self, assert_fields, names, read_records, replay, s};
use mamoru_cli::rulesets::Rulesets;
use mamoru_engine::{Alert, FieldJson, RuleMatching};
use mamoru_records::RecordSource;
use mamoru_rules::Priority;
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn rulesets() -> Rulesets {
    json_replay::rulesets(RuleMatching::All)
}

/// Checks that record `i` fired exactly `want`, for every record.
fn assert_rules(got: &[Vec<Alert>], want: &[&[&str]], what: impl Fn(usize) -> String) {
    assert_eq!(got.len(), want.len(), "record count");
    for (i, (alerts, expected)) in got.iter().zip(want).enumerate() {
        assert_eq!(names(alerts), *expected, "record {i} ({})", what(i));
    }
}

fn only(alerts: &[Alert]) -> &Alert {
    assert_eq!(alerts.len(), 1, "{:?}", names(alerts));
    &alerts[0]
}

#[test]
fn okta_rules_fire_on_attacks_only() {
    let sets = rulesets();
    let records = read_records(&data("okta_system_log.json"), RecordSource::Okta);
    let got = replay(&sets, "okta", &records);
    let want: &[&[&str]] = &[
        &[],
        &[],
        &[],
        &[],
        &["Okta MFA Push Fatigue"],
        &["Okta User Reported Suspicious Activity"],
        &["Okta Threat Detected"],
        &["Okta Sign-in From New Country"],
        &[],
        &[],
        &[],
        &[],
        &["Okta Repeated MFA Failures"],
        &["Okta Admin Role Granted"],
        &["Okta MFA Factor Reset or Deactivated"],
        &["Okta API Token Created"],
        &["Okta Security Policy Changed"],
        &[],
        &[],
        &[],
        &[],
    ];
    assert_rules(&got, want, |i| records[i].value()["eventType"].to_string());

    assert_fields(
        only(&got[4]),
        &[
            ("okta.actor.alternateid", s("bob@corp.example")),
            ("okta.mfa.deny.countlast[600]", FieldJson::U64(3)),
            ("okta.client.ip", s("203.0.113.77")),
            ("okta.client.geo.country", s("Brazil")),
        ],
    );
    assert_fields(
        only(&got[7]),
        &[
            ("okta.actor.alternateid", s("carol@corp.example")),
            ("okta.client.geo.country", s("Brazil")),
            ("okta.client.geo.city", s("Sao Paulo")),
        ],
    );
    assert_fields(
        only(&got[12]),
        &[
            ("okta.actor.alternateid", s("carol@corp.example")),
            ("okta.mfa.failure.countlast[600]", FieldJson::U64(5)),
            ("okta.reason", s("INVALID_CREDENTIALS")),
        ],
    );
    assert_fields(
        only(&got[13]),
        &[
            ("okta.actor.alternateid", s("it-admin@corp.example")),
            ("okta.target.user.alternateid", s("carol@corp.example")),
            ("okta.targets.displayName", s("(Carol Example,Super Administrator)")),
        ],
    );
    assert_fields(
        only(&got[14]),
        &[
            ("okta.evt.type", s("user.mfa.factor.deactivate")),
            ("okta.target.user.alternateid", s("bob@corp.example")),
        ],
    );
    assert_fields(only(&got[15]), &[("okta.targets.displayName", s("(automation-sync)"))]);
    assert_fields(
        only(&got[16]),
        &[
            ("okta.evt.type", s("policy.rule.update")),
            ("okta.targets.displayName", s("(Require MFA off-network)")),
        ],
    );
    assert_eq!(only(&got[4]).priority, Priority::Critical);
}

#[test]
fn github_rules_fire_on_attacks_only() {
    let sets = rulesets();
    let records = read_records(&data("github_webhook_deliveries.ndjson"), RecordSource::Github);
    let got = replay(&sets, "github", &records);
    let want: &[&[&str]] = &[
        &["GitHub Repository Made Public"],
        &["GitHub Branch Protection Removed"],
        &["GitHub Branch Protection Weakened"],
        &["GitHub Deploy Key Added"],
        &["GitHub Secret Scanning Alert"],
        &["GitHub Workflow Changed"],
        &["GitHub Secret Committed"],
        &["GitHub Organization Admin Added"],
        &["GitHub Organization Admin Added"],
        &["GitHub Webhook Created"],
        &[],
        &[],
        &[],
        &[],
        &[],
        &[],
        &[],
    ];
    let what = |i: usize| {
        let v = records[i].value();
        format!("{} {}", v["webhook_type"], v["action"])
    };
    assert_rules(&got, want, what);

    assert_fields(
        only(&got[0]),
        &[
            ("github.repo", s("https://github.com/acme-corp/billing-service")),
            ("github.user", s("mallory")),
            ("github.org", s("acme-corp")),
        ],
    );
    assert_fields(only(&got[1]), &[("json.value[/rule/name]", s("main"))]);
    assert_fields(
        only(&got[2]),
        &[
            ("json.value[/rule/name]", s("release/*")),
            ("json.value[/rule/allow_force_pushes_enforcement_level]", s("everyone")),
        ],
    );
    assert_fields(
        only(&got[3]),
        &[
            ("json.value[/key/title]", s("backup-sync")),
            ("json.value[/key/read_only]", s("false")),
            ("github.repo", s("https://github.com/acme-corp/payments-api")),
        ],
    );
    assert_fields(
        only(&got[4]),
        &[(
            "json.value[/alert/secret_type_display_name]",
            s("Amazon AWS Access Key ID"),
        )],
    );
    assert_fields(
        only(&got[5]),
        &[("github.commit.modified", s(".github/workflows/deploy.yml"))],
    );
    assert_fields(
        only(&got[6]),
        &[
            ("github.diff.committed_secrets.desc", s("AWS Access Key")),
            ("github.diff.committed_secrets.files", s("config/prod.env")),
            ("github.diff.committed_secrets.lines", s("3")),
        ],
    );
    assert_fields(only(&got[7]), &[("json.value[/membership/user/login]", s("mallory2"))]);
    assert_fields(only(&got[8]), &[("github.collaborator.name", s("contractor-x"))]);
    assert_fields(
        only(&got[9]),
        &[
            ("github.webhook.id", s("448900999")),
            ("github.webhook.type", s("Repository")),
            (
                "json.value[/hook/config/url]",
                s("https://collector.attacker.example/hook"),
            ),
        ],
    );
}

#[test]
fn gcp_rules_fire_on_attacks_only() {
    let sets = rulesets();
    let records = read_records(&data("gcp_audit_entries.json"), RecordSource::GcpAudit);
    let got = replay(&sets, "gcp_auditlog", &records);
    let want: &[&[&str]] = &[
        &["GCP Service Account Key Created"],
        &["GCP Audit Logging Disabled"],
        &["GCP Logging Sink or Exclusion Tampered"],
        &["GCP Owner Role Granted"],
        &["GCP Firewall Rule Open to the Internet"],
        &["GCP Bucket Made Public"],
        &["GCP KMS Key Version Destroyed"],
        &[],
        &[],
        &[],
        &[],
        &[],
        &[],
    ];
    assert_rules(&got, want, |i| {
        records[i].value()["protoPayload"]["methodName"].to_string()
    });

    let sa = "deployer@acme-prod-4711.iam.gserviceaccount.com";
    assert_fields(
        only(&got[0]),
        &[
            ("gcp.user", s("mallory@corp.example")),
            ("gcp.iam.serviceAccount", s(sa)),
            ("gcp.callerIP", s("203.0.113.66")),
        ],
    );
    assert_fields(
        only(&got[1]),
        &[(
            "json.value[/protoPayload/serviceData/policyDelta/auditConfigDeltas]",
            s(
                r#"[{"action":"REMOVE","service":"allServices","logType":"DATA_READ"},{"action":"REMOVE","service":"allServices","logType":"DATA_WRITE"}]"#,
            ),
        )],
    );
    assert_fields(only(&got[2]), &[("gcp.logging.sink", s("siem-export"))]);
    assert_fields(
        only(&got[3]),
        &[
            ("gcp.resourceName", s("projects/acme-prod-4711")),
            (
                "json.value[/protoPayload/serviceData/policyDelta/bindingDeltas]",
                s(r#"[{"action":"ADD","role":"roles/owner","member":"user:mallory.backup@gmail.com"}]"#),
            ),
        ],
    );
    assert_fields(
        only(&got[4]),
        &[
            (
                "gcp.resourceName",
                s("projects/acme-prod-4711/global/firewalls/allow-ssh-any"),
            ),
            (
                "json.value[/protoPayload/request/alloweds]",
                s(r#"[{"IPProtocol":"tcp","ports":["22"]}]"#),
            ),
        ],
    );
    assert_fields(only(&got[5]), &[("gcp.storage.bucket", s("acme-prod-exports"))]);
    assert_fields(
        only(&got[6]),
        &[
            (
                "gcp.resourceName",
                s("projects/acme-prod-4711/locations/us-central1/keyRings/prod/cryptoKeys/db-encryption/cryptoKeyVersions/1"),
            ),
            ("gcp.location", s("us-central1")),
        ],
    );
}

/// The bundled rules of each new source are enabled and all compiled for their source.
#[test]
fn saas_rulesets_are_bundled() {
    let sets = rulesets();
    for (source, count) in [("okta", 9), ("github", 10), ("gcp_auditlog", 7)] {
        let rs = sets.json_ruleset(source).expect("ruleset");
        let active = rs.rules().iter().filter(|r| r.is_active()).count();
        assert_eq!(active, count, "{source}");
    }
}
