// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev_abi_test - the ioctl ABI of /dev/mlockdev, as seen from userspace.
 *
 * Everything in include/uapi/linux/mlockdev.h that a caller can observe
 * without locking memory on purpose: the device node, the VERSION answer,
 * -ENOTTY for commands the module does not know, -EFAULT for bad argument
 * pointers, -EINVAL for non-zero reserved fields, and the promise that a
 * failed call changes nothing (neither the caller's buffer nor its locked
 * memory).  The same source is built as a 64-bit and as a 32-bit (-m32)
 * program, so the compat path is tested by the second build.
 *
 * Behaviour of LOCK_ALL and UNLOCK_ALL themselves (what gets locked) is the
 * business of other tests; here they are only called with arguments that
 * must be rejected, or that must succeed without locking anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/mlockdev.h>

#include "kselftest_harness.h"

#define DEV_PATH	"/dev/" MLOCKDEV_DEVICE_NAME
#define NOT_LOADED	"mlockdev module not loaded: insmod kernel/mlockdev.ko"

/* Every feature bit include/uapi/linux/mlockdev.h defines. */
#define KNOWN_FEATURES	(MLOCKDEV_FEAT_VERSION | MLOCKDEV_FEAT_LOCK_ALL | \
			 MLOCKDEV_FEAT_UNLOCK_ALL | MLOCKDEV_FEAT_STATS | \
			 MLOCKDEV_FEAT_LOCK_ALL_EX | MLOCKDEV_FEAT_UNLOCK_ALL_EX | \
			 MLOCKDEV_FEAT_STRICT | MLOCKDEV_FEAT_OPENBSD | \
			 MLOCKDEV_FEAT_PIDFD | MLOCKDEV_FEAT_WORKERS)

/* The bits ABI 1.1 added, each a single bit of its own. */
_Static_assert(MLOCKDEV_FEAT_LOCK_ALL_EX == 1ULL << 4, "feature bit 4");
_Static_assert(MLOCKDEV_FEAT_UNLOCK_ALL_EX == 1ULL << 5, "feature bit 5");
_Static_assert(MLOCKDEV_FEAT_STRICT == 1ULL << 6, "feature bit 6");
_Static_assert(MLOCKDEV_FEAT_OPENBSD == 1ULL << 7, "feature bit 7");
_Static_assert(MLOCKDEV_FEAT_PIDFD == 1ULL << 8, "feature bit 8");
_Static_assert(MLOCKDEV_FEAT_WORKERS == 1ULL << 9, "feature bit 9");

/*
 * The layout is ABI: identical for i386 and x86_64 callers.  These are
 * checked in both builds, so a header change that makes the two differ
 * (a long, a pointer, a __u64 without explicit padding before it) breaks
 * the build of one of them.
 */
_Static_assert(sizeof(struct mlockdev_version) == 128, "version size");
_Static_assert(offsetof(struct mlockdev_version, flags) == 0, "version.flags");
_Static_assert(offsetof(struct mlockdev_version, abi_major) == 4, "version.abi_major");
_Static_assert(offsetof(struct mlockdev_version, abi_minor) == 8, "version.abi_minor");
_Static_assert(offsetof(struct mlockdev_version, reserved0) == 12, "version.reserved0");
_Static_assert(offsetof(struct mlockdev_version, features) == 16, "version.features");
_Static_assert(offsetof(struct mlockdev_version, kernel_release) == 24,
	       "version.kernel_release");
_Static_assert(MLOCKDEV_RELEASE_LEN == 72, "release length");
_Static_assert(offsetof(struct mlockdev_version, reserved) == 96, "version.reserved");
_Static_assert(sizeof(((struct mlockdev_version *)0)->reserved) == 32,
	       "version.reserved size");

_Static_assert(sizeof(struct mlockdev_lockall) == 32, "lockall size");
_Static_assert(offsetof(struct mlockdev_lockall, flags) == 0, "lockall.flags");
_Static_assert(offsetof(struct mlockdev_lockall, reserved0) == 4, "lockall.reserved0");
_Static_assert(offsetof(struct mlockdev_lockall, reserved) == 8, "lockall.reserved");

_Static_assert(sizeof(struct mlockdev_unlockall) == 32, "unlockall size");
_Static_assert(offsetof(struct mlockdev_unlockall, flags) == 0, "unlockall.flags");
_Static_assert(offsetof(struct mlockdev_unlockall, reserved0) == 4, "unlockall.reserved0");
_Static_assert(offsetof(struct mlockdev_unlockall, reserved) == 8, "unlockall.reserved");

/* ABI 1.1: the report and the two extensible structs that carry it. */
_Static_assert(sizeof(struct mlockdev_report) == 248, "report size");
_Static_assert(offsetof(struct mlockdev_report, vmas_seen) == 0, "report.vmas_seen");
_Static_assert(offsetof(struct mlockdev_report, vmas_changed) == 8, "report.vmas_changed");
_Static_assert(offsetof(struct mlockdev_report, vmas_skipped_special) == 16,
	       "report.vmas_skipped_special");
_Static_assert(offsetof(struct mlockdev_report, vmas_skipped_droppable) == 24,
	       "report.vmas_skipped_droppable");
_Static_assert(offsetof(struct mlockdev_report, vmas_skipped_dax) == 32,
	       "report.vmas_skipped_dax");
_Static_assert(offsetof(struct mlockdev_report, vmas_skipped_hugetlb) == 40,
	       "report.vmas_skipped_hugetlb");
_Static_assert(offsetof(struct mlockdev_report, vmas_skipped_secretmem) == 48,
	       "report.vmas_skipped_secretmem");
_Static_assert(offsetof(struct mlockdev_report, pages_marked) == 56, "report.pages_marked");
_Static_assert(offsetof(struct mlockdev_report, pages_unmarked) == 64,
	       "report.pages_unmarked");
_Static_assert(offsetof(struct mlockdev_report, pages_populated) == 72,
	       "report.pages_populated");
_Static_assert(offsetof(struct mlockdev_report, populate_errors) == 80,
	       "report.populate_errors");
_Static_assert(offsetof(struct mlockdev_report, populate_first_errno) == 88,
	       "report.populate_first_errno");
_Static_assert(offsetof(struct mlockdev_report, reserved0) == 92, "report.reserved0");
_Static_assert(offsetof(struct mlockdev_report, populate_first_addr) == 96,
	       "report.populate_first_addr");
_Static_assert(offsetof(struct mlockdev_report, locked_vm_before) == 104,
	       "report.locked_vm_before");
_Static_assert(offsetof(struct mlockdev_report, locked_vm_after) == 112,
	       "report.locked_vm_after");
_Static_assert(offsetof(struct mlockdev_report, lock_pass_ns) == 120, "report.lock_pass_ns");
_Static_assert(offsetof(struct mlockdev_report, page_pass_ns) == 128, "report.page_pass_ns");
_Static_assert(offsetof(struct mlockdev_report, populate_ns) == 136, "report.populate_ns");
_Static_assert(offsetof(struct mlockdev_report, failed_vma_start) == 144,
	       "report.failed_vma_start");
_Static_assert(offsetof(struct mlockdev_report, failed_vma_end) == 152,
	       "report.failed_vma_end");
_Static_assert(offsetof(struct mlockdev_report, workers_used) == 160, "report.workers_used");
_Static_assert(offsetof(struct mlockdev_report, reserved) == 168, "report.reserved");
_Static_assert(sizeof(((struct mlockdev_report *)0)->reserved) == 80, "report.reserved size");

_Static_assert(MLOCKDEV_LOCKALL_EX_SIZE_VER0 == 288, "LOCK_ALL_EX first size");
_Static_assert(sizeof(struct mlockdev_lockall_ex) == MLOCKDEV_LOCKALL_EX_SIZE_VER0,
	       "lockall_ex size");
_Static_assert(offsetof(struct mlockdev_lockall_ex, size) == 0, "lockall_ex.size");
_Static_assert(offsetof(struct mlockdev_lockall_ex, flags) == 4, "lockall_ex.flags");
_Static_assert(offsetof(struct mlockdev_lockall_ex, mode_flags) == 8, "lockall_ex.mode_flags");
_Static_assert(offsetof(struct mlockdev_lockall_ex, pidfd) == 16, "lockall_ex.pidfd");
_Static_assert(offsetof(struct mlockdev_lockall_ex, workers) == 20, "lockall_ex.workers");
_Static_assert(offsetof(struct mlockdev_lockall_ex, reserved) == 24, "lockall_ex.reserved");
_Static_assert(offsetof(struct mlockdev_lockall_ex, report) == 40, "lockall_ex.report");

_Static_assert(MLOCKDEV_UNLOCKALL_EX_SIZE_VER0 == 288, "UNLOCK_ALL_EX first size");
_Static_assert(sizeof(struct mlockdev_unlockall_ex) == MLOCKDEV_UNLOCKALL_EX_SIZE_VER0,
	       "unlockall_ex size");
_Static_assert(offsetof(struct mlockdev_unlockall_ex, size) == 0, "unlockall_ex.size");
_Static_assert(offsetof(struct mlockdev_unlockall_ex, flags) == 4, "unlockall_ex.flags");
_Static_assert(offsetof(struct mlockdev_unlockall_ex, mode_flags) == 8,
	       "unlockall_ex.mode_flags");
_Static_assert(offsetof(struct mlockdev_unlockall_ex, pidfd) == 16, "unlockall_ex.pidfd");
_Static_assert(offsetof(struct mlockdev_unlockall_ex, reserved0) == 20,
	       "unlockall_ex.reserved0");
_Static_assert(offsetof(struct mlockdev_unlockall_ex, reserved) == 24, "unlockall_ex.reserved");
_Static_assert(offsetof(struct mlockdev_unlockall_ex, report) == 40, "unlockall_ex.report");

/* The mode bits and worker counts are ABI too. */
_Static_assert(MLOCKDEV_LOCK_STRICT == 1ULL << 0, "MLOCKDEV_LOCK_STRICT");
_Static_assert(MLOCKDEV_LOCK_OPENBSD == 1ULL << 1, "MLOCKDEV_LOCK_OPENBSD");
_Static_assert(MLOCKDEV_LOCK_PIDFD == 1ULL << 2, "MLOCKDEV_LOCK_PIDFD");
_Static_assert(MLOCKDEV_WORKERS_SYSCALL == 0, "MLOCKDEV_WORKERS_SYSCALL");
_Static_assert(MLOCKDEV_WORKERS_AUTO == 0xffffffffU, "MLOCKDEV_WORKERS_AUTO");

/* The command numbers encode the sizes above, so they match too. */
_Static_assert(MLOCKDEV_IOC_VERSION == 0xc080b900u, "VERSION number");
_Static_assert(MLOCKDEV_IOC_LOCK_ALL == 0x4020b901u, "LOCK_ALL number");
_Static_assert(MLOCKDEV_IOC_UNLOCK_ALL == 0x4020b902u, "UNLOCK_ALL number");
/* The extensible ones encode their first size, _IOWR: it never changes. */
_Static_assert(MLOCKDEV_IOC_LOCK_ALL_EX == 0xc120b903u, "LOCK_ALL_EX number");
_Static_assert(MLOCKDEV_IOC_UNLOCK_ALL_EX == 0xc120b904u, "UNLOCK_ALL_EX number");

/* Values a reserved field is set to, one at a time: low and high bits. */
static const uint64_t bad_u64[] = { 1, 0x80, 1ULL << 32, 1ULL << 63 };
static const uint32_t bad_u32[] = { 1, 0x80, 1U << 31 };

/*
 * ioctl() reduced to one number: 0 on success, errno on failure, and the
 * negated return value if the call returned something positive (which no
 * mlockdev command does, and which no errno can be confused with).
 */
static int ioctl_err(int fd, unsigned long cmd, void *arg)
{
	int ret;

	errno = 0;
	ret = ioctl(fd, cmd, arg);
	if (ret == -1)
		return errno;
	return -ret;
}

/*
 * VmLck of this process in kB, from /proc/self/status; -1 if not found.
 * Read without stdio: a test that has just locked with MCL_FUTURE must not
 * grow its own heap (a new, locked mapping) by asking.
 */
static long vm_locked_kb(void)
{
	char buf[4096], *line;
	ssize_t n;
	int fd;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	line = strstr(buf, "\nVmLck:");
	return line ? strtol(line + 7, NULL, 10) : -1;
}

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * An address nothing is mapped at: a page that was mapped and unmapped
 * again.  Nothing else maps memory while a test runs, so it stays free.
 */
static void *unmapped_address(void)
{
	void *p = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p, page_size());
	return p;
}

/*
 * Two pages, the second unmapped: an argument placed at the end of the
 * first page runs off the end of the mapping.  Returns the first page.
 */
static char *page_before_hole(void)
{
	char *p = mmap(NULL, 2 * page_size(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p + page_size(), page_size());
	return p;
}

FIXTURE(mlockdev) {
	int fd;
	struct mlockdev_version ver;
};

FIXTURE_SETUP(mlockdev)
{
	struct stat st;

	self->fd = -1;
	if (stat(DEV_PATH, &st) && errno == ENOENT)
		SKIP(return, NOT_LOADED);
	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", DEV_PATH, strerror(errno));

	memset(&self->ver, 0, sizeof(self->ver));
	ASSERT_EQ(0, ioctl_err(self->fd, MLOCKDEV_IOC_VERSION, &self->ver));
}

FIXTURE_TEARDOWN(mlockdev)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* Skip the current test unless the module advertises @feat. */
#define REQUIRE_FEATURE(feat, name)					\
	do {								\
		if (!(self->ver.features & (feat)))			\
			SKIP(return, "module lacks " name		\
			     " (features 0x%llx)",			\
			     (unsigned long long)self->ver.features);	\
	} while (0)

/* ------------------------------------------------------------------ */
/* The device node                                                     */

TEST(device_node)
{
	struct stat st;
	int fd;

	if (stat(DEV_PATH, &st) && errno == ENOENT)
		SKIP(return, NOT_LOADED);
	ASSERT_EQ(0, stat(DEV_PATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode))
		TH_LOG("%s is not a character device (mode 0%o)", DEV_PATH,
		       (unsigned int)st.st_mode);
	/*
	 * Root's only by default (mode= changes it; mlockdev_access_test
	 * checks who may open it and call).
	 */
	EXPECT_EQ(0600U, (unsigned int)(st.st_mode & 07777));

	fd = open(DEV_PATH, O_RDWR);
	EXPECT_LE(0, fd) TH_LOG("O_RDWR: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	fd = open(DEV_PATH, O_RDONLY);
	EXPECT_LE(0, fd) TH_LOG("O_RDONLY: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* ------------------------------------------------------------------ */
/* VERSION                                                             */

TEST_F(mlockdev, version_answer)
{
	struct mlockdev_version v;
	struct utsname uts;
	char *nul;
	size_t i;

	/*
	 * Output-only fields are ignored on input: fill them with garbage,
	 * which the answer must overwrite completely.
	 */
	memset(&v, 0, sizeof(v));
	v.abi_major = 0xa5a5a5a5;
	v.abi_minor = 0xa5a5a5a5;
	v.features = ~0ULL;
	memset(v.kernel_release, 0xa5, sizeof(v.kernel_release));
	ASSERT_EQ(0, ioctl_err(self->fd, MLOCKDEV_IOC_VERSION, &v));

	EXPECT_EQ((uint32_t)MLOCKDEV_ABI_MAJOR, v.abi_major);
	/*
	 * A module may be newer than this test (additions bump the minor)
	 * but not older: this test was built against the header's minor and
	 * may rely on everything it defines.
	 */
	EXPECT_GE(v.abi_minor, (uint32_t)MLOCKDEV_ABI_MINOR);

	EXPECT_NE(0ULL, (unsigned long long)(v.features & MLOCKDEV_FEAT_VERSION));
	if (v.abi_minor == MLOCKDEV_ABI_MINOR) {
		/* Same ABI revision: no feature this header does not know. */
		EXPECT_EQ(0ULL, (unsigned long long)(v.features & ~KNOWN_FEATURES))
			TH_LOG("features 0x%llx", (unsigned long long)v.features);
	} else if (v.features & ~KNOWN_FEATURES) {
		TH_LOG("module ABI %u.%u is newer than %u.%u; features 0x%llx",
		       v.abi_major, v.abi_minor, MLOCKDEV_ABI_MAJOR,
		       MLOCKDEV_ABI_MINOR, (unsigned long long)v.features);
	}

	/* NUL-terminated, NUL-padded, and the release we are running. */
	nul = memchr(v.kernel_release, '\0', sizeof(v.kernel_release));
	ASSERT_NE(NULL, nul) TH_LOG("kernel_release is not NUL-terminated");
	for (i = nul - v.kernel_release; i < sizeof(v.kernel_release); i++) {
		EXPECT_EQ(0, v.kernel_release[i])
			TH_LOG("kernel_release[%zu] after the NUL is not 0", i);
	}
	ASSERT_EQ(0, uname(&uts));
	EXPECT_STREQ(uts.release, v.kernel_release);

	/* Reserved fields read back as zero. */
	EXPECT_EQ(0U, v.flags);
	EXPECT_EQ(0U, v.reserved0);
	for (i = 0; i < ARRAY_SIZE(v.reserved); i++) {
		EXPECT_EQ(0ULL, (unsigned long long)v.reserved[i])
			TH_LOG("reserved[%zu]", i);
	}
}

/* Asking twice gives the same bytes; the fixture asked once already. */
TEST_F(mlockdev, version_repeatable)
{
	struct mlockdev_version v;

	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, ioctl_err(self->fd, MLOCKDEV_IOC_VERSION, &v));
	EXPECT_EQ(0, memcmp(&v, &self->ver, sizeof(v)));
}

/* A query needs no write access to the device. */
TEST_F(mlockdev, version_on_read_only_fd)
{
	struct mlockdev_version v;
	int fd;

	fd = open(DEV_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	memset(&v, 0, sizeof(v));
	EXPECT_EQ(0, ioctl_err(fd, MLOCKDEV_IOC_VERSION, &v));
	EXPECT_EQ(0, memcmp(&v, &self->ver, sizeof(v)));
	close(fd);
}

/*
 * Each input field that must be zero is rejected when it is not, and the
 * caller's struct comes back byte for byte as it went in.
 */
TEST_F(mlockdev, version_nonzero_inputs_einval)
{
	struct mlockdev_version v, orig;
	size_t i, j;

#define CHECK_REJECTED(what)						\
	do {								\
		orig = v;						\
		EXPECT_EQ(EINVAL, ioctl_err(self->fd,			\
					    MLOCKDEV_IOC_VERSION, &v))	\
			TH_LOG("%s", what);				\
		EXPECT_EQ(0, memcmp(&v, &orig, sizeof(v)))		\
			TH_LOG("%s: buffer changed", what);		\
	} while (0)

	for (j = 0; j < ARRAY_SIZE(bad_u32); j++) {
		memset(&v, 0, sizeof(v));
		v.flags = bad_u32[j];
		CHECK_REJECTED("flags");

		memset(&v, 0, sizeof(v));
		v.reserved0 = bad_u32[j];
		CHECK_REJECTED("reserved0");
	}
	for (i = 0; i < ARRAY_SIZE(v.reserved); i++) {
		for (j = 0; j < ARRAY_SIZE(bad_u64); j++) {
			memset(&v, 0, sizeof(v));
			v.reserved[i] = bad_u64[j];
			CHECK_REJECTED("reserved[i]");
		}
	}

	/* Garbage in the output fields does not hide a bad input. */
	memset(&v, 0x5a, sizeof(v));
	v.reserved0 = 0;
	memset(v.reserved, 0, sizeof(v.reserved));
	CHECK_REJECTED("flags with garbage outputs");
#undef CHECK_REJECTED
}

/* ------------------------------------------------------------------ */
/* Unknown commands: -ENOTTY, and the argument is neither read nor written */

static void check_enotty(struct __test_metadata *_metadata, int fd,
			 unsigned long cmd)
{
	union {
		struct mlockdev_version v;
		unsigned char bytes[512];
	} buf, orig;

	/* A valid-looking, all-zero argument must not make it acceptable. */
	memset(&buf, 0, sizeof(buf));
	orig = buf;
	EXPECT_EQ(ENOTTY, ioctl_err(fd, cmd, &buf))
		TH_LOG("command 0x%08lx", cmd);
	EXPECT_EQ(0, memcmp(&buf, &orig, sizeof(buf)))
		TH_LOG("command 0x%08lx wrote to its argument", cmd);

	/* An unknown command is refused before its argument is looked at. */
	EXPECT_EQ(ENOTTY, ioctl_err(fd, cmd, NULL))
		TH_LOG("command 0x%08lx with a NULL argument", cmd);
}

TEST_F(mlockdev, enotty_other_magic)
{
	static const unsigned int magics[] = { 0x00, 'x', MLOCKDEV_IOC_MAGIC - 1,
					       MLOCKDEV_IOC_MAGIC + 1, 0xff };
	size_t i;

	/* Our numbers and sizes under someone else's magic. */
	for (i = 0; i < ARRAY_SIZE(magics); i++) {
		check_enotty(_metadata, self->fd,
			     _IOWR(magics[i], 0x00, struct mlockdev_version));
		check_enotty(_metadata, self->fd,
			     _IOW(magics[i], 0x01, struct mlockdev_lockall));
		check_enotty(_metadata, self->fd,
			     _IOW(magics[i], 0x02, struct mlockdev_unlockall));
		check_enotty(_metadata, self->fd,
			     _IOC(_IOC_READ | _IOC_WRITE, magics[i], 0x03,
				  MLOCKDEV_LOCKALL_EX_SIZE_VER0));
		check_enotty(_metadata, self->fd,
			     _IOC(_IOC_READ | _IOC_WRITE, magics[i], 0x04,
				  MLOCKDEV_UNLOCKALL_EX_SIZE_VER0));
	}
}

TEST_F(mlockdev, enotty_unused_numbers)
{
	unsigned int nr;

	/* A newer module may use more numbers; this test knows only its own. */
	if (self->ver.abi_minor != MLOCKDEV_ABI_MINOR)
		SKIP(return, "module ABI minor %u is not this test's %u",
		     self->ver.abi_minor, MLOCKDEV_ABI_MINOR);

	/*
	 * 0x03 and 0x04 are LOCK_ALL_EX and UNLOCK_ALL_EX, but only with
	 * their own size and direction (enotty_ex_neighbours); these sizes
	 * are not theirs.
	 */
	for (nr = 0x03; nr <= 0xff; nr++) {
		check_enotty(_metadata, self->fd,
			     _IOWR(MLOCKDEV_IOC_MAGIC, nr, struct mlockdev_version));
		check_enotty(_metadata, self->fd,
			     _IOW(MLOCKDEV_IOC_MAGIC, nr, struct mlockdev_lockall));
		check_enotty(_metadata, self->fd, _IO(MLOCKDEV_IOC_MAGIC, nr));
		if (nr >= 0x05)
			check_enotty(_metadata, self->fd,
				     _IOC(_IOC_READ | _IOC_WRITE,
					  MLOCKDEV_IOC_MAGIC, nr,
					  MLOCKDEV_LOCKALL_EX_SIZE_VER0));
	}
}

/*
 * The extensible commands are known by their number, direction and first
 * size (the size a caller passes lives in the struct, not in the number):
 * the same numbers with another size or direction are unknown, and so are
 * the numbers next to them with the extensible size.
 */
TEST_F(mlockdev, enotty_ex_neighbours)
{
	static const unsigned int sizes[] = {
		0, 8, 32, 128, MLOCKDEV_LOCKALL_EX_SIZE_VER0 - 8,
		MLOCKDEV_LOCKALL_EX_SIZE_VER0 - 1,
		MLOCKDEV_LOCKALL_EX_SIZE_VER0 + 1,
		MLOCKDEV_LOCKALL_EX_SIZE_VER0 + 8, 512, 4096, _IOC_SIZEMASK,
	};
	static const unsigned int dirs[] = {
		_IOC_NONE, _IOC_READ, _IOC_WRITE,
	};
	static const unsigned int neighbours[] = { 0x05, 0x06, 0x07, 0x13, 0x14,
						   0x43, 0x83, 0xff };
	unsigned int nr;
	size_t i;

	if (self->ver.abi_minor != MLOCKDEV_ABI_MINOR)
		SKIP(return, "module ABI minor %u is not this test's %u",
		     self->ver.abi_minor, MLOCKDEV_ABI_MINOR);

	for (nr = 0x03; nr <= 0x04; nr++) {
		for (i = 0; i < ARRAY_SIZE(sizes); i++)
			check_enotty(_metadata, self->fd,
				     _IOC(_IOC_READ | _IOC_WRITE,
					  MLOCKDEV_IOC_MAGIC, nr, sizes[i]));
		for (i = 0; i < ARRAY_SIZE(dirs); i++)
			check_enotty(_metadata, self->fd,
				     _IOC(dirs[i], MLOCKDEV_IOC_MAGIC, nr,
					  MLOCKDEV_LOCKALL_EX_SIZE_VER0));
	}
	for (i = 0; i < ARRAY_SIZE(neighbours); i++)
		check_enotty(_metadata, self->fd,
			     _IOC(_IOC_READ | _IOC_WRITE, MLOCKDEV_IOC_MAGIC,
				  neighbours[i], MLOCKDEV_LOCKALL_EX_SIZE_VER0));
}

/* VERSION's number with another argument size. */
TEST_F(mlockdev, enotty_version_other_size)
{
	static const unsigned int sizes[] = {
		0, 1, 8, sizeof(struct mlockdev_lockall),
		sizeof(struct mlockdev_version) - 8,
		sizeof(struct mlockdev_version) - 1,
		sizeof(struct mlockdev_version) + 1,
		sizeof(struct mlockdev_version) + 8,
		256, 512,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		check_enotty(_metadata, self->fd,
			     _IOC(_IOC_READ | _IOC_WRITE, MLOCKDEV_IOC_MAGIC,
				  0x00, sizes[i]));
	/* The largest size an ioctl number can carry. */
	EXPECT_EQ(ENOTTY, ioctl_err(self->fd,
				    _IOC(_IOC_READ | _IOC_WRITE,
					 MLOCKDEV_IOC_MAGIC, 0x00, _IOC_SIZEMASK),
				    NULL));
}

/* Our numbers with another direction. */
TEST_F(mlockdev, enotty_other_direction)
{
	/* VERSION is _IOWR */
	check_enotty(_metadata, self->fd,
		     _IOR(MLOCKDEV_IOC_MAGIC, 0x00, struct mlockdev_version));
	check_enotty(_metadata, self->fd,
		     _IOW(MLOCKDEV_IOC_MAGIC, 0x00, struct mlockdev_version));
	check_enotty(_metadata, self->fd,
		     _IOC(_IOC_NONE, MLOCKDEV_IOC_MAGIC, 0x00,
			  sizeof(struct mlockdev_version)));
	check_enotty(_metadata, self->fd, _IO(MLOCKDEV_IOC_MAGIC, 0x00));

	/* LOCK_ALL and UNLOCK_ALL are _IOW */
	check_enotty(_metadata, self->fd,
		     _IOWR(MLOCKDEV_IOC_MAGIC, 0x01, struct mlockdev_lockall));
	check_enotty(_metadata, self->fd,
		     _IOR(MLOCKDEV_IOC_MAGIC, 0x01, struct mlockdev_lockall));
	check_enotty(_metadata, self->fd, _IO(MLOCKDEV_IOC_MAGIC, 0x01));
	check_enotty(_metadata, self->fd,
		     _IOWR(MLOCKDEV_IOC_MAGIC, 0x02, struct mlockdev_unlockall));
	check_enotty(_metadata, self->fd,
		     _IOR(MLOCKDEV_IOC_MAGIC, 0x02, struct mlockdev_unlockall));
	check_enotty(_metadata, self->fd, _IO(MLOCKDEV_IOC_MAGIC, 0x02));
}

/*
 * A feature bit that is clear means the command is unknown: -ENOTTY.  The
 * argument is one the command would reject (non-zero reserved0), so that
 * a module which implements a command without advertising it fails here
 * with -EINVAL instead of locking anything.
 */
TEST_F(mlockdev, features_match_commands)
{
	struct mlockdev_lockall la;
	struct mlockdev_unlockall ua;

	memset(&la, 0, sizeof(la));
	la.flags = MCL_CURRENT;
	la.reserved0 = 1;
	memset(&ua, 0, sizeof(ua));
	ua.reserved0 = 1;

	EXPECT_EQ((self->ver.features & MLOCKDEV_FEAT_LOCK_ALL) ? EINVAL : ENOTTY,
		  ioctl_err(self->fd, MLOCKDEV_IOC_LOCK_ALL, &la));
	EXPECT_EQ((self->ver.features & MLOCKDEV_FEAT_UNLOCK_ALL) ? EINVAL : ENOTTY,
		  ioctl_err(self->fd, MLOCKDEV_IOC_UNLOCK_ALL, &ua));
}

/* The same for the extensible commands (ABI 1.1): a non-zero reserved[0]. */
TEST_F(mlockdev, features_match_ex_commands)
{
	struct mlockdev_lockall_ex la;
	struct mlockdev_unlockall_ex ua;

	memset(&la, 0, sizeof(la));
	la.size = sizeof(la);
	la.flags = MCL_CURRENT;
	la.reserved[0] = 1;
	memset(&ua, 0, sizeof(ua));
	ua.size = sizeof(ua);
	ua.reserved[0] = 1;

	EXPECT_EQ((self->ver.features & MLOCKDEV_FEAT_LOCK_ALL_EX) ? EINVAL : ENOTTY,
		  ioctl_err(self->fd, MLOCKDEV_IOC_LOCK_ALL_EX, &la));
	EXPECT_EQ((self->ver.features & MLOCKDEV_FEAT_UNLOCK_ALL_EX) ? EINVAL : ENOTTY,
		  ioctl_err(self->fd, MLOCKDEV_IOC_UNLOCK_ALL_EX, &ua));
}

/* ------------------------------------------------------------------ */
/* Bad argument pointers: -EFAULT                                      */

/*
 * Addresses where no argument can be read.  The last one is the top page
 * of the address space: kernel memory for a 64-bit caller, never mapped
 * for a 32-bit one.
 */
struct bad_pointer {
	const char *name;
	void *ptr;
};

static void bad_pointers(struct bad_pointer bad[4])
{
	void *none = mmap(NULL, page_size(), PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	bad[0].name = "NULL";
	bad[0].ptr = NULL;
	bad[1].name = "unmapped page";
	bad[1].ptr = unmapped_address();
	bad[2].name = "PROT_NONE page";
	bad[2].ptr = none == MAP_FAILED ? NULL : none;
	bad[3].name = "top of address space";
	bad[3].ptr = (void *)~(uintptr_t)(page_size() - 1);
}

/*
 * @cmd with an argument of @size bytes at each bad address, then starting
 * at every 8th byte before the end of a mapping (a hole follows), with
 * otherwise valid contents @valid: -EFAULT each time, and the mapped part
 * unchanged.
 */
static void check_efault(struct __test_metadata *_metadata, int fd,
			 unsigned long cmd, const void *valid, size_t size)
{
	struct bad_pointer bad[4];
	char *page, *arg;
	size_t i, off;

	bad_pointers(bad);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(EFAULT, ioctl_err(fd, cmd, bad[i].ptr))
			TH_LOG("command 0x%08lx, %s (%p)", cmd, bad[i].name,
			       bad[i].ptr);
	}
	if (bad[2].ptr)
		munmap(bad[2].ptr, page_size());

	page = page_before_hole();
	ASSERT_NE(NULL, page);
	for (off = 8; off < size; off += 8) {
		arg = page + page_size() - off;
		memcpy(arg, valid, off);	/* the part that is mapped */
		EXPECT_EQ(EFAULT, ioctl_err(fd, cmd, arg))
			TH_LOG("command 0x%08lx, %zu of %zu bytes mapped",
			       cmd, off, size);
		EXPECT_EQ(0, memcmp(arg, valid, off))
			TH_LOG("command 0x%08lx changed the mapped part", cmd);
	}
	munmap(page, page_size());
}

TEST_F(mlockdev, version_efault)
{
	struct mlockdev_version zero;

	memset(&zero, 0, sizeof(zero));
	check_efault(_metadata, self->fd, MLOCKDEV_IOC_VERSION, &zero,
		     sizeof(zero));
}

/*
 * VERSION writes its answer back: a valid request in a page the caller
 * cannot write fails with -EFAULT (the answer cannot be delivered), and
 * the request is left as it was.
 */
TEST_F(mlockdev, version_read_only_destination)
{
	struct mlockdev_version *v;
	unsigned char orig[sizeof(*v)];

	v = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, v);
	memset(v, 0, sizeof(*v));
	memcpy(orig, v, sizeof(orig));
	ASSERT_EQ(0, mprotect(v, page_size(), PROT_READ));

	EXPECT_EQ(EFAULT, ioctl_err(self->fd, MLOCKDEV_IOC_VERSION, v));
	EXPECT_EQ(0, memcmp(v, orig, sizeof(orig)));
	munmap(v, page_size());
}

/* ------------------------------------------------------------------ */
/* LOCK_ALL and UNLOCK_ALL: argument checks that must change nothing   */

/*
 * State a failed LOCK_ALL or UNLOCK_ALL must leave alone.  The fixture
 * mlock()s a few pages with the real system call, so that an unlock that
 * should not have happened shows as a drop of VmLck, and a lock as a rise.
 */
FIXTURE(lockstate) {
	int fd;
	struct mlockdev_version ver;
	char *locked;
	size_t locked_len;
	long vmlck_kb;
};

FIXTURE_SETUP(lockstate)
{
	struct stat st;

	self->fd = -1;
	self->locked = NULL;
	if (stat(DEV_PATH, &st) && errno == ENOENT)
		SKIP(return, NOT_LOADED);
	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	memset(&self->ver, 0, sizeof(self->ver));
	ASSERT_EQ(0, ioctl_err(self->fd, MLOCKDEV_IOC_VERSION, &self->ver));

	self->locked_len = 4 * page_size();
	self->locked = mmap(NULL, self->locked_len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->locked);
	ASSERT_EQ(0, mlock(self->locked, self->locked_len))
		TH_LOG("mlock: %s", strerror(errno));
	self->vmlck_kb = vm_locked_kb();
	ASSERT_LE((long)(self->locked_len / 1024), self->vmlck_kb)
		TH_LOG("VmLck does not count the mlock()ed pages");
}

FIXTURE_TEARDOWN(lockstate)
{
	if (self->locked && self->locked != MAP_FAILED)
		munmap(self->locked, self->locked_len);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * Nothing changed: VmLck is what it was, and future locking is still off
 * (a fresh mapping, touched, adds nothing to VmLck).
 */
static void check_lock_state_unchanged(struct __test_metadata *_metadata,
				       long vmlck_kb, const char *what)
{
	char *p;

	EXPECT_EQ(vmlck_kb, vm_locked_kb()) TH_LOG("%s changed VmLck", what);

	p = mmap(NULL, 4 * page_size(), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 1, 4 * page_size());
	EXPECT_EQ(vmlck_kb, vm_locked_kb())
		TH_LOG("%s turned on future locking", what);
	munmap(p, 4 * page_size());
}

/*
 * Run @cmd on @arg (@size bytes): @err, @arg unchanged, lock state
 * unchanged.
 */
static void check_rejected(struct __test_metadata *_metadata,
			   FIXTURE_DATA(lockstate) *self, unsigned long cmd,
			   void *arg, size_t size, int err, const char *what)
{
	unsigned char orig[64];

	ASSERT_GE(sizeof(orig), size);
	memcpy(orig, arg, size);
	EXPECT_EQ(err, ioctl_err(self->fd, cmd, arg)) TH_LOG("%s", what);
	EXPECT_EQ(0, memcmp(arg, orig, size)) TH_LOG("%s: buffer changed", what);
	check_lock_state_unchanged(_metadata, self->vmlck_kb, what);
}

/*
 * Flag combinations that lock now and/or later: a module that ignored the
 * reserved fields would visibly lock something.
 */
static const uint32_t lock_flags[] = {
	MCL_CURRENT, MCL_FUTURE, MCL_CURRENT | MCL_FUTURE,
	MCL_CURRENT | MCL_ONFAULT,
};

TEST_F(lockstate, lockall_nonzero_reserved_einval)
{
	struct mlockdev_lockall la;
	size_t f, i, j;

	REQUIRE_FEATURE(MLOCKDEV_FEAT_LOCK_ALL, "LOCK_ALL");

	for (f = 0; f < ARRAY_SIZE(lock_flags); f++) {
		for (j = 0; j < ARRAY_SIZE(bad_u32); j++) {
			memset(&la, 0, sizeof(la));
			la.flags = lock_flags[f];
			la.reserved0 = bad_u32[j];
			check_rejected(_metadata, self, MLOCKDEV_IOC_LOCK_ALL,
				       &la, sizeof(la), EINVAL, "LOCK_ALL reserved0");
		}
		for (i = 0; i < ARRAY_SIZE(la.reserved); i++) {
			for (j = 0; j < ARRAY_SIZE(bad_u64); j++) {
				memset(&la, 0, sizeof(la));
				la.flags = lock_flags[f];
				la.reserved[i] = bad_u64[j];
				check_rejected(_metadata, self,
					       MLOCKDEV_IOC_LOCK_ALL, &la,
					       sizeof(la), EINVAL,
					       "LOCK_ALL reserved[i]");
			}
		}
	}
}

/*
 * Flags mlockall(2) refuses are refused with the same errno, and refusing
 * them changes nothing.  The real system call is asked first.
 */
TEST_F(lockstate, lockall_bad_flags_like_mlockall)
{
	static const uint32_t bad_flags[] = {
		0, MCL_ONFAULT, 8, 0x10, 1U << 31,
		MCL_CURRENT | 8, MCL_FUTURE | (1U << 31),
	};
	struct mlockdev_lockall la;
	size_t i;
	int want;

	REQUIRE_FEATURE(MLOCKDEV_FEAT_LOCK_ALL, "LOCK_ALL");

	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		errno = 0;
		ASSERT_EQ(-1, mlockall((int)bad_flags[i]))
			TH_LOG("mlockall(0x%x) succeeded", bad_flags[i]);
		want = errno;
		check_lock_state_unchanged(_metadata, self->vmlck_kb, "mlockall");

		memset(&la, 0, sizeof(la));
		la.flags = bad_flags[i];
		check_rejected(_metadata, self, MLOCKDEV_IOC_LOCK_ALL, &la,
			       sizeof(la), want, "LOCK_ALL bad flags");
	}
}

TEST_F(lockstate, unlockall_nonzero_inputs_einval)
{
	static const uint32_t bad_flags[] = {
		MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, 1U << 31,
	};
	struct mlockdev_unlockall ua;
	size_t i, j;

	REQUIRE_FEATURE(MLOCKDEV_FEAT_UNLOCK_ALL, "UNLOCK_ALL");

	/* munlockall(2) takes no flags, so any flag is a reserved bit. */
	for (j = 0; j < ARRAY_SIZE(bad_flags); j++) {
		memset(&ua, 0, sizeof(ua));
		ua.flags = bad_flags[j];
		check_rejected(_metadata, self, MLOCKDEV_IOC_UNLOCK_ALL, &ua,
			       sizeof(ua), EINVAL, "UNLOCK_ALL flags");
	}
	for (j = 0; j < ARRAY_SIZE(bad_u32); j++) {
		memset(&ua, 0, sizeof(ua));
		ua.reserved0 = bad_u32[j];
		check_rejected(_metadata, self, MLOCKDEV_IOC_UNLOCK_ALL, &ua,
			       sizeof(ua), EINVAL, "UNLOCK_ALL reserved0");
	}
	for (i = 0; i < ARRAY_SIZE(ua.reserved); i++) {
		for (j = 0; j < ARRAY_SIZE(bad_u64); j++) {
			memset(&ua, 0, sizeof(ua));
			ua.reserved[i] = bad_u64[j];
			check_rejected(_metadata, self, MLOCKDEV_IOC_UNLOCK_ALL,
				       &ua, sizeof(ua), EINVAL,
				       "UNLOCK_ALL reserved[i]");
		}
	}
}

TEST_F(lockstate, lockall_efault)
{
	struct mlockdev_lockall la;

	REQUIRE_FEATURE(MLOCKDEV_FEAT_LOCK_ALL, "LOCK_ALL");

	/* What can be read of it asks to lock everything, now and later. */
	memset(&la, 0, sizeof(la));
	la.flags = MCL_CURRENT | MCL_FUTURE;
	check_efault(_metadata, self->fd, MLOCKDEV_IOC_LOCK_ALL, &la, sizeof(la));
	check_lock_state_unchanged(_metadata, self->vmlck_kb, "LOCK_ALL -EFAULT");
}

TEST_F(lockstate, unlockall_efault)
{
	struct mlockdev_unlockall ua;

	REQUIRE_FEATURE(MLOCKDEV_FEAT_UNLOCK_ALL, "UNLOCK_ALL");

	memset(&ua, 0, sizeof(ua));
	check_efault(_metadata, self->fd, MLOCKDEV_IOC_UNLOCK_ALL, &ua, sizeof(ua));
	check_lock_state_unchanged(_metadata, self->vmlck_kb, "UNLOCK_ALL -EFAULT");
}

/*
 * UNLOCK_ALL is _IOW: it only reads its argument, so a valid one in a
 * read-only page works, and, as munlockall(2), unlocks what mlock(2)
 * locked.
 */
TEST_F(lockstate, unlockall_read_only_argument)
{
	struct mlockdev_unlockall *ua;

	REQUIRE_FEATURE(MLOCKDEV_FEAT_UNLOCK_ALL, "UNLOCK_ALL");

	ua = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ua);
	memset(ua, 0, sizeof(*ua));
	ASSERT_EQ(0, mprotect(ua, page_size(), PROT_READ));

	EXPECT_EQ(0, ioctl_err(self->fd, MLOCKDEV_IOC_UNLOCK_ALL, ua));
	EXPECT_EQ(0L, vm_locked_kb());
	munmap(ua, page_size());
}

/* ------------------------------------------------------------------ */
/* LOCK_ALL_EX and UNLOCK_ALL_EX (ABI 1.1): the extensible calls        */

/*
 * An extensible argument lives at the start of EX_AREA_PAGES read-write
 * pages followed by an unmapped page: sizes up to a page fit, and a struct
 * placed near the end runs off the mapping.
 */
#define EX_AREA_PAGES	2
#define EX_SIZE		MLOCKDEV_LOCKALL_EX_SIZE_VER0
#define GARBAGE		0xa5

/* Mode bits neither call knows, one at a time, low and high. */
static const uint64_t unknown_modes[] = {
	1ULL << 3, 1ULL << 4, 1ULL << 8, 1ULL << 31, 1ULL << 32, 1ULL << 62,
	1ULL << 63, ~0ULL,
};
/* What a pidfd field holds when MLOCKDEV_LOCK_PIDFD is not asked. */
static const int32_t stray_pidfds[] = { 1, -1, INT32_MAX, INT32_MIN };

/* The state of a LOCK_ALL_EX/UNLOCK_ALL_EX test (see lockstate). */
FIXTURE(ex) {
	int fd;
	struct mlockdev_version ver;
	char *locked;
	size_t locked_len;
	long vmlck_kb;
	char *area;
};

FIXTURE_SETUP(ex)
{
	struct stat st;

	self->fd = -1;
	self->locked = NULL;
	self->area = NULL;
	if (stat(DEV_PATH, &st) && errno == ENOENT)
		SKIP(return, NOT_LOADED);
	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	memset(&self->ver, 0, sizeof(self->ver));
	ASSERT_EQ(0, ioctl_err(self->fd, MLOCKDEV_IOC_VERSION, &self->ver));

	self->locked_len = 4 * page_size();
	self->locked = mmap(NULL, self->locked_len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->locked);
	ASSERT_EQ(0, mlock(self->locked, self->locked_len))
		TH_LOG("mlock: %s", strerror(errno));
	self->vmlck_kb = vm_locked_kb();
	ASSERT_LE((long)(self->locked_len / 1024), self->vmlck_kb);

	self->area = mmap(NULL, (EX_AREA_PAGES + 1) * page_size(),
			  PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	ASSERT_NE(MAP_FAILED, self->area);
	munmap(self->area + EX_AREA_PAGES * page_size(), page_size());
}

FIXTURE_TEARDOWN(ex)
{
	if (self->area && self->area != MAP_FAILED)
		munmap(self->area, EX_AREA_PAGES * page_size());
	if (self->locked && self->locked != MAP_FAILED)
		munmap(self->locked, self->locked_len);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * A LOCK_ALL_EX argument at @p that says it is @size bytes, asks for
 * @flags and nothing else, with garbage in its report (an output whose
 * input is ignored, and which a rejected call must leave alone).  Bytes
 * from sizeof() to @size are zeroed.
 */
static struct mlockdev_lockall_ex *lock_ex_at(void *p, uint32_t size,
					      uint32_t flags)
{
	struct mlockdev_lockall_ex *la = p;

	memset(p, 0, size > sizeof(*la) && size <= EX_AREA_PAGES * page_size() ?
		     size : sizeof(*la));
	la->size = size;
	la->flags = flags;
	memset(&la->report, GARBAGE, sizeof(la->report));
	return la;
}

static struct mlockdev_unlockall_ex *unlock_ex_at(void *p, uint32_t size)
{
	struct mlockdev_unlockall_ex *ua = p;

	memset(p, 0, size > sizeof(*ua) && size <= EX_AREA_PAGES * page_size() ?
		     size : sizeof(*ua));
	ua->size = size;
	memset(&ua->report, GARBAGE, sizeof(ua->report));
	return ua;
}

/* The caller's copy of a rejected argument, to compare byte for byte. */
static unsigned char ex_orig[EX_AREA_PAGES * 4096];

/*
 * @cmd on @arg must fail with @err, leave its first @len bytes as they
 * were (report included) and change no lock state.
 */
static void check_ex_rejected(struct __test_metadata *_metadata,
			      FIXTURE_DATA(ex) *self, unsigned long cmd,
			      void *arg, size_t len, int err, const char *what)
{
	ASSERT_GE(sizeof(ex_orig), len);
	memcpy(ex_orig, arg, len);
	EXPECT_EQ(err, ioctl_err(self->fd, cmd, arg)) TH_LOG("%s", what);
	EXPECT_EQ(0, memcmp(arg, ex_orig, len))
		TH_LOG("%s: the caller's struct changed", what);
	check_lock_state_unchanged(_metadata, self->vmlck_kb, what);
}

static bool all_bytes(const void *p, int byte, size_t len)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (c[i] != (unsigned char)byte)
			return false;
	return true;
}

#define REQUIRE_EX(self)						\
	do {								\
		REQUIRE_FEATURE(MLOCKDEV_FEAT_LOCK_ALL_EX, "LOCK_ALL_EX"); \
		REQUIRE_FEATURE(MLOCKDEV_FEAT_UNLOCK_ALL_EX,		\
				"UNLOCK_ALL_EX");			\
	} while (0)

/* Smaller than the first version of the struct: EINVAL, nothing read. */
TEST_F(ex, size_below_first_version_einval)
{
	static const uint32_t sizes[] = { 0, 1, 4, 8, 39, 40, 248, 280,
					  EX_SIZE - 1 };
	char what[64];
	size_t i;

	REQUIRE_EX(self);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		snprintf(what, sizeof(what), "LOCK_ALL_EX size %u", sizes[i]);
		check_ex_rejected(_metadata, self, MLOCKDEV_IOC_LOCK_ALL_EX,
				  lock_ex_at(self->area, sizes[i],
					     MCL_CURRENT | MCL_FUTURE),
				  EX_SIZE, EINVAL, what);
		snprintf(what, sizeof(what), "UNLOCK_ALL_EX size %u", sizes[i]);
		check_ex_rejected(_metadata, self, MLOCKDEV_IOC_UNLOCK_ALL_EX,
				  unlock_ex_at(self->area, sizes[i]),
				  EX_SIZE, EINVAL, what);
	}
}

/* Larger than a page: E2BIG, whatever follows in memory. */
TEST_F(ex, size_over_a_page_e2big)
{
	const uint32_t sizes[] = { page_size() + 1, page_size() + 8,
				   2 * page_size(), 65536, INT32_MAX,
				   UINT32_MAX };
	char what[64];
	size_t i;

	REQUIRE_EX(self);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		snprintf(what, sizeof(what), "LOCK_ALL_EX size %u", sizes[i]);
		check_ex_rejected(_metadata, self, MLOCKDEV_IOC_LOCK_ALL_EX,
				  lock_ex_at(self->area, sizes[i],
					     MCL_CURRENT | MCL_FUTURE),
				  EX_SIZE, E2BIG, what);
		snprintf(what, sizeof(what), "UNLOCK_ALL_EX size %u", sizes[i]);
		check_ex_rejected(_metadata, self, MLOCKDEV_IOC_UNLOCK_ALL_EX,
				  unlock_ex_at(self->area, sizes[i]),
				  EX_SIZE, E2BIG, what);
	}
}

/*
 * A struct from a newer program: larger than the module's, with a field
 * the module does not know set -- one byte past the known ones, in the
 * middle, at the very end.  E2BIG, the struct unchanged.
 */
TEST_F(ex, larger_with_unknown_field_e2big)
{
	const uint32_t sizes[] = { EX_SIZE + 1, EX_SIZE + 8, 512, page_size() };
	static const unsigned char values[] = { 0x01, 0x80 };
	char what[96];
	size_t i, v, k;

	REQUIRE_EX(self);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		const uint32_t pos[] = { EX_SIZE, (EX_SIZE + sizes[i]) / 2,
					 sizes[i] - 1 };

		for (k = 0; k < ARRAY_SIZE(pos); k++) {
			for (v = 0; v < ARRAY_SIZE(values); v++) {
				lock_ex_at(self->area, sizes[i],
					   MCL_CURRENT | MCL_FUTURE);
				self->area[pos[k]] = values[v];
				snprintf(what, sizeof(what),
					 "LOCK_ALL_EX size %u, byte %u = 0x%02x",
					 sizes[i], pos[k], values[v]);
				check_ex_rejected(_metadata, self,
						  MLOCKDEV_IOC_LOCK_ALL_EX,
						  self->area, sizes[i], E2BIG,
						  what);

				unlock_ex_at(self->area, sizes[i]);
				self->area[pos[k]] = values[v];
				snprintf(what, sizeof(what),
					 "UNLOCK_ALL_EX size %u, byte %u = 0x%02x",
					 sizes[i], pos[k], values[v]);
				check_ex_rejected(_metadata, self,
						  MLOCKDEV_IOC_UNLOCK_ALL_EX,
						  self->area, sizes[i], E2BIG,
						  what);
			}
		}
	}
}

/*
 * The same larger structs with nothing set beyond the module's fields are
 * accepted and act: UNLOCK_ALL_EX unlocks what the fixture mlock()ed, and
 * LOCK_ALL_EX with MCL_FUTURE makes a new mapping come out locked.  The
 * bytes the module does not know come back as they were (zero).
 */
TEST_F(ex, larger_with_zero_tail_accepted)
{
	const uint32_t sizes[] = { EX_SIZE + 1, EX_SIZE + 8, 512, page_size() };
	struct mlockdev_unlockall_ex *ua;
	struct mlockdev_lockall_ex *la;
	char *probe;
	size_t i;

	REQUIRE_EX(self);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ua = unlock_ex_at(self->area, sizes[i]);
		EXPECT_EQ(0, ioctl_err(self->fd, MLOCKDEV_IOC_UNLOCK_ALL_EX, ua))
			TH_LOG("UNLOCK_ALL_EX size %u", sizes[i]);
		EXPECT_EQ(0L, vm_locked_kb())
			TH_LOG("UNLOCK_ALL_EX size %u did not unlock", sizes[i]);
		EXPECT_TRUE(all_bytes(self->area + EX_SIZE, 0, sizes[i] - EX_SIZE))
			TH_LOG("size %u: bytes past the known struct changed",
			       sizes[i]);
		EXPECT_EQ(sizes[i], ua->size);
		EXPECT_EQ((uint64_t)self->vmlck_kb,
			  ua->report.locked_vm_before * page_size() / 1024)
			TH_LOG("size %u: report not written back", sizes[i]);
		ASSERT_EQ(0, mlock(self->locked, self->locked_len));

		la = lock_ex_at(self->area, sizes[i], MCL_FUTURE);
		EXPECT_EQ(0, ioctl_err(self->fd, MLOCKDEV_IOC_LOCK_ALL_EX, la))
			TH_LOG("LOCK_ALL_EX size %u", sizes[i]);
		EXPECT_TRUE(all_bytes(self->area + EX_SIZE, 0, sizes[i] - EX_SIZE))
			TH_LOG("size %u: bytes past the known struct changed",
			       sizes[i]);
		probe = mmap(NULL, 4 * page_size(), PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, probe);
		EXPECT_EQ(self->vmlck_kb + (long)(4 * page_size() / 1024),
			  vm_locked_kb())
			TH_LOG("LOCK_ALL_EX(MCL_FUTURE) size %u: a new mapping is "
			       "not locked", sizes[i]);
		munmap(probe, 4 * page_size());
		ASSERT_EQ(0, munlockall());
		ASSERT_EQ(0, mlock(self->locked, self->locked_len));
	}
}

TEST_F(ex, unknown_mode_bits_einval)
{
	static const uint32_t flags[] = { MCL_CURRENT, MCL_FUTURE,
					  MCL_CURRENT | MCL_FUTURE };
	/* Unknown to UNLOCK_ALL_EX: STRICT is a lock mode only. */
	static const uint64_t unlock_modes[] = {
		MLOCKDEV_LOCK_STRICT, MLOCKDEV_LOCK_STRICT | MLOCKDEV_LOCK_OPENBSD,
		1ULL << 3, 1ULL << 32, 1ULL << 63, ~0ULL,
	};
	struct mlockdev_lockall_ex *la;
	struct mlockdev_unlockall_ex *ua;
	char what[96];
	size_t f, m;

	REQUIRE_EX(self);
	for (m = 0; m < ARRAY_SIZE(unknown_modes); m++) {
		for (f = 0; f < ARRAY_SIZE(flags); f++) {
			la = lock_ex_at(self->area, EX_SIZE, flags[f]);
			la->mode_flags = unknown_modes[m];
			snprintf(what, sizeof(what),
				 "LOCK_ALL_EX flags 0x%x mode 0x%llx", flags[f],
				 (unsigned long long)unknown_modes[m]);
			check_ex_rejected(_metadata, self,
					  MLOCKDEV_IOC_LOCK_ALL_EX, la, EX_SIZE,
					  EINVAL, what);
			/* With a known mode beside it. */
			la = lock_ex_at(self->area, EX_SIZE, flags[f]);
			la->mode_flags = unknown_modes[m] | MLOCKDEV_LOCK_STRICT;
			check_ex_rejected(_metadata, self,
					  MLOCKDEV_IOC_LOCK_ALL_EX, la, EX_SIZE,
					  EINVAL, what);
		}
	}
	for (m = 0; m < ARRAY_SIZE(unlock_modes); m++) {
		ua = unlock_ex_at(self->area, EX_SIZE);
		ua->mode_flags = unlock_modes[m];
		snprintf(what, sizeof(what), "UNLOCK_ALL_EX mode 0x%llx",
			 (unsigned long long)unlock_modes[m]);
		check_ex_rejected(_metadata, self, MLOCKDEV_IOC_UNLOCK_ALL_EX,
				  ua, EX_SIZE, EINVAL, what);
	}
}

/* A pidfd without MLOCKDEV_LOCK_PIDFD: EINVAL, even a valid one. */
TEST_F(ex, pidfd_without_pidfd_mode_einval)
{
	static const uint64_t lock_modes[] = {
		0, MLOCKDEV_LOCK_STRICT, MLOCKDEV_LOCK_OPENBSD,
	};
	static const uint64_t unlock_modes[] = { 0, MLOCKDEV_LOCK_OPENBSD };
	struct mlockdev_lockall_ex *la;
	struct mlockdev_unlockall_ex *ua;
	int32_t pidfds[ARRAY_SIZE(stray_pidfds) + 1];
	char what[96];
	size_t p, m;
	int own;

	REQUIRE_EX(self);
	memcpy(pidfds, stray_pidfds, sizeof(stray_pidfds));
	own = syscall(SYS_pidfd_open, getpid(), 0);
	pidfds[ARRAY_SIZE(stray_pidfds)] = own >= 0 ? own : 3;

	for (p = 0; p < ARRAY_SIZE(pidfds); p++) {
		for (m = 0; m < ARRAY_SIZE(lock_modes); m++) {
			la = lock_ex_at(self->area, EX_SIZE,
					MCL_CURRENT | MCL_FUTURE);
			la->mode_flags = lock_modes[m];
			la->pidfd = pidfds[p];
			snprintf(what, sizeof(what),
				 "LOCK_ALL_EX mode 0x%llx pidfd %d",
				 (unsigned long long)lock_modes[m], pidfds[p]);
			check_ex_rejected(_metadata, self,
					  MLOCKDEV_IOC_LOCK_ALL_EX, la, EX_SIZE,
					  EINVAL, what);
		}
		for (m = 0; m < ARRAY_SIZE(unlock_modes); m++) {
			ua = unlock_ex_at(self->area, EX_SIZE);
			ua->mode_flags = unlock_modes[m];
			ua->pidfd = pidfds[p];
			snprintf(what, sizeof(what),
				 "UNLOCK_ALL_EX mode 0x%llx pidfd %d",
				 (unsigned long long)unlock_modes[m], pidfds[p]);
			check_ex_rejected(_metadata, self,
					  MLOCKDEV_IOC_UNLOCK_ALL_EX, ua,
					  EX_SIZE, EINVAL, what);
		}
	}
	if (own >= 0)
		close(own);
}

TEST_F(ex, reserved_nonzero_einval)
{
	static const uint32_t unlock_flags[] = {
		MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, 1U << 31,
	};
	struct mlockdev_lockall_ex *la;
	struct mlockdev_unlockall_ex *ua;
	char what[96];
	size_t i, j;

	REQUIRE_EX(self);
	for (i = 0; i < ARRAY_SIZE(la->reserved); i++) {
		for (j = 0; j < ARRAY_SIZE(bad_u64); j++) {
			la = lock_ex_at(self->area, EX_SIZE,
					MCL_CURRENT | MCL_FUTURE);
			la->reserved[i] = bad_u64[j];
			snprintf(what, sizeof(what),
				 "LOCK_ALL_EX reserved[%zu] 0x%llx", i,
				 (unsigned long long)bad_u64[j]);
			check_ex_rejected(_metadata, self,
					  MLOCKDEV_IOC_LOCK_ALL_EX, la, EX_SIZE,
					  EINVAL, what);

			ua = unlock_ex_at(self->area, EX_SIZE);
			ua->reserved[i] = bad_u64[j];
			snprintf(what, sizeof(what),
				 "UNLOCK_ALL_EX reserved[%zu] 0x%llx", i,
				 (unsigned long long)bad_u64[j]);
			check_ex_rejected(_metadata, self,
					  MLOCKDEV_IOC_UNLOCK_ALL_EX, ua,
					  EX_SIZE, EINVAL, what);
		}
	}
	/* munlockall(2) takes no flags: any flag is a reserved bit. */
	for (j = 0; j < ARRAY_SIZE(unlock_flags); j++) {
		ua = unlock_ex_at(self->area, EX_SIZE);
		ua->flags = unlock_flags[j];
		snprintf(what, sizeof(what), "UNLOCK_ALL_EX flags 0x%x",
			 unlock_flags[j]);
		check_ex_rejected(_metadata, self, MLOCKDEV_IOC_UNLOCK_ALL_EX,
				  ua, EX_SIZE, EINVAL, what);
	}
	for (j = 0; j < ARRAY_SIZE(bad_u32); j++) {
		ua = unlock_ex_at(self->area, EX_SIZE);
		ua->reserved0 = bad_u32[j];
		snprintf(what, sizeof(what), "UNLOCK_ALL_EX reserved0 0x%x",
			 bad_u32[j]);
		check_ex_rejected(_metadata, self, MLOCKDEV_IOC_UNLOCK_ALL_EX,
				  ua, EX_SIZE, EINVAL, what);
	}
}

/*
 * Bad pointers: NULL, unmapped, PROT_NONE, the top of the address space;
 * a struct running off the end of its mapping at every 8th byte, and a
 * larger struct whose zero tail does; a valid struct in read-only memory
 * (the report cannot be written back, so nothing is done).  EFAULT each
 * time, the mapped part unchanged, the lock state unchanged.
 */
TEST_F(ex, bad_pointers_efault)
{
	const unsigned long cmds[] = { MLOCKDEV_IOC_LOCK_ALL_EX,
				       MLOCKDEV_IOC_UNLOCK_ALL_EX };
	char *end = self->area + EX_AREA_PAGES * page_size();
	struct bad_pointer bad[4];
	unsigned char valid[EX_SIZE];
	char what[96], *arg;
	size_t c, i, off;

	REQUIRE_EX(self);
	bad_pointers(bad);
	for (c = 0; c < ARRAY_SIZE(cmds); c++) {
		bool lock = cmds[c] == MLOCKDEV_IOC_LOCK_ALL_EX;

		if (lock)
			lock_ex_at(valid, EX_SIZE, MCL_CURRENT | MCL_FUTURE);
		else
			unlock_ex_at(valid, EX_SIZE);

		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			EXPECT_EQ(EFAULT, ioctl_err(self->fd, cmds[c], bad[i].ptr))
				TH_LOG("command 0x%08lx, %s (%p)", cmds[c],
				       bad[i].name, bad[i].ptr);
		}
		for (off = 4; off < EX_SIZE; off += off < 8 ? 4 : 8) {
			arg = end - off;
			memcpy(arg, valid, off);
			snprintf(what, sizeof(what), "command 0x%08lx, %zu of "
				 "%u bytes mapped", cmds[c], off, EX_SIZE);
			check_ex_rejected(_metadata, self, cmds[c], arg, off,
					  EFAULT, what);
		}
		/* 296 bytes, the last 4 (zero, so acceptable) in the hole. */
		arg = end - (EX_SIZE + 4);
		memcpy(arg, valid, EX_SIZE);
		memset(arg + EX_SIZE, 0, 4);
		((struct mlockdev_lockall_ex *)arg)->size = EX_SIZE + 8;
		snprintf(what, sizeof(what), "command 0x%08lx, the zero tail "
			 "of a %u-byte struct unmapped", cmds[c], EX_SIZE + 8);
		check_ex_rejected(_metadata, self, cmds[c], arg, EX_SIZE + 4,
				  EFAULT, what);

		/* Valid, but the report cannot be written back. */
		memcpy(self->area, valid, EX_SIZE);
		ASSERT_EQ(0, mprotect(self->area, page_size(), PROT_READ));
		snprintf(what, sizeof(what), "command 0x%08lx in read-only "
			 "memory", cmds[c]);
		check_ex_rejected(_metadata, self, cmds[c], self->area, EX_SIZE,
				  EFAULT, what);
		ASSERT_EQ(0, mprotect(self->area, page_size(),
				      PROT_READ | PROT_WRITE));
	}
	if (bad[2].ptr)
		munmap(bad[2].ptr, page_size());
}

/* The report is written back on success; the inputs come back as given. */
TEST_F(ex, report_written_on_success)
{
	struct mlockdev_lockall_ex *la;
	struct mlockdev_unlockall_ex *ua;
	const struct mlockdev_report *r;
	long before, after;
	size_t i;

	REQUIRE_EX(self);
	la = lock_ex_at(self->area, EX_SIZE, MCL_CURRENT);
	before = vm_locked_kb();
	ASSERT_EQ(0, ioctl_err(self->fd, MLOCKDEV_IOC_LOCK_ALL_EX, la));
	after = vm_locked_kb();
	r = &la->report;

	EXPECT_EQ((uint32_t)EX_SIZE, la->size);
	EXPECT_EQ((uint32_t)MCL_CURRENT, la->flags);
	EXPECT_EQ(0ULL, (unsigned long long)la->mode_flags);
	EXPECT_EQ(0, la->pidfd);
	EXPECT_EQ(0U, la->workers);
	EXPECT_EQ((uint64_t)before, r->locked_vm_before * page_size() / 1024);
	EXPECT_EQ((uint64_t)after, r->locked_vm_after * page_size() / 1024);
	EXPECT_LT(before, after);
	EXPECT_LT(0ULL, (unsigned long long)r->vmas_seen);
	EXPECT_LT(0ULL, (unsigned long long)r->vmas_changed);
	EXPECT_GE(r->vmas_seen, r->vmas_changed + r->vmas_skipped_special +
				r->vmas_skipped_droppable + r->vmas_skipped_dax +
				r->vmas_skipped_hugetlb +
				r->vmas_skipped_secretmem);
	/* [vvar] and [vdso] are special mappings, in 32- and 64-bit callers. */
	EXPECT_LE(1ULL, (unsigned long long)r->vmas_skipped_special);
	EXPECT_LT(0ULL, (unsigned long long)r->pages_populated);
	EXPECT_EQ(0ULL, (unsigned long long)r->pages_unmarked);
	EXPECT_EQ(0ULL, (unsigned long long)r->failed_vma_start);
	EXPECT_EQ(0ULL, (unsigned long long)r->failed_vma_end);
	EXPECT_EQ(r->populate_errors == 0, r->populate_first_errno == 0)
		TH_LOG("populate_errors %llu, first errno %d",
		       (unsigned long long)r->populate_errors,
		       r->populate_first_errno);
	EXPECT_GE(0, r->populate_first_errno);
	EXPECT_LE(1ULL, (unsigned long long)r->workers_used);
	EXPECT_EQ(0U, r->reserved0);
	for (i = 0; i < ARRAY_SIZE(r->reserved); i++) {
		EXPECT_EQ(0ULL, (unsigned long long)r->reserved[i])
			TH_LOG("report.reserved[%zu]", i);
	}

	ua = unlock_ex_at(self->area, EX_SIZE);
	ASSERT_EQ(0, ioctl_err(self->fd, MLOCKDEV_IOC_UNLOCK_ALL_EX, ua));
	r = &ua->report;
	EXPECT_EQ(0L, vm_locked_kb());
	EXPECT_EQ((uint64_t)after, r->locked_vm_before * page_size() / 1024);
	EXPECT_EQ(0ULL, (unsigned long long)r->locked_vm_after);
	EXPECT_LT(0ULL, (unsigned long long)r->vmas_changed);
	EXPECT_LT(0ULL, (unsigned long long)r->pages_unmarked);
	EXPECT_EQ(0ULL, (unsigned long long)r->pages_populated);
	EXPECT_EQ(0U, r->reserved0);
	for (i = 0; i < ARRAY_SIZE(r->reserved); i++) {
		EXPECT_EQ(0ULL, (unsigned long long)r->reserved[i])
			TH_LOG("report.reserved[%zu]", i);
	}
}

/* Clear CAP_IPC_LOCK from every set of this (test) process. */
static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	data[CAP_TO_INDEX(CAP_IPC_LOCK)].permitted &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	return syscall(SYS_capset, &hdr, data);
}

/*
 * Once the arguments are accepted, an error still brings the report back:
 * EPERM (RLIMIT_MEMLOCK 0, no CAP_IPC_LOCK: nothing looked at yet, so all
 * zero) and ENOMEM (VmSize over the limit: VmLck before and after).  The
 * errno is the one mlockall(2) gives in the same state.
 */
TEST_F(ex, report_written_after_accepted_error)
{
	struct mlockdev_lockall_ex *la;
	struct rlimit rl = { 0, 0 };
	size_t i;

	REQUIRE_EX(self);
	ASSERT_EQ(0, drop_ipc_lock()) TH_LOG("capset: %s", strerror(errno));

	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	ASSERT_EQ(-1, mlockall(MCL_CURRENT));
	ASSERT_EQ(EPERM, errno);
	la = lock_ex_at(self->area, EX_SIZE, MCL_CURRENT);
	EXPECT_EQ(EPERM, ioctl_err(self->fd, MLOCKDEV_IOC_LOCK_ALL_EX, la));
	EXPECT_TRUE(all_bytes(&la->report, 0, sizeof(la->report)))
		TH_LOG("EPERM: the report was not written back");
	EXPECT_EQ((uint32_t)MCL_CURRENT, la->flags);
	check_lock_state_unchanged(_metadata, self->vmlck_kb, "EPERM");

	rl.rlim_cur = rl.rlim_max = page_size();
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	ASSERT_EQ(-1, mlockall(MCL_CURRENT));
	ASSERT_EQ(ENOMEM, errno);
	la = lock_ex_at(self->area, EX_SIZE, MCL_CURRENT | MCL_FUTURE);
	EXPECT_EQ(ENOMEM, ioctl_err(self->fd, MLOCKDEV_IOC_LOCK_ALL_EX, la));
	EXPECT_EQ((uint64_t)self->vmlck_kb,
		  la->report.locked_vm_before * page_size() / 1024)
		TH_LOG("ENOMEM: report.locked_vm_before");
	EXPECT_EQ((uint64_t)self->vmlck_kb,
		  la->report.locked_vm_after * page_size() / 1024)
		TH_LOG("ENOMEM: report.locked_vm_after");
	EXPECT_EQ(0ULL, (unsigned long long)la->report.vmas_changed);
	EXPECT_EQ(0U, la->report.reserved0);
	for (i = 0; i < ARRAY_SIZE(la->report.reserved); i++) {
		EXPECT_EQ(0ULL, (unsigned long long)la->report.reserved[i]);
	}
	check_lock_state_unchanged(_metadata, self->vmlck_kb, "ENOMEM");
}

/*
 * Flags the call rejects are arguments rejected: the errno mlockall(2)
 * (or, in OpenBSD mode, OpenBSD's mlockall) gives, the caller's struct
 * untouched -- the report keeps its garbage, since the header promises a
 * report only once the arguments are accepted (EPERM, ENOMEM, EAGAIN,
 * EINTR, populate errors) -- and nothing changed.
 */
TEST_F(ex, rejected_flags_leave_struct_untouched)
{
	static const uint32_t bad_flags[] = {
		0, MCL_ONFAULT, 8, 0x10, 1U << 31, MCL_CURRENT | 8,
		MCL_FUTURE | (1U << 31),
	};
	/* OpenBSD: no MCL_ONFAULT at all (uvm_mmap.c:901-903). */
	static const uint32_t bad_openbsd[] = {
		0, MCL_ONFAULT, MCL_CURRENT | MCL_ONFAULT,
		MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT, 8,
	};
	struct mlockdev_lockall_ex *la;
	char what[96];
	size_t i;

	REQUIRE_EX(self);
	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		ASSERT_EQ(-1, mlockall((int)bad_flags[i]));
		ASSERT_EQ(EINVAL, errno);
		la = lock_ex_at(self->area, EX_SIZE, bad_flags[i]);
		snprintf(what, sizeof(what), "LOCK_ALL_EX flags 0x%x",
			 bad_flags[i]);
		check_ex_rejected(_metadata, self, MLOCKDEV_IOC_LOCK_ALL_EX, la,
				  EX_SIZE, EINVAL, what);
	}
	if (!(self->ver.features & MLOCKDEV_FEAT_OPENBSD))
		return;
	for (i = 0; i < ARRAY_SIZE(bad_openbsd); i++) {
		la = lock_ex_at(self->area, EX_SIZE, bad_openbsd[i]);
		la->mode_flags = MLOCKDEV_LOCK_OPENBSD;
		snprintf(what, sizeof(what), "LOCK_ALL_EX OpenBSD flags 0x%x",
			 bad_openbsd[i]);
		check_ex_rejected(_metadata, self, MLOCKDEV_IOC_LOCK_ALL_EX, la,
				  EX_SIZE, EINVAL, what);
	}
}

/*
 * Without the device there is nothing to test: say so once, as a skip of
 * the whole program (exit status KSFT_SKIP), rather than letting every test
 * skip and the program pass.  With arguments (-t, -f, -l, ...) the harness
 * runs as usual and each test skips on its own.
 */
int main(int argc, char **argv)
{
	struct stat st;

	if (argc == 1 && stat(DEV_PATH, &st) && errno == ENOENT) {
		ksft_print_header();
		ksft_exit_skip(NOT_LOADED "\n");
	}
	return test_harness_run(argc, argv);
}
