// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: decoding the scanout from an instance's DISPI registers
 * (vslice_display_mode_locked() in mdev/display.c), as QEMU's
 * bochs-display decodes them: what the plane query, the sysfs mode and
 * the physical scanout all start from.
 */

#include <drm/drm_fourcc.h>
#include <kunit/test.h>
#include <linux/sizes.h>

#include "../vslice.h"

static int mode_test_init(struct kunit *test)
{
	struct vslice_inst *inst = kunit_kzalloc(test, sizeof(*inst),
						 GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, inst);
	mutex_init(&inst->core.lock);
	seqcount_mutex_init(&inst->core.seq, &inst->core.lock);
	inst->slice.size = SZ_4M;
	test->priv = inst;
	return 0;
}

static void mode_set(struct vslice_inst *inst, u16 xres, u16 yres, u16 bpp)
{
	u16 *dispi = inst->regs.dispi;

	memset(dispi, 0, sizeof(inst->regs.dispi));
	dispi[VSLICE_DISPI_XRES] = xres;
	dispi[VSLICE_DISPI_YRES] = yres;
	dispi[VSLICE_DISPI_BPP] = bpp;
	dispi[VSLICE_DISPI_ENABLE] = VSLICE_DISPI_ENABLED |
				     VSLICE_DISPI_LFB_ENABLED;
}

static enum vslice_scanout mode_decode(struct vslice_inst *inst,
				       struct vslice_mode *mode)
{
	enum vslice_scanout state;

	memset(mode, 0, sizeof(*mode));
	vslice_core_lock(&inst->core);
	state = vslice_display_mode_locked(inst, mode);
	vslice_core_unlock(&inst->core);
	return state;
}

static void mode_32bpp(struct kunit *test)
{
	struct vslice_inst *inst = test->priv;
	struct vslice_mode m;

	mode_set(inst, 800, 600, 32);
	KUNIT_ASSERT_EQ(test, mode_decode(inst, &m), VSLICE_SCANOUT_ON);
	KUNIT_EXPECT_EQ(test, m.format, DRM_FORMAT_XRGB8888);
	KUNIT_EXPECT_EQ(test, m.bpp, 32);
	KUNIT_EXPECT_EQ(test, m.width, 800);
	KUNIT_EXPECT_EQ(test, m.height, 600);
	KUNIT_EXPECT_EQ(test, m.stride, 3200);
	KUNIT_EXPECT_EQ(test, m.size, 3200 * 600);
	KUNIT_EXPECT_EQ(test, m.offset, 0);

	/* QEMU's byte-order register: big-endian framebuffer */
	inst->regs.big_endian_fb = true;
	KUNIT_ASSERT_EQ(test, mode_decode(inst, &m), VSLICE_SCANOUT_ON);
	KUNIT_EXPECT_EQ(test, m.format, DRM_FORMAT_BGRX8888);
}

static void mode_16bpp(struct kunit *test)
{
	struct vslice_inst *inst = test->priv;
	struct vslice_mode m;

	mode_set(inst, 1024, 768, 16);
	KUNIT_ASSERT_EQ(test, mode_decode(inst, &m), VSLICE_SCANOUT_ON);
	KUNIT_EXPECT_EQ(test, m.format, DRM_FORMAT_RGB565);
	KUNIT_EXPECT_EQ(test, m.bpp, 16);
	KUNIT_EXPECT_EQ(test, m.stride, 2048);
}

/* Depths bochs-display does not scan out (8, 15, 24) are not shown. */
static void mode_other_depths_invalid(struct kunit *test)
{
	static const u16 bpps[] = { 0, 4, 8, 15, 24, 64 };
	struct vslice_inst *inst = test->priv;
	struct vslice_mode m;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bpps); i++) {
		mode_set(inst, 640, 480, bpps[i]);
		KUNIT_EXPECT_EQ(test, mode_decode(inst, &m),
				VSLICE_SCANOUT_INVALID);
	}
}

static void mode_off_and_blanked(struct kunit *test)
{
	struct vslice_inst *inst = test->priv;
	struct vslice_mode m;

	mode_set(inst, 800, 600, 32);
	inst->regs.dispi[VSLICE_DISPI_ENABLE] = 0;
	KUNIT_EXPECT_EQ(test, mode_decode(inst, &m), VSLICE_SCANOUT_OFF);
	/* off wins over blanked: nothing to show either way */
	inst->regs.blanked = true;
	KUNIT_EXPECT_EQ(test, mode_decode(inst, &m), VSLICE_SCANOUT_OFF);
	mode_set(inst, 800, 600, 32);
	KUNIT_EXPECT_EQ(test, mode_decode(inst, &m), VSLICE_SCANOUT_BLANKED);
	inst->regs.blanked = false;
	KUNIT_EXPECT_EQ(test, mode_decode(inst, &m), VSLICE_SCANOUT_ON);
}

/* A virtual width wider than the mode sets the stride; panning, the start. */
static void mode_virtual_width_and_panning(struct kunit *test)
{
	struct vslice_inst *inst = test->priv;
	struct vslice_mode m;

	mode_set(inst, 640, 480, 32);
	inst->regs.dispi[VSLICE_DISPI_VIRT_WIDTH] = 1024;
	inst->regs.dispi[VSLICE_DISPI_X_OFFSET] = 16;
	inst->regs.dispi[VSLICE_DISPI_Y_OFFSET] = 480;
	KUNIT_ASSERT_EQ(test, mode_decode(inst, &m), VSLICE_SCANOUT_ON);
	KUNIT_EXPECT_EQ(test, m.stride, 4096);
	KUNIT_EXPECT_EQ(test, m.size, 4096 * 480);
	KUNIT_EXPECT_EQ(test, m.offset, 16 * 4 + 480 * 4096);

	/* a virtual width below the mode's does not shrink the stride */
	inst->regs.dispi[VSLICE_DISPI_VIRT_WIDTH] = 320;
	KUNIT_ASSERT_EQ(test, mode_decode(inst, &m), VSLICE_SCANOUT_ON);
	KUNIT_EXPECT_EQ(test, m.stride, 2560);
}

/* The scanout must lie inside the slice: to its last byte, and no further. */
static void mode_bounded_by_slice(struct kunit *test)
{
	struct vslice_inst *inst = test->priv;
	struct vslice_mode m;

	/* 1024 x 1024 x 4 = the whole 4 MiB slice */
	mode_set(inst, 1024, 1024, 32);
	KUNIT_EXPECT_EQ(test, mode_decode(inst, &m), VSLICE_SCANOUT_ON);
	KUNIT_EXPECT_EQ(test, m.offset + m.size, SZ_4M);
	inst->regs.dispi[VSLICE_DISPI_X_OFFSET] = 1;
	KUNIT_EXPECT_EQ(test, mode_decode(inst, &m), VSLICE_SCANOUT_INVALID);
	mode_set(inst, 1024, 1025, 32);
	KUNIT_EXPECT_EQ(test, mode_decode(inst, &m), VSLICE_SCANOUT_INVALID);
	/* the largest register values cannot wrap the bound check */
	mode_set(inst, 0xffff, 0xffff, 32);
	inst->regs.dispi[VSLICE_DISPI_VIRT_WIDTH] = 0xffff;
	inst->regs.dispi[VSLICE_DISPI_X_OFFSET] = 0xffff;
	inst->regs.dispi[VSLICE_DISPI_Y_OFFSET] = 0xffff;
	KUNIT_EXPECT_EQ(test, mode_decode(inst, &m), VSLICE_SCANOUT_INVALID);
}

/* QEMU refuses modes under 64 pixels a side, and so does vslice. */
static void mode_too_small_invalid(struct kunit *test)
{
	struct vslice_inst *inst = test->priv;
	struct vslice_mode m;

	mode_set(inst, 63, 480, 32);
	KUNIT_EXPECT_EQ(test, mode_decode(inst, &m), VSLICE_SCANOUT_INVALID);
	mode_set(inst, 640, 63, 32);
	KUNIT_EXPECT_EQ(test, mode_decode(inst, &m), VSLICE_SCANOUT_INVALID);
	mode_set(inst, 64, 64, 32);
	KUNIT_EXPECT_EQ(test, mode_decode(inst, &m), VSLICE_SCANOUT_ON);
}

static struct kunit_case mode_test_cases[] = {
	KUNIT_CASE(mode_32bpp),
	KUNIT_CASE(mode_16bpp),
	KUNIT_CASE(mode_other_depths_invalid),
	KUNIT_CASE(mode_off_and_blanked),
	KUNIT_CASE(mode_virtual_width_and_panning),
	KUNIT_CASE(mode_bounded_by_slice),
	KUNIT_CASE(mode_too_small_invalid),
	{}
};

static struct kunit_suite mode_test_suite = {
	.name		= "vslice_mode",
	.init		= mode_test_init,
	.test_cases	= mode_test_cases,
};

kunit_test_suite(mode_test_suite);
