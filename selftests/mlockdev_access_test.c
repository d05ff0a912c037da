// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev_access_test - who may use /dev/mlockdev (Documentation/design.rst,
 * "Security model").
 *
 *  - The node is root's only (0600) unless the module is loaded with
 *    mode=, so a user the administrator did not let in cannot run the
 *    module's code at all.
 *  - A descriptor opened before dropping privileges keeps working, with
 *    the credentials of the caller at the time of each call: the errno is
 *    the one mlockall(2) gives that caller (LTP's mlockall02/03 drop to
 *    nobody after the preload shim has opened the device).
 *  - A caller under a seccomp filter is refused with EACCES, whatever the
 *    filter says about mlockall(2), because the module cannot ask it;
 *    nothing is locked.  allow_seccomp=1 lifts the refusal.
 *
 * Needs root (it drops privileges in children) and the module loaded with
 * its default parameters.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/mlockdev.h>

#include "kselftest_harness.h"

#define DEV_PATH	"/dev/" MLOCKDEV_DEVICE_NAME
#define PARAM_DIR	"/sys/module/mlockdev/parameters/"
#define STATS_DIR	"/sys/class/misc/mlockdev/stats/"
#define NOBODY		65534

#define NEED_DEVICE(_metadata)						\
	do {								\
		if (access(DEV_PATH, F_OK))				\
			SKIP(return, "mlockdev module not loaded");	\
		if (geteuid())						\
			SKIP(return, "needs root");			\
	} while (0)

static long vmlck_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static long read_number(const char *path)
{
	char buf[64] = "";
	long v = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) > 0) {
		if (buf[0] == 'Y')
			v = 1;
		else if (buf[0] == 'N')
			v = 0;
		else
			v = strtol(buf, NULL, 0);
	}
	close(fd);
	return v;
}

static int write_string(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
	close(fd);
	return ret;
}

/* LOCK_ALL through @fd: 0, or the errno. */
static int device_lockall(int fd, int flags)
{
	struct mlockdev_lockall la = { .flags = (unsigned int)flags };

	return ioctl(fd, MLOCKDEV_IOC_LOCK_ALL, &la) ? errno : 0;
}

static int device_unlockall(int fd)
{
	struct mlockdev_unlockall ua = { 0 };

	return ioctl(fd, MLOCKDEV_IOC_UNLOCK_ALL, &ua) ? errno : 0;
}

/*
 * Run @fn in a child and return what it exits with (its errno result), or
 * 255 if it died.
 */
static int in_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 254;
	if (!pid)
		_exit(fn(arg) & 0xff);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 255;
	return WEXITSTATUS(status);
}

static int drop_to_nobody(void)
{
	return setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	       setresuid(NOBODY, NOBODY, NOBODY);
}

/* ------------------------------------------------------------------ */

TEST(node_is_root_only)
{
	struct stat st;

	NEED_DEVICE(_metadata);
	ASSERT_EQ(0, stat(DEV_PATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600U, (unsigned int)(st.st_mode & 07777))
		TH_LOG("%s has mode 0%o; without mode= it must be 0600",
		       DEV_PATH, (unsigned int)(st.st_mode & 07777));
	EXPECT_EQ(0U, (unsigned int)st.st_uid);
	EXPECT_EQ(0600L, read_number(PARAM_DIR "mode"));
}

static int open_as_nobody(void *arg)
{
	int fd;

	(void)arg;
	if (drop_to_nobody())
		return 253;
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

TEST(nobody_cannot_open)
{
	NEED_DEVICE(_metadata);
	EXPECT_EQ(EACCES, in_child(open_as_nobody, NULL));
}

/*
 * A descriptor kept across a privilege drop: the caller's credentials and
 * limit at the time of the call decide, exactly as for mlockall(2).
 */
struct dropped_call {
	int fd;			/* -1: use the system call */
	long limit;		/* RLIMIT_MEMLOCK to set before dropping */
};

static int lock_after_drop(void *arg)
{
	struct dropped_call *c = arg;
	struct rlimit rl = { c->limit, c->limit };
	int ret;

	if (setrlimit(RLIMIT_MEMLOCK, &rl) || drop_to_nobody())
		return 253;
	if (c->fd < 0)
		ret = mlockall(MCL_CURRENT) ? errno : 0;
	else
		ret = device_lockall(c->fd, MCL_CURRENT);
	/* Whatever happened, nothing may stay locked in a failed call. */
	if (ret && vmlck_kb() != 0)
		return 252;
	return ret;
}

TEST(descriptor_survives_privilege_drop)
{
	/* 0: EPERM (limit 0, no CAP_IPC_LOCK); 64 KiB: ENOMEM (VmSize). */
	static const long limits[] = { 0, 65536 };
	unsigned int i;
	int fd;

	NEED_DEVICE(_metadata);
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		struct dropped_call sys = { -1, limits[i] };
		struct dropped_call dev = { fd, limits[i] };
		int want = in_child(lock_after_drop, &sys);
		int got = in_child(lock_after_drop, &dev);

		EXPECT_EQ(want, got)
			TH_LOG("RLIMIT_MEMLOCK %ld as nobody: mlockall %s, "
			       "device %s", limits[i], strerror(want),
			       strerror(got));
		EXPECT_TRUE(want == EPERM || want == ENOMEM)
			TH_LOG("the system call itself gave %s", strerror(want));
	}
	close(fd);
}

/* A filter that denies mlockall(2) and munlockall(2) with EPERM. */
static int deny_mlockall(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mlockall, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_munlockall, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(code) / sizeof(code[0]),
		.filter = code,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

struct filtered_call {
	int fd;
	int lock_errno;		/* out, of LOCK_ALL */
	int unlock_errno;	/* out, of UNLOCK_ALL */
	long vmlck_kb;		/* out, after LOCK_ALL */
};

/* Reports through a shared page: the child's exit status is one byte. */
static int lock_under_filter(void *arg)
{
	struct filtered_call *c = arg;

	if (deny_mlockall())
		return 253;
	/* The filter itself works: the system call is denied. */
	if (!mlockall(MCL_CURRENT) || errno != EPERM)
		return 252;
	c->lock_errno = device_lockall(c->fd, MCL_CURRENT);
	c->vmlck_kb = vmlck_kb();
	c->unlock_errno = device_unlockall(c->fd);
	return 0;
}

TEST(seccomp_filtered_caller_refused)
{
	struct filtered_call *c;
	long eacces_before;
	int fd;

	NEED_DEVICE(_metadata);
	/* Not lifted (or, on an old module, no such parameter). */
	ASSERT_NE(1L, read_number(PARAM_DIR "allow_seccomp"));
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, c);
	c->fd = fd;
	eacces_before = read_number(STATS_DIR "failed_eacces");

	ASSERT_EQ(0, in_child(lock_under_filter, c));
	EXPECT_EQ(EACCES, c->lock_errno)
		TH_LOG("LOCK_ALL under a filter denying mlockall: %s",
		       c->lock_errno ? strerror(c->lock_errno) : "success");
	EXPECT_EQ(0L, c->vmlck_kb);
	EXPECT_EQ(EACCES, c->unlock_errno);
	EXPECT_EQ(eacces_before + 2, read_number(STATS_DIR "failed_eacces"));

	/* The administrator may let filtered callers through. */
	ASSERT_EQ(0, write_string(PARAM_DIR "allow_seccomp", "1"));
	EXPECT_EQ(0, in_child(lock_under_filter, c));
	write_string(PARAM_DIR "allow_seccomp", "0");
	EXPECT_EQ(0, c->lock_errno);
	EXPECT_LT(0L, c->vmlck_kb);
	EXPECT_EQ(0, c->unlock_errno);

	munmap(c, sizeof(*c));
	close(fd);
}

TEST_HARNESS_MAIN
