// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl structs: checks of reserved fields, the version query, and the
 * unpacking of LOCK_ALL/UNLOCK_ALL into mlockall()/munlockall() calls and
 * of their extensible forms into calls with a mode and a report.
 */
#include <linux/sched.h>
#include <linux/string.h>
#include <generated/utsrelease.h>
#include <kunit/visibility.h>

#include "compat.h"
#include "mlockdev.h"
#include "trace.h"

/* Features this build of the module implements. */
#define MLOCKDEV_FEATURES	(MLOCKDEV_FEAT_VERSION | MLOCKDEV_FEAT_LOCK_ALL | \
				 MLOCKDEV_FEAT_UNLOCK_ALL | MLOCKDEV_FEAT_STATS | \
				 MLOCKDEV_FEAT_LOCK_ALL_EX |		\
				 MLOCKDEV_FEAT_UNLOCK_ALL_EX |		\
				 MLOCKDEV_FEAT_STRICT | MLOCKDEV_FEAT_OPENBSD | \
				 MLOCKDEV_FEAT_PIDFD | MLOCKDEV_FEAT_WORKERS)

/* mode_flags each extensible call understands. */
#define MLOCKDEV_LOCK_MODES	(MLOCKDEV_LOCK_STRICT | MLOCKDEV_LOCK_OPENBSD | \
				 MLOCKDEV_LOCK_PIDFD)
#define MLOCKDEV_UNLOCK_MODES	(MLOCKDEV_LOCK_OPENBSD | MLOCKDEV_LOCK_PIDFD)

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

/*
 * The inputs every extensible call shares: known mode bits only, a pidfd
 * only with MLOCKDEV_LOCK_PIDFD, reserved fields zero.
 */
static int mlockdev_ex_inputs_valid(u64 mode_flags, u64 known, s32 pidfd,
				    const void *reserved, size_t size)
{
	if (mode_flags & ~known)
		return -EINVAL;
	if (!(mode_flags & MLOCKDEV_LOCK_PIDFD) && pidfd)
		return -EINVAL;
	if (!mlockdev_reserved_is_zero(reserved, size))
		return -EINVAL;
	return 0;
}

/**
 * mlockdev_ioctl_lock_all_ex - MLOCKDEV_IOC_LOCK_ALL_EX
 * @arg: kernel copy of the caller's struct mlockdev_lockall_ex
 * @report: set once the arguments are accepted: from then on the report
 *	    in @arg is copied back, also after an error
 *
 * Return: -EINVAL for unknown mode bits, a pidfd without
 * MLOCKDEV_LOCK_PIDFD or non-zero reserved fields; -EBADF, -ESRCH, -EPERM
 * or -EINVAL for a pidfd call whose target cannot be locked by this caller
 * (remote.c); else what the call returned.
 */
long mlockdev_ioctl_lock_all_ex(void *arg, bool *report)
{
	struct mlockdev_lockall_ex *la = arg;
	struct mlockdev_call call = {
		.mm = current->mm,
		.caller_mm = current->mm,
		.caller_pkru = mlockdev_caller_pkru(),
		/* mlockall() takes an int: bit 31 makes it negative. */
		.flags = (int)la->flags,
		.mode = la->mode_flags,
		.workers = la->workers,
		.report = &la->report,
	};
	int ret;

	ret = mlockdev_ex_inputs_valid(la->mode_flags, MLOCKDEV_LOCK_MODES,
				       la->pidfd, la->reserved,
				       sizeof(la->reserved));
	if (ret)
		return ret;
	if (call.mode & MLOCKDEV_LOCK_PIDFD) {
		ret = mlockdev_remote_get(&call, la->pidfd);
		if (ret)
			return ret;
	}

	memset(&la->report, 0, sizeof(la->report));
	*report = true;
	trace_mlockdev_call_enter(true, call.flags, call.mode);
	if (call.mode & MLOCKDEV_LOCK_OPENBSD)
		ret = mlockdev_openbsd_lock_call(&call);
	else
		ret = mlockdev_lock_call(&call);
	trace_mlockdev_call_exit(true, ret, la->report.locked_vm_after);
	mlockdev_remote_put(&call);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_ioctl_lock_all_ex);

/**
 * mlockdev_ioctl_unlock_all_ex - MLOCKDEV_IOC_UNLOCK_ALL_EX
 * @arg: kernel copy of the caller's struct mlockdev_unlockall_ex
 * @report: as for mlockdev_ioctl_lock_all_ex()
 *
 * Return: -EINVAL for non-zero flags, unknown mode bits or non-zero
 * reserved fields; errors of the pidfd as for LOCK_ALL_EX; else what
 * munlockall() returns.
 */
long mlockdev_ioctl_unlock_all_ex(void *arg, bool *report)
{
	struct mlockdev_unlockall_ex *ua = arg;
	struct mlockdev_call call = {
		.mm = current->mm,
		.caller_mm = current->mm,
		.mode = ua->mode_flags,
		.report = &ua->report,
	};
	int ret;

	if (ua->flags || ua->reserved0)
		return -EINVAL;
	ret = mlockdev_ex_inputs_valid(ua->mode_flags, MLOCKDEV_UNLOCK_MODES,
				       ua->pidfd, ua->reserved,
				       sizeof(ua->reserved));
	if (ret)
		return ret;
	if (call.mode & MLOCKDEV_LOCK_PIDFD) {
		ret = mlockdev_remote_get(&call, ua->pidfd);
		if (ret)
			return ret;
	}

	memset(&ua->report, 0, sizeof(ua->report));
	*report = true;
	trace_mlockdev_call_enter(false, 0, call.mode);
	if (call.mode & MLOCKDEV_LOCK_OPENBSD)
		ret = mlockdev_openbsd_unlock_call(&call);
	else
		ret = mlockdev_unlock_call(&call);
	trace_mlockdev_call_exit(false, ret, ua->report.locked_vm_after);
	mlockdev_remote_put(&call);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_ioctl_unlock_all_ex);
