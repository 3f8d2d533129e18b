// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice-edu-uio: a user-space driver for an edu, run inside a nested
 * guest whose edu is a vslice instance (selftests/nested/nested_test.c,
 * edu.*).  There is no kernel driver for edu; this one binds it to
 * uio_pci_generic, which delivers its INTx to user space (masking it with
 * the command register's INTx disable bit, as on any PCI 2.3 function),
 * and drives it as a guest's driver would:
 *
 *   - identification and liveness registers
 *   - a factorial that interrupts on completion: the interrupt reaches
 *     /dev/uioN, the interrupt status register says why, the result is
 *     right
 *   - a DMA of a page of this guest's memory into the device buffer and
 *     back into another page, each ending in an interrupt: the bytes
 *     come back
 *
 * Guest physical addresses come from /proc/self/pagemap (root only); the
 * pages are taken below 256 MiB, edu's DMA reach.  Prints one line per
 * step and, last, "vslice-edu: ok irqs N" (exit 0) or "vslice-edu: FAIL
 * ..." (exit 1).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "lib/vslice.h"
#include "lib/edu.h"

#define TAG		"vslice-edu: "
#define PCI_DEVICES	"/sys/bus/pci/devices"
#define UIO_DRIVER	"/sys/bus/pci/drivers/uio_pci_generic"

/* edu's reach: its DMA addresses have 28 bits */
#define EDU_DMA_REACH	(256ull << 20)

#define PAGE		4096
#define POOL_PAGES	4096	/* 16 MiB to find two pages below 256 MiB in */
#define IRQ_TIMEOUT_MS	20000

static struct {
	char bdf[64];
	int uio;	/* /dev/uioN */
	int cfg;	/* the device's config space, through sysfs */
	u8 *bar;	/* BAR0: accessed with __atomic builtins only */
	unsigned int irqs;
} dev = { .uio = -1, .cfg = -1 };

/* Say why, and exit with status 1. */
static __printf(1, 2) void fail(const char *fmt, ...)
{
	va_list ap;

	printf(TAG "FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

static u32 rd32(u32 off)
{
	return __atomic_load_n((u32 *)(dev.bar + off), __ATOMIC_ACQUIRE);
}

static void wr32(u32 off, u32 val)
{
	__atomic_store_n((u32 *)(dev.bar + off), val, __ATOMIC_RELEASE);
}

static u64 rd64(u32 off)
{
	return __atomic_load_n((u64 *)(dev.bar + off), __ATOMIC_ACQUIRE);
}

static void wr64(u32 off, u64 val)
{
	__atomic_store_n((u64 *)(dev.bar + off), val, __ATOMIC_RELEASE);
}

static unsigned long sysfs_hex(const char *dir, const char *name)
{
	char path[512], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return ~0ul;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strtoul(buf, NULL, 16);
}

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The first edu in this guest. */
static void find_edu(void)
{
	char dir[512];
	struct dirent *de;
	DIR *d = opendir(PCI_DEVICES);

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), PCI_DEVICES "/%s", de->d_name);
		if (sysfs_hex(dir, "vendor") == VSLICE_BOCHS_VENDOR &&
		    sysfs_hex(dir, "device") == VSLICE_EDU_DEVICE) {
			snprintf(dev.bdf, sizeof(dev.bdf), "%s", de->d_name);
			break;
		}
	}
	if (d)
		closedir(d);
	if (!dev.bdf[0])
		fail("no edu (1234:11e8) in this guest");
}

/* Bind it to uio_pci_generic; open its /dev/uioN. */
static void bind_uio(void)
{
	char path[512], node[64] = "";
	struct dirent *de;
	unsigned int i;
	DIR *d;
	int ret;

	ret = sysfs_write(UIO_DRIVER "/new_id", "1234 11e8");
	if (ret && ret != -EEXIST)
		fail("uio_pci_generic new_id: %s (is the module loaded?)",
		     strerror(-ret));
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/uio", dev.bdf);
	for (i = 0; i < 100 && !node[0]; i++) {
		d = opendir(path);
		while (d && (de = readdir(d)))
			if (!strncmp(de->d_name, "uio", 3))
				snprintf(node, sizeof(node), "/dev/%s",
					 de->d_name);
		if (d)
			closedir(d);
		if (!node[0])
			usleep(100000);
	}
	if (!node[0])
		fail("%s did not bind to uio_pci_generic", dev.bdf);
	dev.uio = open(node, O_RDWR);
	if (dev.uio < 0)
		fail("%s: %s", node, strerror(errno));
	printf(TAG "%s bound to uio_pci_generic as %s\n", dev.bdf, node);
}

static u16 cfg_rd16(unsigned int off)
{
	u16 v;

	if (pread(dev.cfg, &v, sizeof(v), off) != sizeof(v))
		fail("config read at 0x%x: %s", off, strerror(errno));
	return v;
}

static void cfg_wr16(unsigned int off, u16 v)
{
	if (pwrite(dev.cfg, &v, sizeof(v), off) != sizeof(v))
		fail("config write at 0x%x: %s", off, strerror(errno));
}

/* Config space and BAR0; memory decoding and bus mastering on. */
static void map_device(void)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/config", dev.bdf);
	dev.cfg = open(path, O_RDWR);
	if (dev.cfg < 0)
		fail("%s: %s", path, strerror(errno));
	cfg_wr16(PCI_COMMAND, (cfg_rd16(PCI_COMMAND) | PCI_COMMAND_MEMORY |
			       PCI_COMMAND_MASTER) & ~PCI_COMMAND_INTX_DISABLE);

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/resource0", dev.bdf);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		fail("%s: %s", path, strerror(errno));
	dev.bar = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, 0);
	close(fd);
	if (dev.bar == MAP_FAILED)
		fail("mapping BAR0: %s", strerror(errno));
}

/*
 * Wait for the next interrupt (uio_pci_generic's handler has set the
 * INTx disable bit); @why is what the interrupt status register must
 * show.  Acknowledge it on the device, then enable INTx again.
 */
static void wait_irq(u32 why, const char *what)
{
	struct pollfd p = { .fd = dev.uio, .events = POLLIN };
	u32 count, status;

	if (poll(&p, 1, IRQ_TIMEOUT_MS) != 1)
		fail("%s: no interrupt within %d ms (interrupt status 0x%x, PCI status 0x%x)",
		     what, IRQ_TIMEOUT_MS, rd32(EDU_IRQ_STATUS),
		     cfg_rd16(PCI_STATUS));
	if (read(dev.uio, &count, sizeof(count)) != sizeof(count))
		fail("%s: reading the interrupt count: %s", what,
		     strerror(errno));
	status = rd32(EDU_IRQ_STATUS);
	if (status != why)
		fail("%s: interrupt status 0x%x, not 0x%x", what, status, why);
	if (!(cfg_rd16(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE))
		fail("%s: uio_pci_generic did not mask INTx", what);
	dev.irqs++;
	wr32(EDU_IRQ_ACK, status);
	if (cfg_rd16(PCI_STATUS) & PCI_STATUS_INTERRUPT)
		fail("%s: INTx still asserted after the acknowledge", what);
	cfg_wr16(PCI_COMMAND, cfg_rd16(PCI_COMMAND) & ~PCI_COMMAND_INTX_DISABLE);
	printf(TAG "%s: interrupt %u (uio count %u), status 0x%x\n", what,
	       dev.irqs, count, status);
}

static void check_registers(void)
{
	u32 id = rd32(EDU_ID);

	if (id != EDU_ID_VALUE)
		fail("identification 0x%08x", id);
	wr32(EDU_LIVENESS, 0x12345678);
	if (rd32(EDU_LIVENESS) != ~0x12345678u)
		fail("liveness 0x%08x", rd32(EDU_LIVENESS));
	printf(TAG "identification 0x%08x, liveness ok\n", id);
}

static void factorial(u32 n, u32 want)
{
	u32 got;

	wr32(EDU_STATUS, EDU_STATUS_IRQFACT);
	wr32(EDU_FACT, n);
	wait_irq(EDU_IRQ_FACT, "factorial");
	got = rd32(EDU_FACT);
	if (got != want)
		fail("%u! = %u, not %u", n, got, want);
	printf(TAG "%u! = %u\n", n, got);
}

/* Guest physical address of the page at @va, or 0. */
static u64 phys_of(int pagemap, void *va)
{
	u64 e;

	if (pread(pagemap, &e, sizeof(e), (unsigned long)va / PAGE * 8) != 8 ||
	    !(e & (1ull << 63)))
		return 0;
	return (e & ((1ull << 55) - 1)) * PAGE;
}

/* Two locked pages of this guest that edu's DMA reaches. */
static void dma_pages(u8 **va, u64 *pa)
{
	u8 *pool = mmap(NULL, (size_t)POOL_PAGES * PAGE,
			     PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE |
			     MAP_LOCKED, -1, 0);
	int pagemap = open("/proc/self/pagemap", O_RDONLY);
	unsigned int i, n = 0;

	if (pool == MAP_FAILED || pagemap < 0)
		fail("pages for DMA: %s", strerror(errno));
	for (i = 0; i < POOL_PAGES && n < 2; i++) {
		u64 p = phys_of(pagemap, pool + (size_t)i * PAGE);

		if (p && p < EDU_DMA_REACH) {
			va[n] = pool + (size_t)i * PAGE;
			pa[n++] = p;
		}
	}
	close(pagemap);
	if (n < 2)
		fail("no two pages below 256 MiB among %d (pagemap needs root)",
		     POOL_PAGES);
}

static void dma(u64 src, u64 dst, u64 cmd, const char *what)
{
	u64 end;

	wr64(EDU_DMA_SRC, src);
	wr64(EDU_DMA_DST, dst);
	wr64(EDU_DMA_COUNT, PAGE);
	wr64(EDU_DMA_CMD, EDU_DMA_RUN | EDU_DMA_IRQ | cmd);
	wait_irq(EDU_IRQ_DMA, what);
	end = rd64(EDU_DMA_CMD);
	if (end & (EDU_DMA_RUN | EDU_DMA_ERROR))
		fail("%s: command register 0x%llx after the interrupt", what,
		     (unsigned long long)end);
}

static void dma_round_trip(void)
{
	u8 *va[2];
	u64 pa[2];
	unsigned int i;

	dma_pages(va, pa);
	for (i = 0; i < PAGE; i++) {
		va[0][i] = (u8)(i * 7 + 3);
		va[1][i] = 0;
	}
	dma(pa[0], EDU_BUF, 0, "DMA to the device");
	dma(EDU_BUF, pa[1], EDU_DMA_TO_RAM, "DMA from the device");
	for (i = 0; i < PAGE; i++)
		if (va[1][i] != (u8)(i * 7 + 3))
			fail("DMA round trip: byte %u is 0x%02x, not 0x%02x",
			     i, va[1][i], (u8)(i * 7 + 3));
	printf(TAG "DMA round trip of %d bytes (0x%llx -> buffer -> 0x%llx) intact\n",
	       PAGE, (unsigned long long)pa[0], (unsigned long long)pa[1]);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	find_edu();
	bind_uio();
	map_device();
	check_registers();
	factorial(5, 120);
	factorial(10, 3628800);
	dma_round_trip();
	printf(TAG "ok irqs %u\n", dev.irqs);
	return 0;
}
