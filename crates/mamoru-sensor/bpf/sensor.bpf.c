// SPDX-License-Identifier: GPL-2.0
/*
 * mamoru kernel-side sensor.
 *
 * One BPF_PROG on tp_btf/sys_exit (the dispatcher) filters every syscall exit (interesting_syscalls map, own
 * process, 32-bit compat calls, and for state-only send/recv the calls that teach user space nothing) and tail-calls the handler registered for the syscall number in
 * syscall_exit_progs; syscalls without a handler become PPME_GENERIC_X. Each handler writes one scap exit event
 * of the newest version with every parameter the event table defines. Large events (clone, execve) continue in
 * further tail calls (extra_progs) because one program would exceed the verifier's budget. Clone children are
 * reported from their own first return to user space (ret == 0 on the clone syscall), which x86_64 routes through
 * sys_exit. sched_process_exit emits procexit; sched_process_exec remembers the exec'd file name for execve's
 * `filename` parameter, whose registers are gone once the new image is in place.
 */

#include "common.h"
#include "extract.h"
#include "handlers.h"

char LICENSE[] SEC("license") = "GPL";

/* Native numbers that have a handler: reaching the generic path for one of them means the tail call failed. */
const volatile __u8 handled_nr[MAX_SYSCALLS] = {};

#define ARG(i) sys_arg(regs, i)
#define SARG(i) ((__s64)(__s32)sys_arg(regs, i))
#define SYS_EXIT_PROG(name) SEC("tp_btf/sys_exit") int BPF_PROG(name, struct pt_regs *regs, long ret)
#define BEGIN(EV)                                        \
	struct aux *a = ev_begin(EV, EV##_NP);           \
	if (!a)                                          \
		return 0;

enum extra_prog {
	T1_CLONE = 0,
	T1_EXECVE = 1,
	T2_EXECVE = 2,
	EXTRA_PROG_MAX = 3,
};

/* Tail-call tables; filled at the end of this file, where every program is declared. */
struct syscall_progs_map {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, MAX_SYSCALLS);
	__type(key, __u32);
	__array(values, int(void *));
};

struct extra_progs_map {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, EXTRA_PROG_MAX);
	__type(key, __u32);
	__array(values, int(void *));
};

/* Continuation programs of the large events, declared here so the table can reference them. */
int t1_clone_x(unsigned long long *ctx);
int t1_execve_x(unsigned long long *ctx);
int t2_execve_x(unsigned long long *ctx);

struct extra_progs_map extra_progs SEC(".maps") = {
	.values =
		{
			[T1_CLONE] = (void *)&t1_clone_x,
			[T1_EXECVE] = (void *)&t1_execve_x,
			[T2_EXECVE] = (void *)&t2_execve_x,
		},
};

#define MAX_EXEC_FILENAME 1024
struct exec_filename {
	char name[MAX_EXEC_FILENAME];
};

/* tid -> file name of its last successful exec, written at sched_process_exec, consumed by the execve exit. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct exec_filename);
} exec_filenames SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_filename);
} exec_filename_scratch SEC(".maps");

static __always_inline void count_tail_call_failure(void)
{
	struct counters *c = counters_get();
	if (c)
		c->tail_call_failures++;
}

static __always_inline __u8 syscall_filter(__u32 nr)
{
	__u8 *mode = bpf_map_lookup_elem(&interesting_syscalls, &nr);
	return mode ? *mode : 0;
}

static __always_inline bool syscall_enabled(__u32 nr)
{
	return syscall_filter(nr) != 0;
}

static __always_inline bool is_self(void)
{
	return self_tgid && (bpf_get_current_pid_tgid() >> 32) == self_tgid;
}

static __always_inline __u32 current_syscall_nr(struct pt_regs *regs)
{
	return (__u32)regs->orig_ax;
}

/* ================================ dispatcher ================================ */

static __always_inline void emit_generic(__u32 nr)
{
	struct aux *a = ev_begin(PPME_GENERIC_X, PPME_GENERIC_X_NP);
	if (!a)
		return;
	push_u16(a, ppm_sc_of_nr[nr & (MAX_SYSCALLS - 1)]);
	push_u16(a, (__u16)nr);
	ev_submit(a);
}

/* ================================ files ================================ */

SYS_EXIT_PROG(open_x)
{
	BEGIN(PPME_SYSCALL_OPEN_X);
	__u64 flags = ARG(1);
	struct file *f = ret >= 0 ? fd_to_file(current_task(), ret) : NULL;
	push_s64(a, ret);
	push_user_str(a, ARG(0));
	push_u32(a, open_flags_to_scap(flags) | file_open_extra_flags(f));
	push_u32(a, open_modes_to_scap(flags, ARG(2)));
	push_u32(a, file_dev(f));
	push_u64(a, file_ino(f));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(openat_x)
{
	BEGIN(PPME_SYSCALL_OPENAT_2_X);
	__u64 flags = ARG(2);
	struct file *f = ret >= 0 ? fd_to_file(current_task(), ret) : NULL;
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_user_str(a, ARG(1));
	push_u32(a, open_flags_to_scap(flags) | file_open_extra_flags(f));
	push_u32(a, open_modes_to_scap(flags, ARG(3)));
	push_u32(a, file_dev(f));
	push_u64(a, file_ino(f));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(openat2_x)
{
	BEGIN(PPME_SYSCALL_OPENAT2_X);
	struct open_how how = {};
	if (bpf_probe_read_user(&how, sizeof(how), (void *)ARG(2)))
		count_read_failure();
	struct file *f = ret >= 0 ? fd_to_file(current_task(), ret) : NULL;
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_user_str(a, ARG(1));
	push_u32(a, open_flags_to_scap(how.flags) | file_open_extra_flags(f));
	push_u32(a, open_modes_to_scap(how.flags, how.mode));
	push_u32(a, openat2_resolve_to_scap(how.resolve));
	push_u32(a, file_dev(f));
	push_u64(a, file_ino(f));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(creat_x)
{
	BEGIN(PPME_SYSCALL_CREAT_X);
	struct file *f = ret >= 0 ? fd_to_file(current_task(), ret) : NULL;
	push_s64(a, ret);
	push_user_str(a, ARG(0));
	push_u32(a, mode_bits_to_scap(ARG(1)));
	push_u32(a, file_dev(f));
	push_u64(a, file_ino(f));
	/* creat_flags is 16 bits wide: created + upper layer fit, the lower-layer bit does not. */
	push_u16(a, (__u16)(file_open_extra_flags(f) & 0xffff));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(close_x)
{
	BEGIN(PPME_SYSCALL_CLOSE_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(unlink_x)
{
	BEGIN(PPME_SYSCALL_UNLINK_2_X);
	push_s64(a, ret);
	push_user_str(a, ARG(0));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(unlinkat_x)
{
	BEGIN(PPME_SYSCALL_UNLINKAT_2_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_user_str(a, ARG(1));
	push_u32(a, unlinkat_flags_to_scap(ARG(2)));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(rename_x)
{
	BEGIN(PPME_SYSCALL_RENAME_X);
	push_s64(a, ret);
	push_user_str(a, ARG(0));
	push_user_str(a, ARG(1));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(renameat_x)
{
	BEGIN(PPME_SYSCALL_RENAMEAT_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_user_str(a, ARG(1));
	push_s64(a, SARG(2));
	push_user_str(a, ARG(3));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(renameat2_x)
{
	BEGIN(PPME_SYSCALL_RENAMEAT2_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_user_str(a, ARG(1));
	push_s64(a, SARG(2));
	push_user_str(a, ARG(3));
	push_u32(a, (__u32)ARG(4)); /* RENAME_NOREPLACE/EXCHANGE/WHITEOUT share the PPM bit values */
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(mkdir_x)
{
	BEGIN(PPME_SYSCALL_MKDIR_2_X);
	push_s64(a, ret);
	push_user_str(a, ARG(0));
	push_u32(a, (__u32)ARG(1));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(mkdirat_x)
{
	BEGIN(PPME_SYSCALL_MKDIRAT_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_user_str(a, ARG(1));
	push_u32(a, (__u32)ARG(2));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(rmdir_x)
{
	BEGIN(PPME_SYSCALL_RMDIR_2_X);
	push_s64(a, ret);
	push_user_str(a, ARG(0));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(symlink_x)
{
	BEGIN(PPME_SYSCALL_SYMLINK_X);
	push_s64(a, ret);
	push_user_str(a, ARG(0));
	push_user_str(a, ARG(1));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(symlinkat_x)
{
	BEGIN(PPME_SYSCALL_SYMLINKAT_X);
	push_s64(a, ret);
	push_user_str(a, ARG(0));
	push_s64(a, SARG(1));
	push_user_str(a, ARG(2));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(link_x)
{
	BEGIN(PPME_SYSCALL_LINK_2_X);
	push_s64(a, ret);
	push_user_str(a, ARG(0));
	push_user_str(a, ARG(1));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(linkat_x)
{
	BEGIN(PPME_SYSCALL_LINKAT_2_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_user_str(a, ARG(1));
	push_s64(a, SARG(2));
	push_user_str(a, ARG(3));
	push_u32(a, linkat_flags_to_scap(ARG(4)));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(chmod_x)
{
	BEGIN(PPME_SYSCALL_CHMOD_X);
	push_s64(a, ret);
	push_user_str(a, ARG(0));
	push_u32(a, mode_bits_to_scap(ARG(1)));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(fchmod_x)
{
	BEGIN(PPME_SYSCALL_FCHMOD_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_u32(a, mode_bits_to_scap(ARG(1)));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(fchmodat_x)
{
	BEGIN(PPME_SYSCALL_FCHMODAT_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_user_str(a, ARG(1));
	push_u32(a, mode_bits_to_scap(ARG(2)));
	ev_submit(a);
	return 0;
}

static __always_inline int chown_like(struct pt_regs *regs, long ret, __u16 type, __u32 np)
{
	struct aux *a = ev_begin(type, np);
	if (!a)
		return 0;
	push_s64(a, ret);
	push_user_str(a, ARG(0));
	push_u32(a, (__u32)ARG(1));
	push_u32(a, (__u32)ARG(2));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(chown_x)
{
	return chown_like(regs, ret, PPME_SYSCALL_CHOWN_X, PPME_SYSCALL_CHOWN_X_NP);
}

SYS_EXIT_PROG(lchown_x)
{
	return chown_like(regs, ret, PPME_SYSCALL_LCHOWN_X, PPME_SYSCALL_LCHOWN_X_NP);
}

SYS_EXIT_PROG(fchown_x)
{
	BEGIN(PPME_SYSCALL_FCHOWN_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_u32(a, (__u32)ARG(1));
	push_u32(a, (__u32)ARG(2));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(fchownat_x)
{
	BEGIN(PPME_SYSCALL_FCHOWNAT_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_user_str(a, ARG(1));
	push_u32(a, (__u32)ARG(2));
	push_u32(a, (__u32)ARG(3));
	push_u32(a, fchownat_flags_to_scap(ARG(4)));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(dup_x)
{
	BEGIN(PPME_SYSCALL_DUP_1_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(dup2_x)
{
	BEGIN(PPME_SYSCALL_DUP2_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_s64(a, SARG(1));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(dup3_x)
{
	BEGIN(PPME_SYSCALL_DUP3_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_s64(a, SARG(1));
	push_u32(a, fd_flags_to_scap(SARG(2)) & PPM_O_CLOEXEC);
	ev_submit(a);
	return 0;
}

static __always_inline void push_pipe_fds(struct aux *a, long ret, unsigned long fds_ptr)
{
	__s32 fds[2] = {-1, -1};
	if (ret == 0 && bpf_probe_read_user(fds, sizeof(fds), (void *)fds_ptr))
		count_read_failure();
	push_s64(a, ret);
	push_s64(a, fds[0]);
	push_s64(a, fds[1]);
	push_u64(a, ret == 0 ? file_ino(fd_to_file(current_task(), fds[0])) : 0);
}

SYS_EXIT_PROG(pipe_x)
{
	BEGIN(PPME_SYSCALL_PIPE_X);
	push_pipe_fds(a, ret, ARG(0));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(pipe2_x)
{
	BEGIN(PPME_SYSCALL_PIPE2_X);
	push_pipe_fds(a, ret, ARG(0));
	push_u32(a, fd_flags_to_scap(SARG(1)));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(chdir_x)
{
	BEGIN(PPME_SYSCALL_CHDIR_X);
	push_s64(a, ret);
	push_user_str(a, ARG(0));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(fchdir_x)
{
	BEGIN(PPME_SYSCALL_FCHDIR_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(fcntl_x)
{
	BEGIN(PPME_SYSCALL_FCNTL_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_u8(a, fcntl_cmd_to_scap(ARG(1)));
	push_u64(a, ARG(2));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(chroot_x)
{
	BEGIN(PPME_SYSCALL_CHROOT_X);
	push_s64(a, ret);
	push_user_str(a, ARG(0));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(mount_x)
{
	BEGIN(PPME_SYSCALL_MOUNT_X);
	push_s64(a, ret);
	push_user_str(a, ARG(0));
	push_user_str(a, ARG(1));
	push_user_str(a, ARG(2));
	push_u32(a, mount_flags_to_scap(ARG(3)));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(umount2_x)
{
	BEGIN(PPME_SYSCALL_UMOUNT2_X);
	push_s64(a, ret);
	push_user_str(a, ARG(0));
	push_u32(a, (__u32)ARG(1) & 0xf); /* MNT_FORCE/DETACH/EXPIRE, UMOUNT_NOFOLLOW: same bits in scap */
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(memfd_create_x)
{
	BEGIN(PPME_SYSCALL_MEMFD_CREATE_X);
	push_s64(a, ret);
	push_user_str(a, ARG(0));
	push_u32(a, (__u32)ARG(1) & 0x7); /* MFD_CLOEXEC/ALLOW_SEALING/HUGETLB: same bits in scap */
	ev_submit(a);
	return 0;
}

/* ================================ network ================================ */

static __always_inline struct socket *fd_socket(__s64 fd)
{
	return file_socket(fd_to_file(current_task(), fd));
}

/* ---- TCP sockets whose connection user space already knows ----
 * A send/recv call changes the user-space state only through its socket tuple: for a TCP socket that user space
 * already knows as connected and named, mamoru-state's on_sockio leaves the fd untouched (it sets `connected`,
 * already set by connect/accept, and returns for a named TCP fd); for a failed call it returns at once. So when no
 * loaded rule needs send/recv (FILTER_STATE_ONLY), those calls are not reported. "Known" means: this sensor
 * delivered a successful connect() or accept() event carrying the socket's complete tuple, so every fd user space
 * tracks for the socket (the connect/accept fd, its dups and fork copies) is named. The key pairs the kernel socket
 * with its inode number, so a freed socket whose memory is reused by a new one never matches. An evicted entry
 * only means reporting again (the safe side). The one thing left out that user space would have seen is the
 * thread's last-seen time, used only to pick eviction victims when its thread table is full. */
struct sock_key {
	__u64 sk;
	__u64 ino;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sock_key);
	__type(value, __u8);
} known_tcp_socks SEC(".maps");

#define K_IPPROTO_TCP 6

/* The key of the TCP socket behind `fd` of the current task; false for anything else. */
static __always_inline bool tcp_sock_key(__s64 fd, struct sock_key *key)
{
	struct file *f = fd_to_file(current_task(), fd);
	if (!f)
		return false;
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	if (!inode || (BPF_CORE_READ(inode, i_mode) & K_S_IFMT) != K_S_IFSOCK)
		return false;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	struct sock *sk = sock ? BPF_CORE_READ(sock, sk) : NULL;
	if (!sk || BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != K_IPPROTO_TCP)
		return false;
	key->sk = (__u64)sk;
	key->ino = BPF_CORE_READ(inode, i_ino);
	return true;
}

/* Records that user space received the complete tuple of the TCP socket behind `fd` (call only after the event
 * carrying it was committed to the ring buffer). */
static __always_inline void remember_known_tcp(__s64 fd)
{
	struct sock_key key = {};
	__u8 one = 1;
	if (tcp_sock_key(fd, &key))
		bpf_map_update_elem(&known_tcp_socks, &key, &one, BPF_ANY);
}

/* Whether a state-only send/recv call would change nothing in the user-space state (see above). */
static __always_inline bool state_learns_nothing(struct pt_regs *regs, __u32 nr, long ret)
{
	if (nr != NR_sendto && nr != NR_recvfrom && nr != NR_sendmsg && nr != NR_recvmsg)
		return false;
	if (ret < 0)
		return true;
	struct sock_key key = {};
	if (!tcp_sock_key(SARG(0), &key))
		return false;
	return bpf_map_lookup_elem(&known_tcp_socks, &key) != NULL;
}

/* Bytes of I/O data kept in an event: at most snaplen and what the call actually transferred. */
static __always_inline __u64 snap_len(long ret, __u64 requested)
{
	__u64 n = ret > 0 ? (__u64)ret : 0;
	if (n > requested)
		n = requested;
	if (n > snaplen)
		n = snaplen;
	return n;
}

SYS_EXIT_PROG(socket_x)
{
	BEGIN(PPME_SOCKET_SOCKET_X);
	push_s64(a, ret);
	push_u32(a, socket_family_to_scap(ARG(0)));
	push_u32(a, (__u32)ARG(1));
	push_u32(a, (__u32)ARG(2));
	/* SOCK_NONBLOCK and SOCK_CLOEXEC are O_NONBLOCK and O_CLOEXEC on x86_64. */
	push_u32(a, fd_flags_to_scap(ARG(1) & (K_O_NONBLOCK | K_O_CLOEXEC)));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(connect_x)
{
	BEGIN(PPME_SOCKET_CONNECT_X);
	__s64 fd = SARG(0);
	__u8 *uaddr = read_user_sockaddr((void *)ARG(1), ARG(2));
	push_s64(a, ret);
	push_len(a, put_socktuple(a, fd_socket(fd), false, uaddr));
	push_s64(a, fd);
	push_len(a, put_sockaddr(a, uaddr));
	if (ev_submit(a) && ret == 0)
		remember_known_tcp(fd);
	return 0;
}

/* accept/accept4: the new connection's tuple, and the listening socket's backlog. */
static __always_inline void push_accept_common(struct aux *a, struct pt_regs *regs, long ret)
{
	push_s64(a, ret);
	push_len(a, ret >= 0 ? put_socktuple(a, fd_socket(ret), true, NULL) : 0);
	struct socket *lsock = fd_socket(SARG(0));
	struct sock *lsk = lsock ? BPF_CORE_READ(lsock, sk) : NULL;
	__u32 qlen = lsk ? BPF_CORE_READ(lsk, sk_ack_backlog) : 0;
	__u32 qmax = lsk ? BPF_CORE_READ(lsk, sk_max_ack_backlog) : 0;
	push_u8(a, qmax ? (__u8)((qlen * 100) / qmax) : 0);
	push_u32(a, qlen);
	push_u32(a, qmax);
}

SYS_EXIT_PROG(accept_x)
{
	BEGIN(PPME_SOCKET_ACCEPT_5_X);
	push_accept_common(a, regs, ret);
	if (ev_submit(a) && ret >= 0)
		remember_known_tcp(ret);
	return 0;
}

SYS_EXIT_PROG(accept4_x)
{
	BEGIN(PPME_SOCKET_ACCEPT4_6_X);
	push_accept_common(a, regs, ret);
	push_u32(a, (__u32)ARG(3));
	if (ev_submit(a) && ret >= 0)
		remember_known_tcp(ret);
	return 0;
}

SYS_EXIT_PROG(bind_x)
{
	BEGIN(PPME_SOCKET_BIND_X);
	__u8 *uaddr = read_user_sockaddr((void *)ARG(1), ARG(2));
	push_s64(a, ret);
	push_len(a, put_sockaddr(a, uaddr));
	push_s64(a, SARG(0));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(listen_x)
{
	BEGIN(PPME_SOCKET_LISTEN_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_u32(a, (__u32)ARG(1));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(sendto_x)
{
	BEGIN(PPME_SOCKET_SENDTO_X);
	__s64 fd = SARG(0);
	__u64 len = ARG(2);
	__u8 *uaddr = read_user_sockaddr((void *)ARG(4), ARG(5));
	push_s64(a, ret);
	push_bytes(a, (void *)ARG(1), snap_len(ret, len), MAX_STR, true);
	push_s64(a, fd);
	push_u32(a, (__u32)len);
	push_len(a, put_socktuple(a, fd_socket(fd), false, uaddr));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(recvfrom_x)
{
	BEGIN(PPME_SOCKET_RECVFROM_X);
	__s64 fd = SARG(0);
	__u64 len = ARG(2);
	__u8 *uaddr = NULL;
	__s32 addrlen = 0;
	if (ret >= 0 && ARG(4) && !bpf_probe_read_user(&addrlen, sizeof(addrlen), (void *)ARG(5)))
		uaddr = read_user_sockaddr((void *)ARG(4), addrlen);
	push_s64(a, ret);
	push_bytes(a, (void *)ARG(1), snap_len(ret, len), MAX_STR, true);
	push_len(a, put_socktuple(a, fd_socket(fd), true, uaddr));
	push_s64(a, fd);
	push_u32(a, (__u32)len);
	ev_submit(a);
	return 0;
}

#define MAX_IOVCNT 16

static __always_inline __u64 iov_total(const struct iovec *iov, __u64 cnt)
{
	__u64 total = 0;
	for (int i = 0; i < MAX_IOVCNT; i++) {
		if ((__u64)i >= cnt)
			break;
		struct iovec v = {};
		if (bpf_probe_read_user(&v, sizeof(v), &iov[i]))
			break;
		total += v.iov_len;
	}
	return total;
}

/* The first iovec's bytes, up to what the call transferred and snaplen. */
static __always_inline void push_msg_data(struct aux *a, struct user_msghdr *msg, long ret)
{
	struct iovec v = {};
	if (!msg->msg_iov || msg->msg_iovlen == 0 ||
	    bpf_probe_read_user(&v, sizeof(v), (void *)msg->msg_iov)) {
		push_empty(a);
		return;
	}
	push_bytes(a, v.iov_base, snap_len(ret, v.iov_len), MAX_STR, true);
}

SYS_EXIT_PROG(sendmsg_x)
{
	BEGIN(PPME_SOCKET_SENDMSG_X);
	__s64 fd = SARG(0);
	struct user_msghdr msg = {};
	if (bpf_probe_read_user(&msg, sizeof(msg), (void *)ARG(1)))
		count_read_failure();
	__u8 *uaddr = read_user_sockaddr(msg.msg_name, msg.msg_namelen);
	push_s64(a, ret);
	push_msg_data(a, &msg, ret);
	push_s64(a, fd);
	push_u32(a, (__u32)iov_total(msg.msg_iov, msg.msg_iovlen));
	push_len(a, put_socktuple(a, fd_socket(fd), false, uaddr));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(recvmsg_x)
{
	BEGIN(PPME_SOCKET_RECVMSG_X);
	__s64 fd = SARG(0);
	struct user_msghdr msg = {};
	if (bpf_probe_read_user(&msg, sizeof(msg), (void *)ARG(1)))
		count_read_failure();
	__u8 *uaddr = ret >= 0 ? read_user_sockaddr(msg.msg_name, msg.msg_namelen) : NULL;
	push_s64(a, ret);
	push_u32(a, ret > 0 ? (__u32)ret : 0);
	push_msg_data(a, &msg, ret);
	push_len(a, put_socktuple(a, fd_socket(fd), true, uaddr));
	push_empty(a); /* msgcontrol: not captured */
	push_s64(a, fd);
	ev_submit(a);
	return 0;
}

/* ================================ processes ================================ */

/* Parameters 1..14 of clone/fork/vfork/clone3 (and, with a different exe/args source, of execve). */
static __always_inline void push_process_head(struct aux *a, struct task_struct *task, long ret)
{
	push_s64(a, BPF_CORE_READ(task, pid));		   /* tid */
	push_s64(a, BPF_CORE_READ(task, tgid));		   /* pid */
	push_s64(a, BPF_CORE_READ(task, real_parent, pid)); /* ptid */
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	if (fs)
		push_dpath(a, &fs->pwd, task); /* cwd */
	else
		push_empty(a);
	push_fdlimit(a, task);
	push_mm_counters(a, task);
	push_comm(a, task);
}

static __always_inline int clone_family(void *ctx, __u16 type, __u32 np, long ret)
{
	struct aux *a = ev_begin(type, np);
	if (!a)
		return 0;
	struct task_struct *task = current_task();
	push_s64(a, ret);
	if (ret >= 0) {
		push_exe_args_from_mm(a, task);
	} else {
		push_empty(a);
		push_empty(a);
	}
	push_process_head(a, task, ret);
	bpf_tail_call(ctx, &extra_progs, T1_CLONE);
	count_tail_call_failure();
	return 0;
}

SYS_EXIT_PROG(clone_x)
{
	return clone_family(ctx, PPME_SYSCALL_CLONE_20_X, PPME_SYSCALL_CLONE_20_X_NP, ret);
}

SYS_EXIT_PROG(clone3_x)
{
	return clone_family(ctx, PPME_SYSCALL_CLONE3_X, PPME_SYSCALL_CLONE3_X_NP, ret);
}

SYS_EXIT_PROG(fork_x)
{
	return clone_family(ctx, PPME_SYSCALL_FORK_20_X, PPME_SYSCALL_FORK_20_X_NP, ret);
}

SYS_EXIT_PROG(vfork_x)
{
	return clone_family(ctx, PPME_SYSCALL_VFORK_20_X, PPME_SYSCALL_VFORK_20_X_NP, ret);
}

/* The clone flags the caller asked for, per syscall flavour. */
static __always_inline __u64 raw_clone_flags(struct pt_regs *regs)
{
	__u32 nr = current_syscall_nr(regs);
	if (nr == NR_clone)
		return ARG(0);
	if (nr == NR_clone3) {
		__u64 flags = 0;
		bpf_probe_read_user(&flags, sizeof(flags), (void *)ARG(0)); /* struct clone_args starts with flags */
		return flags;
	}
	if (nr == NR_vfork)
		return 0x00000100 | 0x00004000; /* CLONE_VM | CLONE_VFORK, what vfork() does */
	return 0;				/* fork */
}

SEC("tp_btf/sys_exit")
int BPF_PROG(t1_clone_x, struct pt_regs *regs, long ret)
{
	struct aux *a = aux_get();
	if (!a)
		return 0;
	struct task_struct *task = current_task();
	push_cgroups(a, task);

	__u32 flags = clone_flags_to_scap(raw_clone_flags(regs));
	struct pid_namespace *ns = task_pid_ns(task);
	__u32 level = ns ? BPF_CORE_READ(ns, level) : 0;
	/* The child knows its namespace; the parent compares where its children will be created. */
	if (level != 0 || BPF_CORE_READ(task, nsproxy, pid_ns_for_children) != ns)
		flags |= PPM_CL_CHILD_IN_PIDNS;
	push_u32(a, flags);
	push_u32(a, task_euid(task));
	push_u32(a, task_egid(task));
	push_s64(a, pid_vnr(BPF_CORE_READ(task, thread_pid)));
	push_s64(a, pid_vnr(task_tgid_pid(task)));
	/* Start time of the pid namespace's init, only meaningful on the child side. */
	push_u64(a, (ret == 0 && ns) ? BPF_CORE_READ(ns, child_reaper, start_time) : 0);
	ev_submit(a);
	return 0;
}

static __always_inline int execve_family(void *ctx, struct pt_regs *regs, long ret, __u16 type, __u32 np,
					 int argv_idx)
{
	struct aux *a = ev_begin(type, np);
	if (!a)
		return 0;
	struct task_struct *task = current_task();
	push_s64(a, ret);
	if (ret == 0) {
		/* The new image is in place: its argument area is the truth. */
		push_exe_args_from_mm(a, task);
	} else {
		/* Failed exec: the old image still runs; decode the caller's argv. */
		const char *const *argv = (const char *const *)ARG(argv_idx);
		__u64 argv0 = 0;
		if (argv)
			bpf_probe_read_user(&argv0, sizeof(argv0), argv);
		push_str(a, (const void *)argv0, MAX_STR, true);
		push_len(a, put_user_strv(a, argv, 1));
	}
	push_process_head(a, task, ret);
	bpf_tail_call(ctx, &extra_progs, T1_EXECVE);
	count_tail_call_failure();
	return 0;
}

SYS_EXIT_PROG(execve_x)
{
	return execve_family(ctx, regs, ret, PPME_SYSCALL_EXECVE_19_X, PPME_SYSCALL_EXECVE_19_X_NP, 1);
}

SYS_EXIT_PROG(execveat_x)
{
	return execve_family(ctx, regs, ret, PPME_SYSCALL_EXECVEAT_X, PPME_SYSCALL_EXECVEAT_X_NP, 2);
}

/* execve parameters 15..19: cgroups, env, tty, vpgid, loginuid. */
SEC("tp_btf/sys_exit")
int BPF_PROG(t1_execve_x, struct pt_regs *regs, long ret)
{
	struct aux *a = aux_get();
	if (!a)
		return 0;
	struct task_struct *task = current_task();
	push_cgroups(a, task);
	if (ret == 0) {
		push_env_from_mm(a, task);
	} else {
		int envp_idx = current_syscall_nr(regs) == NR_execveat ? 3 : 2;
		push_len(a, put_user_strv(a, (const char *const *)ARG(envp_idx), 0));
	}
	push_u32(a, task_tty(task));
	push_s64(a, pid_vnr(task_pgid_pid(task)));
	push_u32(a, task_loginuid(task));
	bpf_tail_call(ctx, &extra_progs, T2_EXECVE);
	count_tail_call_failure();
	return 0;
}

/* execve parameters 20..31: flags, capabilities, executable inode and times, uid, trusted path, pgid, gid,
 * and (execve only) filename. */
SEC("tp_btf/sys_exit")
int BPF_PROG(t2_execve_x, struct pt_regs *regs, long ret)
{
	struct aux *a = aux_get();
	if (!a)
		return 0;
	struct task_struct *task = current_task();
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	struct inode *inode = exe ? BPF_CORE_READ(exe, f_inode) : NULL;

	__u32 flags = 0;
	if (exe && inode) {
		int layer = file_overlay_layer(exe);
		if (layer == OVERLAY_UPPER)
			flags |= PPM_EXE_UPPER_LAYER;
		else if (layer == OVERLAY_LOWER)
			flags |= PPM_EXE_LOWER_LAYER;
		if (file_is_memfd(exe))
			flags |= PPM_EXE_FROM_MEMFD;
		if (task_can_write_inode(task, inode))
			flags |= PPM_EXE_WRITABLE;
	}
	push_u32(a, flags);
	push_u64(a, cap_to_u64(task, 0));
	push_u64(a, cap_to_u64(task, 1));
	push_u64(a, cap_to_u64(task, 2));
	push_u64(a, inode ? BPF_CORE_READ(inode, i_ino) : 0);
	push_u64(a, inode ? inode_ctime_ns(inode) : 0);
	push_u64(a, inode ? inode_mtime_ns(inode) : 0);
	push_u32(a, task_euid(task));
	if (exe)
		push_dpath(a, &exe->f_path, task);
	else
		push_empty(a);
	push_s64(a, pid_nr_global(task_pgid_pid(task)));
	push_u32(a, task_egid(task));

	if (current_syscall_nr(regs) == NR_execve) {
		if (ret == 0) {
			__u32 tid = (__u32)bpf_get_current_pid_tgid();
			struct exec_filename *fn = bpf_map_lookup_elem(&exec_filenames, &tid);
			if (fn) {
				push_str(a, fn->name, MAX_EXEC_FILENAME, false);
				bpf_map_delete_elem(&exec_filenames, &tid);
			} else {
				push_empty(a);
			}
		} else {
			push_user_str(a, ARG(0));
		}
	}
	ev_submit(a);
	return 0;
}

/* Keeps the file name execve() was asked to run, since the exit event can no longer read the registers. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	if (!syscall_enabled(NR_execve) || is_self())
		return 0;
	__u32 zero = 0;
	struct exec_filename *fn = bpf_map_lookup_elem(&exec_filename_scratch, &zero);
	if (!fn)
		return 0;
	const char *name = BPF_CORE_READ(bprm, filename);
	if (bpf_probe_read_kernel_str(fn->name, sizeof(fn->name), name) <= 0)
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&exec_filenames, &tid, fn, BPF_ANY);
	return 0;
}

/* reaper_tid: who inherits the exiting task's children. Mirrors the kernel's find_new_reaper(): an alive thread
 * of the same group, then the closest child-subreaper ancestor, then the pid namespace's init. 0 when the task
 * has no children. */
#define MAX_THREAD_SCAN 16
#define MAX_ANCESTOR_SCAN 8
#define K_PF_EXITING 0x00000004

static __always_inline __s64 alive_thread_of(struct task_struct *task)
{
	if (!bpf_core_field_exists(task->thread_node))
		return 0;
	struct signal_struct *sig = BPF_CORE_READ(task, signal);
	struct list_head *head = &sig->thread_head;
	struct list_head *pos = BPF_CORE_READ(sig, thread_head.next);
	for (int i = 0; i < MAX_THREAD_SCAN; i++) {
		if (!pos || pos == head)
			break;
		struct task_struct *t =
			(struct task_struct *)((char *)pos - bpf_core_field_offset(struct task_struct, thread_node));
		if (t != task && !(BPF_CORE_READ(t, flags) & K_PF_EXITING))
			return BPF_CORE_READ(t, pid);
		pos = BPF_CORE_READ(pos, next);
	}
	return 0;
}

static __always_inline __s64 find_reaper(struct task_struct *task)
{
	struct list_head *children = &task->children;
	if (BPF_CORE_READ(task, children.next) == children)
		return 0;
	__s64 tid = alive_thread_of(task);
	if (tid)
		return tid;
	struct signal_struct *sig = BPF_CORE_READ(task, signal);
	struct pid_namespace *ns = task_pid_ns(task);
	if (BPF_CORE_READ_BITFIELD_PROBED(sig, has_child_subreaper)) {
		struct task_struct *anc = BPF_CORE_READ(task, real_parent);
		for (int i = 0; i < MAX_ANCESTOR_SCAN && anc; i++) {
			if (task_pid_ns(anc) != ns || BPF_CORE_READ(anc, pid) <= 1)
				break;
			struct signal_struct *asig = BPF_CORE_READ(anc, signal);
			if (BPF_CORE_READ_BITFIELD_PROBED(asig, is_child_subreaper) &&
			    !(BPF_CORE_READ(anc, flags) & K_PF_EXITING))
				return BPF_CORE_READ(anc, pid);
			anc = BPF_CORE_READ(anc, real_parent);
		}
	}
	return ns ? BPF_CORE_READ(ns, child_reaper, pid) : 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_exit, struct task_struct *p)
{
	if (!procexit_enabled || is_self())
		return 0;
	struct task_struct *task = current_task();
	if (BPF_CORE_READ(task, flags) & K_PF_KTHREAD)
		return 0;
	struct aux *a = ev_begin(PPME_PROCEXIT_1_E, PPME_PROCEXIT_1_E_NP);
	if (!a)
		return 0;
	__s64 code = BPF_CORE_READ(task, exit_code);
	push_s64(a, code);
	push_s64(a, (code >> 8) & 0xff);
	push_u8(a, code & 0x7f);
	push_u8(a, (code & 0x80) ? 1 : 0);
	push_s64(a, find_reaper(task));
	ev_submit(a);
	return 0;
}

/* ================================ credentials, namespaces, misc ================================ */

SYS_EXIT_PROG(setuid_x)
{
	BEGIN(PPME_SYSCALL_SETUID_X);
	push_s64(a, ret);
	push_u32(a, (__u32)ARG(0));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(setgid_x)
{
	BEGIN(PPME_SYSCALL_SETGID_X);
	push_s64(a, ret);
	push_u32(a, (__u32)ARG(0));
	ev_submit(a);
	return 0;
}

static __always_inline int set3ids(struct pt_regs *regs, long ret, __u16 type, __u32 np)
{
	struct aux *a = ev_begin(type, np);
	if (!a)
		return 0;
	push_s64(a, ret);
	push_u32(a, (__u32)ARG(0));
	push_u32(a, (__u32)ARG(1));
	push_u32(a, (__u32)ARG(2));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(setresuid_x)
{
	return set3ids(regs, ret, PPME_SYSCALL_SETRESUID_X, PPME_SYSCALL_SETRESUID_X_NP);
}

SYS_EXIT_PROG(setresgid_x)
{
	return set3ids(regs, ret, PPME_SYSCALL_SETRESGID_X, PPME_SYSCALL_SETRESGID_X_NP);
}

static __always_inline int set2ids(struct pt_regs *regs, long ret, __u16 type, __u32 np)
{
	struct aux *a = ev_begin(type, np);
	if (!a)
		return 0;
	push_s64(a, ret);
	push_u32(a, (__u32)ARG(0));
	push_u32(a, (__u32)ARG(1));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(setreuid_x)
{
	return set2ids(regs, ret, PPME_SYSCALL_SETREUID_X, PPME_SYSCALL_SETREUID_X_NP);
}

SYS_EXIT_PROG(setregid_x)
{
	return set2ids(regs, ret, PPME_SYSCALL_SETREGID_X, PPME_SYSCALL_SETREGID_X_NP);
}

SYS_EXIT_PROG(capset_x)
{
	BEGIN(PPME_SYSCALL_CAPSET_X);
	struct task_struct *task = current_task();
	push_s64(a, ret);
	push_u64(a, cap_to_u64(task, 0));
	push_u64(a, cap_to_u64(task, 1));
	push_u64(a, cap_to_u64(task, 2));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(setns_x)
{
	BEGIN(PPME_SYSCALL_SETNS_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_u32(a, clone_flags_to_scap(ARG(1)));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(unshare_x)
{
	BEGIN(PPME_SYSCALL_UNSHARE_X);
	push_s64(a, ret);
	push_u32(a, clone_flags_to_scap(ARG(0)));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(prctl_x)
{
	BEGIN(PPME_SYSCALL_PRCTL_X);
	__u64 option = ARG(0);
	__u64 arg2 = ARG(1);
	push_s64(a, ret);
	push_u32(a, (__u32)option);
	if (option == K_PR_SET_NAME || option == K_PR_GET_NAME) {
		push_str(a, (const void *)arg2, COMM_LEN, true);
		push_s64(a, 0);
	} else if (option == K_PR_GET_CHILD_SUBREAPER) {
		__s32 v = 0;
		bpf_probe_read_user(&v, sizeof(v), (void *)arg2);
		push_empty(a);
		push_s64(a, v);
	} else {
		push_empty(a);
		push_s64(a, (__s64)arg2);
	}
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(ptrace_x)
{
	BEGIN(PPME_SYSCALL_PTRACE_X);
	__u16 req = ptrace_request_to_scap(ARG(0));
	__u64 addr = ARG(2);
	__u64 data = ARG(3);
	push_s64(a, ret);
	/* addr and data are PT_DYN: a one-byte type index, then the value. */
	put_u8(a, PPM_PTRACE_IDX_UINT64);
	put_u64(a, ret < 0 ? 0 : addr);
	push_len(a, 9);
	if (ret < 0) {
		put_u8(a, PPM_PTRACE_IDX_UINT64);
		put_u64(a, 0);
		push_len(a, 9);
	} else if (req == 2 || req == 3 || req == 4) { /* PEEKTEXT, PEEKDATA, PEEKUSR: the word read back */
		__u64 word = 0;
		bpf_probe_read_user(&word, sizeof(word), (void *)data);
		put_u8(a, PPM_PTRACE_IDX_UINT64);
		put_u64(a, word);
		push_len(a, 9);
	} else if (req == 8 || req == 10 || req == 12 || req == 13) { /* CONT, SINGLESTEP, DETACH, SYSCALL */
		put_u8(a, PPM_PTRACE_IDX_SIGTYPE);
		put_u8(a, (__u8)data);
		push_len(a, 2);
	} else {
		put_u8(a, PPM_PTRACE_IDX_UINT64);
		put_u64(a, data);
		push_len(a, 9);
	}
	push_u16(a, req);
	push_s64(a, SARG(1));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(kill_x)
{
	BEGIN(PPME_SYSCALL_KILL_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_u8(a, (__u8)ARG(1));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(tkill_x)
{
	BEGIN(PPME_SYSCALL_TKILL_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_u8(a, (__u8)ARG(1));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(tgkill_x)
{
	BEGIN(PPME_SYSCALL_TGKILL_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_s64(a, SARG(1));
	push_u8(a, (__u8)ARG(2));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(init_module_x)
{
	BEGIN(PPME_SYSCALL_INIT_MODULE_X);
	__u64 len = ARG(1);
	push_s64(a, ret);
	push_bytes(a, (void *)ARG(0), len < snaplen ? len : snaplen, MAX_STR, true);
	push_u64(a, len);
	push_user_str(a, ARG(2));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(finit_module_x)
{
	BEGIN(PPME_SYSCALL_FINIT_MODULE_X);
	push_s64(a, ret);
	push_s64(a, SARG(0));
	push_user_str(a, ARG(1));
	push_u32(a, (__u32)ARG(2) & 0x7); /* MODULE_INIT_*: same bits in scap */
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(bpf_x)
{
	BEGIN(PPME_SYSCALL_BPF_2_X);
	push_s64(a, ret);
	push_u32(a, (__u32)ARG(0));
	ev_submit(a);
	return 0;
}

SYS_EXIT_PROG(userfaultfd_x)
{
	BEGIN(PPME_SYSCALL_USERFAULTFD_X);
	push_s64(a, ret);
	push_u32(a, (__u32)ARG(0));
	ev_submit(a);
	return 0;
}

/* ================================ tail-call tables ================================ */

struct syscall_progs_map syscall_exit_progs SEC(".maps") = {
	.values = { SYSCALL_HANDLER_ENTRIES },
};

/* The dispatcher comes last: it needs the complete handler table. */
SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit_dispatch, struct pt_regs *regs, long ret)
{
	long id = regs->orig_ax;
	if (id < 0 || id >= MAX_SYSCALLS)
		return 0; /* x32 numbers and the -1 of non-syscall exits */
	__u32 nr = (__u32)id;
	__u8 mode = syscall_filter(nr);
	if (!mode) {
		/* Counted so that "filtered in kernel" is a metric, not a guess: one inlined per-CPU add. */
		struct counters *c = counters_get();
		if (c)
			c->filtered++;
		return 0;
	}
	if (is_self())
		return 0;
	if (current_task()->thread_info.status & K_TS_COMPAT)
		return 0; /* ia32 numbering differs; not decoded */
	if (mode == FILTER_STATE_ONLY && state_learns_nothing(regs, nr, ret)) {
		struct counters *c = counters_get();
		if (c)
			c->filtered_state_only++;
		return 0;
	}
	bpf_tail_call(ctx, &syscall_exit_progs, nr);
	if (handled_nr[nr & (MAX_SYSCALLS - 1)]) {
		count_tail_call_failure();
		return 0;
	}
	emit_generic(nr);
	return 0;
}
