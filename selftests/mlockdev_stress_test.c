// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev_stress_test - concurrency and faults around LOCK_ALL and
 * UNLOCK_ALL, through /dev/mlockdev and, as the reference, through
 * mlockall(2)/munlockall(2), with the same assertions for both.
 *
 *   populate_race_*   One thread locks (MCL_CURRENT, then CURRENT|FUTURE,
 *                     then CURRENT|ONFAULT) a large mapping while other
 *                     threads mmap, munmap, mremap, mprotect and touch
 *                     memory, also inside the mapping being populated.
 *                     Every call returns 0; the part of the mapping that
 *                     nobody restructures is resident and PG_mlocked after
 *                     each MCL_CURRENT; once the threads stop, VmLck equals
 *                     the sizes of the `lo` VMAs; after UNLOCK_ALL VmLck
 *                     is 0, no VMA is `lo` and Mlocked is back to baseline.
 *   lock_storm_*      Several threads call LOCK_ALL with every valid flag
 *                     combination and UNLOCK_ALL at once, while another
 *                     touches and maps memory.  Every call returns 0; the
 *                     final state is consistent as above, and the pages of
 *                     a region are PG_mlocked exactly when its VMA is `lo`
 *                     (asserted for the device; the kernel's mlock_count
 *                     can be left unbalanced by such a storm, so for the
 *                     system call the page marks and Mlocked after
 *                     UNLOCK_ALL are reported).
 *   exit_group_*      A thread exits the process (exit_group) while another
 *                     populates a large mapping: the process is reaped
 *                     promptly and Mlocked returns to baseline.
 *   main_exit_*       The main thread exits (only itself) while another
 *                     thread locks: the lock completes, VmLck is consistent,
 *                     and the process ends cleanly.
 *   sigkill_*         SIGKILL while LOCK_ALL(MCL_CURRENT) populates a large
 *                     mapping: waitpid() returns promptly -- well before the
 *                     populate could have finished, by the rate measured --
 *                     and Mlocked returns to baseline.
 *
 * /proc/vmstat unevictable_pgs_stranded and _cleared must not move through
 * the device (reported for the system call).  After every case, with its
 * processes gone, Mlocked:, Unevictable: and the number of KPF_MLOCKED
 * pages are back to where they were before it (invariants.h).
 *
 * Sizes follow from MemTotal and from the rate at which the machine
 * faults in memory, measured at the start, so that one populate takes about
 * MLOCKDEV_STRESS_BUDGET_SECS whatever the kernel and the emulation.
 *
 * Environment (sizes in MiB):
 *   MLOCKDEV_STRESS_BUDGET_SECS seconds one populate should take (10)
 *   MLOCKDEV_STRESS_MB          populate race mapping (the budget's worth,
 *                               16 to min(256, MemTotal/8))
 *   MLOCKDEV_STRESS_KILL_MB     exit_group/SIGKILL mapping
 *                               (min(1024, MemTotal/2)); a quarter of the
 *                               budget's worth, 4 to 64 MiB, is populated
 *                               before the exit or the kill
 *   MLOCKDEV_STRESS_EXIT_MB     main-exit mapping (the budget's worth, 16
 *                               to a quarter of the kill mapping)
 *   MLOCKDEV_STRESS_SECS        lock storm duration in seconds (default 3)
 *   MLOCKDEV_STRESS_THREADS     locking threads of the storm (default 4)
 *   MLOCKDEV_STRESS_KILL_CAP_MS upper bound for "prompt" (default 15000)
 *   MLOCKDEV_STRESS_TIMEOUT     seconds per case before it is killed
 *                               (default 300)
 *   MLOCKDEV_CASES              run only these cases (comma-separated
 *                               names or prefixes, e.g. "sigkill_")
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "invariants.h"
#include "residency_common.h"

static struct {
	size_t race_len;
	size_t kill_len;
	size_t main_exit_len;
	size_t head_len;		/* populated before exit or SIGKILL */
	double fault_mib_s;		/* calibration */
	unsigned long storm_secs;
	unsigned long storm_threads;
	unsigned long kill_cap_ms;
	unsigned long case_timeout;
	unsigned long budget_secs;
} cfg;

static const char *case_name;
static int case_failures;

#define CHECK(cond, fmt, ...)						\
	do {								\
		if (!(cond)) {						\
			ksft_print_msg("%s: FAIL: " fmt "\n", case_name,\
				       ##__VA_ARGS__);			\
			case_failures++;				\
		}							\
	} while (0)

#define NOTE(fmt, ...)	ksft_print_msg("%s: " fmt "\n", case_name, ##__VA_ARGS__)

static const int all_flags[] = {
	MCL_CURRENT, MCL_FUTURE, MCL_CURRENT | MCL_FUTURE,
	MCL_CURRENT | MCL_ONFAULT, MCL_FUTURE | MCL_ONFAULT,
	MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT,
};

static void *map_anon(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* Small pages: a long populate with many fault and signal checks. */
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

struct vm_counters {
	long long stranded, cleared;
};

static void read_vm_counters(struct vm_counters *c)
{
	c->stranded = rc_vmstat("unevictable_pgs_stranded");
	c->cleared = rc_vmstat("unevictable_pgs_cleared");
}

static void check_vm_counters(enum rc_path path, const struct vm_counters *a)
{
	struct vm_counters b;

	read_vm_counters(&b);
	NOTE("vmstat deltas: unevictable_pgs_stranded %+lld, cleared %+lld",
	     b.stranded - a->stranded, b.cleared - a->cleared);
	if (path != RC_DEVICE)
		return;
	CHECK(b.stranded == a->stranded, "unevictable_pgs_stranded moved by %lld",
	      b.stranded - a->stranded);
	CHECK(b.cleared == a->cleared, "unevictable_pgs_cleared moved by %lld",
	      b.cleared - a->cleared);
}

/* Mlocked back to @base within a few seconds; the last value read. */
static long wait_mlocked_at_most(long base)
{
	long kb = -1;
	int i;

	for (i = 0; i < 50; i++) {
		kb = rc_meminfo_kb("Mlocked");
		if (kb <= base)
			break;
		rc_sleep_ms(100);
	}
	return kb;
}

/*
 * A page-level check that the device must pass and the kernel may not:
 * under concurrent lock and unlock calls mm/mlock.c's per-folio
 * mlock_count can end up unbalanced, and munlockall() then leaves a few
 * pages PG_mlocked ("reclaim will fix it").  The device keeps no count and
 * unmarks every page of an unlocked VMA, so for it this is a hard rule;
 * for the system call it is reported.
 */
#define CHECK_DEVICE(path, cond, fmt, ...)				\
	do {								\
		if ((path) == RC_DEVICE)				\
			CHECK(cond, fmt, ##__VA_ARGS__);		\
		else if (!(cond))					\
			NOTE("reference, not asserted: " fmt, ##__VA_ARGS__); \
	} while (0)

/* After UNLOCK_ALL: nothing locked in this process, nothing in the system. */
static void check_all_unlocked(enum rc_path path, long mlocked0, const char *when)
{
	struct rc_locked_vmas lv;
	long kb;

	kb = rc_status_kb(0, "VmLck");
	CHECK(kb == 0, "%s: VmLck %ld kB", when, kb);
	if (!rc_smaps_locked(0, &lv))
		CHECK(!lv.lo_vmas && !lv.lf_vmas, "%s: %lu `lo` and %lu `lf` VMAs left",
		      when, lv.lo_vmas, lv.lf_vmas);
	kb = wait_mlocked_at_most(mlocked0);
	CHECK_DEVICE(path, kb <= mlocked0, "%s: Mlocked %ld kB, baseline %ld kB",
		     when, kb, mlocked0);
}

static void check_consistent(const char *when)
{
	char why[256];

	if (rc_check_vmlck(0, why, sizeof(why)))
		CHECK(0, "%s: %s", when, why);
}

/* ------------------------------------------------------------------ */
/* Memory churn: the other threads of the populate race and the storm  */

#define CHURN_SLOTS	16

struct churn {
	pthread_t thread;
	atomic_bool *stop;
	unsigned int seed;
	/* Touched by page faults only: never restructured. */
	char *stable;
	size_t stable_len;
	/* Unmapped, remapped and mprotected in chunks; never touched. */
	char *churn;
	size_t churn_len;
	unsigned long ops;
	unsigned long errors;
	char first_error[128];
};

struct slot {
	char *p;
	size_t len;
	bool touchable;		/* no part of it PROT_NONE or read-only */
	bool whole;		/* one VMA: mremap may grow it */
};

static void churn_error(struct churn *c, const char *what, int err)
{
	if (!c->errors++)
		snprintf(c->first_error, sizeof(c->first_error), "%s: %s", what,
			 strerror(err));
}

static void touch(char *p, size_t len)
{
	size_t ps = rc_page_size(), off;

	for (off = 0; off < len; off += ps)
		p[off]++;
}

static void churn_slot(struct churn *c, struct slot *s)
{
	size_t ps = rc_page_size();
	unsigned int r = rand_r(&c->seed);
	size_t npages, first, n;
	void *q;

	if (!s->p) {
		npages = 1 + r % 32;
		s->p = mmap(NULL, npages * ps, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (s->p == MAP_FAILED) {
			s->p = NULL;
			churn_error(c, "mmap", errno);
			return;
		}
		s->len = npages * ps;
		s->touchable = true;
		s->whole = true;
		touch(s->p, s->len);
		return;
	}
	npages = s->len / ps;
	first = (r >> 8) % npages;
	n = 1 + (r >> 16) % (npages - first);
	switch (r % 6) {
	case 0:		/* unmap it all */
		if (munmap(s->p, s->len))
			churn_error(c, "munmap", errno);
		s->p = NULL;
		break;
	case 1:		/* punch a hole (a split), then drop the tail */
		if (first == 0 || first + n >= npages)
			break;
		if (munmap(s->p + first * ps, n * ps))
			churn_error(c, "munmap part", errno);
		if (munmap(s->p + (first + n) * ps, (npages - first - n) * ps))
			churn_error(c, "munmap tail", errno);
		s->len = first * ps;
		break;
	case 2:		/* make part of it inaccessible or read-only */
		if (mprotect(s->p + first * ps, n * ps,
			     (r >> 24) & 1 ? PROT_NONE : PROT_READ))
			churn_error(c, "mprotect", errno);
		s->touchable = false;
		s->whole = s->whole && first == 0 && n == npages;
		break;
	case 3:		/* all of it writable again */
		if (mprotect(s->p, s->len, PROT_READ | PROT_WRITE))
			churn_error(c, "mprotect rw", errno);
		else
			s->touchable = true;
		break;
	case 4:		/* grow it, maybe moving it */
		if (!s->whole || s->len > 256 * ps)
			break;
		q = mremap(s->p, s->len, s->len * 2, MREMAP_MAYMOVE);
		if (q == MAP_FAILED) {
			churn_error(c, "mremap", errno);
			break;
		}
		s->p = q;
		s->len *= 2;
		break;
	default:	/* fault it in */
		if (s->touchable)
			touch(s->p, s->len);
		break;
	}
}

/*
 * Replace a chunk of this thread's stripe of the churned region, or flip
 * its protection.  The replacement is one MAP_FIXED mmap, which unmaps and
 * maps under one mmap lock: a munmap() followed by mmap() would leave a
 * hole in which another thread's slot mmap() could land, only to be
 * clobbered by the MAP_FIXED that follows.
 */
#define CHURN_CHUNK_PAGES	16

static void churn_region(struct churn *c)
{
	size_t chunk = CHURN_CHUNK_PAGES * rc_page_size();
	unsigned int r = rand_r(&c->seed);
	char *p = c->churn + (r % (c->churn_len / chunk)) * chunk;
	void *q;

	switch ((r >> 20) % 2) {
	case 0:
		q = mmap(p, chunk, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (q == MAP_FAILED)
			churn_error(c, "mmap fixed", errno);
		break;
	default:
		if (mprotect(p, chunk, (r >> 24) & 1 ? PROT_READ :
						PROT_READ | PROT_WRITE))
			churn_error(c, "mprotect chunk", errno);
		break;
	}
}

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	struct slot slots[CHURN_SLOTS] = { 0 };
	size_t ps = rc_page_size();
	int i;

	while (!atomic_load(c->stop)) {
		unsigned int r = rand_r(&c->seed);

		if (c->churn && r % 4 == 0)
			churn_region(c);
		else if (c->stable && r % 4 == 1)
			/* A fault racing with the populate of the same VMA. */
			c->stable[((r >> 4) % (c->stable_len / ps)) * ps]++;
		else
			churn_slot(c, &slots[(r >> 4) % CHURN_SLOTS]);
		c->ops++;
	}
	for (i = 0; i < CHURN_SLOTS; i++)
		if (slots[i].p)
			munmap(slots[i].p, slots[i].len);
	return NULL;
}

static int start_churn(struct churn *c, int n, atomic_bool *stop, char *stable,
		       size_t stable_len, char *churn, size_t churn_len)
{
	/* Each thread churns a stripe of its own: no two touch one chunk. */
	size_t chunk = CHURN_CHUNK_PAGES * rc_page_size();
	size_t stripe = churn_len / n / chunk * chunk;
	int i, err;

	if (churn && !stripe)
		return EINVAL;

	for (i = 0; i < n; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].stop = stop;
		c[i].seed = 0x5eed + i;
		c[i].stable = stable;
		c[i].stable_len = stable_len;
		c[i].churn = churn ? churn + i * stripe : NULL;
		c[i].churn_len = stripe;
		err = pthread_create(&c[i].thread, NULL, churn_thread, &c[i]);
		if (err)
			return err;
	}
	return 0;
}

static void stop_churn(struct churn *c, int n, atomic_bool *stop)
{
	unsigned long ops = 0;
	int i;

	atomic_store(stop, true);
	for (i = 0; i < n; i++) {
		pthread_join(c[i].thread, NULL);
		ops += c[i].ops;
		CHECK(!c[i].errors, "churn thread %d: %lu unexpected errors, first %s",
		      i, c[i].errors, c[i].first_error);
	}
	NOTE("churn threads: %lu operations", ops);
}

/* ------------------------------------------------------------------ */
/* Case: populate races with mmap/munmap/mprotect/touch                */

#define RACE_THREADS	3

static void check_stable_locked(const char *when, char *p, size_t len)
{
	struct rc_residency r;

	if (rc_residency(0, p, len, &r)) {
		CHECK(0, "%s: pagemap unreadable", when);
		return;
	}
	CHECK(r.present == r.pages, "%s: %lu of %lu pages of the stable half present",
	      when, r.present, r.pages);
	if (r.have_kpageflags)
		CHECK(r.mlocked == r.present,
		      "%s: %lu of %lu present pages of the stable half PG_mlocked",
		      when, r.mlocked, r.present);
}

static int case_populate_race(enum rc_path path)
{
	static const int seq[] = {
		MCL_CURRENT, MCL_CURRENT | MCL_FUTURE, MCL_CURRENT | MCL_ONFAULT,
	};
	size_t len = cfg.race_len, half = len / 2;
	struct churn churn[RACE_THREADS];
	atomic_bool stop = false;
	struct vm_counters vc;
	long mlocked0;
	unsigned int i;
	char *big;
	int err;

	read_vm_counters(&vc);
	mlocked0 = rc_meminfo_kb("Mlocked");
	big = map_anon(len, PROT_READ | PROT_WRITE);
	if (!big) {
		NOTE("mmap %zu MiB: %s", len / RC_MIB, strerror(errno));
		return KSFT_FAIL;
	}
	err = start_churn(churn, RACE_THREADS, &stop, big, half, big + half, half);
	if (err) {
		NOTE("pthread_create: %s", strerror(err));
		return KSFT_FAIL;
	}
	rc_sleep_ms(20);

	for (i = 0; i < ARRAY_SIZE(seq); i++) {
		double t0 = rc_now();
		char when[64];

		err = rc_lockall(path, seq[i]);
		snprintf(when, sizeof(when), "LOCK_ALL(0x%x)", seq[i]);
		NOTE("%s of %zu MiB with %d threads churning: %s, %.2f s", when,
		     len / RC_MIB, RACE_THREADS, err ? strerror(err) : "0",
		     rc_now() - t0);
		CHECK(!err, "%s: %s", when, strerror(err));
		if (!(seq[i] & MCL_ONFAULT))
			check_stable_locked(when, big, half);
		if (i == 0) {
			/* An unlock racing too, before the next lock. */
			err = rc_unlockall(path);
			CHECK(!err, "UNLOCK_ALL: %s", strerror(err));
		}
	}
	stop_churn(churn, RACE_THREADS, &stop);
	check_consistent("threads stopped");

	err = rc_unlockall(path);
	CHECK(!err, "UNLOCK_ALL: %s", strerror(err));
	check_all_unlocked(path, mlocked0, "after UNLOCK_ALL");
	munmap(big, len);
	check_vm_counters(path, &vc);
	return case_failures ? KSFT_FAIL : KSFT_PASS;
}

/* ------------------------------------------------------------------ */
/* Case: lock/unlock storm from several threads                        */

struct storm {
	pthread_t thread;
	enum rc_path path;
	atomic_bool *stop;
	unsigned int seed;
	unsigned long locks, unlocks, errors;
	int first_err, first_flags;
};

static void *storm_thread(void *arg)
{
	struct storm *s = arg;

	while (!atomic_load(s->stop)) {
		unsigned int r = rand_r(&s->seed) % (ARRAY_SIZE(all_flags) + 2);
		int err, flags = -1;

		if (r < ARRAY_SIZE(all_flags)) {
			flags = all_flags[r];
			err = rc_lockall(s->path, flags);
			s->locks++;
		} else {
			err = rc_unlockall(s->path);
			s->unlocks++;
		}
		if (err && !s->errors++) {
			s->first_err = err;
			s->first_flags = flags;
		}
	}
	return NULL;
}

/* PG_mlocked pages of a region exactly when its VMA is locked. */
static void check_region_marks(enum rc_path path, const char *when, char *p,
			       size_t len)
{
	struct rc_residency r;
	char line[1024], flags[1024] = "";
	unsigned long start, end, a = (unsigned long)p;
	bool in = false, lo;
	FILE *f;

	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3) {
			if (in)
				break;
			in = a >= start && a < end;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8))
			snprintf(flags, sizeof(flags), "%s", line + 8);
	}
	fclose(f);
	lo = strstr(flags, " lo") != NULL;
	if (rc_residency(0, p, len, &r) || !r.have_kpageflags)
		return;
	NOTE("%s: region %s: %lu pages present, %lu PG_mlocked", when,
	     lo ? "`lo`" : "not locked", r.present, r.mlocked);
	if (lo)
		CHECK_DEVICE(path, r.mlocked == r.present,
			     "%s: locked region has %lu present pages but %lu PG_mlocked",
			     when, r.present, r.mlocked);
	else
		CHECK_DEVICE(path, r.mlocked == 0,
			     "%s: unlocked region has %lu PG_mlocked pages",
			     when, r.mlocked);
}

static int case_lock_storm(enum rc_path path)
{
	size_t len = cfg.race_len / 4;
	unsigned long n = cfg.storm_threads, i, locks = 0, unlocks = 0;
	struct storm *st = calloc(n, sizeof(*st));
	struct churn churn;
	atomic_bool stop = false, stop_churning = false;
	struct vm_counters vc;
	long mlocked0;
	char *region;
	int err;

	if (!st)
		return KSFT_FAIL;
	read_vm_counters(&vc);
	mlocked0 = rc_meminfo_kb("Mlocked");
	region = map_anon(len, PROT_READ | PROT_WRITE);
	if (!region) {
		NOTE("mmap: %s", strerror(errno));
		return KSFT_FAIL;
	}
	/* Half present before the storm, half left to the populates. */
	rc_fill(region, len / 2, 7);

	err = start_churn(&churn, 1, &stop_churning, region, len, NULL, 0);
	if (err) {
		NOTE("pthread_create: %s", strerror(err));
		return KSFT_FAIL;
	}
	for (i = 0; i < n; i++) {
		st[i].path = path;
		st[i].stop = &stop;
		st[i].seed = 0xabc + i;
		err = pthread_create(&st[i].thread, NULL, storm_thread, &st[i]);
		if (err) {
			NOTE("pthread_create: %s", strerror(err));
			return KSFT_FAIL;
		}
	}
	rc_sleep_ms(cfg.storm_secs * 1000);
	atomic_store(&stop, true);
	for (i = 0; i < n; i++) {
		pthread_join(st[i].thread, NULL);
		locks += st[i].locks;
		unlocks += st[i].unlocks;
		CHECK(!st[i].errors,
		      "thread %lu: %lu calls failed, first %s (flags 0x%x; -1: UNLOCK_ALL)",
		      i, st[i].errors, strerror(st[i].first_err), st[i].first_flags);
	}
	stop_churn(&churn, 1, &stop_churning);
	NOTE("%lu threads, %lu s: %lu LOCK_ALL and %lu UNLOCK_ALL calls", n,
	     cfg.storm_secs, locks, unlocks);
	check_consistent("after the storm");
	check_region_marks(path, "after the storm", region, len);

	/* One more full lock: everything lockable is locked and counted. */
	err = rc_lockall(path, MCL_CURRENT);
	CHECK(!err, "LOCK_ALL(MCL_CURRENT): %s", strerror(err));
	check_consistent("after a final MCL_CURRENT");
	check_region_marks(path, "after a final MCL_CURRENT", region, len);

	err = rc_unlockall(path);
	CHECK(!err, "UNLOCK_ALL: %s", strerror(err));
	check_all_unlocked(path, mlocked0, "after UNLOCK_ALL");
	check_region_marks(path, "after UNLOCK_ALL", region, len);
	munmap(region, len);
	free(st);
	check_vm_counters(path, &vc);
	return case_failures ? KSFT_FAIL : KSFT_PASS;
}

/* ------------------------------------------------------------------ */
/* Victims: a process populating a large mapping                       */

/*
 * Wait until process @pid has populated at least @bytes more than
 * @rss0_kb (in kB of VmRSS), or until @deadline.  Return the RSS reached,
 * and the populate rate seen between half way and the end (MiB/s).
 */
static long wait_rss(pid_t pid, long rss0_kb, size_t bytes, double deadline,
		     double *rate)
{
	long target = rss0_kb + (long)(bytes / 1024), mid = rss0_kb + (long)(bytes / 2048);
	double t_mid = 0;
	long kb = -1, kb_mid = 0;

	*rate = 0;
	while (rc_now() < deadline) {
		kb = rc_status_kb(pid, "VmRSS");
		if (kb < 0)
			return -1;
		if (!t_mid && kb >= mid) {
			t_mid = rc_now();
			kb_mid = kb;
		}
		if (kb >= target) {
			double dt = rc_now() - t_mid;

			if (t_mid && dt > 0)
				*rate = (kb - kb_mid) / 1024.0 / dt;
			return kb;
		}
		rc_sleep_ms(2);
	}
	return kb;
}

/* How much populating to see before acting: 1/8 of the mapping at most. */
static size_t head_start(size_t len)
{
	size_t b = len / 8;

	return b > cfg.head_len ? cfg.head_len : b;
}

/*
 * The bound for "promptly": half the time the rest of the populate would
 * have taken at the rate measured (a populate that ignores the signal
 * takes all of it), at least 0.5 s, at most the cap.
 */
static double prompt_bound(size_t len, long rss_kb, long rss0_kb, double rate)
{
	double rest = 0, bound;

	if (rate > 0)
		rest = (len / 1024.0 - (rss_kb - rss0_kb)) / 1024.0 / rate;
	bound = rest / 2;
	if (bound < 0.5)
		bound = 0.5;
	if (bound > cfg.kill_cap_ms / 1000.0)
		bound = cfg.kill_cap_ms / 1000.0;
	NOTE("populate rate %.0f MiB/s: the rest would take %.2f s; bound %.2f s",
	     rate, rest, bound);
	if (rest < 2 * bound)
		NOTE("warning: populate too fast here to tell a prompt stop from a full one (rest %.2f s)",
		     rest);
	return bound;
}

struct victim_arg {
	enum rc_path path;
	int fd;			/* write end of the report pipe */
};

static void *locker_then_exit(void *arg)
{
	struct victim_arg *va = arg;
	char why[256];
	int err, code = 0;

	err = rc_lockall(va->path, MCL_CURRENT);
	if (err)
		code = 1;
	else if (rc_check_vmlck(RC_THREAD_SELF, why, sizeof(why)))
		code = 2;
	/* The last thread: this ends the process. */
	_exit(code);
}

static void *locker(void *arg)
{
	struct victim_arg *va = arg;
	char c;

	c = (char)rc_lockall(va->path, MCL_CURRENT);
	if (write(va->fd, "L", 1) != 1 || write(va->fd, &c, 1) != 1)
		_exit(3);
	return NULL;
}

enum victim_kind { V_SIGKILL, V_EXIT_GROUP, V_MAIN_EXIT };

/*
 * The process under test.  Maps @len bytes and locks them from a thread
 * (V_SIGKILL: from the main thread) after telling the parent "S" on @fd.
 *   V_EXIT_GROUP: once a head start is populated, writes "X" and exits the
 *                 whole process from the main thread;
 *   V_MAIN_EXIT:  the main thread exits alone; the locker ends the process
 *                 with 0 (locked, VmLck consistent), 1 or 2.
 */
static void victim(enum victim_kind kind, enum rc_path path, size_t len, int fd)
{
	struct victim_arg va = { .path = path, .fd = fd };
	pthread_t t;
	long rss0;
	char *p;
	double rate;

	p = map_anon(len, PROT_READ | PROT_WRITE);
	if (!p)
		_exit(10);
	rss0 = rc_status_kb(0, "VmRSS");
	if (write(fd, "S", 1) != 1)
		_exit(11);
	switch (kind) {
	case V_SIGKILL:
		locker(&va);
		/* Not killed in time: park until the parent does it. */
		for (;;)
			pause();
	case V_EXIT_GROUP:
		if (pthread_create(&t, NULL, locker, &va))
			_exit(12);
		wait_rss(0, rss0, head_start(len), rc_now() + 600, &rate);
		if (write(fd, "X", 1) != 1)
			_exit(13);
		_exit(42);	/* exit_group(): kills the locker mid-populate */
	case V_MAIN_EXIT:
		if (pthread_create(&t, NULL, locker_then_exit, &va))
			_exit(12);
		wait_rss(0, rss0, head_start(len), rc_now() + 600, &rate);
		syscall(SYS_exit, 0);	/* this thread only */
	}
	_exit(14);
}

static pid_t spawn_victim(enum victim_kind kind, enum rc_path path, size_t len,
			  int *rfd)
{
	int pfd[2];
	pid_t pid;
	char c;

	if (pipe(pfd))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		close(pfd[0]);
		victim(kind, path, len, pfd[1]);
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1 || c != 'S') {
		close(pfd[0]);
		return -1;
	}
	*rfd = pfd[0];
	return pid;
}

static int case_sigkill(enum rc_path path)
{
	size_t len = cfg.kill_len;
	struct vm_counters vc;
	long mlocked0, rss0, rss, vmlck, kb;
	double rate, bound, took;
	int rfd, status;
	pid_t pid;

	read_vm_counters(&vc);
	mlocked0 = rc_meminfo_kb("Mlocked");
	pid = spawn_victim(V_SIGKILL, path, len, &rfd);
	if (pid < 0) {
		NOTE("cannot start the victim: %s", strerror(errno));
		return KSFT_FAIL;
	}
	rss0 = rc_status_kb(pid, "VmRSS");
	rss = wait_rss(pid, rss0, head_start(len), rc_now() + 120, &rate);
	vmlck = rc_status_kb(pid, "VmLck");
	CHECK(rss >= rss0 + (long)(head_start(len) / 1024),
	      "the populate did not get going: VmRSS %ld kB (from %ld kB)", rss, rss0);
	CHECK(vmlck >= (long)(len / 1024),
	      "VmLck %ld kB while populating %zu MiB: not inside LOCK_ALL", vmlck,
	      len / RC_MIB);
	kill(pid, SIGKILL);
	took = rc_reap(pid, &status, 300);
	NOTE("SIGKILL with %ld of %zu MiB populated: reaped after %.3f s",
	     (rss - rss0) / 1024, len / RC_MIB, took);
	bound = prompt_bound(len, rss, rss0, rate);
	CHECK(took >= 0 && took <= bound,
	      "waitpid took %.3f s after SIGKILL (bound %.2f s): the populate did not stop on the fatal signal",
	      took, bound);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "victim ended with status 0x%x, not by SIGKILL (did LOCK_ALL return?)",
	      status);
	close(rfd);
	kb = wait_mlocked_at_most(mlocked0);
	CHECK(kb <= mlocked0, "Mlocked %ld kB after the reap, baseline %ld kB", kb,
	      mlocked0);
	check_vm_counters(path, &vc);
	return case_failures ? KSFT_FAIL : KSFT_PASS;
}

static int case_exit_group(enum rc_path path)
{
	size_t len = cfg.kill_len;
	struct vm_counters vc;
	long mlocked0, kb;
	int rfd, status;
	double took;
	pid_t pid;
	char c = 0;

	read_vm_counters(&vc);
	mlocked0 = rc_meminfo_kb("Mlocked");
	pid = spawn_victim(V_EXIT_GROUP, path, len, &rfd);
	if (pid < 0) {
		NOTE("cannot start the victim: %s", strerror(errno));
		return KSFT_FAIL;
	}
	/* "X": the main thread is exiting; "L": the lock finished first. */
	if (read(rfd, &c, 1) != 1)
		c = '?';
	took = rc_reap(pid, &status, 300);
	NOTE("exit_group during the populate of %zu MiB: reaped after %.3f s",
	     len / RC_MIB, took);
	CHECK(c == 'X', "the lock finished before the exit ('%c'): populate too fast to race", c);
	CHECK(took >= 0 && took <= cfg.kill_cap_ms / 1000.0,
	      "exit took %.3f s (bound %lu ms)", took, cfg.kill_cap_ms);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42,
	      "victim ended with status 0x%x, not exit(42)", status);
	close(rfd);
	kb = wait_mlocked_at_most(mlocked0);
	CHECK(kb <= mlocked0, "Mlocked %ld kB after the reap, baseline %ld kB", kb,
	      mlocked0);
	check_vm_counters(path, &vc);
	return case_failures ? KSFT_FAIL : KSFT_PASS;
}

static int case_main_exit(enum rc_path path)
{
	size_t len = cfg.main_exit_len;
	struct vm_counters vc;
	long mlocked0, kb;
	int rfd, status;
	double took;
	pid_t pid;

	read_vm_counters(&vc);
	mlocked0 = rc_meminfo_kb("Mlocked");
	pid = spawn_victim(V_MAIN_EXIT, path, len, &rfd);
	if (pid < 0) {
		NOTE("cannot start the victim: %s", strerror(errno));
		return KSFT_FAIL;
	}
	took = rc_reap(pid, &status, cfg.case_timeout / 2);
	NOTE("main thread exited during the populate of %zu MiB; process ended after %.3f s",
	     len / RC_MIB, took);
	CHECK(took >= 0, "the process did not end (killed after %lu s)",
	      cfg.case_timeout / 2);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "status 0x%x (exit 1: LOCK_ALL failed, 2: VmLck inconsistent)", status);
	close(rfd);
	kb = wait_mlocked_at_most(mlocked0);
	CHECK(kb <= mlocked0, "Mlocked %ld kB after the exit, baseline %ld kB", kb,
	      mlocked0);
	check_vm_counters(path, &vc);
	return case_failures ? KSFT_FAIL : KSFT_PASS;
}

/* ------------------------------------------------------------------ */
/* Running the cases                                                   */

static unsigned long min_ul(unsigned long a, unsigned long b)
{
	return a < b ? a : b;
}

/* @v within [@lo, @hi]; @hi wins over @lo. */
static unsigned long clamp_mb(unsigned long v, unsigned long lo, unsigned long hi)
{
	if (v < lo)
		v = lo;
	return v > hi ? hi : v;
}


struct test_case {
	const char *name;
	int (*fn)(enum rc_path path);
	enum rc_path path;
};

static const struct test_case cases[] = {
	{ "populate_race_device", case_populate_race, RC_DEVICE },
	{ "populate_race_syscall", case_populate_race, RC_SYSCALL },
	{ "lock_storm_device", case_lock_storm, RC_DEVICE },
	{ "lock_storm_syscall", case_lock_storm, RC_SYSCALL },
	{ "exit_group_device", case_exit_group, RC_DEVICE },
	{ "exit_group_syscall", case_exit_group, RC_SYSCALL },
	{ "main_exit_device", case_main_exit, RC_DEVICE },
	{ "main_exit_syscall", case_main_exit, RC_SYSCALL },
	{ "sigkill_device", case_sigkill, RC_DEVICE },
	{ "sigkill_syscall", case_sigkill, RC_SYSCALL },
};

/*
 * Nothing may stay locked once a case's processes are gone (issue 8):
 * Mlocked:, Unevictable: and the KPF_MLOCKED pages of /proc/kpageflags
 * back to where they were before it.  KSFT_FAIL if not, else @ret.
 */
static int check_gone(const struct test_case *tc,
		      const struct inv_counters *before, int ret)
{
	struct inv_counters after;
	char why[512];

	inv_read(&after, true);
	if (!inv_compare(before, &after, INV_GONE, why, sizeof(why)))
		return ret;
	ksft_print_msg("%s: FAIL: with its processes gone: %s\n", tc->name, why);
	return KSFT_FAIL;
}

static int run_case(const struct test_case *tc)
{
	struct inv_counters before;
	double t0 = rc_now();
	int status;
	pid_t pid;

	inv_read(&before, true);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return KSFT_FAIL;
	if (!pid) {
		case_name = tc->name;
		_exit(tc->fn(tc->path));
	}
	if (rc_reap(pid, &status, cfg.case_timeout) < 0) {
		ksft_print_msg("%s: FAIL: still running after %lu s, killed\n",
			       tc->name, cfg.case_timeout);
		return KSFT_FAIL;
	}
	ksft_print_msg("%s: %.1f s\n", tc->name, rc_now() - t0);
	if (WIFSIGNALED(status)) {
		ksft_print_msg("%s: FAIL: killed by signal %d\n", tc->name,
			       WTERMSIG(status));
		return KSFT_FAIL;
	}
	return check_gone(tc, &before, WEXITSTATUS(status));
}

int main(void)
{
	long total_mb = rc_meminfo_kb("MemTotal") / 1024;
	unsigned long budget_mb;
	const char *why = NULL;
	size_t i;
	int err;

	cfg.budget_secs = rc_env_ulong("MLOCKDEV_STRESS_BUDGET_SECS", 10);
	cfg.fault_mib_s = rc_populate_rate();
	/* What this machine faults in within the budget, in MiB. */
	budget_mb = (unsigned long)(cfg.fault_mib_s * cfg.budget_secs);
	cfg.race_len = rc_env_ulong("MLOCKDEV_STRESS_MB",
				    clamp_mb(budget_mb, 16, min_ul(256, total_mb / 8))) * RC_MIB;
	cfg.kill_len = rc_env_ulong("MLOCKDEV_STRESS_KILL_MB",
				    min_ul(1024, total_mb / 2)) * RC_MIB;
	cfg.main_exit_len = rc_env_ulong("MLOCKDEV_STRESS_EXIT_MB",
					 clamp_mb(budget_mb, 16, cfg.kill_len / 4 / RC_MIB)) * RC_MIB;
	cfg.head_len = clamp_mb(budget_mb / 4, 4, 64) * RC_MIB;
	cfg.storm_secs = rc_env_ulong("MLOCKDEV_STRESS_SECS", 3);
	cfg.storm_threads = rc_env_ulong("MLOCKDEV_STRESS_THREADS", 4);
	cfg.kill_cap_ms = rc_env_ulong("MLOCKDEV_STRESS_KILL_CAP_MS", 15000);
	cfg.case_timeout = rc_env_ulong("MLOCKDEV_STRESS_TIMEOUT", 300);

	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(cases));

	if (geteuid())
		why = "needs root (Mlocked baseline via vm.stat_refresh, kpageflags)";
	if (!why) {
		err = rc_device_open();
		if (err == ENOENT)
			why = "mlockdev module not loaded: " RC_DEV_PATH " missing";
		else if (err)
			why = "cannot open " RC_DEV_PATH;
	}
	if (!why)
		ksft_print_msg("MemTotal %ld MiB, faults in %.0f MiB/s: race mapping %zu MiB, kill mapping %zu MiB (%zu MiB populated before the kill), main-exit mapping %zu MiB, storm %lu threads x %lu s\n",
			       total_mb, cfg.fault_mib_s, cfg.race_len / RC_MIB,
			       cfg.kill_len / RC_MIB, head_start(cfg.kill_len) / RC_MIB,
			       cfg.main_exit_len / RC_MIB, cfg.storm_threads,
			       cfg.storm_secs);

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (why) {
			ksft_test_result_skip("%s: %s\n", cases[i].name, why);
			continue;
		}
		if (!rc_case_selected(cases[i].name)) {
			ksft_test_result_skip("%s: not selected by MLOCKDEV_CASES\n",
					      cases[i].name);
			continue;
		}
		ksft_test_result_code(run_case(&cases[i]), cases[i].name, NULL);
	}
	ksft_finished();
}
