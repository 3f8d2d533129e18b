// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice instances: the mdev driver.
 *
 * create: allocate the vfio device, admit it (the policy, then the
 * parent's model: a clean VRAM slice for a bochs-display), build the
 * model's device, register.  remove: unregister (the vfio core asks the
 * user to let go and waits: every mapping of the slice holds the device
 * file, so none is left afterwards), give back what admission took (the
 * slice, to be cleared), drop the device.
 */

#include <linux/debugfs.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/sysfs.h>

#include "vslice.h"

/* Give back what creation took: the model's share, the policy's count. */
static void vslice_inst_release_locked(struct vslice_inst *inst)
{
	struct vslice_parent *parent = inst->parent;

	lockdep_assert_held(&parent->lock);
	if (parent->model->release_locked)
		parent->model->release_locked(inst);
	vslice_policy_release_locked(parent);
}

int vslice_mdev_probe(struct mdev_device *mdev)
{
	struct vslice_parent *parent = vslice_parent_from_mtype(mdev->type);
	struct vslice_type *type = vslice_type_from_mtype(mdev->type);
	struct vslice_inst *inst;
	int ret;

	inst = vslice_core_alloc(vslice_inst, core, &mdev->dev);
	if (IS_ERR(inst))
		return PTR_ERR(inst);
	inst->parent = parent;
	inst->type = type;
	inst->mdev = mdev;
	INIT_LIST_HEAD(&inst->node);

	/* Admission and VRAM together, so that availability never lies. */
	mutex_lock(&parent->lock);
	inst->clear_on_close = parent->clear_on_close;
	ret = vslice_policy_admit_locked(parent, type);
	if (!ret && parent->model->admit_locked) {
		ret = parent->model->admit_locked(inst);
		if (ret)
			vslice_policy_release_locked(parent);
	}
	mutex_unlock(&parent->lock);
	if (ret) {
		dev_info(&mdev->dev, "cannot create a %s instance (%d)\n",
			 type->name, ret);
		goto err_put;
	}

	ret = parent->model->inst_init(inst);
	if (ret)
		goto err_release;

	ret = vslice_core_register(&inst->core);
	if (ret)
		goto err_release;

	dev_set_drvdata(&mdev->dev, inst);
	inst->debugfs = debugfs_create_dir(dev_name(&mdev->dev),
					   vslice_debugfs_root);
	vslice_core_debugfs_add(&inst->core, inst->debugfs);
	mutex_lock(&parent->lock);
	list_add_tail(&inst->node, &parent->insts);
	mutex_unlock(&parent->lock);
	return 0;

err_release:
	mutex_lock(&parent->lock);
	vslice_inst_release_locked(inst);
	mutex_unlock(&parent->lock);
err_put:
	vslice_core_put(&inst->core);
	return ret;
}

/**
 * vslice_inst_close() - the last user of @inst let go
 * @inst: instance
 *
 * Called from the vfio close_device path: every mapping of the device
 * held its file, so nothing maps the slice now, and the next open cannot
 * begin before this returns (the vfio core serialises open and close).
 * With clear_on_close set, the next user finds the slice zeroed.
 */
void vslice_inst_close(struct vslice_inst *inst)
{
	if (READ_ONCE(inst->clear_on_close))
		vslice_pool_clear_slice(&inst->parent->pool, &inst->slice);
}

void vslice_mdev_remove(struct mdev_device *mdev)
{
	struct vslice_inst *inst = dev_get_drvdata(&mdev->dev);
	struct vslice_parent *parent = inst->parent;

	mutex_lock(&parent->lock);
	if (parent->model->inst_remove_locked)
		parent->model->inst_remove_locked(inst);
	list_del_init(&inst->node);
	mutex_unlock(&parent->lock);

	debugfs_remove(inst->debugfs);
	vslice_core_unregister(&inst->core);

	mutex_lock(&parent->lock);
	vslice_inst_release_locked(inst);
	mutex_unlock(&parent->lock);
	vslice_core_put(&inst->core);
}

/*
 * Per-instance attributes, in /sys/bus/mdev/devices/UUID/vslice/.  All
 * read-only but clear_on_close: the slice is fixed for the instance's
 * life, and letting anyone move it would break isolation.
 */
static ssize_t vram_offset_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct vslice_inst *inst = dev_get_drvdata(dev);

	return sysfs_emit(buf, "0x%llx\n", inst->slice.offset);
}
static DEVICE_ATTR_RO(vram_offset);

static ssize_t vram_size_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct vslice_inst *inst = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", inst->slice.size);
}
static DEVICE_ATTR_RO(vram_size);

static ssize_t parent_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct vslice_inst *inst = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", pci_name(inst->parent->pdev));
}
DEVICE_ATTR_RO(parent);

static ssize_t mode_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return vslice_display_mode_show(dev_get_drvdata(dev), buf);
}
static DEVICE_ATTR_RO(mode);

/*
 * First opens so far: management sees whether a VMM has taken the
 * instance.  The debugging counters (trapped accesses, resets) are in
 * debugfs, vslice/UUID/.
 */
static ssize_t opens_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct vslice_inst *inst = dev_get_drvdata(dev);
	struct vslice_core_counts c;

	vslice_core_counts(&inst->core, &c);
	return sysfs_emit(buf, "%llu\n", c.opens);
}
DEVICE_ATTR_RO(opens);

/*
 * Bytes per second the guest dirtied in its VRAM during the last
 * pre-copy pass of a migration: with the rate the stream moves at, what
 * an orchestrator needs to predict the downtime.
 */
static ssize_t migration_dirty_rate_show(struct device *dev,
					 struct device_attribute *attr,
					 char *buf)
{
	struct vslice_inst *inst = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", vslice_core_dirty_rate(&inst->core));
}
static DEVICE_ATTR_RO(migration_dirty_rate);

static ssize_t clear_on_close_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct vslice_inst *inst = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", READ_ONCE(inst->clear_on_close));
}

static ssize_t clear_on_close_store(struct device *dev,
				    struct device_attribute *attr,
				    const char *buf, size_t count)
{
	struct vslice_inst *inst = dev_get_drvdata(dev);
	bool on;
	int ret;

	ret = kstrtobool(buf, &on);
	if (ret)
		return ret;
	WRITE_ONCE(inst->clear_on_close, on);
	return count;
}
static DEVICE_ATTR_RW(clear_on_close);

static struct attribute *vslice_inst_attrs[] = {
	&dev_attr_vram_offset.attr,
	&dev_attr_vram_size.attr,
	&dev_attr_parent.attr,
	&dev_attr_mode.attr,
	&dev_attr_opens.attr,
	&dev_attr_migration_dirty_rate.attr,
	&dev_attr_clear_on_close.attr,
	NULL
};

static const struct attribute_group vslice_inst_group = {
	.name	= VSLICE_NAME,
	.attrs	= vslice_inst_attrs,
};

static const struct attribute_group *vslice_inst_groups[] = {
	&vslice_inst_group,
	NULL
};

struct mdev_driver vslice_mdev_driver = {
	.device_api		= VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name		= VSLICE_NAME,
		.owner		= THIS_MODULE,
		.mod_name	= KBUILD_MODNAME,
		.dev_groups	= vslice_inst_groups,
	},
	.probe			= vslice_mdev_probe,
	.remove			= vslice_mdev_remove,
	.get_available		= vslice_type_available,
	.show_description	= vslice_type_description,
};
