#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-dkms.sh [KERNEL]: run the real dkms add, build and install of
# mlockdev against a cached test kernel's headers (default stock-6.12),
# in a private dkms tree, source tree and install tree, then check that
# the installed module's vermagic names that kernel's release.
#
# The host's /var/lib/dkms and /lib/modules are not touched: every tree is
# under a temporary directory, depmod is off (--no-depmod), and when this
# runs as root with unshare(1) the dkms commands run in a mount namespace
# of their own with an empty /var/lib/dkms, so that a signing key dkms
# might create never lands on the host.  The script checks that both host
# directories look the same afterwards.
#
# The module is kept as build/dkms/RELEASE/mlockdev.ko; loading it in a
# guest is an optional step (Documentation/packaging.rst):
#   flock /tmp/mlockdev-vm.lock tools/vm/run --kernel stock-6.12 \
#       --module build/dkms/RELEASE/mlockdev.ko -- cat /proc/modules
set -euo pipefail

prog=test-dkms
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kernel=${1:-stock-6.12}

msg() { printf '%s: %s\n' "$prog" "$*" >&2; }
fail() { printf '%s: FAIL: %s\n' "$prog" "$*" >&2; exit 1; }

# --- inside the private mount namespace (see the end of the file) -------
if [ "${MLOCKDEV_DKMS_NS:-}" = 1 ]; then
	if [ -d /var/lib/dkms ]; then
		mount -t tmpfs mlockdev-dkms-test /var/lib/dkms
	else
		# Hide /var/lib for dkms alone rather than create a directory
		# on the host.
		mount -t tmpfs mlockdev-dkms-test /var/lib
		mkdir /var/lib/dkms
	fi
	shift
	exec "$@"
fi

DKMS=$(command -v dkms || echo /usr/sbin/dkms)
[ -x "$DKMS" ] || fail "dkms is not installed: run tools/setup"
# dkms 3 refuses to run as a user.
[ "$(id -u)" = 0 ] || { msg "SKIP: dkms needs root"; exit 0; }

"$top/tools/testkernel" prepare "$kernel" >&2
eval "$("$top/tools/testkernel" env "$kernel")"
rel=$MLOCKDEV_KERNEL_RELEASE
kdir=$MLOCKDEV_KDIR
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
[ -n "$ver" ] || fail "no PACKAGE_VERSION in dkms.conf"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mlockdev-dkms.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
src=$tmp/src dkmstree=$tmp/dkms inst=$tmp/modules
mkdir -p "$src" "$dkmstree" "$inst/$rel"
"$top/tools/packaging/dkms-source" "$src/mlockdev-$ver"

host_state() {
	ls -laR --time-style=full-iso /var/lib/dkms "/lib/modules/$rel" 2>&1 || true
}
before=$(host_state)

# A private /var/lib/dkms where we can have one.
wrap=()
if unshare --mount --propagation private true 2>/dev/null; then
	wrap=(env MLOCKDEV_DKMS_NS=1 unshare --mount --propagation private
	      "${BASH_SOURCE[0]}" --ns)
else
	msg "no unshare: dkms runs without a private /var/lib/dkms"
fi
trees=(--dkmstree "$dkmstree" --sourcetree "$src" --installtree "$inst")
run_dkms() {
	echo "+ dkms $*"
	"${wrap[@]}" "$DKMS" "$@" "${trees[@]}"
}

run_dkms add -m mlockdev -v "$ver" || fail "dkms add"
# dkms keeps make's output as .../RELEASE/ARCH/log/make.log, or in
# build/ when the build failed.
makelog() {
	find "$dkmstree/mlockdev/$ver" -name make.log -print -quit
}
if ! run_dkms build -m mlockdev -v "$ver" -k "$rel" --kernelsourcedir "$kdir"; then
	log=$(makelog)
	[ -z "$log" ] || tail -n 30 "$log"
	fail "dkms build for $rel"
fi
log=$(makelog)
[ -n "$log" ] || fail "dkms build left no make.log"
echo "--- ${log#"$tmp"/} (tail)"
tail -n 8 "$log"
echo "---"
run_dkms install -m mlockdev -v "$ver" -k "$rel" --kernelsourcedir "$kdir" \
	--no-depmod || fail "dkms install for $rel"
run_dkms status -m mlockdev

ko=
for f in "$inst/$rel/updates/dkms/mlockdev.ko"{,.xz,.zst,.gz}; do
	[ -f "$f" ] && { ko=$f; break; }
done
[ -n "$ko" ] || fail "no mlockdev.ko under $inst/$rel/updates/dkms: $(find "$inst" -type f)"
vermagic=$(/sbin/modinfo -F vermagic "$ko")
echo "installed: ${ko#"$tmp"/} vermagic: $vermagic"
[ "${vermagic%% *}" = "$rel" ] || fail "vermagic '$vermagic' is not for $rel"

after=$(host_state)
[ "$before" = "$after" ] || fail "/var/lib/dkms or /lib/modules/$rel changed on the host"

out=$top/build/dkms/$rel
mkdir -p "$out"
case $ko in
*.xz) xz -dc "$ko" >"$out/mlockdev.ko" ;;
*.zst) zstd -qdc "$ko" >"$out/mlockdev.ko" ;;
*.gz) gzip -dc "$ko" >"$out/mlockdev.ko" ;;
*) cp "$ko" "$out/mlockdev.ko" ;;
esac
echo "ok: dkms built and installed mlockdev $ver for $rel; module kept as ${out#"$top"/}/mlockdev.ko"
echo "optional, in a guest: flock /tmp/mlockdev-vm.lock tools/vm/run --kernel $kernel --module ${out#"$top"/}/mlockdev.ko -- cat /proc/modules"
