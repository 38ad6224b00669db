//! Configuration of the live inputs (`sources:` in the `mamoru run -c` file). Every section is optional; a
//! secret can be given inline or, preferably, as the name of an environment variable (`*_env`).

use crate::error::{InputError, Result};
use serde::Deserialize;
use std::path::PathBuf;

fn default_state_dir() -> PathBuf {
    PathBuf::from("/var/lib/mamoru/sources")
}
fn default_channel_capacity() -> usize {
    8
}
fn default_batch_records() -> usize {
    1000
}

/// All live inputs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesConfig {
    /// Where cursors and webhook spools are kept (one file or directory per input).
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    /// Batches waiting for the evaluator, all sources together (the memory bound under a burst).
    #[serde(default = "default_channel_capacity")]
    pub channel_capacity: usize,
    /// Most records in one batch read from a file, an S3 object or a tailed log.
    #[serde(default = "default_batch_records")]
    pub batch_records: usize,
    #[serde(default)]
    pub k8s_audit: Option<K8sAuditConfig>,
    #[serde(default)]
    pub aws_cloudtrail: Option<CloudTrailConfig>,
    #[serde(default)]
    pub okta: Option<OktaConfig>,
    #[serde(default)]
    pub github: Option<GithubConfig>,
    #[serde(default)]
    pub gcp_auditlog: Option<GcpConfig>,
}

impl Default for SourcesConfig {
    fn default() -> Self {
        SourcesConfig {
            state_dir: default_state_dir(),
            channel_capacity: default_channel_capacity(),
            batch_records: default_batch_records(),
            k8s_audit: None,
            aws_cloudtrail: None,
            okta: None,
            github: None,
            gcp_auditlog: None,
        }
    }
}

/// PEM files of a TLS endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// CA bundle that client certificates must chain to (mutual TLS).
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
}

/// Where an endpoint listens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenConfig {
    /// `host:port`; port 0 picks a free port (tests).
    pub listen: String,
    /// Without it the endpoint speaks plain HTTP (only for GitHub/GCP behind a TLS-terminating proxy).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
}

fn default_k8s_path() -> String {
    "/k8s-audit".into()
}
fn default_k8s_max_body() -> usize {
    // The k8saudit plugin's webhookMaxBatchSize: ~1.2x kube-apiserver's default batch limit.
    12_582_912
}
fn default_spool_max_bytes() -> u64 {
    1 << 30
}
fn default_poll_ms() -> u64 {
    250
}
fn default_max_record_bytes() -> usize {
    // The k8saudit plugin's maxEventSize default is 256 KiB; audit events with large objects exceed it, so
    // mamoru's default is larger and the limit stays configurable.
    4 << 20
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K8sAuditConfig {
    #[serde(default)]
    pub webhook: Option<K8sWebhookConfig>,
    /// Audit log files (`--audit-log-path`) to tail.
    #[serde(default)]
    pub tail: Vec<TailConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K8sWebhookConfig {
    #[serde(flatten)]
    pub endpoint: ListenConfig,
    #[serde(default = "default_k8s_path")]
    pub path: String,
    /// Accepted bearer tokens (the `token` of the webhook kubeconfig's user).
    #[serde(default)]
    pub bearer_tokens: Vec<String>,
    /// Environment variable holding one more accepted bearer token.
    #[serde(default)]
    pub bearer_token_env: Option<String>,
    #[serde(default = "default_k8s_max_body")]
    pub max_body_bytes: usize,
    #[serde(default = "default_max_record_bytes")]
    pub max_event_bytes: usize,
    #[serde(default = "default_spool_max_bytes")]
    pub spool_max_bytes: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TailConfig {
    pub path: PathBuf,
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    /// With no cursor yet, start at the end of the file instead of its beginning.
    #[serde(default)]
    pub start_at_end: bool,
    #[serde(default = "default_max_record_bytes")]
    pub max_line_bytes: usize,
}

fn default_poll_s() -> u64 {
    60
}
fn default_max_file_bytes() -> u64 {
    // Decompressed bytes of one CloudTrail file (the gzip-bomb guard); real files are a few MiB.
    512 << 20
}
fn default_max_object_bytes() -> u64 {
    128 << 20
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudTrailConfig {
    #[serde(default)]
    pub directory: Option<DirectoryConfig>,
    #[serde(default)]
    pub s3: Option<S3Config>,
    /// S3 objects announced by S3 event notifications (or CloudTrail's SNS notifications) on an SQS queue.
    #[serde(default)]
    pub sqs: Option<SqsConfig>,
}

/// CloudTrail files fetched as their S3 event notifications arrive on an SQS queue (directly, or through an SNS
/// topic). A message is deleted only after the records of every object it names were evaluated; a message whose
/// object cannot be read stays on the queue and comes back after its visibility timeout (give the queue a
/// dead-letter queue so that a permanently unreadable object ends there).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqsConfig {
    /// e.g. `https://sqs.us-east-1.amazonaws.com/111122223333/cloudtrail-objects`.
    pub queue_url: String,
    /// Region of the queue (and of the buckets); default the queue URL's `sqs.<region>.` host, then the
    /// environment, then us-east-1.
    #[serde(default)]
    pub region: Option<String>,
    /// S3-compatible endpoint for fetching the objects (path-style addressing); default AWS virtual-host style.
    #[serde(default)]
    pub s3_endpoint: Option<String>,
    /// Only objects whose key starts with this are read (others are acknowledged and skipped).
    #[serde(default)]
    pub prefix: String,
    /// Long-polling wait of ReceiveMessage, 0..=20 seconds.
    #[serde(default = "default_sqs_wait_s")]
    pub wait_time_s: u64,
    /// Messages per ReceiveMessage, 1..=10.
    #[serde(default = "default_sqs_max_messages")]
    pub max_messages: u32,
    /// Visibility timeout asked for on receive; default the queue's own. Make it longer than reading and
    /// evaluating the objects of one message takes.
    #[serde(default)]
    pub visibility_timeout_s: Option<u64>,
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
    #[serde(default = "default_max_object_bytes")]
    pub max_object_bytes: u64,
    #[serde(default)]
    pub credentials: Option<StaticCredentials>,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default = "yes")]
    pub imds: bool,
}

fn default_sqs_wait_s() -> u64 {
    20
}

fn default_sqs_max_messages() -> u32 {
    10
}

/// A directory of record files processed in name order (CloudTrail and GCP file names sort by time); files must
/// be moved into it complete (rename), as CloudTrail's S3 delivery does.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    pub path: PathBuf,
    #[serde(default = "default_poll_s")]
    pub poll_interval_s: u64,
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    pub bucket: String,
    /// Key prefix, e.g. `AWSLogs/111122223333/CloudTrail/us-east-1/` (keys under one account and region sort by
    /// delivery time, which is what the listing cursor relies on).
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub region: Option<String>,
    /// S3-compatible endpoint (path-style addressing), e.g. `http://127.0.0.1:5000`; default AWS virtual-host style.
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default = "default_poll_s")]
    pub poll_interval_s: u64,
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
    #[serde(default = "default_max_object_bytes")]
    pub max_object_bytes: u64,
    /// Credentials; default the standard chain: environment, shared credentials file (`AWS_PROFILE`), then IMDSv2.
    #[serde(default)]
    pub credentials: Option<StaticCredentials>,
    #[serde(default)]
    pub profile: Option<String>,
    /// Ask the EC2 instance metadata service (IMDSv2) when the environment and the shared file have none.
    #[serde(default = "yes")]
    pub imds: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    #[serde(default)]
    pub session_token: Option<String>,
}

fn default_okta_token_env() -> Option<String> {
    Some("OKTA_API_TOKEN".into())
}
fn default_okta_poll_s() -> u64 {
    10
}
fn default_okta_limit() -> u32 {
    1000
}
fn default_okta_lookback_s() -> u64 {
    300
}
fn default_okta_min_remaining() -> u64 {
    2
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OktaConfig {
    /// `https://<org>.okta.com` (any base URL: tests point it at a local server).
    pub url: String,
    /// The okta plugin's `organization` (the `okta.org` field).
    #[serde(default)]
    pub organization: String,
    #[serde(default)]
    pub api_token: Option<String>,
    #[serde(default = "default_okta_token_env")]
    pub api_token_env: Option<String>,
    #[serde(default = "default_okta_poll_s")]
    pub poll_interval_s: u64,
    /// Page size (`limit`).
    #[serde(default = "default_okta_limit")]
    pub limit: u32,
    /// With no cursor yet, start this far in the past (`since`).
    #[serde(default = "default_okta_lookback_s")]
    pub initial_lookback_s: u64,
    /// Wait for the rate-limit window's reset when fewer requests than this remain.
    #[serde(default = "default_okta_min_remaining")]
    pub min_rate_limit_remaining: u64,
}

fn default_github_path() -> String {
    "/".into()
}
fn default_github_max_body() -> usize {
    // GitHub caps webhook payloads at 25 MB.
    25 << 20
}
fn default_github_api() -> String {
    "https://api.github.com".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubConfig {
    #[serde(flatten)]
    pub endpoint: ListenConfig,
    #[serde(default = "default_github_path")]
    pub path: String,
    /// The webhook secret (HMAC-SHA256 key of X-Hub-Signature-256).
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub secret_env: Option<String>,
    #[serde(default = "default_github_max_body")]
    pub max_body_bytes: usize,
    #[serde(default = "default_spool_max_bytes")]
    pub spool_max_bytes: u64,
    /// API base URL used to fetch pushed commits' diffs (GitHub Enterprise: `https://host/api/v3`).
    #[serde(default = "default_github_api")]
    pub api_url: String,
    /// Token to fetch diffs with; without one, pushes are not scanned for secrets.
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub token_env: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpConfig {
    #[serde(default)]
    pub push: Option<GcpPushConfig>,
    /// Files of LogEntry JSON (one per line, arrays, or `entries.list` pages).
    #[serde(default)]
    pub directory: Option<DirectoryConfig>,
}

fn default_gcp_path() -> String {
    "/gcp-audit".into()
}
fn default_gcp_max_body() -> usize {
    // Pub/Sub messages are at most 10 MB, base64 in the push body.
    16 << 20
}
fn default_google_issuers() -> Vec<String> {
    vec!["https://accounts.google.com".into(), "accounts.google.com".into()]
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpPushConfig {
    #[serde(flatten)]
    pub endpoint: ListenConfig,
    #[serde(default = "default_gcp_path")]
    pub path: String,
    /// Expected `aud` of the push's OIDC token (the subscription's audience).
    #[serde(default)]
    pub audience: Option<String>,
    #[serde(default = "default_google_issuers")]
    pub issuers: Vec<String>,
    /// Expected `email` claim (the push subscription's service account).
    #[serde(default)]
    pub service_account_email: Option<String>,
    /// JWKS document with the token signing keys (a saved copy of https://www.googleapis.com/oauth2/v3/certs).
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// JWKS URL, fetched at start and again when a token names an unknown key.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// Alternative to OIDC: a shared secret the push URL carries as `?token=`.
    #[serde(default)]
    pub shared_token: Option<String>,
    #[serde(default)]
    pub shared_token_env: Option<String>,
    #[serde(default = "default_gcp_max_body")]
    pub max_body_bytes: usize,
    #[serde(default = "default_spool_max_bytes")]
    pub spool_max_bytes: u64,
}

/// A secret from its inline value or its environment variable (which wins when set and non-empty).
pub(crate) fn secret(inline: &Option<String>, env: &Option<String>) -> Option<String> {
    env.as_ref()
        .and_then(|name| std::env::var(name).ok())
        .filter(|v| !v.is_empty())
        .or_else(|| inline.clone().filter(|v| !v.is_empty()))
}

impl SourcesConfig {
    /// Checks what serde cannot: authentication is configured wherever a sender must be authenticated.
    pub fn validate(&self) -> Result<()> {
        if let Some(w) = self.k8s_audit.as_ref().and_then(|k| k.webhook.as_ref()) {
            let Some(tls) = &w.endpoint.tls else {
                return Err(InputError::Config("k8s_audit.webhook requires tls".into()));
            };
            let tokens = !w.bearer_tokens.is_empty() || secret(&None, &w.bearer_token_env).is_some();
            if tls.client_ca_file.is_none() && !tokens {
                return Err(InputError::Config(
                    "k8s_audit.webhook needs tls.client_ca_file (mTLS) or bearer_tokens/bearer_token_env".into(),
                ));
            }
        }
        if let Some(g) = &self.github {
            if secret(&g.secret, &g.secret_env).is_none() {
                return Err(InputError::Config("github needs secret or secret_env".into()));
            }
        }
        if let Some(p) = self.gcp_auditlog.as_ref().and_then(|g| g.push.as_ref()) {
            let oidc = p.jwks_file.is_some() || p.jwks_url.is_some();
            let shared = secret(&p.shared_token, &p.shared_token_env).is_some();
            if !oidc && !shared {
                return Err(InputError::Config(
                    "gcp_auditlog.push needs jwks_file/jwks_url (OIDC) or shared_token/shared_token_env".into(),
                ));
            }
            if oidc && p.audience.is_none() {
                return Err(InputError::Config(
                    "gcp_auditlog.push: OIDC verification needs the expected audience".into(),
                ));
            }
        }
        if let Some(q) = self.aws_cloudtrail.as_ref().and_then(|c| c.sqs.as_ref()) {
            if q.wait_time_s > 20 || !(1..=10).contains(&q.max_messages) {
                return Err(InputError::Config(
                    "aws_cloudtrail.sqs: wait_time_s must be 0..=20 and max_messages 1..=10".into(),
                ));
            }
            if !q.queue_url.starts_with("https://") && !q.queue_url.starts_with("http://") {
                return Err(InputError::Config(format!(
                    "aws_cloudtrail.sqs.queue_url is not a URL: {}",
                    q.queue_url
                )));
            }
        }
        if let Some(o) = &self.okta {
            if secret(&o.api_token, &o.api_token_env).is_none() {
                return Err(InputError::Config(
                    "okta needs api_token or the api_token_env variable set".into(),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_configuration_and_refuses_typos() {
        let text = r#"{
            "state_dir": "/tmp/x",
            "k8s_audit": {
                "webhook": {"listen": "0.0.0.0:9765", "tls": {"cert_file": "c", "key_file": "k", "client_ca_file": "ca"},
                            "bearer_tokens": ["t"]},
                "tail": [{"path": "/var/log/audit.log"}]
            },
            "aws_cloudtrail": {"s3": {"bucket": "b", "prefix": "AWSLogs/"}, "directory": {"path": "/d"}},
            "okta": {"url": "https://x.okta.com", "api_token": "t"},
            "github": {"listen": "0.0.0.0:8443", "secret": "s"},
            "gcp_auditlog": {"push": {"listen": "0.0.0.0:8444", "shared_token": "s"}, "directory": {"path": "/g"}}
        }"#;
        let cfg: SourcesConfig = serde_json::from_str(text).unwrap();
        cfg.validate().unwrap();
        let w = cfg.k8s_audit.as_ref().and_then(|k| k.webhook.as_ref()).unwrap();
        assert_eq!(
            (w.endpoint.listen.as_str(), w.path.as_str(), w.max_body_bytes),
            ("0.0.0.0:9765", "/k8s-audit", 12_582_912)
        );
        assert_eq!(cfg.github.as_ref().unwrap().endpoint.listen, "0.0.0.0:8443");
        assert!(cfg.aws_cloudtrail.as_ref().unwrap().s3.as_ref().unwrap().imds);

        let typo = r#"{"github": {"listen": "0.0.0.0:1", "secret": "s", "secert_env": "X"}}"#;
        assert!(
            serde_json::from_str::<SourcesConfig>(typo).is_err(),
            "unknown keys are refused"
        );
        let typo = r#"{"okta": {"url": "u", "api_tokn": "t"}}"#;
        assert!(serde_json::from_str::<SourcesConfig>(typo).is_err());
    }

    #[test]
    fn refuses_unauthenticated_endpoints() {
        let no_auth =
            r#"{"k8s_audit": {"webhook": {"listen": "0.0.0.0:1", "tls": {"cert_file": "c", "key_file": "k"}}}}"#;
        let cfg: SourcesConfig = serde_json::from_str(no_auth).unwrap();
        assert!(cfg.validate().is_err());
        let no_tls = r#"{"k8s_audit": {"webhook": {"listen": "0.0.0.0:1", "bearer_tokens": ["t"]}}}"#;
        let cfg: SourcesConfig = serde_json::from_str(no_tls).unwrap();
        assert!(cfg.validate().is_err());
        let gcp = r#"{"gcp_auditlog": {"push": {"listen": "0.0.0.0:1", "jwks_file": "j"}}}"#;
        let cfg: SourcesConfig = serde_json::from_str(gcp).unwrap();
        assert!(cfg.validate().is_err(), "OIDC without an audience");
    }
}
