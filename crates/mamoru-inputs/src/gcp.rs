//! `gcp_auditlog`: the HTTPS endpoint of a Pub/Sub push subscription fed by a Cloud Logging sink. The push is
//! authenticated by its OIDC token (RS256 against the configured JWKS; issuer, audience, optional service-account
//! email) or by a shared token carried in the push URL (`?token=`); the message's `data` (base64 of one LogEntry)
//! is spooled durably and the push acknowledged with 204. Refused pushes are counted (Pub/Sub redelivers them).

use crate::config::GcpPushConfig;
use crate::http::{bearer, read_body, refuse, secret_matches, spool_failure};
use crate::jwt::{self, Expectations, Jwks};
use crate::metrics::SourceMetrics;
use crate::spool::Spool;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Shortest time between two JWKS refreshes triggered by unknown key ids.
const JWKS_REFRESH_MIN: Duration = Duration::from_secs(300);

pub(crate) struct KeySet {
    keys: RwLock<Jwks>,
    url: Option<String>,
    last_fetch: RwLock<Option<Instant>>,
    client: reqwest::Client,
}

impl KeySet {
    pub async fn load(cfg: &GcpPushConfig, client: reqwest::Client) -> crate::error::Result<Option<KeySet>> {
        use crate::error::InputError;
        let keys = match (&cfg.jwks_file, &cfg.jwks_url) {
            (Some(path), _) => {
                let doc = std::fs::read(path).map_err(|e| InputError::io(path, e))?;
                Jwks::parse(&doc).map_err(|e| InputError::Config(format!("{}: {e}", path.display())))?
            }
            (None, Some(url)) => fetch_jwks(&client, url).await.map_err(InputError::Http)?,
            (None, None) => return Ok(None),
        };
        Ok(Some(KeySet {
            keys: RwLock::new(keys),
            url: cfg.jwks_url.clone(),
            last_fetch: RwLock::new(Some(Instant::now())),
            client,
        }))
    }

    /// Refetches the JWKS when `kid` is unknown (Google rotates its keys), at most every few minutes.
    async fn refresh_for(&self, kid: Option<&str>) {
        let Some(url) = &self.url else { return };
        if self.keys.read().unwrap_or_else(|p| p.into_inner()).has_key(kid) {
            return;
        }
        let recent = self
            .last_fetch
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|t| t.elapsed() < JWKS_REFRESH_MIN);
        if recent {
            return;
        }
        *self.last_fetch.write().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        match fetch_jwks(&self.client, url).await {
            Ok(k) => *self.keys.write().unwrap_or_else(|p| p.into_inner()) = k,
            Err(e) => tracing::warn!(error = %e, "cannot refresh the JWKS"),
        }
    }
}

async fn fetch_jwks(client: &reqwest::Client, url: &str) -> Result<Jwks, String> {
    let resp = client
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| format!("JWKS {url}: {e}"))?;
    let body = resp.bytes().await.map_err(|e| format!("JWKS {url}: {e}"))?;
    Jwks::parse(&body)
}

struct Push {
    keys: Option<KeySet>,
    want: Expectations,
    shared: Option<String>,
    max_body: usize,
    spool: Arc<Spool>,
    metrics: SourceMetrics,
}

pub(crate) fn router(
    cfg: &GcpPushConfig,
    keys: Option<KeySet>,
    shared: Option<String>,
    spool: Arc<Spool>,
    metrics: SourceMetrics,
) -> Router {
    let state = Arc::new(Push {
        keys,
        want: Expectations {
            issuers: cfg.issuers.clone(),
            audience: cfg.audience.clone(),
            email: cfg.service_account_email.clone(),
        },
        shared,
        max_body: cfg.max_body_bytes,
        spool,
        metrics,
    });
    Router::new().route(&cfg.path, post(receive)).with_state(state)
}

#[derive(Deserialize)]
struct PushBody {
    message: PushMessage,
}

#[derive(Deserialize)]
struct PushMessage {
    #[serde(default)]
    data: Option<String>,
    #[serde(default, rename = "messageId")]
    message_id: Option<String>,
}

impl Push {
    async fn authenticate(&self, headers: &HeaderMap, query: &HashMap<String, String>) -> Result<(), Response> {
        let m = &self.metrics;
        if let (Some(shared), Some(token)) = (&self.shared, query.get("token")) {
            if secret_matches(token.as_bytes(), std::slice::from_ref(shared)) {
                return Ok(());
            }
            return Err(refuse(
                m,
                StatusCode::UNAUTHORIZED,
                "bad_token",
                "push URL token does not match",
            ));
        }
        let Some(keys) = &self.keys else {
            return Err(refuse(
                m,
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "no push URL token",
            ));
        };
        let Some(token) = bearer(headers).and_then(|t| std::str::from_utf8(t).ok()) else {
            return Err(refuse(
                m,
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "no OIDC bearer token",
            ));
        };
        keys.refresh_for(jwt::key_id(token).as_deref()).await;
        let verdict = {
            let set = keys.keys.read().unwrap_or_else(|p| p.into_inner());
            jwt::verify(token, &set, &self.want, crate::time::now_secs())
        };
        verdict
            .map(|_| ())
            .map_err(|e| refuse(m, StatusCode::UNAUTHORIZED, "bad_token", &e.to_string()))
    }
}

async fn receive(
    State(p): State<Arc<Push>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let m = &p.metrics;
    if let Err(r) = p.authenticate(&headers, &query).await {
        return r;
    }
    let body = match read_body(m, &headers, body, p.max_body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let push: PushBody = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => {
            return refuse(
                m,
                StatusCode::BAD_REQUEST,
                "not_json",
                &format!("not a Pub/Sub push: {e}"),
            )
        }
    };
    let id = push.message.message_id.unwrap_or_default();
    let Some(data) = push.message.data.and_then(|d| STANDARD.decode(d.trim()).ok()) else {
        return refuse(
            m,
            StatusCode::BAD_REQUEST,
            "bad_message",
            &format!("message {id}: no base64 data"),
        );
    };
    if serde_json::from_slice::<serde::de::IgnoredAny>(&data).is_err() {
        return refuse(
            m,
            StatusCode::BAD_REQUEST,
            "not_json",
            &format!("message {id}: data is not a LogEntry JSON"),
        );
    }
    match p.spool.push_async(Bytes::from(data)).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => spool_failure(m, &e),
    }
}
