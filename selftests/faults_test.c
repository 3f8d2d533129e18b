// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every error path unwinds completely.  For each operation (create,
 * open, mmap, each ioctl, the policy writes) fail the n-th slab
 * allocation of the calling task, for n = 1, 2, ... until the operation
 * gets through without reaching an injected failure, and after every
 * step check that nothing is left behind: no stray instance, no lost
 * VRAM, no stuck open count, and a clean kernel log (kmemleak and KASAN,
 * where the kernel has them, are read by the runner at the end).
 *
 * Needs CONFIG_FAULT_INJECTION and CONFIG_FAILSLAB (the debug kernel of
 * make test-debug); skips elsewhere.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define MIB		VSLICE_MIB
#define MAX_NTH		2000
#define FAILSLAB	"/sys/kernel/debug/failslab/"
#define FAIL_PAGE	"/sys/kernel/debug/fail_page_alloc/"
/* A sweep repeats its operation for every allocation in it: minutes, with KASAN. */
#define FAULTS_TIMEOUT	900

FIXTURE(faults) {
	const char *bdf;
	char uuid[VSLICE_UUID_LEN];
	struct vslice_dev dev;
	long long avail4;
	int nth;
	int kmsg;
};

FIXTURE_SETUP(faults)
{
	self->bdf = vslice_parent();
	if (!self->bdf)
		SKIP(return, "no bochs-display (1234:1111) in this machine");
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (self->nth < 0 || access(FAILSLAB, F_OK))
		SKIP(return,
		     "kernel has no fault injection (fail-nth, failslab): runs in make test-debug");
	/* GFP_KERNEL allocations may fail too; quietly; no page allocs */
	ASSERT_EQ(0, vslice_sysfs_write(FAILSLAB "ignore-gfp-wait", "N"));
	ASSERT_EQ(0, vslice_sysfs_write(FAILSLAB "verbose", "0"));
	vslice_sysfs_write(FAIL_PAGE "min-order", "31");
	vslice_sysfs_write(FAIL_PAGE "verbose", "0");

	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	self->avail4 = vslice_type_available(self->bdf, "vslice-4M");
	self->kmsg = vslice_kmsg_open();
	vslice_create_assert(self->bdf, "vslice-16M", self->uuid);
	self->dev.fd = -1;
}

FIXTURE_TEARDOWN(faults)
{
	vslice_dev_close(&self->dev);
	EXPECT_EQ(0, vslice_remove_all(self->bdf));
	EXPECT_EQ(self->avail4, vslice_type_available(self->bdf, "vslice-4M"));
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
	close(self->nth);
}

/* Arm the n-th fault-injection point of this thread. */
static void arm(int nth, int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	if (pwrite(nth, buf, len, 0) != len)
		VSLICE_FAIL("arming fail-nth %d", n);
}

/* Disarm; true if the armed failure was injected. */
static bool injected(int nth)
{
	char buf[16] = "";
	bool hit;

	if (pread(nth, buf, sizeof(buf) - 1, 0) < 0)
		VSLICE_FAIL("reading fail-nth");
	hit = atoi(buf) == 0;
	arm(nth, 0);
	return hit;
}

/*
 * The sweep: run @op with the n-th allocation failing, n = 1, 2, ...,
 * check @ok after each step, until @op runs without reaching an injected
 * failure (and then it must succeed).  Returns the number of points.
 */
#define SWEEP(op, ok) ({						\
	int __n, __ret;							\
	for (__n = 1; __n < MAX_NTH; __n++) {				\
		arm(self->nth, __n);					\
		__ret = (op);						\
		if (!injected(self->nth))				\
			break;						\
		ASSERT_TRUE(ok) {					\
			TH_LOG("state wrong after failing allocation %d (ret %d)", \
			       __n, __ret);				\
		}							\
		ASSERT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));	\
	}								\
	ASSERT_EQ(0, __ret) {						\
		TH_LOG("succeeded with no failure injected? ret %d", __ret); \
	}								\
	TH_LOG("%d allocation points swept", __n - 1);			\
	__n - 1;							\
})

/*
 * Undo with @undo_arg after a successful step.  The injected failure may
 * hit the undo itself (its sysfs write, say), which then did nothing:
 * fail-nth fails one allocation only, so the second try goes through.
 * Return: 0 if the first try worked, -EAGAIN if the second did, -EIO.
 */
static int undo(int (*fn)(const char *arg), const char *undo_arg)
{
	if (!fn(undo_arg))
		return 0;
	return fn(undo_arg) ? -EIO : -EAGAIN;
}

/* Create a vslice-4M instance and remove it again: 0, or the first error. */
static int create_and_remove(const char *bdf)
{
	char uuid[VSLICE_UUID_LEN];
	int r = vslice_create(bdf, "vslice-4M", uuid);

	return r ? r : undo(vslice_remove, uuid);
}

TEST_F_TIMEOUT(faults, create_unwinds, FAULTS_TIMEOUT)
{
	int before = vslice_inst_count(self->bdf);
	long long avail = vslice_type_available(self->bdf, "vslice-4M");

	SWEEP(create_and_remove(self->bdf),
	      vslice_inst_count(self->bdf) == before &&
	      vslice_type_available(self->bdf, "vslice-4M") == avail);
}

TEST_F_TIMEOUT(faults, open_unwinds, FAULTS_TIMEOUT)
{
	SWEEP(({ int r = vslice_dev_open(&self->dev, self->uuid);
		 vslice_dev_close(&self->dev);
		 r; }),
	      vslice_inst_count(self->bdf) == 1);
	/* still opens, and once only counts once */
	vslice_dev_open_assert(&self->dev, self->uuid);
}

TEST_F_TIMEOUT(faults, mmap_unwinds, FAULTS_TIMEOUT)
{
	void *p;

	vslice_dev_open_assert(&self->dev, self->uuid);
	SWEEP(({ p = mmap(NULL, 16 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED,
			  self->dev.fd, 0);
		 p == MAP_FAILED ? -errno : munmap(p, 16 * MIB); }),
	      true);
}

TEST_F_TIMEOUT(faults, ioctls_unwind, FAULTS_TIMEOUT)
{
	struct {
		struct vfio_region_info info;
		u8 caps[256];
	} r;
	struct {
		struct vfio_irq_set hdr;
		s32 fd;
	} set;
	struct vfio_device_gfx_plane_info plane;
	int efd = eventfd(0, EFD_CLOEXEC);
	u8 *big = malloc(256 * 1024);

	vslice_dev_open_assert(&self->dev, self->uuid);
	SWEEP(({ memset(&r, 0, sizeof(r));
		 r.info.argsz = sizeof(r);
		 r.info.index = VFIO_PCI_NUM_REGIONS;	/* EDID: has caps */
		 ioctl(self->dev.fd, VFIO_DEVICE_GET_REGION_INFO, &r) ?
			-errno : 0; }),
	      true);
	SWEEP(({ memset(&set, 0, sizeof(set));
		 set.hdr.argsz = sizeof(set);
		 set.hdr.flags = VFIO_IRQ_SET_DATA_EVENTFD |
				 VFIO_IRQ_SET_ACTION_TRIGGER;
		 set.hdr.index = VFIO_PCI_REQ_IRQ_INDEX;
		 set.hdr.count = 1;
		 set.fd = efd;
		 ioctl(self->dev.fd, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0; }),
	      true);
	SWEEP(({ memset(&plane, 0, sizeof(plane));
		 plane.argsz = sizeof(plane);
		 plane.flags = VFIO_GFX_PLANE_TYPE_REGION;
		 plane.drm_plane_type = 1;
		 ioctl(self->dev.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &plane) ?
			-errno : 0; }),
	      true);
	SWEEP(ioctl(self->dev.fd, VFIO_DEVICE_RESET) ? -errno : 0, true);
	/* a large trapped read takes a bounce buffer */
	SWEEP(pread(self->dev.fd, big, 256 * 1024, 0) == 256 * 1024 ? 0 : -errno,
	      true);
	free(big);
	close(efd);
}

/*
 * Reserve 64 MiB through @path and give it back: 0, or the first error.
 * A reservation may also succeed after an injected failure (it waits for
 * the scrubber and tries again), so each try ends where it started.
 */
static int release(const char *path)
{
	return vslice_sysfs_write(path, "0");
}

static int reserve_and_release(const char *path)
{
	int r = vslice_sysfs_write(path, "64");

	return r ? r : undo(release, path);
}

TEST_F_TIMEOUT(faults, policy_writes_unwind, FAULTS_TIMEOUT)
{
	char path[PATH_MAX];
	long long avail = vslice_type_available(self->bdf, "vslice-4M");

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vslice/types",
		 self->bdf);
	SWEEP(vslice_sysfs_write(path, "4M 16M"), true);
	ASSERT_EQ(0, vslice_sysfs_write(path, "all"));

	/*
	 * Reserving takes buddy blocks: a failure must roll back whole.  The
	 * reserve grows down from the top of VRAM, where the fixture's
	 * instance sits (slices are placed from the top): remove it first.
	 */
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	avail = vslice_type_available(self->bdf, "vslice-4M");
	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/vslice/reserved_mib", self->bdf);
	SWEEP(reserve_and_release(path),
	      vslice_type_available(self->bdf, "vslice-4M") == avail);
	ASSERT_EQ(0, vslice_sysfs_write(path, "64"));
	ASSERT_EQ(avail - 16, vslice_type_available(self->bdf, "vslice-4M"));
	ASSERT_EQ(0, vslice_sysfs_write(path, "0"));
}

TEST_HARNESS_MAIN
