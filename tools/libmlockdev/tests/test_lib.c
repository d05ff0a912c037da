// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Host tests of libmlockdev.so against the fake device (libfakedev.so in
 * LD_PRELOAD; see run-tests.sh for the environment).  One case per process
 * ("test_lib CASE"), so that each starts with the device not yet opened.
 * Exit status 0 = pass, 1 = fail; "# FAIL ..." lines say why.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mlockdev/mlockdev.h>

#include "testutil.h"

#define SENTINEL	4242	/* not an errno any call here can produce */

static char pidbuf[32];

static const char *mypid(void)
{
	snprintf(pidbuf, sizeof(pidbuf), "pid=%d ", (int)getpid());
	return pidbuf;
}

/* Check the last LOCK_ALL/UNLOCK_ALL line: request number, size, flags, reserved. */
static void check_request(const char *name, unsigned long nr, unsigned flags)
{
	char req[32];
	const char *line;

	snprintf(req, sizeof(req), "req=%s ", name);
	line = log_last(req, NULL);
	CHECK(*line, "no %s ioctl in the log", name);
	CHECK(log_field(line, "nr") == nr, "request 0x%llx, want 0x%lx: %s",
	      log_field(line, "nr"), nr, line);
	CHECK(log_field(line, "size") == 32, "size: %s", line);
	CHECK(log_field(line, "flags") == flags, "flags 0x%llx, want 0x%x: %s",
	      log_field(line, "flags"), flags, line);
	CHECK(strstr(line, " reserved0=0 reserved=0,0,0 "), "reserved: %s", line);
	CHECK(strstr(line, mypid()), "not from this process: %s", line);
}

static int case_success(void)
{
	struct mlockdev_info info;
	const char *line;
	int r;

	/* The first call opens the device: errno must survive that too. */
	errno = SENTINEL;
	r = mlockdev_lockall(MCL_CURRENT | MCL_FUTURE);
	CHECK(r == 0 && errno == SENTINEL, "lockall: %d errno %d", r, errno);
	check_request("LOCK_ALL", MLOCKDEV_IOC_LOCK_ALL, 0x3);

	line = log_last("open ", NULL);
	CHECK(log_count("open ", NULL) == 1, "%d opens", log_count("open ", NULL));
	CHECK(log_field(line, "cloexec") == 1, "no FD_CLOEXEC: %s", line);
	CHECK(log_field(line, "flags") & O_CLOEXEC, "no O_CLOEXEC: %s", line);
	CHECK((log_field(line, "flags") & O_ACCMODE) == O_RDWR, "%s", line);

	errno = SENTINEL;
	r = mlockdev_unlockall();
	CHECK(r == 0 && errno == SENTINEL, "unlockall: %d errno %d", r, errno);
	check_request("UNLOCK_ALL", MLOCKDEV_IOC_UNLOCK_ALL, 0);

	errno = SENTINEL;
	memset(&info, 0xa5, sizeof(info));
	r = mlockdev_query(&info);
	CHECK(r == 0 && errno == SENTINEL, "query: %d errno %d", r, errno);
	CHECK(info.abi_major == 1 && info.abi_minor == MLOCKDEV_ABI_MINOR,
	      "abi %u.%u", info.abi_major, info.abi_minor);
	CHECK(info.features == 0x3ff, "features 0x%llx",
	      (unsigned long long)info.features);
	CHECK(!strcmp(info.kernel_release, "6.12.0-fake"), "release '%.72s'",
	      info.kernel_release);
	CHECK(!info.reserved[0] && !info.reserved[3], "reserved not cleared");
	line = log_last("req=VERSION", NULL);
	CHECK(log_field(line, "nr") == MLOCKDEV_IOC_VERSION, "%s", line);
	CHECK(log_field(line, "size") == sizeof(struct mlockdev_version), "%s", line);
	CHECK(log_field(line, "in_nonzero") == 0, "input not zeroed: %s", line);

	/* The API is the .so's, wrapped or not. */
	errno = SENTINEL;
	r = __wrap_mlockall(MCL_FUTURE);
	CHECK(r == 0 && errno == SENTINEL, "__wrap_mlockall: %d %d", r, errno);
	check_request("LOCK_ALL", MLOCKDEV_IOC_LOCK_ALL, 0x2);
	r = __wrap_munlockall();
	CHECK(r == 0 && errno == SENTINEL, "__wrap_munlockall: %d %d", r, errno);

	CHECK(log_count("open ", NULL) == 1, "reopened: %d opens",
	      log_count("open ", NULL));
	return test_failures;
}

static int case_flags(void)
{
	/* Whatever the caller passes reaches the kernel bit for bit. */
	static const int values[] = {
		0, MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT,
		MCL_CURRENT | MCL_ONFAULT, MCL_FUTURE | MCL_ONFAULT,
		MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT, 8, 0x100, 0x7fffffff,
		-1, INT_MIN,
	};
	size_t i;
	int r;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		errno = SENTINEL;
		r = mlockdev_lockall(values[i]);
		CHECK(r == 0 && errno == SENTINEL, "flags %d: %d %d",
		      values[i], r, errno);
		check_request("LOCK_ALL", MLOCKDEV_IOC_LOCK_ALL,
			      (unsigned)values[i]);
	}
	return test_failures;
}

static int case_errors(void)
{
	static const struct { const char *name; int value; } errs[] = {
		{ "EINVAL", EINVAL }, { "EPERM", EPERM }, { "EINTR", EINTR },
		{ "ENOMEM", ENOMEM }, { "EFAULT", EFAULT }, { "ENOTTY", ENOTTY },
		{ "EAGAIN", EAGAIN }, { "EBADF", EBADF },
		/* The device declining a caller under a seccomp filter: the
		 * library passes it on (only the preload shim falls back). */
		{ "EACCES", EACCES },
	};
	struct mlockdev_info info;
	size_t i;
	int r;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		setenv("FAKEDEV_ERRNO", errs[i].name, 1);
		errno = SENTINEL;
		r = mlockdev_lockall(MCL_CURRENT);
		CHECK(r == -1 && errno == errs[i].value, "lockall %s: %d %d",
		      errs[i].name, r, errno);
		errno = SENTINEL;
		r = mlockdev_unlockall();
		CHECK(r == -1 && errno == errs[i].value, "unlockall %s: %d %d",
		      errs[i].name, r, errno);
		unsetenv("FAKEDEV_ERRNO");

		setenv("FAKEDEV_VERSION_ERRNO", errs[i].name, 1);
		r = mlockdev_query(&info);
		CHECK(r == -1 && errno == errs[i].value, "query %s: %d %d",
		      errs[i].name, r, errno);
		unsetenv("FAKEDEV_VERSION_ERRNO");
	}
	/* The device answered every time: no reopen, no retry ... */
	CHECK(log_count("open ", NULL) == 1, "%d opens", log_count("open ", NULL));
	/* ... and never the system call instead. */
	CHECK(log_count("syscall ", NULL) == 0, "%d system calls: %s",
	      log_count("syscall ", NULL), log_last("syscall ", NULL));
	CHECK(log_count("req=LOCK_ALL", NULL) == (int)i, "%d LOCK_ALL",
	      log_count("req=LOCK_ALL", NULL));
	/* And errors are not sticky. */
	errno = SENTINEL;
	r = mlockdev_lockall(MCL_CURRENT);
	CHECK(r == 0 && errno == SENTINEL, "after errors: %d %d", r, errno);
	errno = SENTINEL;
	r = mlockdev_query(NULL);
	CHECK(r == -1 && errno == EFAULT, "query(NULL): %d %d", r, errno);
	return test_failures;
}

#define RACERS 16
static pthread_barrier_t barrier;

static void *racer(void *arg)
{
	int *result = arg;

	pthread_barrier_wait(&barrier);
	errno = SENTINEL;
	*result = mlockdev_lockall(MCL_CURRENT | MCL_FUTURE);
	if (*result == 0 && errno != SENTINEL)
		*result = -2;
	return NULL;
}

static int case_race(void)
{
	pthread_t t[RACERS];
	int res[RACERS], i;

	pthread_barrier_init(&barrier, NULL, RACERS);
	for (i = 0; i < RACERS; i++)
		CHECK(!pthread_create(&t[i], NULL, racer, &res[i]), "create");
	for (i = 0; i < RACERS; i++) {
		pthread_join(t[i], NULL);
		CHECK(res[i] == 0, "thread %d: %d", i, res[i]);
	}
	CHECK(log_count("open ", NULL) == 1, "%d opens for %d racing threads",
	      log_count("open ", NULL), RACERS);
	CHECK(log_count("req=LOCK_ALL", NULL) == RACERS, "%d LOCK_ALL",
	      log_count("req=LOCK_ALL", NULL));
	return test_failures;
}

static int case_nodev(void)
{
	struct mlockdev_info info;
	const char *dev = mlockdev_device_path();
	int r, fd;

	/* run-tests.sh points MLOCKDEV_DEVICE at a path that does not exist. */
	CHECK(!strcmp(dev, getenv("MLOCKDEV_DEVICE")), "path %s", dev);
	errno = SENTINEL;
	r = mlockdev_lockall(MCL_CURRENT);
	CHECK(r == -1 && errno == ENODEV, "lockall: %d %s", r, strerror(errno));
	r = mlockdev_unlockall();
	CHECK(r == -1 && errno == ENODEV, "unlockall: %d %s", r, strerror(errno));
	r = mlockdev_query(&info);
	CHECK(r == -1 && errno == ENODEV, "query: %d %s", r, strerror(errno));

	/* The failure is not cached: once the device appears, calls work. */
	fd = (int)syscall(SYS_openat, AT_FDCWD, dev, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0, "create %s", dev);
	close(fd);
	errno = SENTINEL;
	r = mlockdev_lockall(MCL_CURRENT);
	CHECK(r == 0 && errno == SENTINEL, "after the device appeared: %d %s",
	      r, strerror(errno));
	unlink(dev);

	/* Other open(2) errors are passed on as they are. */
	setenv("MLOCKDEV_DEVICE", "/", 1);
	CHECK(!strcmp(mlockdev_device_path(), "/"), "override");
	return test_failures;
}

static int case_isdir(void)
{
	int r;

	errno = SENTINEL;
	r = mlockdev_lockall(MCL_CURRENT);
	CHECK(r == -1 && errno == EISDIR, "lockall on a directory: %d %s", r,
	      strerror(errno));
	return test_failures;
}

static int child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int case_fork(void)
{
	char ppid[32];
	pid_t pid;
	int r;

	r = mlockdev_lockall(MCL_CURRENT);
	CHECK(r == 0, "parent: %d %s", r, strerror(errno));
	snprintf(ppid, sizeof(ppid), "%s", mypid());

	pid = fork();
	if (pid == 0) {
		alarm(10);
		errno = SENTINEL;
		r = mlockdev_lockall(MCL_CURRENT | MCL_FUTURE);
		CHECK(r == 0 && errno == SENTINEL, "child: %d %d", r, errno);
		/* The child's own call, on the inherited descriptor. */
		CHECK(log_count("req=LOCK_ALL", mypid()) == 1, "child ioctl");
		CHECK(log_count("open ", mypid()) == 0, "child reopened");
		_exit(test_failures ? 1 : 0);
	}
	CHECK(child_status(pid) == 0, "child failed");
	CHECK(log_count("open ", NULL) == 1, "%d opens", log_count("open ", NULL));
	CHECK(log_count("req=LOCK_ALL", ppid) == 1, "parent ioctls");
	CHECK(log_count("req=LOCK_ALL", NULL) == 2, "%d LOCK_ALL",
	      log_count("req=LOCK_ALL", NULL));
	return test_failures;
}

static void *slow_opener(void *arg)
{
	(void)arg;
	mlockdev_lockall(MCL_CURRENT);
	return NULL;
}

/*
 * fork() while another thread is inside the slow open path (the fake
 * sleeps in open(), so the thread holds the library's mutex): the child
 * must not inherit a locked mutex.
 */
static int case_fork_race(void)
{
	struct timespec ts = { 0, 50 * 1000000L };
	pthread_t t;
	pid_t pid;
	int r;

	CHECK(!pthread_create(&t, NULL, slow_opener, NULL), "create");
	nanosleep(&ts, NULL);
	pid = fork();
	if (pid == 0) {
		alarm(5);	/* a deadlock fails the test, not the run */
		unsetenv("FAKEDEV_OPEN_DELAY_MS");
		r = mlockdev_lockall(MCL_FUTURE);
		_exit(r == 0 ? 0 : 1);
	}
	CHECK(child_status(pid) == 0, "child hung or failed");
	pthread_join(t, NULL);
	return test_failures;
}

static int case_exec(const char *self)
{
	char fdarg[16], *argv[4];
	const char *line;
	pid_t pid;
	int r;

	r = mlockdev_lockall(MCL_CURRENT);
	CHECK(r == 0, "lockall: %d", r);
	line = log_last("open ", NULL);
	snprintf(fdarg, sizeof(fdarg), "%llu", log_field(line, "fd"));

	pid = fork();
	if (pid == 0) {
		argv[0] = (char *)self;
		argv[1] = (char *)"after-exec";
		argv[2] = fdarg;
		argv[3] = NULL;
		execv(self, argv);
		_exit(127);
	}
	CHECK(child_status(pid) == 0, "exec'd child failed");
	return test_failures;
}

static int case_after_exec(int fd)
{
	int r;

	/* O_CLOEXEC: the descriptor did not survive exec ... */
	CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF,
	      "fd %d survived exec", fd);
	/* ... and the new program opens its own. */
	r = mlockdev_lockall(MCL_CURRENT);
	CHECK(r == 0, "lockall after exec: %d", r);
	CHECK(log_count("open ", mypid()) == 1, "no open after exec");
	return test_failures;
}

static int case_reopen(void)
{
	const char *line;
	int fd, devnull, r;

	r = mlockdev_lockall(MCL_CURRENT);
	CHECK(r == 0, "first: %d", r);
	fd = (int)log_field(log_last("open ", NULL), "fd");

	/* The program closes our descriptor (EBADF): reopen. */
	close(fd);
	errno = SENTINEL;
	r = mlockdev_lockall(MCL_CURRENT);
	CHECK(r == 0 && errno == SENTINEL, "after close: %d %s", r,
	      strerror(errno));
	CHECK(log_count("open ", NULL) == 2, "%d opens", log_count("open ", NULL));

	/* ... and the number is reused for another file (ENOTTY): reopen,
	 * and leave the other file alone. */
	fd = (int)log_field(log_last("open ", NULL), "fd");
	devnull = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
	CHECK(dup2(devnull, fd) == fd, "dup2");
	close(devnull);
	errno = SENTINEL;
	r = mlockdev_unlockall();
	CHECK(r == 0 && errno == SENTINEL, "after reuse: %d %s", r,
	      strerror(errno));
	CHECK(log_count("open ", NULL) == 3, "%d opens", log_count("open ", NULL));
	CHECK(fcntl(fd, F_GETFD) >= 0, "library closed a descriptor it no longer owns");
	line = log_last("req=UNLOCK_ALL", NULL);
	CHECK(log_field(line, "fd") != (unsigned long long)fd, "%s", line);
	return test_failures;
}

static int case_parse(void)
{
	static const struct { const char *spec; int flags; } good[] = {
		{ "current", MCL_CURRENT }, { "future", MCL_FUTURE },
		{ "current,future", MCL_CURRENT | MCL_FUTURE },
		{ "future,current", MCL_CURRENT | MCL_FUTURE },
		{ "current,onfault", MCL_CURRENT | MCL_ONFAULT },
		{ "onfault,future", MCL_FUTURE | MCL_ONFAULT },
		{ "current,future,onfault", 7 }, { "current,current", 1 },
	};
	static const char *const bad[] = {
		"", "onfault", "bogus", "current,", ",current", "current,,future",
		"CURRENT", "current future", "current|future", "current,bogus",
		"currentx", "curren",
	};
	size_t i;
	int f;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		f = -1;
		CHECK(mlockdev_flags_from_string(good[i].spec, &f) == 0 &&
		      f == good[i].flags, "'%s' -> %d", good[i].spec, f);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = -1;
		errno = 0;
		CHECK(mlockdev_flags_from_string(bad[i], &f) == -1 &&
		      errno == EINVAL && f == -1, "'%s' accepted", bad[i]);
	}
	CHECK(mlockdev_flags_from_string(NULL, &f) == -1, "NULL");
	unsetenv("MLOCKDEV_DEVICE");
	CHECK(!strcmp(mlockdev_device_path(), "/dev/mlockdev"), "default path");
	setenv("MLOCKDEV_DEVICE", "", 1);
	CHECK(!strcmp(mlockdev_device_path(), "/dev/mlockdev"), "empty override");
	return test_failures;
}

/* Is every byte of the report zero? */
static int report_is_zero(const struct mlockdev_report *r)
{
	static const struct mlockdev_report zero;

	return !memcmp(r, &zero, sizeof(zero));
}

/* The last LOCK_ALL_EX or UNLOCK_ALL_EX line: the struct as it arrived. */
static void check_ex_request(const char *name, unsigned long nr,
			     unsigned flags, unsigned long long mode,
			     unsigned workers)
{
	char req[32];
	const char *line;

	snprintf(req, sizeof(req), "req=%s ", name);
	line = log_last(req, NULL);
	CHECK(*line, "no %s ioctl in the log", name);
	CHECK(log_field(line, "nr") == nr, "request 0x%llx, want 0x%lx: %s",
	      log_field(line, "nr"), nr, line);
	/* The size this library knows, in the command and in the struct. */
	CHECK(log_field(line, "size") == MLOCKDEV_LOCKALL_EX_SIZE_VER0 &&
	      log_field(line, "usize") == sizeof(struct mlockdev_lockall_ex),
	      "size: %s", line);
	CHECK(log_field(line, "flags") == flags, "flags 0x%llx, want 0x%x: %s",
	      log_field(line, "flags"), flags, line);
	CHECK(log_field(line, "mode") == mode, "mode 0x%llx, want 0x%llx: %s",
	      log_field(line, "mode"), mode, line);
	CHECK(log_field(line, "workers") == workers, "workers %llu, want %u: %s",
	      log_field(line, "workers"), workers, line);
	CHECK(log_field(line, "reserved") == 0, "reserved: %s", line);
	CHECK(strstr(line, mypid()), "not from this process: %s", line);
}

static int case_ex_success(void)
{
	struct mlockdev_options opts;
	struct mlockdev_report rep;
	int r;

	/* No options: LOCK_ALL_EX with mode 0, the report filled in. */
	errno = SENTINEL;
	memset(&rep, 0xa5, sizeof(rep));
	r = mlockdev_lockall_ex(MCL_CURRENT | MCL_FUTURE, NULL, &rep);
	CHECK(r == 0 && errno == SENTINEL, "lockall_ex: %d errno %d", r, errno);
	check_ex_request("LOCK_ALL_EX", MLOCKDEV_IOC_LOCK_ALL_EX, 3, 0, 0);
	CHECK(log_field(log_last("req=LOCK_ALL_EX ", NULL), "pidfd") == 0,
	      "pidfd");
	CHECK(rep.vmas_seen == 12 && rep.vmas_changed == 10 &&
	      rep.locked_vm_after == 2148 && rep.pages_populated == 2048 &&
	      rep.workers_used == 1 && !rep.reserved[9] && !rep.reserved0,
	      "report not copied: seen %llu after %llu",
	      (unsigned long long)rep.vmas_seen,
	      (unsigned long long)rep.locked_vm_after);
	CHECK(log_count("open ", NULL) == 1, "%d opens", log_count("open ", NULL));

	errno = SENTINEL;
	memset(&rep, 0xa5, sizeof(rep));
	r = mlockdev_unlockall_ex(NULL, &rep);
	CHECK(r == 0 && errno == SENTINEL, "unlockall_ex: %d errno %d", r, errno);
	check_ex_request("UNLOCK_ALL_EX", MLOCKDEV_IOC_UNLOCK_ALL_EX, 0, 0, 0);
	CHECK(rep.pages_unmarked == 2148 && rep.locked_vm_after == 0,
	      "unlock report: unmarked %llu",
	      (unsigned long long)rep.pages_unmarked);

	/* The report is optional. */
	errno = SENTINEL;
	r = mlockdev_lockall_ex(MCL_CURRENT, NULL, NULL);
	CHECK(r == 0 && errno == SENTINEL, "no report: %d errno %d", r, errno);
	r = mlockdev_unlockall_ex(NULL, NULL);
	CHECK(r == 0 && errno == SENTINEL, "no report: %d errno %d", r, errno);

	/* Options reach the module as given; all zero is no options. */
	memset(&opts, 0, sizeof(opts));
	r = mlockdev_lockall_ex(MCL_FUTURE, &opts, &rep);
	CHECK(r == 0, "zero options: %d %s", r, strerror(errno));
	check_ex_request("LOCK_ALL_EX", MLOCKDEV_IOC_LOCK_ALL_EX, 2, 0, 0);
	opts.mode = MLOCKDEV_LOCK_STRICT | MLOCKDEV_LOCK_OPENBSD;
	opts.workers = 4;
	r = mlockdev_lockall_ex(MCL_CURRENT, &opts, &rep);
	CHECK(r == 0, "strict openbsd 4: %d %s", r, strerror(errno));
	check_ex_request("LOCK_ALL_EX", MLOCKDEV_IOC_LOCK_ALL_EX, 1, 3, 4);
	opts.mode = 0;
	opts.workers = MLOCKDEV_WORKERS_AUTO;
	r = mlockdev_lockall_ex(MCL_CURRENT | MCL_ONFAULT, &opts, &rep);
	CHECK(r == 0, "auto: %d %s", r, strerror(errno));
	check_ex_request("LOCK_ALL_EX", MLOCKDEV_IOC_LOCK_ALL_EX, 5, 0,
			 MLOCKDEV_WORKERS_AUTO);
	opts.workers = 0;
	opts.mode = MLOCKDEV_LOCK_OPENBSD;
	r = mlockdev_unlockall_ex(&opts, &rep);
	CHECK(r == 0, "unlock openbsd: %d %s", r, strerror(errno));
	check_ex_request("UNLOCK_ALL_EX", MLOCKDEV_IOC_UNLOCK_ALL_EX, 0,
			 MLOCKDEV_LOCK_OPENBSD, 0);

	/* flags bit for bit, as for mlockdev_lockall(). */
	r = mlockdev_lockall_ex(-1, NULL, &rep);
	CHECK(r == 0, "flags -1: %d", r);
	check_ex_request("LOCK_ALL_EX", MLOCKDEV_IOC_LOCK_ALL_EX, 0xffffffffu, 0, 0);
	CHECK(log_count("open ", NULL) == 1, "reopened: %d opens",
	      log_count("open ", NULL));
	return test_failures;
}

static int case_ex_invalid(void)
{
	struct mlockdev_options opts;
	struct mlockdev_report rep;
	size_t i;
	int r, before;

	/* The library's own reserved fields: EINVAL, nothing sent. */
	for (i = 0; i < sizeof(opts.reserved) / sizeof(opts.reserved[0]); i++) {
		memset(&opts, 0, sizeof(opts));
		opts.reserved[i] = 1;
		memset(&rep, 0xa5, sizeof(rep));
		errno = SENTINEL;
		r = mlockdev_lockall_ex(MCL_CURRENT, &opts, &rep);
		CHECK(r == -1 && errno == EINVAL, "reserved[%zu]: %d %d", i, r,
		      errno);
		CHECK(report_is_zero(&rep), "report not zeroed");
		r = mlockdev_unlockall_ex(&opts, &rep);
		CHECK(r == -1 && errno == EINVAL, "unlock reserved[%zu]: %d %d",
		      i, r, errno);
	}
	/* An unlock has no workers. */
	memset(&opts, 0, sizeof(opts));
	opts.workers = 2;
	errno = SENTINEL;
	r = mlockdev_unlockall_ex(&opts, &rep);
	CHECK(r == -1 && errno == EINVAL, "unlock workers: %d %d", r, errno);
	CHECK(log_count("req=", NULL) == 0, "a request was sent: %s",
	      log_last("req=", NULL));

	/* What only the module can judge goes to the module. */
	before = log_count("req=LOCK_ALL_EX ", NULL);
	memset(&opts, 0, sizeof(opts));
	opts.mode = 1ULL << 40;
	memset(&rep, 0xa5, sizeof(rep));
	r = mlockdev_lockall_ex(MCL_CURRENT, &opts, &rep);
	CHECK(r == -1 && errno == EINVAL, "unknown mode: %d %d", r, errno);
	CHECK(log_count("req=LOCK_ALL_EX ", NULL) == before + 1, "not sent");
	CHECK(report_is_zero(&rep), "report of a refused call not zero");
	opts.mode = 0;
	opts.pidfd = 5;
	r = mlockdev_lockall_ex(MCL_CURRENT, &opts, &rep);
	CHECK(r == -1 && errno == EINVAL, "pidfd without the mode: %d %d", r,
	      errno);
	opts.pidfd = 0;
	opts.mode = MLOCKDEV_LOCK_STRICT;
	r = mlockdev_unlockall_ex(&opts, &rep);
	CHECK(r == -1 && errno == EINVAL, "strict unlock: %d %d", r, errno);
	return test_failures;
}

static int case_ex_errors(void)
{
	static const char *const late[] = {
		"EFAULT", "ENOMEM", "EAGAIN", "EINTR", "EPERM", "EINVAL", "EIO",
	};
	static const char *const early[] = {
		"EPERM", "ESRCH", "EINVAL", "EBADF", "EACCES", "EFAULT",
	};
	struct mlockdev_report rep;
	size_t i;
	int r;

	/* After the module accepted the call: the error and its report. */
	setenv("FAKEDEV_REPORT", "failed_vma_start=0x7f0000001000,"
	       "failed_vma_end=0x7f0000005000,populate_errors=1,"
	       "populate_first_errno=-14,populate_first_addr=0x7f0000002000,"
	       "locked_vm_after=0", 1);
	for (i = 0; i < sizeof(late) / sizeof(late[0]); i++) {
		setenv("FAKEDEV_ERRNO", late[i], 1);
		memset(&rep, 0xa5, sizeof(rep));
		errno = SENTINEL;
		r = mlockdev_lockall_ex(MCL_CURRENT, NULL, &rep);
		CHECK(r == -1 && !strcmp(strerrorname_np(errno), late[i]),
		      "%s: %d %d", late[i], r, errno);
		CHECK(rep.failed_vma_start == 0x7f0000001000ULL &&
		      rep.failed_vma_end == 0x7f0000005000ULL &&
		      rep.populate_first_errno == -14 && rep.vmas_seen == 12,
		      "%s: report not returned", late[i]);
		memset(&rep, 0xa5, sizeof(rep));
		r = mlockdev_unlockall_ex(NULL, &rep);
		CHECK(r == -1 && !strcmp(strerrorname_np(errno), late[i]),
		      "unlock %s: %d %d", late[i], r, errno);
		CHECK(rep.vmas_seen == 12, "unlock %s: no report", late[i]);
	}
	unsetenv("FAKEDEV_ERRNO");
	/* Before: the error, and a report of zeros whatever was passed in. */
	for (i = 0; i < sizeof(early) / sizeof(early[0]); i++) {
		setenv("FAKEDEV_EX_EARLY_ERRNO", early[i], 1);
		memset(&rep, 0xa5, sizeof(rep));
		errno = SENTINEL;
		r = mlockdev_lockall_ex(MCL_CURRENT, NULL, &rep);
		CHECK(r == -1 && !strcmp(strerrorname_np(errno), early[i]),
		      "early %s: %d %d", early[i], r, errno);
		CHECK(report_is_zero(&rep), "early %s: report not zero",
		      early[i]);
	}
	unsetenv("FAKEDEV_EX_EARLY_ERRNO");
	/* The module's EBADF (a bad pidfd) on our own descriptor: no reopen. */
	CHECK(log_count("open ", NULL) == 1, "%d opens", log_count("open ", NULL));
	CHECK(log_count("syscall ", NULL) == 0, "system call made");
	errno = SENTINEL;
	r = mlockdev_lockall_ex(MCL_CURRENT, NULL, &rep);
	CHECK(r == 0 && errno == SENTINEL, "after errors: %d %d", r, errno);
	return test_failures;
}

static int case_ex_pidfd(void)
{
	struct mlockdev_options opts;
	struct mlockdev_report rep;
	char want[32];
	pid_t pid;
	int pidfd, r, st;

	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		kill(pid, SIGKILL);
		printf("# SKIP pidfd_open: %s\n", strerror(errno));
		return 0;
	}
	memset(&opts, 0, sizeof(opts));
	opts.mode = MLOCKDEV_LOCK_PIDFD;
	opts.pidfd = pidfd;
	errno = SENTINEL;
	r = mlockdev_lockall_ex(MCL_CURRENT | MCL_FUTURE, &opts, &rep);
	CHECK(r == 0 && errno == SENTINEL, "pidfd lock: %d %d", r, errno);
	check_ex_request("LOCK_ALL_EX", MLOCKDEV_IOC_LOCK_ALL_EX, 3,
			 MLOCKDEV_LOCK_PIDFD, 0);
	snprintf(want, sizeof(want), " target=%d ", (int)pid);
	CHECK(strstr(log_last("req=LOCK_ALL_EX ", NULL), want), "%s, want%s",
	      log_last("req=LOCK_ALL_EX ", NULL), want);
	CHECK(log_field(log_last("req=LOCK_ALL_EX ", NULL), "pidfd") ==
	      (unsigned long long)pidfd, "pidfd not passed");
	r = mlockdev_unlockall_ex(&opts, &rep);
	CHECK(r == 0, "pidfd unlock: %d %s", r, strerror(errno));
	CHECK(strstr(log_last("req=UNLOCK_ALL_EX ", NULL), want), "unlock: %s",
	      log_last("req=UNLOCK_ALL_EX ", NULL));
	/* Not a pidfd: the module says EBADF; our descriptor is fine. */
	opts.pidfd = STDIN_FILENO;
	r = mlockdev_lockall_ex(MCL_CURRENT, &opts, &rep);
	CHECK(r == -1 && errno == EBADF, "not a pidfd: %d %s", r,
	      strerror(errno));
	CHECK(log_count("open ", NULL) == 1, "%d opens", log_count("open ", NULL));
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(pidfd);
	return test_failures;
}

/* An ABI 1.0 module (FAKEDEV_FEATURES=0xf in run-tests.sh). */
static int case_ex_old_module(void)
{
	struct mlockdev_report rep;
	int r;

	errno = SENTINEL;
	r = mlockdev_supports(MLOCKDEV_FEAT_LOCK_ALL | MLOCKDEV_FEAT_UNLOCK_ALL);
	CHECK(r == 1 && errno == SENTINEL, "supports LOCK_ALL: %d %d", r, errno);
	r = mlockdev_supports(MLOCKDEV_FEAT_LOCK_ALL | MLOCKDEV_FEAT_LOCK_ALL_EX);
	CHECK(r == 0 && errno == SENTINEL, "supports LOCK_ALL_EX: %d %d", r,
	      errno);
	CHECK(mlockdev_supports(0) == 1, "supports nothing");
	memset(&rep, 0xa5, sizeof(rep));
	r = mlockdev_lockall_ex(MCL_CURRENT, NULL, &rep);
	CHECK(r == -1 && errno == ENOTTY, "lockall_ex: %d %s", r,
	      strerror(errno));
	CHECK(report_is_zero(&rep), "report not zero");
	r = mlockdev_unlockall_ex(NULL, &rep);
	CHECK(r == -1 && errno == ENOTTY, "unlockall_ex: %d %s", r,
	      strerror(errno));
	/* ENOTTY from our own device: not mistaken for a stolen descriptor. */
	CHECK(log_count("open ", NULL) == 1, "%d opens", log_count("open ", NULL));
	/* The plain calls still work. */
	r = mlockdev_lockall(MCL_CURRENT);
	CHECK(r == 0, "lockall: %d", r);
	setenv("FAKEDEV_VERSION_ERRNO", "EIO", 1);
	r = mlockdev_supports(MLOCKDEV_FEAT_LOCK_ALL);
	CHECK(r == -1 && errno == EIO, "supports without VERSION: %d %d", r,
	      errno);
	return test_failures;
}

static int case_report_format(void)
{
	struct mlockdev_report rep;
	char buf[2048], small[16], want[2048];
	unsigned long kb = (unsigned long)sysconf(_SC_PAGESIZE) / 1024;
	int n;

	memset(&rep, 0, sizeof(rep));
	rep.vmas_seen = 40;
	rep.vmas_changed = 36;
	rep.vmas_skipped_special = 2;
	rep.vmas_skipped_hugetlb = 1;
	rep.vmas_skipped_secretmem = 1;
	rep.pages_marked = 120;
	rep.pages_populated = 2871;
	rep.locked_vm_before = 3;
	rep.locked_vm_after = 2874;
	rep.lock_pass_ns = 412345;
	rep.page_pass_ns = 51000;
	rep.populate_ns = 1003220999;
	rep.workers_used = 1;
	n = mlockdev_report_format(&rep, buf, sizeof(buf));
	snprintf(want, sizeof(want),
		 "  VMAs: 40 seen, 36 changed, 4 skipped (special 2, hugetlb 1, secretmem 1)\n"
		 "  pages: 120 marked, 0 unmarked, 2871 populated\n"
		 "  populate errors: none\n"
		 "  VmLck: %lu kB before, %lu kB after (locked_vm 3 -> 2874 pages)\n"
		 "  time: lock pass 0.412 ms (page pass 0.051 ms), populate 1003.220 ms\n"
		 "  workers: 1 (the calling thread)\n", 3 * kb, 2874 * kb);
	CHECK(!strcmp(buf, want), "got:\n%s\nwant:\n%s", buf, want);
	CHECK(n == (int)strlen(want), "returned %d, want %zu", n, strlen(want));

	/* Like snprintf: cut, NUL-terminated, the whole length returned. */
	memset(small, 'x', sizeof(small));
	CHECK(mlockdev_report_format(&rep, small, sizeof(small)) == n &&
	      small[15] == '\0' && !strncmp(small, want, 15), "cut: '%s'", small);
	CHECK(mlockdev_report_format(&rep, NULL, 0) == n, "length only");

	/* Errors, workers, a strict failure; nothing skipped. */
	memset(&rep, 0, sizeof(rep));
	rep.vmas_seen = 5;
	rep.populate_errors = 2;
	rep.populate_first_errno = -EFAULT;
	rep.populate_first_addr = 0x7f0000002000ULL;
	rep.failed_vma_start = 0x7f0000001000ULL;
	rep.failed_vma_end = 0x7f0000005000ULL;
	rep.workers_used = 3;
	n = mlockdev_report_format(&rep, buf, sizeof(buf));
	CHECK(n > 0 && strstr(buf, "  VMAs: 5 seen, 0 changed, 0 skipped\n"),
	      "%s", buf);
	CHECK(strstr(buf, "  populate errors: 2, the first EFAULT (Bad address) at 0x7f0000002000\n"),
	      "%s", buf);
	CHECK(strstr(buf, "  workers: 3 (the calling thread and 2 kernel workers)\n"),
	      "%s", buf);
	CHECK(strstr(buf, "  failed VMA: 0x7f0000001000-0x7f0000005000 could not be made resident; the call was undone\n"),
	      "%s", buf);
	rep.workers_used = 0;
	mlockdev_report_format(&rep, buf, sizeof(buf));
	CHECK(strstr(buf, "  workers: 0 (nothing faulted in)\n"), "%s", buf);

	errno = SENTINEL;
	CHECK(mlockdev_report_format(NULL, buf, sizeof(buf)) == -1 &&
	      errno == EINVAL, "NULL report");
	return test_failures;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	if (!strcmp(c, "success"))
		return !!case_success();
	if (!strcmp(c, "flags"))
		return !!case_flags();
	if (!strcmp(c, "errors"))
		return !!case_errors();
	if (!strcmp(c, "race"))
		return !!case_race();
	if (!strcmp(c, "nodev"))
		return !!case_nodev();
	if (!strcmp(c, "isdir"))
		return !!case_isdir();
	if (!strcmp(c, "fork"))
		return !!case_fork();
	if (!strcmp(c, "fork-race"))
		return !!case_fork_race();
	if (!strcmp(c, "exec"))
		return !!case_exec(argv[0]);
	if (!strcmp(c, "after-exec") && argc > 2)
		return !!case_after_exec(atoi(argv[2]));
	if (!strcmp(c, "reopen"))
		return !!case_reopen();
	if (!strcmp(c, "parse"))
		return !!case_parse();
	if (!strcmp(c, "ex-success"))
		return !!case_ex_success();
	if (!strcmp(c, "ex-invalid"))
		return !!case_ex_invalid();
	if (!strcmp(c, "ex-errors"))
		return !!case_ex_errors();
	if (!strcmp(c, "ex-pidfd"))
		return !!case_ex_pidfd();
	if (!strcmp(c, "ex-old-module"))
		return !!case_ex_old_module();
	if (!strcmp(c, "report-format"))
		return !!case_report_format();
	fprintf(stderr, "usage: test_lib CASE\n");
	return 2;
}
