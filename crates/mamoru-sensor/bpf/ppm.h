/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-to-scap flag translation. Event parameters typed as PPM flags carry the drivers' own bit layout
 * (PPM_O_*, PPM_CL_*, ...), not the kernel's, so captures are portable across architectures. The PPM values
 * below are the public scap ABI (driver/ppm_events_public.h); the kernel values are the x86_64 UAPI ones
 * (vmlinux.h has types but no #defines).
 */
#pragma once

/* ---- kernel UAPI constants (x86_64) ---- */
#define K_O_ACCMODE 00000003
#define K_O_WRONLY 00000001
#define K_O_RDWR 00000002
#define K_O_CREAT 00000100
#define K_O_EXCL 00000200
#define K_O_TRUNC 00001000
#define K_O_APPEND 00002000
#define K_O_NONBLOCK 00004000
#define K_O_DSYNC 00010000
#define K_O_DIRECT 00040000
#define K_O_LARGEFILE 00100000
#define K_O_DIRECTORY 00200000
#define K_O_CLOEXEC 02000000
#define K_O_SYNC_BIT 04000000 /* __O_SYNC: O_SYNC is __O_SYNC | O_DSYNC */
#define K_O_TMPFILE_BIT 020000000 /* __O_TMPFILE: O_TMPFILE is __O_TMPFILE | O_DIRECTORY */

#define K_S_IFMT 0170000
#define K_S_IFSOCK 0140000
#define K_S_IFLNK 0120000
#define K_S_IFREG 0100000
#define K_S_IFDIR 0040000

#define K_FMODE_CREATED 0x100000 /* (fmode_t)(1 << 20) */
#define K_SB_RDONLY 1
#define K_S_IMMUTABLE 8 /* inode->i_flags */
#define K_OVERLAYFS_SUPER_MAGIC 0x794c7630

#define K_AT_SYMLINK_NOFOLLOW 0x100
#define K_AT_REMOVEDIR 0x200
#define K_AT_SYMLINK_FOLLOW 0x400
#define K_AT_EMPTY_PATH 0x1000

#define K_AF_UNIX 1
#define K_AF_INET 2
#define K_AF_INET6 10

#define K_EINPROGRESS 115
#define K_TS_COMPAT 0x0002
#define K_PF_KTHREAD 0x00200000

#define K_PR_SET_NAME 15
#define K_PR_GET_NAME 16
#define K_PR_SET_CHILD_SUBREAPER 36
#define K_PR_GET_CHILD_SUBREAPER 37

/* ---- scap (PPM) constants ---- */
#define PPM_O_RDONLY (1 << 0)
#define PPM_O_WRONLY (1 << 1)
#define PPM_O_RDWR (PPM_O_RDONLY | PPM_O_WRONLY)
#define PPM_O_CREAT (1 << 2)
#define PPM_O_APPEND (1 << 3)
#define PPM_O_DSYNC (1 << 4)
#define PPM_O_EXCL (1 << 5)
#define PPM_O_NONBLOCK (1 << 6)
#define PPM_O_SYNC (1 << 7)
#define PPM_O_TRUNC (1 << 8)
#define PPM_O_DIRECT (1 << 9)
#define PPM_O_DIRECTORY (1 << 10)
#define PPM_O_LARGEFILE (1 << 11)
#define PPM_O_CLOEXEC (1 << 12)
#define PPM_O_TMPFILE (1 << 13)
#define PPM_O_F_CREATED (1 << 14)
#define PPM_FD_UPPER_LAYER (1 << 15)
#define PPM_FD_LOWER_LAYER (1 << 16)

#define PPM_EXE_WRITABLE (1 << 0)
#define PPM_EXE_UPPER_LAYER (1 << 1)
#define PPM_EXE_FROM_MEMFD (1 << 2)
#define PPM_EXE_LOWER_LAYER (1 << 3)

#define PPM_CL_CLONE_FILES (1 << 0)
#define PPM_CL_CLONE_FS (1 << 1)
#define PPM_CL_CLONE_IO (1 << 2)
#define PPM_CL_CLONE_NEWIPC (1 << 3)
#define PPM_CL_CLONE_NEWNET (1 << 4)
#define PPM_CL_CLONE_NEWNS (1 << 5)
#define PPM_CL_CLONE_NEWPID (1 << 6)
#define PPM_CL_CLONE_NEWUTS (1 << 7)
#define PPM_CL_CLONE_PARENT (1 << 8)
#define PPM_CL_CLONE_PARENT_SETTID (1 << 9)
#define PPM_CL_CLONE_PTRACE (1 << 10)
#define PPM_CL_CLONE_SIGHAND (1 << 11)
#define PPM_CL_CLONE_SYSVSEM (1 << 12)
#define PPM_CL_CLONE_THREAD (1 << 13)
#define PPM_CL_CLONE_UNTRACED (1 << 14)
#define PPM_CL_CLONE_VM (1 << 15)
#define PPM_CL_CLONE_NEWUSER (1 << 20)
#define PPM_CL_CLONE_CHILD_CLEARTID (1 << 23)
#define PPM_CL_CLONE_CHILD_SETTID (1 << 24)
#define PPM_CL_CLONE_SETTLS (1 << 25)
#define PPM_CL_CLONE_VFORK (1 << 27)
#define PPM_CL_CLONE_NEWCGROUP (1 << 28)
#define PPM_CL_CHILD_IN_PIDNS (1 << 29)

#define PPM_AT_FDCWD -100
#define PPM_AT_REMOVEDIR 0x200
#define PPM_AT_SYMLINK_FOLLOW 0x400
#define PPM_AT_EMPTY_PATH 0x1000

#define PPM_S_IXOTH (1 << 0)
#define PPM_S_IWOTH (1 << 1)
#define PPM_S_IROTH (1 << 2)
#define PPM_S_IXGRP (1 << 3)
#define PPM_S_IWGRP (1 << 4)
#define PPM_S_IRGRP (1 << 5)
#define PPM_S_IXUSR (1 << 6)
#define PPM_S_IWUSR (1 << 7)
#define PPM_S_IRUSR (1 << 8)
#define PPM_S_ISVTX (1 << 9)
#define PPM_S_ISGID (1 << 10)
#define PPM_S_ISUID (1 << 11)

#define PPM_RESOLVE_BENEATH (1 << 0)
#define PPM_RESOLVE_IN_ROOT (1 << 1)
#define PPM_RESOLVE_NO_MAGICLINKS (1 << 2)
#define PPM_RESOLVE_NO_SYMLINKS (1 << 3)
#define PPM_RESOLVE_NO_XDEV (1 << 4)
#define PPM_RESOLVE_CACHED (1 << 5)

#define PPM_MS_MGC_MSK 0xffff0000
#define PPM_MS_MGC_VAL 0xC0ED0000

#define PPM_PTRACE_IDX_UINT64 0
#define PPM_PTRACE_IDX_SIGTYPE 1

#define PPM_AF_UNSPEC 0

/* Linux and scap use the same bit positions for capabilities up to CAP_CHECKPOINT_RESTORE (40). */
#define PPM_CAP_MASK ((1ULL << 41) - 1)

static __always_inline __u32 open_flags_to_scap(__u64 flags)
{
	__u32 res;
	switch (flags & K_O_ACCMODE) {
	case K_O_WRONLY:
		res = PPM_O_WRONLY;
		break;
	case K_O_RDWR:
		res = PPM_O_RDWR;
		break;
	default:
		res = PPM_O_RDONLY;
		break;
	}
	if (flags & K_O_CREAT)
		res |= PPM_O_CREAT;
	/* O_TMPFILE includes O_DIRECTORY: test the whole value, not any bit of it. */
	if ((flags & (K_O_TMPFILE_BIT | K_O_DIRECTORY)) == (K_O_TMPFILE_BIT | K_O_DIRECTORY))
		res |= PPM_O_TMPFILE;
	if (flags & K_O_APPEND)
		res |= PPM_O_APPEND;
	if (flags & K_O_DSYNC)
		res |= PPM_O_DSYNC;
	if (flags & K_O_EXCL)
		res |= PPM_O_EXCL;
	if (flags & K_O_NONBLOCK)
		res |= PPM_O_NONBLOCK;
	if (flags & K_O_SYNC_BIT)
		res |= PPM_O_SYNC;
	if (flags & K_O_TRUNC)
		res |= PPM_O_TRUNC;
	if (flags & K_O_DIRECT)
		res |= PPM_O_DIRECT;
	if ((flags & K_O_DIRECTORY) && !(flags & K_O_TMPFILE_BIT))
		res |= PPM_O_DIRECTORY;
	if (flags & K_O_LARGEFILE)
		res |= PPM_O_LARGEFILE;
	if (flags & K_O_CLOEXEC)
		res |= PPM_O_CLOEXEC;
	return res;
}

static __always_inline __u32 mode_bits_to_scap(__u64 mode)
{
	__u32 res = 0;
	if (mode & 0400)
		res |= PPM_S_IRUSR;
	if (mode & 0200)
		res |= PPM_S_IWUSR;
	if (mode & 0100)
		res |= PPM_S_IXUSR;
	if (mode & 0040)
		res |= PPM_S_IRGRP;
	if (mode & 0020)
		res |= PPM_S_IWGRP;
	if (mode & 0010)
		res |= PPM_S_IXGRP;
	if (mode & 0004)
		res |= PPM_S_IROTH;
	if (mode & 0002)
		res |= PPM_S_IWOTH;
	if (mode & 0001)
		res |= PPM_S_IXOTH;
	if (mode & 04000)
		res |= PPM_S_ISUID;
	if (mode & 02000)
		res |= PPM_S_ISGID;
	if (mode & 01000)
		res |= PPM_S_ISVTX;
	return res;
}

/* The open mode only means something when the call can create a file. */
static __always_inline __u32 open_modes_to_scap(__u64 flags, __u64 mode)
{
	if (!(flags & (K_O_CREAT | K_O_TMPFILE_BIT)))
		return 0;
	return mode_bits_to_scap(mode);
}

static __always_inline __u32 openat2_resolve_to_scap(__u64 resolve)
{
	__u32 res = 0;
	if (resolve & 0x01)
		res |= PPM_RESOLVE_NO_XDEV;
	if (resolve & 0x02)
		res |= PPM_RESOLVE_NO_MAGICLINKS;
	if (resolve & 0x04)
		res |= PPM_RESOLVE_NO_SYMLINKS;
	if (resolve & 0x08)
		res |= PPM_RESOLVE_BENEATH;
	if (resolve & 0x10)
		res |= PPM_RESOLVE_IN_ROOT;
	if (resolve & 0x20)
		res |= PPM_RESOLVE_CACHED;
	return res;
}

static __always_inline __u32 clone_flags_to_scap(__u64 flags)
{
	__u32 res = 0;
	if (flags & 0x00000400)
		res |= PPM_CL_CLONE_FILES;
	if (flags & 0x00000200)
		res |= PPM_CL_CLONE_FS;
	if (flags & 0x80000000)
		res |= PPM_CL_CLONE_IO;
	if (flags & 0x08000000)
		res |= PPM_CL_CLONE_NEWIPC;
	if (flags & 0x40000000)
		res |= PPM_CL_CLONE_NEWNET;
	if (flags & 0x00020000)
		res |= PPM_CL_CLONE_NEWNS;
	if (flags & 0x20000000)
		res |= PPM_CL_CLONE_NEWPID;
	if (flags & 0x04000000)
		res |= PPM_CL_CLONE_NEWUTS;
	if (flags & 0x00100000)
		res |= PPM_CL_CLONE_PARENT_SETTID;
	if (flags & 0x00008000)
		res |= PPM_CL_CLONE_PARENT;
	if (flags & 0x00002000)
		res |= PPM_CL_CLONE_PTRACE;
	if (flags & 0x00000800)
		res |= PPM_CL_CLONE_SIGHAND;
	if (flags & 0x00040000)
		res |= PPM_CL_CLONE_SYSVSEM;
	if (flags & 0x00010000)
		res |= PPM_CL_CLONE_THREAD;
	if (flags & 0x00800000)
		res |= PPM_CL_CLONE_UNTRACED;
	if (flags & 0x00000100)
		res |= PPM_CL_CLONE_VM;
	if (flags & 0x10000000)
		res |= PPM_CL_CLONE_NEWUSER;
	if (flags & 0x00200000)
		res |= PPM_CL_CLONE_CHILD_CLEARTID;
	if (flags & 0x01000000)
		res |= PPM_CL_CLONE_CHILD_SETTID;
	if (flags & 0x00080000)
		res |= PPM_CL_CLONE_SETTLS;
	if (flags & 0x00004000)
		res |= PPM_CL_CLONE_VFORK;
	if (flags & 0x02000000)
		res |= PPM_CL_CLONE_NEWCGROUP;
	return res;
}

/* scap socket families mirror Linux numbering up to AF_NFC (39), except AF_IB/AF_MPLS which it lacks. */
static __always_inline __u8 socket_family_to_scap(__u64 family)
{
	if (family > 39 || family == 27 || family == 28)
		return PPM_AF_UNSPEC;
	return (__u8)family;
}

static __always_inline __u32 unlinkat_flags_to_scap(__u64 flags)
{
	return (flags & K_AT_REMOVEDIR) ? PPM_AT_REMOVEDIR : 0;
}

static __always_inline __u32 linkat_flags_to_scap(__u64 flags)
{
	__u32 res = 0;
	if (flags & K_AT_SYMLINK_FOLLOW)
		res |= PPM_AT_SYMLINK_FOLLOW;
	if (flags & K_AT_EMPTY_PATH)
		res |= PPM_AT_EMPTY_PATH;
	return res;
}

/* fchownat: scap reports the same two bits as linkat. */
static __always_inline __u32 fchownat_flags_to_scap(__u64 flags)
{
	return linkat_flags_to_scap(flags);
}

/* Flags made only of O_CLOEXEC / O_NONBLOCK / O_DIRECT bits (dup3, pipe2, socket type flags). */
static __always_inline __u32 fd_flags_to_scap(__s64 flags)
{
	__u32 res = 0;
	if (flags < 0)
		return 0;
	if (flags & K_O_CLOEXEC)
		res |= PPM_O_CLOEXEC;
	if (flags & K_O_NONBLOCK)
		res |= PPM_O_NONBLOCK;
	if (flags & K_O_DIRECT)
		res |= PPM_O_DIRECT;
	return res;
}

static __always_inline __u8 fcntl_cmd_to_scap(__u64 cmd)
{
	switch (cmd) {
	case 0:
		return 1; /* F_DUPFD */
	case 1:
		return 2; /* F_GETFD */
	case 2:
		return 3; /* F_SETFD */
	case 3:
		return 4; /* F_GETFL */
	case 4:
		return 5; /* F_SETFL */
	case 5:
		return 6; /* F_GETLK */
	case 6:
		return 8; /* F_SETLK */
	case 7:
		return 9; /* F_SETLKW */
	case 8:
		return 10; /* F_SETOWN */
	case 9:
		return 12; /* F_GETOWN */
	case 10:
		return 13; /* F_SETSIG */
	case 11:
		return 15; /* F_GETSIG */
	case 15:
		return 21; /* F_SETOWN_EX */
	case 16:
		return 22; /* F_GETOWN_EX */
	case 1024:
		return 23; /* F_SETLEASE */
	case 1025:
		return 24; /* F_GETLEASE */
	case 1029:
		return 25; /* F_CANCELLK */
	case 1030:
		return 26; /* F_DUPFD_CLOEXEC */
	case 1026:
		return 27; /* F_NOTIFY */
	case 1031:
		return 28; /* F_SETPIPE_SZ */
	case 1032:
		return 29; /* F_GETPIPE_SZ */
	case 36:
		return 30; /* F_OFD_GETLK */
	case 37:
		return 31; /* F_OFD_SETLK */
	case 38:
		return 32; /* F_OFD_SETLKW */
	default:
		return 0; /* PPM_FCNTL_UNKNOWN */
	}
}

static __always_inline __u16 ptrace_request_to_scap(__u64 req)
{
	switch (req) {
	case 0:
		return 1; /* TRACEME */
	case 1:
		return 2; /* PEEKTEXT */
	case 2:
		return 3; /* PEEKDATA */
	case 3:
		return 4; /* PEEKUSR */
	case 4:
		return 5; /* POKETEXT */
	case 5:
		return 6; /* POKEDATA */
	case 6:
		return 7; /* POKEUSR */
	case 7:
		return 8; /* CONT */
	case 8:
		return 9; /* KILL */
	case 9:
		return 10; /* SINGLESTEP */
	case 16:
		return 11; /* ATTACH */
	case 17:
		return 12; /* DETACH */
	case 24:
		return 13; /* SYSCALL */
	case 0x4200:
		return 14; /* SETOPTIONS */
	case 0x4201:
		return 15; /* GETEVENTMSG */
	case 0x4202:
		return 16; /* GETSIGINFO */
	case 0x4203:
		return 17; /* SETSIGINFO */
	case 0x4204:
		return 18; /* GETREGSET */
	case 0x4205:
		return 19; /* SETREGSET */
	case 0x4206:
		return 20; /* SEIZE */
	case 0x4207:
		return 21; /* INTERRUPT */
	case 0x4208:
		return 22; /* LISTEN */
	case 0x4209:
		return 23; /* PEEKSIGINFO */
	case 0x420a:
		return 24; /* GETSIGMASK */
	case 0x420b:
		return 25; /* SETSIGMASK */
	case 12:
		return 26; /* GETREGS */
	case 13:
		return 27; /* SETREGS */
	case 14:
		return 28; /* GETFPREGS */
	case 15:
		return 29; /* SETFPREGS */
	case 18:
		return 30; /* GETFPXREGS */
	case 19:
		return 31; /* SETFPXREGS */
	case 21:
		return 32; /* OLDSETOPTIONS */
	case 25:
		return 33; /* GET_THREAD_AREA */
	case 26:
		return 34; /* SET_THREAD_AREA */
	case 30:
		return 35; /* ARCH_PRCTL */
	case 31:
		return 36; /* SYSEMU */
	case 32:
		return 37; /* SYSEMU_SINGLESTEP */
	case 33:
		return 38; /* SINGLEBLOCK */
	default:
		return 0; /* PPM_PTRACE_UNKNOWN */
	}
}

/* mount(2) flags: the same bits as the kernel once the legacy magic number in the high half is removed. */
static __always_inline __u32 mount_flags_to_scap(__u64 flags)
{
	__u32 f = (__u32)flags;
	if ((f & PPM_MS_MGC_MSK) == PPM_MS_MGC_VAL)
		f &= ~PPM_MS_MGC_MSK;
	return f;
}

/* new_encode_dev(): the userspace dev_t encoding of a kernel dev_t (major 12 bits, minor 20 bits). */
static __always_inline __u32 encode_dev(__u32 dev)
{
	__u32 major = dev >> 20;
	__u32 minor = dev & ((1U << 20) - 1);
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffU) << 12);
}
