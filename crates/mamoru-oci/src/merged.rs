//! The final filesystem of an image: layers applied in order with whiteouts and opaque directories.

use crate::walk::{EntryKind, EntryMeta};
use std::collections::BTreeMap;

/// One path of the merged view and the layer that provides it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MergedEntry {
    pub layer: usize,
    pub meta: EntryMeta,
}

/// The merged view: metadata only (no content), so memory grows with the entry count, not image size.
#[derive(Debug, Default, Clone)]
pub struct MergedView {
    entries: BTreeMap<String, MergedEntry>,
}

impl MergedView {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one entry of layer `layer`. Layers must be applied bottom-up, each in archive order.
    pub fn apply(&mut self, layer: usize, meta: &EntryMeta) {
        match meta.kind {
            EntryKind::Whiteout => {
                self.remove_lower(&meta.path, layer, true);
            }
            EntryKind::OpaqueDir => {
                self.remove_lower(&meta.path, layer, false);
            }
            _ => {
                if meta.kind != EntryKind::Dir {
                    // A non-directory replaces a directory and everything below it.
                    self.remove_lower(&meta.path, layer, false);
                }
                self.entries.insert(
                    meta.path.clone(),
                    MergedEntry {
                        layer,
                        meta: meta.clone(),
                    },
                );
            }
        }
    }

    /// Removes what lower layers put at `path` (if `include_self`) and below it.
    fn remove_lower(&mut self, path: &str, layer: usize, include_self: bool) {
        if include_self && self.entries.get(path).is_some_and(|e| e.layer < layer) {
            self.entries.remove(path);
        }
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        let doomed: Vec<String> = self
            .entries
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(_, e)| e.layer < layer)
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.entries.remove(&k);
        }
    }

    pub fn get(&self, path: &str) -> Option<&MergedEntry> {
        self.entries.get(path)
    }

    /// True when the file that `layer` ships at `path` is what the final image shows.
    pub fn is_visible(&self, path: &str, layer: usize) -> bool {
        self.entries.get(path).is_some_and(|e| e.layer == layer)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &MergedEntry)> {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(path: &str, kind: EntryKind) -> EntryMeta {
        EntryMeta {
            path: path.to_string(),
            kind,
            size: 0,
            mode: 0o644,
            uid: 0,
            gid: 0,
            link_target: None,
        }
    }

    #[test]
    fn whiteouts_and_opaque_dirs() {
        let mut v = MergedView::new();
        v.apply(0, &meta("opt", EntryKind::Dir));
        v.apply(0, &meta("opt/miner", EntryKind::File));
        v.apply(0, &meta("opt/cfg/config.json", EntryKind::File));
        v.apply(0, &meta("srv/a", EntryKind::File));
        v.apply(0, &meta("srv/b", EntryKind::File));
        v.apply(1, &meta("opt/miner", EntryKind::Whiteout));
        v.apply(1, &meta("srv/c", EntryKind::File));
        v.apply(1, &meta("srv", EntryKind::OpaqueDir));
        assert!(v.get("opt/miner").is_none());
        assert!(v.is_visible("opt/cfg/config.json", 0));
        assert!(v.get("srv/a").is_none() && v.get("srv/b").is_none());
        assert!(v.is_visible("srv/c", 1), "same-layer entries survive an opaque marker");
        v.apply(2, &meta("opt", EntryKind::Whiteout));
        assert!(v.get("opt/cfg/config.json").is_none());
        assert!(v.get("opt").is_none());
    }
}
