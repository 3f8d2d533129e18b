// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice-info: show what a vslice instance looks like through VFIO.
 *
 *   vslice-info [--sysfs-only] [--trace SECONDS] [--sysfs-root DIR] UUID
 *
 * Prints the instance's parent and type from sysfs, and for an edu
 * instance its scheduler knobs, its counters and the parent's
 * sched_policy.  Then opens the instance through the VFIO group/container
 * API (so nobody else may hold it) and prints its regions, interrupts,
 * config space and registers (a bochs-display's display mode, an edu's
 * registers).  Meant for debugging a setup.
 *
 * --sysfs-only stops before VFIO: for an instance a VM holds.
 * --trace SECONDS (edu instances) enables the engine's tracepoints
 * (events/vslice/vslice_engine_*) in tracefs, prints this instance's
 * events from trace_pipe for that long, then sets the events and
 * tracing_on back as it found them.  trace_pipe consumes what it reads:
 * another reader of the same buffer misses those events.
 * --sysfs-root DIR reads DIR instead of /sys (a copy of the tree, for
 * tests; tracefs is looked for in DIR/kernel/tracing); implies
 * --sysfs-only.
 */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "lib/vslice.h"

#define MMIO(off)	(VSLICE_REGION_OFFSET(VFIO_PCI_BAR2_REGION_INDEX) + (off))
#define EDU_REG(off)	(VSLICE_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX) + (off))

#define NSEC_PER_SEC	1000000000ULL
#define TRACE_MAX_S	86400

static const char * const region_names[] = {
	[VFIO_PCI_BAR0_REGION_INDEX]	= "BAR0 (VRAM)",
	[VFIO_PCI_BAR1_REGION_INDEX]	= "BAR1",
	[VFIO_PCI_BAR2_REGION_INDEX]	= "BAR2 (registers)",
	[VFIO_PCI_BAR3_REGION_INDEX]	= "BAR3",
	[VFIO_PCI_BAR4_REGION_INDEX]	= "BAR4",
	[VFIO_PCI_BAR5_REGION_INDEX]	= "BAR5",
	[VFIO_PCI_ROM_REGION_INDEX]	= "ROM",
	[VFIO_PCI_CONFIG_REGION_INDEX]	= "config",
	[VFIO_PCI_VGA_REGION_INDEX]	= "VGA",
};

static const char * const irq_names[] = {
	[VFIO_PCI_INTX_IRQ_INDEX]	= "INTx",
	[VFIO_PCI_MSI_IRQ_INDEX]	= "MSI",
	[VFIO_PCI_MSIX_IRQ_INDEX]	= "MSI-X",
	[VFIO_PCI_ERR_IRQ_INDEX]	= "error",
	[VFIO_PCI_REQ_IRQ_INDEX]	= "request",
};

static const char * const dispi_names[] = {
	"ID", "XRES", "YRES", "BPP", "ENABLE", "BANK", "VIRT_WIDTH",
	"VIRT_HEIGHT", "X_OFFSET", "Y_OFFSET", "VIDEO_MEMORY_64K",
};

/* An edu instance's knobs and counters, in its vslice/ directory. */
static const char * const engine_attrs[] = {
	"weight", "cap", "watchdog_ms", "jobs", "engine_ns", "queued_ns",
	"dma_bytes", "irqs", "ctx_switches", "watchdog_hits",
};

/* The engine's tracepoints, in tracefs's events/vslice/. */
static const char * const trace_events[] = {
	"vslice_engine_submit", "vslice_engine_start",
	"vslice_engine_complete", "vslice_engine_ctx_switch",
};

/* Where sysfs is: /sys, or --sysfs-root. */
static const char *sysfs_root = "/sys";

/* The instance's attribute @attr, a path relative to its directory. */
static int inst_read(const char *uuid, const char *attr, char *buf,
		     size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/bus/mdev/devices/%s/%s", sysfs_root,
		 uuid, attr);
	return vslice_sysfs_read(path, buf, len);
}

/* An edu instance's vslice/ has the engine's counters. */
static bool inst_is_edu(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/bus/mdev/devices/%s/vslice/jobs",
		 sysfs_root, uuid);
	return !access(path, F_OK);
}

static void show_sysfs(const char *uuid)
{
	static const char * const attrs[] = {
		"mdev_type/name", "mdev_type/description",
	};
	char path[PATH_MAX], buf[256], link[PATH_MAX];
	unsigned int i;
	ssize_t n;

	printf("instance %s\n", uuid);
	snprintf(path, sizeof(path), "%s/bus/mdev/devices/%s", sysfs_root,
		 uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		*strrchr(link, '/') = '\0';
		printf("  parent          %s\n", strrchr(link, '/') + 1);
	}
	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		if (!inst_read(uuid, attrs[i], buf, sizeof(buf)))
			printf("  %-15s %s\n", strchr(attrs[i], '/') + 1, buf);
	}
}

/*
 * An edu instance's share of the engine: the parent's policy, the
 * instance's knobs and counters (the times also in seconds).
 */
static void show_engine(const char *uuid)
{
	char path[PATH_MAX], bdf[64], buf[64];
	unsigned long long ns;
	unsigned int i;
	int ret;

	printf("engine:\n");
	ret = inst_read(uuid, "vslice/parent", bdf, sizeof(bdf));
	if (!ret) {
		snprintf(path, sizeof(path),
			 "%s/bus/pci/devices/%s/vslice/sched_policy",
			 sysfs_root, bdf);
		ret = vslice_sysfs_read(path, buf, sizeof(buf));
	}
	printf("  %-15s %s\n", "sched_policy", ret ? strerror(-ret) : buf);
	for (i = 0; i < ARRAY_SIZE(engine_attrs); i++) {
		snprintf(path, sizeof(path), "vslice/%s", engine_attrs[i]);
		ret = inst_read(uuid, path, buf, sizeof(buf));
		if (ret) {
			printf("  %-15s %s\n", engine_attrs[i], strerror(-ret));
			continue;
		}
		if (!strstr(engine_attrs[i], "_ns")) {
			printf("  %-15s %s\n", engine_attrs[i], buf);
			continue;
		}
		ns = strtoull(buf, NULL, 10);
		printf("  %-15s %s (%llu.%03llu s)\n", engine_attrs[i], buf,
		       ns / NSEC_PER_SEC, ns % NSEC_PER_SEC / 1000000);
	}
}

/* @edu: its BAR0 has registers, not VRAM. */
static void show_device(int fd, bool edu)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info region;
	struct vfio_irq_info irq;
	const char *name;
	u32 i;

	if (ioctl(fd, VFIO_DEVICE_GET_INFO, &info))
		VSLICE_FAIL("VFIO_DEVICE_GET_INFO");
	printf("device: flags%s%s, %u regions, %u irqs\n",
	       info.flags & VFIO_DEVICE_FLAGS_PCI ? " PCI" : "",
	       info.flags & VFIO_DEVICE_FLAGS_RESET ? " RESET" : "",
	       info.num_regions, info.num_irqs);

	printf("regions:\n");
	for (i = 0; i < info.num_regions; i++) {
		vslice_region_info(fd, i, &region);
		if (!region.size)
			continue;
		name = i < VFIO_PCI_NUM_REGIONS ? region_names[i] : "device";
		if (edu && i == VFIO_PCI_BAR0_REGION_INDEX)
			name = "BAR0 (registers)";
		printf("  %-2u %-17s %10llu bytes at 0x%011llx %s%s%s%s\n", i,
		       name,
		       (unsigned long long)region.size,
		       (unsigned long long)region.offset,
		       region.flags & VFIO_REGION_INFO_FLAG_READ ? "r" : "-",
		       region.flags & VFIO_REGION_INFO_FLAG_WRITE ? "w" : "-",
		       region.flags & VFIO_REGION_INFO_FLAG_MMAP ? "m" : "-",
		       region.flags & VFIO_REGION_INFO_FLAG_CAPS ? " caps" : "");
	}

	printf("interrupts:\n");
	for (i = 0; i < info.num_irqs && i < VFIO_PCI_NUM_IRQS; i++) {
		memset(&irq, 0, sizeof(irq));
		irq.argsz = sizeof(irq);
		irq.index = i;
		if (ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &irq))
			VSLICE_FAIL("VFIO_DEVICE_GET_IRQ_INFO %u", i);
		printf("  %-8s %u%s\n", irq_names[i], irq.count,
		       irq.flags & VFIO_IRQ_INFO_EVENTFD ? " (eventfd)" : "");
	}
}

static void show_config(int fd)
{
	u8 cfg[256];
	unsigned int i;

	if (pread(fd, cfg, sizeof(cfg),
		  VSLICE_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX)) !=
	    sizeof(cfg))
		VSLICE_FAIL("reading config space");

	printf("config space: %04x:%04x rev %02x class %06x subsystem %04x:%04x\n",
	       vslice_cfg_read(fd, PCI_VENDOR_ID, 2),
	       vslice_cfg_read(fd, PCI_DEVICE_ID, 2), cfg[PCI_REVISION_ID],
	       vslice_cfg_read(fd, PCI_CLASS_REVISION, 4) >> 8,
	       vslice_cfg_read(fd, PCI_SUBSYSTEM_VENDOR_ID, 2),
	       vslice_cfg_read(fd, PCI_SUBSYSTEM_ID, 2));
	for (i = 0; i < 64; i += 16) {
		unsigned int j;

		printf("  %02x:", i);
		for (j = 0; j < 16; j++)
			printf(" %02x", cfg[i + j]);
		printf("\n");
	}
}

static void show_mode(int fd)
{
	u16 regs[11];
	unsigned int i;

	if (pread(fd, regs, sizeof(regs), MMIO(0x500)) != sizeof(regs))
		VSLICE_FAIL("reading DISPI registers");
	printf("display registers:");
	for (i = 0; i < 11; i++)
		printf("%s %s=%u", i % 4 ? "" : "\n ", dispi_names[i],
		       regs[i]);
	printf("\n");
}

/*
 * An edu's registers in BAR0, as its guest sees them: 4-byte reads below
 * 0x80, 8-byte ones from there (reading has no side effect).
 */
static void show_edu_regs(int fd)
{
	static const struct {
		u32 off;
		const char *name;
	} regs[] = {
		{ 0x00, "ID" }, { 0x08, "FACT" }, { 0x20, "STATUS" },
		{ 0x24, "IRQ_STATUS" }, { 0x80, "DMA_SRC" },
		{ 0x88, "DMA_DST" }, { 0x90, "DMA_CNT" }, { 0x98, "DMA_CMD" },
	};
	unsigned int i;

	printf("edu registers:");
	for (i = 0; i < ARRAY_SIZE(regs); i++) {
		size_t size = regs[i].off < 0x80 ? 4 : 8;
		u64 val = 0;

		if (pread(fd, &val, size, EDU_REG(regs[i].off)) != (ssize_t)size)
			VSLICE_FAIL("reading edu register 0x%x", regs[i].off);
		printf("%s %s=0x%llx", i % 4 ? "" : "\n ", regs[i].name,
		       (unsigned long long)val);
	}
	printf("\n");
}

/**
 * struct trace_knob - a tracefs file the trace turns to 1
 * @path: the file
 * @set: it was not 1 and was set: it goes back to 0 afterwards
 */
struct trace_knob {
	char path[PATH_MAX];
	bool set;
};

/*
 * Turn @k on unless it is.  An event's enable reads "0" or "1", with a
 * "*" when a trigger soft-disables it; tracing_on "0" or "1".
 */
static int trace_knob_on(struct trace_knob *k)
{
	char buf[16];
	int ret;

	k->set = false;
	ret = vslice_sysfs_read(k->path, buf, sizeof(buf));
	if (ret || buf[0] == '1')
		return ret;
	ret = vslice_sysfs_write(k->path, "1");
	k->set = !ret;
	return ret;
}

static void trace_knob_restore(struct trace_knob *k)
{
	int ret;

	if (!k->set)
		return;
	ret = vslice_sysfs_write(k->path, "0");
	if (ret)
		fprintf(stderr, "vslice-info: cannot set %s back to 0: %s\n",
			k->path, strerror(-ret));
	k->set = false;
}

/* The tracefs directory with vslice's events: 0, or -ENOENT. */
static int tracefs_find(char *dir, size_t len)
{
	static const char * const where[] = {
		"kernel/tracing", "kernel/debug/tracing",
	};
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(where); i++) {
		snprintf(dir, len, "%s/%s", sysfs_root, where[i]);
		snprintf(path, sizeof(path), "%s/events/vslice/%s/enable", dir,
			 trace_events[0]);
		if (!access(path, F_OK))
			return 0;
	}
	return -ENOENT;
}

/*
 * Does @line name @uuid as @key (tenant=, from=, to=)?  The UUID must end
 * where the field does.
 */
static bool trace_names(const char *line, const char *key, const char *uuid)
{
	size_t klen = strlen(key), ulen = strlen(uuid);
	const char *p = line;

	while ((p = strstr(p, key))) {
		p += klen;
		if (!strncmp(p, uuid, ulen) &&
		    (p[ulen] == ' ' || p[ulen] == '\0'))
			return true;
	}
	return false;
}

/**
 * struct trace_sum - what the instance's events of a trace add up to
 * @events: lines printed
 * @submitted: jobs submitted
 * @started: jobs the engine started
 * @completed: jobs that ended
 * @switches: context switches to or from the instance
 * @queued_ns: time the started jobs had waited
 * @engine_ns: time the completed jobs ran
 */
struct trace_sum {
	unsigned long long events, submitted, started, completed, switches;
	unsigned long long queued_ns, engine_ns;
};

/* The number after " arg=" in a job event, 0 if there is none. */
static unsigned long long trace_arg(const char *line)
{
	const char *p = strstr(line, " arg=");

	return p ? strtoull(p + 5, NULL, 10) : 0;
}

/* One line of trace_pipe: print and count it if it is the instance's. */
static void trace_line(const char *line, const char *uuid,
		       struct trace_sum *sum)
{
	if (!strstr(line, "vslice_engine_"))
		return;
	if (strstr(line, "vslice_engine_ctx_switch:")) {
		if (!trace_names(line, " from=", uuid) &&
		    !trace_names(line, " to=", uuid))
			return;
		sum->switches++;
	} else if (trace_names(line, " tenant=", uuid)) {
		if (strstr(line, "vslice_engine_submit:")) {
			sum->submitted++;
		} else if (strstr(line, "vslice_engine_start:")) {
			sum->started++;
			sum->queued_ns += trace_arg(line);
		} else if (strstr(line, "vslice_engine_complete:")) {
			sum->completed++;
			sum->engine_ns += trace_arg(line);
		}
	} else {
		return;
	}
	sum->events++;
	printf("  %s\n", line);
	fflush(stdout);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * Read trace_pipe (@fd, non-blocking) until @seconds have passed or a
 * signal came (@sfd, a signalfd, is readable), printing the instance's
 * lines.  A regular file (a test's tree) reads to its end, then waits out
 * the time.
 */
static void trace_read(int fd, int sfd, unsigned int seconds,
		       const char *uuid, struct trace_sum *sum)
{
	long long end = now_ms() + seconds * 1000LL, left;
	struct pollfd pfd[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};
	char buf[8192], *nl, *p;
	bool skip = false;
	size_t have = 0;
	ssize_t n;

	while ((left = end - now_ms()) > 0) {
		if (poll(pfd, 2, left) <= 0)
			continue;	/* timeout, or EINTR */
		if (pfd[1].revents)
			break;
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (!n) {
			/* the end of a regular file */
			poll(NULL, 0, left < 100 ? left : 100);
			continue;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "vslice-info: reading trace_pipe: %s\n",
				strerror(errno));
			break;
		}
		have += n;
		buf[have] = '\0';
		p = buf;
		while ((nl = strchr(p, '\n'))) {
			*nl = '\0';
			if (!skip)
				trace_line(p, uuid, sum);
			skip = false;
			p = nl + 1;
		}
		have -= p - buf;
		memmove(buf, p, have);
		if (have == sizeof(buf) - 1) {
			/* a line longer than the buffer: not one of ours */
			have = 0;
			skip = true;
		}
	}
	if (have && !skip) {
		buf[have] = '\0';
		trace_line(buf, uuid, sum);
	}
}

/*
 * --trace: the engine's events naming @uuid for @seconds, then tracefs as
 * it was.  0, or 1 if the trace could not run.
 */
static int trace_instance(const char *uuid, unsigned int seconds)
{
	struct trace_knob knobs[1 + ARRAY_SIZE(trace_events)];
	char dir[PATH_MAX], path[PATH_MAX];
	struct trace_sum sum = { 0 };
	sigset_t sigs, old;
	unsigned int i, on = 0;
	int fd, sfd, ret = 0;

	if (tracefs_find(dir, sizeof(dir))) {
		fprintf(stderr,
			"vslice-info: no vslice events in %s/kernel/tracing or %s/kernel/debug/tracing (is vslice loaded? mount -t tracefs nodev %s/kernel/tracing)\n",
			sysfs_root, sysfs_root, sysfs_root);
		return 1;
	}
	snprintf(knobs[0].path, sizeof(knobs[0].path), "%s/tracing_on", dir);
	for (i = 0; i < ARRAY_SIZE(trace_events); i++)
		snprintf(knobs[i + 1].path, sizeof(knobs[i + 1].path),
			 "%s/events/vslice/%s/enable", dir, trace_events[i]);

	/*
	 * A signal ends the trace early, but only once tracefs is restored:
	 * it waits, blocked, and is delivered when the mask is restored.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, &old);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		ret = -errno;
		fprintf(stderr, "vslice-info: signalfd: %s\n", strerror(errno));
		goto unblock;
	}

	for (on = 0; on < ARRAY_SIZE(knobs); on++) {
		ret = trace_knob_on(&knobs[on]);
		if (ret) {
			fprintf(stderr, "vslice-info: cannot enable %s: %s\n",
				knobs[on].path, strerror(-ret));
			goto restore;
		}
	}
	snprintf(path, sizeof(path), "%s/trace_pipe", dir);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		fprintf(stderr, "vslice-info: cannot open %s: %s\n", path,
			strerror(errno));
		goto restore;
	}

	printf("trace: %s's engine events for %u s (%s)\n", uuid, seconds,
	       dir);
	fflush(stdout);
	trace_read(fd, sfd, seconds, uuid, &sum);
	printf("trace: %llu events; %llu jobs submitted, %llu started",
	       sum.events, sum.submitted, sum.started);
	if (sum.started)
		printf(" (queued %llu us on average)",
		       sum.queued_ns / sum.started / 1000);
	printf(", %llu completed", sum.completed);
	if (sum.completed)
		printf(" (%llu us on the engine on average)",
		       sum.engine_ns / sum.completed / 1000);
	printf("; %llu context switches\n", sum.switches);
	close(fd);

restore:
	while (on--)
		trace_knob_restore(&knobs[on]);
	close(sfd);
unblock:
	fflush(stdout);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret ? 1 : 0;
}

static void print_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--sysfs-only] [--trace SECONDS] [--sysfs-root DIR] UUID\n",
		prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sysfs-only", no_argument, NULL, 's' },
		{ "trace", required_argument, NULL, 't' },
		{ "sysfs-root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	unsigned long trace_s = 0;
	bool sysfs_only = false, edu;
	struct vslice_dev dev;
	const char *uuid;
	char path[PATH_MAX];
	char *end;
	int opt, ret = 0;

	while ((opt = getopt_long(argc, argv, "st:r:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			sysfs_only = true;
			break;
		case 't':
			errno = 0;
			trace_s = strtoul(optarg, &end, 10);
			if (errno || *end || !trace_s || trace_s > TRACE_MAX_S) {
				fprintf(stderr, "%s: --trace takes 1 to %u seconds\n",
					argv[0], TRACE_MAX_S);
				return 2;
			}
			break;
		case 'r':
			sysfs_root = optarg;
			sysfs_only = true;
			break;
		case 'h':
			print_usage(argv[0]);
			return 0;
		default:
			print_usage(argv[0]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		print_usage(argv[0]);
		return 2;
	}
	uuid = argv[optind];

	snprintf(path, sizeof(path), "%s/bus/mdev/devices/%s", sysfs_root,
		 uuid);
	if (access(path, F_OK)) {
		fprintf(stderr, "%s: no instance %s (%s)\n", argv[0], uuid,
			path);
		return 1;
	}
	show_sysfs(uuid);
	edu = inst_is_edu(uuid);
	if (edu)
		show_engine(uuid);
	fflush(stdout);

	if (!sysfs_only) {
		if (vslice_dev_open(&dev, uuid)) {
			fprintf(stderr, "%s: cannot open %s through VFIO: %s%s\n",
				argv[0], uuid, strerror(errno),
				errno == EBUSY ? " (--sysfs-only skips VFIO)" : "");
			ret = 1;
		} else {
			show_device(dev.fd, edu);
			show_config(dev.fd);
			if (edu)
				show_edu_regs(dev.fd);
			else
				show_mode(dev.fd);
			vslice_dev_close(&dev);
		}
	}

	if (trace_s) {
		fflush(stdout);
		if (edu) {
			ret |= trace_instance(uuid, trace_s);
		} else {
			fprintf(stderr,
				"%s: --trace: %s is not an edu instance; the engine's tracepoints name edu instances only\n",
				argv[0], uuid);
			ret = 1;
		}
	}
	return ret;
}
