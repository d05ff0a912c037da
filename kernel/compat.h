/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels mlockdev supports (6.1 and 6.12)
 * lives here, behind names that say what they do.  The rest of the module
 * is written once, against these names, with no version checks of its own.
 */
#ifndef _MLOCKDEV_COMPAT_H
#define _MLOCKDEV_COMPAT_H

#include <linux/version.h>

/* kunit_vm_mmap() lets a KUnit test own user memory (6.10+). */
#define MLOCKDEV_HAVE_KUNIT_VM_MMAP \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0))

#endif /* _MLOCKDEV_COMPAT_H */
