// SPDX-License-Identifier: GPL-2.0
/*
 * A system-wide cap on mlocked memory for locks made through the device:
 * max_locked_mb (0, the default, is no cap; writable at run time).  A lock
 * call that would take the system's mlocked pages (NR_MLOCK, meminfo
 * "Mlocked:") above the cap fails with ENOMEM before it changes anything.
 *
 * What a call "would take" is the memory it is about to fault in and mark:
 * the accessible, lockable VMAs it turns from unlocked into fully locked.
 * Memory locked later (lock-on-fault pages as they are touched, mappings
 * made under MCL_FUTURE) is locked by the core kernel, beyond this cap's
 * reach, as are mlock(2) and the system calls themselves.
 *
 * NR_MLOCK only grows while the pages are faulted in, so two calls racing
 * for the last pages would both see room.  Each call therefore reserves
 * its pages before it starts and releases them when it ends, and the check
 * counts NR_MLOCK plus every reservation outstanding.
 */
#include <linux/atomic.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/moduleparam.h>
#include <linux/vmstat.h>

#include "compat.h"
#include "mlockdev.h"

static unsigned long mlockdev_max_locked_mb;
module_param_named(max_locked_mb, mlockdev_max_locked_mb, ulong, 0644);
MODULE_PARM_DESC(max_locked_mb,
		 "cap on system-wide mlocked memory for device locks, in MiB (0: none)");

/* Pages reserved by calls in progress. */
static atomic_long_t mlockdev_cap_reserved = ATOMIC_LONG_INIT(0);

/* The pages a lock call is about to make resident and mlocked. */
static unsigned long mlockdev_cap_estimate(struct mlockdev_call *call)
{
	VMA_ITERATOR(vmi, call->mm, 0);
	struct vm_area_struct *vma;
	unsigned long pages = 0;

	if (mlockdev_lock_bits(call->flags) != VM_LOCKED)
		return 0;
	/*
	 * Every VMA not fully locked yet: lock-on-fault memory (VM_LOCKED
	 * too) is faulted in all at once when it becomes fully locked.
	 */
	for_each_vma(vmi, vma)
		if ((vma->vm_flags & MLOCKDEV_VM_LOCKED_MASK) != VM_LOCKED &&
		    mlockdev_vma_lockable(vma) && vma_is_accessible(vma))
			pages += vma_pages(vma);
	return pages;
}

/**
 * mlockdev_cap_reserve - check a lock call against max_locked_mb
 * @call: the lock call; its mm's mmap_lock held for writing
 *
 * Return: 0, with the call's pages reserved until mlockdev_cap_release(),
 * or -ENOMEM if they do not fit under the cap.
 */
int mlockdev_cap_reserve(struct mlockdev_call *call)
{
	unsigned long cap_mb = READ_ONCE(mlockdev_max_locked_mb);
	unsigned long cap, want;
	long reserved;

	call->cap_reserved = 0;
	if (!cap_mb)
		return 0;
	cap = mlockdev_mb_to_pages(cap_mb);
	want = mlockdev_cap_estimate(call);
	reserved = atomic_long_read(&mlockdev_cap_reserved);
	do {
		unsigned long now = global_zone_page_state(NR_MLOCK) +
				    max(reserved, 0L);

		if (now > cap || want > cap - now) {
			mlockdev_stat_add(MLOCKDEV_STAT_CAP_REFUSED, 1);
			return -ENOMEM;
		}
	} while (!atomic_long_try_cmpxchg(&mlockdev_cap_reserved, &reserved,
					  reserved + want));
	call->cap_reserved = want;
	return 0;
}

/**
 * mlockdev_cap_release - the call is over: its pages are in NR_MLOCK now
 * @call: the lock call
 */
void mlockdev_cap_release(struct mlockdev_call *call)
{
	if (call->cap_reserved)
		atomic_long_sub(call->cap_reserved, &mlockdev_cap_reserved);
	call->cap_reserved = 0;
}
