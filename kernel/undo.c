// SPDX-License-Identifier: GPL-2.0
/*
 * Undo: what a strict call (MLOCKDEV_LOCK_STRICT, and OpenBSD's rules,
 * which are all-or-nothing too) changed, and putting it back when memory
 * it locked cannot be made resident.
 *
 * While the VMA pass runs, each VMA whose lock bits change is logged with
 * its range and old flags, and def_flags' old lock bits are kept.  A
 * rollback takes the mmap write lock again and, for each logged VMA that
 * is still there with the lock bits the call gave it and its range (or
 * grown from it: brk(), a stack growing down), puts the old lock bits
 * back the way the VMA pass set them: locked_vm by the exact delta, the
 * flags, and the page marks (pages the call marked, or that were faulted
 * in since, are unmarked).  A VMA that another thread has unmapped, split
 * or relocked while populate ran is left as that thread made it, and says
 * so in the trace: the kernel already accounted for whatever that thread
 * did.  So are def_flags, if another thread's mlockall() or munlockall()
 * changed their lock bits meanwhile.  Pages populate faulted in stay
 * resident; the promise is about the lock state, not residency.
 */
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/overflow.h>
#include <linux/slab.h>

#include "compat.h"
#include "mlockdev.h"
#include "trace.h"

struct mlockdev_undo_vma {
	unsigned long start;
	unsigned long end;
	vm_flags_t oldflags;	/* before the call */
	vm_flags_t newflags;	/* as the call left them */
};

struct mlockdev_undo {
	vm_flags_t def_flags;	/* mm->def_flags before the call */
	vm_flags_t def_flags_set; /* ... and as the call left them */
	unsigned int nr;
	unsigned int max;
	struct mlockdev_undo_vma vma[];
};

/**
 * mlockdev_undo_begin - start logging a strict call's changes
 * @call: the call; its mm's mmap_lock held for writing
 *
 * One entry per VMA is enough: the VMA pass neither splits nor merges, and
 * nothing else can add VMAs while the write lock is held.
 *
 * Return: 0, or -ENOMEM, in which case the call must not go ahead: it
 * could not be undone.
 */
int mlockdev_undo_begin(struct mlockdev_call *call)
{
	struct mm_struct *mm = call->mm;
	struct mlockdev_undo *undo;

	mmap_assert_write_locked(mm);
	undo = kvmalloc(struct_size(undo, vma, mm->map_count),
			GFP_KERNEL_ACCOUNT);
	if (!undo)
		return -ENOMEM;
	undo->def_flags = mm->def_flags;
	undo->def_flags_set = mm->def_flags;
	undo->nr = 0;
	undo->max = mm->map_count;
	call->undo = undo;
	return 0;
}

/**
 * mlockdev_undo_record - log a VMA whose lock bits are about to change
 * @call: the call (nothing is logged unless it is strict)
 * @vma: the VMA, its new lock bits not yet written
 * @oldflags: its flags now
 */
void mlockdev_undo_record(struct mlockdev_call *call,
			  struct vm_area_struct *vma, vm_flags_t oldflags)
{
	struct mlockdev_undo *undo = call->undo;
	struct mlockdev_undo_vma *u;

	if (!undo || WARN_ON_ONCE(undo->nr >= undo->max))
		return;
	u = &undo->vma[undo->nr++];
	u->start = vma->vm_start;
	u->end = vma->vm_end;
	u->oldflags = oldflags;
	u->newflags = (oldflags & ~MLOCKDEV_VM_LOCKED_MASK) |
		      mlockdev_lock_bits(call->flags);
}

/**
 * mlockdev_undo_record_def_flags - log mm->def_flags as the call set them
 * @call: the call; its mm's mmap_lock held for writing
 */
void mlockdev_undo_record_def_flags(struct mlockdev_call *call)
{
	if (call->undo)
		call->undo->def_flags_set = call->mm->def_flags;
}

/*
 * Is the VMA still the one the call changed, as the call left it?  It may
 * have grown meanwhile -- brk() at its end, a stack down at its start --
 * but must still hold all of the range the call changed, and not have
 * moved its start unless it grows down.  Any other VMA that ends higher
 * has merged with a neighbour that another thread locked (mlock(),
 * MAP_LOCKED), whose lock is not the call's to undo.
 */
static struct vm_area_struct *
mlockdev_undo_find(struct mm_struct *mm, const struct mlockdev_undo_vma *u)
{
	struct vm_area_struct *vma = find_vma(mm, u->start);

	if (!vma || vma->vm_start > u->start || vma->vm_end < u->end)
		return NULL;
	if (vma->vm_start != u->start && !(vma->vm_flags & VM_GROWSDOWN))
		return NULL;
	if (vma->vm_end != u->end &&
	    !(u->start <= mm->start_brk && vma->vm_end <= PAGE_ALIGN(mm->brk)))
		return NULL;
	if ((vma->vm_flags & MLOCKDEV_VM_LOCKED_MASK) !=
	    (u->newflags & MLOCKDEV_VM_LOCKED_MASK))
		return NULL;
	return mlockdev_vma_lockable(vma) ? vma : NULL;
}

/**
 * mlockdev_undo_rollback - put back what a strict call changed
 * @call: the call; mmap_lock not held
 *
 * Not killable: a caller killed now would leave its memory half locked
 * for whoever else uses the address space.
 */
void mlockdev_undo_rollback(struct mlockdev_call *call)
{
	struct mlockdev_undo *undo = call->undo;
	struct mm_struct *mm = call->mm;
	unsigned int i;

	if (!undo)
		return;
	mmap_write_lock(mm);
	for (i = 0; i < undo->nr; i++) {
		const struct mlockdev_undo_vma *u = &undo->vma[i];
		struct vm_area_struct *vma = mlockdev_undo_find(mm, u);

		trace_mlockdev_rollback(u->start, u->end, vma);
		if (!vma)
			continue;
		mlockdev_vma_set_lock_bits(call, vma,
					   (vma->vm_flags &
					    ~MLOCKDEV_VM_LOCKED_MASK) |
					   (u->oldflags &
					    MLOCKDEV_VM_LOCKED_MASK));
	}
	/* Unless another thread's mlockall()/munlockall() changed it since. */
	if ((mm->def_flags & MLOCKDEV_VM_LOCKED_MASK) ==
	    (undo->def_flags_set & MLOCKDEV_VM_LOCKED_MASK))
		mm->def_flags = (mm->def_flags & ~MLOCKDEV_VM_LOCKED_MASK) |
				(undo->def_flags & MLOCKDEV_VM_LOCKED_MASK);
	mmap_write_unlock(mm);
	mlockdev_stat_add(MLOCKDEV_STAT_ROLLBACKS, 1);
}

/**
 * mlockdev_undo_end - forget the log
 * @call: the call
 */
void mlockdev_undo_end(struct mlockdev_call *call)
{
	kvfree(call->undo);
	call->undo = NULL;
}
