// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev_cap_test - the system-wide cap on mlocked memory for device
 * locks (issue 11): the module parameter max_locked_mb, writable at run
 * time in /sys/module/mlockdev/parameters/.
 *
 *   refuses           a lock that would take meminfo Mlocked: (NR_MLOCK)
 *                     over the cap fails with ENOMEM, through LOCK_ALL and
 *                     LOCK_ALL_EX, is counted in stats/cap_refused, and
 *                     changes nothing (lock state as before, nothing
 *                     faulted in, MCL_FUTURE not left behind); under a cap
 *                     with room it succeeds; what the cap cannot see --
 *                     MCL_ONFAULT, MCL_FUTURE alone, mlockall(2) itself --
 *                     is not refused (Documentation/modes.rst)
 *   race              two processes race for the last pages, round after
 *                     round: the cap has room for one of them and half of
 *                     the other; exactly one must get it, never both
 *
 * The cap is set relative to what is mlocked when the test starts, and
 * put back as it was afterwards.  MLOCKDEV_CAP_ROUNDS sets the rounds of
 * the race (default 20).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
#include "lock_state.h"
#include "residency_common.h"

#define DEV_PATH	"/dev/" MLOCKDEV_DEVICE_NAME
#define CAP_PARAM	"/sys/module/mlockdev/parameters/max_locked_mb"
#define STATS		"/sys/class/misc/" MLOCKDEV_DEVICE_NAME "/stats/"

/* What each process of the race maps, and the refused lock's mapping. */
#define RACE_MB		48
#define BIG_MB		64

static struct diff_snapshot before, after, scratch;
static long page;

static long counter(const char *name)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), STATS "%s", name);
	if (rc_read_file(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

static int set_cap_mb(long mb)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", mb);
	return rc_write_file(CAP_PARAM, buf);
}

/* meminfo Mlocked:, settled, in MiB rounded up. */
static long mlocked_mb(void)
{
	inv_settle();
	return (inv_meminfo_kb("Mlocked") + 1023) / 1024;
}

static int lock_all(int fd, bool ex, int flags)
{
	struct mlockdev_lockall_ex lx;
	struct mlockdev_lockall la;

	if (ex) {
		memset(&lx, 0, sizeof(lx));
		lx.size = sizeof(lx);
		lx.flags = (unsigned int)flags;
		return ioctl(fd, MLOCKDEV_IOC_LOCK_ALL_EX, &lx) ? errno : 0;
	}
	memset(&la, 0, sizeof(la));
	la.flags = (unsigned int)flags;
	return ioctl(fd, MLOCKDEV_IOC_LOCK_ALL, &la) ? errno : 0;
}

FIXTURE(cap) {
	char saved[32];
	int fd;
};

FIXTURE_SETUP(cap)
{
	struct mlockdev_version ver;

	self->saved[0] = '\0';
	self->fd = -1;
	page = sysconf(_SC_PAGESIZE);
	if (geteuid())
		SKIP(return, "needs root (module parameters)");
	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (self->fd < 0)
		SKIP(return, "%s: %s (mlockdev module not loaded?)", DEV_PATH,
		     strerror(errno));
	memset(&ver, 0, sizeof(ver));
	ASSERT_EQ(0, ioctl(self->fd, MLOCKDEV_IOC_VERSION, &ver));
	if (rc_read_file(CAP_PARAM, self->saved, sizeof(self->saved)))
		SKIP(return, "no %s: the module has no system-wide cap",
		     CAP_PARAM);
	self->saved[strcspn(self->saved, "\n")] = '\0';
	if (counter("cap_refused") < 0)
		SKIP(return, "no stats/cap_refused");
}

FIXTURE_TEARDOWN(cap)
{
	if (self->saved[0])
		rc_write_file(CAP_PARAM, self->saved);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * In a child: map BIG_MB, set the cap to leave room for only half of it
 * (the caller's test process sets nothing: the child does, so that it can
 * measure what the call would take first), and check each call.
 */
static int refuses(int fd)
{
	struct ls_result res;
	int64_t want_kb, none_kb, base;
	long refused, mb0, err;
	int failures = 0;
	char *big;
	bool ex;

#define FAIL(fmt, ...)							\
	do {								\
		printf("# refuses: " fmt "\n", ##__VA_ARGS__);		\
		failures++;						\
	} while (0)

	big = mmap(NULL, BIG_MB << 20, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big == MAP_FAILED || madvise(big, BIG_MB << 20, MADV_NOHUGEPAGE))
		return 100;
	ls_add_map(&before, "big", big, BIG_MB << 20);
	memcpy(after.map, before.map, sizeof(before.map));
	after.nmaps = before.nmaps;

	/* What a lock would take: every accessible lockable VMA. */
	want_kb = ls_unlocked_kb(&scratch, true, &none_kb);
	mb0 = mlocked_mb();
	if (want_kb < 0 || set_cap_mb(mb0 + want_kb / 1024 / 2))
		return 101;
	printf("# refuses: Mlocked %ld MiB, a lock would take %lld kB, cap "
	       "%lld MiB\n", mb0, (long long)want_kb,
	       (long long)(mb0 + want_kb / 1024 / 2));

	for (ex = false; ; ex = true) {
		const char *call = ex ? "LOCK_ALL_EX" : "LOCK_ALL";

		inv_settle();
		base = inv_meminfo_kb("Mlocked");
		if (ls_take(&before, base))
			return 102;
		refused = counter("cap_refused");
		err = lock_all(fd, ex, MCL_CURRENT | MCL_FUTURE);
		if (err != ENOMEM)
			FAIL("%s over the cap: %s, expected ENOMEM", call,
			     err ? strerror(err) : "0");
		if (counter("cap_refused") != refused + 1)
			FAIL("%s: stats/cap_refused %ld -> %ld", call, refused,
			     counter("cap_refused"));
		if (ls_take(&after, base))
			return 103;
		if (ls_compare("refuses", &before, &after, page, &res))
			FAIL("%s: the refused call changed the lock state", call);
		if (res.faulted_in)
			FAIL("%s: the refused call faulted in %lu pages", call,
			     res.faulted_in);
		if (ls_probe_locked(page) != 0)
			FAIL("%s: MCL_FUTURE left behind by the refused call",
			     call);
		if (ex)
			break;
	}

	/* Beyond the cap's reach, so not refused (Documentation/modes.rst). */
	err = lock_all(fd, false, MCL_CURRENT | MCL_ONFAULT);
	if (err)
		FAIL("MCL_CURRENT|MCL_ONFAULT under the cap: %s (the cap counts "
		     "only memory a call faults in)", strerror(err));
	munlockall();
	err = lock_all(fd, false, MCL_FUTURE);
	if (err)
		FAIL("MCL_FUTURE alone under the cap: %s", strerror(err));
	munlockall();
	if (mlockall(MCL_CURRENT))
		FAIL("mlockall(2) under the cap: %s (the cap is the device's)",
		     strerror(errno));
	munlockall();

	/* With room: locked. */
	if (set_cap_mb(mlocked_mb() + want_kb / 1024 + 16))
		return 101;
	err = lock_all(fd, true, MCL_CURRENT);
	if (err)
		FAIL("LOCK_ALL_EX with room under the cap: %s", strerror(err));
	else if (rc_status_kb(0, "VmLck") < (long)(BIG_MB << 10))
		FAIL("LOCK_ALL_EX with room: VmLck %ld kB",
		     rc_status_kb(0, "VmLck"));
	fflush(stdout);
	return failures ? 1 : 0;
#undef FAIL
}

TEST_F(cap, refuses_over_the_cap)
{
	struct inv_counters base, now;
	char why[256];
	int status;
	pid_t pid;

	ASSERT_EQ(0, inv_read(&base, false));
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(refuses(self->fd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status 0x%x", status);
	ASSERT_GT(100, WEXITSTATUS(status))
		TH_LOG("set-up %d failed", WEXITSTATUS(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, inv_read(&now, false));
	EXPECT_EQ(0, inv_compare(&base, &now, INV_MLOCKED, why, sizeof(why)))
		TH_LOG("%s", why);
}

/*
 * One racer: map, say how much it would lock, wait for the start, lock.
 * 20 rounds of two take over 30 s (the harness default) on a KASAN
 * kernel under TCG (debug-7.3: killed at 30 s), hence the test timeout.
 */
static void __attribute__((noreturn))
racer(int fd, int report_fd, int go_fd, int done_fd)
{
	int64_t want_kb, none_kb;
	int32_t msg[2];
	char *p, c;

	p = mmap(NULL, RACE_MB << 20, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || madvise(p, RACE_MB << 20, MADV_NOHUGEPAGE))
		_exit(1);
	want_kb = ls_unlocked_kb(&scratch, true, &none_kb);
	msg[0] = (int32_t)want_kb;
	if (write(report_fd, msg, sizeof(msg[0])) != sizeof(msg[0]) ||
	    read(go_fd, &c, 1) != 1)
		_exit(1);
	msg[1] = lock_all(fd, false, MCL_CURRENT);
	if (write(report_fd, &msg[1], sizeof(msg[1])) != sizeof(msg[1]))
		_exit(1);
	/* Hold what we got until the parent has looked. */
	if (read(done_fd, &c, 1) < 0)
		_exit(1);
	_exit(0);
}

TEST_F_TIMEOUT(cap, race_for_the_last_pages, 600)
{
	unsigned long rounds = rc_env_ulong("MLOCKDEV_CAP_ROUNDS", 20), r;
	unsigned long one = 0, none = 0, both = 0;
	struct inv_counters base, now;
	char why[256];
	int i;

	ASSERT_EQ(0, inv_read(&base, false));
	for (r = 0; r < rounds; r++) {
		int report[2][2], go[2], done[2], status;
		int32_t want[2], got[2];
		long refused0, refused1, mb;
		pid_t pid[2];

		ASSERT_EQ(0, pipe(go));
		ASSERT_EQ(0, pipe(done));
		for (i = 0; i < 2; i++) {
			ASSERT_EQ(0, pipe(report[i]));
			fflush(stdout);
			pid[i] = fork();
			ASSERT_LE(0, pid[i]);
			if (!pid[i]) {
				close(go[1]);
				close(done[1]);
				racer(self->fd, report[i][1], go[0], done[0]);
			}
			close(report[i][1]);
		}
		close(go[0]);
		close(done[0]);
		for (i = 0; i < 2; i++)
			ASSERT_EQ(sizeof(want[i]),
				  read(report[i][0], &want[i], sizeof(want[i])));
		/* Room for the larger one and half of the smaller. */
		mb = mlocked_mb() +
		     ((want[0] > want[1] ? want[0] : want[1]) +
		      (want[0] < want[1] ? want[0] : want[1]) / 2) / 1024;
		ASSERT_EQ(0, set_cap_mb(mb));
		refused0 = counter("cap_refused");
		ASSERT_EQ(2, write(go[1], "gg", 2));
		for (i = 0; i < 2; i++)
			ASSERT_EQ(sizeof(got[i]),
				  read(report[i][0], &got[i], sizeof(got[i])));
		refused1 = counter("cap_refused");
		close(done[1]);
		close(go[1]);
		for (i = 0; i < 2; i++) {
			close(report[i][0]);
			waitpid(pid[i], &status, 0);
		}
		ASSERT_EQ(0, rc_write_file(CAP_PARAM, "0"));

		if (!got[0] && !got[1]) {
			both++;
			TH_LOG("round %lu: both got their %d and %d kB under a "
			       "cap of %ld MiB", r, want[0], want[1], mb);
		} else if (got[0] && got[1]) {
			none++;
			TH_LOG("round %lu: neither (%s, %s) under a cap of %ld "
			       "MiB that fits one", r, strerror(got[0]),
			       strerror(got[1]), mb);
		} else {
			one++;
			EXPECT_EQ(ENOMEM, got[0] ? got[0] : got[1]);
			EXPECT_EQ(refused0 + 1, refused1)
				TH_LOG("round %lu: stats/cap_refused", r);
		}
	}
	printf("# race: %lu rounds: exactly one locked %lu, both %lu, "
	       "neither %lu\n", rounds, one, both, none);
	EXPECT_EQ(0UL, both);
	EXPECT_EQ(0UL, none);
	ASSERT_EQ(0, inv_read(&now, false));
	EXPECT_EQ(0, inv_compare(&base, &now, INV_MLOCKED, why, sizeof(why)))
		TH_LOG("%s", why);
}

int main(int argc, char **argv)
{
	diff_prefault();
	return test_harness_run(argc, argv);
}
