// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO migration v2, driven straight through the uapi: the state machine
 * (valid and invalid transitions), a stream saved from one instance and
 * resumed into another (VRAM, registers, EDID, config space all arrive),
 * and streams that must be refused: truncated, corrupted, too long, for
 * another type or version, or with read-only config bytes changed.  A
 * refused stream leaves nothing behind, and neither does a stream left
 * half way by a reset or a close.  The hostile side: ERROR refuses every
 * request but a reset without a kernel warning, data files' memory is
 * charged to the caller and freed with the state, and the kernel log
 * stays short and escaped whatever the streams say.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define MIB		VSLICE_MIB
#define SZ16M		(16 * MIB)
#define MMIO(off)	(VSLICE_REGION_OFFSET(VFIO_PCI_BAR2_REGION_INDEX) + (off))
#define EDID_REGION	VFIO_PCI_NUM_REGIONS

/* The stream (vfio_core/migration.c), as far as tests craft it. */
#define HDR_COMPAT	16	/* 48 bytes of compatibility string */
#define HDR_BLOB_SIZE	64
#define HDR_SIZE	88
#define REC_SIZE	32	/* a record's head: type, pass, offset, length, crc */
#define REC_CRC		24

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

/* CRC-32 (IEEE), as the kernel's ~crc32_le(~0, ...) computes it. */
static u32 crc32_ieee(u32 crc, const u8 *p, size_t len)
{
	unsigned int k;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc;
}

/* Bytes of config space and model state in the STATE record. */
static u64 blob_size(const u8 *stream)
{
	u64 blob;

	memcpy(&blob, stream + HDR_BLOB_SIZE, sizeof(blob));
	return blob;
}

/* Where the state (config space first) starts: the last record's payload. */
static size_t state_at(const u8 *stream, size_t len)
{
	return len - blob_size(stream);
}

/* Make @stream's checksum right again after a test changed its state. */
static void fix_crc(u8 *stream, size_t len)
{
	size_t at = state_at(stream, len);
	u8 *crcp = stream + at - REC_SIZE + REC_CRC;
	u32 crc;

	crc = crc32_ieee(0, stream, HDR_SIZE);
	crc = crc32_ieee(crc, stream + at, blob_size(stream));
	memcpy(crcp, &crc, 4);
}

/* The records of the kernel log since @kmsg was opened that contain @s. */
static int kmsg_count(int kmsg, const char *s, char *last, size_t last_len)
{
	char rec[8192];
	ssize_t n;
	int hits = 0;

	for (;;) {
		n = read(kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (strstr(rec, s)) {
			hits++;
			if (last)
				snprintf(last, last_len, "%s", rec);
		}
	}
	return hits;
}

TEST_F(migration, offers_stop_copy)
{
	struct vfio_device_feature_migration m = { 0 };

	ASSERT_EQ(0, vslice_device_feature(self->src.fd,
					   VFIO_DEVICE_FEATURE_GET |
					   VFIO_DEVICE_FEATURE_MIGRATION,
					   &m, sizeof(m)));
	/* PRE_COPY where the kernel has it (6.2 on): precopy_test */
	ASSERT_EQ(VFIO_MIGRATION_STOP_COPY |
		  (vslice_kernel_at_least(6, 2) ? VFIO_MIGRATION_PRE_COPY : 0),
		  m.flags);
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
	if (!vslice_kernel_at_least(6, 2))
		ASSERT_EQ(-EINVAL, vslice_mig_set(fd, VFIO_DEVICE_STATE_PRE_COPY, NULL));
	ASSERT_EQ(-EINVAL, vslice_mig_set(fd, VFIO_DEVICE_STATE_RUNNING_P2P, NULL));
	ASSERT_EQ(-EINVAL, vslice_mig_set(fd, VFIO_DEVICE_STATE_PRE_COPY_P2P, NULL));
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
	copy[state_at(stream, len) + 256 + 2] ^= 0x40;
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

/*
 * In ERROR only a reset moves the device: every other request is refused
 * with EINVAL, from several threads at once, and none of them reaches the
 * vfio core's arc helper, which would WARN (a host crash under
 * panic_on_warn).
 */
struct error_hammer {
	int fd;
	int wrong;
};

static void *hammer_error_state(void *arg)
{
	static const u32 asks[] = {
		VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_RUNNING,
		VFIO_DEVICE_STATE_STOP_COPY, VFIO_DEVICE_STATE_RESUMING,
		VFIO_DEVICE_STATE_ERROR, VFIO_DEVICE_STATE_PRE_COPY, 77,
	};
	struct error_hammer *h = arg;
	unsigned int i;

	for (i = 0; i < 700; i++)
		if (vslice_mig_set(h->fd, asks[i % 7], NULL) != -EINVAL)
			h->wrong++;
	return NULL;
}

TEST_F(migration, error_state_refuses_all_but_reset)
{
	size_t max = SZ16M + 65536, len;
	u8 *stream = malloc(max);
	struct error_hammer h[4];
	pthread_t t[4];
	int i, werr, fd = self->dst.fd;

	ASSERT_NE(NULL, stream);
	len = save(self->src.fd, stream, max);
	ASSERT_EQ(-EINVAL, resume(fd, stream, len / 2, &werr));
	ASSERT_EQ(VFIO_DEVICE_STATE_ERROR, vslice_mig_get(fd));

	ASSERT_EQ(-EINVAL, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(-EINVAL, vslice_mig_set(fd, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(-EINVAL, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP_COPY, NULL));
	ASSERT_EQ(-EINVAL, vslice_mig_set(fd, VFIO_DEVICE_STATE_RESUMING, NULL));
	ASSERT_EQ(-EINVAL, vslice_mig_set(fd, VFIO_DEVICE_STATE_ERROR, NULL));
	for (i = 0; i < 4; i++) {
		h[i].fd = fd;
		h[i].wrong = 0;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, hammer_error_state, &h[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, h[i].wrong);
	}
	ASSERT_EQ(VFIO_DEVICE_STATE_ERROR, vslice_mig_get(fd));
	/* no warning in the log: the fixture's teardown checks it too */
	ASSERT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));

	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vslice_mig_get(fd));
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL));
	free(stream);
}

/*
 * A stream whose read-only config bytes differ from the device's is
 * refused, even with a right checksum: the IDs, class and BAR flags are
 * the device's, not the stream's to set.
 */
TEST_F(migration, readonly_config_from_stream_refused)
{
	size_t max = SZ16M + 65536, len;
	u8 *stream = malloc(max), *copy = malloc(max);
	static const unsigned int fixed[] = {
		0x00,	/* vendor ID */
		0x03,	/* device ID */
		0x0b,	/* base class */
		0x10,	/* BAR0 flags (prefetchable, 32-bit memory) */
		0x34,	/* capability pointer */
	};
	unsigned int i;
	int werr;

	ASSERT_NE(NULL, stream);
	ASSERT_NE(NULL, copy);
	dirty_source(self->src.fd);
	len = save(self->src.fd, stream, max);
	for (i = 0; i < ARRAY_SIZE(fixed); i++) {
		u32 before = vslice_cfg_read(self->dst.fd, fixed[i] & ~3, 4);

		memcpy(copy, stream, len);
		copy[state_at(stream, len) + fixed[i]] ^= 0x08;
		fix_crc(copy, len);
		EXPECT_EQ(-EINVAL, resume(self->dst.fd, copy, len, &werr))
			TH_LOG("config byte 0x%02x taken from the stream", fixed[i]);
		EXPECT_EQ(0, werr);
		EXPECT_EQ(VFIO_DEVICE_STATE_ERROR, vslice_mig_get(self->dst.fd));
		EXPECT_EQ(before, vslice_cfg_read(self->dst.fd, fixed[i] & ~3, 4));
		ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	}
	/* the same stream with the checksum fixed but nothing changed goes in */
	memcpy(copy, stream, len);
	fix_crc(copy, len);
	ASSERT_EQ(0, memcmp(copy, stream, len));
	ASSERT_EQ(0, resume(self->dst.fd, copy, len, &werr));
	ASSERT_EQ(0x0006, vslice_cfg_read(self->dst.fd, 0x04, 2));
	free(stream);
	free(copy);
}

/* Give @fd a state, save its stream; @head: bytes before the records. */
static size_t save_dirty(int fd, u8 *stream, size_t max, size_t *head)
{
	size_t len;

	dirty_source(fd);
	len = save(fd, stream, max);
	*head = HDR_SIZE;
	return len;
}

/* Enter RESUMING on @fd and write the head and @mem bytes of records. */
static int resume_part(int fd, const u8 *stream, size_t head, size_t mem)
{
	int data = -1;

	if (vslice_mig_set(fd, VFIO_DEVICE_STATE_RESUMING, &data))
		VSLICE_FAIL("entering RESUMING");
	if (write(data, stream, head + mem) != (ssize_t)(head + mem))
		VSLICE_FAIL("writing part of a stream");
	return data;
}

/*
 * Memory a stream wrote is gone whichever way the device leaves RESUMING
 * without taking the stream: a reset, the last close, a refused stream.
 */
TEST_F(migration, leaving_resuming_clears_written_memory)
{
	size_t max = SZ16M + 65536, len, head, part = 4 * MIB;
	u8 *stream = malloc(max), *d, buf[16];
	int data;

	ASSERT_NE(NULL, stream);
	len = save_dirty(self->src.fd, stream, max, &head);
	ASSERT_LT(head + part, len);

	/* a reset */
	data = resume_part(self->dst.fd, stream, head, part);
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	d = vslice_map_bar0(self->dst.fd, SZ16M);
	EXPECT_EQ(-1, vslice_check_zero(d, part));
	munmap(d, SZ16M);
	/* and the data file takes nothing more */
	EXPECT_EQ(-1, write(data, buf, sizeof(buf)));
	EXPECT_EQ(ENODEV, errno);
	close(data);

	/* the last close, with the data file still open */
	data = resume_part(self->dst.fd, stream, head, part);
	vslice_dev_close(&self->dst);
	EXPECT_EQ(-1, write(data, buf, sizeof(buf)));
	vslice_dev_open_assert(&self->dst, self->b);
	d = vslice_map_bar0(self->dst.fd, SZ16M);
	EXPECT_EQ(-1, vslice_check_zero(d, part));
	munmap(d, SZ16M);
	close(data);
	free(stream);
}

struct late_writer {
	int data;
	const u8 *mem;
	size_t len;
	int stop;	/* read and written with __atomic builtins */
};

static void *write_memory_late(void *arg)
{
	struct late_writer *w = arg;
	size_t at = 0, chunk = 64 * 1024;
	ssize_t n;

	/* the stream's memory, 64 KiB at a time, until the file is shut */
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		if (at + chunk > w->len)
			continue;
		n = write(w->data, w->mem + at, chunk);
		if (n > 0)
			at += n;
		else if (errno == ENODEV)
			break;
	}
	return NULL;
}

/*
 * A writer racing RESUMING -> STOP of a refused stream (its checksum is
 * wrong) cannot land bytes after the device cleared the memory.
 */
TEST_F(migration, no_write_lands_after_refusal)
{
	size_t max = SZ16M + 65536, len, head;
	u8 *stream = malloc(max), *d;
	struct late_writer w;
	pthread_t t;
	int round;

	ASSERT_NE(NULL, stream);
	len = save_dirty(self->src.fd, stream, max, &head);
	stream[state_at(stream, len) + 256 + 2] ^= 0x40;	/* bad CRC */
	d = vslice_map_bar0(self->dst.fd, SZ16M);
	for (round = 0; round < 20; round++) {
		w.data = resume_part(self->dst.fd, stream, head, 0);
		w.mem = stream + head;
		w.len = len - head;
		w.stop = 0;
		ASSERT_EQ(0, pthread_create(&t, NULL, write_memory_late, &w));
		usleep(1000 * (round % 5));
		ASSERT_EQ(-EINVAL, vslice_mig_set(self->dst.fd,
						  VFIO_DEVICE_STATE_STOP, NULL));
		__atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
		pthread_join(t, NULL);
		close(w.data);
		ASSERT_EQ(-1, vslice_check_zero(d, SZ16M))
			TH_LOG("round %d: bytes landed after the clear", round);
		ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	}
	munmap(d, SZ16M);
	free(stream);
}

/* memory.current of cgroup directory @cg, in bytes. */
static long long cg_current(const char *cg)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	return vslice_sysfs_read_ll(path);
}

/*
 * What a data file holds (the dirty bitmap, the saved state; charged to
 * the memory cgroup of the task that opened it) is given back when the
 * device leaves the file's state, though userspace keeps the file.  The
 * buffers are small (a bit per page and a few KiB of state), so the test
 * takes many files, 320 kept open after their state ended, and measures
 * in the cgroup of the test: the memory cgroup charges in batches of 64
 * pages, so what is compared is large against that.  (That a live file
 * is charged is no longer measured: since the stream lost its 256 KiB
 * bounce buffer, one file's charge is below the batch.)
 */
TEST_F(migration, data_files_freed_with_their_state)
{
	const char *root = "/tmp/vslice-cg", *cg = "/tmp/vslice-cg/mig";
	char uuids[6][VSLICE_UUID_LEN], pid[32];
	struct vslice_dev devs[8];
	static int data[320];
	int i, n = 0;
	long long base, left, mib = 1024 * 1024;

	mkdir(root, 0755);
	if (access("/tmp/vslice-cg/cgroup.procs", F_OK))
		ASSERT_EQ(0, mount("none", root, "cgroup2", 0, NULL));
	ASSERT_EQ(0, vslice_sysfs_write("/tmp/vslice-cg/cgroup.subtree_control",
					"+memory"));
	mkdir(cg, 0755);
	snprintf(pid, sizeof(pid), "%d", getpid());
	ASSERT_EQ(0, vslice_sysfs_write("/tmp/vslice-cg/mig/cgroup.procs", pid));

	devs[n++] = self->src;
	devs[n++] = self->dst;
	for (i = 0; i < 6; i++) {
		vslice_create_assert(self->bdf, "vslice-16M", uuids[i]);
		vslice_dev_open_assert(&devs[n++], uuids[i]);
	}

	/*
	 * 320 stop-copy files, each left open after its state ended: they
	 * hold their file and nothing else (a few hundred bytes each); their
	 * buffers, had they stayed, would hold 320 * (512 + state) bytes
	 * more, over a MiB.
	 */
	base = cg_current(cg);
	for (i = 0; i < 320; i++) {
		ASSERT_EQ(0, vslice_mig_set(devs[i % 8].fd,
					    VFIO_DEVICE_STATE_STOP_COPY, &data[i]));
		ASSERT_EQ(0, vslice_mig_set(devs[i % 8].fd,
					    VFIO_DEVICE_STATE_STOP, NULL));
	}
	left = cg_current(cg);
	EXPECT_GT(base + mib, left)
		TH_LOG("320 ended data files still hold %lld bytes", left - base);

	for (i = 0; i < 320; i++)
		close(data[i]);
	for (i = 2; i < 8; i++)
		vslice_dev_close(&devs[i]);
	for (i = 0; i < 6; i++)
		EXPECT_EQ(0, vslice_remove(uuids[i]));
	EXPECT_EQ(0, vslice_sysfs_write("/tmp/vslice-cg/cgroup.procs", pid));
	rmdir(cg);
}

/*
 * What a stream says lands in the kernel log escaped: a compatibility
 * string with a newline and an escape character cannot forge log lines
 * or drive a terminal.
 */
TEST_F(migration, stream_strings_logged_escaped)
{
	const u64 magic = 0x474d43494c535600ULL;	/* "\0VSLICMG" */
	const u32 version = 2, size = HDR_SIZE;
	static const char evil[] = "evil\n<0>forged\x1b[2J";
	u8 head[HDR_SIZE];
	char last[8192];
	int data = -1, hits;

	/* the log's rate limit of the tests before has run out */
	sleep(6);
	/* a sound header but for its compatibility string */
	memset(head, 0, sizeof(head));
	memcpy(head, &magic, 8);
	memcpy(head + 8, &version, 4);
	memcpy(head + 12, &size, 4);
	memcpy(head + HDR_COMPAT, evil, sizeof(evil));
	ASSERT_EQ(0, vslice_mig_set(self->dst.fd, VFIO_DEVICE_STATE_RESUMING, &data));
	EXPECT_EQ(-1, write(data, head, sizeof(head)));
	EXPECT_EQ(EINVAL, errno);
	close(data);
	ASSERT_EQ(-EINVAL, vslice_mig_set(self->dst.fd, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));

	hits = kmsg_count(self->kmsg, "evil", last, sizeof(last));
	ASSERT_EQ(1, hits);
	/*
	 * /dev/kmsg shows a raw byte as \xNN: the kernel must not have
	 * logged one; its own escaping shows a backslash and digits.
	 */
	EXPECT_EQ(NULL, strstr(last, "\\x0a"));
	EXPECT_EQ(NULL, strstr(last, "\\x1b"));
	EXPECT_NE(NULL, strstr(last, "forged"));
}

/* Hundreds of bad streams make at most a few lines of kernel log. */
TEST_F(migration, bad_streams_cannot_flood_the_log)
{
	u8 head[HDR_SIZE];
	int i, data, lines;

	memset(head, 0xa5, sizeof(head));	/* no magic */
	for (i = 0; i < 300; i++) {
		ASSERT_EQ(0, vslice_mig_set(self->dst.fd,
					    VFIO_DEVICE_STATE_RESUMING, &data));
		EXPECT_EQ(-1, write(data, head, sizeof(head)));
		close(data);
		ASSERT_EQ(-EINVAL, vslice_mig_set(self->dst.fd,
						  VFIO_DEVICE_STATE_STOP, NULL));
		ASSERT_EQ(0, ioctl(self->dst.fd, VFIO_DEVICE_RESET));
	}
	lines = kmsg_count(self->kmsg, "migration stream", NULL, 0);
	EXPECT_LE(1, lines);
	EXPECT_GE(40, lines) TH_LOG("300 bad streams made %d lines", lines);
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
