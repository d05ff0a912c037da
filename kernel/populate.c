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
 *
 * The same loop serves another process's address space (a pidfd call,
 * remote.c) and the worker threads of a parallel populate (workers.c):
 * they fault with get_user_pages_remote() and FAULT_FLAG_REMOTE instead,
 * and a worker faulting the caller's own memory checks the caller's
 * protection keys itself, since FOLL_REMOTE skips them.  A worker never
 * takes the fault that waits: a kworker gets no signals, so a wait for a
 * userfaultfd handler that never answers would be forever, and the caller,
 * waiting for the worker, unkillable.  It stops there instead and hands
 * the rest of its range back (@pop->deferred), for the caller to fault
 * with this same loop, killably.  FOLL_NOWAIT does not keep a fault out
 * of readahead and ->read_folio(), which run under the mmap lock, so a
 * worker gets no file other than shmem at all (workers.c).
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
static int mlockdev_fault_waiting(struct mlockdev_populate *pop,
				  struct vm_area_struct *vma,
				  unsigned long addr, unsigned int gup_flags,
				  bool *locked)
{
	unsigned int fault_flags = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE;
	vm_fault_t ret;

	if (gup_flags & FOLL_WRITE)
		fault_flags |= FAULT_FLAG_WRITE;
	if (pop->remote)
		fault_flags |= FAULT_FLAG_REMOTE;
	ret = handle_mm_fault(vma, addr, fault_flags, NULL);
	if (ret & (VM_FAULT_COMPLETED | VM_FAULT_RETRY)) {
		*locked = false;
		return 0;
	}
	if (ret & VM_FAULT_ERROR)
		return vm_fault_to_errno(ret, gup_flags) ?: -EFAULT;
	return 0;
}

/* Should this populate give up now?  (A worker sees the caller's word.) */
static bool mlockdev_populate_stopped(struct mlockdev_populate *pop)
{
	return fatal_signal_pending(current) ||
	       (pop->stop && atomic_read(pop->stop));
}

/*
 * __get_user_pages(FOLL_UNLOCKABLE) on [@start, @start + @nr_pages) of
 * @vma, without pages: returns at the first error, or as soon as a fault
 * dropped the mmap lock.  *@err is 0, or the error and *@err_addr where.
 * A worker faults at most MLOCKDEV_WORKER_BATCH pages per GUP call, so
 * that it notices a stop soon.
 *
 * Return: the number of pages done before that.
 */
static unsigned long mlockdev_faultin(struct mlockdev_populate *pop,
				      struct vm_area_struct *vma,
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
		unsigned long want = nr_pages - done;

		if (pop->stop) {
			if (atomic_read(pop->stop)) {
				*err = -EINTR;
				*err_addr = addr;
				break;
			}
			want = min_t(unsigned long, want,
				     MLOCKDEV_WORKER_BATCH);
		}
		ret = mlockdev_gup_nowait(pop->mm, pop->remote, addr, want,
					  gup_flags);
		if (ret > 0) {
			done += ret;
			continue;
		}
		if (!ret && pop->nowait) {
			/* A worker: the caller faults this one (workers.c). */
			pop->deferred = true;
			pop->deferred_addr = addr;
			*err = -EAGAIN;
			*err_addr = addr;
			break;
		}
		if (!ret)
			ret = mlockdev_fault_waiting(pop, vma, addr, gup_flags,
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

/* Keep the error at the lowest address: the first the system call meets. */
static void mlockdev_populate_error(struct mlockdev_populate *pop, int err,
				    unsigned long addr)
{
	if (!pop->errors++ || addr < pop->first_addr) {
		pop->first_err = err;
		pop->first_addr = addr;
	}
}

/*
 * Does an error here fail an all-or-nothing call (strict, or OpenBSD's)?
 * Only in memory that is locked and not lock-on-fault, the memory mlockall
 * promises to make resident.  PROT_NONE memory is never faulted in, so it
 * cannot fail a call either (OpenBSD skips it too, uvm_map.c:2088).
 */
static bool mlockdev_strict_failure(struct mlockdev_populate *pop,
				    struct vm_area_struct *vma)
{
	return (pop->call->mode &
		(MLOCKDEV_LOCK_STRICT | MLOCKDEV_LOCK_OPENBSD)) &&
	       (vma->vm_flags & (VM_LOCKED | VM_LOCKONFAULT)) == VM_LOCKED;
}

/*
 * May the GUP flags touch this VMA on behalf of the caller?  Remote GUP on
 * the caller's own memory (a worker) skips the protection-key check that
 * check_vma_flags() makes for the caller's own GUP, so make it here.
 */
static bool mlockdev_populate_permitted(struct mlockdev_populate *pop,
					struct vm_area_struct *vma,
					unsigned int gup_flags)
{
	return !pop->pkru_check ||
	       mlockdev_pkru_allows(pop->pkru, vma, gup_flags & FOLL_WRITE);
}

/*
 * populate_vma_page_range(): fault in [@start, @end) of @vma, mmap lock
 * held for reading; *@locked becomes false if it was dropped.  An error
 * that fails an all-or-nothing call is also kept in @pop->strict_err.
 *
 * Return: the number of pages done (all of them for a lock-on-fault VMA,
 * which is left alone), or a negative errno.
 */
static long mlockdev_populate_vma_range(struct mlockdev_populate *pop,
					struct vm_area_struct *vma,
					unsigned long start, unsigned long end,
					bool *locked)
{
	unsigned long nr_pages = (end - start) >> PAGE_SHIFT, done, addr;
	unsigned int gup_flags;
	int err;

	/* Lock-on-fault VMAs never were faulted in, nor PROT_NONE ones. */
	if (vma->vm_flags & VM_LOCKONFAULT)
		return nr_pages;
	if (!vma_is_accessible(vma))
		return -EFAULT;

	gup_flags = mlockdev_populate_gup_flags(vma->vm_flags);
	if (mlockdev_populate_permitted(pop, vma, gup_flags)) {
		done = mlockdev_faultin(pop, vma, start, nr_pages, gup_flags,
					locked, &err, &addr);
	} else {
		done = 0;
		err = -EFAULT;
		addr = start;
	}
	mlockdev_lru_drain_local();
	pop->pages += done;
	trace_mlockdev_populate(start, start + (done << PAGE_SHIFT), done,
				err);
	if (!err)
		return done;
	/* A stop is not an error of the memory, nor a fault handed back. */
	if (err == -EINTR && pop->stop && atomic_read(pop->stop))
		return -EINTR;
	if (pop->deferred)
		return -EAGAIN;

	/*
	 * After some pages the kernel comes back to the failing one and
	 * gives up on the VMA only then; count the error once, there.
	 */
	if (!done || mlockdev_strict_failure(pop, vma))
		mlockdev_populate_error(pop, err, addr);
	if (mlockdev_strict_failure(pop, vma) &&
	    (!pop->strict_err || addr < pop->failed_addr)) {
		pop->strict_err = err;
		pop->failed_addr = addr;
		pop->failed_start = vma->vm_start;
		pop->failed_end = vma->vm_end;
		if (pop->stop)
			atomic_set(pop->stop, 1);
	}
	/* As __get_user_pages(): the pages done count, else the error. */
	return done ? done : err;
}

/**
 * mlockdev_populate_span - __mm_populate() over [@start, @end)
 * @pop: how to fault and where the results go; @pop->mm's mmap_lock not
 *	 held, the mm itself pinned by the caller
 * @start: where to begin, page aligned
 * @end: where to end, page aligned
 *
 * Stops early on a fatal signal, a stop request, or an error that fails
 * an all-or-nothing call.
 */
void mlockdev_populate_span(struct mlockdev_populate *pop,
			    unsigned long start, unsigned long end)
{
	struct mm_struct *mm = pop->mm;
	struct vm_area_struct *vma = NULL;
	unsigned long nstart, nend;
	bool locked = false;
	long ret;

	for (nstart = start; nstart < end; nstart = nend) {
		if (!locked) {
			if (mlockdev_populate_stopped(pop))
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

		ret = mlockdev_populate_vma_range(pop, vma, nstart, nend,
						  &locked);
		if (pop->strict_err || ret == -EINTR || pop->deferred)
			break;
		/* An error ends this VMA; go on with the next. */
		if (ret < 0)
			continue;
		nend = nstart + ret * PAGE_SIZE;
	}
	if (locked)
		mmap_read_unlock(mm);
}

/**
 * mlockdev_populate_init - set up a populate of @call's address space
 * @pop: to set up
 * @call: the lock call
 * @stop: the flag workers share, or NULL for the caller faulting alone
 */
void mlockdev_populate_init(struct mlockdev_populate *pop,
			    struct mlockdev_call *call, atomic_t *stop)
{
	memset(pop, 0, sizeof(*pop));
	pop->call = call;
	pop->mm = call->mm;
	pop->stop = stop;
	pop->nowait = call->worker;
	/* Another process's memory, or the caller's from another thread. */
	pop->remote = call->mm != current->mm || call->worker;
	pop->pkru_check = call->mm == call->caller_mm && pop->remote;
	pop->pkru = call->caller_pkru;
}

/**
 * mlockdev_populate_merge - add one populate's results to the call's report
 * @call: the call
 * @pop: a populate of it
 */
void mlockdev_populate_merge(struct mlockdev_call *call,
			     struct mlockdev_populate *pop)
{
	struct mlockdev_report *report = call->report;

	report->pages_populated += pop->pages;
	if (pop->errors &&
	    (!report->populate_errors ||
	     pop->first_addr < report->populate_first_addr)) {
		report->populate_first_errno = pop->first_err;
		report->populate_first_addr = pop->first_addr;
	}
	report->populate_errors += pop->errors;
	if (pop->strict_err &&
	    (!call->strict_err || pop->failed_addr < call->failed_addr)) {
		call->strict_err = pop->strict_err;
		call->failed_addr = pop->failed_addr;
		report->failed_vma_start = pop->failed_start;
		report->failed_vma_end = pop->failed_end;
	}
	mlockdev_stat_add(MLOCKDEV_STAT_PAGES_POPULATED, pop->pages);
}

/**
 * mlockdev_populate - __mm_populate(0, TASK_SIZE, ignore_errors=1)
 * @call: the lock call; @call->mm pinned, its mmap_lock not held
 *
 * By the caller alone, as the system call does, or by several threads
 * (workers.c) when the call asks for them.  A fatal signal ends the walk
 * (every GUP call would fail with -EINTR anyway): the caller is about to
 * die, and the system call returns 0.
 *
 * Return: 0, or for an all-or-nothing call (MLOCKDEV_LOCK_STRICT or
 * _OPENBSD) the error that kept locked memory from being made resident
 * (the walk stops there), or -EINTR if a fatal signal ended the walk.
 */
int mlockdev_populate(struct mlockdev_call *call)
{
	u64 start_ns = ktime_get_ns();
	struct mlockdev_populate pop;
	unsigned int workers;

	workers = mlockdev_workers_wanted(call);
	/* Workers would place pages by their own policy, not the caller's. */
	if (workers > 1 && mlockdev_caller_places_memory())
		workers = 1;
	if (workers > 1) {
		mlockdev_populate_parallel(call, workers);
	} else {
		mlockdev_populate_init(&pop, call, NULL);
		mlockdev_populate_span(&pop, 0, call->mm->task_size);
		mlockdev_populate_merge(call, &pop);
		call->report->workers_used = 1;
	}
	/*
	 * A fatal signal ended the walk (or stopped the workers) before it
	 * got through: for an all-or-nothing call that is a failure too, so
	 * that the locks are rolled back rather than left half populated.
	 */
	if ((call->mode & (MLOCKDEV_LOCK_STRICT | MLOCKDEV_LOCK_OPENBSD)) &&
	    !call->strict_err && fatal_signal_pending(current))
		call->strict_err = -EINTR;
	call->report->populate_ns += ktime_get_ns() - start_ns;
	return call->strict_err;
}
