// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice parent: the PCI driver of the physical devices, bochs-display
 * (sliced in space: mdev/bochs_parent.c) and edu (in time:
 * mdev/engine.c).  Binding, the parent's life and its registration with
 * the mdev core are the same for both.
 *
 * The driver binds only where the administrator asked for it, through
 * driver_override: its ID table is override-only and the module exports
 * no PCI alias, so neither udev nor a rescan ever gives it a device that
 * another driver (bochs DRM, vfio-pci) could have.
 */

#include <linux/debugfs.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#include "edu.h"

/*
 * driver_override matches any device (with an ID entry of its own, whose
 * driver_data is 0): find the model from the device's IDs, never from
 * the match.
 */
static const struct vslice_parent_model *
vslice_parent_model_of(struct pci_dev *pdev)
{
	static const struct vslice_parent_model *const models[] = {
		&vslice_bochs_parent_model,
		&vslice_edu_parent_model,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(models); i++)
		if (pdev->vendor == VSLICE_BOCHS_VENDOR &&
		    pdev->device == models[i]->device)
			return models[i];
	pci_err(pdev, "neither a bochs-display nor an edu (%04x:%04x), not binding\n",
		pdev->vendor, pdev->device);
	return NULL;
}

/* Parents not freed yet: vslice_exit() waits until there are none. */
static atomic_t vslice_parents_alive = ATOMIC_INIT(0);

/*
 * The release of @life: the last reference to the parent is gone, so no
 * instance, type or binding uses it.  The wake-up is the last thing it
 * does: vslice_exit() may free the module's code once it has run.
 */
static void vslice_parent_release(struct device *life)
{
	struct vslice_parent *parent =
		container_of(life, struct vslice_parent, life);

	mutex_destroy(&parent->lock);
	kfree(parent);
	if (atomic_dec_and_test(&vslice_parents_alive))
		wake_up_var(&vslice_parents_alive);
}

/*
 * The types live in the parent, but the mdev core releases each from its
 * kobject's release, which may run after mdev_unregister_parent() has
 * returned (an mdev device whose own release is still to come holds its
 * type; CONFIG_DEBUG_KOBJECT_RELEASE delays every release) and which
 * ends with put_device(type->parent->dev), a reference on the PCI device
 * the core took when it added the type.  So that the parent outlives its
 * types, hold each across the unregistration (vslice_parent_hold_types()),
 * then point the mdev parent at @life and move each type's reference
 * from the PCI device to @life before letting go of the type: the last
 * type to be released drops the parent's last reference.  (s390's
 * vfio_ccw_parent has the refcounted parent but frees it at unbind, with
 * the types' releases possibly still to come.)
 */
static void vslice_parent_hold_types(struct vslice_parent *parent)
{
	unsigned int i;

	for (i = 0; i < parent->nr_types; i++)
		kobject_get(&parent->types[i].mtype.kobj);
}

/*
 * After mdev_unregister_parent(): nothing in the mdev core reads
 * @mparent but the types' and mdev devices' releases.
 */
static void vslice_parent_let_go_types(struct vslice_parent *parent)
{
	unsigned int i;

	parent->mparent.dev = &parent->life;
	for (i = 0; i < parent->nr_types; i++) {
		vslice_parent_get(parent);
		put_device(&parent->pdev->dev);
		kobject_put(&parent->types[i].mtype.kobj);
	}
}

/*
 * A failed mdev_register_parent() has let go of every type it added, and
 * their releases have run, unless CONFIG_DEBUG_KOBJECT_RELEASE queued
 * them (no mdev device can hold a type yet): wait for those before the
 * memory they live in goes.
 */
static void vslice_parent_flush_types(struct vslice_parent *parent)
{
#ifdef CONFIG_DEBUG_KOBJECT_RELEASE
	unsigned int i;

	for (i = 0; i < parent->nr_types; i++) {
		struct kobject *kobj = &parent->types[i].mtype.kobj;

		if (kobj->state_initialized)
			flush_delayed_work(&kobj->release);
	}
#endif
}

static int vslice_pci_probe(struct pci_dev *pdev,
			    const struct pci_device_id *id)
{
	const struct vslice_parent_model *model = vslice_parent_model_of(pdev);
	struct vslice_parent *parent;
	int ret;

	if (!model)
		return -ENODEV;

	parent = kzalloc(sizeof(*parent), GFP_KERNEL);
	if (!parent)
		return -ENOMEM;
	device_initialize(&parent->life);
	parent->life.release = vslice_parent_release;
	atomic_inc(&vslice_parents_alive);
	parent->model = model;
	parent->pdev = pdev;
	mutex_init(&parent->lock);
	INIT_LIST_HEAD(&parent->insts);

	ret = pci_enable_device_mem(pdev);
	if (ret)
		goto err_put;

	ret = pci_request_regions(pdev, VSLICE_NAME);
	if (ret)
		goto err_disable;

	ret = model->probe(parent);
	if (ret)
		goto err_release;

	pci_set_drvdata(pdev, parent);
	ret = vslice_policy_init(parent);
	if (ret)
		goto err_remove;

	ret = mdev_register_parent(&parent->mparent, &pdev->dev,
				   model->mdev_driver, parent->mtypes,
				   parent->nr_types);
	if (ret) {
		vslice_parent_flush_types(parent);
		goto err_remove;
	}
	return 0;

err_remove:
	model->remove(parent);
err_release:
	pci_release_regions(pdev);
err_disable:
	pci_disable_device(pdev);
err_put:
	vslice_parent_put(parent);
	return ret;
}

static void vslice_pci_remove(struct pci_dev *pdev)
{
	struct vslice_parent *parent = pci_get_drvdata(pdev);

	vslice_parent_hold_types(parent);
	/* Removes every instance, each waiting for its user to let go. */
	mdev_unregister_parent(&parent->mparent);
	WARN_ON(!list_empty(&parent->insts) || parent->nr_insts);

	parent->model->remove(parent);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	vslice_parent_let_go_types(parent);
	vslice_parent_put(parent);
}

/*
 * Override-only: matches a bochs-display or an edu whose driver_override
 * is "vslice", nothing else.  No MODULE_DEVICE_TABLE on purpose.
 */
static const struct pci_device_id vslice_pci_ids[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(VSLICE_BOCHS_VENDOR,
					  VSLICE_BOCHS_DEVICE) },
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(VSLICE_BOCHS_VENDOR,
					  VSLICE_EDU_DEVICE) },
	{ }
};

static struct pci_driver vslice_pci_driver = {
	.name		= VSLICE_NAME,
	.id_table	= vslice_pci_ids,
	.probe		= vslice_pci_probe,
	.remove		= vslice_pci_remove,
	.dev_groups	= vslice_parent_groups,
};

/* debugfs: vslice/UUID/ of each instance (debugging counters) */
struct dentry *vslice_debugfs_root;

static int __init vslice_init(void)
{
	int ret;

	vslice_debugfs_root = debugfs_create_dir(VSLICE_NAME, NULL);
	ret = mdev_register_driver(&vslice_mdev_driver);
	if (ret)
		goto err_remove_debugfs;
	ret = mdev_register_driver(&vslice_edu_mdev_driver);
	if (ret)
		goto err_unregister_mdev;

	ret = pci_register_driver(&vslice_pci_driver);
	if (ret)
		goto err_unregister_edu;
	return 0;

err_unregister_edu:
	mdev_unregister_driver(&vslice_edu_mdev_driver);
err_unregister_mdev:
	mdev_unregister_driver(&vslice_mdev_driver);
err_remove_debugfs:
	debugfs_remove(vslice_debugfs_root);
	return ret;
}

static void __exit vslice_exit(void)
{
	pci_unregister_driver(&vslice_pci_driver);
	mdev_unregister_driver(&vslice_edu_mdev_driver);
	mdev_unregister_driver(&vslice_mdev_driver);
	/*
	 * Unbinding does not end every use of the module's code: the
	 * releases of instances and types may still be to come, and each
	 * holds its parent (struct vslice_parent.life).
	 */
	wait_var_event(&vslice_parents_alive,
		       !atomic_read(&vslice_parents_alive));
	debugfs_remove(vslice_debugfs_root);
}

module_init(vslice_init);
module_exit(vslice_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vslice: mediated vGPU slices of a bochs-display and an edu");
