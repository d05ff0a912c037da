// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libmlockdev core: a lazily opened descriptor of /dev/mlockdev and the
 * ioctls behind mlockdev_lockall(), mlockdev_unlockall(), their extensible
 * forms mlockdev_lockall_ex() and mlockdev_unlockall_ex(), and
 * mlockdev_query().  The preload shim opens it early instead
 * (mlockdev__open(), from its constructor) and needs to know whether a
 * call failed opening the device or in the device (mlockdev__lockall()).
 *
 * The descriptor lives in one atomic int.  Once it is open, a call is one
 * atomic load and one ioctl: no lock.  The first call (and any call after
 * a failed open) takes a mutex so that racing threads open the device
 * exactly once.  A pthread_atfork() handler keeps that mutex consistent in
 * a child forked while another thread held it.  The descriptor is
 * O_CLOEXEC: a fork child shares it (the ioctls act on the caller, so the
 * child's calls lock the child), an exec'd program opens its own.
 *
 * The program may close our descriptor behind our back (daemons close
 * every descriptor) and a later open may reuse the number for another
 * file.  When an ioctl fails with EBADF or ENOTTY, the descriptor is
 * checked against the device we opened (st_dev/st_ino) and, if it is no
 * longer ours, forgotten (not closed: the number now belongs to someone
 * else) and the call is retried once on a fresh descriptor.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static int dev_fd = -1;			/* atomic; -1 when not open */
static unsigned long long dev_id_dev;	/* atomic; st_dev of dev_fd */
static unsigned long long dev_id_ino;	/* atomic; st_ino of dev_fd */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;

static void atfork_prepare(void)
{
	pthread_mutex_lock(&open_lock);
}

static void atfork_release(void)
{
	pthread_mutex_unlock(&open_lock);
}

__attribute__((constructor)) static void mlockdev_init(void)
{
	/* Registered with this object's __dso_handle: dlclose() drops it. */
	pthread_atfork(atfork_prepare, atfork_release, atfork_release);
}

MLOCKDEV_PUBLIC const char *mlockdev_device_path(void)
{
	/* Ignored in set-user-ID programs, like other library overrides. */
	const char *path = secure_getenv(MLOCKDEV_DEVICE_ENV);

	return path && *path ? path : MLOCKDEV_DEFAULT_DEVICE;
}

/* Slow path.  Returns the descriptor, or -1 with errno set. */
static int open_device(void)
{
	struct stat st;
	int fd, err;

	pthread_mutex_lock(&open_lock);
	fd = __atomic_load_n(&dev_fd, __ATOMIC_ACQUIRE);
	if (fd >= 0)
		goto out;

	fd = open(mlockdev_device_path(), O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err = errno;
		/*
		 * No node, or a node with no driver behind it: the module is
		 * not loaded.  mlockall(2) has no errno for that; ENODEV
		 * ("No such device") says it best.  Other open(2) errors
		 * (EACCES, EMFILE, ENOMEM, ...) are passed on as they are.
		 */
		if (err == ENOENT || err == ENXIO || err == ENODEV)
			err = ENODEV;
		pthread_mutex_unlock(&open_lock);
		errno = err;
		return -1;
	}
	if (fstat(fd, &st) == 0) {
		__atomic_store_n(&dev_id_dev, (unsigned long long)st.st_dev,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&dev_id_ino, (unsigned long long)st.st_ino,
				 __ATOMIC_RELAXED);
	}
	__atomic_store_n(&dev_fd, fd, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&open_lock);
	return fd;
}

static int get_fd(void)
{
	int fd = __atomic_load_n(&dev_fd, __ATOMIC_ACQUIRE);

	return fd >= 0 ? fd : open_device();
}

/* Is fd still the device we opened?  Leaves errno alone. */
static int still_ours(int fd)
{
	int saved = errno;
	struct stat st;
	int ours;

	ours = fstat(fd, &st) == 0 &&
	       (unsigned long long)st.st_dev ==
			__atomic_load_n(&dev_id_dev, __ATOMIC_RELAXED) &&
	       (unsigned long long)st.st_ino ==
			__atomic_load_n(&dev_id_ino, __ATOMIC_RELAXED);
	errno = saved;
	return ours;
}

/* Forget fd if it is still the cached one; another thread may have. */
static void forget_fd(int fd)
{
	int expected = fd;

	__atomic_compare_exchange_n(&dev_fd, &expected, -1, 0,
				    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

int mlockdev__open(void)
{
	int saved = errno;
	int fd = get_fd();

	if (fd >= 0)
		errno = saved;
	return fd;
}

/*
 * One ioctl on the device.  0, or -1 with errno set and *stage saying
 * whether opening the device or the request failed.  May dirty errno.
 */
static int device_ioctl(unsigned long request, void *arg,
			enum mlockdev__stage *stage)
{
	int attempt, fd, ret, err;

	for (attempt = 0; ; attempt++) {
		fd = get_fd();
		if (fd < 0) {
			*stage = MLOCKDEV__STAGE_OPEN;
			return -1;
		}
		ret = ioctl(fd, request, arg);
		if (ret >= 0) {
			*stage = MLOCKDEV__STAGE_NONE;
			return 0;
		}
		err = errno;
		if (attempt == 0 && (err == EBADF || err == ENOTTY) &&
		    !still_ours(fd)) {
			forget_fd(fd);
			continue;
		}
		*stage = MLOCKDEV__STAGE_IOCTL;
		errno = err;
		return -1;
	}
}

int mlockdev__lockall(int flags, enum mlockdev__stage *stage)
{
	struct mlockdev_lockall arg;
	enum mlockdev__stage where;
	int saved = errno;

	memset(&arg, 0, sizeof(arg));
	/* Unchanged, bit for bit: the kernel rejects what mlockall would. */
	arg.flags = (__u32)flags;
	if (device_ioctl(MLOCKDEV_IOC_LOCK_ALL, &arg, stage ? stage : &where))
		return -1;
	errno = saved;
	return 0;
}

int mlockdev__unlockall(enum mlockdev__stage *stage)
{
	struct mlockdev_unlockall arg;
	enum mlockdev__stage where;
	int saved = errno;

	memset(&arg, 0, sizeof(arg));
	if (device_ioctl(MLOCKDEV_IOC_UNLOCK_ALL, &arg, stage ? stage : &where))
		return -1;
	errno = saved;
	return 0;
}

/* Are the library's own reserved fields of *opts zero? */
static int options_valid(const struct mlockdev_options *opts)
{
	size_t i;

	for (i = 0; opts && i < sizeof(opts->reserved) / sizeof(opts->reserved[0]);
	     i++)
		if (opts->reserved[i])
			return 0;
	return 1;
}

/*
 * LOCK_ALL_EX and UNLOCK_ALL_EX.  The struct is passed with the size this
 * library was built with; the module copies back the report on success
 * and after any error once it accepted the arguments, and leaves it as
 * passed (zero) otherwise.  *report gets it either way.
 */
int mlockdev__lockall_ex(int flags, const struct mlockdev_options *opts,
			 struct mlockdev_report *report,
			 enum mlockdev__stage *stage)
{
	struct mlockdev_lockall_ex arg;
	enum mlockdev__stage where;
	int saved = errno, ret;

	if (!stage)
		stage = &where;
	if (!options_valid(opts)) {
		if (report)
			memset(report, 0, sizeof(*report));
		*stage = MLOCKDEV__STAGE_NONE;
		errno = EINVAL;
		return -1;
	}
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = (__u32)flags;	/* unchanged, as for LOCK_ALL */
	if (opts) {
		arg.mode_flags = opts->mode;
		arg.pidfd = opts->pidfd;
		arg.workers = opts->workers;
	}
	ret = device_ioctl(MLOCKDEV_IOC_LOCK_ALL_EX, &arg, stage);
	if (report)
		memcpy(report, &arg.report, sizeof(*report));
	if (ret)
		return -1;
	errno = saved;
	return 0;
}

int mlockdev__unlockall_ex(const struct mlockdev_options *opts,
			   struct mlockdev_report *report,
			   enum mlockdev__stage *stage)
{
	struct mlockdev_unlockall_ex arg;
	enum mlockdev__stage where;
	int saved = errno, ret;

	if (!stage)
		stage = &where;
	/* An unlock faults nothing in: there is no field for workers. */
	if (!options_valid(opts) || (opts && opts->workers)) {
		if (report)
			memset(report, 0, sizeof(*report));
		*stage = MLOCKDEV__STAGE_NONE;
		errno = EINVAL;
		return -1;
	}
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	if (opts) {
		arg.mode_flags = opts->mode;
		arg.pidfd = opts->pidfd;
	}
	ret = device_ioctl(MLOCKDEV_IOC_UNLOCK_ALL_EX, &arg, stage);
	if (report)
		memcpy(report, &arg.report, sizeof(*report));
	if (ret)
		return -1;
	errno = saved;
	return 0;
}

/*
 * The library's own API passes every errno on, EACCES included: a
 * program that calls mlockdev_lockall() asked for the device, and is not
 * quietly given the system call instead.  Only the preload shim, which
 * stands in for the system call, falls back to it (preload.c).
 */
MLOCKDEV_PUBLIC int mlockdev_lockall(int flags)
{
	return mlockdev__lockall(flags, NULL);
}

MLOCKDEV_PUBLIC int mlockdev_unlockall(void)
{
	return mlockdev__unlockall(NULL);
}

MLOCKDEV_PUBLIC int mlockdev_lockall_ex(int flags,
					const struct mlockdev_options *opts,
					struct mlockdev_report *report)
{
	return mlockdev__lockall_ex(flags, opts, report, NULL);
}

MLOCKDEV_PUBLIC int mlockdev_unlockall_ex(const struct mlockdev_options *opts,
					  struct mlockdev_report *report)
{
	return mlockdev__unlockall_ex(opts, report, NULL);
}

MLOCKDEV_PUBLIC int mlockdev_query(struct mlockdev_info *info)
{
	struct mlockdev_version ver;
	enum mlockdev__stage where;
	int saved = errno;

	if (!info) {
		errno = EFAULT;
		return -1;
	}
	memset(&ver, 0, sizeof(ver));
	if (device_ioctl(MLOCKDEV_IOC_VERSION, &ver, &where))
		return -1;
	memset(info, 0, sizeof(*info));
	info->abi_major = ver.abi_major;
	info->abi_minor = ver.abi_minor;
	info->features = ver.features;
	memcpy(info->kernel_release, ver.kernel_release,
	       sizeof(info->kernel_release));
	info->kernel_release[sizeof(info->kernel_release) - 1] = '\0';
	errno = saved;
	return 0;
}

MLOCKDEV_PUBLIC int mlockdev_supports(uint64_t features)
{
	struct mlockdev_info info;
	int saved = errno;

	if (mlockdev_query(&info))
		return -1;
	errno = saved;
	return (info.features & features) == features;
}

MLOCKDEV_PUBLIC int mlockdev_flags_from_string(const char *spec, int *flags)
{
	const char *p = spec, *end;
	int f = 0;
	size_t len;

	if (!spec || !flags)
		goto bad;
	for (;;) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len == 7 && !strncmp(p, "current", 7))
			f |= MCL_CURRENT;
		else if (len == 6 && !strncmp(p, "future", 6))
			f |= MCL_FUTURE;
		else if (len == 7 && !strncmp(p, "onfault", 7))
			f |= MCL_ONFAULT;
		else
			goto bad;	/* unknown or empty item */
		if (!end)
			break;
		p = end + 1;
	}
	if (!(f & (MCL_CURRENT | MCL_FUTURE)))
		goto bad;		/* mlockall(MCL_ONFAULT) is EINVAL */
	*flags = f;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}
