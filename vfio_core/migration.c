// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice migration: VFIO migration v2 for any model that can save its
 * state as a fixed-size blob and names one region of device memory to
 * carry along.
 *
 * The device supports STOP_COPY (RUNNING, STOP, STOP_COPY, RESUMING) and,
 * on kernels that have it, PRE_COPY.  It has no activity of its own (no
 * DMA, no interrupts), so stopping and running are no-ops.  In PRE_COPY
 * the device memory stays mapped into the guest and the stream sends it
 * while the guest runs; dirty.c tracks which chunks the guest writes
 * after they were sent, and those go again, in later passes and in
 * STOP_COPY.  So the downtime grows with what the guest changed, not
 * with the size of its memory.
 *
 * The stream, little-endian:
 *
 *   header    struct vslice_mig_header: magic, version, sizes, the chunk
 *             size of the records, the model's compatibility string
 *   records   struct vslice_mig_record, each followed by its payload:
 *     MEM     a run of chunks of the memory: pass, offset, length.  Pass
 *             0 is the whole memory, in order; later passes send chunks
 *             again, in ascending order within a pass.
 *     STATE   last, only once the device is stopped: config space (256
 *             bytes), then the model's own state, with a CRC32 of the
 *             header and the state
 *
 * A stream is refused before anything is applied if its header does not
 * match this device (model, type, memory size, version), and at the
 * first record that is not sound: a run outside the memory or not on
 * chunk boundaries, out of order or overlapping the one before in its
 * pass, a pass 0 that does not cover the memory, anything after the
 * state.  Memory bytes go straight to the device memory as they arrive;
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
 * Sizes are exact: VFIO_MIG_GET_PRECOPY_INFO and the data-size query
 * count what the next reads return, record headers included (as long as
 * the guest writes nothing in between).
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
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "private.h"

#define VSLICE_MIG_MAGIC	0x474d43494c535600ULL	/* "\0VSLICMG" */
#define VSLICE_MIG_VERSION	2

/* Record types */
#define VSLICE_MIG_REC_MEM	1
#define VSLICE_MIG_REC_STATE	2

/*
 * The most chunks (VSLICE_DIRTY_CHUNK) one MEM record carries.  A pass
 * zaps (write-protects) a run just before sending it, so shorter runs
 * leave the guest's mappings alone longer; 2 MiB costs a 32-byte header
 * per 2 MiB.
 */
#define VSLICE_MIG_RUN		(SZ_2M / VSLICE_DIRTY_CHUNK)

/* Device memory moves to and from user memory this much at a time. */
#define VSLICE_MIG_COPY_STEP	SZ_64K

/**
 * struct vslice_mig_header - the start of every migration stream
 * @magic: VSLICE_MIG_MAGIC
 * @version: VSLICE_MIG_VERSION
 * @header_size: sizeof(struct vslice_mig_header)
 * @compat: the model's compatibility string, NUL-padded
 * @blob_size: bytes of config space and model state in the STATE record
 * @mem_size: bytes of device memory
 * @chunk_size: the unit of MEM records' offsets and lengths, and of
 *	       dirty tracking
 * @reserved: zero
 */
struct vslice_mig_header {
	__le64 magic;
	__le32 version;
	__le32 header_size;
	char compat[VSLICE_MIG_COMPAT_LEN];
	__le64 blob_size;
	__le64 mem_size;
	__le32 chunk_size;
	__le32 reserved;
};

/**
 * struct vslice_mig_record - the head of one record of a stream
 * @type: VSLICE_MIG_REC_MEM or VSLICE_MIG_REC_STATE
 * @pass: MEM: the pass over the memory this run belongs to; STATE: 0
 * @offset: MEM: where the run starts in the memory; STATE: 0
 * @length: bytes of payload that follow
 * @crc: STATE: CRC32 of the stream header and the payload; MEM: 0
 * @reserved: zero
 */
struct vslice_mig_record {
	__le32 type;
	__le32 pass;
	__le64 offset;
	__le64 length;
	__le32 crc;
	__le32 reserved;
};

/**
 * struct vslice_mig_file - one saving or resuming data stream
 * @cdev: the device; only touched while @disabled is false
 * @lock: protects everything below; taken before the device's
 *	  memory_lock
 * @disabled: the device left the state this file belongs to; @blob is
 *	      freed then
 * @failed: a write was refused; the stream can no longer complete
 * @saving: a PRE_COPY or STOP_COPY stream (else RESUMING)
 * @stopped: saving: the device is stopped, the stream ends with STATE
 * @pos: bytes of the stream read or written so far
 * @hdr: the stream header, as sent or as received so far
 * @rec: the record being read or written
 * @rec_pos: bytes of @rec (head and payload) read or written so far
 * @rec_open: @rec is under way
 * @state_done: STATE was sent or received whole
 * @wrote_mem: resuming: device memory was written
 * @pass: the pass of the last MEM record
 * @next: saving: the chunk the pass goes on from; resuming: where the
 *	  last MEM record ended (bytes)
 * @blob: config space and model state, as saved once the device stopped
 *	  or as received
 */
struct vslice_mig_file {
	struct vslice_core_dev *cdev;
	/* protects the fields below */
	struct mutex lock;
	bool disabled;
	bool failed;
	bool saving;
	bool stopped;
	u64 pos;
	struct vslice_mig_header hdr;
	struct vslice_mig_record rec;
	u64 rec_pos;
	bool rec_open;
	bool state_done;
	bool wrote_mem;
	u32 pass;
	u64 next;
	u8 *blob;
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

static size_t vslice_mig_blob_size(struct vslice_core_dev *cdev)
{
	return VSLICE_CFG_SIZE + cdev->model->mig_blob_size;
}

static unsigned long vslice_mig_chunks(struct vslice_core_dev *cdev)
{
	return vslice_mig_mem(cdev)->backing / VSLICE_DIRTY_CHUNK;
}

/* Bytes of a stream for @chunks chunks of memory in @runs records. */
static u64 vslice_mig_run_bytes(unsigned long chunks, unsigned long runs)
{
	return (u64)runs * sizeof(struct vslice_mig_record) +
	       (u64)chunks * VSLICE_DIRTY_CHUNK;
}

/* Bytes of the STATE record, head and payload. */
static u64 vslice_mig_state_bytes(struct vslice_core_dev *cdev)
{
	return sizeof(struct vslice_mig_record) + vslice_mig_blob_size(cdev);
}

/* The header for this device. */
static void vslice_mig_fill_header(struct vslice_core_dev *cdev,
				   struct vslice_mig_header *h)
{
	memset(h, 0, sizeof(*h));
	h->magic = cpu_to_le64(VSLICE_MIG_MAGIC);
	h->version = cpu_to_le32(VSLICE_MIG_VERSION);
	h->header_size = cpu_to_le32(sizeof(*h));
	strscpy_pad(h->compat, cdev->mig_compat, sizeof(h->compat));
	h->blob_size = cpu_to_le64(vslice_mig_blob_size(cdev));
	h->mem_size = cpu_to_le64(vslice_mig_mem(cdev)->backing);
	h->chunk_size = cpu_to_le32(VSLICE_DIRTY_CHUNK);
}

static u32 vslice_mig_crc(const struct vslice_mig_header *h, const u8 *blob,
			  size_t size)
{
	u32 crc = crc32_le(~0, (const u8 *)h, sizeof(*h));

	return ~crc32_le(crc, blob, size);
}

/* The buffers go when the device leaves the file's state. */
static void vslice_mig_file_free_bufs(struct vslice_mig_file *migf)
{
	kfree(migf->blob);
	migf->blob = NULL;
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

/*
 * Device memory and user memory, a word at a time.  memcpy_fromio() moves
 * 4 bytes at a time and copy_to_user() is "rep movsb" on CPUs that say
 * it is fast, which an emulated CPU (QEMU's TCG, where every test of
 * vslice runs) executes a byte at a time: together they made a stop-copy
 * of a slice cost 5.7 memcpy()s of it.  A loop of word loads and stores
 * costs less than one (make bench, migration_stop_copy_ratio_*).  Both
 * return the bytes not copied.
 */
#ifdef CONFIG_64BIT
typedef u64 vslice_mig_word;
#define vslice_mig_read_word(p)		__raw_readq(p)
#define vslice_mig_write_word(v, p)	__raw_writeq(v, p)
#else
typedef u32 vslice_mig_word;
#define vslice_mig_read_word(p)		__raw_readl(p)
#define vslice_mig_write_word(v, p)	__raw_writel(v, p)
#endif
#define VSLICE_MIG_WORD	sizeof(vslice_mig_word)

static size_t vslice_mig_copy_out(void __user *dst, const void __iomem *src,
				  size_t len)
{
	size_t n;

	while (len) {
		n = min_t(size_t, len, VSLICE_MIG_COPY_STEP);
		if (!user_access_begin(dst, n))
			return len;
		len -= n;
		for (; n && !IS_ALIGNED((unsigned long)src, VSLICE_MIG_WORD);
		     n--, src++, dst++)
			unsafe_put_user(__raw_readb(src), (u8 __user *)dst,
					fault);
		for (; n >= VSLICE_MIG_WORD; n -= VSLICE_MIG_WORD,
		     src += VSLICE_MIG_WORD, dst += VSLICE_MIG_WORD)
			unsafe_put_user(vslice_mig_read_word(src),
					(vslice_mig_word __user *)dst, fault);
		for (; n; n--, src++, dst++)
			unsafe_put_user(__raw_readb(src), (u8 __user *)dst,
					fault);
		user_access_end();
		cond_resched();
	}
	return 0;
fault:
	user_access_end();
	return len + n;
}

static size_t vslice_mig_copy_in(void __iomem *dst, const void __user *src,
				 size_t len)
{
	vslice_mig_word w;
	size_t n;
	u8 b;

	while (len) {
		n = min_t(size_t, len, VSLICE_MIG_COPY_STEP);
		if (!user_access_begin(src, n))
			return len;
		len -= n;
		for (; n && !IS_ALIGNED((unsigned long)dst, VSLICE_MIG_WORD);
		     n--, src++, dst++) {
			unsafe_get_user(b, (const u8 __user *)src, fault);
			__raw_writeb(b, dst);
		}
		for (; n >= VSLICE_MIG_WORD; n -= VSLICE_MIG_WORD,
		     src += VSLICE_MIG_WORD, dst += VSLICE_MIG_WORD) {
			unsafe_get_user(w, (const vslice_mig_word __user *)src,
					fault);
			vslice_mig_write_word(w, dst);
		}
		for (; n; n--, src++, dst++) {
			unsafe_get_user(b, (const u8 __user *)src, fault);
			__raw_writeb(b, dst);
		}
		user_access_end();
		cond_resched();
	}
	goto out;
fault:
	user_access_end();
	len += n;
out:
	/* raw stores are not ordered: as memcpy_toio() leaves them, do */
	wmb();
	return len;
}

/*
 * What a saving stream still holds: @initial is the header and the rest
 * of pass 0, @dirty the chunks written after they were sent, each in the
 * records the reads will put them in.  The STATE record is not counted.
 */
static void vslice_mig_pending(struct vslice_mig_file *migf, u64 *initial,
			       u64 *dirty)
{
	struct vslice_core_dev *cdev = migf->cdev;
	unsigned long total = vslice_mig_chunks(cdev), chunks, runs;
	u64 later, again, cur = 0;

	lockdep_assert_held(&migf->lock);
	if (migf->rec_open &&
	    le32_to_cpu(migf->rec.type) == VSLICE_MIG_REC_MEM)
		cur = sizeof(migf->rec) + le64_to_cpu(migf->rec.length) -
		      migf->rec_pos;
	/* the rest of this pass, then the chunks before where it stands */
	chunks = vslice_dirty_runs(cdev, migf->next, total, VSLICE_MIG_RUN,
				   &runs);
	later = vslice_mig_run_bytes(chunks, runs);
	chunks = vslice_dirty_runs(cdev, 0, migf->next, VSLICE_MIG_RUN,
				   &runs);
	again = vslice_mig_run_bytes(chunks, runs);

	*initial = migf->pos < sizeof(migf->hdr) ?
		   sizeof(migf->hdr) - migf->pos : 0;
	if (migf->pass == 0) {
		*initial += cur + later;
		*dirty = again;
	} else {
		*dirty = cur + later + again;
	}
}

/*
 * Open the next record of a saving stream: the next run of chunks to
 * send, in this pass or the next, or the state once the device is
 * stopped.  Returns 0, -ENOMSG when nothing is to send for now (PRE_COPY)
 * or -ENODATA at the end of the stream.
 */
static int vslice_mig_next_record(struct vslice_mig_file *migf)
{
	struct vslice_core_dev *cdev = migf->cdev;
	struct vslice_mig_record *rec = &migf->rec;
	unsigned long first, chunks;

	if (migf->state_done)
		return -ENODATA;
	chunks = vslice_dirty_take(cdev, migf->next, VSLICE_MIG_RUN, &first);
	if (!chunks && migf->next) {
		/* the pass is over: the next one starts from the bottom */
		vslice_dirty_round_end(cdev);
		migf->pass++;
		migf->next = 0;
		chunks = vslice_dirty_take(cdev, 0, VSLICE_MIG_RUN, &first);
	}
	memset(rec, 0, sizeof(*rec));
	if (chunks) {
		rec->type = cpu_to_le32(VSLICE_MIG_REC_MEM);
		rec->pass = cpu_to_le32(migf->pass);
		rec->offset = cpu_to_le64((u64)first * VSLICE_DIRTY_CHUNK);
		rec->length = cpu_to_le64((u64)chunks * VSLICE_DIRTY_CHUNK);
		migf->next = first + chunks;
	} else if (migf->stopped) {
		rec->type = cpu_to_le32(VSLICE_MIG_REC_STATE);
		rec->length = cpu_to_le64(vslice_mig_blob_size(cdev));
		rec->crc = cpu_to_le32(vslice_mig_crc(&migf->hdr, migf->blob,
						      vslice_mig_blob_size(cdev)));
	} else {
		return -ENOMSG;
	}
	migf->rec_open = true;
	migf->rec_pos = 0;
	return 0;
}

/* Read up to @len bytes of the open record; returns bytes or -EFAULT. */
static ssize_t vslice_mig_read_record(struct vslice_mig_file *migf,
				      char __user *buf, size_t len)
{
	const struct vslice_region *mem = vslice_mig_mem(migf->cdev);
	struct vslice_mig_record *rec = &migf->rec;
	u64 length = le64_to_cpu(rec->length), at;
	size_t n, left;

	if (migf->rec_pos < sizeof(*rec)) {
		n = min_t(u64, len, sizeof(*rec) - migf->rec_pos);
		if (copy_to_user(buf, (u8 *)rec + migf->rec_pos, n))
			return -EFAULT;
	} else {
		at = migf->rec_pos - sizeof(*rec);
		n = min_t(u64, len, length - at);
		if (le32_to_cpu(rec->type) == VSLICE_MIG_REC_STATE) {
			if (copy_to_user(buf, migf->blob + at, n))
				return -EFAULT;
		} else {
			at += le64_to_cpu(rec->offset);
			left = vslice_mig_copy_out(buf, mem->iomem + at, n);
			if (left == n)
				return -EFAULT;
			n -= left;
		}
	}
	migf->rec_pos += n;
	if (migf->rec_pos == sizeof(*rec) + length) {
		migf->rec_open = false;
		if (le32_to_cpu(rec->type) == VSLICE_MIG_REC_STATE)
			migf->state_done = true;
	}
	return n;
}

/* Reads of the saving stream: the header, then record after record. */
static ssize_t vslice_mig_read(struct file *filp, char __user *buf,
			       size_t len, loff_t *ppos)
{
	struct vslice_mig_file *migf = filp->private_data;
	size_t done = 0, n;
	ssize_t ret = 0;

	if (ppos)
		return -ESPIPE;

	mutex_lock(&migf->lock);
	if (migf->disabled) {
		ret = -ENODEV;
		goto out_unlock;
	}
	while (done < len) {
		if (migf->pos < sizeof(migf->hdr)) {
			n = min_t(u64, len - done,
				  sizeof(migf->hdr) - migf->pos);
			if (copy_to_user(buf + done,
					 (u8 *)&migf->hdr + migf->pos, n)) {
				ret = -EFAULT;
				break;
			}
		} else {
			if (!migf->rec_open) {
				ret = vslice_mig_next_record(migf);
				if (ret)
					break;
			}
			ret = vslice_mig_read_record(migf, buf + done,
						     len - done);
			if (ret < 0)
				break;
			n = ret;
			ret = 0;
		}
		done += n;
		migf->pos += n;
		if (fatal_signal_pending(current))
			break;
	}
out_unlock:
	mutex_unlock(&migf->lock);
	if (done)
		return done;
	return ret == -ENODATA ? 0 : ret;
}

/*
 * Check a complete header against this device before anything of the
 * stream is used.
 */
static int vslice_mig_check_header(struct vslice_core_dev *cdev,
				   const struct vslice_mig_header *h)
{
	struct vslice_mig_header m;

	vslice_mig_fill_header(cdev, &m);
	if (h->magic != m.magic || h->header_size != m.header_size) {
		vslice_mig_info(cdev, "not a vslice stream\n");
		return -EINVAL;
	}
	if (h->version != m.version) {
		vslice_mig_info(cdev, "version %u, this kernel speaks %u\n",
				le32_to_cpu(h->version), VSLICE_MIG_VERSION);
		return -EINVAL;
	}
	if (strncmp(h->compat, m.compat, sizeof(h->compat)) ||
	    h->blob_size != m.blob_size || h->mem_size != m.mem_size) {
		/* the name is the stream's: escape what is not printable */
		vslice_mig_info(cdev, "for \"%*pE\" with %llu bytes, this is %s with %llu\n",
				(int)strnlen(h->compat, sizeof(h->compat)),
				h->compat, le64_to_cpu(h->mem_size),
				cdev->mig_compat, le64_to_cpu(m.mem_size));
		return -EINVAL;
	}
	if (h->chunk_size != m.chunk_size || h->reserved) {
		vslice_mig_info(cdev, "chunks of %u bytes, this kernel's are %u\n",
				le32_to_cpu(h->chunk_size), VSLICE_DIRTY_CHUNK);
		return -EINVAL;
	}
	return 0;
}

/*
 * Check a complete record head of a resuming stream against the header
 * and the records before it (see the top of this file).
 */
static int vslice_mig_check_record(struct vslice_mig_file *migf)
{
	struct vslice_core_dev *cdev = migf->cdev;
	const struct vslice_mig_record *rec = &migf->rec;
	u64 size = vslice_mig_mem(cdev)->backing;
	u64 off = le64_to_cpu(rec->offset), len = le64_to_cpu(rec->length);
	u32 pass = le32_to_cpu(rec->pass);
	bool pass0_whole = migf->pass > 0 || migf->next == size;

	if (rec->reserved) {
		vslice_mig_info(cdev, "bad record at %llu\n", migf->pos);
		return -EINVAL;
	}
	if (le32_to_cpu(rec->type) == VSLICE_MIG_REC_STATE) {
		if (!pass0_whole || pass || off || rec->length != migf->hdr.blob_size) {
			vslice_mig_info(cdev, "state record out of place\n");
			return -EINVAL;
		}
		return 0;
	}
	if (le32_to_cpu(rec->type) != VSLICE_MIG_REC_MEM || rec->crc ||
	    !len || off >= size || len > size - off ||
	    !IS_ALIGNED(off, VSLICE_DIRTY_CHUNK) ||
	    !IS_ALIGNED(len, VSLICE_DIRTY_CHUNK)) {
		vslice_mig_info(cdev, "bad record at %llu\n", migf->pos);
		return -EINVAL;
	}
	/* pass 0: the memory from the bottom, in order, without gaps */
	if (migf->pass == 0 && pass == 0 ? off != migf->next :
	    pass < migf->pass || (pass == migf->pass && off < migf->next) ||
	    (pass > migf->pass && !pass0_whole)) {
		vslice_mig_info(cdev, "record %u:%llu out of order\n", pass,
				off);
		return -EINVAL;
	}
	migf->pass = pass;
	migf->next = off + len;
	return 0;
}

/* Write up to @len bytes into the open record; returns bytes or -errno. */
static ssize_t vslice_mig_write_record(struct vslice_mig_file *migf,
				       const char __user *buf, size_t len)
{
	const struct vslice_region *mem = vslice_mig_mem(migf->cdev);
	struct vslice_mig_record *rec = &migf->rec;
	u64 length, at;
	size_t n, left;
	int ret;

	if (migf->rec_pos < sizeof(*rec)) {
		n = min_t(u64, len, sizeof(*rec) - migf->rec_pos);
		if (copy_from_user((u8 *)rec + migf->rec_pos, buf, n))
			return -EFAULT;
		migf->rec_pos += n;
		if (migf->rec_pos == sizeof(*rec)) {
			ret = vslice_mig_check_record(migf);
			if (ret)
				return ret;
		}
		return n;
	}
	length = le64_to_cpu(rec->length);
	at = migf->rec_pos - sizeof(*rec);
	n = min_t(u64, len, length - at);
	if (le32_to_cpu(rec->type) == VSLICE_MIG_REC_STATE) {
		if (copy_from_user(migf->blob + at, buf, n))
			return -EFAULT;
	} else {
		at += le64_to_cpu(rec->offset);
		migf->wrote_mem = true;
		left = vslice_mig_copy_in(mem->iomem + at, buf, n);
		if (left == n)
			return -EFAULT;
		n -= left;
	}
	migf->rec_pos += n;
	if (migf->rec_pos == sizeof(*rec) + length) {
		migf->rec_open = false;
		migf->rec_pos = 0;
		if (le32_to_cpu(rec->type) == VSLICE_MIG_REC_STATE)
			migf->state_done = true;
	}
	return n;
}

/*
 * Writes of the resuming stream: the header is checked as soon as it is
 * complete, each record's head as soon as it is; memory is written in
 * place, the state kept for the end.
 */
static ssize_t vslice_mig_write(struct file *filp, const char __user *buf,
				size_t len, loff_t *ppos)
{
	struct vslice_mig_file *migf = filp->private_data;
	size_t done = 0, n;
	ssize_t ret = 0;

	if (ppos)
		return -ESPIPE;

	mutex_lock(&migf->lock);
	if (migf->disabled || migf->failed) {
		ret = migf->disabled ? -ENODEV : -EINVAL;
		goto out_unlock;
	}
	while (done < len) {
		if (migf->state_done) {
			vslice_mig_info(migf->cdev, "bytes after the end\n");
			migf->failed = true;
			break;
		}
		if (migf->pos < sizeof(migf->hdr)) {
			n = min_t(u64, len - done,
				  sizeof(migf->hdr) - migf->pos);
			if (copy_from_user((u8 *)&migf->hdr + migf->pos,
					   buf + done, n)) {
				ret = -EFAULT;
				break;
			}
			if (migf->pos + n == sizeof(migf->hdr)) {
				ret = vslice_mig_check_header(migf->cdev,
							      &migf->hdr);
				if (ret) {
					migf->failed = true;
					break;
				}
			}
		} else {
			ret = vslice_mig_write_record(migf, buf + done,
						      len - done);
			if (ret == -EINVAL)
				migf->failed = true;
			if (ret < 0)
				break;
			n = ret;
			ret = 0;
		}
		done += n;
		migf->pos += n;
		if (fatal_signal_pending(current))
			break;
	}
out_unlock:
	/* a refused record refuses the write it came in */
	if (migf->failed)
		ret = -EINVAL;
	else if (done)
		ret = done;
	mutex_unlock(&migf->lock);
	return ret;
}

#if VSLICE_HAVE_PRE_COPY
/**
 * vslice_mig_ioctl() - VFIO_MIG_GET_PRECOPY_INFO on a PRE_COPY stream
 * @filp: the data file
 * @cmd: VFIO_MIG_GET_PRECOPY_INFO
 * @arg: user's struct vfio_precopy_info
 *
 * Return: 0 with the bytes the next reads return, -EINVAL outside
 * PRE_COPY, -ENOTTY for another command.
 */
static long vslice_mig_ioctl(struct file *filp, unsigned int cmd,
			     unsigned long arg)
{
	struct vslice_mig_file *migf = filp->private_data;
	unsigned long minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	struct vfio_precopy_info info;
	u64 initial, dirty;
	int ret = 0;

#if VSLICE_HAVE_PRECOPY_INFO_V2
	mutex_lock(&migf->lock);
	ret = migf->disabled ? -EINVAL :
	      vfio_check_precopy_ioctl(&migf->cdev->vdev, cmd, arg, &info);
	mutex_unlock(&migf->lock);
	if (ret)
		return ret;
#else
	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
#endif

	mutex_lock(&migf->lock);
	if (migf->disabled || !migf->saving || migf->stopped) {
		ret = -EINVAL;
	} else {
		vslice_mig_pending(migf, &initial, &dirty);
		info.initial_bytes = initial;
		info.dirty_bytes = dirty;
	}
	mutex_unlock(&migf->lock);
	if (ret)
		return ret;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}
#endif

static const struct file_operations vslice_mig_fops = {
	.owner		= THIS_MODULE,
	.read		= vslice_mig_read,
	.write		= vslice_mig_write,
#if VSLICE_HAVE_PRE_COPY
	.unlocked_ioctl	= vslice_mig_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
#endif
	.release	= vslice_mig_release,
};

/* Keep the state of a stopped device for the end of a saving stream. */
static void vslice_mig_save_state(struct vslice_mig_file *migf)
{
	struct vslice_core_dev *cdev = migf->cdev;

	lockdep_assert_held(&migf->lock);
	mutex_lock(&cdev->lock);
	memcpy(migf->blob, cdev->cfg.val, VSLICE_CFG_SIZE);
	cdev->model->mig_save(cdev, migf->blob + VSLICE_CFG_SIZE);
	mutex_unlock(&cdev->lock);
	migf->stopped = true;
}

/*
 * A data file for the state @next: PRE_COPY and STOP_COPY save (PRE_COPY
 * tracks the guest's writes while it runs), RESUMING takes a stream.
 */
static struct file *vslice_mig_file_open(struct vslice_core_dev *cdev,
					 enum vfio_device_mig_state next)
{
	bool saving = next != VFIO_DEVICE_STATE_RESUMING;
	struct vslice_mig_file *migf;
	struct file *filp;
	int ret = -ENOMEM;

	/* charged to the caller: userspace decides how many there are */
	migf = kzalloc(sizeof(*migf), GFP_KERNEL_ACCOUNT);
	if (!migf)
		return ERR_PTR(-ENOMEM);
	mutex_init(&migf->lock);
	migf->cdev = cdev;
	migf->saving = saving;
	migf->blob = kzalloc(vslice_mig_blob_size(cdev), GFP_KERNEL_ACCOUNT);
	if (!migf->blob)
		goto err_free;

	filp = anon_inode_getfile("[vslice-migration]", &vslice_mig_fops, migf,
				  saving ? O_RDONLY : O_WRONLY);
	if (IS_ERR(filp)) {
		ret = PTR_ERR(filp);
		goto err_free;
	}
	stream_open(filp->f_inode, filp);

	if (saving) {
		vslice_mig_fill_header(cdev, &migf->hdr);
		/* PRE_COPY tracks the guest's writes; STOP_COPY sends all */
		ret = vslice_dirty_start(cdev,
					 next != VFIO_DEVICE_STATE_STOP_COPY);
		if (ret) {
			/* the file is shut before it is dropped */
			migf->disabled = true;
			fput(filp);
			return ERR_PTR(ret);
		}
		if (next == VFIO_DEVICE_STATE_STOP_COPY) {
			mutex_lock(&migf->lock);
			vslice_mig_save_state(migf);
			mutex_unlock(&migf->lock);
		}
	}
	return filp;

err_free:
	vslice_mig_file_free(migf);
	return ERR_PTR(ret);
}

/*
 * Shut @migf, with its lock held: no read or write gets through from
 * now on.  Device memory that a resuming stream wrote is cleared unless
 * @keep (the stream was applied), in the same critical section as the
 * shutting, so that no write can land after the clear.  A saving
 * stream's tracking ends.
 */
static void vslice_mig_file_shut(struct vslice_core_dev *cdev,
				 struct vslice_mig_file *migf, bool keep)
{
	const struct vslice_region *mem = vslice_mig_mem(cdev);

	lockdep_assert_held(&migf->lock);
	if (migf->disabled)
		return;
	if (migf->saving)
		vslice_dirty_stop(cdev);
	else if (!keep && migf->wrote_mem)
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
 * write-one-to-clear) nor the core keeps itself the same in the stream's
 * config space @blob?
 */
static bool vslice_mig_cfg_fixed_match(const struct vslice_cfg *cfg,
				       const u8 *blob)
{
	unsigned int i;

	for (i = 0; i < VSLICE_CFG_SIZE; i++)
		if ((blob[i] ^ cfg->val[i]) &
		    ~(cfg->wmask[i] | cfg->w1cmask[i] | cfg->coremask[i]))
			return false;
	return true;
}

/*
 * Take a stream's config space but the core's own bits: the MSI enable
 * bit follows what the user enabled here (QEMU enables MSI on the target
 * after the device state is loaded), not what the source had.
 */
static void vslice_mig_cfg_load_locked(struct vslice_core_dev *cdev,
				       const u8 *blob)
{
	struct vslice_cfg *cfg = &cdev->cfg;
	unsigned int i;

	vslice_core_assert_held(cdev);
	for (i = 0; i < VSLICE_CFG_SIZE; i++)
		cfg->val[i] = (blob[i] & ~cfg->coremask[i]) |
			      (cfg->val[i] & cfg->coremask[i]);
	vslice_irq_cfg_changed_locked(cdev);
}

/* Leave RESUMING: take the state if the stream was whole and sound. */
static int vslice_mig_resume_locked(struct vslice_core_dev *cdev)
{
	struct vslice_mig_file *migf = cdev->mig_file->private_data;
	const u8 *blob = migf->blob;
	u8 old_cfg[VSLICE_CFG_SIZE];
	int ret = 0;

	lockdep_assert_held(&cdev->mig_lock);

	mutex_lock(&migf->lock);
	if (migf->failed || !migf->state_done) {
		vslice_mig_info(cdev, "%s after %llu bytes\n",
				migf->failed ? "refused" : "ends", migf->pos);
		ret = -EINVAL;
	} else if (le32_to_cpu(migf->rec.crc) !=
		   vslice_mig_crc(&migf->hdr, blob,
				  vslice_mig_blob_size(cdev))) {
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
			/* the model's state sees its config space (bus master) */
			memcpy(old_cfg, cdev->cfg.val, VSLICE_CFG_SIZE);
			vslice_mig_cfg_load_locked(cdev, blob);
			ret = cdev->model->mig_load(cdev,
						    blob + VSLICE_CFG_SIZE);
			if (ret)
				vslice_mig_cfg_load_locked(cdev, old_cfg);
		}
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

#if VSLICE_HAVE_PRE_COPY
/* The device stops while its PRE_COPY stream goes on: freeze and finish. */
static void vslice_mig_stop_saving_locked(struct vslice_core_dev *cdev)
{
	struct vslice_mig_file *migf = cdev->mig_file->private_data;

	lockdep_assert_held(&cdev->mig_lock);
	mutex_lock(&migf->lock);
	vslice_dirty_freeze(cdev);
	vslice_mig_save_state(migf);
	mutex_unlock(&migf->lock);
}
#endif

/* Open the data file of the state @next and keep it as the device's. */
static struct file *vslice_mig_open_locked(struct vslice_core_dev *cdev,
					   enum vfio_device_mig_state next)
{
	struct file *filp;

	lockdep_assert_held(&cdev->mig_lock);
	filp = vslice_mig_file_open(cdev, next);
	if (IS_ERR(filp))
		return filp;
	get_file(filp);
	cdev->mig_file = filp;
	return filp;
}

/* Tell the model its device stops or runs again. */
static void vslice_mig_set_running_locked(struct vslice_core_dev *cdev,
					  bool running)
{
	lockdep_assert_held(&cdev->mig_lock);
	if (cdev->model->set_running)
		cdev->model->set_running(cdev, running);
}

/* One arc of the state machine. */
static struct file *vslice_mig_step_locked(struct vslice_core_dev *cdev,
					   enum vfio_device_mig_state cur,
					   enum vfio_device_mig_state next)
{
	int ret;

	lockdep_assert_held(&cdev->mig_lock);

	if ((cur == VFIO_DEVICE_STATE_RUNNING &&
	     next == VFIO_DEVICE_STATE_STOP) ||
	    (cur == VFIO_DEVICE_STATE_STOP &&
	     next == VFIO_DEVICE_STATE_RUNNING)) {
		/* the model's own activity, if it has any (an engine) */
		vslice_mig_set_running_locked(cdev,
					      next == VFIO_DEVICE_STATE_RUNNING);
		return NULL;
	}

	if (cur == VFIO_DEVICE_STATE_STOP &&
	    (next == VFIO_DEVICE_STATE_STOP_COPY ||
	     next == VFIO_DEVICE_STATE_RESUMING))
		return vslice_mig_open_locked(cdev, next);

	if (cur == VFIO_DEVICE_STATE_STOP_COPY &&
	    next == VFIO_DEVICE_STATE_STOP) {
		vslice_mig_file_disable_locked(cdev);
		return NULL;
	}

#if VSLICE_HAVE_PRE_COPY
	if (cur == VFIO_DEVICE_STATE_RUNNING &&
	    next == VFIO_DEVICE_STATE_PRE_COPY)
		return vslice_mig_open_locked(cdev, next);

	if (cur == VFIO_DEVICE_STATE_PRE_COPY &&
	    next == VFIO_DEVICE_STATE_STOP_COPY) {
		vslice_mig_set_running_locked(cdev, false);
		vslice_mig_stop_saving_locked(cdev);
		return NULL;	/* the same stream goes on */
	}

	if (cur == VFIO_DEVICE_STATE_PRE_COPY &&
	    next == VFIO_DEVICE_STATE_RUNNING) {
		vslice_mig_file_disable_locked(cdev);
		return NULL;
	}
#endif

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
 * Return: the data file when @new is PRE_COPY, STOP_COPY (from STOP) or
 * RESUMING, NULL when there is none, or an ERR_PTR.
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
 * @len: filled in with the bytes a stop-copy would read from now on
 *
 * With a saving stream open: what it still holds (the rest of the record
 * under way, every dirty chunk in the records it will be sent in, the
 * state); without one: a whole stream.  Exact while the guest writes
 * nothing more.
 *
 * Return: 0.
 */
static int __maybe_unused vslice_mig_get_data_size(struct vfio_device *vdev,
						   unsigned long *len)
{
	struct vslice_core_dev *cdev = vslice_core_from_vdev(vdev);
	unsigned long chunks = vslice_mig_chunks(cdev);
	struct vslice_mig_file *migf;
	u64 initial, dirty, state;

	mutex_lock(&cdev->mig_lock);
	migf = cdev->mig_file ? cdev->mig_file->private_data : NULL;
	if (!migf || !migf->saving) {
		*len = sizeof(struct vslice_mig_header) +
		       vslice_mig_run_bytes(chunks,
					    DIV_ROUND_UP(chunks, VSLICE_MIG_RUN)) +
		       vslice_mig_state_bytes(cdev);
		goto out_unlock;
	}
	mutex_lock(&migf->lock);
	vslice_mig_pending(migf, &initial, &dirty);
	if (migf->state_done)
		state = 0;
	else if (migf->rec_open &&
		 le32_to_cpu(migf->rec.type) == VSLICE_MIG_REC_STATE)
		state = vslice_mig_state_bytes(cdev) - migf->rec_pos;
	else
		state = vslice_mig_state_bytes(cdev);
	*len = initial + dirty + state;
	mutex_unlock(&migf->lock);
out_unlock:
	mutex_unlock(&cdev->mig_lock);
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
	/* every state but RUNNING and PRE_COPY has the device stopped */
	if (cdev->mig_state == VFIO_DEVICE_STATE_STOP ||
	    cdev->mig_state == VFIO_DEVICE_STATE_STOP_COPY ||
	    cdev->mig_state == VFIO_DEVICE_STATE_RESUMING ||
	    cdev->mig_state == VFIO_DEVICE_STATE_ERROR)
		vslice_mig_set_running_locked(cdev, true);
	cdev->mig_state = VFIO_DEVICE_STATE_RUNNING;
	mutex_unlock(&cdev->mig_lock);
}

/**
 * vslice_core_enable_migration() - offer migration for a device
 * @cdev: device, not yet registered, whose model has the mig_* callbacks
 * @region: the region whose device memory travels with the state, or
 *	    VSLICE_MIG_NO_MEMORY for a device whose state is all it has
 * @compat: what a stream must have been saved from to be accepted here
 *	    (model and type); at most VSLICE_MIG_COMPAT_LEN - 1 characters
 */
void vslice_core_enable_migration(struct vslice_core_dev *cdev,
				  unsigned int region, const char *compat)
{
	const struct vslice_region *r;

	if (WARN_ON(!cdev->model->mig_save || !cdev->model->mig_load))
		return;
	cdev->mig_region = region;
	r = vslice_mig_mem(cdev);
	/* the records' chunks are the memory's, and the tracker's */
	if (region != VSLICE_MIG_NO_MEMORY &&
	    WARN_ON(r->ops != &vslice_region_iomem_ops ||
		    !PAGE_ALIGNED(r->phys) ||
		    !IS_ALIGNED(r->backing, VSLICE_DIRTY_CHUNK)))
		return;
	strscpy(cdev->mig_compat, compat, sizeof(cdev->mig_compat));
	cdev->vdev.migration_flags = VFIO_MIGRATION_STOP_COPY;
#if VSLICE_HAVE_PRE_COPY
	cdev->vdev.migration_flags |= VFIO_MIGRATION_PRE_COPY;
#endif
	cdev->vdev.mig_ops = &vslice_mig_ops;
}
