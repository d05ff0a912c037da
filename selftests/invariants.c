// SPDX-License-Identifier: GPL-2.0
/*
 * invariants.c - see invariants.h.
 *
 * Files are read with open()/read() into static buffers: no malloc(), no
 * stdio, so that the differential suite's parent can call this between
 * scenarios without changing the address space its children inherit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "invariants.h"

#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)

/* ------------------------------------------------------------------ */
/* A line reader over one /proc file at a time                         */

#define INV_LINE_BUF	(64 * 1024)

static struct {
	int fd;
	size_t len, pos;
	bool eof;
	char buf[INV_LINE_BUF + 1];
} rd = { .fd = -1 };

static int rd_open(const char *path)
{
	rd.fd = open(path, O_RDONLY | O_CLOEXEC);
	rd.len = rd.pos = 0;
	rd.eof = false;
	return rd.fd < 0 ? -1 : 0;
}

static void rd_close(void)
{
	if (rd.fd >= 0)
		close(rd.fd);
	rd.fd = -1;
}

/* The next line, NUL-terminated, without its newline; NULL at the end. */
static char *rd_next(void)
{
	char *line, *nl;

	for (;;) {
		nl = memchr(rd.buf + rd.pos, '\n', rd.len - rd.pos);
		if (nl || rd.eof || (rd.pos == 0 && rd.len == INV_LINE_BUF))
			break;
		memmove(rd.buf, rd.buf + rd.pos, rd.len - rd.pos);
		rd.len -= rd.pos;
		rd.pos = 0;
		ssize_t n = read(rd.fd, rd.buf + rd.len, INV_LINE_BUF - rd.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rd.eof = true;
		else
			rd.len += n;
	}
	if (rd.pos >= rd.len)
		return NULL;
	line = rd.buf + rd.pos;
	if (!nl)
		nl = rd.buf + rd.len;
	*nl = '\0';
	rd.pos = nl - rd.buf + 1;
	if (rd.pos > rd.len)
		rd.pos = rd.len;
	return line;
}

/* ------------------------------------------------------------------ */
/* Counters                                                            */

static int write_text(const char *path, const char *text)
{
	size_t n = strlen(text);
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, text, n) != (ssize_t)n)
		ret = -1;
	close(fd);
	return ret;
}

int inv_settle(void)
{
	static bool no_move_pages;
	void *nowhere[1] = { NULL };
	int node[1] = { 0 };
	int status[1];

	/*
	 * One unmapped "page" is enough: move_pages() disables the LRU caches
	 * (draining all of them) before it looks at the pages.
	 */
	if (!no_move_pages &&
	    syscall(SYS_move_pages, 0, 1UL, nowhere, node, status, 0) < 0 &&
	    errno == ENOSYS)
		no_move_pages = true;
	if (no_move_pages && write_text("/proc/sys/vm/drop_caches", "1"))
		return -1;
	return write_text("/proc/sys/vm/stat_refresh", "1");
}

int64_t inv_meminfo_kb(const char *field)
{
	size_t n = strlen(field);
	int64_t value = -1;
	char *line;

	if (rd_open("/proc/meminfo"))
		return -1;
	while ((line = rd_next()))
		if (!strncmp(line, field, n) && line[n] == ':') {
			value = strtoll(line + n + 1, NULL, 10);
			break;
		}
	rd_close();
	return value;
}

int64_t inv_vmstat(const char *name)
{
	size_t n = strlen(name);
	int64_t value = -1;
	char *line;

	if (rd_open("/proc/vmstat"))
		return -1;
	while ((line = rd_next()))
		if (!strncmp(line, name, n) && line[n] == ' ') {
			value = strtoll(line + n + 1, NULL, 10);
			break;
		}
	rd_close();
	return value;
}

#define KPF_CHUNK	4096
static uint64_t kpf_chunk[KPF_CHUNK];

int64_t inv_count_mlocked_pfns(int64_t *unevictable)
{
	int64_t mlocked = 0, unev = 0;
	off_t off = 0;
	ssize_t got;
	int fd;

	fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((got = pread(fd, kpf_chunk, sizeof(kpf_chunk), off)) > 0) {
		size_t i, n = got / sizeof(kpf_chunk[0]);

		for (i = 0; i < n; i++) {
			mlocked += kpf_chunk[i] >> INV_KPF_MLOCKED & 1;
			unev += kpf_chunk[i] >> INV_KPF_UNEVICTABLE & 1;
		}
		off += n * sizeof(kpf_chunk[0]);
	}
	close(fd);
	if (got < 0)
		return -1;
	if (unevictable)
		*unevictable = unev;
	return mlocked;
}

int inv_read(struct inv_counters *c, bool scan_pfns)
{
	int ret = inv_settle();

	c->mlocked_kb = inv_meminfo_kb("Mlocked");
	c->unevictable_kb = inv_meminfo_kb("Unevictable");
	c->stranded = inv_vmstat("unevictable_pgs_stranded");
	c->cleared = inv_vmstat("unevictable_pgs_cleared");
	c->mlocked_pfns = scan_pfns ? inv_count_mlocked_pfns(NULL) : -1;
	if (c->mlocked_kb < 0 || c->unevictable_kb < 0 || c->stranded < 0 ||
	    c->cleared < 0)
		ret = -1;
	return ret;
}

/* Append "; "-separated text to @why. */
static void __attribute__((format(printf, 3, 4)))
add_why(char *why, size_t size, const char *fmt, ...)
{
	size_t len = strlen(why);
	va_list ap;

	if (len + 3 >= size)
		return;
	if (len) {
		strcpy(why + len, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(why + len, size - len, fmt, ap);
	va_end(ap);
}

int inv_compare(const struct inv_counters *base,
		const struct inv_counters *now, unsigned int checks,
		char *why, size_t why_size)
{
	int bad = 0;

	why[0] = '\0';
	if ((checks & INV_MLOCKED) && now->mlocked_kb > base->mlocked_kb) {
		add_why(why, why_size, "Mlocked %+lld kB over the baseline",
			(long long)(now->mlocked_kb - base->mlocked_kb));
		bad++;
	}
	if ((checks & INV_UNEVICTABLE) &&
	    now->unevictable_kb > base->unevictable_kb) {
		add_why(why, why_size, "Unevictable %+lld kB over the baseline",
			(long long)(now->unevictable_kb - base->unevictable_kb));
		bad++;
	}
	if ((checks & INV_STRANDED) && now->stranded != base->stranded) {
		add_why(why, why_size, "unevictable_pgs_stranded moved by %lld",
			(long long)(now->stranded - base->stranded));
		bad++;
	}
	if ((checks & INV_CLEARED) && now->cleared != base->cleared) {
		add_why(why, why_size, "unevictable_pgs_cleared moved by %lld",
			(long long)(now->cleared - base->cleared));
		bad++;
	}
	if ((checks & INV_PFNS) && base->mlocked_pfns >= 0 &&
	    now->mlocked_pfns > base->mlocked_pfns) {
		add_why(why, why_size, "%lld more pages with KPF_MLOCKED in "
			"/proc/kpageflags than at the baseline",
			(long long)(now->mlocked_pfns - base->mlocked_pfns));
		bad++;
	}
	return bad;
}

/* ------------------------------------------------------------------ */
/* Page flags of mapped pages                                          */

#define PAGEMAP_CHUNK	512
static uint64_t pagemap_chunk[PAGEMAP_CHUNK];

/*
 * Count the present pages of [@start, @end) with KPF_MLOCKED (and
 * KPF_UNEVICTABLE); *@first gets the address of the first mlocked one.
 */
static int count_flags(int pagemap_fd, int kpf_fd, uint64_t start,
		       uint64_t end, unsigned long *mlocked,
		       unsigned long *unevictable, uint64_t *first)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t addr = start;

	while (addr < end) {
		size_t n = (end - addr) / page, i;
		ssize_t got;

		if (n > PAGEMAP_CHUNK)
			n = PAGEMAP_CHUNK;
		got = pread(pagemap_fd, pagemap_chunk, n * 8, addr / page * 8);
		if (got <= 0)
			return got < 0 ? errno : EIO;
		n = got / 8;
		for (i = 0; i < n; i++) {
			uint64_t pm = pagemap_chunk[i], kpf = 0;

			if (!(pm & PM_PRESENT) || !(pm & PM_PFN_MASK))
				continue;
			if (pread(kpf_fd, &kpf, 8, (pm & PM_PFN_MASK) * 8) != 8)
				continue;
			if (kpf >> INV_KPF_MLOCKED & 1) {
				if (!*mlocked && first)
					*first = addr + i * page;
				++*mlocked;
			}
			if (unevictable && (kpf >> INV_KPF_UNEVICTABLE & 1))
				++*unevictable;
		}
		addr += n * page;
	}
	return 0;
}

static void proc_path(char *buf, size_t n, pid_t pid, const char *what)
{
	if (pid > 0)
		snprintf(buf, n, "/proc/%d/%s", (int)pid, what);
	else
		snprintf(buf, n, "/proc/self/%s", what);
}

int inv_unlocked_vmas(pid_t pid, struct inv_vma_report *out)
{
	unsigned long start = 0, end = 0;
	char path[64], name[64] = "";
	int pagemap_fd, kpf_fd, err = 0;
	long rss_kb = 0;
	char *line;

	memset(out, 0, sizeof(*out));
	proc_path(path, sizeof(path), pid, "pagemap");
	pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pagemap_fd < 0)
		return errno;
	kpf_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (kpf_fd < 0) {
		err = errno;
		close(pagemap_fd);
		return err;
	}
	proc_path(path, sizeof(path), pid, "smaps");
	if (rd_open(path)) {
		err = errno;
		goto out;
	}
	while ((line = rd_next())) {
		unsigned long s, e, mlocked = 0;
		uint64_t first = 0;
		int at = 0;

		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &s, &e, &at) >= 2 &&
		    at) {
			start = s;
			end = e;
			snprintf(name, sizeof(name), "%s", line + at);
			rss_kb = 0;
			continue;
		}
		if (!strncmp(line, "Rss:", 4)) {
			rss_kb = strtol(line + 4, NULL, 10);
			continue;
		}
		if (strncmp(line, "VmFlags:", 8))
			continue;
		/* Locked, or nothing present (the zero page is never mlocked). */
		if (strstr(line + 8, " lo") || !rss_kb)
			continue;
		err = count_flags(pagemap_fd, kpf_fd, start, end, &mlocked,
				  NULL, &first);
		if (err)
			break;
		if (!mlocked)
			continue;
		if (!out->pages) {
			out->first_addr = first;
			snprintf(out->first_name, sizeof(out->first_name),
				 "%s", name[0] ? name : "[anon]");
		}
		out->vmas++;
		out->pages += mlocked;
	}
	rd_close();
out:
	close(kpf_fd);
	close(pagemap_fd);
	return err;
}

#define MINCORE_CHUNK	4096
static unsigned char mincore_vec[MINCORE_CHUNK];

int inv_file_pages(int fd, size_t len, struct inv_file_report *out)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), off, i, n;
	int pagemap_fd, kpf_fd, err = 0;
	volatile char *p;

	memset(out, 0, sizeof(*out));
	out->pages = len / page;
	if (!len)
		return 0;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return errno;
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	kpf_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (pagemap_fd < 0 || kpf_fd < 0) {
		err = errno;
		goto out;
	}
	/* Map what is cached, and only that: a read fault on a hole allocates. */
	for (off = 0; off < len; off += n * page) {
		n = (len - off) / page;
		if (n > MINCORE_CHUNK)
			n = MINCORE_CHUNK;
		if (mincore((void *)(p + off), n * page, mincore_vec)) {
			err = errno;
			goto out;
		}
		for (i = 0; i < n; i++)
			if (mincore_vec[i] & 1) {
				out->cached++;
				(void)p[off + i * page];
			}
	}
	err = count_flags(pagemap_fd, kpf_fd, (uintptr_t)p, (uintptr_t)p + len,
			  &out->mlocked, &out->unevictable, NULL);
out:
	if (kpf_fd >= 0)
		close(kpf_fd);
	if (pagemap_fd >= 0)
		close(pagemap_fd);
	munmap((void *)p, len);
	return err;
}
