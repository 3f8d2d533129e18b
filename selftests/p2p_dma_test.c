// SPDX-License-Identifier: GPL-2.0-only
/*
 * Peer-to-peer DMA of an instance's VRAM under the legacy type1 IOMMU.
 *
 * A VMM maps an instance's BAR0 into its address space; with a second,
 * physically assigned device in a type1 container it could ask
 * VFIO_IOMMU_MAP_DMA to map that address for the device's DMA.  type1
 * would follow the mapping to the VRAM's PFNs and keep the IOMMU mapping
 * until the VMM unmaps it, after the instance is gone and its slice
 * belongs to the next tenant: nothing revokes it.  vslice's mappings of
 * device memory are VM_IO | VM_MIXEDMAP, which type1 does not follow, so
 * the request fails with EFAULT, while the CPU (and KVM) use the mapping
 * as before.  The same holds with iommufd (the cdev path, VSLICE_VFIO=cdev):
 * IOMMU_IOAS_MAP pins user pages, which a VM_IO mapping has none of.  The
 * second bochs-display, bound to vfio-pci behind the test VM's emulated
 * IOMMU, is the other device.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define SZ16M		(16 * VSLICE_MIB)
#define IOVA		0x100000000ULL

FIXTURE(p2p) {
	const char *bdf, *spare;
	char uuid[VSLICE_UUID_LEN];
	struct vslice_dev pci;
	int kmsg;
};

FIXTURE_SETUP(p2p)
{
	char path[PATH_MAX];

	self->bdf = vslice_parent();
	ASSERT_NE(NULL, self->bdf) TH_LOG("no bochs-display bound to vslice");
	self->spare = vslice_spare();
	ASSERT_NE(NULL, self->spare) TH_LOG("the bed gives the VM two bochs-displays");
	vslice_dev_init(&self->pci);
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	self->kmsg = vslice_kmsg_open();
	vslice_create_assert(self->bdf, "vslice-16M", self->uuid);

	/* the other device: the second card, assigned whole to vfio-pci */
	ASSERT_EQ(0, system("modprobe vfio-pci"));
	ASSERT_EQ(0, vslice_bind(self->spare, "vfio-pci"));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", self->spare);
	ASSERT_EQ(0, vslice_vfio_open(&self->pci, path, self->spare));
}

FIXTURE_TEARDOWN(p2p)
{
	vslice_dev_close(&self->pci);
	EXPECT_EQ(0, vslice_bind(self->spare, ""));
	EXPECT_EQ(0, vslice_remove_all(self->bdf));
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
}

/*
 * The instance's VRAM, mapped and touched by its own user, cannot be
 * mapped for the vfio-pci device's DMA, whole or one page; ordinary
 * memory can (the container works); and the CPU's view still lands in
 * the slice.
 */
static void refuse_vram(struct __test_metadata *_metadata,
			struct vslice_dev *inst, const struct vslice_dev *pci,
			const char *bdf, const char *uuid)
{
	long long off = vslice_inst_attr_ll(uuid, "vram_offset");
	u8 *bar0 = vslice_map_bar0(inst->fd, SZ16M), *vram;
	void *anon = mmap(NULL, SZ16M, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t len;

	ASSERT_NE(MAP_FAILED, anon);
	vslice_fill(bar0, SZ16M, 0x9292);

	ASSERT_EQ(0, vslice_map_dma(pci, anon, SZ16M, IOVA));
	ASSERT_EQ(0, vslice_unmap_dma(pci, SZ16M, IOVA));

	EXPECT_EQ(-EFAULT, vslice_map_dma(pci, bar0, SZ16M, IOVA + SZ16M))
		TH_LOG("the slice's VRAM got a DMA mapping for another device");
	EXPECT_EQ(-EFAULT, vslice_map_dma(pci, bar0 + 4096, 4096,
					  IOVA + SZ16M))
		TH_LOG("a page of the slice got a DMA mapping");
	/* nothing is left mapped at that IOVA either way */
	vslice_unmap_dma(pci, SZ16M, IOVA + SZ16M);

	vram = vslice_map_parent_vram(bdf, &len);
	ASSERT_LE(off + SZ16M, len);
	EXPECT_EQ(-1, vslice_check(vram + off, SZ16M, 0x9292));
	EXPECT_EQ(-1, vslice_check(bar0, SZ16M, 0x9292));
	munmap(vram, len);
	munmap(anon, SZ16M);
	munmap(bar0, SZ16M);
}

/* The instance in its own container, the VMM holding both. */
TEST_F(p2p, vram_not_mappable_for_other_device_dma)
{
	struct vslice_dev inst;

	vslice_dev_open_assert(&inst, self->uuid);
	refuse_vram(_metadata, &inst, &self->pci, self->bdf, self->uuid);
	vslice_dev_close(&inst);
}

/*
 * The instance in the very container of the vfio-pci device (group
 * path), or bound to its iommufd and attached to its IOAS (cdev path).
 */
TEST_F(p2p, vram_not_mappable_in_shared_container)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], link[PATH_MAX];
	struct vslice_dev inst;
	ssize_t n;

	vslice_dev_init(&inst);
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", self->uuid);
	if (vslice_vfio_cdev()) {
		ASSERT_EQ(0, vslice_vfio_open_cdev_shared(&inst, path,
							  &self->pci));
		goto shared;
	}
	strcat(path, "/iommu_group");
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = '\0';
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	inst.group = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, inst.group);
	ASSERT_EQ(0, ioctl(inst.group, VFIO_GROUP_GET_STATUS, &status));
	ASSERT_EQ(0, ioctl(inst.group, VFIO_GROUP_SET_CONTAINER,
			   &self->pci.container));
	inst.fd = ioctl(inst.group, VFIO_GROUP_GET_DEVICE_FD, self->uuid);
	ASSERT_LE(0, inst.fd);
shared:
	refuse_vram(_metadata, &inst, &self->pci, self->bdf, self->uuid);
	vslice_dev_close(&inst);
}

TEST_HARNESS_MAIN
