#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Mutation check of the host tests: each mutant breaks one promise of the
# library, the shim or mlockdevctl in a scratch copy, and the tests meant
# to catch it must fail.  Prints one line per mutant; exits 1 if a mutant
# survived.  Slow (a rebuild per mutant); not part of "make check".
#
#   sh tools/libmlockdev/tests/mutants.sh
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
M=$(mktemp -d "${TMPDIR:-/tmp}/mlockdev-mutants.XXXXXX") || exit 1
trap 'rm -rf "$M"' EXIT
survivors=0

# mutant NAME FILE OLD NEW lib|ctl TEST-GLOB
mutant() {
	name=$1 file=$2 old=$3 new=$4 suite=$5 glob=$6
	rm -rf "$M/tree"
	mkdir -p "$M/tree/tools"
	cp -r "$TOP/include" "$M/tree/"
	cp -r "$TOP/tools/libmlockdev" "$TOP/tools/mlockdevctl" "$M/tree/tools/"
	rm -rf "$M"/tree/tools/*/build
	if ! python3 - "$M/tree/$file" "$old" "$new" <<'PY'
import sys
p, old, new = sys.argv[1:]
s = open(p).read()
if old not in s:
    sys.exit(1)
open(p, 'w').write(s.replace(old, new, 1))
PY
	then
		echo "$name: pattern not found (update the mutant)"
		survivors=$((survivors + 1))
		return
	fi
	if [ "$suite" = lib ]; then
		make -s -C "$M/tree/tools/libmlockdev" tests > /dev/null 2>&1 ||
			{ echo "$name: killed (does not build)"; return; }
		out=$(cd "$M/tree/tools/libmlockdev" && O=$PWD/build SRCDIR=$PWD \
			sh tests/run-tests.sh "$glob" 2>&1)
	else
		make -s -C "$M/tree/tools/mlockdevctl" tests > /dev/null 2>&1 ||
			{ echo "$name: killed (does not build)"; return; }
		out=$(cd "$M/tree/tools/mlockdevctl" && O=$PWD/build \
			LIBO=$M/tree/tools/libmlockdev/build SRCDIR=$PWD \
			sh tests/cli-tests.sh "$glob" 2>&1)
	fi
	killed=$(echo "$out" | grep '^not ok' | sed 's/^not ok [0-9]* //' | tr '\n' ' ')
	if [ -n "$killed" ]; then
		echo "$name: killed by $killed"
	else
		echo "$name: SURVIVED ($(echo "$out" | tail -n 1))"
		survivors=$((survivors + 1))
	fi
}

S=tools/libmlockdev/src/mlockdev.c
mutant no-cloexec "$S" "O_RDWR | O_CLOEXEC | O_NOCTTY" "O_RDWR | O_NOCTTY" lib 'lib-*'
mutant no-open-lock "$S" "	pthread_mutex_lock(&open_lock);
	fd = __atomic_load_n(&dev_fd, __ATOMIC_ACQUIRE);" "	fd = __atomic_load_n(&dev_fd, __ATOMIC_ACQUIRE);" lib 'lib-open-once*'
mutant no-atfork "$S" "	pthread_atfork(atfork_prepare, atfork_release, atfork_release);" "	(void)atfork_prepare; (void)atfork_release;" lib 'lib-fork*'
mutant flags-masked "$S" "arg.flags = (__u32)flags;" "arg.flags = (__u32)flags & 7;" lib 'lib-flags*'
mutant reserved-dirty "$S" "	arg.flags = (__u32)flags;" "	arg.flags = (__u32)flags; arg.reserved[1] = 1;" lib 'lib-success*'
mutant no-enodev-map "$S" "err = ENODEV;" "err = err;" lib 'lib-nodev*'
mutant errno-lost "$S" "		errno = err;
		return -1;
	}
}" "		errno = EIO;
		return -1;
	}
}" lib 'lib-errno*'
mutant no-reopen "$S" "		if (attempt == 0 && (err == EBADF" "		if (0 && (err == EBADF" lib 'lib-reopen*'
mutant named-shim-version tools/libmlockdev/src/preload.map "{
	global:" "MLOCKDEV_PRELOAD_1 {
	global:" lib 'shim-routes*'
mutant shim-no-exit tools/libmlockdev/src/preload.c "(e.g. MLOCKDEV_LOCK=current,future)\", spec);
		_exit(MLOCKDEV_SHIM_EXIT);" "(e.g. MLOCKDEV_LOCK=current,future)\", spec);
		goto out;" lib 'shim-lock-env-invalid'
mutant shim-lock-in-main tools/libmlockdev/src/preload.c "__attribute__((constructor)) static void shim_init" "__attribute__((destructor)) static void shim_init" lib 'shim-lock-env-before*'
P=tools/libmlockdev/src/preload.c
mutant shim-no-eager-open "$P" "	if (mlockdev__open() < 0) {" "	if (0 && mlockdev__open() < 0) {" lib 'shim-*'
mutant shim-no-fallback "$P" "	if (ret && declined(errno, stage))
		return real_call(SYS_mlockall" "	if (0 && declined(errno, stage))
		return real_call(SYS_mlockall" lib 'shim-eacces*'
mutant shim-unlock-no-fallback "$P" "	if (ret && declined(errno, stage))
		return real_call(SYS_munlockall" "	if (0 && declined(errno, stage))
		return real_call(SYS_munlockall" lib 'shim-eacces*'
mutant shim-fallback-on-open-eacces "$P" "return err == EACCES && stage == MLOCKDEV__STAGE_IOCTL;" "return err == EACCES && stage != MLOCKDEV__STAGE_NONE;" lib 'shim-open-fails*'
mutant shim-fallback-on-any-errno "$P" "return err == EACCES && stage == MLOCKDEV__STAGE_IOCTL;" "return err != 0 && stage == MLOCKDEV__STAGE_IOCTL;" lib 'shim-errno*'
mutant shim-fallback-errno-dirty "$P" "	if (ret == 0)
		errno = saved;
	if (shim_debug) {" "	if (shim_debug) {" lib 'shim-eacces-falls*'
mutant shim-lock-env-no-fallback "$P" "		if (!declined(err, stage)) {" "		if (1) {" lib 'shim-lock-env*'
mutant lib-falls-back "$S" "	return mlockdev__lockall(flags, NULL);" "	int r = mlockdev__lockall(flags, NULL); if (r && errno == EACCES) r = (int)syscall(151, flags); return r;" lib 'lib-errno*'
mutant parse-allows-onfault "$S" "	if (!(f & (MCL_CURRENT | MCL_FUTURE)))
		goto bad;" "" lib 'lib-parse*'
mutant ex-reserved-unchecked "$S" "		if (opts->reserved[i])
			return 0;" "		(void)0;" lib 'lib-ex-invalid*'
mutant ex-report-lost-on-error "$S" "	ret = device_ioctl(MLOCKDEV_IOC_LOCK_ALL_EX, &arg, stage);
	if (report)" "	ret = device_ioctl(MLOCKDEV_IOC_LOCK_ALL_EX, &arg, stage);
	if (report && !ret)" lib 'lib-ex-errors*'
mutant shim-unlock-strict "$P" "		.mode = ex_opts.mode & MLOCKDEV_LOCK_OPENBSD," "		.mode = ex_opts.mode," lib 'shim-mode*'
mutant shim-report-no-reopen "$P" "	if (report_path && !report_still_ours(fd)) {" "	if (report_path && 0 && !report_still_ours(fd)) {" lib 'shim-report-file'
mutant shim-ex-no-feature-check "$P" "	if ((info.features & need) != need) {" "	if (0) {" lib 'shim-ex-needs*'
K=tools/mlockdevctl/kmoderr.c
mutant no-mismatch-check "$K" "	if ((err == ENOEXEC || err == EINVAL || err == ENOENT) &&
	    kmoderr_release_mismatch(ctx))" "	if (0)" ctl '*'
mutant eperm-generic "$K" "	if (ctx->cap_sys_module == 0)" "	if (0)" ctl 'kmoderr*'
mutant inuse-no-refs "$K" "				 ctx->refcnt, ctx->refcnt == 1 ? \"\" : \"s\");" "				 ctx->refcnt, \"s\");" ctl 'kmoderr*'
C=tools/mlockdevctl/mlockdevctl.c
mutant run-no-device-check "$C" "	if (mlockdev_query(&info)) {" "	if (mlockdev_query(&info) && 0) {" ctl 'run-*'
mutant run-appends-preload "$C" "asprintf(&list, \"%s:%s\", shim, old)" "asprintf(&list, \"%s:%s\", old, shim)" ctl 'run-ld*'
mutant run-keeps-lock-env "$C" "(lock ? setenv(\"MLOCKDEV_LOCK\", lock, 1) : unsetenv(\"MLOCKDEV_LOCK\"))" "(lock ? setenv(\"MLOCKDEV_LOCK\", lock, 1) : 0)" ctl 'run-lock*'
mutant usage-exit-1 "$C" "enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };" "enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 1 };" ctl 'usage*'
mutant json-no-escape "$C" "		if (*p == '\"' || *p == '\\\\')" "		if (0)" ctl 'status-json*'
# Not here: skipping the "already loaded" pre-check in cmd_load survives on
# the host, where /sys/module/mlockdev never exists; guest-cli.sh test 2
# covers it.
mutant params-dropped "$C" "	err = kmod_module_insert_module(mod, 0, params);" "	err = kmod_module_insert_module(mod, 0, \"\");" ctl 'load-success*'
mutant help-exit-2 "$C" "			fputs(status_help, stdout);
			return EXIT_OK;" "			fputs(status_help, stdout);
			return EXIT_USAGE;" ctl 'help*'
mutant errno-not-restored "$S" "	errno = saved;
	return 0;
}

int mlockdev__unlockall" "	(void)saved;
	return 0;
}

int mlockdev__unlockall" lib 'lib-success*'
mutant fail-cached "$S" "	fd = open(mlockdev_device_path()" "	static int tried; if (tried) { pthread_mutex_unlock(&open_lock); errno = ENODEV; return -1; } tried = 1;
	fd = open(mlockdev_device_path()" lib 'lib-nodev*'
mutant shim-debug-always tools/libmlockdev/src/preload.c "shim_debug = dbg && *dbg && strcmp(dbg, \"0\") != 0;" "shim_debug = 1; (void)dbg;" lib 'shim-debug'
mutant wrap-to-real tools/libmlockdev/src/wrap.c "	return mlockdev_lockall(flags);" "	extern long syscall(long, ...); return (int)syscall(151, flags);" lib 'wrap-static'
mutant run-keeps-report-env "$C" "	    set_or_unset(\"MLOCKDEV_REPORT\", report) ||" "	    (report && setenv(\"MLOCKDEV_REPORT\", report, 1)) ||" ctl 'run-strict*'
mutant lock-without-pidfd-mode "$C" "	opts.mode = MLOCKDEV_LOCK_PIDFD |" "	opts.mode = 0 |" ctl 'lock-*'
# Not here: dropping the ptrace check of lock's EPERM message; the test
# that catches it (lock-as-nobody-eperm-ptrace) runs mlockdevctl as nobody,
# who cannot reach the scratch tree (mktemp -d is 0700) and skips.
mutant cli-shim-not-found tools/mlockdevctl/mlockdevctl.c "		\"../lib/mlockdev/\" SHIM_NAME,		/* PREFIX/bin -> PREFIX/lib */" "" ctl 'install'

[ "$survivors" -eq 0 ]
