/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differential suite (mlockdev_diff_test): shared definitions.
 *
 * A scenario is a list of steps.  It runs twice, each time in a fresh
 * child of the same parent: once with every lock/unlock step going through
 * the system calls (DIFF_SYSCALL), once through /dev/mlockdev
 * (DIFF_DEVICE).  Each child ends with a snapshot of everything the kernel
 * shows about its memory, sent back through a pipe as one fixed-size
 * struct diff_snapshot; the parent compares the two.
 *
 *   mlockdev_diff_test.c  the scenario table, the children, the report
 *   diff_steps.c          the step functions the table is made of
 *   diff_snapshot.c       reading /proc into a snapshot, without malloc
 *   diff_compare.c        the comparator and its documented divergences
 *   diff_adversity.c      steps needing a second thread, userfaultfd,
 *                         protection keys, signals or huge VMAs
 *
 * See Documentation/differential.rst.
 */
#ifndef MLOCKDEV_DIFF_H
#define MLOCKDEV_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sizes of the fixed snapshot.  Exceeding one fails the scenario. */
#define DIFF_MAX_STEPS		16	/* steps per scenario */
#define DIFF_MAX_FACTS		32	/* scenario-specific results */
#define DIFF_MAX_MAPS		12	/* test mappings followed page by page */
#define DIFF_MAX_MAP_PAGES	1024	/* pages followed per test mapping */
#define DIFF_MAX_VMAS		384	/* VMAs of the whole address space */
#define DIFF_LABEL_LEN		24
#define DIFF_NAME_LEN		64
#define DIFF_VMFLAGS_LEN	128
#define DIFF_ERROR_LEN		192

enum diff_path {
	DIFF_SYSCALL,		/* mlockall(2), munlockall(2) */
	DIFF_DEVICE,		/* ioctls on /dev/mlockdev */
	DIFF_NR_PATHS,
};

/*
 * Numeric fields of one smaps entry, in kB (THPeligible: 0 or 1).  All
 * are compared except Referenced (see diff_compare.c).
 */
enum diff_smaps_field {
	SM_SIZE, SM_KERNEL_PAGE, SM_MMU_PAGE, SM_RSS, SM_PSS, SM_PSS_DIRTY,
	SM_SHARED_CLEAN, SM_SHARED_DIRTY, SM_PRIVATE_CLEAN, SM_PRIVATE_DIRTY,
	SM_REFERENCED, SM_ANONYMOUS, SM_KSM, SM_LAZYFREE, SM_ANON_HUGE,
	SM_SHMEM_PMD, SM_FILE_PMD, SM_SHARED_HUGETLB, SM_PRIVATE_HUGETLB,
	SM_SWAP, SM_SWAP_PSS, SM_LOCKED, SM_THP_ELIGIBLE,
	SM_NR,
};
extern const char *const diff_smaps_names[SM_NR];

/* Fields of /proc/self/status, in kB. */
enum diff_status_field {
	ST_VMPEAK, ST_VMSIZE, ST_VMLCK, ST_VMPIN, ST_VMHWM, ST_VMRSS,
	ST_RSSANON, ST_RSSFILE, ST_RSSSHMEM, ST_VMDATA, ST_VMSTK, ST_VMEXE,
	ST_VMLIB, ST_VMPTE, ST_VMSWAP, ST_HUGETLB,
	ST_NR,
};
extern const char *const diff_status_names[ST_NR];

/*
 * Set for a family whose device path faults from another thread (pidfd:
 * the parent; workers: kernel workers) on a kernel with split RSS
 * counting (before 6.2): the faulting thread's RSS deltas are cached per
 * task and reach mm->rss_stat every 64 faults, so a remote fault, which
 * adds to the mm directly, leaves the status RSS fields of the two paths
 * apart by what the caches hold.  smaps, which walks the page tables, is
 * exact and still compared per VMA.
 */
extern bool diff_status_rss_inexact;

/*
 * Set for the pidfd family: the documented divergence remote-vvar may
 * show (Documentation/differential.rst): since 7.3 the kernel's [vvar]
 * fault handler refuses remote faults (lib/vdso/datastore.c, SIGBUS for
 * FAULT_FLAG_REMOTE), so a lock from another process cannot fault [vvar]
 * in, where the process's own mlockall() does.
 */
extern bool diff_remote_vvar_allowed;

/*
 * /proc/vmstat events over a child's whole life, measured by the parent.
 * culled/scanned/rescued are left out on purpose: they follow the LRU
 * placement of folios, which the module cannot do (see differential.rst).
 */
enum diff_vmstat_field {
	VS_MLOCKED, VS_MUNLOCKED, VS_CLEARED, VS_STRANDED,
	VS_NR,
};
extern const char *const diff_vmstat_names[VS_NR];

/* One VMA as /proc/self/smaps shows it. */
struct diff_vma {
	uint64_t start, end;
	uint64_t offset;		/* file offset; 0 for anonymous memory */
	uint64_t inode;			/* within one snapshot only */
	uint32_t dev_major, dev_minor;	/* within one snapshot only */
	char perms[8];
	char name[DIFF_NAME_LEN];
	/* VmFlags as printed, with 6.1's "??" (VM_LOCKONFAULT) as "lf" */
	char vmflags[DIFF_VMFLAGS_LEN];
	uint8_t lo, lf;
	uint8_t pad[2];
	uint32_t mlocked_pages;		/* present pages with KPF_MLOCKED */
	uint64_t kb[SM_NR];
};

/* Per-page state of a test mapping: mincore(), pagemap, kpageflags. */
#define PG_UNMAPPED	(1u << 0)	/* mincore: ENOMEM */
#define PG_RESIDENT	(1u << 1)	/* mincore */
#define PG_PRESENT	(1u << 2)	/* pagemap bit 63 */
#define PG_SWAPPED	(1u << 3)	/* pagemap bit 62 */
#define PG_FILE		(1u << 4)	/* pagemap bit 61: file or shared anon */
#define PG_UFFD_WP	(1u << 5)	/* pagemap bit 57 */
#define PG_EXCLUSIVE	(1u << 6)	/* pagemap bit 56: mapped exactly once */
#define PG_SOFT_DIRTY	(1u << 7)	/* pagemap bit 55 */
#define PG_MLOCKED	(1u << 8)	/* kpageflags bit 33 (KPF_MLOCKED) */
#define PG_ANON		(1u << 9)	/* kpageflags KPF_ANON */
#define PG_THP		(1u << 10)	/* kpageflags KPF_THP */
#define PG_HUGE		(1u << 11)	/* kpageflags KPF_HUGE */
#define PG_ZERO		(1u << 12)	/* kpageflags KPF_ZERO_PAGE */
#define PG_NR_BITS	13

struct diff_map {
	char label[DIFF_LABEL_LEN];
	uint64_t addr, len;
	uint32_t npages;		/* pages followed (capped) */
	uint32_t pad;
	uint16_t page[DIFF_MAX_MAP_PAGES];
};

/*
 * What the report of an extensible call said (families that call
 * LOCK_ALL_EX/UNLOCK_ALL_EX, device path only).  Not compared between the
 * paths: the system call has no report.  mlockdev_diff_test checks it per
 * family (workers_used).
 */
struct diff_ex_result {
	int32_t called;			/* this step made an extensible call */
	int32_t lock;			/* LOCK_ALL_EX (1) or UNLOCK_ALL_EX (0) */
	int32_t flags;			/* its MCL_* flags */
	int32_t ret;			/* 0 or -1 */
	uint64_t workers_used;		/* report.workers_used */
	uint64_t locked_vm_after;	/* report.locked_vm_after (pages) */
};

/* What a lock, unlock or follow-up step returned. */
struct diff_result {
	int32_t ran;			/* the step was reached */
	int32_t ret;			/* 0 or -1, as the call returned */
	int32_t err;			/* errno when ret == -1 */
	int32_t errno_kept;		/* on success: errno left untouched */
};

struct diff_fact {
	int32_t step;			/* the step that recorded it */
	char name[28];
	int64_t value;
};

#define DIFF_SNAPSHOT_MAGIC	0x6d6c6466u	/* "mldf" */

struct diff_snapshot {
	uint32_t magic;
	uint32_t size;			/* sizeof(struct diff_snapshot) */
	int32_t path;
	int32_t complete;		/* the snapshot was taken */
	char error[DIFF_ERROR_LEN];	/* why the scenario could not run */

	struct diff_result step[DIFF_MAX_STEPS];
	int32_t nfacts;
	int32_t pad0;
	struct diff_fact fact[DIFF_MAX_FACTS];

	int64_t mlocked_base_kb;	/* /proc/meminfo Mlocked: before */
	int64_t mlocked_delta_kb;	/* ... and after, minus before */
	int64_t status[ST_NR];
	uint64_t cap_eff;
	int64_t locked_vma_kb;		/* sum of sizes of "lo" VMAs */

	int32_t nmaps;
	int32_t nvmas;
	struct diff_map map[DIFF_MAX_MAPS];
	struct diff_vma vma[DIFF_MAX_VMAS];

	/* Reports of the extensible calls, by step (not compared). */
	struct diff_ex_result ex[DIFF_MAX_STEPS];

	/* Filled in by the parent after reaping the child. */
	int32_t wait_status;
	int32_t pad1;
	int64_t exit_mlocked_delta_kb;	/* Mlocked after exit, minus before fork */
	int64_t exit_unevictable_delta_kb; /* the same for Unevictable */
	int64_t vmstat_delta[VS_NR];
};

/* ------------------------------------------------------------------ */
/* Scenarios                                                           */

struct diff_ctx;
typedef int (*diff_step_fn)(struct diff_ctx *ctx, const char *map, long arg);

struct diff_step {
	const char *name;
	diff_step_fn fn;
	const char *map;		/* the test mapping it acts on, if any */
	long arg;
};

/* Requirements a scenario checks before running (else SKIP). */
#define DIFF_NEED_HUGETLB	(1u << 0)	/* DIFF_HUGETLB_PAGES free */
#define DIFF_NEED_SECRETMEM	(1u << 1)	/* memfd_secret() works */
#define DIFF_NEED_SYSV_SHM	(1u << 2)	/* shmget() works */
#define DIFF_NEED_THP		(1u << 3)	/* THP not disabled */
#define DIFF_NEED_UFFD		(1u << 4)	/* userfaultfd() works */
#define DIFF_NEED_UFFD_WP	(1u << 5)	/* ... with write-protection */
#define DIFF_NEED_PKEYS		(1u << 6)	/* pkey_alloc() works */

#define DIFF_HUGETLB_PAGES	2

/*
 * A documented divergence a scenario may show (diff_compare.c).  VMA
 * merging is recognised in every scenario; this one only in scenarios
 * that lock pages through two VMAs and say so.
 */
#define DIFF_DIV_MLOCK_COUNT	(1u << 16)

/*
 * Which families of mlockdev_diff_test run a scenario besides "plain",
 * which runs them all (see "families" in mlockdev_diff_test.c and
 * Documentation/differential.rst, "Families").
 */
#define DIFF_FAM_EX		(1u << 20)	/* ex and strict: a representative set */
#define DIFF_FAM_WORKERS	(1u << 21)	/* the parallel-populate families */
#define DIFF_NO_PIDFD		(1u << 22)	/* pidfd: cannot be locked from outside */
#define DIFF_BIG		(1u << 23)	/* 64 MiB to populate: AUTO uses workers */

/*
 * A VMA of terabytes: on 6.1 mlock_fixup() counts its pages in an int, so
 * VmLck is the sum of the `lo` VMAs only modulo 2^32 pages (on the
 * system call's path too); the comparator checks it so.
 */
#define DIFF_HUGE_ACCOUNTING	(1u << 17)

/* What the handler of a populate race changes (diff_adversity.c). */
enum diff_race_variant {
	RACE_PROT_NONE_SHARED,	/* mprotect(PROT_NONE), shared anonymous */
	RACE_PROT_NONE_PRIVATE,	/* mprotect(PROT_NONE), private anonymous */
	RACE_SHARED_FILE,	/* replaced by a MAP_SHARED memfd mapping */
	RACE_PRIVATE_FILE_RO,	/* replaced by a read-only private file */
	RACE_UNMAP_HEAD,	/* its first page unmapped */
	RACE_ONFAULT,		/* made lock-on-fault by mlock2() */
	RACE_NR,
};

struct diff_scenario {
	const char *name;
	const char *checks;		/* one line: what it shows */
	unsigned int flags;		/* DIFF_NEED_* | DIFF_DIV_* */
	struct diff_step steps[DIFF_MAX_STEPS];
};

/* The state of one child while it runs a scenario. */
struct diff_ctx {
	const struct diff_scenario *sc;
	int sc_index;
	enum diff_path path;
	int step;			/* index of the running step */
	int dev_fd;			/* /dev/mlockdev, opened on both paths */
	int result_fd;			/* the pipe to the parent */
	long page;
	struct diff_snapshot *snap;
	int holder_pid;			/* a grandchild sharing our pages */
	int holder_fd;			/* closing it lets the holder exit */
	int sabotage;			/* self-check: how the device path lies */
	bool null_run;			/* --null: both paths use the syscalls */
	int family;			/* index into the families table */
	int req_fd;			/* pidfd family: ask the parent to lock us */
	int reply_fd;			/* ... and read what it got */
};

/* ------------------------------------------------------------------ */
/* mlockdev_diff_test.c                                                */

/*
 * The lock and unlock actions through ctx->path (sabotaged in self-check
 * mode).  The outcome is recorded as the result of step ctx->step.
 */
int diff_lock(struct diff_ctx *ctx, int flags);
int diff_unlock(struct diff_ctx *ctx);
/* Run steps [from, end) of the scenario, then snapshot and report. */
void __attribute__((noreturn)) diff_child_run(struct diff_ctx *ctx, int from);
/* Reserve some stack so both paths use the same stack pages. */
void diff_touch_stack(void);

/* ------------------------------------------------------------------ */
/* diff_steps.c                                                        */

/* A tmpfs file under /tmp, unlinked: its fd, or diff_fail()'s -1. */
int diff_tmp_file(struct diff_ctx *ctx, const char *label, long pages,
		  bool fill);
/* Record the outcome of the running step's call (ret 0 or -1). */
void diff_record(struct diff_ctx *ctx, int ret, int err, int errno_kept);
/* Record a named scenario-specific value. */
void diff_fact(struct diff_ctx *ctx, const char *name, int64_t value);
/* Abort the scenario: the step could not do its set-up. */
int diff_fail(struct diff_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Register a test mapping (followed page by page in the snapshot). */
int diff_add_map(struct diff_ctx *ctx, const char *label, void *addr,
		 size_t len);
struct diff_map *diff_find_map(struct diff_ctx *ctx, const char *label);
/* The standard last step: does a fresh mapping come out locked? */
void diff_probe_mapping(struct diff_ctx *ctx);
/* Release grandchildren a step left running. */
void diff_release_holder(struct diff_ctx *ctx);
/* The snapshot carried over exec by step_exec_self. */
int diff_read_carry(int fd, struct diff_snapshot *snap);
/* Send the snapshot to the parent. */
int diff_write_snapshot(int fd, const struct diff_snapshot *snap);

/* Step functions, used by the scenario table. */
#define DIFF_STEP_FN(fn) int step_##fn(struct diff_ctx *ctx, const char *map, long arg)
DIFF_STEP_FN(lock);
DIFF_STEP_FN(unlock);
DIFF_STEP_FN(map_anon);
DIFF_STEP_FN(map_anon_ro);
DIFF_STEP_FN(map_none);
DIFF_STEP_FN(map_shared_anon);
DIFF_STEP_FN(map_file_shared);
DIFF_STEP_FN(map_file_private);
DIFF_STEP_FN(map_file_ro);
DIFF_STEP_FN(map_memfd);
DIFF_STEP_FN(map_memfd_twice);
DIFF_STEP_FN(map_shm);
DIFF_STEP_FN(map_hugetlb);
DIFF_STEP_FN(map_secret);
DIFF_STEP_FN(map_thp);
DIFF_STEP_FN(map_many);
DIFF_STEP_FN(map_big_thp);
DIFF_STEP_FN(map_big_file_shared);
DIFF_STEP_FN(map_big_file_private);
DIFF_STEP_FN(map_locked);
DIFF_STEP_FN(map_mixed);
DIFF_STEP_FN(touch);
DIFF_STEP_FN(read);
DIFF_STEP_FN(mlock_part);
DIFF_STEP_FN(mlock_onfault_part);
DIFF_STEP_FN(munlock_part);
DIFF_STEP_FN(munmap_part);
DIFF_STEP_FN(munmap_all);
DIFF_STEP_FN(mprotect_part);
DIFF_STEP_FN(mprotect_all);
DIFF_STEP_FN(mremap_shrink);
DIFF_STEP_FN(mremap_grow);
DIFF_STEP_FN(mremap_move);
DIFF_STEP_FN(shm_lock);
DIFF_STEP_FN(set_limit);
DIFF_STEP_FN(limit_vmsize);
DIFF_STEP_FN(limit_vmlck);
DIFF_STEP_FN(drop_cap);
DIFF_STEP_FN(need_cap);
DIFF_STEP_FN(mmap_new);
DIFF_STEP_FN(brk_grow);
DIFF_STEP_FN(stack_grow);
DIFF_STEP_FN(fork_report);
DIFF_STEP_FN(fork_lock_unlock);
DIFF_STEP_FN(hold_cow);
DIFF_STEP_FN(exec_self);

/* ------------------------------------------------------------------ */
/* diff_adversity.c                                                    */

/* A userfaultfd, O_CLOEXEC|O_NONBLOCK, after UFFDIO_API; -1 and errno. */
int diff_userfaultfd(void);

DIFF_STEP_FN(race_begin);
DIFF_STEP_FN(race_end);
DIFF_STEP_FN(pkey_deny);
DIFF_STEP_FN(thp_uffd_wp);
DIFF_STEP_FN(map_huge_none);
DIFF_STEP_FN(fact_vmlck);
DIFF_STEP_FN(map_anon_small);
DIFF_STEP_FN(signal_storm);
DIFF_STEP_FN(signal_storm_end);

/* ------------------------------------------------------------------ */
/* diff_snapshot.c                                                     */

/* Touch the static buffers, so every child inherits them present. */
void diff_prefault(void);
/* Fold per-CPU counters (stat_refresh) after draining all LRU caches. */
int diff_settle(void);
/* A /proc/meminfo field in kB, or -1. */
int64_t diff_meminfo_kb(const char *key);
/* /proc/vmstat fields of diff_vmstat_names. */
int diff_read_vmstat(int64_t out[VS_NR]);
/* /proc/self/status; also CapEff. */
int diff_read_status(int64_t out[ST_NR], uint64_t *cap_eff);
/* Start of the [stack] VMA, or 0. */
uint64_t diff_stack_start(void);
/* Fill snap->vma from /proc/self/smaps; -1 with snap->error on failure. */
int diff_read_smaps(struct diff_snapshot *snap);
/* Fill map->page[] from mincore, pagemap and kpageflags. */
int diff_read_map_pages(struct diff_map *map, long page);
/* Everything, at the end of a child. */
int diff_take_snapshot(struct diff_ctx *ctx);

/* ------------------------------------------------------------------ */
/* diff_compare.c                                                      */

enum diff_verdict {
	DIFF_IDENTICAL,
	DIFF_DOCUMENTED,	/* only a documented divergence */
	DIFF_DIFFERENT,
};

/*
 * Compare the two snapshots of a scenario.  Prints one "#" line per
 * difference (both values, the VMA address), and one per documented
 * divergence with its reason.
 */
enum diff_verdict diff_compare(const struct diff_scenario *sc,
			       const struct diff_snapshot *sys,
			       const struct diff_snapshot *dev, long page);

/* Print what one path saw (-v). */
void diff_describe(const struct diff_scenario *sc,
		   const struct diff_snapshot *s, int path);

#endif /* MLOCKDEV_DIFF_H */
