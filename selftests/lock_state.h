/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lock_state.h - the lock state of the calling process, before and after
 * a call that must leave it as it found it: a failed strict call
 * (MLOCKDEV_LOCK_STRICT) or a failed OpenBSD-mode call, which are all or
 * nothing.
 *
 * A snapshot is the differential suite's (diff_snapshot.c: smaps, status,
 * meminfo, pagemap and kpageflags, read without malloc or stdio, so that
 * taking it changes nothing it looks at).  What is compared is what the
 * lock decides, not what faulting in did:
 *
 *  - the same VMAs, with the same "lo" and "lf" (VM_LOCKED,
 *    VM_LOCKONFAULT);
 *  - VmLck, and the sum of the sizes of the "lo" VMAs;
 *  - per page of every test mapping: a page present before has the same
 *    KPF_MLOCKED after; a page the call faulted in is KPF_MLOCKED exactly
 *    when its VMA is "lo" (a lock-on-fault VMA mlocks what is faulted in);
 *  - meminfo Mlocked: moved by exactly the pages of that last kind;
 *  - no page PG_mlocked in any VMA without "lo" (invariants.h).
 *
 * Residency is not compared: pages a failed call faulted in may stay
 * resident; the promise of an all-or-nothing call is the lock state.
 * ls_compare() counts them, so that the tests can say how many.
 */
#ifndef MLOCKDEV_LOCK_STATE_H
#define MLOCKDEV_LOCK_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diff.h"

/* Register a test mapping to follow page by page: 0, or -1 (too many). */
int ls_add_map(struct diff_snapshot *snap, const char *label, void *addr,
	       size_t len);

/*
 * Take a snapshot of the calling process into @snap, whose maps were
 * registered with ls_add_map().  @mlocked_base_kb is the meminfo Mlocked:
 * the deltas are measured from (the same for both snapshots compared).
 * 0, or -1 with the reason in snap->error.
 */
int ls_take(struct diff_snapshot *snap, int64_t mlocked_base_kb);

struct ls_result {
	unsigned long faulted_in;	/* test pages present after, not before */
	unsigned long faulted_mlocked;	/* ... of those, mlocked (in lo VMAs) */
};

/*
 * Compare the lock state of @before and @after as described above.
 * Returns the number of differences, each printed as a "# " line with
 * @what in front; @res says what the call faulted in.
 */
int ls_compare(const char *what, const struct diff_snapshot *before,
	       const struct diff_snapshot *after, long page,
	       struct ls_result *res);

/*
 * May mlock lock this VMA (the kernel's rule, kernel/policy.c), as far as
 * smaps shows it: not VM_IO, VM_PFNMAP, VM_MIXEDMAP, VM_DONTEXPAND
 * ([vvar], [vdso]) or hugetlb.  [vsyscall] is in smaps but not in the VMA
 * tree, so no call ever meets it.
 */
bool ls_lockable(const struct diff_vma *v);

/*
 * The lockable VMAs of the calling process not locked yet ("lo"), in kB,
 * read into @scratch; only the accessible ones if @accessible_only;
 * *@none_kb gets the PROT_NONE ones among them.  -1 if smaps cannot be
 * read.
 */
int64_t ls_unlocked_kb(struct diff_snapshot *scratch, bool accessible_only,
		       int64_t *none_kb);

/*
 * Map, touch and unmap a 4-page probe: 1 if it came out locked (VmLck
 * grew: MCL_FUTURE is in force), 0 if not, -1 if it could not be mapped.
 */
int ls_probe_locked(long page);

#endif /* MLOCKDEV_LOCK_STATE_H */
