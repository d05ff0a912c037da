/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the files of the mlockdev module.  Nothing here is
 * ABI: the user ABI is include/uapi/linux/mlockdev.h.
 *
 * How the files fit together (one concern each):
 *
 *   core.c       the misc device and the ioctl dispatcher
 *   access.c     who may use the device: node mode, seccomp
 *   abi.c        the ioctl structs: checks, version query, unpacking
 *   lockall.c    mlockall()/munlockall(): checks in order, locking
 *   undo.c       what a strict call changed, and putting it back
 *   openbsd.c    OpenBSD's mlockall()/munlockall() rules
 *   cap.c        the system-wide cap on mlocked memory (max_locked_mb)
 *   trace.c      trace events (trace.h)
 *   policy.c     flags, RLIMIT_MEMLOCK arithmetic, which VMAs lock
 *   vma_pass.c   def_flags, VMA lock bits, locked_vm accounting
 *   page_pass.c  marking the pages already present (PG_mlocked, NR_MLOCK)
 *   pagetable.c  reading a VMA's page tables under their locks
 *   populate.c   faulting everything in after MCL_CURRENT
 *   workers.c    ... with several threads, when asked
 *   remote.c     acting on another process, named by a pidfd
 *   stats.c      per-CPU counters in sysfs
 *   compat.h     every difference between the kernels supported
 */
#ifndef _MLOCKDEV_H
#define _MLOCKDEV_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/mm_types.h>
#include <linux/mlockdev.h>

struct attribute_group;
struct file;
struct folio;
struct mm_struct;
struct vm_area_struct;

/* access.c */
int mlockdev_node_mode(void);
int mlockdev_caller_allowed(void);

/* abi.c */
bool mlockdev_reserved_is_zero(const void *field, size_t size);
long mlockdev_ioctl_version(void *arg);
long mlockdev_ioctl_lock_all(void *arg);
long mlockdev_ioctl_unlock_all(void *arg);
long mlockdev_ioctl_lock_all_ex(void *arg, bool *report);
long mlockdev_ioctl_unlock_all_ex(void *arg, bool *report);

/* lockall.c */
struct mlockdev_undo;

/**
 * struct mlockdev_call - one lock or unlock call, from the ioctl down
 * @mm:		the address space acted on, pinned for the call: the
 *		caller's, or another process's (a pidfd call, remote.c)
 * @task:	that other process, or NULL for the caller's own
 * @caller_mm:	the caller's own address space
 * @caller_pkru: the caller's protection-key rights, for worker threads
 * @flags:	MCL_* flags of a lock, 0 for an unlock
 * @mode:	MLOCKDEV_LOCK_* bits of an extensible call, else 0
 * @workers:	threads asked for to populate (MLOCKDEV_WORKERS_*)
 * @worker:	set in the copy a worker thread uses
 * @report:	where every step counts what it did; never NULL (the plain
 *		calls pass one nobody reads)
 * @undo:	what the call changed, for a strict call to put back (undo.c)
 * @cap_reserved: pages reserved against max_locked_mb (cap.c)
 * @strict_err:	the populate error that failed an all-or-nothing call ...
 * @failed_addr: ... and where
 */
struct mlockdev_call {
	struct mm_struct *mm;
	struct task_struct *task;
	struct mm_struct *caller_mm;
	u32 caller_pkru;
	int flags;
	u64 mode;
	u32 workers;
	bool worker;
	struct mlockdev_report *report;
	struct mlockdev_undo *undo;
	unsigned long cap_reserved;
	int strict_err;
	unsigned long failed_addr;
};

int mlockdev_lock_call(struct mlockdev_call *call);
int mlockdev_unlock_call(struct mlockdev_call *call);
int mlockdev_lockall(int flags);
int mlockdev_unlockall(void);

/* policy.c */
enum mlockdev_vma_kind {
	MLOCKDEV_VMA_LOCKABLE,
	MLOCKDEV_VMA_SPECIAL,		/* VM_IO, VM_PFNMAP, VM_MIXEDMAP, ... */
	MLOCKDEV_VMA_DROPPABLE,
	MLOCKDEV_VMA_DAX,
	MLOCKDEV_VMA_HUGETLB,
	MLOCKDEV_VMA_SECRETMEM,
};

bool mlockdev_lockall_flags_valid(int flags);
unsigned long mlockdev_limit_pages(unsigned long rlim_bytes);
unsigned long mlockdev_mb_to_pages(unsigned long mb);
bool mlockdev_lockall_fits(int flags, unsigned long total_vm,
			   unsigned long limit_pages);
enum mlockdev_vma_kind mlockdev_vma_kind(struct vm_area_struct *vma);
bool mlockdev_vma_lockable(struct vm_area_struct *vma);

/* What the VMA pass did with one VMA, as the mlockdev_vma event says. */
enum mlockdev_trace_decision {
	MLOCKDEV_TRACE_LOCKED,
	MLOCKDEV_TRACE_UNLOCKED,
	MLOCKDEV_TRACE_RELOCKED,	/* lock-on-fault <-> fully locked */
	MLOCKDEV_TRACE_UNCHANGED,
	MLOCKDEV_TRACE_SKIP_SPECIAL,
	MLOCKDEV_TRACE_SKIP_DROPPABLE,
	MLOCKDEV_TRACE_SKIP_DAX,
	MLOCKDEV_TRACE_SKIP_HUGETLB,
	MLOCKDEV_TRACE_SKIP_SECRETMEM,
};

/* vma_pass.c */
vm_flags_t mlockdev_lock_bits(int flags);
void mlockdev_apply_lock_flags(struct mlockdev_call *call);
void mlockdev_vma_set_lock_bits(struct mlockdev_call *call,
				struct vm_area_struct *vma,
				vm_flags_t newflags);

/* page_pass.c */
void mlockdev_vma_mark_pages(struct mlockdev_call *call,
			     struct vm_area_struct *vma, bool lock);

/* openbsd.c */
int mlockdev_openbsd_lock_call(struct mlockdev_call *call);
int mlockdev_openbsd_unlock_call(struct mlockdev_call *call);

/* undo.c */
int mlockdev_undo_begin(struct mlockdev_call *call);
void mlockdev_undo_record(struct mlockdev_call *call,
			  struct vm_area_struct *vma, vm_flags_t oldflags);
void mlockdev_undo_record_def_flags(struct mlockdev_call *call);
void mlockdev_undo_rollback(struct mlockdev_call *call);
void mlockdev_undo_end(struct mlockdev_call *call);

/* cap.c */
int mlockdev_cap_reserve(struct mlockdev_call *call);
void mlockdev_cap_release(struct mlockdev_call *call);

/* pagetable.c */

/**
 * struct mlockdev_pt_walk_ops - what mlockdev_walk_page_tables() calls
 * @pmd_leaf:	a huge PMD (a THP or a migration entry for one), read under
 *		its lock, which is held.
 * @pte_range:	the PTEs of [@addr, @end), @pte being @addr's, under the PTE
 *		lock, which is held; @start is where this PMD's range began.
 *		Return @end when done, or the address to go on from: the
 *		walk then calls @unlocked and comes back with the lock
 *		taken anew.
 * @unlocked:	called each time the walk has dropped a page-table lock.
 */
struct mlockdev_pt_walk_ops {
	void (*pmd_leaf)(pmd_t pmd, void *priv);
	unsigned long (*pte_range)(pte_t *pte, unsigned long start,
				   unsigned long addr, unsigned long end,
				   void *priv);
	void (*unlocked)(void *priv);
};

void mlockdev_walk_page_tables(struct vm_area_struct *vma,
			       const struct mlockdev_pt_walk_ops *ops,
			       void *priv);
struct folio *mlockdev_pte_folio(pte_t pte);
struct folio *mlockdev_pmd_folio(pmd_t pmd);
unsigned int mlockdev_folio_pte_batch(struct folio *folio, pte_t *ptep,
				      unsigned int max_nr);
bool mlockdev_folio_within_range(struct folio *folio,
				 struct vm_area_struct *vma,
				 unsigned long start, unsigned long end);

/* populate.c */

/* Pages a worker faults per GUP call, so that it notices a stop soon. */
#define MLOCKDEV_WORKER_BATCH	512

/**
 * struct mlockdev_populate - one thread's populate of part of a call
 * @call:	the call
 * @mm:		the address space
 * @remote:	fault with remote GUP (not the caller's own thread and mm)
 * @pkru_check:	check the caller's protection keys (remote GUP of the
 *		caller's own memory skips them)
 * @pkru:	the caller's protection-key rights
 * @stop:	shared by the threads of a parallel populate, else NULL
 * @nowait:	never take a fault that waits (a worker thread, which no
 *		signal can wake): stop there and hand the rest back ...
 * @deferred:	... which happened ...
 * @deferred_addr: ... at this address
 * @pages:	pages faulted in or found present
 * @errors:	ranges that ended with an error ...
 * @first_err:	... the one at the lowest address ...
 * @first_addr:	... and where
 * @strict_err:	an error that fails an all-or-nothing call ...
 * @failed_addr: ... where ...
 * @failed_start: ... and its VMA
 * @failed_end:	(end of that VMA)
 */
struct mlockdev_populate {
	struct mlockdev_call *call;
	struct mm_struct *mm;
	bool remote;
	bool pkru_check;
	u32 pkru;
	atomic_t *stop;
	bool nowait;
	bool deferred;
	unsigned long deferred_addr;
	unsigned long pages;
	unsigned long errors;
	int first_err;
	unsigned long first_addr;
	int strict_err;
	unsigned long failed_addr;
	unsigned long failed_start;
	unsigned long failed_end;
};

int mlockdev_populate(struct mlockdev_call *call);
void mlockdev_populate_init(struct mlockdev_populate *pop,
			    struct mlockdev_call *call, atomic_t *stop);
void mlockdev_populate_span(struct mlockdev_populate *pop,
			    unsigned long start, unsigned long end);
void mlockdev_populate_merge(struct mlockdev_call *call,
			     struct mlockdev_populate *pop);

/* workers.c */
unsigned int mlockdev_workers_wanted(struct mlockdev_call *call);
void mlockdev_populate_parallel(struct mlockdev_call *call,
				unsigned int workers);
int mlockdev_workers_init(void);
void mlockdev_workers_exit(void);

/* remote.c */
int mlockdev_remote_get(struct mlockdev_call *call, int pidfd);
void mlockdev_remote_put(struct mlockdev_call *call);
bool mlockdev_call_can_mlock(struct mlockdev_call *call);
unsigned long mlockdev_call_lock_limit(struct mlockdev_call *call);
bool mlockdev_call_capable(struct mlockdev_call *call);

/* stats.c */
enum mlockdev_stat {
	MLOCKDEV_STAT_LOCK_CALLS,
	MLOCKDEV_STAT_UNLOCK_CALLS,
	MLOCKDEV_STAT_LOCK_FAILED,
	MLOCKDEV_STAT_UNLOCK_FAILED,
	MLOCKDEV_STAT_FAILED_EFAULT,
	MLOCKDEV_STAT_FAILED_EINVAL,
	MLOCKDEV_STAT_FAILED_EPERM,
	MLOCKDEV_STAT_FAILED_EINTR,
	MLOCKDEV_STAT_FAILED_ENOMEM,
	MLOCKDEV_STAT_FAILED_EACCES,
	MLOCKDEV_STAT_FAILED_OTHER,
	MLOCKDEV_STAT_PAGES_POPULATED,
	MLOCKDEV_STAT_PAGES_MLOCKED,
	MLOCKDEV_STAT_PAGES_MUNLOCKED,
	MLOCKDEV_STAT_LOCK_NS,
	MLOCKDEV_STAT_UNLOCK_NS,
	MLOCKDEV_STAT_ROLLBACKS,
	MLOCKDEV_STAT_CAP_REFUSED,
	MLOCKDEV_NR_STATS
};

void mlockdev_stat_add(enum mlockdev_stat stat, u64 n);
void mlockdev_stat_call(bool lock, long ret, u64 ns);
extern const struct attribute_group *mlockdev_attr_groups[];

/*
 * core.c: static unless KUnit is enabled, when the test module calls it
 * with user memory of its own.
 */
#if IS_ENABLED(CONFIG_KUNIT)
long mlockdev_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
#endif

#endif /* _MLOCKDEV_H */
