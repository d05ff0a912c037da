/* SPDX-License-Identifier: GPL-2.0 */
/*
 * residency_common.h - helpers shared by mlockdev_residency_test and
 * mlockdev_stress_test.
 *
 * Both programs do the same thing twice: once through /dev/mlockdev and
 * once through the real mlockall(2)/munlockall(2), and hold both to the
 * same invariants.  The helpers here are the two ways of locking, and the
 * readers of what the kernel reports about locked memory: VmLck and the
 * `lo` VMAs of /proc/PID/smaps, /proc/meminfo (after vm.stat_refresh),
 * /proc/vmstat, /proc/PID/pagemap, /proc/kpageflags and mincore().
 */
#ifndef RESIDENCY_COMMON_H
#define RESIDENCY_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RC_DEV_PATH	"/dev/mlockdev"

/*
 * For the readers of /proc/PID/... below: pid 0 is /proc/self (the thread
 * group leader), RC_THREAD_SELF is /proc/thread-self, which still shows
 * the address space after the leader itself has exited.
 */
#define RC_THREAD_SELF	((pid_t)-1)
#define RC_MIB		(1024UL * 1024UL)

/* The two implementations under comparison. */
enum rc_path {
	RC_DEVICE,	/* ioctl(MLOCKDEV_IOC_LOCK_ALL / UNLOCK_ALL) */
	RC_SYSCALL,	/* mlockall(2) / munlockall(2), the reference */
};

const char *rc_path_name(enum rc_path path);

/*
 * Open /dev/mlockdev once for the process (children inherit it).  Return
 * 0, or an errno value (ENOENT: module not loaded).
 */
int rc_device_open(void);

/* mlockall(@flags) through @path: 0 or the errno value. */
int rc_lockall(enum rc_path path, int flags);
/* munlockall() through @path: 0 or the errno value. */
int rc_unlockall(enum rc_path path);

/* Seconds since an arbitrary point, CLOCK_MONOTONIC. */
double rc_now(void);
/* Sleep @ms milliseconds. */
void rc_sleep_ms(unsigned int ms);

/* Write @text to @path: 0 or the errno value. */
/* Reap @pid: the seconds it took, or -1 after @limit s (then killed). */
double rc_reap(pid_t pid, int *status, double limit);

int rc_write_file(const char *path, const char *text);
/* Read up to @size-1 bytes of @path into @buf, NUL-terminated: 0 or errno. */
int rc_read_file(const char *path, char *buf, size_t size);

/*
 * A "Name:  value kB"-style field of /proc/PID/status, in kB; -1 if the
 * file or the field is missing.
 */
long rc_status_kb(pid_t pid, const char *field);

/*
 * A field of /proc/meminfo in kB, after writing /proc/sys/vm/stat_refresh
 * so that per-CPU counter deltas are folded in; -1 if missing.
 */
long rc_meminfo_kb(const char *field);

/* A counter of /proc/vmstat; -1 if missing. */
long long rc_vmstat(const char *name);

/* What /proc/PID/smaps says about locked VMAs. */
struct rc_locked_vmas {
	unsigned long vmas;		/* VMAs in total */
	unsigned long lo_vmas;		/* VMAs with `lo` (VM_LOCKED) */
	unsigned long lo_kb;		/* sum of Size: of `lo` VMAs */
	unsigned long lf_vmas;		/* VMAs with `lf` (VM_LOCKONFAULT) */
	unsigned long lf_without_lo;	/* `lf` VMAs without `lo`: never legal */
	unsigned long locked_kb;	/* sum of Locked: */
};

/* Parse /proc/PID/smaps: 0 or errno. */
int rc_smaps_locked(pid_t pid, struct rc_locked_vmas *out);

/*
 * VmLck against the `lo` VMAs: 0 and an empty @why when VmLck equals the
 * sum of the sizes of the `lo` VMAs and no VMA has `lf` without `lo`;
 * otherwise -1 with the numbers in @why.
 */
int rc_check_vmlck(pid_t pid, char *why, size_t why_size);

/* Per-page state of a range, from pagemap, kpageflags and mincore. */
struct rc_residency {
	unsigned long pages;		/* pages in the range */
	unsigned long present;		/* pagemap bit 63 */
	unsigned long swapped;		/* pagemap bit 62 */
	unsigned long incore;		/* mincore() */
	unsigned long mlocked;		/* kpageflags KPF_MLOCKED (present pages) */
	unsigned long unevictable;	/* kpageflags KPF_UNEVICTABLE */
	bool have_kpageflags;		/* PFNs visible and kpageflags readable */
};

/*
 * Residency of [@addr, @addr + @len) in process @pid.  mincore() is only
 * asked for our own address space; for another process @incore stays 0.
 * Return 0 or errno.
 */
int rc_residency(pid_t pid, const void *addr, size_t len,
		 struct rc_residency *out);

/*
 * Swap: and Rss: (kB) of the VMA of process @pid that contains
 * @addr, from /proc/PID/smaps: 0 or errno.
 */
int rc_vma_swap_rss(pid_t pid, const void *addr, long *swap_kb, long *rss_kb);

/*
 * Fill @len bytes at @p with a pattern that depends on @seed and on the
 * offset: every page different, no page zero or same-filled.
 */
void rc_fill(void *p, size_t len, uint64_t seed);
/* Number of pages of [@p, @p + @len) whose content differs from rc_fill(). */
unsigned long rc_check_fill(const void *p, size_t len, uint64_t seed);

size_t rc_page_size(void);

/*
 * How fast this machine populates fresh anonymous memory, in MiB/s: the
 * tests size their work by it, so that a run takes about as long on a
 * stock kernel under KVM as on a KASAN kernel under a busy TCG.
 * MAP_POPULATE faults in through the same GUP path as mlockall()'s
 * populate (user-space touches are several times slower under TCG).
 */
double rc_populate_rate(void);

/*
 * Whether case @name runs: MLOCKDEV_CASES unset or empty runs every case,
 * otherwise it is a comma-separated list of case names or name prefixes
 * (e.g. "sigkill_,private_device").
 */
bool rc_case_selected(const char *name);

/* The env variable @name as an unsigned number, or @def if unset/bad. */
unsigned long rc_env_ulong(const char *name, unsigned long def);

#endif /* RESIDENCY_COMMON_H */
