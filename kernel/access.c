// SPDX-License-Identifier: GPL-2.0
/*
 * Who may use the device (Documentation/design.rst, "Security model").
 *
 * The ioctls apply mlockall's own checks (RLIMIT_MEMLOCK, CAP_IPC_LOCK)
 * to the caller, so the device grants nothing the system call would not.
 * But it is a second door to the same room, and two things guard only the
 * first one:
 *
 *  - seccomp: a process whose filter denies mlockall(2) (systemd's
 *    SystemCallFilter=~@memlock, a container profile) could lock memory
 *    through an ioctl the filter allows.  The filter cannot be asked what
 *    it would say about mlockall (seccomp_run_filters() is not exported),
 *    so a caller under a seccomp filter is refused with EACCES, an errno
 *    mlockall never returns.  The preload shim takes EACCES as "ask the
 *    kernel instead" and makes the real system call, so the filter
 *    decides after all.  allow_seccomp=1 lifts the refusal.
 *  - reach: every user who can open the node can run this module's code.
 *    The node is root's only (mode 0600) unless the administrator says
 *    otherwise, with the mode parameter or a udev rule.  A program that
 *    drops privileges keeps a descriptor it opened before (the shim opens
 *    the device before main()); each call still uses the caller's
 *    credentials of the moment.
 *
 * Syscall audit rules on mlockall do not see the ioctls either: audit the
 * device (-w /dev/mlockdev) or ioctl(2) instead.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <kunit/visibility.h>

#include "mlockdev.h"

static unsigned int mlockdev_dev_mode = 0600;
module_param_named(mode, mlockdev_dev_mode, uint, 0444);
MODULE_PARM_DESC(mode,
		 "permissions of /dev/mlockdev (default 0600: root only)");

static bool mlockdev_allow_seccomp;
module_param_named(allow_seccomp, mlockdev_allow_seccomp, bool, 0644);
MODULE_PARM_DESC(allow_seccomp,
		 "serve callers under a seccomp filter (default N: EACCES)");

/**
 * mlockdev_node_mode - the permissions of the device node
 *
 * Return: the mode parameter, or -EINVAL (said in the kernel log) if it
 * is more than permission bits.
 */
int mlockdev_node_mode(void)
{
	if (mlockdev_dev_mode & ~0777U) {
		pr_err("mode=0%o: only permission bits (0 to 0777) are allowed\n",
		       mlockdev_dev_mode);
		return -EINVAL;
	}
	return mlockdev_dev_mode;
}

/* Is @task's system-call table filtered by seccomp? */
static bool mlockdev_task_seccomp_filtered(struct task_struct *task)
{
#ifdef CONFIG_SECCOMP
	return READ_ONCE(task->seccomp.mode) == SECCOMP_MODE_FILTER;
#else
	return false;
#endif
}

/**
 * mlockdev_caller_allowed - may the current task lock or unlock through us?
 *
 * Asked before anything else, as seccomp acts at system-call entry before
 * any argument is looked at.
 *
 * Return: 0, or -EACCES for a caller under a seccomp filter.
 */
int mlockdev_caller_allowed(void)
{
	if (mlockdev_task_seccomp_filtered(current) &&
	    !READ_ONCE(mlockdev_allow_seccomp))
		return -EACCES;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_caller_allowed);
