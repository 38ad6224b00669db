//! Container image reading for mamoru's scanner. [`Image::open`] resolves a target (OCI layout directory, OCI
//! archive, `docker save` archive, or registry reference with anonymous/basic/bearer auth) to its manifest, config
//! and layers, choosing a platform from indexes and checking digests. [`walk_layer`] streams one layer (gzip, zstd
//! or plain tar) entry by entry to a [`LayerVisitor`], never touching the disk, and reports hostile constructs
//! (path traversal, absolute and symlink escapes, hard links, device files, decompression bombs, giant entries)
//! as [`GuardIssue`]s while keeping memory bounded by [`Limits`]. [`MergedView`] applies whiteouts and opaque
//! directories to give the final filesystem.

mod decompress;
mod digest;
mod error;
pub mod fuzzing;
mod image;
mod limits;
mod merged;
mod model;
mod reference;
mod registry;
mod walk;

pub use decompress::{BombError, Compression, LayerStream};
pub use digest::{parse_digest, sha256_digest};
pub use error::OciError;
pub use image::{ArchiveStore, BlobStore, Image, LayerInfo, LayoutStore, OpenOptions};
pub use limits::Limits;
pub use merged::{MergedEntry, MergedView};
pub use model::{Descriptor, History, ImageConfig, Index, Manifest, Platform, RunConfig};
pub use reference::{Reference, DOCKER_HUB};
pub use registry::{RegistryAuth, RegistryStore};
pub use walk::{walk_layer, EntryKind, EntryMeta, GuardIssue, GuardKind, LayerSummary, LayerVisitor, VisitorError};
