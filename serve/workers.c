// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The worker threads.  Each serves /dev/fuse through its own wire
 * (splice_io.c): READs of data files and of files inside volumes go down
 * the read path (read_path.c; fs_read.c finds the file inside),
 * INTERRUPTs to the throttle (only a parked read is worth ending), and
 * everything else to libfuse and the ops in fs_ops.c.
 */
#include <errno.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "base/log.h"
#include "read/read_path.h"
#include "read/throttle.h"
#include "wire.h"
#include "serve/fs_files.h"
#include "serve/workers.h"

struct blk_worker {
	pthread_t thread;
	bool started;
	struct blk_ctx *ctx;
	struct blk_wire wire;
};

static struct blk_worker *workers;
static _Atomic bool told_main;

/* The first worker to see the connection end wakes main's sigwait(). */
static void tell_main_we_ended(void)
{
	if (!atomic_exchange(&told_main, true))
		kill(getpid(), SIGUSR1);
}

static bool serve_fast(void *data, struct blk_wire *w,
		       const struct blk_wire_req *req)
{
	struct blk_ctx *ctx = data;
	struct blk_node *node;

	if (req->opcode < BLK_OPS_MAX)
		blk_count(&ctx->stats.ops[req->opcode], 1);
	if (req->opcode == FUSE_INTERRUPT) {
		blk_throttle_interrupt(ctx->throttle, req->intr_unique);
		return true;
	}
	if (req->opcode != FUSE_READ)
		return false;
	if (blk_fs_ino(req->nodeid)) {
		blk_fs_read_start(ctx, w, req);
		return true;
	}
	/* fi->fh is the open's record (opens.c); the inode says what it is */
	node = blk_tree_get(&ctx->tree, req->nodeid);
	if (!node || node->kind != BLK_NODE_DATA)
		return false;
	/* -d: libfuse logs the requests it sees; these it does not see */
	blk_debug("unique: %llu, opcode: READ (15), nodeid: %llu, offset %llu, size %u, pid: %u",
		  (unsigned long long)req->unique,
		  (unsigned long long)req->nodeid,
		  (unsigned long long)req->offset, req->size, req->pid);
	blk_read_start(ctx, w, req, node);
	return true;
}

static void *worker_main(void *data)
{
	struct blk_worker *w = data;
	int err = blk_wire_serve(w->ctx->se, &w->wire, serve_fast, w->ctx);

	/* an abort that was asked for ends the reads with ECONNABORTED */
	if (err && !(err == -ECONNABORTED && atomic_load(&w->ctx->aborted)))
		blk_err("reading /dev/fuse: %s", strerror(-err));
	atomic_fetch_sub(&w->ctx->stats.threads, 1);
	tell_main_we_ended();
	return NULL;
}

int blk_workers_start(struct blk_ctx *ctx)
{
	int fd = fuse_session_fd(ctx->se), err;

	workers = calloc(ctx->threads, sizeof(*workers));
	if (!workers)
		return -ENOMEM;
	for (unsigned int i = 0; i < ctx->threads; i++) {
		struct blk_worker *w = &workers[i];

		err = blk_wire_init(&w->wire, fd, ctx->max_reply,
				    atomic_load(&ctx->tun.pipe_size),
				    ctx->pipe_max);
		w->ctx = ctx;	/* its wire needs fini from here on */
		if (err)
			return err;
		/* the first keeps the session's descriptor (INIT comes there) */
		if (ctx->clone_fd && i > 0 && (err = blk_wire_clone(&w->wire)))
			blk_warn("worker %u: cannot clone /dev/fuse (%s): sharing it",
				 i, strerror(-err));
		/* Signals are handled by main's sigwait(), never here. */
		err = pthread_create(&w->thread, NULL, worker_main, w);
		if (err)
			return -err;
		w->started = true;
		atomic_fetch_add(&ctx->stats.threads, 1);
	}
	return 0;
}

void blk_workers_stop(struct blk_ctx *ctx)
{
	if (!workers)
		return;
	for (unsigned int i = 0; i < ctx->threads; i++)
		if (workers[i].started)
			pthread_cancel(workers[i].thread);
	for (unsigned int i = 0; i < ctx->threads; i++) {
		struct blk_worker *w = &workers[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		if (w->ctx)
			blk_wire_fini(&w->wire);
	}
	free(workers);
	workers = NULL;
}
