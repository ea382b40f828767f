/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The decoded-block cache shared by every reading thread of a decoding
 * container (image_cache.c), and what it needs from image.c.
 */
#ifndef BLK_IMAGE_CACHE_H
#define BLK_IMAGE_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct blk_image;

/* Workers the per-worker cache_mb is pooled for: the shared cache holds
 * BLK_DCACHE_SHARE * cache_mb MiB (the default max_threads is 4). */
#define BLK_DCACHE_SHARE 4

/* image.c: len decoded bytes at off through the calling thread's own
 * library handle, no cache: 0 or -errno, *bad set on failure. */
int blk_image_decode(struct blk_image *im, void *buf, size_t len,
		     uint64_t off, uint64_t *bad);

/* Decoded bytes [off, off + len) (within the media) through the shared
 * cache of mb * BLK_DCACHE_SHARE MiB, decoding ahead of a sequential
 * reader on helper threads: 0, or -errno with *bad set. */
int blk_dcache_read(struct blk_image *im, unsigned int mb, char *buf,
		    size_t len, uint64_t off, uint64_t *bad);
/* Stop the helpers and free the cache (the image is being closed). */
void blk_dcache_free(struct blk_image *im);

#endif /* BLK_IMAGE_CACHE_H */
