/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the files of the mlockdev module.  Nothing here is
 * ABI: the user ABI is include/uapi/linux/mlockdev.h.
 */
#ifndef _MLOCKDEV_H
#define _MLOCKDEV_H

#include <linux/types.h>
#include <linux/mlockdev.h>

/* abi.c: argument checks and the version query */
bool mlockdev_reserved_is_zero(const void *field, size_t size);
long mlockdev_ioctl_version(void *arg);

/*
 * core.c: static unless KUnit is enabled, when the test module calls it
 * with user memory of its own.
 */
#if IS_ENABLED(CONFIG_KUNIT)
struct file;
long mlockdev_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
#endif

#endif /* _MLOCKDEV_H */
