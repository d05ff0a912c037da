// SPDX-License-Identifier: GPL-2.0
/*
 * The VMA pass: apply_mlockall_flags() and mlock_fixup() of mm/mlock.c.
 *
 * Under the mmap write lock, set mm->def_flags for MCL_FUTURE, give every
 * lockable VMA exactly the lock bits mlockall asks for, keep mm->locked_vm
 * in step by exact deltas, and mark or unmark the pages already present.
 *
 * What differs from the kernel: mlock_fixup() merges a VMA whose flags now
 * equal a neighbour's (vma_modify_flags() on 6.12, vma_merge() on 6.1).
 * Neither is exported, so VMAs that the system call would merge stay
 * separate here.  mlockall never splits a VMA (it covers each one whole),
 * so this is the only structural difference.
 */
#include <linux/mman.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched.h>

#include "compat.h"
#include "mlockdev.h"

/*
 * mlock_fixup() for a whole VMA: new lock bits, accounting, page marks.
 */
static void mlockdev_vma_fixup(struct vm_area_struct *vma, vm_flags_t newflags)
{
	vm_flags_t oldflags = vma->vm_flags;

	if (newflags == oldflags || !mlockdev_vma_lockable(vma))
		return;

	/*
	 * Only deltas: locked_vm also carries charges that are not ours
	 * (account_locked_vm() users such as VFIO).
	 */
	vma->vm_mm->locked_vm += mlockdev_locked_vm_delta(vma, oldflags,
							  newflags);

	/*
	 * Flags first: once VM_LOCKED is set, reclaim can no longer evict a
	 * page of this VMA (it re-mlocks it instead), and once it is clear,
	 * reclaim no longer re-mlocks what the page pass unmarks.
	 */
	mlockdev_vma_write_flags(vma, newflags);

	/* ONFAULT <-> fully locked: the pages are mlocked already. */
	if ((newflags & VM_LOCKED) && (oldflags & VM_LOCKED))
		return;

	mlockdev_vma_mark_pages(vma, newflags & VM_LOCKED);
}

/**
 * mlockdev_apply_lock_flags - apply_mlockall_flags() of mm/mlock.c
 * @mm: current->mm, mmap_lock held for writing
 * @flags: MCL_* flags of mlockall(), or 0 for munlockall()
 *
 * Every call first clears the lock bits of def_flags, so MCL_CURRENT alone
 * cancels an earlier MCL_FUTURE.  Only the lock bits of def_flags change
 * (VM_NOHUGEPAGE lives there too).  MCL_FUTURE alone leaves VMAs alone.
 */
void mlockdev_apply_lock_flags(struct mm_struct *mm, int flags)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;
	vm_flags_t to_add = 0;

	mmap_assert_write_locked(mm);

	mm->def_flags &= ~MLOCKDEV_VM_LOCKED_MASK;
	if (flags & MCL_FUTURE) {
		mm->def_flags |= VM_LOCKED;
		if (flags & MCL_ONFAULT)
			mm->def_flags |= VM_LOCKONFAULT;
		if (!(flags & MCL_CURRENT))
			return;
	}

	if (flags & MCL_CURRENT) {
		to_add = VM_LOCKED;
		if (flags & MCL_ONFAULT)
			to_add |= VM_LOCKONFAULT;
	}

	/* The tree does not change under us: nothing here merges or splits. */
	for_each_vma(vmi, vma) {
		vm_flags_t newflags;

		newflags = (vma->vm_flags & ~MLOCKDEV_VM_LOCKED_MASK) | to_add;
		mlockdev_vma_fixup(vma, newflags);
		cond_resched();
	}
}
