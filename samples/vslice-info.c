// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice-info: show what a vslice instance looks like through VFIO.
 *
 *   vslice-info UUID
 *
 * Opens the instance through the VFIO group/container API (so nobody else
 * may hold it) and prints its type, regions, interrupts, config space,
 * current display mode and counters.  Meant for debugging a setup.
 */
#include <limits.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "lib/vslice.h"

#define MMIO(off)	(VSLICE_REGION_OFFSET(VFIO_PCI_BAR2_REGION_INDEX) + (off))

static const char * const region_names[] = {
	[VFIO_PCI_BAR0_REGION_INDEX]	= "BAR0 (VRAM)",
	[VFIO_PCI_BAR1_REGION_INDEX]	= "BAR1",
	[VFIO_PCI_BAR2_REGION_INDEX]	= "BAR2 (registers)",
	[VFIO_PCI_BAR3_REGION_INDEX]	= "BAR3",
	[VFIO_PCI_BAR4_REGION_INDEX]	= "BAR4",
	[VFIO_PCI_BAR5_REGION_INDEX]	= "BAR5",
	[VFIO_PCI_ROM_REGION_INDEX]	= "ROM",
	[VFIO_PCI_CONFIG_REGION_INDEX]	= "config",
	[VFIO_PCI_VGA_REGION_INDEX]	= "VGA",
};

static const char * const irq_names[] = {
	[VFIO_PCI_INTX_IRQ_INDEX]	= "INTx",
	[VFIO_PCI_MSI_IRQ_INDEX]	= "MSI",
	[VFIO_PCI_MSIX_IRQ_INDEX]	= "MSI-X",
	[VFIO_PCI_ERR_IRQ_INDEX]	= "error",
	[VFIO_PCI_REQ_IRQ_INDEX]	= "request",
};

static const char * const dispi_names[] = {
	"ID", "XRES", "YRES", "BPP", "ENABLE", "BANK", "VIRT_WIDTH",
	"VIRT_HEIGHT", "X_OFFSET", "Y_OFFSET", "VIDEO_MEMORY_64K",
};

static void show_sysfs(const char *uuid)
{
	static const char * const attrs[] = {
		"mdev_type/name", "mdev_type/description",
	};
	char path[PATH_MAX], buf[256], link[PATH_MAX];
	unsigned int i;
	ssize_t n;

	printf("instance %s\n", uuid);
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		*strrchr(link, '/') = '\0';
		printf("  parent          %s\n", strrchr(link, '/') + 1);
	}
	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/%s",
			 uuid, attrs[i]);
		if (!vslice_sysfs_read(path, buf, sizeof(buf)))
			printf("  %-15s %s\n", strchr(attrs[i], '/') + 1, buf);
	}
}

static void show_device(int fd)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info region;
	struct vfio_irq_info irq;
	u32 i;

	if (ioctl(fd, VFIO_DEVICE_GET_INFO, &info))
		VSLICE_FAIL("VFIO_DEVICE_GET_INFO");
	printf("device: flags%s%s, %u regions, %u irqs\n",
	       info.flags & VFIO_DEVICE_FLAGS_PCI ? " PCI" : "",
	       info.flags & VFIO_DEVICE_FLAGS_RESET ? " RESET" : "",
	       info.num_regions, info.num_irqs);

	printf("regions:\n");
	for (i = 0; i < info.num_regions; i++) {
		vslice_region_info(fd, i, &region);
		if (!region.size)
			continue;
		printf("  %-2u %-17s %10llu bytes at 0x%011llx %s%s%s%s\n", i,
		       i < VFIO_PCI_NUM_REGIONS ? region_names[i] : "device",
		       (unsigned long long)region.size,
		       (unsigned long long)region.offset,
		       region.flags & VFIO_REGION_INFO_FLAG_READ ? "r" : "-",
		       region.flags & VFIO_REGION_INFO_FLAG_WRITE ? "w" : "-",
		       region.flags & VFIO_REGION_INFO_FLAG_MMAP ? "m" : "-",
		       region.flags & VFIO_REGION_INFO_FLAG_CAPS ? " caps" : "");
	}

	printf("interrupts:\n");
	for (i = 0; i < info.num_irqs && i < VFIO_PCI_NUM_IRQS; i++) {
		memset(&irq, 0, sizeof(irq));
		irq.argsz = sizeof(irq);
		irq.index = i;
		if (ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &irq))
			VSLICE_FAIL("VFIO_DEVICE_GET_IRQ_INFO %u", i);
		printf("  %-8s %u%s\n", irq_names[i], irq.count,
		       irq.flags & VFIO_IRQ_INFO_EVENTFD ? " (eventfd)" : "");
	}
}

static void show_config(int fd)
{
	u8 cfg[256];
	unsigned int i;

	if (pread(fd, cfg, sizeof(cfg),
		  VSLICE_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX)) !=
	    sizeof(cfg))
		VSLICE_FAIL("reading config space");

	printf("config space: %04x:%04x rev %02x class %06x subsystem %04x:%04x\n",
	       vslice_cfg_read(fd, PCI_VENDOR_ID, 2),
	       vslice_cfg_read(fd, PCI_DEVICE_ID, 2), cfg[PCI_REVISION_ID],
	       vslice_cfg_read(fd, PCI_CLASS_REVISION, 4) >> 8,
	       vslice_cfg_read(fd, PCI_SUBSYSTEM_VENDOR_ID, 2),
	       vslice_cfg_read(fd, PCI_SUBSYSTEM_ID, 2));
	for (i = 0; i < 64; i += 16) {
		unsigned int j;

		printf("  %02x:", i);
		for (j = 0; j < 16; j++)
			printf(" %02x", cfg[i + j]);
		printf("\n");
	}
}

static void show_mode(int fd)
{
	u16 regs[11];
	unsigned int i;

	if (pread(fd, regs, sizeof(regs), MMIO(0x500)) != sizeof(regs))
		VSLICE_FAIL("reading DISPI registers");
	printf("display registers:");
	for (i = 0; i < 11; i++)
		printf("%s %s=%u", i % 4 ? "" : "\n ", dispi_names[i],
		       regs[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct vslice_dev dev;

	if (argc != 2) {
		fprintf(stderr, "usage: %s UUID\n", argv[0]);
		return 2;
	}
	show_sysfs(argv[1]);
	if (vslice_dev_open(&dev, argv[1])) {
		fprintf(stderr, "%s: cannot open %s through VFIO: %s\n",
			argv[0], argv[1], strerror(errno));
		return 1;
	}
	show_device(dev.fd);
	show_config(dev.fd);
	show_mode(dev.fd);
	vslice_dev_close(&dev);
	return 0;
}
