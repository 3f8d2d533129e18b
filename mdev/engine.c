// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice engine: the physical edu, time-sliced between its tenants.
 *
 * The engine runs its tenants' jobs on the device one at a time: a
 * factorial (its run time grows with its argument and it cannot be
 * interrupted) or a DMA of up to 4 KiB between a tenant's memory and the
 * device buffer (edu completes a DMA 100 ms after it is started).  The
 * scheduler picks whenever the engine goes idle and a job waits.  A
 * factorial starts on the device from wherever the pick happens: the
 * tenant's trapped register write when the engine was idle, or the
 * engine's kernel thread.  Its physical interrupt (MSI) ends it in the
 * handler, which reads the result, gives it to the tenant's virtual edu
 * (vslice_edu_complete(), which interrupts the guest), makes the engine
 * idle and wakes the thread only if another job waits: a guest that
 * submits factorials one after another on an engine of its own never
 * waits for a thread's wake-up.  A DMA runs in the thread, to its end:
 * it copies to and from the tenant's memory, which may sleep.  A
 * factorial whose interrupt never comes is ended by a delayed work.
 *
 * DMA goes through one bounce page the device can reach (edu's DMA mask is
 * 28 bits, and a guest's 4 KiB need not be contiguous in host memory):
 * vfio_dma_rw() copies between it and the tenant's IOVA, so a tenant
 * reaches only what it mapped.  The device buffer belongs to one tenant at
 * a time: before a tenant's DMA the engine puts that tenant's buffer back
 * on the device if another's is there (a context switch: one DMA).  The
 * engine keeps each tenant's buffer written through (every byte DMA'd into
 * the device buffer came through the bounce page), so switching away
 * saves nothing.
 *
 * Scheduling: jobs cannot be preempted, so fairness comes from accounting
 * the engine time each job used.  Every tenant has a virtual runtime, its
 * engine time divided by its weight (weighted), or not (equal share); the
 * engine runs the tenant with the least next.  A tenant that was idle
 * starts no further back than VSLICE_ENGINE_LAG_NS behind the least
 * virtual runtime a running tenant had, so idling banks no credit beyond
 * that.  Best effort runs jobs in the order they came.  A cap
 * keeps a tenant off the engine after each job until the job's run time
 * is cap% of the time since it started, whether others wait or not.  A
 * job that runs past its tenant's watchdog is counted, and the tenant is
 * kept off the engine for as long again.
 */

#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/uuid.h>

#include "edu.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* Tenants one engine takes. */
#define VSLICE_ENGINE_MAX_TENANTS	16
/* A job that has not ended after this long means the device is gone. */
#define VSLICE_ENGINE_HANG_MS		60000
/*
 * The most engine time a tenant that went idle keeps as credit: enough
 * for one that resubmits as soon as its job ends (it is idle for an
 * instant each time), not for one that slept.
 */
#define VSLICE_ENGINE_LAG_NS		(50 * NSEC_PER_MSEC)
/*
 * How long the engine waits for the tenant whose job just ended to
 * submit its next, when it would be next (see
 * vslice_engine_anticipate_locked()): a user that resubmits at once takes
 * a millisecond or two under emulation.
 */
#define VSLICE_ENGINE_ANTICIPATE_NS	(3 * NSEC_PER_MSEC)
/*
 * Bytes of the device buffer the engine's DMAs reach: all but the last.
 * QEMU 7.2's edu (bookworm's: the bench VM's) stops the whole machine
 * (hw_error()) on a DMA that reaches the buffer's last byte, an
 * off-by-one in its range check that 10.0 no longer has; so that byte is
 * never the device's: the tenant's copy, kept written through, serves it.
 */
#define VSLICE_ENGINE_DEV_BUF		(VSLICE_EDU_BUF_SIZE - 1)
/* A DMA of edu takes 100 ms of its clock. */
#define VSLICE_ENGINE_DMA_MS		5000

static const char * const vslice_sched_policy_names[] = {
	[VSLICE_SCHED_BEST_EFFORT]	= "best_effort",
	[VSLICE_SCHED_EQUAL]		= "equal",
	[VSLICE_SCHED_WEIGHTED]		= "weighted",
};

/* Account a job that ran for @ns from @start. */
static void vslice_engine_account_locked(struct vslice_engine *e,
					 struct vslice_edu *t,
					 const struct vslice_edu_job *job,
					 enum vslice_edu_job_kind kind,
					 u64 start, u64 ns, int err)
{
	bool overran = ns > (u64)t->watchdog_ms * NSEC_PER_MSEC;
	u64 end = start + ns;

	lockdep_assert_held(&e->lock);
	t->counts.jobs++;
	t->counts.engine_ns += ns;
	t->counts.queued_ns += start - job->submitted;
	if (kind == VSLICE_EDU_JOB_DMA && !err)
		t->counts.dma_bytes += job->cnt;
	if (e->policy == VSLICE_SCHED_WEIGHTED)
		t->vruntime += div_u64(ns * VSLICE_EDU_WEIGHT_DEFAULT,
				       t->weight);
	else
		t->vruntime += ns;
	if (t->cap < 100)
		t->eligible = start + div_u64(ns * 100, t->cap);
	if (overran) {
		t->counts.watchdog_hits++;
		t->eligible = max(t->eligible, end + ns);
	}
}

static const char *vslice_engine_name(const struct vslice_edu *t)
{
	return dev_name(&t->inst->mdev->dev);
}

/* Is @t's job @k one a stop in progress drains (submitted before it)? */
static bool vslice_engine_drains(const struct vslice_edu *t, int k)
{
	return t->draining && t->jobs[k].submitted <= t->drain_from;
}

/* The tenant's job to run next, or -1: the older of the two. */
static int vslice_engine_first_job(const struct vslice_edu *t)
{
	const struct vslice_edu_job *f = &t->jobs[VSLICE_EDU_JOB_FACT];
	const struct vslice_edu_job *d = &t->jobs[VSLICE_EDU_JOB_DMA];

	if (f->queued && (!d->queued || f->submitted <= d->submitted))
		return VSLICE_EDU_JOB_FACT;
	return d->queued ? VSLICE_EDU_JOB_DMA : -1;
}

/*
 * Let the engine's thread pick again, if anything is queued: with nothing
 * queued it sleeps on, and the next submit kicks it (or starts its
 * factorial itself).
 */
static bool vslice_engine_kick_locked(struct vslice_engine *e)
{
	struct vslice_edu *t;
	int k;

	lockdep_assert_held(&e->lock);
	list_for_each_entry(t, &e->tenants, node) {
		k = vslice_engine_first_job(t);
		if (k >= 0 && (!t->frozen || vslice_engine_drains(t, k))) {
			e->kicked = true;
			return true;
		}
	}
	return false;
}

/* How long after its start a factorial is given up as stuck. */
static unsigned int vslice_engine_hang_ms(const struct vslice_edu *t)
{
	return READ_ONCE(t->watchdog_ms) + VSLICE_ENGINE_HANG_MS;
}

/*
 * End the running factorial, once: from the interrupt handler, or, when
 * @stuck, from the hang work, only if it has run for longer than a job
 * may.  It is accounted before its tenant hears of it, so that the
 * tenant's counters and the scheduler's idea of who ran last never lag
 * behind what the tenant sees; it stops being the running job only
 * after, so that a tenant closing meanwhile waits for its result to be
 * delivered.  Returns whether it ended one.
 */
static bool vslice_engine_fact_end(struct vslice_engine *e, bool stuck)
{
	struct vslice_edu *t;
	unsigned long flags;
	bool kick;
	u64 gen, ns;
	u32 result;

	spin_lock_irqsave(&e->lock, flags);
	t = e->running;
	if (!t || e->kind != VSLICE_EDU_JOB_FACT || !e->start || e->ended ||
	    (stuck && ktime_get_ns() - e->start <
		      (u64)vslice_engine_hang_ms(t) * NSEC_PER_MSEC)) {
		spin_unlock_irqrestore(&e->lock, flags);
		return false;
	}
	e->ended = true;
	e->end = ktime_get_ns();
	ns = e->end - e->start;
	gen = e->job.gen;
	result = readl(e->mmio + VSLICE_EDU_REG_FACT);
	vslice_engine_account_locked(e, t, &e->job, VSLICE_EDU_JOB_FACT,
				     e->start, ns, 0);
	e->last = t;
	e->last_end = e->end;
	if (!stuck)
		cancel_delayed_work(&e->hang);
	spin_unlock_irqrestore(&e->lock, flags);
	trace_vslice_engine_complete(vslice_engine_name(t),
				     VSLICE_EDU_JOB_FACT, ns);
	vslice_edu_complete(t, VSLICE_EDU_JOB_FACT, gen, result, false);

	spin_lock_irqsave(&e->lock, flags);
	e->running = NULL;
	kick = vslice_engine_kick_locked(e);
	spin_unlock_irqrestore(&e->lock, flags);
	wake_up_all(&e->idle);
	if (kick)
		wake_up(&e->work);
	return true;
}

/*
 * The physical interrupt, an MSI (the engine's alone): the job running
 * ended.  As few device accesses as can be, each a trap to the machine's
 * emulator: edu signals its MSI on every completion, acknowledged or not,
 * so the handler acknowledges nothing (the engine never reads edu's
 * interrupt status); it reads a factorial's result for its tenant.
 */
static irqreturn_t vslice_engine_irq(int irq, void *data)
{
	struct vslice_engine *e = data;

	if (!vslice_engine_fact_end(e, false))
		complete(&e->done);	/* a DMA, for the thread */
	return IRQ_HANDLED;
}

/* A factorial that never interrupted: the device is stuck, or gone. */
static void vslice_engine_hang(struct work_struct *work)
{
	struct vslice_engine *e = container_of(to_delayed_work(work),
					       struct vslice_engine, hang);

	if (vslice_engine_fact_end(e, true))
		dev_err_ratelimited(&e->parent->pdev->dev,
				    "edu did not finish a job: the engine is stuck\n");
}

/* Wait for the job just started; -ETIMEDOUT after @ms. */
static int vslice_engine_wait(struct vslice_engine *e, unsigned int ms)
{
	long left = wait_for_completion_interruptible_timeout(&e->done,
							msecs_to_jiffies(ms));

	return left > 0 ? 0 : -ETIMEDOUT;
}

/* One DMA of the physical edu, @src to @dst; edu's own direction bit. */
static int vslice_engine_phys_dma(struct vslice_engine *e, u64 src, u64 dst,
				  u64 cnt, bool to_ram)
{
	reinit_completion(&e->done);
	writel(src, e->mmio + VSLICE_EDU_REG_DMA_SRC);
	writel(dst, e->mmio + VSLICE_EDU_REG_DMA_DST);
	writel(cnt, e->mmio + VSLICE_EDU_REG_DMA_CNT);
	writel(VSLICE_EDU_DMA_RUN | VSLICE_EDU_DMA_IRQ |
	       (to_ram ? VSLICE_EDU_DMA_TO_RAM : 0),
	       e->mmio + VSLICE_EDU_REG_DMA_CMD);
	return vslice_engine_wait(e, VSLICE_ENGINE_DMA_MS);
}

/* Put @t's buffer on the device unless it is there already. */
static int vslice_engine_switch(struct vslice_engine *e, struct vslice_edu *t)
{
	char from[UUID_STRING_LEN + 1] = "none";
	u64 start = ktime_get_ns();
	bool mine;
	int ret;

	spin_lock_irq(&e->lock);
	mine = e->owner == t;
	if (e->owner)
		strscpy(from, vslice_engine_name(e->owner), sizeof(from));
	spin_unlock_irq(&e->lock);
	if (mine)
		return 0;

	memcpy(e->bounce, t->buf, VSLICE_ENGINE_DEV_BUF);
	ret = vslice_engine_phys_dma(e, e->bounce_dma, VSLICE_EDU_BUF_ADDR,
				     VSLICE_ENGINE_DEV_BUF, false);
	if (ret)
		return ret;
	spin_lock_irq(&e->lock);
	e->owner = t;
	t->counts.ctx_switches++;
	spin_unlock_irq(&e->lock);
	trace_vslice_engine_ctx_switch(from, vslice_engine_name(t),
				       ktime_get_ns() - start);
	return 0;
}

/*
 * A tenant's DMA, checked by the virtual edu already (count, buffer
 * range).  Returns 0, or a negative errno: nothing reached the tenant's
 * memory or buffer (an unmapped IOVA), or the device failed.
 */
static int vslice_engine_dma(struct vslice_engine *e, struct vslice_edu *t,
			     const struct vslice_edu_job *job)
{
	bool to_ram = job->cmd & VSLICE_EDU_DMA_TO_RAM;
	u64 buf = to_ram ? job->src : job->dst;
	u64 iova = to_ram ? job->dst : job->src;
	u64 off = buf - VSLICE_EDU_BUF_ADDR;
	struct vslice_core_dev *cdev = &t->inst->core;
	u64 dev;
	int ret;

	ret = vslice_engine_switch(e, t);
	if (ret)
		return ret;
	/* what the device moves: all but the buffer's last byte */
	dev = off < VSLICE_ENGINE_DEV_BUF ?
	      min_t(u64, job->cnt, VSLICE_ENGINE_DEV_BUF - off) : 0;
	if (!to_ram) {
		ret = vslice_core_dma_rw(cdev, iova, e->bounce, job->cnt,
					 false);
		if (ret)
			return ret;
		if (dev)
			ret = vslice_engine_phys_dma(e, e->bounce_dma, buf, dev,
						     false);
		if (!ret)
			memcpy(t->buf + off, e->bounce, job->cnt);
		return ret;
	}
	if (dev)
		ret = vslice_engine_phys_dma(e, buf, e->bounce_dma, dev, true);
	if (ret)
		return ret;
	memcpy(e->bounce + dev, t->buf + off + dev, job->cnt - dev);
	return vslice_core_dma_rw(cdev, iova, e->bounce, job->cnt, true);
}

/*
 * Start the running tenant's factorial on the device.  Its interrupt ends
 * it; the hang work, if it never comes, once the tenant's watchdog and
 * VSLICE_ENGINE_HANG_MS after have passed.
 */
static void vslice_engine_fact_start_locked(struct vslice_engine *e)
{
	unsigned int ms = vslice_engine_hang_ms(e->running);

	lockdep_assert_held(&e->lock);
	e->start = ktime_get_ns();
	trace_vslice_engine_start(vslice_engine_name(e->running), e->kind,
				  e->start - e->job.submitted);
	mod_delayed_work(system_wq, &e->hang, msecs_to_jiffies(ms));
	writel(e->job.arg, e->mmio + VSLICE_EDU_REG_FACT);
}

/* Should @t (next job @k) run before @best (next job @bk)? */
static bool vslice_engine_before(const struct vslice_engine *e,
				 const struct vslice_edu *t, int k,
				 const struct vslice_edu *best, int bk)
{
	if (e->policy != VSLICE_SCHED_BEST_EFFORT &&
	    t->vruntime != best->vruntime)
		return t->vruntime < best->vruntime;
	return t->jobs[k].submitted < best->jobs[bk].submitted;
}

/*
 * Should the engine stay idle a moment for the tenant whose job just
 * ended?  A tenant has one factorial and one DMA at most in flight, so
 * it is never queued when its job ends: a work-conserving pick would
 * always pass it over then, and a tenant weighted 4 against two of 1
 * and 2 would get half the engine instead of four sevenths.  If it would
 * be next (the least virtual runtime), wait up to VSLICE_ENGINE_ANTICIPATE_NS
 * for it to submit again, as the anticipatory disk schedulers did.
 */
static bool vslice_engine_anticipate_locked(struct vslice_engine *e,
					    const struct vslice_edu *best,
					    u64 now, u64 *wait)
{
	const struct vslice_edu *last = e->last;
	u64 until = e->last_end + VSLICE_ENGINE_ANTICIPATE_NS;

	lockdep_assert_held(&e->lock);
	if (e->policy == VSLICE_SCHED_BEST_EFFORT || !last || !last->open ||
	    now >= until || last->eligible > now ||
	    vslice_engine_first_job(last) >= 0 ||
	    (best && best->vruntime <= last->vruntime))
		return false;
	if (!*wait || until - now < *wait)
		*wait = until - now;
	return true;
}

/*
 * Pick the next job, take it off its queue and make it the running one
 * (&vslice_engine.job).  With none eligible, *@wait is how long until a
 * queued one becomes so (0: nothing queued).
 */
static struct vslice_edu *vslice_engine_pick_locked(struct vslice_engine *e,
						    u64 *wait)
{
	struct vslice_edu *t, *best = NULL;
	u64 now = ktime_get_ns();
	int k, bk = -1;

	lockdep_assert_held(&e->lock);
	*wait = 0;
	list_for_each_entry(t, &e->tenants, node) {
		k = vslice_engine_first_job(t);
		if (k < 0 || (t->frozen && !vslice_engine_drains(t, k)))
			continue;
		if (t->eligible > now && !t->draining) {
			if (!*wait || t->eligible - now < *wait)
				*wait = t->eligible - now;
			continue;
		}
		if (!best || vslice_engine_before(e, t, k, best, bk)) {
			best = t;
			bk = k;
		}
	}
	if (vslice_engine_anticipate_locked(e, best, now, wait))
		return NULL;
	if (!best)
		return NULL;
	best->jobs[bk].queued = false;
	e->min_vruntime = max(e->min_vruntime, best->vruntime);
	e->running = best;
	e->job = best->jobs[bk];
	e->kind = bk;
	e->start = 0;
	e->end = 0;
	e->ended = false;
	return best;
}

static bool vslice_engine_kicked(struct vslice_engine *e)
{
	return READ_ONCE(e->kicked) || kthread_should_stop();
}

/*
 * The engine: starts each job it picks.  A factorial ends in the
 * interrupt handler, which kicks the thread if another job waits; a DMA
 * runs here to its end (it copies between the bounce page and the
 * tenant's memory, which may sleep).
 */
static int vslice_engine_thread(void *data)
{
	struct vslice_engine *e = data;
	struct vslice_edu_job job;
	u64 start, ns, wait = 0;
	struct vslice_edu *t;
	int err;

	while (!kthread_should_stop()) {
		spin_lock_irq(&e->lock);
		e->kicked = false;
		wait = 0;
		/* a factorial on the device, or a DMA a submitter picked */
		t = e->running;
		if (!t)
			t = vslice_engine_pick_locked(e, &wait);
		if (t && e->kind == VSLICE_EDU_JOB_FACT) {
			if (!e->start)
				vslice_engine_fact_start_locked(e);
			t = NULL;	/* its end kicks us */
		}
		job = e->job;
		spin_unlock_irq(&e->lock);
		if (!t) {
			/* to the nanosecond: a cap's pause is a few ms */
			if (wait)
				wait_event_interruptible_hrtimeout(e->work,
								   vslice_engine_kicked(e),
								   ns_to_ktime(wait));
			else
				wait_event_interruptible(e->work,
							 vslice_engine_kicked(e));
			continue;
		}

		start = ktime_get_ns();
		trace_vslice_engine_start(vslice_engine_name(t),
					  VSLICE_EDU_JOB_DMA,
					  start - job.submitted);
		err = vslice_engine_dma(e, t, &job);
		ns = ktime_get_ns() - start;
		if (err == -ETIMEDOUT)
			dev_err_ratelimited(&e->parent->pdev->dev,
					    "edu did not finish a job: the engine is stuck\n");
		trace_vslice_engine_complete(vslice_engine_name(t),
					     VSLICE_EDU_JOB_DMA, ns);
		vslice_edu_complete(t, VSLICE_EDU_JOB_DMA, job.gen, 0, err);

		spin_lock_irq(&e->lock);
		vslice_engine_account_locked(e, t, &job, VSLICE_EDU_JOB_DMA,
					     start, ns, err);
		e->last = t;
		e->last_end = ktime_get_ns();
		e->running = NULL;
		spin_unlock_irq(&e->lock);
		wake_up_all(&e->idle);
	}
	return 0;
}

/**
 * vslice_engine_submit_locked() - queue a tenant's job
 * @edu: tenant, its instance and &vslice_edu.regs_lock held: the job is
 *	 read from its registers
 * @kind: the factorial or the DMA
 *
 * On an idle engine the scheduler picks here and now, and a factorial it
 * picks starts on the device at once, from the guest's trapped write;
 * DMAs, and waits for a job to become eligible, are the thread's.
 */
void vslice_engine_submit_locked(struct vslice_edu *edu,
				 enum vslice_edu_job_kind kind)
{
	struct vslice_engine *e = edu->engine;
	struct vslice_edu_job *job = &edu->jobs[kind];
	bool kick;
	u64 wait;

	vslice_core_assert_held(&edu->inst->core);
	lockdep_assert_held(&edu->regs_lock);
	spin_lock(&e->lock);
	if (!edu->open) {
		spin_unlock(&e->lock);
		return;
	}
	/* an idle tenant banks no more than VSLICE_ENGINE_LAG_NS of credit */
	if (vslice_engine_first_job(edu) < 0 && e->running != edu &&
	    e->min_vruntime > VSLICE_ENGINE_LAG_NS)
		edu->vruntime = max(edu->vruntime,
				    e->min_vruntime - VSLICE_ENGINE_LAG_NS);
	job->gen = edu->gen;
	job->submitted = ktime_get_ns();
	job->arg = edu->fact;
	job->src = edu->dma_src;
	job->dst = edu->dma_dst;
	job->cnt = edu->dma_cnt;
	job->cmd = edu->dma_cmd;
	job->queued = true;
	trace_vslice_engine_submit(vslice_engine_name(edu), kind,
				   kind == VSLICE_EDU_JOB_FACT ? job->arg :
								 job->cnt);
	/* a factorial running: its end picks again */
	if (!e->running && vslice_engine_pick_locked(e, &wait) &&
	    e->kind == VSLICE_EDU_JOB_FACT)
		vslice_engine_fact_start_locked(e);
	/* the thread runs DMAs, and times a wait for an eligible job */
	kick = !e->running || e->kind == VSLICE_EDU_JOB_DMA;
	e->kicked |= kick;
	spin_unlock(&e->lock);
	if (kick)
		wake_up(&e->work);
}

/**
 * vslice_engine_cancel_locked() - a reset: drop the tenant's jobs
 * @edu: tenant, its instance and &vslice_edu.regs_lock held
 *
 * A job running now ends on the engine, but its result goes nowhere.
 */
void vslice_engine_cancel_locked(struct vslice_edu *edu)
{
	struct vslice_engine *e = edu->engine;
	unsigned int k;

	vslice_core_assert_held(&edu->inst->core);
	lockdep_assert_held(&edu->regs_lock);
	spin_lock(&e->lock);
	edu->gen++;
	for (k = 0; k < VSLICE_EDU_NR_JOBS; k++)
		edu->jobs[k].queued = false;
	spin_unlock(&e->lock);
}

/**
 * vslice_engine_set_open() - a user opened or let go of the tenant
 * @edu: tenant
 * @open: the new state
 *
 * Closing drops the queued jobs and waits for a running one (at most the
 * job's own run time: others' jobs are not delayed), so that no DMA
 * reaches the user's memory afterwards.
 */
void vslice_engine_set_open(struct vslice_edu *edu, bool open)
{
	struct vslice_engine *e = edu->engine;
	unsigned int k;

	spin_lock_irq(&e->lock);
	edu->open = open;
	for (k = 0; k < VSLICE_EDU_NR_JOBS && !open; k++)
		edu->jobs[k].queued = false;
	spin_unlock_irq(&e->lock);
	if (open)
		return;

	wait_event(e->idle, READ_ONCE(e->running) != edu);
	spin_lock_irq(&e->lock);
	if (e->owner == edu)
		e->owner = NULL;	/* its buffer is cleared: restore next */
	if (e->last == edu)
		e->last = NULL;
	spin_unlock_irq(&e->lock);
}

/* Has @edu a job queued or on the engine? */
static bool vslice_engine_busy(struct vslice_edu *edu)
{
	struct vslice_engine *e = edu->engine;
	int k;
	bool busy;

	spin_lock_irq(&e->lock);
	k = vslice_engine_first_job(edu);
	busy = (k >= 0 && vslice_engine_drains(edu, k)) || e->running == edu;
	spin_unlock_irq(&e->lock);
	return busy;
}

/**
 * vslice_engine_set_running() - migration stops the tenant or runs it again
 * @edu: tenant
 * @running: the new state
 *
 * Stopping drains: the jobs queued and running end first (on the engine,
 * in their turn), then whatever the tenant submits waits until it runs
 * again, so that its state holds still while it is saved.
 */
void vslice_engine_set_running(struct vslice_edu *edu, bool running)
{
	struct vslice_engine *e = edu->engine;

	if (!running) {
		/*
		 * The jobs it has now run at once, throttled or not: a stop
		 * must not wait; those it submits from now on wait for the
		 * next run, or a user submitting without end would hold the
		 * stop for ever.
		 */
		spin_lock_irq(&e->lock);
		edu->frozen = true;
		edu->draining = true;
		edu->drain_from = ktime_get_ns();
		e->kicked = true;
		spin_unlock_irq(&e->lock);
		wake_up(&e->work);
		wait_event(e->idle, !vslice_engine_busy(edu));
	}
	spin_lock_irq(&e->lock);
	edu->draining = false;
	edu->frozen = !running;
	e->kicked = true;
	spin_unlock_irq(&e->lock);
	wake_up(&e->work);
}

/**
 * vslice_engine_reload_locked() - a migrated buffer replaces the tenant's
 * @edu: tenant, its instance and &vslice_edu.regs_lock held, nothing of
 *	 it queued or running
 * @buf: VSLICE_EDU_BUF_SIZE bytes
 */
void vslice_engine_reload_locked(struct vslice_edu *edu, const u8 *buf)
{
	struct vslice_engine *e = edu->engine;

	vslice_core_assert_held(&edu->inst->core);
	lockdep_assert_held(&edu->regs_lock);
	spin_lock(&e->lock);
	memcpy(edu->buf, buf, VSLICE_EDU_BUF_SIZE);
	if (e->owner == edu)
		e->owner = NULL;	/* the device's copy is stale */
	spin_unlock(&e->lock);
}

/**
 * vslice_engine_attach() - a new tenant
 * @edu: tenant, not open yet
 */
void vslice_engine_attach(struct vslice_edu *edu)
{
	struct vslice_engine *e = edu->engine;

	spin_lock_irq(&e->lock);
	edu->vruntime = e->min_vruntime;
	list_add_tail(&edu->node, &e->tenants);
	spin_unlock_irq(&e->lock);
}

/**
 * vslice_engine_detach() - a tenant is going away
 * @edu: tenant, closed (nothing of it queued or running)
 */
void vslice_engine_detach(struct vslice_edu *edu)
{
	struct vslice_engine *e = edu->engine;

	spin_lock_irq(&e->lock);
	list_del_init(&edu->node);
	if (e->owner == edu)
		e->owner = NULL;
	if (e->last == edu)
		e->last = NULL;
	spin_unlock_irq(&e->lock);
}

/**
 * vslice_engine_counts() - a tenant's counters
 * @edu: tenant
 * @c: filled in
 */
void vslice_engine_counts(struct vslice_edu *edu, struct vslice_edu_counts *c)
{
	spin_lock_irq(&edu->engine->lock);
	*c = edu->counts;
	spin_unlock_irq(&edu->engine->lock);
}

/* Is this an edu that works?  Its ID, and the liveness register. */
static int vslice_engine_check(struct vslice_engine *e)
{
	struct pci_dev *pdev = e->parent->pdev;
	u32 id = readl(e->mmio + VSLICE_EDU_REG_ID);

	if ((id & 0xff) != (VSLICE_EDU_ID & 0xff)) {
		pci_err(pdev, "edu ID 0x%08x is not an edu\n", id);
		return -ENODEV;
	}
	writel(0x5a5aa5a5, e->mmio + VSLICE_EDU_REG_LIVENESS);
	if (readl(e->mmio + VSLICE_EDU_REG_LIVENESS) != ~0x5a5aa5a5u) {
		pci_err(pdev, "edu does not answer its liveness check\n");
		return -EIO;
	}
	return 0;
}

/* Model @probe: map the edu, set its DMA and interrupt up, start the engine. */
static int vslice_engine_probe(struct vslice_parent *parent)
{
	struct pci_dev *pdev = parent->pdev;
	struct vslice_engine *e;
	int ret;

	if (!(pci_resource_flags(pdev, 0) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, 0) < VSLICE_EDU_BAR_SIZE) {
		pci_err(pdev, "edu without its BAR0, not binding\n");
		return -ENODEV;
	}
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->parent = parent;
	spin_lock_init(&e->lock);
	INIT_LIST_HEAD(&e->tenants);
	init_completion(&e->done);
	INIT_DELAYED_WORK(&e->hang, vslice_engine_hang);
	init_waitqueue_head(&e->work);
	init_waitqueue_head(&e->idle);
	e->policy = VSLICE_SCHED_WEIGHTED;

	e->mmio = pci_iomap(pdev, 0, VSLICE_EDU_BAR_SIZE);
	if (!e->mmio) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = vslice_engine_check(e);
	if (ret)
		goto err_unmap;

	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(28));
	if (ret)
		goto err_unmap;
	e->bounce = dma_alloc_coherent(&pdev->dev, VSLICE_EDU_BUF_SIZE,
				       &e->bounce_dma, GFP_KERNEL);
	if (!e->bounce) {
		ret = -ENOMEM;
		goto err_unmap;
	}
	pci_set_master(pdev);

	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0)
		goto err_free_bounce;
	e->irq = pci_irq_vector(pdev, 0);
	ret = request_irq(e->irq, vslice_engine_irq, 0, VSLICE_NAME, e);
	if (ret)
		goto err_free_vectors;
	/* every factorial interrupts */
	writel(VSLICE_EDU_STATUS_IRQFACT, e->mmio + VSLICE_EDU_REG_STATUS);

	e->thread = kthread_run(vslice_engine_thread, e, "vslice-edu/%s",
				pci_name(pdev));
	if (IS_ERR(e->thread)) {
		ret = PTR_ERR(e->thread);
		goto err_free_irq;
	}
	parent->engine = e;
	vslice_types_init_one(parent, "edu");
	pci_info(pdev, "edu engine, up to %u tenants\n",
		 VSLICE_ENGINE_MAX_TENANTS);
	return 0;

err_free_irq:
	free_irq(e->irq, e);
err_free_vectors:
	pci_free_irq_vectors(pdev);
err_free_bounce:
	pci_clear_master(pdev);
	dma_free_coherent(&pdev->dev, VSLICE_EDU_BUF_SIZE, e->bounce,
			  e->bounce_dma);
err_unmap:
	pci_iounmap(pdev, e->mmio);
err_free:
	kfree(e);
	return ret;
}

/* Model @remove: every tenant is gone; the job running ends first. */
static void vslice_engine_remove(struct vslice_parent *parent)
{
	struct vslice_engine *e = parent->engine;
	struct pci_dev *pdev = parent->pdev;

	kthread_stop(e->thread);
	free_irq(e->irq, e);
	cancel_delayed_work_sync(&e->hang);
	/* the interrupts the engine never acknowledged */
	writel(U32_MAX, e->mmio + VSLICE_EDU_REG_IRQ_ACK);
	pci_free_irq_vectors(pdev);
	pci_clear_master(pdev);
	dma_free_coherent(&pdev->dev, VSLICE_EDU_BUF_SIZE, e->bounce,
			  e->bounce_dma);
	pci_iounmap(pdev, e->mmio);
	parent->engine = NULL;
	kfree(e);
}

static unsigned int vslice_engine_available_locked(struct vslice_parent *parent,
						   const struct vslice_type *type)
{
	lockdep_assert_held(&parent->lock);
	return VSLICE_ENGINE_MAX_TENANTS - min(parent->nr_insts,
					       VSLICE_ENGINE_MAX_TENANTS);
}

/* Model @admit_locked: an engine takes so many tenants. */
static int vslice_engine_admit_locked(struct vslice_inst *inst)
{
	struct vslice_parent *parent = inst->parent;

	lockdep_assert_held(&parent->lock);
	/* the policy counted this one in already */
	return parent->nr_insts > VSLICE_ENGINE_MAX_TENANTS ? -ENOSPC : 0;
}

/* Model @release_locked: the tenant leaves the engine. */
static void vslice_engine_release_locked(struct vslice_inst *inst)
{
	lockdep_assert_held(&inst->parent->lock);
	if (inst->edu)
		vslice_engine_detach(inst->edu);
}

static ssize_t vslice_engine_describe(struct vslice_parent *parent,
				      const struct vslice_type *type,
				      char *buf)
{
	return sysfs_emit(buf,
			  "edu, time-sliced: factorial and 4 KiB DMA jobs on one engine, max instances %u\n",
			  VSLICE_ENGINE_MAX_TENANTS);
}

const struct vslice_parent_model vslice_edu_parent_model = {
	.name			= "edu",
	.device			= VSLICE_EDU_DEVICE,
	.mdev_driver		= &vslice_edu_mdev_driver,
	.probe			= vslice_engine_probe,
	.remove			= vslice_engine_remove,
	.admit_locked		= vslice_engine_admit_locked,
	.release_locked		= vslice_engine_release_locked,
	.available_locked	= vslice_engine_available_locked,
	.inst_init		= vslice_edu_init,
	.describe		= vslice_engine_describe,
};

/* sysfs: the parent's policy */
static ssize_t sched_policy_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct vslice_parent *parent = pci_get_drvdata(to_pci_dev(dev));

	return sysfs_emit(buf, "%s\n",
			  vslice_sched_policy_names[READ_ONCE(parent->engine->policy)]);
}

static ssize_t sched_policy_store(struct device *dev,
				  struct device_attribute *attr,
				  const char *buf, size_t count)
{
	struct vslice_parent *parent = pci_get_drvdata(to_pci_dev(dev));
	struct vslice_engine *e = parent->engine;
	int p = sysfs_match_string(vslice_sched_policy_names, buf);

	if (p < 0)
		return p;
	spin_lock_irq(&e->lock);
	e->policy = p;
	spin_unlock_irq(&e->lock);
	return count;
}
DEVICE_ATTR_RW(sched_policy);

/* sysfs: a tenant's knobs and counters, in the instance's vslice/ */
static struct vslice_edu *vslice_engine_tenant(struct device *dev)
{
	struct vslice_inst *inst = dev_get_drvdata(dev);

	return inst->edu;
}

/**
 * struct vslice_engine_attr - a tenant's counter or knob in sysfs
 * @attr: the attribute
 * @offset: counters: of the u64 in struct vslice_edu_counts; knobs: of
 *	    the u32 in struct vslice_edu
 * @min: knobs: the least value a write may set
 * @max: knobs: the greatest
 */
struct vslice_engine_attr {
	struct device_attribute attr;
	size_t offset;
	u32 min;
	u32 max;
};

static const struct vslice_engine_attr *
vslice_engine_attr(const struct device_attribute *attr)
{
	return container_of(attr, struct vslice_engine_attr, attr);
}

static ssize_t vslice_engine_counter_show(struct device *dev,
					  struct device_attribute *attr,
					  char *buf)
{
	struct vslice_edu_counts c;

	vslice_engine_counts(vslice_engine_tenant(dev), &c);
	return sysfs_emit(buf, "%llu\n",
			  *(u64 *)((u8 *)&c + vslice_engine_attr(attr)->offset));
}

static u32 *vslice_engine_knob(struct device *dev,
			       struct device_attribute *attr)
{
	return (u32 *)((u8 *)vslice_engine_tenant(dev) +
		       vslice_engine_attr(attr)->offset);
}

static ssize_t vslice_engine_knob_show(struct device *dev,
				       struct device_attribute *attr,
				       char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(*vslice_engine_knob(dev, attr)));
}

/* A knob changes under the engine's lock, at once for the next pick. */
static ssize_t vslice_engine_knob_store(struct device *dev,
					struct device_attribute *attr,
					const char *buf, size_t count)
{
	const struct vslice_engine_attr *ea = vslice_engine_attr(attr);
	struct vslice_engine *e = vslice_engine_tenant(dev)->engine;
	u32 val;
	int ret;

	ret = kstrtou32(buf, 0, &val);
	if (ret)
		return ret;
	if (val < ea->min || val > ea->max)
		return -ERANGE;
	spin_lock_irq(&e->lock);
	WRITE_ONCE(*vslice_engine_knob(dev, attr), val);
	spin_unlock_irq(&e->lock);
	wake_up(&e->work);
	return count;
}

#define VSLICE_ENGINE_COUNTER(_name, _field) {			\
	.attr	= {							\
		.attr	= { .name = _name, .mode = 0444 },		\
		.show	= vslice_engine_counter_show,			\
	},								\
	.offset	= offsetof(struct vslice_edu_counts, _field),		\
}

#define VSLICE_ENGINE_KNOB(_name, _field, _min, _max) {		\
	.attr	= {							\
		.attr	= { .name = _name, .mode = 0644 },		\
		.show	= vslice_engine_knob_show,			\
		.store	= vslice_engine_knob_store,			\
	},								\
	.offset	= offsetof(struct vslice_edu, _field),			\
	.min	= _min,							\
	.max	= _max,							\
}

static struct vslice_engine_attr vslice_engine_jobs =
	VSLICE_ENGINE_COUNTER("jobs", jobs);
static struct vslice_engine_attr vslice_engine_engine_ns =
	VSLICE_ENGINE_COUNTER("engine_ns", engine_ns);
static struct vslice_engine_attr vslice_engine_queued_ns =
	VSLICE_ENGINE_COUNTER("queued_ns", queued_ns);
static struct vslice_engine_attr vslice_engine_dma_bytes =
	VSLICE_ENGINE_COUNTER("dma_bytes", dma_bytes);
static struct vslice_engine_attr vslice_engine_watchdog_hits =
	VSLICE_ENGINE_COUNTER("watchdog_hits", watchdog_hits);
static struct vslice_engine_attr vslice_engine_ctx_switches =
	VSLICE_ENGINE_COUNTER("ctx_switches", ctx_switches);
static struct vslice_engine_attr vslice_engine_weight =
	VSLICE_ENGINE_KNOB("weight", weight, 1, VSLICE_EDU_WEIGHT_MAX);
static struct vslice_engine_attr vslice_engine_cap =
	VSLICE_ENGINE_KNOB("cap", cap, 1, 100);
static struct vslice_engine_attr vslice_engine_watchdog_ms =
	VSLICE_ENGINE_KNOB("watchdog_ms", watchdog_ms, 1,
			   VSLICE_ENGINE_HANG_MS);

/* Interrupts signalled to the tenant, as the core counts them. */
static ssize_t irqs_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct vslice_core_counts c;

	vslice_core_counts(&vslice_engine_tenant(dev)->inst->core, &c);
	return sysfs_emit(buf, "%llu\n", c.irqs);
}
static DEVICE_ATTR_RO(irqs);

static struct attribute *vslice_edu_inst_attrs[] = {
	&dev_attr_parent.attr,
	&dev_attr_opens.attr,
	&vslice_engine_weight.attr.attr,
	&vslice_engine_cap.attr.attr,
	&vslice_engine_watchdog_ms.attr.attr,
	&vslice_engine_jobs.attr.attr,
	&vslice_engine_engine_ns.attr.attr,
	&vslice_engine_queued_ns.attr.attr,
	&vslice_engine_dma_bytes.attr.attr,
	&dev_attr_irqs.attr,
	&vslice_engine_watchdog_hits.attr.attr,
	&vslice_engine_ctx_switches.attr.attr,
	NULL
};

static const struct attribute_group vslice_edu_inst_group = {
	.name	= VSLICE_NAME,
	.attrs	= vslice_edu_inst_attrs,
};

static const struct attribute_group *vslice_edu_inst_groups[] = {
	&vslice_edu_inst_group,
	NULL
};

/* edu instances: the shared mdev driver, with their own attributes. */
struct mdev_driver vslice_edu_mdev_driver = {
	.device_api		= VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name		= VSLICE_NAME "-edu",
		.owner		= THIS_MODULE,
		.mod_name	= KBUILD_MODNAME,
		.dev_groups	= vslice_edu_inst_groups,
	},
	.probe			= vslice_mdev_probe,
	.remove			= vslice_mdev_remove,
	.get_available		= vslice_type_available,
	.show_description	= vslice_type_description,
};
