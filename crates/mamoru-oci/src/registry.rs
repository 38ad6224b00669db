//! A minimal OCI distribution client: manifests and blobs over HTTP(S), anonymous, basic or bearer-token auth.

use crate::digest::{read_capped, sha256_digest, verify_bytes};
use crate::error::OciError;
use crate::image::BlobStore;
use crate::limits::Limits;
use crate::model::{MEDIA_DOCKER_LIST, MEDIA_DOCKER_MANIFEST, MEDIA_OCI_INDEX, MEDIA_OCI_MANIFEST};
use crate::reference::Reference;
use base64::Engine as _;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::StatusCode;
use std::io::Read;
use std::sync::Mutex;

/// Credentials for a registry.
#[derive(Debug, Clone, Default)]
pub struct RegistryAuth {
    pub username: Option<String>,
    pub password: Option<String>,
    /// A ready bearer token (used as is).
    pub bearer_token: Option<String>,
}

/// Blobs and manifests of one repository in a registry.
pub struct RegistryStore {
    http: Client,
    base: String,
    registry: String,
    repository: String,
    auth: RegistryAuth,
    authorization: Mutex<Option<String>>,
    max_json: u64,
}

impl RegistryStore {
    pub fn new(reference: &Reference, auth: &RegistryAuth, insecure: bool, limits: &Limits) -> Result<Self, OciError> {
        let host = reference.api_host();
        let local = host.starts_with("localhost") || host.starts_with("127.") || host.starts_with("[::1]");
        let scheme = if insecure || local { "http" } else { "https" };
        let http = Client::builder()
            .user_agent(concat!("mamoru/", env!("CARGO_PKG_VERSION")))
            .timeout(None)
            .connect_timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| OciError::Registry {
                registry: host.to_string(),
                why: format!("HTTP client: {e}"),
            })?;
        let authorization = auth.bearer_token.as_ref().map(|t| format!("Bearer {t}"));
        Ok(RegistryStore {
            http,
            base: format!("{scheme}://{host}/v2/{}", reference.repository),
            registry: host.to_string(),
            repository: reference.repository.clone(),
            auth: auth.clone(),
            authorization: Mutex::new(authorization),
            max_json: limits.max_json_bytes,
        })
    }

    fn err(&self, why: impl Into<String>) -> OciError {
        OciError::Registry {
            registry: self.registry.clone(),
            why: why.into(),
        }
    }

    fn current_auth(&self) -> Option<String> {
        self.authorization.lock().ok().and_then(|g| g.clone())
    }

    fn set_auth(&self, value: String) {
        if let Ok(mut g) = self.authorization.lock() {
            *g = Some(value);
        }
    }

    /// Sends a GET, answering one authentication challenge if the registry asks.
    fn get(&self, url: &str, accept: Option<&str>) -> Result<Response, OciError> {
        let build = |auth: Option<String>| -> RequestBuilder {
            let mut req = self.http.get(url);
            if let Some(a) = accept {
                req = req.header(ACCEPT, a);
            }
            if let Some(a) = auth {
                req = req.header(AUTHORIZATION, a);
            }
            req
        };
        let response = build(self.current_auth())
            .send()
            .map_err(|e| self.err(format!("GET {url}: {e}")))?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return self.check(response, url);
        }
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        self.answer_challenge(&challenge)?;
        let retry = build(self.current_auth())
            .send()
            .map_err(|e| self.err(format!("GET {url}: {e}")))?;
        self.check(retry, url)
    }

    fn check(&self, response: Response, url: &str) -> Result<Response, OciError> {
        let status = response.status();
        if status.is_success() {
            Ok(response)
        } else {
            Err(self.err(format!("GET {url}: HTTP {status}")))
        }
    }

    fn basic_header(&self) -> Option<String> {
        let user = self.auth.username.as_deref()?;
        let pass = self.auth.password.as_deref().unwrap_or("");
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        ))
    }

    fn answer_challenge(&self, challenge: &str) -> Result<(), OciError> {
        let (scheme, params) = challenge.split_once(' ').unwrap_or((challenge, ""));
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => {
                let header = self
                    .basic_header()
                    .ok_or_else(|| self.err("registry asks for basic auth and no credentials were given"))?;
                self.set_auth(header);
                Ok(())
            }
            "bearer" => {
                let params = parse_challenge_params(params);
                let realm = params
                    .iter()
                    .find(|(k, _)| k == "realm")
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| self.err("bearer challenge without realm"))?;
                let mut query: Vec<(String, String)> = params
                    .into_iter()
                    .filter(|(k, _)| k == "service" || k == "scope")
                    .collect();
                if !query.iter().any(|(k, _)| k == "scope") {
                    query.push(("scope".to_string(), format!("repository:{}:pull", self.repository)));
                }
                let mut req = self.http.get(&realm).query(&query);
                if let Some(basic) = self.basic_header() {
                    req = req.header(AUTHORIZATION, basic);
                }
                let response = req.send().map_err(|e| self.err(format!("token request: {e}")))?;
                if !response.status().is_success() {
                    return Err(self.err(format!("token request: HTTP {}", response.status())));
                }
                let body = read_capped(response, 1 << 20, "token response")?;
                let value: serde_json::Value =
                    serde_json::from_slice(&body).map_err(|e| OciError::json("token response", e))?;
                let token = value
                    .get("token")
                    .or_else(|| value.get("access_token"))
                    .and_then(|t| t.as_str())
                    .ok_or_else(|| self.err("token response without token"))?;
                self.set_auth(format!("Bearer {token}"));
                Ok(())
            }
            _ => Err(self.err(format!("unsupported authentication challenge {challenge:?}"))),
        }
    }

    /// Fetches a manifest or index by tag or digest; returns the raw document and its digest.
    pub fn fetch_manifest(&self, reference: &str) -> Result<(Vec<u8>, String), OciError> {
        let accept = [
            MEDIA_OCI_INDEX,
            MEDIA_OCI_MANIFEST,
            MEDIA_DOCKER_LIST,
            MEDIA_DOCKER_MANIFEST,
        ]
        .join(", ");
        let url = format!("{}/manifests/{reference}", self.base);
        let response = self.get(&url, Some(&accept))?;
        let raw = read_capped(response, self.max_json, "manifest")?;
        let digest = if reference.contains(':') {
            verify_bytes(reference, &raw)?;
            reference.to_string()
        } else {
            sha256_digest(&raw)
        };
        Ok((raw, digest))
    }
}

/// `key="value", key=value` pairs of a WWW-Authenticate header.
fn parse_challenge_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_ascii_lowercase();
        rest = &rest[eq + 1..];
        let value;
        if let Some(stripped) = rest.strip_prefix('"') {
            let end = stripped.find('"').unwrap_or(stripped.len());
            value = stripped[..end].to_string();
            rest = stripped.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        rest = rest.trim_start_matches([',', ' ']);
        out.push((key, value));
    }
    out
}

impl BlobStore for RegistryStore {
    fn open(&self, key: &str) -> Result<Box<dyn Read + Send + '_>, OciError> {
        if key.starts_with("sha256:") || key.starts_with("sha512:") {
            let url = format!("{}/blobs/{key}", self.base);
            // Manifests fetched by digest from an index also go through here.
            if let Ok(r) = self.get(&url, None) {
                return Ok(Box::new(r));
            }
            let (raw, _) = self.fetch_manifest(key)?;
            return Ok(Box::new(std::io::Cursor::new(raw)));
        }
        Err(self.err(format!("cannot fetch {key:?}: not a digest")))
    }

    fn describe(&self) -> String {
        format!("registry {}/{}", self.registry, self.repository)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_params() {
        let p = parse_challenge_params(
            r#"realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
        );
        assert_eq!(p[0], ("realm".to_string(), "https://auth.docker.io/token".to_string()));
        assert_eq!(p[1].1, "registry.docker.io");
        assert_eq!(p[2].1, "repository:library/alpine:pull");
    }
}
