// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice-exporter: every vslice instance's metrics for Prometheus, in the
 * text format of node_exporter's textfile collector.
 *
 *   vslice-exporter [--dir DIR] [--interval SECONDS] [--stdout]
 *                   [--sysfs-root DIR]
 *
 * Reads /sys/bus/mdev/devices/UUID/vslice/ of each instance and writes
 * DIR/vslice.prom (default DIR /var/lib/prometheus/node-exporter, where
 * node_exporter --collector.textfile.directory looks on Debian): to
 * DIR/vslice.prom.PID first, then rename()d over it, so that the collector
 * never reads half a file.  --interval SECONDS rewrites it every SECONDS
 * (0, the default: once); --stdout prints instead of writing the file;
 * --sysfs-root DIR reads DIR instead of /sys (a copy of the tree, for
 * tests).
 *
 * Every sample has the labels uuid, parent (the parent's PCI address) and
 * type (the instance's mdev type).  An instance removed during a scan is
 * left out of that scan; an attribute that cannot be read or parsed for
 * another reason leaves its instance out too, with a message.  The exit
 * status is 1 if the file (or stdout) could not be written or the
 * instances could not be listed, 2 for a bad option; a signal (SIGINT,
 * SIGTERM) ends --interval with 0 after the write in progress.
 */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "lib/vslice.h"

#define DEFAULT_DIR	"/var/lib/prometheus/node-exporter"
#define INTERVAL_MAX_S	86400
#define NAME_LEN	64

/* What an instance models; which instances a metric is for. */
enum inst_kind {
	KIND_ANY,	/* a metric of every instance */
	KIND_OTHER,	/* an instance of neither model below */
	KIND_BOCHS,
	KIND_EDU,
};

/**
 * struct metric - a metric family and where its samples come from
 * @name: the metric's name
 * @type: "counter" or "gauge"
 * @help: its HELP text
 * @kind: the instances that have it
 * @attr: the attribute of the instance's vslice/ that holds its value
 * @scale: the attribute's units per the metric's (1, or a power of 10:
 *	   1000000000 for ns to seconds, 100 for percent to a ratio)
 */
struct metric {
	const char *name;
	const char *type;
	const char *help;
	enum inst_kind kind;
	const char *attr;
	unsigned long long scale;
};

static const struct metric metrics[] = {
	{ "vslice_instance_opens_total", "counter",
	  "Times a user (a VMM) took the instance's device since it was created.",
	  KIND_ANY, "opens", 1 },
	{ "vslice_vram_bytes", "gauge",
	  "Size of the instance's slice of the card's VRAM (its BAR0).",
	  KIND_BOCHS, "vram_size", 1 },
	{ "vslice_migration_dirty_bytes_per_second", "gauge",
	  "Bytes per second the guest dirtied in the instance's VRAM during the last pre-copy pass of a migration.",
	  KIND_BOCHS, "migration_dirty_rate", 1 },
	{ "vslice_engine_jobs_total", "counter",
	  "Jobs of the instance the edu engine ran.",
	  KIND_EDU, "jobs", 1 },
	{ "vslice_engine_time_seconds_total", "counter",
	  "Engine time the instance's jobs used, context switches included.",
	  KIND_EDU, "engine_ns", 1000000000ULL },
	{ "vslice_engine_queued_seconds_total", "counter",
	  "Time the instance's jobs waited in the engine's queue.",
	  KIND_EDU, "queued_ns", 1000000000ULL },
	{ "vslice_engine_dma_bytes_total", "counter",
	  "Bytes the instance's DMAs moved.",
	  KIND_EDU, "dma_bytes", 1 },
	{ "vslice_engine_irqs_total", "counter",
	  "Interrupts signalled to the instance's user (INTx and MSI).",
	  KIND_EDU, "irqs", 1 },
	{ "vslice_engine_context_switches_total", "counter",
	  "Times the instance's buffer was put back on the device.",
	  KIND_EDU, "ctx_switches", 1 },
	{ "vslice_engine_watchdog_hits_total", "counter",
	  "Jobs of the instance that ran longer than its watchdog_ms.",
	  KIND_EDU, "watchdog_hits", 1 },
	{ "vslice_engine_weight", "gauge",
	  "The instance's share of the engine under the weighted policy (1-10000).",
	  KIND_EDU, "weight", 1 },
	{ "vslice_engine_cap_ratio", "gauge",
	  "The most of the engine's time the instance may use (1: no cap).",
	  KIND_EDU, "cap", 100 },
};

/**
 * struct inst - one instance's labels and values, as one scan read them
 * @uuid: the instance
 * @parent: its parent's PCI address
 * @type: its mdev type
 * @kind: what it models
 * @val: the values of the metrics it has, indexed as metrics[]
 */
struct inst {
	char uuid[NAME_LEN];
	char parent[NAME_LEN];
	char type[NAME_LEN];
	enum inst_kind kind;
	unsigned long long val[ARRAY_SIZE(metrics)];
};

/* Where sysfs is: /sys, or --sysfs-root. */
static const char *sysfs_root = "/sys";

static bool inst_has(const struct inst *in, const struct metric *m)
{
	return m->kind == KIND_ANY || m->kind == in->kind;
}

/* The path of the instance's @attr, relative to its directory. */
static void inst_path(char *path, size_t len, const char *uuid,
		      const char *attr)
{
	snprintf(path, len, "%s/bus/mdev/devices/%s%s%s", sysfs_root, uuid,
		 *attr ? "/" : "", attr);
}

static bool inst_exists(const char *uuid, const char *attr)
{
	char path[PATH_MAX];

	inst_path(path, sizeof(path), uuid, attr);
	return !access(path, F_OK);
}

/*
 * An attribute could not be read (@err, -errno): silently if the instance
 * is gone (or going: its attributes go first), else with a message.
 * Either way the instance is left out of this scan.
 */
static int inst_skip(const char *uuid, const char *attr, int err)
{
	if (err != -ENOENT && err != -ENODEV && inst_exists(uuid, ""))
		fprintf(stderr, "vslice-exporter: leaving %s out: %s: %s\n",
			uuid, attr, strerror(-err));
	return err;
}

/* A decimal attribute of the instance's vslice/: 0 or -errno. */
static int inst_read_ull(const char *uuid, const char *attr,
			 unsigned long long *val)
{
	char path[PATH_MAX], buf[64], *end;
	int ret;

	inst_path(path, sizeof(path), uuid, "vslice");
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s",
		 attr);
	ret = vslice_sysfs_read(path, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || end == buf || *end || buf[0] == '-')
		return -EINVAL;
	return 0;
}

/* Read instance @uuid into @in: 0, or -errno if it is left out. */
static int inst_read(struct inst *in, const char *uuid)
{
	char path[PATH_MAX], link[PATH_MAX];
	unsigned int i;
	ssize_t n;
	int ret;

	if (strlen(uuid) >= sizeof(in->uuid))
		return -ENAMETOOLONG;
	snprintf(in->uuid, sizeof(in->uuid), "%s", uuid);

	/* Another driver's instance has no vslice/: not ours, say nothing. */
	inst_path(path, sizeof(path), uuid, "vslice/parent");
	ret = vslice_sysfs_read(path, in->parent, sizeof(in->parent));
	if (ret)
		return ret == -ENOENT ? ret : inst_skip(uuid, "vslice/parent", ret);

	inst_path(path, sizeof(path), uuid, "mdev_type");
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return inst_skip(uuid, "mdev_type", n ? -errno : -EINVAL);
	link[n] = '\0';
	snprintf(in->type, sizeof(in->type), "%s",
		 strrchr(link, '/') ? strrchr(link, '/') + 1 : link);

	if (inst_exists(uuid, "vslice/jobs"))
		in->kind = KIND_EDU;
	else if (inst_exists(uuid, "vslice/vram_size"))
		in->kind = KIND_BOCHS;
	else
		in->kind = KIND_OTHER;

	for (i = 0; i < ARRAY_SIZE(metrics); i++) {
		if (!inst_has(in, &metrics[i]))
			continue;
		ret = inst_read_ull(uuid, metrics[i].attr, &in->val[i]);
		if (ret)
			return inst_skip(uuid, metrics[i].attr, ret);
	}
	return 0;
}

static int inst_cmp(const void *a, const void *b)
{
	return strcmp(((const struct inst *)a)->uuid,
		      ((const struct inst *)b)->uuid);
}

/*
 * Every vslice instance, sorted by UUID, in *@out (free()d by the
 * caller): their number, or -errno if they cannot be listed.  No mdev bus
 * (mdev not loaded) is no instance.
 */
static int scan(struct inst **out)
{
	struct inst *insts = NULL, *grown;
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0, max = 0;
	DIR *dir;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/bus/mdev/devices", sysfs_root);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == max) {
			max = max ? 2 * max : 16;
			grown = realloc(insts, max * sizeof(*insts));
			if (!grown) {
				free(insts);
				closedir(dir);
				return -ENOMEM;
			}
			insts = grown;
		}
		memset(&insts[n], 0, sizeof(insts[n]));
		if (!inst_read(&insts[n], de->d_name))
			n++;
	}
	closedir(dir);
	if (n)
		qsort(insts, n, sizeof(*insts), inst_cmp);
	*out = insts;
	return n;
}

/* A label value, its backslashes, quotes and newlines escaped. */
static void put_label(FILE *f, const char *name, const char *val, bool last)
{
	fprintf(f, "%s=\"", name);
	for (; *val; val++) {
		if (*val == '\\' || *val == '"')
			fprintf(f, "\\%c", *val);
		else if (*val == '\n')
			fputs("\\n", f);
		else
			fputc(*val, f);
	}
	fputs(last ? "\"" : "\",", f);
}

/* @val in units of 1 / @scale, exactly: "12", "1.00", "0.000001234". */
static void put_value(FILE *f, unsigned long long val,
		      unsigned long long scale)
{
	unsigned long long s;
	int digits = 0;

	if (scale <= 1) {
		fprintf(f, "%llu\n", val);
		return;
	}
	for (s = scale; s > 1; s /= 10)
		digits++;
	fprintf(f, "%llu.%0*llu\n", val / scale, digits, val % scale);
}

/*
 * The exposition: each metric family that has samples, its HELP and TYPE
 * lines and then all its samples (the format wants a family in one
 * group).
 */
static void emit(FILE *f, const struct inst *insts, int n)
{
	const struct metric *m;
	unsigned int i;
	bool any;
	int j;

	for (i = 0; i < ARRAY_SIZE(metrics); i++) {
		m = &metrics[i];
		any = false;
		for (j = 0; j < n; j++) {
			if (!inst_has(&insts[j], m))
				continue;
			if (!any) {
				fprintf(f, "# HELP %s %s\n", m->name, m->help);
				fprintf(f, "# TYPE %s %s\n", m->name, m->type);
				any = true;
			}
			fprintf(f, "%s{", m->name);
			put_label(f, "uuid", insts[j].uuid, false);
			put_label(f, "parent", insts[j].parent, false);
			put_label(f, "type", insts[j].type, true);
			fputs("} ", f);
			put_value(f, insts[j].val[i], m->scale);
		}
	}
}

/* --stdout: 0, or -errno. */
static int write_stdout(const struct inst *insts, int n)
{
	int ret = 0;

	errno = 0;
	emit(stdout, insts, n);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		ret = errno ? -errno : -EIO;
		fprintf(stderr, "vslice-exporter: writing to stdout: %s\n",
			strerror(-ret));
	}
	return ret;
}

/*
 * DIR/vslice.prom.PID, then renamed to DIR/vslice.prom: 0, or -errno
 * (and no temporary file left).
 */
static int write_file(const char *dir, const struct inst *insts, int n)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	const char *what = tmp;
	int fd, ret = 0;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/vslice.prom.%d", dir, (int)getpid());
	snprintf(dst, sizeof(dst), "%s/vslice.prom", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		goto fail;
	}
	errno = 0;
	emit(f, insts, n);
	if (fflush(f) == EOF || ferror(f))
		ret = errno ? -errno : -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	if (ret)
		goto fail;
	if (rename(tmp, dst)) {
		ret = -errno;
		what = dst;
		goto fail;
	}
	return 0;

fail:
	unlink(tmp);
out:
	fprintf(stderr, "vslice-exporter: writing %s: %s\n", what,
		strerror(-ret));
	return ret;
}

/*
 * Wait @seconds, or until SIGINT or SIGTERM (@sfd, a signalfd): true if
 * a signal came.
 */
static bool wait_interval(int sfd, unsigned int seconds)
{
	struct pollfd pfd = { .fd = sfd, .events = POLLIN };

	return poll(&pfd, 1, seconds * 1000) > 0;
}

static void print_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--dir DIR] [--interval SECONDS] [--stdout] [--sysfs-root DIR]\n",
		prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "stdout", no_argument, NULL, 'o' },
		{ "sysfs-root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *dir = DEFAULT_DIR;
	unsigned long interval = 0;
	bool to_stdout = false;
	struct inst *insts;
	int opt, n, ret, sfd = -1;
	sigset_t sigs;
	char *end;

	while ((opt = getopt_long(argc, argv, "d:i:or:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 'i':
			errno = 0;
			interval = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end ||
			    interval > INTERVAL_MAX_S) {
				fprintf(stderr, "%s: --interval takes 0 to %u seconds\n",
					argv[0], INTERVAL_MAX_S);
				return 2;
			}
			break;
		case 'o':
			to_stdout = true;
			break;
		case 'r':
			sysfs_root = optarg;
			break;
		case 'h':
			print_usage(argv[0]);
			return 0;
		default:
			print_usage(argv[0]);
			return 2;
		}
	}
	if (optind != argc) {
		print_usage(argv[0]);
		return 2;
	}

	/*
	 * With --interval, SIGINT and SIGTERM wait, blocked, for the write
	 * in progress; then the loop ends.
	 */
	if (interval) {
		sigemptyset(&sigs);
		sigaddset(&sigs, SIGINT);
		sigaddset(&sigs, SIGTERM);
		sigprocmask(SIG_BLOCK, &sigs, NULL);
		sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
		if (sfd < 0) {
			fprintf(stderr, "%s: signalfd: %s\n", argv[0],
				strerror(errno));
			return 1;
		}
	}

	do {
		n = scan(&insts);
		if (n < 0) {
			fprintf(stderr, "%s: listing %s/bus/mdev/devices: %s\n",
				argv[0], sysfs_root, strerror(-n));
			return 1;
		}
		ret = to_stdout ? write_stdout(insts, n) :
				  write_file(dir, insts, n);
		free(insts);
		if (ret)
			return 1;
	} while (interval && !wait_interval(sfd, interval));
	return 0;
}
