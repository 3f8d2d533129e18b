// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice interrupt plumbing.
 *
 * A model says which interrupts its function has (vslice_core_irq_init():
 * INTx, a single MSI vector, or both) and raises and lowers its one
 * interrupt line (vslice_core_irq_raise()/_lower()); the core turns that
 * into the eventfds the user installed with VFIO_DEVICE_SET_IRQS, with
 * vfio-pci's semantics: INTx is level-triggered and masks itself when it
 * fires, so an interrupt still asserted fires again on unmask; MSI fires
 * on each raise; only one of them is enabled at a time.  MSI-X has no
 * vectors.  The request interrupt is an eventfd the core signals when the
 * device is being removed while a user still holds it, so that the user
 * can let go (as vfio-pci does).
 */

#include <linux/eventfd.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

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
 * vslice_core_irq_init() - say which interrupts the function has
 * @cdev: device, after vslice_core_init()
 * @caps: VSLICE_IRQ_INTX and/or VSLICE_IRQ_MSI
 *
 * The config space must agree: an interrupt pin for INTx, the MSI
 * capability (&struct vslice_cfg_desc.msi) for MSI.
 */
void vslice_core_irq_init(struct vslice_core_dev *cdev, u32 caps)
{
	cdev->irq.caps = caps;
}

/* Signal the enabled interrupt's eventfd. */
static void vslice_irq_signal(struct vslice_core_irq *irq)
{
	lockdep_assert_held(&irq->lock);
	vslice_compat_eventfd_signal(irq->trigger);
	irq->signalled++;
}

/*
 * INTx fires if asserted, unmasked and not disabled in the command
 * register, and masks itself (AUTOMASKED).
 */
static void vslice_irq_intx_check(struct vslice_core_irq *irq)
{
	lockdep_assert_held(&irq->lock);
	if (irq->type == VFIO_PCI_INTX_IRQ_INDEX && irq->level &&
	    !irq->masked && !irq->disabled) {
		irq->masked = true;
		vslice_irq_signal(irq);
	}
}

/**
 * vslice_core_irq_raise() - the model asserts its interrupt
 * @cdev: device
 *
 * With MSI enabled, a message per call; with INTx, the line goes (or
 * stays) high and fires unless masked.  Any context.
 */
void vslice_core_irq_raise(struct vslice_core_dev *cdev)
{
	struct vslice_core_irq *irq = &cdev->irq;
	unsigned long flags;

	spin_lock_irqsave(&irq->lock, flags);
	irq->level = true;
	if (irq->type == VFIO_PCI_MSI_IRQ_INDEX)
		vslice_irq_signal(irq);
	else
		vslice_irq_intx_check(irq);
	spin_unlock_irqrestore(&irq->lock, flags);
}

/**
 * vslice_core_irq_lower() - the model deasserts its interrupt
 * @cdev: device
 *
 * Any context.
 */
void vslice_core_irq_lower(struct vslice_core_dev *cdev)
{
	unsigned long flags;

	spin_lock_irqsave(&cdev->irq.lock, flags);
	cdev->irq.level = false;
	spin_unlock_irqrestore(&cdev->irq.lock, flags);
}

/**
 * vslice_core_irq_restore() - set the line as a migrated state had it
 * @cdev: device, resuming
 * @level: the interrupt was asserted
 *
 * Signals nothing: an interrupt signalled before the move was delivered
 * there.  An asserted INTx fires when the user enables or unmasks it.
 */
void vslice_core_irq_restore(struct vslice_core_dev *cdev, bool level)
{
	unsigned long flags;

	spin_lock_irqsave(&cdev->irq.lock, flags);
	cdev->irq.level = level;
	spin_unlock_irqrestore(&cdev->irq.lock, flags);
}

/**
 * vslice_irq_cfg_changed_locked() - the config space changed under the user
 * @cdev: device, locked; its command register was written, reset or
 *	  migrated in
 *
 * The command register's INTx disable bit gates INTx, as on a PCI 2.3
 * function (what uio_pci_generic and vfio-pci's INTx masking rely on):
 * an asserted, unmasked line fires when it is cleared.
 */
void vslice_irq_cfg_changed_locked(struct vslice_core_dev *cdev)
{
	struct vslice_core_irq *irq = &cdev->irq;
	u16 cmd = le16_to_cpup((__le16 *)&cdev->cfg.val[PCI_COMMAND]);
	unsigned long flags;

	lockdep_assert_held(&cdev->lock);
	spin_lock_irqsave(&irq->lock, flags);
	irq->disabled = cmd & PCI_COMMAND_INTX_DISABLE;
	vslice_irq_intx_check(irq);
	spin_unlock_irqrestore(&irq->lock, flags);
}

/**
 * vslice_irq_status_byte() - the low byte of the status register, live
 * @cdev: device
 * @stored: that byte as the config space holds it
 *
 * The interrupt status bit is not stored: it shows the model's INTx line,
 * asserted unless MSI is enabled (then the function signals by message),
 * whether INTx is disabled or masked, as on a PCI 2.3 function.
 *
 * Return: @stored with the interrupt status bit.
 */
u8 vslice_irq_status_byte(struct vslice_core_dev *cdev, u8 stored)
{
	struct vslice_core_irq *irq = &cdev->irq;
	unsigned long flags;
	bool pending;

	spin_lock_irqsave(&irq->lock, flags);
	pending = irq->level && irq->type != VFIO_PCI_MSI_IRQ_INDEX &&
		  (irq->caps & VSLICE_IRQ_INTX);
	spin_unlock_irqrestore(&irq->lock, flags);
	stored &= ~PCI_STATUS_INTERRUPT;
	return pending ? stored | PCI_STATUS_INTERRUPT : stored;
}

/**
 * vslice_irq_signalled() - interrupts signalled to users so far
 * @cdev: device
 *
 * Return: the count.
 */
u64 vslice_irq_signalled(struct vslice_core_dev *cdev)
{
	unsigned long flags;
	u64 n;

	spin_lock_irqsave(&cdev->irq.lock, flags);
	n = cdev->irq.signalled;
	spin_unlock_irqrestore(&cdev->irq.lock, flags);
	return n;
}

/* Unmask INTx; it fires again at once if still asserted. */
static void vslice_irq_intx_unmask(struct vslice_core_irq *irq)
{
	unsigned long flags;

	spin_lock_irqsave(&irq->lock, flags);
	irq->masked = false;
	vslice_irq_intx_check(irq);
	spin_unlock_irqrestore(&irq->lock, flags);
}

/*
 * The unmask eventfd's handler runs in that eventfd's wakeup, which may
 * come from a signal sent under @irq->lock: it takes nothing and leaves
 * the unmask to vslice_irq_unmask_thread(), in a workqueue.
 */
static int vslice_irq_unmask_handler(void *opaque, void *data)
{
	return 1;
}

static void vslice_irq_unmask_thread(void *opaque, void *data)
{
	vslice_irq_intx_unmask(opaque);
}

/* Stop listening to the unmask eventfd. */
static void vslice_irq_unmask_disable(struct vslice_core_irq *irq)
{
	vfio_virqfd_disable(&irq->unmask);
	if (irq->unmask_ctx)
		eventfd_ctx_put(irq->unmask_ctx);
	irq->unmask_ctx = NULL;
}

/*
 * Enable @type with @ctx as its eventfd (taking the reference), or, with
 * @ctx NULL, disable whatever is enabled.  The MSI capability's enable
 * bit follows.
 */
static void vslice_irq_switch_locked(struct vslice_core_dev *cdev,
				     unsigned int type,
				     struct eventfd_ctx *ctx)
{
	struct vslice_core_irq *irq = &cdev->irq;
	struct eventfd_ctx *old;
	unsigned long flags;

	lockdep_assert_held(&cdev->lock);
	if (!ctx || type != VFIO_PCI_INTX_IRQ_INDEX)
		vslice_irq_unmask_disable(irq);

	spin_lock_irqsave(&irq->lock, flags);
	old = irq->trigger;
	irq->trigger = ctx;
	irq->type = ctx ? type : VFIO_PCI_NUM_IRQS;
	irq->masked = false;
	vslice_irq_intx_check(irq);
	spin_unlock_irqrestore(&irq->lock, flags);
	if (old)
		eventfd_ctx_put(old);

	if (irq->caps & VSLICE_IRQ_MSI) {
		u8 *ctl = &cdev->cfg.val[VSLICE_CFG_MSI_POS + PCI_MSI_FLAGS];

		write_seqcount_begin(&cdev->seq);
		if (irq->type == VFIO_PCI_MSI_IRQ_INDEX)
			*ctl |= PCI_MSI_FLAGS_ENABLE;
		else
			*ctl &= ~PCI_MSI_FLAGS_ENABLE;
		write_seqcount_end(&cdev->seq);
	}
}

/**
 * vslice_irq_reset_locked() - a reset cleared the config space
 * @cdev: device, locked
 *
 * The interrupts the user set up stay (as with vfio-pci); the MSI
 * capability says so again.
 */
void vslice_irq_reset_locked(struct vslice_core_dev *cdev)
{
	lockdep_assert_held(&cdev->lock);
	if (cdev->irq.type == VFIO_PCI_MSI_IRQ_INDEX)
		cdev->cfg.val[VSLICE_CFG_MSI_POS + PCI_MSI_FLAGS] |=
			PCI_MSI_FLAGS_ENABLE;
	vslice_irq_cfg_changed_locked(cdev);
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
	if (cdev->irq.type != VFIO_PCI_NUM_IRQS)
		vslice_irq_switch_locked(cdev, VFIO_PCI_NUM_IRQS, NULL);
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

/* Vectors of IRQ index @index. */
static unsigned int vslice_irq_count(struct vslice_core_dev *cdev,
				     unsigned int index)
{
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		return !!(cdev->irq.caps & VSLICE_IRQ_INTX);
	case VFIO_PCI_MSI_IRQ_INDEX:
		return !!(cdev->irq.caps & VSLICE_IRQ_MSI);
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	}
	return 0;
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

	info.count = vslice_irq_count(cdev, info.index);
	info.flags = 0;
	if (info.count)
		info.flags = VFIO_IRQ_INFO_EVENTFD;
	if (info.count && info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE |
			      VFIO_IRQ_INFO_AUTOMASKED;
	if (info.count && info.index == VFIO_PCI_MSI_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_NORESIZE;

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

/* Does the header carry one "fire" (DATA_NONE, or a true DATA_BOOL)? */
static bool vslice_irq_fire(const struct vfio_irq_set *hdr, const void *data)
{
	if (hdr->flags & VFIO_IRQ_SET_DATA_NONE)
		return true;
	return (hdr->flags & VFIO_IRQ_SET_DATA_BOOL) && *(const u8 *)data;
}

/* ACTION_TRIGGER on INTx or MSI, as vfio-pci's set_intx/msi_trigger. */
static int vslice_irq_set_trigger_locked(struct vslice_core_dev *cdev,
					 const struct vfio_irq_set *hdr,
					 const void *data)
{
	struct vslice_core_irq *irq = &cdev->irq;
	struct eventfd_ctx *ctx;
	unsigned long flags;
	bool mine = irq->type == hdr->index;
	s32 fd;

	if (mine && !hdr->count && (hdr->flags & VFIO_IRQ_SET_DATA_NONE)) {
		vslice_irq_switch_locked(cdev, VFIO_PCI_NUM_IRQS, NULL);
		return 0;
	}
	/* one at a time: the other must be disabled first */
	if (!mine && irq->type != VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	if (!hdr->count)
		return -EINVAL;

	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		fd = *(const s32 *)data;
		if (fd == -1) {
			if (mine)
				vslice_irq_switch_locked(cdev,
							 VFIO_PCI_NUM_IRQS,
							 NULL);
			return 0;
		}
		if (fd < 0)
			return -EINVAL;
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		/* trigger and unmask on one eventfd would refire for ever */
		if (ctx == irq->unmask_ctx) {
			eventfd_ctx_put(ctx);
			return -EINVAL;
		}
		vslice_irq_switch_locked(cdev, hdr->index, ctx);
		return 0;
	}

	/* loopback: fire the eventfd of the enabled interrupt */
	if (!mine)
		return -EINVAL;
	if (vslice_irq_fire(hdr, data)) {
		spin_lock_irqsave(&irq->lock, flags);
		vslice_compat_eventfd_signal(irq->trigger);
		spin_unlock_irqrestore(&irq->lock, flags);
	}
	return 0;
}

/* ACTION_MASK and ACTION_UNMASK of INTx. */
static int vslice_irq_set_intx_mask_locked(struct vslice_core_dev *cdev,
					   const struct vfio_irq_set *hdr,
					   const void *data, bool unmask)
{
	struct vslice_core_irq *irq = &cdev->irq;
	struct eventfd_ctx *ctx;
	unsigned long flags;
	s32 fd;
	int ret;

	if (irq->type != VFIO_PCI_INTX_IRQ_INDEX || hdr->count != 1)
		return -EINVAL;

	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		if (!unmask)
			return -ENOTTY;	/* as vfio-pci: no mask eventfd */
		fd = *(const s32 *)data;
		vslice_irq_unmask_disable(irq);
		if (fd < 0)
			return 0;
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		/* trigger and unmask on one eventfd would refire for ever */
		if (ctx == irq->trigger) {
			eventfd_ctx_put(ctx);
			return -EINVAL;
		}
		ret = vfio_virqfd_enable(irq, vslice_irq_unmask_handler,
					 vslice_irq_unmask_thread, NULL,
					 &irq->unmask, fd);
		if (ret) {
			eventfd_ctx_put(ctx);
			return ret;
		}
		irq->unmask_ctx = ctx;
		return 0;
	}
	if (!vslice_irq_fire(hdr, data))
		return 0;
	if (unmask) {
		vslice_irq_intx_unmask(irq);
	} else {
		spin_lock_irqsave(&irq->lock, flags);
		irq->masked = true;
		spin_unlock_irqrestore(&irq->lock, flags);
	}
	return 0;
}

/* One action on the model's INTx or MSI index. */
static int vslice_irq_set_model_locked(struct vslice_core_dev *cdev,
				       const struct vfio_irq_set *hdr,
				       const void *data)
{
	switch (hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) {
	case VFIO_IRQ_SET_ACTION_TRIGGER:
		return vslice_irq_set_trigger_locked(cdev, hdr, data);
	case VFIO_IRQ_SET_ACTION_MASK:
	case VFIO_IRQ_SET_ACTION_UNMASK:
		if (hdr->index != VFIO_PCI_INTX_IRQ_INDEX)
			return -EINVAL;
		return vslice_irq_set_intx_mask_locked(cdev, hdr, data,
					hdr->flags & VFIO_IRQ_SET_ACTION_UNMASK);
	}
	return -EINVAL;
}

/**
 * vslice_irq_set() - answer VFIO_DEVICE_SET_IRQS
 * @cdev: device
 * @arg: user's struct vfio_irq_set followed by its data
 *
 * Everything is validated before anything changes.  The request index
 * takes ACTION_TRIGGER; INTx and MSI, where the model has them, take what
 * vfio-pci's do; an index without vectors refuses with -EINVAL.
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

	max = hdr.index < VFIO_PCI_NUM_IRQS ? vslice_irq_count(cdev, hdr.index)
					    : 0;
	ret = vfio_set_irqs_validate_and_prepare(&hdr, max, VFIO_PCI_NUM_IRQS,
						 &data_size);
	if (ret)
		return ret;
	if (!max || (hdr.index == VFIO_PCI_REQ_IRQ_INDEX &&
		     (hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) !=
		     VFIO_IRQ_SET_ACTION_TRIGGER))
		return -EINVAL;

	if (data_size) {
		data = memdup_user(arg + minsz, data_size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}

	mutex_lock(&cdev->lock);
	if (hdr.index == VFIO_PCI_REQ_IRQ_INDEX)
		ret = vslice_irq_set_req_locked(cdev, &hdr, data);
	else
		ret = vslice_irq_set_model_locked(cdev, &hdr, data);
	mutex_unlock(&cdev->lock);

	kfree(data);
	return ret;
}
