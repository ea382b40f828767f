/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The CUSE transport of the control protocol: /dev/blkfuse-NAME. */
#ifndef BLK_CUSE_CTL_H
#define BLK_CUSE_CTL_H

#include <stdbool.h>

struct blk_ctx;

bool blk_cuse_available(void);
/* Create /dev/ctx->ctl_name, served by a thread of its own: 0 or -errno. */
/* ctx->ctl_name: blkfuse-NAME from --name (name) or the source's file
 * name, unique in /dev. */
void blk_cuse_pick_name(struct blk_ctx *ctx, const char *name,
			const char *source);
int blk_cuse_start(struct blk_ctx *ctx);
void blk_cuse_stop(struct blk_ctx *ctx);

#endif /* BLK_CUSE_CTL_H */
