//! `github`: the webhook receiver. Each delivery's `X-Hub-Signature-256` (HMAC-SHA256 of the body with the
//! configured secret) is verified in constant time; unsigned and badly signed deliveries get 401 and are counted.
//! An accepted delivery is spooled as the envelope `mamoru_records` understands (`{"headers":{"X-GitHub-Event":
//! ...},"received_at":...,"body":...}`, the header becoming the record's `webhook_type` as in the github plugin)
//! and answered 200. With a token, pushes are enriched before evaluation as the plugin does: the pushed range's
//! diff is fetched from the API and its added lines scanned for secrets, giving `files[].matches[]`.

use crate::config::GithubConfig;
use crate::http::{read_body, refuse, refuse_non_json, spool_failure};
use crate::metrics::SourceMetrics;
use crate::secrets::{scan_patch, SecretMatcher};
use crate::spool::Spool;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Headers kept in the spooled envelope.
const KEPT_HEADERS: &[&str] = &["X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID"];
const BODY_MARK: &[u8] = b",\"body\":";
const MAX_DIFF_BYTES: usize = 32 << 20;

struct Receiver {
    secret: Vec<u8>,
    max_body: usize,
    spool: Arc<Spool>,
    metrics: SourceMetrics,
}

/// True when `signature` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `secret` (constant-time compare).
pub fn signature_valid(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Some(hex_sig) = signature.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

pub(crate) fn router(cfg: &GithubConfig, secret: String, spool: Arc<Spool>, metrics: SourceMetrics) -> Router {
    let state = Arc::new(Receiver {
        secret: secret.into_bytes(),
        max_body: cfg.max_body_bytes,
        spool,
        metrics,
    });
    Router::new().route(&cfg.path, post(receive)).with_state(state)
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Body) -> Response {
    let m = &r.metrics;
    let body = match read_body(m, &headers, body, r.max_body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let Some(signature) = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok()) else {
        return refuse(m, StatusCode::UNAUTHORIZED, "unsigned", "no X-Hub-Signature-256");
    };
    if !signature_valid(&r.secret, &body, signature) {
        return refuse(
            m,
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            "X-Hub-Signature-256 does not match",
        );
    }
    if headers.get("x-github-event").is_none() {
        return refuse(m, StatusCode::BAD_REQUEST, "no_event_type", "no X-GitHub-Event");
    }
    if let Some(resp) = refuse_non_json(m, &body) {
        return resp;
    }
    let trimmed = body.trim_ascii();
    if trimmed.first() != Some(&b'{') {
        return refuse(m, StatusCode::BAD_REQUEST, "not_json", "payload is not a JSON object");
    }
    let envelope = envelope(&headers, trimmed);
    match r.spool.push_async(Bytes::from(envelope)).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => spool_failure(m, &e),
    }
}

/// `{"headers":{...},"received_at":"...","body":<body>}` with the body's bytes verbatim and last.
fn envelope(headers: &HeaderMap, body: &[u8]) -> Vec<u8> {
    let kept: BTreeMap<&str, &str> = KEPT_HEADERS
        .iter()
        .filter_map(|name| Some((*name, headers.get(*name)?.to_str().ok()?)))
        .collect();
    let head = json!({"headers": kept, "received_at": crate::time::rfc3339_ns(crate::time::now_ns())});
    let mut out = serde_json::to_vec(&head).unwrap_or_else(|_| b"{}".to_vec());
    out.pop(); // the closing brace: the body follows
    out.extend_from_slice(BODY_MARK);
    out.extend_from_slice(body);
    out.push(b'}');
    out
}

/// Splits a spooled envelope into its head (through `"body":`) and the body (without the final `}`).
fn split_envelope(env: &[u8]) -> Option<(&[u8], &[u8])> {
    // Inside the serialized head, a quote is always escaped, so the first `,"body":` is the member itself.
    let at = env.windows(BODY_MARK.len()).position(|w| w == BODY_MARK)? + BODY_MARK.len();
    let body = env[at..].strip_suffix(b"}")?;
    Some((&env[..at], body))
}

/// Fetches pushed diffs and adds the secret findings to push payloads.
pub(crate) struct DiffEnricher {
    pub api_url: String,
    pub token: String,
    pub client: reqwest::Client,
    pub matcher: Arc<dyn SecretMatcher>,
    pub metrics: SourceMetrics,
}

impl DiffEnricher {
    /// The envelope with `files` added to a push's body; any other delivery, or a failed fetch (counted), as is.
    pub async fn enrich(&self, env: Vec<u8>) -> Vec<u8> {
        let Some((head, body)) = split_envelope(&env) else {
            return env;
        };
        let is_push = serde_json::from_slice::<Value>(&[head, b"null}"].concat())
            .ok()
            .and_then(|h| {
                h.pointer("/headers/X-GitHub-Event")
                    .and_then(Value::as_str)
                    .map(|e| e == "push")
            })
            .unwrap_or(false);
        if !is_push {
            return env;
        }
        let Ok(payload) = serde_json::from_slice::<Value>(body) else {
            return env;
        };
        let files = match self.findings(&payload).await {
            Ok(Some(files)) => files,
            Ok(None) => return env,
            Err(e) => {
                self.metrics.error("diff_fetch");
                tracing::warn!(error = %e, "cannot fetch a pushed diff; delivering the push without secret scan");
                return env;
            }
        };
        let mut out = Vec::with_capacity(env.len() + 256);
        out.extend_from_slice(head);
        out.extend_from_slice(&inject_files(body, &files));
        out.push(b'}');
        out
    }

    /// `files` with secret matches for the push's range; `None` when there is nothing to fetch (deleted branch).
    async fn findings(&self, push: &Value) -> Result<Option<Value>, String> {
        let repo = push
            .pointer("/repository/full_name")
            .and_then(Value::as_str)
            .ok_or("push without repository")?;
        let before = push.get("before").and_then(Value::as_str).unwrap_or_default();
        let after = push.get("after").and_then(Value::as_str).unwrap_or_default();
        let zero = |s: &str| s.is_empty() || s.bytes().all(|b| b == b'0');
        if zero(after) {
            return Ok(None);
        }
        let api = self.api_url.trim_end_matches('/');
        let url = if zero(before) {
            format!("{api}/repos/{repo}/commits/{after}")
        } else {
            format!("{api}/repos/{repo}/compare/{before}...{after}")
        };
        let mut resp = self
            .client
            .get(&url)
            .bearer_auth(&self.token)
            .header("Accept", "application/vnd.github+json")
            .header("User-Agent", "mamoru")
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("GET {url}: HTTP {}", resp.status()));
        }
        let mut raw = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| format!("GET {url}: {e}"))? {
            if raw.len() + chunk.len() > MAX_DIFF_BYTES {
                return Err(format!("GET {url}: answer larger than {MAX_DIFF_BYTES} bytes"));
            }
            raw.extend_from_slice(&chunk);
        }
        let doc: Value = serde_json::from_slice(&raw).map_err(|e| format!("GET {url}: {e}"))?;
        let mut files = Vec::new();
        for f in doc.get("files").and_then(Value::as_array).into_iter().flatten() {
            let (Some(name), Some(patch)) = (
                f.get("filename").and_then(Value::as_str),
                f.get("patch").and_then(Value::as_str),
            ) else {
                continue;
            };
            let matches: Vec<Value> = scan_patch(patch, self.matcher.as_ref())
                .into_iter()
                .map(|d| json!({"line": d.line, "type": d.found.kind, "desc": d.found.desc, "platform": d.found.platform}))
                .collect();
            if !matches.is_empty() {
                files.push(json!({"name": name, "matches": matches}));
            }
        }
        Ok(Some(Value::Array(files)))
    }
}

/// The body object with `"files":<files>` as its first member (its other bytes untouched).
fn inject_files(body: &[u8], files: &Value) -> Vec<u8> {
    let inner = body[1..].trim_ascii_start();
    let mut out = b"{\"files\":".to_vec();
    out.extend_from_slice(&serde_json::to_vec(files).unwrap_or_else(|_| b"[]".to_vec()));
    if inner.first() != Some(&b'}') {
        out.push(b',');
    }
    out.extend_from_slice(inner);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_signatures() {
        // GitHub's documented test vector: secret "It's a Secret to Everybody", payload "Hello, World!".
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(signature_valid(b"It's a Secret to Everybody", b"Hello, World!", sig));
        assert!(!signature_valid(b"It's a Secret to Everybody", b"Hello, World?", sig));
        assert!(!signature_valid(b"other", b"Hello, World!", sig));
        assert!(!signature_valid(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            "sha1=abc"
        ));
        assert!(!signature_valid(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            "sha256=zz"
        ));
    }

    #[test]
    fn envelope_round_trip_and_injection() {
        let mut h = HeaderMap::new();
        h.insert("X-GitHub-Event", "push".parse().unwrap());
        h.insert("X-GitHub-Delivery", "a\",\"body\":1".parse().unwrap());
        let env = envelope(&h, br#"{"ref":"refs/heads/main"}"#);
        let v: Value = serde_json::from_slice(&env).unwrap();
        assert_eq!(v["body"]["ref"], "refs/heads/main");
        let (_, body) = split_envelope(&env).unwrap();
        assert_eq!(body, br#"{"ref":"refs/heads/main"}"#);
        let injected = inject_files(body, &json!([{"name": "a"}]));
        assert_eq!(
            injected,
            br#"{"files":[{"name":"a"}],"ref":"refs/heads/main"}"#.to_vec()
        );
        assert_eq!(inject_files(b"{ }", &json!([])), b"{\"files\":[]}".to_vec());
    }
}
