//! Cursors persisted atomically: a temporary file is written and fsynced, renamed over the cursor, and the
//! directory is fsynced, so a crash leaves either the old or the new cursor, never a torn one.

use crate::error::{InputError, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A directory of named cursors (`<name>.cursor.json`).
#[derive(Debug, Clone)]
pub struct CursorStore {
    dir: PathBuf,
}

impl CursorStore {
    /// Creates the directory if needed.
    pub fn open(dir: impl Into<PathBuf>) -> Result<CursorStore> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| InputError::io(&dir, e))?;
        Ok(CursorStore { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.cursor.json"))
    }

    /// The cursor saved under `name`, if any.
    pub fn load<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        let path = self.path(name);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| InputError::Cursor {
                    path,
                    msg: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(InputError::io(path, e)),
        }
    }

    /// Saves `value` under `name` atomically and durably.
    pub fn save<T: Serialize>(&self, name: &str, value: &T) -> Result<()> {
        let path = self.path(name);
        let bytes = serde_json::to_vec(value).map_err(|e| InputError::Cursor {
            path: path.clone(),
            msg: e.to_string(),
        })?;
        write_atomic(&path, &bytes)
    }

    /// [`CursorStore::save`] off the async runtime's worker threads (it fsyncs).
    pub async fn save_async<T: Serialize + Send + 'static>(&self, name: &str, value: T) -> Result<()> {
        let store = self.clone();
        let name = name.to_string();
        tokio::task::spawn_blocking(move || store.save(&name, &value))
            .await
            .map_err(|e| InputError::Config(format!("cursor writer panicked: {e}")))?
    }
}

/// Writes `bytes` to `path` through a fsynced temporary file renamed into place, then fsyncs the directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut f = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    };
    write().map_err(|e| InputError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let store = CursorStore::open(dir.path().join("c")).unwrap();
        assert_eq!(store.load::<u64>("x").unwrap(), None);
        store.save("x", &41u64).unwrap();
        store.save("x", &42u64).unwrap();
        assert_eq!(store.load::<u64>("x").unwrap(), Some(42));
        let names: Vec<_> = fs::read_dir(store.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    }

    #[test]
    fn corrupt_cursor_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = CursorStore::open(dir.path()).unwrap();
        fs::write(dir.path().join("y.cursor.json"), b"{not json").unwrap();
        let err = store.load::<u64>("y").unwrap_err().to_string();
        assert!(err.contains("y.cursor.json"), "{err}");
    }
}
