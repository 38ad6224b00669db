/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading kernel state: ids, credentials, memory counters, files behind fds, paths, sockets and cgroups.
 * Every read goes through CO-RE (BPF_CORE_READ / bpf_core_field_exists), and fields that were renamed across
 * kernel versions are read through "___flavor" structs, so one object loads on old and new kernels.
 */
#pragma once

#include "common.h"

/* ---- CO-RE flavors for renamed fields ---- */
struct kernfs_node___pre615 {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

struct kernfs_node___615 {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));

struct inode___pre611 {
	struct timespec64 i_ctime;
	struct timespec64 i_mtime;
} __attribute__((preserve_access_index));

struct inode___v66 {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));

struct inode___611 {
	time64_t i_ctime_sec;
	__u32 i_ctime_nsec;
	time64_t i_mtime_sec;
	__u32 i_mtime_nsec;
} __attribute__((preserve_access_index));

struct kernel_cap_struct___pre63 {
	__u32 cap[2];
} __attribute__((preserve_access_index));

struct mm_rss_stat___pre62 {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

/* ---- ids ---- */

/* The id of `pid` as seen from the pid namespace the pid was allocated in (its deepest level). */
static __always_inline __s64 pid_vnr(struct pid *pid)
{
	if (!pid)
		return 0;
	__u32 level = BPF_CORE_READ(pid, level);
	return BPF_CORE_READ(pid, numbers[level].nr);
}

static __always_inline __s64 pid_nr_global(struct pid *pid)
{
	if (!pid)
		return 0;
	return BPF_CORE_READ(pid, numbers[0].nr);
}

static __always_inline struct pid *task_tgid_pid(struct task_struct *task)
{
	return BPF_CORE_READ(task, signal, pids[PIDTYPE_TGID]);
}

static __always_inline struct pid *task_pgid_pid(struct task_struct *task)
{
	return BPF_CORE_READ(task, signal, pids[PIDTYPE_PGID]);
}

static __always_inline struct pid_namespace *task_pid_ns(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	if (!pid)
		return NULL;
	__u32 level = BPF_CORE_READ(pid, level);
	return BPF_CORE_READ(pid, numbers[level].ns);
}

/* ---- credentials ---- */

static __always_inline __u64 cap_to_u64(struct task_struct *task, int which)
{
	const struct cred *cred = BPF_CORE_READ(task, cred);
	kernel_cap_t cap = {};
	if (which == 0)
		BPF_CORE_READ_INTO(&cap, cred, cap_inheritable);
	else if (which == 1)
		BPF_CORE_READ_INTO(&cap, cred, cap_permitted);
	else
		BPF_CORE_READ_INTO(&cap, cred, cap_effective);
	if (bpf_core_field_exists(struct kernel_cap_struct___pre63, cap)) {
		struct kernel_cap_struct___pre63 *old = (void *)&cap;
		return (((__u64)old->cap[1] << 32) | old->cap[0]) & PPM_CAP_MASK;
	}
	return cap.val & PPM_CAP_MASK;
}

static __always_inline __u32 task_euid(struct task_struct *task)
{
	return BPF_CORE_READ(task, cred, euid.val);
}

static __always_inline __u32 task_egid(struct task_struct *task)
{
	return BPF_CORE_READ(task, cred, egid.val);
}

static __always_inline __u32 task_loginuid(struct task_struct *task)
{
	if (bpf_core_field_exists(task->loginuid))
		return BPF_CORE_READ(task, loginuid.val);
	return (__u32)-1;
}

/* ---- memory counters (KiB, as /proc reports them) ---- */

static __always_inline __s64 rss_counter(struct mm_struct *mm, int idx)
{
	if (bpf_core_field_exists(struct mm_struct___pre62, rss_stat.count)) {
		struct mm_struct___pre62 *old = (void *)mm;
		return BPF_CORE_READ(old, rss_stat.count[idx].counter);
	}
	return BPF_CORE_READ(mm, rss_stat[idx].count);
}

static __always_inline __u32 pages_to_kb(__s64 pages)
{
	return pages > 0 ? (__u32)(pages << 2) : 0; /* 4 KiB pages on x86_64 */
}

/* ---- files ---- */

static __always_inline struct file *fd_to_file(struct task_struct *task, __s64 fd)
{
	if (fd < 0)
		return NULL;
	/* `task` is the BTF-typed current task (tp_btf programs), so the walk to the fd array is done with direct,
	 * fault-safe loads (a NULL `files` of an exiting task reads as 0) instead of one helper call per hop: this
	 * runs for every reported open and socket call. The array slot itself is a pointer to a pointer, which the
	 * verifier does not type, so it is read with one helper call. */
	struct fdtable *fdt = task->files->fdt;
	if (!fdt)
		return NULL;
	if ((__u64)fd >= fdt->max_fds)
		return NULL;
	struct file **fds = fdt->fd;
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline __u64 file_ino(struct file *f)
{
	return f ? BPF_CORE_READ(f, f_inode, i_ino) : 0;
}

static __always_inline __u32 file_dev(struct file *f)
{
	return f ? encode_dev(BPF_CORE_READ(f, f_inode, i_sb, s_dev)) : 0;
}

enum overlay_layer { NOT_OVERLAY = 0, OVERLAY_UPPER = 1, OVERLAY_LOWER = 2 };

/* On overlayfs the upper dentry pointer follows the embedded vfs inode inside struct ovl_inode; a real inode
 * behind it means the file lives in (or was copied up to) the upper layer. */
static __always_inline int file_overlay_layer(struct file *f)
{
	if (!f)
		return NOT_OVERLAY;
	struct dentry *dentry = BPF_CORE_READ(f, f_path.dentry);
	unsigned long magic = BPF_CORE_READ(dentry, d_sb, s_magic);
	if (magic != K_OVERLAYFS_SUPER_MAGIC)
		return NOT_OVERLAY;
	char *inode = (char *)BPF_CORE_READ(dentry, d_inode);
	struct dentry *upper = NULL;
	bpf_probe_read_kernel(&upper, sizeof(upper), inode + bpf_core_type_size(struct inode));
	if (upper && BPF_CORE_READ(upper, d_inode, i_ino) != 0)
		return OVERLAY_UPPER;
	return OVERLAY_LOWER;
}

/* Extra bits of the open flags: created by this call, overlay layer. */
static __always_inline __u32 file_open_extra_flags(struct file *f)
{
	__u32 res = 0;
	if (!f)
		return 0;
	if (BPF_CORE_READ(f, f_mode) & K_FMODE_CREATED)
		res |= PPM_O_F_CREATED;
	int layer = file_overlay_layer(f);
	if (layer == OVERLAY_UPPER)
		res |= PPM_FD_UPPER_LAYER;
	else if (layer == OVERLAY_LOWER)
		res |= PPM_FD_LOWER_LAYER;
	return res;
}

/* A memfd has a pseudo dentry named "memfd:<name>" that is its own parent. */
static __always_inline bool file_is_memfd(struct file *f)
{
	struct dentry *dentry = BPF_CORE_READ(f, f_path.dentry);
	if (!dentry || BPF_CORE_READ(dentry, d_parent) != dentry)
		return false;
	char name[7] = {};
	const unsigned char *p = BPF_CORE_READ(dentry, d_name.name);
	if (bpf_probe_read_kernel_str(name, sizeof(name), p) != sizeof(name))
		return false;
	return name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' && name[4] == 'd' &&
	       name[5] == ':';
}

/* Whether the task may write the executable it runs: read-only mounts and immutable files say no; owner,
 * permission bits (owner/group/other, supplementary groups included) and CAP_DAC_OVERRIDE/CAP_FOWNER say yes.
 * POSIX ACLs and user-namespace id mapping are not evaluated. */
#define MAX_GROUP_SEARCH 16
static __always_inline bool task_can_write_inode(struct task_struct *task, struct inode *inode)
{
	__u16 mode = BPF_CORE_READ(inode, i_mode);
	unsigned long s_flags = BPF_CORE_READ(inode, i_sb, s_flags);
	__u32 i_flags = BPF_CORE_READ(inode, i_flags);
	__u16 fmt = mode & K_S_IFMT;
	if ((s_flags & K_SB_RDONLY) && (fmt == K_S_IFREG || fmt == K_S_IFDIR || fmt == K_S_IFLNK))
		return false;
	if (i_flags & K_S_IMMUTABLE)
		return false;
	__u32 i_uid = BPF_CORE_READ(inode, i_uid.val);
	__u32 i_gid = BPF_CORE_READ(inode, i_gid.val);
	__u32 fsuid = BPF_CORE_READ(task, cred, fsuid.val);
	__u32 fsgid = BPF_CORE_READ(task, cred, fsgid.val);
	if (fsuid == i_uid)
		return true;
	bool in_group = fsgid == i_gid;
	if (!in_group) {
		struct group_info *gi = BPF_CORE_READ(task, cred, group_info);
		if (gi) {
			__u32 left = 0, right = BPF_CORE_READ(gi, ngroups);
			for (int j = 0; j < MAX_GROUP_SEARCH && left < right; j++) {
				__u32 mid = (left + right) / 2;
				__u32 g = BPF_CORE_READ(gi, gid[mid].val);
				if (g == i_gid) {
					in_group = true;
					break;
				}
				if (i_gid > g)
					left = mid + 1;
				else
					right = mid;
			}
		}
	}
	__u16 bits = in_group ? (mode >> 3) : mode;
	if (bits & 0002)
		return true;
	__u64 eff = cap_to_u64(task, 2);
	return (eff & (1ULL << 1)) /* CAP_DAC_OVERRIDE */ || (eff & (1ULL << 3)) /* CAP_FOWNER */;
}

static __always_inline __u64 timespec_ns(time64_t sec, __u64 nsec)
{
	return sec < 0 ? 0 : (__u64)sec * 1000000000ULL + nsec;
}

static __always_inline __u64 inode_ctime_ns(struct inode *inode)
{
	if (bpf_core_field_exists(struct inode___611, i_ctime_sec)) {
		struct inode___611 *i = (void *)inode;
		return timespec_ns(BPF_CORE_READ(i, i_ctime_sec), BPF_CORE_READ(i, i_ctime_nsec));
	}
	if (bpf_core_field_exists(struct inode___v66, __i_ctime)) {
		struct inode___v66 *i = (void *)inode;
		return timespec_ns(BPF_CORE_READ(i, __i_ctime.tv_sec), BPF_CORE_READ(i, __i_ctime.tv_nsec));
	}
	struct inode___pre611 *i = (void *)inode;
	return timespec_ns(BPF_CORE_READ(i, i_ctime.tv_sec), BPF_CORE_READ(i, i_ctime.tv_nsec));
}

static __always_inline __u64 inode_mtime_ns(struct inode *inode)
{
	if (bpf_core_field_exists(struct inode___611, i_mtime_sec)) {
		struct inode___611 *i = (void *)inode;
		return timespec_ns(BPF_CORE_READ(i, i_mtime_sec), BPF_CORE_READ(i, i_mtime_nsec));
	}
	struct inode___pre611 *i = (void *)inode;
	return timespec_ns(BPF_CORE_READ(i, i_mtime.tv_sec), BPF_CORE_READ(i, i_mtime.tv_nsec));
}

/* ---- paths ---- */

static __always_inline struct mount *real_mount(struct vfsmount *vfsmnt)
{
	return (struct mount *)((char *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
}

/* Writes "/" + names[last..0] joined by "/" + NUL from the component slots (NULL slots skipped). */
static __always_inline __u64 put_components(struct aux *a, struct scratch *s)
{
	__u64 start = a->pos;
	put_u8(a, '/');
	for (int k = MAX_PATH_COMPONENTS - 1; k >= 0; k--) {
		const unsigned char *name = s->names[k];
		if (!name)
			continue;
		long r = bpf_probe_read_kernel_str(&a->data[SAFE(a->pos)], MAX_NAME, name);
		if (r > 1) {
			a->pos += r;
			a->data[SAFE(a->pos - 1)] = '/'; /* the component's NUL becomes the separator */
		}
	}
	if (a->pos - start > 1)
		a->data[SAFE(a->pos - 1)] = 0; /* last separator becomes the terminator */
	else
		put_u8(a, 0);
	return a->pos - start;
}

/*
 * Writes the path of `p` (a kernel `struct path *`) as a NUL-terminated string, like d_path(): bpf_d_path() is not
 * available to tracepoint programs, so the dentry chain is walked by hand, crossing mount points, up to the
 * task's root or MAX_PATH_COMPONENTS components (a longer path keeps its last components). A pseudo file that
 * is its own parent (memfd, pipe, socket) gives "/<name>". Returns the bytes written.
 */
static __always_inline __u64 put_dpath(struct aux *a, const struct path *p, struct task_struct *task)
{
	struct scratch *s = scratch_get();
	if (!s || !p)
		return 0;
	struct dentry *dentry = BPF_CORE_READ(p, dentry);
	struct vfsmount *vfsmnt = BPF_CORE_READ(p, mnt);
	if (!dentry || !vfsmnt)
		return 0;
	struct mount *mnt = real_mount(vfsmnt);
	struct dentry *root_dentry = BPF_CORE_READ(task, fs, root.dentry);
	struct vfsmount *root_mnt = BPF_CORE_READ(task, fs, root.mnt);

	/* Component i of the walk (leaf first) goes to names[i]; mount crossings leave a NULL. Indexing by the loop
	 * counter instead of a separate component count keeps the verifier's states identical across branches, so
	 * it can prune them; a separate counter makes the state space explode. */
	__builtin_memset(s->names, 0, sizeof(s->names));
	for (int i = 0; i < MAX_PATH_COMPONENTS; i++) {
		if (dentry == root_dentry && vfsmnt == root_mnt)
			break;
		struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
		if (dentry == mnt_root) {
			struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
			if (mnt_parent == mnt)
				break; /* root of the mount tree */
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mnt_parent;
			vfsmnt = (struct vfsmount *)((char *)mnt + bpf_core_field_offset(struct mount, mnt));
			continue;
		}
		struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
		s->names[i] = BPF_CORE_READ(dentry, d_name.name);
		if (dentry == parent)
			break; /* disconnected pseudo dentry */
		dentry = parent;
	}
	return put_components(a, s);
}

static __always_inline void push_dpath(struct aux *a, const struct path *p, struct task_struct *task)
{
	push_len(a, put_dpath(a, p, task));
}

/* ---- cgroups ---- */

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(struct kernfs_node___615, __parent))
		return BPF_CORE_READ((struct kernfs_node___615 *)kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___pre615 *)kn, parent);
}

#define MAX_CGROUP_DEPTH 16
#define MAX_CGROUP_SUBSYS 16

/* Writes "<subsystem>=<path>\0" for one cgroup subsystem state; nothing when the subsystem is absent. */
static __always_inline void put_cgroup_entry(struct aux *a, struct cgroup_subsys_state *css, struct scratch *s)
{
	if (!css)
		return;
	const char *ss_name = BPF_CORE_READ(css, ss, name);
	struct kernfs_node *kn = BPF_CORE_READ(css, cgroup, kn);
	if (!ss_name || !kn)
		return;
	__builtin_memset(s->names, 0, sizeof(s->names));
	for (int i = 0; i < MAX_CGROUP_DEPTH; i++) {
		struct kernfs_node *parent = kn_parent(kn);
		if (!parent)
			break; /* the hierarchy root has no name in the path */
		s->names[i] = (const unsigned char *)BPF_CORE_READ(kn, name);
		kn = parent;
	}
	long r = bpf_probe_read_kernel_str(&a->data[SAFE(a->pos)], 32, ss_name);
	if (r <= 1)
		return;
	a->pos += r;
	a->data[SAFE(a->pos - 1)] = '=';
	put_components(a, s);
}

/* The `cgroups` parameter: one "<subsystem>=<path>" per mounted subsystem, NUL-separated. */
static __always_inline void push_cgroups(struct aux *a, struct task_struct *task)
{
	struct scratch *s = scratch_get();
	__u64 start = a->pos;
	if (s) {
		struct css_set *cgroups = BPF_CORE_READ(task, cgroups);
#pragma unroll
		for (int i = 0; i < MAX_CGROUP_SUBSYS; i++) {
			if (i < CGROUP_SUBSYS_COUNT)
				put_cgroup_entry(a, BPF_CORE_READ(cgroups, subsys[i]), s);
		}
	}
	push_len(a, a->pos - start);
}

/* ---- process snapshot parameters shared by clone and execve ---- */

/* exe (argv[0]) and args (the rest, NUL-separated) from the task's argument area. */
static __always_inline void push_exe_args_from_mm(struct aux *a, struct task_struct *task)
{
	unsigned long arg_start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long arg_end = BPF_CORE_READ(task, mm, arg_end);
	__u64 exe_len = push_str(a, (const void *)arg_start, MAX_STR, true);
	__u64 total = arg_end > arg_start ? arg_end - arg_start : 0;
	__u64 rest = total > exe_len ? total - exe_len : 0;
	push_bytes(a, (const void *)(arg_start + exe_len), rest, MAX_STR, true);
}

static __always_inline void push_env_from_mm(struct aux *a, struct task_struct *task)
{
	unsigned long env_start = BPF_CORE_READ(task, mm, env_start);
	unsigned long env_end = BPF_CORE_READ(task, mm, env_end);
	push_bytes(a, (const void *)env_start, env_end > env_start ? env_end - env_start : 0, MAX_STR, true);
}

/* Concatenates the strings of a user argv-style array, NUL-separated, starting at element `first`.
 * Returns the bytes written. */
static __always_inline __u64 put_user_strv(struct aux *a, const char *const *argv, int first)
{
	struct scratch *s = scratch_get();
	if (!s || !argv)
		return 0;
	if (bpf_probe_read_user(s->argv, sizeof(s->argv), argv)) {
		/* The array may end close to an unmapped page: fall back to reading one pointer at a time. */
		for (int i = 0; i < MAX_ARGV_PTRS; i++) {
			if (bpf_probe_read_user(&s->argv[i], sizeof(__u64), &argv[i]))
				s->argv[i] = 0;
			if (!s->argv[i])
				break;
		}
	}
	__u64 start = a->pos;
	for (int i = 0; i < MAX_ARGV_PTRS; i++) {
		__u64 ptr = s->argv[i];
		if (!ptr)
			break;
		if (i < first)
			continue;
		if (a->pos - start >= MAX_STR)
			break;
		long r = bpf_probe_read_user_str(&a->data[SAFE(a->pos)], MAX_STR, (const void *)ptr);
		if (r <= 0)
			break;
		a->pos += r;
	}
	return a->pos - start;
}

static __always_inline void push_fdlimit(struct aux *a, struct task_struct *task)
{
	push_u64(a, BPF_CORE_READ(task, signal, rlim[7].rlim_cur)); /* RLIMIT_NOFILE */
}

static __always_inline void push_mm_counters(struct aux *a, struct task_struct *task)
{
	push_u64(a, BPF_CORE_READ(task, maj_flt));
	push_u64(a, BPF_CORE_READ(task, min_flt));
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	if (!mm) {
		push_u32(a, 0);
		push_u32(a, 0);
		push_u32(a, 0);
		return;
	}
	push_u32(a, pages_to_kb(BPF_CORE_READ(mm, total_vm)));
	/* MM_FILEPAGES 0, MM_ANONPAGES 1, MM_SWAPENTS 2, MM_SHMEMPAGES 3 */
	push_u32(a, pages_to_kb(rss_counter(mm, 0) + rss_counter(mm, 1) + rss_counter(mm, 3)));
	push_u32(a, pages_to_kb(rss_counter(mm, 2)));
}

static __always_inline void push_comm(struct aux *a, struct task_struct *task)
{
	push_str(a, BPF_CORE_READ(task, comm), COMM_LEN, false);
}

/* tty: new_encode_dev(MKDEV(major, minor_start) + index) of the controlling terminal, 0 without one. */
static __always_inline __u32 task_tty(struct task_struct *task)
{
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	if (!tty)
		return 0;
	struct tty_driver *drv = BPF_CORE_READ(tty, driver);
	if (!drv)
		return 0;
	__u32 major = BPF_CORE_READ(drv, major);
	__u32 minor = BPF_CORE_READ(drv, minor_start) + BPF_CORE_READ(tty, index);
	return encode_dev((major << 20) | minor);
}

/* ---- sockets ---- */

static __always_inline struct socket *file_socket(struct file *f)
{
	if (!f)
		return NULL;
	__u16 mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & K_S_IFMT) != K_S_IFSOCK)
		return NULL;
	return (struct socket *)BPF_CORE_READ(f, private_data);
}

static __always_inline __u16 ntohs16(__u16 v)
{
	return __builtin_bswap16(v);
}

/*
 * Writes a PT_SOCKTUPLE: family, then source address and port, then destination address and port (the order
 * libsinsp parses). Outbound (connect, send): source = local end. Inbound (accept, recv): source = remote end.
 * When the kernel socket has no remote address (unconnected datagram sockets), the caller's sockaddr `user_addr`
 * (a raw struct sockaddr already copied into scratch, or NULL) supplies it. Returns the bytes written.
 */
static __always_inline __u64 put_socktuple(struct aux *a, struct socket *sock, bool inbound, __u8 *user_addr)
{
	if (!sock)
		return 0;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u64 start = a->pos;

	if (family == K_AF_INET) {
		__u32 lip = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u16 lport = BPF_CORE_READ(sk, __sk_common.skc_num); /* host order */
		__u32 rip = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__u16 rport = ntohs16(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (rip == 0 && rport == 0 && user_addr && *(__u16 *)user_addr == K_AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)user_addr;
			rip = sin->sin_addr.s_addr;
			rport = ntohs16(sin->sin_port);
		}
		put_u8(a, socket_family_to_scap(family));
		if (inbound) {
			put_u32(a, rip);
			put_u16(a, rport);
			put_u32(a, lip);
			put_u16(a, lport);
		} else {
			put_u32(a, lip);
			put_u16(a, lport);
			put_u32(a, rip);
			put_u16(a, rport);
		}
	} else if (family == K_AF_INET6) {
		__u8 lip[16] = {}, rip[16] = {};
		BPF_CORE_READ_INTO(&lip, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&rip, sk, __sk_common.skc_v6_daddr);
		__u16 lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		__u16 rport = ntohs16(BPF_CORE_READ(sk, __sk_common.skc_dport));
		__u64 r0 = *(__u64 *)&rip[0], r1 = *(__u64 *)&rip[8];
		if (r0 == 0 && r1 == 0 && rport == 0 && user_addr && *(__u16 *)user_addr == K_AF_INET6) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)user_addr;
			__builtin_memcpy(rip, &sin6->sin6_addr, 16);
			rport = ntohs16(sin6->sin6_port);
		}
		put_u8(a, socket_family_to_scap(family));
		__u8 *src = inbound ? rip : lip;
		__u8 *dst = inbound ? lip : rip;
		put_u64(a, *(__u64 *)&src[0]);
		put_u64(a, *(__u64 *)&src[8]);
		put_u16(a, inbound ? rport : lport);
		put_u64(a, *(__u64 *)&dst[0]);
		put_u64(a, *(__u64 *)&dst[8]);
		put_u16(a, inbound ? lport : rport);
	} else if (family == K_AF_UNIX) {
		struct unix_sock *us = (struct unix_sock *)sk;
		struct unix_sock *peer = (struct unix_sock *)BPF_CORE_READ(us, peer);
		put_u8(a, socket_family_to_scap(family));
		/* libsinsp's unix tuple: source pointer, destination pointer, then the path of the named end. */
		struct unix_sock *named = inbound ? us : peer;
		put_u64(a, (__u64)(inbound ? us : peer));
		put_u64(a, (__u64)(inbound ? peer : us));
		struct unix_address *addr = named ? BPF_CORE_READ(named, addr) : NULL;
		char *path = addr ? (char *)addr + bpf_core_field_offset(struct unix_address, name) +
					     bpf_core_field_offset(struct sockaddr_un, sun_path)
				  : NULL;
		__u64 n = 0;
		if (path) {
			char first = 0;
			bpf_probe_read_kernel(&first, 1, path);
			/* Abstract addresses start with a NUL: skip it, as the drivers do. */
			n = put_str(a, first ? path : path + 1, 109, false);
		}
		if (n == 0)
			put_u8(a, 0);
	} else {
		return 0;
	}
	return a->pos - start;
}

/* Copies a user sockaddr of `len` bytes into scratch; returns a pointer to it or NULL. */
static __always_inline __u8 *read_user_sockaddr(const void *uaddr, __u64 len)
{
	struct scratch *s = scratch_get();
	if (!s || !uaddr || len < 2)
		return NULL;
	if (len > sizeof(s->sockaddr))
		len = sizeof(s->sockaddr);
	__builtin_memset(s->sockaddr, 0, sizeof(s->sockaddr));
	if (bpf_probe_read_user(s->sockaddr, len, uaddr))
		return NULL;
	return s->sockaddr;
}

/* Writes a PT_SOCKADDR from a raw struct sockaddr. Returns the bytes written. */
static __always_inline __u64 put_sockaddr(struct aux *a, __u8 *raw)
{
	if (!raw)
		return 0;
	__u16 family = *(__u16 *)raw;
	__u64 start = a->pos;
	if (family == K_AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)raw;
		put_u8(a, socket_family_to_scap(family));
		put_u32(a, sin->sin_addr.s_addr);
		put_u16(a, ntohs16(sin->sin_port));
	} else if (family == K_AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)raw;
		put_u8(a, socket_family_to_scap(family));
		put_u64(a, *(__u64 *)&sin6->sin6_addr);
		put_u64(a, *((__u64 *)&sin6->sin6_addr + 1));
		put_u16(a, ntohs16(sin6->sin6_port));
	} else if (family == K_AF_UNIX) {
		struct sockaddr_un *sun = (struct sockaddr_un *)raw;
		put_u8(a, socket_family_to_scap(family));
		char *path = sun->sun_path;
		if (path[0] == 0)
			path++;
		__u64 n = put_str(a, path, 109, false);
		if (n == 0)
			put_u8(a, 0);
	} else {
		return 0;
	}
	return a->pos - start;
}
