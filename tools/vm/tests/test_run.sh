#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tools/vm/tests/test_run.sh [--accel auto|kvm|tcg] [KERNEL]
#
# Boot KERNEL (a tools/testkernel name, default stock-6.12) once per case
# and check tools/vm/run's exit status, output and verdict.  Prints KTAP;
# exits 1 if any case failed.  Takes a few minutes under TCG.
#
# Environment: VM_RUN (default: the run script next to this directory),
# VM_TEST_LOGS (where each case's --log-dir goes; default a temporary
# directory, kept when a case fails), VM_RUN_OPTS (extra run options for
# every case, split on spaces, e.g. "--kmemleak end" on the debug kernel).

set -u

ACCEL=auto
if [ "${1:-}" = --accel ]; then
	ACCEL=${2:?--accel needs auto, kvm or tcg}
	shift 2
fi
KERNEL=${1:-stock-6.12}
here=$(cd "$(dirname "$0")" && pwd)
RUN=${VM_RUN:-$here/../run}
logs=${VM_TEST_LOGS:-$(mktemp -d /tmp/vm-test-run.XXXXXX)}
mkdir -p "$logs"

n=0
failed=0

# vm NAME [run options] -- CMD...: run a case; sets $rc, $out (stdout file),
# $err (stderr file), $dir (log dir).
vm() {
	name=$1
	shift
	dir=$logs/$name
	out=$logs/$name.stdout
	err=$logs/$name.stderr
	rm -rf "$dir"
	# shellcheck disable=SC2086
	"$RUN" --kernel "$KERNEL" --accel "$ACCEL" --log-dir "$dir" ${VM_RUN_OPTS:-} "$@" \
		>"$out" 2>"$err"
	rc=$?
}

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for line in "$@"; do
		echo "# $line"
	done
	if [ -n "${err:-}" ] && [ -f "$err" ]; then
		tail -n 5 "$err" | sed 's/^/#   stderr: /'
	fi
}

# expect DESC WANT_RC [GREP_IN_VERDICT]
expect() {
	desc=$1
	want=$2
	pattern=${3:-}
	verdict=$(cat "$dir/verdict.txt" 2>/dev/null)
	if [ "$rc" != "$want" ]; then
		not_ok "$desc" "exit status $rc, expected $want" "verdict: $verdict"
	elif [ -n "$pattern" ] && ! printf '%s\n' "$verdict" | grep -q -- "$pattern"; then
		not_ok "$desc" "verdict does not match '$pattern'" "verdict: $verdict"
	else
		ok "$desc"
	fi
}

echo "KTAP version 1"
echo "# tools/vm/run on $KERNEL (--accel $ACCEL), logs in $logs"
echo "1..16"

vm true -- true
expect "true exits 0" 0 "^PASS 0"

vm false -- false
expect "false exits 1" 1 "^FAIL 1"

vm exit7 -- sh -c 'exit 7'
expect "sh -c 'exit 7' exits 7" 7 "^FAIL 7"

vm exit124 -- sh -c 'exit 124'
expect "a command's own 124 is reported as the command's" 124 "command's own status"

# Arguments must arrive exactly: spaces, quotes, globs, $, empty, newline.
vm argv -- /usr/bin/printf '[%s]\n' 'a b' "it's" '"dq"' '$HOME' '*' '' 'x
y' '\t'
want=$(printf '[%s]\n' 'a b' "it's" '"dq"' '$HOME' '*' '' 'x
y' '\t')
if [ "$rc" = 0 ] && [ "$(cat "$out")" = "$want" ]; then
	ok "argv with spaces, quotes and special characters arrives intact"
else
	not_ok "argv with spaces, quotes and special characters arrives intact" \
		"rc=$rc" "got: $(tr '\n' '|' <"$out")" "want: $(printf '%s' "$want" | tr '\n' '|')"
fi

# A dynamically linked host program (GNU stat, not busybox's applet).
vm dynamic -- /usr/bin/stat --version
if ! ldd /usr/bin/stat >/dev/null 2>&1; then
	not_ok "dynamically linked host program runs" "/usr/bin/stat is not dynamic on this host?"
elif [ "$rc" = 0 ] && grep -q "GNU coreutils" "$out"; then
	ok "dynamically linked host program runs"
else
	not_ok "dynamically linked host program runs" "rc=$rc" "output: $(head -c 200 "$out")"
fi

vm envcwd --env 'GREETING=hello world' --cwd /proc -- sh -c 'echo "$GREETING in $(pwd) as $(id -u)"'
if [ "$rc" = 0 ] && [ "$(cat "$out")" = "hello world in /proc as 0" ]; then
	ok "--env and --cwd, command runs as root"
else
	not_ok "--env and --cwd, command runs as root" "rc=$rc" "output: $(cat "$out")"
fi

od=$logs/outdir
rm -rf "$od"
vm outdir --outdir "$od" -- sh -c 'mkdir -p "$MLOCKDEV_OUT/sub" && echo "result 42" >"$MLOCKDEV_OUT/sub/r.txt"'
if [ "$rc" = 0 ] && [ "$(cat "$od/sub/r.txt" 2>/dev/null)" = "result 42" ]; then
	ok "--outdir brings back a file written under /out"
else
	not_ok "--outdir brings back a file written under /out" "rc=$rc" \
		"files: $(find "$od" -type f 2>/dev/null | tr '\n' ' ')"
fi

# (zram-control appears when zram is loaded; built in on debug-6.12.)
vm modprobe --modprobe zram -- sh -c 'test -e /sys/class/zram-control'
expect "--modprobe zram loads it from the kernel's tree" 0 "^PASS 0"

vm selfprobe -- sh -c 'modprobe zram && test -d /sys/block/zram0'
expect "the guest can modprobe zram itself" 0 "^PASS 0"

# No initramfs init: the kernel panics before /init, the runner boots
# once more, keeps the first attempt and says so, and still fails.
vm noinit --append "rdinit=/nonexistent" -- true
if [ "$rc" = 100 ] && [ -f "$dir/boot-attempt-1/console.log" ] &&
	grep -q "first boot failed before /init" "$dir/run.json"; then
	ok "a boot that fails before /init is retried once, then exits 100"
else
	not_ok "a boot that fails before /init is retried once, then exits 100" \
		"rc=$rc" "verdict: $(cat "$dir/verdict.txt" 2>/dev/null)" \
		"first attempt kept: $(test -d "$dir/boot-attempt-1" && echo yes || echo no)"
fi

vm panic -- sh -c 'echo c > /proc/sysrq-trigger'
expect "guest panic exits 100 naming the panic" 100 "Kernel panic - not syncing"
if [ -d "$dir/boot-attempt-1" ]; then
	not_ok "a panic after /init is not retried" "found $dir/boot-attempt-1"
else
	ok "a panic after /init is not retried"
fi

vm hang --timeout 30 -- sleep 1000
expect "hung guest exits 124" 124 "no end marker after 30 s"

vm nomodule --module /nonexistent/mlockdev.ko -- true
expect "missing module path is a set-up error" 125 "^SETUP 125"

vm nomodprobe --modprobe no_such_module_xyz -- true
expect "unknown --modprobe module is a set-up error naming it" 125 "no_such_module_xyz"

if [ "$failed" -eq 0 ]; then
	echo "# all $n cases passed"
	[ -n "${VM_TEST_LOGS:-}" ] || rm -rf "$logs"
	exit 0
fi
echo "# $failed of $n cases failed; logs kept in $logs"
exit 1
