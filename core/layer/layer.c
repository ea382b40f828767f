// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The layer interface (layer.h) and the two layers that only move bytes:
 * a slice of one layer and a concatenation of pieces of several.  Both map
 * wherever the layers under them map, so they cost nothing on the spliced
 * path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer/layer.h"

struct blk_layer *blk_layer_new(const struct blk_layer_ops *ops,
				struct blk_layer *below, uint64_t size,
				unsigned int sector_size, void *priv)
{
	struct blk_layer *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	*l = (struct blk_layer){ ops, below, size, sector_size, priv };
	return l;
}

void blk_layer_free(struct blk_layer *l)
{
	if (!l)
		return;
	if (l->ops->free_priv)
		l->ops->free_priv(l);
	free(l);
}

bool blk_layer_maps(const struct blk_layer *l)
{
	return l->ops->map != NULL;
}

int blk_layer_map(const struct blk_layer *l, uint64_t off,
		  struct blk_extent *e)
{
	if (!l->ops->map)
		return -EOPNOTSUPP;
	if (off >= l->size)
		return -EIO;
	return l->ops->map(l, off, e);
}

void blk_layer_willneed(const struct blk_layer *l, uint64_t off,
			uint64_t len)
{
	struct blk_extent e;

	if (off >= l->size)
		return;
	if (len > l->size - off)
		len = l->size - off;
	while (len && blk_layer_map(l, off, &e) == 0 && e.len) {
		uint64_t n = e.len < len ? e.len : len;

		posix_fadvise(e.fd, e.off, n, POSIX_FADV_WILLNEED);
		off += n;
		len -= n;
	}
}

int blk_layer_read(struct blk_layer *l, void *buf, size_t len, uint64_t off,
		   uint64_t *bad)
{
	*bad = off;
	if (off > l->size || len > l->size - off)
		return -EIO;
	return len ? l->ops->read(l, buf, len, off, bad) : 0;
}

void blk_layer_describe(const struct blk_layer *l, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (; l && used + 1 < len; l = l->below) {
		char one[128] = "";

		if (l->ops->describe)
			l->ops->describe(l, one, sizeof(one));
		else
			snprintf(one, sizeof(one), "%s", l->ops->kind);
		used += snprintf(buf + used, len - used, "%s%s",
				 used ? " < " : "", one);
	}
}

/* ---- slice --------------------------------------------------------------- */

static uint64_t slice_start(const struct blk_layer *l)
{
	return *(const uint64_t *)l->priv;
}

static int slice_read(struct blk_layer *l, void *buf, size_t len,
		      uint64_t off, uint64_t *bad)
{
	uint64_t start = slice_start(l);
	int err = blk_layer_read(l->below, buf, len, start + off, bad);

	if (err)
		*bad -= *bad >= start ? start : *bad;
	return err;
}

static int slice_map(const struct blk_layer *l, uint64_t off,
		     struct blk_extent *e)
{
	int err = blk_layer_map(l->below, slice_start(l) + off, e);

	if (!err && e->len > l->size - off)
		e->len = l->size - off;
	return err;
}

static void slice_describe(const struct blk_layer *l, char *buf, size_t len)
{
	snprintf(buf, len, "slice at byte %llu",
		 (unsigned long long)slice_start(l));
}

static void slice_free(struct blk_layer *l)
{
	free(l->priv);
}

static const struct blk_layer_ops slice_ops = {
	.kind = "slice", .read = slice_read, .map = slice_map,
	.describe = slice_describe, .free_priv = slice_free,
};
static const struct blk_layer_ops slice_decoded_ops = {
	.kind = "slice", .read = slice_read,
	.describe = slice_describe, .free_priv = slice_free,
};

struct blk_layer *blk_layer_slice(struct blk_layer *below, uint64_t start,
				  uint64_t size)
{
	uint64_t *p;
	struct blk_layer *l;

	if (start > below->size || size > below->size - start) {
		errno = ERANGE;
		return NULL;
	}
	p = malloc(sizeof(*p));
	if (!p)
		return NULL;
	*p = start;
	l = blk_layer_new(below->ops->map ? &slice_ops : &slice_decoded_ops,
			  below, size, below->sector_size, p);
	if (!l)
		free(p);
	return l;
}

/* ---- concatenation --------------------------------------------------------- */

struct concat {
	unsigned int n;
	uint64_t *at;			/* where piece i begins in the result */
	struct blk_layer_piece *pc;
};

/* The piece holding off (< size): binary search over at[]. */
static unsigned int concat_find(const struct concat *c, uint64_t off)
{
	unsigned int lo = 0, hi = c->n - 1;

	while (lo < hi) {
		unsigned int mid = (lo + hi + 1) / 2;

		if (c->at[mid] <= off)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static int concat_read(struct blk_layer *l, void *buf, size_t len,
		       uint64_t off, uint64_t *bad)
{
	const struct concat *c = l->priv;

	while (len) {
		unsigned int i = concat_find(c, off);
		uint64_t in = off - c->at[i], n = c->pc[i].len - in;
		int err;

		if (n > len)
			n = len;
		err = blk_layer_read(c->pc[i].layer, buf, n,
				     c->pc[i].start + in, bad);
		if (err) {
			*bad = off + (*bad - (c->pc[i].start + in));
			return err;
		}
		buf = (char *)buf + n, off += n, len -= n;
	}
	return 0;
}

static int concat_map(const struct blk_layer *l, uint64_t off,
		      struct blk_extent *e)
{
	const struct concat *c = l->priv;
	unsigned int i = concat_find(c, off);
	uint64_t in = off - c->at[i];
	int err = blk_layer_map(c->pc[i].layer, c->pc[i].start + in, e);

	if (!err && e->len > c->pc[i].len - in)
		e->len = c->pc[i].len - in;
	return err;
}

static void concat_describe(const struct blk_layer *l, char *buf, size_t len)
{
	const struct concat *c = l->priv;

	snprintf(buf, len, "concatenation of %u piece%s", c->n,
		 c->n == 1 ? "" : "s");
}

static void concat_free(struct blk_layer *l)
{
	struct concat *c = l->priv;

	free(c->at);
	free(c->pc);
	free(c);
}

static const struct blk_layer_ops concat_ops = {
	.kind = "concat", .read = concat_read, .map = concat_map,
	.describe = concat_describe, .free_priv = concat_free,
};
static const struct blk_layer_ops concat_decoded_ops = {
	.kind = "concat", .read = concat_read,
	.describe = concat_describe, .free_priv = concat_free,
};

struct blk_layer *blk_layer_concat(const struct blk_layer_piece *pieces,
				   unsigned int n, unsigned int sector_size)
{
	struct concat *c = calloc(1, sizeof(*c));
	bool maps = true;
	uint64_t size = 0;
	struct blk_layer *l = NULL;

	if (!n) {
		free(c);
		errno = EINVAL;
		return NULL;
	}
	if (c)
		c->at = calloc(n, sizeof(*c->at)),
		c->pc = calloc(n, sizeof(*c->pc));
	if (!c || !c->at || !c->pc)
		goto fail;
	for (unsigned int i = 0; i < n; i++) {
		const struct blk_layer_piece *p = &pieces[i];

		if (!p->len || p->start > p->layer->size ||
		    p->len > p->layer->size - p->start || size + p->len < size) {
			errno = ERANGE;
			goto fail;
		}
		c->at[i] = size;
		c->pc[i] = *p;
		size += p->len;
		maps = maps && p->layer->ops->map;
	}
	c->n = n;
	l = blk_layer_new(maps ? &concat_ops : &concat_decoded_ops,
			  pieces[0].layer, size, sector_size, c);
	if (l)
		return l;
fail:
	if (c) {
		free(c->at);
		free(c->pc);
	}
	free(c);
	return NULL;
}
