//! gcp_auditlog end to end: Pub/Sub push deliveries of recorded LogEntries over HTTPS, authenticated by an RS256
//! OIDC token checked against a JWKS (issuer, audience, email, expiry) or by a shared URL token; forged, expired,
//! mis-addressed and unauthenticated pushes are refused and counted; LogEntry files are read from a directory.

use crate::common;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::*;
use mamoru_inputs::{run_sources, DirectoryConfig, GcpConfig, GcpPushConfig, ListenConfig, SourcesConfig, TlsConfig};
use reqwest::StatusCode;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivateKeyDer;
use serde_json::{json, Value};

const AUDIENCE: &str = "https://mamoru.example/gcp-audit";
const PUSHER: &str = "pubsub-push@corp-prod.iam.gserviceaccount.com";
const SHARED: &str = "shared-push-token-42";
const RULES: &[(&str, &str)] = &[(
    "gcp_test_rules.yaml",
    r#"
- rule: GCP Logging Sink Deleted
  desc: An audit log sink was deleted (audit trail disabled).
  condition: gcp.methodName = "google.logging.v2.ConfigServiceV2.DeleteSink"
  output: "Logging sink deleted (user=%gcp.user sink=%gcp.logging.sink project=%gcp.projectId)"
  priority: CRITICAL
  source: gcp_auditlog
- rule: GCP Bucket IAM Changed
  desc: A bucket's IAM policy was changed.
  condition: gcp.methodName = "storage.setIamPermissions"
  output: "Bucket IAM changed (user=%gcp.user bucket=%gcp.storage.bucket)"
  priority: WARNING
  source: gcp_auditlog
"#,
)];

fn rsa_key(dir: &std::path::Path, name: &str) -> RsaKeyPair {
    let path = dir.join(name);
    let status = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&path)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl (scripts/setup-deps installs it)");
    assert!(status.success());
    match PrivateKeyDer::from_pem_file(&path).unwrap() {
        PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()).unwrap(),
        other => panic!("unexpected key format {other:?}"),
    }
}

fn jwks(kid: &str, key: &RsaKeyPair) -> Value {
    let public: ring::rsa::PublicKeyComponents<Vec<u8>> = key.public().into();
    json!({"keys": [{
        "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(&public.n),
        "e": URL_SAFE_NO_PAD.encode(&public.e),
    }]})
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn jwt(key: &RsaKeyPair, kid: &str, claims: &Value) -> String {
    let header = json!({"alg": "RS256", "kid": kid, "typ": "JWT"});
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signed.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn claims(aud: &str, exp: u64) -> Value {
    json!({"iss": "https://accounts.google.com", "aud": aud, "email": PUSHER, "email_verified": true,
           "iat": now() - 10, "exp": exp, "sub": "1234567890"})
}

fn entries() -> Vec<Value> {
    String::from_utf8(read("crates/mamoru-records/tests/data/gcp_logentries.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn push_body(entry: &Value, id: usize) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "message": {"data": STANDARD.encode(entry.to_string()), "messageId": id.to_string(), "publishTime": "2024-03-01T13:00:01Z"},
        "subscription": "projects/corp-prod/subscriptions/mamoru-audit"
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_and_shared_token_pushes_and_logentry_files() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let key = rsa_key(dir.path(), "signer.pem");
    let rogue = rsa_key(dir.path(), "rogue.pem");
    let jwks_file = dir.path().join("jwks.json");
    std::fs::write(&jwks_file, jwks("k1", &key).to_string()).unwrap();
    let files = dir.path().join("logentries");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(
        files.join("2024-03-01T13.json"),
        read("crates/mamoru-records/tests/data/gcp_logentries.ndjson"),
    )
    .unwrap();

    let cfg = SourcesConfig {
        state_dir: dir.path().join("state"),
        gcp_auditlog: Some(GcpConfig {
            push: Some(GcpPushConfig {
                endpoint: ListenConfig {
                    listen: "127.0.0.1:0".into(),
                    tls: Some(TlsConfig {
                        cert_file: pki.server_cert.clone(),
                        key_file: pki.server_key.clone(),
                        client_ca_file: None,
                    }),
                },
                path: "/gcp-audit".into(),
                audience: Some(AUDIENCE.into()),
                issuers: vec!["https://accounts.google.com".into(), "accounts.google.com".into()],
                service_account_email: Some(PUSHER.into()),
                jwks_file: Some(jwks_file),
                jwks_url: None,
                shared_token: Some(SHARED.into()),
                shared_token_env: None,
                max_body_bytes: 16 << 20,
                spool_max_bytes: 1 << 30,
            }),
            directory: Some(DirectoryConfig {
                path: files,
                poll_interval_s: 1,
                max_file_bytes: 8 << 20,
            }),
        }),
        ..SourcesConfig::default()
    };
    let (tx, rx) = channel();
    let eval = Evaluator::start(rx, RULES, None);
    let h = run_sources(cfg, tx).await.unwrap();
    let url = format!(
        "https://localhost:{}/gcp-audit",
        h.local_addr("gcp_auditlog").unwrap().port()
    );
    let client = pki.client(None);
    let m = h.metrics().input("gcp_auditlog", "push");
    let entries = entries();
    let good_token = jwt(&key, "k1", &claims(AUDIENCE, now() + 3600));

    // Accepted: OIDC for the first two entries, the shared URL token for the third.
    for (i, e) in entries.iter().take(2).enumerate() {
        let r = client
            .post(&url)
            .bearer_auth(&good_token)
            .body(push_body(e, i))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "push {i}");
    }
    let r = client
        .post(format!("{url}?token={SHARED}"))
        .body(push_body(&entries[2], 2))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // Refused: no credentials, wrong shared token, wrong audience, expired, forged signature, wrong email.
    let refused = [
        client.post(&url).body(push_body(&entries[0], 9)),
        client
            .post(format!("{url}?token=guess"))
            .body(push_body(&entries[0], 9)),
        client
            .post(&url)
            .bearer_auth(jwt(&key, "k1", &claims("https://other.example", now() + 3600)))
            .body(push_body(&entries[0], 9)),
        client
            .post(&url)
            .bearer_auth(jwt(&key, "k1", &claims(AUDIENCE, now() - 3600)))
            .body(push_body(&entries[0], 9)),
        client
            .post(&url)
            .bearer_auth(jwt(&rogue, "k1", &claims(AUDIENCE, now() + 3600)))
            .body(push_body(&entries[0], 9)),
        client
            .post(&url)
            .bearer_auth(jwt(&key, "k1", &{
                let mut c = claims(AUDIENCE, now() + 3600);
                c["email"] = "attacker@evil.example".into();
                c
            }))
            .body(push_body(&entries[0], 9)),
    ];
    for (i, req) in refused.into_iter().enumerate() {
        assert_eq!(
            req.send().await.unwrap().status(),
            StatusCode::UNAUTHORIZED,
            "refused case {i}"
        );
    }
    assert_eq!(m.rejected_total("unauthenticated"), 1);
    assert_eq!(m.rejected_total("bad_token"), 5);
    // Authenticated but not a LogEntry: 400.
    let junk = json!({"message": {"data": STANDARD.encode("{\"truncated"), "messageId": "x"}}).to_string();
    let r = client
        .post(&url)
        .bearer_auth(&good_token)
        .body(junk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // 3 pushed entries + 3 entries of the file (its 4th has no timestamp and is dropped as the plugin does).
    let seen = eval
        .wait_for("pushed and file entries", |s| s.ids("gcp_auditlog").len() == 6)
        .await;
    let mut ids = seen.ids("gcp_auditlog");
    ids.sort();
    assert_eq!(
        ids,
        vec![
            "1a2b3c4d5e6f",
            "1a2b3c4d5e6f",
            "2b3c4d5e6f7a",
            "2b3c4d5e6f7a",
            "3c4d5e6f7a8b",
            "3c4d5e6f7a8b"
        ]
    );
    let sink = seen.alert_messages("GCP Logging Sink Deleted");
    assert_eq!(sink.len(), 2, "{:?}", seen.alerts);
    assert_eq!(seen.alert_messages("GCP Bucket IAM Changed").len(), 2);
    h.stop().await.unwrap();
    drop(eval);
}
