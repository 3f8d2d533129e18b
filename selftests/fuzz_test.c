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
 *
 * The edu parent (QEMU's edu, sliced in time: engine.rst) is fuzzed the
 * same way by fuzz.edu_concurrent_random_input_harms_nothing, with its
 * own threads: random accesses to BAR0 (edu's registers, any size and
 * offset); factorials (bounded: no job over about 25 ms of the engine)
 * and DMA commands of every shape on the target instance T, with
 * VFIO_DEVICE_SET_IRQS, config space writes (the MSI capability too),
 * resets, migration (the states, the stream read, hostile streams
 * resumed) and the scheduler's knobs racing them; DMA ranges mapped and
 * unmapped while DMAs are queued; instances created, opened with a job
 * running, closed and removed.  One thread alone drives a second
 * instance, D, so that it knows how each of D's DMAs and factorials must
 * end: a DMA that breaks edu's rules is refused at once (command bit
 * 0x8), one from or to memory mapped all along completes and moves
 * exactly its bytes from or to D's own buffer (which the others' DMAs
 * must not touch), one from an IOVA never mapped fails, n! is n! mod
 * 2^32.  Everywhere, edu's ID reads 0x010000ed and what is not a
 * register reads all ones.  Most DMAs are refused ones: an accepted one
 * holds the engine for 100 ms.  After the run, every thread stopped, D's
 * buffer is still what D put there and a fresh instance does a DMA
 * round trip and a factorial: the engine is not wedged.  The invariants
 * are counted (the run goes on, the test fails at the end); a wrong
 * errno, a signal or an operation stuck for a minute stops it.
 *
 * The edu part runs for a time rather than a number of operations: what
 * it is after (jobs, DMAs of 100 ms, drains, closes) goes at the engine's
 * pace, whatever the speed of the CPU that issues the operations.
 *
 *   VSLICE_FUZZ_EDU=S      seconds of the edu part (default EDU_SECS)
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

#include <linux/pci_regs.h>

#include "kselftest_harness.h"
#include "lib/edu.h"
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
/* a worker's stream buffer beyond the good stream: reads, extensions */
#define STREAM_SLACK	(320 * 1024)

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

/*
 * The PRNG state of operation @op of thread @thread (splitmix64 of the
 * three): what an operation draws depends on nothing that ran before it,
 * so a thread's n-th operation is the same in every run of a seed,
 * however the kernel's answers and timing steered the ones before.
 */
static u64 op_seed(u64 seed, unsigned int thread, u64 op)
{
	u64 z = seed + ((u64)thread << 48 | op) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31)) | 1;
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

/*
 * The kinds of operation, and what each may fail with: a bochs-display's,
 * then an edu's (from OP_EDU_FIRST).
 */
enum op_kind {
	OP_IOCTL, OP_RW, OP_MMAP, OP_TOUCH, OP_RESET, OP_POLICY, OP_MIG,
	OP_CHURN,
	OP_EDU_MMIO, OP_EDU_FACT, OP_EDU_DMA, OP_EDU_IRQ, OP_EDU_CFG,
	OP_EDU_TENANT, OP_EDU_RESET, OP_EDU_MIG, OP_EDU_KNOB, OP_EDU_MAP,
	OP_EDU_CHURN, OP_KINDS,
};

#define OP_EDU_FIRST	OP_EDU_MMIO

static const char * const op_names[OP_KINDS] = {
	"ioctl", "read/write", "mmap", "touch", "reset", "policy",
	"migration", "create/remove",
	"edu BAR0", "edu factorial", "edu DMA", "edu set_irqs", "edu config",
	"edu tenant D", "edu reset", "edu migration", "edu knobs",
	"edu DMA map", "edu churn",
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
/* A reset, and what only reads or writes edu's registers: never fail. */
static const int ok_errno_none[] = { 0 };
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
/*
 * VFIO_DEVICE_SET_IRQS: a bad header, index, action or a non-eventfd
 * EINVAL, a closed fd EBADF, a bad pointer EFAULT, INTx's mask eventfd
 * ENOTTY (as vfio-pci), a second unmask eventfd EBUSY (vfio's virqfd).
 */
static const int ok_errno_edu_irq[] = { EINVAL, EBADF, EFAULT, ENOTTY, EBUSY,
					0 };
/*
 * A knob: not a number EINVAL, out of its range ERANGE, max_instances
 * under the instances there are EBUSY, an attribute the parent lacks
 * ENOENT.
 */
static const int ok_errno_edu_knob[] = { EINVAL, ERANGE, EBUSY, ENOENT, 0 };
/*
 * A DMA mapping (VFIO_IOMMU_MAP_DMA or IOMMU_IOAS_MAP, and the unmaps):
 * a misaligned or empty range EINVAL, one over another EEXIST, an unmap
 * of nothing ENOENT (iommufd; type1 unmaps nothing and says 0).
 */
static const int ok_errno_edu_map[] = { EINVAL, EEXIST, ENOENT, 0 };

static const int * const ok_errnos[OP_KINDS] = {
	[OP_IOCTL] = ok_errno_ioctl, [OP_RW] = ok_errno_rw,
	[OP_MMAP] = ok_errno_mmap,
	[OP_RESET] = ok_errno_none, [OP_POLICY] = ok_errno_policy,
	[OP_MIG] = ok_errno_mig, [OP_CHURN] = ok_errno_churn,
	[OP_EDU_MMIO] = ok_errno_rw, [OP_EDU_FACT] = ok_errno_none,
	[OP_EDU_DMA] = ok_errno_none, [OP_EDU_IRQ] = ok_errno_edu_irq,
	[OP_EDU_CFG] = ok_errno_rw, [OP_EDU_TENANT] = ok_errno_none,
	[OP_EDU_RESET] = ok_errno_none, [OP_EDU_MIG] = ok_errno_mig,
	[OP_EDU_KNOB] = ok_errno_edu_knob, [OP_EDU_MAP] = ok_errno_edu_map,
	[OP_EDU_CHURN] = ok_errno_churn,
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
	/* edu: T's registers; T's jobs, interrupts, config; D */
	{ [OP_EDU_MMIO] = 1 },
	{ [OP_EDU_FACT] = 3, [OP_EDU_DMA] = 3, [OP_EDU_IRQ] = 3,
	  [OP_EDU_CFG] = 2 },
	{ [OP_EDU_TENANT] = 1 },
	/* T's reset, migration and knobs; DMA mappings; instances */
	{ [OP_EDU_RESET] = 1, [OP_EDU_MIG] = 8, [OP_EDU_KNOB] = 4 },
	{ [OP_EDU_MAP] = 1 },
	{ [OP_EDU_CHURN] = 1 },
	/* one thread doing everything */
	{ [OP_EDU_MMIO] = 30, [OP_EDU_FACT] = 4, [OP_EDU_DMA] = 6,
	  [OP_EDU_IRQ] = 6, [OP_EDU_CFG] = 6, [OP_EDU_TENANT] = 20,
	  [OP_EDU_RESET] = 1, [OP_EDU_MIG] = 4, [OP_EDU_KNOB] = 3,
	  [OP_EDU_MAP] = 4, [OP_EDU_CHURN] = 1 },
};

#define ROLES		5
#define ROLE_ALL	5
#define EDU_ROLE0	6
#define EDU_ROLES	6
#define EDU_ROLE_ALL	12

/*
 * The edu part.  Its targets are two instances of the edu parent: T,
 * which every edu thread races on, and D, whose registers one thread
 * alone touches.  Each has its own IOVA space (container or IOAS), laid
 * out alike: EDU_RAM_LEN at IOVA_STABLE, mapped all along (D: a source
 * half, then a destination half); FLIP_LEN at IOVA_FLIP, mapped and
 * unmapped while DMAs come and go; BORDER_LEN across edu's 256 MiB reach;
 * HIGH_LEN mapped beyond it; nothing at IOVA_NONE; scratch mappings come
 * and go from IOVA_SCRATCH.
 */
#define EDU_REACH	0x10000000ULL	/* edu's DMA has 28 address bits */
#define IOVA_STABLE	0x100000ULL
#define IOVA_FLIP	0x4000000ULL
#define FLIP_LEN	0x4000
#define IOVA_BORDER	(EDU_REACH - 0x2000)
#define BORDER_LEN	0x4000
#define IOVA_HIGH	0x40000000ULL
#define HIGH_LEN	0x1000
#define IOVA_NONE	0x8000000ULL
#define IOVA_SCRATCH	0x2000000ULL
#define SCRATCH_LEN	0x10000		/* a worker's memory for them */
#define SRC_LEN		0x8000		/* D's RAM: source, then destination */
#define POISON		0xa5
/* edu loops n times for n!, about 3 ns a step: at most about 25 ms a job */
#define FACT_MAX	0x800000
#define EDU_EFDS	4		/* eventfds for SET_IRQS, replaced now and then */
#define EDU_CHURN	2		/* the creating thread's instances */
#define EDU_SCRATCH	8		/* a worker's scratch mappings at once */
#define EDU_HANG_S	60		/* an operation this long is a hang */
#define EDU_WAIT_MS	10000		/* a DMA waited for, queue included */
#define EDU_CLOSE_MS	5000		/* a close waits for one job at most */
#define EDU_STOP_MS	5000		/* and a stop for the tenant's own */
#define EDU_T_DMA_MS	1000		/* T's DMAs accepted at most this often */
#define EDU_D_DMA_MS	300		/* D's: the gap after one ends */
#define EDU_SECS	12		/* the edu part's run (VSLICE_FUZZ_EDU) */
#define EDU_T		0
#define EDU_D		1

struct edu_ranges {
	u8 *flip, *border, *high;
	int flip_mapped;		/* atomic */
	int flip_busy;			/* atomic: someone maps or unmaps it */
};

enum edu_expect { EXPECT_DONE, EXPECT_ERROR, EXPECT_EITHER };

/* D, and what its one thread knows of it. */
struct edu_tenant {
	int owner;			/* atomic: that thread's id + 1 */
	/* a DMA started and not yet seen to end, and how it must end */
	bool dma_pending;
	enum edu_expect expect;
	bool to_ram;
	u64 buf_off, iova, cnt;
	struct timespec dma_end;
	bool fact_pending;
	u32 n;
	u64 dma_done, dma_failed, refused, facts;
	bool model_lost;		/* a DMA that should have failed did */
	u8 model[EDU_BUF_SIZE];		/* what D's buffer must hold */
};

/* The invariants: counted; the first of each is described. */
enum edu_find {
	FIND_ID, FIND_ONES, FIND_BITS, FIND_CFG_ID, FIND_REFUSED,
	FIND_STARTED, FIND_DMA_END, FIND_DMA_DATA, FIND_FACT, FIND_LIVENESS,
	FIND_RESET, FIND_ZERO_BUF, FIND_CLOSE, FIND_STOP, FIND_KINDS,
};

static const char * const find_names[FIND_KINDS] = {
	[FIND_ID] = "the ID register reads 0x010000ed",
	[FIND_ONES] = "what is not a register reads all ones",
	[FIND_BITS] = "status and DMA command hold edu's bits only",
	[FIND_CFG_ID] = "config space says 1234:11e8",
	[FIND_REFUSED] = "a DMA breaking edu's rules ends at once, bit 0x8 set, interrupt raised",
	[FIND_STARTED] = "a DMA that starts clears bit 0x8",
	[FIND_DMA_END] = "a DMA ends as its IOVAs say (mapped: done, unmapped: bit 0x8)",
	[FIND_DMA_DATA] = "a DMA moves its bytes, no others, to and from the tenant's own buffer",
	[FIND_FACT] = "the factorial of n is n! mod 2^32",
	[FIND_LIVENESS] = "liveness reads back inverted",
	[FIND_RESET] = "a reset zeroes the registers",
	[FIND_ZERO_BUF] = "a tenant that opens an instance finds its buffer zeroed",
	[FIND_CLOSE] = "a close waits for the job running only",
	[FIND_STOP] = "a stop drains the jobs queued when it comes, and returns",
};

struct edu_fuzz {
	const char *bdf;
	struct edu inst[2];		/* EDU_T, EDU_D */
	struct edu_ranges rg[2];
	int efd[EDU_EFDS];		/* atomic */
	int kmsg;			/* the engine's own complaints */
	u64 t_next_dma;			/* atomic: ns */
	u64 mig_max_ns;			/* atomic: the longest state change */
	struct edu_tenant d;
	struct edu fresh;		/* the one the end checks */
	u64 found[FIND_KINDS];		/* atomic */
	char found_msg[FIND_KINDS][256];
};

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
	u64 op;				/* the operation under way: its number */
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
	/* the operation under way (kind, since when in ns; 0: none) */
	int op_kind;
	u64 op_t0;
	/* edu: instances created, scratch mappings, their memory */
	char echurn[EDU_CHURN][VSLICE_UUID_LEN];
	unsigned int nr_echurn;
	struct {
		u64 iova, len;
		unsigned int inst;
	} scratch[EDU_SCRATCH];
	unsigned int nr_scratch;
	u8 *scratch_mem, *churn_ram;
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
	int running;			/* atomic: workers not done */
	u64 deadline;			/* ns: when the workers stop; 0: none */
	struct edu_fuzz *edu;		/* the edu test's; f->fd is its T */
};

/* Record the first failure and stop every thread. */
static void fuzz_fail(struct worker *w, const char *fmt, ...)
{
	struct fuzz *f = w->f;
	va_list ap;

	pthread_mutex_lock(&f->fail_lock);
	if (!f->fail_msg[0]) {
		int n = snprintf(f->fail_msg, sizeof(f->fail_msg),
				 "thread %u op %llu (seed %llu): ", w->id,
				 (unsigned long long)w->op,
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

/* Bytes of the state in @s (a copy of the good stream) set at random. */
static void spoil_state(struct worker *w, u8 *s)
{
	const struct fuzz *f = w->f;
	size_t n, i;

	for (n = 1 + rnd(&w->r) % 16; n; n--) {
		i = f->state_at + rnd(&w->r) % (f->good_len - f->state_at);
		s[i] = rnd(&w->r) % 2 ? rnd(&w->r) : 0xff;
	}
}

/*
 * What any model's stream may be spoiled with, in place in @s (@len bytes
 * long, room for 4 KiB more): cut short, random bytes appended, or random
 * bytes alone.  Returns the new length.
 */
static size_t spoil_stream_length(struct worker *w, u8 *s, size_t len)
{
	size_t i, n;

	switch (rnd(&w->r) % 3) {
	case 0:
		return rnd(&w->r) % len;
	case 1:
		n = 1 + rnd(&w->r) % 4096;
		for (i = 0; i < n; i++)
			s[len + i] = rnd(&w->r);
		return len + n;
	default:
		len = edgy(&w->r, 4096) % (64 * 1024);
		for (i = 0; i < len; i++)
			s[i] = rnd(&w->r);
		return len;
	}
}

/*
 * The fields of a bochs-display's stream: bytes of the header or of
 * record heads flipped; header and record fields at the edges (under a
 * good CRC or not); memory bytes flipped (taken as they are: the CRC
 * skips them).  Returns whether the CRC is to be made good.
 */
static bool bochs_spoil_fields(struct worker *w, u8 *s)
{
	/* header fields, then a record's type, pass, offset, length */
	static const unsigned int fields[] = {
		8, 12, MIG_HDR_BLOB, MIG_HDR_MEM, MIG_HDR_CHUNK, 84,
		0, 4, 8, 16,
	};
	const struct fuzz *f = w->f;
	unsigned int runs = f->target_size / MIG_RUN, k;
	size_t i, n;
	u64 v;

	switch (rnd(&w->r) % 3) {
	case 0:
		for (n = 1 + rnd(&w->r) % 8; n; n--) {
			i = rnd(&w->r) % 2 ? rnd(&w->r) % MIG_HDR_SIZE :
			    mig_rec_at(rnd(&w->r) % runs) + rnd(&w->r) % MIG_REC_SIZE;
			s[i] ^= 1 << (rnd(&w->r) % 8);
		}
		return false;
	case 1:
		k = rnd(&w->r) % ARRAY_SIZE(fields);
		v = edgy(&w->r, f->good_len);
		i = fields[k] + (k >= 6 ? mig_rec_at(rnd(&w->r) % runs) : 0);
		memcpy(s + i, &v, k == 2 || k == 3 || k >= 8 ? 8 : 4);
		return rnd(&w->r) % 2;
	default:
		for (n = 1 + rnd(&w->r) % 8; n; n--)
			s[mig_rec_at(rnd(&w->r) % runs) + MIG_REC_SIZE +
			  rnd(&w->r) % MIG_RUN] ^= 0xff;
		return false;
	}
}

static bool edu_spoil_fields(struct worker *w, u8 *s);
static void edu_short_fact(const struct fuzz *f, u8 *s, size_t len);

/*
 * A stream to resume the target from, into w->stream: the captured one
 * as it is, with hostile state under a good CRC (the model must check),
 * truncated, extended or random, or with the model's own fields
 * spoiled.  Returns its length.
 */
static size_t hostile_stream(struct worker *w)
{
	struct fuzz *f = w->f;
	size_t len = f->good_len;
	u8 *s = w->stream;
	bool crc = false;

	memcpy(s, f->good, f->good_len);
	switch (rnd(&w->r) % 8) {
	case 0:
		break;
	case 1:
		spoil_state(w, s);
		crc = true;
		break;
	case 2:
	case 3:
	case 4:
		len = spoil_stream_length(w, s, len);
		break;
	default:
		crc = f->edu ? edu_spoil_fields(w, s) : bochs_spoil_fields(w, s);
		break;
	}
	if (f->edu)
		edu_short_fact(f, s, len);
	if (crc)
		mig_fix_crc(f, s);
	return len;
}

static void mig_close(struct worker *w)
{
	if (w->data_fd >= 0)
		close(w->data_fd);
	w->data_fd = -1;
}

static void edu_mig_took(struct worker *w, u32 state, u64 ns);

static int mig_set(struct worker *w, u32 state)
{
	u64 t0 = vslice_now_ns();
	int fd = -1, ret;

	ret = vslice_mig_set(w->f->fd, state, &fd);
	if (w->f->edu)
		edu_mig_took(w, state, vslice_now_ns() - t0);
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

static void op_mig(struct worker *w, enum op_kind kind)
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
		account(w, kind, ret, "setting a state");
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
			account(w, kind, ret, "reading the data file");
		} else {
			len = hostile_stream(w);
			ret = write(w->data_fd, w->stream,
				    rnd(&w->r) % 2 ? len : len % 65536);
			account(w, kind, ret, "writing the data file");
		}
		break;
	case 4:
		mig_close(w);
		account(w, kind, 0, "");
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
		account(w, kind, ret, "asking for pre-copy info");
		break;
	}
	default:
cycle:
		/* a whole resume: STOP, RESUMING, a stream, STOP */
		ret = mig_set(w, VFIO_DEVICE_STATE_RUNNING);
		if (!ret)
			ret = mig_set(w, VFIO_DEVICE_STATE_RESUMING);
		account(w, kind, ret, "entering RESUMING");
		if (ret || w->data_fd < 0)
			break;
		ret = mig_write_all(w, hostile_stream(w));
		account(w, kind, ret, "writing a stream");
		ret = mig_set(w, VFIO_DEVICE_STATE_STOP);
		account(w, kind, ret, "resuming from a stream");
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

/* ---------------------------------------------------------------- edu */

/*
 * Record a broken invariant, seen by worker @w (NULL: the watching
 * thread): counted, the first of each kind told with its operation.
 */
static void edu_find(struct fuzz *f, const struct worker *w, enum edu_find k,
		     const char *fmt, ...)
{
	struct edu_fuzz *e = f->edu;
	va_list ap;
	int n;

	if (__atomic_fetch_add(&e->found[k], 1, __ATOMIC_RELAXED))
		return;
	if (w)
		n = snprintf(e->found_msg[k], sizeof(e->found_msg[k]),
			     "thread %u op %llu: ", w->id,
			     (unsigned long long)w->op);
	else
		n = snprintf(e->found_msg[k], sizeof(e->found_msg[k]),
			     "watcher: ");
	va_start(ap, fmt);
	vsnprintf(e->found_msg[k] + n, sizeof(e->found_msg[k]) - n, fmt, ap);
	va_end(ap);
}

/* Where the first byte of @p other than @c is, or @n. */
static size_t first_not(const u8 *p, size_t n, u8 c)
{
	size_t i = 0;

	while (i < n && p[i] == c)
		i++;
	return i;
}

/* Which way edu_io() goes. */
enum edu_io_dir { IO_READ, IO_WRITE };

/*
 * One access of @size bytes at @off of an edu's BAR0 that must work (a
 * register's size, inside BAR0); if it does not, the run stops.
 */
static bool edu_io(struct worker *w, int fd, u32 off, unsigned int size,
		   u64 *val, enum edu_io_dir dir)
{
	bool write = dir == IO_WRITE;
	ssize_t n;

	n = write ? pwrite(fd, val, size, EDU_BAR0(off)) :
		    pread(fd, val, size, EDU_BAR0(off));
	if (n == size)
		return true;
	fuzz_fail(w, "%s of %u bytes at %#x of an edu's BAR0: %zd (errno %d)",
		  write ? "write" : "read", size, off, n, errno);
	return false;
}

static u64 edu_get(struct worker *w, int fd, u32 off, unsigned int size)
{
	u64 v = 0;

	if (!edu_io(w, fd, off, size, &v, IO_READ))
		return ~0ULL;
	return v;
}

static void edu_set(struct worker *w, int fd, u32 off, unsigned int size,
		    u64 v)
{
	edu_io(w, fd, off, size, &v, IO_WRITE);
}

/* A register write's width: 4 bytes if the value fits, now and then. */
static unsigned int edu_width(struct worker *w, u64 v)
{
	return v >> 32 || rnd(&w->r) % 2 ? 8 : 4;
}

/* The widths edu_dma_regs() writes in. */
enum edu_reg_width { WIDTH_8, WIDTH_ANY };

/*
 * A DMA's four registers written, the command last: in 8 bytes each, or
 * (WIDTH_ANY) in 4 where the value fits, now and then.
 */
static void edu_dma_regs(struct worker *w, int fd, u64 src, u64 dst, u64 cnt,
			 u64 cmd, enum edu_reg_width width)
{
	bool any_width = width == WIDTH_ANY;
	const u64 val[] = { src, dst, cnt, cmd };
	const u32 reg[] = { EDU_DMA_SRC, EDU_DMA_DST, EDU_DMA_COUNT, EDU_DMA_CMD };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(reg); i++)
		edu_set(w, fd, reg[i], any_width ? edu_width(w, val[i]) : 8,
			val[i]);
}

#define CFG_OFF		VSLICE_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX)
#define CMD_ON		(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)
#define EDU_CFG_ID	0x11e81234	/* vendor and device, as read */

static void edu_cfg_set(struct worker *w, int fd, u32 off, unsigned int size,
			u32 v)
{
	if (pwrite(fd, &v, size, CFG_OFF + off) != size)
		fuzz_fail(w, "config write of %u bytes at %#x: errno %d", size,
			  off, errno);
}

/* A factorial's argument: mostly small, now and then up to FACT_MAX. */
static u32 fact_arg(struct rng *r)
{
	switch (rnd(r) % 16) {
	case 0:
		return rnd(r) % FACT_MAX;
	case 1:
	case 2:
		return rnd(r) % 65536;
	default:
		return rnd(r) % 40;
	}
}

/* n! as edu computes it, in 32 bits: 0 from 34 on (2^32 divides 34!). */
static u32 fact_of(u32 n)
{
	u32 v = 1;

	if (n >= 34)
		return 0;
	while (n)
		v *= n--;
	return v;
}

/* Is an access of @size bytes at @pos of BAR0 one of edu's registers? */
static bool edu_is_reg(u64 pos, size_t size)
{
	static const u32 regs[] = {
		EDU_ID, EDU_LIVENESS, EDU_FACT, EDU_STATUS, EDU_IRQ_STATUS,
		EDU_DMA_SRC, EDU_DMA_DST, EDU_DMA_COUNT, EDU_DMA_CMD,
	};
	unsigned int i;

	if (pos < EDU_DMA_SRC ? size != 4 : size != 4 && size != 8)
		return false;
	for (i = 0; i < ARRAY_SIZE(regs); i++)
		if (pos == regs[i])
			return true;
	return false;
}

/* Bits of the status and DMA command registers that are not edu's. */
static u64 edu_stray_bits(u64 pos, u64 v)
{
	if (pos == EDU_STATUS)
		return v & ~(u64)(EDU_STATUS_COMPUTING | EDU_STATUS_IRQFACT);
	if (pos == EDU_DMA_CMD)
		return v & ~(u64)(EDU_DMA_RUN | EDU_DMA_TO_RAM | EDU_DMA_IRQ |
				  EDU_DMA_ERROR);
	return 0;
}

/* @n bytes read at @pos of T's BAR0: what edu's invariants say of them. */
static void edu_check_read(struct worker *w, u64 pos, const u8 *buf, size_t n)
{
	u64 v = 0;
	size_t i;

	if (pos >= EDU_BAR0_SIZE)
		return;
	if (!edu_is_reg(pos, n)) {
		i = first_not(buf, n, 0xff);
		if (i < n)
			edu_find(w->f, w, FIND_ONES,
				 "%zu bytes at %#llx: byte %zu reads %#x", n,
				 (unsigned long long)pos, i, buf[i]);
		return;
	}
	memcpy(&v, buf, n);
	if (pos == EDU_ID && v != EDU_ID_VALUE)
		edu_find(w->f, w, FIND_ID, "%zu bytes read %#llx", n,
			 (unsigned long long)v);
	if (edu_stray_bits(pos, v))
		edu_find(w->f, w, FIND_BITS, "register %#llx reads %#llx",
			 (unsigned long long)pos, (unsigned long long)v);
}

/* Random accesses to T's BAR0: registers, their halves, anywhere, edges. */
static void op_edu_mmio(struct worker *w)
{
	static const u32 offs[] = {
		EDU_ID, EDU_LIVENESS, EDU_FACT, 0x0c, 0x1c, EDU_STATUS,
		EDU_IRQ_STATUS, 0x28, EDU_IRQ_RAISE, EDU_IRQ_ACK, 0x7c,
		EDU_DMA_SRC, 0x84, EDU_DMA_DST, 0x8c, EDU_DMA_COUNT, 0x94,
		EDU_DMA_CMD, 0x9c, 0xa0, EDU_BUF, EDU_BUF + 0xffc,
	};
	static const size_t sizes[] = { 4, 4, 4, 8, 8, 1, 2, 3, 5, 6, 7, 16 };
	int fd = w->f->edu->inst[EDU_T].fd;
	bool wr = rnd(&w->r) % 2;
	char what[80];
	size_t len;
	ssize_t n;
	u64 pos, v;

	switch (rnd(&w->r) % 8) {
	case 5:
	case 6:
		pos = rnd(&w->r) % EDU_BAR0_SIZE;
		if (rnd(&w->r) % 2)
			pos &= ~3ULL;
		break;
	case 7:
		pos = edgy(&w->r, EDU_BAR0_SIZE);
		break;
	default:
		pos = offs[rnd(&w->r) % ARRAY_SIZE(offs)];
		if (!(rnd(&w->r) % 6))
			pos += 1 + rnd(&w->r) % 7;
		break;
	}
	len = rnd(&w->r) % 8 ? sizes[rnd(&w->r) % ARRAY_SIZE(sizes)] :
			       edgy(&w->r, BUF_SIZE) % (BUF_SIZE + 1);
	if (wr) {
		fuzz_arg(w, w->buf);
		v = rnd(&w->r) % 4 ? rnd(&w->r) : edgy(&w->r, 4096);
		/* a factorial holds the engine as long as its argument says */
		if (pos == EDU_FACT && len == 4)
			v = fact_arg(&w->r);
		/* and an accepted DMA for 100 ms: start few */
		if (pos == EDU_DMA_CMD && rnd(&w->r) % 16)
			v &= ~(u64)EDU_DMA_RUN;
		memcpy(w->buf, &v, sizeof(v));
		n = pwrite(fd, w->buf, len, EDU_BAR0(pos));
	} else {
		n = pread(fd, w->buf, len, EDU_BAR0(pos));
		if (n > 0)
			edu_check_read(w, pos, w->buf, n);
	}
	snprintf(what, sizeof(what), "%s of %#zx at %#llx",
		 wr ? "pwrite" : "pread", len, (unsigned long long)pos);
	account(w, OP_EDU_MMIO, n, what);
}

/* T's factorials, queued and left to run; its status read. */
static void op_edu_fact(struct worker *w)
{
	int fd = w->f->edu->inst[EDU_T].fd;
	u64 v;

	switch (rnd(&w->r) % 8) {
	case 0:
		/* an interrupt when it ends, or not */
		edu_set(w, fd, EDU_STATUS, 4,
			rnd(&w->r) % 2 ? EDU_STATUS_IRQFACT : 0);
		break;
	case 1:
		v = edu_get(w, fd, EDU_STATUS, 4);
		if (edu_stray_bits(EDU_STATUS, v))
			edu_find(w->f, w, FIND_BITS, "status reads %#llx",
				 (unsigned long long)v);
		edu_get(w, fd, EDU_FACT, 4);
		break;
	default:
		/* ignored while one computes */
		edu_set(w, fd, EDU_FACT, 4, fact_arg(&w->r));
		break;
	}
	account(w, OP_EDU_FACT, 0, "");
}

/* A DMA's count: none, small, up to the buffer, beyond it, anything. */
static u64 edu_count(struct rng *r)
{
	switch (rnd(r) % 8) {
	case 0:
		return 0;
	case 1:
	case 2:
	case 3:
		return 1 + rnd(r) % 64;
	case 4:
	case 5:
		return 1 + rnd(r) % EDU_BUF_SIZE;
	case 6:
		return EDU_BUF_SIZE + 1 + rnd(r) % EDU_BUF_SIZE;
	default:
		return edgy(r, EDU_BUF_SIZE);
	}
}

/* A DMA's buffer side: in the buffer mostly, across its edges, anywhere. */
static u64 edu_buf_addr(struct rng *r, u64 cnt)
{
	u64 room = cnt < EDU_BUF_SIZE ? EDU_BUF_SIZE - cnt : 0;

	switch (rnd(r) % 6) {
	case 3:
		return EDU_BUF + room + 1 + rnd(r) % 16;
	case 4:
		return EDU_BUF - 1 - rnd(r) % 64;
	case 5:
		return edgy(r, 2 * EDU_BUF);
	default:
		return EDU_BUF + rnd(r) % (room + 1);
	}
}

/* A DMA's RAM side: in and around what is mapped, across 256 MiB, wrapping. */
static u64 edu_ram_addr(struct rng *r, u64 cnt)
{
	switch (rnd(r) % 11) {
	case 0:
	case 1:
		return IOVA_STABLE + rnd(r) % EDU_RAM_LEN;
	case 2:
		return IOVA_FLIP + rnd(r) % FLIP_LEN;
	case 3:
		return IOVA_BORDER + rnd(r) % BORDER_LEN;
	case 4:
		return IOVA_HIGH + rnd(r) % HIGH_LEN;
	case 5:
		return IOVA_NONE + rnd(r) % 4096;
	case 6:
		return IOVA_SCRATCH + rnd(r) % (16 * MIB);
	case 7:
		return EDU_REACH - cnt - 1 + rnd(r) % 3;
	case 8:
		/* ends at 2^64, or one past: wraps */
		return -(cnt + rnd(r) % 2);
	case 9:
		return edgy(r, EDU_REACH);
	default:
		return rnd(r);
	}
}

/* Does a DMA pass the checks edu.c makes as it starts (bus master on)? */
static bool edu_dma_starts(u64 src, u64 dst, u64 cnt, u64 cmd)
{
	bool to_ram = cmd & EDU_DMA_TO_RAM;
	u64 buf = to_ram ? src : dst, ram = to_ram ? dst : src;

	return cnt && cnt <= EDU_BUF_SIZE && buf >= EDU_BUF &&
	       buf - EDU_BUF <= EDU_BUF_SIZE - cnt && ram < EDU_REACH &&
	       cnt <= EDU_REACH - ram;
}

/*
 * DMA commands on T, of every shape.  An accepted one holds the engine
 * 100 ms (200 with a switch of its buffer): T's may be accepted once in
 * EDU_T_DMA_MS; in between one of edu's rules is broken.
 */
static void op_edu_dma(struct worker *w)
{
	struct edu_fuzz *e = w->f->edu;
	int fd = e->inst[EDU_T].fd;
	u64 cnt = edu_count(&w->r);
	bool to_ram = rnd(&w->r) % 2;
	u64 buf = edu_buf_addr(&w->r, cnt), ram = edu_ram_addr(&w->r, cnt);
	u64 cmd = EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0) |
		  (rnd(&w->r) % 2 ? EDU_DMA_IRQ : 0);
	unsigned int rule = rnd(&w->r) % 3;
	u64 now = vslice_now_ns(), v;

	if (!(rnd(&w->r) % 8))
		cmd |= rnd(&w->r) & ~0xfULL;
	if (!(rnd(&w->r) % 16))
		cmd &= ~(u64)EDU_DMA_RUN;
	if ((cmd & EDU_DMA_RUN) &&
	    edu_dma_starts(to_ram ? buf : ram, to_ram ? ram : buf, cnt, cmd)) {
		if (now < __atomic_load_n(&e->t_next_dma, __ATOMIC_RELAXED)) {
			if (!rule)
				cnt += 2 * EDU_BUF_SIZE;
			else if (rule == 1)
				buf += EDU_BUF_SIZE;
			else
				ram |= EDU_REACH;
		} else {
			__atomic_store_n(&e->t_next_dma,
					 now + EDU_T_DMA_MS * 1000000ULL,
					 __ATOMIC_RELAXED);
		}
	}
	edu_dma_regs(w, fd, to_ram ? buf : ram, to_ram ? ram : buf, cnt, cmd,
		     WIDTH_ANY);
	if (!(rnd(&w->r) % 4)) {
		v = edu_get(w, fd, EDU_IRQ_STATUS, 4);
		edu_set(w, fd, EDU_IRQ_ACK, 4, rnd(&w->r) % 2 ? v : rnd(&w->r));
	}
	account(w, OP_EDU_DMA, 0, "");
}

/* An fd for SET_IRQS: an eventfd of ours, -1, not an eventfd, closed. */
static s32 edu_irq_fd(struct worker *w)
{
	struct edu_fuzz *e = w->f->edu;

	switch (rnd(&w->r) % 10) {
	case 0:
		return -1;
	case 1:
		return e->inst[EDU_T].fd;
	case 2:
		return 1000 + rnd(&w->r) % 24;
	case 3:
		return edgy(&w->r, 64);
	default:
		return __atomic_load_n(&e->efd[rnd(&w->r) % EDU_EFDS],
				       __ATOMIC_RELAXED);
	}
}

/*
 * VFIO_DEVICE_SET_IRQS on T: INTx, MSI and the rest, every action and
 * data type, counts and starts at the edges, eventfds good, closed and
 * wrong; the eventfds are replaced now and then, installed or not.
 */
static void op_edu_irq(struct worker *w)
{
	static const u32 indexes[] = {
		VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_INTX_IRQ_INDEX,
		VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX,
		VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX,
		VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_ERR_IRQ_INDEX,
		VFIO_PCI_REQ_IRQ_INDEX, VFIO_PCI_REQ_IRQ_INDEX,
		VFIO_PCI_NUM_IRQS,
	};
	static const u32 actions[] = {
		VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_TRIGGER,
		VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_UNMASK,
		VFIO_IRQ_SET_ACTION_UNMASK,
	};
	static const u32 types[] = {
		VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_EVENTFD,
		VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_BOOL,
	};
	struct edu_fuzz *e = w->f->edu;
	struct {
		struct vfio_irq_set hdr;
		s32 fds[4];
	} set;
	u8 *bools = (u8 *)set.fds;
	void *arg = &set;
	unsigned int i, per;
	char what[96];
	long ret;
	int old;
	u64 v;

	memset(&set, 0, sizeof(set));
	set.hdr.index = indexes[rnd(&w->r) % ARRAY_SIZE(indexes)];
	set.hdr.flags = actions[rnd(&w->r) % ARRAY_SIZE(actions)] |
			types[rnd(&w->r) % ARRAY_SIZE(types)];
	if (!(rnd(&w->r) % 16))
		set.hdr.flags = rnd(&w->r) % 2 ? (u32)rnd(&w->r) :
				set.hdr.flags | 1u << (rnd(&w->r) % 32);
	set.hdr.start = rnd(&w->r) % 8 ? 0 : edgy(&w->r, 2);
	set.hdr.count = rnd(&w->r) % 4 ? 1 : edgy(&w->r, 2);
	for (i = 0; i < ARRAY_SIZE(set.fds); i++)
		set.fds[i] = edu_irq_fd(w);
	if (set.hdr.flags & VFIO_IRQ_SET_DATA_BOOL)
		for (i = 0; i < sizeof(set.fds); i++)
			bools[i] = rnd(&w->r) % 3 ? 1 : 0;
	per = set.hdr.flags & VFIO_IRQ_SET_DATA_EVENTFD ? 4 :
	      set.hdr.flags & VFIO_IRQ_SET_DATA_BOOL ? 1 : 0;
	set.hdr.argsz = sizeof(set.hdr) +
			(set.hdr.count <= 4 ? set.hdr.count * per : 0);
	if (!(rnd(&w->r) % 8))
		set.hdr.argsz = edgy(&w->r, sizeof(set));
	if (!(rnd(&w->r) % 32))
		arg = (void *)(uintptr_t)(rnd(&w->r) % 2 ? 8 : rnd(&w->r));
	ret = ioctl(e->inst[EDU_T].fd, VFIO_DEVICE_SET_IRQS, arg);
	snprintf(what, sizeof(what),
		 "argsz %u index %u flags %#x start %u count %u fd %d",
		 set.hdr.argsz, set.hdr.index, set.hdr.flags, set.hdr.start,
		 set.hdr.count, set.fds[0]);
	account(w, OP_EDU_IRQ, ret, what);

	i = rnd(&w->r) % EDU_EFDS;
	switch (rnd(&w->r) % 32) {
	case 0:
		old = __atomic_exchange_n(&e->efd[i],
					  eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
					  __ATOMIC_RELAXED);
		if (old >= 0)
			close(old);
		break;
	case 1:
	case 2:
	case 3:
		/* what fired */
		if (read(__atomic_load_n(&e->efd[i], __ATOMIC_RELAXED), &v,
			 sizeof(v)) != sizeof(v))
			v = 0;
		break;
	}
}

/* T's config space: the MSI capability, the command register, all of it. */
static void op_edu_cfg(struct worker *w)
{
	static const size_t sizes[] = { 1, 2, 4, 4, 4, 2, 3, 8 };
	int fd = w->f->edu->inst[EDU_T].fd;
	bool wr = rnd(&w->r) % 3;
	char what[80];
	size_t len;
	ssize_t n;
	u64 pos, v;
	u32 id;

	switch (rnd(&w->r) % 8) {
	case 3:
		pos = PCI_COMMAND;
		break;
	case 4:
		pos = rnd(&w->r) % 0x40;
		break;
	case 5:
		pos = 0x50 + rnd(&w->r) % (CFG_SIZE - 0x50);
		break;
	case 6:
		pos = edgy(&w->r, CFG_SIZE);
		break;
	default:
		pos = EDU_MSI_POS + rnd(&w->r) % 16;
		break;
	}
	len = rnd(&w->r) % 16 ? sizes[rnd(&w->r) % ARRAY_SIZE(sizes)] :
				edgy(&w->r, CFG_SIZE) % (BUF_SIZE + 1);
	if (wr) {
		fuzz_arg(w, w->buf);
		v = rnd(&w->r);
		/* T's DMAs need bus mastering: often back on */
		if (pos == PCI_COMMAND && rnd(&w->r) % 2)
			v = CMD_ON;
		memcpy(w->buf, &v, sizeof(v));
		n = pwrite(fd, w->buf, len, CFG_OFF + pos);
	} else {
		n = pread(fd, w->buf, len, CFG_OFF + pos);
		memcpy(&id, w->buf, sizeof(id));
		if (!pos && n >= 4 && id != EDU_CFG_ID)
			edu_find(w->f, w, FIND_CFG_ID, "reads %#x", id);
	}
	snprintf(what, sizeof(what), "%s of %#zx at config %#llx",
		 wr ? "pwrite" : "pread", len, (unsigned long long)pos);
	account(w, OP_EDU_CFG, n, what);
}

static void op_edu_reset(struct worker *w)
{
	account(w, OP_EDU_RESET,
		ioctl(w->f->edu->inst[EDU_T].fd, VFIO_DEVICE_RESET), "");
}

/* ----------------------------------------------- edu: D, one thread's */

/* Our bytes behind D's IOVAs [@iova, @iova + @cnt), if one range has all. */
static const u8 *edu_d_bytes(struct edu_fuzz *e, u64 iova, u64 cnt)
{
	const struct {
		u64 iova, len;
		const u8 *p;
	} r[] = {
		{ IOVA_STABLE, EDU_RAM_LEN, e->inst[EDU_D].ram },
		{ IOVA_FLIP, FLIP_LEN, e->rg[EDU_D].flip },
		{ IOVA_BORDER, BORDER_LEN, e->rg[EDU_D].border },
		{ IOVA_HIGH, HIGH_LEN, e->rg[EDU_D].high },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(r); i++)
		if (iova >= r[i].iova && iova - r[i].iova < r[i].len &&
		    cnt <= r[i].len - (iova - r[i].iova))
			return r[i].p + (iova - r[i].iova);
	return NULL;
}

/*
 * Where a DMA of @cnt bytes to D's RAM at @iova lands, if inside the
 * destination half with 16 bytes to spare each side (poisoned first, so
 * that a byte too many shows); else NULL.
 */
static u8 *edu_d_dst(struct edu_fuzz *e, u64 iova, u64 cnt)
{
	u64 lo = IOVA_STABLE + SRC_LEN + 16;

	if (iova < lo || iova - lo > EDU_RAM_LEN - SRC_LEN - 32 ||
	    cnt > EDU_RAM_LEN - SRC_LEN - 32 - (iova - lo))
		return NULL;
	return e->inst[EDU_D].ram + (iova - IOVA_STABLE);
}

/* D's DMA has ended with command @cmd: as it had to?  Its bytes? */
static void edu_d_ended(struct worker *w, struct edu_tenant *d, u64 cmd)
{
	static const char * const expect[] = { "done", "bit 0x8", "either" };
	struct edu_fuzz *e = w->f->edu;
	bool err = cmd & EDU_DMA_ERROR;
	bool in_buf = d->buf_off <= EDU_BUF_SIZE &&
		      d->cnt <= EDU_BUF_SIZE - d->buf_off;
	const u8 *src;
	size_t at;
	u8 *p;

	d->dma_pending = false;
	clock_gettime(CLOCK_MONOTONIC, &d->dma_end);
	if (edu_stray_bits(EDU_DMA_CMD, cmd))
		edu_find(w->f, w, FIND_BITS, "D's DMA command reads %#llx",
			 (unsigned long long)cmd);
	if (err ? d->expect == EXPECT_DONE : d->expect == EXPECT_ERROR)
		edu_find(w->f, w, FIND_DMA_END,
			 "%s, %llu bytes, buffer +%#llx, IOVA %#llx: command %#llx, expected %s",
			 d->to_ram ? "buffer to RAM" : "RAM to buffer",
			 (unsigned long long)d->cnt,
			 (unsigned long long)d->buf_off,
			 (unsigned long long)d->iova,
			 (unsigned long long)cmd, expect[d->expect]);
	p = d->to_ram ? edu_d_dst(e, d->iova, d->cnt) : NULL;
	if (err) {
		d->dma_failed++;
		/* all or nothing */
		at = p ? first_not(p, d->cnt, POISON) : 0;
		if (p && at < d->cnt)
			edu_find(w->f, w, FIND_DMA_DATA,
				 "a failed DMA of %llu bytes to RAM wrote its byte %zu",
				 (unsigned long long)d->cnt, at);
		return;
	}
	d->dma_done++;
	if (!d->to_ram) {
		src = edu_d_bytes(e, d->iova, d->cnt);
		if (src && in_buf)
			memcpy(d->model + d->buf_off, src, d->cnt);
		else
			d->model_lost = true;
		return;
	}
	if (!p || !in_buf)
		return;
	for (at = 0; at < d->cnt && p[at] == d->model[d->buf_off + at]; at++)
		;
	if (at < d->cnt && !d->model_lost)
		edu_find(w->f, w, FIND_DMA_DATA,
			 "buffer +%#llx to RAM, %llu bytes: byte %zu is %#x, D put %#x there",
			 (unsigned long long)d->buf_off,
			 (unsigned long long)d->cnt, at, p[at],
			 d->model[d->buf_off + at]);
	if (first_not(p - 16, 16, POISON) < 16 ||
	    first_not(p + d->cnt, 16, POISON) < 16)
		edu_find(w->f, w, FIND_DMA_DATA,
			 "a DMA of %llu bytes to RAM wrote beside them",
			 (unsigned long long)d->cnt);
}

/* Has D's DMA or factorial ended?  Then how. */
static void edu_d_poll(struct worker *w, struct edu_tenant *d)
{
	int fd = w->f->edu->inst[EDU_D].fd;
	u64 v;

	if (d->dma_pending) {
		v = edu_get(w, fd, EDU_DMA_CMD, 8);
		if (!(v & EDU_DMA_RUN))
			edu_d_ended(w, d, v);
	}
	if (!d->fact_pending)
		return;
	v = edu_get(w, fd, EDU_STATUS, 4);
	if (v & EDU_STATUS_COMPUTING)
		return;
	d->fact_pending = false;
	d->facts++;
	v = edu_get(w, fd, EDU_FACT, 4);
	if (v != fact_of(d->n))
		edu_find(w->f, w, FIND_FACT, "%u! reads %#llx, not %#x",
			 d->n, (unsigned long long)v, fact_of(d->n));
}

/*
 * Start a DMA of D's, its registers written in random widths; returns
 * the command register read right after.
 */
static u64 edu_d_start(struct worker *w, struct edu_tenant *d, u64 src,
		       u64 dst, u64 cnt, u64 cmd, enum edu_expect expect)
{
	struct edu_fuzz *e = w->f->edu;
	int fd = e->inst[EDU_D].fd;
	u8 *p;

	d->to_ram = cmd & EDU_DMA_TO_RAM;
	d->iova = d->to_ram ? dst : src;
	d->buf_off = (d->to_ram ? src : dst) - EDU_BUF;
	d->cnt = cnt;
	d->expect = expect;
	p = d->to_ram ? edu_d_dst(e, dst, cnt) : NULL;
	if (p)
		memset(p - 16, POISON, cnt + 32);
	edu_dma_regs(w, fd, src, dst, cnt, cmd, WIDTH_ANY);
	return edu_get(w, fd, EDU_DMA_CMD, 8);
}

/*
 * A DMA of D's that breaks one of edu's rules: more than 4 KiB, the
 * buffer side outside the buffer, the RAM side beyond 256 MiB (mapped
 * there or not, wrapping past 2^64), bus mastering off.  It must end at
 * once with bit 0x8 and its interrupt if asked; a count of 0 ends at once
 * without.
 */
static void edu_d_refused(struct worker *w, struct edu_tenant *d)
{
	struct edu_fuzz *e = w->f->edu;
	int fd = e->inst[EDU_D].fd;
	bool to_ram = rnd(&w->r) % 2, zero = !(rnd(&w->r) % 16);
	unsigned int rule = rnd(&w->r) % 9;
	u64 cnt = 1 + rnd(&w->r) % 64, buf, ram, cmd, got, irq;
	const char *why;

	buf = EDU_BUF + rnd(&w->r) % (EDU_BUF_SIZE - cnt + 1);
	ram = to_ram ? IOVA_STABLE + SRC_LEN + 16 +
		       rnd(&w->r) % (EDU_RAM_LEN - SRC_LEN - 32 - cnt + 1) :
		       IOVA_STABLE + rnd(&w->r) % (SRC_LEN - cnt + 1);
	switch (zero ? 9 : rule) {
	case 0:
		cnt = EDU_BUF_SIZE + 1 + rnd(&w->r) % EDU_BUF_SIZE;
		why = "more than 4 KiB";
		break;
	case 1:
		cnt = rnd(&w->r) % 2 ? ~0ULL - rnd(&w->r) % 16 :
				       (u64)EDU_BUF_SIZE << (1 + rnd(&w->r) % 40);
		why = "a huge count";
		break;
	case 2:
		buf = EDU_BUF - 1 - rnd(&w->r) % EDU_BUF;
		why = "the buffer side below the buffer";
		break;
	case 3:
		buf = EDU_BUF + EDU_BUF_SIZE - cnt + 1 + rnd(&w->r) % (cnt + 64);
		why = "the buffer side past its end";
		break;
	case 4:
		buf = ~0ULL - rnd(&w->r) % cnt;
		why = "the buffer side wrapping past 2^64";
		break;
	case 5:
		ram = EDU_REACH - cnt + 1 + rnd(&w->r) % (cnt + 64);
		why = "the RAM side across 256 MiB (mapped)";
		break;
	case 6:
		ram = IOVA_HIGH + rnd(&w->r) % (HIGH_LEN - cnt + 1);
		why = "the RAM side above 256 MiB (mapped)";
		break;
	case 7:
		ram = -(1 + rnd(&w->r) % cnt);
		why = "the RAM side wrapping past 2^64";
		break;
	case 8:
		edu_cfg_set(w, fd, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
		why = "bus mastering off";
		break;
	default:
		cnt = 0;
		why = "a count of 0";
		break;
	}
	cmd = EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0) |
	      (rnd(&w->r) % 2 ? EDU_DMA_IRQ : 0);
	if (!(rnd(&w->r) % 4))
		cmd |= rnd(&w->r) & ~0xfULL;
	irq = edu_get(w, fd, EDU_IRQ_STATUS, 4);
	if (irq)
		edu_set(w, fd, EDU_IRQ_ACK, 4, irq);
	got = edu_d_start(w, d, to_ram ? buf : ram, to_ram ? ram : buf, cnt,
			  cmd, EXPECT_ERROR);
	if (rule == 8 && !zero)
		edu_cfg_set(w, fd, PCI_COMMAND, 2, CMD_ON);
	irq = edu_get(w, fd, EDU_IRQ_STATUS, 4);
	if (edu_stray_bits(EDU_DMA_CMD, got))
		edu_find(w->f, w, FIND_BITS, "D's DMA command reads %#llx",
			 (unsigned long long)got);
	if (!(got & EDU_DMA_RUN) && (zero || (got & EDU_DMA_ERROR))) {
		d->refused++;
		if (zero && (got & EDU_DMA_ERROR))
			edu_find(w->f, w, FIND_REFUSED,
				 "%s: command reads %#llx",
				 why, (unsigned long long)got);
		else if ((cmd & EDU_DMA_IRQ) && !(irq & EDU_IRQ_DMA))
			edu_find(w->f, w, FIND_REFUSED,
				 "%s, with bit 0x4: interrupt status %#llx",
				 why, (unsigned long long)irq);
		return;
	}
	edu_find(w->f, w, FIND_REFUSED,
		 "%s (%#llx to %#llx, %#llx bytes, command %#llx): command reads %#llx",
		 why, (unsigned long long)(to_ram ? buf : ram),
		 (unsigned long long)(to_ram ? ram : buf),
		 (unsigned long long)cnt, (unsigned long long)cmd,
		 (unsigned long long)got);
	/* on the engine after all: it must still move nothing */
	if (got & EDU_DMA_RUN)
		d->dma_pending = true;
	else
		edu_d_ended(w, d, got);
}

/*
 * A DMA of D's that edu takes: from (or, for a third, to) its RAM mapped
 * all along, which must complete; from the range the map thread maps and
 * unmaps, which may go either way; from an IOVA not mapped (or not all
 * of it), which must fail on the engine.  No more than one at a time,
 * and a gap after each.
 */
static void edu_d_dma(struct worker *w, struct edu_tenant *d)
{
	u64 cnt = rnd(&w->r) % 4 ? 1 + rnd(&w->r) % 256 :
				   1 + rnd(&w->r) % EDU_BUF_SIZE;
	u64 buf = EDU_BUF + rnd(&w->r) % (EDU_BUF_SIZE - cnt + 1), ram, cmd;
	enum edu_expect expect = EXPECT_DONE;
	bool to_ram = !(rnd(&w->r) % 3);
	u64 got;

	if (to_ram) {
		ram = IOVA_STABLE + SRC_LEN + 16 +
		      rnd(&w->r) % (EDU_RAM_LEN - SRC_LEN - 32 - cnt + 1);
	} else {
		switch (rnd(&w->r) % 8) {
		case 4:
		case 5:
			ram = IOVA_FLIP + rnd(&w->r) % (FLIP_LEN - cnt + 1);
			expect = EXPECT_EITHER;
			break;
		case 6:
			ram = IOVA_BORDER +
			      rnd(&w->r) % (EDU_REACH - IOVA_BORDER - cnt + 1);
			break;
		case 7:
			ram = rnd(&w->r) % 2 ? IOVA_NONE + rnd(&w->r) % 4096 :
			      IOVA_STABLE + EDU_RAM_LEN - rnd(&w->r) % cnt;
			expect = EXPECT_ERROR;
			break;
		default:
			ram = IOVA_STABLE + rnd(&w->r) % (SRC_LEN - cnt + 1);
			break;
		}
	}
	cmd = EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0) |
	      (rnd(&w->r) % 4 ? 0 : EDU_DMA_IRQ);
	got = edu_d_start(w, d, to_ram ? buf : ram, to_ram ? ram : buf, cnt,
			  cmd, expect);
	if (!(got & EDU_DMA_RUN)) {
		/* over already: a refusal (the engine's, or one too early) */
		edu_d_ended(w, d, got);
		return;
	}
	if (got & EDU_DMA_ERROR)
		edu_find(w->f, w, FIND_STARTED,
			 "a DMA on its way reads command %#llx",
			 (unsigned long long)got);
	d->dma_pending = true;
}

/* A reset of D, nothing of it running: every register back to 0. */
static void edu_d_reset(struct worker *w)
{
	static const u32 regs[] = {
		EDU_LIVENESS, EDU_FACT, EDU_STATUS, EDU_IRQ_STATUS,
		EDU_DMA_SRC, EDU_DMA_DST, EDU_DMA_COUNT, EDU_DMA_CMD,
	};
	int fd = w->f->edu->inst[EDU_D].fd;
	unsigned int i;
	u64 v;

	if (ioctl(fd, VFIO_DEVICE_RESET)) {
		fuzz_fail(w, "resetting D: errno %d", errno);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(regs); i++) {
		v = edu_get(w, fd, regs[i], regs[i] < EDU_DMA_SRC ? 4 : 8);
		if (v) {
			edu_find(w->f, w, FIND_RESET,
				 "register %#x reads %#llx after a reset",
				 regs[i], (unsigned long long)v);
			break;
		}
	}
	/* a reset turns bus mastering off */
	edu_cfg_set(w, fd, PCI_COMMAND, 2, CMD_ON);
}

static void op_edu_tenant(struct worker *w)
{
	struct edu_fuzz *e = w->f->edu;
	struct edu_tenant *d = &e->d;
	int fd = e->inst[EDU_D].fd, owner = 0;
	u32 x;
	u64 v;

	/* D's registers are one thread's: the first that comes */
	if (!__atomic_compare_exchange_n(&d->owner, &owner, w->id + 1, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED) &&
	    owner != (int)w->id + 1) {
		account(w, OP_EDU_TENANT, 0, "");
		return;
	}
	edu_d_poll(w, d);
	/* both of D's jobs on their way: wait a little, do not spin */
	if (d->dma_pending && d->fact_pending)
		usleep(100);
	switch (rnd(&w->r) % 16) {
	case 0:
	case 1:
	case 2:
	case 3:
	case 4:
	case 5:
		if (!d->dma_pending)
			edu_d_refused(w, d);
		break;
	case 6:
		if (!d->dma_pending && edu_ms_since(&d->dma_end) >= EDU_D_DMA_MS)
			edu_d_dma(w, d);
		break;
	case 7:
	case 8:
	case 9:
		if (d->fact_pending)
			break;
		d->n = fact_arg(&w->r);
		edu_set(w, fd, EDU_FACT, 4, d->n);
		d->fact_pending = true;
		break;
	case 10:
	case 11:
		x = rnd(&w->r);
		edu_set(w, fd, EDU_LIVENESS, 4, x);
		v = edu_get(w, fd, EDU_LIVENESS, 4);
		if (v != (u32)~x)
			edu_find(w->f, w, FIND_LIVENESS,
				 "wrote %#x, read %#llx", x,
				 (unsigned long long)v);
		break;
	case 12:
		v = edu_get(w, fd, EDU_ID, 4);
		if (v != EDU_ID_VALUE)
			edu_find(w->f, w, FIND_ID, "D's reads %#llx",
				 (unsigned long long)v);
		break;
	case 13:
	case 14:
		/* raised by hand, acknowledged (with what a job raised) */
		edu_set(w, fd, EDU_IRQ_RAISE, 4, rnd(&w->r));
		v = edu_get(w, fd, EDU_IRQ_STATUS, 4);
		edu_set(w, fd, EDU_IRQ_ACK, 4, v);
		break;
	default:
		if (!d->dma_pending && !d->fact_pending)
			edu_d_reset(w);
		break;
	}
	account(w, OP_EDU_TENANT, 0, "");
}

/* ---------------------------------------- edu: mappings, instances */

/* Fresh memory of a worker's, made at first use; NULL (run stopped) if none. */
static u8 *edu_mem(struct worker *w, u8 **p, size_t len)
{
	if (*p)
		return *p;
	*p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (*p != MAP_FAILED)
		return *p;
	*p = NULL;
	fuzz_fail(w, "no memory: errno %d", errno);
	return NULL;
}

/*
 * DMA mappings of T's and D's: the flip range unmapped and mapped again
 * (DMAs from it queued or running meanwhile), scratch ranges mapped and
 * unmapped (below and above 256 MiB, over others: EEXIST), and
 * ill-formed ones.
 */
static void op_edu_map(struct worker *w)
{
	struct edu_fuzz *e = w->f->edu;
	unsigned int i = rnd(&w->r) % 2, k;
	struct edu *inst = &e->inst[i];
	struct edu_ranges *rg = &e->rg[i];
	u8 *mem = edu_mem(w, &w->scratch_mem, SCRATCH_LEN);
	bool mapped;
	u64 iova, len;
	int ret;

	if (!mem)
		return;
	switch (rnd(&w->r) % 8) {
	case 5:
	case 6:
		if (w->nr_scratch == EDU_SCRATCH ||
		    (w->nr_scratch && rnd(&w->r) % 2)) {
			k = rnd(&w->r) % w->nr_scratch;
			ret = vslice_unmap_dma(&e->inst[w->scratch[k].inst].dev,
					       w->scratch[k].len,
					       w->scratch[k].iova);
			if (ret)
				fuzz_fail(w, "unmapping %#llx+%#llx: %d",
					  (unsigned long long)w->scratch[k].iova,
					  (unsigned long long)w->scratch[k].len,
					  ret);
			w->scratch[k] = w->scratch[--w->nr_scratch];
			account(w, OP_EDU_MAP, 0, "");
			return;
		}
		len = (1 + rnd(&w->r) % 4) * 4096;
		iova = rnd(&w->r) % 4 ? IOVA_SCRATCH + rnd(&w->r) % 4096 * 4096 :
		       EDU_REACH - 0x4000 + rnd(&w->r) % 64 * 4096;
		ret = vslice_map_dma(&inst->dev,
				     mem + rnd(&w->r) % (SCRATCH_LEN / 4096 - 3) * 4096,
				     len, iova);
		errno = -ret;
		account(w, OP_EDU_MAP, ret ? -1 : 0, "mapping scratch");
		if (ret)
			return;
		w->scratch[w->nr_scratch].iova = iova;
		w->scratch[w->nr_scratch].len = len;
		w->scratch[w->nr_scratch++].inst = i;
		return;
	case 7:
		switch (rnd(&w->r) % 4) {
		case 0:
			ret = vslice_map_dma(&inst->dev, mem, 4096, IOVA_SCRATCH +
					     1 + rnd(&w->r) % 4095);
			break;
		case 1:
			ret = vslice_map_dma(&inst->dev, mem,
					     rnd(&w->r) % 2 ? 0 :
					     1 + rnd(&w->r) % 4095, IOVA_SCRATCH);
			break;
		case 2:
			ret = vslice_unmap_dma(&inst->dev, 4096, 0x30000000 +
					       rnd(&w->r) % 16 * 4096);
			break;
		default:
			ret = vslice_map_dma(&inst->dev, mem, 4096, IOVA_STABLE +
					     rnd(&w->r) % 16 * 4096);
			break;
		}
		errno = -ret;
		account(w, OP_EDU_MAP, ret ? -1 : 0, "an ill-formed mapping");
		return;
	default:
		/* the flip range: someone else's turn if busy */
		if (__atomic_exchange_n(&rg->flip_busy, 1, __ATOMIC_ACQUIRE)) {
			account(w, OP_EDU_MAP, 0, "");
			return;
		}
		mapped = __atomic_load_n(&rg->flip_mapped, __ATOMIC_RELAXED);
		ret = mapped ? vslice_unmap_dma(&inst->dev, FLIP_LEN, IOVA_FLIP) :
			       vslice_map_dma(&inst->dev, rg->flip, FLIP_LEN,
					      IOVA_FLIP);
		if (!ret)
			__atomic_store_n(&rg->flip_mapped, !mapped,
					 __ATOMIC_RELAXED);
		__atomic_store_n(&rg->flip_busy, 0, __ATOMIC_RELEASE);
		if (ret)
			fuzz_fail(w, "%smapping %c's flip range: %d",
				  mapped ? "un" : "", i ? 'D' : 'T', ret);
		account(w, OP_EDU_MAP, 0, "");
		return;
	}
}

/* Poll a DMA of @fd's until it ends; false after EDU_WAIT_MS or a stop. */
static bool edu_wait_dma(struct worker *w, int fd, u64 *cmd)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		*cmd = edu_get(w, fd, EDU_DMA_CMD, 8);
		if (!(*cmd & EDU_DMA_RUN))
			return true;
		if (edu_ms_since(&t0) > EDU_WAIT_MS ||
		    __atomic_load_n(&w->f->stop, __ATOMIC_RELAXED))
			return false;
		usleep(1000);
	}
}

#define CHURN_RAM	0x4000

/* Which way edu_churn_dma() moves the bytes. */
enum edu_churn_dir { CHURN_FROM_RAM, CHURN_TO_RAM };

/* Start a DMA of @fd's: @cnt bytes between IOVA_STABLE and its buffer. */
static void edu_churn_dma(struct worker *w, int fd, u64 cnt,
			  enum edu_churn_dir dir)
{
	bool to_ram = dir == CHURN_TO_RAM;

	edu_dma_regs(w, fd, to_ram ? EDU_BUF : IOVA_STABLE,
		     to_ram ? IOVA_STABLE : EDU_BUF, cnt,
		     EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0), WIDTH_8);
}

/*
 * A user of instance @uuid: opens it, maybe reads its buffer back (it
 * must be zeros: fresh, or cleared by the last close), leaves a job
 * queued or running, maybe unmaps its RAM under it, and closes it, which
 * waits for that job only.
 */
static void edu_churn_use(struct worker *w, const char *uuid)
{
	u8 *ram = edu_mem(w, &w->churn_ram, CHURN_RAM);
	struct vslice_dev dev;
	struct timespec t0;
	long long ms;
	size_t at;
	int ret;
	u64 cmd;

	if (!ram)
		return;
	ret = vslice_dev_open(&dev, uuid);
	if (ret) {
		fuzz_fail(w, "opening %s: %d", uuid, ret);
		return;
	}
	ret = vslice_map_dma(&dev, ram, CHURN_RAM, IOVA_STABLE);
	if (ret) {
		fuzz_fail(w, "mapping %s's RAM: %d", uuid, ret);
		vslice_dev_close(&dev);
		return;
	}
	edu_cfg_set(w, dev.fd, PCI_COMMAND, 2, CMD_ON);
	switch (rnd(&w->r) % 4) {
	case 0:
		memset(ram, POISON, EDU_BUF_SIZE);
		edu_churn_dma(w, dev.fd, EDU_BUF_SIZE, CHURN_TO_RAM);
		if (!edu_wait_dma(w, dev.fd, &cmd)) {
			if (!__atomic_load_n(&w->f->stop, __ATOMIC_RELAXED))
				edu_find(w->f, w, FIND_DMA_END,
					 "%s: a DMA did not end in %d ms",
					 uuid, EDU_WAIT_MS);
		} else if (cmd & EDU_DMA_ERROR) {
			edu_find(w->f, w, FIND_DMA_END,
				 "%s: its buffer to RAM mapped all along failed (command %#llx)",
				 uuid, (unsigned long long)cmd);
		} else {
			at = first_not(ram, EDU_BUF_SIZE, 0);
			if (at < EDU_BUF_SIZE)
				edu_find(w->f, w, FIND_ZERO_BUF,
					 "%s: byte %zu of its buffer reads %#x",
					 uuid, at, ram[at]);
		}
		/* something there for the next user not to see */
		memset(ram, 0x3c, EDU_BUF_SIZE);
		edu_churn_dma(w, dev.fd, EDU_BUF_SIZE, CHURN_FROM_RAM);
		break;
	case 1:
		edu_set(w, dev.fd, EDU_FACT, 4, fact_arg(&w->r));
		break;
	case 2:
		edu_churn_dma(w, dev.fd, 1 + rnd(&w->r) % EDU_BUF_SIZE,
			      CHURN_FROM_RAM);
		break;
	}
	if (rnd(&w->r) % 2) {
		ret = vslice_unmap_dma(&dev, CHURN_RAM, IOVA_STABLE);
		if (ret)
			fuzz_fail(w, "unmapping %s's RAM: %d", uuid, ret);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	vslice_dev_close(&dev);
	ms = edu_ms_since(&t0);
	if (ms > EDU_CLOSE_MS)
		edu_find(w->f, w, FIND_CLOSE, "closing %s took %lld ms",
			 uuid, ms);
}

/* edu instances created, used, used again, removed. */
static void op_edu_churn(struct worker *w)
{
	static const char * const types[] = {
		EDU_TYPE, EDU_TYPE, EDU_TYPE, "vslice-4M", "nonsense",
	};
	const char *type = types[rnd(&w->r) % ARRAY_SIZE(types)];
	unsigned int i;
	int ret;

	if (w->nr_echurn &&
	    (w->nr_echurn == EDU_CHURN || rnd(&w->r) % 2)) {
		i = rnd(&w->r) % w->nr_echurn;
		if (rnd(&w->r) % 2) {
			edu_churn_use(w, w->echurn[i]);
			account(w, OP_EDU_CHURN, 0, "");
			return;
		}
		ret = vslice_remove(w->echurn[i]);
		errno = -ret;
		/* removing an instance nobody has open always works */
		account(w, OP_EDU_CHURN, ret, "removing");
		if (ret)
			fuzz_fail(w, "removing %s: %d", w->echurn[i], ret);
		memcpy(w->echurn[i], w->echurn[--w->nr_echurn],
		       VSLICE_UUID_LEN);
		return;
	}
	ret = vslice_create(w->f->edu->bdf, type, w->echurn[w->nr_echurn]);
	errno = -ret;
	account(w, OP_EDU_CHURN, ret, type);
	if (ret)
		return;
	if (rnd(&w->r) % 4)
		edu_churn_use(w, w->echurn[w->nr_echurn]);
	w->nr_echurn++;
}

/*
 * The scheduler's knobs: T's weight, cap and watchdog, D's watchdog
 * (D's thread waits for nothing, but a cap of 1% after a DMA would
 * keep it off the engine 20 s), valid and not; the parent's policy,
 * instance cap and types.  T's weight stays 50 or more: a stop drains
 * T's jobs in their fair turn, and at weight 1 each job of T's would
 * count a hundred times over, a stop then legitimately waiting seconds
 * behind D's jobs, past EDU_STOP_MS.
 */
static void op_edu_knob(struct worker *w)
{
	static const char * const knobs[] = { "weight", "cap", "watchdog_ms" };
	static const char * const vals[][8] = {
		{ "100", "50", "10000", "300", "0", "10001", "-5", "0x40" },
		{ "100", "100", "50", "10", "0", "101", "1e2", "" },
		{ "1000", "5", "20", "60000", "0", "60001", "4294967296", "ms" },
	};
	static const char * const policies[] = {
		"weighted", "equal", "best_effort", "weighted\n", "fair", "",
		" equal", "best_effort 1",
	};
	static const char * const maxes[] = {
		"0", "0", "16", "3", "17", "-1", "x", "99999999999",
	};
	static const char * const types[] = {
		"all", "all", "edu", "vslice-edu", "4M", "nonsense",
	};
	struct edu_fuzz *e = w->f->edu;
	char path[PATH_MAX];
	const char *attr, *val;
	unsigned int k, inst;
	int ret;

	switch (rnd(&w->r) % 8) {
	case 0:
		attr = "sched_policy";
		val = policies[rnd(&w->r) % ARRAY_SIZE(policies)];
		break;
	case 1:
		attr = "max_instances";
		val = maxes[rnd(&w->r) % ARRAY_SIZE(maxes)];
		break;
	case 2:
		attr = "types";
		val = types[rnd(&w->r) % ARRAY_SIZE(types)];
		break;
	default:
		inst = rnd(&w->r) % 4 ? EDU_T : EDU_D;
		k = inst == EDU_D ? 2 : rnd(&w->r) % 3;
		attr = knobs[k];
		val = vals[k][rnd(&w->r) % ARRAY_SIZE(vals[k])];
		snprintf(path, sizeof(path),
			 "/sys/bus/mdev/devices/%s/vslice/%s",
			 e->inst[inst].uuid, attr);
		ret = vslice_sysfs_write(path, val);
		errno = -ret;
		account(w, OP_EDU_KNOB, ret, attr);
		return;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vslice/%s",
		 e->bdf, attr);
	ret = vslice_sysfs_write(path, val);
	errno = -ret;
	account(w, OP_EDU_KNOB, ret, attr);
}

/* Where edu.c's state (struct vslice_edu_mig) has its fields, after config space. */
#define MIG_EDU_FACT	4
#define MIG_EDU_STATUS	8
#define MIG_EDU_IRQ	12
#define MIG_EDU_SRC	16
#define MIG_EDU_CMD	40

/*
 * The fields of an edu's stream: bits flipped before the state (header,
 * record head, under a bad CRC); edu's registers at the edges (under a
 * good one); header fields at the edges (under a good CRC or not).
 * Returns whether the CRC is to be made good.
 */
static bool edu_spoil_fields(struct worker *w, u8 *s)
{
	static const u64 status[] = {
		0, EDU_STATUS_COMPUTING, EDU_STATUS_IRQFACT, 0x81, 0x2, 0x100,
		~0ULL,
	};
	static const u64 cmds[] = { 0, 1, 2, 3, 4, 5, 7, 8, 0xf, 0x10, ~0ULL };
	static const unsigned int fields[] = {
		8, 12, MIG_HDR_BLOB, MIG_HDR_MEM, MIG_HDR_CHUNK, 84,
		MIG_HDR_SIZE, MIG_HDR_SIZE + 16,
	};
	const struct fuzz *f = w->f;
	size_t at = f->state_at + CFG_SIZE, n;
	unsigned int k;
	u64 v;

	switch (rnd(&w->r) % 3) {
	case 0:
		for (n = 1 + rnd(&w->r) % 8; n; n--)
			s[rnd(&w->r) % f->state_at] ^= 1 << (rnd(&w->r) % 8);
		return false;
	case 1:
		switch (rnd(&w->r) % 4) {
		case 0:
			v = status[rnd(&w->r) % ARRAY_SIZE(status)];
			memcpy(s + at + MIG_EDU_STATUS, &v, 4);
			break;
		case 1:
			v = cmds[rnd(&w->r) % ARRAY_SIZE(cmds)];
			memcpy(s + at + MIG_EDU_CMD, &v, 8);
			break;
		case 2:
			v = rnd(&w->r) % 2 ? edgy(&w->r, 2 * EDU_BUF) :
					     edu_ram_addr(&w->r, 64);
			memcpy(s + at + MIG_EDU_SRC + 8 * (rnd(&w->r) % 3),
			       &v, 8);
			break;
		default:
			v = rnd(&w->r);
			memcpy(s + at + (rnd(&w->r) % 2 ? MIG_EDU_IRQ : 0), &v, 4);
			break;
		}
		return true;
	default:
		k = rnd(&w->r) % ARRAY_SIZE(fields);
		v = edgy(&w->r, f->good_len);
		memcpy(s + fields[k], &v, k == 2 || k == 3 || k == 7 ? 8 : 4);
		return rnd(&w->r) % 2;
	}
}

/* A factorial a stream of @len bytes in @s starts stays short. */
static void edu_short_fact(const struct fuzz *f, u8 *s, size_t len)
{
	size_t at = f->state_at + CFG_SIZE + MIG_EDU_FACT;
	u32 fact;

	if (len < at + 4)
		return;
	memcpy(&fact, s + at, 4);
	fact %= FACT_MAX;
	memcpy(s + at, &fact, 4);
}

/*
 * A state change of T's took @ns: the longest is told; one past
 * EDU_STOP_MS is a finding: a stop waits for the jobs T had queued, which
 * run in T's turn (T's weight at least half D's: behind one job of each
 * other tenant's at most), and those T submits meanwhile must not keep
 * it waiting: well under a second of the engine.  T's weight then is
 * told too.
 */
static void edu_mig_took(struct worker *w, u32 state, u64 ns)
{
	struct edu_fuzz *e = w->f->edu;
	u64 max = __atomic_load_n(&e->mig_max_ns, __ATOMIC_RELAXED);
	char weight[32] = "?";

	while (ns > max &&
	       !__atomic_compare_exchange_n(&e->mig_max_ns, &max, ns, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	if (ns <= EDU_STOP_MS * 1000000ULL)
		return;
	vslice_inst_attr(e->inst[EDU_T].uuid, "weight", weight, sizeof(weight));
	edu_find(w->f, w, FIND_STOP,
		 "setting state %u took %llu ms (T's weight now %s)", state,
		 (unsigned long long)ns / 1000000, weight);
}

/* A worker's edu leftovers: instances, scratch mappings, memory. */
static void edu_worker_end(struct worker *w)
{
	struct edu_fuzz *e = w->f->edu;
	unsigned int k;

	while (w->nr_echurn) {
		k = --w->nr_echurn;
		if (vslice_remove(w->echurn[k]))
			fuzz_fail(w, "removing %s at the end", w->echurn[k]);
	}
	while (w->nr_scratch) {
		k = --w->nr_scratch;
		if (vslice_unmap_dma(&e->inst[w->scratch[k].inst].dev,
				     w->scratch[k].len, w->scratch[k].iova))
			fuzz_fail(w, "unmapping scratch at the end");
	}
	if (w->scratch_mem)
		munmap(w->scratch_mem, SCRATCH_LEN);
	if (w->churn_ram)
		munmap(w->churn_ram, CHURN_RAM);
}

/* ------------------------------------------------------------- runner */

static void run_op(struct worker *w, enum op_kind k)
{
	w->op_kind = k;
	__atomic_store_n(&w->op_t0, vslice_now_ns(), __ATOMIC_RELAXED);
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
	case OP_EDU_MIG:
		op_mig(w, k);
		break;
	case OP_CHURN:
		op_churn(w);
		break;
	case OP_EDU_MMIO:
		op_edu_mmio(w);
		break;
	case OP_EDU_FACT:
		op_edu_fact(w);
		break;
	case OP_EDU_DMA:
		op_edu_dma(w);
		break;
	case OP_EDU_IRQ:
		op_edu_irq(w);
		break;
	case OP_EDU_CFG:
		op_edu_cfg(w);
		break;
	case OP_EDU_TENANT:
		op_edu_tenant(w);
		break;
	case OP_EDU_RESET:
		op_edu_reset(w);
		break;
	case OP_EDU_KNOB:
		op_edu_knob(w);
		break;
	case OP_EDU_MAP:
		op_edu_map(w);
		break;
	default:
		op_edu_churn(w);
		break;
	}
	__atomic_store_n(&w->op_t0, 0, __ATOMIC_RELAXED);
}

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
		w->r.s = op_seed(f->seed, w->id, ++w->op);
		pick = rnd(&w->r) % sum;
		for (k = 0; pick >= wt[k]; k++)
			pick -= wt[k];
		run_op(w, k);
		if (f->deadline && vslice_now_ns() >= f->deadline)
			break;
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
	if (f->edu)
		edu_worker_end(w);
	__atomic_sub_fetch(&f->running, 1, __ATOMIC_RELAXED);
	return NULL;
}

/*
 * Start @nr workers on @f, each with its own buffers: all in @role_all if
 * there is only one, else in the @roles roles from @role0 in turn.
 * Returns 0, or -1 if one could not be started.
 */
static int start_workers(struct fuzz *f, struct worker *w, unsigned int nr,
			 unsigned int role0, unsigned int roles,
			 unsigned int role_all)
{
	unsigned int i;

	f->running = nr;
	for (i = 0; i < nr; i++) {
		w[i].f = f;
		w[i].id = i;
		w[i].role = nr == 1 ? role_all : role0 + i % roles;
		w[i].data_fd = -1;
		w[i].buf = calloc(1, BUF_SIZE);
		w[i].stream = malloc(f->good_len + STREAM_SLACK);
		if (!w[i].buf || !w[i].stream ||
		    pthread_create(&w[i].thread, NULL, worker_main, &w[i])) {
			/* the ones started stop at once and are joined */
			w[i].f = NULL;
			__atomic_sub_fetch(&f->running, nr - i, __ATOMIC_RELAXED);
			__atomic_store_n(&f->stop, 1, __ATOMIC_RELAXED);
			return -1;
		}
	}
	return 0;
}

/* Wait for @nr workers to end (each leaves nothing behind), free theirs. */
static void join_workers(struct worker *w, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		if (w[i].f)
			pthread_join(w[i].thread, NULL);
		free(w[i].buf);
		free(w[i].stream);
	}
	free(w);
}

/* Operations of kinds [@from, @to): tried, succeeded; each thread's count. */
static void log_op_counts(struct __test_metadata *_metadata,
			  const struct fuzz *f, const struct worker *w,
			  unsigned int nr, enum op_kind from, enum op_kind to)
{
	unsigned int k;

	for (k = from; k < to; k++)
		TH_LOG("%-14s %9llu tried, %9llu succeeded", op_names[k],
		       (unsigned long long)f->tried[k],
		       (unsigned long long)f->ok[k]);
	for (k = 0; k < nr; k++)
		TH_LOG("thread %u: %llu operations", k,
		       (unsigned long long)w[k].op);
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
	const char *bdf;		/* the bochs-display, if the test has it */
	struct vslice_dev tdev;
	struct neighbour n;
	struct fuzz *f;
	int kmsg;
	const char *edu_bdf;		/* the edu, if the test has it */
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

/* Each test sets up what it fuzzes: a bochs-display's, or an edu's. */
FIXTURE_SETUP(fuzz)
{
	self->kmsg = -1;
	vslice_dev_init(&self->tdev);
	vslice_dev_init(&self->n.dev);
	self->f = calloc(1, sizeof(*self->f));
	ASSERT_NE(NULL, self->f);
	pthread_mutex_init(&self->f->fail_lock, NULL);
}

/*
 * The bochs-display's: the target, the holders, the neighbour; false if
 * there is no bochs-display.
 */
static bool bochs_setup(struct __test_metadata *_metadata,
			struct _test_data_fuzz *self)
{
	struct fuzz *f = self->f;

	self->bdf = vslice_parent();
	if (!self->bdf)
		return false;
	ASSERT_EQ(0, vslice_remove_all(self->bdf));
	restore_policy(self->bdf);
	self->kmsg = vslice_kmsg_open();
	f->bdf = self->bdf;
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
	return true;
}

/* The edu parent's policy as a test finds it. */
static void restore_edu_policy(const char *bdf)
{
	restore_policy(bdf);	/* what it has of the bochs-display's */
	edu_set_policy(bdf, "weighted");
}

static void edu_teardown(struct __test_metadata *_metadata,
			 struct edu_fuzz *e)
{
	unsigned int i;

	EXPECT_EQ(0, edu_close(&e->fresh));
	for (i = 0; i < 2; i++) {
		/* closing the container drops the other mappings */
		EXPECT_EQ(0, edu_close(&e->inst[i]));
		if (e->rg[i].flip)
			munmap(e->rg[i].flip, FLIP_LEN);
		if (e->rg[i].border)
			munmap(e->rg[i].border, BORDER_LEN);
		if (e->rg[i].high)
			munmap(e->rg[i].high, HIGH_LEN);
	}
	for (i = 0; i < EDU_EFDS; i++)
		if (e->efd[i] >= 0)
			close(e->efd[i]);
	if (e->kmsg >= 0)
		close(e->kmsg);
	free(e);
}

FIXTURE_TEARDOWN(fuzz)
{
	struct fuzz *f = self->f;

	vslice_dev_close(&self->tdev);
	vslice_dev_close(&self->n.dev);
	if (f) {
		if (f->edu)
			edu_teardown(_metadata, f->edu);
		if (f->vram)
			munmap(f->vram, f->vram_len);
		free(f->good);
		free(f);
	}
	if (self->bdf) {
		restore_policy(self->bdf);
		EXPECT_EQ(0, vslice_remove_all(self->bdf));
	}
	if (self->edu_bdf) {
		restore_edu_policy(self->edu_bdf);
		EXPECT_EQ(0, vslice_remove_all(self->edu_bdf));
	}
	if (self->kmsg >= 0) {
		EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg));
		close(self->kmsg);
	}
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
	int started;

	if (!bochs_setup(_metadata, self))
		SKIP(return, "no bochs-display (1234:1111) in this machine");
	ASSERT_NE(NULL, w);
	ASSERT_LT(0, nr);
	f->seed = env_u64("VSLICE_FUZZ_SEED",
			  (u64)time(NULL) * 2654435761u ^ getpid());
	f->total = env_u64("VSLICE_FUZZ_OPS", DEFAULT_OPS);
	f->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, f->efd);
	TH_LOG("seed %llu, %llu operations, %u threads",
	       (unsigned long long)f->seed, (unsigned long long)f->total, nr);
	TH_LOG("replay: VSLICE_FUZZ_SEED=%llu (VSLICE_FUZZ_THREADS=1: one thread, exactly)",
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
	started = start_workers(f, w, nr, 0, ROLES, ROLE_ALL);
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
	restore_policy(self->bdf);
	log_op_counts(_metadata, f, w, nr, 0, OP_EDU_FIRST);
	join_workers(w, nr);
	ASSERT_EQ(0, started);
	TH_LOG("%llu streams resumed, %llu SIGBUS, %ld s",
	       (unsigned long long)f->resumed, (unsigned long long)f->sigbus,
	       (long)(time(NULL) - t0));
	ASSERT_EQ(0, f->fail_msg[0]) {
		TH_LOG("%s", f->fail_msg);
	}
	ASSERT_LE(f->total, f->next_op);

	/* every kind got past the front door sometimes, streams too */
	for (k = 0; k < OP_EDU_FIRST; k++) {
		ASSERT_LT(0, f->ok[k]) {
			TH_LOG("no %s succeeded", op_names[k]);
		}
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

/*
 * The edu's: T and D open, each with its RAM, flip, border and high
 * ranges mapped; eventfds; T's own stream.  False if there is no edu.
 */
static u8 *edu_range(struct __test_metadata *_metadata, struct edu *inst,
		     size_t len, u64 iova, u64 seed)
{
	u8 *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	vslice_fill(p, len, seed);
	ASSERT_EQ(0, vslice_map_dma(&inst->dev, p, len, iova));
	return p;
}

static bool edu_setup(struct __test_metadata *_metadata,
		      struct _test_data_fuzz *self)
{
	struct fuzz *f = self->f;
	struct edu_fuzz *e;
	unsigned int i;

	self->edu_bdf = vslice_edu_parent();
	if (!self->edu_bdf)
		return false;
	ASSERT_EQ(0, vslice_remove_all(self->edu_bdf));
	restore_edu_policy(self->edu_bdf);
	self->kmsg = vslice_kmsg_open();
	e = calloc(1, sizeof(*e));
	ASSERT_NE(NULL, e);
	f->edu = e;
	e->bdf = self->edu_bdf;
	e->kmsg = vslice_kmsg_open();
	for (i = 0; i < EDU_EFDS; i++)
		e->efd[i] = -1;
	vslice_dev_init(&e->fresh.dev);
	for (i = 0; i < 2; i++)
		vslice_dev_init(&e->inst[i].dev);
	for (i = 0; i < 2; i++) {
		edu_open_assert(e->bdf, &e->inst[i], IOVA_STABLE);
		vslice_fill(e->inst[i].ram, EDU_RAM_LEN, 0x5eed0 + i);
		e->rg[i].flip = edu_range(_metadata, &e->inst[i], FLIP_LEN,
					  IOVA_FLIP, 0x5eed2 + i);
		e->rg[i].flip_mapped = 1;
		e->rg[i].border = edu_range(_metadata, &e->inst[i], BORDER_LEN,
					    IOVA_BORDER, 0x5eed4 + i);
		e->rg[i].high = edu_range(_metadata, &e->inst[i], HIGH_LEN,
					  IOVA_HIGH, 0x5eed6 + i);
	}
	for (i = 0; i < EDU_EFDS; i++) {
		e->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ASSERT_LE(0, e->efd[i]);
	}
	/* T is the migration target, and its stream the hostile ones' base */
	f->fd = e->inst[EDU_T].fd;
	capture_stream(_metadata, f);
	return true;
}

/* D's last DMA and factorial, waited for (every thread stopped). */
static bool edu_d_settle(struct worker *w, struct edu_tenant *d)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		edu_d_poll(w, d);
		if (!d->dma_pending && !d->fact_pending)
			return true;
		if (edu_ms_since(&t0) > EDU_WAIT_MS)
			return false;
		usleep(1000);
	}
}

/*
 * A worker whose operation has run for EDU_HANG_S: the run stops and the
 * blocked tasks go to the console.  Returns its number + 1, or 0.
 */
static u64 edu_hung_worker(struct __test_metadata *_metadata, struct fuzz *f,
			   struct worker *w, unsigned int nr)
{
	u64 t = vslice_now_ns(), t1;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		t1 = __atomic_load_n(&w[i].op_t0, __ATOMIC_RELAXED);
		if (!t1 || t < t1 || t - t1 < EDU_HANG_S * 1000000000ULL)
			continue;
		fuzz_fail(&w[i], "one %s has taken %d s",
			  op_names[w[i].op_kind], EDU_HANG_S);
		vslice_sysfs_write("/proc/sysrq-trigger", "w");
		TH_LOG("%s; blocked tasks: the console", f->fail_msg);
		return i + 1;
	}
	return 0;
}

/*
 * Watch the edu workers until all are done: T's ID, the kernel log every
 * CHECK_SECS, and an operation stuck for EDU_HANG_S, which stops the run.
 * If it is still stuck EDU_HANG_S later, the test program exits there,
 * without its teardown, whose removals would block for ever on the
 * instance the stuck thread holds open: the only way this test leaves
 * instances behind, on a kernel that hangs.
 */
static void edu_watch(struct __test_metadata *_metadata, struct fuzz *f,
		      struct worker *w, unsigned int nr, int kmsg)
{
	struct edu_fuzz *e = f->edu;
	u64 hung = 0, give_up = 0;
	time_t t0 = time(NULL), last = t0;
	u32 id;

	while (__atomic_load_n(&f->running, __ATOMIC_RELAXED) > 0) {
		usleep(200 * 1000);
		id = 0;
		if (pread(e->inst[EDU_T].fd, &id, 4, EDU_BAR0(EDU_ID)) != 4 ||
		    id != EDU_ID_VALUE)
			edu_find(f, NULL, FIND_ID, "T's reads %#x (errno %d)",
				 id, errno);
		if (!hung) {
			hung = edu_hung_worker(_metadata, f, w, nr);
			give_up = vslice_now_ns() + EDU_HANG_S * 1000000000ULL;
		} else if (vslice_now_ns() > give_up) {
			TH_LOG("thread %llu still stuck: leaving, no teardown",
			       (unsigned long long)hung - 1);
			fflush(stdout);
			fflush(stderr);
			_exit(KSFT_FAIL);
		}
		if (time(NULL) - last < CHECK_SECS)
			continue;
		last = time(NULL);
		TH_LOG("%ld s: %d threads on", (long)(last - t0),
		       __atomic_load_n(&f->running, __ATOMIC_RELAXED));
		if (vslice_kmsg_bad_lines(kmsg))
			fuzz_fail(&w[0], "the kernel complained");
	}
}

/* What the run did: D's jobs, both instances' counters, the findings. */
static void edu_log_run(struct __test_metadata *_metadata,
			const struct fuzz *f)
{
	static const char * const counters[] = {
		"jobs", "dma_bytes", "ctx_switches", "watchdog_hits", "irqs",
	};
	const struct edu_fuzz *e = f->edu;
	const struct edu_tenant *d = &e->d;
	unsigned int i, k;

	TH_LOG("D: %llu DMAs done, %llu failed, %llu refused at once, %llu factorials",
	       (unsigned long long)d->dma_done,
	       (unsigned long long)d->dma_failed,
	       (unsigned long long)d->refused, (unsigned long long)d->facts);
	for (i = 0; i < 2; i++)
		for (k = 0; k < ARRAY_SIZE(counters); k++)
			TH_LOG("%c: %s %lld", i ? 'D' : 'T', counters[k],
			       vslice_inst_attr_ll(e->inst[i].uuid,
						   counters[k]));
	TH_LOG("%llu streams resumed, longest state change %llu ms",
	       (unsigned long long)f->resumed,
	       (unsigned long long)e->mig_max_ns / 1000000);
	for (k = 0; k < FIND_KINDS; k++)
		if (e->found[k])
			TH_LOG("BROKEN: %s: %llu times; first: %s",
			       find_names[k], (unsigned long long)e->found[k],
			       e->found_msg[k]);
}

/*
 * Every thread stopped: D's last jobs end, and D's buffer, read back by
 * one more DMA, is what D's own DMAs put there, whatever T's and the
 * other tenants' did meanwhile (a mismatch is a FIND_DMA_DATA finding).
 * False if D's jobs do not end.
 */
static bool edu_d_buffer_checked(struct worker *dw, struct edu_tenant *d)
{
	u64 got;

	if (!edu_d_settle(dw, d))
		return false;
	if (d->model_lost)
		return true;	/* a finding has said why already */
	got = edu_d_start(dw, d, EDU_BUF, IOVA_STABLE + SRC_LEN + 16,
			  EDU_BUF_SIZE, EDU_DMA_RUN | EDU_DMA_TO_RAM,
			  EXPECT_DONE);
	d->dma_pending = got & EDU_DMA_RUN;
	if (!d->dma_pending)
		edu_d_ended(dw, d, got);
	return edu_d_settle(dw, d);
}

/*
 * The engine serves a new tenant after the run: its buffer reads zeros,
 * a DMA round trip moves exactly its bytes, a factorial is right.
 */
static void edu_engine_serves(struct __test_metadata *_metadata,
			      struct edu_fuzz *e, u64 seed)
{
	struct edu *n = &e->fresh;
	u32 result;

	edu_open_assert(e->bdf, n, IOVA_STABLE);
	memset(n->ram, POISON, EDU_RAM_LEN);
	ASSERT_TRUE(edu_dma_ok(edu_from_buf(n->fd, 0, IOVA_STABLE,
					    EDU_BUF_SIZE, 0)));
	ASSERT_EQ(EDU_BUF_SIZE, first_not(n->ram, EDU_BUF_SIZE, 0));
	vslice_fill(n->ram + 0x1000, EDU_BUF_SIZE, seed);
	ASSERT_TRUE(edu_dma_ok(edu_to_buf(n->fd, IOVA_STABLE + 0x1000, 0,
					  EDU_BUF_SIZE, EDU_DMA_IRQ)));
	ASSERT_TRUE(edu_dma_ok(edu_from_buf(n->fd, 0, IOVA_STABLE + 0x8000,
					    EDU_BUF_SIZE, 0)));
	ASSERT_EQ(0, memcmp(n->ram + 0x1000, n->ram + 0x8000, EDU_BUF_SIZE));
	ASSERT_EQ(POISON, n->ram[0x8000 + EDU_BUF_SIZE]);
	ASSERT_TRUE(edu_fact(n->fd, 12, &result));
	ASSERT_EQ(479001600, result);
	ASSERT_EQ(0, edu_close(n));
}

TEST_F_TIMEOUT(fuzz, edu_concurrent_random_input_harms_nothing, 900)
{
	static const char * const engine_stuck = "the engine is stuck";
	unsigned int nr = env_u64("VSLICE_FUZZ_THREADS", EDU_ROLES), k;
	u64 secs = env_u64("VSLICE_FUZZ_EDU", EDU_SECS), found = 0;
	struct worker *w = calloc(nr, sizeof(*w));
	struct fuzz *f = self->f;
	time_t t0 = time(NULL);
	struct edu_tenant *d;
	struct edu_fuzz *e;
	int started, owner;
	bool checked;

	ASSERT_NE(NULL, w);
	ASSERT_LT(0, nr);
	if (!edu_setup(_metadata, self)) {
		free(w);
		SKIP(return, "no edu (1234:11e8) in this machine");
	}
	e = f->edu;
	d = &e->d;
	f->seed = env_u64("VSLICE_FUZZ_SEED",
			  (u64)time(NULL) * 2654435761u ^ getpid());
	f->total = ~0ULL;
	f->deadline = vslice_now_ns() + secs * 1000000000ULL;
	TH_LOG("seed %llu, %llu s, %u threads, T %s, D %s",
	       (unsigned long long)f->seed, (unsigned long long)secs, nr,
	       e->inst[EDU_T].uuid, e->inst[EDU_D].uuid);
	TH_LOG("replay: VSLICE_FUZZ_SEED=%llu: each thread's n-th operation",
	       (unsigned long long)f->seed);
	TH_LOG("        the same, the engine's timing aside");

	started = start_workers(f, w, nr, EDU_ROLE0, EDU_ROLES, EDU_ROLE_ALL);
	edu_watch(_metadata, f, w, nr, self->kmsg);
	log_op_counts(_metadata, f, w, nr, OP_EDU_FIRST, OP_KINDS);
	edu_log_run(_metadata, f);
	TH_LOG("%ld s", (long)(time(NULL) - t0));
	owner = d->owner;
	/* the threads are done; D's one, joined, still checks D's buffer */
	if (!owner || f->fail_msg[0] || started) {
		join_workers(w, nr);
		ASSERT_EQ(0, started);
		ASSERT_EQ(0, f->fail_msg[0]) {
			TH_LOG("%s", f->fail_msg);
		}
		ASSERT_NE(0, owner) TH_LOG("no thread drove D");
	}

	/* the knobs back, then D's buffer is what D put there */
	restore_edu_policy(e->bdf);
	for (k = 0; k < 2; k++) {
		ASSERT_EQ(0, edu_knob(&e->inst[k], "weight", "100"));
		ASSERT_EQ(0, edu_knob(&e->inst[k], "cap", "100"));
		ASSERT_EQ(0, edu_knob(&e->inst[k], "watchdog_ms", "1000"));
	}
	checked = edu_d_buffer_checked(&w[owner - 1], d);
	join_workers(w, nr);
	ASSERT_TRUE(checked) {
		TH_LOG("D's last DMA or factorial did not end in %d ms",
		       EDU_WAIT_MS);
	}
	ASSERT_EQ(0, f->fail_msg[0]) {
		TH_LOG("%s", f->fail_msg);
	}

	/* nothing left of the creating thread's instances: T and D only */
	EXPECT_EQ(2, vslice_inst_count(e->bdf));

	/* T still answers; the engine serves a new tenant */
	ASSERT_EQ(0, ioctl(e->inst[EDU_T].fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vslice_mig_get(e->inst[EDU_T].fd));
	ASSERT_EQ(EDU_ID_VALUE, edu_rd32(e->inst[EDU_T].fd, EDU_ID));
	ASSERT_EQ(EDU_CFG_ID, vslice_cfg_read(e->inst[EDU_T].fd, 0, 4));
	edu_engine_serves(_metadata, e, f->seed);

	/* the kernel's word, and the invariants' */
	EXPECT_EQ(0, vslice_kmsg_bad_lines(self->kmsg)) {
		TH_LOG("the kernel complained (seed %llu)",
		       (unsigned long long)f->seed);
	}
	EXPECT_EQ(0, vslice_kmsg_lines(e->kmsg, &engine_stuck, 1)) {
		TH_LOG("the engine got stuck (seed %llu)",
		       (unsigned long long)f->seed);
	}
	for (k = 0; k < FIND_KINDS; k++)
		found += e->found[k];
	EXPECT_EQ(0, found) {
		TH_LOG("seed %llu: invariants broken (BROKEN above)",
		       (unsigned long long)f->seed);
	}

	/*
	 * The run did what it is for: every kind of operation ran and got
	 * past the front door; D's model was checked against DMAs that
	 * completed, refusals and factorials; T's jobs reached the engine;
	 * hostile streams were resumed.
	 */
	for (k = OP_EDU_FIRST; k < OP_KINDS; k++) {
		EXPECT_LT(0, f->ok[k]) {
			TH_LOG("no %s succeeded", op_names[k]);
		}
	}
	EXPECT_LT(0, d->dma_done);
	EXPECT_LT(0, d->refused);
	EXPECT_LT(0, d->facts);
	EXPECT_LT(0, vslice_inst_attr_ll(e->inst[EDU_T].uuid, "jobs"));
	EXPECT_LT(0, f->resumed);
}

/* The edu's info ioctls leak nothing either. */
TEST_F(fuzz, edu_ioctls_leak_nothing)
{
	struct vfio_device_info dinfo = { .argsz = 512 };
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_region_info rinfo = { .argsz = 512 };
	struct vfio_irq_info iinfo = { .argsz = 512 };
	struct edu e = { 0 };
	u32 i;

	vslice_dev_init(&e.dev);
	self->edu_bdf = vslice_edu_parent();
	if (!self->edu_bdf)
		SKIP(return, "no edu (1234:11e8) in this machine");
	ASSERT_EQ(0, vslice_remove_all(self->edu_bdf));
	self->kmsg = vslice_kmsg_open();
	edu_open_assert(self->edu_bdf, &e, IOVA_STABLE);
	EXPECT_EQ(-1, leaked_byte(e.fd, VFIO_DEVICE_GET_INFO, &dinfo,
				  sizeof(dinfo.argsz), 512));
	ASSERT_EQ(0, ioctl(e.fd, VFIO_DEVICE_GET_INFO, &di));
	for (i = 0; i < di.num_regions; i++) {
		rinfo.index = i;
		EXPECT_EQ(-1, leaked_byte(e.fd, VFIO_DEVICE_GET_REGION_INFO,
					  &rinfo, offsetof(typeof(rinfo), cap_offset),
					  512)) {
			TH_LOG("region %u", i);
		}
	}
	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		iinfo.index = i;
		EXPECT_EQ(-1, leaked_byte(e.fd, VFIO_DEVICE_GET_IRQ_INFO, &iinfo,
					  offsetof(typeof(iinfo), count), 512)) {
			TH_LOG("interrupt %u", i);
		}
	}
	EXPECT_EQ(0, edu_close(&e));
}

TEST_HARNESS_MAIN
