// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The static-program recipe, as documented: a program that calls plain
 * mlockall()/munlockall(), linked -static with
 *	-Wl,--wrap=mlockall -Wl,--wrap=munlockall libmlockdev.a
 * The test also links with -Wl,--wrap=ioctl so that __wrap_ioctl() below
 * can play the device: the library really opens $MLOCKDEV_DEVICE (a
 * regular file), and ioctls on it are recorded and answered here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/mlockdev.h>

#include "testutil.h"

#define SENTINEL 4242

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

static unsigned long last_req;
static unsigned last_flags;
static int calls, fail_with;

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	const char *dev = getenv("MLOCKDEV_DEVICE");
	struct mlockdev_lockall *la;
	struct stat a, b;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!dev || fstat(fd, &a) || stat(dev, &b) ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return __real_ioctl(fd, req, arg);
	la = arg;
	calls++;
	last_req = req;
	last_flags = la->flags;
	if (fail_with) {
		errno = fail_with;
		return -1;
	}
	errno = EBADMSG;
	return 0;
}

int main(int argc, char **argv)
{
	char dev[] = "/tmp/mlockdev-wrap-XXXXXX";
	int fd, r;

	if (argc > 1 && !strcmp(argv[1], "nodev")) {
		/* No device: the libc call is not quietly used instead. */
		setenv("MLOCKDEV_DEVICE", "/nonexistent/mlockdev", 1);
		r = mlockall(MCL_CURRENT);
		CHECK(r == -1 && errno == ENODEV, "no device: %d %s", r,
		      strerror(errno));
		CHECK(calls == 0, "calls %d", calls);
		return test_failures ? 1 : 0;
	}

	fd = mkstemp(dev);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	setenv("MLOCKDEV_DEVICE", dev, 1);

	errno = SENTINEL;
	r = mlockall(MCL_CURRENT | MCL_FUTURE);
	CHECK(r == 0 && errno == SENTINEL, "mlockall: %d %d", r, errno);
	CHECK(calls == 1 && last_req == MLOCKDEV_IOC_LOCK_ALL && last_flags == 3,
	      "calls %d req 0x%lx flags 0x%x", calls, last_req, last_flags);

	errno = SENTINEL;
	r = munlockall();
	CHECK(r == 0 && errno == SENTINEL, "munlockall: %d %d", r, errno);
	CHECK(calls == 2 && last_req == MLOCKDEV_IOC_UNLOCK_ALL,
	      "calls %d req 0x%lx", calls, last_req);

	fail_with = EPERM;
	r = mlockall(MCL_CURRENT);
	CHECK(r == -1 && errno == EPERM, "mlockall EPERM: %d %d", r, errno);
	fail_with = ENOMEM;
	r = munlockall();
	CHECK(r == -1 && errno == ENOMEM, "munlockall ENOMEM: %d %d", r, errno);
	CHECK(calls == 4, "calls %d", calls);

	unlink(dev);
	return test_failures ? 1 : 0;
}
