// SPDX-License-Identifier: GPL-2.0
/*
 * diff_snapshot.c - what the kernel shows about a child's memory, read
 * into a struct diff_snapshot.
 *
 * Everything here runs between the lock/unlock action and the snapshot,
 * so it must not change the address space it looks at: no stdio, no
 * malloc, no new mapping.  Files are read with open/read into static
 * buffers (which every child inherits, already touched, from the parent).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "diff.h"
#include "invariants.h"

const char *const diff_smaps_names[SM_NR] = {
	[SM_SIZE] = "Size",
	[SM_KERNEL_PAGE] = "KernelPageSize",
	[SM_MMU_PAGE] = "MMUPageSize",
	[SM_RSS] = "Rss",
	[SM_PSS] = "Pss",
	[SM_PSS_DIRTY] = "Pss_Dirty",
	[SM_SHARED_CLEAN] = "Shared_Clean",
	[SM_SHARED_DIRTY] = "Shared_Dirty",
	[SM_PRIVATE_CLEAN] = "Private_Clean",
	[SM_PRIVATE_DIRTY] = "Private_Dirty",
	[SM_REFERENCED] = "Referenced",		/* not compared */
	[SM_ANONYMOUS] = "Anonymous",
	[SM_KSM] = "KSM",
	[SM_LAZYFREE] = "LazyFree",
	[SM_ANON_HUGE] = "AnonHugePages",
	[SM_SHMEM_PMD] = "ShmemPmdMapped",
	[SM_FILE_PMD] = "FilePmdMapped",
	[SM_SHARED_HUGETLB] = "Shared_Hugetlb",
	[SM_PRIVATE_HUGETLB] = "Private_Hugetlb",
	[SM_SWAP] = "Swap",
	[SM_SWAP_PSS] = "SwapPss",
	[SM_LOCKED] = "Locked",
	[SM_THP_ELIGIBLE] = "THPeligible",
};

const char *const diff_status_names[ST_NR] = {
	[ST_VMPEAK] = "VmPeak",
	[ST_VMSIZE] = "VmSize",
	[ST_VMLCK] = "VmLck",
	[ST_VMPIN] = "VmPin",
	[ST_VMHWM] = "VmHWM",
	[ST_VMRSS] = "VmRSS",
	[ST_RSSANON] = "RssAnon",
	[ST_RSSFILE] = "RssFile",
	[ST_RSSSHMEM] = "RssShmem",
	[ST_VMDATA] = "VmData",
	[ST_VMSTK] = "VmStk",
	[ST_VMEXE] = "VmExe",
	[ST_VMLIB] = "VmLib",
	[ST_VMPTE] = "VmPTE",
	[ST_VMSWAP] = "VmSwap",
	[ST_HUGETLB] = "HugetlbPages",
};

const char *const diff_vmstat_names[VS_NR] = {
	[VS_MLOCKED] = "unevictable_pgs_mlocked",
	[VS_MUNLOCKED] = "unevictable_pgs_munlocked",
	[VS_CLEARED] = "unevictable_pgs_cleared",
	[VS_STRANDED] = "unevictable_pgs_stranded",
};

/* ------------------------------------------------------------------ */
/* Reading a /proc file line by line into a static buffer              */

#define LINE_BUF	(64 * 1024)

static struct {
	int fd;
	size_t len;		/* bytes in buf */
	size_t pos;		/* start of the next line */
	bool eof;
	char buf[LINE_BUF + 1];
} lines = { .fd = -1 };

/* A VMA header being parsed (static: no stack growth while parsing). */
static struct diff_vma header;

/* Pagemap entries of a piece of a VMA. */
#define PAGEMAP_CHUNK	512
static uint64_t pagemap_chunk[PAGEMAP_CHUNK];

static int lines_open(const char *path)
{
	lines.fd = open(path, O_RDONLY | O_CLOEXEC);
	lines.len = lines.pos = 0;
	lines.eof = false;
	return lines.fd < 0 ? -1 : 0;
}

static void lines_close(void)
{
	if (lines.fd >= 0)
		close(lines.fd);
	lines.fd = -1;
}

/* The next line without its newline, NUL-terminated; NULL at the end. */
static char *lines_next(void)
{
	char *line, *nl;

	for (;;) {
		nl = memchr(lines.buf + lines.pos, '\n', lines.len - lines.pos);
		if (nl || lines.eof || (lines.pos == 0 && lines.len == LINE_BUF))
			break;
		/* Move the partial line to the front and read more. */
		memmove(lines.buf, lines.buf + lines.pos, lines.len - lines.pos);
		lines.len -= lines.pos;
		lines.pos = 0;
		ssize_t n = read(lines.fd, lines.buf + lines.len,
				 LINE_BUF - lines.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			lines.eof = true;
		else
			lines.len += n;
	}
	if (lines.pos >= lines.len)
		return NULL;
	line = lines.buf + lines.pos;
	if (!nl)	/* last line without newline, or an overlong one */
		nl = lines.buf + lines.len;
	*nl = '\0';
	lines.pos = nl - lines.buf + 1;
	if (lines.pos > lines.len)
		lines.pos = lines.len;
	return line;
}

/*
 * "Key:   123 kB" -> 123 if line starts with key followed by ':'.  Read as
 * unsigned and kept modulo 2^64: the kernel prints VmLck as an unsigned
 * long, and on 6.1 a VMA of 8 TiB makes locked_vm negative.
 */
static bool key_value(const char *line, const char *key, int64_t *value)
{
	size_t n = strlen(key);

	if (strncmp(line, key, n) || line[n] != ':')
		return false;
	*value = (int64_t)strtoull(line + n + 1, NULL, 10);
	return true;
}

void diff_prefault(void)
{
	memset(lines.buf, 0, sizeof(lines.buf));
	memset(&header, 0, sizeof(header));
	memset(pagemap_chunk, 0, sizeof(pagemap_chunk));
}

/* ------------------------------------------------------------------ */
/* System-wide counters                                                */

/*
 * Bring Mlocked: up to date.  munlock of a folio is batched per CPU and
 * only reaches NR_MLOCK when the batch is drained; a child that exits
 * leaves such batches behind.  inv_settle() drains every CPU's LRU and
 * mlock batches and folds the per-CPU vmstat differences in (see
 * invariants.h for how).
 */
int diff_settle(void)
{
	return inv_settle();
}

int64_t diff_meminfo_kb(const char *key)
{
	int64_t value = -1, v;
	char *line;

	if (lines_open("/proc/meminfo"))
		return -1;
	while ((line = lines_next()))
		if (key_value(line, key, &v)) {
			value = v;
			break;
		}
	lines_close();
	return value;
}

int diff_read_vmstat(int64_t out[VS_NR])
{
	char *line;
	int i, found = 0;

	if (lines_open("/proc/vmstat"))
		return -1;
	for (i = 0; i < VS_NR; i++)
		out[i] = -1;
	while ((line = lines_next())) {
		for (i = 0; i < VS_NR; i++) {
			size_t n = strlen(diff_vmstat_names[i]);

			if (!strncmp(line, diff_vmstat_names[i], n) &&
			    line[n] == ' ') {
				out[i] = strtoll(line + n + 1, NULL, 10);
				found++;
			}
		}
	}
	lines_close();
	return found == VS_NR ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* /proc/self/status and /proc/self/maps                               */

int diff_read_status(int64_t out[ST_NR], uint64_t *cap_eff)
{
	char *line;
	int64_t v;
	int i;

	if (lines_open("/proc/self/status"))
		return -1;
	for (i = 0; i < ST_NR; i++)
		out[i] = 0;
	*cap_eff = 0;
	while ((line = lines_next())) {
		if (!strncmp(line, "CapEff:", 7)) {
			*cap_eff = strtoull(line + 7, NULL, 16);
			continue;
		}
		for (i = 0; i < ST_NR; i++)
			if (key_value(line, diff_status_names[i], &v)) {
				out[i] = v;
				break;
			}
	}
	lines_close();
	return 0;
}

uint64_t diff_stack_start(void)
{
	uint64_t start = 0, s, e;
	char *line;

	if (lines_open("/proc/self/maps"))
		return 0;
	while ((line = lines_next())) {
		size_t n = strlen(line);

		if (n >= 7 && !strcmp(line + n - 7, "[stack]") &&
		    sscanf(line, "%lx-%lx", &s, &e) == 2) {
			start = s;
			break;
		}
	}
	lines_close();
	return start;
}

/* ------------------------------------------------------------------ */
/* /proc/self/smaps                                                    */

/* "start-end perms offset maj:min inode   name" */
static bool parse_vma_header(const char *line, struct diff_vma *vma)
{
	unsigned long start, end, offset, inode;
	unsigned int maj, min;
	char perms[8];
	int name_at = 0;
	const char *name;

	if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &start, &end, perms,
		   &offset, &maj, &min, &inode, &name_at) < 7)
		return false;
	memset(vma, 0, sizeof(*vma));
	vma->start = start;
	vma->end = end;
	vma->offset = offset;
	vma->inode = inode;
	vma->dev_major = maj;
	vma->dev_minor = min;
	snprintf(vma->perms, sizeof(vma->perms), "%s", perms);
	name = name_at ? line + name_at : "";
	while (*name == ' ')
		name++;
	snprintf(vma->name, sizeof(vma->name), "%s", name);
	return true;
}

/*
 * "VmFlags: rd wr mr mw me ac sd lo" -> the same text.  6.1 has no
 * mnemonic for VM_LOCKONFAULT and prints "??" for it: store that as "lf",
 * so both kernels read alike.
 */
static void parse_vmflags(const char *text, struct diff_vma *vma)
{
	size_t out = 0;

	while (*text == ' ')
		text++;
	while (*text && out + 3 < sizeof(vma->vmflags)) {
		char a = text[0], b = text[1];

		if (!a || !b)
			break;
		if (a == '?' && b == '?') {
			a = 'l';
			b = 'f';
		}
		if (a == 'l' && b == 'o')
			vma->lo = 1;
		if (a == 'l' && b == 'f')
			vma->lf = 1;
		if (out)
			vma->vmflags[out++] = ' ';
		vma->vmflags[out++] = a;
		vma->vmflags[out++] = b;
		text += 2;
		while (*text == ' ')
			text++;
	}
	vma->vmflags[out] = '\0';
}

int diff_read_smaps(struct diff_snapshot *snap)
{
	struct diff_vma *vma = NULL;
	char *line;
	int64_t v;
	int i;

	snap->nvmas = 0;
	snap->locked_vma_kb = 0;
	if (lines_open("/proc/self/smaps")) {
		snprintf(snap->error, sizeof(snap->error),
			 "open /proc/self/smaps: %s", strerror(errno));
		return -1;
	}
	while ((line = lines_next())) {
		if (!strncmp(line, "VmFlags:", 8)) {
			if (vma)
				parse_vmflags(line + 8, vma);
			continue;
		}
		if (vma) {
			bool known = false;

			for (i = 0; i < SM_NR && !known; i++)
				if (key_value(line, diff_smaps_names[i], &v)) {
					vma->kb[i] = v;
					known = true;
				}
			if (known)
				continue;
		}
		/* Anything else that parses as a header starts a VMA. */
		if (!parse_vma_header(line, &header))
			continue;
		if (snap->nvmas == DIFF_MAX_VMAS) {
			lines_close();
			snprintf(snap->error, sizeof(snap->error),
				 "more than %d VMAs", DIFF_MAX_VMAS);
			return -1;
		}
		vma = &snap->vma[snap->nvmas++];
		*vma = header;
	}
	lines_close();

	for (i = 0; i < snap->nvmas; i++)
		if (snap->vma[i].lo)
			snap->locked_vma_kb += snap->vma[i].kb[SM_SIZE];
	return 0;
}

/* ------------------------------------------------------------------ */
/* Test mappings, page by page                                         */

#define PM_PRESENT	(1ULL << 63)
#define PM_SWAPPED	(1ULL << 62)
#define PM_FILE		(1ULL << 61)
#define PM_UFFD_WP	(1ULL << 57)
#define PM_EXCLUSIVE	(1ULL << 56)
#define PM_SOFT_DIRTY	(1ULL << 55)
#define PM_PFN_MASK	((1ULL << 55) - 1)

#define KPF_ANON	12
#define KPF_HUGE	17
#define KPF_THP		22
#define KPF_ZERO_PAGE	24
#define KPF_MLOCKED	33	/* not in the uapi header */

static uint16_t page_state(int pagemap_fd, int kpf_fd, uint64_t addr,
			   long page)
{
	unsigned char vec = 0;
	uint64_t pm = 0, kpf = 0, pfn;
	uint16_t st = 0;

	if (mincore((void *)(uintptr_t)addr, page, &vec))
		return errno == ENOMEM ? PG_UNMAPPED : 0;
	if (vec & 1)
		st |= PG_RESIDENT;
	if (pread(pagemap_fd, &pm, sizeof(pm), addr / page * sizeof(pm)) !=
	    sizeof(pm))
		return st;
	st |= (pm & PM_PRESENT ? PG_PRESENT : 0) |
	      (pm & PM_SWAPPED ? PG_SWAPPED : 0) |
	      (pm & PM_FILE ? PG_FILE : 0) |
	      (pm & PM_UFFD_WP ? PG_UFFD_WP : 0) |
	      (pm & PM_EXCLUSIVE ? PG_EXCLUSIVE : 0) |
	      (pm & PM_SOFT_DIRTY ? PG_SOFT_DIRTY : 0);
	pfn = pm & PM_PFN_MASK;
	if (!(pm & PM_PRESENT) || !pfn || kpf_fd < 0)
		return st;
	if (pread(kpf_fd, &kpf, sizeof(kpf), pfn * sizeof(kpf)) != sizeof(kpf))
		return st;
	st |= (kpf >> KPF_MLOCKED & 1 ? PG_MLOCKED : 0) |
	      (kpf >> KPF_ANON & 1 ? PG_ANON : 0) |
	      (kpf >> KPF_THP & 1 ? PG_THP : 0) |
	      (kpf >> KPF_HUGE & 1 ? PG_HUGE : 0) |
	      (kpf >> KPF_ZERO_PAGE & 1 ? PG_ZERO : 0);
	return st;
}

/*
 * How many pages of each VMA are PG_mlocked: smaps "Locked:" only says
 * which pages sit in VM_LOCKED VMAs, this says which pages the kernel
 * (or the module) really marked.
 */
static void count_mlocked(struct diff_snapshot *snap, long page)
{
	int pagemap_fd, kpf_fd, i;

	pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	kpf_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	for (i = 0; pagemap_fd >= 0 && kpf_fd >= 0 && i < snap->nvmas; i++) {
		struct diff_vma *v = &snap->vma[i];
		uint64_t addr = v->start;

		/*
		 * Nothing present, nothing mlocked (Rss leaves out only the
		 * zero pages, which are never mlocked); and a VMA of
		 * terabytes would take minutes to read through pagemap.
		 */
		if (!v->kb[SM_RSS])
			continue;
		while (addr < v->end) {
			size_t n = (v->end - addr) / page, j;
			ssize_t got;

			if (n > PAGEMAP_CHUNK)
				n = PAGEMAP_CHUNK;
			got = pread(pagemap_fd, pagemap_chunk, n * 8,
				    addr / page * 8);
			if (got <= 0)
				break;
			n = got / 8;
			for (j = 0; j < n; j++) {
				uint64_t pm = pagemap_chunk[j], kpf = 0;

				if (!(pm & PM_PRESENT) || !(pm & PM_PFN_MASK))
					continue;
				if (pread(kpf_fd, &kpf, sizeof(kpf),
					  (pm & PM_PFN_MASK) * 8) == 8 &&
				    (kpf >> KPF_MLOCKED & 1))
					v->mlocked_pages++;
			}
			addr += n * page;
		}
	}
	if (kpf_fd >= 0)
		close(kpf_fd);
	if (pagemap_fd >= 0)
		close(pagemap_fd);
}

int diff_read_map_pages(struct diff_map *map, long page)
{
	int pagemap_fd, kpf_fd;
	uint32_t i;

	pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap_fd < 0)
		return -1;
	kpf_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	map->npages = map->len / page;
	if (map->npages > DIFF_MAX_MAP_PAGES)
		map->npages = DIFF_MAX_MAP_PAGES;
	for (i = 0; i < map->npages; i++)
		map->page[i] = page_state(pagemap_fd, kpf_fd,
					  map->addr + (uint64_t)i * page, page);
	if (kpf_fd >= 0)
		close(kpf_fd);
	close(pagemap_fd);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The whole snapshot                                                  */

int diff_take_snapshot(struct diff_ctx *ctx)
{
	struct diff_snapshot *snap = ctx->snap;
	int64_t mlocked;
	int i;

	if (diff_settle()) {
		snprintf(snap->error, sizeof(snap->error),
			 "cannot write /proc/sys/vm/stat_refresh: %s",
			 strerror(errno));
		return -1;
	}
	mlocked = diff_meminfo_kb("Mlocked");
	if (mlocked < 0) {
		snprintf(snap->error, sizeof(snap->error),
			 "no Mlocked: in /proc/meminfo");
		return -1;
	}
	snap->mlocked_delta_kb = mlocked - snap->mlocked_base_kb;

	if (diff_read_status(snap->status, &snap->cap_eff)) {
		snprintf(snap->error, sizeof(snap->error),
			 "cannot read /proc/self/status: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < snap->nmaps; i++)
		if (diff_read_map_pages(&snap->map[i], ctx->page)) {
			snprintf(snap->error, sizeof(snap->error),
				 "cannot read /proc/self/pagemap: %s",
				 strerror(errno));
			return -1;
		}
	if (diff_read_smaps(snap))
		return -1;
	count_mlocked(snap, ctx->page);
	snap->complete = 1;
	return 0;
}
