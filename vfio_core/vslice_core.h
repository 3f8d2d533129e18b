/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vslice core: the device-agnostic half of vslice.
 *
 * A device model (mdev/) embeds a struct vslice_core_dev, describes its
 * regions in the region table, fills the virtual config space and provides
 * a few model callbacks.  The core implements struct vfio_device_ops once
 * and routes every access through that table.  Nothing in this header
 * knows which device is being modelled.
 */
#ifndef VSLICE_CORE_H
#define VSLICE_CORE_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/pci_regs.h>
#include <linux/rwsem.h>
#include <linux/percpu.h>
#include <linux/seqlock.h>
#include <linux/spinlock.h>
#include <linux/sizes.h>
#include <linux/types.h>
#include <linux/vfio.h>

#include <linux/string.h>

struct dentry;
struct eventfd_ctx;
struct virqfd;
struct vm_area_struct;
struct vslice_core_dev;

/* Region offsets in the device fd, as vfio-pci lays them out. */
#define VSLICE_OFFSET_SHIFT		40
#define VSLICE_OFFSET_MASK		(BIT_ULL(VSLICE_OFFSET_SHIFT) - 1)
#define VSLICE_INDEX_TO_OFFSET(index)	((u64)(index) << VSLICE_OFFSET_SHIFT)
#define VSLICE_OFFSET_TO_INDEX(off)	((off) >> VSLICE_OFFSET_SHIFT)

/* PCI regions plus room for device-specific ones (EDID, display, ...). */
#define VSLICE_MAX_REGIONS		(VFIO_PCI_NUM_REGIONS + 4)

/* For vslice_core_enable_migration(): no device memory travels. */
#define VSLICE_MIG_NO_MEMORY		(~0u)

/* Longest compatibility string of a migration stream, with its NUL. */
#define VSLICE_MIG_COMPAT_LEN		48

/* Conventional PCI config space: the device is not PCIe. */
#define VSLICE_CFG_SIZE			PCI_CFG_SPACE_SIZE

struct vslice_region;

/**
 * struct vslice_region_ops - callbacks of one region
 * @rw: trapped access of @count bytes at @pos, relative to the region start.
 *	The core has already checked that [@pos, @pos + @count) lies inside
 *	the region and that the region allows the direction.  @buf is a
 *	kernel buffer: the callback never touches user memory, so it may
 *	hold locks that a fault on a mapping of this device would need.
 *	Returns 0 or a negative errno.
 * @mmap: map [@pos, @pos + vma size) of the region into @vma.  The core has
 *	checked that the mapping is shared and lies inside the region.
 *	Returns 0 or a negative errno.
 */
struct vslice_region_ops {
	int (*rw)(struct vslice_core_dev *cdev, const struct vslice_region *r,
		  void *buf, u64 pos, size_t count, bool write);
	int (*mmap)(struct vslice_core_dev *cdev, const struct vslice_region *r,
		    struct vm_area_struct *vma, u64 pos);
};

/**
 * struct vslice_region - one entry of the region table
 * @size: size in bytes; 0 for an absent region
 * @flags: VFIO_REGION_INFO_FLAG_READ / _WRITE / _MMAP
 * @type: VFIO_REGION_INFO_CAP_TYPE type, 0 for none
 * @subtype: VFIO_REGION_INFO_CAP_TYPE subtype
 * @ops: callbacks; NULL for an absent region
 * @iomem: for &vslice_region_iomem_ops: the device memory behind the
 *	   region, mapped write-combining (ioremap_wc(), whose memory type
 *	   user mappings take too)
 * @phys: for &vslice_region_iomem_ops: its bus address, for user mappings
 * @backing: for &vslice_region_iomem_ops: bytes of device memory at
 *	     @iomem; the region shows [@base, @base + @size) of it
 * @base: for &vslice_region_iomem_ops: where the region starts in the
 *	  device memory.  A model may move it (vslice_core_set_base_locked());
 *	  protected by &vslice_core_dev.lock.
 *
 * GET_REGION_INFO, read/write and mmap all read this one description.
 */
struct vslice_region {
	u64 size;
	u32 flags;
	u32 type;
	u32 subtype;
	const struct vslice_region_ops *ops;
	void __iomem *iomem;
	phys_addr_t phys;
	u64 backing;
	u64 base;
};

/*
 * A window straight onto device memory: trapped accesses copy to and
 * from it, mmap maps its pages write-combining, with no further trap.
 * Bytes of the window past the end of the device memory read as zero,
 * ignore writes and are not mapped.
 */
extern const struct vslice_region_ops vslice_region_iomem_ops;

/**
 * vslice_copy_small() - copy a few bytes, inline for register widths
 * @dst: destination
 * @src: source
 * @n: bytes; 1, 2, 4 and 8 compile to single moves
 *
 * Trapped register accesses copy 1 to 8 bytes many times a second; a
 * call to memcpy() for each costs more than the access itself.
 */
static __always_inline void vslice_copy_small(void *dst, const void *src,
					      size_t n)
{
	switch (n) {
	case 1:
		memcpy(dst, src, 1);
		break;
	case 2:
		memcpy(dst, src, 2);
		break;
	case 4:
		memcpy(dst, src, 4);
		break;
	case 8:
		memcpy(dst, src, 8);
		break;
	default:
		memcpy(dst, src, n);
		break;
	}
}

/**
 * vslice_access_size() - width of the next piece of a split access
 * @pos: position of the piece
 * @count: bytes left
 *
 * Register files are accessed in naturally aligned pieces of 4, 2 or 1
 * bytes, the way a CPU's or QEMU's memory core splits an access.
 *
 * Return: 4, 2 or 1.
 */
static inline unsigned int vslice_access_size(u64 pos, size_t count)
{
	if (count >= 4 && IS_ALIGNED(pos, 4))
		return 4;
	if (count >= 2 && IS_ALIGNED(pos, 2))
		return 2;
	return 1;
}

/**
 * struct vslice_cfg - virtual PCI config space
 * @val: current contents, in bus (little-endian) byte order
 * @init: power-on contents, restored by a reset
 * @wmask: per-bit write mask: 1 = the user may change the bit
 * @w1cmask: per-bit write-one-to-clear mask
 * @coremask: per-bit mask of state the core keeps itself (the MSI enable
 *	      bit follows the interrupt the user enabled): neither a write
 *	      nor a migration stream sets these bits
 *
 * Protected by the owning device's &vslice_core_dev.lock.  The command
 * register's INTx disable bit gates INTx, and the status register's
 * interrupt bit is not stored: reads show the line's level (see
 * vslice_irq_cfg_changed_locked(), vslice_irq_status_byte()).
 */
struct vslice_cfg {
	u8 val[VSLICE_CFG_SIZE];
	u8 init[VSLICE_CFG_SIZE];
	u8 wmask[VSLICE_CFG_SIZE];
	u8 w1cmask[VSLICE_CFG_SIZE];
	u8 coremask[VSLICE_CFG_SIZE];
};

/**
 * struct vslice_cfg_bar - a BAR as the model wants it presented
 * @size: size in bytes, a power of two of at least 16; 0 = no BAR
 * @flags: the read-only low bits (PCI_BASE_ADDRESS_SPACE_IO, _MEM_TYPE_64,
 *	   _MEM_PREFETCH)
 */
struct vslice_cfg_bar {
	u64 size;
	u32 flags;
};

/**
 * struct vslice_cfg_desc - identity of the emulated PCI function
 * @vendor: vendor ID
 * @device: device ID
 * @subsys_vendor: subsystem vendor ID
 * @subsys_device: subsystem ID
 * @class: 24-bit class code (base class, sub-class, prog-if)
 * @revision: revision ID
 * @irq_pin: the INTx pin (1 = INTA), 0 for none
 * @msi: give the function a 64-bit, single-vector MSI capability at
 *	 VSLICE_CFG_MSI_POS; its enable bit is the core's to set (the user
 *	 enables MSI with VFIO_DEVICE_SET_IRQS, as with vfio-pci)
 * @bars: the six standard BARs (a 64-bit BAR uses the next slot too)
 */
struct vslice_cfg_desc {
	u16 vendor;
	u16 device;
	u16 subsys_vendor;
	u16 subsys_device;
	u32 class;
	u8 revision;
	u8 irq_pin;
	bool msi;
	struct vslice_cfg_bar bars[PCI_STD_NUM_BARS];
};

/**
 * struct vslice_plane - a display plane, as a model describes it
 * @drm_plane_type: in: the plane asked for (DRM_PLANE_TYPE_*; a VMM that
 *		    does not say asks with 0)
 * @region_index: out: the region that maps the plane, from its start
 * @drm_format: out: its DRM fourcc
 * @width: out: in pixels
 * @height: out: in lines
 * @stride: out: bytes per line
 * @size: out: bytes of the region the plane spans
 *
 * The core zeroes the outputs before asking: a model that leaves them so
 * describes an empty plane.
 */
struct vslice_plane {
	u32 drm_plane_type;
	u32 region_index;
	u32 drm_format;
	u32 width;
	u32 height;
	u32 stride;
	u64 size;
};

/**
 * struct vslice_model_ops - what a device model adds to the core
 * @open: called on the first open of the device, after the core reset the
 *	  config space; may be NULL.  Returns 0 or a negative errno.
 * @close: called on the last close; may be NULL.
 * @reset: restore the model's power-on state (VFIO_DEVICE_RESET and
 *	   open); called with &vslice_core_dev.lock held.
 * @query_plane: describe the plane of a region-plane query
 *		 (VFIO_DEVICE_QUERY_GFX_PLANE); NULL if the device has no
 *		 display.  Returns 0 or a negative errno.
 * @release: free the model's part of the device; called once, when the
 *	     last reference to the vfio_device goes, and last: after the
 *	     core has freed its part, so that it may drop the reference
 *	     that keeps the module's code in use.
 * @mig_blob_size: bytes of model state in a migration stream
 * @mig_save: write the model's state into @blob, little-endian; called
 *	      with &vslice_core_dev.lock held on a stopped device
 * @mig_load: check the state in @blob and, only if all of it is sound,
 *	      make it the device's; called with &vslice_core_dev.lock held,
 *	      the stream's config space already in place (put back if this
 *	      fails).  Returns 0 or -EINVAL.
 * @dma_unmap: the user unmapped [@iova, @iova + @length) of the device's
 *	       IOMMU: drop whatever the model holds of it; may be NULL
 * @set_running: migration stops the device (@running false: RUNNING to
 *		 STOP, PRE_COPY to STOP_COPY) or lets it run again (STOP to
 *		 RUNNING, and a reset or close that ends a migration).
 *		 Stopping finishes the work the device has in hand, so that
 *		 nothing of it changes after, and holds back anything
 *		 submitted until it runs again; called with
 *		 &vslice_core_dev.mig_lock held.  May be NULL.
 */
struct vslice_model_ops {
	int (*open)(struct vslice_core_dev *cdev);
	void (*close)(struct vslice_core_dev *cdev);
	void (*reset)(struct vslice_core_dev *cdev);
	int (*query_plane)(struct vslice_core_dev *cdev,
			   struct vslice_plane *plane);
	void (*release)(struct vslice_core_dev *cdev);
	size_t mig_blob_size;
	void (*mig_save)(struct vslice_core_dev *cdev, void *blob);
	int (*mig_load)(struct vslice_core_dev *cdev, const void *blob);
	void (*dma_unmap)(struct vslice_core_dev *cdev, u64 iova, u64 length);
	void (*set_running)(struct vslice_core_dev *cdev, bool running);
};

/**
 * struct vslice_core_stats - counters of one device, for sysfs and tests
 * @trapped: read/write calls on the device fd (trapped accesses), counted
 *	     per CPU so that the hot path has no atomic operation
 * @resets: VFIO_DEVICE_RESET calls
 * @opens: first opens of the device
 */
struct vslice_core_stats {
	u64 __percpu *trapped;
	atomic64_t resets;
	atomic64_t opens;
};

/**
 * struct vslice_region_map - what a fault of a region's mapping needs
 * @cdev: the device (it outlives every mapping: each holds its file)
 * @end_pfn: the pfn where the device memory behind the region ends
 * @bar: the region is a BAR: its mappings fault only while memory
 *	 decoding is on
 */
struct vslice_region_map {
	struct vslice_core_dev *cdev;
	unsigned long end_pfn;
	bool bar;
};

/**
 * struct vslice_core_counts - a device's counters, as models read them
 * @trapped: trapped accesses (read/write calls on the device fd)
 * @resets: VFIO_DEVICE_RESET calls
 * @opens: first opens of the device
 * @irqs: interrupts signalled to the user (INTx and MSI eventfds)
 */
struct vslice_core_counts {
	u64 trapped;
	u64 resets;
	u64 opens;
	u64 irqs;
};

/*
 * The unit of dirty tracking and of a migration stream's records: a chunk
 * of device memory, a power of two of pages (vfio_core/dirty.c).  Chosen
 * by make bench's precopy_fastpath_write_ratio (a guest writing its whole
 * slice right after a pre-copy pass, against untracked): 0.113 with 4 KiB
 * (a fault per page), 0.313 with 64 KiB, 0.335 with 256 KiB; past 64 KiB
 * the cost left is the PTEs, and a write sends ever more again.
 */
#define VSLICE_DIRTY_CHUNK		SZ_64K

/**
 * struct vslice_core_dirty - which chunks of migrating memory must be sent
 * @map: one bit per chunk (VSLICE_DIRTY_CHUNK) of the memory that
 *	 migrates: set while the chunk has not been sent since it last
 *	 changed.  NULL when no saving stream is open.  Bits are set
 *	 (atomically) with &vslice_core_dev.memory_lock held for reading,
 *	 cleared and the map replaced with it held for writing.
 * @chunks: bits in @map
 * @first_pfn: the first pfn of the chunk of bit 0
 * @tracking: writes to the memory set bits: every user mapping of a clean
 *	      chunk is read-only, so that the first write faults.  Changed
 *	      with &vslice_core_dev.memory_lock held for writing.
 * @dirtied: bytes of chunks that went from clean to dirty in this round
 * @round_start: when this round began (ns, monotonic)
 * @rate: bytes per second the user dirtied in the last complete round
 */
struct vslice_core_dirty {
	unsigned long *map;
	unsigned long chunks;
	unsigned long first_pfn;
	bool tracking;
	atomic64_t dirtied;
	u64 round_start;
	u64 rate;
};

/* Interrupts a model's function has (&struct vslice_core_irq.caps). */
#define VSLICE_IRQ_INTX			BIT(0)
#define VSLICE_IRQ_MSI			BIT(1)

/* Where vslice_cfg_init() puts the MSI capability, when asked for one. */
#define VSLICE_CFG_MSI_POS		0x40

/**
 * struct vslice_core_irq - the function's INTx and MSI, as vfio-pci has them
 * @lock: protects the fields below but @caps and @unmask; a spinlock, as
 *	  models raise interrupts from any context and the unmask eventfd's
 *	  handler runs in its wakeup
 * @caps: VSLICE_IRQ_INTX and/or VSLICE_IRQ_MSI, set by the model once
 * @type: VFIO_PCI_INTX_IRQ_INDEX or VFIO_PCI_MSI_IRQ_INDEX while the user
 *	  has that one enabled, else VFIO_PCI_NUM_IRQS
 * @trigger: the eventfd of @type
 * @level: the model's interrupt is asserted (INTx is level-triggered)
 * @masked: INTx is masked (by the user, or automatically when it fires)
 * @disabled: the command register's INTx disable bit is set: INTx does
 *	      not fire, whatever @masked says (as on a PCI 2.3 function)
 * @signalled: times an eventfd was signalled for the model's interrupt
 * @unmask: the INTx unmask eventfd (vfio_virqfd), under
 *	    &vslice_core_dev.lock
 * @unmask_ctx: its eventfd, which the trigger may not be, under
 *		&vslice_core_dev.lock
 */
struct vslice_core_irq {
	/* protects type, trigger, level, masked, disabled, signalled */
	spinlock_t lock;
	u32 caps;
	unsigned int type;
	struct eventfd_ctx *trigger;
	bool level;
	bool masked;
	bool disabled;
	u64 signalled;
	struct virqfd *unmask;
	struct eventfd_ctx *unmask_ctx;
};

/**
 * struct vslice_core_dev - a vfio device served by the vslice core
 * @vdev: the vfio device; must stay first (vfio_alloc_device() checks it)
 * @model: the model's callbacks, set before registration
 * @lock: serialises the emulated state: @cfg, the model's register file
 *	  and @req_trigger.  Never held while touching user memory, never
 *	  held across anything that sleeps (see @seq).
 * @seq: lets trapped reads see @cfg and the model's registers without
 *	 taking @lock: vslice_core_lock() makes every change a write
 *	 section of it, vslice_core_read_begin()/_retry() bracket a read.
 * @cfg: virtual config space
 * @regions: the region table
 * @num_regions: number of entries of @regions reported to the user
 * @req_trigger: eventfd of the request interrupt, or NULL
 * @irq: the model's interrupts
 * @stats: counters
 * @memory_lock: keeps memory decoding (the command register's memory
 *		 bit) from changing under a fault of a BAR mapping: faults
 *		 take it for reading; whatever may turn decoding off or
 *		 reset the device takes it for writing around the change and
 *		 the zap of the mappings.  Taken before @lock.
 * @mapping: the address space the device file's mappings live in, learnt
 *	     at the first mmap (NULL: nothing was ever mapped); user
 *	     mappings are found and zapped there
 * @maps: what a fault of a mapping of each region needs (set with the
 *	  region by vslice_core_set_region()), see
 *	  &struct vslice_region_map
 * @dma_lock: held while vslice_core_dma_rw() has user pages pinned
 * @mig_lock: serialises migration state changes; taken before @lock
 * @mig_state: the VFIO migration state
 * @mig_file: the open saving or resuming data file, or NULL
 * @mig_region: the region whose device memory migrates, or
 *	       VSLICE_MIG_NO_MEMORY
 * @mig_compat: what a stream must come from to be accepted here
 * @dirty: the pages of @mig_region's memory a saving stream must (re)send
 */
struct vslice_core_dev {
	struct vfio_device vdev;
	const struct vslice_model_ops *model;
	/* protects cfg, the model's registers and req_trigger */
	struct mutex lock;
	seqcount_mutex_t seq;
	struct vslice_cfg cfg;
	struct vslice_region regions[VSLICE_MAX_REGIONS];
	u32 num_regions;
	struct eventfd_ctx *req_trigger;
	struct vslice_core_irq irq;
	struct vslice_core_stats stats;
	/* protects memory decoding against BAR faults; taken before lock */
	struct rw_semaphore memory_lock;
	struct address_space *mapping;
	struct vslice_region_map maps[VSLICE_MAX_REGIONS];
	/* held while user pages are pinned for a model's DMA */
	struct mutex dma_lock;
	/* protects mig_state and mig_file; taken before lock */
	struct mutex mig_lock;
	enum vfio_device_mig_state mig_state;
	struct file *mig_file;
	unsigned int mig_region;
	char mig_compat[VSLICE_MIG_COMPAT_LEN];
	struct vslice_core_dirty dirty;
};

/* The core's vfio_device_ops, for vslice_core_alloc() only. */
extern const struct vfio_device_ops vslice_core_vfio_ops;

static inline struct vslice_core_dev *
vslice_core_from_vdev(struct vfio_device *vdev)
{
	return container_of(vdev, struct vslice_core_dev, vdev);
}

/*
 * The device's lifecycle, which the core owns: a model allocates its
 * device struct with vslice_core_alloc(), sets the core up with
 * vslice_core_init(), makes it visible with vslice_core_register(), and
 * undoes that with vslice_core_unregister() (which waits for the user to
 * let go) and vslice_core_put(); the last reference frees the device
 * through the core, which calls the model's @release.
 */

/**
 * vslice_core_alloc() - allocate a model's device
 * @type: the name of the model's device struct (without "struct")
 * @member: its struct vslice_core_dev, which must be its first member
 * @parent: the struct device the new device hangs off (the mdev's)
 *
 * Return: the new device, holding one reference, or an ERR_PTR().
 */
#define vslice_core_alloc(type, member, parent)				\
	vfio_alloc_device(type, member.vdev, parent, &vslice_core_vfio_ops)

/**
 * vslice_core_register() - make a set-up device visible to users
 * @cdev: device, after vslice_core_init()
 *
 * Return: 0 or a negative errno.
 */
static inline int vslice_core_register(struct vslice_core_dev *cdev)
{
	return vfio_register_emulated_iommu_dev(&cdev->vdev);
}

/**
 * vslice_core_unregister() - take a registered device away from users
 * @cdev: device
 *
 * Asks the user to let go (the request interrupt) and waits until it has.
 */
static inline void vslice_core_unregister(struct vslice_core_dev *cdev)
{
	vfio_unregister_group_dev(&cdev->vdev);
}

/**
 * vslice_core_put() - drop a reference taken by vslice_core_alloc()
 * @cdev: device
 */
static inline void vslice_core_put(struct vslice_core_dev *cdev)
{
	vfio_put_device(&cdev->vdev);
}

/**
 * vslice_core_lock() - take the state lock to change emulated state
 * @cdev: device
 *
 * Lockless readers retry while a change is in progress.  Nothing in the
 * section may sleep.
 */
static inline void vslice_core_lock(struct vslice_core_dev *cdev)
{
	mutex_lock(&cdev->lock);
	write_seqcount_begin(&cdev->seq);
}

/**
 * vslice_core_unlock() - end a change begun by vslice_core_lock()
 * @cdev: device
 */
static inline void vslice_core_unlock(struct vslice_core_dev *cdev)
{
	write_seqcount_end(&cdev->seq);
	mutex_unlock(&cdev->lock);
}

/**
 * vslice_core_assert_held() - the caller holds vslice_core_lock()
 * @cdev: device
 */
static inline void vslice_core_assert_held(struct vslice_core_dev *cdev)
{
	lockdep_assert_held(&cdev->lock);
}

/**
 * vslice_core_read_begin() - start a lockless read of emulated state
 * @cdev: device
 *
 * Return: a cookie for vslice_core_read_retry().
 */
static inline unsigned int vslice_core_read_begin(struct vslice_core_dev *cdev)
{
	return read_seqcount_begin(&cdev->seq);
}

/**
 * vslice_core_read_retry() - did the state change during the read?
 * @cdev: device
 * @seq: cookie from vslice_core_read_begin()
 *
 * Return: true if the read must be done again.
 */
static inline bool vslice_core_read_retry(struct vslice_core_dev *cdev,
					  unsigned int seq)
{
	return read_seqcount_retry(&cdev->seq, seq);
}

int vslice_core_init(struct vslice_core_dev *cdev,
		     const struct vslice_model_ops *model);
void vslice_core_counts(struct vslice_core_dev *cdev,
			struct vslice_core_counts *counts);
void vslice_core_debugfs_add(struct vslice_core_dev *cdev, struct dentry *dir);
void vslice_core_set_region(struct vslice_core_dev *cdev, unsigned int index,
			    const struct vslice_region *region);
void vslice_core_set_base_locked(struct vslice_core_dev *cdev,
				 unsigned int index, u64 base);
u64 vslice_core_base_locked(struct vslice_core_dev *cdev, unsigned int index);
void vslice_core_enable_migration(struct vslice_core_dev *cdev,
				  unsigned int region, const char *compat);
u64 vslice_core_dirty_rate(struct vslice_core_dev *cdev);

void vslice_core_irq_init(struct vslice_core_dev *cdev, u32 caps);
void vslice_core_irq_raise(struct vslice_core_dev *cdev);
void vslice_core_irq_lower(struct vslice_core_dev *cdev);
void vslice_core_irq_restore(struct vslice_core_dev *cdev, bool level);

int vslice_core_dma_rw(struct vslice_core_dev *cdev, u64 iova, void *buf,
		       size_t len, bool write);

void vslice_cfg_init(struct vslice_cfg *cfg,
		     const struct vslice_cfg_desc *desc);
void vslice_cfg_reset(struct vslice_cfg *cfg);
void vslice_cfg_rw(struct vslice_cfg *cfg, void *buf, u32 pos, u32 count,
		   bool write);

#endif /* VSLICE_CORE_H */
