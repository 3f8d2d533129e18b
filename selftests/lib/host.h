/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running the host's own programs (mdevctl, libvirt) inside the test VM:
 * the host's root is shared read-only into the VM (9p, at
 * $VSLICE_NESTED_ROOT, default /host); a test moves into a mount namespace
 * of its own where that root has the VM's /proc, /sys and /dev and an empty
 * tmpfs over each directory the programs write, and runs them chrooted
 * there.
 */
#ifndef VSLICE_SELFTEST_HOST_H
#define VSLICE_SELFTEST_HOST_H

#include <stddef.h>

const char *vslice_host_root(void);
const char *vslice_host_missing(const char *program);
/* Where vslice_host_enter()'s @keep shows, in the host's root. */
#define VSLICE_HOST_KEEP	"/mnt"

int vslice_host_enter(const char *const *writable, const char *const *dirs,
		      const char *keep);
int vslice_host_run(char *out, size_t len, const char *const *argv);
int vslice_host_write(const char *path, const void *buf, size_t len);

#endif /* VSLICE_SELFTEST_HOST_H */
