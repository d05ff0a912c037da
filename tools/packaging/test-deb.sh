#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-deb.sh [DEBDIR]: build the packages (tools/packaging/build-deb,
# which also runs lintian) unless DEBDIR already holds them, unpack them
# into a scratch root with "dpkg -x" (nothing is installed on the host),
# and check what a user would get: the installed mlockdevctl runs
# (--help, --version, status with no module loaded), the library's
# soname and symlinks, the headers, the pkg-config file, the manual pages
# and the dkms source tree.
set -euo pipefail

prog=test-deb
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }

debdir=${1:-}
if [ -z "$debdir" ]; then
	debdir=$top/build/deb
	"$top/tools/packaging/build-deb" "$debdir"
fi
ver=$(cd "$top" && dpkg-parsechangelog -S Version)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)

# The project's other version numbers must agree with the changelog.
dkms_ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
lib_ver=$(sed -n 's/^VERSION[[:space:]]*:= *//p' "$top/tools/libmlockdev/Makefile")
ctl_ver=$(sed -n 's/^VERSION[[:space:]]*:= *//p' "$top/tools/mlockdevctl/Makefile")
[ "$dkms_ver" = "$ver" ] && [ "$lib_ver" = "$ver" ] && [ "$ctl_ver" = "$ver" ] &&
	ok "versions agree: $ver" ||
	bad "versions: changelog $ver, dkms.conf $dkms_ver, libmlockdev $lib_ver, mlockdevctl $ctl_ver"

root=$(mktemp -d "${TMPDIR:-/tmp}/mlockdev-deb.XXXXXX")
trap 'rm -rf "$root"' EXIT
for p in mlockdev-dkms_"$ver"_all libmlockdev1_"$ver"_* libmlockdev-dev_"$ver"_* mlockdevctl_"$ver"_*; do
	f=$(ls "$debdir"/$p.deb 2>/dev/null | head -n 1)
	[ -n "$f" ] || { bad "no $p.deb in $debdir"; continue; }
	dpkg-deb -x "$f" "$root"
	echo "  $(dpkg-deb -f "$f" Package Version Architecture Depends | paste -sd ' ')"
done

lib=$root/usr/lib/$ma
ctl=$root/usr/bin/mlockdevctl
check "mlockdevctl --help" "$ctl" --help
out=$("$ctl" --version 2>&1) || true
h=include/uapi/linux/mlockdev.h
abi=$(sed -n 's/^#define MLOCKDEV_ABI_MAJOR[[:space:]]*//p' "$h").$(sed -n 's/^#define MLOCKDEV_ABI_MINOR[[:space:]]*//p' "$h")
[ "$out" = "mlockdevctl $ver (ABI $abi)" ] && ok "--version: $out" || bad "--version: $out"
# The host has no module loaded: status says so and still succeeds.
if out=$("$ctl" status 2>&1) && grep -q '^module: *mlockdev: not loaded' <<<"$out"; then
	ok "status: $(head -n 1 <<<"$out")"
elif grep -q '^module: *mlockdev: loaded' <<<"$out"; then
	ok "status (module loaded here): $(head -n 1 <<<"$out")"
else
	bad "status: $out"
fi
soname=$(readelf -d "$lib/libmlockdev.so.$ver" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libmlockdev.so.1 ] && ok "soname $soname" || bad "soname '$soname'"
[ "$(readlink "$lib/libmlockdev.so.1")" = "libmlockdev.so.$ver" ] && ok "libmlockdev.so.1 link" || bad "libmlockdev.so.1 link"
[ "$(readlink "$lib/libmlockdev.so")" = libmlockdev.so.1 ] && ok "libmlockdev.so link (dev)" || bad "libmlockdev.so link"
check "preload shim" test -f "$lib/mlockdev/libmlockdev-preload.so"
check "the installed binary names the installed shim" \
	grep -q "/usr/lib/$ma/mlockdev/libmlockdev-preload.so" "$ctl"
check "static library" test -f "$lib/libmlockdev.a"
check "headers" test -f "$root/usr/include/mlockdev/mlockdev.h" -a \
	-f "$root/usr/include/mlockdev/uapi/linux/mlockdev.h"
check "pkg-config file says /usr" grep -qx "libdir=/usr/lib/$ma" "$lib/pkgconfig/mlockdev.pc"
# A program built against the unpacked -dev package and run with the
# unpacked library.
cat >"$root/t.c" <<'EOC'
#include <mlockdev/mlockdev.h>
#include <stdio.h>
int main(void) { printf("%s\n", mlockdev_device_path()); return 0; }
EOC
if cc -I"$root/usr/include" -I"$root/usr/include/mlockdev/uapi" -o "$root/t" "$root/t.c" \
	-L"$lib" -lmlockdev && LD_LIBRARY_PATH=$lib "$root/t" >/dev/null; then
	ok "a program compiles, links and runs against the packages"
else
	bad "a program against the packages"
fi
check "man page mlockdevctl(1)" test -f "$root/usr/share/man/man1/mlockdevctl.1.gz"
check "man page libmlockdev(3)" test -f "$root/usr/share/man/man3/libmlockdev.3.gz"
src=$root/usr/src/mlockdev-$ver
check "dkms source tree with dkms.conf" cmp "$src/dkms.conf" "$top/dkms.conf"
check "dkms source tree has the module's sources" test -f "$src/Kbuild" -a \
	-f "$src/kernel/Kbuild" -a -f "$src/kernel/core.c" -a -f "$src/include/uapi/linux/mlockdev.h"

if [ "$fails" -ne 0 ]; then
	echo "$prog: $fails check(s) failed"
	exit 1
fi
echo "$prog: all checks passed"
