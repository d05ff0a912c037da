#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a test guest (tools/vm/run) with mlockdev.ko already loaded,
# and prints each suite's KTAP between markers that tools/check.py reads:
#
#   MLOCKDEV-SUITE-BEGIN <suite>
#   ... KTAP ...
#   MLOCKDEV-SUITE-END <suite> rc=<exit status>
#
# Usage: guest-suites.sh SUITE...    (kunit, kselftest, userspace, bench,
#                                      invariants: put it last)
#
# Files come from the host under $MLOCKDEV_GUEST_DIR (default /opt/mlockdev):
#   mlockdev_kunit.ko   the KUnit test module (kernels with KUnit only)
#   ksft/               the installed selftests (run_selftests.sh)
#   userspace/          tools/mlockdevctl/tests/guest-*.sh and what they need
#   bench/              the benchmark binary (smoke run)

DIR=${MLOCKDEV_GUEST_DIR:-/opt/mlockdev}

begin() { echo "MLOCKDEV-SUITE-BEGIN $1"; }
end() { echo "MLOCKDEV-SUITE-END $1 rc=$2"; }

# A one-result KTAP document that skips, with the reason.
ktap_skip() {
	printf 'KTAP version 1\n1..1\nok 1 %s # SKIP %s\n' "$1" "$2"
}

suite_kunit() {
	if [ ! -d /sys/kernel/debug/kunit ] && ! modprobe kunit 2>/dev/null; then
		begin kunit
		ktap_skip kunit "this kernel has no KUnit (CONFIG_KUNIT is not set)"
		end kunit 4
		return
	fi
	if ! out=$(insmod "$DIR/mlockdev_kunit.ko" 2>&1); then
		begin kunit
		printf 'KTAP version 1\n1..1\nnot ok 1 kunit # insmod mlockdev_kunit.ko: %s\n' "$out"
		end kunit 1
		return
	fi
	# Suites ran during insmod; debugfs keeps each one's KTAP until rmmod.
	found=
	for d in /sys/kernel/debug/kunit/mlockdev_*; do
		[ -f "$d/results" ] || continue
		found=1
		name=kunit:${d##*/}
		begin "$name"
		cat "$d/results"
		end "$name" 0
	done
	if [ -z "$found" ]; then
		begin kunit
		printf 'KTAP version 1\n1..1\nnot ok 1 kunit # no mlockdev_* suite in /sys/kernel/debug/kunit\n'
		end kunit 1
	fi
	rmmod mlockdev_kunit
}

suite_kselftest() {
	begin kselftest
	"$DIR/ksft/run_selftests.sh" -c mlockdev
	end kselftest $?
}

suite_userspace() {
	begin userspace
	if ls "$DIR"/userspace/guest-*.sh >/dev/null 2>&1; then
		"$DIR/userspace/run-guest-tests.sh"
		end userspace $?
	else
		ktap_skip userspace "no userspace guest tests were installed"
		end userspace 4
	fi
}

suite_bench() {
	begin bench
	if [ -x "$DIR/bench/mlockdev-bench" ]; then
		"$DIR/bench/mlockdev-bench" --smoke --ktap
		end bench $?
	else
		ktap_skip bench-smoke "no benchmark binary was installed"
		end bench 4
	fi
}

# A minute of random operations: 45 s of the 64-bit fuzzer, 15 s of the
# 32-bit one (the compat ioctl path), one seed printed for a rerun with
# "make fuzz SEED=N".  Its own output goes out as KTAP diagnostics.
suite_fuzz() {
	begin fuzz
	seed=${MLOCKDEV_FUZZ_SEED:-$(date +%s)}
	echo "KTAP version 1"
	echo "1..2"
	n=0
	rc=0
	for prog in mlockdev-fuzz:45 mlockdev-fuzz_32:15; do
		n=$((n + 1))
		bin=$DIR/fuzz/${prog%:*}
		secs=${prog#*:}
		if [ ! -x "$bin" ]; then
			echo "ok $n ${prog%:*} # SKIP not installed"
			continue
		fi
		"$bin" --seed "$seed" --seconds "$secs" >/tmp/mlockdev-fuzz.out 2>&1
		s=$?
		sed 's/^/# /' /tmp/mlockdev-fuzz.out
		if [ "$s" = 0 ]; then
			echo "ok $n ${prog%:*} seed $seed, $secs s"
		else
			echo "not ok $n ${prog%:*} seed $seed, $secs s: exit $s"
			rc=1
		fi
	done
	end fuzz $rc
}

# The end-of-run invariant: nothing left mlocked or unevictable by the
# whole run.  The baseline is taken before the first suite.
INV=$DIR/ksft/mlockdev/mlockdev_invariants
INV_BASE=/tmp/mlockdev-invariants
[ -x "$INV" ] && "$INV" record "$INV_BASE" >/dev/null

suite_invariants() {
	begin invariants
	if [ -x "$INV" ] && [ -f "$INV_BASE" ]; then
		"$INV" check "$INV_BASE"
		end invariants $?
	else
		ktap_skip invariants "mlockdev_invariants or its baseline is missing"
		end invariants 4
	fi
}

rc=0
for suite in "$@"; do
	case $suite in
	kunit | kselftest | userspace | bench | fuzz | invariants)
		"suite_$suite" || rc=1 ;;
	*)
		echo "guest-suites.sh: unknown suite '$suite'" >&2
		rc=2
		;;
	esac
done
exit $rc
