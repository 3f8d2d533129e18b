// SPDX-License-Identifier: GPL-2.0-only
/*
 * igt-gpu-tools results.  See igt.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "igt.h"
#include "nested.h"

/* The outcome of a whole program, from its exit status. */
const char *vslice_igt_outcome(int status)
{
	switch (status) {
	case 0:
		return "pass";
	case VSLICE_IGT_EXIT_SKIP:
		return "skip";
	case VSLICE_IGT_EXIT_MISSING:
		return "missing";
	default:
		return "fail";
	}
}

static struct vslice_igt_subtest *igt_sub(struct vslice_igt_result *r,
					  const char *name)
{
	unsigned int i;

	for (i = 0; i < r->nsub; i++)
		if (!strcmp(r->sub[i].name, name))
			return &r->sub[i];
	if (r->nsub == VSLICE_IGT_MAX_SUBTESTS)
		return NULL;
	snprintf(r->sub[r->nsub].name, sizeof(r->sub[0].name), "%s", name);
	snprintf(r->sub[r->nsub].result, sizeof(r->sub[0].result),
		 "UNFINISHED");
	return &r->sub[r->nsub++];
}

const char *vslice_igt_sub_result(const struct vslice_igt_result *r,
				  const char *name)
{
	unsigned int i;

	for (i = 0; i < r->nsub; i++)
		if (!strcmp(r->sub[i].name, name))
			return r->sub[i].result;
	return NULL;
}

/* "NAME: RESULT ..." -> NAME and RESULT; false if @s is not like that. */
static bool igt_split(const char *s, char *name, size_t nlen, char *res,
		      size_t rlen)
{
	const char *colon = strstr(s, ": ");

	if (!colon || colon == s)
		return false;
	snprintf(name, nlen, "%.*s", (int)(colon - s), s);
	if (sscanf(colon + 2, "%15s", res) != 1)
		return false;
	if (rlen > 16)
		res[15] = '\0';
	return true;
}

/**
 * vslice_igt_parse() - find one program's results in a serial log
 * @log: text (lines)
 * @test: program name
 * @r: filled in
 *
 * Return: 0 if the program's end was found, -ENOENT if not.
 */
int vslice_igt_parse(const char *log, const char *test,
		     struct vslice_igt_result *r)
{
	char pfx[128], exit_pfx[128], missing[128], name[128], res[16];
	char cur[128] = "", full[256];
	const char *p, *eol, *s;
	size_t plen, elen;
	bool found = false;

	memset(r, 0, sizeof(*r));
	snprintf(r->test, sizeof(r->test), "%s", test);
	r->exit = VSLICE_IGT_EXIT_MISSING;
	snprintf(pfx, sizeof(pfx), VSLICE_NESTED_IGT_TAG "%s: ", test);
	snprintf(exit_pfx, sizeof(exit_pfx), VSLICE_NESTED_TAG "igt %s exit ",
		 test);
	snprintf(missing, sizeof(missing), VSLICE_NESTED_TAG "igt %s missing",
		 test);
	plen = strlen(pfx);
	elen = strlen(exit_pfx);

	for (p = log; *p; p = *eol ? eol + 1 : eol) {
		eol = strchrnul(p, '\n');
		s = memmem(p, eol - p, VSLICE_NESTED_TAG, 15) ?: p;
		if (!strncmp(s, exit_pfx, elen)) {
			r->exit = atoi(s + elen);
			found = true;
			continue;
		}
		if (!strncmp(s, missing, strlen(missing))) {
			found = true;
			continue;
		}
		s = memmem(p, eol - p, pfx, plen);
		if (!s)
			continue;
		s += plen;
		snprintf(full, sizeof(full), "%.*s", (int)(eol - s), s);
		if (!strncmp(full, "Starting subtest: ", 18)) {
			snprintf(cur, sizeof(cur), "%s", full + 18);
			igt_sub(r, cur);
		} else if (!strncmp(full, "Starting dynamic subtest: ", 26)) {
			snprintf(name, sizeof(name), "%s@%s", cur, full + 26);
			igt_sub(r, name);
		} else if (!strncmp(full, "Subtest ", 8) &&
			   igt_split(full + 8, name, sizeof(name), res,
				     sizeof(res))) {
			struct vslice_igt_subtest *st = igt_sub(r, name);

			if (st)
				snprintf(st->result, sizeof(st->result), "%s",
					 res);
		} else if (!strncmp(full, "Dynamic subtest ", 16) &&
			   igt_split(full + 16, name, sizeof(name), res,
				     sizeof(res))) {
			struct vslice_igt_subtest *st;
			char dyn[256];

			snprintf(dyn, sizeof(dyn), "%s@%s", cur, name);
			st = igt_sub(r, dyn);
			if (st)
				snprintf(st->result, sizeof(st->result), "%s",
					 res);
		}
	}
	return found ? 0 : -ENOENT;
}

void vslice_igt_write(FILE *f, const struct vslice_igt_result *r)
{
	unsigned int i;

	fprintf(f, "exit %s %d\n", r->test, r->exit);
	for (i = 0; i < r->nsub; i++)
		fprintf(f, "sub %s %s %s\n", r->test, r->sub[i].name,
			r->sub[i].result);
}

/**
 * vslice_igt_read() - one program's results from a reference file
 * @path: the file
 * @test: program name
 * @r: filled in
 *
 * Return: 0, -ENOENT if the file has no "exit" line for @test, or -errno.
 */
int vslice_igt_read(const char *path, const char *test,
		    struct vslice_igt_result *r)
{
	char line[512], t[64], name[128], res[16];
	bool found = false;
	FILE *f;
	int st;

	memset(r, 0, sizeof(*r));
	snprintf(r->test, sizeof(r->test), "%s", test);
	r->exit = VSLICE_IGT_EXIT_MISSING;
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "exit %63s %d", t, &st) == 2 &&
		    !strcmp(t, test)) {
			r->exit = st;
			found = true;
		} else if (sscanf(line, "sub %63s %127s %15s", t, name,
				  res) == 3 && !strcmp(t, test)) {
			struct vslice_igt_subtest *s = igt_sub(r, name);

			if (s)
				snprintf(s->result, sizeof(s->result), "%s",
					 res);
		}
	}
	fclose(f);
	return found ? 0 : -ENOENT;
}
