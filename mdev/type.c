// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice types: the profiles a parent offers in mdev_supported_types.
 *
 * A profile is a slice size and the largest mode the guest's bochs
 * driver accepts in it.  The stricter of the drivers' rules (6.1 and
 * 6.12, drm_vram_helper_mode_valid()) wants room for two framebuffers of
 * 32 bpp, so a mode of W x H needs W * H * 8 bytes of VRAM.  Past 64 MiB
 * a profile buys VRAM, not pixels: 3840x2160 stays the largest mode, the
 * largest the virtual monitor's base EDID describes (its detailed timings
 * stop at 4095 pixels a line), and a 256 MiB slice is a whole card.
 */

#include <kunit/visibility.h>
#include <linux/sysfs.h>

#include "vslice.h"

struct vslice_profile {
	u64 size;
	u16 xres;
	u16 yres;
};

static const struct vslice_profile vslice_profiles[] = {
	{ SZ_4M,   800,  600 },
	{ SZ_8M,  1280,  800 },
	{ SZ_16M, 1920, 1080 },
	{ SZ_32M, 2560, 1600 },
	{ SZ_64M, 3840, 2160 },
	{ SZ_128M, 3840, 2160 },
	{ SZ_256M, 3840, 2160 },
};

/**
 * vslice_types_init() - derive a parent's types from its VRAM
 * @parent: parent with @vram_size set
 *
 * Offers every profile whose slice fits in the VRAM at least once.
 */
void vslice_types_init(struct vslice_parent *parent)
{
	unsigned int i, n = 0;

	BUILD_BUG_ON(ARRAY_SIZE(vslice_profiles) > VSLICE_MAX_TYPES);

	for (i = 0; i < ARRAY_SIZE(vslice_profiles); i++) {
		const struct vslice_profile *p = &vslice_profiles[i];
		struct vslice_type *t = &parent->types[n];

		if (p->size > parent->vram_size)
			continue;
		t->size = p->size;
		t->max_xres = p->xres;
		t->max_yres = p->yres;
		snprintf(t->sysfs_name, sizeof(t->sysfs_name), "%lluM",
			 p->size / SZ_1M);
		snprintf(t->name, sizeof(t->name), "vslice-%lluM",
			 p->size / SZ_1M);
		t->mtype.sysfs_name = t->sysfs_name;
		t->mtype.pretty_name = t->name;
		parent->mtypes[n++] = &t->mtype;
	}
	parent->nr_types = n;
}
EXPORT_SYMBOL_IF_KUNIT(vslice_types_init);

/**
 * vslice_types_init_one() - give a parent its one type
 * @parent: parent of a model with a single profile (edu)
 * @name: the type's name after the driver's prefix ("edu": vslice-edu)
 */
void vslice_types_init_one(struct vslice_parent *parent, const char *name)
{
	struct vslice_type *t = &parent->types[0];

	snprintf(t->sysfs_name, sizeof(t->sysfs_name), "%s", name);
	snprintf(t->name, sizeof(t->name), VSLICE_NAME "-%s", name);
	t->mtype.sysfs_name = t->sysfs_name;
	t->mtype.pretty_name = t->name;
	parent->mtypes[0] = &t->mtype;
	parent->nr_types = 1;
}

/**
 * vslice_type_available() - mdev @get_available op
 * @mtype: type
 *
 * Return: how many instances of @mtype can be created now.
 */
unsigned int vslice_type_available(struct mdev_type *mtype)
{
	struct vslice_parent *parent = vslice_parent_from_mtype(mtype);
	unsigned int n;

	mutex_lock(&parent->lock);
	n = vslice_policy_available_locked(parent,
					   vslice_type_from_mtype(mtype));
	mutex_unlock(&parent->lock);
	return n;
}

/**
 * vslice_type_description() - mdev @show_description op
 * @mtype: type
 * @buf: sysfs buffer
 *
 * Return: bytes written.
 */
ssize_t vslice_type_description(struct mdev_type *mtype, char *buf)
{
	struct vslice_parent *parent = vslice_parent_from_mtype(mtype);

	return parent->model->describe(parent, vslice_type_from_mtype(mtype),
				       buf);
}
