/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * igt-gpu-tools results, as a nested guest prints them (scripts/nested-init
 * prefixes every line of a test's output with "vslice-igt: TEST: ") and as
 * a reference file keeps them, one line each:
 *
 *   exit TEST STATUS
 *   sub TEST SUBTEST RESULT
 *
 * SUBTEST is "name" or "name@dynamic-name"; RESULT is igt's word
 * (SUCCESS, SKIP, FAIL, CRASH, ...), or "UNFINISHED" for a subtest that
 * started and never reported.
 */
#ifndef VSLICE_SELFTEST_IGT_H
#define VSLICE_SELFTEST_IGT_H

#include <stdio.h>

#define VSLICE_IGT_MAX_SUBTESTS	512
#define VSLICE_IGT_EXIT_MISSING	-1	/* the test did not run at all */

/* igt's exit statuses (lib/igt_core.h) */
#define VSLICE_IGT_EXIT_SKIP	77

struct vslice_igt_subtest {
	char name[128];
	char result[16];
};

/**
 * struct vslice_igt_result - one igt program's run
 * @test: program name
 * @exit: its exit status, or VSLICE_IGT_EXIT_MISSING
 * @nsub: number of entries in @sub
 * @sub: subtests in the order they ran
 */
struct vslice_igt_result {
	char test[64];
	int exit;
	unsigned int nsub;
	struct vslice_igt_subtest sub[VSLICE_IGT_MAX_SUBTESTS];
};

int vslice_igt_parse(const char *log, const char *test,
		     struct vslice_igt_result *r);
void vslice_igt_write(FILE *f, const struct vslice_igt_result *r);
int vslice_igt_read(const char *path, const char *test,
		    struct vslice_igt_result *r);
const char *vslice_igt_outcome(int status);
const char *vslice_igt_sub_result(const struct vslice_igt_result *r,
				  const char *name);

#endif /* VSLICE_SELFTEST_IGT_H */
