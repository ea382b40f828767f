/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Source-side readahead (readahead.c): keep the source's page cache ahead
 * of each sequential stream, one per data file, whatever order the
 * workers happen to serve its READs in.
 */
#ifndef BLK_READAHEAD_H
#define BLK_READAHEAD_H

#include <stdint.h>

struct blk_ctx;
struct blk_node;

/* 0 or -ENOMEM: one stream per node of ctx->tree. */
int blk_ra_new(struct blk_ctx *ctx);
void blk_ra_free(struct blk_ctx *ctx);
/* A READ of [off, off + len) of node is about to be read from fd. */
void blk_ra_read(struct blk_ctx *ctx, const struct blk_node *node, int fd,
		 uint64_t off, uint32_t len);

#endif /* BLK_READAHEAD_H */
