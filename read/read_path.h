/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The READ of a data file, top to bottom (read_path.c):
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

/* Send a read that was admitted (now or after parking) and finish it. */
void blk_read_send(struct blk_ctx *ctx, struct blk_wire *w,
		   const struct blk_read *rd);
/* End a read with an error reply (err > 0) and finish it. */
void blk_read_fail(struct blk_ctx *ctx, const struct blk_read *rd, int err);
/* ctx->throttle, its parked reads released into this path: 0 or -errno. */
int blk_read_throttle_new(struct blk_ctx *ctx);

#endif /* BLK_READ_PATH_H */
