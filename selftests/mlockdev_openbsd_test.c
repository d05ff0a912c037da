// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev_openbsd_test - MLOCKDEV_LOCK_OPENBSD (issue 11): LOCK_ALL_EX and
 * UNLOCK_ALL_EX with OpenBSD's mlockall(2)/munlockall(2) rules, scenario
 * by scenario, each expectation taken from OpenBSD's code and citing the
 * line it comes from: sys/uvm/uvm_mmap.c 1.203 and sys/uvm/uvm_map.c 1.346
 * (uvm_pdaemon.c 1.148 for the ceiling's default).
 *
 * OpenBSD's order (sys_mlockall(), uvm_map_pageable_all()):
 *
 *   uvm_mmap.c:901-903   flags 0, or a bit outside MCL_CURRENT|MCL_FUTURE:
 *                        EINVAL (so MCL_ONFAULT is EINVAL)
 *   uvm_mmap.c:905-908   no privilege check where pmap_wired_count exists
 *                        (amd64)
 *   uvm_map.c:2336-2337  MCL_FUTURE recorded, before any limit
 *   uvm_map.c:2338-2341  MCL_FUTURE alone: done
 *   uvm_map.c:2347-2353  size: every entry not wired and not a hole,
 *                        PROT_NONE ones included
 *   uvm_map.c:2355-2357  size + wired pages over uvmexp.wiredmax: ENOMEM
 *   uvm_map.c:2362-2366  limit != 0 and size + what is wired over it: ENOMEM
 *                        (0 is unchecked; equal fits)
 *   uvm_map.c:2088-2090  PROT_NONE entries are not wired (faulted)
 *   uvm_map.c:2132-2168  a fault that fails undoes the wiring of all (all
 *                        or nothing); MCL_FUTURE stays
 *   uvm_mmap.c:912-914   an error other than ENOMEM becomes EAGAIN
 *   uvm_mmap.c:924-925   munlockall: always 0; uvm_map.c:2327-2331 unwires
 *                        everything and forgets MCL_FUTURE
 *
 * Each scenario runs in a fresh subject process: once through the device
 * in OpenBSD mode, with every expectation checked, and once through
 * Linux's mlockall(2) in the same state, whose result is printed beside
 * it for contrast (not checked).  "Nothing changed" is the lock state of
 * lock_state.c (VMA lock bits, VmLck, KPF_MLOCKED, Mlocked:); "all locked"
 * is every lockable VMA "lo" and VmLck their sum.  The ceiling
 * (uvmexp.wiredmax) is the module parameter openbsd_wiredmax_mb against
 * meminfo Mlocked:, "wired" is VmLck (Documentation/modes.rst).
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
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/mlockdev.h>

#include "kselftest.h"
#include "invariants.h"
#include "lock_state.h"
#include "memcg_limit.h"
#include "residency_common.h"

#define DEV_PATH	"/dev/" MLOCKDEV_DEVICE_NAME
#define WIREDMAX_PARAM	"/sys/module/mlockdev/parameters/openbsd_wiredmax_mb"

/* Set-up of a scenario, before its call. */
#define S_NOCAP		(1u << 0)	/* CAP_IPC_LOCK dropped */
#define S_LIMIT_ZERO	(1u << 1)	/* RLIMIT_MEMLOCK 0 */
#define S_LIMIT_BELOW	(1u << 2)	/* one page under size + VmLck */
#define S_LIMIT_EXACT	(1u << 3)	/* exactly size + VmLck */
#define S_LIMIT_NO_NONE	(1u << 4)	/* size + VmLck without PROT_NONE */
#define S_PROT_NONE	(1u << 5)	/* a 16-page PROT_NONE mapping */
#define S_PAST_EOF	(1u << 6)	/* a shared file mapping past EOF */
#define S_MEMCG		(1u << 7)	/* 32 MiB in a memcg 8 MiB from its limit */
#define S_CEILING	(1u << 8)	/* openbsd_wiredmax_mb just over Mlocked */
#define S_BIG		(1u << 9)	/* 16 MiB more to lock */
#define S_FUTURE_FIRST	(1u << 10)	/* mlockall(MCL_FUTURE) first */
#define S_LOCKED_FIRST	(1u << 11)	/* mlockall(MCL_CURRENT|MCL_FUTURE) first */
#define S_UNLOCK	(1u << 12)	/* the call is munlockall() */

/* What must hold after the OpenBSD-mode call. */
#define P_UNCHANGED	(1u << 0)	/* lock state as before, nothing faulted */
#define P_ALL_LOCKED	(1u << 1)	/* every lockable VMA lo, not lf */
#define P_FUTURE	(1u << 2)	/* a new mapping comes out locked */
#define P_NO_FUTURE	(1u << 3)	/* ... does not */
#define P_ROLLED_BACK	(1u << 4)	/* lock state as before; VMA named */
#define P_NONE_UNFAULTED (1u << 5)	/* the PROT_NONE VMA lo, nothing present */
#define P_NOTHING_LOCKED (1u << 6)	/* VmLck 0, no lo VMA */

struct scenario {
	const char *name;
	const char *call;		/* as a reader would write it */
	int flags;			/* MCL_* of the call */
	unsigned int setup;
	int want;			/* errno OpenBSD gives, 0 for success */
	unsigned int post;
	const char *openbsd;		/* what OpenBSD does, and where */
};

static const struct scenario scenarios[] = {
	{ "flags_0", "mlockall(0)", 0, 0, EINVAL, P_UNCHANGED | P_NO_FUTURE,
	  "EINVAL: flags 0 (uvm_mmap.c:901-903)" },
	{ "flags_onfault", "mlockall(ONFAULT)", MCL_ONFAULT, 0, EINVAL,
	  P_UNCHANGED | P_NO_FUTURE,
	  "EINVAL: MCL_ONFAULT is outside CURRENT|FUTURE (uvm_mmap.c:901-903)" },
	{ "flags_current_onfault", "mlockall(CUR|ONFAULT)",
	  MCL_CURRENT | MCL_ONFAULT, 0, EINVAL, P_UNCHANGED | P_NO_FUTURE,
	  "EINVAL: any bit outside CURRENT|FUTURE (uvm_mmap.c:901-903)" },
	{ "flags_unknown_bit", "mlockall(CUR|FUT|8)",
	  MCL_CURRENT | MCL_FUTURE | 8, 0, EINVAL, P_UNCHANGED | P_NO_FUTURE,
	  "EINVAL, before MCL_FUTURE is recorded (uvm_mmap.c:901-903)" },
	{ "limit_zero_nocap", "mlockall(CUR)", MCL_CURRENT,
	  S_LIMIT_ZERO | S_NOCAP, 0, P_ALL_LOCKED,
	  "0: no privilege check on amd64 (uvm_mmap.c:905-908), limit 0 is "
	  "not checked (uvm_map.c:2362)" },
	{ "limit_below_nocap", "mlockall(CUR)", MCL_CURRENT,
	  S_LIMIT_BELOW | S_NOCAP, ENOMEM, P_UNCHANGED,
	  "ENOMEM: size + wired > limit (uvm_map.c:2362-2366)" },
	{ "limit_exact_nocap", "mlockall(CUR)", MCL_CURRENT,
	  S_LIMIT_EXACT | S_NOCAP, 0, P_ALL_LOCKED,
	  "0: size + wired == limit is not over it (uvm_map.c:2362-2363)" },
	{ "limit_below_cap", "mlockall(CUR)", MCL_CURRENT, S_LIMIT_BELOW,
	  ENOMEM, P_UNCHANGED,
	  "ENOMEM: no privilege lifts the limit (uvm_map.c:2362-2366)" },
	{ "ceiling", "mlockall(CUR)", MCL_CURRENT, S_CEILING | S_BIG, ENOMEM,
	  P_UNCHANGED,
	  "ENOMEM: size + wired pages > wiredmax, checked first "
	  "(uvm_map.c:2355-2357; wiredmax a third of RAM, uvm_pdaemon.c:189)" },
	{ "ceiling_keeps_future", "mlockall(CUR|FUT)",
	  MCL_CURRENT | MCL_FUTURE, S_CEILING | S_BIG, ENOMEM,
	  P_UNCHANGED | P_FUTURE,
	  "ENOMEM, and MCL_FUTURE stays: recorded before the checks "
	  "(uvm_map.c:2336-2337, 2355-2357)" },
	{ "limit_keeps_future", "mlockall(CUR|FUT)", MCL_CURRENT | MCL_FUTURE,
	  S_LIMIT_BELOW, ENOMEM, P_UNCHANGED | P_FUTURE,
	  "ENOMEM, and MCL_FUTURE stays (uvm_map.c:2336-2337, 2362-2366)" },
	{ "future_alone", "mlockall(FUT)", MCL_FUTURE, 0, 0,
	  P_UNCHANGED | P_FUTURE,
	  "0: MCL_FUTURE recorded, nothing wired now (uvm_map.c:2336-2341)" },
	{ "current_keeps_future", "FUT; mlockall(CUR)", MCL_CURRENT,
	  S_FUTURE_FIRST, 0, P_ALL_LOCKED | P_FUTURE,
	  "0, MCL_FUTURE stays: only flags 0 (munlockall) clears it "
	  "(uvm_map.c:2327-2341)" },
	{ "populate_fails_eagain", "mlockall(CUR|FUT)",
	  MCL_CURRENT | MCL_FUTURE, S_PAST_EOF, EAGAIN,
	  P_ROLLED_BACK | P_FUTURE,
	  "EAGAIN: a fault fails, the wiring of all is undone "
	  "(uvm_map.c:2132-2168, uvm_mmap.c:912-914); MCL_FUTURE stays" },
	{ "populate_enomem", "mlockall(CUR)", MCL_CURRENT, S_MEMCG, ENOMEM,
	  P_ROLLED_BACK | P_NO_FUTURE,
	  "ENOMEM stays ENOMEM (uvm_mmap.c:912-914), all undone "
	  "(uvm_map.c:2132-2168)" },
	{ "munlockall", "CUR|FUT; munlockall()", 0,
	  S_LOCKED_FIRST | S_UNLOCK, 0, P_NOTHING_LOCKED | P_NO_FUTURE,
	  "0, all unwired, MCL_FUTURE forgotten (uvm_mmap.c:924-925, "
	  "uvm_map.c:2327-2331)" },
	{ "munlockall_nothing_locked", "munlockall()", 0, S_UNLOCK, 0,
	  P_NOTHING_LOCKED | P_NO_FUTURE,
	  "0, always (uvm_mmap.c:924-925)" },
	{ "prot_none_counted", "mlockall(CUR)", MCL_CURRENT,
	  S_PROT_NONE | S_LIMIT_NO_NONE | S_NOCAP, ENOMEM, P_UNCHANGED,
	  "ENOMEM: PROT_NONE counts in size, only wired entries and holes "
	  "do not (uvm_map.c:2347-2353)" },
	{ "prot_none_not_faulted", "mlockall(CUR)", MCL_CURRENT, S_PROT_NONE,
	  0, P_ALL_LOCKED | P_NONE_UNFAULTED,
	  "0: PROT_NONE entries are skipped when wiring "
	  "(uvm_map.c:2088-2090, 2121-2123)" },
};

#define NR_SCENARIOS	((int)ARRAY_SIZE(scenarios))

/* What a subject sends back. */
struct outcome {
	int32_t done;		/* the subject got as far as the call */
	int32_t err;		/* errno of the call, 0 on success */
	int32_t failed;		/* post-conditions that do not hold */
	char why[200];		/* the first of them, or a set-up error */
};

static struct diff_snapshot before, after, scratch;
static long page;
static int dev_fd = -1;

/* ------------------------------------------------------------------ */
/* The subject                                                         */

static struct outcome out;

static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	if (!out.failed++) {
		va_start(ap, fmt);
		vsnprintf(out.why, sizeof(out.why), fmt, ap);
		va_end(ap);
	}
}

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

/* The call, in OpenBSD mode through the device or as Linux's syscall. */
static int do_call(bool openbsd, bool unlock, int flags,
		   struct mlockdev_report *report)
{
	struct mlockdev_unlockall_ex ua;
	struct mlockdev_lockall_ex la;
	int ret;

	if (!openbsd)
		return unlock ? munlockall() : mlockall(flags);
	if (unlock) {
		memset(&ua, 0, sizeof(ua));
		ua.size = sizeof(ua);
		ua.mode_flags = MLOCKDEV_LOCK_OPENBSD;
		ret = ioctl(dev_fd, MLOCKDEV_IOC_UNLOCK_ALL_EX, &ua);
		*report = ua.report;
		return ret;
	}
	memset(&la, 0, sizeof(la));
	la.size = sizeof(la);
	la.flags = (unsigned int)flags;
	la.mode_flags = MLOCKDEV_LOCK_OPENBSD;
	ret = ioctl(dev_fd, MLOCKDEV_IOC_LOCK_ALL_EX, &la);
	*report = la.report;
	return ret;
}

/* Write the stack the subject will use, so that [stack] does not grow. */
static void __attribute__((noinline)) pregrow_stack(void)
{
	volatile char area[256 * 1024];
	size_t i;

	for (i = 0; i < sizeof(area); i += 1024)
		area[i] = 0;
}

static void check_all_locked(void)
{
	int i;

	for (i = 0; i < after.nvmas; i++) {
		const struct diff_vma *v = &after.vma[i];

		if (ls_lockable(v) && (!v->lo || v->lf)) {
			fail("VMA 0x%" PRIx64 " %s [%s] is not locked",
			     v->start, v->name, v->vmflags);
			return;
		}
	}
	if (after.status[ST_VMLCK] != after.locked_vma_kb)
		fail("VmLck %" PRId64 " kB, lo VMAs %" PRId64 " kB",
		     after.status[ST_VMLCK], after.locked_vma_kb);
}

static void __attribute__((noreturn))
subject(const struct scenario *sc, bool openbsd, int result_fd,
	const struct memcg_limit *cg)
{
	char path[] = "/tmp/mlockdev-openbsd-XXXXXX";
	char *anon, *locked, *none = NULL, *failing = NULL;
	size_t failing_len = 0;
	struct mlockdev_report report;
	struct ls_result res;
	int64_t need_kb, none_kb, base;
	struct rlimit rl;
	long i;
	int fd, ret;

	memset(&out, 0, sizeof(out));
	memset(&report, 0, sizeof(report));
	pregrow_stack();
	anon = mmap(NULL, 16 * page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	locked = mmap(NULL, 8 * page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED || locked == MAP_FAILED || mlock(locked, 8 * page)) {
		fail("set-up: %s", strerror(errno));
		goto send;
	}
	for (i = 0; i < 4; i++)
		anon[i * page] = 1;
	ls_add_map(&before, "anon", anon, 16 * page);
	ls_add_map(&before, "locked", locked, 8 * page);
	if (sc->setup & S_PROT_NONE) {
		none = mmap(NULL, 16 * page, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (none == MAP_FAILED) {
			fail("set-up: mmap PROT_NONE: %s", strerror(errno));
			goto send;
		}
		ls_add_map(&before, "none", none, 16 * page);
	}
	if (sc->setup & S_BIG) {
		char *big = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (big == MAP_FAILED) {
			fail("set-up: mmap 16 MiB: %s", strerror(errno));
			goto send;
		}
		ls_add_map(&before, "big", big, 16 << 20);
	}
	if (sc->setup & S_PAST_EOF) {
		fd = mkstemp(path);
		failing_len = 16 * page;
		if (fd < 0 || unlink(path) || ftruncate(fd, page)) {
			fail("set-up: file: %s", strerror(errno));
			goto send;
		}
		failing = mmap(NULL, failing_len, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, 0);
		close(fd);
	}
	if (sc->setup & S_MEMCG) {
		failing_len = 32 << 20;
		failing = mmap(NULL, failing_len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (failing != MAP_FAILED)
			madvise(failing, failing_len, MADV_NOHUGEPAGE);
	}
	if (failing == MAP_FAILED) {
		fail("set-up: mmap: %s", strerror(errno));
		goto send;
	}
	if (failing)
		ls_add_map(&before, "failing", failing, failing_len);
	memcpy(after.map, before.map, sizeof(before.map));
	after.nmaps = before.nmaps;

	if (sc->setup & (S_FUTURE_FIRST | S_LOCKED_FIRST)) {
		int first = sc->setup & S_FUTURE_FIRST ? MCL_FUTURE :
				MCL_CURRENT | MCL_FUTURE;

		if (do_call(openbsd, false, first, &report)) {
			fail("set-up: the first mlockall(0x%x): %s", first,
			     strerror(errno));
			goto send;
		}
	}

	need_kb = ls_unlocked_kb(&scratch, false, &none_kb);
	if (need_kb < 0) {
		fail("set-up: smaps: %s", scratch.error);
		goto send;
	}
	if (inv_settle()) {
		fail("set-up: stat_refresh: %s", strerror(errno));
		goto send;
	}
	base = inv_meminfo_kb("Mlocked");
	if (ls_take(&before, base)) {
		fail("set-up: snapshot: %s", before.error);
		goto send;
	}
	need_kb += before.status[ST_VMLCK];

	if ((sc->setup & S_NOCAP) && drop_ipc_lock()) {
		fail("set-up: capset: %s", strerror(errno));
		goto send;
	}
	rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
	if (sc->setup & S_LIMIT_ZERO)
		rl.rlim_cur = rl.rlim_max = 0;
	if (sc->setup & S_LIMIT_BELOW)
		rl.rlim_cur = rl.rlim_max = need_kb * 1024 - page;
	if (sc->setup & S_LIMIT_EXACT)
		rl.rlim_cur = rl.rlim_max = need_kb * 1024;
	if (sc->setup & S_LIMIT_NO_NONE)
		rl.rlim_cur = rl.rlim_max = (need_kb - none_kb) * 1024;
	if (setrlimit(RLIMIT_MEMLOCK, &rl)) {
		fail("set-up: setrlimit: %s", strerror(errno));
		goto send;
	}
	if ((sc->setup & S_MEMCG) && memcg_limit_enter(cg, 8 << 20)) {
		fail("set-up: memory cgroup: %s", strerror(errno));
		goto send;
	}

	ret = do_call(openbsd, sc->setup & S_UNLOCK, sc->flags, &report);
	out.err = ret ? errno : 0;
	out.done = 1;

	if (sc->setup & S_MEMCG)
		memcg_limit_leave(cg);
	if (!openbsd)
		goto send;
	if (ls_take(&after, base)) {
		fail("snapshot after the call: %s", after.error);
		goto send;
	}
	if (out.err != sc->want)
		fail("errno %d, OpenBSD gives %d", out.err, sc->want);
	if (sc->post & (P_UNCHANGED | P_ROLLED_BACK)) {
		if (ls_compare(sc->name, &before, &after, page, &res))
			fail("the lock state changed (see above)");
		if ((sc->post & P_UNCHANGED) && res.faulted_in)
			fail("%lu test pages were faulted in", res.faulted_in);
	}
	if ((sc->post & P_ROLLED_BACK) &&
	    (report.failed_vma_start != (uintptr_t)failing ||
	     report.failed_vma_end != (uintptr_t)failing + failing_len))
		fail("report names VMA 0x%llx-0x%llx, the failing one is "
		     "0x%lx-0x%lx", (unsigned long long)report.failed_vma_start,
		     (unsigned long long)report.failed_vma_end,
		     (unsigned long)(uintptr_t)failing,
		     (unsigned long)((uintptr_t)failing + failing_len));
	if (sc->post & P_ALL_LOCKED)
		check_all_locked();
	if (sc->post & P_NONE_UNFAULTED) {
		const struct diff_map *m = &after.map[2];
		uint32_t p;

		for (p = 0; !strcmp(m->label, "none") && p < m->npages; p++)
			if (m->page[p] & (PG_PRESENT | PG_RESIDENT)) {
				fail("PROT_NONE page %u was faulted in", p);
				break;
			}
	}
	if ((sc->post & P_NOTHING_LOCKED) &&
	    (after.status[ST_VMLCK] || after.locked_vma_kb))
		fail("VmLck %" PRId64 " kB, lo VMAs %" PRId64 " kB after "
		     "munlockall", after.status[ST_VMLCK], after.locked_vma_kb);
	if ((sc->post & P_FUTURE) && ls_probe_locked(page) != 1)
		fail("MCL_FUTURE is not in force: a new mapping is not locked");
	if ((sc->post & P_NO_FUTURE) && ls_probe_locked(page) != 0)
		fail("MCL_FUTURE is in force: a new mapping is locked");
send:
	if (write(result_fd, &out, sizeof(out)) != sizeof(out))
		_exit(2);
	fflush(stdout);
	_exit(0);
}

/* ------------------------------------------------------------------ */
/* The parent                                                          */

static int run_subject(const struct scenario *sc, bool openbsd,
		       const struct memcg_limit *cg, struct outcome *o)
{
	int fds[2], status;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	if (pipe2(fds, O_CLOEXEC))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		close(fds[0]);
		subject(sc, openbsd, fds[1], cg);
	}
	close(fds[1]);
	if (read(fds[0], o, sizeof(*o)) != sizeof(*o))
		snprintf(o->why, sizeof(o->why), "the subject sent nothing");
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(o->why, sizeof(o->why), "the subject ended with "
			 "status 0x%x", status);
		o->failed++;
	}
	return 0;
}

static const char *errno_text(int err)
{
	static char buf[4][16];
	static int n;

	switch (err) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case EAGAIN: return "EAGAIN";
	case EPERM: return "EPERM";
	case EFAULT: return "EFAULT";
	}
	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "errno %d", err);
	return buf[n];
}

/* openbsd_wiredmax_mb: just over what is mlocked now, or back to 0. */
static int set_ceiling(bool low, char *saved, size_t n)
{
	char buf[32];

	if (!low)
		return rc_write_file(WIREDMAX_PARAM, saved);
	if (rc_read_file(WIREDMAX_PARAM, saved, n))
		return -1;
	saved[strcspn(saved, "\n")] = '\0';
	inv_settle();
	snprintf(buf, sizeof(buf), "%lld",
		 (long long)(inv_meminfo_kb("Mlocked") / 1024 + 2));
	return rc_write_file(WIREDMAX_PARAM, buf);
}

int main(void)
{
	struct mlockdev_version ver;
	struct inv_counters base, now;
	struct outcome o, linux_o;
	struct memcg_limit cg;
	char saved[32], why[256];
	int i, pass = 0;

	page = sysconf(_SC_PAGESIZE);
	ksft_print_header();
	if (geteuid())
		ksft_exit_skip("needs root (capabilities, module parameters, "
			       "kpageflags)\n");
	dev_fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (dev_fd < 0)
		ksft_exit_skip("%s: %s (mlockdev module not loaded?)\n",
			       DEV_PATH, strerror(errno));
	memset(&ver, 0, sizeof(ver));
	if (ioctl(dev_fd, MLOCKDEV_IOC_VERSION, &ver) ||
	    !(ver.features & MLOCKDEV_FEAT_OPENBSD))
		ksft_exit_skip("the module lacks MLOCKDEV_FEAT_OPENBSD\n");
	diff_prefault();
	ksft_set_plan(NR_SCENARIOS);

	ksft_print_msg("OpenBSD mode: each row's expectation is what "
		       "OpenBSD's code gives, with the line it comes from\n");
	ksft_print_msg("%-26s %-22s %-7s %-7s %-7s  %s\n", "scenario", "call",
		       "OpenBSD", "got", "Linux", "OpenBSD's code (uvm_mmap.c "
		       "1.203, uvm_map.c 1.346)");
	for (i = 0; i < NR_SCENARIOS; i++) {
		const struct scenario *sc = &scenarios[i];
		const char *skip = NULL;
		bool ceiling = sc->setup & S_CEILING;

		memset(&cg, 0, sizeof(cg));
		if (sc->setup & S_MEMCG)
			skip = memcg_limit_make(&cg, "mlockdev-openbsd");
		if (!skip && ceiling && set_ceiling(true, saved, sizeof(saved)))
			skip = "cannot set " WIREDMAX_PARAM;
		if (skip) {
			memcg_limit_remove(&cg);
			ksft_print_msg("%-26s %-22s %-7s %-7s %-7s  %s\n",
				       sc->name, sc->call,
				       errno_text(sc->want), "-", "-",
				       sc->openbsd);
			ksft_test_result_skip("%s: %s\n", sc->name, skip);
			continue;
		}
		inv_read(&base, false);
		run_subject(sc, true, &cg, &o);
		run_subject(sc, false, &cg, &linux_o);
		if (ceiling)
			set_ceiling(false, saved, sizeof(saved));
		memcg_limit_remove(&cg);
		inv_read(&now, false);

		ksft_print_msg("%-26s %-22s %-7s %-7s %-7s  %s\n", sc->name,
			       sc->call, errno_text(sc->want),
			       o.done ? errno_text(o.err) : "-",
			       linux_o.done ? errno_text(linux_o.err) : "-",
			       sc->openbsd);
		if (o.failed)
			ksft_print_msg("%-26s   not as OpenBSD: %s\n", sc->name,
				       o.why);
		if (inv_compare(&base, &now, INV_MLOCKED | INV_UNEVICTABLE,
				why, sizeof(why))) {
			ksft_print_msg("%-26s   left behind: %s\n", sc->name,
				       why);
			o.failed++;
		}
		if (!o.done || o.failed) {
			ksft_test_result_fail("%s\n", sc->name);
		} else {
			pass++;
			ksft_test_result_pass("%s\n", sc->name);
		}
	}
	ksft_print_msg("mlockdev-openbsd: scenarios=%d as-openbsd=%d\n",
		       NR_SCENARIOS, pass);
	ksft_finished();
}
