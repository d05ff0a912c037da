// SPDX-License-Identifier: GPL-2.0
/*
 * diff_compare.c - compare the two snapshots of a scenario.
 *
 * Everything in struct diff_snapshot must be equal, with two exceptions
 * that are recognised precisely and reported as such.
 *
 * vma-merge: the module cannot merge VMAs (vma_modify_flags() on 6.12 and
 * vma_merge() on 6.1 are not exported), so where the system call merges
 * neighbours whose flags have become equal, the device path leaves them
 * split.  That case is:
 *
 *  - after coalescing, on each side, every run of adjacent VMAs that look
 *    alike (same permissions, VmFlags, name, backing file, contiguous file
 *    offset, page sizes), the two lists are identical, sizes and page
 *    counters summed;
 *  - every boundary between VMAs on the syscall path is also one on the
 *    device path, which has more.
 *
 * Anything else, including a VMA the device path has merged and the
 * system call has not, is a difference.
 *
 * mlock-count, only in scenarios marked DIFF_DIV_MLOCK_COUNT (pages locked
 * through two VMAs): the kernel counts, per folio on the unevictable
 * list, how many VMAs mlocked it, and keeps PG_mlocked until the last one
 * lets go.  The module marks present folios PG_mlocked but cannot put
 * them on that list (mlock_folio() is not exported), so when one of two
 * locking VMAs unlocks or unmaps such a folio, the kernel takes it for
 * the last and clears PG_mlocked; reclaim marks it again when it meets it
 * in the other, still VM_LOCKED, VMA.  Excused: on the device path, pages
 * that lack KPF_MLOCKED (and the Mlocked: they would add) where the
 * syscall path has it, and nothing else -- the pages must be resident and
 * everything else about them equal.
 *
 * Not compared, because they do not depend on the lock but on history:
 *
 *  - smaps "Referenced:" (young PTEs, PG_referenced, PG_active).  Most of
 *    a child's pages are shared with the parent (copy-on-write, page
 *    cache), and their aging state carries over from one child to the
 *    next; the system call moves folios to the unevictable list and back
 *    (clearing PG_active), which the module cannot do, so the same
 *    history ages pages differently.  Even scenarios that change nothing
 *    (EINVAL) show it.
 *
 *  - for file-backed VMAs, Pss, Pss_Dirty, SwapPss and how Rss splits
 *    into Shared_* and Private_*: they divide each page among the
 *    processes that map it, and other processes map the same libraries.
 *    What the lock decides is still compared: Rss, the clean and dirty
 *    totals, and whether "Locked:" is 0, all of Pss, or something else.
 *
 * Grandchildren that share our pages are started so that copy-on-write
 * does not depend on the scheduler (see diff_steps.c), so everything
 * else, the unevictable_pgs_* events included, is deterministic.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diff.h"

/* Diagnostics per scenario, so one bad scenario cannot drown the log. */
#define MAX_LINES	48

static const char *scenario;
static int lines_printed, lines_dropped;
/* This scenario may show the mlock-count divergence; what it excused. */
static bool mlock_count_allowed;
static long mlock_count_excused;

static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	va_list ap;

	if (lines_printed >= MAX_LINES) {
		lines_dropped++;
		return;
	}
	lines_printed++;
	printf("# %s: ", scenario);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static const char *path_name[DIFF_NR_PATHS] = {
	[DIFF_SYSCALL] = "syscall",
	[DIFF_DEVICE] = "device",
};

static const char *errno_name(int err)
{
	static char buf[16];

	switch (err) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case EINTR: return "EINTR";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case ENOTTY: return "ENOTTY";
	case ENOSYS: return "ENOSYS";
	case EBADF: return "EBADF";
	}
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

static void result_text(const struct diff_result *r, char *buf, size_t n)
{
	if (!r->ran)
		snprintf(buf, n, "not reached");
	else if (r->ret)
		snprintf(buf, n, "-1/%s", errno_name(r->err));
	else
		snprintf(buf, n, "0%s", r->errno_kept ? "" : " (errno changed)");
}

static const char *const page_bit_names[PG_NR_BITS] = {
	"unmapped", "resident", "present", "swapped", "file", "uffd-wp",
	"exclusive", "soft-dirty", "mlocked", "anon", "thp", "huge", "zero",
};

static const char *page_text(uint16_t st)
{
	static char buf[2][128];
	static int which;
	char *p = buf[which ^= 1];
	size_t off = 0;
	int i;

	p[0] = '\0';
	for (i = 0; i < PG_NR_BITS; i++)
		if (st & (1u << i))
			off += snprintf(p + off, sizeof(buf[0]) - off, "%s%s",
					off ? "," : "", page_bit_names[i]);
	if (!off)
		snprintf(p, sizeof(buf[0]), "absent");
	return p;
}

/* ------------------------------------------------------------------ */
/* Scalars                                                             */

static bool compare_steps(const struct diff_scenario *sc,
			  const struct diff_snapshot *a,
			  const struct diff_snapshot *b)
{
	char ta[48], tb[48];
	bool same = true;
	int i;

	for (i = 0; i < DIFF_MAX_STEPS; i++) {
		const struct diff_result *ra = &a->step[i], *rb = &b->step[i];

		if (!memcmp(ra, rb, sizeof(*ra)))
			continue;
		result_text(ra, ta, sizeof(ta));
		result_text(rb, tb, sizeof(tb));
		say("step %d %s: syscall=%s device=%s", i + 1,
		    sc->steps[i].fn ? sc->steps[i].name : "?", ta, tb);
		same = false;
	}
	return same;
}

static bool compare_facts(const struct diff_snapshot *a,
			  const struct diff_snapshot *b)
{
	bool same = true;
	int i, n;

	if (a->nfacts != b->nfacts) {
		say("number of recorded facts: syscall=%d device=%d",
		    a->nfacts, b->nfacts);
		same = false;
	}
	n = a->nfacts < b->nfacts ? a->nfacts : b->nfacts;
	for (i = 0; i < n; i++) {
		const struct diff_fact *fa = &a->fact[i], *fb = &b->fact[i];

		if (fa->step == fb->step && !strcmp(fa->name, fb->name) &&
		    fa->value == fb->value)
			continue;
		say("fact %s (step %d): syscall=%" PRId64 " device=%" PRId64
		    "%s%s", fa->name, fa->step + 1, fa->value, fb->value,
		    strcmp(fa->name, fb->name) ? " recorded as " : "",
		    strcmp(fa->name, fb->name) ? fb->name : "");
		same = false;
	}
	return same;
}

static bool compare_i64(const char *what, int64_t a, int64_t b,
			const char *unit)
{
	if (a == b)
		return true;
	say("%s: syscall=%" PRId64 "%s device=%" PRId64 "%s", what, a, unit,
	    b, unit);
	return false;
}

bool diff_status_rss_inexact;
bool diff_remote_vvar_allowed;
/* kB of [vvar] the syscall path has resident and the device path not. */
static int64_t remote_vvar_kb;

static const struct diff_vma *find_named(const struct diff_snapshot *s,
					 const char *name)
{
	int i;

	for (i = 0; i < s->nvmas; i++)
		if (!strcmp(s->vma[i].name, name))
			return &s->vma[i];
	return NULL;
}

/* The remote-vvar divergence, if allowed and there: its kB, else 0. */
static int64_t remote_vvar(const struct diff_snapshot *a,
			   const struct diff_snapshot *b)
{
	const struct diff_vma *x, *y;

	if (!diff_remote_vvar_allowed)
		return 0;
	x = find_named(a, "[vvar]");
	y = find_named(b, "[vvar]");
	if (!x || !y || y->kb[SM_RSS] || !x->kb[SM_RSS])
		return 0;
	return x->kb[SM_RSS];
}

/* Status fields that come from mm->rss_stat. */
static bool status_from_rss(int i)
{
	return i == ST_VMHWM || i == ST_VMRSS || i == ST_RSSANON ||
	       i == ST_RSSFILE || i == ST_RSSSHMEM;
}

static bool compare_status(const struct diff_snapshot *a,
			   const struct diff_snapshot *b)
{
	char what[64];
	bool same = true;
	int i;

	for (i = 0; i < ST_NR; i++) {
		int64_t excused = 0;

		if (diff_status_rss_inexact && status_from_rss(i))
			continue;
		/*
		 * [vvar] is a file page in the RSS counters; VmHWM, a peak
		 * taken when the mm is unmapped from, may predate it or not.
		 */
		if (remote_vvar_kb && i == ST_VMHWM)
			continue;
		if (i == ST_VMRSS || i == ST_RSSFILE)
			excused = remote_vvar_kb;
		snprintf(what, sizeof(what), "/proc/self/status %s",
			 diff_status_names[i]);
		same &= compare_i64(what, a->status[i] - excused, b->status[i],
				    " kB");
	}
	if (a->cap_eff != b->cap_eff) {
		say("CapEff: syscall=%016" PRIx64 " device=%016" PRIx64,
		    a->cap_eff, b->cap_eff);
		same = false;
	}
	if (mlock_count_allowed && b->mlocked_delta_kb < a->mlocked_delta_kb)
		mlock_count_excused++;
	else
		same &= compare_i64("/proc/meminfo Mlocked delta (child)",
				    a->mlocked_delta_kb, b->mlocked_delta_kb,
				    " kB");
	same &= compare_i64("/proc/meminfo Mlocked delta (after exit)",
			    a->exit_mlocked_delta_kb, b->exit_mlocked_delta_kb,
			    " kB");
	for (i = 0; i < VS_NR; i++) {
		snprintf(what, sizeof(what), "/proc/vmstat %s delta",
			 diff_vmstat_names[i]);
		same &= compare_i64(what, a->vmstat_delta[i],
				    b->vmstat_delta[i], "");
	}
	if (a->wait_status != b->wait_status) {
		say("child wait status: syscall=0x%x device=0x%x",
		    a->wait_status, b->wait_status);
		same = false;
	}
	return same;
}

/*
 * What must hold on either path, whatever the other did:
 *
 *  - VmLck is the sum of the sizes of the "lo" VMAs (modulo 2^32 pages
 *    where a VMA of terabytes meets 6.1's int page count);
 *  - no page of a VMA without "lo" is PG_mlocked (issue 8: no folio is
 *    PG_mlocked unless a VM_LOCKED VMA maps it).  Nothing else in the
 *    guest locks pages we map, so only the mlock-count scenarios, where a
 *    grandchild or a second mapping locks our pages, are exempt;
 *  - once the child is gone, Mlocked: and Unevictable: are back to where
 *    they were before it was forked.
 */
static bool check_invariants(const struct diff_scenario *sc,
			     const struct diff_snapshot *s, int path)
{
	int64_t vmlck = s->status[ST_VMLCK], lo = s->locked_vma_kb;
	bool ok = true;
	int i;

	if (sc->flags & DIFF_HUGE_ACCOUNTING) {
		/* 2^32 pages of 4 KiB, in kB. */
		const uint64_t wrap = 1ULL << 34;

		if (((uint64_t)vmlck - (uint64_t)lo) % wrap) {
			say("%s path: VmLck %" PRId64 " kB != %" PRId64
			    " kB in VMAs with \"lo\", modulo 2^32 pages "
			    "(invariant)", path_name[path], vmlck, lo);
			ok = false;
		}
	} else if (vmlck != lo) {
		say("%s path: VmLck %" PRId64 " kB != %" PRId64
		    " kB in VMAs with \"lo\" (invariant)", path_name[path],
		    vmlck, lo);
		ok = false;
	}

	for (i = 0; i < s->nvmas && !(sc->flags & DIFF_DIV_MLOCK_COUNT); i++) {
		const struct diff_vma *v = &s->vma[i];

		if (v->lo || !v->mlocked_pages)
			continue;
		say("%s path: vma 0x%" PRIx64 "-0x%" PRIx64 " %s [%s] is not "
		    "VM_LOCKED but %u of its pages are PG_mlocked (invariant)",
		    path_name[path], v->start, v->end, v->name, v->vmflags,
		    v->mlocked_pages);
		ok = false;
	}

	if (s->exit_mlocked_delta_kb > 0) {
		say("%s path: Mlocked %+" PRId64 " kB after the child is gone "
		    "(invariant)", path_name[path], s->exit_mlocked_delta_kb);
		ok = false;
	}
	if (s->exit_unevictable_delta_kb > 0) {
		say("%s path: Unevictable %+" PRId64 " kB after the child is "
		    "gone (invariant)", path_name[path],
		    s->exit_unevictable_delta_kb);
		ok = false;
	}
	return ok;
}

/* ------------------------------------------------------------------ */
/* Test mappings, page by page                                         */

static bool compare_maps(const struct diff_snapshot *a,
			 const struct diff_snapshot *b, long page)
{
	bool same = true;
	int i, n;

	if (a->nmaps != b->nmaps) {
		say("test mappings: syscall=%d device=%d", a->nmaps, b->nmaps);
		same = false;
	}
	n = a->nmaps < b->nmaps ? a->nmaps : b->nmaps;
	for (i = 0; i < n; i++) {
		const struct diff_map *ma = &a->map[i], *mb = &b->map[i];
		unsigned int p, shown = 0, bad = 0;

		if (strcmp(ma->label, mb->label) || ma->addr != mb->addr ||
		    ma->len != mb->len || ma->npages != mb->npages) {
			say("test mapping %d: syscall=%s 0x%" PRIx64 "+%" PRIu64
			    " device=%s 0x%" PRIx64 "+%" PRIu64, i, ma->label,
			    ma->addr, ma->len, mb->label, mb->addr, mb->len);
			same = false;
			continue;
		}
		for (p = 0; p < ma->npages; p++) {
			if (ma->page[p] == mb->page[p])
				continue;
			/* Only PG_mlocked missing on the device path, resident. */
			if (mlock_count_allowed &&
			    (ma->page[p] & ~PG_MLOCKED) == mb->page[p] &&
			    (ma->page[p] & PG_MLOCKED) &&
			    (mb->page[p] & PG_RESIDENT)) {
				mlock_count_excused++;
				continue;
			}
			bad++;
			if (shown++ < 3)
				say("mapping %s page %u (0x%" PRIx64
				    "): syscall=%s device=%s", ma->label, p,
				    ma->addr + (uint64_t)p * page,
				    page_text(ma->page[p]),
				    page_text(mb->page[p]));
		}
		if (bad > shown)
			say("mapping %s: %u of %u pages differ", ma->label,
			    bad, ma->npages);
		same &= !bad;
	}
	return same;
}

/* ------------------------------------------------------------------ */
/* VMAs                                                                */

/* Attributes that must be equal for two VMAs to be alike. */
static bool vma_alike(const struct diff_vma *x, const struct diff_vma *y,
		      bool same_snapshot)
{
	if (strcmp(x->perms, y->perms) || strcmp(x->vmflags, y->vmflags) ||
	    strcmp(x->name, y->name) || x->dev_major != y->dev_major ||
	    x->dev_minor != y->dev_minor)
		return false;
	/* Inode numbers of files each child made itself differ. */
	if (same_snapshot && x->inode != y->inode)
		return false;
	return x->kb[SM_KERNEL_PAGE] == y->kb[SM_KERNEL_PAGE] &&
	       x->kb[SM_MMU_PAGE] == y->kb[SM_MMU_PAGE] &&
	       x->kb[SM_THP_ELIGIBLE] == y->kb[SM_THP_ELIGIBLE];
}

/* smaps "Locked:" is the VMA's Pss when VM_LOCKED, else 0. */
static int locked_class(const struct diff_vma *v)
{
	if (!v->kb[SM_LOCKED])
		return 0;
	return v->kb[SM_LOCKED] == v->kb[SM_PSS] ? 1 : 2;
}

/*
 * Does smaps field @f differ between @x and @y?  For file-backed VMAs the
 * fields that depend on how many processes map each page (Pss and what is
 * derived from it, the Shared/Private split) are compared only as far as
 * they do not: other processes map the same library pages, and one of
 * them, the kselftest runner's shell that reads our output, faults in
 * more of libc between the two children's snapshots.
 */
static bool kb_field_differs(const struct diff_vma *x,
			     const struct diff_vma *y, int f)
{
	if (f == SM_REFERENCED)
		return false;
	if (!x->inode || !y->inode)
		return x->kb[f] != y->kb[f];
	switch (f) {
	case SM_PSS:
	case SM_PSS_DIRTY:
	case SM_SWAP_PSS:
		return false;
	case SM_SHARED_CLEAN:
	case SM_PRIVATE_CLEAN:
		return x->kb[SM_SHARED_CLEAN] + x->kb[SM_PRIVATE_CLEAN] !=
		       y->kb[SM_SHARED_CLEAN] + y->kb[SM_PRIVATE_CLEAN];
	case SM_SHARED_DIRTY:
	case SM_PRIVATE_DIRTY:
		return x->kb[SM_SHARED_DIRTY] + x->kb[SM_PRIVATE_DIRTY] !=
		       y->kb[SM_SHARED_DIRTY] + y->kb[SM_PRIVATE_DIRTY];
	case SM_LOCKED:
		return locked_class(x) != locked_class(y);
	default:
		return x->kb[f] != y->kb[f];
	}
}

static bool kb_equal(const struct diff_vma *x, const struct diff_vma *y)
{
	int f;

	for (f = 0; f < SM_NR; f++)
		if (kb_field_differs(x, y, f))
			return false;
	return true;
}

/* Fewer KPF_MLOCKED pages on the device path (@y), where excused. */
static bool mlocked_pages_equal(const struct diff_vma *x,
				const struct diff_vma *y)
{
	if (x->mlocked_pages == y->mlocked_pages)
		return true;
	if (!mlock_count_allowed || y->mlocked_pages > x->mlocked_pages)
		return false;
	mlock_count_excused += x->mlocked_pages - y->mlocked_pages;
	return true;
}

/* @x from the syscall path, @y from the device path. */
static bool vma_equal(const struct diff_vma *x, const struct diff_vma *y)
{
	bool vvar = remote_vvar_kb && !strcmp(x->name, "[vvar]");

	return x->start == y->start && x->end == y->end &&
	       x->offset == y->offset && vma_alike(x, y, false) &&
	       mlocked_pages_equal(x, y) && (vvar || kb_equal(x, y));
}

/* Would the kernel's merge rules (as far as smaps shows) join @x and @y? */
static bool vma_coalescable(const struct diff_vma *x, const struct diff_vma *y)
{
	if (x->end != y->start || !vma_alike(x, y, true))
		return false;
	/* File-backed: the file offset must continue. */
	return !x->inode || y->offset == x->offset + (x->end - x->start);
}

static struct diff_vma coalesced[DIFF_NR_PATHS][DIFF_MAX_VMAS];

static int coalesce(const struct diff_snapshot *s, struct diff_vma *out)
{
	int i, n = 0, f;

	for (i = 0; i < s->nvmas; i++) {
		const struct diff_vma *v = &s->vma[i];

		if (n && vma_coalescable(&out[n - 1], v)) {
			struct diff_vma *c = &out[n - 1];

			c->end = v->end;
			c->mlocked_pages += v->mlocked_pages;
			for (f = 0; f < SM_NR; f++)
				if (f != SM_KERNEL_PAGE && f != SM_MMU_PAGE &&
				    f != SM_THP_ELIGIBLE)
					c->kb[f] += v->kb[f];
			continue;
		}
		out[n++] = *v;
	}
	return n;
}

static bool is_boundary(const struct diff_snapshot *s, uint64_t addr)
{
	int i;

	for (i = 0; i < s->nvmas; i++)
		if (s->vma[i].start == addr || s->vma[i].end == addr)
			return true;
	return false;
}

static void say_vma_fields(const struct diff_vma *x, const struct diff_vma *y)
{
	int f;

	if (x->end != y->end)
		say("vma 0x%" PRIx64 " %s: end syscall=0x%" PRIx64
		    " device=0x%" PRIx64, x->start, x->name, x->end, y->end);
	if (x->offset != y->offset)
		say("vma 0x%" PRIx64 " %s: offset syscall=0x%" PRIx64
		    " device=0x%" PRIx64, x->start, x->name, x->offset,
		    y->offset);
	if (strcmp(x->perms, y->perms))
		say("vma 0x%" PRIx64 " %s: perms syscall=%s device=%s",
		    x->start, x->name, x->perms, y->perms);
	if (strcmp(x->name, y->name))
		say("vma 0x%" PRIx64 ": name syscall=\"%s\" device=\"%s\"",
		    x->start, x->name, y->name);
	if (strcmp(x->vmflags, y->vmflags))
		say("vma 0x%" PRIx64 " %s: VmFlags syscall=\"%s\" device=\"%s\"",
		    x->start, x->name, x->vmflags, y->vmflags);
	if (x->dev_major != y->dev_major || x->dev_minor != y->dev_minor)
		say("vma 0x%" PRIx64 " %s: device syscall=%x:%x device=%x:%x",
		    x->start, x->name, x->dev_major, x->dev_minor,
		    y->dev_major, y->dev_minor);
	if (x->mlocked_pages != y->mlocked_pages)
		say("vma 0x%" PRIx64 "-0x%" PRIx64 " %s: pages with KPF_MLOCKED "
		    "syscall=%u device=%u", x->start, x->end, x->name,
		    x->mlocked_pages, y->mlocked_pages);
	for (f = 0; f < SM_NR; f++)
		if (kb_field_differs(x, y, f))
			say("vma 0x%" PRIx64 "-0x%" PRIx64 " %s: %s syscall=%"
			    PRIu64 " device=%" PRIu64 "%s", x->start, x->end,
			    x->name, diff_smaps_names[f], x->kb[f], y->kb[f],
			    f == SM_THP_ELIGIBLE ? "" : " kB");
}

/* Walk both lists by address and print what differs. */
static void say_vma_list_diff(const struct diff_vma *a, int na,
			      const struct diff_vma *b, int nb)
{
	int i = 0, j = 0;

	while (i < na || j < nb) {
		if (j >= nb || (i < na && a[i].start < b[j].start)) {
			say("vma 0x%" PRIx64 "-0x%" PRIx64 " %s [%s]: only on "
			    "the syscall path", a[i].start, a[i].end,
			    a[i].name, a[i].vmflags);
			i++;
		} else if (i >= na || b[j].start < a[i].start) {
			say("vma 0x%" PRIx64 "-0x%" PRIx64 " %s [%s]: only on "
			    "the device path", b[j].start, b[j].end,
			    b[j].name, b[j].vmflags);
			j++;
		} else {
			if (!vma_equal(&a[i], &b[j]))
				say_vma_fields(&a[i], &b[j]);
			i++;
			j++;
		}
	}
}

static bool same_lists(const struct diff_vma *a, const struct diff_vma *b,
		       int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!vma_equal(&a[i], &b[i]))
			return false;
	return true;
}

/*
 * The device path is the syscall path with more splits: every boundary
 * of @a is one of @b.  Return the number of extra boundaries of @b (0 if
 * @b is not such a refinement of @a), and the first in *@first.
 */
static int extra_splits(const struct diff_snapshot *a,
			const struct diff_snapshot *b, uint64_t *first)
{
	int i, extra = 0;

	for (i = 0; i < a->nvmas; i++)
		if (!is_boundary(b, a->vma[i].start) ||
		    !is_boundary(b, a->vma[i].end))
			return 0;
	*first = 0;
	for (i = 1; i < b->nvmas; i++) {
		if (is_boundary(a, b->vma[i].start))
			continue;
		if (!extra++)
			*first = b->vma[i].start;
	}
	return extra;
}

/* Return: 0 identical, 1 documented merge divergence, -1 different. */
static int compare_vmas(const struct diff_snapshot *a,
			const struct diff_snapshot *b)
{
	struct diff_vma *ca = coalesced[DIFF_SYSCALL];
	struct diff_vma *cb = coalesced[DIFF_DEVICE];
	uint64_t first;
	int na, nb, extra;

	if (a->nvmas == b->nvmas && same_lists(a->vma, b->vma, a->nvmas))
		return 0;

	na = coalesce(a, ca);
	nb = coalesce(b, cb);
	if (na == nb && same_lists(ca, cb, na) && b->nvmas > a->nvmas) {
		extra = extra_splits(a, b, &first);
		if (extra) {
			say("documented divergence vma-merge: syscall=%d VMAs "
			    "device=%d VMAs, identical after coalescing; the "
			    "device path leaves %d split(s) (first at 0x%" PRIx64
			    ") that the system call merges: the module cannot "
			    "merge VMAs (vma_modify_flags()/vma_merge() are not "
			    "exported)", a->nvmas, b->nvmas, extra, first);
			return 1;
		}
	}

	say("VMA count: syscall=%d device=%d (after coalescing alike "
	    "neighbours: %d and %d)", a->nvmas, b->nvmas, na, nb);
	if (a->nvmas == b->nvmas)
		say_vma_list_diff(a->vma, a->nvmas, b->vma, b->nvmas);
	else
		say_vma_list_diff(ca, na, cb, nb);
	return -1;
}

/* ------------------------------------------------------------------ */

static bool snapshot_usable(const struct diff_snapshot *s, int path)
{
	if (s->magic != DIFF_SNAPSHOT_MAGIC || s->size != sizeof(*s)) {
		say("%s path: no snapshot (child wait status 0x%x)%s%s",
		    path_name[path], s->wait_status, s->error[0] ? ": " : "",
		    s->error);
		return false;
	}
	if (s->error[0] || !s->complete) {
		say("%s path: %s", path_name[path],
		    s->error[0] ? s->error : "snapshot incomplete");
		return false;
	}
	return true;
}

enum diff_verdict diff_compare(const struct diff_scenario *sc,
			       const struct diff_snapshot *sys,
			       const struct diff_snapshot *dev, long page)
{
	bool same = true;
	int vmas;

	scenario = sc->name;
	lines_printed = lines_dropped = 0;
	mlock_count_allowed = sc->flags & DIFF_DIV_MLOCK_COUNT;
	mlock_count_excused = 0;
	remote_vvar_kb = 0;

	if (!snapshot_usable(sys, DIFF_SYSCALL) ||
	    !snapshot_usable(dev, DIFF_DEVICE)) {
		/* Also show how far each got, if both ran at all. */
		compare_steps(sc, sys, dev);
		return DIFF_DIFFERENT;
	}

	remote_vvar_kb = remote_vvar(sys, dev);
	same &= compare_steps(sc, sys, dev);
	same &= compare_facts(sys, dev);
	same &= compare_status(sys, dev);
	same &= check_invariants(sc, sys, DIFF_SYSCALL);
	same &= check_invariants(sc, dev, DIFF_DEVICE);
	same &= compare_maps(sys, dev, page);
	vmas = compare_vmas(sys, dev);

	if (lines_dropped)
		printf("# %s: (%d more lines not shown)\n", scenario,
		       lines_dropped);
	if (!same || vmas < 0)
		return DIFF_DIFFERENT;
	if (remote_vvar_kb) {
		say("documented divergence remote-vvar: [vvar] %" PRId64 " kB "
		    "resident through the system call, 0 through the lock by "
		    "pidfd: the kernel's [vvar] fault handler refuses remote "
		    "faults (7.3: lib/vdso/datastore.c); the process faults it "
		    "in on its first vDSO call", remote_vvar_kb);
		return DIFF_DOCUMENTED;
	}
	if (mlock_count_excused) {
		say("documented divergence mlock-count: Mlocked delta "
		    "syscall=%" PRId64 " device=%" PRId64 " kB; pages locked "
		    "through two VMAs lost PG_mlocked on the device path when "
		    "one VMA let go, and stay resident in the other, locked "
		    "VMA: the module cannot keep the kernel's per-folio "
		    "mlock_count (mlock_folio() is not exported); reclaim "
		    "marks them again", sys->mlocked_delta_kb,
		    dev->mlocked_delta_kb);
		return DIFF_DOCUMENTED;
	}
	return vmas ? DIFF_DOCUMENTED : DIFF_IDENTICAL;
}

/* ------------------------------------------------------------------ */
/* -v: what one path saw, in one paragraph                             */

static const struct diff_vma *vma_at(const struct diff_snapshot *s,
				     uint64_t addr)
{
	int i;

	for (i = 0; i < s->nvmas; i++)
		if (s->vma[i].start <= addr && addr < s->vma[i].end)
			return &s->vma[i];
	return NULL;
}

void diff_describe(const struct diff_scenario *sc,
		   const struct diff_snapshot *s, int path)
{
	char text[48];
	int i, lo = 0, lf = 0;

	scenario = sc->name;
	for (i = 0; i < DIFF_MAX_STEPS && sc->steps[i].fn; i++) {
		result_text(&s->step[i], text, sizeof(text));
		printf("# %s: %s: step %d %s -> %s\n", scenario,
		       path_name[path], i + 1, sc->steps[i].name, text);
	}
	for (i = 0; i < s->nvmas; i++) {
		lo += s->vma[i].lo;
		lf += s->vma[i].lf;
	}
	printf("# %s: %s: VmSize %" PRId64 " kB, VmLck %" PRId64 " kB, "
	       "%d VMAs (%d lo, %d lf), Mlocked %+" PRId64 " kB, "
	       "after exit %+" PRId64 " kB\n", scenario, path_name[path],
	       s->status[ST_VMSIZE], s->status[ST_VMLCK], s->nvmas, lo, lf,
	       s->mlocked_delta_kb, s->exit_mlocked_delta_kb);
	for (i = 0; i < s->nfacts; i++)
		printf("# %s: %s: %s = %" PRId64 "\n", scenario,
		       path_name[path], s->fact[i].name, s->fact[i].value);
	for (i = 0; i < s->nmaps; i++) {
		const struct diff_map *m = &s->map[i];
		const struct diff_vma *v = vma_at(s, m->addr);
		unsigned int p, res = 0, mlk = 0;

		for (p = 0; p < m->npages; p++) {
			res += !!(m->page[p] & PG_RESIDENT);
			mlk += !!(m->page[p] & PG_MLOCKED);
		}
		printf("# %s: %s: mapping %s 0x%" PRIx64 " %u pages: %u "
		       "resident, %u mlocked; VMA [%s]\n", scenario,
		       path_name[path], m->label, m->addr, m->npages, res,
		       mlk, v ? v->vmflags : "none");
	}
	if (s->error[0])
		printf("# %s: %s: error: %s\n", scenario, path_name[path],
		       s->error);
}
