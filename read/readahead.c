// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Source-side readahead.  Four workers serving one sequential reader hand
 * the source's single struct file interleaved offsets, which defeats the
 * kernel's own readahead on it: a cold evidence image then reads at a
 * fraction of the disk's speed.  So blkfuse detects sequential streams
 * itself, one per data file, and keeps the source ahead of each with
 * POSIX_FADV_WILLNEED (which starts the reads and returns).  The window
 * starts at 128 KiB and doubles per sequential read up to
 * source_readahead_kb, like the kernel's; a read that is not near the
 * stream's position resets it, so random reads cost one lock and no I/O.
 * Statistics: ra_bytes (bytes asked for ahead), ra_hits (reads that fell
 * in an advised range).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>

#include "ctx.h"
#include "read/readahead.h"

#define RA_MIN (128u * 1024)

struct blk_ra_stream {
	pthread_mutex_t lock;
	uint64_t next;		/* where the stream continues (file offset) */
	uint64_t ra_start, ra_end;	/* advised: [ra_start, ra_end) */
	uint64_t window;	/* bytes to keep ahead */
};

struct blk_ra {
	size_t count;
	struct blk_ra_stream s[];
};

int blk_ra_new(struct blk_ctx *ctx)
{
	struct blk_ra *ra;

	ra = calloc(1, sizeof(*ra) + ctx->tree.count * sizeof(ra->s[0]));
	if (!ra)
		return -ENOMEM;
	ra->count = ctx->tree.count;
	for (size_t i = 0; i < ra->count; i++)
		pthread_mutex_init(&ra->s[i].lock, NULL);
	ctx->ra = ra;
	return 0;
}

void blk_ra_free(struct blk_ctx *ctx)
{
	struct blk_ra *ra = ctx->ra;

	if (!ra)
		return;
	for (size_t i = 0; i < ra->count; i++)
		pthread_mutex_destroy(&ra->s[i].lock);
	free(ra);
	ctx->ra = NULL;
}

/*
 * Is off part of the stream?  Workers may serve its READs a little out of
 * order, so "near where it continues" counts, not only "exactly there".
 */
static bool in_stream(const struct blk_ra_stream *s, uint64_t off,
		      uint64_t slack)
{
	return s->next && off + slack >= s->next && off <= s->next + slack;
}

/* Under the stream's lock: the range to advise now, if any. */
static bool plan(struct blk_ra_stream *s, const struct blk_node *node,
		 uint64_t off, uint32_t len, uint64_t max, uint64_t *from,
		 uint64_t *to)
{
	uint64_t end = off + len;

	if (!in_stream(s, off, s->window > RA_MIN ? s->window : RA_MIN)) {
		s->window = 0;
		s->ra_start = s->ra_end = 0;
		s->next = end;
		return false;
	}
	if (end > s->next)
		s->next = end;
	s->window = s->window ? s->window * 2 : RA_MIN;
	if (s->window > max)
		s->window = max;
	/* Top up when less than half a window is left ahead. */
	if (s->ra_end >= s->next + s->window / 2 || s->ra_end >= node->size)
		return false;
	*from = s->ra_end > s->next ? s->ra_end : s->next;
	*to = s->next + s->window;
	if (*to > node->size)
		*to = node->size;
	if (!s->ra_end || s->ra_end < s->next)
		s->ra_start = *from;
	s->ra_end = *to;
	return *to > *from;
}

void blk_ra_read(struct blk_ctx *ctx, const struct blk_node *node, int fd,
		 uint64_t off, uint32_t len)
{
	uint64_t max = (uint64_t)atomic_load_explicit(&ctx->tun.source_ra_kb,
						      memory_order_relaxed) << 10;
	struct blk_ra *ra = ctx->ra;
	struct blk_ra_stream *s;
	uint64_t from, to;
	bool advise, hit;

	if (!max || !ra || !len)
		return;
	s = &ra->s[node - ctx->tree.nodes];
	pthread_mutex_lock(&s->lock);
	hit = off >= s->ra_start && off + len <= s->ra_end;
	advise = plan(s, node, off, len, max, &from, &to);
	pthread_mutex_unlock(&s->lock);
	if (hit)
		blk_count(&ctx->stats.ra_hits, 1);
	if (advise && posix_fadvise(fd, node->start + from, to - from,
				    POSIX_FADV_WILLNEED) == 0)
		blk_count(&ctx->stats.ra_bytes, to - from);
}
