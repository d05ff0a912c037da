// SPDX-License-Identifier: GPL-2.0
/*
 * Populate: what mlockall(MCL_CURRENT) does after dropping the mmap write
 * lock, mm_populate(0, TASK_SIZE) -> __mm_populate() in mm/gup.c.
 *
 * Every VMA is faulted in except VM_IO/VM_PFNMAP ones, lock-on-fault ones
 * and inaccessible (PROT_NONE) ones, whether or not it is VM_LOCKED: so
 * hugetlb memory is populated although mlock does not lock it.  Faults in
 * a VM_LOCKED VMA mlock the new pages on the way in (the kernel's fault
 * path does that), so nothing here marks pages.
 *
 * __mm_populate() is not exported; get_user_pages_unlocked() is, and does
 * the same faulting: it takes the mmap read lock itself, touches the pages
 * (FOLL_TOUCH), lets a fault drop the lock and retake it, and stops on a
 * fatal signal.  Errors are ignored, as the system call ignores them.
 */
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "compat.h"
#include "mlockdev.h"

/* VMAs __mm_populate() and populate_vma_page_range() leave alone. */
static bool mlockdev_vma_populated(struct vm_area_struct *vma)
{
	if (vma->vm_flags & (VM_IO | VM_PFNMAP | VM_LOCKONFAULT))
		return false;
	return vma_is_accessible(vma);
}

/**
 * mlockdev_populate - fault in every populatable VMA of current->mm
 * @mm: current->mm, mmap_lock not held
 */
void mlockdev_populate(struct mm_struct *mm)
{
	unsigned long addr = 0;
	struct vm_area_struct *vma;

	mmap_read_lock(mm);
	while ((vma = find_vma(mm, addr))) {
		/* Copy what we need: the VMA may be gone once we unlock. */
		unsigned long start = max(addr, vma->vm_start);
		unsigned long end = vma->vm_end;
		unsigned int gup_flags = mlockdev_populate_gup_flags(vma->vm_flags);
		long done;

		if (!mlockdev_vma_populated(vma)) {
			addr = end;
			continue;
		}
		mmap_read_unlock(mm);

		done = get_user_pages_unlocked(start, (end - start) >> PAGE_SHIFT,
					       NULL, gup_flags);
		/* populate_vma_page_range() drains after every VMA. */
		mlockdev_lru_drain_local();

		if (done > 0) {
			mlockdev_stat_add(MLOCKDEV_STAT_PAGES_POPULATED, done);
			/* Stopped early: look the VMA up again from there. */
			addr = start + (done << PAGE_SHIFT);
		} else {
			/* Ignored error: go on with the next VMA. */
			addr = end;
		}

		if (fatal_signal_pending(current))
			return;
		cond_resched();
		mmap_read_lock(mm);
	}
	mmap_read_unlock(mm);
}
