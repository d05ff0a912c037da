// SPDX-License-Identifier: GPL-2.0
/*
 * Populate: what mlockall(MCL_CURRENT) does after dropping the mmap write
 * lock, mm_populate(0, TASK_SIZE) -> __mm_populate() ->
 * populate_vma_page_range() -> __get_user_pages() in mm/gup.c.
 *
 * Every VMA is faulted in except VM_IO/VM_PFNMAP ones, lock-on-fault ones
 * and inaccessible (PROT_NONE) ones, whether or not it is VM_LOCKED: so
 * hugetlb memory is populated although mlock does not lock it.  Faults in
 * a VM_LOCKED VMA mlock the new pages on the way in (the kernel's fault
 * path does that), so nothing here marks pages.  Errors are ignored, as
 * the system call ignores them: an error ends the VMA it happened in.
 *
 * The rule that matters under concurrency: a fault may drop the mmap
 * lock (to wait for I/O, a page lock, a userfaultfd handler), and while it
 * is dropped other threads may unmap, mprotect or replace the rest of the
 * range.  __mm_populate() then takes the lock again, looks the VMA up
 * again and decides afresh (lock-on-fault? accessible? write or read
 * fault?) from the VMA it finds.  So does this file, with the same loop.
 *
 * None of __mm_populate(), populate_vma_page_range() or __get_user_pages()
 * is exported, and the exported GUP calls that may drop the lock retry on
 * their own with the flags they started with.  So the faulting is done in
 * two exported steps under one hold of the read lock:
 *  - get_user_pages(FOLL_NOWAIT) faults in everything that needs no
 *    waiting -- for fresh anonymous memory, all of it -- and stops at the
 *    first page that would wait, never dropping the lock;
 *  - that one page is faulted with handle_mm_fault() and the flags
 *    faultin_page() uses (FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE),
 *    which may drop the lock; if it did, we go back to the top and look
 *    the VMA up again, exactly where __get_user_pages() would return.
 */
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "compat.h"
#include "mlockdev.h"
#include "trace.h"

/*
 * The one fault __get_user_pages() would wait in, as faultin_page() makes
 * it for FOLL_UNLOCKABLE.
 *
 * Return: 0 with *@locked still true if the page is in, 0 with *@locked
 * false if the fault dropped the mmap lock, or a negative errno.
 */
static int mlockdev_fault_waiting(struct vm_area_struct *vma,
				  unsigned long addr, unsigned int gup_flags,
				  bool *locked)
{
	unsigned int fault_flags = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE;
	vm_fault_t ret;

	if (gup_flags & FOLL_WRITE)
		fault_flags |= FAULT_FLAG_WRITE;
	ret = handle_mm_fault(vma, addr, fault_flags, NULL);
	if (ret & (VM_FAULT_COMPLETED | VM_FAULT_RETRY)) {
		*locked = false;
		return 0;
	}
	if (ret & VM_FAULT_ERROR)
		return vm_fault_to_errno(ret, gup_flags) ?: -EFAULT;
	return 0;
}

/*
 * __get_user_pages(FOLL_UNLOCKABLE) on [@start, @start + @nr_pages) of
 * @vma, without pages: returns at the first error, or as soon as a fault
 * dropped the mmap lock.  *@err is 0, or the error and *@err_addr where.
 *
 * Return: the number of pages done before that.
 */
static unsigned long mlockdev_faultin(struct vm_area_struct *vma,
				      unsigned long start,
				      unsigned long nr_pages,
				      unsigned int gup_flags, bool *locked,
				      int *err, unsigned long *err_addr)
{
	unsigned long done = 0;
	long ret;

	*err = 0;
	while (done < nr_pages) {
		unsigned long addr = start + (done << PAGE_SHIFT);

		ret = mlockdev_gup_nowait(addr, nr_pages - done, gup_flags);
		if (ret > 0) {
			done += ret;
			continue;
		}
		if (!ret)
			ret = mlockdev_fault_waiting(vma, addr, gup_flags,
						     locked);
		if (ret < 0) {
			*err = ret;
			*err_addr = addr;
			break;
		}
		if (!*locked)
			break;
		/* In without dropping the lock: GUP picks it up next. */
		cond_resched();
	}
	return done;
}

/* The first error of the call goes into the report. */
static void mlockdev_report_error(struct mlockdev_report *report, int err,
				  unsigned long addr)
{
	if (!report->populate_errors++) {
		report->populate_first_errno = err;
		report->populate_first_addr = addr;
	}
}

/*
 * Does an error here fail an all-or-nothing call (strict, or OpenBSD's)?
 * Only in memory that is locked and not lock-on-fault, the memory mlockall
 * promises to make resident.  PROT_NONE memory is never faulted in, so it
 * cannot fail a call either (OpenBSD skips it too, uvm_map.c:2088).
 */
static bool mlockdev_strict_failure(struct mlockdev_call *call,
				    struct vm_area_struct *vma)
{
	return (call->mode & (MLOCKDEV_LOCK_STRICT | MLOCKDEV_LOCK_OPENBSD)) &&
	       (vma->vm_flags & (VM_LOCKED | VM_LOCKONFAULT)) == VM_LOCKED;
}

/*
 * populate_vma_page_range(): fault in [@start, @end) of @vma, mmap lock
 * held for reading; *@locked becomes false if it was dropped.  An error
 * that fails a strict call is also left in *@strict_err.
 *
 * Return: the number of pages done (all of them for a lock-on-fault VMA,
 * which is left alone), or a negative errno.
 */
static long mlockdev_populate_vma_range(struct mlockdev_call *call,
					struct vm_area_struct *vma,
					unsigned long start, unsigned long end,
					bool *locked, int *strict_err)
{
	unsigned long nr_pages = (end - start) >> PAGE_SHIFT, done, addr;
	int err;

	/* Lock-on-fault VMAs never were faulted in, nor PROT_NONE ones. */
	if (vma->vm_flags & VM_LOCKONFAULT)
		return nr_pages;
	if (!vma_is_accessible(vma))
		return -EFAULT;

	done = mlockdev_faultin(vma, start, nr_pages,
				mlockdev_populate_gup_flags(vma->vm_flags),
				locked, &err, &addr);
	mlockdev_lru_drain_local();
	call->report->pages_populated += done;
	trace_mlockdev_populate(start, start + (done << PAGE_SHIFT), done,
				err);
	if (!err)
		return done;

	/*
	 * After some pages the kernel comes back to the failing one and
	 * gives up on the VMA only then; count the error once, there.
	 */
	if (!done)
		mlockdev_report_error(call->report, err, addr);
	if (mlockdev_strict_failure(call, vma)) {
		if (done)
			mlockdev_report_error(call->report, err, addr);
		call->report->failed_vma_start = vma->vm_start;
		call->report->failed_vma_end = vma->vm_end;
		*strict_err = err;
	}
	/* As __get_user_pages(): the pages done count, else the error. */
	return done ? done : err;
}

/**
 * mlockdev_populate - __mm_populate(0, TASK_SIZE, ignore_errors=1)
 * @call: the lock call; @call->mm is current->mm, mmap_lock not held
 *
 * A fatal signal ends the walk (every GUP call would fail with -EINTR
 * anyway): the caller is about to die, and the system call returns 0.
 *
 * Return: 0, or for an all-or-nothing call (MLOCKDEV_LOCK_STRICT or
 * _OPENBSD) the error that kept locked memory from being made resident;
 * the walk stops there.
 */
int mlockdev_populate(struct mlockdev_call *call)
{
	unsigned long end = TASK_SIZE, nstart, nend;
	struct mm_struct *mm = call->mm;
	struct vm_area_struct *vma = NULL;
	u64 start_ns = ktime_get_ns();
	bool locked = false;
	int strict_err = 0;
	long ret;

	for (nstart = 0; nstart < end; nstart = nend) {
		if (!locked) {
			if (fatal_signal_pending(current))
				break;
			locked = true;
			mmap_read_lock(mm);
			vma = find_vma_intersection(mm, nstart, end);
		} else if (nstart >= vma->vm_end) {
			vma = find_vma_intersection(mm, vma->vm_end, end);
		}
		if (!vma)
			break;

		nend = min(end, vma->vm_end);
		if (vma->vm_flags & (VM_IO | VM_PFNMAP))
			continue;
		nstart = max(nstart, vma->vm_start);

		ret = mlockdev_populate_vma_range(call, vma, nstart, nend,
						  &locked, &strict_err);
		if (strict_err)
			break;
		/* An error ends this VMA; go on with the next. */
		if (ret < 0)
			continue;
		nend = nstart + ret * PAGE_SIZE;
	}
	if (locked)
		mmap_read_unlock(mm);
	mlockdev_stat_add(MLOCKDEV_STAT_PAGES_POPULATED,
			  call->report->pages_populated);
	call->report->populate_ns += ktime_get_ns() - start_ns;
	return strict_err;
}
