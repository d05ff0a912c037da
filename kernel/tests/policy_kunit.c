// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for policy.c: the EINVAL rule, RLIMIT_MEMLOCK arithmetic at
 * its boundaries, the ENOMEM rule, and which VMAs may be locked.
 */
#include <kunit/test.h>
#include <linux/hugetlb_inline.h>
#include <linux/mman.h>
#include <linux/mm.h>
#include <linux/resource.h>

#include "../compat.h"
#include "../mlockdev.h"

static void policy_flags_all_small_values(struct kunit *test)
{
	/* mlockall(2): 0 and MCL_ONFAULT alone are invalid, 1..7 else valid. */
	static const bool valid[8] = {
		[0] = false,
		[MCL_CURRENT] = true,
		[MCL_FUTURE] = true,
		[MCL_CURRENT | MCL_FUTURE] = true,
		[MCL_ONFAULT] = false,
		[MCL_CURRENT | MCL_ONFAULT] = true,
		[MCL_FUTURE | MCL_ONFAULT] = true,
		[MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT] = true,
	};
	int flags;

	for (flags = 0; flags < ARRAY_SIZE(valid); flags++)
		KUNIT_EXPECT_EQ_MSG(test, mlockdev_lockall_flags_valid(flags),
				    valid[flags], "flags %d", flags);
}

static void policy_flags_unknown_bits(struct kunit *test)
{
	int bit;

	/* Any bit beyond the three known ones, alone or with valid ones. */
	for (bit = 3; bit < 32; bit++) {
		int extra = (int)(1U << bit);

		KUNIT_EXPECT_FALSE_MSG(test, mlockdev_lockall_flags_valid(extra),
				       "bit %d alone", bit);
		KUNIT_EXPECT_FALSE_MSG(test,
				       mlockdev_lockall_flags_valid(MCL_CURRENT | extra),
				       "MCL_CURRENT | bit %d", bit);
	}
	KUNIT_EXPECT_FALSE(test, mlockdev_lockall_flags_valid(-1));
}

static void policy_limit_pages_boundaries(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, mlockdev_limit_pages(0), 0UL);
	/* Below one page is no page at all. */
	KUNIT_EXPECT_EQ(test, mlockdev_limit_pages(1), 0UL);
	KUNIT_EXPECT_EQ(test, mlockdev_limit_pages(PAGE_SIZE - 1), 0UL);
	KUNIT_EXPECT_EQ(test, mlockdev_limit_pages(PAGE_SIZE), 1UL);
	KUNIT_EXPECT_EQ(test, mlockdev_limit_pages(2 * PAGE_SIZE - 1), 1UL);
	/* RLIM_INFINITY must not wrap to a small number. */
	KUNIT_EXPECT_EQ(test, mlockdev_limit_pages(RLIM_INFINITY),
			RLIM_INFINITY >> PAGE_SHIFT);
	KUNIT_EXPECT_GT(test, mlockdev_limit_pages(RLIM_INFINITY),
			TASK_SIZE_MAX >> PAGE_SHIFT);
}

static void policy_fits_boundaries(struct kunit *test)
{
	const unsigned long vm = 1000;

	/* VmSize equal to the limit fits; one page more does not. */
	KUNIT_EXPECT_TRUE(test, mlockdev_lockall_fits(MCL_CURRENT, vm, vm));
	KUNIT_EXPECT_FALSE(test, mlockdev_lockall_fits(MCL_CURRENT, vm, vm - 1));
	KUNIT_EXPECT_FALSE(test, mlockdev_lockall_fits(MCL_CURRENT, vm + 1, vm));
	KUNIT_EXPECT_FALSE(test, mlockdev_lockall_fits(MCL_CURRENT, vm, 0));
	KUNIT_EXPECT_FALSE(test, mlockdev_lockall_fits(MCL_CURRENT | MCL_FUTURE,
						       vm, vm - 1));
	KUNIT_EXPECT_FALSE(test, mlockdev_lockall_fits(MCL_CURRENT | MCL_ONFAULT,
						       vm, vm - 1));
	/* MCL_FUTURE alone never fails the limit check. */
	KUNIT_EXPECT_TRUE(test, mlockdev_lockall_fits(MCL_FUTURE, vm, 0));
	KUNIT_EXPECT_TRUE(test, mlockdev_lockall_fits(MCL_FUTURE | MCL_ONFAULT,
						      ULONG_MAX, 0));
	/* Unlimited fits the largest address space. */
	KUNIT_EXPECT_TRUE(test,
			  mlockdev_lockall_fits(MCL_CURRENT, TASK_SIZE_MAX >> PAGE_SHIFT,
						mlockdev_limit_pages(RLIM_INFINITY)));
}

static bool policy_flags_lockable(vm_flags_t flags)
{
	struct vm_area_struct vma = {};

	mlockdev_vma_init_flags(&vma, flags);
	return mlockdev_vma_lockable(&vma);
}

static void policy_vma_lockable(struct kunit *test)
{
	const vm_flags_t anon = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE;

	KUNIT_EXPECT_TRUE(test, policy_flags_lockable(anon));
	KUNIT_EXPECT_TRUE(test, policy_flags_lockable(VM_NONE));
	KUNIT_EXPECT_TRUE(test, policy_flags_lockable(anon | VM_LOCKED));
	KUNIT_EXPECT_TRUE(test, policy_flags_lockable(anon | VM_SHARED));
	KUNIT_EXPECT_TRUE(test, policy_flags_lockable(anon | VM_GROWSDOWN));

	/* VM_SPECIAL: device memory, [vvar], [vdso]. */
	KUNIT_EXPECT_FALSE(test, policy_flags_lockable(anon | VM_IO));
	KUNIT_EXPECT_FALSE(test, policy_flags_lockable(anon | VM_PFNMAP));
	KUNIT_EXPECT_FALSE(test, policy_flags_lockable(anon | VM_MIXEDMAP));
	KUNIT_EXPECT_FALSE(test, policy_flags_lockable(anon | VM_DONTEXPAND));
	KUNIT_EXPECT_FALSE(test, policy_flags_lockable(anon | VM_IO | VM_LOCKED));
	if (MLOCKDEV_VM_DROPPABLE)
		KUNIT_EXPECT_FALSE(test,
				   policy_flags_lockable(anon | MLOCKDEV_VM_DROPPABLE));
#ifdef CONFIG_HUGETLB_PAGE
	KUNIT_EXPECT_FALSE(test, policy_flags_lockable(anon | VM_HUGETLB));
#endif
}

/*
 * mlock_fixup()'s locked_vm delta, in the page-count type of the kernel
 * built against: 6.1's int truncates a VMA of 8 TiB or more modulo 2^32
 * pages and negates in the int (-INT_MIN is INT_MIN); 6.12's long does
 * neither.
 */
static long policy_delta(unsigned long bytes, vm_flags_t from, vm_flags_t to)
{
	struct vm_area_struct vma = {
		.vm_start = 0x100000000000UL,
		.vm_end = 0x100000000000UL + bytes,
	};

	return mlockdev_locked_vm_delta(&vma, from, to);
}

static void policy_locked_vm_delta(struct kunit *test)
{
	const unsigned long tib = 1UL << 40;
	const long pages_8t = (long)(8 * tib >> PAGE_SHIFT);
	const vm_flags_t lo = VM_LOCKED, lf = VM_LOCKED | VM_LOCKONFAULT;

	KUNIT_EXPECT_EQ(test, policy_delta(4 * PAGE_SIZE, 0, lo), 4L);
	KUNIT_EXPECT_EQ(test, policy_delta(4 * PAGE_SIZE, lo, 0), -4L);
	KUNIT_EXPECT_EQ(test, policy_delta(4 * PAGE_SIZE, lo, lf), 0L);
	KUNIT_EXPECT_EQ(test, policy_delta(4 * PAGE_SIZE, lf, lo), 0L);
	KUNIT_EXPECT_EQ(test, policy_delta(4 * PAGE_SIZE, 0, lf), 4L);

	if (MLOCKDEV_KERNEL_AT_LEAST(6, 12)) {
		KUNIT_EXPECT_EQ(test, policy_delta(8 * tib, 0, lo), pages_8t);
		KUNIT_EXPECT_EQ(test, policy_delta(8 * tib, lo, 0), -pages_8t);
		KUNIT_EXPECT_EQ(test, policy_delta(16 * tib, lo, 0),
				-2 * pages_8t);
	} else {
		/* 2^31 pages: INT_MIN both ways. */
		KUNIT_EXPECT_EQ(test, policy_delta(8 * tib, 0, lo),
				(long)INT_MIN);
		KUNIT_EXPECT_EQ(test, policy_delta(8 * tib, lo, 0),
				(long)INT_MIN);
		/* 2^32 pages: 0.  3 * 2^31: INT_MIN again. */
		KUNIT_EXPECT_EQ(test, policy_delta(16 * tib, 0, lo), 0L);
		KUNIT_EXPECT_EQ(test, policy_delta(24 * tib, lo, 0),
				(long)INT_MIN);
	}
}

static struct kunit_case policy_cases[] = {
	KUNIT_CASE(policy_flags_all_small_values),
	KUNIT_CASE(policy_flags_unknown_bits),
	KUNIT_CASE(policy_limit_pages_boundaries),
	KUNIT_CASE(policy_fits_boundaries),
	KUNIT_CASE(policy_vma_lockable),
	KUNIT_CASE(policy_locked_vm_delta),
	{}
};

static struct kunit_suite policy_suite = {
	.name = "mlockdev_policy",
	.test_cases = policy_cases,
};

kunit_test_suites(&policy_suite);
