// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice dirty tracking: which chunks of the memory that migrates changed
 * since a saving stream sent them.
 *
 * The memory is mapped straight into the guest, so the only place an
 * access can be seen is the page table.  While a device is in PRE_COPY,
 * a chunk the stream has sent is not mapped: the next access faults.  In
 * a BAR's mapping (what KVM maps into the guest, and KVM cannot write
 * through a read-only PTE of a PFN mapping) the fault marks the chunk
 * dirty, read or write, and maps all its pages writable (as TTM
 * prefaults); in a display window the fault maps the page read-only and
 * only the first write (pfn_mkwrite) marks the chunk.  A chunk stays
 * mapped until the stream sends it again, which zaps it first.  The unit
 * is a chunk of VSLICE_DIRTY_CHUNK bytes, so that a guest that writes a
 * whole chunk takes one fault for it, not one per page; the price is
 * that a single write sends the whole chunk again.  The size is chosen
 * by measurement (design.rst).  Trapped writes mark what they wrote.
 *
 * Outside PRE_COPY nothing is tracked and a BAR's fault maps its page
 * writable, as it always did: the fast path costs what it cost before.
 *
 * The protocol, with &vslice_core_dev.memory_lock:
 *
 *   sender (the caller's mmap lock and   BAR fault (mmap lock and
 *   memory_lock, both for writing)       memory_lock, both reading)
 *   clear the bits of a run of chunks    set the chunk's bit, map the
 *   zap the run's PTEs                   chunk writable
 *   (unlock, then copy the run)
 *
 * A window's pfn_mkwrite sets the bit before the kernel makes the PTE
 * writable; a zap in between makes the kernel retry the write, which
 * faults again.  So every write that lands after the sender copied a
 * chunk leaves the chunk's bit set, and the chunk goes again.
 */

#include <linux/bitmap.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "compat.h"
#include "private.h"

#define VSLICE_DIRTY_CHUNK_PAGES	(VSLICE_DIRTY_CHUNK >> PAGE_SHIFT)

/* Zap the user mappings of chunks [@first, @first + @n) of the memory. */
static void vslice_dirty_zap(struct vslice_core_dev *cdev,
			     unsigned long first, unsigned long n)
{
	struct address_space *mapping = READ_ONCE(cdev->mapping);

	lockdep_assert_held_write(&cdev->memory_lock);
	if (mapping)
		unmap_mapping_range(mapping,
				    PFN_PHYS(cdev->dirty.first_pfn) +
				    (u64)first * VSLICE_DIRTY_CHUNK,
				    (u64)n * VSLICE_DIRTY_CHUNK, true);
}

/*
 * KVM maps a page of a BAR into its guest by faulting it in
 * (fixup_user_fault()) and then reading the PTE back, both under the
 * VMM's mmap lock for reading; a zap between the two fails the guest's
 * access (KVM_RUN returns -EFAULT, and the VMM stops the guest).  The
 * zaps of pre-copy come from the VMM's own calls on the device and the
 * stream, so they take its mmap lock for writing and never land between
 * the two.  The order is a fault's: mmap lock, then memory_lock.
 */
static struct mm_struct *vslice_dirty_lock(struct vslice_core_dev *cdev,
					   bool zap)
{
	struct mm_struct *mm = zap ? current->mm : NULL;

	if (mm)
		mmap_write_lock(mm);
	down_write(&cdev->memory_lock);
	return mm;
}

static void vslice_dirty_unlock(struct vslice_core_dev *cdev,
				struct mm_struct *mm)
{
	up_write(&cdev->memory_lock);
	if (mm)
		mmap_write_unlock(mm);
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
	const struct vslice_region *mem = vslice_mig_mem(cdev);
	unsigned long chunks = DIV_ROUND_UP(mem->backing, VSLICE_DIRTY_CHUNK);
	struct vslice_core_dirty *d = &cdev->dirty;
	struct mm_struct *mm;
	unsigned long *map;

	/* charged to the task that asked for the stream */
	map = kvmalloc_array(BITS_TO_LONGS(chunks), sizeof(long),
			     GFP_KERNEL_ACCOUNT);
	if (!map)
		return -ENOMEM;
	bitmap_fill(map, chunks);

	mm = vslice_dirty_lock(cdev, track);
	if (WARN_ON(d->map)) {
		vslice_dirty_unlock(cdev, mm);
		kvfree(map);
		return -EBUSY;
	}
	d->map = map;
	d->chunks = chunks;
	d->first_pfn = PHYS_PFN(mem->phys);
	WRITE_ONCE(d->tracking, track);
	atomic64_set(&d->dirtied, 0);
	d->round_start = ktime_get_ns();
	/* a writable PTE from before would let writes go by unseen */
	if (track)
		vslice_dirty_zap(cdev, 0, chunks);
	vslice_dirty_unlock(cdev, mm);
	return 0;
}

/**
 * vslice_dirty_freeze() - the device stopped: no more writes are tracked
 * @cdev: device
 *
 * The chunks marked so far stay marked; the stream sends exactly them.
 */
void vslice_dirty_freeze(struct vslice_core_dev *cdev)
{
	down_write(&cdev->memory_lock);
	WRITE_ONCE(cdev->dirty.tracking, false);
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
	WRITE_ONCE(cdev->dirty.tracking, false);
	up_write(&cdev->memory_lock);
	kvfree(map);
}

/* Mark chunk @i dirty; memory_lock is held for reading. */
static void vslice_dirty_mark(struct vslice_core_dirty *d, unsigned long i)
{
	if (!test_and_set_bit(i, d->map))
		atomic64_add(VSLICE_DIRTY_CHUNK, &d->dirtied);
}

/**
 * vslice_dirty_fault() - a fault of a page of migrating memory
 * @cdev: device; the caller holds memory_lock for reading
 * @pfn: the page, about to be mapped writable
 * @first: set to the first pfn of its chunk when the answer is true
 *
 * Return: true if writes are tracked: the page's chunk is marked dirty.
 */
bool vslice_dirty_fault(struct vslice_core_dev *cdev, unsigned long pfn,
			unsigned long *first)
{
	struct vslice_core_dirty *d = &cdev->dirty;
	unsigned long i = (pfn - d->first_pfn) / VSLICE_DIRTY_CHUNK_PAGES;

	lockdep_assert_held_read(&cdev->memory_lock);
	if (!d->tracking || pfn < d->first_pfn || i >= d->chunks)
		return false;
	vslice_dirty_mark(d, i);
	*first = d->first_pfn + i * VSLICE_DIRTY_CHUNK_PAGES;
	return true;
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
	phys_addr_t base = PFN_PHYS(d->first_pfn);
	unsigned long i, last;

	lockdep_assert_held_read(&cdev->memory_lock);
	if (!d->tracking || phys + len <= base)
		return;
	if (phys < base) {
		len -= base - phys;
		phys = base;
	}
	last = (phys - base + len - 1) / VSLICE_DIRTY_CHUNK;
	for (i = (phys - base) / VSLICE_DIRTY_CHUNK;
	     i <= last && i < d->chunks; i++)
		vslice_dirty_mark(d, i);
}

/**
 * vslice_dirty_take() - take the next run of chunks to send
 * @cdev: device with a saving stream
 * @from: first chunk to look at
 * @max: most chunks in a run
 * @first: set to the run's first chunk
 *
 * Clears the run's bits and, while writes are tracked, zaps its user
 * mappings, so that a write after this makes the chunks dirty again.
 * The caller copies the run after this returns, without memory_lock.
 *
 * Return: chunks in the run; 0 if no chunk from @from on is dirty.
 */
unsigned long vslice_dirty_take(struct vslice_core_dev *cdev,
				unsigned long from, unsigned long max,
				unsigned long *first)
{
	struct vslice_core_dirty *d = &cdev->dirty;
	unsigned long start, end;
	struct mm_struct *mm;

	/* tracking only ends under us: at worst the mmap lock was not needed */
	mm = vslice_dirty_lock(cdev, READ_ONCE(d->tracking));
	start = find_next_bit(d->map, d->chunks, from);
	if (start >= d->chunks) {
		vslice_dirty_unlock(cdev, mm);
		return 0;
	}
	end = find_next_zero_bit(d->map, min(d->chunks, start + max), start);
	bitmap_clear(d->map, start, end - start);
	if (d->tracking)
		vslice_dirty_zap(cdev, start, end - start);
	vslice_dirty_unlock(cdev, mm);
	*first = start;
	return end - start;
}

/**
 * vslice_dirty_runs() - what taking every dirty chunk in a range would give
 * @cdev: device with a saving stream
 * @from: first chunk
 * @to: chunk after the last
 * @max: most chunks in a run, as for vslice_dirty_take()
 * @runs: set to the number of runs vslice_dirty_take() would return
 *
 * Return: the dirty chunks in [@from, @to).
 */
unsigned long vslice_dirty_runs(struct vslice_core_dev *cdev,
				unsigned long from, unsigned long to,
				unsigned long max, unsigned long *runs)
{
	struct vslice_core_dirty *d = &cdev->dirty;
	unsigned long start, end, chunks = 0;

	*runs = 0;
	down_read(&cdev->memory_lock);
	to = min(to, d->chunks);
	for (start = find_next_bit(d->map, to, from); start < to;
	     start = find_next_bit(d->map, to, end)) {
		end = find_next_zero_bit(d->map, to, start);
		chunks += end - start;
		*runs += DIV_ROUND_UP(end - start, max);
	}
	up_read(&cdev->memory_lock);
	return chunks;
}

/**
 * vslice_dirty_round_end() - a pass over the memory is complete
 * @cdev: device with a saving stream
 *
 * Records how fast the user dirtied chunks during the pass and starts the
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
