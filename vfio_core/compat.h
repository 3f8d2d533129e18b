/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vslice kernel compatibility: the only place that tests kernel versions.
 *
 * vslice builds against Debian's 6.1, 6.12 and 7.x kernels.  Each wrapper
 * below names the upstream change it papers over, so that it can be
 * deleted once the oldest supported kernel has the change.
 */
#ifndef VSLICE_COMPAT_H
#define VSLICE_COMPAT_H

#include <linux/eventfd.h>
#include <linux/mm.h>
#include <linux/version.h>
#include <linux/vfio.h>

/* True when building for kernel @major.@minor or later. */
#define VSLICE_KERNEL_AT_LEAST(major, minor)				\
	(LINUX_VERSION_MAJOR * 256 + LINUX_VERSION_PATCHLEVEL >=	\
	 (major) * 256 + (minor))

/*
 * Until 6.2 the vfio core did not free the device: every @release op had
 * to end with vfio_free_device() ("vfio: Add vfio_free_device() ... move
 * kvfree() into the core", v6.2 removed the helper).
 */
static inline void vslice_compat_free_device(struct vfio_device *vdev)
{
#if !VSLICE_KERNEL_AT_LEAST(6, 2)
	vfio_free_device(vdev);
#endif
}

/*
 * Symbol namespaces are string literals from 6.13 on ("module: Convert
 * symbol namespace to string literal").
 */
#if VSLICE_KERNEL_AT_LEAST(6, 13)
#define VSLICE_COMPAT_IMPORT_NS(ns)	MODULE_IMPORT_NS(#ns)
#else
#define VSLICE_COMPAT_IMPORT_NS(ns)	MODULE_IMPORT_NS(ns)
#endif

/* eventfd_signal() lost its always-1 count argument in 6.8. */
static inline void vslice_compat_eventfd_signal(struct eventfd_ctx *ctx)
{
#if !VSLICE_KERNEL_AT_LEAST(6, 8)
	eventfd_signal(ctx, 1);
#else
	eventfd_signal(ctx);
#endif
}

/* vma->vm_flags became read-only, with accessors, in 6.3. */
static inline void vslice_compat_vm_flags_set(struct vm_area_struct *vma,
					      vm_flags_t flags)
{
#if !VSLICE_KERNEL_AT_LEAST(6, 3)
	vma->vm_flags |= flags;
#else
	vm_flags_set(vma, flags);
#endif
}

/*
 * vmf_insert_mixed() took a pfn_t until 6.17 ("mm: remove pfn_t type"),
 * a plain pfn since.  PFN_DEV: device memory, no struct page.
 */
#if !VSLICE_KERNEL_AT_LEAST(6, 17)
#include <linux/pfn_t.h>
#endif
static inline vm_fault_t vslice_compat_insert_mixed(struct vm_area_struct *vma,
						    unsigned long addr,
						    unsigned long pfn)
{
#if !VSLICE_KERNEL_AT_LEAST(6, 17)
	return vmf_insert_mixed(vma, addr, __pfn_to_pfn_t(pfn, PFN_DEV));
#else
	return vmf_insert_mixed(vma, addr, pfn);
#endif
}

/*
 * Emulated-IOMMU devices must provide the iommufd ops from 6.2 (bind,
 * unbind, attach) and 6.6 (detach).  With CONFIG_IOMMUFD off the helpers
 * are NULL and the group/container path is the only one.
 */
#if VSLICE_KERNEL_AT_LEAST(6, 6)
#define VSLICE_COMPAT_IOMMUFD_OPS					\
	.bind_iommufd	= vfio_iommufd_emulated_bind,			\
	.unbind_iommufd	= vfio_iommufd_emulated_unbind,			\
	.attach_ioas	= vfio_iommufd_emulated_attach_ioas,		\
	.detach_ioas	= vfio_iommufd_emulated_detach_ioas,
#elif VSLICE_KERNEL_AT_LEAST(6, 2)
#define VSLICE_COMPAT_IOMMUFD_OPS					\
	.bind_iommufd	= vfio_iommufd_emulated_bind,			\
	.unbind_iommufd	= vfio_iommufd_emulated_unbind,			\
	.attach_ioas	= vfio_iommufd_emulated_attach_ioas,
#else
#define VSLICE_COMPAT_IOMMUFD_OPS
#endif

/*
 * VFIO_DEVICE_GET_REGION_INFO moved out of @ioctl into its own op,
 * @get_region_info_caps, in 6.19; the core now does the argsz and
 * capability-chain handling.  Older kernels hand the ioctl to the driver,
 * which vslice_core_ioctl() answers with the same helper.
 */
#define VSLICE_HAVE_REGION_INFO_OP	VSLICE_KERNEL_AT_LEAST(6, 19)

/*
 * VFIO_DEVICE_FEATURE_MIG_DATA_SIZE came in 6.3, and from then on the
 * core calls @migration_get_data_size without checking that it is there.
 */
#define VSLICE_HAVE_MIG_DATA_SIZE	VSLICE_KERNEL_AT_LEAST(6, 3)

/*
 * PRE_COPY and VFIO_MIG_GET_PRECOPY_INFO came in 6.2 ("vfio: Extend the
 * device migration protocol with PRE_COPY").
 */
#define VSLICE_HAVE_PRE_COPY		VSLICE_KERNEL_AT_LEAST(6, 2)

/*
 * VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 ("vfio: Add support for
 * VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2", 2026): once the user opts in,
 * the flags of struct vfio_precopy_info are an output, and the core's
 * vfio_check_precopy_ioctl() checks the ioctl's input.  Tested by the
 * series' uapi flag, VFIO_PRECOPY_INFO_REINIT, rather than a version:
 * the release it landed in is not recorded here.
 */
#ifdef VFIO_PRECOPY_INFO_REINIT
#define VSLICE_HAVE_PRECOPY_INFO_V2	1
#else
#define VSLICE_HAVE_PRECOPY_INFO_V2	0
#endif

#endif /* VSLICE_COMPAT_H */
