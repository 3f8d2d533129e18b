// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO_DEVICE_QUERY_GFX_PLANE and the display regions: what QEMU's
 * display=on asks, for a display that is off, on, invalid, blanked,
 * panned, big-endian or 16 bpp, and that the plane's region shows the
 * scanout's bytes.
 */
#define _GNU_SOURCE
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define DISPI(i)	(0x500 + 2 * (i))
#define SLICE		(16 * VSLICE_MIB)
#define PAGE		4096
#define FOURCC(a, b, c, d) \
	((u32)(a) | ((u32)(b) << 8) | ((u32)(c) << 16) | ((u32)(d) << 24))
#define XRGB8888	FOURCC('X', 'R', '2', '4')
#define BGRX8888	FOURCC('B', 'X', '2', '4')
#define RGB565		FOURCC('R', 'G', '1', '6')
#define PLANE_PRIMARY	1
#define PLANE_CURSOR	2

enum {
	ID, XRES, YRES, BPP, ENABLE, BANK, VIRT_WIDTH, VIRT_HEIGHT,
	X_OFFSET, Y_OFFSET,
};

FIXTURE(plane) {
	struct vslice_inst_fix f;
};

FIXTURE_SETUP(plane)
{
	if (vslice_inst_fix_setup(&self->f, "vslice-16M"))
		SKIP(return, "no bochs-display (1234:1111) in this machine");
}

FIXTURE_TEARDOWN(plane)
{
	EXPECT_EQ(0, vslice_inst_fix_teardown(&self->f));
}

/* What the bochs driver writes for a mode: see bochs_hw_setmode(). */
static void set_mode(int fd, u16 x, u16 y, u16 bpp, u16 xoff, u16 yoff)
{
	vslice_mmio_write(fd, DISPI(ENABLE), 2, 0);
	vslice_mmio_write(fd, DISPI(BPP), 2, bpp);
	vslice_mmio_write(fd, DISPI(XRES), 2, x);
	vslice_mmio_write(fd, DISPI(YRES), 2, y);
	vslice_mmio_write(fd, DISPI(BANK), 2, 0);
	vslice_mmio_write(fd, DISPI(VIRT_WIDTH), 2, x);
	vslice_mmio_write(fd, DISPI(VIRT_HEIGHT), 2, SLICE / (x * bpp / 8));
	vslice_mmio_write(fd, DISPI(X_OFFSET), 2, xoff);
	vslice_mmio_write(fd, DISPI(Y_OFFSET), 2, yoff);
	vslice_mmio_write(fd, DISPI(ENABLE), 2, 0x41);	/* enabled, LFB */
}

static int query(int fd, u32 flags, u32 type,
		 struct vfio_device_gfx_plane_info *p)
{
	memset(p, 0xa5, sizeof(*p));	/* poison: outputs must be written */
	p->argsz = sizeof(*p);
	p->flags = flags;
	p->drm_plane_type = type;
	return ioctl(fd, VFIO_DEVICE_QUERY_GFX_PLANE, p) ? -errno : 0;
}

/* An empty plane: nothing to show, and no stale bytes either. */
static bool empty(const struct vfio_device_gfx_plane_info *p)
{
	return !p->drm_format && !p->width && !p->height && !p->size &&
	       !p->stride && !p->region_index && !p->drm_format_mod;
}

TEST_F(plane, probe_region_yes_dmabuf_no)
{
	struct vfio_device_gfx_plane_info p;
	int fd = self->f.dev.fd;

	ASSERT_EQ(0, query(fd, VFIO_GFX_PLANE_TYPE_PROBE |
			   VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p));
	ASSERT_EQ(-EINVAL, query(fd, VFIO_GFX_PLANE_TYPE_PROBE |
				 VFIO_GFX_PLANE_TYPE_DMABUF, PLANE_PRIMARY, &p));
	ASSERT_EQ(-EINVAL, query(fd, VFIO_GFX_PLANE_TYPE_DMABUF,
				 PLANE_PRIMARY, &p));
	ASSERT_EQ(-EINVAL, query(fd, 0, PLANE_PRIMARY, &p));
	p.argsz = 8;
	ASSERT_EQ(-1, ioctl(fd, VFIO_DEVICE_QUERY_GFX_PLANE, &p));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(plane, display_off_gives_empty_plane)
{
	struct vfio_device_gfx_plane_info p;
	char mode[64];

	ASSERT_EQ(0, query(self->f.dev.fd, VFIO_GFX_PLANE_TYPE_REGION,
			   PLANE_PRIMARY, &p));
	ASSERT_TRUE(empty(&p));
	ASSERT_EQ(0, vslice_inst_attr(self->f.uuid, "mode", mode, sizeof(mode)));
	ASSERT_STREQ("off", mode);
}

TEST_F(plane, mode_on_describes_scanout_and_region_shows_it)
{
	struct vfio_device_gfx_plane_info p;
	struct vfio_region_info info;
	int fd = self->f.dev.fd;
	u8 *bar0, *disp;
	char mode[64];

	set_mode(fd, 1024, 768, 32, 0, 0);
	ASSERT_EQ(0, query(fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p));
	ASSERT_EQ(XRGB8888, p.drm_format);
	ASSERT_EQ(0, p.drm_format_mod);
	ASSERT_EQ(1024, p.width);
	ASSERT_EQ(768, p.height);
	ASSERT_EQ(4096, p.stride);
	ASSERT_EQ(3 * VSLICE_MIB, p.size);
	ASSERT_GE(p.region_index, VFIO_PCI_NUM_REGIONS);
	ASSERT_EQ(0, vslice_inst_attr(self->f.uuid, "mode", mode, sizeof(mode)));
	ASSERT_STREQ("1024x768 32bpp stride 4096 offset 0x0", mode);

	/* the plane's region shows the scanout's bytes */
	vslice_region_info(fd, p.region_index, &info);
	ASSERT_GE(info.size, p.size);
	ASSERT_TRUE(info.flags & VFIO_REGION_INFO_FLAG_MMAP);
	bar0 = vslice_map_bar0(fd, SLICE);
	vslice_fill(bar0, p.size, 77);
	disp = mmap(NULL, p.size, PROT_READ, MAP_SHARED, fd, info.offset);
	ASSERT_NE(MAP_FAILED, disp);
	ASSERT_EQ(-1, vslice_check(disp, p.size, 77));
	munmap(disp, p.size);
	munmap(bar0, SLICE);

	/* QEMU asks without a plane type (0): that is the primary plane */
	ASSERT_EQ(0, query(fd, VFIO_GFX_PLANE_TYPE_REGION, 0, &p));
	ASSERT_EQ(XRGB8888, p.drm_format);
	ASSERT_EQ(1024, p.width);

	/* the cursor plane does not exist: empty, not an error */
	ASSERT_EQ(0, query(fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_CURSOR, &p));
	ASSERT_TRUE(empty(&p));
}

TEST_F(plane, pan_to_page_aligned_offset_follows)
{
	struct vfio_device_gfx_plane_info p;
	struct vfio_region_info info;
	int fd = self->f.dev.fd;
	u32 first;
	u8 *bar0, *disp;

	set_mode(fd, 1024, 768, 32, 0, 0);
	ASSERT_EQ(0, query(fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p));
	first = p.region_index;

	/* flip to the second buffer: 768 lines down, 3 MiB in */
	bar0 = vslice_map_bar0(fd, SLICE);
	vslice_fill(bar0 + 3 * VSLICE_MIB, 3 * VSLICE_MIB, 88);
	vslice_mmio_write(fd, DISPI(Y_OFFSET), 2, 768);
	ASSERT_EQ(0, query(fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p));
	ASSERT_EQ(1024, p.width);
	ASSERT_NE(first, p.region_index);
	vslice_region_info(fd, p.region_index, &info);
	disp = mmap(NULL, p.size, PROT_READ, MAP_SHARED, fd, info.offset);
	ASSERT_NE(MAP_FAILED, disp);
	ASSERT_EQ(-1, vslice_check(disp, p.size, 88));
	/* through read() too */
	ASSERT_EQ(0, memcmp(disp, bar0 + 3 * VSLICE_MIB, PAGE));
	munmap(disp, p.size);

	/* a second query at the same offset names the same region */
	ASSERT_EQ(0, query(fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p));
	ASSERT_NE(first, p.region_index);
	/* and flipping back returns to the first */
	vslice_mmio_write(fd, DISPI(Y_OFFSET), 2, 0);
	ASSERT_EQ(0, query(fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p));
	ASSERT_EQ(first, p.region_index);
	munmap(bar0, SLICE);
}

TEST_F(plane, invalid_modes_give_empty_plane)
{
	static const struct {
		u16 x, y, bpp, xoff, yoff;
	} bad[] = {
		{ 1024, 768, 24, 0, 0 },	/* unsupported depth */
		{ 1024, 768, 8, 0, 0 },
		{ 32, 768, 32, 0, 0 },		/* too narrow for QEMU */
		{ 1024, 16, 32, 0, 0 },
		{ 4096, 4096, 32, 0, 0 },	/* bigger than the slice */
		{ 1024, 768, 32, 0, 4000 },	/* runs past the slice */
		{ 1024, 768, 32, 1, 0 },	/* not page aligned */
	};
	struct vfio_device_gfx_plane_info p;
	int fd = self->f.dev.fd;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		set_mode(fd, bad[i].x, bad[i].y, bad[i].bpp, bad[i].xoff,
			 bad[i].yoff);
		ASSERT_EQ(0, query(fd, VFIO_GFX_PLANE_TYPE_REGION,
				   PLANE_PRIMARY, &p));
		EXPECT_TRUE(empty(&p)) {
			TH_LOG("mode %u: %ux%u %u bpp at %u,%u", i, bad[i].x,
			       bad[i].y, bad[i].bpp, bad[i].xoff, bad[i].yoff);
		}
	}
}

TEST_F(plane, formats_and_blanking)
{
	struct vfio_device_gfx_plane_info p;
	int fd = self->f.dev.fd;
	char mode[64];

	set_mode(fd, 800, 600, 16, 0, 0);
	ASSERT_EQ(0, query(fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p));
	ASSERT_EQ(RGB565, p.drm_format);
	ASSERT_EQ(1600, p.stride);

	set_mode(fd, 800, 600, 32, 0, 0);
	vslice_mmio_write(fd, 0x604, 4, 0xbebebebe);	/* big-endian fb */
	ASSERT_EQ(0, query(fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p));
	ASSERT_EQ(BGRX8888, p.drm_format);
	vslice_mmio_write(fd, 0x604, 4, 0x1e1e1e1e);

	/* blank the way the bochs driver does: IS1 read, attribute index */
	vslice_mmio_write(fd, 0x402, 1, 0x01);		/* misc output */
	vslice_mmio_read(fd, 0x41a, 1);			/* input status 1 */
	vslice_mmio_write(fd, 0x400, 1, 0x00);		/* PAS clear: blank */
	ASSERT_EQ(0, query(fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p));
	ASSERT_TRUE(empty(&p));
	ASSERT_EQ(0, vslice_inst_attr(self->f.uuid, "mode", mode, sizeof(mode)));
	ASSERT_STREQ("blanked", mode);

	vslice_mmio_read(fd, 0x41a, 1);
	vslice_mmio_write(fd, 0x400, 1, 0x20);		/* PAS set: unblank */
	ASSERT_EQ(0, query(fd, VFIO_GFX_PLANE_TYPE_REGION, PLANE_PRIMARY, &p));
	ASSERT_EQ(XRGB8888, p.drm_format);
}

TEST_HARNESS_MAIN
