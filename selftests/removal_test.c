// SPDX-License-Identifier: GPL-2.0-only
/*
 * Removal while in use: removing an instance, unbinding the parent
 * driver, rmmod and removing the PCI device with an instance open.  The
 * user's request eventfd is signalled and removal waits for the close,
 * as vfio-pci does.  Plus VFIO_DEVICE_SET_IRQS validation, and eventfds
 * swapped while they fire.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

FIXTURE(removal) {
	const char *bdf;
	char bdf_copy[VSLICE_BDF_LEN];
	char uuid[VSLICE_UUID_LEN];
	struct vslice_dev dev;
	int kmsg;
};

FIXTURE_SETUP(removal)
{
	self->bdf = vslice_parent();
	if (!self->bdf)
		SKIP(return, "no bochs-display (1234:1111) in this machine");
	snprintf(self->bdf_copy, sizeof(self->bdf_copy), "%s", self->bdf);
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	self->kmsg = vslice_kmsg_open();
	vslice_create_assert(self->bdf, "vslice-16M", self->uuid);
	vslice_dev_open_assert(&self->dev, self->uuid);
}

FIXTURE_TEARDOWN(removal)
{
	vslice_dev_close(&self->dev);
	/* whatever the test did to the parent, bind it again */
	ASSERT_NE(NULL, vslice_parent());
	EXPECT_EQ(0, vslice_remove_all(self->bdf_copy));
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
}

/* Install a request eventfd (or remove it with fd -1). */
static int set_req(int dev, int efd)
{
	struct {
		struct vfio_irq_set hdr;
		s32 fd;
	} set = {
		.hdr.argsz = sizeof(set),
		.hdr.flags = VFIO_IRQ_SET_DATA_EVENTFD |
			     VFIO_IRQ_SET_ACTION_TRIGGER,
		.hdr.index = VFIO_PCI_REQ_IRQ_INDEX,
		.hdr.count = 1,
		.fd = efd,
	};

	return ioctl(dev, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0;
}

static bool fired(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	u64 v;

	if (poll(&p, 1, ms) != 1)
		return false;
	return read(efd, &v, sizeof(v)) == sizeof(v) && v > 0;
}

/* Write @val to @path in a child that holds nothing of ours (exec). */
static pid_t write_in_background(const char *path, const char *val)
{
	char cmd[PATH_MAX + 64];
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "echo %s > %s", val, path);
	pid = fork();
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static bool running(pid_t pid, int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	int status;

	nanosleep(&ts, NULL);
	return waitpid(pid, &status, WNOHANG) == 0;
}

static int finish(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Common body: start @path <- @val with the instance open, see the
 * request arrive, close, see the operation complete.
 */
static void removal_waits_for_user(struct __test_metadata *_metadata,
				   struct vslice_dev *dev, const char *path,
				   const char *val)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	pid_t pid;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, set_req(dev->fd, efd));
	pid = write_in_background(path, val);
	ASSERT_LT(0, pid);
	ASSERT_TRUE(fired(efd, 20000));
	/* the user still has the device, so the operation waits */
	ASSERT_TRUE(running(pid, 500));
	/* the device still works meanwhile */
	ASSERT_EQ(0x1234, vslice_cfg_read(dev->fd, 0, 2));
	vslice_dev_close(dev);
	ASSERT_EQ(0, finish(pid));
	close(efd);
}

TEST_F(removal, remove_signals_request_and_waits)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove",
		 self->uuid);
	removal_waits_for_user(_metadata, &self->dev, path, "1");
	ASSERT_EQ(0, vslice_inst_count(self->bdf));
	ASSERT_EQ(16, vslice_type_available(self->bdf, "vslice-16M"));
}

TEST_F(removal, remove_without_eventfd_waits_for_close)
{
	char path[PATH_MAX];
	pid_t pid;

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove",
		 self->uuid);
	pid = write_in_background(path, "1");
	ASSERT_TRUE(running(pid, 1500));
	vslice_dev_close(&self->dev);
	ASSERT_EQ(0, finish(pid));
	ASSERT_EQ(0, vslice_inst_count(self->bdf));
}

TEST_F(removal, unbind_parent_with_instance_open)
{
	char drv[64];

	removal_waits_for_user(_metadata, &self->dev,
			       "/sys/bus/pci/drivers/vslice/unbind",
			       self->bdf_copy);
	ASSERT_NE(0, vslice_driver_of(self->bdf_copy, drv, sizeof(drv)));
}

TEST_F(removal, pci_remove_with_instance_open)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove",
		 self->bdf_copy);
	removal_waits_for_user(_metadata, &self->dev, path, "1");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", self->bdf_copy);
	ASSERT_NE(0, access(path, F_OK));
	/* the device comes back on a rescan, unbound (no override left) */
	ASSERT_EQ(0, vslice_sysfs_write("/sys/bus/pci/rescan", "1"));
	ASSERT_EQ(0, access(path, F_OK));
}

TEST_F(removal, rmmod_refused_while_open_then_clean)
{
	/* an open device pins the module: refused at once, nothing torn */
	ASSERT_EQ(-1, syscall(SYS_delete_module, "vslice", O_NONBLOCK));
	ASSERT_TRUE(errno == EWOULDBLOCK || errno == EBUSY);
	ASSERT_EQ(0x1234, vslice_cfg_read(self->dev.fd, 0, 2));
	vslice_dev_close(&self->dev);
	/* closed: rmmod takes the instance and the parent down */
	ASSERT_EQ(0, vslice_module_unload());
	ASSERT_FALSE(vslice_module_loaded());
}

TEST_F(removal, set_irqs_validates_everything)
{
	struct {
		struct vfio_irq_set hdr;
		s32 fd[2];
	} set;
	int dev = self->dev.fd, efd = eventfd(0, EFD_CLOEXEC);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	unsigned int i;
	u8 on = 1;
	struct {
		u32 flags, index, start, count, argsz;
		s32 fd;
		int err;
	} bad[] = {
		/* indexes with no vectors */
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		  VFIO_PCI_INTX_IRQ_INDEX, 0, 1, 0, efd, EINVAL },
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		  VFIO_PCI_MSI_IRQ_INDEX, 0, 1, 0, efd, EINVAL },
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		  VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, 0, efd, EINVAL },
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		  VFIO_PCI_ERR_IRQ_INDEX, 0, 1, 0, efd, EINVAL },
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		  VFIO_PCI_NUM_IRQS, 0, 1, 0, efd, EINVAL },
		/* the request index, asked the wrong thing */
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_MASK,
		  VFIO_PCI_REQ_IRQ_INDEX, 0, 1, 0, efd, EINVAL },
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		  VFIO_PCI_REQ_IRQ_INDEX, 0, 2, 0, efd, EINVAL },
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		  VFIO_PCI_REQ_IRQ_INDEX, 1, 1, 0, efd, EINVAL },
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_DATA_BOOL |
		  VFIO_IRQ_SET_ACTION_TRIGGER,
		  VFIO_PCI_REQ_IRQ_INDEX, 0, 1, 0, efd, EINVAL },
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER |
		  0x100, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, 0, efd, EINVAL },
		/* argsz too small for the data */
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		  VFIO_PCI_REQ_IRQ_INDEX, 0, 1, sizeof(struct vfio_irq_set),
		  efd, EINVAL },
		/* not an eventfd, not a file, negative */
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		  VFIO_PCI_REQ_IRQ_INDEX, 0, 1, 0, null, EINVAL },
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		  VFIO_PCI_REQ_IRQ_INDEX, 0, 1, 0, 9999, EBADF },
		{ VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		  VFIO_PCI_REQ_IRQ_INDEX, 0, 1, 0, -5, EINVAL },
		/* loopback with nothing installed */
		{ VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		  VFIO_PCI_REQ_IRQ_INDEX, 0, 1, 0, 0, EINVAL },
	};

	ASSERT_LE(0, efd);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&set, 0, sizeof(set));
		set.hdr.argsz = bad[i].argsz ? bad[i].argsz : sizeof(set);
		set.hdr.flags = bad[i].flags;
		set.hdr.index = bad[i].index;
		set.hdr.start = bad[i].start;
		set.hdr.count = bad[i].count;
		set.fd[0] = bad[i].fd;
		EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_SET_IRQS, &set)) {
			TH_LOG("case %u accepted", i);
		}
		EXPECT_EQ(bad[i].err, errno) {
			TH_LOG("case %u: errno %d", i, errno);
		}
	}

	/* and what is allowed: install, loopback, bool, disable */
	ASSERT_EQ(0, set_req(dev, efd));
	memset(&set, 0, sizeof(set));
	set.hdr.argsz = sizeof(set.hdr);
	set.hdr.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	set.hdr.index = VFIO_PCI_REQ_IRQ_INDEX;
	set.hdr.count = 1;
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_SET_IRQS, &set));
	ASSERT_TRUE(fired(efd, 1000));
	set.hdr.argsz = sizeof(set.hdr) + 1;
	set.hdr.flags = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER;
	memcpy(set.fd, &on, 1);
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_SET_IRQS, &set));
	ASSERT_TRUE(fired(efd, 1000));
	on = 0;
	memcpy(set.fd, &on, 1);
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_SET_IRQS, &set));
	ASSERT_FALSE(fired(efd, 100));
	set.hdr.argsz = sizeof(set.hdr);
	set.hdr.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	set.hdr.count = 0;
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_SET_IRQS, &set));
	/* disabled: loopback now has nothing to fire */
	set.hdr.count = 1;
	ASSERT_EQ(-1, ioctl(dev, VFIO_DEVICE_SET_IRQS, &set));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, set_req(dev, -1));
	close(null);
	close(efd);
}

struct swap_ctx {
	int dev;
	bool stop;
	unsigned long swaps, fires;
};

static bool stopped(struct swap_ctx *c)
{
	return __atomic_load_n(&c->stop, __ATOMIC_RELAXED);
}

/* Replace the request eventfd, closing the old one, as fast as it goes. */
static void *swapper(void *arg)
{
	struct swap_ctx *c = arg;
	int old = -1, efd;

	while (!stopped(c)) {
		efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (efd < 0 || set_req(c->dev, c->swaps % 7 ? efd : -1))
			break;
		if (old >= 0)
			close(old);
		old = efd;
		c->swaps++;
	}
	if (old >= 0)
		close(old);
	return NULL;
}

/* Fire whatever eventfd is installed (loopback trigger). */
static void *firer(void *arg)
{
	struct vfio_irq_set hdr = {
		.argsz = sizeof(hdr),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_REQ_IRQ_INDEX,
		.count = 1,
	};
	struct swap_ctx *c = arg;

	while (!stopped(c))
		if (!ioctl(c->dev, VFIO_DEVICE_SET_IRQS, &hdr))
			c->fires++;
	return NULL;
}

TEST_F(removal, eventfd_swapped_while_firing)
{
	struct swap_ctx c = { .dev = self->dev.fd };
	struct timespec ts = { 3, 0 };
	pthread_t t[3];
	int i;

	ASSERT_EQ(0, pthread_create(&t[0], NULL, swapper, &c));
	ASSERT_EQ(0, pthread_create(&t[1], NULL, firer, &c));
	ASSERT_EQ(0, pthread_create(&t[2], NULL, firer, &c));
	nanosleep(&ts, NULL);
	__atomic_store_n(&c.stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	TH_LOG("%lu swaps, %lu fires", c.swaps, c.fires);
	ASSERT_LT(100, c.swaps);
	ASSERT_LT(100, c.fires);
	/* and removal with the last one installed still works */
	ASSERT_EQ(0x1234, vslice_cfg_read(self->dev.fd, 0, 2));
}

TEST_HARNESS_MAIN
