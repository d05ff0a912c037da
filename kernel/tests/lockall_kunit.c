// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for the lock path against a real user address space: the
 * test thread gets an mm of its own from kunit_vm_mmap(), and the tests
 * call mlockdev_lockall()/mlockdev_unlockall() on it, then look at the
 * VMAs, mm->locked_vm, mm->def_flags and the pages themselves.
 */
#include <kunit/test.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/mman.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/resource.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>

#include "../compat.h"
#include "../mlockdev.h"

#if MLOCKDEV_HAVE_KUNIT_VM_MMAP

static unsigned long lk_map(struct kunit *test, unsigned long pages,
			    unsigned long prot)
{
	unsigned long addr;

	addr = kunit_vm_mmap(test, NULL, 0, pages * PAGE_SIZE, prot,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, addr, 0UL, "kunit_vm_mmap failed");
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR_VALUE(addr), "mmap: %ld",
			       (long)addr);
	return addr;
}

/* Write-fault the first @pages pages. */
static void lk_touch(struct kunit *test, unsigned long addr,
		     unsigned long pages)
{
	unsigned long i;

	for (i = 0; i < pages; i++)
		KUNIT_ASSERT_EQ(test, put_user((u8)0xa5,
					       (u8 __user *)(addr + i * PAGE_SIZE)),
				0);
}

static vm_flags_t lk_vma_flags(struct kunit *test, unsigned long addr)
{
	struct vm_area_struct *vma;
	vm_flags_t flags = 0;

	mmap_read_lock(current->mm);
	vma = find_vma(current->mm, addr);
	if (vma && vma->vm_start <= addr)
		flags = vma->vm_flags;
	mmap_read_unlock(current->mm);
	KUNIT_ASSERT_NE_MSG(test, flags, 0UL, "no VMA at %lx", addr);
	return flags;
}

struct lk_pages {
	unsigned long present;
	unsigned long mlocked;
};

/* A counting walk over page tables, with the walker the page pass uses. */
static void lk_count_folio(struct lk_pages *count, struct folio *folio,
			   unsigned long nr)
{
	count->present += nr;
	if (folio_test_mlocked(folio))
		count->mlocked += nr;
}

static void lk_count_pmd(pmd_t pmd, void *priv)
{
	struct folio *folio = pmd_present(pmd) ? mlockdev_pmd_folio(pmd) : NULL;

	if (folio)
		lk_count_folio(priv, folio, HPAGE_PMD_NR);
}

static unsigned long lk_count_ptes(pte_t *pte, unsigned long start,
				   unsigned long addr, unsigned long end,
				   void *priv)
{
	for (; addr != end; pte++, addr += PAGE_SIZE) {
		pte_t ptent = ptep_get(pte);
		struct folio *folio;

		if (!pte_present(ptent))
			continue;
		folio = mlockdev_pte_folio(ptent);
		if (folio)
			lk_count_folio(priv, folio, 1);
	}
	return end;
}

static void lk_count_unlocked(void *priv)
{
}

static const struct mlockdev_pt_walk_ops lk_count_ops = {
	.pmd_leaf	= lk_count_pmd,
	.pte_range	= lk_count_ptes,
	.unlocked	= lk_count_unlocked,
};

/*
 * Count present and PG_mlocked pages of the VMA at @addr (which the tests
 * map whole), without faulting any in and without GUP.
 */
static struct lk_pages lk_count(unsigned long addr, unsigned long nr)
{
	struct lk_pages count = {};
	struct vm_area_struct *vma;

	mmap_write_lock(current->mm);
	vma = find_vma(current->mm, addr);
	if (vma && vma->vm_start == addr &&
	    vma->vm_end == addr + nr * PAGE_SIZE)
		mlockdev_walk_page_tables(vma, &lk_count_ops, &count);
	mmap_write_unlock(current->mm);
	return count;
}

static void lk_set_memlock_limit(unsigned long bytes)
{
	struct task_struct *leader = current->group_leader;

	task_lock(leader);
	current->signal->rlim[RLIMIT_MEMLOCK].rlim_cur = bytes;
	task_unlock(leader);
}

static void lockall_current_locks_marks_populates(struct kunit *test)
{
	const unsigned long nr = 8;
	unsigned long addr = lk_map(test, nr, PROT_READ | PROT_WRITE);
	unsigned long locked_before;
	struct lk_pages pages;
	vm_flags_t flags;

	lk_touch(test, addr, 2);
	locked_before = current->mm->locked_vm;

	KUNIT_ASSERT_EQ(test, mlockdev_lockall(MCL_CURRENT), 0);
	flags = lk_vma_flags(test, addr);
	KUNIT_EXPECT_TRUE(test, flags & VM_LOCKED);
	KUNIT_EXPECT_FALSE(test, flags & VM_LOCKONFAULT);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm - locked_before, nr);
	pages = lk_count(addr, nr);
	/* 2 marked by the page pass, 6 mlocked by the fault path. */
	KUNIT_EXPECT_EQ(test, pages.present, nr);
	KUNIT_EXPECT_EQ(test, pages.mlocked, nr);

	KUNIT_ASSERT_EQ(test, mlockdev_unlockall(), 0);
	flags = lk_vma_flags(test, addr);
	KUNIT_EXPECT_FALSE(test, flags & MLOCKDEV_VM_LOCKED_MASK);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, locked_before);
	pages = lk_count(addr, nr);
	KUNIT_EXPECT_EQ(test, pages.present, nr);
	KUNIT_EXPECT_EQ(test, pages.mlocked, 0UL);
}

static void lockall_onfault_then_current(struct kunit *test)
{
	const unsigned long nr = 8;
	unsigned long addr = lk_map(test, nr, PROT_READ | PROT_WRITE);
	unsigned long locked_before;
	struct lk_pages pages;
	vm_flags_t flags;

	lk_touch(test, addr, 3);
	locked_before = current->mm->locked_vm;

	KUNIT_ASSERT_EQ(test, mlockdev_lockall(MCL_CURRENT | MCL_ONFAULT), 0);
	flags = lk_vma_flags(test, addr);
	KUNIT_EXPECT_TRUE(test, flags & VM_LOCKED);
	KUNIT_EXPECT_TRUE(test, flags & VM_LOCKONFAULT);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm - locked_before, nr);
	pages = lk_count(addr, nr);
	KUNIT_EXPECT_EQ(test, pages.present, 3UL);	/* nothing faulted in */
	KUNIT_EXPECT_EQ(test, pages.mlocked, 3UL);

	/* Plain MCL_CURRENT over lock-on-fault memory: populated, not recounted. */
	KUNIT_ASSERT_EQ(test, mlockdev_lockall(MCL_CURRENT), 0);
	flags = lk_vma_flags(test, addr);
	KUNIT_EXPECT_TRUE(test, flags & VM_LOCKED);
	KUNIT_EXPECT_FALSE(test, flags & VM_LOCKONFAULT);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm - locked_before, nr);
	pages = lk_count(addr, nr);
	KUNIT_EXPECT_EQ(test, pages.present, nr);
	KUNIT_EXPECT_EQ(test, pages.mlocked, nr);

	KUNIT_ASSERT_EQ(test, mlockdev_unlockall(), 0);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, locked_before);
	KUNIT_EXPECT_EQ(test, lk_count(addr, nr).mlocked, 0UL);
}

static void lockall_future_sets_def_flags(struct kunit *test)
{
	unsigned long old_addr = lk_map(test, 2, PROT_READ | PROT_WRITE);
	unsigned long new_addr, locked_before;
	struct mm_struct *mm = current->mm;

	/* VM_NOHUGEPAGE shares def_flags; only the lock bits may change. */
	mmap_write_lock(mm);
	mm->def_flags |= VM_NOHUGEPAGE;
	mmap_write_unlock(mm);

	KUNIT_ASSERT_EQ(test, mlockdev_lockall(MCL_FUTURE), 0);
	KUNIT_EXPECT_EQ(test, mm->def_flags & MLOCKDEV_VM_LOCKED_MASK,
			(vm_flags_t)VM_LOCKED);
	KUNIT_EXPECT_TRUE(test, mm->def_flags & VM_NOHUGEPAGE);
	/* Existing VMAs are left alone... */
	KUNIT_EXPECT_FALSE(test, lk_vma_flags(test, old_addr) & VM_LOCKED);
	/* ...new ones come out locked, counted and populated. */
	locked_before = mm->locked_vm;
	new_addr = lk_map(test, 4, PROT_READ | PROT_WRITE);
	KUNIT_EXPECT_TRUE(test, lk_vma_flags(test, new_addr) & VM_LOCKED);
	KUNIT_EXPECT_EQ(test, mm->locked_vm - locked_before, 4UL);
	KUNIT_EXPECT_EQ(test, lk_count(new_addr, 4).present, 4UL);

	KUNIT_ASSERT_EQ(test, mlockdev_lockall(MCL_FUTURE | MCL_ONFAULT), 0);
	KUNIT_EXPECT_EQ(test, mm->def_flags & MLOCKDEV_VM_LOCKED_MASK,
			(vm_flags_t)(VM_LOCKED | VM_LOCKONFAULT));

	/* MCL_CURRENT without MCL_FUTURE cancels future locking. */
	KUNIT_ASSERT_EQ(test, mlockdev_lockall(MCL_CURRENT), 0);
	KUNIT_EXPECT_EQ(test, mm->def_flags & MLOCKDEV_VM_LOCKED_MASK, 0UL);
	KUNIT_EXPECT_TRUE(test, mm->def_flags & VM_NOHUGEPAGE);

	KUNIT_ASSERT_EQ(test, mlockdev_lockall(MCL_FUTURE), 0);
	KUNIT_ASSERT_EQ(test, mlockdev_unlockall(), 0);
	KUNIT_EXPECT_EQ(test, mm->def_flags & MLOCKDEV_VM_LOCKED_MASK, 0UL);
	KUNIT_EXPECT_TRUE(test, mm->def_flags & VM_NOHUGEPAGE);
	KUNIT_EXPECT_EQ(test, mm->locked_vm, 0UL);
}

static void lockall_prot_none_counted_not_populated(struct kunit *test)
{
	unsigned long addr = lk_map(test, 4, PROT_NONE);
	unsigned long locked_before = current->mm->locked_vm;

	KUNIT_ASSERT_EQ(test, mlockdev_lockall(MCL_CURRENT), 0);
	KUNIT_EXPECT_TRUE(test, lk_vma_flags(test, addr) & VM_LOCKED);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm - locked_before, 4UL);
	KUNIT_EXPECT_EQ(test, lk_count(addr, 4).present, 0UL);
	KUNIT_ASSERT_EQ(test, mlockdev_unlockall(), 0);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, locked_before);
}

static void lockall_unlock_nothing_locked(struct kunit *test)
{
	unsigned long addr = lk_map(test, 2, PROT_READ | PROT_WRITE);

	lk_touch(test, addr, 2);
	KUNIT_EXPECT_EQ(test, mlockdev_unlockall(), 0);
	KUNIT_EXPECT_EQ(test, mlockdev_unlockall(), 0);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, 0UL);
	KUNIT_EXPECT_FALSE(test, lk_vma_flags(test, addr) & VM_LOCKED);
}

/*
 * The system call's order: EINVAL before EPERM before ENOMEM; capable()
 * bypasses both limits; a failed call changes nothing.
 */
static void lockall_errno_order(struct kunit *test)
{
	unsigned long addr = lk_map(test, 4, PROT_READ | PROT_WRITE);
	struct mm_struct *mm = current->mm;
	unsigned long saved_limit = rlimit(RLIMIT_MEMLOCK);
	const struct cred *saved_cred;
	struct cred *nocap;

	nocap = prepare_creds();
	KUNIT_ASSERT_NOT_NULL(test, nocap);
	cap_lower(nocap->cap_effective, CAP_IPC_LOCK);
	saved_cred = mlockdev_override_creds(nocap);

	lk_set_memlock_limit(0);
	KUNIT_EXPECT_EQ(test, mlockdev_lockall(0), -EINVAL);
	KUNIT_EXPECT_EQ(test, mlockdev_lockall(MCL_ONFAULT), -EINVAL);
	KUNIT_EXPECT_EQ(test, mlockdev_lockall(MCL_CURRENT), -EPERM);
	KUNIT_EXPECT_EQ(test, mlockdev_lockall(MCL_FUTURE), -EPERM);

	/* One page under VmSize: ENOMEM, and nothing changes. */
	lk_set_memlock_limit((mm->total_vm - 1) * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, mlockdev_lockall(MCL_CURRENT | MCL_FUTURE),
			-ENOMEM);
	KUNIT_EXPECT_FALSE(test, lk_vma_flags(test, addr) & VM_LOCKED);
	KUNIT_EXPECT_EQ(test, mm->def_flags & MLOCKDEV_VM_LOCKED_MASK, 0UL);
	KUNIT_EXPECT_EQ(test, mm->locked_vm, 0UL);
	/* MCL_FUTURE alone is not checked against the limit. */
	KUNIT_EXPECT_EQ(test, mlockdev_lockall(MCL_FUTURE), 0);
	/* A limit below one page allows no page. */
	lk_set_memlock_limit(PAGE_SIZE - 1);
	KUNIT_EXPECT_EQ(test, mlockdev_lockall(MCL_CURRENT), -ENOMEM);
	/* Exactly VmSize fits. */
	lk_set_memlock_limit(mm->total_vm * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, mlockdev_lockall(MCL_CURRENT), 0);
	KUNIT_EXPECT_TRUE(test, lk_vma_flags(test, addr) & VM_LOCKED);
	KUNIT_EXPECT_EQ(test, mlockdev_unlockall(), 0);

	/* With CAP_IPC_LOCK a zero limit is no obstacle. */
	mlockdev_revert_creds(saved_cred);
	lk_set_memlock_limit(0);
	KUNIT_EXPECT_EQ(test, mlockdev_lockall(MCL_CURRENT), 0);
	KUNIT_EXPECT_EQ(test, mlockdev_unlockall(), 0);

	lk_set_memlock_limit(saved_limit);
}

static struct kunit_case lockall_cases[] = {
	KUNIT_CASE(lockall_current_locks_marks_populates),
	KUNIT_CASE(lockall_onfault_then_current),
	KUNIT_CASE(lockall_future_sets_def_flags),
	KUNIT_CASE(lockall_prot_none_counted_not_populated),
	KUNIT_CASE(lockall_unlock_nothing_locked),
	KUNIT_CASE(lockall_errno_order),
	{}
};

static struct kunit_suite lockall_suite = {
	.name = "mlockdev_lockall",
	.test_cases = lockall_cases,
};

kunit_test_suites(&lockall_suite);

#endif /* MLOCKDEV_HAVE_KUNIT_VM_MMAP */
