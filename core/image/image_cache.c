// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One cache of decoded blocks per container, shared by every reading
 * thread, so that workers reading neighbouring ranges share one decode
 * (an AFF page is 16 MiB: four workers each inflating it was 2.5-3x
 * slower than one, issue 22).  A block is the container's decode unit
 * (an EWF chunk, an AFF page), else 64 KiB.  A slot being decoded is
 * BUSY: another reader of that block waits for it instead of decoding it
 * again.  Slots are found by block number modulo their count.
 *
 * Decode-ahead: when reads follow each other (within STREAM_TOL), helper
 * threads, one per CPU, decode the next blocks into the cache, up to half
 * of it and at most AHEAD_MAX, so that one sequential reader gets every
 * core's decoding; a read elsewhere cancels what is queued.  Random
 * readers never start it.  Each helper reads through its own library
 * handle (image.c's per-thread handles).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/image.h"

#define DEFAULT_BLOCK (64u << 10)
#define AHEAD_MAX (8u << 20)
#define STREAM_TOL (4u << 20)
#define HELPERS_MAX 16

enum { DS_EMPTY, DS_BUSY, DS_READY };

struct dslot {
	uint64_t tag;		/* block + 1; 0: none */
	int state;
	unsigned int refs;	/* readers copying out of data */
	uint32_t len;
	char *data;
};

struct blk_dcache {
	pthread_mutex_t lock;
	pthread_cond_t changed;	/* a slot left DS_BUSY, or pins fell */
	pthread_cond_t work;	/* helpers: blocks queued, or stop */
	struct blk_image *im;
	uint64_t bsize, nblocks;
	unsigned int mb, nslot, shift;	/* nslot = 1 << shift, or 0 */
	unsigned int pins;	/* BUSY slots + refs: a resize waits for 0 */
	bool resizing, stop;
	struct dslot *slot;
	uint64_t next;		/* where the sequential stream goes on */
	unsigned int streak;
	uint64_t q_from, q_to;	/* blocks queued for the helpers */
	pthread_t thr[HELPERS_MAX];
	unsigned int nthr;
};

/* Consecutive blocks in consecutive slots: the blocks decoded ahead never
 * evict each other nor the reader's (a rotation per cache-sized window,
 * tried first, made 24 % of a sequential read's decodes twice).  Readers
 * a multiple of the cache apart share slots, but a slot being decoded or
 * copied from is never taken: the other reader decodes into its buffer. */
static struct dslot *slot_of(struct blk_dcache *dc, uint64_t b)
{
	return &dc->slot[b & (dc->nslot - 1)];
}

static void slots_free(struct blk_dcache *dc)
{
	for (unsigned int i = 0; i < dc->nslot; i++)
		free(dc->slot[i].data);
	free(dc->slot);
	dc->slot = NULL;
	dc->nslot = 0;
}

/* Slots for mb MiB (lock held, nothing pinned): 0 or -ENOMEM. */
static int slots_make(struct blk_dcache *dc, unsigned int mb)
{
	uint64_t want = (uint64_t)mb * BLK_DCACHE_SHARE * (1u << 20) / dc->bsize;
	unsigned int shift = 0;

	slots_free(dc);
	dc->mb = mb;
	dc->q_from = dc->q_to = 0;
	if (want < 2)
		want = mb ? 2 : 0;
	while (want && (2ull << shift) <= want)
		shift++;
	if (!want)
		return 0;
	dc->slot = calloc(1u << shift, sizeof(*dc->slot));
	if (!dc->slot)
		return -ENOMEM;
	dc->nslot = 1u << shift;
	dc->shift = shift;
	return 0;
}

/* The image's cache, made at its first use: NULL when out of memory. */
static struct blk_dcache *dc_get(struct blk_image *im)
{
	static pthread_mutex_t make_lock = PTHREAD_MUTEX_INITIALIZER;
	struct blk_dcache *dc = atomic_load(&im->dcache);

	if (dc)
		return dc;
	pthread_mutex_lock(&make_lock);
	dc = atomic_load(&im->dcache);
	if (!dc && (dc = calloc(1, sizeof(*dc)))) {
		pthread_mutex_init(&dc->lock, NULL);
		pthread_cond_init(&dc->changed, NULL);
		pthread_cond_init(&dc->work, NULL);
		dc->im = im;
		dc->bsize = im->unit >= 4096 ? im->unit : DEFAULT_BLOCK;
		dc->nblocks = (im->size + dc->bsize - 1) / dc->bsize;
		atomic_store(&im->dcache, dc);
	}
	pthread_mutex_unlock(&make_lock);
	return dc;
}

/* The cache sized for mb (lock held): waits until nothing is pinned. */
static int dc_fit(struct blk_dcache *dc, unsigned int mb)
{
	int err;

	if (dc->mb == mb && (dc->slot || !mb))
		return 0;
	if (dc->resizing)
		return -EAGAIN;		/* another thread is at it: bypass */
	dc->resizing = true;
	dc->q_from = dc->q_to = 0;
	while (dc->pins)
		pthread_cond_wait(&dc->changed, &dc->lock);
	err = slots_make(dc, mb);
	dc->resizing = false;
	return err;
}

/* Decode block b into its claimed slot s (lock not held). */
static int fill(struct blk_dcache *dc, struct dslot *s, uint64_t b,
		uint64_t *bad)
{
	uint64_t at = b * dc->bsize;

	if (!s->data && !(s->data = malloc(dc->bsize)))
		return -ENOMEM;
	s->len = dc->im->size - at < dc->bsize ? dc->im->size - at : dc->bsize;
	return blk_image_decode(dc->im, s->data, s->len, at, bad);
}

/* After fill (lock held): the slot READY, or emptied on failure. */
static void filled(struct blk_dcache *dc, struct dslot *s, int err)
{
	s->state = err ? DS_EMPTY : DS_READY;
	if (err)
		s->tag = 0;
	dc->pins--;
	pthread_cond_broadcast(&dc->changed);
}

/* The slot s free for block b (lock held)? */
static bool claimable(struct blk_dcache *dc, struct dslot *s)
{
	return !dc->resizing && s->state != DS_BUSY && !s->refs;
}

static void claim(struct blk_dcache *dc, struct dslot *s, uint64_t b)
{
	s->tag = b + 1;
	s->state = DS_BUSY;
	dc->pins++;
}

static void *helper(void *arg)
{
	struct blk_dcache *dc = arg;
	uint64_t bad;

	pthread_mutex_lock(&dc->lock);
	while (!dc->stop) {
		uint64_t b = dc->q_from;
		struct dslot *s;
		int err;

		if (b >= dc->q_to || !dc->nslot) {
			pthread_cond_wait(&dc->work, &dc->lock);
			continue;
		}
		dc->q_from++;
		s = slot_of(dc, b);
		if (s->tag == b + 1 || !claimable(dc, s))
			continue;
		claim(dc, s, b);
		pthread_mutex_unlock(&dc->lock);
		err = fill(dc, s, b, &bad);
		pthread_mutex_lock(&dc->lock);
		filled(dc, s, err);
	}
	pthread_mutex_unlock(&dc->lock);
	blk_image_thread_done();
	return NULL;
}

static void helpers_start(struct blk_dcache *dc)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > HELPERS_MAX)
		n = HELPERS_MAX;
	while (dc->nthr < n &&
	       !pthread_create(&dc->thr[dc->nthr], NULL, helper, dc))
		dc->nthr++;
}

/* Follow the stream (lock held): queue the blocks ahead of a sequential
 * reader, cancel the queue when a read lands elsewhere. */
static void stream(struct blk_dcache *dc, uint64_t off, size_t len)
{
	uint64_t end = off + len, depth = (uint64_t)dc->nslot * dc->bsize / 2;
	uint64_t from, to;

	if (off + STREAM_TOL >= dc->next && off <= dc->next + STREAM_TOL) {
		dc->streak++;
	} else {
		dc->streak = 0;
		dc->q_from = dc->q_to = 0;
	}
	if (!dc->streak || end > dc->next)
		dc->next = end;
	if (dc->streak < 2 || dc->resizing || !atomic_load(&dc->im->ahead))
		return;
	/* at most AHEAD_MAX, but two blocks when blocks are large (AFF
	 * pages): the next page then starts with this one, on another CPU */
	if (depth > AHEAD_MAX && depth > 2 * dc->bsize)
		depth = AHEAD_MAX > 2 * dc->bsize ? AHEAD_MAX : 2 * dc->bsize;
	from = dc->next / dc->bsize;
	/* rounded up: with 16 MiB AFF pages the next page starts while the
	 * reader is early in this one */
	to = (dc->next + depth + dc->bsize - 1) / dc->bsize;
	if (to > dc->nblocks)
		to = dc->nblocks;
	if (to <= dc->q_to || from >= to)
		return;
	if (dc->q_from < from || dc->q_from >= dc->q_to)
		dc->q_from = from;
	dc->q_to = to;
	if (!dc->nthr)
		helpers_start(dc);
	pthread_cond_broadcast(&dc->work);
}

/* Bytes [in, in + n) of block b into buf (lock held on entry and exit). */
static int block_read(struct blk_dcache *dc, uint64_t b, char *buf,
		      uint64_t in, size_t n, uint64_t *bad)
{
	struct blk_image *im = dc->im;
	bool hit = true;
	int err;

	for (;;) {
		struct dslot *s = slot_of(dc, b);

		if (s->tag == b + 1 && s->state == DS_READY) {
			atomic_fetch_add_explicit(hit ? &im->cache_hits :
						  &im->cache_misses, 1,
						  memory_order_relaxed);
			s->refs++, dc->pins++;
			pthread_mutex_unlock(&dc->lock);
			memcpy(buf, s->data + in, n);
			pthread_mutex_lock(&dc->lock);
			s->refs--, dc->pins--;
			if (!dc->pins)
				pthread_cond_broadcast(&dc->changed);
			return 0;
		}
		if (s->tag == b + 1 && s->state == DS_BUSY) {
			pthread_cond_wait(&dc->changed, &dc->lock);
			continue;
		}
		hit = false;
		if (!claimable(dc, s)) {	/* its slot holds another block */
			pthread_mutex_unlock(&dc->lock);
			err = blk_image_decode(im, buf, n, b * dc->bsize + in,
					       bad);
			pthread_mutex_lock(&dc->lock);
			return err;
		}
		claim(dc, s, b);
		pthread_mutex_unlock(&dc->lock);
		err = fill(dc, s, b, bad);
		pthread_mutex_lock(&dc->lock);
		filled(dc, s, err);
		if (err)
			break;
	}
	/* a bad chunk fails only the reads that need it, not its
	 * neighbours in the same block */
	if (err == -EIO) {
		pthread_mutex_unlock(&dc->lock);
		err = blk_image_decode(im, buf, n, b * dc->bsize + in, bad);
		pthread_mutex_lock(&dc->lock);
	}
	return err;
}

int blk_dcache_read(struct blk_image *im, unsigned int mb, char *buf,
		    size_t len, uint64_t off, uint64_t *bad)
{
	struct blk_dcache *dc = dc_get(im);
	int err;

	if (!dc)
		return blk_image_decode(im, buf, len, off, bad);
	pthread_mutex_lock(&dc->lock);
	err = dc_fit(dc, mb);
	if (err || !dc->nslot) {
		pthread_mutex_unlock(&dc->lock);
		return err == -ENOMEM ? err :
		       blk_image_decode(im, buf, len, off, bad);
	}
	stream(dc, off, len);
	while (len && !err) {
		uint64_t in = off % dc->bsize;
		size_t n = dc->bsize - in < len ? dc->bsize - in : len;

		err = block_read(dc, off / dc->bsize, buf, in, n, bad);
		buf += n, off += n, len -= n;
	}
	pthread_mutex_unlock(&dc->lock);
	return err;
}

void blk_dcache_free(struct blk_image *im)
{
	struct blk_dcache *dc = atomic_load(&im->dcache);

	if (!dc)
		return;
	pthread_mutex_lock(&dc->lock);
	dc->stop = true;
	pthread_cond_broadcast(&dc->work);
	pthread_mutex_unlock(&dc->lock);
	for (unsigned int i = 0; i < dc->nthr; i++)
		pthread_join(dc->thr[i], NULL);
	slots_free(dc);
	pthread_mutex_destroy(&dc->lock);
	pthread_cond_destroy(&dc->changed);
	pthread_cond_destroy(&dc->work);
	free(dc);
	atomic_store(&im->dcache, NULL);
}
