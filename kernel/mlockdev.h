/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the files of the mlockdev module.  Nothing here is
 * ABI: the user ABI is include/uapi/linux/mlockdev.h.
 *
 * How the files fit together (one concern each):
 *
 *   core.c       the misc device and the ioctl dispatcher
 *   abi.c        the ioctl structs: checks, version query, unpacking
 *   lockall.c    mlockall()/munlockall(): checks in order, locking
 *   policy.c     flags, RLIMIT_MEMLOCK arithmetic, which VMAs lock
 *   vma_pass.c   def_flags, VMA lock bits, locked_vm accounting
 *   page_pass.c  marking the pages already present (PG_mlocked, NR_MLOCK)
 *   populate.c   faulting everything in after MCL_CURRENT
 *   stats.c      per-CPU counters in sysfs
 *   compat.h     every difference between the kernels supported
 */
#ifndef _MLOCKDEV_H
#define _MLOCKDEV_H

#include <linux/types.h>
#include <linux/mlockdev.h>

struct attribute_group;
struct file;
struct mm_struct;
struct vm_area_struct;

/* abi.c */
bool mlockdev_reserved_is_zero(const void *field, size_t size);
long mlockdev_ioctl_version(void *arg);
long mlockdev_ioctl_lock_all(void *arg);
long mlockdev_ioctl_unlock_all(void *arg);

/* lockall.c */
int mlockdev_lockall(int flags);
int mlockdev_unlockall(void);

/* policy.c */
bool mlockdev_lockall_flags_valid(int flags);
unsigned long mlockdev_limit_pages(unsigned long rlim_bytes);
bool mlockdev_lockall_fits(int flags, unsigned long total_vm,
			   unsigned long limit_pages);
bool mlockdev_vma_lockable(struct vm_area_struct *vma);

/* vma_pass.c */
void mlockdev_apply_lock_flags(struct mm_struct *mm, int flags);

/* page_pass.c */
void mlockdev_vma_mark_pages(struct vm_area_struct *vma, bool lock);

/* populate.c */
void mlockdev_populate(struct mm_struct *mm);

/* stats.c */
enum mlockdev_stat {
	MLOCKDEV_STAT_LOCK_CALLS,
	MLOCKDEV_STAT_UNLOCK_CALLS,
	MLOCKDEV_STAT_LOCK_FAILED,
	MLOCKDEV_STAT_UNLOCK_FAILED,
	MLOCKDEV_STAT_FAILED_EFAULT,
	MLOCKDEV_STAT_FAILED_EINVAL,
	MLOCKDEV_STAT_FAILED_EPERM,
	MLOCKDEV_STAT_FAILED_EINTR,
	MLOCKDEV_STAT_FAILED_ENOMEM,
	MLOCKDEV_STAT_FAILED_OTHER,
	MLOCKDEV_STAT_PAGES_POPULATED,
	MLOCKDEV_STAT_PAGES_MLOCKED,
	MLOCKDEV_STAT_PAGES_MUNLOCKED,
	MLOCKDEV_STAT_LOCK_NS,
	MLOCKDEV_STAT_UNLOCK_NS,
	MLOCKDEV_NR_STATS
};

void mlockdev_stat_add(enum mlockdev_stat stat, u64 n);
void mlockdev_stat_call(bool lock, long ret, u64 ns);
extern const struct attribute_group *mlockdev_attr_groups[];

/*
 * core.c: static unless KUnit is enabled, when the test module calls it
 * with user memory of its own.
 */
#if IS_ENABLED(CONFIG_KUNIT)
long mlockdev_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
#endif

#endif /* _MLOCKDEV_H */
