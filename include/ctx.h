/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's state.  blkfuse.c creates it and tears it down; after the
 * mount it is read-only but for the atomics and the modules' own state,
 * each behind its module's functions: throttle (pause, rate_limit and its
 * lock), ctl (the control protocol's lock and last error), audit, cuse.
 */
#ifndef BLK_CTX_H
#define BLK_CTX_H

#include <stdbool.h>
#include <stdint.h>

#include "volume/layout.h"
#include "source/source.h"
#include "stats.h"
#include "tree.h"

struct fuse_session;
struct fuse_conn_info_opts;
struct blk_throttle;
struct blk_ctl;
struct blk_audit;
struct blk_cuse;
struct blk_opens;
struct blk_fs_files;

enum blk_verify_after_state {
	BLK_VA_OFF, BLK_VA_PENDING, BLK_VA_RUNNING, BLK_VA_DONE,
};
struct blk_ra;

#define BLK_RA_KEEP UINT32_MAX	/* the kernel's readahead is left alone */

struct blk_ctx {
	struct blk_source src;
	struct blk_layout layout;
	struct blk_tree tree;
	struct blk_stats stats;
	struct blk_tunables tun;
	struct fuse_session *se;
	struct fuse_conn_info_opts *conn_opts;
	uint32_t max_reply;		/* largest READ the kernel may send */
	uint32_t pipe_max;		/* /proc/sys/fs/pipe-max-size at start */
	unsigned int threads;
	bool clone_fd;			/* a /dev/fuse clone per worker */
	uint32_t mount_ra_kb;		/* readahead_kb at INIT, or BLK_RA_KEEP */
	bool mount_ra_typed;		/* typed: a failure to set it is said */
	int transport;			/* enum blk_transport asked for */
	_Atomic bool on_ring;		/* requests come through io_uring */
	_Atomic unsigned int uring_queues;	/* its queues, 0 on /dev/fuse */
	char *mountpoint;		/* absolute */
	bool on_error_zero;		/* --on-error=zero */
	char ctl_name[64];		/* CUSE device name, "" without CUSE */
	int ctl_mode;			/* --ctl-mode: CUSE node or control file */
	bool ctl_file;			/* the control file serves the protocol */
	char reg_name[64];		/* /run/blkfuse/NAME, "" if none */
	_Atomic bool aborted;		/* abort requested through the control */
	_Atomic bool detached;		/* SIGTERM with files open: lazily unmounted */
	struct blk_opens *opens;
	/* --verify-after, for the snapshot: state, bytes hashed, result */
	_Atomic int verify_after;	/* enum blk_verify_after_state */
	_Atomic(uint64_t) verify_after_done;
	char verify_after_result[160];	/* set before the state says done */	/* opens.c: open files and their openers */
	struct blk_throttle *throttle;	/* throttle.c */
	struct blk_ctl *ctl;		/* ctl.c */
	struct blk_audit *audit;	/* audit.c, NULL without --audit */
	struct blk_cuse *cuse;		/* cuse_ctl.c, NULL without CUSE */
	struct blk_ra *ra;		/* readahead.c: a stream per node */
	/* secrets for encrypted volumes (volume/crypt.h): loaded before the
	 * layout is probed, wiped and freed before the mount serves */
	struct blk_keyring *keys;
	struct blk_fs_files *fs;	/* fs_files.c: fs/, NULL without */
};

#endif /* BLK_CTX_H */
