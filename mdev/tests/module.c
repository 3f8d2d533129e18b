// SPDX-License-Identifier: GPL-2.0-only
/*
 * vslice_kunit.ko: the KUnit suites of vslice's pure logic, built where
 * the kernel has KUnit (Kbuild) and run as the module loads; selftests/
 * kunit.sh loads it and reads the results.  The functions under test are
 * exported to it only on such kernels (EXPORT_SYMBOL_IF_KUNIT).
 */

#include <linux/module.h>

#include "../../vfio_core/compat.h"

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit suites of vslice: config space, EDID, VRAM pool, modes");
VSLICE_COMPAT_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
