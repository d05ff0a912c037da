/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Declarations shared by the library's own objects, never installed. */
#ifndef MLOCKDEV_INTERNAL_H
#define MLOCKDEV_INTERNAL_H

#include "mlockdev/mlockdev.h"

/* Objects are built with -fvisibility=hidden; the API is marked public. */
#define MLOCKDEV_PUBLIC	__attribute__((visibility("default")))

/* Where a failed call failed. */
enum mlockdev__stage {
	MLOCKDEV__STAGE_NONE,	/* it did not fail */
	MLOCKDEV__STAGE_OPEN,	/* opening the device (errno as documented) */
	MLOCKDEV__STAGE_IOCTL,	/* the device's answer to the request */
};

/*
 * mlockdev_lockall() and mlockdev_unlockall(), also saying in *stage
 * where a failure happened.  The preload shim needs that: EACCES from
 * LOCK_ALL/UNLOCK_ALL means the module declined the caller (it is under a
 * seccomp filter), while EACCES from open(2) means the node's mode keeps
 * the caller out.  The public functions do not tell the two apart.
 */
int mlockdev__lockall(int flags, enum mlockdev__stage *stage);
int mlockdev__unlockall(enum mlockdev__stage *stage);

/* mlockdev_lockall_ex() and mlockdev_unlockall_ex(), with *stage. */
int mlockdev__lockall_ex(int flags, const struct mlockdev_options *opts,
			 struct mlockdev_report *report,
			 enum mlockdev__stage *stage);
int mlockdev__unlockall_ex(const struct mlockdev_options *opts,
			   struct mlockdev_report *report,
			   enum mlockdev__stage *stage);

/*
 * Open the device now, unless it is open already: the preload shim's
 * constructor, so that a program that drops privileges later keeps a
 * descriptor.  Returns the descriptor, or -1 with errno set as a call
 * would set it (ENODEV when there is no device); a failure is not
 * remembered.  errno is left alone on success.
 */
int mlockdev__open(void);

#endif
