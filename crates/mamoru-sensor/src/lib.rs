//! The live eBPF syscall sensor of mamoru.
//!
//! The kernel side (`bpf/*.bpf.c`, C compiled with clang against a `vmlinux.h` generated from the running
//! kernel's BTF, CO-RE so one object loads on other kernels) hangs a dispatcher on the `sys_exit` raw tracepoint
//! (`tp_btf`). It drops syscalls the per-number filter map leaves out, the sensor's own process and 32-bit compat
//! calls, then tail-calls a handler per syscall that lays out one scap exit event of the newest version, with
//! every parameter of the event table and flags already translated to the scap (PPM) encodings, in a per-CPU
//! scratch buffer; the finished event is copied into one BPF ring buffer with its exact length, waking the reader
//! only once a configurable amount of data is pending. Syscalls without a handler produce `PPME_GENERIC_X`; the
//! `sched_process_exit` tracepoint produces procexit. Each record is a 4-byte prefix (CPU id) plus the scap event,
//! so the user side ([`Sensor`]) maps the ring and hands `(cpu, event bytes)` to a callback on one reader thread
//! without copying; [`mamoru_event::RawEvent::parse`] decodes them. Per-CPU counters report emitted and dropped
//! events by reason ([`SensorStats`]).

mod error;
mod probe;
mod ringbuf;
mod sensor;
mod stats;
mod syscalls;

#[allow(
    clippy::all,
    clippy::pedantic,
    dead_code,
    unused_imports,
    unused_qualifications,
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    missing_docs,
    unsafe_op_in_unsafe_fn
)]
mod skel {
    include!(concat!(env!("OUT_DIR"), "/sensor.skel.rs"));
}

pub use error::SensorError;
pub use probe::{ProbeReport, KERNEL_BTF_PATH, MIN_KERNEL};
pub use sensor::{PollOutcome, Sensor, SensorConfig, MAX_SNAPLEN, RECORD_PREFIX_LEN};
pub use stats::{Counters, CpuStats, SensorStats};
pub use syscalls::{handler_event, syscall_by_name, syscall_by_nr, syscalls, SyscallInfo, SyscallSet, MAX_SYSCALLS};
