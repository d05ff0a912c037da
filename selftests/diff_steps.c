// SPDX-License-Identifier: GPL-2.0
/*
 * diff_steps.c - the steps scenarios are made of.
 *
 * Every step runs in a child (both paths run exactly the same code, only
 * step_lock/step_unlock differ by path).  A step returns 0 to go on, or
 * diff_fail() when its set-up could not be done (the scenario is then
 * reported as broken, never as passed).  Calls whose outcome is part of
 * what is compared (lock, unlock, mmap past the limit, ...) are recorded
 * with diff_record(); other values with diff_fact().
 *
 * Steps that act on a test mapping find it by its label (the "map"
 * argument of the table); mappings they create are registered with
 * diff_add_map() so that the snapshot follows them page by page.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/sched.h>

#include "diff.h"

#define HPAGE_SIZE	(2UL << 20)

/* Contents for file-backed mappings: one page, written repeatedly. */
static char file_page[4096] = "mlockdev differential suite";

/* The SysV segment made by the last map_shm step, for shm_lock. */
static int last_shm_id = -1;

/* ------------------------------------------------------------------ */
/* Recording                                                           */

void diff_record(struct diff_ctx *ctx, int ret, int err, int errno_kept)
{
	struct diff_result *r;

	if (ctx->step < 0 || ctx->step >= DIFF_MAX_STEPS)
		return;
	r = &ctx->snap->step[ctx->step];

	r->ran = 1;
	r->ret = ret;
	r->err = ret ? err : 0;
	r->errno_kept = errno_kept;
}

void diff_fact(struct diff_ctx *ctx, const char *name, int64_t value)
{
	struct diff_snapshot *snap = ctx->snap;
	struct diff_fact *f;

	if (snap->nfacts >= DIFF_MAX_FACTS)
		return;		/* the comparator notices the missing facts */
	f = &snap->fact[snap->nfacts++];
	f->step = ctx->step;
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->value = value;
}

int diff_fail(struct diff_ctx *ctx, const char *fmt, ...)
{
	struct diff_snapshot *snap = ctx->snap;
	int saved = errno;
	va_list ap;
	int n;

	if (snap->error[0])
		return -1;
	if (ctx->step < 0)
		n = snprintf(snap->error, sizeof(snap->error), "snapshot: ");
	else
		n = snprintf(snap->error, sizeof(snap->error), "step %d (%s): ",
			     ctx->step + 1, ctx->sc->steps[ctx->step].name);
	if (n < 0 || (size_t)n >= sizeof(snap->error))
		return -1;
	errno = saved;
	va_start(ap, fmt);
	vsnprintf(snap->error + n, sizeof(snap->error) - n, fmt, ap);
	va_end(ap);
	return -1;
}

int diff_add_map(struct diff_ctx *ctx, const char *label, void *addr,
		 size_t len)
{
	struct diff_snapshot *snap = ctx->snap;
	struct diff_map *m;

	if (snap->nmaps >= DIFF_MAX_MAPS)
		return diff_fail(ctx, "more than %d test mappings",
				 DIFF_MAX_MAPS);
	m = &snap->map[snap->nmaps++];
	snprintf(m->label, sizeof(m->label), "%s", label);
	m->addr = (uintptr_t)addr;
	m->len = len;
	return 0;
}

struct diff_map *diff_find_map(struct diff_ctx *ctx, const char *label)
{
	int i;

	for (i = 0; i < ctx->snap->nmaps; i++)
		if (!strcmp(ctx->snap->map[i].label, label))
			return &ctx->snap->map[i];
	return NULL;
}

/* The test mapping a step acts on; the step fails if there is none. */
#define NEED_MAP(m, label)						\
	do {								\
		(m) = diff_find_map(ctx, (label) ? (label) : "");	\
		if (!(m))						\
			return diff_fail(ctx, "no test mapping '%s'",	\
					 (label) ? (label) : "(none)");	\
	} while (0)

static char *map_at(const struct diff_map *m, long page_index, long page)
{
	return (char *)(uintptr_t)(m->addr + page_index * page);
}

/* ------------------------------------------------------------------ */
/* Lock and unlock, through the scenario's path                        */

DIFF_STEP_FN(lock)
{
	(void)map;
	return diff_lock(ctx, (int)arg);
}

DIFF_STEP_FN(unlock)
{
	(void)map;
	(void)arg;
	return diff_unlock(ctx);
}

/* ------------------------------------------------------------------ */
/* Making test mappings                                                */

static int new_map(struct diff_ctx *ctx, const char *label, size_t len,
		   int prot, int flags, int fd)
{
	void *p = mmap(NULL, len, prot, flags, fd, 0);

	if (p == MAP_FAILED)
		return diff_fail(ctx, "mmap %zu bytes: %s", len,
				 strerror(errno));
	return diff_add_map(ctx, label, p, len);
}

/* A tmpfs file under /tmp of @pages pages, with contents if @fill. */
int diff_tmp_file(struct diff_ctx *ctx, const char *label, long pages,
		  bool fill)
{
	char path[96];
	long i;
	int fd;

	snprintf(path, sizeof(path), "/tmp/mlockdev-diff-%s", label);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return diff_fail(ctx, "%s: %s", path, strerror(errno));
	/* The name stays in smaps as "(deleted)", identical on both paths. */
	unlink(path);
	if (ftruncate(fd, pages * ctx->page)) {
		close(fd);
		return diff_fail(ctx, "ftruncate: %s", strerror(errno));
	}
	for (i = 0; fill && i < pages; i++)
		if (pwrite(fd, file_page, sizeof(file_page),
			   i * ctx->page) != sizeof(file_page)) {
			close(fd);
			return diff_fail(ctx, "write: %s", strerror(errno));
		}
	return fd;
}

static int file_map(struct diff_ctx *ctx, const char *label, long pages,
		    bool fill, int prot, int flags)
{
	int fd = diff_tmp_file(ctx, label, pages, fill);
	int ret;

	if (fd < 0)
		return -1;
	ret = new_map(ctx, label, pages * ctx->page, prot, flags, fd);
	close(fd);
	return ret;
}

/* Private anonymous, read-write: @arg pages. */
DIFF_STEP_FN(map_anon)
{
	return new_map(ctx, map, arg * ctx->page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1);
}

/* Private anonymous, read-only: only the zero page can be mapped. */
DIFF_STEP_FN(map_anon_ro)
{
	return new_map(ctx, map, arg * ctx->page, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1);
}

/* PROT_NONE: counted and VM_LOCKED by mlockall, never populated. */
DIFF_STEP_FN(map_none)
{
	return new_map(ctx, map, arg * ctx->page, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1);
}

DIFF_STEP_FN(map_shared_anon)
{
	return new_map(ctx, map, arg * ctx->page, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1);
}

/* A sparse tmpfs file, shared read-write. */
DIFF_STEP_FN(map_file_shared)
{
	return file_map(ctx, map, arg, false, PROT_READ | PROT_WRITE,
			MAP_SHARED);
}

/* A tmpfs file with contents, private read-write: populate copies it. */
DIFF_STEP_FN(map_file_private)
{
	return file_map(ctx, map, arg, true, PROT_READ | PROT_WRITE,
			MAP_PRIVATE);
}

/* A tmpfs file with contents, private read-only. */
DIFF_STEP_FN(map_file_ro)
{
	return file_map(ctx, map, arg, true, PROT_READ, MAP_PRIVATE);
}

static int new_memfd(struct diff_ctx *ctx, const char *label, long pages)
{
	int fd = memfd_create(label, MFD_CLOEXEC);

	if (fd < 0)
		return diff_fail(ctx, "memfd_create: %s", strerror(errno));
	if (ftruncate(fd, pages * ctx->page)) {
		close(fd);
		return diff_fail(ctx, "ftruncate: %s", strerror(errno));
	}
	return fd;
}

DIFF_STEP_FN(map_memfd)
{
	int fd = new_memfd(ctx, map, arg);
	int ret;

	if (fd < 0)
		return -1;
	ret = new_map(ctx, map, arg * ctx->page, PROT_READ | PROT_WRITE,
		      MAP_SHARED, fd);
	close(fd);
	return ret;
}

/*
 * The same memfd mapped twice, as "<map>" and "<map>.2": every page is
 * mapped by two VMAs of this process.
 */
DIFF_STEP_FN(map_memfd_twice)
{
	char second[DIFF_LABEL_LEN];
	int fd = new_memfd(ctx, map, arg);
	int ret;

	if (fd < 0)
		return -1;
	snprintf(second, sizeof(second), "%s.2", map);
	ret = new_map(ctx, map, arg * ctx->page, PROT_READ | PROT_WRITE,
		      MAP_SHARED, fd);
	if (!ret)
		ret = new_map(ctx, second, arg * ctx->page,
			      PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	close(fd);
	return ret;
}

/* A SysV segment, attached and already marked for removal. */
DIFF_STEP_FN(map_shm)
{
	size_t len = arg * ctx->page;
	void *p;
	int id;

	id = shmget(IPC_PRIVATE, len, IPC_CREAT | 0600);
	if (id < 0)
		return diff_fail(ctx, "shmget: %s", strerror(errno));
	p = shmat(id, NULL, 0);
	if (p == (void *)-1) {
		shmctl(id, IPC_RMID, NULL);
		return diff_fail(ctx, "shmat: %s", strerror(errno));
	}
	/* Gone with the last detach, even if the child dies. */
	shmctl(id, IPC_RMID, NULL);
	last_shm_id = id;
	return diff_add_map(ctx, map, p, len);
}

/* SHM_LOCK of the last segment: separate from mlockall, never undone by it. */
DIFF_STEP_FN(shm_lock)
{
	(void)map;
	(void)arg;
	if (last_shm_id < 0)
		return diff_fail(ctx, "no SysV segment");
	if (shmctl(last_shm_id, SHM_LOCK, NULL))
		return diff_fail(ctx, "SHM_LOCK: %s", strerror(errno));
	return 0;
}

/* @arg huge pages of private hugetlb memory (reserved by the parent). */
DIFF_STEP_FN(map_hugetlb)
{
	return new_map(ctx, map, arg * HPAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1);
}

/* memfd_secret() memory: never locked, never counted by mlockall. */
DIFF_STEP_FN(map_secret)
{
	int fd = syscall(SYS_memfd_secret, 0);
	int ret;

	if (fd < 0)
		return diff_fail(ctx, "memfd_secret: %s", strerror(errno));
	if (ftruncate(fd, arg * ctx->page)) {
		close(fd);
		return diff_fail(ctx, "ftruncate: %s", strerror(errno));
	}
	ret = new_map(ctx, map, arg * ctx->page, PROT_READ | PROT_WRITE,
		      MAP_SHARED, fd);
	close(fd);
	return ret;
}

/*
 * One PMD-mapped transparent huge page: a 2 MiB aligned, 2 MiB private
 * mapping with MADV_HUGEPAGE, written once.  Whether the THP was really
 * allocated is recorded (fact "thp"), since it depends on free memory.
 */
DIFF_STEP_FN(map_thp)
{
	char *p, *aligned;
	struct diff_map *m;

	(void)arg;
	p = mmap(NULL, 2 * HPAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return diff_fail(ctx, "mmap: %s", strerror(errno));
	aligned = (char *)(((uintptr_t)p + HPAGE_SIZE - 1) & ~(HPAGE_SIZE - 1));
	if (aligned > p)
		munmap(p, aligned - p);
	munmap(aligned + HPAGE_SIZE, p + 2 * HPAGE_SIZE - (aligned + HPAGE_SIZE));
	if (madvise(aligned, HPAGE_SIZE, MADV_HUGEPAGE))
		return diff_fail(ctx, "MADV_HUGEPAGE: %s", strerror(errno));
	aligned[0] = 1;
	if (diff_add_map(ctx, map, aligned, HPAGE_SIZE))
		return -1;
	m = diff_find_map(ctx, map);
	diff_read_map_pages(m, ctx->page);
	diff_fact(ctx, "thp", !!(m->page[0] & PG_THP));
	return 0;
}

/*
 * 2 * @arg pages of private anonymous memory, every other page read-only:
 * 2 * @arg VMAs, each with one page written.
 */
DIFF_STEP_FN(map_many)
{
	size_t len = 2 * arg * ctx->page;
	char *p;
	long i;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return diff_fail(ctx, "mmap: %s", strerror(errno));
	for (i = 0; i < 2 * arg; i++)
		p[i * ctx->page] = 1;
	for (i = 1; i < 2 * arg; i += 2)
		if (mprotect(p + i * ctx->page, ctx->page, PROT_READ))
			return diff_fail(ctx, "mprotect: %s", strerror(errno));
	return diff_add_map(ctx, map, p, len);
}

/*
 * @arg MiB of fresh private anonymous memory made of transparent huge
 * pages where it can be: 2 MiB aligned, MADV_HUGEPAGE, nothing touched
 * (populate allocates the THPs).  With THP off, map_anon_small is the
 * same memory with MADV_NOHUGEPAGE.
 */
DIFF_STEP_FN(map_big_thp)
{
	size_t len = (size_t)arg << 20;
	char *p, *aligned;

	p = mmap(NULL, len + HPAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return diff_fail(ctx, "mmap: %s", strerror(errno));
	aligned = (char *)(((uintptr_t)p + HPAGE_SIZE - 1) & ~(HPAGE_SIZE - 1));
	if (aligned > p)
		munmap(p, aligned - p);
	if (aligned + len < p + len + HPAGE_SIZE)
		munmap(aligned + len, p + len + HPAGE_SIZE - (aligned + len));
	if (madvise(aligned, len, MADV_HUGEPAGE))
		return diff_fail(ctx, "MADV_HUGEPAGE: %s", strerror(errno));
	return diff_add_map(ctx, map, aligned, len);
}

/*
 * @arg MiB of a tmpfs file with contents, in the page cache before the
 * lock: shared (populate maps the cached pages) or private and writable
 * (populate copies each one).
 */
DIFF_STEP_FN(map_big_file_shared)
{
	return file_map(ctx, map, (arg << 20) / ctx->page, true,
			PROT_READ | PROT_WRITE, MAP_SHARED);
}

DIFF_STEP_FN(map_big_file_private)
{
	return file_map(ctx, map, (arg << 20) / ctx->page, true,
			PROT_READ | PROT_WRITE, MAP_PRIVATE);
}

/* MAP_LOCKED before any mlockall: a VMA locked by someone else. */
DIFF_STEP_FN(map_locked)
{
	return new_map(ctx, map, arg * ctx->page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1);
}

/*
 * The usual mix most scenarios lock:
 *   anon    16 pages private read-write, the first 4 written
 *   ro       8 pages private read-only anonymous, nothing touched
 *   none     8 pages PROT_NONE
 *   shanon   8 pages shared anonymous, the first 2 written
 *   shfile   8 pages shared tmpfs file, the first 2 written
 *   pvfile   8 pages private tmpfs file with contents, the first 2 read
 */
DIFF_STEP_FN(map_mixed)
{
	struct diff_map *m;
	long i;

	(void)map;
	(void)arg;
	if (step_map_anon(ctx, "anon", 16) || step_map_anon_ro(ctx, "ro", 8) ||
	    step_map_none(ctx, "none", 8) ||
	    step_map_shared_anon(ctx, "shanon", 8) ||
	    step_map_file_shared(ctx, "shfile", 8) ||
	    step_map_file_private(ctx, "pvfile", 8))
		return -1;
	m = diff_find_map(ctx, "anon");
	for (i = 0; i < 4; i++)
		*(volatile char *)map_at(m, i, ctx->page) = 1;
	m = diff_find_map(ctx, "shanon");
	for (i = 0; i < 2; i++)
		*(volatile char *)map_at(m, i, ctx->page) = 1;
	m = diff_find_map(ctx, "shfile");
	for (i = 0; i < 2; i++)
		*(volatile char *)map_at(m, i, ctx->page) = 1;
	m = diff_find_map(ctx, "pvfile");
	for (i = 0; i < 2; i++)
		(void)*(volatile char *)map_at(m, i, ctx->page);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Touching                                                            */

/* Write one byte into each of the first @arg pages (all if @arg is 0). */
DIFF_STEP_FN(touch)
{
	struct diff_map *m;
	long i, n;

	NEED_MAP(m, map);
	n = arg ? arg : (long)(m->len / ctx->page);
	for (i = 0; i < n; i++)
		*(volatile char *)map_at(m, i, ctx->page) = 1;
	return 0;
}

/* Read one byte from each of the first @arg pages (all if @arg is 0). */
DIFF_STEP_FN(read)
{
	struct diff_map *m;
	long i, n;

	NEED_MAP(m, map);
	n = arg ? arg : (long)(m->len / ctx->page);
	for (i = 0; i < n; i++)
		(void)*(volatile char *)map_at(m, i, ctx->page);
	return 0;
}

/* ------------------------------------------------------------------ */
/* mlock(), munlock(), munmap(), mprotect(), mremap() of parts          */

/* The part these steps act on: pages [4, 8) of the mapping. */
#define PART_FIRST	4
#define PART_PAGES	4

static void record_call(struct diff_ctx *ctx, int ret)
{
	diff_record(ctx, ret ? -1 : 0, ret ? errno : 0, 1);
}

/* mlock() of pages [4, 8): splits the VMA in three. */
DIFF_STEP_FN(mlock_part)
{
	struct diff_map *m;

	(void)arg;
	NEED_MAP(m, map);
	record_call(ctx, mlock(map_at(m, PART_FIRST, ctx->page),
			       PART_PAGES * ctx->page));
	return 0;
}

/* mlock2(MLOCK_ONFAULT) of pages [4, 8). */
DIFF_STEP_FN(mlock_onfault_part)
{
	struct diff_map *m;

	(void)arg;
	NEED_MAP(m, map);
	record_call(ctx, mlock2(map_at(m, PART_FIRST, ctx->page),
				PART_PAGES * ctx->page, MLOCK_ONFAULT));
	return 0;
}

/* munlock() of pages [4, 8). */
DIFF_STEP_FN(munlock_part)
{
	struct diff_map *m;

	(void)arg;
	NEED_MAP(m, map);
	record_call(ctx, munlock(map_at(m, PART_FIRST, ctx->page),
				 PART_PAGES * ctx->page));
	return 0;
}

/* munmap() of pages [6, 8): a hole in the middle. */
DIFF_STEP_FN(munmap_part)
{
	struct diff_map *m;

	(void)arg;
	NEED_MAP(m, map);
	record_call(ctx, munmap(map_at(m, 6, ctx->page), 2 * ctx->page));
	return 0;
}

DIFF_STEP_FN(munmap_all)
{
	struct diff_map *m;

	(void)arg;
	NEED_MAP(m, map);
	record_call(ctx, munmap(map_at(m, 0, ctx->page), m->len));
	return 0;
}

/* mprotect(@arg) of pages [10, 12). */
DIFF_STEP_FN(mprotect_part)
{
	struct diff_map *m;

	NEED_MAP(m, map);
	record_call(ctx, mprotect(map_at(m, 10, ctx->page), 2 * ctx->page,
				  (int)arg));
	return 0;
}

DIFF_STEP_FN(mprotect_all)
{
	struct diff_map *m;

	NEED_MAP(m, map);
	record_call(ctx, mprotect(map_at(m, 0, ctx->page), m->len, (int)arg));
	return 0;
}

/* Give back the last 4 pages in place. */
DIFF_STEP_FN(mremap_shrink)
{
	struct diff_map *m;
	void *p;

	(void)arg;
	NEED_MAP(m, map);
	p = mremap(map_at(m, 0, ctx->page), m->len, m->len - 4 * ctx->page, 0);
	record_call(ctx, p == MAP_FAILED ? -1 : 0);
	return 0;
}

/*
 * Grow by @arg pages, moving if needed.  The mapping follows the move;
 * the pages it had keep their state.
 */
DIFF_STEP_FN(mremap_grow)
{
	size_t new_len;
	struct diff_map *m;
	void *p;

	NEED_MAP(m, map);
	new_len = m->len + arg * ctx->page;
	p = mremap(map_at(m, 0, ctx->page), m->len, new_len, MREMAP_MAYMOVE);
	record_call(ctx, p == MAP_FAILED ? -1 : 0);
	if (p != MAP_FAILED) {
		diff_fact(ctx, "mremap.moved", (uintptr_t)p != m->addr);
		m->addr = (uintptr_t)p;
		m->len = new_len;
	}
	return 0;
}

/*
 * Move the first 4 pages elsewhere (onto a PROT_NONE placeholder, so the
 * destination is the same on both paths); followed as "<map>.mv".
 */
DIFF_STEP_FN(mremap_move)
{
	char label[DIFF_LABEL_LEN];
	size_t len = 4 * ctx->page;
	struct diff_map *m;
	void *dst, *p;

	(void)arg;
	NEED_MAP(m, map);
	dst = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED)
		return diff_fail(ctx, "mmap: %s", strerror(errno));
	p = mremap(map_at(m, 0, ctx->page), len, len,
		   MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	record_call(ctx, p == MAP_FAILED ? -1 : 0);
	if (p == MAP_FAILED)
		return 0;
	snprintf(label, sizeof(label), "%s.mv", map);
	return diff_add_map(ctx, label, p, len);
}

/* ------------------------------------------------------------------ */
/* Privileges                                                          */

/* RLIMIT_MEMLOCK, soft and hard, to @arg bytes (-1: RLIM_INFINITY). */
static int set_memlock(struct diff_ctx *ctx, rlim_t bytes)
{
	struct rlimit rl = { .rlim_cur = bytes, .rlim_max = bytes };

	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return diff_fail(ctx, "setrlimit(RLIMIT_MEMLOCK, %llu): %s",
				 (unsigned long long)bytes, strerror(errno));
	return 0;
}

DIFF_STEP_FN(set_limit)
{
	(void)map;
	return set_memlock(ctx, arg < 0 ? RLIM_INFINITY : (rlim_t)arg);
}

/*
 * RLIMIT_MEMLOCK = VmSize + @arg pages, read right now: the next step must
 * be the lock, so that the kernel compares this very VmSize (total_vm).
 */
DIFF_STEP_FN(limit_vmsize)
{
	int64_t status[ST_NR];
	uint64_t cap;

	(void)map;
	if (diff_read_status(status, &cap))
		return diff_fail(ctx, "cannot read /proc/self/status");
	diff_fact(ctx, "VmSize.before", status[ST_VMSIZE]);
	return set_memlock(ctx, status[ST_VMSIZE] * 1024 + arg * ctx->page);
}

/* RLIMIT_MEMLOCK = VmLck + @arg pages: room for @arg more locked pages. */
DIFF_STEP_FN(limit_vmlck)
{
	int64_t status[ST_NR];
	uint64_t cap;

	(void)map;
	if (diff_read_status(status, &cap))
		return diff_fail(ctx, "cannot read /proc/self/status");
	return set_memlock(ctx, status[ST_VMLCK] * 1024 + arg * ctx->page);
}

static bool have_ipc_lock(void)
{
	int64_t status[ST_NR];
	uint64_t cap;

	if (diff_read_status(status, &cap))
		return false;
	return cap & (1ULL << CAP_IPC_LOCK);
}

/*
 * Drop CAP_IPC_LOCK from the effective and permitted sets (and the
 * inheritable one), staying root for everything else, and check that
 * /proc/self/status agrees.
 */
DIFF_STEP_FN(drop_cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	const unsigned int word = CAP_TO_INDEX(CAP_IPC_LOCK);
	const unsigned int bit = CAP_TO_MASK(CAP_IPC_LOCK);

	(void)map;
	(void)arg;
	if (syscall(SYS_capget, &hdr, data))
		return diff_fail(ctx, "capget: %s", strerror(errno));
	data[word].effective &= ~bit;
	data[word].permitted &= ~bit;
	data[word].inheritable &= ~bit;
	if (syscall(SYS_capset, &hdr, data))
		return diff_fail(ctx, "capset: %s", strerror(errno));
	if (have_ipc_lock())
		return diff_fail(ctx, "CapEff still has CAP_IPC_LOCK");
	return 0;
}

/* The "with CAP_IPC_LOCK" variants check that they really have it. */
DIFF_STEP_FN(need_cap)
{
	(void)map;
	(void)arg;
	if (!have_ipc_lock())
		return diff_fail(ctx, "no CAP_IPC_LOCK to begin with");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Follow-ups: new memory after the lock                               */

/* mmap() of @arg fresh private pages; the result is compared. */
DIFF_STEP_FN(mmap_new)
{
	size_t len = arg * ctx->page;
	void *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	record_call(ctx, p == MAP_FAILED ? -1 : 0);
	if (p == MAP_FAILED)
		return 0;
	return diff_add_map(ctx, map, p, len);
}

/* brk() up by @arg pages (raw system call: no malloc bookkeeping). */
DIFF_STEP_FN(brk_grow)
{
	unsigned long cur, want, got;

	cur = syscall(SYS_brk, 0UL);
	want = cur + arg * ctx->page;
	got = syscall(SYS_brk, want);
	/* brk() fails by returning the old break. */
	diff_record(ctx, got == want ? 0 : -1, got == want ? 0 : ENOMEM, 1);
	if (got != want)
		return 0;
	/* The break need not be page aligned: follow the whole pages. */
	cur = (cur + ctx->page - 1) & ~(ctx->page - 1);
	return diff_add_map(ctx, map, (void *)cur, want - cur);
}

static sigjmp_buf stack_jmp;

static void stack_segv(int sig)
{
	(void)sig;
	siglongjmp(stack_jmp, 1);
}

/*
 * Touch the page @arg pages below the start of [stack]: the stack VMA
 * grows down to it.  Past RLIMIT_MEMLOCK a locked stack cannot grow and
 * the touch gets SIGSEGV, recorded as -1/EFAULT.  The new part is
 * followed as test mapping @map.
 */
DIFF_STEP_FN(stack_grow)
{
	struct sigaction sa = { .sa_handler = stack_segv }, old;
	uint64_t start = diff_stack_start();
	volatile char *target;

	if (!start)
		return diff_fail(ctx, "no [stack] in /proc/self/maps");
	target = (volatile char *)(uintptr_t)(start - arg * ctx->page);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	if (sigaction(SIGSEGV, &sa, &old))
		return diff_fail(ctx, "sigaction: %s", strerror(errno));
	if (!sigsetjmp(stack_jmp, 1)) {
		*target = 1;
		diff_record(ctx, 0, 0, 1);
	} else {
		diff_record(ctx, -1, EFAULT, 1);
	}
	sigaction(SIGSEGV, &old, NULL);
	return diff_add_map(ctx, map, (void *)target, arg * ctx->page);
}

/* ------------------------------------------------------------------ */
/* Other processes                                                     */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* What a forked grandchild saw of its own memory. */
struct gc_report {
	int64_t vmlck_kb;
	int64_t lo_vmas;
	int64_t lf_vmas;
	int64_t probe_err;
	int64_t probe_lo;
	int64_t probe_resident;
	int64_t lock_err;
	int64_t unlock_err;
};

/* In the grandchild: VmLck, lock bits of its VMAs, and a fresh mapping. */
static void gc_look(struct diff_ctx *ctx, struct gc_report *r)
{
	struct diff_snapshot *snap = ctx->snap;	/* our own copy now */
	uint64_t cap;
	unsigned char vec[4];
	char *p;
	int i;

	diff_read_status(snap->status, &cap);
	r->vmlck_kb = snap->status[ST_VMLCK];
	diff_read_smaps(snap);
	for (i = 0; i < snap->nvmas; i++) {
		r->lo_vmas += snap->vma[i].lo;
		r->lf_vmas += snap->vma[i].lf;
	}
	p = mmap(NULL, 4 * ctx->page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		r->probe_err = errno;
		return;
	}
	diff_read_smaps(snap);
	for (i = 0; i < snap->nvmas; i++)
		if (snap->vma[i].start <= (uintptr_t)p &&
		    (uintptr_t)p < snap->vma[i].end)
			r->probe_lo = snap->vma[i].lo;
	if (!mincore(p, 4 * ctx->page, vec))
		for (i = 0; i < 4; i++)
			r->probe_resident += vec[i] & 1;
}

/*
 * Processes sharing our pages, without a race.
 *
 * After fork() every private page is shared copy-on-write.  Whoever writes
 * a shared page first gets a copy; the other, once alone, reuses it.  In a
 * locked VMA a copy mlocks a new page and munlocks the old one, which
 * /proc/vmstat counts and which decides which folios end up PG_mlocked.
 * With fork(), the order in which parent and child run their first
 * instructions (glibc's fork bookkeeping, the stack) is up to the
 * scheduler, and the snapshots of two identical runs would differ.  So:
 *
 *  - clone_and_reap() starts a grandchild with CLONE_VFORK: we stay
 *    suspended while it runs, and wait4() it (still inside the asm, so
 *    without touching our stack) before writing anything: every page it
 *    shared with us is ours alone again when we go on;
 *  - clone_holder() starts a grandchild that never writes to memory at
 *    all: it closes its copy of the pipe and sleeps in read() until we
 *    close ours, then exits.  Until then every page we write is copied.
 *
 * Neither runs glibc's fork handlers; the grandchildren only make plain
 * system calls.
 */
static int reap_status;

/* Return: 0 in the grandchild; its pid in the caller, once it is reaped. */
static long clone_and_reap(void)
{
	long rax = SYS_clone, rdi = CLONE_VFORK | SIGCHLD, rsi = 0, rdx = 0;
	register long r10 asm("r10") = 0;
	register long r8 asm("r8") = 0;
	int *status = &reap_status;

	asm volatile(
		"syscall\n\t"			/* clone(flags, 0, 0, 0, 0) */
		"test %%rax, %%rax\n\t"
		"jle 2f\n\t"			/* the grandchild, or -errno */
		"mov %%rax, %%r9\n"
		"1:\n\t"
		"mov %%r9, %%rdi\n\t"
		"mov %[status], %%rsi\n\t"
		"xor %%edx, %%edx\n\t"
		"xor %%r10d, %%r10d\n\t"
		"mov %[wait4], %%eax\n\t"
		"syscall\n\t"			/* wait4(pid, status, 0, NULL) */
		"cmp $-4, %%rax\n\t"		/* -EINTR */
		"je 1b\n"
		"2:"
		: "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10),
		  "+r"(r8)
		: [status] "r"(status), [wait4] "i"(SYS_wait4)
		: "rcx", "r9", "r11", "memory");
	return rax;
}

/* Return: the holder's pid, or -errno.  The holder never returns. */
static long clone_holder(int read_fd, int write_fd)
{
	long rax = SYS_clone, rdi = SIGCHLD, rsi = 0, rdx = 0;
	register long r10 asm("r10") = 0;
	register long r8 asm("r8") = 0;
	long rfd = read_fd, wfd = write_fd;

	asm volatile(
		"syscall\n\t"			/* clone(SIGCHLD, 0, 0, 0, 0) */
		"test %%rax, %%rax\n\t"
		"jnz 2f\n\t"
		"mov %[wfd], %%rdi\n\t"
		"mov %[close], %%eax\n\t"
		"syscall\n"			/* close(write_fd) */
		"1:\n\t"
		"mov %[rfd], %%rdi\n\t"
		"lea -128(%%rsp), %%rsi\n\t"	/* never written: no data comes */
		"mov $1, %%edx\n\t"
		"mov %[read], %%eax\n\t"
		"syscall\n\t"			/* read(read_fd, buf, 1) */
		"cmp $-4, %%rax\n\t"
		"je 1b\n\t"
		"xor %%edi, %%edi\n\t"
		"mov %[exit], %%eax\n\t"
		"syscall\n"			/* exit_group(0) */
		"2:"
		: "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10),
		  "+r"(r8)
		: [rfd] "r"(rfd), [wfd] "r"(wfd), [close] "i"(SYS_close),
		  [read] "i"(SYS_read), [exit] "i"(SYS_exit_group)
		: "rcx", "r11", "memory");
	return rax;
}

/*
 * Run @fn in a grandchild (see clone_and_reap()) and collect its report;
 * its exit status is recorded as fact "gc.exit".
 */
static int fork_grandchild(struct diff_ctx *ctx, struct gc_report *r,
			   void (*fn)(struct diff_ctx *, struct gc_report *,
				      long),
			   long arg)
{
	int res[2];
	long pid;

	memset(r, 0, sizeof(*r));
	if (pipe2(res, O_CLOEXEC))
		return diff_fail(ctx, "pipe: %s", strerror(errno));
	pid = clone_and_reap();
	if (pid < 0)
		return diff_fail(ctx, "clone: %s", strerror(-pid));
	if (!pid) {
		fn(ctx, r, arg);
		/* Small enough for the pipe buffer: never blocks. */
		syscall(SYS_exit_group, write_all(res[1], r, sizeof(*r)) ? 1 : 0);
	}
	close(res[1]);
	if (read_all(res[0], r, sizeof(*r)))
		memset(r, 0xff, sizeof(*r));
	close(res[0]);
	diff_fact(ctx, "gc.exit", reap_status);
	return 0;
}

static void gc_report_only(struct diff_ctx *ctx, struct gc_report *r,
			   long arg)
{
	(void)arg;
	gc_look(ctx, r);
}

/*
 * fork(): the grandchild must start unlocked (no VmLck, no "lo" VMA) and
 * must not inherit MCL_FUTURE; our own locks survive its exit (the
 * snapshot, taken after, shows them).
 */
DIFF_STEP_FN(fork_report)
{
	struct gc_report r;

	(void)map;
	(void)arg;
	if (fork_grandchild(ctx, &r, gc_report_only, 0))
		return -1;
	diff_fact(ctx, "gc.VmLck", r.vmlck_kb);
	diff_fact(ctx, "gc.lo_vmas", r.lo_vmas);
	diff_fact(ctx, "gc.lf_vmas", r.lf_vmas);
	diff_fact(ctx, "gc.probe_err", r.probe_err);
	diff_fact(ctx, "gc.probe_lo", r.probe_lo);
	diff_fact(ctx, "gc.probe_resident", r.probe_resident);
	return 0;
}

static void gc_lock_unlock(struct diff_ctx *ctx, struct gc_report *r,
			   long flags)
{
	ctx->step = DIFF_MAX_STEPS - 1;	/* results land in our own copy */
	diff_lock(ctx, (int)flags);
	r->lock_err = ctx->snap->step[ctx->step].err;
	diff_unlock(ctx);
	r->unlock_err = ctx->snap->step[ctx->step].err;
}

/*
 * Another process locks memory we share with it (through the same path),
 * then unlocks it and exits.  Our own locks must be unaffected: a folio
 * we still have mlocked stays mlocked (mm/mlock.c keeps a per-folio
 * mlock_count for this).
 */
DIFF_STEP_FN(fork_lock_unlock)
{
	struct gc_report r;

	(void)map;
	if (fork_grandchild(ctx, &r, gc_lock_unlock, arg))
		return -1;
	diff_fact(ctx, "gc.lock_err", r.lock_err);
	diff_fact(ctx, "gc.unlock_err", r.unlock_err);
	return 0;
}

/*
 * A grandchild that only waits, keeping every private page we have
 * shared copy-on-write with it, until the snapshot is taken (see
 * diff_release_holder()).  Locking must then break copy-on-write up
 * front in private writable mappings: pagemap's "exclusively mapped" bit.
 */
DIFF_STEP_FN(hold_cow)
{
	int fds[2];
	long pid;

	(void)map;
	(void)arg;
	if (pipe2(fds, O_CLOEXEC))
		return diff_fail(ctx, "pipe: %s", strerror(errno));
	pid = clone_holder(fds[0], fds[1]);
	if (pid < 0)
		return diff_fail(ctx, "clone: %s", strerror(-pid));
	close(fds[0]);
	ctx->holder_pid = pid;
	ctx->holder_fd = fds[1];
	return 0;
}

void diff_release_holder(struct diff_ctx *ctx)
{
	int status;

	if (ctx->holder_pid <= 0)
		return;
	close(ctx->holder_fd);
	waitpid(ctx->holder_pid, &status, 0);
	ctx->holder_pid = 0;
}

/* ------------------------------------------------------------------ */
/* exec                                                                */

/*
 * Replace this child's program with a fresh copy of the test, which goes
 * on with the next step (usually: a new mapping, then the snapshot).
 * The snapshot so far travels in a memfd.  Address space randomization is
 * turned off for the new image, so that both paths get the same layout
 * and the new image's VMAs can be compared address by address.  Every
 * argument has a fixed width for the same reason (the stack contents).
 */
DIFF_STEP_FN(exec_self)
{
	char sc_arg[12], step_arg[12], path_arg[12], res_arg[12], carry_arg[12];
	char sabotage_arg[12], null_arg[4], family_arg[4];
	char *argv[] = { "mlockdev_diff_test", "--continue", sc_arg, step_arg,
			 path_arg, res_arg, carry_arg, sabotage_arg, null_arg,
			 family_arg, NULL };
	int carry, res;

	(void)map;
	(void)arg;
	diff_release_holder(ctx);
	/* The old addresses mean nothing in the new image. */
	ctx->snap->nmaps = 0;
	ctx->snap->step[ctx->step].ran = 1;

	carry = memfd_create("mlockdev-diff-carry", 0);
	if (carry < 0)
		return diff_fail(ctx, "memfd_create: %s", strerror(errno));
	if (write_all(carry, ctx->snap, sizeof(*ctx->snap)))
		return diff_fail(ctx, "write: %s", strerror(errno));
	/* The pipe to the parent must survive exec. */
	res = fcntl(ctx->result_fd, F_GETFD);
	fcntl(ctx->result_fd, F_SETFD, res & ~FD_CLOEXEC);

	snprintf(sc_arg, sizeof(sc_arg), "%04d", ctx->sc_index);
	snprintf(step_arg, sizeof(step_arg), "%04d", ctx->step);
	snprintf(path_arg, sizeof(path_arg), "%d", ctx->path);
	snprintf(res_arg, sizeof(res_arg), "%04d", ctx->result_fd);
	snprintf(carry_arg, sizeof(carry_arg), "%04d", carry);
	snprintf(sabotage_arg, sizeof(sabotage_arg), "%d", ctx->sabotage);
	snprintf(null_arg, sizeof(null_arg), "%d", ctx->null_run);
	snprintf(family_arg, sizeof(family_arg), "%d", ctx->family);
	if (ctx->dev_fd >= 0)
		close(ctx->dev_fd);

	personality(PER_LINUX | ADDR_NO_RANDOMIZE);
	execv("/proc/self/exe", argv);
	return diff_fail(ctx, "exec /proc/self/exe: %s", strerror(errno));
}

/* Whether the snapshot came through the memfd intact. */
int diff_read_carry(int fd, struct diff_snapshot *snap)
{
	if (lseek(fd, 0, SEEK_SET) < 0 || read_all(fd, snap, sizeof(*snap)))
		return -1;
	close(fd);
	return snap->magic == DIFF_SNAPSHOT_MAGIC &&
	       snap->size == sizeof(*snap) ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* The probe every scenario ends with                                  */

/*
 * Does a fresh mapping come out locked and populated?  4 private pages,
 * followed as test mapping "probe"; the mmap() result is fact
 * "probe.err" (EAGAIN past RLIMIT_MEMLOCK under MCL_FUTURE).
 */
void diff_probe_mapping(struct diff_ctx *ctx)
{
	void *p = mmap(NULL, 4 * ctx->page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	diff_fact(ctx, "probe.err", p == MAP_FAILED ? errno : 0);
	if (p != MAP_FAILED)
		diff_add_map(ctx, "probe", p, 4 * ctx->page);
}

int diff_write_snapshot(int fd, const struct diff_snapshot *snap)
{
	return write_all(fd, snap, sizeof(*snap));
}
