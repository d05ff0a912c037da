/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a libkmod/kernel errno means for "mlockdevctl load/unload", as a
 * pure function of the errno and the facts gathered around the call, so
 * that every message can be unit-tested without a kernel.
 */
#ifndef MLOCKDEVCTL_KMODERR_H
#define MLOCKDEVCTL_KMODERR_H

#include <stddef.h>

enum kmoderr_op {
	KMODERR_FIND,	/* finding the module file (path or name) */
	KMODERR_LOAD,	/* kmod_module_insert_module() */
	KMODERR_UNLOAD,	/* kmod_module_remove_module() */
};

struct kmoderr_ctx {
	enum kmoderr_op op;
	const char *module;	/* module name, e.g. "mlockdev" */
	const char *path;	/* module file, or NULL (FIND by name) */
	const char *moddir;	/* FIND by name: the directory searched */
	const char *running;	/* release of the running kernel (uname -r) */
	const char *built_for;	/* release in the module's vermagic, or NULL */
	int cap_sys_module;	/* caller has CAP_SYS_MODULE: 1, 0, -1 unknown */
	int modules_disabled;	/* /proc/sys/kernel/modules_disabled, or -1 */
	const char *lockdown;	/* active kernel lockdown mode, or NULL */
	long refcnt;		/* UNLOAD: module refcount, -1 unknown */
	const char *holders;	/* UNLOAD: modules using it, or NULL */
	const char *state;	/* UNLOAD: "live", "coming", "going", or NULL */
	const char *device;	/* the device node, for hints */
};

/*
 * Format "what happened; what to do" for a failure with positive errno
 * err into buf (always NUL-terminated).  Returns buf.
 */
const char *kmoderr_message(int err, const struct kmoderr_ctx *ctx,
			    char *buf, size_t len);

/* Do the module's vermagic release and the running release differ? */
int kmoderr_release_mismatch(const struct kmoderr_ctx *ctx);

#endif
