# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Helpers sourced by the in-guest tests (guest-*.sh): KTAP output, finding
# mlockdevctl, the module's counters, polling, /proc readers.  POSIX sh for
# a busybox guest.

GUEST_DIR=$(cd "$(dirname "$0")" && pwd)
SYSFS=${MLOCKDEV_SYSFS_DIR:-/sys/class/misc/mlockdev}
# shellcheck disable=SC2034
DEVICE=${MLOCKDEV_DEVICE:-/dev/mlockdev}

# --- KTAP ---------------------------------------------------------------------

ktap_n=0
ktap_failed=0

ktap_begin() {
	echo "TAP version 13"
	echo "1..$1"
}

ktap_ok() { ktap_n=$((ktap_n + 1)); echo "ok $ktap_n $1"; }
ktap_not_ok() {
	ktap_n=$((ktap_n + 1))
	ktap_failed=$((ktap_failed + 1))
	echo "not ok $ktap_n $1"
}
# skip_reason: set by a test before it returns 77.
skip_reason=
ktap_skip() { ktap_n=$((ktap_n + 1)); echo "ok $ktap_n $1 # SKIP $2"; }
diag() { echo "# $*"; }

# ktap_result NAME STATUS: 0 ok, 77 skip (reason in $skip_reason), else not ok.
ktap_result() {
	case $2 in
	0) ktap_ok "$1" ;;
	77) ktap_skip "$1" "${skip_reason:-skipped}" ;;
	*) ktap_not_ok "$1" ;;
	esac
}

ktap_end() {
	[ "$ktap_failed" -eq 0 ]
}

# fail MSG: print a diagnostic and return 1 (use as "... || fail msg || return 1").
fail() { diag "FAIL: $*"; return 1; }

# --- the tools ----------------------------------------------------------------

# The mlockdevctl to test: $MLOCKDEVCTL, next to this script, the usual
# install location, or PATH.
find_ctl() {
	for c in "${MLOCKDEVCTL:-}" "$GUEST_DIR/mlockdevctl" /usr/local/bin/mlockdevctl \
	    /usr/bin/mlockdevctl "$(command -v mlockdevctl 2>/dev/null)"; do
		[ -n "$c" ] && [ -x "$c" ] && { CTL=$c; return 0; }
	done
	return 1
}

# stat_read NAME: a counter, or empty when there is none.
stat_read() {
	[ -r "$SYSFS/stats/$1" ] && cat "$SYSFS/stats/$1"
}

# Does the loaded module implement LOCK_ALL and UNLOCK_ALL (features bits 1, 2)?
have_lock_feature() {
	"$CTL" status --json 2>/dev/null | grep -q '"features": \[.*"lock_all", "unlock_all"'
}

# --- polling ------------------------------------------------------------------

now_s() { date +%s; }

# wait_until SECONDS CMD...: poll CMD every 20 ms until it succeeds; 1 on timeout.
wait_until() {
	limit=$(($(now_s) + $1))
	shift
	while ! "$@"; do
		[ "$(now_s)" -gt "$limit" ] && return 1
		usleep 20000 2>/dev/null || sleep 1
	done
	return 0
}

# --- /proc --------------------------------------------------------------------

vmlck() { awk '/^VmLck:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
ntasks() {
	set -- "/proc/$1/task/"*
	[ -e "$1" ] && echo $# || echo 0
}

# proc_ready PID TASKS: the process has locked memory and all its threads.
proc_ready() {
	v=$(vmlck "$1")
	[ -n "$v" ] && [ "$v" -gt 0 ] && [ "$(ntasks "$1")" -ge "$2" ]
}

# smaps_signature PID: one line per mapping name (file path, [heap],
# [stack], [vdso], [vvar], [anon]): name, VMAs, Size kB, Locked kB, VMAs
# with the "lo" (VM_LOCKED) flag.  Addresses are left out, so two runs can
# be compared even when one has an extra library mapped.
smaps_signature() {
	awk '
	/^[0-9a-f]+-[0-9a-f]+ / {
		name = "[anon]"
		if (NF >= 6) { name = $6; for (i = 7; i <= NF; i++) name = name " " $i }
		cur = name; n[cur]++; next
	}
	/^Size:/ { size[cur] += $2 }
	/^Locked:/ { locked[cur] += $2 }
	/^VmFlags:/ { for (i = 2; i <= NF; i++) if ($i == "lo") lo[cur]++ }
	END { for (k in n) printf "%s|%d|%d|%d|%d\n", k, n[k], size[k], locked[k], lo[k] + 0 }
	' "/proc/$1/smaps" | sort
}
