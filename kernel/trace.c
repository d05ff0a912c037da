// SPDX-License-Identifier: GPL-2.0
/*
 * The trace events of trace.h are defined here, once; every other file
 * includes trace.h for the trace_mlockdev_*() calls.
 */
#define CREATE_TRACE_POINTS
#include "trace.h"
