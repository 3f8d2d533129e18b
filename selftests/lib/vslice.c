// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice selftest library.  See vslice.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/iommufd.h>
#include <unistd.h>

#include "vslice.h"

#define SYS_PCI		"/sys/bus/pci"
#define SYS_MDEV	"/sys/bus/mdev/devices"

/*
 * Which bochs-display (and which edu) plays which role: by BDF order,
 * first = parent, second = spare.
 */
#define VSLICE_PARENT_INDEX	0
#define VSLICE_SPARE_INDEX	1

int vslice_sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

int vslice_sysfs_write(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

long long vslice_sysfs_read_ll(const char *path)
{
	char buf[64];
	int ret;

	ret = vslice_sysfs_read(path, buf, sizeof(buf));
	if (ret)
		VSLICE_FAIL("reading %s: %d", path, ret);
	return strtoll(buf, NULL, 0);
}

bool vslice_module_loaded(void)
{
	return access("/sys/module/vslice", F_OK) == 0;
}

/*
 * modprobe finds vslice where the test bed installed it (with its
 * dependencies); $VSLICE_KO is the fallback for a bare insmod.
 */
int vslice_module_load(void)
{
	const char *ko = getenv("VSLICE_KO");
	int fd, ret;

	if (vslice_module_loaded())
		return 0;
	if (system("modprobe vslice 2>/dev/null") == 0 && vslice_module_loaded())
		return 0;
	if (!ko)
		return -ENOENT;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * Unloaded means gone from sysfs too.  The driver core removes a driver's
 * directory (bus/pci/drivers/vslice, bus/mdev/drivers/vslice) only from
 * its kobject's release, which CONFIG_DEBUG_KOBJECT_RELEASE delays by up
 * to 4 s: a load before then fails with EEXIST.  Wait for them (10 s).
 */
int vslice_module_unload(void)
{
	int i;

	if (!vslice_module_loaded())
		return 0;
	if (syscall(SYS_delete_module, "vslice", O_NONBLOCK))
		return -errno;
	for (i = 0; i < 1000; i++) {
		if (access(SYS_PCI "/drivers/vslice", F_OK) &&
		    access("/sys/bus/mdev/drivers/vslice", F_OK))
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

static int vslice_cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The PCI devices @vendor:@device, in BDF order; their number or -errno. */
int vslice_pci_list(u16 vendor, u16 device, char bdfs[][VSLICE_BDF_LEN],
		    int max)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *dir;

	dir = opendir(SYS_PCI "/devices");
	if (!dir)
		return -errno;
	while ((de = readdir(dir)) && n < max) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), SYS_PCI "/devices/%s/vendor",
			 de->d_name);
		if (vslice_sysfs_read_ll(path) != vendor)
			continue;
		snprintf(path, sizeof(path), SYS_PCI "/devices/%s/device",
			 de->d_name);
		if (vslice_sysfs_read_ll(path) != device)
			continue;
		snprintf(bdfs[n++], VSLICE_BDF_LEN, "%s", de->d_name);
	}
	closedir(dir);
	qsort(bdfs, n, VSLICE_BDF_LEN, vslice_cmp_str);
	return n;
}

int vslice_bochs_list(char bdfs[][VSLICE_BDF_LEN], int max)
{
	return vslice_pci_list(VSLICE_BOCHS_VENDOR, VSLICE_BOCHS_DEVICE, bdfs,
			       max);
}

int vslice_driver_of(const char *bdf, char *drv, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), SYS_PCI "/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	snprintf(drv, len, "%s", strrchr(link, '/') + 1);
	return 0;
}

int vslice_unbind(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SYS_PCI "/devices/%s/driver/unbind", bdf);
	if (access(path, F_OK))
		return 0;
	return vslice_sysfs_write(path, bdf);
}

/*
 * The documented way to hand a device to a driver that does not claim
 * it by itself: driver_override, unbind from whoever has it, reprobe.
 * @driver "" clears the override.
 */
int vslice_bind(const char *bdf, const char *driver)
{
	char path[PATH_MAX], cur[64];
	int ret;

	snprintf(path, sizeof(path), SYS_PCI "/devices/%s/driver_override",
		 bdf);
	ret = vslice_sysfs_write(path, *driver ? driver : "\n");
	if (ret)
		return ret;
	if (!vslice_driver_of(bdf, cur, sizeof(cur)) && !strcmp(cur, driver))
		return 0;
	ret = vslice_unbind(bdf);
	if (ret)
		return ret;
	if (!*driver)
		return 0;
	ret = vslice_sysfs_write(SYS_PCI "/drivers_probe", bdf);
	if (ret)
		return ret;
	if (vslice_driver_of(bdf, cur, sizeof(cur)) || strcmp(cur, driver))
		return -ENODEV;
	return 0;
}

static const char *vslice_bochs_nth(int index)
{
	static char bdfs[VSLICE_MAX_BOCHS][VSLICE_BDF_LEN];
	int n = vslice_bochs_list(bdfs, VSLICE_MAX_BOCHS);

	return n > index ? bdfs[index] : NULL;
}

/* Its own array: a BDF handed out for a bochs-display keeps naming it. */
static const char *vslice_edu_nth(int index)
{
	static char bdfs[VSLICE_MAX_EDU][VSLICE_BDF_LEN];
	int n = vslice_pci_list(VSLICE_BOCHS_VENDOR, VSLICE_EDU_DEVICE, bdfs,
				VSLICE_MAX_EDU);

	return n > index ? bdfs[index] : NULL;
}

/*
 * @bdf (NULL: none), with the module loaded and bound to vslice through
 * driver_override unless it is already; fails the test if that fails.
 */
static const char *vslice_bound(const char *bdf)
{
	char drv[64];
	int ret;

	if (!bdf)
		return NULL;
	ret = vslice_module_load();
	if (ret)
		VSLICE_FAIL("loading vslice: %d", ret);
	if (!vslice_driver_of(bdf, drv, sizeof(drv)) && !strcmp(drv, "vslice"))
		return bdf;
	ret = vslice_bind(bdf, "vslice");
	if (ret)
		VSLICE_FAIL("binding %s to vslice: %d", bdf, ret);
	return bdf;
}

const char *vslice_parent(void)
{
	return vslice_bound(vslice_bochs_nth(VSLICE_PARENT_INDEX));
}

const char *vslice_spare(void)
{
	return vslice_bochs_nth(VSLICE_SPARE_INDEX);
}

const char *vslice_edu_parent(void)
{
	return vslice_bound(vslice_edu_nth(VSLICE_PARENT_INDEX));
}

const char *vslice_edu_spare(void)
{
	return vslice_edu_nth(VSLICE_SPARE_INDEX);
}

int vslice_types(const char *parent, char names[][64], int max)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), SYS_PCI "/devices/%s/mdev_supported_types",
		 parent);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)) && n < max)
		if (de->d_name[0] != '.')
			snprintf(names[n++], 64, "%s", de->d_name);
	closedir(dir);
	qsort(names, n, 64, vslice_cmp_str);
	return n;
}

int vslice_type_attr(const char *parent, const char *type, const char *attr,
		     char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path),
		 SYS_PCI "/devices/%s/mdev_supported_types/%s/%s",
		 parent, type, attr);
	return vslice_sysfs_read(path, buf, len);
}

long long vslice_type_available(const char *parent, const char *type)
{
	char buf[64];
	int ret;

	ret = vslice_type_attr(parent, type, "available_instances", buf,
			       sizeof(buf));
	if (ret)
		VSLICE_FAIL("available_instances of %s: %d", type, ret);
	return strtoll(buf, NULL, 0);
}

int vslice_new_uuid(char uuid[VSLICE_UUID_LEN])
{
	int ret = vslice_sysfs_read("/proc/sys/kernel/random/uuid", uuid,
				    VSLICE_UUID_LEN);

	if (ret)
		uuid[0] = '\0';
	return ret;
}

bool vslice_mdev_exists(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SYS_MDEV "/%s", uuid);
	return !access(path, F_OK);
}

/*
 * Create an instance of @type on the mdev parent whose sysfs directory is
 * @sysdev (a PCI device for vslice, /sys/class/... for other parents).
 */
int vslice_mdev_create(const char *sysdev, const char *type,
		       char uuid[VSLICE_UUID_LEN])
{
	char path[PATH_MAX];
	int ret;

	ret = vslice_new_uuid(uuid);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/mdev_supported_types/%s/create",
		 sysdev, type);
	return vslice_sysfs_write(path, uuid);
}

int vslice_create(const char *parent, const char *type,
		  char uuid[VSLICE_UUID_LEN])
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SYS_PCI "/devices/%s", parent);
	return vslice_mdev_create(path, type, uuid);
}

void vslice_create_assert(const char *parent, const char *type,
			  char uuid[VSLICE_UUID_LEN])
{
	int ret = vslice_create(parent, type, uuid);

	if (ret)
		VSLICE_FAIL("creating a %s instance on %s: %d", type, parent,
			    ret);
}

int vslice_remove(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SYS_MDEV "/%s/remove", uuid);
	return vslice_sysfs_write(path, "1");
}

/* Counts (and with @do_remove, removes) the instances of @parent. */
static int vslice_walk_insts(const char *parent, bool do_remove)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct dirent *de;
	int n = 0, ret;
	DIR *dir;

	dir = opendir(SYS_MDEV);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), SYS_MDEV "/%s", de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 0)
			continue;
		link[len] = '\0';
		if (!strstr(link, parent))
			continue;
		n++;
		if (do_remove) {
			ret = vslice_remove(de->d_name);
			if (ret) {
				closedir(dir);
				return ret;
			}
		}
	}
	closedir(dir);
	return n;
}

int vslice_remove_all(const char *parent)
{
	int ret = vslice_walk_insts(parent, true);

	return ret < 0 ? ret : 0;
}

int vslice_inst_count(const char *parent)
{
	return vslice_walk_insts(parent, false);
}

/*
 * Open any VFIO device through the group API: @sysdev is its sysfs
 * directory (which has the iommu_group link), @name what
 * VFIO_GROUP_GET_DEVICE_FD wants (an mdev's UUID, a PCI device's BDF).
 * Each device gets its own container.
 */
/*
 * The cdev path: /dev/vfio/devices/vfioN bound to an iommufd and attached
 * to an IOAS, as QEMU does with iommufd=: fresh ones, or @peer's.
 */
static int vslice_vfio_open_cdev(struct vslice_dev *dev, const char *sysdev,
				 const struct vslice_dev *peer)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/vfio-dev", sysdev);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)) && strncmp(de->d_name, "vfio", 4))
		;
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s",
		 de ? de->d_name : "none");
	closedir(dir);

	dev->fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0)
		return -errno;
	if (peer)
		dev->iommufd = dup(peer->iommufd);
	else
		dev->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (dev->iommufd < 0)
		return -errno;
	bind.iommufd = dev->iommufd;
	if (ioctl(dev->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return -errno;
	if (peer)
		alloc.out_ioas_id = peer->ioas;
	else if (ioctl(dev->iommufd, IOMMU_IOAS_ALLOC, &alloc))
		return -errno;
	dev->ioas = alloc.out_ioas_id;
	attach.pt_id = dev->ioas;
	if (ioctl(dev->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return -errno;
	return 0;
}

int vslice_vfio_open_cdev_shared(struct vslice_dev *dev, const char *sysdev,
				 const struct vslice_dev *peer)
{
	int ret;

	vslice_dev_init(dev);
	ret = vslice_vfio_open_cdev(dev, sysdev, peer);
	if (ret)
		vslice_dev_close(dev);
	return ret;
}

bool vslice_vfio_cdev(void)
{
	const char *path_kind = getenv("VSLICE_VFIO");

	return path_kind && !strcmp(path_kind, "cdev");
}

/*
 * A group node that cannot be opened: say which device number the node has
 * and which the kernel's group device has, so that a stale node (devtmpfs)
 * can be told from a group that went away.  errno is kept.
 */
static void vslice_group_node_note(const char *node, const char *group)
{
	char path[PATH_MAX], devt[32] = "?";
	int saved = errno;
	struct stat st;

	snprintf(path, sizeof(path), "/sys/class/vfio/%s/dev", group);
	if (vslice_sysfs_read(path, devt, sizeof(devt)) < 0)
		snprintf(devt, sizeof(devt), "gone");
	if (stat(node, &st))
		printf("# open %s: %s; node: %s; group device: %s\n",
		       node, strerror(saved), strerror(errno), devt);
	else
		printf("# open %s: %s; node %u:%u; group device %s\n",
		       node, strerror(saved), major(st.st_rdev),
		       minor(st.st_rdev), devt);
	fflush(stdout);
	errno = saved;
}

int vslice_vfio_open(struct vslice_dev *dev, const char *sysdev,
		     const char *name)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;
	int ret;

	vslice_dev_init(dev);
	if (name != dev->uuid)
		snprintf(dev->uuid, sizeof(dev->uuid), "%s", name);

	if (vslice_vfio_cdev()) {
		ret = vslice_vfio_open_cdev(dev, sysdev, NULL);
		if (ret)
			vslice_dev_close(dev);
		return ret;
	}

	snprintf(path, sizeof(path), "%s/iommu_group", sysdev);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);

	dev->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (dev->container < 0)
		goto err;
	dev->group = open(path, O_RDWR | O_CLOEXEC);
	if (dev->group < 0) {
		vslice_group_node_note(path, strrchr(link, '/') + 1);
		goto err;
	}
	if (ioctl(dev->group, VFIO_GROUP_GET_STATUS, &status))
		goto err;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = EBUSY;
		goto err;
	}
	if (ioctl(dev->group, VFIO_GROUP_SET_CONTAINER, &dev->container))
		goto err;
	if (ioctl(dev->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		goto err;
	dev->fd = ioctl(dev->group, VFIO_GROUP_GET_DEVICE_FD, dev->uuid);
	if (dev->fd < 0)
		goto err;
	return 0;

err:
	ret = -errno;
	vslice_dev_close(dev);
	return ret;
}

int vslice_dev_open(struct vslice_dev *dev, const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SYS_MDEV "/%s", uuid);
	return vslice_vfio_open(dev, path, uuid);
}

void vslice_dev_open_assert(struct vslice_dev *dev, const char *uuid)
{
	int ret = vslice_dev_open(dev, uuid);

	if (ret)
		VSLICE_FAIL("opening %s through VFIO: %d", uuid, ret);
}

void vslice_dev_close(struct vslice_dev *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	if (dev->group >= 0)
		close(dev->group);
	if (dev->container >= 0)
		close(dev->container);
	if (dev->iommufd >= 0)
		close(dev->iommufd);
	dev->fd = -1;
	dev->group = -1;
	dev->container = -1;
	dev->iommufd = -1;
}

int vslice_map_dma(const struct vslice_dev *dev, void *va, size_t len,
		   u64 iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = len,
	};
	struct iommu_ioas_map ioas_map = {
		.size = sizeof(ioas_map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = dev->ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	if (dev->iommufd >= 0)
		return ioctl(dev->iommufd, IOMMU_IOAS_MAP, &ioas_map) ?
		       -errno : 0;
	return ioctl(dev->container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

int vslice_unmap_dma(const struct vslice_dev *dev, size_t len, u64 iova)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = len,
	};
	struct iommu_ioas_unmap ioas_unmap = {
		.size = sizeof(ioas_unmap),
		.ioas_id = dev->ioas,
		.iova = iova,
		.length = len,
	};

	if (dev->iommufd >= 0)
		return ioctl(dev->iommufd, IOMMU_IOAS_UNMAP, &ioas_unmap) ?
		       -errno : 0;
	return ioctl(dev->container, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno : 0;
}

void vslice_region_info(int fd, u32 index, struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, info))
		VSLICE_FAIL("GET_REGION_INFO %u", index);
}

/* One access of 1, 2 or 4 bytes to a region, failing the test on error. */
static u32 vslice_region_access(int fd, u32 index, u32 off, unsigned int size,
				bool write, u32 val)
{
	u64 pos = VSLICE_REGION_OFFSET(index) + off;
	ssize_t n;

	/* little-endian host: the low bytes of val are the bus bytes */
	if (write)
		n = pwrite(fd, &val, size, pos);
	else
		n = pread(fd, &val, size, pos);
	if (n != (ssize_t)size)
		VSLICE_FAIL("%s of %u bytes at 0x%x of region %u returned %zd",
			    write ? "write" : "read", size, off, index, n);
	return size == 4 ? val : val & ((1u << (size * 8)) - 1);
}

u32 vslice_cfg_read(int fd, u32 off, unsigned int size)
{
	return vslice_region_access(fd, VFIO_PCI_CONFIG_REGION_INDEX, off, size,
				    false, 0);
}

void vslice_cfg_write(int fd, u32 off, unsigned int size, u32 val)
{
	vslice_region_access(fd, VFIO_PCI_CONFIG_REGION_INDEX, off, size, true,
			     val);
}

u32 vslice_mmio_read(int fd, u32 off, unsigned int size)
{
	return vslice_region_access(fd, VFIO_PCI_BAR2_REGION_INDEX, off, size,
				    false, 0);
}

void vslice_mmio_write(int fd, u32 off, unsigned int size, u32 val)
{
	vslice_region_access(fd, VFIO_PCI_BAR2_REGION_INDEX, off, size, true,
			     val);
}

/* The type capability of a region: 0, or -ENOENT if it has none. */
int vslice_region_cap_type(int fd, u32 index, u32 *type, u32 *subtype)
{
	struct vfio_region_info *info;
	struct vfio_info_cap_header *hdr;
	u32 argsz = sizeof(*info);
	u32 off;

	info = calloc(1, argsz);
	info->argsz = argsz;
	info->index = index;
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, info))
		VSLICE_FAIL("GET_REGION_INFO %u", index);
	if (info->argsz > argsz) {
		argsz = info->argsz;
		info = realloc(info, argsz);
		memset(info, 0, argsz);
		info->argsz = argsz;
		info->index = index;
		if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, info))
			VSLICE_FAIL("GET_REGION_INFO %u with caps", index);
	}
	for (off = (info->flags & VFIO_REGION_INFO_FLAG_CAPS) ?
		   info->cap_offset : 0; off; off = hdr->next) {
		hdr = (void *)info + off;
		if (hdr->id == VFIO_REGION_INFO_CAP_TYPE) {
			struct vfio_region_info_cap_type *t = (void *)hdr;

			*type = t->type;
			*subtype = t->subtype;
			free(info);
			return 0;
		}
	}
	free(info);
	return -ENOENT;
}

int vslice_inst_attr(const char *uuid, const char *attr, char *buf,
		     size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SYS_MDEV "/%s/vslice/%s", uuid, attr);
	return vslice_sysfs_read(path, buf, len);
}

long long vslice_inst_attr_ll(const char *uuid, const char *attr)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SYS_MDEV "/%s/vslice/%s", uuid, attr);
	return vslice_sysfs_read_ll(path);
}

/* A debugging counter of the instance, in debugfs: vslice/UUID/NAME. */
long long vslice_inst_debug_ll(const char *uuid, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/kernel/debug/vslice/%s/%s", uuid,
		 name);
	return vslice_sysfs_read_ll(path);
}

/*
 * The parent's whole VRAM through sysfs, the way an administrator (or a
 * test) can look at it.  The kernel refuses this for a BAR a driver has
 * claimed unless booted with iomem=relaxed, as the test bed does.
 */
void *vslice_map_parent_vram(const char *parent, size_t *len)
{
	char path[PATH_MAX];
	struct stat st;
	void *p;
	int fd;

	snprintf(path, sizeof(path), SYS_PCI "/devices/%s/resource0", parent);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		VSLICE_FAIL("opening %s", path);
	p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		VSLICE_FAIL("mapping %s (needs iomem=relaxed)", path);
	*len = st.st_size;
	return p;
}

void *vslice_map_bar0(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       VSLICE_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX));

	if (p == MAP_FAILED)
		VSLICE_FAIL("mapping %zu bytes of BAR0", len);
	return p;
}

/* A pattern no two seeds or offsets share: a cheap hash of both. */
static inline u64 vslice_pattern(u64 seed, u64 i)
{
	u64 x = seed * 0x9e3779b97f4a7c15ULL + i;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 29);
}

void vslice_fill(void *p, size_t len, u64 seed)
{
	u64 *q = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		q[i] = vslice_pattern(seed, i);
	__sync_synchronize();	/* drain write-combining buffers */
}

/* Offset of the first byte that differs from the pattern, or -1. */
long long vslice_check(const void *p, size_t len, u64 seed)
{
	const u64 *q = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (q[i] != vslice_pattern(seed, i))
			return i * 8;
	return -1;
}

long long vslice_check_zero(const void *p, size_t len)
{
	const u64 *q = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (q[i])
			return i * 8;
	return -1;
}

/* CLOCK_MONOTONIC in nanoseconds. */
u64 vslice_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

bool vslice_exited_ok(int status)
{
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return true;
	if (WIFSIGNALED(status))
		fprintf(stderr, "# child killed by signal %d (%s)\n",
			WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		fprintf(stderr, "# child status 0x%x\n", status);
	return false;
}

/* /dev/kmsg, positioned after everything logged so far. */
int vslice_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		VSLICE_FAIL("opening /dev/kmsg");
	lseek(fd, 0, SEEK_END);
	return fd;
}

static const char * const vslice_kmsg_bad[] = {
	"WARNING:", "BUG:", "Oops", "Call Trace", "general protection",
	"UBSAN", "KASAN", "kmemleak", "possible circular", "refcount_t",
	"lockdep", "INFO: task",
};

/*
 * Counts (and prints) the records logged since @fd was opened or last read
 * that contain one of the @n strings of @what.
 */
int vslice_kmsg_lines(int fd, const char * const *what, size_t n)
{
	char rec[8192], *msg;
	unsigned int i;
	int hits = 0;
	ssize_t len;

	for (;;) {
		len = read(fd, rec, sizeof(rec) - 1);
		if (len < 0 && errno == EPIPE)
			continue;	/* overwritten records: keep going */
		if (len <= 0)
			break;
		rec[len] = '\0';
		for (i = 0; i < n; i++) {
			if (strstr(rec, what[i])) {
				msg = strchr(rec, ';');
				fprintf(stderr, "# kernel: %s", msg ? msg + 1 : rec);
				hits++;
				break;
			}
		}
	}
	return hits;
}

/* Those records that look like a kernel problem. */
int vslice_kmsg_bad_lines(int fd)
{
	return vslice_kmsg_lines(fd, vslice_kmsg_bad, ARRAY_SIZE(vslice_kmsg_bad));
}

/*
 * VFIO_DEVICE_FEATURE with @flags, its payload of @size bytes (at most 64)
 * copied in from and back out to @data.
 */
int vslice_device_feature(int fd, u32 flags, void *data, size_t size)
{
	union {
		struct vfio_device_feature f;
		u8 bytes[sizeof(struct vfio_device_feature) + 64];
	} arg = { .f.flags = flags };

	if (size > sizeof(arg) - sizeof(arg.f))
		return -EINVAL;
	arg.f.argsz = sizeof(arg.f) + size;
	memcpy(arg.f.data, data, size);
	if (ioctl(fd, VFIO_DEVICE_FEATURE, &arg))
		return -errno;
	memcpy(data, arg.f.data, size);
	return 0;
}

/* Is the running kernel @major.@minor or later? */
bool vslice_kernel_at_least(unsigned int major, unsigned int minor)
{
	unsigned int ma = 0, mi = 0;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%u.%u", &ma, &mi) != 2)
		VSLICE_FAIL("cannot tell the kernel's version");
	return ma > major || (ma == major && mi >= minor);
}

/* Set the migration state; *data_fd gets the data file if there is one. */
int vslice_mig_set(int fd, u32 state, int *data_fd)
{
	struct vfio_device_feature_mig_state s = {
		.device_state = state,
		.data_fd = -1,
	};
	int ret;

	ret = vslice_device_feature(fd, VFIO_DEVICE_FEATURE_SET |
				    VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
				    &s, sizeof(s));
	if (ret)
		return ret;
	if (data_fd)
		*data_fd = s.data_fd;
	else if (s.data_fd >= 0)
		close(s.data_fd);
	return 0;
}

u32 vslice_mig_get(int fd)
{
	struct vfio_device_feature_mig_state s = { 0 };

	if (vslice_device_feature(fd, VFIO_DEVICE_FEATURE_GET |
				  VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
				  &s, sizeof(s)))
		VSLICE_FAIL("getting the migration state");
	return s.device_state;
}

int vslice_inst_fix_setup(struct vslice_inst_fix *f, const char *type)
{
	f->kmsg = -1;
	f->dev.fd = -1;
	f->bdf = vslice_parent();
	if (!f->bdf)
		return -ENODEV;
	VSLICE_ASSERT(!vslice_remove_all(f->bdf), "removing instances");
	f->kmsg = vslice_kmsg_open();
	vslice_create_assert(f->bdf, type, f->uuid);
	vslice_dev_open_assert(&f->dev, f->uuid);
	return 0;
}

int vslice_inst_fix_teardown(struct vslice_inst_fix *f)
{
	int bad = 0;

	vslice_dev_close(&f->dev);
	if (vslice_remove(f->uuid)) {
		fprintf(stderr, "# removing %s failed\n", f->uuid);
		bad++;
	}
	if (vslice_kmsg_bad_lines(f->kmsg)) {
		fprintf(stderr, "# the kernel log has bad lines\n");
		bad++;
	}
	close(f->kmsg);
	return bad;
}
