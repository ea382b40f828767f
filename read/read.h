/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A READ as the read path carries it (read_path.c) and the throttle parks
 * it (throttle.c): detached from the request buffer.  What it reads is a
 * data file of the tree (node), or a file inside a volume's file system
 * (fs: serve/fs_read.c found it), read through core/fs/.
 */
#ifndef BLK_READ_H
#define BLK_READ_H

#include <stdint.h>
#include <time.h>

#include "reply.h"

struct blk_node;
struct blk_fsvol;

/* A file inside a volume: its volume (owned by ctx->fs), its id there,
 * and the volume's path in the mount ("fs/p2", for messages and the
 * audit; it lives as long as the mount). */
struct blk_read_fs {
	struct blk_fsvol *v;
	uint64_t id;
	const char *path;
};

/* A READ detached from the request buffer, so that it can wait parked. */
struct blk_read {
	uint64_t unique;
	uint64_t ino;			/* the request's node id */
	struct blk_node *node;		/* a data file, or NULL: fs */
	struct blk_read_fs fs;		/* with node NULL */
	uint64_t off;			/* in the file */
	uint32_t size;			/* asked for */
	uint32_t len;			/* clamped to the file */
	uint32_t pid, uid, gid;
	struct blk_sink sink;		/* where the reply goes (reply.h) */
	uint64_t arrived_ns;		/* CLOCK_MONOTONIC, for latency */
	struct timespec arrived;	/* CLOCK_REALTIME, for the audit */
};

#endif /* BLK_READ_H */
