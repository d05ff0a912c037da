// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev-bench: time mlockall(2)/munlockall(2) (path A, the system call)
 * against MLOCKDEV_IOC_LOCK_ALL/UNLOCK_ALL on /dev/mlockdev (path B, the
 * device), inside a test guest.  See Documentation/performance.rst.
 *
 * Every measurement runs in a fresh child: the child builds the case (maps
 * and maybe touches memory, maybe locks it once), reads CLOCK_MONOTONIC,
 * makes the one call being measured, reads the clock again, sends the time
 * to the parent through a pipe and exits.  A and B alternate, A B A B ...,
 * so that slow drifts of the machine hit both alike; each case reports the
 * min, median and max of each path and the median of the per-pair ratios
 * B/A.  Populate cases also time a third child per round, the "floor":
 * the same amount of fresh memory made present by touching one byte per
 * page from userspace.
 *
 * Rows named "-wN" (ABI 1.1) make path B's call LOCK_ALL_EX with N populate
 * workers ("-wauto": MLOCKDEV_WORKERS_AUTO); their children run unpinned,
 * and their floor touches the memory with one thread per online CPU, so
 * that the ratio to what the hardware allows stays honest.
 *
 * Output: a table on stdout (as "# " lines with --ktap, after one KTAP
 * result per case), and with --out DIR: results.csv, results.md,
 * samples.csv and system.txt in DIR.  Timings are never pass/fail: a case
 * is "ok" when both paths returned 0 every time and the case could run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <regex.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/mlockdev.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MIB		(1024UL * 1024)
#define HPAGE		(2 * MIB)
#define DEVICE		"/dev/" MLOCKDEV_DEVICE_NAME
#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"
#define MAX_MAP_COUNT	"/proc/sys/vm/max_map_count"

enum path { PATH_A, PATH_B, PATH_FLOOR, NR_PATHS };

static const char *const path_name[NR_PATHS] = { "A", "B", "floor" };

enum kind {
	K_POPULATE,	/* MCL_CURRENT over one mapping */
	K_MANYVMA,	/* MCL_CURRENT over many one-page mappings */
	K_ONFAULT,	/* MCL_CURRENT|MCL_ONFAULT over one mapping */
	K_FUTURE,	/* MCL_FUTURE, then mmap and touch one mapping */
	K_MUNLOCK,	/* munlockall of one locked mapping */
};

enum state {
	ST_FRESH,	/* mapped, never touched */
	ST_PRESENT,	/* every page touched, not locked */
	ST_LOCKED,	/* locked once by the same path (populated) */
};

static const char *const state_name[] = { "fresh", "present", "locked" };

enum thp { THP_NEVER, THP_ALWAYS };

static const char *const thp_name[] = { "never", "always" };

struct bcase {
	char name[64];
	enum kind kind;
	enum state state;
	enum thp thp;
	unsigned long size;	/* bytes of the mapping (K_MANYVMA: 0) */
	unsigned long nvma;	/* K_MANYVMA: number of mappings */
	bool floor;		/* time the userspace floor as well */
	unsigned int workers;	/* B: 0 LOCK_ALL; else LOCK_ALL_EX's workers */
	double target;		/* ceiling for the median ratio B/A */
	int reps;		/* pairs measured */

	/* Results. */
	int done;		/* rounds completed */
	int64_t *ns[NR_PATHS];	/* per round; -1 if that child failed */
	int *huge[NR_PATHS];	/* per round: huge_pct of the child, or -1 */
	bool failed;
	bool skipped;
	char why[160];
};

/* What a child sends back. */
struct child_report {
	int64_t ns;
	int err;		/* errno of the measured call, 0 if it returned 0 */
	int stage;		/* 0: measured call; 1: set-up; 2: first lock */
	int huge_pct;		/* share of the case's memory in huge pages */
};

static struct {
	bool smoke;
	bool ktap;
	int reps;		/* 0: per-case default */
	int warmup;		/* unmeasured rounds per case */
	bool prefault;
	int cpu;		/* -2: last online CPU, -1: no pinning */
	const char *cases_re;
	const char *out_dir;
	const char *csv_file;
	bool list;
	int only;		/* -1, or the one path to run (profiling) */
	unsigned long size_mib;	/* 0, or the one size of every sized case */
} opt = { .only = -1, .warmup = -1, .prefault = true, .cpu = -2 };

static struct bcase *cases;
static int nr_cases;
static int nr_ran;		/* cases run so far: the ones reported */

static char thp_saved[32];	/* the mode to restore, "" if none */
static long map_count_saved = -1;
static long page_size;

/* --- small helpers -------------------------------------------------------- */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("mlockdev-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* Human output: plain, or as KTAP diagnostics. */
static void say(const char *fmt, ...)
{
	va_list ap;

	if (opt.ktap)
		fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n, len = strlen(val);

	if (fd < 0)
		return -1;
	n = write(fd, val, len);
	close(fd);
	return n == len ? 0 : -1;
}

/* A "Key:   123 kB" line of /proc/meminfo, in kB; -1 if absent. */
static long meminfo_kb(const char *key)
{
	char buf[4096], *p;
	size_t klen = strlen(key);

	if (read_file("/proc/meminfo", buf, sizeof(buf)))
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, klen) && p[klen] == ':')
			return strtol(p + klen + 1, NULL, 10);
	}
	return -1;
}

/* --- THP mode and map count ---------------------------------------------- */

/* The bracketed word of "always [madvise] never", or "" if none. */
static void thp_current(char *buf, size_t len)
{
	char raw[128], *open_b, *close_b;

	buf[0] = '\0';
	if (read_file(THP_ENABLED, raw, sizeof(raw)))
		return;
	open_b = strchr(raw, '[');
	close_b = open_b ? strchr(open_b, ']') : NULL;
	if (!open_b || !close_b || (size_t)(close_b - open_b) >= len)
		return;
	memcpy(buf, open_b + 1, close_b - open_b - 1);
	buf[close_b - open_b - 1] = '\0';
}

static bool thp_available(void)
{
	return access(THP_ENABLED, W_OK) == 0;
}

static int thp_set(enum thp mode)
{
	char now[32];

	if (!thp_available())
		return mode == THP_NEVER ? 0 : -1;
	thp_current(now, sizeof(now));
	if (!strcmp(now, thp_name[mode]))
		return 0;
	return write_file(THP_ENABLED, thp_name[mode]);
}

static void restore_system(void)
{
	char buf[32];

	if (thp_saved[0])
		write_file(THP_ENABLED, thp_saved);
	if (map_count_saved > 0) {
		snprintf(buf, sizeof(buf), "%ld", map_count_saved);
		write_file(MAX_MAP_COUNT, buf);
	}
}

static void on_signal(int sig)
{
	restore_system();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Make room for @nvma more mappings than the process has now. */
static int ensure_map_count(unsigned long nvma)
{
	char buf[32];
	long cur;

	if (read_file(MAX_MAP_COUNT, buf, sizeof(buf)))
		return -1;
	cur = strtol(buf, NULL, 10);
	if ((unsigned long)cur >= nvma + 1024)
		return 0;
	if (map_count_saved < 0)
		map_count_saved = cur;
	snprintf(buf, sizeof(buf), "%lu", nvma + 1024);
	return write_file(MAX_MAP_COUNT, buf);
}

/* --- the two paths ------------------------------------------------------- */

static int dev_fd = -1;

static int path_lock(enum path p, int flags, unsigned int workers)
{
	struct mlockdev_lockall_ex ex;
	struct mlockdev_lockall arg;

	if (p == PATH_A)
		return mlockall(flags) ? errno : 0;
	if (workers) {
		memset(&ex, 0, sizeof(ex));
		ex.size = sizeof(ex);
		ex.flags = flags;
		ex.workers = workers;
		return ioctl(dev_fd, MLOCKDEV_IOC_LOCK_ALL_EX, &ex) ? errno : 0;
	}
	memset(&arg, 0, sizeof(arg));
	arg.flags = flags;
	return ioctl(dev_fd, MLOCKDEV_IOC_LOCK_ALL, &arg) ? errno : 0;
}

static int path_unlock(enum path p)
{
	struct mlockdev_unlockall arg;

	if (p == PATH_A)
		return munlockall() ? errno : 0;
	memset(&arg, 0, sizeof(arg));
	return ioctl(dev_fd, MLOCKDEV_IOC_UNLOCK_ALL, &arg) ? errno : 0;
}

/* --- case set-up, inside the child --------------------------------------- */

/*
 * A private anonymous mapping of @size bytes starting on a 2 MiB boundary,
 * so that with THP on every 2 MiB of it can be a huge page whatever the
 * kernel's own alignment policy (which differs between 6.1 and 6.12).
 */
static char *map_aligned(unsigned long size)
{
	unsigned long span = size + HPAGE, head, tail;
	char *raw, *p;

	raw = mmap(NULL, span, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	p = (char *)(((uintptr_t)raw + HPAGE - 1) & ~(HPAGE - 1));
	head = p - raw;
	tail = span - head - size;
	if (head)
		munmap(raw, head);
	if (tail)
		munmap(p + size, tail);
	return p;
}

static void touch(char *p, unsigned long size)
{
	unsigned long off;

	for (off = 0; off < size; off += page_size)
		((volatile char *)p)[off] = 1;
}

struct touch_part {
	char *p;
	unsigned long size;
};

static void *touch_thread(void *arg)
{
	struct touch_part *part = arg;

	touch(part->p, part->size);
	return NULL;
}

/* The parallel floor: @n threads, each touching its share (2 MiB aligned). */
static void touch_parallel(char *p, unsigned long size, int n)
{
	struct touch_part part[64];
	pthread_t tid[64];
	bool started[64];
	unsigned long share, off;
	int i;

	if (n > 64)
		n = 64;
	if (n < 1)
		n = 1;
	share = (size / n + HPAGE - 1) & ~(HPAGE - 1);
	for (i = 0, off = 0; i < n; i++, off += share) {
		part[i].p = p + off;
		part[i].size = off >= size ? 0 :
			       size - off < share ? size - off : share;
		/* A thread that cannot start: its share on this one. */
		started[i] = !pthread_create(&tid[i], NULL, touch_thread,
					     &part[i]);
		if (!started[i])
			touch(part[i].p, part[i].size);
	}
	for (i = 0; i < n; i++)
		if (started[i])
			pthread_join(tid[i], NULL);
}

/* A parallel row's child may use every CPU, as the module's workers do. */
static void unpin(void)
{
	cpu_set_t set;
	long i, n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	for (i = 0; i < n && i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * @n one-page mappings side by side, alternately read-write and read-only:
 * neighbours differ in VM_WRITE, so neither the kernel nor mlock can merge
 * them.  Placed inside a reservation so nothing else lands between them.
 */
static int map_many(unsigned long n)
{
	unsigned long i;
	char *base;

	base = mmap(NULL, n * page_size, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -1;
	for (i = 0; i < n; i++) {
		int prot = (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE;

		if (mmap(base + i * page_size, page_size, prot,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
		    MAP_FAILED)
			return -1;
	}
	return 0;
}

/*
 * How much of @size bytes of anonymous memory is in huge pages after the
 * call, in percent; -1 if unknown.  Says whether a THP case really had
 * THPs: that depends on how fragmented the guest's memory is.
 */
static int huge_pct(unsigned long size)
{
	char buf[4096], *p;
	long kb;

	if (!size || read_file("/proc/self/smaps_rollup", buf, sizeof(buf)))
		return -1;
	p = strstr(buf, "\nAnonHugePages:");
	if (!p)
		return -1;
	kb = strtol(p + strlen("\nAnonHugePages:"), NULL, 10);
	return kb * 1024 >= (long)size ? 100 : (int)(kb * 1024 * 100 / size);
}

static void child_send(int fd, int64_t ns, int err, int stage,
		       unsigned long size)
{
	struct child_report r = { .ns = ns, .err = err, .stage = stage,
				  .huge_pct = stage ? -1 : huge_pct(size) };
	ssize_t n = write(fd, &r, sizeof(r));

	_exit(n == (ssize_t)sizeof(r) ? 0 : 3);
}

/* Body of one child: never returns. */
static void child_run(const struct bcase *c, enum path p, int fd)
{
	int64_t t0, t1;
	char *mem = NULL;
	int err;

	if (c->kind == K_MANYVMA) {
		if (map_many(c->nvma))
			child_send(fd, 0, errno, 1, 0);
	} else if (c->kind != K_FUTURE) {
		mem = map_aligned(c->size);
		if (!mem)
			child_send(fd, 0, errno, 1, 0);
	}

	if (c->workers)
		unpin();
	if (p == PATH_FLOOR) {
		t0 = now_ns();
		if (c->workers)
			touch_parallel(mem, c->size,
				       sysconf(_SC_NPROCESSORS_ONLN));
		else
			touch(mem, c->size);
		t1 = now_ns();
		child_send(fd, t1 - t0, 0, 0, c->size);
	}

	if (c->state == ST_PRESENT)
		touch(mem, c->size);
	if (c->state == ST_LOCKED || c->kind == K_MUNLOCK) {
		err = path_lock(p, MCL_CURRENT, 0);
		if (err)
			child_send(fd, 0, err, 2, 0);
	}

	switch (c->kind) {
	case K_POPULATE:
	case K_MANYVMA:
		t0 = now_ns();
		err = path_lock(p, MCL_CURRENT, c->workers);
		t1 = now_ns();
		break;
	case K_ONFAULT:
		t0 = now_ns();
		err = path_lock(p, MCL_CURRENT | MCL_ONFAULT, 0);
		t1 = now_ns();
		break;
	case K_FUTURE:
		t0 = now_ns();
		err = path_lock(p, MCL_FUTURE, 0);
		if (!err) {
			mem = mmap(NULL, c->size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (mem == MAP_FAILED)
				err = errno;
			else
				touch(mem, c->size);
		}
		t1 = now_ns();
		break;
	case K_MUNLOCK:
		t0 = now_ns();
		err = path_unlock(p);
		t1 = now_ns();
		break;
	default:
		child_send(fd, 0, EINVAL, 1, 0);
	}
	child_send(fd, t1 - t0, err, 0, c->size);
}

static const char *stage_name(int stage)
{
	switch (stage) {
	case 1: return "set-up";
	case 2: return "first lock";
	default: return "call";
	}
}

/*
 * One measurement in a fresh child.  Return: nanoseconds, or -1 with
 * @why filled in.
 */
static int64_t measure(const struct bcase *c, enum path p, int *huge,
		       char *why, size_t whylen)
{
	struct child_report r;
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		close(pfd[0]);
		child_run(c, p, pfd[1]);
	}
	close(pfd[1]);
	n = read(pfd[0], &r, sizeof(r));
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(r)) {
		if (WIFSIGNALED(status))
			snprintf(why, whylen, "%s child killed by signal %d",
				 path_name[p], WTERMSIG(status));
		else
			snprintf(why, whylen, "%s child sent no result (status 0x%x)",
				 path_name[p], status);
		return -1;
	}
	if (r.err) {
		snprintf(why, whylen, "%s %s failed: %s", path_name[p],
			 stage_name(r.stage), strerror(r.err));
		return -1;
	}
	*huge = r.huge_pct;
	return r.ns;
}

/* --- cases ----------------------------------------------------------------- */

/* Pairs per case when --reps is not given: fewer for the slow ones. */
static int default_reps(const struct bcase *c)
{
	if (opt.smoke)
		return 1;
	if (c->kind == K_MANYVMA)
		return c->nvma >= 50000 ? 7 : c->nvma >= 10000 ? 9 : 15;
	if (c->kind == K_ONFAULT && c->state == ST_FRESH)
		return 31;	/* well under a millisecond a call */
	if (c->size >= 1024 * MIB)
		return 5;
	if (c->size >= 256 * MIB)
		return 7;
	return 11;
}

static struct bcase *add_case(enum kind kind, enum state st, enum thp thp,
			      unsigned long size, unsigned long nvma)
{
	struct bcase *c;

	cases = realloc(cases, (nr_cases + 1) * sizeof(*cases));
	if (!cases)
		die("out of memory");
	c = &cases[nr_cases++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->state = st;
	c->thp = thp;
	c->size = size;
	c->nvma = nvma;
	/*
	 * Faulting fresh memory in is the same kernel work on both paths:
	 * 1.05.  Rows that only walk VMAs and present pages: 1.25.
	 */
	c->target = (kind == K_POPULATE && st == ST_FRESH) ||
		    kind == K_FUTURE ? 1.05 : 1.25;
	c->floor = kind == K_POPULATE && st == ST_FRESH;

	switch (kind) {
	case K_POPULATE:
		snprintf(c->name, sizeof(c->name), "populate-%s-%luM-thp-%s",
			 state_name[st], size / MIB, thp_name[thp]);
		break;
	case K_MANYVMA:
		snprintf(c->name, sizeof(c->name), "manyvma-%lu", nvma);
		break;
	case K_ONFAULT:
		snprintf(c->name, sizeof(c->name), "onfault-%s-%luM",
			 state_name[st], size / MIB);
		break;
	case K_FUTURE:
		snprintf(c->name, sizeof(c->name), "future-mmap-touch-%luM",
			 size / MIB);
		break;
	case K_MUNLOCK:
		snprintf(c->name, sizeof(c->name), "munlockall-%luM-thp-%s",
			 size / MIB, thp_name[thp]);
		break;
	}
	c->reps = opt.reps ? opt.reps : default_reps(c);
	return c;
}

/* A parallel row: populate-fresh with @workers workers on path B. */
static void add_workers_case(enum thp thp, unsigned long size,
			     unsigned int workers)
{
	struct bcase *c = add_case(K_POPULATE, ST_FRESH, thp, size, 0);
	size_t len = strlen(c->name);

	c->workers = workers;
	if (workers == MLOCKDEV_WORKERS_AUTO)
		snprintf(c->name + len, sizeof(c->name) - len, "-wauto");
	else
		snprintf(c->name + len, sizeof(c->name) - len, "-w%u", workers);
	/*
	 * Where the parallel path is on it must not cost more than the
	 * system call; with two or more workers on 1 GiB it must halve it
	 * (0.55 at 2 vCPUs).
	 */
	c->target = size >= 1024 * MIB && workers != 1 ? 0.55 : 1.0;
}

/*
 * Fresh memory with 1, 2 and the module's choice of workers: the sizes
 * of the serial rows from 256 MiB up (1 GiB is the goal's row, 0.55 at 2
 * vCPUs), and 4 GiB when the guest has the memory for it.
 */
static void add_parallel_cases(const unsigned long *sizes, size_t nsizes)
{
	static const unsigned int workers[] = { 1, 2, MLOCKDEV_WORKERS_AUTO };
	unsigned long mib[4];
	size_t i, j, n = 0;
	int thp;

	for (i = 0; i < nsizes; i++)
		if (opt.smoke || opt.size_mib || sizes[i] >= 256)
			mib[n++] = sizes[i];
	if (!opt.smoke && !opt.size_mib &&
	    meminfo_kb("MemAvailable:") > 5L * 1024 * 1024)
		mib[n++] = 4096;
	for (thp = THP_NEVER; thp <= THP_ALWAYS; thp++)
		for (i = 0; i < n; i++)
			for (j = 0; j < ARRAY_SIZE(workers); j++) {
				/* The smoke run: one row per THP mode. */
				if (opt.smoke && workers[j] != 2)
					continue;
				add_workers_case(thp, mib[i] * MIB, workers[j]);
			}
}

static void build_cases(void)
{
	static const unsigned long full_sizes[] = { 64, 256, 1024 };
	static const unsigned long full_vmas[] = { 1000, 10000, 50000 };
	static const unsigned long smoke_sizes[] = { 4 };
	static const unsigned long smoke_vmas[] = { 100, 1000 };
	const unsigned long *sizes = opt.smoke ? smoke_sizes : full_sizes;
	const unsigned long *vmas = opt.smoke ? smoke_vmas : full_vmas;
	size_t nsizes = opt.smoke ? 1 : 3, nvmas = opt.smoke ? 2 : 3, i;
	unsigned long mid = (opt.smoke ? 4 : 256) * MIB;
	unsigned long big = (opt.smoke ? 4 : 1024) * MIB;
	int st, thp;

	if (opt.size_mib) {
		sizes = &opt.size_mib;
		nsizes = 1;
		mid = big = opt.size_mib * MIB;
	}

	for (st = ST_FRESH; st <= ST_LOCKED; st++)
		for (thp = THP_NEVER; thp <= THP_ALWAYS; thp++)
			for (i = 0; i < nsizes; i++)
				add_case(K_POPULATE, st, thp, sizes[i] * MIB, 0);
	add_parallel_cases(sizes, nsizes);
	for (i = 0; i < nvmas; i++)
		add_case(K_MANYVMA, ST_FRESH, THP_NEVER, 0, vmas[i]);
	add_case(K_ONFAULT, ST_FRESH, THP_NEVER, mid, 0);
	add_case(K_ONFAULT, ST_PRESENT, THP_NEVER, mid, 0);
	add_case(K_FUTURE, ST_FRESH, THP_NEVER, mid, 0);
	add_case(K_MUNLOCK, ST_LOCKED, THP_NEVER, big, 0);
	add_case(K_MUNLOCK, ST_LOCKED, THP_ALWAYS, big, 0);
}

static void select_cases(void)
{
	regex_t re;
	int i, j = 0;

	if (!opt.cases_re)
		return;
	if (regcomp(&re, opt.cases_re, REG_EXTENDED | REG_NOSUB))
		die("bad --cases regular expression: %s", opt.cases_re);
	for (i = 0; i < nr_cases; i++)
		if (!regexec(&re, cases[i].name, 0, NULL, 0))
			cases[j++] = cases[i];
	nr_cases = j;
	regfree(&re);
	if (!nr_cases)
		die("no case matches '%s' (see --list)", opt.cases_re);
}

/* --- statistics ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct stats {
	int n;
	double min, med, max;	/* milliseconds, or plain ratios */
};

static struct stats stats_of(double *v, int n)
{
	struct stats s = { .n = n };

	if (!n)
		return s;
	qsort(v, n, sizeof(*v), cmp_double);
	s.min = v[0];
	s.max = v[n - 1];
	s.med = n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

/* Milliseconds of path @p over the rounds where it succeeded. */
static struct stats path_stats(const struct bcase *c, enum path p)
{
	double v[c->done ? c->done : 1];
	int i, n = 0;

	for (i = 0; i < c->done; i++)
		if (c->ns[p][i] >= 0)
			v[n++] = c->ns[p][i] / 1e6;
	return stats_of(v, n);
}

/* Median share of huge pages seen by path @p's children; -1 if unknown. */
static int huge_median(const struct bcase *c, enum path p)
{
	double v[c->done ? c->done : 1];
	int i, n = 0;

	for (i = 0; i < c->done; i++)
		if (c->huge[p][i] >= 0)
			v[n++] = c->huge[p][i];
	return n ? (int)stats_of(v, n).med : -1;
}

/* B/A of each round where both succeeded. */
static struct stats ratio_stats(const struct bcase *c)
{
	double v[c->done ? c->done : 1];
	int i, n = 0;

	for (i = 0; i < c->done; i++)
		if (c->ns[PATH_A][i] > 0 && c->ns[PATH_B][i] >= 0)
			v[n++] = (double)c->ns[PATH_B][i] / c->ns[PATH_A][i];
	return stats_of(v, n);
}

/* --- running ------------------------------------------------------------- */

static void run_case(struct bcase *c, int index)
{
	int nr_paths = c->floor ? 3 : 2, round, p;
	int warmup = opt.warmup, total;

	/*
	 * By default one unmeasured round settles each case, except the 1 GiB
	 * ones: a round costs most there, and the prefault has already made
	 * the host back the guest's memory, which is what the warm-up is for.
	 */
	if (warmup < 0)
		warmup = opt.smoke || c->size >= 1024 * MIB ? 0 : 1;
	total = c->reps + warmup;
	int64_t t0 = now_ns();
	char why[160];

	for (p = 0; p < NR_PATHS; p++) {
		c->ns[p] = calloc(c->reps, sizeof(int64_t));
		c->huge[p] = calloc(c->reps, sizeof(int));
		if (!c->ns[p] || !c->huge[p])
			die("out of memory");
	}

	if (c->thp == THP_ALWAYS && !thp_available()) {
		c->skipped = true;
		snprintf(c->why, sizeof(c->why),
			 "no transparent hugepages in this kernel");
		return;
	}
	if (thp_set(c->thp)) {
		c->failed = true;
		snprintf(c->why, sizeof(c->why), "cannot set THP mode %s",
			 thp_name[c->thp]);
		return;
	}
	/*
	 * Give THP cases the same chance of huge pages whatever ran before:
	 * both paths then find the same free memory.
	 */
	if (c->thp == THP_ALWAYS && !opt.smoke)
		write_file("/proc/sys/vm/compact_memory", "1");
	if (c->kind == K_MANYVMA && ensure_map_count(c->nvma)) {
		c->failed = true;
		snprintf(c->why, sizeof(c->why),
			 "vm.max_map_count too low for %lu mappings", c->nvma);
		return;
	}

	for (round = 0; round < total; round++) {
		bool warm = round < total - c->reps;
		int slot = round - (total - c->reps);

		for (p = 0; p < nr_paths; p++) {
			int64_t ns = -1;
			int huge = -1;

			if (opt.only >= 0 && p != opt.only) {
				if (!warm)
					c->ns[p][slot] = -1;
				continue;
			}
			ns = measure(c, p, &huge, why, sizeof(why));
			if (!warm)
				c->huge[p][slot] = huge;

			if (ns < 0 && !c->failed) {
				c->failed = true;
				snprintf(c->why, sizeof(c->why), "%s", why);
			}
			if (!warm)
				c->ns[p][slot] = ns;
		}
		if (!warm)
			c->done++;
	}

	{
		struct stats a = path_stats(c, PATH_A), b = path_stats(c, PATH_B);
		struct stats r = ratio_stats(c);

		say("[%d/%d] %-32s A %9.3f ms  B %9.3f ms  B/A %.3f  (%d pairs, %.1f s)",
		    index + 1, nr_cases, c->name, a.med, b.med, r.med, c->done,
		    (now_ns() - t0) / 1e9);
	}
}

/* Touch most of the guest's free memory once, so that the first case does
 * not pay for the host backing guest RAM (TCG, or KVM without
 * preallocation).
 */
static void prefault(void)
{
	long avail = meminfo_kb("MemAvailable");
	unsigned long size;
	pid_t pid;
	int status;
	int64_t t0 = now_ns();

	if (avail < 0)
		return;
	if (avail < 512 * 1024)
		return;
	size = (unsigned long)(avail - 384 * 1024) * 1024;
	size &= ~(HPAGE - 1);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			       -1, 0);

		if (p == MAP_FAILED)
			_exit(1);
		touch(p, size);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	say("prefault: touched %lu MiB of guest memory in %.1f s", size / MIB,
	    (now_ns() - t0) / 1e9);
}

/* --- reporting ----------------------------------------------------------- */

static char sysinfo[1024];

static void collect_sysinfo(void)
{
	struct mlockdev_version v;
	struct utsname u;
	char clk[64] = "?", mod[128] = "not loaded";
	long ram = meminfo_kb("MemTotal");
	char warm[48];

	if (opt.warmup >= 0)
		snprintf(warm, sizeof(warm), "%d", opt.warmup);
	else
		snprintf(warm, sizeof(warm), "%s", opt.smoke ? "0" :
			 "1 (0 for 1 GiB cases)");
	uname(&u);
	if (read_file("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		      clk, sizeof(clk)))
		strcpy(clk, "?");
	memset(&v, 0, sizeof(v));
	if (dev_fd >= 0 && !ioctl(dev_fd, MLOCKDEV_IOC_VERSION, &v))
		snprintf(mod, sizeof(mod), "ABI %u.%u, built for %.64s",
			 v.abi_major, v.abi_minor, v.kernel_release);
	snprintf(sysinfo, sizeof(sysinfo),
		 "kernel: %s %s\n"
		 "cpus: %ld online\n"
		 "ram: %ld MiB\n"
		 "thp: %s (default mode; each case sets its own)\n"
		 "clocksource: %s\n"
		 "module: %s\n"
		 "mode: %s, warm-up rounds %s, pinned to cpu %d\n",
		 u.release, u.version, sysconf(_SC_NPROCESSORS_ONLN),
		 ram / 1024, thp_saved[0] ? thp_saved : "unavailable", clk, mod,
		 opt.smoke ? "smoke" : "full", warm, opt.cpu);
}

static const char *kind_label(const struct bcase *c)
{
	return c->floor ? "populate" : c->target > 1.05 ? "walk" : "populate";
}

static const char *status_of(const struct bcase *c)
{
	return c->skipped ? "skipped" : c->failed ? "failed" : "ok";
}

static void write_csv(FILE *f)
{
	int i;

	fprintf(f, "case,class,size_mib,vmas,thp,pairs,"
		   "a_min_ms,a_med_ms,a_max_ms,b_min_ms,b_med_ms,b_max_ms,"
		   "ratio_min,ratio_med,ratio_max,target,met,min_ratio,"
		   "floor_med_ms,floor_mibps,a_mibps,b_mibps,a_of_floor,b_of_floor,"
		   "a_huge_pct,b_huge_pct,status\n");
	for (i = 0; i < nr_ran; i++) {
		struct bcase *c = &cases[i];
		struct stats a = path_stats(c, PATH_A), b = path_stats(c, PATH_B);
		struct stats r = ratio_stats(c), fl = path_stats(c, PATH_FLOOR);
		double mib = c->size / (double)MIB;

		fprintf(f, "%s,%s,%lu,%lu,%s,%d,"
			   "%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,"
			   "%.4f,%.4f,%.4f,%.2f,%s,%.4f,",
			c->name, kind_label(c), c->size / MIB, c->nvma,
			thp_name[c->thp], r.n, a.min, a.med, a.max,
			b.min, b.med, b.max, r.min, r.med, r.max, c->target,
			r.n ? (r.med <= c->target ? "yes" : "no") : "n/a",
			a.n && b.n && a.min > 0 ? b.min / a.min : 0);
		if (c->floor && fl.n && a.n && b.n)
			fprintf(f, "%.3f,%.0f,%.0f,%.0f,%.3f,%.3f,",
				fl.med, mib / (fl.med / 1e3),
				mib / (a.med / 1e3), mib / (b.med / 1e3),
				fl.med / a.med, fl.med / b.med);
		else
			fputs(",,,,,,", f);
		fprintf(f, "%d,%d,%s\n", huge_median(c, PATH_A),
			huge_median(c, PATH_B), status_of(c));
	}
}

static void write_samples(FILE *f)
{
	int i, j, p;

	fputs("case,round,path,ns\n", f);
	for (i = 0; i < nr_ran; i++)
		for (j = 0; j < cases[i].done; j++)
			for (p = 0; p < NR_PATHS; p++)
				if (p != PATH_FLOOR || cases[i].floor)
					fprintf(f, "%s,%d,%s,%lld\n",
						cases[i].name, j + 1,
						path_name[p],
						(long long)cases[i].ns[p][j]);
}

/* The Markdown tables, to @f, each line prefixed with @pfx. */
static void write_md(FILE *f, const char *pfx)
{
	const char *line, *next;
	int i;

	fprintf(f, "%s```\n", pfx);
	for (line = sysinfo; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		fprintf(f, "%s%.*s", pfx, (int)(next - line), line);
	}
	fprintf(f, "%s```\n%s\n", pfx, pfx);
	fprintf(f, "%sA = mlockall(2)/munlockall(2), B = /dev/mlockdev; "
		   "times in ms of the call alone, each in a fresh process.  "
		   "Targets apply to the median of the per-pair ratios; "
		   "B min / A min is shown because noise on a shared host only "
		   "ever adds time.\n%s\n",
		pfx, pfx);
	fprintf(f, "%s| case | pairs | A min | A median | A max | B min | "
		   "B median | B max | B/A median | target | met? | B min / A min | THP A/B |\n", pfx);
	fprintf(f, "%s|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|--:|--:|\n", pfx);
	for (i = 0; i < nr_ran; i++) {
		struct bcase *c = &cases[i];
		struct stats a = path_stats(c, PATH_A), b = path_stats(c, PATH_B);
		struct stats r = ratio_stats(c);
		char thp[32] = "";

		if (c->thp == THP_ALWAYS && c->kind != K_MANYVMA)
			snprintf(thp, sizeof(thp), "%d%%/%d%%",
				 huge_median(c, PATH_A), huge_median(c, PATH_B));
		if (c->skipped) {
			fprintf(f, "%s| %s | skipped: %s |||||||||||\n", pfx,
				c->name, c->why);
			continue;
		}
		if (!r.n) {
			fprintf(f, "%s| %s | failed: %s |||||||||||\n", pfx,
				c->name, c->why);
			continue;
		}
		fprintf(f, "%s| %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f | "
			   "%.3f | **%.3f** | %.2f | %s | %.3f | %s |\n",
			pfx, c->name, r.n, a.min, a.med, a.max, b.min, b.med,
			b.max, r.med, c->target,
			r.med <= c->target ? "yes" : "**no**",
			a.min > 0 ? b.min / a.min : 0, thp);
	}

	fprintf(f, "%s\n%sPopulate throughput against the floor (touching one "
		   "byte per page of the same amount of fresh memory from "
		   "userspace, timed in the same rounds):\n%s\n", pfx, pfx, pfx);
	fprintf(f, "%s| case | floor median ms | floor MiB/s | A MiB/s | "
		   "A / floor | B MiB/s | B / floor |\n", pfx);
	fprintf(f, "%s|---|--:|--:|--:|--:|--:|--:|\n", pfx);
	for (i = 0; i < nr_ran; i++) {
		struct bcase *c = &cases[i];
		struct stats a = path_stats(c, PATH_A), b = path_stats(c, PATH_B);
		struct stats fl = path_stats(c, PATH_FLOOR);
		double mib = c->size / (double)MIB;

		if (!c->floor || !fl.n || !a.n || !b.n)
			continue;
		fprintf(f, "%s| %s | %.3f | %.0f | %.0f | %.2f | %.0f | %.2f |\n",
			pfx, c->name, fl.med, mib / (fl.med / 1e3),
			mib / (a.med / 1e3), fl.med / a.med,
			mib / (b.med / 1e3), fl.med / b.med);
	}
}

static FILE *open_out(const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", opt.out_dir, name);
	f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	return f;
}

static void write_outputs(void)
{
	FILE *f;

	if (opt.csv_file) {
		f = fopen(opt.csv_file, "w");
		if (!f)
			die("%s: %s", opt.csv_file, strerror(errno));
		write_csv(f);
		fclose(f);
	}
	if (!opt.out_dir)
		return;
	mkdir(opt.out_dir, 0755);
	f = open_out("results.csv");
	write_csv(f);
	fclose(f);
	f = open_out("samples.csv");
	write_samples(f);
	fclose(f);
	f = open_out("results.md");
	write_md(f, "");
	fclose(f);
	f = open_out("system.txt");
	fputs(sysinfo, f);
	fclose(f);
}

/* --- main ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fputs("usage: mlockdev-bench [options]\n"
	      "  --smoke          tiny sizes, one pair per case, no warm-up\n"
	      "  --ktap           KTAP on stdout: one result per case (never timing)\n"
	      "  --reps N         pairs per case (default: by size)\n"
	      "  --warmup N       unmeasured rounds per case (default 1; 0 for 1 GiB\n"
	      "                   cases and with --smoke)\n"
	      "  --cases REGEX    only the cases whose name matches (POSIX ERE)\n"
	      "  --list           list the cases and exit\n"
	      "  --out DIR        write results.csv, results.md, samples.csv, system.txt\n"
	      "  --csv FILE       write the results CSV to FILE\n"
	      "  --cpu N          pin to CPU N (-1: do not pin; default: last CPU)\n"
	      "  --no-prefault    do not touch guest memory once before the cases\n"
	      "  --only PATH      run only path A, B or floor (for profiling; no ratios)\n"
	      "  --size MIB       every sized case at this size instead\n",
	      f);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "smoke", no_argument, NULL, 's' },
		{ "ktap", no_argument, NULL, 'k' },
		{ "reps", required_argument, NULL, 'r' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "cases", required_argument, NULL, 'c' },
		{ "list", no_argument, NULL, 'l' },
		{ "out", required_argument, NULL, 'o' },
		{ "csv", required_argument, NULL, 'C' },
		{ "cpu", required_argument, NULL, 'p' },
		{ "no-prefault", no_argument, NULL, 'P' },
		{ "only", required_argument, NULL, 'O' },
		{ "size", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int o;

	while ((o = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (o) {
		case 's': opt.smoke = true; break;
		case 'k': opt.ktap = true; break;
		case 'r':
			opt.reps = atoi(optarg);
			if (opt.reps < 1)
				die("--reps wants a positive number");
			break;
		case 'w': opt.warmup = atoi(optarg); break;
		case 'c': opt.cases_re = optarg; break;
		case 'l': opt.list = true; break;
		case 'o': opt.out_dir = optarg; break;
		case 'C': opt.csv_file = optarg; break;
		case 'p': opt.cpu = atoi(optarg); break;
		case 'P': opt.prefault = false; break;
		case 'O':
			for (o = 0; o < NR_PATHS; o++)
				if (!strcmp(optarg, path_name[o]))
					opt.only = o;
			if (opt.only < 0)
				die("--only wants A, B or floor");
			break;
		case 'S':
			opt.size_mib = strtoul(optarg, NULL, 10);
			if (!opt.size_mib)
				die("--size wants a positive number of MiB");
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc) {
		usage(stderr);
		exit(2);
	}
	if (opt.smoke)
		opt.prefault = false;
}

static void pin_cpu(void)
{
	cpu_set_t set;

	if (opt.cpu == -2)
		opt.cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	if (opt.cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(opt.cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		say("cannot pin to cpu %d: %s", opt.cpu, strerror(errno));
}

int main(int argc, char **argv)
{
	int i, failed = 0, skipped = 0;

	parse_args(argc, argv);
	page_size = sysconf(_SC_PAGESIZE);
	build_cases();
	select_cases();
	if (opt.list) {
		for (i = 0; i < nr_cases; i++)
			printf("%-34s pairs %-3d target %.2f\n", cases[i].name,
			       cases[i].reps, cases[i].target);
		return 0;
	}

	if (opt.ktap) {
		printf("KTAP version 1\n1..%d\n", nr_cases);
		fflush(stdout);
	}

	thp_current(thp_saved, sizeof(thp_saved));
	atexit(restore_system);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	dev_fd = open(DEVICE, O_RDWR | O_CLOEXEC);
	if (dev_fd < 0)
		say("cannot open %s: %s: every case will fail", DEVICE,
		    strerror(errno));
	pin_cpu();
	collect_sysinfo();
	{
		const char *line = sysinfo, *next;

		for (; *line; line = next) {
			next = strchr(line, '\n');
			next = next ? next + 1 : line + strlen(line);
			say("%.*s", (int)(next - line - 1), line);
		}
	}
	if (opt.prefault)
		prefault();

	for (i = 0; i < nr_cases; i++) {
		struct bcase *c = &cases[i];

		if (dev_fd < 0) {
			c->failed = true;
			snprintf(c->why, sizeof(c->why), "no %s", DEVICE);
		} else {
			run_case(c, i);
		}
		/* After every case, so a run cut short still leaves results. */
		nr_ran = i + 1;
		write_outputs();
		if (c->failed)
			failed++;
		if (c->skipped)
			skipped++;
		if (!opt.ktap)
			continue;
		if (c->skipped)
			printf("ok %d %s # SKIP %s\n", i + 1, c->name, c->why);
		else if (c->failed)
			printf("not ok %d %s # %s\n", i + 1, c->name, c->why);
		else
			printf("ok %d %s\n", i + 1, c->name);
		fflush(stdout);
	}
	restore_system();

	if (opt.ktap) {
		write_md(stdout, "# ");
		printf("# Totals: pass:%d fail:%d skip:%d\n",
		       nr_cases - failed - skipped, failed, skipped);
	} else {
		putchar('\n');
		write_md(stdout, "");
	}
	return failed ? 1 : 0;
}
