#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Test the check that makes "tools/build-module" fail when sparse did not
# check the build ("tools/build-module --check-sparse-log LOG"), on saved
# build logs: no kernel and no sparse needed.
#
#   tools/testkernel.d/test-sparse-check.sh
#
# Prints one "ok"/"not ok" line per case and "N passed, N failed" last;
# exits 1 if any case failed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bm=$here/../build-module
fx=$here/fixtures
out=$(mktemp)
trap 'rm -f "$out"' EXIT

passed=0
failed=0

ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}

fail() {
	failed=$((failed + 1))
	echo "not ok - $1"
	sed 's/^/#   /' "$out"
}

# expect DESCRIPTION EXIT-CODE LOG [PATTERN...]: run the check on LOG,
# check its exit code and that each PATTERN (an ERE) is in its output.
expect() {
	desc=$1 want=$2 log=$3
	shift 3
	rc=0
	"$bm" --check-sparse-log "$log" >"$out" 2>&1 || rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$desc (exit $rc, wanted $want)"
		return
	fi
	for pat in "$@"; do
		if ! grep -Eq -- "$pat" "$out"; then
			fail "$desc (no /$pat/ in the output)"
			return
		fi
	done
	ok "$desc"
}

expect "6.12: every compiled file checked (absolute paths)" 0 \
	"$fx/build-6.12-checked.log" \
	'^sparse checked all 10 compiled files$'

expect "7.3: every compiled file checked (relative paths, .module-common.o)" 0 \
	"$fx/build-7.3-checked.log" \
	'^sparse checked all 1 compiled files$'

expect "7.3 with bookworm's sparse: kbuild skipped it, a failure" 1 \
	"$fx/build-7.3-sparse-too-old.log" \
	'^ERROR: build-module: make skipped sparse: .*C=1 specified, but /usr/bin/sparse is not available or not up to date'

expect "files compiled without a CHECK line are named" 1 \
	"$fx/build-6.12-two-unchecked.log" \
	'^ERROR: build-module: sparse did not check 2 of 10 compiled files \(no CHECK line\): [^ ]*/kernel/policy\.c [^ ]*/kernel/stats\.c$'

expect "a log with nothing compiled is not a pass" 1 \
	"$fx/build-nothing-compiled.log" \
	'^ERROR: build-module: no file was compiled'

expect "a missing log is an error" 1 \
	"$fx/does-not-exist.log" \
	'cannot read'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
