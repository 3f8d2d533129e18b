// SPDX-License-Identifier: GPL-2.0-only
/*
 * End to end: a nested guest owns an instance.
 *
 * Inside the test VM, the host's own QEMU (from the host's root, shared by
 * 9p) starts a small guest (scripts/nested-init) with the instance as its
 * display, `-device vfio-pci,sysfsdev=...,display=on`.  The guest's stock
 * bochs driver must bind and set a mode; the guest draws a pattern through
 * /dev/fb0, and the pattern must be in the instance's slice of the
 * parent's VRAM and in QEMU's screendump of the guest's display.
 *
 * display.GUEST.*  one variant per nested guest kernel
 *                  (VSLICE_NESTED_GUESTS): boot, the pattern in VRAM, the
 *                  mode attribute, the screendump
 * edu.GUEST.*      the display guest has an edu instance too (when the
 *                  test VM has an edu parent; igt's guests have the display
 *                  alone, as the reference): a user-space driver in the guest
 *                  (selftests/vslice-edu-uio.c, on uio_pci_generic) runs
 *                  factorials and DMAs on it, each ending in an interrupt
 *                  delivered into the guest
 * igt.reference    igt-gpu-tools programs (igt_tests.h) run in the igt
 *                  guest (VSLICE_IGT_GUEST) on QEMU's own bochs-display,
 *                  started by the same QEMU on the same accelerator in this
 *                  VM as the instance's guest: the reference
 * igt.TEST         each program run in the same guest on an instance:
 *                  every subtest that succeeds on the reference must
 *                  succeed on the instance, and the guest's kernel log must
 *                  stay free of warnings
 *
 * One guest serves all tests of its kernel: the first test starts it and
 * the others attach to it through its work directory; one guest runs at a
 * time, and the last is stopped when the harness is done.
 *
 * Environment (the test bed writes it into /vslice/env):
 *   VSLICE_NESTED_ROOT   where the host's root is (default /host)
 *   VSLICE_NESTED_DIR    directory of the nested guests, a host path;
 *                        GUEST/vmlinuz, GUEST/initrd.img
 *   VSLICE_NESTED_GUESTS guest kernels to run the display tests on
 *   VSLICE_IGT_GUEST     guest kernel that runs igt (empty: none)
 *   VSLICE_IGT_ROOT      root holding igt's programs, a host path
 *   VSLICE_IGT_TESTS     only these programs of igt_tests.h (default: all)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"
#include "lib/nested.h"
#include "lib/igt.h"
#include "lib/edu.h"
#include "igt_tests.h"

/* The smallest profile: 800x600, the fewest pixels to draw nested. */
#define GUEST_TYPE	"vslice-4M"
#define SCANOUT_RESERVE_MIB "64"	/* see guest_boot() */
#define WORK_DIR	"/tmp/vslice-nested"
#define BOOT_TIMEOUT	600	/* s from QEMU's start to the guest's "ready" */
#define DRAW_TIMEOUT	300
#define SETTLE_TIMEOUT	60	/* s for a drawn frame to reach the scanout */
#define IGT_TIMEOUT	480	/* s for one igt program */
#define IGT_REF		"/tmp/vslice-igt.ref"	/* igt.reference's results */
#define IGT_REFERENCE	"reference"	/* its name in the igt fixture */

static struct {
	const char *root;
	const char *dir;
	const char *guests;
	const char *igt_guest;
	const char *igt_root;
	const char *igt_tests;
} cfg;

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v ? v : def;
}

static void config_load(void)
{
	cfg.root = env_or("VSLICE_NESTED_ROOT", "/host");
	cfg.dir = env_or("VSLICE_NESTED_DIR", "");
	cfg.guests = env_or("VSLICE_NESTED_GUESTS", "");
	cfg.igt_guest = env_or("VSLICE_IGT_GUEST", "");
	cfg.igt_root = env_or("VSLICE_IGT_ROOT", "");
	cfg.igt_tests = env_or("VSLICE_IGT_TESTS", "");
}

/* A host path, as this process sees it. */
static __printf(3, 4) void host_path(char *buf, size_t len,
				     const char *fmt, ...)
{
	size_t n = snprintf(buf, len, "%s", cfg.root);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void guest_dir(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, WORK_DIR "/%s", name);
}

/* Stop a guest and remove its instances; quiet if there is none. */
static int guest_stop(const char *name)
{
	static const char * const keys[] = { "uuid", "edu_uuid" };
	struct vslice_nested g;
	char dir[256], uuid[VSLICE_UUID_LEN];
	unsigned int i;
	int ret = 0;

	guest_dir(dir, sizeof(dir), name);
	if (vslice_nested_attach(&g, dir) == -ENOENT)
		return 0;
	ret = vslice_nested_stop(&g, 60);
	/* a guest stopped before has empty uuids: nothing to remove */
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		if (vslice_nested_get(&g, keys[i], uuid, sizeof(uuid)) || !*uuid)
			continue;
		if (vslice_remove(uuid) && !ret)
			ret = -EBUSY;
		vslice_nested_put(&g, keys[i], "");
	}
	vslice_nested_put(&g, "pid", "0");
	return ret;
}

/* Stop every guest but @keep; the number that did not stop cleanly. */
static int guest_stop_others(const char *keep)
{
	struct dirent *de;
	DIR *d = opendir(WORK_DIR);
	int bad = 0;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || (keep && !strcmp(de->d_name, keep)))
			continue;
		if (guest_stop(de->d_name)) {
			fprintf(stderr, "# stopping guest %s failed\n", de->d_name);
			bad++;
		}
	}
	if (d)
		closedir(d);
	return bad;
}

/**
 * struct guest_files - what a nested guest boots from, as QEMU sees it
 * @kernel: its kernel
 * @initrd: its initramfs
 */
struct guest_files {
	char kernel[PATH_MAX];
	char initrd[PATH_MAX];
};

/*
 * Fill @o to start guest @name with @device, from the files in @f.
 * Return: false if the test failed or was skipped.
 */
static bool guest_opts(struct __test_metadata *_metadata, const char *name,
		       const char *device, struct guest_files *f,
		       struct vslice_nested_opts *o)
{
	char path[PATH_MAX];

	if (!*cfg.dir)
		SKIP(return false,
		     "no nested guests (VSLICE_NESTED_DIR is unset)");
	snprintf(f->kernel, sizeof(f->kernel), "%s/%s/vmlinuz", cfg.dir, name);
	snprintf(f->initrd, sizeof(f->initrd), "%s/%s/initrd.img", cfg.dir,
		 name);
	host_path(path, sizeof(path), "%s", f->initrd);
	ASSERT_EQ(0, access(path, R_OK)) {
		TH_LOG("no nested guest %s at %s (scripts/bed nested %s)",
		       name, path, name);
	}
	memset(o, 0, sizeof(*o));
	o->root = *cfg.root ? cfg.root : NULL;
	o->kernel = f->kernel;
	o->initrd = f->initrd;
	o->device = device;
	if (!strcmp(name, cfg.igt_guest) && *cfg.igt_root)
		o->share = cfg.igt_root;
	return true;
}

/*
 * Start guest @name on a new instance (and, @with_edu, an edu instance)
 * and wait until it takes commands.
 * Return: false if the test was skipped.
 */
static bool guest_boot(struct __test_metadata *_metadata, const char *name,
		       struct vslice_nested *g, bool with_edu)
{
	struct vslice_nested_opts o;
	char uuid[VSLICE_UUID_LEN], dir[256], dev[160] = "";
	char edu_uuid[VSLICE_UUID_LEN] = "", edu_dev[160];
	const char *extra[3] = { NULL };
	char path[PATH_MAX], qlog[1024];
	struct guest_files f;
	const char *bdf, *edu_bdf;
	double t0;
	int disp, ret, tries;
	bool reserved;

	/* dev: the instance's, filled in below */
	if (!guest_opts(_metadata, name, dev, &f, &o))
		return false;
	bdf = vslice_parent();
	if (!bdf)
		SKIP(return false,
		     "no bochs-display (1234:1111) in this machine");

	/* a guest that did not stop cleanly fails the test that stops it */
	ASSERT_EQ(0, guest_stop_others(NULL));
	/*
	 * Slices are placed from the top of VRAM, and the physical screen
	 * reaches 65535 scanlines of the mode into VRAM (the DISPI offset
	 * registers): an 800-pixel mode on a 256 MiB card cannot show the top
	 * 56 MiB.  Hold the top back while creating the guest's instance, so
	 * that physical_scanout can show it.
	 */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vslice/reserved_mib",
		 bdf);
	reserved = !vslice_sysfs_write(path, SCANOUT_RESERVE_MIB);
	if (!reserved)	/* an instance is in the way: place it anywhere */
		TH_LOG("could not hold the top of VRAM back for the guest's instance");
	vslice_create_assert(bdf, GUEST_TYPE, uuid);
	if (reserved)
		ASSERT_EQ(0, vslice_sysfs_write(path, "0"));
	/* a failed display probe is vslice's answer, not the bed's: a failure */
	disp = vslice_nested_probe_display(uuid);
	ASSERT_EQ(1, disp)
		TH_LOG("the instance has no region plane (probe: %d)", disp);
	snprintf(dev, sizeof(dev),
		 "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,display=%s", uuid,
		 disp ? "on" : "off");
	/* and an edu instance beside the display, for edu.* */
	edu_bdf = with_edu ? vslice_edu_parent() : NULL;
	if (edu_bdf) {
		vslice_create_assert(edu_bdf, EDU_TYPE, edu_uuid);
		snprintf(edu_dev, sizeof(edu_dev),
			 "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s", edu_uuid);
		extra[0] = "-device";
		extra[1] = edu_dev;
		o.extra = extra;
	}

	mkdir(WORK_DIR, 0755);
	guest_dir(dir, sizeof(dir), name);
	for (tries = 0;; tries++) {
		t0 = now_s();
		ret = vslice_nested_start(g, dir, &o);
		vslice_nested_put(g, "uuid", uuid);
		vslice_nested_put(g, "edu_uuid", edu_uuid);
		vslice_nested_put(g, "display", disp ? "on" : "off");
		if (ret)
			vslice_nested_dump(g, 30);
		ASSERT_EQ(0, ret);
		ret = vslice_nested_boot_wait(g, BOOT_TIMEOUT);
		if (!ret)
			break;
		ASSERT_EQ(-EAGAIN, ret) {
			TH_LOG("guest %s not ready within %d s (%d)", name,
			       BOOT_TIMEOUT, ret);
		}
		vslice_nested_stop(g, 30);
		/*
		 * See "Flakes" in Documentation/vslice/testing.rst: the guest's
		 * kernel died before its userspace.  Once is retried.  Twice,
		 * this guest's tests skip only if the same guest dies the same
		 * way on QEMU's own bochs-display: the window includes the
		 * kernel's probing of the instance's config space.
		 */
		if (tries) {
			EXPECT_EQ(0, vslice_remove(uuid));
			vslice_nested_put(g, "uuid", "");
			if (*edu_uuid)
				EXPECT_EQ(0, vslice_remove(edu_uuid));
			vslice_nested_put(g, "edu_uuid", "");
			o.extra = NULL;
			ret = vslice_nested_reference_boot(&o, BOOT_TIMEOUT);
			ASSERT_EQ(-EAGAIN, ret) {
				TH_LOG("guest %s " VSLICE_NESTED_NOT_ON_REFERENCE
				       " (%s)", name, ret ? strerror(-ret) :
				       "it reached userspace");
			}
			vslice_nested_put(g, "skip", VSLICE_NESTED_EARLY_PANIC);
			SKIP(return false, VSLICE_NESTED_EARLY_PANIC);
		}
		TH_LOG("vslice-retry: guest %s: kernel panic before userspace: booting once more",
		       name);
	}
	vslice_nested_put(g, "skip", "");
	TH_LOG("guest %s ready %.0f s after QEMU started (%s, %s)", name,
	       now_s() - t0, vslice_nested_accel(), dev);
	vslice_nested_path(g, "qemu.log", path, sizeof(path));
	if (!vslice_sysfs_read(path, qlog, sizeof(qlog)) && *qlog)
		TH_LOG("QEMU said: %s", qlog);
	return true;
}

/* What guest_get() does when the guest is not running. */
enum guest_absent {
	GUEST_ATTACH_ONLY,	/* fail */
	GUEST_BOOT_WITH_EDU,	/* boot it, with an edu instance too */
	GUEST_BOOT_DISPLAY,	/* boot it with the display only (igt) */
};

/*
 * Attach to guest @name; start it as @absent says if it is not running.
 * Return: false if the test was skipped.
 */
static bool guest_get(struct __test_metadata *_metadata, const char *name,
		      struct vslice_nested *g, enum guest_absent absent)
{
	char dir[256], skip[256];
	int ret;

	guest_dir(dir, sizeof(dir), name);
	ret = vslice_nested_attach(g, dir);
	if (ret && absent != GUEST_ATTACH_ONLY)
		return guest_boot(_metadata, name, g,
				  absent == GUEST_BOOT_WITH_EDU);
	if (ret && !vslice_nested_get(g, "skip", skip, sizeof(skip)) && *skip)
		SKIP(return false, "%s", skip);
	ASSERT_EQ(0, ret) {
		TH_LOG("guest %s is not running (did its boot fail?)", name);
	}
	ASSERT_EQ(0, vslice_nested_wait(g, 0, VSLICE_NESTED_READY, 0, NULL,
					0)) {
		TH_LOG("guest %s never became ready", name);
	}
	return true;
}

/* The guest's lines that start with "vslice-nested: @what", logged. */
static int log_facts(struct __test_metadata *_metadata,
		     const struct vslice_nested *g, const char *what,
		     const char *needle)
{
	char *log = vslice_nested_log(g, 0, NULL), *p, *eol, *s;
	char tag[64];
	int found = 0;

	snprintf(tag, sizeof(tag), VSLICE_NESTED_TAG "%s", what);
	for (p = log; p && (eol = strchr(p, '\n')); p = eol + 1) {
		*eol = '\0';
		s = strstr(p, tag);
		if (!s)
			continue;
		TH_LOG("%s", s + strlen(VSLICE_NESTED_TAG));
		if (!needle || strstr(s, needle))
			found++;
	}
	free(log);
	return found;
}

FIXTURE(display) {
	struct vslice_nested g;
	const char *name;
};

FIXTURE_VARIANT(display) {
	const char *guest;
};

FIXTURE_SETUP(display)
{
	if (!variant)
		SKIP(return, "no nested guest kernels (VSLICE_NESTED_GUESTS)");
	self->name = variant->guest;
}

FIXTURE_TEARDOWN(display)
{
	vslice_nested_detach(&self->g);
}

TEST_F_TIMEOUT(display, boot, BOOT_TIMEOUT + 120)
{
	if (!guest_boot(_metadata, self->name, &self->g, true))
		return;
	log_facts(_metadata, &self->g, "userspace", NULL);
	log_facts(_metadata, &self->g, "modprobe", NULL);
	log_facts(_metadata, &self->g, "dmesg", NULL);
	EXPECT_EQ(1, log_facts(_metadata, &self->g, "device ", "driver bochs-drm")) {
		TH_LOG("the guest's bochs driver did not bind");
	}
	EXPECT_LE(1, log_facts(_metadata, &self->g, "connector ", " connected "));
	EXPECT_EQ(1, log_facts(_metadata, &self->g, "fb0 ", "bpp 32"));
}

/* Look for the frame in the slice: page-aligned, either stride. */
static bool frame_search(const u8 *slice, u64 size,
			 const struct vslice_frame *d, u64 *at, u32 *stride)
{
	u32 strides[2] = { d->stride, d->width * 4 }, px[2], got;
	unsigned int i;
	u64 off;

	for (off = 0; off + (u64)d->height * d->width * 4 <= size;
	     off += 4096) {
		memcpy(px, slice + off, sizeof(px));
		if ((px[0] & 0xffffff) != vslice_pixel(d->seed, 0, 0) ||
		    (px[1] & 0xffffff) != vslice_pixel(d->seed, 1, 0))
			continue;
		for (i = 0; i < 2; i++) {
			if (off + (u64)strides[i] * d->height > size)
				continue;
			if (vslice_frame_diff(slice + off, strides[i], d,
					      &got) < 0) {
				*at = off;
				*stride = strides[i];
				return true;
			}
		}
	}
	return false;
}

TEST_F_TIMEOUT(display, fb_in_vram, DRAW_TIMEOUT + SETTLE_TIMEOUT + 60)
{
	char uuid[VSLICE_UUID_LEN], mode[128];
	u32 stride = 0, got = 0;
	u64 slice_off, slice_size, at = 0;
	const char *bdf = vslice_parent();
	struct vslice_mode m = { 0 };
	struct vslice_frame d;
	long long bad = 0;
	size_t vram_len;
	double end;
	bool on = false, found = false;
	u8 *vram;
	int ret;

	if (!guest_get(_metadata, self->name, &self->g, GUEST_ATTACH_ONLY))
		return;
	ret = vslice_nested_draw(&self->g, 0x5eed0000 + now_s(), &d,
				 DRAW_TIMEOUT);
	ASSERT_EQ(0, ret) {
		vslice_nested_dump(&self->g, 20);
	}
	TH_LOG("guest drew seed %llu, %ux%u, stride %u",
	       (unsigned long long)d.seed, d.width, d.height, d.stride);
	ASSERT_EQ(0, vslice_frame_put(&self->g, "drawn", &d));

	ASSERT_EQ(0, vslice_nested_get(&self->g, "uuid", uuid, sizeof(uuid)));
	slice_off = vslice_inst_attr_ll(uuid, "vram_offset");
	slice_size = vslice_inst_attr_ll(uuid, "vram_size");
	vram = vslice_map_parent_vram(bdf, &vram_len);
	ASSERT_LE(slice_off + slice_size, vram_len);

	/*
	 * The guest's fbdev emulation copies to VRAM from a worker: poll
	 * until the frame is there (the mode attribute says where the
	 * scanout is; without it, search the slice).
	 */
	for (end = now_s() + SETTLE_TIMEOUT; now_s() < end; usleep(200000)) {
		on = !vslice_mode_get(uuid, &m, mode, sizeof(mode));
		if (on && m.offset + (u64)m.stride * m.height <= slice_size) {
			bad = vslice_frame_diff(vram + slice_off + m.offset,
						m.stride, &d, &got);
			if (bad < 0) {
				found = true;
				at = m.offset;
				stride = m.stride;
				break;
			}
		} else if (!on) {
			found = frame_search(vram + slice_off, slice_size, &d,
					     &at, &stride);
			if (found)
				break;
		}
	}
	TH_LOG("mode attribute: %s", mode);
	if (found)
		TH_LOG("pattern %ux%u found in the slice at 0x%llx, stride %u",
		       d.width, d.height, (unsigned long long)at, stride);
	else if (on)
		TH_LOG("scanout at 0x%llx: pixel (%lld, %lld) is 0x%06x, not 0x%06x",
		       (unsigned long long)m.offset, bad % d.width,
		       bad / d.width, got,
		       vslice_pixel(d.seed, bad % d.width, bad / d.width));
	munmap(vram, vram_len);
	ASSERT_TRUE(found);
}

TEST_F_TIMEOUT(display, mode_attribute, 60)
{
	char uuid[VSLICE_UUID_LEN], mode[128];
	struct vslice_mode m;
	struct vslice_frame d;

	if (!guest_get(_metadata, self->name, &self->g, GUEST_ATTACH_ONLY))
		return;
	ASSERT_EQ(0, vslice_nested_get(&self->g, "uuid", uuid, sizeof(uuid)));
	ASSERT_EQ(0, vslice_inst_attr(uuid, "mode", mode, sizeof(mode)))
		TH_LOG("the instance has no mode attribute");
	ASSERT_EQ(0, vslice_frame_get(&self->g, "drawn", &d));
	ASSERT_EQ(0, vslice_mode_get(uuid, &m, mode, sizeof(mode))) {
		TH_LOG("mode: %s", mode);
	}
	TH_LOG("mode: %s", mode);
	EXPECT_EQ(d.width, m.width);
	EXPECT_EQ(d.height, m.height);
	EXPECT_EQ(32, m.bpp);
	EXPECT_LE(m.width * 4, m.stride);
	EXPECT_EQ(0, m.offset % 4096);
}

TEST_F_TIMEOUT(display, screendump, SETTLE_TIMEOUT + 120)
{
	char path[PATH_MAX], disp[8] = "", uuid[VSLICE_UUID_LEN], mode[128];
	struct vslice_ppm img = { 0 };
	struct vslice_frame d;
	long long bad = -2;
	double end;
	u32 got = 0;
	int ret = 0;

	if (!guest_get(_metadata, self->name, &self->g, GUEST_ATTACH_ONLY))
		return;
	vslice_nested_get(&self->g, "display", disp, sizeof(disp));
	/* the guest ran with display=on: QEMU found the region plane */
	ASSERT_STREQ("on", disp)
		TH_LOG("the instance gave QEMU no region plane");
	ASSERT_EQ(0, vslice_frame_get(&self->g, "drawn", &d));
	vslice_nested_path(&self->g, "screen.ppm", path, sizeof(path));

	/* Each screendump asks the device for its plane anew. */
	for (end = now_s() + SETTLE_TIMEOUT; bad != -1 && now_s() < end;
	     usleep(500000)) {
		vslice_ppm_free(&img);
		ret = vslice_nested_screendump(&self->g, path);
		if (ret || vslice_ppm_read(path, &img))
			continue;
		bad = vslice_ppm_diff(&img, &d, &got);
	}
	if (bad != -1) {
		char hmp[2048];

		/* What QEMU and the instance said, for the report. */
		vslice_nested_dump(&self->g, 15);
		vslice_nested_get(&self->g, "uuid", uuid, sizeof(uuid));
		vslice_inst_attr(uuid, "mode", mode, sizeof(mode));
		TH_LOG("instance mode attribute: %s", mode);
		if (!vslice_nested_hmp(&self->g, "info pci", hmp, sizeof(hmp))) {
			char *line, *save = NULL;

			for (line = strtok_r(hmp, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save))
				TH_LOG("info pci: %s", line);
		}
	}
	ASSERT_EQ(0, ret);
	ASSERT_EQ(d.width, img.width) {
		TH_LOG("QEMU shows no plane of the instance (a %ux%u placeholder)",
		       img.width, img.height);
	}
	ASSERT_EQ(d.height, img.height);
	EXPECT_EQ(-1, bad) {
		TH_LOG("screendump pixel (%lld, %lld) is %06x, not %06x",
		       bad % d.width, bad / d.width, got,
		       vslice_pixel(d.seed, bad % d.width, bad / d.width));
	}
	if (bad == -1)
		TH_LOG("screendump %ux%u matches the pattern", img.width,
		       img.height);
	vslice_ppm_free(&img);
}

/*
 * Ask the test bed, on the console, for a screendump of this test VM's own
 * screen (QEMU's first display, the parent: the test bed gives it first):
 * the host writes $VSLICE_OUTER_SCREENS/ID.ppm.  Wait for it and read it.
 */
static int outer_screendump(struct vslice_ppm *img)
{
	static unsigned int n;
	const char *dir = getenv("VSLICE_OUTER_SCREENS");
	char path[PATH_MAX], line[64];
	double end;
	int fd, len;

	fd = open("/dev/ttyS0", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n++;
	len = snprintf(line, sizeof(line), "\nvslice-outer-screendump %d-%u\n",
		       getpid(), n);
	if (write(fd, line, len) != len) {
		close(fd);
		return -EIO;
	}
	close(fd);
	snprintf(path, sizeof(path), "%s%s/%d-%u.ppm", cfg.root, dir, getpid(), n);
	for (end = now_s() + 120; now_s() < end; usleep(200000))
		if (!access(path, R_OK))
			return vslice_ppm_read(path, img);
	return -ETIMEDOUT;
}

/*
 * The physical display follows the instance: with the parent's scanout set
 * to it, this test VM's own screen (QEMU's screendump of the parent
 * bochs-display, taken by the host) shows what the nested guest drew.
 */
TEST_F_TIMEOUT(display, physical_scanout, SETTLE_TIMEOUT + 300)
{
	char uuid[VSLICE_UUID_LEN], path[PATH_MAX], mode[128] = "";
	const char *bdf = vslice_parent(), *dir = getenv("VSLICE_OUTER_SCREENS");
	struct vslice_ppm img = { 0 };
	struct vslice_frame d;
	long long bad = -2;
	double end;
	u32 got = 0;
	int ret = 0;

	if (!dir || !*dir)
		SKIP(return, "the test bed shows no screen of this VM (VSLICE_OUTER_SCREENS)");
	if (!guest_get(_metadata, self->name, &self->g, GUEST_ATTACH_ONLY))
		return;
	ASSERT_EQ(0, vslice_frame_get(&self->g, "drawn", &d));
	ASSERT_EQ(0, vslice_nested_get(&self->g, "uuid", uuid, sizeof(uuid)));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vslice/scanout",
		 bdf);
	ASSERT_EQ(0, vslice_sysfs_write(path, uuid));
	for (end = now_s() + SETTLE_TIMEOUT; bad != -1 && now_s() < end;
	     sleep(1)) {
		vslice_ppm_free(&img);
		ret = outer_screendump(&img);
		if (ret)
			break;
		bad = vslice_ppm_diff(&img, &d, &got);
	}
	vslice_sysfs_read(path, mode, sizeof(mode));
	TH_LOG("scanout %s; the screen %ux%u", mode, img.width, img.height);
	ASSERT_EQ(0, vslice_sysfs_write(path, "none"));
	ASSERT_EQ(0, ret);
	ASSERT_EQ(d.width, img.width);
	ASSERT_EQ(d.height, img.height);
	EXPECT_EQ(-1, bad) {
		TH_LOG("screen pixel (%lld, %lld) is %06x, not %06x",
		       bad % d.width, bad / d.width, got,
		       vslice_pixel(d.seed, bad % d.width, bad / d.width));
	}
	vslice_ppm_free(&img);
}

/* Kernel log lines that mean trouble, as dmesg_clean sees them. */
#define KERNEL_BAD "WARNING:|BUG:|Oops|Call Trace|general protection|UBSAN"

/* The guest's edu driver: a few factorials and DMAs take seconds. */
#define EDU_DRIVER_TIMEOUT	120

FIXTURE(edu) {
	struct vslice_nested g;
	const char *name;
};

FIXTURE_VARIANT(edu) {
	const char *guest;
};

FIXTURE_SETUP(edu)
{
	if (!variant)
		SKIP(return, "no nested guest kernels (VSLICE_NESTED_GUESTS)");
	self->name = variant->guest;
}

FIXTURE_TEARDOWN(edu)
{
	vslice_nested_detach(&self->g);
}

/* The lines of @text that hold @tag, logged from @tag on. */
static void log_lines(struct __test_metadata *_metadata, const char *text,
		      const char *tag)
{
	const char *p, *eol;

	for (p = text; (p = strstr(p, tag)); p = eol) {
		eol = strchrnul(p, '\n');
		TH_LOG("%.*s", (int)(eol - p), p);
	}
}

/*
 * Counter @name of edu instance @uuid once it is @want or more (a job is
 * counted just after its interrupt), or after 5 s.
 */
static long long edu_inst_counter(const char *uuid, const char *name,
				  long long want)
{
	long long n = vslice_inst_attr_ll(uuid, name);
	double t0 = now_s();

	while (n < want && now_s() - t0 < 5) {
		usleep(20000);
		n = vslice_inst_attr_ll(uuid, name);
	}
	return n;
}

/*
 * A nested guest drives its edu instance with a user-space driver on
 * uio_pci_generic (there is no kernel driver for edu): two factorials and
 * a DMA round trip of a page of its memory, each ending in an INTx the
 * guest's kernel takes and hands to the driver.  The driver checks
 * results, bytes and the interrupt status register; here, the instance's
 * counters show the jobs ran on vslice's engine, and the guest's kernel
 * log stays clean.
 */
TEST_F_TIMEOUT(edu, guest_driver_gets_interrupts,
	       BOOT_TIMEOUT + EDU_DRIVER_TIMEOUT + 60)
{
	static const char * const counters[] = { "jobs", "irqs", "dma_bytes" };
	const long long want[] = { 4, 4, 2 * 4096 };
	long long before[3], after;
	char uuid[VSLICE_UUID_LEN] = "", *log, *klog;
	off_t start, kstart;
	unsigned int i;
	int ret;

	if (!vslice_edu_parent())
		SKIP(return, "no edu (1234:11e8) in this machine");
	if (!guest_get(_metadata, self->name, &self->g, GUEST_BOOT_WITH_EDU))
		return;
	ASSERT_EQ(0, vslice_nested_get(&self->g, "edu_uuid", uuid,
				       sizeof(uuid)));
	ASSERT_NE(0, *uuid) TH_LOG("guest %s has no edu instance", self->name);
	for (i = 0; i < ARRAY_SIZE(counters); i++) {
		before[i] = edu_inst_counter(uuid, counters[i], 0);
		ASSERT_LE(0, before[i]);
	}

	ret = vslice_nested_cmd(&self->g, EDU_DRIVER_TIMEOUT, &start,
				"sh modprobe uio_pci_generic && /vslice/vslice-edu-uio");
	log = vslice_nested_log(&self->g, start, NULL);
	ASSERT_NE(NULL, log);
	log_lines(_metadata, log, "vslice-edu: ");
	if (ret)
		vslice_nested_dump(&self->g, 30);
	EXPECT_EQ(0, ret) TH_LOG("the guest's edu driver failed (%d)", ret);
	EXPECT_NE(NULL, strstr(log, "vslice-edu: ok irqs 4"));
	free(log);

	for (i = 0; i < ARRAY_SIZE(counters); i++) {
		after = edu_inst_counter(uuid, counters[i],
					 before[i] + want[i]);
		EXPECT_LE(want[i], after - before[i])
			TH_LOG("%s: %lld before, %lld after", counters[i],
			       before[i], after);
	}

	ret = vslice_nested_cmd(&self->g, 30, &kstart,
				"sh dmesg -c | grep -E '%s' ; true", KERNEL_BAD);
	klog = vslice_nested_log(&self->g, kstart, NULL);
	ASSERT_EQ(0, ret);
	ASSERT_NE(NULL, klog);
	EXPECT_EQ(NULL, strstr(klog, ": ["))
		TH_LOG("the guest's kernel complained:\n%s", klog);
	free(klog);
}

/* Is @test in the space-separated list cfg.igt_tests? */
static bool igt_listed(const char *test)
{
	const char *p = cfg.igt_tests;
	size_t n = strlen(test);

	while ((p = strstr(p, test))) {
		if ((p == cfg.igt_tests || p[-1] == ' ') &&
		    (!p[n] || p[n] == ' '))
			return true;
		p += n;
	}
	return false;
}

/* Does this test VM run igt program @test? */
static bool igt_runs(const char *test)
{
	return !*cfg.igt_tests || igt_listed(test);
}

/* Boot the reference guest in @dir: once more if its kernel died early. */
static void reference_boot(struct __test_metadata *_metadata,
			   struct vslice_nested *g, const char *dir,
			   const struct vslice_nested_opts *o)
{
	double t0;
	int ret, tries;

	for (tries = 0;; tries++) {
		t0 = now_s();
		ret = vslice_nested_start(g, dir, o);
		if (!ret)
			ret = vslice_nested_boot_wait(g, BOOT_TIMEOUT);
		if (!ret)
			break;
		vslice_nested_stop(g, 30);
		ASSERT_EQ(-EAGAIN, ret) {
			TH_LOG("the reference guest did not boot (%d)", ret);
		}
		/* two-level emulation's flake: once is retried, as for ours */
		ASSERT_EQ(0, tries) {
			TH_LOG("the reference guest's kernel died before userspace on two boots");
		}
		TH_LOG("vslice-retry: reference guest %s: %s", cfg.igt_guest,
		       "kernel panic before userspace: booting once more");
	}
	TH_LOG("reference guest %s ready %.0f s after QEMU started (%s, %s)",
	       cfg.igt_guest, now_s() - t0, vslice_nested_accel(), o->device);
}

/*
 * igt.reference: every program the instance's tests run, in the igt
 * guest on QEMU's own bochs-display (VSLICE_NESTED_REFERENCE_DEVICE, the
 * same VRAM), started by the same QEMU on the same accelerator in this
 * VM, the same way but for the device.  The results go to IGT_REF for
 * igt_compare().  The guest's bochs driver must bind, and every program
 * must finish.
 */
static void igt_reference(struct __test_metadata *_metadata)
{
	struct vslice_igt_result *r = calloc(1, sizeof(*r));
	char dir[256], *log;
	struct vslice_nested_opts o;
	struct guest_files f;
	struct vslice_nested g;
	unsigned int i;
	off_t start;
	double t0;
	bool retried = false;
	int ret = 0;
	FILE *out;

	ASSERT_NE(NULL, r);
	unlink(IGT_REF);
	if (!guest_opts(_metadata, cfg.igt_guest,
			VSLICE_NESTED_REFERENCE_DEVICE, &f, &o))
		return;
	ASSERT_EQ(0, guest_stop_others(NULL));
	mkdir(WORK_DIR, 0755);
	guest_dir(dir, sizeof(dir), "reference");
	reference_boot(_metadata, &g, dir, &o);
	EXPECT_EQ(1, log_facts(_metadata, &g, "device ", "driver bochs-drm"));

	out = fopen(IGT_REF ".tmp", "w");
	ASSERT_NE(NULL, out);
	fprintf(out, "# igt on QEMU's %s\n", o.device);
	for (i = 0; i < ARRAY_SIZE(vslice_igt_tests); i++) {
		if (!igt_runs(vslice_igt_tests[i]))
			continue;
		t0 = now_s();
		ret = vslice_nested_cmd(&g, IGT_TIMEOUT, &start, "igt %s",
					vslice_igt_tests[i]);
		log = vslice_nested_log(&g, start, NULL);
		vslice_igt_parse(log ? log : "", vslice_igt_tests[i], r);
		free(log);
		if (ret)
			vslice_nested_dump(&g, 30);
		/*
		 * QEMU's own device, no vslice: a guest whose QEMU ended
		 * (two-level emulation's flake) is booted once more.
		 */
		if (ret == -ECHILD && !retried) {
			TH_LOG("vslice-retry: reference guest %s: %s %s: %s",
			       cfg.igt_guest, "its QEMU ended in",
			       vslice_igt_tests[i], "booting once more");
			retried = true;
			vslice_nested_stop(&g, 30);
			reference_boot(_metadata, &g, dir, &o);
			i--;
			continue;
		}
		EXPECT_EQ(0, ret) {
			TH_LOG("%s did not finish on the reference (%d)",
			       vslice_igt_tests[i], ret);
		}
		if (ret)
			break;
		vslice_igt_write(out, r);
		TH_LOG("%-20s %-5s exit %3d, %3u subtests, %.0f s",
		       vslice_igt_tests[i], vslice_igt_outcome(r->exit),
		       r->exit, r->nsub, now_s() - t0);
	}
	EXPECT_EQ(0, fclose(out));
	EXPECT_EQ(0, vslice_nested_stop(&g, 60));
	vslice_nested_clean(&g);
	free(r);
	if (!ret)
		EXPECT_EQ(0, rename(IGT_REF ".tmp", IGT_REF));
}

/*
 * igt: run one program in the igt guest, compare with the reference.
 */
static void igt_compare(struct __test_metadata *_metadata, const char *test)
{
	struct vslice_igt_result *inst, *ref;
	unsigned int i, lost = 0, both = 0;
	struct vslice_nested g;
	char *log, *klog;
	const char *a, *b;
	off_t start, kstart = 0;
	double t0;
	int ret, rret;

	if (!*cfg.igt_guest)
		SKIP(return, "no igt guest (VSLICE_IGT_GUEST)");
	inst = calloc(1, sizeof(*inst));
	ref = calloc(1, sizeof(*ref));
	ASSERT_TRUE(inst && ref);
	rret = vslice_igt_read(IGT_REF, test, ref);
	ASSERT_EQ(0, rret) {
		TH_LOG("no reference result for %s in " IGT_REF " (igt.reference failed?)",
		       test);
	}

	/* igt's guests as before edu: the display alone */
	if (!guest_get(_metadata, cfg.igt_guest, &g, GUEST_BOOT_DISPLAY))
		return;
	t0 = now_s();
	ret = vslice_nested_cmd(&g, IGT_TIMEOUT, &start, "igt %s", test);
	log = vslice_nested_log(&g, start, NULL);
	if (ret)
		vslice_nested_dump(&g, 30);
	/*
	 * What the guest's kernel said while the program ran (the console
	 * is quiet: read the log, and clear it for the next program).
	 */
	if (!ret)
		ret = vslice_nested_cmd(&g, 30, &kstart,
					"sh dmesg -c | grep -E '%s' ; true",
					KERNEL_BAD);
	klog = vslice_nested_log(&g, kstart, NULL);
	vslice_nested_detach(&g);
	ASSERT_EQ(0, ret) {
		TH_LOG("%s did not finish in the guest (%d)", test, ret);
	}
	ASSERT_NE(NULL, log);
	ASSERT_NE(NULL, klog);
	EXPECT_EQ(NULL, strstr(klog, ": ["))
		TH_LOG("the guest's kernel complained during %s:\n%s", test, klog);
	free(klog);
	vslice_igt_parse(log, test, inst);
	free(log);

	TH_LOG("%s: instance %s (exit %d, %.0f s), emulated %s (exit %d)",
	       test, vslice_igt_outcome(inst->exit), inst->exit, now_s() - t0,
	       vslice_igt_outcome(ref->exit), ref->exit);
	/*
	 * Every subtest either side ran, in the instance's order first.
	 * What succeeds on QEMU's own device must succeed on the instance;
	 * what fails on both proves nothing and is listed by name.
	 */
	for (i = 0; i < inst->nsub + ref->nsub; i++) {
		const char *name = i < inst->nsub ? inst->sub[i].name :
				   ref->sub[i - inst->nsub].name;

		if (i >= inst->nsub && vslice_igt_sub_result(inst, name))
			continue;
		a = vslice_igt_sub_result(inst, name) ?: "NOT-RUN";
		b = vslice_igt_sub_result(ref, name) ?: "NOT-RUN";
		if (!strcmp(b, "SUCCESS") && strcmp(a, "SUCCESS")) {
			lost++;
			TH_LOG("  %s: instance %s, emulated SUCCESS  <-- lost",
			       name, a);
		} else if (!strcmp(a, "SUCCESS") && !strcmp(b, "SUCCESS")) {
			both++;
		} else if (strcmp(a, b)) {
			TH_LOG("  %s: instance %s, emulated %s", name, a, b);
		} else {
			TH_LOG("  %s: %s on both", name, a);
		}
	}
	/* a program without subtests is one test of its own */
	if (!inst->nsub && !ref->nsub && !inst->exit && !ref->exit)
		both++;
	TH_LOG("%s: %u subtests succeed on both, %u only on QEMU's device",
	       test, both, lost);
	EXPECT_EQ(0, lost);
	if (!ref->exit)
		EXPECT_STREQ(vslice_igt_outcome(ref->exit),
			     vslice_igt_outcome(inst->exit));
	/* failing the same way as the reference is no pass */
	if (!lost && !both) {
		free(inst);
		free(ref);
		SKIP(return, "nothing to compare: no subtest succeeds on QEMU's own bochs-display");
	}
	free(inst);
	free(ref);
}

/*
 * The igt tests are registered at run time, and only when this test VM
 * runs igt: igt.TEST for each program of igt_tests.h, in a fixture of
 * their own.
 */
static struct __fixture_metadata igt_fixture = {
	.name = "igt",
	.prev = &igt_fixture,
};

static void igt_wrapper(struct __test_metadata *_metadata,
			struct __fixture_variant_metadata *variant)
{
	_metadata->setup_completed = true;
	if (setjmp(_metadata->env) == 0) {
		if (!strcmp(_metadata->name, IGT_REFERENCE))
			igt_reference(_metadata);
		else
			igt_compare(_metadata, _metadata->name);
	}
	__test_check_assert(_metadata);
}

/* Register igt test @name with a timeout of @timeout s. */
static void register_igt_test(const char *name, int timeout)
{
	struct __test_metadata *t;

	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		exit(KSFT_FAIL);
	t->name = name;
	t->fn = igt_wrapper;
	t->fixture = &igt_fixture;
	t->termsig = -1;
	t->timeout = timeout;
	__register_test(t);
}

/* igt.reference first, then igt.TEST for each program this VM runs. */
static void register_igt(void)
{
	unsigned int i, n = 0;

	if (!*cfg.igt_guest)
		return;
	__register_fixture(&igt_fixture);
	for (i = 0; i < ARRAY_SIZE(vslice_igt_tests); i++)
		n += igt_runs(vslice_igt_tests[i]);
	register_igt_test(IGT_REFERENCE, 2 * BOOT_TIMEOUT + n * IGT_TIMEOUT);
	for (i = 0; i < ARRAY_SIZE(vslice_igt_tests); i++)
		if (igt_runs(vslice_igt_tests[i]))
			register_igt_test(vslice_igt_tests[i],
					  IGT_TIMEOUT + BOOT_TIMEOUT);
}

/* An edu variant for guest @name. */
static void register_edu_guest(const char *name)
{
	struct __fixture_variant_metadata *m = calloc(1, sizeof(*m));
	struct _fixture_variant_edu *v = calloc(1, sizeof(*v));

	if (!m || !v)
		exit(KSFT_FAIL);
	v->guest = name;
	m->name = name;
	m->data = v;
	__register_fixture_variant(&_edu_fixture_object, m);
}

/*
 * One display and one edu variant per guest kernel, registered at run
 * time from the environment; the igt guest's last, so that it stays up
 * for igt.
 */
static void register_guests(void)
{
	char *list = strdup(cfg.guests), *name, *save = NULL;
	struct __fixture_variant_metadata *m;
	struct _fixture_variant_display *v;
	int igt_pass;

	for (igt_pass = 0; igt_pass < 2; igt_pass++) {
		snprintf(list, strlen(cfg.guests) + 1, "%s", cfg.guests);
		for (name = strtok_r(list, " ", &save); name;
		     name = strtok_r(NULL, " ", &save)) {
			int is_igt = !strcmp(name, cfg.igt_guest);

			if (is_igt != igt_pass)
				continue;
			m = calloc(1, sizeof(*m));
			v = calloc(1, sizeof(*v));
			if (!m || !v)
				exit(KSFT_FAIL);
			v->guest = strdup(name);
			m->name = v->guest;
			m->data = v;
			__register_fixture_variant(&_display_fixture_object, m);
			register_edu_guest(v->guest);
		}
	}
	free(list);
}

/*
 * The last guests stop when the program ends: a guest that does not stop
 * cleanly (QEMU had to be killed, its instance could not be removed)
 * fails the program, whatever its tests said.
 */
static void stop_all(void)
{
	char *list = strdup(cfg.guests), *name, *save = NULL;
	int bad = 0;

	for (name = strtok_r(list, " ", &save); name;
	     name = strtok_r(NULL, " ", &save))
		if (guest_stop(name)) {
			fprintf(stderr, "# stopping guest %s failed\n", name);
			bad++;
		}
	if (*cfg.igt_guest && guest_stop(cfg.igt_guest)) {
		fprintf(stderr, "# stopping guest %s failed\n", cfg.igt_guest);
		bad++;
	}
	free(list);
	if (bad)
		_exit(KSFT_FAIL);
}

int main(int argc, char **argv)
{
	config_load();
	register_guests();
	register_igt();
	/* Guests outlive the test that started them: they become ours. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* test_harness_run() ends in exit(): stop the guests from there. */
	atexit(stop_all);
	return test_harness_run(argc, argv);
}
