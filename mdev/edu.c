// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice edu model: what every edu instance looks like to a guest.
 *
 * A whole edu (QEMU hw/misc/edu.c, docs/specs/edu.rst): config space with
 * INTA and a 64-bit MSI capability, and BAR0, 1 MiB of registers trapped
 * and emulated per instance:
 *
 *   0x00 identification   0x04 liveness (reads back inverted)
 *   0x08 factorial         0x20 status (computing; interrupt on factorial)
 *   0x24 interrupt status  0x60 raise   0x64 acknowledge
 *   0x80 DMA source        0x88 destination   0x90 count   0x98 command
 *
 * Below 0x80 only 4-byte accesses, from 0x80 4 or 8 bytes; anything else
 * reads as all ones and writes nothing, as on QEMU's device.  A factorial
 * or a DMA is a job for the one physical edu, queued on its engine
 * (engine.c), which calls vslice_edu_complete() when it ends.  A DMA's
 * guest address is an IOVA of the instance's own container or IOAS; the
 * buffer side must lie in the 4 KiB buffer at 0x40000, the count be at
 * most 4 KiB, the RAM side below 256 MiB (edu's DMA has 28 address bits;
 * QEMU's would wrap the address) and bus mastering be on.  A DMA that breaks these, or whose
 * IOVA is not mapped, moves nothing and ends with VSLICE_EDU_DMA_ERROR
 * (0x8, vslice's own bit) set in the command register.
 */

#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "edu.h"

#define VSLICE_EDU_CLASS		0x00ff00	/* PCI_CLASS_OTHERS */
#define VSLICE_EDU_REVISION		0x10

static struct vslice_edu *vslice_edu_from_core(struct vslice_core_dev *cdev)
{
	return vslice_inst_from_core(cdev)->edu;
}

/* Set the interrupt status bits of @val and raise the interrupt. */
static void vslice_edu_raise_locked(struct vslice_edu *edu, u32 val)
{
	lockdep_assert_held(&edu->regs_lock);
	edu->irq_status |= val;
	if (edu->irq_status)
		vslice_core_irq_raise(&edu->inst->core);
}

static void vslice_edu_lower_locked(struct vslice_edu *edu, u32 val)
{
	lockdep_assert_held(&edu->regs_lock);
	edu->irq_status &= ~val;
	if (!edu->irq_status)
		vslice_core_irq_lower(&edu->inst->core);
}

/* Does [addr, addr + cnt) lie in the device buffer? */
static bool vslice_edu_in_buf(u64 addr, u64 cnt)
{
	u64 end;

	return addr >= VSLICE_EDU_BUF_ADDR &&
	       !check_add_overflow(addr, cnt, &end) &&
	       end <= VSLICE_EDU_BUF_ADDR + VSLICE_EDU_BUF_SIZE;
}

/* End the DMA in the command register, raising its interrupt if asked. */
static void vslice_edu_dma_end_locked(struct vslice_edu *edu, bool error)
{
	edu->dma_cmd &= ~VSLICE_EDU_DMA_RUN;
	if (error)
		edu->dma_cmd |= VSLICE_EDU_DMA_ERROR;
	if (edu->dma_cmd & VSLICE_EDU_DMA_IRQ)
		vslice_edu_raise_locked(edu, VSLICE_EDU_IRQ_DMA);
}

/*
 * The guest started a DMA: refuse what cannot be (QEMU's edu would overrun
 * its buffer; with bus mastering off it would drop the DMA), else queue it.
 */
static void vslice_edu_dma_start_locked(struct vslice_edu *edu, u64 cmd)
{
	bool to_ram = cmd & VSLICE_EDU_DMA_TO_RAM;
	u64 buf = to_ram ? edu->dma_src : edu->dma_dst;
	u64 ram = to_ram ? edu->dma_dst : edu->dma_src;

	edu->dma_cmd = cmd & (VSLICE_EDU_DMA_RUN | VSLICE_EDU_DMA_TO_RAM |
			      VSLICE_EDU_DMA_IRQ);
	if (!edu->dma_cnt) {
		vslice_edu_dma_end_locked(edu, false);
		return;
	}
	if (edu->dma_cnt > VSLICE_EDU_BUF_SIZE ||
	    !vslice_edu_in_buf(buf, edu->dma_cnt) ||
	    ram >= VSLICE_EDU_DMA_REACH ||
	    edu->dma_cnt > VSLICE_EDU_DMA_REACH - ram ||
	    !(edu->inst->core.cfg.val[PCI_COMMAND] & PCI_COMMAND_MASTER)) {
		vslice_edu_dma_end_locked(edu, true);
		return;
	}
	vslice_engine_submit_locked(edu, VSLICE_EDU_JOB_DMA);
}

static u64 vslice_edu_read_locked(struct vslice_edu *edu, u64 pos)
{
	switch (pos) {
	case VSLICE_EDU_REG_ID:
		return VSLICE_EDU_ID;
	case VSLICE_EDU_REG_LIVENESS:
		return edu->liveness;
	case VSLICE_EDU_REG_FACT:
		return edu->fact;
	case VSLICE_EDU_REG_STATUS:
		return edu->status;
	case VSLICE_EDU_REG_IRQ_STATUS:
		return edu->irq_status;
	case VSLICE_EDU_REG_DMA_SRC:
		return edu->dma_src;
	case VSLICE_EDU_REG_DMA_DST:
		return edu->dma_dst;
	case VSLICE_EDU_REG_DMA_CNT:
		return edu->dma_cnt;
	case VSLICE_EDU_REG_DMA_CMD:
		return edu->dma_cmd;
	}
	return ~0ull;
}

static void vslice_edu_write_locked(struct vslice_edu *edu, u64 pos, u64 val)
{
	bool dma_busy = edu->dma_cmd & VSLICE_EDU_DMA_RUN;

	switch (pos) {
	case VSLICE_EDU_REG_LIVENESS:
		edu->liveness = ~(u32)val;
		break;
	case VSLICE_EDU_REG_FACT:
		if (edu->status & VSLICE_EDU_STATUS_COMPUTING)
			break;
		edu->fact = val;
		edu->status |= VSLICE_EDU_STATUS_COMPUTING;
		vslice_engine_submit_locked(edu, VSLICE_EDU_JOB_FACT);
		break;
	case VSLICE_EDU_REG_STATUS:
		edu->status = (edu->status & ~VSLICE_EDU_STATUS_IRQFACT) |
			      (val & VSLICE_EDU_STATUS_IRQFACT);
		break;
	case VSLICE_EDU_REG_IRQ_RAISE:
		vslice_edu_raise_locked(edu, val);
		break;
	case VSLICE_EDU_REG_IRQ_ACK:
		vslice_edu_lower_locked(edu, val);
		break;
	case VSLICE_EDU_REG_DMA_SRC:
		if (!dma_busy)
			edu->dma_src = val;
		break;
	case VSLICE_EDU_REG_DMA_DST:
		if (!dma_busy)
			edu->dma_dst = val;
		break;
	case VSLICE_EDU_REG_DMA_CNT:
		if (!dma_busy)
			edu->dma_cnt = val;
		break;
	case VSLICE_EDU_REG_DMA_CMD:
		if (!dma_busy && (val & VSLICE_EDU_DMA_RUN))
			vslice_edu_dma_start_locked(edu, val);
		break;
	}
}

/* Region callback of BAR0. */
static int vslice_edu_mmio_rw(struct vslice_core_dev *cdev,
			      const struct vslice_region *r, void *buf,
			      u64 pos, size_t count, bool write)
{
	struct vslice_edu *edu = vslice_edu_from_core(cdev);
	bool valid = pos < VSLICE_EDU_REG_DMA_SRC ? count == 4 :
		     count == 4 || count == 8;
	__le64 le = 0;
	u64 val;

	if (!valid || !IS_ALIGNED(pos, count)) {
		if (!write)
			memset(buf, 0xff, count);
		return 0;
	}
	if (write)
		memcpy(&le, buf, count);

	vslice_core_lock(cdev);
	spin_lock_irq(&edu->regs_lock);
	if (write)
		vslice_edu_write_locked(edu, pos, le64_to_cpu(le));
	else
		val = vslice_edu_read_locked(edu, pos);
	spin_unlock_irq(&edu->regs_lock);
	vslice_core_unlock(cdev);

	if (!write) {
		le = cpu_to_le64(val);
		memcpy(buf, &le, count);
	}
	return 0;
}

static const struct vslice_region_ops vslice_edu_mmio_ops = {
	.rw	= vslice_edu_mmio_rw,
};

/**
 * vslice_edu_complete() - the engine finished one of a tenant's jobs
 * @edu: tenant
 * @kind: which job
 * @gen: the generation it was submitted in
 * @result: a factorial's result
 * @error: a DMA moved nothing (unmapped IOVA)
 *
 * Updates the registers and raises the interrupt the guest asked for, in
 * that order: the interrupt status register agrees with every interrupt
 * signalled.  A job from before the last reset changes nothing.  Any
 * context: a factorial completes in the engine's interrupt handler.
 */
void vslice_edu_complete(struct vslice_edu *edu,
			 enum vslice_edu_job_kind kind, u64 gen, u32 result,
			 bool error)
{
	unsigned long flags;

	spin_lock_irqsave(&edu->regs_lock, flags);
	if (gen != edu->gen)
		goto out;
	if (kind == VSLICE_EDU_JOB_FACT) {
		edu->fact = result;
		edu->status &= ~VSLICE_EDU_STATUS_COMPUTING;
		if (edu->status & VSLICE_EDU_STATUS_IRQFACT)
			vslice_edu_raise_locked(edu, VSLICE_EDU_IRQ_FACT);
	} else {
		vslice_edu_dma_end_locked(edu, error);
	}
out:
	spin_unlock_irqrestore(&edu->regs_lock, flags);
}

/**
 * vslice_edu_reset() - model @reset op
 * @cdev: instance, locked
 *
 * Power-on registers, the interrupt down, queued jobs dropped and a
 * running one's result discarded.  The device buffer keeps its contents,
 * as on QEMU's device.
 */
static void vslice_edu_reset(struct vslice_core_dev *cdev)
{
	struct vslice_edu *edu = vslice_edu_from_core(cdev);

	vslice_core_assert_held(cdev);
	spin_lock_irq(&edu->regs_lock);
	vslice_engine_cancel_locked(edu);
	edu->liveness = 0;
	edu->fact = 0;
	edu->status = 0;
	edu->irq_status = 0;
	edu->dma_src = 0;
	edu->dma_dst = 0;
	edu->dma_cnt = 0;
	edu->dma_cmd = 0;
	vslice_core_irq_lower(cdev);
	spin_unlock_irq(&edu->regs_lock);
}

/**
 * vslice_edu_open() - model @open op
 * @cdev: instance
 *
 * The engine may run the new user's jobs.
 *
 * Return: 0.
 */
static int vslice_edu_open(struct vslice_core_dev *cdev)
{
	vslice_engine_set_open(vslice_edu_from_core(cdev), true);
	return 0;
}

/**
 * vslice_edu_close() - model @close op
 * @cdev: instance, whose last user has just let go
 *
 * Drops its queued jobs and waits for a running one: no DMA touches the
 * user's memory after this returns.  The buffer is cleared, so that the
 * next user never sees the last one's data.
 */
static void vslice_edu_close(struct vslice_core_dev *cdev)
{
	struct vslice_edu *edu = vslice_edu_from_core(cdev);

	vslice_engine_set_open(edu, false);
	memset(edu->buf, 0, sizeof(edu->buf));
}

/**
 * vslice_edu_release() - model @release op
 * @cdev: instance whose vfio device is being freed
 *
 * Frees the virtual edu and drops the instance's reference to its parent.
 */
static void vslice_edu_release(struct vslice_core_dev *cdev)
{
	struct vslice_inst *inst = vslice_inst_from_core(cdev);
	struct vslice_parent *parent = inst->parent;

	kfree(inst->edu);
	vslice_parent_put(parent);
}

/**
 * struct vslice_edu_mig - the model's state in a migration stream
 * @liveness: liveness register
 * @fact: factorial register
 * @status: status register
 * @irq_status: interrupt status register
 * @dma_src: DMA source register
 * @dma_dst: DMA destination register
 * @dma_cnt: DMA count register
 * @dma_cmd: DMA command register
 * @buf: the device buffer
 *
 * Saved once the device is stopped, with its jobs drained: a factorial
 * or DMA still marked running (submitted while stopped) is queued again
 * where the stream is loaded.  Bump VSLICE_EDU_MIG_COMPAT when the layout
 * changes.
 */
struct vslice_edu_mig {
	__le32 liveness;
	__le32 fact;
	__le32 status;
	__le32 irq_status;
	__le64 dma_src;
	__le64 dma_dst;
	__le64 dma_cnt;
	__le64 dma_cmd;
	u8 buf[VSLICE_EDU_BUF_SIZE];
};

#define VSLICE_EDU_MIG_COMPAT	"edu.1 "

/**
 * vslice_edu_mig_save() - model @mig_save op
 * @cdev: instance, locked and stopped
 * @blob: a struct vslice_edu_mig to fill
 */
static void vslice_edu_mig_save(struct vslice_core_dev *cdev, void *blob)
{
	struct vslice_edu *edu = vslice_edu_from_core(cdev);
	struct vslice_edu_mig *m = blob;

	vslice_core_assert_held(cdev);
	spin_lock_irq(&edu->regs_lock);
	m->liveness = cpu_to_le32(edu->liveness);
	m->fact = cpu_to_le32(edu->fact);
	m->status = cpu_to_le32(edu->status);
	m->irq_status = cpu_to_le32(edu->irq_status);
	m->dma_src = cpu_to_le64(edu->dma_src);
	m->dma_dst = cpu_to_le64(edu->dma_dst);
	m->dma_cnt = cpu_to_le64(edu->dma_cnt);
	m->dma_cmd = cpu_to_le64(edu->dma_cmd);
	spin_unlock_irq(&edu->regs_lock);
	/* drained and stopped: the engine does not touch it */
	memcpy(m->buf, edu->buf, sizeof(m->buf));
}

/**
 * vslice_edu_mig_load() - model @mig_load op
 * @cdev: instance, locked, resuming
 * @blob: a struct vslice_edu_mig from a stream
 *
 * Return: 0, or -EINVAL (and nothing changed) for registers an edu could
 * not have.
 */
static int vslice_edu_mig_load(struct vslice_core_dev *cdev,
			       const void *blob)
{
	struct vslice_edu *edu = vslice_edu_from_core(cdev);
	const struct vslice_edu_mig *m = blob;
	u32 status = le32_to_cpu(m->status);
	u64 cmd = le64_to_cpu(m->dma_cmd);

	vslice_core_assert_held(cdev);
	if (status & ~(VSLICE_EDU_STATUS_COMPUTING |
		       VSLICE_EDU_STATUS_IRQFACT) ||
	    cmd & ~(u64)(VSLICE_EDU_DMA_RUN | VSLICE_EDU_DMA_TO_RAM |
			 VSLICE_EDU_DMA_IRQ | VSLICE_EDU_DMA_ERROR))
		return -EINVAL;

	spin_lock_irq(&edu->regs_lock);
	vslice_engine_cancel_locked(edu);
	edu->liveness = le32_to_cpu(m->liveness);
	edu->fact = le32_to_cpu(m->fact);
	edu->status = status;
	edu->irq_status = le32_to_cpu(m->irq_status);
	edu->dma_src = le64_to_cpu(m->dma_src);
	edu->dma_dst = le64_to_cpu(m->dma_dst);
	edu->dma_cnt = le64_to_cpu(m->dma_cnt);
	edu->dma_cmd = cmd;
	vslice_engine_reload_locked(edu, m->buf);
	vslice_core_irq_restore(cdev, edu->irq_status);
	/* work still marked running goes on here (when the device runs) */
	if (status & VSLICE_EDU_STATUS_COMPUTING)
		vslice_engine_submit_locked(edu, VSLICE_EDU_JOB_FACT);
	if (cmd & VSLICE_EDU_DMA_RUN) {
		edu->dma_cmd &= ~VSLICE_EDU_DMA_RUN;
		vslice_edu_dma_start_locked(edu, cmd);
	}
	spin_unlock_irq(&edu->regs_lock);
	return 0;
}

/**
 * vslice_edu_set_running() - model @set_running op
 * @cdev: instance
 * @running: migration lets it run again, or stops it
 *
 * Stopping drains the instance's jobs (see vslice_engine_set_running()).
 */
static void vslice_edu_set_running(struct vslice_core_dev *cdev,
				   bool running)
{
	vslice_engine_set_running(vslice_edu_from_core(cdev), running);
}

static const struct vslice_model_ops vslice_edu_model_ops = {
	.open		= vslice_edu_open,
	.close		= vslice_edu_close,
	.reset		= vslice_edu_reset,
	.release	= vslice_edu_release,
	.mig_blob_size	= sizeof(struct vslice_edu_mig),
	.mig_save	= vslice_edu_mig_save,
	.mig_load	= vslice_edu_mig_load,
	.set_running	= vslice_edu_set_running,
};

/**
 * vslice_edu_init() - make a new instance a virtual edu
 * @inst: instance of an edu parent, not yet registered
 *
 * Return: 0 or -ENOMEM.
 */
int vslice_edu_init(struct vslice_inst *inst)
{
	const struct vslice_cfg_desc desc = {
		.vendor		= VSLICE_BOCHS_VENDOR,
		.device		= VSLICE_EDU_DEVICE,
		.subsys_vendor	= VSLICE_SUBSYS_VENDOR,
		.subsys_device	= VSLICE_SUBSYS_DEVICE,
		.class		= VSLICE_EDU_CLASS,
		.revision	= VSLICE_EDU_REVISION,
		.irq_pin	= 1,
		.msi		= true,
		.bars = {
			[0] = { .size = VSLICE_EDU_BAR_SIZE },
		},
	};
	const struct vslice_region mmio = {
		.size	= VSLICE_EDU_BAR_SIZE,
		.flags	= VFIO_REGION_INFO_FLAG_READ |
			  VFIO_REGION_INFO_FLAG_WRITE,
		.ops	= &vslice_edu_mmio_ops,
	};
	struct vslice_edu *edu;
	int ret;

	edu = kzalloc(sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	edu->inst = inst;
	edu->engine = inst->parent->engine;
	edu->weight = VSLICE_EDU_WEIGHT_DEFAULT;
	edu->cap = 100;
	edu->watchdog_ms = VSLICE_EDU_WATCHDOG_MS_DEFAULT;
	spin_lock_init(&edu->regs_lock);
	INIT_LIST_HEAD(&edu->node);

	ret = vslice_core_init(&inst->core, &vslice_edu_model_ops);
	if (ret) {
		kfree(edu);
		return ret;
	}
	/* From here the device's release frees it (vslice_edu_release()). */
	inst->edu = edu;
	vslice_parent_get(inst->parent);
	vslice_cfg_init(&inst->core.cfg, &desc);
	vslice_core_irq_init(&inst->core, VSLICE_IRQ_INTX | VSLICE_IRQ_MSI);
	vslice_core_set_region(&inst->core, VFIO_PCI_BAR0_REGION_INDEX, &mmio);
	vslice_engine_attach(edu);
	vslice_core_enable_migration(&inst->core, VSLICE_MIG_NO_MEMORY,
				     VSLICE_EDU_MIG_COMPAT "vslice-edu");

	vslice_core_lock(&inst->core);
	vslice_edu_reset(&inst->core);
	vslice_core_unlock(&inst->core);
	return 0;
}
