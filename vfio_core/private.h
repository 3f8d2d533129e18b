/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vslice core: declarations shared by the files of vfio_core/ only.
 */
#ifndef VSLICE_CORE_PRIVATE_H
#define VSLICE_CORE_PRIVATE_H

#include "vslice_core.h"

int vslice_core_cfg_rw(struct vslice_core_dev *cdev,
		       const struct vslice_region *r, void *buf, u64 pos,
		       size_t count, bool write);
int vslice_region_iomem_rw(struct vslice_core_dev *cdev,
			   const struct vslice_region *r, void *buf, u64 pos,
			   size_t count, bool write);

int vslice_region_info(struct vslice_core_dev *cdev,
		       struct vfio_region_info *info,
		       struct vfio_info_cap *caps);
int vslice_region_ioctl_info(struct vslice_core_dev *cdev, void __user *arg);
ssize_t vslice_region_read(struct vfio_device *vdev, char __user *buf,
			   size_t count, loff_t *ppos);
ssize_t vslice_region_write(struct vfio_device *vdev, const char __user *buf,
			    size_t count, loff_t *ppos);
int vslice_region_mmap(struct vslice_core_dev *cdev,
		       struct vm_area_struct *vma);
void vslice_region_zap(struct vslice_core_dev *cdev);

/*
 * Is memory decoding on?  Stable while the caller holds
 * @cdev->memory_lock: every change of the command register takes it.
 */
static inline bool vslice_core_memory_enabled(struct vslice_core_dev *cdev)
{
	return cdev->cfg.val[PCI_COMMAND] & PCI_COMMAND_MEMORY;
}

/*
 * The memory that migrates with the device's state: its region, or an
 * empty one for a device without (VSLICE_MIG_NO_MEMORY).
 */
static inline const struct vslice_region *
vslice_mig_mem(const struct vslice_core_dev *cdev)
{
	static const struct vslice_region none;

	if (cdev->mig_region == VSLICE_MIG_NO_MEMORY)
		return &none;
	return &cdev->regions[cdev->mig_region];
}

int vslice_irq_get_info(struct vslice_core_dev *cdev, void __user *arg);
int vslice_irq_set(struct vslice_core_dev *cdev, void __user *arg);
void vslice_irq_request(struct vslice_core_dev *cdev, unsigned int count);
void vslice_irq_release(struct vslice_core_dev *cdev);
void vslice_irq_reset_locked(struct vslice_core_dev *cdev);
void vslice_irq_cfg_changed_locked(struct vslice_core_dev *cdev);
u8 vslice_irq_status_byte(struct vslice_core_dev *cdev, u8 stored);
u64 vslice_irq_signalled(struct vslice_core_dev *cdev);

void vslice_mig_reset(struct vslice_core_dev *cdev);

void vslice_dma_unmap(struct vslice_core_dev *cdev);

int vslice_dirty_start(struct vslice_core_dev *cdev, bool track);
void vslice_dirty_freeze(struct vslice_core_dev *cdev);
void vslice_dirty_stop(struct vslice_core_dev *cdev);
bool vslice_dirty_fault(struct vslice_core_dev *cdev, unsigned long pfn,
			unsigned long *first);
void vslice_dirty_write(struct vslice_core_dev *cdev, phys_addr_t phys,
			u64 len);
unsigned long vslice_dirty_take(struct vslice_core_dev *cdev,
				unsigned long from, unsigned long max,
				unsigned long *first);
unsigned long vslice_dirty_runs(struct vslice_core_dev *cdev,
				unsigned long from, unsigned long to,
				unsigned long max, unsigned long *runs);
void vslice_dirty_round_end(struct vslice_core_dev *cdev);

#endif /* VSLICE_CORE_PRIVATE_H */
