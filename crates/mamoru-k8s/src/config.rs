//! Where the API server is and how to authenticate: the `k8s_api` configuration section, the in-cluster service
//! account, and kubeconfig files.

use crate::Error;
use base64::Engine as _;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The service account directory a pod gets mounted.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The `k8s_api` section of the agent's configuration.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct K8sApiConfig {
    /// Off by default: container and pod metadata come from the CRI labels without any API access.
    pub enabled: bool,
    /// A kubeconfig file; when unset, the in-cluster service account is used.
    pub kubeconfig: Option<PathBuf>,
    /// The node whose pods are watched; unset means `$NODE_NAME`, then the host name.
    pub node_name: Option<String>,
    /// Seconds after which a watch is closed and everything re-listed (0: only re-list when the server says the
    /// resource version is gone).
    pub resync_secs: u64,
    /// Ceiling on the objects kept per kind (pods, ReplicaSets, ...); objects beyond it are counted and dropped.
    pub max_objects: usize,
}

impl Default for K8sApiConfig {
    fn default() -> Self {
        K8sApiConfig {
            enabled: false,
            kubeconfig: None,
            node_name: None,
            resync_secs: 600,
            max_objects: 50_000,
        }
    }
}

impl K8sApiConfig {
    /// The node name: the configured one, else `$NODE_NAME`, else the kernel's host name.
    pub fn resolved_node_name(&self) -> Result<String, Error> {
        if let Some(n) = self.node_name.as_deref().filter(|n| !n.is_empty()) {
            return Ok(n.to_string());
        }
        if let Some(n) = std::env::var("NODE_NAME").ok().filter(|n| !n.is_empty()) {
            return Ok(n);
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map_err(|e| Error::Config {
            what: "node_name".into(),
            why: format!("not configured, NODE_NAME unset and /proc/sys/kernel/hostname unreadable: {e}"),
        })?;
        Ok(host.trim().to_string())
    }

    /// The cluster connection this configuration selects.
    pub fn cluster(&self) -> Result<ClusterConfig, Error> {
        match &self.kubeconfig {
            Some(path) => ClusterConfig::from_kubeconfig(path),
            None => ClusterConfig::in_cluster(),
        }
    }
}

/// Where the bearer token comes from. A file is re-read for each request: projected service account tokens rotate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Static(String),
    File(PathBuf),
}

impl TokenSource {
    pub(crate) fn token(&self) -> Result<String, Error> {
        match self {
            TokenSource::Static(t) => Ok(t.clone()),
            TokenSource::File(p) => {
                std::fs::read_to_string(p)
                    .map(|t| t.trim().to_string())
                    .map_err(|e| Error::Config {
                        what: p.display().to_string(),
                        why: format!("cannot read the token: {e}"),
                    })
            }
        }
    }
}

/// How to reach and authenticate to one API server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// Base URL, e.g. `https://10.96.0.1:443` (no trailing slash).
    pub server: String,
    /// PEM CA bundle that signs the server's certificate (the system roots are not trusted when set).
    pub ca_pem: Option<Vec<u8>>,
    pub insecure_skip_tls_verify: bool,
    pub token: Option<TokenSource>,
    /// PEM client certificate followed by its private key.
    pub identity_pem: Option<Vec<u8>>,
}

fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Config {
        what: path.display().to_string(),
        why: e.to_string(),
    })
}

impl ClusterConfig {
    /// The pod's own service account: `KUBERNETES_SERVICE_HOST`/`_PORT` and the mounted token and CA.
    pub fn in_cluster() -> Result<ClusterConfig, Error> {
        let host = std::env::var("KUBERNETES_SERVICE_HOST").map_err(|_| Error::Config {
            what: "k8s_api".into(),
            why: "no kubeconfig configured and KUBERNETES_SERVICE_HOST unset (not running in a pod)".into(),
        })?;
        let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".into());
        ClusterConfig::in_cluster_from(Path::new(SERVICE_ACCOUNT_DIR), &host, &port)
    }

    /// In-cluster configuration from an explicit service account directory, host and port.
    pub fn in_cluster_from(dir: &Path, host: &str, port: &str) -> Result<ClusterConfig, Error> {
        let ca = read_file(&dir.join("ca.crt"))?;
        let token_path = dir.join("token");
        TokenSource::File(token_path.clone()).token()?;
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        Ok(ClusterConfig {
            server: format!("https://{host}:{port}"),
            ca_pem: Some(ca),
            insecure_skip_tls_verify: false,
            token: Some(TokenSource::File(token_path)),
            identity_pem: None,
        })
    }

    /// The current context of a kubeconfig file.
    pub fn from_kubeconfig(path: &Path) -> Result<ClusterConfig, Error> {
        let text = String::from_utf8(read_file(path)?).map_err(|_| Error::Config {
            what: path.display().to_string(),
            why: "not UTF-8".into(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Kubeconfig::parse(&text, &path.display().to_string())?.resolve(base, &path.display().to_string())
    }
}

#[derive(Debug, Deserialize)]
struct Named<T> {
    name: String,
    #[serde(alias = "cluster", alias = "user", alias = "context")]
    item: T,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct KubeCluster {
    server: String,
    certificate_authority: Option<PathBuf>,
    certificate_authority_data: Option<String>,
    #[serde(default)]
    insecure_skip_tls_verify: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct KubeUser {
    token: Option<String>,
    #[serde(rename = "tokenFile")]
    token_file: Option<PathBuf>,
    client_certificate: Option<PathBuf>,
    client_certificate_data: Option<String>,
    client_key: Option<PathBuf>,
    client_key_data: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct KubeContext {
    cluster: String,
    #[serde(default)]
    user: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Kubeconfig {
    #[serde(default)]
    clusters: Vec<Named<KubeCluster>>,
    #[serde(default)]
    users: Vec<Named<KubeUser>>,
    #[serde(default)]
    contexts: Vec<Named<KubeContext>>,
    #[serde(default)]
    current_context: String,
}

fn decode_data(what: &str, origin: &str, data: &str) -> Result<Vec<u8>, Error> {
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| Error::Config {
            what: format!("{origin}: {what}"),
            why: format!("invalid base64: {e}"),
        })
}

/// File content or inline base64 data, whichever the kubeconfig gives (data wins, as kubectl does).
fn file_or_data(
    base: &Path,
    origin: &str,
    what: &str,
    file: &Option<PathBuf>,
    data: &Option<String>,
) -> Result<Option<Vec<u8>>, Error> {
    if let Some(d) = data {
        return decode_data(what, origin, d).map(Some);
    }
    file.as_ref().map(|f| read_file(&base.join(f))).transpose()
}

impl Kubeconfig {
    fn parse(text: &str, origin: &str) -> Result<Kubeconfig, Error> {
        serde_saphyr::from_str(text).map_err(|e| Error::Config {
            what: origin.to_string(),
            why: e.to_string(),
        })
    }

    fn resolve(self, base: &Path, origin: &str) -> Result<ClusterConfig, Error> {
        let missing = |why: String| Error::Config {
            what: origin.to_string(),
            why,
        };
        let ctx = match self.contexts.iter().find(|c| c.name == self.current_context) {
            Some(c) => &c.item,
            None if self.contexts.len() == 1 && self.current_context.is_empty() => &self.contexts[0].item,
            None => return Err(missing(format!("current-context '{}' not found", self.current_context))),
        };
        let cluster = self
            .clusters
            .iter()
            .find(|c| c.name == ctx.cluster)
            .map(|c| &c.item)
            .ok_or_else(|| missing(format!("cluster '{}' not found", ctx.cluster)))?;
        let default_user = KubeUser::default();
        let user = match self.users.iter().find(|u| u.name == ctx.user) {
            Some(u) => &u.item,
            None if ctx.user.is_empty() => &default_user,
            None => return Err(missing(format!("user '{}' not found", ctx.user))),
        };
        let ca_pem = file_or_data(
            base,
            origin,
            "certificate-authority-data",
            &cluster.certificate_authority,
            &cluster.certificate_authority_data,
        )?;
        let cert = file_or_data(
            base,
            origin,
            "client-certificate-data",
            &user.client_certificate,
            &user.client_certificate_data,
        )?;
        let key = file_or_data(base, origin, "client-key-data", &user.client_key, &user.client_key_data)?;
        let identity_pem = match (cert, key) {
            (Some(mut c), Some(k)) => {
                c.push(b'\n');
                c.extend_from_slice(&k);
                Some(c)
            }
            (None, None) => None,
            _ => return Err(missing("a client certificate needs both certificate and key".into())),
        };
        let token = match (&user.token, &user.token_file) {
            (Some(t), _) => Some(TokenSource::Static(t.clone())),
            (None, Some(f)) => Some(TokenSource::File(base.join(f))),
            (None, None) => None,
        };
        if cluster.server.is_empty() {
            return Err(missing(format!("cluster '{}' has no server", ctx.cluster)));
        }
        Ok(ClusterConfig {
            server: cluster.server.trim_end_matches('/').to_string(),
            ca_pem,
            insecure_skip_tls_verify: cluster.insecure_skip_tls_verify,
            token,
            identity_pem,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_current_context_with_inline_data_and_token_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tok"), "secret-token\n").unwrap();
        let ca = base64::engine::general_purpose::STANDARD.encode("CA-PEM");
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: b\nclusters:\n- name: c1\n  cluster:\n    server: https://a.example:6443/\n    certificate-authority-data: {ca}\ncontexts:\n- name: a\n  context:\n    cluster: nope\n    user: nope\n- name: b\n  context:\n    cluster: c1\n    user: u1\nusers:\n- name: u1\n  user:\n    tokenFile: tok\n"
        );
        let path = dir.path().join("config");
        std::fs::write(&path, text).unwrap();
        let c = ClusterConfig::from_kubeconfig(&path).unwrap();
        assert_eq!(c.server, "https://a.example:6443");
        assert_eq!(c.ca_pem.as_deref(), Some(&b"CA-PEM"[..]));
        assert_eq!(c.token.as_ref().unwrap().token().unwrap(), "secret-token");
        assert!(c.identity_pem.is_none());
    }

    #[test]
    fn kubeconfig_errors_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "current-context: x\ncontexts: []\nclusters: []\n").unwrap();
        let e = ClusterConfig::from_kubeconfig(&path).unwrap_err().to_string();
        assert!(e.contains("current-context 'x' not found"), "{e}");
        std::fs::write(
            &path,
            "current-context: x\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\nclusters:\n- name: c\n  cluster:\n    server: https://s\nusers:\n- name: u\n  user:\n    client-certificate-data: QQ==\n",
        )
        .unwrap();
        let e = ClusterConfig::from_kubeconfig(&path).unwrap_err().to_string();
        assert!(e.contains("both certificate and key"), "{e}");
    }

    #[test]
    fn in_cluster_reads_the_service_account() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crt"), "CA").unwrap();
        std::fs::write(dir.path().join("token"), "t0k\n").unwrap();
        let c = ClusterConfig::in_cluster_from(dir.path(), "fd00::1", "443").unwrap();
        assert_eq!(c.server, "https://[fd00::1]:443");
        assert_eq!(c.token.unwrap().token().unwrap(), "t0k");
        let missing = tempfile::tempdir().unwrap();
        assert!(ClusterConfig::in_cluster_from(missing.path(), "10.0.0.1", "443").is_err());
    }

    #[test]
    fn node_name_prefers_the_configuration() {
        let cfg = K8sApiConfig {
            node_name: Some("node-7".into()),
            ..K8sApiConfig::default()
        };
        assert_eq!(cfg.resolved_node_name().unwrap(), "node-7");
    }
}
