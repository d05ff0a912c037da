// SPDX-License-Identifier: GPL-2.0
/*
 * residency_common.c - see residency_common.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <linux/mlockdev.h>

#include "invariants.h"
#include "residency_common.h"

#define PM_PFN_MASK	((1ULL << 55) - 1)
#define PM_SWAP		(1ULL << 62)
#define PM_PRESENT	(1ULL << 63)
/* include/linux/kernel-page-flags.h (KPF_MLOCKED is not in the uapi). */
#define KPF_UNEVICTABLE	18
#define KPF_MLOCKED	33

static int rc_dev_fd = -1;

const char *rc_path_name(enum rc_path path)
{
	return path == RC_DEVICE ? "device" : "syscall";
}

int rc_device_open(void)
{
	if (rc_dev_fd >= 0)
		return 0;
	rc_dev_fd = open(RC_DEV_PATH, O_RDWR);
	return rc_dev_fd < 0 ? errno : 0;
}

int rc_lockall(enum rc_path path, int flags)
{
	struct mlockdev_lockall la;
	int ret;

	if (path == RC_SYSCALL)
		return mlockall(flags) ? errno : 0;
	if (rc_dev_fd < 0)
		return EBADF;
	memset(&la, 0, sizeof(la));
	la.flags = (unsigned int)flags;
	ret = ioctl(rc_dev_fd, MLOCKDEV_IOC_LOCK_ALL, &la);
	return ret ? errno : 0;
}

int rc_unlockall(enum rc_path path)
{
	struct mlockdev_unlockall ua;
	int ret;

	if (path == RC_SYSCALL)
		return munlockall() ? errno : 0;
	if (rc_dev_fd < 0)
		return EBADF;
	memset(&ua, 0, sizeof(ua));
	ret = ioctl(rc_dev_fd, MLOCKDEV_IOC_UNLOCK_ALL, &ua);
	return ret ? errno : 0;
}

double rc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void rc_sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int rc_write_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	n = write(fd, text, len);
	if (n < 0)
		err = errno;
	else if ((size_t)n != len)
		err = EIO;
	close(fd);
	return err;
}

int rc_read_file(const char *path, char *buf, size_t size)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	while (off + 1 < size) {
		n = read(fd, buf + off, size - 1 - off);
		if (n < 0) {
			int err = errno;

			close(fd);
			return err;
		}
		if (!n)
			break;
		off += n;
	}
	buf[off] = '\0';
	close(fd);
	return 0;
}

static FILE *rc_open_proc(pid_t pid, const char *what)
{
	char path[64];

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	else if (pid == RC_THREAD_SELF)
		snprintf(path, sizeof(path), "/proc/thread-self/%s", what);
	else
		snprintf(path, sizeof(path), "/proc/self/%s", what);
	return fopen(path, "re");
}

/* "Field:   123 kB" lines of @f: the value of @field, or -1. */
static long rc_kb_field(FILE *f, const char *field)
{
	size_t flen = strlen(field);
	char line[512];
	long val = -1;

	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, flen) || line[flen] != ':')
			continue;
		if (sscanf(line + flen + 1, "%ld", &val) != 1)
			val = -1;
		break;
	}
	return val;
}

long rc_status_kb(pid_t pid, const char *field)
{
	FILE *f = rc_open_proc(pid, "status");
	long val;

	if (!f)
		return -1;
	val = rc_kb_field(f, field);
	fclose(f);
	return val;
}

long rc_meminfo_kb(const char *field)
{
	FILE *f;
	long val;

	/*
	 * Drain every CPU's LRU and mlock batches, then fold the per-CPU
	 * deltas into the global counters: since 7.x, exit and munmap no
	 * longer drain the local batches, so a munlocked folio can sit in
	 * one, still counted as mlocked, until someone drains it.
	 */
	inv_settle();
	f = fopen("/proc/meminfo", "re");
	if (!f)
		return -1;
	val = rc_kb_field(f, field);
	fclose(f);
	return val;
}

long long rc_vmstat(const char *name)
{
	size_t nlen = strlen(name);
	char line[256];
	long long val = -1;
	FILE *f;

	f = fopen("/proc/vmstat", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, nlen) || line[nlen] != ' ')
			continue;
		if (sscanf(line + nlen + 1, "%lld", &val) != 1)
			val = -1;
		break;
	}
	fclose(f);
	return val;
}

/* A VMA header line of smaps: "start-end perms ...". */
static bool rc_smaps_header(const char *line, unsigned long *start,
			    unsigned long *end)
{
	char perms[8];

	return sscanf(line, "%lx-%lx %7s", start, end, perms) == 3;
}

static bool rc_has_flag(const char *vmflags, const char *flag)
{
	char buf[512], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", vmflags);
	for (tok = strtok_r(buf, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save))
		if (!strcmp(tok, flag))
			return true;
	return false;
}

int rc_smaps_locked(pid_t pid, struct rc_locked_vmas *out)
{
	unsigned long start, end, size_kb = 0;
	char line[1024];
	long kb;
	FILE *f;

	memset(out, 0, sizeof(*out));
	f = rc_open_proc(pid, "smaps");
	if (!f)
		return errno;
	while (fgets(line, sizeof(line), f)) {
		if (rc_smaps_header(line, &start, &end)) {
			out->vmas++;
			size_kb = (end - start) / 1024;
			continue;
		}
		if (sscanf(line, "Locked: %ld kB", &kb) == 1) {
			out->locked_kb += kb;
			continue;
		}
		if (strncmp(line, "VmFlags:", 8))
			continue;
		if (rc_has_flag(line + 8, "lo")) {
			out->lo_vmas++;
			out->lo_kb += size_kb;
		}
		if (rc_has_flag(line + 8, "lf")) {
			out->lf_vmas++;
			if (!rc_has_flag(line + 8, "lo"))
				out->lf_without_lo++;
		}
	}
	fclose(f);
	return 0;
}

int rc_check_vmlck(pid_t pid, char *why, size_t why_size)
{
	struct rc_locked_vmas lv;
	long vmlck;
	int err;

	why[0] = '\0';
	/*
	 * Two reads that must agree: retry once in case something (a worker
	 * that was not told to stop) changed the map between them.
	 */
	for (int attempt = 0; attempt < 2; attempt++) {
		vmlck = rc_status_kb(pid, "VmLck");
		err = rc_smaps_locked(pid, &lv);
		if (err) {
			snprintf(why, why_size, "smaps: %s", strerror(err));
			return -1;
		}
		if (vmlck == (long)lv.lo_kb && !lv.lf_without_lo)
			return 0;
	}
	snprintf(why, why_size,
		 "VmLck %ld kB, `lo` VMAs %lu of %lu totalling %lu kB, %lu `lf` VMAs without `lo`",
		 vmlck, lv.lo_vmas, lv.vmas, lv.lo_kb, lv.lf_without_lo);
	return -1;
}

size_t rc_page_size(void)
{
	static size_t ps;

	if (!ps)
		ps = (size_t)sysconf(_SC_PAGESIZE);
	return ps;
}

int rc_residency(pid_t pid, const void *addr, size_t len,
		 struct rc_residency *out)
{
	size_t ps = rc_page_size();
	unsigned long npages = len / ps, i;
	uint64_t *pm = NULL;
	unsigned char *vec = NULL;
	char path[64];
	int fd = -1, kfd = -1, err = 0;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	out->pages = npages;
	pm = calloc(npages, sizeof(*pm));
	vec = calloc(npages, 1);
	if (!pm || !vec) {
		err = ENOMEM;
		goto out;
	}
	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/%s/pagemap",
			 pid ? "thread-self" : "self");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		goto out;
	}
	n = pread(fd, pm, npages * sizeof(*pm),
		  (off_t)((uintptr_t)addr / ps * sizeof(*pm)));
	if (n != (ssize_t)(npages * sizeof(*pm))) {
		err = n < 0 ? errno : EIO;
		goto out;
	}
	if (pid <= 0 && mincore((void *)addr, len, vec)) {
		err = errno;
		goto out;
	}
	kfd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	out->have_kpageflags = kfd >= 0;
	for (i = 0; i < npages; i++) {
		uint64_t e = pm[i], kf;

		if (vec[i] & 1)
			out->incore++;
		if (e & PM_SWAP)
			out->swapped++;
		if (!(e & PM_PRESENT))
			continue;
		out->present++;
		if (kfd < 0)
			continue;
		if (!(e & PM_PFN_MASK)) {
			/* PFNs hidden (no CAP_SYS_ADMIN): no page flags. */
			out->have_kpageflags = false;
			continue;
		}
		if (pread(kfd, &kf, sizeof(kf),
			  (off_t)((e & PM_PFN_MASK) * sizeof(kf))) != sizeof(kf)) {
			out->have_kpageflags = false;
			continue;
		}
		if (kf & (1ULL << KPF_MLOCKED))
			out->mlocked++;
		if (kf & (1ULL << KPF_UNEVICTABLE))
			out->unevictable++;
	}
out:
	if (kfd >= 0)
		close(kfd);
	if (fd >= 0)
		close(fd);
	free(pm);
	free(vec);
	return err;
}

int rc_vma_swap_rss(pid_t pid, const void *addr, long *swap_kb, long *rss_kb)
{
	unsigned long start, end, a = (uintptr_t)addr;
	bool in = false, found = false;
	char line[1024];
	long kb;
	FILE *f;

	*swap_kb = -1;
	*rss_kb = -1;
	f = rc_open_proc(pid, "smaps");
	if (!f)
		return errno;
	while (fgets(line, sizeof(line), f)) {
		if (rc_smaps_header(line, &start, &end)) {
			if (found)
				break;
			in = a >= start && a < end;
			found = in;
			continue;
		}
		if (!in)
			continue;
		if (sscanf(line, "Swap: %ld kB", &kb) == 1)
			*swap_kb = kb;
		else if (sscanf(line, "Rss: %ld kB", &kb) == 1)
			*rss_kb = kb;
	}
	fclose(f);
	return found ? 0 : ENOENT;
}

/* splitmix64: cheap, and no two pages of a fill look alike. */
static uint64_t rc_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/*
 * One 64-bit word per 64 bytes is random, the rest repeats it: the page
 * is neither zero nor same-filled (zram stores those specially) and still
 * compresses, which keeps zram small.
 */
static uint64_t rc_word(uint64_t seed, size_t off)
{
	return rc_mix(seed ^ (off / 64)) | 1;
}

void rc_fill(void *p, size_t len, uint64_t seed)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		w[i] = rc_word(seed, i * sizeof(*w));
}

unsigned long rc_check_fill(const void *p, size_t len, uint64_t seed)
{
	const uint64_t *w = p;
	size_t ps = rc_page_size(), per_page = ps / sizeof(*w);
	unsigned long bad = 0;
	size_t pg, i;

	for (pg = 0; pg < len / ps; pg++) {
		for (i = pg * per_page; i < (pg + 1) * per_page; i++) {
			if (w[i] != rc_word(seed, i * sizeof(*w))) {
				bad++;
				break;
			}
		}
	}
	return bad;
}

unsigned long rc_env_ulong(const char *name, unsigned long def)
{
	const char *s = getenv(name);
	unsigned long v;
	char *end;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end)
		return def;
	return v;
}

bool rc_case_selected(const char *name)
{
	const char *list = getenv("MLOCKDEV_CASES"), *p;
	size_t n;

	if (!list || !*list)
		return true;
	for (p = list; *p; p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		if (n && !strncmp(name, p, n))
			return true;
	}
	return false;
}

double rc_populate_rate(void)
{
	size_t len = 32 * RC_MIB;
	int thp = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
	double t0, dt;
	void *p;

	/* Small pages, like the mappings of the tests. */
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	t0 = rc_now();
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	dt = rc_now() - t0;
	prctl(PR_SET_THP_DISABLE, thp > 0, 0, 0, 0);
	if (p == MAP_FAILED)
		return 10;
	munmap(p, len);
	return dt > 0 ? len / RC_MIB / dt : 1000;
}

double rc_reap(pid_t pid, int *status, double limit)
{
	double t0 = rc_now();

	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid)
			return rc_now() - t0;
		if (w < 0 && errno != EINTR)
			return -1;
		if (rc_now() - t0 > limit) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return -1;
		}
		rc_sleep_ms(1);
	}
}
