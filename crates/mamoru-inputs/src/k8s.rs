//! `k8s_audit`: the HTTPS endpoint kube-apiserver's audit webhook backend posts `EventList` batches to.
//! Senders authenticate by client certificate (mTLS against `client_ca_file`) or bearer token; a batch is
//! answered 200 only once it is spooled durably, 413 when oversized, 400 when not JSON, 401 when not
//! authenticated, 503 when the spool is full (the API server retries).

use crate::config::K8sWebhookConfig;
use crate::http::{bearer, read_body, refuse, refuse_non_json, secret_matches, spool_failure, ConnInfo};
use crate::metrics::SourceMetrics;
use crate::spool::Spool;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use std::sync::Arc;

struct Webhook {
    tokens: Vec<String>,
    mtls: bool,
    max_body: usize,
    spool: Arc<Spool>,
    metrics: SourceMetrics,
}

/// The webhook's router.
pub(crate) fn router(cfg: &K8sWebhookConfig, spool: Arc<Spool>, metrics: SourceMetrics) -> Router {
    let mut tokens = cfg.bearer_tokens.clone();
    tokens.extend(crate::config::secret(&None, &cfg.bearer_token_env));
    let state = Arc::new(Webhook {
        tokens,
        mtls: cfg.endpoint.tls.as_ref().is_some_and(|t| t.client_ca_file.is_some()),
        max_body: cfg.max_body_bytes,
        spool,
        metrics,
    });
    Router::new().route(&cfg.path, post(receive)).with_state(state)
}

async fn receive(
    State(hook): State<Arc<Webhook>>,
    Extension(conn): Extension<ConnInfo>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let m = &hook.metrics;
    let by_cert = hook.mtls && conn.client_cert_verified;
    let by_token = bearer(&headers).is_some_and(|t| secret_matches(t, &hook.tokens));
    if !by_cert && !by_token {
        let why = if bearer(&headers).is_some() {
            "bad bearer token"
        } else {
            "no client certificate or bearer token"
        };
        return refuse(m, StatusCode::UNAUTHORIZED, "unauthenticated", why);
    }
    let body = match read_body(m, &headers, body, hook.max_body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Some(r) = refuse_non_json(m, &body) {
        return r;
    }
    match hook.spool.push_async(body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => spool_failure(m, &e),
    }
}
