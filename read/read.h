/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A READ of a data file as the read path carries it (read_path.c) and the
 * throttle parks it (throttle.c): detached from the request buffer.
 */
#ifndef BLK_READ_H
#define BLK_READ_H

#include <stdint.h>
#include <time.h>

#include "reply.h"

struct blk_node;

/* A READ detached from the request buffer, so that it can wait parked. */
struct blk_read {
	uint64_t unique;
	struct blk_node *node;
	uint64_t off;			/* in the file */
	uint32_t size;			/* asked for */
	uint32_t len;			/* clamped to the file */
	uint32_t pid, uid, gid;
	struct blk_sink sink;		/* where the reply goes (reply.h) */
	uint64_t arrived_ns;		/* CLOCK_MONOTONIC, for latency */
	struct timespec arrived;	/* CLOCK_REALTIME, for the audit */
};

#endif /* BLK_READ_H */
