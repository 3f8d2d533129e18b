// SPDX-License-Identifier: GPL-2.0-only
/*
 * End to end: a running nested guest migrates with its instance.
 *
 * Inside the test VM, a QEMU of 8.0 or later (VFIO migration v2; the
 * test bed takes one from bookworm-backports, VSLICE_MIGRATION_QEMU)
 * runs the nested guest of the display tests on an instance, with
 * `-device vfio-pci,sysfsdev=...,display=on,enable-migration=on`.  The
 * guest draws a pattern; a second QEMU, started with "-incoming defer"
 * on another instance of the same type, takes the guest over (live
 * migration through a socket pair) while the guest redraws its frame in a
 * loop, writing its VRAM all through.  Where the kernel has PRE_COPY and
 * the data-size query (6.12, 7.x), QEMU's own downtime limit decides the
 * switchover and the migration must converge by itself, the instance's
 * VRAM pre-copied and the pages the guest wrote again sent again; on 6.1
 * the switchover is forced (the device cannot say how much is left).
 * Afterwards the guest's loop must draw on in the new QEMU, the frame
 * must be in the new instance's slice where its mode attribute says, the
 * mode must be the one the old instance had, QEMU's screendump must show
 * it, and the guest must draw a new frame.
 *
 * nested_migration.same_parent.*   to another instance of the same card
 * nested_migration.other_parent.*  on to an instance of the second card
 *                                  (bound to vslice for the test)
 *
 * The first migrate test boots the guest; the second takes the guest the
 * first left running (or boots one, if the first failed).  Each test
 * finds the running guest through WORK_DIR/current.  A source guest that
 * dies of a triple fault while it migrates (the test VM's emulated nested
 * paging, see Flakes in testing.rst) is replaced by a new one, up to
 * twice.
 *
 * Environment (the test bed writes it into /vslice/env):
 *   VSLICE_NESTED_ROOT      where the host's root is (default /host)
 *   VSLICE_NESTED_DIR       directory of the nested guests, a host path
 *   VSLICE_NESTED_GUESTS    guest kernels; the first one migrates
 *   VSLICE_MIGRATION_QEMU   the QEMU, a host path ("none": skip)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"
#include "lib/nested.h"

/* The smallest profile: 800x600, the fewest pixels to draw nested. */
#define MIG_TYPE	"vslice-4M"
#define MIG_MEM_MB	256	/* less guest RAM, less to migrate */
#define WORK_DIR	"/tmp/vslice-migrate"
#define BOOT_TIMEOUT	600	/* s from QEMU's start to the guest's "ready" */
#define DRAW_TIMEOUT	300
#define MIGRATE_TIMEOUT	600
#define SETTLE_TIMEOUT	60	/* s for a drawn frame to reach the scanout */
#define MIGRATE_RETRIES	2	/* new guests for ones killed by nested paging */
#define TRACING		"/sys/kernel/debug/tracing"
/*
 * The loop that draws the frame until /tmp/stop-drawing is there (the
 * seed goes between the two halves), the frames it drew, and a check that
 * the count grows.
 */
#define DRAWN		"/tmp/drawn"
#define DRAW_LOOP	"rm -f /tmp/stop-drawing " DRAWN "; n=0; " \
			"(while [ ! -e /tmp/stop-drawing ]; do " \
			"/vslice/vslice-fbdraw "
#define DRAW_LOOP_END	" && n=$((n + 1)) && echo $n >" DRAWN "; " \
			"done) >/dev/null 2>&1 &"
#define DRAWS_ON	"a=$(cat " DRAWN " 2>/dev/null); i=0; " \
			"while [ \"$(cat " DRAWN " 2>/dev/null)\" = \"$a\" ] && " \
			"[ $i -lt 1000 ]; do sleep 0.25; i=$((i + 1)); done; " \
			"[ \"$(cat " DRAWN " 2>/dev/null)\" != \"$a\" ]"

static struct {
	const char *root;
	const char *dir;
	char guest[64];
	const char *qemu;
} cfg;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void config_load(void)
{
	const char *guests = getenv("VSLICE_NESTED_GUESTS");

	cfg.root = getenv("VSLICE_NESTED_ROOT") ?: "/host";
	cfg.dir = getenv("VSLICE_NESTED_DIR") ?: "";
	cfg.qemu = getenv("VSLICE_MIGRATION_QEMU") ?: "";
	if (guests)
		sscanf(guests, "%63s", cfg.guest);
}

/* A small file of WORK_DIR: which guest runs, why the tests skip. */
static int work_put(const char *name, const char *val)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), WORK_DIR "/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(val, f);
	return fclose(f) ? -errno : 0;
}

static void work_get(const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), WORK_DIR "/%s", name);
	if (vslice_sysfs_read(path, buf, len))
		buf[0] = '\0';
}

FIXTURE(nested_migration) {
	struct vslice_nested src;
	struct vslice_nested dst;
};

FIXTURE_VARIANT(nested_migration) {
	bool other_parent;
};

FIXTURE_VARIANT_ADD(nested_migration, same_parent) {
	.other_parent = false,
};

FIXTURE_VARIANT_ADD(nested_migration, other_parent) {
	.other_parent = true,
};

static const char *variant_name(bool other_parent)
{
	return other_parent ? "other_parent" : "same_parent";
}

FIXTURE_SETUP(nested_migration)
{
	char skip[256];

	memset(&self->src, 0, sizeof(self->src));
	memset(&self->dst, 0, sizeof(self->dst));
	self->src.qmp = -1;
	self->src.ctl = -1;
	self->dst.qmp = -1;
	self->dst.ctl = -1;
	if (!*cfg.dir)
		SKIP(return, "no nested guests (VSLICE_NESTED_DIR is unset)");
	if (!*cfg.guest || !strcmp(cfg.guest, "none"))
		SKIP(return, "no nested guest kernel (VSLICE_NESTED_GUESTS)");
	if (!strcmp(cfg.qemu, "none"))
		SKIP(return, "no migration QEMU (VSLICE_MIGRATION_QEMU=none)");
	ASSERT_NE(0, *cfg.qemu) {
		TH_LOG("no QEMU of 8.0 or later (scripts/bed qemu-bpo)");
	}
	if (!vslice_parent())
		SKIP(return, "no bochs-display (1234:1111) in this machine");
	if (variant->other_parent && !vslice_spare())
		SKIP(return, "needs a second bochs-display");
	work_get("skip", skip, sizeof(skip));
	if (*skip)
		SKIP(return, "%s", skip);
}

FIXTURE_TEARDOWN(nested_migration)
{
	vslice_nested_detach(&self->src);
	vslice_nested_detach(&self->dst);
}

/* Attach to the running guest; false if there is none. */
static bool guest_current(struct vslice_nested *g)
{
	char dir[256], status[32];

	work_get("current", dir, sizeof(dir));
	if (!*dir || vslice_nested_attach(g, dir))
		return false;
	/* a guest its KVM stopped (a failed migration's source) is no use */
	if (!vslice_nested_status(g, status, sizeof(status)) &&
	    !strcmp(status, "running"))
		return true;
	vslice_nested_stop(g, 30);
	return false;
}

/*
 * Start QEMU in a new work directory on a new instance of @bdf: the
 * guest's QEMU, or (@incoming) one that waits for it.
 */
/*
 * Fill @o to start the guest as every QEMU of these tests starts it, with
 * @device; @kernel and @initrd (PATH_MAX each) get its files.
 */
static void guest_opts(struct vslice_nested_opts *o, const char *device,
		       char *kernel, char *initrd)
{
	snprintf(kernel, PATH_MAX, "%s/%s/vmlinuz", cfg.dir, cfg.guest);
	snprintf(initrd, PATH_MAX, "%s/%s/initrd.img", cfg.dir, cfg.guest);
	memset(o, 0, sizeof(*o));
	o->qemu = cfg.qemu;
	o->root = *cfg.root ? cfg.root : NULL;
	o->kernel = kernel;
	o->initrd = initrd;
	o->device = device;
	o->mem_mb = MIG_MEM_MB;
}

static void guest_start(struct __test_metadata *_metadata,
			struct vslice_nested *g, const char *bdf,
			bool incoming)
{
	static const char * const defer[] = { "-incoming", "defer", NULL };
	char kernel[PATH_MAX], initrd[PATH_MAX], path[PATH_MAX], dev[256] = "";
	char uuid[VSLICE_UUID_LEN], dir[256];
	struct vslice_nested_opts o;
	int ret, n;

	guest_opts(&o, dev, kernel, initrd);
	snprintf(path, sizeof(path), "%s%s", cfg.root, initrd);
	ASSERT_EQ(0, access(path, R_OK)) {
		TH_LOG("no nested guest %s at %s (scripts/bed nested %s)",
		       cfg.guest, path, cfg.guest);
	}
	snprintf(path, sizeof(path), "%s%s", cfg.root, cfg.qemu);
	ASSERT_EQ(0, access(path, X_OK)) {
		TH_LOG("no migration QEMU at %s (scripts/bed qemu-bpo)", path);
	}
	vslice_create_assert(bdf, MIG_TYPE, uuid);
	ASSERT_EQ(1, vslice_nested_probe_display(uuid)) {
		TH_LOG("the instance has no region plane");
	}
	snprintf(dev, sizeof(dev),
		 "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,display=on,enable-migration=on",
		 uuid);
	o.extra = incoming ? defer : NULL;

	mkdir(WORK_DIR, 0755);
	for (n = 0;; n++) {
		snprintf(dir, sizeof(dir), WORK_DIR "/q%d", n);
		if (!mkdir(dir, 0755))
			break;
		ASSERT_EQ(EEXIST, errno);
	}
	ret = vslice_nested_start(g, dir, &o);
	vslice_nested_put(g, "uuid", uuid);
	if (ret)
		vslice_nested_dump(g, 30);
	ASSERT_EQ(0, ret);
}

/* Stop a QEMU of WORK_DIR and remove its instance. */
static int guest_end(struct vslice_nested *g)
{
	char uuid[VSLICE_UUID_LEN];
	int ret = 0;

	if (vslice_nested_alive(g))
		ret = vslice_nested_stop(g, 60);
	if (!vslice_nested_get(g, "uuid", uuid, sizeof(uuid)) && *uuid) {
		if (vslice_remove(uuid) && !ret)
			ret = -EBUSY;
		vslice_nested_put(g, "uuid", "");
	}
	return ret;
}

/* The frame @f on screen in instance @uuid's slice, within the settle time. */
static bool frame_in_vram(struct __test_metadata *_metadata, const char *uuid,
			  const struct vslice_frame *f)
{
	char bdf[VSLICE_BDF_LEN], mode[128] = "";
	u64 slice_off, slice_size;
	struct vslice_mode m = { 0 };
	long long bad = -2;
	size_t vram_len;
	double end;
	u32 got = 0;
	u8 *vram;

	if (vslice_inst_attr(uuid, "parent", bdf, sizeof(bdf)))
		return false;
	bdf[strcspn(bdf, "\n")] = '\0';
	slice_off = vslice_inst_attr_ll(uuid, "vram_offset");
	slice_size = vslice_inst_attr_ll(uuid, "vram_size");
	vram = vslice_map_parent_vram(bdf, &vram_len);
	if (slice_off + slice_size > vram_len) {
		munmap(vram, vram_len);
		return false;
	}
	/* The guest's fbdev emulation copies to VRAM from a worker. */
	for (end = now_s() + SETTLE_TIMEOUT; now_s() < end; usleep(200000)) {
		if (vslice_mode_get(uuid, &m, mode, sizeof(mode)) ||
		    m.offset + (u64)m.stride * m.height > slice_size)
			continue;
		bad = vslice_frame_diff(vram + slice_off + m.offset, m.stride,
					f, &got);
		if (bad < 0)
			break;
	}
	munmap(vram, vram_len);
	if (bad >= 0)
		TH_LOG("%s: mode %s, pixel (%lld, %lld) is 0x%06x, not 0x%06x",
		       bdf, mode, bad % f->width, bad / f->width, got,
		       vslice_pixel(f->seed, bad % f->width, bad / f->width));
	else if (bad == -2)
		TH_LOG("%s: no usable scanout: mode %s", bdf, mode);
	else
		TH_LOG("frame of seed %llu in %s's slice at 0x%llx, mode %s",
		       (unsigned long long)f->seed, bdf,
		       (unsigned long long)slice_off, mode);
	return bad == -1;
}

/* QEMU's screendump of @g's display shows @f, within the settle time. */
static bool frame_on_screen(struct __test_metadata *_metadata,
			    struct vslice_nested *g,
			    const struct vslice_frame *f)
{
	struct vslice_ppm img = { 0 };
	char path[PATH_MAX];
	long long bad = -2;
	double end;
	u32 got = 0;
	int ret = 0;

	vslice_nested_path(g, "screen.ppm", path, sizeof(path));
	for (end = now_s() + SETTLE_TIMEOUT; now_s() < end; usleep(500000)) {
		vslice_ppm_free(&img);
		ret = vslice_nested_screendump(g, path);
		if (ret || vslice_ppm_read(path, &img))
			continue;
		bad = vslice_ppm_diff(&img, f, &got);
		if (bad == -1)
			break;
	}
	if (bad == -2)
		TH_LOG("screendump: %d, %ux%u, not %ux%u", ret, img.width,
		       img.height, f->width, f->height);
	else if (bad >= 0)
		TH_LOG("screendump pixel (%lld, %lld) is %06x, not %06x",
		       bad % f->width, bad / f->width, got,
		       vslice_pixel(f->seed, bad % f->width, bad / f->width));
	vslice_ppm_free(&img);
	return bad == -1;
}

/* Draw a new pattern in @g; kept in its work directory as "drawn". */
static void draw(struct __test_metadata *_metadata, struct vslice_nested *g,
		 struct vslice_frame *f)
{
	u64 seed = 0x5eed0000 + (u64)(now_s() * 1000);
	int ret;

	ret = vslice_nested_draw(g, seed, f, DRAW_TIMEOUT);
	if (ret)
		vslice_nested_dump(g, 20);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, vslice_frame_put(g, "drawn", f));
}

/*
 * Boot the guest on a new instance of the first card and let it draw.
 * A guest whose kernel dies before userspace (two levels of TCG; see
 * vslice_nested_boot_wait()) is booted once more; twice, the tests skip,
 * saying so.
 */
static void boot(struct __test_metadata *_metadata, struct vslice_nested *g)
{
	char uuid[VSLICE_UUID_LEN], kernel[PATH_MAX], initrd[PATH_MAX];
	struct vslice_nested_opts o;
	struct vslice_frame f;
	double t0;
	int ret, tries;

	for (tries = 0;; tries++) {
		t0 = now_s();
		guest_start(_metadata, g, vslice_parent(), false);
		ret = vslice_nested_boot_wait(g, BOOT_TIMEOUT);
		if (!ret)
			break;
		ASSERT_EQ(-EAGAIN, ret) {
			TH_LOG("guest %s not ready within %d s (%d)", cfg.guest,
			       BOOT_TIMEOUT, ret);
		}
		EXPECT_EQ(0, guest_end(g));
		if (tries) {
			/* the skip stands if QEMU's own device dies too */
			guest_opts(&o, NULL, kernel, initrd);
			ret = vslice_nested_reference_boot(&o, BOOT_TIMEOUT);
			ASSERT_EQ(-EAGAIN, ret) {
				TH_LOG("guest %s " VSLICE_NESTED_NOT_ON_REFERENCE
				       " (%s)", cfg.guest, ret ? strerror(-ret) :
				       "it reached userspace");
			}
			work_put("skip", VSLICE_NESTED_EARLY_PANIC);
			SKIP(return, VSLICE_NESTED_EARLY_PANIC);
		}
		TH_LOG("vslice-retry: guest %s: kernel panic before userspace: booting once more",
		       cfg.guest);
	}
	ASSERT_EQ(0, vslice_nested_wait(g, 0, "driver bochs-drm", 0, NULL, 0)) {
		vslice_nested_dump(g, 40);
	}
	ASSERT_EQ(0, work_put("current", g->dir));
	TH_LOG("guest %s ready %.0f s after QEMU started (%s)", cfg.guest,
	       now_s() - t0, vslice_nested_accel());
	draw(_metadata, g, &f);
	ASSERT_EQ(0, vslice_nested_get(g, "uuid", uuid, sizeof(uuid)));
	ASSERT_TRUE(frame_in_vram(_metadata, uuid, &f));
}

/* Pick the figures worth a line out of a query-migrate answer. */
static void log_migration(struct __test_metadata *_metadata, const char *info)
{
	static const char * const keys[] = {
		"\"status\"", "\"total-time\"", "\"downtime\"",
		"\"setup-time\"", "\"vfio\"", "\"transferred\"",
		"\"error-desc\"",
	};
	char line[1024] = "";
	size_t n = 0, k;
	const char *p;

	for (k = 0; k < ARRAY_SIZE(keys); k++) {
		p = strstr(info, keys[k]);
		if (!p)
			continue;
		n += snprintf(line + n, sizeof(line) - n, "%s%.*s",
			      n ? ", " : "", (int)strcspn(p, ",}"), p);
		if (n >= sizeof(line))
			break;
	}
	TH_LOG("query-migrate: %s", line);
}

/* KVM's events of the test VM that say why it emulated a guest's access. */
static const char * const kvm_events[] = {
	"kvm/kvm_emulate_insn", "kvm/kvm_page_fault", "kvm/kvm_mmio",
	"kvm/kvm_exit", "kvm/kvm_userspace_exit",
};

static void kvm_trace(bool on)
{
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kvm_events); i++) {
		snprintf(path, sizeof(path), TRACING "/events/%s/enable",
			 kvm_events[i]);
		vslice_sysfs_write(path, on ? "1" : "0");
	}
	vslice_sysfs_write(TRACING "/tracing_on", on ? "1" : "0");
}

/*
 * The guest redraws its frame (the same pattern: the frame checks after
 * the move hold) in a loop, counting each frame in DRAWN; KVM's events of
 * this VM are traced meanwhile, so that a guest that dies shows what KVM
 * saw last.  Returns once the guest has drawn a frame.
 */
static void draw_start(struct __test_metadata *_metadata,
		       struct vslice_nested *g, u64 seed)
{
	vslice_sysfs_write(TRACING "/buffer_size_kb", "16384");
	vslice_sysfs_write(TRACING "/trace", "");
	kvm_trace(true);
	ASSERT_EQ(0, vslice_nested_cmd(g, 60, NULL, "sh %s%llu%s", DRAW_LOOP,
				       (unsigned long long)seed, DRAW_LOOP_END));
	ASSERT_EQ(0, vslice_nested_cmd(g, DRAW_TIMEOUT, NULL, "sh %s",
				       DRAWS_ON));
}

/*
 * The guest that runs now (@g) stops drawing; if the migration went
 * through (@ret 0), its loop must have drawn on there.
 */
static void draw_stop(struct __test_metadata *_metadata,
		      struct vslice_nested *g, int ret)
{
	char cmd[PATH_MAX + 64];

	kvm_trace(false);
	if (ret) {
		TH_LOG("KVM's events before the failure:");
		snprintf(cmd, sizeof(cmd), "%s %s/trace | tail -n 40",
			 "grep -v 'kvm_exit\\|userspace_exit'", TRACING);
		EXPECT_EQ(0, system(cmd));
		snprintf(cmd, sizeof(cmd), "tail -n 20 %s/trace", TRACING);
		EXPECT_EQ(0, system(cmd));
	} else {
		EXPECT_EQ(0, vslice_nested_cmd(g, DRAW_TIMEOUT, NULL, "sh %s",
					       DRAWS_ON)) {
			TH_LOG("the migrated guest does not draw on");
		}
	}
	vslice_nested_cmd(g, 120, NULL,
			  "sh touch /tmp/stop-drawing; while pidof vslice-fbdraw >/dev/null; do sleep 0.2; done");
}

/*
 * Did a guest of this VM die of a triple fault since draw_start()?  KVM
 * tells its VMM so (KVM_EXIT_SHUTDOWN), which the trace shows.  The test
 * VM's emulated nested paging kills a nested guest that way now and
 * then, in RAM that vslice never maps (testing.rst, Flakes); a VRAM
 * access that vslice failed ends KVM_RUN with -EFAULT instead.
 */
#define TRIPLE_FAULT_RETRY						\
	"the source guest died of a triple fault (KVM_EXIT_SHUTDOWN) in "	\
	"the test VM's nested paging: a new guest migrates once more"

static bool guest_triple_faulted(void)
{
	return !system("grep -q 'reason KVM_EXIT_SHUTDOWN' " TRACING "/trace");
}

/*
 * The guest to migrate (the one that runs, or a new one), the frame it
 * drew and its mode (@from, @f, @mode of 128 bytes), and a QEMU that
 * waits for it on a new instance of @bdf.
 */
static void migrate_prepare(struct __test_metadata *_metadata,
			    struct vslice_nested *src, struct vslice_nested *dst,
			    const char *bdf, char *from, struct vslice_frame *f,
			    char *mode)
{
	char to[VSLICE_UUID_LEN];
	struct vslice_mode m;

	if (!guest_current(src))
		boot(_metadata, src);

	/* What the instance shows before: the frame and its mode. */
	ASSERT_EQ(0, vslice_nested_get(src, "uuid", from, VSLICE_UUID_LEN));
	ASSERT_EQ(0, vslice_frame_get(src, "drawn", f));
	ASSERT_TRUE(frame_in_vram(_metadata, from, f));
	ASSERT_EQ(0, vslice_mode_get(from, &m, mode, 128));

	guest_start(_metadata, dst, bdf, true);
	ASSERT_EQ(0, vslice_nested_get(dst, "uuid", to, sizeof(to)));
	ASSERT_EQ(0, vslice_frame_put(dst, "drawn", f));
	ASSERT_EQ(0, vslice_nested_put(dst, "mode-before", mode));
	TH_LOG("migrating from %s (%s) to %s (%s)", from, vslice_parent(), to,
	       bdf);
}

/* Bytes of the VFIO devices' state in a query-migrate answer, or -1. */
static long long vfio_bytes(const char *info)
{
	const char *p = strstr(info, "\"vfio\"");

	p = p ? strstr(p, "\"transferred\": ") : NULL;
	return p ? strtoll(p + strlen("\"transferred\": "), NULL, 10) : -1;
}

TEST_F_TIMEOUT(nested_migration, migrate,
	       2 * BOOT_TIMEOUT + 3 * DRAW_TIMEOUT + MIGRATE_TIMEOUT +
	       2 * SETTLE_TIMEOUT)
{
	char info[8192], from[VSLICE_UUID_LEN], mode[128], status[32];
	const char *bdf;
	struct vslice_frame f;
	bool force;
	double t0;
	int ret, tries;

	unlink(WORK_DIR "/migrated");
	if (variant->other_parent)
		ASSERT_EQ(0, vslice_bind(vslice_spare(), "vslice"));
	bdf = variant->other_parent ? vslice_spare() : vslice_parent();

	/*
	 * Where the device pre-copies its VRAM and says how much is left
	 * (6.3 on: PRE_COPY and the data-size query), QEMU's own limits
	 * decide the switchover: the guest, drawing all along, converges.
	 */
	force = !vslice_kernel_at_least(6, 3);
	/*
	 * A source guest that the test VM's nested paging killed (a triple
	 * fault, see guest_triple_faulted()) is replaced by a new one, which
	 * migrates once more, up to MIGRATE_RETRIES times; any other failure
	 * fails.
	 */
	for (tries = 0;; tries++) {
		migrate_prepare(_metadata, &self->src, &self->dst, bdf, from,
				&f, mode);
		TH_LOG("%s", force ?
		       "switchover forced: the kernel cannot say how much device state is left" :
		       "QEMU's own downtime limit: the migration must converge by itself");
		draw_start(_metadata, &self->src, f.seed);
		t0 = now_s();
		ret = vslice_nested_migrate(&self->src, &self->dst,
					    MIGRATE_TIMEOUT, force, info,
					    sizeof(info));
		TH_LOG("migration: %d after %.1f s", ret, now_s() - t0);
		draw_stop(_metadata, ret ? &self->src : &self->dst, ret);
		log_migration(_metadata, info);
		if (ret) {
			TH_LOG("source:");
			vslice_nested_dump(&self->src, 20);
			TH_LOG("destination:");
			vslice_nested_dump(&self->dst, 20);
		}
		if (!ret || tries == MIGRATE_RETRIES || !guest_triple_faulted())
			break;
		TH_LOG("vslice-retry: %s", TRIPLE_FAULT_RETRY);
		EXPECT_EQ(0, guest_end(&self->src));
		EXPECT_EQ(0, guest_end(&self->dst));
		vslice_nested_detach(&self->src);
		vslice_nested_detach(&self->dst);
		unlink(WORK_DIR "/current");
	}
	ASSERT_EQ(0, ret);
	/* The device's state went through the stream, VRAM and all... */
	EXPECT_LE(4 * VSLICE_MIB, vfio_bytes(info));
	/* ...and, pre-copied, the pages the drawing guest wrote again */
	if (!force)
		EXPECT_LT(4 * VSLICE_MIB + 2 * 4096, vfio_bytes(info));

	/* The guest is the destination's now; the source ends. */
	ASSERT_EQ(0, work_put("current", self->dst.dir));
	ASSERT_EQ(0, work_put("migrated", variant_name(variant->other_parent)));
	ret = vslice_nested_status(&self->src, status, sizeof(status));
	if (ret) {
		TH_LOG("source after the migration: %s (its QEMU %s)",
		       strerror(-ret),
		       vslice_nested_alive(&self->src) ? "runs" : "is gone");
		vslice_nested_dump(&self->src, 20);
	}
	ASSERT_EQ(0, ret);
	EXPECT_STREQ("postmigrate", status);
	EXPECT_EQ(0, guest_end(&self->src));
}

/* Attach to the guest this variant's migrate test moved. */
static void migrated(struct __test_metadata *_metadata, bool other_parent,
		     struct vslice_nested *g, char *uuid)
{
	char done[32];

	work_get("migrated", done, sizeof(done));
	ASSERT_STREQ(variant_name(other_parent), done) {
		TH_LOG("this variant's guest did not move (see its migrate test)");
	}
	ASSERT_TRUE(guest_current(g));
	ASSERT_EQ(0, vslice_nested_get(g, "uuid", uuid, VSLICE_UUID_LEN));
}

TEST_F_TIMEOUT(nested_migration, fb_in_vram, SETTLE_TIMEOUT + 60)
{
	char uuid[VSLICE_UUID_LEN];
	struct vslice_frame f;

	migrated(_metadata, variant->other_parent, &self->dst, uuid);
	ASSERT_EQ(0, vslice_frame_get(&self->dst, "drawn", &f));
	ASSERT_TRUE(frame_in_vram(_metadata, uuid, &f));
}

TEST_F_TIMEOUT(nested_migration, mode_attribute, 60)
{
	char uuid[VSLICE_UUID_LEN], before[128], after[128];
	struct vslice_mode m;

	migrated(_metadata, variant->other_parent, &self->dst, uuid);
	ASSERT_EQ(0, vslice_nested_get(&self->dst, "mode-before", before,
				       sizeof(before)));
	ASSERT_EQ(0, vslice_mode_get(uuid, &m, after, sizeof(after)));
	TH_LOG("mode before %s, after %s", before, after);
	ASSERT_STREQ(before, after);
}

TEST_F_TIMEOUT(nested_migration, screendump, SETTLE_TIMEOUT + 120)
{
	char uuid[VSLICE_UUID_LEN];
	struct vslice_frame f;

	migrated(_metadata, variant->other_parent, &self->dst, uuid);
	ASSERT_EQ(0, vslice_frame_get(&self->dst, "drawn", &f));
	ASSERT_TRUE(frame_on_screen(_metadata, &self->dst, &f));
}

TEST_F_TIMEOUT(nested_migration, draws_after,
	       DRAW_TIMEOUT + 2 * SETTLE_TIMEOUT + 120)
{
	char uuid[VSLICE_UUID_LEN];
	struct vslice_frame f;

	migrated(_metadata, variant->other_parent, &self->dst, uuid);
	draw(_metadata, &self->dst, &f);
	TH_LOG("the migrated guest drew seed %llu, %ux%u",
	       (unsigned long long)f.seed, f.width, f.height);
	ASSERT_TRUE(frame_in_vram(_metadata, uuid, &f));
	ASSERT_TRUE(frame_on_screen(_metadata, &self->dst, &f));
}

/*
 * Stop every QEMU of WORK_DIR, remove their instances, free the card.  A
 * guest that does not stop cleanly fails the program, whatever its tests
 * said.
 */
static void clean_up(void)
{
	const char *spare = vslice_spare();
	char dir[PATH_MAX];
	struct vslice_nested g;
	struct dirent *de;
	DIR *d = opendir(WORK_DIR);
	int bad = 0;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] != 'q')
			continue;
		snprintf(dir, sizeof(dir), WORK_DIR "/%s", de->d_name);
		if (vslice_nested_attach(&g, dir) == -ENOENT)
			continue;
		if (guest_end(&g)) {
			fprintf(stderr, "# stopping the guest of %s failed\n",
				dir);
			bad++;
		}
		vslice_nested_detach(&g);
	}
	if (d)
		closedir(d);
	unlink(WORK_DIR "/current");
	unlink(WORK_DIR "/migrated");
	unlink(WORK_DIR "/skip");
	if (spare && vslice_bind(spare, ""))
		bad++;
	if (bad)
		_exit(KSFT_FAIL);
}

int main(int argc, char **argv)
{
	config_load();
	/* Guests outlive the test that started them: they become ours. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	clean_up();
	/* test_harness_run() ends in exit(): clean up from there. */
	atexit(clean_up);
	return test_harness_run(argc, argv);
}
