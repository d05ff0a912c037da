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
	CHECK(info.abi_major == 1 && info.abi_minor == 0, "abi %u.%u",
	      info.abi_major, info.abi_minor);
	CHECK(info.features == 0xf, "features 0x%llx",
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
	fprintf(stderr, "usage: test_lib CASE\n");
	return 2;
}
