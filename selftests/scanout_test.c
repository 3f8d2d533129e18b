// SPDX-License-Identifier: GPL-2.0-only
/*
 * The physical screen follows one instance: the parent's scanout
 * attribute programs the real bochs-display (read back here through its
 * sysfs resource2) with the instance's mode and place in VRAM, follows
 * mode changes and flips, refuses what the 16-bit offsets cannot reach,
 * and lets go when the instance goes.  And a second parent: two cards,
 * each with its own pool and types, instances on both at once.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define MIB		VSLICE_MIB
#define DISPI(i)	(0x500 + 2 * (i))

enum {
	ID, XRES, YRES, BPP, ENABLE, BANK, VIRT_WIDTH, VIRT_HEIGHT,
	X_OFFSET, Y_OFFSET,
};

FIXTURE(scanout) {
	const char *bdf;
	char path[PATH_MAX];
	u8 *hw;
	int kmsg;
};

FIXTURE_SETUP(scanout)
{
	char path[PATH_MAX];
	int fd;

	self->bdf = vslice_parent();
	if (!self->bdf)
		SKIP(return, "no bochs-display (1234:1111) in this machine");
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	snprintf(self->path, sizeof(self->path),
		 "/sys/bus/pci/devices/%s/vslice/scanout", self->bdf);
	/* the card's own registers, to see what vslice programmed */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource2",
		 self->bdf);
	fd = open(path, O_RDONLY | O_SYNC);
	ASSERT_LE(0, fd);
	self->hw = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	ASSERT_NE(MAP_FAILED, self->hw);
	self->kmsg = vslice_kmsg_open();
}

FIXTURE_TEARDOWN(scanout)
{
	vslice_sysfs_write(self->path, "none");
	EXPECT_EQ(0, vslice_remove_all(self->bdf));
	munmap(self->hw, 4096);
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
}

static u16 hw(const u8 *mmio, int reg)
{
	return *(const u16 *)(mmio + DISPI(reg));
}

static void set_mode(int fd, u16 x, u16 y, u16 yoff)
{
	vslice_mmio_write(fd, DISPI(ENABLE), 2, 0);
	vslice_mmio_write(fd, DISPI(BPP), 2, 32);
	vslice_mmio_write(fd, DISPI(XRES), 2, x);
	vslice_mmio_write(fd, DISPI(YRES), 2, y);
	vslice_mmio_write(fd, DISPI(VIRT_WIDTH), 2, x);
	vslice_mmio_write(fd, DISPI(X_OFFSET), 2, 0);
	vslice_mmio_write(fd, DISPI(Y_OFFSET), 2, yoff);
	vslice_mmio_write(fd, DISPI(ENABLE), 2, 0x41);
}

TEST_F(scanout, screen_follows_instance)
{
	char uuid[VSLICE_UUID_LEN], other[VSLICE_UUID_LEN], buf[64];
	struct vslice_dev dev;
	u64 off;

	vslice_create_assert(self->bdf, "vslice-4M", other);
	vslice_create_assert(self->bdf, "vslice-16M", uuid);
	off = vslice_inst_attr_ll(uuid, "vram_offset");
	vslice_dev_open_assert(&dev, uuid);
	set_mode(dev.fd, 1024, 768, 0);

	ASSERT_EQ(0, vslice_sysfs_read(self->path, buf, sizeof(buf)));
	ASSERT_STREQ("none", buf);
	ASSERT_EQ(0, hw(self->hw, ENABLE) & 1);

	ASSERT_EQ(0, vslice_sysfs_write(self->path, uuid));
	ASSERT_EQ(0, vslice_sysfs_read(self->path, buf, sizeof(buf)));
	ASSERT_STREQ(uuid, buf);
	ASSERT_EQ(1024, hw(self->hw, XRES));
	ASSERT_EQ(768, hw(self->hw, YRES));
	ASSERT_EQ(32, hw(self->hw, BPP));
	ASSERT_EQ(1024, hw(self->hw, VIRT_WIDTH));
	ASSERT_EQ(off / 4096, hw(self->hw, Y_OFFSET));
	ASSERT_EQ(0, hw(self->hw, X_OFFSET));
	ASSERT_EQ(1, hw(self->hw, ENABLE) & 1);

	/* a flip on the instance moves the physical scanout */
	vslice_mmio_write(dev.fd, DISPI(Y_OFFSET), 2, 768);
	ASSERT_EQ(off / 4096 + 768, hw(self->hw, Y_OFFSET));
	/* a mode change too (the place in VRAM becomes line and column) */
	set_mode(dev.fd, 1280, 720, 0);
	ASSERT_EQ(1280, hw(self->hw, XRES));
	ASSERT_EQ(720, hw(self->hw, YRES));
	ASSERT_EQ(off / 5120, hw(self->hw, Y_OFFSET));
	ASSERT_EQ(off % 5120 / 4, hw(self->hw, X_OFFSET));
	/* display off on the instance: dark on the screen */
	vslice_mmio_write(dev.fd, DISPI(ENABLE), 2, 0);
	ASSERT_EQ(0, hw(self->hw, ENABLE) & 1);
	set_mode(dev.fd, 1024, 768, 0);
	ASSERT_EQ(1, hw(self->hw, ENABLE) & 1);

	/* the other instance's registers do not reach the screen */
	vslice_dev_close(&dev);
	vslice_dev_open_assert(&dev, other);
	set_mode(dev.fd, 640, 480, 0);
	ASSERT_EQ(1024, hw(self->hw, XRES));
	vslice_dev_close(&dev);

	/* none: dark */
	ASSERT_EQ(0, vslice_sysfs_write(self->path, "none\n"));
	ASSERT_EQ(0, hw(self->hw, ENABLE) & 1);
}

TEST_F(scanout, bad_values_refused)
{
	char uuid[VSLICE_UUID_LEN], buf[64];

	ASSERT_EQ(-EINVAL, vslice_sysfs_write(self->path, "garbage"));
	ASSERT_EQ(-ENODEV,
		  vslice_sysfs_write(self->path,
				     "12345678-1234-1234-1234-123456789abc"));
	vslice_create_assert(self->bdf, "vslice-4M", uuid);
	ASSERT_EQ(0, vslice_sysfs_write(self->path, uuid));
	ASSERT_EQ(-EINVAL, vslice_sysfs_write(self->path, "1234"));
	/* a failed write leaves the screen as it was */
	ASSERT_EQ(0, vslice_sysfs_read(self->path, buf, sizeof(buf)));
	ASSERT_STREQ(uuid, buf);
}

TEST_F(scanout, unreachable_offset_refused)
{
	char uuids[64][VSLICE_UUID_LEN];
	struct vslice_dev dev;
	int i, top = -1;

	/* the slice at the very top of VRAM, with a narrow mode: */
	for (i = 0; i < 64; i++) {
		vslice_create_assert(self->bdf, "vslice-4M", uuids[i]);
		if (vslice_inst_attr_ll(uuids[i], "vram_offset") ==
		    252 * MIB)
			top = i;
	}
	ASSERT_LE(0, top);
	vslice_dev_open_assert(&dev, uuids[top]);
	set_mode(dev.fd, 64, 64, 0);
	/* 252 MiB / 256-byte lines does not fit in 16 bits */
	ASSERT_EQ(-ERANGE, vslice_sysfs_write(self->path, uuids[top]));
	ASSERT_EQ(0, hw(self->hw, ENABLE) & 1);
	/* a wide mode reaches it */
	set_mode(dev.fd, 1024, 64, 0);
	ASSERT_EQ(0, vslice_sysfs_write(self->path, uuids[top]));
	ASSERT_EQ(252 * MIB / 4096, hw(self->hw, Y_OFFSET));
	/* narrowing it later goes dark instead of showing the wrong VRAM */
	set_mode(dev.fd, 64, 64, 0);
	ASSERT_EQ(0, hw(self->hw, ENABLE) & 1);
	vslice_dev_close(&dev);
}

TEST_F(scanout, removal_takes_instance_off_screen)
{
	char uuid[VSLICE_UUID_LEN], buf[64];
	struct vslice_dev dev;

	vslice_create_assert(self->bdf, "vslice-16M", uuid);
	vslice_dev_open_assert(&dev, uuid);
	set_mode(dev.fd, 1024, 768, 0);
	vslice_dev_close(&dev);
	ASSERT_EQ(0, vslice_sysfs_write(self->path, uuid));
	ASSERT_EQ(1, hw(self->hw, ENABLE) & 1);
	ASSERT_EQ(0, vslice_remove(uuid));
	ASSERT_EQ(0, vslice_sysfs_read(self->path, buf, sizeof(buf)));
	ASSERT_STREQ("none", buf);
	ASSERT_EQ(0, hw(self->hw, ENABLE) & 1);
}

TEST_F(scanout, two_parents_each_with_own_pool)
{
	const char *spare = vslice_spare();
	char a[VSLICE_UUID_LEN], b[VSLICE_UUID_LEN], buf[64];
	u8 *va, *vb;
	size_t la, lb;
	struct vslice_dev da, db;
	long long avail;

	if (!spare)
		SKIP(return, "needs a second bochs-display");
	ASSERT_EQ(0, vslice_bind(spare, "vslice"));
	avail = vslice_type_available(spare, "vslice-64M");
	ASSERT_EQ(4, avail);

	vslice_create_assert(self->bdf, "vslice-64M", a);
	vslice_create_assert(spare, "vslice-64M", b);
	/* each parent's pool counts only its own instances */
	ASSERT_EQ(3, vslice_type_available(self->bdf, "vslice-64M"));
	ASSERT_EQ(3, vslice_type_available(spare, "vslice-64M"));
	ASSERT_EQ(0, vslice_inst_attr(b, "parent", buf, sizeof(buf)));
	ASSERT_STREQ(spare, buf);

	/* each instance's bytes land in its own card */
	vslice_dev_open_assert(&da, a);
	vslice_dev_open_assert(&db, b);
	va = vslice_map_bar0(da.fd, 64 * MIB);
	vb = vslice_map_bar0(db.fd, 64 * MIB);
	vslice_fill(va, 64 * MIB, 0xa);
	vslice_fill(vb, 64 * MIB, 0xb);
	munmap(va, 64 * MIB);
	munmap(vb, 64 * MIB);
	va = vslice_map_parent_vram(self->bdf, &la);
	vb = vslice_map_parent_vram(spare, &lb);
	ASSERT_EQ(-1, vslice_check(va + vslice_inst_attr_ll(a, "vram_offset"),
				   64 * MIB, 0xa));
	ASSERT_EQ(-1, vslice_check(vb + vslice_inst_attr_ll(b, "vram_offset"),
				   64 * MIB, 0xb));
	munmap(va, la);
	munmap(vb, lb);
	vslice_dev_close(&da);
	vslice_dev_close(&db);

	/* unbinding the second card removes its instance, not the first's */
	ASSERT_EQ(0, vslice_bind(spare, ""));
	ASSERT_EQ(1, vslice_inst_count(self->bdf));
	ASSERT_EQ(-ENOENT, vslice_remove(b));
}

TEST_HARNESS_MAIN
