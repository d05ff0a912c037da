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

/**
 * mlockdev_lockall - mlockall(@flags) on current->mm
 * @flags: MCL_* flags, as the int the system call takes
 *
 * Uses the caller's credentials and rlimits at the time of the call, and
 * the caller's address space at the time of the call.
 *
 * Return: 0, or -EINVAL, -EPERM, -EINTR, -ENOMEM as mlockall(2).  Errors of
 * the populate step are ignored, as the system call ignores them.
 */
int mlockdev_lockall(int flags)
{
	struct mm_struct *mm = current->mm;
	unsigned long lock_limit;
	int ret;

	/* Kernel threads have no address space to lock. */
	if (!mm)
		return -EINVAL;

	if (!mlockdev_lockall_flags_valid(flags))
		return -EINVAL;

	if (!can_do_mlock())
		return -EPERM;

	/* Read before sleeping on the lock, like the system call. */
	lock_limit = mlockdev_limit_pages(rlimit(RLIMIT_MEMLOCK));

	if (mmap_write_lock_killable(mm))
		return -EINTR;

	ret = -ENOMEM;
	/*
	 * capable() is asked only when the limit alone says no: it may be
	 * audited, and the system call asks in exactly that case.
	 */
	if (mlockdev_lockall_fits(flags, mm->total_vm, lock_limit) ||
	    capable(CAP_IPC_LOCK)) {
		mlockdev_apply_lock_flags(mm, flags);
		ret = 0;
	}
	mmap_write_unlock(mm);

	if (!ret && (flags & MCL_CURRENT))
		mlockdev_populate(mm);

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
	struct mm_struct *mm = current->mm;

	if (!mm)
		return -EINVAL;

	if (mmap_write_lock_killable(mm))
		return -EINTR;
	mlockdev_apply_lock_flags(mm, 0);
	mmap_write_unlock(mm);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_unlockall);
