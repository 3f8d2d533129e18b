// SPDX-License-Identifier: GPL-2.0-only
/*
 * Everything at once on one parent, for a bounded time: threads that
 * create and remove instances, tenants that open, map, write and check
 * their VRAM, poke config space and registers, reset and query planes,
 * a thread moving the physical scanout around, and readers of
 * availability.  Afterwards: every tenant's bytes were its own all along,
 * the pool is whole again, and the kernel log is clean.  Also: creates
 * racing for the last room never overbook.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define MIB		VSLICE_MIB
#define SZ4M		(4 * MIB)
#define TENANTS		6
#define CHURNERS	2
#define SECONDS_DEFAULT	20

struct stress {
	const char *bdf;
	bool stop;
	/* counters, and the first failure seen */
	unsigned long cycles, creates, removes, refused, scanouts;
	char failure[256];
	pthread_mutex_t lock;
};

static bool stopping(struct stress *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_RELAXED);
}

static void stress_fail(struct stress *s, const char *what, long long v)
{
	pthread_mutex_lock(&s->lock);
	if (!s->failure[0])
		snprintf(s->failure, sizeof(s->failure), "%s (%lld)", what, v);
	s->stop = true;
	pthread_mutex_unlock(&s->lock);
}

static void bump(struct stress *s, unsigned long *counter)
{
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

/*
 * A tenant: one instance for the whole run.  Every cycle it writes a new
 * pattern through its mapping, does trapped work, and checks that its
 * pattern is still all there: anyone else's write would show.
 */
struct tenant {
	struct stress *s;
	int id;
	char uuid[VSLICE_UUID_LEN];
};

static void *tenant_run(void *arg)
{
	struct vfio_device_gfx_plane_info plane;
	struct tenant *t = arg;
	struct stress *s = t->s;
	struct vslice_dev dev;
	unsigned int cycle = 0;
	u8 *bar0;
	long long bad;

	while (!stopping(s)) {
		u64 seed = ((u64)t->id << 32) | cycle++;

		if (vslice_dev_open(&dev, t->uuid)) {
			stress_fail(s, "tenant cannot open its instance", t->id);
			break;
		}
		bar0 = mmap(NULL, SZ4M, PROT_READ | PROT_WRITE, MAP_SHARED,
			    dev.fd, VSLICE_REGION_OFFSET(0));
		if (bar0 == MAP_FAILED) {
			stress_fail(s, "tenant cannot map its slice", t->id);
			vslice_dev_close(&dev);
			break;
		}
		vslice_fill(bar0, SZ4M, seed);

		/* trapped work that must not disturb VRAM */
		vslice_cfg_write(dev.fd, 0x3c, 1, cycle);
		if (vslice_cfg_read(dev.fd, 0x3c, 1) != (cycle & 0xff))
			stress_fail(s, "config write lost", t->id);
		vslice_mmio_write(dev.fd, 0x502, 2, 640);
		vslice_mmio_write(dev.fd, 0x504, 2, 480);
		vslice_mmio_write(dev.fd, 0x506, 2, 32);
		vslice_mmio_write(dev.fd, 0x508, 2, 0x41);
		memset(&plane, 0, sizeof(plane));
		plane.argsz = sizeof(plane);
		plane.flags = VFIO_GFX_PLANE_TYPE_REGION;
		plane.drm_plane_type = 1;
		if (ioctl(dev.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &plane))
			stress_fail(s, "plane query failed", errno);
		if (cycle % 3 == 0 && ioctl(dev.fd, VFIO_DEVICE_RESET))
			stress_fail(s, "reset failed", errno);

		bad = vslice_check(bar0, SZ4M, seed);
		if (bad != -1)
			stress_fail(s, "tenant's VRAM changed under it", bad);
		munmap(bar0, SZ4M);
		vslice_dev_close(&dev);
		bump(s, &s->cycles);
	}
	return NULL;
}

/* Create and remove short-lived instances of mixed sizes. */
static void *churn_run(void *arg)
{
	static const char * const types[] = {
		"vslice-4M", "vslice-8M", "vslice-16M", "vslice-32M",
	};
	struct stress *s = arg;
	char uuid[VSLICE_UUID_LEN];
	unsigned int seed = (unsigned int)(uintptr_t)&uuid;
	struct vslice_dev dev;
	u8 page[4096];
	int ret;

	while (!stopping(s)) {
		ret = vslice_create(s->bdf, types[rand_r(&seed) % 4], uuid);
		if (ret == -ENOSPC || ret == -EUSERS) {
			bump(s, &s->refused);
			continue;
		}
		if (ret) {
			stress_fail(s, "create failed", ret);
			break;
		}
		bump(s, &s->creates);
		/*
		 * A fresh instance starts clean at both ends, where every
		 * churner leaves a secret before it removes its instance.
		 */
		ret = vslice_dev_open(&dev, uuid);
		if (ret) {
			/* nobody else opens it: a check not made is a failure */
			stress_fail(s, "opening a new instance failed", ret);
		} else {
			u64 size = vslice_inst_attr_ll(uuid, "vram_size");

			if (pread(dev.fd, page, sizeof(page),
				  VSLICE_REGION_OFFSET(0)) != sizeof(page) ||
			    vslice_check_zero(page, sizeof(page)) != -1 ||
			    pread(dev.fd, page, sizeof(page),
				  VSLICE_REGION_OFFSET(0) + size - sizeof(page)) !=
			    sizeof(page) ||
			    vslice_check_zero(page, sizeof(page)) != -1)
				stress_fail(s, "new instance not clean", 0);
			memset(page, 0x5e, sizeof(page));
			if (pwrite(dev.fd, page, sizeof(page),
				   VSLICE_REGION_OFFSET(0)) != sizeof(page) ||
			    pwrite(dev.fd, page, sizeof(page),
				   VSLICE_REGION_OFFSET(0) + size - sizeof(page)) !=
			    sizeof(page))
				stress_fail(s, "write to new instance failed", 0);
			vslice_dev_close(&dev);
		}
		ret = vslice_remove(uuid);
		if (ret) {
			stress_fail(s, "remove failed", ret);
			break;
		}
		bump(s, &s->removes);
	}
	return NULL;
}

/* Move the physical screen among the tenants and off. */
static void *scanout_run(void *arg)
{
	struct tenant *t = arg;
	struct stress *s = t->s;
	char path[PATH_MAX];
	unsigned int i = 0;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vslice/scanout",
		 s->bdf);
	while (!stopping(s)) {
		int ret = vslice_sysfs_write(path, i % (TENANTS + 1) == TENANTS ?
					     "none" : t[i % (TENANTS + 1)].uuid);

		/* a narrow mode far into VRAM is refused; that is fine */
		if (ret && ret != -ERANGE)
			stress_fail(s, "scanout write failed", ret);
		i++;
		bump(s, &s->scanouts);
	}
	vslice_sysfs_write(path, "none");
	return NULL;
}

/* Read every type's availability: never more than fits. */
static void *reader_run(void *arg)
{
	struct stress *s = arg;
	long long n;

	while (!stopping(s)) {
		n = vslice_type_available(s->bdf, "vslice-4M");
		if (n < 0 || n > 64)
			stress_fail(s, "available_instances out of range", n);
	}
	return NULL;
}

FIXTURE(stress) {
	const char *bdf;
	int kmsg;
};

FIXTURE_SETUP(stress)
{
	self->bdf = vslice_parent();
	if (!self->bdf)
		SKIP(return, "no bochs-display (1234:1111) in this machine");
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	self->kmsg = vslice_kmsg_open();
}

FIXTURE_TEARDOWN(stress)
{
	EXPECT_EQ(0, vslice_remove_all(self->bdf));
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
}

TEST_F_TIMEOUT(stress, everything_at_once, 300)
{
	const char *env = getenv("VSLICE_STRESS_SECONDS");
	struct timespec ts = { env ? atoi(env) : SECONDS_DEFAULT, 0 };
	struct stress s = { .bdf = self->bdf };
	struct tenant t[TENANTS];
	pthread_t th[TENANTS + CHURNERS + 2];
	int i, n = 0;
	long long full = vslice_type_available(self->bdf, "vslice-4M");

	pthread_mutex_init(&s.lock, NULL);
	for (i = 0; i < TENANTS; i++) {
		t[i].s = &s;
		t[i].id = i;
		vslice_create_assert(self->bdf, "vslice-4M", t[i].uuid);
	}
	for (i = 0; i < TENANTS; i++)
		ASSERT_EQ(0, pthread_create(&th[n++], NULL, tenant_run, &t[i]));
	for (i = 0; i < CHURNERS; i++)
		ASSERT_EQ(0, pthread_create(&th[n++], NULL, churn_run, &s));
	ASSERT_EQ(0, pthread_create(&th[n++], NULL, scanout_run, t));
	ASSERT_EQ(0, pthread_create(&th[n++], NULL, reader_run, &s));

	nanosleep(&ts, NULL);
	__atomic_store_n(&s.stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);

	TH_LOG("%ld s: %lu tenant cycles, %lu creates, %lu removes, %lu refused, %lu scanout moves",
	       (long)ts.tv_sec, s.cycles, s.creates, s.removes, s.refused,
	       s.scanouts);
	ASSERT_STREQ("", s.failure);
	ASSERT_LT(0, s.cycles);
	ASSERT_LT(0, s.creates);

	/* the invariants: only the tenants are left, then nothing */
	ASSERT_EQ(TENANTS, vslice_inst_count(self->bdf));
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	ASSERT_EQ(full, vslice_type_available(self->bdf, "vslice-4M"));
	ASSERT_EQ(4, vslice_type_available(self->bdf, "vslice-64M"));
}

struct racer {
	const char *bdf;
	pthread_barrier_t *go;
	int ret;
	char uuid[VSLICE_UUID_LEN];
};

static void *race_create(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->go);
	r->ret = vslice_create(r->bdf, "vslice-16M", r->uuid);
	return NULL;
}

TEST_F(stress, parallel_creates_never_overbook)
{
	struct racer r[24];
	pthread_t th[24];
	pthread_barrier_t go;
	char fill[VSLICE_UUID_LEN];
	int i, ok = 0, full = 0;

	/* leave room for exactly 5 of the 16 MiB type */
	for (i = 0; i < 11; i++)
		vslice_create_assert(self->bdf, "vslice-16M", fill);
	ASSERT_EQ(5, vslice_type_available(self->bdf, "vslice-16M"));

	pthread_barrier_init(&go, NULL, 24);
	for (i = 0; i < 24; i++) {
		r[i].bdf = self->bdf;
		r[i].go = &go;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, race_create, &r[i]));
	}
	for (i = 0; i < 24; i++) {
		pthread_join(th[i], NULL);
		ok += r[i].ret == 0;
		full += r[i].ret == -ENOSPC;
	}
	ASSERT_EQ(5, ok);
	ASSERT_EQ(19, full);
	ASSERT_EQ(0, vslice_type_available(self->bdf, "vslice-16M"));
	ASSERT_EQ(16, vslice_inst_count(self->bdf));
}

TEST_HARNESS_MAIN
