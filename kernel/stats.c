// SPDX-License-Identifier: GPL-2.0
/*
 * Counters a user can read to see that calls really went through the
 * device: /sys/class/misc/mlockdev/stats/<name>, one decimal number per
 * file, monotonic since the module was loaded
 * (Documentation/ABI/testing/sysfs-class-misc-mlockdev).
 *
 * They are per-CPU and summed when read, so counting costs one
 * this_cpu_add() and takes no lock.  A read that races with updates may
 * miss the latest ones, like /proc/vmstat.
 */
#include <linux/device.h>
#include <linux/errno.h>
#include <linux/percpu.h>
#include <linux/sysfs.h>

#include "mlockdev.h"

struct mlockdev_stats {
	u64 count[MLOCKDEV_NR_STATS];
};

static DEFINE_PER_CPU(struct mlockdev_stats, mlockdev_stats);

void mlockdev_stat_add(enum mlockdev_stat stat, u64 n)
{
	this_cpu_add(mlockdev_stats.count[stat], n);
}

static u64 mlockdev_stat_sum(enum mlockdev_stat stat)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(mlockdev_stats.count[stat], cpu);
	return sum;
}

/**
 * mlockdev_stat_call - count one LOCK_ALL or UNLOCK_ALL call
 * @lock: true for LOCK_ALL, false for UNLOCK_ALL
 * @ret: what the ioctl returned (0 or a negative errno)
 * @ns: time spent in it
 */
void mlockdev_stat_call(bool lock, long ret, u64 ns)
{
	enum mlockdev_stat failed_stat;

	mlockdev_stat_add(lock ? MLOCKDEV_STAT_LOCK_CALLS :
				 MLOCKDEV_STAT_UNLOCK_CALLS, 1);
	mlockdev_stat_add(lock ? MLOCKDEV_STAT_LOCK_NS :
				 MLOCKDEV_STAT_UNLOCK_NS, ns);
	if (!ret)
		return;

	mlockdev_stat_add(lock ? MLOCKDEV_STAT_LOCK_FAILED :
				 MLOCKDEV_STAT_UNLOCK_FAILED, 1);
	switch (ret) {
	case -EFAULT:
		failed_stat = MLOCKDEV_STAT_FAILED_EFAULT;
		break;
	case -EINVAL:
		failed_stat = MLOCKDEV_STAT_FAILED_EINVAL;
		break;
	case -EPERM:
		failed_stat = MLOCKDEV_STAT_FAILED_EPERM;
		break;
	case -EINTR:
		failed_stat = MLOCKDEV_STAT_FAILED_EINTR;
		break;
	case -ENOMEM:
		failed_stat = MLOCKDEV_STAT_FAILED_ENOMEM;
		break;
	case -EACCES:
		failed_stat = MLOCKDEV_STAT_FAILED_EACCES;
		break;
	default:
		failed_stat = MLOCKDEV_STAT_FAILED_OTHER;
		break;
	}
	mlockdev_stat_add(failed_stat, 1);
}

struct mlockdev_stat_attr {
	struct device_attribute attr;
	enum mlockdev_stat stat;
};

static ssize_t mlockdev_stat_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct mlockdev_stat_attr *sa =
		container_of(attr, struct mlockdev_stat_attr, attr);

	return sysfs_emit(buf, "%llu\n", mlockdev_stat_sum(sa->stat));
}

#define MLOCKDEV_STAT_ATTR(_name, _stat)				\
	static struct mlockdev_stat_attr mlockdev_attr_##_name = {	\
		.attr = __ATTR(_name, 0444, mlockdev_stat_show, NULL),	\
		.stat = _stat,						\
	}

MLOCKDEV_STAT_ATTR(lock_calls, MLOCKDEV_STAT_LOCK_CALLS);
MLOCKDEV_STAT_ATTR(unlock_calls, MLOCKDEV_STAT_UNLOCK_CALLS);
MLOCKDEV_STAT_ATTR(lock_failed, MLOCKDEV_STAT_LOCK_FAILED);
MLOCKDEV_STAT_ATTR(unlock_failed, MLOCKDEV_STAT_UNLOCK_FAILED);
MLOCKDEV_STAT_ATTR(failed_efault, MLOCKDEV_STAT_FAILED_EFAULT);
MLOCKDEV_STAT_ATTR(failed_einval, MLOCKDEV_STAT_FAILED_EINVAL);
MLOCKDEV_STAT_ATTR(failed_eperm, MLOCKDEV_STAT_FAILED_EPERM);
MLOCKDEV_STAT_ATTR(failed_eintr, MLOCKDEV_STAT_FAILED_EINTR);
MLOCKDEV_STAT_ATTR(failed_enomem, MLOCKDEV_STAT_FAILED_ENOMEM);
MLOCKDEV_STAT_ATTR(failed_eacces, MLOCKDEV_STAT_FAILED_EACCES);
MLOCKDEV_STAT_ATTR(failed_other, MLOCKDEV_STAT_FAILED_OTHER);
MLOCKDEV_STAT_ATTR(pages_populated, MLOCKDEV_STAT_PAGES_POPULATED);
MLOCKDEV_STAT_ATTR(pages_mlocked, MLOCKDEV_STAT_PAGES_MLOCKED);
MLOCKDEV_STAT_ATTR(pages_munlocked, MLOCKDEV_STAT_PAGES_MUNLOCKED);
MLOCKDEV_STAT_ATTR(lock_ns, MLOCKDEV_STAT_LOCK_NS);
MLOCKDEV_STAT_ATTR(unlock_ns, MLOCKDEV_STAT_UNLOCK_NS);
MLOCKDEV_STAT_ATTR(strict_rollbacks, MLOCKDEV_STAT_ROLLBACKS);
MLOCKDEV_STAT_ATTR(cap_refused, MLOCKDEV_STAT_CAP_REFUSED);

static struct attribute *mlockdev_stat_attrs[] = {
	&mlockdev_attr_lock_calls.attr.attr,
	&mlockdev_attr_unlock_calls.attr.attr,
	&mlockdev_attr_lock_failed.attr.attr,
	&mlockdev_attr_unlock_failed.attr.attr,
	&mlockdev_attr_failed_efault.attr.attr,
	&mlockdev_attr_failed_einval.attr.attr,
	&mlockdev_attr_failed_eperm.attr.attr,
	&mlockdev_attr_failed_eintr.attr.attr,
	&mlockdev_attr_failed_enomem.attr.attr,
	&mlockdev_attr_failed_eacces.attr.attr,
	&mlockdev_attr_failed_other.attr.attr,
	&mlockdev_attr_pages_populated.attr.attr,
	&mlockdev_attr_pages_mlocked.attr.attr,
	&mlockdev_attr_pages_munlocked.attr.attr,
	&mlockdev_attr_lock_ns.attr.attr,
	&mlockdev_attr_unlock_ns.attr.attr,
	&mlockdev_attr_strict_rollbacks.attr.attr,
	&mlockdev_attr_cap_refused.attr.attr,
	NULL
};

static const struct attribute_group mlockdev_stat_group = {
	.name = "stats",
	.attrs = mlockdev_stat_attrs,
};

/* For miscdevice.groups: the device's sysfs directory gets stats/. */
const struct attribute_group *mlockdev_attr_groups[] = {
	&mlockdev_stat_group,
	NULL
};
