/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vslice selftest library: find and bind the parent, create and remove
 * instances, open them through VFIO, read sysfs and the kernel log.
 *
 * Helpers named *_assert() (and the region and config accessors) fail the
 * calling test on any error, so that test bodies stay short; the others
 * return 0 or -errno for tests that check the error itself.
 */
#ifndef VSLICE_SELFTEST_LIB_H
#define VSLICE_SELFTEST_LIB_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <linux/types.h>
#include <linux/vfio.h>

#include "kselftest.h"

/* The kernel's names for fixed-size types, as in tools/include. */
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;

#define VSLICE_UUID_LEN		37
#define VSLICE_BDF_LEN		16
#define VSLICE_MAX_BOCHS	8
#define VSLICE_MAX_EDU		8

#define VSLICE_BOCHS_VENDOR	0x1234
#define VSLICE_BOCHS_DEVICE	0x1111
/* QEMU's edu (same vendor), the time-sliced parent */
#define VSLICE_EDU_DEVICE	0x11e8
#define VSLICE_SUBSYS_VENDOR	0x1234
#define VSLICE_SUBSYS_DEVICE	0x5653

#define VSLICE_MIB		(1024ULL * 1024)
#define VSLICE_REGION_OFFSET(index)	((u64)(index) << 40)

/* Print where and why, then fail the test (it runs in its own process). */
#define VSLICE_FAIL(...) do {						\
	fprintf(stderr, "%s:%u: ", __FILE__, __LINE__);		\
	fprintf(stderr, __VA_ARGS__);					\
	fprintf(stderr, " [errno %d: %s]\n", errno, strerror(errno));	\
	exit(KSFT_FAIL);						\
} while (0)

#define VSLICE_ASSERT(cond, ...) do {					\
	if (!(cond))							\
		VSLICE_FAIL("assertion '" #cond "' failed: " __VA_ARGS__); \
} while (0)

/**
 * struct vslice_dev - an instance opened through VFIO: the group API, or
 * with VSLICE_VFIO=cdev in the environment the device cdev bound to iommufd
 * @container: /dev/vfio/vfio (group path)
 * @group: /dev/vfio/N (group path)
 * @iommufd: /dev/iommu (cdev path)
 * @ioas: the IOAS the device is attached to (cdev path)
 * @fd: the device
 * @uuid: the instance (for vslice_vfio_open(), the device's VFIO name)
 */
struct vslice_dev {
	int container;
	int group;
	int iommufd;
	__u32 ioas;
	int fd;
	char uuid[VSLICE_UUID_LEN];
};

/* A device not open (yet): vslice_dev_close() leaves it alone. */
static inline void vslice_dev_init(struct vslice_dev *dev)
{
	dev->container = -1;
	dev->group = -1;
	dev->iommufd = -1;
	dev->fd = -1;
}

/* sysfs */
int vslice_sysfs_read(const char *path, char *buf, size_t len);
int vslice_sysfs_write(const char *path, const char *val);
long long vslice_sysfs_read_ll(const char *path);

/* module and parents */
int vslice_module_load(void);
int vslice_module_unload(void);
bool vslice_module_loaded(void);
int vslice_pci_list(u16 vendor, u16 device, char bdfs[][VSLICE_BDF_LEN],
		    int max);
int vslice_bochs_list(char bdfs[][VSLICE_BDF_LEN], int max);
int vslice_driver_of(const char *bdf, char *drv, size_t len);
int vslice_bind(const char *bdf, const char *driver);
int vslice_unbind(const char *bdf);
/*
 * The first bochs-display (1234:1111), bound to vslice (NULL if there is
 * none), and the second, left as it is; vslice_edu_parent() and
 * vslice_edu_spare() the same for the edus (1234:11e8).
 */
const char *vslice_parent(void);
const char *vslice_spare(void);
const char *vslice_edu_parent(void);
const char *vslice_edu_spare(void);

/* types and instances */
int vslice_types(const char *parent, char names[][64], int max);
int vslice_type_attr(const char *parent, const char *type, const char *attr,
		     char *buf, size_t len);
long long vslice_type_available(const char *parent, const char *type);
int vslice_create(const char *parent, const char *type,
		  char uuid[VSLICE_UUID_LEN]);
/* A fresh UUID (empty on failure); whether instance @uuid exists. */
int vslice_new_uuid(char uuid[VSLICE_UUID_LEN]);
bool vslice_mdev_exists(const char *uuid);
int vslice_mdev_create(const char *sysdev, const char *type,
		       char uuid[VSLICE_UUID_LEN]);
void vslice_create_assert(const char *parent, const char *type,
			  char uuid[VSLICE_UUID_LEN]);
int vslice_remove(const char *uuid);
int vslice_remove_all(const char *parent);
int vslice_inst_count(const char *parent);

/* VFIO */
/* True when VSLICE_VFIO=cdev: devices are opened through their cdev. */
bool vslice_vfio_cdev(void);
/*
 * The cdev path only: open sysdev's device cdev as @dev, bound to
 * @peer's iommufd and attached to @peer's IOAS (one address space for
 * both, as a VMM gives all its devices).  0 or -errno.
 */
int vslice_vfio_open_cdev_shared(struct vslice_dev *dev, const char *sysdev,
				 const struct vslice_dev *peer);
int vslice_vfio_open(struct vslice_dev *dev, const char *sysdev,
		     const char *name);
int vslice_dev_open(struct vslice_dev *dev, const char *uuid);
void vslice_dev_open_assert(struct vslice_dev *dev, const char *uuid);
void vslice_dev_close(struct vslice_dev *dev);
/*
 * A DMA mapping of [@va, @va + @len) at @iova for @dev:
 * VFIO_IOMMU_MAP_DMA in its container (group path) or IOMMU_IOAS_MAP in
 * its IOAS (cdev path); and its removal.  0 or -errno.
 */
int vslice_map_dma(const struct vslice_dev *dev, void *va, size_t len,
		   u64 iova);
int vslice_unmap_dma(const struct vslice_dev *dev, size_t len, u64 iova);
void vslice_region_info(int fd, u32 index, struct vfio_region_info *info);
u32 vslice_cfg_read(int fd, u32 off, unsigned int size);
void vslice_cfg_write(int fd, u32 off, unsigned int size, u32 val);
u32 vslice_mmio_read(int fd, u32 off, unsigned int size);
void vslice_mmio_write(int fd, u32 off, unsigned int size, u32 val);
int vslice_region_cap_type(int fd, u32 index, u32 *type, u32 *subtype);

/* instance attributes and VRAM */
int vslice_inst_attr(const char *uuid, const char *attr, char *buf,
		     size_t len);
long long vslice_inst_attr_ll(const char *uuid, const char *attr);
long long vslice_inst_debug_ll(const char *uuid, const char *name);
void *vslice_map_parent_vram(const char *parent, size_t *len);
void *vslice_map_bar0(int fd, size_t len);
void vslice_fill(void *p, size_t len, u64 seed);
long long vslice_check(const void *p, size_t len, u64 seed);
long long vslice_check_zero(const void *p, size_t len);
u64 vslice_now_ns(void);

/* migration (VFIO migration v2) */
int vslice_device_feature(int fd, u32 flags, void *data, size_t size);
int vslice_mig_set(int fd, u32 state, int *data_fd);
bool vslice_kernel_at_least(unsigned int major, unsigned int minor);
u32 vslice_mig_get(int fd);

/**
 * struct vslice_inst_fix - what most selftests start from: one open
 * instance on an otherwise empty parent
 * @bdf: the parent
 * @uuid: the instance
 * @dev: it, opened through VFIO
 * @kmsg: the kernel log, from before the instance was created
 */
struct vslice_inst_fix {
	const char *bdf;
	char uuid[VSLICE_UUID_LEN];
	struct vslice_dev dev;
	int kmsg;
};

/* -ENODEV (the test skips) if there is no parent; aborts on failure. */
int vslice_inst_fix_setup(struct vslice_inst_fix *f, const char *type);
/* Close and remove; the number of failed checks (remove, kernel log). */
int vslice_inst_fix_teardown(struct vslice_inst_fix *f);

/* kernel log */
/*
 * Did a child exit with status 0?  A child killed by a signal (SIGBUS from
 * a mapping) did not, whatever WEXITSTATUS() makes of its status; says why.
 */
bool vslice_exited_ok(int status);

int vslice_kmsg_open(void);
int vslice_kmsg_lines(int fd, const char * const *what, size_t n);
int vslice_kmsg_bad_lines(int fd);

#endif /* VSLICE_SELFTEST_LIB_H */
