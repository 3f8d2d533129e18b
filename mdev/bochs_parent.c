// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice bochs-display parent: the physical card's VRAM, carved into
 * slices (the pool), and its register file, which shows one tenant on
 * the physical screen (scanout.c).  What every parent shares (binding,
 * types, instances, policy) is in parent.c, instance.c and policy.c.
 */

#include <linux/io.h>
#include <linux/log2.h>
#include <linux/pci.h>

#include "vslice.h"

/* The smallest slice; the pool's unit. */
#define VSLICE_GRANULE		SZ_4M

static u16 vslice_bochs_parent_dispi_read(struct vslice_parent *parent,
					  u16 index)
{
	return readw(parent->mmio + VSLICE_DISPI_OFFSET + index * 2);
}

static void vslice_bochs_parent_dispi_write(struct vslice_parent *parent,
					    u16 index, u16 val)
{
	writew(val, parent->mmio + VSLICE_DISPI_OFFSET + index * 2);
}

/* Check the register interface and find how much VRAM is usable. */
static int vslice_bochs_parent_check_dispi(struct vslice_parent *parent)
{
	struct pci_dev *pdev = parent->pdev;
	u64 bar0 = pci_resource_len(pdev, 0);
	u64 vram;
	u16 id;

	id = vslice_bochs_parent_dispi_read(parent, VSLICE_DISPI_ID);
	if ((id & 0xfff0) != (VSLICE_DISPI_ID5 & 0xfff0)) {
		pci_err(pdev, "DISPI ID 0x%04x is not a bochs interface\n", id);
		return -ENODEV;
	}

	vram = (u64)vslice_bochs_parent_dispi_read(parent,
						   VSLICE_DISPI_VIDEO_MEMORY_64K) *
	       SZ_64K;
	if (vram != bar0)
		pci_warn(pdev, "VRAM is %llu KiB, BAR0 %llu KiB: using the smaller\n",
			 vram / SZ_1K, bar0 / SZ_1K);
	vram = min(vram, bar0);
	if (vram < VSLICE_GRANULE) {
		pci_err(pdev, "%llu KiB of VRAM is too little to slice\n",
			vram / SZ_1K);
		return -ENODEV;
	}
	parent->vram_size = rounddown_pow_of_two(vram);
	return 0;
}

/* Model @probe: map the registers and the VRAM, build the pool and types. */
static int vslice_bochs_parent_probe(struct vslice_parent *parent)
{
	struct pci_dev *pdev = parent->pdev;
	int ret;

	if (!(pci_resource_flags(pdev, 0) & IORESOURCE_MEM) ||
	    !(pci_resource_flags(pdev, 2) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, 2) < VSLICE_MMIO_SIZE) {
		pci_err(pdev, "bochs-display without its BARs, not binding\n");
		return -ENODEV;
	}

	parent->mmio = pci_iomap(pdev, 2, VSLICE_MMIO_SIZE);
	if (!parent->mmio)
		return -ENOMEM;

	ret = vslice_bochs_parent_check_dispi(parent);
	if (ret)
		goto err_unmap_mmio;

	parent->vram_phys = pci_resource_start(pdev, 0);
	parent->vram = ioremap_wc(parent->vram_phys, parent->vram_size);
	if (!parent->vram) {
		ret = -ENOMEM;
		goto err_unmap_mmio;
	}

	/* The host screen shows no tenant until the admin picks one. */
	vslice_bochs_parent_dispi_write(parent, VSLICE_DISPI_ENABLE, 0);

	ret = vslice_pool_init(&parent->pool, parent->vram, parent->vram_size,
			       VSLICE_GRANULE);
	if (ret)
		goto err_unmap_vram;

	vslice_types_init(parent);
	pci_info(pdev, "%llu MiB of VRAM, %u types\n",
		 parent->vram_size / SZ_1M, parent->nr_types);
	return 0;

err_unmap_vram:
	iounmap(parent->vram);
err_unmap_mmio:
	pci_iounmap(pdev, parent->mmio);
	return ret;
}

/* Model @remove: every instance is gone, and with it every slice. */
static void vslice_bochs_parent_remove(struct vslice_parent *parent)
{
	vslice_pool_fini(&parent->pool);
	iounmap(parent->vram);
	pci_iounmap(parent->pdev, parent->mmio);
}

/* Model @admit_locked: a clean slice of the type's size. */
static int vslice_bochs_parent_admit_locked(struct vslice_inst *inst)
{
	struct vslice_parent *parent = inst->parent;

	lockdep_assert_held(&parent->lock);
	return vslice_pool_alloc(&parent->pool, inst->type->size, &inst->slice);
}

/* Model @release_locked: the slice goes back, to be cleared. */
static void vslice_bochs_parent_release_locked(struct vslice_inst *inst)
{
	lockdep_assert_held(&inst->parent->lock);
	vslice_pool_free(&inst->parent->pool, &inst->slice);
}

static unsigned int
vslice_bochs_parent_available_locked(struct vslice_parent *parent,
				     const struct vslice_type *type)
{
	lockdep_assert_held(&parent->lock);
	return vslice_pool_available(&parent->pool, type->size);
}

static ssize_t vslice_bochs_parent_describe(struct vslice_parent *parent,
					    const struct vslice_type *t,
					    char *buf)
{
	return sysfs_emit(buf,
			  "%llu MiB VRAM, max resolution %ux%u, max instances %llu\n",
			  t->size / SZ_1M, t->max_xres, t->max_yres,
			  parent->vram_size / t->size);
}

const struct vslice_parent_model vslice_bochs_parent_model = {
	.name			= "bochs-display",
	.device			= VSLICE_BOCHS_DEVICE,
	.mdev_driver		= &vslice_mdev_driver,
	.probe			= vslice_bochs_parent_probe,
	.remove			= vslice_bochs_parent_remove,
	.admit_locked		= vslice_bochs_parent_admit_locked,
	.release_locked		= vslice_bochs_parent_release_locked,
	.available_locked	= vslice_bochs_parent_available_locked,
	.inst_init		= vslice_bochs_init,
	.inst_remove_locked	= vslice_scanout_detach_locked,
	.describe		= vslice_bochs_parent_describe,
};
