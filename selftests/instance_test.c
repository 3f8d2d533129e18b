// SPDX-License-Identifier: GPL-2.0-only
/*
 * Instances: creating up to capacity and one past it, removing, opening
 * through the VFIO group/container API, and the info ioctls.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

FIXTURE(instance) {
	const char *bdf;
	int kmsg;
};

FIXTURE_VARIANT(instance) {
	const char *type;
	unsigned long long size;
};

FIXTURE_VARIANT_ADD(instance, t4m) {
	.type = "vslice-4M",
	.size = 4 * VSLICE_MIB,
};

FIXTURE_VARIANT_ADD(instance, t16m) {
	.type = "vslice-16M",
	.size = 16 * VSLICE_MIB,
};

FIXTURE_VARIANT_ADD(instance, t64m) {
	.type = "vslice-64M",
	.size = 64 * VSLICE_MIB,
};

FIXTURE_SETUP(instance)
{
	char buf[64];

	self->bdf = vslice_parent();
	if (!self->bdf)
		SKIP(return, "no bochs-display (1234:1111) in this machine");
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	/* a 256 MiB card offers every variant's type */
	ASSERT_EQ(0, vslice_type_attr(self->bdf, variant->type, "name", buf,
				      sizeof(buf)))
		TH_LOG("this parent does not offer %s", variant->type);
	self->kmsg = vslice_kmsg_open();
}

FIXTURE_TEARDOWN(instance)
{
	EXPECT_EQ(0, vslice_remove_all(self->bdf));
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
}

TEST_F(instance, create_until_full_then_enospc)
{
	long long avail = vslice_type_available(self->bdf, variant->type);
	char uuid[VSLICE_UUID_LEN], path[PATH_MAX];
	long long i;

	ASSERT_GT(avail, 0);
	for (i = 0; i < avail; i++) {
		vslice_create_assert(self->bdf, variant->type, uuid);
		snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", uuid);
		ASSERT_EQ(0, access(path, F_OK));
		ASSERT_EQ(avail - i - 1,
			  vslice_type_available(self->bdf, variant->type));
	}

	/* One more is refused cleanly and leaves no trace. */
	ASSERT_EQ(-ENOSPC, vslice_create(self->bdf, variant->type, uuid));
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", uuid);
	ASSERT_NE(0, access(path, F_OK));
	ASSERT_EQ(avail, vslice_inst_count(self->bdf));
	ASSERT_EQ(0, vslice_type_available(self->bdf, variant->type));
	ASSERT_EQ(0, vslice_type_available(self->bdf, "vslice-4M"));
}

TEST_F(instance, remove_restores_availability)
{
	long long avail = vslice_type_available(self->bdf, variant->type);
	long long avail4 = vslice_type_available(self->bdf, "vslice-4M");
	char uuid[VSLICE_UUID_LEN];

	vslice_create_assert(self->bdf, variant->type, uuid);
	ASSERT_EQ(avail - 1, vslice_type_available(self->bdf, variant->type));
	ASSERT_EQ(avail4 - variant->size / (4 * VSLICE_MIB),
		  vslice_type_available(self->bdf, "vslice-4M"));
	ASSERT_EQ(0, vslice_remove(uuid));
	ASSERT_EQ(avail, vslice_type_available(self->bdf, variant->type));
	ASSERT_EQ(avail4, vslice_type_available(self->bdf, "vslice-4M"));
	ASSERT_EQ(0, vslice_inst_count(self->bdf));
	/* The instance is gone from the bus. */
	ASSERT_EQ(-ENOENT, vslice_remove(uuid));
}

TEST_F(instance, create_rejects_bad_uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/mdev_supported_types/%s/create",
		 self->bdf, variant->type);
	ASSERT_EQ(-EINVAL, vslice_sysfs_write(path, "not-a-uuid"));
	ASSERT_EQ(0, vslice_inst_count(self->bdf));
}

TEST_F(instance, open_and_get_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char uuid[VSLICE_UUID_LEN];
	struct vslice_dev dev;

	vslice_create_assert(self->bdf, variant->type, uuid);
	vslice_dev_open_assert(&dev, uuid);

	ASSERT_EQ(0, ioctl(dev.fd, VFIO_DEVICE_GET_INFO, &info));
	ASSERT_EQ(VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET, info.flags);
	ASSERT_GE(info.num_regions, VFIO_PCI_NUM_REGIONS);
	ASSERT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);

	/* argsz below the minimum is refused */
	info.argsz = 8;
	ASSERT_EQ(-1, ioctl(dev.fd, VFIO_DEVICE_GET_INFO, &info));
	ASSERT_EQ(EINVAL, errno);

	/* a command vslice does not know */
	ASSERT_EQ(-1, ioctl(dev.fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info));
	ASSERT_EQ(ENOTTY, errno);

	vslice_dev_close(&dev);
}

TEST_F(instance, region_info_matches_bars)
{
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	struct vfio_region_info info;
	char uuid[VSLICE_UUID_LEN];
	struct vslice_dev dev;
	u32 i;

	vslice_create_assert(self->bdf, variant->type, uuid);
	vslice_dev_open_assert(&dev, uuid);
	ASSERT_EQ(0, ioctl(dev.fd, VFIO_DEVICE_GET_INFO, &dinfo));

	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		vslice_region_info(dev.fd, i, &info);
		ASSERT_EQ(VSLICE_REGION_OFFSET(i), info.offset);
		switch (i) {
		case VFIO_PCI_BAR0_REGION_INDEX:
			ASSERT_EQ(variant->size, info.size);
			ASSERT_EQ(VFIO_REGION_INFO_FLAG_READ |
				  VFIO_REGION_INFO_FLAG_WRITE |
				  VFIO_REGION_INFO_FLAG_MMAP, info.flags);
			break;
		case VFIO_PCI_BAR2_REGION_INDEX:
			ASSERT_EQ(4096, info.size);
			ASSERT_EQ(VFIO_REGION_INFO_FLAG_READ |
				  VFIO_REGION_INFO_FLAG_WRITE, info.flags);
			break;
		case VFIO_PCI_CONFIG_REGION_INDEX:
			ASSERT_EQ(256, info.size);
			ASSERT_EQ(VFIO_REGION_INFO_FLAG_READ |
				  VFIO_REGION_INFO_FLAG_WRITE, info.flags);
			break;
		default:
			ASSERT_EQ(0, info.size);
			ASSERT_EQ(0, info.flags);
		}
	}

	/* Past the last region, and a short argsz, are refused. */
	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	info.index = dinfo.num_regions;
	ASSERT_EQ(-1, ioctl(dev.fd, VFIO_DEVICE_GET_REGION_INFO, &info));
	ASSERT_EQ(EINVAL, errno);
	info.index = 0xffffffff;
	ASSERT_EQ(-1, ioctl(dev.fd, VFIO_DEVICE_GET_REGION_INFO, &info));
	ASSERT_EQ(EINVAL, errno);
	info.index = 0;
	info.argsz = 4;
	ASSERT_EQ(-1, ioctl(dev.fd, VFIO_DEVICE_GET_REGION_INFO, &info));
	ASSERT_EQ(EINVAL, errno);

	vslice_dev_close(&dev);
}

TEST_F(instance, irq_info)
{
	struct vfio_irq_info info;
	char uuid[VSLICE_UUID_LEN];
	struct vslice_dev dev;
	u32 i;

	vslice_create_assert(self->bdf, variant->type, uuid);
	vslice_dev_open_assert(&dev, uuid);

	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		memset(&info, 0, sizeof(info));
		info.argsz = sizeof(info);
		info.index = i;
		ASSERT_EQ(0, ioctl(dev.fd, VFIO_DEVICE_GET_IRQ_INFO, &info));
		if (i == VFIO_PCI_REQ_IRQ_INDEX) {
			ASSERT_EQ(1, info.count);
			ASSERT_EQ(VFIO_IRQ_INFO_EVENTFD, info.flags);
		} else {
			ASSERT_EQ(0, info.count);
		}
	}
	info.index = VFIO_PCI_NUM_IRQS;
	ASSERT_EQ(-1, ioctl(dev.fd, VFIO_DEVICE_GET_IRQ_INFO, &info));
	ASSERT_EQ(EINVAL, errno);
	info.index = 0;
	info.argsz = 4;
	ASSERT_EQ(-1, ioctl(dev.fd, VFIO_DEVICE_GET_IRQ_INFO, &info));
	ASSERT_EQ(EINVAL, errno);

	vslice_dev_close(&dev);
}

TEST_F(instance, reset_restores_power_on_config)
{
	char uuid[VSLICE_UUID_LEN];
	struct vslice_dev dev;

	vslice_create_assert(self->bdf, variant->type, uuid);
	vslice_dev_open_assert(&dev, uuid);

	vslice_cfg_write(dev.fd, 0x04, 2, 0x0006);	/* memory + master */
	vslice_cfg_write(dev.fd, 0x3c, 1, 0x0b);	/* interrupt line */
	vslice_cfg_write(dev.fd, 0x10, 4, 0xfe000000);	/* BAR0 address */
	ASSERT_EQ(0x0006, vslice_cfg_read(dev.fd, 0x04, 2));
	ASSERT_EQ(0, ioctl(dev.fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(0x0002, vslice_cfg_read(dev.fd, 0x04, 2));	/* memory on */
	ASSERT_EQ(0, vslice_cfg_read(dev.fd, 0x3c, 1));
	ASSERT_EQ(0x8, vslice_cfg_read(dev.fd, 0x10, 4));
	ASSERT_EQ(VSLICE_BOCHS_VENDOR, vslice_cfg_read(dev.fd, 0x00, 2));

	vslice_dev_close(&dev);
}

TEST_F(instance, second_open_busy)
{
	char uuid[VSLICE_UUID_LEN];
	struct vslice_dev dev, dev2;

	vslice_create_assert(self->bdf, variant->type, uuid);
	vslice_dev_open_assert(&dev, uuid);
	/*
	 * A VFIO group has one owner at a time (-EBUSY); a device cdev binds
	 * to one iommufd at a time (the VFIO core refuses the second bind).
	 */
	ASSERT_EQ(vslice_vfio_cdev() ? -EINVAL : -EBUSY,
		  vslice_dev_open(&dev2, uuid));
	vslice_dev_close(&dev);
	vslice_dev_open_assert(&dev2, uuid);
	vslice_dev_close(&dev2);
}

TEST_HARNESS_MAIN
