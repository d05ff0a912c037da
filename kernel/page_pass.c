// SPDX-License-Identifier: GPL-2.0
/*
 * The page pass: mlock_pte_range() of mm/mlock.c.  When a VMA becomes
 * VM_LOCKED, mark the pages already present in it as mlocked; when it
 * stops being VM_LOCKED, unmark them.  The kernel keeps NR_MLOCK (meminfo
 * "Mlocked:") and the unevictable_pgs_* events while doing so; so do we.
 *
 * The walk is the kernel's: every present PTE and huge PMD of the VMA,
 * under the page-table lock (pagetable.c), so that marking and unmarking
 * are ordered against anyone who maps or unmaps the page -- a fault, a
 * truncation, reclaim's rmap walk -- exactly as in mm/.  Protection keys
 * and pending signals play no part in it, as in mm/.
 *
 * Which folios (mlock_pte_range()): a PMD-mapped THP always; a small
 * folio always; a PTE-mapped large folio, from 6.7 on, only when the PTEs
 * from its first page on map all of it alike (folio_pte_batch()) and it
 * lies inside the PMD range walked; before 6.7 never.  Unmarking takes
 * every folio it meets (compat.h has the version rule).
 *
 * Where this differs from mlock_folio() and munlock_folio(), because no
 * exported function moves a folio between LRU lists (the list of symbols
 * checked is in Documentation/design.rst):
 *
 *  - Marking sets PG_mlocked and the counters but leaves the folio on the
 *    LRU list it is on.  A PG_mlocked folio is not evictable, so the first
 *    reclaim scan that meets it moves it to the unevictable list itself
 *    (unevictable_pgs_culled); until then meminfo "Unevictable:" lags, and
 *    compaction may still move it where vm.compact_unevictable_allowed=0.
 *    Pages the call itself faults in are mlocked by the fault path and go
 *    straight to the unevictable list, as with the system call.
 *
 *  - Unmarking clears PG_mlocked and the counters under the PTE lock, then
 *    hands every folio it unmarked to check_move_unevictable_folios(),
 *    which takes it off the unevictable list under the LRU lock if it is
 *    there.  A folio that someone else has isolated meanwhile is re-filed
 *    by that someone when it goes back (lru_add() checks evictability);
 *    the kernel counts such a folio as unevictable_pgs_stranded rather
 *    than munlocked, and so do we.  The per-folio mlock_count is not kept:
 *    a folio also locked through another VMA loses PG_mlocked until
 *    reclaim marks it again -- the undercount __munlock_folio() itself
 *    accepts ("reclaim will fix it").
 */
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/pgtable.h>
#include <linux/swap.h>
#include <linux/vmstat.h>

#include "compat.h"
#include "mlockdev.h"

struct mlockdev_page_walk {
	struct vm_area_struct *vma;
	bool lock;			/* mark (VMA now VM_LOCKED) or unmark */

	/* Unmarked folios for the LRU rescue, one reference each. */
	struct folio_batch rescue;

	unsigned long nr_marked;	/* pages newly PG_mlocked */
	unsigned long nr_unmarked;	/* pages no longer PG_mlocked */
};

/* No room for another folio in the rescue queue. */
static bool mlockdev_rescue_full(struct mlockdev_page_walk *walk)
{
	return folio_batch_count(&walk->rescue) >=
	       ARRAY_SIZE(walk->rescue.folios);
}

/* mlock_folio() without the LRU move; page-table lock held. */
static void mlockdev_mark_folio(struct mlockdev_page_walk *walk,
				struct folio *folio)
{
	long nr = folio_nr_pages(folio);

	if (folio_test_set_mlocked(folio))
		return;
	zone_stat_mod_folio(folio, NR_MLOCK, nr);
	count_vm_events(UNEVICTABLE_PGMLOCKED, nr);
	walk->nr_marked += nr;
}

static void mlockdev_rescue_flush(struct mlockdev_page_walk *walk)
{
	if (!folio_batch_count(&walk->rescue))
		return;
	check_move_unevictable_folios(&walk->rescue);
	/* Drops our references; the first release also drains LRU caches. */
	folio_batch_release(&walk->rescue);
}

/*
 * munlock_folio() without the LRU move, page-table lock held.  The folio
 * is queued for check_move_unevictable_folios(), which takes the LRU lock:
 * the queue is flushed between page-table locks (->unlocked), and the walk
 * stops to let that happen as soon as the queue is full.
 */
static void mlockdev_unmark_folio(struct mlockdev_page_walk *walk,
				  struct folio *folio)
{
	long nr = folio_nr_pages(folio);

	if (folio_test_clear_mlocked(folio)) {
		zone_stat_mod_folio(folio, NR_MLOCK, -nr);
		/*
		 * __munlock_folio(): a folio it cannot isolate from the LRU
		 * while it sits on the unevictable list counts as stranded.
		 */
		if (folio_test_lru(folio) || !folio_test_unevictable(folio))
			count_vm_events(UNEVICTABLE_PGMUNLOCKED, nr);
		else
			count_vm_events(UNEVICTABLE_PGSTRANDED, nr);
		walk->nr_unmarked += nr;
	}
	/*
	 * test_and_clear is fully ordered: the evictability check that
	 * check_move_unevictable_folios() makes under the LRU lock sees it.
	 * A mapped folio has references, so taking one more is safe.
	 */
	folio_get(folio);
	folio_batch_add(&walk->rescue, folio);
}

/* Mark or unmark; return true if the walk must stop to flush the queue. */
static bool mlockdev_folio_apply(struct mlockdev_page_walk *walk,
				 struct folio *folio)
{
	if (walk->lock)
		mlockdev_mark_folio(walk, folio);
	else
		mlockdev_unmark_folio(walk, folio);
	return mlockdev_rescue_full(walk);
}

/*
 * allow_mlock_munlock() of mm/mlock.c: unmarking takes any folio; marking
 * takes a small folio, or a large one mapped whole from its first page by
 * @step alike PTEs inside [@start, @end) (6.7+).
 */
static bool mlockdev_may_apply(struct mlockdev_page_walk *walk,
			       struct folio *folio, unsigned long start,
			       unsigned long end, unsigned int step)
{
	if (!walk->lock || !folio_test_large(folio))
		return true;
	if (!mlockdev_folio_within_range(folio, walk->vma, start, end))
		return false;
	return step == folio_nr_pages(folio);
}

/* ->pmd_leaf: a huge PMD is one folio, taken whole either way. */
static void mlockdev_page_pmd_leaf(pmd_t pmd, void *priv)
{
	struct mlockdev_page_walk *walk = priv;
	struct folio *folio;

	/* A migration entry: the new folio is mlocked when it is mapped. */
	if (!pmd_present(pmd))
		return;
	folio = mlockdev_pmd_folio(pmd);
	if (folio)
		mlockdev_folio_apply(walk, folio);
}

/*
 * ->pte_range: the loop of mlock_pte_range().  Stops early when the
 * rescue queue is full, so that ->unlocked can flush it.
 */
static unsigned long mlockdev_page_pte_range(pte_t *pte, unsigned long start,
					     unsigned long addr,
					     unsigned long end, void *priv)
{
	struct mlockdev_page_walk *walk = priv;

	for (; addr != end; pte++, addr += PAGE_SIZE) {
		pte_t ptent = ptep_get(pte);
		struct folio *folio;
		unsigned int step = 1;
		bool full = false;

		if (!pte_present(ptent))
			continue;
		folio = mlockdev_pte_folio(ptent);
		if (!folio || folio_is_zone_device(folio))
			continue;
		if (folio_test_large(folio)) {
			if (!mlockdev_walks_pte_mapped_large_folios())
				continue;
			step = mlockdev_folio_pte_batch(folio, pte,
							(end - addr) >>
							PAGE_SHIFT);
		}
		if (mlockdev_may_apply(walk, folio, start, end, step))
			full = mlockdev_folio_apply(walk, folio);
		pte += step - 1;
		addr += (unsigned long)(step - 1) << PAGE_SHIFT;
		if (full)
			return addr + PAGE_SIZE;
	}
	return end;
}

/* ->unlocked: the LRU rescue takes the LRU lock, never under a PTE lock. */
static void mlockdev_page_unlocked(void *priv)
{
	struct mlockdev_page_walk *walk = priv;

	if (mlockdev_rescue_full(walk))
		mlockdev_rescue_flush(walk);
}

static const struct mlockdev_pt_walk_ops mlockdev_page_walk_ops = {
	.pmd_leaf	= mlockdev_page_pmd_leaf,
	.pte_range	= mlockdev_page_pte_range,
	.unlocked	= mlockdev_page_unlocked,
};

/**
 * mlockdev_vma_mark_pages - mark or unmark the pages present in a VMA
 * @call: the call it is part of (counts go to its report)
 * @vma: a lockable VMA whose lock bits were just changed; its mm's
 *	 mmap_lock held for writing, the VMA write-locked
 * @lock: true if the VMA became VM_LOCKED, false if it stopped being so
 *
 * Never faults, never fails, and ignores pending signals: an unlock that
 * stopped half way would leave pages PG_mlocked in a VMA that is no longer
 * VM_LOCKED, where nothing would ever unmark them.
 */
void mlockdev_vma_mark_pages(struct mlockdev_call *call,
			     struct vm_area_struct *vma, bool lock)
{
	struct mlockdev_page_walk walk = { .vma = vma, .lock = lock };
	u64 start = ktime_get_ns();

	folio_batch_init(&walk.rescue);
	/* Folios in this CPU's LRU caches go on the LRU first, as in mm/. */
	mlockdev_lru_drain_local();
	mlockdev_walk_page_tables(vma, &mlockdev_page_walk_ops, &walk);
	mlockdev_rescue_flush(&walk);
	mlockdev_lru_drain_local();

	call->report->pages_marked += walk.nr_marked;
	call->report->pages_unmarked += walk.nr_unmarked;
	call->report->page_pass_ns += ktime_get_ns() - start;
	mlockdev_stat_add(MLOCKDEV_STAT_PAGES_MLOCKED, walk.nr_marked);
	mlockdev_stat_add(MLOCKDEV_STAT_PAGES_MUNLOCKED, walk.nr_unmarked);
}
