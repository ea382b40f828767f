/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the daemon counts and what the control channel tunes without a
 * remount.  Plain atomics: the read path updates them without a lock, the
 * control protocol (ctl.c, ctl_stats.c) reads and writes them.
 */
#ifndef BLK_STATS_H
#define BLK_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Why a READ reply was copied instead of spliced. */
enum blk_fallback {
	BLK_FB_SPLICE_OFF,	/* splice=0: copied by choice */
	BLK_FB_SMALL,		/* under BLK_SPLICE_MIN: copying is cheaper */
	BLK_FB_PIPE_LIMIT,	/* the pipe cannot hold header + data */
	BLK_FB_PIPE_ERROR,	/* pipe creation or header write failed */
	BLK_FB_SOURCE,		/* splice from the source failed or was short */
	BLK_FB_FUSE_WRITE,	/* splice into /dev/fuse failed */
	BLK_FB_DECODE,		/* a container's media is decoded, not in a file */
	BLK_FB_SEGMENTS,	/* the read spans more segment files than fit */
	BLK_FB_NR
};

const char *blk_fallback_name(enum blk_fallback fb);

/* Below this a reply is copied: 3 syscalls of splice cost more than
 * copying two pages (libfuse draws the same line). */
#define BLK_SPLICE_MIN 8192

#define BLK_OPS_MAX 64
#define BLK_ERRNO_MAX 134
#define BLK_LAT_BUCKETS 32

struct blk_stats {
	uint64_t started_ns;			/* CLOCK_MONOTONIC */
	_Atomic uint64_t ops[BLK_OPS_MAX];	/* by FUSE opcode */
	_Atomic uint64_t read_bytes;
	_Atomic uint64_t spliced_bytes, spliced_reqs;
	_Atomic uint64_t copied_bytes, copied_reqs;
	_Atomic uint64_t fallback[BLK_FB_NR];
	_Atomic uint64_t errors[BLK_ERRNO_MAX];	/* replies by errno */
	_Atomic int64_t inflight;
	_Atomic int64_t inflight_peak;
	_Atomic uint64_t lat[BLK_LAT_BUCKETS];	/* bucket i: < 2^i us */
	_Atomic unsigned int threads;
	_Atomic uint64_t zeroed_bytes;		/* --on-error=zero fills */
	_Atomic uint64_t ra_bytes;		/* source readahead asked for */
	_Atomic uint64_t ra_hits;		/* READs inside an advised range */
};

/* Tunables of the read path; pause and rate_limit belong to throttle.c. */
struct blk_tunables {
	_Atomic bool splice;		/* off: pread + copy */
	_Atomic uint32_t pipe_size;	/* bytes per worker pipe; 0 = as needed */
	_Atomic bool source_direct;	/* read through the O_DIRECT fd */
	_Atomic uint32_t source_ra_kb;	/* source readahead window; 0 = off */
};

static inline void blk_count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline void blk_count_error(struct blk_stats *st, int err)
{
	if (err > 0 && err < BLK_ERRNO_MAX)
		blk_count(&st->errors[err], 1);
}

#endif /* BLK_STATS_H */
