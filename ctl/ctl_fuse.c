// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control protocol's FUSE replies, the same for the control file and
 * the CUSE node: a snapshot per open, reads from its cursor, text writes,
 * the ioctls of blkfuse_ioctl.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/ctl_fuse.h"
#include "ctx.h"

static struct blk_ctl_handle *handle(const struct fuse_file_info *fi)
{
	return (struct blk_ctl_handle *)(uintptr_t)fi->fh;
}

static bool in_group(fuse_req_t req, gid_t gid)
{
	gid_t groups[64];
	int n = fuse_req_getgroups(req, 64, groups);

	for (int i = 0; i < n && i < 64; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * Whether the opener of the control file could write it under its mode
 * (--ctl-mode, owner and group the daemon's), as the kernel would judge:
 * the mount is read-only, so the kernel refuses every open for writing
 * and the daemon applies the write bits itself.  Root may always.
 */
static bool opener_may_write(fuse_req_t req, int mode)
{
	const struct fuse_ctx *fc = fuse_req_ctx(req);

	if (fc->uid == 0)
		return true;
	if (fc->uid == geteuid())
		return mode & 0200;
	if (fc->gid == getegid() || in_group(req, getegid()))
		return mode & 0020;
	return mode & 0002;
}

/*
 * open: a snapshot per open, no page cache (size 0), no position.  Who may
 * change anything is decided here, once: on the CUSE node an open for
 * writing (the kernel checked the node's mode), on the control file the
 * write bits of its mode; an open for reading may read, never set.
 */
void blk_ctl_reply_open(fuse_req_t req, struct blk_ctx *ctx,
			struct fuse_file_info *fi, bool on_mount)
{
	struct blk_ctl_handle *h = blk_ctl_open(ctx, on_mount);

	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	blk_ctl_set_may_write(h, on_mount ?
			      opener_may_write(req, ctx->ctl_mode) :
			      (fi->flags & O_ACCMODE) != O_RDONLY);
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
	size_t len = blk_ctl_read(handle(fi), size, &data);
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
			 struct fuse_file_info *fi, const char *buf,
			 size_t size)
{
	int err;

	if (!blk_ctl_may_write(handle(fi))) {
		fuse_reply_err(req, EACCES);
		return;
	}
	err = blk_ctl_write(ctx, buf, size);

	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_write(req, size);
	blk_ctl_after_reply(ctx);
}

/* The ioctls that change something: refused on an open that may not. */
static bool changes(unsigned int cmd)
{
	return cmd == BLKFUSE_IOC_SET_TUNABLES || cmd == BLKFUSE_IOC_SET_TEXT ||
	       cmd == BLKFUSE_IOC_RESET_STATS;
}

void blk_ctl_reply_ioctl(fuse_req_t req, struct blk_ctx *ctx,
			 struct fuse_file_info *fi,
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
	if (changes(cmd) && !blk_ctl_may_write(handle(fi))) {
		fuse_reply_err(req, EACCES);
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
	blk_ctl_release(handle(fi));
	fuse_reply_err(req, 0);
}
