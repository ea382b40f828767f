/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The worker threads that serve /dev/fuse (workers.c). */
#ifndef BLK_WORKERS_H
#define BLK_WORKERS_H

struct blk_ctx;

/* Start ctx->threads workers: 0 or -errno (those started keep running). */
int blk_workers_start(struct blk_ctx *ctx);
/* Cancel and join them all; safe after a failed or no start. */
void blk_workers_stop(struct blk_ctx *ctx);

#endif /* BLK_WORKERS_H */
