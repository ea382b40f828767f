/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control protocol over FUSE (ctl_fuse.c): the replies that the
 * control file (fs_ops.c) and the CUSE node (cuse_ctl.c) share.  on_mount
 * is true for the control file: its requests travel on the mount's own
 * connection, so they are not counted as waiting.
 */
#ifndef BLK_CTL_FUSE_H
#define BLK_CTL_FUSE_H

#include <fuse_lowlevel.h>
#include <stdbool.h>

struct blk_ctx;

void blk_ctl_reply_open(fuse_req_t req, struct blk_ctx *ctx,
			struct fuse_file_info *fi, bool on_mount);
void blk_ctl_reply_read(fuse_req_t req, struct fuse_file_info *fi,
			size_t size);
void blk_ctl_reply_write(fuse_req_t req, struct blk_ctx *ctx,
			 struct fuse_file_info *fi, const char *buf,
			 size_t size);
void blk_ctl_reply_ioctl(fuse_req_t req, struct blk_ctx *ctx,
			 struct fuse_file_info *fi,
			 unsigned int cmd, unsigned int flags,
			 const void *in_buf, size_t in_bufsz, size_t out_bufsz,
			 bool on_mount);
void blk_ctl_reply_release(fuse_req_t req, struct fuse_file_info *fi);

#endif /* BLK_CTL_FUSE_H */
