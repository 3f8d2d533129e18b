// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice bochs-display model: what every instance looks like to a guest.
 *
 * BAR0 is the instance's slice of the parent's VRAM, mapped straight to
 * the hardware.  BAR2 is the 4 KiB register file of QEMU's bochs-display,
 * trapped and emulated per instance:
 *
 *   0x000-0x3ff  EDID blob (read-only; see display.c)
 *   0x400-0x41f  VGA I/O window (bochs-display has no VGA: reads are all
 *                ones; attribute-controller writes blank and unblank)
 *   0x500-0x515  DISPI registers, 16 bits each
 *   0x600-0x607  QEMU extended registers: size, framebuffer byte order
 *   elsewhere    unassigned: reads are all ones, writes are dropped
 *
 * Accesses behave as on QEMU's device, including how it widens narrow
 * DISPI accesses: the registers are 16-bit, a 1-byte read returns the low
 * byte of the register that holds the address, a 1-byte write stores the
 * byte zero-extended, and a 4-byte access is two register accesses.  The
 * extended registers answer 4-byte accesses only.
 */

#include <linux/io.h>
#include <linux/string.h>

#include "vslice.h"

/* Unassigned bytes of the register file read as all ones. */
#define VSLICE_MMIO_UNASSIGNED	0xffffffffu

static u16 vslice_bochs_dispi_read(struct vslice_inst *inst,
				   unsigned int index)
{
	switch (index) {
	case VSLICE_DISPI_ID:
		return VSLICE_DISPI_ID5;
	case VSLICE_DISPI_VIDEO_MEMORY_64K:
		return inst->slice.size / SZ_64K;
	}
	if (index >= VSLICE_DISPI_NR_REGS)
		return 0xffff;
	return inst->regs.dispi[index];
}

static void vslice_bochs_dispi_write_locked(struct vslice_inst *inst,
					    unsigned int index, u16 val)
{
	if (index < VSLICE_DISPI_NR_REGS)
		inst->regs.dispi[index] = val;
}

/*
 * The VGA attribute controller alternates between index and data on
 * writes to 0x3c0; reading input status 1 (0x3da) resets it to index.
 * The palette-address-source bit of an index write is the blank switch
 * the bochs driver uses.
 */
static void vslice_bochs_vga_write_locked(struct vslice_inst *inst,
					  unsigned int off, u8 val)
{
	if (off != VSLICE_VGA_ATT_W)
		return;
	if (inst->regs.vga_att_index)
		inst->regs.blanked = !(val & VSLICE_VGA_ATT_PAS);
	inst->regs.vga_att_index = !inst->regs.vga_att_index;
}

static void vslice_bochs_vga_read_locked(struct vslice_inst *inst,
					 unsigned int off)
{
	if (off == VSLICE_VGA_IS1_RC)
		inst->regs.vga_att_index = true;
}

static bool vslice_bochs_in(unsigned int off, unsigned int base,
			    unsigned int size)
{
	return off >= base && off < base + size;
}

/*
 * One naturally aligned read of 1, 2 or 4 bytes at @off, without side
 * effects, so that it may run locklessly.  A 4-byte access in the DISPI
 * block is two 16-bit register accesses; one that starts on the last
 * register reads the unassigned space after it.
 */
static u32 vslice_bochs_mmio_read(struct vslice_inst *inst, unsigned int off,
				  unsigned int size)
{
	unsigned int i, reg;
	u32 val = 0;

	if (vslice_bochs_in(off, VSLICE_EDID_OFFSET, VSLICE_EDID_SIZE))
		return vslice_display_edid_read(inst, off - VSLICE_EDID_OFFSET,
						size);

	if (vslice_bochs_in(off, VSLICE_DISPI_OFFSET, VSLICE_DISPI_SIZE)) {
		reg = (off - VSLICE_DISPI_OFFSET) / 2;
		for (i = 0; i < size; i += 2, reg++)
			val |= (u32)vslice_bochs_dispi_read(inst, reg)
			       << (i * 8);
		return val;
	}

	if (vslice_bochs_in(off, VSLICE_QEXT_OFFSET, VSLICE_QEXT_SIZE)) {
		if (size != 4)
			return 0;
		if (off - VSLICE_QEXT_OFFSET == VSLICE_QEXT_REG_SIZE)
			return VSLICE_QEXT_SIZE;
		return inst->regs.big_endian_fb ? VSLICE_QEXT_BIG_ENDIAN :
						  VSLICE_QEXT_LITTLE_ENDIAN;
	}

	/* the VGA window, which reads as all ones too, and the holes */
	return VSLICE_MMIO_UNASSIGNED;
}

static void vslice_bochs_mmio_write_locked(struct vslice_inst *inst,
					   unsigned int off, unsigned int size,
					   u32 val)
{
	unsigned int i, reg;

	if (vslice_bochs_in(off, VSLICE_VGA_OFFSET, VSLICE_VGA_SIZE)) {
		for (i = 0; i < size; i++)
			vslice_bochs_vga_write_locked(inst,
						      off - VSLICE_VGA_OFFSET + i,
						      val >> (i * 8));
		return;
	}

	if (vslice_bochs_in(off, VSLICE_DISPI_OFFSET, VSLICE_DISPI_SIZE)) {
		reg = (off - VSLICE_DISPI_OFFSET) / 2;
		for (i = 0; i < size; i += 2, reg++)
			vslice_bochs_dispi_write_locked(inst, reg,
							val >> (i * 8));
		return;
	}

	if (off == VSLICE_QEXT_OFFSET + VSLICE_QEXT_REG_BYTEORDER &&
	    size == 4) {
		if (val == VSLICE_QEXT_BIG_ENDIAN)
			inst->regs.big_endian_fb = true;
		else if (val == VSLICE_QEXT_LITTLE_ENDIAN)
			inst->regs.big_endian_fb = false;
	}
}

/*
 * Walk an access in aligned pieces, little-endian.  Reads have side
 * effects only in the VGA window, and only when @locked.
 */
static void vslice_bochs_mmio_walk(struct vslice_inst *inst, u8 *bytes,
				   u64 pos, size_t count, bool write,
				   bool locked)
{
	unsigned int i, size;
	__le32 le;

	for (; count; bytes += size, pos += size, count -= size) {
		size = vslice_access_size(pos, count);
		if (write) {
			le = 0;
			vslice_copy_small(&le, bytes, size);
			vslice_bochs_mmio_write_locked(inst, pos, size,
						       le32_to_cpu(le));
			continue;
		}
		le = cpu_to_le32(vslice_bochs_mmio_read(inst, pos, size));
		vslice_copy_small(bytes, &le, size);
		if (locked &&
		    vslice_bochs_in(pos, VSLICE_VGA_OFFSET, VSLICE_VGA_SIZE))
			for (i = 0; i < size; i++)
				vslice_bochs_vga_read_locked(inst,
							     pos + i -
							     VSLICE_VGA_OFFSET);
	}
}

/*
 * The hottest access of all: a naturally aligned 2- or 4-byte read of
 * DISPI registers, which is how the bochs driver (readw) and QEMU's
 * memory core read them.  One or two register loads, no walk.
 */
static bool vslice_bochs_dispi_read_fast(struct vslice_inst *inst, void *buf,
					 u64 pos, size_t count)
{
	unsigned int reg, seq;
	__le32 le;
	u32 val;

	if ((count != 2 && count != 4) || !IS_ALIGNED(pos, count) ||
	    pos < VSLICE_DISPI_OFFSET ||
	    pos + count > VSLICE_DISPI_OFFSET + VSLICE_DISPI_SIZE)
		return false;
	reg = (pos - VSLICE_DISPI_OFFSET) / 2;
	do {
		seq = vslice_core_read_begin(&inst->core);
		val = vslice_bochs_dispi_read(inst, reg);
		if (count == 4)
			val |= (u32)vslice_bochs_dispi_read(inst, reg + 1) << 16;
	} while (vslice_core_read_retry(&inst->core, seq));
	le = cpu_to_le32(val);
	vslice_copy_small(buf, &le, count);
	return true;
}

/*
 * Region callback of BAR2.  Reads outside the VGA window change nothing
 * and take no lock (they retry if a write raced them): the trapped
 * register read is the hot path of a guest driver.
 */
static int vslice_bochs_mmio_rw(struct vslice_core_dev *cdev,
				const struct vslice_region *r, void *buf,
				u64 pos, size_t count, bool write)
{
	struct vslice_inst *inst = vslice_inst_from_core(cdev);
	unsigned int seq;

	if (!write && vslice_bochs_dispi_read_fast(inst, buf, pos, count))
		return 0;
	if (!write && (pos >= VSLICE_VGA_OFFSET + VSLICE_VGA_SIZE ||
		       pos + count <= VSLICE_VGA_OFFSET)) {
		do {
			seq = vslice_core_read_begin(cdev);
			vslice_bochs_mmio_walk(inst, buf, pos, count, false,
					       false);
		} while (vslice_core_read_retry(cdev, seq));
		return 0;
	}

	vslice_core_lock(cdev);
	vslice_bochs_mmio_walk(inst, buf, pos, count, write, true);
	if (write)
		vslice_scanout_update_locked(inst);
	vslice_core_unlock(cdev);
	return 0;
}

static const struct vslice_region_ops vslice_bochs_mmio_ops = {
	.rw	= vslice_bochs_mmio_rw,
};

/**
 * vslice_bochs_reset() - model @reset op
 * @cdev: instance
 *
 * Power-on state of bochs-display: display off, all registers zero,
 * little-endian framebuffer, not blanked.  VRAM is left alone, as on the
 * real device.
 */
static void vslice_bochs_reset(struct vslice_core_dev *cdev)
{
	struct vslice_inst *inst = vslice_inst_from_core(cdev);

	vslice_core_assert_held(cdev);
	memset(&inst->regs, 0, sizeof(inst->regs));
	inst->regs.vga_att_index = true;
	vslice_scanout_update_locked(inst);
}

/**
 * struct vslice_bochs_mig - the model's state in a migration stream
 * @dispi: the DISPI registers
 * @big_endian_fb: QEMU extended byte-order register
 * @vga_att_index: VGA attribute flip-flop
 * @blanked: display blanked through the VGA window
 * @reserved: zero
 * @edid_size: the monitor's EDID size
 * @link_state: the monitor's link state
 * @edid: the monitor's EDID blob
 *
 * The guest saw this monitor, so it travels with the device.  Bump the
 * version in VSLICE_BOCHS_MIG_COMPAT when the layout changes.
 */
struct vslice_bochs_mig {
	__le16 dispi[VSLICE_DISPI_NR_REGS];
	u8 big_endian_fb;
	u8 vga_att_index;
	u8 blanked;
	u8 reserved;
	__le32 edid_size;
	__le32 link_state;
	u8 edid[VSLICE_EDID_SIZE];
};

#define VSLICE_BOCHS_MIG_COMPAT	"bochs.1 "

/**
 * vslice_bochs_mig_save() - model @mig_save op
 * @cdev: instance, locked and stopped
 * @blob: a struct vslice_bochs_mig to fill
 */
static void vslice_bochs_mig_save(struct vslice_core_dev *cdev, void *blob)
{
	struct vslice_inst *inst = vslice_inst_from_core(cdev);
	struct vslice_bochs_mig *m = blob;
	unsigned int i;

	vslice_core_assert_held(cdev);
	memset(m, 0, sizeof(*m));
	for (i = 0; i < VSLICE_DISPI_NR_REGS; i++)
		m->dispi[i] = cpu_to_le16(inst->regs.dispi[i]);
	m->big_endian_fb = inst->regs.big_endian_fb;
	m->vga_att_index = inst->regs.vga_att_index;
	m->blanked = inst->regs.blanked;
	m->edid_size = cpu_to_le32(inst->mon.regs.edid_size);
	m->link_state = cpu_to_le32(inst->mon.regs.link_state);
	memcpy(m->edid, inst->mon.edid, sizeof(m->edid));
}

/**
 * vslice_bochs_mig_load() - model @mig_load op
 * @cdev: instance, locked
 * @blob: a struct vslice_bochs_mig from a stream
 *
 * Return: 0, or -EINVAL (and nothing changed) for state this device
 * could not have been in.
 */
static int vslice_bochs_mig_load(struct vslice_core_dev *cdev,
				 const void *blob)
{
	struct vslice_inst *inst = vslice_inst_from_core(cdev);
	const struct vslice_bochs_mig *m = blob;
	u32 link = le32_to_cpu(m->link_state);
	unsigned int i;

	vslice_core_assert_held(cdev);
	if (m->big_endian_fb > 1 || m->vga_att_index > 1 || m->blanked > 1 ||
	    m->reserved || le32_to_cpu(m->edid_size) > sizeof(m->edid) ||
	    (link != VFIO_DEVICE_GFX_LINK_STATE_UP &&
	     link != VFIO_DEVICE_GFX_LINK_STATE_DOWN))
		return -EINVAL;

	for (i = 0; i < VSLICE_DISPI_NR_REGS; i++)
		inst->regs.dispi[i] = le16_to_cpu(m->dispi[i]);
	inst->regs.big_endian_fb = m->big_endian_fb;
	inst->regs.vga_att_index = m->vga_att_index;
	inst->regs.blanked = m->blanked;
	inst->mon.regs.edid_size = le32_to_cpu(m->edid_size);
	inst->mon.regs.link_state = link;
	memcpy(inst->mon.edid, m->edid, sizeof(m->edid));
	vslice_scanout_update_locked(inst);
	return 0;
}

/**
 * vslice_bochs_open() - model @open op
 * @cdev: instance
 *
 * A new user gets a new monitor (see vslice_display_open_locked()).
 *
 * Return: 0.
 */
static int vslice_bochs_open(struct vslice_core_dev *cdev)
{
	vslice_core_lock(cdev);
	vslice_display_open_locked(vslice_inst_from_core(cdev));
	vslice_core_unlock(cdev);
	return 0;
}

/**
 * vslice_bochs_close() - model @close op
 * @cdev: instance, whose last user has just let go
 */
static void vslice_bochs_close(struct vslice_core_dev *cdev)
{
	vslice_inst_close(vslice_inst_from_core(cdev));
}

/**
 * vslice_bochs_release() - model @release op
 * @cdev: instance whose vfio device is being freed
 *
 * Drops the instance's reference to its parent, taken by
 * vslice_bochs_init().
 */
static void vslice_bochs_release(struct vslice_core_dev *cdev)
{
	vslice_parent_put(vslice_inst_from_core(cdev)->parent);
}

static const struct vslice_model_ops vslice_bochs_model_ops = {
	.open		= vslice_bochs_open,
	.close		= vslice_bochs_close,
	.reset		= vslice_bochs_reset,
	.query_plane	= vslice_display_query_plane,
	.release	= vslice_bochs_release,
	.mig_blob_size	= sizeof(struct vslice_bochs_mig),
	.mig_save	= vslice_bochs_mig_save,
	.mig_load	= vslice_bochs_mig_load,
};

/**
 * vslice_bochs_init() - make a new instance a bochs-display
 * @inst: instance with its slice assigned, not yet registered
 *
 * Fills the config space (bochs-display IDs, vslice subsystem IDs,
 * BAR0 = the slice, prefetchable; BAR2 = 4 KiB of registers) and the
 * region table: the PCI regions, then the EDID and display regions.
 *
 * Return: 0 or -ENOMEM.
 */
int vslice_bochs_init(struct vslice_inst *inst)
{
	struct vslice_parent *parent = inst->parent;
	char compat[VSLICE_MIG_COMPAT_LEN];
	const struct vslice_cfg_desc desc = {
		.vendor		= VSLICE_BOCHS_VENDOR,
		.device		= VSLICE_BOCHS_DEVICE,
		.subsys_vendor	= VSLICE_SUBSYS_VENDOR,
		.subsys_device	= VSLICE_SUBSYS_DEVICE,
		.class		= VSLICE_BOCHS_CLASS,
		.revision	= VSLICE_BOCHS_REVISION,
		.bars = {
			[0] = { .size = inst->slice.size,
				.flags = PCI_BASE_ADDRESS_MEM_PREFETCH },
			[2] = { .size = VSLICE_MMIO_SIZE },
		},
	};
	const struct vslice_region vram = {
		.size	= inst->slice.size,
		.flags	= VFIO_REGION_INFO_FLAG_READ |
			  VFIO_REGION_INFO_FLAG_WRITE |
			  VFIO_REGION_INFO_FLAG_MMAP,
		.ops	= &vslice_region_iomem_ops,
		.iomem	= parent->vram + inst->slice.offset,
		.phys	= parent->vram_phys + inst->slice.offset,
		.backing = inst->slice.size,
	};
	const struct vslice_region mmio = {
		.size	= VSLICE_MMIO_SIZE,
		.flags	= VFIO_REGION_INFO_FLAG_READ |
			  VFIO_REGION_INFO_FLAG_WRITE,
		.ops	= &vslice_bochs_mmio_ops,
	};
	int ret;

	ret = vslice_core_init(&inst->core, &vslice_bochs_model_ops);
	if (ret)
		return ret;
	/* From here the device's release drops it (vslice_bochs_release()). */
	vslice_parent_get(parent);
	vslice_cfg_init(&inst->core.cfg, &desc);
	vslice_core_set_region(&inst->core, VFIO_PCI_BAR0_REGION_INDEX, &vram);
	vslice_core_set_region(&inst->core, VFIO_PCI_BAR2_REGION_INDEX, &mmio);
	vslice_display_init(inst);

	/* a stream moves between instances of the same type only */
	snprintf(compat, sizeof(compat), VSLICE_BOCHS_MIG_COMPAT "%s",
		 inst->type->name);
	vslice_core_enable_migration(&inst->core, VFIO_PCI_BAR0_REGION_INDEX,
				     compat);

	vslice_core_lock(&inst->core);
	vslice_bochs_reset(&inst->core);
	vslice_core_unlock(&inst->core);
	return 0;
}
