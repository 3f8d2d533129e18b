/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vslice VRAM pool: power-of-two, naturally aligned slices of one
 * device's VRAM, placed by the kernel's buddy allocator, cleared before
 * anyone gets them.
 */
#ifndef VSLICE_POOL_H
#define VSLICE_POOL_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/workqueue.h>

/*
 * The VRAM buddy allocator moved out of DRM as gpu_buddy (7.x has it, and
 * so does Debian's 6.12); drm_buddy before that.  This one is not a
 * version test: Kbuild looks for <linux/gpu_buddy.h>, because a stable
 * kernel may or may not carry the move.
 */
#ifdef VSLICE_HAVE_GPU_BUDDY
#include <linux/gpu_buddy.h>
#define vslice_buddy		gpu_buddy
#define vslice_buddy_block	gpu_buddy_block
#define vslice_buddy_init	gpu_buddy_init
#define vslice_buddy_fini	gpu_buddy_fini
#define vslice_buddy_alloc_blocks gpu_buddy_alloc_blocks
#define vslice_buddy_free_block	gpu_buddy_free_block
#define vslice_buddy_block_offset gpu_buddy_block_offset
#define vslice_buddy_block_size	gpu_buddy_block_size
#else
#include <drm/drm_buddy.h>
#define vslice_buddy		drm_buddy
#define vslice_buddy_block	drm_buddy_block
#define vslice_buddy_init	drm_buddy_init
#define vslice_buddy_fini	drm_buddy_fini
#define vslice_buddy_alloc_blocks drm_buddy_alloc_blocks
#define vslice_buddy_free_block	drm_buddy_free_block
#define vslice_buddy_block_offset drm_buddy_block_offset
#define vslice_buddy_block_size	drm_buddy_block_size
#endif

/**
 * struct vslice_slice - VRAM owned by one instance
 * @offset: byte offset in the parent's VRAM, a multiple of @size
 * @size: size in bytes, a power of two
 * @block: the buddy block behind it
 */
struct vslice_slice {
	u64 offset;
	u64 size;
	struct vslice_buddy_block *block;
};

/**
 * struct vslice_pool - the VRAM of one parent
 * @lock: protects @mm, @used, @dirty, @scrubbing, @reserved and @resv.
 *	  Nests inside the parent's lock; the scrub worker takes only this
 *	  one.
 * @mm: buddy allocator over the VRAM; blocks waiting to be cleared stay
 *	allocated in it until the worker has cleared them
 * @vram: the VRAM, for clearing
 * @size: bytes managed
 * @granule: smallest slice size; unit of @used
 * @used: one bit per granule held by an instance or reserved.  Granules
 *	  waiting to be cleared are not "used": availability counts them,
 *	  because a create that needs them waits for the worker.
 * @dirty: released blocks waiting to be cleared
 * @scrubbing: blocks the worker has taken off @dirty and is clearing
 * @scrub_work: clears @dirty in the background
 * @reserved: bytes held back at the top of the VRAM
 * @resv: the buddy block of each reserved granule, by granule index
 */
struct vslice_pool {
	/* protects mm, used, dirty, scrubbing, reserved and resv */
	struct mutex lock;
	struct vslice_buddy mm;
	void __iomem *vram;
	u64 size;
	u64 granule;
	unsigned long *used;
	struct list_head dirty;
	unsigned int scrubbing;
	struct work_struct scrub_work;
	u64 reserved;
	struct vslice_buddy_block **resv;
};

int vslice_pool_init(struct vslice_pool *pool, void __iomem *vram, u64 size,
		     u64 granule);
void vslice_pool_fini(struct vslice_pool *pool);
int vslice_pool_alloc(struct vslice_pool *pool, u64 size,
		      struct vslice_slice *slice);
void vslice_pool_free(struct vslice_pool *pool, struct vslice_slice *slice);
void vslice_pool_clear_slice(struct vslice_pool *pool,
			     const struct vslice_slice *slice);
unsigned int vslice_pool_available(struct vslice_pool *pool, u64 size);
int vslice_pool_set_reserved(struct vslice_pool *pool, u64 size);
u64 vslice_pool_reserved(struct vslice_pool *pool);

#endif /* VSLICE_POOL_H */
