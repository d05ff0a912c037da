/* SPDX-License-Identifier: GPL-2.0 */
/*
 * invariants.h - the "nothing stranded" invariant of issue 8, in one
 * place, for the differential, stress, adversity and residency tests and
 * for mlockdev_invariants (the check at the end of a guest run):
 *
 *  - no folio is PG_mlocked (KPF_MLOCKED, bit 33 of /proc/kpageflags)
 *    unless a VM_LOCKED VMA maps it: checked against a process's VMAs
 *    without `lo`, and against the pages of a file that outlives the
 *    processes that locked it;
 *  - /proc/meminfo Mlocked: and Unevictable: are back to their baseline
 *    once the processes that locked are gone; so is the number of pages
 *    with KPF_MLOCKED in the whole of /proc/kpageflags;
 *  - /proc/vmstat unevictable_pgs_stranded and _cleared do not move where
 *    only the device locks and unlocks.  (The kernel's own munlock counts
 *    stranded folios when another path has isolated them, so where the
 *    system call or the kernel's unmap paths take part, compare with a
 *    syscall-only run, not with zero.)
 *
 * Counters are read after inv_settle(): per-CPU LRU and mlock batches are
 * drained on every CPU and per-CPU vmstat deltas folded in, or a page
 * munlocked a moment ago still counts (newer kernels drain late).
 *
 * Nothing here calls malloc() or stdio, and no function maps memory
 * except inv_file_pages(), which maps the file it is asked about: the
 * differential suite calls these between scenarios and must keep its own
 * address space unchanged.
 */
#ifndef MLOCKDEV_INVARIANTS_H
#define MLOCKDEV_INVARIANTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* include/linux/kernel-page-flags.h; KPF_MLOCKED is not in the uapi. */
#define INV_KPF_UNEVICTABLE	18
#define INV_KPF_MLOCKED		33

/* System-wide counters of locked memory. */
struct inv_counters {
	int64_t mlocked_kb;		/* /proc/meminfo Mlocked: */
	int64_t unevictable_kb;		/* /proc/meminfo Unevictable: */
	int64_t stranded;		/* /proc/vmstat unevictable_pgs_stranded */
	int64_t cleared;		/* /proc/vmstat unevictable_pgs_cleared */
	int64_t mlocked_pfns;		/* PFNs with KPF_MLOCKED, -1: not scanned */
};

/* Which comparisons inv_compare() makes. */
#define INV_MLOCKED		(1u << 0)	/* Mlocked: not above baseline */
#define INV_UNEVICTABLE		(1u << 1)	/* Unevictable: not above */
#define INV_STRANDED		(1u << 2)	/* _stranded unchanged */
#define INV_CLEARED		(1u << 3)	/* _cleared unchanged */
#define INV_PFNS		(1u << 4)	/* KPF_MLOCKED pages not above */
#define INV_GONE		(INV_MLOCKED | INV_UNEVICTABLE | INV_PFNS)

/*
 * Drain every CPU's LRU and mlock batches and fold the per-CPU vmstat
 * deltas: move_pages(2) with a target node calls lru_cache_disable() (needs
 * CONFIG_NUMA); without NUMA, writing 1 to drop_caches calls
 * lru_add_drain_all().  Then vm.stat_refresh.  0 or -1 (errno set).
 */
int inv_settle(void);

/* A field of /proc/meminfo in kB (no settling), or -1. */
int64_t inv_meminfo_kb(const char *field);
/* A counter of /proc/vmstat, or -1. */
int64_t inv_vmstat(const char *name);

/*
 * Pages of the whole machine with KPF_MLOCKED (and, if @unevictable is
 * not NULL, with KPF_UNEVICTABLE), from /proc/kpageflags; -1 if it cannot
 * be read (not root, or no CONFIG_PROC_PAGE_MONITOR).
 */
int64_t inv_count_mlocked_pfns(int64_t *unevictable);

/* Settle, then read every counter (the PFN scan only if @scan_pfns). */
int inv_read(struct inv_counters *c, bool scan_pfns);

/*
 * Compare @now with @base as @checks asks.  Returns the number of
 * violations, described in @why ("Mlocked +256 kB; ..."); "" if none.
 */
int inv_compare(const struct inv_counters *base,
		const struct inv_counters *now, unsigned int checks,
		char *why, size_t why_size);

/* Pages of a process's VMAs without `lo` (VM_LOCKED) that are PG_mlocked. */
struct inv_vma_report {
	unsigned long vmas;		/* VMAs without `lo` that have some */
	unsigned long pages;		/* such pages in all of them */
	unsigned long first_addr;	/* the first such page */
	char first_name[64];		/* its VMA's name, if any */
};

/*
 * Walk /proc/PID/maps (0: self) and count, through pagemap and
 * kpageflags, the present PG_mlocked pages of every VMA without `lo` in
 * /proc/PID/smaps.  0 or an errno value.
 */
int inv_unlocked_vmas(pid_t pid, struct inv_vma_report *out);

/* The pages of a file that are in its page cache. */
struct inv_file_report {
	unsigned long pages;		/* pages in the range */
	unsigned long cached;		/* in the page cache (mincore) */
	unsigned long mlocked;		/* of those, KPF_MLOCKED */
	unsigned long unevictable;	/* of those, KPF_UNEVICTABLE */
};

/*
 * The pages of file @fd in [0, @len) that are in the page cache, and how
 * many of them are PG_mlocked or on the unevictable list.  The file is
 * mapped shared and read-only in the caller, which must not have locked
 * anything (MCL_FUTURE would lock the mapping); only pages already cached
 * are touched, so nothing is allocated in the file.  0 or an errno value.
 */
int inv_file_pages(int fd, size_t len, struct inv_file_report *out);

#endif /* MLOCKDEV_INVARIANTS_H */
