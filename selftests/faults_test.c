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

/*
 * Stop fail-nth's countdown without losing it, for a look at the state in
 * the middle of an operation that must not itself take the failure.
 * Return: the countdown, for resume_nth(); 0 if the failure was injected.
 */
static int pause_nth(int nth)
{
	char buf[16] = "";

	if (pread(nth, buf, sizeof(buf) - 1, 0) < 0)
		VSLICE_FAIL("reading fail-nth");
	arm(nth, 0);
	return atoi(buf);
}

/* Go on counting where pause_nth() stopped (nothing left: stay off). */
static void resume_nth(int nth, int left)
{
	if (left > 0)
		arm(nth, left);
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
 * What a failed operation must leave as it found: the instances, what
 * can still be created, the parent's policy attributes, and the fixture
 * instance's open count (a failed open does not count, and does not leave
 * the device held).
 */
struct state {
	int insts;
	long long avail4;
	long long opens;
	char policy[4][64];
};

static const char * const policy_attrs[] = {
	"instances", "reserved_mib", "max_instances", "types",
};

static void snapshot(const char *bdf, const char *uuid, struct state *s)
{
	char path[PATH_MAX];
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->insts = vslice_inst_count(bdf);
	s->avail4 = vslice_type_available(bdf, "vslice-4M");
	s->opens = uuid ? vslice_inst_attr_ll(uuid, "opens") : 0;
	for (i = 0; i < ARRAY_SIZE(policy_attrs); i++) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vslice/%s",
			 bdf, policy_attrs[i]);
		if (vslice_sysfs_read(path, s->policy[i], sizeof(s->policy[i])))
			snprintf(s->policy[i], sizeof(s->policy[i]), "(unreadable)");
	}
}

/* Whether state_same() says what differs. */
enum state_report { QUIET, LOUD };

/* Is the state now @want? Says what differs if @report is LOUD. */
static bool state_same(const char *bdf, const char *uuid,
		       const struct state *want, enum state_report report)
{
	bool loud = report == LOUD;
	struct state now;
	unsigned int i;
	bool same = true;

	snapshot(bdf, uuid, &now);
	if (!loud)
		return !memcmp(&now, want, sizeof(now));
	if (now.insts != want->insts || now.avail4 != want->avail4 ||
	    now.opens != want->opens) {
		fprintf(stderr, "# instances %d (was %d), available 4M %lld (was %lld),",
			now.insts, want->insts, now.avail4, want->avail4);
		fprintf(stderr, " opens %lld (was %lld)\n", now.opens, want->opens);
		same = false;
	}
	for (i = 0; i < ARRAY_SIZE(policy_attrs); i++) {
		if (strcmp(now.policy[i], want->policy[i])) {
			fprintf(stderr, "# %s: '%s', was '%s'\n", policy_attrs[i],
				now.policy[i], want->policy[i]);
			same = false;
		}
	}
	return same;
}

static bool state_is(const char *bdf, const char *uuid,
		     const struct state *want)
{
	return state_same(bdf, uuid, want, LOUD);
}

/*
 * After a failed open: the open count is where it was, or one up (the
 * failure came after the device was opened, and it was closed again), and
 * nothing holds the device: it opens.  @before follows along.
 */
static bool open_left_nothing(const char *bdf, const char *uuid,
			      struct state *before)
{
	struct vslice_dev dev;

	if (!state_same(bdf, uuid, before, QUIET)) {
		before->opens++;
		if (!state_is(bdf, uuid, before))
			return false;
	}
	if (vslice_dev_open(&dev, uuid)) {
		fprintf(stderr, "# the device is still held\n");
		return false;
	}
	vslice_dev_close(&dev);
	snapshot(bdf, uuid, before);
	return true;
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
	struct state before;

	snapshot(self->bdf, self->uuid, &before);
	SWEEP(create_and_remove(self->bdf),
	      state_is(self->bdf, self->uuid, &before));
}

TEST_F_TIMEOUT(faults, open_unwinds, FAULTS_TIMEOUT)
{
	struct state before;

	/*
	 * A failed open leaves the count where it was; an open that failed
	 * after the device was opened counts once and was closed again.
	 * Either way nothing holds the device: the next open works.
	 */
	snapshot(self->bdf, self->uuid, &before);
	SWEEP(({ int r = vslice_dev_open(&self->dev, self->uuid);
		 vslice_dev_close(&self->dev);
		 r; }),
	      open_left_nothing(self->bdf, self->uuid, &before));
	/* still opens, and once only counts once */
	vslice_dev_open_assert(&self->dev, self->uuid);
}

TEST_F_TIMEOUT(faults, mmap_unwinds, FAULTS_TIMEOUT)
{
	void *p;

	struct state before;

	vslice_dev_open_assert(&self->dev, self->uuid);
	snapshot(self->bdf, self->uuid, &before);
	SWEEP(({ p = mmap(NULL, 16 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED,
			  self->dev.fd, 0);
		 p == MAP_FAILED ? -errno : munmap(p, 16 * MIB); }),
	      state_is(self->bdf, self->uuid, &before));
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
	struct state before;

	vslice_dev_open_assert(&self->dev, self->uuid);
	snapshot(self->bdf, self->uuid, &before);
	SWEEP(({ memset(&r, 0, sizeof(r));
		 r.info.argsz = sizeof(r);
		 r.info.index = VFIO_PCI_NUM_REGIONS;	/* EDID: has caps */
		 ioctl(self->dev.fd, VFIO_DEVICE_GET_REGION_INFO, &r) ?
			-errno : 0; }),
	      state_is(self->bdf, self->uuid, &before));
	SWEEP(({ memset(&set, 0, sizeof(set));
		 set.hdr.argsz = sizeof(set);
		 set.hdr.flags = VFIO_IRQ_SET_DATA_EVENTFD |
				 VFIO_IRQ_SET_ACTION_TRIGGER;
		 set.hdr.index = VFIO_PCI_REQ_IRQ_INDEX;
		 set.hdr.count = 1;
		 set.fd = efd;
		 ioctl(self->dev.fd, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0; }),
	      state_is(self->bdf, self->uuid, &before));
	SWEEP(({ memset(&plane, 0, sizeof(plane));
		 plane.argsz = sizeof(plane);
		 plane.flags = VFIO_GFX_PLANE_TYPE_REGION;
		 plane.drm_plane_type = 1;
		 ioctl(self->dev.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &plane) ?
			-errno : 0; }),
	      state_is(self->bdf, self->uuid, &before));
	SWEEP(ioctl(self->dev.fd, VFIO_DEVICE_RESET) ? -errno : 0,
	      state_is(self->bdf, self->uuid, &before));
	/* a large trapped read takes a bounce buffer */
	SWEEP(pread(self->dev.fd, big, 256 * 1024, 0) == 256 * 1024 ? 0 : -errno,
	      state_is(self->bdf, self->uuid, &before));
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

/*
 * Offer 4M and 16M only, note the state in @changed, offer all again.
 * The failure armed on @nth may hit either write, not the look between.
 */
static int offer_two_types(const char *bdf, const char *uuid,
			   const char *path, struct state *changed, int nth)
{
	int r = vslice_sysfs_write(path, "4M 16M");
	int left = pause_nth(nth);

	snapshot(bdf, uuid, changed);
	resume_nth(nth, left);
	/* the one injected failure may hit the first try of the undo */
	if (!r && vslice_sysfs_write(path, "all") &&
	    vslice_sysfs_write(path, "all"))
		VSLICE_FAIL("offering all types again");
	return r;
}

TEST_F_TIMEOUT(faults, policy_writes_unwind, FAULTS_TIMEOUT)
{
	char path[PATH_MAX];
	long long avail = vslice_type_available(self->bdf, "vslice-4M");

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vslice/types",
		 self->bdf);
	struct state before, changed;

	/* a refused write changes nothing; one that went through, the types */
	snapshot(self->bdf, self->uuid, &before);
	SWEEP(offer_two_types(self->bdf, self->uuid, path, &changed,
			      self->nth),
	      __ret ? state_is(self->bdf, self->uuid, &before) :
		      !strcmp(changed.policy[3], "4M 16M"));
	ASSERT_EQ(0, vslice_sysfs_write(path, "all"));

	/*
	 * Reserving takes buddy blocks: a failure must roll back whole.  The
	 * reserve grows down from the top of VRAM, where the fixture's
	 * instance sits (slices are placed from the top): remove it first.
	 */
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	avail = vslice_type_available(self->bdf, "vslice-4M");
	snapshot(self->bdf, NULL, &before);
	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/vslice/reserved_mib", self->bdf);
	SWEEP(reserve_and_release(path), state_is(self->bdf, NULL, &before));
	ASSERT_EQ(0, vslice_sysfs_write(path, "64"));
	ASSERT_EQ(avail - 16, vslice_type_available(self->bdf, "vslice-4M"));
	ASSERT_EQ(0, vslice_sysfs_write(path, "0"));
}

TEST_HARNESS_MAIN
