//! Resource caps for reading untrusted layers.

/// Caps that bound memory and work when reading an attacker's layer. Exceeding one is reported as a
/// guard finding; the layer walk stops (bombs, entry count) or the entry's content is cut (giant entries).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest uncompressed size of one layer.
    pub max_layer_bytes: u64,
    /// Largest uncompressed/compressed ratio once `ratio_floor_bytes` have been produced.
    pub max_ratio: u64,
    /// Output size below which the ratio is not checked (small files compress very well legitimately).
    pub ratio_floor_bytes: u64,
    /// Entries larger than this are reported as giant; analyzers see only their first `max_scan_bytes`.
    pub max_entry_bytes: u64,
    /// Most bytes of one file handed to analyzers.
    pub max_scan_bytes: u64,
    /// Most entries in one layer.
    pub max_entries: u64,
    /// Largest PAX header or GNU long name record (they are held in memory).
    pub max_header_record_bytes: u64,
    /// Largest manifest, index or config JSON document.
    pub max_json_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_layer_bytes: 8 << 30,
            max_ratio: 200,
            ratio_floor_bytes: 64 << 20,
            max_entry_bytes: 1 << 30,
            max_scan_bytes: 64 << 20,
            max_entries: 2_000_000,
            max_header_record_bytes: 1 << 20,
            max_json_bytes: 16 << 20,
        }
    }
}
