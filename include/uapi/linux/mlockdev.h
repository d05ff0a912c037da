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
#define MLOCKDEV_ABI_MINOR	0

/* Bits of struct mlockdev_version.features: what this module implements. */
#define MLOCKDEV_FEAT_VERSION		(1ULL << 0)	/* MLOCKDEV_IOC_VERSION */
#define MLOCKDEV_FEAT_LOCK_ALL		(1ULL << 1)	/* MLOCKDEV_IOC_LOCK_ALL */
#define MLOCKDEV_FEAT_UNLOCK_ALL	(1ULL << 2)	/* MLOCKDEV_IOC_UNLOCK_ALL */
#define MLOCKDEV_FEAT_STATS		(1ULL << 3)	/* counters in sysfs */

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

#endif /* _UAPI_LINUX_MLOCKDEV_H */
