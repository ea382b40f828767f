/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control protocol, one module for both transports (the CUSE node in
 * cuse_ctl.c, MOUNTPOINT/.blkfuse-ctl in fs_ops.c):
 *   ctl.c         tunables: text "key=value" writes and the ioctls
 *   ctl_stats.c   the text snapshot and the stats ioctl
 *   ctl_kernel.c  what lives in the kernel: bdi readahead, fusectl, abort
 *   ctl_fuse.c    the FUSE replies both transports share
 */
#ifndef BLK_CTL_H
#define BLK_CTL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blkfuse_ioctl.h"

struct blk_ctx;

struct blk_ctl {
	pthread_mutex_t lock;		/* serialises tunable writes */
	char last_error[256];		/* under lock */
	char conn_dev[32];		/* MAJ:MIN of the mount, for sysfs */
	_Atomic bool abort_pending;	/* abort=1 written; reply not yet sent */
	/* open handles: an abort or unmount leaves some without RELEASE */
	pthread_mutex_t handles_lock;
	struct blk_ctl_handle *handles;
};

/* 0 or -ENOMEM. */
int blk_ctl_new(struct blk_ctx *ctx);
/* Frees the handles no RELEASE came for too. */
void blk_ctl_free(struct blk_ctx *ctx);
/* Once mounted: learn the connection's device, make fusectl readable. */
void blk_ctl_mounted(struct blk_ctx *ctx);

/* A text write "key=value ...": all or nothing; 0 or -errno. */
int blk_ctl_write(struct blk_ctx *ctx, const char *buf, size_t len);
/* After replying to a write or ioctl: carry out an abort it asked for. */
void blk_ctl_after_reply(struct blk_ctx *ctx);
/* The ioctls of blkfuse_ioctl.h; 0 or -errno, *out_size bytes in out. */
int blk_ctl_ioctl(struct blk_ctx *ctx, unsigned int cmd, const void *in,
		  size_t in_size, void *out, size_t *out_size, bool on_mount);

/* The tunables and the last error, consistent, for the snapshot. */
void blk_ctl_snapshot_tunables(struct blk_ctx *ctx, struct blkfuse_tunables *t,
			       char *last_error, size_t len);

/* ctl_stats.c: a snapshot per open; reading it moves its own cursor. */
struct blk_ctl_handle;
struct blk_ctl_handle *blk_ctl_open(struct blk_ctx *ctx, bool on_mount);
size_t blk_ctl_read(struct blk_ctl_handle *h, size_t size, const char **data);
void blk_ctl_release(struct blk_ctl_handle *h);
/* Whether this open may change anything (set, reset): decided at open. */
void blk_ctl_set_may_write(struct blk_ctl_handle *h, bool may_write);
bool blk_ctl_may_write(const struct blk_ctl_handle *h);
void blk_ctl_get_stats(struct blk_ctx *ctx, struct blkfuse_stats *s,
		       bool on_mount);
void blk_ctl_reset_stats(struct blk_ctx *ctx);

/* ctl_kernel.c */
int blk_ctl_get_kernel(struct blk_ctx *ctx, struct blkfuse_tunables *t);
int blk_ctl_set_readahead(struct blk_ctx *ctx, uint32_t kb);
int blk_ctl_set_fusectl(struct blk_ctx *ctx, const char *file, uint32_t val);
/* fusectl's "waiting": requests the daemon holds now; -errno if unknown. */
int64_t blk_ctl_waiting(struct blk_ctx *ctx);
/* End the FUSE connection now (fusectl abort): 0 or -errno. */
int blk_ctl_abort_now(struct blk_ctx *ctx);

#endif /* BLK_CTL_H */
