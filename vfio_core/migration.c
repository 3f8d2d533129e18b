// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice migration: VFIO migration v2 for any model that can save its
 * state as a fixed-size blob and names one region of device memory to
 * carry along.
 *
 * The device supports STOP_COPY (RUNNING, STOP, STOP_COPY, RESUMING).  It
 * has no activity of its own (no DMA, no interrupts), so stopping and
 * running are no-ops.  There is no PRE_COPY: the device memory is mapped
 * straight into the guest, so telling which pages changed would mean
 * write-protecting the fast path; the whole memory goes in stop-copy
 * instead (Documentation/vslice/design.rst measures what that costs).
 *
 * The stream, little-endian:
 *
 *   header    struct vslice_mig_header: magic, version, sizes, the
 *             model's compatibility string, a CRC32 of header and state
 *   (state)   config space (256 bytes), then the model's own
 *   memory    the region's device memory, raw
 *
 * A stream is refused before anything is applied if its header does not
 * match this device (model, type, memory size, version): nothing of it is
 * taken.  Memory bytes go straight to the device memory as they arrive;
 * the state is applied only when the stream is complete and its CRC is
 * right, and only if every byte of config space the guest cannot write
 * (IDs, class, BAR flags, capability pointers) equals this device's.  If
 * it turns out short or bad, the memory it wrote is cleared, the
 * registers stay as they were and the state becomes ERROR: no
 * half-applied state is ever visible.  Every other way out of RESUMING
 * (a reset, the last close) clears written memory too, and the data file
 * is shut in the same critical section, so no write can land after the
 * clear.
 *
 * A data file's buffers are charged to the memory cgroup of the task
 * that asked for the state, and freed as soon as the device leaves the
 * state, even if userspace keeps the file open.
 *
 * A stream is the tenant's input: what the kernel log says about a bad
 * one is rate-limited and escaped.  In ERROR, only a reset moves the
 * device (the vfio core treats a state request from ERROR as a driver
 * bug), so every other request is refused here.
 */

#include <linux/anon_inodes.h>
#include <linux/crc32.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "private.h"

#define VSLICE_MIG_MAGIC	0x474d43494c535600ULL	/* "\0VSLICMG" */
#define VSLICE_MIG_VERSION	1
#define VSLICE_MIG_BOUNCE	SZ_256K

/**
 * struct vslice_mig_header - the start of every migration stream
 * @magic: VSLICE_MIG_MAGIC
 * @version: VSLICE_MIG_VERSION
 * @header_size: sizeof(struct vslice_mig_header)
 * @compat: the model's compatibility string, NUL-padded
 * @blob_size: bytes of config space and model state that follow
 * @mem_size: bytes of device memory after the blob
 * @crc: CRC32 of the header (with @crc zero) and the blob
 * @reserved: zero
 */
struct vslice_mig_header {
	__le64 magic;
	__le32 version;
	__le32 header_size;
	char compat[VSLICE_MIG_COMPAT_LEN];
	__le64 blob_size;
	__le64 mem_size;
	__le32 crc;
	__le32 reserved;
};

/**
 * struct vslice_mig_file - one saving or resuming data stream
 * @cdev: the device; only touched while @disabled is false
 * @lock: protects everything below
 * @disabled: the device left the state this file belongs to; @head and
 *	      @bounce are freed then
 * @failed: a write was refused; the stream can no longer complete
 * @saving: a STOP_COPY stream (else RESUMING)
 * @pos: bytes of the stream read or written so far
 * @head: header and blob, as saved, or as received so far
 * @head_size: bytes in @head when complete
 * @bounce: buffer between user memory and device memory
 */
struct vslice_mig_file {
	struct vslice_core_dev *cdev;
	/* protects the fields below */
	struct mutex lock;
	bool disabled;
	bool failed;
	bool saving;
	u64 pos;
	u8 *head;
	size_t head_size;
	void *bounce;
};

/*
 * What a stream from userspace makes the kernel say: one module-wide
 * budget, so that many devices fed bad streams at once cannot flood the
 * log either.
 */
static DEFINE_RATELIMIT_STATE(vslice_mig_rs, 5 * HZ, 10);

#define vslice_mig_info(cdev, fmt, ...)					\
do {									\
	if (__ratelimit(&vslice_mig_rs))				\
		dev_info((cdev)->vdev.dev, "migration stream: " fmt,	\
			 ##__VA_ARGS__);				\
} while (0)

static size_t vslice_mig_head_size(struct vslice_core_dev *cdev)
{
	return sizeof(struct vslice_mig_header) + VSLICE_CFG_SIZE +
	       cdev->model->mig_blob_size;
}

static const struct vslice_region *vslice_mig_mem(struct vslice_core_dev *cdev)
{
	return &cdev->regions[cdev->mig_region];
}

static u64 vslice_mig_stream_size(struct vslice_core_dev *cdev)
{
	return vslice_mig_head_size(cdev) + vslice_mig_mem(cdev)->backing;
}

/* Fill the header for this device; the CRC over @head comes last. */
static void vslice_mig_fill_header(struct vslice_core_dev *cdev, u8 *head)
{
	struct vslice_mig_header *h = (void *)head;

	memset(h, 0, sizeof(*h));
	h->magic = cpu_to_le64(VSLICE_MIG_MAGIC);
	h->version = cpu_to_le32(VSLICE_MIG_VERSION);
	h->header_size = cpu_to_le32(sizeof(*h));
	strscpy_pad(h->compat, cdev->mig_compat, sizeof(h->compat));
	h->blob_size = cpu_to_le64(VSLICE_CFG_SIZE + cdev->model->mig_blob_size);
	h->mem_size = cpu_to_le64(vslice_mig_mem(cdev)->backing);
}

static u32 vslice_mig_crc(const u8 *head, size_t size)
{
	struct vslice_mig_header h;
	u32 crc;

	memcpy(&h, head, sizeof(h));
	h.crc = 0;
	crc = crc32_le(~0, (const u8 *)&h, sizeof(h));
	return ~crc32_le(crc, head + sizeof(h), size - sizeof(h));
}

/* The buffers go when the device leaves the file's state. */
static void vslice_mig_file_free_bufs(struct vslice_mig_file *migf)
{
	kvfree(migf->bounce);
	migf->bounce = NULL;
	kfree(migf->head);
	migf->head = NULL;
}

static void vslice_mig_file_free(struct vslice_mig_file *migf)
{
	vslice_mig_file_free_bufs(migf);
	mutex_destroy(&migf->lock);
	kfree(migf);
}

static int vslice_mig_release(struct inode *inode, struct file *filp)
{
	vslice_mig_file_free(filp->private_data);
	return 0;
}

/* Reads of the saving stream: the head from memory, then device memory. */
static ssize_t vslice_mig_read(struct file *filp, char __user *buf,
			       size_t len, loff_t *ppos)
{
	struct vslice_mig_file *migf = filp->private_data;
	const struct vslice_region *mem;
	size_t done = 0, chunk;
	ssize_t ret = 0;
	u64 end, at;

	if (ppos)
		return -ESPIPE;

	mutex_lock(&migf->lock);
	if (migf->disabled) {
		ret = -ENODEV;
		goto out_unlock;
	}
	mem = vslice_mig_mem(migf->cdev);
	end = migf->head_size + mem->backing;
	while (done < len && migf->pos < end) {
		if (migf->pos < migf->head_size) {
			chunk = min_t(u64, len - done,
				      migf->head_size - migf->pos);
			if (copy_to_user(buf + done, migf->head + migf->pos,
					 chunk)) {
				ret = -EFAULT;
				break;
			}
		} else {
			at = migf->pos - migf->head_size;
			chunk = min3((u64)(len - done), end - migf->pos,
				     (u64)VSLICE_MIG_BOUNCE);
			memcpy_fromio(migf->bounce, mem->iomem + at, chunk);
			if (copy_to_user(buf + done, migf->bounce, chunk)) {
				ret = -EFAULT;
				break;
			}
		}
		done += chunk;
		migf->pos += chunk;
	}
out_unlock:
	mutex_unlock(&migf->lock);
	return done ? done : ret;
}

/*
 * Check a complete header against this device before anything of the
 * stream is used.
 */
static int vslice_mig_check_header(struct vslice_core_dev *cdev,
				   const u8 *head)
{
	const struct vslice_mig_header *h = (const void *)head;
	u8 mine[sizeof(*h)];
	const struct vslice_mig_header *m = (const void *)mine;

	vslice_mig_fill_header(cdev, mine);
	if (h->magic != m->magic || h->header_size != m->header_size) {
		vslice_mig_info(cdev, "not a vslice stream\n");
		return -EINVAL;
	}
	if (h->version != m->version) {
		vslice_mig_info(cdev, "version %u, this kernel speaks %u\n",
				le32_to_cpu(h->version), VSLICE_MIG_VERSION);
		return -EINVAL;
	}
	if (strncmp(h->compat, m->compat, sizeof(h->compat)) ||
	    h->blob_size != m->blob_size || h->mem_size != m->mem_size) {
		/* the name is the stream's: escape what is not printable */
		vslice_mig_info(cdev, "for \"%*pE\" with %llu bytes, this is %s with %llu\n",
				(int)strnlen(h->compat, sizeof(h->compat)),
				h->compat, le64_to_cpu(h->mem_size),
				cdev->mig_compat, le64_to_cpu(m->mem_size));
		return -EINVAL;
	}
	return 0;
}

/*
 * Writes of the resuming stream: the header is checked as soon as it is
 * complete, the blob is kept, device memory is written in place.
 */
static ssize_t vslice_mig_write(struct file *filp, const char __user *buf,
				size_t len, loff_t *ppos)
{
	struct vslice_mig_file *migf = filp->private_data;
	const struct vslice_region *mem;
	size_t done = 0, chunk;
	ssize_t ret = 0;
	u64 end, at;

	if (ppos)
		return -ESPIPE;

	mutex_lock(&migf->lock);
	if (migf->disabled || migf->failed) {
		ret = migf->disabled ? -ENODEV : -EINVAL;
		goto out_unlock;
	}
	mem = vslice_mig_mem(migf->cdev);
	end = migf->head_size + mem->backing;
	if (len > end - migf->pos) {
		/* more than a stream holds: refuse it all */
		migf->failed = true;
		ret = -EINVAL;
		goto out_unlock;
	}
	while (done < len) {
		if (migf->pos < migf->head_size) {
			chunk = min_t(u64, len - done,
				      migf->head_size - migf->pos);
			if (copy_from_user(migf->head + migf->pos, buf + done,
					   chunk)) {
				ret = -EFAULT;
				break;
			}
			if (migf->pos < sizeof(struct vslice_mig_header) &&
			    migf->pos + chunk >= sizeof(struct vslice_mig_header)) {
				ret = vslice_mig_check_header(migf->cdev,
							      migf->head);
				if (ret) {
					migf->failed = true;
					break;
				}
			}
		} else {
			at = migf->pos - migf->head_size;
			chunk = min3((u64)(len - done), end - migf->pos,
				     (u64)VSLICE_MIG_BOUNCE);
			if (copy_from_user(migf->bounce, buf + done, chunk)) {
				ret = -EFAULT;
				break;
			}
			memcpy_toio(mem->iomem + at, migf->bounce, chunk);
		}
		done += chunk;
		migf->pos += chunk;
	}
out_unlock:
	mutex_unlock(&migf->lock);
	return done ? done : ret;
}

static const struct file_operations vslice_mig_fops = {
	.owner		= THIS_MODULE,
	.read		= vslice_mig_read,
	.write		= vslice_mig_write,
	.release	= vslice_mig_release,
};

static struct file *vslice_mig_file_open(struct vslice_core_dev *cdev,
					 bool saving)
{
	struct vslice_mig_file *migf;
	struct file *filp;
	size_t head = vslice_mig_head_size(cdev);

	/* charged to the caller: userspace decides how many there are */
	migf = kzalloc(sizeof(*migf), GFP_KERNEL_ACCOUNT);
	if (!migf)
		return ERR_PTR(-ENOMEM);
	mutex_init(&migf->lock);
	migf->cdev = cdev;
	migf->saving = saving;
	migf->head_size = head;
	migf->head = kzalloc(head, GFP_KERNEL_ACCOUNT);
	migf->bounce = kvmalloc(VSLICE_MIG_BOUNCE, GFP_KERNEL_ACCOUNT);
	if (!migf->head || !migf->bounce)
		goto err_free;

	if (saving) {
		struct vslice_mig_header *h = (void *)migf->head;

		/* a snapshot of the state: the device is stopped */
		vslice_mig_fill_header(cdev, migf->head);
		mutex_lock(&cdev->lock);
		memcpy(migf->head + sizeof(*h), cdev->cfg.val, VSLICE_CFG_SIZE);
		cdev->model->mig_save(cdev, migf->head + sizeof(*h) +
					    VSLICE_CFG_SIZE);
		mutex_unlock(&cdev->lock);
		h->crc = cpu_to_le32(vslice_mig_crc(migf->head, head));
	}

	filp = anon_inode_getfile("[vslice-migration]", &vslice_mig_fops, migf,
				  saving ? O_RDONLY : O_WRONLY);
	if (IS_ERR(filp)) {
		vslice_mig_file_free(migf);
		return filp;
	}
	stream_open(filp->f_inode, filp);
	return filp;

err_free:
	vslice_mig_file_free(migf);
	return ERR_PTR(-ENOMEM);
}

/*
 * Shut @migf, with its lock held: no read or write gets through from
 * now on.  Device memory that a resuming stream wrote is cleared unless
 * @keep (the stream was applied), in the same critical section as the
 * shutting, so that no write can land after the clear.
 */
static void vslice_mig_file_shut(struct vslice_core_dev *cdev,
				 struct vslice_mig_file *migf, bool keep)
{
	const struct vslice_region *mem = vslice_mig_mem(cdev);

	lockdep_assert_held(&migf->lock);
	if (migf->disabled)
		return;
	if (!migf->saving && !keep && migf->pos > migf->head_size)
		memset_io(mem->iomem, 0, mem->backing);
	migf->disabled = true;
	vslice_mig_file_free_bufs(migf);
}

/*
 * The device leaves the file's state: the file reads and writes no more,
 * and what a stream left half way wrote is cleared.
 */
static void vslice_mig_file_disable_locked(struct vslice_core_dev *cdev)
{
	struct vslice_mig_file *migf;

	lockdep_assert_held(&cdev->mig_lock);
	if (!cdev->mig_file)
		return;
	migf = cdev->mig_file->private_data;
	mutex_lock(&migf->lock);
	vslice_mig_file_shut(cdev, migf, false);
	mutex_unlock(&migf->lock);
	fput(cdev->mig_file);
	cdev->mig_file = NULL;
}

/*
 * Is every bit of @cfg that the guest cannot change (neither writable nor
 * write-one-to-clear) the same in the stream's config space @blob?
 */
static bool vslice_mig_cfg_fixed_match(const struct vslice_cfg *cfg,
				       const u8 *blob)
{
	unsigned int i;

	for (i = 0; i < VSLICE_CFG_SIZE; i++)
		if ((blob[i] ^ cfg->val[i]) & ~(cfg->wmask[i] | cfg->w1cmask[i]))
			return false;
	return true;
}

/* Leave RESUMING: take the state if the stream was whole and sound. */
static int vslice_mig_resume_locked(struct vslice_core_dev *cdev)
{
	struct vslice_mig_file *migf = cdev->mig_file->private_data;
	const struct vslice_mig_header *h = (const void *)migf->head;
	const u8 *blob = migf->head + sizeof(*h);
	int ret = 0;

	lockdep_assert_held(&cdev->mig_lock);

	mutex_lock(&migf->lock);
	if (migf->failed || migf->pos != vslice_mig_stream_size(cdev)) {
		vslice_mig_info(cdev, "%s after %llu of %llu bytes\n",
				migf->failed ? "refused" : "ends",
				migf->pos, vslice_mig_stream_size(cdev));
		ret = -EINVAL;
	} else if (le32_to_cpu(h->crc) !=
		   vslice_mig_crc(migf->head, migf->head_size)) {
		vslice_mig_info(cdev, "bad checksum\n");
		ret = -EINVAL;
	}

	if (!ret) {
		/* the command register may change: as a config write does */
		down_write(&cdev->memory_lock);
		vslice_core_lock(cdev);
		if (!vslice_mig_cfg_fixed_match(&cdev->cfg, blob)) {
			vslice_mig_info(cdev, "read-only config space differs\n");
			ret = -EINVAL;
		} else {
			ret = cdev->model->mig_load(cdev,
						    blob + VSLICE_CFG_SIZE);
		}
		if (!ret)
			memcpy(cdev->cfg.val, blob, VSLICE_CFG_SIZE);
		vslice_core_unlock(cdev);
		if (!ret)
			vslice_region_zap(cdev);
		up_write(&cdev->memory_lock);
	}
	/* a bad stream's memory may not stay; nothing is written after */
	vslice_mig_file_shut(cdev, migf, !ret);
	mutex_unlock(&migf->lock);
	return ret;
}

/* One arc of the state machine. */
static struct file *vslice_mig_step_locked(struct vslice_core_dev *cdev,
					   enum vfio_device_mig_state cur,
					   enum vfio_device_mig_state next)
{
	struct file *filp;
	int ret;

	lockdep_assert_held(&cdev->mig_lock);

	if ((cur == VFIO_DEVICE_STATE_RUNNING &&
	     next == VFIO_DEVICE_STATE_STOP) ||
	    (cur == VFIO_DEVICE_STATE_STOP &&
	     next == VFIO_DEVICE_STATE_RUNNING))
		return NULL;	/* no activity of its own to stop or start */

	if (cur == VFIO_DEVICE_STATE_STOP &&
	    (next == VFIO_DEVICE_STATE_STOP_COPY ||
	     next == VFIO_DEVICE_STATE_RESUMING)) {
		filp = vslice_mig_file_open(cdev,
					    next == VFIO_DEVICE_STATE_STOP_COPY);
		if (IS_ERR(filp))
			return filp;
		get_file(filp);
		cdev->mig_file = filp;
		return filp;
	}

	if (cur == VFIO_DEVICE_STATE_STOP_COPY &&
	    next == VFIO_DEVICE_STATE_STOP) {
		vslice_mig_file_disable_locked(cdev);
		return NULL;
	}

	if (cur == VFIO_DEVICE_STATE_RESUMING &&
	    next == VFIO_DEVICE_STATE_STOP) {
		ret = vslice_mig_resume_locked(cdev);
		vslice_mig_file_disable_locked(cdev);
		return ret ? ERR_PTR(ret) : NULL;
	}

	return ERR_PTR(-EINVAL);
}

/**
 * vslice_mig_set_state() - vfio @migration_set_state op
 * @vdev: device
 * @new: the state asked for
 *
 * Walks the arcs the vfio core names towards @new.  A failed arc leaves
 * the device in ERROR; only a reset leaves that.
 *
 * Return: the data file when @new is STOP_COPY or RESUMING, NULL when
 * there is none, or an ERR_PTR.
 */
static struct file *vslice_mig_set_state(struct vfio_device *vdev,
					 enum vfio_device_mig_state new)
{
	struct vslice_core_dev *cdev = vslice_core_from_vdev(vdev);
	enum vfio_device_mig_state next;
	struct file *res = NULL;
	int ret;

	mutex_lock(&cdev->mig_lock);
	/*
	 * Only a reset leaves ERROR; the vfio core's arc helper treats ERROR
	 * as the current state as a driver bug and warns, so a tenant must
	 * never get there.
	 */
	if (cdev->mig_state == VFIO_DEVICE_STATE_ERROR) {
		res = ERR_PTR(-EINVAL);
		goto out_unlock;
	}
	while (cdev->mig_state != new) {
		ret = vfio_mig_get_next_state(vdev, cdev->mig_state, new,
					      &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = vslice_mig_step_locked(cdev, cdev->mig_state, next);
		if (IS_ERR(res)) {
			cdev->mig_state = VFIO_DEVICE_STATE_ERROR;
			break;
		}
		cdev->mig_state = next;
		if (WARN_ON(res && next != new)) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
out_unlock:
	mutex_unlock(&cdev->mig_lock);
	return res;
}

/**
 * vslice_mig_get_state() - vfio @migration_get_state op
 * @vdev: device
 * @state: filled in
 *
 * Return: 0.
 */
static int vslice_mig_get_state(struct vfio_device *vdev,
				enum vfio_device_mig_state *state)
{
	struct vslice_core_dev *cdev = vslice_core_from_vdev(vdev);

	mutex_lock(&cdev->mig_lock);
	*state = cdev->mig_state;
	mutex_unlock(&cdev->mig_lock);
	return 0;
}

/**
 * vslice_mig_get_data_size() - vfio @migration_get_data_size op
 * @vdev: device
 * @len: filled in with the length of a stop-copy stream
 *
 * Return: 0.
 */
static int __maybe_unused vslice_mig_get_data_size(struct vfio_device *vdev,
						   unsigned long *len)
{
	*len = vslice_mig_stream_size(vslice_core_from_vdev(vdev));
	return 0;
}

static const struct vfio_migration_ops vslice_mig_ops = {
	.migration_set_state	= vslice_mig_set_state,
	.migration_get_state	= vslice_mig_get_state,
#if VSLICE_HAVE_MIG_DATA_SIZE
	.migration_get_data_size = vslice_mig_get_data_size,
#endif
};

/**
 * vslice_mig_reset() - a reset or the last close ends any migration
 * @cdev: device
 *
 * Open data files read and write no more; the state is RUNNING again.
 */
void vslice_mig_reset(struct vslice_core_dev *cdev)
{
	mutex_lock(&cdev->mig_lock);
	vslice_mig_file_disable_locked(cdev);
	cdev->mig_state = VFIO_DEVICE_STATE_RUNNING;
	mutex_unlock(&cdev->mig_lock);
}

/**
 * vslice_core_enable_migration() - offer migration for a device
 * @cdev: device, not yet registered, whose model has the mig_* callbacks
 * @region: the region whose device memory travels with the state
 * @compat: what a stream must have been saved from to be accepted here
 *	    (model and type); at most VSLICE_MIG_COMPAT_LEN - 1 characters
 */
void vslice_core_enable_migration(struct vslice_core_dev *cdev,
				  unsigned int region, const char *compat)
{
	if (WARN_ON(!cdev->model->mig_save || !cdev->model->mig_load ||
		    cdev->regions[region].ops != &vslice_region_iomem_ops))
		return;
	cdev->mig_region = region;
	strscpy(cdev->mig_compat, compat, sizeof(cdev->mig_compat));
	cdev->vdev.migration_flags = VFIO_MIGRATION_STOP_COPY;
	cdev->vdev.mig_ops = &vslice_mig_ops;
}
