/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One interface for everything that turns bytes into bytes: the source
 * (a raw image, a device, or a container's decoded media), a partition, an
 * LVM logical volume, a decrypted LUKS or BitLocker volume.  A layer is a
 * readable range of size bytes with a sector size; it reads from the layer
 * below it (NULL for the source), so layers stack to any depth.
 *
 * The read path asks a layer one question: where does this byte lie,
 * unchanged, in a file?  map() answers with (fd, offset, length) when the
 * bytes can be spliced; a layer that decodes (decompresses, decrypts) has
 * no map() and answers reads through read() instead.  A slice of a mapping
 * layer maps too, so a partition of a split raw set, or a linear LV on a
 * raw image, stays zero-copy.
 */
#ifndef BLK_LAYER_H
#define BLK_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


struct blk_layer;

/* Bytes that lie unchanged in a file: len bytes at off of fd. */
struct blk_extent {
	int fd;
	uint64_t off;
	uint64_t len;
};

struct blk_layer_ops {
	const char *kind;	/* "source", "slice", "concat", "luks2", ... */
	/*
	 * len bytes at off (off + len <= size) into buf: 0, or -errno with
	 * *bad set to the offset, in this layer, where it failed.
	 */
	int (*read)(struct blk_layer *l, void *buf, size_t len, uint64_t off,
		    uint64_t *bad);
	/*
	 * Where off (< size) lies unchanged in a file: 0 with e->len > 0
	 * bytes there, or -errno.  NULL: this layer's bytes are decoded.
	 */
	int (*map)(const struct blk_layer *l, uint64_t off,
		   struct blk_extent *e);
	/* One line for --list and layout.json: "LVM2 linear, 2 segments". */
	void (*describe)(const struct blk_layer *l, char *buf, size_t len);
	/* Free priv (and whatever it owns but the layer below). */
	void (*free_priv)(struct blk_layer *l);
};

struct blk_layer {
	const struct blk_layer_ops *ops;
	struct blk_layer *below;	/* read from; NULL for the source */
	uint64_t size;			/* bytes */
	unsigned int sector_size;	/* 512, 4096, ... */
	void *priv;
};

/* A new layer of ops over below: NULL with errno ENOMEM. */
struct blk_layer *blk_layer_new(const struct blk_layer_ops *ops,
				struct blk_layer *below, uint64_t size,
				unsigned int sector_size, void *priv);
/* Free l (not the layers below it); NULL is ignored. */
void blk_layer_free(struct blk_layer *l);

/* Does every byte of l lie unchanged in some file (splice-able)? */
bool blk_layer_maps(const struct blk_layer *l);
/* ops->map, or -EOPNOTSUPP for a decoding layer; -EIO past the end. */
int blk_layer_map(const struct blk_layer *l, uint64_t off,
		  struct blk_extent *e);
/*
 * Ask the kernel to read [off, off + len) of l's files ahead (WILLNEED),
 * where l maps onto files; nothing for a decoding layer.
 */
void blk_layer_willneed(const struct blk_layer *l, uint64_t off,
			uint64_t len);
/*
 * Exactly len bytes at off into buf (clamped by the caller to size):
 * 0, or -errno with *bad the failing offset in l.
 */
int blk_layer_read(struct blk_layer *l, void *buf, size_t len, uint64_t off,
		   uint64_t *bad);
/* "slice of source" style chain, top first: "luks2 < slice < source". */
void blk_layer_describe(const struct blk_layer *l, char *buf, size_t len);

/* Bytes [start, start + size) of below (a partition, a linear segment). */
struct blk_layer *blk_layer_slice(struct blk_layer *below, uint64_t start,
				  uint64_t size);

/* A linear concatenation of pieces of layers (an LVM linear LV). */
struct blk_layer_piece {
	struct blk_layer *layer;	/* not owned */
	uint64_t start;			/* in layer */
	uint64_t len;			/* bytes of the result */
};
/* n pieces (copied); below is pieces[0].layer: NULL, errno. */
struct blk_layer *blk_layer_concat(const struct blk_layer_piece *pieces,
				   unsigned int n, unsigned int sector_size);

#endif /* BLK_LAYER_H */
