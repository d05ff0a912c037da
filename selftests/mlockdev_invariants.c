// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev_invariants - the "nothing stranded" invariant of issue 8 over a
 * whole guest run: record a baseline before the first suite, check it
 * after the last, when every test process is gone.
 *
 *   mlockdev_invariants record FILE   settle, read the counters, write FILE
 *   mlockdev_invariants check FILE    settle, read them again, compare;
 *                                     KTAP on stdout, exit 0 (held) or 1
 *   mlockdev_invariants show          print the counters now
 *
 * Checked: /proc/meminfo Mlocked: and Unevictable: not above the baseline,
 * and no more pages with KPF_MLOCKED in /proc/kpageflags than at the
 * baseline.  unevictable_pgs_stranded and _cleared are reported, not
 * checked: the system call's runs may move them (the kernel's own munlock
 * counts folios that another path had isolated), so over a run that mixes
 * both paths there is nothing to compare them with.
 *
 * Needs root (kpageflags, vm.stat_refresh).  See invariants.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "invariants.h"

#define BASELINE_VERSION	1

static void usage(const char *prog, int status)
{
	fprintf(status ? stderr : stdout,
		"Usage: %s record FILE | check FILE | show\n", prog);
	exit(status);
}

static int read_counters(struct inv_counters *c)
{
	if (inv_read(c, true)) {
		fprintf(stderr, "mlockdev_invariants: cannot read the counters "
			"(root needed for vm.stat_refresh): %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

static void print_counters(FILE *f, const char *prefix,
			   const struct inv_counters *c)
{
	fprintf(f, "%sMlocked_kB %" PRId64 "\n", prefix, c->mlocked_kb);
	fprintf(f, "%sUnevictable_kB %" PRId64 "\n", prefix, c->unevictable_kb);
	fprintf(f, "%smlocked_pfns %" PRId64 "\n", prefix, c->mlocked_pfns);
	fprintf(f, "%sunevictable_pgs_stranded %" PRId64 "\n", prefix,
		c->stranded);
	fprintf(f, "%sunevictable_pgs_cleared %" PRId64 "\n", prefix,
		c->cleared);
}

static int record(const char *path)
{
	struct inv_counters c;
	FILE *f;

	if (read_counters(&c))
		return 1;
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "mlockdev_invariants: %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	fprintf(f, "version %d\n", BASELINE_VERSION);
	print_counters(f, "", &c);
	if (fclose(f)) {
		fprintf(stderr, "mlockdev_invariants: %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	print_counters(stdout, "# baseline ", &c);
	return 0;
}

static int load(const char *path, struct inv_counters *c)
{
	char key[64];
	long long v;
	int version = 0, found = 0;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", key, &v) == 2) {
		if (!strcmp(key, "version"))
			version = (int)v;
		else if (!strcmp(key, "Mlocked_kB"))
			c->mlocked_kb = v, found++;
		else if (!strcmp(key, "Unevictable_kB"))
			c->unevictable_kb = v, found++;
		else if (!strcmp(key, "mlocked_pfns"))
			c->mlocked_pfns = v, found++;
		else if (!strcmp(key, "unevictable_pgs_stranded"))
			c->stranded = v, found++;
		else if (!strcmp(key, "unevictable_pgs_cleared"))
			c->cleared = v, found++;
	}
	fclose(f);
	if (version != BASELINE_VERSION || found != 5) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int check(const char *path)
{
	struct inv_counters base, now;
	char why[512];
	int bad;

	printf("TAP version 13\n1..1\n");
	if (load(path, &base)) {
		printf("not ok 1 mlockdev_invariants # no baseline in %s: %s "
		       "(run \"mlockdev_invariants record %s\" first)\n",
		       path, strerror(errno), path);
		return 1;
	}
	if (read_counters(&now)) {
		printf("not ok 1 mlockdev_invariants # cannot read the "
		       "counters\n");
		return 1;
	}
	print_counters(stdout, "# baseline ", &base);
	print_counters(stdout, "# now ", &now);
	printf("# reported, not checked: unevictable_pgs_stranded %+lld, "
	       "unevictable_pgs_cleared %+lld over the run\n",
	       (long long)(now.stranded - base.stranded),
	       (long long)(now.cleared - base.cleared));
	bad = inv_compare(&base, &now, INV_GONE, why, sizeof(why));
	if (bad) {
		printf("# nothing may stay locked once the tests are gone: "
		       "%s\n", why);
		printf("not ok 1 mlockdev_invariants\n");
		return 1;
	}
	printf("ok 1 mlockdev_invariants\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct inv_counters c;

	if (argc == 2 && !strcmp(argv[1], "show")) {
		if (read_counters(&c))
			return 1;
		print_counters(stdout, "", &c);
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		usage(argv[0], 0);
	if (argc != 3)
		usage(argv[0], 2);
	if (!strcmp(argv[1], "record"))
		return record(argv[2]);
	if (!strcmp(argv[1], "check"))
		return check(argv[2]);
	usage(argv[0], 2);
}
