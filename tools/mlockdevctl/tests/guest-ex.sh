#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In-guest test of the ABI 1.1 calls through the userspace tools
# (Documentation/userspace.rst, "Reports, modes and other processes"):
#
#   - "mlockdevctl run --report" on cyclictest -m: a report per call, whose
#     VmLck agrees with /proc/PID/status while the program runs (less the
#     two pages its teardown unmaps before munlockall());
#   - the same on mlockall-probe, whose every figure can be checked: VMAs
#     seen, special VMAs skipped, VMAs changed (the "lo" VMAs of smaps),
#     VmLck before and after, all against /proc/self read right before and
#     after the call; and the report's call (LOCK_ALL_EX, mode 0) locks what
#     the plain call locks;
#   - "run --strict" on a program with a file mapped past its end: the
#     lock fails (EFAULT), the report names that mapping, nothing stays
#     locked, stats/strict_rollbacks goes up; without --strict it succeeds;
#   - "run --semantics openbsd" on mlockall(MCL_CURRENT|MCL_ONFAULT): EINVAL;
#   - "run --workers 2": two threads fault memory in;
#   - "mlockdevctl lock PID" on a sleeping process locks it (VmLck, the lo
#     flag on its VMAs) and "unlock PID" undoes it;
#   - as nobody against a root process: EPERM, the message names ptrace and
#     Yama, nothing changes; a zombie: ESRCH; a kernel thread: EINVAL;
#   - "status": the ABI 1.1 features, parameters and counters.
#
# Runs as root, with mlockdev loaded with its default parameters (mode
# 0600: test 9 opens the node to nobody for a moment and puts it back).
# Prints KTAP; exits non-zero on failure.
#
# Environment: MLOCKDEVCTL, MLOCKDEV_PROBE, MLOCKDEV_TIMEOUT (seconds to
# wait for a program to be ready, default 120).
# shellcheck source=SCRIPTDIR/lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"

TIMEOUT=${MLOCKDEV_TIMEOUT:-120}
PARAMS=${MLOCKDEV_PARAMS_DIR:-/sys/module/mlockdev/parameters}
KB=$(awk '/^KernelPageSize:/ { print $2; exit }' /proc/self/smaps)
WORK=$(mktemp -d /tmp/guest-ex.XXXXXX) || exit 1
chmod 0755 "$WORK"
DEVMODE=
PIDS=
cleanup() {
	[ -n "$DEVMODE" ] && chmod "$DEVMODE" "$DEVICE"
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

find_probe() {
	for p in "${MLOCKDEV_PROBE:-}" "$GUEST_DIR/mlockall-probe" \
	    /usr/local/libexec/mlockdev/tests/mlockall-probe \
	    /usr/libexec/mlockdev/tests/mlockall-probe; do
		[ -n "$p" ] && [ -x "$p" ] && { PROBE=$p; return 0; }
	done
	return 1
}

counter_delta() { echo $(($(stat_read "$1") - $2)); }

# zombie_child PID: print a child of PID that is a zombie; 1 if none.
zombie_child() {
	for f in /proc/[0-9]*/stat; do
		# After "(comm) ": the state, then the parent's PID.
		sed -n "s/^\([0-9]*\) (.*) Z $1 .*/\1/p" "$f" 2>/dev/null
	done | grep . | head -n 1 | grep .
}

# The N-th "vmas=..." line of a probe's output.
vmas_line() { grep '^vmas=' "$1" | sed -n "${2}p"; }
# kv LINE KEY: KEY=value out of a "vmas=... lo=..." line.
kv() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# report_part FILE WHICH: the lines of the first report whose header
# matches WHICH (a grep pattern), header included.
report_part() {
	awk -v pat="$2" '
	/^mlockdev-report\[/ { inside = 0 }
	/^mlockdev-report\[/ && $0 ~ pat && !done { inside = 1; done = 1 }
	inside { print }' "$1"
}

# Figures of a report (text from report_part on stdin) as shell words:
# seen changed skipped special kb_before kb_after pages_before pages_after
# populated workers.
report_figures() {
	awk '
	/^  VMAs: / {
		seen = $2; changed = $4; skipped = $6
		if (match($0, /special [0-9]+/)) special = substr($0, RSTART + 8, RLENGTH - 8)
	}
	/^  pages: / { populated = $6 }
	/^  VmLck: / {
		kb_before = $2; kb_after = $5
		sub(/.*locked_vm /, ""); p_before = $1; p_after = $3
	}
	/^  workers: / { workers = $2 }
	END {
		printf "%d %d %d %d %d %d %d %d %d %d\n", seen, changed, skipped,
			special, kb_before, kb_after, p_before, p_after, populated, workers
	}'
}

N=10
ktap_begin $N

skip_all=
if [ "$(id -u)" != 0 ]; then
	skip_all="needs root"
elif ! find_ctl; then
	skip_all="mlockdevctl not found (set MLOCKDEVCTL)"
elif ! find_probe; then
	skip_all="mlockall-probe not found (make install puts it in \$(LIBEXECDIR)/mlockdev/tests; or set MLOCKDEV_PROBE)"
elif [ ! -c "$DEVICE" ]; then
	skip_all="$DEVICE missing: mlockdev is not loaded"
elif ! "$CTL" status --json 2>/dev/null | grep -q '"features": \[.*"lock_all_ex", "unlock_all_ex", "strict", "openbsd", "pidfd", "workers"'; then
	skip_all="the loaded mlockdev predates ABI 1.1 (no lock_all_ex, strict, openbsd, pidfd, workers)"
elif [ -z "$(stat_read strict_rollbacks)" ]; then
	skip_all="no stats/strict_rollbacks counter"
fi
if [ -n "$skip_all" ]; then
	i=0
	while [ $i -lt $N ]; do
		i=$((i + 1))
		ktap_skip "ex-test-$i" "$skip_all"
	done
	exit 0
fi
diag "mlockdevctl $CTL, probe $PROBE, kernel $(uname -r), ${KB} kB pages"

# 1: a real program, cyclictest -m, under run --report.
(
	if ! command -v cyclictest > /dev/null 2>&1; then
		skip_reason="cyclictest is not installed in the guest"
		exit 77
	fi
	rep=$WORK/cyclictest.report
	"$CTL" run --report-file "$rep" -- cyclictest -m -q -t 1 -i 10000 -D 600 > "$WORK/cyc.out" 2>&1 &
	pid=$!
	if ! wait_until "$TIMEOUT" proc_ready "$pid" 2; then
		kill -KILL "$pid" 2>/dev/null
		fail "cyclictest not ready after ${TIMEOUT}s: $(cat "$WORK/cyc.out")" || exit 1
	fi
	# Its worker thread is up: nothing maps or locks any more.
	sleep 1
	running=$(vmlck "$pid")
	kill -INT "$pid"
	wait "$pid"
	rc=$?
	diag "cyclictest exited $rc; VmLck while it ran: $running kB; the reports:"
	sed 's/^/#   /' "$rep"
	[ $rc = 0 ] || fail "exit status $rc" || exit 1
	[ "$(grep -c '^mlockdev-report\[' "$rep")" = 2 ] || fail "want two reports" || exit 1
	grep -q "^mlockdev-report\[$pid\] cyclictest: mlockall(MCL_CURRENT|MCL_FUTURE) = 0$" "$rep" || fail "no lock report of $pid" || exit 1
	grep -q "^mlockdev-report\[$pid\] cyclictest: munlockall() = 0$" "$rep" || fail "no unlock report of $pid" || exit 1
	# shellcheck disable=SC2046
	set -- $(report_part "$rep" 'mlockall\(' | report_figures)
	seen=$1 changed=$2 kb_after=$6 p_after=$8 populated=$9
	[ "$kb_after" = $((p_after * KB)) ] || fail "lock: VmLck $kb_after kB is not $p_after pages" || exit 1
	[ "$kb_after" -gt 0 ] || fail "lock: nothing locked" || exit 1
	{ [ "$changed" -gt 0 ] && [ "$changed" -le "$seen" ]; } || fail "lock: $changed of $seen VMAs changed" || exit 1
	[ "$populated" -gt 0 ] || fail "lock: nothing populated" || exit 1
	# Later mappings (the thread's stack) are locked by MCL_FUTURE: VmLck
	# only grows until the unlock, which starts from what /proc showed.
	[ "$kb_after" -le "$running" ] || fail "VmLck after the lock $kb_after kB > $running kB while running" || exit 1
	# Between SIGINT and its munlockall(), cyclictest joins its thread and
	# frees that thread's thread_stat and thread_param: with libnuma,
	# numa_alloc_onnode() memory, one locked page each, munmap()ed right
	# before munlockall() (strace of rt-tests 2.4: munmap 144 and 72
	# bytes, then munlockall).  So the unlock starts from what /proc
	# showed less at most those two pages, and never from more.
	# shellcheck disable=SC2046
	set -- $(report_part "$rep" 'munlockall\(' | report_figures)
	freed=$((running - $5))
	{ [ "$freed" -ge 0 ] && [ "$freed" -le $((2 * KB)) ]; } || fail "unlock: VmLck before $5 kB, /proc said $running kB while running: not what the teardown's two freed pages explain" || exit 1
	[ "$5" = $(($7 * KB)) ] || fail "unlock: VmLck before $5 kB is not $7 pages" || exit 1
	[ "$freed" = 0 ] || diag "unlock: VmLck before $5 kB: $running kB less the $freed kB cyclictest unmapped first"
	{ [ "$6" = 0 ] && [ "$8" = 0 ]; } || fail "unlock: VmLck after $6 kB" || exit 1
)
ktap_result "run --report -- cyclictest -m: a report per call; VmLck agrees with /proc" $?

# 2: mlockall-probe: every figure against /proc/self, right before and
# after the call (the probe reads /proc without the heap).
(
	"$CTL" run --report-file "$WORK/probe.report" -- "$PROBE" vmas vmas lock 3 vmas unlock vmas > "$WORK/probe.out" 2> "$WORK/probe.err"
	rc=$?
	sed 's/^/#   probe: /' "$WORK/probe.out" "$WORK/probe.err"
	sed 's/^/#   /' "$WORK/probe.report"
	[ $rc = 0 ] || fail "exit status $rc" || exit 1
	before=$(vmas_line "$WORK/probe.out" 2) locked=$(vmas_line "$WORK/probe.out" 3) after=$(vmas_line "$WORK/probe.out" 4)
	grep -q '^mlockall(0x3) = 0 errno=SENTINEL ' "$WORK/probe.out" || fail "lock failed" || exit 1
	# shellcheck disable=SC2046
	set -- $(report_part "$WORK/probe.report" 'mlockall\(' | report_figures)
	[ "$1" = "$(kv "$before" vmas)" ] || fail "VMAs seen $1, /proc/self/smaps had $(kv "$before" vmas)" || exit 1
	[ "$4" = "$(kv "$before" special)" ] || fail "special VMAs skipped $4, smaps had $(kv "$before" special) [vvar]/[vdso]" || exit 1
	[ "$3" = "$4" ] || fail "skipped $3, of which special $4: the probe has nothing else to skip" || exit 1
	[ "$2" = "$(kv "$locked" lo)" ] || fail "VMAs changed $2, smaps shows $(kv "$locked" lo) with lo" || exit 1
	[ "$2" = $(($1 - $3)) ] || fail "changed $2 != seen $1 - skipped $3" || exit 1
	[ "$5" = "$(kv "$before" vmlck_kb)" ] || fail "VmLck before $5 kB, /proc $(kv "$before" vmlck_kb) kB" || exit 1
	[ "$6" = "$(kv "$locked" vmlck_kb)" ] || fail "VmLck after $6 kB, /proc $(kv "$locked" vmlck_kb) kB" || exit 1
	[ "$6" = $(($8 * KB)) ] || fail "VmLck after $6 kB, locked_vm $8 pages" || exit 1
	# shellcheck disable=SC2046
	set -- $(report_part "$WORK/probe.report" 'munlockall\(' | report_figures)
	[ "$2" = "$(kv "$locked" lo)" ] || fail "unlock changed $2 VMAs, $(kv "$locked" lo) were locked" || exit 1
	[ "$5" = "$(kv "$locked" vmlck_kb)" ] || fail "unlock: VmLck before $5 kB, /proc $(kv "$locked" vmlck_kb) kB" || exit 1
	{ [ "$6" = 0 ] && [ "$(kv "$after" vmlck_kb)" = 0 ] && [ "$(kv "$after" lo)" = 0 ]; } || fail "unlock left $(kv "$after" vmlck_kb) kB" || exit 1
	# The plain call (no report) locks the same.
	"$CTL" run -- "$PROBE" vmas vmas lock 3 vmas > "$WORK/plain.out" 2>&1 || fail "plain run: $(cat "$WORK/plain.out")" || exit 1
	plain=$(vmas_line "$WORK/plain.out" 3)
	diag "LOCK_ALL:          $plain"
	diag "LOCK_ALL_EX mode 0: $locked"
	{ [ "$(kv "$plain" lo)" = "$(kv "$locked" lo)" ] && [ "$(kv "$plain" vmlck_kb)" = "$(kv "$locked" vmlck_kb)" ]; } ||
		fail "LOCK_ALL and LOCK_ALL_EX with mode 0 locked different memory"
)
ktap_result "run --report -- mlockall-probe: VMAs, skipped, changed and VmLck equal /proc; mode 0 locks what LOCK_ALL locks" $?

# 3: strict: a file mapped past its end.
(
	r0=$(stat_read strict_rollbacks)
	"$CTL" run --strict --report -- "$PROBE" map-past-eof "$WORK/short" vmas lock 1 vmas > "$WORK/strict.out" 2> "$WORK/strict.err"
	rc=$?
	sed 's/^/#   probe: /' "$WORK/strict.out"
	sed 's/^/#   /' "$WORK/strict.err"
	[ $rc = 0 ] || fail "exit status $rc" || exit 1
	range=$(sed -n 's/^mapped //p' "$WORK/strict.out")
	grep -q '^mlockall(0x1) = -1 errno=EFAULT vmlck_kb=0$' "$WORK/strict.out" || fail "want EFAULT and nothing locked" || exit 1
	grep -q ': mlockall(MCL_CURRENT) \[strict\] = -1 EFAULT (Bad address)$' "$WORK/strict.err" || fail "report header" || exit 1
	grep -q "^  failed VMA: $range could not be made resident; the call was undone\$" "$WORK/strict.err" || fail "the report does not name $range" || exit 1
	after=$(vmas_line "$WORK/strict.out" 2)
	{ [ "$(kv "$after" lo)" = 0 ] && [ "$(kv "$after" vmlck_kb)" = 0 ]; } || fail "left locked: $after" || exit 1
	[ "$(counter_delta strict_rollbacks "$r0")" = 1 ] || fail "strict_rollbacks +$(counter_delta strict_rollbacks "$r0"), want 1" || exit 1
	# Linux's own rule: populate errors are ignored.
	"$CTL" run -- "$PROBE" map-past-eof "$WORK/short2" lock 1 > "$WORK/nonstrict.out" 2>&1
	grep -q '^mlockall(0x1) = 0 errno=SENTINEL vmlck_kb=[1-9]' "$WORK/nonstrict.out" || fail "without --strict: $(cat "$WORK/nonstrict.out")"
)
ktap_result "run --strict: a file mapped past EOF fails the lock with EFAULT, the report names it, nothing stays locked" $?

# 4: OpenBSD: MCL_ONFAULT is not a flag there.
(
	"$CTL" run --semantics openbsd --report -- "$PROBE" lock 5 lock 3 unlock > "$WORK/obsd.out" 2> "$WORK/obsd.err"
	rc=$?
	sed 's/^/#   probe: /' "$WORK/obsd.out"
	sed -n 's/^\(mlockdev-report.*\)/#   \1/p' "$WORK/obsd.err"
	[ $rc = 0 ] || fail "exit status $rc" || exit 1
	grep -q '^mlockall(0x5) = -1 errno=EINVAL vmlck_kb=0$' "$WORK/obsd.out" || fail "MCL_CURRENT|MCL_ONFAULT not EINVAL" || exit 1
	grep -q ': mlockall(MCL_CURRENT|MCL_ONFAULT) \[openbsd\] = -1 EINVAL (Invalid argument)$' "$WORK/obsd.err" || fail "report header" || exit 1
	grep -q '^mlockall(0x3) = 0 errno=SENTINEL vmlck_kb=[1-9]' "$WORK/obsd.out" || fail "MCL_CURRENT|MCL_FUTURE failed" || exit 1
	grep -q ': munlockall() \[openbsd\] = 0$' "$WORK/obsd.err" || fail "unlock report" || exit 1
	"$CTL" run -- "$PROBE" lock 5 > "$WORK/linux.out" 2>&1
	grep -q '^mlockall(0x5) = 0 errno=SENTINEL' "$WORK/linux.out" || fail "Linux rules: $(cat "$WORK/linux.out")"
)
ktap_result "run --semantics openbsd: mlockall(MCL_CURRENT|MCL_ONFAULT) is EINVAL (0 with Linux's rules)" $?

# 5: workers.
(
	"$CTL" run --workers 2 --report -- "$PROBE" map-anon 64 lock 1 > "$WORK/w.out" 2> "$WORK/w.err"
	rc=$?
	sed 's/^/#   /' "$WORK/w.out" "$WORK/w.err"
	[ $rc = 0 ] || fail "exit status $rc" || exit 1
	grep -q ': mlockall(MCL_CURRENT) \[workers 2\] = 0$' "$WORK/w.err" || fail "report header" || exit 1
	grep -q '^  workers: 2 (the calling thread and 1 kernel workers)$' "$WORK/w.err" || fail "not two workers" || exit 1
	# shellcheck disable=SC2046
	set -- $(report_figures < "$WORK/w.err")
	[ "$9" -ge $((64 * 1024 / KB)) ] || fail "populated $9 pages, want the 64 MiB at least" || exit 1
	grep -q "^mlockall(0x1) = 0 errno=SENTINEL vmlck_kb=$6\$" "$WORK/w.out" || fail "VmLck: report $6 kB, /proc: $(cat "$WORK/w.out")"
)
ktap_result "run --workers 2: two threads fault the memory in; VmLck agrees" $?

# 6-7: lock and unlock another process.
sleep 600 &
target=$!
PIDS="$PIDS $target"
(
	l0=$(stat_read lock_calls)
	"$CTL" lock "$target" --report > "$WORK/lock.out" 2> "$WORK/lock.err"
	rc=$?
	sed 's/^/#   /' "$WORK/lock.out" "$WORK/lock.err"
	[ $rc = 0 ] || fail "exit status $rc" || exit 1
	grep -q "^mlockdev-report\[$target\] sleep: mlockall(MCL_CURRENT|MCL_FUTURE) \[pidfd\] = 0$" "$WORK/lock.out" || fail "report header" || exit 1
	# shellcheck disable=SC2046
	set -- $(report_figures < "$WORK/lock.out")
	v=$(vmlck "$target")
	lo=$(smaps_signature "$target" | awk -F'|' '{ n += $5 } END { print n + 0 }')
	diag "process $target: VmLck $v kB, $lo VMAs with lo"
	[ "$v" -gt 0 ] || fail "VmLck $v" || exit 1
	[ "$v" = "$6" ] || fail "VmLck $v kB, the report says $6 kB" || exit 1
	[ "$lo" = "$2" ] || fail "$lo VMAs with lo, the report changed $2" || exit 1
	[ "$(counter_delta lock_calls "$l0")" = 1 ] || fail "lock_calls +$(counter_delta lock_calls "$l0")"
)
ktap_result "lock PID: a sleeping process's VmLck and lo VMAs are what the report says" $?
(
	"$CTL" unlock "$target" > "$WORK/unlock.out" 2> "$WORK/unlock.err"
	rc=$?
	sed 's/^/#   /' "$WORK/unlock.out" "$WORK/unlock.err"
	[ $rc = 0 ] || fail "exit status $rc" || exit 1
	grep -q "^unlocked process $target (sleep): VmLck [1-9][0-9]* kB -> 0 kB$" "$WORK/unlock.out" || fail "output" || exit 1
	[ "$(vmlck "$target")" = 0 ] || fail "VmLck $(vmlck "$target") kB after unlock" || exit 1
	lo=$(smaps_signature "$target" | awk -F'|' '{ n += $5 } END { print n + 0 }')
	[ "$lo" = 0 ] || fail "$lo VMAs still have lo"
)
ktap_result "unlock PID: VmLck 0, no lo VMA left" $?

# 8: the node, nobody: a root process may not be locked.  The node is
# opened to nobody for this test only (cleanup() puts it back too).
DEVMODE=$(stat -c %a "$DEVICE")
(
	e0=$(stat_read failed_eperm)
	chmod 0666 "$DEVICE"
	"$PROBE" nobody exec "$CTL" lock "$target" > "$WORK/nobody.out" 2> "$WORK/nobody.err"
	rc=$?
	chmod "$DEVMODE" "$DEVICE"
	sed 's/^/#   /' "$WORK/nobody.err"
	[ $rc = 1 ] || fail "exit status $rc, want 1" || exit 1
	grep -q "^mlockdevctl: error: you may not lock process $target (sleep): that takes the right to ptrace it, as process_vm_writev(2) does, and you do not have it (it runs as uid 0 (root), you are uid 65534 (nobody)): run as root or as its user" "$WORK/nobody.err" || fail "message" || exit 1
	if [ -r /proc/sys/kernel/yama/ptrace_scope ]; then
		grep -q "Yama's ptrace_scope is $(cat /proc/sys/kernel/yama/ptrace_scope)" "$WORK/nobody.err" || fail "Yama not named" || exit 1
	fi
	[ "$(vmlck "$target")" = 0 ] || fail "VmLck $(vmlck "$target") kB" || exit 1
	[ "$(counter_delta failed_eperm "$e0")" = 1 ] || fail "failed_eperm +$(counter_delta failed_eperm "$e0"), want 1"
)
ktap_result "lock PID as nobody against root's process: EPERM, ptrace and Yama named, nothing locked" $?
chmod "$DEVMODE" "$DEVICE" && DEVMODE=

# 9: a zombie and a kernel thread.
(
	sh -c 'sleep 0 & exec sleep 600' &
	parent=$!
	PIDS="$PIDS $parent"
	wait_until 10 zombie_child "$parent" > /dev/null || fail "no zombie" || exit 1
	zombie=$(zombie_child "$parent")
	"$CTL" lock "$zombie" > "$WORK/z.out" 2> "$WORK/z.err"
	rc=$?
	kill "$parent"
	sed 's/^/#   /' "$WORK/z.err"
	[ $rc = 1 ] || fail "zombie: exit status $rc" || exit 1
	grep -q "^mlockdevctl: error: process $zombie (sleep) has exited: it is a zombie waiting for its parent to reap it" "$WORK/z.err" || fail "zombie message" || exit 1
	"$CTL" lock 2 > "$WORK/k.out" 2> "$WORK/k.err"
	rc=$?
	sed 's/^/#   /' "$WORK/k.err"
	[ $rc = 1 ] || fail "kthreadd: exit status $rc" || exit 1
	grep -q "^mlockdevctl: error: process 2 (kthreadd) is a kernel thread: it has no user memory to lock$" "$WORK/k.err" || fail "kernel thread message"
)
ktap_result "lock of a zombie (ESRCH) and of a kernel thread (EINVAL) say so" $?

# 10: status.
(
	"$CTL" status > "$WORK/status" 2>&1 || fail "status exited $?" || exit 1
	grep -E '^(features|parameters|cap|openbsd|workers|  strict_rollbacks|  cap_refused):' "$WORK/status" | sed 's/^/#   /'
	grep -E '^  (strict_rollbacks|cap_refused) ' "$WORK/status" | sed 's/^/#   /'
	grep -q '^features: .* lock_all_ex unlock_all_ex strict openbsd pidfd workers$' "$WORK/status" || fail "features" || exit 1
	grep -q "^parameters: *mode=0600 allow_seccomp=N max_locked_mb=$(cat "$PARAMS/max_locked_mb") openbsd_wiredmax_mb=$(cat "$PARAMS/openbsd_wiredmax_mb") populate_workers=$(cat "$PARAMS/populate_workers")$" "$WORK/status" || fail "parameters" || exit 1
	for l in cap openbsd workers; do
		grep -q "^$l: " "$WORK/status" || fail "no $l: line" || exit 1
	done
	grep -q "^  strict_rollbacks  *$(stat_read strict_rollbacks)$" "$WORK/status" || fail "strict_rollbacks" || exit 1
	grep -q "^  cap_refused  *$(stat_read cap_refused)$" "$WORK/status" || fail "cap_refused" || exit 1
	"$CTL" status --json > "$WORK/status.json" || exit 1
	grep -q '"max_locked_mb": [0-9]*, "openbsd_wiredmax_mb": [0-9]*, "populate_workers": [0-9]*}' "$WORK/status.json" || fail "JSON parameters"
)
ktap_result "status: ABI 1.1 features, parameters and counters" $?

ktap_end
