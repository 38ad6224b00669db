/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Maps, configuration and the event writer shared by every program.
 *
 * Events are variable-length, and bpf_ringbuf_reserve() needs the size up front, so each event is laid out in a
 * per-CPU scratch buffer (the "aux" map) and copied into the ring buffer with bpf_ringbuf_output() once its exact
 * length is known. A ring-buffer record is a 4-byte prefix (u16 CPU id, u16 reserved = 0) followed by one scap
 * event in the V2 layout: 26-byte header (ts u64, tid u64, len u32, type u16, nparams u32), nparams u16 lengths,
 * then the parameter bytes.
 */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "ppme.h"
#include "nr_x86_64.h"
#include "ppm.h"

#define MAX_SYSCALLS 512
#define REC_PREFIX 4
#define SCAP_HDR_LEN 26
#define HDR_OFF REC_PREFIX
/* Largest record; the aux buffer is twice as large so that every write at SAFE(pos) with a length of at most
 * MAX_EVENT_SIZE stays inside it, which is what lets the verifier accept variable offsets. An event that grows
 * past MAX_EVENT_SIZE wraps onto itself and is dropped (and counted) at submit time. */
#define MAX_EVENT_SIZE (64 * 1024)
#define AUX_DATA_SIZE (2 * MAX_EVENT_SIZE)
#define SAFE(x) ((x) & (MAX_EVENT_SIZE - 1))

#define MAX_STR 4096 /* one path, one argv/env area */
#define MAX_NAME 256 /* one path component (NAME_MAX + 1) */
#define MAX_PATH_COMPONENTS 32 /* power of two: indexes are masked */
#define MAX_ARGV_PTRS 64
#define COMM_LEN 16

/* ---- configuration, written by user space before load ---- */
const volatile __u32 self_tgid = 0;	      /* 0: do not drop the sensor's own events */
const volatile __u64 wakeup_threshold = 256 * 1024; /* force a reader wakeup past this many pending bytes */
const volatile __u64 boot_time_ns = 0;	      /* realtime - boottime, to turn boot ns into epoch ns */
const volatile __u32 snaplen = 80;	      /* bytes of I/O data copied into send/recv events */
const volatile __u8 procexit_enabled = 1;
const volatile __u16 ppm_sc_of_nr[MAX_SYSCALLS] = {}; /* native nr -> ppm_sc code, for PPME_GENERIC_X */

/* ---- maps ---- */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024); /* resized by user space */
} events SEC(".maps");

/* Indexed by native syscall number: 0 = do not report, FILTER_REPORT = report every call, FILTER_STATE_ONLY =
 * only the user-space state engine needs the call (no loaded rule does), so calls that provably change nothing in
 * its state may be left out (see state_learns_nothing in sensor.bpf.c). Updated live by user space. */
#define FILTER_REPORT 1
#define FILTER_STATE_ONLY 2
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_SYSCALLS);
	__type(key, __u32);
	__type(value, __u8);
} interesting_syscalls SEC(".maps");

struct aux {
	__u8 data[AUX_DATA_SIZE];
	__u64 pos;	/* next free payload byte */
	__u64 lens_pos; /* next free slot of the length array */
	__u32 nparams;
	__u32 pushed;
};

/* One aux buffer per CPU. An ARRAY indexed by CPU id rather than a PERCPU_ARRAY, whose values are capped at
 * 32 KiB. Programs run with migration disabled, so the CPU id is stable for the whole event. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set to the number of possible CPUs by user space */
	__type(key, __u32);
	__type(value, struct aux);
} auxmaps SEC(".maps");

struct counters {
	__u64 emitted;
	__u64 drops_ring_full;
	__u64 drops_too_large;
	__u64 drops_no_buffer;
	__u64 drops_malformed;
	__u64 read_failures;
	__u64 tail_call_failures;
	__u64 filtered;		  /* syscall exits no loaded rule nor the state engine needs */
	__u64 filtered_state_only; /* state-only send/recv calls that would teach user space nothing */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counters);
} counters SEC(".maps");

/* Small per-CPU scratch space for path components, kept off the 512-byte stack. */
struct scratch {
	const unsigned char *names[MAX_PATH_COMPONENTS];
	__u64 argv[MAX_ARGV_PTRS];
	__u8 sockaddr[128];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

static __always_inline struct counters *counters_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&counters, &zero);
}

static __always_inline struct scratch *scratch_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch_map, &zero);
}

static __always_inline void count_read_failure(void)
{
	struct counters *c = counters_get();
	if (c)
		c->read_failures++;
}

static __always_inline struct aux *aux_get(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	return bpf_map_lookup_elem(&auxmaps, &cpu);
}

/* ---- event writer ---- */

/* Starts an event of `type` with `nparams` parameters (the event table's count, from ppme.h). */
static __always_inline struct aux *ev_begin(__u16 type, __u32 nparams)
{
	struct aux *a = aux_get();
	if (!a) {
		struct counters *c = counters_get();
		if (c)
			c->drops_no_buffer++;
		return NULL;
	}
	*(__u16 *)&a->data[0] = (__u16)bpf_get_smp_processor_id();
	*(__u16 *)&a->data[2] = 0;
	*(__u64 *)&a->data[HDR_OFF + 0] = boot_time_ns + bpf_ktime_get_boot_ns();
	*(__u64 *)&a->data[HDR_OFF + 8] = (__u32)bpf_get_current_pid_tgid();
	*(__u32 *)&a->data[HDR_OFF + 16] = 0;
	*(__u16 *)&a->data[HDR_OFF + 20] = type;
	*(__u32 *)&a->data[HDR_OFF + 22] = nparams;
	a->lens_pos = HDR_OFF + SCAP_HDR_LEN;
	a->pos = HDR_OFF + SCAP_HDR_LEN + (__u64)nparams * 2;
	a->nparams = nparams;
	a->pushed = 0;
	return a;
}

static __always_inline void push_len(struct aux *a, __u64 len)
{
	*(__u16 *)&a->data[SAFE(a->lens_pos)] = (__u16)len;
	a->lens_pos += 2;
	a->pushed++;
}

/* Raw writes: part of a parameter, the caller pushes the length. */
#define DEFINE_PUT(name, T)                                      \
	static __always_inline void name(struct aux *a, T v)     \
	{                                                        \
		*(T *)&a->data[SAFE(a->pos)] = v;                \
		a->pos += sizeof(T);                             \
	}
DEFINE_PUT(put_u8, __u8)
DEFINE_PUT(put_u16, __u16)
DEFINE_PUT(put_u32, __u32)
DEFINE_PUT(put_u64, __u64)

/* Whole fixed-size parameters. */
#define DEFINE_PUSH(name, T)                                     \
	static __always_inline void name(struct aux *a, T v)     \
	{                                                        \
		*(T *)&a->data[SAFE(a->pos)] = v;                \
		a->pos += sizeof(T);                             \
		push_len(a, sizeof(T));                          \
	}
DEFINE_PUSH(push_u8, __u8)
DEFINE_PUSH(push_u16, __u16)
DEFINE_PUSH(push_u32, __u32)
DEFINE_PUSH(push_u64, __u64)
DEFINE_PUSH(push_s64, __s64)

static __always_inline void push_empty(struct aux *a)
{
	push_len(a, 0);
}

/* Reads a NUL-terminated string into the event; an unreadable non-NULL pointer counts as a read failure and
 * gives an empty parameter (the drivers' "no value"). Returns the bytes written, NUL included. */
static __always_inline __u64 put_str(struct aux *a, const void *ptr, __u32 max, bool user)
{
	long n;
	if (!ptr)
		return 0;
	if (user)
		n = bpf_probe_read_user_str(&a->data[SAFE(a->pos)], max, ptr);
	else
		n = bpf_probe_read_kernel_str(&a->data[SAFE(a->pos)], max, ptr);
	if (n <= 0) {
		count_read_failure();
		return 0;
	}
	a->pos += n;
	return n;
}

static __always_inline __u64 push_str(struct aux *a, const void *ptr, __u32 max, bool user)
{
	__u64 n = put_str(a, ptr, max, user);
	push_len(a, n);
	return n;
}

#define push_user_str(a, ptr) push_str(a, (const void *)(ptr), MAX_STR, true)

static __always_inline __u64 put_bytes(struct aux *a, const void *ptr, __u64 len, __u32 max, bool user)
{
	long err;
	if (!ptr || len == 0)
		return 0;
	if (len > max)
		len = max;
	/* Re-bound for the verifier (max is at most MAX_STR, so the mask never changes the value). */
	len &= (MAX_EVENT_SIZE - 1);
	if (user)
		err = bpf_probe_read_user(&a->data[SAFE(a->pos)], len, ptr);
	else
		err = bpf_probe_read_kernel(&a->data[SAFE(a->pos)], len, ptr);
	if (err) {
		count_read_failure();
		return 0;
	}
	a->pos += len;
	return len;
}

static __always_inline __u64 push_bytes(struct aux *a, const void *ptr, __u64 len, __u32 max, bool user)
{
	__u64 n = put_bytes(a, ptr, len, max, user);
	push_len(a, n);
	return n;
}

/* Batched wakeups. A forced wakeup is an irq_work, raised with a self-IPI: in a virtual machine that is an APIC
 * write that exits to the hypervisor, several times the cost of the event itself. So the reader is woken only when
 * the pending data crosses a multiple of wakeup_threshold, not for every event while it is above the threshold
 * (a reader that is busy with a backlog would otherwise make every producer pay the IPI). Why no wakeup is lost:
 * the reader only sleeps after it found the ring empty, and from empty the pending data must cross the threshold
 * again to reach it; two CPUs racing on the same crossing can both miss it, but then the next multiple fires, and
 * the reader's poll timeout bounds the delay in any case. Returns the flags for the record of `size` bytes about to
 * be committed. */
static __always_inline __u64 wakeup_flags(__u64 size)
{
	if (wakeup_threshold <= 1)
		return BPF_RB_FORCE_WAKEUP;
	__u64 before = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 after = before + size + 8; /* 8: the ring's record header */
	return after / wakeup_threshold != before / wakeup_threshold ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* Finishes the event and copies it into the ring buffer, deciding whether to wake the reader. */
static __always_inline bool ev_submit(struct aux *a)
{
	struct counters *c = counters_get();
	if (!c)
		return false;
	if (a->pushed != a->nparams) {
		/* A handler disagrees with the event table: never emit a record the reader cannot parse. */
		c->drops_malformed++;
		return false;
	}
	__u64 size = a->pos;
	if (size > MAX_EVENT_SIZE) {
		c->drops_too_large++;
		return false;
	}
	*(__u32 *)&a->data[HDR_OFF + 16] = (__u32)(size - REC_PREFIX);
	if (bpf_ringbuf_output(&events, a->data, size, wakeup_flags(size))) {
		c->drops_ring_full++;
		return false;
	}
	c->emitted++;
	return true;
}

/* ---- syscall arguments (x86_64 calling convention) ----
 * `regs` is the tracepoint's BTF-typed argument, so fields are read with direct (fault-safe) loads rather than a
 * bpf_probe_read_kernel() helper call each: this is on the path of every reported syscall. */
static __always_inline unsigned long sys_arg(struct pt_regs *regs, int idx)
{
	switch (idx) {
	case 0:
		return regs->di;
	case 1:
		return regs->si;
	case 2:
		return regs->dx;
	case 3:
		return regs->r10;
	case 4:
		return regs->r8;
	case 5:
		return regs->r9;
	default:
		return 0;
	}
}

static __always_inline struct task_struct *current_task(void)
{
	return (struct task_struct *)bpf_get_current_task_btf();
}
