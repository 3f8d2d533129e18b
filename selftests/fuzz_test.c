// SPDX-License-Identifier: GPL-2.0-only
/*
 * A seeded fuzzer against one instance: random ioctl numbers and
 * argument structs (sizes, flags, indexes, counts, argsz near the
 * limits), random offsets and lengths for read, write and mmap, random
 * writes to the parent's policy attributes.  Meanwhile a neighbour
 * instance holds a known pattern; it must never change, and the kernel
 * must stay healthy.  And the info ioctls never hand back kernel bytes
 * nobody wrote: every answer is fetched twice into buffers poisoned with
 * different patterns, and a byte that is neither the caller's poison nor
 * the same both times is a leak.
 *
 *   VSLICE_FUZZ_SEED=N     replay a seed (the test prints the one it used)
 *   VSLICE_FUZZ_ITERS=N    iterations (default 20000)
 *   VSLICE_FUZZ_SECONDS=N  time bound (default 60)
 */
#define _GNU_SOURCE
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define MIB		VSLICE_MIB
#define SZ4M		(4 * MIB)
#define NEIGHBOUR_SEED	0x6e16
#define BUF_SIZE	8192

static u64 rnd_state;

/* xorshift64*: small, seedable, good enough to pick test inputs */
static u64 rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dULL;
}

static u64 pick(const u64 *set, size_t n)
{
	return set[rnd() % n];
}

/* Sizes and positions where bugs live: zero, edges, off-by-one, huge. */
static u64 edgy(u64 limit)
{
	const u64 set[] = {
		0, 1, 2, 3, 4, 7, 8, 15, 16, 63, 64, 255, 256, 4095, 4096,
		4097, limit - 1, limit, limit + 1, limit * 2, 1ULL << 31,
		1ULL << 32, (1ULL << 40) - 1, ~0ULL, ~0ULL >> 1,
	};

	return rnd() % 3 ? pick(set, ARRAY_SIZE(set)) : rnd() % (limit + 2);
}

static sigjmp_buf fault_jmp;

static void on_fault(int sig)
{
	siglongjmp(fault_jmp, 1);
}

/* The instance nobody touches, and what it looked like at the start. */
struct neighbour {
	struct vslice_dev dev;
	u8 cfg[256], regs[22];
	u8 *vram;
};

FIXTURE(fuzz) {
	const char *bdf;
	char target[VSLICE_UUID_LEN], neighbour[VSLICE_UUID_LEN];
	struct vslice_dev tdev;
	struct neighbour n;
	int kmsg;
};

FIXTURE_SETUP(fuzz)
{
	self->bdf = vslice_parent();
	if (!self->bdf)
		SKIP(return, "no bochs-display (1234:1111) in this machine");
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	self->kmsg = vslice_kmsg_open();

	/* the neighbour: a known pattern in VRAM, config and registers */
	vslice_create_assert(self->bdf, "vslice-4M", self->neighbour);
	vslice_dev_open_assert(&self->n.dev, self->neighbour);
	self->n.vram = vslice_map_bar0(self->n.dev.fd, SZ4M);
	vslice_fill(self->n.vram, SZ4M, NEIGHBOUR_SEED);
	vslice_mmio_write(self->n.dev.fd, 0x502, 2, 800);
	vslice_mmio_write(self->n.dev.fd, 0x504, 2, 600);
	ASSERT_EQ(256, pread(self->n.dev.fd, self->n.cfg, 256,
			     VSLICE_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX)));
	ASSERT_EQ(22, pread(self->n.dev.fd, self->n.regs, 22,
			    VSLICE_REGION_OFFSET(VFIO_PCI_BAR2_REGION_INDEX) +
			    0x500));

	vslice_create_assert(self->bdf, "vslice-4M", self->target);
	vslice_dev_open_assert(&self->tdev, self->target);
}

FIXTURE_TEARDOWN(fuzz)
{
	vslice_dev_close(&self->tdev);
	munmap(self->n.vram, SZ4M);
	vslice_dev_close(&self->n.dev);
	EXPECT_EQ(0, vslice_remove_all(self->bdf));
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
}

/* The neighbour is exactly as it was; returns what changed, or NULL. */
static const char *neighbour_changed(const struct neighbour *n)
{
	u8 cfg[256], regs[22];

	if (vslice_check(n->vram, SZ4M, NEIGHBOUR_SEED) != -1)
		return "VRAM";
	if (pread(n->dev.fd, cfg, 256,
		  VSLICE_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX)) != 256 ||
	    memcmp(cfg, n->cfg, 256))
		return "config space";
	if (pread(n->dev.fd, regs, 22,
		  VSLICE_REGION_OFFSET(VFIO_PCI_BAR2_REGION_INDEX) + 0x500) !=
	    22 || memcmp(regs, n->regs, 22))
		return "registers";
	return NULL;
}

static const unsigned long vfio_cmds[] = {
	VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO,
	VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_SET_IRQS, VFIO_DEVICE_RESET,
	VFIO_DEVICE_QUERY_GFX_PLANE, VFIO_DEVICE_GET_GFX_DMABUF,
	VFIO_DEVICE_IOEVENTFD, VFIO_DEVICE_FEATURE,
	VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, VFIO_DEVICE_PCI_HOT_RESET,
};

/* A struct-shaped argument: a header of edgy u32s over random bytes. */
static void fuzz_arg(u8 *buf, int efd)
{
	u32 *w = (u32 *)buf;
	unsigned int i;

	for (i = 0; i < BUF_SIZE / 8; i++)
		((u64 *)buf)[i] = rnd();
	w[0] = edgy(64);			/* argsz */
	w[1] = rnd() % 2 ? rnd() : 1u << (rnd() % 32);	/* flags */
	w[2] = edgy(16);			/* index / plane type */
	w[3] = edgy(4);				/* start / cap_offset */
	w[4] = edgy(4);				/* count */
	if (rnd() % 4 == 0)
		w[5] = rnd() % 2 ? efd : (u32)-1;	/* an eventfd */
}

/* How many of each kind the kernel accepted: the fuzzer must get past
 * the front door sometimes, or it tests nothing.
 */
static unsigned long ok_ioctl, ok_rw, ok_mmap;

static void fuzz_ioctl(int fd, u8 *buf, int efd)
{
	unsigned long cmd;

	switch (rnd() % 4) {
	case 0:
	case 1:
		cmd = vfio_cmds[rnd() % ARRAY_SIZE(vfio_cmds)];
		break;
	case 2:
		cmd = _IO(VFIO_TYPE, VFIO_BASE + rnd() % 40);
		break;
	default:
		cmd = (u32)rnd();
		break;
	}
	fuzz_arg(buf, efd);
	if (!ioctl(fd, cmd, rnd() % 16 ? buf : (void *)(uintptr_t)rnd()))
		ok_ioctl++;
}

static void fuzz_rw(int fd, u8 *buf)
{
	u64 index = rnd() % 8 ? rnd() % 14 : rnd();
	u64 pos = VSLICE_REGION_OFFSET(index) + edgy(SZ4M);
	size_t len = edgy(BUF_SIZE) % (BUF_SIZE + 1);

	ssize_t n;

	if (rnd() % 2)
		n = pwrite(fd, rnd() % 32 ? buf : (void *)8, len, pos);
	else
		n = pread(fd, rnd() % 32 ? buf : (void *)8, len, pos);
	ok_rw += n > 0;
}

static void fuzz_mmap(int fd)
{
	static const int flags[] = { MAP_SHARED, MAP_PRIVATE, MAP_SHARED };
	u64 index = rnd() % 8 ? rnd() % 14 : rnd();
	u64 off = VSLICE_REGION_OFFSET(index) + (edgy(SZ4M) & ~4095ULL);
	size_t len = (edgy(SZ4M) + 4095) & ~4095ULL;
	struct sigaction sa = { .sa_handler = on_fault }, old_segv, old_bus;
	u8 *p;

	if (!len || len > 64 * MIB)
		len = 4096;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags[rnd() % 3], fd, off);
	if (p == MAP_FAILED)
		return;
	ok_mmap++;
	/* scribble where it let us: only our own slice may change */
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	if (!sigsetjmp(fault_jmp, 1)) {
		p[rnd() % len] = rnd();
		p[0] = rnd();
		p[len - 1] = rnd();
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	munmap(p, len);
}

static void fuzz_sysfs(const char *bdf)
{
	static const char * const attrs[] = {
		"reserved_mib", "max_instances", "types", "scanout",
	};
	static const char * const vals[] = {
		"0", "4", "-1", "99999999999", "all", "4M", "none", "", "\n",
		"4M 64M 3M", "0x10", "12345678-1234-1234-1234-123456789abc",
	};
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vslice/%s", bdf,
		 attrs[rnd() % ARRAY_SIZE(attrs)]);
	vslice_sysfs_write(path, vals[rnd() % ARRAY_SIZE(vals)]);
}

static void restore_policy(const char *bdf)
{
	static const char * const reset[][2] = {
		{ "scanout", "none" }, { "types", "all" },
		{ "max_instances", "0" }, { "reserved_mib", "0" },
	};
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(reset); i++) {
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/vslice/%s", bdf, reset[i][0]);
		vslice_sysfs_write(path, reset[i][1]);
	}
}

TEST_F_TIMEOUT(fuzz, random_input_harms_nothing, 600)
{
	const char *e_seed = getenv("VSLICE_FUZZ_SEED");
	const char *e_iters = getenv("VSLICE_FUZZ_ITERS");
	const char *e_secs = getenv("VSLICE_FUZZ_SECONDS");
	u64 seed = e_seed ? strtoull(e_seed, NULL, 0) :
			    (u64)time(NULL) * 2654435761u ^ getpid();
	u64 iters = e_iters ? strtoull(e_iters, NULL, 0) : 20000, i;
	time_t end = time(NULL) + (e_secs ? atoi(e_secs) : 60);
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	u8 *buf = malloc(BUF_SIZE);
	const char *changed;

	ASSERT_NE(NULL, buf);
	TH_LOG("seed %llu (replay: VSLICE_FUZZ_SEED=%llu)",
	       (unsigned long long)seed, (unsigned long long)seed);
	rnd_state = seed | 1;

	for (i = 0; i < iters && time(NULL) < end; i++) {
		switch (rnd() % 8) {
		case 0: case 1: case 2:
			fuzz_ioctl(self->tdev.fd, buf, efd);
			break;
		case 3: case 4: case 5:
			fuzz_rw(self->tdev.fd, buf);
			break;
		case 6:
			fuzz_mmap(self->tdev.fd);
			break;
		default:
			fuzz_sysfs(self->bdf);
			break;
		}
		if (i % 256 == 255 || i + 1 == iters) {
			changed = neighbour_changed(&self->n);
			ASSERT_EQ(NULL, changed) {
				TH_LOG("iteration %llu of seed %llu changed the neighbour's %s",
				       (unsigned long long)i,
				       (unsigned long long)seed, changed);
			}
			ASSERT_EQ(0, vslice_kmsg_bad_lines(self->kmsg)) {
				TH_LOG("kernel complained by iteration %llu of seed %llu",
				       (unsigned long long)i,
				       (unsigned long long)seed);
			}
		}
	}
	restore_policy(self->bdf);
	TH_LOG("%llu iterations: %lu ioctls, %lu reads/writes, %lu mmaps accepted",
	       (unsigned long long)i, ok_ioctl, ok_rw, ok_mmap);
	ASSERT_LT(0, ok_ioctl);
	ASSERT_LT(0, ok_rw);
	ASSERT_LT(0, ok_mmap);
	/* the target still answers, and the neighbour never noticed */
	ASSERT_EQ(0x1234, vslice_cfg_read(self->tdev.fd, 0, 2));
	ASSERT_EQ(NULL, neighbour_changed(&self->n));
	free(buf);
	close(efd);
}

/*
 * Call @cmd twice on @arg of @size, poisoned 0x5a then 0xa5 beyond the
 * input bytes; returns the offset of a leaked byte, or -1.
 */
static int leaked_byte(int fd, unsigned long cmd, const void *in,
		       size_t in_len, size_t size)
{
	u8 a[512], b[512];
	size_t i;

	memset(a, 0x5a, size);
	memcpy(a, in, in_len);
	memset(b, 0xa5, size);
	memcpy(b, in, in_len);
	if (ioctl(fd, cmd, a) || ioctl(fd, cmd, b))
		return -2;
	for (i = 0; i < size; i++)
		if (a[i] != b[i] && !(a[i] == 0x5a && b[i] == 0xa5))
			return i;
	return -1;
}

TEST_F(fuzz, info_ioctls_leak_nothing)
{
	struct vfio_device_info dinfo = { .argsz = 512 };
	struct vfio_region_info rinfo = { .argsz = 512 };
	struct vfio_irq_info iinfo = { .argsz = 512 };
	struct vfio_device_gfx_plane_info plane = { .argsz = 512 };
	int fd = self->tdev.fd;
	u32 i;

	ASSERT_EQ(-1, leaked_byte(fd, VFIO_DEVICE_GET_INFO, &dinfo,
				  sizeof(dinfo.argsz), 512));
	for (i = 0; i < 12; i++) {
		rinfo.index = i;
		ASSERT_EQ(-1, leaked_byte(fd, VFIO_DEVICE_GET_REGION_INFO,
					  &rinfo, offsetof(typeof(rinfo), cap_offset),
					  512)) {
			TH_LOG("region %u", i);
		}
	}
	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		iinfo.index = i;
		ASSERT_EQ(-1, leaked_byte(fd, VFIO_DEVICE_GET_IRQ_INFO, &iinfo,
					  offsetof(typeof(iinfo), count), 512));
	}
	plane.flags = VFIO_GFX_PLANE_TYPE_REGION;
	plane.drm_plane_type = 1;
	ASSERT_EQ(-1, leaked_byte(fd, VFIO_DEVICE_QUERY_GFX_PLANE, &plane,
				  offsetof(typeof(plane), drm_format), 512));
	/* with a mode set, too */
	vslice_mmio_write(fd, 0x502, 4, (600 << 16) | 800);
	vslice_mmio_write(fd, 0x506, 4, (0x41 << 16) | 32);
	ASSERT_EQ(-1, leaked_byte(fd, VFIO_DEVICE_QUERY_GFX_PLANE, &plane,
				  offsetof(typeof(plane), drm_format), 512));
}

TEST_HARNESS_MAIN
