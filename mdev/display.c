// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice display: what an instance shows, and to whom.
 *
 * The scanout is decoded from the DISPI registers the way QEMU's
 * bochs-display decodes them.  VFIO_DEVICE_QUERY_GFX_PLANE describes it
 * as a region plane, and a display region maps it.  A region plane has no
 * offset field: the plane always starts at the start of its region.  So
 * there are two display regions, windows onto the slice, and when the
 * guest pans or flips to another page-aligned offset the plane names the
 * other region, whose window now starts there.  QEMU sees the region
 * index change, drops its mapping of the old one and maps the new one;
 * no mapping ever has to be changed under its user.
 *
 * The virtual monitor has an EDID (edid.c) that the guest reads at
 * BAR2 0x000 while the link is up, and that management software may
 * replace through the VFIO EDID region, with the protocol QEMU uses:
 * link down, write the blob, its size, link up.
 */

#include <drm/drm_fourcc.h>
#include <kunit/visibility.h>
#include <linux/sysfs.h>

#include "vslice.h"

/* enum drm_plane_type: vslice has a primary plane and no cursor. */
#define VSLICE_DRM_PLANE_CURSOR		2

/* The EDID region: registers at 0, the blob in the second KiB. */
#define VSLICE_EDID_REGION_SIZE		0x800
#define VSLICE_EDID_BLOB_OFFSET		0x400

/* QEMU refuses modes smaller than this; so do we. */
#define VSLICE_MODE_MIN			64

/**
 * vslice_display_mode_locked() - decode the scanout from the registers
 * @inst: instance
 * @mode: filled in when the result is VSLICE_SCANOUT_ON
 *
 * Return: whether the guest shows something, and if not, why not.
 */
enum vslice_scanout vslice_display_mode_locked(struct vslice_inst *inst,
					       struct vslice_mode *mode)
{
	const u16 *dispi = inst->regs.dispi;
	u32 bytepp, virt_width;

	vslice_core_assert_held(&inst->core);

	if (!(dispi[VSLICE_DISPI_ENABLE] & VSLICE_DISPI_ENABLED))
		return VSLICE_SCANOUT_OFF;
	if (inst->regs.blanked)
		return VSLICE_SCANOUT_BLANKED;

	switch (dispi[VSLICE_DISPI_BPP]) {
	case 32:
		mode->format = inst->regs.big_endian_fb ? DRM_FORMAT_BGRX8888 :
							  DRM_FORMAT_XRGB8888;
		bytepp = 4;
		break;
	case 16:
		mode->format = DRM_FORMAT_RGB565;
		bytepp = 2;
		break;
	default:
		return VSLICE_SCANOUT_INVALID;
	}

	mode->bpp = bytepp * 8;
	mode->width = dispi[VSLICE_DISPI_XRES];
	mode->height = dispi[VSLICE_DISPI_YRES];
	virt_width = max_t(u32, dispi[VSLICE_DISPI_VIRT_WIDTH], mode->width);
	mode->stride = virt_width * bytepp;
	mode->size = (u64)mode->stride * mode->height;
	mode->offset = (u64)dispi[VSLICE_DISPI_X_OFFSET] * bytepp +
		       (u64)dispi[VSLICE_DISPI_Y_OFFSET] * mode->stride;

	if (mode->width < VSLICE_MODE_MIN || mode->height < VSLICE_MODE_MIN ||
	    mode->offset + mode->size > inst->slice.size)
		return VSLICE_SCANOUT_INVALID;
	return VSLICE_SCANOUT_ON;
}
EXPORT_SYMBOL_IF_KUNIT(vslice_display_mode_locked);

/**
 * vslice_display_mode_show() - the current scanout, for sysfs
 * @inst: instance
 * @buf: sysfs buffer
 *
 * "WxH BPPbpp stride S offset 0xO", or "off", "blanked", "invalid".
 *
 * Return: bytes written.
 */
ssize_t vslice_display_mode_show(struct vslice_inst *inst, char *buf)
{
	static const char * const states[] = {
		[VSLICE_SCANOUT_OFF]		= "off",
		[VSLICE_SCANOUT_BLANKED]	= "blanked",
		[VSLICE_SCANOUT_INVALID]	= "invalid",
	};
	enum vslice_scanout state;
	struct vslice_mode mode;

	vslice_core_lock(&inst->core);
	state = vslice_display_mode_locked(inst, &mode);
	vslice_core_unlock(&inst->core);

	if (state != VSLICE_SCANOUT_ON)
		return sysfs_emit(buf, "%s\n", states[state]);
	return sysfs_emit(buf, "%ux%u %ubpp stride %u offset 0x%llx\n",
			  mode.width, mode.height, mode.bpp, mode.stride,
			  mode.offset);
}

/**
 * vslice_display_query_plane() - model @query_plane op
 * @cdev: instance
 * @plane: the query; the core has zeroed its outputs
 *
 * Describes the scanout as a plane of the display region whose window
 * starts at it, switching to the other display region when the scanout
 * moved.  A scanout that is off, blanked, invalid or not page-aligned
 * gives an empty plane: never an error at run time.  QEMU leaves
 * @drm_plane_type zero in region-plane queries, so every type but the
 * cursor (which vslice does not have: an empty plane) means the primary.
 *
 * Return: 0.
 */
int vslice_display_query_plane(struct vslice_core_dev *cdev,
			       struct vslice_plane *plane)
{
	struct vslice_inst *inst = vslice_inst_from_core(cdev);
	struct vslice_mode mode;
	unsigned int index;

	if (plane->drm_plane_type == VSLICE_DRM_PLANE_CURSOR)
		return 0;

	vslice_core_lock(cdev);
	if (vslice_display_mode_locked(inst, &mode) != VSLICE_SCANOUT_ON ||
	    !PAGE_ALIGNED(mode.offset)) {
		vslice_core_unlock(cdev);
		return 0;
	}

	index = inst->mon.display;
	if (vslice_core_base_locked(cdev, index) != mode.offset) {
		/* the window moves: the other one starts at the scanout */
		index = index == VSLICE_REGION_DISPLAY ?
			VSLICE_REGION_DISPLAY + 1 : VSLICE_REGION_DISPLAY;
		vslice_core_set_base_locked(cdev, index, mode.offset);
		inst->mon.display = index;
	}
	vslice_core_unlock(cdev);

	plane->drm_format = mode.format;
	plane->width = mode.width;
	plane->height = mode.height;
	plane->stride = mode.stride;
	plane->size = PAGE_ALIGN(mode.size);
	plane->region_index = index;
	return 0;
}

/**
 * vslice_display_edid_read() - the EDID window of BAR2, as the guest
 * reads it
 * @inst: instance, locked or in a lockless read section
 * @off: offset in the window
 * @size: 1, 2 or 4 bytes
 *
 * Return: the bytes of the blob, little-endian; zeros past its end and
 * while the link is down (no monitor: no EDID).
 */
u32 vslice_display_edid_read(struct vslice_inst *inst, unsigned int off,
			     unsigned int size)
{
	const struct vfio_region_gfx_edid *regs = &inst->mon.regs;
	unsigned int i;
	u32 val = 0;

	if (regs->link_state != VFIO_DEVICE_GFX_LINK_STATE_UP)
		return 0;
	for (i = 0; i < size; i++)
		if (off + i < regs->edid_size)
			val |= (u32)inst->mon.edid[off + i] << (i * 8);
	return val;
}

/* Copy the part of [@pos, @pos + @count) that overlaps [@at, @at + @len). */
static void vslice_display_copy_out(void *buf, u64 pos, size_t count,
				    const void *src, u64 at, u64 len)
{
	u64 start = max(pos, at), end = min(pos + count, at + len);

	if (start < end)
		memcpy(buf + (start - pos), src + (start - at), end - start);
}

/*
 * The EDID region.  Reads see the registers, zeros, then the blob.  The
 * only writes are: edid_size or link_state as one aligned 4-byte field,
 * and bytes of the blob; anything else, or a bad value, is -EINVAL.
 */
static int vslice_display_edid_rw(struct vslice_core_dev *cdev,
				  const struct vslice_region *r, void *buf,
				  u64 pos, size_t count, bool write)
{
	struct vslice_inst *inst = vslice_inst_from_core(cdev);
	struct vfio_region_gfx_edid *regs = &inst->mon.regs;
	u32 val;
	int ret = 0;

	vslice_core_lock(cdev);
	if (!write) {
		memset(buf, 0, count);
		vslice_display_copy_out(buf, pos, count, regs, 0,
					sizeof(*regs));
		vslice_display_copy_out(buf, pos, count, inst->mon.edid,
					VSLICE_EDID_BLOB_OFFSET,
					regs->edid_max_size);
	} else if (pos >= VSLICE_EDID_BLOB_OFFSET) {
		memcpy(inst->mon.edid + pos - VSLICE_EDID_BLOB_OFFSET, buf,
		       count);
	} else if (count != sizeof(val)) {
		ret = -EINVAL;
	} else {
		memcpy(&val, buf, sizeof(val));
		if (pos == offsetof(struct vfio_region_gfx_edid, edid_size) &&
		    val <= regs->edid_max_size)
			regs->edid_size = val;
		else if (pos == offsetof(struct vfio_region_gfx_edid,
					 link_state) &&
			 (val == VFIO_DEVICE_GFX_LINK_STATE_UP ||
			  val == VFIO_DEVICE_GFX_LINK_STATE_DOWN))
			regs->link_state = val;
		else
			ret = -EINVAL;
	}
	vslice_core_unlock(cdev);
	return ret;
}

static const struct vslice_region_ops vslice_display_edid_ops = {
	.rw	= vslice_display_edid_rw,
};

/**
 * vslice_display_open_locked() - a new user finds a new monitor
 * @inst: instance
 *
 * The generated EDID, link up, and the display windows at the start of
 * the slice.  A device reset leaves all this alone: the monitor is not
 * part of the device, and QEMU sets its EDID before it resets the device.
 */
void vslice_display_open_locked(struct vslice_inst *inst)
{
	struct vfio_region_gfx_edid *regs = &inst->mon.regs;
	u32 serial;

	vslice_core_assert_held(&inst->core);

	memcpy(&serial, &inst->mdev->uuid, sizeof(serial));
	memset(inst->mon.edid, 0, sizeof(inst->mon.edid));
	regs->edid_offset = VSLICE_EDID_BLOB_OFFSET;
	regs->edid_max_size = sizeof(inst->mon.edid);
	regs->edid_size = vslice_edid_generate(inst->mon.edid, inst->type,
					       serial);
	regs->max_xres = inst->type->max_xres;
	regs->max_yres = inst->type->max_yres;
	regs->link_state = VFIO_DEVICE_GFX_LINK_STATE_UP;

	vslice_core_set_base_locked(&inst->core, VSLICE_REGION_DISPLAY, 0);
	vslice_core_set_base_locked(&inst->core, VSLICE_REGION_DISPLAY + 1, 0);
	inst->mon.display = VSLICE_REGION_DISPLAY;
}

/**
 * vslice_display_init() - add the EDID and display regions of an instance
 * @inst: instance with its slice, not yet registered
 */
void vslice_display_init(struct vslice_inst *inst)
{
	const struct vslice_region edid = {
		.size		= VSLICE_EDID_REGION_SIZE,
		.flags		= VFIO_REGION_INFO_FLAG_READ |
				  VFIO_REGION_INFO_FLAG_WRITE,
		.type		= VFIO_REGION_TYPE_GFX,
		.subtype	= VFIO_REGION_SUBTYPE_GFX_EDID,
		.ops		= &vslice_display_edid_ops,
	};
	const struct vslice_region window = {
		.size		= inst->slice.size,
		.flags		= VFIO_REGION_INFO_FLAG_READ |
				  VFIO_REGION_INFO_FLAG_WRITE |
				  VFIO_REGION_INFO_FLAG_MMAP,
		.ops		= &vslice_region_iomem_ops,
		.iomem		= inst->parent->vram + inst->slice.offset,
		.phys		= inst->parent->vram_phys + inst->slice.offset,
		.backing	= inst->slice.size,
	};

	BUILD_BUG_ON(sizeof(inst->mon.edid) >
		     VSLICE_EDID_REGION_SIZE - VSLICE_EDID_BLOB_OFFSET);
	vslice_core_set_region(&inst->core, VSLICE_REGION_EDID, &edid);
	vslice_core_set_region(&inst->core, VSLICE_REGION_DISPLAY, &window);
	vslice_core_set_region(&inst->core, VSLICE_REGION_DISPLAY + 1, &window);
}
