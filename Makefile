# vslice: out-of-tree build against the running kernel (make), and the test
# bed (make test, make demo; see README and scripts/bed).
KDIR ?= /lib/modules/$(shell uname -r)/build
KERNELS ?=
KERNEL ?= 6.12

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf out

# Build, boot and test every kernel in scripts/kernels (or KERNELS="6.1 7.x").
test:
	scripts/bed test $(KERNELS)

# Boot one kernel (KERNEL=6.12) and show vslice's types and an instance.
demo:
	scripts/bed demo $(KERNEL)

.PHONY: modules clean test demo
