// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libfakedev.so: an LD_PRELOAD test double for /dev/mlockdev.
 *
 * The "device" is a regular file named by $FAKEDEV_PATH; the library under
 * test is pointed at it with MLOCKDEV_DEVICE.  open() of that file really
 * opens it (so O_CLOEXEC and descriptor numbers are real) and is logged;
 * ioctl() on a descriptor that refers to it (same st_dev/st_ino) is
 * answered here and logged, every other call goes to libc.  syscall(2)
 * of mlockall and munlockall (the preload shim's fallback when the device
 * declines a caller) is answered here and logged too; other system call
 * numbers go to libc.
 *
 * Environment, read at each call so a test can change it between calls:
 *   FAKEDEV_PATH	the fake device file (required)
 *   FAKEDEV_LOG	append one line per event here (O_APPEND, so forked
 *			children and exec'd programs share it)
 *   FAKEDEV_ERRNO	LOCK_ALL/UNLOCK_ALL fail with this errno (name or
 *			number); unset or empty: succeed.  EACCES is what
 *			the module answers a caller under a seccomp filter.
 *   FAKEDEV_OPEN_ERRNO	open() of the fake device fails with this errno
 *			(as for a user the node's mode keeps out: the
 *			tests run as root, which permissions do not stop)
 *   FAKEDEV_SYSCALL_ERRNO	syscall(SYS_mlockall/SYS_munlockall) fails
 *			with this errno (a seccomp filter's answer);
 *			unset or empty: succeed
 *   FAKEDEV_VERSION_ERRNO	same for VERSION
 *   FAKEDEV_FEATURES	features VERSION reports (default 0xf)
 *   FAKEDEV_OPEN_DELAY_MS	sleep this long inside open() (race tests)
 *
 * Successful calls deliberately leave errno set to EBADMSG, as libc
 * functions are allowed to: the library must restore its caller's errno.
 *
 * Log lines:
 *   open pid=P fd=N flags=0xF cloexec=0|1
 *   open-refused pid=P flags=0xF ret=-ERRNAME
 *   syscall pid=P nr=mlockall flags=0xF ret=0|-ERRNAME
 *   syscall pid=P nr=munlockall ret=0|-ERRNAME
 *   ioctl pid=P fd=N req=NAME nr=0xR size=S flags=0xF reserved0=X reserved=A,B,C ret=0|-ERRNAME
 *   version pid=P fd=N req=VERSION nr=0xR size=S in_nonzero=0|1 ret=...
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/mlockdev.h>

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_ioctl)(int, unsigned long, ...);
static long (*real_syscall)(long, ...);

/*
 * Also called from each wrapper: another preloaded object's constructor
 * (the shim's opens the device) may run before ours.
 */
__attribute__((constructor)) static void fake_init(void)
{
	if (real_syscall)
		return;
	real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	real_open64 = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
	real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	real_openat64 = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat64");
	real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
}

__attribute__((format(printf, 1, 2)))
static void fake_log(const char *fmt, ...)
{
	const char *path = getenv("FAKEDEV_LOG");
	char buf[512];
	va_list ap;
	int fd, n;

	if (!path || !*path)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	/* Raw syscalls: our own open() must not see the log file. */
	fake_init();
	fd = (int)real_syscall(SYS_openat, AT_FDCWD, path,
			       O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (real_syscall(SYS_write, fd, buf, (size_t)n) < 0)
		n = 0;
	real_syscall(SYS_close, fd);
}

static int errno_from_env(const char *name)
{
	static const struct { const char *name; int value; } names[] = {
		{ "EINVAL", EINVAL }, { "EPERM", EPERM }, { "EINTR", EINTR },
		{ "ENOMEM", ENOMEM }, { "EFAULT", EFAULT }, { "ENOTTY", ENOTTY },
		{ "EAGAIN", EAGAIN }, { "EBADF", EBADF }, { "EIO", EIO },
		{ "EACCES", EACCES }, { "EMFILE", EMFILE }, { "ENOENT", ENOENT },
	};
	const char *v = getenv(name);
	size_t i;

	if (!v || !*v)
		return 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(v, names[i].name))
			return names[i].value;
	return atoi(v);
}

static int is_fake_path(const char *path)
{
	const char *fake = getenv("FAKEDEV_PATH");

	return fake && *fake && path && !strcmp(path, fake);
}

static int is_fake_fd(int fd)
{
	const char *fake = getenv("FAKEDEV_PATH");
	struct stat a, b;

	if (!fake || !*fake || fstat(fd, &a) || stat(fake, &b))
		return 0;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void opened(int fd, int flags)
{
	const char *delay = getenv("FAKEDEV_OPEN_DELAY_MS");
	int fdflags;

	if (delay && *delay) {
		struct timespec ts = { 0, atol(delay) * 1000000L };

		while (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		nanosleep(&ts, NULL);
	}
	fdflags = fcntl(fd, F_GETFD);
	fake_log("open pid=%d fd=%d flags=0x%x cloexec=%d", (int)getpid(), fd,
		 (unsigned)flags, fdflags >= 0 && (fdflags & FD_CLOEXEC) ? 1 : 0);
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "?";
}

/* Common body of the open family. */
static int fake_open(int dirfd, const char *path, int flags, mode_t mode,
		     int which)
{
	int fd, err;

	fake_init();
	if (is_fake_path(path) && (err = errno_from_env("FAKEDEV_OPEN_ERRNO"))) {
		fake_log("open-refused pid=%d flags=0x%x ret=-%s", (int)getpid(),
			 (unsigned)flags, errname(err));
		errno = err;
		return -1;
	}
	switch (which) {
	case 0: fd = real_open(path, flags, mode); break;
	case 1: fd = real_open64(path, flags, mode); break;
	case 2: fd = real_openat(dirfd, path, flags, mode); break;
	default: fd = real_openat64(dirfd, path, flags, mode); break;
	}
	if (fd >= 0 && is_fake_path(path)) {
		opened(fd, flags);
		errno = EBADMSG;
	}
	return fd;
}

#define MODE_ARG(flags, mode) do {					\
	va_list ap;							\
	va_start(ap, flags);						\
	mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;\
	va_end(ap);							\
} while (0)

int open(const char *path, int flags, ...)
{
	mode_t mode;

	MODE_ARG(flags, mode);
	return fake_open(AT_FDCWD, path, flags, mode, 0);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode;

	MODE_ARG(flags, mode);
	return fake_open(AT_FDCWD, path, flags, mode, 1);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	MODE_ARG(flags, mode);
	return fake_open(dirfd, path, flags, mode, 2);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	MODE_ARG(flags, mode);
	return fake_open(dirfd, path, flags, mode, 3);
}

int ioctl(int fd, unsigned long req, ...)
{
	struct mlockdev_lockall *la;
	struct mlockdev_version *ver;
	const char *name;
	va_list ap;
	void *arg;
	int err;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);

	fake_init();
	if (!is_fake_fd(fd))
		return real_ioctl(fd, req, arg);

	if (req == MLOCKDEV_IOC_VERSION) {
		unsigned char *p = arg, nz = 0;
		size_t i;

		ver = arg;
		/* Every input field of a fresh request must be zero. */
		nz = ver->flags || ver->reserved0;
		for (i = offsetof(struct mlockdev_version, reserved);
		     i < sizeof(*ver); i++)
			nz |= p[i];
		err = errno_from_env("FAKEDEV_VERSION_ERRNO");
		fake_log("version pid=%d fd=%d req=VERSION nr=0x%lx size=%u "
			 "in_nonzero=%d ret=%s%s", (int)getpid(), fd, req,
			 (unsigned)_IOC_SIZE(req), nz ? 1 : 0,
			 err ? "-" : "", err ? errname(err) : "0");
		if (err) {
			errno = err;
			return -1;
		}
		memset(ver, 0, sizeof(*ver));
		ver->abi_major = MLOCKDEV_ABI_MAJOR;
		ver->abi_minor = MLOCKDEV_ABI_MINOR;
		ver->features = getenv("FAKEDEV_FEATURES") ?
			strtoull(getenv("FAKEDEV_FEATURES"), NULL, 0) : 0xf;
		snprintf(ver->kernel_release, sizeof(ver->kernel_release),
			 "%s", "6.12.0-fake");
		errno = EBADMSG;
		return 0;
	}
	if (req == MLOCKDEV_IOC_LOCK_ALL)
		name = "LOCK_ALL";
	else if (req == MLOCKDEV_IOC_UNLOCK_ALL)
		name = "UNLOCK_ALL";
	else {
		fake_log("ioctl pid=%d fd=%d req=UNKNOWN nr=0x%lx ret=-ENOTTY",
			 (int)getpid(), fd, req);
		errno = ENOTTY;
		return -1;
	}
	/* Both structs have the same layout. */
	la = arg;
	err = errno_from_env("FAKEDEV_ERRNO");
	fake_log("ioctl pid=%d fd=%d req=%s nr=0x%lx size=%u flags=0x%x "
		 "reserved0=%u reserved=%llu,%llu,%llu ret=%s%s",
		 (int)getpid(), fd, name, req, (unsigned)_IOC_SIZE(req),
		 la->flags, la->reserved0,
		 (unsigned long long)la->reserved[0],
		 (unsigned long long)la->reserved[1],
		 (unsigned long long)la->reserved[2],
		 err ? "-" : "", err ? errname(err) : "0");
	if (err) {
		errno = err;
		return -1;
	}
	errno = EBADMSG;
	return 0;
}

/*
 * The system calls the preload shim falls back to.  Answered, not made:
 * the host's own mlockall would lock the test's memory, or fail for
 * reasons of the host's.  A success leaves errno dirty, like the others.
 */
long syscall(long nr, ...)
{
	long a[6];
	va_list ap;
	int i, err;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	fake_init();
	if (nr != SYS_mlockall && nr != SYS_munlockall)
		return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);

	err = errno_from_env("FAKEDEV_SYSCALL_ERRNO");
	if (nr == SYS_mlockall)
		fake_log("syscall pid=%d nr=mlockall flags=0x%x ret=%s%s",
			 (int)getpid(), (unsigned)a[0], err ? "-" : "",
			 err ? errname(err) : "0");
	else
		fake_log("syscall pid=%d nr=munlockall ret=%s%s", (int)getpid(),
			 err ? "-" : "", err ? errname(err) : "0");
	if (err) {
		errno = err;
		return -1;
	}
	errno = EBADMSG;
	return 0;
}
