// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the virtual config space (vfio_core/cfg.c).
 *
 * What a guest's PCI code relies on: identity registers that do not
 * change, BARs that size like hardware's, a command register with only
 * the bits vslice implements, RW1C status bits, accesses of any width
 * acting as bytes, and a reset to the power-on contents.
 */

#include <kunit/test.h>
#include <linux/pci_regs.h>
#include <linux/sizes.h>

#include "../vslice_core.h"

static const struct vslice_cfg_desc cfg_test_desc = {
	.vendor		= 0x1234,
	.device		= 0x1111,
	.subsys_vendor	= 0x1af4,
	.subsys_device	= 0x5653,
	.class		= 0x038000,
	.revision	= 2,
	.bars = {
		[0] = { .size = SZ_16M, .flags = PCI_BASE_ADDRESS_MEM_PREFETCH },
		[2] = { .size = SZ_4K },
		[3] = { .size = 256, .flags = PCI_BASE_ADDRESS_SPACE_IO },
		[4] = { .size = 8ULL * SZ_1G,
			.flags = PCI_BASE_ADDRESS_MEM_TYPE_64 |
				 PCI_BASE_ADDRESS_MEM_PREFETCH },
	},
};

static u32 cfg_read(struct vslice_cfg *cfg, u32 pos, u32 count)
{
	__le32 v = 0;

	vslice_cfg_rw(cfg, &v, pos, count, false);
	return le32_to_cpu(v);
}

static void cfg_write(struct vslice_cfg *cfg, u32 pos, u32 count, u32 val)
{
	__le32 v = cpu_to_le32(val);

	vslice_cfg_rw(cfg, &v, pos, count, true);
}

static int cfg_test_init(struct kunit *test)
{
	struct vslice_cfg *cfg = kunit_kzalloc(test, sizeof(*cfg), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, cfg);
	vslice_cfg_init(cfg, &cfg_test_desc);
	test->priv = cfg;
	return 0;
}

static void cfg_identity_is_read_only(struct kunit *test)
{
	struct vslice_cfg *cfg = test->priv;

	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_VENDOR_ID, 4), 0x11111234);
	cfg_write(cfg, PCI_VENDOR_ID, 4, 0xffffffff);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_VENDOR_ID, 4), 0x11111234);
	cfg_write(cfg, PCI_CLASS_REVISION, 4, 0);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_CLASS_REVISION, 4),
			0x03800002);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_SUBSYSTEM_VENDOR_ID, 4),
			0x56531af4);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_HEADER_TYPE, 1),
			PCI_HEADER_TYPE_NORMAL);
}

/* Writing all ones reads back the size mask and the read-only flags. */
static void cfg_bar_sizing(struct kunit *test)
{
	struct vslice_cfg *cfg = test->priv;
	unsigned int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++)
		cfg_write(cfg, PCI_BASE_ADDRESS_0 + 4 * bar, 4, 0xffffffff);

	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_BASE_ADDRESS_0, 4),
			~(SZ_16M - 1) | PCI_BASE_ADDRESS_MEM_PREFETCH);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_BASE_ADDRESS_1, 4), 0);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_BASE_ADDRESS_2, 4),
			~(SZ_4K - 1));
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_BASE_ADDRESS_3, 4),
			~(256u - 1) | PCI_BASE_ADDRESS_SPACE_IO);
	/* 64-bit: the low half has no address bit below 8 GiB */
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_BASE_ADDRESS_4, 4),
			PCI_BASE_ADDRESS_MEM_TYPE_64 |
			PCI_BASE_ADDRESS_MEM_PREFETCH);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_BASE_ADDRESS_5, 4),
			0xfffffffe);
}

static void cfg_bar_address(struct kunit *test)
{
	struct vslice_cfg *cfg = test->priv;

	/* Unassigned at power-on: only the flag bits. */
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_BASE_ADDRESS_0, 4),
			PCI_BASE_ADDRESS_MEM_PREFETCH);
	/* The bits below the size are not address bits. */
	cfg_write(cfg, PCI_BASE_ADDRESS_0, 4, 0xfe123456);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_BASE_ADDRESS_0, 4),
			0xfe000000 | PCI_BASE_ADDRESS_MEM_PREFETCH);
	cfg_write(cfg, PCI_BASE_ADDRESS_2, 4, 0xfebf1fff);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_BASE_ADDRESS_2, 4),
			0xfebf1000);
}

static void cfg_command_mask(struct kunit *test)
{
	struct vslice_cfg *cfg = test->priv;
	const u16 rw = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		       PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
		       PCI_COMMAND_INTX_DISABLE;

	/* power-on: memory decoding on, nothing else */
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_COMMAND, 2),
			PCI_COMMAND_MEMORY);
	cfg_write(cfg, PCI_COMMAND, 2, 0xffff);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_COMMAND, 2), rw);
	cfg_write(cfg, PCI_COMMAND, 2, 0);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_COMMAND, 2), 0);
}

static void cfg_status_rw1c(struct kunit *test)
{
	struct vslice_cfg *cfg = test->priv;
	const u16 errs = PCI_STATUS_SIG_TARGET_ABORT |
			 PCI_STATUS_REC_MASTER_ABORT |
			 PCI_STATUS_DETECTED_PARITY;

	/* as if the device had reported these, and had a capability list */
	cfg->val[PCI_STATUS] |= (errs | PCI_STATUS_CAP_LIST) & 0xff;
	cfg->val[PCI_STATUS + 1] |= (errs | PCI_STATUS_CAP_LIST) >> 8;

	cfg_write(cfg, PCI_STATUS, 2, 0);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_STATUS, 2),
			errs | PCI_STATUS_CAP_LIST);
	cfg_write(cfg, PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_STATUS, 2),
			(errs & ~PCI_STATUS_REC_MASTER_ABORT) |
			PCI_STATUS_CAP_LIST);
	/* all ones clears the errors, never a read-only bit */
	cfg_write(cfg, PCI_STATUS, 2, 0xffff);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_STATUS, 2),
			PCI_STATUS_CAP_LIST);
}

/* A dword write over command and status is two word writes. */
static void cfg_wide_write_is_bytes(struct kunit *test)
{
	struct vslice_cfg *cfg = test->priv;

	cfg->val[PCI_STATUS + 1] |= PCI_STATUS_SIG_SYSTEM_ERROR >> 8;
	cfg_write(cfg, PCI_COMMAND, 4,
		  (PCI_STATUS_SIG_SYSTEM_ERROR << 16) | PCI_COMMAND_MASTER |
		  PCI_COMMAND_IO);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_COMMAND, 4),
			PCI_COMMAND_MASTER);
	/* an unaligned 3-byte write from the latency timer on */
	cfg_write(cfg, PCI_LATENCY_TIMER, 3, 0x123440);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_LATENCY_TIMER, 1), 0x40);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_HEADER_TYPE, 1),
			PCI_HEADER_TYPE_NORMAL);
	KUNIT_EXPECT_EQ(test, cfg_read(cfg, PCI_BIST, 1), 0);
}

static void cfg_reset_restores_power_on(struct kunit *test)
{
	struct vslice_cfg *cfg = test->priv;
	u8 power_on[VSLICE_CFG_SIZE];

	memcpy(power_on, cfg->val, sizeof(power_on));
	cfg_write(cfg, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	cfg_write(cfg, PCI_BASE_ADDRESS_0, 4, 0xfd000000);
	cfg_write(cfg, PCI_INTERRUPT_LINE, 1, 11);
	KUNIT_EXPECT_NE(test, memcmp(power_on, cfg->val, sizeof(power_on)), 0);
	vslice_cfg_reset(cfg);
	KUNIT_EXPECT_EQ(test, memcmp(power_on, cfg->val, sizeof(power_on)), 0);
}

static struct kunit_case cfg_test_cases[] = {
	KUNIT_CASE(cfg_identity_is_read_only),
	KUNIT_CASE(cfg_bar_sizing),
	KUNIT_CASE(cfg_bar_address),
	KUNIT_CASE(cfg_command_mask),
	KUNIT_CASE(cfg_status_rw1c),
	KUNIT_CASE(cfg_wide_write_is_bytes),
	KUNIT_CASE(cfg_reset_restores_power_on),
	{}
};

static struct kunit_suite cfg_test_suite = {
	.name		= "vslice_cfg",
	.init		= cfg_test_init,
	.test_cases	= cfg_test_cases,
};

kunit_test_suite(cfg_test_suite);
