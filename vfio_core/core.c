// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice core: the one struct vfio_device_ops of vslice.
 *
 * Every op finds the struct vslice_core_dev around the vfio_device and
 * routes the call: accesses through the region table (region.c), config
 * space to the virtual config space (cfg.c), interrupts to irq.c, and the
 * few device-specific questions to the model's callbacks.
 */

#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "private.h"

/* Does a config access of @count bytes at @pos touch the command register? */
static bool vslice_core_cfg_cmd(u64 pos, size_t count)
{
	return pos < PCI_COMMAND + 2 && pos + count > PCI_COMMAND;
}

/**
 * vslice_core_cfg_rw() - access the config region
 * @cdev: device
 * @r: its config region
 * @buf: kernel buffer, @count bytes
 * @pos: offset in config space, checked against the region by the caller
 * @count: bytes to move, within the region
 * @write: store @buf rather than load into it
 *
 * The config region is trapped, never mapped, and served from struct
 * vslice_cfg: writes go through its masks under the device's lock; reads
 * take no lock and retry if a write raced them.  A write that turns
 * memory decoding off zaps the user mappings of device memory, under
 * @cdev->memory_lock, so that BAR mappings fault (SIGBUS) until it is on
 * again.
 *
 * Return: 0.
 */
int vslice_core_cfg_rw(struct vslice_core_dev *cdev,
		       const struct vslice_region *r, void *buf, u64 pos,
		       size_t count, bool write)
{
	unsigned int seq;

	if (write && vslice_core_cfg_cmd(pos, count)) {
		bool was_on;

		down_write(&cdev->memory_lock);
		vslice_core_lock(cdev);
		was_on = vslice_core_memory_enabled(cdev);
		vslice_cfg_rw(&cdev->cfg, buf, pos, count, true);
		vslice_irq_cfg_changed_locked(cdev);
		vslice_core_unlock(cdev);
		if (was_on && !vslice_core_memory_enabled(cdev))
			vslice_region_zap(cdev);
		up_write(&cdev->memory_lock);
		return 0;
	}
	if (write) {
		vslice_core_lock(cdev);
		vslice_cfg_rw(&cdev->cfg, buf, pos, count, true);
		vslice_core_unlock(cdev);
		return 0;
	}
	do {
		seq = vslice_core_read_begin(cdev);
		vslice_copy_small(buf, cdev->cfg.val + pos, count);
	} while (vslice_core_read_retry(cdev, seq));
	if (pos <= PCI_STATUS && pos + count > PCI_STATUS) {
		u8 *status = (u8 *)buf + (PCI_STATUS - pos);

		*status = vslice_irq_status_byte(cdev, *status);
	}
	return 0;
}

static const struct vslice_region_ops vslice_core_cfg_ops = {
	.rw = vslice_core_cfg_rw,
};

/**
 * vslice_core_init() - initialise the core part of a freshly allocated device
 * @cdev: device returned by vfio_alloc_device() with &vslice_core_vfio_ops
 * @model: the model's callbacks
 *
 * Sets up the locks, the counters and the config region.  The model then
 * fills the config space (vslice_cfg_init()) and its regions
 * (vslice_core_set_region()) before registering the device.  Whatever
 * happens next, the device's @release op undoes this.
 *
 * Return: 0 or -ENOMEM.
 */
int vslice_core_init(struct vslice_core_dev *cdev,
		     const struct vslice_model_ops *model)
{
	const struct vslice_region cfg_region = {
		.size = VSLICE_CFG_SIZE,
		.flags = VFIO_REGION_INFO_FLAG_READ |
			 VFIO_REGION_INFO_FLAG_WRITE,
		.ops = &vslice_core_cfg_ops,
	};

	cdev->stats.trapped = alloc_percpu(u64);
	if (!cdev->stats.trapped)
		return -ENOMEM;
	mutex_init(&cdev->lock);
	seqcount_mutex_init(&cdev->seq, &cdev->lock);
	spin_lock_init(&cdev->irq.lock);
	cdev->irq.type = VFIO_PCI_NUM_IRQS;
	init_rwsem(&cdev->memory_lock);
	mutex_init(&cdev->mig_lock);
	mutex_init(&cdev->dma_lock);
	cdev->mig_state = VFIO_DEVICE_STATE_RUNNING;
	cdev->model = model;
	/* All PCI region indexes exist, absent ones with size 0. */
	cdev->num_regions = VFIO_PCI_NUM_REGIONS;
	vslice_core_set_region(cdev, VFIO_PCI_CONFIG_REGION_INDEX, &cfg_region);
	return 0;
}

/**
 * vslice_core_counts() - the device's counters so far
 * @cdev: device
 * @counts: filled in; trapped is the sum of the per-CPU counts
 */
void vslice_core_counts(struct vslice_core_dev *cdev,
			struct vslice_core_counts *counts)
{
	int cpu;

	counts->trapped = 0;
	for_each_possible_cpu(cpu)
		counts->trapped += *per_cpu_ptr(cdev->stats.trapped, cpu);
	counts->resets = atomic64_read(&cdev->stats.resets);
	counts->opens = atomic64_read(&cdev->stats.opens);
	counts->irqs = vslice_irq_signalled(cdev);
}

static int vslice_core_trapped_get(void *data, u64 *val)
{
	struct vslice_core_counts c;

	vslice_core_counts(data, &c);
	*val = c.trapped;
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vslice_core_trapped_fops, vslice_core_trapped_get,
			 NULL, "%llu\n");

static int vslice_core_resets_get(void *data, u64 *val)
{
	struct vslice_core_counts c;

	vslice_core_counts(data, &c);
	*val = c.resets;
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vslice_core_resets_fops, vslice_core_resets_get,
			 NULL, "%llu\n");

/**
 * vslice_core_debugfs_add() - the device's debugging counters in debugfs
 * @cdev: device
 * @dir: the model's debugfs directory for the device
 *
 * Adds "trapped" (trapped accesses) and "resets" (VFIO_DEVICE_RESET
 * calls), read-only.  They are for debugging, not for management, so
 * they are not sysfs ABI.  The model removes @dir before the device is
 * freed; debugfs waits for readers as it does.
 */
void vslice_core_debugfs_add(struct vslice_core_dev *cdev, struct dentry *dir)
{
	debugfs_create_file_unsafe("trapped", 0444, dir, cdev,
				   &vslice_core_trapped_fops);
	debugfs_create_file_unsafe("resets", 0444, dir, cdev,
				   &vslice_core_resets_fops);
}

/* Power-on state of everything the user can see: config and model. */
static void vslice_core_reset_locked(struct vslice_core_dev *cdev)
{
	lockdep_assert_held(&cdev->lock);

	vslice_cfg_reset(&cdev->cfg);
	vslice_irq_reset_locked(cdev);
	if (cdev->model->reset)
		cdev->model->reset(cdev);
}

/**
 * vslice_core_open_device() - vfio @open_device op
 * @vdev: device
 *
 * Every new user finds the device as after a reset.
 *
 * Return: 0 or the model's error.
 */
static int vslice_core_open_device(struct vfio_device *vdev)
{
	struct vslice_core_dev *cdev = vslice_core_from_vdev(vdev);
	int ret;

	/* no mapping exists yet: the first open has no file before it */
	down_write(&cdev->memory_lock);
	vslice_core_lock(cdev);
	vslice_core_reset_locked(cdev);
	vslice_core_unlock(cdev);
	up_write(&cdev->memory_lock);

	if (cdev->model->open) {
		ret = cdev->model->open(cdev);
		if (ret)
			return ret;
	}
	atomic64_inc(&cdev->stats.opens);
	return 0;
}

/**
 * vslice_core_close_device() - vfio @close_device op
 * @vdev: device
 *
 * Drops what the user installed (eventfds) and tells the model.
 */
static void vslice_core_close_device(struct vfio_device *vdev)
{
	struct vslice_core_dev *cdev = vslice_core_from_vdev(vdev);

	vslice_mig_reset(cdev);
	if (cdev->model->close)
		cdev->model->close(cdev);
	vslice_irq_release(cdev);
}

/**
 * vslice_core_mmap() - vfio @mmap op
 * @vdev: device
 * @vma: new mapping
 *
 * Return: 0 or a negative errno.
 */
static int vslice_core_mmap(struct vfio_device *vdev,
			    struct vm_area_struct *vma)
{
	return vslice_region_mmap(vslice_core_from_vdev(vdev), vma);
}

/**
 * vslice_core_dma_unmap() - vfio @dma_unmap op
 * @vdev: device
 * @iova: start of the range the user unmapped from the device's IOMMU
 * @length: its length
 *
 * A copy in progress ends first (the only time the core pins pages); the
 * model drops whatever it holds of the range.
 */
static void vslice_core_dma_unmap(struct vfio_device *vdev, u64 iova,
				  u64 length)
{
	struct vslice_core_dev *cdev = vslice_core_from_vdev(vdev);

	vslice_dma_unmap(cdev);
	if (cdev->model->dma_unmap)
		cdev->model->dma_unmap(cdev, iova, length);
}

/**
 * vslice_core_request() - vfio @request op
 * @vdev: device being removed while in use
 * @count: number of requests so far
 */
static void vslice_core_request(struct vfio_device *vdev, unsigned int count)
{
	vslice_irq_request(vslice_core_from_vdev(vdev), count);
}

/**
 * vslice_core_region_info_caps() - vfio @get_region_info_caps op
 * @vdev: device
 * @info: region info; the core copied it in and checked argsz
 * @caps: capability chain
 *
 * Only kernels with the op call this directly; older ones reach the same
 * helper through VFIO_DEVICE_GET_REGION_INFO in vslice_core_ioctl().
 *
 * Return: 0 or a negative errno.
 */
static int __maybe_unused
vslice_core_region_info_caps(struct vfio_device *vdev,
			     struct vfio_region_info *info,
			     struct vfio_info_cap *caps)
{
	return vslice_region_info(vslice_core_from_vdev(vdev), info, caps);
}

static int vslice_core_ioctl_get_info(struct vslice_core_dev *cdev,
				      void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = cdev->num_regions;
	info.num_irqs = VFIO_PCI_NUM_IRQS;

	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

/*
 * A reset tears the user mappings of device memory down, as vfio-pci's
 * does; they fault back in afterwards (memory decoding is on after a
 * reset, see vslice_cfg_init()).
 */
static int vslice_core_ioctl_reset(struct vslice_core_dev *cdev)
{
	vslice_mig_reset(cdev);
	down_write(&cdev->memory_lock);
	vslice_region_zap(cdev);
	vslice_core_lock(cdev);
	vslice_core_reset_locked(cdev);
	vslice_core_unlock(cdev);
	up_write(&cdev->memory_lock);
	atomic64_inc(&cdev->stats.resets);
	return 0;
}

/*
 * Region planes only: the model describes the scanout, the display
 * region maps it.  A probe for dma-buf planes is refused.
 */
static int vslice_core_ioctl_query_plane(struct vslice_core_dev *cdev,
					 void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_gfx_plane_info,
					  region_index);
	struct vfio_device_gfx_plane_info plane, out;
	struct vslice_plane p = { 0 };
	int ret;

	if (!cdev->model->query_plane)
		return -ENOTTY;
	if (copy_from_user(&plane, arg, minsz))
		return -EFAULT;
	if (plane.argsz < minsz)
		return -EINVAL;

	if (plane.flags & VFIO_GFX_PLANE_TYPE_PROBE)
		return plane.flags == (VFIO_GFX_PLANE_TYPE_PROBE |
				       VFIO_GFX_PLANE_TYPE_REGION) ? 0 : -EINVAL;
	if (plane.flags != VFIO_GFX_PLANE_TYPE_REGION)
		return -EINVAL;

	/* Outputs start at zero: an empty plane unless the model fills it. */
	p.drm_plane_type = plane.drm_plane_type;
	ret = cdev->model->query_plane(cdev, &p);
	if (ret)
		return ret;
	memset(&out, 0, sizeof(out));
	out.argsz = plane.argsz;
	out.flags = plane.flags;
	out.drm_plane_type = plane.drm_plane_type;
	out.drm_format = p.drm_format;
	out.width = p.width;
	out.height = p.height;
	out.stride = p.stride;
	out.size = p.size;
	out.region_index = p.region_index;

	return copy_to_user(arg, &out, minsz) ? -EFAULT : 0;
}

/**
 * vslice_core_ioctl() - vfio @ioctl op
 * @vdev: device
 * @cmd: VFIO_DEVICE_* command
 * @arg: user pointer to the command's struct
 *
 * One helper per command; each copies in its minimal size, checks argsz
 * and copies back only what it filled.
 *
 * Return: 0 or a negative errno; -ENOTTY for an unknown command.
 */
static long vslice_core_ioctl(struct vfio_device *vdev, unsigned int cmd,
			      unsigned long arg)
{
	struct vslice_core_dev *cdev = vslice_core_from_vdev(vdev);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return vslice_core_ioctl_get_info(cdev, uarg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return vslice_region_ioctl_info(cdev, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return vslice_irq_get_info(cdev, uarg);
	case VFIO_DEVICE_SET_IRQS:
		return vslice_irq_set(cdev, uarg);
	case VFIO_DEVICE_RESET:
		return vslice_core_ioctl_reset(cdev);
	case VFIO_DEVICE_QUERY_GFX_PLANE:
		return vslice_core_ioctl_query_plane(cdev, uarg);
	}
	return -ENOTTY;
}

/**
 * vslice_core_release() - vfio @release op
 * @vdev: device whose last reference is gone
 *
 * The model frees its part; the memory of the device itself goes with
 * the vfio core (or here, on kernels where the core does not free it).
 */
static void vslice_core_release(struct vfio_device *vdev)
{
	struct vslice_core_dev *cdev = vslice_core_from_vdev(vdev);

	/* A device that failed before vslice_core_init() has no model. */
	if (cdev->model) {
		mutex_destroy(&cdev->mig_lock);
		mutex_destroy(&cdev->dma_lock);
		mutex_destroy(&cdev->lock);
		free_percpu(cdev->stats.trapped);
		/* Last: it may drop what keeps the model's module loaded. */
		if (cdev->model->release)
			cdev->model->release(cdev);
	}
	vslice_compat_free_device(vdev);
}

const struct vfio_device_ops vslice_core_vfio_ops = {
	.name		= "vslice",
	.release	= vslice_core_release,
	.open_device	= vslice_core_open_device,
	.close_device	= vslice_core_close_device,
	.read		= vslice_region_read,
	.write		= vslice_region_write,
	.ioctl		= vslice_core_ioctl,
	.mmap		= vslice_core_mmap,
	.request	= vslice_core_request,
	.dma_unmap	= vslice_core_dma_unmap,
	VSLICE_COMPAT_IOMMUFD_OPS
#if VSLICE_HAVE_REGION_INFO_OP
	.get_region_info_caps = vslice_core_region_info_caps,
#endif
};
