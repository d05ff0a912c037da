#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Host tests of mlockdevctl: argument parsing, --help everywhere, usage
# errors, "run" against a fake device (libfakedev.so from libmlockdev's
# tests), "status --json", and "load"/"unload" with the module syscalls
# faked (libfakekmod.so).  No module, no VM; nothing reaches the kernel's
# module loader.  Prints TAP and "N passed, N failed"; exits 1 on failure.
#
#   O=build LIBO=../libmlockdev/build SRCDIR=. sh tests/cli-tests.sh [GLOB]
set -u
# A script for the child shell: print the LD_PRELOAD it was given.
# shellcheck disable=SC2016
SHOW_PRELOAD='printf "%s\n" "$LD_PRELOAD"'

: "${O:?}" "${LIBO:?}" "${SRCDIR:?}"
CTL=$O/mlockdevctl
T=$O/tests
FAKEDEV=$LIBO/tests/libfakedev.so
FAKEKMOD=$T/libfakekmod.so
PROG=$LIBO/tests/test_prog
PROBE=$T/mlockall-probe
SHIM=$(realpath "$LIBO/libmlockdev-preload.so")
ONLY=${1:-*}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mlockdevctl-check.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT INT TERM
DEV=$WORK/dev
LOG=$WORK/log
OUT=$WORK/out
ERR=$WORK/err

n=0 passed=0 failed=0 skipped=0
results=$WORK/results
: > "$results"

run_test() {
	# shellcheck disable=SC2254
	case $1 in $ONLY) ;; *) return ;; esac
	n=$((n + 1))
	rm -f "$LOG" "$OUT" "$ERR"
	: > "$DEV"
	skip_reason=
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
		echo "not ok $n $1" >> "$results"
	fi
}

fail() { echo "FAIL: $*"; [ -f "$ERR" ] && sed 's/^/stderr: /' "$ERR"; return 1; }

# ctl ARGS...: run mlockdevctl, stdout to $OUT, stderr to $ERR; sets $rc.
ctl() {
	"$CTL" "$@" > "$OUT" 2> "$ERR"
	rc=$?
}

# Against the fake device, with the fake's log.
ctl_fake() {
	MLOCKDEV_DEVICE=$DEV FAKEDEV_PATH=$DEV FAKEDEV_LOG=$LOG \
		LD_PRELOAD=$FAKEDEV "$CTL" "$@" > "$OUT" 2> "$ERR"
	rc=$?
}

# With the kernel's module syscalls faked.
ctl_kmod() {
	LD_PRELOAD=$FAKEKMOD FAKEKMOD_LOG=$LOG "$CTL" "$@" > "$OUT" 2> "$ERR"
	rc=$?
}

expect_rc() { [ "$rc" -eq "$1" ] || fail "exit status $rc, want $1"; }
expect_err() { grep -q -e "$1" "$ERR" || fail "stderr lacks '$1'"; }
expect_out() { grep -q -e "$1" "$OUT" || fail "stdout lacks '$1': $(cat "$OUT")"; }

t_kmoderr_unit() {
	"$T/test_kmoderr"
}

t_help() {
	for args in "--help" "-h" "help" "help help" "help --help"; do
		# shellcheck disable=SC2086
		ctl $args
		expect_rc 0 || return 1
		grep -q '^Usage: mlockdevctl' "$OUT" || fail "$args: $(head -n 1 "$OUT")" || return 1
		[ -s "$ERR" ] && { fail "$args: stderr"; return 1; }
	done
	for c in load unload status run lock unlock help; do
		for args in "$c --help" "$c -h" "help $c"; do
			# shellcheck disable=SC2086
			ctl $args
			expect_rc 0 || return 1
			grep -q "^Usage: mlockdevctl $c" "$OUT" || fail "$args: $(head -n 1 "$OUT")" || return 1
		done
	done
	# --help wins over everything else on the line, before any action.
	MLOCKDEV_DEVICE=/nonexistent ctl run --help -- true
	expect_rc 0 && expect_out '^Usage: mlockdevctl run'
}

t_version() {
	ctl --version
	expect_rc 0 && expect_out '^mlockdevctl [0-9][0-9.]* (ABI 1\.'
}

t_usage_errors() {
	while IFS='|' read -r args want; do
		# shellcheck disable=SC2086
		ctl $args
		[ "$rc" -eq 2 ] || fail "'$args': exit $rc, want 2" || return 1
		grep -q "^mlockdevctl: error: .*$want" "$ERR" || fail "'$args': no '$want'" || return 1
		grep -q "^Try 'mlockdevctl.*--help'" "$ERR" || fail "'$args': no --help hint" || return 1
		[ -s "$OUT" ] && { fail "'$args': wrote to stdout"; return 1; }
	done <<-'EOF2'
	|no command given
	bogus|unknown command 'bogus'
	--bogus|invalid option '--bogus'
	-x status|invalid option '-x'
	status --bogus|invalid option '--bogus'
	status extra|unexpected argument 'extra'
	load --bogus|invalid option '--bogus'
	load ./x.ko notaparam|'notaparam' is not PARAM=VALUE
	load ./x.ko =1|'=1' is not PARAM=VALUE
	unload a b|too many arguments
	unload --bogus|invalid option
	run|no command given
	run --|no command given
	run --lock|option '--lock' needs an argument
	run --lock bogus -- true|invalid --lock 'bogus'
	run --lock onfault -- true|invalid --lock 'onfault'
	run --lock current, -- true|invalid --lock
	run --bogus -- true|invalid option '--bogus'
	help bogus|unknown command 'bogus'
	help load run|too many arguments
	run --report-file|option '--report-file' needs an argument
	run --semantics bsd -- true|invalid --semantics 'bsd': expected linux or openbsd
	run --workers -1 -- true|invalid --workers '-1': expected a number of threads or auto
	run --workers many -- true|invalid --workers 'many'
	run --workers 4294967295 -- true|invalid --workers '4294967295'
	lock|no process ID given (lock PID)
	unlock|no process ID given (unlock PID; to unload the module: mlockdevctl unload)
	lock x|'x' is not a process ID
	lock 0|'0' is not a process ID
	lock -- -5|'-5' is not a process ID
	lock 1x|'1x' is not a process ID
	lock 99999999999|'99999999999' is not a process ID
	lock 1 2|one process ID at a time ('2' is one too many)
	lock 1 --onfault|--onfault needs --current or --future
	lock 1 --bogus|invalid option '--bogus'
	lock 1 --semantics bsd|invalid --semantics 'bsd'
	lock 1 --workers x|invalid --workers 'x'
	unlock 1 --strict|invalid option '--strict'
	unlock 1 --current|invalid option '--current'
	unlock 1 --workers 2|invalid option '--workers'
	EOF2
	return 0
}

t_run_no_device() {
	MLOCKDEV_DEVICE=$WORK/nonexistent ctl run -- true
	expect_rc 1 || return 1
	expect_err "^mlockdevctl: error: mlockdev is not loaded: run 'mlockdevctl load'"
}

# The device exists but this user cannot open it: say why and what to do,
# before anything runs.  As root, the real thing, as nobody (the probe
# drops privileges and execs mlockdevctl); as another user, the fake
# device refuses the open.
t_run_cannot_open() {
	if [ "$(id -u)" != 0 ]; then
		me=$(id -un)
		chmod 0600 "$DEV"
		FAKEDEV_OPEN_ERRNO=EACCES ctl_fake run -- "$PROG" lock 1
		expect_rc 1 || return 1
		expect_err "^mlockdevctl: error: $DEV is $me's only (mode 0600): run as $me, or have root reload the module with mode=0666" || return 1
		[ ! -s "$OUT" ] || fail "the program ran: $(cat "$OUT")"
		return
	fi
	# Let nobody reach $DEV (mktemp -d made $WORK 0700).
	chmod 0755 "$WORK"
	chmod 0600 "$DEV"
	MLOCKDEV_DEVICE=$DEV "$PROBE" nobody exec "$CTL" run -- "$PROG" lock 1 > "$OUT" 2> "$ERR"
	rc=$?
	if [ $rc -eq 126 ] || [ $rc -eq 127 ]; then
		skip_reason="nobody cannot run $CTL ($(cat "$ERR"))"
		return 77
	fi
	expect_rc 1 || return 1
	expect_err "^mlockdevctl: error: $DEV is root's only (mode 0600): run as root, or have root reload the module with mode=0666 to let every user in (mlockdevctl unload; mlockdevctl load PATH.ko mode=0666), or with mode=0660 and a udev rule that gives the node a group$" || return 1
	[ ! -s "$OUT" ] || fail "the program ran: $(cat "$OUT")" || return 1
	chmod 0660 "$DEV"
	MLOCKDEV_DEVICE=$DEV "$PROBE" nobody exec "$CTL" run -- "$PROG" lock 1 > "$OUT" 2> "$ERR"
	rc=$?
	expect_rc 1 || return 1
	expect_err "^mlockdevctl: error: $DEV is open to root and the group $(id -gn) only (mode 0660), and you are not in that group: run as root, join the group" || return 1
	# Root refused (a security module; here the fake): no advice to be root.
	FAKEDEV_OPEN_ERRNO=EACCES ctl_fake run -- "$PROG" lock 1
	expect_rc 1 || return 1
	expect_err "^mlockdevctl: error: cannot open $DEV read-write: Permission denied, although you are root"
}

# mlockdevctl itself is under a seccomp filter, which the command inherits:
# a warning, and the shim's system call does the work.
t_run_seccomp_warning() {
	mkdir -p "$WORK/params"
	echo 384 > "$WORK/params/mode"
	echo N > "$WORK/params/allow_seccomp"
	MLOCKDEV_PARAMS_DIR=$WORK/params MLOCKDEV_DEVICE=$DEV FAKEDEV_PATH=$DEV \
		FAKEDEV_LOG=$LOG FAKEDEV_ERRNO=EACCES LD_PRELOAD=$FAKEDEV \
		"$PROBE" filter allow exec "$CTL" run -- "$PROG" lock 1 > "$OUT" 2> "$ERR"
	rc=$?
	expect_rc 0 || return 1
	expect_err "^mlockdevctl: warning: this process is under a seccomp filter, which '$PROG' inherits, and mlockdev declines such callers (allow_seccomp=N)" || return 1
	expect_out '^mlockall(0x1) = 0 errno=SENTINEL$' || return 1
	grep -q '^syscall pid=[0-9]* nr=mlockall flags=0x1 ret=0' "$LOG" || fail "no system call: $(cat "$LOG")" || return 1
	# No filter, or filtered callers allowed: no warning.
	MLOCKDEV_PARAMS_DIR=$WORK/params ctl_fake run -- "$PROG" lock 1
	expect_rc 0 || return 1
	[ ! -s "$ERR" ] || fail "stderr without a filter" || return 1
	echo Y > "$WORK/params/allow_seccomp"
	MLOCKDEV_PARAMS_DIR=$WORK/params MLOCKDEV_DEVICE=$DEV FAKEDEV_PATH=$DEV \
		LD_PRELOAD=$FAKEDEV "$PROBE" filter allow exec "$CTL" run -- "$PROG" lock 1 > "$OUT" 2> "$ERR"
	rc=$?
	expect_rc 0 || return 1
	[ ! -s "$ERR" ] || fail "warning with allow_seccomp=Y"
}

t_run_no_lock_feature() {
	FAKEDEV_FEATURES=0x1 ctl_fake run -- true
	expect_rc 1 && expect_err 'does not implement LOCK_ALL/UNLOCK_ALL'
}

t_run_routes_calls() {
	ctl_fake run -- "$PROG" lock 3 unlock
	expect_rc 0 || return 1
	expect_out '^mlockall(0x3) = 0 errno=SENTINEL$' || return 1
	expect_out '^munlockall() = 0 errno=SENTINEL$' || return 1
	pid=$(sed -n 's/^main pid=//p' "$LOG")
	grep -q "^ioctl pid=$pid .*req=LOCK_ALL .* flags=0x3 " "$LOG" || fail "no LOCK_ALL from $pid" || return 1
	grep -q "^ioctl pid=$pid .*req=UNLOCK_ALL " "$LOG" || fail "no UNLOCK_ALL"
}

t_run_lock() {
	for pair in current:0x1 current,future:0x3 future,onfault:0x6 current,future,onfault:0x7; do
		rm -f "$LOG"
		ctl_fake run --lock "${pair%%:*}" -- "$PROG" fds
		expect_rc 0 || return 1
		# The shim keeps the descriptor it opened before main().
		expect_out '^fds=1$' || return 1
		pid=$(sed -n 's/^main pid=//p' "$LOG")
		first=$(sed -n '/req=LOCK_ALL/{=;q}' "$LOG")
		main=$(sed -n '/^main /{=;q}' "$LOG")
		grep -q "^ioctl pid=$pid .*req=LOCK_ALL .* flags=${pair#*:} " "$LOG" ||
			fail "${pair%%:*}: no LOCK_ALL ${pair#*:} from $pid: $(cat "$LOG")" || return 1
		[ "$first" -lt "$main" ] || fail "lock after main" || return 1
	done
	# Without --lock, an inherited MLOCKDEV_LOCK is dropped.
	rm -f "$LOG"
	MLOCKDEV_LOCK=bogus ctl_fake run -- "$PROG"
	expect_rc 0 || return 1
	! grep -q 'req=LOCK_ALL' "$LOG" || fail "LOCK_ALL without --lock"
}

t_run_debug() {
	ctl_fake run --debug -- "$PROG" lock 1
	expect_rc 0 && expect_err 'mlockdev-preload\[[0-9]*\]: mlockall(0x1) = 0'
}

t_run_exit_status() {
	ctl_fake run -- sh -c 'exit 7'
	expect_rc 7 || return 1
	ctl_fake run -- "$WORK/no-such-program"
	expect_rc 127 || return 1
	expect_err "cannot run '$WORK/no-such-program'" || return 1
	printf 'not executable\n' > "$WORK/noexec"
	chmod 0644 "$WORK/noexec"
	ctl_fake run -- "$WORK/noexec"
	expect_rc 126
}

t_run_ld_preload() {
	# Prepended to an existing LD_PRELOAD, in front ...
	ctl_fake run -- sh -c "$SHOW_PRELOAD"
	expect_rc 0 || return 1
	[ "$(cat "$OUT")" = "$SHIM:$FAKEDEV" ] || fail "LD_PRELOAD='$(cat "$OUT")'" || return 1
	# ... and not twice.
	MLOCKDEV_DEVICE=$DEV FAKEDEV_PATH=$DEV LD_PRELOAD="$FAKEDEV:$SHIM" \
		"$CTL" run -- sh -c "$SHOW_PRELOAD" > "$OUT" 2> "$ERR"
	[ "$(cat "$OUT")" = "$FAKEDEV:$SHIM" ] || fail "LD_PRELOAD='$(cat "$OUT")'"
}

t_run_preload_option() {
	cp "$SHIM" "$WORK/copy-preload.so"
	ctl_fake run --preload "$WORK/copy-preload.so" -- sh -c "$SHOW_PRELOAD"
	expect_rc 0 || return 1
	grep -q "^$WORK/copy-preload.so:" "$OUT" || fail "option: $(cat "$OUT")" || return 1
	MLOCKDEV_PRELOAD=$WORK/copy-preload.so ctl_fake run -- sh -c "$SHOW_PRELOAD"
	grep -q "^$WORK/copy-preload.so:" "$OUT" || fail "env: $(cat "$OUT")" || return 1
	ctl_fake run --preload "$WORK/missing.so" -- true
	expect_rc 1 && expect_err "preload shim $WORK/missing.so"
}

# --- run with the module's extensible calls ------------------------------------

# run --report: the shim's reports on stderr, LOCK_ALL_EX with mode 0.
t_run_report() {
	ctl_fake run --report -- "$PROG" lock 3 unlock
	expect_rc 0 || return 1
	expect_out '^mlockall(0x3) = 0 errno=SENTINEL$' || return 1
	pid=$(sed -n 's/^main pid=//p' "$LOG")
	expect_err "^mlockdev-report\[$pid\] test_prog: mlockall(MCL_CURRENT|MCL_FUTURE) = 0$" || return 1
	expect_err "^mlockdev-report\[$pid\] test_prog: munlockall() = 0$" || return 1
	expect_err '^  VMAs: 12 seen, 10 changed, 2 skipped (special 2)$' || return 1
	[ "$(grep -c '^  VmLck: ' "$ERR")" = 2 ] || fail "two reports wanted" || return 1
	grep -q "^ioctl pid=$pid .*req=LOCK_ALL_EX .* flags=0x3 mode=0x0 pidfd=0 target=0 workers=0 .*ret=0" "$LOG" || fail "no LOCK_ALL_EX" || return 1
	grep -q "^ioctl pid=$pid .*req=UNLOCK_ALL_EX .* mode=0x0 .*ret=0" "$LOG" || fail "no UNLOCK_ALL_EX" || return 1
	! grep -q 'req=LOCK_ALL \|req=UNLOCK_ALL ' "$LOG" || fail "plain calls"
}

# --report-file: made absolute, emptied, appended to by the program.
t_run_report_file() {
	mkdir -p "$WORK/sub"
	echo stale > "$WORK/sub/rep"
	# shellcheck disable=SC2016
	(cd "$WORK/sub" && MLOCKDEV_DEVICE=$DEV FAKEDEV_PATH=$DEV FAKEDEV_LOG=$LOG \
		LD_PRELOAD=$FAKEDEV "$CTL" run --report-file rep -- sh -c \
		'cd / && printf "%s\n" "$MLOCKDEV_REPORT" && exec "$0" lock 1' "$PROG") > "$OUT" 2> "$ERR"
	rc=$?
	expect_rc 0 || return 1
	expect_out "^$WORK/sub/rep\$" || return 1
	[ ! -s "$ERR" ] || fail "stderr" || return 1
	! grep -q stale "$WORK/sub/rep" || fail "not emptied" || return 1
	grep -q ': mlockall(MCL_CURRENT) = 0$' "$WORK/sub/rep" || fail "report: $(cat "$WORK/sub/rep")" || return 1
	# Cannot be written: nothing runs.
	rm -f "$LOG"
	ctl_fake run --report-file "$WORK/nodir/rep" -- "$PROG" lock 1
	expect_rc 1 || return 1
	expect_err "^mlockdevctl: error: cannot write the report file $WORK/nodir/rep: No such file or directory: give a file you can write, or --report for stderr$" || return 1
	[ ! -s "$OUT" ] || fail "the program ran"
	ctl_fake run --report-file '' -- true
	expect_rc 2 && expect_err 'report-file needs a file name'
}

# --strict, --semantics, --workers: the variables, and the mode bits the
# program's calls carry.  Without them, inherited values are dropped.
t_run_modes() {
	# shellcheck disable=SC2016
	show='printf "mode=%s workers=%s report=%s\n" "${MLOCKDEV_MODE-unset}" "${MLOCKDEV_WORKERS-unset}" "${MLOCKDEV_REPORT-unset}"'
	while IFS='|' read -r args env lmode umode workers; do
		rm -f "$LOG"
		# shellcheck disable=SC2086
		ctl_fake run $args -- sh -c "$show; exec \"\$0\" lock 3 unlock" "$PROG"
		expect_rc 0 || return 1
		expect_out "^$env\$" || return 1
		grep -q "req=LOCK_ALL_EX .* mode=$lmode .* workers=$workers reserved=0 ret=0" "$LOG" || fail "$args: lock: $(grep req= "$LOG")" || return 1
		grep -q "req=UNLOCK_ALL_EX .* mode=$umode .* workers=0 reserved=0 ret=0" "$LOG" || fail "$args: unlock: $(grep req= "$LOG")" || return 1
	done <<-'EOF2'
	--strict|mode=strict workers=unset report=unset|0x1|0x0|0
	--semantics openbsd|mode=openbsd workers=unset report=unset|0x2|0x2|0
	--openbsd|mode=openbsd workers=unset report=unset|0x2|0x2|0
	--semantics openbsd --semantics linux --strict|mode=strict workers=unset report=unset|0x1|0x0|0
	--strict --openbsd|mode=strict,openbsd workers=unset report=unset|0x3|0x2|0
	--workers 4|mode=unset workers=4 report=unset|0x0|0x0|4
	--workers auto --report|mode=unset workers=auto report=stderr|0x0|0x0|4294967295
	--workers 0|mode=unset workers=0 report=unset|0x0|0x0|0
	EOF2
	MLOCKDEV_MODE=strict MLOCKDEV_WORKERS=2 MLOCKDEV_REPORT=stderr ctl_fake run -- sh -c "$show"
	expect_rc 0 && expect_out '^mode=unset workers=unset report=unset$'
}

# A module without the calls or modes: say so before anything runs.
t_run_ex_needs_features() {
	FAKEDEV_FEATURES=0xf FAKEDEV_ABI_MINOR=0 ctl_fake run --report -- "$PROG" lock 1
	expect_rc 1 || return 1
	expect_err "^mlockdevctl: error: the loaded mlockdev (ABI 1.0, built for 6.12.0-fake) lacks lock_all_ex, unlock_all_ex, which --report, --strict, --semantics openbsd or --workers needs (the extensible calls LOCK_ALL_EX/UNLOCK_ALL_EX): load a build of ABI 1.1 or later$" || return 1
	[ ! -s "$OUT" ] || fail "the program ran" || return 1
	FAKEDEV_FEATURES=0x3bf ctl_fake run --strict -- "$PROG" lock 1
	expect_rc 1 && expect_err 'lacks strict, which' || return 1
	FAKEDEV_FEATURES=0x37f ctl_fake run --openbsd -- "$PROG" lock 1
	expect_rc 1 && expect_err 'lacks openbsd, which' || return 1
	FAKEDEV_FEATURES=0x1ff ctl_fake run --workers 2 -- "$PROG" lock 1
	expect_rc 1 && expect_err 'lacks workers, which' || return 1
	# Plain run needs none of them.
	FAKEDEV_FEATURES=0xf ctl_fake run -- "$PROG" lock 1
	expect_rc 0
}

# --- lock and unlock another process ----------------------------------------

# start_target [SH-COMMAND]: a sleeping process to lock; its PID in $target.
start_target() {
	sh -c "${1:-exec sleep 300}" &
	target=$!
	# Until it has exec'd sleep (comm "sleep").
	i=0
	while [ "$(cat "/proc/$target/comm" 2>/dev/null)" != sleep ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}
stop_target() { kill "$target" 2>/dev/null; wait "$target" 2>/dev/null; return 0; }

t_lock_pid() {
	start_target
	ctl_fake lock "$target"
	expect_rc 0 || { stop_target; return 1; }
	expect_out "^locked process $target (sleep) with MCL_CURRENT|MCL_FUTURE: VmLck 0 kB -> 8592 kB\$" || { stop_target; return 1; }
	grep -q "req=LOCK_ALL_EX .* flags=0x3 mode=0x4 pidfd=[0-9]* target=$target workers=0 reserved=0 ret=0" "$LOG" || { fail "$(grep req= "$LOG")"; stop_target; return 1; }
	while IFS='|' read -r args flags mode workers; do
		rm -f "$LOG"
		# shellcheck disable=SC2086
		ctl_fake lock $args "$target"
		expect_rc 0 || break
		grep -q "req=LOCK_ALL_EX .* flags=$flags mode=$mode pidfd=[0-9]* target=$target workers=$workers reserved=0 ret=0" "$LOG" ||
			{ fail "$args: $(grep req= "$LOG")"; break; }
	done <<-'EOF2'
	--current|0x1|0x4|0
	--future|0x2|0x4|0
	--current --onfault|0x5|0x4|0
	--future --onfault --current|0x7|0x4|0
	--strict|0x3|0x5|0
	--openbsd|0x3|0x6|0
	--semantics openbsd --strict --workers 2|0x3|0x7|2
	--workers auto --current|0x1|0x4|4294967295
	EOF2
	[ "$rc" -eq 0 ] || { stop_target; return 1; }
	rm -f "$LOG"
	ctl_fake unlock "$target"
	expect_rc 0 || { stop_target; return 1; }
	expect_out "^unlocked process $target (sleep): VmLck 8592 kB -> 0 kB\$" || { stop_target; return 1; }
	grep -q "req=UNLOCK_ALL_EX .* flags=0x0 mode=0x4 pidfd=[0-9]* target=$target workers=0 reserved=0 ret=0" "$LOG" || { fail "$(grep req= "$LOG")"; stop_target; return 1; }
	ctl_fake unlock --openbsd "$target"
	grep -q "req=UNLOCK_ALL_EX .* mode=0x6 " "$LOG" || { fail "unlock --openbsd"; stop_target; return 1; }
	# The pidfd is the program's own: not left open for anyone.
	[ "$(grep -c 'pidfd=3 \|pidfd=4 ' "$LOG")" -ge 1 ] || { fail "pidfd number"; stop_target; return 1; }
	stop_target
}

# --report: the shim's format, the target's PID and name in the header.
t_lock_report() {
	[ "$(getconf PAGESIZE)" = 4096 ] || { skip_reason="4 kB pages assumed"; return 77; }
	start_target
	ctl_fake lock --report --strict --workers 2 "$target"
	expect_rc 0 || { stop_target; return 1; }
	cat > "$WORK/want" <<-EOF2
	mlockdev-report[$target] sleep: mlockall(MCL_CURRENT|MCL_FUTURE) [pidfd, strict, workers 2] = 0
	  VMAs: 12 seen, 10 changed, 2 skipped (special 2)
	  pages: 100 marked, 0 unmarked, 2048 populated
	  populate errors: none
	  VmLck: 0 kB before, 8592 kB after (locked_vm 0 -> 2148 pages)
	  time: lock pass 0.412 ms (page pass 0.051 ms), populate 3.220 ms
	  workers: 1 (the calling thread)
	EOF2
	diff -u "$WORK/want" "$OUT" || { fail "report"; stop_target; return 1; }
	ctl_fake unlock --report "$target"
	expect_rc 0 || { stop_target; return 1; }
	expect_out "^mlockdev-report\[$target\] sleep: munlockall() \[pidfd\] = 0$" || { stop_target; return 1; }
	expect_out '^  VmLck: 8592 kB before, 0 kB after (locked_vm 2148 -> 0 pages)$' || { stop_target; return 1; }
	# A strict failure: the report (with the VMA) and the error.
	FAKEDEV_ERRNO=EFAULT FAKEDEV_REPORT=failed_vma_start=0x7f0000001000,failed_vma_end=0x7f0000005000,locked_vm_after=0 \
		ctl_fake lock --report --strict "$target"
	expect_rc 1 || { stop_target; return 1; }
	expect_out "= -1 EFAULT (Bad address)\$" || { stop_target; return 1; }
	expect_out '^  failed VMA: 0x7f0000001000-0x7f0000005000 could not be made resident; the call was undone$' || { stop_target; return 1; }
	expect_err "^mlockdevctl: error: process $target (sleep): the memory at 0x7f0000001000-0x7f0000005000 could not be made resident (Bad address), so the strict call was undone and nothing changed\$" || { stop_target; return 1; }
	# Refused before it started: no figures.
	FAKEDEV_EX_EARLY_ERRNO=ESRCH ctl_fake lock --report "$target"
	expect_rc 1 || { stop_target; return 1; }
	expect_out '^  no figures: the module refused the call before it looked at the address space$' || { stop_target; return 1; }
	stop_target
}

# Each refusal says why, and what to do.
t_lock_errors() {
	ctl_fake lock 2147483647
	expect_rc 1 && expect_err "^mlockdevctl: error: there is no process 2147483647: it has exited, or is not in your PID namespace\$" || return 1
	start_target
	FAKEDEV_EX_EARLY_ERRNO=ESRCH ctl_fake lock "$target"
	{ expect_rc 1 && expect_err "^mlockdevctl: error: process $target (sleep) has exited, or is exiting, or is not in your PID namespace: nothing to lock\$"; } || { stop_target; return 1; }
	FAKEDEV_ERRNO=EINVAL ctl_fake lock --openbsd --current --onfault "$target"
	{ expect_rc 1 && expect_err "OpenBSD's mlockall(2) takes only MCL_CURRENT and MCL_FUTURE: drop --onfault, or use --semantics linux"; } || { stop_target; return 1; }
	FAKEDEV_EX_EARLY_ERRNO=EACCES ctl_fake lock "$target"
	{ expect_rc 1 && expect_err 'declines callers under a seccomp filter (allow_seccomp=N)'; } || { stop_target; return 1; }
	# ENOMEM with the module's cap set: the cap (as root, CAP_IPC_LOCK).
	mkdir -p "$WORK/capparams"
	echo 512 > "$WORK/capparams/max_locked_mb"
	if [ "$(id -u)" = 0 ]; then
		FAKEDEV_ERRNO=ENOMEM MLOCKDEV_PARAMS_DIR=$WORK/capparams ctl_fake lock "$target"
		{ expect_rc 1 && expect_err "cannot lock process $target (sleep): the module's cap, max_locked_mb=512, would be exceeded"; } || { stop_target; return 1; }
	fi
	stop_target
	# A zombie: exited, not reaped.
	start_target 'sleep 0 & exec sleep 300'
	sleep 0.2
	zombie=$(ps -o pid= -o stat= --ppid "$target" | awk '$2 ~ /^Z/ { print $1; exit }')
	if [ -n "$zombie" ]; then
		FAKEDEV_EX_EARLY_ERRNO=ESRCH ctl_fake lock "$zombie"
		{ expect_rc 1 && expect_err "^mlockdevctl: error: process $zombie ($(cat "/proc/$zombie/comm")) has exited: it is a zombie waiting for its parent to reap it"; } || { stop_target; return 1; }
	fi
	stop_target
	# RLIMIT_MEMLOCK 0: EPERM, and we may ptrace it.
	start_target 'ulimit -l 0 && exec sleep 300'
	if [ "$(awk '/^Max locked memory/ { print $4 }' "/proc/$target/limits")" = 0 ]; then
		FAKEDEV_ERRNO=EPERM ctl_fake lock "$target"
		{ expect_rc 1 && expect_err "^mlockdevctl: error: cannot lock process $target (sleep): its RLIMIT_MEMLOCK is 0 and you lack CAP_IPC_LOCK in its user namespace"; } || { stop_target; return 1; }
		expect_err "prlimit --memlock=unlimited --pid $target" || { stop_target; return 1; }
	fi
	stop_target
	# A kernel thread, if this PID namespace shows one.
	kthread=$(awk '{ sub(/.*\) /, ""); if (int($7 / 2097152) % 2) { print FILENAME } }' /proc/[0-9]*/stat 2>/dev/null | head -n 1 | cut -d/ -f3)
	if [ -n "$kthread" ]; then
		FAKEDEV_EX_EARLY_ERRNO=EINVAL ctl_fake lock "$kthread"
		expect_rc 1 && expect_err "^mlockdevctl: error: process $kthread ($(cat "/proc/$kthread/comm")) is a kernel thread: it has no user memory to lock\$" || return 1
	fi
	# An ABI 1.0 module.
	FAKEDEV_FEATURES=0xf FAKEDEV_ABI_MINOR=0 ctl_fake lock 1
	expect_rc 1 && expect_err "lacks lock_all_ex, unlock_all_ex, pidfd, which lock needs" || return 1
	FAKEDEV_FEATURES=0x2ff ctl_fake unlock 1
	expect_rc 1 && expect_err "lacks pidfd, which unlock needs: load a build of ABI 1.1 or later\$"
}

# As nobody, against a root process: no ptrace right, and Yama named.
# And a node nobody may not open: the usual message, before anything.
t_lock_eperm_nobody() {
	[ "$(id -u)" = 0 ] || { skip_reason="needs root (it drops to nobody)"; return 77; }
	chmod 0755 "$WORK"
	chmod 0666 "$DEV"
	start_target
	MLOCKDEV_DEVICE=$DEV FAKEDEV_PATH=$DEV FAKEDEV_EX_EARLY_ERRNO=EPERM LD_PRELOAD=$FAKEDEV \
		"$PROBE" nobody exec "$CTL" lock "$target" > "$OUT" 2> "$ERR"
	rc=$?
	if [ $rc -eq 126 ] || [ $rc -eq 127 ]; then
		stop_target
		skip_reason="nobody cannot run $CTL ($(cat "$ERR"))"
		return 77
	fi
	expect_rc 1 || { stop_target; return 1; }
	expect_err "^mlockdevctl: error: you may not lock process $target (sleep): that takes the right to ptrace it, as process_vm_writev(2) does, and you do not have it (it runs as uid 0 (root), you are uid 65534 (nobody)): run as root or as its user" || { stop_target; return 1; }
	case $(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null) in
	0) expect_err "(Yama's ptrace_scope is 0: the classic ptrace rules)\$" ;;
	1) expect_err "; Yama's ptrace_scope is 1 (/proc/sys/kernel/yama/ptrace_scope): only its parent" ;;
	2|3) expect_err "; Yama's ptrace_scope is [23] (/proc/sys/kernel/yama/ptrace_scope)" ;;
	*) true ;;
	esac || { stop_target; return 1; }
	chmod 0600 "$DEV"
	MLOCKDEV_DEVICE=$DEV "$PROBE" nobody exec "$CTL" lock "$target" > "$OUT" 2> "$ERR"
	rc=$?
	stop_target
	expect_rc 1 || return 1
	expect_err "^mlockdevctl: error: $DEV is root's only (mode 0600): run as root"
}

json_ok() {
	python3 -m json.tool "$OUT" > /dev/null || fail "invalid JSON: $(cat "$OUT")"
}

# py EXPR: evaluate a Python expression over the JSON in $OUT (as j).
py() {
	python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "$OUT" ||
		fail "JSON check failed: $1: $(cat "$OUT")"
}

t_status_json_not_loaded() {
	[ -e /sys/module/mlockdev ] && { skip_reason="mlockdev is loaded here"; return 77; }
	MLOCKDEV_DEVICE=$WORK/nonexistent MLOCKDEV_SYSFS_DIR=$WORK/nosys \
		MLOCKDEV_PARAMS_DIR=$WORK/noparams ctl status --json
	expect_rc 0 || return 1
	json_ok || return 1
	py 'j["loaded"] is False and j["abi"] is None and j["stats"] is None and j["device"]["exists"] is False and j["module"] == "mlockdev"' || return 1
	py 'j["parameters"] is None'
}

t_status_json_fake() {
	mkdir -p "$WORK/sys/stats"
	i=0
	for c in lock_calls unlock_calls lock_failed unlock_failed failed_efault \
	    failed_einval failed_eperm failed_eintr failed_enomem failed_other \
	    pages_populated pages_mlocked pages_munlocked lock_ns unlock_ns \
	    cap_refused strict_rollbacks; do
		i=$((i + 1))
		echo "$i" > "$WORK/sys/stats/$c"
	done
	echo 18446744073709551615 > "$WORK/sys/stats/lock_ns"
	echo 5 > "$WORK/sys/stats/zz_future_counter"
	echo 'not"a number' > "$WORK/sys/stats/weird"
	MLOCKDEV_SYSFS_DIR=$WORK/sys ctl_fake status --json
	expect_rc 0 || return 1
	json_ok || return 1
	py 'j["abi"]["major"] == 1 and j["abi"]["minor"] == 1 and j["abi"]["kernel_release"] == "6.12.0-fake"' || return 1
	py 'j["abi"]["features"] == ["version", "lock_all", "unlock_all", "stats", "lock_all_ex", "unlock_all_ex", "strict", "openbsd", "pidfd", "workers"]' || return 1
	py 'j["abi"]["features_mask"] == 1023' || return 1
	py 'j["device"]["exists"] and j["device"]["type"] == "regular"' || return 1
	py 'j["stats"]["lock_calls"] == 1 and j["stats"]["unlock_ns"] == 15' || return 1
	py 'j["stats"]["lock_ns"] == 18446744073709551615' || return 1
	py 'j["stats"]["zz_future_counter"] == 5 and j["stats"]["weird"] == "not\"a number"' || return 1
	py 'list(j["stats"])[:2] == ["lock_calls", "unlock_calls"]' || return 1
	# The ABI 1.1 counters in the module's order, before unknown ones.
	py 'list(j["stats"])[-4:] == ["strict_rollbacks", "cap_refused", "weird", "zz_future_counter"]' || return 1
	py 'j["stats"]["cap_refused"] == 16 and j["stats"]["strict_rollbacks"] == 17'
}

t_status_text_fake() {
	mkdir -p "$WORK/sys/stats"
	echo 42 > "$WORK/sys/stats/lock_calls"
	MLOCKDEV_SYSFS_DIR=$WORK/sys ctl_fake status
	expect_rc 0 || return 1
	expect_out '^ABI: *1\.1$' || return 1
	expect_out '^features: *version lock_all unlock_all stats lock_all_ex unlock_all_ex strict openbsd pidfd workers$' || return 1
	expect_out '^built for: *6\.12\.0-fake' || return 1
	expect_out '^  lock_calls *42$' || return 1
	expect_out "^device: *$DEV: regular file"
}

# Who may open the node, whether we can, and the module's mode and
# allow_seccomp parameters.
t_status_access() {
	me=$(id -un)
	mkdir -p "$WORK/params"
	echo 384 > "$WORK/params/mode"
	echo N > "$WORK/params/allow_seccomp"
	chmod 0600 "$DEV"
	MLOCKDEV_PARAMS_DIR=$WORK/params ctl_fake status
	expect_rc 0 || return 1
	expect_out "^access: *$me only (mode 0600); you can open it$" || return 1
	expect_out '^parameters: *mode=0600 allow_seccomp=N$' || return 1
	expect_out '^seccomp: *callers under a seccomp filter are declined (EACCES); the preload shim then makes the system call' || return 1
	MLOCKDEV_PARAMS_DIR=$WORK/params ctl_fake status --json
	json_ok || return 1
	py 'j["parameters"] == {"mode": "0600", "allow_seccomp": False, "max_locked_mb": None, "openbsd_wiredmax_mb": None, "populate_workers": None}' || return 1
	py "j['device']['mode'] == '0600' and j['device']['user'] == '$me' and j['device']['can_open'] is True and j['device']['open_error'] is None" || return 1
	# Refused: the reason, in both forms.
	FAKEDEV_OPEN_ERRNO=EACCES MLOCKDEV_PARAMS_DIR=$WORK/params ctl_fake status
	expect_rc 0 || return 1
	expect_out "^access: *$me only (mode 0600); you cannot: " || return 1
	FAKEDEV_OPEN_ERRNO=EACCES MLOCKDEV_PARAMS_DIR=$WORK/params ctl_fake status --json
	py 'j["device"]["can_open"] is False and j["device"]["open_error"] == "Permission denied"' || return 1
	# Group and world modes; filtered callers allowed.
	chmod 0660 "$DEV"
	echo 432 > "$WORK/params/mode"
	echo Y > "$WORK/params/allow_seccomp"
	MLOCKDEV_PARAMS_DIR=$WORK/params ctl_fake status
	expect_out "^access: *$me and the group $(id -gn) (mode 0660); you can open it$" || return 1
	expect_out '^parameters: *mode=0660 allow_seccomp=Y$' || return 1
	expect_out '^seccomp: *callers under a seccomp filter are served' || return 1
	MLOCKDEV_PARAMS_DIR=$WORK/params ctl_fake status --json
	py 'j["parameters"]["mode"] == "0660" and j["parameters"]["allow_seccomp"] is True' || return 1
	chmod 0666 "$DEV"
	MLOCKDEV_PARAMS_DIR=$WORK/params ctl_fake status
	expect_out '^access: *every user (mode 0666); you can open it$' || return 1
	# A module without the parameters (older build): no such lines.
	MLOCKDEV_PARAMS_DIR=$WORK/noparams ctl_fake status
	! grep -q '^parameters:\|^seccomp:' "$OUT" || fail "parameters of a module without them" || return 1
	# ... and an ABI 1.0 module: none of the ABI 1.1 lines.
	MLOCKDEV_PARAMS_DIR=$WORK/params ctl_fake status
	! grep -q '^cap:\|^openbsd:\|^workers:' "$OUT" || fail "ABI 1.1 lines without the parameters"
}

# The ABI 1.1 parameters: values, and what they mean.
t_status_ex_params() {
	mkdir -p "$WORK/params"
	echo 384 > "$WORK/params/mode"
	echo N > "$WORK/params/allow_seccomp"
	echo 0 > "$WORK/params/max_locked_mb"
	echo 0 > "$WORK/params/openbsd_wiredmax_mb"
	echo 0 > "$WORK/params/populate_workers"
	MLOCKDEV_PARAMS_DIR=$WORK/params ctl_fake status
	expect_rc 0 || return 1
	expect_out '^parameters: *mode=0600 allow_seccomp=N max_locked_mb=0 openbsd_wiredmax_mb=0 populate_workers=0$' || return 1
	expect_out '^cap: *none: device locks may take any amount of memory (max_locked_mb=0)$' || return 1
	expect_out "^openbsd: *OpenBSD mode's system-wide ceiling: a third of RAM, $(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 3 / 1024)) MiB (openbsd_wiredmax_mb=0)\$" || return 1
	expect_out '^workers: *calls that do not say fault memory in on the calling thread alone, as mlockall(2) (populate_workers=0)$' || return 1
	MLOCKDEV_PARAMS_DIR=$WORK/params ctl_fake status --json
	json_ok || return 1
	py 'j["parameters"] == {"mode": "0600", "allow_seccomp": False, "max_locked_mb": 0, "openbsd_wiredmax_mb": 0, "populate_workers": 0}' || return 1
	echo 512 > "$WORK/params/max_locked_mb"
	echo 256 > "$WORK/params/openbsd_wiredmax_mb"
	echo 4294967295 > "$WORK/params/populate_workers"
	MLOCKDEV_PARAMS_DIR=$WORK/params ctl_fake status
	expect_out '^cap: *device locks that would take mlocked memory past 512 MiB system-wide fail with ENOMEM; [0-9]* MiB mlocked now (Mlocked in /proc/meminfo)$' || return 1
	expect_out "^openbsd: *OpenBSD mode's system-wide ceiling: 256 MiB\$" || return 1
	expect_out '^workers: *calls that do not say fault memory in with as many threads as the module decides (populate_workers=4294967295: auto)$' || return 1
	echo 3 > "$WORK/params/populate_workers"
	MLOCKDEV_PARAMS_DIR=$WORK/params ctl_fake status
	expect_out '^workers: *calls that do not say fault memory in with 3 threads (populate_workers)$' || return 1
	MLOCKDEV_PARAMS_DIR=$WORK/params ctl_fake status --json
	py 'j["parameters"]["max_locked_mb"] == 512 and j["parameters"]["openbsd_wiredmax_mb"] == 256 and j["parameters"]["populate_workers"] == 3'
}

t_load_vermagic_mismatch() {
	FAKEKMOD_ERRNO=ENOEXEC ctl_kmod load "$T/other/mlockdev.ko"
	expect_rc 1 || return 1
	expect_err "built for kernel 6\.1\.0-99-amd64" || return 1
	expect_err "running kernel is $(uname -r) (uname -r)" || return 1
	for e in EINVAL ENOENT; do
		FAKEKMOD_ERRNO=$e ctl_kmod load "$T/other/mlockdev.ko"
		expect_rc 1 && expect_err "6\.1\.0-99-amd64.*$(uname -r)" || return 1
	done
}

t_load_errors() {
	while IFS='|' read -r e want; do
		FAKEKMOD_ERRNO=$e ctl_kmod load "$T/same/mlockdev.ko"
		[ "$rc" -eq 1 ] || fail "$e: exit $rc" || return 1
		grep -q "^mlockdevctl: error: .*$want" "$ERR" || fail "$e: no '$want'" || return 1
	done <<-'EOF2'
	EEXIST|already loaded
	ENOEXEC|invalid module format
	EINVAL|param=value
	ENOENT|unknown symbol
	EPERM|CAP_SYS_MODULE\|modules_disabled\|locked down
	EKEYREJECTED|signature
	EBUSY|busy
	EOF2
	return 0
}

t_load_success_params() {
	ctl_kmod load "$T/same/mlockdev.ko" a=1 b=two
	expect_rc 0 || return 1
	expect_out "^loaded mlockdev from .*mlockdev.ko with a=1 b=two" || return 1
	grep -q "^finit_module params='a=1 b=two' errno=0" "$LOG" || fail "log: $(cat "$LOG")"
}

t_load_missing() {
	ctl_kmod load "$WORK/nothere/mlockdev.ko"
	expect_rc 1 && expect_err "no module file $WORK/nothere/mlockdev.ko" || return 1
	if [ -e "/lib/modules/$(uname -r)/modules.dep" ] &&
	    grep -q '/mlockdev\.ko' "/lib/modules/$(uname -r)/modules.dep"; then
		skip_reason="mlockdev is installed for this kernel"
		return 77
	fi
	ctl_kmod load
	expect_rc 1 || return 1
	expect_err "no module named 'mlockdev' is installed for the running kernel $(uname -r)" || return 1
	expect_err "pass the path" || return 1
	[ ! -s "$LOG" ] || fail "a module syscall was made"
}

t_unload_not_loaded() {
	[ -e /sys/module/mlockdev ] && { skip_reason="mlockdev is loaded here"; return 77; }
	ctl_kmod unload
	expect_rc 1 && expect_err "module mlockdev is not loaded" || return 1
	[ ! -s "$LOG" ] || fail "a module syscall was made"
}

t_manpage() {
	out=$(LC_ALL=C.UTF-8 groff -man -ww -z "$SRCDIR/mlockdevctl.1" 2>&1)
	[ -z "$out" ] || fail "$out"
}

t_shellcheck() {
	command -v shellcheck > /dev/null || { skip_reason="no shellcheck"; return 77; }
	shellcheck -x -s sh "$SRCDIR"/tests/*.sh "$SRCDIR"/../libmlockdev/tests/*.sh
}

t_install() {
	st=$WORK/stage
	make -s -C "$SRCDIR" O="$O" LIBO="$LIBO" install PREFIX=/usr DESTDIR="$st" > "$OUT" 2>&1 ||
		fail "install: $(cat "$OUT")" || return 1
	for f in usr/bin/mlockdevctl usr/share/man/man1/mlockdevctl.1 \
	    usr/lib/mlockdev/libmlockdev-preload.so usr/lib/libmlockdev.so.1 \
	    usr/libexec/mlockdev/tests/mlockall-probe; do
		[ -e "$st/$f" ] || fail "missing $f" || return 1
	done
	make -s -C "$SRCDIR" O="$O" LIBO="$LIBO" install PREFIX=/usr DESTDIR="$st.notests" \
		INSTALL_TESTS=no > "$OUT" 2>&1 || fail "install INSTALL_TESTS=no: $(cat "$OUT")" || return 1
	[ ! -e "$st.notests/usr/libexec" ] || fail "INSTALL_TESTS=no installed $(find "$st.notests/usr/libexec")" || return 1
	# The installed program finds the shim installed next to it.
	MLOCKDEV_DEVICE=$DEV FAKEDEV_PATH=$DEV LD_PRELOAD=$FAKEDEV \
		"$st/usr/bin/mlockdevctl" run -- sh -c "$SHOW_PRELOAD" > "$OUT" 2> "$ERR" ||
		fail "run from the staged install" || return 1
	grep -q "^$st/usr/lib/mlockdev/libmlockdev-preload.so:" "$OUT" || fail "shim: $(cat "$OUT")"
}

echo "TAP version 13"
run_test kmoderr-unit-messages t_kmoderr_unit
run_test help-everywhere t_help
run_test version t_version
run_test usage-errors-exit-2 t_usage_errors
run_test run-refuses-without-device t_run_no_device
run_test run-refuses-without-lock-feature t_run_no_lock_feature
run_test run-refuses-device-it-cannot-open t_run_cannot_open
run_test run-warns-under-seccomp-filter t_run_seccomp_warning
run_test run-routes-program-calls t_run_routes_calls
run_test run-lock-before-main t_run_lock
run_test run-debug t_run_debug
run_test run-exit-status t_run_exit_status
run_test run-ld-preload-prepend t_run_ld_preload
run_test run-preload-override t_run_preload_option
run_test run-report-stderr t_run_report
run_test run-report-file t_run_report_file
run_test run-strict-semantics-workers t_run_modes
run_test run-ex-needs-abi-1.1-features t_run_ex_needs_features
run_test lock-unlock-pid t_lock_pid
run_test lock-unlock-report t_lock_report
run_test lock-error-messages t_lock_errors
run_test lock-as-nobody-eperm-ptrace t_lock_eperm_nobody
run_test status-json-not-loaded t_status_json_not_loaded
run_test status-json-fake-device-and-counters t_status_json_fake
run_test status-text-fake-device t_status_text_fake
run_test status-access-and-parameters t_status_access
run_test status-abi-1.1-parameters t_status_ex_params
run_test load-vermagic-mismatch-names-releases t_load_vermagic_mismatch
run_test load-error-messages t_load_errors
run_test load-success-passes-params t_load_success_params
run_test load-missing-module t_load_missing
run_test unload-not-loaded t_unload_not_loaded
run_test manpage t_manpage
run_test shellcheck t_shellcheck
run_test install t_install
echo "1..$n"
cat "$results"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
