/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * XTS decryption of runs of 512-byte sectors around one ECB call
 * (xts_run.c).  libcrypto's XTS takes a new IV only through a new
 * EVP init, which costs about as much as the AES work of a 512-byte
 * sector; here the XTS construction (IEEE 1619) is done around libcrypto's
 * AES-ECB, so a run of sectors costs two ECB calls.  One per thread.
 */
#ifndef BLK_XTS_RUN_H
#define BLK_XTS_RUN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define BLK_XTS_RUN_SECTOR 512

struct blk_xts_run;

/*
 * For the ECB cipher of one XTS half (e.g. aes-256-ecb for aes-256-xts)
 * and the XTS key (the data key, then the tweak key, half bytes each).
 * NULL when out of memory or libcrypto refuses.
 */
struct blk_xts_run *blk_xts_run_new(const EVP_CIPHER *ecb,
				    const unsigned char *key, size_t half);
/* Frees and wipes (the contexts' key schedules and the tweaks); NULL ok. */
void blk_xts_run_free(struct blk_xts_run *x);

/*
 * Decrypt len bytes (whole 512-byte sectors) of buf in place; sector i's
 * IV is (iv + i) & iv_mask, little-endian in the first 8 bytes (dm-crypt's
 * plain64, or plain with a 32-bit mask).  0, or -EIO when libcrypto fails.
 */
int blk_xts_run_decrypt(struct blk_xts_run *x, void *buf, size_t len,
			uint64_t iv, uint64_t iv_mask);

#endif /* BLK_XTS_RUN_H */
