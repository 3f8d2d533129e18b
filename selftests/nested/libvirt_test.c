// SPDX-License-Identifier: GPL-2.0
/*
 * libvirt: Debian's libvirtd, run from the host's root shared into the test
 * VM (with the host's udevd, which libvirt's node device driver listens
 * to), sees vslice's types through its node device API, defines and starts
 * an instance through it (libvirt drives mdevctl), and starts a domain with
 * the <hostdev type='mdev' display='on'> of samples/domain.xml whose guest's
 * stock bochs driver binds the instance; the guest then powers off.
 * libvirt's state goes to tmpfs (/etc/libvirt, /etc/mdevctl.d, /run, /var;
 * the test's own files to /run/vslice): nothing of the host's is touched.
 * Not /tmp, where the nested guest's kernel may be.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/host.h"
#include "lib/nested.h"
#include "lib/vslice.h"

#define SAMPLE_XML	"/vslice/samples/domain.xml"
#define OUT_LEN		65536
#define DOMAIN		"vslice-test"
#define CONSOLE		"/run/vslice/console.log"
#define CMD_SOCK	"/run/vslice/cmd.sock"
#define GUEST_DIR	VSLICE_HOST_KEEP	/* its kernel and initramfs */
#define BOOT_TIMEOUT	900	/* a nested guest boots in 1.5-2.5 min */
#define QEMU_PASSWD	"libvirt-qemu:x:64055:64055:libvirt:/var/lib/libvirt:/usr/sbin/nologin"
#define QEMU_GROUP	"libvirt-qemu:x:64055:"

static const char *const writable[] = {
	"/etc/libvirt", "/etc/mdevctl.d", "/run", "/var", NULL
};

/* What vslice_host_enter()'s tmpfs hides, or what libvirt wants there. */
static const char *const dirs[] = {
	"/etc/mdevctl.d/scripts.d", "/etc/mdevctl.d/scripts.d/callouts",
	"/etc/mdevctl.d/scripts.d/notifiers", "/var/lib", "/var/lib/libvirt",
	"/var/log", "/var/log/libvirt", "/var/cache", "/var/cache/libvirt",
	"/var/tmp", "/run/vslice", NULL
};

/*
 * The QEMU driver as the test VM allows it: QEMU runs as root, with no
 * cgroups, no private /dev and no security driver (none of them are set
 * up in the VM), and writes its log to a file (no virtlogd).
 */
static const char qemu_conf[] =
	"user = \"root\"\n"
	"group = \"root\"\n"
	"dynamic_ownership = 0\n"
	"remember_owner = 0\n"
	"security_driver = \"none\"\n"
	"namespaces = [ ]\n"
	"cgroup_controllers = [ ]\n"
	"stdio_handler = \"file\"\n";

/* Its warnings and errors, for the test's log when something fails. */
static const char libvirtd_conf[] =
	"log_outputs = \"3:file:/var/log/libvirt/libvirtd.log\"\n";

FIXTURE(libvirt) {
	const char *bdf;
	char nodedev[64];	/* the parent's name in libvirt */
	char out[OUT_LEN];
	pid_t libvirtd;
	bool guest;	/* the nested guest's directory is at GUEST_DIR */
};

/* Run a host program with @args (NULL-terminated), output in self->out. */
#define HOST(...) ({							\
	const char *const __argv[] = { __VA_ARGS__, NULL };		\
	int __rc = vslice_host_run(self->out, sizeof(self->out), __argv); \
	char __cmd[256];						\
									\
	TH_LOG("%s: %d", join(__cmd, sizeof(__cmd), __argv), __rc);	\
	if (__rc)							\
		TH_LOG("%s", self->out);				\
	__rc;								\
})
#define VIRSH(...) HOST("virsh", "-c", "qemu:///system", __VA_ARGS__)

/* @argv as one line, for the log. */
static const char *join(char *buf, size_t len, const char *const *argv)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; *argv && n < len; argv++)
		n += snprintf(buf + n, len - n, "%s%s", n ? " " : "", *argv);
	return buf;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool host_exists(const char *path)
{
	char full[PATH_MAX];

	snprintf(full, sizeof(full), "%s%s", vslice_host_root(), path);
	return !access(full, F_OK);
}

/* Wait up to @secs for @path of the host's root to exist. */
static bool wait_host_path(const char *path, unsigned int secs)
{
	double end = now_s() + secs;

	while (!host_exists(path)) {
		if (now_s() > end)
			return false;
		usleep(100 * 1000);
	}
	return true;
}

static pid_t pidfile(const char *path)
{
	char full[PATH_MAX], buf[32];

	snprintf(full, sizeof(full), "%s%s", vslice_host_root(), path);
	if (vslice_sysfs_read(full, buf, sizeof(buf)))
		return 0;
	return atoi(buf);
}

static void stop_pid(pid_t pid)
{
	double end = now_s() + 30;

	if (pid <= 0 || kill(pid, SIGTERM))
		return;
	while (!kill(pid, 0) && now_s() < end)
		usleep(100 * 1000);
	kill(pid, SIGKILL);
}

/*
 * libvirtd looks its QEMU user up before it reads qemu.conf, and that user
 * (libvirt-qemu, made by the libvirt-daemon-system package) need not exist
 * on the host: give the host's @file (passwd or group) with @line added,
 * from the tmpfs on /run.
 */
static int add_qemu_user(const char *file, const char *line)
{
	char path[PATH_MAX], copy[PATH_MAX];
	static char buf[256 * 1024];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", vslice_host_root(), file);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 256, f);
	fclose(f);
	n += snprintf(buf + n, 256, "%s\n", line);
	snprintf(copy, sizeof(copy), "/run/vslice%s", strrchr(file, '/'));
	if (vslice_host_write(copy, buf, n))
		return -EIO;
	snprintf(copy, sizeof(copy), "%s/run/vslice%s", vslice_host_root(),
		 strrchr(file, '/'));
	return mount(copy, path, NULL, MS_BIND, NULL) ? -errno : 0;
}

/* The first nested guest kernel the test bed built, or NULL. */
static const char *guest_dir(char *buf, size_t len)
{
	const char *dir = getenv("VSLICE_NESTED_DIR");
	const char *guests = getenv("VSLICE_NESTED_GUESTS");

	if (!dir || !*dir || !guests || !*guests)
		return NULL;
	snprintf(buf, len, "%s/%.*s", dir, (int)strcspn(guests, " "), guests);
	return buf;
}

FIXTURE_SETUP(libvirt)
{
	char path[PATH_MAX], dir[PATH_MAX];
	const char *why;
	unsigned int i;

	self->libvirtd = 0;
	self->bdf = vslice_parent();
	if (!self->bdf)
		SKIP(return, "no bochs-display (1234:1111) in this machine");
	why = vslice_host_missing("/usr/sbin/libvirtd");
	if (why)
		SKIP(return, "%s", why);
	self->guest = guest_dir(dir, sizeof(dir));
	ASSERT_EQ(0, vslice_host_enter(writable, dirs,
				       self->guest ? dir : NULL));
	snprintf(path, sizeof(path), "%s/var/run", vslice_host_root());
	ASSERT_EQ(0, symlink("/run", path));
	ASSERT_EQ(0, vslice_host_write("/etc/libvirt/qemu.conf", qemu_conf,
				       strlen(qemu_conf)));
	ASSERT_EQ(0, vslice_host_write("/etc/libvirt/libvirtd.conf",
				       libvirtd_conf, strlen(libvirtd_conf)));
	ASSERT_EQ(0, add_qemu_user("/etc/passwd", QEMU_PASSWD));
	ASSERT_EQ(0, add_qemu_user("/etc/group", QEMU_GROUP));
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	snprintf(self->nodedev, sizeof(self->nodedev), "pci_%s", self->bdf);
	for (i = 0; self->nodedev[i]; i++)
		if (self->nodedev[i] == ':' || self->nodedev[i] == '.')
			self->nodedev[i] = '_';

	/* udevd: libvirt learns of new devices from its events */
	ASSERT_EQ(0, HOST("/lib/systemd/systemd-udevd", "--daemon"));
	ASSERT_EQ(0, HOST("udevadm", "trigger", "--action=add"));
	ASSERT_EQ(0, HOST("udevadm", "settle", "--timeout=120"));
	/* its parent waits for the daemon's start: bounded, as all else */
	ASSERT_EQ(0, HOST("timeout", "300", "libvirtd", "--daemon",
			  "--pid-file", "/run/libvirtd.pid"));
	ASSERT_TRUE(wait_host_path("/run/libvirt/libvirt-sock", 120));
	self->libvirtd = pidfile("/run/libvirtd.pid");
	ASSERT_LT(0, self->libvirtd);
}

FIXTURE_TEARDOWN(libvirt)
{
	char log[PATH_MAX];

	if (self->libvirtd > 0) {
		VIRSH("destroy", DOMAIN);
		snprintf(log, sizeof(log), "/var/log/libvirt/qemu/%s.log", DOMAIN);
		if (host_exists(log) && !HOST("tail", "-n", "20", log))
			TH_LOG("%s", self->out);
		stop_pid(self->libvirtd);
	}
	if (vslice_host_root() && host_exists("/var/log/libvirt/libvirtd.log") &&
	    !HOST("tail", "-n", "30", "/var/log/libvirt/libvirtd.log"))
		TH_LOG("%s", self->out);
	if (vslice_host_root() && self->bdf)
		HOST("udevadm", "control", "--exit");
	EXPECT_EQ(0, vslice_remove_all(self->bdf));
}

/* The <type id='@type'> element of a nodedev-dumpxml in @xml, or NULL. */
static const char *type_element(const char *xml, const char *type)
{
	char want[128];

	snprintf(want, sizeof(want), "<type id='%s'>", type);
	return strstr(xml, want);
}

/* @tag's text in the element at @at (before its </type>), into @buf. */
static bool element_text(const char *at, const char *tag, char *buf,
			 size_t len)
{
	const char *end = strstr(at, "</type>"), *p, *q;
	char open[64], close[64];

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	p = strstr(at, open);
	if (!p || !end || p > end)
		return false;
	p += strlen(open);
	q = strstr(p, close);
	if (!q || q > end)
		return false;
	snprintf(buf, len, "%.*s", (int)(q - p), p);
	return true;
}

/*
 * What fleet managers read: the parent among the mdev_types capable node
 * devices, and each of its types with sysfs's name, API and availability.
 */
TEST_F_TIMEOUT(libvirt, nodedev_types, 600)
{
	char names[16][64], buf[256], attr[256];
	const char *at;
	int n, i;

	ASSERT_EQ(0, VIRSH("nodedev-list", "--cap", "mdev_types"));
	ASSERT_NE(NULL, strstr(self->out, self->nodedev));
	ASSERT_EQ(0, VIRSH("nodedev-dumpxml", self->nodedev));
	ASSERT_NE(NULL, strstr(self->out, "<capability type='mdev_types'>"));
	n = vslice_types(self->bdf, names, 16);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++) {
		at = type_element(self->out, names[i]);
		ASSERT_NE(NULL, at) TH_LOG("no type %s", names[i]);
		ASSERT_TRUE(element_text(at, "name", buf, sizeof(buf)));
		ASSERT_EQ(0, vslice_type_attr(self->bdf, names[i], "name", attr,
					      sizeof(attr)));
		ASSERT_STREQ(attr, buf);
		ASSERT_TRUE(element_text(at, "deviceAPI", buf, sizeof(buf)));
		ASSERT_STREQ("vfio-pci", buf);
		ASSERT_TRUE(element_text(at, "availableInstances", buf,
					 sizeof(buf)));
		ASSERT_EQ(vslice_type_available(self->bdf, names[i]), atoll(buf));
	}
}

/* The node device name in "Node device 'NAME' ..." of @out, into @name. */
static bool nodedev_name(const char *out, char *name, size_t len)
{
	const char *p = strchr(out, '\''), *q;

	if (!p)
		return false;
	q = strchr(++p, '\'');
	if (!q)
		return false;
	snprintf(name, len, "%.*s", (int)(q - p), p);
	return true;
}

/* nodedev-define and nodedev-start of an mdev: libvirt drives mdevctl. */
TEST_F_TIMEOUT(libvirt, nodedev_define_start, 600)
{
	char uuid[VSLICE_UUID_LEN], xml[1024], name[128];
	long long avail = vslice_type_available(self->bdf, "vslice-16M");
	double end;

	vslice_new_uuid(uuid);
	snprintf(xml, sizeof(xml),
		 "<device>\n  <parent>%s</parent>\n"
		 "  <capability type='mdev'>\n    <type id='vslice-16M'/>\n"
		 "    <uuid>%s</uuid>\n  </capability>\n</device>\n",
		 self->nodedev, uuid);
	ASSERT_EQ(0, vslice_host_write("/run/vslice/mdev.xml", xml, strlen(xml)));
	ASSERT_EQ(0, VIRSH("nodedev-define", "/run/vslice/mdev.xml"));
	ASSERT_TRUE(nodedev_name(self->out, name, sizeof(name)));
	ASSERT_FALSE(vslice_mdev_exists(uuid));
	ASSERT_EQ(0, VIRSH("nodedev-start", name));
	ASSERT_TRUE(vslice_mdev_exists(uuid));
	ASSERT_EQ(avail - 1, vslice_type_available(self->bdf, "vslice-16M"));
	/* libvirt lists it once udev's event for it has reached libvirtd. */
	for (end = now_s() + 120;; sleep(1)) {
		ASSERT_EQ(0, VIRSH("nodedev-list", "--cap", "mdev"));
		if (strstr(self->out, name) || now_s() > end)
			break;
	}
	ASSERT_NE(NULL, strstr(self->out, name));
	ASSERT_EQ(0, VIRSH("nodedev-destroy", name));
	ASSERT_FALSE(vslice_mdev_exists(uuid));
	ASSERT_EQ(avail, vslice_type_available(self->bdf, "vslice-16M"));
	ASSERT_EQ(0, VIRSH("nodedev-undefine", name));
}

/* samples/domain.xml's <hostdev> element, with @uuid, into @buf. */
static bool sample_hostdev(const char *uuid, char *buf, size_t len)
{
	char xml[8192];
	const char *p, *q, *u;

	if (vslice_sysfs_read(SAMPLE_XML, xml, sizeof(xml)))
		return false;
	p = strstr(xml, "<hostdev ");
	q = p ? strstr(p, "</hostdev>") : NULL;
	u = p ? strstr(p, "uuid='") : NULL;
	if (!q || !u || u > q)
		return false;
	u += strlen("uuid='");
	snprintf(buf, len, "%.*s%s%.*s", (int)(u - p), p, uuid,
		 (int)(q + strlen("</hostdev>") - (u + 36)), u + 36);
	return true;
}

static bool console_has(const char *what);

/* The guest's kernel died before reaching its userspace. */
static bool early_panic(void)
{
	return console_has("Kernel panic") &&
	       !console_has("vslice-nested: userspace at");
}

static bool console_has(const char *what)
{
	char path[PATH_MAX];
	static char log[256 * 1024];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s%s", vslice_host_root(), CONSOLE);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(log, 1, sizeof(log) - 1, f);
	fclose(f);
	log[n] = '\0';
	return strstr(log, what);
}

static int send_command(const char *line)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret = 0;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s%s", vslice_host_root(),
		 CMD_SOCK);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		ret = -errno;
	sleep(1);	/* let QEMU pass it on before it sees the hangup */
	close(fd);
	return ret;
}

/* Whether the domain is there; quietly (the caller polls). */
static bool domain_exists(char *out, size_t len)
{
	const char *const argv[] = {
		"virsh", "-c", "qemu:///system", "domstate", DOMAIN, NULL
	};

	return !vslice_host_run(out, len, argv);
}

/*
 * Create the domain of @xml and wait until its guest takes commands.  Its
 * kernel dying before userspace (two-level emulation: see Flakes in
 * testing.rst) is worth one more boot.  Return: true when the guest is
 * ready, false when its kernel died before userspace on both boots.
 */
static bool domain_boot(struct __test_metadata *_metadata,
			struct _test_data_libvirt *self, const char *xml,
			bool clear)
{
	double end, t0;
	int tries;

	ASSERT_EQ(0, vslice_host_write("/run/vslice/domain.xml", xml,
				       strlen(xml)));
	for (tries = 0; tries < 2; tries++) {
		if (tries || clear)
			vslice_host_write(CONSOLE, "", 0);
		ASSERT_EQ(0, VIRSH("create", "/run/vslice/domain.xml"));
		t0 = now_s();
		end = t0 + BOOT_TIMEOUT;
		while (!console_has("vslice-nested: ready") && !early_panic() &&
		       now_s() < end)
			sleep(1);
		if (console_has("vslice-nested: ready")) {
			TH_LOG("guest ready %.0f s after the domain's start",
			       now_s() - t0);
			return true;
		}
		/* not ready: only a kernel panic is worth another boot */
		ASSERT_TRUE(early_panic()) {
			HOST("tail", "-n", "30", CONSOLE);
			TH_LOG("guest not ready within %d s, and no panic",
			       BOOT_TIMEOUT);
		}
		HOST("tail", "-n", "30", CONSOLE);
		TH_LOG("vslice-retry: guest kernel panic before userspace: %s",
		       self->out);
		VIRSH("destroy", DOMAIN);
	}
	return false;
}

/* The domain's XML, with @devices among its devices. */
static void domain_xml(char *xml, size_t len, const char *devices)
{
	/* QEMU's accelerator as libvirt names it */
	const char *type = strcmp(vslice_nested_accel(), "kvm") ? "qemu" : "kvm";

	snprintf(xml, len,
		 "<domain type='%s'>\n"
		 "  <name>" DOMAIN "</name>\n"
		 "  <memory unit='MiB'>512</memory>\n"
		 "  <vcpu>1</vcpu>\n"
		 "  <os>\n"
		 "    <type arch='x86_64' machine='q35'>hvm</type>\n"
		 "    <kernel>" GUEST_DIR "/vmlinuz</kernel>\n"
		 "    <initrd>" GUEST_DIR "/initrd.img</initrd>\n"
		 "    <cmdline>console=ttyS0 quiet panic=-1 mitigations=off</cmdline>\n"
		 "  </os>\n"
		 "  <cpu mode='custom' match='exact'><model>qemu64</model></cpu>\n"
		 "  <on_poweroff>destroy</on_poweroff>\n"
		 "  <devices>\n"
		 "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
		 "    %s\n"
		 "    <graphics type='vnc' socket='/run/vslice/vnc.sock'/>\n"
		 "    <serial type='file'><source path='" CONSOLE "'/><target port='0'/></serial>\n"
		 "    <serial type='unix'><source mode='bind' path='" CMD_SOCK
		 "'/><target port='1'/></serial>\n"
		 "    <memballoon model='none'/>\n"
		 "  </devices>\n"
		 "</domain>\n", type, devices);
}

/*
 * A domain with the sample's <hostdev ... display='on'>: its guest's stock
 * bochs driver binds the instance; then the guest powers off and the
 * domain is gone, the instance closed.
 */
TEST_F_TIMEOUT(libvirt, domain_hostdev_display, 4 * BOOT_TIMEOUT + 300)
{
	char uuid[VSLICE_UUID_LEN], hostdev[2048], xml[8192], want[128];
	char devices[2560];
	long long opens;
	double end;

	if (!self->guest)
		SKIP(return, "no nested guest kernel (VSLICE_NESTED_GUESTS)");
	vslice_create_assert(self->bdf, "vslice-16M", uuid);
	opens = vslice_inst_attr_ll(uuid, "opens");
	ASSERT_TRUE(sample_hostdev(uuid, hostdev, sizeof(hostdev)));
	snprintf(devices, sizeof(devices),
		 "%s\n    <video><model type='none'/></video>", hostdev);
	domain_xml(xml, sizeof(xml), devices);
	if (!domain_boot(_metadata, self, xml, false)) {
		/*
		 * Twice: the skip stands only if the same domain with QEMU's
		 * own bochs-display (its default 16 MiB: the same VRAM) dies
		 * the same way; the window includes the kernel's probing of
		 * the instance.
		 */
		domain_xml(xml, sizeof(xml),
			   "<video><model type='bochs'/></video>");
		ASSERT_FALSE(domain_boot(_metadata, self, xml, true)) {
			VIRSH("destroy", DOMAIN);
			TH_LOG("the guest " VSLICE_NESTED_NOT_ON_REFERENCE);
		}
		ASSERT_EQ(0, vslice_remove(uuid));
		SKIP(return, VSLICE_NESTED_EARLY_PANIC);
	}
	ASSERT_LT(opens, vslice_inst_attr_ll(uuid, "opens"));

	snprintf(want, sizeof(want), "subsystem 0x%04x:0x%04x driver bochs-drm",
		 VSLICE_SUBSYS_VENDOR, VSLICE_SUBSYS_DEVICE);
	ASSERT_TRUE(console_has("vslice-nested: ready")) {
		HOST("tail", "-n", "40", CONSOLE);
		TH_LOG("console: %s", self->out);
	}
	ASSERT_TRUE(console_has(want)) {
		HOST("grep", "vslice-nested", CONSOLE);
		TH_LOG("the guest's bochs driver did not bind: %s", self->out);
	}

	ASSERT_EQ(0, send_command("1 poweroff\n"));
	end = now_s() + 120;
	while (!console_has("vslice-nested: 1 end 0") && now_s() < end)
		sleep(1);
	ASSERT_TRUE(console_has("vslice-nested: 1 end 0")) {
		HOST("tail", "-n", "20", CONSOLE);
		TH_LOG("no answer to poweroff: %s", self->out);
	}
	end = now_s() + 300;
	while (domain_exists(self->out, sizeof(self->out)) && now_s() < end)
		sleep(1);
	/* transient: gone once it is off */
	ASSERT_NE(0, VIRSH("domstate", DOMAIN));
	ASSERT_EQ(0, VIRSH("list", "--all"));
	ASSERT_EQ(NULL, strstr(self->out, DOMAIN));
	/* closed: it can be removed */
	ASSERT_EQ(0, vslice_remove(uuid));
}

TEST_HARNESS_MAIN
