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
 * When the call asks for MLOCKDEV_WORKERS_AUTO, small calls, where
 * threads cost more than they save, are done by the caller alone.
 */
#include <linux/cpumask.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/moduleparam.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "mlockdev.h"

/* Address range one thread takes at a time. */
#define MLOCKDEV_CHUNK_SIZE		(8UL << 20)
/* Under this much to fault in, AUTO means the caller alone. */
#define MLOCKDEV_AUTO_MIN_BYTES		(64UL << 20)
/* At most this many threads, whatever is asked. */
#define MLOCKDEV_MAX_WORKERS		64

static unsigned int mlockdev_populate_workers;
module_param_named(populate_workers, mlockdev_populate_workers, uint, 0644);
MODULE_PARM_DESC(populate_workers,
		 "threads that populate for a call that does not say (0: the caller alone, as mlockall; 4294967295: automatic)");

static struct workqueue_struct *mlockdev_wq;

struct mlockdev_chunk {
	unsigned long start;
	unsigned long end;
};

/* What the threads of one parallel populate share. */
struct mlockdev_pool {
	struct mlockdev_call *call;
	struct mlockdev_chunk *chunks;
	unsigned int nr_chunks;
	atomic_t next;			/* the next chunk to take */
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
	unsigned int i;

	while ((i = atomic_inc_return(&pool->next) - 1) < pool->nr_chunks) {
		if (atomic_read(&pool->stop))
			break;
		mlockdev_populate_span(pop, pool->chunks[i].start,
				       pool->chunks[i].end);
		if (pop->strict_err)
			atomic_set(&pool->stop, 1);
	}
}

static void mlockdev_worker_fn(struct work_struct *work)
{
	struct mlockdev_worker *w = container_of(work, struct mlockdev_worker,
						 work);
	struct mlockdev_pool *pool = w->pool;

	mlockdev_pool_run(pool, &w->pop);
	/* This CPU's LRU batches, before the caller looks at the pages. */
	mlockdev_lru_drain_local();
	if (atomic_dec_and_test(&pool->running))
		complete(&pool->done);
}

/*
 * The chunks: every VMA populate would fault, cut at chunk boundaries.
 * Return: how many, in *@chunks (kvfree() it), or 0.
 */
static unsigned int mlockdev_plan(struct mm_struct *mm,
				  struct mlockdev_chunk **chunks,
				  unsigned long *bytes)
{
	struct mlockdev_chunk *c = NULL;
	struct vm_area_struct *vma;
	unsigned int n = 0, max = 0;
	unsigned long addr;

	*bytes = 0;
	mmap_read_lock(mm);
	for (vma = find_vma(mm, 0); vma; vma = find_vma(mm, vma->vm_end)) {
		if ((vma->vm_flags & (VM_IO | VM_PFNMAP | VM_LOCKONFAULT)) ||
		    !vma_is_accessible(vma))
			continue;
		*bytes += vma->vm_end - vma->vm_start;
		max += DIV_ROUND_UP(vma->vm_end - vma->vm_start,
				    MLOCKDEV_CHUNK_SIZE);
	}
	if (max)
		c = kvmalloc_array(max, sizeof(*c), GFP_KERNEL);
	for (vma = c ? find_vma(mm, 0) : NULL; vma;
	     vma = find_vma(mm, vma->vm_end)) {
		if ((vma->vm_flags & (VM_IO | VM_PFNMAP | VM_LOCKONFAULT)) ||
		    !vma_is_accessible(vma))
			continue;
		for (addr = vma->vm_start; addr < vma->vm_end && n < max;
		     addr += MLOCKDEV_CHUNK_SIZE) {
			c[n].start = addr;
			c[n].end = min(vma->vm_end, addr + MLOCKDEV_CHUNK_SIZE);
			n++;
		}
	}
	mmap_read_unlock(mm);
	*chunks = c;
	return c ? n : 0;
}

/**
 * mlockdev_workers_wanted - how many threads should populate for @call
 * @call: the lock call
 *
 * Return: 1 for the caller alone, or more.
 */
unsigned int mlockdev_workers_wanted(struct mlockdev_call *call)
{
	u32 want = call->workers;

	if (want == MLOCKDEV_WORKERS_SYSCALL)
		want = READ_ONCE(mlockdev_populate_workers);
	if (want == MLOCKDEV_WORKERS_AUTO)
		return num_online_cpus();	/* trimmed by size below */
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
	unsigned long bytes;
	unsigned int i, helpers;

	pool.nr_chunks = mlockdev_plan(call->mm, &pool.chunks, &bytes);
	atomic_set(&pool.next, 0);
	atomic_set(&pool.stop, 0);
	init_completion(&pool.done);

	helpers = min_t(unsigned int, workers - 1,
			pool.nr_chunks ? pool.nr_chunks - 1 : 0);
	if (READ_ONCE(mlockdev_populate_workers) == MLOCKDEV_WORKERS_AUTO ||
	    call->workers == MLOCKDEV_WORKERS_AUTO)
		helpers = min_t(unsigned long, helpers,
				bytes / MLOCKDEV_AUTO_MIN_BYTES);
	w = helpers ? kcalloc(helpers, sizeof(*w), GFP_KERNEL) : NULL;
	if (!w)
		helpers = 0;
	atomic_set(&pool.running, helpers);

	for (i = 0; i < helpers; i++) {
		w[i].pool = &pool;
		w[i].call = *call;
		w[i].call.worker = true;
		mlockdev_populate_init(&w[i].pop, &w[i].call, &pool.stop);
		INIT_WORK(&w[i].work, mlockdev_worker_fn);
		queue_work(mlockdev_wq, &w[i].work);
	}

	mlockdev_populate_init(&self, call, &pool.stop);
	if (pool.nr_chunks) {
		mlockdev_pool_run(&pool, &self);
	} else {
		/* Nothing planned (no memory for the plan): as the syscall. */
		self.stop = NULL;
		mlockdev_populate_span(&self, 0, call->mm->task_size);
	}
	if (helpers && wait_for_completion_killable(&pool.done)) {
		/* Killed: every thread stops at its next GUP batch. */
		atomic_set(&pool.stop, 1);
		wait_for_completion(&pool.done);
	}

	mlockdev_populate_merge(call, &self);
	for (i = 0; i < helpers; i++) {
		/* Strict errors are judged against the call, not the copy. */
		w[i].pop.call = call;
		mlockdev_populate_merge(call, &w[i].pop);
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
