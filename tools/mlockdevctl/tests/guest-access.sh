#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In-guest test of who may use /dev/mlockdev, through the userspace tools
# (kernel/access.c; Documentation/design.rst, "Security model";
# Documentation/userspace.rst, "The preload shim"):
#
#   - the node is root's only, and "mlockdevctl status" says so, with the
#     module's allow_seccomp parameter;
#   - LTP's mlockall02/03 (and open-posix mlockall 15-1) as root: set
#     RLIMIT_MEMLOCK, drop to nobody, mlockall(MCL_CURRENT).  Under
#     "mlockdevctl run" the errno must be the one the same program gets
#     from the system call, and the call must reach the device: the shim
#     opened it before main(), while the program was still root;
#   - a program whose seccomp filter denies mlockall gets the filter's
#     errno (EPERM) under the shim, nothing is locked, and the module
#     counted its refusals (failed_eacces): the shim made the system call
#     and the filter decided.  Under a filter that allows mlockall, the
#     system call locks, as without the shim;
#   - "mlockdevctl run" and "status" as nobody say why nobody cannot use
#     the device and what to do;
#   - "mlockdevctl run" under a seccomp filter warns.
#
# The program is mlockall-probe (tests/mlockall_probe.c), installed by
# "make install" in $(LIBEXECDIR)/mlockdev/tests/.  Runs as root with the
# module loaded with its default parameters.  Prints KTAP; exits non-zero
# on failure.
#
# Environment: MLOCKDEVCTL, MLOCKDEV_PROBE (the probe program).
# shellcheck source=SCRIPTDIR/lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"

PARAMS=${MLOCKDEV_PARAMS_DIR:-/sys/module/mlockdev/parameters}
WORK=$(mktemp -d /tmp/guest-access.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT INT TERM
chmod 0755 "$WORK"	# nobody writes nothing here, but may look

find_probe() {
	for p in "${MLOCKDEV_PROBE:-}" "$GUEST_DIR/mlockall-probe" \
	    /usr/local/libexec/mlockdev/tests/mlockall-probe \
	    /usr/libexec/mlockdev/tests/mlockall-probe; do
		[ -n "$p" ] && [ -x "$p" ] && { PROBE=$p; return 0; }
	done
	return 1
}

counter_delta() { echo $(($(stat_read "$1") - $2)); }

# snap: remember the counters this test looks at.
snap() {
	c_lock=$(stat_read lock_calls) c_unlock=$(stat_read unlock_calls)
	c_eperm=$(stat_read failed_eperm) c_enomem=$(stat_read failed_enomem)
	c_eacces=$(stat_read failed_eacces)
}

# expect_delta NAME SNAPSHOT WANT
expect_delta() {
	d=$(counter_delta "$1" "$2")
	[ "$d" = "$3" ] || fail "$1 went up by $d, want $3"
}

# run_both NAME STEPS...: the probe without the shim (NAME.ref) and under
# "mlockdevctl run --debug" (NAME.dev, stderr in NAME.err); the counters
# are snapshotted between the two runs.  Output is shown as diagnostics.
run_both() {
	name=$1
	shift
	"$PROBE" "$@" > "$WORK/$name.ref" 2> "$WORK/$name.referr"
	echo $? > "$WORK/$name.refrc"
	snap
	"$CTL" run --debug -- "$PROBE" "$@" > "$WORK/$name.dev" 2> "$WORK/$name.err"
	echo $? > "$WORK/$name.devrc"
	diag "$name: probe $*"
	sed 's/^/#   syscall: /' "$WORK/$name.ref" "$WORK/$name.referr"
	sed 's/^/#   shim:    /' "$WORK/$name.dev"
	sed -n 's/^mlockdev-preload\[[0-9]*\]: /#   shim log: /p' "$WORK/$name.err"
	diag "  counters: lock_calls +$(counter_delta lock_calls "$c_lock") unlock_calls +$(counter_delta unlock_calls "$c_unlock") failed_eperm +$(counter_delta failed_eperm "$c_eperm") failed_enomem +$(counter_delta failed_enomem "$c_enomem") failed_eacces +$(counter_delta failed_eacces "$c_eacces")"
	[ "$(cat "$WORK/$name.refrc")" = 0 ] || fail "reference run exited $(cat "$WORK/$name.refrc")" || return 1
	[ "$(cat "$WORK/$name.devrc")" = 0 ] || fail "run through the shim exited $(cat "$WORK/$name.devrc"): $(cat "$WORK/$name.err")"
}

# same_line NAME PATTERN: the line matching PATTERN is identical in both.
same_line() {
	r=$(grep -e "$2" "$WORK/$1.ref")
	d=$(grep -e "$2" "$WORK/$1.dev")
	[ -n "$r" ] || fail "no '$2' in the reference run" || return 1
	[ "$r" = "$d" ] || fail "system call: '$r'; through the shim: '$d'"
}

N=9
ktap_begin $N

skip_all=
if [ "$(id -u)" != 0 ]; then
	skip_all="needs root (it drops to nobody)"
elif ! find_ctl; then
	skip_all="mlockdevctl not found (set MLOCKDEVCTL)"
elif ! find_probe; then
	skip_all="mlockall-probe not found (make install puts it in \$(LIBEXECDIR)/mlockdev/tests; or set MLOCKDEV_PROBE)"
elif [ ! -c "$DEVICE" ]; then
	skip_all="$DEVICE missing: mlockdev is not loaded"
elif ! have_lock_feature; then
	skip_all="the loaded mlockdev does not implement LOCK_ALL/UNLOCK_ALL"
elif [ -z "$(stat_read failed_eacces)" ] || [ ! -r "$PARAMS/allow_seccomp" ]; then
	skip_all="the loaded mlockdev predates the access policy (no failed_eacces counter or allow_seccomp parameter)"
elif [ "$(cat "$PARAMS/allow_seccomp")" != N ] ||
    [ "$(stat -c %a "$DEVICE" 2>/dev/null)" != 600 ]; then
	skip_all="mlockdev is not loaded with its default parameters (mode=0600, allow_seccomp=N)"
fi
if [ -n "$skip_all" ]; then
	i=0
	while [ $i -lt $N ]; do
		i=$((i + 1))
		ktap_skip "access-test-$i" "$skip_all"
	done
	exit 0
fi
diag "mlockdevctl $CTL, probe $PROBE, kernel $(uname -r)"

# 1
(
	"$CTL" status > "$WORK/status" 2>&1 || fail "status exited $?" || exit 1
	grep -q "^device: *$DEVICE: char [0-9]*:[0-9]*, mode 0600, uid 0 (root), gid 0 (root)$" "$WORK/status" ||
		fail "$(grep '^device:' "$WORK/status")" || exit 1
	grep -q '^access: *root only (mode 0600); you can open it$' "$WORK/status" ||
		fail "$(grep '^access:' "$WORK/status")" || exit 1
	grep -q '^parameters: *mode=0600 allow_seccomp=N\( \|$\)' "$WORK/status" ||
		fail "$(grep '^parameters:' "$WORK/status")" || exit 1
	grep -q '^seccomp: *callers under a seccomp filter are declined' "$WORK/status" ||
		fail "no seccomp line" || exit 1
	"$CTL" status --json > "$WORK/status.json" || exit 1
	grep -q '"parameters": {"mode": "0600", "allow_seccomp": false[,}]' "$WORK/status.json" ||
		fail "$(grep parameters "$WORK/status.json")"
)
ktap_result "status: the node is root's only, allow_seccomp=N" $?

# 2-4: LTP mlockall02/03: root sets the limit, drops to nobody, calls.
# ltp_case NAME LIMIT ERRNO-NAME FAILED-COUNTER
ltp_case() {
	(
		run_both "$1" rlimit "$2" nobody lock 1 || exit 1
		same_line "$1" '^mlockall(0x1) = ' || exit 1
		grep -q "^mlockall(0x1) = -1 errno=$3 vmlck_kb=0$" "$WORK/$1.ref" ||
			fail "the system call itself gave: $(cat "$WORK/$1.ref")" || exit 1
		expect_delta lock_calls "$c_lock" 1 || exit 1
		case $4 in
		failed_eperm) expect_delta failed_eperm "$c_eperm" 1 ;;
		failed_enomem) expect_delta failed_enomem "$c_enomem" 1 ;;
		esac || exit 1
		expect_delta failed_eacces "$c_eacces" 0 || exit 1
		grep -q "opened $DEVICE before main()" "$WORK/$1.err" || fail "no early open: $(cat "$WORK/$1.err")"
	)
	ktap_result "nobody with RLIMIT_MEMLOCK $2 (LTP mlockall0x): $3 as from the system call, through the device" $?
}
ltp_case ltp-limit-0 0 EPERM failed_eperm
ltp_case ltp-limit-64k 65536 ENOMEM failed_enomem

# 4: the same drop with no limit: it locks, through the device.
(
	run_both ltp-unlimited rlimit unlimited nobody lock 1 unlock || exit 1
	grep -q '^mlockall(0x1) = 0 errno=SENTINEL vmlck_kb=[1-9][0-9]*$' "$WORK/ltp-unlimited.ref" || fail "reference: $(cat "$WORK/ltp-unlimited.ref")" || exit 1
	grep -q '^mlockall(0x1) = 0 errno=SENTINEL vmlck_kb=[1-9][0-9]*$' "$WORK/ltp-unlimited.dev" || fail "shim: $(cat "$WORK/ltp-unlimited.dev")" || exit 1
	same_line ltp-unlimited '^munlockall() = ' || exit 1
	expect_delta lock_calls "$c_lock" 1 || exit 1
	expect_delta unlock_calls "$c_unlock" 1
)
ktap_result "nobody with RLIMIT_MEMLOCK unlimited: locked through the device" $?

# 5: a seccomp filter denying mlockall and munlockall (EPERM).
(
	run_both seccomp-deny filter deny lock 1 unlock || exit 1
	grep -q '^mlockall(0x1) = -1 errno=EPERM vmlck_kb=0$' "$WORK/seccomp-deny.ref" || fail "the filter does not work: $(cat "$WORK/seccomp-deny.ref")" || exit 1
	same_line seccomp-deny '^mlockall(0x1) = ' || exit 1
	same_line seccomp-deny '^munlockall() = ' || exit 1
	expect_delta lock_calls "$c_lock" 1 || exit 1
	expect_delta unlock_calls "$c_unlock" 1 || exit 1
	expect_delta failed_eacces "$c_eacces" 2 || exit 1
	grep -q 'mlockall(0x1) = -1 (EPERM) \[system call: the device declined this process' "$WORK/seccomp-deny.err" ||
		fail "no fallback in the shim's log: $(cat "$WORK/seccomp-deny.err")"
)
ktap_result "seccomp filter denying mlockall: EPERM from the filter, nothing locked, failed_eacces +2" $?

# 6: a filter that allows everything: the device still declines, and the
# system call locks, as without the shim.
(
	run_both seccomp-allow filter allow lock 1 unlock || exit 1
	grep -q '^mlockall(0x1) = 0 errno=SENTINEL vmlck_kb=[1-9][0-9]*$' "$WORK/seccomp-allow.ref" || fail "reference: $(cat "$WORK/seccomp-allow.ref")" || exit 1
	grep -q '^mlockall(0x1) = 0 errno=SENTINEL vmlck_kb=[1-9][0-9]*$' "$WORK/seccomp-allow.dev" || fail "shim: $(cat "$WORK/seccomp-allow.dev")" || exit 1
	same_line seccomp-allow '^munlockall() = ' || exit 1
	expect_delta failed_eacces "$c_eacces" 2 || exit 1
	grep -q 'mlockall(0x1) = 0 \[system call: the device declined this process' "$WORK/seccomp-allow.err" ||
		fail "no fallback in the shim's log: $(cat "$WORK/seccomp-allow.err")"
)
ktap_result "seccomp filter allowing mlockall: locked by the system call, failed_eacces +2" $?

# 7: mlockdevctl run as nobody.
(
	snap
	"$PROBE" nobody exec "$CTL" run -- "$PROBE" lock 1 > "$WORK/nobody.out" 2> "$WORK/nobody.err"
	rc=$?
	sed 's/^/#   /' "$WORK/nobody.err"
	[ $rc = 1 ] || fail "exit status $rc, want 1" || exit 1
	grep -q "^mlockdevctl: error: $DEVICE is root's only (mode 0600): run as root, or have root reload the module with mode=0666 to let every user in" "$WORK/nobody.err" ||
		fail "message: $(cat "$WORK/nobody.err")" || exit 1
	[ ! -s "$WORK/nobody.out" ] || fail "the program ran: $(cat "$WORK/nobody.out")" || exit 1
	expect_delta lock_calls "$c_lock" 0
)
ktap_result "run as nobody: says the device is root's only and what to do" $?

# 8: mlockdevctl status as nobody.
(
	"$PROBE" nobody exec "$CTL" status > "$WORK/nobody.status" 2>&1
	rc=$?
	[ $rc = 0 ] || fail "exit status $rc: $(cat "$WORK/nobody.status")" || exit 1
	grep -q "^access: *root only (mode 0600); you cannot: $DEVICE is root's only" "$WORK/nobody.status" ||
		fail "$(cat "$WORK/nobody.status")"
)
ktap_result "status as nobody: you cannot open it, and why" $?

# 9: mlockdevctl run under a seccomp filter: a warning, and the
# command's calls are decided by the filter it inherits.
(
	snap
	"$PROBE" filter allow exec "$CTL" run -- "$PROBE" lock 1 unlock > "$WORK/filtered.out" 2> "$WORK/filtered.err"
	rc=$?
	sed 's/^/#   /' "$WORK/filtered.out" "$WORK/filtered.err"
	[ $rc = 0 ] || fail "exit status $rc" || exit 1
	grep -q '^mlockdevctl: warning: this process is under a seccomp filter' "$WORK/filtered.err" || fail "no warning" || exit 1
	grep -q '^mlockall(0x1) = 0 errno=SENTINEL vmlck_kb=[1-9]' "$WORK/filtered.out" || fail "not locked" || exit 1
	expect_delta failed_eacces "$c_eacces" 2
)
ktap_result "run under a seccomp filter: warns; the system call locks" $?

ktap_end
