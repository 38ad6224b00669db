//! Kernel-side counters, per CPU and in total.

/// Counters kept by the kernel side (one set per CPU). Field order matches `struct counters` in
/// `bpf/common.h`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Events written to the ring buffer.
    pub emitted: u64,
    /// Events lost because the ring buffer was full (the reader fell behind).
    pub dropped_ring_full: u64,
    /// Events lost because they grew past the 64 KiB event limit.
    pub dropped_too_large: u64,
    /// Events lost because no per-CPU scratch buffer was available.
    pub dropped_no_buffer: u64,
    /// Events withheld because a handler's parameter count disagreed with the event table (a sensor bug).
    pub dropped_malformed: u64,
    /// Parameters sent empty because user or kernel memory could not be read (the event itself was kept).
    pub read_failures: u64,
    /// Syscalls with a handler whose tail call failed (the event was dropped).
    pub tail_call_failures: u64,
    /// Syscall exits filtered in the kernel because neither a loaded rule nor the state engine needs them.
    pub filtered: u64,
    /// State-only send/recv calls left out in the kernel because they would change nothing in the state.
    pub filtered_state_only: u64,
}

pub(crate) const COUNTER_FIELDS: usize = 9;

impl Counters {
    /// Every event lost, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_ring_full
            + self.dropped_too_large
            + self.dropped_no_buffer
            + self.dropped_malformed
            + self.tail_call_failures
    }

    /// Decodes one CPU's value of the counters map (native-endian u64s).
    pub(crate) fn from_map_value(bytes: &[u8]) -> Option<Counters> {
        if bytes.len() < COUNTER_FIELDS * 8 {
            return None;
        }
        let field = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            u64::from_ne_bytes(b)
        };
        Some(Counters {
            emitted: field(0),
            dropped_ring_full: field(1),
            dropped_too_large: field(2),
            dropped_no_buffer: field(3),
            dropped_malformed: field(4),
            read_failures: field(5),
            tail_call_failures: field(6),
            filtered: field(7),
            filtered_state_only: field(8),
        })
    }

    fn add(&mut self, o: &Counters) {
        self.emitted += o.emitted;
        self.dropped_ring_full += o.dropped_ring_full;
        self.dropped_too_large += o.dropped_too_large;
        self.dropped_no_buffer += o.dropped_no_buffer;
        self.dropped_malformed += o.dropped_malformed;
        self.read_failures += o.read_failures;
        self.tail_call_failures += o.tail_call_failures;
        self.filtered += o.filtered;
        self.filtered_state_only += o.filtered_state_only;
    }
}

/// The counters of one CPU.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuStats {
    pub cpu: u16,
    pub counters: Counters,
}

/// A snapshot of the sensor's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SensorStats {
    /// One entry per possible CPU.
    pub per_cpu: Vec<CpuStats>,
    /// The sum over CPUs.
    pub totals: Counters,
    /// Records handed to `poll` callbacks so far.
    pub delivered: u64,
    /// Ring-buffer records the reader skipped because they were too short to hold a scap header.
    pub malformed_records: u64,
    /// Bytes waiting in the ring buffer at snapshot time.
    pub pending_bytes: u64,
}

impl SensorStats {
    pub(crate) fn from_per_cpu(per_cpu: Vec<CpuStats>) -> SensorStats {
        let mut totals = Counters::default();
        for c in &per_cpu {
            totals.add(&c.counters);
        }
        SensorStats {
            per_cpu,
            totals,
            ..SensorStats::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_decode_and_sum() {
        let mut raw = Vec::new();
        for v in 1..=9u64 {
            raw.extend_from_slice(&v.to_ne_bytes());
        }
        let c = Counters::from_map_value(&raw).expect("decodes");
        assert_eq!(c.emitted, 1);
        assert_eq!(c.tail_call_failures, 7);
        assert_eq!((c.filtered, c.filtered_state_only), (8, 9));
        assert_eq!(c.dropped(), 2 + 3 + 4 + 5 + 7);
        assert!(Counters::from_map_value(&raw[..71]).is_none());
        let stats = SensorStats::from_per_cpu(vec![CpuStats { cpu: 0, counters: c }, CpuStats { cpu: 1, counters: c }]);
        assert_eq!(stats.totals.emitted, 2);
        assert_eq!(stats.totals.read_failures, 12);
        assert_eq!(stats.totals.filtered, 16);
    }
}
