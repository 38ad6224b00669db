//! The fuzz harness for the layer reader, shared by the cargo-fuzz target (`fuzz/`) and the stable-Rust runner
//! (`tests/fuzz_stable.rs`): arbitrary bytes are walked as a layer (gzip/zstd/plain detected as in real scans)
//! with small caps, every entry's content is read, and the merged view is built. It must never panic, and the
//! caps must hold.

use crate::limits::Limits;
use crate::merged::MergedView;
use crate::walk::{walk_layer, EntryMeta, GuardIssue, LayerVisitor};
use std::io::Read;

struct FuzzVisitor {
    merged: MergedView,
    read: u64,
    cap: u64,
}

impl LayerVisitor for FuzzVisitor {
    fn entry(&mut self, meta: &EntryMeta, content: &mut dyn Read) -> std::io::Result<()> {
        self.merged.apply(0, meta);
        let mut buf = Vec::new();
        let n = content.read_to_end(&mut buf)? as u64;
        assert!(n <= self.cap, "content beyond the scan cap");
        self.read += n;
        Ok(())
    }

    fn guard(&mut self, _issue: GuardIssue) {}
}

/// Walks `data` as a layer; panics only if an invariant breaks.
pub fn walk_everything(data: &[u8]) {
    let limits = Limits {
        max_layer_bytes: 8 << 20,
        ratio_floor_bytes: 1 << 20,
        max_ratio: 100,
        max_entry_bytes: 1 << 20,
        max_scan_bytes: 256 << 10,
        max_entries: 10_000,
        max_header_record_bytes: 64 << 10,
        max_json_bytes: 1 << 20,
    };
    let mut visitor = FuzzVisitor {
        merged: MergedView::new(),
        read: 0,
        cap: limits.max_scan_bytes,
    };
    if let Ok(summary) = walk_layer(data, &limits, &mut visitor) {
        // The layer cap is checked after each read, so output overshoots it by at most one read buffer.
        assert!(summary.uncompressed_bytes <= limits.max_layer_bytes + (1 << 20));
        assert!(summary.entries <= limits.max_entries + 1);
    }
    let text = String::from_utf8_lossy(data);
    let _ = crate::reference::Reference::parse(text.trim());
    let _ = serde_json::from_slice::<crate::model::Manifest>(data);
    let _ = serde_json::from_slice::<crate::model::ImageConfig>(data);
}
