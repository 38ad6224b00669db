//! k8s_audit end to end: EventList batches over HTTPS (mTLS or bearer token) and a tailed audit log with rotation
//! and truncation, evaluated with the bundled Kubernetes audit rules.

use crate::common;

use common::*;
use mamoru_inputs::{
    run_sources, K8sAuditConfig, K8sWebhookConfig, ListenConfig, SourcesConfig, TailConfig, TlsConfig,
};
use reqwest::StatusCode;
use std::io::Write;

const EVENTLIST: &str = "crates/mamoru-cli/tests/data/k8s_audit_eventlist.json";
const TOKEN: &str = "apiserver-webhook-token-0123456789";

fn webhook_config(state: &std::path::Path, pki: &Pki) -> SourcesConfig {
    SourcesConfig {
        state_dir: state.to_path_buf(),
        k8s_audit: Some(K8sAuditConfig {
            webhook: Some(K8sWebhookConfig {
                endpoint: ListenConfig {
                    listen: "127.0.0.1:0".into(),
                    tls: Some(TlsConfig {
                        cert_file: pki.server_cert.clone(),
                        key_file: pki.server_key.clone(),
                        client_ca_file: Some(pki.ca.clone()),
                    }),
                },
                path: "/k8s-audit".into(),
                bearer_tokens: vec![TOKEN.into()],
                bearer_token_env: None,
                max_body_bytes: 12_582_912,
                max_event_bytes: 4 << 20,
                spool_max_bytes: 1 << 30,
            }),
            tail: vec![],
        }),
        ..SourcesConfig::default()
    }
}

fn eventlist_ids() -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&read(EVENTLIST)).unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["auditID"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_authenticates_senders_and_fires_the_bundled_rules() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let (tx, rx) = channel();
    let eval = Evaluator::start(rx, &[], None);
    let h = run_sources(webhook_config(&dir.path().join("state"), &pki), tx)
        .await
        .unwrap();
    let url = format!(
        "https://localhost:{}/k8s-audit",
        h.local_addr("k8s_audit").unwrap().port()
    );
    let body = read(EVENTLIST);
    let m = h.metrics().input("k8s_audit", "webhook");

    // mTLS: the API server's client certificate.
    let mtls = pki.client(Some(&pki.client_pem));
    let r = mtls
        .post(&url)
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Bearer token, no client certificate.
    let plain = pki.client(None);
    let r = plain
        .post(&url)
        .bearer_auth(TOKEN)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Refused: nothing, a wrong token, a certificate from another CA (the handshake may fail, or 401).
    let r = plain.post(&url).body(body.clone()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = plain
        .post(&url)
        .bearer_auth("wrong-token")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let rogue = pki
        .client(Some(&pki.rogue_client_pem))
        .post(&url)
        .body(body.clone())
        .send()
        .await;
    assert!(
        rogue.is_err() || rogue.unwrap().status() == StatusCode::UNAUTHORIZED,
        "rogue client certificate accepted"
    );
    assert!(m.rejected_total("unauthenticated") >= 2);

    // Not JSON (a truncated batch): 400, counted.
    let r = plain
        .post(&url)
        .bearer_auth(TOKEN)
        .body(body[..body.len() / 2].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(m.rejected_total("not_json"), 1);

    // 50 MB: 413, counted, nothing spooled.
    let big = vec![b' '; 50 << 20];
    let r = plain.post(&url).bearer_auth(TOKEN).body(big).send().await;
    if let Ok(r) = r {
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    assert_eq!(m.rejected_total("too_large"), 1);

    // Wrong method.
    let r = plain.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);

    let ids = eventlist_ids();
    let seen = eval
        .wait_for("both batches", |s| s.ids("k8s_audit").len() == 2 * ids.len())
        .await;
    let expected: Vec<String> = ids.iter().chain(ids.iter()).cloned().collect();
    assert_eq!(
        seen.ids("k8s_audit"),
        expected,
        "both accepted batches, in order, each record once"
    );
    let rules = seen.rules();
    for rule in [
        "Create Privileged Pod",
        "Create Sensitive Mount Pod",
        "Attach/Exec Pod",
        "Attach to cluster-admin Role",
    ] {
        assert!(
            rules.get(rule).copied().unwrap_or(0) >= 2,
            "{rule} fired for each batch: {rules:?}"
        );
    }
    let text = metrics_text(&h);
    assert!(
        text.contains("mamoru_input_records_total{source=\"k8s_audit\",input=\"webhook\"}"),
        "{text}"
    );
    assert!(text.contains("reason=\"too_large\"} 1"), "{text}");
    h.stop().await.unwrap();
    drop(eval);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_batch_survives_a_crash_before_evaluation() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let state = dir.path().join("state");

    // First run: the evaluator dies before committing anything.
    let (tx, rx) = channel();
    let crashing = Evaluator::start(rx, &[], Some(0));
    let mut cfg = webhook_config(&state, &pki);
    let one_batch = read(EVENTLIST).len() as u64;
    if let Some(w) = cfg.k8s_audit.as_mut().and_then(|k| k.webhook.as_mut()) {
        // Room for one batch and a half: a burst beyond it is answered 503, not buffered.
        w.spool_max_bytes = one_batch * 3 / 2;
    }
    let h = run_sources(cfg, tx).await.unwrap();
    let url = format!(
        "https://localhost:{}/k8s-audit",
        h.local_addr("k8s_audit").unwrap().port()
    );
    let r = pki
        .client(None)
        .post(&url)
        .bearer_auth(TOKEN)
        .body(read(EVENTLIST))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "accepted");
    assert!(crashing.join().records.is_empty());
    let r = pki
        .client(None)
        .post(&url)
        .bearer_auth(TOKEN)
        .body(read(EVENTLIST))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        h.metrics().input("k8s_audit", "webhook").rejected_total("spool_full"),
        1
    );
    assert!(h.stop().await.is_err(), "the spool drain reports the lost evaluator");

    // Second run: the spooled batch is evaluated, once.
    let (tx, rx) = channel();
    let eval = Evaluator::start(rx, &[], None);
    let h = run_sources(webhook_config(&state, &pki), tx).await.unwrap();
    let ids = eventlist_ids();
    let seen = eval
        .wait_for("the spooled batch", |s| s.ids("k8s_audit").len() >= ids.len())
        .await;
    assert_eq!(seen.ids("k8s_audit"), ids);
    eventually("spool emptied", || {
        std::fs::read_dir(state.join("spool/k8s_audit")).unwrap().count() == 0
    })
    .await;
    h.stop().await.unwrap();
}

fn tail_config(state: &std::path::Path, log: &std::path::Path) -> SourcesConfig {
    SourcesConfig {
        state_dir: state.to_path_buf(),
        k8s_audit: Some(K8sAuditConfig {
            webhook: None,
            tail: vec![TailConfig {
                path: log.to_path_buf(),
                poll_interval_ms: 20,
                start_at_end: false,
                max_line_bytes: 1 << 20,
            }],
        }),
        ..SourcesConfig::default()
    }
}

/// Audit log lines (one Event per line, as `--audit-log-path` writes them) with distinct audit ids.
fn event_lines(prefix: &str, n: usize) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&read(EVENTLIST)).unwrap();
    let items = v["items"].as_array().unwrap();
    (0..n)
        .map(|i| {
            let mut e = items[i % items.len()].clone();
            e["auditID"] = format!("{prefix}-{i}").into();
            serde_json::to_string(&e).unwrap()
        })
        .collect()
}

fn append(path: &std::path::Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
    f.sync_all().unwrap();
}

/// The tail cursor's offset.
fn tail_offset(state: &std::path::Path) -> Option<u64> {
    let entry = std::fs::read_dir(state).ok()?.flatten().find(|e| {
        let n = e.file_name().to_string_lossy().into_owned();
        n.starts_with("k8s_audit.tail") && n.ends_with(".cursor.json")
    })?;
    let c: serde_json::Value = serde_json::from_slice(&std::fs::read(entry.path()).ok()?).ok()?;
    c["offset"].as_u64()
}

fn ids_of(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["auditID"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_follows_rotation_and_truncation_and_resumes_after_restart() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let log = dir.path().join("audit.log");
    let first = event_lines("a", 6);
    append(&log, &first);

    let (tx, rx) = channel();
    let eval = Evaluator::start(rx, &[], None);
    let h = run_sources(tail_config(&state, &log), tx).await.unwrap();
    let mut want = ids_of(&first);
    eval.wait_for("first lines", |s| s.ids("k8s_audit").len() == want.len())
        .await;

    // A partial line is held until its end arrives; a malformed line is counted with its offset and skipped.
    let more = event_lines("b", 3);
    {
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(&more[0].as_bytes()[..40]).unwrap();
        f.sync_all().unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    {
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        writeln!(f, "{}", &more[0][40..]).unwrap();
        writeln!(f, "{{\"kind\":\"Event\",\"truncated").unwrap();
    }
    append(&log, &more[1..]);
    want.extend(ids_of(&more));
    eval.wait_for("appended lines", |s| s.ids("k8s_audit").len() == want.len())
        .await;
    let m = h.metrics().input("k8s_audit", "tail");
    eventually("malformed line counted", || m.errors_total("malformed") == 1).await;

    // Rename rotation: lines written just before the rename are read from the old file, then the new file.
    let rotated = dir.path().join("audit.log.1");
    let late = event_lines("c", 2);
    append(&log, &late);
    std::fs::rename(&log, &rotated).unwrap();
    let fresh = event_lines("d", 4);
    append(&log, &fresh);
    want.extend(ids_of(&late));
    want.extend(ids_of(&fresh));
    eval.wait_for("rotated lines", |s| s.ids("k8s_audit").len() == want.len())
        .await;

    // copytruncate: the file shrinks and starts over.
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    eventually("truncation noticed (cursor back to 0)", || {
        tail_offset(&state) == Some(0)
    })
    .await;
    let after_trunc = event_lines("e", 2);
    append(&log, &after_trunc);
    want.extend(ids_of(&after_trunc));
    eval.wait_for("lines after truncation", |s| s.ids("k8s_audit").len() == want.len())
        .await;
    h.stop().await.unwrap();

    // Stopped: more lines arrive; the restart reads exactly those.
    let while_down = event_lines("f", 5);
    append(&log, &while_down);
    let (tx, rx) = channel();
    let eval2 = Evaluator::start(rx, &[], None);
    let h = run_sources(tail_config(&state, &log), tx).await.unwrap();
    let seen2 = eval2
        .wait_for("lines written while stopped", |s| {
            s.ids("k8s_audit").len() >= while_down.len()
        })
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        eval2.snapshot().ids("k8s_audit"),
        ids_of(&while_down),
        "no duplicate, no gap"
    );
    h.stop().await.unwrap();

    let all = eval.snapshot().ids("k8s_audit");
    assert_eq!(all, want, "every line once, in order");
    assert!(
        seen2.rules().contains_key("Create Privileged Pod"),
        "{:?}",
        seen2.rules()
    );
}
