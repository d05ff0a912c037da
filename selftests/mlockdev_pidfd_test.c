// SPDX-License-Identifier: GPL-2.0
/*
 * mlockdev_pidfd_test - locking another process by pidfd (issue 12):
 * LOCK_ALL_EX and UNLOCK_ALL_EX with MLOCKDEV_LOCK_PIDFD, who may, and
 * what happens when the target goes away under the call.
 *
 * Who may lock a target is who may ptrace-attach to it (the check of
 * process_vm_writev(2)); the target's RLIMIT_MEMLOCK applies, lifted by
 * the caller's CAP_IPC_LOCK in the target's user namespace.  The cases:
 *
 *   root_locks_and_unlocks   the baseline: lock, then unlock, by pidfd
 *   unlock_clears_future     a target that locked itself with MCL_FUTURE,
 *                            unlocked from outside: a new mapping of the
 *                            target is not locked any more
 *   other_user               nobody locking a root process: EPERM
 *   no_ptrace_capability     root without CAP_SYS_PTRACE locking nobody's
 *                            process: EPERM; root's: EPERM while the
 *                            target has CAP_SYS_PTRACE, 0 once it dropped
 *                            it (permitted caps must be a subset)
 *   nondumpable_target       a same-user target that is not dumpable:
 *                            EPERM for nobody, 0 for root
 *   setuid_target            a process running a setuid-root program,
 *                            started by nobody: EPERM for nobody
 *   yama_scope_1, _2         /proc/sys/kernel/yama/ptrace_scope 1: only a
 *                            descendant; 2: only CAP_SYS_PTRACE (set, and
 *                            put back)
 *   target_rlimit            the target's RLIMIT_MEMLOCK, not the caller's:
 *                            0 -> EPERM, under VmSize -> ENOMEM, unless
 *                            the caller has CAP_IPC_LOCK
 *   target_exits_during_call SIGKILL to the target while the call
 *                            populates it: 0 or ESRCH, nothing left locked
 *   target_gone              an exited (zombie) and a reaped target: ESRCH
 *   target_execs_during_call exec while the call populates: 0 or ESRCH,
 *                            the new program unlocked, nothing left locked
 *   other_pid_namespace      a target in a child PID namespace, locked from
 *                            the parent's; a caller in the child namespace
 *                            and a target outside it: ESRCH
 *   pidns_checks_the_right_process
 *                            a caller in a child PID namespace whose /proc
 *                            is its parent's (unshare --pid without
 *                            --mount-proc): the permission must be checked
 *                            against the target, not against the process
 *                            that has the target's number in that /proc
 *   kernel_thread            a pidfd of kthreadd: EINVAL
 *   not_a_pidfd              /dev/null, a memfd, the device itself, a
 *                            closed number, -1: EBADF
 *   pkey_remote_divergence   pinned, documented: a remote populate faults
 *                            in memory the target's protection keys deny
 *                            to the target itself (FOLL_REMOTE skips the
 *                            pkey check), where the target's own lock
 *                            leaves it out
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/mlockdev.h>

#include "kselftest_harness.h"
#include "invariants.h"
#include "residency_common.h"

#define DEV_PATH	"/dev/" MLOCKDEV_DEVICE_NAME
#define NOBODY		65534
#define YAMA		"/proc/sys/kernel/yama/ptrace_scope"
#define TARGET_PAGES	1024	/* 4 MiB a target maps, half of it touched */

static long page;

/* ------------------------------------------------------------------ */
/* Calls                                                               */

static int lock_pidfd(int dev, int pidfd, int flags)
{
	struct mlockdev_lockall_ex la;

	memset(&la, 0, sizeof(la));
	la.size = sizeof(la);
	la.flags = (unsigned int)flags;
	la.mode_flags = MLOCKDEV_LOCK_PIDFD;
	la.pidfd = pidfd;
	return ioctl(dev, MLOCKDEV_IOC_LOCK_ALL_EX, &la) ? errno : 0;
}

static int unlock_pidfd(int dev, int pidfd)
{
	struct mlockdev_unlockall_ex ua;

	memset(&ua, 0, sizeof(ua));
	ua.size = sizeof(ua);
	ua.mode_flags = MLOCKDEV_LOCK_PIDFD;
	ua.pidfd = pidfd;
	return ioctl(dev, MLOCKDEV_IOC_UNLOCK_ALL_EX, &ua) ? errno : 0;
}

static int pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static int drop_caps(unsigned int cap_a, unsigned int cap_b)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	unsigned int caps[2] = { cap_a, cap_b };
	int i;

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	for (i = 0; i < 2; i++) {
		if (!caps[i])
			continue;
		data[CAP_TO_INDEX(caps[i])].effective &= ~CAP_TO_MASK(caps[i]);
		data[CAP_TO_INDEX(caps[i])].permitted &= ~CAP_TO_MASK(caps[i]);
	}
	return syscall(SYS_capset, &hdr, data);
}

/* Become nobody for good: no groups, no capabilities left. */
static int become_nobody(void)
{
	return setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	       setresuid(NOBODY, NOBODY, NOBODY) ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Targets                                                             */

/*
 * A target maps TARGET_PAGES (or @pages) of anonymous memory, touches
 * half, says "ready" with the address, and then obeys one-byte commands
 * on its command pipe until it closes:
 *   'x'  exec this program as an idle target (a fresh address space)
 *   'l'  lock itself: LOCK_ALL(MCL_CURRENT) on the device it opened
 *   'p'  map, touch and keep a 4-page probe; answer VmLck after it
 *   'v'  answer VmLck
 */
struct target_opts {
	uid_t uid;		/* 0: stays root */
	bool nondumpable;
	bool no_ptrace_cap;	/* CAP_SYS_PTRACE dropped (a root target) */
	long limit;		/* RLIMIT_MEMLOCK in bytes, -1 to leave it */
	bool pkey_fresh;	/* a second, untouched region behind a pkey */
	bool self_lock;		/* mlockall(CUR|FUT) before saying ready */
	size_t pages;		/* 0: TARGET_PAGES */
	const char *exec_path;	/* exec this (setuid) program first */
};

struct target {
	pid_t pid;
	int pidfd;
	int cmd;		/* write end of the command pipe */
	int answer;		/* read end of the answer pipe */
	uint64_t region;	/* where the target's memory is */
	uint64_t pkey_region;
	pid_t global;		/* its pid in the first PID namespace */
};

static long self_vmlck(void)
{
	return rc_status_kb(0, "VmLck");
}

static int answer(int fd, int64_t v)
{
	return write(fd, &v, sizeof(v)) == sizeof(v) ? 0 : -1;
}

/* The target's side, once set up; never returns. */
static void __attribute__((noreturn)) target_loop(int cmd, int ans, int dev)
{
	struct mlockdev_lockall la;
	char c, *probe;

	for (;;) {
		if (read(cmd, &c, 1) != 1)
			_exit(0);
		switch (c) {
		case 'x': {
			char a[16], b[16];
			char *argv[] = { "mlockdev_pidfd_test", "--target",
					 a, b, NULL };

			snprintf(a, sizeof(a), "%d", cmd);
			snprintf(b, sizeof(b), "%d", ans);
			execv("/proc/self/exe", argv);
			_exit(3);
		}
		case 'l':
			memset(&la, 0, sizeof(la));
			la.flags = MCL_CURRENT;
			answer(ans, ioctl(dev, MLOCKDEV_IOC_LOCK_ALL, &la) ?
				    errno : 0);
			break;
		case 'p':
			probe = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (probe != MAP_FAILED)
				memset(probe, 1, 4 * page);
			answer(ans, self_vmlck());
			break;
		default:
			answer(ans, self_vmlck());
			break;
		}
	}
}

/* The target's set-up: map, touch, apply @o, say ready. */
static void __attribute__((noreturn))
target_main(const struct target_opts *o, int cmd, int ans)
{
	size_t pages = o->pages ? o->pages : TARGET_PAGES;
	int64_t msg[3] = { 0, 0, 0 };
	char self_link[32];
	ssize_t n;
	struct rlimit rl;
	int dev = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	char *p;
	size_t i;

	p = mmap(NULL, pages * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(2);
	for (i = 0; i < pages / 2; i++)
		p[i * page] = 1;
	msg[0] = (uintptr_t)p;
	if (o->pkey_fresh) {
		char *q = mmap(NULL, 64 * page, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int pkey = pkey_alloc(0, PKEY_DISABLE_ACCESS);

		if (q == MAP_FAILED || pkey < 0 ||
		    pkey_mprotect(q, 64 * page, PROT_READ | PROT_WRITE, pkey))
			_exit(4);
		msg[1] = (uintptr_t)q;
	}
	if (o->limit >= 0) {
		rl.rlim_cur = rl.rlim_max = o->limit;
		if (setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(2);
	}
	if (o->self_lock && mlockall(MCL_CURRENT | MCL_FUTURE))
		_exit(2);
	if (o->uid && become_nobody())
		_exit(2);
	/*
	 * Changing uid (here, or in a caller that became nobody and then
	 * forked us) made the address space non-dumpable (suid_dumpable 0),
	 * and nobody may ptrace-attach to that: say which we want.
	 */
	if (prctl(PR_SET_DUMPABLE, o->nondumpable ? 0 : 1))
		_exit(2);
	if (o->no_ptrace_cap && drop_caps(CAP_SYS_PTRACE, 0))
		_exit(2);
	if (o->exec_path) {
		char a[16], b[16];
		char *argv[] = { "mlockdev_pidfd_test", "--target", a, b, NULL };

		snprintf(a, sizeof(a), "%d", cmd);
		snprintf(b, sizeof(b), "%d", ans);
		execv(o->exec_path, argv);
		_exit(3);
	}
	/*
	 * Our pid as the /proc we see numbers it: the global one when /proc
	 * is the first namespace's, as in a child PID namespace that did not
	 * mount its own.
	 */
	n = readlink("/proc/self", self_link, sizeof(self_link) - 1);
	self_link[n > 0 ? n : 0] = '\0';
	msg[2] = atoi(self_link);
	if (write(ans, msg, sizeof(msg)) != sizeof(msg))
		_exit(2);
	target_loop(cmd, ans, dev);
}

/* Start a target; its pidfd is opened here, by root. */
static int spawn_target(const struct target_opts *o, struct target *t)
{
	int cmd[2], ans[2];
	int64_t msg[3];

	memset(t, 0, sizeof(*t));
	t->pidfd = t->cmd = t->answer = -1;
	/* Not close-on-exec: an exec'd target keeps talking through them. */
	if (pipe(cmd) || pipe(ans))
		return -1;
	fflush(stdout);
	t->pid = fork();
	if (t->pid < 0)
		return -1;
	if (!t->pid) {
		close(cmd[1]);
		close(ans[0]);
		target_main(o, cmd[0], ans[1]);
	}
	close(cmd[0]);
	close(ans[1]);
	t->cmd = cmd[1];
	t->answer = ans[0];
	if (read(t->answer, msg, sizeof(msg)) != sizeof(msg))
		return -1;
	t->region = msg[0];
	t->pkey_region = msg[1];
	t->global = msg[2];
	t->pidfd = pidfd_open(t->pid);
	return t->pidfd < 0 ? -1 : 0;
}

/* Ask the target something (see target_loop()). */
static int64_t ask(struct target *t, char c)
{
	int64_t v = -1;

	if (write(t->cmd, &c, 1) != 1 ||
	    read(t->answer, &v, sizeof(v)) != sizeof(v))
		return -1;
	return v;
}

static void end_target(struct target *t)
{
	int status;

	if (t->cmd >= 0)
		close(t->cmd);
	if (t->answer >= 0)
		close(t->answer);
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, &status, 0);
	}
	memset(t, 0, sizeof(*t));
	t->pidfd = t->cmd = t->answer = -1;
}

/* ------------------------------------------------------------------ */
/* Callers                                                             */

/* Who makes the call, in a child of its own. */
enum caller {
	CALLER_ROOT,
	CALLER_NOBODY,		/* the device opened as root, then nobody */
	CALLER_NO_PTRACE,	/* root without CAP_SYS_PTRACE */
	CALLER_NO_IPC_LOCK,	/* root without CAP_IPC_LOCK */
	CALLER_NO_IPC_LOCK_LIMIT0, /* ... and RLIMIT_MEMLOCK 0 of its own */
};

/* The caller's errno for a lock (or unlock) of @pidfd, 0 on success. */
static int call_as(enum caller who, int pidfd, bool unlock, int flags)
{
	struct rlimit zero = { 0, 0 };
	int status, dev;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dev = open(DEV_PATH, O_RDWR | O_CLOEXEC);
		if (dev < 0)
			_exit(250);
		if ((who == CALLER_NOBODY && become_nobody()) ||
		    (who == CALLER_NO_PTRACE && drop_caps(CAP_SYS_PTRACE, 0)) ||
		    ((who == CALLER_NO_IPC_LOCK ||
		      who == CALLER_NO_IPC_LOCK_LIMIT0) &&
		     drop_caps(CAP_IPC_LOCK, 0)) ||
		    (who == CALLER_NO_IPC_LOCK_LIMIT0 &&
		     setrlimit(RLIMIT_MEMLOCK, &zero)))
			_exit(251);
		_exit(unlock ? unlock_pidfd(dev, pidfd) :
			       lock_pidfd(dev, pidfd, flags));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static const char *err_name(int err)
{
	return err ? strerror(err) : "0";
}

static long vmlck_of(pid_t pid)
{
	return rc_status_kb(pid, "VmLck");
}

FIXTURE(pidfd) {
	struct target t[2];
	char yama_saved[16];
	char suid_dir[64];
	char suid_copy[96];
	struct inv_counters base;
	bool have_base;
};

FIXTURE_SETUP(pidfd)
{
	struct mlockdev_version ver;
	int fd;

	memset(self, 0, sizeof(*self));
	self->t[0].pidfd = self->t[1].pidfd = -1;
	self->t[0].cmd = self->t[1].cmd = -1;
	self->t[0].answer = self->t[1].answer = -1;
	page = sysconf(_SC_PAGESIZE);
	if (geteuid())
		SKIP(return, "needs root (other users, capabilities, Yama)");
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SKIP(return, "%s: %s (mlockdev module not loaded?)", DEV_PATH,
		     strerror(errno));
	memset(&ver, 0, sizeof(ver));
	ASSERT_EQ(0, ioctl(fd, MLOCKDEV_IOC_VERSION, &ver));
	close(fd);
	if (!(ver.features & MLOCKDEV_FEAT_PIDFD))
		SKIP(return, "the module lacks MLOCKDEV_FEAT_PIDFD");
	fd = pidfd_open(getpid());
	if (fd < 0)
		SKIP(return, "pidfd_open: %s", strerror(errno));
	close(fd);
	ASSERT_EQ(0, inv_read(&self->base, false));
	self->have_base = true;
}

FIXTURE_TEARDOWN(pidfd)
{
	struct inv_counters now;
	char why[256];

	end_target(&self->t[0]);
	end_target(&self->t[1]);
	if (self->yama_saved[0])
		rc_write_file(YAMA, self->yama_saved);
	if (self->suid_copy[0])
		unlink(self->suid_copy);
	if (self->suid_dir[0]) {
		umount2(self->suid_dir, MNT_DETACH);
		rmdir(self->suid_dir);
	}
	/* Whatever a case did, nothing may stay locked once its targets are gone. */
	if (self->have_base) {
		ASSERT_EQ(0, inv_read(&now, false));
		EXPECT_EQ(0, inv_compare(&self->base, &now, INV_MLOCKED, why,
					 sizeof(why)))
			TH_LOG("left behind: %s", why);
	}
}

static const struct target_opts root_target = { .limit = -1 };
static const struct target_opts nobody_target = { .uid = NOBODY, .limit = -1 };
static const struct target_opts root_no_ptrace_target = {
	.no_ptrace_cap = true, .limit = -1,
};

TEST_F(pidfd, root_locks_and_unlocks)
{
	struct target *t = &self->t[0];

	ASSERT_EQ(0, spawn_target(&root_target, t));
	EXPECT_EQ(0L, vmlck_of(t->pid));
	EXPECT_EQ(0, call_as(CALLER_ROOT, t->pidfd, false, MCL_CURRENT));
	EXPECT_LE((long)(TARGET_PAGES * page / 1024), vmlck_of(t->pid));
	EXPECT_EQ(vmlck_of(t->pid), ask(t, 'v'))
		TH_LOG("the target sees another VmLck than its /proc says");
	EXPECT_EQ(0, call_as(CALLER_ROOT, t->pidfd, true, 0));
	EXPECT_EQ(0L, vmlck_of(t->pid));
}

TEST_F(pidfd, unlock_clears_future)
{
	struct target_opts o = root_target;
	struct target *t = &self->t[0];

	o.self_lock = true;
	ASSERT_EQ(0, spawn_target(&o, t));
	ASSERT_LT(0L, vmlck_of(t->pid));
	EXPECT_EQ(0, call_as(CALLER_ROOT, t->pidfd, true, 0));
	EXPECT_EQ(0L, vmlck_of(t->pid));
	EXPECT_EQ(0L, ask(t, 'p'))
		TH_LOG("a new mapping of the target came out locked: MCL_FUTURE "
		       "survived UNLOCK_ALL_EX by pidfd");
}

TEST_F(pidfd, other_user)
{
	struct target *t = &self->t[0];

	ASSERT_EQ(0, spawn_target(&root_target, t));
	EXPECT_EQ(EPERM, call_as(CALLER_NOBODY, t->pidfd, false, MCL_CURRENT));
	EXPECT_EQ(EPERM, call_as(CALLER_NOBODY, t->pidfd, true, 0));
	EXPECT_EQ(0L, vmlck_of(t->pid));
}

TEST_F(pidfd, no_ptrace_capability)
{
	ASSERT_EQ(0, spawn_target(&nobody_target, &self->t[0]));
	ASSERT_EQ(0, spawn_target(&root_target, &self->t[1]));
	EXPECT_EQ(EPERM, call_as(CALLER_NO_PTRACE, self->t[0].pidfd, false,
				 MCL_CURRENT))
		TH_LOG("root without CAP_SYS_PTRACE, nobody's target");
	EXPECT_EQ(0L, vmlck_of(self->t[0].pid));
	/*
	 * The same uid needs no CAP_SYS_PTRACE when the target's permitted
	 * capabilities are a subset of the caller's (cap_ptrace_access_check):
	 * not for a root target with all of them ...
	 */
	EXPECT_EQ(EPERM, call_as(CALLER_NO_PTRACE, self->t[1].pidfd, false,
				 MCL_CURRENT))
		TH_LOG("root without CAP_SYS_PTRACE, root's target with it");
	EXPECT_EQ(0L, vmlck_of(self->t[1].pid));
	/* ... but for one that dropped it too. */
	end_target(&self->t[1]);
	ASSERT_EQ(0, spawn_target(&root_no_ptrace_target, &self->t[1]));
	EXPECT_EQ(0, call_as(CALLER_NO_PTRACE, self->t[1].pidfd, false,
			     MCL_CURRENT))
		TH_LOG("root without CAP_SYS_PTRACE, root's target without it");
}

TEST_F(pidfd, nondumpable_target)
{
	struct target_opts o = nobody_target;

	o.nondumpable = true;
	ASSERT_EQ(0, spawn_target(&o, &self->t[0]));
	EXPECT_EQ(EPERM, call_as(CALLER_NOBODY, self->t[0].pidfd, false,
				 MCL_CURRENT))
		TH_LOG("nobody locking nobody's non-dumpable process");
	EXPECT_EQ(0L, vmlck_of(self->t[0].pid));
	EXPECT_EQ(0, call_as(CALLER_ROOT, self->t[0].pidfd, false, MCL_CURRENT))
		TH_LOG("root (CAP_SYS_PTRACE) locking it");
}

/*
 * A setuid-root copy of this program, run by nobody: the process has
 * euid 0 and is not dumpable.  Nobody may not lock it.
 */
TEST_F(pidfd, setuid_target)
{
	struct target_opts o = nobody_target;
	char buf[4096], status[64];
	ssize_t n;
	int in, out;

	/*
	 * The guest's /tmp is nosuid, as most systems' are: a tmpfs of the
	 * test's own, without nosuid, honours the bit.
	 */
	snprintf(self->suid_dir, sizeof(self->suid_dir),
		 "/tmp/mlockdev-pidfd-suid-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->suid_dir));
	ASSERT_EQ(0, mount("tmpfs", self->suid_dir, "tmpfs", MS_NODEV,
			   "mode=0755"))
		TH_LOG("mount tmpfs on %s: %s", self->suid_dir, strerror(errno));
	snprintf(self->suid_copy, sizeof(self->suid_copy), "%s/target",
		 self->suid_dir);
	in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	out = open(self->suid_copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		   0755);
	ASSERT_LE(0, in);
	ASSERT_LE(0, out);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ASSERT_EQ(n, write(out, buf, n));
	close(in);
	close(out);
	ASSERT_EQ(0, chown(self->suid_copy, 0, 0));
	ASSERT_EQ(0, chmod(self->suid_copy, 04755));

	o.exec_path = self->suid_copy;
	ASSERT_EQ(0, spawn_target(&o, &self->t[0]));
	snprintf(status, sizeof(status), "/proc/%d/status", (int)self->t[0].pid);
	ASSERT_EQ(0, rc_read_file(status, buf, sizeof(buf)));
	if (!strstr(buf, "\nUid:\t65534\t0\t"))
		SKIP(return, "the setuid bit was not honoured (%s mounted "
		     "nosuid?)", self->suid_copy);
	EXPECT_EQ(EPERM, call_as(CALLER_NOBODY, self->t[0].pidfd, false,
				 MCL_CURRENT));
	EXPECT_EQ(0L, vmlck_of(self->t[0].pid));
	EXPECT_EQ(0, call_as(CALLER_ROOT, self->t[0].pidfd, false, MCL_CURRENT));
}

/*
 * Yama: the caller, nobody, locks a same-user target that is (in the
 * caller's child) or is not its descendant.  Result in the exit status.
 */
static int yama_call(bool descendant, const struct target *outsider,
		     enum caller who)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		struct target own;
		int dev = open(DEV_PATH, O_RDWR | O_CLOEXEC), err;

		if (dev < 0 || (who == CALLER_NOBODY && become_nobody()))
			_exit(251);
		if (!descendant)
			_exit(lock_pidfd(dev, outsider->pidfd, MCL_CURRENT));
		if (spawn_target(&root_target, &own))
			_exit(252);
		err = lock_pidfd(dev, own.pidfd, MCL_CURRENT);
		end_target(&own);
		_exit(err);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static bool yama_set(FIXTURE_DATA(pidfd) *self, const char *scope)
{
	if (!self->yama_saved[0]) {
		if (rc_read_file(YAMA, self->yama_saved,
				 sizeof(self->yama_saved)))
			return false;
		self->yama_saved[strcspn(self->yama_saved, "\n")] = '\0';
	}
	return !rc_write_file(YAMA, scope);
}

TEST_F(pidfd, yama_scope_1)
{
	if (access(YAMA, W_OK))
		SKIP(return, "no %s: the kernel has no Yama", YAMA);
	ASSERT_EQ(0, spawn_target(&nobody_target, &self->t[0]));
	ASSERT_TRUE(yama_set(self, "0"));
	EXPECT_EQ(0, yama_call(false, &self->t[0], CALLER_NOBODY))
		TH_LOG("scope 0: nobody locks nobody's process");
	ASSERT_EQ(0, call_as(CALLER_ROOT, self->t[0].pidfd, true, 0));
	ASSERT_TRUE(yama_set(self, "1"));
	EXPECT_EQ(EPERM, yama_call(false, &self->t[0], CALLER_NOBODY))
		TH_LOG("scope 1: a process that is not a descendant");
	EXPECT_EQ(0L, vmlck_of(self->t[0].pid));
	EXPECT_EQ(0, yama_call(true, NULL, CALLER_NOBODY))
		TH_LOG("scope 1: a descendant");
}

TEST_F(pidfd, yama_scope_2)
{
	if (access(YAMA, W_OK))
		SKIP(return, "no %s: the kernel has no Yama", YAMA);
	ASSERT_TRUE(yama_set(self, "2"));
	EXPECT_EQ(EPERM, yama_call(true, NULL, CALLER_NOBODY))
		TH_LOG("scope 2: nobody, even for a descendant");
	EXPECT_EQ(0, yama_call(true, NULL, CALLER_ROOT))
		TH_LOG("scope 2: CAP_SYS_PTRACE");
}

TEST_F(pidfd, target_rlimit)
{
	struct target_opts o = root_target;

	/* RLIMIT_MEMLOCK 0: EPERM without CAP_IPC_LOCK. */
	o.limit = 0;
	ASSERT_EQ(0, spawn_target(&o, &self->t[0]));
	EXPECT_EQ(EPERM, call_as(CALLER_NO_IPC_LOCK, self->t[0].pidfd, false,
				 MCL_CURRENT));
	EXPECT_EQ(0L, vmlck_of(self->t[0].pid));
	EXPECT_EQ(0, call_as(CALLER_ROOT, self->t[0].pidfd, false, MCL_CURRENT))
		TH_LOG("CAP_IPC_LOCK lifts the target's limit");
	end_target(&self->t[0]);

	/* Under the target's VmSize: ENOMEM without CAP_IPC_LOCK. */
	o.limit = 64 * page;
	ASSERT_EQ(0, spawn_target(&o, &self->t[0]));
	EXPECT_EQ(ENOMEM, call_as(CALLER_NO_IPC_LOCK, self->t[0].pidfd, false,
				  MCL_CURRENT));
	EXPECT_EQ(0L, vmlck_of(self->t[0].pid));
	end_target(&self->t[0]);

	/* The caller's own limit 0 does not matter: the target's does. */
	ASSERT_EQ(0, spawn_target(&root_target, &self->t[0]));
	EXPECT_EQ(0, call_as(CALLER_NO_IPC_LOCK_LIMIT0, self->t[0].pidfd, false,
			     MCL_CURRENT));
	EXPECT_LT(0L, vmlck_of(self->t[0].pid));
}

/* A target large enough that the call populates for a while. */
static size_t big_pages(void)
{
	double rate = rc_populate_rate();	/* MiB/s */
	size_t mb = rate > 0 ? (size_t)(rate / 2) : 256;

	if (mb < 64)
		mb = 64;
	if (mb > 1024)
		mb = 1024;
	return (mb << 20) / page;
}

/* Lock @t from a child; return that child, which exits with the errno. */
static pid_t lock_in_background(struct target *t)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (!pid) {
		int dev = open(DEV_PATH, O_RDWR | O_CLOEXEC);

		_exit(dev < 0 ? 250 : lock_pidfd(dev, t->pidfd, MCL_CURRENT));
	}
	return pid;
}

static int reap_err(pid_t pid, double *took)
{
	double t0 = rc_now();
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	*took = rc_now() - t0;
	return WEXITSTATUS(status);
}

TEST_F(pidfd, target_exits_during_call)
{
	static const unsigned int delays_ms[] = { 0, 10, 50, 200 };
	struct target_opts o = root_target;
	struct inv_counters now;
	char why[256];
	double took;
	size_t i;
	int err;
	pid_t caller;

	o.pages = big_pages();
	for (i = 0; i < ARRAY_SIZE(delays_ms); i++) {
		struct target *t = &self->t[0];

		ASSERT_EQ(0, spawn_target(&o, t));
		caller = lock_in_background(t);
		ASSERT_LT(0, caller);
		rc_sleep_ms(delays_ms[i]);
		kill(t->pid, SIGKILL);
		err = reap_err(caller, &took);
		TH_LOG("SIGKILL to the target %u ms into locking %zu MiB: %s, "
		       "the call ended %.3f s after", delays_ms[i],
		       o.pages * page >> 20, err_name(err), took);
		EXPECT_TRUE(err == 0 || err == ESRCH)
			TH_LOG("errno %d", err);
		end_target(t);
	}
	ASSERT_EQ(0, inv_read(&now, false));
	EXPECT_EQ(0, inv_compare(&self->base, &now, INV_MLOCKED, why,
				 sizeof(why)))
		TH_LOG("%s", why);
}

TEST_F(pidfd, target_gone)
{
	struct target *t = &self->t[0];
	int status;

	/* Exited, not reaped: a zombie has no address space. */
	ASSERT_EQ(0, spawn_target(&root_target, t));
	close(t->cmd);
	t->cmd = -1;
	ASSERT_EQ(0, waitid(P_PID, t->pid, NULL, WEXITED | WNOWAIT));
	EXPECT_EQ(ESRCH, call_as(CALLER_ROOT, t->pidfd, false, MCL_CURRENT));
	EXPECT_EQ(ESRCH, call_as(CALLER_ROOT, t->pidfd, true, 0));
	/* Reaped: the pidfd outlives the process. */
	ASSERT_EQ(t->pid, waitpid(t->pid, &status, 0));
	t->pid = 0;
	EXPECT_EQ(ESRCH, call_as(CALLER_ROOT, t->pidfd, false, MCL_CURRENT));
}

TEST_F(pidfd, target_execs_during_call)
{
	static const unsigned int delays_ms[] = { 0, 10, 50, 200 };
	struct target_opts o = root_target;
	struct target *t = &self->t[0];
	struct inv_counters now;
	char why[256];
	int64_t msg[3];
	double took;
	size_t i, exec_first = 0;
	long vmlck, fresh;
	int err;
	pid_t caller;

	o.pages = big_pages();
	for (i = 0; i < ARRAY_SIZE(delays_ms); i++) {
		ASSERT_EQ(0, spawn_target(&o, t));
		caller = lock_in_background(t);
		ASSERT_LT(0, caller);
		rc_sleep_ms(delays_ms[i]);
		ASSERT_EQ(1, write(t->cmd, "x", 1));
		/* The new program says ready once it runs. */
		ASSERT_EQ(sizeof(msg), read(t->answer, msg, sizeof(msg)));
		err = reap_err(caller, &took);
		TH_LOG("exec %u ms into locking %zu MiB: %s", delays_ms[i],
		       o.pages * page >> 20, err_name(err));
		EXPECT_TRUE(err == 0 || err == ESRCH) TH_LOG("errno %d", err);
		vmlck = vmlck_of(t->pid);
		fresh = ask(t, 'p');
		if (vmlck || fresh) {
			/*
			 * The exec came before the call took the address
			 * space (the caller, just forked, may not have
			 * started): the call then locked the new program
			 * (MCL_CURRENT), as ptrace would act on it.  Seen at
			 * 0 ms on stock-6.12 under TCG.
			 */
			TH_LOG("exec %u ms: the exec came first; the new program is locked, VmLck %ld kB",
			       delays_ms[i], vmlck);
			EXPECT_EQ(0, err);
			EXPECT_NE(0L, vmlck);
			EXPECT_EQ(vmlck, fresh)
				TH_LOG("a mapping made after the call is locked");
			exec_first++;
		}
		/* Otherwise the call finished on the old address space. */
		end_target(t);
	}
	/* A call 200 ms in has taken the old address space long before. */
	EXPECT_GT(ARRAY_SIZE(delays_ms), exec_first);
	ASSERT_EQ(0, inv_read(&now, false));
	EXPECT_EQ(0, inv_compare(&self->base, &now, INV_MLOCKED, why,
				 sizeof(why)))
		TH_LOG("%s", why);
}

/*
 * Run @job->fn as init (pid 1) of a new PID namespace, in a child of the
 * test; its exit status comes back.  With @job->own_proc it first mounts
 * a /proc of the namespace (in a mount namespace of its own); otherwise
 * /proc stays the first namespace's, as after "unshare --pid --fork"
 * without --mount-proc.
 */
struct ns_job {
	int (*fn)(struct ns_job *job);
	int report;		/* to the test: a pid */
	int hold;		/* from the test: EOF when done */
	int outside_pidfd;	/* a pidfd of a process outside the namespace */
	pid_t helper_pid;	/* the number the target must get there */
	bool own_proc;
};

static int in_new_pidns(struct ns_job *job)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		pid_t init;

		if (unshare(CLONE_NEWPID | (job->own_proc ? CLONE_NEWNS : 0)))
			_exit(240);
		init = fork();
		if (init < 0)
			_exit(241);
		if (!init) {
			if (job->own_proc &&
			    (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
			     mount("proc", "/proc", "proc", 0, NULL)))
				_exit(242);
			_exit(job->fn(job));
		}
		if (waitpid(init, &status, 0) != init || !WIFEXITED(status))
			_exit(243);
		_exit(WEXITSTATUS(status));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int ns_caller_outside(struct ns_job *job)
{
	int dev = open(DEV_PATH, O_RDWR | O_CLOEXEC);

	return dev < 0 ? 250 : lock_pidfd(dev, job->outside_pidfd, MCL_CURRENT);
}

/* A caller in a child namespace, a target outside it: ESRCH. */
TEST_F(pidfd, target_outside_callers_pid_namespace)
{
	struct ns_job job = { .fn = ns_caller_outside };

	ASSERT_EQ(0, spawn_target(&root_target, &self->t[0]));
	job.outside_pidfd = self->t[0].pidfd;
	EXPECT_EQ(ESRCH, in_new_pidns(&job));
	EXPECT_EQ(0L, vmlck_of(self->t[0].pid));
}

/* init of the namespace: starts a target, tells the test its global pid. */
static int ns_init_with_target(struct ns_job *job)
{
	struct target t;
	int64_t global;
	char c;

	if (spawn_target(&root_target, &t))
		return 244;
	global = t.global;
	if (write(job->report, &global, sizeof(global)) != sizeof(global) ||
	    read(job->hold, &c, 1) < 0)
		return 245;
	end_target(&t);
	return 0;
}

/* The test, in the first namespace, locks a target in a child one. */
TEST_F(pidfd, target_in_child_pid_namespace)
{
	int report[2], hold[2], pidfd, status;
	int64_t global = 0;
	pid_t runner;

	ASSERT_EQ(0, pipe(report));
	ASSERT_EQ(0, pipe(hold));
	fflush(stdout);
	runner = fork();
	ASSERT_LE(0, runner);
	if (!runner) {
		struct ns_job job = { .fn = ns_init_with_target,
				      .report = report[1], .hold = hold[0] };

		close(hold[1]);
		_exit(in_new_pidns(&job));
	}
	close(report[1]);
	close(hold[0]);
	ASSERT_EQ(sizeof(global), read(report[0], &global, sizeof(global)))
		TH_LOG("the namespace did not start its target");
	ASSERT_LT(1, global);
	pidfd = pidfd_open(global);
	ASSERT_LE(0, pidfd);
	EXPECT_EQ(0, call_as(CALLER_ROOT, pidfd, false, MCL_CURRENT))
		TH_LOG("locking pid %lld, in a child PID namespace",
		       (long long)global);
	EXPECT_LE((long)(TARGET_PAGES * page / 1024), vmlck_of(global));
	EXPECT_EQ(0, call_as(CALLER_ROOT, pidfd, true, 0));
	EXPECT_EQ(0L, vmlck_of(global));
	close(pidfd);
	close(hold[1]);
	close(report[0]);
	EXPECT_EQ(runner, waitpid(runner, &status, 0));
	EXPECT_EQ(0, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/*
 * The caller is nobody, in a child PID namespace that kept its parent's
 * /proc.  The target, root's, has there the number that a process of
 * nobody's has in the parent namespace (ns_last_pid arranges it).  The
 * caller has no right to the target: EPERM.  The module asks "may the
 * caller attach?" by opening /proc/<number>/mem; with the parent's /proc
 * that is the other process, which nobody may attach to.  With a /proc of
 * the namespace (own_proc), the same call is the control.
 */
static int ns_caller_vs_root_target(struct ns_job *job)
{
	struct target t;
	char buf[32];
	int dev, err;

	snprintf(buf, sizeof(buf), "%d", (int)job->helper_pid - 1);
	if (rc_write_file("/proc/sys/kernel/ns_last_pid", buf))
		return 246;
	if (spawn_target(&root_target, &t))
		return 244;
	if (t.pid != job->helper_pid) {
		end_target(&t);
		return 247;
	}
	dev = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0 || become_nobody())
		return 250;
	err = lock_pidfd(dev, t.pidfd, MCL_CURRENT);
	kill(t.pid, SIGKILL);
	return err;
}

TEST_F(pidfd, pidns_checks_the_right_process)
{
	struct ns_job job = { .fn = ns_caller_vs_root_target };
	int err;

	/* nobody's process, dumpable: nobody may attach to it. */
	ASSERT_EQ(0, spawn_target(&nobody_target, &self->t[0]));
	job.helper_pid = self->t[0].pid;

	job.own_proc = true;
	err = in_new_pidns(&job);
	if (err == 246 || err == 240 || err == 242)
		SKIP(return, "cannot set ns_last_pid or mount /proc in a child "
		     "PID namespace (%d)", err);
	EXPECT_EQ(EPERM, err)
		TH_LOG("control, /proc of the caller's namespace: %s",
		       err < 200 ? err_name(err) : "set-up failed");

	job.own_proc = false;
	err = in_new_pidns(&job);
	EXPECT_EQ(EPERM, err)
		TH_LOG("nobody in a child PID namespace, its parent's /proc, "
		       "locking root's process: %s (the module checked the "
		       "permission against pid %d of the parent namespace, "
		       "nobody's own process)", err < 200 ? err_name(err) :
		       "set-up failed", (int)job.helper_pid);
}

TEST_F(pidfd, kernel_thread)
{
	int pidfd = pidfd_open(2);
	char buf[64];

	if (pidfd < 0)
		SKIP(return, "pidfd_open(2): %s", strerror(errno));
	if (rc_read_file("/proc/2/comm", buf, sizeof(buf)) ||
	    strncmp(buf, "kthreadd", 8)) {
		close(pidfd);
		SKIP(return, "pid 2 is not kthreadd");
	}
	EXPECT_EQ(EINVAL, call_as(CALLER_ROOT, pidfd, false, MCL_CURRENT));
	EXPECT_EQ(EINVAL, call_as(CALLER_ROOT, pidfd, true, 0));
	close(pidfd);
}

TEST_F(pidfd, not_a_pidfd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int mfd = memfd_create("mlockdev-pidfd", MFD_CLOEXEC);
	int dev = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	/* A number no file has, in the caller either (it opens one fd). */
	int closed = 1000;

	ASSERT_LE(0, null);
	ASSERT_LE(0, mfd);
	ASSERT_LE(0, dev);
	ASSERT_EQ(-1, fcntl(closed, F_GETFD));
	EXPECT_EQ(EBADF, call_as(CALLER_ROOT, null, false, MCL_CURRENT));
	EXPECT_EQ(EBADF, call_as(CALLER_ROOT, mfd, false, MCL_CURRENT));
	EXPECT_EQ(EBADF, call_as(CALLER_ROOT, dev, false, MCL_CURRENT));
	EXPECT_EQ(EBADF, call_as(CALLER_ROOT, closed, false, MCL_CURRENT));
	EXPECT_EQ(EBADF, call_as(CALLER_ROOT, -1, false, MCL_CURRENT));
	EXPECT_EQ(EBADF, call_as(CALLER_ROOT, null, true, 0));
	EXPECT_EQ(0L, self_vmlck());
	close(null);
	close(mfd);
	close(dev);
}

/*
 * Documented divergence (Documentation/modes.rst, "pkey-remote"): the
 * target's threads may not touch a region (a protection key denies all
 * access).  Its own lock cannot fault that region in (GUP checks the
 * caller's PKRU); a lock from outside does (remote GUP, FOLL_REMOTE, does
 * not check protection keys: they belong to the threads of the target,
 * not to the caller).  Pinned: if either side changes, this fails.
 */
TEST_F(pidfd, pkey_remote_divergence)
{
	struct target_opts o = root_target;
	struct rc_residency own, remote;
	int pkey = pkey_alloc(0, 0);

	if (pkey < 0)
		SKIP(return, "pkey_alloc: %s (no protection keys)",
		     strerror(errno));
	pkey_free(pkey);
	o.pkey_fresh = true;
	ASSERT_EQ(0, spawn_target(&o, &self->t[0]));
	ASSERT_EQ(0, spawn_target(&o, &self->t[1]));

	EXPECT_EQ(0, ask(&self->t[0], 'l')) TH_LOG("the target's own LOCK_ALL");
	EXPECT_EQ(0, call_as(CALLER_ROOT, self->t[1].pidfd, false, MCL_CURRENT));
	ASSERT_EQ(0, rc_residency(self->t[0].pid,
				  (void *)(uintptr_t)self->t[0].pkey_region,
				  64 * page, &own));
	ASSERT_EQ(0, rc_residency(self->t[1].pid,
				  (void *)(uintptr_t)self->t[1].pkey_region,
				  64 * page, &remote));
	TH_LOG("a 64-page region the target's pkey denies: its own lock "
	       "faulted in %lu pages, a lock by pidfd %lu (mlocked %lu)",
	       own.present, remote.present, remote.mlocked);
	EXPECT_EQ(0UL, own.present);
	EXPECT_EQ(64UL, remote.present)
		TH_LOG("the pkey-remote divergence is gone: update "
		       "Documentation/modes.rst");
	if (remote.have_kpageflags) {
		EXPECT_EQ(64UL, remote.mlocked);
	}
}

/* The target side of an exec: a fresh, idle target. */
static int idle_target(int argc, char **argv)
{
	struct target_opts o = root_target;
	int cmd, ans;

	if (argc != 4)
		return 2;
	cmd = atoi(argv[2]);
	ans = atoi(argv[3]);
	page = sysconf(_SC_PAGESIZE);
	o.pages = 16;
	target_main(&o, cmd, ans);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "--target"))
		return idle_target(argc, argv);
	return test_harness_run(argc, argv);
}
