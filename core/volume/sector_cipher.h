/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sector decryption as dm-crypt does it, in user space with libcrypto
 * (sector_cipher.c): a cipher ("aes"), a chain mode with its IV generator
 * ("xts-plain64", "cbc-essiv:sha256", "cbc-plain", "cbc-plain64", "ecb",
 * "cbc-eboiv", "cbc-elephant": the key is then the data key and Elephant's
 * sector key, halves), a key, an encryption sector size.  Each thread keeps its
 * own libcrypto contexts, made once: no allocation per request.
 */
#ifndef BLK_SECTOR_CIPHER_H
#define BLK_SECTOR_CIPHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blk_sector_cipher;

/*
 * *out for cipher/mode with key (keylen bytes, copied into locked memory).
 * iv_large: IVs count sectors of sector_size bytes (dm-crypt's
 * iv_large_sectors), not 512-byte ones.  0, or -EINVAL/-ENOTSUP with why
 * (one line, never the key) filled.
 */
int blk_sector_cipher_new(struct blk_sector_cipher **out, const char *cipher,
			  const char *mode, const void *key, size_t keylen,
			  unsigned int sector_size, bool iv_large,
			  char *why, size_t whylen);
/* Wipe the key and free every thread's contexts; NULL is ignored. */
void blk_sector_cipher_free(struct blk_sector_cipher *c);
unsigned int blk_sector_cipher_sector_size(const struct blk_sector_cipher *c);
/* "aes-xts-plain64, 512-bit key, 4096-byte sectors" */
void blk_sector_cipher_describe(const struct blk_sector_cipher *c, char *buf,
				size_t len);

/*
 * Decrypt len bytes (whole sectors) of buf in place; the first sector's
 * IV number is sector512, counted in 512-byte units as dm-crypt counts
 * them (iv_offset included).  0, or -EIO when libcrypto fails.
 */
int blk_sector_decrypt(struct blk_sector_cipher *c, void *buf, size_t len,
		       uint64_t sector512);

/* A sector_size buffer of the calling thread, for partial sectors. */
void *blk_sector_cipher_bounce(struct blk_sector_cipher *c);

#endif /* BLK_SECTOR_CIPHER_H */
