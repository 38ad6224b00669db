//! A local HTTPS server that speaks the Kubernetes API's list/watch wire format for the collections mamoru-k8s
//! watches: JSON lists with `metadata.resourceVersion`, and watches as chunked newline-delimited JSON events
//! (ADDED/MODIFIED/DELETED/BOOKMARK/ERROR) from a resource version, with `410 Gone` (as an HTTP status for a
//! compacted version, and as an ERROR event on an open watch). It checks the bearer token on every request, filters
//! pods by `fieldSelector=spec.nodeName=...`, and records each request so tests can assert what the client asked.

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub query: HashMap<String, String>,
    pub authorized: bool,
}

impl Seen {
    pub fn is_watch(&self) -> bool {
        self.query.get("watch").map(String::as_str) == Some("1")
    }
}

#[derive(Debug, Clone)]
enum Entry {
    Event {
        rv: u64,
        ty: &'static str,
        obj: Value,
    },
    Bookmark {
        rv: u64,
    },
    /// Open watches get an ERROR 410 and end.
    Expire,
    /// Open watches end normally (as at their timeout).
    Close,
}

#[derive(Default)]
struct Inner {
    rv: u64,
    objects: HashMap<String, BTreeMap<String, Value>>,
    log: HashMap<String, Vec<Entry>>,
    /// Watches from a resource version below this get HTTP 410.
    compacted: u64,
    seen: Vec<Seen>,
    /// Watches that have started streaming, per path.
    watches_opened: HashMap<String, usize>,
}

struct State {
    token: String,
    /// Clients are authenticated by their TLS certificate (the handshake required one signed by the CA).
    client_certs: bool,
    inner: Mutex<Inner>,
    generation: watch::Sender<u64>,
}

impl State {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    fn bump(&self) {
        self.generation.send_modify(|g| *g += 1);
    }
}

/// The running server; stops with the test process (its thread runs until then).
pub struct FakeApi {
    pub addr: SocketAddr,
    pub ca_pem: String,
    pub token: String,
    /// With [`FakeApi::start_mtls`]: a client certificate and key (PEM) signed by the server's CA, for a kubeconfig's
    /// client-certificate-data / client-key-data.
    pub client_identity_pem: Option<String>,
    state: Arc<State>,
}

fn ca() -> (rcgen::Certificate, rcgen::KeyPair) {
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.distinguished_name.push(rcgen::DnType::CommonName, "fake kube CA");
    let key = rcgen::KeyPair::generate().unwrap();
    (p.self_signed(&key).unwrap(), key)
}

/// The server's TLS acceptor and CA (PEM); with `client_certs`, also a client identity (certificate + key, PEM)
/// signed by that CA, and the acceptor requires such a certificate from every client.
fn tls_config(client_certs: bool) -> (tokio_rustls::TlsAcceptor, String, Option<String>) {
    let (ca_cert, ca_key) = ca();
    let p = rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, &ca_cert, &ca_key).unwrap();
    let chain = vec![rustls_pki_types::CertificateDer::from(cert.der().to_vec())];
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(rustls_pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let (cfg, identity) = if client_certs {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca_cert.der().clone()).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        let mut cp = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        cp.distinguished_name
            .push(rcgen::DnType::CommonName, "system:node:node-a");
        cp.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let client_key = rcgen::KeyPair::generate().unwrap();
        let client_cert = cp.signed_by(&client_key, &ca_cert, &ca_key).unwrap();
        let identity = format!("{}{}", client_cert.pem(), client_key.serialize_pem());
        let cfg = builder
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .unwrap();
        (cfg, Some(identity))
    } else {
        (
            builder.with_no_client_auth().with_single_cert(chain, key).unwrap(),
            None,
        )
    };
    (tokio_rustls::TlsAcceptor::from(Arc::new(cfg)), ca_cert.pem(), identity)
}

impl FakeApi {
    pub fn start(token: &str) -> FakeApi {
        Self::start_with(token, false)
    }

    /// A server that authenticates clients by certificate (as kube-apiserver with --client-ca-file): the TLS
    /// handshake fails without a certificate signed by its CA, and no bearer token is needed.
    pub fn start_mtls() -> FakeApi {
        Self::start_with("", true)
    }

    fn start_with(token: &str, client_certs: bool) -> FakeApi {
        let (acceptor, ca_pem, client_identity_pem) = tls_config(client_certs);
        let (generation, _) = watch::channel(0u64);
        let state = Arc::new(State {
            client_certs,
            token: token.to_string(),
            inner: Mutex::new(Inner::default()),
            generation,
        });
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let st = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                loop {
                    let Ok((tcp, _)) = listener.accept().await else {
                        continue;
                    };
                    let acceptor = acceptor.clone();
                    let st = st.clone();
                    tokio::spawn(async move {
                        if let Ok(tls) = acceptor.accept(tcp).await {
                            serve(st, tls).await;
                        }
                    });
                }
            });
        });
        FakeApi {
            addr,
            ca_pem,
            token: token.to_string(),
            client_identity_pem,
            state,
        }
    }

    pub fn server(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    fn record(&self, path: &str, obj: Value, silent: bool) -> u64 {
        let mut inner = self.state.lock();
        inner.rv += 1;
        let rv = inner.rv;
        let mut obj = obj;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let uid = obj["metadata"]["uid"].as_str().unwrap().to_string();
        let existed = inner
            .objects
            .entry(path.to_string())
            .or_default()
            .insert(uid, obj.clone())
            .is_some();
        if !silent {
            let ty = if existed { "MODIFIED" } else { "ADDED" };
            inner
                .log
                .entry(path.to_string())
                .or_default()
                .push(Entry::Event { rv, ty, obj });
        }
        drop(inner);
        self.state.bump();
        rv
    }

    /// Creates or updates an object; watchers get ADDED or MODIFIED.
    pub fn put(&self, path: &str, obj: Value) -> u64 {
        self.record(path, obj, false)
    }

    /// Changes an object without any watch event (an event lost to compaction): only a re-list can see it.
    pub fn put_silently(&self, path: &str, obj: Value) -> u64 {
        self.record(path, obj, true)
    }

    /// Deletes an object; watchers get DELETED.
    pub fn delete(&self, path: &str, uid: &str) {
        let mut inner = self.state.lock();
        inner.rv += 1;
        let rv = inner.rv;
        if let Some(mut obj) = inner.objects.get_mut(path).and_then(|m| m.remove(uid)) {
            obj["metadata"]["resourceVersion"] = json!(rv.to_string());
            inner
                .log
                .entry(path.to_string())
                .or_default()
                .push(Entry::Event { rv, ty: "DELETED", obj });
        }
        drop(inner);
        self.state.bump();
    }

    /// Sends a BOOKMARK at a new resource version; returns it.
    pub fn bookmark(&self, path: &str) -> u64 {
        let mut inner = self.state.lock();
        inner.rv += 1;
        let rv = inner.rv;
        inner
            .log
            .entry(path.to_string())
            .or_default()
            .push(Entry::Bookmark { rv });
        drop(inner);
        self.state.bump();
        rv
    }

    /// Compacts history: open watches of `path` get ERROR 410, later watches from an older version get HTTP 410.
    pub fn expire(&self, path: &str) {
        let mut inner = self.state.lock();
        inner.compacted = inner.rv;
        inner.log.entry(path.to_string()).or_default().push(Entry::Expire);
        drop(inner);
        self.state.bump();
    }

    /// Ends the open watches of `path` normally.
    pub fn close_watches(&self, path: &str) {
        self.state
            .lock()
            .log
            .entry(path.to_string())
            .or_default()
            .push(Entry::Close);
        self.state.bump();
    }

    /// How many watches of `path` have started streaming (markers sent from then on reach them).
    pub fn watches_opened(&self, path: &str) -> usize {
        self.state.lock().watches_opened.get(path).copied().unwrap_or(0)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().seen.clone()
    }
}

fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_string(), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// True when `obj` passes the request's field selector (only `spec.nodeName=X` is supported, as mamoru uses).
fn selected(query: &HashMap<String, String>, obj: &Value) -> bool {
    match query
        .get("fieldSelector")
        .and_then(|s| s.strip_prefix("spec.nodeName="))
    {
        Some(node) => obj["spec"]["nodeName"].as_str() == Some(node),
        None => true,
    }
}

async fn write_all<S: AsyncWriteExt + Unpin>(s: &mut S, b: &[u8]) -> bool {
    s.write_all(b).await.is_ok() && s.flush().await.is_ok()
}

async fn respond<S: AsyncWriteExt + Unpin>(s: &mut S, status: &str, body: &Value) {
    let body = body.to_string();
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = write_all(s, head.as_bytes()).await;
    let _ = write_all(s, body.as_bytes()).await;
    let _ = s.shutdown().await;
}

fn status_body(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":message,"reason":reason,"code":code})
}

async fn serve<S: AsyncReadExt + AsyncWriteExt + Unpin>(st: Arc<State>, mut s: S) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let target = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_string();
    let auth = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.trim().to_string());
    let authorized = st.client_certs || auth.as_deref() == Some(format!("Bearer {}", st.token).as_str());
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    let query = parse_query(query);
    st.lock().seen.push(Seen {
        path: path.to_string(),
        query: query.clone(),
        authorized,
    });
    if !authorized {
        respond(
            &mut s,
            "401 Unauthorized",
            &status_body(401, "Unauthorized", "Unauthorized"),
        )
        .await;
        return;
    }
    if query.get("watch").map(String::as_str) == Some("1") {
        watch_stream(st, s, path, &query).await;
    } else {
        let (items, rv) = {
            let inner = st.lock();
            let items: Vec<Value> = inner
                .objects
                .get(path)
                .map(|m| m.values().filter(|o| selected(&query, o)).cloned().collect())
                .unwrap_or_default();
            (items, inner.rv)
        };
        let body =
            json!({"kind":"List","apiVersion":"v1","metadata":{"resourceVersion": rv.to_string()},"items":items});
        respond(&mut s, "200 OK", &body).await;
    }
}

async fn chunk<S: AsyncWriteExt + Unpin>(s: &mut S, data: &[u8]) -> bool {
    let mut b = format!("{:x}\r\n", data.len()).into_bytes();
    b.extend_from_slice(data);
    b.extend_from_slice(b"\r\n");
    write_all(s, &b).await
}

async fn watch_stream<S: AsyncWriteExt + Unpin>(st: Arc<State>, mut s: S, path: &str, query: &HashMap<String, String>) {
    let from: u64 = query.get("resourceVersion").and_then(|v| v.parse().ok()).unwrap_or(0);
    if from < st.lock().compacted {
        let body = status_body(410, "Expired", "too old resource version");
        respond(&mut s, "410 Gone", &body).await;
        return;
    }
    let head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    if !write_all(&mut s, head.as_bytes()).await {
        return;
    }
    let deadline = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(|t| tokio::time::Instant::now() + std::time::Duration::from_secs(t));
    let mut generation = st.generation.subscribe();
    // Entries before this index existed when the watch opened: markers among them (Expire, Close) are not for it.
    let mut next = {
        let mut inner = st.lock();
        *inner.watches_opened.entry(path.to_string()).or_default() += 1;
        inner.log.get(path).map_or(0, Vec::len)
    };
    let mut replay_from = Some(from);
    let mut toggle = false;
    loop {
        let (entries, log_len): (Vec<(usize, Entry)>, usize) = {
            let inner = st.lock();
            let log = inner.log.get(path).cloned().unwrap_or_default();
            let start = if replay_from.is_some() { 0 } else { next };
            let len = log.len();
            (log.into_iter().enumerate().skip(start).collect(), len)
        };
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut end = None;
        for (i, e) in entries {
            let fresh = i >= next;
            match e {
                Entry::Event { rv, ty, obj }
                    if rv > from && (fresh || replay_from.is_some()) && selected(query, &obj) =>
                {
                    out.push(format!("{}\n", json!({"type": ty, "object": obj})).into_bytes());
                }
                Entry::Bookmark { rv } if rv > from && fresh => {
                    let kind = if path.ends_with("pods") { "Pod" } else { "Object" };
                    let obj =
                        json!({"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": rv.to_string()}});
                    out.push(format!("{}\n", json!({"type": "BOOKMARK", "object": obj})).into_bytes());
                }
                Entry::Expire if fresh => {
                    let obj = status_body(410, "Expired", "too old resource version");
                    out.push(format!("{}\n", json!({"type": "ERROR", "object": obj})).into_bytes());
                    end = Some(());
                    break;
                }
                Entry::Close if fresh => {
                    end = Some(());
                    break;
                }
                _ => {}
            }
        }
        replay_from = None;
        next = log_len;
        // Alternate framings: events split across chunks, then several events in one chunk, as real servers do.
        toggle = !toggle;
        let ok = if toggle {
            let mut ok = true;
            for ev in &out {
                let (a, b) = ev.split_at(ev.len() / 2);
                ok = ok && chunk(&mut s, a).await && chunk(&mut s, b).await;
            }
            ok
        } else if out.is_empty() {
            true
        } else {
            chunk(&mut s, &out.concat()).await
        };
        if !ok {
            return;
        }
        if end.is_some() {
            let _ = write_all(&mut s, b"0\r\n\r\n").await;
            let _ = s.shutdown().await;
            return;
        }
        let changed = match deadline {
            Some(d) => match tokio::time::timeout_at(d, generation.changed()).await {
                Ok(r) => r.is_ok(),
                // The watch's timeoutSeconds elapsed: end the response normally, as the API server does.
                Err(_) => {
                    let _ = write_all(&mut s, b"0\r\n\r\n").await;
                    let _ = s.shutdown().await;
                    return;
                }
            },
            None => generation.changed().await.is_ok(),
        };
        if !changed {
            return;
        }
    }
}
