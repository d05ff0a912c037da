// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev_trace_test - the trace events of the module (issue 11), as
 * tracefs shows them: events/mlockdev/ in an instance of our own (so that
 * nobody else's tracing is disturbed), enabled around one known call,
 * whose events are then checked against what the call did:
 *
 *   lock         LOCK_ALL_EX(MCL_CURRENT): one mlockdev_call_enter with
 *                the flags and mode, one mlockdev_call_exit with the
 *                result and report.locked_vm_after; one mlockdev_vma per
 *                VMA of /proc/self/maps ([vsyscall] is not in the VMA
 *                tree), "locked" for a mapping we made, "skipped:special"
 *                for [vdso] and [vvar]; the decisions add up to the
 *                report's counts; mlockdev_populate ranges that cover our
 *                mapping with no error, their pages adding up to
 *                report.pages_populated
 *   unlock       UNLOCK_ALL_EX: "unlocked" decisions, locked_vm 0 at exit
 *   strict       a strict lock that fails (a shared file mapping past
 *                EOF): exit with -EFAULT, the populate error in that
 *                mapping, one mlockdev_rollback "restored" per VMA the
 *                call had changed
 *
 * tracefs is looked for at /sys/kernel/tracing, then
 * /sys/kernel/debug/tracing, and mounted at the first if neither is
 * there; without it, or without the module's events, the tests skip and
 * say why.
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
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/mlockdev.h>

#include "kselftest_harness.h"

#define DEV_PATH	"/dev/" MLOCKDEV_DEVICE_NAME

/* Everything the trace and /proc/self/maps hold, read without malloc. */
static char trace_buf[4 << 20];
static char maps_buf[256 << 10];

static int write_str(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : errno ? errno : EIO;
}

static ssize_t read_all(const char *path, char *buf, size_t size)
{
	size_t off = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (off + 1 < size && (n = read(fd, buf + off, size - 1 - off)) > 0)
		off += n;
	close(fd);
	buf[off] = '\0';
	return off;
}

/* Where tracefs is, mounting it if need be; NULL with @why if nowhere. */
static const char *find_tracefs(char *why, size_t n)
{
	static const char *const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/instances", dirs[i]);
		if (!access(path, F_OK))
			return dirs[i];
	}
	if (!mount("nodev", dirs[0], "tracefs", 0, NULL) &&
	    !access("/sys/kernel/tracing/instances", F_OK))
		return dirs[0];
	snprintf(why, n, "no tracefs at %s or %s, and mounting it failed: %s "
		 "(kernel without CONFIG_TRACING?)", dirs[0], dirs[1],
		 strerror(errno));
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The trace, parsed                                                   */

enum ev_kind { EV_ENTER, EV_EXIT, EV_VMA, EV_POPULATE, EV_ROLLBACK, EV_NR };

static const char *const ev_names[EV_NR] = {
	[EV_ENTER] = "mlockdev_call_enter",
	[EV_EXIT] = "mlockdev_call_exit",
	[EV_VMA] = "mlockdev_vma",
	[EV_POPULATE] = "mlockdev_populate",
	[EV_ROLLBACK] = "mlockdev_rollback",
};

#define MAX_EVENTS	4096

struct event {
	enum ev_kind kind;
	const char *text;		/* what follows "name: " */
	unsigned long start, end;	/* vma, populate, rollback */
	long pages;			/* populate */
	int err;			/* populate */
	char what[24];			/* vma decision, rollback outcome */
	long who;			/* the thread that traced it */
};

static struct event events[MAX_EVENTS];
static int nevents;

/*
 * "  comm-1234   [000] ....  12.3: mlockdev_vma: ..." of @pid only, or of
 * every thread (kernel workers too) when @pid is -1.
 */
static void parse_trace(pid_t pid)
{
	char *line, *save = NULL;

	nevents = 0;
	for (line = strtok_r(trace_buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *bracket = strchr(line, '['), *p, *name;
		struct event *e;
		long who;
		int k;

		if (line[0] == '#' || !bracket)
			continue;
		for (p = bracket; p > line && p[-1] == ' '; p--)
			;
		while (p > line && p[-1] >= '0' && p[-1] <= '9')
			p--;
		who = strtol(p, NULL, 10);
		name = strstr(bracket, ": mlockdev_");
		if ((pid >= 0 && who != pid) || !name || nevents == MAX_EVENTS)
			continue;
		name += 2;
		for (k = 0; k < EV_NR; k++) {
			size_t n = strlen(ev_names[k]);

			if (!strncmp(name, ev_names[k], n) && name[n] == ':')
				break;
		}
		if (k == EV_NR)
			continue;
		e = &events[nevents++];
		memset(e, 0, sizeof(*e));
		e->kind = k;
		e->who = who;
		e->text = name + strlen(ev_names[k]) + 2;
		switch (k) {
		case EV_VMA:
			sscanf(e->text, "%lx-%lx %*s %23s", &e->start, &e->end,
			       e->what);
			break;
		case EV_POPULATE:
			sscanf(e->text, "%lx-%lx pages=%ld err=%d", &e->start,
			       &e->end, &e->pages, &e->err);
			break;
		case EV_ROLLBACK:
			sscanf(e->text, "%lx-%lx %23s", &e->start, &e->end,
			       e->what);
			break;
		default:
			break;
		}
	}
}

static int count(enum ev_kind kind, const char *what)
{
	int i, n = 0;

	for (i = 0; i < nevents; i++)
		n += events[i].kind == kind &&
		     (!what || !strcmp(events[i].what, what));
	return n;
}

static const struct event *find_vma(unsigned long start, unsigned long end)
{
	int i;

	for (i = 0; i < nevents; i++)
		if (events[i].kind == EV_VMA && events[i].start == start &&
		    events[i].end == end)
			return &events[i];
	return NULL;
}

/* The VMAs of /proc/self/maps, as a call walks them. */
struct maps_info {
	int vmas;			/* [vsyscall] left out */
	unsigned long vdso[2], vvar[2];
};

static int read_maps(struct maps_info *mi)
{
	char *line, *save = NULL;

	memset(mi, 0, sizeof(*mi));
	if (read_all("/proc/self/maps", maps_buf, sizeof(maps_buf)) <= 0)
		return -1;
	for (line = strtok_r(maps_buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx", &s, &e) != 2 ||
		    strstr(line, "[vsyscall]"))
			continue;
		mi->vmas++;
		if (strstr(line, "[vdso]")) {
			mi->vdso[0] = s;
			mi->vdso[1] = e;
		} else if (strstr(line, "[vvar]")) {
			mi->vvar[0] = s;
			mi->vvar[1] = e;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */

FIXTURE(trace) {
	char inst[160];
	int fd;
	long page;
};

static int inst_write(FIXTURE_DATA(trace) *self, const char *file,
		      const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", self->inst, file);
	return write_str(path, text);
}

FIXTURE_SETUP(trace)
{
	const char *tracefs;
	char why[256], path[256];
	int err;

	self->inst[0] = '\0';
	self->fd = -1;
	self->page = sysconf(_SC_PAGESIZE);
	if (geteuid())
		SKIP(return, "needs root (tracefs)");
	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (self->fd < 0)
		SKIP(return, "%s: %s (mlockdev module not loaded?)", DEV_PATH,
		     strerror(errno));
	tracefs = find_tracefs(why, sizeof(why));
	if (!tracefs)
		SKIP(return, "%s", why);
	snprintf(path, sizeof(path), "%s/events/mlockdev", tracefs);
	if (access(path, F_OK))
		SKIP(return, "no %s: the module was built without trace events",
		     path);
	snprintf(self->inst, sizeof(self->inst), "%s/instances/mlockdev-%d",
		 tracefs, (int)getpid());
	ASSERT_EQ(0, mkdir(self->inst, 0700))
		TH_LOG("mkdir %s: %s", self->inst, strerror(errno));
	err = inst_write(self, "buffer_size_kb", "4096");
	err = err ?: inst_write(self, "events/mlockdev/enable", "1");
	ASSERT_EQ(0, err) TH_LOG("enabling events/mlockdev: %s", strerror(err));
}

FIXTURE_TEARDOWN(trace)
{
	if (self->inst[0]) {
		inst_write(self, "events/mlockdev/enable", "0");
		rmdir(self->inst);
	}
	if (self->fd >= 0)
		close(self->fd);
}

/* Empty the buffer, turn tracing on; then off and read it. */
static void trace_start(FIXTURE_DATA(trace) *self)
{
	inst_write(self, "trace", "");
	inst_write(self, "tracing_on", "1");
}

static int trace_stop(FIXTURE_DATA(trace) *self)
{
	char path[256];

	inst_write(self, "tracing_on", "0");
	snprintf(path, sizeof(path), "%s/trace", self->inst);
	if (read_all(path, trace_buf, sizeof(trace_buf)) < 0)
		return -1;
	parse_trace(getpid());
	return 0;
}

static void check_enter_exit(struct __test_metadata *_metadata,
			     const char *enter)
{
	ASSERT_LE(2, nevents) TH_LOG("no events of ours in the trace");
	EXPECT_EQ(1, count(EV_ENTER, NULL));
	EXPECT_EQ(1, count(EV_EXIT, NULL));
	EXPECT_EQ(EV_ENTER, events[0].kind) TH_LOG("the first event is %s",
						   ev_names[events[0].kind]);
	EXPECT_STREQ(enter, events[0].text);
	EXPECT_EQ(EV_EXIT, events[nevents - 1].kind)
		TH_LOG("the last event is %s", ev_names[events[nevents - 1].kind]);
}

/* Pages of the populate events inside [start, end), and their errors. */
static long populated_in(unsigned long start, unsigned long end, int *errors)
{
	long pages = 0;
	int i;

	*errors = 0;
	for (i = 0; i < nevents; i++) {
		const struct event *e = &events[i];

		if (e->kind != EV_POPULATE || e->start < start || e->end > end)
			continue;
		pages += e->pages;
		*errors += e->err != 0;
	}
	return pages;
}

TEST_F(trace, lock)
{
	struct mlockdev_lockall_ex la;
	struct maps_info mi;
	const struct event *e;
	char want[64];
	char *marker;
	int errors, i;
	long all;

	marker = mmap(NULL, 16 * self->page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, marker);
	for (i = 0; i < 4; i++)
		marker[i * self->page] = 1;
	memset(&la, 0, sizeof(la));
	la.size = sizeof(la);
	la.flags = MCL_CURRENT;
	ASSERT_EQ(0, read_maps(&mi));

	trace_start(self);
	ASSERT_EQ(0, ioctl(self->fd, MLOCKDEV_IOC_LOCK_ALL_EX, &la))
		TH_LOG("LOCK_ALL_EX: %s", strerror(errno));
	ASSERT_EQ(0, trace_stop(self));

	check_enter_exit(_metadata, "lock flags=0x1 mode=0x0");
	snprintf(want, sizeof(want), "lock ret=0 locked_vm=%llu",
		 (unsigned long long)la.report.locked_vm_after);
	EXPECT_STREQ(want, events[nevents - 1].text);

	/* One decision per VMA, adding up to the report. */
	EXPECT_EQ(mi.vmas, count(EV_VMA, NULL))
		TH_LOG("%d VMAs in /proc/self/maps", mi.vmas);
	EXPECT_EQ((int)la.report.vmas_seen, count(EV_VMA, NULL));
	EXPECT_EQ((int)la.report.vmas_changed,
		  count(EV_VMA, "locked") + count(EV_VMA, "relocked") +
		  count(EV_VMA, "unlocked"));
	EXPECT_EQ((int)la.report.vmas_skipped_special,
		  count(EV_VMA, "skipped:special"));
	e = find_vma((uintptr_t)marker, (uintptr_t)marker + 16 * self->page);
	ASSERT_NE(NULL, e) TH_LOG("no mlockdev_vma for our mapping %p", marker);
	EXPECT_STREQ("locked", e->what) TH_LOG("%s", e->text);
	if (mi.vdso[0]) {
		e = find_vma(mi.vdso[0], mi.vdso[1]);
		ASSERT_NE(NULL, e) TH_LOG("no mlockdev_vma for [vdso]");
		EXPECT_STREQ("skipped:special", e->what) TH_LOG("%s", e->text);
	}
	if (mi.vvar[0]) {
		e = find_vma(mi.vvar[0], mi.vvar[1]);
		ASSERT_NE(NULL, e) TH_LOG("no mlockdev_vma for [vvar]");
		EXPECT_STREQ("skipped:special", e->what) TH_LOG("%s", e->text);
	}

	/* Our mapping populated whole, without an error. */
	EXPECT_EQ(16L, populated_in((uintptr_t)marker,
				    (uintptr_t)marker + 16 * self->page,
				    &errors));
	EXPECT_EQ(0, errors);
	all = populated_in(0, ~0UL, &errors);
	EXPECT_EQ((long)la.report.pages_populated, all);
	/* Errors after some pages are traced, not counted (populate.c). */
	EXPECT_LE((int)la.report.populate_errors, errors);
	TH_LOG("%d events: %d VMAs (%d locked, %d special), %d populate "
	       "ranges of %ld pages", nevents, count(EV_VMA, NULL),
	       count(EV_VMA, "locked"), count(EV_VMA, "skipped:special"),
	       count(EV_POPULATE, NULL), all);
	munlockall();
}

TEST_F(trace, unlock)
{
	struct mlockdev_unlockall_ex ua;
	char want[64];

	ASSERT_EQ(0, mlockall(MCL_CURRENT));
	memset(&ua, 0, sizeof(ua));
	ua.size = sizeof(ua);
	trace_start(self);
	ASSERT_EQ(0, ioctl(self->fd, MLOCKDEV_IOC_UNLOCK_ALL_EX, &ua));
	ASSERT_EQ(0, trace_stop(self));

	check_enter_exit(_metadata, "unlock flags=0x0 mode=0x0");
	snprintf(want, sizeof(want), "unlock ret=0 locked_vm=0");
	EXPECT_STREQ(want, events[nevents - 1].text);
	EXPECT_LT(0, count(EV_VMA, "unlocked"));
	EXPECT_EQ((int)ua.report.vmas_changed, count(EV_VMA, "unlocked"));
	EXPECT_EQ(0, count(EV_POPULATE, NULL));
	EXPECT_EQ(0, count(EV_ROLLBACK, NULL));
}

TEST_F(trace, strict_rollback)
{
	char path[] = "/tmp/mlockdev-trace-XXXXXX";
	struct mlockdev_lockall_ex la;
	char want[64], *p;
	int fd, errors, i;
	long pages;

	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	unlink(path);
	ASSERT_EQ(0, ftruncate(fd, self->page));
	p = mmap(NULL, 8 * self->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	close(fd);

	memset(&la, 0, sizeof(la));
	la.size = sizeof(la);
	la.flags = MCL_CURRENT;
	la.mode_flags = MLOCKDEV_LOCK_STRICT;
	trace_start(self);
	EXPECT_EQ(-1, ioctl(self->fd, MLOCKDEV_IOC_LOCK_ALL_EX, &la));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, trace_stop(self));

	check_enter_exit(_metadata, "lock flags=0x1 mode=0x1");
	snprintf(want, sizeof(want), "lock ret=%d locked_vm=%llu", -EFAULT,
		 (unsigned long long)la.report.locked_vm_after);
	EXPECT_STREQ(want, events[nevents - 1].text);

	/* The first page is in the file; the second is past EOF. */
	pages = populated_in((uintptr_t)p, (uintptr_t)p + 8 * self->page,
			     &errors);
	EXPECT_EQ(1L, pages);
	EXPECT_EQ(1, errors);
	for (i = 0; i < nevents; i++)
		if (events[i].kind == EV_POPULATE && events[i].err)
			EXPECT_EQ(-EFAULT, events[i].err) TH_LOG("%s",
								 events[i].text);

	/* Every VMA the call changed, put back; nothing else. */
	EXPECT_LT(0, count(EV_ROLLBACK, NULL));
	EXPECT_EQ((int)la.report.vmas_changed, count(EV_ROLLBACK, NULL));
	EXPECT_EQ(count(EV_ROLLBACK, NULL), count(EV_ROLLBACK, "restored"));
	EXPECT_EQ(0, (int)la.report.locked_vm_after -
		     (int)la.report.locked_vm_before);
	/* Rollbacks come after the populate error, before the exit. */
	for (i = 0; i < nevents && events[i].kind != EV_ROLLBACK; i++)
		;
	for (; i < nevents - 1; i++)
		EXPECT_EQ(EV_ROLLBACK, events[i].kind) TH_LOG("event %d: %s", i,
							       events[i].text);
	munmap(p, 8 * self->page);
}

/*
 * Parallel populate leaves files that are not shmem to the calling
 * thread (workers.c: their reads wait under the mmap lock, where a kernel
 * worker could hang on a FUSE server or an NFS hard mount, unkillable).
 * A ramfs file is such a file: every populate range inside it must be
 * the caller's, while kernel workers take part of the anonymous memory.
 */
TEST_F(trace, workers_leave_files_to_caller)
{
	const unsigned long len = 64UL << 20;
	struct mlockdev_lockall_ex la;
	char dir[] = "/tmp/mlockdev-trace-ramfs-XXXXXX", path[256];
	unsigned long f0, f1, a0, a1;
	long file_other = 0, file_ours = 0, anon_other = 0;
	char *anon, *file;
	int fd, i;

	ASSERT_NE(NULL, mkdtemp(dir));
	if (mount("ramfs", dir, "ramfs", 0, NULL)) {
		rmdir(dir);
		SKIP(return, "mount ramfs: %s", strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, len));
	file = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, file);
	anon = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	f0 = (uintptr_t)file;
	f1 = f0 + len;
	a0 = (uintptr_t)anon;
	a1 = a0 + len;

	memset(&la, 0, sizeof(la));
	la.size = sizeof(la);
	la.flags = MCL_CURRENT;
	la.workers = 7;
	trace_start(self);
	ASSERT_EQ(0, ioctl(self->fd, MLOCKDEV_IOC_LOCK_ALL_EX, &la))
		TH_LOG("LOCK_ALL_EX(workers 7): %s", strerror(errno));
	inst_write(self, "tracing_on", "0");
	snprintf(path, sizeof(path), "%s/trace", self->inst);
	ASSERT_LE(0, read_all(path, trace_buf, sizeof(trace_buf)));
	parse_trace(-1);
	munlockall();

	for (i = 0; i < nevents; i++) {
		const struct event *e = &events[i];

		if (e->kind != EV_POPULATE)
			continue;
		if (e->start >= f0 && e->end <= f1) {
			if (e->who == getpid())
				file_ours += e->pages;
			else
				file_other += e->pages;
		} else if (e->start >= a0 && e->end <= a1 &&
			   e->who != getpid()) {
			anon_other += e->pages;
		}
	}
	TH_LOG("workers used %llu; file: %ld pages by the caller, %ld by "
	       "workers; anonymous: %ld by workers",
	       (unsigned long long)la.report.workers_used, file_ours,
	       file_other, anon_other);
	EXPECT_LT(1ULL, (unsigned long long)la.report.workers_used);
	EXPECT_LT(0L, anon_other) TH_LOG("no kernel worker populated anything");
	EXPECT_EQ(0L, file_other);
	EXPECT_EQ((long)(len / self->page), file_ours);

	munmap(anon, len);
	munmap(file, len);
	close(fd);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

TEST_HARNESS_MAIN
