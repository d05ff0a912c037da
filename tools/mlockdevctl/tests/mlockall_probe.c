// SPDX-License-Identifier: GPL-2.0
/*
 * mlockall-probe: an ordinary dynamic program that calls libc's mlockall()
 * and munlockall() the way LTP's mlockall02/03 and open-posix mlockall
 * 15-1 do (set RLIMIT_MEMLOCK, drop to nobody, call), or from under a
 * seccomp filter.  It knows nothing of mlockdev: the guest tests run it
 * with and without the preload shim and compare what it prints.
 *
 *   mlockall-probe STEP...
 *
 * Steps, done in order:
 *   rlimit BYTES|unlimited  setrlimit(RLIMIT_MEMLOCK), soft and hard
 *   nobody                  setgroups(0), setresgid and setresuid to 65534
 *   filter deny|allow       PR_SET_NO_NEW_PRIVS and a seccomp filter:
 *                           "deny" makes mlockall and munlockall fail with
 *                           EPERM (SECCOMP_RET_ERRNO), "allow" lets every
 *                           system call through (the process is still
 *                           under a filter)
 *   lock FLAGS              mlockall(FLAGS), then print
 *                             mlockall(0x1) = -1 errno=EPERM vmlck_kb=0
 *   unlock                  munlockall(), then print
 *                             munlockall() = 0 errno=SENTINEL vmlck_kb=0
 *   exec CMD [ARG...]       execvp() the rest of the command line
 *
 * errno is set to a sentinel before each call, so "errno=SENTINEL" after
 * a success shows it was left alone.  Exit status: 0, 2 for a usage
 * error, 3 when a set-up step fails (the reason on stderr), 126/127 when
 * exec fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SENTINEL	4242
#define NOBODY		65534
#define PROBE		"mlockall-probe"

#if defined(__x86_64__) && !defined(__ILP32__)
#define PROBE_AUDIT_ARCH	AUDIT_ARCH_X86_64
#elif defined(__i386__)
#define PROBE_AUDIT_ARCH	AUDIT_ARCH_I386
#elif defined(__aarch64__)
#define PROBE_AUDIT_ARCH	AUDIT_ARCH_AARCH64
#else
#define PROBE_AUDIT_ARCH	0	/* "filter" fails: add the arch here */
#endif

static const char *ename(int e)
{
	return e == SENTINEL ? "SENTINEL" :
	       strerrorname_np(e) ? strerrorname_np(e) : "?";
}

static long vmlck_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmLck:", 6)) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

static int setup_failed(const char *step)
{
	fprintf(stderr, PROBE ": %s: %s\n", step, strerror(errno));
	return 3;
}

static int set_rlimit(const char *arg)
{
	struct rlimit rl;
	char *end;

	if (!strcmp(arg, "unlimited")) {
		rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
	} else {
		errno = 0;
		rl.rlim_cur = rl.rlim_max = strtoull(arg, &end, 0);
		if (errno || !*arg || *end) {
			fprintf(stderr, PROBE ": rlimit: bad value '%s'\n", arg);
			return 2;
		}
	}
	return setrlimit(RLIMIT_MEMLOCK, &rl) ? setup_failed("setrlimit") : 0;
}

static int drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return setup_failed("nobody");
	return 0;
}

static int install_filter(const char *how)
{
	/* deny: mlockall, munlockall -> EPERM; everything else allowed. */
	struct sock_filter deny[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROBE_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mlockall, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_munlockall, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter allow[] = {
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog;

	if (!strcmp(how, "deny")) {
		if (!PROBE_AUDIT_ARCH) {
			fprintf(stderr, PROBE ": filter: unknown architecture\n");
			return 3;
		}
		prog.len = sizeof(deny) / sizeof(deny[0]);
		prog.filter = deny;
	} else if (!strcmp(how, "allow")) {
		prog.len = sizeof(allow) / sizeof(allow[0]);
		prog.filter = allow;
	} else {
		fprintf(stderr, PROBE ": filter: want deny or allow, not '%s'\n",
			how);
		return 2;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return setup_failed("filter: PR_SET_NO_NEW_PRIVS");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return setup_failed("filter: seccomp");
	return 0;
}

int main(int argc, char **argv)
{
	int i, r, e, rc;

	for (i = 1; i < argc; i++) {
		const char *step = argv[i];
		const char *arg = i + 1 < argc ? argv[i + 1] : NULL;

		rc = 0;
		if (!strcmp(step, "rlimit") && arg) {
			rc = set_rlimit(arg);
			i++;
		} else if (!strcmp(step, "nobody")) {
			rc = drop_to_nobody();
		} else if (!strcmp(step, "filter") && arg) {
			rc = install_filter(arg);
			i++;
		} else if (!strcmp(step, "lock") && arg) {
			int flags = (int)strtol(arg, NULL, 0);

			i++;
			errno = SENTINEL;
			r = mlockall(flags);
			e = errno;
			printf("mlockall(0x%x) = %d errno=%s vmlck_kb=%ld\n",
			       (unsigned)flags, r, ename(e), vmlck_kb());
		} else if (!strcmp(step, "unlock")) {
			errno = SENTINEL;
			r = munlockall();
			e = errno;
			printf("munlockall() = %d errno=%s vmlck_kb=%ld\n", r,
			       ename(e), vmlck_kb());
		} else if (!strcmp(step, "exec") && arg) {
			fflush(stdout);
			execvp(arg, &argv[i + 1]);
			e = errno;
			fprintf(stderr, PROBE ": exec %s: %s\n", arg, strerror(e));
			return e == ENOENT ? 127 : 126;
		} else {
			fprintf(stderr, PROBE ": bad step '%s' (see the top of "
				"mlockall_probe.c)\n", step);
			return 2;
		}
		if (rc)
			return rc;
		fflush(stdout);
	}
	return 0;
}
