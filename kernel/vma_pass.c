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
#include <linux/ktime.h>
#include <linux/mman.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched.h>

#include "compat.h"
#include "mlockdev.h"
#include "trace.h"

/* What the trace says about a VMA mlockdev_vma_kind() turns down. */
static const int mlockdev_skip_decision[] = {
	[MLOCKDEV_VMA_SPECIAL] = MLOCKDEV_TRACE_SKIP_SPECIAL,
	[MLOCKDEV_VMA_DROPPABLE] = MLOCKDEV_TRACE_SKIP_DROPPABLE,
	[MLOCKDEV_VMA_DAX] = MLOCKDEV_TRACE_SKIP_DAX,
	[MLOCKDEV_VMA_HUGETLB] = MLOCKDEV_TRACE_SKIP_HUGETLB,
	[MLOCKDEV_VMA_SECRETMEM] = MLOCKDEV_TRACE_SKIP_SECRETMEM,
};

/* Count a VMA the pass leaves alone, by reason. */
static void mlockdev_count_skip(struct mlockdev_report *report,
				enum mlockdev_vma_kind kind)
{
	switch (kind) {
	case MLOCKDEV_VMA_SPECIAL:
		report->vmas_skipped_special++;
		break;
	case MLOCKDEV_VMA_DROPPABLE:
		report->vmas_skipped_droppable++;
		break;
	case MLOCKDEV_VMA_DAX:
		report->vmas_skipped_dax++;
		break;
	case MLOCKDEV_VMA_HUGETLB:
		report->vmas_skipped_hugetlb++;
		break;
	case MLOCKDEV_VMA_SECRETMEM:
		report->vmas_skipped_secretmem++;
		break;
	case MLOCKDEV_VMA_LOCKABLE:
		break;
	}
}

/**
 * mlockdev_vma_set_lock_bits - the flag, accounting and page part of
 * mlock_fixup() for a whole lockable VMA whose lock bits change
 * @call: the call it is part of (counts go to its report)
 * @vma: the VMA; mmap_lock held for writing
 * @newflags: its flags with the new lock bits
 *
 * Also used by undo.c to put lock bits back.
 */
void mlockdev_vma_set_lock_bits(struct mlockdev_call *call,
				struct vm_area_struct *vma,
				vm_flags_t newflags)
{
	vm_flags_t oldflags = vma->vm_flags;

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

	mlockdev_vma_mark_pages(call, vma, newflags & VM_LOCKED);
}

/* mlock_fixup() for one VMA of the walk. */
static void mlockdev_vma_fixup(struct mlockdev_call *call,
			       struct vm_area_struct *vma, vm_flags_t newflags)
{
	enum mlockdev_vma_kind kind = mlockdev_vma_kind(vma);
	vm_flags_t oldflags = vma->vm_flags;
	int decision;

	call->report->vmas_seen++;
	if (kind != MLOCKDEV_VMA_LOCKABLE) {
		mlockdev_count_skip(call->report, kind);
		trace_mlockdev_vma(vma->vm_start, vma->vm_end, oldflags,
				   oldflags, mlockdev_skip_decision[kind]);
		return;
	}
	if (newflags == oldflags) {
		trace_mlockdev_vma(vma->vm_start, vma->vm_end, oldflags,
				   newflags, MLOCKDEV_TRACE_UNCHANGED);
		return;
	}

	if (!(newflags & VM_LOCKED))
		decision = MLOCKDEV_TRACE_UNLOCKED;
	else if (oldflags & VM_LOCKED)
		decision = MLOCKDEV_TRACE_RELOCKED;
	else
		decision = MLOCKDEV_TRACE_LOCKED;
	trace_mlockdev_vma(vma->vm_start, vma->vm_end, oldflags, newflags,
			   decision);

	mlockdev_undo_record(call, vma, oldflags);
	call->report->vmas_changed++;
	mlockdev_vma_set_lock_bits(call, vma, newflags);
}

/**
 * mlockdev_lock_bits - the lock bits mlockall(@flags) gives a VMA
 * @flags: MCL_* flags, 0 for munlockall()
 *
 * Return: VM_LOCKED, VM_LOCKED | VM_LOCKONFAULT, or 0.
 */
vm_flags_t mlockdev_lock_bits(int flags)
{
	if (!(flags & MCL_CURRENT))
		return 0;
	return (flags & MCL_ONFAULT) ? VM_LOCKED | VM_LOCKONFAULT : VM_LOCKED;
}

/**
 * mlockdev_apply_lock_flags - apply_mlockall_flags() of mm/mlock.c
 * @call: the call: @call->mm (mmap_lock held for writing) and its MCL_*
 *	  flags, or 0 for munlockall()
 *
 * Every call first clears the lock bits of def_flags, so MCL_CURRENT alone
 * cancels an earlier MCL_FUTURE (not in OpenBSD mode).  Only the lock bits
 * of def_flags change (VM_NOHUGEPAGE lives there too).  MCL_FUTURE alone
 * leaves VMAs alone.
 */
void mlockdev_apply_lock_flags(struct mlockdev_call *call)
{
	VMA_ITERATOR(vmi, call->mm, 0);
	struct mm_struct *mm = call->mm;
	struct vm_area_struct *vma;
	vm_flags_t to_add;
	int flags = call->flags;
	u64 start = ktime_get_ns();

	mmap_assert_write_locked(mm);

	/*
	 * OpenBSD records MCL_FUTURE itself, before its limit checks, and
	 * only munlockall() forgets it (openbsd.c).
	 */
	if (!(call->mode & MLOCKDEV_LOCK_OPENBSD) || !flags) {
		mm->def_flags &= ~MLOCKDEV_VM_LOCKED_MASK;
		if (flags & MCL_FUTURE) {
			mm->def_flags |= VM_LOCKED;
			if (flags & MCL_ONFAULT)
				mm->def_flags |= VM_LOCKONFAULT;
		}
	}
	mlockdev_undo_record_def_flags(call);
	if (!(flags & MCL_CURRENT) && flags)
		goto out;

	to_add = mlockdev_lock_bits(flags);
	/* The tree does not change under us: nothing here merges or splits. */
	for_each_vma(vmi, vma) {
		vm_flags_t newflags;

		newflags = (vma->vm_flags & ~MLOCKDEV_VM_LOCKED_MASK) | to_add;
		mlockdev_vma_fixup(call, vma, newflags);
		cond_resched();
	}
out:
	call->report->lock_pass_ns += ktime_get_ns() - start;
}
