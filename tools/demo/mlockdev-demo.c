// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev-demo: run one scenario through mlockall(2) and through
 * /dev/mlockdev, each in a fresh child process, and print what the kernel
 * shows for both side by side.  "make run" runs it in a test guest.
 *
 * Exit status: 0 if both paths agree on everything but time, 1 if not,
 * 2 if the demo could not run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/mlockdev.h>

#define MIB		(1024UL * 1024)
#define DEVICE		"/dev/" MLOCKDEV_DEVICE_NAME

enum path { PATH_SYSCALL, PATH_DEVICE };

struct outcome {
	int lock_ret, lock_errno;
	int unlock_ret, unlock_errno;
	long vmlck_locked_kb;		/* VmLck after the lock */
	long mlocked_delta_kb;		/* meminfo Mlocked after - before */
	long resident_pct;		/* of the touched+untouched anon memory */
	long file_resident_pct;		/* of the shared file mapping */
	long prot_none_resident_pct;
	bool prot_none_locked;
	bool new_map_locked;		/* MCL_FUTURE: a later mmap */
	long new_map_resident_pct;
	long vmlck_unlocked_kb;		/* VmLck after the unlock */
	long mlocked_residue_kb;	/* Mlocked after unlock - before lock */
	double lock_ms;
};

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("mlockdev-demo: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* Value of "Key:" in a /proc file, in kB, or -1. */
static long proc_kb(const char *file, const char *key)
{
	char buf[8192], *p;
	size_t klen = strlen(key);
	ssize_t n;
	int fd;

	fd = open(file, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (p = buf; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == ':')
			return strtol(p + klen + 1, NULL, 10);
	}
	return -1;
}

/* System-wide Mlocked, with per-CPU counter deltas folded in first. */
static long mlocked_kb(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			perror("stat_refresh");
		close(fd);
	}
	return proc_kb("/proc/meminfo", "Mlocked");
}

static long resident_pct(void *addr, size_t len)
{
	size_t pages = len / 4096, i, in = 0;
	unsigned char *vec = calloc(pages, 1);

	if (!vec || mincore(addr, len, vec))
		die("mincore: %s", strerror(errno));
	for (i = 0; i < pages; i++)
		in += vec[i] & 1;
	free(vec);
	return (long)(in * 100 / pages);
}

/* Is the VMA containing addr VM_LOCKED ("lo" in smaps VmFlags)? */
static bool vma_locked(void *addr)
{
	char line[512];
	unsigned long start, end, a = (unsigned long)addr;
	bool in = false, locked = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		die("/proc/self/smaps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in = start <= a && a < end;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8))
			locked = strstr(line, " lo") != NULL;
	}
	fclose(f);
	return locked;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int do_lock(enum path path, int fd, int flags)
{
	struct mlockdev_lockall la = { .flags = (__u32)flags };

	return path == PATH_SYSCALL ? mlockall(flags) :
				      ioctl(fd, MLOCKDEV_IOC_LOCK_ALL, &la);
}

static int do_unlock(enum path path, int fd)
{
	struct mlockdev_unlockall ua = { 0 };

	return path == PATH_SYSCALL ? munlockall() :
				      ioctl(fd, MLOCKDEV_IOC_UNLOCK_ALL, &ua);
}

/* The scenario, in a fresh child.  Fills *out. */
static void scenario(enum path path, struct outcome *out)
{
	const size_t anon_len = 80 * MIB, file_len = 8 * MIB;
	const size_t none_len = 4 * MIB, new_len = 8 * MIB;
	char *anon, *file, *none, *fresh;
	long base;
	double t;
	int fd = -1, memfd;

	if (path == PATH_DEVICE) {
		fd = open(DEVICE, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			die("%s: %s (is mlockdev.ko loaded?)", DEVICE,
			    strerror(errno));
	}
	/* 80 MiB of anonymous memory, the first 16 MiB touched. */
	anon = mmap(NULL, anon_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	none = mmap(NULL, none_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	memfd = memfd_create("mlockdev-demo", 0);
	if (anon == MAP_FAILED || none == MAP_FAILED || memfd < 0 ||
	    ftruncate(memfd, file_len))
		die("setting up the scenario: %s", strerror(errno));
	file = mmap(NULL, file_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		    memfd, 0);
	if (file == MAP_FAILED)
		die("mmap of the memfd: %s", strerror(errno));
	memset(anon, 0x5a, 16 * MIB);

	base = mlocked_kb();
	t = now_ms();
	out->lock_ret = do_lock(path, fd, MCL_CURRENT | MCL_FUTURE);
	out->lock_errno = out->lock_ret ? errno : 0;
	out->lock_ms = now_ms() - t;

	out->vmlck_locked_kb = proc_kb("/proc/self/status", "VmLck");
	out->mlocked_delta_kb = mlocked_kb() - base;
	out->resident_pct = resident_pct(anon, anon_len);
	out->file_resident_pct = resident_pct(file, file_len);
	out->prot_none_resident_pct = resident_pct(none, none_len);
	out->prot_none_locked = vma_locked(none);

	fresh = mmap(NULL, new_len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fresh == MAP_FAILED)
		die("mmap after MCL_FUTURE: %s", strerror(errno));
	out->new_map_locked = vma_locked(fresh);
	out->new_map_resident_pct = resident_pct(fresh, new_len);

	out->unlock_ret = do_unlock(path, fd);
	out->unlock_errno = out->unlock_ret ? errno : 0;
	out->vmlck_unlocked_kb = proc_kb("/proc/self/status", "VmLck");
	out->mlocked_residue_kb = mlocked_kb() - base;
}

static void run_child(enum path path, struct outcome *out)
{
	int pfd[2];
	pid_t pid;
	int status;

	if (pipe(pfd))
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		struct outcome o = { 0 };

		close(pfd[0]);
		scenario(path, &o);
		if (write(pfd[1], &o, sizeof(o)) != sizeof(o))
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], out, sizeof(*out)) != sizeof(*out))
		die("the %s child died before reporting",
		    path == PATH_SYSCALL ? "syscall" : "device");
	close(pfd[0]);
	waitpid(pid, &status, 0);
}

static int mismatches;

static void row_l(const char *what, long a, long b)
{
	bool same = a == b;

	mismatches += !same;
	printf("  %-34s %12ld %14ld   %s\n", what, a, b, same ? "yes" : "NO");
}

static void row_s(const char *what, bool a, bool b)
{
	bool same = a == b;

	mismatches += !same;
	printf("  %-34s %12s %14s   %s\n", what, a ? "yes" : "no",
	       b ? "yes" : "no", same ? "yes" : "NO");
}

static void print_version(void)
{
	struct mlockdev_version ver = { 0 };
	struct utsname uts;
	int fd = open(DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, MLOCKDEV_IOC_VERSION, &ver))
		die("%s: %s (is mlockdev.ko loaded?)", DEVICE, strerror(errno));
	close(fd);
	uname(&uts);
	printf("mlockdev ABI %u.%u, features%s%s%s%s, built for %s, running on %s\n\n",
	       ver.abi_major, ver.abi_minor,
	       ver.features & MLOCKDEV_FEAT_VERSION ? " version" : "",
	       ver.features & MLOCKDEV_FEAT_LOCK_ALL ? " lock_all" : "",
	       ver.features & MLOCKDEV_FEAT_UNLOCK_ALL ? " unlock_all" : "",
	       ver.features & MLOCKDEV_FEAT_STATS ? " stats" : "",
	       ver.kernel_release, uts.release);
}

static void print_counters(void)
{
	static const char *const names[] = {
		"lock_calls", "unlock_calls", "pages_populated",
		"pages_mlocked", "pages_munlocked",
	};
	char path[128], buf[32];
	size_t i;

	printf("\nModule counters (/sys/class/misc/mlockdev/stats/):");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int fd;
		ssize_t n;

		snprintf(path, sizeof(path),
			 "/sys/class/misc/mlockdev/stats/%s", names[i]);
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n - 1 : 0] = '\0';
		printf(" %s=%s", names[i], n > 0 ? buf : "?");
	}
	printf("\n");
}

int main(void)
{
	struct outcome s, d;

	setvbuf(stdout, NULL, _IOLBF, 0);
	print_version();
	printf("Scenario, in a fresh process per path: 80 MiB anonymous (16 MiB\n"
	       "touched), 4 MiB PROT_NONE, 8 MiB shared memfd; lock with\n"
	       "MCL_CURRENT | MCL_FUTURE; mmap 8 MiB more; unlock.\n\n");
	run_child(PATH_SYSCALL, &s);
	run_child(PATH_DEVICE, &d);

	printf("  %-34s %12s %14s   %s\n", "", "mlockall(2)", "/dev/mlockdev",
	       "same");
	row_l("lock: return value", s.lock_ret, d.lock_ret);
	row_l("lock: errno", s.lock_errno, d.lock_errno);
	row_l("VmLck after lock (kB)", s.vmlck_locked_kb, d.vmlck_locked_kb);
	row_l("Mlocked grew by (kB)", s.mlocked_delta_kb, d.mlocked_delta_kb);
	row_l("anonymous memory resident (%)", s.resident_pct, d.resident_pct);
	row_l("shared memfd resident (%)", s.file_resident_pct,
	      d.file_resident_pct);
	row_s("PROT_NONE mapping locked", s.prot_none_locked,
	      d.prot_none_locked);
	row_l("PROT_NONE mapping resident (%)", s.prot_none_resident_pct,
	      d.prot_none_resident_pct);
	row_s("later mmap locked (MCL_FUTURE)", s.new_map_locked,
	      d.new_map_locked);
	row_l("later mmap resident (%)", s.new_map_resident_pct,
	      d.new_map_resident_pct);
	row_l("unlock: return value", s.unlock_ret, d.unlock_ret);
	row_l("VmLck after unlock (kB)", s.vmlck_unlocked_kb,
	      d.vmlck_unlocked_kb);
	row_l("Mlocked left after unlock (kB)", s.mlocked_residue_kb,
	      d.mlocked_residue_kb);
	printf("  %-34s %12.1f %14.1f   (device/syscall %.2f)\n",
	       "time to lock (ms)", s.lock_ms, d.lock_ms,
	       s.lock_ms > 0 ? d.lock_ms / s.lock_ms : 0);
	print_counters();

	if (mismatches) {
		printf("\nmlockdev-demo: %d difference(s) between the paths\n",
		       mismatches);
		return 1;
	}
	printf("\nmlockdev-demo: both paths left the kernel in the same state\n");
	return 0;
}
