// SPDX-License-Identifier: GPL-2.0-only
/*
 * A seeded, multi-threaded fuzzer against one instance (the target).
 *
 * Threads, each with its own PRNG seeded from the run's seed and its
 * number, race each other on the target: random ioctl numbers and
 * argument structs; pread and pwrite at random offsets and lengths on
 * every region, config space included; mmap and munmap of random ranges,
 * touched (SIGBUS is an allowed outcome), and a long-lived mapping of the
 * whole slice touched while the rest goes on; VFIO_DEVICE_RESET; writes
 * to the parent's policy attributes; migration state changes and the
 * data file read and written with captured, mutated, truncated, extended
 * and random streams; and another thread creating, opening and removing
 * instances around it.  Every operation has the errno values it may
 * fail with; any other fails the test.
 *
 * The guard: every byte of VRAM the target does not own is checked.
 * Before the run the VRAM is carved up: the target, a free area for the
 * creating thread, and "holders" (instances nobody but the test opens)
 * over all the rest, each filled with its own pattern through the
 * parent's BAR0 (resource0).  Nothing legitimately writes a holder, and
 * nothing legitimately writes anything but zeros to the free area (the
 * scrub worker, the slices of fresh instances), so after the run (and
 * every few seconds during it) the holders must hold their patterns and
 * the free area must be all zeros.  One holder, the neighbour, also has
 * its config space and registers compared.
 *
 *   VSLICE_FUZZ_SEED=N     replay a seed (the test prints the one it used)
 *   VSLICE_FUZZ_OPS=N      operations in all (default 1000000; make
 *                          test-full passes 10 million)
 *   VSLICE_FUZZ_THREADS=N  1: one thread doing everything, an exact
 *                          replay of the seed's sequence of operations
 *                          (default: one thread per kind of operation)
 *
 * And the info ioctls never hand back kernel bytes nobody wrote: every
 * answer is fetched twice into buffers poisoned with different patterns,
 * and a byte that is neither the caller's poison nor the same both times
 * is a leak.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "lib/vslice.h"

#define MIB		VSLICE_MIB
#define SZ4M		(4 * MIB)
#define GRANULE		SZ4M		/* the smallest type */
#define BUF_SIZE	8192
#define MAX_VRAM	(1024 * MIB)
#define MAX_HOLDERS	(MAX_VRAM / GRANULE)
#define FREE_AREA	(8 * MIB)	/* where the creating thread works */
#define MAX_CHURN	2		/* its instances alive at once */
#define GUARD_SEED	0x67a7d000ULL
#define DEFAULT_OPS	1000000
#define BATCH		64		/* ops a thread takes at a time */
#define CHECK_SECS	10		/* guard check period during the run */

/* xorshift64*: small, seedable, good enough to pick test inputs */
struct rng {
	u64 s;
};

static u64 rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

static u64 pick(struct rng *r, const u64 *set, size_t n)
{
	return set[rnd(r) % n];
}

/* Sizes and positions where bugs live: zero, edges, off-by-one, huge. */
static u64 edgy(struct rng *r, u64 limit)
{
	const u64 set[] = {
		0, 1, 2, 3, 4, 7, 8, 15, 16, 63, 64, 255, 256, 4095, 4096,
		4097, limit - 1, limit, limit + 1, limit * 2, 1ULL << 31,
		1ULL << 32, (1ULL << 40) - 1, ~0ULL, ~0ULL >> 1,
	};

	return rnd(r) % 3 ? pick(r, set, ARRAY_SIZE(set)) :
			    rnd(r) % (limit + 2);
}

/* The kinds of operation, and what each may fail with. */
enum op_kind {
	OP_IOCTL, OP_RW, OP_MMAP, OP_TOUCH, OP_RESET, OP_POLICY, OP_MIG,
	OP_CHURN, OP_KINDS,
};

static const char * const op_names[OP_KINDS] = {
	"ioctl", "read/write", "mmap", "touch", "reset", "policy",
	"migration", "create/remove",
};

/*
 * Unknown ioctls are ENOTTY; bad arguments EINVAL, unreadable ones
 * EFAULT, a non-eventfd EBADF; features the device lacks ENOTTY (vfio
 * core) or EOPNOTSUPP; a hot reset of a device that has none ENOTTY.
 */
static const int ok_errno_ioctl[] = {
	EINVAL, ENOTTY, EFAULT, EBADF, EOPNOTSUPP, 0,
};

/* A bad region, offset or length EINVAL, a bad buffer EFAULT. */
static const int ok_errno_rw[] = { EINVAL, EFAULT, 0 };
/*
 * A bad range EINVAL; one past what the address space holds ENOMEM; an
 * offset whose page number overflows EOVERFLOW (the mm core).
 */
static const int ok_errno_mmap[] = { EINVAL, ENOMEM, EOVERFLOW, 0 };
static const int ok_errno_reset[] = { 0 };	/* always works */
/*
 * A bad value EINVAL, a number too big for it ERANGE (kstrto*), a
 * reservation over an instance EBUSY, a scanout
 * instance that does not exist ENODEV.
 */
static const int ok_errno_policy[] = { EINVAL, EBUSY, ENODEV, ERANGE, 0 };
/*
 * An arc the state machine lacks, or a stream it refuses, EINVAL; the
 * data file after its state was left ENODEV; pread/pwrite ESPIPE;
 * reading the resuming file or writing the saving one EBADF (the VFS:
 * they are opened write-only and read-only).
 */
/* ENOMSG: a pre-copy stream at its temporary end; ENOTTY: no ioctl (6.1) */
static const int ok_errno_mig[] = { EINVAL, ENODEV, ESPIPE, EBADF, ENOMSG,
				    ENOTTY, EFAULT, 0 };
/*
 * A create: no room ENOSPC, a type the policy does not offer EPERM, the
 * policy's cap EUSERS, a type that does not exist ENOENT (no such file).
 */
static const int ok_errno_churn[] = { ENOSPC, EPERM, EUSERS, ENOENT, 0 };

static const int * const ok_errnos[OP_KINDS] = {
	[OP_IOCTL] = ok_errno_ioctl, [OP_RW] = ok_errno_rw,
	[OP_MMAP] = ok_errno_mmap,
	[OP_RESET] = ok_errno_reset, [OP_POLICY] = ok_errno_policy,
	[OP_MIG] = ok_errno_mig, [OP_CHURN] = ok_errno_churn,
};

/* Per thread: which kinds it draws, by weight. */
static const unsigned int role_weights[][OP_KINDS] = {
	{ [OP_IOCTL] = 1 },
	{ [OP_RW] = 1 },
	{ [OP_MMAP] = 1, [OP_TOUCH] = 3 },
	{ [OP_RESET] = 2, [OP_POLICY] = 3, [OP_MIG] = 10 },
	{ [OP_CHURN] = 1 },
	/* one thread doing everything (VSLICE_FUZZ_THREADS=1) */
	{ [OP_IOCTL] = 30, [OP_RW] = 30, [OP_MMAP] = 8, [OP_TOUCH] = 8,
	  [OP_RESET] = 1, [OP_POLICY] = 3, [OP_MIG] = 12, [OP_CHURN] = 2 },
};

#define ROLES		5
#define ROLE_ALL	5

/* One holder: an instance nobody but the test opens, with a pattern. */
struct holder {
	char uuid[VSLICE_UUID_LEN];
	u64 offset, size;
};

struct fuzz;

struct worker {
	struct fuzz *f;
	pthread_t thread;
	unsigned int id, role;
	struct rng r;
	u8 *buf;
	/* the long-lived mapping of the whole slice (OP_TOUCH) */
	u8 *map;
	/* migration: the data file, its direction and position */
	int data_fd;
	bool saving;
	u64 data_pos;
	u8 *stream;
	/* the creating thread's instances */
	char churn[MAX_CHURN][VSLICE_UUID_LEN];
	unsigned int nr_churn;
};

struct fuzz {
	const char *bdf;
	int fd;				/* the target */
	char target[VSLICE_UUID_LEN];
	u64 target_off, target_size;
	u8 *vram;			/* the parent's BAR0 */
	size_t vram_len;
	struct holder holders[MAX_HOLDERS];
	unsigned int nr_holders;
	/* per granule: 1 the target, 2 a holder, 0 the free area */
	u8 owner[MAX_HOLDERS];
	int efd;
	u64 seed;
	/* a good migration stream of the target */
	u8 *good;
	size_t good_len, state_at;	/* state_at: where the state starts */

	u64 total;
	u64 next_op;			/* atomic: ops handed out */
	int stop;			/* atomic: a worker failed */
	pthread_mutex_t fail_lock;	/* protects fail_msg */
	char fail_msg[512];
	/* atomic counters: tried, succeeded, per kind; signals */
	u64 tried[OP_KINDS], ok[OP_KINDS], sigbus, resumed;
};

/* Record the first failure and stop every thread. */
static void fuzz_fail(struct worker *w, const char *fmt, ...)
{
	struct fuzz *f = w->f;
	va_list ap;

	pthread_mutex_lock(&f->fail_lock);
	if (!f->fail_msg[0]) {
		int n = snprintf(f->fail_msg, sizeof(f->fail_msg),
				 "thread %u (seed %llu): ", w->id,
				 (unsigned long long)f->seed);

		va_start(ap, fmt);
		vsnprintf(f->fail_msg + n, sizeof(f->fail_msg) - n, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&f->fail_lock);
	__atomic_store_n(&f->stop, 1, __ATOMIC_RELAXED);
}

/*
 * Account one operation of @kind that returned @ret (< 0: failed with
 * errno); an errno not allowed for the kind fails the test.
 */
static void account(struct worker *w, enum op_kind kind, long ret,
		    const char *what)
{
	int err = errno;
	const int *e;

	__atomic_add_fetch(&w->f->tried[kind], 1, __ATOMIC_RELAXED);
	if (ret >= 0) {
		__atomic_add_fetch(&w->f->ok[kind], 1, __ATOMIC_RELAXED);
		return;
	}
	for (e = ok_errnos[kind]; *e; e++)
		if (*e == err)
			return;
	fuzz_fail(w, "%s %s: unexpected errno %d (%s)", op_names[kind], what,
		  err, strerror(err));
}

/* ------------------------------------------------------------ faults */

/* Set (with signal fences) only around a touch of this thread's. */
static __thread sigjmp_buf fault_jmp;
static __thread int fault_armed;

static void on_fault(int sig)
{
	if (!__atomic_load_n(&fault_armed, __ATOMIC_RELAXED)) {
		/* not a touch of ours: die of it as if unhandled */
		signal(sig, SIG_DFL);
		return;
	}
	__atomic_store_n(&fault_armed, 0, __ATOMIC_RELAXED);
	siglongjmp(fault_jmp, sig);
}

/*
 * Read or write bytes of @p at random places within @len; a SIGBUS is an
 * allowed outcome (the mapping may be gone under a reset or removal), a
 * SIGSEGV is not: the mapping was made read-write.  Returns 0, or -1 for
 * the SIGBUS.
 */
static int touch(struct worker *w, u8 *p, size_t len)
{
	int sig;

	sig = sigsetjmp(fault_jmp, 1);
	if (!sig) {
		__atomic_store_n(&fault_armed, 1, __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		/* atomic byte accesses: the compiler may not drop them */
		switch (rnd(&w->r) % 3) {
		case 0:
			__atomic_store_n(&p[rnd(&w->r) % len], rnd(&w->r),
					 __ATOMIC_RELAXED);
			break;
		case 1:
			__atomic_load_n(&p[rnd(&w->r) % len],
					__ATOMIC_RELAXED);
			break;
		default:
			__atomic_store_n(&p[0], __atomic_load_n(&p[len - 1],
								__ATOMIC_RELAXED),
					 __ATOMIC_RELAXED);
			break;
		}
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		__atomic_store_n(&fault_armed, 0, __ATOMIC_RELAXED);
		return 0;
	}
	if (sig == SIGBUS) {
		__atomic_add_fetch(&w->f->sigbus, 1, __ATOMIC_RELAXED);
		return -1;
	}
	fuzz_fail(w, "touching a read-write mapping raised signal %d", sig);
	return -1;
}

/* ------------------------------------------------------------ ioctls */

static const unsigned long vfio_cmds[] = {
	VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO,
	VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_SET_IRQS, VFIO_DEVICE_RESET,
	VFIO_DEVICE_QUERY_GFX_PLANE, VFIO_DEVICE_GET_GFX_DMABUF,
	VFIO_DEVICE_IOEVENTFD, VFIO_DEVICE_FEATURE,
	VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, VFIO_DEVICE_PCI_HOT_RESET,
};

/* A struct-shaped argument: a header of edgy u32s over random bytes. */
static void fuzz_arg(struct worker *w, u8 *buf)
{
	u32 *a = (u32 *)buf;
	unsigned int i;

	for (i = 0; i < 64; i++)
		((u64 *)buf)[i] = rnd(&w->r);
	a[0] = edgy(&w->r, 64);				/* argsz */
	a[1] = rnd(&w->r) % 2 ? rnd(&w->r) : 1u << (rnd(&w->r) % 32);
	a[2] = edgy(&w->r, 16);				/* index, type */
	a[3] = edgy(&w->r, 4);				/* start */
	a[4] = edgy(&w->r, 4);				/* count */
	if (rnd(&w->r) % 4 == 0)
		a[5] = rnd(&w->r) % 2 ? w->f->efd : (u32)-1;
}

static void op_ioctl(struct worker *w)
{
	char what[80];
	unsigned long cmd;
	u32 data_fd;
	long ret;

	switch (rnd(&w->r) % 4) {
	case 0:
	case 1:
		cmd = vfio_cmds[rnd(&w->r) % ARRAY_SIZE(vfio_cmds)];
		break;
	case 2:
		cmd = _IO(VFIO_TYPE, VFIO_BASE + rnd(&w->r) % 40);
		break;
	default:
		/* any number, but not the VFS's own (FIONBIO, FICLONE...) */
		cmd = (u32)rnd(&w->r);
		if (_IOC_TYPE(cmd) != VFIO_TYPE)
			cmd = (cmd & ~(_IOC_TYPEMASK << _IOC_TYPESHIFT)) |
			      (VFIO_TYPE << _IOC_TYPESHIFT);
		break;
	}
	fuzz_arg(w, w->buf);
	data_fd = ((u32 *)w->buf)[3];
	ret = ioctl(w->f->fd, cmd, rnd(&w->r) % 16 ? (void *)w->buf :
			(void *)(uintptr_t)rnd(&w->r));
	/* the one that returns a file: do not run out of them */
	if (ret > 0 && cmd == VFIO_DEVICE_GET_GFX_DMABUF)
		close(ret);
	/*
	 * A random FEATURE may have set a migration state and handed back
	 * its data file: the kernel wrote a new number over ours.
	 */
	if (!ret && cmd == VFIO_DEVICE_FEATURE &&
	    (((u32 *)w->buf)[1] & 0xffff) ==
	    VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE &&
	    ((u32 *)w->buf)[3] != data_fd && (s32)((u32 *)w->buf)[3] > 2)
		close(((u32 *)w->buf)[3]);
	snprintf(what, sizeof(what), "%#lx argsz %u flags %#x index %u",
		 cmd, ((u32 *)w->buf)[0], ((u32 *)w->buf)[1],
		 ((u32 *)w->buf)[2]);
	account(w, OP_IOCTL, ret, what);
}

/* ------------------------------------------------------- read, write */

static void op_rw(struct worker *w)
{
	u64 index = rnd(&w->r) % 8 ? rnd(&w->r) % 14 : rnd(&w->r);
	u64 limit = index == VFIO_PCI_CONFIG_REGION_INDEX ? 256 : SZ4M;
	u64 pos = VSLICE_REGION_OFFSET(index) + edgy(&w->r, limit);
	size_t len = edgy(&w->r, BUF_SIZE) % (BUF_SIZE + 1);
	void *buf = rnd(&w->r) % 32 ? (void *)w->buf : (void *)8;
	bool wr = rnd(&w->r) % 2;
	char what[80];
	ssize_t n;

	if (wr) {
		fuzz_arg(w, w->buf);
		n = pwrite(w->f->fd, buf, len, pos);
	} else {
		n = pread(w->f->fd, buf, len, pos);
	}
	snprintf(what, sizeof(what), "%s of %#zx at %#llx",
		 wr ? "pwrite" : "pread", len, (unsigned long long)pos);
	account(w, OP_RW, n, what);
}

/* --------------------------------------------------- mmap and faults */

static void op_mmap(struct worker *w)
{
	u64 index = rnd(&w->r) % 4 ? 0 :
		    rnd(&w->r) % 8 ? rnd(&w->r) % 14 : rnd(&w->r);
	u64 off = VSLICE_REGION_OFFSET(index) + (edgy(&w->r, SZ4M) & ~4095ULL);
	size_t len = (edgy(&w->r, SZ4M) + 4095) & ~4095ULL;
	int flags = rnd(&w->r) % 8 ? MAP_SHARED : MAP_PRIVATE;
	char what[80];
	u8 *p;
	int i;

	if (!len || len > 64 * MIB)
		len = 4096;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, w->f->fd, off);
	snprintf(what, sizeof(what), "of %#zx at %#llx%s", len,
		 (unsigned long long)off, flags == MAP_PRIVATE ? " private" : "");
	account(w, OP_MMAP, p == MAP_FAILED ? -1 : 0, what);
	if (p == MAP_FAILED)
		return;
	for (i = rnd(&w->r) % 4; i >= 0; i--)
		touch(w, p, len);
	munmap(p, len);
}

/* The long-lived mapping: made once, touched while the rest goes on. */
static void op_touch(struct worker *w)
{
	if (!w->map) {
		w->map = mmap(NULL, w->f->target_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, w->f->fd,
			      VSLICE_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX));
		if (w->map == MAP_FAILED) {
			w->map = NULL;
			fuzz_fail(w, "mapping the whole slice: errno %d", errno);
			return;
		}
	}
	/* a SIGBUS counts as tried, not as succeeded; it is allowed */
	__atomic_add_fetch(&w->f->tried[OP_TOUCH], 1, __ATOMIC_RELAXED);
	if (!touch(w, w->map, w->f->target_size))
		__atomic_add_fetch(&w->f->ok[OP_TOUCH], 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------ reset, policy */

static void op_reset(struct worker *w)
{
	account(w, OP_RESET, ioctl(w->f->fd, VFIO_DEVICE_RESET), "");
}

static void op_policy(struct worker *w)
{
	static const char * const attrs[] = {
		"reserved_mib", "max_instances", "types", "scanout",
	};
	static const char * const vals[] = {
		"0", "4", "8", "-1", "99999999999", "all", "4M", "8M", "none",
		"", "\n", "4M 64M 3M", "0x10", "12345678-1234-1234-1234-123456789abc",
		NULL,	/* the target */
	};
	const char *attr = attrs[rnd(&w->r) % ARRAY_SIZE(attrs)];
	const char *val = vals[rnd(&w->r) % ARRAY_SIZE(vals)];
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vslice/%s",
		 w->f->bdf, attr);
	ret = vslice_sysfs_write(path, val ? val : w->f->target);
	errno = -ret;
	account(w, OP_POLICY, ret, attr);
}

static void restore_policy(const char *bdf)
{
	static const char * const reset[][2] = {
		{ "scanout", "none" }, { "types", "all" },
		{ "max_instances", "0" }, { "reserved_mib", "0" },
	};
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(reset); i++) {
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/vslice/%s", bdf, reset[i][0]);
		vslice_sysfs_write(path, reset[i][1]);
	}
}

/* ----------------------------------------------------------- migration */

/* CRC-32 (IEEE, reflected), as the stream's header carries it. */
static u32 crc32_ieee(u32 crc, const u8 *p, size_t len)
{
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return crc;
}

#define MIG_HDR_SIZE	88	/* struct vslice_mig_header */
#define MIG_HDR_BLOB	64	/* its blob_size */
#define MIG_HDR_MEM	72	/* its mem_size */
#define MIG_HDR_CHUNK	80	/* its chunk_size */
#define MIG_REC_SIZE	32	/* a record's head: type, pass, offset, length, crc */
#define MIG_REC_CRC	24
#define MIG_RUN		(2 * 1024 * 1024)	/* bytes of a full MEM record */

/* Where the k-th record's head starts in a stop-copy stream. */
static size_t mig_rec_at(unsigned int k)
{
	return MIG_HDR_SIZE + (size_t)k * (MIG_REC_SIZE + MIG_RUN);
}

/* The CRC of header and state, into the STATE record, as the kernel checks it. */
static void mig_fix_crc(const struct fuzz *f, u8 *s)
{
	size_t blob = f->good_len - f->state_at;
	u32 crc;

	crc = crc32_ieee(~0u, s, MIG_HDR_SIZE);
	crc = ~crc32_ieee(crc, s + f->state_at, blob);
	memcpy(s + f->state_at - MIG_REC_SIZE + MIG_REC_CRC, &crc, 4);
}

/*
 * A stream to resume from, into w->stream: the captured one as it is,
 * with bytes of the header or of record heads flipped, with hostile state
 * under a good CRC, with header and record fields at the edges,
 * truncated, extended, or random bytes.  Returns its length.
 */
static size_t hostile_stream(struct worker *w)
{
	struct fuzz *f = w->f;
	size_t len = f->good_len, i, n;
	unsigned int runs = f->target_size / MIG_RUN;
	u8 *s = w->stream;
	u64 v;

	memcpy(s, f->good, f->good_len);
	switch (rnd(&w->r) % 8) {
	case 0:
		break;
	case 1:
		for (n = 1 + rnd(&w->r) % 8; n; n--) {
			i = rnd(&w->r) % 2 ? rnd(&w->r) % MIG_HDR_SIZE :
			    mig_rec_at(rnd(&w->r) % runs) + rnd(&w->r) % MIG_REC_SIZE;
			s[i] ^= 1 << (rnd(&w->r) % 8);
		}
		break;
	case 2:
		/* hostile state that passes the CRC: the model must check */
		for (n = 1 + rnd(&w->r) % 16; n; n--) {
			i = f->state_at + rnd(&w->r) % (f->good_len - f->state_at);
			s[i] = rnd(&w->r) % 2 ? rnd(&w->r) : 0xff;
		}
		mig_fix_crc(f, s);
		break;
	case 3: {
		/* header fields, then a record's type, pass, offset, length */
		static const unsigned int fields[] = {
			8, 12, MIG_HDR_BLOB, MIG_HDR_MEM, MIG_HDR_CHUNK, 84,
			0, 4, 8, 16,
		};
		unsigned int k = rnd(&w->r) % ARRAY_SIZE(fields);
		bool wide = k == 2 || k == 3 || k >= 8;

		v = edgy(&w->r, f->good_len);
		i = fields[k] + (k >= 6 ? mig_rec_at(rnd(&w->r) % runs) : 0);
		memcpy(s + i, &v, wide ? 8 : 4);
		if (rnd(&w->r) % 2)
			mig_fix_crc(f, s);
		break;
	}
	case 4:
		len = rnd(&w->r) % f->good_len;
		break;
	case 5:
		n = 1 + rnd(&w->r) % 4096;
		for (i = 0; i < n; i++)
			s[len + i] = rnd(&w->r);
		len += n;
		break;
	case 6:
		len = edgy(&w->r, 4096) % (64 * 1024);
		for (i = 0; i < len; i++)
			s[i] = rnd(&w->r);
		break;
	default:
		/* memory bytes flipped: taken as they are, the CRC skips them */
		for (n = 1 + rnd(&w->r) % 8; n; n--)
			s[mig_rec_at(rnd(&w->r) % runs) + MIG_REC_SIZE +
			  rnd(&w->r) % MIG_RUN] ^= 0xff;
		break;
	}
	return len;
}

static void mig_close(struct worker *w)
{
	if (w->data_fd >= 0)
		close(w->data_fd);
	w->data_fd = -1;
}

static int mig_set(struct worker *w, u32 state)
{
	int fd = -1, ret;

	ret = vslice_mig_set(w->f->fd, state, &fd);
	if (ret) {
		errno = -ret;
		return -1;
	}
	if (fd >= 0) {
		mig_close(w);
		w->data_fd = fd;
		w->saving = state == VFIO_DEVICE_STATE_STOP_COPY ||
			    state == VFIO_DEVICE_STATE_PRE_COPY;
		w->data_pos = 0;
	}
	return 0;
}

/* Write @len bytes of w->stream to the data file in random chunks. */
static long mig_write_all(struct worker *w, size_t len)
{
	size_t done = 0, chunk;
	ssize_t n;

	while (done < len) {
		chunk = 1 + rnd(&w->r) % (rnd(&w->r) % 4 ? len : 4096);
		if (chunk > len - done)
			chunk = len - done;
		n = write(w->data_fd, w->stream + done, chunk);
		if (n <= 0)
			return n;
		done += n;
	}
	return done;
}

static void op_mig(struct worker *w)
{
	static const u32 states[] = {
		VFIO_DEVICE_STATE_RUNNING, VFIO_DEVICE_STATE_STOP,
		VFIO_DEVICE_STATE_STOP_COPY, VFIO_DEVICE_STATE_RESUMING,
		VFIO_DEVICE_STATE_RUNNING_P2P, VFIO_DEVICE_STATE_ERROR,
		6, 7,	/* PRE_COPY (from 6.2), PRE_COPY_P2P (not offered) */
		0xdead,
	};
	size_t len;
	long ret;

	switch (rnd(&w->r) % 8) {
	case 0:
	case 1:
		ret = mig_set(w, states[rnd(&w->r) % ARRAY_SIZE(states)]);
		account(w, OP_MIG, ret, "setting a state");
		break;
	case 2:
	case 3:
		if (w->data_fd < 0)
			goto cycle;
		len = edgy(&w->r, 65536) % (256 * 1024);
		if (w->saving || rnd(&w->r) % 4 == 0) {
			ret = rnd(&w->r) % 16 ?
			      read(w->data_fd, w->stream, len) :
			      pread(w->data_fd, w->stream, len, 0);
			account(w, OP_MIG, ret, "reading the data file");
		} else {
			len = hostile_stream(w);
			ret = write(w->data_fd, w->stream,
				    rnd(&w->r) % 2 ? len : len % 65536);
			account(w, OP_MIG, ret, "writing the data file");
		}
		break;
	case 4:
		mig_close(w);
		account(w, OP_MIG, 0, "");
		break;
	case 5: {
		/* pre-copy info, with sizes and pointers at the edges */
		struct vfio_precopy_info info = {
			.argsz = edgy(&w->r, sizeof(info)),
			.flags = rnd(&w->r),
		};
		void *arg = rnd(&w->r) % 8 ? (void *)&info : (void *)16;

		if (w->data_fd < 0)
			goto cycle;
		ret = ioctl(w->data_fd, rnd(&w->r) % 8 ? VFIO_MIG_GET_PRECOPY_INFO :
			    VFIO_MIG_GET_PRECOPY_INFO + rnd(&w->r) % 4, arg);
		account(w, OP_MIG, ret, "asking for pre-copy info");
		break;
	}
	default:
cycle:
		/* a whole resume: STOP, RESUMING, a stream, STOP */
		ret = mig_set(w, VFIO_DEVICE_STATE_RUNNING);
		if (!ret)
			ret = mig_set(w, VFIO_DEVICE_STATE_RESUMING);
		account(w, OP_MIG, ret, "entering RESUMING");
		if (ret || w->data_fd < 0)
			break;
		ret = mig_write_all(w, hostile_stream(w));
		account(w, OP_MIG, ret, "writing a stream");
		ret = mig_set(w, VFIO_DEVICE_STATE_STOP);
		account(w, OP_MIG, ret, "resuming from a stream");
		if (!ret)
			__atomic_add_fetch(&w->f->resumed, 1, __ATOMIC_RELAXED);
		mig_close(w);
		break;
	}
}

/* --------------------------------------------------- create, remove */

/* A fresh slice is all zeros: sample its pages through the parent. */
static void check_fresh(struct worker *w, const char *uuid)
{
	struct fuzz *f = w->f;
	long long off = vslice_inst_attr_ll(uuid, "vram_offset");
	long long size = vslice_inst_attr_ll(uuid, "vram_size");
	long long bad;
	u64 at;
	int i;

	if (off < 0 || size <= 0 || off + size > (long long)f->vram_len) {
		fuzz_fail(w, "instance %s: slice %lld+%lld", uuid, off, size);
		return;
	}
	for (i = 0; i < 4; i++) {
		at = (rnd(&w->r) % (size / 4096)) * 4096;
		bad = vslice_check_zero(f->vram + off + at, 4096);
		if (bad >= 0)
			fuzz_fail(w, "fresh instance %s: byte %#llx of its slice is not zero",
				  uuid, at + bad);
	}
}

static void op_churn(struct worker *w)
{
	static const char * const types[] = {
		"vslice-4M", "vslice-4M", "vslice-8M", "vslice-64M",
		"vslice-3M", "nonsense",
	};
	const char *type = types[rnd(&w->r) % ARRAY_SIZE(types)];
	struct vslice_dev dev;
	unsigned int i;
	int ret;

	if (w->nr_churn && (w->nr_churn == MAX_CHURN || rnd(&w->r) % 2)) {
		i = rnd(&w->r) % w->nr_churn;
		ret = vslice_remove(w->churn[i]);
		errno = -ret;
		/* removing an instance nobody has open always works */
		account(w, OP_CHURN, ret, "removing");
		if (ret)
			fuzz_fail(w, "removing %s: %d", w->churn[i], ret);
		memcpy(w->churn[i], w->churn[--w->nr_churn], VSLICE_UUID_LEN);
		return;
	}
	ret = vslice_create(w->f->bdf, type, w->churn[w->nr_churn]);
	errno = -ret;
	account(w, OP_CHURN, ret, type);
	if (ret)
		return;
	check_fresh(w, w->churn[w->nr_churn]);
	/* open and close it: its own open path racing the rest */
	if (rnd(&w->r) % 2) {
		vslice_dev_init(&dev);
		ret = vslice_dev_open(&dev, w->churn[w->nr_churn]);
		if (ret)
			fuzz_fail(w, "opening %s: %d", w->churn[w->nr_churn],
				  ret);
		vslice_dev_close(&dev);
	}
	w->nr_churn++;
}

/* ------------------------------------------------------------- runner */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct fuzz *f = w->f;
	const unsigned int *wt = role_weights[w->role];
	unsigned int sum = 0, k, pick;
	u64 n, left = 0;

	for (k = 0; k < OP_KINDS; k++)
		sum += wt[k];
	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED)) {
		if (!left) {
			n = __atomic_fetch_add(&f->next_op, BATCH,
					       __ATOMIC_RELAXED);
			if (n >= f->total)
				break;
			left = f->total - n < BATCH ? f->total - n : BATCH;
		}
		left--;
		pick = rnd(&w->r) % sum;
		for (k = 0; pick >= wt[k]; k++)
			pick -= wt[k];
		switch (k) {
		case OP_IOCTL:
			op_ioctl(w);
			break;
		case OP_RW:
			op_rw(w);
			break;
		case OP_MMAP:
			op_mmap(w);
			break;
		case OP_TOUCH:
			op_touch(w);
			break;
		case OP_RESET:
			op_reset(w);
			break;
		case OP_POLICY:
			op_policy(w);
			break;
		case OP_MIG:
			op_mig(w);
			break;
		default:
			op_churn(w);
			break;
		}
	}
	/* leave nothing of ours behind */
	mig_close(w);
	while (w->nr_churn) {
		k = --w->nr_churn;
		if (vslice_remove(w->churn[k]))
			fuzz_fail(w, "removing %s at the end", w->churn[k]);
	}
	if (w->map)
		munmap(w->map, f->target_size);
	return NULL;
}

/* ---------------------------------------------------------- the guard */

/* Where the guard is broken, as text, or NULL if it holds. */
static const char *guard_broken(struct fuzz *f, char *msg, size_t len)
{
	long long bad;
	unsigned int i;
	u64 g;

	for (i = 0; i < f->nr_holders; i++) {
		bad = vslice_check(f->vram + f->holders[i].offset,
				   f->holders[i].size,
				   GUARD_SEED + f->holders[i].offset);
		if (bad >= 0) {
			snprintf(msg, len,
				 "VRAM %#llx (holder %s at %#llx) changed",
				 (unsigned long long)(f->holders[i].offset + bad),
				 f->holders[i].uuid,
				 (unsigned long long)f->holders[i].offset);
			return msg;
		}
	}
	for (g = 0; g < f->vram_len / GRANULE; g++) {
		if (f->owner[g])
			continue;
		bad = vslice_check_zero(f->vram + g * GRANULE, GRANULE);
		if (bad >= 0) {
			snprintf(msg, len, "VRAM %#llx (free area) is not zero",
				 (unsigned long long)(g * GRANULE + bad));
			return msg;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------- fixture */

/* The holder the test opens: config space and registers compared. */
struct neighbour {
	struct vslice_dev dev;
	u8 cfg[256], regs[22];
};

FIXTURE(fuzz) {
	const char *bdf;
	struct vslice_dev tdev;
	struct neighbour n;
	struct fuzz *f;
	int kmsg;
};

static void mark(struct fuzz *f, u64 off, u64 size, u8 who)
{
	u64 g;

	for (g = off / GRANULE; g < (off + size) / GRANULE; g++)
		f->owner[g] = who;
}

/* Holders over all VRAM but the target's and the free area. */
static void make_holders(struct __test_metadata *_metadata, struct fuzz *f)
{
	static const char * const types[] = {
		"vslice-64M", "vslice-32M", "vslice-16M", "vslice-8M",
		"vslice-4M",
	};
	char placeholder[VSLICE_UUID_LEN];
	struct holder *h;
	unsigned int t;

	/* the free area: taken first, so the holders go around it */
	vslice_create_assert(f->bdf, "vslice-8M", placeholder);
	for (t = 0; t < ARRAY_SIZE(types); t++) {
		while (f->nr_holders < MAX_HOLDERS) {
			h = &f->holders[f->nr_holders];
			if (vslice_create(f->bdf, types[t], h->uuid))
				break;
			h->offset = vslice_inst_attr_ll(h->uuid, "vram_offset");
			h->size = vslice_inst_attr_ll(h->uuid, "vram_size");
			ASSERT_LE(h->offset + h->size, f->vram_len);
			mark(f, h->offset, h->size, 2);
			vslice_fill(f->vram + h->offset, h->size,
				    GUARD_SEED + h->offset);
			f->nr_holders++;
		}
	}
	ASSERT_EQ(0, vslice_remove(placeholder));
}

/* Save the target once: the stream the hostile ones are made from. */
static void capture_stream(struct __test_metadata *_metadata, struct fuzz *f)
{
	size_t cap = 2 * (f->target_size + 65536);
	int data_fd = -1;
	ssize_t n;

	f->good = malloc(cap);
	ASSERT_NE(NULL, f->good);
	ASSERT_EQ(0, vslice_mig_set(f->fd, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, vslice_mig_set(f->fd, VFIO_DEVICE_STATE_STOP_COPY,
				    &data_fd));
	ASSERT_LE(0, data_fd);
	while ((n = read(data_fd, f->good + f->good_len,
			 cap - f->good_len)) > 0)
		f->good_len += n;
	ASSERT_EQ(0, n);
	close(data_fd);
	ASSERT_EQ(0, vslice_mig_set(f->fd, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, vslice_mig_set(f->fd, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_LT(MIG_HDR_SIZE, f->good_len);
	ASSERT_EQ(0, f->target_size % MIG_RUN);
	/* header, the memory in full records, the state last */
	f->state_at = mig_rec_at(f->target_size / MIG_RUN) + MIG_REC_SIZE;
	ASSERT_EQ(f->good_len,
		  f->state_at + *(u64 *)(f->good + MIG_HDR_BLOB));
}

FIXTURE_SETUP(fuzz)
{
	struct fuzz *f;

	self->bdf = vslice_parent();
	if (!self->bdf)
		SKIP(return, "no bochs-display (1234:1111) in this machine");
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	restore_policy(self->bdf);
	self->kmsg = vslice_kmsg_open();
	f = calloc(1, sizeof(*f));
	ASSERT_NE(NULL, f);
	self->f = f;
	f->bdf = self->bdf;
	pthread_mutex_init(&f->fail_lock, NULL);
	f->vram = vslice_map_parent_vram(self->bdf, &f->vram_len);
	ASSERT_GE(MAX_VRAM, f->vram_len);

	vslice_create_assert(self->bdf, "vslice-4M", f->target);
	f->target_off = vslice_inst_attr_ll(f->target, "vram_offset");
	f->target_size = vslice_inst_attr_ll(f->target, "vram_size");
	mark(f, f->target_off, f->target_size, 1);
	vslice_dev_open_assert(&self->tdev, f->target);
	f->fd = self->tdev.fd;

	make_holders(_metadata, f);
	ASSERT_LT(0, f->nr_holders);

	/* the neighbour: one holder, its registers set, opened by us only */
	vslice_dev_open_assert(&self->n.dev, f->holders[0].uuid);
	vslice_mmio_write(self->n.dev.fd, 0x502, 2, 800);
	vslice_mmio_write(self->n.dev.fd, 0x504, 2, 600);
	ASSERT_EQ(256, pread(self->n.dev.fd, self->n.cfg, 256,
			     VSLICE_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX)));
	ASSERT_EQ(22, pread(self->n.dev.fd, self->n.regs, 22,
			    VSLICE_REGION_OFFSET(VFIO_PCI_BAR2_REGION_INDEX) +
			    0x500));
}

FIXTURE_TEARDOWN(fuzz)
{
	struct fuzz *f = self->f;

	vslice_dev_close(&self->tdev);
	vslice_dev_close(&self->n.dev);
	if (f) {
		munmap(f->vram, f->vram_len);
		free(f->good);
		free(f);
	}
	restore_policy(self->bdf);
	EXPECT_EQ(0, vslice_remove_all(self->bdf));
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
	close(self->kmsg);
}

/* The neighbour is exactly as it was; returns what changed, or NULL. */
static const char *neighbour_changed(const struct neighbour *n)
{
	u8 cfg[256], regs[22];

	if (pread(n->dev.fd, cfg, 256,
		  VSLICE_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX)) != 256 ||
	    memcmp(cfg, n->cfg, 256))
		return "config space";
	if (pread(n->dev.fd, regs, 22,
		  VSLICE_REGION_OFFSET(VFIO_PCI_BAR2_REGION_INDEX) + 0x500) !=
	    22 || memcmp(regs, n->regs, 22))
		return "registers";
	return NULL;
}

static u64 env_u64(const char *name, u64 def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

TEST_F_TIMEOUT(fuzz, concurrent_random_input_harms_nothing, 3600)
{
	struct fuzz *f = self->f;
	unsigned int nr = env_u64("VSLICE_FUZZ_THREADS", ROLES), i, k;
	struct worker *w = calloc(nr, sizeof(*w));
	struct sigaction sa = { .sa_handler = on_fault };
	time_t t0 = time(NULL), last = t0;
	char msg[256];
	u8 wbuf[4096], rbuf[4096];
	const char *bad;
	u64 held = 0;

	ASSERT_NE(NULL, w);
	ASSERT_LT(0, nr);
	f->seed = env_u64("VSLICE_FUZZ_SEED",
			  (u64)time(NULL) * 2654435761u ^ getpid());
	f->total = env_u64("VSLICE_FUZZ_OPS", DEFAULT_OPS);
	f->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, f->efd);
	TH_LOG("seed %llu, %llu operations, %u threads",
	       (unsigned long long)f->seed, (unsigned long long)f->total, nr);
	TH_LOG("replay: VSLICE_FUZZ_SEED=%llu VSLICE_FUZZ_THREADS=1",
	       (unsigned long long)f->seed);
	for (i = 0; i < f->nr_holders; i++)
		held += f->holders[i].size;
	TH_LOG("guard: %llu MiB in %u holders (patterns) + %llu MiB free (zeros)",
	       (unsigned long long)held / MIB, f->nr_holders,
	       (unsigned long long)(f->vram_len - f->target_size - held) / MIB);
	TH_LOG("       = all %llu MiB of VRAM but the target's",
	       (unsigned long long)(f->vram_len - f->target_size) / MIB);
	capture_stream(_metadata, f);

	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	for (i = 0; i < nr; i++) {
		w[i].f = f;
		w[i].id = i;
		w[i].role = nr == 1 ? ROLE_ALL : i % ROLES;
		w[i].r.s = (f->seed + i * 0x9e3779b97f4a7c15ULL) | 1;
		w[i].data_fd = -1;
		w[i].buf = calloc(1, BUF_SIZE);
		w[i].stream = malloc(f->good_len + 8192);
		ASSERT_NE(NULL, w[i].buf);
		ASSERT_NE(NULL, w[i].stream);
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, worker_main,
					    &w[i]));
	}
	/* watch while they run: guard, neighbour, kernel log */
	while (__atomic_load_n(&f->next_op, __ATOMIC_RELAXED) < f->total &&
	       !__atomic_load_n(&f->stop, __ATOMIC_RELAXED)) {
		usleep(200 * 1000);
		if (time(NULL) - last < CHECK_SECS)
			continue;
		last = time(NULL);
		bad = guard_broken(f, msg, sizeof(msg));
		if (!bad)
			bad = neighbour_changed(&self->n);
		if (!bad && vslice_kmsg_bad_lines(self->kmsg))
			bad = "the kernel complained";
		if (bad) {
			pthread_mutex_lock(&f->fail_lock);
			if (!f->fail_msg[0])
				snprintf(f->fail_msg, sizeof(f->fail_msg),
					 "seed %llu, by op %llu: %s",
					 (unsigned long long)f->seed,
					 (unsigned long long)f->next_op, bad);
			pthread_mutex_unlock(&f->fail_lock);
			__atomic_store_n(&f->stop, 1, __ATOMIC_RELAXED);
		}
	}
	for (i = 0; i < nr; i++) {
		pthread_join(w[i].thread, NULL);
		free(w[i].buf);
		free(w[i].stream);
	}
	restore_policy(self->bdf);
	for (k = 0; k < OP_KINDS; k++)
		TH_LOG("%-13s %9llu tried, %9llu succeeded", op_names[k],
		       (unsigned long long)f->tried[k],
		       (unsigned long long)f->ok[k]);
	TH_LOG("%llu streams resumed, %llu SIGBUS, %ld s",
	       (unsigned long long)f->resumed, (unsigned long long)f->sigbus,
	       (long)(time(NULL) - t0));
	ASSERT_EQ(0, f->fail_msg[0]) {
		TH_LOG("%s", f->fail_msg);
	}
	ASSERT_LE(f->total, f->next_op);

	/* every kind got past the front door sometimes, streams too */
	for (k = 0; k < OP_KINDS; k++)
		ASSERT_LT(0, f->ok[k]) {
			TH_LOG("no %s succeeded", k < OP_KINDS ? op_names[k] : "?");
		}
	ASSERT_LT(0, f->resumed);

	/* the target still works: reset, ID, a VRAM round trip */
	ASSERT_EQ(0, ioctl(f->fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vslice_mig_get(f->fd));
	ASSERT_EQ(0x11111234, vslice_cfg_read(f->fd, 0, 4));
	vslice_fill(wbuf, sizeof(wbuf), f->seed);
	ASSERT_EQ(sizeof(wbuf), pwrite(f->fd, wbuf, sizeof(wbuf),
				       VSLICE_REGION_OFFSET(0) +
				       f->target_size - sizeof(wbuf)));
	ASSERT_EQ(sizeof(rbuf), pread(f->fd, rbuf, sizeof(rbuf),
				      VSLICE_REGION_OFFSET(0) +
				      f->target_size - sizeof(rbuf)));
	ASSERT_EQ(0, memcmp(wbuf, rbuf, sizeof(wbuf)));
	ASSERT_EQ(0, memcmp(wbuf, f->vram + f->target_off + f->target_size -
			    sizeof(wbuf), sizeof(wbuf)));

	/* and nothing outside it changed */
	bad = guard_broken(f, msg, sizeof(msg));
	ASSERT_EQ(NULL, bad) {
		TH_LOG("seed %llu: %s", (unsigned long long)f->seed, msg);
	}
	ASSERT_EQ(NULL, neighbour_changed(&self->n));
	ASSERT_EQ(0, vslice_kmsg_bad_lines(self->kmsg)) {
		TH_LOG("the kernel complained (seed %llu)",
		       (unsigned long long)f->seed);
	}
	close(f->efd);
	free(w);
}

/*
 * Call @cmd twice on @arg of @size, poisoned 0x5a then 0xa5 beyond the
 * input bytes; returns the offset of a leaked byte, or -1.
 */
static int leaked_byte(int fd, unsigned long cmd, const void *in,
		       size_t in_len, size_t size)
{
	u8 a[512], b[512];
	size_t i;

	memset(a, 0x5a, size);
	memcpy(a, in, in_len);
	memset(b, 0xa5, size);
	memcpy(b, in, in_len);
	if (ioctl(fd, cmd, a) || ioctl(fd, cmd, b))
		return -2;
	for (i = 0; i < size; i++)
		if (a[i] != b[i] && !(a[i] == 0x5a && b[i] == 0xa5))
			return i;
	return -1;
}

FIXTURE(info) {
	struct vslice_inst_fix f;
};

FIXTURE_SETUP(info)
{
	if (vslice_inst_fix_setup(&self->f, "vslice-4M") == -ENODEV)
		SKIP(return, "no bochs-display (1234:1111) in this machine");
}

FIXTURE_TEARDOWN(info)
{
	EXPECT_EQ(0, vslice_inst_fix_teardown(&self->f));
}

TEST_F(info, ioctls_leak_nothing)
{
	struct vfio_device_info dinfo = { .argsz = 512 };
	struct vfio_region_info rinfo = { .argsz = 512 };
	struct vfio_irq_info iinfo = { .argsz = 512 };
	struct vfio_device_gfx_plane_info plane = { .argsz = 512 };
	int fd = self->f.dev.fd;
	u32 i;

	ASSERT_EQ(-1, leaked_byte(fd, VFIO_DEVICE_GET_INFO, &dinfo,
				  sizeof(dinfo.argsz), 512));
	for (i = 0; i < 12; i++) {
		rinfo.index = i;
		ASSERT_EQ(-1, leaked_byte(fd, VFIO_DEVICE_GET_REGION_INFO,
					  &rinfo, offsetof(typeof(rinfo), cap_offset),
					  512)) {
			TH_LOG("region %u", i);
		}
	}
	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		iinfo.index = i;
		ASSERT_EQ(-1, leaked_byte(fd, VFIO_DEVICE_GET_IRQ_INFO, &iinfo,
					  offsetof(typeof(iinfo), count), 512));
	}
	plane.flags = VFIO_GFX_PLANE_TYPE_REGION;
	plane.drm_plane_type = 1;
	ASSERT_EQ(-1, leaked_byte(fd, VFIO_DEVICE_QUERY_GFX_PLANE, &plane,
				  offsetof(typeof(plane), drm_format), 512));
	/* with a mode set, too */
	vslice_mmio_write(fd, 0x502, 4, (600 << 16) | 800);
	vslice_mmio_write(fd, 0x506, 4, (0x41 << 16) | 32);
	ASSERT_EQ(-1, leaked_byte(fd, VFIO_DEVICE_QUERY_GFX_PLANE, &plane,
				  offsetof(typeof(plane), drm_format), 512));
}

TEST_HARNESS_MAIN
