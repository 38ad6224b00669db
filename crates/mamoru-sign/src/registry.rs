//! A small read-write OCI distribution client for signature artifacts. mamoru-oci's `RegistryStore` only reads
//! (GET), so pushing blobs and manifests, and telling "not found" apart from other failures, lives here; auth
//! answers one Basic or Bearer challenge per request, asking bearer tokens for pull and push scope.

use crate::error::SignError;
use base64::Engine as _;
use mamoru_oci::{sha256_digest, Reference, RegistryAuth};
use reqwest::blocking::{Body, Client, RequestBuilder, Response};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use std::io::Read;
use std::sync::Mutex;

/// Manifests and signature payloads are small; anything larger is refused rather than buffered.
const MAX_DOCUMENT: u64 = 4 << 20;

pub(crate) const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// One repository of one registry.
pub struct Repository {
    http: Client,
    base: String,
    origin: String,
    registry: String,
    repository: String,
    auth: RegistryAuth,
    authorization: Mutex<Option<String>>,
}

impl Repository {
    /// Plain HTTP for loopback hosts or when `insecure`, HTTPS otherwise.
    pub fn new(reference: &Reference, auth: &RegistryAuth, insecure: bool) -> Result<Self, SignError> {
        let host = reference.api_host().to_string();
        let local = host.starts_with("localhost") || host.starts_with("127.") || host.starts_with("[::1]");
        let scheme = if insecure || local { "http" } else { "https" };
        let http = Client::builder()
            .user_agent(concat!("mamoru/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(30))
            .timeout(std::time::Duration::from_secs(120))
            .build()
            .map_err(|e| SignError::Registry {
                registry: host.clone(),
                why: format!("HTTP client: {e}"),
            })?;
        Ok(Repository {
            http,
            base: format!("{scheme}://{host}/v2/{}", reference.repository),
            origin: format!("{scheme}://{host}"),
            registry: host,
            repository: reference.repository.clone(),
            authorization: Mutex::new(auth.bearer_token.as_ref().map(|t| format!("Bearer {t}"))),
            auth: auth.clone(),
        })
    }

    fn err(&self, why: impl Into<String>) -> SignError {
        SignError::Registry {
            registry: self.registry.clone(),
            why: why.into(),
        }
    }

    /// Sends a request, answering one auth challenge; the body is rebuilt for the retry.
    fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Response, SignError> {
        let build = || -> RequestBuilder {
            let mut req = self.http.request(method.clone(), url);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            if let Some(a) = self.authorization.lock().ok().and_then(|g| g.clone()) {
                req = req.header(AUTHORIZATION, a);
            }
            if let Some(b) = body {
                req = req.body(Body::from(b.to_vec()));
            }
            req
        };
        let response = build().send().map_err(|e| self.err(format!("{method} {url}: {e}")))?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        self.answer_challenge(&challenge)?;
        build().send().map_err(|e| self.err(format!("{method} {url}: {e}")))
    }

    fn basic_header(&self) -> Option<String> {
        let user = self.auth.username.as_deref()?;
        let pass = self.auth.password.as_deref().unwrap_or("");
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        Some(format!("Basic {encoded}"))
    }

    fn set_authorization(&self, value: String) {
        if let Ok(mut g) = self.authorization.lock() {
            *g = Some(value);
        }
    }

    fn answer_challenge(&self, challenge: &str) -> Result<(), SignError> {
        let (scheme, params) = challenge.split_once(' ').unwrap_or((challenge, ""));
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => {
                let header = self
                    .basic_header()
                    .ok_or_else(|| self.err("registry asks for basic auth and no credentials were given"))?;
                self.set_authorization(header);
                Ok(())
            }
            "bearer" => {
                let params = challenge_params(params);
                let realm = params
                    .iter()
                    .find(|(k, _)| k == "realm")
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| self.err("bearer challenge without realm"))?;
                let mut query: Vec<(String, String)> = params.into_iter().filter(|(k, _)| k == "service").collect();
                // Signing writes to the repository, so ask for push as well as pull whatever the challenge said.
                query.push(("scope".to_string(), format!("repository:{}:pull,push", self.repository)));
                let mut req = self.http.get(&realm).query(&query);
                if let Some(basic) = self.basic_header() {
                    req = req.header(AUTHORIZATION, basic);
                }
                let response = req.send().map_err(|e| self.err(format!("token request: {e}")))?;
                if !response.status().is_success() {
                    return Err(self.err(format!("token request: HTTP {}", response.status())));
                }
                let body = read_capped(response, 1 << 20).map_err(|e| self.err(format!("token response: {e}")))?;
                let value: serde_json::Value =
                    serde_json::from_slice(&body).map_err(|e| self.err(format!("token response: {e}")))?;
                let token = value
                    .get("token")
                    .or_else(|| value.get("access_token"))
                    .and_then(|t| t.as_str())
                    .ok_or_else(|| self.err("token response without token"))?;
                self.set_authorization(format!("Bearer {token}"));
                Ok(())
            }
            _ => Err(self.err(format!("unsupported authentication challenge {challenge:?}"))),
        }
    }

    fn failure(&self, what: &str, response: Response) -> SignError {
        let status = response.status();
        let detail = read_capped(response, 4096)
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_default();
        self.err(format!("{what}: HTTP {status} {detail}"))
    }

    /// A manifest by tag or digest: `None` if the registry says it does not exist, else (bytes, digest of bytes).
    pub fn get_manifest(&self, reference: &str) -> Result<Option<(Vec<u8>, String)>, SignError> {
        let url = format!("{}/manifests/{reference}", self.base);
        let response = self.send(Method::GET, &url, &[(ACCEPT.as_str(), ACCEPT_MANIFESTS)], None)?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(self.failure(&format!("GET manifest {reference}"), response));
        }
        let raw = read_capped(response, MAX_DOCUMENT).map_err(|e| self.err(format!("manifest {reference}: {e}")))?;
        let digest = sha256_digest(&raw);
        if reference.starts_with("sha256:") && digest != reference {
            return Err(self.err(format!("manifest {reference} hashes to {digest}")));
        }
        Ok(Some((raw, digest)))
    }

    /// A small blob, checked against its digest.
    pub fn get_blob(&self, digest: &str) -> Result<Vec<u8>, SignError> {
        mamoru_oci::parse_digest(digest)?;
        let url = format!("{}/blobs/{digest}", self.base);
        let response = self.send(Method::GET, &url, &[], None)?;
        if !response.status().is_success() {
            return Err(self.failure(&format!("GET blob {digest}"), response));
        }
        let data = read_capped(response, MAX_DOCUMENT).map_err(|e| self.err(format!("blob {digest}: {e}")))?;
        let actual = sha256_digest(&data);
        if digest.starts_with("sha256:") && actual != digest {
            return Err(self.err(format!("blob {digest} hashes to {actual}")));
        }
        Ok(data)
    }

    pub fn blob_exists(&self, digest: &str) -> Result<bool, SignError> {
        let url = format!("{}/blobs/{digest}", self.base);
        let response = self.send(Method::HEAD, &url, &[], None)?;
        match response.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.failure(&format!("HEAD blob {digest}"), response)),
        }
    }

    /// Uploads a blob (monolithic POST then PUT) unless the registry has it; returns its digest.
    pub fn put_blob(&self, data: &[u8]) -> Result<String, SignError> {
        let digest = sha256_digest(data);
        if self.blob_exists(&digest)? {
            return Ok(digest);
        }
        let start = self.send(Method::POST, &format!("{}/blobs/uploads/", self.base), &[], None)?;
        if start.status() != StatusCode::ACCEPTED {
            return Err(self.failure("start blob upload", start));
        }
        let location = start
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| self.err("blob upload answer without Location"))?
            .to_string();
        let mut url = if location.starts_with('/') {
            format!("{}{location}", self.origin)
        } else {
            location
        };
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str("digest=");
        url.push_str(&digest);
        let headers = [(CONTENT_TYPE.as_str(), "application/octet-stream")];
        let done = self.send(Method::PUT, &url, &headers, Some(data))?;
        if done.status() != StatusCode::CREATED {
            return Err(self.failure(&format!("upload blob {digest}"), done));
        }
        Ok(digest)
    }

    /// Stores a manifest under a tag or digest; returns its digest.
    pub fn put_manifest(&self, reference: &str, media_type: &str, data: &[u8]) -> Result<String, SignError> {
        let url = format!("{}/manifests/{reference}", self.base);
        let response = self.send(Method::PUT, &url, &[(CONTENT_TYPE.as_str(), media_type)], Some(data))?;
        if response.status() != StatusCode::CREATED && !response.status().is_success() {
            return Err(self.failure(&format!("PUT manifest {reference}"), response));
        }
        Ok(sha256_digest(data))
    }
}

fn read_capped(response: Response, cap: u64) -> Result<Vec<u8>, std::io::Error> {
    let mut data = Vec::new();
    response.take(cap + 1).read_to_end(&mut data)?;
    if data.len() as u64 > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {cap} bytes"),
        ));
    }
    Ok(data)
}

/// `key="value", key=value` pairs of a WWW-Authenticate header.
fn challenge_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_ascii_lowercase();
        rest = &rest[eq + 1..];
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            rest = quoted.get(end + 1..).unwrap_or("");
            quoted[..end].to_string()
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let v = rest[..end].trim().to_string();
            rest = &rest[end..];
            v
        };
        rest = rest.trim_start_matches([',', ' ']);
        out.push((key, value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenge() {
        let p = challenge_params(r#"realm="https://auth.example/token",service="reg",scope="repository:a/b:pull""#);
        assert_eq!(p.len(), 3);
        assert_eq!(p[0], ("realm".to_string(), "https://auth.example/token".to_string()));
        assert_eq!(p[1].1, "reg");
    }
}
