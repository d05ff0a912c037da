#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run an installed kselftest tree (make -C selftests install
# INSTALL_PATH=DIR) with nothing but a POSIX shell and busybox, and print
# one KTAP document on stdout.
#
# The kernel's run_kselftest.sh (installed beside this script) needs
# coreutils' "timeout --foreground" whenever /usr/bin/timeout exists; with
# busybox's timeout there every test fails with exit=1.  It also always
# exits 0.  This runner reads the same kselftest-list.txt and per-collection
# "settings" files, prints results in the same form, enforces the timeouts
# itself, and reports through its exit status:
#
#   0  every test passed
#   1  at least one test failed or timed out (or a usage error)
#   4  none failed, at least one was skipped
#
# Usage: run_selftests.sh [-l] [-d] [-o SECS] [-c COLLECTION]... [-t COLLECTION:TEST]...

BASE_DIR=$(cd "$(dirname "$0")" && pwd) || exit 1
LIST=$BASE_DIR/kselftest-list.txt
DEFAULT_TIMEOUT=45	# kselftest's default when "settings" has none
KILL_GRACE=5		# SIGKILL this long after SIGTERM
SKIP_RC=4

usage() {
	cat <<EOF
Usage: $0 [OPTIONS]
  -l            list the tests (COLLECTION:TEST), run nothing
  -d            dry run: print the plan and the tests, run nothing
  -o SECS       per-test timeout, overriding each collection's settings
  -c COLL       run the tests of collection COLL (repeatable)
  -t COLL:TEST  run one test (repeatable)
  -h            this help
Exit status: 0 all passed, 1 something failed, 4 nothing failed but
something was skipped.
EOF
	exit "$1"
}

list=
dryrun=
override_timeout=
wanted=
while [ $# -gt 0 ]; do
	case "$1" in
	-l) list=1; shift ;;
	-d) dryrun=1; shift ;;
	-o) [ $# -ge 2 ] || usage 1; override_timeout=$2; shift 2 ;;
	-c) [ $# -ge 2 ] || usage 1; wanted="$wanted c:$2"; shift 2 ;;
	-t) [ $# -ge 2 ] || usage 1; wanted="$wanted t:$2"; shift 2 ;;
	-h) usage 0 ;;
	*) usage 1 ;;
	esac
done

if [ ! -r "$LIST" ]; then
	echo "$0: no list of tests ($LIST)" >&2
	exit 1
fi
case "$override_timeout" in
''|*[!0-9]*) [ -z "$override_timeout" ] || usage 1 ;;
esac

# The tests to run, as COLLECTION:TEST lines, in list order.
selected=$(while IFS= read -r entry; do
	[ -n "$entry" ] || continue
	if [ -z "$wanted" ]; then
		echo "$entry"
		continue
	fi
	for w in $wanted; do
		case "$w" in
		"c:${entry%%:*}"|"t:$entry") echo "$entry"; break ;;
		esac
	done
done <"$LIST")

# Every -c and -t must name something that exists.
for w in $wanted; do
	found=
	for entry in $selected; do
		case "$w" in
		"c:${entry%%:*}"|"t:$entry") found=1; break ;;
		esac
	done
	if [ -z "$found" ]; then
		case "$w" in
		c:*) what=collection ;;
		*) what="test" ;;
		esac
		echo "$0: no such $what '${w#?:}' in $LIST" >&2
		exit 1
	fi
done

if [ -n "$list" ]; then
	[ -z "$selected" ] || echo "$selected"
	exit 0
fi

# timeout= from a collection's settings file, else the default.  Only the
# timeout field is understood; other fields are ignored.
collection_timeout() {
	t=$DEFAULT_TIMEOUT
	if [ -r "$BASE_DIR/$1/settings" ]; then
		while IFS='=' read -r key value; do
			case "$key" in
			timeout)
				case "$value" in
				''|*[!0-9]*) ;;
				*) t=$value ;;
				esac ;;
			esac
		done <"$BASE_DIR/$1/settings"
	fi
	echo "$t"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/run_selftests.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# With setsid(1) (util-linux or busybox) each test gets a process group of
# its own, and a timeout kills the whole group: children the test forked
# die with it instead of keeping the output pipe open.  Without it only the
# test's own process is signalled.
SETSID=
if command -v setsid >/dev/null 2>&1; then
	SETSID=setsid
fi

# signal_test SIG PID: the test's process group if it has one, else PID.
signal_test() {
	if [ -n "$SETSID" ]; then
		kill -"$1" -"$2" || kill -"$1" "$2"
	else
		kill -"$1" "$2"
	fi
}

# Run "$@" for at most $2 seconds: SIGTERM then, SIGKILL KILL_GRACE later.
# Returns the command's status; creates the file $1 if the time ran out.
# The watchdog polls once a second and ends by itself soon after the
# command; its output goes nowhere, so it never holds the pipe to sed.
run_limited() {
	marker=$1
	secs=$2
	shift 2
	$SETSID "$@" </dev/null &
	pid=$!
	(
		i=0
		while [ $i -lt "$secs" ]; do
			sleep 1
			kill -0 $pid 2>/dev/null || exit 0
			i=$((i + 1))
		done
		: >"$marker"
		signal_test TERM $pid
		i=0
		while [ $i -lt $KILL_GRACE ] && kill -0 $pid 2>/dev/null; do
			sleep 1
			i=$((i + 1))
		done
		signal_test KILL $pid
	) >/dev/null 2>&1 &
	wait $pid
}

total=$(echo "$selected" | grep -c .)
echo "TAP version 13"
echo "1..$total"

n=0 pass=0 fail=0 skip=0
for entry in $selected; do
	n=$((n + 1))
	coll=${entry%%:*}
	test=${entry#*:}
	desc="selftests: $coll: $test"
	timeout=${override_timeout:-$(collection_timeout "$coll")}

	echo "# timeout set to $timeout"
	echo "# $desc"
	if [ -n "$dryrun" ]; then
		echo "ok $n $desc # SKIP dry run"
		skip=$((skip + 1))
		continue
	fi
	if [ ! -x "$BASE_DIR/$coll/$test" ]; then
		echo "# $BASE_DIR/$coll/$test is missing or not executable"
		echo "not ok $n $desc"
		fail=$((fail + 1))
		continue
	fi

	# The test's own output, stdout and stderr, becomes KTAP diagnostics.
	( cd "$BASE_DIR/$coll" &&
	  run_limited "$work/timedout.$n" "$timeout" "./$test" 2>&1
	  echo $? >"$work/rc.$n" ) | sed 's/^/# /'
	rc=$(cat "$work/rc.$n" 2>/dev/null)

	if [ -e "$work/timedout.$n" ]; then
		echo "not ok $n $desc # TIMEOUT $timeout seconds"
		fail=$((fail + 1))
	elif [ "$rc" = 0 ]; then
		echo "ok $n $desc"
		pass=$((pass + 1))
	elif [ "$rc" = $SKIP_RC ]; then
		echo "ok $n $desc # SKIP"
		skip=$((skip + 1))
	else
		echo "not ok $n $desc # exit=${rc:-unknown}"
		fail=$((fail + 1))
	fi
done

echo "# Totals: pass:$pass fail:$fail skip:$skip"
[ $fail -eq 0 ] || exit 1
[ $skip -eq 0 ] || exit $SKIP_RC
exit 0
