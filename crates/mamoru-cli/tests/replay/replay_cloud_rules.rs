//! End-to-end replay of Kubernetes audit and CloudTrail records with the bundled plugin rules.
//!
//! The fixtures in `tests/data/` are what the sources deliver: a kube-apiserver webhook `EventList` and a CloudTrail
//! log file `{"Records":[...]}` (gzipped here, as CloudTrail writes it to S3). They are framed by
//! [`RecordReader`], evaluated by [`JsonPipeline`], and must fire exactly the rules listed per record, with the output
//! fields Falco's plugins would extract. The `mamoru` binary is then run on the same files and its JSON lines are
//! checked against Falco's alert schema.

use crate::common;

use common::json_replay::{assert_fields, field, names, read_records, replay, rulesets, s};
use mamoru_engine::{Alert, FieldJson, RuleMatching};
use mamoru_records::RecordSource;
use mamoru_rules::Priority;
use std::path::{Path, PathBuf};
use std::process::Command;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn alert<'a>(alerts: &'a [Alert], rule: &str) -> &'a Alert {
    alerts
        .iter()
        .find(|a| &*a.rule == rule)
        .unwrap_or_else(|| panic!("no alert of '{rule}' in {:?}", names(alerts)))
}

/// Runs `mamoru replay --source <source> <path>` and parses its standard output, one JSON alert per line.
fn run_binary(source: &str, path: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_mamoru"))
        .args(["replay", "--source", source])
        .args(extra)
        .arg(path)
        .output()
        .expect("mamoru runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "mamoru replay failed: {stderr}");
    assert!(!stderr.contains("malformed"), "no record was rejected: {stderr}");
    String::from_utf8(out.stdout)
        .expect("alerts are UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("alert line is JSON ({e}): {l}")))
        .collect()
}

/// Checks one alert line against Falco's JSON schema and returns its rule.
fn check_falco_schema(v: &serde_json::Value, source: &str) -> String {
    let obj = v.as_object().expect("alert is an object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "hostname",
            "output",
            "output_fields",
            "priority",
            "rule",
            "source",
            "tags",
            "time"
        ]
    );
    assert_eq!(v["source"], source);
    let time = v["time"].as_str().expect("time is a string");
    assert!(
        time.len() == 30 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "RFC 3339 nanoseconds: {time}"
    );
    let priority = v["priority"].as_str().expect("priority is a string");
    assert!(Priority::parse(priority).is_some(), "a Falco priority: {priority}");
    let output = v["output"].as_str().expect("output is a string");
    assert!(
        output.contains(&format!(": {priority} ")),
        "output carries time and priority: {output}"
    );
    assert!(v["tags"].as_array().is_some_and(|t| t.iter().all(|x| x.is_string())));
    assert!(v["output_fields"]["evt.time"].is_u64(), "evt.time is the raw timestamp");
    v["rule"].as_str().expect("rule is a string").to_string()
}

/// What `rule_matching: first` keeps of the per-record expectations: the first rule of each record.
fn firsts(expected: &[&[&'static str]]) -> Vec<&'static str> {
    expected.iter().filter_map(|rules| rules.first().copied()).collect()
}

// ------------------------------------------------------------------------------------------ Kubernetes ----

/// The rules each record of `k8s_audit_eventlist.json` fires (rule_matching=all), in rules-file order.
const K8S_EXPECTED: &[&[&str]] = &[
    // A controller reading a pod, the scheduler listing pods, a probe of /healthz: routine.
    &[],
    &[],
    &[],
    &["Create Privileged Pod"],
    &["Create Sensitive Mount Pod"],
    // exec is audited when the stream starts (ResponseStarted) and when it ends (ResponseComplete).
    &["Attach/Exec Pod"],
    &["Disallowed K8s User"],
    &["Attach/Exec Pod"],
    &["port-forward"],
    &["Attach to cluster-admin Role", "K8s ClusterRoleBinding Created"],
    &[
        "Create/Modify Configmap With Private Credentials",
        "K8s ConfigMap Created",
    ],
    &["Anonymous Request Allowed"],
    // The kubelet updating a pod's status.
    &[],
];

#[test]
fn k8s_audit_event_list_fires_exactly_the_expected_rules() {
    let records = read_records(&data("k8s_audit_eventlist.json"), RecordSource::K8sAudit);
    assert_eq!(
        records.len(),
        K8S_EXPECTED.len(),
        "every item of the EventList is one record"
    );
    let sets = rulesets(RuleMatching::All);
    let alerts = replay(&sets, "k8s_audit", &records);
    for (i, (got, want)) in alerts.iter().zip(K8S_EXPECTED).enumerate() {
        assert_eq!(names(got), *want, "record {i} ({})", records[i].value()["auditID"]);
        assert!(got
            .iter()
            .all(|a| a.source == "k8s_audit" && a.time_ns == records[i].ts_ns));
    }
}

#[test]
fn k8s_audit_output_fields() {
    let records = read_records(&data("k8s_audit_eventlist.json"), RecordSource::K8sAudit);
    let sets = rulesets(RuleMatching::All);
    let alerts = replay(&sets, "k8s_audit", &records);

    let privileged = alert(&alerts[3], "Create Privileged Pod");
    assert_eq!(privileged.priority, Priority::Warning);
    assert_eq!(privileged.tags, vec!["k8s".to_string()]);
    assert_fields(
        privileged,
        &[
            ("ka.user.name", s("kubernetes-admin")),
            ("ka.resp.name", s("priv-debug")),
            ("ka.target.resource", s("pods")),
            ("ka.target.namespace", s("default")),
        ],
    );
    assert!(
        privileged.message.contains("images=") && privileged.message.contains("docker.io/library/alpine:3.19"),
        "{}",
        privileged.message
    );

    let mount = alert(&alerts[4], "Create Sensitive Mount Pod");
    assert_fields(
        mount,
        &[
            ("ka.resp.name", s("node-root")),
            ("ka.user.name", s("kubernetes-admin")),
        ],
    );
    match field(mount, "jevt.value[/requestObject/spec/volumes]") {
        FieldJson::String(v) => {
            let vols: serde_json::Value = serde_json::from_str(v).expect("volumes rendered as JSON text");
            assert_eq!(vols[0]["hostPath"]["path"], "/");
        }
        other => panic!("volumes: {other:?}"),
    }

    let exec = alert(&alerts[5], "Attach/Exec Pod");
    assert_eq!(exec.priority, Priority::Notice);
    assert_fields(
        exec,
        &[
            ("ka.user.name", s("alice@example.com")),
            ("ka.target.name", s("web-7d9f8c6b5-x2x4q")),
            ("ka.target.namespace", s("default")),
            ("ka.target.subresource", s("exec")),
            // The first `command` query parameter, as Go's url.Values.Get returns it.
            ("ka.uri.param[command]", s("sh")),
        ],
    );

    let disallowed = alert(&alerts[6], "Disallowed K8s User");
    assert_fields(
        disallowed,
        &[
            ("ka.user.name", s("alice@example.com")),
            ("ka.verb", s("create")),
            ("ka.response.code", s("101")),
            ("ka.target.name", s("web-7d9f8c6b5-x2x4q")),
            ("ka.target.resource", s("pods")),
        ],
    );

    let attach = alert(&alerts[7], "Attach/Exec Pod");
    assert_fields(
        attach,
        &[
            ("ka.target.subresource", s("attach")),
            ("ka.uri.param[command]", FieldJson::Null),
        ],
    );

    let pf = alert(&alerts[8], "port-forward");
    assert_fields(
        pf,
        &[
            ("ka.target.name", s("postgres-0")),
            ("ka.target.namespace", s("payments")),
        ],
    );

    let crb = alert(&alerts[9], "Attach to cluster-admin Role");
    assert_fields(crb, &[("ka.user.name", s("kubernetes-admin"))]);
    assert!(
        crb.message.contains(r#""kind":"ServiceAccount""#),
        "subjects as JSON text: {}",
        crb.message
    );
    let crb_info = alert(&alerts[9], "K8s ClusterRoleBinding Created");
    assert_eq!(crb_info.priority, Priority::Informational);
    assert_fields(
        crb_info,
        &[
            ("ka.target.name", s("default-sa-admin")),
            ("ka.req.binding.role", s("cluster-admin")),
            ("ka.response.code", s("201")),
            ("ka.auth.decision", s("allow")),
        ],
    );

    let cm = alert(&alerts[10], "Create/Modify Configmap With Private Credentials");
    assert_fields(
        cm,
        &[
            ("ka.user.name", s("kubernetes-admin")),
            ("ka.verb", s("create")),
            ("ka.target.resource", s("configmaps")),
            ("ka.req.configmap.name", s("ledger-config")),
        ],
    );

    let anon = alert(&alerts[11], "Anonymous Request Allowed");
    assert_fields(
        anon,
        &[
            ("ka.user.name", s("system:anonymous")),
            ("ka.verb", s("list")),
            ("ka.uri", s("/api/v1/namespaces/kube-system/secrets")),
        ],
    );
    match field(anon, "ka.auth.reason") {
        FieldJson::String(r) => assert!(r.contains("anonymous-view"), "{r}"),
        other => panic!("ka.auth.reason: {other:?}"),
    }
}

#[test]
fn k8s_audit_rule_matching_first_keeps_the_first_rule_of_each_record() {
    let records = read_records(&data("k8s_audit_eventlist.json"), RecordSource::K8sAudit);
    let sets = rulesets(RuleMatching::First);
    let got: Vec<String> = replay(&sets, "k8s_audit", &records)
        .iter()
        .flatten()
        .map(|a| a.rule.to_string())
        .collect();
    assert_eq!(got, firsts(K8S_EXPECTED));
}

#[test]
fn mamoru_binary_replays_k8s_audit_in_falco_schema() {
    let lines = run_binary("k8s_audit", &data("k8s_audit_eventlist.json"), &[]);
    let rules: Vec<String> = lines.iter().map(|l| check_falco_schema(l, "k8s_audit")).collect();
    // The command's default is Falco's: rule_matching=first.
    assert_eq!(rules, firsts(K8S_EXPECTED));
    let privileged = &lines[0];
    assert_eq!(privileged["priority"], "Warning");
    assert_eq!(privileged["output_fields"]["ka.resp.name"], "priv-debug");
    assert_eq!(privileged["output_fields"]["ka.target.namespace"], "default");
    assert_eq!(privileged["time"], "2024-05-14T09:13:10.014200000Z");
    assert!(privileged["output"]
        .as_str()
        .unwrap_or("")
        .starts_with("2024-05-14T09:13:10.014200000+0000: Warning "));

    let all = run_binary(
        "k8s_audit",
        &data("k8s_audit_eventlist.json"),
        &["-o", "rule_matching=all"],
    );
    assert_eq!(all.len(), K8S_EXPECTED.iter().map(|r| r.len()).sum::<usize>());
}

// ------------------------------------------------------------------------------------------ CloudTrail ----

/// The rules each record of `cloudtrail_records.json` fires (rule_matching=all).
const CLOUDTRAIL_EXPECTED: &[&[&str]] = &[
    // DescribeInstances by a node role.
    &[],
    // bob signs in with MFA.
    &[],
    &["Console Login Without MFA"],
    &["Console Login Without MFA", "Console Root Login Without MFA"],
    // StopLogging denied: the call failed.
    &[],
    // CreateAccessKey for another user and DeleteTrail: no rule in the bundled CloudTrail ruleset covers them.
    &[],
    &["CloudTrail Logging Disabled"],
    &[],
    &["Delete Bucket Public Access Block"],
    &["Put Bucket Policy"],
    &["Put Bucket ACL"],
    &["Delete Bucket Encryption"],
    // CloudTrail checking its own bucket's ACL.
    &[],
];

/// CRC-32 (IEEE), as gzip's trailer needs it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A gzip member holding `data` in stored (uncompressed) deflate blocks: a valid `.json.gz` without a compressor.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    let mut chunks = data.chunks(0xffff).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// The CloudTrail fixture as CloudTrail delivers it: a gzipped log file.
fn cloudtrail_log_file(dir: &Path) -> PathBuf {
    let json = std::fs::read(data("cloudtrail_records.json")).expect("fixture readable");
    let path = dir.join("123456789012_CloudTrail_eu-west-1_20240514T0910Z_Ab12Cd34Ef56Gh78.json.gz");
    std::fs::write(&path, gzip_stored(&json)).expect("temp file writable");
    path
}

#[test]
fn gzip_helper_matches_known_crc() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
}

#[test]
fn cloudtrail_log_file_fires_exactly_the_expected_rules() {
    let dir = tempfile::tempdir().expect("temp dir");
    let records = read_records(&cloudtrail_log_file(dir.path()), RecordSource::CloudTrail);
    assert_eq!(
        records.len(),
        CLOUDTRAIL_EXPECTED.len(),
        "every element of Records is one record"
    );
    let sets = rulesets(RuleMatching::All);
    let alerts = replay(&sets, "aws_cloudtrail", &records);
    for (i, (got, want)) in alerts.iter().zip(CLOUDTRAIL_EXPECTED).enumerate() {
        assert_eq!(names(got), *want, "record {i} ({})", records[i].value()["eventName"]);
    }
}

#[test]
fn cloudtrail_output_fields() {
    let dir = tempfile::tempdir().expect("temp dir");
    let records = read_records(&cloudtrail_log_file(dir.path()), RecordSource::CloudTrail);
    let sets = rulesets(RuleMatching::All);
    let alerts = replay(&sets, "aws_cloudtrail", &records);

    let no_mfa = alert(&alerts[2], "Console Login Without MFA");
    assert_eq!(no_mfa.priority, Priority::Critical);
    assert_eq!(no_mfa.source, "aws_cloudtrail");
    assert_fields(
        no_mfa,
        &[
            ("ct.user", s("mallory")),
            ("ct.srcip", s("203.0.113.77")),
            ("ct.region", s("us-east-1")),
        ],
    );
    assert_eq!(no_mfa.time_ns, 1_715_677_320_000_000_000, "event time is /eventTime");

    // Root identities carry no userName: the cloudtrail plugin's ct.user has no value for them.
    let root = alert(&alerts[3], "Console Root Login Without MFA");
    assert_fields(root, &[("ct.user", FieldJson::Null), ("ct.srcip", s("203.0.113.77"))]);

    let stop = alert(&alerts[6], "CloudTrail Logging Disabled");
    assert_fields(
        stop,
        &[
            ("ct.user", s("mallory")),
            ("ct.region", s("eu-west-1")),
            (
                "ct.request.name",
                s("arn:aws:cloudtrail:eu-west-1:123456789012:trail/org-trail"),
            ),
        ],
    );

    for (i, rule) in [
        (8, "Delete Bucket Public Access Block"),
        (9, "Put Bucket Policy"),
        (10, "Put Bucket ACL"),
        (11, "Delete Bucket Encryption"),
    ] {
        let a = alert(&alerts[i], rule);
        assert_fields(
            a,
            &[("s3.bucket", s("acme-customer-exports")), ("ct.user", s("mallory"))],
        );
    }
    assert_fields(alert(&alerts[9], "Put Bucket Policy"), &[("ct.request.policy", s(""))]);
}

#[test]
fn cloudtrail_rule_matching_first_keeps_the_first_rule_of_each_record() {
    let dir = tempfile::tempdir().expect("temp dir");
    let records = read_records(&cloudtrail_log_file(dir.path()), RecordSource::CloudTrail);
    let sets = rulesets(RuleMatching::First);
    let got: Vec<String> = replay(&sets, "aws_cloudtrail", &records)
        .iter()
        .flatten()
        .map(|a| a.rule.to_string())
        .collect();
    assert_eq!(got, firsts(CLOUDTRAIL_EXPECTED));
}

#[test]
fn mamoru_binary_replays_a_gzipped_cloudtrail_log_in_falco_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = cloudtrail_log_file(dir.path());
    let lines = run_binary("aws_cloudtrail", &path, &["-o", "rule_matching=all"]);
    let rules: Vec<String> = lines.iter().map(|l| check_falco_schema(l, "aws_cloudtrail")).collect();
    let expected: Vec<&str> = CLOUDTRAIL_EXPECTED.iter().flat_map(|r| r.iter().copied()).collect();
    assert_eq!(rules, expected);
    let encryption = lines.last().expect("an alert");
    assert_eq!(encryption["rule"], "Delete Bucket Encryption");
    assert_eq!(encryption["priority"], "Critical");
    assert_eq!(encryption["output_fields"]["s3.bucket"], "acme-customer-exports");
    assert_eq!(encryption["time"], "2024-05-14T09:09:00.000000000Z");
    assert!(encryption["tags"]
        .as_array()
        .is_some_and(|t| t.iter().any(|x| x == "aws_s3")));
}
