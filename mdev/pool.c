// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice VRAM pool.
 *
 * Placement is the kernel's buddy allocator: a slice of size S is one
 * buddy block of order S, so it is naturally aligned, and a free aligned
 * range of size S exists exactly when S fits.
 *
 * Nobody ever gets VRAM someone else wrote.  The whole VRAM starts out
 * dirty; a released slice stays allocated in the buddy, on the dirty
 * list, until the scrub worker has cleared it and only then goes back to
 * the buddy.  Creating an instance therefore never clears memory itself
 * unless it needs a slice the worker has not reached yet, in which case it
 * waits for the worker.
 *
 * Availability is counted on a bitmap of granules (the smallest slice
 * size) that are held by instances: a dirty granule counts as free,
 * because the slice will be clean by the time a create needs it.
 */

#include <kunit/visibility.h>
#include <linux/bitmap.h>
#include <linux/io.h>
#include <linux/log2.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sizes.h>

#include "pool.h"

/* Clear in steps of this size so the worker yields between them. */
#define VSLICE_SCRUB_STEP	SZ_1M

static void vslice_pool_mark_locked(struct vslice_pool *pool, u64 offset,
				    u64 size, bool used)
{
	unsigned long first = offset / pool->granule;
	unsigned long nr = size / pool->granule;

	lockdep_assert_held(&pool->lock);
	if (used)
		bitmap_set(pool->used, first, nr);
	else
		bitmap_clear(pool->used, first, nr);
}

static void vslice_pool_clear(struct vslice_pool *pool, u64 offset, u64 size)
{
	u64 done;

	for (done = 0; done < size; done += VSLICE_SCRUB_STEP) {
		memset_io(pool->vram + offset + done, 0,
			  min_t(u64, size - done, VSLICE_SCRUB_STEP));
		cond_resched();
	}
}

static void vslice_pool_scrub_work(struct work_struct *work)
{
	struct vslice_pool *pool = container_of(work, struct vslice_pool,
						scrub_work);
	struct vslice_buddy_block *block;

	for (;;) {
		mutex_lock(&pool->lock);
		block = list_first_entry_or_null(&pool->dirty,
						 struct vslice_buddy_block, link);
		if (!block) {
			mutex_unlock(&pool->lock);
			return;
		}
		list_del(&block->link);
		pool->scrubbing++;
		mutex_unlock(&pool->lock);

		vslice_pool_clear(pool, vslice_buddy_block_offset(block),
				  vslice_buddy_block_size(&pool->mm, block));

		mutex_lock(&pool->lock);
		vslice_buddy_free_block(&pool->mm, block);
		pool->scrubbing--;
		mutex_unlock(&pool->lock);
	}
}

/* Put a block on the dirty list; the worker clears and frees it. */
static void vslice_pool_dirty_locked(struct vslice_pool *pool,
				     struct vslice_buddy_block *block)
{
	lockdep_assert_held(&pool->lock);
	list_add_tail(&block->link, &pool->dirty);
	schedule_work(&pool->scrub_work);
}

/**
 * vslice_pool_init() - set up the pool of one device's VRAM
 * @pool: pool to initialise
 * @vram: the VRAM, mapped
 * @size: bytes of VRAM, a power of two
 * @granule: the smallest slice size, a power of two of at least PAGE_SIZE
 *
 * All of the VRAM starts dirty: whatever firmware or a previous driver
 * left there is cleared in the background before the first slice is
 * handed out.
 *
 * Return: 0 or a negative errno.
 */
int vslice_pool_init(struct vslice_pool *pool, void __iomem *vram, u64 size,
		     u64 granule)
{
	LIST_HEAD(blocks);
	int ret;

	mutex_init(&pool->lock);
	INIT_LIST_HEAD(&pool->dirty);
	INIT_WORK(&pool->scrub_work, vslice_pool_scrub_work);
	pool->vram = vram;
	pool->size = size;
	pool->granule = granule;
	pool->scrubbing = 0;

	pool->reserved = 0;
	pool->used = bitmap_zalloc(size / granule, GFP_KERNEL);
	if (!pool->used) {
		ret = -ENOMEM;
		goto err_destroy;
	}
	pool->resv = kcalloc(size / granule, sizeof(*pool->resv), GFP_KERNEL);
	if (!pool->resv) {
		ret = -ENOMEM;
		goto err_free_used;
	}

	ret = vslice_buddy_init(&pool->mm, size, granule);
	if (ret)
		goto err_free_resv;

	/* The whole VRAM, as one block, is the first thing to clear. */
	ret = vslice_buddy_alloc_blocks(&pool->mm, 0, size, size, size,
					&blocks, 0);
	if (ret)
		goto err_fini_buddy;

	mutex_lock(&pool->lock);
	vslice_pool_dirty_locked(pool, list_first_entry(&blocks,
							struct vslice_buddy_block,
							link));
	mutex_unlock(&pool->lock);
	return 0;

err_fini_buddy:
	vslice_buddy_fini(&pool->mm);
err_free_resv:
	kfree(pool->resv);
err_free_used:
	bitmap_free(pool->used);
err_destroy:
	mutex_destroy(&pool->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(vslice_pool_init);

/**
 * vslice_pool_fini() - tear down a pool whose slices have all been freed
 * @pool: pool
 *
 * Waits for the scrub worker, so nothing touches the VRAM afterwards.
 */
void vslice_pool_fini(struct vslice_pool *pool)
{
	unsigned long g;

	flush_work(&pool->scrub_work);
	WARN_ON(!list_empty(&pool->dirty) || pool->scrubbing);
	for (g = 0; g < pool->size / pool->granule; g++)
		if (pool->resv[g])
			vslice_buddy_free_block(&pool->mm, pool->resv[g]);
	vslice_buddy_fini(&pool->mm);
	kfree(pool->resv);
	bitmap_free(pool->used);
	mutex_destroy(&pool->lock);
}
EXPORT_SYMBOL_IF_KUNIT(vslice_pool_fini);

/* One attempt at a naturally aligned block of @size from the buddy. */
static int vslice_pool_try_alloc_locked(struct vslice_pool *pool, u64 size,
					struct vslice_slice *slice)
{
	LIST_HEAD(blocks);
	int ret;

	lockdep_assert_held(&pool->lock);
	ret = vslice_buddy_alloc_blocks(&pool->mm, 0, pool->size, size, size,
					&blocks, 0);
	if (ret)
		return ret;

	slice->block = list_first_entry(&blocks, struct vslice_buddy_block,
					link);
	slice->offset = vslice_buddy_block_offset(slice->block);
	slice->size = size;
	vslice_pool_mark_locked(pool, slice->offset, size, true);
	return 0;
}

/**
 * vslice_pool_alloc() - take a clean slice
 * @pool: pool
 * @size: slice size, a power of two no smaller than the granule
 * @slice: filled in on success
 *
 * If the slice can only come from VRAM still being cleared, waits for
 * the scrub worker first.
 *
 * Return: 0, -EINVAL for a bad size, -ENOSPC if no aligned range of
 * @size is free, -ENOMEM if the allocator could not allocate its own
 * bookkeeping.
 */
int vslice_pool_alloc(struct vslice_pool *pool, u64 size,
		      struct vslice_slice *slice)
{
	bool waited = false;
	int ret;

	if (!is_power_of_2(size) || size < pool->granule || size > pool->size)
		return -EINVAL;

	mutex_lock(&pool->lock);
	for (;;) {
		ret = vslice_pool_try_alloc_locked(pool, size, slice);
		if (!ret || waited ||
		    (list_empty(&pool->dirty) && !pool->scrubbing))
			break;
		mutex_unlock(&pool->lock);
		flush_work(&pool->scrub_work);
		waited = true;
		mutex_lock(&pool->lock);
	}
	mutex_unlock(&pool->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(vslice_pool_alloc);

/**
 * vslice_pool_free() - give a slice back
 * @pool: pool
 * @slice: slice from vslice_pool_alloc(); nothing may map it any more
 *
 * The slice counts as available at once and is cleared in the background
 * before it can be handed out again.
 */
void vslice_pool_free(struct vslice_pool *pool, struct vslice_slice *slice)
{
	mutex_lock(&pool->lock);
	vslice_pool_mark_locked(pool, slice->offset, slice->size, false);
	vslice_pool_dirty_locked(pool, slice->block);
	mutex_unlock(&pool->lock);
	slice->block = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(vslice_pool_free);

/**
 * vslice_pool_clear_slice() - clear a slice that is in use, now
 * @pool: pool
 * @slice: slice from vslice_pool_alloc(), which nothing maps at the moment
 *
 * The same clearing the scrub worker does for a freed slice, for a slice
 * whose owner wants it clean before its next user (see clear_on_close in
 * Documentation/vslice/admin-guide.rst).  Sleeps; takes no lock.
 */
void vslice_pool_clear_slice(struct vslice_pool *pool,
			     const struct vslice_slice *slice)
{
	vslice_pool_clear(pool, slice->offset, slice->size);
}
EXPORT_SYMBOL_IF_KUNIT(vslice_pool_clear_slice);

/**
 * vslice_pool_available() - how many slices of one size fit right now
 * @pool: pool
 * @size: slice size, a power of two no smaller than the granule
 *
 * Counts the naturally aligned ranges of @size with no granule in use.
 * Those are disjoint, so this many creates of @size would all succeed.
 *
 * Return: the number of slices of @size that can be created.
 */
unsigned int vslice_pool_available(struct vslice_pool *pool, u64 size)
{
	unsigned long nbits = pool->size / pool->granule;
	unsigned long step = size / pool->granule;
	unsigned int count = 0;
	unsigned long i;

	if (!is_power_of_2(size) || size < pool->granule || size > pool->size)
		return 0;

	mutex_lock(&pool->lock);
	for (i = 0; i < nbits; i += step)
		if (find_next_bit(pool->used, i + step, i) >= i + step)
			count++;
	mutex_unlock(&pool->lock);
	return count;
}
EXPORT_SYMBOL_IF_KUNIT(vslice_pool_available);

/* Give back one reserved granule, to be cleared if the host may have used it. */
static void vslice_pool_unreserve_locked(struct vslice_pool *pool,
					 unsigned long g, bool dirty)
{
	lockdep_assert_held(&pool->lock);
	vslice_pool_mark_locked(pool, g * pool->granule, pool->granule, false);
	if (dirty)
		vslice_pool_dirty_locked(pool, pool->resv[g]);
	else
		vslice_buddy_free_block(&pool->mm, pool->resv[g]);
	pool->resv[g] = NULL;
	pool->reserved -= pool->granule;
}

/* Take granule @g out of the buddy for the host. */
static int vslice_pool_reserve_locked(struct vslice_pool *pool,
				      unsigned long g)
{
	u64 start = g * pool->granule;
	LIST_HEAD(blocks);
	int ret;

	lockdep_assert_held(&pool->lock);
	ret = vslice_buddy_alloc_blocks(&pool->mm, start, start + pool->granule,
					pool->granule, pool->granule, &blocks,
					0);
	if (ret)
		return ret;
	pool->resv[g] = list_first_entry(&blocks, struct vslice_buddy_block,
					 link);
	vslice_pool_mark_locked(pool, start, pool->granule, true);
	pool->reserved += pool->granule;
	return 0;
}

/**
 * vslice_pool_set_reserved() - hold back the top of the VRAM
 * @pool: pool
 * @size: bytes to hold back, a multiple of the granule
 *
 * Growing the reservation takes granules downwards from the top and is
 * refused, changing nothing, if an instance holds one of them.  Shrinking
 * gives granules back to be cleared before any tenant gets them.  Callers
 * serialise calls (the parent's lock).
 *
 * Return: 0, -EINVAL for a bad size, -EBUSY if instances are in the way,
 * -ENOMEM.
 */
int vslice_pool_set_reserved(struct vslice_pool *pool, u64 size)
{
	unsigned long first_new, first_old, g;
	bool waited = false;
	int ret = 0;

	if (!IS_ALIGNED(size, pool->granule) || size > pool->size)
		return -EINVAL;
	first_new = (pool->size - size) / pool->granule;

	mutex_lock(&pool->lock);
	first_old = (pool->size - pool->reserved) / pool->granule;
	for (g = first_old; g > first_new; ) {
		if (test_bit(g - 1, pool->used)) {
			ret = -EBUSY;
			break;
		}
		ret = vslice_pool_reserve_locked(pool, g - 1);
		if (ret && !waited &&
		    (!list_empty(&pool->dirty) || pool->scrubbing)) {
			/* still being cleared: wait for it, then try again */
			mutex_unlock(&pool->lock);
			flush_work(&pool->scrub_work);
			waited = true;
			mutex_lock(&pool->lock);
			continue;
		}
		if (ret) {
			/* no room there: a tenant's block covers it */
			if (ret == -ENOSPC)
				ret = -EBUSY;
			break;
		}
		g--;
	}
	if (ret) {
		/* take back what this call reserved: those were clean */
		for (; g < first_old; g++)
			if (pool->resv[g])
				vslice_pool_unreserve_locked(pool, g, false);
	}
	for (g = first_old; g < first_new; g++)
		vslice_pool_unreserve_locked(pool, g, true);
	mutex_unlock(&pool->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(vslice_pool_set_reserved);

/**
 * vslice_pool_reserved() - bytes held back at the top of the VRAM
 * @pool: pool
 *
 * Return: the size of the reservation.
 */
u64 vslice_pool_reserved(struct vslice_pool *pool)
{
	u64 reserved;

	mutex_lock(&pool->lock);
	reserved = pool->reserved;
	mutex_unlock(&pool->lock);
	return reserved;
}
EXPORT_SYMBOL_IF_KUNIT(vslice_pool_reserved);
