/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vslice edu: QEMU's educational device (hw/misc/edu.c) sliced in time.
 * The physical edu is one engine (a factorial unit, a DMA engine with a
 * 4 KiB buffer); each instance is a whole virtual edu whose jobs vslice
 * queues and runs on it (mdev/engine.c: the engine and its scheduler;
 * mdev/edu.c: the virtual device).
 */
#ifndef VSLICE_EDU_H
#define VSLICE_EDU_H

#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "vslice.h"

/* BAR0 of edu (QEMU docs/specs/edu.rst). */
#define VSLICE_EDU_BAR_SIZE		SZ_1M
#define VSLICE_EDU_REG_ID		0x00
#define VSLICE_EDU_REG_LIVENESS		0x04
#define VSLICE_EDU_REG_FACT		0x08
#define VSLICE_EDU_REG_STATUS		0x20
#define VSLICE_EDU_REG_IRQ_STATUS	0x24
#define VSLICE_EDU_REG_IRQ_RAISE	0x60
#define VSLICE_EDU_REG_IRQ_ACK		0x64
#define VSLICE_EDU_REG_DMA_SRC		0x80
#define VSLICE_EDU_REG_DMA_DST		0x88
#define VSLICE_EDU_REG_DMA_CNT		0x90
#define VSLICE_EDU_REG_DMA_CMD		0x98

#define VSLICE_EDU_ID			0x010000ed
#define VSLICE_EDU_STATUS_COMPUTING	0x01
#define VSLICE_EDU_STATUS_IRQFACT	0x80
#define VSLICE_EDU_IRQ_FACT		0x001
#define VSLICE_EDU_IRQ_DMA		0x100
#define VSLICE_EDU_DMA_RUN		0x1
#define VSLICE_EDU_DMA_TO_RAM		0x2	/* else RAM to the buffer */
#define VSLICE_EDU_DMA_IRQ		0x4
/* vslice's own: the last DMA was refused, nothing was moved */
#define VSLICE_EDU_DMA_ERROR		0x8
/* The device buffer, as DMA addresses name it. */
#define VSLICE_EDU_BUF_ADDR		0x40000
#define VSLICE_EDU_BUF_SIZE		SZ_4K
/* edu's DMA addresses have 28 bits. */
#define VSLICE_EDU_DMA_REACH		SZ_256M

/* Scheduler knobs (per instance) and their defaults. */
#define VSLICE_EDU_WEIGHT_DEFAULT	100
#define VSLICE_EDU_WEIGHT_MAX		10000
#define VSLICE_EDU_WATCHDOG_MS_DEFAULT	1000

enum vslice_edu_job_kind {
	VSLICE_EDU_JOB_FACT,
	VSLICE_EDU_JOB_DMA,
	VSLICE_EDU_NR_JOBS,
};

/**
 * struct vslice_edu_job - work a tenant submitted, one of each kind at most
 * @queued: waiting for the engine
 * @gen: the tenant's &vslice_edu.gen when submitted: a reset since
 *	 makes the job's result go nowhere
 * @submitted: when it was queued (ns, monotonic)
 * @arg: factorial: its argument
 * @src: DMA: source address
 * @dst: DMA: destination address
 * @cnt: DMA: bytes
 * @cmd: DMA: the command register as the guest wrote it
 *
 * Protected by &vslice_engine.lock.
 */
struct vslice_edu_job {
	bool queued;
	u64 gen;
	u64 submitted;
	u32 arg;
	u64 src;
	u64 dst;
	u64 cnt;
	u64 cmd;
};

/**
 * struct vslice_edu_counts - what sysfs shows of a tenant's use
 * @jobs: jobs run on the engine
 * @engine_ns: engine time they used, context switches included
 * @queued_ns: time they waited in the queue
 * @dma_bytes: bytes moved by its DMAs
 * @watchdog_hits: jobs that ran past the watchdog
 * @ctx_switches: times its buffer was put back on the device
 */
struct vslice_edu_counts {
	u64 jobs;
	u64 engine_ns;
	u64 queued_ns;
	u64 dma_bytes;
	u64 watchdog_hits;
	u64 ctx_switches;
};

/**
 * struct vslice_edu - one virtual edu, a tenant of the engine
 * @inst: the instance
 * @engine: the engine of its parent
 * @liveness: liveness register (reads back inverted)
 * @fact: factorial register
 * @status: status register
 * @irq_status: interrupt status register
 * @dma_src: DMA source register
 * @dma_dst: DMA destination register
 * @dma_cnt: DMA count register
 * @dma_cmd: DMA command register
 * @regs_lock: protects the registers above; a spinlock, as a factorial
 *	       completes in the engine's interrupt handler.  Taken inside
 *	       the instance's vslice_core_lock() and outside
 *	       &vslice_engine.lock.
 *
 * What follows is under &vslice_engine.lock but @buf (the engine
 * thread's); @gen changes under @regs_lock as well.
 *
 * @node: entry in &vslice_engine.tenants
 * @open: a user has the device open: its jobs may run and DMA
 * @frozen: migration stopped the device: its jobs wait
 * @draining: migration is stopping the device: the jobs submitted
 *	      before @drain_from run at once, later ones wait
 * @drain_from: when the stop began (ns)
 * @gen: bumped by every reset: older jobs are cancelled
 * @jobs: the tenant's factorial and DMA job
 * @vruntime: engine time used, scaled by the weight (the fair scheduler's
 *	      clock)
 * @eligible: the tenant may start no job before (ns; the cap and the
 *	      watchdog's throttle)
 * @weight: share of the engine under contention, relative to the others
 * @cap: ceiling in percent of the engine's time, 100 for none
 * @watchdog_ms: a job running longer is counted and throttled
 * @counts: counters
 * @buf: the device buffer's contents while another tenant's is on the
 *	 device; written through on every DMA into it, so a switch away
 *	 costs nothing and a switch back one DMA
 */
struct vslice_edu {
	struct vslice_inst *inst;
	struct vslice_engine *engine;
	u32 liveness;
	u32 fact;
	u32 status;
	u32 irq_status;
	u64 dma_src;
	u64 dma_dst;
	u64 dma_cnt;
	u64 dma_cmd;
	/* protects the registers above */
	spinlock_t regs_lock;

	struct list_head node;
	bool open;
	bool frozen;
	bool draining;
	u64 drain_from;
	u64 gen;
	struct vslice_edu_job jobs[VSLICE_EDU_NR_JOBS];
	u64 vruntime;
	u64 eligible;
	u32 weight;
	u32 cap;
	u32 watchdog_ms;
	struct vslice_edu_counts counts;
	u8 buf[VSLICE_EDU_BUF_SIZE];
};

enum vslice_sched_policy {
	VSLICE_SCHED_BEST_EFFORT,	/* first come, first served */
	VSLICE_SCHED_EQUAL,		/* equal shares of engine time */
	VSLICE_SCHED_WEIGHTED,		/* shares by weight */
};

/**
 * struct vslice_engine - the physical edu, shared by its parent's tenants
 * @parent: the parent
 * @mmio: BAR0
 * @irq: its interrupt (MSI)
 * @bounce: a page the edu's DMA reaches (its DMA mask is 28 bits)
 * @bounce_dma: @bounce's bus address
 * @thread: the engine thread: picks jobs, starts factorials, runs DMAs
 * @done: completed by the physical interrupt of a DMA
 * @hang: ends a factorial whose interrupt never came
 * @lock: protects @tenants, @policy, @running, @job, @kind, @start, @end,
 *	  @ended, @owner, @last, @last_end, @min_vruntime, @kicked and the
 *	  scheduling fields of every tenant; taken inside an instance's
 *	  vslice_core_lock() and &vslice_edu.regs_lock, and in the
 *	  interrupt handler
 * @tenants: struct vslice_edu.node
 * @policy: the scheduling policy
 * @running: the tenant whose job is on the engine, or NULL
 * @job: @running's job
 * @kind: its kind
 * @start: when it started on the device (ns; 0: not yet)
 * @end: when its interrupt came (ns; 0: not yet)
 * @ended: it ended (a factorial: in the interrupt handler, which tells
 *	   its tenant and makes the engine idle, with no thread involved)
 * @owner: the tenant whose buffer is on the device
 * @last: the tenant whose job ended last, if still open
 * @last_end: when (ns)
 * @min_vruntime: the scheduler's clock: where a tenant that was idle
 *		  starts again, so that idling banks no credit
 * @kicked: the thread has something to pick since it last looked
 * @work: the thread has work, or a tenant became eligible
 * @idle: woken whenever @running changes
 */
struct vslice_engine {
	struct vslice_parent *parent;
	void __iomem *mmio;
	int irq;
	void *bounce;
	dma_addr_t bounce_dma;
	struct task_struct *thread;
	struct completion done;
	struct delayed_work hang;
	/* protects tenants, policy, the running job, owner, the queues */
	spinlock_t lock;
	struct list_head tenants;
	enum vslice_sched_policy policy;
	struct vslice_edu *running;
	struct vslice_edu_job job;
	enum vslice_edu_job_kind kind;
	u64 start;
	u64 end;
	bool ended;
	struct vslice_edu *owner;
	struct vslice_edu *last;
	u64 last_end;
	u64 min_vruntime;
	bool kicked;
	wait_queue_head_t work;
	wait_queue_head_t idle;
};

/* engine.c */
void vslice_engine_submit_locked(struct vslice_edu *edu,
				 enum vslice_edu_job_kind kind);
void vslice_engine_attach(struct vslice_edu *edu);
void vslice_engine_detach(struct vslice_edu *edu);
void vslice_engine_set_open(struct vslice_edu *edu, bool open);
void vslice_engine_set_running(struct vslice_edu *edu, bool running);
void vslice_engine_reload_locked(struct vslice_edu *edu, const u8 *buf);
void vslice_engine_cancel_locked(struct vslice_edu *edu);
void vslice_engine_counts(struct vslice_edu *edu,
			  struct vslice_edu_counts *c);
extern struct mdev_driver vslice_edu_mdev_driver;

/* edu.c */
void vslice_edu_complete(struct vslice_edu *edu,
			 enum vslice_edu_job_kind kind, u64 gen, u32 result,
			 bool error);

#endif /* VSLICE_EDU_H */
