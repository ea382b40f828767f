/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The CUSE transport of the control protocol: /dev/blkfuse-NAME. */
#ifndef BLK_CUSE_CTL_H
#define BLK_CUSE_CTL_H

#include <stdbool.h>

struct blk_ctx;

bool blk_cuse_available(void);
/* Create /dev/ctx->ctl_name, served by a thread of its own: 0 or -errno. */
int blk_cuse_start(struct blk_ctx *ctx);
void blk_cuse_stop(struct blk_ctx *ctx);

#endif /* BLK_CUSE_CTL_H */
