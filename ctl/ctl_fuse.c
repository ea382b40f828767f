// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control protocol's FUSE replies, the same for the control file and
 * the CUSE node: a snapshot per open, reads from its cursor, text writes,
 * the ioctls of blkfuse_ioctl.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ctl/ctl_fuse.h"
#include "ctx.h"

/* open: a snapshot per open, no page cache (size 0), no position. */
void blk_ctl_reply_open(fuse_req_t req, struct blk_ctx *ctx,
			struct fuse_file_info *fi, bool on_mount)
{
	struct blk_ctl_handle *h = blk_ctl_open(ctx, on_mount);

	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	fi->nonseekable = 1;
	if (fuse_reply_open(req, fi) != 0)
		blk_ctl_release(h);	/* the opener is gone: no RELEASE comes */
}

/*
 * read: from the handle's cursor; the offset means nothing on CUSE.  The
 * reply goes out from a copy: once the kernel has it the reader may close,
 * and the RELEASE (on another worker) frees the handle while this writev()
 * is still returning.
 */
void blk_ctl_reply_read(fuse_req_t req, struct fuse_file_info *fi,
			size_t size)
{
	const char *data;
	size_t len = blk_ctl_read((struct blk_ctl_handle *)(uintptr_t)fi->fh,
				  size, &data);
	char *copy = len ? malloc(len) : NULL;

	if (len && !copy) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (len)
		memcpy(copy, data, len);
	fuse_reply_buf(req, copy, len);
	free(copy);
}

void blk_ctl_reply_write(fuse_req_t req, struct blk_ctx *ctx,
			 const char *buf, size_t size)
{
	int err = blk_ctl_write(ctx, buf, size);

	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_write(req, size);
	blk_ctl_after_reply(ctx);
}

void blk_ctl_reply_ioctl(fuse_req_t req, struct blk_ctx *ctx,
			 unsigned int cmd, unsigned int flags,
			 const void *in_buf, size_t in_bufsz, size_t out_bufsz,
			 bool on_mount)
{
	union {
		struct blkfuse_stats s;
		struct blkfuse_tunables t;
	} out;
	size_t out_size;
	int res;

	if (flags & FUSE_IOCTL_COMPAT) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	res = blk_ctl_ioctl(ctx, cmd, in_buf, in_bufsz, &out, &out_size,
			    on_mount);
	if (res < 0)
		fuse_reply_err(req, -res);
	else
		fuse_reply_ioctl(req, 0, out_size ? &out : NULL,
				 out_size < out_bufsz ? out_size : out_bufsz);
	blk_ctl_after_reply(ctx);
}

void blk_ctl_reply_release(fuse_req_t req, struct fuse_file_info *fi)
{
	blk_ctl_release((struct blk_ctl_handle *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}
