// SPDX-License-Identifier: GPL-2.0
/*
 * Compiled with -c into a file named mlockdev.ko for the host tests: not a
 * loadable module, just the .modinfo section libkmod reads (vermagic,
 * name).  FAKE_VERMAGIC is set on the command line.
 */
__attribute__((section(".modinfo"), used, aligned(1)))
static const char fake_modinfo[] =
	"vermagic=" FAKE_VERMAGIC "\0"
	"name=mlockdev\0"
	"license=GPL";
