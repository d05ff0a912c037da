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
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/mlockdev.h>

#include "kselftest_harness.h"

#define DEV_PATH	"/dev/" MLOCKDEV_DEVICE_NAME
#define NOT_LOADED	"mlockdev module not loaded: insmod kernel/mlockdev.ko"

/* Every feature bit include/uapi/linux/mlockdev.h defines. */
#define KNOWN_FEATURES	(MLOCKDEV_FEAT_VERSION | MLOCKDEV_FEAT_LOCK_ALL | \
			 MLOCKDEV_FEAT_UNLOCK_ALL | MLOCKDEV_FEAT_STATS)

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

/* The command numbers encode the sizes above, so they match too. */
_Static_assert(MLOCKDEV_IOC_VERSION == 0xc080b900u, "VERSION number");
_Static_assert(MLOCKDEV_IOC_LOCK_ALL == 0x4020b901u, "LOCK_ALL number");
_Static_assert(MLOCKDEV_IOC_UNLOCK_ALL == 0x4020b902u, "UNLOCK_ALL number");

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

/* VmLck of this process in kB, from /proc/self/status; -1 if not found. */
static long vm_locked_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
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
	}
}

TEST_F(mlockdev, enotty_unused_numbers)
{
	unsigned int nr;

	/* A newer module may use more numbers; this test knows only its own. */
	if (self->ver.abi_minor != MLOCKDEV_ABI_MINOR)
		SKIP(return, "module ABI minor %u is not this test's %u",
		     self->ver.abi_minor, MLOCKDEV_ABI_MINOR);

	for (nr = 0x03; nr <= 0xff; nr++) {
		check_enotty(_metadata, self->fd,
			     _IOWR(MLOCKDEV_IOC_MAGIC, nr, struct mlockdev_version));
		check_enotty(_metadata, self->fd,
			     _IOW(MLOCKDEV_IOC_MAGIC, nr, struct mlockdev_lockall));
		check_enotty(_metadata, self->fd, _IO(MLOCKDEV_IOC_MAGIC, nr));
	}
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
