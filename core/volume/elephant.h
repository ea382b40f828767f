/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Elephant diffuser of BitLocker's AES-CBC mode in Windows Vista and 7
 * (elephant.c), undone after AES-CBC decryption the way dm-crypt's
 * "elephant" IV mode undoes it.
 */
#ifndef BLK_ELEPHANT_H
#define BLK_ELEPHANT_H

#include <stddef.h>

/*
 * One AES-CBC-decrypted sector (len bytes, a multiple of 32, at most 4096)
 * to plaintext: diffuser B, then diffuser A undone, then the sector key
 * ks (32 bytes: E(K, e(s)) and E(K, e'(s))) XORed in.
 */
void blk_elephant_undo(unsigned char *sector, size_t len,
		       const unsigned char ks[32]);

#endif /* BLK_ELEPHANT_H */
