// SPDX-License-Identifier: GPL-2.0-only
/*
 * An instance reused by a new tenant: clear_on_close.  By default an
 * instance keeps its VRAM from one open to the next (a guest rebooting
 * finds its framebuffer); with clear_on_close set, on the instance or as
 * the parent's default for new instances, the last close zeroes the
 * slice before anyone can open the instance again, and touches nothing
 * else.  Bad values are refused and change nothing.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define SZ16M	(16 * VSLICE_MIB)

FIXTURE(reuse) {
	const char *bdf;
	char a[VSLICE_UUID_LEN], b[VSLICE_UUID_LEN];
	struct vslice_dev da, db;
	char parent_attr[PATH_MAX], inst_attr[PATH_MAX];
	int kmsg;
};

FIXTURE_SETUP(reuse)
{
	self->bdf = vslice_parent();
	ASSERT_NE(NULL, self->bdf) TH_LOG("no bochs-display bound to vslice");
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	snprintf(self->parent_attr, sizeof(self->parent_attr),
		 "/sys/bus/pci/devices/%s/vslice/clear_on_close", self->bdf);
	ASSERT_EQ(0, vslice_sysfs_write(self->parent_attr, "0"));
	self->kmsg = vslice_kmsg_open();
	/* a, and its neighbour b, which stays open with its own bytes */
	vslice_create_assert(self->bdf, "vslice-16M", self->a);
	vslice_create_assert(self->bdf, "vslice-16M", self->b);
	snprintf(self->inst_attr, sizeof(self->inst_attr),
		 "/sys/bus/mdev/devices/%s/vslice/clear_on_close", self->a);
	vslice_dev_open_assert(&self->da, self->a);
	vslice_dev_open_assert(&self->db, self->b);
}

FIXTURE_TEARDOWN(reuse)
{
	vslice_dev_close(&self->da);
	vslice_dev_close(&self->db);
	EXPECT_EQ(0, vslice_sysfs_write(self->parent_attr, "0"));
	EXPECT_EQ(0, vslice_remove_all(self->bdf));
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
}

/* Fill @fd's slice with the pattern of @seed through its BAR0 mmap. */
static void fill_slice(int fd, u64 seed)
{
	void *p = vslice_map_bar0(fd, SZ16M);

	vslice_fill(p, SZ16M, seed);
	munmap(p, SZ16M);
}

/* Where the first mismatch of @fd's slice against @seed is, or -1. */
static long long check_slice(int fd, u64 seed)
{
	void *p = vslice_map_bar0(fd, SZ16M);
	long long at = vslice_check(p, SZ16M, seed);

	munmap(p, SZ16M);
	return at;
}

static long long check_slice_zero(int fd)
{
	void *p = vslice_map_bar0(fd, SZ16M);
	long long at = vslice_check_zero(p, SZ16M);

	munmap(p, SZ16M);
	return at;
}

/* The default: a new open finds what the last one left. */
TEST_F(reuse, default_keeps_vram_across_opens)
{
	ASSERT_EQ(0, vslice_sysfs_read_ll(self->parent_attr));
	ASSERT_EQ(0, vslice_sysfs_read_ll(self->inst_attr));
	fill_slice(self->da.fd, 0xa11ce);
	vslice_dev_close(&self->da);
	vslice_dev_open_assert(&self->da, self->a);
	ASSERT_EQ(-1, check_slice(self->da.fd, 0xa11ce));
}

/*
 * clear_on_close on the instance: the next open finds zeros, seen both
 * through the instance and through the parent's BAR0 right after the
 * close; the neighbour keeps every byte.
 */
TEST_F(reuse, last_close_clears_only_its_slice)
{
	long long off = vslice_inst_attr_ll(self->a, "vram_offset");
	size_t len;
	u8 *vram;

	ASSERT_LE(0, off);
	ASSERT_EQ(0, vslice_sysfs_write(self->inst_attr, "1"));
	ASSERT_EQ(1, vslice_sysfs_read_ll(self->inst_attr));
	fill_slice(self->da.fd, 0xa11ce);
	fill_slice(self->db.fd, 0xb0b);

	vslice_dev_close(&self->da);
	vram = vslice_map_parent_vram(self->bdf, &len);
	ASSERT_LE(off + SZ16M, len);
	EXPECT_EQ(-1, vslice_check_zero(vram + off, SZ16M));
	munmap(vram, len);

	vslice_dev_open_assert(&self->da, self->a);
	EXPECT_EQ(-1, check_slice_zero(self->da.fd));
	EXPECT_EQ(-1, check_slice(self->db.fd, 0xb0b));

	/* and off again: the bytes stay once more */
	ASSERT_EQ(0, vslice_sysfs_write(self->inst_attr, "0"));
	fill_slice(self->da.fd, 0xa11ce);
	vslice_dev_close(&self->da);
	vslice_dev_open_assert(&self->da, self->a);
	EXPECT_EQ(-1, check_slice(self->da.fd, 0xa11ce));
}

/*
 * The parent's clear_on_close is what new instances start with; changing
 * it later leaves existing instances as they are.
 */
TEST_F(reuse, parent_default_applies_to_new_instances)
{
	char c[VSLICE_UUID_LEN], d[VSLICE_UUID_LEN];
	struct vslice_dev dc;

	ASSERT_EQ(0, vslice_sysfs_write(self->parent_attr, "1"));
	ASSERT_EQ(1, vslice_sysfs_read_ll(self->parent_attr));
	vslice_create_assert(self->bdf, "vslice-16M", c);
	ASSERT_EQ(0, vslice_sysfs_write(self->parent_attr, "0"));
	vslice_create_assert(self->bdf, "vslice-16M", d);
	EXPECT_EQ(1, vslice_inst_attr_ll(c, "clear_on_close"));
	EXPECT_EQ(0, vslice_inst_attr_ll(d, "clear_on_close"));
	EXPECT_EQ(0, vslice_sysfs_read_ll(self->inst_attr));

	vslice_dev_open_assert(&dc, c);
	fill_slice(dc.fd, 0xc0c0);
	vslice_dev_close(&dc);
	vslice_dev_open_assert(&dc, c);
	EXPECT_EQ(-1, check_slice_zero(dc.fd));
	vslice_dev_close(&dc);
	EXPECT_EQ(0, vslice_remove(c));
	EXPECT_EQ(0, vslice_remove(d));
}

/* Anything but a boolean is refused with EINVAL and changes nothing. */
TEST_F(reuse, bad_values_refused)
{
	static const char * const bad[] = { "2", "-1", "maybe", "ja", "o" };
	unsigned int i;

	ASSERT_EQ(0, vslice_sysfs_write(self->inst_attr, "1"));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, vslice_sysfs_write(self->parent_attr, bad[i]))
			TH_LOG("parent took '%s'", bad[i]);
		EXPECT_EQ(-EINVAL, vslice_sysfs_write(self->inst_attr, bad[i]))
			TH_LOG("instance took '%s'", bad[i]);
	}
	EXPECT_EQ(0, vslice_sysfs_read_ll(self->parent_attr));
	EXPECT_EQ(1, vslice_sysfs_read_ll(self->inst_attr));
	/* the spellings kstrtobool() knows */
	EXPECT_EQ(0, vslice_sysfs_write(self->inst_attr, "off"));
	EXPECT_EQ(0, vslice_sysfs_read_ll(self->inst_attr));
	EXPECT_EQ(0, vslice_sysfs_write(self->inst_attr, "y\n"));
	EXPECT_EQ(1, vslice_sysfs_read_ll(self->inst_attr));
}

TEST_HARNESS_MAIN
