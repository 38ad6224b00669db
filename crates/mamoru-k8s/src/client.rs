//! A minimal Kubernetes API client: paginated LIST and streaming WATCH of one resource, over HTTPS with a bearer
//! token or a client certificate. Only the object fields the enrichment needs are kept ([`Obj`]).

use crate::config::{ClusterConfig, TokenSource};
use crate::Error;
use serde_json::Value;
use std::time::Duration;

/// The kinds the enrichment watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Pod,
    ReplicaSet,
    Deployment,
    ReplicationController,
    Service,
    Namespace,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Pod,
        Kind::ReplicaSet,
        Kind::Deployment,
        Kind::ReplicationController,
        Kind::Service,
        Kind::Namespace,
    ];

    /// The collection path (cluster-wide).
    pub fn path(self) -> &'static str {
        match self {
            Kind::Pod => "/api/v1/pods",
            Kind::ReplicaSet => "/apis/apps/v1/replicasets",
            Kind::Deployment => "/apis/apps/v1/deployments",
            Kind::ReplicationController => "/api/v1/replicationcontrollers",
            Kind::Service => "/api/v1/services",
            Kind::Namespace => "/api/v1/namespaces",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Pod => "Pod",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Deployment => "Deployment",
            Kind::ReplicationController => "ReplicationController",
            Kind::Service => "Service",
            Kind::Namespace => "Namespace",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The part of an object the enrichment keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Obj {
    pub uid: String,
    pub name: String,
    pub namespace: String,
    /// Sorted by key.
    pub labels: Vec<(String, String)>,
    /// The controlling owner (`ownerReferences[controller=true]`): kind and uid.
    pub controller: Option<(String, String)>,
    /// A Service's `spec.selector`, sorted; `None` for a Service without a selector and for other kinds.
    pub selector: Option<Vec<(String, String)>>,
    /// A pod's `status.podIP`.
    pub pod_ip: Option<String>,
    pub resource_version: String,
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

fn string_map(v: Option<&Value>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

impl Obj {
    /// Reads an object of `kind`; `None` when it has no `metadata.uid` (nothing to key it by).
    pub fn from_json(kind: Kind, v: &Value) -> Option<Obj> {
        let meta = v.get("metadata")?;
        let uid = meta.get("uid")?.as_str()?.to_string();
        let controller = meta
            .get("ownerReferences")
            .and_then(Value::as_array)
            .and_then(|refs| {
                refs.iter()
                    .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
            })
            .and_then(|r| Some((str_at(r, &["kind"])?.to_string(), str_at(r, &["uid"])?.to_string())));
        let selector = match kind {
            Kind::Service => Some(string_map(v.get("spec").and_then(|s| s.get("selector")))).filter(|s| !s.is_empty()),
            _ => None,
        };
        let pod_ip = match kind {
            Kind::Pod => str_at(v, &["status", "podIP"]).map(str::to_string),
            _ => None,
        };
        Some(Obj {
            uid,
            name: str_at(meta, &["name"]).unwrap_or_default().to_string(),
            namespace: str_at(meta, &["namespace"]).unwrap_or_default().to_string(),
            labels: string_map(meta.get("labels")),
            controller,
            selector,
            pod_ip,
            resource_version: str_at(meta, &["resourceVersion"]).unwrap_or_default().to_string(),
        })
    }
}

/// The result of a complete LIST.
#[derive(Debug)]
pub struct ObjectList {
    pub items: Vec<Obj>,
    pub resource_version: String,
}

/// One event of a watch stream.
#[derive(Debug, PartialEq, Eq)]
pub enum WatchEvent {
    Added(Obj),
    Modified(Obj),
    Deleted(Obj),
    /// A progress marker: nothing changed up to this resource version.
    Bookmark(String),
    /// A `Status` object (`code` 410: the resource version is too old, re-list).
    Error {
        code: u64,
        message: String,
    },
}

/// What a LIST or WATCH asks for.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    pub kind: Kind,
    pub field_selector: Option<&'a str>,
}

/// Percent-encodes a query parameter value.
fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// An API server connection.
pub struct ApiClient {
    http: reqwest::Client,
    server: String,
    token: Option<TokenSource>,
}

/// Page size of LIST requests.
const PAGE: usize = 500;

impl ApiClient {
    pub fn new(cluster: &ClusterConfig) -> Result<ApiClient, Error> {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_secs(10))
            .tcp_keepalive(Duration::from_secs(30))
            .user_agent(concat!("mamoru/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &cluster.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(ca).map_err(|e| Error::Config {
                what: "certificate authority".into(),
                why: e.to_string(),
            })?;
            b = b.tls_built_in_root_certs(false);
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        if cluster.insecure_skip_tls_verify {
            b = b.danger_accept_invalid_certs(true);
        }
        if let Some(id) = &cluster.identity_pem {
            let identity = reqwest::Identity::from_pem(id).map_err(|e| Error::Config {
                what: "client certificate".into(),
                why: e.to_string(),
            })?;
            b = b.identity(identity);
        }
        let http = b.build().map_err(|e| Error::Config {
            what: "HTTP client".into(),
            why: e.to_string(),
        })?;
        Ok(ApiClient {
            http,
            server: cluster.server.trim_end_matches('/').to_string(),
            token: cluster.token.clone(),
        })
    }

    fn url(&self, q: &Query<'_>, params: &[(&str, &str)]) -> String {
        let mut url = format!("{}{}", self.server, q.kind.path());
        let mut sep = '?';
        let selector = q.field_selector.map(|s| ("fieldSelector", s));
        for (k, v) in selector.iter().chain(params.iter()) {
            url.push(sep);
            sep = '&';
            url.push_str(k);
            url.push('=');
            url.push_str(&encode(v));
        }
        url
    }

    async fn get(&self, url: &str, timeout: Option<Duration>) -> Result<reqwest::Response, Error> {
        let mut req = self.http.get(url).header("Accept", "application/json");
        if let Some(t) = &self.token {
            req = req.bearer_auth(t.token()?);
        }
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        let resp = req.send().await.map_err(|e| Error::Http {
            url: url.to_string(),
            why: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        if status == 410 {
            return Err(Error::Gone);
        }
        if !resp.status().is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(Error::Status {
                url: url.to_string(),
                status,
                body: body.chars().take(300).collect(),
            });
        }
        Ok(resp)
    }

    /// Lists every object, page by page.
    pub async fn list(&self, q: &Query<'_>) -> Result<ObjectList, Error> {
        let mut items = Vec::new();
        let mut cont = String::new();
        let limit = PAGE.to_string();
        loop {
            let mut params = vec![("limit", limit.as_str())];
            if !cont.is_empty() {
                params.push(("continue", cont.as_str()));
            }
            let url = self.url(q, &params);
            let body = self
                .get(&url, Some(Duration::from_secs(120)))
                .await?
                .bytes()
                .await
                .map_err(|e| Error::Http {
                    url: url.clone(),
                    why: e.to_string(),
                })?;
            let v: Value = serde_json::from_slice(&body).map_err(|e| Error::Decode {
                url: url.clone(),
                why: e.to_string(),
            })?;
            let list = v.get("items").and_then(Value::as_array).ok_or_else(|| Error::Decode {
                url: url.clone(),
                why: "no 'items' array".into(),
            })?;
            items.extend(list.iter().filter_map(|o| Obj::from_json(q.kind, o)));
            let rv = str_at(&v, &["metadata", "resourceVersion"])
                .unwrap_or_default()
                .to_string();
            cont = str_at(&v, &["metadata", "continue"]).unwrap_or_default().to_string();
            if cont.is_empty() {
                return Ok(ObjectList {
                    items,
                    resource_version: rv,
                });
            }
        }
    }

    /// Opens a watch from `resource_version`; the server closes it after `timeout_secs` (0: the server's choice).
    pub async fn watch(&self, q: &Query<'_>, resource_version: &str, timeout_secs: u64) -> Result<WatchStream, Error> {
        let timeout = timeout_secs.to_string();
        let mut params = vec![
            ("watch", "1"),
            ("allowWatchBookmarks", "true"),
            ("resourceVersion", resource_version),
        ];
        if timeout_secs > 0 {
            params.push(("timeoutSeconds", timeout.as_str()));
        }
        let url = self.url(q, &params);
        let resp = self.get(&url, None).await?;
        Ok(WatchStream {
            resp,
            kind: q.kind,
            url,
            buf: Vec::new(),
        })
    }
}

/// A watch response: newline-delimited JSON events arriving in HTTP chunks of any size.
pub struct WatchStream {
    resp: reqwest::Response,
    kind: Kind,
    url: String,
    buf: Vec<u8>,
}

impl WatchStream {
    /// The next event; `None` when the server ended the watch.
    pub async fn next(&mut self) -> Result<Option<WatchEvent>, Error> {
        loop {
            if let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=nl).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return parse_event(self.kind, &line).map(Some).map_err(|why| Error::Decode {
                    url: self.url.clone(),
                    why,
                });
            }
            match self.resp.chunk().await {
                Ok(Some(c)) => self.buf.extend_from_slice(&c),
                Ok(None) if self.buf.iter().all(u8::is_ascii_whitespace) => return Ok(None),
                // A last event without its newline.
                Ok(None) => self.buf.push(b'\n'),
                Err(e) => {
                    return Err(Error::Http {
                        url: self.url.clone(),
                        why: e.to_string(),
                    })
                }
            }
        }
    }
}

/// Parses one watch event line.
pub fn parse_event(kind: Kind, line: &[u8]) -> Result<WatchEvent, String> {
    let v: Value = serde_json::from_slice(line).map_err(|e| format!("watch event: {e}"))?;
    let ty = str_at(&v, &["type"]).ok_or("watch event without 'type'")?;
    let object = v.get("object").ok_or("watch event without 'object'")?;
    let obj = || Obj::from_json(kind, object).ok_or_else(|| format!("{ty} event: object without metadata.uid"));
    Ok(match ty {
        "ADDED" => WatchEvent::Added(obj()?),
        "MODIFIED" => WatchEvent::Modified(obj()?),
        "DELETED" => WatchEvent::Deleted(obj()?),
        "BOOKMARK" => WatchEvent::Bookmark(
            str_at(object, &["metadata", "resourceVersion"])
                .ok_or("BOOKMARK without resourceVersion")?
                .to_string(),
        ),
        "ERROR" => WatchEvent::Error {
            code: object.get("code").and_then(Value::as_u64).unwrap_or(0),
            message: str_at(object, &["message"]).unwrap_or_default().to_string(),
        },
        other => return Err(format!("unknown watch event type '{other}'")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_objects_and_events() {
        let line = br#"{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"web-1","namespace":"shop","uid":"p1","resourceVersion":"7","labels":{"b":"2","a":"1"},"ownerReferences":[{"kind":"ReplicaSet","uid":"r0","controller":false},{"kind":"ReplicaSet","uid":"r1","controller":true}]},"status":{"podIP":"10.0.0.5"}}}"#;
        let WatchEvent::Added(o) = parse_event(Kind::Pod, line).unwrap() else {
            panic!("not ADDED");
        };
        assert_eq!(o.uid, "p1");
        assert_eq!(o.labels, vec![("a".into(), "1".into()), ("b".into(), "2".into())]);
        assert_eq!(o.controller, Some(("ReplicaSet".into(), "r1".into())));
        assert_eq!(o.pod_ip.as_deref(), Some("10.0.0.5"));
        assert_eq!(o.resource_version, "7");
        let gone = br#"{"type":"ERROR","object":{"kind":"Status","code":410,"message":"too old resource version"}}"#;
        assert!(matches!(
            parse_event(Kind::Pod, gone),
            Ok(WatchEvent::Error { code: 410, .. })
        ));
        let bm = br#"{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"99"}}}"#;
        assert_eq!(parse_event(Kind::Pod, bm), Ok(WatchEvent::Bookmark("99".into())));
        assert!(parse_event(Kind::Pod, br#"{"type":"ADDED","object":{"metadata":{}}}"#).is_err());
        assert!(parse_event(Kind::Pod, b"{not json").is_err());
    }

    #[test]
    fn services_keep_their_selector() {
        let v: Value =
            serde_json::from_str(r#"{"metadata":{"name":"s","uid":"u"},"spec":{"selector":{"app":"web"}}}"#).unwrap();
        let o = Obj::from_json(Kind::Service, &v).unwrap();
        assert_eq!(o.selector, Some(vec![("app".into(), "web".into())]));
        let v: Value = serde_json::from_str(r#"{"metadata":{"name":"s","uid":"u"},"spec":{}}"#).unwrap();
        assert_eq!(Obj::from_json(Kind::Service, &v).unwrap().selector, None);
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode("spec.nodeName=node 1"), "spec.nodeName%3Dnode%201");
    }
}
