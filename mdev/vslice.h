/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vslice mdev side: the parent PCI driver, its VRAM pool, types and
 * instances, and the bochs-display model every instance presents.
 * Declarations shared by the files of mdev/ only.
 */
#ifndef VSLICE_MDEV_H
#define VSLICE_MDEV_H

#include <linux/list.h>
#include <linux/mdev.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "../vfio_core/vslice_core.h"
#include "pool.h"

#define VSLICE_NAME			"vslice"

/* The reference hardware: QEMU's bochs-display. */
#define VSLICE_BOCHS_VENDOR		0x1234
#define VSLICE_BOCHS_DEVICE		0x1111
#define VSLICE_BOCHS_CLASS		0x038000
#define VSLICE_BOCHS_REVISION		2
/* The other: QEMU's edu, an engine sliced in time (engine.c). */
#define VSLICE_EDU_DEVICE		0x11e8
/* Subsystem IDs that tell a guest it runs on a vslice instance. */
#define VSLICE_SUBSYS_VENDOR		0x1234
#define VSLICE_SUBSYS_DEVICE		0x5653	/* "VS" */

/* BAR2 layout of bochs-display (QEMU hw/display/bochs-vbe.h). */
#define VSLICE_MMIO_SIZE		SZ_4K
#define VSLICE_EDID_OFFSET		0x000
#define VSLICE_EDID_SIZE		0x400
#define VSLICE_VGA_OFFSET		0x400
#define VSLICE_VGA_SIZE			0x020
#define VSLICE_DISPI_OFFSET		0x500
#define VSLICE_QEXT_OFFSET		0x600
#define VSLICE_QEXT_SIZE		0x008

/* DISPI register indexes; the register of index i sits at 0x500 + 2 * i. */
#define VSLICE_DISPI_ID			0x0
#define VSLICE_DISPI_XRES		0x1
#define VSLICE_DISPI_YRES		0x2
#define VSLICE_DISPI_BPP		0x3
#define VSLICE_DISPI_ENABLE		0x4
#define VSLICE_DISPI_BANK		0x5
#define VSLICE_DISPI_VIRT_WIDTH		0x6
#define VSLICE_DISPI_VIRT_HEIGHT	0x7
#define VSLICE_DISPI_X_OFFSET		0x8
#define VSLICE_DISPI_Y_OFFSET		0x9
#define VSLICE_DISPI_VIDEO_MEMORY_64K	0xa
#define VSLICE_DISPI_NR_REGS		0xa	/* registers with storage */
#define VSLICE_DISPI_SIZE		(0xb * 2)

#define VSLICE_DISPI_ID5		0xb0c5
#define VSLICE_DISPI_ENABLED		0x01
#define VSLICE_DISPI_LFB_ENABLED	0x40

/* QEMU extended registers. */
#define VSLICE_QEXT_REG_SIZE		0x0
#define VSLICE_QEXT_REG_BYTEORDER	0x4
#define VSLICE_QEXT_LITTLE_ENDIAN	0x1e1e1e1e
#define VSLICE_QEXT_BIG_ENDIAN		0xbebebebe

/* VGA attribute controller, as far as blanking goes. */
#define VSLICE_VGA_ATT_W		(0x3c0 - 0x3c0)
#define VSLICE_VGA_IS1_RC		(0x3da - 0x3c0)
#define VSLICE_VGA_ATT_PAS		0x20

#define VSLICE_MAX_TYPES		8

/* Regions after the PCI ones: the EDID region, then two display windows. */
#define VSLICE_REGION_EDID		VFIO_PCI_NUM_REGIONS
#define VSLICE_REGION_DISPLAY		(VFIO_PCI_NUM_REGIONS + 1)

struct vslice_parent;
struct vslice_inst;
struct vslice_type;
struct vslice_engine;
struct vslice_edu;

/**
 * struct vslice_parent_model - what one kind of parent device adds
 * @name: the device's name, for messages
 * @device: its PCI device ID (vendor VSLICE_BOCHS_VENDOR, QEMU's)
 * @mdev_driver: the mdev driver of its instances: the shared probe and
 *		 remove, the model's own sysfs attributes
 * @probe: check and map the bound device, fill the parent's types.
 *	   Returns 0 or a negative errno, having undone its own work.
 * @remove: undo @probe, once every instance is gone
 * @admit_locked: take what a new instance of its type needs from the
 *		  device (bochs: a VRAM slice); parent locked.  May be NULL.
 *		  Returns 0 or a negative errno.
 * @release_locked: give back what @admit_locked took; parent locked
 * @available_locked: how many more instances of a type the device can
 *		      take, before the policy's cap; parent locked
 * @inst_init: make a new instance the model's device (vslice_core_init()
 *	       and its registers, regions and interrupts); not registered
 *	       yet.  Returns 0 or a negative errno.
 * @inst_remove_locked: the instance is about to be unregistered; parent
 *			locked.  May be NULL.
 * @describe: the type's description attribute
 *
 * The parent, its types, the instances' lifecycle and the policy are
 * shared; everything specific to the device lives behind these.
 */
struct vslice_parent_model {
	const char *name;
	u16 device;
	struct mdev_driver *mdev_driver;
	int (*probe)(struct vslice_parent *parent);
	void (*remove)(struct vslice_parent *parent);
	int (*admit_locked)(struct vslice_inst *inst);
	void (*release_locked)(struct vslice_inst *inst);
	unsigned int (*available_locked)(struct vslice_parent *parent,
					 const struct vslice_type *type);
	int (*inst_init)(struct vslice_inst *inst);
	void (*inst_remove_locked)(struct vslice_inst *inst);
	ssize_t (*describe)(struct vslice_parent *parent,
			    const struct vslice_type *type, char *buf);
};

extern const struct vslice_parent_model vslice_bochs_parent_model;
extern const struct vslice_parent_model vslice_edu_parent_model;

/**
 * struct vslice_type - a profile: one slice size and what it can show
 * @mtype: the mdev core's type; its @parent points back at our parent
 * @size: slice size in bytes, a power of two
 * @max_xres: largest width the guest driver can set in this slice
 * @max_yres: largest height the guest driver can set in this slice
 * @sysfs_name: name of the type's sysfs directory after the driver prefix
 * @name: human-readable profile name (the type's `name` attribute)
 */
struct vslice_type {
	struct mdev_type mtype;
	u64 size;
	u16 max_xres;
	u16 max_yres;
	char sysfs_name[16];
	char name[32];
};

/**
 * struct vslice_parent - one bound device: a bochs-display or an edu
 * @life: the reference count of this structure, which may outlive the
 *	  binding: a struct device never added to sysfs, whose release frees
 *	  the parent.  References: the binding's own; one per instance,
 *	  from creation to its vfio device's release; and, after unbinding,
 *	  one per type, dropped by the mdev core's release of the type (see
 *	  vslice_parent_let_go_types()).
 * @model: what kind of device it is
 * @pdev: the PCI device
 * @mparent: registration with the mdev core
 * @engine: edu only: the shared engine and its scheduler (mdev/engine.c)
 * @mmio: bochs only, as all but the policy fields below: BAR2, the device's register file
 * @vram: BAR0 mapped write-combining, for scrubbing and trapped access
 * @vram_phys: bus address of BAR0, for user mappings of slices
 * @vram_size: usable VRAM (BAR0 size, as the DISPI register confirms)
 * @lock: protects @insts, the policy fields and @scanout; taken before
 *	  any instance's or the pool's lock
 * @pool: the VRAM pool slices are carved from
 * @insts: registered instances of this parent (struct vslice_inst.node)
 * @nr_insts: instances created or being created (admitted by the policy)
 * @max_instances: policy: cap on @nr_insts, 0 for none
 * @types_enabled: policy: bit i set if @types[i] is offered
 * @scanout: the instance the physical screen shows, or NULL
 * @clear_on_close: policy: the starting value of new instances'
 *		    &vslice_inst.clear_on_close
 * @nr_types: number of valid entries in @types
 * @types: the profiles this parent has
 * @mtypes: @types as the mdev core wants them
 */
struct vslice_parent {
	struct device life;
	const struct vslice_parent_model *model;
	struct pci_dev *pdev;
	struct mdev_parent mparent;
	struct vslice_engine *engine;
	void __iomem *mmio;
	void __iomem *vram;
	phys_addr_t vram_phys;
	u64 vram_size;
	/* protects insts, policy, scanout; before any instance or pool lock */
	struct mutex lock;
	struct vslice_pool pool;
	struct list_head insts;
	unsigned int nr_insts;
	unsigned int max_instances;
	unsigned long types_enabled;
	struct vslice_inst *scanout;
	bool clear_on_close;
	unsigned int nr_types;
	struct vslice_type types[VSLICE_MAX_TYPES];
	struct mdev_type *mtypes[VSLICE_MAX_TYPES];
};

/**
 * struct vslice_bochs - the emulated register file of one instance
 * @dispi: DISPI registers, as the guest sees them
 * @big_endian_fb: QEMU extended byte-order register
 * @vga_att_index: the VGA attribute flip-flop points at the index
 * @blanked: the guest blanked the display (attribute PAS bit clear)
 *
 * Protected by the instance's &vslice_core_dev.lock.
 */
struct vslice_bochs {
	u16 dispi[VSLICE_DISPI_NR_REGS];
	bool big_endian_fb;
	bool vga_att_index;
	bool blanked;
};

/**
 * struct vslice_monitor - the virtual monitor of one instance
 * @regs: the EDID region's registers (link state, blob size, limits)
 * @edid: the EDID blob
 * @display: the display region the last plane query named
 *
 * Protected by the instance's &vslice_core_dev.lock; survives device
 * resets, is renewed on open.
 */
struct vslice_monitor {
	struct vfio_region_gfx_edid regs;
	u8 edid[VSLICE_EDID_SIZE];
	unsigned int display;
};

/**
 * struct vslice_mode - a scanout, decoded from the DISPI registers
 * @format: DRM fourcc
 * @bpp: bits per pixel
 * @width: visible width in pixels
 * @height: visible height in lines
 * @stride: bytes per line
 * @offset: where the visible area starts in the slice
 * @size: @stride * @height
 */
struct vslice_mode {
	u32 format;
	u32 bpp;
	u32 width;
	u32 height;
	u32 stride;
	u64 offset;
	u64 size;
};

enum vslice_scanout {
	VSLICE_SCANOUT_OFF,
	VSLICE_SCANOUT_BLANKED,
	VSLICE_SCANOUT_INVALID,
	VSLICE_SCANOUT_ON,
};

/**
 * struct vslice_inst - one mediated device
 * @core: the vslice core device; embeds the vfio_device first
 * @parent: parent the slice belongs to
 * @type: profile the instance was created with
 * @mdev: the mdev device
 * @node: entry in &vslice_parent.insts, under the parent's lock
 * @edu: edu instances: the virtual edu (mdev/edu.c); NULL for bochs
 * @slice: bochs, as the fields up to @clear_on_close: the VRAM the
 *	   instance owns, fixed for its lifetime
 * @regs: emulated register file, under vslice_core_lock()
 * @mon: the virtual monitor, under vslice_core_lock()
 * @on_screen: the physical screen shows this instance, under vslice_core_lock()
 * @clear_on_close: policy: clear the slice when the last user closes the
 *		    device, so that the next user never sees the last one's
 *		    VRAM.  A lone flag, read and written with READ_ONCE() and
 *		    WRITE_ONCE(): the close that reads it decides.
 * @debugfs: its directory in debugfs, vslice/UUID (debugging counters)
 */
struct vslice_inst {
	struct vslice_core_dev core;
	struct vslice_parent *parent;
	const struct vslice_type *type;
	struct mdev_device *mdev;
	struct list_head node;
	struct vslice_edu *edu;
	struct vslice_slice slice;
	struct vslice_bochs regs;
	struct vslice_monitor mon;
	bool on_screen;
	bool clear_on_close;
	struct dentry *debugfs;
};

static inline struct vslice_inst *vslice_inst_from_core(struct vslice_core_dev *c)
{
	return container_of(c, struct vslice_inst, core);
}

static inline struct vslice_type *vslice_type_from_mtype(struct mdev_type *mt)
{
	return container_of(mt, struct vslice_type, mtype);
}

static inline struct vslice_parent *
vslice_parent_from_mtype(struct mdev_type *mt)
{
	return container_of(mt->parent, struct vslice_parent, mparent);
}

/* parent.c */
extern struct dentry *vslice_debugfs_root;

static inline void vslice_parent_get(struct vslice_parent *parent)
{
	get_device(&parent->life);
}

static inline void vslice_parent_put(struct vslice_parent *parent)
{
	put_device(&parent->life);
}

/* type.c */
void vslice_types_init(struct vslice_parent *parent);
void vslice_types_init_one(struct vslice_parent *parent, const char *name);
unsigned int vslice_type_available(struct mdev_type *mtype);
ssize_t vslice_type_description(struct mdev_type *mtype, char *buf);

/* instance.c */
extern struct mdev_driver vslice_mdev_driver;
extern struct device_attribute dev_attr_parent, dev_attr_opens;
int vslice_mdev_probe(struct mdev_device *mdev);
void vslice_mdev_remove(struct mdev_device *mdev);
void vslice_inst_close(struct vslice_inst *inst);

/* bochs.c */
int vslice_bochs_init(struct vslice_inst *inst);

/* edu.c */
int vslice_edu_init(struct vslice_inst *inst);

/* display.c */
void vslice_display_init(struct vslice_inst *inst);
void vslice_display_open_locked(struct vslice_inst *inst);
enum vslice_scanout vslice_display_mode_locked(struct vslice_inst *inst,
					       struct vslice_mode *mode);
ssize_t vslice_display_mode_show(struct vslice_inst *inst, char *buf);
int vslice_display_query_plane(struct vslice_core_dev *cdev,
			       struct vslice_plane *plane);
u32 vslice_display_edid_read(struct vslice_inst *inst, unsigned int off,
			     unsigned int size);

/* policy.c */
extern const struct attribute_group *vslice_parent_groups[];
int vslice_policy_init(struct vslice_parent *parent);
int vslice_policy_admit_locked(struct vslice_parent *parent,
			       const struct vslice_type *type);
void vslice_policy_release_locked(struct vslice_parent *parent);
unsigned int vslice_policy_available_locked(struct vslice_parent *parent,
					    const struct vslice_type *type);

/* engine.c */
extern struct device_attribute dev_attr_sched_policy;

/* scanout.c */
extern struct device_attribute dev_attr_scanout;
void vslice_scanout_update_locked(struct vslice_inst *inst);
void vslice_scanout_detach_locked(struct vslice_inst *inst);

/* edid.c */
size_t vslice_edid_generate(u8 *edid, const struct vslice_type *type,
			    u32 serial);

#endif /* VSLICE_MDEV_H */
