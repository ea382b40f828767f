// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The READ path.  A reply is the 16-byte fuse_out_header followed by the
 * data, and the kernel wants it in one write to /dev/fuse.  We build it in
 * this worker's pipe: write() the header, splice() the byte range from the
 * source behind it (page-cache references, no copy), then splice() the
 * whole pipe into /dev/fuse.  The kernel copies once, into the reader's
 * pages; the data never passes through this process.
 *
 * The pipe must hold the whole reply: one slot for the header plus one per
 * page the range touches (an unaligned start touches one more).  A 1 MiB
 * READ therefore needs 258 slots, which rounds to a 2 MiB pipe, and
 * fs.pipe-max-size is 1 MiB by default; without CAP_SYS_RESOURCE the grow
 * fails.  blkfuse caps READs at max_reply (512 KiB by default) at INIT so
 * that the default configuration always fits; a reply that does not fit is
 * copied and counted as a "pipe_limit" fallback, never silently.
 *
 * Every READ is clamped to its file first: a short read must never reach
 * the kernel as a surprise, and no byte outside the file is ever returned.
 * SPLICE_F_MOVE is deliberately not used (see README).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "blkfuse.h"

#define PAGE 4096u

const char *blk_fallback_name(enum blk_fallback fb)
{
	static const char *const names[BLK_FB_NR] = {
		[BLK_FB_SPLICE_OFF] = "splice_off",
		[BLK_FB_SMALL] = "small",
		[BLK_FB_PIPE_LIMIT] = "pipe_limit",
		[BLK_FB_PIPE_ERROR] = "pipe_error",
		[BLK_FB_SOURCE] = "source",
		[BLK_FB_FUSE_WRITE] = "fuse_write",
	};

	return fb < BLK_FB_NR ? names[fb] : "?";
}

/* Pipe bytes a reply of len bytes at source offset pos occupies. */
static size_t pipe_need(uint64_t pos, size_t len)
{
	size_t pages = ((pos & (PAGE - 1)) + len + PAGE - 1) / PAGE;

	return (pages + 1) * PAGE;
}

static int pipe_open(struct blk_io_thread *t)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	t->pipe_rd = fds[0];
	t->pipe_wr = fds[1];
	t->pipe_bytes = fcntl(fds[1], F_GETPIPE_SZ);
	return 0;
}

static void pipe_close(struct blk_io_thread *t)
{
	if (t->pipe_rd >= 0)
		close(t->pipe_rd);
	if (t->pipe_wr >= 0)
		close(t->pipe_wr);
	t->pipe_rd = t->pipe_wr = -1;
	t->pipe_bytes = 0;
}

/* After a failed splice the pipe may hold stale bytes: start afresh. */
static void pipe_reset(struct blk_io_thread *t)
{
	pipe_close(t);
	t->pipe_wanted = 0;
	pipe_open(t);
}

/* Size the pipe for the tunable (or for max_reply when it is 0). */
static void pipe_tune(struct blk_io_thread *t, const struct blk_ctx *ctx)
{
	uint32_t want = atomic_load_explicit(&ctx->tun.pipe_size,
					     memory_order_relaxed);
	size_t bytes = want ? want : pipe_need(PAGE - 1, ctx->max_reply);
	int res;

	t->pipe_wanted = want ? want : UINT32_MAX;
	if (t->pipe_rd < 0 && pipe_open(t) < 0)
		return;
	res = fcntl(t->pipe_wr, F_SETPIPE_SZ, bytes);
	if (res < 0 && !want && ctx->pipe_max)
		res = fcntl(t->pipe_wr, F_SETPIPE_SZ, ctx->pipe_max);
	if (res > 0)
		t->pipe_bytes = res;
}

int blk_io_thread_init(struct blk_io_thread *t, const struct blk_ctx *ctx)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->pipe_rd = t->pipe_wr = -1;
	err = pipe_open(t);
	if (err)
		return err;
	pipe_tune(t, ctx);
	t->buf_min = ctx->max_reply;
	return 0;
}

void blk_io_thread_fini(struct blk_io_thread *t)
{
	pipe_close(t);
	free(t->buf);
	t->buf = NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void count_error(struct blk_ctx *ctx, int err)
{
	if (err > 0 && err < BLK_ERRNO_MAX)
		atomic_fetch_add_explicit(&ctx->stats.errors[err], 1,
					  memory_order_relaxed);
}

void blk_reply_error(struct blk_ctx *ctx, int fuse_fd, uint64_t unique,
		     int err)
{
	struct fuse_out_header out = {
		.len = sizeof(out), .error = -err, .unique = unique,
	};

	count_error(ctx, err);
	/* ENOENT: the request was interrupted or aborted; nothing to do. */
	if (write(fuse_fd, &out, sizeof(out)) < 0 && errno != ENOENT)
		blk_warn("error reply to request %llu refused: %s",
			 (unsigned long long)unique, strerror(errno));
}

/*
 * Bytes and requests of one reply, counted (sign 1) before the reply is
 * written: the write completes the reader's read(), and a reader that then
 * asks the control for the counters must find its reply in them.  A reply
 * the kernel refused is taken back out (sign -1).
 */
static void count_reply(struct blk_ctx *ctx, struct blk_node *node,
			size_t bytes, bool spliced, int sign)
{
	struct blk_stats *st = &ctx->stats;
	uint64_t b = sign > 0 ? bytes : -(uint64_t)bytes;
	uint64_t one = sign > 0 ? 1 : -(uint64_t)1;

	atomic_fetch_add_explicit(&st->read_bytes, b, memory_order_relaxed);
	atomic_fetch_add_explicit(spliced ? &st->spliced_bytes :
				  &st->copied_bytes, b, memory_order_relaxed);
	atomic_fetch_add_explicit(spliced ? &st->spliced_reqs :
				  &st->copied_reqs, one, memory_order_relaxed);
	atomic_fetch_add_explicit(&node->reads, one, memory_order_relaxed);
	atomic_fetch_add_explicit(&node->bytes, b, memory_order_relaxed);
}

/*
 * Splice path.  Returns true when the reply was sent; otherwise *why says
 * why the caller must copy instead (nothing has reached /dev/fuse then).
 */
static bool reply_splice(struct blk_ctx *ctx, struct blk_node *node,
			 struct blk_io_thread *t, int src_fd, int fuse_fd,
			 uint64_t unique, uint64_t pos, size_t len,
			 enum blk_fallback *why)
{
	struct fuse_out_header out = {
		.len = sizeof(out) + len, .unique = unique,
	};
	loff_t p = pos;
	size_t left = len;
	ssize_t n;

	if (t->pipe_rd < 0 && pipe_open(t) < 0) {
		*why = BLK_FB_PIPE_ERROR;
		return false;
	}
	if (pipe_need(pos, len) > t->pipe_bytes) {
		*why = BLK_FB_PIPE_LIMIT;
		return false;
	}
	if (write(t->pipe_wr, &out, sizeof(out)) != sizeof(out)) {
		pipe_reset(t);
		*why = BLK_FB_PIPE_ERROR;
		return false;
	}
	while (left) {
		/* NONBLOCK: should the pipe be full after all, fail, not hang. */
		n = splice(src_fd, &p, t->pipe_wr, NULL, left,
			   SPLICE_F_NONBLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* EOF (source shrank) or an error: pread will say. */
			pipe_reset(t);
			*why = BLK_FB_SOURCE;
			return false;
		}
		left -= n;
	}
	count_reply(ctx, node, len, true, 1);
	n = splice(t->pipe_rd, NULL, fuse_fd, NULL, out.len, 0);
	if (n == (ssize_t)out.len)
		return true;
	count_reply(ctx, node, len, true, -1);
	pipe_reset(t);
	/* The request is gone (interrupted or aborted): the copy fails too. */
	*why = BLK_FB_FUSE_WRITE;
	return false;
}

/*
 * --on-error=zero: read [pos, pos + len) sector by sector into buf, zeroing
 * the sectors that fail; each bad run is logged, counted and audited.
 */
static void read_zeroing(struct blk_ctx *ctx, const struct blk_node *node,
			 int src_fd, char *buf, uint64_t pos, size_t len)
{
	size_t ssz = ctx->src.sector_size, done = 0;
	uint64_t bad_start = 0, bad_len = 0;
	int bad_err = 0;
	char name[300];

	blk_node_path(&ctx->tree, node, name, sizeof(name));
	while (done < len) {
		size_t chunk = ssz - (pos + done) % ssz;
		ssize_t n;

		if (chunk > len - done)
			chunk = len - done;
		n = pread(src_fd, buf + done, chunk, pos + done);
		if (n == (ssize_t)chunk || (n >= 0 && n < (ssize_t)chunk &&
					     !memset(buf + done + n, 0, chunk - n))) {
			done += chunk;
		} else {
			if (!bad_len)
				bad_start = pos + done, bad_err = errno;
			bad_len += chunk;
			memset(buf + done, 0, chunk);
			done += chunk;
			if (done < len)
				continue;
		}
		if (bad_len && (done == len || n == (ssize_t)chunk)) {
			blk_warn("%s: %s at source offset %llu, %llu bytes: filled with zeros",
				 name, strerror(bad_err),
				 (unsigned long long)bad_start,
				 (unsigned long long)bad_len);
			atomic_fetch_add(&ctx->stats.zeroed_bytes, bad_len);
			blk_audit_io(ctx, NULL, "zeroed", name,
				     bad_start - node->start, bad_len, 0,
				     bad_err, 0, 0, 0);
			bad_len = 0;
		}
	}
}

/* Copy path: pread into this thread's buffer, writev header + data. */
static int reply_copy(struct blk_ctx *ctx, struct blk_node *node,
		      struct blk_io_thread *t, int src_fd, int fuse_fd,
		      uint64_t unique, uint64_t pos, size_t len,
		      size_t *sent)
{
	size_t want = len > t->buf_min ? len : t->buf_min;
	struct fuse_out_header out = { .unique = unique };
	struct iovec iov[2];
	size_t got = 0;
	ssize_t n;

	if (len > t->buf_size) {
		void *buf;

		/*
		 * Allocated on first use (a splicing worker never needs it) and
		 * kept: faulting a fresh buffer in per reply costs a page fault
		 * per 4 KiB, which is what makes libfuse's own copy path slow.
		 */
		if (posix_memalign(&buf, PAGE, want))
			return ENOMEM;
		memset(buf, 0, want);
		free(t->buf);
		t->buf = buf;
		t->buf_size = want;
	}
	while (got < len) {
		n = pread(src_fd, (char *)t->buf + got, len - got, pos + got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && ctx->on_error_zero) {
			read_zeroing(ctx, node, src_fd, (char *)t->buf + got,
				     pos + got, len - got);
			got = len;
			break;
		}
		if (n < 0)
			return errno;
		if (n == 0)
			break;	/* the source shrank: a short reply is the truth */
		got += n;
	}
	out.len = sizeof(out) + got;
	iov[0] = (struct iovec){ &out, sizeof(out) };
	iov[1] = (struct iovec){ t->buf, got };
	*sent = got;
	if (len)	/* a header-only reply (EOF) is neither */
		count_reply(ctx, node, got, false, 1);
	if (writev(fuse_fd, iov, 2) < 0 && errno != ENOENT) {
		/* Never seen; but a reply the kernel refused leaves the
		 * reader waiting forever, so answer with an error instead. */
		blk_warn("reply to request %llu refused: %s",
			 (unsigned long long)unique, strerror(errno));
		if (len)
			count_reply(ctx, node, got, false, -1);
		return EIO;
	}
	return 0;
}

/*
 * O_DIRECT wants offset and length aligned to the logical block size (of
 * the file system, for an image file): 4096 covers both here.  Anything
 * else is read through the buffered fd.
 */
static int pick_source_fd(struct blk_ctx *ctx, uint64_t pos, size_t len)
{
	const struct blk_source *src = &ctx->src;
	uint64_t mask = (src->sector_size > PAGE ? src->sector_size : PAGE) - 1;

	if (atomic_load_explicit(&ctx->tun.source_direct, memory_order_relaxed) &&
	    src->fd_direct >= 0 && !(pos & mask) && !(len & mask))
		return src->fd_direct;
	return src->fd;
}

/* The latency of a reply that went (its bytes were counted before). */
static void account(struct blk_ctx *ctx, uint64_t started)
{
	uint64_t us = (now_ns() - started) / 1000;
	unsigned int bucket = 0;

	while (bucket < BLK_LAT_BUCKETS - 1 && us >= (1ull << bucket))
		bucket++;
	atomic_fetch_add_explicit(&ctx->stats.lat[bucket], 1,
				  memory_order_relaxed);
}

void blk_reply_read(struct blk_ctx *ctx, struct blk_io_thread *t, int fuse_fd,
		    const struct fuse_in_header *in, struct blk_node *node,
		    uint64_t off, uint32_t size)
{
	uint64_t unique = in->unique;
	struct timespec arrived;

	if (ctx->audit)
		clock_gettime(CLOCK_REALTIME, &arrived);
	struct blk_stats *st = &ctx->stats;
	uint64_t started = now_ns(), pos = node->start + off;
	size_t len = 0, sent = 0;
	int64_t inflight;
	enum blk_fallback why;
	int src_fd, err = 0;

	inflight = atomic_fetch_add(&st->inflight, 1) + 1;
	for (int64_t peak = atomic_load(&st->inflight_peak); inflight > peak;)
		if (atomic_compare_exchange_weak(&st->inflight_peak, &peak,
						 inflight))
			break;

	if (off < node->size)
		len = node->size - off < size ? node->size - off : size;
	blk_throttle(ctx, len);
	src_fd = pick_source_fd(ctx, pos, len);

	if (t->pipe_wanted != (atomic_load_explicit(&ctx->tun.pipe_size,
						    memory_order_relaxed) ?:
			       UINT32_MAX))
		pipe_tune(t, ctx);

	if (len == 0) {
		/* At or past EOF: a header-only reply, neither spliced nor copied. */
		reply_copy(ctx, node, t, src_fd, fuse_fd, unique, pos, 0, &sent);
		atomic_fetch_add_explicit(&node->reads, 1, memory_order_relaxed);
		goto out;
	}
	if (!atomic_load_explicit(&ctx->tun.splice, memory_order_relaxed))
		why = BLK_FB_SPLICE_OFF;
	else if (len < BLK_SPLICE_MIN)
		why = BLK_FB_SMALL;
	else if (reply_splice(ctx, node, t, src_fd, fuse_fd, unique, pos, len,
			      &why)) {
		sent = len;
		account(ctx, started);
		goto out;
	}
	atomic_fetch_add_explicit(&st->fallback[why], 1, memory_order_relaxed);
	err = reply_copy(ctx, node, t, src_fd, fuse_fd, unique, pos, len, &sent);
	if (err) {
		blk_warn("%s: read of %zu bytes at source offset %llu: %s", node->name,
			  len, (unsigned long long)pos, strerror(err));
		blk_reply_error(ctx, fuse_fd, unique, err);
		goto out;
	}
	account(ctx, started);
out:
	atomic_fetch_sub(&st->inflight, 1);
	if (ctx->audit) {
		char name[300];

		blk_node_path(&ctx->tree, node, name, sizeof(name));
		blk_audit_io(ctx, &arrived, "read", name, off, size,
			     err ? -1 : (int64_t)sent, err, in->pid, in->uid,
			     in->gid);
	}
}
