//! A small S3 client for CloudTrail delivery buckets: ListObjectsV2 and GetObject over reqwest, signed with AWS
//! Signature Version 4, with credentials from the standard chain (configuration, environment, shared credentials
//! file, EC2 instance metadata v2). Path-style addressing when an endpoint is configured (S3-compatible servers).

use crate::config::{S3Config, StaticCredentials};
use crate::error::{InputError, Result};
use crate::files::FileStore;
use hmac::{Hmac, Mac};
use reqwest::{Client, Method, Url};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

type HmacSha256 = Hmac<Sha256>;

/// Access key, secret and optional session token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// Epoch seconds after which they must be fetched again (instance metadata credentials).
    pub expires: Option<u64>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl From<&StaticCredentials> for Credentials {
    fn from(c: &StaticCredentials) -> Self {
        Credentials {
            access_key_id: c.access_key_id.clone(),
            secret_access_key: c.secret_access_key.clone(),
            session_token: c.session_token.clone(),
            expires: None,
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn from_env() -> Option<Credentials> {
    Some(Credentials {
        access_key_id: env("AWS_ACCESS_KEY_ID")?,
        secret_access_key: env("AWS_SECRET_ACCESS_KEY")?,
        session_token: env("AWS_SESSION_TOKEN"),
        expires: None,
    })
}

/// Reads `[profile]` of an AWS shared credentials file (INI).
pub fn parse_credentials_file(text: &str, profile: &str) -> Option<Credentials> {
    let mut in_profile = false;
    let (mut id, mut secret, mut token) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = name.trim() == profile;
            continue;
        }
        if !in_profile {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().to_string();
            match k.trim() {
                "aws_access_key_id" => id = Some(v),
                "aws_secret_access_key" => secret = Some(v),
                "aws_session_token" => token = Some(v),
                _ => {}
            }
        }
    }
    Some(Credentials {
        access_key_id: id?,
        secret_access_key: secret?,
        session_token: token,
        expires: None,
    })
}

fn from_shared_file(profile: Option<&str>) -> Option<Credentials> {
    let path = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".aws/credentials")))?;
    let text = std::fs::read_to_string(path).ok()?;
    let profile = profile
        .map(str::to_string)
        .or_else(|| env("AWS_PROFILE"))
        .unwrap_or_else(|| "default".into());
    parse_credentials_file(&text, &profile)
}

const IMDS: &str = "http://169.254.169.254";

async fn from_imds(client: &Client) -> Result<Credentials> {
    let http = |e: reqwest::Error| InputError::Http(format!("instance metadata: {e}"));
    let token = client
        .put(format!("{IMDS}/latest/api/token"))
        .header("X-aws-ec2-metadata-token-ttl-seconds", "21600")
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(http)?
        .text()
        .await
        .map_err(http)?;
    let get = |path: String| {
        client
            .get(format!("{IMDS}{path}"))
            .header("X-aws-ec2-metadata-token", token.clone())
            .timeout(Duration::from_secs(1))
            .send()
    };
    let roles = get("/latest/meta-data/iam/security-credentials/".into())
        .await
        .and_then(|r| r.error_for_status())
        .map_err(http)?
        .text()
        .await
        .map_err(http)?;
    let role = roles
        .lines()
        .next()
        .ok_or_else(|| InputError::Http("instance metadata: no role".into()))?;
    let doc: serde_json::Value = get(format!("/latest/meta-data/iam/security-credentials/{role}"))
        .await
        .and_then(|r| r.error_for_status())
        .map_err(http)?
        .json()
        .await
        .map_err(http)?;
    let field = |k: &str| doc.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let expires = field("Expiration")
        .and_then(|t| mamoru_records::parse_rfc3339(&t))
        .map(|ns| ns / 1_000_000_000);
    Ok(Credentials {
        access_key_id: field("AccessKeyId")
            .ok_or_else(|| InputError::Http("instance metadata: no AccessKeyId".into()))?,
        secret_access_key: field("SecretAccessKey")
            .ok_or_else(|| InputError::Http("instance metadata: no SecretAccessKey".into()))?,
        session_token: field("Token"),
        expires,
    })
}

/// RFC 3986 encoding as SigV4 wants it (unreserved characters kept; `/` kept when `keep_slash`).
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Headers to add to an S3 request: `x-amz-date`, `x-amz-content-sha256`, optional `x-amz-security-token` and
/// `authorization`, signed for `method host path?query` with an empty payload.
pub fn sign(
    creds: &Credentials,
    region: &str,
    method: &str,
    host: &str,
    path: &str,
    query: &[(String, String)],
    now_secs: u64,
) -> Vec<(String, String)> {
    sign_request(
        &SignInput {
            service: "s3",
            region,
            method,
            host,
            path,
            query,
            headers: &[],
            payload: b"",
        },
        creds,
        now_secs,
    )
}

/// What a SigV4 signature covers.
pub struct SignInput<'a> {
    /// The signing name of the service: `s3`, `sqs`.
    pub service: &'a str,
    pub region: &'a str,
    pub method: &'a str,
    /// `host` or `host:port`, as the request's Host header carries it.
    pub host: &'a str,
    /// The URI path, not yet encoded.
    pub path: &'a str,
    pub query: &'a [(String, String)],
    /// Further headers to sign and send (lower-case names), e.g. `content-type` and `x-amz-target`.
    pub headers: &'a [(String, String)],
    pub payload: &'a [u8],
}

/// AWS Signature Version 4: the headers to add to the request (`x-amz-date`, `x-amz-content-sha256`, optional
/// `x-amz-security-token`, the extra headers of `input`, and `authorization`; not `host`, which the HTTP client
/// sets from the same URL).
pub fn sign_request(input: &SignInput<'_>, creds: &Credentials, now_secs: u64) -> Vec<(String, String)> {
    let (amz_date, date) = crate::time::amz_dates(now_secs);
    let payload_hash = hex::encode(Sha256::digest(input.payload));
    let mut q: Vec<(String, String)> = input
        .query
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    q.sort();
    let canonical_query = q.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let mut headers = vec![
        ("host".to_string(), input.host.to_string()),
        ("x-amz-content-sha256".to_string(), payload_hash.clone()),
        ("x-amz-date".to_string(), amz_date.clone()),
    ];
    if let Some(t) = &creds.session_token {
        headers.push(("x-amz-security-token".to_string(), t.clone()));
    }
    headers.extend(input.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())));
    headers.sort();
    let signed_headers = headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{}\n", v.trim())).collect();
    let canonical_request = format!(
        "{}\n{}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
        input.method,
        uri_encode(input.path, true)
    );
    let scope = format!("{date}/{}/{}/aws4_request", input.region, input.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{}", creds.secret_access_key).as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, input.region.as_bytes());
    let k_service = hmac(&k_region, input.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex::encode(hmac(&k_signing, string_to_sign.as_bytes()));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key_id
    );
    // reqwest sets Host itself, from the same URL.
    headers.retain(|(k, _)| k != "host");
    headers.push(("authorization".to_string(), authorization));
    headers
}

/// The standard AWS credential chain of one input: configured keys, environment, shared credentials file, then
/// IMDSv2 (cached until shortly before the credentials expire).
pub(crate) struct CredentialChain {
    configured: Option<StaticCredentials>,
    profile: Option<String>,
    imds: bool,
    client: Client,
    imds_cache: Mutex<Option<Credentials>>,
}

impl CredentialChain {
    pub fn new(configured: Option<StaticCredentials>, profile: Option<String>, imds: bool, client: Client) -> Self {
        CredentialChain {
            configured,
            profile,
            imds,
            client,
            imds_cache: Mutex::new(None),
        }
    }

    pub async fn get(&self) -> Result<Credentials> {
        if let Some(c) = &self.configured {
            return Ok(c.into());
        }
        if let Some(c) = from_env().or_else(|| from_shared_file(self.profile.as_deref())) {
            return Ok(c);
        }
        if !self.imds || env("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Err(InputError::Config(
                "no AWS credentials found (environment, shared file)".into(),
            ));
        }
        let cached = self.imds_cache.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(c) = cached.filter(|c| c.expires.is_none_or(|e| e > crate::time::now_secs() + 300)) {
            return Ok(c);
        }
        let fresh = from_imds(&self.client).await?;
        *self.imds_cache.lock().unwrap_or_else(|p| p.into_inner()) = Some(fresh.clone());
        Ok(fresh)
    }
}

/// The region of an input: configured, else `AWS_REGION` / `AWS_DEFAULT_REGION`, else `us-east-1`.
pub(crate) fn region_or_default(configured: Option<&str>) -> String {
    configured
        .map(str::to_string)
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".into())
}

/// `host` or `host:port` of a URL, as signed.
pub(crate) fn host_of(url: &Url) -> Result<String> {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => Ok(format!("{h}:{p}")),
        (Some(h), None) => Ok(h.to_string()),
        (None, _) => Err(InputError::Config(format!("URL without host: {url}"))),
    }
}

/// GET access to the objects of any bucket (the SQS input learns bucket names from notifications).
pub(crate) struct S3Objects {
    endpoint: Option<String>,
    region: String,
    max_object_bytes: u64,
    client: Client,
    creds: CredentialChain,
}

impl S3Objects {
    pub fn new(
        endpoint: Option<String>,
        region: String,
        max_object_bytes: u64,
        creds: CredentialChain,
    ) -> Result<Self> {
        Ok(S3Objects {
            endpoint,
            region,
            max_object_bytes,
            client: s3_client()?,
            creds,
        })
    }

    /// The URL of `key` in `bucket` ("" = the bucket) and the path that is signed.
    fn url(&self, bucket: &str, key: &str) -> Result<(Url, String)> {
        let (base, path) = match &self.endpoint {
            Some(ep) => (ep.trim_end_matches('/').to_string(), format!("/{bucket}/{key}")),
            None => (
                format!("https://{bucket}.s3.{}.amazonaws.com", self.region),
                format!("/{key}"),
            ),
        };
        let url = Url::parse(&format!("{base}{}", uri_encode(&path, true)))
            .map_err(|e| InputError::Config(format!("s3 endpoint {base}: {e}")))?;
        Ok((url, path))
    }

    async fn request(&self, bucket: &str, key: &str, query: &[(String, String)]) -> Result<reqwest::Response> {
        let creds = self.creds.get().await?;
        let (mut url, path) = self.url(bucket, key)?;
        let host = host_of(&url)?;
        let mut canonical_query = String::new();
        for (i, (k, v)) in query.iter().enumerate() {
            if i > 0 {
                canonical_query.push('&');
            }
            canonical_query.push_str(&format!("{}={}", uri_encode(k, false), uri_encode(v, false)));
        }
        url.set_query((!canonical_query.is_empty()).then_some(canonical_query.as_str()));
        let headers = sign(
            &creds,
            &self.region,
            "GET",
            &host,
            &path,
            query,
            crate::time::now_secs(),
        );
        let mut req = self.client.request(Method::GET, url.clone());
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| InputError::Http(format!("GET {url}: {e}")))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            return Err(InputError::Http(format!(
                "GET {url}: {status}: {}",
                body.chars().take(300).collect::<String>()
            )));
        }
        Ok(resp)
    }

    /// The object's bytes, refused past `max_object_bytes`.
    pub async fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>> {
        let mut resp = self.request(bucket, key, &[]).await?;
        let max = self.max_object_bytes;
        let too_large = || InputError::Http(format!("s3://{bucket}/{key}: object larger than {max} bytes"));
        if resp.content_length().is_some_and(|n| n > max) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| InputError::Http(format!("s3://{bucket}/{key}: {e}")))?
        {
            if body.len() as u64 + chunk.len() as u64 > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn s3_client() -> Result<Client> {
    Client::builder()
        .timeout(Duration::from_secs(300))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| InputError::Http(e.to_string()))
}

/// An S3 bucket as a [`FileStore`]: keys under the prefix, after a start-after cursor.
pub(crate) struct S3Store {
    cfg: S3Config,
    objects: S3Objects,
}

impl S3Store {
    pub fn new(cfg: S3Config) -> Result<S3Store> {
        let region = region_or_default(cfg.region.as_deref());
        let creds = CredentialChain::new(cfg.credentials.clone(), cfg.profile.clone(), cfg.imds, s3_client()?);
        let objects = S3Objects::new(cfg.endpoint.clone(), region, cfg.max_object_bytes, creds)?;
        Ok(S3Store { cfg, objects })
    }
}

/// `(keys, is_truncated)` of a ListObjectsV2 answer.
pub fn parse_list_objects(xml: &str) -> Result<(Vec<String>, bool)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let (mut keys, mut truncated) = (Vec::new(), false);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned()),
            Ok(Event::End(_)) => {
                path.pop();
            }
            Ok(Event::Text(t)) => {
                let text = t
                    .unescape()
                    .map_err(|e| InputError::Http(format!("ListObjectsV2 answer: {e}")))?;
                match path.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
                    [.., "Contents", "Key"] => keys.push(text.into_owned()),
                    [.., "IsTruncated"] => truncated = text.trim() == "true",
                    _ => {}
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(InputError::Http(format!("ListObjectsV2 answer: {e}"))),
        }
    }
    Ok((keys, truncated))
}

impl FileStore for S3Store {
    async fn list_after(&self, after: Option<&str>) -> Result<(Vec<String>, bool)> {
        let mut query = vec![
            ("list-type".to_string(), "2".to_string()),
            ("max-keys".to_string(), "1000".to_string()),
        ];
        if !self.cfg.prefix.is_empty() {
            query.push(("prefix".to_string(), self.cfg.prefix.clone()));
        }
        if let Some(a) = after {
            query.push(("start-after".to_string(), a.to_string()));
        }
        let xml = self
            .objects
            .request(&self.cfg.bucket, "", &query)
            .await?
            .text()
            .await
            .map_err(|e| InputError::Http(format!("ListObjectsV2: {e}")))?;
        let (mut keys, truncated) = parse_list_objects(&xml)?;
        // Folder placeholders and CloudTrail's digest files are not log files.
        keys.retain(|k| !k.ends_with('/') && !k.contains("/CloudTrail-Digest/"));
        Ok((keys, truncated))
    }

    async fn open(&self, key: &str) -> Result<Box<dyn Read + Send>> {
        let body = self.objects.get(&self.cfg.bucket, key).await?;
        Ok(Box::new(std::io::Cursor::new(body)))
    }

    fn display(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.cfg.bucket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The "GET Bucket (List Objects)" example of AWS's SigV4 documentation for S3 (examplebucket, 2013-05-24).
    #[test]
    fn signs_the_documented_s3_example() {
        let creds = Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
            expires: None,
        };
        // 2013-05-24T00:00:00Z
        let headers = sign(
            &creds,
            "us-east-1",
            "GET",
            "examplebucket.s3.amazonaws.com",
            "/",
            &[("max-keys".into(), "2".into()), ("prefix".into(), "J".into())],
            1_369_353_600,
        );
        let auth = headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.as_str())
            .unwrap();
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date, \
             Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        );
    }

    #[test]
    fn parses_listing_and_credentials_file() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><IsTruncated>true</IsTruncated><Contents><Key>a/1.json.gz</Key><Size>3</Size></Contents><Contents><Key>a/2&amp;.json.gz</Key></Contents></ListBucketResult>"#;
        let (keys, truncated) = parse_list_objects(xml).unwrap();
        assert_eq!(keys, vec!["a/1.json.gz", "a/2&.json.gz"]);
        assert!(truncated);
        let ini = "[default]\naws_access_key_id = A\naws_secret_access_key=B\n[prod]\naws_access_key_id=C\naws_secret_access_key=D\naws_session_token=E\n";
        let c = parse_credentials_file(ini, "prod").unwrap();
        assert_eq!((c.access_key_id.as_str(), c.session_token.as_deref()), ("C", Some("E")));
        assert!(parse_credentials_file(ini, "missing").is_none());
        assert_eq!(uri_encode("a b/c~", true), "a%20b/c~");
    }
}
