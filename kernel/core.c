// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev core: the misc device and the ioctl dispatcher.
 *
 * Every ioctl takes a fixed-size struct.  The dispatcher copies it in,
 * calls the handler on the kernel copy and, for _IOWR commands, copies it
 * back.  Handlers never see user pointers, so each one can be read (and
 * unit-tested) as plain C on a struct.
 *
 * The device holds no per-open state: every call acts on current->mm with
 * current's credentials and rlimits at the time of the call, exactly like
 * the system calls it reimplements.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <kunit/visibility.h>

#include "mlockdev.h"

/* Which counters of stats.c a command feeds. */
enum mlockdev_counted {
	MLOCKDEV_NOT_COUNTED,
	MLOCKDEV_COUNTED_LOCK,
	MLOCKDEV_COUNTED_UNLOCK,
};

/*
 * A command of fixed size copies _IOC_SIZE(cmd) bytes in and, for _IOWR,
 * back.  An extensible one (ABI 1.1) starts with its own size and is
 * copied as copy_struct_from_user() says; its handler also says whether
 * the struct carries a report worth copying back after an error.
 */
struct mlockdev_ioctl_desc {
	unsigned int cmd;
	long (*handler)(void *arg);
	long (*handler_ex)(void *arg, bool *report);
	size_t ex_size;		/* the kernel's size of an extensible struct */
	enum mlockdev_counted counted;
};

static const struct mlockdev_ioctl_desc mlockdev_ioctls[] = {
	{ .cmd = MLOCKDEV_IOC_VERSION, .handler = mlockdev_ioctl_version,
	  .counted = MLOCKDEV_NOT_COUNTED },
	{ .cmd = MLOCKDEV_IOC_LOCK_ALL, .handler = mlockdev_ioctl_lock_all,
	  .counted = MLOCKDEV_COUNTED_LOCK },
	{ .cmd = MLOCKDEV_IOC_UNLOCK_ALL, .handler = mlockdev_ioctl_unlock_all,
	  .counted = MLOCKDEV_COUNTED_UNLOCK },
	{ .cmd = MLOCKDEV_IOC_LOCK_ALL_EX,
	  .handler_ex = mlockdev_ioctl_lock_all_ex,
	  .ex_size = sizeof(struct mlockdev_lockall_ex),
	  .counted = MLOCKDEV_COUNTED_LOCK },
	{ .cmd = MLOCKDEV_IOC_UNLOCK_ALL_EX,
	  .handler_ex = mlockdev_ioctl_unlock_all_ex,
	  .ex_size = sizeof(struct mlockdev_unlockall_ex),
	  .counted = MLOCKDEV_COUNTED_UNLOCK },
};

/* Large enough for the argument of any command in mlockdev_ioctls[]. */
union mlockdev_ioctl_arg {
	struct mlockdev_version version;
	struct mlockdev_lockall lockall;
	struct mlockdev_unlockall unlockall;
	struct mlockdev_lockall_ex lockall_ex;
	struct mlockdev_unlockall_ex unlockall_ex;
};

static const struct mlockdev_ioctl_desc *mlockdev_find_ioctl(unsigned int cmd)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(mlockdev_ioctls); i++)
		if (mlockdev_ioctls[i].cmd == cmd)
			return &mlockdev_ioctls[i];
	return NULL;
}

/*
 * An extensible struct: at least the size the command number encodes,
 * at most a page; bytes beyond what the module knows must be zero (E2BIG
 * otherwise), bytes the caller did not pass read as zero.  Written back,
 * up to the smaller of the two sizes, on success and after an error the
 * handler reported on -- never after EINVAL, which rejects the arguments.
 */
static long mlockdev_call_ex(const struct mlockdev_ioctl_desc *desc,
			     unsigned int cmd, void __user *uarg)
{
	union mlockdev_ioctl_arg karg;
	bool report = false;
	size_t copy;
	u32 usize;
	long ret;

	if (WARN_ON_ONCE(desc->ex_size > sizeof(karg)))
		return -ENOTTY;
	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < _IOC_SIZE(cmd))
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	ret = copy_struct_from_user(&karg, desc->ex_size, uarg, usize);
	if (ret)
		return ret;
	/* As below: find out that it can be written before acting. */
	copy = min_t(size_t, usize, desc->ex_size);
	if (copy_to_user(uarg, &karg, copy))
		return -EFAULT;

	ret = desc->handler_ex(&karg, &report);

	/*
	 * EINVAL is never an accepted error: it refuses the arguments, even
	 * when found after the handler set @report (the MCL_* flags are
	 * checked by the lock path, as mlockall() checks them), and a
	 * refused call leaves the caller's struct as it was (abi.rst).
	 */
	if (ret == -EINVAL)
		report = false;
	if ((!ret || report) && copy_to_user(uarg, &karg, copy))
		return -EFAULT;
	return ret;
}

/* Copy the struct in, run the handler, copy the struct back if asked. */
static long mlockdev_call(const struct mlockdev_ioctl_desc *desc,
			  unsigned int cmd, void __user *uarg)
{
	union mlockdev_ioctl_arg karg;
	size_t size = _IOC_SIZE(cmd);
	long ret;

	if (desc->handler_ex)
		return mlockdev_call_ex(desc, cmd, uarg);
	if (WARN_ON_ONCE(size > sizeof(karg)))
		return -ENOTTY;

	if (copy_from_user(&karg, uarg, size))
		return -EFAULT;
	/*
	 * For a struct that is also an output, check that it can be written
	 * before acting, by writing back what was read: a failure here (or
	 * a partial write) changes nothing, so an error always leaves the
	 * caller's struct as it was.
	 */
	if ((_IOC_DIR(cmd) & _IOC_READ) && copy_to_user(uarg, &karg, size))
		return -EFAULT;

	ret = desc->handler(&karg);

	if (!ret && (_IOC_DIR(cmd) & _IOC_READ) &&
	    copy_to_user(uarg, &karg, size))
		return -EFAULT;
	return ret;
}

/**
 * mlockdev_ioctl - dispatch one ioctl on /dev/mlockdev
 * @file: the open device (unused: there is no per-open state)
 * @cmd: MLOCKDEV_IOC_*
 * @arg: user address of the command's struct
 *
 * Return: the handler's result, -ENOTTY for an unknown command, -EACCES if
 * the caller may not lock through the device (access.c), -EFAULT if the
 * struct cannot be copied in or out, -EINVAL or -E2BIG for an extensible
 * struct of the wrong size.
 */
VISIBLE_IF_KUNIT long mlockdev_ioctl(struct file *file, unsigned int cmd,
				     unsigned long arg)
{
	const struct mlockdev_ioctl_desc *desc = mlockdev_find_ioctl(cmd);
	void __user *uarg = (void __user *)arg;
	u64 start;
	long ret;

	if (!desc)
		return -ENOTTY;
	if (desc->counted == MLOCKDEV_NOT_COUNTED)
		return mlockdev_call(desc, cmd, uarg);

	start = ktime_get_ns();
	/* Policy first, as seccomp acts before a system call reads anything. */
	ret = mlockdev_caller_allowed();
	if (!ret)
		ret = mlockdev_call(desc, cmd, uarg);
	mlockdev_stat_call(desc->counted == MLOCKDEV_COUNTED_LOCK, ret,
			   ktime_get_ns() - start);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(mlockdev_ioctl);

static const struct file_operations mlockdev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= mlockdev_ioctl,
	/* Every argument has the same layout for 32-bit callers. */
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice mlockdev_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= MLOCKDEV_DEVICE_NAME,
	.fops	= &mlockdev_fops,
	.groups	= mlockdev_attr_groups,
};

static int __init mlockdev_init(void)
{
	int ret;

	/* The ABI promises identical layouts for 32- and 64-bit callers. */
	BUILD_BUG_ON(sizeof(struct mlockdev_version) != 128);
	BUILD_BUG_ON(sizeof(struct mlockdev_lockall) != 32);
	BUILD_BUG_ON(sizeof(struct mlockdev_unlockall) != 32);
	BUILD_BUG_ON(sizeof(struct mlockdev_lockall_ex) !=
		     MLOCKDEV_LOCKALL_EX_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct mlockdev_unlockall_ex) !=
		     MLOCKDEV_UNLOCKALL_EX_SIZE_VER0);

	/* Root's only unless the administrator says otherwise (access.c). */
	ret = mlockdev_node_mode();
	if (ret < 0)
		return ret;
	mlockdev_misc.mode = ret;

	ret = mlockdev_workers_init();
	if (ret)
		return ret;
	ret = misc_register(&mlockdev_misc);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", MLOCKDEV_DEVICE_NAME,
		       ret);
		mlockdev_workers_exit();
		return ret;
	}
	return 0;
}

static void __exit mlockdev_exit(void)
{
	misc_deregister(&mlockdev_misc);
	mlockdev_workers_exit();
}

module_init(mlockdev_init);
module_exit(mlockdev_exit);

MODULE_DESCRIPTION("mlockall(2)/munlockall(2) reimplemented behind /dev/mlockdev");
MODULE_LICENSE("GPL");
