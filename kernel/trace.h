/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events of mlockdev, under events/mlockdev/ in tracefs: one pair per
 * call, one event per VMA decision, one per populated range and one per
 * VMA a strict call puts back.  A tracepoint costs a patched-out branch
 * while it is disabled.  Documentation/design.rst, "Tracing", shows a
 * trace of one call.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM mlockdev

#if !defined(_MLOCKDEV_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _MLOCKDEV_TRACE_H

#include <linux/tracepoint.h>

#include "mlockdev.h"

TRACE_DEFINE_ENUM(MLOCKDEV_TRACE_LOCKED);
TRACE_DEFINE_ENUM(MLOCKDEV_TRACE_UNLOCKED);
TRACE_DEFINE_ENUM(MLOCKDEV_TRACE_RELOCKED);
TRACE_DEFINE_ENUM(MLOCKDEV_TRACE_UNCHANGED);
TRACE_DEFINE_ENUM(MLOCKDEV_TRACE_SKIP_SPECIAL);
TRACE_DEFINE_ENUM(MLOCKDEV_TRACE_SKIP_DROPPABLE);
TRACE_DEFINE_ENUM(MLOCKDEV_TRACE_SKIP_DAX);
TRACE_DEFINE_ENUM(MLOCKDEV_TRACE_SKIP_HUGETLB);
TRACE_DEFINE_ENUM(MLOCKDEV_TRACE_SKIP_SECRETMEM);

TRACE_EVENT(mlockdev_call_enter,
	    TP_PROTO(bool lock, int flags, u64 mode),
	    TP_ARGS(lock, flags, mode),
	    TP_STRUCT__entry(__field(bool, lock)
			     __field(int, flags)
			     __field(u64, mode)),
	    TP_fast_assign(__entry->lock = lock;
			   __entry->flags = flags;
			   __entry->mode = mode;),
	    TP_printk("%s flags=0x%x mode=0x%llx",
		      __entry->lock ? "lock" : "unlock", __entry->flags,
		      (unsigned long long)__entry->mode)
);

TRACE_EVENT(mlockdev_call_exit,
	    TP_PROTO(bool lock, int ret, unsigned long locked_vm),
	    TP_ARGS(lock, ret, locked_vm),
	    TP_STRUCT__entry(__field(bool, lock)
			     __field(int, ret)
			     __field(unsigned long, locked_vm)),
	    TP_fast_assign(__entry->lock = lock;
			   __entry->ret = ret;
			   __entry->locked_vm = locked_vm;),
	    TP_printk("%s ret=%d locked_vm=%lu",
		      __entry->lock ? "lock" : "unlock", __entry->ret,
		      __entry->locked_vm)
);

TRACE_EVENT(mlockdev_vma,
	    TP_PROTO(unsigned long start, unsigned long end,
		     unsigned long oldflags, unsigned long newflags,
		     int decision),
	    TP_ARGS(start, end, oldflags, newflags, decision),
	    TP_STRUCT__entry(__field(unsigned long, start)
			     __field(unsigned long, end)
			     __field(unsigned long, oldflags)
			     __field(unsigned long, newflags)
			     __field(int, decision)),
	    TP_fast_assign(__entry->start = start;
			   __entry->end = end;
			   __entry->oldflags = oldflags;
			   __entry->newflags = newflags;
			   __entry->decision = decision;),
	    TP_printk("%lx-%lx flags=%#lx->%#lx %s",
		      __entry->start, __entry->end, __entry->oldflags,
		      __entry->newflags,
		      __print_symbolic(__entry->decision,
				       { MLOCKDEV_TRACE_LOCKED, "locked" },
				       { MLOCKDEV_TRACE_UNLOCKED, "unlocked" },
				       { MLOCKDEV_TRACE_RELOCKED, "relocked" },
				       { MLOCKDEV_TRACE_UNCHANGED, "unchanged" },
				       { MLOCKDEV_TRACE_SKIP_SPECIAL,
					 "skipped:special" },
				       { MLOCKDEV_TRACE_SKIP_DROPPABLE,
					 "skipped:droppable" },
				       { MLOCKDEV_TRACE_SKIP_DAX,
					 "skipped:dax" },
				       { MLOCKDEV_TRACE_SKIP_HUGETLB,
					 "skipped:hugetlb" },
				       { MLOCKDEV_TRACE_SKIP_SECRETMEM,
					 "skipped:secretmem" }))
);

TRACE_EVENT(mlockdev_populate,
	    TP_PROTO(unsigned long start, unsigned long end, long pages,
		     int err),
	    TP_ARGS(start, end, pages, err),
	    TP_STRUCT__entry(__field(unsigned long, start)
			     __field(unsigned long, end)
			     __field(long, pages)
			     __field(int, err)),
	    TP_fast_assign(__entry->start = start;
			   __entry->end = end;
			   __entry->pages = pages;
			   __entry->err = err;),
	    TP_printk("%lx-%lx pages=%ld err=%d", __entry->start,
		      __entry->end, __entry->pages, __entry->err)
);

TRACE_EVENT(mlockdev_rollback,
	    TP_PROTO(unsigned long start, unsigned long end, bool restored),
	    TP_ARGS(start, end, restored),
	    TP_STRUCT__entry(__field(unsigned long, start)
			     __field(unsigned long, end)
			     __field(bool, restored)),
	    TP_fast_assign(__entry->start = start;
			   __entry->end = end;
			   __entry->restored = restored;),
	    TP_printk("%lx-%lx %s", __entry->start, __entry->end,
		      __entry->restored ? "restored" : "changed meanwhile")
);

#endif /* _MLOCKDEV_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
