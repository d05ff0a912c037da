// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev_kunit.ko: the KUnit suites of mlockdev, one file per area of
 * the module.  Load mlockdev.ko (and kunit.ko) first; results appear in
 * the kernel log and in /sys/kernel/debug/kunit/<suite>/results.
 */
#include <linux/module.h>

#include "../compat.h"

MODULE_DESCRIPTION("KUnit tests for mlockdev");
MODULE_LICENSE("GPL");
MLOCKDEV_IMPORT_KUNIT_NS();
