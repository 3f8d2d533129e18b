// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profiles and placement: mixed sizes on one card, available_instances
 * exact for every type after any sequence of creates and removes (checked
 * against a model built from where the instances really are), and the
 * per-parent policy: VRAM held back, a cap on instances, the offered
 * types.  Also the per-instance attributes.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define MIB		VSLICE_MIB
#define GRANULE		(4 * MIB)
#define MAX_INSTS	64

static const struct {
	const char *name;
	u64 size;
} types[] = {
	{ "vslice-4M", 4 * MIB }, { "vslice-8M", 8 * MIB },
	{ "vslice-16M", 16 * MIB }, { "vslice-32M", 32 * MIB },
	{ "vslice-64M", 64 * MIB }, { "vslice-128M", 128 * MIB },
	{ "vslice-256M", 256 * MIB },
};

FIXTURE(profile) {
	const char *bdf;
	u64 vram;
	int kmsg;
};

static void policy_write(const char *bdf, const char *attr, const char *val,
			 int expect)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vslice/%s", bdf,
		 attr);
	ret = vslice_sysfs_write(path, val);
	if (ret != expect)
		VSLICE_FAIL("writing '%s' to %s gave %d, not %d", val, attr, ret,
			    expect);
}

static long long policy_read(const char *bdf, const char *attr)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vslice/%s", bdf,
		 attr);
	return vslice_sysfs_read_ll(path);
}

FIXTURE_SETUP(profile)
{
	self->bdf = vslice_parent();
	if (!self->bdf)
		SKIP(return, "no bochs-display (1234:1111) in this machine");
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	policy_write(self->bdf, "reserved_mib", "0", 0);
	policy_write(self->bdf, "max_instances", "0", 0);
	policy_write(self->bdf, "types", "all", 0);
	/* the bed's card has 256 MiB: vslice must say so */
	self->vram = policy_read(self->bdf, "vram_mib") * MIB;
	ASSERT_EQ(256 * MIB, self->vram);
	self->kmsg = vslice_kmsg_open();
}

FIXTURE_TEARDOWN(profile)
{
	EXPECT_EQ(0, vslice_remove_all(self->bdf));
	policy_write(self->bdf, "reserved_mib", "0", 0);
	policy_write(self->bdf, "max_instances", "0", 0);
	policy_write(self->bdf, "types", "all", 0);
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
}

/* The model: which granules are taken, from the instances themselves. */
struct model {
	int n;
	char uuid[MAX_INSTS][VSLICE_UUID_LEN];
	u64 off[MAX_INSTS];
	u64 size[MAX_INSTS];
	bool used[64];
	u64 reserved;
};

static void model_rebuild(struct model *m, u64 vram)
{
	int i;
	u64 g;

	memset(m->used, 0, sizeof(m->used));
	for (g = (vram - m->reserved) / GRANULE; g < vram / GRANULE; g++)
		m->used[g] = true;
	for (i = 0; i < m->n; i++) {
		if (m->off[i] % m->size[i] || m->off[i] + m->size[i] > vram -
		    m->reserved)
			VSLICE_FAIL("slice %d at 0x%llx size 0x%llx misplaced",
				    i, (unsigned long long)m->off[i],
				    (unsigned long long)m->size[i]);
		for (g = m->off[i] / GRANULE;
		     g < (m->off[i] + m->size[i]) / GRANULE; g++) {
			if (m->used[g])
				VSLICE_FAIL("slices overlap at granule %llu",
					    (unsigned long long)g);
			m->used[g] = true;
		}
	}
}

/* Aligned blocks of @size with no granule taken. */
static long long model_available(const struct model *m, u64 vram, u64 size)
{
	u64 step = size / GRANULE, g, i;
	long long n = 0;

	for (g = 0; g < vram / GRANULE; g += step) {
		for (i = 0; i < step && !m->used[g + i]; i++)
			;
		n += i == step;
	}
	return n;
}

/* The first type whose available_instances disagrees with the model. */
static int model_mismatch(const struct model *m, const char *bdf, u64 vram)
{
	unsigned int t;
	long long want, got;

	for (t = 0; t < ARRAY_SIZE(types); t++) {
		want = model_available(m, vram, types[t].size);
		got = vslice_type_available(bdf, types[t].name);
		if (want != got) {
			fprintf(stderr, "# %s: model %lld, sysfs %lld\n",
				types[t].name, want, got);
			return t;
		}
	}
	return -1;
}

static int model_create(struct model *m, const char *bdf, unsigned int t)
{
	int ret = vslice_create(bdf, types[t].name, m->uuid[m->n]);

	if (ret)
		return ret;
	m->off[m->n] = vslice_inst_attr_ll(m->uuid[m->n], "vram_offset");
	m->size[m->n] = vslice_inst_attr_ll(m->uuid[m->n], "vram_size");
	if (m->size[m->n] != types[t].size)
		VSLICE_FAIL("a %s instance got %llu bytes", types[t].name,
			    (unsigned long long)m->size[m->n]);
	m->n++;
	return 0;
}

static void model_remove(struct model *m, int i)
{
	if (vslice_remove(m->uuid[i]))
		VSLICE_FAIL("removing %s", m->uuid[i]);
	m->n--;
	memcpy(m->uuid[i], m->uuid[m->n], VSLICE_UUID_LEN);
	m->off[i] = m->off[m->n];
	m->size[i] = m->size[m->n];
}

TEST_F(profile, mixed_sizes_coexist)
{
	struct model m = { 0 };
	unsigned int t;
	unsigned int n = 0;

	/* one of each size, smallest first, as long as the card holds them */
	for (t = 0; t < ARRAY_SIZE(types); t++) {
		if (!model_available(&m, self->vram, types[t].size)) {
			ASSERT_EQ(-ENOSPC, model_create(&m, self->bdf, t));
			continue;
		}
		ASSERT_EQ(0, model_create(&m, self->bdf, t));
		n++;
		model_rebuild(&m, self->vram);
		ASSERT_EQ(-1, model_mismatch(&m, self->bdf, self->vram));
	}
	/* 4 + 8 + ... + 128 MiB fit a 256 MiB card; the whole card does not */
	ASSERT_LE(5, n);
	ASSERT_EQ(n, policy_read(self->bdf, "instances"));
}

/* 400 steps of sysfs writes: seconds, but minutes on the debug kernel. */
TEST_F_TIMEOUT(profile, random_sequence_matches_model, 600)
{
	unsigned int seed = getpid(), step, t;
	struct model m = { 0 };
	long long avail;
	int ret;

	TH_LOG("seed %u (replay: VSLICE_SEED=%u)", seed, seed);
	if (getenv("VSLICE_SEED"))
		seed = atoi(getenv("VSLICE_SEED"));

	for (step = 0; step < 400; step++) {
		if (m.n && (rand_r(&seed) % 100 < 45 || m.n == MAX_INSTS)) {
			model_remove(&m, rand_r(&seed) % m.n);
		} else {
			t = rand_r(&seed) % ARRAY_SIZE(types);
			avail = model_available(&m, self->vram, types[t].size);
			ret = model_create(&m, self->bdf, t);
			/* exactly the creates the model allows succeed */
			ASSERT_EQ(avail ? 0 : -ENOSPC, ret) {
				TH_LOG("step %u: %s with %lld available", step,
				       types[t].name, avail);
			}
		}
		model_rebuild(&m, self->vram);
		ASSERT_EQ(-1, model_mismatch(&m, self->bdf, self->vram));
	}
}

TEST_F(profile, reserved_vram_is_held_back)
{
	struct model m = { 0 };
	size_t plen;
	u8 *pvram;
	int i;

	policy_write(self->bdf, "reserved_mib", "64", 0);
	ASSERT_EQ(64, policy_read(self->bdf, "reserved_mib"));
	m.reserved = 64 * MIB;
	model_rebuild(&m, self->vram);
	ASSERT_EQ(-1, model_mismatch(&m, self->bdf, self->vram));
	ASSERT_EQ(3, vslice_type_available(self->bdf, "vslice-64M"));

	/* bad sizes */
	policy_write(self->bdf, "reserved_mib", "6", -EINVAL);
	policy_write(self->bdf, "reserved_mib", "512", -EINVAL);
	policy_write(self->bdf, "reserved_mib", "x", -EINVAL);

	/* fill what is left; the reserve cannot grow over tenants */
	while (!model_create(&m, self->bdf, 0))
		;
	ASSERT_EQ(48, m.n);
	policy_write(self->bdf, "reserved_mib", "68", -EBUSY);
	ASSERT_EQ(64, policy_read(self->bdf, "reserved_mib"));

	/* the host scribbles on its reserve, then gives it back */
	pvram = vslice_map_parent_vram(self->bdf, &plen);
	vslice_fill(pvram + self->vram - 64 * MIB, 64 * MIB, 0xbad);
	policy_write(self->bdf, "reserved_mib", "0", 0);
	m.reserved = 0;
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, model_create(&m, self->bdf, 0));
		ASSERT_EQ(-1, vslice_check_zero(pvram + m.off[m.n - 1],
						GRANULE)) {
			TH_LOG("a tenant got VRAM the host had written");
		}
	}
	munmap(pvram, plen);
	model_rebuild(&m, self->vram);
	ASSERT_EQ(-1, model_mismatch(&m, self->bdf, self->vram));

	/*
	 * Growing over granules that are free again works.  The card is
	 * full, so a slice sits in the top granule (which one depends on the
	 * order in which the scrubber handed the reserve's granules back).
	 */
	ASSERT_EQ(self->vram / GRANULE, m.n);
	for (i = 0; i < m.n && m.off[i] != self->vram - GRANULE; i++)
		;
	ASSERT_LT(i, m.n) TH_LOG("no instance in the top granule");
	model_remove(&m, i);
	policy_write(self->bdf, "reserved_mib", "4", 0);
	m.reserved = GRANULE;
	model_rebuild(&m, self->vram);
	ASSERT_EQ(-1, model_mismatch(&m, self->bdf, self->vram));
}

TEST_F(profile, max_instances_caps_creation)
{
	char uuid[4][VSLICE_UUID_LEN];

	policy_write(self->bdf, "max_instances", "3", 0);
	ASSERT_EQ(3, vslice_type_available(self->bdf, "vslice-4M"));
	ASSERT_EQ(3, vslice_type_available(self->bdf, "vslice-64M"));
	vslice_create_assert(self->bdf, "vslice-4M", uuid[0]);
	vslice_create_assert(self->bdf, "vslice-16M", uuid[1]);
	ASSERT_EQ(1, vslice_type_available(self->bdf, "vslice-4M"));
	vslice_create_assert(self->bdf, "vslice-64M", uuid[2]);
	ASSERT_EQ(0, vslice_type_available(self->bdf, "vslice-4M"));
	ASSERT_EQ(-EUSERS, vslice_create(self->bdf, "vslice-4M", uuid[3]));
	ASSERT_EQ(3, vslice_inst_count(self->bdf));

	/* lowering below what exists is refused; raising works */
	policy_write(self->bdf, "max_instances", "2", -EBUSY);
	ASSERT_EQ(3, policy_read(self->bdf, "max_instances"));
	policy_write(self->bdf, "max_instances", "4", 0);
	vslice_create_assert(self->bdf, "vslice-4M", uuid[3]);
	policy_write(self->bdf, "max_instances", "0", 0);
	ASSERT_EQ(256 / 4 - 1 - 4 - 16 - 1,
		  vslice_type_available(self->bdf, "vslice-4M"));
}

TEST_F(profile, offered_types_can_be_restricted)
{
	char uuid[2][VSLICE_UUID_LEN], buf[64];
	char path[PATH_MAX];

	vslice_create_assert(self->bdf, "vslice-8M", uuid[0]);
	policy_write(self->bdf, "types", "4M vslice-16M", 0);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vslice/types",
		 self->bdf);
	ASSERT_EQ(0, vslice_sysfs_read(path, buf, sizeof(buf)));
	ASSERT_STREQ("4M 16M", buf);

	ASSERT_EQ(0, vslice_type_available(self->bdf, "vslice-8M"));
	ASSERT_EQ(-EPERM, vslice_create(self->bdf, "vslice-8M", uuid[1]));
	ASSERT_GT(vslice_type_available(self->bdf, "vslice-16M"), 0);
	/* the 8M instance that exists stays */
	ASSERT_EQ(1, vslice_inst_count(self->bdf));
	ASSERT_EQ(8 * MIB, vslice_inst_attr_ll(uuid[0], "vram_size"));

	policy_write(self->bdf, "types", "12M", -EINVAL);
	policy_write(self->bdf, "types", "all", 0);
	ASSERT_GT(vslice_type_available(self->bdf, "vslice-8M"), 0);
}

TEST_F(profile, instance_attributes_read_only_and_counting)
{
	char uuid[VSLICE_UUID_LEN], path[PATH_MAX], buf[128];
	struct vslice_dev dev;
	u32 v;

	vslice_create_assert(self->bdf, "vslice-16M", uuid);
	ASSERT_EQ(0, vslice_inst_attr(uuid, "parent", buf, sizeof(buf)));
	ASSERT_STREQ(self->bdf, buf);
	ASSERT_EQ(16 * MIB, vslice_inst_attr_ll(uuid, "vram_size"));
	ASSERT_EQ(0, vslice_inst_attr_ll(uuid, "vram_offset") % (16 * MIB));
	ASSERT_EQ(0, vslice_inst_attr(uuid, "mode", buf, sizeof(buf)));
	ASSERT_STREQ("off", buf);
	ASSERT_EQ(0, vslice_inst_attr_ll(uuid, "opens"));

	vslice_dev_open_assert(&dev, uuid);
	ASSERT_EQ(1, vslice_inst_attr_ll(uuid, "opens"));
	/* the debugging counters are in debugfs, not sysfs ABI */
	ASSERT_EQ(0, vslice_inst_debug_ll(uuid, "trapped"));
	v = vslice_cfg_read(dev.fd, 0, 4);
	v = vslice_mmio_read(dev.fd, 0x500, 2);
	ASSERT_EQ(2, vslice_inst_debug_ll(uuid, "trapped"));
	ASSERT_EQ(0, ioctl(dev.fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(1, vslice_inst_debug_ll(uuid, "resets"));
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/vslice/trapped",
		 uuid);
	ASSERT_NE(0, access(path, F_OK));
	vslice_dev_close(&dev);
	(void)v;

	/* nothing under vslice/ can be written */
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/vslice/vram_offset",
		 uuid);
	ASSERT_EQ(-EACCES, vslice_sysfs_write(path, "0"));
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/vslice/vram_size",
		 uuid);
	ASSERT_EQ(-EACCES, vslice_sysfs_write(path, "1"));
}

TEST_HARNESS_MAIN
