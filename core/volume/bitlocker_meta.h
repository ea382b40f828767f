/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where a BitLocker (version 2: Windows 7 and later) volume keeps what is
 * not plain data (bitlocker_meta.c): the three FVE metadata blocks and the
 * relocated copy of the volume's first sectors.  Parsing only; the keys
 * are libcryptsetup's business.
 */
#ifndef BLK_BITLOCKER_META_H
#define BLK_BITLOCKER_META_H

#include <stddef.h>
#include <stdint.h>

#include "volume/crypt_layer.h"

#define BLK_BITLK_FVE_SIZE (64u * 1024)	/* each metadata area, blanked */
#define BLK_BITLK_MAX_SEGS 16
#define BLK_BITLK_STATE_NORMAL 4

struct blk_bitlk_geom {
	uint64_t fve[3];		/* metadata block offsets */
	uint64_t vh_off, vh_size;	/* the relocated first sectors */
	unsigned int state, next_state;	/* 4 and 4: fully encrypted, at rest */
	int eow;			/* "used space only" (encrypt-on-write) */
	unsigned int sector_size;	/* bytes per sector of the boot sector */
};

/*
 * The boot sector (blen >= 512 bytes at offset 0): sector size and the
 * metadata offsets.  0; -ENOTSUP (Vista's version 1) or -EINVAL with why.
 */
int blk_bitlk_parse_boot(const unsigned char *b, size_t blen, uint64_t size,
			 struct blk_bitlk_geom *g, char *why, size_t whylen);
/*
 * The first metadata block (flen bytes read at g->fve[0]): the volume
 * header's offset and size.  0, or -EINVAL with why.
 */
int blk_bitlk_parse_fve(const unsigned char *f, size_t flen, uint64_t size,
			struct blk_bitlk_geom *g, char *why, size_t whylen);
/* An AES-CCM wrapped key of the metadata (nonce, tag, ciphertext). */
struct blk_bitlk_ccm {
	unsigned char nonce[12], tag[16], data[80];
	size_t len;
};

/*
 * A volume whose protection is suspended keeps a clear key beside its
 * volume master key: that key wraps the VMK, which wraps the full-volume
 * key.  Nothing here is secret until unwrapped (bitlocker_key.c).
 */
struct blk_bitlk_clear {
	unsigned char key[32];
	size_t keylen;			/* 0: no clear-key protector */
	struct blk_bitlk_ccm vmk, fvek;
};

/* The clear key, its wrapped VMK and the wrapped FVEK from the first
 * metadata block: 0 (ck->keylen 0 when there is none), or -EINVAL. */
int blk_bitlk_parse_clear(const unsigned char *f, size_t flen,
			  struct blk_bitlk_clear *ck);
/*
 * The plaintext's segments, as dm-crypt maps a BitLocker volume of size
 * bytes: the first vh_size bytes from vh_off, the metadata areas and the
 * relocated copy as zeros, the rest in place.  The count (<= MAX_SEGS),
 * or -EINVAL when they overlap.
 */
int blk_bitlk_segments(const struct blk_bitlk_geom *g, uint64_t size,
		       struct blk_crypt_seg seg[BLK_BITLK_MAX_SEGS]);

#endif /* BLK_BITLOCKER_META_H */
