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
 *   FAKEDEV_FEATURES	features VERSION reports (default 0x3ff, all of ABI
 *			1.1); without MLOCKDEV_FEAT_LOCK_ALL_EX (bit 4) the
 *			extensible requests fail with ENOTTY, as from an
 *			ABI 1.0 module
 *   FAKEDEV_ABI_MINOR	the minor version VERSION reports (default the
 *			header's)
 *   FAKEDEV_OPEN_DELAY_MS	sleep this long inside open() (race tests)
 *
 * The extensible requests (LOCK_ALL_EX, UNLOCK_ALL_EX) follow the module's
 * rules (kernel/core.c, kernel/abi.c): the struct's size field at least
 * the first size (EINVAL), at most a page (E2BIG), bytes past the size
 * the fake knows zero (E2BIG); unknown mode bits, a pidfd without
 * MLOCKDEV_LOCK_PIDFD, non-zero reserved fields, and for UNLOCK_ALL_EX
 * non-zero flags or STRICT: EINVAL; with MLOCKDEV_LOCK_PIDFD a descriptor
 * that is not a pidfd: EBADF (the target's PID is logged).  Then:
 *   FAKEDEV_EX_EARLY_ERRNO	fail with this errno before the arguments are
 *			accepted: the report is not written back (as for
 *			the module's EPERM, ESRCH, EINVAL of a pidfd call)
 *   FAKEDEV_ERRNO	fail with this errno after filling the report
 *   FAKEDEV_REPORT	"name=value,...": report fields that differ from
 *			the fake's default figures (fake_report())
 * On success and after FAKEDEV_ERRNO the report is written back, up to
 * the caller's size.
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
 *   ioctl pid=P fd=N req=LOCK_ALL_EX nr=0xR size=S usize=U flags=0xF mode=0xM pidfd=D target=T workers=W reserved=0|1 ret=...
 *	(target: the pidfd's PID, or 0; reserved: 1 if any input reserved
 *	field was not zero; UNLOCK_ALL_EX the same, workers its reserved0)
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
		{ "ESRCH", ESRCH }, { "E2BIG", E2BIG }, { "ENODEV", ENODEV },
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

static __u64 fake_features(void)
{
	const char *f = getenv("FAKEDEV_FEATURES");

	return f && *f ? strtoull(f, NULL, 0) : 0x3ff;
}

/*
 * The report every accepted call gets, before FAKEDEV_REPORT: a lock that
 * locked 12 VMAs' worth, an unlock that undid it.
 */
static void fake_report(struct mlockdev_report *r, int lock)
{
	static const struct { const char *name; size_t off; } fields[] = {
#define F(x) { #x, offsetof(struct mlockdev_report, x) }
		F(vmas_seen), F(vmas_changed), F(vmas_skipped_special),
		F(vmas_skipped_droppable), F(vmas_skipped_dax),
		F(vmas_skipped_hugetlb), F(vmas_skipped_secretmem),
		F(pages_marked), F(pages_unmarked), F(pages_populated),
		F(populate_errors), F(populate_first_addr),
		F(locked_vm_before), F(locked_vm_after), F(lock_pass_ns),
		F(page_pass_ns), F(populate_ns), F(failed_vma_start),
		F(failed_vma_end), F(workers_used),
#undef F
	};
	const char *spec = getenv("FAKEDEV_REPORT");
	char buf[1024], *item, *save = NULL, *eq;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->vmas_seen = 12;
	r->vmas_skipped_special = 2;
	r->lock_pass_ns = 412345;
	if (lock) {
		r->vmas_changed = 10;
		r->pages_marked = 100;
		r->pages_populated = 2048;
		r->locked_vm_after = 2148;
		r->page_pass_ns = 51000;
		r->populate_ns = 3220000;
		r->workers_used = 1;
	} else {
		r->vmas_changed = 10;
		r->pages_unmarked = 2148;
		r->locked_vm_before = 2148;
		r->page_pass_ns = 98000;
	}
	if (!spec || !*spec)
		return;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (item = strtok_r(buf, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		eq = strchr(item, '=');
		if (!eq)
			continue;
		*eq++ = '\0';
		if (!strcmp(item, "populate_first_errno")) {
			r->populate_first_errno = atoi(eq);
			continue;
		}
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (!strcmp(item, fields[i].name))
				*(__u64 *)((char *)r + fields[i].off) =
					strtoull(eq, NULL, 0);
	}
}

/* The PID a pidfd refers to (its fdinfo's "Pid:"), or -1 if not a pidfd. */
static int pidfd_target(int pidfd)
{
	char path[64], line[256];
	FILE *f;
	int pid = -1;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Pid:", 4))
			pid = atoi(line + 4);
	fclose(f);
	return pid;
}

/* LOCK_ALL_EX and UNLOCK_ALL_EX, as the module copies and checks them. */
static int fake_ex(int fd, unsigned long req, void *arg)
{
	const int lock = req == MLOCKDEV_IOC_LOCK_ALL_EX;
	const char *name = lock ? "LOCK_ALL_EX" : "UNLOCK_ALL_EX";
	/* Both structs have the same layout; unlock's workers is reserved0. */
	struct mlockdev_lockall_ex k;
	unsigned char *u = arg;
	__u64 known = lock ? 7 : MLOCKDEV_LOCK_OPENBSD | MLOCKDEV_LOCK_PIDFD;
	__u32 usize;
	int err = 0, target = 0, nz_reserved;
	size_t i, copy;

	memcpy(&usize, arg, sizeof(usize));
	if (usize < MLOCKDEV_LOCKALL_EX_SIZE_VER0)
		err = EINVAL;
	else if (usize > 4096)
		err = E2BIG;
	for (i = sizeof(k); !err && i < usize; i++)
		if (u[i])
			err = E2BIG;
	if (err) {
		fake_log("ioctl pid=%d fd=%d req=%s nr=0x%lx size=%u usize=%u "
			 "ret=-%s", (int)getpid(), fd, name, req,
			 (unsigned)_IOC_SIZE(req), usize, errname(err));
		errno = err;
		return -1;
	}
	copy = usize < sizeof(k) ? usize : sizeof(k);
	memset(&k, 0, sizeof(k));
	memcpy(&k, arg, copy);

	nz_reserved = k.reserved[0] || k.reserved[1] || (!lock && k.workers);
	if ((k.mode_flags & ~known) || nz_reserved || (!lock && k.flags) ||
	    (!(k.mode_flags & MLOCKDEV_LOCK_PIDFD) && k.pidfd))
		err = EINVAL;
	if (!err && (k.mode_flags & MLOCKDEV_LOCK_PIDFD)) {
		target = pidfd_target(k.pidfd);
		if (target < 0)
			err = EBADF;
	}
	if (!err)
		err = errno_from_env("FAKEDEV_EX_EARLY_ERRNO");
	if (!err) {
		fake_report(&k.report, lock);
		err = errno_from_env("FAKEDEV_ERRNO");
		memcpy(arg, &k, copy);	/* the report goes back */
	}
	fake_log("ioctl pid=%d fd=%d req=%s nr=0x%lx size=%u usize=%u "
		 "flags=0x%x mode=0x%llx pidfd=%d target=%d workers=%u "
		 "reserved=%d ret=%s%s", (int)getpid(), fd, name, req,
		 (unsigned)_IOC_SIZE(req), usize, k.flags,
		 (unsigned long long)k.mode_flags, k.pidfd, target, k.workers,
		 nz_reserved, err ? "-" : "", err ? errname(err) : "0");
	if (err) {
		errno = err;
		return -1;
	}
	errno = EBADMSG;
	return 0;
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
		ver->abi_minor = getenv("FAKEDEV_ABI_MINOR") ?
			(__u32)atoi(getenv("FAKEDEV_ABI_MINOR")) :
			MLOCKDEV_ABI_MINOR;
		ver->features = fake_features();
		snprintf(ver->kernel_release, sizeof(ver->kernel_release),
			 "%s", "6.12.0-fake");
		errno = EBADMSG;
		return 0;
	}
	if (req == MLOCKDEV_IOC_LOCK_ALL_EX || req == MLOCKDEV_IOC_UNLOCK_ALL_EX) {
		if (!(fake_features() & MLOCKDEV_FEAT_LOCK_ALL_EX)) {
			fake_log("ioctl pid=%d fd=%d req=UNKNOWN nr=0x%lx ret=-ENOTTY",
				 (int)getpid(), fd, req);
			errno = ENOTTY;
			return -1;
		}
		return fake_ex(fd, req, arg);
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
