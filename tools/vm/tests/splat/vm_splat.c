// SPDX-License-Identifier: GPL-2.0
/*
 * vm_splat - make the kernel report a problem on purpose.
 *
 * Test helper for tools/vm: each kind provokes one of the reports that
 * tools/vm/logscan.py must recognise, so the runner's detection is tested
 * against what a real kernel prints, not only against hand-written text.
 *
 *   insmod vm_splat.ko kind=warn       WARN_ON_ONCE()            -> WARNING:
 *   insmod vm_splat.ko kind=null       NULL pointer dereference  -> BUG:/Oops
 *   insmod vm_splat.ko kind=bug        BUG()                     -> kernel BUG at
 *   insmod vm_splat.ko kind=softlockup spin, preemption off      -> soft lockup
 *   insmod vm_splat.ko kind=rcustall   RCU reader spins, GP waits -> RCU stall
 *   insmod vm_splat.ko kind=hung       D-state sleep (background) -> hung task
 *   insmod vm_splat.ko kind=leak       lose a kmalloc()          -> kmemleak
 *   insmod vm_splat.ko kind=uaf        use after free            -> KASAN
 *   insmod vm_splat.ko kind=lockdep    AB-BA mutex order         -> lockdep
 *   insmod vm_splat.ko kind=none       nothing (clean load)
 *
 * seconds= sets how long softlockup/rcustall spin and hung sleeps.
 * Never load this outside a throw-away VM.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/jiffies.h>
#include <linux/string.h>

static char *kind = "none";
module_param(kind, charp, 0444);
MODULE_PARM_DESC(kind, "which problem to provoke");

static int seconds = 30;
module_param(seconds, int, 0444);
MODULE_PARM_DESC(seconds, "duration for softlockup, rcustall and hung");

static DEFINE_MUTEX(vm_splat_a);
static DEFINE_MUTEX(vm_splat_b);

/* Busy-wait without scheduling; touch nothing that would reschedule. */
static void vm_splat_spin(void)
{
	unsigned long end = jiffies + seconds * HZ;

	while (time_before(jiffies, end))
		cpu_relax();
}

static int vm_splat_hung_fn(void *unused)
{
	set_current_state(TASK_UNINTERRUPTIBLE);
	schedule_timeout(seconds * HZ);
	return 0;
}

static int vm_splat_rcu_fn(void *unused)
{
	rcu_read_lock();
	preempt_disable();
	vm_splat_spin();
	preempt_enable();
	rcu_read_unlock();
	return 0;
}

/*
 * Leak a few objects.  kmemleak misses a leak whose address survives
 * somewhere it scans, such as a stale slot of this task's kernel stack
 * (stacks are cached and scanned after the task exits), hence several
 * objects and a stack wipe afterwards.
 */
static noinline void vm_splat_leak_some(void)
{
	int i;

	for (i = 0; i < 8; i++) {
		void *p = kmalloc(1024, GFP_KERNEL);

		if (p)
			memset(p, 0x5a, 1024);
	}
}

static noinline void vm_splat_clobber_stack(void)
{
	volatile char buf[1024];

	memset((char *)buf, 0, sizeof(buf));
}

static noinline int vm_splat_read(int *p)
{
	return READ_ONCE(*p);
}

static int __init vm_splat_init(void)
{
	pr_info("vm_splat: provoking '%s'\n", kind);

	if (!strcmp(kind, "warn")) {
		WARN_ON_ONCE(1);
	} else if (!strcmp(kind, "null")) {
		pr_info("vm_splat: read %d\n", vm_splat_read(NULL));
	} else if (!strcmp(kind, "bug")) {
		BUG();
	} else if (!strcmp(kind, "softlockup")) {
		preempt_disable();
		vm_splat_spin();
		preempt_enable();
	} else if (!strcmp(kind, "rcustall")) {
		struct task_struct *t;

		/*
		 * A reader that never ends stalls only a grace period that
		 * someone waits for: spin in a kthread, wait here.
		 */
		t = kthread_run(vm_splat_rcu_fn, NULL, "vm_splat_rcu");
		if (IS_ERR(t))
			return PTR_ERR(t);
		msleep(100);
		synchronize_rcu();
	} else if (!strcmp(kind, "hung")) {
		struct task_struct *t;

		t = kthread_run(vm_splat_hung_fn, NULL, "vm_splat_hung");
		if (IS_ERR(t))
			return PTR_ERR(t);
	} else if (!strcmp(kind, "leak")) {
		vm_splat_leak_some();
		vm_splat_clobber_stack();
	} else if (!strcmp(kind, "uaf")) {
		int *p = kmalloc(sizeof(*p) * 8, GFP_KERNEL);

		if (!p)
			return -ENOMEM;
		kfree(p);
		pr_info("vm_splat: read %d\n", vm_splat_read(p + 2));
	} else if (!strcmp(kind, "lockdep")) {
		mutex_lock(&vm_splat_a);
		mutex_lock(&vm_splat_b);
		mutex_unlock(&vm_splat_b);
		mutex_unlock(&vm_splat_a);
		mutex_lock(&vm_splat_b);
		mutex_lock(&vm_splat_a);
		mutex_unlock(&vm_splat_a);
		mutex_unlock(&vm_splat_b);
	} else if (strcmp(kind, "none")) {
		pr_err("vm_splat: unknown kind '%s'\n", kind);
		return -EINVAL;
	}
	return 0;
}

static void __exit vm_splat_exit(void)
{
}

module_init(vm_splat_init);
module_exit(vm_splat_exit);
MODULE_DESCRIPTION("Provoke kernel problem reports to test tools/vm");
MODULE_LICENSE("GPL");
