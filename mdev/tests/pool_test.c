// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the VRAM pool (mdev/pool.c), over 32 MiB of ordinary memory
 * standing in for VRAM, in 4 MiB granules.
 *
 * Availability must never promise what a create cannot get, slices are
 * naturally aligned and disjoint, small slices leave room for big ones,
 * the reservation at the top is honoured, and nobody is ever handed
 * memory that anyone (firmware, a previous tenant) wrote.
 */

#include <kunit/test.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "../pool.h"

#define POOL_SIZE	SZ_32M
#define POOL_GRANULE	SZ_4M
#define POOL_SLOTS	(POOL_SIZE / POOL_GRANULE)

struct pool_test {
	struct vslice_pool pool;
	u8 *vram;
};

static int pool_test_init(struct kunit *test)
{
	struct pool_test *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	t->vram = vmalloc(POOL_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, t->vram);
	/* what firmware or the host's driver left there */
	memset(t->vram, 0xa5, POOL_SIZE);
	KUNIT_ASSERT_EQ(test, vslice_pool_init(&t->pool,
					       (void __force __iomem *)t->vram,
					       POOL_SIZE, POOL_GRANULE), 0);
	test->priv = t;
	return 0;
}

static void pool_test_exit(struct kunit *test)
{
	struct pool_test *t = test->priv;

	vslice_pool_fini(&t->pool);
	vfree(t->vram);
}

static bool pool_slice_clean(struct pool_test *t, const struct vslice_slice *s)
{
	return !memchr_inv(t->vram + s->offset, 0, s->size);
}

static void pool_available_counts(struct kunit *test)
{
	struct pool_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_4M), 8);
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_8M), 4);
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_16M), 2);
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_32M), 1);
	/* not a slice size: none, rather than a wrong count */
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, 0), 0);
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_2M), 0);
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, 3 * SZ_4M), 0);
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_64M), 0);
}

static void pool_alloc_rejects_bad_sizes(struct kunit *test)
{
	struct pool_test *t = test->priv;
	struct vslice_slice s;

	KUNIT_EXPECT_EQ(test, vslice_pool_alloc(&t->pool, SZ_2M, &s), -EINVAL);
	KUNIT_EXPECT_EQ(test, vslice_pool_alloc(&t->pool, 3 * SZ_4M, &s),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, vslice_pool_alloc(&t->pool, SZ_64M, &s),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_4M), 8);
}

/* Each slice naturally aligned, inside the VRAM, overlapping no other. */
static void pool_slices_aligned_disjoint(struct kunit *test)
{
	static const u64 sizes[] = { SZ_4M, SZ_16M, SZ_4M, SZ_8M };
	struct pool_test *t = test->priv;
	struct vslice_slice s[ARRAY_SIZE(sizes)], extra;
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		KUNIT_ASSERT_EQ(test, vslice_pool_alloc(&t->pool, sizes[i],
							&s[i]), 0);
		KUNIT_EXPECT_EQ(test, s[i].size, sizes[i]);
		KUNIT_EXPECT_EQ(test, s[i].offset % sizes[i], 0);
		KUNIT_EXPECT_LE(test, s[i].offset + s[i].size, POOL_SIZE);
		for (j = 0; j < i; j++)
			KUNIT_EXPECT_TRUE(test,
					  s[i].offset + s[i].size <= s[j].offset ||
					  s[j].offset + s[j].size <= s[i].offset);
	}
	/* 32 MiB handed out: full, and availability says so */
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_4M), 0);
	KUNIT_EXPECT_EQ(test, vslice_pool_alloc(&t->pool, SZ_4M, &extra),
			-ENOSPC);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		vslice_pool_free(&t->pool, &s[i]);
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_32M), 1);
}

/* Small slices pack together, leaving the big aligned ranges whole. */
static void pool_small_slices_leave_room(struct kunit *test)
{
	struct pool_test *t = test->priv;
	struct vslice_slice a, b, c, big;

	KUNIT_ASSERT_EQ(test, vslice_pool_alloc(&t->pool, SZ_4M, &a), 0);
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_16M), 1);
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_32M), 0);
	KUNIT_ASSERT_EQ(test, vslice_pool_alloc(&t->pool, SZ_4M, &b), 0);
	KUNIT_ASSERT_EQ(test, vslice_pool_alloc(&t->pool, SZ_8M, &c), 0);
	/* all three in one 16 MiB half: the other is still whole */
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_16M), 1);
	KUNIT_EXPECT_EQ(test, vslice_pool_alloc(&t->pool, SZ_16M, &big), 0);
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_4M), 0);
	vslice_pool_free(&t->pool, &big);
	vslice_pool_free(&t->pool, &c);
	vslice_pool_free(&t->pool, &b);
	vslice_pool_free(&t->pool, &a);
}

/* What was there before the pool, and what a tenant wrote, never shows. */
static void pool_never_hands_out_dirty(struct kunit *test)
{
	struct pool_test *t = test->priv;
	struct vslice_slice all, s[POOL_SLOTS];
	unsigned int i;

	KUNIT_ASSERT_EQ(test, vslice_pool_alloc(&t->pool, POOL_SIZE, &all), 0);
	KUNIT_EXPECT_TRUE(test, pool_slice_clean(t, &all));
	memset(t->vram, 0x5a, POOL_SIZE);	/* the tenant's data */
	vslice_pool_free(&t->pool, &all);
	/* free counts at once, though the clearing may not have run */
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_4M), 8);

	for (i = 0; i < POOL_SLOTS; i++) {
		KUNIT_ASSERT_EQ(test, vslice_pool_alloc(&t->pool, SZ_4M, &s[i]),
				0);
		KUNIT_EXPECT_TRUE(test, pool_slice_clean(t, &s[i]));
	}
	for (i = 0; i < POOL_SLOTS; i++)
		vslice_pool_free(&t->pool, &s[i]);
}

static void pool_clear_slice_in_use(struct kunit *test)
{
	struct pool_test *t = test->priv;
	struct vslice_slice s;

	KUNIT_ASSERT_EQ(test, vslice_pool_alloc(&t->pool, SZ_8M, &s), 0);
	memset(t->vram + s.offset, 0x77, s.size);
	vslice_pool_clear_slice(&t->pool, &s);
	KUNIT_EXPECT_TRUE(test, pool_slice_clean(t, &s));
	vslice_pool_free(&t->pool, &s);
}

/* The reservation takes granules from the top, around the tenants. */
static void pool_reserve_top(struct kunit *test)
{
	struct pool_test *t = test->priv;
	struct vslice_slice s[POOL_SLOTS];
	unsigned int i, n;

	KUNIT_EXPECT_EQ(test, vslice_pool_set_reserved(&t->pool, 3 * SZ_1M),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, vslice_pool_set_reserved(&t->pool, SZ_64M),
			-EINVAL);
	KUNIT_ASSERT_EQ(test, vslice_pool_set_reserved(&t->pool, SZ_8M), 0);
	KUNIT_EXPECT_EQ(test, vslice_pool_reserved(&t->pool), SZ_8M);
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_4M), 6);
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_16M), 1);
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_32M), 0);

	for (n = 0; n < POOL_SLOTS; n++) {
		if (vslice_pool_alloc(&t->pool, SZ_4M, &s[n]))
			break;
		KUNIT_EXPECT_LE(test, s[n].offset + s[n].size,
				POOL_SIZE - SZ_8M);
	}
	KUNIT_EXPECT_EQ(test, n, 6);

	/* growing over a tenant is refused and changes nothing */
	KUNIT_EXPECT_EQ(test, vslice_pool_set_reserved(&t->pool, SZ_16M),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, vslice_pool_reserved(&t->pool), SZ_8M);

	for (i = 0; i < n; i++)
		vslice_pool_free(&t->pool, &s[i]);
	KUNIT_ASSERT_EQ(test, vslice_pool_set_reserved(&t->pool, SZ_16M), 0);
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_16M), 1);
	/* given back: the host may have written it, so it is cleared first */
	memset(t->vram + POOL_SIZE - SZ_16M, 0x33, SZ_16M);
	KUNIT_ASSERT_EQ(test, vslice_pool_set_reserved(&t->pool, 0), 0);
	KUNIT_EXPECT_EQ(test, vslice_pool_available(&t->pool, SZ_32M), 1);
	KUNIT_ASSERT_EQ(test, vslice_pool_alloc(&t->pool, SZ_32M, &s[0]), 0);
	KUNIT_EXPECT_TRUE(test, pool_slice_clean(t, &s[0]));
	vslice_pool_free(&t->pool, &s[0]);
}

static struct kunit_case pool_test_cases[] = {
	KUNIT_CASE(pool_available_counts),
	KUNIT_CASE(pool_alloc_rejects_bad_sizes),
	KUNIT_CASE(pool_slices_aligned_disjoint),
	KUNIT_CASE(pool_small_slices_leave_room),
	KUNIT_CASE(pool_never_hands_out_dirty),
	KUNIT_CASE(pool_clear_slice_in_use),
	KUNIT_CASE(pool_reserve_top),
	{}
};

static struct kunit_suite pool_test_suite = {
	.name		= "vslice_pool",
	.init		= pool_test_init,
	.exit		= pool_test_exit,
	.test_cases	= pool_test_cases,
};

kunit_test_suite(pool_test_suite);
