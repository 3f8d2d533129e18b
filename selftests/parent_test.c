// SPDX-License-Identifier: GPL-2.0-only
/*
 * The parent driver: loading, binding only where asked, the types it
 * publishes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

FIXTURE(parent) {
	const char *bdf;
	int kmsg;
};

FIXTURE_SETUP(parent)
{
	self->bdf = vslice_parent();
	if (!self->bdf)
		SKIP(return, "no bochs-display (1234:1111) in this machine");
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	self->kmsg = vslice_kmsg_open();
}

FIXTURE_TEARDOWN(parent)
{
	/* Leave the parent bound for the next test, and the log clean. */
	vslice_parent();
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
}

/* BAR0 size from the resource file: "start end flags" per line. */
static unsigned long long vslice_bar0_size(const char *bdf)
{
	unsigned long long start, end, flags;
	char path[PATH_MAX];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fscanf(f, "%llx %llx %llx", &start, &end, &flags);
	fclose(f);
	return n == 3 ? end - start + 1 : 0;
}

TEST_F(parent, module_unload_and_reload_clean)
{
	char drv[64];

	ASSERT_EQ(0, vslice_module_unload());
	ASSERT_FALSE(vslice_module_loaded());
	/* Unloading unbound the parent... */
	ASSERT_NE(0, vslice_driver_of(self->bdf, drv, sizeof(drv)));

	ASSERT_EQ(0, vslice_module_load());
	/* ...and its driver_override brings it back on load. */
	ASSERT_EQ(0, vslice_driver_of(self->bdf, drv, sizeof(drv)));
	ASSERT_STREQ("vslice", drv);
	ASSERT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
}

TEST_F(parent, no_bind_without_driver_override)
{
	const char *spare = vslice_spare();
	char drv[64] = "";

	if (!spare)
		SKIP(return, "needs a second bochs-display");
	ASSERT_EQ(0, vslice_bind(spare, ""));
	/* A reprobe offers the device to every driver; vslice declines. */
	vslice_sysfs_write("/sys/bus/pci/drivers_probe", spare);
	vslice_driver_of(spare, drv, sizeof(drv));
	ASSERT_STRNE("vslice", drv);
	/* Unloading and reloading does not grab it either. */
	ASSERT_EQ(0, vslice_module_unload());
	ASSERT_EQ(0, vslice_module_load());
	drv[0] = '\0';
	vslice_driver_of(spare, drv, sizeof(drv));
	ASSERT_STRNE("vslice", drv);
}

TEST_F(parent, bind_device_claimed_by_bochs_drm)
{
	const char *spare = vslice_spare();
	char drv[64] = "", path[PATH_MAX];

	if (!spare)
		SKIP(return, "needs a second bochs-display");
	ASSERT_EQ(0, vslice_bind(spare, ""));
	if (system("modprobe bochs 2>/dev/null"))
		SKIP(return, "the bochs DRM driver is not available here");

	/* The DRM driver claims the spare device on its own... */
	ASSERT_EQ(0, vslice_driver_of(spare, drv, sizeof(drv)));
	ASSERT_STRNE("vslice", drv);
	TH_LOG("%s is bound to %s", spare, drv);

	/* ...and driver_override + unbind + drivers_probe moves it. */
	ASSERT_EQ(0, vslice_bind(spare, "vslice"));
	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/mdev_supported_types", spare);
	ASSERT_EQ(0, access(path, F_OK));

	/* Give it back: unbound, no override, DRM driver unloaded. */
	ASSERT_EQ(0, vslice_bind(spare, ""));
	ASSERT_EQ(0, syscall(SYS_delete_module, "bochs", O_NONBLOCK));
}

/* The host bridge, or the first other device no driver has taken. */
static int vslice_find_unbound_other(char *bdf, size_t len)
{
	struct dirent *de;
	char drv[64], path[PATH_MAX];
	DIR *dir = opendir("/sys/bus/pci/devices");
	int ret = -ENOENT;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 de->d_name);
		if (vslice_sysfs_read_ll(path) == VSLICE_BOCHS_VENDOR)
			continue;
		if (!vslice_driver_of(de->d_name, drv, sizeof(drv)))
			continue;
		snprintf(bdf, len, "%s", de->d_name);
		ret = 0;
		break;
	}
	closedir(dir);
	return ret;
}

TEST_F(parent, override_on_other_device_refused)
{
	char bdf[VSLICE_BDF_LEN], drv[64] = "";

	if (vslice_find_unbound_other(bdf, sizeof(bdf)))
		SKIP(return, "no unbound non-bochs PCI device to try");
	ASSERT_EQ(-ENODEV, vslice_bind(bdf, "vslice"));
	vslice_driver_of(bdf, drv, sizeof(drv));
	ASSERT_STRNE("vslice", drv);
	ASSERT_EQ(0, vslice_bind(bdf, ""));
}

TEST_F(parent, types_and_attributes)
{
	static const unsigned long long sizes[] = { 4, 8, 16, 32, 64, 128, 256 };
	unsigned long long vram = vslice_bar0_size(self->bdf);
	char names[16][64], buf[256], want[64];
	unsigned int i, expected = 0;
	int n;

	ASSERT_NE(0, vram);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		expected += sizes[i] * VSLICE_MIB <= vram;

	n = vslice_types(self->bdf, names, 16);
	ASSERT_EQ(expected, n);
	for (i = 0; i < (unsigned int)n; i++) {
		unsigned long long size;
		int fields = sscanf(names[i], "vslice-%lluM", &size);

		ASSERT_EQ(1, fields);
		size *= VSLICE_MIB;

		ASSERT_EQ(0, vslice_type_attr(self->bdf, names[i], "name",
					      buf, sizeof(buf)));
		ASSERT_STREQ(names[i], buf);
		ASSERT_EQ(0, vslice_type_attr(self->bdf, names[i],
					      "device_api", buf, sizeof(buf)));
		ASSERT_STREQ("vfio-pci", buf);
		ASSERT_EQ(0, vslice_type_attr(self->bdf, names[i],
					      "description", buf, sizeof(buf)));
		snprintf(want, sizeof(want), "%llu MiB VRAM", size / VSLICE_MIB);
		ASSERT_NE(NULL, strstr(buf, want));
		snprintf(want, sizeof(want), "max instances %llu", vram / size);
		ASSERT_NE(NULL, strstr(buf, want));
		ASSERT_EQ(vram / size,
			  vslice_type_available(self->bdf, names[i]));
	}
}

TEST_HARNESS_MAIN
