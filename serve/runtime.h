/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's footprint outside its mount (runtime.c): the mount point
 * checks, --pidfile, and the name under /run/blkfuse/ that 'blkfuse ctl
 * NAME' finds, whichever transport serves the control protocol.
 */
#ifndef BLK_RUNTIME_H
#define BLK_RUNTIME_H

#include <stddef.h>

struct blk_ctx;

#define BLK_RUN_DIR "/run/blkfuse"

/*
 * Where instances register: /run/blkfuse for root, else
 * $XDG_RUNTIME_DIR/blkfuse; "" when there is none (not root, no
 * XDG_RUNTIME_DIR).  The daemon and 'blkfuse ctl' agree on it.
 */
const char *blk_run_dir(void);

/*
 * mnt (absolute) must not hold a blkfuse mount already: 0, or -EBUSY
 * printed.  A mount point that is not empty is worth a warning, printed.
 */
int blk_mountpoint_check(const char *mnt);

/* --pidfile: 0 or -errno, printed.  Removed by blk_pidfile_remove. */
int blk_pidfile_write(const char *path);
void blk_pidfile_remove(const char *path);

/*
 * /run/blkfuse/NAME -> the control node or file: NAME from --name or the
 * source's file name, made safe and unique; its name into buf.  A failure
 * is a warning (the control protocol still works by path).
 */
void blk_registry_add(const char *want, const char *target, char *buf,
		      size_t len);
void blk_registry_remove(const char *name);

/*
 * "SOURCE: cannot start WHAT: reason", printed; out of descriptors, with
 * how many files the source's set holds and the limit (ulimit -n).
 */
void blk_start_failed(const struct blk_ctx *ctx, const char *what, int err);

/*
 * A split raw set holds a descriptor per segment (an FTK set of a 2 TB disk
 * is ~1400 files, each spliced from): the soft limit on open files goes up
 * to the hard one, at start.  blk_nofile_check: enough left to serve with
 * that many threads, else printed (naming the source) and -EMFILE.
 */
void blk_nofile_raise(void);
int blk_nofile_check(const char *source, unsigned int threads);

/* The files still open after a detach, one line each (logged). */
void blk_log_holders(struct blk_ctx *ctx);

#endif /* BLK_RUNTIME_H */
