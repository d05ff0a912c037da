// SPDX-License-Identifier: GPL-2.0
/*
 * diff_adversity.c - steps for scenarios that need more than one thread,
 * a userfaultfd, protection keys, signals or VMAs of terabytes (issue 8).
 *
 * The populate races are made deterministic with a userfaultfd: the first
 * page of a mapping is registered for missing faults, and a handler thread
 * waits for the lock's populate to fault on it.  While that fault waits
 * (with the mmap lock dropped, as it is during any fault that sleeps), the
 * handler changes the rest of the mapping, then resolves the fault.  The
 * system call looks the VMAs up again after the lock came back and sees
 * the change; a populate working from a stale copy of the VMA does not.
 *
 * Each race mapping is built twice, "race1" and "race2", next to each
 * other: [A1][R1][A2][R2], where Aj is the registered page and Rj the
 * rest.  The handler changes Rj on the fault in Aj.  A populate that looks
 * VMAs up in batches (today's module: sixteen at a time) only shows the
 * bug when Aj and Rj were looked up in the same batch; a batch boundary
 * can fall between A1 and R1 or between A2 and R2, not both.
 *
 * Both paths run exactly the same code: the thread, its stack, the
 * userfaultfd and every mapping are made the same way, so the address
 * spaces stay identical; the thread is joined and the userfaultfd closed
 * before the snapshot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "diff.h"

#define HPAGE_SIZE	(2UL << 20)

/* How long the handler waits for a fault before it gives up. */
#define RACE_FAULT_WAIT_MS	60000

int diff_userfaultfd(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -1;
	if (ioctl(fd, UFFDIO_API, &api)) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static int uffd_register(int uffd, void *addr, size_t len, __u64 mode)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = mode,
	};

	return ioctl(uffd, UFFDIO_REGISTER, &reg);
}

/* ------------------------------------------------------------------ */
/* Populate races                                                      */

static const struct {
	const char *what;
	long pages;		/* per pair: Aj (one page) and Rj */
	bool shared;		/* MAP_SHARED anonymous, else private */
} race_variants[RACE_NR] = {
	[RACE_PROT_NONE_SHARED]  = { "mprotect(PROT_NONE)", 256, true },
	[RACE_PROT_NONE_PRIVATE] = { "mprotect(PROT_NONE)", 256, false },
	[RACE_SHARED_FILE]	 = { "MAP_SHARED memfd over it", 64, false },
	[RACE_PRIVATE_FILE_RO]	 = { "read-only MAP_PRIVATE file over it", 64, false },
	[RACE_UNMAP_HEAD]	 = { "munmap of its first page", 64, false },
	[RACE_ONFAULT]		 = { "mlock2(MLOCK_ONFAULT)", 256, false },
};

#define RACE_STACK_SIZE	(256 * 1024)

static struct {
	int variant;
	long pages;
	long page;
	char *base;		/* A1; A2 is base + pages * page */
	int uffd;
	int stop[2];		/* readable: the handler stops */
	int ready[2];		/* the handler is about to wait */
	int file_fd;
	char *stack;
	pthread_t thread;
	int faults;		/* faults resolved */
	int changes;		/* changes made while a fault waited */
	char error[128];
} race = { .uffd = -1, .stop = { -1, -1 }, .ready = { -1, -1 },
	    .file_fd = -1 };

/* What the handler copies into the faulting page. */
static char race_src_page[4096] = "mlockdev populate race";

static void race_error(const char *what, int err)
{
	if (!race.error[0])
		snprintf(race.error, sizeof(race.error), "handler: %s: %s",
			 what, strerror(err));
}

/* Change Rj, the rest of pair @j, while the fault in Aj waits. */
static void race_change(int j)
{
	long rest = (race.pages - 1) * race.page;
	char *r = race.base + (j * race.pages + 1) * race.page;
	const char *what = NULL;

	switch (race.variant) {
	case RACE_PROT_NONE_SHARED:
	case RACE_PROT_NONE_PRIVATE:
		if (mprotect(r, rest, PROT_NONE))
			what = "mprotect";
		break;
	case RACE_SHARED_FILE:
		if (mmap(r, rest, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 race.file_fd, j * rest) == MAP_FAILED)
			what = "mmap shared";
		break;
	case RACE_PRIVATE_FILE_RO:
		if (mmap(r, rest, PROT_READ, MAP_PRIVATE | MAP_FIXED,
			 race.file_fd, j * rest) == MAP_FAILED)
			what = "mmap private";
		break;
	case RACE_UNMAP_HEAD:
		if (munmap(r, race.page))
			what = "munmap";
		break;
	case RACE_ONFAULT:
		if (mlock2(r, rest, MLOCK_ONFAULT))
			what = "mlock2";
		break;
	}
	if (what)
		race_error(what, errno);
	else
		race.changes++;
}

static void *race_handler(void *unused)
{
	struct pollfd pfd[2] = {
		{ .fd = race.uffd, .events = POLLIN },
		{ .fd = race.stop[0], .events = POLLIN },
	};

	(void)unused;
	/*
	 * Tell race_begin that this thread has run up to its wait: from
	 * here on it only wakes for a fault, so what it touches, and when,
	 * is the same on both paths whatever the scheduler does.
	 */
	if (write(race.ready[1], "r", 1) != 1)
		race_error("write", errno);
	while (race.faults < 2) {
		struct uffdio_copy copy;
		struct uffd_msg msg;
		uintptr_t addr;
		ssize_t got;
		int n;

		n = poll(pfd, 2, RACE_FAULT_WAIT_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			race_error("poll", errno);
			break;
		}
		if (!n) {
			race_error("no page fault came", ETIMEDOUT);
			break;
		}
		if (pfd[1].revents)
			break;		/* the lock is over */
		got = read(race.uffd, &msg, sizeof(msg));
		if (got < 0 && errno == EAGAIN)
			continue;
		if (got != sizeof(msg)) {
			race_error("read", got < 0 ? errno : EIO);
			break;
		}
		if (msg.event != UFFD_EVENT_PAGEFAULT) {
			race_error("unexpected event", EINVAL);
			break;
		}
		addr = msg.arg.pagefault.address & ~(uintptr_t)(race.page - 1);
		if (addr == (uintptr_t)race.base)
			race_change(0);
		else if (addr == (uintptr_t)race.base + race.pages * race.page)
			race_change(1);
		else
			race_error("fault outside the registered pages", EFAULT);

		/* Resolve it in any case: the faulting thread must go on. */
		memset(&copy, 0, sizeof(copy));
		copy.dst = addr;
		copy.src = (uintptr_t)race_src_page;
		copy.len = race.page;
		if (ioctl(race.uffd, UFFDIO_COPY, &copy) && errno != EEXIST)
			race_error("UFFDIO_COPY", errno);
		race.faults++;
	}
	return NULL;
}

/* The file laid over R1 and R2 by the file variants: 2 * rest pages. */
static int race_file(struct diff_ctx *ctx)
{
	long rest = (race.pages - 1) * ctx->page;
	struct timespec old[2] = { { 1, 0 }, { 1, 0 } };
	int fd;

	if (race.variant == RACE_SHARED_FILE) {
		fd = memfd_create("mlockdev-race", MFD_CLOEXEC);
		if (fd < 0)
			return diff_fail(ctx, "memfd_create: %s", strerror(errno));
		if (ftruncate(fd, 2 * rest)) {
			close(fd);
			return diff_fail(ctx, "ftruncate: %s", strerror(errno));
		}
		/*
		 * An old mtime: a write fault moves it, whatever the clock's
		 * granularity.
		 */
		if (futimens(fd, old)) {
			close(fd);
			return diff_fail(ctx, "futimens: %s", strerror(errno));
		}
	} else {
		fd = diff_tmp_file(ctx, "race-ro", 2 * (race.pages - 1), true);
		if (fd < 0)
			return -1;
	}
	race.file_fd = fd;
	return 0;
}

/*
 * Build [A1][R1][A2][R2] (@arg: enum diff_race_variant), register A1 and
 * A2 with a userfaultfd, and start the handler.  The next step must be
 * the lock; race_end must follow it.
 */
DIFF_STEP_FN(race_begin)
{
	size_t len, i;
	pthread_attr_t attr;
	int err;
	char c;

	(void)map;
	if (arg < 0 || arg >= RACE_NR)
		return diff_fail(ctx, "no race variant %ld", arg);
	race.variant = arg;
	race.pages = race_variants[arg].pages;
	race.page = ctx->page;
	if ((size_t)race.page > sizeof(race_src_page))
		return diff_fail(ctx, "page size %ld", race.page);
	len = 2 * race.pages * race.page;

	race.base = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 (race_variants[arg].shared ? MAP_SHARED : MAP_PRIVATE) |
			 MAP_ANONYMOUS, -1, 0);
	if (race.base == MAP_FAILED)
		return diff_fail(ctx, "mmap: %s", strerror(errno));
	/* Page by page, whatever the alignment: no THP. */
	if (madvise(race.base, len, MADV_NOHUGEPAGE))
		return diff_fail(ctx, "MADV_NOHUGEPAGE: %s", strerror(errno));
	race.uffd = diff_userfaultfd();
	if (race.uffd < 0)
		return diff_fail(ctx, "userfaultfd: %s", strerror(errno));
	for (i = 0; i < 2; i++)
		if (uffd_register(race.uffd, race.base + i * race.pages * race.page,
				  race.page, UFFDIO_REGISTER_MODE_MISSING))
			return diff_fail(ctx, "UFFDIO_REGISTER: %s",
					 strerror(errno));
	if ((arg == RACE_SHARED_FILE || arg == RACE_PRIVATE_FILE_RO) &&
	    race_file(ctx))
		return -1;
	if (pipe2(race.stop, O_CLOEXEC) || pipe2(race.ready, O_CLOEXEC))
		return diff_fail(ctx, "pipe: %s", strerror(errno));

	/* A stack of our own: glibc's default would be 8 MiB to populate. */
	race.stack = mmap(NULL, RACE_STACK_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (race.stack == MAP_FAILED)
		return diff_fail(ctx, "mmap stack: %s", strerror(errno));
	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, race.stack, RACE_STACK_SIZE);
	err = pthread_create(&race.thread, &attr, race_handler, NULL);
	pthread_attr_destroy(&attr);
	if (err)
		return diff_fail(ctx, "pthread_create: %s", strerror(err));
	/* Not before the handler is waiting: see race_handler(). */
	if (read(race.ready[0], &c, 1) != 1)
		return diff_fail(ctx, "the handler did not start: %s",
				 strerror(errno));
	close(race.ready[0]);
	close(race.ready[1]);
	race.ready[0] = race.ready[1] = -1;

	if (diff_add_map(ctx, "race1", race.base, race.pages * race.page) ||
	    diff_add_map(ctx, "race2", race.base + race.pages * race.page,
			 race.pages * race.page))
		return -1;
	return 0;
}

/*
 * Stop and join the handler, close the userfaultfd; record how many
 * faults it resolved and how many changes it made (both must be 2), and
 * for the shared file whether its mtime moved (only a write fault moves
 * it: the system call read-faults a shared mapping).
 */
DIFF_STEP_FN(race_end)
{
	struct stat st;

	(void)map;
	(void)arg;
	if (race.stop[1] < 0)
		return diff_fail(ctx, "no race_begin before");
	if (write(race.stop[1], "x", 1) != 1)
		return diff_fail(ctx, "write: %s", strerror(errno));
	pthread_join(race.thread, NULL);
	close(race.stop[0]);
	close(race.stop[1]);
	race.stop[0] = race.stop[1] = -1;
	close(race.uffd);
	race.uffd = -1;
	/*
	 * The thread's stack stays mapped: an munmap() now would sample
	 * hiwater_rss (VmHWM) from the per-CPU RSS counters, whose
	 * approximation depends on how fault-around batched the populate's
	 * file faults, and VmHWM would differ from run to run.
	 */

	diff_fact(ctx, "race.faults", race.faults);
	diff_fact(ctx, "race.changes", race.changes);
	if (race.variant == RACE_SHARED_FILE) {
		if (fstat(race.file_fd, &st))
			return diff_fail(ctx, "fstat: %s", strerror(errno));
		diff_fact(ctx, "file.mtime_moved",
			  st.st_mtim.tv_sec != 1 || st.st_mtim.tv_nsec != 0);
		diff_fact(ctx, "file.blocks", st.st_blocks);
	}
	if (race.file_fd >= 0)
		close(race.file_fd);
	race.file_fd = -1;
	if (race.error[0])
		return diff_fail(ctx, "%s", race.error);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Protection keys                                                     */

/*
 * Hide the pages of @map behind a new protection key that denies all
 * access (pkey_alloc() also sets this thread's PKRU so).  GUP, fast and
 * slow, refuses such pages; mm/mlock.c's page-table walk does not care.
 * Nothing may touch the pages afterwards: it would fault.
 */
DIFF_STEP_FN(pkey_deny)
{
	struct diff_map *m;
	int pkey;

	(void)arg;
	m = diff_find_map(ctx, map ? map : "");
	if (!m)
		return diff_fail(ctx, "no test mapping '%s'", map ? map : "");
	pkey = pkey_alloc(0, PKEY_DISABLE_ACCESS);
	if (pkey < 0)
		return diff_fail(ctx, "pkey_alloc: %s", strerror(errno));
	diff_fact(ctx, "pkey", pkey);
	diff_record(ctx, pkey_mprotect((void *)(uintptr_t)m->addr, m->len,
				       PROT_READ | PROT_WRITE, pkey) ? -1 : 0,
		    errno, 1);
	return 0;
}

/* ------------------------------------------------------------------ */
/* A large folio whose PTEs differ in the uffd-wp bit                  */

/*
 * On the THP of test mapping @map (made by map_thp): register the whole
 * VMA for userfaultfd write-protection and write-protect its first half.
 * The VMA stays one (no split), the PMD is split (the range is not a
 * whole PMD) but the folio stays one large folio, mapped by 512 PTEs of
 * which the first 256 carry the uffd-wp bit: folio_pte_batch() stops at
 * the change, so 6.7+ mlock_pte_range() does not mlock the folio.  Then
 * the VMA is made read-only, so that the populate read-faults and never
 * waits on the write-protection (there is no handler).  The userfaultfd
 * stays open: closing it would clear the uffd-wp bits.
 *
 * Facts: thp.large_after (page 0 and page 511 still KPF_THP),
 * thp.uffd_wp_pages.
 */
DIFF_STEP_FN(thp_uffd_wp)
{
	struct uffdio_writeprotect wp;
	struct diff_map *m;
	unsigned int i, wp_pages = 0;
	int uffd;

	(void)arg;
	m = diff_find_map(ctx, map ? map : "");
	if (!m)
		return diff_fail(ctx, "no test mapping '%s'", map ? map : "");
	diff_read_map_pages(m, ctx->page);
	if (!(m->page[0] & PG_THP))
		return diff_fail(ctx, "no THP was allocated (low memory?)");
	uffd = diff_userfaultfd();
	if (uffd < 0)
		return diff_fail(ctx, "userfaultfd: %s", strerror(errno));
	if (uffd_register(uffd, (void *)(uintptr_t)m->addr, m->len,
			  UFFDIO_REGISTER_MODE_WP))
		return diff_fail(ctx, "UFFDIO_REGISTER(WP): %s", strerror(errno));
	memset(&wp, 0, sizeof(wp));
	wp.range.start = m->addr;
	wp.range.len = m->len / 2;
	wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
		return diff_fail(ctx, "UFFDIO_WRITEPROTECT: %s", strerror(errno));
	if (mprotect((void *)(uintptr_t)m->addr, m->len, PROT_READ))
		return diff_fail(ctx, "mprotect: %s", strerror(errno));
	diff_read_map_pages(m, ctx->page);
	for (i = 0; i < m->npages; i++)
		wp_pages += !!(m->page[i] & PG_UFFD_WP);
	diff_fact(ctx, "thp.large_after", (m->page[0] & PG_THP) &&
		  (m->page[m->npages - 1] & PG_THP));
	diff_fact(ctx, "thp.uffd_wp_pages", wp_pages);
	return 0;
}

/* ------------------------------------------------------------------ */
/* VMAs of terabytes                                                   */

/*
 * @arg TiB of PROT_NONE, MAP_NORESERVE private anonymous memory: no
 * memory, no commit charge, only a VMA (and its accounting).  6.1 counts
 * a VMA's pages in an int in mlock_fixup(): 8 and 24 TiB are INT_MIN
 * pages, 16 TiB is 0.
 */
DIFF_STEP_FN(map_huge_none)
{
	size_t len = (size_t)arg << 40;
	void *p;

	p = mmap(NULL, len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return diff_fail(ctx, "mmap %ld TiB: %s", arg, strerror(errno));
	return diff_add_map(ctx, map, p, len);
}

/* VmLck now, as fact "VmLck" (the snapshot only has it at the end). */
DIFF_STEP_FN(fact_vmlck)
{
	int64_t status[ST_NR];
	uint64_t cap;

	(void)map;
	(void)arg;
	if (diff_read_status(status, &cap))
		return diff_fail(ctx, "cannot read /proc/self/status");
	diff_fact(ctx, "VmLck", status[ST_VMLCK]);
	return 0;
}

/* ------------------------------------------------------------------ */
/* A storm of signals                                                  */

static volatile sig_atomic_t storm_signals;

static void storm_handler(int sig)
{
	(void)sig;
	storm_signals++;
}

/* @arg pages of private anonymous memory, small pages only. */
DIFF_STEP_FN(map_anon_small)
{
	size_t len = arg * ctx->page;
	void *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return diff_fail(ctx, "mmap: %s", strerror(errno));
	if (madvise(p, len, MADV_NOHUGEPAGE))
		return diff_fail(ctx, "MADV_NOHUGEPAGE: %s", strerror(errno));
	return diff_add_map(ctx, map, p, len);
}

/*
 * Write 64 KiB of stack below the caller.  A signal may come at any
 * instruction, also deep in diff_touch_stack() before the lock; its frame
 * (with the xsave area) lands below that.  Were that a page still shared
 * copy-on-write with the parent, the copy would be made then instead of
 * by the populate, and the unevictable_pgs_* counts would depend on the
 * moment the signal came (seen on debug-6.12, also with --null).
 */
static void __attribute__((noinline)) touch_deep_stack(void)
{
	volatile char area[64 * 1024];
	size_t i;

	for (i = 0; i < sizeof(area); i += 256)
		area[i] = 0;
}

/*
 * SIGALRM every @arg microseconds to this (only) thread, with a handler
 * and without SA_RESTART: a call that a non-fatal signal could interrupt
 * would show -1/EINTR or stop early.  GUP is not interruptible by
 * non-fatal signals, so the lock must complete on both paths.
 */
DIFF_STEP_FN(signal_storm)
{
	struct sigaction sa = { .sa_handler = storm_handler };
	struct itimerval it = {
		.it_interval = { .tv_usec = arg },
		.it_value = { .tv_usec = arg },
	};

	(void)map;
	sigemptyset(&sa.sa_mask);
	/* Both written now, before any signal: see touch_deep_stack(). */
	storm_signals = 0;
	touch_deep_stack();
	if (sigaction(SIGALRM, &sa, NULL))
		return diff_fail(ctx, "sigaction: %s", strerror(errno));
	if (setitimer(ITIMER_REAL, &it, NULL))
		return diff_fail(ctx, "setitimer: %s", strerror(errno));
	return 0;
}

/* Stop the storm; fact "signals" says whether any arrived (both: 1). */
DIFF_STEP_FN(signal_storm_end)
{
	struct itimerval off = { 0 };
	struct sigaction ign = { .sa_handler = SIG_IGN };

	(void)map;
	(void)arg;
	setitimer(ITIMER_REAL, &off, NULL);
	sigemptyset(&ign.sa_mask);
	sigaction(SIGALRM, &ign, NULL);
	diff_fact(ctx, "signals", storm_signals > 0);
	return 0;
}
