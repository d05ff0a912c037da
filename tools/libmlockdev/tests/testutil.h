/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tiny helpers shared by the host tests: checks and fake-device log reading. */
#ifndef MLOCKDEV_TESTUTIL_H
#define MLOCKDEV_TESTUTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		test_failures++;					\
		printf("# FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		fflush(stdout);						\
	}								\
} while (0)

/* Lines of $FAKEDEV_LOG that contain every one of the given substrings. */
static inline int log_count(const char *a, const char *b)
{
	const char *path = getenv("FAKEDEV_LOG");
	char line[1024];
	FILE *f;
	int n = 0;

	if (!path || !(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, a) && (!b || strstr(line, b)))
			n++;
	fclose(f);
	return n;
}

/* The last log line containing a (and b, if given), or "" if none. */
static inline const char *log_last(const char *a, const char *b)
{
	static char last[1024];
	const char *path = getenv("FAKEDEV_LOG");
	char line[1024];
	FILE *f;

	last[0] = '\0';
	if (!path || !(f = fopen(path, "r")))
		return last;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, a) && (!b || strstr(line, b)))
			memcpy(last, line, sizeof(last));
	fclose(f);
	last[strcspn(last, "\n")] = '\0';
	return last;
}

/* Value of "key=" in a log line, as a number (0 if absent). */
static inline unsigned long long log_field(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	return p ? strtoull(p + strlen(pat), NULL, 0) : 0;
}

/* Value of "key=" in a log line, as a string up to the next space. */
static inline const char *log_str(const char *line, const char *key)
{
	static char val[128];
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	val[0] = '\0';
	if (p) {
		p += strlen(pat);
		snprintf(val, sizeof(val), "%.*s", (int)strcspn(p, " "), p);
	}
	return val;
}

#endif
