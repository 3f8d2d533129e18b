// SPDX-License-Identifier: GPL-2.0
/*
 * The host's programs, run in the host's root inside the test VM
 * (see host.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host.h"
#include "vslice.h"

#define HOST_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/**
 * vslice_host_root() - where the host's root is in this VM
 *
 * Return: the directory, or NULL when the host did not share its root.
 */
const char *vslice_host_root(void)
{
	const char *root = getenv("VSLICE_NESTED_ROOT");
	char path[PATH_MAX];

	if (!root || !*root)
		root = "/host";
	snprintf(path, sizeof(path), "%s/usr/bin", root);
	return access(path, X_OK) ? NULL : root;
}

/**
 * vslice_host_missing() - why a host program cannot be run here
 * @program: its absolute path, as the host sees it
 *
 * Return: NULL if it can, else the reason, for a test's SKIP.
 */
const char *vslice_host_missing(const char *program)
{
	static char why[PATH_MAX + 64];
	char path[PATH_MAX];

	if (!vslice_host_root())
		return "the host did not share its root (9p) with this VM";
	snprintf(path, sizeof(path), "%s%s", vslice_host_root(), program);
	if (!access(path, X_OK))
		return NULL;
	snprintf(why, sizeof(why), "no %s on the host (scripts/bed installs it)",
		 program);
	return why;
}

/**
 * vslice_host_enter() - make the host's root usable by this process
 * @writable: NULL-terminated directories of the host's root (absolute, as
 *	      the host sees them) to cover with an empty tmpfs
 * @dirs: NULL-terminated directories to make then, in order (in those
 *	  tmpfs); may be NULL
 * @keep: a directory of the host's root that must stay visible whatever
 *	  the tmpfs cover (the test bed's output may be anywhere): it is
 *	  bound at VSLICE_HOST_KEEP first; may be NULL
 *
 * Moves the caller into a mount namespace of its own, so nothing of this
 * outlives it.
 *
 * Return: 0, -ENOENT if there is no host root, or the -errno of the first
 * mount or mkdir that failed.
 */
int vslice_host_enter(const char *const *writable, const char *const *dirs,
		      const char *keep)
{
	static const char *const binds[] = { "/proc", "/sys", "/dev" };
	const char *root = vslice_host_root();
	char path[PATH_MAX];
	unsigned int i;

	if (!root)
		return -ENOENT;
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	for (i = 0; i < ARRAY_SIZE(binds); i++) {
		snprintf(path, sizeof(path), "%s%s", root, binds[i]);
		if (mount(binds[i], path, NULL, MS_BIND | MS_REC, NULL))
			return -errno;
	}
	if (keep) {
		char src[PATH_MAX];

		snprintf(src, sizeof(src), "%s%s", root, keep);
		snprintf(path, sizeof(path), "%s" VSLICE_HOST_KEEP, root);
		if (mount(src, path, NULL, MS_BIND, NULL))
			return -errno;
	}
	for (i = 0; writable && writable[i]; i++) {
		snprintf(path, sizeof(path), "%s%s", root, writable[i]);
		if (mount("tmpfs", path, "tmpfs", 0, "mode=0755"))
			return -errno;
	}
	for (i = 0; dirs && dirs[i]; i++) {
		snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
		if (mkdir(path, 0755))
			return -errno;
	}
	return 0;
}

/**
 * vslice_host_run() - run a host program in the host's root
 * @out: what it printed (stdout and stderr), NUL-terminated; may be NULL
 * @len: size of @out
 * @argv: the program (looked up in the host's PATH) and its arguments
 *
 * Call vslice_host_enter() first.
 *
 * Return: its exit status, or -errno if it could not be run.
 */
int vslice_host_run(char *out, size_t len, const char *const *argv)
{
	const char *root = vslice_host_root();
	size_t n = 0;
	int fds[2], status;
	char buf[4096];
	ssize_t r;
	pid_t pid;

	if (!root)
		return -ENOENT;
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (!pid) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		if (chroot(root) || chdir("/"))
			_exit(126);
		putenv(HOST_PATH);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	while ((r = read(fds[0], buf, sizeof(buf))) > 0) {
		size_t take = r;

		if (!out || n + 1 >= len)
			continue;
		if (take > len - 1 - n)
			take = len - 1 - n;
		memcpy(out + n, buf, take);
		n += take;
	}
	if (out && len)
		out[n] = '\0';
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -ECHILD;
}

/**
 * vslice_host_write() - write a file into the host's root
 * @path: absolute, as the host sees it (under a writable directory)
 * @buf: contents
 * @len: their length
 *
 * Return: 0 or -errno.
 */
int vslice_host_write(const char *path, const void *buf, size_t len)
{
	char full[PATH_MAX];
	int fd, ret = 0;

	if (!vslice_host_root())
		return -ENOENT;
	snprintf(full, sizeof(full), "%s%s", vslice_host_root(), path);
	fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) != (ssize_t)len)
		ret = -EIO;
	close(fd);
	return ret;
}
