// SPDX-License-Identifier: GPL-2.0
/*
 * memcg_limit.c - see memcg_limit.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memcg_limit.h"
#include "residency_common.h"

#define CG_ROOT		"/sys/fs/cgroup"

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		if ((p == list || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return true;
		p += n;
	}
	return false;
}

/* Make our cgroup; NULL, or why the case cannot run. */
const char *memcg_limit_make(struct memcg_limit *cg, const char *name)
{
	static char why[192];
	char buf[512], *rel;
	int err;

	memset(cg, 0, sizeof(*cg));
	if (rc_read_file(CG_ROOT "/cgroup.controllers", buf, sizeof(buf)))
		return "cgroup v2 is not mounted at " CG_ROOT;
	if (!has_word(buf, "memory"))
		return "no cgroup v2 memory controller (CONFIG_MEMCG)";
	if (rc_read_file(CG_ROOT "/cgroup.subtree_control", buf, sizeof(buf)) ||
	    !has_word(buf, "memory")) {
		err = rc_write_file(CG_ROOT "/cgroup.subtree_control", "+memory");
		if (err) {
			snprintf(why, sizeof(why), "cannot enable +memory at %s: %s",
				 CG_ROOT, strerror(err));
			return why;
		}
		cg->enabled_memory = true;
	}
	snprintf(cg->dir, sizeof(cg->dir), CG_ROOT "/%s-%d", name,
		 (int)getpid());
	if (mkdir(cg->dir, 0755)) {
		snprintf(why, sizeof(why), "mkdir %s: %s", cg->dir,
			 strerror(errno));
		cg->dir[0] = '\0';
		return why;
	}
	/* "0::/path": where the subject comes back to after the call. */
	if (rc_read_file("/proc/self/cgroup", buf, sizeof(buf)) ||
	    !(rel = strstr(buf, "0::")))
		return "cannot read /proc/self/cgroup";
	rel += 3;
	rel[strcspn(rel, "\n")] = '\0';
	snprintf(cg->home, sizeof(cg->home), CG_ROOT "%s/cgroup.procs",
		 strcmp(rel, "/") ? rel : "");
	return NULL;
}

void memcg_limit_remove(struct memcg_limit *cg)
{
	int i;

	if (cg->dir[0])
		for (i = 0; i < 100 && rmdir(cg->dir) && errno == EBUSY; i++)
			rc_sleep_ms(20);
	if (cg->enabled_memory)
		rc_write_file(CG_ROOT "/cgroup.subtree_control", "-memory");
	memset(cg, 0, sizeof(*cg));
}

static int cg_write(const char *dir, const char *file, const char *text)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return rc_write_file(path, text);
}

/*
 * No process in the cgroup may be killed (oom_score_adj -1000), so a
 * fault past the limit fails with ENOMEM; no swap, so anonymous memory
 * cannot leave to make room.
 */
int memcg_limit_enter(const struct memcg_limit *cg, size_t headroom)
{
	char buf[64], path[192];
	long long cur;
	int err;

	err = rc_write_file("/proc/self/oom_score_adj", "-1000");
	snprintf(buf, sizeof(buf), "%d", (int)getpid());
	err = err ?: cg_write(cg->dir, "cgroup.procs", buf);
	cg_write(cg->dir, "memory.swap.max", "0");
	snprintf(path, sizeof(path), "%s/memory.current", cg->dir);
	err = err ?: rc_read_file(path, buf, sizeof(buf));
	if (err)
		return err;
	cur = strtoll(buf, NULL, 10);
	snprintf(buf, sizeof(buf), "%lld",
		 (cur + (long long)headroom) & ~4095LL);
	return cg_write(cg->dir, "memory.max", buf);
}

void memcg_limit_leave(const struct memcg_limit *cg)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", (int)getpid());
	rc_write_file(cg->home, buf);
}

