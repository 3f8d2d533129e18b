/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Driving an edu instance (vslice's second model, QEMU's edu) through the
 * vfio-pci uapi, as a VMM does: its registers, jobs, interrupts and
 * scheduler knobs.  Shared by edu_test, fuzz_test and the bench.
 */
#ifndef VSLICE_LIB_EDU_H
#define VSLICE_LIB_EDU_H

#include <stdbool.h>
#include <time.h>

#include "vslice.h"

#define EDU_TYPE		"vslice-edu"
#define EDU_REVISION		0x10
#define EDU_CLASS		0x00ff00
#define EDU_MSI_POS		0x40
#define EDU_BAR0_SIZE		VSLICE_MIB
#define CFG_SIZE		256

/* EDU_BAR0's registers */
#define EDU_ID			0x00
#define EDU_LIVENESS		0x04
#define EDU_FACT		0x08
#define EDU_STATUS		0x20
#define EDU_IRQ_STATUS		0x24
#define EDU_IRQ_RAISE		0x60
#define EDU_IRQ_ACK		0x64
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_COUNT		0x90
#define EDU_DMA_CMD		0x98

#define EDU_ID_VALUE		0x010000ed
#define EDU_STATUS_COMPUTING	0x01
#define EDU_STATUS_IRQFACT	0x80
#define EDU_IRQ_FACT		0x001
#define EDU_IRQ_DMA		0x100
#define EDU_DMA_RUN		0x1
#define EDU_DMA_TO_RAM		0x2	/* direction: device buffer -> RAM */
#define EDU_DMA_IRQ		0x4
#define EDU_DMA_ERROR		0x8	/* vslice's: the last DMA was refused */
#define EDU_BUF			0x40000ULL
#define EDU_BUF_SIZE		4096

#define EDU_BAR0(off)	(VSLICE_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX) + (off))
/* What the wait for a DMA returns when it did not finish. */
#define EDU_DMA_TIMEOUT	(~0ULL)

#define EDU_JOB_MS		5000	/* one job, queueing behind others included */
#define EDU_QUIET_MS	200	/* "nothing (more) fires" */

/*
 * Each instance's RAM: 64 KiB of anonymous memory at its own IOVA.  All
 * IOVAs stay below 256 MiB, within the 28-bit DMA mask of QEMU's edu.
 */
#define EDU_RAM_LEN		(64 * 1024UL)

/**
 * struct edu - one instance, open, with its RAM mapped for its DMA
 * @uuid: the instance
 * @dev: it, opened through VFIO (its own container or IOAS)
 * @fd: @dev's device
 * @ram: EDU_RAM_LEN bytes mapped at @iova in @dev's container or IOAS
 * @iova: where
 */
struct edu {
	char uuid[VSLICE_UUID_LEN];
	struct vslice_dev dev;
	int fd;
	u8 *ram;
	u64 iova;
};

/* Most arguments a loader cycles through, most loaders at once. */
#define EDU_LOADER_MIX		4
#define EDU_LOADERS_MAX		8

/**
 * struct edu_loader - a tenant that keeps the engine busy with factorials
 * @e: its instance
 * @n: the arguments, in turn (a 0 after the first ends the list)
 * @stop: set to end the loop
 * @jobs: factorials done
 * @waits: if set, each job's wait in the queue (ns) goes here...
 * @nwaits: ...this many so far...
 * @max_waits: ...at most
 * @longest: with @waits: the longest job's engine time (ns)
 */
struct edu_loader {
	struct edu *e;
	u32 n[EDU_LOADER_MIX];
	int stop;
	unsigned int jobs;
	double *waits;
	unsigned int nwaits;
	unsigned int max_waits;
	long long longest;
};

u64 edu_rd(int fd, u32 off, unsigned int size);
void edu_wr(int fd, u32 off, unsigned int size, u64 val);
u32 edu_rd32(int fd, u32 off);
void edu_wr32(int fd, u32 off, u32 val);
u64 edu_rd64(int fd, u32 off);
void edu_wr64(int fd, u32 off, u64 val);
long long edu_ms_since(const struct timespec *t0);
bool edu_wait_clear(int fd, u32 off, unsigned int size, u64 mask,
		    u64 *last);
bool edu_fact(int fd, u32 n, u32 *result);
u64 edu_dma(int fd, u64 src, u64 dst, u64 count, u64 cmd);
u64 edu_to_buf(int fd, u64 iova, u32 off, u64 count, u64 cmd);
u64 edu_from_buf(int fd, u32 off, u64 iova, u64 count, u64 cmd);
bool edu_dma_ok(u64 cmd);
bool edu_dma_refused(u64 cmd);
int edu_irq_action_eventfd(int fd, u32 index, u32 action, int efd);
int edu_irq_eventfd(int fd, u32 index, int efd);
int edu_irq_action(int fd, u32 index, u32 action, u32 count);
int edu_irq_disable(int fd, u32 index);
u64 edu_events(int efd, int ms);
void edu_open_assert(const char *bdf, struct edu *e, u64 iova);
int edu_close(struct edu *e);
long long edu_counter(const struct edu *e, const char *name);
long long edu_counter_settled(const struct edu *e, const char *name,
			      long long want);
int edu_knob(const struct edu *e, const char *name, const char *val);
int edu_set_policy(const char *bdf, const char *policy);
long long edu_counter_reach(const struct edu *e, const char *name,
			    long long want);
long long edu_fact_ns(const struct edu *e, u32 n);
long long edu_dma_ns(const struct edu *e, u64 count);
u32 edu_fact_for_ms(const struct edu *e, unsigned int ms);
void *edu_loader_run(void *arg);
void edu_load_for(struct edu_loader *l, unsigned int n, unsigned int ms,
		  long long *engine);
double edu_share_error(const long long *engine, const double *want,
		       unsigned int n);

#endif /* VSLICE_LIB_EDU_H */
