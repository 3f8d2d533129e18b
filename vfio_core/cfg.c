// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice virtual PCI config space.
 *
 * The config space is never passed through: every byte lives in
 * struct vslice_cfg with a per-bit write mask and a write-one-to-clear
 * mask.  BAR sizing needs no special case: the write mask of a BAR holds
 * only the address bits above its size, so writing all ones reads back
 * the size mask with the read-only flag bits, as on real hardware.
 */

#include <kunit/visibility.h>
#include <linux/bits.h>
#include <linux/kernel.h>
#include <linux/pci_regs.h>
#include <linux/string.h>

#include "vslice_core.h"

/* Config space is little-endian whatever the CPU is. */
static void vslice_cfg_set16(u8 *space, unsigned int pos, u16 v)
{
	__le16 le = cpu_to_le16(v);

	memcpy(space + pos, &le, sizeof(le));
}

static void vslice_cfg_set32(u8 *space, unsigned int pos, u32 v)
{
	__le32 le = cpu_to_le32(v);

	memcpy(space + pos, &le, sizeof(le));
}

/* Present one BAR (and its upper half if 64-bit); returns slots used. */
static unsigned int vslice_cfg_init_bar(struct vslice_cfg *cfg,
					unsigned int bar,
					const struct vslice_cfg_bar *desc)
{
	unsigned int pos = PCI_BASE_ADDRESS_0 + bar * 4;
	bool is64 = !(desc->flags & PCI_BASE_ADDRESS_SPACE_IO) &&
		    (desc->flags & PCI_BASE_ADDRESS_MEM_TYPE_64);
	u64 mask;

	if (!desc->size)
		return 1;

	/* The address bits at and above the size are the writable ones. */
	mask = ~(desc->size - 1);
	vslice_cfg_set32(cfg->init, pos, desc->flags);
	vslice_cfg_set32(cfg->wmask, pos, lower_32_bits(mask) &
			 (desc->flags & PCI_BASE_ADDRESS_SPACE_IO ?
			  PCI_BASE_ADDRESS_IO_MASK : PCI_BASE_ADDRESS_MEM_MASK));
	if (!is64 || bar == PCI_STD_NUM_BARS - 1)
		return 1;

	vslice_cfg_set32(cfg->wmask, pos + 4, upper_32_bits(mask));
	return 2;
}

/*
 * A 64-bit MSI capability with one vector, the capability list's only
 * entry.  The user may program the address and data; the enable bit is
 * the core's (see vslice_irq_switch_locked()).
 */
static void vslice_cfg_init_msi(struct vslice_cfg *cfg)
{
	unsigned int pos = VSLICE_CFG_MSI_POS;

	vslice_cfg_set16(cfg->init, PCI_STATUS, PCI_STATUS_CAP_LIST);
	cfg->init[PCI_CAPABILITY_LIST] = pos;
	cfg->init[pos + PCI_CAP_LIST_ID] = PCI_CAP_ID_MSI;
	cfg->init[pos + PCI_CAP_LIST_NEXT] = 0;
	vslice_cfg_set16(cfg->init, pos + PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT);
	vslice_cfg_set32(cfg->wmask, pos + PCI_MSI_ADDRESS_LO, ~3u);
	vslice_cfg_set32(cfg->wmask, pos + PCI_MSI_ADDRESS_HI, ~0u);
	vslice_cfg_set16(cfg->wmask, pos + PCI_MSI_DATA_64, 0xffff);
	vslice_cfg_set16(cfg->coremask, pos + PCI_MSI_FLAGS,
			 PCI_MSI_FLAGS_ENABLE);
}

/**
 * vslice_cfg_init() - build a config space from a device description
 * @cfg: config space to fill
 * @desc: identity and BARs of the emulated function
 *
 * Sets the power-on contents, the write masks and the RW1C masks of a
 * type 0 header, with an MSI capability if @desc asks for one, then
 * resets @cfg to power-on state.
 */
void vslice_cfg_init(struct vslice_cfg *cfg,
		     const struct vslice_cfg_desc *desc)
{
	unsigned int bar;

	memset(cfg, 0, sizeof(*cfg));

	vslice_cfg_set16(cfg->init, PCI_VENDOR_ID, desc->vendor);
	vslice_cfg_set16(cfg->init, PCI_DEVICE_ID, desc->device);
	cfg->init[PCI_REVISION_ID] = desc->revision;
	cfg->init[PCI_CLASS_PROG] = desc->class & 0xff;
	vslice_cfg_set16(cfg->init, PCI_CLASS_DEVICE, desc->class >> 8);
	cfg->init[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	vslice_cfg_set16(cfg->init, PCI_SUBSYSTEM_VENDOR_ID,
			 desc->subsys_vendor);
	vslice_cfg_set16(cfg->init, PCI_SUBSYSTEM_ID, desc->subsys_device);
	/*
	 * Memory decoding on, as vfio-pci hands over a device the host has
	 * enabled, and as its reset leaves it (the command register is
	 * restored): a user may map and use BAR0 at once.
	 */
	vslice_cfg_set16(cfg->init, PCI_COMMAND, PCI_COMMAND_MEMORY);

	/* Memory decode, bus mastering and the error/INTx controls. */
	vslice_cfg_set16(cfg->wmask, PCI_COMMAND,
			 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			 PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
			 PCI_COMMAND_INTX_DISABLE);
	vslice_cfg_set16(cfg->w1cmask, PCI_STATUS,
			 PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT |
			 PCI_STATUS_REC_TARGET_ABORT |
			 PCI_STATUS_REC_MASTER_ABORT |
			 PCI_STATUS_SIG_SYSTEM_ERROR |
			 PCI_STATUS_DETECTED_PARITY);
	cfg->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	cfg->wmask[PCI_LATENCY_TIMER] = 0xff;
	cfg->wmask[PCI_INTERRUPT_LINE] = 0xff;

	for (bar = 0; bar < PCI_STD_NUM_BARS;)
		bar += vslice_cfg_init_bar(cfg, bar, &desc->bars[bar]);

	cfg->init[PCI_INTERRUPT_PIN] = desc->irq_pin;
	if (desc->msi)
		vslice_cfg_init_msi(cfg);

	vslice_cfg_reset(cfg);
}
EXPORT_SYMBOL_IF_KUNIT(vslice_cfg_init);

/**
 * vslice_cfg_reset() - return a config space to its power-on contents
 * @cfg: config space
 *
 * BARs read back as unassigned; of the command register only memory
 * decoding is on (see vslice_cfg_init()).  Callers hold the owning
 * device's lock.
 */
void vslice_cfg_reset(struct vslice_cfg *cfg)
{
	memcpy(cfg->val, cfg->init, sizeof(cfg->val));
}
EXPORT_SYMBOL_IF_KUNIT(vslice_cfg_reset);

/**
 * vslice_cfg_rw() - read or write config space bytes
 * @cfg: config space
 * @buf: bytes to write, or room for the bytes read
 * @pos: offset of the first byte; @pos + @count <= VSLICE_CFG_SIZE
 * @count: number of bytes
 * @write: direction
 *
 * Accesses of any width and alignment behave as the same bytes written
 * one at a time: a bit changes only where its write mask allows, and a
 * one written to a RW1C bit clears it.  Callers hold the owning device's
 * lock and have checked the bounds.
 */
void vslice_cfg_rw(struct vslice_cfg *cfg, void *buf, u32 pos, u32 count,
		   bool write)
{
	u8 *bytes = buf;
	u32 i;

	if (!write) {
		memcpy(buf, cfg->val + pos, count);
		return;
	}

	for (i = 0; i < count; i++, pos++) {
		u8 v = bytes[i];

		cfg->val[pos] = (cfg->val[pos] & ~cfg->wmask[pos]) |
				(v & cfg->wmask[pos]);
		cfg->val[pos] &= ~(v & cfg->w1cmask[pos]);
	}
}
EXPORT_SYMBOL_IF_KUNIT(vslice_cfg_rw);
