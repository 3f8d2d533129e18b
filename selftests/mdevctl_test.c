// SPDX-License-Identifier: GPL-2.0
/*
 * mdevctl: Debian's mdevctl, run from the host's root shared into the test
 * VM, defines, starts, lists, stops and undefines instances of vslice's
 * types, and reports the types as sysfs has them.  Its persistent
 * definitions go to a tmpfs over /etc/mdevctl.d (nothing of the host's is
 * touched).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/host.h"
#include "lib/vslice.h"

#define SAMPLE_JSON	"/vslice/samples/mdevctl.json"
#define OUT_LEN		65536
/* Each mdevctl call takes seconds on the debug kernel. */
#define MDEVCTL_TIMEOUT	300

static const char *const writable[] = { "/etc/mdevctl.d", "/run", NULL };

FIXTURE(mdevctl) {
	const char *bdf;
	char out[OUT_LEN];
};

FIXTURE_SETUP(mdevctl)
{
	/* what the package ships there, which the tmpfs hides */
	static const char *const dirs[] = {
		"/etc/mdevctl.d/scripts.d", "/etc/mdevctl.d/scripts.d/callouts",
		"/etc/mdevctl.d/scripts.d/notifiers", NULL
	};
	const char *why;

	self->bdf = vslice_parent();
	if (!self->bdf)
		SKIP(return, "no bochs-display (1234:1111) in this machine");
	why = vslice_host_missing("/usr/bin/mdevctl");
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, vslice_host_enter(writable, dirs, NULL));
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
}

FIXTURE_TEARDOWN(mdevctl)
{
	EXPECT_EQ(0, vslice_remove_all(self->bdf));
}

/* Run mdevctl with @args (NULL-terminated); its output in self->out. */
#define MDEVCTL(...) ({							\
	const char *const __argv[] = { "mdevctl", __VA_ARGS__, NULL };	\
	int __rc = vslice_host_run(self->out, sizeof(self->out), __argv); \
	TH_LOG("mdevctl %s: %d", __argv[1], __rc);			\
	if (__rc)							\
		TH_LOG("%s", self->out);				\
	__rc;								\
})

/* The type of running instance @uuid, from its mdev_type link. */
static void type_of(const char *uuid, char *type, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/mdev_type",
		 uuid);
	n = readlink(path, link, sizeof(link) - 1);
	link[n < 0 ? 0 : n] = '\0';
	snprintf(type, len, "%s", strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
}

/* `mdevctl types` shows every type with sysfs's name and availability. */
TEST_F_TIMEOUT(mdevctl, types_match_sysfs, MDEVCTL_TIMEOUT)
{
	char names[16][64], want[128], attr[256];
	int n, i;

	n = vslice_types(self->bdf, names, 16);
	ASSERT_LT(0, n);
	ASSERT_EQ(0, MDEVCTL("types", "--parent", self->bdf));
	ASSERT_NE(NULL, strstr(self->out, self->bdf));
	for (i = 0; i < n; i++) {
		const char *at, *avail;

		snprintf(want, sizeof(want), "  %s\n", names[i]);
		at = strstr(self->out, want);
		ASSERT_NE(NULL, at) TH_LOG("type %s missing", names[i]);
		avail = strstr(at, "Available instances: ");
		ASSERT_NE(NULL, avail);
		ASSERT_EQ(vslice_type_available(self->bdf, names[i]),
			  atoll(avail + strlen("Available instances: ")));
		ASSERT_EQ(0, vslice_type_attr(self->bdf, names[i], "name",
					      attr, sizeof(attr)));
		ASSERT_NE(NULL, strstr(at, attr));
	}
}

/* define, start, list, stop, undefine: each visible in sysfs and lists. */
TEST_F_TIMEOUT(mdevctl, define_start_list_stop_undefine, MDEVCTL_TIMEOUT)
{
	char uuid[VSLICE_UUID_LEN], type[64], path[PATH_MAX];
	long long avail = vslice_type_available(self->bdf, "vslice-16M");

	vslice_new_uuid(uuid);
	ASSERT_EQ(0, MDEVCTL("define", "--uuid", uuid, "--parent", self->bdf,
			     "--type", "vslice-16M"));
	snprintf(path, sizeof(path), "%s/etc/mdevctl.d/%s/%s",
		 vslice_host_root(), self->bdf, uuid);
	ASSERT_EQ(0, access(path, F_OK));
	ASSERT_FALSE(vslice_mdev_exists(uuid));	/* defined, not started */
	ASSERT_EQ(0, MDEVCTL("list", "--defined"));
	ASSERT_NE(NULL, strstr(self->out, uuid));

	ASSERT_EQ(0, MDEVCTL("start", "--uuid", uuid));
	ASSERT_TRUE(vslice_mdev_exists(uuid));
	type_of(uuid, type, sizeof(type));
	ASSERT_STREQ("vslice-16M", type);
	ASSERT_EQ(avail - 1, vslice_type_available(self->bdf, "vslice-16M"));
	ASSERT_EQ(0, MDEVCTL("list"));
	ASSERT_NE(NULL, strstr(self->out, uuid));

	ASSERT_EQ(0, MDEVCTL("stop", "--uuid", uuid));
	ASSERT_FALSE(vslice_mdev_exists(uuid));
	ASSERT_EQ(avail, vslice_type_available(self->bdf, "vslice-16M"));
	ASSERT_EQ(0, MDEVCTL("list"));
	ASSERT_EQ(NULL, strstr(self->out, uuid));

	ASSERT_EQ(0, MDEVCTL("undefine", "--uuid", uuid));
	ASSERT_NE(0, access(path, F_OK));
	ASSERT_EQ(0, MDEVCTL("list", "--defined"));
	ASSERT_EQ(NULL, strstr(self->out, uuid));
}

/* The sample JSON in samples/ defines a working instance. */
TEST_F_TIMEOUT(mdevctl, sample_json_defines, MDEVCTL_TIMEOUT)
{
	char uuid[VSLICE_UUID_LEN], type[64], json[4096];

	ASSERT_EQ(0, vslice_sysfs_read(SAMPLE_JSON, json, sizeof(json)))
		TH_LOG("no %s", SAMPLE_JSON);
	ASSERT_EQ(0, vslice_host_write("/run/vslice.json", json, strlen(json)));
	vslice_new_uuid(uuid);
	ASSERT_EQ(0, MDEVCTL("define", "--uuid", uuid, "--parent", self->bdf,
			     "--jsonfile", "/run/vslice.json"));
	ASSERT_EQ(0, MDEVCTL("start", "--uuid", uuid));
	type_of(uuid, type, sizeof(type));
	ASSERT_STREQ("vslice-16M", type);
	ASSERT_EQ(0, MDEVCTL("stop", "--uuid", uuid));
	ASSERT_EQ(0, MDEVCTL("undefine", "--uuid", uuid));
}

/* Starting past capacity fails through mdevctl and changes nothing. */
TEST_F_TIMEOUT(mdevctl, start_beyond_capacity_fails, MDEVCTL_TIMEOUT)
{
	long long avail = vslice_type_available(self->bdf, "vslice-64M");
	char uuid[VSLICE_UUID_LEN];
	long long i;

	ASSERT_LT(0, avail);
	for (i = 0; i < avail; i++) {
		vslice_new_uuid(uuid);
		ASSERT_EQ(0, MDEVCTL("start", "--uuid", uuid, "--parent",
				     self->bdf, "--type", "vslice-64M"));
	}
	ASSERT_EQ(0, vslice_type_available(self->bdf, "vslice-64M"));
	vslice_new_uuid(uuid);
	ASSERT_NE(0, MDEVCTL("start", "--uuid", uuid, "--parent", self->bdf,
			     "--type", "vslice-64M"));
	ASSERT_FALSE(vslice_mdev_exists(uuid));
	ASSERT_EQ(avail, vslice_inst_count(self->bdf));
}

TEST_HARNESS_MAIN
