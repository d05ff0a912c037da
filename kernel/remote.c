// SPDX-License-Identifier: GPL-2.0
/*
 * Locking another process (MLOCKDEV_LOCK_PIDFD): the extensible calls act
 * on the address space of the process a pidfd names.
 *
 * Who may: whoever may ptrace-attach to the target, the check
 * process_vm_writev(2) makes (mm_access() with PTRACE_MODE_ATTACH).  Neither
 * mm_access() nor ptrace_may_access() nor the LSM hook behind them is
 * exported, so the module asks the one exported question that runs all of
 * them: it opens the target's /proc/PID/mem, as the caller, and drops the
 * file at once.  The open succeeds exactly when mm_access(task,
 * PTRACE_MODE_ATTACH_FSCREDS) does -- credentials, CAP_SYS_PTRACE in the
 * target's user namespace, dumpability, and Yama, SELinux or AppArmor.
 * process_vm_writev() uses the caller's real credentials instead of its
 * filesystem ones, which differ only for a caller that changed its fsuid
 * or fsgid; the open needs /proc mounted in the caller's root, as
 * tools that take a PID do.
 *
 * Limits: the target's RLIMIT_MEMLOCK applies, and the caller's
 * CAP_IPC_LOCK in the target's user namespace lifts it, as for
 * mlockall(2) in the target.  The target's address space is pinned
 * (mmget) for the call only; nothing about the target is kept.  A target
 * that has exited, or is exiting, gives ESRCH; a kernel thread EINVAL.  If
 * the target execs during the call, the call finishes on the address space
 * it started with, which the new program no longer uses.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/user_namespace.h>

#include "compat.h"
#include "mlockdev.h"

/*
 * Could the caller ptrace-attach to @task?  Asked by opening the task's
 * /proc/PID/mem as the caller (see above).
 *
 * Return: 0, -EPERM, or -ESRCH if the task cannot be found in the caller's
 * /proc.
 */
static int mlockdev_may_attach(struct pid *pid)
{
	char path[32];
	struct file *mem;
	pid_t nr;

	nr = pid_vnr(pid);
	if (!nr)
		return -ESRCH;	/* not in the caller's PID namespace */
	snprintf(path, sizeof(path), "/proc/%d/mem", nr);
	mem = filp_open(path, O_RDONLY | O_CLOEXEC, 0);
	if (IS_ERR(mem)) {
		/* process_vm_writev() says EPERM for mm_access()'s EACCES. */
		if (PTR_ERR(mem) == -EACCES || PTR_ERR(mem) == -EPERM)
			return -EPERM;
		return -ESRCH;
	}
	filp_close(mem, NULL);
	/*
	 * If the target was reaped meanwhile, the number may belong to
	 * someone else now: only trust the answer while @pid still has it.
	 */
	return pid_has_task(pid, PIDTYPE_PID) ? 0 : -ESRCH;
}

/**
 * mlockdev_remote_get - make @call act on the process @pidfd names
 * @call: the call; on success @call->task and @call->mm are set and held
 * @pidfd: the caller's pidfd
 *
 * Return: 0, -EBADF (not a pidfd), -ESRCH (gone or exiting, or not in the
 * caller's PID namespace), -EINVAL (a kernel thread), -EPERM (no ptrace
 * rights over it).
 */
int mlockdev_remote_get(struct mlockdev_call *call, int pidfd)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct file *file;
	struct pid *pid;
	int ret;

	file = fget(pidfd);
	if (!file)
		return -EBADF;
	pid = mlockdev_pidfd_pid(file);
	if (IS_ERR(pid)) {
		fput(file);
		return PTR_ERR(pid);
	}
	get_pid(pid);
	fput(file);

	task = get_pid_task(pid, PIDTYPE_PID);
	ret = -ESRCH;
	if (!task)
		goto out_pid;
	ret = -EINVAL;
	if (task->flags & PF_KTHREAD)
		goto out_task;
	ret = mlockdev_may_attach(pid);
	if (ret)
		goto out_task;
	mm = get_task_mm(task);
	ret = -ESRCH;
	if (!mm)
		goto out_task;

	call->task = task;
	call->mm = mm;
	put_pid(pid);
	return 0;

out_task:
	put_task_struct(task);
out_pid:
	put_pid(pid);
	return ret;
}

/**
 * mlockdev_remote_put - let go of the target of a pidfd call
 * @call: the call
 */
void mlockdev_remote_put(struct mlockdev_call *call)
{
	if (!call->task)
		return;
	mmput(call->mm);
	put_task_struct(call->task);
	call->mm = NULL;
	call->task = NULL;
}

/**
 * mlockdev_call_lock_limit - RLIMIT_MEMLOCK of the process being locked
 * @call: the call
 *
 * Return: the soft limit in bytes, the caller's or the target's.
 */
unsigned long mlockdev_call_lock_limit(struct mlockdev_call *call)
{
	if (!call->task)
		return rlimit(RLIMIT_MEMLOCK);
	return task_rlimit(call->task, RLIMIT_MEMLOCK);
}

/**
 * mlockdev_call_capable - may the caller lock past the limit?
 * @call: the call
 *
 * Return: capable(CAP_IPC_LOCK) for the caller's own memory; for another
 * process's, CAP_IPC_LOCK in that process's user namespace.
 */
bool mlockdev_call_capable(struct mlockdev_call *call)
{
	const struct cred *cred;
	bool ok;

	if (!call->task)
		return capable(CAP_IPC_LOCK);
	cred = get_task_cred(call->task);
	ok = ns_capable(cred->user_ns, CAP_IPC_LOCK);
	put_cred(cred);
	return ok;
}

/**
 * mlockdev_call_can_mlock - can_do_mlock() for the process being locked
 * @call: the call
 *
 * Return: true if its RLIMIT_MEMLOCK is not 0 or the caller is capable
 * (mlockdev_call_capable()).
 */
bool mlockdev_call_can_mlock(struct mlockdev_call *call)
{
	if (!call->task)
		return can_do_mlock();
	return mlockdev_call_lock_limit(call) != 0 ||
	       mlockdev_call_capable(call);
}
