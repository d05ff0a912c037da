// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Targets of "ld --wrap": a program linked with
 *	-Wl,--wrap=mlockall -Wl,--wrap=munlockall ... -lmlockdev
 * has its references to mlockall/munlockall bound to these instead of
 * libc's, without any change to its source.
 */
#include "internal.h"

MLOCKDEV_PUBLIC int __wrap_mlockall(int flags)
{
	return mlockdev_lockall(flags);
}

MLOCKDEV_PUBLIC int __wrap_munlockall(void)
{
	return mlockdev_unlockall();
}
