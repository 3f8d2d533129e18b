// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtual monitor: a valid EDID whose native mode is the type's
 * largest, read by the guest at BAR2 0x000, and the VFIO EDID region
 * through which management software (QEMU) replaces it.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define EDID_REGION	VFIO_PCI_NUM_REGIONS
#define EREG(field)	offsetof(struct vfio_region_gfx_edid, field)

FIXTURE(edid) {
	const char *bdf;
	char uuid[VSLICE_UUID_LEN];
	struct vslice_dev dev;
	u64 region;
	int kmsg;
};

FIXTURE_VARIANT(edid) {
	const char *type;
	u16 xres;
	u16 yres;
};

FIXTURE_VARIANT_ADD(edid, t4m) {
	.type = "vslice-4M", .xres = 800, .yres = 600,
};

FIXTURE_VARIANT_ADD(edid, t16m) {
	.type = "vslice-16M", .xres = 1920, .yres = 1080,
};

FIXTURE_VARIANT_ADD(edid, t64m) {
	.type = "vslice-64M", .xres = 3840, .yres = 2160,
};

FIXTURE_SETUP(edid)
{
	struct vfio_region_info info;

	self->bdf = vslice_parent();
	if (!self->bdf)
		SKIP(return, "no bochs-display (1234:1111) in this machine");
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	self->kmsg = vslice_kmsg_open();
	vslice_create_assert(self->bdf, variant->type, self->uuid);
	vslice_dev_open_assert(&self->dev, self->uuid);
	vslice_region_info(self->dev.fd, EDID_REGION, &info);
	self->region = info.offset;
}

FIXTURE_TEARDOWN(edid)
{
	vslice_dev_close(&self->dev);
	EXPECT_EQ(0, vslice_remove(self->uuid));
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
}

/* The 128-byte block the guest reads at BAR2 0x000. */
static void guest_edid(int fd, u8 *edid)
{
	if (pread(fd, edid, 128,
		  VSLICE_REGION_OFFSET(VFIO_PCI_BAR2_REGION_INDEX)) != 128)
		VSLICE_FAIL("reading the EDID window of BAR2");
}

static u32 ereg(int fd, u64 region, size_t field)
{
	u32 v;

	if (pread(fd, &v, 4, region + field) != 4)
		VSLICE_FAIL("reading EDID register at %zu", field);
	return v;
}

static int ereg_write(int fd, u64 region, size_t field, u32 v)
{
	return pwrite(fd, &v, 4, region + field) == 4 ? 0 : -errno;
}

TEST_F(edid, guest_sees_valid_edid_with_native_mode)
{
	static const u8 header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	u8 edid[128], sum = 0;
	unsigned int i;
	u8 *dtd;

	guest_edid(self->dev.fd, edid);
	ASSERT_EQ(0, memcmp(edid, header, sizeof(header)));
	for (i = 0; i < 128; i++)
		sum += edid[i];
	ASSERT_EQ(0, sum);
	ASSERT_EQ(1, edid[18]);		/* version 1.4 */
	ASSERT_EQ(4, edid[19]);
	ASSERT_EQ(0, edid[126]);	/* no extensions */
	ASSERT_TRUE(edid[24] & 0x02);	/* first timing is preferred */

	/* the first detailed timing is the type's largest mode */
	dtd = edid + 54;
	ASSERT_NE(0, dtd[0] | dtd[1]);
	ASSERT_EQ(variant->xres, dtd[2] | (dtd[4] >> 4) << 8);
	ASSERT_EQ(variant->yres, dtd[5] | (dtd[7] >> 4) << 8);
	/* ...and it fits the slice twice over, as the guest driver wants */
	ASSERT_LE((u64)variant->xres * variant->yres * 4 * 2,
		  vslice_inst_attr_ll(self->uuid, "vram_size"));
	/* a monitor name descriptor */
	ASSERT_EQ(0xfc, edid[90 + 3]);
}

TEST_F(edid, region_describes_the_monitor)
{
	int fd = self->dev.fd;
	u32 type, subtype;
	u8 blob[128], edid[128];

	ASSERT_EQ(0, vslice_region_cap_type(fd, EDID_REGION, &type, &subtype));
	ASSERT_EQ(VFIO_REGION_TYPE_GFX, type);
	ASSERT_EQ(VFIO_REGION_SUBTYPE_GFX_EDID, subtype);

	ASSERT_EQ(128, ereg(fd, self->region, EREG(edid_size)));
	ASSERT_GE(ereg(fd, self->region, EREG(edid_max_size)), 256);
	ASSERT_EQ(variant->xres, ereg(fd, self->region, EREG(max_xres)));
	ASSERT_EQ(variant->yres, ereg(fd, self->region, EREG(max_yres)));
	ASSERT_EQ(VFIO_DEVICE_GFX_LINK_STATE_UP,
		  ereg(fd, self->region, EREG(link_state)));

	/* the blob in the region is what the guest reads */
	ASSERT_EQ(128, pread(fd, blob, 128, self->region +
			     ereg(fd, self->region, EREG(edid_offset))));
	guest_edid(fd, edid);
	ASSERT_EQ(0, memcmp(blob, edid, 128));
}

TEST_F(edid, replace_edid_with_link_protocol)
{
	int fd = self->dev.fd;
	u32 off = ereg(fd, self->region, EREG(edid_offset));
	u8 mine[256], seen[256], zeros[128] = { 0 };
	unsigned int i;

	for (i = 0; i < sizeof(mine); i++)
		mine[i] = i * 7 + 3;

	/* link down: the guest sees no monitor */
	ASSERT_EQ(0, ereg_write(fd, self->region, EREG(link_state),
				VFIO_DEVICE_GFX_LINK_STATE_DOWN));
	guest_edid(fd, seen);
	ASSERT_EQ(0, memcmp(seen, zeros, 128));

	/* blob, size, link up: the guest sees the new blob and no more */
	ASSERT_EQ(sizeof(mine), pwrite(fd, mine, sizeof(mine),
				       self->region + off));
	ASSERT_EQ(0, ereg_write(fd, self->region, EREG(edid_size), 200));
	ASSERT_EQ(0, ereg_write(fd, self->region, EREG(link_state),
				VFIO_DEVICE_GFX_LINK_STATE_UP));
	ASSERT_EQ(256, pread(fd, seen, 256,
			     VSLICE_REGION_OFFSET(VFIO_PCI_BAR2_REGION_INDEX)));
	ASSERT_EQ(0, memcmp(seen, mine, 200));
	for (i = 200; i < 256; i++)
		ASSERT_EQ(0, seen[i]);

	/* a device reset keeps the monitor; a new open brings a fresh one */
	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_RESET));
	guest_edid(fd, seen);
	ASSERT_EQ(0, memcmp(seen, mine, 128));
	vslice_dev_close(&self->dev);
	vslice_dev_open_assert(&self->dev, self->uuid);
	fd = self->dev.fd;
	ASSERT_EQ(128, ereg(fd, self->region, EREG(edid_size)));
	guest_edid(fd, seen);
	ASSERT_EQ(0xff, seen[1]);
}

TEST_F(edid, region_refuses_bad_writes)
{
	int fd = self->dev.fd;
	u32 max = ereg(fd, self->region, EREG(edid_max_size));
	u16 half = 1;

	ASSERT_EQ(-EINVAL, ereg_write(fd, self->region, EREG(edid_size),
				      max + 1));
	ASSERT_EQ(-EINVAL, ereg_write(fd, self->region, EREG(link_state), 7));
	ASSERT_EQ(-EINVAL, ereg_write(fd, self->region, EREG(max_xres), 1));
	ASSERT_EQ(-EINVAL, ereg_write(fd, self->region, EREG(edid_offset), 0));
	ASSERT_EQ(-1, pwrite(fd, &half, 2, self->region + EREG(link_state)));
	ASSERT_EQ(EINVAL, errno);
	/* past the end of the region */
	ASSERT_EQ(-1, pwrite(fd, &half, 2, self->region + 0x10000));
	ASSERT_EQ(EINVAL, errno);
	/* nothing changed */
	ASSERT_EQ(128, ereg(fd, self->region, EREG(edid_size)));
	ASSERT_EQ(VFIO_DEVICE_GFX_LINK_STATE_UP,
		  ereg(fd, self->region, EREG(link_state)));
	ASSERT_EQ(variant->xres, ereg(fd, self->region, EREG(max_xres)));
}

TEST_HARNESS_MAIN
