// SPDX-License-Identifier: GPL-2.0-only
/*
 * The trapped, emulated PCI config space of an instance: identity, BAR
 * sizing, read-only fields, widths and offsets, and bad accesses.
 */
#define _GNU_SOURCE
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define CFG_SIZE	256
#define CFG(off)	(VSLICE_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) + (off))
#define SLICE_SIZE	(16 * VSLICE_MIB)

FIXTURE(config) {
	struct vslice_inst_fix f;
};

FIXTURE_SETUP(config)
{
	if (vslice_inst_fix_setup(&self->f, "vslice-16M"))
		SKIP(return, "no bochs-display (1234:1111) in this machine");
}

FIXTURE_TEARDOWN(config)
{
	EXPECT_EQ(0, vslice_inst_fix_teardown(&self->f));
}

TEST_F(config, identity_of_a_bochs_display)
{
	int fd = self->f.dev.fd;

	ASSERT_EQ(VSLICE_BOCHS_VENDOR, vslice_cfg_read(fd, PCI_VENDOR_ID, 2));
	ASSERT_EQ(VSLICE_BOCHS_DEVICE, vslice_cfg_read(fd, PCI_DEVICE_ID, 2));
	ASSERT_EQ(2, vslice_cfg_read(fd, PCI_REVISION_ID, 1));
	ASSERT_EQ(0x038000, vslice_cfg_read(fd, PCI_CLASS_REVISION, 4) >> 8);
	ASSERT_EQ(PCI_HEADER_TYPE_NORMAL, vslice_cfg_read(fd, PCI_HEADER_TYPE, 1));
	ASSERT_EQ(VSLICE_SUBSYS_VENDOR,
		  vslice_cfg_read(fd, PCI_SUBSYSTEM_VENDOR_ID, 2));
	ASSERT_EQ(VSLICE_SUBSYS_DEVICE, vslice_cfg_read(fd, PCI_SUBSYSTEM_ID, 2));
	/* memory decoding on, as vfio-pci hands a device over */
	ASSERT_EQ(PCI_COMMAND_MEMORY, vslice_cfg_read(fd, PCI_COMMAND, 2));
	ASSERT_EQ(0, vslice_cfg_read(fd, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	ASSERT_EQ(0, vslice_cfg_read(fd, PCI_INTERRUPT_PIN, 1));
	/* BAR0: 32-bit prefetchable memory; BAR2: 32-bit memory */
	ASSERT_EQ(PCI_BASE_ADDRESS_MEM_PREFETCH,
		  vslice_cfg_read(fd, PCI_BASE_ADDRESS_0, 4));
	ASSERT_EQ(0, vslice_cfg_read(fd, PCI_BASE_ADDRESS_2, 4));
}

TEST_F(config, bar_sizing_protocol)
{
	static const struct {
		unsigned int off;
		u32 sized;
	} bars[] = {
		{ PCI_BASE_ADDRESS_0, (u32)~(SLICE_SIZE - 1) |
				      PCI_BASE_ADDRESS_MEM_PREFETCH },
		{ PCI_BASE_ADDRESS_1, 0 },
		{ PCI_BASE_ADDRESS_2, ~(4096u - 1) },
		{ PCI_BASE_ADDRESS_3, 0 },
		{ PCI_BASE_ADDRESS_4, 0 },
		{ PCI_BASE_ADDRESS_5, 0 },
		{ PCI_ROM_ADDRESS, 0 },
	};
	int fd = self->f.dev.fd;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bars); i++) {
		u32 orig = vslice_cfg_read(fd, bars[i].off, 4);

		vslice_cfg_write(fd, bars[i].off, 4, 0xffffffff);
		EXPECT_EQ(bars[i].sized, vslice_cfg_read(fd, bars[i].off, 4)) {
			TH_LOG("BAR at 0x%x", bars[i].off);
		}
		vslice_cfg_write(fd, bars[i].off, 4, orig);
		EXPECT_EQ(orig, vslice_cfg_read(fd, bars[i].off, 4));
	}

	/* An address is kept down to the BAR's alignment. */
	vslice_cfg_write(fd, PCI_BASE_ADDRESS_0, 4, 0xe1234567);
	ASSERT_EQ((0xe1234567 & ~(u32)(SLICE_SIZE - 1)) |
		  PCI_BASE_ADDRESS_MEM_PREFETCH,
		  vslice_cfg_read(fd, PCI_BASE_ADDRESS_0, 4));
}

TEST_F(config, read_only_fields_stay_read_only)
{
	static const unsigned int ro[] = {
		PCI_VENDOR_ID, PCI_VENDOR_ID + 1, PCI_DEVICE_ID,
		PCI_DEVICE_ID + 1, PCI_REVISION_ID, PCI_CLASS_PROG,
		PCI_CLASS_DEVICE, PCI_CLASS_DEVICE + 1, PCI_HEADER_TYPE,
		PCI_BIST, PCI_SUBSYSTEM_VENDOR_ID, PCI_SUBSYSTEM_VENDOR_ID + 1,
		PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_ID + 1, PCI_CAPABILITY_LIST,
		PCI_INTERRUPT_PIN, PCI_MIN_GNT, PCI_MAX_LAT, 0x40, 0x80, 0xff,
	};
	int fd = self->f.dev.fd;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ro); i++) {
		u32 before = vslice_cfg_read(fd, ro[i], 1);

		vslice_cfg_write(fd, ro[i], 1, ~before & 0xff);
		EXPECT_EQ(before, vslice_cfg_read(fd, ro[i], 1)) {
			TH_LOG("offset 0x%x changed", ro[i]);
		}
	}
}

TEST_F(config, command_status_and_scratch_registers)
{
	int fd = self->f.dev.fd;

	/* Only the implemented command bits stick; no I/O space. */
	vslice_cfg_write(fd, PCI_COMMAND, 2, 0xffff);
	ASSERT_EQ(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		  PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
		  PCI_COMMAND_INTX_DISABLE,
		  vslice_cfg_read(fd, PCI_COMMAND, 2));
	vslice_cfg_write(fd, PCI_COMMAND, 2, 0);
	ASSERT_EQ(0, vslice_cfg_read(fd, PCI_COMMAND, 2));

	/* Status is read-only or write-one-to-clear: ones do not stick. */
	vslice_cfg_write(fd, PCI_STATUS, 2, 0xffff);
	ASSERT_EQ(0, vslice_cfg_read(fd, PCI_STATUS, 2));

	vslice_cfg_write(fd, PCI_INTERRUPT_LINE, 1, 0x5a);
	ASSERT_EQ(0x5a, vslice_cfg_read(fd, PCI_INTERRUPT_LINE, 1));
	vslice_cfg_write(fd, PCI_CACHE_LINE_SIZE, 1, 0x10);
	ASSERT_EQ(0x10, vslice_cfg_read(fd, PCI_CACHE_LINE_SIZE, 1));
	vslice_cfg_write(fd, PCI_LATENCY_TIMER, 1, 0x40);
	ASSERT_EQ(0x40, vslice_cfg_read(fd, PCI_LATENCY_TIMER, 1));
}

TEST_F(config, any_width_at_any_offset)
{
	u8 bytes[CFG_SIZE], all[CFG_SIZE], piece[8];
	unsigned int off, width;
	int fd = self->f.dev.fd;

	vslice_cfg_write(fd, PCI_INTERRUPT_LINE, 1, 0xa5);
	for (off = 0; off < CFG_SIZE; off++)
		bytes[off] = vslice_cfg_read(fd, off, 1);

	/* One read of everything sees the same bytes. */
	ASSERT_EQ(CFG_SIZE, pread(fd, all, CFG_SIZE, CFG(0)));
	ASSERT_EQ(0, memcmp(bytes, all, CFG_SIZE));

	/* Every width from 2 to 8, aligned or not, at every offset. */
	for (width = 2; width <= 8; width++) {
		for (off = 0; off + width <= CFG_SIZE; off++) {
			ASSERT_EQ(width, pread(fd, piece, width, CFG(off)));
			ASSERT_EQ(0, memcmp(bytes + off, piece, width)) {
				TH_LOG("%u bytes at 0x%x", width, off);
			}
		}
	}

	/* An unaligned 2-byte write across RO and RW bytes: 0x3b-0x3c. */
	piece[0] = 0x77;	/* max latency: read-only */
	piece[1] = 0x3c;	/* interrupt line: writable */
	ASSERT_EQ(2, pwrite(fd, piece, 2, CFG(PCI_INTERRUPT_LINE - 1)));
	ASSERT_EQ(bytes[PCI_INTERRUPT_LINE - 1],
		  vslice_cfg_read(fd, PCI_INTERRUPT_LINE - 1, 1));
	ASSERT_EQ(0x3c, vslice_cfg_read(fd, PCI_INTERRUPT_LINE, 1));
}

TEST_F(config, bad_offsets_and_sizes)
{
	u8 buf[512];
	int fd = self->f.dev.fd;
	void *bad;

	/* At or past the end: EINVAL. */
	ASSERT_EQ(-1, pread(fd, buf, 1, CFG(CFG_SIZE)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, pwrite(fd, buf, 4, CFG(0x1000)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, pread(fd, buf, 4, CFG(VSLICE_REGION_OFFSET(1) - 1)));
	ASSERT_EQ(EINVAL, errno);

	/* Across the end: cut short, like pread on a file. */
	ASSERT_EQ(2, pread(fd, buf, 4, CFG(CFG_SIZE - 2)));
	ASSERT_EQ(CFG_SIZE, pread(fd, buf, sizeof(buf), CFG(0)));
	ASSERT_EQ(0, pread(fd, buf, 0, CFG(0)));

	/* Regions that do not exist, and offsets far past any. */
	ASSERT_EQ(-1, pread(fd, buf, 4, VSLICE_REGION_OFFSET(1)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, pread(fd, buf, 4, VSLICE_REGION_OFFSET(VFIO_PCI_ROM_REGION_INDEX)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, pread(fd, buf, 4, VSLICE_REGION_OFFSET(40)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, pread(fd, buf, 4, 0x7fffffffffffff00LL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, pwrite(fd, buf, 4, VSLICE_REGION_OFFSET(0xffff)));
	ASSERT_EQ(EINVAL, errno);

	/* A user buffer that cannot be touched: EFAULT, nothing written. */
	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(-1, pread(fd, bad, 4, CFG(0)));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, pwrite(fd, bad, 2, CFG(PCI_COMMAND)));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(PCI_COMMAND_MEMORY, vslice_cfg_read(fd, PCI_COMMAND, 2));
	munmap(bad, 4096);
}

TEST_HARNESS_MAIN
