/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Declarations shared by the library's own objects, never installed. */
#ifndef MLOCKDEV_INTERNAL_H
#define MLOCKDEV_INTERNAL_H

#include "mlockdev/mlockdev.h"

/* Objects are built with -fvisibility=hidden; the API is marked public. */
#define MLOCKDEV_PUBLIC	__attribute__((visibility("default")))

/*
 * Close the library's descriptor, if open, so the next call opens the
 * device again.  The preload shim calls it after its constructor has
 * locked memory, so that the program does not inherit a descriptor it
 * did not open.
 */
void mlockdev__close(void);

#endif
