//! Opening an image from any supported target and resolving index → manifest → config → layers.

use crate::digest::{parse_digest, read_capped, sha256_digest, verify_bytes, VerifyingReader};
use crate::error::OciError;
use crate::limits::Limits;
use crate::model::{Descriptor, ImageConfig, Index, Manifest, Platform};
use crate::reference::Reference;
use crate::registry::{RegistryAuth, RegistryStore};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Where blobs come from.
pub trait BlobStore: Send + Sync {
    /// Opens a blob by its key (a digest, or an archive path for old `docker save` layers).
    fn open(&self, key: &str) -> Result<Box<dyn Read + Send + '_>, OciError>;
    /// Human description for messages.
    fn describe(&self) -> String;
}

/// How to open a target.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Platform to pick from an index (default: this machine's).
    pub platform: Option<Platform>,
    pub auth: RegistryAuth,
    /// Use plain HTTP for the registry (always done for localhost/127.0.0.1).
    pub insecure_registry: bool,
    pub limits: Limits,
}

/// One layer of the chosen manifest.
#[derive(Debug, Clone, Serialize)]
pub struct LayerInfo {
    pub index: usize,
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    /// The history step (`created_by`) that made this layer, when the config says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip)]
    key: String,
}

/// An opened image: its documents, and access to its layers.
pub struct Image {
    /// The target as given.
    pub target: String,
    /// Names the image carries (reference given, docker-save RepoTags, OCI ref annotations).
    pub names: Vec<String>,
    pub manifest_digest: Option<String>,
    pub manifest: Manifest,
    pub config_digest: String,
    pub config: ImageConfig,
    /// The config document as stored.
    pub config_raw: Vec<u8>,
    /// Annotations of the index entry and the manifest.
    pub annotations: BTreeMap<String, String>,
    pub layers: Vec<LayerInfo>,
    store: Box<dyn BlobStore>,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image")
            .field("target", &self.target)
            .field("names", &self.names)
            .field("manifest_digest", &self.manifest_digest)
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl Image {
    /// Opens a target: an OCI layout directory, an OCI or `docker save` archive, or a registry reference.
    pub fn open(target: &str, options: &OpenOptions) -> Result<Image, OciError> {
        let path = Path::new(target);
        if path.is_dir() {
            return open_layout(Box::new(LayoutStore::new(path)), target, options);
        }
        if path.is_file() {
            let archive = ArchiveStore::new(path, &options.limits)?;
            if archive.has("index.json") && archive.has("oci-layout") {
                return open_layout(Box::new(archive), target, options);
            }
            if archive.has("manifest.json") {
                return open_docker_save(archive, target, options);
            }
            return Err(OciError::Format(format!(
                "{target}: an archive without index.json/oci-layout or manifest.json is not an image"
            )));
        }
        let reference = Reference::parse(target)?;
        let store = RegistryStore::new(&reference, &options.auth, options.insecure_registry, &options.limits)?;
        open_registry(store, reference, target, options)
    }

    /// The compressed blob of layer `index`, its digest checked as it is read.
    pub fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, OciError> {
        let layer = self
            .layers
            .get(index)
            .ok_or_else(|| OciError::Format(format!("no layer {index}")))?;
        let blob = self.store.open(&layer.key)?;
        if parse_digest(&layer.digest).is_ok() {
            Ok(Box::new(VerifyingReader::new(blob, &layer.digest)))
        } else {
            Ok(blob)
        }
    }

    pub fn store_description(&self) -> String {
        self.store.describe()
    }
}

fn read_json<T: serde::de::DeserializeOwned>(
    store: &dyn BlobStore,
    key: &str,
    what: &str,
    limits: &Limits,
) -> Result<(T, Vec<u8>), OciError> {
    let raw = read_capped(store.open(key)?, limits.max_json_bytes, what)?;
    if parse_digest(key).is_ok() {
        verify_bytes(key, &raw)?;
    }
    let value = serde_json::from_slice(&raw).map_err(|e| OciError::json(what, e))?;
    Ok((value, raw))
}

/// Either document kind, told apart by content (media types are optional in OCI layouts).
fn parse_manifest_or_index(raw: &[u8], what: &str) -> Result<Result<Manifest, Index>, OciError> {
    let value: serde_json::Value = serde_json::from_slice(raw).map_err(|e| OciError::json(what, e))?;
    if value.get("manifests").is_some() {
        serde_json::from_value(value)
            .map(Err)
            .map_err(|e| OciError::json(what, e))
    } else {
        serde_json::from_value(value)
            .map(Ok)
            .map_err(|e| OciError::json(what, e))
    }
}

/// Picks the manifest for `platform` from an index; attestation entries (`unknown/unknown`) never match.
fn choose_platform<'a>(index: &'a Index, platform: &Platform) -> Result<&'a Descriptor, OciError> {
    let candidates: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| d.platform.as_ref().is_none_or(|p| p.os != "unknown"))
        .collect();
    if let Some(d) = candidates
        .iter()
        .find(|d| d.platform.as_ref().is_some_and(|p| platform.matches(p)))
    {
        return Ok(d);
    }
    if candidates.len() == 1 && candidates[0].platform.is_none() {
        return Ok(candidates[0]);
    }
    let available = candidates
        .iter()
        .map(|d| {
            d.platform
                .as_ref()
                .map_or_else(|| "unspecified".to_string(), |p| p.to_string())
        })
        .collect::<Vec<_>>()
        .join(", ");
    Err(OciError::NoPlatform {
        platform: platform.to_string(),
        available,
    })
}

/// Follows nested indexes from a document to a manifest.
fn resolve_manifest(
    store: &dyn BlobStore,
    mut raw: Vec<u8>,
    mut digest: Option<String>,
    annotations: &mut BTreeMap<String, String>,
    options: &OpenOptions,
) -> Result<(Manifest, Option<String>), OciError> {
    let platform = options.platform.clone().unwrap_or_else(Platform::host);
    for _depth in 0..4 {
        match parse_manifest_or_index(&raw, "manifest")? {
            Ok(manifest) => return Ok((manifest, digest)),
            Err(index) => {
                let chosen = choose_platform(&index, &platform)?;
                annotations.extend(chosen.annotations.clone());
                let (_, bytes): (serde_json::Value, Vec<u8>) =
                    read_json(store, &chosen.digest, "manifest", &options.limits)?;
                raw = bytes;
                digest = Some(chosen.digest.clone());
            }
        }
    }
    Err(OciError::Format("indexes nested more than 4 deep".to_string()))
}

fn finish(
    store: Box<dyn BlobStore>,
    target: &str,
    names: Vec<String>,
    manifest: Manifest,
    manifest_digest: Option<String>,
    mut annotations: BTreeMap<String, String>,
    options: &OpenOptions,
) -> Result<Image, OciError> {
    let (config, config_raw): (ImageConfig, Vec<u8>) =
        read_json(store.as_ref(), &manifest.config.digest, "image config", &options.limits)?;
    annotations.extend(manifest.annotations.clone());
    let history = config.layer_history();
    let layers = manifest
        .layers
        .iter()
        .enumerate()
        .map(|(index, d)| {
            parse_digest(&d.digest)?;
            Ok(LayerInfo {
                index,
                digest: d.digest.clone(),
                media_type: d.media_type.clone(),
                size: d.size,
                created_by: history.get(index).copied().flatten().and_then(|h| h.created_by.clone()),
                key: d.digest.clone(),
            })
        })
        .collect::<Result<Vec<_>, OciError>>()?;
    Ok(Image {
        target: target.to_string(),
        names,
        manifest_digest,
        config_digest: manifest.config.digest.clone(),
        manifest,
        config,
        config_raw,
        annotations,
        layers,
        store,
    })
}

fn open_layout(store: Box<dyn BlobStore>, target: &str, options: &OpenOptions) -> Result<Image, OciError> {
    let raw = read_capped(store.open("index.json")?, options.limits.max_json_bytes, "index.json")?;
    let index: Index = serde_json::from_slice(&raw).map_err(|e| OciError::json("index.json", e))?;
    let mut names = Vec::new();
    for d in &index.manifests {
        for key in ["io.containerd.image.name", "org.opencontainers.image.ref.name"] {
            if let Some(n) = d.annotations.get(key) {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
        }
    }
    let mut annotations = BTreeMap::new();
    // A layout's top index lists images by ref name; a single entry (of any kind) is followed directly.
    let first = if index.manifests.len() == 1 {
        index.manifests[0].clone()
    } else {
        choose_platform(&index, &options.platform.clone().unwrap_or_else(Platform::host))?.clone()
    };
    annotations.extend(first.annotations.clone());
    let (_, raw): (serde_json::Value, Vec<u8>) = read_json(store.as_ref(), &first.digest, "manifest", &options.limits)?;
    let (manifest, digest) = resolve_manifest(
        store.as_ref(),
        raw,
        Some(first.digest.clone()),
        &mut annotations,
        options,
    )?;
    finish(store, target, names, manifest, digest, annotations, options)
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerSaveEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

fn open_docker_save(archive: ArchiveStore, target: &str, options: &OpenOptions) -> Result<Image, OciError> {
    let raw = read_capped(
        archive.open("manifest.json")?,
        options.limits.max_json_bytes,
        "manifest.json",
    )?;
    let entries: Vec<DockerSaveEntry> = serde_json::from_slice(&raw).map_err(|e| OciError::json("manifest.json", e))?;
    let entry = entries
        .into_iter()
        .next()
        .ok_or_else(|| OciError::Format(format!("{target}: manifest.json lists no image")))?;
    let config_raw = read_capped(
        archive.open(&entry.config)?,
        options.limits.max_json_bytes,
        "image config",
    )?;
    let config: ImageConfig = serde_json::from_slice(&config_raw).map_err(|e| OciError::json("image config", e))?;
    let history = config.layer_history();
    let layers = entry
        .layers
        .iter()
        .enumerate()
        .map(|(index, path)| LayerInfo {
            index,
            digest: digest_from_archive_path(path).unwrap_or_else(|| path.clone()),
            media_type: "application/vnd.docker.image.rootfs.diff.tar".to_string(),
            size: archive.size(path).unwrap_or(0),
            created_by: history.get(index).copied().flatten().and_then(|h| h.created_by.clone()),
            key: path.clone(),
        })
        .collect();
    let config_digest = sha256_digest(&config_raw);
    let manifest = Manifest {
        media_type: None,
        config: Descriptor {
            media_type: "application/vnd.docker.container.image.v1+json".to_string(),
            digest: config_digest.clone(),
            size: config_raw.len() as u64,
            platform: None,
            annotations: BTreeMap::new(),
        },
        layers: Vec::new(),
        annotations: BTreeMap::new(),
    };
    Ok(Image {
        target: target.to_string(),
        names: entry.repo_tags.unwrap_or_default(),
        manifest_digest: None,
        manifest,
        config_digest,
        config,
        config_raw,
        annotations: BTreeMap::new(),
        layers,
        store: Box::new(archive),
    })
}

/// `blobs/sha256/HEX` (docker 25+) names its digest.
fn digest_from_archive_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix("blobs/")?;
    let (alg, hex) = rest.split_once('/')?;
    let digest = format!("{alg}:{hex}");
    parse_digest(&digest).ok()?;
    Some(digest)
}

fn open_registry(
    store: RegistryStore,
    reference: Reference,
    target: &str,
    options: &OpenOptions,
) -> Result<Image, OciError> {
    let (raw, digest) = store.fetch_manifest(reference.manifest_reference())?;
    let mut annotations = BTreeMap::new();
    let (manifest, manifest_digest) = resolve_manifest(&store, raw, Some(digest), &mut annotations, options)?;
    finish(
        Box::new(store),
        target,
        vec![reference.to_string()],
        manifest,
        manifest_digest,
        annotations,
        options,
    )
}

/// An OCI image layout directory.
pub struct LayoutStore {
    root: PathBuf,
}

impl LayoutStore {
    pub fn new(root: &Path) -> Self {
        LayoutStore {
            root: root.to_path_buf(),
        }
    }
}

impl BlobStore for LayoutStore {
    fn open(&self, key: &str) -> Result<Box<dyn Read + Send + '_>, OciError> {
        let path = if key == "index.json" {
            self.root.join("index.json")
        } else {
            let (alg, hex) = parse_digest(key)?;
            self.root.join("blobs").join(alg).join(hex)
        };
        let file = File::open(&path).map_err(|e| OciError::io(&path, e))?;
        Ok(Box::new(file))
    }

    fn describe(&self) -> String {
        format!("OCI layout {}", self.root.display())
    }
}

/// A tar archive (OCI archive or `docker save`), read in place: members are located once, then read by offset.
pub struct ArchiveStore {
    path: PathBuf,
    members: HashMap<String, (u64, u64)>,
}

impl ArchiveStore {
    pub fn new(path: &Path, limits: &Limits) -> Result<Self, OciError> {
        let file = File::open(path).map_err(|e| OciError::io(path, e))?;
        let mut archive = tar::Archive::new(std::io::BufReader::new(file));
        let mut members = HashMap::new();
        let entries = archive.entries().map_err(|e| OciError::io(path, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| OciError::io(path, e))?;
            if members.len() as u64 >= limits.max_entries {
                return Err(OciError::Format(format!(
                    "{}: too many archive members",
                    path.display()
                )));
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let name = name.trim_start_matches("./").to_string();
            let size = entry.size();
            let offset = entry.raw_file_position();
            members.insert(name, (offset, size));
        }
        Ok(ArchiveStore {
            path: path.to_path_buf(),
            members,
        })
    }

    fn has(&self, name: &str) -> bool {
        self.members.contains_key(name)
    }

    fn size(&self, name: &str) -> Option<u64> {
        self.members.get(name).map(|m| m.1)
    }
}

impl BlobStore for ArchiveStore {
    fn open(&self, key: &str) -> Result<Box<dyn Read + Send + '_>, OciError> {
        let name = match parse_digest(key) {
            Ok((alg, hex)) => format!("blobs/{alg}/{hex}"),
            Err(_) => key.trim_start_matches("./").to_string(),
        };
        let &(offset, size) = self.members.get(&name).ok_or_else(|| OciError::BlobNotFound {
            digest: key.to_string(),
            place: self.path.display().to_string(),
        })?;
        let mut file = File::open(&self.path).map_err(|e| OciError::io(&self.path, e))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| OciError::io(&self.path, e))?;
        Ok(Box::new(std::io::BufReader::new(file.take(size))))
    }

    fn describe(&self) -> String {
        format!("archive {}", self.path.display())
    }
}
