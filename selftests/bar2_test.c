// SPDX-License-Identifier: GPL-2.0-only
/*
 * The trapped BAR2 register file of an instance: every register, every
 * access width, read-only fields, the unassigned holes, out-of-range
 * offsets, reset, and a side-by-side run against QEMU's own
 * bochs-display (the spare device, through its sysfs resource2).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define MMIO(off)	(VSLICE_REGION_OFFSET(VFIO_PCI_BAR2_REGION_INDEX) + (off))
#define DISPI(i)	(0x500 + 2 * (i))
#define QEXT_SIZE	0x600
#define QEXT_BYTEORDER	0x604
#define LE_MAGIC	0x1e1e1e1e
#define BE_MAGIC	0xbebebebe
#define SLICE		(16 * VSLICE_MIB)

enum {
	ID, XRES, YRES, BPP, ENABLE, BANK, VIRT_WIDTH, VIRT_HEIGHT,
	X_OFFSET, Y_OFFSET, VIDEO_MEMORY_64K,
};

FIXTURE(bar2) {
	struct vslice_inst_fix f;
};

FIXTURE_SETUP(bar2)
{
	if (vslice_inst_fix_setup(&self->f, "vslice-16M"))
		SKIP(return, "no bochs-display (1234:1111) in this machine");
}

FIXTURE_TEARDOWN(bar2)
{
	EXPECT_EQ(0, vslice_inst_fix_teardown(&self->f));
}

static u32 rd(int fd, u32 off, unsigned int size)
{
	return vslice_mmio_read(fd, off, size);
}

static void wr(int fd, u32 off, unsigned int size, u32 val)
{
	vslice_mmio_write(fd, off, size, val);
}

TEST_F(bar2, dispi_identity_and_video_memory)
{
	int fd = self->f.dev.fd;

	ASSERT_EQ(0xb0c5, rd(fd, DISPI(ID), 2));
	ASSERT_EQ(SLICE / 65536, rd(fd, DISPI(VIDEO_MEMORY_64K), 2));
	/* Both read-only: writes change nothing. */
	wr(fd, DISPI(ID), 2, 0xb0c0);
	wr(fd, DISPI(VIDEO_MEMORY_64K), 2, 1);
	ASSERT_EQ(0xb0c5, rd(fd, DISPI(ID), 2));
	ASSERT_EQ(SLICE / 65536, rd(fd, DISPI(VIDEO_MEMORY_64K), 2));
}

TEST_F(bar2, dispi_registers_read_back_at_every_width)
{
	int fd = self->f.dev.fd;
	unsigned int i;

	for (i = XRES; i <= Y_OFFSET; i++) {
		/* 2 bytes: the register */
		wr(fd, DISPI(i), 2, 0x1234 + i);
		ASSERT_EQ(0x1234 + i, rd(fd, DISPI(i), 2));
		/* 1 byte: widened to the register, zero-extended... */
		wr(fd, DISPI(i), 1, 0xab);
		ASSERT_EQ(0x00ab, rd(fd, DISPI(i), 2));
		wr(fd, DISPI(i) + 1, 1, 0xcd);
		ASSERT_EQ(0x00cd, rd(fd, DISPI(i), 2));
		/* ...and a 1-byte read gives the register's low byte */
		wr(fd, DISPI(i), 2, 0x5a69);
		ASSERT_EQ(0x69, rd(fd, DISPI(i), 1));
		ASSERT_EQ(0x69, rd(fd, DISPI(i) + 1, 1));
	}

	/* 4 bytes: two registers, low one first */
	wr(fd, DISPI(XRES), 4, 0x03000400);
	ASSERT_EQ(0x0400, rd(fd, DISPI(XRES), 2));
	ASSERT_EQ(0x0300, rd(fd, DISPI(YRES), 2));
	ASSERT_EQ(0x03000400, rd(fd, DISPI(XRES), 4));
	ASSERT_EQ(0x0400b0c5, rd(fd, DISPI(ID), 4));
	/* The last register's upper neighbour is unassigned: all ones. */
	ASSERT_EQ(0xffff0000 | (SLICE / 65536),
		  rd(fd, DISPI(VIDEO_MEMORY_64K), 4));
}

TEST_F(bar2, qemu_extended_registers)
{
	int fd = self->f.dev.fd;

	ASSERT_EQ(8, rd(fd, QEXT_SIZE, 4));
	ASSERT_EQ(LE_MAGIC, rd(fd, QEXT_BYTEORDER, 4));
	wr(fd, QEXT_BYTEORDER, 4, BE_MAGIC);
	ASSERT_EQ(BE_MAGIC, rd(fd, QEXT_BYTEORDER, 4));
	/* Anything but the two magics is ignored. */
	wr(fd, QEXT_BYTEORDER, 4, 0x12345678);
	ASSERT_EQ(BE_MAGIC, rd(fd, QEXT_BYTEORDER, 4));
	wr(fd, QEXT_SIZE, 4, 0);
	ASSERT_EQ(8, rd(fd, QEXT_SIZE, 4));
	/* Narrow accesses are not decoded: they read 0 and change nothing. */
	ASSERT_EQ(0, rd(fd, QEXT_SIZE, 2));
	ASSERT_EQ(0, rd(fd, QEXT_BYTEORDER, 1));
	wr(fd, QEXT_BYTEORDER, 2, 0x1e1e);
	ASSERT_EQ(BE_MAGIC, rd(fd, QEXT_BYTEORDER, 4));
	wr(fd, QEXT_BYTEORDER, 4, LE_MAGIC);
	ASSERT_EQ(LE_MAGIC, rd(fd, QEXT_BYTEORDER, 4));
}

TEST_F(bar2, vga_window_and_holes_read_all_ones)
{
	static const u32 holes[] = {
		0x400, 0x41a, 0x41c, 0x420, 0x4fc, 0x518, 0x5fc, 0x608,
		0x800, 0xffc,
	};
	int fd = self->f.dev.fd;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(holes); i++) {
		wr(fd, holes[i], 4, 0);
		EXPECT_EQ(0xffffffff, rd(fd, holes[i], 4)) {
			TH_LOG("at 0x%x", holes[i]);
		}
		EXPECT_EQ(0xffff, rd(fd, holes[i], 2));
		EXPECT_EQ(0xff, rd(fd, holes[i] + 1, 1));
	}
	/* The DISPI registers were not disturbed by the writes. */
	ASSERT_EQ(0xb0c5, rd(fd, DISPI(ID), 2));
}

TEST_F(bar2, out_of_range_and_odd_sizes)
{
	int fd = self->f.dev.fd;
	u8 buf[64];

	ASSERT_EQ(-1, pread(fd, buf, 4, MMIO(4096)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, pwrite(fd, buf, 1, MMIO(0x10000)));
	ASSERT_EQ(EINVAL, errno);
	/* across the end: cut short */
	ASSERT_EQ(2, pread(fd, buf, 4, MMIO(4094)));
	/* a 3-byte and a 64-byte access are split like a CPU's */
	ASSERT_EQ(3, pread(fd, buf, 3, MMIO(DISPI(ID))));
	ASSERT_EQ(0xc5, buf[0]);
	ASSERT_EQ(0xb0, buf[1]);
	ASSERT_EQ(0, buf[2]);	/* XRES low byte, reset value */
	ASSERT_EQ(64, pread(fd, buf, 64, MMIO(0x4f0)));
	ASSERT_EQ(0xc5, buf[0x10]);
}

TEST_F(bar2, reset_restores_power_on_values)
{
	int fd = self->f.dev.fd;
	unsigned int i;

	for (i = XRES; i <= Y_OFFSET; i++)
		wr(fd, DISPI(i), 2, 0x100 + i);
	wr(fd, QEXT_BYTEORDER, 4, BE_MAGIC);
	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_RESET));
	for (i = XRES; i <= Y_OFFSET; i++)
		ASSERT_EQ(0, rd(fd, DISPI(i), 2));
	ASSERT_EQ(LE_MAGIC, rd(fd, QEXT_BYTEORDER, 4));
	ASSERT_EQ(0xb0c5, rd(fd, DISPI(ID), 2));
	ASSERT_EQ(1, vslice_inst_debug_ll(self->f.uuid, "resets"));
}

/* One access of the side-by-side run. */
struct step {
	u16 off;
	u8 size;
	bool write;
	u32 val;
};

static u32 hw_access(u8 *mmio, const struct step *s)
{
	u8 *p = mmio + s->off;

	if (s->write) {
		if (s->size == 1)
			*p = s->val;
		else if (s->size == 2)
			*(u16 *)p = s->val;
		else
			*(u32 *)p = s->val;
		__sync_synchronize();
		return 0;
	}
	if (s->size == 1)
		return *p;
	if (s->size == 2)
		return *(u16 *)p;
	return *(u32 *)p;
}

TEST_F(bar2, behaves_like_qemu_bochs_display)
{
	/*
	 * Writes and reads of every width over the DISPI block, the
	 * extended registers, the VGA window and some holes.  Video memory
	 * size is left out: the spare has all 256 MiB, the instance its
	 * slice.  So is the EDID: the monitors differ.
	 */
	static const u16 offs[] = {
		DISPI(XRES), DISPI(YRES), DISPI(BPP), DISPI(ENABLE),
		DISPI(BANK), DISPI(VIRT_WIDTH), DISPI(VIRT_HEIGHT),
		DISPI(X_OFFSET), DISPI(Y_OFFSET), DISPI(ID),
		QEXT_SIZE, QEXT_BYTEORDER, 0x400, 0x404, 0x41a, 0x518, 0x700,
	};
	struct step steps[2048];
	const char *spare = vslice_spare();
	unsigned int n = 0, i, j, seed = 42, mismatches = 0;
	char path[PATH_MAX], drv[64];
	u8 *mmio;
	int rfd;

	if (!spare)
		SKIP(return, "needs a second bochs-display to compare with");
	if (!vslice_driver_of(spare, drv, sizeof(drv)))
		ASSERT_EQ(0, vslice_bind(spare, ""));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource2", spare);
	rfd = open(path, O_RDWR | O_SYNC);
	ASSERT_LE(0, rfd);
	/* Memory decoding on, as a driver would have it. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/enable", spare);
	vslice_sysfs_write(path, "1");
	mmio = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
	ASSERT_NE(MAP_FAILED, mmio);

	/* Both start from power-on register values. */
	for (i = XRES; i <= Y_OFFSET; i++)
		*(u16 *)(mmio + DISPI(i)) = 0;
	*(u32 *)(mmio + QEXT_BYTEORDER) = LE_MAGIC;

	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		for (j = 1; j <= 4; j *= 2) {
			u16 base = offs[i] & ~(j - 1);

			steps[n++] = (struct step){ base, j, true,
						    rand_r(&seed) };
			steps[n++] = (struct step){ base, j, false, 0 };
			steps[n++] = (struct step){ base + (j == 1), 1,
						    false, 0 };
		}
	}
	/* and the byte-order magics, which only a 4-byte write sets */
	steps[n++] = (struct step){ QEXT_BYTEORDER, 4, true, BE_MAGIC };
	steps[n++] = (struct step){ QEXT_BYTEORDER, 4, false, 0 };
	steps[n++] = (struct step){ QEXT_BYTEORDER, 4, true, LE_MAGIC };
	steps[n++] = (struct step){ QEXT_BYTEORDER, 4, false, 0 };
	for (i = XRES; i <= Y_OFFSET; i++)
		steps[n++] = (struct step){ DISPI(i), 2, false, 0 };

	for (i = 0; i < n; i++) {
		u32 hw = hw_access(mmio, &steps[i]), ours;

		/* QEMU leaves narrow reads of its 4-byte-only registers undefined */
		if (!steps[i].write && steps[i].size < 4 &&
		    steps[i].off >= QEXT_SIZE && steps[i].off < QEXT_SIZE + 8)
			continue;
		if (steps[i].write) {
			wr(self->f.dev.fd, steps[i].off, steps[i].size,
			   steps[i].val);
			continue;
		}
		ours = rd(self->f.dev.fd, steps[i].off, steps[i].size);
		if (ours != hw) {
			TH_LOG("%u-byte read at 0x%x: bochs-display 0x%x, instance 0x%x",
			       steps[i].size, steps[i].off, hw, ours);
			mismatches++;
		}
	}
	ASSERT_EQ(0, mismatches);
	munmap(mmio, 4096);
	close(rfd);
}

TEST_HARNESS_MAIN
