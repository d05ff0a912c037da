// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev_residency_test - locked memory stays resident under memory
 * pressure, through /dev/mlockdev exactly as through mlockall(2).
 *
 * The test sets up swap on a zram device and a cgroup v2 child with the
 * memory controller, and drives reclaim in that cgroup with
 * memory.reclaim.  Each case runs in a child process that joins the cgroup,
 * so a crash in a case never skips the clean-up (swapoff, zram reset,
 * rmdir), which the parent always does, also on SIGTERM.
 *
 * Cases (each through the device, then through the system call as the
 * reference, with the same assertions):
 *
 *   private_*   A region L locked by MCL_CURRENT (half of it written
 *               before the lock, so the lock finds those pages present,
 *               half faulted in by the populate) and a region U mapped
 *               after the lock, unlocked.  Under reclaim all of L stays
 *               resident (pagemap, mincore, smaps Swap:) and sits on the
 *               unevictable list (memory.stat unevictable), while most of
 *               U is swapped out.  After UNLOCK_ALL, Mlocked and the
 *               unevictable list return to their baseline and a second
 *               reclaim swaps out most of L.  Data stay intact throughout.
 *               /proc/vmstat unevictable_pgs_stranded and _cleared do not
 *               move (asserted for the device, reported for the syscall).
 *
 *   shared_*    Two processes map the same memfd (MAP_SHARED) and both
 *               lock it; one unlocks.  Under reclaim the shared pages stay
 *               resident while the other still holds its lock, and become
 *               reclaimable once it unlocks too (semantics item 23).
 *               What Mlocked and KPF_MLOCKED show after the first unlock is
 *               reported, not asserted: the module keeps no per-folio
 *               mlock_count, so the first unlock clears PG_mlocked until
 *               reclaim marks the pages again.
 *
 * After every case, with its processes gone, Mlocked:, Unevictable: and
 * the number of KPF_MLOCKED pages are back to where they were before it
 * (invariants.h).
 *
 * Environment:
 *   MLOCKDEV_RESIDENCY_MB       size unit S in MiB: L and U are 2*S each,
 *                               the shared regions S (default: what the
 *                               machine populates in a second, 4 to 16)
 *   MLOCKDEV_RESIDENCY_ROUNDS   memory.reclaim rounds per phase (default 8)
 *   MLOCKDEV_RESIDENCY_TIMEOUT  seconds per case before it is killed
 *                               (default 300)
 *   MLOCKDEV_ZRAM_MB            zram disk size in MiB (default 256)
 *   MLOCKDEV_CASES              run only these cases (comma-separated
 *                               names or prefixes, e.g. "private_")
 *
 * Needs root, the mlockdev module, zram (built in or as a module: the test
 * runs "modprobe zram"), swap support, cgroup v2 at /sys/fs/cgroup with
 * the memory controller and memory.reclaim (5.19+).  A case that cannot
 * run is skipped with the reason.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "invariants.h"
#include "residency_common.h"

#define CG_ROOT		"/sys/fs/cgroup"

/* What the parent set up, so that it can undo exactly that. */
static struct {
	int zram_id;			/* -1: none */
	bool zram_hot_added;		/* via zram-control: hot_remove it */
	bool zram_sized;		/* disksize written: reset it */
	char zram_dev[64];
	bool zram_node_made;		/* we mknod'ed zram_dev */
	bool swap_on;
	char cg[128];			/* our cgroup, "" if none */
	bool memory_enabled;		/* we wrote +memory */
	pid_t case_pid;			/* running case, 0 if none */
} env = { .zram_id = -1 };

static struct {
	size_t unit;			/* S in bytes */
	unsigned long rounds;
	unsigned long case_timeout;
	unsigned long zram_mb;
} cfg;

static char skip_reason[256];

/* ------------------------------------------------------------------ */
/* Set-up and clean-up (parent)                                        */

static bool has_token(const char *list, const char *tok)
{
	size_t n = strlen(tok);
	const char *p = list;

	while ((p = strstr(p, tok))) {
		if ((p == list || p[-1] == ' ' || p[-1] == '\n') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return true;
		p += n;
	}
	return false;
}

static void zram_path(char *buf, size_t size, const char *attr)
{
	snprintf(buf, size, "/sys/block/zram%d/%s", env.zram_id, attr);
}

/* mkswap: a version-1 swap header on the first page of @dev. */
static int write_swap_header(const char *dev, unsigned long long bytes)
{
	size_t ps = rc_page_size();
	unsigned char *page = calloc(1, ps);
	uint32_t v;
	int fd, err = 0;

	if (!page)
		return ENOMEM;
	v = 1;					/* version */
	memcpy(page + 1024, &v, 4);
	v = (uint32_t)(bytes / ps - 1);		/* last_page */
	memcpy(page + 1028, &v, 4);
	/* nr_badpages, uuid and label stay zero. */
	memcpy(page + ps - 10, "SWAPSPACE2", 10);
	fd = open(dev, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
	} else {
		if (pwrite(fd, page, ps, 0) != (ssize_t)ps)
			err = errno ? errno : EIO;
		else if (fsync(fd))
			err = errno;
		close(fd);
	}
	free(page);
	return err;
}

static const char *setup_swap(void)
{
	unsigned long long bytes = (unsigned long long)cfg.zram_mb * RC_MIB;
	char path[128], buf[64];
	struct stat st;
	int err, i;

	if (access("/sys/class/zram-control/hot_add", F_OK) &&
	    access("/sys/block/zram0", F_OK)) {
		int r = system("modprobe zram >/dev/null 2>&1");

		(void)r;
	}
	if (!access("/sys/class/zram-control/hot_add", F_OK)) {
		/* A device of our own: reading hot_add creates it. */
		err = rc_read_file("/sys/class/zram-control/hot_add", buf, sizeof(buf));
		if (err) {
			snprintf(skip_reason, sizeof(skip_reason),
				 "zram hot_add: %s", strerror(err));
			return skip_reason;
		}
		env.zram_id = atoi(buf);
		env.zram_hot_added = true;
	} else if (!access("/sys/block/zram0", F_OK)) {
		env.zram_id = 0;
		zram_path(path, sizeof(path), "disksize");
		if (rc_read_file(path, buf, sizeof(buf)) || strtoull(buf, NULL, 0)) {
			env.zram_id = -1;
			return "zram0 is in use and there is no zram-control to add a device";
		}
	} else {
		return "no zram: /sys/block/zram0 missing and modprobe zram failed (CONFIG_ZRAM)";
	}

	zram_path(path, sizeof(path), "disksize");
	snprintf(buf, sizeof(buf), "%llu", bytes);
	err = rc_write_file(path, buf);
	if (err) {
		snprintf(skip_reason, sizeof(skip_reason),
			 "cannot size zram%d (%s): %s", env.zram_id, path, strerror(err));
		return skip_reason;
	}
	env.zram_sized = true;

	/* devtmpfs creates the node; give udev-less guests a moment. */
	snprintf(env.zram_dev, sizeof(env.zram_dev), "/dev/zram%d", env.zram_id);
	for (i = 0; i < 100 && stat(env.zram_dev, &st); i++)
		rc_sleep_ms(20);
	if (stat(env.zram_dev, &st)) {
		unsigned int maj, min;

		zram_path(path, sizeof(path), "dev");
		if (rc_read_file(path, buf, sizeof(buf)) ||
		    sscanf(buf, "%u:%u", &maj, &min) != 2) {
			snprintf(skip_reason, sizeof(skip_reason),
				 "no %s and no %s", env.zram_dev, path);
			return skip_reason;
		}
		if (mknod(env.zram_dev, S_IFBLK | 0600, makedev(maj, min))) {
			snprintf(skip_reason, sizeof(skip_reason), "mknod %s: %s",
				 env.zram_dev, strerror(errno));
			return skip_reason;
		}
		env.zram_node_made = true;
	}

	err = write_swap_header(env.zram_dev, bytes);
	if (err) {
		snprintf(skip_reason, sizeof(skip_reason), "mkswap %s: %s",
			 env.zram_dev, strerror(err));
		return skip_reason;
	}
	if (swapon(env.zram_dev, 0)) {
		snprintf(skip_reason, sizeof(skip_reason),
			 "swapon %s: %s%s", env.zram_dev, strerror(errno),
			 errno == ENOSYS ? " (kernel without CONFIG_SWAP)" : "");
		return skip_reason;
	}
	env.swap_on = true;
	return NULL;
}

static const char *setup_cgroup(void)
{
	char buf[512], path[192];
	int err;

	err = rc_read_file(CG_ROOT "/cgroup.controllers", buf, sizeof(buf));
	if (err)
		return "cgroup v2 is not mounted at " CG_ROOT;
	if (!has_token(buf, "memory"))
		return "the cgroup v2 memory controller is not available (CONFIG_MEMCG)";
	err = rc_read_file(CG_ROOT "/cgroup.subtree_control", buf, sizeof(buf));
	if (err || !has_token(buf, "memory")) {
		err = rc_write_file(CG_ROOT "/cgroup.subtree_control", "+memory");
		if (err) {
			snprintf(skip_reason, sizeof(skip_reason),
				 "cannot enable +memory in %s/cgroup.subtree_control: %s",
				 CG_ROOT, strerror(err));
			return skip_reason;
		}
		env.memory_enabled = true;
	}
	snprintf(env.cg, sizeof(env.cg), CG_ROOT "/mlockdev-residency-%d",
		 (int)getpid());
	if (mkdir(env.cg, 0755)) {
		snprintf(skip_reason, sizeof(skip_reason), "mkdir %s: %s", env.cg,
			 strerror(errno));
		env.cg[0] = '\0';
		return skip_reason;
	}
	snprintf(path, sizeof(path), "%s/memory.reclaim", env.cg);
	if (access(path, W_OK))
		return "no memory.reclaim in the cgroup (kernel older than 5.19)";
	return NULL;
}

static void cleanup(void)
{
	char path[192], buf[32];
	int i;

	if (env.case_pid > 0) {
		kill(env.case_pid, SIGKILL);
		waitpid(env.case_pid, NULL, 0);
		env.case_pid = 0;
	}
	if (env.cg[0]) {
		/* Exited members may take a moment to leave. */
		for (i = 0; i < 100 && rmdir(env.cg) && errno == EBUSY; i++)
			rc_sleep_ms(20);
		env.cg[0] = '\0';
	}
	if (env.memory_enabled) {
		rc_write_file(CG_ROOT "/cgroup.subtree_control", "-memory");
		env.memory_enabled = false;
	}
	if (env.swap_on) {
		if (swapoff(env.zram_dev))
			fprintf(stderr, "# swapoff %s: %s\n", env.zram_dev,
				strerror(errno));
		env.swap_on = false;
	}
	if (env.zram_node_made) {
		unlink(env.zram_dev);
		env.zram_node_made = false;
	}
	if (env.zram_sized) {
		zram_path(path, sizeof(path), "reset");
		rc_write_file(path, "1");
		env.zram_sized = false;
	}
	if (env.zram_hot_added) {
		snprintf(buf, sizeof(buf), "%d", env.zram_id);
		rc_write_file("/sys/class/zram-control/hot_remove", buf);
		env.zram_hot_added = false;
	}
	env.zram_id = -1;
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ------------------------------------------------------------------ */
/* Helpers of the cases (children)                                     */

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

static int join_cgroup(void)
{
	char path[192], buf[32];
	cpu_set_t cpus;

	snprintf(path, sizeof(path), "%s/cgroup.procs", env.cg);
	snprintf(buf, sizeof(buf), "%d", (int)getpid());
	if (rc_write_file(path, buf))
		return -1;
	/* LRU and mlock batches are per CPU: stay on one. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	return 0;
}

/* A field of our cgroup's memory.stat, in bytes; -1 if missing. */
static long long cg_stat(const char *name)
{
	char path[192], line[256];
	size_t n = strlen(name);
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.stat", env.cg);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, n) && line[n] == ' ') {
			v = strtoll(line + n + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/*
 * One memory.reclaim request of @bytes.  EAGAIN means the kernel could not
 * reclaim that much, which is expected while memory is locked.
 */
static int reclaim(size_t bytes)
{
	char path[192], buf[32];
	int err;

	snprintf(path, sizeof(path), "%s/memory.reclaim", env.cg);
	snprintf(buf, sizeof(buf), "%zu", bytes);
	err = rc_write_file(path, buf);
	return err == EAGAIN ? 0 : err;
}

/* How much of a range is out of memory, by the measure that fits it. */
enum gone_measure { GONE_SWAPPED, GONE_NOT_INCORE };

static unsigned long gone_pages(const void *p, size_t len, enum gone_measure m)
{
	struct rc_residency r;

	if (rc_residency(0, p, len, &r))
		return 0;
	return m == GONE_SWAPPED ? r.swapped : r.pages - r.incore;
}

/*
 * Reclaim in rounds until at least 90% of [@p, @p + @len) is gone or the
 * rounds run out.  Return the rounds used, -1 on error.
 */
static int reclaim_until_gone(const void *p, size_t len, size_t request,
			      enum gone_measure m, double *secs)
{
	unsigned long pages = len / rc_page_size();
	double t0 = rc_now();
	unsigned long r;
	int err;

	for (r = 1; r <= cfg.rounds; r++) {
		err = reclaim(request);
		if (err) {
			NOTE("memory.reclaim: %s", strerror(err));
			return -1;
		}
		if (gone_pages(p, len, m) * 10 >= pages * 9)
			break;
	}
	*secs = rc_now() - t0;
	return r > cfg.rounds ? (int)cfg.rounds : (int)r;
}

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* Small pages: swap-out and residency are counted per page. */
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

static void report_residency(const char *what, const void *p, size_t len,
			     struct rc_residency *r)
{
	long swap_kb, rss_kb;

	rc_residency(0, p, len, r);
	rc_vma_swap_rss(0, p, &swap_kb, &rss_kb);
	NOTE("%s: %lu pages: present %lu, swapped %lu, in core %lu, PG_mlocked %lu, PG_unevictable %lu%s; smaps Rss %ld kB, Swap %ld kB",
	     what, r->pages, r->present, r->swapped, r->incore, r->mlocked,
	     r->unevictable, r->have_kpageflags ? "" : " (no kpageflags)",
	     rss_kb, swap_kb);
}

struct vm_counters {
	long long stranded, cleared, culled, rescued, mlocked, munlocked;
};

static void read_vm_counters(struct vm_counters *c)
{
	c->stranded = rc_vmstat("unevictable_pgs_stranded");
	c->cleared = rc_vmstat("unevictable_pgs_cleared");
	c->culled = rc_vmstat("unevictable_pgs_culled");
	c->rescued = rc_vmstat("unevictable_pgs_rescued");
	c->mlocked = rc_vmstat("unevictable_pgs_mlocked");
	c->munlocked = rc_vmstat("unevictable_pgs_munlocked");
}

/*
 * unevictable_pgs_stranded and _cleared must not move through the device;
 * through the system call they are only reported (they count the
 * kernel's own races).
 */
static void check_vm_counters(enum rc_path path, const struct vm_counters *a)
{
	struct vm_counters b;

	read_vm_counters(&b);
	NOTE("vmstat deltas: unevictable_pgs_stranded %+lld, cleared %+lld, culled %+lld, rescued %+lld, mlocked %+lld, munlocked %+lld",
	     b.stranded - a->stranded, b.cleared - a->cleared,
	     b.culled - a->culled, b.rescued - a->rescued,
	     b.mlocked - a->mlocked, b.munlocked - a->munlocked);
	if (path != RC_DEVICE)
		return;
	CHECK(b.stranded == a->stranded,
	      "unevictable_pgs_stranded moved by %lld", b.stranded - a->stranded);
	CHECK(b.cleared == a->cleared,
	      "unevictable_pgs_cleared moved by %lld", b.cleared - a->cleared);
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

/* ------------------------------------------------------------------ */
/* Case: private memory, locked against unlocked                       */

static int case_private(enum rc_path path)
{
	size_t S = cfg.unit, llen = 2 * S, ulen = 2 * S;
	unsigned long lpages = llen / rc_page_size();
	long mlocked0, mlocked1, unev0, kb;
	long long cg_unev0, cg_unev;
	struct vm_counters vc;
	struct rc_residency r;
	char why[256];
	char *L, *U;
	double secs;
	int err, rounds;

	read_vm_counters(&vc);
	mlocked0 = rc_meminfo_kb("Mlocked");
	unev0 = rc_meminfo_kb("Unevictable");
	cg_unev0 = cg_stat("unevictable");
	NOTE("baseline: Mlocked %ld kB, Unevictable %ld kB, memcg unevictable %lld kB",
	     mlocked0, unev0, cg_unev0 / 1024);

	L = map_anon(llen);
	if (!L) {
		NOTE("mmap L: %s", strerror(errno));
		return KSFT_FAIL;
	}
	/* First half present before the lock, second half left to populate. */
	rc_fill(L, S, 1);

	err = rc_lockall(path, MCL_CURRENT);
	CHECK(!err, "LOCK_ALL(MCL_CURRENT): %s", strerror(err));
	if (err)
		return KSFT_FAIL;
	rc_fill(L + S, S, 2);

	report_residency("L after lock", L, llen, &r);
	CHECK(r.present == lpages, "after the lock only %lu of %lu pages of L are present",
	      r.present, lpages);
	if (r.have_kpageflags)
		CHECK(r.mlocked == lpages, "after the lock only %lu of %lu pages of L are PG_mlocked",
		      r.mlocked, lpages);
	mlocked1 = rc_meminfo_kb("Mlocked");
	CHECK(mlocked1 - mlocked0 >= (long)(llen / 1024),
	      "Mlocked grew by %ld kB, less than L (%zu kB)", mlocked1 - mlocked0,
	      llen / 1024);
	NOTE("right after the lock: Mlocked +%ld kB, memcg unevictable %lld kB (L is %zu kB)",
	     mlocked1 - mlocked0, cg_stat("unevictable") / 1024, llen / 1024);
	if (rc_check_vmlck(0, why, sizeof(why)))
		CHECK(0, "%s", why);

	U = map_anon(ulen);
	if (!U) {
		NOTE("mmap U: %s", strerror(errno));
		return KSFT_FAIL;
	}
	rc_fill(U, ulen, 3);

	/*
	 * Pressure: ask for L and U.  Only U can go, but asking for no more
	 * than U lets reclaim stop before it has looked at L: the populate
	 * touched L, so L is not the coldest.  Reclaim has to meet the pages
	 * the device marked while they sat on the evictable list, and cull
	 * them, for the unevictable check below.  (Asking for far more than
	 * the cgroup holds only makes the kernel rescan, slowly under KASAN.)
	 */
	rounds = reclaim_until_gone(U, ulen, llen + ulen, GONE_SWAPPED, &secs);
	if (rounds < 0)
		return KSFT_FAIL;
	NOTE("reclaim with L locked: %d round(s) of %zu MiB, %.2f s", rounds,
	     (llen + ulen) / RC_MIB, secs);
	report_residency("L (locked) under reclaim", L, llen, &r);
	CHECK(r.present == lpages && r.incore == lpages && !r.swapped,
	      "locked L not resident under reclaim: %lu present, %lu in core, %lu swapped of %lu",
	      r.present, r.incore, r.swapped, lpages);
	rc_vma_swap_rss(0, L, &kb, &(long){0});
	CHECK(kb == 0, "smaps Swap: of L is %ld kB", kb);
	report_residency("U (unlocked) under reclaim", U, ulen, &r);
	CHECK(r.swapped * 2 >= r.pages,
	      "reclaim swapped out only %lu of %lu pages of U: no real pressure, nothing proven",
	      r.swapped, r.pages);
	cg_unev = cg_stat("unevictable");
	NOTE("under reclaim: memcg unevictable %lld kB, Unevictable %ld kB, Mlocked %ld kB",
	     cg_unev / 1024, rc_meminfo_kb("Unevictable"), rc_meminfo_kb("Mlocked"));
	CHECK(cg_unev >= (long long)llen,
	      "memcg unevictable %lld kB does not cover L (%zu kB): locked pages did not reach the unevictable list",
	      cg_unev / 1024, llen / 1024);

	CHECK(!rc_check_fill(L, S, 1) && !rc_check_fill(L + S, S, 2),
	      "data of L corrupted");
	CHECK(!rc_check_fill(U, ulen, 3), "data of U corrupted after swap-in");

	err = rc_unlockall(path);
	CHECK(!err, "UNLOCK_ALL: %s", strerror(err));
	if (rc_check_vmlck(0, why, sizeof(why)))
		CHECK(0, "after unlock: %s", why);
	kb = rc_status_kb(0, "VmLck");
	CHECK(kb == 0, "VmLck %ld kB after unlock", kb);
	kb = wait_mlocked_at_most(mlocked0);
	CHECK(kb <= mlocked0, "Mlocked %ld kB after unlock, baseline %ld kB", kb, mlocked0);
	cg_unev = cg_stat("unevictable");
	NOTE("after unlock: Mlocked %ld kB, memcg unevictable %lld kB, Unevictable %ld kB",
	     kb, cg_unev / 1024, rc_meminfo_kb("Unevictable"));
	CHECK(cg_unev <= cg_unev0 + (long long)(llen / 16),
	      "memcg unevictable still %lld kB after unlock (baseline %lld kB): pages stranded",
	      cg_unev / 1024, cg_unev0 / 1024);

	/* L and U are both unlocked now: ask for both. */
	rounds = reclaim_until_gone(L, llen, llen + ulen, GONE_SWAPPED, &secs);
	if (rounds < 0)
		return KSFT_FAIL;
	NOTE("reclaim after unlock: %d round(s), %.2f s", rounds, secs);
	report_residency("L (unlocked) under reclaim", L, llen, &r);
	CHECK(r.swapped * 2 >= r.pages,
	      "after unlock only %lu of %lu pages of L were swapped out: still unevictable",
	      r.swapped, r.pages);
	CHECK(!rc_check_fill(L, S, 1) && !rc_check_fill(L + S, S, 2),
	      "data of L corrupted after swap-in");

	munmap(L, llen);
	munmap(U, ulen);
	kb = wait_mlocked_at_most(mlocked0);
	CHECK(kb <= mlocked0, "Mlocked %ld kB at the end, baseline %ld kB", kb, mlocked0);
	check_vm_counters(path, &vc);
	return case_failures ? KSFT_FAIL : KSFT_PASS;
}

/* ------------------------------------------------------------------ */
/* Case: shared memory locked by two processes, one unlocks            */

/* The second process: lock, report, wait, unlock, report. */
static void partner(enum rc_path path, int cmd_fd, int res_fd)
{
	char c;
	int err;

	while (read(cmd_fd, &c, 1) == 1) {
		if (c == 'l')
			err = rc_lockall(path, MCL_CURRENT);
		else if (c == 'u')
			err = rc_unlockall(path);
		else
			break;
		c = (char)err;
		if (write(res_fd, &c, 1) != 1)
			break;
	}
	_exit(0);
}

static int ask_partner(int cmd_fd, int res_fd, char cmd)
{
	char c;

	if (write(cmd_fd, &cmd, 1) != 1 || read(res_fd, &c, 1) != 1)
		return EPIPE;
	return c;
}

static void *map_memfd(const char *name, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	void *p;

	if (fd < 0)
		return NULL;
	if (ftruncate(fd, (off_t)len)) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static void report_shared(const char *what, pid_t partner_pid, const void *p,
			  size_t len)
{
	struct rc_residency mine, theirs;

	rc_residency(0, p, len, &mine);
	rc_residency(partner_pid, p, len, &theirs);
	NOTE("%s: Mlocked %ld kB; shared region %lu pages: in core %lu; partner's PTEs present %lu, PG_mlocked %lu, PG_unevictable %lu%s",
	     what, rc_meminfo_kb("Mlocked"), mine.pages, mine.incore,
	     theirs.present, theirs.mlocked, theirs.unevictable,
	     theirs.have_kpageflags ? "" : " (no kpageflags)");
}

static int case_shared(enum rc_path path)
{
	size_t S = cfg.unit;
	unsigned long pages = S / rc_page_size();
	int cmd[2], res[2], err, rounds, status;
	struct rc_residency r, rp;
	struct vm_counters vc;
	long mlocked0, kb;
	char *sh, *other = NULL;
	pid_t pid;
	double secs;

	read_vm_counters(&vc);
	mlocked0 = rc_meminfo_kb("Mlocked");

	sh = map_memfd("mlockdev-shared", S);
	if (!sh) {
		NOTE("memfd: %s", strerror(errno));
		return KSFT_FAIL;
	}
	rc_fill(sh, S, 4);

	if (pipe(cmd) || pipe(res)) {
		NOTE("pipe: %s", strerror(errno));
		return KSFT_FAIL;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		NOTE("fork: %s", strerror(errno));
		return KSFT_FAIL;
	}
	if (!pid) {
		close(cmd[1]);
		close(res[0]);
		partner(path, cmd[0], res[1]);
	}
	close(cmd[0]);
	close(res[1]);

	err = rc_lockall(path, MCL_CURRENT);
	CHECK(!err, "LOCK_ALL here: %s", strerror(err));
	err = ask_partner(cmd[1], res[0], 'l');
	CHECK(!err, "LOCK_ALL in the partner: %s", strerror(err));
	report_shared("both locked", pid, sh, S);

	err = rc_unlockall(path);
	CHECK(!err, "UNLOCK_ALL here: %s", strerror(err));
	report_shared("after this process unlocked", pid, sh, S);

	/* Control: the same kind of memory, never locked. */
	other = map_memfd("mlockdev-unlocked", S);
	if (!other) {
		NOTE("memfd: %s", strerror(errno));
		goto fail;
	}
	rc_fill(other, S, 5);

	/*
	 * Ask for both memfds' worth: the shared pages were touched last by
	 * the populates, so reclaim would take the unlocked memfd first and
	 * stop; asking for more makes it go through the shared pages too.
	 */
	rounds = reclaim_until_gone(other, S, 2 * S, GONE_NOT_INCORE, &secs);
	if (rounds < 0)
		goto fail;
	NOTE("reclaim with the partner's lock held: %d round(s), %.2f s", rounds, secs);
	report_shared("under reclaim", pid, sh, S);
	rc_residency(0, sh, S, &r);
	rc_residency(pid, sh, S, &rp);
	CHECK(r.incore == pages && rp.present == pages,
	      "shared pages locked by the partner not resident: %lu in core, %lu mapped in the partner, of %lu",
	      r.incore, rp.present, pages);
	rc_residency(0, other, S, &r);
	CHECK((r.pages - r.incore) * 2 >= r.pages,
	      "reclaim evicted only %lu of %lu pages of the unlocked memfd: no real pressure",
	      r.pages - r.incore, r.pages);
	CHECK(!rc_check_fill(sh, S, 4), "shared data corrupted");

	err = ask_partner(cmd[1], res[0], 'u');
	CHECK(!err, "UNLOCK_ALL in the partner: %s", strerror(err));
	rounds = reclaim_until_gone(sh, S, 2 * S, GONE_NOT_INCORE, &secs);
	if (rounds < 0)
		goto fail;
	NOTE("reclaim after both unlocked: %d round(s), %.2f s", rounds, secs);
	rc_residency(0, sh, S, &r);
	NOTE("shared region after both unlocked: %lu of %lu pages still in core",
	     r.incore, r.pages);
	if ((r.pages - r.incore) * 2 < r.pages) {
		/*
		 * Reclaim's own heuristics sometimes leave these pages alone
		 * (seen on debug-6.12: all of them on the active anon list,
		 * inactive_anon 0, 8 rounds reclaiming nothing, on both
		 * paths).  What the unlock owes is that they are reclaimable:
		 * no PG_mlocked, not on the unevictable list, in either
		 * process, and nothing of the cgroup unevictable.  Stranded
		 * pages fail this.
		 */
		long long cg_unev = cg_stat("unevictable");
		bool evictable;

		NOTE("memcg: inactive_anon %lld, active_anon %lld, unevictable %lld kB; SwapFree %ld kB",
		     cg_stat("inactive_anon") / 1024, cg_stat("active_anon") / 1024,
		     cg_unev / 1024, rc_meminfo_kb("SwapFree"));
		rc_residency(pid, sh, S, &rp);
		evictable = r.have_kpageflags && !r.mlocked && !r.unevictable &&
			    !rp.mlocked && !rp.unevictable && cg_unev == 0;
		CHECK(evictable,
		      "after both unlocked only %lu of %lu shared pages were evicted, and they are not all evictable: PG_mlocked %lu/%lu, PG_unevictable %lu/%lu (here/partner), memcg unevictable %lld kB",
		      r.pages - r.incore, r.pages, r.mlocked, rp.mlocked,
		      r.unevictable, rp.unevictable, cg_unev / 1024);
		if (evictable)
			NOTE("reclaim left them in memory, but every page is off the unevictable list and not mlocked in either process: reclaimable");
	}
	CHECK(!rc_check_fill(sh, S, 4), "shared data corrupted after swap-in");

fail:
	close(cmd[1]);
	waitpid(pid, &status, 0);
	close(res[0]);
	munmap(sh, S);
	if (other)
		munmap(other, S);
	kb = wait_mlocked_at_most(mlocked0);
	CHECK(kb <= mlocked0, "Mlocked %ld kB at the end, baseline %ld kB", kb, mlocked0);
	check_vm_counters(path, &vc);
	return case_failures ? KSFT_FAIL : KSFT_PASS;
}

/* ------------------------------------------------------------------ */
/* Running the cases                                                   */

struct test_case {
	const char *name;
	int (*fn)(enum rc_path path);
	enum rc_path path;
};

static const struct test_case cases[] = {
	{ "private_device", case_private, RC_DEVICE },
	{ "private_syscall", case_private, RC_SYSCALL },
	{ "shared_device", case_shared, RC_DEVICE },
	{ "shared_syscall", case_shared, RC_SYSCALL },
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
		if (join_cgroup()) {
			NOTE("cannot join %s: %s", env.cg, strerror(errno));
			_exit(KSFT_FAIL);
		}
		status = tc->fn(tc->path);
		fflush(NULL);
		_exit(status);
	}
	env.case_pid = pid;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return KSFT_FAIL;
		if (rc_now() - t0 > cfg.case_timeout) {
			ksft_print_msg("%s: FAIL: still running after %lu s, killed\n",
				       tc->name, cfg.case_timeout);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			env.case_pid = 0;
			return KSFT_FAIL;
		}
		rc_sleep_ms(50);
	}
	env.case_pid = 0;
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
	unsigned long unit_mb;
	const char *why = NULL;
	double rate;
	size_t i;
	int err;

	/*
	 * The cost is reclaim and swap-in, which scale with the size: on a
	 * slow machine (KASAN, a busy TCG host) use a smaller unit, one
	 * second's worth of populate, 4 to 16 MiB.
	 */
	rate = rc_populate_rate();
	unit_mb = rate < 4 ? 4 : rate > 16 ? 16 : (unsigned long)rate;
	cfg.unit = rc_env_ulong("MLOCKDEV_RESIDENCY_MB", unit_mb) * RC_MIB;
	cfg.rounds = rc_env_ulong("MLOCKDEV_RESIDENCY_ROUNDS", 8);
	cfg.case_timeout = rc_env_ulong("MLOCKDEV_RESIDENCY_TIMEOUT", 300);
	cfg.zram_mb = rc_env_ulong("MLOCKDEV_ZRAM_MB", 256);

	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(cases));

	if (geteuid())
		why = "needs root (swapon, cgroups, memory.reclaim)";
	if (!why) {
		err = rc_device_open();
		if (err == ENOENT)
			why = "mlockdev module not loaded: " RC_DEV_PATH " missing";
		else if (err)
			why = "cannot open " RC_DEV_PATH;
	}
	if (!why) {
		atexit(cleanup);
		signal(SIGTERM, on_signal);
		signal(SIGINT, on_signal);
		signal(SIGHUP, on_signal);
		why = setup_swap();
	}
	if (!why)
		why = setup_cgroup();
	if (!why)
		ksft_print_msg("swap on %s (%lu MiB), cgroup %s, populate %.0f MiB/s, unit %zu MiB, %lu reclaim rounds\n",
			       env.zram_dev, cfg.zram_mb, env.cg, rate,
			       cfg.unit / RC_MIB, cfg.rounds);

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
	cleanup();
	ksft_finished();
}
