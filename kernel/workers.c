// SPDX-License-Identifier: GPL-2.0
/*
 * Parallel populate: the memory a lock call must fault in, split by
 * address into chunks that several threads fault in at once -- the caller
 * and up to N-1 work items on an unbound workqueue.  No kernel's mlockall
 * does this; mlockall(2) faults everything in on the calling thread.
 *
 * Each thread runs populate.c's __mm_populate() loop on the chunks it
 * takes, so every per-VMA decision is made afresh, under the mmap read
 * lock, after every lock drop, exactly as on the serial path.  Worker
 * threads use remote GUP on the caller's address space (which the caller
 * keeps pinned, and waits for them) and check the caller's protection keys
 * themselves.  A strict failure in one thread, or a fatal signal to the
 * caller, sets a stop flag every thread looks at between GUP batches of
 * MLOCKDEV_WORKER_BATCH pages.
 *
 * What differs from the serial path, and only then: the pages faulted are
 * the same, but the order is not, so when a fault fails in the middle of a
 * VMA (no memory left in the cgroup, a guard region), chunks of the same
 * VMA above the failure that other threads finished already stay faulted
 * in, where the serial path stops at the failure.  The lock state is the
 * same either way, and a strict call still rolls back.  Chunks are planned
 * from the VMAs there are when the populate starts; a mapping another
 * thread makes in a gap meanwhile is not faulted in, where the serial path
 * would fault it if it came before its walk.
 *
 * A worker never waits in a fault (populate.c): where a page needs a
 * fault that waits (I/O, a page lock, a userfaultfd handler), it stops and
 * hands the rest of its chunk back; chunks of anything but anonymous
 * memory and shmem only the caller takes (mlockdev_caller_only()).  The
 * caller, once every worker is done, faults those ranges itself, in
 * address order, killably, with the same per-VMA re-checks after every
 * lock drop as the serial path.
 *
 * Userfaultfd is the one way the process can act in the middle of a
 * populate, from a handler woken by the fault, and observe its order:
 * mlockall() has faulted nothing above the waiting page yet, so what the
 * handler changes there (mprotect, munmap, mlock2(MLOCK_ONFAULT)) is what
 * the populate sees.  So the plan ends at the first VMA registered with a
 * userfaultfd, and from there to the top the caller faults everything
 * serially, after the workers, as mlockall() does.  (A registration
 * another thread makes meanwhile is not seen: that thread races with the
 * populate anyway.)
 *
 * Workers fault in kworker context: each charges the caller's memory
 * cgroup (set_active_memcg()), and a caller whose NUMA memory policy or
 * cpuset decides where its pages go faults alone (populate.c), since a
 * worker would place them by its own.
 *
 * When the call asks for MLOCKDEV_WORKERS_AUTO, small calls, where
 * threads cost more than they save, are done by the caller alone.
 */
#include <linux/cpumask.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/userfaultfd_k.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "mlockdev.h"

/* Address range one thread takes at a time, at least ... */
#define MLOCKDEV_CHUNK_SIZE		(8UL << 20)
/* ... and larger when there would be more chunks than this, about. */
#define MLOCKDEV_MAX_CHUNKS		65536UL
/* Under this much to fault in, AUTO means the caller alone. */
#define MLOCKDEV_AUTO_MIN_BYTES		(64UL << 20)
/* At most this many threads, whatever is asked. */
#define MLOCKDEV_MAX_WORKERS		64

static unsigned int mlockdev_populate_workers;
module_param_named(populate_workers, mlockdev_populate_workers, uint, 0644);
MODULE_PARM_DESC(populate_workers,
		 "threads that populate for a call that does not say (0: the caller alone, as mlockall; 4294967295: automatic)");

static struct workqueue_struct *mlockdev_wq;

/*
 * A chunk; a worker that met a fault that waits sets @handed_back, and
 * the caller faults [@resume, @end).
 */
struct mlockdev_chunk {
	unsigned long start;
	unsigned long end;
	unsigned long resume;
	bool handed_back;
	bool caller_only;	/* a file that is not shmem: see below */
};

/* What the threads of one parallel populate share. */
struct mlockdev_pool {
	struct mlockdev_call *call;
	struct mlockdev_chunk *chunks;
	unsigned long nr_chunks;
	atomic_long_t next;		/* the next chunk to take */
	atomic_t stop;			/* strict failure or fatal signal */
	atomic_t running;		/* work items not finished */
	struct completion done;		/* the last one finished */
};

struct mlockdev_worker {
	struct work_struct work;
	struct mlockdev_pool *pool;
	struct mlockdev_call call;	/* a copy, marked as a worker's */
	struct mlockdev_populate pop;
};

/* Take chunks until there are none left or the pool stops. */
static void mlockdev_pool_run(struct mlockdev_pool *pool,
			      struct mlockdev_populate *pop)
{
	struct mlockdev_chunk *c;
	unsigned long i;

	while ((i = atomic_long_inc_return(&pool->next) - 1) <
	       pool->nr_chunks) {
		if (atomic_read(&pool->stop))
			break;
		c = &pool->chunks[i];
		if (c->caller_only && pop->call->worker) {
			c->resume = c->start;
			c->handed_back = true;
			continue;
		}
		mlockdev_populate_span(pop, c->start, c->end);
		if (pop->strict_err)
			atomic_set(&pool->stop, 1);
		if (pop->deferred) {
			c->resume = pop->deferred_addr;
			c->handed_back = true;
			pop->deferred = false;
		}
	}
}

static void mlockdev_worker_fn(struct work_struct *work)
{
	struct mlockdev_worker *w = container_of(work, struct mlockdev_worker,
						 work);
	struct mlockdev_pool *pool = w->pool;
	struct mem_cgroup *memcg, *old;

	/* Page tables and pages charged to the caller's cgroup, not none. */
	memcg = get_mem_cgroup_from_mm(w->pop.mm);
	old = set_active_memcg(memcg);
	mlockdev_pool_run(pool, &w->pop);
	set_active_memcg(old);
	mem_cgroup_put(memcg);
	/* This CPU's LRU batches, before the caller looks at the pages. */
	mlockdev_lru_drain_local();
	if (atomic_dec_and_test(&pool->running))
		complete(&pool->done);
}

/*
 * Workers fault anonymous memory and shmem only; everything else is the
 * caller's.  FOLL_NOWAIT keeps a worker out of the waits that drop the
 * mmap lock (VM_FAULT_RETRY), but not out of readahead and ->read_folio,
 * which run under the lock (maybe_unlock_mmap_for_io() keeps it with
 * FAULT_FLAG_RETRY_NOWAIT): a FUSE server that does not answer, or an NFS
 * hard mount, would hold a kworker, which no signal wakes, and with it
 * the caller, in D state; the caller's own faults there are killable.
 * And a special mapping may refuse a remote fault outright (7.3's [vvar]
 * returns SIGBUS for FAULT_FLAG_REMOTE), where the caller's own fault, as
 * mlockall()'s, maps it.
 */
static bool mlockdev_caller_only(struct vm_area_struct *vma)
{
	if (vma_is_anonymous(vma))
		return false;
	return !vma->vm_file || !shmem_mapping(vma->vm_file->f_mapping);
}

/* Would populate fault this VMA in? */
static bool mlockdev_plan_vma(struct vm_area_struct *vma)
{
	return !(vma->vm_flags & (VM_IO | VM_PFNMAP | VM_LOCKONFAULT)) &&
	       vma_is_accessible(vma);
}

/*
 * The chunks: every VMA populate would fault below the first one armed
 * with a userfaultfd, cut at chunk boundaries.  *@serial_from is where
 * the caller goes on alone: that VMA's start, or the top of the address
 * space; 0 if there is no plan (no memory for it).
 *
 * Return: how many chunks, in *@chunks (kvfree() it), or 0.
 */
static unsigned long mlockdev_plan(struct mm_struct *mm,
				   struct mlockdev_chunk **chunks,
				   unsigned long *bytes,
				   unsigned long *serial_from)
{
	struct mlockdev_chunk *c = NULL;
	struct vm_area_struct *vma;
	unsigned long n = 0, max = 0, size, addr;

	*bytes = 0;
	*serial_from = mm->task_size;
	mmap_read_lock(mm);
	for (vma = find_vma(mm, 0); vma; vma = find_vma(mm, vma->vm_end)) {
		if (userfaultfd_armed(vma)) {
			*serial_from = vma->vm_start;
			break;
		}
		if (mlockdev_plan_vma(vma))
			*bytes += vma->vm_end - vma->vm_start;
	}
	/* Bigger chunks rather than too many. */
	size = max(MLOCKDEV_CHUNK_SIZE,
		   round_up(*bytes / MLOCKDEV_MAX_CHUNKS + 1, PAGE_SIZE));
	for (vma = find_vma(mm, 0); vma && vma->vm_start < *serial_from;
	     vma = find_vma(mm, vma->vm_end))
		if (mlockdev_plan_vma(vma))
			max += DIV_ROUND_UP(vma->vm_end - vma->vm_start, size);
	if (max)
		c = kvmalloc_array(max, sizeof(*c),
				   GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	for (vma = c ? find_vma(mm, 0) : NULL;
	     vma && vma->vm_start < *serial_from;
	     vma = find_vma(mm, vma->vm_end)) {
		if (!mlockdev_plan_vma(vma))
			continue;
		for (addr = vma->vm_start; addr < vma->vm_end && n < max;
		     addr += size) {
			c[n].start = addr;
			c[n].end = addr + min(vma->vm_end - addr, size);
			c[n].caller_only = mlockdev_caller_only(vma);
			n++;
		}
	}
	mmap_read_unlock(mm);
	if (!c && max)
		*serial_from = 0;
	*chunks = c;
	return n;
}

/**
 * mlockdev_workers_wanted - how many threads should populate for @call
 * @call: the lock call
 *
 * Return: 1 for the caller alone, or more, at most MLOCKDEV_MAX_WORKERS.
 */
unsigned int mlockdev_workers_wanted(struct mlockdev_call *call)
{
	u32 want = call->workers;

	if (want == MLOCKDEV_WORKERS_SYSCALL)
		want = READ_ONCE(mlockdev_populate_workers);
	if (want == MLOCKDEV_WORKERS_AUTO)
		want = num_online_cpus();	/* trimmed by size later */
	return clamp_t(u32, want, 1, MLOCKDEV_MAX_WORKERS);
}

/**
 * mlockdev_populate_parallel - mlockdev_populate() with @workers threads
 * @call: the lock call; @call->mm pinned, its mmap_lock not held
 * @workers: threads, the caller included (more than one)
 *
 * Results go into @call's report, as from the serial path.
 */
void mlockdev_populate_parallel(struct mlockdev_call *call,
				unsigned int workers)
{
	struct mlockdev_populate self;
	struct mlockdev_worker *w;
	struct mlockdev_pool pool = { .call = call };
	unsigned long bytes, serial_from, i;
	unsigned int j, helpers;

	pool.nr_chunks = mlockdev_plan(call->mm, &pool.chunks, &bytes,
				       &serial_from);
	atomic_long_set(&pool.next, 0);
	atomic_set(&pool.stop, 0);
	init_completion(&pool.done);

	helpers = min_t(unsigned long, workers - 1,
			pool.nr_chunks ? pool.nr_chunks - 1 : 0);
	if (READ_ONCE(mlockdev_populate_workers) == MLOCKDEV_WORKERS_AUTO ||
	    call->workers == MLOCKDEV_WORKERS_AUTO)
		helpers = min_t(unsigned long, helpers,
				bytes / MLOCKDEV_AUTO_MIN_BYTES);
	w = helpers ? kcalloc(helpers, sizeof(*w), GFP_KERNEL) : NULL;
	if (!w)
		helpers = 0;
	atomic_set(&pool.running, helpers);

	for (j = 0; j < helpers; j++) {
		w[j].pool = &pool;
		w[j].call = *call;
		w[j].call.worker = true;
		mlockdev_populate_init(&w[j].pop, &w[j].call, &pool.stop);
		INIT_WORK(&w[j].work, mlockdev_worker_fn);
		queue_work(mlockdev_wq, &w[j].work);
	}

	mlockdev_populate_init(&self, call, &pool.stop);
	mlockdev_pool_run(&pool, &self);
	if (helpers && wait_for_completion_killable(&pool.done)) {
		/*
		 * Killed: every thread stops at its next GUP batch, and none
		 * waits in a fault (nor reads a file), so this wait is short.
		 */
		atomic_set(&pool.stop, 1);
		wait_for_completion(&pool.done);
	}

	/*
	 * What the workers handed back, then everything from the first
	 * userfaultfd-armed VMA up: the caller's, in address order.  (With no
	 * plan, everything, as the system call does.)
	 */
	for (i = 0; i < pool.nr_chunks; i++)
		if (pool.chunks[i].handed_back)
			mlockdev_populate_span(&self, pool.chunks[i].resume,
					       pool.chunks[i].end);
	mlockdev_populate_span(&self, serial_from, call->mm->task_size);

	mlockdev_populate_merge(call, &self);
	for (j = 0; j < helpers; j++) {
		/* Strict errors are judged against the call, not the copy. */
		w[j].pop.call = call;
		mlockdev_populate_merge(call, &w[j].pop);
	}
	call->report->workers_used = helpers + 1;
	kfree(w);
	kvfree(pool.chunks);
}

/**
 * mlockdev_workers_init - the workqueue of the populate threads
 *
 * Return: 0 or -ENOMEM.
 */
int mlockdev_workers_init(void)
{
	mlockdev_wq = alloc_workqueue("mlockdev_populate", WQ_UNBOUND, 0);
	return mlockdev_wq ? 0 : -ENOMEM;
}

void mlockdev_workers_exit(void)
{
	destroy_workqueue(mlockdev_wq);
}
