/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The igt-gpu-tools programs the nested tests run, on an instance and on
 * QEMU's own bochs-display, in this order.  Each applies to a driver with
 * one CRTC, one primary plane, one connector and no vblank interrupt.
 * Left out: kms_flip and everything else that waits for vblanks or needs
 * CRCs, a cursor, more planes or a specific GPU.
 */
#ifndef VSLICE_IGT_TESTS_H
#define VSLICE_IGT_TESTS_H

static const char * const vslice_igt_tests[] = {
	"core_getversion",
	"core_getclient",
	"core_getstats",
	"core_auth",
	"core_setmaster",
	"kms_addfb_basic",
	"kms_getfb",
	"kms_rmfb",
	"kms_properties",
	"kms_prop_blob",
	"kms_atomic",
	"kms_invalid_mode",
	"kms_lease",
};

#endif /* VSLICE_IGT_TESTS_H */
