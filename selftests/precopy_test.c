// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pre-copy migration (VFIO PRE_COPY), driven through the uapi as a VMM
 * drives it: the PRE_COPY arcs, valid and invalid; VFIO_MIG_GET_PRECOPY_INFO
 * and the data-size query exact after each read; a writer that dirties
 * the VRAM during pre-copy, then stop-copy and resume into a second
 * instance, whose VRAM must equal the source's byte for byte while the
 * stop-copy part of the stream holds only the pages dirtied after they
 * were sent (in chunks: the unit of tracking is the header's); hostile
 * record headers (outside the slice, overlapping, out of order, off the
 * chunks, truncated) refused with nothing left behind; and the
 * dirty rate an orchestrator reads in sysfs.  Kernels before 6.2 have no
 * PRE_COPY: everything here skips there, saying so.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define MIB		VSLICE_MIB
#define SZ16M		(16 * MIB)
#define PAGE		4096
#define PAGES		(SZ16M / PAGE)
#define RUN		(2 * MIB)	/* most bytes in one record */

/* The stream (vfio_core/migration.c). */
#define HDR_BLOB_SIZE	64
#define HDR_CHUNK	80	/* the unit of records and of dirty tracking */
#define HDR_SIZE	88
#define REC_SIZE	32
#define REC_MEM		1
#define REC_STATE	2

/* The 7.x uapi's VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 */
#define FEATURE_PRECOPY_INFO_V2	12

/* What a test that needs PRE_COPY says before 6.2. */
#define NO_PRECOPY	"the kernel has no VFIO PRE_COPY (6.2 on): stop-copy only"

struct rec {
	u32 type;
	u32 pass;
	u64 off;
	u64 len;
	u32 crc;
	u32 reserved;
};

FIXTURE(precopy) {
	const char *bdf;
	char a[VSLICE_UUID_LEN], b[VSLICE_UUID_LEN];
	struct vslice_dev src, dst;
	u8 *vram;
	int kmsg;
};

FIXTURE_SETUP(precopy)
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
	self->vram = vslice_map_bar0(self->src.fd, SZ16M);
	vslice_fill(self->vram, SZ16M, 0x5eed);
}

FIXTURE_TEARDOWN(precopy)
{
	if (!self->bdf)
		return;
	munmap(self->vram, SZ16M);
	vslice_dev_close(&self->src);
	vslice_dev_close(&self->dst);
	EXPECT_EQ(0, vslice_remove_all(self->bdf));
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
}

static int precopy_info(int data, u64 *initial, u64 *dirty)
{
	struct vfio_precopy_info info = { .argsz = sizeof(info) };

	if (ioctl(data, VFIO_MIG_GET_PRECOPY_INFO, &info))
		return -errno;
	*initial = info.initial_bytes;
	*dirty = info.dirty_bytes;
	return 0;
}

/* VFIO_DEVICE_FEATURE_MIG_DATA_SIZE (6.3 on). */
static long long data_size(int fd)
{
	struct vfio_device_feature_mig_data_size s = { 0 };

	if (vslice_device_feature(fd, VFIO_DEVICE_FEATURE_GET |
				  VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
				  &s, sizeof(s)))
		return -errno;
	return s.stop_copy_length;
}

/* Read until @max, the end or a temporary end; *err: errno of the stop. */
static size_t read_stream(int data, u8 *buf, size_t max, int *err)
{
	size_t len = 0;
	ssize_t n;

	*err = 0;
	while (len < max) {
		n = read(data, buf + len, max - len);
		if (n > 0) {
			len += n;
			continue;
		}
		*err = n < 0 ? errno : 0;
		break;
	}
	return len;
}

static void rec_get(const u8 *p, struct rec *r)
{
	memcpy(r, p, sizeof(*r));
}

static void rec_put(u8 *p, u32 type, u32 pass, u64 off, u64 len, u32 crc)
{
	struct rec r = { type, pass, off, len, crc, 0 };

	memcpy(p, &r, sizeof(r));
}

static u64 blob_size(const u8 *stream)
{
	u64 blob;

	memcpy(&blob, stream + HDR_BLOB_SIZE, sizeof(blob));
	return blob;
}

/* The chunk a stream's records and the dirty tracking count in. */
static u32 chunk_size(const u8 *stream)
{
	u32 chunk;

	memcpy(&chunk, stream + HDR_CHUNK, sizeof(chunk));
	return chunk;
}

/*
 * The records the dirty pages @pages (ascending) go in, in chunks of
 * @chunk bytes: the chunks they fall in, in runs.  Returns the bytes;
 * *@runs and *@chunks say how many.
 */
static size_t dirty_bytes(const unsigned int *pages, unsigned int n,
			  u32 chunk, unsigned int *runs, unsigned int *chunks)
{
	long last = -2, c;
	unsigned int i;

	*runs = 0;
	*chunks = 0;
	for (i = 0; i < n; i++) {
		c = (long)pages[i] * PAGE / chunk;
		if (c == last)
			continue;
		*runs += c != last + 1;
		(*chunks)++;
		last = c;
	}
	return (size_t)*runs * REC_SIZE + (size_t)*chunks * chunk;
}

/*
 * Walk the records in [@from, @to) of @s: count the pages of MEM
 * records into @pages (if not NULL, one counter per page); returns the
 * records seen, or -1 if they do not tile the range.
 */
static int walk(const u8 *s, size_t from, size_t to, u8 *pages, int *state)
{
	struct rec r;
	int n = 0;
	u64 p;

	*state = 0;
	while (from < to) {
		if (to - from < REC_SIZE)
			return -1;
		rec_get(s + from, &r);
		from += REC_SIZE;
		if (r.len > to - from)
			return -1;
		if (r.type == REC_STATE)
			(*state)++;
		else if (r.type != REC_MEM)
			return -1;
		else if (pages)
			for (p = r.off / PAGE; p < (r.off + r.len) / PAGE; p++)
				pages[p]++;
		from += r.len;
		n++;
	}
	return n;
}

/* Feed @len bytes to @fd in RESUMING; the result of ->STOP. */
static int resume(int fd, const u8 *stream, size_t len, int *write_err)
{
	size_t done = 0;
	ssize_t n;
	int data = -1;

	*write_err = 0;
	if (vslice_mig_set(fd, VFIO_DEVICE_STATE_RESUMING, &data))
		VSLICE_FAIL("entering RESUMING");
	while (done < len) {
		n = write(data, stream + done, len - done);
		if (n < 0) {
			*write_err = -errno;
			break;
		}
		done += n;
	}
	close(data);
	return vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL);
}

static u64 dirty_rate(const char *uuid)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/vslice/migration_dirty_rate",
		 uuid);
	return vslice_sysfs_read_ll(path);
}

TEST_F(precopy, state_machine_with_precopy_arcs)
{
	int fd = self->src.fd, data = -1, more = -1;
	u64 initial = 0, dirty = 0;
	u8 buf[64];

	if (!vslice_kernel_at_least(6, 2))
		SKIP(return, NO_PRECOPY);

	/* RUNNING -> PRE_COPY hands out the stream, -> RUNNING ends it */
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_PRE_COPY, &data));
	ASSERT_LE(0, data);
	ASSERT_EQ(VFIO_DEVICE_STATE_PRE_COPY, vslice_mig_get(fd));
	ASSERT_EQ(0, precopy_info(data, &initial, &dirty));
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(-1, read(data, buf, sizeof(buf)));
	ASSERT_EQ(ENODEV, errno);
	/* the device is not in PRE_COPY any more */
	ASSERT_EQ(-EINVAL, precopy_info(data, &initial, &dirty));
	close(data);

	/* PRE_COPY -> STOP_COPY goes on with the same stream: no new file */
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_PRE_COPY, &data));
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP_COPY, &more));
	ASSERT_EQ(-1, more);
	ASSERT_EQ(VFIO_DEVICE_STATE_STOP_COPY, vslice_mig_get(fd));
	/* the pre-copy ioctl is for PRE_COPY only */
	ASSERT_EQ(-EINVAL, precopy_info(data, &initial, &dirty));
	/* back to pre-copy is not an arc: refused, the state stays */
	ASSERT_EQ(-EINVAL, vslice_mig_set(fd, VFIO_DEVICE_STATE_PRE_COPY, NULL));
	ASSERT_EQ(VFIO_DEVICE_STATE_STOP_COPY, vslice_mig_get(fd));
	ASSERT_LT(0, read(data, buf, sizeof(buf)));
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL));
	close(data);

	/* STOP -> PRE_COPY runs the device first; PRE_COPY -> STOP ends it */
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_PRE_COPY, &data));
	ASSERT_LE(0, data);
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(-1, read(data, buf, sizeof(buf)));
	close(data);
	/* PRE_COPY -> RESUMING, through RUNNING and STOP */
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_PRE_COPY, &data));
	close(data);
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_RESUMING, &data));
	close(data);
	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_RESET));

	/* P2P states are not offered */
	ASSERT_EQ(-EINVAL, vslice_mig_set(fd, VFIO_DEVICE_STATE_PRE_COPY_P2P, NULL));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vslice_mig_get(fd));

	/* a reset ends pre-copy: the stream reads no more */
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_PRE_COPY, &data));
	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vslice_mig_get(fd));
	ASSERT_EQ(-1, read(data, buf, sizeof(buf)));
	close(data);

	/* a resuming file has no pre-copy info */
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_RESUMING, &data));
	ASSERT_EQ(-EINVAL, precopy_info(data, &initial, &dirty));
	close(data);
	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_RESET));
}

/*
 * initial_bytes and dirty_bytes say what the next reads return, record
 * heads included, after every read; so does the data-size query, for
 * the stop-copy that would follow.
 */
TEST_F(precopy, precopy_info_exact_after_each_read)
{
	size_t full = HDR_SIZE + 8 * REC_SIZE + SZ16M, got, total = 0;
	size_t steps[] = { 1, 87, 1000, REC_SIZE, 3 * MIB, 5 * MIB + 7, 0 };
	static const unsigned int written[] = { 9, 10, 4000 };
	unsigned int runs, chunks;
	size_t want;
	u8 *buf = malloc(SZ16M + MIB);
	int data = -1, err, fd = self->src.fd;
	unsigned int i;
	u64 initial = 0, dirty = 0, blob;
	long long size;

	if (!vslice_kernel_at_least(6, 2))
		SKIP(return, NO_PRECOPY);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_PRE_COPY, &data));
	ASSERT_EQ(0, precopy_info(data, &initial, &dirty));
	ASSERT_EQ(full, initial);
	ASSERT_EQ(0, dirty);
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		size_t want = steps[i] ? steps[i] : full - total;

		got = read_stream(data, buf + total, want, &err);
		ASSERT_EQ(want, got);
		total += got;
		ASSERT_EQ(0, precopy_info(data, &initial, &dirty));
		ASSERT_EQ(full - total, initial) TH_LOG("after %zu bytes", total);
		ASSERT_EQ(0, dirty);
	}
	blob = blob_size(buf);
	if (vslice_kernel_at_least(6, 3))
		ASSERT_EQ(REC_SIZE + blob, data_size(fd));

	/* all sent, nothing written: a temporary end */
	ASSERT_EQ(-1, read(data, buf, 4096));
	ASSERT_EQ(ENOMSG, errno);
	/* the pass ended with nothing dirtied: an idle guest's rate */
	ASSERT_EQ(0, dirty_rate(self->a));

	/* three writes: pages 9 and 10, page 4000; two runs of chunks */
	self->vram[9 * PAGE + 5] ^= 1;
	self->vram[10 * PAGE] ^= 1;
	self->vram[4000 * PAGE + 4095] ^= 1;
	want = dirty_bytes(written, 3, chunk_size(buf), &runs, &chunks);
	ASSERT_EQ(2, runs);
	ASSERT_EQ(0, precopy_info(data, &initial, &dirty));
	ASSERT_EQ(0, initial);
	ASSERT_EQ(want, dirty);
	if (vslice_kernel_at_least(6, 3)) {
		size = data_size(fd);
		ASSERT_EQ(dirty + REC_SIZE + blob, size);
	}
	/* part of the first record: the rest of it still counts */
	got = read_stream(data, buf, 100, &err);
	ASSERT_EQ(100, got);
	ASSERT_EQ(0, precopy_info(data, &initial, &dirty));
	ASSERT_EQ(want - 100, dirty);
	got = read_stream(data, buf + 100, SZ16M, &err);
	ASSERT_EQ(ENOMSG, err);
	ASSERT_EQ(want - 100, got);
	ASSERT_EQ(0, precopy_info(data, &initial, &dirty));
	ASSERT_EQ(0, dirty);
	/* the pass that sent them ends at the next read: a rate above 0 */
	ASSERT_EQ(-1, read(data, buf, 4096));
	ASSERT_EQ(ENOMSG, errno);
	ASSERT_LT(0, dirty_rate(self->a));

	/* stop-copy: the state, nothing else, as the query said */
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP_COPY, NULL));
	got = read_stream(data, buf, SZ16M, &err);
	ASSERT_EQ(0, err);
	ASSERT_EQ(REC_SIZE + blob, got);
	ASSERT_EQ(0, read(data, buf, 4096));
	close(data);
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL));
	free(buf);
}

/* A stop-copy stream's size is what the query said before it. */
TEST_F(precopy, data_size_matches_stop_copy_stream)
{
	u8 *buf = malloc(SZ16M + MIB);
	int data = -1, err, fd = self->src.fd;
	long long size;
	size_t got;

	ASSERT_NE(NULL, buf);
	if (!vslice_kernel_at_least(6, 3))
		SKIP(return, "the data-size query came in 6.3");
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL));
	size = data_size(fd);
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP_COPY, &data));
	ASSERT_EQ(size, data_size(fd));
	/* and what is left, after each read: in a MEM record, in the state */
	got = read_stream(data, buf, MIB + 5, &err);
	ASSERT_EQ(MIB + 5, got);
	ASSERT_EQ(size - got, data_size(fd));
	got += read_stream(data, buf + got, size - got - 100, &err);
	ASSERT_EQ(size - 100, got);
	ASSERT_EQ(100, data_size(fd));
	got += read_stream(data, buf + got, SZ16M + MIB - got, &err);
	ASSERT_EQ(0, err);
	ASSERT_EQ(size, got);
	ASSERT_EQ(0, data_size(fd));
	close(data);
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL));
	free(buf);
}

struct writer {
	u8 *vram;
	int stop;	/* __atomic */
	unsigned long writes;
};

/* Dirty pages all over the slice, as a guest that keeps drawing does. */
static void *write_vram(void *arg)
{
	struct writer *w = arg;
	u64 x = 88172645463325252ULL;

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		__atomic_store_n((u64 *)w->vram + (x >> 8) % (SZ16M / 8), x,
				 __ATOMIC_RELAXED);
		w->writes++;
		if (!(w->writes % 64))
			usleep(50);
	}
	return NULL;
}

/*
 * A guest writes during pre-copy; the stream sends the memory, then the
 * pages written after they were sent, pass after pass.  After the writer
 * stops and a last pass, five known pages are written: the stop-copy
 * part of the stream holds those five and the state, nothing else, and
 * the target's VRAM equals the source's byte for byte.
 */
TEST_F(precopy, writer_dirties_pages_and_target_matches)
{
	size_t max = 160 * MIB, len = 0, got, stop_at;
	static const unsigned int known[] = { 3, 100, 101, 2048, 4095 };
	u8 *stream = malloc(max), *pages = calloc(PAGES, 1), *d;
	int data = -1, err, fd = self->src.fd, state, werr, passes = 0;
	struct writer w = { .vram = self->vram };
	unsigned int i, p, runs, chunks;
	size_t want;
	u32 chunk;
	u64 initial = 0, dirty = 0;
	pthread_t t;

	if (!vslice_kernel_at_least(6, 2))
		SKIP(return, NO_PRECOPY);

	ASSERT_NE(NULL, stream);
	ASSERT_NE(NULL, pages);
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_PRE_COPY, &data));
	ASSERT_EQ(0, pthread_create(&t, NULL, write_vram, &w));
	/* read on while the writer writes: pass 0 and at least two more */
	while (passes < 3 && len < max - 20 * MIB) {
		got = read_stream(data, stream + len, 4 * MIB, &err);
		len += got;
		if (err == ENOMSG)
			passes++;
		else
			ASSERT_EQ(0, err);
		if (!got)
			usleep(10000);
	}
	/* the passes that ended while it wrote saw pages dirtied */
	ASSERT_LT(0, dirty_rate(self->a));
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	ASSERT_LT(1000, w.writes);
	/* the last pass: everything written so far goes */
	got = read_stream(data, stream + len, max - len, &err);
	len += got;
	ASSERT_EQ(ENOMSG, err);
	ASSERT_EQ(0, precopy_info(data, &initial, &dirty));
	ASSERT_EQ(0, initial);
	ASSERT_EQ(0, dirty);
	/* pages were sent again: the stream is longer than one pass */
	ASSERT_LT(HDR_SIZE + 8 * REC_SIZE + SZ16M, len);

	for (i = 0; i < ARRAY_SIZE(known); i++)
		memset(self->vram + known[i] * PAGE + 17, 0xc0 + i, 100);
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP_COPY, NULL));
	stop_at = len;
	got = read_stream(data, stream + len, max - len, &err);
	ASSERT_EQ(0, err);
	len += got;
	close(data);
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL));

	/*
	 * The stop-copy part: the chunks of the five pages, in their runs,
	 * and the state; every page of those chunks once, no other page.
	 */
	chunk = chunk_size(stream);
	want = dirty_bytes(known, ARRAY_SIZE(known), chunk, &runs, &chunks);
	ASSERT_EQ(runs + 1, walk(stream, stop_at, len, pages, &state));
	ASSERT_EQ(1, state);
	for (p = 0; p < PAGES; p++) {
		bool in = false;

		for (i = 0; i < ARRAY_SIZE(known); i++)
			in |= (u64)known[i] * PAGE / chunk == (u64)p * PAGE / chunk;
		ASSERT_EQ(in, pages[p]) TH_LOG("page %u", p);
	}
	ASSERT_EQ(want + REC_SIZE + blob_size(stream), len - stop_at);

	/* the whole stream into the second instance: the same bytes */
	ASSERT_EQ(0, resume(self->dst.fd, stream, len, &werr));
	ASSERT_EQ(0, werr);
	d = vslice_map_bar0(self->dst.fd, SZ16M);
	ASSERT_EQ(0, memcmp(d, self->vram, SZ16M));
	munmap(d, SZ16M);
	free(stream);
	free(pages);
}

/* A saved stop-copy stream of the source: header, pass 0, state. */
static size_t save(int fd, u8 *stream, size_t max)
{
	int data = -1, err;
	size_t len;

	if (vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP_COPY, &data))
		VSLICE_FAIL("entering STOP_COPY");
	len = read_stream(data, stream, max, &err);
	close(data);
	if (err || vslice_mig_set(fd, VFIO_DEVICE_STATE_RUNNING, NULL))
		VSLICE_FAIL("saving a stream");
	return len;
}

/*
 * Resume @s into @fd: 0 if it is refused and nothing of it is left (the
 * state ERROR, the VRAM clear); else the number of the check that failed.
 * The device is reset for the next stream either way.
 */
static int refused(int fd, const u8 *s, size_t len)
{
	int werr, ret = 0;
	u8 *d;

	if (resume(fd, s, len, &werr) != -EINVAL)
		ret = 1;
	else if (vslice_mig_get(fd) != VFIO_DEVICE_STATE_ERROR)
		ret = 2;
	d = vslice_map_bar0(fd, SZ16M);
	if (!ret && vslice_check_zero(d, SZ16M) != -1)
		ret = 3;
	munmap(d, SZ16M);
	if (ioctl(fd, VFIO_DEVICE_RESET) && !ret)
		ret = 4;
	return ret;
}

/*
 * Record heads a hostile stream could send: each refused, the device in
 * ERROR and its VRAM clear.  A sound stream with a later pass goes in,
 * and its later copy of a page wins.
 */
TEST_F(precopy, hostile_record_headers_refused)
{
	size_t max = SZ16M + MIB, len, state, tail, n, u;
	u8 *s = malloc(max), *c = malloc(max + 3 * MIB), *d;
	int werr, fd = self->dst.fd;

	ASSERT_NE(NULL, s);
	ASSERT_NE(NULL, c);
	len = save(self->src.fd, s, max);
	tail = REC_SIZE + blob_size(s);	/* the STATE record */
	state = len - tail;
	u = chunk_size(s);
	ASSERT_LE(PAGE, u);
	ASSERT_GE(RUN, u);
	ASSERT_EQ(HDR_SIZE + 8 * (REC_SIZE + RUN), state);

	/* outside the slice; past its end; wrapping around */
	memcpy(c, s, len);
	rec_put(c + HDR_SIZE, REC_MEM, 0, SZ16M, RUN, 0);
	ASSERT_EQ(0, refused(fd, c, len)) TH_LOG("outside the slice");
	memcpy(c, s, len);
	rec_put(c + HDR_SIZE + 7 * (REC_SIZE + RUN), REC_MEM, 0, 14 * MIB,
		RUN + PAGE, 0);
	ASSERT_EQ(0, refused(fd, c, len)) TH_LOG("past the end");
	memcpy(c, s, len);
	rec_put(c + HDR_SIZE, REC_MEM, 0, -(u64)PAGE, 2 * PAGE, 0);
	ASSERT_EQ(0, refused(fd, c, len)) TH_LOG("wrapping");
	/* not on page boundaries; empty; an unknown type */
	memcpy(c, s, len);
	rec_put(c + HDR_SIZE, REC_MEM, 0, 0, RUN - 100, 0);
	ASSERT_EQ(0, refused(fd, c, len)) TH_LOG("a length off the pages");
	memcpy(c, s, len);
	rec_put(c + HDR_SIZE, REC_MEM, 0, 0, 0, 0);
	ASSERT_EQ(0, refused(fd, c, len)) TH_LOG("empty");
	memcpy(c, s, len);
	rec_put(c + HDR_SIZE, 7, 0, 0, RUN, 0);
	ASSERT_EQ(0, refused(fd, c, len)) TH_LOG("an unknown type");
	/* pass 0 with a gap: it starts at 2 MiB */
	memcpy(c, s, HDR_SIZE);
	memcpy(c + HDR_SIZE, s + HDR_SIZE + REC_SIZE + RUN,
	       len - HDR_SIZE - REC_SIZE - RUN);
	ASSERT_EQ(0, refused(fd, c, len - REC_SIZE - RUN)) TH_LOG("a gap in pass 0");
	/* the state before pass 0 is whole */
	memcpy(c, s, HDR_SIZE);
	memcpy(c + HDR_SIZE, s + state, tail);
	ASSERT_EQ(0, refused(fd, c, HDR_SIZE + tail)) TH_LOG("the state too early");

	/* a later pass: overlapping, going back, an older pass */
	n = state;
	memcpy(c, s, n);
	rec_put(c + n, REC_MEM, 1, 4 * MIB, 2 * u, 0);
	memset(c + n + REC_SIZE, 0x77, 2 * u);
	n += REC_SIZE + 2 * u;
	rec_put(c + n, REC_MEM, 1, 4 * MIB + u, u, 0);
	memset(c + n + REC_SIZE, 0x78, u);
	memcpy(c + n + REC_SIZE + u, s + state, tail);
	ASSERT_EQ(0, refused(fd, c, n + REC_SIZE + u + tail)) TH_LOG("overlapping");
	rec_put(c + n, REC_MEM, 1, 2 * MIB, u, 0);
	ASSERT_EQ(0, refused(fd, c, n + REC_SIZE + u + tail)) TH_LOG("going back");
	rec_put(c + n, REC_MEM, 0, 8 * MIB, u, 0);
	ASSERT_EQ(0, refused(fd, c, n + REC_SIZE + u + tail)) TH_LOG("an older pass");
	/* a run off the chunks (a page, where chunks are larger) */
	rec_put(c + n, REC_MEM, 1, 8 * MIB, u == PAGE ? PAGE / 2 : PAGE, 0);
	ASSERT_EQ(0, refused(fd, c, n + REC_SIZE + u + tail)) TH_LOG("off the chunks");
	/* bytes after the state */
	memcpy(c, s, len);
	c[len] = 0;
	ASSERT_EQ(0, refused(fd, c, len + 1)) TH_LOG("a byte after the state");

	/* truncated: in a record head, in its payload, in the state */
	ASSERT_EQ(0, refused(fd, s, HDR_SIZE + 10)) TH_LOG("cut in a record head");
	ASSERT_EQ(0, refused(fd, s, HDR_SIZE + REC_SIZE + 4096)) TH_LOG("cut in a payload");
	ASSERT_EQ(0, refused(fd, s, len - 1)) TH_LOG("cut in the state");

	/* sound: pass 1 sends 4 MiB + 2 chunks again; the later bytes win */
	n = state;
	memcpy(c, s, n);
	rec_put(c + n, REC_MEM, 1, 4 * MIB, 2 * u, 0);
	memset(c + n + REC_SIZE, 0x77, 2 * u);
	n += REC_SIZE + 2 * u;
	rec_put(c + n, REC_MEM, 3, 0, u, 0);
	memset(c + n + REC_SIZE, 0x79, u);
	n += REC_SIZE + u;
	memcpy(c + n, s + state, tail);
	ASSERT_EQ(0, resume(fd, c, n + tail, &werr));
	ASSERT_EQ(0, werr);
	d = vslice_map_bar0(fd, SZ16M);
	ASSERT_EQ(0, memcmp(d + u, self->vram + u, 4 * MIB - u))
		TH_LOG("the untouched chunks are the source's");
	ASSERT_EQ(0x77, d[4 * MIB]);
	ASSERT_EQ(0x77, d[4 * MIB + 2 * u - 1]);
	ASSERT_EQ(0x79, d[0]);
	ASSERT_EQ(0x79, d[u - 1]);
	ASSERT_EQ(0, memcmp(d + 4 * MIB + 2 * u, self->vram + 4 * MIB + 2 * u,
			    SZ16M - 4 * MIB - 2 * u));
	munmap(d, SZ16M);
	free(s);
	free(c);
}

/*
 * 7.x's PRECOPY_INFOv2: once the user opts in, the flags are an output;
 * vslice never has new initial data (a reset ends a migration), so they
 * read 0 whatever the user put there.
 */
TEST_F(precopy, precopy_info_v2_flags_are_output)
{
	struct vfio_precopy_info info = { .argsz = sizeof(info) };
	int data = -1, fd = self->src.fd, ret;

	if (!vslice_kernel_at_least(6, 2))
		SKIP(return, NO_PRECOPY);

	ret = vslice_device_feature(fd, VFIO_DEVICE_FEATURE_SET |
				    FEATURE_PRECOPY_INFO_V2,
				    NULL, 0);
	if (ret && !vslice_kernel_at_least(7, 2))
		SKIP(return, "the kernel has no PRECOPY_INFOv2 (%d)", ret);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_PRE_COPY, &data));
	info.flags = 0xffff;
	ASSERT_EQ(0, ioctl(data, VFIO_MIG_GET_PRECOPY_INFO, &info));
	ASSERT_EQ(0, info.flags);
	ASSERT_EQ(HDR_SIZE + 8 * REC_SIZE + SZ16M, info.initial_bytes);
	close(data);
	ASSERT_EQ(0, vslice_mig_set(fd, VFIO_DEVICE_STATE_RUNNING, NULL));
}

TEST_HARNESS_MAIN
