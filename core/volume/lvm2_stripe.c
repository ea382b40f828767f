// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A striped LV segment as a layer: chunk c of the segment lies on stripe
 * c % n, at row c / n of that stripe's area, as dm-stripe lays it out.
 * Every chunk lies unchanged in one place, so the layer maps (one chunk
 * at a time) wherever its legs map, and splices on a raw source.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer/layer.h"
#include "volume/lvm2.h"

struct stripe {
	unsigned int n;
	uint64_t chunk;
	struct lvm_leg leg[];
};

/* Where off lies: its leg, the offset in the leg, the bytes left in the chunk. */
static const struct lvm_leg *locate(const struct stripe *st, uint64_t off,
				    uint64_t *at, uint64_t *left)
{
	uint64_t c = off / st->chunk, in = off % st->chunk;
	const struct lvm_leg *leg = &st->leg[c % st->n];

	*at = leg->start + (c / st->n) * st->chunk + in;
	*left = st->chunk - in;
	return leg;
}

static int stripe_read(struct blk_layer *l, void *buf, size_t len,
		       uint64_t off, uint64_t *bad)
{
	const struct stripe *st = l->priv;

	while (len) {
		uint64_t at, left;
		const struct lvm_leg *leg = locate(st, off, &at, &left);
		size_t n = left < len ? left : len;
		int err = blk_layer_read(leg->layer, buf, n, at, bad);

		if (err) {
			*bad = off + (*bad - at);
			return err;
		}
		buf = (char *)buf + n, off += n, len -= n;
	}
	return 0;
}

static int stripe_map(const struct blk_layer *l, uint64_t off,
		      struct blk_extent *e)
{
	const struct stripe *st = l->priv;
	uint64_t at, left;
	const struct lvm_leg *leg = locate(st, off, &at, &left);
	int err = blk_layer_map(leg->layer, at, e);

	if (!err && e->len > left)
		e->len = left;
	return err;
}

static void stripe_describe(const struct blk_layer *l, char *buf, size_t len)
{
	const struct stripe *st = l->priv;

	snprintf(buf, len, "LVM2 striped, %u stripes of %llu bytes", st->n,
		 (unsigned long long)st->chunk);
}

static void stripe_free(struct blk_layer *l)
{
	free(l->priv);
}

static const struct blk_layer_ops stripe_ops = {
	.kind = "lvm2-stripe", .read = stripe_read, .map = stripe_map,
	.describe = stripe_describe, .free_priv = stripe_free,
};
static const struct blk_layer_ops stripe_decoded_ops = {
	.kind = "lvm2-stripe", .read = stripe_read,
	.describe = stripe_describe, .free_priv = stripe_free,
};

struct blk_layer *lvm_stripe_new(const struct lvm_leg *legs, unsigned int n,
				 uint64_t chunk, uint64_t size)
{
	struct stripe *st = calloc(1, sizeof(*st) + n * sizeof(st->leg[0]));
	bool maps = true;
	struct blk_layer *l;

	if (!st)
		return NULL;
	st->n = n;
	st->chunk = chunk;
	for (unsigned int i = 0; i < n; i++) {
		st->leg[i] = legs[i];
		maps = maps && legs[i].layer->ops->map;
	}
	l = blk_layer_new(maps ? &stripe_ops : &stripe_decoded_ops,
			  legs[0].layer, size, legs[0].layer->sector_size, st);
	if (!l)
		free(st);
	return l;
}
