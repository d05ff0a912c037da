/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * mlockdev: mlockall(2) and munlockall(2) reimplemented in a module and
 * offered as ioctls on /dev/mlockdev.
 *
 * This is the whole user ABI.  The module, the tools and the selftests all
 * include this one header.
 *
 * Rules that let the ABI grow without breaking old binaries:
 *  - every argument is a fixed-size struct of __u32/__u64 fields (plus
 *    fixed-size character arrays for strings), laid out with explicit
 *    padding so that i386 and x86_64 see the same offsets and size;
 *  - no pointers or longs travel through the ABI;
 *  - fields documented as "in: must be zero" are checked: a non-zero value
 *    fails with -EINVAL, so a later ABI can give them a meaning;
 *  - unknown ioctl numbers fail with -ENOTTY, bad user pointers with
 *    -EFAULT.
 */
#ifndef _UAPI_LINUX_MLOCKDEV_H
#define _UAPI_LINUX_MLOCKDEV_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The misc device is /dev/MLOCKDEV_DEVICE_NAME. */
#define MLOCKDEV_DEVICE_NAME	"mlockdev"

/* Incompatible changes bump the major, additions bump the minor. */
#define MLOCKDEV_ABI_MAJOR	1
#define MLOCKDEV_ABI_MINOR	1

/* Bits of struct mlockdev_version.features: what this module implements. */
#define MLOCKDEV_FEAT_VERSION		(1ULL << 0)	/* MLOCKDEV_IOC_VERSION */
#define MLOCKDEV_FEAT_LOCK_ALL		(1ULL << 1)	/* MLOCKDEV_IOC_LOCK_ALL */
#define MLOCKDEV_FEAT_UNLOCK_ALL	(1ULL << 2)	/* MLOCKDEV_IOC_UNLOCK_ALL */
#define MLOCKDEV_FEAT_STATS		(1ULL << 3)	/* counters in sysfs */
/* ABI 1.1 */
#define MLOCKDEV_FEAT_LOCK_ALL_EX	(1ULL << 4)	/* MLOCKDEV_IOC_LOCK_ALL_EX */
#define MLOCKDEV_FEAT_UNLOCK_ALL_EX	(1ULL << 5)	/* MLOCKDEV_IOC_UNLOCK_ALL_EX */
#define MLOCKDEV_FEAT_STRICT		(1ULL << 6)	/* MLOCKDEV_LOCK_STRICT */
#define MLOCKDEV_FEAT_OPENBSD		(1ULL << 7)	/* MLOCKDEV_LOCK_OPENBSD */
#define MLOCKDEV_FEAT_PIDFD		(1ULL << 8)	/* MLOCKDEV_LOCK_PIDFD */
#define MLOCKDEV_FEAT_WORKERS		(1ULL << 9)	/* parallel populate */

/* Room for a utsname release string (64 characters) and its NUL. */
#define MLOCKDEV_RELEASE_LEN	72

/**
 * struct mlockdev_version - argument of MLOCKDEV_IOC_VERSION
 * @flags:		in: must be zero.
 * @abi_major:		out: MLOCKDEV_ABI_MAJOR of the loaded module.
 * @abi_minor:		out: MLOCKDEV_ABI_MINOR of the loaded module.
 * @reserved0:		in: must be zero; out: zero.
 * @features:		out: MLOCKDEV_FEAT_* bits.
 * @kernel_release:	out: the kernel release (uname -r) the module was
 *			built for, NUL-terminated and NUL-padded.
 * @reserved:		in: must be zero; out: zero.
 */
struct mlockdev_version {
	__u32 flags;
	__u32 abi_major;
	__u32 abi_minor;
	__u32 reserved0;
	__u64 features;
	char kernel_release[MLOCKDEV_RELEASE_LEN];
	__u64 reserved[4];
};

/**
 * struct mlockdev_lockall - argument of MLOCKDEV_IOC_LOCK_ALL
 * @flags:	in: MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, as for mlockall(2).
 * @reserved0:	in: must be zero.
 * @reserved:	in: must be zero.
 */
struct mlockdev_lockall {
	__u32 flags;
	__u32 reserved0;
	__u64 reserved[3];
};

/**
 * struct mlockdev_unlockall - argument of MLOCKDEV_IOC_UNLOCK_ALL
 * @flags:	in: must be zero (munlockall(2) takes no flags).
 * @reserved0:	in: must be zero.
 * @reserved:	in: must be zero.
 */
struct mlockdev_unlockall {
	__u32 flags;
	__u32 reserved0;
	__u64 reserved[3];
};

/*
 * ABI 1.1: the extensible calls.  Their argument starts with its own size,
 * in the style of openat2(2) and clone3(2): a newer program may pass a
 * larger struct, accepted if every byte the module does not know is zero
 * (E2BIG otherwise); an older one a smaller struct, no smaller than
 * MLOCKDEV_*_EX_SIZE_VER0, whose missing fields count as zero.  The
 * command numbers encode the first size and never change.
 */

/* Bits of mode_flags. */
#define MLOCKDEV_LOCK_STRICT	(1ULL << 0)	/* all or nothing (lock only) */
#define MLOCKDEV_LOCK_OPENBSD	(1ULL << 1)	/* OpenBSD's mlockall rules */
#define MLOCKDEV_LOCK_PIDFD	(1ULL << 2)	/* act on the pidfd's process */

/* workers: how many threads fault memory in after MCL_CURRENT. */
#define MLOCKDEV_WORKERS_SYSCALL	0	/* the caller alone, as mlockall */
#define MLOCKDEV_WORKERS_AUTO		0xffffffffU	/* the module decides */

/**
 * struct mlockdev_report - what one extensible call did (out)
 * @vmas_seen:		VMAs looked at.
 * @vmas_changed:	VMAs whose lock bits the call changed.
 * @vmas_skipped_special: VMAs never locked: VM_IO, VM_PFNMAP, VM_MIXEDMAP,
 *			VM_DONTEXPAND (device memory, [vvar], [vdso]).
 * @vmas_skipped_droppable: MAP_DROPPABLE memory (VM_DROPPABLE).
 * @vmas_skipped_dax:	DAX mappings.
 * @vmas_skipped_hugetlb: hugetlb mappings (populated all the same).
 * @vmas_skipped_secretmem: memfd_secret() mappings.
 * @pages_marked:	pages present before the call that it marked
 *			PG_mlocked.
 * @pages_unmarked:	pages it unmarked.
 * @pages_populated:	pages the populate step faulted in or found present.
 * @populate_errors:	ranges whose populate ended with an error.
 * @populate_first_errno: the first of those errors, as a negative errno;
 *			0 if none.
 * @reserved0:		out: zero.
 * @populate_first_addr: the address where it happened.
 * @locked_vm_before:	the process's locked memory in pages (VmLck) before
 *			the call ...
 * @locked_vm_after:	... and after it.
 * @lock_pass_ns:	time with the address space write-locked: the VMA
 *			pass, the page pass included.
 * @page_pass_ns:	of which marking or unmarking present pages.
 * @populate_ns:	time faulting memory in.
 * @failed_vma_start:	with MLOCKDEV_LOCK_STRICT or _OPENBSD, when the call
 *			failed because memory could not be made resident:
 *			the VMA where it happened ...
 * @failed_vma_end:	... and its end; both 0 otherwise.
 * @workers_used:	threads that faulted memory in (1: the caller).
 * @reserved:		out: zero.
 *
 * Filled in on success, and on failure once the arguments were accepted
 * (EPERM, ENOMEM, EAGAIN, EINTR and populate errors), so that a failed
 * strict call says why.
 */
struct mlockdev_report {
	__u64 vmas_seen;
	__u64 vmas_changed;
	__u64 vmas_skipped_special;
	__u64 vmas_skipped_droppable;
	__u64 vmas_skipped_dax;
	__u64 vmas_skipped_hugetlb;
	__u64 vmas_skipped_secretmem;
	__u64 pages_marked;
	__u64 pages_unmarked;
	__u64 pages_populated;
	__u64 populate_errors;
	__s32 populate_first_errno;
	__u32 reserved0;
	__u64 populate_first_addr;
	__u64 locked_vm_before;
	__u64 locked_vm_after;
	__u64 lock_pass_ns;
	__u64 page_pass_ns;
	__u64 populate_ns;
	__u64 failed_vma_start;
	__u64 failed_vma_end;
	__u64 workers_used;
	__u64 reserved[10];
};

/**
 * struct mlockdev_lockall_ex - argument of MLOCKDEV_IOC_LOCK_ALL_EX
 * @size:	in: sizeof(struct mlockdev_lockall_ex) as the caller knows it.
 * @flags:	in: MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, as for mlockall(2).
 * @mode_flags:	in: MLOCKDEV_LOCK_*; 0 changes exactly what LOCK_ALL does.
 * @pidfd:	in: with MLOCKDEV_LOCK_PIDFD, a pidfd of the process to lock;
 *		otherwise must be zero.
 * @workers:	in: MLOCKDEV_WORKERS_SYSCALL (0), a number of threads, or
 *		MLOCKDEV_WORKERS_AUTO.
 * @reserved:	in: must be zero.
 * @report:	out: what the call did; its input is ignored.
 */
struct mlockdev_lockall_ex {
	__u32 size;
	__u32 flags;
	__u64 mode_flags;
	__s32 pidfd;
	__u32 workers;
	__u64 reserved[2];
	struct mlockdev_report report;
};

/**
 * struct mlockdev_unlockall_ex - argument of MLOCKDEV_IOC_UNLOCK_ALL_EX
 * @size:	in: sizeof(struct mlockdev_unlockall_ex) as the caller knows it.
 * @flags:	in: must be zero (munlockall(2) takes no flags).
 * @mode_flags:	in: MLOCKDEV_LOCK_OPENBSD, MLOCKDEV_LOCK_PIDFD.
 * @pidfd:	in: as for LOCK_ALL_EX.
 * @reserved0:	in: must be zero.
 * @reserved:	in: must be zero.
 * @report:	out: what the call did.
 */
struct mlockdev_unlockall_ex {
	__u32 size;
	__u32 flags;
	__u64 mode_flags;
	__s32 pidfd;
	__u32 reserved0;
	__u64 reserved[2];
	struct mlockdev_report report;
};

#define MLOCKDEV_LOCKALL_EX_SIZE_VER0	288	/* ABI 1.1 */
#define MLOCKDEV_UNLOCKALL_EX_SIZE_VER0	288	/* ABI 1.1 */

/* 0xB9 is unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst */
#define MLOCKDEV_IOC_MAGIC	0xB9

/* Query the ABI version, the features and the build release. */
#define MLOCKDEV_IOC_VERSION \
	_IOWR(MLOCKDEV_IOC_MAGIC, 0x00, struct mlockdev_version)
/* mlockall(flags) on the calling process: 0 or a negative errno. */
#define MLOCKDEV_IOC_LOCK_ALL \
	_IOW(MLOCKDEV_IOC_MAGIC, 0x01, struct mlockdev_lockall)
/* munlockall() on the calling process: 0 or a negative errno. */
#define MLOCKDEV_IOC_UNLOCK_ALL \
	_IOW(MLOCKDEV_IOC_MAGIC, 0x02, struct mlockdev_unlockall)
/* mlockall() with a mode and a report (ABI 1.1). */
#define MLOCKDEV_IOC_LOCK_ALL_EX \
	_IOC(_IOC_READ | _IOC_WRITE, MLOCKDEV_IOC_MAGIC, 0x03, \
	     MLOCKDEV_LOCKALL_EX_SIZE_VER0)
/* munlockall() with a mode and a report (ABI 1.1). */
#define MLOCKDEV_IOC_UNLOCK_ALL_EX \
	_IOC(_IOC_READ | _IOC_WRITE, MLOCKDEV_IOC_MAGIC, 0x04, \
	     MLOCKDEV_UNLOCKALL_EX_SIZE_VER0)

#endif /* _UAPI_LINUX_MLOCKDEV_H */
