// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice_bench: the figures of `make bench`, measured inside the bench VM.
 *
 *   vslice_bench [-r ROUNDS] [BENCH...]
 *
 * Prints one line per figure, "name value unit", to stdout.  A figure
 * that could not be measured reads "name null unit # why".  Lines that
 * start with '#' are comments: the spread of each figure, and progress.
 * scripts/bed collects the lines into out/bench/bench.json.
 *
 * Every figure is a median over ROUNDS rounds, after a warm-up.  Within
 * a round, the subjects being compared take turns in small pieces (1 MiB
 * of a 16 MiB bandwidth sample, 1000 of 20000 trapped reads), in reverse
 * order every other turn (A, B, C, C, B, A, ...), so that drift of the
 * emulated machine and bursts of load on the host hit all of them alike;
 * a ratio is the median of the per-round ratios.  The program stays on
 * CPU 0.
 *
 * The subjects: an instance of vslice (vslice-16M), the parent's own BAR0
 * (sysfs resource0), the second bochs-display bound to vfio-pci, and an
 * instance of the kernel's mbochs sample when it is loaded
 * ($VSLICE_BENCH_MBOCHS_MISSING says why when it is not).
 *
 * Each group of figures is one function in benches[]: to add figures,
 * add a function there.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "lib/edu.h"

#define BENCH_MAX_ROUNDS	64
#define BENCH_ROUNDS		21
#define BENCH_VRAM_LEN		(16 * VSLICE_MIB)
#define BENCH_RW_CHUNK		(64 * 1024)
#define BENCH_PIECE		(1 * VSLICE_MIB)
#define BENCH_OP_LOOPS		20000
#define BENCH_OP_BLOCKS		20
#define BENCH_OP_BLOCK		(BENCH_OP_LOOPS / BENCH_OP_BLOCKS)
#define BENCH_CFG_POS		0x0	/* vendor and device ID */
#define BENCH_BAR2_POS		0x500	/* DISPI ID register */
#define BENCH_CFG_ID		0x11111234	/* 1234:1111, bochs-display */
#define BENCH_DISPI_ID5		0xb0c5	/* what the DISPI ID reads */
#define BENCH_INSTANCES		64
#define BENCH_LC_CYCLES		8	/* lifecycle cycles of each per round */
#define BENCH_PAGE		4096
#define BENCH_SCALE_CPUS	2	/* threads of the scaling figures */
#define BENCH_SCALE_READS	10000	/* reads per thread per sample */
#define BENCH_SCALE_BLOCK	10	/* reads of one instance in a row */
#define BENCH_WHY_LEN		256

#define SYS_PCI_DEVICES		"/sys/bus/pci/devices"
#define SYS_MBOCHS		"/sys/class/mbochs/mbochs"

static unsigned int rounds = BENCH_ROUNDS;

/* ---------------------------------------------------------------- figures */

/* One sample per round of one measured quantity. */
struct samples {
	double v[BENCH_MAX_ROUNDS];
	unsigned int n;
};

static void add(struct samples *s, double v)
{
	if (s->n < BENCH_MAX_ROUNDS)
		s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void sorted(const struct samples *s, double *v)
{
	memcpy(v, s->v, s->n * sizeof(*v));
	qsort(v, s->n, sizeof(*v), cmp_double);
}

static double median(const struct samples *s)
{
	double v[BENCH_MAX_ROUNDS];

	sorted(s, v);
	if (s->n % 2)
		return v[s->n / 2];
	return (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

static void print_value(const char *name, double v, const char *unit)
{
	printf("%s %.*f %s\n", name, strcmp(unit, "ratio") ? 1 : 3, v, unit);
}

/* A figure: the median of @s, and its spread as a comment. */
static void fig(const char *name, const struct samples *s, const char *unit)
{
	double v[BENCH_MAX_ROUNDS];
	unsigned int i;

	if (!s->n) {
		printf("%s null %s # no samples\n", name, unit);
		fflush(stdout);
		return;
	}
	sorted(s, v);
	print_value(name, median(s), unit);
	printf("# %s: %u rounds, min %.4g, max %.4g; by round:", name, s->n,
	       v[0], v[s->n - 1]);
	for (i = 0; i < s->n; i++)
		printf(" %.4g", s->v[i]);
	putchar('\n');
	fflush(stdout);
}

static void fig_missing(const char *name, const char *unit, const char *why)
{
	printf("%s null %s # %s\n", name, unit, why);
	fflush(stdout);
}

/* A comment line in the results, flushed at once. */
static void note(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* -------------------------------------------------------------- measuring */

static double mibs(size_t len, u64 ns)
{
	return (double)len / VSLICE_MIB / (ns ? ns : 1) * 1e9;
}

/*
 * Bandwidth of 64-bit stores and loads through a mapping.  Relaxed atomic
 * accesses compile to plain moves that the compiler may neither merge,
 * widen into vector stores nor drop.
 */
static u64 map_write_ns(u8 *p, size_t len)
{
	u64 *q = (u64 *)p;
	size_t i, n = len / sizeof(*q);
	u64 t0 = vslice_now_ns();

	for (i = 0; i < n; i++)
		__atomic_store_n(&q[i], i, __ATOMIC_RELAXED);
	__sync_synchronize();	/* drain write-combining buffers */
	return vslice_now_ns() - t0;
}

static u64 map_read_ns(const u8 *p, size_t len)
{
	const u64 *q = (const u64 *)p;
	size_t i, n = len / sizeof(*q);
	u64 t0 = vslice_now_ns(), sum = 0;

	for (i = 0; i < n; i++)
		sum += __atomic_load_n(&q[i], __ATOMIC_RELAXED);
	/* keep the loads: nothing else uses the sum */
	asm volatile("" : : "r" (sum));
	return vslice_now_ns() - t0;
}

/* Time to move @len bytes with pread/pwrite in @chunk pieces. */
static u64 fd_rw_ns(int fd, u64 off, size_t len, u8 *buf, size_t chunk,
		    bool write)
{
	u64 t0 = vslice_now_ns();
	size_t done;
	ssize_t n;

	for (done = 0; done < len; done += chunk) {
		if (write)
			n = pwrite(fd, buf, chunk, off + done);
		else
			n = pread(fd, buf, chunk, off + done);
		if (n != (ssize_t)chunk)
			VSLICE_FAIL("%s of %zu bytes at 0x%llx returned %zd",
				    write ? "pwrite" : "pread", chunk,
				    (unsigned long long)(off + done), n);
	}
	return vslice_now_ns() - t0;
}

/*
 * Time of @loops trapped reads of @size bytes (2 or 4) at @off of the
 * device fd.
 */
static u64 read_loop_ns(int fd, u64 off, unsigned int size,
			unsigned int loops)
{
	unsigned int i;
	u64 t0 = vslice_now_ns();
	u32 v;

	for (i = 0; i < loops; i++)
		if (pread(fd, &v, size, off) != size)
			VSLICE_FAIL("pread of %u bytes at 0x%llx", size,
				    (unsigned long long)off);
	return vslice_now_ns() - t0;
}

/* The value of a @size-byte read at @off of the device fd, or -errno. */
static long long read_value(int fd, u64 off, unsigned int size)
{
	u32 v = 0;
	ssize_t n = pread(fd, &v, size, off);

	if (n != size)
		return n < 0 ? -errno : -EIO;
	return v;
}

/* Busy jiffies of all CPUs so far, from /proc/stat. */
static long long busy_ticks(void)
{
	long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 8)
		return -1;
	/* all but idle and iowait */
	return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

/*
 * Wait until the machine is idle: vslice clears released VRAM in a
 * background worker, which would compete with the measurements.  Idle is
 * three 100 ms windows in a row with at most one busy tick; gives up
 * after a minute.
 */
static void settle(void)
{
	const struct timespec tick = { .tv_nsec = 100 * 1000 * 1000 };
	u64 t0 = vslice_now_ns();
	long long a, b;
	int quiet = 0;

	a = busy_ticks();
	while (quiet < 3 && vslice_now_ns() - t0 < 60000000000ULL) {
		nanosleep(&tick, NULL);
		b = busy_ticks();
		quiet = b - a <= 1 ? quiet + 1 : 0;
		a = b;
	}
	note("settled in %.1f s%s", (vslice_now_ns() - t0) / 1e9,
	     quiet < 3 ? " (gave up waiting for an idle machine)" : "");
}

/* ---------------------------------------------------------------- subjects */

/**
 * struct subject - one device opened through VFIO
 * @name: prefix of its figures
 * @dev: the open device
 * @cfg: offset of the config region in the device fd
 * @bar0: offset of BAR0
 * @bar0_size: size of BAR0
 * @bar2: offset of BAR2
 * @tried: opening was attempted
 * @ok: open and usable
 * @remove: an mdev instance the bench created: remove it when done
 * @why: why not @ok
 */
struct subject {
	const char *name;
	struct vslice_dev dev;
	u64 cfg;
	u64 bar0;
	u64 bar0_size;
	u64 bar2;
	bool tried;
	bool ok;
	bool remove;
	char why[BENCH_WHY_LEN];
};

enum { SUBJ_VSLICE, SUBJ_VFIO_PCI, SUBJ_MBOCHS, NR_SUBJ };

/* What the benches share: subjects are opened on first use. */
struct bench_ctx {
	const char *parent;
	struct subject subj[NR_SUBJ];
};

static int region_info(int fd, u32 index, struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, info) ? -errno : 0;
}

static bool subject_regions(struct subject *s)
{
	struct vfio_region_info cfg, bar0, bar2;
	int ret;

	ret = region_info(s->dev.fd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (!ret)
		ret = region_info(s->dev.fd, VFIO_PCI_BAR0_REGION_INDEX, &bar0);
	if (!ret)
		ret = region_info(s->dev.fd, VFIO_PCI_BAR2_REGION_INDEX, &bar2);
	if (ret) {
		snprintf(s->why, sizeof(s->why),
			 "VFIO_DEVICE_GET_REGION_INFO failed: %s",
			 strerror(-ret));
		return false;
	}
	s->cfg = cfg.offset;
	s->bar0 = bar0.offset;
	s->bar0_size = bar0.size;
	s->bar2 = bar2.offset;
	return true;
}

/* Create an instance of @type on the mdev parent @sysdev and open it. */
static bool subject_open_mdev(struct subject *s, const char *sysdev,
			      const char *type)
{
	char uuid[VSLICE_UUID_LEN], path[PATH_MAX];
	int ret;

	ret = vslice_mdev_create(sysdev, type, uuid);
	if (ret) {
		snprintf(s->why, sizeof(s->why), "creating a %s instance: %s",
			 type, strerror(-ret));
		return false;
	}
	s->remove = true;
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", uuid);
	ret = vslice_vfio_open(&s->dev, path, uuid);
	if (ret) {
		snprintf(s->why, sizeof(s->why), "opening %s instance %s: %s",
			 type, uuid, strerror(-ret));
		return false;
	}
	return subject_regions(s);
}

static bool subject_open_vslice(struct bench_ctx *ctx, struct subject *s)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SYS_PCI_DEVICES "/%s", ctx->parent);
	return subject_open_mdev(s, path, "vslice-16M");
}

/* The second bochs-display, bound to the stock vfio-pci driver. */
static bool subject_open_vfio_pci(struct bench_ctx *ctx, struct subject *s)
{
	const char *bdf = vslice_spare();
	char path[PATH_MAX];
	int ret;

	if (!bdf) {
		snprintf(s->why, sizeof(s->why),
			 "no second bochs-display in this VM");
		return false;
	}
	ret = vslice_bind(bdf, "vfio-pci");
	if (ret) {
		snprintf(s->why, sizeof(s->why), "binding %s to vfio-pci: %s",
			 bdf, strerror(-ret));
		return false;
	}
	snprintf(path, sizeof(path), SYS_PCI_DEVICES "/%s", bdf);
	ret = vslice_vfio_open(&s->dev, path, bdf);
	if (ret) {
		snprintf(s->why, sizeof(s->why),
			 "opening %s through vfio-pci: %s", bdf,
			 strerror(-ret));
		return false;
	}
	return subject_regions(s);
}

/* mbochs's type whose name ends in @suffix ("-medium": 16 MiB). */
static bool mbochs_type(const char *suffix, char *type, size_t len)
{
	size_t n, m = strlen(suffix);
	struct dirent *de;
	bool found = false;
	DIR *dir;

	dir = opendir(SYS_MBOCHS "/mdev_supported_types");
	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		n = strlen(de->d_name);
		if (n > m && !strcmp(de->d_name + n - m, suffix)) {
			snprintf(type, len, "%s", de->d_name);
			found = true;
		}
	}
	closedir(dir);
	return found;
}

/* An instance of the kernel's mbochs sample, 16 MiB like ours. */
static bool subject_open_mbochs(struct bench_ctx *ctx, struct subject *s)
{
	const char *missing = getenv("VSLICE_BENCH_MBOCHS_MISSING");
	char type[64];

	if (missing && *missing) {
		snprintf(s->why, sizeof(s->why), "%s", missing);
		return false;
	}
	if (access(SYS_MBOCHS, F_OK)) {
		snprintf(s->why, sizeof(s->why), "mbochs is not loaded");
		return false;
	}
	if (!mbochs_type("-medium", type, sizeof(type))) {
		snprintf(s->why, sizeof(s->why),
			 "no mbochs type *-medium in " SYS_MBOCHS
			 "/mdev_supported_types");
		return false;
	}
	return subject_open_mdev(s, SYS_MBOCHS, type);
}

static const struct {
	const char *name;
	bool (*open)(struct bench_ctx *ctx, struct subject *s);
} subject_kinds[NR_SUBJ] = {
	[SUBJ_VSLICE]	= { "vslice", subject_open_vslice },
	[SUBJ_VFIO_PCI]	= { "vfio_pci", subject_open_vfio_pci },
	[SUBJ_MBOCHS]	= { "mbochs", subject_open_mbochs },
};

/* Subject @i, opened on first use; check ->ok and ->why. */
static struct subject *subject(struct bench_ctx *ctx, unsigned int i)
{
	struct subject *s = &ctx->subj[i];

	if (s->tried)
		return s;
	s->tried = true;
	s->name = subject_kinds[i].name;
	vslice_dev_init(&s->dev);
	s->ok = subject_kinds[i].open(ctx, s);
	if (!s->ok)
		note("%s: %s", s->name, s->why);
	/* Without our own instance there is nothing to measure. */
	VSLICE_ASSERT(s->ok || i != SUBJ_VSLICE, "%s", s->why);
	return s;
}

static void subject_put(struct subject *s)
{
	int ret;

	if (!s->tried)
		return;
	vslice_dev_close(&s->dev);
	if (s->remove) {
		ret = vslice_remove(s->dev.uuid);
		if (ret)
			note("removing %s instance %s: %s", s->name,
			     s->dev.uuid, strerror(-ret));
	}
	memset(s, 0, sizeof(*s));
}

static void subjects_put(struct bench_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < NR_SUBJ; i++)
		subject_put(&ctx->subj[i]);
}

static u8 *map_region(struct subject *s, u64 off, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       s->dev.fd, off);

	if (p == MAP_FAILED) {
		snprintf(s->why, sizeof(s->why), "mmap of BAR0: %s",
			 strerror(errno));
		return NULL;
	}
	return p;
}

/* ------------------------------------------------------------------ benches */

/**
 * struct bw - one way of reaching VRAM, for the bandwidth figures
 * @name: figure prefix
 * @map: a mapping, or NULL for trapped pread/pwrite on @fd at @off
 * @fd: device fd (trapped)
 * @off: region offset in @fd (trapped)
 * @active: measured (it has a mapping, or is trapped)
 * @w: write samples, MiB/s
 * @r: read samples, MiB/s
 */
struct bw {
	const char *name;
	u8 *map;
	int fd;
	u64 off;
	bool active;
	struct samples w, r;
};

/* Time to move @len bytes at @pos one way. */
static u64 bw_piece(struct bw *b, u8 *buf, u64 pos, size_t len, bool write)
{
	if (b->map)
		return write ? map_write_ns(b->map + pos, len) :
			       map_read_ns(b->map + pos, len);
	return fd_rw_ns(b->fd, b->off + pos, len, buf, BENCH_RW_CHUNK, write);
}

/* The subject measured @n-th in turn @turn: the order flips every turn. */
static unsigned int nth(unsigned int turn, unsigned int n, unsigned int nr)
{
	return turn % 2 ? nr - 1 - n : n;
}

/*
 * One sample of each of the @nr ways: each moves BENCH_VRAM_LEN bytes in
 * BENCH_PIECE pieces, the ways taking turns piece by piece, so that a
 * burst of load on the host hits all of them alike.
 */
static void bw_round(struct bw *bw, unsigned int nr, u8 *buf, bool write)
{
	u64 ns[8] = { 0 };
	unsigned int i, n, p;

	VSLICE_ASSERT(nr <= ARRAY_SIZE(ns), "too many ways");
	for (p = 0; p < BENCH_VRAM_LEN / BENCH_PIECE; p++) {
		for (n = 0; n < nr; n++) {
			i = nth(p, n, nr);
			if (bw[i].active)
				ns[i] += bw_piece(&bw[i], buf,
						  (u64)p * BENCH_PIECE,
						  BENCH_PIECE, write);
		}
	}
	for (i = 0; i < nr; i++)
		if (bw[i].active)
			add(write ? &bw[i].w : &bw[i].r,
			    mibs(BENCH_VRAM_LEN, ns[i]));
}

static void ratio_fig(const char *name, const struct samples *a,
		      const struct samples *b)
{
	struct samples r = { .n = 0 };
	unsigned int i;

	for (i = 0; i < a->n && i < b->n; i++)
		add(&r, a->v[i] / b->v[i]);
	fig(name, &r, "ratio");
}

/*
 * Bandwidth through our instance's mapping of BAR0, through the parent's
 * resource0 over the same bytes, through vfio-pci's mapping of the other
 * display's BAR0, and trapped (pread/pwrite in 64 KiB pieces) on our
 * instance.
 */
static void bench_fastpath(struct bench_ctx *ctx)
{
	enum { OURS, PARENT, VFIO_PCI, TRAPPED, NR_BW };
	struct subject *ours = subject(ctx, SUBJ_VSLICE);
	struct subject *vp = subject(ctx, SUBJ_VFIO_PCI);
	struct bw bw[NR_BW] = {
		[OURS]		= { .name = "vslice" },
		[PARENT]	= { .name = "parent" },
		[VFIO_PCI]	= { .name = "vfio_pci" },
		[TRAPPED]	= { .name = "trapped" },
	};
	char why[BENCH_WHY_LEN + 32];
	size_t pvram_len = 0;
	u8 *pvram, *buf;
	unsigned int i, j;
	long long off;

	off = vslice_inst_attr_ll(ours->dev.uuid, "vram_offset");
	pvram = vslice_map_parent_vram(ctx->parent, &pvram_len);
	bw[OURS].map = map_region(ours, ours->bar0, BENCH_VRAM_LEN);
	bw[PARENT].map = pvram + off;
	if (vp->ok && vp->bar0_size >= BENCH_VRAM_LEN)
		bw[VFIO_PCI].map = map_region(vp, vp->bar0, BENCH_VRAM_LEN);
	bw[TRAPPED].fd = ours->dev.fd;
	bw[TRAPPED].off = ours->bar0;
	for (i = 0; i < NR_BW; i++)
		bw[i].active = bw[i].map || i == TRAPPED;
	buf = malloc(BENCH_RW_CHUNK);
	VSLICE_ASSERT(bw[OURS].map && buf, "%s", ours->why);
	memset(buf, 0x5a, BENCH_RW_CHUNK);

	/* Warm up; this faults everything in (vfio-pci maps lazily). */
	for (i = 0; i < NR_BW; i++) {
		if (bw[i].active) {
			bw_piece(&bw[i], buf, 0, BENCH_VRAM_LEN, true);
			bw_piece(&bw[i], buf, 0, BENCH_VRAM_LEN, false);
		}
	}
	settle();

	for (j = 0; j < rounds; j++) {
		bw_round(bw, NR_BW, buf, true);
		bw_round(bw, NR_BW, buf, false);
	}

	fig("vslice_write_mibs", &bw[OURS].w, "MiB/s");
	fig("vslice_read_mibs", &bw[OURS].r, "MiB/s");
	fig("parent_write_mibs", &bw[PARENT].w, "MiB/s");
	fig("parent_read_mibs", &bw[PARENT].r, "MiB/s");
	ratio_fig("fastpath_write_ratio", &bw[OURS].w, &bw[PARENT].w);
	ratio_fig("fastpath_read_ratio", &bw[OURS].r, &bw[PARENT].r);
	if (bw[VFIO_PCI].map) {
		fig("vfio_pci_write_mibs", &bw[VFIO_PCI].w, "MiB/s");
		fig("vfio_pci_read_mibs", &bw[VFIO_PCI].r, "MiB/s");
	} else {
		snprintf(why, sizeof(why), "vfio-pci: %s", vp->why);
		fig_missing("vfio_pci_write_mibs", "MiB/s", why);
		fig_missing("vfio_pci_read_mibs", "MiB/s", why);
	}
	fig("trapped_write_mibs", &bw[TRAPPED].w, "MiB/s");
	fig("trapped_read_mibs", &bw[TRAPPED].r, "MiB/s");
	ratio_fig("trapped_write_ratio", &bw[TRAPPED].w, &bw[OURS].w);
	ratio_fig("trapped_read_ratio", &bw[TRAPPED].r, &bw[OURS].r);

	free(buf);
	munmap(pvram, pvram_len);
	munmap(bw[OURS].map, BENCH_VRAM_LEN);
	if (bw[VFIO_PCI].map)
		munmap(bw[VFIO_PCI].map, BENCH_VRAM_LEN);
}

/*
 * The trapped reads measured, in the order of the figures.  Each reads a
 * register that all three subjects implement, at the width they
 * implement it, and must see @expect: a subject that answers otherwise
 * (an unhandled access reads zeros or all ones) is not measured doing
 * the same work, and its figure is left out.  The DISPI registers are
 * 16 bits wide: mbochs answers only 2-byte accesses to them (others take
 * its unhandled path), and vslice and QEMU split a 4-byte one in two.
 */
static const struct {
	const char *what;	/* figure stem */
	const char *reg;	/* what it reads, for messages */
	bool bar2;		/* in BAR2, else in config space */
	unsigned int pos;
	unsigned int size;	/* bytes per read */
	u32 expect;		/* the value every subject must read */
} ops[] = {
	{ "config_read", "config vendor/device ID", false, BENCH_CFG_POS, 4,
	  BENCH_CFG_ID },
	{ "bar2_read", "BAR2 DISPI ID", true, BENCH_BAR2_POS, 2,
	  BENCH_DISPI_ID5 },
};

/* Turn @turn: BENCH_OP_BLOCK reads of each kind on each subject. */
static void ops_turn(struct subject **subj, bool ok[][NR_SUBJ],
		     u64 ns[][NR_SUBJ], unsigned int turn)
{
	unsigned int i, n, o;
	u64 off;

	for (o = 0; o < ARRAY_SIZE(ops); o++) {
		for (n = 0; n < NR_SUBJ; n++) {
			i = nth(turn, n, NR_SUBJ);
			if (!ok[o][i])
				continue;
			off = (ops[o].bar2 ? subj[i]->bar2 : subj[i]->cfg) +
			      ops[o].pos;
			ns[o][i] += read_loop_ns(subj[i]->dev.fd, off,
						 ops[o].size, BENCH_OP_BLOCK);
		}
	}
}

/*
 * Check that subject @s reads op @o's register as expected.  Return:
 * true if it does, else false with the reason in @why.
 */
static bool op_reads_right(struct subject *s, unsigned int o, char *why,
			   size_t len)
{
	u64 off = (ops[o].bar2 ? s->bar2 : s->cfg) + ops[o].pos;
	long long v = read_value(s->dev.fd, off, ops[o].size);

	if (v == ops[o].expect)
		return true;
	if (v < 0)
		snprintf(why, len, "%s: %u-byte read of the %s: %s", s->name,
			 ops[o].size, ops[o].reg, strerror(-v));
	else
		snprintf(why, len,
			 "%s: %u-byte read of the %s gives 0x%llx, not 0x%x",
			 s->name, ops[o].size, ops[o].reg, v, ops[o].expect);
	return false;
}

/*
 * Cost of one trapped read of config space (4 bytes at offset 0: vendor
 * and device ID) and of a BAR2 register (2 bytes at 0x500: the DISPI ID),
 * on our instance and on the two peers a user would otherwise pick.
 * Every subject's value is checked before and after the rounds.
 */
static void bench_trapped(struct bench_ctx *ctx)
{
	struct samples s[ARRAY_SIZE(ops)][NR_SUBJ] = { 0 };
	char bad[ARRAY_SIZE(ops)][NR_SUBJ][BENCH_WHY_LEN];
	u64 ns[ARRAY_SIZE(ops)][NR_SUBJ];
	bool ok[ARRAY_SIZE(ops)][NR_SUBJ];
	struct subject *subj[NR_SUBJ];
	unsigned int i, b, k, o;
	char name[64];
	u64 off;

	for (i = 0; i < NR_SUBJ; i++) {
		subj[i] = subject(ctx, i);
		for (o = 0; o < ARRAY_SIZE(ops); o++) {
			snprintf(bad[o][i], BENCH_WHY_LEN, "%s: %s",
				 subj[i]->name, subj[i]->why);
			ok[o][i] = subj[i]->ok &&
				   op_reads_right(subj[i], o, bad[o][i],
						  BENCH_WHY_LEN);
			if (subj[i]->ok && !ok[o][i])
				note("%s", bad[o][i]);
			/* ours must answer right, or the bench fails */
			VSLICE_ASSERT(ok[o][i] || i != SUBJ_VSLICE, "%s",
				      bad[o][i]);
			if (!ok[o][i])
				continue;
			/* warm up */
			off = (ops[o].bar2 ? subj[i]->bar2 : subj[i]->cfg) +
			      ops[o].pos;
			read_loop_ns(subj[i]->dev.fd, off, ops[o].size,
				     BENCH_OP_LOOPS);
		}
	}
	settle();

	/*
	 * A sample is BENCH_OP_LOOPS reads, in BENCH_OP_BLOCKS blocks: the
	 * subjects take turns block by block.
	 */
	for (k = 0; k < rounds; k++) {
		memset(ns, 0, sizeof(ns));
		for (b = 0; b < BENCH_OP_BLOCKS; b++)
			ops_turn(subj, ok, ns, b);
		for (o = 0; o < ARRAY_SIZE(ops); o++)
			for (i = 0; i < NR_SUBJ; i++)
				if (ok[o][i])
					add(&s[o][i], (double)ns[o][i] /
						      BENCH_OP_LOOPS);
	}
	/* Still the same register afterwards. */
	for (o = 0; o < ARRAY_SIZE(ops); o++) {
		for (i = 0; i < NR_SUBJ; i++) {
			if (!ok[o][i] || op_reads_right(subj[i], o, bad[o][i],
							BENCH_WHY_LEN))
				continue;
			VSLICE_ASSERT(i != SUBJ_VSLICE, "%s", bad[o][i]);
			note("%s", bad[o][i]);
			ok[o][i] = false;
		}
	}

	for (o = 0; o < ARRAY_SIZE(ops); o++) {
		for (i = 0; i < NR_SUBJ; i++) {
			snprintf(name, sizeof(name), "%s_%s_ns",
				 subj[i]->name, ops[o].what);
			if (ok[o][i])
				fig(name, &s[o][i], "ns");
			else
				fig_missing(name, "ns", bad[o][i]);
		}
		/* Ours over each peer's: below 1 means ours is cheaper. */
		for (i = 0; i < NR_SUBJ; i++) {
			if (i == SUBJ_VSLICE)
				continue;
			snprintf(name, sizeof(name), "%s_ratio_vs_%s",
				 ops[o].what, subj[i]->name);
			if (ok[o][i])
				ratio_fig(name, &s[o][SUBJ_VSLICE], &s[o][i]);
			else
				fig_missing(name, "ratio", bad[o][i]);
		}
	}
}

static void close_devs(struct vslice_dev *dev, unsigned int from,
		       unsigned int to)
{
	unsigned int i;

	for (i = from; i < to; i++)
		vslice_dev_close(&dev[i]);
}

/**
 * struct scale_thread - one CPU's share of the scaling figures
 * @cpu: the CPU it runs on
 * @dev: all the instances, open
 * @cfg: offset of each one's config region
 * @first: the first instance it reads
 * @step: the distance to its next one
 * @nr: how many it reads (in turn)
 * @start: where all threads wait to start together
 * @ns: how long its reads took
 * @why: why it failed, empty if it did not
 */
struct scale_thread {
	unsigned int cpu;
	struct vslice_dev *dev;
	const u64 *cfg;
	unsigned int first, step, nr;
	pthread_barrier_t *start;
	u64 ns;
	char why[BENCH_WHY_LEN];
};

/*
 * BENCH_SCALE_READS config reads on CPU @t->cpu, BENCH_SCALE_BLOCK at a
 * time on each of its instances in turn; every block's last value must be
 * the vendor and device ID.
 */
static void *scale_thread_fn(void *arg)
{
	struct scale_thread *t = arg;
	unsigned int done, n = 0, b, d;
	cpu_set_t cpus;
	u64 t0;
	u32 v;

	CPU_ZERO(&cpus);
	CPU_SET(t->cpu, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		snprintf(t->why, sizeof(t->why), "pinning to CPU %u: %s",
			 t->cpu, strerror(errno));
	pthread_barrier_wait(t->start);
	t0 = vslice_now_ns();
	for (done = 0; done < BENCH_SCALE_READS && !*t->why;
	     done += BENCH_SCALE_BLOCK) {
		d = t->first + n * t->step;
		for (b = 0; b < BENCH_SCALE_BLOCK; b++) {
			if (pread(t->dev[d].fd, &v, sizeof(v), t->cfg[d] +
				  BENCH_CFG_POS) != sizeof(v))
				v = 0;
		}
		if (v != BENCH_CFG_ID)
			snprintf(t->why, sizeof(t->why),
				 "instance %u read 0x%x as its ID", d, v);
		n = (n + 1) % t->nr;
	}
	t->ns = vslice_now_ns() - t0;
	return NULL;
}

/*
 * One sample: a thread on each CPU, both started at once, reading @nr
 * instances: 1 (both read instance 0), 2 (one each) or 64 (each reads its
 * 32 in turn, even and odd).  A read that fails or reads a wrong ID
 * fails the bench.  Return: ns per read, the mean over the threads.
 */
static double scale_sample(struct vslice_dev *dev, const u64 *cfg,
			   unsigned int nr)
{
	struct scale_thread t[BENCH_SCALE_CPUS] = { 0 };
	pthread_barrier_t start;
	pthread_t tid[BENCH_SCALE_CPUS];
	unsigned int i, nt = 0;
	double sum = 0;
	int ret = 0;

	pthread_barrier_init(&start, NULL, BENCH_SCALE_CPUS);
	for (i = 0; i < BENCH_SCALE_CPUS; i++) {
		t[i] = (struct scale_thread) {
			.cpu = i, .dev = dev, .cfg = cfg, .start = &start,
			.first = i % nr, .step = BENCH_SCALE_CPUS,
			.nr = nr < BENCH_SCALE_CPUS ? 1 : nr / BENCH_SCALE_CPUS,
		};
		ret = pthread_create(&tid[i], NULL, scale_thread_fn, &t[i]);
		if (ret)
			break;
		nt++;
	}
	/* Without all the threads the others would wait forever. */
	VSLICE_ASSERT(!ret, "starting a thread: %s", strerror(ret));
	for (i = 0; i < nt; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < nt; i++) {
		VSLICE_ASSERT(!*t[i].why, "scaling: CPU %u: %s", i, t[i].why);
		sum += (double)t[i].ns / BENCH_SCALE_READS;
	}
	return sum / nt;
}

/*
 * Scaling: the cost of a config read while all 64 vslice-4M instances
 * (the whole card) are busy at once, against the same reads on one
 * instance and on two.  All 64 are created and open (each in its own
 * container) in every case; a thread pinned to each CPU reads, both at
 * the same time (see scale_sample()), the three cases taking turns.
 */
static void bench_scaling(struct bench_ctx *ctx)
{
	static struct vslice_dev dev[BENCH_INSTANCES];
	static const unsigned int nr[] = { 1, BENCH_SCALE_CPUS,
					   BENCH_INSTANCES };
	static const char * const name[] = {
		"scaling_config_read_1_ns", "scaling_config_read_2_ns",
		"scaling_config_read_64_ns",
	};
	static u64 cfg[BENCH_INSTANCES];
	struct samples s[ARRAY_SIZE(nr)] = { 0 };
	struct vfio_region_info info;
	unsigned int i, k, j;
	char why[BENCH_WHY_LEN] = "";
	long long avail;
	int ret = 0;

	for (i = 0; i < BENCH_INSTANCES; i++)
		vslice_dev_init(&dev[i]);
	/* The card must be empty: our 16M instance goes first. */
	subject_put(&ctx->subj[SUBJ_VSLICE]);
	VSLICE_ASSERT(!vslice_remove_all(ctx->parent), "removing instances");
	if (sysconf(_SC_NPROCESSORS_ONLN) < BENCH_SCALE_CPUS) {
		snprintf(why, sizeof(why), "fewer than %d CPUs online",
			 BENCH_SCALE_CPUS);
		goto missing;
	}
	avail = vslice_type_available(ctx->parent, "vslice-4M");
	if (avail < BENCH_INSTANCES) {
		snprintf(why, sizeof(why),
			 "only %lld vslice-4M instances fit on the parent",
			 avail);
		goto missing;
	}
	for (i = 0; i < BENCH_INSTANCES && !ret; i++) {
		ret = vslice_create(ctx->parent, "vslice-4M", dev[i].uuid);
		if (!ret)
			ret = vslice_dev_open(&dev[i], dev[i].uuid);
		if (!ret)
			ret = region_info(dev[i].fd,
					  VFIO_PCI_CONFIG_REGION_INDEX, &info);
		cfg[i] = info.offset;
	}
	if (ret) {
		snprintf(why, sizeof(why), "setting up instance %u of %d: %s",
			 i, BENCH_INSTANCES, strerror(-ret));
		goto missing;
	}
	for (j = 0; j < ARRAY_SIZE(nr); j++)	/* warm up */
		scale_sample(dev, cfg, nr[j]);
	settle();

	/* Taking turns, in reverse order every other round. */
	for (k = 0; k < rounds; k++) {
		for (j = 0; j < ARRAY_SIZE(nr); j++) {
			i = nth(k, j, ARRAY_SIZE(nr));
			add(&s[i], scale_sample(dev, cfg, nr[i]));
		}
	}
	close_devs(dev, 0, BENCH_INSTANCES);
	VSLICE_ASSERT(!vslice_remove_all(ctx->parent), "removing instances");
	for (j = 0; j < ARRAY_SIZE(nr); j++)
		fig(name[j], &s[j], "ns");
	ratio_fig("scaling_64_vs_1", &s[2], &s[0]);
	ratio_fig("scaling_64_vs_2", &s[2], &s[1]);
	return;

missing:
	close_devs(dev, 0, BENCH_INSTANCES);
	vslice_remove_all(ctx->parent);
	for (j = 0; j < ARRAY_SIZE(nr); j++)
		fig_missing(name[j], "ns", why);
	fig_missing("scaling_64_vs_1", "ratio", why);
	fig_missing("scaling_64_vs_2", "ratio", why);
}

/*
 * Create a @type instance, open it into @dev and map @len bytes of its
 * BAR0 at *@map (MAP_FAILED if it could not).  Return: 0 or -errno.
 */
static int instance_mapped(struct bench_ctx *ctx, const char *type,
			   struct vslice_dev *dev, size_t len, u8 **map)
{
	struct vfio_region_info bar0;
	int ret;

	*map = MAP_FAILED;
	ret = vslice_create(ctx->parent, type, dev->uuid);
	if (!ret)
		ret = vslice_dev_open(dev, dev->uuid);
	if (!ret)
		ret = region_info(dev->fd, VFIO_PCI_BAR0_REGION_INDEX, &bar0);
	if (ret)
		return ret;
	*map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd,
		    bar0.offset);
	return *map == MAP_FAILED ? -errno : 0;
}

/*
 * Density: how many vslice-4M instances are open (each in its own
 * container) and mapped whole at once.  All are created, opened and
 * mapped first; then every slice is written through its mapping with its
 * own pattern; then every slice is read back through its mapping.  The
 * card has 256 MiB: the goal is all 64.  An instance whose bytes are not
 * all its own fails the bench.
 */
static void bench_density(struct bench_ctx *ctx)
{
	static struct vslice_dev dev[BENCH_INSTANCES];
	static u8 *map[BENCH_INSTANCES];
	const size_t len = 4 * VSLICE_MIB;
	unsigned int i, n = 0, bad = 0;
	char why[BENCH_WHY_LEN] = "";
	long long at;
	int ret = 0;

	subject_put(&ctx->subj[SUBJ_VSLICE]);
	VSLICE_ASSERT(!vslice_remove_all(ctx->parent), "removing instances");
	for (i = 0; i < BENCH_INSTANCES; i++) {
		vslice_dev_init(&dev[i]);
		map[i] = MAP_FAILED;
	}
	for (n = 0; n < BENCH_INSTANCES; n++) {
		ret = instance_mapped(ctx, "vslice-4M", &dev[n], len, &map[n]);
		if (ret) {
			snprintf(why, sizeof(why), "instance %u: %s", n + 1,
				 strerror(-ret));
			break;
		}
	}
	if (*why)
		note("density: stopped at %s", why);
	for (i = 0; i < n; i++)
		vslice_fill(map[i], len, i + 1);
	for (i = 0; i < n; i++) {
		at = vslice_check(map[i], len, i + 1);
		if (at < 0)
			continue;
		note("density: instance %u (%s) differs from its pattern at 0x%llx",
		     i + 1, dev[i].uuid, at);
		bad++;
	}
	note("density: %u of %u instances mapped at once, %u lost bytes", n,
	     BENCH_INSTANCES, bad);
	printf("density_4mib_instances %u instances\n", n - bad);
	fflush(stdout);
	for (i = 0; i < BENCH_INSTANCES; i++) {
		if (map[i] != MAP_FAILED)
			munmap(map[i], len);
		vslice_dev_close(&dev[i]);
	}
	VSLICE_ASSERT(!vslice_remove_all(ctx->parent), "removing instances");
	VSLICE_ASSERT(!bad, "density: %u instances lost their bytes", bad);
}

/**
 * struct lc_side - one side of the lifecycle figure
 * @sysdev: the mdev parent's sysfs directory
 * @type: the 16 MiB type
 * @pvram: the vslice parent's VRAM (resource0), where the side's scrub
 *	   is watched; NULL for a side that owes none after remove
 * @ns: time of this round's cycles so far
 */
struct lc_side {
	char sysdev[PATH_MAX];
	char type[64];
	const u8 *pvram;
	u64 ns;
};

/* Until every page of the slice at @off reads zero again; 0 or -errno. */
static int lifecycle_wait_scrub(const u8 *pvram, u64 off, size_t len)
{
	const u64 t0 = vslice_now_ns();
	size_t pg;

	for (pg = 0; pg < len; ) {
		if (!__atomic_load_n((const u64 *)(pvram + off + pg),
				     __ATOMIC_RELAXED)) {
			pg += BENCH_PAGE;
			continue;
		}
		if (vslice_now_ns() - t0 > 10000000000ULL)
			return -ETIMEDOUT;
		sched_yield();	/* let the scrub worker run */
	}
	return 0;
}

/*
 * One lifecycle of a 16 MiB instance of side @lc, as a tenant that uses
 * its VRAM would live it: create, open, map BAR0, check that every page
 * reads zero and write a word into it, unmap, close, remove; then, for
 * a side that clears released VRAM after remove (vslice, whose scrub
 * worker clears the whole slice), until the slice reads zero again.  The
 * other side (mbochs) allocates each page zeroed when it is first
 * touched, within the cycle, and frees it on close.  Adds the time to
 * @lc->ns, but not that of reading vslice's vram_offset from sysfs.
 * Return: 0 or -errno (-EBADMSG: a fresh instance held data).
 */
static int lifecycle_once(struct lc_side *lc)
{
	const size_t len = BENCH_VRAM_LEN;
	struct vfio_region_info bar0;
	long long off = 0;
	char path[PATH_MAX];
	struct vslice_dev dev;
	u64 t0, t1 = 0, t2 = 0;
	u8 *map = MAP_FAILED;
	size_t pg;
	int ret;

	vslice_dev_init(&dev);
	t0 = vslice_now_ns();
	ret = vslice_mdev_create(lc->sysdev, lc->type, dev.uuid);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", dev.uuid);
	ret = vslice_vfio_open(&dev, path, dev.uuid);
	if (!ret)
		ret = region_info(dev.fd, VFIO_PCI_BAR0_REGION_INDEX, &bar0);
	if (!ret) {
		map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			   dev.fd, bar0.offset);
		if (map == MAP_FAILED)
			ret = -errno;
	}
	for (pg = 0; !ret && pg < len; pg += BENCH_PAGE) {
		u64 *q = (u64 *)(map + pg);

		if (__atomic_load_n(q, __ATOMIC_RELAXED)) {
			note("lifecycle: a fresh %s instance holds data at 0x%zx",
			     lc->type, pg);
			ret = -EBADMSG;
		}
		__atomic_store_n(q, ~0ULL, __ATOMIC_RELAXED);
	}
	if (map != MAP_FAILED)
		munmap(map, len);
	if (lc->pvram && !ret) {
		t1 = vslice_now_ns();
		off = vslice_inst_attr_ll(dev.uuid, "vram_offset");
		t2 = vslice_now_ns();
		if (off < 0)
			ret = off;
	}
	vslice_dev_close(&dev);
	if (vslice_remove(dev.uuid) && !ret)
		ret = -EIO;
	if (lc->pvram && !ret)
		ret = lifecycle_wait_scrub(lc->pvram, off, len);
	if (!ret)
		lc->ns += vslice_now_ns() - t0 - (t2 - t1);
	return ret;
}

/*
 * Lifecycle: the cycle of lifecycle_once() for a vslice-16M instance
 * against one of mbochs's 16 MiB type, taking turns (BENCH_LC_CYCLES of
 * each per round, in alternating order).  Both sides hand every tenant
 * 16 MiB that reads zero and clear the 16 MiB it wrote within the cycle.
 */
static void bench_lifecycle(struct bench_ctx *ctx)
{
	struct samples ours = { .n = 0 }, peer = { .n = 0 };
	struct lc_side lc[2] = { 0 };
	char why[BENCH_WHY_LEN];
	struct subject *m = subject(ctx, SUBJ_MBOCHS);
	size_t pvram_len = 0;
	unsigned int k, c, i, j;
	bool have_peer;
	u8 *pvram;
	int ret;

	subject_put(&ctx->subj[SUBJ_VSLICE]);
	VSLICE_ASSERT(!vslice_remove_all(ctx->parent), "removing instances");
	snprintf(why, sizeof(why), "mbochs: %s", m->why);
	have_peer = m->ok && mbochs_type("-medium", lc[1].type,
					 sizeof(lc[1].type));
	subject_put(m);
	pvram = vslice_map_parent_vram(ctx->parent, &pvram_len);
	snprintf(lc[0].sysdev, sizeof(lc[0].sysdev), SYS_PCI_DEVICES "/%s",
		 ctx->parent);
	snprintf(lc[0].type, sizeof(lc[0].type), "vslice-16M");
	lc[0].pvram = pvram;
	snprintf(lc[1].sysdev, sizeof(lc[1].sysdev), SYS_MBOCHS);
	for (k = 0; k < rounds + 1; k++) {	/* round 0 warms up */
		lc[0].ns = 0;
		lc[1].ns = 0;
		for (c = 0; c < BENCH_LC_CYCLES; c++) {
			for (j = 0; j < 2; j++) {
				i = (k + c) % 2 ? 1 - j : j;
				if (i == 1 && !have_peer)
					continue;
				ret = lifecycle_once(&lc[i]);
				/* ours must not fail; the peer is left out */
				VSLICE_ASSERT(!ret || i, "lifecycle: %s",
					      strerror(-ret));
				if (ret) {
					snprintf(why, sizeof(why),
						 "mbochs: a cycle failed: %s",
						 strerror(-ret));
					note("%s; measuring vslice alone", why);
					have_peer = false;
					ours.n = 0;
					k = 0;
				}
			}
		}
		if (!k) {
			settle();
			continue;
		}
		add(&ours, lc[0].ns / 1e3 / BENCH_LC_CYCLES);
		if (have_peer)
			add(&peer, lc[1].ns / 1e3 / BENCH_LC_CYCLES);
	}
	munmap(pvram, pvram_len);
	fig("lifecycle_vslice_us", &ours, "us");
	if (have_peer) {
		fig("lifecycle_mbochs_us", &peer, "us");
		ratio_fig("lifecycle_ratio_vs_mbochs", &ours, &peer);
	} else {
		fig_missing("lifecycle_mbochs_us", "us", why);
		fig_missing("lifecycle_ratio_vs_mbochs", "ratio", why);
	}
}

/*
 * One stop-copy of the instance open on @fd: STOP -> STOP_COPY, the whole
 * stream read into @buf, -> STOP (the downtime), then RUNNING again.
 * Return: 0 with the time in *@ns and the stream's length in *@len.
 */
static int stop_copy_once(int fd, u8 *buf, size_t max, u64 *ns, size_t *len)
{
	int data = -1, ret;
	u64 t0;
	ssize_t n = 0;

	ret = vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL);
	if (ret)
		return ret;
	t0 = vslice_now_ns();
	ret = vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP_COPY, &data);
	for (*len = 0; !ret && (n = read(data, buf + *len, max - *len)) > 0;)
		*len += n;
	if (!ret && n < 0)
		ret = -errno;
	if (data >= 0)
		close(data);
	if (!ret)
		ret = vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL);
	*ns = vslice_now_ns() - t0;
	if (!ret)
		ret = vslice_mig_set(fd, VFIO_DEVICE_STATE_RUNNING, NULL);
	return ret;
}

/*
 * Migration: the downtime of a stop-copy (STOP_COPY entered, the stream
 * read whole, STOP again) of a vslice-16M and a vslice-64M instance whose
 * VRAM holds a pattern, against a plain memcpy of the same slice out of
 * its mapping, taking turns; and the stream's size against the slice's.
 */
static void bench_migration(struct bench_ctx *ctx)
{
	static const unsigned int mib[] = { 16, 64 };
	struct samples t[2] = { 0 }, m[2] = { 0 };
	size_t slice, len = 0, lens[2] = { 0 };
	struct vslice_dev dev[2];
	char name[64], why[BENCH_WHY_LEN] = "";
	unsigned int i, k;
	u8 *buf = NULL, *map[2] = { MAP_FAILED, MAP_FAILED };
	u64 ns, t0;
	int ret = 0;

	subject_put(&ctx->subj[SUBJ_VSLICE]);
	VSLICE_ASSERT(!vslice_remove_all(ctx->parent), "removing instances");
	for (i = 0; i < 2; i++)
		vslice_dev_init(&dev[i]);
	buf = malloc((size_t)(mib[1] + 1) * VSLICE_MIB);
	for (i = 0; i < 2 && !ret && buf; i++) {
		char type[32];

		slice = (size_t)mib[i] * VSLICE_MIB;
		snprintf(type, sizeof(type), "vslice-%uM", mib[i]);
		ret = instance_mapped(ctx, type, &dev[i], slice, &map[i]);
		if (!ret)
			vslice_fill(map[i], slice, 0x319 + i);
		if (ret)
			snprintf(why, sizeof(why), "setting up a %s instance: %s",
				 type, strerror(-ret));
	}
	if (!buf)
		snprintf(why, sizeof(why), "no memory for the stream");
	else	/* its pages in place: no first-round faults on either side */
		memset(buf, 0, (size_t)(mib[1] + 1) * VSLICE_MIB);
	for (k = 0; k < rounds && !*why; k++) {
		for (i = 0; i < 2 && !*why; i++) {
			unsigned int j = k % 2 ? 1 - i : i;

			slice = (size_t)mib[j] * VSLICE_MIB;
			ret = stop_copy_once(dev[j].fd, buf,
					     slice + VSLICE_MIB, &ns, &len);
			if (ret) {
				snprintf(why, sizeof(why), "stop-copy: %s",
					 strerror(-ret));
				break;
			}
			add(&t[j], ns / 1e6);
			lens[j] = len;
			t0 = vslice_now_ns();
			memcpy(buf, map[j], slice);
			add(&m[j], (vslice_now_ns() - t0) / 1e6);
		}
	}
	for (i = 0; i < 2; i++) {
		slice = (size_t)mib[i] * VSLICE_MIB;
		if (*why) {
			snprintf(name, sizeof(name), "migration_stop_copy_ms_%umib", mib[i]);
			fig_missing(name, "ms", why);
			snprintf(name, sizeof(name), "migration_stop_copy_ratio_%umib", mib[i]);
			fig_missing(name, "ratio", why);
			snprintf(name, sizeof(name), "migration_stream_ratio_%umib", mib[i]);
			fig_missing(name, "ratio", why);
			continue;
		}
		snprintf(name, sizeof(name), "migration_stop_copy_ms_%umib", mib[i]);
		fig(name, &t[i], "ms");
		snprintf(name, sizeof(name), "migration_memcpy_ms_%umib", mib[i]);
		fig(name, &m[i], "ms");
		snprintf(name, sizeof(name), "migration_stop_copy_ratio_%umib", mib[i]);
		ratio_fig(name, &t[i], &m[i]);
		snprintf(name, sizeof(name), "migration_stream_bytes_%umib", mib[i]);
		print_value(name, lens[i], "bytes");
		snprintf(name, sizeof(name), "migration_stream_ratio_%umib", mib[i]);
		print_value(name, (double)lens[i] / slice, "ratio");
		fflush(stdout);
	}
	for (i = 0; i < 2; i++) {
		if (map[i] != MAP_FAILED)
			munmap(map[i], (size_t)mib[i] * VSLICE_MIB);
		vslice_dev_close(&dev[i]);
	}
	free(buf);
	VSLICE_ASSERT(!vslice_remove_all(ctx->parent), "removing instances");
}

/* Read the pre-copy stream on @data to its temporary end; bytes read. */
static ssize_t precopy_drain(int data, u8 *buf, size_t max)
{
	size_t len = 0;
	ssize_t n;

	while ((n = read(data, buf + len, max - len)) > 0)
		len += n;
	if (n < 0 && errno != ENOMSG)
		return -errno;
	return len;
}

/*
 * One switchover after a pre-copy pass of an idle instance: PRE_COPY, the
 * whole first pass read (the guest keeps running), then the downtime:
 * STOP_COPY, the rest of the stream, STOP.  Back to RUNNING after.
 */
static int idle_switchover(int fd, u8 *buf, size_t max, u64 *ns,
			   size_t *len)
{
	int data = -1, ret;
	ssize_t n;
	u64 t0;

	ret = vslice_mig_set(fd, VFIO_DEVICE_STATE_PRE_COPY, &data);
	if (ret)
		return ret;
	n = precopy_drain(data, buf, max);
	if (n < 0)
		ret = n;
	t0 = vslice_now_ns();
	if (!ret)
		ret = vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP_COPY, NULL);
	for (*len = 0; !ret && (n = read(data, buf + *len, max - *len)) > 0;)
		*len += n;
	if (!ret && n < 0)
		ret = -errno;
	if (!ret)
		ret = vslice_mig_set(fd, VFIO_DEVICE_STATE_STOP, NULL);
	*ns = vslice_now_ns() - t0;
	close(data);
	if (!ret)
		ret = vslice_mig_set(fd, VFIO_DEVICE_STATE_RUNNING, NULL);
	return ret;
}

/*
 * The guest's write bandwidth to its VRAM while pre-copy tracks it:
 * PRE_COPY entered and its first pass read, so that every page is clean
 * and write-protected, then the slice written whole (a write fault per
 * page, first touch, included); against the same write with nothing
 * tracked.  Taking turns.
 */
static int tracked_write(int fd, u8 *map, size_t slice, u8 *buf, size_t max,
			 double *mibs_tracked, double *mibs_plain)
{
	int data = -1, ret;
	ssize_t n;
	u64 ns;

	/* untracked: every page mapped already, as a running guest has it */
	map_write_ns(map, slice);
	*mibs_plain = mibs(slice, map_write_ns(map, slice));
	ret = vslice_mig_set(fd, VFIO_DEVICE_STATE_PRE_COPY, &data);
	if (ret)
		return ret;
	n = precopy_drain(data, buf, max);
	if (n < 0)
		ret = n;
	ns = map_write_ns(map, slice);
	*mibs_tracked = mibs(slice, ns);
	close(data);
	if (!ret)
		ret = vslice_mig_set(fd, VFIO_DEVICE_STATE_RUNNING, NULL);
	return ret;
}

/*
 * Pre-copy: the downtime and the stop-copy bytes of an idle vslice-64M
 * and vslice-256M after one pre-copy pass, against their slices; and the
 * cost of the write tracking to a guest that writes its whole VRAM.
 */
static void bench_precopy(struct bench_ctx *ctx)
{
	static const unsigned int mib[] = { 64, 256 };
	struct samples t[2] = { 0 }, b[2] = { 0 }, tw = { 0 }, pw = { 0 };
	char name[64], why[BENCH_WHY_LEN] = "";
	struct vslice_dev dev;
	size_t slice, len, max = 300 * VSLICE_MIB;
	u8 *buf = malloc(max), *map = MAP_FAILED;
	double tracked, plain;
	unsigned int i, k;
	int ret = 0;
	u64 ns;

	subject_put(&ctx->subj[SUBJ_VSLICE]);
	VSLICE_ASSERT(buf, "no memory for the stream");
	for (i = 0; i < 2; i++) {
		char type[32];

		VSLICE_ASSERT(!vslice_remove_all(ctx->parent), "removing instances");
		vslice_dev_init(&dev);
		slice = (size_t)mib[i] * VSLICE_MIB;
		snprintf(type, sizeof(type), "vslice-%uM", mib[i]);
		ret = instance_mapped(ctx, type, &dev, slice, &map);
		if (ret) {
			snprintf(why, sizeof(why), "setting up a %s instance: %s",
				 type, strerror(-ret));
			break;
		}
		vslice_fill(map, slice, 0x8c + i);
		for (k = 0; k < rounds && !ret; k++) {
			ret = idle_switchover(dev.fd, buf, max, &ns, &len);
			if (!ret) {
				add(&t[i], ns / 1e6);
				add(&b[i], (double)len / slice);
			}
			if (!ret && i == 0)
				ret = tracked_write(dev.fd, map, slice, buf, max,
						    &tracked, &plain);
			if (!ret && i == 0) {
				add(&tw, tracked);
				add(&pw, plain);
			}
		}
		if (ret)
			snprintf(why, sizeof(why), "pre-copy of a %s instance: %s",
				 type, strerror(-ret));
		munmap(map, slice);
		vslice_dev_close(&dev);
		if (ret)
			break;
	}
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "migration_idle_stop_copy_ms_%umib", mib[i]);
		if (*why)
			fig_missing(name, "ms", why);
		else
			fig(name, &t[i], "ms");
		snprintf(name, sizeof(name), "migration_idle_stop_copy_bytes_ratio_%umib",
			 mib[i]);
		if (*why)
			fig_missing(name, "ratio", why);
		else
			fig(name, &b[i], "ratio");
	}
	if (*why) {
		fig_missing("precopy_fastpath_write_ratio", "ratio", why);
	} else {
		fig("precopy_tracked_write_mibs", &tw, "MiB/s");
		fig("precopy_untracked_write_mibs", &pw, "MiB/s");
		ratio_fig("precopy_fastpath_write_ratio", &tw, &pw);
	}
	free(buf);
	VSLICE_ASSERT(!vslice_remove_all(ctx->parent), "removing instances");
}

/* ------------------------------------------------------- the edu engine */

#define BENCH_SHARE_MS		20000	/* sched_share_error_max's run */
#define BENCH_JAIN_MS		10000
#define BENCH_CAP_MS		8000
#define BENCH_VICTIM_MS		10000
#define BENCH_VICTIM_WAITS	4096
#define BENCH_EDU_TENANTS	4
#define BENCH_DMA_OPS		6	/* DMAs per sample: 100 ms each */
/* short of the buffer's last byte: QEMU 7.2's edu aborts on a DMA there */
#define BENCH_DMA_LEN		4000
#define BENCH_IRQ_SAMPLES	40
#define BENCH_EDU_IOVA(i)	(0x1000000ULL * ((i) + 1))

/* @n edu instances on @bdf, open, each with its RAM mapped. */
static void edu_tenants_open(const char *bdf, struct edu *e, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		vslice_dev_init(&e[i].dev);
		edu_open_assert(bdf, &e[i], BENCH_EDU_IOVA(i));
	}
}

static void edu_tenants_close(const char *bdf, struct edu *e, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		edu_close(&e[i]);
	VSLICE_ASSERT(!vslice_remove_all(bdf), "removing edu instances");
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * The scheduler, on the edu engine: three tenants weighted 1:2:4 keeping
 * it busy with jobs of mixed lengths (5, 15 and 40 ms) for 20 s, the
 * largest relative error of their shares; four equal tenants' Jain
 * index; a tenant capped at 25 % alone, its share; a tenant of 1 ms jobs
 * among three of 40 ms, its p99 wait over the bound non-preemptive fair
 * scheduling promises (one longest job of another: it has no queue of
 * its own, one job at a time); and a context switch.
 */
static void bench_sched(struct bench_ctx *ctx)
{
	static const double weighted[] = { 1 / 7.0, 2 / 7.0, 4 / 7.0 };
	static const char * const weights[] = { "100", "200", "400" };
	const char *bdf = vslice_edu_parent();
	struct edu e[BENCH_EDU_TENANTS];
	struct edu_loader l[BENCH_EDU_TENANTS];
	long long engine[BENCH_EDU_TENANTS], longest = 0, a, b;
	struct samples share = { 0 }, jain = { 0 }, cap = { 0 };
	struct samples victim = { 0 }, sw = { 0 };
	double sum = 0, sq = 0, *waits;
	u32 n5, n15, n40, n1;
	unsigned int i, r;

	if (!bdf) {
		fig_missing("sched_share_error_max", "ratio",
			    "no edu (1234:11e8) in this VM");
		return;
	}
	VSLICE_ASSERT(!vslice_remove_all(bdf), "removing edu instances");
	edu_tenants_open(bdf, e, BENCH_EDU_TENANTS);
	n1 = edu_fact_for_ms(&e[0], 1);
	n5 = edu_fact_for_ms(&e[0], 5);
	n15 = edu_fact_for_ms(&e[0], 15);
	n40 = edu_fact_for_ms(&e[0], 40);
	VSLICE_ASSERT(n1 && n5 && n15 && n40, "calibrating the factorial");
	note("edu %s: factorials of 1, 5, 15, 40 ms: %u! %u! %u! %u!", bdf,
	     n1, n5, n15, n40);

	VSLICE_ASSERT(!edu_set_policy(bdf, "weighted"), "policy");
	for (i = 0; i < 3; i++) {
		VSLICE_ASSERT(!edu_knob(&e[i], "weight", weights[i]), "weight");
		l[i] = (struct edu_loader){ .e = &e[i] };
		/* each its own order of the three lengths */
		l[i].n[i % 3] = n5;
		l[i].n[(i + 1) % 3] = n15;
		l[i].n[(i + 2) % 3] = n40;
	}
	edu_load_for(l, 3, BENCH_SHARE_MS, engine);
	add(&share, edu_share_error(engine, weighted, 3));
	note("weighted 1:2:4 for %d s: %lld %lld %lld ns", BENCH_SHARE_MS / 1000,
	     engine[0], engine[1], engine[2]);
	fig("sched_share_error_max", &share, "ratio");
	for (i = 0; i < 3; i++)
		VSLICE_ASSERT(!edu_knob(&e[i], "weight", "100"), "weight");

	VSLICE_ASSERT(!edu_set_policy(bdf, "equal"), "policy");
	for (i = 0; i < BENCH_EDU_TENANTS; i++)
		l[i] = (struct edu_loader){ .e = &e[i], .n = { n15, n5, n40 } };
	edu_load_for(l, BENCH_EDU_TENANTS, BENCH_JAIN_MS, engine);
	for (i = 0; i < BENCH_EDU_TENANTS; i++) {
		sum += engine[i];
		sq += (double)engine[i] * engine[i];
	}
	add(&jain, sq > 0 ? sum * sum / (BENCH_EDU_TENANTS * sq) : 0);
	fig("sched_jain_equal", &jain, "ratio");
	VSLICE_ASSERT(!edu_set_policy(bdf, "weighted"), "policy");

	VSLICE_ASSERT(!edu_knob(&e[0], "cap", "25"), "cap");
	l[0] = (struct edu_loader){ .e = &e[0], .n = { n15 } };
	edu_load_for(l, 1, BENCH_CAP_MS, engine);
	add(&cap, engine[0] / (BENCH_CAP_MS * 1e6));
	fig("sched_cap_share", &cap, "ratio");
	VSLICE_ASSERT(!edu_knob(&e[0], "cap", "100"), "cap");

	waits = calloc(BENCH_VICTIM_WAITS, sizeof(*waits));
	VSLICE_ASSERT(waits, "no memory");
	l[0] = (struct edu_loader){ .e = &e[0], .n = { n1 }, .waits = waits,
				    .max_waits = BENCH_VICTIM_WAITS };
	for (i = 1; i < BENCH_EDU_TENANTS; i++)
		l[i] = (struct edu_loader){ .e = &e[i], .n = { n40 },
					    .waits = waits, .max_waits = 0 };
	edu_load_for(l, BENCH_EDU_TENANTS, BENCH_VICTIM_MS, engine);
	for (i = 1; i < BENCH_EDU_TENANTS; i++)
		longest = l[i].longest > longest ? l[i].longest : longest;
	if (l[0].nwaits && longest > 0) {
		qsort(waits, l[0].nwaits, sizeof(*waits), cmp_dbl);
		add(&victim, waits[l[0].nwaits * 99 / 100] / longest);
		note("victim: %u jobs, p50 wait %.2f ms, p99 %.2f ms, longest other job %.2f ms",
		     l[0].nwaits, waits[l[0].nwaits / 2] / 1e6,
		     waits[l[0].nwaits * 99 / 100] / 1e6, longest / 1e6);
	}
	free(waits);
	fig("sched_victim_wait_p99_ratio", &victim, "ratio");

	/* a DMA after another tenant's needs its buffer back: one more DMA */
	for (r = 0; r < 3; r++) {
		VSLICE_ASSERT(edu_dma_ns(&e[0], 64) > 0, "DMA");
		a = edu_dma_ns(&e[0], 64);	/* its buffer is there */
		VSLICE_ASSERT(edu_dma_ns(&e[1], 64) > 0, "DMA");
		b = edu_dma_ns(&e[0], 64);	/* it is not */
		VSLICE_ASSERT(a > 0 && b > 0, "DMA");
		add(&sw, (b - a) / 1e3);
	}
	fig("ctx_switch_us", &sw, "us");
	edu_tenants_close(bdf, e, BENCH_EDU_TENANTS);
}

/**
 * struct edu_side - an edu the engine figures drive: a vslice instance
 *		     (trapped registers) or the spare edu on vfio-pci
 *		     (registers mapped)
 * @e: the instance, or the vfio-pci device in @e.dev, its RAM mapped
 * @bar: vfio-pci: BAR0 mapped; NULL: through the instance's fd
 * @bar_size: its size
 * @efd: the MSI eventfd
 */
struct edu_side {
	struct edu e;
	u8 *bar;
	size_t bar_size;
	int efd;
};

static void side_wr(struct edu_side *s, u32 off, u64 val)
{
	if (s->bar)
		__atomic_store_n((u64 *)(s->bar + off), val, __ATOMIC_RELEASE);
	else
		edu_wr(s->e.fd, off, 8, val);
}

static void side_wr32(struct edu_side *s, u32 off, u32 val)
{
	if (s->bar)
		__atomic_store_n((u32 *)(s->bar + off), val, __ATOMIC_RELEASE);
	else
		edu_wr32(s->e.fd, off, val);
}

static u32 side_rd32(struct edu_side *s, u32 off)
{
	if (s->bar)
		return __atomic_load_n((u32 *)(s->bar + off), __ATOMIC_ACQUIRE);
	return edu_rd32(s->e.fd, off);
}

/* Wait for the MSI, then acknowledge what it raised; false on a timeout. */
static bool side_irq(struct edu_side *s)
{
	struct pollfd p = { .fd = s->efd, .events = POLLIN };
	u64 v;

	if (poll(&p, 1, EDU_JOB_MS) != 1 || read(s->efd, &v, sizeof(v)) != 8)
		return false;
	side_wr32(s, EDU_IRQ_ACK, side_rd32(s, EDU_IRQ_STATUS));
	return true;
}

/* Bus mastering, the MSI eventfd, the factorial's interrupt. */
static bool side_setup(struct edu_side *s, u64 cfg, char *why, size_t len)
{
	u16 cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	int ret;

	if (pwrite(s->e.fd, &cmd, 2, cfg + PCI_COMMAND) != 2) {
		snprintf(why, len, "enabling bus mastering: %s", strerror(errno));
		return false;
	}
	s->efd = eventfd(0, EFD_CLOEXEC);
	ret = s->efd < 0 ? -errno :
	      edu_irq_eventfd(s->e.fd, VFIO_PCI_MSI_IRQ_INDEX, s->efd);
	if (ret) {
		snprintf(why, len, "MSI eventfd: %s", strerror(-ret));
		return false;
	}
	side_wr32(s, EDU_STATUS, EDU_STATUS_IRQFACT);
	return true;
}

/* The spare edu on vfio-pci, BAR0 mapped, RAM mapped at @iova. */
static bool side_open_vfio_pci(struct edu_side *s, u64 iova, char *why,
			       size_t len)
{
	const char *bdf = vslice_edu_spare();
	struct vfio_region_info cfg, bar;
	char path[PATH_MAX];
	int ret;

	memset(s, 0, sizeof(*s));
	s->efd = -1;
	vslice_dev_init(&s->e.dev);
	if (!bdf) {
		snprintf(why, len, "no second edu in this VM");
		return false;
	}
	ret = vslice_bind(bdf, "vfio-pci");
	snprintf(path, sizeof(path), SYS_PCI_DEVICES "/%s", bdf);
	if (!ret)
		ret = vslice_vfio_open(&s->e.dev, path, bdf);
	s->e.fd = s->e.dev.fd;
	if (!ret)
		ret = region_info(s->e.fd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (!ret)
		ret = region_info(s->e.fd, VFIO_PCI_BAR0_REGION_INDEX, &bar);
	if (ret) {
		snprintf(why, len, "opening %s through vfio-pci: %s", bdf,
			 strerror(-ret));
		return false;
	}
	s->bar_size = bar.size;
	s->bar = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      s->e.fd, bar.offset);
	s->e.ram = mmap(NULL, EDU_RAM_LEN, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (s->bar == MAP_FAILED)
		s->bar = NULL;
	if (s->e.ram == MAP_FAILED)
		s->e.ram = NULL;
	if (!s->bar || !s->e.ram) {
		snprintf(why, len, "mapping BAR0 or RAM: %s", strerror(errno));
		return false;
	}
	s->e.iova = iova;
	ret = vslice_map_dma(&s->e.dev, s->e.ram, EDU_RAM_LEN, iova);
	if (ret) {
		snprintf(why, len, "mapping RAM for DMA: %s", strerror(-ret));
		return false;
	}
	return side_setup(s, cfg.offset, why, len);
}

/* DMAs into the buffer and back, each to its interrupt: ops/s. */
static double side_dma_rate(struct edu_side *s)
{
	u64 t0 = vslice_now_ns();
	unsigned int i;

	for (i = 0; i < BENCH_DMA_OPS; i++) {
		bool out = i & 1;

		side_wr(s, EDU_DMA_SRC, out ? EDU_BUF : s->e.iova);
		side_wr(s, EDU_DMA_DST, out ? s->e.iova + 0x8000 : EDU_BUF);
		side_wr(s, EDU_DMA_COUNT, BENCH_DMA_LEN);
		side_wr(s, EDU_DMA_CMD, EDU_DMA_RUN | EDU_DMA_IRQ |
			(out ? EDU_DMA_TO_RAM : 0));
		if (!side_irq(s))
			return 0;
	}
	return BENCH_DMA_OPS / ((vslice_now_ns() - t0) / 1e9);
}

/*
 * From the write that starts 1! to its interrupt's eventfd, on both
 * sides, sample by sample in turns (which side goes first alternates), so
 * that both see the same moments of the machine: each side's median us
 * into @us.  False on a timeout.
 */
static bool sides_irq_latency(struct edu_side side[2], double us[2])
{
	struct samples lat[2] = { 0 };
	unsigned int i, j, k;
	u64 t0;

	for (i = 0; i < BENCH_IRQ_SAMPLES && i < BENCH_MAX_ROUNDS; i++) {
		for (j = 0; j < 2; j++) {
			k = (i + j) & 1;
			t0 = vslice_now_ns();
			side_wr32(&side[k], EDU_FACT, 1);
			if (!side_irq(&side[k]))
				return false;
			add(&lat[k], (vslice_now_ns() - t0) / 1e3);
		}
	}
	for (k = 0; k < 2; k++)
		us[k] = median(&lat[k]);
	return true;
}

/*
 * One tenant of the engine against the whole edu on vfio-pci in the same
 * VM, the same work the same way (each DMA and factorial waits for its
 * MSI): DMA rate, and the latency from a job's start to its interrupt
 * (the instance's registers are trapped: its write is a pwrite).
 */
static void bench_engine(struct bench_ctx *ctx)
{
	const char *bdf = vslice_edu_parent();
	struct samples dma[2] = { 0 }, irq[2] = { 0 };
	struct edu_side side[2];
	double us[2];
	bool ok;
	struct vfio_region_info cfg;
	char why[BENCH_WHY_LEN];
	unsigned int r, k;

	if (!bdf || !side_open_vfio_pci(&side[1], BENCH_EDU_IOVA(0), why,
					sizeof(why))) {
		fig_missing("dma_ops_ratio_vs_vfio_pci", "ratio",
			    bdf ? why : "no edu (1234:11e8) in this VM");
		fig_missing("irq_latency_ratio_vs_vfio_pci", "ratio",
			    bdf ? why : "no edu (1234:11e8) in this VM");
		goto out;
	}
	VSLICE_ASSERT(!vslice_remove_all(bdf), "removing edu instances");
	memset(&side[0], 0, sizeof(side[0]));
	vslice_dev_init(&side[0].e.dev);
	edu_open_assert(bdf, &side[0].e, BENCH_EDU_IOVA(0));
	VSLICE_ASSERT(!region_info(side[0].e.fd, VFIO_PCI_CONFIG_REGION_INDEX,
				   &cfg), "config region");
	VSLICE_ASSERT(side_setup(&side[0], cfg.offset, why, sizeof(why)),
		      "%s", why);

	for (r = 0; r < rounds && r < 5; r++) {
		for (k = 0; k < 2; k++)
			add(&dma[k], side_dma_rate(&side[k]));
		ok = sides_irq_latency(side, us);
		for (k = 0; k < 2; k++)
			add(&irq[k], ok ? us[k] : 0);
	}
	note("DMA ops/s: vslice %.2f, vfio-pci %.2f; 1! to its MSI: %.0f, %.0f us",
	     median(&dma[0]), median(&dma[1]), median(&irq[0]),
	     median(&irq[1]));
	ratio_fig("dma_ops_ratio_vs_vfio_pci", &dma[0], &dma[1]);
	ratio_fig("irq_latency_ratio_vs_vfio_pci", &irq[0], &irq[1]);
	edu_close(&side[0].e);
	close(side[0].efd);
	VSLICE_ASSERT(!vslice_remove_all(bdf), "removing edu instances");
out:
	/* a mapping holds the device: vfio-pci would wait for it to go */
	if (side[1].bar)
		munmap(side[1].bar, side[1].bar_size);
	if (side[1].efd >= 0)
		close(side[1].efd);
	edu_close(&side[1].e);
	if (vslice_edu_spare())
		vslice_bind(vslice_edu_spare(), "");
}

static const struct {
	const char *name;
	void (*run)(struct bench_ctx *ctx);
} benches[] = {
	{ "fastpath", bench_fastpath },
	{ "trapped", bench_trapped },
	{ "scaling", bench_scaling },
	{ "density", bench_density },
	{ "lifecycle", bench_lifecycle },
	{ "migration", bench_migration },
	{ "precopy", bench_precopy },
	{ "sched", bench_sched },
	{ "engine", bench_engine },
};

static bool wanted(const char *name, int argc, char **argv)
{
	int i;

	if (!argc)
		return true;
	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct bench_ctx ctx = { 0 };
	cpu_set_t cpus;
	unsigned int i;
	u64 t0;
	int opt;

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		switch (opt) {
		case 'r':
			rounds = strtoul(optarg, NULL, 0);
			if (rounds >= 1 && rounds <= BENCH_MAX_ROUNDS)
				break;
			fprintf(stderr, "rounds: 1 to %d\n", BENCH_MAX_ROUNDS);
			return 2;
		default:
			fprintf(stderr, "usage: %s [-r ROUNDS] [BENCH...]\n",
				argv[0]);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;

	/* One CPU: no migrations in the middle of a sample. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		note("cannot pin to CPU 0: %s", strerror(errno));

	ctx.parent = vslice_parent();
	VSLICE_ASSERT(ctx.parent, "no bochs-display (1234:1111) in this VM");
	VSLICE_ASSERT(!vslice_remove_all(ctx.parent), "removing instances");
	note("parent %s, %u rounds, %d ops per trapped sample", ctx.parent,
	     rounds, BENCH_OP_LOOPS);

	for (i = 0; i < ARRAY_SIZE(benches); i++) {
		if (!wanted(benches[i].name, argc, argv))
			continue;
		t0 = vslice_now_ns();
		benches[i].run(&ctx);
		note("%s took %.1f s", benches[i].name, (vslice_now_ns() - t0) / 1e9);
	}
	subjects_put(&ctx);
	if (vslice_spare())
		vslice_bind(vslice_spare(), "");
	return 0;
}
