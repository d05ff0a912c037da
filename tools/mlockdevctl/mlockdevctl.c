// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdevctl: load, unload and inspect the mlockdev module, and run
 * programs whose mlockall()/munlockall() go through /dev/mlockdev.
 *
 * Exit status: 0 success, 1 failure, 2 usage error; "run" exits with the
 * command's status (126/127 when it cannot be executed).  Messages go to
 * stderr as "mlockdevctl: error: ...".  See mlockdevctl(1).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <libkmod.h>

#include <mlockdev/mlockdev.h>

#include "kmoderr.h"

#ifndef MLOCKDEVCTL_VERSION
#define MLOCKDEVCTL_VERSION "1.1.0"
#endif
/* Where "make install" puts the shim; the last place "run" looks. */
#ifndef MLOCKDEV_PRELOAD_DEFAULT
#define MLOCKDEV_PRELOAD_DEFAULT "/usr/local/lib/mlockdev/libmlockdev-preload.so"
#endif

#define PROG		"mlockdevctl"
#define MODNAME		"mlockdev"
#define SHIM_NAME	"libmlockdev-preload.so"
#define SYSFS_DEFAULT	"/sys/class/misc/" MLOCKDEV_DEVICE_NAME
#define PARAMS_DEFAULT	"/sys/module/" MODNAME "/parameters"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static int verbose;

/* The counters of the stats directory, in the order they are shown. */
static const char *const stat_names[] = {
	"lock_calls", "unlock_calls", "lock_failed", "unlock_failed",
	"failed_efault", "failed_einval", "failed_eperm", "failed_eintr",
	"failed_enomem", "failed_eacces", "failed_other", "pages_populated",
	"pages_mlocked", "pages_munlocked", "lock_ns", "unlock_ns",
	"strict_rollbacks", "cap_refused",
};
#define NR_STATS (sizeof(stat_names) / sizeof(stat_names[0]))

/* MLOCKDEV_FEAT_* bit n is feature_names[n]. */
static const char *const feature_names[] = {
	"version", "lock_all", "unlock_all", "stats", "lock_all_ex",
	"unlock_all_ex", "strict", "openbsd", "pidfd", "workers",
};

__attribute__((format(printf, 1, 2)))
static void error(const char *f, ...)
{
	va_list ap;

	fputs(PROG ": error: ", stderr);
	va_start(ap, f);
	vfprintf(stderr, f, ap);
	va_end(ap);
	fputc('\n', stderr);
}

__attribute__((format(printf, 1, 2)))
static void warning(const char *f, ...)
{
	va_list ap;

	fputs(PROG ": warning: ", stderr);
	va_start(ap, f);
	vfprintf(stderr, f, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A usage error: the message, a pointer to --help, exit status 2. */
__attribute__((format(printf, 2, 3)))
static int usage_error(const char *cmd, const char *f, ...)
{
	va_list ap;

	fputs(PROG ": error: ", stderr);
	va_start(ap, f);
	vfprintf(stderr, f, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" PROG " %s%s--help' for more information.\n",
		cmd ? cmd : "", cmd ? " " : "");
	return EXIT_USAGE;
}

/* getopt_long returned '?' or ':' (opterr is 0 and optstrings start "+:"). */
static int bad_option(const char *cmd, int o, char **argv)
{
	if (o == ':')
		return usage_error(cmd, "option '%s' needs an argument",
				   argv[optind - 1]);
	return usage_error(cmd, "invalid option '%s'", argv[optind - 1]);
}

/* --- help ----------------------------------------------------------------- */

static const char main_help[] =
"Usage: " PROG " [--verbose] COMMAND [ARGS...]\n"
"       " PROG " --help | --version\n"
"\n"
"Load and inspect the mlockdev module, and run programs whose mlockall(2)\n"
"and munlockall(2) go through /dev/mlockdev.\n"
"\n"
"Commands:\n"
"  load [PATH.ko | NAME] [PARAM=VALUE...]   load the module (libkmod)\n"
"  unload [NAME]                            unload it\n"
"  status [--json]                          module, device, ABI, counters\n"
"  run [OPTIONS] -- CMD [ARGS...]           run CMD with the preload shim\n"
"  lock PID [OPTIONS]                       lock another process's memory\n"
"  unlock PID [OPTIONS]                     unlock it\n"
"  help [COMMAND]                           show help for COMMAND\n"
"\n"
"Options:\n"
"  -v, --verbose   also show libkmod's own messages\n"
"  -h, --help      show this help\n"
"  -V, --version   show the version\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error; run: the command's.\n"
"Environment: MLOCKDEV_DEVICE (device, default /dev/mlockdev),\n"
"MLOCKDEV_PRELOAD (the shim), MLOCKDEV_SYSFS_DIR (default " SYSFS_DEFAULT "),\n"
"MLOCKDEV_PARAMS_DIR (default " PARAMS_DEFAULT ").\n"
"See mlockdevctl(1).\n";

static const char load_help[] =
"Usage: " PROG " load [PATH.ko | NAME] [PARAM=VALUE...]\n"
"\n"
"Load the module with libkmod.  PATH.ko is a module file (an argument\n"
"with a '/' or ending in .ko, .ko.xz, .ko.zst or .ko.gz); NAME is looked\n"
"up in the running kernel's module directory (/lib/modules/$(uname -r));\n"
"with neither, the module named '" MODNAME "' is looked up there.\n"
"PARAM=VALUE arguments are passed to the module.\n"
"\n"
"Every failure says what happened and what to do: already loaded,\n"
"built for another kernel (naming both releases), unknown symbol,\n"
"missing CAP_SYS_MODULE, modules_disabled, lockdown, rejected signature.\n"
"\n"
"Options:\n"
"  -h, --help   show this help\n";

static const char unload_help[] =
"Usage: " PROG " unload [NAME]\n"
"\n"
"Unload the module NAME (default '" MODNAME "') with libkmod.  Fails, saying\n"
"who holds it, while a process has the device open.\n"
"\n"
"Options:\n"
"  -h, --help   show this help\n";

static const char status_help[] =
"Usage: " PROG " status [--json]\n"
"\n"
"Show whether the module is loaded and its refcount, the device node (mode,\n"
"owner, who may open it and whether you can), the module's parameters\n"
"(mode, allow_seccomp: whether callers under a seccomp filter are served),\n"
"the ABI version, features and build release the device reports (VERSION\n"
"ioctl), and the module's counters (" SYSFS_DEFAULT "/stats).\n"
"Exits 0 whenever it could report, loaded or not.\n"
"\n"
"Options:\n"
"  --json       one JSON object on stdout (\"loaded\": true/false, ...)\n"
"  -h, --help   show this help\n";

static const char run_help[] =
"Usage: " PROG " run [--lock SPEC] [--report] [--report-file FILE] [--strict]\n"
"                   [--semantics linux|openbsd] [--workers N|auto]\n"
"                   [--preload PATH] [--debug] [--] CMD [ARGS...]\n"
"\n"
"Execute CMD with the preload shim (" SHIM_NAME ") in front of\n"
"LD_PRELOAD, so that its own mlockall()/munlockall() calls go through the\n"
"device.  Refuses to start, saying what to do, when the device is missing\n"
"or you cannot open it (it is root's only unless the module was loaded\n"
"with mode=).  The exit status is CMD's (126: cannot execute, 127: not\n"
"found).\n"
"\n"
"Options:\n"
"  --lock SPEC     also lock CMD's memory through the device before its\n"
"                  main() runs: SPEC is a comma-separated list of current,\n"
"                  future, onfault (with current or future), as for\n"
"                  mlockall(2); it sets MLOCKDEV_LOCK.  Without --lock,\n"
"                  MLOCKDEV_LOCK is removed from CMD's environment.\n"
"  --report        print a report of each lock and unlock call CMD makes\n"
"                  (what the module did: VMAs, pages, VmLck before and\n"
"                  after, time) on stderr (MLOCKDEV_REPORT)\n"
"  --report-file FILE\n"
"                  the reports go to FILE instead, created or emptied now,\n"
"                  appended to by CMD and its children\n"
"  --strict        CMD's locks are all or nothing: if locked memory cannot\n"
"                  be made resident, the call is undone and fails with the\n"
"                  error (MLOCKDEV_MODE=strict)\n"
"  --semantics linux|openbsd\n"
"                  whose mlockall(2) and munlockall(2) rules CMD's calls\n"
"                  follow; linux is the default (MLOCKDEV_MODE=openbsd)\n"
"  --openbsd       the same as --semantics openbsd\n"
"  --workers N|auto\n"
"                  threads that fault memory in after CMD's locks; auto:\n"
"                  the module decides (MLOCKDEV_WORKERS)\n"
"  --preload PATH  the shim to use (default: $MLOCKDEV_PRELOAD, else next\n"
"                  to this program, else " MLOCKDEV_PRELOAD_DEFAULT ")\n"
"  --debug         the shim logs every call to stderr (MLOCKDEV_SHIM_DEBUG)\n"
"  -h, --help      show this help\n"
"\n"
"\n"
"--report, --report-file, --strict, --semantics and --workers make the shim\n"
"use the module's LOCK_ALL_EX and UNLOCK_ALL_EX (ABI 1.1); without a mode\n"
"they change exactly what the plain calls change.  Without them, their\n"
"variables are removed from CMD's environment.\n"
"\n"
"The shim works for dynamically linked programs; static programs can be\n"
"linked with -Wl,--wrap=mlockall -Wl,--wrap=munlockall -lmlockdev.\n";

static const char lock_help[] =
"Usage: " PROG " lock PID [--current] [--future] [--onfault] [--strict]\n"
"                    [--semantics linux|openbsd] [--workers N|auto] [--report]\n"
"\n"
"mlockall(2) on another, running process: lock its memory without\n"
"restarting it, through a pidfd (pidfd_open(2)) and the module's\n"
"LOCK_ALL_EX.  You need the right to ptrace the process (as for\n"
"process_vm_writev(2): your own process, or root; Yama's ptrace_scope may\n"
"narrow it); its RLIMIT_MEMLOCK applies unless you have CAP_IPC_LOCK.\n"
"Prints what changed; exits 1, saying why, when the module refuses.\n"
"\n"
"Options:\n"
"  --current, --future, --onfault\n"
"                  MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT (with current or\n"
"                  future); default --current --future\n"
"  --strict        all or nothing: if locked memory cannot be made\n"
"                  resident, the call is undone and fails\n"
"  --semantics linux|openbsd, --openbsd\n"
"                  OpenBSD's mlockall(2) rules instead of Linux's\n"
"  --workers N|auto  threads that fault the memory in\n"
"  --report        print the module's report of the call\n"
"  -h, --help      show this help\n";

static const char unlock_help[] =
"Usage: " PROG " unlock PID [--semantics linux|openbsd] [--report]\n"
"\n"
"munlockall(2) on another, running process, through a pidfd and the\n"
"module's UNLOCK_ALL_EX: unlock its memory and drop MCL_FUTURE.  You need\n"
"the right to ptrace it, as for lock.\n"
"\n"
"Options:\n"
"  --semantics linux|openbsd, --openbsd\n"
"                  OpenBSD's munlockall(2) rules (it never fails)\n"
"  --report        print the module's report of the call\n"
"  -h, --help      show this help\n";

static const char help_help[] =
"Usage: " PROG " help [COMMAND]\n"
"\n"
"Show the help of COMMAND, or the list of commands.\n";

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static int cmd_load(int argc, char **argv);
static int cmd_unload(int argc, char **argv);
static int cmd_status(int argc, char **argv);
static int cmd_run(int argc, char **argv);
static int cmd_lock(int argc, char **argv);
static int cmd_unlock_pid(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
	{ "load", cmd_load, load_help },
	{ "unload", cmd_unload, unload_help },
	{ "status", cmd_status, status_help },
	{ "run", cmd_run, run_help },
	{ "lock", cmd_lock, lock_help },
	{ "unlock", cmd_unlock_pid, unlock_help },
	{ "help", cmd_help, help_help },
};

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/*
 * Options common to the simple commands: -h/--help only, plus what the
 * caller adds.  Returns the getopt result or -1 at the end.
 */
#define HELP_OPT { "help", no_argument, NULL, 'h' }

static int cmd_help(int argc, char **argv)
{
	static const struct option opts[] = { HELP_OPT, { 0 } };
	const struct command *c;
	int o;

	while ((o = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (o == 'h') {
			fputs(help_help, stdout);
			return EXIT_OK;
		}
		return bad_option("help", o, argv);
	}
	if (optind == argc) {
		fputs(main_help, stdout);
		return EXIT_OK;
	}
	if (argc - optind > 1)
		return usage_error("help", "too many arguments");
	c = find_command(argv[optind]);
	if (!c)
		return usage_error("help", "unknown command '%s'", argv[optind]);
	fputs(c->help, stdout);
	return EXIT_OK;
}

/* --- facts about the system ------------------------------------------------ */

static const char *running_release(void)
{
	static struct utsname u;

	if (!u.release[0] && uname(&u))
		return NULL;
	return u.release;
}

/* Does this process have capability cap in its effective set? */
static int have_cap(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return -1;
	return !!(data[cap / 32].effective & (1u << (cap % 32)));
}

static int read_small_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int modules_disabled(void)
{
	char buf[16];

	if (read_small_file("/proc/sys/kernel/modules_disabled", buf, sizeof(buf)))
		return -1;
	return atoi(buf);
}

/* The active lockdown mode: "[none] integrity confidentiality" -> "none". */
static const char *lockdown_mode(void)
{
	static char mode[32];
	char buf[128], *b, *e;

	if (read_small_file("/sys/kernel/security/lockdown", buf, sizeof(buf)))
		return NULL;
	b = strchr(buf, '[');
	e = b ? strchr(b, ']') : NULL;
	if (!e)
		return NULL;
	snprintf(mode, sizeof(mode), "%.*s", (int)(e - b - 1), b + 1);
	return mode;
}

static const char *device_path(void)
{
	return mlockdev_device_path();
}

static const char *sysfs_dir(void)
{
	const char *d = getenv("MLOCKDEV_SYSFS_DIR");

	return d && *d ? d : SYSFS_DEFAULT;
}

static const char *params_dir(void)
{
	const char *d = getenv("MLOCKDEV_PARAMS_DIR");

	return d && *d ? d : PARAMS_DEFAULT;
}

/* --- who may open the device ----------------------------------------------- */

/* A user's name, or NULL. */
static const char *user_name(uid_t uid)
{
	static char name[64];
	struct passwd *pw = getpwuid(uid);

	if (!pw)
		return NULL;
	snprintf(name, sizeof(name), "%s", pw->pw_name);
	return name;
}

static const char *group_name(gid_t gid)
{
	static char name[64];
	struct group *gr = getgrgid(gid);

	if (!gr)
		return NULL;
	snprintf(name, sizeof(name), "%s", gr->gr_name);
	return name;
}

/* Is gid this process's effective or a supplementary group? */
static int in_group(gid_t gid)
{
	gid_t groups[256];
	int i, n;

	if (getegid() == gid)
		return 1;
	n = getgroups(sizeof(groups) / sizeof(groups[0]), groups);
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

/*
 * Who may open the node read-write, from its permission bits: "every
 * user", "root and the group G", "root only".
 */
static void node_audience(const struct stat *st, char *buf, size_t len)
{
	const char *owner = user_name(st->st_uid);
	const char *group = group_name(st->st_gid);
	char o[32], g[32];
	mode_t m = st->st_mode;

	if (!owner)
		snprintf(o, sizeof(o), "uid %u", (unsigned)st->st_uid);
	if (!group)
		snprintf(g, sizeof(g), "gid %u", (unsigned)st->st_gid);
	if ((m & (S_IROTH | S_IWOTH)) == (S_IROTH | S_IWOTH))
		snprintf(buf, len, "every user");
	else if ((m & (S_IRGRP | S_IWGRP)) == (S_IRGRP | S_IWGRP))
		snprintf(buf, len, "%s and the group %s", owner ? owner : o,
			 group ? group : g);
	else
		snprintf(buf, len, "%s only", owner ? owner : o);
}

/*
 * Why this process cannot open the device (open(2) failed with err), and
 * what to do, as one sentence without "error:".
 */
static void open_failure_message(const char *path, int err, char *buf,
				 size_t len)
{
	const char *owner, *group;
	struct stat st;
	mode_t m;

	if (err == ENOENT || err == ENXIO || err == ENODEV) {
		snprintf(buf, len, "mlockdev is not loaded: run 'mlockdevctl "
			 "load' (%s does not exist)", path);
		return;
	}
	if ((err != EACCES && err != EPERM) || stat(path, &st)) {
		snprintf(buf, len, "cannot open %s: %s", path, strerror(err));
		return;
	}
	m = st.st_mode & 07777;
	owner = user_name(st.st_uid);
	owner = owner ? owner : "its owner";
	if (geteuid() == 0) {
		snprintf(buf, len, "cannot open %s read-write: %s, although "
			 "you are root (mode %04o): a security module (SELinux, "
			 "AppArmor) or the mount of /dev forbids it", path,
			 strerror(err), (unsigned)m);
		return;
	}
	if (!(m & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH))) {
		snprintf(buf, len, "%s is %s's only (mode %04o): run as %s, or "
			 "have root reload the module with mode=0666 to let "
			 "every user in (mlockdevctl unload; mlockdevctl load "
			 "PATH.ko mode=0666), or with mode=0660 and a udev rule "
			 "that gives the node a group", path, owner, (unsigned)m,
			 st.st_uid == 0 ? "root" : owner);
		return;
	}
	if ((m & (S_IRGRP | S_IWGRP)) == (S_IRGRP | S_IWGRP) &&
	    !in_group(st.st_gid)) {
		group = group_name(st.st_gid);
		snprintf(buf, len, "%s is open to %s and the group %s only "
			 "(mode %04o), and you are not in that group: run as "
			 "root, join the group (and log in again), or have root "
			 "reload the module with mode=0666 to let every user in",
			 path, owner, group ? group : "of the node", (unsigned)m);
		return;
	}
	snprintf(buf, len, "cannot open %s read-write: %s (mode %04o, owner "
		 "%s, gid %u; you are uid %u): run as root, or have root reload "
		 "the module with mode=0666 to let every user in", path,
		 strerror(err), (unsigned)m, owner, (unsigned)st.st_gid,
		 (unsigned)geteuid());
}

/* Can this process open the device as the library does?  0 or an errno. */
static int try_open_device(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* The allow_seccomp parameter: 1 (Y), 0 (N), -1 when it cannot be read. */
static int allow_seccomp_param(void)
{
	char path[PATH_MAX], buf[16];

	snprintf(path, sizeof(path), "%s/allow_seccomp", params_dir());
	if (read_small_file(path, buf, sizeof(buf)))
		return -1;
	return buf[0] == 'Y' || buf[0] == 'y' || buf[0] == '1';
}

/* The mode parameter (permission bits), or -1 when it cannot be read. */
static long mode_param(void)
{
	char path[PATH_MAX], buf[32], *end;
	long v;

	snprintf(path, sizeof(path), "%s/mode", params_dir());
	if (read_small_file(path, buf, sizeof(buf)))
		return -1;
	errno = 0;
	v = strtol(buf, &end, 10);
	return errno || end == buf || *end || v < 0 ? -1 : v;
}

/*
 * A numeric parameter (max_locked_mb, openbsd_wiredmax_mb,
 * populate_workers): 0 with *value, or -1 when the module has none.
 */
static int num_param(const char *name, unsigned long long *value)
{
	char path[PATH_MAX], buf[32], *end;

	snprintf(path, sizeof(path), "%s/%s", params_dir(), name);
	if (read_small_file(path, buf, sizeof(buf)))
		return -1;
	errno = 0;
	*value = strtoull(buf, &end, 10);
	return errno || end == buf || *end ? -1 : 0;
}

/* A "Name:  N kB" line of /proc/meminfo, in kB; -1 if there is none. */
static long long meminfo_kb(const char *name)
{
	char line[128];
	size_t len = strlen(name);
	long long kb = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':') {
			kb = atoll(line + len + 1);
			break;
		}
	fclose(f);
	return kb;
}

/* Is this process under a seccomp filter (Seccomp: 2 in its status)? */
static int under_seccomp_filter(void)
{
	char line[128];
	FILE *f = fopen("/proc/self/status", "re");
	int filtered = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Seccomp:", 8)) {
			filtered = atoi(line + 8) == 2;
			break;
		}
	fclose(f);
	return filtered;
}

/* --- libkmod ------------------------------------------------------------- */

static void kmod_log(void *data, int priority, const char *file, int line,
		     const char *fn, const char *format, va_list args)
{
	(void)data; (void)priority; (void)file; (void)line; (void)fn;
	if (!verbose)
		return;
	fputs(PROG ": libkmod: ", stderr);
	vfprintf(stderr, format, args);
}

static struct kmod_ctx *kmod_open(void)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);

	if (!ctx) {
		error("cannot initialise libkmod: %s", strerror(errno));
		return NULL;
	}
	kmod_set_log_fn(ctx, kmod_log, NULL);
	kmod_set_log_priority(ctx, verbose ? 7 : 3);
	return ctx;
}

/* The release in the module's vermagic ("6.12.1 SMP ..." -> "6.12.1"). */
static char *module_built_for(struct kmod_module *mod)
{
	struct kmod_list *info = NULL, *l;
	char *release = NULL;

	if (kmod_module_get_info(mod, &info) < 0)
		return NULL;
	kmod_list_foreach(l, info) {
		const char *key = kmod_module_info_get_key(l);
		const char *val = kmod_module_info_get_value(l);

		if (key && val && !strcmp(key, "vermagic")) {
			release = strndup(val, strcspn(val, " "));
			break;
		}
	}
	kmod_module_info_free_list(info);
	return release;
}

static const char *initstate_name(int st)
{
	switch (st) {
	case KMOD_MODULE_LIVE: return "live";
	case KMOD_MODULE_COMING: return "coming";
	case KMOD_MODULE_GOING: return "going";
	case KMOD_MODULE_BUILTIN: return "builtin";
	default: return NULL;
	}
}

/* Space-separated names of the modules holding mod, or NULL. */
static char *module_holders(struct kmod_module *mod)
{
	struct kmod_list *holders = kmod_module_get_holders(mod), *l;
	char *s = NULL;
	size_t len = 0;
	FILE *f;

	if (!holders)
		return NULL;
	f = open_memstream(&s, &len);
	if (f) {
		kmod_list_foreach(l, holders) {
			struct kmod_module *h = kmod_module_get_module(l);

			fprintf(f, "%s%s", len || ftell(f) ? " " : "",
				kmod_module_get_name(h));
			kmod_module_unref(h);
		}
		fclose(f);
	}
	kmod_module_unref_list(holders);
	return s;
}

static void fill_ctx_common(struct kmoderr_ctx *c, enum kmoderr_op op)
{
	memset(c, 0, sizeof(*c));
	c->op = op;
	c->running = running_release();
	c->cap_sys_module = have_cap(CAP_SYS_MODULE);
	c->modules_disabled = modules_disabled();
	c->lockdown = lockdown_mode();
	c->refcnt = -1;
	c->device = device_path();
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

static int looks_like_path(const char *arg)
{
	return strchr(arg, '/') || has_suffix(arg, ".ko") ||
	       has_suffix(arg, ".ko.xz") || has_suffix(arg, ".ko.zst") ||
	       has_suffix(arg, ".ko.gz");
}

/* Wait up to ms for the device node to appear (devtmpfs, udev). */
static int wait_for_device(const char *dev, int ms)
{
	struct timespec step = { 0, 20 * 1000000L };
	struct stat st;

	for (; ms > 0; ms -= 20) {
		if (stat(dev, &st) == 0)
			return 0;
		nanosleep(&step, NULL);
	}
	return stat(dev, &st);
}

/* --- load ---------------------------------------------------------------- */

static int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = { HELP_OPT, { 0 } };
	const char *target = NULL, *path;
	struct kmod_module *mod = NULL;
	struct kmoderr_ctx ec;
	struct kmod_ctx *ctx;
	char msg[1024], moddir[PATH_MAX];
	char *params = NULL, *built_for = NULL;
	size_t plen = 0;
	FILE *pf;
	int o, i, err, ret = EXIT_FAIL;

	while ((o = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (o == 'h') {
			fputs(load_help, stdout);
			return EXIT_OK;
		}
		return bad_option("load", o, argv);
	}
	i = optind;
	if (i < argc && (looks_like_path(argv[i]) || !strchr(argv[i], '=')))
		target = argv[i++];
	if (target && !*target)
		return usage_error("load", "empty module name");

	pf = open_memstream(&params, &plen);
	if (!pf) {
		error("out of memory");
		return EXIT_FAIL;
	}
	for (; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');

		if (!eq || eq == argv[i]) {
			fclose(pf);
			free(params);
			return usage_error("load", "'%s' is not PARAM=VALUE (only "
					   "one module can be given)", argv[i]);
		}
		fprintf(pf, "%s%s", ftell(pf) ? " " : "", argv[i]);
	}
	fclose(pf);

	ctx = kmod_open();
	if (!ctx)
		goto out_free;

	fill_ctx_common(&ec, KMODERR_FIND);
	if (target && looks_like_path(target)) {
		ec.path = target;
		err = kmod_module_new_from_path(ctx, target, &mod);
	} else {
		ec.module = target ? target : MODNAME;
		snprintf(moddir, sizeof(moddir), "/lib/modules/%s",
			 ec.running ? ec.running : "?");
		ec.moddir = moddir;
		err = kmod_module_new_from_name(ctx, ec.module, &mod);
	}
	if (err < 0) {
		error("%s", kmoderr_message(-err, &ec, msg, sizeof(msg)));
		goto out_ctx;
	}
	ec.module = kmod_module_get_name(mod);

	/* Already loaded?  Say so before looking for (or at) any file. */
	if (kmod_module_get_initstate(mod) >= 0) {
		ec.op = KMODERR_LOAD;
		error("%s", kmoderr_message(EEXIST, &ec, msg, sizeof(msg)));
		goto out_mod;
	}
	path = kmod_module_get_path(mod);
	if (!path) {
		error("%s", kmoderr_message(ENOENT, &ec, msg, sizeof(msg)));
		goto out_mod;
	}
	ec.path = path;
	built_for = module_built_for(mod);
	ec.built_for = built_for;
	ec.op = KMODERR_LOAD;

	err = kmod_module_insert_module(mod, 0, params);
	if (err < 0) {
		error("%s", kmoderr_message(-err, &ec, msg, sizeof(msg)));
		goto out_mod;
	}
	ret = EXIT_OK;
	printf("loaded %s from %s%s%s\n", ec.module, path,
	       *params ? " with " : "", params);
	if (kmoderr_release_mismatch(&ec))
		warning("%s was built for %s but the running kernel is %s; "
			"the kernel accepted it, but expect trouble",
			path, built_for, ec.running);
	if (!strcmp(ec.module, MODNAME) && wait_for_device(ec.device, 2000))
		warning("the module is loaded but %s did not appear: is "
			"devtmpfs mounted on /dev, or udev running?", ec.device);
out_mod:
	kmod_module_unref(mod);
out_ctx:
	kmod_unref(ctx);
out_free:
	free(built_for);
	free(params);
	return ret;
}

/* --- unload -------------------------------------------------------------- */

static int cmd_unload(int argc, char **argv)
{
	static const struct option opts[] = { HELP_OPT, { 0 } };
	struct kmod_module *mod = NULL;
	struct kmoderr_ctx ec;
	struct kmod_ctx *ctx;
	char msg[1024], *holders = NULL;
	int o, err, st, ret = EXIT_FAIL;

	while ((o = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (o == 'h') {
			fputs(unload_help, stdout);
			return EXIT_OK;
		}
		return bad_option("unload", o, argv);
	}
	if (argc - optind > 1)
		return usage_error("unload", "too many arguments");

	ctx = kmod_open();
	if (!ctx)
		return EXIT_FAIL;
	fill_ctx_common(&ec, KMODERR_UNLOAD);
	ec.module = optind < argc ? argv[optind] : MODNAME;
	err = kmod_module_new_from_name(ctx, ec.module, &mod);
	if (err < 0) {
		error("%s", kmoderr_message(-err, &ec, msg, sizeof(msg)));
		goto out;
	}
	st = kmod_module_get_initstate(mod);
	if (st < 0) {
		error("%s", kmoderr_message(ENOENT, &ec, msg, sizeof(msg)));
		goto out;
	}
	if (st == KMOD_MODULE_BUILTIN) {
		error("%s is built into the kernel and cannot be unloaded",
		      ec.module);
		goto out;
	}
	ec.state = initstate_name(st);
	ec.refcnt = kmod_module_get_refcnt(mod);
	holders = module_holders(mod);
	ec.holders = holders;

	err = kmod_module_remove_module(mod, 0);
	if (err < 0) {
		/* The refcount when it failed, not before. */
		ec.refcnt = kmod_module_get_refcnt(mod);
		error("%s", kmoderr_message(-err, &ec, msg, sizeof(msg)));
		goto out;
	}
	printf("unloaded %s\n", ec.module);
	ret = EXIT_OK;
out:
	free(holders);
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return ret;
}

/* --- status -------------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

struct counter {
	char name[NAME_MAX + 1];
	char value[32];		/* as read; validated as a decimal u64 */
	int valid;
};

static int read_counter(const char *dir, const char *name, struct counter *c)
{
	char path[PATH_MAX];
	char *end;

	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_small_file(path, c->value, sizeof(c->value)))
		return -1;
	errno = 0;
	(void)strtoull(c->value, &end, 10);
	c->valid = c->value[0] >= '0' && c->value[0] <= '9' && !*end && !errno;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Read the counters: the known ones in their order, then any others the
 * module has (a newer module) sorted by name.  Returns the number read,
 * or -1 when there is no stats directory.
 */
static int read_counters(struct counter **out)
{
	char dir[PATH_MAX], *extra[256];
	struct counter *c;
	struct dirent *d;
	size_t i, n = 0, nextra = 0;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/stats", sysfs_dir());
	dp = opendir(dir);
	if (!dp)
		return -1;
	while ((d = readdir(dp)) && nextra < 256) {
		int known = d->d_name[0] == '.';

		for (i = 0; i < NR_STATS && !known; i++)
			known = !strcmp(d->d_name, stat_names[i]);
		if (!known)
			extra[nextra++] = strdup(d->d_name);
	}
	closedir(dp);
	qsort(extra, nextra, sizeof(extra[0]), cmp_str);

	c = calloc(NR_STATS + nextra, sizeof(*c));
	for (i = 0; c && i < NR_STATS; i++)
		if (!read_counter(dir, stat_names[i], &c[n]))
			n++;
	for (i = 0; i < nextra; i++) {
		if (c && extra[i] && !read_counter(dir, extra[i], &c[n]))
			n++;
		free(extra[i]);
	}
	*out = c;
	return c ? (int)n : -1;
}

struct status {
	const char *module;
	int loaded;
	const char *state;
	long refcnt;
	char *holders;
	const char *running;
	const char *device;
	int dev_exists;
	struct stat dev_st;
	int open_errno;		/* of open(2) O_RDWR, 0 if it worked */
	int have_params;	/* the parameters directory exists */
	long mode_param;	/* -1: unknown */
	int allow_seccomp;	/* 1, 0, -1: unknown */
	/* ABI 1.1 parameters; have_*: the module has them */
	int have_max_locked, have_wiredmax, have_workers;
	unsigned long long max_locked_mb, wiredmax_mb, populate_workers;
	int abi_ok;
	int abi_errno;
	struct mlockdev_info info;
	struct counter *counters;
	int ncounters;		/* -1: no stats directory */
};

static void gather_status(struct status *s, struct kmod_ctx *ctx)
{
	struct kmod_module *mod = NULL;
	int st;

	memset(s, 0, sizeof(*s));
	s->module = MODNAME;
	s->refcnt = -1;
	s->running = running_release();
	if (ctx && kmod_module_new_from_name(ctx, MODNAME, &mod) == 0) {
		st = kmod_module_get_initstate(mod);
		if (st >= 0) {
			s->loaded = 1;
			s->state = initstate_name(st);
			s->refcnt = kmod_module_get_refcnt(mod);
			s->holders = module_holders(mod);
		}
		kmod_module_unref(mod);
	}
	s->device = device_path();
	s->dev_exists = stat(s->device, &s->dev_st) == 0;
	s->open_errno = s->dev_exists ? try_open_device(s->device) : ENOENT;
	s->have_params = access(params_dir(), F_OK) == 0;
	s->mode_param = mode_param();
	s->allow_seccomp = allow_seccomp_param();
	s->have_max_locked = !num_param("max_locked_mb", &s->max_locked_mb);
	s->have_wiredmax = !num_param("openbsd_wiredmax_mb", &s->wiredmax_mb);
	s->have_workers = !num_param("populate_workers", &s->populate_workers);
	if (mlockdev_query(&s->info) == 0)
		s->abi_ok = 1;
	else
		s->abi_errno = errno;
	s->ncounters = read_counters(&s->counters);
}

static const char *file_type(mode_t m)
{
	return S_ISCHR(m) ? "char" : S_ISBLK(m) ? "block" : S_ISREG(m) ?
	       "regular" : S_ISDIR(m) ? "directory" : "other";
}

static void json_param(const char *key, int have, unsigned long long v)
{
	fputs(key, stdout);
	if (have)
		printf("%llu", v);
	else
		fputs("null", stdout);
}

static void print_status_json(const struct status *s)
{
	size_t i;
	int k;

	printf("{\n  \"module\": ");
	json_string(stdout, s->module);
	printf(",\n  \"loaded\": %s,\n  \"state\": ", s->loaded ? "true" : "false");
	json_string(stdout, s->state);
	if (s->refcnt >= 0)
		printf(",\n  \"refcount\": %ld", s->refcnt);
	else
		printf(",\n  \"refcount\": null");
	printf(",\n  \"holders\": [");
	if (s->holders && *s->holders) {
		char *copy = strdup(s->holders), *save = NULL, *t;
		const char *sep = "";

		for (t = copy ? strtok_r(copy, " ", &save) : NULL; t;
		     t = strtok_r(NULL, " ", &save)) {
			fputs(sep, stdout);
			json_string(stdout, t);
			sep = ", ";
		}
		free(copy);
	}
	printf("],\n  \"running_kernel\": ");
	json_string(stdout, s->running);
	printf(",\n  \"device\": {\"path\": ");
	json_string(stdout, s->device);
	printf(", \"exists\": %s", s->dev_exists ? "true" : "false");
	if (s->dev_exists) {
		printf(", \"type\": \"%s\", \"mode\": \"%04o\", \"uid\": %u, \"gid\": %u",
		       file_type(s->dev_st.st_mode),
		       (unsigned)(s->dev_st.st_mode & 07777),
		       (unsigned)s->dev_st.st_uid, (unsigned)s->dev_st.st_gid);
		printf(", \"user\": ");
		json_string(stdout, user_name(s->dev_st.st_uid));
		printf(", \"group\": ");
		json_string(stdout, group_name(s->dev_st.st_gid));
		if (S_ISCHR(s->dev_st.st_mode))
			printf(", \"major\": %u, \"minor\": %u",
			       major(s->dev_st.st_rdev), minor(s->dev_st.st_rdev));
		printf(", \"can_open\": %s, \"open_error\": ",
		       s->open_errno ? "false" : "true");
		json_string(stdout, s->open_errno ? strerror(s->open_errno) : NULL);
	}
	printf("},\n  \"parameters\": ");
	if (!s->have_params) {
		printf("null");
	} else {
		printf("{\"mode\": ");
		if (s->mode_param >= 0)
			printf("\"%04lo\"", s->mode_param);
		else
			printf("null");
		printf(", \"allow_seccomp\": %s", s->allow_seccomp < 0 ? "null" :
		       s->allow_seccomp ? "true" : "false");
		json_param(", \"max_locked_mb\": ", s->have_max_locked,
			   s->max_locked_mb);
		json_param(", \"openbsd_wiredmax_mb\": ", s->have_wiredmax,
			   s->wiredmax_mb);
		json_param(", \"populate_workers\": ", s->have_workers,
			   s->populate_workers);
		printf("}");
	}
	printf(",\n  \"abi\": ");
	if (s->abi_ok) {
		const char *sep = "";

		printf("{\"major\": %u, \"minor\": %u, \"features_mask\": %llu, "
		       "\"features\": [", s->info.abi_major, s->info.abi_minor,
		       (unsigned long long)s->info.features);
		for (i = 0; i < 64; i++) {
			if (!(s->info.features & (1ULL << i)))
				continue;
			fputs(sep, stdout);
			if (i < sizeof(feature_names) / sizeof(feature_names[0]))
				printf("\"%s\"", feature_names[i]);
			else
				printf("\"bit%zu\"", i);
			sep = ", ";
		}
		printf("], \"kernel_release\": ");
		json_string(stdout, s->info.kernel_release);
		printf("},\n  \"abi_error\": null");
	} else {
		printf("null,\n  \"abi_error\": ");
		json_string(stdout, strerror(s->abi_errno));
	}
	printf(",\n  \"stats\": ");
	if (s->ncounters < 0) {
		printf("null\n}\n");
		return;
	}
	printf("{");
	for (k = 0; k < s->ncounters; k++) {
		printf("%s\n    ", k ? "," : "");
		json_string(stdout, s->counters[k].name);
		printf(": ");
		if (s->counters[k].valid)
			fputs(s->counters[k].value, stdout);
		else
			json_string(stdout, s->counters[k].value);
	}
	printf("%s}\n}\n", s->ncounters ? "\n  " : "");
}

/* What the ABI 1.1 parameters mean, one line each. */
static void print_param_lines(const struct status *s)
{
	long long mlocked = meminfo_kb("Mlocked");
	long long total = meminfo_kb("MemTotal");

	if (s->have_max_locked && !s->max_locked_mb)
		printf("cap:         none: device locks may take any amount of "
		       "memory (max_locked_mb=0)\n");
	else if (s->have_max_locked && mlocked >= 0)
		printf("cap:         device locks that would take mlocked memory "
		       "past %llu MiB system-wide fail with ENOMEM; %lld MiB "
		       "mlocked now (Mlocked in /proc/meminfo)\n",
		       s->max_locked_mb, mlocked / 1024);
	else if (s->have_max_locked)
		printf("cap:         device locks that would take mlocked memory "
		       "past %llu MiB system-wide fail with ENOMEM\n",
		       s->max_locked_mb);
	if (s->have_wiredmax && !s->wiredmax_mb && total >= 0)
		printf("openbsd:     OpenBSD mode's system-wide ceiling: a third "
		       "of RAM, %lld MiB (openbsd_wiredmax_mb=0)\n",
		       total / 3 / 1024);
	else if (s->have_wiredmax && !s->wiredmax_mb)
		printf("openbsd:     OpenBSD mode's system-wide ceiling: a third "
		       "of RAM (openbsd_wiredmax_mb=0)\n");
	else if (s->have_wiredmax)
		printf("openbsd:     OpenBSD mode's system-wide ceiling: %llu "
		       "MiB\n", s->wiredmax_mb);
	if (s->have_workers && !s->populate_workers)
		printf("workers:     calls that do not say fault memory in on "
		       "the calling thread alone, as mlockall(2) "
		       "(populate_workers=0)\n");
	else if (s->have_workers &&
		 s->populate_workers == MLOCKDEV_WORKERS_AUTO)
		printf("workers:     calls that do not say fault memory in with "
		       "as many threads as the module decides (populate_workers="
		       "%llu: auto)\n", s->populate_workers);
	else if (s->have_workers)
		printf("workers:     calls that do not say fault memory in with "
		       "%llu threads (populate_workers)\n",
		       s->populate_workers);
}

static void print_status_text(const struct status *s)
{
	size_t i;
	int k;

	printf("module:      %s: ", s->module);
	if (s->loaded) {
		printf("loaded (%s)", s->state ? s->state : "?");
		if (s->refcnt >= 0)
			printf(", refcount %ld", s->refcnt);
		if (s->holders && *s->holders)
			printf(", used by %s", s->holders);
		printf("\n");
	} else {
		printf("not loaded\n");
	}
	printf("kernel:      %s\n", s->running ? s->running : "?");
	printf("device:      %s: ", s->device);
	if (!s->dev_exists)
		printf("missing\n");
	else if (S_ISCHR(s->dev_st.st_mode))
		printf("char %u:%u, mode %04o, uid %u (%s), gid %u (%s)\n",
		       major(s->dev_st.st_rdev), minor(s->dev_st.st_rdev),
		       (unsigned)(s->dev_st.st_mode & 07777),
		       (unsigned)s->dev_st.st_uid,
		       user_name(s->dev_st.st_uid) ?: "?",
		       (unsigned)s->dev_st.st_gid,
		       group_name(s->dev_st.st_gid) ?: "?");
	else
		printf("%s file, mode %04o (not a device)\n",
		       file_type(s->dev_st.st_mode),
		       (unsigned)(s->dev_st.st_mode & 07777));
	if (s->dev_exists) {
		char who[160], why[512];

		node_audience(&s->dev_st, who, sizeof(who));
		printf("access:      %s (mode %04o); ", who,
		       (unsigned)(s->dev_st.st_mode & 07777));
		if (!s->open_errno) {
			printf("you can open it\n");
		} else {
			open_failure_message(s->device, s->open_errno, why,
					     sizeof(why));
			printf("you cannot: %s\n", why);
		}
	}
	if (s->have_params) {
		printf("parameters:  mode=");
		if (s->mode_param >= 0)
			printf("%04lo", s->mode_param);
		else
			printf("?");
		printf(" allow_seccomp=%s", s->allow_seccomp < 0 ? "?" :
		       s->allow_seccomp ? "Y" : "N");
		if (s->have_max_locked)
			printf(" max_locked_mb=%llu", s->max_locked_mb);
		if (s->have_wiredmax)
			printf(" openbsd_wiredmax_mb=%llu", s->wiredmax_mb);
		if (s->have_workers)
			printf(" populate_workers=%llu", s->populate_workers);
		printf("\n");
		if (s->allow_seccomp == 1)
			printf("seccomp:     callers under a seccomp filter are "
			       "served: the device is a way around a filter "
			       "that denies mlockall(2)\n");
		else if (s->allow_seccomp == 0)
			printf("seccomp:     callers under a seccomp filter are "
			       "declined (EACCES); the preload shim then makes "
			       "the system call, and the filter decides\n");
		print_param_lines(s);
	}
	if (s->abi_ok) {
		printf("ABI:         %u.%u\n", s->info.abi_major, s->info.abi_minor);
		printf("features:   ");
		for (i = 0; i < 64; i++) {
			if (!(s->info.features & (1ULL << i)))
				continue;
			if (i < sizeof(feature_names) / sizeof(feature_names[0]))
				printf(" %s", feature_names[i]);
			else
				printf(" bit%zu", i);
		}
		printf("%s\n", s->info.features ? "" : " none");
		printf("built for:   %s%s\n", s->info.kernel_release,
		       s->running && strcmp(s->running, s->info.kernel_release) ?
		       " (differs from the running kernel)" : "");
	} else {
		printf("ABI:         unavailable (%s)\n", strerror(s->abi_errno));
	}
	if (s->ncounters < 0) {
		printf("counters:    none (%s/stats missing)\n", sysfs_dir());
		return;
	}
	printf("counters:\n");
	for (k = 0; k < s->ncounters; k++)
		printf("  %-18s %s\n", s->counters[k].name, s->counters[k].value);
}

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		HELP_OPT, { "json", no_argument, NULL, 'j' }, { 0 },
	};
	struct kmod_ctx *ctx;
	struct status s;
	int o, json = 0;

	while ((o = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (o) {
		case 'h':
			fputs(status_help, stdout);
			return EXIT_OK;
		case 'j':
			json = 1;
			break;
		default:
			return bad_option("status", o, argv);
		}
	}
	if (optind < argc)
		return usage_error("status", "unexpected argument '%s'", argv[optind]);

	ctx = kmod_open();	/* without it, "loaded" is just false */
	gather_status(&s, ctx);
	if (json)
		print_status_json(&s);
	else
		print_status_text(&s);
	free(s.holders);
	free(s.counters);
	if (ctx)
		kmod_unref(ctx);
	return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_FAIL;
}

/* --- run ----------------------------------------------------------------- */

static int usable_file(const char *path)
{
	return access(path, R_OK) == 0;
}

/* The shim's absolute path into out, or -1 with a message printed. */
static int find_shim(const char *opt, char *out, size_t len)
{
	static const char *const rel[] = {
		SHIM_NAME,				/* same directory */
		"../lib/mlockdev/" SHIM_NAME,		/* PREFIX/bin -> PREFIX/lib */
		"../../libmlockdev/build/" SHIM_NAME,	/* the source tree's build/ */
	};
	const char *env = getenv("MLOCKDEV_PRELOAD");
	char exe[PATH_MAX], cand[PATH_MAX + 64], *slash;
	ssize_t n;
	size_t i;

	if (!opt && env && *env)
		opt = env;
	if (opt) {
		if (!realpath(opt, out) || !usable_file(out)) {
			error("preload shim %s: %s", opt, strerror(errno));
			return -1;
		}
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			snprintf(cand, sizeof(cand), "%s/%s", exe, rel[i]);
			if (usable_file(cand) && realpath(cand, out))
				return 0;
		}
	}
	if (usable_file(MLOCKDEV_PRELOAD_DEFAULT) &&
	    realpath(MLOCKDEV_PRELOAD_DEFAULT, out))
		return 0;
	error("cannot find the preload shim " SHIM_NAME " (looked next to "
	      "this program and in %s): pass --preload PATH or set "
	      "MLOCKDEV_PRELOAD", MLOCKDEV_PRELOAD_DEFAULT);
	(void)len;
	return -1;
}

/* Is path already an element of the LD_PRELOAD list? */
static int in_preload_list(const char *list, const char *path)
{
	size_t lp = strlen(path);
	const char *p = list;

	while (p && *p) {
		size_t l = strcspn(p, ": ");

		if (l == lp && !strncmp(p, path, l))
			return 1;
		p += l;
		p += strspn(p, ": ");
	}
	return 0;
}

/*
 * What the options of run, lock and unlock ask of the module's extensible
 * calls (ABI 1.1).
 */
struct ex_request {
	int report;		/* --report or --report-file */
	const char *report_file;
	int strict;
	int openbsd;		/* --semantics openbsd, --openbsd */
	int workers_set;
	uint32_t workers;
};

/* Option values shared by run, lock and unlock (getopt_long codes). */
enum {
	OPT_REPORT = 0x100, OPT_REPORT_FILE, OPT_STRICT, OPT_SEMANTICS,
	OPT_OPENBSD, OPT_WORKERS, OPT_CURRENT, OPT_FUTURE, OPT_ONFAULT,
};

/*
 * Take one of the shared options into *ex.  Returns 0, or a usage
 * error's status, with the message printed.
 */
static int ex_option(const char *cmd, int o, struct ex_request *ex)
{
	unsigned long long v;
	char *end;

	switch (o) {
	case OPT_REPORT:
		ex->report = 1;
		return 0;
	case OPT_REPORT_FILE:
		if (!*optarg)
			return usage_error(cmd, "--report-file needs a file name");
		ex->report = 1;
		ex->report_file = optarg;
		return 0;
	case OPT_STRICT:
		ex->strict = 1;
		return 0;
	case OPT_OPENBSD:
		ex->openbsd = 1;
		return 0;
	case OPT_SEMANTICS:
		if (!strcmp(optarg, "openbsd"))
			ex->openbsd = 1;
		else if (!strcmp(optarg, "linux"))
			ex->openbsd = 0;
		else
			return usage_error(cmd, "invalid --semantics '%s': "
					   "expected linux or openbsd", optarg);
		return 0;
	case OPT_WORKERS:
		ex->workers_set = 1;
		if (!strcmp(optarg, "auto")) {
			ex->workers = MLOCKDEV_WORKERS_AUTO;
			return 0;
		}
		errno = 0;
		v = strtoull(optarg, &end, 10);
		if (*optarg < '0' || *optarg > '9' || *end || errno ||
		    v >= MLOCKDEV_WORKERS_AUTO)
			return usage_error(cmd, "invalid --workers '%s': expected "
					   "a number of threads or auto", optarg);
		ex->workers = (uint32_t)v;
		return 0;
	}
	return -1;
}

/* The MLOCKDEV_FEAT_* bits *ex needs, beyond the plain calls. */
static uint64_t ex_features(const struct ex_request *ex, int pidfd)
{
	uint64_t need = 0;

	if (ex->report || ex->strict || ex->openbsd || ex->workers_set || pidfd)
		need |= MLOCKDEV_FEAT_LOCK_ALL_EX | MLOCKDEV_FEAT_UNLOCK_ALL_EX;
	if (ex->strict)
		need |= MLOCKDEV_FEAT_STRICT;
	if (ex->openbsd)
		need |= MLOCKDEV_FEAT_OPENBSD;
	if (ex->workers_set && ex->workers)
		need |= MLOCKDEV_FEAT_WORKERS;
	if (pidfd)
		need |= MLOCKDEV_FEAT_PIDFD;
	return need;
}

/* "strict, openbsd" for the feature bits in mask. */
static void feature_list(uint64_t mask, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < 64; i++) {
		if (!(mask & (1ULL << i)))
			continue;
		if (i < sizeof(feature_names) / sizeof(feature_names[0]))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
					      "%s%s", n ? ", " : "",
					      feature_names[i]);
		else
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
					      "%sbit%zu", n ? ", " : "", i);
	}
}

/*
 * Can this user use the device, and does the module implement need?
 * 0, or 1 with a message that says what to do.  what names the options
 * that need the features.
 */
static int check_device(uint64_t need, const char *what)
{
	struct mlockdev_info info;
	char why[512], missing[256];
	int err;

	/* As the shim will open it, with our credentials. */
	err = try_open_device(device_path());
	if (err) {
		open_failure_message(device_path(), err, why, sizeof(why));
		error("%s", why);
		return 1;
	}
	if (mlockdev_query(&info)) {
		if (errno == ENODEV)
			error("mlockdev is not loaded: run 'mlockdevctl load' "
			      "(%s does not exist)", device_path());
		else
			error("cannot use %s: %s", device_path(), strerror(errno));
		return 1;
	}
	if (info.abi_major != MLOCKDEV_ABI_MAJOR) {
		error("the loaded mlockdev speaks ABI %u.%u, this program ABI "
		      "%u.%u: load a matching build", info.abi_major,
		      info.abi_minor, MLOCKDEV_ABI_MAJOR, MLOCKDEV_ABI_MINOR);
		return 1;
	}
	if ((info.features & (MLOCKDEV_FEAT_LOCK_ALL | MLOCKDEV_FEAT_UNLOCK_ALL)) !=
	    (MLOCKDEV_FEAT_LOCK_ALL | MLOCKDEV_FEAT_UNLOCK_ALL)) {
		error("the loaded mlockdev (built for %s) does not implement "
		      "LOCK_ALL/UNLOCK_ALL (features 0x%llx): load a newer build",
		      info.kernel_release, (unsigned long long)info.features);
		return 1;
	}
	if ((info.features & need) != need) {
		feature_list(need & ~info.features, missing, sizeof(missing));
		error("the loaded mlockdev (ABI %u.%u, built for %s) lacks %s, "
		      "which %s needs%s: load a build of ABI 1.1 or later",
		      info.abi_major, info.abi_minor, info.kernel_release,
		      missing, what,
		      need & MLOCKDEV_FEAT_LOCK_ALL_EX & ~info.features ?
		      " (the extensible calls LOCK_ALL_EX/UNLOCK_ALL_EX)" : "");
		return 1;
	}
	return 0;
}

/* Make path absolute against the current directory (CMD may chdir). */
static char *absolute_path(const char *path)
{
	char cwd[PATH_MAX], *out = NULL;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

/* Put s (or nothing) in the environment as name; 0 or -1 with errno. */
static int set_or_unset(const char *name, const char *s)
{
	return s ? setenv(name, s, 1) : unsetenv(name);
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		HELP_OPT,
		{ "lock", required_argument, NULL, 'l' },
		{ "preload", required_argument, NULL, 'p' },
		{ "debug", no_argument, NULL, 'd' },
		{ "report", no_argument, NULL, OPT_REPORT },
		{ "report-file", required_argument, NULL, OPT_REPORT_FILE },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "semantics", required_argument, NULL, OPT_SEMANTICS },
		{ "openbsd", no_argument, NULL, OPT_OPENBSD },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ 0 },
	};
	const char *lock = NULL, *preload = NULL, *old, *mode = NULL;
	char shim[PATH_MAX], *list = NULL, *report = NULL;
	char workers[16], *workers_env = NULL;
	struct ex_request ex = { 0 };
	int o, flags, fd, debug = 0;
	uint64_t need;

	while ((o = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (o) {
		case 'h':
			fputs(run_help, stdout);
			return EXIT_OK;
		case 'l':
			lock = optarg;
			break;
		case 'p':
			preload = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case OPT_REPORT: case OPT_REPORT_FILE: case OPT_STRICT:
		case OPT_SEMANTICS: case OPT_OPENBSD: case OPT_WORKERS:
			if (ex_option("run", o, &ex))
				return EXIT_USAGE;
			break;
		default:
			return bad_option("run", o, argv);
		}
	}
	if (optind >= argc)
		return usage_error("run", "no command given (run [--lock SPEC] "
				   "-- CMD [ARGS...])");
	if (lock && mlockdev_flags_from_string(lock, &flags))
		return usage_error("run", "invalid --lock '%s': expected a "
				   "comma-separated list of current, future and "
				   "onfault, with current or future", lock);

	if (find_shim(preload, shim, sizeof(shim)))
		return EXIT_FAIL;
	if (strpbrk(shim, ": ")) {
		error("the shim path %s contains ':' or ' ', which LD_PRELOAD "
		      "cannot carry; install it elsewhere", shim);
		return EXIT_FAIL;
	}

	/*
	 * Can this user open the device at all?  The shim opens it in CMD
	 * before main(), with CMD's credentials, which are ours.
	 */
	need = ex_features(&ex, 0);
	if (check_device(need, "--report, --strict, --semantics openbsd or "
			 "--workers"))
		return EXIT_FAIL;
	/* CMD inherits our filter: say that the device will decline it. */
	if (under_seccomp_filter() && allow_seccomp_param() == 0)
		warning("this process is under a seccomp filter, which '%s' "
			"inherits, and mlockdev declines such callers "
			"(allow_seccomp=N): the shim will make its mlockall() "
			"and munlockall() as system calls, and the filter "
			"decides%s", argv[optind],
			need ? "; they have no report, and no mode" : "");

	/* Created or emptied now: what is there is this run's. */
	if (ex.report_file) {
		report = absolute_path(ex.report_file);
		fd = report ? open(report, O_WRONLY | O_CREAT | O_TRUNC |
				   O_CLOEXEC | O_NOCTTY, 0666) : -1;
		if (fd < 0) {
			error("cannot write the report file %s: %s: give a file "
			      "you can write, or --report for stderr",
			      ex.report_file, strerror(errno));
			free(report);
			return EXIT_FAIL;
		}
		close(fd);
	} else if (ex.report) {
		report = strdup("stderr");
	}
	if (ex.strict && ex.openbsd)
		mode = "strict,openbsd";
	else if (ex.strict)
		mode = "strict";
	else if (ex.openbsd)
		mode = "openbsd";
	if (ex.workers_set && ex.workers == MLOCKDEV_WORKERS_AUTO)
		workers_env = strcpy(workers, "auto");
	else if (ex.workers_set)
		snprintf(workers_env = workers, sizeof(workers), "%u",
			 ex.workers);

	old = getenv("LD_PRELOAD");
	if (old && *old && in_preload_list(old, shim))
		list = strdup(old);
	else if (old && *old && asprintf(&list, "%s:%s", shim, old) < 0)
		list = NULL;
	else if (!(old && *old))
		list = strdup(shim);
	if (!list || (ex.report && !report) || setenv("LD_PRELOAD", list, 1) ||
	    (lock ? setenv("MLOCKDEV_LOCK", lock, 1) : unsetenv("MLOCKDEV_LOCK")) ||
	    set_or_unset("MLOCKDEV_REPORT", report) ||
	    set_or_unset("MLOCKDEV_MODE", mode) ||
	    set_or_unset("MLOCKDEV_WORKERS", workers_env) ||
	    (debug && setenv("MLOCKDEV_SHIM_DEBUG", "1", 1))) {
		error("cannot set up the environment: %s", strerror(errno));
		return EXIT_FAIL;
	}
	free(list);
	free(report);

	fflush(NULL);
	execvp(argv[optind], &argv[optind]);
	o = errno;
	error("cannot run '%s': %s", argv[optind], strerror(o));
	return o == ENOENT ? 127 : 126;
}

/* --- lock and unlock another process --------------------------------------- */

/* PF_KTHREAD of include/linux/sched.h, the flags field of /proc/PID/stat. */
#define PROC_PF_KTHREAD	0x00200000UL

/* The process's name (comm), or "?". */
static const char *proc_comm(pid_t pid)
{
	static char comm[64];
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_small_file(path, comm, sizeof(comm)))
		snprintf(comm, sizeof(comm), "?");
	return comm;
}

/*
 * From /proc/PID/stat: the state letter and the flags.  0, or -1 when it
 * cannot be read.
 */
static int proc_stat(pid_t pid, char *state, unsigned long *flags)
{
	char path[64], buf[1024], *p;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small_file(path, buf, sizeof(buf)))
		return -1;
	p = strrchr(buf, ')');	/* comm may hold spaces and parentheses */
	if (!p || p[1] != ' ')
		return -1;
	p += 2;
	*state = *p;
	/* state is field 3, flags field 9 */
	for (field = 3; field < 9 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return -1;
	*flags = strtoul(p, NULL, 10);
	return 0;
}

/* A number from a "Name:" line of /proc/PID/status, or -1. */
static long long proc_status_num(pid_t pid, const char *name)
{
	char path[64], line[256];
	size_t len = strlen(name);
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':') {
			v = atoll(line + len + 1);
			break;
		}
	fclose(f);
	return v;
}

/*
 * The soft RLIMIT_MEMLOCK of a process, from /proc/PID/limits, in bytes:
 * 0 or more, -2 for unlimited, -1 when it cannot be read.
 */
static long long proc_memlock_limit(pid_t pid)
{
	char path[64], line[256], soft[32];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Max locked memory", 17) &&
		    sscanf(line + 17, "%31s", soft) == 1) {
			v = !strcmp(soft, "unlimited") ? -2 : atoll(soft);
			break;
		}
	fclose(f);
	return v;
}

/* Yama's ptrace_scope, or -1 without Yama. */
static int yama_ptrace_scope(void)
{
	char buf[16];

	if (read_small_file("/proc/sys/kernel/yama/ptrace_scope", buf,
			    sizeof(buf)))
		return -1;
	return atoi(buf);
}

/*
 * May we ptrace-attach to pid?  The module asks by opening its
 * /proc/PID/mem as the caller (kernel/remote.c); so do we.  1, 0, or -1
 * when the answer is not "permission".
 */
static int may_ptrace(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == EACCES || errno == EPERM ? 0 : -1;
}

/* "uid 0 (root)" */
static void describe_uid(long long uid, char *buf, size_t len)
{
	const char *name = uid >= 0 ? user_name((uid_t)uid) : NULL;

	if (uid < 0)
		snprintf(buf, len, "an unknown user");
	else if (name)
		snprintf(buf, len, "uid %lld (%s)", uid, name);
	else
		snprintf(buf, len, "uid %lld", uid);
}

/* "MCL_CURRENT|MCL_FUTURE" */
static void mcl_names(int flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s",
		 flags & MCL_CURRENT ? "MCL_CURRENT" : "",
		 flags & MCL_CURRENT && flags & (MCL_FUTURE | MCL_ONFAULT) ? "|" : "",
		 flags & MCL_FUTURE ? "MCL_FUTURE" : "",
		 flags & MCL_FUTURE && flags & MCL_ONFAULT ? "|" : "",
		 flags & MCL_ONFAULT ? "MCL_ONFAULT" : "");
}

/*
 * Why the module refused to lock or unlock pid (errno err), and what to
 * do, printed as an error.
 */
static void pid_call_error(int err, pid_t pid, const char *comm, int lock,
			   int flags, const struct ex_request *ex,
			   const struct mlockdev_report *rep)
{
	const char *verb = lock ? "lock" : "unlock";
	char who[96], me[96], lim[32], state = 0;
	unsigned long pflags = 0;
	long long limit, vmsize;
	unsigned long long cap;
	int scope, stat_ok;

	stat_ok = proc_stat(pid, &state, &pflags) == 0;
	/* Strict or OpenBSD mode: the report names what failed. */
	if (rep->failed_vma_start || rep->failed_vma_end) {
		error("process %d (%s): the memory at 0x%llx-0x%llx could not be "
		      "made resident (%s), so the %s call was undone and "
		      "nothing changed%s", (int)pid, comm,
		      (unsigned long long)rep->failed_vma_start,
		      (unsigned long long)rep->failed_vma_end, strerror(err),
		      ex->openbsd ? "OpenBSD-mode" : "strict",
		      ex->openbsd && err == EAGAIN ?
		      " (OpenBSD reports such failures as EAGAIN)" : "");
		return;
	}
	switch (err) {
	case EPERM:
		if (may_ptrace(pid) == 0) {
			describe_uid(proc_status_num(pid, "Uid"), who, sizeof(who));
			describe_uid(geteuid(), me, sizeof(me));
			scope = yama_ptrace_scope();
			error("you may not %s process %d (%s): that takes the "
			      "right to ptrace it, as process_vm_writev(2) does, "
			      "and you do not have it (it runs as %s, you are %s)"
			      ": run as root or as its user%s", verb, (int)pid,
			      comm, who, me,
			      scope == 1 ? "; Yama's ptrace_scope is 1 "
			      "(/proc/sys/kernel/yama/ptrace_scope): only its "
			      "parent, or a process it named with PR_SET_PTRACER, "
			      "may ptrace it without CAP_SYS_PTRACE" :
			      scope == 2 ? "; Yama's ptrace_scope is 2 "
			      "(/proc/sys/kernel/yama/ptrace_scope): only a process "
			      "with CAP_SYS_PTRACE may ptrace it" :
			      scope == 3 ? "; Yama's ptrace_scope is 3 "
			      "(/proc/sys/kernel/yama/ptrace_scope): no process may "
			      "ptrace another, until the next boot" :
			      scope == 0 ? " (Yama's ptrace_scope is 0: the "
			      "classic ptrace rules)" : "");
			return;
		}
		limit = proc_memlock_limit(pid);
		if (lock && limit == 0) {
			error("cannot lock process %d (%s): its RLIMIT_MEMLOCK is "
			      "0 and you lack CAP_IPC_LOCK in its user namespace, "
			      "as mlockall(2) in it would fail with EPERM: raise "
			      "its limit (prlimit --memlock=unlimited --pid %d) or "
			      "run as root", (int)pid, comm, (int)pid);
			return;
		}
		error("the module refused to %s process %d (%s) with EPERM: you "
		      "may lack the right to ptrace it (an LSM may say no where "
		      "the owner and Yama say yes), or its RLIMIT_MEMLOCK is 0",
		      verb, (int)pid, comm);
		return;
	case ESRCH:
		if (stat_ok && (state == 'Z' || state == 'X'))
			error("process %d (%s) has exited: it is a zombie waiting "
			      "for its parent to reap it, with no memory left to "
			      "%s", (int)pid, comm, verb);
		else
			error("process %d (%s) has exited, or is exiting, or is "
			      "not in your PID namespace: nothing to %s", (int)pid,
			      comm, verb);
		return;
	case EINVAL:
		if (stat_ok && (pflags & PROC_PF_KTHREAD)) {
			error("process %d (%s) is a kernel thread: it has no user "
			      "memory to %s", (int)pid, comm, verb);
			return;
		}
		if (lock && ex->openbsd && (flags & MCL_ONFAULT)) {
			error("OpenBSD's mlockall(2) takes only MCL_CURRENT and "
			      "MCL_FUTURE: drop --onfault, or use --semantics "
			      "linux");
			return;
		}
		error("the module rejected the %s of process %d (%s) as invalid "
		      "(EINVAL): this mlockdevctl and the loaded module may "
		      "disagree on the ABI; see dmesg", verb, (int)pid, comm);
		return;
	case ENOMEM:
		limit = proc_memlock_limit(pid);
		vmsize = proc_status_num(pid, "VmSize");
		if (limit == -2)
			snprintf(lim, sizeof(lim), "unlimited");
		else if (limit >= 0)
			snprintf(lim, sizeof(lim), "%lld kB", limit / 1024);
		else
			snprintf(lim, sizeof(lim), "unknown");
		if (num_param("max_locked_mb", &cap))
			cap = 0;
		if (ex->openbsd) {
			error("cannot lock process %d (%s) in OpenBSD mode "
			      "(ENOMEM): what is locked plus what is not yet "
			      "(VmSize %lld kB) is over its RLIMIT_MEMLOCK (%s), "
			      "or the system's mlocked memory would pass the "
			      "ceiling (openbsd_wiredmax_mb)%s; no capability lifts "
			      "either: raise its limit (prlimit "
			      "--memlock=unlimited --pid %d) or the ceiling",
			      (int)pid, comm, vmsize, lim,
			      cap ? ", or the cap (max_locked_mb)" : "", (int)pid);
			return;
		}
		if (cap && (have_cap(CAP_IPC_LOCK) == 1 || limit == -2 ||
			    (limit >= 0 && vmsize >= 0 && vmsize * 1024 <= limit))) {
			error("cannot lock process %d (%s): the module's cap, "
			      "max_locked_mb=%llu, would be exceeded (ENOMEM; see "
			      "Mlocked in /proc/meminfo, and stats/cap_refused): "
			      "have root raise it, or lock less", (int)pid, comm,
			      cap);
			return;
		}
		if (have_cap(CAP_IPC_LOCK) == 1) {
			error("cannot lock process %d (%s): the module ran out of "
			      "memory (ENOMEM)%s", (int)pid, comm,
			      ex->strict ? "" : "; see dmesg");
			return;
		}
		error("cannot lock process %d (%s): its address space (VmSize "
		      "%lld kB) is over its RLIMIT_MEMLOCK (%s) and you lack "
		      "CAP_IPC_LOCK, as mlockall(2) in it would fail with ENOMEM: "
		      "raise its limit (prlimit --memlock=unlimited --pid %d), or "
		      "run as root%s", (int)pid, comm, vmsize, lim, (int)pid,
		      cap ? "; or the module's cap max_locked_mb would be "
		      "exceeded" : "");
		return;
	case EACCES:
		error("the module declines callers under a seccomp filter "
		      "(allow_seccomp=N), and mlockdevctl runs under one: run it "
		      "outside the filter, or have root set "
		      "/sys/module/mlockdev/parameters/allow_seccomp to 1");
		return;
	case EINTR:
		error("the %s of process %d (%s) was interrupted by a fatal "
		      "signal", verb, (int)pid, comm);
		return;
	}
	error("cannot %s process %d (%s): %s", verb, (int)pid, comm,
	      strerror(err));
}

/* The report of a pidfd call, as the shim writes its reports. */
static void print_pid_report(pid_t pid, const char *comm, int lock,
			     int flags, const struct ex_request *ex, int ret,
			     int err, const struct mlockdev_report *rep)
{
	static const struct mlockdev_report zero;
	char names[64], modes[96], text[2048];
	size_t n = 0;

	if (lock) {
		mcl_names(flags, names, sizeof(names));
		n += (size_t)snprintf(modes + n, sizeof(modes) - n, " [pidfd%s%s",
				      ex->strict ? ", strict" : "",
				      ex->openbsd ? ", openbsd" : "");
		if (ex->workers_set && ex->workers == MLOCKDEV_WORKERS_AUTO)
			n += (size_t)snprintf(modes + n, sizeof(modes) - n,
					      ", workers auto");
		else if (ex->workers_set && ex->workers)
			n += (size_t)snprintf(modes + n, sizeof(modes) - n,
					      ", workers %u", ex->workers);
		snprintf(modes + n, sizeof(modes) - n, "]");
		printf("mlockdev-report[%d] %s: mlockall(%s)%s", (int)pid, comm,
		       names, modes);
	} else {
		printf("mlockdev-report[%d] %s: munlockall() [pidfd%s]",
		       (int)pid, comm, ex->openbsd ? ", openbsd" : "");
	}
	if (!ret)
		printf(" = 0\n");
	else
		printf(" = -1 %s (%s)\n", strerrorname_np(err) ?: "?",
		       strerror(err));
	if (ret && !memcmp(rep, &zero, sizeof(zero)))
		printf("  no figures: the module refused the call before it "
		       "looked at the address space\n");
	else if (mlockdev_report_format(rep, text, sizeof(text)) >= 0)
		fputs(text, stdout);
}

/* A process ID: a decimal number from 1 to INT_MAX; 0 or -1. */
static pid_t parse_pid(const char *arg)
{
	unsigned long long v;
	char *end;

	if (*arg < '0' || *arg > '9')
		return -1;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || v < 1 || v > INT_MAX)
		return -1;
	return (pid_t)v;
}

static int cmd_pid_call(int argc, char **argv, int lock)
{
	static const struct option lock_opts[] = {
		HELP_OPT,
		{ "current", no_argument, NULL, OPT_CURRENT },
		{ "future", no_argument, NULL, OPT_FUTURE },
		{ "onfault", no_argument, NULL, OPT_ONFAULT },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "semantics", required_argument, NULL, OPT_SEMANTICS },
		{ "openbsd", no_argument, NULL, OPT_OPENBSD },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ "report", no_argument, NULL, OPT_REPORT },
		{ 0 },
	};
	static const struct option unlock_opts[] = {
		HELP_OPT,
		{ "semantics", required_argument, NULL, OPT_SEMANTICS },
		{ "openbsd", no_argument, NULL, OPT_OPENBSD },
		{ "report", no_argument, NULL, OPT_REPORT },
		{ 0 },
	};
	const char *cmd = lock ? "lock" : "unlock";
	struct mlockdev_options opts;
	struct mlockdev_report rep;
	struct ex_request ex = { 0 };
	char comm[64], names[64];
	int o, flags = 0, pidfd, ret, err;
	long long kb = sysconf(_SC_PAGESIZE) / 1024;
	pid_t pid;

	/* Options may come after the PID: no "+" here. */
	while ((o = getopt_long(argc, argv, ":h", lock ? lock_opts : unlock_opts,
				NULL)) != -1) {
		switch (o) {
		case 'h':
			fputs(lock ? lock_help : unlock_help, stdout);
			return EXIT_OK;
		case OPT_CURRENT:
			flags |= MCL_CURRENT;
			break;
		case OPT_FUTURE:
			flags |= MCL_FUTURE;
			break;
		case OPT_ONFAULT:
			flags |= MCL_ONFAULT;
			break;
		case OPT_REPORT: case OPT_STRICT: case OPT_SEMANTICS:
		case OPT_OPENBSD: case OPT_WORKERS:
			if (ex_option(cmd, o, &ex))
				return EXIT_USAGE;
			break;
		default:
			return bad_option(cmd, o, argv);
		}
	}
	if (optind >= argc)
		return usage_error(cmd, lock ? "no process ID given (lock PID)" :
				   "no process ID given (unlock PID; to unload "
				   "the module: mlockdevctl unload)");
	if (argc - optind > 1)
		return usage_error(cmd, "one process ID at a time ('%s' is one "
				   "too many)", argv[optind + 1]);
	pid = parse_pid(argv[optind]);
	if (pid <= 0)
		return usage_error(cmd, "'%s' is not a process ID", argv[optind]);
	if (!flags)
		flags = MCL_CURRENT | MCL_FUTURE;
	if (flags == MCL_ONFAULT)
		return usage_error(cmd, "--onfault needs --current or --future "
				   "(mlockall(MCL_ONFAULT) is EINVAL)");

	if (check_device(ex_features(&ex, 1), lock ? "lock" : "unlock"))
		return EXIT_FAIL;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		err = errno;
		if (err == ESRCH)
			error("there is no process %d: it has exited, or is not in "
			      "your PID namespace", (int)pid);
		else if (err == EINVAL)
			error("%d is a thread, not a process: give its process ID "
			      "(Tgid in /proc/%d/status)", (int)pid, (int)pid);
		else if (err == ENOSYS)
			error("this kernel has no pidfd_open(2) (Linux 5.3 or "
			      "later has)");
		else
			error("pidfd_open(%d): %s", (int)pid, strerror(err));
		return EXIT_FAIL;
	}
	/* After pidfd_open: the pidfd pins the process, its name stays. */
	snprintf(comm, sizeof(comm), "%s", proc_comm(pid));

	memset(&opts, 0, sizeof(opts));
	opts.mode = MLOCKDEV_LOCK_PIDFD |
		    (ex.strict ? MLOCKDEV_LOCK_STRICT : 0) |
		    (ex.openbsd ? MLOCKDEV_LOCK_OPENBSD : 0);
	opts.pidfd = pidfd;
	opts.workers = ex.workers;
	if (lock)
		ret = mlockdev_lockall_ex(flags, &opts, &rep);
	else
		ret = mlockdev_unlockall_ex(&opts, &rep);
	err = errno;
	close(pidfd);

	if (ex.report)
		print_pid_report(pid, comm, lock, flags, &ex, ret, err, &rep);
	if (ret) {
		fflush(stdout);
		pid_call_error(err, pid, comm, lock, flags, &ex, &rep);
		return EXIT_FAIL;
	}
	if (!ex.report && lock) {
		mcl_names(flags, names, sizeof(names));
		printf("locked process %d (%s) with %s: VmLck %llu kB -> %llu kB\n",
		       (int)pid, comm, names,
		       (unsigned long long)rep.locked_vm_before * kb,
		       (unsigned long long)rep.locked_vm_after * kb);
	} else if (!ex.report) {
		printf("unlocked process %d (%s): VmLck %llu kB -> %llu kB\n",
		       (int)pid, comm,
		       (unsigned long long)rep.locked_vm_before * kb,
		       (unsigned long long)rep.locked_vm_after * kb);
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_FAIL;
}

static int cmd_lock(int argc, char **argv)
{
	return cmd_pid_call(argc, argv, 1);
}

static int cmd_unlock_pid(int argc, char **argv)
{
	return cmd_pid_call(argc, argv, 0);
}

/* --- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		HELP_OPT,
		{ "version", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	const struct command *c;
	int o;

	opterr = 0;	/* our own messages, with exit status 2 */
	while ((o = getopt_long(argc, argv, "+:hVv", opts, NULL)) != -1) {
		switch (o) {
		case 'h':
			fputs(main_help, stdout);
			return EXIT_OK;
		case 'V':
			printf(PROG " " MLOCKDEVCTL_VERSION " (ABI %d.%d)\n",
			       MLOCKDEV_ABI_MAJOR, MLOCKDEV_ABI_MINOR);
			return EXIT_OK;
		case 'v':
			verbose = 1;
			break;
		default:
			return bad_option(NULL, o, argv);
		}
	}
	if (optind >= argc)
		return usage_error(NULL, "no command given");
	c = find_command(argv[optind]);
	if (!c)
		return usage_error(NULL, "unknown command '%s'", argv[optind]);
	/* The command parses its own options, from its name on. */
	argc -= optind;
	argv += optind;
	optind = 0;	/* full re-initialisation of getopt (glibc) */
	return c->fn(argc, argv);
}
