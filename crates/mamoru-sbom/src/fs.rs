//! The filesystem the inventory reads: a directory on disk, or any view a caller provides (an image's merged
//! layers), through a small trait.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One regular file of a root filesystem.
#[derive(Debug, Clone)]
pub struct FileInfo {
    /// Path relative to the root, `/`-separated, no leading `/`.
    pub path: String,
    pub size: u64,
    pub mode: u32,
    /// Image layer that provides the file, when the view is an image.
    pub layer: Option<usize>,
}

/// A read-only root filesystem view.
pub trait RootFs {
    /// Lists the regular files of the view (symlinks and special files are not listed).
    fn files(&self) -> Result<Vec<FileInfo>>;
    /// Reads up to `limit` bytes of the file at `path`.
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>>;
}

/// A directory on disk. Symlinks are never followed, so a hostile tree cannot point the walk outside the root.
pub struct DirFs {
    root: PathBuf,
}

impl DirFs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirFs { root: root.into() }
    }

    fn walk(&self, dir: &Path, rel: &str, out: &mut Vec<FileInfo>) -> Result<()> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir, e))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                tracing::debug!(dir = %dir.display(), "skipping non-UTF-8 file name");
                continue;
            };
            let child_rel = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            let meta = std::fs::symlink_metadata(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            if meta.is_dir() {
                self.walk(&entry.path(), &child_rel, out)?;
            } else if meta.is_file() {
                out.push(FileInfo {
                    path: child_rel,
                    size: meta.len(),
                    mode: file_mode(&meta),
                    layer: None,
                });
            }
        }
        Ok(())
    }
}

#[cfg(unix)]
fn file_mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode()
}

#[cfg(not(unix))]
fn file_mode(_meta: &std::fs::Metadata) -> u32 {
    0o644
}

impl RootFs for DirFs {
    fn files(&self) -> Result<Vec<FileInfo>> {
        let mut out = Vec::new();
        self.walk(&self.root, "", &mut out)?;
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>> {
        if path.split('/').any(|c| c == "..") {
            return Err(Error::invalid(path, "path escapes the root"));
        }
        let full = self.root.join(path);
        let meta = std::fs::symlink_metadata(&full).map_err(|e| Error::io(&full, e))?;
        if !meta.is_file() {
            return Err(Error::invalid(&full, "not a regular file"));
        }
        let file = std::fs::File::open(&full).map_err(|e| Error::io(&full, e))?;
        let mut buf = Vec::new();
        file.take(limit)
            .read_to_end(&mut buf)
            .map_err(|e| Error::io(&full, e))?;
        Ok(buf)
    }
}
