// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice policy: what an administrator decides per parent.
 *
 * /sys/bus/pci/devices/BDF/vslice/
 *   vram_mib       VRAM of the device (read-only)
 *   reserved_mib   VRAM held back for the host, at the top; growing it is
 *                  refused (-EBUSY) while an instance sits there
 *   max_instances  cap on instances, 0 for none; lowering it below the
 *                  instances that exist is refused (-EBUSY)
 *   types          the profiles offered, e.g. "4M 16M", or "all"; a
 *                  profile taken away keeps its instances but offers no
 *                  new ones (available_instances 0, create -EPERM)
 *   instances      how many instances exist (read-only)
 *   sched_policy   edu only: how the engine's time is shared (engine.c)
 *   clear_on_close 0 or 1: what new instances start with in their own
 *                  clear_on_close (clear the slice on the last close, so
 *                  that a reused instance's next tenant finds it zeroed)
 *
 * The module parameters of the same names (but clear_on_close) set the
 * starting values of every parent the driver binds.  All of it lives under the parent's lock,
 * which the create path holds while it admits an instance and takes its
 * slice, so availability, the cap and the VRAM always agree.
 */

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "vslice.h"

static unsigned int reserved_mib;
module_param(reserved_mib, uint, 0444);
MODULE_PARM_DESC(reserved_mib,
		 "VRAM (MiB, multiple of 4) each parent holds back for the host [0]");

static unsigned int max_instances;
module_param(max_instances, uint, 0444);
MODULE_PARM_DESC(max_instances,
		 "Instances each parent may have, 0 for no cap [0]");

static char *types = "all";
module_param(types, charp, 0444);
MODULE_PARM_DESC(types,
		 "Profiles each parent offers: \"all\" or a list like \"4M,16M\" [all]");

/* Parse "all" or a list of type names ("4M" or "vslice-4M") into a mask. */
static int vslice_policy_parse_types(struct vslice_parent *parent,
				     const char *buf, unsigned long *mask)
{
	char *list, *cur, *tok;
	unsigned int i;
	int ret = 0;

	list = kstrdup(buf, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	cur = strim(list);
	*mask = 0;
	if (!strcmp(cur, "all")) {
		*mask = GENMASK(parent->nr_types - 1, 0);
		goto out_free;
	}
	while ((tok = strsep(&cur, " ,\t\n"))) {
		if (!*tok)
			continue;
		for (i = 0; i < parent->nr_types; i++)
			if (!strcmp(tok, parent->types[i].sysfs_name) ||
			    !strcmp(tok, parent->types[i].name))
				break;
		if (i == parent->nr_types) {
			ret = -EINVAL;
			goto out_free;
		}
		*mask |= BIT(i);
	}
out_free:
	kfree(list);
	return ret;
}

/**
 * vslice_policy_init() - apply the module parameters to a new parent
 * @parent: parent with its pool and types set up, not yet registered
 *
 * Return: 0, or a negative errno if a parameter does not fit the device.
 */
int vslice_policy_init(struct vslice_parent *parent)
{
	struct pci_dev *pdev = parent->pdev;
	int ret;

	parent->max_instances = max_instances;
	if (!parent->vram_size) {
		/* the types parameter names VRAM profiles, none of an engine */
		parent->types_enabled = GENMASK(parent->nr_types - 1, 0);
		return 0;
	}
	ret = vslice_policy_parse_types(parent, types, &parent->types_enabled);
	if (ret) {
		pci_err(pdev, "types=%s names a profile this device does not have\n",
			types);
		return ret;
	}
	ret = vslice_pool_set_reserved(&parent->pool, (u64)reserved_mib * SZ_1M);
	if (ret)
		pci_err(pdev, "cannot hold back %u MiB of %llu MiB (%d)\n",
			reserved_mib, parent->vram_size / SZ_1M, ret);
	return ret;
}

/**
 * vslice_policy_admit_locked() - may one more instance of @type be created?
 * @parent: parent, locked
 * @type: the profile asked for
 *
 * Counts the instance in when it may be; vslice_policy_release_locked()
 * counts it out.
 *
 * Return: 0, -EPERM for a profile not offered, -EUSERS at the cap.
 */
int vslice_policy_admit_locked(struct vslice_parent *parent,
			       const struct vslice_type *type)
{
	lockdep_assert_held(&parent->lock);

	if (!(parent->types_enabled & BIT(type - parent->types)))
		return -EPERM;
	if (parent->max_instances &&
	    parent->nr_insts >= parent->max_instances)
		return -EUSERS;
	parent->nr_insts++;
	return 0;
}

/**
 * vslice_policy_release_locked() - an instance is gone (or never came)
 * @parent: parent, locked
 */
void vslice_policy_release_locked(struct vslice_parent *parent)
{
	lockdep_assert_held(&parent->lock);
	parent->nr_insts--;
}

/**
 * vslice_policy_available_locked() - instances of @type that can be made
 * @parent: parent, locked
 * @type: profile
 *
 * Return: what the device allows (bochs: its VRAM), capped by the policy.
 */
unsigned int vslice_policy_available_locked(struct vslice_parent *parent,
					    const struct vslice_type *type)
{
	unsigned int n;

	lockdep_assert_held(&parent->lock);
	if (!(parent->types_enabled & BIT(type - parent->types)))
		return 0;
	n = parent->model->available_locked(parent, type);
	if (parent->max_instances)
		n = min(n, parent->max_instances - parent->nr_insts);
	return n;
}

static struct vslice_parent *vslice_policy_parent(struct device *dev)
{
	return pci_get_drvdata(to_pci_dev(dev));
}

static ssize_t vram_mib_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  vslice_policy_parent(dev)->vram_size / SZ_1M);
}
static DEVICE_ATTR_RO(vram_mib);

static ssize_t instances_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct vslice_parent *parent = vslice_policy_parent(dev);
	unsigned int n;

	mutex_lock(&parent->lock);
	n = parent->nr_insts;
	mutex_unlock(&parent->lock);
	return sysfs_emit(buf, "%u\n", n);
}
static DEVICE_ATTR_RO(instances);

static ssize_t reserved_mib_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct vslice_parent *parent = vslice_policy_parent(dev);

	return sysfs_emit(buf, "%llu\n",
			  vslice_pool_reserved(&parent->pool) / SZ_1M);
}

static ssize_t reserved_mib_store(struct device *dev,
				  struct device_attribute *attr,
				  const char *buf, size_t count)
{
	struct vslice_parent *parent = vslice_policy_parent(dev);
	unsigned int mib;
	int ret;

	ret = kstrtouint(buf, 0, &mib);
	if (ret)
		return ret;
	if (mib > parent->vram_size / SZ_1M)
		return -EINVAL;
	mutex_lock(&parent->lock);
	ret = vslice_pool_set_reserved(&parent->pool, (u64)mib * SZ_1M);
	mutex_unlock(&parent->lock);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(reserved_mib);

static ssize_t max_instances_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct vslice_parent *parent = vslice_policy_parent(dev);
	unsigned int n;

	mutex_lock(&parent->lock);
	n = parent->max_instances;
	mutex_unlock(&parent->lock);
	return sysfs_emit(buf, "%u\n", n);
}

static ssize_t max_instances_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t count)
{
	struct vslice_parent *parent = vslice_policy_parent(dev);
	unsigned int n;
	int ret;

	ret = kstrtouint(buf, 0, &n);
	if (ret)
		return ret;
	mutex_lock(&parent->lock);
	if (n && n < parent->nr_insts)
		ret = -EBUSY;
	else
		parent->max_instances = n;
	mutex_unlock(&parent->lock);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(max_instances);

static ssize_t types_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct vslice_parent *parent = vslice_policy_parent(dev);
	unsigned int i;
	int len = 0;

	mutex_lock(&parent->lock);
	for (i = 0; i < parent->nr_types; i++)
		if (parent->types_enabled & BIT(i))
			len += sysfs_emit_at(buf, len, "%s%s", len ? " " : "",
					     parent->types[i].sysfs_name);
	mutex_unlock(&parent->lock);
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}

static ssize_t types_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	struct vslice_parent *parent = vslice_policy_parent(dev);
	unsigned long mask;
	int ret;

	ret = vslice_policy_parse_types(parent, buf, &mask);
	if (ret)
		return ret;
	mutex_lock(&parent->lock);
	parent->types_enabled = mask;
	mutex_unlock(&parent->lock);
	return count;
}
static DEVICE_ATTR_RW(types);

static ssize_t clear_on_close_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct vslice_parent *parent = vslice_policy_parent(dev);
	bool on;

	mutex_lock(&parent->lock);
	on = parent->clear_on_close;
	mutex_unlock(&parent->lock);
	return sysfs_emit(buf, "%d\n", on);
}

static ssize_t clear_on_close_store(struct device *dev,
				    struct device_attribute *attr,
				    const char *buf, size_t count)
{
	struct vslice_parent *parent = vslice_policy_parent(dev);
	bool on;
	int ret;

	ret = kstrtobool(buf, &on);
	if (ret)
		return ret;
	mutex_lock(&parent->lock);
	parent->clear_on_close = on;
	mutex_unlock(&parent->lock);
	return count;
}
static DEVICE_ATTR_RW(clear_on_close);

static struct attribute *vslice_policy_attrs[] = {
	&dev_attr_vram_mib.attr,
	&dev_attr_instances.attr,
	&dev_attr_reserved_mib.attr,
	&dev_attr_max_instances.attr,
	&dev_attr_types.attr,
	&dev_attr_scanout.attr,
	&dev_attr_clear_on_close.attr,
	&dev_attr_sched_policy.attr,
	NULL
};

/* Memory policy where there is VRAM, the scheduler's where an engine. */
static umode_t vslice_policy_visible(struct kobject *kobj,
				     struct attribute *attr, int n)
{
	struct vslice_parent *parent =
		vslice_policy_parent(kobj_to_dev(kobj));
	bool vram = parent->model == &vslice_bochs_parent_model;

	if (attr == &dev_attr_vram_mib.attr ||
	    attr == &dev_attr_reserved_mib.attr ||
	    attr == &dev_attr_scanout.attr ||
	    attr == &dev_attr_clear_on_close.attr)
		return vram ? attr->mode : 0;
	if (attr == &dev_attr_sched_policy.attr)
		return vram ? 0 : attr->mode;
	return attr->mode;
}

static const struct attribute_group vslice_policy_group = {
	.name		= VSLICE_NAME,
	.attrs		= vslice_policy_attrs,
	.is_visible	= vslice_policy_visible,
};

const struct attribute_group *vslice_parent_groups[] = {
	&vslice_policy_group,
	NULL
};
