// SPDX-License-Identifier: GPL-2.0
/* Drift control in the kernel: classify every exec of a task whose root filesystem is a registered container rootfs
 * (overlay upper layer? memfd? allow-listed?), decide with drift_decide.h, report alerts and blocks on a ring buffer.
 *
 * Two programs share the logic; user space loads exactly one:
 *  - lsm/bprm_check_security: denies the exec with EPERM before the new image is loaded (needs BPF LSM and
 *    trampoline programs: refused on kernels that block them, which the startup probe reports).
 *  - tp_btf/sched_process_exec: the exec already replaced the image but has not returned to user space;
 *    bpf_send_signal(SIGKILL) makes the task die before the first instruction of the new binary runs. This is used
 *    instead of sys_enter because only here is the executable resolved (a sys_enter program sees a user path string,
 *    not the file: it can tell neither the overlay layer nor a memfd behind /proc/self/fd/N or execveat(AT_EMPTY_PATH)).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "drift_decide.h"

char LICENSE[] SEC("license") = "GPL";

#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#define SIGKILL 9
#define EPERM 1
#define NAME_LEN 64
#define FILENAME_LEN 256

#define MECH_LSM 1
#define MECH_KILL 2

#define STAT_IN_SCOPE 0
#define STAT_ALERTED 1
#define STAT_BLOCKED 2
#define STAT_RING_FULL 3
#define STAT_SIGNAL_FAILED 4
#define STAT_MAX 5

struct drift_event {
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u64 cgroup_id;
	__u32 root_dev;
	__u32 exe_dev;
	__u64 exe_ino;
	__u32 facts;
	__u32 verdict;
	__u32 mechanism;
	__s32 action_rc;
	char comm[16];
	char name[NAME_LEN];
	char filename[FILENAME_LEN];
};

struct exe_key {
	__u32 dev;
	__u32 pad;
	__u64 ino;
};

/* Kernel dev_t of a container's root filesystem (its overlay superblock) -> DRIFT_POLICY_* bits. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} drift_scope SEC(".maps");

/* Allow-listed executables by (kernel dev_t, inode). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct exe_key);
	__type(value, __u8);
} drift_allowed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} drift_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drift_stats SEC(".maps");

static __always_inline void bump(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&drift_stats, &idx);
	if (v)
		(*v)++;
}

static __always_inline int name_is_memfd(const char *name)
{
	return name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' && name[4] == 'd' && name[5] == ':';
}

/* The upper dentry pointer follows the embedded vfs inode inside struct ovl_inode (fs/overlayfs/ovl_entry.h); a
 * dentry with an inode there means the file lives in, or was copied up to, the upper (container-writable) layer. */
static __always_inline int on_upper_layer(struct dentry *dentry)
{
	if (BPF_CORE_READ(dentry, d_sb, s_magic) != OVERLAYFS_SUPER_MAGIC)
		return 0;
	char *inode = (char *)BPF_CORE_READ(dentry, d_inode);
	struct dentry *upper = NULL;
	bpf_probe_read_kernel(&upper, sizeof(upper), inode + bpf_core_type_size(struct inode));
	return upper && BPF_CORE_READ(upper, d_inode) != NULL;
}

/* Classifies and decides one exec; reports alerts and blocks. Returns the DRIFT_* verdict. */
static __always_inline __u32 drift_check(struct linux_binprm *bprm, __u32 mechanism)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 root_dev = BPF_CORE_READ(task, fs, root.mnt, mnt_sb, s_dev);
	__u32 *policy = bpf_map_lookup_elem(&drift_scope, &root_dev);
	if (!policy)
		return DRIFT_ALLOW;
	bump(STAT_IN_SCOPE);

	struct file *file = BPF_CORE_READ(bprm, file);
	struct dentry *dentry = BPF_CORE_READ(file, f_path.dentry);
	char name[NAME_LEN] = {};
	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(dentry, d_name.name));

	struct exe_key key = {
		.dev = BPF_CORE_READ(dentry, d_sb, s_dev),
		.ino = BPF_CORE_READ(dentry, d_inode, i_ino),
	};
	__u32 facts = DRIFT_FACT_IN_SCOPE;
	if (on_upper_layer(dentry))
		facts |= DRIFT_FACT_UPPER;
	if (name_is_memfd(name))
		facts |= DRIFT_FACT_MEMFD;
	if (bpf_map_lookup_elem(&drift_allowed, &key))
		facts |= DRIFT_FACT_ALLOWED;

	__u32 verdict = drift_decide(facts, *policy);
	if (verdict == DRIFT_ALLOW)
		return verdict;

	__s32 action_rc = 0;
	if (verdict == DRIFT_BLOCK && mechanism == MECH_KILL) {
		action_rc = bpf_send_signal(SIGKILL);
		if (action_rc)
			bump(STAT_SIGNAL_FAILED);
	}
	bump(verdict == DRIFT_BLOCK ? STAT_BLOCKED : STAT_ALERTED);

	struct drift_event *e = bpf_ringbuf_reserve(&drift_events, sizeof(*e), 0);
	if (!e) {
		bump(STAT_RING_FULL);
		return verdict;
	}
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->root_dev = root_dev;
	e->exe_dev = key.dev;
	e->exe_ino = key.ino;
	e->facts = facts;
	e->verdict = verdict;
	e->mechanism = mechanism;
	e->action_rc = action_rc;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	__builtin_memcpy(e->name, name, sizeof(e->name));
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	bpf_ringbuf_submit(e, 0);
	return verdict;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(drift_lsm_check, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return ret;
	return drift_check(bprm, MECH_LSM) == DRIFT_BLOCK ? -EPERM : 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(drift_exec_kill, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	drift_check(bprm, MECH_KILL);
	return 0;
}
