// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The bottom layer: the source as the media it holds.  A raw image or a
 * device maps onto its own descriptor; a raw-in-file container (split raw,
 * flat VMDK, fixed VHD) maps onto its segment files; a decoding container
 * (EWF, AFF, QCOW2, ...) has no map and is read through its library.
 */
#include <errno.h>
#include <stdio.h>

#include "layer/layer.h"
#include "source/source.h"

static int source_read(struct blk_layer *l, void *buf, size_t len,
		       uint64_t off, uint64_t *bad)
{
	const struct blk_source *src = l->priv;

	while (len) {
		ssize_t n = blk_source_pread(src, buf, len, off, bad);

		if (n == -EINTR)
			continue;
		if (n < 0)
			return n;
		if (n == 0) {
			*bad = off;
			return -EIO;	/* it ends before its size: shrank */
		}
		buf = (char *)buf + n, off += n, len -= n;
	}
	return 0;
}

static int source_map(const struct blk_layer *l, uint64_t off,
		      struct blk_extent *e)
{
	const struct blk_source *src = l->priv;

	if (src->img)
		return src->img->ops->map(src->img, off, e);
	*e = (struct blk_extent){ src->fd, off, l->size - off };
	return 0;
}

static void source_describe(const struct blk_layer *l, char *buf, size_t len)
{
	const struct blk_source *src = l->priv;

	snprintf(buf, len, "%s source", src->format);
}

static const struct blk_layer_ops source_mapped_ops = {
	.kind = "source", .read = source_read, .map = source_map,
	.describe = source_describe,
};
static const struct blk_layer_ops source_decoded_ops = {
	.kind = "source", .read = source_read, .describe = source_describe,
};

struct blk_layer *blk_source_layer(struct blk_source *src)
{
	bool maps = !src->img || src->img->ops->map;

	return blk_layer_new(maps ? &source_mapped_ops : &source_decoded_ops,
			     NULL, src->size, src->sector_size, src);
}
