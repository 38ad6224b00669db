//! A container as drift control sees it: identity for scoping and alerts, and its overlay root filesystem.

use crate::error::ResponseError;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What scoping and alerts need to know about a container.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerMeta {
    /// Full container id.
    pub id: String,
    /// Image reference (`registry/name:tag`), empty when unknown.
    pub image: String,
    /// Kubernetes namespace (or the runtime's namespace when not under Kubernetes).
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// A container's overlay root filesystem, as mounted in this (the host's) mount namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRootfs {
    pub meta: ContainerMeta,
    /// The overlay mount point (the runtime's `rootfs`).
    pub merged: PathBuf,
    /// The writable layer: files here are not from the image.
    pub upperdir: PathBuf,
    /// The image's layers, top first.
    pub lowerdirs: Vec<PathBuf>,
    /// `st_dev` of the overlay (user-space encoding).
    pub dev: u64,
}

impl ContainerRootfs {
    /// Finds the overlay mounted at `merged` in `/proc/self/mountinfo` and reads its layers.
    pub fn from_mount(meta: ContainerMeta, merged: &Path) -> Result<ContainerRootfs, ResponseError> {
        let info_path = Path::new("/proc/self/mountinfo");
        let text = fs::read_to_string(info_path).map_err(|source| ResponseError::Read {
            path: info_path.into(),
            source,
        })?;
        let merged = fs::canonicalize(merged).map_err(|source| ResponseError::Read {
            path: merged.into(),
            source,
        })?;
        // The last mount on a mount point is the visible one.
        let line = text
            .lines()
            .rfind(|l| parse_mountinfo(l).is_some_and(|m| m.mount_point == merged && m.fstype == "overlay"))
            .ok_or_else(|| ResponseError::Parse {
                path: info_path.into(),
                reason: format!("no overlay mounted at {}", merged.display()),
            })?;
        ContainerRootfs::from_mountinfo_line(meta, info_path, line, merged)
    }

    /// The root filesystem of a running container, from its init process: works for any runtime (the overlay's
    /// options come from the process's own mountinfo, and `/proc/<pid>/root` reaches the overlay from the host).
    /// Valid while that process lives.
    pub fn from_pid(meta: ContainerMeta, pid: i64) -> Result<ContainerRootfs, ResponseError> {
        let info_path = PathBuf::from(format!("/proc/{pid}/mountinfo"));
        let text = fs::read_to_string(&info_path).map_err(|source| ResponseError::Read {
            path: info_path.clone(),
            source,
        })?;
        let line = text
            .lines()
            .rfind(|l| parse_mountinfo(l).is_some_and(|m| m.mount_point == Path::new("/")))
            .ok_or_else(|| ResponseError::Parse {
                path: info_path.clone(),
                reason: "no root mount".into(),
            })?;
        let root = PathBuf::from(format!("/proc/{pid}/root"));
        ContainerRootfs::from_mountinfo_line(meta, &info_path, line, root)
    }

    fn from_mountinfo_line(
        meta: ContainerMeta,
        info_path: &Path,
        line: &str,
        merged: PathBuf,
    ) -> Result<ContainerRootfs, ResponseError> {
        let mount = parse_mountinfo(line).ok_or_else(|| ResponseError::Parse {
            path: info_path.into(),
            reason: format!("malformed line {line:?}"),
        })?;
        if mount.fstype != "overlay" {
            return Err(ResponseError::Parse {
                path: info_path.into(),
                reason: format!(
                    "the root filesystem at {} is {}, not overlay",
                    merged.display(),
                    mount.fstype
                ),
            });
        }
        let option = |name: &str| {
            mount
                .super_options
                .split(',')
                .find_map(|o| o.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
                .map(unescape)
        };
        let upperdir = option("upperdir").ok_or_else(|| ResponseError::Parse {
            path: info_path.into(),
            reason: format!("the overlay at {} has no upperdir (read-only rootfs)", merged.display()),
        })?;
        let lowerdirs = option("lowerdir")
            .map(|l| l.split(':').filter(|s| !s.is_empty()).map(PathBuf::from).collect())
            .unwrap_or_default();
        let dev = fs::metadata(&merged)
            .map_err(|source| ResponseError::Read {
                path: merged.clone(),
                source,
            })?
            .dev();
        Ok(ContainerRootfs {
            meta,
            merged,
            upperdir: PathBuf::from(upperdir),
            lowerdirs,
            dev,
        })
    }

    /// The overlay's device number as the kernel stores it (`MKDEV`), the key of the BPF scope map.
    pub fn kernel_dev(&self) -> u32 {
        kernel_dev(self.dev)
    }

    /// Whether `rel` (absolute inside the container) is a file of the writable layer.
    pub fn on_upper_layer(&self, rel: &str) -> bool {
        let p = self.upperdir.join(rel.trim_start_matches('/'));
        fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_file())
    }
}

/// A user-space `st_dev` in the kernel's internal encoding (major << 20 | minor).
pub fn kernel_dev(dev: u64) -> u32 {
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    (major << 20) | (minor & 0xf_ffff)
}

struct MountInfo<'a> {
    mount_point: PathBuf,
    fstype: &'a str,
    super_options: &'a str,
}

/// `id parent maj:min root mount_point options [optional...] - fstype source super_options`.
fn parse_mountinfo(line: &str) -> Option<MountInfo<'_>> {
    let (left, right) = line.split_once(" - ")?;
    let mount_point = left.split(' ').nth(4)?;
    let mut right = right.split(' ');
    let fstype = right.next()?;
    let _source = right.next()?;
    let super_options = right.next().unwrap_or("");
    Some(MountInfo {
        mount_point: PathBuf::from(unescape(mount_point)),
        fstype,
        super_options,
    })
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo` octal.
fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() && bytes[i + 1..i + 4].iter().all(|b| (b'0'..=b'7').contains(b)) {
            let v = (bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_overlay_line() {
        let line = "812 27 0:94 / /run/c\\040x/rootfs rw,relatime - overlay overlay rw,lowerdir=/l2:/l1,upperdir=/u,workdir=/w";
        let m = parse_mountinfo(line).unwrap();
        assert_eq!(m.mount_point, PathBuf::from("/run/c x/rootfs"));
        assert_eq!(m.fstype, "overlay");
        assert!(m.super_options.contains("upperdir=/u"));
    }

    #[test]
    fn kernel_dev_encoding() {
        assert_eq!(kernel_dev(libc::makedev(0, 39)), 39);
        assert_eq!(kernel_dev(libc::makedev(254, 0)), 254 << 20);
        assert_eq!(kernel_dev(libc::makedev(0, 300)), 300);
    }
}
