# SPDX-License-Identifier: GPL-2.0
#
# mlockdev.  Kbuild reads ./Kbuild, not this file, so the usual
# "make -C $KDIR M=$PWD" works as for any out-of-tree module; this file only
# adds shortcuts.  Everything it generates goes under build/.
#
#   make [KDIR=DIR]          build the module in place (default: the running
#                            kernel's /lib/modules/$(uname -r)/build)
#   make run   [KERNEL=...]  set up, build, boot a test kernel with the module
#                            loaded and show it next to the real syscall
#   make check [KERNELS=all] set up, then every suite on every default kernel
#                            (all: debug-6.12 too)
#   make bench [KERNEL=...]  device vs syscall benchmarks (Documentation/performance.rst)
#   make shell [KERNEL=...]  boot a test kernel to a shell, module loaded
#   make test SUITE=diff [CASE=PATTERN] [KERNEL=...]
#                            the inner loop: rebuild what changed, boot one
#                            guest, run one suite (or case) and print its KTAP
#   make fuzz  [KERNEL=...] [SECONDS=60] [SEED=N]
#                            random operations on the device in a guest,
#                            invariants checked (Documentation/fuzzing.rst)
#   make lint                W=1 + sparse on every kernel, checkpatch --strict
#   make deb                 Debian packages into build/deb/, lintian-checked
#                            (Documentation/packaging.rst)
#   make clean               remove build/ and in-place build products
#
# KERNEL is stock-6.12 (default), stock-6.1, debug-6.12, stock-7.2,
# stock-7.3, debug-7.3, or the path of your own bzImage together with
# KDIR=its build tree.  ACCEL=auto (default: KVM
# when it can boot a guest here, else TCG), kvm or tcg, for every target
# that boots a VM.  SUITE is kunit, abi, access, diff, residency,
# stress, adversity, userspace, bench, all, or an ABI 1.1 program:
# diff_ex, diff_pidfd, strict, openbsd, cap, trace, pidfd, workers.

KERNEL ?= stock-6.12
# make check's kernels: default (all but debug-6.12, to fit a cold run in
# CI's 90 minutes), all, or a comma-separated list of names.
KERNELS ?= default
ACCEL ?= auto
SUITE ?= diff
CASE ?=
KDIR ?= /lib/modules/$(shell uname -r)/build
SECONDS ?= 60
SEED ?=

# A KERNEL that is a file is a developer's own kernel, built against KDIR.
ifneq ($(wildcard $(KERNEL)),)
KERNEL_NAME := custom
BUILD_ARGS := custom $(KDIR)
VM_ARGS := --kernel-image $(abspath $(KERNEL)) --kdir $(abspath $(KDIR))
else
KERNEL_NAME := $(KERNEL)
BUILD_ARGS := $(KERNEL)
VM_ARGS := --kernel $(KERNEL)
endif
MODULE_DIR := build/$(KERNEL_NAME)/module/kernel
VM_ARGS += --accel $(ACCEL)

.PHONY: all modules modules_install clean run check bench shell lint setup \
	demo help test deb fuzz

all modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

setup:
	tools/setup

demo: setup
	$(MAKE) -C tools/demo

run: setup demo
	tools/build-module $(BUILD_ARGS)
	tools/vm/run $(VM_ARGS) --module $(MODULE_DIR)/mlockdev.ko \
		--add tools/demo/mlockdev-demo:/opt/mlockdev/mlockdev-demo \
		-- /opt/mlockdev/mlockdev-demo

# Guests at once: auto (one per 2 cores and 4 GiB available) or a number.
check: JOBS ?= auto
check:
	tools/check.py --accel $(ACCEL) --kernels '$(KERNELS)' --jobs '$(JOBS)'

test: setup
	tools/test-one $(VM_ARGS) --suite '$(SUITE)' $(if $(CASE),--case '$(CASE)')

fuzz: setup
	tools/fuzz/run $(VM_ARGS) --seconds $(SECONDS) $(if $(SEED),--seed $(SEED))

lint: setup
	tools/check.py --only build --only lint

shell: setup
	tools/build-module $(BUILD_ARGS)
	tools/vm/shell $(VM_ARGS) --module $(MODULE_DIR)/mlockdev.ko

deb: setup
	tools/packaging/build-deb

bench: setup
	tools/bench/run $(VM_ARGS)

clean:
	rm -rf build
	-$(MAKE) -C selftests clean
	-$(MAKE) -C tools/demo clean
	-$(MAKE) -C tools/libmlockdev clean
	-$(MAKE) -C tools/mlockdevctl clean
	-$(MAKE) -C tools/bench clean
	-$(MAKE) -C tools/fuzz clean
	find kernel -name '*.o' -o -name '*.ko' -o -name '*.mod' -o \
		-name '*.mod.c' -o -name '.*.cmd' -o -name 'modules.order' | \
		xargs rm -f
	rm -f Module.symvers modules.order .module-common.o

help:
	@sed -n '3,32p' Makefile | sed 's/^# \{0,1\}//'
