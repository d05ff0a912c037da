// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of kmoderr_message(): every errno the load/unload paths can
 * meet, with the context that changes the message, must produce a message
 * that says what happened and what to do.  Each case lists substrings the
 * message must contain and ones it must not.  Prints TAP.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kmoderr.h"

#define RUN	"6.12.41+deb13-amd64"
#define OTHER	"6.1.0-37-amd64"
#define KO	"/tmp/x/mlockdev.ko"

static struct kmoderr_ctx base(enum kmoderr_op op)
{
	struct kmoderr_ctx c;

	memset(&c, 0, sizeof(c));
	c.op = op;
	c.module = "mlockdev";
	c.path = op == KMODERR_UNLOAD ? NULL : KO;
	c.running = RUN;
	c.built_for = RUN;
	c.cap_sys_module = 1;
	c.modules_disabled = 0;
	c.lockdown = "none";
	c.refcnt = -1;
	c.device = "/dev/mlockdev";
	return c;
}

static int n, failed;

/* want: NULL-terminated list; "!x" means x must not appear. */
static void expect(const char *name, int err, const struct kmoderr_ctx *c,
		   const char *const *want)
{
	char buf[1024];
	const char *msg = kmoderr_message(err, c, buf, sizeof(buf));
	int ok = msg == buf && strlen(msg) > 20;

	for (; *want; want++) {
		if (**want == '!')
			ok &= !strstr(msg, *want + 1);
		else
			ok &= !!strstr(msg, *want);
	}
	n++;
	if (!ok) {
		failed++;
		printf("# message: %s\nnot ok %d %s\n", msg, n, name);
	} else {
		printf("ok %d %s\n", n, name);
	}
}

#define EXPECT(name, err, ctx, ...) do {				\
	static const char *const w[] = { __VA_ARGS__, NULL };		\
	expect(name, err, &(ctx), w);					\
} while (0)

int main(void)
{
	struct kmoderr_ctx c;
	char small[16];

	printf("TAP version 13\n");

	c = base(KMODERR_LOAD);
	EXPECT("load-eexist-already-loaded", EEXIST, c, "already loaded",
	       "mlockdevctl unload");

	c = base(KMODERR_LOAD);
	c.built_for = OTHER;
	EXPECT("load-enoexec-vermagic-names-both-releases", ENOEXEC, c,
	       "built for kernel " OTHER, "running kernel is " RUN, "uname -r",
	       "vermagic", "rebuild");
	EXPECT("load-einval-modversions-names-both-releases", EINVAL, c,
	       OTHER, RUN, "modversions", "rebuild");
	EXPECT("load-enoent-mismatch-names-both-releases", ENOENT, c,
	       OTHER, RUN, "symbols");

	c = base(KMODERR_LOAD);
	EXPECT("load-enoexec-same-release", ENOEXEC, c,
	       "invalid module format", "dmesg", "!running kernel is");
	c.built_for = NULL;
	EXPECT("load-enoexec-no-vermagic", ENOEXEC, c, "no vermagic", RUN);
	c = base(KMODERR_LOAD);
	EXPECT("load-einval-same-release-parameters", EINVAL, c, "param=value",
	       "dmesg", "!running kernel is");
	EXPECT("load-enoent-unknown-symbol", ENOENT, c, "unknown symbol",
	       "dmesg");

	c = base(KMODERR_LOAD);
	c.cap_sys_module = 0;
	EXPECT("load-eperm-no-capability", EPERM, c, "CAP_SYS_MODULE", "root");
	c = base(KMODERR_LOAD);
	c.modules_disabled = 1;
	EXPECT("load-eperm-modules-disabled", EPERM, c, "modules_disabled",
	       "reboot", "!CAP_SYS_MODULE capability");
	c = base(KMODERR_LOAD);
	c.lockdown = "integrity";
	EXPECT("load-eperm-lockdown", EPERM, c, "locked down", "integrity",
	       "sign", "Secure Boot");
	c = base(KMODERR_LOAD);
	c.cap_sys_module = -1;
	c.modules_disabled = -1;
	c.lockdown = NULL;
	EXPECT("load-eperm-unknown-cause", EPERM, c, "CAP_SYS_MODULE",
	       "modules_disabled", "lockdown", "dmesg");

	c = base(KMODERR_LOAD);
	EXPECT("load-ekeyrejected-signature", EKEYREJECTED, c, "signature",
	       "sign-file", "sig_enforce");
	EXPECT("load-ebadmsg-signature", EBADMSG, c, "signature");
	EXPECT("load-ebusy", EBUSY, c, "busy", "dmesg");
	EXPECT("load-enosys-no-module-support", ENOSYS, c, "cannot load modules");
	EXPECT("load-other-errno-init-failed", ENODEV, c, "No such device",
	       "init", "dmesg");

	c = base(KMODERR_FIND);
	EXPECT("find-missing-file", ENOENT, c, "no module file " KO);
	c.path = NULL;
	c.moddir = "/lib/modules/" RUN;
	EXPECT("find-by-name-not-installed", ENOENT, c, "no module named "
	       "'mlockdev'", "/lib/modules/" RUN, "pass the path");

	c = base(KMODERR_UNLOAD);
	EXPECT("unload-enoent-not-loaded", ENOENT, c, "not loaded");
	c.refcnt = 2;
	EXPECT("unload-ewouldblock-in-use", EWOULDBLOCK, c, "in use",
	       "2 references", "/dev/mlockdev", "fuser");
	c.refcnt = 1;
	EXPECT("unload-ewouldblock-one-reference", EWOULDBLOCK, c, "1 reference)");
	c.holders = "mlockdev_kunit";
	EXPECT("unload-ewouldblock-holders", EWOULDBLOCK, c, "mlockdev_kunit",
	       "unload them first");
	c = base(KMODERR_UNLOAD);
	c.state = "going";
	EXPECT("unload-ebusy-state", EBUSY, c, "going", "retry");
	c.cap_sys_module = 0;
	EXPECT("unload-eperm-no-capability", EPERM, c, "CAP_SYS_MODULE",
	       "unloading");
	c = base(KMODERR_UNLOAD);
	c.lockdown = "integrity";
	c.cap_sys_module = -1;
	EXPECT("unload-eperm-lockdown-does-not-apply", EPERM, c,
	       "!locked down", "dmesg");

	c = base(KMODERR_UNLOAD);
	EXPECT("unload-enosys", ENOSYS, c, "cannot unload modules");

	/* A tiny buffer is still a NUL-terminated string. */
	c = base(KMODERR_LOAD);
	n++;
	if (kmoderr_message(EEXIST, &c, small, sizeof(small)) == small &&
	    strlen(small) == sizeof(small) - 1) {
		printf("ok %d truncation\n", n);
	} else {
		failed++;
		printf("not ok %d truncation\n", n);
	}
	c.built_for = OTHER;
	n++;
	if (kmoderr_release_mismatch(&c) && (c.built_for = RUN) &&
	    !kmoderr_release_mismatch(&c) && !(c.built_for = NULL) &&
	    !kmoderr_release_mismatch(&c)) {
		printf("ok %d release-mismatch\n", n);
	} else {
		failed++;
		printf("not ok %d release-mismatch\n", n);
	}

	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
