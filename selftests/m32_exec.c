// SPDX-License-Identifier: GPL-2.0
/*
 * m32_exec - run the 32-bit build of a test, or skip it when the kernel
 * cannot run 32-bit x86 programs.
 *
 * selftests/Makefile builds <test>_32.elf with -m32 -static and installs
 * this program as <test>_32 beside it.  It replaces itself with
 * <its own path>.elf.  A kernel without CONFIG_IA32_EMULATION (or booted
 * with ia32_emulation=0) refuses that exec with ENOEXEC: that is a skip
 * with the reason, not a failure, as for any test whose kernel option is
 * missing (selftests/config lists it).  Going through execve(2) from C
 * matters: a shell that gets ENOEXEC runs the file as a script instead.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"

int main(int argc, char **argv)
{
	char path[PATH_MAX];
	ssize_t n;

	/* Where this program is; without /proc, how it was called. */
	n = readlink("/proc/self/exe", path, sizeof(path) - sizeof(".elf"));
	if (n < 0 && argc > 0 && strlen(argv[0]) < sizeof(path) - sizeof(".elf"))
		n = stpcpy(path, argv[0]) - path;
	if (n < 0 || (size_t)n >= sizeof(path) - sizeof(".elf")) {
		ksft_print_header();
		ksft_exit_fail_msg("cannot find my own path\n");
	}
	memcpy(path + n, ".elf", sizeof(".elf"));

	argv[0] = path;
	execv(path, argv);

	ksft_print_header();
	if (errno == ENOEXEC)
		ksft_exit_skip("this kernel cannot run 32-bit x86 programs "
			       "(needs CONFIG_IA32_EMULATION=y, and no ia32_emulation=0)\n");
	ksft_exit_fail_msg("exec %s: %s\n", path, strerror(errno));
}
