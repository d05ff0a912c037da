// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * An ordinary dynamically linked program that calls libc's mlockall() and
 * munlockall() and knows nothing of mlockdev: the stand-in for
 * unmodified programs in the preload shim tests.
 *
 *   test_prog [lock FLAGS | unlock | fds | closefds | setenv NAME=VALUE]...
 *
 * First appends "main pid=P" to $FAKEDEV_LOG (so a test can see what
 * happened before main), then runs each step and prints its result:
 *   mlockall(0x3) = 0 errno=SENTINEL
 *   munlockall() = -1 errno=EPERM
 *   fds=N            descriptors open on $FAKEDEV_PATH
 * "closefds" closes every descriptor above 2, as daemons do.
 * "setenv FAKEDEV_OPEN_ERRNO=EACCES" plays a program that drops its
 * privileges: from then on the fake device refuses to be opened.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SENTINEL 4242

static const char *ename(int e)
{
	return e == SENTINEL ? "SENTINEL" :
	       strerrorname_np(e) ? strerrorname_np(e) : "?";
}

static int fake_fds(void)
{
	const char *fake = getenv("FAKEDEV_PATH");
	char link[PATH_MAX], target[PATH_MAX];
	struct dirent *d;
	DIR *dir;
	ssize_t n;
	int count = 0;

	dir = opendir("/proc/self/fd");
	if (!dir || !fake)
		return -1;
	while ((d = readdir(dir))) {
		snprintf(link, sizeof(link), "/proc/self/fd/%s", d->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (!strcmp(target, fake))
			count++;
	}
	closedir(dir);
	return count;
}

int main(int argc, char **argv)
{
	const char *log = getenv("FAKEDEV_LOG");
	int i, r, e;

	if (log && *log) {
		FILE *f = fopen(log, "a");

		if (f) {
			fprintf(f, "main pid=%d\n", (int)getpid());
			fclose(f);
		}
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "lock") && i + 1 < argc) {
			int flags = (int)strtol(argv[++i], NULL, 0);

			errno = SENTINEL;
			r = mlockall(flags);
			e = errno;
			printf("mlockall(0x%x) = %d errno=%s\n", (unsigned)flags,
			       r, ename(e));
		} else if (!strcmp(argv[i], "unlock")) {
			errno = SENTINEL;
			r = munlockall();
			e = errno;
			printf("munlockall() = %d errno=%s\n", r, ename(e));
		} else if (!strcmp(argv[i], "fds")) {
			printf("fds=%d\n", fake_fds());
		} else if (!strcmp(argv[i], "closefds")) {
			for (r = 3; r < 1024; r++)
				close(r);
		} else if (!strcmp(argv[i], "setenv") && i + 1 < argc &&
			   strchr(argv[i + 1], '=')) {
			if (putenv(argv[++i])) {
				perror("test_prog: putenv");
				return 2;
			}
		} else {
			fprintf(stderr, "test_prog: bad argument '%s'\n", argv[i]);
			return 2;
		}
	}
	return 0;
}
