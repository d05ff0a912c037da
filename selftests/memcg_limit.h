/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memcg_limit.h - a memory cgroup in which a fault fails with ENOMEM:
 * the process joins it, may then use only a little more memory than it
 * holds, has no swap, and cannot be killed to make room (oom_score_adj
 * -1000), so a charge past memory.max ends in ENOMEM (the memcg OOM
 * killer finds no victim and says so in the kernel log).  Used by the
 * strict and OpenBSD mode tests: a populate that fails with ENOMEM.
 */
#ifndef MLOCKDEV_MEMCG_LIMIT_H
#define MLOCKDEV_MEMCG_LIMIT_H

#include <stdbool.h>
#include <stddef.h>

struct memcg_limit {
	char dir[128];		/* our cgroup, "" if none */
	char home[160];		/* cgroup.procs of the cgroup to go back to */
	bool enabled_memory;	/* we turned on +memory at the root */
};

/* Make the cgroup (by the test process): NULL, or why it cannot be. */
const char *memcg_limit_make(struct memcg_limit *cg, const char *name);
/* Remove it once its members are gone, and undo +memory if we did it. */
void memcg_limit_remove(struct memcg_limit *cg);
/*
 * The calling process joins @cg, which may then hold @headroom bytes more
 * than it holds now.  0 or an errno value.
 */
int memcg_limit_enter(const struct memcg_limit *cg, size_t headroom);
/* The calling process goes back to where it was (no limit). */
void memcg_limit_leave(const struct memcg_limit *cg);

#endif /* MLOCKDEV_MEMCG_LIMIT_H */
