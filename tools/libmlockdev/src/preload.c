// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libmlockdev-preload.so: put it in LD_PRELOAD and an unmodified dynamic
 * program's mlockall()/munlockall() go through /dev/mlockdev.
 *
 * The device is root's only by default (mode 0600), and programs such as
 * LTP's mlockall02/03 drop to an unprivileged user before they call
 * mlockall().  So the constructor opens the device before main(), and the
 * descriptor stays open: each call is still checked against the caller's
 * credentials and limits of the moment, so the program gets the errno
 * mlockall(2) would give it.  The descriptor is O_CLOEXEC, and the library
 * notices a program that closes it or reuses its number (mlockdev.c).  If
 * the constructor cannot open the device, calls open it as before, and
 * fail as before.
 *
 * The module declines callers under a seccomp filter with EACCES, an
 * errno mlockall(2) never returns, as it cannot ask the filter what it
 * would say about mlockall.  The shim then makes the system call itself,
 * so the filter decides, exactly as without the shim.  (The library's own
 * mlockdev_lockall() passes EACCES on: its caller asked for the device.)
 *
 * Environment:
 *   MLOCKDEV_LOCK=current,future,onfault
 *	lock the program's memory through the device from a constructor,
 *	before main().  exec() drops memory locks, so this must happen in
 *	the new program; it cannot be done by whoever starts it.  A value
 *	that does not parse, or a lock that fails, ends the program with
 *	status MLOCKDEV_SHIM_EXIT and a message on stderr: the user asked
 *	for locked memory, so running unlocked would be a silent lie.  An
 *	empty value is the same as no value.
 *   MLOCKDEV_SHIM_DEBUG=1
 *	log every call and its result to stderr.
 *   MLOCKDEV_DEVICE=PATH
 *	open PATH instead of /dev/mlockdev (tests).
 *
 * Only mlockall and munlockall are exported (see preload.map); the
 * library code is linked in, so this one file is all LD_PRELOAD needs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* Exit status of a program whose MLOCKDEV_LOCK could not be honoured. */
#define MLOCKDEV_SHIM_EXIT	125

#define SHIM	"mlockdev-preload"

static int shim_debug;

/* printf to stderr with one write(2), leaving errno alone. */
__attribute__((format(printf, 1, 2)))
static void shim_log(const char *fmt, ...)
{
	int saved = errno;
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), SHIM "[%d]: ", (int)getpid());
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(buf))
		n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	if (n > 0) {
		buf[n++] = '\n';
		if (write(STDERR_FILENO, buf, (size_t)n) < 0)
			n = 0;	/* nowhere to report it */
	}
	errno = saved;
}

static const char *ename(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "?";
}

static void log_result(const char *what, int ret)
{
	if (!shim_debug)
		return;
	if (ret == 0)
		shim_log("%s = 0", what);
	else
		shim_log("%s = -1 (%s)", what, ename(errno));
}

/*
 * Did the device decline this process?  Only EACCES from the request
 * itself: EACCES from open(2) is the node's mode keeping the caller out,
 * and is passed on as before.
 */
static int declined(int err, enum mlockdev__stage stage)
{
	return err == EACCES && stage == MLOCKDEV__STAGE_IOCTL;
}

/*
 * The system call, as the program would have made it without the shim:
 * its seccomp filter decides.  On success errno is the caller's again.
 */
static int real_call(long nr, int flags, int saved)
{
	char what[40];
	int ret;

	errno = saved;
	if (nr == SYS_mlockall)
		ret = syscall(SYS_mlockall, flags) ? -1 : 0;
	else
		ret = syscall(SYS_munlockall) ? -1 : 0;
	if (ret == 0)
		errno = saved;
	if (shim_debug) {
		if (nr == SYS_mlockall)
			snprintf(what, sizeof(what), "mlockall(0x%x)",
				 (unsigned)flags);
		else
			snprintf(what, sizeof(what), "munlockall()");
		if (ret == 0)
			shim_log("%s = 0 [system call: the device declined "
				 "this process, EACCES, seccomp filter]", what);
		else
			shim_log("%s = -1 (%s) [system call: the device declined "
				 "this process, EACCES, seccomp filter]", what,
				 ename(errno));
	}
	return ret;
}

__attribute__((visibility("default"))) int mlockall(int flags)
{
	enum mlockdev__stage stage;
	int saved = errno;
	int ret = mlockdev__lockall(flags, &stage);
	char what[40];

	if (ret && declined(errno, stage))
		return real_call(SYS_mlockall, flags, saved);
	if (shim_debug) {
		snprintf(what, sizeof(what), "mlockall(0x%x)", (unsigned)flags);
		log_result(what, ret);
	}
	return ret;
}

__attribute__((visibility("default"))) int munlockall(void)
{
	enum mlockdev__stage stage;
	int saved = errno;
	int ret = mlockdev__unlockall(&stage);

	if (ret && declined(errno, stage))
		return real_call(SYS_munlockall, 0, saved);
	log_result("munlockall()", ret);
	return ret;
}

__attribute__((constructor)) static void shim_init(void)
{
	const char *dbg = secure_getenv("MLOCKDEV_SHIM_DEBUG");
	const char *spec = secure_getenv("MLOCKDEV_LOCK");
	enum mlockdev__stage stage;
	int saved = errno;
	int flags;

	shim_debug = dbg && *dbg && strcmp(dbg, "0") != 0;
	if (shim_debug)
		shim_log("loaded; device %s", mlockdev_device_path());
	/*
	 * Now, while the program still has the privileges it started with.
	 * A failure is not remembered: the first call tries again.
	 */
	if (mlockdev__open() < 0) {
		if (shim_debug)
			shim_log("cannot open %s before main(): %s; the first "
				 "call will try again", mlockdev_device_path(),
				 strerror(errno));
		errno = saved;
	} else if (shim_debug) {
		shim_log("opened %s before main()", mlockdev_device_path());
	}
	if (!spec || !*spec)
		goto out;

	if (mlockdev_flags_from_string(spec, &flags)) {
		shim_log("invalid MLOCKDEV_LOCK='%s': expected a comma-separated "
			 "list of current, future and onfault, with current or "
			 "future (e.g. MLOCKDEV_LOCK=current,future)", spec);
		_exit(MLOCKDEV_SHIM_EXIT);
	}
	/* As the program's own call would: the system call if declined. */
	if (mlockdev__lockall(flags, &stage)) {
		int err = errno;
		const char *hint = err == ENODEV ?
			" (is the mlockdev module loaded?)" :
			err == ENOMEM || err == EPERM ?
			" (check RLIMIT_MEMLOCK, ulimit -l)" : "";

		if (!declined(err, stage)) {
			shim_log("MLOCKDEV_LOCK=%s: cannot lock memory through "
				 "%s: %s%s", spec, mlockdev_device_path(),
				 strerror(err), hint);
			_exit(MLOCKDEV_SHIM_EXIT);
		}
		if (real_call(SYS_mlockall, flags, saved)) {
			err = errno;
			shim_log("MLOCKDEV_LOCK=%s: %s declined this process "
				 "(EACCES: it is under a seccomp filter), and "
				 "mlockall(2) failed: %s%s", spec,
				 mlockdev_device_path(), strerror(err),
				 err == ENOMEM || err == EPERM ?
				 " (check RLIMIT_MEMLOCK, ulimit -l, and the "
				 "filter)" : "");
			_exit(MLOCKDEV_SHIM_EXIT);
		}
	}
	if (shim_debug)
		shim_log("MLOCKDEV_LOCK=%s: locked (flags 0x%x) before main()",
			 spec, (unsigned)flags);
	/*
	 * The descriptor stays open for the program's own calls (see the
	 * top of the file).
	 */
out:
	errno = saved;
}
