// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libmlockdev-preload.so: put it in LD_PRELOAD and an unmodified dynamic
 * program's mlockall()/munlockall() go through /dev/mlockdev.
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

static void log_result(const char *what, int ret)
{
	if (!shim_debug)
		return;
	if (ret == 0)
		shim_log("%s = 0", what);
	else
		shim_log("%s = -1 (%s)", what, strerrorname_np(errno) ?
			 strerrorname_np(errno) : "?");
}

__attribute__((visibility("default"))) int mlockall(int flags)
{
	char what[40];
	int ret = mlockdev_lockall(flags);

	if (shim_debug) {
		snprintf(what, sizeof(what), "mlockall(0x%x)", (unsigned)flags);
		log_result(what, ret);
	}
	return ret;
}

__attribute__((visibility("default"))) int munlockall(void)
{
	int ret = mlockdev_unlockall();

	log_result("munlockall()", ret);
	return ret;
}

__attribute__((constructor)) static void shim_init(void)
{
	const char *dbg = secure_getenv("MLOCKDEV_SHIM_DEBUG");
	const char *spec = secure_getenv("MLOCKDEV_LOCK");
	int saved = errno;
	int flags;

	shim_debug = dbg && *dbg && strcmp(dbg, "0") != 0;
	if (shim_debug)
		shim_log("loaded; device %s", mlockdev_device_path());
	if (!spec || !*spec)
		goto out;

	if (mlockdev_flags_from_string(spec, &flags)) {
		shim_log("invalid MLOCKDEV_LOCK='%s': expected a comma-separated "
			 "list of current, future and onfault, with current or "
			 "future (e.g. MLOCKDEV_LOCK=current,future)", spec);
		_exit(MLOCKDEV_SHIM_EXIT);
	}
	if (mlockdev_lockall(flags)) {
		int err = errno;

		shim_log("MLOCKDEV_LOCK=%s: cannot lock memory through %s: %s%s",
			 spec, mlockdev_device_path(), strerror(err),
			 err == ENODEV ? " (is the mlockdev module loaded?)" :
			 err == ENOMEM || err == EPERM ?
			 " (check RLIMIT_MEMLOCK, ulimit -l)" : "");
		_exit(MLOCKDEV_SHIM_EXIT);
	}
	if (shim_debug)
		shim_log("MLOCKDEV_LOCK=%s: locked (flags 0x%x) before main()",
			 spec, (unsigned)flags);
	/* Don't leave the program a descriptor it did not open. */
	mlockdev__close();
out:
	errno = saved;
}
