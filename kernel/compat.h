/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels mlockdev supports (6.1, 6.12, 7.2,
 * 7.3) lives here, behind names that say what they do.  The rest of the
 * module is written once, against these names, with no version checks of
 * its own.
 *
 * Each block says which kernel change it follows, so that supporting a new
 * kernel means reading this file and nothing else.  Two kinds of test:
 * MLOCKDEV_KERNEL_AT_LEAST() where the release that changed something is
 * known, and MLOCKDEV_HAVE_*, set by kernel/Kbuild from a look at the
 * kernel's headers, where it is not (an API reworked somewhere between two
 * releases we test, or a fix backported to some stable releases).
 */
#ifndef _MLOCKDEV_COMPAT_H
#define _MLOCKDEV_COMPAT_H

#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/sched.h>
#include <linux/string.h>
#ifdef CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS
#include <linux/pkeys.h>
#include <asm/pkru.h>
#endif
/* struct folio_batch moved from <linux/pagevec.h> to its own header. */
#ifdef MLOCKDEV_HAVE_FOLIO_BATCH_H
#include <linux/folio_batch.h>
#else
#include <linux/pagevec.h>
#endif

/*
 * The version of the kernel being built against, from Kbuild's VERSION and
 * PATCHLEVEL (see kernel/Kbuild), as one number to compare with.
 */
#define MLOCKDEV_KERNEL_AT_LEAST(major, minor)				\
	(MLOCKDEV_KERNEL_VERSION * 256 + MLOCKDEV_KERNEL_PATCHLEVEL >=	\
	 (major) * 256 + (minor))

/* This release series exactly, at stable release @sub or later. */
#define MLOCKDEV_KERNEL_IS_AT_LEAST(major, minor, sub)			\
	(MLOCKDEV_KERNEL_VERSION == (major) &&				\
	 MLOCKDEV_KERNEL_PATCHLEVEL == (minor) &&			\
	 MLOCKDEV_KERNEL_SUBLEVEL >= (sub))

/*
 * The two lock bits of vm_flags and mm->def_flags.  6.1 only has the
 * complement, VM_LOCKED_CLEAR_MASK.
 */
#define MLOCKDEV_VM_LOCKED_MASK		(VM_LOCKED | VM_LOCKONFAULT)

/*
 * VM_DROPPABLE (6.11) marks memory the kernel may free under pressure;
 * mlock never locks it.  Older kernels have no such VMAs.
 */
#ifdef VM_DROPPABLE
#define MLOCKDEV_VM_DROPPABLE		VM_DROPPABLE
#else
#define MLOCKDEV_VM_DROPPABLE		VM_NONE
#endif

/**
 * mlockdev_vma_write_flags - publish new vm_flags of a VMA
 * @vma: the VMA, its mm's mmap_lock held for writing
 * @flags: the new flags
 *
 * Page faults under the per-VMA lock (6.4+) must not run while the flags
 * change, so the VMA is write-locked first; it stays so until the mmap lock
 * is released.  The store is WRITE_ONCE because rmap walkers (reclaim) read
 * vm_flags without the mmap lock.  Before 6.4 vm_flags was a plain field;
 * 7.x keeps the flags in a vma_flags_t bitmap, written as 7.x's own
 * mlock_vma_pages_range() does, from the legacy word.
 */
static inline void mlockdev_vma_write_flags(struct vm_area_struct *vma,
					    vm_flags_t flags)
{
#if defined(MLOCKDEV_HAVE_VMA_FLAGS_T)
	vma_flags_t vma_flags = legacy_to_vma_flags(flags);

	vma_start_write(vma);
	vma_flags_reset_once(vma, &vma_flags);
#elif MLOCKDEV_KERNEL_AT_LEAST(6, 4)
	vma_start_write(vma);
	vm_flags_reset_once(vma, flags);
#else
	WRITE_ONCE(vma->vm_flags, flags);
#endif
}

/*
 * mlock_fixup() counted pages in an int, which truncates a VMA of 8 TiB or
 * more modulo 2^32 pages.  "mm/mlock: use a long for the page count in
 * mlock_fixup()" made it a long in 6.12.117 and 7.3.4 (stable), and
 * mlockdev assumes every later release series has it; 6.1 and 7.2 (as of
 * 7.2.13) do not.
 */
#define MLOCKDEV_MLOCK_COUNTS_IN_LONG					\
	(MLOCKDEV_KERNEL_IS_AT_LEAST(6, 12, 117) ||			\
	 MLOCKDEV_KERNEL_IS_AT_LEAST(7, 3, 4) ||			\
	 MLOCKDEV_KERNEL_AT_LEAST(7, 4))

/**
 * mlockdev_locked_vm_delta - what mlock_fixup() adds to mm->locked_vm
 * @vma: the VMA whose lock bits change
 * @oldflags: its flags before
 * @newflags: its flags after
 *
 * The VMA's size in pages when it becomes VM_LOCKED, minus that when it
 * stops, 0 when it stays locked -- in the kernel's own page-count type
 * (see MLOCKDEV_MLOCK_COUNTS_IN_LONG).  With an int, a VMA of 8 TiB or more
 * is counted modulo 2^32 pages and negated as an int (-INT_MIN is
 * INT_MIN).  mlockdev does whatever the kernel it runs on does, because
 * munmap and mremap later subtract from the same mm->locked_vm.  The int
 * arithmetic is done on unsigned values, which wrap as the kernel's
 * -fno-strict-overflow build makes its int wrap, without undefined
 * behaviour.
 */
static inline long mlockdev_locked_vm_delta(struct vm_area_struct *vma,
					    vm_flags_t oldflags,
					    vm_flags_t newflags)
{
	unsigned long nr = (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;

	if ((newflags & VM_LOCKED) && (oldflags & VM_LOCKED))
		return 0;
	if (MLOCKDEV_MLOCK_COUNTS_IN_LONG)
		return (newflags & VM_LOCKED) ? (long)nr : -(long)nr;
	if (newflags & VM_LOCKED)
		return (int)(unsigned int)nr;
	return (int)(0u - (unsigned int)nr);
}

/*
 * Device memory mapped by a PMD (DAX) was told apart by pmd_devmap() until
 * the devmap bit went away in 7.x; mlock never locks such VMAs anyway.
 */
static inline bool mlockdev_pmd_devmap(pmd_t pmd)
{
#ifdef MLOCKDEV_HAVE_PMD_DEVMAP
	return pmd_devmap(pmd);
#else
	return false;
#endif
}

/**
 * mlockdev_gup_nowait - fault in what needs no waiting, mmap lock held
 * @mm: the address space; current->mm unless @remote
 * @remote: @mm is not the calling thread's own (another process's, or a
 *	    worker thread faulting for the caller)
 * @start: user address, page aligned
 * @nr_pages: how many pages
 * @gup_flags: FOLL_WRITE or FOLL_FORCE, as populate_vma_page_range() picks
 *
 * get_user_pages() with FOLL_NOWAIT: faults that would have to wait (for
 * a page lock, for I/O, for a userfaultfd handler) are not waited for and
 * the mmap lock is never dropped; GUP then stops at that page.  Without
 * pages, nothing is pinned or referenced.  For another address space,
 * get_user_pages_remote(), which sets FOLL_REMOTE: the caller's protection
 * keys do not apply there.  Both lost their vmas argument in 6.5.
 *
 * Return: the number of pages faulted in or found present from @start on,
 * 0 if the page at @start needs a fault that waits, or a negative errno.
 */
static inline long mlockdev_gup_nowait(struct mm_struct *mm, bool remote,
				       unsigned long start,
				       unsigned long nr_pages,
				       unsigned int gup_flags)
{
	gup_flags |= FOLL_NOWAIT;
#if MLOCKDEV_KERNEL_AT_LEAST(6, 5)
	if (remote)
		return get_user_pages_remote(mm, start, nr_pages, gup_flags,
					     NULL, NULL);
	return get_user_pages(start, nr_pages, gup_flags, NULL);
#else
	if (remote)
		return get_user_pages_remote(mm, start, nr_pages, gup_flags,
					     NULL, NULL, NULL);
	return get_user_pages(start, nr_pages, gup_flags, NULL, NULL);
#endif
}

/**
 * mlockdev_caller_pkru - the calling thread's protection-key rights
 *
 * A worker thread that faults the caller's memory in with remote GUP must
 * still refuse what the caller's keys refuse, as the caller's own GUP
 * would (check_vma_flags() -> arch_vma_access_permitted()).
 *
 * Return: the caller's PKRU (0, all allowed, without protection keys).
 */
static inline u32 mlockdev_caller_pkru(void)
{
#ifdef CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS
	return read_pkru();
#else
	return 0;
#endif
}

/**
 * mlockdev_pkru_allows - arch_vma_access_permitted() with a given PKRU
 * @pkru: the rights of the thread the access is made for
 * @vma: the VMA
 * @write: a write access
 *
 * Return: true if the VMA's protection key lets that thread access it.
 */
static inline bool mlockdev_pkru_allows(u32 pkru, struct vm_area_struct *vma,
					bool write)
{
#ifdef CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS
	u16 pkey = vma_pkey(vma);

	return write ? __pkru_allows_write(pkru, pkey) :
		       __pkru_allows_read(pkru, pkey);
#else
	return true;
#endif
}

/**
 * mlockdev_pidfd_pid - pidfd_pid(), which is not exported
 * @file: a file the caller passed as a pidfd
 *
 * Since 6.9 a pidfd is a file of pidfs, whose inode points to the pid.
 * Before, it was an anonymous inode file named "[pidfd]" whose
 * private_data is the pid (kernel/fork.c, pidfd_create()).
 *
 * Return: the pid, without a new reference, or ERR_PTR(-EBADF).
 */
static inline struct pid *mlockdev_pidfd_pid(struct file *file)
{
#ifdef PID_FS_MAGIC
	if (file_inode(file)->i_sb->s_magic == PID_FS_MAGIC)
		return file_inode(file)->i_private;
#endif
	if (file_inode(file)->i_sb->s_magic == ANON_INODE_FS_MAGIC &&
	    !strcmp(file->f_path.dentry->d_name.name, "[pidfd]"))
		return file->private_data;
	return ERR_PTR(-EBADF);
}

/**
 * mlockdev_lru_drain_local - lru_add_drain() through an exported door
 *
 * lru_add_drain() (which also drains this CPU's mlock batch) is not
 * exported, but releasing a batch that was never drained calls it first.
 * struct pagevec and __pagevec_release() gave way to the folio_batch
 * versions in 6.5.
 */
static inline void mlockdev_lru_drain_local(void)
{
#if MLOCKDEV_KERNEL_AT_LEAST(6, 5)
	struct folio_batch empty;

	folio_batch_init(&empty);
	__folio_batch_release(&empty);
#else
	struct pagevec empty;

	pagevec_init(&empty);
	__pagevec_release(&empty);
#endif
}

/**
 * mlockdev_walks_pte_mapped_large_folios - does mlock see PTE-mapped THPs?
 *
 * Since 6.7 mlock_pte_range() mlocks a large folio mapped by PTEs when the
 * whole folio is mapped alike inside the range walked, and munlocks any
 * it meets.  Before that (6.1) it skipped PTE-mapped compound pages both
 * ways; only a PMD-mapped THP was mlocked or munlocked.
 */
static inline bool mlockdev_walks_pte_mapped_large_folios(void)
{
	return MLOCKDEV_KERNEL_AT_LEAST(6, 7);
}

/**
 * mlockdev_populate_gup_flags - how populate faults a VMA in
 * @vm_flags: the VMA's flags; the VMA is accessible (not PROT_NONE)
 *
 * Private writable mappings are write-faulted, which breaks copy-on-write
 * up front.  Others are read-faulted with FOLL_FORCE, for write-only or
 * exec-only mappings.  6.1 also adds FOLL_FORCE to the write case.
 */
static inline unsigned int mlockdev_populate_gup_flags(vm_flags_t vm_flags)
{
	bool cow = (vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;

#if MLOCKDEV_KERNEL_AT_LEAST(6, 12)
	return cow ? FOLL_WRITE : FOLL_FORCE;
#else
	return cow ? FOLL_WRITE | FOLL_FORCE : FOLL_FORCE;
#endif
}

/**
 * mlockdev_vma_init_flags - set the flags of a VMA nobody else can see yet
 * @vma: a VMA built by a test, not in any mm
 * @flags: its flags
 *
 * vm_flags became read-only outside its accessors in 6.3.
 */
static inline void mlockdev_vma_init_flags(struct vm_area_struct *vma,
					   vm_flags_t flags)
{
#if MLOCKDEV_KERNEL_AT_LEAST(6, 3)
	vm_flags_init(vma, flags);
#else
	vma->vm_flags = flags;
#endif
}

/* kunit_vm_mmap() lets a KUnit test own user memory (6.10+). */
#define MLOCKDEV_HAVE_KUNIT_VM_MMAP	MLOCKDEV_KERNEL_AT_LEAST(6, 10)

/* MODULE_IMPORT_NS() takes a string since 6.13. */
#if MLOCKDEV_KERNEL_AT_LEAST(6, 13)
#define MLOCKDEV_IMPORT_KUNIT_NS()	MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING")
#else
#define MLOCKDEV_IMPORT_KUNIT_NS()	MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING)
#endif

/**
 * mlockdev_override_creds - run on @cred until reverted; consumes @cred
 * @cred: credentials from prepare_creds(), whose reference is handed over
 *
 * override_creds() used to take a reference of its own and revert_creds()
 * to drop it; since 6.13 neither does, and revert_creds() hands the
 * overriding credentials back to be put.
 *
 * Return: the credentials to give mlockdev_revert_creds().
 */
static inline const struct cred *mlockdev_override_creds(struct cred *cred)
{
	const struct cred *old = override_creds(cred);

#ifndef MLOCKDEV_HAVE_UNCOUNTED_OVERRIDE_CREDS
	put_cred(cred);
#endif
	return old;
}

static inline void mlockdev_revert_creds(const struct cred *old)
{
#ifdef MLOCKDEV_HAVE_UNCOUNTED_OVERRIDE_CREDS
	put_cred(revert_creds(old));
#else
	revert_creds(old);
#endif
}

/**
 * mlockdev_caller_places_memory - does the caller choose NUMA nodes?
 *
 * A worker thread faults with its own memory policy and cpuset, not the
 * caller's: a caller with a NUMA memory policy (CONFIG_NUMA) or a cpuset
 * narrower than the nodes with memory (CONFIG_CPUSETS) must fault alone.
 * Both fields are the task's own, read by the task itself.
 *
 * Return: true if the caller's pages would be placed differently.
 */
static inline bool mlockdev_caller_places_memory(void)
{
#ifdef CONFIG_NUMA
	if (current->mempolicy)
		return true;
#endif
#ifdef CONFIG_CPUSETS
	if (!nodes_subset(node_states[N_MEMORY], current->mems_allowed))
		return true;
#endif
	return false;
}

#endif /* _MLOCKDEV_COMPAT_H */
