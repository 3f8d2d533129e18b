// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO migration v2, driven straight through the uapi: the state machine
 * (valid and invalid transitions), a stream saved from one instance and
 * resumed into another (VRAM, registers, EDID, config space all arrive),
 * and streams that must be refused: truncated, corrupted, too long, for
 * another type or version.  A refused stream leaves nothing behind.
 */
#define _GNU_SOURCE
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define MIB		VSLICE_MIB
#define SZ16M		(16 * MIB)
#define MMIO(off)	(VSLICE_REGION_OFFSET(VFIO_PCI_BAR2_REGION_INDEX) + (off))
#define EDID_REGION	VFIO_PCI_NUM_REGIONS

FIXTURE(migration) {
	const char *bdf;
	char a[VSLICE_UUID_LEN], b[VSLICE_UUID_LEN];
	struct vslice_dev src, dst;
	int kmsg;
};

FIXTURE_SETUP(migration)
{
	self->bdf = vslice_parent();
	if (!self->bdf)
		SKIP(return, "no bochs-display (1234:1111) in this machine");
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	self->kmsg = vslice_kmsg_open();
	vslice_create_assert(self->bdf, "vslice-16M", self->a);
	vslice_create_assert(self->bdf, "vslice-16M", self->b);
	vslice_dev_open_assert(&self->src, self->a);
	vslice_dev_open_assert(&self->dst, self->b);
}

FIXTURE_TEARDOWN(migration)
{
	vslice_dev_close(&self->src);
	vslice_dev_close(&self->dst);
	EXPECT_EQ(0, vslice_remove_all(self->bdf));
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
}

/* Stop @fd and read its whole stop-copy stream; returns its length. */
static size_t save(int fd, u8 *stream, size_t max)
{
	size_t len = 0;
	ssize_t n;
	int data = -1;

	if (vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP_COPY, &data))
		VSLICE_FAIL("entering STOP_COPY");
	while ((n = read(data, stream + len, max - len)) > 0)
		len += n;
	if (n < 0)
		VSLICE_FAIL("reading the stream");
	close(data);
	if (vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL))
		VSLICE_FAIL("leaving STOP_COPY");
	return len;
}

/* Feed @len bytes of @stream to @fd in RESUMING; the result of ->STOP. */
static int resume(int fd, const u8 *stream, size_t len, int *write_err)
{
	size_t done = 0, chunk;
	ssize_t n;
	int data = -1;

	*write_err = 0;
	if (vslice_mig_set(fd, VFIO_DEVICE_STATE_RESUMING, &data))
		VSLICE_FAIL("entering RESUMING");
	while (done < len) {
		chunk = len - done < 100000 ? len - done : 100000;
		n = write(data, stream + done, chunk);
		if (n < 0) {
			*write_err = -errno;
			break;
		}
		done += n;
	}
	close(data);
	return vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL);
}

/* Give the source a state worth moving: VRAM, a mode, its own EDID. */
static void dirty_source(int fd)
{
	u8 *bar0 = vslice_map_bar0(fd, SZ16M);
	u8 edid[128];
	unsigned int i;

	vslice_fill(bar0, SZ16M, 0x3141);
	munmap(bar0, SZ16M);
	vslice_mmio_write(fd, 0x502, 2, 1024);
	vslice_mmio_write(fd, 0x504, 2, 768);
	vslice_mmio_write(fd, 0x506, 2, 32);
	vslice_mmio_write(fd, 0x508, 2, 0x41);
	vslice_mmio_write(fd, 0x604, 4, 0xbebebebe);
	vslice_cfg_write(fd, 0x04, 2, 0x0006);
	vslice_cfg_write(fd, 0x3c, 1, 0x0b);
	for (i = 0; i < sizeof(edid); i++)
		edid[i] = i ^ 0x55;
	if (pwrite(fd, edid, sizeof(edid),
		   VSLICE_REGION_OFFSET(EDID_REGION) + 0x400) != sizeof(edid))
		VSLICE_FAIL("writing the EDID blob");
}

TEST_F(migration, offers_stop_copy)
{
	struct vfio_device_feature_migration m = { 0 };

	ASSERT_EQ(0, vslice_device_feature(self->src.fd,
					   VFIO_DEVICE_FEATURE_GET |
					   VFIO_DEVICE_FEATURE_MIGRATION,
					   &m, sizeof(m)));
	ASSERT_EQ(VFIO_MIGRATION_STOP_COPY, m.flags);
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vslice_mig_get(self->src.fd));
}

TEST_F(migration, state_machine_transitions)
{
	int fd = self->src.fd, data = -1;

	/* the arcs a stop-copy device has */
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(VFIO_DEVICE_STATE_STOP, vslice_mig_get(fd));
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_RUNNING, NULL));
	/* RUNNING -> STOP_COPY goes through STOP by itself */
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP_COPY, &data));
	ASSERT_LE(0, data);
	ASSERT_EQ(VFIO_DEVICE_STATE_STOP_COPY, vslice_mig_get(fd));
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL));
	/* the data file of a state left behind reads no more */
	ASSERT_EQ(-1, read(data, &data, sizeof(data)));
	ASSERT_EQ(ENODEV, errno);
	close(data);
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_RUNNING, NULL));

	/* states it does not have, and nonsense */
	ASSERT_EQ(-EINVAL, vslice_mig_set(fd, VFIO_DEVICE_STATE_PRE_COPY, NULL));
	ASSERT_EQ(-EINVAL, vslice_mig_set(fd, VFIO_DEVICE_STATE_RUNNING_P2P, NULL));
	ASSERT_EQ(-EINVAL, vslice_mig_set(fd, 1000, NULL));
	ASSERT_EQ(-EINVAL, vslice_mig_set(fd, VFIO_DEVICE_STATE_ERROR, NULL));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vslice_mig_get(fd));

	/* a reset ends a migration half way */
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP_COPY, &data));
	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vslice_mig_get(fd));
	ASSERT_EQ(-1, read(data, &data, sizeof(data)));
	close(data);
}

TEST_F(migration, stream_moves_whole_state)
{
	size_t max = SZ16M + 65536, len;
	u8 *stream = malloc(max), *a, *b, cfg_a[256], cfg_b[256];
	u8 regs_a[32], regs_b[32], edid_a[128], edid_b[128];
	int werr;

	ASSERT_NE(NULL, stream);
	dirty_source(self->src.fd);
	ASSERT_EQ(256, pread(self->src.fd, cfg_a, 256, VSLICE_REGION_OFFSET(7)));
	ASSERT_EQ(32, pread(self->src.fd, regs_a, 32, MMIO(0x500)));
	ASSERT_EQ(128, pread(self->src.fd, edid_a, 128, MMIO(0)));

	len = save(self->src.fd, stream, max);
	ASSERT_LT(SZ16M, len);
	ASSERT_GT(SZ16M + 8192, len);
	ASSERT_EQ(0, resume(self->dst.fd, stream, len, &werr));
	ASSERT_EQ(0, werr);
	ASSERT_EQ(0, vslice_mig_set(self->dst.fd, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, vslice_mig_set(self->src.fd, VFIO_DEVICE_STATE_RUNNING, NULL));

	/* everything the guest could see arrived */
	a = vslice_map_bar0(self->dst.fd, SZ16M);
	ASSERT_EQ(-1, vslice_check(a, SZ16M, 0x3141));
	munmap(a, SZ16M);
	ASSERT_EQ(256, pread(self->dst.fd, cfg_b, 256, VSLICE_REGION_OFFSET(7)));
	ASSERT_EQ(0, memcmp(cfg_a, cfg_b, 256));
	ASSERT_EQ(32, pread(self->dst.fd, regs_b, 32, MMIO(0x500)));
	ASSERT_EQ(0, memcmp(regs_a, regs_b, 32));
	ASSERT_EQ(0xbebebebe, vslice_mmio_read(self->dst.fd, 0x604, 4));
	ASSERT_EQ(128, pread(self->dst.fd, edid_b, 128, MMIO(0)));
	ASSERT_EQ(0, memcmp(edid_a, edid_b, 128));

	/* and the source kept its own */
	b = vslice_map_bar0(self->src.fd, SZ16M);
	ASSERT_EQ(-1, vslice_check(b, SZ16M, 0x3141));
	munmap(b, SZ16M);
	free(stream);
}

TEST_F(migration, bad_streams_refused_and_leave_nothing)
{
	size_t max = SZ16M + 65536, len;
	u8 *stream = malloc(max), *copy = malloc(max), *d;
	char c64[VSLICE_UUID_LEN];
	struct vslice_dev big;
	int werr;

	ASSERT_NE(NULL, stream);
	ASSERT_NE(NULL, copy);
	dirty_source(self->src.fd);
	len = save(self->src.fd, stream, max);

	/* truncated: refused at the end, device reset, VRAM cleared */
	ASSERT_EQ(-EINVAL, resume(self->dst.fd, stream, len - 4096, &werr));
	ASSERT_EQ(VFIO_DEVICE_STATE_ERROR, vslice_mig_get(self->dst.fd));
	d = vslice_map_bar0(self->dst.fd, SZ16M);
	ASSERT_EQ(-1, vslice_check_zero(d, SZ16M));
	munmap(d, SZ16M);
	ASSERT_EQ(0, vslice_mmio_read(self->dst.fd, 0x502, 2));
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vslice_mig_get(self->dst.fd));

	/* a corrupted register state: the checksum catches it */
	memcpy(copy, stream, len);
	copy[100 + 256 + 2] ^= 0x40;
	ASSERT_EQ(-EINVAL, resume(self->dst.fd, copy, len, &werr));
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));

	/* a corrupted header: refused at the first write, nothing taken */
	memcpy(copy, stream, len);
	copy[4] ^= 1;	/* magic */
	ASSERT_EQ(-EINVAL, resume(self->dst.fd, copy, len, &werr));
	ASSERT_EQ(-EINVAL, werr);
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	memcpy(copy, stream, len);
	copy[8] = 99;	/* version */
	ASSERT_EQ(-EINVAL, resume(self->dst.fd, copy, len, &werr));
	ASSERT_EQ(-EINVAL, werr);
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));

	/* too long */
	memcpy(copy, stream, len);
	ASSERT_EQ(-EINVAL, resume(self->dst.fd, copy, len + 1, &werr));
	ASSERT_EQ(-EINVAL, werr);
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));

	/* a 16M stream into a 64M instance: another type, refused at once */
	vslice_create_assert(self->bdf, "vslice-64M", c64);
	vslice_dev_open_assert(&big, c64);
	d = vslice_map_bar0(big.fd, 64 * MIB);
	vslice_fill(d, 64 * MIB, 0x64);
	ASSERT_EQ(-EINVAL, resume(big.fd, stream, len, &werr));
	ASSERT_EQ(-EINVAL, werr);
	ASSERT_EQ(-1, vslice_check(d, 64 * MIB, 0x64));
	ASSERT_EQ(0, ioctl(big.fd, VFIO_DEVICE_RESET));
	munmap(d, 64 * MIB);
	vslice_dev_close(&big);

	/* and the good stream still goes in after all that */
	ASSERT_EQ(0, resume(self->dst.fd, stream, len, &werr));
	d = vslice_map_bar0(self->dst.fd, SZ16M);
	ASSERT_EQ(-1, vslice_check(d, SZ16M, 0x3141));
	munmap(d, SZ16M);
	free(stream);
	free(copy);
}

TEST_F(migration, closing_ends_migration)
{
	int data = -1;
	u8 buf[64];

	ASSERT_EQ(0, vslice_mig_set(self->src.fd, VFIO_DEVICE_STATE_STOP_COPY, &data));
	vslice_dev_close(&self->src);
	/* the data file outlives the device file, but reads nothing */
	ASSERT_EQ(-1, read(data, buf, sizeof(buf)));
	ASSERT_EQ(ENODEV, errno);
	close(data);
	vslice_dev_open_assert(&self->src, self->a);
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vslice_mig_get(self->src.fd));
}

TEST_HARNESS_MAIN
