#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Test "tools/testkernel check-config FRAGMENT CONFIG", the check that
# every option of the debug kernel's fragment survived olddefconfig,
# on small fixture configs, and "merge-fragments", which merges the
# fragments of debug-7.3 for that check: no kernel build needed.
#
#   tools/testkernel.d/test-check-config.sh
#
# Prints one "ok"/"not ok" line per case and "N passed, N failed" last;
# exits 1 if any case failed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
tk=$here/../testkernel
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

# expect DESCRIPTION EXIT-CODE FRAGMENT CONFIG [PATTERN...]
# Run check-config, check its exit code and that each PATTERN (an ERE)
# occurs in its output.
expect() {
	desc=$1 want=$2 frag=$3 config=$4
	shift 4
	rc=0
	"$tk" check-config "$frag" "$config" >"$out" 2>&1 || rc=$?
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

# expect_absent DESCRIPTION FRAGMENT CONFIG PATTERN: PATTERN must not
# occur in the output.
expect_absent() {
	desc=$1 frag=$2 config=$3 pat=$4
	"$tk" check-config "$frag" "$config" >"$out" 2>&1 || true
	if grep -Eq -- "$pat" "$out"; then
		fail "$desc (unexpected /$pat/ in the output)"
	else
		ok "$desc"
	fi
}

expect "a config that has every option passes" 0 \
	"$fx/fragment.config" "$fx/good.config" \
	'all 12 options'

expect "options dropped by olddefconfig are reported by name" 1 \
	"$fx/fragment.config" "$fx/dropped.config" \
	'CONFIG_BLOCK: wanted =y, got is not set' \
	'CONFIG_SWAP: wanted =y, got absent' \
	'CONFIG_ZRAM: wanted =y, got absent' \
	'3 of 12 options .* CONFIG_BLOCK CONFIG_SWAP CONFIG_ZRAM$'

expect_absent "options that survived are not reported" \
	"$fx/fragment.config" "$fx/dropped.config" \
	'CONFIG_(KUNIT|KASAN|NR_CPUS|SLUB_TINY):'

expect "changed values are reported, including 'is not set' lines" 1 \
	"$fx/fragment.config" "$fx/changed.config" \
	'CONFIG_KUNIT: wanted =m, got =y' \
	'CONFIG_NR_CPUS: wanted =8, got =64' \
	'CONFIG_LOCALVERSION: wanted ="-test", got =""' \
	'CONFIG_KASAN: wanted =y, got absent' \
	'CONFIG_SLUB_TINY: wanted is not set, got =y' \
	'CONFIG_DEBUG_KMEMLEAK_AUTO_SCAN: wanted is not set, got =y' \
	'^6 of 12 options'

expect "a malformed fragment line is an error, not a pass" 2 \
	"$fx/bad-fragment.config" "$fx/good.config" \
	'bad-fragment.config:3: not an option or a comment: CONFIG_SWAP y'

expect "a missing config file is an error" 1 \
	"$fx/fragment.config" "$fx/does-not-exist.config" \
	'cannot read config'

# The real fragment must parse: against an empty config every "=value"
# line is missing (exit 1, not 2 for a malformed line), while the "is
# not set" lines hold.
empty=$(mktemp)
for frag in "$here/../kconfig/debug-6.12.config" "$here/debug-6.12-acpi.config"; do
	f=${frag##*/}
	expect "$f parses; an empty config lacks its options" 1 \
		"$frag" "$empty" \
		'CONFIG_KASAN: wanted =y, got absent' \
		'CONFIG_ZRAM: wanted =y, got absent'
	expect_absent "$f: an absent option counts as not set" \
		"$frag" "$empty" \
		'CONFIG_(SLUB_TINY|DEBUG_KMEMLEAK_AUTO_SCAN):'
done

# debug-7.3 is built from debug-6.12.config and then debug-7.3.config;
# the check sees them merged, the later line winning: the 6.12 line for
# the option 7.3 renamed is overridden, and the new name is asked for.
merged=$(mktemp)
if "$here/../testkernel" merge-fragments "$merged" \
	"$here/../kconfig/debug-6.12.config" "$here/../kconfig/debug-7.3.config" >"$out" 2>&1; then
	expect "debug-6.12.config + debug-7.3.config: merged, an empty config lacks their options" 1 \
		"$merged" "$empty" \
		'CONFIG_KASAN: wanted =y, got absent' \
		'CONFIG_SYSCTL: wanted =y, got absent'
	expect_absent "debug-6.12.config + debug-7.3.config: PROC_SYSCTL is overridden" \
		"$merged" "$empty" \
		'CONFIG_PROC_SYSCTL:'
else
	fail "merge-fragments debug-6.12.config debug-7.3.config"
fi
rm -f "$merged"

# Small fragments: the override sets one option of the base fragment
# differently, unsets one and adds one.
if "$here/../testkernel" merge-fragments "$merged" \
	"$fx/fragment.config" "$fx/fragment-override.config" >"$out" 2>&1; then
	expect "merged fragments: a later fragment's line wins" 0 \
		"$merged" "$fx/override-good.config" \
		'all 13 options'
	expect "merged fragments: the base fragment alone does not hold" 1 \
		"$fx/fragment.config" "$fx/override-good.config" \
		'CONFIG_NR_CPUS: wanted =8, got =2' \
		'CONFIG_ZRAM: wanted =y, got is not set'
else
	fail "merge-fragments fragment.config fragment-override.config"
fi
if "$here/../testkernel" merge-fragments "$merged" \
	"$fx/fragment.config" "$fx/bad-fragment.config" >"$out" 2>&1; then
	fail "merge-fragments refuses a malformed line"
else
	if grep -q 'bad-fragment.config:3: not an option or a comment' "$out"; then
		ok "merge-fragments refuses a malformed line"
	else
		fail "merge-fragments refuses a malformed line (no line number in the output)"
	fi
fi
rm -f "$empty" "$merged"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
