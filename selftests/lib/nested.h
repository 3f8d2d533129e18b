/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Nested guests for vslice selftests: start QEMU (inside the test VM, on a
 * vslice instance or on an emulated device) with a small guest whose /init
 * is scripts/nested-init, wait for lines on its serial log, send it
 * commands, talk to QEMU's monitor (QMP), take screendumps, stop it.
 *
 * A guest lives in a work directory, which holds everything
 * about it: pid, serial.log, qemu.log, qmp.sock, ctl.sock and whatever the
 * tests store there.  A process that did not start the guest attaches to
 * it by that directory, so the forked tests of one harness share a guest.
 *
 * Readiness is a line on the guest's serial log, never a fixed sleep.
 */
#ifndef VSLICE_SELFTEST_NESTED_H
#define VSLICE_SELFTEST_NESTED_H

#include <stdarg.h>
#include <sys/types.h>

#include "vslice.h"

/* Every line of the guest's /init starts with one of these. */
#define VSLICE_NESTED_TAG	"vslice-nested: "
#define VSLICE_NESTED_IGT_TAG	"vslice-igt: "

/* What the guest prints when it takes commands. */
#define VSLICE_NESTED_READY	VSLICE_NESTED_TAG "ready"

#define VSLICE_NESTED_MAX_ARGS	64

/**
 * struct vslice_nested_opts - how to start a nested guest
 * @root: directory QEMU runs chrooted in, with /proc, /sys, /dev and /tmp
 *        bound in ("/host" in the test VM, the host's root shared by 9p);
 *        NULL runs QEMU directly
 * @kernel: the guest's kernel, as a path inside @root
 * @initrd: the guest's initramfs, inside @root
 * @append: more kernel command line, or NULL
 * @device: the display device's -device argument, e.g.
 *          "vfio-pci,sysfsdev=/sys/bus/mdev/devices/UUID,display=on"
 * @share: directory (inside @root) exported read-only over 9p with the tag
 *         "igt", or NULL
 * @extra: more QEMU arguments, NULL-terminated, or NULL
 * @mem_mb: guest memory in MiB (0: 512)
 * @qemu: the QEMU to run, a path inside @root or a name on its PATH
 *        (NULL: qemu-system-x86_64)
 */
struct vslice_nested_opts {
	const char *qemu;
	const char *root;
	const char *kernel;
	const char *initrd;
	const char *append;
	const char *device;
	const char *share;
	const char * const *extra;
	unsigned int mem_mb;
};

/**
 * vslice_nested_accel() - the accelerator nested guests run on
 *
 * "kvm" or "tcg", as $VSLICE_NESTED_ACCEL says (the test VM's init sets it
 * to "kvm" when kvm_amd gave it a /dev/kvm: QEMU's TCG emulates AMD SVM
 * with nested paging, so KVM runs inside the TCG test VM); "tcg" when it
 * is unset, as on the host.
 *
 * Return: the accelerator's name for QEMU's -accel (libvirt's domain type
 * is "kvm" or "qemu" accordingly).
 */
const char *vslice_nested_accel(void);

/*
 * QEMU's own display device, with the VRAM of the vslice-4M instance the
 * nested guests use: the reference a guest's behaviour is compared with.
 */
#define VSLICE_NESTED_REFERENCE_DEVICE	"bochs-display,vgamem=4M"

/*
 * Why a test skips when a nested guest's kernel died early on two boots
 * on its instance and on two boots on VSLICE_NESTED_REFERENCE_DEVICE.
 */
/* Why such a test fails when QEMU's own device lets the guest boot. */
#define VSLICE_NESTED_NOT_ON_REFERENCE					\
	"died before userspace on two boots on the instance, not on "	\
	"QEMU's own bochs-display"
#define VSLICE_NESTED_EARLY_PANIC					\
	"the nested guest's kernel died before userspace on two boots, "	\
	"and on two boots on QEMU's own bochs-display too (see Flakes "	\
	"in Documentation/vslice/testing.rst)"

/**
 * struct vslice_nested - a running (or attached) nested guest
 * @dir: work directory
 * @qdir: the work directory as QEMU sees it (bound into its root)
 * @pid: QEMU's process
 * @qmp: QMP monitor connection, or -1 until first used
 * @ctl: the guest's command port (its ttyS1), or -1 until first used
 * @seq: commands sent by this process
 */
struct vslice_nested {
	char dir[256];
	char qdir[256];
	pid_t pid;
	int qmp;
	int ctl;
	unsigned int seq;
};

int vslice_nested_start(struct vslice_nested *g, const char *dir,
			const struct vslice_nested_opts *opts);
int vslice_nested_attach(struct vslice_nested *g, const char *dir);
void vslice_nested_detach(struct vslice_nested *g);
bool vslice_nested_alive(const struct vslice_nested *g);
int vslice_nested_stop(struct vslice_nested *g, unsigned int timeout_s);
void vslice_nested_clean(struct vslice_nested *g);

/* The serial log (ttyS0). */
char *vslice_nested_log(const struct vslice_nested *g, off_t from,
			size_t *len);
off_t vslice_nested_log_size(const struct vslice_nested *g);
int vslice_nested_wait(const struct vslice_nested *g, off_t from,
		       const char *needle, unsigned int timeout_s,
		       char *line, size_t len);
void vslice_nested_dump(const struct vslice_nested *g, unsigned int lines);
int vslice_nested_boot_wait(const struct vslice_nested *g,
			    unsigned int timeout_s);
int vslice_nested_reference_boot(const struct vslice_nested_opts *opts,
				 unsigned int timeout_s);

/* Commands to the guest's /init (see scripts/nested-init). */
__printf(4, 5)
int vslice_nested_cmd(struct vslice_nested *g, unsigned int timeout_s,
		      off_t *start, const char *fmt, ...);

/* QEMU's monitor. */
int vslice_nested_qmp(struct vslice_nested *g, const char *json,
		      char *reply, size_t len);
int vslice_nested_hmp(struct vslice_nested *g, const char *cmd, char *out,
		      size_t len);
int vslice_nested_screendump(struct vslice_nested *g, const char *path);
int vslice_nested_qmp_fd(struct vslice_nested *g, const char *json, int fd,
			 char *reply, size_t len);
int vslice_nested_migrate(struct vslice_nested *src, struct vslice_nested *dst,
			  unsigned int timeout_s, bool force, char *info,
			  size_t len);
int vslice_nested_status(struct vslice_nested *g, char *status, size_t len);

/* Does this instance offer a region display plane (display=on)? */
int vslice_nested_probe_display(const char *uuid);

/* Files in the work directory. */
int vslice_nested_path(const struct vslice_nested *g, const char *name,
		       char *path, size_t len);
int vslice_nested_put(const struct vslice_nested *g, const char *name,
		      const char *val);
int vslice_nested_get(const struct vslice_nested *g, const char *name,
		      char *buf, size_t len);

/**
 * struct vslice_ppm - a P6 image, as QEMU's screendump writes it
 * @width: pixels
 * @height: pixels
 * @rgb: @width * @height pixels of 3 bytes, red first
 */
struct vslice_ppm {
	u32 width;
	u32 height;
	u8 *rgb;
};

int vslice_ppm_read(const char *path, struct vslice_ppm *img);
void vslice_ppm_free(struct vslice_ppm *img);

/*
 * The test pattern a guest draws: 24 bits of a hash of seed, x and y, so
 * that every pixel of every frame is checkable and a shifted, stretched or
 * stale frame is not mistaken for the right one.  As XRGB8888 the X byte
 * is zero; in a PPM it is red, green, blue.
 */
static inline u32 vslice_pixel(u64 seed, u32 x, u32 y)
{
	u64 v = seed * 0x9e3779b97f4a7c15ULL + ((u64)y << 16 | x);

	v ^= v >> 31;
	v *= 0xbf58476d1ce4e5b9ULL;
	v ^= v >> 29;
	return v & 0xffffff;
}

/*
 * Colour bars for the demo (vslice-fbdraw bars): eight bars of 75% white,
 * yellow, cyan, green, magenta, red, blue and black over the top two
 * thirds, a grey ramp below.
 */
static inline u32 vslice_bars_pixel(u32 x, u32 y, u32 width, u32 height)
{
	static const u32 bars[8] = {
		0xbfbfbf, 0xbfbf00, 0x00bfbf, 0x00bf00,
		0xbf00bf, 0xbf0000, 0x0000bf, 0x000000,
	};
	u32 v;

	if (y < height * 2 / 3)
		return bars[x * 8 / width];
	v = x * 255 / (width - 1);
	return v << 16 | v << 8 | v;
}

bool vslice_bars_check(const struct vslice_ppm *img);

/**
 * struct vslice_frame - a frame the guest drew: the pattern of @seed
 * @seed: vslice_pixel()'s seed
 * @width: pixels
 * @height: pixels
 * @stride: bytes per line of the guest's fb0
 */
struct vslice_frame {
	u64 seed;
	u32 width;
	u32 height;
	u32 stride;
};

int vslice_nested_draw(struct vslice_nested *g, u64 seed,
		       struct vslice_frame *f, unsigned int timeout_s);
int vslice_frame_put(const struct vslice_nested *g, const char *name,
		     const struct vslice_frame *f);
int vslice_frame_get(const struct vslice_nested *g, const char *name,
		     struct vslice_frame *f);
long long vslice_frame_diff(const u8 *fb, u32 stride,
			    const struct vslice_frame *f, u32 *got);
long long vslice_ppm_diff(const struct vslice_ppm *img,
			  const struct vslice_frame *f, u32 *got);

/**
 * struct vslice_mode - an instance's scanout, from its mode attribute
 * @width: pixels
 * @height: pixels
 * @bpp: bits per pixel
 * @stride: bytes per line
 * @offset: of the first pixel in the slice
 */
struct vslice_mode {
	u32 width;
	u32 height;
	u32 bpp;
	u32 stride;
	u64 offset;
};

int vslice_mode_get(const char *uuid, struct vslice_mode *m, char *text,
		    size_t len);

#endif /* VSLICE_SELFTEST_NESTED_H */
