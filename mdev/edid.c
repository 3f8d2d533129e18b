// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice EDID: the virtual monitor behind every instance.
 *
 * An EDID 1.4 base block describing a digital flat panel whose preferred
 * (native) mode is the largest the instance's slice can show, plus the
 * common modes below it, so a guest picks the native mode and may offer
 * the others.  Timings follow CVT reduced blanking closely enough for any
 * guest's sanity checks; nothing scans them out.
 */

#include <kunit/visibility.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "vslice.h"

#define VSLICE_EDID_BLOCK	128
#define VSLICE_EDID_REFRESH	60

/* Manufacturer "VSL": three 5-bit letters, 'A' = 1, big-endian. */
#define VSLICE_EDID_MFG		((('V' - '@') << 10) | (('S' - '@') << 5) | \
				 ('L' - '@'))

/* Standard-timing aspect codes (EDID 1.4, bits 7:6 of byte 2). */
#define VSLICE_ASPECT_16_10	0
#define VSLICE_ASPECT_4_3	1
#define VSLICE_ASPECT_5_4	2
#define VSLICE_ASPECT_16_9	3

static const struct {
	u16 xres;
	u16 yres;
	u8 aspect;
} vslice_edid_std_modes[] = {
	{ 1024,  768, VSLICE_ASPECT_4_3 },
	{ 1280,  720, VSLICE_ASPECT_16_9 },
	{ 1280,  800, VSLICE_ASPECT_16_10 },
	{ 1280, 1024, VSLICE_ASPECT_5_4 },
	{ 1600,  900, VSLICE_ASPECT_16_9 },
	{ 1920, 1080, VSLICE_ASPECT_16_9 },
	{ 1920, 1200, VSLICE_ASPECT_16_10 },
	{ 2560, 1440, VSLICE_ASPECT_16_9 },
};

/* An 18-byte display descriptor holding text: name, serial, ... */
static void vslice_edid_text(u8 *d, u8 tag, const char *text)
{
	size_t len = min_t(size_t, strlen(text), 13);

	memset(d, 0, 18);
	d[3] = tag;
	memcpy(d + 5, text, len);
	if (len < 13) {
		d[5 + len] = '\n';
		memset(d + 6 + len, ' ', 12 - len);
	}
}

/* Range limits: 50-75 Hz, 30-160 kHz, up to 600 MHz, nothing more. */
static void vslice_edid_range(u8 *d)
{
	static const u8 range[18] = {
		0, 0, 0, 0xfd, 0, 50, 75, 30, 160, 60, 0x01,
		'\n', ' ', ' ', ' ', ' ', ' ', ' ',
	};

	memcpy(d, range, sizeof(range));
}

/* A dummy descriptor fills an unused slot. */
static void vslice_edid_dummy(u8 *d)
{
	memset(d, 0, 18);
	d[3] = 0x10;
}

/*
 * The detailed timing descriptor of the native mode: reduced blanking
 * (160 pixel horizontal blank) and a vertical blank of at least 460 us.
 */
static void vslice_edid_dtd(u8 *d, u16 xres, u16 yres, u16 width_mm,
			    u16 height_mm)
{
	u32 hblank = 160, hfp = 48, hsync = 32;
	u32 vfp = 3, vsync = 5, vblank, htotal, vtotal, clock;

	/* lines per 460 us at 60 Hz: yres / (1 - 460us * 60 Hz), rounded up */
	vblank = max_t(u32, DIV_ROUND_UP(yres * 276, 10000 - 276) + 1, 14);
	htotal = xres + hblank;
	vtotal = yres + vblank;
	/* pixel clock in units of 10 kHz */
	clock = DIV_ROUND_UP(htotal * vtotal * VSLICE_EDID_REFRESH, 10000);

	d[0] = clock & 0xff;
	d[1] = clock >> 8;
	d[2] = xres & 0xff;
	d[3] = hblank & 0xff;
	d[4] = ((xres >> 8) << 4) | (hblank >> 8);
	d[5] = yres & 0xff;
	d[6] = vblank & 0xff;
	d[7] = ((yres >> 8) << 4) | (vblank >> 8);
	d[8] = hfp & 0xff;
	d[9] = hsync & 0xff;
	d[10] = ((vfp & 0xf) << 4) | (vsync & 0xf);
	d[11] = ((hfp >> 8) << 6) | ((hsync >> 8) << 4);
	d[12] = width_mm & 0xff;
	d[13] = height_mm & 0xff;
	d[14] = ((width_mm >> 8) << 4) | (height_mm >> 8);
	d[15] = 0;
	d[16] = 0;
	/* digital separate sync, +hsync -vsync as reduced blanking wants */
	d[17] = 0x1a;
}

/**
 * vslice_edid_generate() - the EDID of an instance's virtual monitor
 * @edid: at least 128 bytes
 * @type: the instance's profile: its maximum resolution is the native mode
 * @serial: serial number, to tell instances' monitors apart
 *
 * Return: the length of the blob (one 128-byte block).
 */
size_t vslice_edid_generate(u8 *edid, const struct vslice_type *type,
			    u32 serial)
{
	/* about 96 dots per inch: 0.2646 mm per pixel */
	u16 width_mm = DIV_ROUND_CLOSEST(type->max_xres * 2646, 10000);
	u16 height_mm = DIV_ROUND_CLOSEST(type->max_yres * 2646, 10000);
	unsigned int i, n = 0;
	u8 sum = 0;

	memset(edid, 0, VSLICE_EDID_BLOCK);
	/* header */
	memset(edid + 1, 0xff, 6);
	/* vendor and product: "VSL", slice size in MiB, serial */
	edid[8] = VSLICE_EDID_MFG >> 8;
	edid[9] = VSLICE_EDID_MFG & 0xff;
	edid[10] = (type->size / SZ_1M) & 0xff;
	edid[11] = (type->size / SZ_1M) >> 8;
	edid[12] = serial & 0xff;
	edid[13] = (serial >> 8) & 0xff;
	edid[14] = (serial >> 16) & 0xff;
	edid[15] = serial >> 24;
	edid[16] = 1;			/* week 1 */
	edid[17] = 2026 - 1990;		/* model year */
	edid[18] = 1;			/* EDID 1.4 */
	edid[19] = 4;
	edid[20] = 0xa0;		/* digital, 8 bits per colour */
	edid[21] = DIV_ROUND_CLOSEST(width_mm, 10);
	edid[22] = DIV_ROUND_CLOSEST(height_mm, 10);
	edid[23] = 120;			/* gamma 2.2 */
	edid[24] = 0x06;		/* sRGB, preferred mode is native */
	/* sRGB chromaticity */
	edid[25] = 0xee;
	edid[26] = 0x91;
	edid[27] = 0xa3;
	edid[28] = 0x54;
	edid[29] = 0x4c;
	edid[30] = 0x99;
	edid[31] = 0x26;
	edid[32] = 0x0f;
	edid[33] = 0x50;
	edid[34] = 0x54;
	/* established timings: 640x480 and 800x600 always fit; 1024x768? */
	edid[35] = 0x20;
	edid[36] = 0x01;
	if (type->max_xres >= 1024 && type->max_yres >= 768)
		edid[36] |= 0x08;

	/* standard timings: the common modes that fit, unused = 01 01 */
	for (i = 0; i < 8; i++) {
		edid[38 + 2 * i] = 0x01;
		edid[39 + 2 * i] = 0x01;
	}
	for (i = 0; i < ARRAY_SIZE(vslice_edid_std_modes) && n < 8; i++) {
		if (vslice_edid_std_modes[i].xres > type->max_xres ||
		    vslice_edid_std_modes[i].yres > type->max_yres)
			continue;
		edid[38 + 2 * n] = vslice_edid_std_modes[i].xres / 8 - 31;
		edid[39 + 2 * n] = (vslice_edid_std_modes[i].aspect << 6) |
				   (VSLICE_EDID_REFRESH - 60);
		n++;
	}

	/* descriptors: native timing, range limits, name, a spare */
	vslice_edid_dtd(edid + 54, type->max_xres, type->max_yres, width_mm,
			height_mm);
	vslice_edid_range(edid + 72);
	vslice_edid_text(edid + 90, 0xfc, type->name);
	vslice_edid_dummy(edid + 108);

	edid[126] = 0;			/* no extension blocks */
	for (i = 0; i < VSLICE_EDID_BLOCK - 1; i++)
		sum += edid[i];
	edid[127] = -sum;
	return VSLICE_EDID_BLOCK;
}
EXPORT_SYMBOL_IF_KUNIT(vslice_edid_generate);
