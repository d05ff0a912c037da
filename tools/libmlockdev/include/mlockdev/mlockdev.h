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
