// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev_diff_test - the differential suite: mlockall(2)/munlockall(2)
 * against MLOCKDEV_IOC_LOCK_ALL/UNLOCK_ALL, scenario by scenario.
 *
 * Each scenario of the table below runs in two fresh children of this
 * process, one after the other: child A does its lock and unlock steps
 * with the system calls, child B with the ioctls.  The parent never locks
 * anything.  Both children are forked from the same parent and run the
 * same code, so their address spaces are laid out identically, addresses
 * included; each ends with a snapshot of everything the kernel shows
 * (diff_snapshot.c) and the parent compares the two (diff_compare.c).
 * One KTAP result per scenario; the documented divergences are listed in
 * Documentation/differential.rst.
 *
 * Usage: mlockdev_diff_test [-l] [-v] [--null] [--self-check[=MODE]]
 *                           [PATTERN...]
 *   -l              list the scenarios and what each checks
 *   -v              also print what each path saw
 *   PATTERN         run only the scenarios whose names match (fnmatch)
 *   --self-check    make the device path deliberately wrong (also
 *                   MLOCKDEV_DIFF_SELF_CHECK=1|MODE): every scenario where
 *                   the lie shows must then fail
 *   --null          both children use the system calls: checks that the
 *                   harness itself adds no difference (no module needed)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ipc.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/mlockdev.h>
#include <linux/userfaultfd.h>

#include "kselftest.h"
#include "diff.h"

#define DEV_PATH	"/dev/" MLOCKDEV_DEVICE_NAME

/* ------------------------------------------------------------------ */
/* The scenario table                                                  */

#define CUR	MCL_CURRENT
#define FUT	MCL_FUTURE
#define ONF	MCL_ONFAULT
#define RW	(PROT_READ | PROT_WRITE)

#define LOCK(f)		{ .name = "lock(" #f ")", .fn = step_lock, .arg = (f) }
#define UNLOCK()	{ .name = "unlock", .fn = step_unlock }
#define DO(step, a)	{ .name = #step, .fn = step_##step, .arg = (a) }
#define ON(step, m, a)	{ .name = #step "(" m ")", .fn = step_##step, \
			  .map = m, .arg = (a) }

#define INFINITY_LIMIT	(-1L)

/*
 * A scenario: a name, one line of what it shows, what it needs, and its
 * steps.  After the last step every child maps a 4-page "probe" (does a
 * new mapping come out locked and populated?) and takes its snapshot.
 */
static const struct diff_scenario scenarios[] = {
	/* --- the flags argument ----------------------------------------- */
	{ "flags_0", "flags 0: EINVAL, nothing changes",
	  DIFF_FAM_EX, { DO(map_mixed, 0), LOCK(0) } },
	{ "flags_current", "MCL_CURRENT: every lockable VMA locked and populated",
	  DIFF_FAM_EX | DIFF_FAM_WORKERS, { DO(map_mixed, 0), LOCK(CUR) } },
	{ "flags_future", "MCL_FUTURE: VMAs untouched, the probe locked and populated",
	  DIFF_FAM_EX, { DO(map_mixed, 0), LOCK(FUT) } },
	{ "flags_current_future", "MCL_CURRENT|MCL_FUTURE",
	  DIFF_FAM_EX | DIFF_FAM_WORKERS,
	  { DO(map_mixed, 0), LOCK(CUR | FUT) } },
	{ "flags_onfault", "MCL_ONFAULT alone: EINVAL",
	  DIFF_FAM_EX, { DO(map_mixed, 0), LOCK(ONF) } },
	{ "flags_current_onfault", "MCL_CURRENT|MCL_ONFAULT: locked (lf), not populated",
	  DIFF_FAM_EX, { DO(map_mixed, 0), LOCK(CUR | ONF) } },
	{ "flags_future_onfault", "MCL_FUTURE|MCL_ONFAULT: the probe lf, not populated",
	  DIFF_FAM_EX, { DO(map_mixed, 0), LOCK(FUT | ONF) } },
	{ "flags_all", "MCL_CURRENT|MCL_FUTURE|MCL_ONFAULT",
	  DIFF_FAM_EX, { DO(map_mixed, 0), LOCK(CUR | FUT | ONF) } },
	{ "flags_unknown_8", "bit 3 alone: EINVAL",
	  0, { DO(map_mixed, 0), LOCK(8) } },
	{ "flags_current_unknown_16", "MCL_CURRENT with bit 4: EINVAL before anything",
	  0, { DO(map_mixed, 0), LOCK(CUR | 16) } },
	{ "flags_all_and_unknown", "all three flags with bit 8: EINVAL",
	  0, { DO(map_mixed, 0), LOCK(CUR | FUT | ONF | 0x100) } },
	{ "flags_sign_bit", "MCL_CURRENT with bit 31 (a negative int): EINVAL",
	  DIFF_FAM_EX, { DO(map_mixed, 0), LOCK((int)(CUR | 0x80000000u)) } },
	{ "flags_all_bits", "flags -1: EINVAL",
	  DIFF_FAM_EX, { DO(map_mixed, 0), LOCK(-1) } },

	/* --- RLIMIT_MEMLOCK and CAP_IPC_LOCK, with MCL_CURRENT ---------- */
	{ "limit_zero_nocap", "limit 0 without CAP_IPC_LOCK: EPERM",
	  DIFF_FAM_EX,
	  { DO(map_mixed, 0), DO(set_limit, 0), DO(drop_cap, 0), LOCK(CUR) } },
	{ "limit_zero_cap", "limit 0 with CAP_IPC_LOCK: locks",
	  DIFF_FAM_EX,
	  { DO(map_mixed, 0), DO(set_limit, 0), DO(need_cap, 0), LOCK(CUR) } },
	{ "limit_subpage_nocap", "limit below one page is 0 pages: ENOMEM",
	  0, { DO(map_mixed, 0), DO(set_limit, 100), DO(drop_cap, 0), LOCK(CUR) } },
	{ "limit_subpage_cap", "limit below one page with CAP_IPC_LOCK: locks",
	  0, { DO(map_mixed, 0), DO(set_limit, 100), DO(need_cap, 0), LOCK(CUR) } },
	{ "limit_vmsize_nocap", "limit exactly VmSize: locks",
	  DIFF_FAM_EX,
	  { DO(map_mixed, 0), DO(drop_cap, 0), DO(limit_vmsize, 0), LOCK(CUR) } },
	{ "limit_vmsize_cap", "limit exactly VmSize with CAP_IPC_LOCK",
	  0, { DO(map_mixed, 0), DO(need_cap, 0), DO(limit_vmsize, 0), LOCK(CUR) } },
	{ "limit_below_vmsize_nocap", "limit one page under VmSize: ENOMEM",
	  DIFF_FAM_EX,
	  { DO(map_mixed, 0), DO(drop_cap, 0), DO(limit_vmsize, -1), LOCK(CUR) } },
	{ "limit_below_vmsize_cap", "one page under VmSize with CAP_IPC_LOCK: locks",
	  0, { DO(map_mixed, 0), DO(need_cap, 0), DO(limit_vmsize, -1), LOCK(CUR) } },
	{ "limit_infinity_nocap", "RLIM_INFINITY without CAP_IPC_LOCK: no overflow, locks",
	  0, { DO(map_mixed, 0), DO(set_limit, INFINITY_LIMIT), DO(drop_cap, 0),
	       LOCK(CUR) } },
	{ "limit_infinity_cap", "RLIM_INFINITY with CAP_IPC_LOCK",
	  0, { DO(map_mixed, 0), DO(set_limit, INFINITY_LIMIT), DO(need_cap, 0),
	       LOCK(CUR) } },
	{ "limit_zero_nocap_flags_0", "EINVAL comes before EPERM",
	  0, { DO(map_mixed, 0), DO(set_limit, 0), DO(drop_cap, 0), LOCK(0) } },
	{ "limit_zero_nocap_future", "MCL_FUTURE with limit 0, no CAP_IPC_LOCK: EPERM",
	  0, { DO(map_mixed, 0), DO(set_limit, 0), DO(drop_cap, 0), LOCK(FUT) } },
	{ "limit_subpage_nocap_future", "MCL_FUTURE never ENOMEM; the probe gets EAGAIN",
	  0, { DO(map_mixed, 0), DO(set_limit, 100), DO(drop_cap, 0), LOCK(FUT) } },
	{ "limit_enomem_changes_nothing", "ENOMEM keeps an earlier MCL_FUTURE and all VMAs",
	  DIFF_FAM_EX,
	  { DO(map_mixed, 0), LOCK(FUT), DO(drop_cap, 0), DO(limit_vmsize, -1),
	    LOCK(CUR) } },
	{ "limit_vmsize_nocap_future_eagain", "locked up to the limit: a big mmap gets EAGAIN",
	  0, { DO(map_mixed, 0), DO(drop_cap, 0), DO(limit_vmsize, 0),
	       LOCK(CUR | FUT), ON(mmap_new, "new", 64) } },

	/* --- one call after another ------------------------------------- */
	{ "current_after_future", "MCL_CURRENT cancels an earlier MCL_FUTURE",
	  DIFF_FAM_EX, { DO(map_mixed, 0), LOCK(FUT), LOCK(CUR) } },
	{ "future_after_current", "MCL_FUTURE alone leaves locked VMAs locked",
	  0, { DO(map_mixed, 0), LOCK(CUR), LOCK(FUT) } },
	{ "onfault_over_locked", "CURRENT|ONFAULT turns locked VMAs into lock-on-fault",
	  DIFF_FAM_EX, { DO(map_mixed, 0), LOCK(CUR), LOCK(CUR | ONF) } },
	{ "current_over_onfault", "plain CURRENT populates lock-on-fault VMAs",
	  DIFF_FAM_EX | DIFF_FAM_WORKERS,
	  { DO(map_mixed, 0), LOCK(CUR | ONF), ON(touch, "anon", 8), LOCK(CUR) } },
	{ "current_twice", "locking twice changes nothing more",
	  0, { DO(map_mixed, 0), LOCK(CUR), LOCK(CUR) } },
	{ "future_onfault_then_current_future", "FUTURE|ONFAULT, then CURRENT|FUTURE",
	  0, { DO(map_mixed, 0), LOCK(FUT | ONF), ON(mmap_new, "new", 8),
	       LOCK(CUR | FUT) } },

	/* --- MCL_FUTURE: memory that comes later ------------------------ */
	{ "future_mmap", "mmap after MCL_FUTURE: locked and populated",
	  DIFF_FAM_EX,
	  { DO(map_mixed, 0), LOCK(FUT), ON(mmap_new, "new", 16) } },
	{ "future_onfault_mmap", "mmap after FUTURE|ONFAULT: lf, only touched pages",
	  0, { DO(map_mixed, 0), LOCK(FUT | ONF), ON(mmap_new, "new", 16),
	       ON(touch, "new", 3) } },
	{ "future_brk", "brk growth after MCL_FUTURE: locked and populated",
	  0, { DO(map_mixed, 0), LOCK(FUT), ON(brk_grow, "brk", 16) } },
	{ "future_onfault_brk", "brk growth after FUTURE|ONFAULT",
	  0, { DO(map_mixed, 0), LOCK(FUT | ONF), ON(brk_grow, "brk", 16) } },
	{ "future_mremap_grow", "mremap growth of a mapping made after MCL_FUTURE",
	  0, { DO(map_mixed, 0), LOCK(FUT), ON(mmap_new, "new", 8),
	       ON(mremap_grow, "new", 8) } },
	{ "future_mremap_grow_old", "mremap growth of an unlocked mapping stays unlocked",
	  0, { DO(map_mixed, 0), LOCK(FUT), ON(mremap_grow, "anon", 8) } },
	{ "future_stack_growth", "stack growth after MCL_FUTURE alone (stack not locked)",
	  0, { DO(map_mixed, 0), LOCK(FUT), ON(stack_grow, "stack", 32) } },
	{ "current_future_stack_growth", "a locked stack grows locked and charged",
	  0, { DO(map_mixed, 0), LOCK(CUR | FUT), ON(stack_grow, "stack", 32) } },
	{ "future_limit_mmap_eagain", "MCL_FUTURE, no CAP_IPC_LOCK: mmap past the limit EAGAIN",
	  DIFF_FAM_EX,
	  { DO(map_mixed, 0), DO(drop_cap, 0), DO(limit_vmlck, 16), LOCK(FUT),
	    ON(mmap_new, "fits", 8), ON(mmap_new, "over", 16) } },
	{ "future_limit_brk", "MCL_FUTURE, no CAP_IPC_LOCK: brk past the limit fails",
	  0, { DO(map_mixed, 0), DO(drop_cap, 0), DO(limit_vmlck, 16), LOCK(FUT),
	       ON(brk_grow, "brk", 8), ON(brk_grow, "brk2", 16) } },
	{ "future_limit_mremap_eagain", "MCL_FUTURE, no CAP_IPC_LOCK: mremap growth EAGAIN",
	  0, { DO(map_mixed, 0), DO(drop_cap, 0), DO(limit_vmlck, 16), LOCK(FUT),
	       ON(mmap_new, "new", 8), ON(mremap_grow, "new", 16) } },
	{ "future_limit_stack_growth", "a locked stack cannot grow past the limit (SIGSEGV)",
	  0, { DO(map_mixed, 0), DO(drop_cap, 0), DO(limit_vmsize, 0),
	       LOCK(CUR | FUT), ON(stack_grow, "stack", 64),
	       ON(stack_grow, "stack1", 1) } },

	/* --- kinds of memory -------------------------------------------- */
	{ "prot_none", "PROT_NONE: locked and counted, not populated",
	  DIFF_FAM_EX, { ON(map_none, "none16", 16), LOCK(CUR) } },
	{ "prot_none_to_rw", "mprotect of locked PROT_NONE memory populates it",
	  0, { ON(map_none, "none16", 16), LOCK(CUR), ON(mprotect_all, "none16", RW) } },
	{ "private_cow", "private writable memory shared by fork: COW broken up front",
	  DIFF_FAM_EX | DIFF_FAM_WORKERS,
	  { ON(map_anon, "cow", 16), ON(touch, "cow", 0), DO(hold_cow, 0),
	    LOCK(CUR) } },
	{ "private_cow_onfault", "the same with MCL_ONFAULT: nothing broken",
	  0, { ON(map_anon, "cow", 16), ON(touch, "cow", 0), DO(hold_cow, 0),
	       LOCK(CUR | ONF) } },
	{ "private_file_cow", "private writable file mapping: pages copied",
	  0, { ON(map_file_private, "pvfile", 8), ON(read, "pvfile", 0), LOCK(CUR) } },
	{ "private_file_ro", "private read-only file mapping",
	  0, { ON(map_file_ro, "rofile", 8), ON(read, "rofile", 2), LOCK(CUR) } },
	{ "anon_ro_zero_page", "read-only anonymous memory: zero page, not mlocked",
	  0, { ON(map_anon_ro, "ro", 16), ON(read, "ro", 4), LOCK(CUR) } },
	{ "shared_file", "shared tmpfs file mapping",
	  DIFF_FAM_WORKERS,
	  { ON(map_file_shared, "shfile", 8), ON(touch, "shfile", 2), LOCK(CUR) } },
	{ "shared_file_unlock", "shared tmpfs file mapping, locked then unlocked",
	  DIFF_FAM_EX,
	  { ON(map_file_shared, "shfile", 8), ON(touch, "shfile", 2), LOCK(CUR),
	    UNLOCK() } },
	{ "shared_memfd", "shared memfd mapping",
	  0, { ON(map_memfd, "memfd", 8), ON(touch, "memfd", 2), LOCK(CUR) } },
	{ "shared_anon", "shared anonymous mapping",
	  0, { ON(map_shared_anon, "shanon", 8), ON(touch, "shanon", 2), LOCK(CUR) } },
	{ "sysv_shm", "SysV shm attachment locks like a shared mapping",
	  DIFF_NEED_SYSV_SHM, { ON(map_shm, "shm", 8), ON(touch, "shm", 2), LOCK(CUR) } },
	{ "sysv_shm_unlock", "SysV shm, locked then unlocked",
	  DIFF_NEED_SYSV_SHM | DIFF_FAM_EX,
	  { ON(map_shm, "shm", 8), ON(touch, "shm", 2), LOCK(CUR),
	    UNLOCK() } },
	{ "sysv_shm_shm_lock", "SHM_LOCK is separate: munlockall leaves it",
	  DIFF_NEED_SYSV_SHM, { ON(map_shm, "shm", 8), ON(touch, "shm", 2),
				ON(shm_lock, "shm", 0), LOCK(CUR), UNLOCK() } },
	{ "hugetlb", "hugetlb: populated, not locked, not counted",
	  DIFF_NEED_HUGETLB | DIFF_FAM_EX,
	  { ON(map_hugetlb, "huge", 1), LOCK(CUR) } },
	{ "hugetlb_onfault", "hugetlb with MCL_ONFAULT: populated all the same",
	  DIFF_NEED_HUGETLB, { ON(map_hugetlb, "huge", 1), LOCK(CUR | ONF) } },
	{ "hugetlb_unlock", "hugetlb, locked then unlocked",
	  DIFF_NEED_HUGETLB, { ON(map_hugetlb, "huge", 1), LOCK(CUR), UNLOCK() } },
	{ "memfd_secret", "memfd_secret memory: neither locked nor counted",
	  DIFF_NEED_SECRETMEM | DIFF_FAM_EX,
	  { ON(map_secret, "secret", 4), ON(touch, "secret", 1),
	    LOCK(CUR) } },
	{ "memfd_secret_unlock", "memfd_secret, locked then unlocked",
	  DIFF_NEED_SECRETMEM, { ON(map_secret, "secret", 4), ON(touch, "secret", 1),
				 LOCK(CUR), UNLOCK() } },
	{ "thp", "a PMD-mapped THP is mlocked whole",
	  DIFF_NEED_THP | DIFF_FAM_WORKERS,
	  { ON(map_thp, "thp", 0), LOCK(CUR) } },
	{ "thp_unlock", "a PMD-mapped THP, locked then unlocked",
	  DIFF_NEED_THP | DIFF_FAM_EX,
	  { ON(map_thp, "thp", 0), LOCK(CUR), UNLOCK() } },
	{ "thp_pte_mapped", "a THP split across VMAs by mprotect, then locked",
	  DIFF_NEED_THP | DIFF_FAM_EX,
	  { ON(map_thp, "thp", 0), ON(mprotect_part, "thp", PROT_READ),
	    LOCK(CUR) } },
	{ "many_vmas", "96 VMAs of alternating protection",
	  DIFF_FAM_WORKERS, { ON(map_many, "many", 48), LOCK(CUR) } },
	{ "many_vmas_unlock", "96 VMAs, locked then unlocked",
	  DIFF_FAM_EX, { ON(map_many, "many", 48), LOCK(CUR), UNLOCK() } },
	{ "map_locked", "a MAP_LOCKED mapping, then mlockall and munlockall",
	  DIFF_FAM_EX | DIFF_FAM_WORKERS,
	  { DO(map_mixed, 0), ON(map_locked, "mlk", 8), LOCK(CUR), UNLOCK() } },

	/* --- the merge divergence, provoked on purpose ------------------ */
	{ "partial_mlock_then_lockall", "mlock() splits a VMA; mlockall makes the parts alike",
	  DIFF_FAM_EX,
	  { ON(map_anon, "anon", 16), ON(touch, "anon", 0), ON(mlock_part, "anon", 0),
	    LOCK(CUR) } },
	{ "partial_mlock_then_unlockall", "mlock() splits a VMA; munlockall makes the parts alike",
	  0, { ON(map_anon, "anon", 16), ON(touch, "anon", 0), ON(mlock_part, "anon", 0),
	       UNLOCK() } },
	{ "partial_onfault_then_lockall", "mlock2(ONFAULT) part, then MCL_CURRENT",
	  0, { ON(map_anon, "anon", 16), ON(mlock_onfault_part, "anon", 0),
	       LOCK(CUR) } },
	{ "lockall_munlock_part_relock", "munlock() of a part of locked memory, lock again",
	  0, { DO(map_mixed, 0), LOCK(CUR), ON(munlock_part, "anon", 0), LOCK(CUR) } },

	/* --- locked memory changed afterwards --------------------------- */
	{ "locked_partial_munmap", "munmap in the middle of locked memory",
	  0, { DO(map_mixed, 0), LOCK(CUR), ON(munmap_part, "anon", 0) } },
	{ "locked_partial_mprotect", "mprotect of part of locked memory",
	  0, { DO(map_mixed, 0), LOCK(CUR), ON(mprotect_part, "anon", PROT_READ) } },
	{ "locked_mprotect_ro_to_rw", "private locked memory made writable is populated",
	  0, { DO(map_mixed, 0), LOCK(CUR), ON(mprotect_all, "ro", RW) } },
	{ "locked_mremap_shrink", "mremap shrinking locked memory",
	  0, { DO(map_mixed, 0), LOCK(CUR), ON(mremap_shrink, "anon", 0) } },
	{ "locked_mremap_grow", "mremap growing locked memory: locked and populated",
	  DIFF_FAM_EX,
	  { DO(map_mixed, 0), LOCK(CUR), ON(mremap_grow, "anon", 8) } },
	{ "locked_mremap_move", "mremap moving part of locked memory",
	  0, { DO(map_mixed, 0), LOCK(CUR), ON(mremap_move, "anon", 0) } },
	{ "locked_munmap_all", "munmap of a whole locked mapping",
	  0, { DO(map_mixed, 0), LOCK(CUR), ON(munmap_all, "shfile", 0) } },
	{ "onfault_partial_edits", "munmap and mprotect of lock-on-fault memory",
	  0, { DO(map_mixed, 0), LOCK(CUR | ONF), ON(munmap_part, "anon", 0),
	       ON(mprotect_part, "anon", PROT_READ) } },
	{ "edits_then_unlock", "munmap, mprotect, mremap of locked memory, then unlock",
	  0, { DO(map_mixed, 0), LOCK(CUR), ON(munmap_part, "anon", 0),
	       ON(mprotect_part, "anon", PROT_READ), ON(mremap_move, "anon", 0),
	       UNLOCK() } },

	/* --- fork and exec ---------------------------------------------- */
	{ "fork_after_current", "fork: the child starts unlocked, ours survive",
	  0, { DO(map_mixed, 0), LOCK(CUR), DO(fork_report, 0) } },
	{ "fork_after_current_future", "fork: MCL_FUTURE is not inherited",
	  DIFF_FAM_EX,
	  { DO(map_mixed, 0), LOCK(CUR | FUT), DO(fork_report, 0) } },
	{ "fork_after_onfault", "fork after CURRENT|FUTURE|ONFAULT",
	  0, { DO(map_mixed, 0), LOCK(CUR | FUT | ONF), DO(fork_report, 0) } },
	{ "exec_after_current_future", "exec: a fresh, unlocked mm without MCL_FUTURE",
	  DIFF_FAM_EX, { DO(map_mixed, 0), LOCK(CUR | FUT), DO(exec_self, 0),
	       ON(mmap_new, "new", 8) } },
	{ "shared_locked_by_two", "another process locks and unlocks memory we keep locked",
	  DIFF_DIV_MLOCK_COUNT | DIFF_FAM_EX | DIFF_NO_PIDFD,
	  { ON(map_memfd, "memfd", 8), ON(touch, "memfd", 0), LOCK(CUR),
	    DO(fork_lock_unlock, CUR) } },
	{ "double_mapped_partial_munmap", "a page locked through two VMAs, one unmapped",
	  DIFF_DIV_MLOCK_COUNT,
	  { ON(map_memfd_twice, "dbl", 8), ON(touch, "dbl", 0), LOCK(CUR),
	    ON(munmap_all, "dbl.2", 0) } },

	/* --- munlockall ------------------------------------------------- */
	{ "unlock_nothing_locked", "munlockall with nothing locked: 0",
	  0, { DO(map_mixed, 0), UNLOCK() } },
	{ "unlock_twice", "munlockall twice",
	  DIFF_FAM_EX, { DO(map_mixed, 0), LOCK(CUR), UNLOCK(), UNLOCK() } },
	{ "lock_unlock_baseline", "CURRENT|FUTURE then munlockall: Mlocked back to baseline",
	  DIFF_FAM_EX | DIFF_FAM_WORKERS,
	  { DO(map_mixed, 0), LOCK(CUR | FUT), UNLOCK() } },
	{ "lock_unlock_onfault", "lock-on-fault memory, touched, then unlocked",
	  0, { DO(map_mixed, 0), LOCK(CUR | FUT | ONF), ON(touch, "anon", 12),
	       UNLOCK() } },
	{ "unlock_clears_future", "munlockall cancels MCL_FUTURE",
	  DIFF_FAM_EX,
	  { DO(map_mixed, 0), LOCK(FUT), UNLOCK(), ON(mmap_new, "new", 8) } },
	{ "lock_unlock_repeated", "lock/unlock three times: the stack does not shrink",
	  DIFF_FAM_EX,
	  { DO(map_mixed, 0), LOCK(CUR), UNLOCK(), LOCK(CUR), UNLOCK(),
	    LOCK(CUR) } },

	/*
	 * --- under adversity (issue 8) ----------------------------------
	 * The populate waits on a userfaultfd fault in the first page of a
	 * mapping while a handler thread changes the rest of it (see
	 * diff_adversity.c): the populate must look at the VMA as it is
	 * when the lock comes back, as __mm_populate() does.
	 */
	{ "populate_prot_none_meanwhile", "populate waits on a fault; the rest (shared) made PROT_NONE meanwhile",
	  DIFF_NEED_UFFD | DIFF_FAM_WORKERS,
	  { DO(race_begin, RACE_PROT_NONE_SHARED), LOCK(CUR),
	    DO(race_end, 0) } },
	{ "populate_prot_none_meanwhile_private", "the same with a private mapping",
	  DIFF_NEED_UFFD, { DO(race_begin, RACE_PROT_NONE_PRIVATE), LOCK(CUR),
			    DO(race_end, 0) } },
	{ "populate_shared_file_meanwhile", "the rest replaced by a MAP_SHARED memfd meanwhile: read-faulted",
	  DIFF_NEED_UFFD, { DO(race_begin, RACE_SHARED_FILE), LOCK(CUR),
			    DO(race_end, 0) } },
	{ "populate_private_file_meanwhile", "the rest replaced by a read-only private file meanwhile",
	  DIFF_NEED_UFFD, { DO(race_begin, RACE_PRIVATE_FILE_RO), LOCK(CUR),
			    DO(race_end, 0) } },
	{ "populate_unmapped_head_meanwhile", "the first page of the next VMA unmapped meanwhile: the rest populated",
	  DIFF_NEED_UFFD | DIFF_FAM_WORKERS,
	  { DO(race_begin, RACE_UNMAP_HEAD), LOCK(CUR),
	    DO(race_end, 0) } },
	{ "populate_onfault_meanwhile", "the rest made lock-on-fault meanwhile: not populated",
	  DIFF_NEED_UFFD | DIFF_FAM_EX | DIFF_FAM_WORKERS,
	  { DO(race_begin, RACE_ONFAULT), LOCK(CUR),
	    DO(race_end, 0) } },
	{ "populate_signal_storm", "SIGALRM every ms during a 64 MiB populate: no EINTR, all populated",
	  DIFF_NO_PIDFD,
	  { ON(map_anon_small, "big", 16384), DO(signal_storm, 1000), LOCK(CUR),
	    DO(signal_storm_end, 0) } },
	{ "pkey_exec_only_unlock", "locked pages made execute-only (a pkey denies reads), then unlocked",
	  DIFF_NEED_PKEYS, { ON(map_anon, "anon", 64), ON(touch, "anon", 0), LOCK(CUR),
			     ON(mprotect_all, "anon", PROT_EXEC), UNLOCK() } },
	{ "pkey_deny_access_unlock", "locked pages behind an access-denying pkey, then unlocked",
	  DIFF_NEED_PKEYS, { ON(map_anon, "anon", 64), ON(touch, "anon", 0), LOCK(CUR),
			     ON(pkey_deny, "anon", 0), UNLOCK() } },
	{ "pkey_exec_only_lock", "present pages made execute-only, then locked: mlocked all the same",
	  DIFF_NEED_PKEYS, { ON(map_anon, "anon", 64), ON(touch, "anon", 0),
			     ON(mprotect_all, "anon", PROT_EXEC), LOCK(CUR) } },
	{ "pkey_deny_access_lock", "present pages behind an access-denying pkey, then locked",
	  DIFF_NEED_PKEYS, { ON(map_anon, "anon", 64), ON(touch, "anon", 0),
			     ON(pkey_deny, "anon", 0), LOCK(CUR) } },
	{ "thp_uffd_wp_lock", "a THP mapped by PTEs differing in uffd-wp: not mlocked (6.7+)",
	  DIFF_NEED_THP | DIFF_NEED_UFFD_WP,
	  { ON(map_thp, "thp", 0), ON(thp_uffd_wp, "thp", 0), LOCK(CUR) } },
	{ "huge_vma_8t", "an 8 TiB PROT_NONE VMA, locked and unlocked (6.1: INT_MIN pages)",
	  DIFF_HUGE_ACCOUNTING | DIFF_FAM_EX,
	  { ON(map_huge_none, "huge", 8), LOCK(CUR),
	    DO(fact_vmlck, 0), UNLOCK() } },
	{ "huge_vma_16t", "a 16 TiB PROT_NONE VMA, locked and unlocked (6.1: 0 pages)",
	  DIFF_HUGE_ACCOUNTING, { ON(map_huge_none, "huge", 16), LOCK(CUR),
				  DO(fact_vmlck, 0), UNLOCK() } },
	{ "huge_vma_24t", "a 24 TiB PROT_NONE VMA, locked and unlocked (6.1: INT_MIN pages)",
	  DIFF_HUGE_ACCOUNTING, { ON(map_huge_none, "huge", 24), LOCK(CUR),
				  DO(fact_vmlck, 0), UNLOCK() } },
	{ "pkey_deny_fresh_lock", "fresh pages behind an access-denying pkey: not populated",
	  DIFF_NEED_PKEYS | DIFF_FAM_WORKERS | DIFF_NO_PIDFD,
	  { ON(map_anon, "anon", 64), ON(pkey_deny, "anon", 0), LOCK(CUR) } },

	/*
	 * --- big memory (issue 12) --------------------------------------
	 * Enough to populate that parallel populate splits it, and that
	 * MLOCKDEV_WORKERS_AUTO uses a second thread on two CPUs.
	 */
	{ "big_anon", "64 MiB of fresh anonymous memory, THP off",
	  DIFF_FAM_WORKERS | DIFF_BIG,
	  { ON(map_anon_small, "big", 16384), LOCK(CUR), UNLOCK() } },
	{ "big_anon_thp", "64 MiB of fresh anonymous memory in THPs (MADV_HUGEPAGE)",
	  DIFF_NEED_THP | DIFF_FAM_WORKERS | DIFF_BIG,
	  { ON(map_big_thp, "big", 64), LOCK(CUR | FUT), ON(mmap_new, "new", 16) } },
	{ "big_file_shared", "a 64 MiB tmpfs file in the page cache, shared",
	  DIFF_FAM_WORKERS | DIFF_BIG,
	  { ON(map_big_file_shared, "bigfile", 64), LOCK(CUR) } },
	{ "big_file_private", "a 64 MiB tmpfs file in the page cache, private: copied",
	  DIFF_FAM_WORKERS | DIFF_BIG,
	  { ON(map_big_file_private, "bigfile", 64), LOCK(CUR), UNLOCK() } },
};

#define NR_SCENARIOS	((int)ARRAY_SIZE(scenarios))

/* ------------------------------------------------------------------ */
/* Families: which call the device path makes                          */

/*
 * The device path of a family: LOCK_ALL/UNLOCK_ALL (what mlockall(2)
 * must equal), the extensible calls made by the child itself, or the
 * extensible calls made on the child by the parent through a pidfd while
 * the child waits at a known point (issue 12).
 */
enum diff_call {
	CALL_PLAIN,
	CALL_EX,
	CALL_PIDFD,
};

struct diff_family {
	const char *name;
	const char *what;
	enum diff_call call;
	uint64_t mode;			/* mode_flags of LOCK_ALL_EX */
	uint32_t workers;		/* workers of LOCK_ALL_EX */
	unsigned int select;		/* scenarios with this flag; 0: all */
	unsigned int exclude;		/* scenarios with this flag: none */
};

static const struct diff_family families[] = {
	{ "plain", "LOCK_ALL/UNLOCK_ALL", CALL_PLAIN, 0, 0, 0, 0 },
	{ "ex", "LOCK_ALL_EX/UNLOCK_ALL_EX with mode_flags 0", CALL_EX, 0, 0,
	  DIFF_FAM_EX, 0 },
	{ "strict", "LOCK_ALL_EX with MLOCKDEV_LOCK_STRICT, where nothing "
	  "fails", CALL_EX, MLOCKDEV_LOCK_STRICT, 0, DIFF_FAM_EX, 0 },
	{ "workers2", "LOCK_ALL_EX with 2 populate workers", CALL_EX, 0, 2,
	  DIFF_FAM_WORKERS, 0 },
	{ "workers7", "LOCK_ALL_EX with 7 populate workers", CALL_EX, 0, 7,
	  DIFF_FAM_WORKERS, 0 },
	{ "workers-auto", "LOCK_ALL_EX with MLOCKDEV_WORKERS_AUTO", CALL_EX, 0,
	  MLOCKDEV_WORKERS_AUTO, DIFF_FAM_WORKERS, 0 },
	{ "pidfd", "LOCK_ALL_EX/UNLOCK_ALL_EX with MLOCKDEV_LOCK_PIDFD by the "
	  "parent, while the child waits", CALL_PIDFD, MLOCKDEV_LOCK_PIDFD, 0,
	  0, DIFF_NO_PIDFD },
};

#define NR_FAMILIES	((int)ARRAY_SIZE(families))

/* The families a program runs unless --family says otherwise. */
#ifndef DIFF_DEFAULT_FAMILIES
#define DIFF_DEFAULT_FAMILIES	"plain"
#endif

/*
 * MLOCKDEV_DIFF_QUICK=1 (make check sets it on the debug kernels, where a
 * scenario takes ten times as long): of the ABI 1.1 families only ex and
 * workers2 run, and pidfd only the scenarios the ex family runs.  The
 * stock kernels run them all; the plain family always runs whole.
 */
static bool quick;

static bool family_runs(const struct diff_family *fam,
			const struct diff_scenario *sc)
{
	if (quick && fam->call == CALL_PIDFD && !(sc->flags & DIFF_FAM_EX))
		return false;
	return (!fam->select || (sc->flags & fam->select)) &&
	       !(sc->flags & fam->exclude);
}

/* ------------------------------------------------------------------ */
/* The two paths, and the self-check's wrong device path               */

enum sabotage {
	SABOTAGE_NONE,
	SABOTAGE_ONFAULT,	/* LOCK_ALL with MCL_ONFAULT added: no populate */
	SABOTAGE_NOOP,		/* LOCK_ALL and UNLOCK_ALL do nothing */
	SABOTAGE_NOFUTURE,	/* LOCK_ALL drops MCL_FUTURE */
	SABOTAGE_KEEP_LOCKED,	/* UNLOCK_ALL does nothing */
	SABOTAGE_SPLIT,		/* LOCK_ALL, then one page left unlocked */
	SABOTAGE_UNLOCK_FAILS,	/* UNLOCK_ALL fails with EINVAL */
	SABOTAGE_NR,
};

static const char *const sabotage_names[SABOTAGE_NR] = {
	[SABOTAGE_NONE] = "none",
	[SABOTAGE_ONFAULT] = "onfault",
	[SABOTAGE_NOOP] = "noop",
	[SABOTAGE_NOFUTURE] = "nofuture",
	[SABOTAGE_KEEP_LOCKED] = "keep-locked",
	[SABOTAGE_SPLIT] = "split",
	[SABOTAGE_UNLOCK_FAILS] = "unlock-fails",
};

/* Stand-in for errno's value before a call, to see whether it changed. */
#define ERRNO_SENTINEL	0x5a5a

/*
 * Both paths must use the same stack pages: a page one path writes and
 * the other does not would differ in smaps (copy-on-write from the
 * parent).  So before every lock or unlock, write the 16 KiB below the
 * caller, far deeper than either path goes.
 */
void __attribute__((noinline)) diff_touch_stack(void)
{
	volatile char area[16384];
	size_t i;

	for (i = 0; i < sizeof(area); i += 256)
		area[i] = 0;
}

/*
 * The flags the self-check's device path really asks for, in *@flags;
 * false: no call at all.  (Not -1 as "no call": -1 is a flags value a
 * scenario passes, flags_all_bits.)
 */
static bool sabotaged_lock_flags(int sabotage, int *flags)
{
	switch (sabotage) {
	case SABOTAGE_ONFAULT:
		if (*flags & (MCL_CURRENT | MCL_FUTURE))
			*flags |= MCL_ONFAULT;
		break;
	case SABOTAGE_NOOP:
		return false;
	case SABOTAGE_NOFUTURE:
		if (*flags & MCL_CURRENT)
			*flags &= ~MCL_FUTURE;
		break;
	}
	return true;
}

/*
 * Whether the self-check's device path skips an unlock (0: pretend it
 * worked, EINVAL: pretend it failed), or -1 to make it.
 */
static int sabotaged_unlock(int sabotage)
{
	if (sabotage == SABOTAGE_NOOP || sabotage == SABOTAGE_KEEP_LOCKED)
		return 0;
	if (sabotage == SABOTAGE_UNLOCK_FAILS)
		return EINVAL;
	return -1;
}

/*
 * An extra VMA that is not just a split of alike ones: the merge
 * divergence must not hide it.
 */
static void sabotage_split(struct diff_ctx *ctx, int flags)
{
	if (ctx->sabotage == SABOTAGE_SPLIT && (flags & MCL_CURRENT) &&
	    ctx->snap->nmaps)
		munlock((void *)(uintptr_t)ctx->snap->map[0].addr, ctx->page);
}

/* Keep what an extensible call's report said, for the family checks. */
static void keep_report(struct diff_ctx *ctx, bool lock, int flags, int ret,
			const struct mlockdev_report *r)
{
	struct diff_ex_result *x;

	if (ctx->step < 0 || ctx->step >= DIFF_MAX_STEPS)
		return;
	x = &ctx->snap->ex[ctx->step];
	x->called = 1;
	x->lock = lock;
	x->flags = flags;
	x->ret = ret;
	x->workers_used = r->workers_used;
	x->locked_vm_after = r->locked_vm_after;
}

/*
 * A message between a child of the pidfd family and the parent: the
 * child asks for a lock or an unlock and waits for the answer; the
 * parent makes the call on the child's pidfd (device path) or nothing
 * (syscall path: the child then calls mlockall itself, at the same point).
 */
struct diff_pidfd_msg {
	int32_t lock;
	int32_t flags;
	int32_t ret;
	int32_t err;
};

static int ask_parent(struct diff_ctx *ctx, bool lock, int flags, int *err)
{
	struct diff_pidfd_msg msg = { .lock = lock, .flags = flags };

	if (write(ctx->req_fd, &msg, sizeof(msg)) != sizeof(msg) ||
	    read(ctx->reply_fd, &msg, sizeof(msg)) != sizeof(msg))
		return diff_fail(ctx, "pidfd: no answer from the parent: %s",
				 strerror(errno));
	*err = msg.err;
	return msg.ret;
}

static int device_lock(struct diff_ctx *ctx, int flags)
{
	const struct diff_family *fam = &families[ctx->family];
	struct mlockdev_lockall_ex lx;
	struct mlockdev_lockall la;
	int ret;

	if (!sabotaged_lock_flags(ctx->sabotage, &flags))
		return 0;
	switch (fam->call) {
	case CALL_PLAIN:
		memset(&la, 0, sizeof(la));
		la.flags = (unsigned int)flags;
		ret = ioctl(ctx->dev_fd, MLOCKDEV_IOC_LOCK_ALL, &la);
		break;
	case CALL_EX:
	default:
		memset(&lx, 0, sizeof(lx));
		lx.size = sizeof(lx);
		lx.flags = (unsigned int)flags;
		lx.mode_flags = fam->mode;
		lx.workers = fam->workers;
		ret = ioctl(ctx->dev_fd, MLOCKDEV_IOC_LOCK_ALL_EX, &lx);
		keep_report(ctx, true, flags, ret, &lx.report);
		break;
	}
	if (!ret)
		sabotage_split(ctx, flags);
	return ret;
}

static int device_unlock(struct diff_ctx *ctx)
{
	const struct diff_family *fam = &families[ctx->family];
	struct mlockdev_unlockall_ex ux;
	struct mlockdev_unlockall ua;
	int skip = sabotaged_unlock(ctx->sabotage), ret;

	if (skip >= 0) {
		errno = skip ? skip : errno;
		return skip ? -1 : 0;
	}
	if (fam->call == CALL_PLAIN) {
		memset(&ua, 0, sizeof(ua));
		return ioctl(ctx->dev_fd, MLOCKDEV_IOC_UNLOCK_ALL, &ua);
	}
	memset(&ux, 0, sizeof(ux));
	ux.size = sizeof(ux);
	/* STRICT is a lock mode; unlocking has nothing to undo. */
	ux.mode_flags = fam->mode & ~MLOCKDEV_LOCK_STRICT;
	ret = ioctl(ctx->dev_fd, MLOCKDEV_IOC_UNLOCK_ALL_EX, &ux);
	keep_report(ctx, false, 0, ret, &ux.report);
	return ret;
}

static void record_action(struct diff_ctx *ctx, int ret)
{
	int err = errno;

	diff_record(ctx, ret, ret ? err : 0, err == ERRNO_SENTINEL);
}

/*
 * A lock or unlock of the pidfd family, on either path: first stop at the
 * known point and let the parent act (device path) or not (syscall path,
 * which then makes the system call itself).  Both paths do the same
 * writes and reads, so the snapshots differ only by what the lock did.
 */
static int pidfd_action(struct diff_ctx *ctx, bool lock, int flags)
{
	int err = 0, ret;

	ret = ask_parent(ctx, lock, flags, &err);
	if (ret == -1 && ctx->snap->error[0])
		return -1;
	if (ctx->path == DIFF_SYSCALL || ctx->null_run) {
		errno = ERRNO_SENTINEL;
		ret = lock ? mlockall(flags) : munlockall();
	} else if (ret) {
		errno = err;
	} else if (lock) {
		sabotage_split(ctx, flags);
	}
	record_action(ctx, ret);
	return 0;
}

int diff_lock(struct diff_ctx *ctx, int flags)
{
	int ret;

	diff_touch_stack();
	errno = ERRNO_SENTINEL;
	if (families[ctx->family].call == CALL_PIDFD)
		return pidfd_action(ctx, true, flags);
	if (ctx->path == DIFF_SYSCALL || ctx->null_run)
		ret = mlockall(flags);
	else
		ret = device_lock(ctx, flags);
	record_action(ctx, ret);
	return 0;
}

int diff_unlock(struct diff_ctx *ctx)
{
	int ret;

	diff_touch_stack();
	errno = ERRNO_SENTINEL;
	if (families[ctx->family].call == CALL_PIDFD)
		return pidfd_action(ctx, false, 0);
	if (ctx->path == DIFF_SYSCALL || ctx->null_run)
		ret = munlockall();
	else
		ret = device_unlock(ctx);
	record_action(ctx, ret);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The children                                                        */

/*
 * The child's working snapshot: at the same address on both paths, so
 * both write the same pages.  The parent receives into received[].
 */
static struct diff_snapshot work;
static struct diff_snapshot received[DIFF_NR_PATHS];
static struct diff_ctx child_ctx;
static bool null_run;
static bool verbose;
/* The family the parent is running (children get it in their ctx). */
static int run_family;

void diff_child_run(struct diff_ctx *ctx, int from)
{
	const struct diff_scenario *sc = ctx->sc;
	int i;

	for (i = from; i < DIFF_MAX_STEPS && sc->steps[i].fn; i++) {
		ctx->step = i;
		/* Steps that make no compared call leave it at "0". */
		ctx->snap->step[i].ran = 1;
		ctx->snap->step[i].errno_kept = 1;
		if (sc->steps[i].fn(ctx, sc->steps[i].map, sc->steps[i].arg))
			goto send;
	}
	ctx->step = -1;
	diff_probe_mapping(ctx);
	diff_take_snapshot(ctx);
send:
	diff_release_holder(ctx);
	diff_write_snapshot(ctx->result_fd, ctx->snap);
	_exit(0);
}

static void init_child(struct diff_ctx *ctx, int sc_index, int path,
		       int result_fd, int sabotage, int family)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->sc = &scenarios[sc_index];
	ctx->sc_index = sc_index;
	ctx->path = path;
	ctx->result_fd = result_fd;
	ctx->sabotage = path == DIFF_DEVICE ? sabotage : SABOTAGE_NONE;
	ctx->page = sysconf(_SC_PAGESIZE);
	ctx->snap = &work;
	ctx->step = -1;
	ctx->null_run = null_run;
	ctx->family = family;
	ctx->req_fd = -1;
	ctx->reply_fd = -1;
	/* Opened on both paths, so both have the same files open. */
	ctx->dev_fd = open(null_run ? "/dev/null" : DEV_PATH,
			   O_RDWR | O_CLOEXEC);
}

static void __attribute__((noreturn))
child_main(int sc_index, int path, int result_fd, int sabotage, int family,
	   int req_fd, int reply_fd)
{
	struct diff_ctx *ctx = &child_ctx;

	memset(&work, 0, sizeof(work));
	work.magic = DIFF_SNAPSHOT_MAGIC;
	work.size = sizeof(work);
	work.path = path;
	init_child(ctx, sc_index, path, result_fd, sabotage, family);
	ctx->req_fd = req_fd;
	ctx->reply_fd = reply_fd;
	if (ctx->dev_fd < 0) {
		diff_fail(ctx, "open %s: %s", DEV_PATH, strerror(errno));
		diff_write_snapshot(result_fd, &work);
		_exit(0);
	}
	if (diff_settle()) {
		diff_fail(ctx, "cannot write /proc/sys/vm/stat_refresh");
		diff_write_snapshot(result_fd, &work);
		_exit(0);
	}
	work.mlocked_base_kb = diff_meminfo_kb("Mlocked");
	diff_child_run(ctx, 0);
}

/*
 * The second half of step_exec_self, in the new program image:
 * mlockdev_diff_test --continue SCENARIO STEP PATH RESULT_FD CARRY_FD
 * SABOTAGE NULL_RUN FAMILY (fixed-width numbers).  A pidfd family child
 * cannot ask the parent for more locks after exec (its pipes are
 * close-on-exec); no scenario locks after exec_self.
 */
static int exec_resume(int argc, char **argv)
{
	struct diff_ctx *ctx = &child_ctx;
	int sc_index, step, path, result_fd, carry_fd, sabotage, family;

	if (argc != 10)
		return 2;
	sc_index = atoi(argv[2]);
	step = atoi(argv[3]);
	path = atoi(argv[4]);
	result_fd = atoi(argv[5]);
	carry_fd = atoi(argv[6]);
	sabotage = atoi(argv[7]);
	null_run = atoi(argv[8]);
	family = atoi(argv[9]);
	if (sc_index < 0 || sc_index >= NR_SCENARIOS || step < 0 ||
	    step >= DIFF_MAX_STEPS || path < 0 || path >= DIFF_NR_PATHS ||
	    family < 0 || family >= NR_FAMILIES)
		return 2;
	fcntl(result_fd, F_SETFD, FD_CLOEXEC);

	init_child(ctx, sc_index, path, result_fd, sabotage, family);
	if (diff_read_carry(carry_fd, &work)) {
		memset(&work, 0, sizeof(work));
		work.magic = DIFF_SNAPSHOT_MAGIC;
		work.size = sizeof(work);
		diff_fail(ctx, "the snapshot did not survive exec");
		diff_write_snapshot(result_fd, &work);
		_exit(0);
	}
	diff_child_run(ctx, step + 1);
}

/* ------------------------------------------------------------------ */
/* The parent                                                          */

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += n;
	}
	return done;
}

/*
 * The parent's half of a pidfd-family lock or unlock on the device path:
 * a locker process forked for the call (on the syscall path too, where it
 * calls nothing: see remote_call()), with the capabilities the child
 * has (so that CAP_IPC_LOCK, which the caller's side of a pidfd call
 * brings, is there exactly when the child itself would have it), calls
 * LOCK_ALL_EX or UNLOCK_ALL_EX on the child's pidfd.  The parent itself
 * never locks anything and never changes its credentials.
 */
static int mirror_caps(pid_t target)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	char path[64], buf[4096], *line;
	unsigned long long eff;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)target);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	line = strstr(buf, "\nCapEff:");
	if (!line)
		return -1;
	eff = strtoull(line + 8, NULL, 16);
	if (syscall(SYS_capget, &hdr, data))
		return -1;
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		data[i].effective &= (uint32_t)(eff >> (32 * i));
		data[i].permitted = data[i].effective;
		data[i].inheritable = 0;
	}
	return syscall(SYS_capset, &hdr, data);
}

static void remote_call(pid_t target, int pidfd, int sabotage, bool act,
			struct diff_pidfd_msg *msg)
{
	const struct diff_family *fam = &families[run_family];
	int status = 0, err, flags = msg->flags;
	pid_t pid;

	msg->ret = 0;
	msg->err = 0;
	if (act && msg->lock) {
		if (!sabotaged_lock_flags(sabotage, &flags))
			act = false;
	} else if (act) {
		err = sabotaged_unlock(sabotage);
		if (err >= 0) {
			msg->err = err;
			msg->ret = err ? -1 : 0;
			act = false;
		}
	}
	if (act && pidfd < 0) {
		msg->ret = -1;
		msg->err = EBADF;
		act = false;
	}

	/*
	 * Fork the locker whether or not it calls: the fork (and the
	 * flushes before it) write the parent's pages, and a page the
	 * parent writes after the child was forked stops being shared with
	 * the child -- on one path only, if only one path forked.
	 */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		msg->ret = -1;
		msg->err = errno;
		return;
	}
	if (!pid) {
		struct mlockdev_lockall_ex lx;
		struct mlockdev_unlockall_ex ux;
		int dev, ret;

		if (!act)
			_exit(0);
		if (mirror_caps(target))
			_exit(200);
		dev = open(DEV_PATH, O_RDWR | O_CLOEXEC);
		if (dev < 0)
			_exit(201);
		if (msg->lock) {
			memset(&lx, 0, sizeof(lx));
			lx.size = sizeof(lx);
			lx.flags = (unsigned int)flags;
			lx.mode_flags = fam->mode;
			lx.pidfd = pidfd;
			lx.workers = fam->workers;
			ret = ioctl(dev, MLOCKDEV_IOC_LOCK_ALL_EX, &lx);
		} else {
			memset(&ux, 0, sizeof(ux));
			ux.size = sizeof(ux);
			ux.mode_flags = fam->mode & ~MLOCKDEV_LOCK_STRICT;
			ux.pidfd = pidfd;
			ret = ioctl(dev, MLOCKDEV_IOC_UNLOCK_ALL_EX, &ux);
		}
		_exit(ret ? errno : 0);
	}
	waitpid(pid, &status, 0);
	if (!act)
		return;
	if (!WIFEXITED(status) || WEXITSTATUS(status) >= 200) {
		ksft_print_msg("pidfd locker: %s (status 0x%x)\n",
			       WIFEXITED(status) && WEXITSTATUS(status) == 200 ?
			       "cannot take the child's capabilities" :
			       "cannot open " DEV_PATH, status);
		msg->ret = -1;
		msg->err = EIO;
		return;
	}
	msg->err = WEXITSTATUS(status);
	msg->ret = msg->err ? -1 : 0;
}

/*
 * Answer the child's requests until its snapshot starts to arrive on
 * @snap_fd (or the request pipe closes: the child exec'd or died).
 */
static void serve_child(pid_t child, int path, int sabotage, int req_fd,
			int reply_fd, int snap_fd)
{
	struct diff_pidfd_msg msg;
	struct pollfd pfd[2];
	int pidfd;

	pidfd = syscall(SYS_pidfd_open, child, 0);
	if (pidfd < 0)
		ksft_print_msg("pidfd_open: %s\n", strerror(errno));
	for (;;) {
		pfd[0].fd = snap_fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = req_fd;
		pfd[1].events = POLLIN;
		if (poll(pfd, req_fd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			break;
		if (!(pfd[1].revents & (POLLIN | POLLHUP)))
			continue;
		if (read_full(req_fd, &msg, sizeof(msg)) != sizeof(msg)) {
			req_fd = -1;	/* closed: the snapshot comes next */
			continue;
		}
		/* On both paths: the locker only calls on the device path. */
		remote_call(child, pidfd, sabotage,
			    path == DIFF_DEVICE && !null_run, &msg);
		if (write(reply_fd, &msg, sizeof(msg)) != sizeof(msg))
			break;
	}
	if (pidfd >= 0)
		close(pidfd);
}

/*
 * Run one path of a scenario in a fresh child and collect its snapshot,
 * plus what the child's life did to the system-wide counters.
 */
static void run_path(int sc_index, int path, int sabotage,
		     struct diff_snapshot *out)
{
	int64_t vs_before[VS_NR], vs_after[VS_NR], ml_before, ml_after;
	int64_t unev_before, unev_after;
	int fds[2], req[2] = { -1, -1 }, reply[2] = { -1, -1 };
	bool pidfd_family = families[run_family].call == CALL_PIDFD;
	int status = 0, i;
	ssize_t got;
	pid_t pid;

	diff_settle();
	ml_before = diff_meminfo_kb("Mlocked");
	unev_before = diff_meminfo_kb("Unevictable");
	diff_read_vmstat(vs_before);

	memset(out, 0, sizeof(*out));
	if (pipe2(fds, O_CLOEXEC) ||
	    (pidfd_family && (pipe2(req, O_CLOEXEC) || pipe2(reply, O_CLOEXEC)))) {
		snprintf(out->error, sizeof(out->error), "pipe: %s",
			 strerror(errno));
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		snprintf(out->error, sizeof(out->error), "fork: %s",
			 strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (!pid) {
		close(fds[0]);
		if (pidfd_family) {
			close(req[0]);
			close(reply[1]);
		}
		child_main(sc_index, path, fds[1], sabotage, run_family,
			   req[1], reply[0]);
	}
	close(fds[1]);
	if (pidfd_family) {
		close(req[1]);
		close(reply[0]);
		serve_child(pid, path, sabotage, req[0], reply[1], fds[0]);
		close(req[0]);
		close(reply[1]);
	}
	got = read_full(fds[0], out, sizeof(*out));
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (got != (ssize_t)sizeof(*out)) {
		memset(out, 0, sizeof(*out));
		snprintf(out->error, sizeof(out->error),
			 "the child sent %zd of %zu bytes and ended with "
			 "status 0x%x", got, sizeof(*out), status);
	}
	out->wait_status = status;

	diff_settle();
	ml_after = diff_meminfo_kb("Mlocked");
	unev_after = diff_meminfo_kb("Unevictable");
	diff_read_vmstat(vs_after);
	out->exit_mlocked_delta_kb = ml_after - ml_before;
	out->exit_unevictable_delta_kb = unev_after - unev_before;
	for (i = 0; i < VS_NR; i++)
		out->vmstat_delta[i] = vs_after[i] - vs_before[i];
}

/* --- requirements ------------------------------------------------------ */

static long hugetlb_saved = -1;

static long read_long_file(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static int write_long_file(const char *path, long value)
{
	char buf[32];
	int fd, n, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "%ld", value);
	if (write(fd, buf, n) != n)
		ret = -1;
	close(fd);
	return ret;
}

#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"

/* Make DIFF_HUGETLB_PAGES 2 MiB pages free; restored after the scenario. */
static bool hugetlb_reserve(char *why, size_t n)
{
	long total = read_long_file(NR_HUGEPAGES);
	int64_t free_pages = diff_meminfo_kb("HugePages_Free");

	if (diff_meminfo_kb("Hugepagesize") != 2048) {
		snprintf(why, n, "the default huge page size is not 2 MiB");
		return false;
	}
	if (total < 0 || free_pages < 0) {
		snprintf(why, n, "no hugetlb support (%s)", NR_HUGEPAGES);
		return false;
	}
	if (free_pages >= DIFF_HUGETLB_PAGES)
		return true;
	hugetlb_saved = total;
	if (write_long_file(NR_HUGEPAGES,
			    total + DIFF_HUGETLB_PAGES - free_pages) ||
	    diff_meminfo_kb("HugePages_Free") < DIFF_HUGETLB_PAGES) {
		snprintf(why, n, "cannot reserve %d huge pages through %s",
			 DIFF_HUGETLB_PAGES, NR_HUGEPAGES);
		return false;
	}
	return true;
}

static void hugetlb_restore(void)
{
	if (hugetlb_saved >= 0)
		write_long_file(NR_HUGEPAGES, hugetlb_saved);
	hugetlb_saved = -1;
}

static bool secretmem_works(char *why, size_t n)
{
	int fd = syscall(SYS_memfd_secret, 0);

	if (fd >= 0) {
		close(fd);
		return true;
	}
	snprintf(why, n, "memfd_secret: %s%s", strerror(errno),
		 errno == ENOSYS ? " (6.1 needs secretmem.enable=1 on the "
				   "kernel command line)" : "");
	return false;
}

static bool sysv_shm_works(char *why, size_t n)
{
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);

	if (id < 0) {
		snprintf(why, n, "shmget: %s", strerror(errno));
		return false;
	}
	shmctl(id, IPC_RMID, NULL);
	return true;
}

static bool thp_enabled(char *why, size_t n)
{
	char buf[128];
	ssize_t len;
	int fd;

	fd = open("/sys/kernel/mm/transparent_hugepage/enabled",
		  O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, n, "no transparent huge pages");
		return false;
	}
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[len > 0 ? len : 0] = '\0';
	if (strstr(buf, "[never]")) {
		snprintf(why, n, "transparent huge pages are disabled");
		return false;
	}
	return true;
}

static bool uffd_works(char *why, size_t n)
{
	int fd = diff_userfaultfd();

	if (fd >= 0) {
		close(fd);
		return true;
	}
	snprintf(why, n, "userfaultfd: %s%s", strerror(errno),
		 errno == ENOSYS ? " (kernel without CONFIG_USERFAULTFD)" : "");
	return false;
}

/* Write-protection of anonymous memory (CONFIG_HAVE_ARCH_USERFAULTFD_WP). */
static bool uffd_wp_works(char *why, size_t n)
{
	long page = sysconf(_SC_PAGESIZE);
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	bool ok = false;
	void *p;
	int fd;

	if (!uffd_works(why, n))
		return false;
	fd = diff_userfaultfd();
	p = mmap(NULL, page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fd >= 0 && p != MAP_FAILED) {
		reg.range.start = (uintptr_t)p;
		reg.range.len = page;
		ok = !ioctl(fd, UFFDIO_REGISTER, &reg);
		if (!ok)
			snprintf(why, n, "userfaultfd write-protection of "
				 "anonymous memory: %s", strerror(errno));
	} else {
		snprintf(why, n, "userfaultfd/mmap: %s", strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	if (p != MAP_FAILED)
		munmap(p, page);
	return ok;
}

static bool pkeys_work(char *why, size_t n)
{
	int pkey = pkey_alloc(0, 0);

	if (pkey >= 0) {
		pkey_free(pkey);
		return true;
	}
	snprintf(why, n, "pkey_alloc: %s (no protection keys: CPU without "
		 "PKU, or kernel without "
		 "CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS)", strerror(errno));
	return false;
}

static bool requirements_met(const struct diff_scenario *sc, char *why,
			     size_t n)
{
	if ((sc->flags & DIFF_NEED_UFFD) && !uffd_works(why, n))
		return false;
	if ((sc->flags & DIFF_NEED_UFFD_WP) && !uffd_wp_works(why, n))
		return false;
	if ((sc->flags & DIFF_NEED_PKEYS) && !pkeys_work(why, n))
		return false;
	if ((sc->flags & DIFF_NEED_SYSV_SHM) && !sysv_shm_works(why, n))
		return false;
	if ((sc->flags & DIFF_NEED_SECRETMEM) && !secretmem_works(why, n))
		return false;
	if ((sc->flags & DIFF_NEED_THP) && !thp_enabled(why, n))
		return false;
	if ((sc->flags & DIFF_NEED_HUGETLB) && !hugetlb_reserve(why, n))
		return false;
	return true;
}

/* --- bookkeeping --------------------------------------------------------- */

static struct {
	int scenarios, both, identical, documented, different, skipped;
} count[NR_FAMILIES];

static int self_check_mode = -1;	/* -1 off, 0 rotate, else a sabotage */
/* The module's populate_workers parameter: what workers 0 means. */
static long module_populate_workers;
static long online_cpus;

static int sabotage_for(int sc_index)
{
	if (self_check_mode < 0)
		return SABOTAGE_NONE;
	if (self_check_mode > 0)
		return self_check_mode;
	return 1 + sc_index % (SABOTAGE_NR - 1);
}

/* "flags_current" in the plain family, "ex:flags_current" in the others. */
static const char *result_name(const struct diff_scenario *sc)
{
	static char name[96];

	if (!run_family)
		return sc->name;
	snprintf(name, sizeof(name), "%s:%s", families[run_family].name,
		 sc->name);
	return name;
}

/*
 * What the reports of the device path's extensible calls must say: how
 * many threads populated.  Asked for only of successful locks with
 * MCL_CURRENT and without MCL_ONFAULT, the ones that populate everything.
 * workers 0 is the caller alone (unless the module parameter says
 * otherwise); 2 is two; 7 is between 2 and 7 (fewer chunks than threads
 * need fewer threads); AUTO is the caller alone under 64 MiB and, with two
 * CPUs or more, at least two threads for the DIFF_BIG scenarios.
 */
static bool check_reports(const struct diff_scenario *sc,
			  const struct diff_snapshot *dev)
{
	const struct diff_family *fam = &families[run_family];
	unsigned long lo, hi;
	bool ok = true;
	int i;

	if (fam->call != CALL_EX || null_run || self_check_mode >= 0)
		return true;
	for (i = 0; i < DIFF_MAX_STEPS; i++) {
		const struct diff_ex_result *x = &dev->ex[i];

		if (!x->called || !x->lock || x->ret ||
		    (x->flags & (MCL_CURRENT | MCL_ONFAULT)) != MCL_CURRENT)
			continue;
		switch (fam->workers) {
		case MLOCKDEV_WORKERS_SYSCALL:
			if (module_populate_workers)
				continue;
			lo = hi = 1;
			break;
		case MLOCKDEV_WORKERS_AUTO:
			if (!(sc->flags & DIFF_BIG))
				lo = hi = 1;
			else if (online_cpus >= 2)
				lo = 2, hi = online_cpus;
			else
				lo = hi = 1;
			break;
		default:
			lo = fam->workers > 2 ? 2 : fam->workers;
			hi = fam->workers;
			break;
		}
		if (x->workers_used >= lo && x->workers_used <= hi)
			continue;
		printf("# %s: step %d %s: report.workers_used %llu, expected "
		       "%lu..%lu\n", result_name(sc), i + 1, sc->steps[i].name,
		       (unsigned long long)x->workers_used, lo, hi);
		ok = false;
	}
	return ok;
}

static void run_scenario(int sc_index, long page)
{
	const struct diff_scenario *sc = &scenarios[sc_index];
	int sabotage = sabotage_for(sc_index);
	char why[160];
	enum diff_verdict v;
	int path;

	count[run_family].scenarios++;
	why[0] = '\0';
	if (!requirements_met(sc, why, sizeof(why))) {
		hugetlb_restore();
		count[run_family].skipped++;
		ksft_test_result_skip("%s: %s\n", result_name(sc), why);
		return;
	}
	if (sabotage)
		ksft_print_msg("%s: self-check, the device path lies: %s\n",
			       result_name(sc), sabotage_names[sabotage]);
	for (path = 0; path < DIFF_NR_PATHS; path++)
		run_path(sc_index, path, sabotage, &received[path]);
	hugetlb_restore();

	count[run_family].both++;
	if (verbose)
		for (path = 0; path < DIFF_NR_PATHS; path++)
			diff_describe(sc, &received[path], path);
	v = diff_compare(sc, &received[DIFF_SYSCALL], &received[DIFF_DEVICE],
			 page);
	if (!check_reports(sc, &received[DIFF_DEVICE]))
		v = DIFF_DIFFERENT;
	switch (v) {
	case DIFF_IDENTICAL:
		count[run_family].identical++;
		ksft_test_result_pass("%s\n", result_name(sc));
		break;
	case DIFF_DOCUMENTED:
		count[run_family].documented++;
		ksft_test_result_pass("%s\n", result_name(sc));
		break;
	case DIFF_DIFFERENT:
		count[run_family].different++;
		ksft_test_result_fail("%s\n", result_name(sc));
		break;
	}
}

/* --- set-up ---------------------------------------------------------------- */

/*
 * Re-execute once with an environment that keeps the C library from
 * writing to memory behind our back:
 *
 *  - LD_BIND_NOW: resolve every PLT entry now, in the parent.  Lazy
 *    binding in a child would write to the GOT on the first call of a
 *    function, and only one path calls mlockall(), only the other ioctl().
 *  - glibc.pthread.rseq=0: no restartable-sequences area.  The kernel
 *    writes the current CPU into it whenever the task comes back to user
 *    space after being scheduled, at moments nobody controls; a write to
 *    a page shared copy-on-write with a grandchild decides who copies it.
 */
static void reexec_quiet(char **argv)
{
	const char *tunables = getenv("GLIBC_TUNABLES");
	char buf[512];

	if (getenv("MLOCKDEV_DIFF_REEXEC"))
		return;
	setenv("MLOCKDEV_DIFF_REEXEC", "1", 1);
	setenv("LD_BIND_NOW", "1", 1);
	snprintf(buf, sizeof(buf), "%s%sglibc.pthread.rseq=0",
		 tunables ? tunables : "", tunables ? ":" : "");
	setenv("GLIBC_TUNABLES", buf, 1);
	execv("/proc/self/exe", argv);
	/* Not fatal: the comparison will show it if it matters. */
	ksft_print_msg("cannot re-exec with a quiet environment: %s\n",
		       strerror(errno));
}

/*
 * Grow the stack now, well below anything the children will use, so that
 * neither child's [stack] grows because one path needs a few more bytes.
 */
static void __attribute__((noinline)) pregrow_stack(void)
{
	volatile char area[256 * 1024];
	size_t i;

	for (i = 0; i < sizeof(area); i += 1024)
		area[i] = 0;
}

/* Per-CPU LRU and mlock batches: keep everything on one CPU. */
static void pin_to_one_cpu(void)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			break;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void usage(const char *prog, int status)
{
	int i;

	printf("Usage: %s [-l] [-v] [--null] [--self-check[=MODE]] "
	       "[--family=F[,F...]] [PATTERN...]\n"
	       "  -l                 list the scenarios (and the families "
	       "running each)\n"
	       "  -v                 also print what each path saw\n"
	       "  --null             both children use the system calls\n"
	       "  --self-check[=M]   sabotage the device path (M: rotate, "
	       "onfault, noop,\n"
	       "                     nofuture, keep-locked, split, "
	       "unlock-fails); also\n"
	       "                     "
	       "MLOCKDEV_DIFF_SELF_CHECK=M\n"
	       "  --family=F,...     what the device path calls (default: "
	       "%s):\n", prog, DIFF_DEFAULT_FAMILIES);
	for (i = 0; i < NR_FAMILIES; i++)
		printf("                     %-13s %s\n", families[i].name,
		       families[i].what);
	printf("  PATTERN            run the scenarios matching it (fnmatch)\n");
	exit(status);
}

static int parse_self_check(const char *mode)
{
	int i;

	if (!*mode || !strcmp(mode, "1") || !strcmp(mode, "rotate"))
		return 0;
	if (!strcmp(mode, "0"))
		return -1;
	for (i = 1; i < SABOTAGE_NR; i++)
		if (!strcmp(mode, sabotage_names[i]))
			return i;
	fprintf(stderr, "unknown self-check mode '%s'\n", mode);
	exit(KSFT_FAIL);
}

/* "ex,strict" -> the families' bits in *@mask. */
static void parse_families(const char *list, unsigned int *mask)
{
	char buf[256], *name, *save = NULL;
	int i;

	snprintf(buf, sizeof(buf), "%s", list);
	*mask = 0;
	for (name = strtok_r(buf, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < NR_FAMILIES; i++)
			if (!strcmp(name, families[i].name))
				break;
		if (i == NR_FAMILIES) {
			fprintf(stderr, "unknown family '%s'\n", name);
			exit(KSFT_FAIL);
		}
		*mask |= 1u << i;
	}
}

static bool selected(char **patterns, int npatterns, const char *name)
{
	int i;

	if (!npatterns)
		return true;
	for (i = 0; i < npatterns; i++)
		if (!fnmatch(patterns[i], name, 0))
			return true;
	return false;
}

/* Why a family cannot run with this module, or "" if it can. */
static void family_unsupported(int f, uint64_t features, char *why, size_t n)
{
	const struct diff_family *fam = &families[f];
	uint64_t need = 0;

	why[0] = '\0';
	if (null_run || fam->call == CALL_PLAIN)
		return;
	need = MLOCKDEV_FEAT_LOCK_ALL_EX | MLOCKDEV_FEAT_UNLOCK_ALL_EX;
	if (fam->mode & MLOCKDEV_LOCK_STRICT)
		need |= MLOCKDEV_FEAT_STRICT;
	if (fam->mode & MLOCKDEV_LOCK_PIDFD)
		need |= MLOCKDEV_FEAT_PIDFD;
	if (fam->workers)
		need |= MLOCKDEV_FEAT_WORKERS;
	if ((features & need) != need)
		snprintf(why, n, "the module lacks features 0x%llx (has 0x%llx)",
			 (unsigned long long)(need & ~features),
			 (unsigned long long)features);
}

static uint64_t module_features(void)
{
	struct mlockdev_version ver;
	int fd = open(DEV_PATH, O_RDONLY | O_CLOEXEC);

	memset(&ver, 0, sizeof(ver));
	if (fd < 0)
		return 0;
	if (ioctl(fd, MLOCKDEV_IOC_VERSION, &ver))
		ver.features = 0;
	close(fd);
	return ver.features;
}

int main(int argc, char **argv)
{
	char **patterns = calloc(argc, sizeof(*patterns));
	int npatterns = 0, nselected = 0, i, f, total_both = 0;
	long page = sysconf(_SC_PAGESIZE);
	unsigned int fmask;
	uint64_t features;
	const char *env;
	char why[128] = "", fwhy[160];
	struct utsname uts;
	bool split_rss = false;
	bool list = false;

	if (argc >= 2 && !strcmp(argv[1], "--continue"))
		return exec_resume(argc, argv);

	parse_families(DIFF_DEFAULT_FAMILIES, &fmask);
	env = getenv("MLOCKDEV_DIFF_QUICK");
	quick = env && !strcmp(env, "1");
	if (quick) {
		for (i = 0; i < NR_FAMILIES; i++)
			if (!strcmp(families[i].name, "strict") ||
			    !strcmp(families[i].name, "workers7") ||
			    !strcmp(families[i].name, "workers-auto"))
				fmask &= ~(1u << i);
		if (!fmask)
			parse_families(DIFF_DEFAULT_FAMILIES, &fmask);
	}
	env = getenv("MLOCKDEV_DIFF_SELF_CHECK");
	if (env && *env)
		self_check_mode = parse_self_check(env);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-l"))
			list = true;
		else if (!strcmp(argv[i], "-v"))
			verbose = true;
		else if (!strcmp(argv[i], "--null"))
			null_run = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			usage(argv[0], 0);
		else if (!strncmp(argv[i], "--self-check", 12) &&
			 (argv[i][12] == '\0' || argv[i][12] == '='))
			self_check_mode = parse_self_check(argv[i] + 12 +
							   !!argv[i][12]);
		else if (!strncmp(argv[i], "--family=", 9))
			parse_families(argv[i] + 9, &fmask);
		else if (argv[i][0] == '-')
			usage(argv[0], KSFT_FAIL);
		else
			patterns[npatterns++] = argv[i];
	}

	if (list) {
		for (i = 0; i < NR_SCENARIOS; i++) {
			if (!selected(patterns, npatterns, scenarios[i].name))
				continue;
			printf("%-36s %s [", scenarios[i].name,
			       scenarios[i].checks);
			for (f = 0; f < NR_FAMILIES; f++)
				if (family_runs(&families[f], &scenarios[i]))
					printf("%s%s", f ? " " : "",
					       families[f].name);
			printf("]\n");
		}
		return 0;
	}

	reexec_quiet(argv);
	ksft_print_header();
	for (f = 0; f < NR_FAMILIES; f++) {
		if (!(fmask & (1u << f)))
			continue;
		for (i = 0; i < NR_SCENARIOS; i++)
			nselected += family_runs(&families[f], &scenarios[i]) &&
				     selected(patterns, npatterns,
					      scenarios[i].name);
	}
	if (!nselected)
		ksft_exit_fail_msg("no scenario matches\n");
	ksft_set_plan(nselected);

	if (!uname(&uts)) {
		int major = 0, minor = 0;

		ksft_print_msg("kernel %s; %d scenario runs, each through "
			       "mlockall(2) and through %s\n", uts.release,
			       nselected, DEV_PATH);
		if (sscanf(uts.release, "%d.%d", &major, &minor) == 2)
			split_rss = major < 6 || (major == 6 && minor < 2);
	}
	if (null_run)
		ksft_print_msg("NULL RUN: both children use the system calls\n");
	if (self_check_mode >= 0)
		ksft_print_msg("SELF-CHECK: the device path is sabotaged (%s); "
			       "differences are expected\n",
			       self_check_mode ? sabotage_names[self_check_mode]
					       : "rotating");

	if (geteuid())
		snprintf(why, sizeof(why), "needs root (stat_refresh, "
			 "kpageflags, nr_hugepages, capabilities)");
	else if (!null_run && access(DEV_PATH, R_OK | W_OK))
		snprintf(why, sizeof(why), "%s: %s (mlockdev module not loaded?)",
			 DEV_PATH, strerror(errno));
	else if (diff_settle())
		snprintf(why, sizeof(why), "cannot write /proc/sys/vm/stat_refresh: %s",
			 strerror(errno));
	features = why[0] || null_run ? 0 : module_features();
	module_populate_workers =
		read_long_file("/sys/module/mlockdev/parameters/populate_workers");
	if (module_populate_workers < 0)
		module_populate_workers = 0;
	online_cpus = sysconf(_SC_NPROCESSORS_ONLN);

	pin_to_one_cpu();
	diff_prefault();
	memset(&work, 0, sizeof(work));
	memset(received, 0, sizeof(received));
	memset(&child_ctx, 0, sizeof(child_ctx));
	pregrow_stack();

	for (f = 0; f < NR_FAMILIES; f++) {
		if (!(fmask & (1u << f)))
			continue;
		run_family = f;
		diff_remote_vvar_allowed = families[f].call == CALL_PIDFD;
		diff_status_rss_inexact = split_rss &&
			(families[f].call == CALL_PIDFD || families[f].workers);
		if (f)
			ksft_print_msg("family %s: %s\n", families[f].name,
				       families[f].what);
		if (diff_status_rss_inexact)
			ksft_print_msg("family %s: VmHWM, VmRSS and Rss* of /proc/self/status not compared: split RSS counting before 6.2 (diff.h); smaps Rss per VMA is compared\n",
				       families[f].name);
		family_unsupported(f, features, fwhy, sizeof(fwhy));
		for (i = 0; i < NR_SCENARIOS; i++) {
			if (!family_runs(&families[f], &scenarios[i]) ||
			    !selected(patterns, npatterns, scenarios[i].name))
				continue;
			if (why[0] || fwhy[0]) {
				count[f].scenarios++;
				count[f].skipped++;
				ksft_test_result_skip("%s: %s\n",
						      result_name(&scenarios[i]),
						      why[0] ? why : fwhy);
				continue;
			}
			run_scenario(i, page);
		}
	}

	/*
	 * One line per family; the plain family's is the line make check
	 * has always quoted, the others say which family they count.
	 */
	for (f = 0; f < NR_FAMILIES; f++) {
		char suffix[32] = "";

		if (!(fmask & (1u << f)))
			continue;
		if (f)
			snprintf(suffix, sizeof(suffix), " family=%s",
				 families[f].name);
		ksft_print_msg("mlockdev-diff: scenarios=%d both-paths=%d "
			       "identical=%d documented-divergence=%d "
			       "different=%d skipped=%d%s\n",
			       count[f].scenarios, count[f].both,
			       count[f].identical, count[f].documented,
			       count[f].different, count[f].skipped, suffix);
		total_both += count[f].both;
	}
	free(patterns);
	if (!total_both) {
		/* Skips are never passes. */
		ksft_print_cnts();
		exit(KSFT_SKIP);
	}
	ksft_finished();
}
