// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev_strict_test - MLOCKDEV_LOCK_STRICT (issue 11): a lock that
 * cannot make all of its locked memory resident fails, with the populate
 * error and the VMA where it happened, and leaves the lock state exactly
 * as it was before the call.
 *
 * Each case runs in a subject process that builds the same address space
 * around one VMA that cannot be populated:
 *
 *   file_past_eof   a shared file mapping of 16 pages over a file of one:
 *                   the fault past EOF is SIGBUS, EFAULT for populate
 *   memcg_enomem    32 MiB of fresh anonymous memory in a memory cgroup
 *                   that has 8 MiB left and nothing it may kill: ENOMEM
 *   guard_region    16 anonymous pages with two guard pages in the middle
 *                   (MADV_GUARD_INSTALL, Linux 6.13): EFAULT
 *   no_failure      nothing fails: the strict call locks like a plain one
 *
 * and around it, memory whose lock state the call changes and must put
 * back: anonymous pages (some present), pages mlock()ed before (locked
 * before, locked after) and pages mlock2(MLOCK_ONFAULT)ed before (lo and
 * lf before and after).  The call asks MCL_CURRENT | MCL_FUTURE, so
 * def_flags must be put back too: a mapping made after the failed call
 * must not come out locked.
 *
 * The subject snapshots itself before and after the call with the
 * differential suite's snapshot (diff_snapshot.c) and compares the lock
 * state (lock_state.c): VMA lock bits, VmLck, KPF_MLOCKED per page,
 * Mlocked:, no PG_mlocked page outside a locked VMA.  Pages faulted in by
 * the failed call may stay resident: the promise is the lock state, and
 * the test says how many did.  The test process checks that the strict
 * rollback was counted (stats/strict_rollbacks) and that nothing is left
 * mlocked once the subject is gone.
 *
 * Every case runs with the caller alone (workers 0) and with two populate
 * threads (workers 2): a worker's failure must stop the others and roll
 * back all the same (issue 12).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/mlockdev.h>

#include "kselftest_harness.h"
#include "invariants.h"
#include "lock_state.h"
#include "memcg_limit.h"
#include "residency_common.h"

#define DEV_PATH	"/dev/" MLOCKDEV_DEVICE_NAME
#define STATS		"/sys/class/misc/" MLOCKDEV_DEVICE_NAME "/stats/"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102
#endif

/* The memory cgroup case: what is left under memory.max, what is asked. */
#define MEMCG_HEADROOM	(8UL << 20)
#define MEMCG_REGION	(32UL << 20)

enum strict_case {
	CASE_FILE_PAST_EOF,
	CASE_MEMCG_ENOMEM,
	CASE_GUARD_REGION,
	CASE_NO_FAILURE,
};

static const char *const case_names[] = {
	[CASE_FILE_PAST_EOF] = "file_past_eof",
	[CASE_MEMCG_ENOMEM] = "memcg_enomem",
	[CASE_GUARD_REGION] = "guard_region",
	[CASE_NO_FAILURE] = "no_failure",
};

/* Static: two snapshots of the subject, written without malloc. */
static struct diff_snapshot before, after;

static long page;

static long stat_counter(const char *name)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), STATS "%s", name);
	if (rc_read_file(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

/* ------------------------------------------------------------------ */
/* The subject                                                         */

static int failures;

#define CHECK(cond, fmt, ...)						\
	do {								\
		if (!(cond)) {						\
			printf("# %s: " fmt "\n", what, ##__VA_ARGS__);	\
			failures++;					\
		}							\
	} while (0)

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * The memory around the failing VMA: "anon" (16 pages, 4 present), which
 * the call locks and must unlock again; "locked" (8 pages, mlock()ed), locked
 * before and after; "onfault" (8 pages, mlock2(MLOCK_ONFAULT)), lo and lf
 * before and after.
 */
static int surroundings(void)
{
	char *anon = map_anon(16 * page), *locked = map_anon(8 * page);
	char *onfault = map_anon(8 * page);
	long i;

	if (!anon || !locked || !onfault)
		return -1;
	for (i = 0; i < 4; i++)
		anon[i * page] = 1;
	if (mlock(locked, 8 * page) ||
	    mlock2(onfault, 8 * page, MLOCK_ONFAULT))
		return -1;
	onfault[0] = 1;
	ls_add_map(&before, "anon", anon, 16 * page);
	ls_add_map(&before, "locked", locked, 8 * page);
	ls_add_map(&before, "onfault", onfault, 8 * page);
	return 0;
}

/* The VMA the case makes fail: its range, or NULL on a set-up failure. */
static char *failing_vma(enum strict_case c, size_t *len)
{
	char path[] = "/tmp/mlockdev-strict-XXXXXX";
	char *p;
	int fd;

	switch (c) {
	case CASE_FILE_PAST_EOF:
		fd = mkstemp(path);
		if (fd < 0)
			return NULL;
		unlink(path);
		*len = 16 * page;
		if (ftruncate(fd, page))
			return NULL;
		p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		if (p == MAP_FAILED)
			return NULL;
		p[0] = 1;
		return p;
	case CASE_MEMCG_ENOMEM:
		*len = MEMCG_REGION;
		p = map_anon(*len);
		if (p && madvise(p, *len, MADV_NOHUGEPAGE))
			return NULL;
		return p;
	case CASE_GUARD_REGION:
		*len = 16 * page;
		p = map_anon(*len);
		if (!p || madvise(p + 4 * page, 2 * page, MADV_GUARD_INSTALL))
			return NULL;
		p[0] = 1;
		return p;
	case CASE_NO_FAILURE:
		*len = 16 * page;
		return map_anon(*len);
	}
	return NULL;
}

static void __attribute__((noreturn))
subject(enum strict_case c, uint32_t workers, const struct memcg_limit *cg)
{
	struct mlockdev_lockall_ex la;
	const char *what = case_names[c];
	struct ls_result res;
	int64_t base;
	size_t len = 0;
	char *fail;
	int fd, ret, err;

	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	memset(&before, 0, sizeof(before));
	memset(&after, 0, sizeof(after));
	if (fd < 0 || surroundings())
		_exit(100);
	fail = failing_vma(c, &len);
	if (!fail)
		_exit(101);
	ls_add_map(&before, "failing", fail, len);
	memcpy(after.map, before.map, sizeof(before.map));
	after.nmaps = before.nmaps;

	if (inv_settle())
		_exit(102);
	base = inv_meminfo_kb("Mlocked");
	if (ls_take(&before, base))
		_exit(103);
	if (c == CASE_MEMCG_ENOMEM && memcg_limit_enter(cg, MEMCG_HEADROOM))
		_exit(104);

	memset(&la, 0, sizeof(la));
	la.size = sizeof(la);
	la.flags = MCL_CURRENT | MCL_FUTURE;
	la.mode_flags = MLOCKDEV_LOCK_STRICT;
	la.workers = workers;
	ret = ioctl(fd, MLOCKDEV_IOC_LOCK_ALL_EX, &la);
	err = ret ? errno : 0;

	if (c == CASE_MEMCG_ENOMEM)
		memcg_limit_leave(cg);
	if (ls_take(&after, base))
		_exit(105);

	printf("# %s: LOCK_ALL_EX(STRICT, workers %u): %s; report: failed VMA "
	       "0x%llx-0x%llx, first error %d at 0x%llx, %llu populate errors, "
	       "%llu pages populated, %llu threads, locked_vm %llu -> %llu\n",
	       what, workers, ret ? strerror(err) : "0",
	       (unsigned long long)la.report.failed_vma_start,
	       (unsigned long long)la.report.failed_vma_end,
	       la.report.populate_first_errno,
	       (unsigned long long)la.report.populate_first_addr,
	       (unsigned long long)la.report.populate_errors,
	       (unsigned long long)la.report.pages_populated,
	       (unsigned long long)la.report.workers_used,
	       (unsigned long long)la.report.locked_vm_before,
	       (unsigned long long)la.report.locked_vm_after);
	CHECK(la.report.workers_used == (workers ? workers : 1),
	      "report.workers_used %llu, asked for %u",
	      (unsigned long long)la.report.workers_used, workers);

	if (c == CASE_NO_FAILURE) {
		CHECK(!ret, "the strict call failed: %s", strerror(err));
		CHECK(!la.report.failed_vma_start && !la.report.failed_vma_end,
		      "a failed VMA is named although nothing failed");
		CHECK(after.status[ST_VMLCK] == after.locked_vma_kb,
		      "VmLck %" PRId64 " kB, lo VMAs %" PRId64 " kB",
		      after.status[ST_VMLCK], after.locked_vma_kb);
		CHECK(ls_probe_locked(page) == 1,
		      "MCL_FUTURE: a new mapping is not locked");
		fflush(stdout);
		_exit(failures ? 1 : 0);
	}

	CHECK(ret == -1 && err == (c == CASE_MEMCG_ENOMEM ? ENOMEM : EFAULT),
	      "returned %d (%s), expected -1 with %s", ret,
	      ret ? strerror(err) : "no error",
	      c == CASE_MEMCG_ENOMEM ? "ENOMEM" : "EFAULT");
	CHECK(la.report.failed_vma_start == (uintptr_t)fail &&
	      la.report.failed_vma_end == (uintptr_t)fail + len,
	      "report names the VMA 0x%llx-0x%llx, the failing one is "
	      "0x%lx-0x%lx", (unsigned long long)la.report.failed_vma_start,
	      (unsigned long long)la.report.failed_vma_end,
	      (unsigned long)(uintptr_t)fail,
	      (unsigned long)((uintptr_t)fail + len));
	CHECK(la.report.populate_first_errno == -err,
	      "report.populate_first_errno %d, the call failed with %d",
	      la.report.populate_first_errno, -err);
	CHECK(la.report.locked_vm_after == la.report.locked_vm_before,
	      "report: locked_vm %llu before, %llu after",
	      (unsigned long long)la.report.locked_vm_before,
	      (unsigned long long)la.report.locked_vm_after);
	failures += ls_compare(what, &before, &after, page, &res);
	CHECK(ls_probe_locked(page) == 0,
	      "MCL_FUTURE outlived the failed call: a new mapping is locked");
	printf("# %s: lock state as before the call; %lu test page(s) faulted "
	       "in by the failed call stay resident (%lu of them mlocked, in "
	       "lock-on-fault memory): the promise is the lock state, not "
	       "residency\n", what, res.faulted_in, res.faulted_mlocked);
	fflush(stdout);
	_exit(failures ? 1 : 0);
}

/* ------------------------------------------------------------------ */
/* The tests                                                           */

static const char *const setup_errors[] = {
	[0] = "could not open " DEV_PATH " or map the surroundings",
	[1] = "could not make the failing VMA",
	[2] = "cannot settle the LRU batches (stat_refresh)",
	[3] = "cannot take the snapshot before the call",
	[4] = "cannot enter the memory cgroup",
	[5] = "cannot take the snapshot after the call",
};

FIXTURE(strict) {
	struct memcg_limit cg;
};

FIXTURE_VARIANT(strict) {
	uint32_t workers;
};

FIXTURE_VARIANT_ADD(strict, serial) {
	.workers = MLOCKDEV_WORKERS_SYSCALL,
};

FIXTURE_VARIANT_ADD(strict, workers2) {
	.workers = 2,
};

FIXTURE_SETUP(strict)
{
	struct mlockdev_version ver;
	int fd;

	memset(&self->cg, 0, sizeof(self->cg));
	page = sysconf(_SC_PAGESIZE);
	if (geteuid())
		SKIP(return, "needs root (kpageflags, cgroups, stats)");
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SKIP(return, "%s: %s (mlockdev module not loaded?)", DEV_PATH,
		     strerror(errno));
	memset(&ver, 0, sizeof(ver));
	ASSERT_EQ(0, ioctl(fd, MLOCKDEV_IOC_VERSION, &ver));
	close(fd);
	if (!(ver.features & MLOCKDEV_FEAT_STRICT))
		SKIP(return, "the module lacks MLOCKDEV_FEAT_STRICT");
	if (variant->workers && !(ver.features & MLOCKDEV_FEAT_WORKERS))
		SKIP(return, "the module lacks MLOCKDEV_FEAT_WORKERS");
}

FIXTURE_TEARDOWN(strict)
{
	memcg_limit_remove(&self->cg);
}

static void run_case(struct __test_metadata *_metadata,
		     FIXTURE_DATA(strict) *self, uint32_t workers,
		     enum strict_case c)
{
	struct inv_counters base, now;
	long rollbacks_before, rollbacks_after;
	char why[256];
	int status;
	pid_t pid;

	ASSERT_EQ(0, inv_read(&base, true));
	rollbacks_before = stat_counter("strict_rollbacks");
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		subject(c, workers, &self->cg);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	rollbacks_after = stat_counter("strict_rollbacks");

	ASSERT_TRUE(WIFEXITED(status))
		TH_LOG("the subject died: status 0x%x", status);
	ASSERT_GT(100, WEXITSTATUS(status))
		TH_LOG("set-up: %s", setup_errors[WEXITSTATUS(status) - 100]);
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("%s: the lock state or the report is wrong (above)",
		       case_names[c]);
	EXPECT_EQ(rollbacks_before + (c == CASE_NO_FAILURE ? 0 : 1),
		  rollbacks_after)
		TH_LOG("stats/strict_rollbacks %ld -> %ld", rollbacks_before,
		       rollbacks_after);

	/* Once the subject is gone, nothing it locked may stay mlocked. */
	ASSERT_EQ(0, inv_read(&now, true));
	EXPECT_EQ(0, inv_compare(&base, &now, INV_GONE, why, sizeof(why)))
		TH_LOG("after the subject exited: %s", why);
}

TEST_F(strict, file_past_eof)
{
	run_case(_metadata, self, variant->workers, CASE_FILE_PAST_EOF);
}

TEST_F(strict, memcg_enomem)
{
	const char *why = memcg_limit_make(&self->cg, "mlockdev-strict");

	if (why)
		SKIP(return, "%s", why);
	run_case(_metadata, self, variant->workers, CASE_MEMCG_ENOMEM);
}

TEST_F(strict, guard_region)
{
	void *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ret, err;

	ASSERT_NE(MAP_FAILED, p);
	ret = madvise(p, page, MADV_GUARD_INSTALL);
	err = errno;
	munmap(p, 2 * page);
	if (ret)
		SKIP(return, "MADV_GUARD_INSTALL: %s (guard regions came with "
		     "Linux 6.13)", strerror(err));
	run_case(_metadata, self, variant->workers, CASE_GUARD_REGION);
}

TEST_F(strict, no_failure)
{
	run_case(_metadata, self, variant->workers, CASE_NO_FAILURE);
}

int main(int argc, char **argv)
{
	diff_prefault();
	return test_harness_run(argc, argv);
}
