/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * blkfuse control ABI: the ioctls served by /dev/blkfuse-NAME (CUSE) and
 * by MOUNTPOINT/.blkfuse-ctl.  Fixed-size structs only: both transports
 * use restricted ioctls, where the kernel copies _IOC_SIZE(cmd) bytes.
 * A caller sets .version and .size; the daemon refuses what it does not
 * know with EINVAL.
 */
#ifndef BLKFUSE_IOCTL_H
#define BLKFUSE_IOCTL_H

#include <linux/ioctl.h>
#include <stdint.h>

#define BLKFUSE_ABI_VERSION 1

enum blkfuse_source_io { BLKFUSE_IO_BUFFERED = 0, BLKFUSE_IO_DIRECT = 1 };

/* Bits of blkfuse_tunables.set_mask: which fields SET_TUNABLES applies. */
enum blkfuse_tunable_bit {
	BLKFUSE_T_SPLICE = 1 << 0,
	BLKFUSE_T_PIPE_SIZE = 1 << 1,
	BLKFUSE_T_READAHEAD_KB = 1 << 2,
	BLKFUSE_T_SOURCE_IO = 1 << 3,
	BLKFUSE_T_RATE_LIMIT = 1 << 4,
	BLKFUSE_T_PAUSE = 1 << 5,
	BLKFUSE_T_LOG_LEVEL = 1 << 6,
	BLKFUSE_T_MAX_BACKGROUND = 1 << 7,
	BLKFUSE_T_CONGESTION_THRESHOLD = 1 << 8,
	BLKFUSE_T_SOURCE_READAHEAD_KB = 1 << 9,
	BLKFUSE_T_CACHE_MB = 1 << 10,
};
#define BLKFUSE_T_ALL 0x7ffu

struct blkfuse_tunables {
	uint32_t version;		/* BLKFUSE_ABI_VERSION */
	uint32_t size;			/* sizeof(struct blkfuse_tunables) */
	uint32_t set_mask;		/* SET only: enum blkfuse_tunable_bit */
	uint32_t splice;		/* 0 or 1 */
	uint32_t pipe_size;		/* bytes per worker pipe; 0 = as needed */
	uint32_t max_reply;		/* read-only: fixed at mount */
	uint32_t readahead_kb;		/* the mount's bdi read_ahead_kb */
	uint32_t source_io;		/* enum blkfuse_source_io */
	uint64_t rate_limit;		/* bytes/s over all readers; 0 = none */
	uint32_t pause;			/* 1: new reads wait */
	uint32_t log_level;		/* syslog level, 3 (err) .. 7 (debug) */
	uint32_t max_background;	/* fusectl */
	uint32_t congestion_threshold;	/* fusectl */
	uint32_t source_readahead_kb;	/* blkfuse's own, on the source; 0 = off */
	uint32_t cache_mb;		/* decode cache per worker (containers) */
	uint64_t reserved[3];
};

#define BLKFUSE_LAT_BUCKETS 32
#define BLKFUSE_FALLBACKS 8

struct blkfuse_stats {
	uint32_t version;
	uint32_t size;
	uint64_t uptime_ms;
	uint64_t read_bytes;		/* returned to readers */
	uint64_t spliced_bytes;
	uint64_t copied_bytes;
	uint64_t spliced_reqs;
	uint64_t copied_reqs;
	uint64_t fallback[BLKFUSE_FALLBACKS];	/* by reason, see text names */
	uint64_t req_read;
	uint64_t req_open;
	uint64_t req_lookup;
	uint64_t req_getattr;
	uint64_t req_total;
	uint64_t errors;		/* error replies to READs, all errnos */
	uint64_t errors_eio;
	int64_t inflight;
	int64_t inflight_peak;
	uint64_t lat_us[BLKFUSE_LAT_BUCKETS];	/* bucket i: < 2^i us */
	uint32_t threads;
	uint32_t waiting;		/* requests queued in the kernel */
	uint64_t ra_bytes;		/* source readahead asked for */
	uint64_t ra_hits;		/* READs inside an advised range */
	uint64_t decoded_bytes;		/* containers: bytes the library decoded */
	uint64_t cache_hits;		/* decode cache, 64 KiB blocks */
	uint64_t cache_misses;
	uint64_t reserved[3];
};

#define BLKFUSE_IOC_GET_STATS	 _IOR('B', 1, struct blkfuse_stats)
#define BLKFUSE_IOC_GET_TUNABLES _IOR('B', 2, struct blkfuse_tunables)
#define BLKFUSE_IOC_SET_TUNABLES _IOW('B', 3, struct blkfuse_tunables)
#define BLKFUSE_IOC_RESET_STATS	 _IO('B', 4)

/* The text form of a write ("key=value ..."), for the read-only mount's
 * control file, which cannot be opened for writing. */
struct blkfuse_set_text {
	char text[1024];		/* NUL-terminated */
};
#define BLKFUSE_IOC_SET_TEXT	 _IOW('B', 5, struct blkfuse_set_text)

_Static_assert(sizeof(struct blkfuse_tunables) == 88, "tunables ABI size");
_Static_assert(sizeof(struct blkfuse_stats) == 520, "stats ABI size");

#endif /* BLKFUSE_IOCTL_H */
