// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice scanout: the physical screen shows one instance.
 *
 * /sys/bus/pci/devices/BDF/vslice/scanout holds "none" or the UUID of an
 * instance of this parent.  While an instance is on screen, every change
 * of its display registers is mirrored into the real bochs-display: same
 * mode, same byte order, and the scanout offset moved by the slice's place
 * in VRAM.  The DISPI offsets are 16-bit (lines of the virtual width, and
 * pixels), so a slice too far into VRAM for its mode cannot be shown: the
 * write that would show it is refused (-ERANGE), and if a later mode
 * change makes it unshowable, the screen goes dark until it is showable
 * again.
 *
 * Locking: the parent's lock protects @scanout; the instance's lock
 * protects its @on_screen flag and is held whenever the hardware is
 * programmed, so only the instance on screen touches the registers, in
 * the order of its own register writes.
 */

#include <linux/io.h>
#include <linux/sysfs.h>
#include <linux/uuid.h>

#include "vslice.h"

static void vslice_scanout_dispi(struct vslice_parent *parent, u16 index,
				 u16 val)
{
	writew(val, parent->mmio + VSLICE_DISPI_OFFSET + index * 2);
}

static void vslice_scanout_dark(struct vslice_parent *parent)
{
	vslice_scanout_dispi(parent, VSLICE_DISPI_ENABLE, 0);
}

/*
 * Mirror @inst's scanout to the hardware.  Returns -ERANGE (and leaves
 * the screen dark) when its place in VRAM is out of the registers' reach.
 */
static int vslice_scanout_program_locked(struct vslice_inst *inst)
{
	struct vslice_parent *parent = inst->parent;
	struct vslice_mode mode;
	u32 bytepp, x, y;
	u64 at;

	vslice_core_assert_held(&inst->core);

	vslice_scanout_dark(parent);
	if (vslice_display_mode_locked(inst, &mode) != VSLICE_SCANOUT_ON)
		return 0;

	bytepp = mode.bpp / 8;
	at = inst->slice.offset + mode.offset;
	y = div_u64_rem(at, mode.stride, &x);
	x /= bytepp;
	if (y > U16_MAX || mode.stride / bytepp > U16_MAX)
		return -ERANGE;

	writel(inst->regs.big_endian_fb ? VSLICE_QEXT_BIG_ENDIAN :
					  VSLICE_QEXT_LITTLE_ENDIAN,
	       parent->mmio + VSLICE_QEXT_OFFSET + VSLICE_QEXT_REG_BYTEORDER);
	vslice_scanout_dispi(parent, VSLICE_DISPI_BPP, mode.bpp);
	vslice_scanout_dispi(parent, VSLICE_DISPI_XRES, mode.width);
	vslice_scanout_dispi(parent, VSLICE_DISPI_YRES, mode.height);
	vslice_scanout_dispi(parent, VSLICE_DISPI_BANK, 0);
	vslice_scanout_dispi(parent, VSLICE_DISPI_VIRT_WIDTH,
			     mode.stride / bytepp);
	vslice_scanout_dispi(parent, VSLICE_DISPI_VIRT_HEIGHT,
			     min_t(u64, parent->vram_size / mode.stride,
				   U16_MAX));
	vslice_scanout_dispi(parent, VSLICE_DISPI_X_OFFSET, x);
	vslice_scanout_dispi(parent, VSLICE_DISPI_Y_OFFSET, y);
	vslice_scanout_dispi(parent, VSLICE_DISPI_ENABLE,
			     VSLICE_DISPI_ENABLED | VSLICE_DISPI_LFB_ENABLED);
	return 0;
}

/**
 * vslice_scanout_update_locked() - the instance's display registers changed
 * @inst: instance, locked
 *
 * Follows the change on the physical screen if @inst is on it.
 */
void vslice_scanout_update_locked(struct vslice_inst *inst)
{
	vslice_core_assert_held(&inst->core);
	if (inst->on_screen)
		vslice_scanout_program_locked(inst);
}

/* Take @old (may be NULL) off the screen and put @new (may be NULL) on. */
static int vslice_scanout_switch_locked(struct vslice_parent *parent,
					struct vslice_inst *new)
{
	struct vslice_inst *old = parent->scanout;
	int ret = 0;

	lockdep_assert_held(&parent->lock);

	if (old) {
		vslice_core_lock(&old->core);
		old->on_screen = false;
		vslice_scanout_dark(parent);
		vslice_core_unlock(&old->core);
		parent->scanout = NULL;
	}
	if (!new)
		return 0;

	vslice_core_lock(&new->core);
	ret = vslice_scanout_program_locked(new);
	if (!ret)
		new->on_screen = true;
	vslice_core_unlock(&new->core);
	if (!ret)
		parent->scanout = new;
	return ret;
}

/**
 * vslice_scanout_detach_locked() - an instance is going away
 * @inst: instance being removed; its parent is locked
 *
 * Takes it off the screen if it was on it.
 */
void vslice_scanout_detach_locked(struct vslice_inst *inst)
{
	if (inst->parent->scanout == inst)
		vslice_scanout_switch_locked(inst->parent, NULL);
}

static ssize_t scanout_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct vslice_parent *parent = pci_get_drvdata(to_pci_dev(dev));
	ssize_t len;

	mutex_lock(&parent->lock);
	if (parent->scanout)
		len = sysfs_emit(buf, "%pUl\n", &parent->scanout->mdev->uuid);
	else
		len = sysfs_emit(buf, "none\n");
	mutex_unlock(&parent->lock);
	return len;
}

static ssize_t scanout_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct vslice_parent *parent = pci_get_drvdata(to_pci_dev(dev));
	struct vslice_inst *inst, *found = NULL;
	guid_t uuid;
	int ret;

	if (sysfs_streq(buf, "none")) {
		mutex_lock(&parent->lock);
		vslice_scanout_switch_locked(parent, NULL);
		mutex_unlock(&parent->lock);
		return count;
	}

	/* guid_parse() reads the 36 characters of a UUID, not the newline */
	ret = guid_parse(buf, &uuid);
	if (ret)
		return ret;

	mutex_lock(&parent->lock);
	list_for_each_entry(inst, &parent->insts, node)
		if (guid_equal(&inst->mdev->uuid, &uuid))
			found = inst;
	ret = found ? vslice_scanout_switch_locked(parent, found) : -ENODEV;
	mutex_unlock(&parent->lock);
	return ret ? ret : count;
}
DEVICE_ATTR_RW(scanout);
