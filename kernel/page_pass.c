// SPDX-License-Identifier: GPL-2.0
/*
 * The page pass: when a VMA becomes VM_LOCKED, mark the pages already
 * present in it as mlocked; when it stops being VM_LOCKED, unmark them.
 * The kernel does this in mlock_pte_range() and keeps NR_MLOCK (meminfo
 * "Mlocked:") and the unevictable_pgs_mlocked/munlocked events; so do we.
 *
 * The kernel walks the page tables under the PTE lock and moves each folio
 * between LRU lists with mlock_folio()/munlock_folio().  None of that is
 * exported, so this file works differently:
 *
 *  - Finding pages: a lockless look at the upper page-table levels skips
 *    ranges with no page table (a VMA is often mostly empty when it is
 *    locked); a THP mapped by a PMD is taken as one folio; elsewhere
 *    get_user_pages_fast_only() collects present pages, and
 *    get_user_pages(FOLL_NOFAULT) collects what gup-fast refuses (the zero
 *    page, PROT_NONE and NUMA-hinting PTEs) -- but only where a look at
 *    the PTE says a page may be there, so that holes stay cheap.  Nothing
 *    is faulted in.
 *
 *  - Marking: PG_mlocked and the counters, as mlock_folio() does, but the
 *    folio stays on the LRU list it is on.  That is safe: a PG_mlocked
 *    folio is not evictable, so the first reclaim scan that meets it moves
 *    it to the unevictable list itself (and counts it as culled).  Until
 *    then meminfo "Unevictable:" lags; "Mlocked:" is exact at once.
 *
 *  - Unmarking: clear PG_mlocked and the counters, and give folios that sit
 *    on the unevictable list back to the evictable ones with the exported
 *    check_move_unevictable_folios(), so none is stranded.  The kernel's
 *    per-folio mlock_count is not kept: a folio also locked through another
 *    VMA loses PG_mlocked until reclaim re-marks it, the undercount
 *    __munlock_folio() itself accepts ("reclaim will fix it").
 *
 * Which folios: small ones always.  A large folio is mlocked only when the
 * whole of it is mapped, in order, inside one PMD range of the VMA (6.7+),
 * or only when a PMD maps it (6.1) -- see compat.h.  Unmarking takes every
 * folio it finds, as 6.12 does.
 */
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/mm_inline.h>
#include <linux/pagevec.h>
#include <linux/pgtable.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/swap.h>
#include <linux/vmstat.h>

#include "compat.h"
#include "mlockdev.h"

/* Pages collected per GUP call: 512 bytes of stack. */
#define MLOCKDEV_GUP_BATCH	64

struct mlockdev_page_walk {
	bool lock;		/* mark (VMA now VM_LOCKED) or unmark */
	pmd_t *pmdp;		/* the PMD of the range being walked */

	/*
	 * The run being gathered: consecutive pages of one folio mapped at
	 * consecutive addresses.  Each page holds one GUP reference.
	 */
	struct folio *run_folio;
	unsigned long run_pfn;		/* pfn of the run's first page */
	unsigned long run_addr;		/* and its user address */
	unsigned int run_nr;		/* pages in the run */

	/* Unmarked folios on the unevictable list, one reference each. */
	struct folio_batch rescue;

	unsigned long nr_marked;	/* pages newly PG_mlocked */
	unsigned long nr_unmarked;	/* pages no longer PG_mlocked */
};

/**
 * mlockdev_next_pmd - find the next PMD range that may hold pages
 * @mm: current->mm, mmap_lock held for writing
 * @addr: where to look
 * @end: end of the VMA
 * @next: set to the end of the range examined
 *
 * Reads the page-table entries without locks.  The PGD, P4D, PUD and PMD
 * tables cannot be freed while we hold the mmap write lock; an entry may
 * change under us (a fault in a neighbouring VMA filling it in, a THP
 * being split) and GUP below copes with that.  A PUD leaf cannot map a
 * lockable VMA (only DAX uses them), so it counts as empty.
 *
 * Return: the PMD covering [@addr, *@next), or NULL if the range has no
 * page table or only a non-present PMD (a THP under migration).
 */
static pmd_t *mlockdev_next_pmd(struct mm_struct *mm, unsigned long addr,
				unsigned long end, unsigned long *next)
{
	pgd_t *pgdp = pgd_offset(mm, addr);
	pgd_t pgd = READ_ONCE(*pgdp);
	p4d_t *p4dp, p4d;
	pud_t *pudp, pud;
	pmd_t *pmdp, pmd;

	if (pgd_none(pgd) || pgd_bad(pgd)) {
		*next = pgd_addr_end(addr, end);
		return NULL;
	}
	p4dp = p4d_offset(pgdp, addr);
	p4d = READ_ONCE(*p4dp);
	if (p4d_none(p4d) || p4d_bad(p4d)) {
		*next = p4d_addr_end(addr, end);
		return NULL;
	}
	pudp = pud_offset(p4dp, addr);
	pud = READ_ONCE(*pudp);
	if (pud_none(pud) || pud_bad(pud)) {
		*next = pud_addr_end(addr, end);
		return NULL;
	}
	pmdp = pmd_offset(pudp, addr);
	*next = pmd_addr_end(addr, end);
	pmd = READ_ONCE(*pmdp);
	if (pmd_none(pmd) || !pmd_present(pmd))
		return NULL;
	return pmdp;
}

/*
 * Pages that mlock_pte_range() never touches: the zero pages (no
 * vm_normal_folio()) and device memory.  The huge zero folio is the only
 * large folio with neither an anon_vma nor an address space; its own test,
 * is_huge_zero_folio(), reads a variable that is not exported.
 */
static bool mlockdev_page_ignored(struct page *page, struct folio *folio)
{
	if (is_zero_pfn(page_to_pfn(page)) || folio_is_zone_device(folio))
		return true;
	return folio_test_large(folio) && !folio_test_anon(folio) &&
	       !READ_ONCE(folio->mapping);
}

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

/* Return: true if the folio sits on the unevictable list and needs moving. */
static bool mlockdev_unmark_folio(struct mlockdev_page_walk *walk,
				  struct folio *folio)
{
	long nr = folio_nr_pages(folio);

	if (folio_test_clear_mlocked(folio)) {
		zone_stat_mod_folio(folio, NR_MLOCK, -nr);
		count_vm_events(UNEVICTABLE_PGMUNLOCKED, nr);
		walk->nr_unmarked += nr;
	}
	/*
	 * test_and_clear is fully ordered: the evictable check done by
	 * check_move_unevictable_folios() under the LRU lock sees it.
	 */
	return folio_test_unevictable(folio);
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
 * mlock_pte_range()'s rule for large folios: only a folio mapped entirely,
 * in order, inside the range walked (one PMD), starting at its first page.
 */
static bool mlockdev_run_mlockable(struct mlockdev_page_walk *walk,
				   struct folio *folio)
{
	if (!folio_test_large(folio))
		return true;
	if (walk->run_pfn != folio_pfn(folio) ||
	    walk->run_nr != folio_nr_pages(folio))
		return false;
	return mlockdev_mapped_large_folio_mlockable(folio, walk->pmdp);
}

/* Mark or unmark one folio, then drop @refs GUP references to it. */
static void mlockdev_folio_done(struct mlockdev_page_walk *walk,
				struct folio *folio, unsigned int refs,
				bool mlockable)
{
	if (walk->lock) {
		if (mlockable)
			mlockdev_mark_folio(walk, folio);
	} else if (mlockdev_unmark_folio(walk, folio)) {
		/* Keep one reference for the batch. */
		refs--;
		if (!folio_batch_add(&walk->rescue, folio))
			mlockdev_rescue_flush(walk);
	}
	if (refs)
		folio_put_refs(folio, refs);
}

/* Act on the run gathered so far. */
static void mlockdev_run_end(struct mlockdev_page_walk *walk)
{
	struct folio *folio = walk->run_folio;

	if (!folio)
		return;
	walk->run_folio = NULL;
	mlockdev_folio_done(walk, folio, walk->run_nr,
			    walk->lock && mlockdev_run_mlockable(walk, folio));
}

static void mlockdev_walk_page(struct mlockdev_page_walk *walk,
			       struct page *page, unsigned long addr)
{
	struct folio *folio = page_folio(page);
	unsigned long pfn = page_to_pfn(page);

	if (folio == walk->run_folio &&
	    pfn == walk->run_pfn + walk->run_nr &&
	    addr == walk->run_addr + ((unsigned long)walk->run_nr << PAGE_SHIFT)) {
		walk->run_nr++;
		return;
	}

	mlockdev_run_end(walk);
	if (mlockdev_page_ignored(page, folio)) {
		put_page(page);
		return;
	}
	walk->run_folio = folio;
	walk->run_pfn = pfn;
	walk->run_addr = addr;
	walk->run_nr = 1;
}

/*
 * A THP mapped by the PMD of [@addr, @end): mlock_pte_range() takes it in
 * one step, and so do we, instead of visiting its 512 pages.
 *
 * Return: true if the range was handled, false to walk it page by page.
 */
static bool mlockdev_walk_pmd_leaf(struct mlockdev_page_walk *walk,
				   unsigned long addr, unsigned long end)
{
	struct folio *folio;
	struct page *page;
	pmd_t pmd;

	if (end - addr != PMD_SIZE || !pmd_trans_huge(READ_ONCE(*walk->pmdp)))
		return false;
	if (get_user_pages_fast_only(addr, 1, 0, &page) != 1)
		return false;

	folio = page_folio(page);
	/* Still the same THP, still mapped by the PMD, from its first page? */
	pmd = READ_ONCE(*walk->pmdp);
	if (!pmd_trans_huge(pmd) || pmd_pfn(pmd) != page_to_pfn(page) ||
	    page_to_pfn(page) != folio_pfn(folio) ||
	    !folio_test_pmd_mappable(folio)) {
		put_page(page);
		return false;
	}
	if (mlockdev_page_ignored(page, folio))
		put_page(page);
	else
		mlockdev_folio_done(walk, folio, 1, true);
	return true;
}

/*
 * May a page be mapped at @addr?  Asked after gup-fast refused @addr: it
 * refuses holes, but also present pages that get_user_pages() returns
 * (the zero page, PROT_NONE and NUMA-hinting PTEs).  Asking the slower GUP
 * about every hole would cost a page-table walk from the top each, so
 * look at the PTE, as gup-fast itself does: under RCU, because on 6.12
 * khugepaged may free a PTE table without the mmap lock, after an RCU
 * grace period.  The answer is only a hint; GUP decides.  No PTE can
 * appear in this VMA meanwhile: faults are shut out by the VMA's write
 * lock and the mmap write lock.
 */
static bool mlockdev_pte_may_map_page(pmd_t *pmdp, unsigned long addr)
{
	bool may = true;
	pmd_t pmd;

	rcu_read_lock();
	pmd = READ_ONCE(*pmdp);
	if (pmd_none(pmd))
		may = false;
	else if (pmd_present(pmd) && !pmd_trans_huge(pmd) && !pmd_bad(pmd))
		may = pte_present(READ_ONCE(*pte_offset_kernel(&pmd, addr)));
	rcu_read_unlock();
	return may;
}

/* Visit every present page of [@addr, @end), which lies in one PMD. */
static void mlockdev_walk_pmd_range(struct mlockdev_page_walk *walk,
				    unsigned long addr, unsigned long end)
{
	struct page *pages[MLOCKDEV_GUP_BATCH];

	if (mlockdev_walk_pmd_leaf(walk, addr, end))
		return;

	while (addr < end) {
		int want = min_t(unsigned long, (end - addr) >> PAGE_SHIFT,
				 MLOCKDEV_GUP_BATCH);
		long got, i;

		/* Lockless and without side effects on the pages. */
		got = get_user_pages_fast_only(addr, want, 0, pages);
		if (got <= 0 && mlockdev_pte_may_map_page(walk->pmdp, addr))
			got = mlockdev_gup_present(addr, want, pages);
		if (got <= 0) {
			/* Nothing mapped here: a hole ends any run. */
			mlockdev_run_end(walk);
			addr += PAGE_SIZE;
			continue;
		}
		for (i = 0; i < got; i++)
			mlockdev_walk_page(walk, pages[i],
					   addr + (i << PAGE_SHIFT));
		addr += got << PAGE_SHIFT;
	}
	/* Runs never cross a PMD boundary, as in the kernel's walk. */
	mlockdev_run_end(walk);
}

/**
 * mlockdev_vma_mark_pages - mark or unmark the pages present in a VMA
 * @vma: a lockable VMA of current->mm whose lock bits were just changed;
 *	 mmap_lock held for writing
 * @lock: true if the VMA became VM_LOCKED, false if it stopped being so
 */
void mlockdev_vma_mark_pages(struct vm_area_struct *vma, bool lock)
{
	struct mlockdev_page_walk walk = { .lock = lock };
	unsigned long addr, next;

	mmap_assert_write_locked(vma->vm_mm);
	folio_batch_init(&walk.rescue);

	for (addr = vma->vm_start; addr < vma->vm_end; addr = next) {
		walk.pmdp = mlockdev_next_pmd(vma->vm_mm, addr, vma->vm_end,
					      &next);
		if (walk.pmdp)
			mlockdev_walk_pmd_range(&walk, addr, next);
		cond_resched();
	}
	mlockdev_rescue_flush(&walk);

	mlockdev_stat_add(MLOCKDEV_STAT_PAGES_MLOCKED, walk.nr_marked);
	mlockdev_stat_add(MLOCKDEV_STAT_PAGES_MUNLOCKED, walk.nr_unmarked);
}
