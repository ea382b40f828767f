// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control protocol's tunables, through either transport:
 *
 *   write  "key=value ..." sets tunables, all or nothing: one unknown key or
 *          bad value fails the whole write with EINVAL (see last_error);
 *   ioctl  the fixed-size structs of include/blkfuse_ioctl.h.
 *
 * The snapshot that read returns is ctl_stats.c's; the tunables that live
 * in the kernel are ctl_kernel.c's.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/ctl_parse.h"
#include "ctl/tunables.h"
#include "ctx.h"
#include "base/log.h"
#include "read/throttle.h"
#include "base/util.h"

int blk_ctl_new(struct blk_ctx *ctx)
{
	struct blk_ctl *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->handles_lock, NULL);
	snprintf(c->last_error, sizeof(c->last_error), "-");
	ctx->ctl = c;
	return 0;
}

void blk_ctl_free(struct blk_ctx *ctx)
{
	if (!ctx->ctl)
		return;
	while (ctx->ctl->handles)
		blk_ctl_release(ctx->ctl->handles);
	pthread_mutex_destroy(&ctx->ctl->handles_lock);
	pthread_mutex_destroy(&ctx->ctl->lock);
	free(ctx->ctl);
	ctx->ctl = NULL;
}

/* Called with the lock held; the kernel's values are 0 if unknown. */
static void get_tunables(struct blk_ctx *ctx, struct blkfuse_tunables *t)
{
	memset(t, 0, sizeof(*t));
	t->version = BLKFUSE_ABI_VERSION;
	t->size = sizeof(*t);
	t->splice = atomic_load(&ctx->tun.splice);
	t->pipe_size = atomic_load(&ctx->tun.pipe_size);
	t->max_reply = ctx->max_reply;
	t->source_io = atomic_load(&ctx->tun.source_direct) ?
		       BLKFUSE_IO_DIRECT : BLKFUSE_IO_BUFFERED;
	t->source_readahead_kb = atomic_load(&ctx->tun.source_ra_kb);
	t->rate_limit = blk_throttle_rate(ctx->throttle);
	t->pause = blk_throttle_paused(ctx->throttle);
	t->log_level = atomic_load(&blk_log_level);
	t->cache_mb = ctx->src.img ? atomic_load(&ctx->src.img->cache_mb) : 0;
	blk_ctl_get_kernel(ctx, t);
}

static int fail(struct blk_ctx *ctx, const char *fmt, const char *what)
{
	snprintf(ctx->ctl->last_error, sizeof(ctx->ctl->last_error), fmt, what);
	blk_notice("control: %s", ctx->ctl->last_error);
	return -EINVAL;
}

/* Every field named in set_mask checked against its row's range, before
 * anything changes. */
static int check_tunables(struct blk_ctx *ctx, const struct blkfuse_tunables *t)
{
	uint32_t m = t->set_mask;

	if (m & ~BLKFUSE_T_ALL)
		return fail(ctx, "%s", "unknown bits in set_mask");
	/* A container's files are read by its library or through segment
	 * descriptors of its own: saying "direct" would not be true. */
	if ((m & BLKFUSE_T_SOURCE_IO) && t->source_io == BLKFUSE_IO_DIRECT &&
	    ctx->src.img)
		return fail(ctx, "source_io=direct: not for a %s container (its files are read buffered)",
			    ctx->src.format);
	for (unsigned int i = 0; i < blk_ntunables; i++) {
		const struct blk_tunable *tn = &blk_tunables[i];
		char msg[160];

		if (!(m & tn->bit) ||
		    blk_tunable_in_range(tn, blk_tunable_get(tn, t)))
			continue;
		snprintf(msg, sizeof(msg), "%s must be %s", tn->key, tn->range);
		return fail(ctx, "%s", msg);
	}
	return 0;
}

/* Put back the kernel tunables set before a later one failed. */
static void undo_kernel(struct blk_ctx *ctx, uint32_t done,
			const struct blkfuse_tunables *old)
{
	if (done & BLKFUSE_T_READAHEAD_KB)
		blk_ctl_set_readahead(ctx, old->readahead_kb);
	if (done & BLKFUSE_T_MAX_BACKGROUND)
		blk_ctl_set_fusectl(ctx, "max_background", old->max_background);
}

/*
 * Those that can fail come first, so that a failure changes nothing of
 * ours; the kernel's are put back as they were when a later one fails
 * (what an O_DIRECT descriptor opened costs nothing to keep).
 */
static int set_fallible(struct blk_ctx *ctx, const struct blkfuse_tunables *t)
{
	uint32_t m = t->set_mask, done = 0;
	struct blkfuse_tunables old = { 0 };
	int err;

	if (m & BLKFUSE_T_SOURCE_IO && t->source_io == BLKFUSE_IO_DIRECT) {
		err = blk_source_open_direct(&ctx->src);
		if (err)
			return fail(ctx, "source_io=direct: %s", strerror(-err));
	}
	if ((m & (BLKFUSE_T_READAHEAD_KB | BLKFUSE_T_MAX_BACKGROUND)) &&
	    (err = blk_ctl_get_kernel(ctx, &old)) != 0)
		return fail(ctx, "readahead_kb, max_background: %s",
			    strerror(-err));
	if (m & BLKFUSE_T_READAHEAD_KB) {
		err = blk_ctl_set_readahead(ctx, t->readahead_kb);
		if (err)
			return fail(ctx, "readahead_kb: %s", strerror(-err));
		done |= BLKFUSE_T_READAHEAD_KB;
	}
	if (m & BLKFUSE_T_MAX_BACKGROUND) {
		err = blk_ctl_set_fusectl(ctx, "max_background",
					  t->max_background);
		if (err) {
			undo_kernel(ctx, done, &old);
			return fail(ctx, "max_background: %s", strerror(-err));
		}
		done |= BLKFUSE_T_MAX_BACKGROUND;
	}
	if (m & BLKFUSE_T_CONGESTION_THRESHOLD) {
		err = blk_ctl_set_fusectl(ctx, "congestion_threshold",
					  t->congestion_threshold);
		if (err) {
			undo_kernel(ctx, done, &old);
			return fail(ctx, "congestion_threshold: %s",
				    strerror(-err));
		}
	}
	return 0;
}

/* Apply t's fields named in set_mask; called with the lock held. */
static int set_tunables(struct blk_ctx *ctx, const struct blkfuse_tunables *t)
{
	uint32_t m = t->set_mask;
	int err = check_tunables(ctx, t);

	if (!err)
		err = set_fallible(ctx, t);
	if (err)
		return err;
	if (m & BLKFUSE_T_SOURCE_IO)
		atomic_store(&ctx->tun.source_direct,
			     t->source_io == BLKFUSE_IO_DIRECT);
	if (m & BLKFUSE_T_SPLICE)
		atomic_store(&ctx->tun.splice, t->splice);
	if (m & BLKFUSE_T_PIPE_SIZE)
		atomic_store(&ctx->tun.pipe_size, t->pipe_size);
	if (m & BLKFUSE_T_SOURCE_READAHEAD_KB)
		atomic_store(&ctx->tun.source_ra_kb, t->source_readahead_kb);
	if (m & BLKFUSE_T_RATE_LIMIT)
		blk_throttle_set_rate(ctx->throttle, t->rate_limit);
	if (m & BLKFUSE_T_LOG_LEVEL)
		atomic_store(&blk_log_level, t->log_level);
	if (m & BLKFUSE_T_PAUSE)
		blk_throttle_set_pause(ctx->throttle, t->pause);
	if ((m & BLKFUSE_T_CACHE_MB) && ctx->src.img)
		atomic_store(&ctx->src.img->cache_mb, t->cache_mb);
	snprintf(ctx->ctl->last_error, sizeof(ctx->ctl->last_error), "-");
	return 0;
}

/*
 * End the FUSE connection: readers get ENOTCONN, the daemon exits 0.  The
 * main thread does it (SIGUSR2), told only once this request's own reply
 * has gone out (blk_ctl_after_reply), so that the caller still gets it.
 */
static int do_abort(struct blk_ctx *ctx)
{
	blk_warn("control: abort requested; ending the connection");
	atomic_store(&ctx->aborted, true);
	atomic_store(&ctx->ctl->abort_pending, true);
	return 0;
}

void blk_ctl_after_reply(struct blk_ctx *ctx)
{
	if (atomic_exchange(&ctx->ctl->abort_pending, false))
		kill(getpid(), SIGUSR2);
}

int blk_ctl_write(struct blk_ctx *ctx, const char *buf, size_t len)
{
	struct blkfuse_tunables t;
	bool abort = false;
	char why[200];
	int err;

	pthread_mutex_lock(&ctx->ctl->lock);
	err = blk_ctl_parse_text(buf, len, &t, &abort, why, sizeof(why));
	if (err == -EINVAL)
		err = fail(ctx, "%s", why);
	if (!err && t.set_mask)
		err = set_tunables(ctx, &t);
	if (!err && abort)
		err = do_abort(ctx);
	pthread_mutex_unlock(&ctx->ctl->lock);
	return err;
}

/* ---- ioctl -------------------------------------------------------------- */

int blk_ctl_ioctl(struct blk_ctx *ctx, unsigned int cmd, const void *in,
		  size_t in_size, void *out, size_t *out_size, bool on_mount)
{
	const struct blkfuse_tunables *t = in;
	const struct blkfuse_set_text *st = in;
	int err;

	*out_size = 0;
	switch (cmd) {
	case BLKFUSE_IOC_GET_STATS:
		blk_ctl_get_stats(ctx, out, on_mount);
		*out_size = sizeof(struct blkfuse_stats);
		return 0;
	case BLKFUSE_IOC_GET_TUNABLES:
		pthread_mutex_lock(&ctx->ctl->lock);
		get_tunables(ctx, out);
		pthread_mutex_unlock(&ctx->ctl->lock);
		*out_size = sizeof(struct blkfuse_tunables);
		return 0;
	case BLKFUSE_IOC_SET_TUNABLES:
		if (in_size < sizeof(*t) || t->version != BLKFUSE_ABI_VERSION ||
		    t->size != sizeof(*t))
			return -EINVAL;
		pthread_mutex_lock(&ctx->ctl->lock);
		err = set_tunables(ctx, t);
		pthread_mutex_unlock(&ctx->ctl->lock);
		return err;
	case BLKFUSE_IOC_RESET_STATS:
		blk_ctl_reset_stats(ctx);
		return 0;
	case BLKFUSE_IOC_SET_TEXT:
		if (in_size < sizeof(*st))
			return -EINVAL;
		return blk_ctl_write(ctx, st->text,
				     strnlen(st->text, sizeof(st->text)));
	}
	return -ENOTTY;
}

/* For the snapshot: the tunables and the last error, consistent. */
void blk_ctl_snapshot_tunables(struct blk_ctx *ctx, struct blkfuse_tunables *t,
			       char *last_error, size_t len)
{
	pthread_mutex_lock(&ctx->ctl->lock);
	get_tunables(ctx, t);
	snprintf(last_error, len, "%s", ctx->ctl->last_error);
	pthread_mutex_unlock(&ctx->ctl->lock);
}
