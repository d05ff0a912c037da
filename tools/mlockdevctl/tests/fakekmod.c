// SPDX-License-Identifier: GPL-2.0
/*
 * libfakekmod.so: LD_PRELOAD stand-in for the kernel's module syscalls,
 * so that "mlockdevctl load/unload" can be tested on a host without a
 * kernel to load into (the approach of kmod's own testsuite).
 *
 * libkmod 30 loads with syscall(__NR_finit_module, ...) (init_module()
 * for compressed files) and unloads with delete_module().  Here all three
 * always fail or succeed as told, and never reach the kernel:
 *   FAKEKMOD_ERRNO=NAME|NUMBER   fail with this errno; unset: succeed
 *   FAKEKMOD_LOG=FILE            append "finit_module params='...'" etc.
 * Every other syscall() goes to libc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fake_errno(void)
{
	static const struct { const char *n; int v; } names[] = {
		{ "EEXIST", EEXIST }, { "ENOEXEC", ENOEXEC }, { "EINVAL", EINVAL },
		{ "ENOENT", ENOENT }, { "EPERM", EPERM },
		{ "EKEYREJECTED", EKEYREJECTED }, { "EBUSY", EBUSY },
		{ "EWOULDBLOCK", EWOULDBLOCK },
	};
	const char *v = getenv("FAKEKMOD_ERRNO");
	size_t i;

	if (!v || !*v)
		return 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(v, names[i].n))
			return names[i].v;
	return atoi(v);
}

static long result(const char *what, const char *params)
{
	const char *log = getenv("FAKEKMOD_LOG");
	int err = fake_errno();

	if (log && *log) {
		FILE *f = fopen(log, "a");

		if (f) {
			fprintf(f, "%s params='%s' errno=%d\n", what,
				params ? params : "", err);
			fclose(f);
		}
	}
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;
	int i;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_finit_module)
		return result("finit_module", (const char *)a[1]);
	if (nr == SYS_init_module)
		return result("init_module", (const char *)a[2]);
	if (nr == SYS_delete_module)
		return result("delete_module", (const char *)a[0]);
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int init_module(void *image, unsigned long len, const char *params)
{
	(void)image; (void)len;
	return (int)result("init_module", params);
}

int delete_module(const char *name, unsigned int flags)
{
	(void)flags;
	return (int)result("delete_module", name);
}
