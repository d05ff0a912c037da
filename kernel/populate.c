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

/* A VMA to fault in, copied while the mmap lock was held. */
struct mlockdev_populate_range {
	unsigned long start;
	unsigned long end;
	unsigned int gup_flags;
};

/* VMAs looked up per mmap lock hold: 384 bytes of stack. */
#define MLOCKDEV_POPULATE_BATCH	16

/*
 * Copy up to MLOCKDEV_POPULATE_BATCH populatable VMAs from @addr on.
 * Return: how many; *@addr is where the next lookup starts.
 */
static int mlockdev_populate_lookup(struct mm_struct *mm, unsigned long *addr,
				    struct mlockdev_populate_range *todo)
{
	struct vm_area_struct *vma;
	int n = 0;

	mmap_read_lock(mm);
	for (vma = find_vma(mm, *addr); vma && n < MLOCKDEV_POPULATE_BATCH;
	     vma = find_vma(mm, vma->vm_end)) {
		if (mlockdev_vma_populated(vma)) {
			todo[n].start = max(*addr, vma->vm_start);
			todo[n].end = vma->vm_end;
			todo[n].gup_flags =
				mlockdev_populate_gup_flags(vma->vm_flags);
			n++;
		}
		*addr = vma->vm_end;
	}
	mmap_read_unlock(mm);
	return n;
}

/**
 * mlockdev_populate - fault in every populatable VMA of current->mm
 * @mm: current->mm, mmap_lock not held
 *
 * The VMAs are looked up a batch at a time, so that the mmap lock is taken
 * once per batch and then once per VMA by GUP, rather than twice per VMA.
 * GUP checks each address against the VMA it finds there, so a VMA that
 * changed since the lookup is handled as the system call handles a VMA
 * that changed while a fault had dropped the lock.
 */
void mlockdev_populate(struct mm_struct *mm)
{
	struct mlockdev_populate_range todo[MLOCKDEV_POPULATE_BATCH];
	unsigned long addr = 0;
	int i, n;

	while ((n = mlockdev_populate_lookup(mm, &addr, todo))) {
		for (i = 0; i < n; i++) {
			unsigned long nr_pages;
			long done;

			nr_pages = (todo[i].end - todo[i].start) >> PAGE_SHIFT;
			done = get_user_pages_unlocked(todo[i].start, nr_pages,
						       NULL, todo[i].gup_flags);
			/* populate_vma_page_range() drains after every VMA. */
			mlockdev_lru_drain_local();

			if (fatal_signal_pending(current))
				return;
			cond_resched();
			/* An error skips the rest of the VMA, as in the kernel. */
			if (done <= 0)
				continue;
			mlockdev_stat_add(MLOCKDEV_STAT_PAGES_POPULATED, done);
			if (done < nr_pages) {
				/* Stopped early: look up again from there. */
				addr = todo[i].start + (done << PAGE_SHIFT);
				break;
			}
		}
	}
}
