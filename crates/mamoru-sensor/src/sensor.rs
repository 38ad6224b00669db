//! Loading, configuring, reading and stopping the sensor.

use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::ptr::NonNull;
use std::sync::Once;
use std::time::Duration;

use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags, OpenObject, PrintLevel};
use mamoru_event::HEADER_LEN_V2;

use crate::error::SensorError;
use crate::probe::{probe, ProbeReport};
use crate::ringbuf::RingReader;
use crate::skel::{SensorSkel, SensorSkelBuilder};
use crate::stats::{Counters, CpuStats, SensorStats};
use crate::syscalls::{handled_numbers, syscalls, SyscallSet, MAX_SYSCALLS};

/// Bytes before the scap event in each ring-buffer record: the CPU id (u16) and a reserved u16.
pub const RECORD_PREFIX_LEN: usize = 4;
/// Largest `snaplen` (bytes of I/O data kept per send/recv event).
pub const MAX_SNAPLEN: u32 = 4096;

/// The programs attached at start. Every other program is a tail-call target and must not be attached itself.
const ATTACHED_PROGRAMS: [&str; 3] = ["sys_exit_dispatch", "sched_exec", "sched_exit"];

/// How to start the sensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensorConfig {
    /// Ring buffer size in bytes: a power of two, at least one page. Default 16 MiB.
    pub ring_buffer_bytes: usize,
    /// Which syscalls to report. Default: all.
    pub syscalls: SyscallSet,
    /// Drop the events of this process (its own reads of the ring buffer would otherwise feed back). Default on.
    pub drop_self: bool,
    /// Wake the reader each time the pending data crosses a multiple of this many bytes (clamped to half the ring;
    /// 0 or 1 = wake on every event); in between, the reader sees data when its poll timeout expires or when it
    /// finds the ring non-empty after a drain. Default 256 KiB.
    pub wakeup_threshold_bytes: usize,
    /// Bytes of I/O data copied into send/recv events (0 = none, at most [`MAX_SNAPLEN`]). Default 80.
    pub snaplen: u32,
    /// Emit procexit events from the sched_process_exit tracepoint. Default on.
    pub process_exit: bool,
}

impl Default for SensorConfig {
    fn default() -> Self {
        SensorConfig {
            ring_buffer_bytes: 16 << 20,
            syscalls: SyscallSet::all(),
            drop_self: true,
            wakeup_threshold_bytes: 256 << 10,
            snaplen: 80,
            process_exit: true,
        }
    }
}

impl SensorConfig {
    fn validate(&self) -> Result<(), SensorError> {
        let page = page_size();
        let rb = self.ring_buffer_bytes;
        if !rb.is_power_of_two() || rb < page || u32::try_from(rb).is_err() {
            return Err(SensorError::Config(format!(
                "ring_buffer_bytes must be a power of two between the page size ({page}) and 2 GiB, got {rb}"
            )));
        }
        if self.snaplen > MAX_SNAPLEN {
            return Err(SensorError::Config(format!(
                "snaplen {} is above the maximum of {MAX_SNAPLEN}",
                self.snaplen
            )));
        }
        Ok(())
    }

    /// The wakeup threshold the kernel side uses: never more than half the ring, so wakeups always happen.
    fn effective_wakeup_threshold(&self) -> u64 {
        self.wakeup_threshold_bytes.min(self.ring_buffer_bytes / 2) as u64
    }
}

/// What one [`Sensor::poll`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PollOutcome {
    /// Events handed to the callback.
    pub events: usize,
    /// A signal interrupted the wait (EINTR): the caller should stop polling.
    pub interrupted: bool,
}

/// Heap slot holding the libbpf object the skeleton borrows. The skeleton API ties the object's lifetime to a
/// caller-owned `MaybeUninit<OpenObject>`; the sensor owns that slot on the heap and frees it after the skeleton.
struct ObjectSlot(NonNull<MaybeUninit<OpenObject>>);

impl ObjectSlot {
    fn new() -> Self {
        ObjectSlot(NonNull::from(Box::leak(Box::new(MaybeUninit::uninit()))))
    }

    /// The slot for the skeleton to live in.
    ///
    /// # Safety
    /// Call at most once, and drop everything borrowing from the returned reference before the slot.
    unsafe fn borrow_for_skeleton(&mut self) -> &'static mut MaybeUninit<OpenObject> {
        // SAFETY: the pointer comes from Box::leak, is unique (this is the only reference ever created), and the
        // caller guarantees the borrow ends before `drop` frees the box.
        unsafe { &mut *self.0.as_ptr() }
    }
}

impl Drop for ObjectSlot {
    fn drop(&mut self) {
        // SAFETY: the box was leaked in `new`; the skeleton that borrowed it has been dropped (field order in
        // `Sensor`, variable order in `Sensor::start`), and the skeleton already closed the object it held.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

/// The live eBPF sensor: kernel programs attached, events read from the ring buffer by [`Sensor::poll`].
///
/// Dropping it (or calling [`Sensor::stop`]) detaches every program and frees the maps.
pub struct Sensor {
    // Field order is drop order: the ring mapping, then the skeleton (links, maps, object), then its slot.
    reader: RingReader,
    skel: SensorSkel<'static>,
    _slot: ObjectSlot,
    ring_bytes: usize,
    delivered: u64,
    malformed_records: u64,
}

// SAFETY: the skeleton is Send (libbpf objects are not tied to a thread); the slot pointer is owned exclusively.
unsafe impl Send for Sensor {}

impl std::fmt::Debug for Sensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sensor")
            .field("ring_bytes", &self.ring_bytes)
            .field("delivered", &self.delivered)
            .finish_non_exhaustive()
    }
}

impl Sensor {
    /// Checks kernel version, BTF and the capabilities of this process.
    pub fn probe() -> Result<ProbeReport, SensorError> {
        probe()
    }

    /// Loads, configures and attaches the kernel programs.
    pub fn start(config: SensorConfig) -> Result<Sensor, SensorError> {
        config.validate()?;
        probe()?.require_ready()?;
        route_libbpf_logs();

        let mut slot = ObjectSlot::new();
        // SAFETY: called once; `skel` (and `open`) are dropped before `slot` on every path: they are declared
        // after it here and stored before it in `Sensor`.
        let storage = unsafe { slot.borrow_for_skeleton() };
        let mut open = SensorSkelBuilder::default()
            .open(storage)
            .map_err(SensorError::bpf("open"))?;

        let ncpus = libbpf_rs::num_possible_cpus().map_err(SensorError::bpf("counting CPUs"))?;
        open.maps
            .events
            .set_max_entries(config.ring_buffer_bytes as u32)
            .map_err(SensorError::bpf("sizing the ring buffer"))?;
        open.maps
            .auxmaps
            .set_max_entries(u32::try_from(ncpus).map_err(|_| SensorError::Config(format!("{ncpus} CPUs")))?)
            .map_err(SensorError::bpf("sizing the per-CPU buffers"))?;
        configure_rodata(&mut open, &config)?;
        for mut prog in open.open_object_mut().progs_mut() {
            let attach = ATTACHED_PROGRAMS.iter().any(|p| prog.name() == *p);
            prog.set_autoattach(attach);
        }

        let mut skel = open
            .load()
            .map_err(SensorError::bpf("load (see libbpf log for the verifier output)"))?;
        write_filter(&skel, &config.syscalls)?;
        skel.attach().map_err(SensorError::bpf("attach"))?;
        let reader = RingReader::new(skel.maps.events.as_fd(), config.ring_buffer_bytes as u64)
            .map_err(SensorError::io("mapping the ring buffer"))?;
        tracing::info!(
            ring_bytes = config.ring_buffer_bytes,
            syscalls = config.syscalls.len(),
            cpus = ncpus,
            "eBPF sensor attached"
        );
        Ok(Sensor {
            reader,
            skel,
            _slot: slot,
            ring_bytes: config.ring_buffer_bytes,
            delivered: 0,
            malformed_records: 0,
        })
    }

    /// Waits up to `timeout` for events and hands each one to `on_event` as `(cpu, scap event bytes)`, the event in
    /// the V2 layout ([`mamoru_event::RawEvent::parse`] reads it). Everything already in the ring is delivered
    /// even when the wait times out. Call from one thread; the slices are only valid during the callback.
    pub fn poll<F: FnMut(u16, &[u8])>(
        &mut self,
        timeout: Duration,
        mut on_event: F,
    ) -> Result<PollOutcome, SensorError> {
        let mut events = 0usize;
        let mut malformed = 0u64;
        let drained = self
            .reader
            .poll(timeout, |record| match split_record(record) {
                Some((cpu, event)) => {
                    events += 1;
                    on_event(cpu, event);
                }
                None => malformed += 1,
            })
            .map_err(SensorError::io("waiting on the ring buffer"))?;
        if malformed > 0 {
            tracing::warn!(malformed, "skipped malformed ring-buffer records");
        }
        self.delivered += events as u64;
        self.malformed_records += malformed;
        Ok(PollOutcome {
            events,
            interrupted: drained.interrupted,
        })
    }

    /// Replaces the set of reported syscalls; takes effect for the next syscall exit on every CPU.
    pub fn set_syscalls(&mut self, syscalls: &SyscallSet) -> Result<(), SensorError> {
        write_filter(&self.skel, syscalls)
    }

    /// Reads the kernel counters (per CPU and total) and the reader's own counts.
    pub fn stats(&self) -> Result<SensorStats, SensorError> {
        let key = 0u32.to_ne_bytes();
        let values = self
            .skel
            .maps
            .counters
            .lookup_percpu(&key, MapFlags::ANY)
            .map_err(SensorError::bpf("reading counters"))?
            .unwrap_or_default();
        let per_cpu = values
            .iter()
            .enumerate()
            .map(|(cpu, raw)| CpuStats {
                cpu: cpu as u16,
                counters: Counters::from_map_value(raw).unwrap_or_default(),
            })
            .collect();
        let mut stats = SensorStats::from_per_cpu(per_cpu);
        stats.delivered = self.delivered;
        stats.malformed_records = self.malformed_records;
        stats.pending_bytes = self.reader.pending_bytes();
        Ok(stats)
    }

    /// The ring buffer size in bytes.
    pub fn ring_buffer_bytes(&self) -> usize {
        self.ring_bytes
    }

    /// Detaches the programs and frees the kernel objects (the same as dropping the sensor).
    pub fn stop(self) {
        tracing::info!(delivered = self.delivered, "eBPF sensor detached");
    }
}

/// Splits a ring-buffer record into the CPU id and the scap event, checking that the event's own length field
/// covers exactly the rest of the record.
pub(crate) fn split_record(record: &[u8]) -> Option<(u16, &[u8])> {
    if record.len() < RECORD_PREFIX_LEN + HEADER_LEN_V2 {
        return None;
    }
    let cpu = u16::from_le_bytes([record[0], record[1]]);
    let event = &record[RECORD_PREFIX_LEN..];
    let len = u32::from_le_bytes([event[16], event[17], event[18], event[19]]) as usize;
    (len == event.len()).then_some((cpu, event))
}

fn configure_rodata(open: &mut crate::skel::OpenSensorSkel<'static>, config: &SensorConfig) -> Result<(), SensorError> {
    let rodata = open
        .maps
        .rodata_data
        .as_deref_mut()
        .ok_or_else(|| SensorError::Unsupported("the BPF object has no .rodata section".to_string()))?;
    rodata.self_tgid = if config.drop_self { std::process::id() } else { 0 };
    rodata.wakeup_threshold = config.effective_wakeup_threshold();
    rodata.boot_time_ns = boot_time_ns()?;
    rodata.snaplen = config.snaplen;
    rodata.procexit_enabled = u8::from(config.process_exit);
    for sc in syscalls() {
        if let Some(slot) = rodata.ppm_sc_of_nr.get_mut(sc.nr as usize) {
            *slot = sc.ppm_sc;
        }
    }
    for nr in handled_numbers() {
        if let Some(slot) = rodata.handled_nr.get_mut(nr as usize) {
            *slot = 1;
        }
    }
    Ok(())
}

fn write_filter(skel: &SensorSkel<'static>, set: &SyscallSet) -> Result<(), SensorError> {
    let bytes = set.as_bytes();
    for (nr, on) in bytes.iter().enumerate().take(MAX_SYSCALLS) {
        skel.maps
            .interesting_syscalls
            .update(&(nr as u32).to_ne_bytes(), &[*on], MapFlags::ANY)
            .map_err(SensorError::bpf("updating the syscall filter"))?;
    }
    Ok(())
}

/// Offset from CLOCK_BOOTTIME to CLOCK_REALTIME, so boot-relative kernel timestamps become epoch nanoseconds.
fn boot_time_ns() -> Result<u64, SensorError> {
    let read = |clock| {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes one timespec into the valid pointer.
        if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
            return Err(SensorError::Io {
                what: "clock_gettime".to_string(),
                source: std::io::Error::last_os_error(),
            });
        }
        Ok(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
    };
    let real = read(libc::CLOCK_REALTIME)?;
    let boot = read(libc::CLOCK_BOOTTIME)?;
    Ok(real.saturating_sub(boot))
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(p).unwrap_or(4096)
}

/// Sends libbpf's own messages (including verifier logs on load failures) to `tracing`.
fn route_libbpf_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        libbpf_rs::set_print(Some((PrintLevel::Debug, log_libbpf)));
    });
}

fn log_libbpf(level: PrintLevel, msg: String) {
    let msg = msg.trim_end();
    // The kernel refuses BTF value types on program-array maps; libbpf retries without BTF and succeeds, so
    // that notice is not a warning for us.
    let level = if msg.contains("Retrying without BTF") {
        PrintLevel::Debug
    } else {
        level
    };
    match level {
        PrintLevel::Warn => tracing::warn!(target: "libbpf", "{msg}"),
        PrintLevel::Info => tracing::info!(target: "libbpf", "{msg}"),
        PrintLevel::Debug => tracing::debug!(target: "libbpf", "{msg}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamoru_event::EventBuilder;

    #[test]
    fn records_split_into_cpu_and_event() {
        let event = EventBuilder::new(1, 10, 20).u16(3).u16(0).finish();
        let mut record = vec![7, 0, 0, 0];
        record.extend_from_slice(&event);
        let (cpu, ev) = split_record(&record).expect("valid record");
        assert_eq!(cpu, 7);
        assert_eq!(ev, &event[..]);
        // A length field that does not match the record is rejected.
        record.push(0);
        assert!(split_record(&record).is_none());
        assert!(split_record(&[0u8; 10]).is_none());
    }

    #[test]
    fn config_is_validated() {
        let mut c = SensorConfig::default();
        assert!(c.validate().is_ok());
        c.ring_buffer_bytes = 3 << 20;
        assert!(c.validate().is_err());
        c.ring_buffer_bytes = 1024;
        assert!(c.validate().is_err());
        c.ring_buffer_bytes = page_size();
        assert!(c.validate().is_ok());
        assert_eq!(c.effective_wakeup_threshold(), (page_size() / 2) as u64);
        c.snaplen = MAX_SNAPLEN + 1;
        assert!(c.validate().is_err());
    }
}
