// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl structs: checks of reserved fields, the version query, and the
 * unpacking of LOCK_ALL/UNLOCK_ALL into mlockall()/munlockall() calls.
 */
#include <linux/string.h>
#include <generated/utsrelease.h>
#include <kunit/visibility.h>

#include "mlockdev.h"

/* Features this build of the module implements. */
#define MLOCKDEV_FEATURES	(MLOCKDEV_FEAT_VERSION | MLOCKDEV_FEAT_LOCK_ALL | \
				 MLOCKDEV_FEAT_UNLOCK_ALL | MLOCKDEV_FEAT_STATS)

/**
 * mlockdev_reserved_is_zero - check that a reserved ABI field is all zero
 * @field: the field, in kernel memory
 * @size: its size in bytes
 *
 * Return: true if every byte is zero.  Callers fail the ioctl with -EINVAL
 * otherwise, so that a later ABI can give the field a meaning.
 */
bool mlockdev_reserved_is_zero(const void *field, size_t size)
{
	return !memchr_inv(field, 0, size);
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_reserved_is_zero);

/**
 * mlockdev_ioctl_version - MLOCKDEV_IOC_VERSION
 * @arg: kernel copy of the caller's struct mlockdev_version
 *
 * Return: 0 with @arg filled in, or -EINVAL for non-zero input fields.
 */
long mlockdev_ioctl_version(void *arg)
{
	struct mlockdev_version *ver = arg;

	if (ver->flags ||
	    !mlockdev_reserved_is_zero(&ver->reserved0, sizeof(ver->reserved0)) ||
	    !mlockdev_reserved_is_zero(ver->reserved, sizeof(ver->reserved)))
		return -EINVAL;

	memset(ver, 0, sizeof(*ver));
	ver->abi_major = MLOCKDEV_ABI_MAJOR;
	ver->abi_minor = MLOCKDEV_ABI_MINOR;
	ver->features = MLOCKDEV_FEATURES;
	strscpy(ver->kernel_release, UTS_RELEASE, sizeof(ver->kernel_release));
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_ioctl_version);

/**
 * mlockdev_ioctl_lock_all - MLOCKDEV_IOC_LOCK_ALL
 * @arg: kernel copy of the caller's struct mlockdev_lockall
 *
 * Return: -EINVAL for non-zero reserved fields, else what mlockall() with
 * the same flags returns (as a negative errno).
 */
long mlockdev_ioctl_lock_all(void *arg)
{
	struct mlockdev_lockall *la = arg;

	if (!mlockdev_reserved_is_zero(&la->reserved0, sizeof(la->reserved0)) ||
	    !mlockdev_reserved_is_zero(la->reserved, sizeof(la->reserved)))
		return -EINVAL;
	/* mlockall() takes an int: bit 31 makes it negative, hence invalid. */
	return mlockdev_lockall((int)la->flags);
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_ioctl_lock_all);

/**
 * mlockdev_ioctl_unlock_all - MLOCKDEV_IOC_UNLOCK_ALL
 * @arg: kernel copy of the caller's struct mlockdev_unlockall
 *
 * Return: -EINVAL for non-zero flags or reserved fields, else what
 * munlockall() returns.
 */
long mlockdev_ioctl_unlock_all(void *arg)
{
	struct mlockdev_unlockall *ua = arg;

	if (ua->flags ||
	    !mlockdev_reserved_is_zero(&ua->reserved0, sizeof(ua->reserved0)) ||
	    !mlockdev_reserved_is_zero(ua->reserved, sizeof(ua->reserved)))
		return -EINVAL;
	return mlockdev_unlockall();
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_ioctl_unlock_all);
