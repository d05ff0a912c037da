#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tools/vm/tests/splat/build.sh KDIR OUTDIR
#
# Build vm_splat.ko against KDIR in OUTDIR (the source is copied there, so
# the checkout stays clean).  Prints the path of the module.
set -eu
kdir=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
cp "$here/vm_splat.c" "$here/Kbuild" "$out/"
make -s -C "$kdir" M="$(cd "$out" && pwd)" modules >"$out/build.log" 2>&1 || {
	cat "$out/build.log" >&2
	exit 1
}
echo "$(cd "$out" && pwd)/vm_splat.ko"
