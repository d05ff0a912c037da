// SPDX-License-Identifier: GPL-2.0
/*
 * libkmod errno -> message, for mlockdevctl load/unload.
 *
 * The errnos are those the kernel's init_module/finit_module/
 * delete_module return, as passed on (negated) by libkmod 30:
 *   load:   EEXIST already loaded; ENOEXEC bad ELF or vermagic; EINVAL
 *           modversions CRC, namespace or bad parameter; ENOENT unknown
 *           symbol; EPERM CAP_SYS_MODULE/modules_disabled/lockdown;
 *           EKEYREJECTED (and friends) signature; else module_init's.
 *   unload: ENOENT not loaded; EWOULDBLOCK in use (libkmod forces
 *           O_NONBLOCK); EBUSY not live or no exit function; EPERM.
 * A module built for another kernel fails with ENOEXEC (vermagic), EINVAL
 * (a CRC differs: with MODVERSIONS the kernel skips the release part of
 * vermagic and compares symbol CRCs instead) or ENOENT (a symbol is gone),
 * so for those three the releases are compared first.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kmoderr.h"

#define S(x)	((x) ? (x) : "?")

int kmoderr_release_mismatch(const struct kmoderr_ctx *ctx)
{
	return ctx->built_for && ctx->running &&
	       strcmp(ctx->built_for, ctx->running) != 0;
}

__attribute__((format(printf, 3, 4)))
static const char *fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, len, f, ap);
	va_end(ap);
	return buf;
}

static const char *what(const struct kmoderr_ctx *ctx)
{
	return ctx->path ? ctx->path : S(ctx->module);
}

static const char *perm_message(int err, const struct kmoderr_ctx *ctx,
				const char *verb, char *buf, size_t len)
{
	if (ctx->cap_sys_module == 0)
		return fmt(buf, len,
			   "permission denied: %s modules needs the "
			   "CAP_SYS_MODULE capability, which this process does "
			   "not have; run it as root (e.g. 'sudo mlockdevctl "
			   "%s'), outside a container that drops the capability",
			   verb, ctx->op == KMODERR_LOAD ? "load ..." : "unload");
	if (ctx->modules_disabled == 1)
		return fmt(buf, len,
			   "module %s is disabled: /proc/sys/kernel/"
			   "modules_disabled is 1, which only a reboot undoes; "
			   "reboot, and make sure nothing sets "
			   "kernel.modules_disabled=1 before mlockdev is loaded",
			   verb);
	if (ctx->op == KMODERR_LOAD && ctx->lockdown &&
	    strcmp(ctx->lockdown, "none") != 0)
		return fmt(buf, len,
			   "the kernel is locked down ('%s' mode, usually because "
			   "of Secure Boot) and refuses modules without a valid "
			   "signature: sign %s with a key the kernel trusts "
			   "(scripts/sign-file sha256 KEY.priv KEY.der %s, key "
			   "enrolled with mokutil), or boot without lockdown",
			   ctx->lockdown, what(ctx), what(ctx));
	return fmt(buf, len,
		   "permission denied (%s) %s %s: the cause is one of a missing "
		   "CAP_SYS_MODULE, kernel.modules_disabled=1, kernel lockdown "
		   "or a security module (SELinux, AppArmor, LoadPin); see "
		   "'dmesg' for which",
		   err == EACCES ? "EACCES" : "EPERM", verb, what(ctx));
}

static const char *mismatch_message(int err, const struct kmoderr_ctx *ctx,
				    char *buf, size_t len)
{
	const char *how = err == ENOEXEC ? "its vermagic does not match" :
			  err == EINVAL ? "its symbol versions (modversions) do "
					  "not match" :
			  "it needs symbols this kernel does not have";

	return fmt(buf, len,
		   "%s was built for kernel %s, but the running kernel is %s "
		   "(uname -r), and %s: rebuild the module against this "
		   "kernel's headers (make KDIR=/lib/modules/%s/build), or "
		   "boot kernel %s",
		   what(ctx), ctx->built_for, ctx->running, how, ctx->running,
		   ctx->built_for);
}

static const char *find_message(int err, const struct kmoderr_ctx *ctx,
				char *buf, size_t len)
{
	if (err == ENOENT && ctx->path)
		return fmt(buf, len, "no module file %s: check the path",
			   ctx->path);
	if (err == ENOENT)
		return fmt(buf, len,
			   "no module named '%s' is installed for the running "
			   "kernel %s (searched %s): pass the path of the .ko "
			   "file, e.g. 'mlockdevctl load ./kernel/%s.ko', or "
			   "install it there (make modules_install; depmod)",
			   S(ctx->module), S(ctx->running), S(ctx->moddir),
			   S(ctx->module));
	return fmt(buf, len, "cannot open module %s: %s", what(ctx),
		   strerror(err));
}

static const char *load_message(int err, const struct kmoderr_ctx *ctx,
				char *buf, size_t len)
{
	if ((err == ENOEXEC || err == EINVAL || err == ENOENT) &&
	    kmoderr_release_mismatch(ctx))
		return mismatch_message(err, ctx, buf, len);

	switch (err) {
	case EEXIST:
		return fmt(buf, len,
			   "module %s is already loaded: 'mlockdevctl status' "
			   "shows it; to load another build, run 'mlockdevctl "
			   "unload' first", S(ctx->module));
	case ENOEXEC:
		if (!ctx->built_for)
			return fmt(buf, len,
				   "%s is not a loadable module for this kernel "
				   "(invalid module format, and it has no "
				   "vermagic): check that it is a .ko built by "
				   "Kbuild for %s", what(ctx), S(ctx->running));
		return fmt(buf, len,
			   "the kernel rejected %s as an invalid module format: "
			   "it was built for %s like the running kernel, so its "
			   "vermagic flags (SMP, preempt, mod_unload, "
			   "modversions), architecture or ELF differ; see "
			   "'dmesg' and rebuild it against this kernel's headers",
			   what(ctx), ctx->built_for);
	case EINVAL:
		return fmt(buf, len,
			   "the kernel rejected %s with EINVAL: a param=value "
			   "argument is unknown or invalid, or a symbol version "
			   "(modversions CRC) or namespace disagrees with the "
			   "running kernel; check the parameters and 'dmesg'",
			   what(ctx));
	case ENOENT:
		return fmt(buf, len,
			   "unknown symbol: %s uses a symbol the running kernel "
			   "%s does not export ('dmesg' names it); load the "
			   "module that provides it first, or rebuild against "
			   "this kernel", what(ctx), S(ctx->running));
	case EPERM:
	case EACCES:
		return perm_message(err, ctx, "loading", buf, len);
	case EKEYREJECTED:
	case ENOKEY:
	case EKEYEXPIRED:
	case EKEYREVOKED:
	case EBADMSG:
		return fmt(buf, len,
			   "the kernel rejected the signature of %s (%s): it "
			   "enforces module signatures (module.sig_enforce=1 or "
			   "lockdown) and the module is unsigned or signed with "
			   "a key it does not trust; sign it (scripts/sign-file "
			   "sha256 KEY.priv KEY.der %s) with a key in the "
			   "kernel's keyring, or boot with module.sig_enforce=0 "
			   "where that is allowed",
			   what(ctx), strerror(err), what(ctx));
	case EBUSY:
		return fmt(buf, len,
			   "%s is busy: another load of it is in progress, or "
			   "its init failed with EBUSY (e.g. the misc device "
			   "could not be registered); see 'dmesg' and retry",
			   S(ctx->module));
	case ENOSYS:
		return fmt(buf, len,
			   "this kernel cannot load modules (no module support, "
			   "or a sandbox or seccomp filter blocks init_module): "
			   "load %s on a kernel with CONFIG_MODULES, e.g. in the "
			   "test VM", what(ctx));
	case ENOMEM:
		return fmt(buf, len,
			   "out of memory while loading %s; free memory and "
			   "retry", what(ctx));
	default:
		return fmt(buf, len,
			   "the kernel refused to load %s: %s (the module's "
			   "init function failed?); see 'dmesg'",
			   what(ctx), strerror(err));
	}
}

static const char *unload_message(int err, const struct kmoderr_ctx *ctx,
				  char *buf, size_t len)
{
	char refs[64] = "";

	switch (err) {
	case ENOENT:
		return fmt(buf, len,
			   "module %s is not loaded: nothing to unload",
			   S(ctx->module));
	case EWOULDBLOCK:
		if (ctx->holders && *ctx->holders)
			return fmt(buf, len,
				   "module %s is in use by the modules %s: unload "
				   "them first", S(ctx->module), ctx->holders);
		if (ctx->refcnt >= 0)
			snprintf(refs, sizeof(refs), " (%ld reference%s)",
				 ctx->refcnt, ctx->refcnt == 1 ? "" : "s");
		return fmt(buf, len,
			   "module %s is in use%s: a process has %s open; close "
			   "it (stop programs started with 'mlockdevctl run'; "
			   "'fuser -v %s' lists them) and retry",
			   S(ctx->module), refs, S(ctx->device), S(ctx->device));
	case EBUSY:
		return fmt(buf, len,
			   "module %s cannot be removed now (state %s): it is "
			   "still loading or already unloading, or it has no "
			   "exit function; wait a moment and retry",
			   S(ctx->module), S(ctx->state));
	case EPERM:
	case EACCES:
		return perm_message(err, ctx, "unloading", buf, len);
	case ENOSYS:
		return fmt(buf, len,
			   "this kernel cannot unload modules (no "
			   "CONFIG_MODULE_UNLOAD, or a sandbox blocks "
			   "delete_module)");
	default:
		return fmt(buf, len, "cannot unload %s: %s; see 'dmesg'",
			   S(ctx->module), strerror(err));
	}
}

const char *kmoderr_message(int err, const struct kmoderr_ctx *ctx,
			    char *buf, size_t len)
{
	switch (ctx->op) {
	case KMODERR_FIND:
		return find_message(err, ctx, buf, len);
	case KMODERR_LOAD:
		return load_message(err, ctx, buf, len);
	default:
		return unload_message(err, ctx, buf, len);
	}
}
