// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fast path: BAR0 of an instance is its slice of the parent's VRAM,
 * mapped straight to the hardware.  Checks where the bytes land (through
 * the parent's own BAR0 in sysfs), isolation between tenants, the bounds
 * of mmap, read and write, scrubbing between tenants, and that a mapping
 * cannot outlive its instance.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define BAR0(off)	(VSLICE_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX) + (off))
#define SZ16M		(16 * VSLICE_MIB)
#define SZ4M		(4 * VSLICE_MIB)
#define PAGE		4096UL
#define CANARY		0xc0ffee

FIXTURE(vram) {
	const char *bdf;
	u8 *pvram;
	size_t pvram_len;
	int kmsg;
};

FIXTURE_SETUP(vram)
{
	self->bdf = vslice_parent();
	if (!self->bdf)
		SKIP(return, "no bochs-display (1234:1111) in this machine");
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	self->pvram = vslice_map_parent_vram(self->bdf, &self->pvram_len);
	self->kmsg = vslice_kmsg_open();
}

FIXTURE_TEARDOWN(vram)
{
	EXPECT_EQ(0, vslice_remove_all(self->bdf));
	munmap(self->pvram, self->pvram_len);
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
}

/* Create and open one instance; returns its slice offset. */
static u64 open_inst(const char *bdf, const char *type,
		     struct vslice_dev *dev)
{
	char uuid[VSLICE_UUID_LEN];

	vslice_create_assert(bdf, type, uuid);
	vslice_dev_open_assert(dev, uuid);
	return vslice_inst_attr_ll(uuid, "vram_offset");
}

/*
 * Fill the VRAM with 16 MiB instances and open one that has a neighbour
 * on each side; returns its slice offset.  Canaries go into neighbours
 * held by live instances: a slice freed by the fixture's
 * vslice_remove_all() may still be on the pool's dirty list, and the
 * scrub worker rightly zeroes it whenever it gets there.
 */
static u64 open_walled(struct __test_metadata *_metadata, const char *bdf,
		       size_t vram_len, struct vslice_dev *dev)
{
	char uuid[VSLICE_UUID_LEN], mid[VSLICE_UUID_LEN] = "";
	u64 top = vram_len - SZ16M, off = 0, o;

	while (vslice_type_available(bdf, "vslice-16M") > 0) {
		vslice_create_assert(bdf, "vslice-16M", uuid);
		o = vslice_inst_attr_ll(uuid, "vram_offset");
		EXPECT_EQ(0, o % SZ16M);
		EXPECT_LE(o, top);
		if (!mid[0] && o && o < top) {
			memcpy(mid, uuid, sizeof(mid));
			off = o;
		}
	}
	EXPECT_NE(0, mid[0]);
	if (!mid[0])
		return 0;
	vslice_dev_open_assert(dev, mid);
	return off;
}

TEST_F(vram, mmap_lands_at_slice_offset)
{
	struct vslice_dev dev;
	u64 off = open_walled(_metadata, self->bdf, self->pvram_len, &dev);
	u8 *bar0;

	ASSERT_NE(0, off);
	vslice_fill(self->pvram + off - PAGE, PAGE, CANARY);
	vslice_fill(self->pvram + off + SZ16M, PAGE, CANARY + 1);

	bar0 = vslice_map_bar0(dev.fd, SZ16M);
	vslice_fill(bar0, SZ16M, 1);
	ASSERT_EQ(-1, vslice_check(self->pvram + off, SZ16M, 1));
	ASSERT_EQ(-1, vslice_check(self->pvram + off - PAGE, PAGE, CANARY));
	ASSERT_EQ(-1, vslice_check(self->pvram + off + SZ16M, PAGE,
				   CANARY + 1));
	/* And the other way: the parent's bytes show in the mapping. */
	vslice_fill(self->pvram + off + PAGE, PAGE, 2);
	ASSERT_EQ(-1, vslice_check(bar0 + PAGE, PAGE, 2));

	munmap(bar0, SZ16M);
	vslice_dev_close(&dev);
}

TEST_F(vram, eight_tenants_isolated)
{
	struct vslice_dev dev[8];
	u64 off[8];
	int i, status;
	pid_t pid;

	for (i = 0; i < 8; i++)
		off[i] = open_inst(self->bdf, "vslice-16M", &dev[i]);

	/* All eight write at once, each its own pattern... */
	for (i = 0; i < 8; i++) {
		pid = fork();
		ASSERT_GE(pid, 0);
		if (!pid) {
			u8 *bar0 = vslice_map_bar0(dev[i].fd, SZ16M);

			vslice_fill(bar0, SZ16M, 100 + i);
			_exit(vslice_check(bar0, SZ16M, 100 + i) == -1 ? 0 : 1);
		}
	}
	for (i = 0; i < 8; i++) {
		ASSERT_GT(wait(&status), 0);
		ASSERT_TRUE(vslice_exited_ok(status));
	}

	/* ...and each slice holds its own tenant's bytes only. */
	for (i = 0; i < 8; i++) {
		u8 *bar0 = vslice_map_bar0(dev[i].fd, SZ16M);

		ASSERT_EQ(-1, vslice_check(bar0, SZ16M, 100 + i));
		ASSERT_EQ(-1, vslice_check(self->pvram + off[i], SZ16M,
					   100 + i));
		munmap(bar0, SZ16M);
		vslice_dev_close(&dev[i]);
	}
}

static sigjmp_buf segv_jmp;

static void on_segv(int sig)
{
	siglongjmp(segv_jmp, 1);
}

/* Does touching @p fault? */
static bool faults(const u8 *p)
{
	struct sigaction sa = { .sa_handler = on_segv }, old_segv, old_bus;
	bool ret = true;
	u8 v;

	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	if (!sigsetjmp(segv_jmp, 1)) {
		v = *p;
		/* keep the load: the compiler cannot see it matters */
		asm volatile("" : : "r" (v));
		ret = false;
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return ret;
}

TEST_F(vram, mmap_outside_slice_refused)
{
	static const struct {
		u64 off;
		size_t len;
		int flags;
	} bad[] = {
		{ BAR0(0), SZ16M + PAGE, MAP_SHARED },		/* too long */
		{ BAR0(SZ16M), PAGE, MAP_SHARED },		/* past the end */
		{ BAR0(SZ16M - PAGE), 2 * PAGE, MAP_SHARED },	/* across it */
		{ BAR0(0), PAGE, MAP_PRIVATE },			/* not shared */
		{ VSLICE_REGION_OFFSET(1), PAGE, MAP_SHARED },	/* BAR1: none */
		{ VSLICE_REGION_OFFSET(2), PAGE, MAP_SHARED },	/* BAR2: trapped */
		{ VSLICE_REGION_OFFSET(7), PAGE, MAP_SHARED },	/* config */
		{ VSLICE_REGION_OFFSET(200), PAGE, MAP_SHARED },
		{ 0xfffffffffff000ULL, PAGE, MAP_SHARED },
	};
	struct vslice_dev dev;
	u8 *p, *q;
	unsigned int i;
	int status;
	pid_t pid;

	open_inst(self->bdf, "vslice-16M", &dev);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		p = mmap(NULL, bad[i].len, PROT_READ | PROT_WRITE, bad[i].flags,
			 dev.fd, bad[i].off);
		EXPECT_EQ(MAP_FAILED, p) {
			TH_LOG("mapping %zu at 0x%llx was allowed", bad[i].len,
			       (unsigned long long)bad[i].off);
		}
		EXPECT_EQ(EINVAL, errno);
	}

	/* A legal mapping cannot be grown by mremap... */
	p = mmap(NULL, SZ16M, PROT_READ | PROT_WRITE, MAP_SHARED, dev.fd,
		 BAR0(0));
	ASSERT_NE(MAP_FAILED, p);
	q = mremap(p, SZ16M, SZ16M + PAGE, MREMAP_MAYMOVE);
	ASSERT_EQ(MAP_FAILED, q);

	/* ...nor does a partial unmap leave the hole reachable... */
	ASSERT_EQ(0, munmap(p + SZ16M - PAGE, PAGE));
	ASSERT_TRUE(faults(p + SZ16M - PAGE));
	ASSERT_FALSE(faults(p + SZ16M - 2 * PAGE));

	/* ...and a forked child sees exactly what its parent mapped. */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(!faults(p) && faults(p + SZ16M - PAGE) ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(vslice_exited_ok(status));

	munmap(p, SZ16M - PAGE);
	vslice_dev_close(&dev);
}

TEST_F(vram, rw_bounded_to_slice)
{
	struct vslice_dev dev;
	u64 off = open_walled(_metadata, self->bdf, self->pvram_len, &dev);
	u8 buf[64], ones[64];

	ASSERT_NE(0, off);
	memset(ones, 0xff, sizeof(ones));
	vslice_fill(self->pvram + off + SZ16M, PAGE, CANARY);

	/* At the end: EINVAL.  Across it: cut at the end. */
	ASSERT_EQ(-1, pread(dev.fd, buf, 1, BAR0(SZ16M)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, pwrite(dev.fd, ones, 1, BAR0(SZ16M)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(4, pwrite(dev.fd, ones, 8, BAR0(SZ16M - 4)));
	ASSERT_EQ(4, pread(dev.fd, buf, 8, BAR0(SZ16M - 4)));
	ASSERT_EQ(0, memcmp(buf, ones, 4));
	ASSERT_EQ(-1, pwrite(dev.fd, ones, 64, BAR0(~0ULL >> 25)));
	ASSERT_EQ(EINVAL, errno);

	/* Nothing spilled into the next slice. */
	ASSERT_EQ(-1, vslice_check(self->pvram + off + SZ16M, PAGE, CANARY));
	vslice_dev_close(&dev);
}

TEST_F(vram, fd_rw_and_mmap_agree)
{
	struct vslice_dev dev;
	u8 *bar0, *buf;
	unsigned int i, seed = 1234;
	size_t len;
	u64 pos;

	open_inst(self->bdf, "vslice-16M", &dev);
	bar0 = vslice_map_bar0(dev.fd, SZ16M);
	buf = malloc(256 * 1024);
	ASSERT_NE(NULL, buf);

	for (i = 0; i < 200; i++) {
		len = 1 + rand_r(&seed) % (256 * 1024);
		pos = rand_r(&seed) % (SZ16M - len);
		if (i & 1) {
			/* write through the fd, read through the mapping */
			vslice_fill(buf, (len + 7) & ~7UL, i);
			ASSERT_EQ(len, pwrite(dev.fd, buf, len, BAR0(pos)));
			ASSERT_EQ(0, memcmp(bar0 + pos, buf, len)) {
				TH_LOG("%zu bytes at %llu", len,
				       (unsigned long long)pos);
			}
		} else {
			/* write through the mapping, read through the fd */
			vslice_fill(bar0 + (pos & ~7UL), (len + 7) & ~7UL, i);
			ASSERT_EQ(len, pread(dev.fd, buf, len, BAR0(pos)));
			ASSERT_EQ(0, memcmp(bar0 + pos, buf, len)) {
				TH_LOG("%zu bytes at %llu", len,
				       (unsigned long long)pos);
			}
		}
	}
	free(buf);
	munmap(bar0, SZ16M);
	vslice_dev_close(&dev);
}

/* Scrubbing 16 MiB takes minutes on the debug kernel (KASAN, TCG). */
TEST_F_TIMEOUT(vram, new_tenant_never_sees_old_data, 300)
{
	struct vslice_dev dev;
	char uuids[64][VSLICE_UUID_LEN];
	long long n, i;
	u8 *bar0;

	/* Fill the card with tenants that each leave a secret... */
	n = vslice_type_available(self->bdf, "vslice-4M");
	ASSERT_GT(n, 0);
	for (i = 0; i < n; i++) {
		vslice_create_assert(self->bdf, "vslice-4M", uuids[i]);
		vslice_dev_open_assert(&dev, uuids[i]);
		bar0 = vslice_map_bar0(dev.fd, SZ4M);
		vslice_fill(bar0, SZ4M, 0x5ec7e7 + i);
		munmap(bar0, SZ4M);
		vslice_dev_close(&dev);
	}
	/* ...remove them all and at once fill it again: all zeros. */
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, vslice_remove(uuids[i]));
	for (i = 0; i < n; i++) {
		vslice_create_assert(self->bdf, "vslice-4M", uuids[i]);
		vslice_dev_open_assert(&dev, uuids[i]);
		bar0 = vslice_map_bar0(dev.fd, SZ4M);
		ASSERT_EQ(-1, vslice_check_zero(bar0, SZ4M)) {
			TH_LOG("tenant %lld sees old data", i);
		}
		munmap(bar0, SZ4M);
		vslice_dev_close(&dev);
	}
	ASSERT_EQ(-1, vslice_check_zero(self->pvram, n * SZ4M));
}

TEST_F(vram, reset_keeps_vram)
{
	struct vslice_dev dev;
	u8 *bar0;

	open_inst(self->bdf, "vslice-16M", &dev);
	bar0 = vslice_map_bar0(dev.fd, SZ16M);
	vslice_fill(bar0, SZ16M, 7);
	ASSERT_EQ(0, ioctl(dev.fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(-1, vslice_check(bar0, SZ16M, 7));
	munmap(bar0, SZ16M);
	vslice_dev_close(&dev);

	/* Closing and opening again keeps it too: same tenant. */
	vslice_dev_open_assert(&dev, dev.uuid);
	bar0 = vslice_map_bar0(dev.fd, SZ16M);
	ASSERT_EQ(-1, vslice_check(bar0, SZ16M, 7));
	munmap(bar0, SZ16M);
	vslice_dev_close(&dev);
}

static bool exists(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", uuid);
	return access(path, F_OK) == 0;
}

/*
 * Start removing @uuid in a child; the write blocks while the instance is
 * in use.  The child execs a shell so that it holds neither the mappings
 * nor the descriptors of the test (a remover holding the device would
 * wait for itself).
 */
static pid_t remove_in_background(const char *uuid)
{
	char cmd[128];
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "echo 1 > /sys/bus/mdev/devices/%s/remove",
		 uuid);
	pid = fork();
	if (!pid) {
		/* Nor the runner's output pipe, should it hang. */
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static bool still_running(pid_t pid, unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };
	int status;

	nanosleep(&ts, NULL);
	return waitpid(pid, &status, WNOHANG) == 0;
}

TEST_F(vram, mapping_cannot_outlive_instance)
{
	struct vslice_dev dev;
	int status, pipefd[2];
	pid_t remover, child;
	long long avail;
	u8 *bar0;
	char c;

	open_inst(self->bdf, "vslice-16M", &dev);
	avail = vslice_type_available(self->bdf, "vslice-16M");
	bar0 = vslice_map_bar0(dev.fd, SZ16M);
	vslice_fill(bar0, PAGE, 9);

	/* A forked child holds the mapping too, and only the mapping. */
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	child = fork();
	ASSERT_GE(child, 0);
	if (!child) {
		vslice_dev_close(&dev);
		close(pipefd[1]);
		if (read(pipefd[0], &c, 1) != 1)
			_exit(2);
		_exit(vslice_check(bar0, PAGE, 9) == -1 ? 0 : 1);
	}
	close(pipefd[0]);

	/*
	 * The fd is closed, only mappings remain: removal must wait, and
	 * the slice must not go back to the pool meanwhile.
	 */
	vslice_dev_close(&dev);
	remover = remove_in_background(dev.uuid);
	ASSERT_GE(remover, 0);
	ASSERT_TRUE(still_running(remover, 1500));
	ASSERT_EQ(avail, vslice_type_available(self->bdf, "vslice-16M"));
	ASSERT_EQ(-1, vslice_check(bar0, PAGE, 9));

	/* Parent lets go; the child still holds it. */
	munmap(bar0, SZ16M);
	ASSERT_TRUE(still_running(remover, 1000));
	ASSERT_EQ(avail, vslice_type_available(self->bdf, "vslice-16M"));

	/* The child checks its view and exits: removal completes. */
	ASSERT_EQ(1, write(pipefd[1], "x", 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(vslice_exited_ok(status));
	ASSERT_EQ(remover, waitpid(remover, &status, 0));
	ASSERT_TRUE(vslice_exited_ok(status));
	ASSERT_FALSE(exists(dev.uuid));
	ASSERT_EQ(avail + 1, vslice_type_available(self->bdf, "vslice-16M"));
	close(pipefd[1]);
}

TEST_HARNESS_MAIN
