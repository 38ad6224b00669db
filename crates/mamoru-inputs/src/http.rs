//! The HTTPS side shared by the webhook and push endpoints: rustls (ring) with optional client-certificate
//! verification, one hyper connection task per client, and the checks every endpoint makes (sender
//! authentication, body size, JSON).

use crate::config::{ListenConfig, TlsConfig};
use crate::error::{InputError, Result};
use crate::metrics::SourceMetrics;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

/// What the transport established about a connection, available to handlers as an extension.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnInfo {
    /// The client presented a certificate that chains to the configured client CA.
    pub client_cert_verified: bool,
}

const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| InputError::Tls(format!("{}: {e}", path.display())))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| InputError::Tls(format!("{}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(InputError::Tls(format!("{}: no certificate", path.display())));
    }
    Ok(certs)
}

/// A rustls server configuration from PEM files; with `client_ca_file`, client certificates are requested and
/// verified against it (clients without one may still authenticate by bearer token when the endpoint allows it).
pub fn server_config(tls: &TlsConfig) -> Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = load_certs(&tls.cert_file)?;
    let key = PrivateKeyDer::from_pem_file(&tls.key_file)
        .map_err(|e| InputError::Tls(format!("{}: {e}", tls.key_file.display())))?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| InputError::Tls(e.to_string()))?;
    let builder = match &tls.client_ca_file {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in load_certs(ca)? {
                roots
                    .add(c)
                    .map_err(|e| InputError::Tls(format!("{}: {e}", ca.display())))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| InputError::Tls(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| InputError::Tls(format!("{}: {e}", tls.cert_file.display())))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A bound endpoint, not yet serving.
pub(crate) struct Endpoint {
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    pub addr: SocketAddr,
}

impl Endpoint {
    pub async fn bind(cfg: &ListenConfig) -> Result<Endpoint> {
        let tls = cfg.tls.as_ref().map(server_config).transpose()?.map(TlsAcceptor::from);
        let listener = TcpListener::bind(&cfg.listen)
            .await
            .map_err(|source| InputError::Bind {
                addr: cfg.listen.clone(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| InputError::Bind {
            addr: cfg.listen.clone(),
            source,
        })?;
        Ok(Endpoint { listener, tls, addr })
    }

    /// Accepts connections until `shutdown`; each is served on its own task.
    pub async fn serve(self, app: Router, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        loop {
            let (stream, peer) = tokio::select! {
                r = self.listener.accept() => match r {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = shutdown.changed() => return Ok(()),
            };
            let app = app.clone();
            let tls = self.tls.clone();
            tokio::spawn(async move {
                match tls {
                    None => serve_connection(TokioIo::new(stream), app, ConnInfo::default()).await,
                    Some(acceptor) => {
                        let tls_stream =
                            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                                Ok(Ok(s)) => s,
                                Ok(Err(e)) => return tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                                Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
                            };
                        let info = ConnInfo {
                            client_cert_verified: tls_stream
                                .get_ref()
                                .1
                                .peer_certificates()
                                .is_some_and(|c| !c.is_empty()),
                        };
                        serve_connection(TokioIo::new(tls_stream), app, info).await
                    }
                }
            });
        }
    }
}

async fn serve_connection<I>(io: TokioIo<I>, app: Router, info: ConnInfo)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app.layer(Extension(info)));
    if let Err(e) = auto::Builder::new(TokioExecutor::new())
        .serve_connection(io, service)
        .await
    {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Constant-time comparison of a presented secret with each configured one.
pub(crate) fn secret_matches(presented: &[u8], configured: &[String]) -> bool {
    let mut ok = subtle::Choice::from(0);
    for c in configured {
        // Length differences leak only the length, as with any constant-time compare.
        ok |= presented.ct_eq(c.as_bytes());
    }
    ok.into()
}

/// The bearer token of an `Authorization` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    let v = headers.get(header::AUTHORIZATION)?.as_bytes();
    let (scheme, rest) = v.split_at(v.iter().position(|&b| b == b' ')?);
    scheme.eq_ignore_ascii_case(b"bearer").then(|| rest.trim_ascii())
}

/// A refused request: counted under `reason`, answered with `status` and a short text.
pub(crate) fn refuse(metrics: &SourceMetrics, status: StatusCode, reason: &str, detail: &str) -> Response {
    metrics.rejected(reason);
    tracing::info!(reason, detail, "request refused");
    (status, format!("{reason}: {detail}\n")).into_response()
}

/// Reads the body up to `max` bytes; an announced or actual larger body is refused with 413.
pub(crate) async fn read_body(
    metrics: &SourceMetrics,
    headers: &HeaderMap,
    body: Body,
    max: usize,
) -> Result<Bytes, Response> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > max as u64) {
        return Err(refuse(
            metrics,
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "body exceeds the limit",
        ));
    }
    axum::body::to_bytes(body, max).await.map_err(|_| {
        refuse(
            metrics,
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "body exceeds the limit",
        )
    })
}

/// The refusal of a body that is not one JSON document, if it is not.
pub(crate) fn refuse_non_json(metrics: &SourceMetrics, body: &[u8]) -> Option<Response> {
    match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        Ok(_) => None,
        Err(e) => Some(refuse(
            metrics,
            StatusCode::BAD_REQUEST,
            "not_json",
            &format!("body is not JSON (line {}, column {})", e.line(), e.column()),
        )),
    }
}

/// Answers a spool failure: 503 when full (the sender retries), 500 on I/O errors.
pub(crate) fn spool_failure(metrics: &SourceMetrics, e: &crate::spool::SpoolError) -> Response {
    match e {
        crate::spool::SpoolError::Full { .. } => {
            let mut r = refuse(metrics, StatusCode::SERVICE_UNAVAILABLE, "spool_full", &e.to_string());
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            r
        }
        crate::spool::SpoolError::Io(_) => {
            metrics.error("spool_io");
            tracing::error!(error = %e, "cannot spool a delivery");
            (StatusCode::INTERNAL_SERVER_ERROR, "cannot store the delivery\n").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_and_secret_compare() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer  s3cret ".parse().unwrap());
        assert_eq!(bearer(&h), Some(&b"s3cret"[..]));
        assert!(secret_matches(b"s3cret", &["other".into(), "s3cret".into()]));
        assert!(!secret_matches(b"s3cre", &["s3cret".into()]));
        assert!(!secret_matches(b"", &[]));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}
