# vslice: out-of-tree build against the running kernel (make), and the test
# bed (make test, make demo, make bench; see README and scripts/bed).
KDIR ?= /lib/modules/$(shell uname -r)/build
KERNELS ?=
KERNEL ?= 6.12

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf out

# Install into /lib/modules/<release of KDIR>/$(INSTALL_MOD_DIR) (under
# INSTALL_MOD_PATH if set) and run depmod; uninstall removes it again.
INSTALL_MOD_DIR ?= updates
MODDIR = $(INSTALL_MOD_PATH)/lib/modules/$(KRELEASE)/$(INSTALL_MOD_DIR)
# The release the module is built for (what its vermagic says).
KRELEASE = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h)
DEPMOD = depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KRELEASE)

install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(INSTALL_MOD_PATH) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) modules_install
	$(DEPMOD)

uninstall:
	rm -f $(MODDIR)/vslice.ko $(MODDIR)/vslice.ko.xz $(MODDIR)/vslice.ko.zst \
		$(MODDIR)/vslice.ko.gz
	$(DEPMOD)

# DKMS: copy the module's sources to $(DKMS_SRC) with dkms.conf's version
# filled in, then dkms add, build and install it (for the running kernel;
# DKMS_FLAGS="-k RELEASE" for another, or --dkmstree/--sourcetree/
# --installtree for a private tree). dkms-uninstall removes it again.
VERSION := $(shell cat $(CURDIR)/VERSION)
DKMS_SRC ?= /usr/src/vslice-$(VERSION)
DKMS ?= dkms
DKMS_FLAGS ?=
DKMS_FILES = Kbuild Kconfig Makefile VERSION \
	$(patsubst $(CURDIR)/%,%,$(wildcard $(CURDIR)/mdev/*.[ch] $(CURDIR)/vfio_core/*.[ch]))

dkms-src:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)
	cd $(CURDIR) && cp --parents $(DKMS_FILES) $(DKMS_SRC)/
	sed 's/#VERSION#/$(VERSION)/' $(CURDIR)/dkms.conf > $(DKMS_SRC)/dkms.conf

dkms-install: dkms-src
	$(DKMS) add vslice/$(VERSION) $(DKMS_FLAGS)
	$(DKMS) build vslice/$(VERSION) $(DKMS_FLAGS)
	$(DKMS) install vslice/$(VERSION) $(DKMS_FLAGS)

dkms-uninstall:
	$(DKMS) remove vslice/$(VERSION) $(DKMS_FLAGS) $(if $(findstring -k ,$(DKMS_FLAGS)),,--all)
	rm -rf $(DKMS_SRC)

# Build, boot and test every kernel in scripts/kernels (or KERNELS="6.1 7.x").
test:
	scripts/bed test $(KERNELS)

# make test, and the nested display tests on every kernel as guest kernel
# (make test runs them on one, 6.12).
test-full:
	scripts/bed test-full $(KERNELS)

# Build a 6.12 kernel with KASAN, lockdep, kmemleak and fault injection from
# Debian's linux-source (cached) and run the selftests on it through the VFIO
# group and cdev paths; about an hour the first time (see README).
test-debug:
	scripts/bed test-debug

# Boot one kernel (KERNEL=6.12) and show vslice's types and an instance.
demo:
	scripts/bed demo $(KERNEL)

# Boot one kernel (KERNEL=6.12) and measure vslice against vfio-pci and
# mbochs: out/bench/bench.json (see README).
bench:
	scripts/bed bench $(KERNEL)

.PHONY: modules clean install uninstall dkms-src dkms-install dkms-uninstall test test-full test-debug demo bench
