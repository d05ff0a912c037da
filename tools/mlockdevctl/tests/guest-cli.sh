#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In-guest test of mlockdevctl's load/unload/status/run error paths against
# a real kernel, with mlockdev loaded (as tools/vm/run --module does):
#   - status of the loaded module (text and JSON);
#   - load while loaded: "already loaded";
#   - unload while /dev/mlockdev is held open: "in use", module stays;
#   - unload, then: run refuses, unload says "not loaded", status says so;
#   - load of a module built for the other test kernel: the message names
#     the running release (uname -r) and the module's;
#   - load of the right module again; the device comes back.
# The steps that unload need the module file to load it back:
#   MLOCKDEV_KO        the mlockdev.ko of this kernel (else searched for)
#   MLOCKDEV_OTHER_KO  an mlockdev.ko built for another kernel (else searched
#                      for; the mismatch test is skipped without one)
#   MLOCKDEVCTL        the mlockdevctl to test (else next to this script,
#                      /usr/local/bin, PATH)
# Prints KTAP; exits non-zero on failure.  Leaves mlockdev loaded.
# shellcheck source=SCRIPTDIR/lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"

WORK=$(mktemp -d /tmp/guest-cli.XXXXXX) || exit 1
OUT=$WORK/out
ERR=$WORK/err
RUNNING=$(uname -r)

ctl() {
	"$CTL" "$@" > "$OUT" 2> "$ERR"
	rc=$?
}
expect_rc() { [ "$rc" -eq "$1" ] || fail "exit status $rc, want $1: $(cat "$ERR")"; }
expect_err() { grep -q -e "$1" "$ERR" || fail "stderr lacks '$1': $(cat "$ERR")"; }
expect_out() { grep -q -e "$1" "$OUT" || fail "stdout lacks '$1': $(cat "$OUT")"; }
loaded() { [ -e /sys/module/mlockdev ]; }
not_loaded() { [ ! -e /sys/module/mlockdev ] && [ ! -e "$DEVICE" ]; }
device_back() { [ -c "$DEVICE" ]; }

# The release in a module file's vermagic.
ko_release() {
	modinfo -F vermagic "$1" 2>/dev/null | awk '{ print $1; exit }'
}

# find_ko same|other: a mlockdev.ko in the guest built for this kernel or not.
find_ko() {
	find / -xdev -name mlockdev.ko 2>/dev/null | while read -r ko; do
		r=$(ko_release "$ko")
		[ -n "$r" ] || continue
		if [ "$1" = same ] && [ "$r" = "$RUNNING" ]; then echo "$ko"; break; fi
		if [ "$1" = other ] && [ "$r" != "$RUNNING" ]; then echo "$ko"; break; fi
	done
}

cleanup() {
	exec 3<&- 2>/dev/null
	# Leave the module loaded for whatever runs next.
	if ! loaded && [ -n "$KO" ]; then
		"$CTL" load "$KO" > /dev/null 2>&1 || insmod "$KO"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

N=11
ktap_begin $N

skip_all=
if ! find_ctl; then
	skip_all="mlockdevctl not found (set MLOCKDEVCTL)"
elif ! loaded; then
	skip_all="mlockdev is not loaded"
fi
if [ -n "$skip_all" ]; then
	i=0
	while [ $i -lt $N ]; do
		i=$((i + 1))
		ktap_skip "cli-test-$i" "$skip_all"
	done
	exit 0
fi
KO=${MLOCKDEV_KO:-$(find_ko same)}
OTHER_KO=${MLOCKDEV_OTHER_KO:-$(find_ko other)}
diag "mlockdevctl $CTL; kernel $RUNNING; module ${KO:-?}; other ${OTHER_KO:-none}"

# 1
(
	ctl status
	expect_rc 0 || exit 1
	expect_out '^module: *mlockdev: loaded (live)' || exit 1
	# Root's only unless the module is loaded with mode= (guest-access.sh
	# checks who may open it).
	expect_out "^device: *$DEVICE: char [0-9]*:[0-9]*, mode 0600" || exit 1
	expect_out '^access: *root only (mode 0600); you can open it$' || exit 1
	expect_out '^ABI: *1\.' || exit 1
	ctl status --json
	expect_rc 0 || exit 1
	expect_out '"loaded": true' || exit 1
	expect_out "\"device\": {\"path\": \"$DEVICE\", \"exists\": true, \"type\": \"char\", \"mode\": \"0600\"" || exit 1
	if command -v python3 > /dev/null 2>&1; then
		python3 -m json.tool "$OUT" > /dev/null || fail "invalid JSON" || exit 1
	fi
)
ktap_result "status of the loaded module" $?

# 2
(
	ctl load ${KO:+"$KO"}
	expect_rc 1 || exit 1
	expect_err "^mlockdevctl: error: module mlockdev is already loaded" || exit 1
	loaded || fail "no longer loaded"
)
ktap_result "load while loaded: already loaded" $?

# 3
(
	exec 3< "$DEVICE" || exit 1
	ctl unload
	expect_rc 1 || exit 1
	expect_err "^mlockdevctl: error: module mlockdev is in use" || exit 1
	expect_err "reference" || exit 1
	loaded || fail "unloaded although in use"
)
ktap_result "unload while the device is open: in use" $?

# The rest unloads: only with a module file to load back.
if [ -z "$KO" ]; then
	skip_reason="no mlockdev.ko for $RUNNING in the guest (set MLOCKDEV_KO)"
	for t in "unload" "run refuses while unloaded" "status while unloaded" \
	    "unload while unloaded: not loaded" "load of a module for another kernel" \
	    "load again" "run works after reload" "status --json after reload"; do
		ktap_skip "$t" "$skip_reason"
	done
	ktap_end
	exit
fi

# 4
(
	ctl unload
	expect_rc 0 || exit 1
	expect_out '^unloaded mlockdev' || exit 1
	wait_until 10 not_loaded || fail "still loaded or $DEVICE still there"
)
ktap_result "unload" $?

# 5
(
	ctl run -- true
	expect_rc 1 || exit 1
	expect_err "^mlockdevctl: error: mlockdev is not loaded: run 'mlockdevctl load'"
)
ktap_result "run refuses while unloaded" $?

# 6
(
	ctl status
	expect_rc 0 || exit 1
	expect_out '^module: *mlockdev: not loaded' || exit 1
	ctl status --json
	expect_rc 0 || exit 1
	expect_out '"loaded": false'
)
ktap_result "status while unloaded" $?

# 7
(
	ctl unload
	expect_rc 1 || exit 1
	expect_err "module mlockdev is not loaded"
)
ktap_result "unload while unloaded: not loaded" $?

# 8
if [ -n "$OTHER_KO" ]; then
	(
		other=$(ko_release "$OTHER_KO")
		ctl load "$OTHER_KO"
		expect_rc 1 || exit 1
		expect_err "built for kernel $other" || exit 1
		expect_err "running kernel is $RUNNING (uname -r)" || exit 1
		not_loaded || fail "the other kernel's module got loaded"
	)
	ktap_result "load of a module for another kernel names both releases" $?
else
	ktap_skip "load of a module for another kernel names both releases" \
		"no mlockdev.ko for another kernel in the guest (set MLOCKDEV_OTHER_KO)"
fi

# 9
(
	ctl load "$KO"
	expect_rc 0 || exit 1
	expect_out "^loaded mlockdev from $KO" || exit 1
	wait_until 10 device_back || fail "$DEVICE did not come back"
)
ktap_result "load again" $?

# 10
if have_lock_feature; then
	(
		ctl run -- sh -c 'exit 3'
		expect_rc 3
	)
	ktap_result "run works after reload (exit status passed on)" $?
else
	ktap_skip "run works after reload (exit status passed on)" \
		"the module does not implement LOCK_ALL/UNLOCK_ALL yet"
fi

# 11
(
	ctl status --json
	expect_rc 0 || exit 1
	expect_out '"loaded": true' || exit 1
	expect_out '"refcount": 0' || exit 1
	expect_out "\"kernel_release\": \"$RUNNING\""
)
ktap_result "status --json after reload" $?

ktap_end
