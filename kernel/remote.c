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
 * filesystem ones, so the open is made with the real uid and gid as fsuid
 * and fsgid.  The target's mm is pinned first and the open must have
 * approved that very mm (mm_access() holds the exec lock across its check
 * and the mm it returns), on a real procfs.  The open needs /proc mounted
 * in the caller's root, as tools that take a PID do.
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
#include <linux/magic.h>
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
 * Could the caller ptrace-attach to the task of @pid, whose address space
 * is @mm (pinned already)?  Asked by opening the task's /proc/PID/mem as
 * the caller, with its real credentials as the filesystem ones (see
 * above).  The answer counts only if the file is the mem file of a real
 * procfs and mm_access() approved @mm itself: __mem_open() keeps the mm
 * it approved in private_data.  So a /proc that is not procfs (tmpfs,
 * a bind mount of another file) is refused, and so is an exec between
 * get_task_mm() and the open: the new program's rights were checked, not
 * @mm's.
 *
 * Return: 0, -EPERM, -ESRCH if the task cannot be found in the caller's
 * /proc, or another error of the open (-ENOMEM, -EINTR, ...).
 */
static int mlockdev_may_attach(struct pid *pid, struct mm_struct *mm)
{
	const struct cred *old;
	struct cred *cred;
	char path[32];
	struct file *mem;
	pid_t nr;
	int ret;

	nr = pid_vnr(pid);
	if (!nr)
		return -ESRCH;	/* not in the caller's PID namespace */
	snprintf(path, sizeof(path), "/proc/%d/mem", nr);

	cred = prepare_creds();
	if (!cred)
		return -ENOMEM;
	cred->fsuid = cred->uid;
	cred->fsgid = cred->gid;
	old = mlockdev_override_creds(cred);
	mem = filp_open(path, O_RDONLY | O_CLOEXEC, 0);
	mlockdev_revert_creds(old);

	if (IS_ERR(mem)) {
		ret = PTR_ERR(mem);
		/* process_vm_writev() says EPERM for mm_access()'s EACCES. */
		if (ret == -EACCES || ret == -EPERM)
			return -EPERM;
		if (ret == -ENOENT || ret == -ESRCH)
			return -ESRCH;
		return ret;
	}
	if (mem->f_path.dentry->d_sb->s_magic != PROC_SUPER_MAGIC ||
	    strcmp(mem->f_path.dentry->d_name.name, "mem"))
		ret = -EPERM;
	else if (!mem->private_data)
		ret = -ESRCH;	/* 6.1: the task has no mm any more */
	else if (mem->private_data != mm)
		/* The number may be someone else's now, if it was reaped. */
		ret = pid_has_task(pid, PIDTYPE_PID) ? -EPERM : -ESRCH;
	else
		ret = 0;
	filp_close(mem, NULL);
	return ret;
}

/**
 * mlockdev_remote_get - make @call act on the process @pidfd names
 * @call: the call; on success @call->task and @call->mm are set and held
 * @pidfd: the caller's pidfd
 *
 * Return: 0, -EBADF (not a pidfd), -ESRCH (gone or exiting, or not in the
 * caller's PID namespace), -EINVAL (a kernel thread), -EPERM (no ptrace
 * rights over it), or what opening its /proc/PID/mem failed with
 * otherwise (-ENOMEM, -EINTR from a fatal signal, -ENFILE), as
 * process_vm_writev() passes mm_access()'s errors on.
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
	mm = get_task_mm(task);
	ret = -ESRCH;
	if (!mm)
		goto out_task;
	ret = mlockdev_may_attach(pid, mm);
	if (ret)
		goto out_mm;

	call->task = task;
	call->mm = mm;
	put_pid(pid);
	return 0;

out_mm:
	mmput(mm);
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
