// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mlockdev_report_format(): what one LOCK_ALL_EX or UNLOCK_ALL_EX call
 * did, as text a person reads and a script can pick apart.  One item per
 * line, "  name: value"; VmLck in kB as /proc/PID/status shows it, with
 * the module's page counts next to it.  The preload shim's reports and
 * "mlockdevctl lock --report" print this.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* An output buffer that counts what did not fit, as snprintf does. */
struct out {
	char *buf;
	size_t size;
	size_t len;	/* what the whole text needs */
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
	size_t room = o->len < o->size ? o->size - o->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* Nanoseconds as milliseconds with three decimals. */
static void put_ms(struct out *o, unsigned long long ns)
{
	put(o, "%llu.%03llu ms", ns / 1000000, ns / 1000 % 1000);
}

static const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "?";
}

MLOCKDEV_PUBLIC int mlockdev_report_format(const struct mlockdev_report *r,
					   char *buf, size_t size)
{
	static const struct {
		const char *name;
		size_t offset;
	} skips[] = {
		{ "special", offsetof(struct mlockdev_report, vmas_skipped_special) },
		{ "droppable", offsetof(struct mlockdev_report, vmas_skipped_droppable) },
		{ "dax", offsetof(struct mlockdev_report, vmas_skipped_dax) },
		{ "hugetlb", offsetof(struct mlockdev_report, vmas_skipped_hugetlb) },
		{ "secretmem", offsetof(struct mlockdev_report, vmas_skipped_secretmem) },
	};
	struct out o = { buf, buf ? size : 0, 0 };
	unsigned long long skipped = 0, v;
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long kb = page > 0 ? (unsigned long long)page / 1024 : 4;
	const char *sep = "";
	size_t i;

	if (!r) {
		errno = EINVAL;
		return -1;
	}
	if (o.size)
		o.buf[0] = '\0';
	for (i = 0; i < sizeof(skips) / sizeof(skips[0]); i++)
		skipped += *(const __u64 *)((const char *)r + skips[i].offset);

	put(&o, "  VMAs: %llu seen, %llu changed, %llu skipped",
	    (unsigned long long)r->vmas_seen,
	    (unsigned long long)r->vmas_changed, skipped);
	if (skipped) {
		put(&o, " (");
		for (i = 0; i < sizeof(skips) / sizeof(skips[0]); i++) {
			v = *(const __u64 *)((const char *)r + skips[i].offset);
			if (!v)
				continue;
			put(&o, "%s%s %llu", sep, skips[i].name, v);
			sep = ", ";
		}
		put(&o, ")");
	}
	put(&o, "\n  pages: %llu marked, %llu unmarked, %llu populated\n",
	    (unsigned long long)r->pages_marked,
	    (unsigned long long)r->pages_unmarked,
	    (unsigned long long)r->pages_populated);
	if (!r->populate_errors) {
		put(&o, "  populate errors: none\n");
	} else {
		int err = -r->populate_first_errno;

		put(&o, "  populate errors: %llu, the first %s (%s) at 0x%llx\n",
		    (unsigned long long)r->populate_errors, errno_name(err),
		    strerror(err), (unsigned long long)r->populate_first_addr);
	}
	put(&o, "  VmLck: %llu kB before, %llu kB after (locked_vm %llu -> %llu pages)\n",
	    (unsigned long long)r->locked_vm_before * kb,
	    (unsigned long long)r->locked_vm_after * kb,
	    (unsigned long long)r->locked_vm_before,
	    (unsigned long long)r->locked_vm_after);
	put(&o, "  time: lock pass ");
	put_ms(&o, r->lock_pass_ns);
	put(&o, " (page pass ");
	put_ms(&o, r->page_pass_ns);
	put(&o, "), populate ");
	put_ms(&o, r->populate_ns);
	put(&o, "\n");
	if (!r->workers_used)
		put(&o, "  workers: 0 (nothing faulted in)\n");
	else if (r->workers_used == 1)
		put(&o, "  workers: 1 (the calling thread)\n");
	else
		put(&o, "  workers: %llu (the calling thread and %llu kernel workers)\n",
		    (unsigned long long)r->workers_used,
		    (unsigned long long)r->workers_used - 1);
	if (r->failed_vma_start || r->failed_vma_end)
		put(&o, "  failed VMA: 0x%llx-0x%llx could not be made resident; "
		    "the call was undone\n",
		    (unsigned long long)r->failed_vma_start,
		    (unsigned long long)r->failed_vma_end);
	return (int)o.len;
}
