// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev_workers_test - parallel populate (issue 12): LOCK_ALL_EX with
 * workers, beyond what the differential families compare (the resulting
 * state equals mlockall(2)'s: mlockdev_diff_ex_test, families workers2,
 * workers7 and workers-auto; a strict failure with workers rolls back:
 * mlockdev_strict_test).
 *
 *   workers_used   report.workers_used says how many threads ran: 2 for
 *                  2; between 2 and 7 for 7; up to one per CPU for AUTO,
 *                  the caller alone under 64 MiB; for workers 0, the
 *                  module parameter populate_workers (set, then put back)
 *   sigkill        SIGKILL to the caller while its workers populate a big
 *                  mapping: the process is reaped promptly (every worker
 *                  stops at its next batch), and once it is gone nothing
 *                  is left mlocked, no worker still faulting: Mlocked: is
 *                  back to its baseline and stays there
 *
 * Sizes follow the machine's populate rate (rc_populate_rate()): the
 * SIGKILL case maps what the caller alone would populate in about two
 * seconds (64 MiB to 1 GiB).  "Promptly" is half the time the rest of the
 * populate would have taken, at least 0.5 s and at most 15 s, as in the
 * stress test's sigkill cases.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/mlockdev.h>

#include "kselftest_harness.h"
#include "invariants.h"
#include "residency_common.h"

#define DEV_PATH	"/dev/" MLOCKDEV_DEVICE_NAME
#define WORKERS_PARAM	"/sys/module/mlockdev/parameters/populate_workers"

static long page;

/* LOCK_ALL_EX(MCL_CURRENT) with @workers: the report, and the errno. */
static int lock_ex(int fd, uint32_t workers, struct mlockdev_report *r)
{
	struct mlockdev_lockall_ex la;
	int ret;

	memset(&la, 0, sizeof(la));
	la.size = sizeof(la);
	la.flags = MCL_CURRENT;
	la.workers = workers;
	ret = ioctl(fd, MLOCKDEV_IOC_LOCK_ALL_EX, &la);
	if (r)
		*r = la.report;
	return ret ? errno : 0;
}

FIXTURE(workers) {
	int fd;
	char saved[32];
	long cpus;
};

FIXTURE_SETUP(workers)
{
	struct mlockdev_version ver;

	self->fd = -1;
	self->saved[0] = '\0';
	page = sysconf(_SC_PAGESIZE);
	self->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (geteuid())
		SKIP(return, "needs root (module parameters, kpageflags)");
	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (self->fd < 0)
		SKIP(return, "%s: %s (mlockdev module not loaded?)", DEV_PATH,
		     strerror(errno));
	memset(&ver, 0, sizeof(ver));
	ASSERT_EQ(0, ioctl(self->fd, MLOCKDEV_IOC_VERSION, &ver));
	if (!(ver.features & MLOCKDEV_FEAT_WORKERS))
		SKIP(return, "the module lacks MLOCKDEV_FEAT_WORKERS");
	if (!rc_read_file(WORKERS_PARAM, self->saved, sizeof(self->saved)))
		self->saved[strcspn(self->saved, "\n")] = '\0';
}

FIXTURE_TEARDOWN(workers)
{
	if (self->saved[0])
		rc_write_file(WORKERS_PARAM, self->saved);
	if (self->fd >= 0)
		close(self->fd);
}

/* @mb of fresh anonymous memory, small pages. */
static char *fresh(size_t mb)
{
	char *p = mmap(NULL, mb << 20, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, mb << 20, MADV_NOHUGEPAGE))
		return NULL;
	return p;
}

/* In a child: map @mb, lock with @workers, exit with workers_used. */
static int used_by(int fd, size_t mb, uint32_t workers, int *err)
{
	struct mlockdev_report r;
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int e;

		if (mb && !fresh(mb))
			_exit(255);
		e = lock_ex(fd, workers, &r);
		_exit(e ? 200 + (e & 31) : (int)r.workers_used);
	}
	waitpid(pid, &status, 0);
	*err = WIFEXITED(status) && WEXITSTATUS(status) >= 200 ?
	       WEXITSTATUS(status) - 200 : 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(workers, workers_used)
{
	int err, n;

	n = used_by(self->fd, 96, 2, &err);
	EXPECT_EQ(2, n) TH_LOG("workers 2: %d threads (%s)", n,
			       err ? strerror(err) : "locked");
	n = used_by(self->fd, 96, 7, &err);
	EXPECT_LE(2, n) TH_LOG("workers 7: %d threads", n);
	EXPECT_GE(7, n) TH_LOG("workers 7: %d threads", n);
	n = used_by(self->fd, 0, MLOCKDEV_WORKERS_AUTO, &err);
	EXPECT_EQ(1, n) TH_LOG("AUTO with a few MiB to fault: %d threads", n);
	n = used_by(self->fd, 160, MLOCKDEV_WORKERS_AUTO, &err);
	EXPECT_LE(1, n);
	EXPECT_GE(self->cpus, n) TH_LOG("AUTO: %d threads on %ld CPUs", n,
					self->cpus);
	if (self->cpus >= 2) {
		EXPECT_LE(2, n) TH_LOG("AUTO, 160 MiB, %ld CPUs: %d threads",
				       self->cpus, n);
	}

	/* workers 0: as the system call, unless the parameter says. */
	if (!self->saved[0])
		SKIP(return, "no %s", WORKERS_PARAM);
	ASSERT_EQ(0, rc_write_file(WORKERS_PARAM, "0"));
	n = used_by(self->fd, 96, MLOCKDEV_WORKERS_SYSCALL, &err);
	EXPECT_EQ(1, n) TH_LOG("workers 0, populate_workers=0: %d threads", n);
	ASSERT_EQ(0, rc_write_file(WORKERS_PARAM, "2"));
	n = used_by(self->fd, 96, MLOCKDEV_WORKERS_SYSCALL, &err);
	EXPECT_EQ(2, n) TH_LOG("workers 0, populate_workers=2: %d threads", n);
	/* The call's own number wins over the parameter. */
	n = used_by(self->fd, 96, 1, &err);
	EXPECT_EQ(1, n) TH_LOG("workers 1, populate_workers=2: %d threads", n);
}

static void sigkill_case(struct __test_metadata *_metadata, int fd,
			 uint32_t workers)
{
	double rate = rc_populate_rate(), t0, took, bound, left_s;
	size_t mb = rate > 0 ? (size_t)(rate * 2) : 512;
	long rss0, rss, mlocked0, mlocked, later;
	struct inv_counters base, now;
	int status, ready[2];
	char why[256], c;
	pid_t pid;

	if (mb < 64)
		mb = 64;
	if (mb > 1024)
		mb = 1024;
	ASSERT_EQ(0, inv_read(&base, false));
	mlocked0 = base.mlocked_kb;
	ASSERT_EQ(0, pipe(ready));
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(ready[0]);
		if (!fresh(mb))
			_exit(2);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		lock_ex(fd, workers, NULL);
		_exit(0);	/* not reached if the kill comes in time */
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	close(ready[0]);

	/* Let the workers get going: an eighth of the mapping. */
	rss0 = rc_status_kb(pid, "VmRSS");
	t0 = rc_now();
	do {
		rc_sleep_ms(2);
		rss = rc_status_kb(pid, "VmRSS");
	} while (rss >= 0 && rss - rss0 < (long)(mb << 10) / 8 &&
		 rc_now() - t0 < 60);
	ASSERT_LE(0, rss) TH_LOG("the caller is gone before the kill");
	rate = (rss - rss0) / 1024.0 / (rc_now() - t0);
	kill(pid, SIGKILL);
	took = rc_reap(pid, &status, 300);

	/* What the rest would have taken, halved, within [0.5 s, 15 s]. */
	left_s = rate > 0 ? ((double)(mb << 10) - (rss - rss0)) / 1024 / rate : 30;
	bound = left_s / 2;
	if (bound < 0.5)
		bound = 0.5;
	if (bound > 15)
		bound = 15;
	TH_LOG("workers %u: SIGKILL with %ld of %zu MiB populated (%.0f MiB/s): "
	       "reaped after %.3f s (bound %.2f s; the rest would take %.2f s)",
	       workers, (rss - rss0) >> 10, mb, rate, took, bound, left_s);
	EXPECT_TRUE(took >= 0 && took <= bound)
		TH_LOG("the workers did not stop on the caller's fatal signal");
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("status 0x%x: the lock returned before the kill", status);
	if (left_s < 2 * bound)
		TH_LOG("warning: the rest of the populate would take less than "
		       "twice the bound: this machine is too fast to tell");

	/* Nothing left, and no worker still faulting into the dead mm. */
	ASSERT_EQ(0, inv_read(&now, false));
	EXPECT_EQ(0, inv_compare(&base, &now, INV_GONE & ~INV_PFNS, why,
				 sizeof(why)))
		TH_LOG("after the reap: %s", why);
	mlocked = now.mlocked_kb;
	rc_sleep_ms(300);
	inv_settle();
	later = inv_meminfo_kb("Mlocked");
	EXPECT_GE(mlocked0, later)
		TH_LOG("Mlocked %ld kB after the reap, %ld kB 300 ms later "
		       "(baseline %ld kB)", mlocked, later, mlocked0);
}

TEST_F(workers, sigkill_workers2)
{
	sigkill_case(_metadata, self->fd, 2);
}

TEST_F(workers, sigkill_workers_auto)
{
	sigkill_case(_metadata, self->fd, MLOCKDEV_WORKERS_AUTO);
}

TEST_HARNESS_MAIN
