// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the profiles a parent offers (mdev/type.c) and the EDID of each
 * profile's virtual monitor (mdev/edid.c).
 *
 * The EDID is checked the way a guest's DRM core reads it: a valid base
 * block whose preferred mode is the profile's largest, refreshing at
 * 60 Hz within the range limits it states, with standard modes that all
 * fit in the slice.
 */

#include <kunit/test.h>
#include <linux/sizes.h>

#include "../vslice.h"

#define EDID_BLOCK	128

static struct vslice_parent *types_parent(struct kunit *test, u64 vram)
{
	struct vslice_parent *parent;

	parent = kunit_kzalloc(test, sizeof(*parent), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, parent);
	parent->vram_size = vram;
	vslice_types_init(parent);
	return parent;
}

/* Every profile that fits is offered, smallest first, each named by size. */
static void types_follow_vram(struct kunit *test)
{
	static const struct {
		u64 vram;
		unsigned int nr;
	} cases[] = {
		{ SZ_4M, 1 }, { SZ_16M, 3 }, { SZ_32M, 4 }, { SZ_64M, 5 },
		{ SZ_128M, 6 }, { SZ_256M, 7 }, { SZ_512M, 7 },
	};
	unsigned int c, i;

	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		struct vslice_parent *parent = types_parent(test, cases[c].vram);

		KUNIT_EXPECT_EQ(test, parent->nr_types, cases[c].nr);
		for (i = 0; i < parent->nr_types; i++) {
			const struct vslice_type *t = &parent->types[i];
			char name[32];

			KUNIT_EXPECT_EQ(test, t->size, (u64)SZ_4M << i);
			KUNIT_EXPECT_LE(test, t->size, cases[c].vram);
			KUNIT_EXPECT_PTR_EQ(test, parent->mtypes[i], &t->mtype);
			snprintf(name, sizeof(name), "vslice-%lluM",
				 t->size / SZ_1M);
			KUNIT_EXPECT_STREQ(test, t->name, name);
			KUNIT_EXPECT_STREQ(test, t->mtype.pretty_name, name);
		}
	}
}

/* The guest's bochs driver wants two 32 bpp framebuffers of the mode. */
static void types_mode_fits_twice(struct kunit *test)
{
	struct vslice_parent *parent = types_parent(test, SZ_256M);
	unsigned int i;

	for (i = 0; i < parent->nr_types; i++) {
		const struct vslice_type *t = &parent->types[i];

		KUNIT_EXPECT_LE(test, (u64)t->max_xres * t->max_yres * 8,
				t->size);
		KUNIT_EXPECT_GE(test, t->max_xres, 800);
		KUNIT_EXPECT_GE(test, t->max_yres, 600);
	}
}

static void edid_check_one(struct kunit *test, const struct vslice_type *t)
{
	static const u8 header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	u8 edid[EDID_BLOCK];
	const u8 *dtd = edid + 54;
	u32 xres, yres, htotal, vtotal, clock_khz, mhz;
	char name[14];
	unsigned int i;
	u8 sum = 0;

	memset(edid, 0x5a, sizeof(edid));
	KUNIT_ASSERT_EQ(test, vslice_edid_generate(edid, t, 0x01020304),
			EDID_BLOCK);

	KUNIT_EXPECT_MEMEQ(test, edid, header, sizeof(header));
	for (i = 0; i < EDID_BLOCK; i++)
		sum += edid[i];
	KUNIT_EXPECT_EQ(test, sum, 0);
	KUNIT_EXPECT_EQ(test, edid[18], 1);	/* EDID 1.4 */
	KUNIT_EXPECT_EQ(test, edid[19], 4);
	KUNIT_EXPECT_EQ(test, edid[126], 0);	/* no extensions */
	/* "VSL", product = slice size in MiB, the serial asked for */
	KUNIT_EXPECT_EQ(test, (edid[8] << 8) | edid[9],
			(('V' - '@') << 10) | (('S' - '@') << 5) | ('L' - '@'));
	KUNIT_EXPECT_EQ(test, edid[10] | (edid[11] << 8), t->size / SZ_1M);
	KUNIT_EXPECT_EQ(test, edid[12] | edid[13] << 8 | edid[14] << 16 |
			(u32)edid[15] << 24, 0x01020304);

	/* the preferred mode is the profile's largest */
	xres = dtd[2] | ((dtd[4] >> 4) << 8);
	yres = dtd[5] | ((dtd[7] >> 4) << 8);
	KUNIT_EXPECT_EQ(test, xres, t->max_xres);
	KUNIT_EXPECT_EQ(test, yres, t->max_yres);
	KUNIT_EXPECT_TRUE(test, edid[24] & 0x02);

	/* at 60 Hz, within the range limits' 600 MHz pixel clock */
	htotal = xres + (dtd[3] | ((dtd[4] & 0xf) << 8));
	vtotal = yres + (dtd[6] | ((dtd[7] & 0xf) << 8));
	clock_khz = (dtd[0] | (dtd[1] << 8)) * 10;
	mhz = div_u64((u64)clock_khz * 1000 * 1000, htotal * vtotal);
	KUNIT_EXPECT_GE(test, mhz, 59500);
	KUNIT_EXPECT_LE(test, mhz, 60500);
	KUNIT_EXPECT_EQ(test, edid[72 + 3], 0xfd);
	KUNIT_EXPECT_LE(test, clock_khz, edid[72 + 9] * 10000);

	/* the monitor's name is the profile's */
	KUNIT_EXPECT_EQ(test, edid[90 + 3], 0xfc);
	memcpy(name, edid + 90 + 5, 13);
	name[13] = 0;
	*strchrnul(name, '\n') = 0;
	KUNIT_EXPECT_STREQ(test, name, t->name);

	/* standard timings: each one used fits in the slice */
	for (i = 0; i < 8; i++) {
		const u8 *st = edid + 38 + 2 * i;
		static const u32 aspect_num[] = { 10, 3, 4, 9 };
		static const u32 aspect_den[] = { 16, 4, 5, 16 };
		u32 w, h;

		if (st[0] == 0x01 && st[1] == 0x01)
			continue;
		w = (st[0] + 31) * 8;
		h = w * aspect_num[st[1] >> 6] / aspect_den[st[1] >> 6];
		KUNIT_EXPECT_LE(test, w, t->max_xres);
		KUNIT_EXPECT_LE(test, h, t->max_yres);
		KUNIT_EXPECT_EQ(test, (st[1] & 0x3f) + 60, 60);
	}
	/* 1024x768 is established only where it fits */
	KUNIT_EXPECT_EQ(test, !!(edid[36] & 0x08),
			t->max_xres >= 1024 && t->max_yres >= 768);
}

static void edid_every_profile(struct kunit *test)
{
	struct vslice_parent *parent = types_parent(test, SZ_256M);
	unsigned int i;

	KUNIT_ASSERT_GT(test, parent->nr_types, 0);
	for (i = 0; i < parent->nr_types; i++)
		edid_check_one(test, &parent->types[i]);
}

/* Two instances' monitors differ by their serial only. */
static void edid_serial_tells_apart(struct kunit *test)
{
	struct vslice_parent *parent = types_parent(test, SZ_16M);
	u8 a[EDID_BLOCK], b[EDID_BLOCK];
	unsigned int i, diff = 0;

	vslice_edid_generate(a, &parent->types[0], 1);
	vslice_edid_generate(b, &parent->types[0], 2);
	for (i = 0; i < EDID_BLOCK; i++)
		diff += a[i] != b[i];
	KUNIT_EXPECT_EQ(test, diff, 2);	/* the serial's low byte, the sum */
	KUNIT_EXPECT_NE(test, a[12], b[12]);
}

static struct kunit_case edid_test_cases[] = {
	KUNIT_CASE(types_follow_vram),
	KUNIT_CASE(types_mode_fits_twice),
	KUNIT_CASE(edid_every_profile),
	KUNIT_CASE(edid_serial_tells_apart),
	{}
};

static struct kunit_suite edid_test_suite = {
	.name		= "vslice_edid",
	.test_cases	= edid_test_cases,
};

kunit_test_suite(edid_test_suite);
