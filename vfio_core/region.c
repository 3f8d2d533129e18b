// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice region table: one description per region index, read by
 * GET_REGION_INFO, by read()/write() and by mmap() alike.
 *
 * Offsets in the device fd are VSLICE_INDEX_TO_OFFSET(index) + position,
 * the layout of vfio-pci.  Every access is checked against the region's
 * size with overflow-safe arithmetic before a callback runs, so callbacks
 * see only in-bounds requests.
 */

#include <linux/indirect_call_wrapper.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "private.h"

/* Trapped accesses bounce through a kernel buffer of at most this size. */
#define VSLICE_RW_CHUNK		SZ_64K

/* Look up a region by user-supplied index, clamped against speculation. */
static const struct vslice_region *
vslice_region_get(struct vslice_core_dev *cdev, u64 index)
{
	const struct vslice_region *r;

	if (index >= cdev->num_regions)
		return NULL;
	index = array_index_nospec(index, cdev->num_regions);
	r = &cdev->regions[index];
	return r->ops ? r : NULL;
}

/**
 * vslice_core_set_region() - describe one region of a device
 * @cdev: device, not yet registered
 * @index: region index, below VSLICE_MAX_REGIONS
 * @region: description, copied
 *
 * Indexes past the last one described so far extend num_regions; gaps
 * read as absent regions (size 0).
 */
void vslice_core_set_region(struct vslice_core_dev *cdev, unsigned int index,
			    const struct vslice_region *region)
{
	if (WARN_ON(index >= VSLICE_MAX_REGIONS))
		return;
	cdev->regions[index] = *region;
	cdev->num_regions = max(cdev->num_regions, index + 1);
	/* what a fault of its mappings needs, fixed before any exists */
	cdev->maps[index] = (struct vslice_region_map) {
		.cdev = cdev,
		.end_pfn = PHYS_PFN(region->phys + region->backing),
		.bar = index <= VFIO_PCI_BAR5_REGION_INDEX,
	};
}

/**
 * vslice_region_info() - fill in struct vfio_region_info for one index
 * @cdev: device
 * @info: in: index; out: offset, size, flags
 * @caps: capability chain to extend
 *
 * Return: 0 or a negative errno (-EINVAL for an unknown index).
 */
int vslice_region_info(struct vslice_core_dev *cdev,
		       struct vfio_region_info *info,
		       struct vfio_info_cap *caps)
{
	struct vfio_region_info_cap_type cap_type = {
		.header.id = VFIO_REGION_INFO_CAP_TYPE,
		.header.version = 1,
	};
	const struct vslice_region *r;
	unsigned int index;

	if (info->index >= cdev->num_regions)
		return -EINVAL;
	index = array_index_nospec(info->index, cdev->num_regions);
	r = &cdev->regions[index];

	info->offset = VSLICE_INDEX_TO_OFFSET(index);
	info->size = r->ops ? r->size : 0;
	info->flags = r->ops ? r->flags : 0;
	info->cap_offset = 0;
	if (!r->ops || !r->type)
		return 0;

	cap_type.type = r->type;
	cap_type.subtype = r->subtype;
	return vfio_info_add_capability(caps, &cap_type.header,
					sizeof(cap_type));
}

/**
 * vslice_region_ioctl_info() - VFIO_DEVICE_GET_REGION_INFO for kernels
 * that route it through the driver's ioctl
 * @cdev: device
 * @arg: user's struct vfio_region_info
 *
 * Does what newer vfio cores do around @get_region_info_caps: argsz
 * checks and the copy-out of the capability chain.
 *
 * Return: 0 or a negative errno.
 */
int vslice_region_ioctl_info(struct vslice_core_dev *cdev, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_region_info info;
	struct vfio_info_cap caps = { .buf = NULL, .size = 0 };
	int ret;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	ret = vslice_region_info(cdev, &info, &caps);
	if (ret)
		goto out_free;

	if (caps.size) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			info.argsz = sizeof(info) + caps.size;
			info.cap_offset = 0;
		} else {
			vfio_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user(arg + sizeof(info), caps.buf,
					 caps.size)) {
				ret = -EFAULT;
				goto out_free;
			}
			info.cap_offset = sizeof(info);
		}
	}

	if (copy_to_user(arg, &info, minsz))
		ret = -EFAULT;
out_free:
	kfree(caps.buf);
	return ret;
}

/* Always inlined, so that a constant @n stays a constant. */
static __always_inline unsigned long
vslice_region_copy(void *kbuf, void __user *ubuf, size_t n, bool to_user)
{
	return to_user ? copy_to_user(ubuf, kbuf, n) :
			 copy_from_user(kbuf, ubuf, n);
}

/*
 * Register-sized user copies with compile-time sizes: no out-of-line
 * copy loop, no usercopy hardening walk.  The trapped 4-byte read is the
 * hot path of every guest driver.
 */
static int vslice_region_copy_small(void *kbuf, void __user *ubuf,
				    size_t count, bool to_user)
{
	unsigned long left;

	switch (count) {
	case 1:
		left = vslice_region_copy(kbuf, ubuf, 1, to_user);
		break;
	case 2:
		left = vslice_region_copy(kbuf, ubuf, 2, to_user);
		break;
	case 4:
		left = vslice_region_copy(kbuf, ubuf, 4, to_user);
		break;
	case 8:
		left = vslice_region_copy(kbuf, ubuf, 8, to_user);
		break;
	default:
		left = vslice_region_copy(kbuf, ubuf, count, to_user);
		break;
	}
	return left ? -EFAULT : 0;
}

/*
 * One chunk through the region's callback.  The core's own callbacks are
 * called directly rather than through a retpoline, a model's through its
 * pointer.  Calling the model's register file directly too (a static
 * call) made no difference beyond noise in make bench's trapped figures
 * (bar2_read_ratio_vs_mbochs 1.018 with it, 1.036 without; the boots of
 * each spread over 0.99-1.09), so there is no per-model hook here.
 */
static int vslice_region_call_rw(struct vslice_core_dev *cdev,
				 const struct vslice_region *r, void *kbuf,
				 u64 pos, size_t count, bool write)
{
	return INDIRECT_CALL_2(r->ops->rw, vslice_core_cfg_rw,
			       vslice_region_iomem_rw, cdev, r, kbuf, pos,
			       count, write);
}

/*
 * read(2) and write(2) on the device fd.  An access that starts inside a
 * region and runs past its end is cut short at the end; one that starts
 * outside any region, or in a region that does not allow the direction,
 * gets -EINVAL.  Data bounces through a kernel buffer, so region
 * callbacks never fault on user memory (which may be a mapping of this
 * very device).  Returns bytes transferred, or a negative errno if none
 * were.
 */
static __always_inline ssize_t
vslice_region_rw(struct vslice_core_dev *cdev, char __user *ubuf,
		 size_t count, loff_t *ppos, bool write)
{
	u32 need = write ? VFIO_REGION_INFO_FLAG_WRITE :
			   VFIO_REGION_INFO_FLAG_READ;
	const struct vslice_region *r;
	size_t done = 0, chunk;
	u64 pos, end, small = 0;
	u8 *kbuf;
	int ret = 0;

	if (*ppos < 0)
		return -EINVAL;
	r = vslice_region_get(cdev, VSLICE_OFFSET_TO_INDEX((u64)*ppos));
	pos = *ppos & VSLICE_OFFSET_MASK;
	if (!r || !r->ops->rw || !(r->flags & need) || pos >= r->size)
		return -EINVAL;
	if (check_add_overflow(pos, (u64)count, &end) || end > r->size)
		count = r->size - pos;
	if (!count)
		return 0;

	this_cpu_inc(*cdev->stats.trapped);

	/* register-sized: one call, bounce through a u64 */
	if (count <= sizeof(small)) {
		if (write)
			ret = vslice_region_copy_small(&small, ubuf, count,
						       false);
		if (!ret)
			ret = vslice_region_call_rw(cdev, r, &small, pos,
						    count, write);
		if (!ret && !write)
			ret = vslice_region_copy_small(&small, ubuf, count,
						       true);
		if (ret)
			return ret;
		*ppos += count;
		return count;
	}

	kbuf = kvmalloc(min_t(size_t, count, VSLICE_RW_CHUNK), GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	while (done < count) {
		chunk = min_t(size_t, count - done, VSLICE_RW_CHUNK);
		if (write && copy_from_user(kbuf, ubuf + done, chunk)) {
			ret = -EFAULT;
			break;
		}
		ret = vslice_region_call_rw(cdev, r, kbuf, pos + done, chunk,
					    write);
		if (ret)
			break;
		if (!write && copy_to_user(ubuf + done, kbuf, chunk)) {
			ret = -EFAULT;
			break;
		}
		done += chunk;
	}
	kvfree(kbuf);

	if (!done)
		return ret;
	*ppos += done;
	return done;
}

/**
 * vslice_region_read() - vfio @read op
 * @vdev: device
 * @buf: user buffer
 * @count: bytes to read
 * @ppos: region offset + position
 *
 * Return: bytes read or a negative errno.
 */
ssize_t vslice_region_read(struct vfio_device *vdev, char __user *buf,
			   size_t count, loff_t *ppos)
{
	return vslice_region_rw(vslice_core_from_vdev(vdev), buf, count, ppos,
				false);
}

/**
 * vslice_region_write() - vfio @write op
 * @vdev: device
 * @buf: user buffer
 * @count: bytes to write
 * @ppos: region offset + position
 *
 * Return: bytes written or a negative errno.
 */
ssize_t vslice_region_write(struct vfio_device *vdev, const char __user *buf,
			    size_t count, loff_t *ppos)
{
	return vslice_region_rw(vslice_core_from_vdev(vdev), (char __user *)buf,
				count, ppos, true);
}

/**
 * vslice_region_mmap() - mmap(2) on the device fd
 * @cdev: device
 * @vma: the new mapping; vm_pgoff encodes region offset + position
 *
 * Refuses with -EINVAL a private mapping, a region that cannot be mapped,
 * and a range that does not lie wholly inside the region.
 *
 * Return: 0 or a negative errno.
 */
int vslice_region_mmap(struct vslice_core_dev *cdev,
		       struct vm_area_struct *vma)
{
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	u64 len = vma->vm_end - vma->vm_start;
	const struct vslice_region *r;
	u64 pos, end;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	/* vm_pgoff << PAGE_SHIFT must not wrap */
	if (vma->vm_pgoff > (U64_MAX >> PAGE_SHIFT))
		return -EINVAL;
	r = vslice_region_get(cdev, VSLICE_OFFSET_TO_INDEX(off));
	pos = off & VSLICE_OFFSET_MASK;
	if (!r || !r->ops->mmap || !(r->flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -EINVAL;
	if (check_add_overflow(pos, len, &end) || end > r->size)
		return -EINVAL;

	return r->ops->mmap(cdev, r, vma, pos);
}

/**
 * vslice_core_set_base_locked() - move a device-memory window
 * @cdev: device
 * @index: a region served by &vslice_region_iomem_ops
 * @base: new start of the window in the device memory
 *
 * Trapped accesses and new mappings use the new base at once; existing
 * mappings keep showing what they mapped (the model makes sure its user
 * maps again, see the display regions of mdev/display.c).
 */
void vslice_core_set_base_locked(struct vslice_core_dev *cdev,
				 unsigned int index, u64 base)
{
	lockdep_assert_held(&cdev->lock);
	if (WARN_ON(index >= cdev->num_regions ||
		    cdev->regions[index].ops != &vslice_region_iomem_ops))
		return;
	cdev->regions[index].base = base;
}

/**
 * vslice_core_base_locked() - where a device-memory window starts
 * @cdev: device, locked
 * @index: a region served by &vslice_region_iomem_ops
 *
 * Return: the window's start in the device memory, as last set by
 * vslice_core_set_base_locked().
 */
u64 vslice_core_base_locked(struct vslice_core_dev *cdev, unsigned int index)
{
	lockdep_assert_held(&cdev->lock);
	if (WARN_ON(index >= cdev->num_regions))
		return 0;
	return cdev->regions[index].base;
}

/* Where @pos of the window lies in device memory, and how much is there. */
static u64 vslice_region_window(struct vslice_core_dev *cdev,
				const struct vslice_region *r, u64 pos,
				u64 count, u64 *avail)
{
	unsigned int seq;
	u64 at;

	do {
		seq = vslice_core_read_begin(cdev);
		at = r->base + pos;
	} while (vslice_core_read_retry(cdev, seq));

	if (at >= r->backing)
		*avail = 0;
	else
		*avail = min(count, r->backing - at);
	return at;
}

/**
 * vslice_region_iomem_rw() - trapped access to a device-memory window
 * @cdev: device
 * @r: a region served by &vslice_region_iomem_ops
 * @buf: kernel buffer, @count bytes
 * @pos: offset in the region, checked against its size by the caller
 * @count: bytes to move
 * @write: store @buf rather than load into it
 *
 * Moves the bytes between @buf and the device memory behind the window at
 * its current base.  The part of the window past the memory that backs it
 * reads as zeros and drops writes.
 *
 * Return: 0.
 */
int vslice_region_iomem_rw(struct vslice_core_dev *cdev,
			   const struct vslice_region *r, void *buf, u64 pos,
			   size_t count, bool write)
{
	u64 avail, at = vslice_region_window(cdev, r, pos, count, &avail);

	if (write) {
		/* ordered against migration's sending, as a fault is */
		down_read(&cdev->memory_lock);
		memcpy_toio(r->iomem + at, buf, avail);
		if (avail)
			vslice_dirty_write(cdev, r->phys + at, avail);
		up_read(&cdev->memory_lock);
	} else {
		memcpy_fromio(buf, r->iomem + at, avail);
		memset(buf + avail, 0, count - avail);
	}
	return 0;
}

/*
 * A window is mapped page by page as its user touches it, as vfio-pci maps
 * BARs: mmap() only records where the window lies, so it allocates nothing
 * and cannot fail half-way through (a failed remap_pfn_range() warns from
 * the PAT code as it unwinds).  vm_pgoff holds the pfn of the mapping's
 * first page and vm_private_data the region's &struct vslice_region_map,
 * which says where the device memory behind it ends; both stay right when
 * the VMA is split or moved, and the window never moves under a mapping
 * (a model that moves it has its user map again).  Pages past the end
 * are never mapped.  Each PTE takes the memory type the owner reserved
 * for the memory (the parent's write-combining ioremap of its BAR).
 * Removal waits for the last mapping (each holds the device file).
 *
 * Mappings follow the device, as vfio-pci's do: a reset, and turning
 * memory decoding off in the command register, zap them
 * (vslice_region_zap()); a BAR's mapping faults back in only while
 * decoding is on, and gets SIGBUS while it is off.  Other regions (the
 * display windows a VMM reads for its console) are not BARs: they fault
 * back in at once.
 *
 * The mapping is VM_IO | VM_MIXEDMAP, not VM_PFNMAP: the legacy type1
 * IOMMU driver turns a user address into a PFN only through GUP (which
 * refuses VM_IO) or, for VM_PFNMAP mappings, by following the page
 * table.  So VFIO_IOMMU_MAP_DMA of a mapping of device memory fails
 * (EFAULT) instead of giving another device of the container a DMA
 * mapping of the slice that nothing revokes when the instance goes and
 * the slice passes to the next tenant.  KVM maps VM_IO memory into its
 * guests all the same (and follows zaps through its MMU notifier); the
 * CPU path is unchanged.  vmf_insert_mixed() of a pfn without a struct
 * page makes the same special PTE vmf_insert_pfn() does.
 *
 * Migration tracks writes through these mappings (dirty.c).  A BAR's
 * mapping is what a VMM hands its guest, and KVM cannot write through a
 * read-only PTE of a PFN mapping (hva_to_pfn_remapped() answers
 * KVM_PFN_ERR_RO_FAULT rather than fault it writable, and the write is
 * emulated as MMIO, which a "rep movs" fails): so a BAR's pages are only
 * ever mapped writable, and while pre-copy tracks the memory any fault,
 * read or write, marks its chunk dirty and maps the whole chunk (one
 * fault per chunk).  The other windows (the display regions a VMM reads
 * for its console) have @pfn_mkwrite: the kernel keeps them read-only by
 * default (write-notify), so that reading them dirties nothing and the
 * first write to a page asks first.  Faults take @memory_lock for
 * reading, which orders them against the zap of a chunk the migration
 * stream is sending.
 */
static vm_fault_t vslice_region_bar_insert(struct vm_fault *vmf,
					   const struct vslice_region_map *map,
					   unsigned long pfn)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long first, addr, p;

	if (vslice_dirty_fault(map->cdev, pfn, &first)) {
		/* the rest of the chunk, where this mapping shows it */
		addr = (vmf->address & PAGE_MASK) -
		       ((pfn - first) << PAGE_SHIFT);
		for (p = first; p < first + (VSLICE_DIRTY_CHUNK >> PAGE_SHIFT);
		     p++, addr += PAGE_SIZE)
			if (p != pfn && p < map->end_pfn &&
			    addr >= vma->vm_start && addr < vma->vm_end)
				vslice_compat_insert_mixed(vma, addr, p);
	}
	return vslice_compat_insert_mixed(vma, vmf->address, pfn);
}

static vm_fault_t vslice_region_iomem_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	const struct vslice_region_map *map = vma->vm_private_data;
	unsigned long pfn = vma->vm_pgoff +
			    ((vmf->address - vma->vm_start) >> PAGE_SHIFT);
	vm_fault_t ret = VM_FAULT_SIGBUS;

	if (pfn >= map->end_pfn)
		return VM_FAULT_SIGBUS;

	down_read(&map->cdev->memory_lock);
	if (!map->bar)	/* read-only until pfn_mkwrite: write-notify */
		ret = vslice_compat_insert_mixed(vma, vmf->address, pfn);
	else if (vslice_core_memory_enabled(map->cdev))
		ret = vslice_region_bar_insert(vmf, map, pfn);
	up_read(&map->cdev->memory_lock);
	return ret;
}

/*
 * The first write to a page of a display window, which is mapped
 * read-only: mark its chunk; the kernel then makes the PTE writable (or,
 * if a zap came in between, faults again).
 */
static vm_fault_t vslice_region_window_pfn_mkwrite(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	const struct vslice_region_map *map = vma->vm_private_data;
	unsigned long pfn = vma->vm_pgoff +
			    ((vmf->address - vma->vm_start) >> PAGE_SHIFT);
	unsigned long first;

	down_read(&map->cdev->memory_lock);
	vslice_dirty_fault(map->cdev, pfn, &first);
	up_read(&map->cdev->memory_lock);
	return 0;
}

static const struct vm_operations_struct vslice_region_bar_vm_ops = {
	.fault = vslice_region_iomem_fault,
};

static const struct vm_operations_struct vslice_region_window_vm_ops = {
	.fault = vslice_region_iomem_fault,
	.pfn_mkwrite = vslice_region_window_pfn_mkwrite,
};

static int vslice_region_iomem_mmap(struct vslice_core_dev *cdev,
				    const struct vslice_region *r,
				    struct vm_area_struct *vma, u64 pos)
{
	u64 len = vma->vm_end - vma->vm_start, avail, at;

	at = vslice_region_window(cdev, r, pos, len, &avail);
	/*
	 * The VMA is linked into the file's address space after this
	 * returns, indexed by vm_pgoff: where vslice_region_zap() looks.
	 */
	WRITE_ONCE(cdev->mapping, vma->vm_file->f_mapping);

	vma->vm_ops = cdev->maps[r - cdev->regions].bar ?
		      &vslice_region_bar_vm_ops : &vslice_region_window_vm_ops;
	vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
	vslice_compat_vm_flags_set(vma, VM_IO | VM_MIXEDMAP | VM_DONTEXPAND |
				   VM_DONTDUMP);
	vma->vm_pgoff = PHYS_PFN(r->phys + at);
	vma->vm_private_data = &cdev->maps[r - cdev->regions];
	return 0;
}

/**
 * vslice_region_zap() - tear down every user mapping of device memory
 * @cdev: device; the caller holds @cdev->memory_lock for writing
 *
 * Mappings are indexed in the device file's address space by the pfns
 * they map (vm_pgoff), so zapping the pfn range of each device-memory
 * region reaches exactly this device's mappings, whichever address space
 * the kernel gives its files: a per-device inode's from 6.10 on, one
 * shared by all anonymous-inode files before (where only mappings whose
 * offsets fall in this device's memory are touched).  Users fault their
 * pages back in, when the device lets them.
 */
void vslice_region_zap(struct vslice_core_dev *cdev)
{
	struct address_space *mapping = READ_ONCE(cdev->mapping);
	const struct vslice_region *r;
	unsigned int i;

	lockdep_assert_held_write(&cdev->memory_lock);
	if (!mapping)
		return;
	for (i = 0; i < cdev->num_regions; i++) {
		r = &cdev->regions[i];
		if (r->ops == &vslice_region_iomem_ops && r->backing)
			unmap_mapping_range(mapping, r->phys, r->backing, true);
	}
}

const struct vslice_region_ops vslice_region_iomem_ops = {
	.rw	= vslice_region_iomem_rw,
	.mmap	= vslice_region_iomem_mmap,
};
