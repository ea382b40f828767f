// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A blkfuse built without liburing: no FUSE over io_uring, said once by
 * transport=uring (transport.c).  Built instead of uring_io.c.
 */
#include <errno.h>

#include "serve/uring.h"


void *blk_uring_payload(void *ent, size_t *cap)
{
	(void)ent;
	*cap = 0;
	return NULL;
}

int blk_uring_reply(void *ent, uint64_t unique, int err, size_t len)
{
	(void)ent, (void)unique, (void)err, (void)len;
	return -ENOSYS;
}

int blk_uring_prepare(struct blk_ctx *ctx, int fuse_fd)
{
	(void)ctx, (void)fuse_fd;
	return -ENOSYS;
}

int blk_uring_start(void)
{
	return -ENOSYS;
}

void blk_uring_stop(void)
{
}

bool blk_uring_built(void)
{
	return false;
}

bool blk_uring_prepared(void)
{
	return false;
}

unsigned int blk_uring_queues(void)
{
	return 0;
}
