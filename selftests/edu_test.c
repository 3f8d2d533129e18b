// SPDX-License-Identifier: GPL-2.0-only
/*
 * The edu parent: QEMU's educational device (1234:11e8), bound to vslice,
 * shared in time.  Each instance of its one type, vslice-edu, is a whole
 * virtual edu: config space with an MSI capability, EDU_BAR0's registers, the
 * factorial unit and the DMA engine (with its own 4 KiB buffer) queued on
 * the one physical engine, INTx and MSI with vfio-pci's semantics, and
 * DMA that reaches only what its own container (or IOAS) maps.  Driven
 * through the vfio-pci uapi, as a VMM would.
 *
 * A DMA takes about 100 ms (edu's own timer) and a switch of the engine
 * between tenants about as much, so every job is waited for by polling
 * with a generous timeout (EDU_JOB_MS), never for a fixed time; only the
 * checks that nothing (more) fires wait a short, fixed EDU_QUIET_MS.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "kselftest_harness.h"
#include "lib/edu.h"

#define MAX_INSTS	4
/* Each instance's RAM (EDU_RAM_LEN) at its own IOVA, below 256 MiB. */
#define IOVA(i)		(0x1000000ULL * ((i) + 1))
#define IOVA_OTHER	0x8000000ULL	/* a second mapping */
#define IOVA_UNMAPPED	0xf000000ULL	/* never mapped */

/* Byte @i of the pattern of @seed (a hash of both). */
static u8 pattern(u64 seed, size_t i)
{
	u64 x = (seed + 1) * 0x9e3779b97f4a7c15ULL + i;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 29);
}

static void fill(u8 *p, size_t len, u64 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pattern(seed, i);
}

/* Offset of the first byte that differs from the pattern, or -1. */
static long long check(const u8 *p, size_t len, u64 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pattern(seed, i))
			return i;
	return -1;
}

/* Offset of the first byte that is not @c, or -1. */
static long long check_byte(const u8 *p, size_t len, u8 c)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != c)
			return i;
	return -1;
}

FIXTURE(edu) {
	char bdf[VSLICE_BDF_LEN];
	struct edu e[MAX_INSTS];
	int kmsg;
};

/* Every test starts with one instance, e[0], on an otherwise empty parent. */
FIXTURE_SETUP(edu)
{
	const char *bdf;
	int i;

	self->kmsg = -1;
	for (i = 0; i < MAX_INSTS; i++) {
		memset(&self->e[i], 0, sizeof(self->e[i]));
		vslice_dev_init(&self->e[i].dev);
	}
	bdf = vslice_edu_parent();
	if (!bdf)
		SKIP(return, "no edu (1234:11e8) in this machine");
	snprintf(self->bdf, sizeof(self->bdf), "%s", bdf);
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	self->kmsg = vslice_kmsg_open();
	edu_open_assert(self->bdf, &self->e[0], IOVA(0));
}

FIXTURE_TEARDOWN(edu)
{
	int i;

	for (i = 0; i < MAX_INSTS; i++)
		EXPECT_EQ(0, edu_close(&self->e[i]));
	if (self->kmsg < 0)
		return;
	EXPECT_EQ(0, vslice_remove_all(self->bdf));
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
}

/* Config space, BAR sizing, regions and interrupts: a whole edu. */
TEST_F(edu, identity)
{
	static const u32 bars[] = {
		PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_1, PCI_BASE_ADDRESS_2,
		PCI_BASE_ADDRESS_3, PCI_BASE_ADDRESS_4, PCI_BASE_ADDRESS_5,
		PCI_ROM_ADDRESS,
	};
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	struct vfio_region_info rinfo;
	struct vfio_irq_info iinfo;
	int fd = self->e[0].fd;
	u32 i, orig, sized;
	void *map;

	ASSERT_EQ(VSLICE_BOCHS_VENDOR, vslice_cfg_read(fd, PCI_VENDOR_ID, 2));
	ASSERT_EQ(VSLICE_EDU_DEVICE, vslice_cfg_read(fd, PCI_DEVICE_ID, 2));
	ASSERT_EQ(EDU_REVISION, vslice_cfg_read(fd, PCI_REVISION_ID, 1));
	ASSERT_EQ(EDU_CLASS, vslice_cfg_read(fd, PCI_CLASS_REVISION, 4) >> 8);
	ASSERT_EQ(0xff, vslice_cfg_read(fd, PCI_CLASS_DEVICE, 1));
	ASSERT_EQ(0x00, vslice_cfg_read(fd, PCI_CLASS_DEVICE + 1, 1));
	ASSERT_EQ(PCI_HEADER_TYPE_NORMAL,
		  vslice_cfg_read(fd, PCI_HEADER_TYPE, 1));
	ASSERT_EQ(VSLICE_SUBSYS_VENDOR,
		  vslice_cfg_read(fd, PCI_SUBSYSTEM_VENDOR_ID, 2));
	ASSERT_EQ(VSLICE_SUBSYS_DEVICE,
		  vslice_cfg_read(fd, PCI_SUBSYSTEM_ID, 2));
	ASSERT_EQ(1, vslice_cfg_read(fd, PCI_INTERRUPT_PIN, 1));	/* INTA */

	/* one capability: MSI, 64-bit, one vector, not enabled */
	ASSERT_NE(0, vslice_cfg_read(fd, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	ASSERT_EQ(EDU_MSI_POS, vslice_cfg_read(fd, PCI_CAPABILITY_LIST, 1));
	ASSERT_EQ(PCI_CAP_ID_MSI, vslice_cfg_read(fd, EDU_MSI_POS, 1));
	ASSERT_EQ(0, vslice_cfg_read(fd, EDU_MSI_POS + PCI_CAP_LIST_NEXT, 1));
	ASSERT_EQ(PCI_MSI_FLAGS_64BIT,
		  vslice_cfg_read(fd, EDU_MSI_POS + PCI_MSI_FLAGS, 2));

	/* EDU_BAR0: 1 MiB of 32-bit non-prefetchable memory; no other BAR */
	ASSERT_EQ(0, vslice_cfg_read(fd, PCI_BASE_ADDRESS_0, 4) & 0xf);
	for (i = 0; i < ARRAY_SIZE(bars); i++) {
		orig = vslice_cfg_read(fd, bars[i], 4);
		vslice_cfg_write(fd, bars[i], 4, 0xffffffff);
		sized = vslice_cfg_read(fd, bars[i], 4);
		EXPECT_EQ(i ? 0 : (u32)~(EDU_BAR0_SIZE - 1), sized) {
			TH_LOG("BAR at 0x%x sized 0x%x", bars[i], sized);
		}
		vslice_cfg_write(fd, bars[i], 4, orig);
		EXPECT_EQ(orig, vslice_cfg_read(fd, bars[i], 4));
	}

	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_GET_INFO, &dinfo));
	ASSERT_NE(0, dinfo.flags & VFIO_DEVICE_FLAGS_PCI);
	ASSERT_LE(VFIO_PCI_NUM_REGIONS, dinfo.num_regions);
	ASSERT_EQ(VFIO_PCI_NUM_IRQS, dinfo.num_irqs);

	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		vslice_region_info(fd, i, &rinfo);
		if (i == VFIO_PCI_CONFIG_REGION_INDEX) {
			ASSERT_EQ(CFG_SIZE, rinfo.size);
		} else if (i == VFIO_PCI_BAR0_REGION_INDEX) {
			ASSERT_EQ(EDU_BAR0_SIZE, rinfo.size);
		} else {
			EXPECT_EQ(0, rinfo.size) TH_LOG("region %u", i);
			continue;
		}
		/* registers only: read and written, never mapped */
		ASSERT_EQ(VFIO_REGION_INFO_FLAG_READ |
			  VFIO_REGION_INFO_FLAG_WRITE, rinfo.flags);
		ASSERT_EQ(VSLICE_REGION_OFFSET(i), rinfo.offset);
	}
	map = mmap(NULL, EDU_BAR0_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, EDU_BAR0(0));
	ASSERT_EQ(MAP_FAILED, map) {
		munmap(map, EDU_BAR0_SIZE);
	}

	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		memset(&iinfo, 0, sizeof(iinfo));
		iinfo.argsz = sizeof(iinfo);
		iinfo.index = i;
		ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &iinfo));
		switch (i) {
		case VFIO_PCI_INTX_IRQ_INDEX:
			ASSERT_EQ(1, iinfo.count);
			ASSERT_EQ(VFIO_IRQ_INFO_EVENTFD |
				  VFIO_IRQ_INFO_MASKABLE |
				  VFIO_IRQ_INFO_AUTOMASKED, iinfo.flags);
			break;
		case VFIO_PCI_MSI_IRQ_INDEX:
			ASSERT_EQ(1, iinfo.count);
			ASSERT_EQ(VFIO_IRQ_INFO_EVENTFD |
				  VFIO_IRQ_INFO_NORESIZE, iinfo.flags);
			break;
		case VFIO_PCI_REQ_IRQ_INDEX:
			ASSERT_EQ(1, iinfo.count);
			ASSERT_NE(0, iinfo.flags & VFIO_IRQ_INFO_EVENTFD);
			break;
		default:	/* MSI-X, ERR */
			EXPECT_EQ(0, iinfo.count) TH_LOG("irq index %u", i);
		}
	}
}

/* EDU_BAR0's registers, and accesses of the wrong size. */
TEST_F(edu, registers)
{
	static const u32 live[] = { 0, 0x12345678, 0xffffffff, 0x5a5a0ff0 };
	static const struct {
		u32 off;
		unsigned int size;
	} wrong[] = {
		{ EDU_ID, 1 }, { EDU_ID, 2 }, { EDU_ID, 8 },
		{ EDU_LIVENESS, 1 }, { EDU_LIVENESS, 2 }, { EDU_LIVENESS, 8 },
		{ EDU_FACT, 2 }, { EDU_STATUS, 1 }, { EDU_IRQ_STATUS, 2 },
		{ EDU_IRQ_STATUS, 8 }, { EDU_DMA_SRC, 1 }, { EDU_DMA_SRC, 2 },
		{ EDU_DMA_COUNT, 1 }, { EDU_DMA_COUNT, 2 }, { EDU_DMA_CMD, 1 },
		{ EDU_DMA_CMD, 2 },
	};
	int fd = self->e[0].fd;
	u64 ones;
	u32 i;

	ASSERT_EQ(EDU_ID_VALUE, edu_rd32(fd, EDU_ID));
	edu_wr32(fd, EDU_ID, 0x12345678);
	ASSERT_EQ(EDU_ID_VALUE, edu_rd32(fd, EDU_ID));

	for (i = 0; i < ARRAY_SIZE(live); i++) {
		edu_wr32(fd, EDU_LIVENESS, live[i]);
		ASSERT_EQ(~live[i], edu_rd32(fd, EDU_LIVENESS));
	}

	/* status: bit 0 read-only (nothing computes), bit 7 read-write */
	ASSERT_EQ(0, edu_rd32(fd, EDU_STATUS) & EDU_STATUS_COMPUTING);
	edu_wr32(fd, EDU_STATUS, EDU_STATUS_IRQFACT);
	ASSERT_EQ(EDU_STATUS_IRQFACT, edu_rd32(fd, EDU_STATUS));
	edu_wr32(fd, EDU_STATUS, 0);
	ASSERT_EQ(0, edu_rd32(fd, EDU_STATUS));
	edu_wr32(fd, EDU_STATUS, 0xffffffff);
	ASSERT_EQ(EDU_STATUS_IRQFACT, edu_rd32(fd, EDU_STATUS));
	edu_wr32(fd, EDU_STATUS, EDU_STATUS_COMPUTING);
	ASSERT_EQ(0, edu_rd32(fd, EDU_STATUS));

	/* raise ORs in, acknowledge clears; the status itself is read-only */
	ASSERT_EQ(0, edu_rd32(fd, EDU_IRQ_STATUS));
	edu_wr32(fd, EDU_IRQ_RAISE, 0x1234);
	ASSERT_EQ(0x1234, edu_rd32(fd, EDU_IRQ_STATUS));
	edu_wr32(fd, EDU_IRQ_RAISE, 0x80000000);
	ASSERT_EQ(0x80001234, edu_rd32(fd, EDU_IRQ_STATUS));
	edu_wr32(fd, EDU_IRQ_STATUS, 0);
	ASSERT_EQ(0x80001234, edu_rd32(fd, EDU_IRQ_STATUS));
	edu_wr32(fd, EDU_IRQ_ACK, 0x1030);
	ASSERT_EQ(0x80000204, edu_rd32(fd, EDU_IRQ_STATUS));
	edu_wr32(fd, EDU_IRQ_ACK, 0xffffffff);
	ASSERT_EQ(0, edu_rd32(fd, EDU_IRQ_STATUS));

	/* the DMA registers hold 64 bits; a 4-byte read gives the low half */
	ASSERT_EQ(0, edu_rd64(fd, EDU_DMA_CMD) & (EDU_DMA_RUN | EDU_DMA_ERROR));
	edu_wr64(fd, EDU_DMA_SRC, 0x123456789abcdef0ULL);
	edu_wr64(fd, EDU_DMA_DST, 0x0fedcba987654321ULL);
	edu_wr64(fd, EDU_DMA_COUNT, 0x777);
	ASSERT_EQ(0x123456789abcdef0ULL, edu_rd64(fd, EDU_DMA_SRC));
	ASSERT_EQ(0x0fedcba987654321ULL, edu_rd64(fd, EDU_DMA_DST));
	ASSERT_EQ(0x777, edu_rd64(fd, EDU_DMA_COUNT));
	ASSERT_EQ(0x9abcdef0, edu_rd32(fd, EDU_DMA_SRC));
	ASSERT_EQ(0x777, edu_rd32(fd, EDU_DMA_COUNT));

	/* the wrong size: a read gives all ones, a write does nothing */
	edu_wr32(fd, EDU_LIVENESS, 0x1111);
	for (i = 0; i < ARRAY_SIZE(wrong); i++) {
		ones = wrong[i].size == 8 ? ~0ULL :
		       (1ULL << (wrong[i].size * 8)) - 1;
		EXPECT_EQ(ones, edu_rd(fd, wrong[i].off, wrong[i].size)) {
			TH_LOG("%u-byte read at 0x%x", wrong[i].size,
			       wrong[i].off);
		}
	}
	edu_wr(fd, EDU_LIVENESS, 2, 0x2222);
	edu_wr(fd, EDU_LIVENESS, 1, 0x33);
	edu_wr(fd, EDU_LIVENESS, 8, 0x4444);
	ASSERT_EQ(~0x1111u, edu_rd32(fd, EDU_LIVENESS));
	edu_wr(fd, EDU_STATUS, 1, EDU_STATUS_IRQFACT);
	edu_wr(fd, EDU_STATUS, 8, EDU_STATUS_IRQFACT);
	ASSERT_EQ(0, edu_rd32(fd, EDU_STATUS));
	edu_wr(fd, EDU_IRQ_RAISE, 1, 0x1);
	edu_wr(fd, EDU_IRQ_RAISE, 2, 0x1);
	edu_wr(fd, EDU_IRQ_RAISE, 8, 0x1);
	ASSERT_EQ(0, edu_rd32(fd, EDU_IRQ_STATUS));
	edu_wr(fd, EDU_DMA_COUNT, 1, 0x5);
	edu_wr(fd, EDU_DMA_COUNT, 2, 0x5);
	ASSERT_EQ(0x777, edu_rd64(fd, EDU_DMA_COUNT));
	/* a DMA from that nonsense would be refused (bit 3): none starts */
	edu_wr(fd, EDU_DMA_CMD, 1, EDU_DMA_RUN);
	edu_wr(fd, EDU_DMA_CMD, 2, EDU_DMA_RUN);
	ASSERT_EQ(0, edu_rd64(fd, EDU_DMA_CMD) & (EDU_DMA_RUN | EDU_DMA_ERROR));
	edu_wr(fd, EDU_FACT, 2, 5);
	ASSERT_EQ(0, edu_rd32(fd, EDU_STATUS) & EDU_STATUS_COMPUTING);
}

/* n! for n = 0..13 and 20, wrapping at 32 bits; the FACT interrupt. */
TEST_F(edu, factorial)
{
	static const u32 fact[] = {
		1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880, 3628800,
		39916800, 479001600, 1932053504,
	};
	int fd = self->e[0].fd;
	u32 n, result;

	for (n = 0; n < ARRAY_SIZE(fact); n++) {
		ASSERT_TRUE(edu_fact(fd, n, &result));
		EXPECT_EQ(fact[n], result) TH_LOG("%u!", n);
	}
	ASSERT_TRUE(edu_fact(fd, 20, &result));
	ASSERT_EQ(2192834560u, result);		/* 20! mod 2^32 */
	ASSERT_EQ(0, edu_rd32(fd, EDU_STATUS));
	/* without status bit 7, no interrupt */
	ASSERT_EQ(0, edu_rd32(fd, EDU_IRQ_STATUS));

	edu_wr32(fd, EDU_STATUS, EDU_STATUS_IRQFACT);
	ASSERT_TRUE(edu_fact(fd, 7, &result));
	ASSERT_EQ(5040, result);
	ASSERT_EQ(EDU_STATUS_IRQFACT, edu_rd32(fd, EDU_STATUS));
	ASSERT_EQ(EDU_IRQ_FACT, edu_rd32(fd, EDU_IRQ_STATUS));
	edu_wr32(fd, EDU_IRQ_ACK, EDU_IRQ_FACT);
	ASSERT_EQ(0, edu_rd32(fd, EDU_IRQ_STATUS));
}

/*
 * RAM -> buffer -> RAM: 4096, an odd count at odd offsets, and 1 byte at
 * the buffer's last, each read back to a second mapping; exactly the bytes
 * asked for move, on both sides.
 */
TEST_F(edu, dma_both_ways)
{
	static const struct {
		u32 count, buf_off, src_off, dst_off;
	} c[] = {
		{ 4096, 0, 0x3000, 0x1000 },
		{ 777, 0x123, 0x1005, 0x2003 },
		{ 1, 0xfff, 0x0, 0x0 },
	};
	struct edu *e = &self->e[0];
	u8 model[EDU_BUF_SIZE], *out;
	u64 cmd, regs[3];
	unsigned int i;

	out = mmap(NULL, EDU_RAM_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, out);
	ASSERT_EQ(0, vslice_map_dma(&e->dev, out, EDU_RAM_LEN, IOVA_OTHER));

	/*
	 * The whole buffer first; the registers hold while it runs (when it
	 * is still running after they were written, which it should be:
	 * a DMA takes about 100 ms).
	 */
	fill(e->ram + c[0].src_off, c[0].count, 0);
	memcpy(model, e->ram + c[0].src_off, EDU_BUF_SIZE);
	edu_wr64(e->fd, EDU_DMA_SRC, e->iova + c[0].src_off);
	edu_wr64(e->fd, EDU_DMA_DST, EDU_BUF);
	edu_wr64(e->fd, EDU_DMA_COUNT, EDU_BUF_SIZE);
	edu_wr64(e->fd, EDU_DMA_CMD, EDU_DMA_RUN);
	edu_wr64(e->fd, EDU_DMA_SRC, e->iova);
	edu_wr64(e->fd, EDU_DMA_DST, EDU_BUF + 0x800);
	edu_wr64(e->fd, EDU_DMA_COUNT, 1);
	cmd = edu_rd64(e->fd, EDU_DMA_CMD);
	regs[0] = edu_rd64(e->fd, EDU_DMA_SRC);
	regs[1] = edu_rd64(e->fd, EDU_DMA_DST);
	regs[2] = edu_rd64(e->fd, EDU_DMA_COUNT);
	if (cmd & EDU_DMA_RUN) {
		EXPECT_EQ(e->iova + c[0].src_off, regs[0]);
		EXPECT_EQ(EDU_BUF, regs[1]);
		EXPECT_EQ(EDU_BUF_SIZE, regs[2]);
	} else {
		TH_LOG("the DMA was over before its registers were written again");
	}
	ASSERT_TRUE(edu_wait_clear(e->fd, EDU_DMA_CMD, 8, EDU_DMA_RUN, &cmd));
	ASSERT_TRUE(edu_dma_ok(cmd));

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		if (i) {
			fill(e->ram + c[i].src_off, c[i].count, i);
			memcpy(model + c[i].buf_off, e->ram + c[i].src_off,
			       c[i].count);
			ASSERT_TRUE(edu_dma_ok(edu_to_buf(e->fd,
							  e->iova + c[i].src_off,
						  c[i].buf_off, c[i].count,
						  0)));
		}
		/* those bytes alone, to an odd place of the other mapping */
		memset(out, 0xa5, EDU_RAM_LEN);
		ASSERT_TRUE(edu_dma_ok(edu_from_buf(e->fd, c[i].buf_off,
						    IOVA_OTHER + c[i].dst_off,
					    c[i].count, 0)));
		EXPECT_EQ(-1, check(out + c[i].dst_off, c[i].count, i)) {
			TH_LOG("%u bytes: differ at %lld", c[i].count,
			       check(out + c[i].dst_off, c[i].count, i));
		}
		EXPECT_EQ(-1, check_byte(out, c[i].dst_off, 0xa5))
			TH_LOG("%u bytes: written before", c[i].count);
		EXPECT_EQ(-1, check_byte(out + c[i].dst_off + c[i].count,
					 EDU_RAM_LEN - c[i].dst_off - c[i].count,
					 0xa5))
			TH_LOG("%u bytes: written past", c[i].count);
		/* and the whole buffer: only those bytes changed there */
		ASSERT_TRUE(edu_dma_ok(edu_from_buf(e->fd, 0, IOVA_OTHER + 0x8000,
						    EDU_BUF_SIZE, 0)));
		EXPECT_EQ(0, memcmp(model, out + 0x8000, EDU_BUF_SIZE))
			TH_LOG("%u bytes: the buffer is not what was sent",
			       c[i].count);
		/* the source is only read */
		EXPECT_EQ(-1, check(e->ram + c[i].src_off, c[i].count, i));
	}
	EXPECT_EQ(0, vslice_unmap_dma(&e->dev, EDU_RAM_LEN, IOVA_OTHER));
	munmap(out, EDU_RAM_LEN);
}

/*
 * Refused DMAs: an IOVA not mapped (or only partly), more than 4 KiB, a
 * range outside the buffer, each way.  Each sets command bit 3, completes
 * (and interrupts when asked to), and moves nothing: the RAM is checked
 * directly, the buffer by a good DMA at the end.
 */
TEST_F(edu, dma_errors)
{
	struct edu *e = &self->e[0];
	const u64 sent = 0x4000, iova = e->iova;	/* RAM: [0, 4K) source */
	const struct {
		u64 src, dst, count, cmd;
	} bad[] = {
		/* RAM -> buffer */
		{ IOVA_UNMAPPED, EDU_BUF, 64, 0 },
		{ iova + EDU_RAM_LEN - 16, EDU_BUF, 32, 0 },	/* straddles */
		{ iova, EDU_BUF, EDU_BUF_SIZE + 1, 0 },
		{ iova, EDU_BUF + 0x800, 0x801, 0 },
		{ iova, EDU_BUF - 1, 1, 0 },
		{ iova, EDU_BUF + EDU_BUF_SIZE, 1, 0 },
		{ iova, 0, 16, 0 },
		/* buffer -> RAM */
		{ EDU_BUF, IOVA_UNMAPPED, 64, EDU_DMA_TO_RAM },
		{ EDU_BUF, iova + EDU_RAM_LEN - 16, 32, EDU_DMA_TO_RAM },
		{ EDU_BUF, iova + sent, EDU_BUF_SIZE + 1, EDU_DMA_TO_RAM },
		{ EDU_BUF + 0xf00, iova + sent, 0x101, EDU_DMA_TO_RAM },
		{ EDU_BUF - 0x100, iova + sent, 0x100, EDU_DMA_TO_RAM },
		{ 0, iova + sent, 16, EDU_DMA_TO_RAM },
	};
	int fd = e->fd;
	unsigned int i;
	u64 cmd;

	/* the buffer holds pattern 1; the RAM then a different source */
	fill(e->ram, EDU_BUF_SIZE, 1);
	ASSERT_TRUE(edu_dma_ok(edu_to_buf(fd, iova, 0, EDU_BUF_SIZE, 0)));
	fill(e->ram, EDU_BUF_SIZE, 2);
	memset(e->ram + sent, 0x5a, EDU_RAM_LEN - sent);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		cmd = edu_dma(fd, bad[i].src, bad[i].dst, bad[i].count,
			      bad[i].cmd);
		EXPECT_TRUE(edu_dma_refused(cmd)) {
			TH_LOG("case %u: 0x%llx -> 0x%llx, %llu bytes", i,
			       bad[i].src, bad[i].dst, bad[i].count);
		}
		EXPECT_EQ(0, edu_rd32(fd, EDU_IRQ_STATUS)) TH_LOG("case %u", i);
	}

	/* refused with bit 2: completes with the DMA interrupt all the same */
	cmd = edu_from_buf(fd, 0, IOVA_UNMAPPED, 64, EDU_DMA_IRQ);
	ASSERT_TRUE(edu_dma_refused(cmd));
	ASSERT_EQ(EDU_IRQ_DMA, edu_rd32(fd, EDU_IRQ_STATUS));
	edu_wr32(fd, EDU_IRQ_ACK, EDU_IRQ_DMA);

	/* a command without bit 0 is ignored: bit 3 stays, nothing runs */
	edu_wr64(fd, EDU_DMA_CMD, EDU_DMA_IRQ | EDU_DMA_TO_RAM);
	ASSERT_EQ(cmd, edu_rd64(fd, EDU_DMA_CMD));
	usleep(EDU_QUIET_MS * 1000);
	ASSERT_EQ(cmd, edu_rd64(fd, EDU_DMA_CMD));
	ASSERT_EQ(0, edu_rd32(fd, EDU_IRQ_STATUS));

	/* nothing reached the RAM */
	EXPECT_EQ(-1, check(e->ram, EDU_BUF_SIZE, 2));
	EXPECT_EQ(-1, check_byte(e->ram + sent, EDU_RAM_LEN - sent, 0x5a)) {
		TH_LOG("RAM written at 0x%llx", sent +
		       check_byte(e->ram + sent, EDU_RAM_LEN - sent, 0x5a));
	}
	/* a DMA that starts clears bit 3; the buffer still holds pattern 1 */
	cmd = edu_from_buf(fd, 0, iova + sent, EDU_BUF_SIZE, 0);
	ASSERT_TRUE(edu_dma_ok(cmd));
	EXPECT_EQ(-1, check(e->ram + sent, EDU_BUF_SIZE, 1)) {
		TH_LOG("buffer differs at %lld",
		       check(e->ram + sent, EDU_BUF_SIZE, 1));
	}
}

/*
 * MSI: enabled through VFIO_DEVICE_SET_IRQS (the capability shows it);
 * every raise, and every completion that asks for one, fires the eventfd
 * once; INTx cannot be enabled meanwhile; disabled, nothing fires.
 */
TEST_F(edu, msi)
{
	int fd = self->e[0].fd, efd, efd2;
	u32 result;

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	efd2 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_LE(0, efd2);
	ASSERT_EQ(0, edu_irq_eventfd(fd, VFIO_PCI_MSI_IRQ_INDEX, efd));
	ASSERT_EQ(PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_ENABLE,
		  vslice_cfg_read(fd, EDU_MSI_POS + PCI_MSI_FLAGS, 2));
	ASSERT_EQ(0, edu_events(efd, EDU_QUIET_MS));

	edu_wr32(fd, EDU_IRQ_RAISE, 0x10);
	ASSERT_EQ(1, edu_events(efd, EDU_JOB_MS));
	ASSERT_EQ(0x10, edu_rd32(fd, EDU_IRQ_STATUS));
	/* an edge per raise, pending bits or not */
	edu_wr32(fd, EDU_IRQ_RAISE, 0x10);
	ASSERT_EQ(1, edu_events(efd, EDU_JOB_MS));
	edu_wr32(fd, EDU_IRQ_RAISE, 0x20);
	edu_wr32(fd, EDU_IRQ_RAISE, 0x40);
	edu_wr32(fd, EDU_IRQ_RAISE, 0x80);
	ASSERT_EQ(3, edu_events(efd, EDU_JOB_MS));
	ASSERT_EQ(0xf0, edu_rd32(fd, EDU_IRQ_STATUS));
	/* acknowledging is no interrupt */
	edu_wr32(fd, EDU_IRQ_ACK, 0xf0);
	ASSERT_EQ(0, edu_events(efd, EDU_QUIET_MS));
	ASSERT_EQ(0, edu_rd32(fd, EDU_IRQ_STATUS));

	/* completions: a factorial with status bit 7, a DMA with bit 2 */
	edu_wr32(fd, EDU_STATUS, EDU_STATUS_IRQFACT);
	ASSERT_TRUE(edu_fact(fd, 6, &result));
	ASSERT_EQ(720, result);
	ASSERT_EQ(1, edu_events(efd, EDU_JOB_MS));
	ASSERT_EQ(EDU_IRQ_FACT, edu_rd32(fd, EDU_IRQ_STATUS));
	edu_wr32(fd, EDU_IRQ_ACK, EDU_IRQ_FACT);
	edu_wr32(fd, EDU_STATUS, 0);
	ASSERT_TRUE(edu_fact(fd, 3, &result));
	ASSERT_EQ(0, edu_events(efd, EDU_QUIET_MS));

	ASSERT_TRUE(edu_dma_ok(edu_to_buf(fd, self->e[0].iova, 0, 64, EDU_DMA_IRQ)));
	ASSERT_EQ(1, edu_events(efd, EDU_JOB_MS));
	ASSERT_EQ(EDU_IRQ_DMA, edu_rd32(fd, EDU_IRQ_STATUS));
	edu_wr32(fd, EDU_IRQ_ACK, EDU_IRQ_DMA);
	ASSERT_TRUE(edu_dma_ok(edu_to_buf(fd, self->e[0].iova, 0, 64, 0)));
	ASSERT_EQ(0, edu_events(efd, EDU_QUIET_MS));
	ASSERT_EQ(0, edu_rd32(fd, EDU_IRQ_STATUS));

	/* not INTx as well */
	ASSERT_EQ(-EINVAL, edu_irq_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX, efd2));
	edu_wr32(fd, EDU_IRQ_RAISE, 0x1);
	ASSERT_EQ(1, edu_events(efd, EDU_JOB_MS));
	ASSERT_EQ(0, edu_events(efd2, EDU_QUIET_MS));
	edu_wr32(fd, EDU_IRQ_ACK, 0x1);

	/* disabled: the capability says so, and a raise fires nothing */
	ASSERT_EQ(0, edu_irq_disable(fd, VFIO_PCI_MSI_IRQ_INDEX));
	ASSERT_EQ(PCI_MSI_FLAGS_64BIT,
		  vslice_cfg_read(fd, EDU_MSI_POS + PCI_MSI_FLAGS, 2));
	edu_wr32(fd, EDU_IRQ_RAISE, 0x2);
	ASSERT_EQ(0, edu_events(efd, EDU_QUIET_MS));
	ASSERT_EQ(0x2, edu_rd32(fd, EDU_IRQ_STATUS));
	edu_wr32(fd, EDU_IRQ_ACK, 0x2);

	/* INTx now can be, and then MSI cannot */
	ASSERT_EQ(0, edu_irq_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX, efd2));
	ASSERT_EQ(-EINVAL, edu_irq_eventfd(fd, VFIO_PCI_MSI_IRQ_INDEX, efd));
	ASSERT_EQ(PCI_MSI_FLAGS_64BIT,
		  vslice_cfg_read(fd, EDU_MSI_POS + PCI_MSI_FLAGS, 2));
	ASSERT_EQ(0, edu_irq_disable(fd, VFIO_PCI_INTX_IRQ_INDEX));
	ASSERT_EQ(0, edu_irq_eventfd(fd, VFIO_PCI_MSI_IRQ_INDEX, efd));
	ASSERT_EQ(0, edu_irq_disable(fd, VFIO_PCI_MSI_IRQ_INDEX));
	close(efd);
	close(efd2);
}

/*
 * INTx, level-triggered and automasked: the eventfd fires once when the
 * line goes up unmasked, and masks it; an unmask while it is still up
 * fires again; a mask holds it back until the unmask.
 */
TEST_F(edu, intx)
{
	int fd = self->e[0].fd, efd, efd2;
	u32 result;

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	efd2 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_LE(0, efd2);
	ASSERT_EQ(0, edu_rd32(fd, EDU_IRQ_STATUS));
	ASSERT_EQ(0, edu_irq_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX, efd));
	ASSERT_EQ(0, edu_events(efd, EDU_QUIET_MS));

	/* up: fires once, then masked; more bits while masked: nothing */
	edu_wr32(fd, EDU_IRQ_RAISE, 0x1);
	ASSERT_EQ(1, edu_events(efd, EDU_JOB_MS));
	ASSERT_EQ(0x1, edu_rd32(fd, EDU_IRQ_STATUS));
	edu_wr32(fd, EDU_IRQ_RAISE, 0x2);
	ASSERT_EQ(0, edu_events(efd, EDU_QUIET_MS));
	ASSERT_EQ(0x3, edu_rd32(fd, EDU_IRQ_STATUS));

	/* unmasked while still up: fires again, and is masked again */
	ASSERT_EQ(0, edu_irq_action(fd, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_UNMASK, 1));
	ASSERT_EQ(1, edu_events(efd, EDU_JOB_MS));
	edu_wr32(fd, EDU_IRQ_ACK, 0x1);
	ASSERT_EQ(0x2, edu_rd32(fd, EDU_IRQ_STATUS));
	ASSERT_EQ(0, edu_events(efd, EDU_QUIET_MS));

	/* down, then unmasked: quiet, until the line goes up again */
	edu_wr32(fd, EDU_IRQ_ACK, 0x2);
	ASSERT_EQ(0, edu_rd32(fd, EDU_IRQ_STATUS));
	ASSERT_EQ(0, edu_irq_action(fd, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_UNMASK, 1));
	ASSERT_EQ(0, edu_events(efd, EDU_QUIET_MS));
	edu_wr32(fd, EDU_IRQ_RAISE, 0x4);
	ASSERT_EQ(1, edu_events(efd, EDU_JOB_MS));
	edu_wr32(fd, EDU_IRQ_ACK, 0x4);
	ASSERT_EQ(0, edu_irq_action(fd, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_UNMASK, 1));

	/* masked by the user: held back until the unmask */
	ASSERT_EQ(0, edu_irq_action(fd, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_MASK, 1));
	edu_wr32(fd, EDU_IRQ_RAISE, 0x8);
	ASSERT_EQ(0, edu_events(efd, EDU_QUIET_MS));
	ASSERT_EQ(0x8, edu_rd32(fd, EDU_IRQ_STATUS));
	ASSERT_EQ(0, edu_irq_action(fd, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_UNMASK, 1));
	ASSERT_EQ(1, edu_events(efd, EDU_JOB_MS));
	edu_wr32(fd, EDU_IRQ_ACK, 0x8);
	ASSERT_EQ(0, edu_irq_action(fd, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_UNMASK, 1));
	ASSERT_EQ(0, edu_events(efd, EDU_QUIET_MS));

	/* completions raise the line too */
	edu_wr32(fd, EDU_STATUS, EDU_STATUS_IRQFACT);
	ASSERT_TRUE(edu_fact(fd, 4, &result));
	ASSERT_EQ(24, result);
	ASSERT_EQ(1, edu_events(efd, EDU_JOB_MS));
	ASSERT_EQ(EDU_IRQ_FACT, edu_rd32(fd, EDU_IRQ_STATUS));
	edu_wr32(fd, EDU_IRQ_ACK, EDU_IRQ_FACT);
	edu_wr32(fd, EDU_STATUS, 0);
	ASSERT_EQ(0, edu_irq_action(fd, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_UNMASK, 1));
	ASSERT_TRUE(edu_dma_ok(edu_to_buf(fd, self->e[0].iova, 0, 64, EDU_DMA_IRQ)));
	ASSERT_EQ(1, edu_events(efd, EDU_JOB_MS));
	ASSERT_EQ(EDU_IRQ_DMA, edu_rd32(fd, EDU_IRQ_STATUS));
	edu_wr32(fd, EDU_IRQ_ACK, EDU_IRQ_DMA);
	ASSERT_EQ(0, edu_irq_action(fd, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_UNMASK, 1));

	/* not MSI as well */
	ASSERT_EQ(-EINVAL, edu_irq_eventfd(fd, VFIO_PCI_MSI_IRQ_INDEX, efd2));
	ASSERT_EQ(PCI_MSI_FLAGS_64BIT,
		  vslice_cfg_read(fd, EDU_MSI_POS + PCI_MSI_FLAGS, 2));
	edu_wr32(fd, EDU_IRQ_RAISE, 0x1);
	ASSERT_EQ(1, edu_events(efd, EDU_JOB_MS));
	ASSERT_EQ(0, edu_events(efd2, EDU_QUIET_MS));
	edu_wr32(fd, EDU_IRQ_ACK, 0x1);

	/* disabled: nothing fires */
	ASSERT_EQ(0, edu_irq_disable(fd, VFIO_PCI_INTX_IRQ_INDEX));
	edu_wr32(fd, EDU_IRQ_RAISE, 0x2);
	ASSERT_EQ(0, edu_events(efd, EDU_QUIET_MS));
	edu_wr32(fd, EDU_IRQ_ACK, 0x2);
	close(efd);
	close(efd2);
}

/*
 * The command register's INTx disable bit, as on a PCI 2.3 function (what
 * uio_pci_generic masks with): it holds an asserted line back until it is
 * cleared, the status register's interrupt bit shows the line throughout,
 * and with MSI the line is never shown.  A reset clears the disable bit.
 */
TEST_F(edu, intx_disable)
{
	int fd = self->e[0].fd, efd;
	u16 cmd = vslice_cfg_read(fd, PCI_COMMAND, 2);

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vslice_cfg_read(fd, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	ASSERT_EQ(0, edu_irq_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX, efd));

	vslice_cfg_write(fd, PCI_COMMAND, 2, cmd | PCI_COMMAND_INTX_DISABLE);
	ASSERT_EQ(cmd | PCI_COMMAND_INTX_DISABLE,
		  vslice_cfg_read(fd, PCI_COMMAND, 2));
	edu_wr32(fd, EDU_IRQ_RAISE, 0x1);
	EXPECT_EQ(0, edu_events(efd, EDU_QUIET_MS));
	EXPECT_EQ(PCI_STATUS_INTERRUPT,
		  vslice_cfg_read(fd, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* an unmask changes nothing while disabled */
	ASSERT_EQ(0, edu_irq_action(fd, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_UNMASK, 1));
	EXPECT_EQ(0, edu_events(efd, EDU_QUIET_MS));
	/* enabled again while asserted: fires once (and masks itself) */
	vslice_cfg_write(fd, PCI_COMMAND, 2, cmd);
	EXPECT_EQ(1, edu_events(efd, EDU_JOB_MS));
	EXPECT_EQ(PCI_STATUS_INTERRUPT,
		  vslice_cfg_read(fd, PCI_STATUS, 1) & PCI_STATUS_INTERRUPT);
	edu_wr32(fd, EDU_IRQ_ACK, 0x1);
	EXPECT_EQ(0, vslice_cfg_read(fd, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	ASSERT_EQ(0, edu_irq_action(fd, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_UNMASK, 1));
	EXPECT_EQ(0, edu_events(efd, EDU_QUIET_MS));

	/* a reset clears the bit: the line fires again */
	vslice_cfg_write(fd, PCI_COMMAND, 2, cmd | PCI_COMMAND_INTX_DISABLE);
	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(0, vslice_cfg_read(fd, PCI_COMMAND, 2) &
		     PCI_COMMAND_INTX_DISABLE);
	edu_wr32(fd, EDU_IRQ_RAISE, 0x2);
	EXPECT_EQ(1, edu_events(efd, EDU_JOB_MS));
	edu_wr32(fd, EDU_IRQ_ACK, 0x2);
	ASSERT_EQ(0, edu_irq_disable(fd, VFIO_PCI_INTX_IRQ_INDEX));

	/* with MSI, the line is not shown */
	ASSERT_EQ(0, edu_irq_eventfd(fd, VFIO_PCI_MSI_IRQ_INDEX, efd));
	edu_wr32(fd, EDU_IRQ_RAISE, 0x4);
	EXPECT_EQ(1, edu_events(efd, EDU_JOB_MS));
	EXPECT_EQ(0, vslice_cfg_read(fd, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	edu_wr32(fd, EDU_IRQ_ACK, 0x4);
	ASSERT_EQ(0, edu_irq_disable(fd, VFIO_PCI_MSI_IRQ_INDEX));
	close(efd);
}

/*
 * INTx's unmask eventfd (what QEMU hands KVM's resampler): a write to it
 * unmasks, and INTx fires again while still asserted; the trigger's own
 * eventfd is refused as the unmask one (each would refire the other for
 * ever), as is the unmask one as the trigger.
 */
TEST_F(edu, intx_unmask_eventfd)
{
	int fd = self->e[0].fd, trig, unmask;
	u64 one = 1;

	trig = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	unmask = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, trig);
	ASSERT_LE(0, unmask);
	ASSERT_EQ(0, edu_irq_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX, trig));
	EXPECT_EQ(-EINVAL, edu_irq_action_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX,
						  VFIO_IRQ_SET_ACTION_UNMASK,
						  trig));
	ASSERT_EQ(0, edu_irq_action_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX,
					    VFIO_IRQ_SET_ACTION_UNMASK,
					    unmask));
	EXPECT_EQ(-EINVAL, edu_irq_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX,
					   unmask));

	edu_wr32(fd, EDU_IRQ_RAISE, 0x2);
	EXPECT_EQ(1, edu_events(trig, EDU_JOB_MS));
	/* masked now; the unmask eventfd unmasks, still asserted: again */
	ASSERT_EQ(8, write(unmask, &one, sizeof(one)));
	EXPECT_EQ(1, edu_events(trig, EDU_JOB_MS));
	/* acknowledged: an unmask fires nothing */
	edu_wr32(fd, EDU_IRQ_ACK, 0x2);
	ASSERT_EQ(8, write(unmask, &one, sizeof(one)));
	EXPECT_EQ(0, edu_events(trig, EDU_QUIET_MS));

	EXPECT_EQ(0, edu_irq_action_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX,
					    VFIO_IRQ_SET_ACTION_UNMASK, -1));
	EXPECT_EQ(0, edu_irq_disable(fd, VFIO_PCI_INTX_IRQ_INDEX));
	close(unmask);
	close(trig);
}

/*
 * Two tenants, each in its own container (or IOAS): each buffer is its
 * own, and B's DMA to or from an IOVA only A's container maps is
 * refused, A's memory untouched.
 */
TEST_F(edu, isolation)
{
	struct edu *a = &self->e[0], *b = &self->e[1];
	u64 cmd;

	edu_open_assert(self->bdf, b, IOVA(1));
	fill(a->ram, EDU_BUF_SIZE, 0xa);
	fill(b->ram, EDU_BUF_SIZE, 0xb);
	ASSERT_TRUE(edu_dma_ok(edu_to_buf(a->fd, a->iova, 0, EDU_BUF_SIZE, 0)));
	ASSERT_TRUE(edu_dma_ok(edu_to_buf(b->fd, b->iova, 0, EDU_BUF_SIZE, 0)));
	ASSERT_TRUE(edu_dma_ok(edu_from_buf(a->fd, 0, a->iova + 0x4000,
					    EDU_BUF_SIZE, 0)));
	ASSERT_TRUE(edu_dma_ok(edu_from_buf(b->fd, 0, b->iova + 0x4000,
					    EDU_BUF_SIZE, 0)));
	ASSERT_EQ(-1, check(a->ram + 0x4000, EDU_BUF_SIZE, 0xa));
	ASSERT_EQ(-1, check(b->ram + 0x4000, EDU_BUF_SIZE, 0xb));

	/* A's IOVAs mean nothing to B, either way */
	memset(a->ram + 0x8000, 0x5a, EDU_BUF_SIZE);
	cmd = edu_from_buf(b->fd, 0, a->iova + 0x8000, EDU_BUF_SIZE, 0);
	ASSERT_TRUE(edu_dma_refused(cmd));
	ASSERT_EQ(-1, check_byte(a->ram + 0x8000, EDU_BUF_SIZE, 0x5a));
	cmd = edu_to_buf(b->fd, a->iova, 0, EDU_BUF_SIZE, 0);
	ASSERT_TRUE(edu_dma_refused(cmd));

	/* and both buffers are as their tenants left them */
	memset(b->ram + 0x4000, 0, EDU_BUF_SIZE);
	ASSERT_TRUE(edu_dma_ok(edu_from_buf(b->fd, 0, b->iova + 0x4000,
					    EDU_BUF_SIZE, 0)));
	ASSERT_EQ(-1, check(b->ram + 0x4000, EDU_BUF_SIZE, 0xb));
	memset(a->ram + 0x4000, 0, EDU_BUF_SIZE);
	ASSERT_TRUE(edu_dma_ok(edu_from_buf(a->fd, 0, a->iova + 0x4000,
					    EDU_BUF_SIZE, 0)));
	ASSERT_EQ(-1, check(a->ram + 0x4000, EDU_BUF_SIZE, 0xa));
	ASSERT_EQ(-1, check(a->ram, EDU_BUF_SIZE, 0xa));
}

#define ROUNDS		3

/**
 * struct tenant - one thread of interleaved_load
 * @e: its instance
 * @index: which one
 * @rounds: rounds done and read back intact
 */
struct tenant {
	struct edu *e;
	unsigned int index;
	unsigned int rounds;
};

/*
 * Its own pattern for each round, of its own size at its own buffer
 * offset, to the buffer and back to another page; stops at the first
 * round that goes wrong, saying why.
 */
static void *tenant_run(void *arg)
{
	struct tenant *t = arg;
	struct edu *e = t->e;
	unsigned int r;

	for (r = 0; r < ROUNDS; r++) {
		u64 seed = 0x100 * (t->index + 1) + r;
		u32 count = EDU_BUF_SIZE - 512 * r - 8 * t->index;
		u32 off = EDU_BUF_SIZE - count;
		long long bad;

		fill(e->ram, count, seed);
		memset(e->ram + 0x8000, 0, count);
		if (!edu_dma_ok(edu_to_buf(e->fd, e->iova, off, count, 0)) ||
		    !edu_dma_ok(edu_from_buf(e->fd, off, e->iova + 0x8000, count, 0))) {
			fprintf(stderr, "# tenant %u, round %u\n", t->index, r);
			break;
		}
		bad = check(e->ram + 0x8000, count, seed);
		if (bad >= 0) {
			fprintf(stderr,
				"# tenant %u, round %u: %u bytes read back differ at %lld\n",
				t->index, r, count, bad);
			break;
		}
		t->rounds++;
	}
	return NULL;
}

/*
 * Four tenants at once, each several rounds of DMA to its buffer and
 * back: every byte comes back as it went, and the engine switched
 * between them (at least once per tenant but one).
 */
TEST_F_TIMEOUT(edu, interleaved_load, 120)
{
	struct tenant t[MAX_INSTS];
	long long before = 0, after = 0, n;
	pthread_t th[MAX_INSTS];
	unsigned int i;

	for (i = 1; i < MAX_INSTS; i++)
		edu_open_assert(self->bdf, &self->e[i], IOVA(i));
	for (i = 0; i < MAX_INSTS; i++)
		before += edu_counter(&self->e[i], "ctx_switches");
	for (i = 0; i < MAX_INSTS; i++) {
		t[i] = (struct tenant){ .e = &self->e[i], .index = i };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, tenant_run, &t[i]));
	}
	for (i = 0; i < MAX_INSTS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < MAX_INSTS; i++) {
		EXPECT_EQ(ROUNDS, t[i].rounds) TH_LOG("tenant %u", i);
		n = edu_counter(&self->e[i], "ctx_switches");
		TH_LOG("tenant %u: %lld switches, %lld jobs, %lld ns run, %lld ns queued",
		       i, n, edu_counter(&self->e[i], "jobs"),
		       edu_counter(&self->e[i], "engine_ns"),
		       edu_counter(&self->e[i], "queued_ns"));
		after += n;
		EXPECT_EQ(2 * ROUNDS,
			  edu_counter_settled(&self->e[i], "jobs", 2 * ROUNDS));
	}
	ASSERT_LE(MAX_INSTS - 1, after - before);
}

/*
 * The counters of a fresh instance are 0 and its knobs at their
 * defaults; then they grow by exactly what was done: jobs (factorials
 * and DMAs), bytes moved, interrupts (under MSI, one per raise or
 * completion that asks for one: what the eventfd counted).
 */
TEST_F(edu, counters)
{
	static const char * const zero[] = {
		"jobs", "engine_ns", "dma_bytes", "irqs", "ctx_switches",
		"watchdog_hits",
	};
	struct edu *e = &self->e[0];
	char path[PATH_MAX], policy[64];
	int fd = e->fd, efd;
	u64 fired = 0, status;
	long long jobs;
	u32 result;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(zero); i++) {
		long long v = edu_counter(e, zero[i]);

		if (v)
			TH_LOG("%s of a new instance: %lld", zero[i], v);
		EXPECT_EQ(0, v);
	}
	EXPECT_LE(0, edu_counter(e, "queued_ns"));
	EXPECT_EQ(100, edu_counter(e, "weight"));
	EXPECT_EQ(100, edu_counter(e, "cap"));
	EXPECT_EQ(1000, edu_counter(e, "watchdog_ms"));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vslice/sched_policy",
		 self->bdf);
	ASSERT_EQ(0, vslice_sysfs_read(path, policy, sizeof(policy)));
	EXPECT_TRUE(!strcmp(policy, "best_effort") || !strcmp(policy, "equal") ||
		    !strcmp(policy, "weighted")) TH_LOG("policy '%s'", policy);

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, edu_irq_eventfd(fd, VFIO_PCI_MSI_IRQ_INDEX, efd));

	/* three factorials, the last with its interrupt */
	ASSERT_TRUE(edu_fact(fd, 5, &result));
	ASSERT_TRUE(edu_fact(fd, 9, &result));
	edu_wr32(fd, EDU_STATUS, EDU_STATUS_IRQFACT);
	ASSERT_TRUE(edu_fact(fd, 3, &result));
	ASSERT_EQ(6, result);
	fired += edu_events(efd, EDU_JOB_MS);
	edu_wr32(fd, EDU_STATUS, 0);
	edu_wr32(fd, EDU_IRQ_ACK, EDU_IRQ_FACT);
	/* two DMAs, 100 bytes in and 4096 out, the second interrupting */
	ASSERT_TRUE(edu_dma_ok(edu_to_buf(fd, e->iova, 0, 100, 0)));
	ASSERT_TRUE(edu_dma_ok(edu_from_buf(fd, 0, e->iova + 0x8000, EDU_BUF_SIZE,
					    EDU_DMA_IRQ)));
	fired += edu_events(efd, EDU_JOB_MS);
	edu_wr32(fd, EDU_IRQ_ACK, EDU_IRQ_DMA);
	/* two raises */
	edu_wr32(fd, EDU_IRQ_RAISE, 0x2);
	edu_wr32(fd, EDU_IRQ_RAISE, 0x4);
	fired += edu_events(efd, EDU_JOB_MS);
	edu_wr32(fd, EDU_IRQ_ACK, 0x6);

	ASSERT_EQ(4, fired);
	EXPECT_EQ(5, edu_counter_settled(e, "jobs", 5));
	EXPECT_EQ(100 + EDU_BUF_SIZE,
		  edu_counter_settled(e, "dma_bytes", 100 + EDU_BUF_SIZE));
	EXPECT_EQ(4, edu_counter_settled(e, "irqs", 4));
	EXPECT_LT(0, edu_counter(e, "engine_ns"));
	EXPECT_EQ(0, edu_counter(e, "watchdog_hits"));

	/*
	 * A factorial written while one computes is ignored: whichever way
	 * the race between two writes in a row went, the result and the
	 * count of jobs agree.
	 */
	jobs = edu_counter(e, "jobs");
	edu_wr32(fd, EDU_FACT, 10);
	edu_wr32(fd, EDU_FACT, 12);
	ASSERT_TRUE(edu_wait_clear(fd, EDU_STATUS, 4, EDU_STATUS_COMPUTING,
				   &status));
	result = edu_rd32(fd, EDU_FACT);
	usleep(EDU_QUIET_MS * 1000);
	jobs = edu_counter(e, "jobs") - jobs;
	TH_LOG("10 then 12 at once: %lld job(s), result %u", jobs, result);
	EXPECT_TRUE((jobs == 1 && result == 3628800) ||
		    (jobs == 2 && result == 479001600));
	close(efd);
}

/* The scheduler: shares, caps, the watchdog, reset and removal. */

/*
 * Three tenants weighted 1:2:4 keep the engine busy with factorials of
 * about 20 ms: each gets its weight's share of the engine time.  Then the
 * policy turns to equal shares while they run: each gets a third.  (The
 * bench measures the shares closely; here within a quarter of each.)
 */
TEST_F_TIMEOUT(edu, sched_weighted_shares, 120)
{
	static const double weighted[] = { 1 / 7.0, 2 / 7.0, 4 / 7.0 };
	static const double equal[] = { 1 / 3.0, 1 / 3.0, 1 / 3.0 };
	static const char * const weights[] = { "100", "200", "400" };
	struct edu_loader l[3];
	long long engine[3], busy = 0;
	double err;
	u32 n;
	unsigned int i;

	n = edu_fact_for_ms(&self->e[0], 20);
	ASSERT_LT(0, n);
	for (i = 1; i < 3; i++)
		edu_open_assert(self->bdf, &self->e[i], IOVA(i));
	ASSERT_EQ(0, edu_set_policy(self->bdf, "weighted"));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, edu_knob(&self->e[i], "weight", weights[i]));
		l[i] = (struct edu_loader){ .e = &self->e[i], .n = { n } };
	}

	edu_load_for(l, 3, 4000, engine);
	err = edu_share_error(engine, weighted, 3);
	for (i = 0; i < 3; i++)
		busy += engine[i];
	TH_LOG("weighted 1:2:4, %u! each: %lld %lld %lld ns, error %.3f, engine busy %.0f%%",
	       n, engine[0], engine[1], engine[2], err, busy / 4e7);
	EXPECT_GE(0.25, err);
	EXPECT_LE(0.7, busy / 4e9) TH_LOG("the engine was not kept busy");

	ASSERT_EQ(0, edu_set_policy(self->bdf, "equal"));
	edu_load_for(l, 3, 3000, engine);
	err = edu_share_error(engine, equal, 3);
	TH_LOG("equal: %lld %lld %lld ns, error %.3f", engine[0], engine[1],
	       engine[2], err);
	EXPECT_GE(0.25, err);
	EXPECT_EQ(0, edu_set_policy(self->bdf, "weighted"));
}

/*
 * The knobs refuse what is out of range; a tenant capped at 25 % gets no
 * more than that of the engine even alone.
 */
TEST_F_TIMEOUT(edu, sched_cap, 60)
{
	struct edu_loader l = { .e = &self->e[0] };
	long long engine;
	double share;

	EXPECT_EQ(-ERANGE, edu_knob(&self->e[0], "cap", "0"));
	EXPECT_EQ(-ERANGE, edu_knob(&self->e[0], "cap", "101"));
	EXPECT_EQ(-ERANGE, edu_knob(&self->e[0], "weight", "0"));
	EXPECT_EQ(-ERANGE, edu_knob(&self->e[0], "weight", "10001"));
	EXPECT_EQ(-EINVAL, edu_knob(&self->e[0], "watchdog_ms", "soon"));
	EXPECT_EQ(-EINVAL, edu_set_policy(self->bdf, "fastest"));

	l.n[0] = edu_fact_for_ms(&self->e[0], 20);
	ASSERT_LT(0, l.n[0]);
	ASSERT_EQ(0, edu_knob(&self->e[0], "cap", "25"));
	edu_load_for(&l, 1, 3000, &engine);
	share = engine / 3e9;
	TH_LOG("capped at 25 %%: %.3f of the engine in %u jobs", share, l.jobs);
	EXPECT_LE(0.15, share);
	EXPECT_GE(0.30, share);
	ASSERT_EQ(0, edu_knob(&self->e[0], "cap", "100"));
}

/*
 * A job longer than its tenant's watchdog is counted, and the tenant
 * waits about as long again before its next job starts.  The job is long
 * (300 ms), so that the throttle outlasts whatever this test takes to
 * submit the next one on a slow (debug) kernel.
 */
TEST_F_TIMEOUT(edu, sched_watchdog, 60)
{
	struct edu *e = &self->e[0];
	long long ran, queued, jobs;
	u32 n, result;

	n = edu_fact_for_ms(e, 300);
	ASSERT_LT(0, n);
	ASSERT_EQ(0, edu_knob(e, "watchdog_ms", "10"));
	ran = edu_fact_ns(e, n);
	ASSERT_LT(0, ran);
	/* at once: the throttle is as long as the job ran */
	queued = edu_counter(e, "queued_ns");
	jobs = edu_counter(e, "jobs");
	ASSERT_TRUE(edu_fact(e->fd, 3, &result));
	EXPECT_EQ(6, result);
	ASSERT_EQ(jobs + 1, edu_counter_reach(e, "jobs", jobs + 1));
	queued = edu_counter(e, "queued_ns") - queued;
	EXPECT_EQ(1, edu_counter(e, "watchdog_hits"));
	TH_LOG("a %lld ns job over a 10 ms watchdog; the next waited %lld ns",
	       ran, queued);
	EXPECT_LE(ran / 2, queued);
	ASSERT_EQ(0, edu_knob(e, "watchdog_ms", "1000"));
}

/*
 * A reset while the tenant's factorial runs: the registers are at once
 * at power-on, the running job's result goes nowhere, the next job runs,
 * and another tenant's jobs meanwhile come back right.
 */
TEST_F_TIMEOUT(edu, reset_with_job_running, 60)
{
	struct edu *a = &self->e[0], *b = &self->e[1];
	u32 n, result;
	int i;

	n = edu_fact_for_ms(a, 300);
	ASSERT_LT(0, n);
	edu_open_assert(self->bdf, b, IOVA(1));
	edu_wr32(a->fd, EDU_FACT, n);
	ASSERT_EQ(EDU_STATUS_COMPUTING, edu_rd32(a->fd, EDU_STATUS));
	ASSERT_EQ(0, ioctl(a->fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(0, edu_rd32(a->fd, EDU_STATUS));
	EXPECT_EQ(0, edu_rd32(a->fd, EDU_FACT));
	for (i = 0; i < 3; i++) {
		ASSERT_TRUE(edu_fact(b->fd, 10 + i, &result));
		EXPECT_EQ(i == 0 ? 3628800u : i == 1 ? 39916800u : 479001600u,
			  result);
	}
	usleep(600 * 1000);	/* the cancelled job has ended */
	EXPECT_EQ(0, edu_rd32(a->fd, EDU_FACT));
	ASSERT_TRUE(edu_fact(a->fd, 5, &result));
	EXPECT_EQ(120, result);
}

/*
 * Closing and removing an instance while its factorial runs returns
 * within that job's time; another tenant's DMA meanwhile is intact.
 */
TEST_F_TIMEOUT(edu, remove_with_job_running, 60)
{
	struct edu *a = &self->e[0], *b = &self->e[1];
	struct timespec t0;
	long long ms;
	u32 n;

	n = edu_fact_for_ms(a, 300);
	ASSERT_LT(0, n);
	edu_open_assert(self->bdf, b, IOVA(1));
	fill(b->ram, EDU_BUF_SIZE, 77);
	edu_wr32(a->fd, EDU_FACT, n);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(0, edu_close(a));
	ASSERT_EQ(0, vslice_remove(a->uuid));
	ms = edu_ms_since(&t0);
	TH_LOG("closed and removed with a ~300 ms job running in %lld ms", ms);
	EXPECT_GE(3000, ms);
	ASSERT_TRUE(edu_dma_ok(edu_to_buf(b->fd, b->iova, 0, EDU_BUF_SIZE, 0)));
	ASSERT_TRUE(edu_dma_ok(edu_from_buf(b->fd, 0, b->iova + 0x8000, EDU_BUF_SIZE,
					    0)));
	EXPECT_EQ(-1, check(b->ram + 0x8000, EDU_BUF_SIZE, 77));
}

/* Stop @fd and read its whole stop-copy stream; its length, or 0. */
static size_t mig_save(int fd, u8 *stream, size_t max)
{
	size_t len = 0;
	ssize_t n;
	int data = -1;

	if (vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP_COPY, &data))
		return 0;
	while ((n = read(data, stream + len, max - len)) > 0)
		len += n;
	close(data);
	if (n < 0 || vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL))
		return 0;
	return len;
}

/* Feed @len bytes of @stream to @fd in RESUMING; the result of ->STOP. */
static int mig_resume(int fd, const u8 *stream, size_t len)
{
	int data = -1, ret;

	ret = vslice_mig_set(fd, VFIO_DEVICE_STATE_RESUMING, &data);
	if (ret)
		return ret;
	if (write(data, stream, len) != (ssize_t)len)
		ret = -errno;
	close(data);
	return vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL) ?: ret;
}

/*
 * Migration: the source has its buffer filled, registers set, MSI
 * enabled, an interrupt raised, and a DMA and a factorial in flight when
 * it stops.  The stop drains them; the stream carries registers and
 * buffer; the target (whose MSI is not enabled, as QEMU enables it after
 * the state is loaded) takes it, shows the same, reads the source's buffer
 * back by DMA, asserts INTx once it is enabled, and runs new jobs; a cut
 * stream is refused.
 */
TEST_F_TIMEOUT(edu, migration, 60)
{
	struct edu *src = &self->e[0], *dst = &self->e[1];
	size_t max = 1 << 20, len;
	u8 *stream = malloc(max);
	u32 result;
	int efd, msi;

	ASSERT_NE(NULL, stream);
	edu_open_assert(self->bdf, dst, IOVA(1));
	msi = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, msi);
	ASSERT_EQ(0, edu_irq_eventfd(src->fd, VFIO_PCI_MSI_IRQ_INDEX, msi));
	fill(src->ram, EDU_BUF_SIZE, 5);
	ASSERT_TRUE(edu_dma_ok(edu_to_buf(src->fd, src->iova, 0, EDU_BUF_SIZE, 0)));
	edu_wr32(src->fd, EDU_LIVENESS, 0x1234);
	edu_wr32(src->fd, EDU_IRQ_RAISE, 0x40);
	edu_wr32(src->fd, EDU_STATUS, EDU_STATUS_IRQFACT);
	/* in flight as the device stops: a DMA out and a factorial */
	memset(src->ram + 0x8000, 0, EDU_BUF_SIZE);
	edu_wr64(src->fd, EDU_DMA_SRC, EDU_BUF);
	edu_wr64(src->fd, EDU_DMA_DST, src->iova + 0x8000);
	edu_wr64(src->fd, EDU_DMA_COUNT, EDU_BUF_SIZE);
	edu_wr64(src->fd, EDU_DMA_CMD, EDU_DMA_RUN | EDU_DMA_TO_RAM | EDU_DMA_IRQ);
	edu_wr32(src->fd, EDU_FACT, 7);
	len = mig_save(src->fd, stream, max);
	ASSERT_LT(EDU_BUF_SIZE, len);
	/* drained: both ended before the state was taken */
	EXPECT_EQ(-1, check(src->ram + 0x8000, EDU_BUF_SIZE, 5));
	EXPECT_EQ(0, edu_rd32(src->fd, EDU_STATUS) & EDU_STATUS_COMPUTING);

	/* cut short: refused, the target in ERROR until a reset */
	EXPECT_NE(0, mig_resume(dst->fd, stream, len - 1));
	EXPECT_EQ(VFIO_DEVICE_STATE_ERROR, vslice_mig_get(dst->fd));
	ASSERT_EQ(0, ioctl(dst->fd, VFIO_DEVICE_RESET));

	ASSERT_EQ(0, mig_resume(dst->fd, stream, len));
	ASSERT_EQ(0, vslice_mig_set(dst->fd, VFIO_DEVICE_STATE_RUNNING, NULL));
	/* the MSI enable bit is the target's own: off until it enables MSI */
	EXPECT_EQ(0, vslice_cfg_read(dst->fd, EDU_MSI_POS + PCI_MSI_FLAGS, 2) &
		     PCI_MSI_FLAGS_ENABLE);
	EXPECT_EQ(~0x1234u, edu_rd32(dst->fd, EDU_LIVENESS));
	EXPECT_EQ(5040, edu_rd32(dst->fd, EDU_FACT));
	EXPECT_EQ(EDU_STATUS_IRQFACT, edu_rd32(dst->fd, EDU_STATUS));
	EXPECT_EQ(0x40 | EDU_IRQ_FACT | EDU_IRQ_DMA,
		  edu_rd32(dst->fd, EDU_IRQ_STATUS));
	EXPECT_EQ(EDU_DMA_TO_RAM | EDU_DMA_IRQ, edu_rd64(dst->fd, EDU_DMA_CMD));
	EXPECT_EQ(src->iova + 0x8000, edu_rd64(dst->fd, EDU_DMA_DST));

	/* the interrupt is still asserted: INTx fires once enabled */
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, edu_irq_eventfd(dst->fd, VFIO_PCI_INTX_IRQ_INDEX, efd));
	EXPECT_EQ(1, edu_events(efd, EDU_JOB_MS));
	EXPECT_EQ(0, edu_irq_disable(dst->fd, VFIO_PCI_INTX_IRQ_INDEX));
	close(efd);

	/* the target's buffer is the source's, and it works on */
	memset(dst->ram, 0, EDU_BUF_SIZE);
	ASSERT_TRUE(edu_dma_ok(edu_from_buf(dst->fd, 0, dst->iova, EDU_BUF_SIZE, 0)));
	EXPECT_EQ(-1, check(dst->ram, EDU_BUF_SIZE, 5));
	ASSERT_TRUE(edu_fact(dst->fd, 4, &result));
	EXPECT_EQ(24, result);

	/* and the source, back to RUNNING, too */
	ASSERT_EQ(0, vslice_mig_set(src->fd, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_TRUE(edu_fact(src->fd, 5, &result));
	EXPECT_EQ(120, result);
	EXPECT_EQ(0, edu_irq_disable(src->fd, VFIO_PCI_MSI_IRQ_INDEX));
	close(msi);
	free(stream);
}

TEST_HARNESS_MAIN
