// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice DMA: a model's engine reaching the user's memory through the
 * device's emulated IOMMU, its type1 container or its iommufd IOAS.
 *
 * vslice_core_dma_rw() pins the pages behind the whole range first, with
 * the access the copy needs, and copies only when every one is there: a
 * DMA is all or nothing, where vfio_dma_rw() would copy up to the first
 * page that is not mapped (or not writable).  Pins last only for the
 * copy, under &vslice_core_dev.dma_lock; the DMA-unmap notification
 * takes that lock, so the IOMMU never finds a page of an unmapped range
 * still pinned once the notification has returned.
 */

#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/overflow.h>

#include "private.h"

/* Pages one copy may span: a 4 KiB DMA spans two at most. */
#define VSLICE_DMA_MAX_PAGES	16

/**
 * vslice_core_dma_rw() - read or write the user's memory by its IOVA
 * @cdev: device, open
 * @iova: address in the device's IOMMU (container or IOAS)
 * @buf: kernel buffer
 * @len: bytes, at most VSLICE_DMA_MAX_PAGES pages' worth
 * @write: copy @buf to the IOVA, else from it
 *
 * What a model's DMA engine uses: only memory the user mapped for this
 * device, with the access it allowed, is reachable, and a copy happens
 * whole or not at all.  May sleep; callable from a kernel thread.
 *
 * Return: 0, or a negative errno with nothing copied (-EINVAL, -EFAULT,
 * -EPERM... for a range that is not all mapped as asked; -E2BIG for a
 * range too long).
 */
int vslice_core_dma_rw(struct vslice_core_dev *cdev, u64 iova, void *buf,
		       size_t len, bool write)
{
	struct page *pages[VSLICE_DMA_MAX_PAGES];
	u64 first, end, off = offset_in_page(iova);
	size_t done = 0;
	int npage, ret, i;

	if (!len)
		return 0;
	if (check_add_overflow(iova, (u64)len - 1, &end))
		return -EINVAL;
	first = iova & PAGE_MASK;
	npage = ((end - first) >> PAGE_SHIFT) + 1;
	if (npage > VSLICE_DMA_MAX_PAGES)
		return -E2BIG;

	mutex_lock(&cdev->dma_lock);
	ret = vfio_pin_pages(&cdev->vdev, first, npage,
			     IOMMU_READ | (write ? IOMMU_WRITE : 0), pages);
	if (ret != npage) {
		if (ret > 0)
			vfio_unpin_pages(&cdev->vdev, first, ret);
		mutex_unlock(&cdev->dma_lock);
		return ret < 0 ? ret : -EFAULT;
	}
	for (i = 0; i < npage; i++, off = 0) {
		size_t chunk = min_t(size_t, len - done, PAGE_SIZE - off);
		void *va = kmap_local_page(pages[i]);

		if (write)
			memcpy(va + off, buf + done, chunk);
		else
			memcpy(buf + done, va + off, chunk);
		kunmap_local(va);
		done += chunk;
	}
	vfio_unpin_pages(&cdev->vdev, first, npage);
	mutex_unlock(&cdev->dma_lock);
	return 0;
}

/**
 * vslice_dma_unmap() - the user unmapped a range of the device's IOMMU
 * @cdev: device
 *
 * Waits for a copy in progress: afterwards nothing of the range is
 * pinned.
 */
void vslice_dma_unmap(struct vslice_core_dev *cdev)
{
	mutex_lock(&cdev->dma_lock);
	mutex_unlock(&cdev->dma_lock);
}
