/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A decrypting layer (crypt_layer.c): the plaintext of an encrypted volume
 * as a list of segments over the layer below, each either ciphertext at
 * some offset below (decrypted sector by sector) or zeros.  LUKS is one
 * segment; BitLocker relocates its first sectors and blanks its metadata.
 */
#ifndef BLK_CRYPT_LAYER_H
#define BLK_CRYPT_LAYER_H

#include <stdint.h>

struct blk_layer;
struct blk_sector_cipher;

struct blk_crypt_seg {
	uint64_t start, len;	/* in the plaintext, whole sectors */
	int zero;		/* reads as zeros: nothing below */
	uint64_t below;		/* where its ciphertext begins below */
	uint64_t iv512;		/* IV sector (512-byte units) of its first sector */
};

/*
 * A layer of size bytes over below, segments seg[0..n) sorted and
 * covering [0, size) (copied); it owns c from then on, even on failure.
 * kind: "luks2", "bitlocker"...; label for describe ("LUKS2").
 * NULL with errno (EINVAL: segments that do not tile the volume).
 */
struct blk_layer *blk_crypt_layer_new(struct blk_layer *below,
				      const char *kind, const char *label,
				      struct blk_sector_cipher *c,
				      const struct blk_crypt_seg *seg,
				      unsigned int n, uint64_t size);

#endif /* BLK_CRYPT_LAYER_H */
