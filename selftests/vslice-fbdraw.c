// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice-fbdraw SEED|bars [DEVICE]: run inside a nested guest, writes the
 * test pattern SEED (or the demo's colour bars) of selftests/lib/nested.h
 * to the visible part of a framebuffer device (default /dev/fb0), through
 * write(), so that the fbdev emulation of the DRM driver sees every
 * change.  Prints one line:
 *
 *   drawn SEED|bars WxH bpp 32 stride LINE_LENGTH smem SMEM_LEN
 *
 * Only 32 bpp (XRGB8888) framebuffers are supported; anything else is an
 * error (exit status 1).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/fb.h>

#include "lib/nested.h"

int main(int argc, char **argv)
{
	const char *dev = argc > 2 ? argv[2] : "/dev/fb0";
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	bool bars;
	u64 seed;
	u32 *row, x, y;
	u8 *frame;
	size_t len;
	off_t off;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: %s SEED|bars [DEVICE]\n", argv[0]);
		return 2;
	}
	bars = !strcmp(argv[1], "bars");
	seed = bars ? 0 : strtoull(argv[1], NULL, 0);
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, FBIOGET_VSCREENINFO, &var) ||
	    ioctl(fd, FBIOGET_FSCREENINFO, &fix)) {
		fprintf(stderr, "%s: %s\n", dev, strerror(errno));
		return 1;
	}
	if (var.bits_per_pixel != 32) {
		fprintf(stderr, "%s: %u bpp, only 32 is supported\n", dev,
			var.bits_per_pixel);
		return 1;
	}
	/* The whole visible frame in one write: one damage report. */
	frame = calloc(var.yres, fix.line_length);
	if (!frame)
		return 1;
	for (y = 0; y < var.yres; y++) {
		row = (u32 *)(frame + (size_t)y * fix.line_length);
		for (x = 0; x < var.xres; x++)
			row[x] = bars ? vslice_bars_pixel(x, y, var.xres,
							  var.yres) :
					vslice_pixel(seed, x, y);
	}
	len = (size_t)var.yres * fix.line_length;
	off = (off_t)var.yoffset * fix.line_length;
	if (var.xoffset || pwrite(fd, frame, len, off) != (ssize_t)len) {
		fprintf(stderr, "%s: writing the frame: %s\n", dev,
			var.xoffset ? "x offset not supported" : strerror(errno));
		return 1;
	}
	fsync(fd);
	printf("drawn %s %ux%u bpp 32 stride %u smem %u\n", argv[1],
	       var.xres, var.yres, fix.line_length, fix.smem_len);
	free(frame);
	close(fd);
	return 0;
}
