/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmlockdev: mlockall(2) and munlockall(2) through /dev/mlockdev.
 *
 * The two calls have exactly the contract of the libc functions they
 * replace: 0 on success with errno left as it was, -1 with errno set on
 * failure.  The kernel module does all validation and sets the errno that
 * mlockall(2)/munlockall(2) would set.  See libmlockdev(3).
 */
#ifndef MLOCKDEV_MLOCKDEV_H
#define MLOCKDEV_MLOCKDEV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <linux/mlockdev.h>

#ifndef MCL_ONFAULT
#define MCL_ONFAULT	4	/* as in <sys/mman.h> of glibc >= 2.22 */
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The device opened when MLOCKDEV_DEVICE is not set in the environment. */
#define MLOCKDEV_DEFAULT_DEVICE	"/dev/" MLOCKDEV_DEVICE_NAME

/* Environment variable that overrides the device path (tests). */
#define MLOCKDEV_DEVICE_ENV	"MLOCKDEV_DEVICE"

/**
 * struct mlockdev_info - what mlockdev_query() reports
 * @abi_major:		ABI major version of the loaded module.
 * @abi_minor:		ABI minor version of the loaded module.
 * @features:		MLOCKDEV_FEAT_* bits.
 * @kernel_release:	release (uname -r) the module was built for.
 * @reserved:		zero; room to grow without a new symbol version.
 */
struct mlockdev_info {
	uint32_t abi_major;
	uint32_t abi_minor;
	uint64_t features;
	char kernel_release[MLOCKDEV_RELEASE_LEN];
	uint64_t reserved[4];
};

/*
 * mlockall(flags) on the calling process, through the device.  flags is
 * passed to the kernel unchanged.  Returns 0, or -1 with errno set to what
 * mlockall(2) would set (EINVAL, EPERM, ENOMEM, EINTR, ...), or ENODEV if
 * the device does not exist, or open(2)'s errno if it cannot be opened,
 * or EACCES if the module declines the caller (it is under a seccomp
 * filter and the module was not loaded with allow_seccomp=1): the
 * library does not make the system call instead.
 */
int mlockdev_lockall(int flags);

/* munlockall() on the calling process, through the device.  As above. */
int mlockdev_unlockall(void);

/* ABI version, features and build release of the loaded module. */
int mlockdev_query(struct mlockdev_info *info);

/*
 * Parse "current,future,onfault" (any non-empty combination, comma
 * separated; onfault needs current or future) into MCL_* bits.  Returns 0,
 * or -1 with errno EINVAL.  The syntax of MLOCKDEV_LOCK and of
 * "mlockdevctl run --lock".
 */
int mlockdev_flags_from_string(const char *spec, int *flags);

/* The device path the library opens: $MLOCKDEV_DEVICE or /dev/mlockdev. */
const char *mlockdev_device_path(void);

/*
 * Since version MLOCKDEV_1.1 of the library, for modules of ABI 1.1 and
 * later (features MLOCKDEV_FEAT_LOCK_ALL_EX and _UNLOCK_ALL_EX): the
 * extensible calls, with a mode, another process and a report.
 */

/**
 * struct mlockdev_options - how mlockdev_lockall_ex() and
 * mlockdev_unlockall_ex() act.  All zero, or a NULL pointer, is exactly
 * mlockdev_lockall() and mlockdev_unlockall().
 * @mode:	MLOCKDEV_LOCK_STRICT (lock only: all or nothing),
 *		MLOCKDEV_LOCK_OPENBSD (OpenBSD's rules), MLOCKDEV_LOCK_PIDFD
 *		(act on the process @pidfd names); passed on unchanged.
 * @pidfd:	with MLOCKDEV_LOCK_PIDFD, a pidfd of the process to act on
 *		(pidfd_open(2)); otherwise it must be 0.
 * @workers:	lock only: threads that fault memory in,
 *		MLOCKDEV_WORKERS_SYSCALL (0: the module's populate_workers,
 *		by default the caller alone, as mlockall), a number, or
 *		MLOCKDEV_WORKERS_AUTO.  Must be 0 for an unlock.
 * @reserved:	must be zero (EINVAL otherwise): room to grow without a
 *		new symbol version.
 */
struct mlockdev_options {
	uint64_t mode;
	int32_t pidfd;
	uint32_t workers;
	uint64_t reserved[6];
};

/*
 * mlockall(flags) with options, and what it did in *report (the module's
 * struct mlockdev_report, <linux/mlockdev.h>; NULL if not wanted).
 * Returns as mlockdev_lockall(): 0, errno untouched; or -1 with errno,
 * which may also be ENOTTY (the module predates ABI 1.1), EINVAL (a mode
 * bit it does not know), or for a pidfd call EBADF, ESRCH, EPERM (no
 * right to ptrace the process) and EINVAL (a kernel thread); in strict
 * and OpenBSD mode the error that kept memory from being made resident
 * (EFAULT, ENOMEM, EAGAIN, ...).  *report is filled in on success and on
 * failure; what the module did not get to is zero.
 */
int mlockdev_lockall_ex(int flags, const struct mlockdev_options *opts,
			struct mlockdev_report *report);

/* munlockall() with options (MLOCKDEV_LOCK_OPENBSD, _PIDFD).  As above. */
int mlockdev_unlockall_ex(const struct mlockdev_options *opts,
			  struct mlockdev_report *report);

/*
 * Does the loaded module implement every MLOCKDEV_FEAT_* bit in
 * features?  1 yes, 0 no (errno untouched), -1 with errno as for
 * mlockdev_query() when the device cannot be asked.
 */
int mlockdev_supports(uint64_t features);

/*
 * *report as text, one "  name: value" line per item, into buf (size
 * bytes, always NUL-terminated when size > 0).  Returns the length of the
 * whole text, as snprintf(3) does: a value >= size means it was cut; or
 * -1 with errno EINVAL for a NULL report.
 */
int mlockdev_report_format(const struct mlockdev_report *report, char *buf,
			   size_t size);

/*
 * For static programs: link with
 *   -Wl,--wrap=mlockall -Wl,--wrap=munlockall -lmlockdev
 * and their mlockall()/munlockall() calls land here.
 */
int __wrap_mlockall(int flags);
int __wrap_munlockall(void);

#ifdef __cplusplus
}
#endif

#endif /* MLOCKDEV_MLOCKDEV_H */
