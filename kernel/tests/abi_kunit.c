// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for the ioctl ABI: reserved-field checks, the version query,
 * and the dispatcher itself driven with real user memory.
 */
#include <kunit/test.h>
#include <linux/fs.h>
#include <linux/mman.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <generated/utsrelease.h>

#include "../compat.h"
#include "../mlockdev.h"

static void abi_reserved_zero_accepts_zero(struct kunit *test)
{
	u64 field[4] = { 0 };

	KUNIT_EXPECT_TRUE(test, mlockdev_reserved_is_zero(field, sizeof(field)));
	KUNIT_EXPECT_TRUE(test, mlockdev_reserved_is_zero(field, 0));
}

static void abi_reserved_zero_rejects_any_byte(struct kunit *test)
{
	u8 field[32];
	size_t i;

	for (i = 0; i < sizeof(field); i++) {
		memset(field, 0, sizeof(field));
		field[i] = 0x80;
		KUNIT_EXPECT_FALSE_MSG(test,
				       mlockdev_reserved_is_zero(field, sizeof(field)),
				       "non-zero byte %zu accepted", i);
	}
}

static void abi_version_fills_answer(struct kunit *test)
{
	struct mlockdev_version ver;

	/* Output fields may hold garbage on input; only inputs are checked. */
	memset(&ver, 0, sizeof(ver));
	ver.abi_major = 77;
	ver.features = ~0ULL;
	memset(ver.kernel_release, 'x', sizeof(ver.kernel_release));

	KUNIT_ASSERT_EQ(test, mlockdev_ioctl_version(&ver), 0);
	KUNIT_EXPECT_EQ(test, ver.abi_major, (u32)MLOCKDEV_ABI_MAJOR);
	KUNIT_EXPECT_EQ(test, ver.abi_minor, (u32)MLOCKDEV_ABI_MINOR);
	KUNIT_EXPECT_TRUE(test, ver.features & MLOCKDEV_FEAT_VERSION);
	KUNIT_EXPECT_STREQ(test, ver.kernel_release, UTS_RELEASE);
	KUNIT_EXPECT_TRUE(test, mlockdev_reserved_is_zero(ver.reserved,
							  sizeof(ver.reserved)));
	KUNIT_EXPECT_EQ(test, ver.reserved0, 0U);
}

static void abi_version_rejects_nonzero_inputs(struct kunit *test)
{
	struct mlockdev_version ver;
	size_t i;

	memset(&ver, 0, sizeof(ver));
	ver.flags = 1;
	KUNIT_EXPECT_EQ(test, mlockdev_ioctl_version(&ver), -EINVAL);

	memset(&ver, 0, sizeof(ver));
	ver.reserved0 = 1;
	KUNIT_EXPECT_EQ(test, mlockdev_ioctl_version(&ver), -EINVAL);

	for (i = 0; i < ARRAY_SIZE(ver.reserved); i++) {
		memset(&ver, 0, sizeof(ver));
		ver.reserved[i] = 1ULL << 63;
		KUNIT_EXPECT_EQ_MSG(test, mlockdev_ioctl_version(&ver), -EINVAL,
				    "reserved[%zu] accepted", i);
	}
}

#if MLOCKDEV_HAVE_KUNIT_VM_MMAP
/* One page of user memory in the test thread's own mm. */
static void __user *abi_user_page(struct kunit *test)
{
	unsigned long addr;

	addr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, addr, 0UL, "kunit_vm_mmap failed");
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(addr));
	return (void __user *)addr;
}

static void abi_ioctl_version_through_user_memory(struct kunit *test)
{
	void __user *uptr = abi_user_page(test);
	struct mlockdev_version ver = { 0 };

	KUNIT_ASSERT_EQ(test, copy_to_user(uptr, &ver, sizeof(ver)), 0UL);
	KUNIT_ASSERT_EQ(test, mlockdev_ioctl(NULL, MLOCKDEV_IOC_VERSION,
					     (unsigned long)uptr), 0L);
	KUNIT_ASSERT_EQ(test, copy_from_user(&ver, uptr, sizeof(ver)), 0UL);
	KUNIT_EXPECT_EQ(test, ver.abi_major, (u32)MLOCKDEV_ABI_MAJOR);
	KUNIT_EXPECT_STREQ(test, ver.kernel_release, UTS_RELEASE);
}

static void abi_ioctl_errors(struct kunit *test)
{
	void __user *uptr = abi_user_page(test);
	struct mlockdev_version ver = { .flags = 1 };
	/* Same number as VERSION, another size: a different command. */
	unsigned int resized = _IOWR(MLOCKDEV_IOC_MAGIC, 0x00, u64);

	KUNIT_EXPECT_EQ(test, mlockdev_ioctl(NULL, _IO(MLOCKDEV_IOC_MAGIC, 0x7f),
					     (unsigned long)uptr), -ENOTTY);
	KUNIT_EXPECT_EQ(test, mlockdev_ioctl(NULL, resized,
					     (unsigned long)uptr), -ENOTTY);
	/* The first page is never mapped. */
	KUNIT_EXPECT_EQ(test, mlockdev_ioctl(NULL, MLOCKDEV_IOC_VERSION, 16UL),
			-EFAULT);
	/* A struct that straddles the end of the mapping. */
	KUNIT_EXPECT_EQ(test, mlockdev_ioctl(NULL, MLOCKDEV_IOC_VERSION,
					     (unsigned long)uptr + PAGE_SIZE - 8),
			-EFAULT);

	KUNIT_ASSERT_EQ(test, copy_to_user(uptr, &ver, sizeof(ver)), 0UL);
	KUNIT_EXPECT_EQ(test, mlockdev_ioctl(NULL, MLOCKDEV_IOC_VERSION,
					     (unsigned long)uptr), -EINVAL);
}
#endif /* MLOCKDEV_HAVE_KUNIT_VM_MMAP */

static struct kunit_case abi_cases[] = {
	KUNIT_CASE(abi_reserved_zero_accepts_zero),
	KUNIT_CASE(abi_reserved_zero_rejects_any_byte),
	KUNIT_CASE(abi_version_fills_answer),
	KUNIT_CASE(abi_version_rejects_nonzero_inputs),
#if MLOCKDEV_HAVE_KUNIT_VM_MMAP
	KUNIT_CASE(abi_ioctl_version_through_user_memory),
	KUNIT_CASE(abi_ioctl_errors),
#endif
	{}
};

static struct kunit_suite abi_suite = {
	.name = "mlockdev_abi",
	.test_cases = abi_cases,
};

kunit_test_suites(&abi_suite);
