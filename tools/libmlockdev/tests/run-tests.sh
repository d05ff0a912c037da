#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Host tests of libmlockdev, the preload shim and the --wrap static path,
# against a fake device (tests/fakedev.c): no module, no VM, no root.
# Prints TAP and a closing "N passed, N failed" line; exits 1 on failure.
#
#   O=build SRCDIR=. sh tests/run-tests.sh [NAME-GLOB]
set -u

: "${O:?O= the build directory}" "${SRCDIR:?SRCDIR= the source directory}"
T=$O/tests
FAKE=$T/libfakedev.so
SHIM=$O/libmlockdev-preload.so
ONLY=${1:-*}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mlockdev-check.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT INT TERM

n=0 passed=0 failed=0 skipped=0
results=$WORK/results
: > "$results"

# The fake device and its log, fresh for every test.
DEV=$WORK/dev
LOG=$WORK/log
fresh() {
	rm -f "$LOG" "$WORK/out" "$WORK/err"
	: > "$DEV"
}

# run_test NAME FUNCTION: FUNCTION returns 0 (pass), 1 (fail), 77 (skip:
# reason in $skip_reason).  Its diagnostics go to $WORK/diag.
run_test() {
	# shellcheck disable=SC2254
	case $1 in $ONLY) ;; *) return ;; esac
	n=$((n + 1))
	fresh
	skip_reason=
	: > "$WORK/diag"
	"$2" > "$WORK/diag" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok $n $1" >> "$results"
	elif [ $rc -eq 77 ]; then
		skipped=$((skipped + 1))
		echo "ok $n $1 # SKIP $skip_reason" >> "$results"
	else
		failed=$((failed + 1))
		sed 's/^/# /' "$WORK/diag" >> "$results"
		[ -f "$LOG" ] && sed 's/^/# log: /' "$LOG" >> "$results"
		echo "not ok $n $1" >> "$results"
	fi
}

fail() { echo "FAIL: $*"; return 1; }

# with_fake CMD...: run CMD against the fake device.
with_fake() {
	env MLOCKDEV_DEVICE="$DEV" FAKEDEV_PATH="$DEV" FAKEDEV_LOG="$LOG" \
		LD_PRELOAD="$FAKE${LD_PRELOAD:+:$LD_PRELOAD}" "$@"
}

# with_shim CMD...: same, with the preload shim in front.
with_shim() {
	env MLOCKDEV_DEVICE="$DEV" FAKEDEV_PATH="$DEV" FAKEDEV_LOG="$LOG" \
		LD_PRELOAD="$SHIM:$FAKE" "$@"
}

# Number of log lines matching a regex (0 when there is no log).
loglines() {
	if [ -f "$LOG" ]; then grep -c -e "$1" "$LOG"; else echo 0; fi
}

# --- the library against the fake device ---------------------------------

lib_case() {
	with_fake "$@"
}
t_success()   { lib_case "$T/test_lib" success; }
t_flags()     { lib_case "$T/test_lib" flags; }
t_errors()    { lib_case "$T/test_lib" errors; }
t_race()      { FAKEDEV_OPEN_DELAY_MS=100 lib_case "$T/test_lib" race; }
t_fork()      { lib_case "$T/test_lib" fork; }
t_fork_race() { FAKEDEV_OPEN_DELAY_MS=300 lib_case "$T/test_lib" fork-race; }
t_exec()      { lib_case "$T/test_lib" exec; }
t_reopen()    { lib_case "$T/test_lib" reopen; }
t_parse()     { lib_case "$T/test_lib" parse; }
t_ex_success()    { lib_case "$T/test_lib" ex-success; }
t_ex_invalid()    { lib_case "$T/test_lib" ex-invalid; }
t_ex_errors()     { lib_case "$T/test_lib" ex-errors; }
t_ex_pidfd()      { lib_case "$T/test_lib" ex-pidfd; }
t_ex_old_module() { FAKEDEV_FEATURES=0xf FAKEDEV_ABI_MINOR=0 lib_case "$T/test_lib" ex-old-module; }
t_report_format() { lib_case "$T/test_lib" report-format; }
t_nodev() {
	rm -f "$DEV"
	lib_case "$T/test_lib" nodev
}
t_isdir() {
	env MLOCKDEV_DEVICE=/ LD_PRELOAD="$FAKE" FAKEDEV_PATH=/ \
		"$T/test_lib" isdir
}

# --- what the shared objects export ----------------------------------------

defined_syms() {
	nm -D --defined-only "$1" | awk '$2 == "T" { print $3 }' | sort | tr '\n' ' '
}
t_exports() {
	want="__wrap_mlockall@@MLOCKDEV_1 __wrap_munlockall@@MLOCKDEV_1 mlockdev_device_path@@MLOCKDEV_1 mlockdev_flags_from_string@@MLOCKDEV_1 mlockdev_lockall@@MLOCKDEV_1 mlockdev_lockall_ex@@MLOCKDEV_1.1 mlockdev_query@@MLOCKDEV_1 mlockdev_report_format@@MLOCKDEV_1.1 mlockdev_supports@@MLOCKDEV_1.1 mlockdev_unlockall@@MLOCKDEV_1 mlockdev_unlockall_ex@@MLOCKDEV_1.1 "
	got=$(defined_syms "$O/libmlockdev.so")
	[ "$got" = "$want" ] || fail "libmlockdev.so exports: $got" || return 1
	soname=$(readelf -d "$O/libmlockdev.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
	[ "$soname" = libmlockdev.so.1 ] || fail "soname '$soname'" || return 1
	got=$(defined_syms "$SHIM")
	[ "$got" = "mlockall munlockall " ] || fail "shim exports: $got"
}

# --- the preload shim ------------------------------------------------------

t_shim_calls() {
	with_shim "$T/test_prog" lock 3 unlock lock 0x5 > "$WORK/out" || return 1
	cat "$WORK/out"
	grep -qx 'mlockall(0x3) = 0 errno=SENTINEL' "$WORK/out" || fail "lock" || return 1
	grep -qx 'munlockall() = 0 errno=SENTINEL' "$WORK/out" || fail "unlock" || return 1
	pid=$(sed -n 's/^main pid=//p' "$LOG")
	[ "$(loglines "pid=$pid .*req=LOCK_ALL .* flags=0x3 ")" = 1 ] || fail "no LOCK_ALL 0x3" || return 1
	[ "$(loglines "pid=$pid .*req=LOCK_ALL .* flags=0x5 ")" = 1 ] || fail "no LOCK_ALL 0x5" || return 1
	[ "$(loglines "pid=$pid .*req=UNLOCK_ALL ")" = 1 ] || fail "no UNLOCK_ALL"
}

# Control: the same program without the shim must not reach the device
# (shows that t_shim_calls can tell the two apart).
t_noshim_control() {
	with_fake "$T/test_prog" lock 3 unlock > "$WORK/out" || return 1
	[ "$(loglines 'req=')" = 0 ] || fail "ioctl without the shim"
}

t_shim_errno() {
	for e in EPERM ENOMEM EINVAL EINTR EFAULT ENOTTY; do
		FAKEDEV_ERRNO=$e with_shim "$T/test_prog" lock 3 unlock > "$WORK/out" || return 1
		grep -qx "mlockall(0x3) = -1 errno=$e" "$WORK/out" || fail "$e lock: $(cat "$WORK/out")" || return 1
		grep -qx "munlockall() = -1 errno=$e" "$WORK/out" || fail "$e unlock: $(cat "$WORK/out")" || return 1
	done
	# Only EACCES (shim-eacces-*) makes the shim ask the kernel instead.
	[ "$(loglines '^syscall ')" = 0 ] || fail "system call made: $(grep '^syscall ' "$LOG")"
}

# The shim opens the device in its constructor, before main(), and keeps
# the descriptor for the program's own calls.
t_shim_eager_open() {
	with_shim "$T/test_prog" fds lock 3 unlock > "$WORK/out" || return 1
	grep -qx 'fds=1' "$WORK/out" || fail "no descriptor open in main(): $(cat "$WORK/out")" || return 1
	openline=$(grep -n '^open ' "$LOG" | head -n 1 | cut -d: -f1)
	mainline=$(grep -n '^main ' "$LOG" | cut -d: -f1)
	if [ -z "$openline" ] || [ "$openline" -gt "$mainline" ]; then
		fail "no open before main()"
		return 1
	fi
	[ "$(loglines '^open ')" = 1 ] || fail "$(loglines '^open ') opens" || return 1
	fd=$(sed -n 's/^open .* fd=\([0-9]*\) .*/\1/p' "$LOG")
	pid=$(sed -n 's/^main pid=//p' "$LOG")
	[ "$(loglines "^ioctl pid=$pid fd=$fd req=LOCK_ALL .*ret=0")" = 1 ] || fail "LOCK_ALL not on fd $fd" || return 1
	grep -qx 'mlockall(0x3) = 0 errno=SENTINEL' "$WORK/out" || fail "lock: $(cat "$WORK/out")"
}

# What the eager open is for: a program that drops privileges (here: the
# fake device refuses opens from then on, as the 0600 node refuses nobody)
# before its first mlockall() still reaches the device.
t_shim_privilege_drop() {
	with_shim "$T/test_prog" setenv FAKEDEV_OPEN_ERRNO=EACCES lock 3 unlock > "$WORK/out" || return 1
	grep -qx 'mlockall(0x3) = 0 errno=SENTINEL' "$WORK/out" || fail "lock: $(cat "$WORK/out")" || return 1
	grep -qx 'munlockall() = 0 errno=SENTINEL' "$WORK/out" || fail "unlock: $(cat "$WORK/out")" || return 1
	[ "$(loglines '^open-refused ')" = 0 ] || fail "opened after the drop" || return 1
	[ "$(loglines 'req=LOCK_ALL .*ret=0')" = 1 ] || fail "no LOCK_ALL"
}

# The constructor cannot open the device: as before, each call tries
# again and fails with the same errno, and the shim never falls back to
# the system call for an open that failed.
t_shim_open_fails() {
	FAKEDEV_OPEN_ERRNO=EACCES with_shim "$T/test_prog" fds lock 3 unlock > "$WORK/out" 2> "$WORK/err" || return 1
	[ -s "$WORK/err" ] && { fail "stderr: $(cat "$WORK/err")"; return 1; }
	grep -qx 'fds=0' "$WORK/out" || fail "$(cat "$WORK/out")" || return 1
	grep -qx 'mlockall(0x3) = -1 errno=EACCES' "$WORK/out" || fail "lock: $(cat "$WORK/out")" || return 1
	grep -qx 'munlockall() = -1 errno=EACCES' "$WORK/out" || fail "unlock: $(cat "$WORK/out")" || return 1
	# The constructor's attempt, then one per call.
	[ "$(loglines '^open-refused ')" = 3 ] || fail "$(loglines '^open-refused ') refused opens, want 3" || return 1
	[ "$(loglines '^syscall ')" = 0 ] || fail "fell back to the system call after a failed open" || return 1
	# Not there at start (module not loaded), there later: the first
	# call after it appears opens it.
	fresh
	FAKEDEV_OPEN_ERRNO=ENOENT with_shim "$T/test_prog" lock 3 setenv FAKEDEV_OPEN_ERRNO= lock 3 fds > "$WORK/out" || return 1
	grep -qx 'mlockall(0x3) = -1 errno=ENODEV' "$WORK/out" || fail "first: $(cat "$WORK/out")" || return 1
	grep -qx 'mlockall(0x3) = 0 errno=SENTINEL' "$WORK/out" || fail "later: $(cat "$WORK/out")" || return 1
	grep -qx 'fds=1' "$WORK/out" || fail "$(cat "$WORK/out")" || return 1
	openline=$(grep -n '^open ' "$LOG" | head -n 1 | cut -d: -f1)
	mainline=$(grep -n '^main ' "$LOG" | cut -d: -f1)
	if [ -z "$openline" ] || [ "$openline" -lt "$mainline" ]; then
		fail "no lazy open in main()"
		return 1
	fi
}

# LOCK_ALL/UNLOCK_ALL answered EACCES: the module declined the caller (a
# seccomp filter).  The shim makes the system call, with the same
# flags, and returns what it returns; errno untouched on success.
t_shim_eacces_fallback() {
	FAKEDEV_ERRNO=EACCES with_shim "$T/test_prog" lock 3 unlock lock 0x5 > "$WORK/out" 2> "$WORK/err" || return 1
	[ -s "$WORK/err" ] && { fail "stderr without MLOCKDEV_SHIM_DEBUG: $(cat "$WORK/err")"; return 1; }
	grep -qx 'mlockall(0x3) = 0 errno=SENTINEL' "$WORK/out" || fail "lock: $(cat "$WORK/out")" || return 1
	grep -qx 'munlockall() = 0 errno=SENTINEL' "$WORK/out" || fail "unlock: $(cat "$WORK/out")" || return 1
	grep -qx 'mlockall(0x5) = 0 errno=SENTINEL' "$WORK/out" || fail "lock 0x5: $(cat "$WORK/out")" || return 1
	pid=$(sed -n 's/^main pid=//p' "$LOG")
	# Each ioctl first, then the system call, in the program's process.
	got=$(grep -e "^ioctl pid=$pid " -e "^syscall pid=$pid " "$LOG" | awk '{
		what = ""; flags = "-"; ret = ""
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^req=/ || $i ~ /^nr=[a-z]/) what = $i
			if ($i ~ /^flags=/) flags = substr($i, 7)
			if ($i ~ /^ret=/) ret = substr($i, 5)
		}
		printf "%s %s %s;", what, flags, ret
	}')
	want='req=LOCK_ALL 0x3 -EACCES;nr=mlockall 0x3 0;req=UNLOCK_ALL 0x0 -EACCES;nr=munlockall - 0;req=LOCK_ALL 0x5 -EACCES;nr=mlockall 0x5 0;'
	[ "$got" = "$want" ] || fail "sequence '$got', want '$want'" || return 1
	# The system call's failure is the program's.
	for e in EPERM ENOMEM EINVAL; do
		fresh
		FAKEDEV_ERRNO=EACCES FAKEDEV_SYSCALL_ERRNO=$e with_shim "$T/test_prog" lock 3 unlock > "$WORK/out" || return 1
		grep -qx "mlockall(0x3) = -1 errno=$e" "$WORK/out" || fail "$e lock: $(cat "$WORK/out")" || return 1
		grep -qx "munlockall() = -1 errno=$e" "$WORK/out" || fail "$e unlock: $(cat "$WORK/out")" || return 1
		[ "$(loglines "^syscall .*ret=-$e")" = 2 ] || fail "$e: system calls" || return 1
	done
}

t_shim_eacces_debug() {
	FAKEDEV_ERRNO=EACCES MLOCKDEV_SHIM_DEBUG=1 with_shim "$T/test_prog" lock 3 unlock > "$WORK/out" 2> "$WORK/err" || return 1
	grep -q 'mlockdev-preload\[[0-9]*\]: mlockall(0x3) = 0 \[system call: the device declined this process, EACCES, seccomp filter\]$' "$WORK/err" ||
		fail "stderr: $(cat "$WORK/err")" || return 1
	grep -q 'munlockall() = 0 \[system call: the device declined this process, EACCES, seccomp filter\]$' "$WORK/err" ||
		fail "stderr: $(cat "$WORK/err")" || return 1
	# Only the system call's result: no line for the declined ioctl.
	[ "$(grep -c 'mlockall(0x3)' "$WORK/err")" = 1 ] || fail "stderr: $(cat "$WORK/err")" || return 1
	fresh
	FAKEDEV_ERRNO=EACCES FAKEDEV_SYSCALL_ERRNO=EPERM MLOCKDEV_SHIM_DEBUG=1 with_shim "$T/test_prog" lock 1 > "$WORK/out" 2> "$WORK/err" || return 1
	grep -q 'mlockall(0x1) = -1 (EPERM) \[system call: ' "$WORK/err" || fail "stderr: $(cat "$WORK/err")"
}

# MLOCKDEV_LOCK under a filter: the constructor falls back as the calls do;
# if the system call fails too, the program does not run.
t_shim_lock_env_eacces() {
	FAKEDEV_ERRNO=EACCES MLOCKDEV_LOCK=current,future with_shim "$T/test_prog" > "$WORK/out" 2> "$WORK/err" ||
		fail "exit $?: $(cat "$WORK/err")" || return 1
	[ "$(loglines '^syscall .*nr=mlockall flags=0x3 ret=0')" = 1 ] || fail "no system call" || return 1
	lockline=$(grep -n '^syscall ' "$LOG" | head -n 1 | cut -d: -f1)
	mainline=$(grep -n '^main ' "$LOG" | cut -d: -f1)
	[ "$lockline" -lt "$mainline" ] || fail "system call after main" || return 1
	fresh
	FAKEDEV_ERRNO=EACCES FAKEDEV_SYSCALL_ERRNO=EPERM MLOCKDEV_LOCK=current with_shim "$T/test_prog" > "$WORK/out" 2> "$WORK/err"
	rc=$?
	[ $rc -eq 125 ] || fail "exit $rc, want 125" || return 1
	grep -q 'declined this process.*seccomp.*mlockall(2) failed: Operation not permitted' "$WORK/err" || fail "stderr: $(cat "$WORK/err")" || return 1
	[ "$(loglines '^main ')" = 0 ] || fail "main() ran"
}

t_shim_nodev() {
	rm -f "$DEV"
	with_shim "$T/test_prog" lock 3 unlock > "$WORK/out" || return 1
	grep -qx 'mlockall(0x3) = -1 errno=ENODEV' "$WORK/out" || fail "$(cat "$WORK/out")" || return 1
	grep -qx 'munlockall() = -1 errno=ENODEV' "$WORK/out" || fail "$(cat "$WORK/out")"
}

# MLOCKDEV_LOCK: LOCK_ALL with the right flags, in the program's own
# process, before main(); the descriptor stays open for the program's own
# calls (it is O_CLOEXEC, and the library copes with a program that closes
# it or reuses its number: lib-reopen-closed-or-reused-fd).
t_shim_lock_env() {
	for pair in current:0x1 future:0x2 current,future:0x3 \
	    current,onfault:0x5 onfault,future:0x6 current,future,onfault:0x7; do
		spec=${pair%%:*} flags=${pair#*:}
		fresh
		MLOCKDEV_LOCK=$spec with_shim "$T/test_prog" fds > "$WORK/out" 2> "$WORK/err" ||
			fail "$spec: exit $?: $(cat "$WORK/err")" || return 1
		[ -s "$WORK/err" ] && { fail "$spec: stderr: $(cat "$WORK/err")"; return 1; }
		grep -qx 'fds=1' "$WORK/out" || fail "$spec: want the one descriptor kept: $(cat "$WORK/out")" || return 1
		[ "$(loglines '^open ')" = 1 ] || fail "$spec: $(loglines '^open ') opens" || return 1
		pid=$(sed -n 's/^main pid=//p' "$LOG")
		first=$(sed -n '/req=/{p;q}' "$LOG")
		case $first in
		*"pid=$pid "*"req=LOCK_ALL "*" flags=$flags "*) ;;
		*) fail "$spec: first ioctl: '$first'"; return 1 ;;
		esac
		# The lock comes before main's marker line.
		lockline=$(grep -n 'req=LOCK_ALL' "$LOG" | head -n 1 | cut -d: -f1)
		mainline=$(grep -n '^main ' "$LOG" | cut -d: -f1)
		[ "$lockline" -lt "$mainline" ] || fail "$spec: lock after main" || return 1
	done
}

t_shim_lock_env_empty() {
	MLOCKDEV_LOCK='' with_shim "$T/test_prog" > "$WORK/out" 2> "$WORK/err" || return 1
	[ "$(loglines 'req=')" = 0 ] || fail "ioctl for an empty MLOCKDEV_LOCK"
}

t_shim_lock_env_bad() {
	for spec in bogus onfault 'current,' ,future current,,future CURRENT \
	    'current future' current,bogus; do
		fresh
		MLOCKDEV_LOCK=$spec with_shim "$T/test_prog" > "$WORK/out" 2> "$WORK/err"
		rc=$?
		[ $rc -eq 125 ] || fail "'$spec': exit $rc, want 125" || return 1
		grep -q "invalid MLOCKDEV_LOCK='$spec'" "$WORK/err" || fail "'$spec': stderr: $(cat "$WORK/err")" || return 1
		[ "$(loglines '^main ')" = 0 ] || fail "'$spec': main() ran" || return 1
		[ "$(loglines 'req=')" = 0 ] || fail "'$spec': ioctl issued" || return 1
	done
}

t_shim_lock_env_fails() {
	FAKEDEV_ERRNO=ENOMEM MLOCKDEV_LOCK=current with_shim "$T/test_prog" > "$WORK/out" 2> "$WORK/err"
	rc=$?
	[ $rc -eq 125 ] || fail "exit $rc, want 125" || return 1
	grep -q 'cannot lock memory through .*Cannot allocate memory' "$WORK/err" || fail "stderr: $(cat "$WORK/err")" || return 1
	[ "$(loglines '^main ')" = 0 ] || fail "main() ran" || return 1
	fresh
	rm -f "$DEV"
	MLOCKDEV_LOCK=current with_shim "$T/test_prog" > "$WORK/out" 2> "$WORK/err"
	rc=$?
	[ $rc -eq 125 ] || fail "no device: exit $rc, want 125" || return 1
	grep -q 'is the mlockdev module loaded' "$WORK/err" || fail "stderr: $(cat "$WORK/err")"
}

t_shim_debug() {
	MLOCKDEV_SHIM_DEBUG=1 with_shim "$T/test_prog" lock 3 unlock > "$WORK/out" 2> "$WORK/err" || return 1
	grep -q 'mlockdev-preload\[[0-9]*\]: mlockall(0x3) = 0$' "$WORK/err" || fail "stderr: $(cat "$WORK/err")" || return 1
	grep -q 'munlockall() = 0$' "$WORK/err" || fail "stderr: $(cat "$WORK/err")" || return 1
	with_shim "$T/test_prog" lock 3 unlock > "$WORK/out" 2> "$WORK/err" || return 1
	if [ -s "$WORK/err" ]; then
		fail "output without MLOCKDEV_SHIM_DEBUG: $(cat "$WORK/err")"
		return 1
	fi
}

# --- the shim's extensible calls: MLOCKDEV_REPORT, _MODE, _WORKERS ----------

# The report text of the fake's default figures (fakedev.c, fake_report()),
# after the header line.  4 kB pages.
lock_report() {
	printf '%s\n' \
		'  VMAs: 12 seen, 10 changed, 2 skipped (special 2)' \
		'  pages: 100 marked, 0 unmarked, 2048 populated' \
		'  populate errors: none' \
		'  VmLck: 0 kB before, 8592 kB after (locked_vm 0 -> 2148 pages)' \
		'  time: lock pass 0.412 ms (page pass 0.051 ms), populate 3.220 ms' \
		'  workers: 1 (the calling thread)'
}
unlock_report() {
	printf '%s\n' \
		'  VMAs: 12 seen, 10 changed, 2 skipped (special 2)' \
		'  pages: 0 marked, 2148 unmarked, 0 populated' \
		'  populate errors: none' \
		'  VmLck: 8592 kB before, 0 kB after (locked_vm 2148 -> 0 pages)' \
		'  time: lock pass 0.412 ms (page pass 0.098 ms), populate 0.000 ms' \
		'  workers: 0 (nothing faulted in)'
}

need_4k() {
	[ "$(getconf PAGESIZE)" = 4096 ] || { skip_reason="the expected reports assume 4 kB pages"; return 77; }
}

# MLOCKDEV_REPORT=stderr: LOCK_ALL_EX/UNLOCK_ALL_EX with mode 0 instead of
# LOCK_ALL/UNLOCK_ALL, one report per call on stderr, the program's
# results and errno as before.
t_shim_report_stderr() {
	need_4k || return 77
	MLOCKDEV_REPORT=stderr with_shim "$T/test_prog" lock 3 unlock > "$WORK/out" 2> "$WORK/err" || return 1
	grep -qx 'mlockall(0x3) = 0 errno=SENTINEL' "$WORK/out" || fail "lock: $(cat "$WORK/out")" || return 1
	grep -qx 'munlockall() = 0 errno=SENTINEL' "$WORK/out" || fail "unlock: $(cat "$WORK/out")" || return 1
	pid=$(sed -n 's/^main pid=//p' "$LOG")
	{
		echo "mlockdev-report[$pid] test_prog: mlockall(MCL_CURRENT|MCL_FUTURE) = 0"
		lock_report
		echo "mlockdev-report[$pid] test_prog: munlockall() = 0"
		unlock_report
	} > "$WORK/want"
	diff -u "$WORK/want" "$WORK/err" || fail "stderr differs" || return 1
	[ "$(loglines "^ioctl pid=$pid .*req=LOCK_ALL_EX .* usize=288 flags=0x3 mode=0x0 pidfd=0 target=0 workers=0 reserved=0 ret=0")" = 1 ] || fail "no LOCK_ALL_EX" || return 1
	[ "$(loglines "^ioctl pid=$pid .*req=UNLOCK_ALL_EX .* flags=0x0 mode=0x0 pidfd=0 .*ret=0")" = 1 ] || fail "no UNLOCK_ALL_EX" || return 1
	[ "$(loglines 'req=LOCK_ALL \|req=UNLOCK_ALL ')" = 0 ] || fail "plain requests made" || return 1
	# Flag names: unknown bits in hex, 0 as 0 (the module says EINVAL).
	fresh
	FAKEDEV_REPORT=vmas_seen=0 FAKEDEV_ERRNO=EINVAL MLOCKDEV_REPORT=stderr with_shim "$T/test_prog" lock 0 lock 0x15 > "$WORK/out" 2> "$WORK/err"
	grep -q ': mlockall(0) = -1 EINVAL (Invalid argument)$' "$WORK/err" || fail "$(cat "$WORK/err")" || return 1
	grep -q ': mlockall(MCL_CURRENT|MCL_ONFAULT|0x10) = -1 EINVAL (Invalid argument)$' "$WORK/err" || fail "$(cat "$WORK/err")"
}

# MLOCKDEV_REPORT=FILE: appended there, nothing on stderr; the file is
# opened before main() and again if the program closes it.
t_shim_report_file() {
	need_4k || return 77
	rep=$WORK/report.txt
	echo "earlier line" > "$rep"
	MLOCKDEV_REPORT=$rep with_shim "$T/test_prog" lock 1 closefds unlock > "$WORK/out" 2> "$WORK/err" || return 1
	[ -s "$WORK/err" ] && { fail "stderr: $(cat "$WORK/err")"; return 1; }
	pid=$(sed -n 's/^main pid=//p' "$LOG")
	{
		echo "earlier line"
		echo "mlockdev-report[$pid] test_prog: mlockall(MCL_CURRENT) = 0"
		lock_report
		echo "mlockdev-report[$pid] test_prog: munlockall() = 0"
		unlock_report
	} > "$WORK/want"
	diff -u "$WORK/want" "$rep" || fail "report file differs" || return 1
	# A new file is the user's only.
	rm -f "$rep"
	MLOCKDEV_REPORT=$rep with_shim "$T/test_prog" lock 1 > "$WORK/out" 2> "$WORK/err" || return 1
	[ "$(stat -c %a "$rep")" = 600 ] || fail "mode $(stat -c %a "$rep")" || return 1
	# Cannot be opened: the program does not run.
	fresh
	MLOCKDEV_REPORT=$WORK/no/such/dir/report with_shim "$T/test_prog" lock 1 > "$WORK/out" 2> "$WORK/err"
	rc=$?
	[ $rc -eq 125 ] || fail "exit $rc, want 125" || return 1
	grep -q "MLOCKDEV_REPORT=$WORK/no/such/dir/report: cannot open it for appending: No such file or directory" "$WORK/err" || fail "stderr: $(cat "$WORK/err")" || return 1
	[ "$(loglines '^main ')" = 0 ] || fail "main() ran"
}

# MLOCKDEV_MODE and MLOCKDEV_WORKERS reach the module; STRICT and workers
# only on locks.  Without MLOCKDEV_REPORT, no report.
t_shim_mode_workers() {
	for c in strict:0x1:0x0:'[strict]' openbsd:0x2:0x2:'[openbsd]' \
	    strict,openbsd:0x3:0x2:'[strict, openbsd]' openbsd,strict:0x3:0x2:'[strict, openbsd]'; do
		IFS=: read -r spec lmode umode tag <<-EOF2
		$c
		EOF2
		fresh
		MLOCKDEV_MODE=$spec with_shim "$T/test_prog" lock 3 unlock > "$WORK/out" 2> "$WORK/err" || fail "$spec: exit $?" || return 1
		[ -s "$WORK/err" ] && { fail "$spec: stderr without MLOCKDEV_REPORT: $(cat "$WORK/err")"; return 1; }
		[ "$(loglines "req=LOCK_ALL_EX .* mode=$lmode .*ret=0")" = 1 ] || fail "$spec: lock mode, want $lmode" || return 1
		[ "$(loglines "req=UNLOCK_ALL_EX .* mode=$umode .*ret=0")" = 1 ] || fail "$spec: unlock mode, want $umode" || return 1
		fresh
		MLOCKDEV_MODE=$spec MLOCKDEV_REPORT=stderr with_shim "$T/test_prog" lock 3 unlock > "$WORK/out" 2> "$WORK/err" || return 1
		grep -qF ": mlockall(MCL_CURRENT|MCL_FUTURE) $tag = 0" "$WORK/err" || fail "$spec: header: $(head -n 1 "$WORK/err")" || return 1
		case $spec in
		*openbsd*) grep -q ': munlockall() \[openbsd\] = 0$' "$WORK/err" ;;
		*) grep -q ': munlockall() = 0$' "$WORK/err" ;;
		esac || fail "$spec: unlock header: $(grep munlockall "$WORK/err")" || return 1
	done
	for c in 2:2:'[workers 2]' auto:4294967295:'[workers auto]' 0:0:''; do
		IFS=: read -r spec nworkers tag <<-EOF2
		$c
		EOF2
		fresh
		MLOCKDEV_WORKERS=$spec MLOCKDEV_REPORT=stderr with_shim "$T/test_prog" lock 1 unlock > "$WORK/out" 2> "$WORK/err" || return 1
		[ "$(loglines "req=LOCK_ALL_EX .* workers=$nworkers reserved=0 ret=0")" = 1 ] || fail "workers $spec" || return 1
		[ "$(loglines "req=UNLOCK_ALL_EX .* workers=0 reserved=0 ret=0")" = 1 ] || fail "workers $spec: unlock" || return 1
		grep -qF ": mlockall(MCL_CURRENT)${tag:+ $tag} = 0" "$WORK/err" || fail "workers $spec: $(head -n 1 "$WORK/err")" || return 1
	done
	# Empty values are no values: the plain calls.
	fresh
	MLOCKDEV_MODE='' MLOCKDEV_WORKERS='' MLOCKDEV_REPORT='' with_shim "$T/test_prog" lock 1 > "$WORK/out" 2> "$WORK/err" || return 1
	[ "$(loglines 'req=LOCK_ALL ')" = 1 ] || fail "empty values: no LOCK_ALL" || return 1
	[ "$(loglines 'req=LOCK_ALL_EX')" = 0 ] || fail "empty values: LOCK_ALL_EX"
}

t_shim_mode_invalid() {
	for v in MLOCKDEV_MODE=bogus 'MLOCKDEV_MODE=strict,' MLOCKDEV_MODE=STRICT \
	    MLOCKDEV_MODE=linux MLOCKDEV_MODE=,openbsd MLOCKDEV_WORKERS=-1 \
	    MLOCKDEV_WORKERS=x MLOCKDEV_WORKERS=4294967295 MLOCKDEV_WORKERS=2x \
	    MLOCKDEV_WORKERS=' 2'; do
		fresh
		env "$v" LD_PRELOAD="$SHIM:$FAKE" MLOCKDEV_DEVICE="$DEV" FAKEDEV_PATH="$DEV" FAKEDEV_LOG="$LOG" \
			"$T/test_prog" lock 1 > "$WORK/out" 2> "$WORK/err"
		rc=$?
		[ $rc -eq 125 ] || fail "$v: exit $rc, want 125" || return 1
		grep -q "invalid ${v%%=*}='${v#*=}'" "$WORK/err" || fail "$v: stderr: $(cat "$WORK/err")" || return 1
		[ "$(loglines '^main ')" = 0 ] || fail "$v: main() ran" || return 1
	done
}

# A strict call that failed: the program gets the module's error, the
# report the failed VMA.  A call refused before it started: no figures.
t_shim_report_failure() {
	MLOCKDEV_MODE=strict MLOCKDEV_REPORT=stderr FAKEDEV_ERRNO=EFAULT \
		FAKEDEV_REPORT=failed_vma_start=0x7f0000001000,failed_vma_end=0x7f0000005000,populate_errors=1,populate_first_errno=-14,populate_first_addr=0x7f0000002000,locked_vm_after=0 \
		with_shim "$T/test_prog" lock 3 > "$WORK/out" 2> "$WORK/err" || return 1
	grep -qx 'mlockall(0x3) = -1 errno=EFAULT' "$WORK/out" || fail "$(cat "$WORK/out")" || return 1
	grep -q ': mlockall(MCL_CURRENT|MCL_FUTURE) \[strict\] = -1 EFAULT (Bad address)$' "$WORK/err" || fail "$(cat "$WORK/err")" || return 1
	grep -qx '  populate errors: 1, the first EFAULT (Bad address) at 0x7f0000002000' "$WORK/err" || fail "$(cat "$WORK/err")" || return 1
	grep -qx '  failed VMA: 0x7f0000001000-0x7f0000005000 could not be made resident; the call was undone' "$WORK/err" || fail "$(cat "$WORK/err")" || return 1
	fresh
	MLOCKDEV_REPORT=stderr FAKEDEV_EX_EARLY_ERRNO=EPERM with_shim "$T/test_prog" lock 1 > "$WORK/out" 2> "$WORK/err" || return 1
	grep -qx 'mlockall(0x1) = -1 errno=EPERM' "$WORK/out" || fail "$(cat "$WORK/out")" || return 1
	grep -q ': mlockall(MCL_CURRENT) = -1 EPERM (Operation not permitted)$' "$WORK/err" || fail "$(cat "$WORK/err")" || return 1
	grep -qx '  no figures: the module refused the call before it looked at the address space' "$WORK/err" || fail "$(cat "$WORK/err")" || return 1
	[ "$(wc -l < "$WORK/err")" = 2 ] || fail "$(cat "$WORK/err")"
}

# The device declines the process (EACCES): the system call, as before,
# and a report that says so.
t_shim_report_eacces() {
	FAKEDEV_ERRNO=EACCES MLOCKDEV_REPORT=stderr with_shim "$T/test_prog" lock 3 unlock > "$WORK/out" 2> "$WORK/err" || return 1
	grep -qx 'mlockall(0x3) = 0 errno=SENTINEL' "$WORK/out" || fail "$(cat "$WORK/out")" || return 1
	[ "$(loglines '^syscall .*nr=mlockall flags=0x3 ret=0')" = 1 ] || fail "no system call" || return 1
	[ "$(loglines '^syscall .*nr=munlockall ret=0')" = 1 ] || fail "no system call" || return 1
	grep -q ': mlockall(MCL_CURRENT|MCL_FUTURE) = 0$' "$WORK/err" || fail "$(cat "$WORK/err")" || return 1
	grep -q ': munlockall() = 0$' "$WORK/err" || fail "$(cat "$WORK/err")" || return 1
	[ "$(grep -c '^  no figures: the device declined this process (EACCES: it is under a seccomp filter), so the shim made the system call$' "$WORK/err")" = 2 ] ||
		fail "$(cat "$WORK/err")" || return 1
	fresh
	FAKEDEV_ERRNO=EACCES FAKEDEV_SYSCALL_ERRNO=EPERM MLOCKDEV_MODE=openbsd MLOCKDEV_REPORT=stderr with_shim "$T/test_prog" lock 3 > "$WORK/out" 2> "$WORK/err" || return 1
	grep -qx 'mlockall(0x3) = -1 errno=EPERM' "$WORK/out" || fail "$(cat "$WORK/out")" || return 1
	# The system call had no mode: the header does not claim one.
	grep -q ': mlockall(MCL_CURRENT|MCL_FUTURE) = -1 EPERM (Operation not permitted)$' "$WORK/err" || fail "$(cat "$WORK/err")" || return 1
	grep -q 'system call, without MLOCKDEV_MODE and MLOCKDEV_WORKERS$' "$WORK/err" || fail "$(cat "$WORK/err")"
}

# MLOCKDEV_LOCK with a report: the constructor's lock is reported too.
t_shim_report_lock_env() {
	MLOCKDEV_LOCK=current,future MLOCKDEV_REPORT=stderr with_shim "$T/test_prog" > "$WORK/out" 2> "$WORK/err" || return 1
	grep -q '^mlockdev-report\[[0-9]*\] test_prog: mlockall(MCL_CURRENT|MCL_FUTURE) before main(), for MLOCKDEV_LOCK = 0$' "$WORK/err" ||
		fail "$(cat "$WORK/err")" || return 1
	lockline=$(grep -n 'req=LOCK_ALL_EX' "$LOG" | head -n 1 | cut -d: -f1)
	mainline=$(grep -n '^main ' "$LOG" | cut -d: -f1)
	[ -n "$lockline" ] || fail "no LOCK_ALL_EX" || return 1
	[ "$lockline" -lt "$mainline" ] || fail "LOCK_ALL_EX after main"
}

# An ABI 1.0 module cannot honour the variables: say so before main().
t_shim_ex_old_module() {
	FAKEDEV_FEATURES=0xf MLOCKDEV_REPORT=stderr with_shim "$T/test_prog" lock 1 > "$WORK/out" 2> "$WORK/err"
	rc=$?
	[ $rc -eq 125 ] || fail "exit $rc, want 125" || return 1
	grep -q 'the loaded mlockdev (ABI 1\.[0-9], built for 6.12.0-fake) lacks features 0x30 that MLOCKDEV_REPORT, MLOCKDEV_MODE or MLOCKDEV_WORKERS need (it has 0xf): load a build of ABI 1.1 or later' "$WORK/err" ||
		fail "stderr: $(cat "$WORK/err")" || return 1
	[ "$(loglines '^main ')" = 0 ] || fail "main() ran" || return 1
	# A module with the calls but not strict mode.
	fresh
	FAKEDEV_FEATURES=0x3bf MLOCKDEV_MODE=strict with_shim "$T/test_prog" lock 1 > "$WORK/out" 2> "$WORK/err"
	[ $? -eq 125 ] && grep -q 'lacks features 0x40 ' "$WORK/err" || fail "strict: $(cat "$WORK/err")" || return 1
	# No variables: an ABI 1.0 module is fine, and is not asked.
	fresh
	FAKEDEV_FEATURES=0xf with_shim "$T/test_prog" lock 1 > "$WORK/out" 2> "$WORK/err" || return 1
	[ "$(loglines 'req=VERSION')" = 0 ] || fail "VERSION asked"
}

# Real, unmodified Debian programs that call mlockall: their calls reach
# the device through the shim (the in-VM tests check the effect).
real_prog() {
	command -v "$1" > /dev/null 2>&1 || { skip_reason="$1 not installed"; return 77; }
	shift 0
	with_shim timeout 60 "$@" > "$WORK/out" 2>&1 || fail "$*: exit $?: $(cat "$WORK/out")" || return 1
	[ "$(loglines 'req=LOCK_ALL .* flags=0x3 .*ret=0')" = 1 ] || fail "no LOCK_ALL 0x3" || return 1
	[ "$(loglines 'req=UNLOCK_ALL .*ret=0')" = 1 ] || fail "no UNLOCK_ALL"
}
t_cyclictest() { real_prog cyclictest -m -l 5 -i 1000 -q; }
t_signaltest() { real_prog signaltest -m -l 5 -q; }

# --- the static --wrap path ------------------------------------------------

t_wrap_static() {
	if readelf -l "$T/test_wrap_static" | grep -q INTERP; then
		fail "test_wrap_static is not static"; return 1
	fi
	"$T/test_wrap_static" || return 1
	"$T/test_wrap_static" nodev
}

# --- install, pkg-config, man pages ----------------------------------------

t_install() {
	st=$WORK/stage
	make -s -C "$SRCDIR" O="$O" install PREFIX=/usr DESTDIR="$st" > "$WORK/out" 2>&1 ||
		fail "install: $(cat "$WORK/out")" || return 1
	for f in usr/lib/libmlockdev.so.1.1.0 usr/lib/libmlockdev.so.1 \
	    usr/lib/libmlockdev.so usr/lib/libmlockdev.a \
	    usr/lib/mlockdev/libmlockdev-preload.so usr/lib/pkgconfig/mlockdev.pc \
	    usr/include/mlockdev/mlockdev.h \
	    usr/include/mlockdev/uapi/linux/mlockdev.h \
	    usr/share/man/man3/libmlockdev.3 usr/share/man/man3/mlockdev_lockall.3 \
	    usr/share/man/man3/mlockdev_lockall_ex.3 usr/share/man/man3/mlockdev_report_format.3; do
		[ -e "$st/$f" ] || fail "missing $f" || return 1
	done
	grep -qx 'libdir=/usr/lib' "$st/usr/lib/pkgconfig/mlockdev.pc" || fail "pc libdir" || return 1
	# Build a user program the documented way, against the staged tree.
	cat > "$WORK/user.c" <<-'EOC'
	#include <mlockdev/mlockdev.h>
	#include <stdio.h>
	int main(void)
	{
		struct mlockdev_options opts = { .mode = MLOCKDEV_LOCK_STRICT };
		struct mlockdev_report report;
		struct mlockdev_info info;
		char text[1024];

		if (mlockdev_query(&info) || mlockdev_lockall(MCL_CURRENT | MCL_FUTURE) ||
		    mlockdev_unlockall()) {
			perror("mlockdev");
			return 1;
		}
		printf("ABI %u.%u\n", info.abi_major, info.abi_minor);
		if (mlockdev_supports(MLOCKDEV_FEAT_LOCK_ALL_EX | MLOCKDEV_FEAT_STRICT) != 1 ||
		    mlockdev_lockall_ex(MCL_CURRENT, &opts, &report)) {
			perror("mlockdev_lockall_ex");
			return 1;
		}
		mlockdev_report_format(&report, text, sizeof(text));
		fputs(text, stdout);
		return 0;
	}
	EOC
	flags=$(PKG_CONFIG_SYSROOT_DIR=$st PKG_CONFIG_LIBDIR=$st/usr/lib/pkgconfig \
		pkg-config --cflags --libs mlockdev) || fail "pkg-config" || return 1
	# shellcheck disable=SC2086
	${CC:-cc} -Wall -Wextra -Werror -o "$WORK/user" "$WORK/user.c" $flags ||
		fail "compile with: $flags" || return 1
	LD_LIBRARY_PATH=$st/usr/lib with_fake "$WORK/user" > "$WORK/out" || fail "run" || return 1
	grep -qx 'ABI 1.1' "$WORK/out" || fail "output: $(cat "$WORK/out")" || return 1
	grep -q '^  VMAs: 12 seen, 10 changed, 2 skipped (special 2)$' "$WORK/out" || fail "output: $(cat "$WORK/out")" || return 1
	[ "$(loglines 'req=LOCK_ALL ')" = 1 ] || fail "no LOCK_ALL" || return 1
	[ "$(loglines 'req=LOCK_ALL_EX .*mode=0x1 ')" = 1 ] || fail "no LOCK_ALL_EX" || return 1
	# The documented static recipe: plain mlockall(), --wrap, -static.
	cat > "$WORK/plain.c" <<-'EOC'
	#include <stdio.h>
	#include <sys/mman.h>
	int main(void)
	{
		if (mlockall(MCL_CURRENT | MCL_FUTURE)) {
			perror("mlockall");
			return 1;
		}
		return munlockall() ? 1 : 0;
	}
	EOC
	# shellcheck disable=SC2086
	${CC:-cc} -Wall -Wextra -Werror -static -o "$WORK/plain" "$WORK/plain.c" \
		-Wl,--wrap=mlockall -Wl,--wrap=munlockall $flags ||
		fail "static link with: $flags" || return 1
	# With no device it fails with ENODEV: the call went to the library.
	if MLOCKDEV_DEVICE=$WORK/nonexistent "$WORK/plain" 2> "$WORK/err"; then
		fail "no device, yet success"
		return 1
	fi
	grep -q 'mlockall: No such device' "$WORK/err" || fail "stderr: $(cat "$WORK/err")"
}

t_manpages() {
	for m in "$SRCDIR"/man/*.3; do
		# A ".so man3/X" link page: its target must be here.
		if head -n 1 "$m" | grep -q '^\.so '; then
			target=$(head -n 1 "$m" | sed 's|^\.so man3/||')
			[ -f "$SRCDIR/man/$target" ] || fail "$m: no $target" || return 1
			continue
		fi
		out=$(LC_ALL=C.UTF-8 groff -man -ww -z "$m" 2>&1)
		[ -z "$out" ] || fail "$m: $out" || return 1
	done
}

echo "TAP version 13"
run_test lib-success-errno-request t_success
run_test lib-flags-unchanged t_flags
run_test lib-errno-propagation t_errors
run_test lib-open-once-racing-threads t_race
run_test lib-nodev-enodev-not-cached t_nodev
run_test lib-open-error-passthrough t_isdir
run_test lib-fork-child-uses-inherited-fd t_fork
run_test lib-fork-while-opening t_fork_race
run_test lib-cloexec-across-exec t_exec
run_test lib-reopen-closed-or-reused-fd t_reopen
run_test lib-parse-lock-spec t_parse
run_test lib-ex-success-options-report t_ex_success
run_test lib-ex-invalid-options t_ex_invalid
run_test lib-ex-errors-and-report t_ex_errors
run_test lib-ex-pidfd t_ex_pidfd
run_test lib-ex-abi-1.0-module t_ex_old_module
run_test lib-report-format t_report_format
run_test exports-and-soname t_exports
run_test shim-routes-calls t_shim_calls
run_test shim-control-without-shim t_noshim_control
run_test shim-errno-propagation t_shim_errno
run_test shim-nodev t_shim_nodev
run_test shim-opens-device-before-main t_shim_eager_open
run_test shim-keeps-device-across-privilege-drop t_shim_privilege_drop
run_test shim-open-fails-lazy-open-same-errors t_shim_open_fails
run_test shim-eacces-falls-back-to-syscall t_shim_eacces_fallback
run_test shim-eacces-fallback-debug t_shim_eacces_debug
run_test shim-lock-env-eacces-falls-back t_shim_lock_env_eacces
run_test shim-lock-env-before-main t_shim_lock_env
run_test shim-lock-env-empty t_shim_lock_env_empty
run_test shim-lock-env-invalid t_shim_lock_env_bad
run_test shim-lock-env-lock-fails t_shim_lock_env_fails
run_test shim-debug t_shim_debug
run_test shim-report-stderr t_shim_report_stderr
run_test shim-report-file t_shim_report_file
run_test shim-mode-and-workers t_shim_mode_workers
run_test shim-mode-workers-invalid t_shim_mode_invalid
run_test shim-report-failure t_shim_report_failure
run_test shim-report-eacces-fallback t_shim_report_eacces
run_test shim-report-lock-env t_shim_report_lock_env
run_test shim-ex-needs-abi-1.1 t_shim_ex_old_module
run_test shim-cyclictest t_cyclictest
run_test shim-signaltest t_signaltest
run_test wrap-static t_wrap_static
run_test install-pkgconfig t_install
run_test manpages t_manpages
echo "1..$n"
cat "$results"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
