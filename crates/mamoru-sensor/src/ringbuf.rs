//! A consumer for the kernel's BPF ring buffer, reading records in place from the shared mapping.
//!
//! libbpf's ring-buffer API takes one callback at construction time; the sensor wants to hand each poll's records
//! to a caller-provided closure without copying them, so it maps the ring itself. Layout (kernel
//! `kernel/bpf/ringbuf.c`): page 0 holds the consumer position (read-write), page 1 the producer position
//! (read-only), then the data area mapped twice back to back, so a record that wraps around the end is still
//! contiguous in memory. Each record starts with an 8-byte header whose first word is the length plus a busy bit
//! (still being written) and a discard bit; records are 8-byte aligned.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

const BUSY_BIT: u32 = 1 << 31;
const DISCARD_BIT: u32 = 1 << 30;
const RECORD_HEADER: u64 = 8;

/// What one wait-and-drain round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Drained {
    /// Records handed to the callback.
    pub records: usize,
    /// The wait was interrupted by a signal (EINTR); the caller should treat this as a request to stop.
    pub interrupted: bool,
}

/// The mapped ring. Owns both mappings; the map's file descriptor must outlive it (the sensor guarantees this by
/// dropping the reader before the BPF object).
pub(crate) struct RingReader {
    fd: RawFd,
    consumer: NonNull<u8>,
    producer: NonNull<u8>,
    page: usize,
    size: u64,
}

// SAFETY: the mappings are plain shared memory owned by this value; nothing in it is tied to a thread.
unsafe impl Send for RingReader {}

impl RingReader {
    /// Maps the ring buffer map `fd` whose data area is `size` bytes (its max_entries, a power of two).
    pub(crate) fn new(fd: BorrowedFd<'_>, size: u64) -> io::Result<Self> {
        if size == 0 || !size.is_power_of_two() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "ring size must be a power of two",
            ));
        }
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let page = usize::try_from(page).map_err(|_| io::Error::last_os_error())?;
        let raw = fd.as_raw_fd();
        // SAFETY: mapping a BPF ring buffer map fd as the kernel documents it: one read-write consumer page at
        // offset 0. The result is checked against MAP_FAILED.
        let consumer = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                raw,
                0,
            )
        };
        if consumer == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let data_len = page + 2 * size as usize;
        // SAFETY: the producer page plus the double-mapped data area, read-only, at offset one page.
        let producer = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                data_len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                raw,
                page as libc::off_t,
            )
        };
        if producer == libc::MAP_FAILED {
            let err = io::Error::last_os_error();
            // SAFETY: unmapping the consumer page mapped just above.
            unsafe { libc::munmap(consumer, page) };
            return Err(err);
        }
        let (Some(consumer), Some(producer)) = (NonNull::new(consumer.cast()), NonNull::new(producer.cast())) else {
            return Err(io::Error::other("mmap returned a null mapping"));
        };
        Ok(RingReader {
            fd: raw,
            consumer,
            producer,
            page,
            size,
        })
    }

    fn consumer_pos(&self) -> &AtomicU64 {
        // SAFETY: the consumer position is the first, 8-byte aligned word of the page-aligned consumer page,
        // which lives as long as `self`; the kernel reads it concurrently, hence the atomic.
        unsafe { &*self.consumer.as_ptr().cast::<AtomicU64>() }
    }

    fn producer_pos(&self) -> &AtomicU64 {
        // SAFETY: as above, first word of the producer page, written by the kernel.
        unsafe { &*self.producer.as_ptr().cast::<AtomicU64>() }
    }

    fn data(&self) -> *const u8 {
        // SAFETY: the data area starts one page into the producer mapping, which is `page + 2 * size` long.
        unsafe { self.producer.as_ptr().add(self.page) }
    }

    /// Bytes written by the kernel and not consumed yet.
    pub(crate) fn pending_bytes(&self) -> u64 {
        let prod = self.producer_pos().load(Ordering::Acquire);
        let cons = self.consumer_pos().load(Ordering::Relaxed);
        prod.saturating_sub(cons)
    }

    /// Waits up to `timeout` for the kernel to signal data, then hands every complete record to `on_record`.
    /// Records are drained even when the wait timed out, because the kernel side batches wakeups.
    pub(crate) fn poll<F: FnMut(&[u8])>(&mut self, timeout: Duration, on_record: F) -> io::Result<Drained> {
        let mut interrupted = false;
        if self.pending_bytes() == 0 {
            let mut pfd = libc::pollfd {
                fd: self.fd,
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
            // SAFETY: one valid pollfd for the duration of the call.
            let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
            if rc < 0 {
                let err = io::Error::last_os_error();
                if err.kind() != io::ErrorKind::Interrupted {
                    return Err(err);
                }
                interrupted = true;
            }
        }
        let records = self.drain(on_record);
        Ok(Drained { records, interrupted })
    }

    /// Consumes every complete record now in the ring.
    pub(crate) fn drain<F: FnMut(&[u8])>(&mut self, mut on_record: F) -> usize {
        let mask = self.size - 1;
        let mut cons = self.consumer_pos().load(Ordering::Relaxed);
        let mut count = 0;
        loop {
            let prod = self.producer_pos().load(Ordering::Acquire);
            if cons >= prod {
                break;
            }
            let at = (cons & mask) as usize;
            // SAFETY: `at + 8` is inside the double-mapped data area (at < size); the header word is 8-byte
            // aligned (records are) and written by the kernel concurrently, hence the atomic acquire load that
            // also orders the record body after it.
            let len_word = unsafe { (*self.data().add(at).cast::<AtomicU32>()).load(Ordering::Acquire) };
            if len_word & BUSY_BIT != 0 {
                break; // being written: later records must wait for it
            }
            let len = u64::from(len_word & !(BUSY_BIT | DISCARD_BIT));
            if len_word & DISCARD_BIT == 0 {
                // SAFETY: the kernel never commits a record longer than the ring, and the data area is mapped
                // twice, so `at + 8 + len <= 2 * size` stays inside the mapping. The bytes are committed (busy bit
                // clear) and the kernel does not touch them until the consumer position moves past them.
                let record =
                    unsafe { std::slice::from_raw_parts(self.data().add(at + RECORD_HEADER as usize), len as usize) };
                on_record(record);
                count += 1;
            }
            cons += (len + RECORD_HEADER + 7) & !7;
            // Release each record as soon as it is consumed so the producer regains space early.
            self.consumer_pos().store(cons, Ordering::Release);
        }
        count
    }
}

impl Drop for RingReader {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the two mappings created in `new`; no reference into them outlives `self`
        // (records are only lent to callbacks during `drain`).
        unsafe {
            libc::munmap(self.consumer.as_ptr().cast(), self.page);
            libc::munmap(self.producer.as_ptr().cast(), self.page + 2 * self.size as usize);
        }
    }
}
