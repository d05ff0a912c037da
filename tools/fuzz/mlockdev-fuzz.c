// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev-fuzz - a seeded random-operation fuzzer for /dev/mlockdev
 * (issue 13).
 *
 * A supervisor forks one fuzzing process; its threads mix the device's
 * ioctls (valid, mutated and with bad pointers) with small changes to the
 * address space, real mlock/mlockall calls, rlimit changes, forked children
 * that drop CAP_IPC_LOCK, and children killed in the middle of a long lock.
 * Most operations are cheap on purpose: coverage is operations per hour.
 *
 * Checked: every ioctl outcome is an errno the ABI documents (and exactly
 * the one it must be where the input decides it); periodically, with every
 * thread parked, VmLck equals the sum of the `lo` VMAs, and after an unlock
 * VmLck is 0 and no page outside a `lo` VMA is PG_mlocked; at the end, with
 * every fuzzing process gone, Mlocked/Unevictable/KPF_MLOCKED are back to
 * the baseline (selftests/invariants.c).
 *
 * The seed decides every choice; with --threads 1 the sequence of
 * operations is the same on every run (kill timing aside), so a failure is
 * replayed with the printed command line.  On failure the last operations
 * of the failing process are printed, oldest first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/mlockdev.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "invariants.h"

/* Where libc or older headers lack them; the kernel says EINVAL if it does too. */
#ifndef MCL_ONFAULT
#define MCL_ONFAULT		4
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT		1
#endif
#ifndef MADV_COLD
#define MADV_COLD		20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT		21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102	/* Linux 6.13 */
#endif
#ifndef MADV_GUARD_REMOVE
#define MADV_GUARD_REMOVE	103
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open		434
#endif
#ifndef SYS_mlock2
#define SYS_mlock2		325
#endif

#define PAGE		4096UL
#define MAX_REGIONS	48
#define MAX_THREADS	8
#define MEMFD_MAX	(4UL << 20)

/* ------------------------------------------------------------------ */
/* Options and state shared with the supervisor                        */

static struct {
	uint64_t seed;
	uint64_t max_ops;
	unsigned int seconds;
	unsigned int max_mb;
	unsigned int threads;
	unsigned int history;
	unsigned int check_ms;
	const char *dev;
	bool no_children;
} opt = {
	.max_ops = UINT64_MAX, .seconds = 10, .max_mb = 64, .threads = 2,
	.history = 32, .check_ms = 1000, .dev = "/dev/mlockdev",
};

enum op_kind {
	OP_VERSION, OP_LOCK, OP_UNLOCK, OP_LOCK_EX, OP_UNLOCK_EX, OP_BADCMD,
	OP_BADPTR, OP_MMAP, OP_MUNMAP, OP_MPROTECT, OP_MREMAP, OP_MADVISE,
	OP_TOUCH, OP_MLOCK, OP_MLOCKALL, OP_RLIMIT, OP_TRUNCATE, OP_FORK,
	OP_KILL, OP_NR
};

static const char *const op_name[OP_NR] = {
	"version", "lock", "unlock", "lock_ex", "unlock_ex", "badcmd",
	"badptr", "mmap", "munmap", "mprotect", "mremap", "madvise", "touch",
	"mlock", "mlockall", "rlimit", "truncate", "fork", "kill",
};

/*
 * Weights: ioctls and small mapping changes are cheap; fork and kill
 * (a child, a big mapping, a killed lock) are the heavy minority.
 */
static const unsigned int op_weight[OP_NR] = {
	[OP_VERSION] = 6, [OP_LOCK] = 8, [OP_UNLOCK] = 6, [OP_LOCK_EX] = 8,
	[OP_UNLOCK_EX] = 6, [OP_BADCMD] = 10, [OP_BADPTR] = 9, [OP_MMAP] = 8,
	[OP_MUNMAP] = 5, [OP_MPROTECT] = 4, [OP_MREMAP] = 2, [OP_MADVISE] = 7,
	[OP_TOUCH] = 4, [OP_MLOCK] = 5, [OP_MLOCKALL] = 2, [OP_RLIMIT] = 2,
	[OP_TRUNCATE] = 1, [OP_FORK] = 1, [OP_KILL] = 1,
};

/* In a MAP_SHARED page: the supervisor reads it after the fuzzer exits. */
struct shared {
	uint64_t ops;			/* operations started, all processes */
	uint64_t per_op[OP_NR];
	uint64_t checks;		/* quiet invariant checks passed */
	uint64_t children;		/* children forked */
	uint64_t kills;			/* children killed mid-lock */
	uint64_t ex_written;		/* handler EINVALs that wrote the struct */
	int stop;
	int failing;			/* a thread is printing its failure */
};
static struct shared *sh;

/* ------------------------------------------------------------------ */
/* Per-thread state: PRNG, history ring, touch recovery                */

struct hist {
	uint64_t n;			/* global operation number */
	char text[160];
};

struct tctx {
	int id;				/* thread, or 100+ for a child */
	uint64_t rng;
	struct hist *h;
	unsigned int hpos;
	sigjmp_buf jb;
	volatile sig_atomic_t in_touch;
	struct hist *cur;
	char *buf;			/* two RW pages for valid arguments */
};

static struct tctx tctx[MAX_THREADS];
static __thread struct tctx *T;
static bool in_child;

static uint64_t rnd(void)
{
	/* splitmix64: one state word, good enough, and trivially reseeded. */
	uint64_t z = (T->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static bool chance(unsigned int percent)
{
	return below(100) < percent;
}

static pthread_mutex_t hist_lock = PTHREAD_MUTEX_INITIALIZER;

/* Start the record of one operation; later hnote() calls append to it. */
static void __attribute__((format(printf, 1, 2))) hbegin(const char *fmt, ...)
{
	struct hist *e;
	va_list ap;

	/* Another thread is failing: stay still so its history holds. */
	while (__atomic_load_n(&sh->failing, __ATOMIC_RELAXED) && !in_child)
		pause();
	e = &T->h[T->hpos++ % opt.history];

	e->n = __atomic_fetch_add(&sh->ops, 1, __ATOMIC_RELAXED);
	snprintf(e->text, sizeof(e->text), "t%d ", T->id);
	va_start(ap, fmt);
	vsnprintf(e->text + strlen(e->text), sizeof(e->text) - strlen(e->text), fmt, ap);
	va_end(ap);
	T->cur = e;
}

static void __attribute__((format(printf, 1, 2))) hnote(const char *fmt, ...)
{
	struct hist *e = T->cur;
	size_t len = strlen(e->text);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->text + len, sizeof(e->text) - len, fmt, ap);
	va_end(ap);
}

static int hist_cmp(const void *a, const void *b)
{
	const struct hist *x = *(struct hist *const *)a;
	const struct hist *y = *(struct hist *const *)b;

	return x->n < y->n ? -1 : x->n > y->n;
}

/* The last operations of every thread of this process, oldest first. */
static void dump_history(void)
{
	static struct hist *all[MAX_THREADS * 1024];
	unsigned int i, j, n = 0, nt = in_child ? 1 : opt.threads;

	for (i = 0; i < nt; i++) {
		struct tctx *t = in_child ? T : &tctx[i];

		if (!t->h)
			continue;
		for (j = 0; j < opt.history; j++)
			if (t->h[j].text[0] && n < sizeof(all) / sizeof(all[0]))
				all[n++] = &t->h[j];
	}
	qsort(all, n, sizeof(all[0]), hist_cmp);
	fprintf(stderr, "mlockdev-fuzz: last %u operations (seed %" PRIu64 "):\n",
		n, opt.seed);
	for (i = 0; i < n; i++)
		fprintf(stderr, "  #%" PRIu64 " %s\n", all[i]->n, all[i]->text);
}

static void __attribute__((format(printf, 1, 2), noreturn)) fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&hist_lock);
	__atomic_store_n(&sh->failing, 1, __ATOMIC_RELAXED);
	/* Let the other threads finish what they are doing and park. */
	if (!in_child)
		usleep(200000);
	fprintf(stderr, "mlockdev-fuzz: FAIL (pid %d, %s %d): ", getpid(),
		in_child ? "child" : "thread", T ? T->id : -1);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (T && T->cur)
		fprintf(stderr, "mlockdev-fuzz: in operation #%" PRIu64 ": %s\n",
			T->cur->n, T->cur->text);
	if (T)
		dump_history();
	fflush(stderr);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	_exit(1);
}

static void init_thread(struct tctx *t, int id, uint64_t seed)
{
	t->id = id;
	t->rng = seed;
	t->h = calloc(opt.history, sizeof(*t->h));
	/* Each thread its own argument buffer: the others write theirs. */
	if (!t->buf)
		t->buf = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!t->h || t->buf == MAP_FAILED) {
		perror("calloc");
		exit(2);
	}
	T = t;
}

/* ------------------------------------------------------------------ */
/* The address space the fuzzer plays with                             */

enum rkind { R_ANON_PRIV, R_ANON_SHARED, R_MEMFD_SHARED, R_MEMFD_PRIV };
static const char *const rkind_name[] = {
	"anon-private", "anon-shared", "memfd-shared", "memfd-private",
};

struct region {
	uintptr_t addr;
	size_t len;
	enum rkind kind;
};

static struct region regions[MAX_REGIONS];
static unsigned int nregions;
static size_t mapped_bytes;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
/* Each operation holds it for reading; the quiet check for writing. */
static pthread_rwlock_t gate;
static int memfd = -1;
static size_t memfd_size;
static int devfd = -1;
static int self_pidfd = -1;
static int nullfd = -1;

/* Fixed areas the bad-pointer operations point into (never unmapped). */
static char *area_none;		/* PROT_NONE */
static char *area_ro;		/* read-only, a struct or two in it */
static char *area_edge;		/* one RW page, then a PROT_NONE one */

static void hist_errno(long ret, int err)
{
	if (ret < 0)
		hnote(" = -1 %s", strerrorname_np(err) ?: "?");
	else
		hnote(" = %ld", ret);
}

static void sigfault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (T && T->in_touch) {
		T->in_touch = 0;
		siglongjmp(T->jb, sig);
	}
	fail("unexpected signal %d at %p", sig, si->si_addr);
}

static size_t rnd_len(void)
{
	/* Mostly a few pages; sometimes 2-4 MiB, room for a huge page. */
	if (chance(90))
		return (1 + below(16)) * PAGE;
	return (512 + below(513)) * PAGE;
}

static int rnd_prot(void)
{
	static const int prots[] = {
		PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE, PROT_READ,
		PROT_NONE, PROT_READ | PROT_WRITE | PROT_EXEC, PROT_WRITE,
	};
	return prots[below(6)];
}

static void op_mmap(void)
{
	size_t len = rnd_len();
	enum rkind kind = below(4);
	int prot = rnd_prot(), flags, fd = -1;
	off_t off = 0;
	void *p;

	if (nregions >= MAX_REGIONS ||
	    mapped_bytes + len > (size_t)opt.max_mb << 20) {
		hbegin("mmap skipped (budget)");
		return;
	}
	flags = kind == R_ANON_PRIV || kind == R_MEMFD_PRIV ? MAP_PRIVATE : MAP_SHARED;
	if (kind <= R_ANON_SHARED) {
		flags |= MAP_ANONYMOUS;
	} else {
		fd = memfd;
		if (len > MEMFD_MAX)
			len = MEMFD_MAX;
		off = below(MEMFD_MAX / PAGE) * PAGE;
		if (off + len > MEMFD_MAX)
			off = 0;
	}
	if (chance(15))
		flags |= MAP_POPULATE;
	if (chance(10))
		flags |= MAP_LOCKED;
	if (chance(10))
		flags |= MAP_NORESERVE;
	hbegin("mmap(len=%zu, prot=%d, flags=%#x, %s, off=%lld)", len, prot,
	       flags, rkind_name[kind], (long long)off);
	p = mmap(NULL, len, prot, flags, fd, off);
	hist_errno(p == MAP_FAILED ? -1 : 0, errno);
	if (p == MAP_FAILED)
		return;
	hnote(" %p", p);
	regions[nregions++] = (struct region){ (uintptr_t)p, len, kind };
	mapped_bytes += len;
}

static struct region *pick_region(void)
{
	return nregions ? &regions[below(nregions)] : NULL;
}

static void drop_region(struct region *r)
{
	mapped_bytes -= r->len;
	*r = regions[--nregions];
}

/* A random page-aligned sub-range of @r. */
static void sub_range(const struct region *r, uintptr_t *start, size_t *len)
{
	size_t pages = r->len / PAGE, first = below(pages);

	if (chance(40)) {
		*start = r->addr;
		*len = r->len;
		return;
	}
	*start = r->addr + first * PAGE;
	*len = (1 + below(pages - first)) * PAGE;
}

static void op_munmap(void)
{
	struct region *r = pick_region();
	uintptr_t start;
	size_t len;
	int ret;

	if (!r) {
		hbegin("munmap skipped (nothing mapped)");
		return;
	}
	/* Whole, or a piece off either end: the table stays one range. */
	start = r->addr;
	len = r->len;
	if (r->len > PAGE && chance(50)) {
		len = (1 + below(r->len / PAGE - 1)) * PAGE;
		if (chance(50))
			start = r->addr + r->len - len;
	}
	hbegin("munmap(%#lx, %zu) of %#lx+%zu", (unsigned long)start, len,
	       (unsigned long)r->addr, r->len);
	ret = munmap((void *)start, len);
	hist_errno(ret, errno);
	if (ret)
		fail("munmap of our own mapping: %s", strerror(errno));
	if (len == r->len) {
		drop_region(r);
		return;
	}
	if (start == r->addr)
		r->addr += len;
	r->len -= len;
	mapped_bytes -= len;
}

static void op_mprotect(void)
{
	struct region *r = pick_region();
	uintptr_t start;
	size_t len;
	int prot = rnd_prot();

	if (!r) {
		hbegin("mprotect skipped (nothing mapped)");
		return;
	}
	sub_range(r, &start, &len);
	hbegin("mprotect(%#lx, %zu, %d)", (unsigned long)start, len, prot);
	hist_errno(mprotect((void *)start, len, prot), errno);
}

static void op_mremap(void)
{
	struct region *r = pick_region();
	size_t nlen;
	void *p;

	if (!r) {
		hbegin("mremap skipped (nothing mapped)");
		return;
	}
	nlen = (1 + below(2 * r->len / PAGE)) * PAGE;
	if (nlen > r->len && mapped_bytes + nlen - r->len > (size_t)opt.max_mb << 20)
		nlen = r->len / 2 ? r->len / 2 / PAGE * PAGE : PAGE;
	hbegin("mremap(%#lx, %zu, %zu, MAYMOVE)", (unsigned long)r->addr,
	       r->len, nlen);
	p = mremap((void *)r->addr, r->len, nlen, MREMAP_MAYMOVE);
	hist_errno(p == MAP_FAILED ? -1 : 0, errno);
	if (p == MAP_FAILED)
		return;
	hnote(" %p", p);
	mapped_bytes += nlen - r->len;
	r->addr = (uintptr_t)p;
	r->len = nlen;
}

static void op_madvise(void)
{
	static const struct { int advice; const char *name; } adv[] = {
		{ MADV_DONTNEED, "DONTNEED" }, { MADV_FREE, "FREE" },
		{ MADV_COLD, "COLD" }, { MADV_PAGEOUT, "PAGEOUT" },
		{ MADV_HUGEPAGE, "HUGEPAGE" }, { MADV_NOHUGEPAGE, "NOHUGEPAGE" },
		{ MADV_POPULATE_READ, "POPULATE_READ" },
		{ MADV_POPULATE_WRITE, "POPULATE_WRITE" },
		{ MADV_MERGEABLE, "MERGEABLE" }, { MADV_UNMERGEABLE, "UNMERGEABLE" },
		{ MADV_GUARD_INSTALL, "GUARD_INSTALL" },
		{ MADV_GUARD_REMOVE, "GUARD_REMOVE" },
		{ MADV_WILLNEED, "WILLNEED" }, { MADV_DONTFORK, "DONTFORK" },
		{ MADV_DOFORK, "DOFORK" }, { MADV_REMOVE, "REMOVE" },
	};
	struct region *r = pick_region();
	unsigned int i = below(sizeof(adv) / sizeof(adv[0]));
	uintptr_t start;
	size_t len;

	if (!r) {
		hbegin("madvise skipped (nothing mapped)");
		return;
	}
	sub_range(r, &start, &len);
	hbegin("madvise(%#lx, %zu, %s)", (unsigned long)start, len, adv[i].name);
	hist_errno(madvise((void *)start, len, adv[i].advice), errno);
}

static void op_touch(void)
{
	struct region *r = pick_region();
	volatile char *p;
	size_t i, n;
	bool write;
	int sig;

	if (!r) {
		hbegin("touch skipped (nothing mapped)");
		return;
	}
	write = chance(60);
	n = 1 + below(r->len / PAGE);
	hbegin("touch %s %zu pages of %#lx+%zu", write ? "write" : "read", n,
	       (unsigned long)r->addr, r->len);
	/* PROT_NONE, guard pages, a memfd past EOF: the fault is expected. */
	sig = sigsetjmp(T->jb, 1);
	if (sig) {
		hnote(" = signal %d", sig);
		return;
	}
	T->in_touch = 1;
	for (i = 0; i < n; i++) {
		p = (volatile char *)r->addr + below(r->len / PAGE) * PAGE;
		if (write)
			*p = (char)i;
		else
			(void)*p;
	}
	T->in_touch = 0;
	hnote(" = ok");
}

static void op_mlock(void)
{
	struct region *r = pick_region();
	uintptr_t start;
	size_t len;
	unsigned int how = below(3);
	long ret;

	if (!r) {
		hbegin("mlock skipped (nothing mapped)");
		return;
	}
	sub_range(r, &start, &len);
	hbegin("%s(%#lx, %zu)", how == 0 ? "mlock" : how == 1 ? "mlock2(ONFAULT)" :
	       "munlock", (unsigned long)start, len);
	if (how == 0)
		ret = mlock((void *)start, len);
	else if (how == 1)
		ret = syscall(SYS_mlock2, start, len, MLOCK_ONFAULT);
	else
		ret = munlock((void *)start, len);
	hist_errno(ret, errno);
}

static void op_truncate(void)
{
	size_t size = below(MEMFD_MAX / PAGE + 1) * PAGE;

	/* Shrinking puts shared mappings past EOF: SIGBUS, EFAULT when strict. */
	hbegin("ftruncate(memfd, %zu)", size);
	hist_errno(ftruncate(memfd, size), errno);
	memfd_size = size;
}

/* ------------------------------------------------------------------ */
/* The ioctls                                                          */

#define E(x)	(1ULL << (x))
/* What a lock or unlock may say whatever its input (Documentation/abi.rst, modes.rst). */
#define ERR_CALL	(E(EINVAL) | E(EPERM) | E(EINTR) | E(ENOMEM) | E(EAGAIN) | \
			 E(EACCES) | E(EFAULT))
#define ERR_PIDFD	(E(ESRCH) | E(EBADF))

/*
 * Check one outcome: @must is the set of errnos one of which the input
 * makes certain (0: none), @may what else the call may say.
 */
static void check(const char *what, long ret, int err, uint64_t must,
		  uint64_t may, bool may_succeed)
{
	hist_errno(ret, err);
	if (ret == 0 && !must && may_succeed)
		return;
	if (ret == 0)
		fail("%s succeeded; expected %s", what,
		     must ? "a certain error" : "an error");
	if (ret != -1)
		fail("%s returned %ld", what, ret);
	if (err >= 64 || !((must ?: may) & E(err)))
		fail("%s failed with %s (%d), not a documented errno here", what,
		     strerrorname_np(err) ?: "?", err);
}

static uint32_t rnd_mcl_flags(bool *valid)
{
	static const uint32_t good[] = {
		MCL_CURRENT, MCL_FUTURE, MCL_CURRENT | MCL_FUTURE,
		MCL_CURRENT | MCL_ONFAULT, MCL_FUTURE | MCL_ONFAULT,
		MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT,
	};
	static const uint32_t bad[] = { 0, MCL_ONFAULT, 8, 16, 0xffffffff,
					MCL_CURRENT | 0x100, 0x80000000 };
	uint32_t f;

	if (chance(80)) {
		*valid = true;
		return good[below(6)];
	}
	f = chance(70) ? bad[below(7)] : (uint32_t)rnd();
	*valid = f && !(f & ~7u) && (f & 3);
	return f;
}

/* Mostly zero; sometimes a reserved field carries a bit (must be EINVAL). */
static bool poison(void *field, size_t size, unsigned int percent)
{
	if (!chance(percent))
		return false;
	((unsigned char *)field)[below(size)] |= 1 << below(8);
	return true;
}

static void op_version(void)
{
	struct mlockdev_version *v = (void *)T->buf, before;
	bool bad = false;
	long ret;

	memset(v, 0, sizeof(*v));
	bad |= poison(&v->flags, sizeof(v->flags), 5);
	bad |= poison(&v->reserved0, sizeof(v->reserved0), 5);
	bad |= poison(v->reserved, sizeof(v->reserved), 5);
	/* Output-only fields may hold anything on input. */
	if (chance(20))
		memset(v->kernel_release, 'x', sizeof(v->kernel_release));
	before = *v;
	hbegin("ioctl(VERSION%s)", bad ? ", reserved set" : "");
	ret = ioctl(devfd, MLOCKDEV_IOC_VERSION, v);
	check("VERSION", ret, errno, bad ? E(EINVAL) : 0, 0, true);
	if (ret && memcmp(v, &before, sizeof(before)))
		fail("VERSION failed and changed the caller's struct");
	if (!ret && (v->abi_major != MLOCKDEV_ABI_MAJOR || v->reserved0 ||
		     v->reserved[0] || v->reserved[3] ||
		     !memchr(v->kernel_release, 0, sizeof(v->kernel_release))))
		fail("VERSION: abi %u.%u, reserved out not zero or release unterminated",
		     v->abi_major, v->abi_minor);
}

static void op_lock(bool lock)
{
	struct mlockdev_lockall *a = (void *)T->buf, before;
	bool valid = true, bad = false;
	long ret;

	memset(a, 0, sizeof(*a));
	if (lock)
		a->flags = rnd_mcl_flags(&valid);
	else if (chance(5)) {
		a->flags = 1 << below(32);
		valid = false;
	}
	bad |= poison(&a->reserved0, sizeof(a->reserved0), 5);
	bad |= poison(a->reserved, sizeof(a->reserved), 5);
	before = *a;
	hbegin("ioctl(%s, flags=%#x%s)", lock ? "LOCK_ALL" : "UNLOCK_ALL",
	       a->flags, bad ? ", reserved set" : "");
	ret = ioctl(devfd, lock ? MLOCKDEV_IOC_LOCK_ALL : MLOCKDEV_IOC_UNLOCK_ALL, a);
	check(lock ? "LOCK_ALL" : "UNLOCK_ALL", ret, errno,
	      (bad || !valid) ? E(EINVAL) : 0, ERR_CALL, true);
	if (memcmp(a, &before, sizeof(before)))
		fail("LOCK_ALL/UNLOCK_ALL changed its _IOW argument");
}

/*
 * LOCK_ALL_EX / UNLOCK_ALL_EX with sizes around the known one, mode flags,
 * pidfds and workers.  The buffer is two pages so that a size up to a page
 * is readable.
 */
static void op_ex(bool lock)
{
	struct mlockdev_lockall_ex *l = (void *)T->buf;
	struct mlockdev_unlockall_ex *u = (void *)T->buf;
	static __thread unsigned char before[2 * 4096];	/* per thread, as T->buf */
	uint64_t must = 0, may = ERR_CALL;
	uint32_t size = MLOCKDEV_LOCKALL_EX_SIZE_VER0, r = below(100);
	bool valid = true, tail = false, fdset = false, abi_valid;
	uint64_t mode = 0;
	int pidfd = 0;
	long ret;
	int err;

	memset(T->buf, 0, 2 * PAGE);
	/* Sizes: known, bigger with a zero tail, smaller, over a page, bogus. */
	if (r < 70)
		size = MLOCKDEV_LOCKALL_EX_SIZE_VER0;
	else if (r < 80)
		size = MLOCKDEV_LOCKALL_EX_SIZE_VER0 + 1 + below(PAGE - 288);
	else if (r < 88)
		size = below(MLOCKDEV_LOCKALL_EX_SIZE_VER0);
	else if (r < 94)
		size = PAGE + 1 + below(3) * (below(1 << 20) + 1);
	else
		size = (uint32_t)rnd() | 0x80000000u;
	if (size > MLOCKDEV_LOCKALL_EX_SIZE_VER0 && size <= PAGE && chance(40)) {
		T->buf[MLOCKDEV_LOCKALL_EX_SIZE_VER0 +
			 below(size - MLOCKDEV_LOCKALL_EX_SIZE_VER0)] = 1 + below(255);
		tail = true;
	}
	if (lock) {
		l->flags = rnd_mcl_flags(&valid);
	} else if (chance(5)) {
		u->flags = 1 << below(32);
		valid = false;
	}
	/*
	 * Bad mlockall flags are the call's own EINVAL, after the arguments
	 * were accepted: the report may be filled in (mlockdev.h), so only
	 * the ABI's own rejections must leave the struct alone.
	 */
	abi_valid = lock || valid;
	r = below(100);
	if (r < 50)
		mode = 0;
	else if (r < 90)
		mode = rnd() & 7;
	else
		mode = 1ULL << (3 + below(61));
	if (mode & ~7ULL || (!lock && (mode & MLOCKDEV_LOCK_STRICT)))
		valid = abi_valid = false;
	if (mode & MLOCKDEV_LOCK_PIDFD) {
		static const int bad_fds[] = { -1, 9999, -100 };

		r = below(100);
		if (r < 60)
			pidfd = self_pidfd;
		else if (r < 75)
			pidfd = nullfd;
		else if (r < 85)
			pidfd = devfd;
		else
			pidfd = bad_fds[below(3)];
		may |= ERR_PIDFD;
	} else if (chance(5)) {
		pidfd = 1 + below(100);
		fdset = true;	/* a pidfd without the flag: EINVAL */
	}
	l->size = size;
	l->mode_flags = mode;
	l->pidfd = pidfd;
	if (lock) {
		static const uint32_t workers[] = { 0, 0, 1, 2, 3, MLOCKDEV_WORKERS_AUTO,
						    64, 100000 };
		l->workers = workers[below(8)];
		if (poison(l->reserved, sizeof(l->reserved), 5))
			valid = abi_valid = false;
	} else {
		if (poison(&u->reserved0, sizeof(u->reserved0), 5) ||
		    poison(u->reserved, sizeof(u->reserved), 5))
			valid = abi_valid = false;
	}
	/* The report is output only: any input is ignored. */
	if (chance(20))
		memset(&l->report, 0xa5, sizeof(l->report));
	if (fdset)
		valid = abi_valid = false;
	if (size < MLOCKDEV_LOCKALL_EX_SIZE_VER0)
		must |= E(EINVAL);
	else if (size > PAGE || tail)
		must |= E(E2BIG);
	else if (!valid)
		must |= E(EINVAL);
	/* The target may be looked up before the flags are. */
	if (must == E(EINVAL) && (mode & MLOCKDEV_LOCK_PIDFD) && !(mode & ~7ULL))
		must |= ERR_PIDFD;
	memcpy(before, T->buf, sizeof(before));
	hbegin("ioctl(%s, size=%u%s, flags=%#x, mode=%#" PRIx64 ", pidfd=%d, workers=%u%s)",
	       lock ? "LOCK_ALL_EX" : "UNLOCK_ALL_EX", size, tail ? " tail!=0" : "",
	       l->flags, mode, pidfd, lock ? l->workers : 0, valid ? "" : ", invalid");
	ret = ioctl(devfd, lock ? MLOCKDEV_IOC_LOCK_ALL_EX : MLOCKDEV_IOC_UNLOCK_ALL_EX,
		    T->buf);
	err = errno;
	check(lock ? "LOCK_ALL_EX" : "UNLOCK_ALL_EX", ret, err, must, may, true);
	/*
	 * Rejected arguments leave the struct alone (Documentation/abi.rst):
	 * the dispatcher's size and tail checks, and every EINVAL, write
	 * nothing back (kernel/core.c).
	 */
	if (ret && must && memcmp(before, T->buf, sizeof(before))) {
		if (size < MLOCKDEV_LOCKALL_EX_SIZE_VER0 || size > PAGE || tail)
			fail("an EX call refused its size or tail and changed the struct");
		if (err == EINVAL)
			fail("an EX call failed with EINVAL and changed the struct");
		__atomic_fetch_add(&sh->ex_written, 1, __ATOMIC_RELAXED);
		hnote(" (struct written)");
	}
	if (!ret && size >= sizeof(*l) && l->report.reserved0)
		fail("EX report.reserved0 is %u", l->report.reserved0);
}

static const uint32_t known_cmds[] = {
	MLOCKDEV_IOC_VERSION, MLOCKDEV_IOC_LOCK_ALL, MLOCKDEV_IOC_UNLOCK_ALL,
	MLOCKDEV_IOC_LOCK_ALL_EX, MLOCKDEV_IOC_UNLOCK_ALL_EX,
};
#define NKNOWN	(sizeof(known_cmds) / sizeof(known_cmds[0]))

static bool is_known(uint32_t cmd)
{
	unsigned int i;

	for (i = 0; i < NKNOWN; i++)
		if (cmd == known_cmds[i])
			return true;
	return false;
}

/*
 * ioctl types the VFS answers itself before the driver sees the command
 * (FIOCLEX, FIONBIO, FIFREEZE, FIGETBSZ, FICLONE, FS_IOC_*): not ours.
 */
static bool vfs_type(uint32_t cmd)
{
	uint32_t type = _IOC_TYPE(cmd);

	return type == 0 || type == 'T' || type == 'X' || type == 'f' ||
	       type == 0x94 || type == 0x15;
}

static void op_badcmd(void)
{
	uint32_t cmd;
	void *arg;
	long ret;

	do {
		uint32_t base = known_cmds[below(NKNOWN)];
		uint32_t dir = _IOC_DIR(base), type = _IOC_TYPE(base);
		uint32_t nr = _IOC_NR(base), size = _IOC_SIZE(base);

		switch (below(6)) {
		case 0:	/* neighbouring numbers */
			nr = (nr + (chance(50) ? 1 : -1)) & 0xff;
			if (chance(50))
				nr = below(16);
			break;
		case 1:	/* neighbouring sizes */
			size = (size + (int)below(17) - 8) & _IOC_SIZEMASK;
			if (chance(20))
				size = chance(50) ? 0 : below(_IOC_SIZEMASK + 1);
			break;
		case 2:	/* every direction */
			dir = below(4);
			break;
		case 3:	/* the neighbouring types */
			type = chance(50) ? 0xb8 : 0xba;
			break;
		case 4:	/* all of it */
			dir = below(4);
			nr = below(256);
			size = below(_IOC_SIZEMASK + 1);
			break;
		default:
			cmd = (uint32_t)rnd();
			goto got;
		}
		cmd = _IOC(dir, type, nr, size);
got:;
	} while (is_known(cmd) || vfs_type(cmd));
	/* The command is looked at first: whatever the pointer, ENOTTY. */
	arg = chance(80) ? (void *)T->buf : chance(50) ? NULL : (void *)area_none;
	hbegin("ioctl(%#x dir=%u type=%#x nr=%u size=%u, %p)", cmd, _IOC_DIR(cmd),
	       _IOC_TYPE(cmd), _IOC_NR(cmd), _IOC_SIZE(cmd), arg);
	ret = ioctl(devfd, cmd, arg);
	check("unknown command", ret, errno, E(ENOTTY), 0, false);
}

/* An address that nothing maps, checked (under table_lock) with mincore. */
static void *unmapped_addr(void)
{
	unsigned char vec;
	uintptr_t a;
	int tries;

	for (tries = 0; tries < 16; tries++) {
		a = (uintptr_t)(sizeof(long) == 8 ? 0x100000000000ULL : 0x10000000UL) +
		    (uintptr_t)below(1 << 16) * PAGE;
		if (mincore((void *)a, PAGE, &vec) && errno == ENOMEM)
			return (void *)a;
	}
	return NULL;
}

static void op_badptr(void)
{
	uint32_t cmd = known_cmds[below(NKNOWN)];
	size_t size = _IOC_SIZE(cmd);
	bool ex = cmd == MLOCKDEV_IOC_LOCK_ALL_EX || cmd == MLOCKDEV_IOC_UNLOCK_ALL_EX;
	uint64_t must = E(EFAULT), may = 0;
	const char *what;
	char *arg;
	long ret;

	switch (below(8)) {
	case 0:
		what = "NULL";
		arg = NULL;
		break;
	case 1:
		what = "low";
		arg = (char *)(uintptr_t)(1 + below(PAGE - 1));
		break;
	case 2:
		what = "unmapped";
		arg = unmapped_addr();
		if (!arg) {
			hbegin("badptr skipped (no unmapped address found)");
			return;
		}
		break;
	case 3:
		what = "kernel";
		arg = (char *)(uintptr_t)(sizeof(long) == 8 ?
			(chance(50) ? 0xffff888000000000ULL : 0xffffffff81000000ULL) :
			(chance(50) ? 0xffffe000UL : 0xfffff000UL));
		break;
	case 4:
		what = "PROT_NONE";
		arg = area_none + below(PAGE / 8) * 8;
		break;
	case 5:
		/* Read-only: copy-in works, copy-out (if any) must fault. */
		what = "read-only";
		arg = area_ro + (chance(50) ? 0 : 2048);
		must = 0;
		may = ERR_CALL | ERR_PIDFD;
		break;
	case 6:
		/* The struct runs off the end of the mapping. */
		what = "straddling";
		arg = area_edge + PAGE - 1 - below(size - 1);
		memset(arg, 0, area_edge + PAGE - arg);
		if (ex && area_edge + PAGE - arg >= 4)
			*(uint32_t *)arg = MLOCKDEV_LOCKALL_EX_SIZE_VER0;
		break;
	default:
		/* An EX struct whose size reaches past the mapping's end. */
		if (!ex) {
			hbegin("badptr skipped (oversize is for EX)");
			return;
		}
		what = "oversized";
		arg = area_edge + PAGE - MLOCKDEV_LOCKALL_EX_SIZE_VER0 - 8 * below(8);
		memset(arg, 0, area_edge + PAGE - arg);
		*(uint32_t *)arg = PAGE;
		break;
	}
	hbegin("ioctl(%#x, %s %p)", cmd, what, arg);
	ret = ioctl(devfd, cmd, arg);
	check("bad pointer", ret, errno, must, may, !must);
}

/* ------------------------------------------------------------------ */
/* Real syscalls, limits, children                                    */

static void op_mlockall(void)
{
	bool valid;
	uint32_t flags = rnd_mcl_flags(&valid);
	long ret;

	if (chance(40)) {
		hbegin("munlockall()");
		ret = munlockall();
	} else {
		hbegin("mlockall(%#x)", flags);
		ret = mlockall(flags);
	}
	hist_errno(ret, errno);
}

static void op_rlimit(void)
{
	static const rlim_t lim[] = { 0, 4096, 65536, 1 << 20, 16 << 20,
				      RLIM_INFINITY };
	struct rlimit rl;

	rl.rlim_cur = lim[below(6)];
	rl.rlim_max = RLIM_INFINITY;
	hbegin("setrlimit(MEMLOCK, %lld)", (long long)rl.rlim_cur);
	hist_errno(setrlimit(RLIMIT_MEMLOCK, &rl), errno);
}

/* Drop CAP_IPC_LOCK from every set: the limits apply again. */
static void drop_ipc_lock(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return;
	d[0].effective &= ~(1u << CAP_IPC_LOCK);
	d[0].permitted &= ~(1u << CAP_IPC_LOCK);
	d[0].inheritable &= ~(1u << CAP_IPC_LOCK);
	syscall(SYS_capset, &h, d);
}

static void quiet_check(const char *when, bool unlock);
static void run_ops(uint64_t n);

static void child_setup(uint64_t seed)
{
	static struct tctx ctx;

	ctx.buf = T->buf;	/* the forking thread's, copied */
	in_child = true;
	/* Only this thread was copied: nobody else holds these now. */
	pthread_mutex_init(&table_lock, NULL);
	pthread_mutex_init(&hist_lock, NULL);
	init_thread(&ctx, 100, seed);
}

static void reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail("waitpid: %s", strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		return;
	fail("child %d ended with status %#x", pid, status);
}

static void op_fork(void)
{
	uint64_t seed = rnd();
	bool drop = chance(70);
	pid_t pid;

	if (opt.no_children || in_child) {
		hbegin("fork skipped");
		return;
	}
	hbegin("fork(child seed %#" PRIx64 "%s)", seed, drop ? ", no CAP_IPC_LOCK" : "");
	__atomic_fetch_add(&sh->children, 1, __ATOMIC_RELAXED);
	pid = fork();
	if (pid < 0) {
		hist_errno(-1, errno);
		return;
	}
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		child_setup(seed);
		if (drop)
			drop_ipc_lock();
		run_ops(16 + below(48));
		quiet_check("child exit", true);
		_exit(0);
	}
	hnote(" = %d", pid);
	reap(pid);
}

/*
 * A child maps a lot and locks it in a loop; the parent kills it in the
 * middle of a call, sometimes after locking it from outside by pidfd.
 */
static void op_kill(void)
{
	size_t len = ((size_t)opt.max_mb << 20) / 2;
	uint64_t seed = rnd();
	unsigned int delay = below(20000), how = below(3);
	int pfd[2], pidfd;
	char c;
	pid_t pid;
	long ret;

	if (opt.no_children || in_child) {
		hbegin("kill skipped");
		return;
	}
	if (len > (32UL << 20))
		len = 32UL << 20;
	if (pipe(pfd))
		fail("pipe: %s", strerror(errno));
	hbegin("kill(child locking %zu MiB, after %u us, how %u)", len >> 20, delay, how);
	__atomic_fetch_add(&sh->kills, 1, __ATOMIC_RELAXED);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		hist_errno(-1, errno);
		return;
	}
	if (!pid) {
		struct mlockdev_lockall_ex ex;
		void *big;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		child_setup(seed);
		close(pfd[0]);
		big = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (big == MAP_FAILED)
			_exit(0);
		if (write(pfd[1], "r", 1) != 1)
			_exit(0);
		for (;;) {
			memset(&ex, 0, sizeof(ex));
			ex.size = sizeof(ex);
			ex.flags = MCL_CURRENT | (chance(30) ? MCL_FUTURE : 0);
			ex.mode_flags = chance(30) ? MLOCKDEV_LOCK_STRICT : 0;
			ex.workers = below(3);
			ioctl(devfd, MLOCKDEV_IOC_LOCK_ALL_EX, &ex);
			if (chance(50)) {
				struct mlockdev_unlockall un = { 0 };

				ioctl(devfd, MLOCKDEV_IOC_UNLOCK_ALL, &un);
				/* Gone again: the next lock populates anew. */
				madvise(big, len, MADV_DONTNEED);
			}
		}
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1) {
		close(pfd[0]);
		reap(pid);
		hnote(" = child gave up");
		return;
	}
	close(pfd[0]);
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (how == 1 && pidfd >= 0) {
		/* Lock it from outside while it locks itself. */
		struct mlockdev_lockall_ex ex = {
			.size = sizeof(ex), .flags = MCL_CURRENT,
			.mode_flags = MLOCKDEV_LOCK_PIDFD, .pidfd = pidfd,
		};
		ret = ioctl(devfd, MLOCKDEV_IOC_LOCK_ALL_EX, &ex);
		check("pidfd lock of a live child", ret, errno, 0,
		      ERR_CALL | ERR_PIDFD, true);
	}
	usleep(delay);
	kill(pid, SIGKILL);
	reap(pid);
	if (how == 2 && pidfd >= 0) {
		/* A reaped target is gone: ESRCH and nothing else. */
		struct mlockdev_lockall_ex ex = {
			.size = sizeof(ex), .flags = MCL_CURRENT,
			.mode_flags = MLOCKDEV_LOCK_PIDFD, .pidfd = pidfd,
		};
		ret = ioctl(devfd, MLOCKDEV_IOC_LOCK_ALL_EX, &ex);
		check("pidfd lock of a reaped child", ret, errno, E(ESRCH), 0, false);
	}
	if (pidfd >= 0)
		close(pidfd);
	hnote(" killed");
}

/* ------------------------------------------------------------------ */
/* Invariants of a quiet process                                       */

struct lock_view {
	long vmlck_kb;
	long lo_kb;		/* sum of Size: of VMAs with `lo` */
	unsigned int lo_vmas;
};

/* smaps and status with open/read into a static buffer: no stdio, no malloc. */
static int read_lock_view(struct lock_view *v)
{
	static char buf[1 << 20];
	ssize_t n, got = 0;
	long size_kb = 0;
	char *line, *next;
	int fd;

	memset(v, 0, sizeof(*v));
	v->vmlck_kb = -1;
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	line = strstr(buf, "VmLck:");
	if (line)
		v->vmlck_kb = strtol(line + 6, NULL, 10);
	fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = 0;
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (!strncmp(line, "Size:", 5))
			size_kb = strtol(line + 5, NULL, 10);
		else if (!strncmp(line, "VmFlags:", 8) &&
			 (strstr(line, " lo ") || !strcmp(line + strlen(line) - 3, " lo"))) {
			v->lo_kb += size_kb;
			v->lo_vmas++;
		}
	}
	return v->vmlck_kb < 0 ? -1 : 0;
}

static int live_children;	/* in the fuzzing process, under the gate */

/*
 * With every thread of this process parked: VmLck is the sum of the `lo`
 * VMAs (design.rst: locked_vm moves by exact deltas, and nothing here
 * makes account_locked_vm() charges); after an unlock, 0, and no present
 * page outside a `lo` VMA is PG_mlocked -- unless another process maps it
 * locked (design.rst, "Pages locked through two VMAs"), which is why that
 * part is skipped while children live.
 */
static void quiet_check(const char *when, bool unlock)
{
	struct lock_view v;
	struct inv_vma_report rep;
	int err;

	if (read_lock_view(&v))
		fail("%s: cannot read /proc/self/status or smaps", when);
	if (v.vmlck_kb != v.lo_kb)
		fail("%s: VmLck %ld kB, but the %u `lo` VMAs add up to %ld kB",
		     when, v.vmlck_kb, v.lo_vmas, v.lo_kb);
	if (!unlock)
		goto out;
	if (chance(50)) {
		struct mlockdev_unlockall un = { 0 };

		hbegin("[check] ioctl(UNLOCK_ALL)");
		hist_errno(ioctl(devfd, MLOCKDEV_IOC_UNLOCK_ALL, &un), errno);
	} else {
		hbegin("[check] munlockall()");
		hist_errno(munlockall(), errno);
	}
	if (read_lock_view(&v))
		fail("%s: cannot read /proc/self/status or smaps", when);
	if (v.vmlck_kb || v.lo_vmas)
		fail("%s: after unlocking all, VmLck %ld kB and %u `lo` VMAs (%ld kB)",
		     when, v.vmlck_kb, v.lo_vmas, v.lo_kb);
	if (in_child || live_children)
		goto out;
	inv_settle();
	err = inv_unlocked_vmas(0, &rep);
	if (!err && rep.pages)
		fail("%s: %lu PG_mlocked pages in %lu VMAs without `lo`, first at %#lx (%s)",
		     when, rep.pages, rep.vmas, rep.first_addr, rep.first_name);
out:
	__atomic_fetch_add(&sh->checks, 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */

static struct timespec t_start;

static double elapsed(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t_start.tv_sec) +
	       (now.tv_nsec - t_start.tv_nsec) / 1e9;
}

static bool done(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_RELAXED) ||
	       __atomic_load_n(&sh->ops, __ATOMIC_RELAXED) >= opt.max_ops ||
	       elapsed() >= opt.seconds;
}

static enum op_kind pick_op(void)
{
	static unsigned int total;
	unsigned int i, r;

	if (!total)
		for (i = 0; i < OP_NR; i++)
			total += op_weight[i];
	r = below(total);
	for (i = 0; i < OP_NR; i++) {
		if (r < op_weight[i])
			return i;
		r -= op_weight[i];
	}
	return OP_VERSION;
}

static void one_op(void)
{
	enum op_kind k = pick_op();

	__atomic_fetch_add(&sh->per_op[k], 1, __ATOMIC_RELAXED);
	switch (k) {
	case OP_VERSION: op_version(); return;
	case OP_LOCK: op_lock(true); return;
	case OP_UNLOCK: op_lock(false); return;
	case OP_LOCK_EX: op_ex(true); return;
	case OP_UNLOCK_EX: op_ex(false); return;
	case OP_BADCMD: op_badcmd(); return;
	case OP_MLOCKALL: op_mlockall(); return;
	case OP_RLIMIT: op_rlimit(); return;
	default: break;
	}
	/* The rest change or read the region table (or need it still). */
	pthread_mutex_lock(&table_lock);
	switch (k) {
	case OP_BADPTR: op_badptr(); break;
	case OP_MMAP: op_mmap(); break;
	case OP_MUNMAP: op_munmap(); break;
	case OP_MPROTECT: op_mprotect(); break;
	case OP_MREMAP: op_mremap(); break;
	case OP_MADVISE: op_madvise(); break;
	case OP_TOUCH: op_touch(); break;
	case OP_MLOCK: op_mlock(); break;
	case OP_TRUNCATE: op_truncate(); break;
	case OP_FORK:
	case OP_KILL:
		if (!in_child)
			live_children++;
		/* fork with the table lock held: the child's copy is consistent. */
		k == OP_FORK ? op_fork() : op_kill();
		if (!in_child)
			live_children--;
		break;
	default: break;
	}
	pthread_mutex_unlock(&table_lock);
}

/* A child: @n operations, single-threaded, no gate. */
static void run_ops(uint64_t n)
{
	while (n-- && !__atomic_load_n(&sh->stop, __ATOMIC_RELAXED))
		one_op();
}

static void *fuzz_thread(void *arg)
{
	struct tctx *t = arg;
	double next_check = opt.check_ms / 1000.0;

	T = t;
	while (!done()) {
		/* Thread 0 parks everyone now and then and checks. */
		if (t->id == 0 && elapsed() >= next_check) {
			pthread_rwlock_wrlock(&gate);
			quiet_check("periodic check", chance(50));
			pthread_rwlock_unlock(&gate);
			next_check = elapsed() + opt.check_ms / 1000.0;
		}
		pthread_rwlock_rdlock(&gate);
		one_op();
		pthread_rwlock_unlock(&gate);
	}
	return NULL;
}

static void *map_fixed_area(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

/* The fuzzing process: set up, run the threads, check, exit. */
static int fuzz_main(void)
{
	pthread_t th[MAX_THREADS];
	pthread_rwlockattr_t ra;
	struct sigaction sa;
	unsigned int i;

	devfd = open(opt.dev, O_RDWR | O_CLOEXEC);
	if (devfd < 0) {
		fprintf(stderr, "mlockdev-fuzz: %s: %s\n", opt.dev, strerror(errno));
		return 2;
	}
	memfd = memfd_create("mlockdev-fuzz", MFD_CLOEXEC);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	self_pidfd = syscall(SYS_pidfd_open, getpid(), 0);
	if (memfd < 0 || nullfd < 0 || ftruncate(memfd, MEMFD_MAX / 2)) {
		perror("mlockdev-fuzz: set-up");
		return 2;
	}
	memfd_size = MEMFD_MAX / 2;
	area_none = map_fixed_area(PAGE, PROT_NONE);
	area_ro = map_fixed_area(PAGE, PROT_READ | PROT_WRITE);
	{
		/* At 2048 a valid EX struct: the call runs, the copy-out faults. */
		struct mlockdev_lockall_ex ex = {
			.size = sizeof(ex), .flags = MCL_FUTURE,
		};
		memcpy(area_ro + 2048, &ex, sizeof(ex));
	}
	mprotect(area_ro, PAGE, PROT_READ);
	area_edge = map_fixed_area(2 * PAGE, PROT_READ | PROT_WRITE);
	mprotect(area_edge + PAGE, PAGE, PROT_NONE);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigfault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	pthread_rwlockattr_init(&ra);
	/* Writer preference: the checker must not starve behind the ops. */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&gate, &ra);

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	for (i = 0; i < opt.threads; i++) {
		init_thread(&tctx[i], i, opt.seed * 0x100000001b3ULL + i + 1);
		if (i && pthread_create(&th[i], NULL, fuzz_thread, &tctx[i])) {
			perror("pthread_create");
			return 2;
		}
	}
	fuzz_thread(&tctx[0]);
	for (i = 1; i < opt.threads; i++)
		pthread_join(th[i], NULL);
	T = &tctx[0];
	quiet_check("final check", true);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The supervisor                                                      */

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: mlockdev-fuzz [--seed N] [--seconds S] [--ops N] [--max-mb M]\n"
		"                     [--threads T] [--history N] [--check-ms MS]\n"
		"                     [--no-children] [--device PATH]\n"
		"Random operations on /dev/mlockdev and the address space around it,\n"
		"checking errnos and the locked-memory invariants.  Needs root.\n"
		"Exit: 0 clean, 1 a failure (the last operations are printed), 2 set-up.\n");
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", 1, NULL, 's' }, { "seconds", 1, NULL, 't' },
		{ "ops", 1, NULL, 'n' }, { "max-mb", 1, NULL, 'm' },
		{ "threads", 1, NULL, 'j' }, { "history", 1, NULL, 'H' },
		{ "check-ms", 1, NULL, 'c' }, { "device", 1, NULL, 'd' },
		{ "no-children", 0, NULL, 'N' }, { "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct inv_counters base, now;
	bool have_base, seeded = false;
	char why[512];
	int c, status, rc;
	double secs;
	pid_t pid;

	while ((c = getopt_long(argc, argv, "s:t:n:m:j:H:c:d:Nh", lo, NULL)) != -1) {
		switch (c) {
		case 's': opt.seed = strtoull(optarg, NULL, 0); seeded = true; break;
		case 't': opt.seconds = strtoul(optarg, NULL, 0); break;
		case 'n': opt.max_ops = strtoull(optarg, NULL, 0); break;
		case 'm': opt.max_mb = strtoul(optarg, NULL, 0); break;
		case 'j': opt.threads = strtoul(optarg, NULL, 0); break;
		case 'H': opt.history = strtoul(optarg, NULL, 0); break;
		case 'c': opt.check_ms = strtoul(optarg, NULL, 0); break;
		case 'd': opt.dev = optarg; break;
		case 'N': opt.no_children = true; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc || !opt.threads || opt.threads > MAX_THREADS ||
	    !opt.history || opt.history > 1024 || opt.max_mb < 1)
		usage(2);
	if (!seeded) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		opt.seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
	}
	printf("mlockdev-fuzz: seed %" PRIu64 " (%zu-bit), %u s, at most %" PRIu64
	       " ops, %u MiB, %u threads\n", opt.seed, sizeof(long) * 8, opt.seconds,
	       opt.max_ops, opt.max_mb, opt.threads);
	printf("mlockdev-fuzz: replay: %s --seed %" PRIu64 " --seconds %u --threads %u"
	       " --max-mb %u\n", argv[0], opt.seed, opt.seconds, opt.threads, opt.max_mb);
	fflush(stdout);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	/* The baseline, taken before anything locks; this process never does. */
	have_base = !inv_read(&base, true);
	/* Orphans of a failed fuzzing process come here to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (!have_base)
		fprintf(stderr, "mlockdev-fuzz: no baseline (not root?): end check skipped\n");

	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (!pid)
		_exit(fuzz_main());
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	/* Nothing of the fuzzer may be left when the counters are read. */
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);

		if (p > 0)
			continue;
		if (p < 0 && errno == ECHILD)
			break;
		usleep(10000);
	}
	if (WIFSIGNALED(status))
		fprintf(stderr, "mlockdev-fuzz: FAIL: the fuzzing process died of signal %d\n",
			WTERMSIG(status));

	/* Every fuzzing process is gone (each reaped its children). */
	if (have_base && rc != 2) {
		if (inv_read(&now, true))
			fprintf(stderr, "mlockdev-fuzz: cannot read the counters at the end\n");
		else if (inv_compare(&base, &now, INV_GONE, why, sizeof(why))) {
			fprintf(stderr, "mlockdev-fuzz: FAIL: after every fuzzing process "
				"exited: %s\n", why);
			rc = 1;
		}
	}
	printf("mlockdev-fuzz: per operation:");
	for (c = 0; c < OP_NR; c++)
		printf(" %s=%" PRIu64, op_name[c], sh->per_op[c]);
	printf("\nmlockdev-fuzz: %" PRIu64 " EX calls failed (ESRCH, EPERM, ...) after"
	       " writing their struct back\n", sh->ex_written);
	printf("mlockdev-fuzz: seed %" PRIu64 " ops %" PRIu64 " in %.1f s = %.0f ops/s,"
	       " %" PRIu64 " quiet checks, %" PRIu64 " children, %" PRIu64 " killed: %s\n",
	       opt.seed, sh->ops, secs, sh->ops / (secs > 0 ? secs : 1), sh->checks,
	       sh->children, sh->kills, rc == 0 ? "PASS" : rc == 2 ? "SET-UP ERROR" : "FAIL");
	return rc;
}
