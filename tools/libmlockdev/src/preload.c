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
 *   MLOCKDEV_REPORT=stderr|FILE
 *	make every call as the module's extensible call (LOCK_ALL_EX,
 *	UNLOCK_ALL_EX; with no mode it changes exactly what LOCK_ALL and
 *	UNLOCK_ALL change) and write what it did, one report per call, to
 *	stderr or appended to FILE (opened before main(), 0600 if new).
 *   MLOCKDEV_MODE=strict,openbsd
 *	the module's MLOCKDEV_LOCK_STRICT (all or nothing; locks only)
 *	and MLOCKDEV_LOCK_OPENBSD (OpenBSD's rules) for every call.
 *   MLOCKDEV_WORKERS=N|auto
 *	threads that fault memory in after a lock with MCL_CURRENT.
 *	Any of these three makes the shim use the extensible calls; a value
 *	that does not parse, or a report file that cannot be opened, ends
 *	the program with status MLOCKDEV_SHIM_EXIT before main(), as for
 *	MLOCKDEV_LOCK.  When the device declines the process (EACCES), the
 *	system call is made as above: without the mode, and the report
 *	says so.
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
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* Exit status of a program whose MLOCKDEV_LOCK could not be honoured. */
#define MLOCKDEV_SHIM_EXIT	125

#define SHIM	"mlockdev-preload"

static int shim_debug;

/*
 * What MLOCKDEV_REPORT, MLOCKDEV_MODE and MLOCKDEV_WORKERS ask of every
 * call; set by the constructor, read-only after.
 */
static int use_ex;			/* make the extensible calls */
static struct mlockdev_options ex_opts;	/* their mode and workers */
static const char *report_path;		/* NULL: reports go to stderr */
static int report_fd = -1;		/* atomic; -1: no reports */
static unsigned long long report_dev;	/* atomic; st_dev of report_fd */
static unsigned long long report_ino;	/* atomic; st_ino of report_fd */

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

/* "MCL_CURRENT|MCL_FUTURE", "0", "MCL_CURRENT|0x10". */
static void flag_names(int flags, char *buf, size_t len)
{
	static const struct { int bit; const char *name; } names[] = {
		{ MCL_CURRENT, "MCL_CURRENT" }, { MCL_FUTURE, "MCL_FUTURE" },
		{ MCL_ONFAULT, "MCL_ONFAULT" },
	};
	unsigned int rest = (unsigned int)flags;
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(rest & (unsigned int)names[i].bit))
			continue;
		rest &= ~(unsigned int)names[i].bit;
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
				      n ? "|" : "", names[i].name);
	}
	if (rest || !flags)
		snprintf(buf + n, n < len ? len - n : 0, "%s0x%x", n ? "|" : "",
			 rest);
	if (!flags)
		snprintf(buf, len, "0");
}

/* " [strict, openbsd, workers 2]" for the modes of this call, or "". */
static void mode_names(int lock, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (!use_ex)
		return;
	if (lock && (ex_opts.mode & MLOCKDEV_LOCK_STRICT))
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%sstrict",
				      n ? ", " : " [");
	if (ex_opts.mode & MLOCKDEV_LOCK_OPENBSD)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%sopenbsd",
				      n ? ", " : " [");
	if (lock && ex_opts.workers == MLOCKDEV_WORKERS_AUTO)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
				      "%sworkers auto", n ? ", " : " [");
	else if (lock && ex_opts.workers)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
				      "%sworkers %u", n ? ", " : " [",
				      ex_opts.workers);
	if (n)
		snprintf(buf + n, n < len ? len - n : 0, "]");
}

/* Is fd still the report file the constructor opened?  Leaves errno. */
static int report_still_ours(int fd)
{
	int saved = errno;
	struct stat st;
	int ours;

	ours = fd >= 0 && fstat(fd, &st) == 0 &&
	       (unsigned long long)st.st_dev ==
			__atomic_load_n(&report_dev, __ATOMIC_RELAXED) &&
	       (unsigned long long)st.st_ino ==
			__atomic_load_n(&report_ino, __ATOMIC_RELAXED);
	errno = saved;
	return ours;
}

/* Open the report file for appending; the descriptor or -1 with errno. */
static int report_open(void)
{
	struct stat st;
	int fd;

	fd = open(report_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		  O_NOCTTY, 0600);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0) {
		__atomic_store_n(&report_dev, (unsigned long long)st.st_dev,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&report_ino, (unsigned long long)st.st_ino,
				 __ATOMIC_RELAXED);
	}
	__atomic_store_n(&report_fd, fd, __ATOMIC_RELEASE);
	return fd;
}

static void write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * One report, in one write(2), so that reports of several threads or
 * processes appending to one file do not interleave.  A program that
 * closed the report file (daemons close every descriptor) gets it
 * opened again; if that fails (it dropped privileges), the report goes
 * to stderr, saying so.
 */
static void report_emit(const char *text, size_t len)
{
	int fd = __atomic_load_n(&report_fd, __ATOMIC_ACQUIRE);
	char note[256];
	int n;

	if (report_path && !report_still_ours(fd)) {
		fd = report_open();
		if (fd < 0) {
			n = snprintf(note, sizeof(note), SHIM "[%d]: cannot "
				     "append to the report file %s (%s); this "
				     "report goes to stderr:\n", (int)getpid(),
				     report_path, strerror(errno));
			if (n > 0)
				write_all(STDERR_FILENO, note,
					  (size_t)n < sizeof(note) ?
					  (size_t)n : sizeof(note) - 1);
			fd = STDERR_FILENO;
		}
	}
	write_all(fd, text, len);
}

/*
 * Write the report of one call: a header naming the process, the call,
 * its modes and its result, then the module's figures.  what is the
 * call as "mlockall(...)" or "munlockall()"; note, if not NULL, replaces
 * the figures (a system call has none).  Leaves errno alone.
 */
static void report_call(const char *what, int lock, const char *when,
			int ret, int err, const struct mlockdev_report *rep,
			const char *note)
{
	static const struct mlockdev_report zero;
	int saved = errno;
	char text[2048], modes[64];
	size_t n = 0, room;
	int m;

	if (__atomic_load_n(&report_fd, __ATOMIC_ACQUIRE) < 0)
		return;
	mode_names(lock, modes, sizeof(modes));
	if (note)
		modes[0] = '\0';	/* the system call had none of them */
	if (ret == 0)
		m = snprintf(text, sizeof(text), "mlockdev-report[%d] %s: %s%s%s = 0\n",
			     (int)getpid(), program_invocation_short_name,
			     what, modes, when);
	else
		m = snprintf(text, sizeof(text),
			     "mlockdev-report[%d] %s: %s%s%s = -1 %s (%s)\n",
			     (int)getpid(), program_invocation_short_name,
			     what, modes, when, ename(err), strerror(err));
	n = m > 0 ? (size_t)m : 0;
	if (n >= sizeof(text))
		n = sizeof(text) - 1;
	room = sizeof(text) - n;
	if (note) {
		m = snprintf(text + n, room, "  %s\n", note);
	} else if (ret && !memcmp(rep, &zero, sizeof(zero))) {
		m = snprintf(text + n, room, "  no figures: the module "
			     "refused the call before it looked at the "
			     "address space\n");
	} else {
		m = mlockdev_report_format(rep, text + n, room);
	}
	if (m > 0)
		n += (size_t)m < room ? (size_t)m : room - 1;
	report_emit(text, n);
	errno = saved;
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
static int real_call(long nr, int flags, int saved, const char *when)
{
	char what[80], names[64];
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
	if (nr == SYS_mlockall) {
		flag_names(flags, names, sizeof(names));
		snprintf(what, sizeof(what), "mlockall(%s)", names);
	} else {
		snprintf(what, sizeof(what), "munlockall()");
	}
	report_call(what, nr == SYS_mlockall, when, ret, errno, NULL,
		    use_ex && (ex_opts.mode || ex_opts.workers) ?
		    "no figures: the device declined this process (EACCES: "
		    "it is under a seccomp filter), so the shim made the "
		    "system call, without MLOCKDEV_MODE and MLOCKDEV_WORKERS" :
		    "no figures: the device declined this process (EACCES: "
		    "it is under a seccomp filter), so the shim made the "
		    "system call");
	return ret;
}

/* The lock the program asked for: LOCK_ALL, or LOCK_ALL_EX and a report. */
static int shim_lock(int flags, enum mlockdev__stage *stage, const char *when)
{
	struct mlockdev_report rep;
	char names[64], what[80];
	int ret, err;

	if (!use_ex)
		return mlockdev__lockall(flags, stage);
	ret = mlockdev__lockall_ex(flags, &ex_opts, &rep, stage);
	err = errno;
	/* A declined call's report is written by real_call(). */
	if (!(ret && declined(err, *stage))) {
		flag_names(flags, names, sizeof(names));
		snprintf(what, sizeof(what), "mlockall(%s)", names);
		report_call(what, 1, when, ret, err, &rep, NULL);
	}
	errno = err;
	return ret;
}

static int shim_unlock(enum mlockdev__stage *stage)
{
	/* Strict is the lock's; an unlock faults nothing in. */
	struct mlockdev_options opts = {
		.mode = ex_opts.mode & MLOCKDEV_LOCK_OPENBSD,
	};
	struct mlockdev_report rep;
	int ret, err;

	if (!use_ex)
		return mlockdev__unlockall(stage);
	ret = mlockdev__unlockall_ex(&opts, &rep, stage);
	err = errno;
	if (!(ret && declined(err, *stage)))
		report_call("munlockall()", 0, "", ret, err, &rep, NULL);
	errno = err;
	return ret;
}

__attribute__((visibility("default"))) int mlockall(int flags)
{
	enum mlockdev__stage stage;
	int saved = errno;
	int ret = shim_lock(flags, &stage, "");
	char what[40];

	if (ret && declined(errno, stage))
		return real_call(SYS_mlockall, flags, saved, "");
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
	int ret = shim_unlock(&stage);

	if (ret && declined(errno, stage))
		return real_call(SYS_munlockall, 0, saved, "");
	log_result("munlockall()", ret);
	return ret;
}

/* MLOCKDEV_MODE: "strict", "openbsd" or both, comma-separated. */
static int parse_mode(const char *spec, uint64_t *mode)
{
	const char *p = spec, *end;
	uint64_t m = 0;
	size_t len;

	for (;;) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len == 6 && !strncmp(p, "strict", 6))
			m |= MLOCKDEV_LOCK_STRICT;
		else if (len == 7 && !strncmp(p, "openbsd", 7))
			m |= MLOCKDEV_LOCK_OPENBSD;
		else
			return -1;
		if (!end)
			break;
		p = end + 1;
	}
	*mode = m;
	return 0;
}

/* MLOCKDEV_WORKERS: "auto", or a decimal number below MLOCKDEV_WORKERS_AUTO. */
static int parse_workers(const char *spec, uint32_t *workers)
{
	unsigned long long v;
	char *end;

	if (!strcmp(spec, "auto")) {
		*workers = MLOCKDEV_WORKERS_AUTO;
		return 0;
	}
	if (*spec < '0' || *spec > '9')
		return -1;
	errno = 0;
	v = strtoull(spec, &end, 10);
	if (errno || *end || v >= MLOCKDEV_WORKERS_AUTO)
		return -1;
	*workers = (uint32_t)v;
	return 0;
}

/*
 * MLOCKDEV_REPORT, MLOCKDEV_MODE, MLOCKDEV_WORKERS: set use_ex, ex_opts
 * and the report descriptor, or end the program: it asked for them.
 */
static void ex_init(void)
{
	const char *report = secure_getenv("MLOCKDEV_REPORT");
	const char *mode = secure_getenv("MLOCKDEV_MODE");
	const char *workers = secure_getenv("MLOCKDEV_WORKERS");

	if (mode && *mode) {
		if (parse_mode(mode, &ex_opts.mode)) {
			shim_log("invalid MLOCKDEV_MODE='%s': expected strict, "
				 "openbsd or strict,openbsd", mode);
			_exit(MLOCKDEV_SHIM_EXIT);
		}
		use_ex = 1;
	}
	if (workers && *workers) {
		if (parse_workers(workers, &ex_opts.workers)) {
			shim_log("invalid MLOCKDEV_WORKERS='%s': expected a "
				 "number of threads or auto", workers);
			_exit(MLOCKDEV_SHIM_EXIT);
		}
		use_ex = 1;
	}
	if (!report || !*report)
		return;
	use_ex = 1;
	if (!strcmp(report, "stderr")) {
		report_fd = STDERR_FILENO;
		return;
	}
	report_path = report;
	if (report_open() < 0) {
		shim_log("MLOCKDEV_REPORT=%s: cannot open it for appending: %s "
			 "(give a file you can write, or stderr)", report,
			 strerror(errno));
		_exit(MLOCKDEV_SHIM_EXIT);
	}
}

/*
 * With the device open: does the module do what the environment asks?
 * An ABI 1.0 module would answer every call ENOTTY, which mlockall(2)
 * never returns; say so now instead.
 */
static void ex_check(void)
{
	uint64_t need = MLOCKDEV_FEAT_LOCK_ALL_EX | MLOCKDEV_FEAT_UNLOCK_ALL_EX;
	struct mlockdev_info info;
	int saved = errno;

	if (!use_ex)
		return;
	if (ex_opts.mode & MLOCKDEV_LOCK_STRICT)
		need |= MLOCKDEV_FEAT_STRICT;
	if (ex_opts.mode & MLOCKDEV_LOCK_OPENBSD)
		need |= MLOCKDEV_FEAT_OPENBSD;
	if (ex_opts.workers)
		need |= MLOCKDEV_FEAT_WORKERS;
	if (mlockdev_query(&info)) {
		errno = saved;		/* the calls will say what is wrong */
		return;
	}
	if ((info.features & need) != need) {
		shim_log("the loaded mlockdev (ABI %u.%u, built for %s) lacks "
			 "features 0x%llx that MLOCKDEV_REPORT, MLOCKDEV_MODE or "
			 "MLOCKDEV_WORKERS need (it has 0x%llx): load a build of "
			 "ABI 1.1 or later, or unset them", info.abi_major,
			 info.abi_minor, info.kernel_release,
			 (unsigned long long)(need & ~info.features),
			 (unsigned long long)info.features);
		_exit(MLOCKDEV_SHIM_EXIT);
	}
	errno = saved;
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
	ex_init();
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
	} else {
		if (shim_debug)
			shim_log("opened %s before main()",
				 mlockdev_device_path());
		ex_check();
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
	if (shim_lock(flags, &stage, " before main(), for MLOCKDEV_LOCK")) {
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
		if (real_call(SYS_mlockall, flags, saved,
			      " before main(), for MLOCKDEV_LOCK")) {
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
