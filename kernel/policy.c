// SPDX-License-Identifier: GPL-2.0
/*
 * Policy: which mlockall() requests are valid and which fit the caller's
 * RLIMIT_MEMLOCK.  Pure functions of their arguments; the caller supplies
 * the credentials-dependent parts (can_do_mlock(), capable()) in the order
 * the system call evaluates them (see lockall.c).
 */
#include <linux/fs.h>
#include <linux/hugetlb_inline.h>
#include <linux/magic.h>
#include <linux/mman.h>
#include <linux/mm.h>
#include <kunit/visibility.h>

#include "compat.h"
#include "mlockdev.h"

/**
 * mlockdev_lockall_flags_valid - the EINVAL rule of mlockall(2)
 * @flags: the caller's MCL_* flags, as the int the system call takes
 *
 * Return: false for no flag at all, for a bit outside MCL_CURRENT,
 * MCL_FUTURE and MCL_ONFAULT, and for MCL_ONFAULT on its own.
 */
bool mlockdev_lockall_flags_valid(int flags)
{
	if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)))
		return false;
	return flags != MCL_ONFAULT;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_lockall_flags_valid);

/**
 * mlockdev_limit_pages - RLIMIT_MEMLOCK in pages, as mlockall() reads it
 * @rlim_bytes: the soft limit in bytes (RLIM_INFINITY allowed)
 *
 * Rounds down, so a limit below one page allows no page at all.  A shift
 * cannot overflow, and RLIM_INFINITY becomes a page count larger than any
 * address space.
 */
unsigned long mlockdev_limit_pages(unsigned long rlim_bytes)
{
	return rlim_bytes >> PAGE_SHIFT;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_limit_pages);

/**
 * mlockdev_mb_to_pages - a module parameter in MiB, in pages
 * @mb: MiB
 *
 * Return: the page count, or ULONG_MAX where the shift would wrap.
 */
unsigned long mlockdev_mb_to_pages(unsigned long mb)
{
	if (mb > ULONG_MAX >> (20 - PAGE_SHIFT))
		return ULONG_MAX;
	return mb << (20 - PAGE_SHIFT);
}

/**
 * mlockdev_lockall_fits - the ENOMEM rule of mlockall(2), without privilege
 * @flags: valid MCL_* flags
 * @total_vm: the size of the address space in pages (mm->total_vm)
 * @limit_pages: mlockdev_limit_pages() of the caller's RLIMIT_MEMLOCK
 *
 * The system call compares the whole address space (VmSize, not VmLck)
 * with the limit, and only when MCL_CURRENT is asked: MCL_FUTURE alone
 * always fits.  When this returns false the call may still go ahead with
 * CAP_IPC_LOCK, which the caller checks only then.
 *
 * Return: true if the request is within the limit.
 */
bool mlockdev_lockall_fits(int flags, unsigned long total_vm,
			   unsigned long limit_pages)
{
	return !(flags & MCL_CURRENT) || total_vm <= limit_pages;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_lockall_fits);

/**
 * mlockdev_vma_is_secretmem - does this VMA map memfd_secret() memory?
 * @vma: the VMA
 *
 * vma_is_secretmem() is not exported; secretmem files are the only ones
 * on the secretmem pseudo filesystem, so its magic identifies them.
 */
static bool mlockdev_vma_is_secretmem(struct vm_area_struct *vma)
{
	return vma->vm_file &&
	       file_inode(vma->vm_file)->i_sb->s_magic == SECRETMEM_MAGIC;
}

/**
 * mlockdev_vma_kind - may mlock set VM_LOCKED on this VMA, and if not, why
 * @vma: the VMA
 *
 * The kernel's skip rules (mlock_fixup(), vma_supports_mlock()): special
 * mappings (VM_IO, VM_PFNMAP, VM_MIXEDMAP, VM_DONTEXPAND: device memory,
 * [vvar], [vdso]), droppable memory, DAX, hugetlb and secretmem are never
 * locked and never counted.  The gate area ([vsyscall] on x86-64) is not in
 * the VMA tree, so a walk of the tree never meets it.
 *
 * Return: MLOCKDEV_VMA_LOCKABLE, or the reason it is not.
 */
enum mlockdev_vma_kind mlockdev_vma_kind(struct vm_area_struct *vma)
{
	if (vma->vm_flags & VM_SPECIAL)
		return MLOCKDEV_VMA_SPECIAL;
	if (vma->vm_flags & MLOCKDEV_VM_DROPPABLE)
		return MLOCKDEV_VMA_DROPPABLE;
	if (vma_is_dax(vma))
		return MLOCKDEV_VMA_DAX;
	if (is_vm_hugetlb_page(vma))
		return MLOCKDEV_VMA_HUGETLB;
	if (mlockdev_vma_is_secretmem(vma))
		return MLOCKDEV_VMA_SECRETMEM;
	return MLOCKDEV_VMA_LOCKABLE;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_vma_kind);

/**
 * mlockdev_vma_lockable - may mlock set VM_LOCKED on this VMA?
 * @vma: the VMA
 *
 * Return: true if the VMA takes the lock bits (mlockdev_vma_kind()).
 */
bool mlockdev_vma_lockable(struct vm_area_struct *vma)
{
	return mlockdev_vma_kind(vma) == MLOCKDEV_VMA_LOCKABLE;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_vma_lockable);
