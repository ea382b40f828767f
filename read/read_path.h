/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The READ of a data file or of a file inside a volume's file system,
 * top to bottom (read_path.c):
 *   clamp to the file -> throttle (pause, rate_limit: may park it) ->
 *   send (splice, or copy) -> done (count, audit).
 */
#ifndef BLK_READ_PATH_H
#define BLK_READ_PATH_H

#include <stdint.h>
#include <time.h>

#include "read/read.h"
#include "wire.h"

struct blk_ctx;
struct blk_node;


/* From a worker: rq is the decoded READ for node. */
void blk_read_start(struct blk_ctx *ctx, struct blk_wire *w,
		    const struct blk_wire_req *req, struct blk_node *node);

/*
 * From a worker: rq is a READ of file fs.id inside volume fs.v (serve/
 * fs_read.c found it), size bytes long; err > 0 ends it with that error
 * (counted and audited like any read).
 */
void blk_read_start_fs(struct blk_ctx *ctx, struct blk_wire *w,
		       const struct blk_wire_req *req,
		       const struct blk_read_fs *fs, uint64_t size, int err);

/* Send a read that was admitted (now or after parking) and finish it. */
void blk_read_send(struct blk_ctx *ctx, struct blk_wire *w,
		   const struct blk_read *rd);
/* End a read with an error reply (err > 0) and finish it. */
void blk_read_fail(struct blk_ctx *ctx, const struct blk_read *rd, int err);
/* ctx->throttle, its parked reads released into this path: 0 or -errno. */
int blk_read_throttle_new(struct blk_ctx *ctx);

#endif /* BLK_READ_PATH_H */
