// SPDX-License-Identifier: GPL-2.0
/*
 * Reading a VMA's page tables the way mm/pagewalk.c and mlock_pte_range()
 * do, for a module: walk_page_range(), pte_offset_map_lock(),
 * pmd_trans_huge_lock(), vm_normal_folio() and folio_pte_batch() are not
 * exported, so this file rebuilds the parts mlock needs from the inline
 * page-table helpers of the headers.
 *
 * Why a page-table walk and not GUP: the kernel's mlock and munlock look
 * at every present PTE under the PTE lock.  GUP cannot stand in for that:
 * it refuses pages that a protection key hides, fails with -EINTR once a
 * fatal signal is pending, and does not hold the PTE lock while the caller
 * marks the page, so an unmapper could slip in between.
 *
 * Locking, as in mm/: the caller holds the mmap lock for writing and has
 * write-locked the VMA, so no fault can fill in or free a page table of
 * it.  On 6.5+ khugepaged may still free a PTE table without the mmap lock
 * (retract_page_tables()), after an RCU grace period: PTE tables are
 * therefore read under rcu_read_lock() and the PMD is checked again once
 * the PTE lock is held, exactly like __pte_offset_map_lock().
 */
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/pgtable.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <kunit/visibility.h>

#include "compat.h"
#include "mlockdev.h"

/*
 * A PMD read without its lock.  On x86-64 a PMD is one machine word, so
 * READ_ONCE() is what pmdp_get_lockless() (6.5+) amounts to.
 */
static pmd_t mlockdev_pmdp_get(pmd_t *pmdp)
{
	return READ_ONCE(*pmdp);
}

/*
 * The PMD covering @addr, if there is one, for [@addr, *@next).  The upper
 * levels are read without locks: they are only freed with the mmap lock
 * held for writing.  A PUD leaf never maps memory mlock locks (only DAX
 * uses them), so it counts as empty, as in the kernel's walk.
 *
 * Return: the PMD, or NULL if the range has none or an empty one
 * (walk_pmd_range() skips pmd_none() entries).
 */
static pmd_t *mlockdev_pmd_lookup(struct mm_struct *mm, unsigned long addr,
				  unsigned long end, unsigned long *next)
{
	pgd_t *pgdp = pgd_offset(mm, addr);
	pgd_t pgd = READ_ONCE(*pgdp);
	p4d_t *p4dp, p4d;
	pud_t *pudp, pud;
	pmd_t *pmdp;

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
	if (pmd_none(mlockdev_pmdp_get(pmdp)))
		return NULL;
	return pmdp;
}

/* What pmd_trans_huge_lock() looks for: a THP, a device or a swap PMD. */
static bool mlockdev_pmd_is_leaf(pmd_t pmd)
{
	return (!pmd_none(pmd) && !pmd_present(pmd)) || pmd_trans_huge(pmd) ||
	       mlockdev_pmd_devmap(pmd);
}

/*
 * pmd_trans_huge_lock(): if the PMD maps a huge page (or is a migration
 * entry for one), hand it to ->pmd_leaf under the PMD lock.
 *
 * Return: true if the PMD was a leaf, false if it points to a PTE table.
 */
static bool mlockdev_walk_pmd_leaf(struct mm_struct *mm, pmd_t *pmdp,
				   const struct mlockdev_pt_walk_ops *ops,
				   void *priv)
{
	spinlock_t *ptl;	/* the PMD's page-table lock */
	bool leaf;

	if (!mlockdev_pmd_is_leaf(mlockdev_pmdp_get(pmdp)))
		return false;
	ptl = pmd_lock(mm, pmdp);
	leaf = mlockdev_pmd_is_leaf(*pmdp);
	if (leaf)
		ops->pmd_leaf(*pmdp, priv);
	spin_unlock(ptl);
	if (leaf)
		ops->unlocked(priv);
	return leaf;
}

/*
 * pte_offset_map_lock() as 6.5+ does it, then ->pte_range on the PTEs from
 * @addr on under the PTE lock; *@next is where it stopped.  @start is
 * where the PMD range began.
 *
 * Return: false if the PMD does not point to a PTE table (any more):
 * empty, a huge page, a migration entry.
 */
static bool mlockdev_walk_pte_table(struct mm_struct *mm, pmd_t *pmdp,
				    unsigned long start, unsigned long addr,
				    unsigned long end, unsigned long *next,
				    const struct mlockdev_pt_walk_ops *ops,
				    void *priv)
{
	spinlock_t *ptl;	/* the PTE table's lock */
	pmd_t pmd;

	for (;;) {
		rcu_read_lock();
		pmd = mlockdev_pmdp_get(pmdp);
		if (pmd_none(pmd) || !pmd_present(pmd) ||
		    pmd_trans_huge(pmd) || mlockdev_pmd_devmap(pmd) ||
		    unlikely(pmd_bad(pmd))) {
			rcu_read_unlock();
			return false;
		}
		ptl = pte_lockptr(mm, &pmd);
		spin_lock(ptl);
		/* The table may have been replaced before we got the lock. */
		if (likely(pmd_same(pmd, mlockdev_pmdp_get(pmdp))))
			break;
		spin_unlock(ptl);
		rcu_read_unlock();
	}
	/* No highmem on x86-64: the table is in the direct map. */
	*next = ops->pte_range(pte_offset_kernel(&pmd, addr), start, addr,
			       end, priv);
	spin_unlock(ptl);
	rcu_read_unlock();
	ops->unlocked(priv);
	return true;
}

/* Every PTE, or the huge PMD, of [@addr, @end), which lies in one PMD. */
static void mlockdev_walk_pmd_range(struct mm_struct *mm, pmd_t *pmdp,
				    unsigned long addr, unsigned long end,
				    const struct mlockdev_pt_walk_ops *ops,
				    void *priv)
{
	unsigned long start = addr;

	while (addr < end) {
		if (mlockdev_walk_pmd_leaf(mm, pmdp, ops, priv))
			return;
		if (!mlockdev_walk_pte_table(mm, pmdp, start, addr, end, &addr,
					     ops, priv) &&
		    pmd_none(mlockdev_pmdp_get(pmdp)))
			return;
		/* Otherwise the PMD changed under us: look at it again. */
	}
}

/**
 * mlockdev_walk_page_tables - walk_page_vma() with a ->pmd_entry, for mlock
 * @vma: the VMA; its mm's mmap_lock held for writing, the VMA write-locked
 * @ops: what to do with each huge PMD and each locked run of PTEs
 * @priv: passed to @ops
 *
 * Ranges with no page table are skipped without a look at their PTEs.
 */
void mlockdev_walk_page_tables(struct vm_area_struct *vma,
			       const struct mlockdev_pt_walk_ops *ops,
			       void *priv)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long addr, next;
	pmd_t *pmdp;

	mmap_assert_write_locked(mm);
	for (addr = vma->vm_start; addr < vma->vm_end; addr = next) {
		pmdp = mlockdev_pmd_lookup(mm, addr, vma->vm_end, &next);
		if (pmdp)
			mlockdev_walk_pmd_range(mm, pmdp, addr, next, ops,
						priv);
		cond_resched();
	}
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_walk_page_tables);

/**
 * mlockdev_pte_folio - vm_normal_folio() for the VMAs mlock locks
 * @pte: a present PTE of a lockable VMA (no VM_PFNMAP, no VM_MIXEDMAP)
 *
 * In such a VMA a special PTE is the zero page or legacy device memory:
 * no folio for either.  A PFN without a memory map would be a corrupt PTE;
 * vm_normal_page() reports it and returns NULL, so do we (quietly).
 *
 * Return: the folio, or NULL.
 */
struct folio *mlockdev_pte_folio(pte_t pte)
{
	unsigned long pfn = pte_pfn(pte);

	if (pte_special(pte) || is_zero_pfn(pfn) || !pfn_valid(pfn))
		return NULL;
	return page_folio(pfn_to_page(pfn));
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_pte_folio);

/**
 * mlockdev_pmd_folio - the folio a PMD maps, unless mlock leaves it alone
 * @pmd: a present huge PMD, read under its lock
 *
 * The huge zero page is the only large folio with neither an anon_vma nor
 * an address space; is_huge_zero_pmd() itself reads a variable that is not
 * exported.
 *
 * Return: the folio, or NULL for the huge zero page and device memory.
 */
struct folio *mlockdev_pmd_folio(pmd_t pmd)
{
	struct folio *folio;

	if (mlockdev_pmd_devmap(pmd))
		return NULL;
	folio = page_folio(pmd_page(pmd));
	if (folio_is_zone_device(folio))
		return NULL;
	if (!folio_test_anon(folio) && !READ_ONCE(folio->mapping))
		return NULL;
	return folio;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_pmd_folio);

/* Bits folio_pte_batch() does not compare, as mlock asks it to. */
static pte_t mlockdev_pte_batch_key(pte_t pte)
{
	pte = pte_mkclean(pte);
	pte = pte_clear_soft_dirty(pte);
	return pte_wrprotect(pte_mkold(pte));
}

/**
 * mlockdev_folio_pte_batch - folio_pte_batch() as mlock_pte_range() uses it
 * @folio: the large folio @ptep maps
 * @ptep: a PTE mapping a page of @folio, its table locked
 * @max_nr: PTEs left in the range walked, @ptep included
 *
 * Counts the PTEs from @ptep on that map consecutive pages of @folio and
 * are otherwise identical, ignoring the dirty, soft-dirty, accessed and
 * writable bits.  Any other difference ends the batch: a NUMA-hinting or
 * uffd-wp PTE in the middle of a folio, for instance.
 *
 * Return: the number of PTEs in the batch, at least 1.
 */
unsigned int mlockdev_folio_pte_batch(struct folio *folio, pte_t *ptep,
				      unsigned int max_nr)
{
	pte_t pte = ptep_get(ptep);
	unsigned long pfn = pte_pfn(pte);
	pte_t expected;
	unsigned int nr;

	max_nr = min_t(unsigned long, max_nr,
		       folio_pfn(folio) + folio_nr_pages(folio) - pfn);
	expected = mlockdev_pte_batch_key(pte);
	for (nr = 1; nr < max_nr; nr++) {
		/* pfn_pte() also gets the PFN inversion of PROT_NONE right. */
		expected = pfn_pte(pfn + nr, pte_pgprot(expected));
		if (!pte_same(mlockdev_pte_batch_key(ptep_get(ptep + nr)),
			      expected))
			break;
	}
	return nr;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_folio_pte_batch);

/**
 * mlockdev_folio_within_range - folio_within_range() of mm/internal.h
 * @folio: a large folio mapped in @vma
 * @vma: the VMA
 * @start: start of the range walked
 * @end: end of the range walked
 *
 * Where the folio would sit in @vma according to its index, which is
 * where it was faulted in (mremap() moves vm_pgoff along with it).
 *
 * Return: true if all of the folio lies inside [@start, @end) of @vma.
 */
bool mlockdev_folio_within_range(struct folio *folio,
				 struct vm_area_struct *vma,
				 unsigned long start, unsigned long end)
{
	pgoff_t pgoff = folio->index;
	unsigned long addr;

	start = max(start, vma->vm_start);
	end = min(end, vma->vm_end);
	if (start > end)
		return false;
	if (pgoff < vma->vm_pgoff || pgoff - vma->vm_pgoff >= vma_pages(vma))
		return false;
	addr = vma->vm_start + ((pgoff - vma->vm_pgoff) << PAGE_SHIFT);
	return addr >= start && end - addr >= folio_size(folio);
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_folio_within_range);
