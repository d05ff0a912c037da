// SPDX-License-Identifier: GPL-2.0
/*
 * lock_state.c - see lock_state.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "invariants.h"
#include "lock_state.h"

int ls_add_map(struct diff_snapshot *snap, const char *label, void *addr,
	       size_t len)
{
	struct diff_map *m;

	if (snap->nmaps >= DIFF_MAX_MAPS)
		return -1;
	m = &snap->map[snap->nmaps++];
	snprintf(m->label, sizeof(m->label), "%s", label);
	m->addr = (uintptr_t)addr;
	m->len = len;
	return 0;
}

int ls_take(struct diff_snapshot *snap, int64_t mlocked_base_kb)
{
	struct diff_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.snap = snap;
	ctx.page = sysconf(_SC_PAGESIZE);
	ctx.step = -1;
	snap->magic = DIFF_SNAPSHOT_MAGIC;
	snap->size = sizeof(*snap);
	snap->mlocked_base_kb = mlocked_base_kb;
	snap->error[0] = '\0';
	return diff_take_snapshot(&ctx);
}

static int differences;

static void __attribute__((format(printf, 2, 3)))
ls_say(const char *what, const char *fmt, ...)
{
	va_list ap;

	differences++;
	printf("# %s: ", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static const struct diff_vma *vma_of(const struct diff_snapshot *s,
				     uint64_t addr)
{
	int i;

	for (i = 0; i < s->nvmas; i++)
		if (s->vma[i].start <= addr && addr < s->vma[i].end)
			return &s->vma[i];
	return NULL;
}

static void compare_vmas(const char *what, const struct diff_snapshot *b,
			 const struct diff_snapshot *a)
{
	int i;

	if (a->nvmas != b->nvmas) {
		ls_say(what, "%d VMAs before, %d after", b->nvmas, a->nvmas);
		return;
	}
	for (i = 0; i < a->nvmas; i++) {
		const struct diff_vma *x = &b->vma[i], *y = &a->vma[i];

		if (x->start != y->start || x->end != y->end)
			ls_say(what, "VMA %d: 0x%" PRIx64 "-0x%" PRIx64
			       " before, 0x%" PRIx64 "-0x%" PRIx64 " after", i,
			       x->start, x->end, y->start, y->end);
		else if (x->lo != y->lo || x->lf != y->lf)
			ls_say(what, "VMA 0x%" PRIx64 "-0x%" PRIx64 " %s: "
			       "lo/lf %d/%d before, %d/%d after [%s]",
			       x->start, x->end, x->name, x->lo, x->lf, y->lo,
			       y->lf, y->vmflags);
	}
}

static void compare_pages(const char *what, const struct diff_snapshot *b,
			  const struct diff_snapshot *a, long page,
			  struct ls_result *res)
{
	int i;

	for (i = 0; i < a->nmaps && i < b->nmaps; i++) {
		const struct diff_map *mb = &b->map[i], *ma = &a->map[i];
		unsigned int p, shown = 0;

		for (p = 0; p < ma->npages && p < mb->npages; p++) {
			uint64_t addr = ma->addr + (uint64_t)p * page;
			bool was = mb->page[p] & PG_PRESENT;
			bool is = ma->page[p] & PG_PRESENT;
			bool mlocked = ma->page[p] & PG_MLOCKED;
			const struct diff_vma *v = vma_of(a, addr);
			bool want;

			if (!is)
				continue;
			if (was) {
				want = mb->page[p] & PG_MLOCKED;
			} else {
				res->faulted_in++;
				res->faulted_mlocked += mlocked;
				want = v && v->lo;
			}
			if (mlocked == want)
				continue;
			if (shown++ < 4)
				ls_say(what, "mapping %s page %u (0x%" PRIx64
				       "): %s, KPF_MLOCKED %d, should be %d "
				       "(VMA %s)", ma->label, p, addr,
				       was ? "present before" :
					     "faulted in by the call",
				       mlocked, want,
				       v ? v->vmflags : "gone");
			else
				differences++;
		}
	}
}

int ls_compare(const char *what, const struct diff_snapshot *before,
	       const struct diff_snapshot *after, long page,
	       struct ls_result *res)
{
	struct inv_vma_report stray;
	int64_t want_kb;
	int err;

	differences = 0;
	memset(res, 0, sizeof(*res));
	if (!before->complete || !after->complete) {
		ls_say(what, "no snapshot: %s",
		       before->error[0] ? before->error : after->error);
		return differences;
	}
	compare_vmas(what, before, after);
	if (before->status[ST_VMLCK] != after->status[ST_VMLCK])
		ls_say(what, "VmLck %" PRId64 " kB before, %" PRId64 " kB after",
		       before->status[ST_VMLCK], after->status[ST_VMLCK]);
	if (after->status[ST_VMLCK] != after->locked_vma_kb)
		ls_say(what, "VmLck %" PRId64 " kB, but the lo VMAs hold %"
		       PRId64 " kB", after->status[ST_VMLCK],
		       after->locked_vma_kb);
	compare_pages(what, before, after, page, res);

	want_kb = before->mlocked_delta_kb +
		  (int64_t)res->faulted_mlocked * page / 1024;
	if (after->mlocked_delta_kb != want_kb)
		ls_say(what, "meminfo Mlocked: %+" PRId64 " kB before, %+"
		       PRId64 " kB after; %lu pages faulted into lock-on-fault "
		       "VMAs explain %+" PRId64 " kB", before->mlocked_delta_kb,
		       after->mlocked_delta_kb, res->faulted_mlocked,
		       (int64_t)res->faulted_mlocked * page / 1024);

	err = inv_unlocked_vmas(0, &stray);
	if (err)
		ls_say(what, "cannot look for PG_mlocked pages outside "
		       "locked VMAs: %s", strerror(err));
	else if (stray.pages)
		ls_say(what, "%lu PG_mlocked page(s) in %lu VMA(s) without lo, "
		       "the first at 0x%lx %s (nothing may be stranded)",
		       stray.pages, stray.vmas, stray.first_addr,
		       stray.first_name);
	return differences;
}

int ls_probe_locked(long page)
{
	int64_t before, after;
	uint64_t cap;
	int64_t st[ST_NR];
	char *p;
	long i;

	if (diff_read_status(st, &cap))
		return -1;
	before = st[ST_VMLCK];
	p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	for (i = 0; i < 4; i++)
		p[i * page] = 1;
	if (diff_read_status(st, &cap))
		after = before;
	else
		after = st[ST_VMLCK];
	munmap(p, 4 * page);
	return after > before;
}

static bool has_token(const char *flags, const char *tok)
{
	size_t n = strlen(tok);
	const char *p = flags;

	for (; *p; p += strcspn(p, " "), p += strspn(p, " "))
		if (!strncmp(p, tok, n) && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

bool ls_lockable(const struct diff_vma *v)
{
	return strcmp(v->name, "[vsyscall]") &&
	       !has_token(v->vmflags, "io") && !has_token(v->vmflags, "pf") &&
	       !has_token(v->vmflags, "mm") && !has_token(v->vmflags, "de") &&
	       !has_token(v->vmflags, "ht");
}

int64_t ls_unlocked_kb(struct diff_snapshot *scratch, bool accessible_only,
		       int64_t *none_kb)
{
	int64_t kb = 0;
	int i;

	*none_kb = 0;
	if (diff_read_smaps(scratch))
		return -1;
	for (i = 0; i < scratch->nvmas; i++) {
		const struct diff_vma *v = &scratch->vma[i];
		bool none = !strncmp(v->perms, "---", 3);

		if (v->lo || !ls_lockable(v) || (none && accessible_only))
			continue;
		kb += v->kb[SM_SIZE];
		if (none)
			*none_kb += v->kb[SM_SIZE];
	}
	return kb;
}
