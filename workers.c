// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The worker threads.  Each reads raw requests from /dev/fuse with
 * libfuse's fuse_session_receive_buf().  READs of data files are answered
 * here by splice_io.c (libfuse 3.14 cannot say whether it spliced or why
 * not, and allocates a buffer per copied reply); INTERRUPTs are dropped
 * (reads are never worth cancelling); everything else goes to libfuse's
 * fuse_session_process_buf() and the ops in fs_ops.c.
 *
 * There is no lock on the read path: the tree is immutable, each worker
 * owns its pipe and copy buffer, and the counters are atomics.
 */
#include <errno.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blkfuse.h"

struct blk_worker {
	pthread_t thread;
	bool started;
	struct blk_ctx *ctx;
	struct fuse_buf fbuf;
	struct blk_io_thread io;
};

static struct blk_worker *workers;
static _Atomic bool told_main;

/* The first worker to see the connection end wakes main's sigwait(). */
static void tell_main_we_ended(void)
{
	if (!atomic_exchange(&told_main, true))
		kill(getpid(), SIGUSR1);
}

static bool try_read_fast(struct blk_worker *w, int fd,
			  const struct fuse_in_header *in, size_t len)
{
	const struct fuse_read_in *arg = (const void *)(in + 1);
	struct blk_node *node;

	if (len < sizeof(*in) + sizeof(*arg))
		return false;
	node = blk_tree_get(&w->ctx->tree, arg->fh);
	if (!node || node->kind != BLK_NODE_DATA || in->nodeid != arg->fh)
		return false;
	/* -d: libfuse logs the requests it sees; these it does not see */
	blk_debug("unique: %llu, opcode: READ (15), nodeid: %llu, offset %llu, size %u, pid: %u",
		  (unsigned long long)in->unique, (unsigned long long)in->nodeid,
		  (unsigned long long)arg->offset, arg->size, in->pid);
	blk_reply_read(w->ctx, &w->io, fd, in, node, arg->offset, arg->size);
	return true;
}

static void *worker_main(void *data)
{
	struct blk_worker *w = data;
	struct fuse_session *se = w->ctx->se;
	int fd = fuse_session_fd(se);
	int res;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	while (!fuse_session_exited(se)) {
		const struct fuse_in_header *in;

		/* Only the wait for a request may be cancelled (as libfuse). */
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		res = fuse_session_receive_buf(se, &w->fbuf);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		if (res == -EINTR || res == -EAGAIN)
			continue;
		if (res <= 0)
			break;

		in = w->fbuf.mem;
		if (in->opcode < BLK_OPS_MAX)
			atomic_fetch_add_explicit(&w->ctx->stats.ops[in->opcode],
						  1, memory_order_relaxed);
		if (in->opcode == FUSE_READ &&
		    try_read_fast(w, fd, in, (size_t)res))
			continue;
		if (in->opcode == FUSE_INTERRUPT)
			continue;
		fuse_session_process_buf(se, &w->fbuf);
	}
	atomic_fetch_sub(&w->ctx->stats.threads, 1);
	tell_main_we_ended();
	return NULL;
}

int blk_workers_start(struct blk_ctx *ctx)
{
	int err;

	workers = calloc(ctx->threads, sizeof(*workers));
	if (!workers)
		return -ENOMEM;
	for (unsigned int i = 0; i < ctx->threads; i++) {
		struct blk_worker *w = &workers[i];

		w->ctx = ctx;
		err = blk_io_thread_init(&w->io, ctx);
		if (err)
			return err;
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
	blk_throttle_release_all(ctx);
	for (unsigned int i = 0; i < ctx->threads; i++)
		if (workers[i].started)
			pthread_cancel(workers[i].thread);
	for (unsigned int i = 0; i < ctx->threads; i++) {
		struct blk_worker *w = &workers[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		free(w->fbuf.mem);
		if (w->ctx)	/* its io was initialised */
			blk_io_thread_fini(&w->io);
	}
	free(workers);
	workers = NULL;
}
