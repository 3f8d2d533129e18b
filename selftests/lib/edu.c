// SPDX-License-Identifier: GPL-2.0-only
/*
 * Driving an edu instance through the vfio-pci uapi (see edu.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "edu.h"

/* One access of @size bytes to EDU_BAR0 (the edu's registers). */
u64 edu_rd(int fd, u32 off, unsigned int size)
{
	u64 val = 0;
	ssize_t n = pread(fd, &val, size, EDU_BAR0(off));

	if (n != (ssize_t)size)
		VSLICE_FAIL("read of %u bytes at 0x%x of EDU_BAR0 returned %zd",
			    size, off, n);
	return val;
}

void edu_wr(int fd, u32 off, unsigned int size, u64 val)
{
	ssize_t n = pwrite(fd, &val, size, EDU_BAR0(off));

	if (n != (ssize_t)size)
		VSLICE_FAIL("write of %u bytes at 0x%x of EDU_BAR0 returned %zd",
			    size, off, n);
}

u32 edu_rd32(int fd, u32 off)
{
	return edu_rd(fd, off, 4);
}

void edu_wr32(int fd, u32 off, u32 val)
{
	edu_wr(fd, off, 4, val);
}

u64 edu_rd64(int fd, u32 off)
{
	return edu_rd(fd, off, 8);
}

void edu_wr64(int fd, u32 off, u64 val)
{
	edu_wr(fd, off, 8, val);
}

long long edu_ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000LL +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * Poll register @off (@size bytes) until the bits of @mask are clear;
 * false if they are not within EDU_JOB_MS.  *@last is the last value read.
 */
bool edu_wait_clear(int fd, u32 off, unsigned int size, u64 mask,
		    u64 *last)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		*last = edu_rd(fd, off, size);
		if (!(*last & mask))
			return true;
		if (edu_ms_since(&t0) > EDU_JOB_MS)
			return false;
		usleep(1000);
	}
}

/* n! by the engine, once status bit 0 is clear; false on a timeout. */
bool edu_fact(int fd, u32 n, u32 *result)
{
	u64 status;

	edu_wr32(fd, EDU_FACT, n);
	if (!edu_wait_clear(fd, EDU_STATUS, 4, EDU_STATUS_COMPUTING,
			    &status)) {
		fprintf(stderr, "# %u! still computing after %d ms\n", n,
			EDU_JOB_MS);
		return false;
	}
	*result = edu_rd32(fd, EDU_FACT);
	return true;
}

/*
 * One DMA of @count bytes from @src to @dst, @cmd its direction and
 * interrupt bits; returns the command register once bit 0 has cleared,
 * or EDU_DMA_TIMEOUT.
 */
u64 edu_dma(int fd, u64 src, u64 dst, u64 count, u64 cmd)
{
	u64 last;

	edu_wr64(fd, EDU_DMA_SRC, src);
	edu_wr64(fd, EDU_DMA_DST, dst);
	edu_wr64(fd, EDU_DMA_COUNT, count);
	edu_wr64(fd, EDU_DMA_CMD, cmd | EDU_DMA_RUN);
	if (!edu_wait_clear(fd, EDU_DMA_CMD, 8, EDU_DMA_RUN, &last))
		return EDU_DMA_TIMEOUT;
	return last;
}

/* RAM at @iova -> the device buffer at @off. */
u64 edu_to_buf(int fd, u64 iova, u32 off, u64 count, u64 cmd)
{
	return edu_dma(fd, iova, EDU_BUF + off, count, cmd);
}

/* The device buffer at @off -> RAM at @iova. */
u64 edu_from_buf(int fd, u32 off, u64 iova, u64 count, u64 cmd)
{
	return edu_dma(fd, EDU_BUF + off, iova, count, cmd | EDU_DMA_TO_RAM);
}

/* Did the DMA that ended with command @cmd complete, unrefused?  Says why. */
bool edu_dma_ok(u64 cmd)
{
	if (cmd == EDU_DMA_TIMEOUT)
		fprintf(stderr, "# the DMA did not finish within %d ms\n",
			EDU_JOB_MS);
	else if (cmd & EDU_DMA_ERROR)
		fprintf(stderr, "# the DMA was refused (command 0x%llx)\n",
			cmd);
	return cmd != EDU_DMA_TIMEOUT && !(cmd & EDU_DMA_ERROR);
}

/* Was it refused, and did it complete all the same? */
bool edu_dma_refused(u64 cmd)
{
	if (cmd == EDU_DMA_TIMEOUT)
		fprintf(stderr, "# the DMA did not finish within %d ms\n",
			EDU_JOB_MS);
	else if (!(cmd & EDU_DMA_ERROR))
		fprintf(stderr, "# the DMA was not refused (command 0x%llx)\n",
			cmd);
	return cmd != EDU_DMA_TIMEOUT && (cmd & EDU_DMA_ERROR);
}

/* VFIO_DEVICE_SET_IRQS: @efd (-1: none) for @action of @index's vector. */
int edu_irq_action_eventfd(int fd, u32 index, u32 action, int efd)
{
	struct {
		struct vfio_irq_set hdr;
		s32 fd;
	} set = {
		.hdr.argsz = sizeof(set),
		.hdr.flags = VFIO_IRQ_SET_DATA_EVENTFD | action,
		.hdr.index = index,
		.hdr.count = 1,
		.fd = efd,
	};

	return ioctl(fd, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0;
}

/* VFIO_DEVICE_SET_IRQS: @efd as the trigger of @index's one vector. */
int edu_irq_eventfd(int fd, u32 index, int efd)
{
	return edu_irq_action_eventfd(fd, index, VFIO_IRQ_SET_ACTION_TRIGGER,
				      efd);
}

/* @action (MASK, UNMASK) on @index's vector; TRIGGER with count 0 disables. */
int edu_irq_action(int fd, u32 index, u32 action, u32 count)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | action,
		.index = index,
		.count = count,
	};

	return ioctl(fd, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0;
}

int edu_irq_disable(int fd, u32 index)
{
	return edu_irq_action(fd, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0);
}

/*
 * How often @efd fired: waits up to @ms for the first event, then for
 * more until none comes for EDU_QUIET_MS.
 */
u64 edu_events(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	u64 total = 0, v;

	while (poll(&p, 1, ms) == 1 && read(efd, &v, sizeof(v)) == sizeof(v)) {
		total += v;
		ms = EDU_QUIET_MS;
	}
	return total;
}

/* Create and open an instance, bus master on, its RAM mapped at @iova. */
void edu_open_assert(const char *bdf, struct edu *e, u64 iova)
{
	int ret;

	vslice_create_assert(bdf, EDU_TYPE, e->uuid);
	vslice_dev_open_assert(&e->dev, e->uuid);
	e->fd = e->dev.fd;
	/* what a guest's driver turns on before it uses the device */
	vslice_cfg_write(e->fd, PCI_COMMAND, 2,
			 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	e->ram = mmap(NULL, EDU_RAM_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	VSLICE_ASSERT(e->ram != MAP_FAILED, "no memory for the DMA");
	e->iova = iova;
	ret = vslice_map_dma(&e->dev, e->ram, EDU_RAM_LEN, iova);
	VSLICE_ASSERT(!ret, "mapping %lu bytes at IOVA 0x%llx for %s: %d",
		      EDU_RAM_LEN, iova, e->uuid, ret);
}

/* Unmap its RAM (the device still open) and close it. */
int edu_close(struct edu *e)
{
	int ret = 0;

	if (e->ram && e->ram != MAP_FAILED) {
		ret = vslice_unmap_dma(&e->dev, EDU_RAM_LEN, e->iova);
		munmap(e->ram, EDU_RAM_LEN);
	}
	e->ram = NULL;
	vslice_dev_close(&e->dev);
	return ret;
}

long long edu_counter(const struct edu *e, const char *name)
{
	return vslice_inst_attr_ll(e->uuid, name);
}

/*
 * Counter @name once it has reached @want (it may be bumped just after
 * the register that said the job was done), or after EDU_JOB_MS; then once
 * more after EDU_QUIET_MS, so that a count past @want shows too.
 */
long long edu_counter_settled(const struct edu *e, const char *name,
			      long long want)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (edu_counter(e, name) < want && edu_ms_since(&t0) < EDU_JOB_MS)
		usleep(10000);
	usleep(EDU_QUIET_MS * 1000);
	return edu_counter(e, name);
}

/* Write @val to the instance's knob @name: 0 or -errno. */
int edu_knob(const struct edu *e, const char *name, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/vslice/%s",
		 e->uuid, name);
	return vslice_sysfs_write(path, val);
}

int edu_set_policy(const char *bdf, const char *policy)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vslice/sched_policy",
		 bdf);
	return vslice_sysfs_write(path, policy);
}

/* Counter @name once it has reached @want, or after EDU_JOB_MS. */
long long edu_counter_reach(const struct edu *e, const char *name,
			    long long want)
{
	struct timespec t0;
	long long v;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((v = edu_counter(e, name)) < want && edu_ms_since(&t0) < EDU_JOB_MS)
		usleep(1000);
	return v;
}

/* Engine time of one factorial of @n, from the counter; -1 on failure. */
long long edu_fact_ns(const struct edu *e, u32 n)
{
	long long jobs = edu_counter(e, "jobs"), before = edu_counter(e, "engine_ns");
	u32 result;

	if (!edu_fact(e->fd, n, &result) ||
	    edu_counter_reach(e, "jobs", jobs + 1) != jobs + 1)
		return -1;
	return edu_counter(e, "engine_ns") - before;
}

/* Engine time of a DMA of @count bytes into the buffer; -1 on failure. */
long long edu_dma_ns(const struct edu *e, u64 count)
{
	long long jobs = edu_counter(e, "jobs");
	long long before = edu_counter(e, "engine_ns");

	if (!edu_dma_ok(edu_to_buf(e->fd, e->iova, 0, count, 0)) ||
	    edu_counter_reach(e, "jobs", jobs + 1) != jobs + 1)
		return -1;
	return edu_counter(e, "engine_ns") - before;
}

/*
 * The argument whose factorial keeps the engine busy about @ms: edu's
 * factorial loops n times, at a speed this VM cannot know beforehand.
 */
u32 edu_fact_for_ms(const struct edu *e, unsigned int ms)
{
	u32 n = 1u << 20;
	double want = ms * 1e6, scaled;
	long long ns = 0;
	int i;

	for (i = 0; i < 10; i++) {
		ns = edu_fact_ns(e, n);
		if (ns <= 0)
			return 0;
		if (ns >= want / 4 || n >= (1u << 30))
			break;
		n *= 4;
	}
	/* the least of three: a loaded host only ever makes one slower */
	for (i = 0; i < 2; i++) {
		long long again = edu_fact_ns(e, n);

		if (again <= 0)
			return 0;
		ns = again < ns ? again : ns;
	}
	scaled = (double)n * want / ns;
	return scaled > 4e9 ? 4000000000u : (u32)scaled;
}

/*
 * A tenant that keeps the engine busy: factorials of its arguments in
 * turn, one after the other, recording each job's wait and engine time
 * if asked.
 */
void *edu_loader_run(void *arg)
{
	struct edu_loader *l = arg;
	long long jobs = 0, queued = 0, engine = 0;
	unsigned int k = 0;
	u32 result;

	while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		if (l->waits) {
			jobs = edu_counter(l->e, "jobs");
			queued = edu_counter(l->e, "queued_ns");
			engine = edu_counter(l->e, "engine_ns");
		}
		if (!edu_fact(l->e->fd, l->n[k], &result))
			break;
		l->jobs++;
		if (++k == EDU_LOADER_MIX || !l->n[k])
			k = 0;
		if (!l->waits)
			continue;
		if (edu_counter_reach(l->e, "jobs", jobs + 1) != jobs + 1)
			break;
		engine = edu_counter(l->e, "engine_ns") - engine;
		if (engine > l->longest)
			l->longest = engine;
		if (l->nwaits < l->max_waits)
			l->waits[l->nwaits++] = edu_counter(l->e, "queued_ns") -
						queued;
	}
	return NULL;
}

/*
 * Run @n loaders for @ms (after 200 ms for every queue to fill); each
 * one's engine time in that window goes to @engine.
 */
void edu_load_for(struct edu_loader *l, unsigned int n, unsigned int ms,
		  long long *engine)
{
	pthread_t th[EDU_LOADERS_MAX];
	unsigned int i;

	for (i = 0; i < n && i < EDU_LOADERS_MAX; i++) {
		l[i].stop = 0;
		pthread_create(&th[i], NULL, edu_loader_run, &l[i]);
	}
	usleep(200 * 1000);
	for (i = 0; i < n; i++)
		engine[i] = -edu_counter(l[i].e, "engine_ns");
	usleep(ms * 1000);
	for (i = 0; i < n; i++)
		engine[i] += edu_counter(l[i].e, "engine_ns");
	for (i = 0; i < n; i++)
		__atomic_store_n(&l[i].stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

/* Largest |share - want| / want of @n tenants' engine times. */
double edu_share_error(const long long *engine, const double *want,
		       unsigned int n)
{
	double total = 0, err = 0, share, e;
	unsigned int i;

	for (i = 0; i < n; i++)
		total += engine[i];
	for (i = 0; i < n; i++) {
		share = total > 0 ? engine[i] / total : 0;
		e = (share > want[i] ? share - want[i] : want[i] - share) /
		    want[i];
		if (e > err)
			err = e;
	}
	return err;
}
