// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested guests for vslice selftests.  See nested.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nested.h"

#define NESTED_QEMU	"qemu-system-x86_64"
#define NESTED_PATH	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define NESTED_POLL_MS	100
#define NESTED_SOCK_S	60	/* QEMU creates its sockets within this */

static void nested_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static double nested_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int vslice_nested_path(const struct vslice_nested *g, const char *name,
		       char *path, size_t len)
{
	int n = snprintf(path, len, "%s/%s", g->dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int vslice_nested_put(const struct vslice_nested *g, const char *name,
		      const char *val)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;

	vslice_nested_path(g, name, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fputs(val, f);
	if (fclose(f))
		return -errno;
	return rename(tmp, path) ? -errno : 0;
}

int vslice_nested_get(const struct vslice_nested *g, const char *name,
		      char *buf, size_t len)
{
	char path[PATH_MAX];

	vslice_nested_path(g, name, path, sizeof(path));
	return vslice_sysfs_read(path, buf, len);
}

/* A process is alive if it exists and is not a zombie. */
bool vslice_nested_alive(const struct vslice_nested *g)
{
	char path[64], buf[256], *p;

	if (g->pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", g->pid);
	if (vslice_sysfs_read(path, buf, sizeof(buf)))
		return false;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* Reap QEMU if it is our child; harmless if it is not. */
static void nested_reap(const struct vslice_nested *g)
{
	int status;

	if (g->pid > 0)
		waitpid(g->pid, &status, WNOHANG);
}

/* Bind @src onto @root@dst, recursively. */
static int nested_bind(const char *root, const char *src, const char *dst)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s%s", root, dst);
	return mount(src, path, NULL, MS_BIND | MS_REC, NULL);
}

static bool nested_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return path && !strncmp(path, dir, n) && (!path[n] || path[n] == '/');
}

/*
 * Where the work directory appears inside @o->root: bound over a directory
 * that exists there and holds none of the paths QEMU must see.
 */
static int nested_qdir(const struct vslice_nested_opts *o, char *qdir,
		       size_t len)
{
	static const char * const spots[] = { "/mnt", "/media", "/srv", "/tmp" };
	char path[PATH_MAX];
	struct stat st;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(spots); i++) {
		snprintf(path, sizeof(path), "%s%s", o->root, spots[i]);
		if (stat(path, &st) || !S_ISDIR(st.st_mode) ||
		    nested_under(o->qemu, spots[i]) ||
		    nested_under(o->kernel, spots[i]) ||
		    nested_under(o->initrd, spots[i]) ||
		    nested_under(o->share, spots[i]))
			continue;
		snprintf(qdir, len, "%s", spots[i]);
		return 0;
	}
	return -ENOENT;
}

/*
 * The child: its own session (out of reach of the harness's kill of a
 * test's process group, so that the guest outlives the test that started
 * it), its own mount namespace for the chroot's bind mounts (they vanish
 * with QEMU), then exec QEMU.
 */
static void nested_exec(const struct vslice_nested *g, const char *root,
			char **argv)
{
	char path[PATH_MAX];
	int fd;

	setsid();
	vslice_nested_path(g, "qemu.log", path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		_exit(126);
	dup2(fd, 1);
	dup2(fd, 2);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		dup2(fd, 0);

	if (root) {
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
			perror("nested: mount namespace");
			_exit(126);
		}
		if (nested_bind(root, "/proc", "/proc") ||
		    nested_bind(root, "/sys", "/sys") ||
		    nested_bind(root, "/dev", "/dev") ||
		    nested_bind(root, g->dir, g->qdir)) {
			perror("nested: bind mounts into the root");
			_exit(126);
		}
		if (chroot(root) || chdir("/")) {
			perror("nested: chroot");
			_exit(126);
		}
	}
	putenv(NESTED_PATH);
	execvp(argv[0], argv);
	fprintf(stderr, "nested: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int nested_connect(const struct vslice_nested *g, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double end = nested_now() + NESTED_SOCK_S;
	int fd;

	if (vslice_nested_path(g, name, sa.sun_path, sizeof(sa.sun_path)))
		return -ENAMETOOLONG;
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		if (!vslice_nested_alive(g))
			return -ECHILD;
		if (nested_now() > end)
			return -ETIMEDOUT;
		nested_sleep_ms(NESTED_POLL_MS);
	}
}

/* One line from @fd (up to '\n', which is dropped), within @timeout_s. */
static int nested_read_line(int fd, char *buf, size_t len,
			    unsigned int timeout_s)
{
	double end = nested_now() + timeout_s;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t n = 0;
	char c;

	for (;;) {
		int left = (end - nested_now()) * 1000;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, left) <= 0)
			continue;
		if (read(fd, &c, 1) != 1)
			return -EPIPE;
		if (c == '\n')
			break;
		if (n + 1 < len)
			buf[n++] = c;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * Write all of @buf to socket @fd.  MSG_NOSIGNAL: a QEMU that has gone
 * away makes this fail with EPIPE, which the caller reports, instead of
 * killing the test with SIGPIPE before it can say anything.
 */
static bool nested_send(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len;
}

static int nested_qmp_connect(struct vslice_nested *g)
{
	char line[4096];
	int ret;

	if (g->qmp >= 0)
		return 0;
	g->qmp = nested_connect(g, "qmp.sock");
	if (g->qmp < 0) {
		ret = g->qmp;
		g->qmp = -1;
		return ret;
	}
	/* The greeting, then leave capabilities negotiation mode. */
	ret = nested_read_line(g->qmp, line, sizeof(line), 30);
	if (!ret)
		ret = vslice_nested_qmp(g, "{\"execute\":\"qmp_capabilities\"}",
					line, sizeof(line));
	if (ret) {
		close(g->qmp);
		g->qmp = -1;
	}
	return ret;
}

/* QEMU's answer to the command just sent: events meanwhile are skipped. */
static int nested_qmp_answer(struct vslice_nested *g, char *reply, size_t len)
{
	char line[16384];
	int ret;

	for (;;) {
		ret = nested_read_line(g->qmp, line, sizeof(line), 120);
		if (ret)
			return ret;
		if (strstr(line, "\"return\"") || strstr(line, "\"error\"")) {
			if (reply)
				snprintf(reply, len, "%s", line);
			return strstr(line, "\"error\"") &&
			       !strstr(line, "\"return\"") ? -EIO : 0;
		}
	}
}

/**
 * vslice_nested_qmp() - run one QMP command
 * @g: guest
 * @json: the command, one line of JSON
 * @reply: the answer (the "return" or "error" line), may be NULL
 * @len: size of @reply
 *
 * Events that arrive meanwhile are skipped.
 *
 * Return: 0 on "return", -EIO on "error", another -errno if QEMU did not
 * answer.
 */
int vslice_nested_qmp(struct vslice_nested *g, const char *json,
		      char *reply, size_t len)
{
	int ret;

	if (!strstr(json, "qmp_capabilities")) {
		ret = nested_qmp_connect(g);
		if (ret)
			return ret;
	}
	if (!nested_send(g->qmp, json, strlen(json)) ||
	    !nested_send(g->qmp, "\n", 1))
		return -EPIPE;
	return nested_qmp_answer(g, reply, len);
}

/**
 * vslice_nested_hmp() - run a human monitor command
 * @g: guest
 * @cmd: the command, e.g. "info pci"
 * @out: its output, unescaped
 * @len: size of @out
 *
 * Return: as vslice_nested_qmp().
 */
int vslice_nested_hmp(struct vslice_nested *g, const char *cmd, char *out,
		      size_t len)
{
	char json[1024], reply[16384], *p, *q;
	size_t n = 0;
	int ret;

	n = snprintf(json, sizeof(json),
		     "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"");
	for (; *cmd && n + 8 < sizeof(json); cmd++) {
		if (*cmd == '"' || *cmd == '\\')
			json[n++] = '\\';
		json[n++] = *cmd;
	}
	snprintf(json + n, sizeof(json) - n, "\"}}");
	ret = vslice_nested_qmp(g, json, reply, sizeof(reply));
	p = strstr(reply, "\"return\": \"");
	if (!out || !len)
		return ret;
	out[0] = '\0';
	if (!p) {
		snprintf(out, len, "%s", reply);
		return ret;
	}
	/* Unescape the JSON string (\n, \r, \t, \", \\; \u00XX as '?'). */
	for (p += 11, q = out; *p && *p != '"' && q + 1 < out + len; p++) {
		if (*p != '\\') {
			*q++ = *p;
			continue;
		}
		switch (*++p) {
		case 'n':
			*q++ = '\n';
			break;
		case 't':
			*q++ = '\t';
			break;
		case 'r':
			break;
		case 'u':
			*q++ = '?';
			p += 4;
			break;
		default:
			*q++ = *p;
		}
	}
	*q = '\0';
	return ret;
}

/**
 * vslice_nested_screendump() - save the guest's display as a P6 PPM
 * @g: guest
 * @path: where: a file in the guest's work directory
 *
 * Return: 0 or -errno (-EIO: QEMU refused, its answer is printed).
 */
int vslice_nested_screendump(struct vslice_nested *g, const char *path)
{
	char json[PATH_MAX + 128], reply[4096];
	int ret;

	unlink(path);
	if (!nested_under(path, g->dir))
		return -EINVAL;
	snprintf(json, sizeof(json),
		 "{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"%s%s\"}}",
		 g->qdir, path + strlen(g->dir));
	ret = vslice_nested_qmp(g, json, reply, sizeof(reply));
	if (ret)
		fprintf(stderr, "# screendump: %s\n", reply);
	return ret;
}

/**
 * vslice_nested_qmp_fd() - run one QMP command that takes a file descriptor
 * @g: guest
 * @json: the command (getfd, add-fd), one line of JSON
 * @fd: sent with it (SCM_RIGHTS); QEMU keeps its own copy
 * @reply: the answer, may be NULL
 * @len: size of @reply
 *
 * Return: as vslice_nested_qmp().
 */
int vslice_nested_qmp_fd(struct vslice_nested *g, const char *json, int fd,
			 char *reply, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)json,
			     .iov_len = strlen(json) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	int ret;

	ret = nested_qmp_connect(g);
	if (ret)
		return ret;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	/* The descriptor goes with the command's bytes, the newline after. */
	if (sendmsg(g->qmp, &msg, MSG_NOSIGNAL) != (ssize_t)iov.iov_len ||
	    !nested_send(g->qmp, "\n", 1))
		return -EPIPE;
	return nested_qmp_answer(g, reply, len);
}

/* The string value of "@key": "..." in @json, or "" (at most @len - 1). */
static void nested_json_str(const char *json, const char *key, char *val,
			    size_t len)
{
	char pat[64];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	val[0] = '\0';
	p = strstr(json, pat);
	if (!p)
		return;
	p += strlen(pat);
	n = strcspn(p, "\"");
	snprintf(val, len, "%.*s", (int)(n < len ? n : len - 1), p);
}

/**
 * vslice_nested_status() - QEMU's run state (query-status)
 * @g: guest
 * @status: "running", "paused", "inmigrate", "postmigrate", ...
 * @len: size of @status
 *
 * Return: as vslice_nested_qmp().
 */
int vslice_nested_status(struct vslice_nested *g, char *status, size_t len)
{
	char reply[1024];
	int ret;

	ret = vslice_nested_qmp(g, "{\"execute\":\"query-status\"}", reply,
				sizeof(reply));
	nested_json_str(reply, "status", status, len);
	return ret;
}

/* The QMP commands of a migration through the descriptors "vslice-mig". */
#define NESTED_MIG_GETFD \
	"{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"vslice-mig\"}}"
#define NESTED_MIG_PARAMS \
	"{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"max-bandwidth\":10000000000}}"
#define NESTED_MIG_FORCE \
	"{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"downtime-limit\":60000,\"avail-switchover-bandwidth\":1000000000000}}"
#define NESTED_MIG_INCOMING \
	"{\"execute\":\"migrate-incoming\",\"arguments\":{\"uri\":\"fd:vslice-mig\"}}"
#define NESTED_MIG_MIGRATE \
	"{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"fd:vslice-mig\"}}"

/**
 * vslice_nested_migrate() - move a guest to another QEMU
 * @src: the running guest
 * @dst: a QEMU started with "-incoming defer" and the same devices
 * @timeout_s: for the whole migration
 * @info: QEMU's last query-migrate answer on @src (status, times, bytes;
 *        the error if it failed), may be NULL
 * @len: size of @info
 * @force: force the switchover: allow a minute of downtime and assume
 *	   the switchover bandwidth unlimited
 *
 * The stream goes through a socket pair, one end passed to each QEMU over
 * QMP (getfd), so that neither needs to see the other's files.  Live
 * migration with QEMU's own downtime limit (300 ms) and its estimate of
 * the bandwidth: it switches over once what is left (the devices say how
 * much, through VFIO_DEVICE_FEATURE_MIG_DATA_SIZE and pre-copy) fits in
 * the limit, so the migration converges by itself or not at all.  Only a
 * kernel where the device cannot say (6.1: no data-size query, no
 * PRE_COPY, so QEMU counts 100 GiB of device state) needs @force.  Only
 * the bandwidth cap is lifted in every case.  A migration that times out
 * is cancelled.
 *
 * Return: 0 when @src says "completed" and @dst runs the guest, -EIO if
 * the migration failed (see @info), another -errno otherwise.
 */
int vslice_nested_migrate(struct vslice_nested *src, struct vslice_nested *dst,
			  unsigned int timeout_s, bool force, char *info,
			  size_t len)
{
	char reply[4096], status[32] = "";
	double end = nested_now() + timeout_s;
	int sv[2], ret;

	if (info && len)
		info[0] = '\0';
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	ret = vslice_nested_qmp_fd(dst, NESTED_MIG_GETFD, sv[1], reply,
				   sizeof(reply));
	if (!ret)
		ret = vslice_nested_qmp_fd(src, NESTED_MIG_GETFD, sv[0], reply,
					   sizeof(reply));
	close(sv[0]);
	close(sv[1]);
	if (!ret)
		ret = vslice_nested_qmp(src, NESTED_MIG_PARAMS, reply,
					sizeof(reply));
	if (!ret && force)
		ret = vslice_nested_qmp(src, NESTED_MIG_FORCE, reply,
					sizeof(reply));
	if (!ret)
		ret = vslice_nested_qmp(dst, NESTED_MIG_INCOMING, reply,
					sizeof(reply));
	if (!ret)
		ret = vslice_nested_qmp(src, NESTED_MIG_MIGRATE, reply,
					sizeof(reply));
	if (ret) {
		if (info)
			snprintf(info, len, "%s", reply);
		return ret;
	}

	/* The source says when it is done... */
	for (;;) {
		ret = vslice_nested_qmp(src, "{\"execute\":\"query-migrate\"}",
					reply, sizeof(reply));
		if (info)
			snprintf(info, len, "%s", reply);
		if (ret)
			return ret;
		nested_json_str(reply, "status", status, sizeof(status));
		if (!strcmp(status, "completed"))
			break;
		if (!strcmp(status, "failed") || !strcmp(status, "cancelled"))
			return -EIO;
		if (nested_now() > end) {
			/* Leave the source as it was: running, migrating not. */
			vslice_nested_qmp(src, "{\"execute\":\"migrate_cancel\"}",
					  NULL, 0);
			return -ETIMEDOUT;
		}
		nested_sleep_ms(500);
	}
	/* ...and the destination runs the guest once it has loaded it all. */
	for (;;) {
		ret = vslice_nested_status(dst, status, sizeof(status));
		if (ret)
			return ret;
		if (!strcmp(status, "running"))
			return 0;
		if (strcmp(status, "inmigrate") || nested_now() > end)
			return -EIO;
		nested_sleep_ms(200);
	}
}

static void nested_add(char **argv, int *argc, const char *fmt, ...)
{
	va_list ap;

	if (*argc >= VSLICE_NESTED_MAX_ARGS - 1)
		return;
	va_start(ap, fmt);
	if (vasprintf(&argv[*argc], fmt, ap) >= 0)
		(*argc)++;
	va_end(ap);
	argv[*argc] = NULL;
}

const char *vslice_nested_accel(void)
{
	const char *accel = getenv("VSLICE_NESTED_ACCEL");

	return accel && !strcmp(accel, "kvm") ? "kvm" : "tcg";
}

/**
 * vslice_nested_start() - start a nested guest
 * @g: filled in
 * @dir: its work directory, created (its old files removed); with
 *       @opts->root, QEMU sees it bound over /mnt (or /media, /srv, /tmp:
 *       the first that exists in the root and holds no path QEMU needs)
 * @opts: what to start
 *
 * Returns as soon as QEMU answers on its monitor: wait for readiness with
 * vslice_nested_wait(g, 0, VSLICE_NESTED_READY, ...).
 *
 * Return: 0, or -errno; QEMU's own words are in qemu.log (see
 * vslice_nested_dump()).
 */
int vslice_nested_start(struct vslice_nested *g, const char *dir,
			const struct vslice_nested_opts *opts)
{
	static const char * const files[] = {
		"pid", "qdir", "serial.log", "qemu.log", "qmp.sock", "ctl.sock",
	};
	char *argv[VSLICE_NESTED_MAX_ARGS], buf[64];
	char path[PATH_MAX];
	unsigned int i;
	int argc = 0, ret;
	pid_t pid;

	memset(g, 0, sizeof(*g));
	g->qmp = -1;
	g->ctl = -1;
	snprintf(g->dir, sizeof(g->dir), "%s", dir);
	snprintf(g->qdir, sizeof(g->qdir), "%s", dir);
	if (opts->root && nested_qdir(opts, g->qdir, sizeof(g->qdir)))
		return -ENOENT;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		vslice_nested_path(g, files[i], path, sizeof(path));
		unlink(path);
	}

	nested_add(argv, &argc, "%s", opts->qemu ? opts->qemu : NESTED_QEMU);
	nested_add(argv, &argc, "-accel");
	nested_add(argv, &argc, "%s", vslice_nested_accel());
	/*
	 * A plain CPU: the guest's kernel boots about a fifth sooner under
	 * TCG than on "max" (fewer features to probe and patch in), and KVM
	 * in the test VM offers what it needs.
	 */
	nested_add(argv, &argc, "-cpu");
	nested_add(argv, &argc, "qemu64");
	nested_add(argv, &argc, "-M");
	nested_add(argv, &argc, "q35");
	nested_add(argv, &argc, "-m");
	nested_add(argv, &argc, "%u", opts->mem_mb ? opts->mem_mb : 512);
	nested_add(argv, &argc, "-nodefaults");
	nested_add(argv, &argc, "-no-reboot");
	/*
	 * A guest that resets (a triple fault) ends QEMU without a word:
	 * this says why QEMU ended, in qemu.log ("reason=7": the guest reset).
	 */
	nested_add(argv, &argc, "-trace");
	nested_add(argv, &argc, "qemu_system_shutdown_request");
	nested_add(argv, &argc, "-display");
	nested_add(argv, &argc, "none");
	nested_add(argv, &argc, "-serial");
	nested_add(argv, &argc, "file:%s/serial.log", g->qdir);
	nested_add(argv, &argc, "-chardev");
	nested_add(argv, &argc, "socket,id=ctl,path=%s/ctl.sock,server=on,wait=off",
		   g->qdir);
	nested_add(argv, &argc, "-serial");
	nested_add(argv, &argc, "chardev:ctl");
	nested_add(argv, &argc, "-qmp");
	nested_add(argv, &argc, "unix:%s/qmp.sock,server=on,wait=off", g->qdir);
	nested_add(argv, &argc, "-kernel");
	nested_add(argv, &argc, "%s", opts->kernel);
	nested_add(argv, &argc, "-initrd");
	nested_add(argv, &argc, "%s", opts->initrd);
	nested_add(argv, &argc, "-append");
	/* No mitigations: they only slow a guest of two levels of TCG. */
	nested_add(argv, &argc, "console=ttyS0 quiet panic=-1 mitigations=off%s%s",
		   opts->append ? " " : "", opts->append ? opts->append : "");
	if (opts->device) {
		nested_add(argv, &argc, "-device");
		nested_add(argv, &argc, "%s", opts->device);
	}
	if (opts->share) {
		nested_add(argv, &argc, "-virtfs");
		nested_add(argv, &argc,
			   "local,path=%s,mount_tag=igt,security_model=none,readonly=on,multidevs=remap",
			   opts->share);
	}
	for (i = 0; opts->extra && opts->extra[i]; i++)
		nested_add(argv, &argc, "%s", opts->extra[i]);

	/* The command line, for the record (and for humans re-running it). */
	vslice_nested_path(g, "cmdline", path, sizeof(path));
	{
		FILE *f = fopen(path, "w");

		for (i = 0; f && i < (unsigned int)argc; i++)
			fprintf(f, "%s%s", i ? " " : "", argv[i]);
		if (f) {
			fprintf(f, "\n");
			fclose(f);
		}
	}

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto out;
	}
	if (!pid)
		nested_exec(g, opts->root, argv);
	g->pid = pid;
	snprintf(buf, sizeof(buf), "%d\n", pid);
	ret = vslice_nested_put(g, "qdir", g->qdir);
	if (!ret)
		ret = vslice_nested_put(g, "pid", buf);
	if (!ret)
		ret = nested_qmp_connect(g);
out:
	for (i = 0; i < (unsigned int)argc; i++)
		free(argv[i]);
	return ret;
}

/**
 * vslice_nested_attach() - use a guest another process started
 * @g: filled in
 * @dir: the guest's work directory
 *
 * Return: 0, -ENOENT if no guest was started there, -ECHILD if its QEMU
 * is gone.
 */
int vslice_nested_attach(struct vslice_nested *g, const char *dir)
{
	char buf[64];
	int ret;

	memset(g, 0, sizeof(*g));
	g->qmp = -1;
	g->ctl = -1;
	snprintf(g->dir, sizeof(g->dir), "%s", dir);
	ret = vslice_nested_get(g, "pid", buf, sizeof(buf));
	if (!ret)
		ret = vslice_nested_get(g, "qdir", g->qdir, sizeof(g->qdir));
	if (ret)
		return ret;
	g->pid = strtol(buf, NULL, 10);
	return vslice_nested_alive(g) ? 0 : -ECHILD;
}

/* Close our connections; the guest runs on. */
void vslice_nested_detach(struct vslice_nested *g)
{
	if (g->qmp >= 0)
		close(g->qmp);
	if (g->ctl >= 0)
		close(g->ctl);
	g->qmp = -1;
	g->ctl = -1;
}

/**
 * vslice_nested_stop() - end a guest
 * @g: guest
 * @timeout_s: how long QEMU may take to quit before it is killed
 *
 * Asks QEMU to quit (the guest is not asked: tests that care shut it down
 * first), waits, kills it if it must.
 *
 * Return: 0 if QEMU quit by itself, -ETIMEDOUT if it had to be killed.
 */
int vslice_nested_stop(struct vslice_nested *g, unsigned int timeout_s)
{
	double end = nested_now() + timeout_s;
	int ret = 0;

	if (vslice_nested_alive(g))
		vslice_nested_qmp(g, "{\"execute\":\"quit\"}", NULL, 0);
	vslice_nested_detach(g);
	for (;;) {
		nested_reap(g);
		if (!vslice_nested_alive(g))
			break;
		if (nested_now() > end) {
			kill(g->pid, SIGKILL);
			ret = -ETIMEDOUT;
			nested_sleep_ms(NESTED_POLL_MS);
			nested_reap(g);
			break;
		}
		nested_sleep_ms(NESTED_POLL_MS);
	}
	return ret;
}

/* Remove a stopped guest's work directory and everything in it. */
void vslice_nested_clean(struct vslice_nested *g)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(g->dir);

	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		vslice_nested_path(g, de->d_name, path, sizeof(path));
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(g->dir);
}

off_t vslice_nested_log_size(const struct vslice_nested *g)
{
	char path[PATH_MAX];
	struct stat st;

	vslice_nested_path(g, "serial.log", path, sizeof(path));
	return stat(path, &st) ? 0 : st.st_size;
}

/**
 * vslice_nested_log() - the serial log from offset @from, with \r dropped
 * @g: guest
 * @from: byte offset
 * @len: bytes returned (without the terminating NUL), may be NULL
 *
 * Return: a NUL-terminated copy to free(), or NULL.
 */
char *vslice_nested_log(const struct vslice_nested *g, off_t from,
			size_t *len)
{
	char path[PATH_MAX], *buf, *p, *q;
	struct stat st;
	ssize_t n;
	int fd;

	vslice_nested_path(g, "serial.log", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || st.st_size < from) {
		close(fd);
		return NULL;
	}
	buf = malloc(st.st_size - from + 1);
	if (!buf) {
		close(fd);
		return NULL;
	}
	n = pread(fd, buf, st.st_size - from, from);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	for (p = q = buf; p < buf + n; p++)
		if (*p != '\r' && *p != '\0')
			*q++ = *p;
	*q = '\0';
	if (len)
		*len = q - buf;
	return buf;
}

/* The first whole line at or after @from that contains @needle. */
static int nested_find(const struct vslice_nested *g, off_t from,
		       const char *needle, char *line, size_t len)
{
	char *log = vslice_nested_log(g, from, NULL), *p, *eol;
	int ret = -ENOENT;

	if (!log)
		return -ENOENT;
	for (p = log; (eol = strchr(p, '\n')); p = eol + 1) {
		*eol = '\0';
		if (strstr(p, needle)) {
			if (line)
				snprintf(line, len, "%s", p);
			ret = 0;
			break;
		}
	}
	free(log);
	return ret;
}

/* Did the guest's kernel die before its /init said a word? */
static bool nested_early_panic(const struct vslice_nested *g)
{
	char *log = vslice_nested_log(g, 0, NULL);
	bool ret = log && strstr(log, "Kernel panic") &&
		   !strstr(log, VSLICE_NESTED_TAG "userspace at");

	free(log);
	return ret;
}

/**
 * vslice_nested_boot_wait() - wait until a guest just started takes commands
 * @g: guest
 * @timeout_s: how long its boot may take
 *
 * Two levels of TCG now and then kill a guest's kernel seconds into its
 * boot, before any driver touches the device: that is worth one more
 * boot (see "Flakes" in Documentation/vslice/testing.rst).
 *
 * Return: 0 when it is ready; -EAGAIN if its kernel died before
 * userspace; another -errno.  On failure the tail of its log is printed.
 */
int vslice_nested_boot_wait(const struct vslice_nested *g,
			    unsigned int timeout_s)
{
	int ret;

	ret = vslice_nested_wait(g, 0, VSLICE_NESTED_READY, timeout_s, NULL, 0);
	if (!ret)
		return 0;
	vslice_nested_dump(g, 40);
	return nested_early_panic(g) ? -EAGAIN : ret;
}

/**
 * vslice_nested_reference_boot() - does this guest boot on QEMU's device?
 * @opts: the guest as it was started on an instance
 * @timeout_s: how long each boot may take
 *
 * A guest whose kernel died before its userspace on two boots on an
 * instance may have met two-level emulation's flake, or vslice: the window
 * includes the kernel's probing of the instance's emulated config space.
 * Boot the same guest, the same way, on VSLICE_NESTED_REFERENCE_DEVICE in
 * place of @opts->device, up to twice, as the instance had.  Each boot is
 * stopped and its work directory removed.
 *
 * Return: 0 if the reference reached userspace; -EAGAIN if its kernel died
 * before userspace on both boots, as on the instance; another -errno if
 * it could not be booted.
 */
int vslice_nested_reference_boot(const struct vslice_nested_opts *opts,
				 unsigned int timeout_s)
{
	struct vslice_nested_opts o = *opts;
	char dir[] = "/tmp/vslice-reference.XXXXXX";
	struct vslice_nested g;
	int ret = -EAGAIN, tries;

	o.device = VSLICE_NESTED_REFERENCE_DEVICE;
	for (tries = 0; tries < 2 && ret == -EAGAIN; tries++) {
		if (!mkdtemp(dir))
			return -errno;
		fprintf(stderr, "# reference boot %d on QEMU's %s\n", tries + 1,
			o.device);
		ret = vslice_nested_start(&g, dir, &o);
		if (!ret)
			ret = vslice_nested_boot_wait(&g, timeout_s);
		vslice_nested_stop(&g, 30);
		vslice_nested_clean(&g);
		memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	}
	return ret;
}

/**
 * vslice_nested_wait() - wait for a line on the guest's serial log
 * @g: guest
 * @from: byte offset to search from (0: the whole log)
 * @needle: text the line contains
 * @timeout_s: give up after this long
 * @line: the line found, may be NULL
 * @len: size of @line
 *
 * Return: 0, -ETIMEDOUT, or -ECHILD when QEMU ended without the line.
 */
int vslice_nested_wait(const struct vslice_nested *g, off_t from,
		       const char *needle, unsigned int timeout_s,
		       char *line, size_t len)
{
	double end = nested_now() + timeout_s;
	bool alive;

	for (;;) {
		alive = vslice_nested_alive(g);
		if (!nested_find(g, from, needle, line, len))
			return 0;
		if (!alive)
			return -ECHILD;
		if (nested_now() > end)
			return -ETIMEDOUT;
		nested_sleep_ms(NESTED_POLL_MS);
	}
}

static void nested_tail(const char *title, const char *text,
			unsigned int lines)
{
	const char *p = text + strlen(text);
	unsigned int n = 0;

	while (p > text && n <= lines)
		if (*--p == '\n')
			n++;
	if (*p == '\n')
		p++;
	fprintf(stderr, "# --- %s (last %u lines)\n", title, lines);
	while (*p) {
		const char *eol = strchr(p, '\n');
		int l = eol ? eol - p : (int)strlen(p);

		fprintf(stderr, "#   %.*s\n", l, p);
		p += l + !!eol;
	}
}

/* Print the end of QEMU's output and of the serial log, for a failure. */
void vslice_nested_dump(const struct vslice_nested *g, unsigned int lines)
{
	char path[PATH_MAX], buf[8192];
	char *log;

	vslice_nested_path(g, "qemu.log", path, sizeof(path));
	if (!vslice_sysfs_read(path, buf, sizeof(buf)))
		nested_tail("qemu.log", buf, lines);
	log = vslice_nested_log(g, 0, NULL);
	if (log) {
		nested_tail("serial.log", log, lines);
		free(log);
	}
}

/**
 * vslice_nested_cmd() - run a command of the guest's /init and wait for it
 * @g: guest
 * @timeout_s: how long it may take
 * @start: where its output starts in the serial log, may be NULL
 * @fmt: "VERB ARGS..." (see scripts/nested-init)
 *
 * Return: the command's status in the guest (>= 0), or -errno.
 */
int vslice_nested_cmd(struct vslice_nested *g, unsigned int timeout_s,
		      off_t *start, const char *fmt, ...)
{
	char cmd[1024], id[64], end[96], line[256];
	off_t from;
	va_list ap;
	size_t n;
	int ret;

	if (g->ctl < 0) {
		g->ctl = nested_connect(g, "ctl.sock");
		if (g->ctl < 0) {
			ret = g->ctl;
			g->ctl = -1;
			return ret;
		}
	}
	/* Unique among all processes that share the guest. */
	snprintf(id, sizeof(id), "c%d.%u", getpid(), ++g->seq);
	n = snprintf(cmd, sizeof(cmd), "%s ", id);
	va_start(ap, fmt);
	n += vsnprintf(cmd + n, sizeof(cmd) - n - 1, fmt, ap);
	va_end(ap);
	if (n >= sizeof(cmd) - 1)
		return -E2BIG;
	cmd[n++] = '\n';

	from = vslice_nested_log_size(g);
	if (start)
		*start = from;
	if (!nested_send(g->ctl, cmd, n))
		return -EPIPE;
	snprintf(end, sizeof(end), VSLICE_NESTED_TAG "%s end ", id);
	ret = vslice_nested_wait(g, from, end, timeout_s, line, sizeof(line));
	if (ret)
		return ret;
	return atoi(strstr(line, end) + strlen(end));
}

/**
 * vslice_nested_probe_display() - can QEMU show this instance (display=on)?
 * @uuid: instance, not in use
 *
 * Asks the way QEMU does: VFIO_DEVICE_QUERY_GFX_PLANE with the probe flag
 * for region planes.
 *
 * Return: 1 if the instance has region planes, 0 if not, -errno if it
 * cannot be opened.
 */
int vslice_nested_probe_display(const char *uuid)
{
	struct vfio_device_gfx_plane_info plane = {
		.argsz = sizeof(plane),
		.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION,
	};
	struct vslice_dev dev;
	int ret;

	ret = vslice_dev_open(&dev, uuid);
	if (ret)
		return ret;
	ret = ioctl(dev.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &plane) ? 0 : 1;
	vslice_dev_close(&dev);
	return ret;
}

static int ppm_token(FILE *f)
{
	int c, v = 0;

	do {
		c = fgetc(f);
		if (c == '#')
			while (c != '\n' && c != EOF)
				c = fgetc(f);
	} while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
	if (c < '0' || c > '9')
		return -1;
	while (c >= '0' && c <= '9') {
		v = v * 10 + c - '0';
		c = fgetc(f);
	}
	return v;	/* one whitespace byte after it is consumed */
}

/**
 * vslice_ppm_read() - read a binary PPM (P6, maxval 255)
 * @path: file
 * @img: filled in; free with vslice_ppm_free()
 *
 * Return: 0, or -errno (-EINVAL: not such a file).
 */
int vslice_ppm_read(const char *path, struct vslice_ppm *img)
{
	FILE *f = fopen(path, "rb");
	int w, h, max;
	size_t len;

	memset(img, 0, sizeof(*img));
	if (!f)
		return -errno;
	if (fgetc(f) != 'P' || fgetc(f) != '6')
		goto bad;
	w = ppm_token(f);
	h = ppm_token(f);
	max = ppm_token(f);
	if (w <= 0 || h <= 0 || max != 255 || w > 16384 || h > 16384)
		goto bad;
	len = (size_t)w * h * 3;
	img->rgb = malloc(len);
	if (!img->rgb || fread(img->rgb, 1, len, f) != len) {
		free(img->rgb);
		img->rgb = NULL;
		goto bad;
	}
	img->width = w;
	img->height = h;
	fclose(f);
	return 0;
bad:
	fclose(f);
	return -EINVAL;
}

void vslice_ppm_free(struct vslice_ppm *img)
{
	free(img->rgb);
	img->rgb = NULL;
}

/* Does @img show vslice_bars_pixel() at its size? */
bool vslice_bars_check(const struct vslice_ppm *img)
{
	const u8 *px = img->rgb;
	u32 x, y, v;

	if (!px || img->width < 8 || img->height < 3)
		return false;
	for (y = 0; y < img->height; y++) {
		for (x = 0; x < img->width; x++, px += 3) {
			v = vslice_bars_pixel(x, y, img->width, img->height);
			if (px[0] != (v >> 16 & 0xff) ||
			    px[1] != (v >> 8 & 0xff) || px[2] != (v & 0xff))
				return false;
		}
	}
	return true;
}

/**
 * vslice_nested_draw() - have the guest draw the pattern of @seed
 * @g: guest
 * @seed: pattern
 * @f: what it drew (size and stride of its fb0)
 * @timeout_s: how long drawing may take
 *
 * Return: 0, the guest's status (> 0) if drawing failed, or -errno.
 */
int vslice_nested_draw(struct vslice_nested *g, u64 seed,
		       struct vslice_frame *f, unsigned int timeout_s)
{
	char *log, *p;
	off_t start;
	int ret;

	ret = vslice_nested_cmd(g, timeout_s, &start, "draw %llu",
				(unsigned long long)seed);
	if (ret)
		return ret;
	log = vslice_nested_log(g, start, NULL);
	p = log ? strstr(log, VSLICE_NESTED_TAG "drawn ") : NULL;
	f->seed = seed;
	if (!p || sscanf(p, VSLICE_NESTED_TAG "drawn %*u %ux%u bpp 32 stride %u",
			 &f->width, &f->height, &f->stride) != 3)
		ret = -EPROTO;
	free(log);
	return ret;
}

/* Keep a frame in the guest's work directory, as file @name. */
int vslice_frame_put(const struct vslice_nested *g, const char *name,
		     const struct vslice_frame *f)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%llu %u %u %u\n",
		 (unsigned long long)f->seed, f->width, f->height, f->stride);
	return vslice_nested_put(g, name, buf);
}

int vslice_frame_get(const struct vslice_nested *g, const char *name,
		     struct vslice_frame *f)
{
	unsigned long long seed;
	char buf[128];

	if (vslice_nested_get(g, name, buf, sizeof(buf)) ||
	    sscanf(buf, "%llu %u %u %u", &seed, &f->width, &f->height,
		   &f->stride) != 4)
		return -ENOENT;
	f->seed = seed;
	return 0;
}

/**
 * vslice_frame_diff() - compare XRGB8888 memory with a drawn frame
 * @fb: the first pixel
 * @stride: bytes per line at @fb
 * @f: the frame
 * @got: the first differing pixel's value
 *
 * Reads line by line (VRAM is slow to read pixel by pixel).
 *
 * Return: -1 if all of it matches, else the first differing pixel's index
 * y * width + x.
 */
long long vslice_frame_diff(const u8 *fb, u32 stride,
			    const struct vslice_frame *f, u32 *got)
{
	u32 *row = malloc(f->width * 4), x, y;
	long long ret = -1;

	if (!row)
		return 0;
	for (y = 0; y < f->height && ret < 0; y++) {
		memcpy(row, fb + (u64)y * stride, f->width * 4);
		for (x = 0; x < f->width; x++) {
			if ((row[x] & 0xffffff) != vslice_pixel(f->seed, x, y)) {
				*got = row[x] & 0xffffff;
				ret = (long long)y * f->width + x;
				break;
			}
		}
	}
	free(row);
	return ret;
}

/**
 * vslice_ppm_diff() - compare a screendump with a drawn frame
 * @img: the screendump
 * @f: the frame
 * @got: the first differing pixel's value (0xRRGGBB)
 *
 * Return: -1 if it is the frame, -2 if its size differs, else the first
 * differing pixel's index y * width + x.
 */
long long vslice_ppm_diff(const struct vslice_ppm *img,
			  const struct vslice_frame *f, u32 *got)
{
	const u8 *px = img->rgb;
	u32 x, y, v;

	if (!px || img->width != f->width || img->height != f->height)
		return -2;
	for (y = 0; y < f->height; y++) {
		for (x = 0; x < f->width; x++, px += 3) {
			v = px[0] << 16 | px[1] << 8 | px[2];
			if (v != vslice_pixel(f->seed, x, y)) {
				*got = v;
				return (long long)y * f->width + x;
			}
		}
	}
	return -1;
}

/**
 * vslice_mode_get() - an instance's scanout, from its mode attribute
 * @uuid: instance
 * @m: filled in if the scanout is on
 * @text: the attribute as it reads ("off", "800x600 32bpp stride ...")
 * @len: size of @text
 *
 * Return: 0 if the scanout is on, -ENODATA if not, -errno if the attribute
 * cannot be read.
 */
int vslice_mode_get(const char *uuid, struct vslice_mode *m, char *text,
		    size_t len)
{
	unsigned long long off;
	int ret;

	ret = vslice_inst_attr(uuid, "mode", text, len);
	if (ret) {
		snprintf(text, len, "(no mode attribute)");
		return ret;
	}
	text[strcspn(text, "\n")] = '\0';
	if (sscanf(text, "%ux%u %ubpp stride %u offset %llx", &m->width,
		   &m->height, &m->bpp, &m->stride, &off) != 5)
		return -ENODATA;
	m->offset = off;
	return 0;
}
