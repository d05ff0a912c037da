// SPDX-License-Identifier: GPL-2.0
/*
 * OpenBSD's mlockall(2) and munlockall(2) rules (MLOCKDEV_LOCK_OPENBSD), on
 * Linux's address space: sys_mlockall() and sys_munlockall() of
 * sys/uvm/uvm_mmap.c 1.203 and uvm_map_pageable_all() of sys/uvm/uvm_map.c
 * 1.346.  Line numbers below are of those revisions.
 *
 *   mlockall(flags)
 *     EINVAL  flags 0, or any bit but MCL_CURRENT|MCL_FUTURE  (mmap.c:901)
 *             (no MCL_ONFAULT; no privilege check on amd64)
 *     MCL_FUTURE recorded now, before any limit, kept on failure (map.c:2336)
 *     MCL_FUTURE alone: done, 0                                 (map.c:2338)
 *     size = the VMAs not yet locked, PROT_NONE ones included  (map.c:2347)
 *     ENOMEM  wired pages + size over the system ceiling       (map.c:2355)
 *     ENOMEM  RLIMIT_MEMLOCK not 0 and size + what is already
 *             locked over it; 0 means no check, not EPERM      (map.c:2361)
 *     lock every VMA, fault in all but PROT_NONE ones; if one
 *     cannot be, undo the locks of all (all or nothing)        (map.c:2132)
 *     an error other than ENOMEM is reported as EAGAIN         (mmap.c:912)
 *
 *   munlockall()
 *     always 0; also forgets MCL_FUTURE                        (mmap.c:924)
 *
 * Where Linux and OpenBSD differ underneath, Linux's side stands:
 *  - "Wired" is Linux's mlocked: the system ceiling (uvmexp.wiredmax, a
 *    third of the pages by default, uvm_pdaemon.c:189) is checked against
 *    NR_MLOCK, and "already locked" is the process's locked_vm (VmLck).
 *  - Which VMAs can be locked at all is Linux's rule (policy.c): device
 *    memory, hugetlb and secretmem are not, and do not count.
 *  - Unlike OpenBSD, MCL_CURRENT alone leaves an earlier MCL_FUTURE in
 *    place here too, but what MCL_FUTURE does later is the core kernel's:
 *    a new mapping over the limit fails with EAGAIN before it is made,
 *    where OpenBSD maps it, fails to wire it, unmaps it and returns ENOMEM
 *    (uvm_mmap.c:949).  A module cannot change that.
 *  - No privilege check, and RLIMIT_MEMLOCK 0 means no limit, as on
 *    OpenBSD -- where Linux's mlockall() fails with EPERM for a caller
 *    without CAP_IPC_LOCK whose limit is 0 (can_do_mlock()).  So in this
 *    mode any process that may open the device can lock memory up to the
 *    system ceiling (openbsd_wiredmax_mb, a third of RAM by default)
 *    whatever its rlimit says: an RLIMIT_MEMLOCK bypass, on purpose.  Who
 *    may use the device at all (access.c) and the ceiling are the bounds;
 *    do not give the device to processes whose rlimit is meant to hold.
 */
#include <linux/mman.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/moduleparam.h>
#include <linux/sched/signal.h>
#include <linux/vmstat.h>

#include "compat.h"
#include "mlockdev.h"

static unsigned long mlockdev_openbsd_wiredmax_mb;
module_param_named(openbsd_wiredmax_mb, mlockdev_openbsd_wiredmax_mb, ulong,
		   0644);
MODULE_PARM_DESC(openbsd_wiredmax_mb,
		 "OpenBSD mode's system-wide ceiling, in MiB (0: a third of RAM)");

/* uvmexp.wiredmax, in pages. */
static unsigned long mlockdev_openbsd_wiredmax(void)
{
	unsigned long mb = READ_ONCE(mlockdev_openbsd_wiredmax_mb);

	if (mb)
		return mlockdev_mb_to_pages(mb);
	return totalram_pages() / 3;
}

/*
 * The pages uvm_map_pageable_all() would wire: every VMA not yet locked.
 * Linux also has lock-on-fault VMAs, which OpenBSD has not: they are
 * VM_LOCKED, so already in mm->locked_vm (*@unlocked leaves them out), but
 * their pages are mostly not in NR_MLOCK, and become so when they are
 * fully locked and faulted in (*@not_wired counts them).
 */
static void mlockdev_openbsd_unlocked_pages(struct mm_struct *mm,
					    unsigned long *unlocked,
					    unsigned long *not_wired)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;

	*unlocked = 0;
	*not_wired = 0;
	for_each_vma(vmi, vma) {
		if (!mlockdev_vma_lockable(vma))
			continue;
		if (!(vma->vm_flags & VM_LOCKED))
			*unlocked += vma_pages(vma);
		if ((vma->vm_flags & MLOCKDEV_VM_LOCKED_MASK) != VM_LOCKED)
			*not_wired += vma_pages(vma);
	}
}

/*
 * The two ENOMEM checks of uvm_map_pageable_all(), in its order: the
 * system ceiling, then the process limit if it is not 0.  No capability
 * lifts either.  Compared in pages, which cannot wrap as bytes can on
 * 32-bit.
 */
static int mlockdev_openbsd_limits(struct mm_struct *mm, unsigned long limit)
{
	unsigned long size, not_wired;

	mlockdev_openbsd_unlocked_pages(mm, &size, &not_wired);
	if (not_wired + global_zone_page_state(NR_MLOCK) >
	    mlockdev_openbsd_wiredmax())
		return -ENOMEM;
	if (limit && size + mm->locked_vm > mlockdev_limit_pages(limit))
		return -ENOMEM;
	return 0;
}

/**
 * mlockdev_openbsd_lock_call - mlockall(@call->flags) as OpenBSD does it
 * @call: the call; @call->mm is current->mm
 *
 * Return: 0, -EINVAL, -ENOMEM or -EAGAIN as OpenBSD's mlockall(2), or
 * -EINTR if a fatal signal arrived while waiting for the mmap write lock.
 */
int mlockdev_openbsd_lock_call(struct mlockdev_call *call)
{
	struct mm_struct *mm = call->mm;
	unsigned long limit;
	int ret;

	if (!mm)
		return -EINVAL;
	if (!call->flags || (call->flags & ~(MCL_CURRENT | MCL_FUTURE)))
		return -EINVAL;
	limit = mlockdev_call_lock_limit(call);

	if (mmap_write_lock_killable(mm))
		return -EINTR;
	call->report->locked_vm_before = mm->locked_vm;
	if (call->flags & MCL_FUTURE)
		mm->def_flags |= VM_LOCKED;
	ret = 0;
	if (call->flags & MCL_CURRENT) {
		ret = mlockdev_openbsd_limits(mm, limit);
		if (!ret)
			ret = mlockdev_cap_reserve(call);
		if (!ret)
			ret = mlockdev_undo_begin(call);
		if (!ret)
			mlockdev_apply_lock_flags(call);
	}
	mmap_write_unlock(mm);

	if (!ret && (call->flags & MCL_CURRENT)) {
		ret = mlockdev_populate(call);
		if (ret) {
			mlockdev_undo_rollback(call);
			if (ret != -ENOMEM)
				ret = -EAGAIN;
		}
	}
	mlockdev_undo_end(call);
	mlockdev_cap_release(call);
	call->report->locked_vm_after = READ_ONCE(mm->locked_vm);
	return ret;
}

/**
 * mlockdev_openbsd_unlock_call - munlockall() as OpenBSD does it
 * @call: the call; @call->mm is current->mm
 *
 * OpenBSD waits for its map lock uninterruptibly and returns 0 whatever
 * happens; so does this.
 *
 * Return: 0.
 */
int mlockdev_openbsd_unlock_call(struct mlockdev_call *call)
{
	struct mm_struct *mm = call->mm;

	if (!mm)
		return 0;
	mmap_write_lock(mm);
	call->report->locked_vm_before = mm->locked_vm;
	mlockdev_apply_lock_flags(call);
	call->report->locked_vm_after = mm->locked_vm;
	mmap_write_unlock(mm);
	return 0;
}
