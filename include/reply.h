/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where the reply to a READ goes.  The transport that took the request
 * chooses its sink: /dev/fuse (splice_io.c: splice or copy buffer) or
 * FUSE over io_uring (serve/uring_io.c: the entry's payload buffer, no
 * splice).  The read path (read/) speaks through the sink only, so it
 * knows no transport; a parked read carries its sink until it is sent.
 */
#ifndef BLK_REPLY_H
#define BLK_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"	/* enum blk_fallback */

struct blk_wire;
struct blk_wire_piece;
struct blk_sink;

struct blk_sink_ops {
	/* The pieces spliced behind one header: 0, or -EAGAIN with *why
	 * (nothing sent: copy instead).  NULL: this transport cannot. */
	int (*splice)(const struct blk_sink *s, struct blk_wire *w,
		      const struct blk_wire_piece *pc, unsigned int n,
		      uint64_t unique, enum blk_fallback *why);
	/* Where to put up to len bytes of data (*cap: room); NULL: ENOMEM. */
	void *(*buffer)(const struct blk_sink *s, struct blk_wire *w,
			size_t len, size_t *cap);
	/* Send the first len bytes of that buffer: 0 or -errno. */
	int (*send)(const struct blk_sink *s, struct blk_wire *w,
		    uint64_t unique, size_t len);
	/* An error reply (err > 0): 0 or -errno. */
	int (*error)(const struct blk_sink *s, uint64_t unique, int err);
};

struct blk_sink {
	const struct blk_sink_ops *ops;
	int fuse_fd;		/* /dev/fuse: the descriptor it came from */
	void *ent;		/* io_uring: its entry */
};

#endif /* BLK_REPLY_H */
