#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs every guest-*.sh next to this script (in a test guest, mlockdev
# loaded) and prints one KTAP document: each script's own KTAP indented as
# a subtest, then its result.  Exit status 1 if any script failed.
#
#   run-guest-tests.sh [SCRIPT-NAME-GLOB]
DIR=$(cd "$(dirname "$0")" && pwd)
ONLY=${1:-*}

set --
for t in "$DIR"/guest-*.sh; do
	[ -f "$t" ] || continue
	# shellcheck disable=SC2254
	case ${t##*/} in $ONLY) set -- "$@" "$t" ;; esac
done

RCFILE=$(mktemp /tmp/run-guest-tests.XXXXXX) || exit 1
trap 'rm -f "$RCFILE"' EXIT INT TERM

echo "KTAP version 1"
echo "1..$#"
i=0 failed=0
for t in "$@"; do
	i=$((i + 1))
	name=${t##*/}
	name=${name%.sh}
	echo "  # Subtest: $name"
	echo 1 > "$RCFILE"
	# The script's own status, not sed's.
	{ sh "$t" 2>&1; echo $? > "$RCFILE"; } | sed 's/^/  /'
	rc=$(cat "$RCFILE")
	if [ "$rc" -eq 0 ]; then
		echo "ok $i $name"
	else
		failed=$((failed + 1))
		echo "not ok $i $name # exit status $rc"
	fi
done
[ "$failed" -eq 0 ]
