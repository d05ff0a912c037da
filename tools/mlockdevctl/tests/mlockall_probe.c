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
 *   vmas                    print what /proc/self says of the address
 *                           space now, as the module's report counts it:
 *                             vmas=23 special=2 lo=0 vmlck_kb=0
 *                           (VMAs but the gate area [vsyscall]; special:
 *                           [vvar], [vvar_vclock], [vdso]; lo: VMAs with
 *                           VM_LOCKED, the "lo" of smaps' VmFlags)
 *   map-past-eof PATH       create PATH one page long, map four pages of
 *                           it shared and readable, and print
 *                             mapped 0x7f..000-0x7f..000
 *                           (faulting the last three pages is SIGBUS)
 *   map-anon MB             map MB MiB of fresh anonymous memory, untouched
 *
 * The /proc readers use no heap, so that under MCL_FUTURE reading them
 * maps nothing new.
 *
 * errno is set to a sentinel before each call, so "errno=SENTINEL" after
 * a success shows it was left alone.  Exit status: 0, 2 for a usage
 * error, 3 when a set-up step fails (the reason on stderr), 126/127 when
 * exec fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

static int setup_failed(const char *step)
{
	fprintf(stderr, PROBE ": %s: %s\n", step, strerror(errno));
	return 3;
}

/*
 * Call fn on each line of a /proc file, read with read(2) into the
 * stack (no heap: see the top).  Lines longer than the buffer are cut.
 */
static int for_each_line(const char *path, void (*fn)(const char *, void *),
			 void *data)
{
	char buf[8192], *line, *nl;
	size_t have = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	for (;;) {
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		line = buf;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			fn(line, data);
			line = nl + 1;
		}
		have = (size_t)(buf + have - line);
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1) {	/* a very long line */
			buf[have] = '\0';
			fn(buf, data);
			have = 0;
		}
	}
	close(fd);
	return 0;
}

static void vmlck_line(const char *line, void *data)
{
	if (!strncmp(line, "VmLck:", 6))
		*(long *)data = strtol(line + 6, NULL, 10);
}

static long vmlck_kb(void)
{
	long kb = -1;

	if (for_each_line("/proc/self/status", vmlck_line, &kb))
		return -1;
	return kb;
}

struct vma_count {
	long vmas, special, lo;
};

/* A line of /proc/self/smaps: a VMA's first line, or one of its fields. */
static void smaps_line(const char *line, void *data)
{
	struct vma_count *c = data;
	const char *p;

	if (!strncmp(line, "VmFlags:", 8)) {
		for (p = line + 8; (p = strstr(p, " lo")); p += 3)
			if (p[3] == ' ' || p[3] == '\0')
				c->lo++;
		return;
	}
	/* "start-end perms ...": the address range starts the line. */
	if (!strchr("0123456789abcdef", line[0]) || !strchr(line, '-') ||
	    strchr(line, ':') < strchr(line, ' '))
		return;
	if (strstr(line, "[vsyscall]"))
		return;		/* the gate area: not in the VMA tree */
	c->vmas++;
	if (strstr(line, "[vvar]") || strstr(line, "[vvar_vclock]") ||
	    strstr(line, "[vdso]"))
		c->special++;
}

static int print_vmas(void)
{
	struct vma_count c = { 0, 0, 0 };

	if (for_each_line("/proc/self/smaps", smaps_line, &c))
		return setup_failed("vmas: /proc/self/smaps");
	printf("vmas=%ld special=%ld lo=%ld vmlck_kb=%ld\n", c.vmas, c.special,
	       c.lo, vmlck_kb());
	return 0;
}

static int map_past_eof(const char *path)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, page))
		return setup_failed("map-past-eof");
	p = mmap(NULL, (size_t)page * 4, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return setup_failed("map-past-eof: mmap");
	close(fd);
	printf("mapped %p-%p\n", p, (void *)((char *)p + page * 4));
	return 0;
}

static int map_anon(const char *arg)
{
	unsigned long mb = strtoul(arg, NULL, 10);
	void *p;

	if (!mb) {
		fprintf(stderr, PROBE ": map-anon: bad size '%s'\n", arg);
		return 2;
	}
	p = mmap(NULL, mb << 20, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return setup_failed("map-anon");
	printf("mapped %p-%p\n", p, (void *)((char *)p + (mb << 20)));
	return 0;
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
		} else if (!strcmp(step, "vmas")) {
			rc = print_vmas();
		} else if (!strcmp(step, "map-past-eof") && arg) {
			rc = map_past_eof(arg);
			i++;
		} else if (!strcmp(step, "map-anon") && arg) {
			rc = map_anon(arg);
			i++;
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
