// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice-nested: nested guests outside the test harness.
 *
 *   vslice-nested demo GUESTDIR OUT.ppm
 *	In the test VM (the host's root at $VSLICE_NESTED_ROOT, default
 *	/host): create an instance, boot the nested guest on it with
 *	display=on, let it draw colour bars, save QEMU's screendump to
 *	OUT.ppm, stop, remove the instance.  GUESTDIR is a host path.
 *
 *   vslice-nested screendump DIR OUT.ppm
 *	On the host: QEMU's screendump of a running QEMU whose DIR has its
 *	"pid", "qdir" and QMP socket "qmp.sock" (the test bed's own VMs:
 *	the physical-scanout test asks for its outer VM's screen).  OUT.ppm
 *	lies under DIR.
 *
 * Progress goes to stdout; exit status 0 on success.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/vslice.h"
#include "lib/nested.h"

#define INSTANCE_TYPE	"vslice-4M"	/* as nested_test */
#define BOOT_TIMEOUT	600

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int boot(struct vslice_nested *g, const char *dir,
		struct vslice_nested_opts *o, const char *guestdir)
{
	char kernel[PATH_MAX], initrd[PATH_MAX];
	double t0 = now_s();
	int ret;

	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", guestdir);
	snprintf(initrd, sizeof(initrd), "%s/initrd.img", guestdir);
	o->kernel = kernel;
	o->initrd = initrd;
	printf("starting the nested guest: %s\n", o->device);
	fflush(stdout);
	ret = vslice_nested_start(g, dir, o);
	if (!ret)
		ret = vslice_nested_wait(g, 0, VSLICE_NESTED_READY,
					 BOOT_TIMEOUT, NULL, 0);
	if (ret) {
		fprintf(stderr, "nested guest did not start: %s\n",
			strerror(-ret));
		vslice_nested_dump(g, 40);
		return ret;
	}
	printf("nested guest ready after %.0f s\n", now_s() - t0);
	return 0;
}

/* Print the guest's lines that begin with "vslice-nested: @what". */
static void facts(const struct vslice_nested *g, off_t from, const char *what)
{
	char *log = vslice_nested_log(g, from, NULL), *p, *eol, *s;
	char tag[64];

	snprintf(tag, sizeof(tag), VSLICE_NESTED_TAG "%s", what);
	for (p = log; p && (eol = strchr(p, '\n')); p = eol + 1) {
		*eol = '\0';
		s = strstr(p, tag);
		if (s)
			printf("  guest: %s\n", s + strlen(VSLICE_NESTED_TAG));
	}
	free(log);
}

static int copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *o = fopen(to, "wb");
	char buf[65536];
	size_t n;
	int ret = 0;

	if (!in || !o)
		ret = -errno;
	while (!ret && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, o) != n)
			ret = -EIO;
	if (in)
		fclose(in);
	if (o && fclose(o) && !ret)
		ret = -errno;
	return ret;
}

static int show(const char *guestdir, const char *out)
{
	struct vslice_nested_opts o = { 0 };
	char uuid[VSLICE_UUID_LEN], dev[160], dir[] = "/tmp/vslice-demo.XXXXXX";
	char mode[128] = "", shot[PATH_MAX];
	struct vslice_ppm img = { 0 };
	struct vslice_nested g;
	const char *bdf, *root = getenv("VSLICE_NESTED_ROOT");
	double end;
	off_t start;
	int ret, disp;

	if (!mkdtemp(dir))
		return 1;
	bdf = vslice_parent();
	if (!bdf) {
		fprintf(stderr, "no bochs-display in this machine\n");
		return 1;
	}
	ret = vslice_create(bdf, INSTANCE_TYPE, uuid);
	if (ret) {
		fprintf(stderr, "creating a %s instance: %s\n", INSTANCE_TYPE,
			strerror(-ret));
		return 1;
	}
	printf("instance %s (%s) on %s\n", uuid, INSTANCE_TYPE, bdf);
	disp = vslice_nested_probe_display(uuid);
	if (disp <= 0) {
		fprintf(stderr, "the instance has no region display plane\n");
		vslice_remove(uuid);
		return 1;
	}
	snprintf(dev, sizeof(dev),
		 "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,display=on", uuid);
	o.root = root ? (*root ? root : NULL) : "/host";
	o.device = dev;
	ret = boot(&g, dir, &o, guestdir);
	if (ret)
		goto out;
	facts(&g, 0, "device");
	facts(&g, 0, "connector");
	facts(&g, 0, "fb0");
	ret = vslice_nested_cmd(&g, 120, &start, "draw bars");
	facts(&g, start, "drawn");
	if (ret) {
		fprintf(stderr, "the guest could not draw (%d)\n", ret);
		goto out;
	}
	/* The guest's fbdev emulation flushes from a worker: poll. */
	vslice_nested_path(&g, "screen.ppm", shot, sizeof(shot));
	for (end = now_s() + 60; now_s() < end; usleep(500000)) {
		vslice_inst_attr(uuid, "mode", mode, sizeof(mode));
		vslice_ppm_free(&img);
		ret = vslice_nested_screendump(&g, shot);
		if (!ret && !vslice_ppm_read(shot, &img) &&
		    vslice_bars_check(&img))
			break;
		ret = -EAGAIN;
	}
	if (!ret)
		ret = copy_file(shot, out);
	printf("instance mode: %s\n", mode);
	fflush(stdout);
	if (ret) {
		fprintf(stderr, "the screendump never showed the bars (last: %ux%u)\n",
			img.width, img.height);
		vslice_nested_dump(&g, 20);
	} else {
		printf("screendump %ux%u: the bars the guest drew -> %s\n",
		       img.width, img.height, out);
	}
	vslice_ppm_free(&img);
out:
	vslice_nested_stop(&g, 30);
	vslice_nested_clean(&g);
	vslice_remove(uuid);
	return ret ? 1 : 0;
}

static int outer_screendump(const char *dir, const char *out)
{
	struct vslice_nested g;
	int ret;

	ret = vslice_nested_attach(&g, dir);
	if (!ret)
		ret = vslice_nested_screendump(&g, out);
	vslice_nested_detach(&g);
	if (ret)
		fprintf(stderr, "screendump of %s: %s\n", dir, strerror(-ret));
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	/* A guest whose starter died would be ours to reap. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (argc == 4 && !strcmp(argv[1], "demo"))
		return show(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "screendump"))
		return outer_screendump(argv[2], argv[3]);
	fprintf(stderr,
		"usage: %s demo GUESTDIR OUT.ppm\n"
		"       %s screendump DIR OUT.ppm\n", argv[0], argv[0]);
	return 2;
}
