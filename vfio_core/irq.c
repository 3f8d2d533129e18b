// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice interrupt plumbing.
 *
 * The emulated functions raise no device interrupts: INTx, MSI and MSI-X
 * report zero vectors.  The one index in use is the request interrupt,
 * an eventfd the core signals when the device is being removed while a
 * user still holds it, so that the user can let go (as vfio-pci does).
 */

#include <linux/eventfd.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "private.h"

/* Replace the request eventfd; @ctx may be NULL. */
static void vslice_irq_req_replace_locked(struct vslice_core_dev *cdev,
					  struct eventfd_ctx *ctx)
{
	lockdep_assert_held(&cdev->lock);

	if (cdev->req_trigger)
		eventfd_ctx_put(cdev->req_trigger);
	cdev->req_trigger = ctx;
}

/**
 * vslice_irq_release() - drop the eventfds a user installed
 * @cdev: device
 *
 * Called on the last close, so the next user starts without them.
 */
void vslice_irq_release(struct vslice_core_dev *cdev)
{
	mutex_lock(&cdev->lock);
	vslice_irq_req_replace_locked(cdev, NULL);
	mutex_unlock(&cdev->lock);
}

/**
 * vslice_irq_request() - ask the user to release the device
 * @cdev: device
 * @count: how many times the vfio core has asked already
 *
 * Signals the request eventfd if the user installed one; otherwise says
 * in the log who is holding up the removal.
 */
void vslice_irq_request(struct vslice_core_dev *cdev, unsigned int count)
{
	struct device *dev = cdev->vdev.dev;

	mutex_lock(&cdev->lock);
	if (cdev->req_trigger) {
		if (!(count % 10))
			dev_notice_ratelimited(dev,
					       "Relaying device request to user (#%u)\n",
					       count);
		vslice_compat_eventfd_signal(cdev->req_trigger);
	} else if (count == 0) {
		dev_notice(dev,
			   "No device request channel registered, blocked until released by user\n");
	}
	mutex_unlock(&cdev->lock);
}

/**
 * vslice_irq_get_info() - answer VFIO_DEVICE_GET_IRQ_INFO
 * @cdev: device
 * @arg: user's struct vfio_irq_info
 *
 * Return: 0 or a negative errno.
 */
int vslice_irq_get_info(struct vslice_core_dev *cdev, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	if (info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;

	info.flags = 0;
	info.count = 0;
	if (info.index == VFIO_PCI_REQ_IRQ_INDEX) {
		info.flags = VFIO_IRQ_INFO_EVENTFD;
		info.count = 1;
	}

	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

/* One trigger action on the request index, as vfio-pci defines it. */
static int vslice_irq_set_req_locked(struct vslice_core_dev *cdev,
				     const struct vfio_irq_set *hdr,
				     const void *data)
{
	struct eventfd_ctx *ctx;
	s32 fd;

	lockdep_assert_held(&cdev->lock);

	switch (hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		/* count 1 fires the eventfd (loopback test), 0 disables it */
		if (!cdev->req_trigger)
			return -EINVAL;
		if (hdr->count)
			vslice_compat_eventfd_signal(cdev->req_trigger);
		else
			vslice_irq_req_replace_locked(cdev, NULL);
		return 0;
	case VFIO_IRQ_SET_DATA_BOOL:
		if (!hdr->count)
			return -EINVAL;
		if (*(const u8 *)data && cdev->req_trigger)
			vslice_compat_eventfd_signal(cdev->req_trigger);
		return 0;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		if (!hdr->count)
			return -EINVAL;
		fd = *(const s32 *)data;
		if (fd == -1) {
			vslice_irq_req_replace_locked(cdev, NULL);
			return 0;
		}
		if (fd < 0)
			return -EINVAL;
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		vslice_irq_req_replace_locked(cdev, ctx);
		return 0;
	}
	return -EINVAL;
}

/**
 * vslice_irq_set() - answer VFIO_DEVICE_SET_IRQS
 * @cdev: device
 * @arg: user's struct vfio_irq_set followed by its data
 *
 * Everything is validated before anything changes.  Only the request
 * index accepts an action, and only ACTION_TRIGGER; every other index has
 * no vectors and refuses with -EINVAL.
 *
 * Return: 0 or a negative errno.
 */
int vslice_irq_set(struct vslice_core_dev *cdev, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;
	size_t data_size = 0;
	void *data = NULL;
	int max;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;

	max = hdr.index == VFIO_PCI_REQ_IRQ_INDEX ? 1 : 0;
	ret = vfio_set_irqs_validate_and_prepare(&hdr, max, VFIO_PCI_NUM_IRQS,
						 &data_size);
	if (ret)
		return ret;
	if (hdr.index != VFIO_PCI_REQ_IRQ_INDEX ||
	    (hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) !=
	    VFIO_IRQ_SET_ACTION_TRIGGER)
		return -EINVAL;

	if (data_size) {
		data = memdup_user(arg + minsz, data_size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}

	mutex_lock(&cdev->lock);
	ret = vslice_irq_set_req_locked(cdev, &hdr, data);
	mutex_unlock(&cdev->lock);

	kfree(data);
	return ret;
}
