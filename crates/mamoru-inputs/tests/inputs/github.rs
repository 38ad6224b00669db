//! github end to end: recorded webhook deliveries signed with the secret and posted over HTTPS; unsigned and
//! badly signed deliveries are refused and counted; a push is enriched with the secrets found in its diff, fetched
//! from a local GitHub API, and fires the secret rule.

use crate::common;

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use common::*;
use hmac::{Hmac, Mac};
use mamoru_inputs::{run_sources, GithubConfig, ListenConfig, SourcesConfig, TlsConfig};
use serde_json::{json, Value};
use sha2::Sha256;

const SECRET: &str = "webhook-secret-for-tests";
const API_TOKEN: &str = "ghp_api_token_for_fetching_diffs";
const RULES: &[(&str, &str)] = &[(
    "github_test_rules.yaml",
    r#"
- rule: Secret Pushed Into A Repository
  desc: A push whose diff adds a credential (AWS keys, GitHub tokens, private keys).
  condition: github.type = push and github.diff.has_secrets = "true"
  output: "Secret pushed (repo=%github.repo.name user=%github.user files=%github.diff.committed_secrets.files types=%github.diff.committed_secrets.desc)"
  priority: CRITICAL
  source: github
- rule: Admin Collaborator Added
  desc: A collaborator was given admin on a repository.
  condition: github.type = member and github.action = added and github.collaborator.role = admin
  output: "Admin collaborator added (repo=%github.repo.name member=%github.collaborator.name by=%github.user)"
  priority: WARNING
  source: github
- rule: Webhook Connected
  desc: A webhook was installed (GitHub sends ping).
  condition: github.type = ping
  output: "Webhook connected (repo=%github.repo.name)"
  priority: DEBUG
  source: github
"#,
)];

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// (event type, body) of the recorded deliveries that carry their headers.
fn deliveries() -> Vec<(String, Vec<u8>)> {
    let text = String::from_utf8(read("crates/mamoru-records/tests/data/github_webhooks.ndjson")).unwrap();
    text.lines()
        .filter_map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let event = v
                .get("headers")?
                .as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("x-github-event"))?
                .1;
            Some((event.as_str()?.to_string(), serde_json::to_vec(&v["body"]).unwrap()))
        })
        .collect()
}

async fn compare(Path((owner, repo, range)): Path<(String, String, String)>, headers: HeaderMap) -> impl IntoResponse {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {API_TOKEN}")) {
        return (StatusCode::UNAUTHORIZED, "{}".to_string());
    }
    assert_eq!((owner.as_str(), repo.as_str()), ("corp-example", "payments-api"));
    assert_eq!(
        range,
        "6113728f27ae82c7b1a177c8d03f9e96e0adf246...9f1c0a3b7e2d4c5f6a7b8c9d0e1f2a3b4c5d6e7f"
    );
    let body = json!({
        "files": [
            {"filename": "README.md", "patch": "@@ -1,1 +1,2 @@\n # payments\n+Deploy notes.\n"},
            {"filename": "config/prod.env", "patch": "@@ -0,0 +1,3 @@\n+DB_HOST=db.internal\n+AWS_ACCESS_KEY_ID=AKIAQ3EGRTZ6VXPLMN4K\n+aws_secret_access_key = 9drTJvcXLB89EXAMPLEKEYabcdefghijklmnopqr\n"}
        ]
    });
    (StatusCode::OK, body.to_string())
}

async fn github_api() -> String {
    let app = axum::Router::new().route("/repos/{owner}/{repo}/compare/{range}", axum::routing::get(compare));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let app = app.clone();
            tokio::spawn(async move {
                let svc = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_deliveries_fire_rules_and_pushes_are_scanned_for_secrets() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let api = github_api().await;
    let cfg = SourcesConfig {
        state_dir: dir.path().join("state"),
        github: Some(GithubConfig {
            endpoint: ListenConfig {
                listen: "127.0.0.1:0".into(),
                tls: Some(TlsConfig {
                    cert_file: pki.server_cert.clone(),
                    key_file: pki.server_key.clone(),
                    client_ca_file: None,
                }),
            },
            path: "/github".into(),
            secret: Some(SECRET.into()),
            secret_env: None,
            max_body_bytes: 25 << 20,
            spool_max_bytes: 1 << 30,
            api_url: api,
            token: Some(API_TOKEN.into()),
            token_env: None,
        }),
        ..SourcesConfig::default()
    };
    let (tx, rx) = channel();
    let eval = Evaluator::start(rx, RULES, None);
    let h = run_sources(cfg, tx).await.unwrap();
    let url = format!("https://localhost:{}/github", h.local_addr("github").unwrap().port());
    let client = pki.client(None);
    let m = h.metrics().input("github", "webhook");

    let recorded = deliveries();
    assert!(recorded.len() >= 4);
    for (i, (event, body)) in recorded.iter().enumerate() {
        let r = client
            .post(&url)
            .header("X-GitHub-Event", event)
            .header("X-GitHub-Delivery", format!("delivery-{i}"))
            .header("X-Hub-Signature-256", sign(body))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "delivery {i} ({event})");
    }
    // Refused: unsigned, signed with another secret, tampered body, signed but truncated JSON.
    let (event, body) = &recorded[0];
    let r = client
        .post(&url)
        .header("X-GitHub-Event", event)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let mut other = Hmac::<Sha256>::new_from_slice(b"not-the-secret").unwrap();
    other.update(body);
    let forged = format!("sha256={}", hex::encode(other.finalize().into_bytes()));
    let r = client
        .post(&url)
        .header("X-GitHub-Event", event)
        .header("X-Hub-Signature-256", forged)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let r = client
        .post(&url)
        .header("X-GitHub-Event", event)
        .header("X-Hub-Signature-256", sign(body))
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let truncated = body[..body.len() / 2].to_vec();
    let r = client
        .post(&url)
        .header("X-GitHub-Event", event)
        .header("X-Hub-Signature-256", sign(&truncated))
        .body(truncated)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(m.rejected_total("unsigned"), 1);
    assert_eq!(m.rejected_total("bad_signature"), 2);
    assert_eq!(m.rejected_total("not_json"), 1);

    let seen = eval
        .wait_for("every accepted delivery", |s| s.records.len() == recorded.len())
        .await;
    let secret = seen.alert_messages("Secret Pushed Into A Repository");
    assert_eq!(secret.len(), 1, "{:?}", seen.alerts);
    assert!(
        secret[0].contains("files=config/prod.env") && secret[0].contains("repo=corp-example/payments-api"),
        "{}",
        secret[0]
    );
    assert!(secret[0].contains("AWS access key id"), "{}", secret[0]);
    assert_eq!(
        seen.alert_messages("Admin Collaborator Added").len(),
        1,
        "{:?}",
        seen.alerts
    );
    assert_eq!(seen.alert_messages("Webhook Connected").len(), 1, "{:?}", seen.alerts);
    h.stop().await.unwrap();
    drop(eval);
}
