/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vslice tracepoints: the edu engine's jobs (mdev/engine.c), in
 * /sys/kernel/tracing/events/vslice/.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vslice

#if !defined(VSLICE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define VSLICE_TRACE_H

#include <linux/tracepoint.h>

#include "../vfio_core/compat.h"

/* __assign_str() lost its source argument in 6.10. */
#if VSLICE_KERNEL_AT_LEAST(6, 10)
#define vslice_assign_str(dst, src)	do { (void)(src); __assign_str(dst); } while (0)
#else
#define vslice_assign_str(dst, src)	__assign_str(dst, src)
#endif

DECLARE_EVENT_CLASS(vslice_engine_job,
		    TP_PROTO(const char *tenant, unsigned int kind, u64 arg),
		    TP_ARGS(tenant, kind, arg),
		    TP_STRUCT__entry(__string(tenant, tenant)
				     __field(unsigned int, kind)
				     __field(u64, arg)),
		    TP_fast_assign(vslice_assign_str(tenant, tenant);
				   __entry->kind = kind;
				   __entry->arg = arg;),
		    TP_printk("tenant=%s job=%s arg=%llu", __get_str(tenant),
			      __entry->kind ? "dma" : "fact", __entry->arg));

/* A tenant queued a job: @arg is a factorial's argument, a DMA's count. */
DEFINE_EVENT(vslice_engine_job, vslice_engine_submit,
	     TP_PROTO(const char *tenant, unsigned int kind, u64 arg),
	     TP_ARGS(tenant, kind, arg));

/* The engine started it, after @arg ns in the queue. */
DEFINE_EVENT(vslice_engine_job, vslice_engine_start,
	     TP_PROTO(const char *tenant, unsigned int kind, u64 arg),
	     TP_ARGS(tenant, kind, arg));

/* It ended, after @arg ns on the engine. */
DEFINE_EVENT(vslice_engine_job, vslice_engine_complete,
	     TP_PROTO(const char *tenant, unsigned int kind, u64 arg),
	     TP_ARGS(tenant, kind, arg));

/* The device buffer went from @from's (or nobody's) to @to's, in @ns. */
TRACE_EVENT(vslice_engine_ctx_switch,
	    TP_PROTO(const char *from, const char *to, u64 ns),
	    TP_ARGS(from, to, ns),
	    TP_STRUCT__entry(__string(from, from)
			     __string(to, to)
			     __field(u64, ns)),
	    TP_fast_assign(vslice_assign_str(from, from);
			   vslice_assign_str(to, to);
			   __entry->ns = ns;),
	    TP_printk("from=%s to=%s ns=%llu", __get_str(from),
		      __get_str(to), __entry->ns));

#endif /* VSLICE_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
