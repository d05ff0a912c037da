#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tools/vm/tests/capture-fixtures.sh KERNEL OUTDIR
#
# Boot KERNEL (stock-6.12, stock-6.1, debug-6.12) once per problem kind with
# tools/vm/tests/splat/vm_splat.ko and keep each console log as
# OUTDIR/<kind>.log.  This is how the real fixtures under fixtures/ were
# recorded; review a log before copying it there.  Prints one verdict line
# per kind.
set -u
k=$1
outdir=$2
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
run=$here/../run

eval "$("$top/tools/testkernel" env "$k")" || exit 1
S=$("$here/splat/build.sh" "$MLOCKDEV_KDIR" "$top/build/vm-splat/$k") || exit 1
mkdir -p "$outdir"

cap() {
	name=$1
	shift
	d=$outdir/$name.run
	rm -rf "$d"
	"$run" --quiet --kernel "$k" --log-dir "$d" "$@" >/dev/null 2>"$d.stderr"
	rc=$?
	cp "$d/console.log" "$outdir/$name.log" 2>/dev/null
	echo "$k $name rc=$rc $(cat "$d/verdict.txt" 2>/dev/null)"
}

# Watchdog thresholds back to the kernel defaults (the runner raises them
# under TCG), so the lockup cases do not take minutes.
fast="watchdog_thresh=10 rcupdate.rcu_cpu_stall_timeout=21"

cap clean --module "$S kind=none" -- true
cap warning --module "$S kind=warn" -- true
cap oops-null --module "$S kind=null" -- true
cap kernel-bug --module "$S kind=bug" -- true
cap softlockup --append "$fast" --module "$S kind=softlockup seconds=30" -- true
cap rcu-stall --append "$fast nosoftlockup" --module "$S kind=rcustall seconds=40" -- true
cap hung-task --module "$S kind=hung seconds=90" -- \
	sh -c 'echo 5 > /proc/sys/kernel/hung_task_timeout_secs; sleep 25'
cap missing-marker -- sh -c 'echo b > /proc/sysrq-trigger; sleep 10'
cap bad-taint -- sh -c 'echo 64 > /proc/sys/kernel/tainted'
cap panic-sysrq -- sh -c 'echo c > /proc/sysrq-trigger'
if [ -e "$MLOCKDEV_KERNEL_CONFIG" ] && grep -q '^CONFIG_KASAN=y' "$MLOCKDEV_KERNEL_CONFIG"; then
	cap kasan-uaf --module "$S kind=uaf" -- true
fi
if [ -e "$MLOCKDEV_KERNEL_CONFIG" ] && grep -q '^CONFIG_PROVE_LOCKING=y' "$MLOCKDEV_KERNEL_CONFIG"; then
	cap lockdep-circular --module "$S kind=lockdep" -- true
fi
if [ -e "$MLOCKDEV_KERNEL_CONFIG" ] && grep -q '^CONFIG_DEBUG_KMEMLEAK=y' "$MLOCKDEV_KERNEL_CONFIG"; then
	cap kmemleak --module "$S kind=leak" -- true
fi
