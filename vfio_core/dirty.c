// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice dirty tracking: which pages of the memory that migrates changed
 * since a saving stream sent them.
 *
 * The memory is mapped straight into the guest, so the only place a
 * write can be seen is the page table.  While a device is in PRE_COPY,
 * every user mapping of a page that has been sent since it last changed
 * is read-only: the first write to it faults, the fault marks the page
 * dirty and lets the write through (pfn_mkwrite for a present read-only
 * PTE, the fault handler for a missing one), and the page stays writable
 * until the stream sends it again, which zaps it first.  A page is the
 * unit because a PTE is: a coarser chunk would fault once per page all
 * the same and send more.  Trapped writes mark what they wrote.
 *
 * Outside PRE_COPY nothing is tracked and every fault maps its page
 * writable at once: the fast path costs what it cost before (one fault
 * per page), never a write-protect fault.
 *
 * The protocol, with &vslice_core_dev.memory_lock:
 *
 *   sender (memory_lock for writing)     fault (memory_lock for reading)
 *   clear the bits of a run of pages     write: set the bit, map writable
 *   zap the run's PTEs                   read: map writable if the bit is
 *   (unlock, then copy the run)                set, read-only if it is not
 *
 * pfn_mkwrite sets the bit before the kernel makes the PTE writable; a
 * zap in between makes the kernel retry the write, which faults again.
 * So every write that lands after the sender copied a page leaves the
 * page's bit set, and the page goes again.
 */

#include <linux/bitmap.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "compat.h"
#include "private.h"

static const struct vslice_region *vslice_dirty_mem(struct vslice_core_dev *cdev)
{
	return &cdev->regions[cdev->mig_region];
}

/* Zap the user mappings of pages [@first, @first + @n) of the memory. */
static void vslice_dirty_zap(struct vslice_core_dev *cdev,
			     unsigned long first, unsigned long n)
{
	struct address_space *mapping = READ_ONCE(cdev->mapping);

	lockdep_assert_held_write(&cdev->memory_lock);
	if (mapping)
		unmap_mapping_range(mapping,
				    PFN_PHYS(cdev->dirty.first_pfn + first),
				    PFN_PHYS(n), true);
}

/**
 * vslice_dirty_start() - a saving stream begins: every page is to send
 * @cdev: device with migration enabled
 * @track: track writes from now on (PRE_COPY)
 *
 * Return: 0 or -ENOMEM.
 */
int vslice_dirty_start(struct vslice_core_dev *cdev, bool track)
{
	const struct vslice_region *mem = vslice_dirty_mem(cdev);
	unsigned long pages = DIV_ROUND_UP(mem->backing, PAGE_SIZE);
	struct vslice_core_dirty *d = &cdev->dirty;
	unsigned long *map;

	/* charged to the task that asked for the stream */
	map = kvmalloc_array(BITS_TO_LONGS(pages), sizeof(long),
			     GFP_KERNEL_ACCOUNT);
	if (!map)
		return -ENOMEM;
	bitmap_fill(map, pages);

	down_write(&cdev->memory_lock);
	if (WARN_ON(d->map)) {
		up_write(&cdev->memory_lock);
		kvfree(map);
		return -EBUSY;
	}
	d->map = map;
	d->pages = pages;
	d->first_pfn = PHYS_PFN(mem->phys);
	d->tracking = track;
	atomic64_set(&d->dirtied, 0);
	d->round_start = ktime_get_ns();
	/* a writable PTE from before would let writes go by unseen */
	if (track)
		vslice_dirty_zap(cdev, 0, pages);
	up_write(&cdev->memory_lock);
	return 0;
}

/**
 * vslice_dirty_freeze() - the device stopped: no more writes are tracked
 * @cdev: device
 *
 * The pages marked so far stay marked; the stream sends exactly them.
 */
void vslice_dirty_freeze(struct vslice_core_dev *cdev)
{
	down_write(&cdev->memory_lock);
	cdev->dirty.tracking = false;
	up_write(&cdev->memory_lock);
}

/**
 * vslice_dirty_stop() - the saving stream is over
 * @cdev: device
 */
void vslice_dirty_stop(struct vslice_core_dev *cdev)
{
	unsigned long *map;

	down_write(&cdev->memory_lock);
	map = cdev->dirty.map;
	cdev->dirty.map = NULL;
	cdev->dirty.tracking = false;
	up_write(&cdev->memory_lock);
	kvfree(map);
}

/* Mark page @i dirty; memory_lock is held for reading. */
static void vslice_dirty_mark(struct vslice_core_dirty *d, unsigned long i)
{
	if (!test_and_set_bit(i, d->map))
		atomic64_add(PAGE_SIZE, &d->dirtied);
}

/**
 * vslice_dirty_fault() - may a fault map this page writable?
 * @cdev: device; the caller holds memory_lock for reading
 * @pfn: the page
 * @write: the fault is a write, which the page may take
 *
 * Return: true unless writes are tracked, the page is clean and the
 * fault is a read: then the page is mapped read-only.
 */
bool vslice_dirty_fault(struct vslice_core_dev *cdev, unsigned long pfn,
			bool write)
{
	struct vslice_core_dirty *d = &cdev->dirty;
	unsigned long i = pfn - d->first_pfn;

	lockdep_assert_held_read(&cdev->memory_lock);
	if (!d->tracking || pfn < d->first_pfn || i >= d->pages)
		return true;
	if (write)
		vslice_dirty_mark(d, i);
	return test_bit(i, d->map);
}

/**
 * vslice_dirty_write() - a trapped write changed device memory
 * @cdev: device; the caller holds memory_lock for reading
 * @phys: bus address of the first byte written
 * @len: bytes written, at least one
 */
void vslice_dirty_write(struct vslice_core_dev *cdev, phys_addr_t phys,
			u64 len)
{
	struct vslice_core_dirty *d = &cdev->dirty;
	unsigned long pfn, last = PHYS_PFN(phys + len - 1);

	lockdep_assert_held_read(&cdev->memory_lock);
	if (!d->tracking)
		return;
	for (pfn = PHYS_PFN(phys); pfn <= last; pfn++)
		if (pfn >= d->first_pfn && pfn - d->first_pfn < d->pages)
			vslice_dirty_mark(d, pfn - d->first_pfn);
}

/**
 * vslice_dirty_take() - take the next run of pages to send
 * @cdev: device with a saving stream
 * @from: first page to look at
 * @max: most pages in a run
 * @first: set to the run's first page
 *
 * Clears the run's bits and, while writes are tracked, zaps its user
 * mappings, so that a write after this makes the pages dirty again.
 * The caller copies the run after this returns, without memory_lock.
 *
 * Return: pages in the run; 0 if no page from @from on is dirty.
 */
unsigned long vslice_dirty_take(struct vslice_core_dev *cdev,
				unsigned long from, unsigned long max,
				unsigned long *first)
{
	struct vslice_core_dirty *d = &cdev->dirty;
	unsigned long start, end;

	down_write(&cdev->memory_lock);
	start = find_next_bit(d->map, d->pages, from);
	if (start >= d->pages) {
		up_write(&cdev->memory_lock);
		return 0;
	}
	end = find_next_zero_bit(d->map, min(d->pages, start + max), start);
	bitmap_clear(d->map, start, end - start);
	if (d->tracking)
		vslice_dirty_zap(cdev, start, end - start);
	up_write(&cdev->memory_lock);
	*first = start;
	return end - start;
}

/**
 * vslice_dirty_runs() - what taking every dirty page in a range would give
 * @cdev: device with a saving stream
 * @from: first page
 * @to: page after the last
 * @max: most pages in a run, as for vslice_dirty_take()
 * @runs: set to the number of runs vslice_dirty_take() would return
 *
 * Return: the dirty pages in [@from, @to).
 */
unsigned long vslice_dirty_runs(struct vslice_core_dev *cdev,
				unsigned long from, unsigned long to,
				unsigned long max, unsigned long *runs)
{
	struct vslice_core_dirty *d = &cdev->dirty;
	unsigned long start, end, pages = 0;

	*runs = 0;
	down_read(&cdev->memory_lock);
	to = min(to, d->pages);
	for (start = find_next_bit(d->map, to, from); start < to;
	     start = find_next_bit(d->map, to, end)) {
		end = find_next_zero_bit(d->map, to, start);
		pages += end - start;
		*runs += DIV_ROUND_UP(end - start, max);
	}
	up_read(&cdev->memory_lock);
	return pages;
}

/**
 * vslice_dirty_round_end() - a pass over the memory is complete
 * @cdev: device with a saving stream
 *
 * Records how fast the user dirtied pages during the pass and starts the
 * next one.
 */
void vslice_dirty_round_end(struct vslice_core_dev *cdev)
{
	struct vslice_core_dirty *d = &cdev->dirty;
	u64 now = ktime_get_ns(), ns = max(now - d->round_start, 1ULL);
	u64 bytes = atomic64_xchg(&d->dirtied, 0);

	if (!d->tracking)
		return;
	WRITE_ONCE(d->rate, mul_u64_u64_div_u64(bytes, NSEC_PER_SEC, ns));
	d->round_start = now;
}

/**
 * vslice_core_dirty_rate() - how fast the user dirtied the device memory
 * @cdev: device
 *
 * Return: bytes per second the user made dirty during the last complete
 * pre-copy pass of a saving stream (the last migration's, once it is
 * over); 0 before any.
 */
u64 vslice_core_dirty_rate(struct vslice_core_dev *cdev)
{
	return READ_ONCE(cdev->dirty.rate);
}
