//! containerd's gRPC API over its unix socket: the container record (labels, image, spec, creation time), the
//! image's digest, and for CRI containers the pod sandbox record (pod labels, pod IP).

use crate::meta::{is_internal_label, Described, Sandbox};
use crate::spec::spec_facts;
use crate::LookupError;
use containerd_client::services::v1::containers_client::ContainersClient;
use containerd_client::services::v1::images_client::ImagesClient;
use containerd_client::services::v1::{Container, GetContainerRequest, GetImageRequest};
use containerd_client::tonic::metadata::MetadataValue;
use containerd_client::tonic::transport::Channel;
use containerd_client::tonic::{Code, Request};
use std::path::{Path, PathBuf};

/// Namespaces asked, in order, when the cgroup layout does not name one: CRI's and `ctr`'s default.
pub const DEFAULT_NAMESPACES: [&str; 2] = ["k8s.io", "default"];

/// The extension in which containerd's CRI plugin stores a sandbox's metadata (JSON, with the pod IP).
const SANDBOX_METADATA_EXTENSION: &str = "io.cri-containerd.sandbox.metadata";

/// A connection to one containerd socket (connected on first use, reconnected after transport errors).
#[derive(Debug)]
pub struct ContainerdClient {
    socket: PathBuf,
    channel: tokio::sync::Mutex<Option<Channel>>,
}

impl ContainerdClient {
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        ContainerdClient {
            socket: socket.into(),
            channel: tokio::sync::Mutex::new(None),
        }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The shared channel (HTTP/2 multiplexes concurrent lookups over one connection).
    async fn channel(&self) -> Result<Channel, LookupError> {
        let mut slot = self.channel.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let c = containerd_client::connect(&self.socket)
            .await
            .map_err(|e| LookupError::Connect {
                socket: self.socket.clone(),
                reason: e.to_string(),
            })?;
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Describes container `id`, asking `ns_hint` first and then [`DEFAULT_NAMESPACES`]; `None` when no namespace
    /// has it.
    pub async fn describe(&self, id: &str, ns_hint: Option<&str>) -> Result<Option<Described>, LookupError> {
        let mut namespaces: Vec<&str> = ns_hint.into_iter().collect();
        namespaces.extend(DEFAULT_NAMESPACES.iter().filter(|n| Some(**n) != ns_hint));
        for ns in namespaces {
            let result = self.get_container(ns, id).await;
            if result.is_err() {
                // A broken connection is retried with a fresh one on the next lookup.
                *self.channel.lock().await = None;
            }
            if let Some(c) = result? {
                return Ok(Some(self.describe_found(ns, c).await));
            }
        }
        Ok(None)
    }

    async fn describe_found(&self, ns: &str, c: Container) -> Described {
        let spec = c.spec.as_ref().and_then(|any| spec_facts(&any.value));
        let mut d = Described {
            full_id: c.id.clone(),
            runtime: "containerd",
            name: Some(c.id.clone()),
            image: Some(c.image.clone()).filter(|i| !i.is_empty()),
            labels: sorted(c.labels.into_iter()),
            spec,
            created_ts: c.created_at.and_then(timestamp_ns),
            ..Default::default()
        };
        if let Some(image) = d.image.clone() {
            // The digest is a nicety: a failure here leaves container.image.digest empty, not the whole lookup.
            match self.image_digest(ns, &image).await {
                Ok(digest) => d.image_digest = digest,
                Err(e) => tracing::debug!("image {image} in {ns}: {e}"),
            }
        }
        if let Some(sandbox_id) = d.sandbox_id().map(str::to_string).filter(|s| *s != d.full_id) {
            match self.get_container(ns, &sandbox_id).await {
                Ok(Some(sb)) => d.sandbox = Some(sandbox_of(sb)),
                Ok(None) => {}
                Err(e) => tracing::debug!("sandbox {sandbox_id} in {ns}: {e}"),
            }
        }
        d
    }

    async fn get_container(&self, ns: &str, id: &str) -> Result<Option<Container>, LookupError> {
        let mut client = ContainersClient::new(self.channel().await?);
        let req = namespaced(GetContainerRequest { id: id.to_string() }, ns)?;
        match client.get(req).await {
            Ok(resp) => Ok(resp.into_inner().container),
            Err(s) if s.code() == Code::NotFound => Ok(None),
            Err(s) => Err(LookupError::Rpc {
                what: format!("containers.Get {ns}/{id}"),
                reason: s.message().to_string(),
            }),
        }
    }

    async fn image_digest(&self, ns: &str, name: &str) -> Result<Option<String>, LookupError> {
        let mut client = ImagesClient::new(self.channel().await?);
        let req = namespaced(GetImageRequest { name: name.to_string() }, ns)?;
        match client.get(req).await {
            Ok(resp) => Ok(resp.into_inner().image.and_then(|i| i.target).map(|t| t.digest)),
            Err(s) if s.code() == Code::NotFound => Ok(None),
            Err(s) => Err(LookupError::Rpc {
                what: format!("images.Get {ns}/{name}"),
                reason: s.message().to_string(),
            }),
        }
    }
}

/// A request carrying containerd's namespace header.
fn namespaced<T>(msg: T, ns: &str) -> Result<Request<T>, LookupError> {
    let mut req = Request::new(msg);
    let value = MetadataValue::try_from(ns).map_err(|_| LookupError::BadName(ns.to_string()))?;
    req.metadata_mut().insert("containerd-namespace", value);
    Ok(req)
}

fn sorted(it: impl Iterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = it.collect();
    v.sort();
    v
}

fn timestamp_ns(t: prost_types::Timestamp) -> Option<u64> {
    let secs = u64::try_from(t.seconds).ok()?;
    let nanos = u64::try_from(t.nanos).ok()?;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// The pod labels (the sandbox's labels without runtime bookkeeping) and the pod IP of a sandbox record.
fn sandbox_of(sb: Container) -> Sandbox {
    let ip = sb
        .extensions
        .get(SANDBOX_METADATA_EXTENSION)
        .and_then(|any| serde_json::from_slice::<serde_json::Value>(&any.value).ok())
        .and_then(|v| v.pointer("/Metadata/IP")?.as_str().map(str::to_string))
        .filter(|ip| !ip.is_empty());
    Sandbox {
        id: sb.id,
        labels: sorted(sb.labels.into_iter().filter(|(k, _)| !is_internal_label(k))),
        ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_types::Any;

    #[test]
    fn sandbox_labels_and_ip() {
        let mut sb = Container {
            id: "sb".into(),
            ..Default::default()
        };
        sb.labels.insert("app".into(), "web".into());
        sb.labels.insert("io.cri-containerd.kind".into(), "sandbox".into());
        sb.labels.insert("io.kubernetes.pod.name".into(), "web-0".into());
        sb.extensions.insert(
            SANDBOX_METADATA_EXTENSION.into(),
            Any {
                type_url: "github.com/containerd/cri/pkg/store/sandbox/Metadata".into(),
                value: br#"{"Version":"v1","Metadata":{"ID":"sb","IP":"10.1.2.3"}}"#.to_vec(),
            },
        );
        let s = sandbox_of(sb);
        assert_eq!(s.labels, vec![("app".to_string(), "web".to_string())]);
        assert_eq!(s.ip.as_deref(), Some("10.1.2.3"));
        assert_eq!(
            timestamp_ns(prost_types::Timestamp { seconds: 2, nanos: 5 }),
            Some(2_000_000_005)
        );
        assert_eq!(timestamp_ns(prost_types::Timestamp { seconds: -1, nanos: 0 }), None);
    }
}
