// SPDX-License-Identifier: GPL-2.0
/*
 * mlockall(2) and munlockall(2), step by step as mm/mlock.c does them:
 * the same checks in the same order, the same locks, the same state.
 *
 *   mlockall(flags)
 *     EINVAL  flags not valid                      (policy.c)
 *     EPERM   RLIMIT_MEMLOCK 0 and no CAP_IPC_LOCK (can_do_mlock())
 *     EINTR   fatal signal while waiting for the mmap write lock
 *     ENOMEM  MCL_CURRENT, VmSize over the limit, no CAP_IPC_LOCK
 *     under the lock:   def_flags, VM_LOCKED bits, locked_vm, page marks
 *                       (vma_pass.c, page_pass.c)
 *     after the lock:   MCL_CURRENT faults everything in (populate.c)
 *
 *   munlockall()
 *     EINTR   as above; then the same pass with no lock bits
 */
#include <linux/capability.h>
#include <linux/mman.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched/signal.h>
#include <kunit/visibility.h>

#include "mlockdev.h"
#include "trace.h"

/*
 * Under the mmap write lock: the ENOMEM rule, then everything that must
 * be decided before anything changes (the cap, the undo log), then the
 * VMA pass.
 */
static int mlockdev_lock_locked(struct mlockdev_call *call,
				unsigned long lock_limit)
{
	int ret;

	/*
	 * capable() is asked only when the limit alone says no: it may be
	 * audited, and the system call asks in exactly that case.
	 */
	if (!mlockdev_lockall_fits(call->flags, call->mm->total_vm,
				   lock_limit) &&
	    !mlockdev_call_capable(call))
		return -ENOMEM;

	ret = mlockdev_cap_reserve(call);
	if (ret)
		return ret;
	if (call->mode & MLOCKDEV_LOCK_STRICT) {
		ret = mlockdev_undo_begin(call);
		if (ret)
			return ret;
	}
	mlockdev_apply_lock_flags(call);
	return 0;
}

/**
 * mlockdev_lock_call - mlockall(@call->flags) on @call->mm, in @call->mode
 * @call: the call; @call->mm is current->mm
 *
 * Uses the caller's credentials and rlimits at the time of the call, and
 * the caller's address space at the time of the call (for a pidfd call,
 * the target's limit and address space, remote.c).  In strict mode a
 * failure to make locked memory resident puts back every lock bit, the
 * accounting, def_flags and the page marks, and fails the call with that
 * error.
 *
 * Return: 0, or -EINVAL, -EPERM, -EINTR, -ENOMEM as mlockall(2), or for a
 * strict call the populate error.  Otherwise errors of the populate step
 * are ignored, as the system call ignores them.
 */
int mlockdev_lock_call(struct mlockdev_call *call)
{
	struct mm_struct *mm = call->mm;
	unsigned long lock_limit;
	int ret;

	/* Kernel threads have no address space to lock. */
	if (!mm)
		return -EINVAL;

	if (!mlockdev_lockall_flags_valid(call->flags))
		return -EINVAL;

	if (!mlockdev_call_can_mlock(call))
		return -EPERM;

	/* Read before sleeping on the lock, like the system call. */
	lock_limit = mlockdev_limit_pages(mlockdev_call_lock_limit(call));

	if (mmap_write_lock_killable(mm))
		return -EINTR;
	call->report->locked_vm_before = mm->locked_vm;
	ret = mlockdev_lock_locked(call, lock_limit);
	mmap_write_unlock(mm);

	if (!ret && (call->flags & MCL_CURRENT)) {
		ret = mlockdev_populate(call);
		if (ret)
			mlockdev_undo_rollback(call);
	}
	mlockdev_undo_end(call);
	mlockdev_cap_release(call);
	call->report->locked_vm_after = READ_ONCE(mm->locked_vm);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_lock_call);

/**
 * mlockdev_unlock_call - munlockall() on @call->mm
 * @call: the call; @call->mm is current->mm
 *
 * Return: 0, or -EINTR if a fatal signal arrived while waiting for the
 * mmap write lock.
 */
int mlockdev_unlock_call(struct mlockdev_call *call)
{
	struct mm_struct *mm = call->mm;

	if (!mm)
		return -EINVAL;

	if (mmap_write_lock_killable(mm))
		return -EINTR;
	call->report->locked_vm_before = mm->locked_vm;
	mlockdev_apply_lock_flags(call);
	call->report->locked_vm_after = mm->locked_vm;
	mmap_write_unlock(mm);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_unlock_call);

/**
 * mlockdev_lockall - mlockall(@flags) on current->mm, exactly
 * @flags: MCL_* flags, as the int the system call takes
 *
 * Return: as mlockall(2), as a negative errno.
 */
int mlockdev_lockall(int flags)
{
	struct mlockdev_report report = {};
	struct mlockdev_call call = {
		.mm = current->mm,
		.caller_mm = current->mm,
		.flags = flags,
		.report = &report,
	};
	int ret;

	trace_mlockdev_call_enter(true, flags, 0);
	ret = mlockdev_lock_call(&call);
	trace_mlockdev_call_exit(true, ret, report.locked_vm_after);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_lockall);

/**
 * mlockdev_unlockall - munlockall() on current->mm
 *
 * Return: 0, or -EINTR if a fatal signal arrived while waiting for the
 * mmap write lock.
 */
int mlockdev_unlockall(void)
{
	struct mlockdev_report report = {};
	struct mlockdev_call call = {
		.mm = current->mm,
		.caller_mm = current->mm,
		.report = &report,
	};
	int ret;

	trace_mlockdev_call_enter(false, 0, 0);
	ret = mlockdev_unlock_call(&call);
	trace_mlockdev_call_exit(false, ret, report.locked_vm_after);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_unlockall);
