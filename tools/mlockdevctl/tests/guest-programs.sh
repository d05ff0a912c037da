#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In-guest test: unmodified Debian programs that call mlockall(2) run under
# "mlockdevctl run", and their calls go through /dev/mlockdev:
#   - cyclictest -m (rt-tests): mlockall(MCL_CURRENT|MCL_FUTURE), munlockall()
#   - signaltest -m (rt-tests): the same
# (both import mlockall and munlockall: objdump -T shows them).
#
# For each program: a reference run with the real syscall, a run through
# the device (the module's lock_calls/unlock_calls counters go up by one
# each; VmLck > 0 while it runs), and a comparison of what got locked:
# per mapping name, VM_LOCKED and the locked size must be those of the
# reference run (the shim's own mappings aside).  ASLR is switched off for
# both runs and restored afterwards.
#
# Needs: mlockdev loaded with LOCK_ALL/UNLOCK_ALL, mlockdevctl and the shim
# (see find_ctl), cyclictest and signaltest in PATH.  Prints KTAP; exits
# non-zero on failure.
#
# Environment: MLOCKDEVCTL, MLOCKDEV_TIMEOUT (seconds to wait for a
# program to be ready, default 120).
# shellcheck source=SCRIPTDIR/lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"

TIMEOUT=${MLOCKDEV_TIMEOUT:-120}
WORK=$(mktemp -d /tmp/guest-programs.XXXXXX) || exit 1
ASLR=$(cat /proc/sys/kernel/randomize_va_space 2>/dev/null)
cleanup() {
	[ -n "$ASLR" ] && echo "$ASLR" > /proc/sys/kernel/randomize_va_space
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# snapshot NAME TASKS CMD...: start CMD, wait until it has locked memory and
# TASKS threads, record VmLck and the smaps signature in $WORK/NAME.*, stop
# it with SIGINT (the programs then call munlockall and exit), and record
# the exit status.
snapshot() {
	name=$1 tasks=$2
	shift 2
	"$@" > "$WORK/$name.out" 2>&1 &
	pid=$!
	if ! wait_until "$TIMEOUT" proc_ready "$pid" "$tasks"; then
		diag "$name: not ready after ${TIMEOUT}s (VmLck '$(vmlck "$pid")', $(ntasks "$pid") tasks)"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid"
		sed 's/^/# out: /' "$WORK/$name.out"
		return 1
	fi
	vmlck "$pid" > "$WORK/$name.vmlck"
	smaps_signature "$pid" > "$WORK/$name.sig"
	kill -INT "$pid"
	wait "$pid"
	echo $? > "$WORK/$name.rc"
	return 0
}

# compare_sigs REF RUN: the same mapping names in both (the shim's own
# aside); per name, the same VM_LOCKED state (some / all of its VMAs) and,
# for files and special mappings, the same size; the locked (resident and
# locked) size within a few pages: residency varies from run to run, and
# [anon]/[heap]/[stack] also hold the loader's bookkeeping for one more
# library and a longer environment.  Differences are printed as
# "# mlockdev-diff:" lines.
compare_sigs() {
	awk -F'|' -v shim="$SHIM_BASENAME" '
	function norm(name) {
		# cyclictest names a /dev/shm file after its pid.
		if (name ~ /^\/dev\/shm\//) sub(/[0-9]+$/, "", name)
		return name
	}
	function loose(name) { return name == "[anon]" || name == "[heap]" || name == "[stack]" }
	function tol(name) {
		return name == "[anon]" ? 256 : name == "[heap]" ? 132 : name == "[stack]" ? 16 : 32
	}
	function abs(x) { return x < 0 ? -x : x }
	FNR == NR {
		k = norm($1); ref[k] = $0; rn[k] = $2; rsize[k] = $3; rlock[k] = $4; rlo[k] = $5
		next
	}
	{
		if (index($1, shim)) next
		k = norm($1); seen[k] = 1
		if (!(k in ref)) { printf "# mlockdev-diff: %s only through the device: %s\n", k, $0; bad++; next }
		why = ""
		if (($5 > 0) != (rlo[k] > 0) || ($5 == $2) != (rlo[k] == rn[k]))
			why = "VM_LOCKED differs"
		else if (!loose(k) && $3 != rsize[k])
			why = "size differs"
		else if (abs($3 - rsize[k]) > tol(k))
			why = "size differs by more than " tol(k) " kB"
		else if (abs($4 - rlock[k]) > tol(k))
			why = "locked size differs by more than " tol(k) " kB"
		if (why != "") {
			printf "# mlockdev-diff: %s: %s: syscall %s, device %s\n", k, why, ref[k], $0
			bad++
		} else if ($4 != rlock[k] || $3 != rsize[k]) {
			printf "# mlockdev-diff: %s: within tolerance: syscall %s, device %s\n", k, ref[k], $0
		}
	}
	END {
		for (k in ref)
			if (!(k in seen)) { printf "# mlockdev-diff: %s only with the syscall: %s\n", k, ref[k]; bad++ }
		exit bad > 0
	}' "$1" "$2"
}

counter_delta() { echo $(($(stat_read "$1") - $2)); }

ktap_begin 9

# 1: prerequisites
skip_all=
if ! find_ctl; then
	skip_all="mlockdevctl not found (set MLOCKDEVCTL)"
elif [ ! -c "$DEVICE" ]; then
	skip_all="$DEVICE missing: mlockdev is not loaded"
elif ! have_lock_feature; then
	skip_all="the loaded mlockdev does not implement LOCK_ALL/UNLOCK_ALL yet"
elif [ -z "$(stat_read lock_calls)" ]; then
	skip_all="no counters in $SYSFS/stats"
fi
if [ -n "$skip_all" ]; then
	ktap_skip prerequisites "$skip_all"
	i=1
	while [ $i -lt 9 ]; do
		ktap_skip "program-test-$i" "$skip_all"
		i=$((i + 1))
	done
	exit 0
fi
ktap_ok prerequisites
# shellcheck disable=SC2016
SHIM_PATH=$("$CTL" run -- sh -c 'echo "${LD_PRELOAD%%:*}"' 2>/dev/null)
SHIM_BASENAME=libmlockdev-preload.so
diag "mlockdevctl $CTL, shim $SHIM_PATH, kernel $(uname -r)"
[ -n "$ASLR" ] && echo 0 > /proc/sys/kernel/randomize_va_space

# test_program NAME TASKS ARGS...: three results.
test_program() {
	prog=$1 tasks=$2
	shift 2
	if ! command -v "$prog" > /dev/null 2>&1; then
		skip_reason="$prog is not installed in the guest"
		ktap_result "$prog: reference run (real mlockall)" 77
		ktap_result "$prog: calls go through the device" 77
		ktap_result "$prog: locked memory equals the real syscall's" 77
		return
	fi

	# Reference: the real syscall.  The device must not be used.
	l0=$(stat_read lock_calls) u0=$(stat_read unlock_calls)
	(
		snapshot "$prog-ref" "$tasks" "$prog" "$@" || exit 1
		[ "$(cat "$WORK/$prog-ref.rc")" = 0 ] || fail "exit status $(cat "$WORK/$prog-ref.rc")" || exit 1
		[ "$(counter_delta lock_calls "$l0")" = 0 ] || fail "the real syscall changed lock_calls" || exit 1
		diag "$prog (syscall): VmLck $(cat "$WORK/$prog-ref.vmlck") kB"
	)
	ktap_result "$prog: reference run (real mlockall)" $?

	# Through the device.
	l0=$(stat_read lock_calls) u0=$(stat_read unlock_calls)
	f0=$(stat_read lock_failed)
	(
		snapshot "$prog-dev" "$tasks" "$CTL" run -- "$prog" "$@" || exit 1
		[ "$(cat "$WORK/$prog-dev.rc")" = 0 ] || fail "exit status $(cat "$WORK/$prog-dev.rc")" || exit 1
		[ "$(counter_delta lock_calls "$l0")" = 1 ] || fail "lock_calls went up by $(counter_delta lock_calls "$l0"), want 1" || exit 1
		[ "$(counter_delta unlock_calls "$u0")" = 1 ] || fail "unlock_calls went up by $(counter_delta unlock_calls "$u0"), want 1" || exit 1
		[ "$(counter_delta lock_failed "$f0")" = 0 ] || fail "lock_failed went up" || exit 1
		grep -q "$SHIM_BASENAME" "$WORK/$prog-dev.sig" || fail "the shim is not mapped in $prog" || exit 1
		diag "$prog (device): VmLck $(cat "$WORK/$prog-dev.vmlck") kB"
	)
	ktap_result "$prog: calls go through the device" $?

	if [ -s "$WORK/$prog-ref.sig" ] && [ -s "$WORK/$prog-dev.sig" ]; then
		compare_sigs "$WORK/$prog-ref.sig" "$WORK/$prog-dev.sig"
		ktap_result "$prog: locked memory equals the real syscall's" $?
	else
		ktap_not_ok "$prog: locked memory equals the real syscall's"
	fi
}

test_program cyclictest 2 -m -q -t 1 -i 10000 -D 600
test_program signaltest 3 -m -q -t 2 -D 600

# --lock: the shim's constructor locks a program that never calls mlockall.
if command -v cyclictest > /dev/null 2>&1; then
	l0=$(stat_read lock_calls) u0=$(stat_read unlock_calls)
	(
		snapshot lockenv 2 "$CTL" run --lock current,future -- cyclictest -q -t 1 -i 10000 -D 600 || exit 1
		[ "$(counter_delta lock_calls "$l0")" = 1 ] || fail "lock_calls +$(counter_delta lock_calls "$l0"), want 1" || exit 1
		[ "$(counter_delta unlock_calls "$u0")" = 0 ] || fail "unlock_calls changed" || exit 1
		# The program's own text and its stack are VM_LOCKED.
		grep -q '^/usr/bin/cyclictest|.*|[1-9][0-9]*$' "$WORK/lockenv.sig" || fail "cyclictest text not locked" || exit 1
		grep -q '^\[stack\]|.*|[1-9][0-9]*$' "$WORK/lockenv.sig" || fail "stack not locked" || exit 1
		if [ -s "$WORK/cyclictest-ref.sig" ]; then
			compare_sigs "$WORK/cyclictest-ref.sig" "$WORK/lockenv.sig" || exit 1
		fi
	)
	ktap_result "cyclictest: run --lock current,future locks before main" $?
else
	ktap_skip "cyclictest: run --lock current,future locks before main" "cyclictest is not installed in the guest"
fi

# A bad --lock never reaches the program or the device.
l0=$(stat_read lock_calls)
"$CTL" run --lock onfault -- true > "$WORK/bad.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && [ "$(counter_delta lock_calls "$l0")" = 0 ]; then
	ktap_ok "run --lock onfault is a usage error"
else
	diag "exit $rc: $(cat "$WORK/bad.out")"
	ktap_not_ok "run --lock onfault is a usage error"
fi

ktap_end
