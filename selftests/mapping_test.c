// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mappings follow the device, as vfio-pci's do.  A user mapping of BAR0
 * is torn down when the device is reset and while memory decoding is off
 * in its command register; while decoding is off, touching it gets
 * SIGBUS; afterwards it faults back in, showing the same VRAM.  Another
 * instance's mappings are not touched.
 *
 * Whether a page is mapped is read from the page tables with mincore(2),
 * which reports a present PTE of a device mapping as resident and an
 * empty one as not.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define SZ4M	(4 * VSLICE_MIB)
#define PAGES	16	/* touched at the start of the slice */

FIXTURE(mapping) {
	const char *bdf;
	char a[VSLICE_UUID_LEN], b[VSLICE_UUID_LEN];
	struct vslice_dev da, db;
	u8 *pa, *pb;
	int kmsg;
};

FIXTURE_SETUP(mapping)
{
	self->bdf = vslice_parent();
	ASSERT_NE(NULL, self->bdf) TH_LOG("no bochs-display bound to vslice");
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	self->kmsg = vslice_kmsg_open();
	vslice_create_assert(self->bdf, "vslice-4M", self->a);
	vslice_create_assert(self->bdf, "vslice-4M", self->b);
	vslice_dev_open_assert(&self->da, self->a);
	vslice_dev_open_assert(&self->db, self->b);
	self->pa = vslice_map_bar0(self->da.fd, SZ4M);
	self->pb = vslice_map_bar0(self->db.fd, SZ4M);
	/* fault the first pages of both in, each with its own bytes */
	vslice_fill(self->pa, PAGES * 4096, 0xa);
	vslice_fill(self->pb, PAGES * 4096, 0xb);
}

FIXTURE_TEARDOWN(mapping)
{
	munmap(self->pa, SZ4M);
	munmap(self->pb, SZ4M);
	vslice_dev_close(&self->da);
	vslice_dev_close(&self->db);
	EXPECT_EQ(0, vslice_remove_all(self->bdf));
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
}

/* How many of the first PAGES pages of @p have a PTE, or -1. */
static int mapped_pages(u8 *p)
{
	unsigned char vec[PAGES];
	int i, n = 0;

	if (mincore(p, PAGES * 4096, vec))
		return -1;
	for (i = 0; i < PAGES; i++)
		n += vec[i] & 1;
	return n;
}

/*
 * Read the first word of @p in a child.  Return: the signal that killed
 * it, 0 if it read and exited cleanly, -1 if it ended otherwise.
 */
static int touch_in_child(u8 *p)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		(void)__atomic_load_n((u64 *)p, __ATOMIC_RELAXED);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return WTERMSIG(status);
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

static void memory_decode(int fd, bool on)
{
	u32 cmd = vslice_cfg_read(fd, PCI_COMMAND, 2);

	vslice_cfg_write(fd, PCI_COMMAND, 2, on ? cmd | PCI_COMMAND_MEMORY :
					       cmd & ~PCI_COMMAND_MEMORY);
}

/* A new user finds memory decoding on, as vfio-pci hands a device over. */
TEST_F(mapping, memory_decoding_on_at_open)
{
	ASSERT_EQ(PCI_COMMAND_MEMORY,
		  vslice_cfg_read(self->da.fd, PCI_COMMAND, 2) &
		  PCI_COMMAND_MEMORY);
	ASSERT_EQ(PAGES, mapped_pages(self->pa));
	ASSERT_EQ(0, touch_in_child(self->pa));
}

TEST_F(mapping, torn_down_while_memory_decoding_is_off)
{
	memory_decode(self->da.fd, false);
	ASSERT_EQ(0, vslice_cfg_read(self->da.fd, PCI_COMMAND, 2) &
		     PCI_COMMAND_MEMORY);
	EXPECT_EQ(0, mapped_pages(self->pa)) {
		TH_LOG("the mapping kept its pages with decoding off");
	}
	/* no fault lets a page back in: SIGBUS, as on vfio-pci */
	EXPECT_EQ(SIGBUS, touch_in_child(self->pa));
	EXPECT_EQ(SIGBUS, touch_in_child(self->pa + 5 * 4096));
	EXPECT_EQ(0, mapped_pages(self->pa));
	/* the neighbour is not the device that changed */
	EXPECT_EQ(PAGES, mapped_pages(self->pb));
	EXPECT_EQ(-1, vslice_check(self->pb, PAGES * 4096, 0xb));

	memory_decode(self->da.fd, true);
	EXPECT_EQ(0, touch_in_child(self->pa));
	/* back in: the same VRAM, bytes intact */
	EXPECT_EQ(-1, vslice_check(self->pa, PAGES * 4096, 0xa));
	EXPECT_EQ(PAGES, mapped_pages(self->pa));
}

/* Writing the command register without touching decoding changes nothing. */
TEST_F(mapping, kept_while_memory_decoding_stays_on)
{
	u32 cmd = vslice_cfg_read(self->da.fd, PCI_COMMAND, 2);

	vslice_cfg_write(self->da.fd, PCI_COMMAND, 2,
			 cmd | PCI_COMMAND_MASTER);
	EXPECT_EQ(PAGES, mapped_pages(self->pa));
	vslice_cfg_write(self->da.fd, PCI_COMMAND, 2, cmd);
	EXPECT_EQ(PAGES, mapped_pages(self->pa));
}

TEST_F(mapping, torn_down_on_reset)
{
	/* decoding off before the reset: the reset turns it on */
	memory_decode(self->da.fd, false);
	ASSERT_EQ(0, ioctl(self->da.fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(PCI_COMMAND_MEMORY,
		  vslice_cfg_read(self->da.fd, PCI_COMMAND, 2) &
		  PCI_COMMAND_MEMORY);

	vslice_fill(self->pa, PAGES * 4096, 0xc);
	ASSERT_EQ(PAGES, mapped_pages(self->pa));
	ASSERT_EQ(0, ioctl(self->da.fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(0, mapped_pages(self->pa)) {
		TH_LOG("the mapping kept its pages across a reset");
	}
	EXPECT_EQ(PAGES, mapped_pages(self->pb));
	/* a reset leaves VRAM alone: the pages fault back in with it */
	EXPECT_EQ(0, touch_in_child(self->pa));
	EXPECT_EQ(-1, vslice_check(self->pa, PAGES * 4096, 0xc));
	EXPECT_EQ(PAGES, mapped_pages(self->pa));
}

TEST_HARNESS_MAIN
