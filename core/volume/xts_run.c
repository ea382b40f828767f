// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * XTS over runs of 512-byte sectors (see xts_run.h for why).  For a run
 * of RUN bytes: every sector's tweak E(K2, IV) in one ECB call; the tweak
 * of the sector's block j is that times alpha^j in GF(2^128), in XTS's
 * little-endian convention; data ^= tweak, one ECB decryption with K1,
 * data ^= tweak again.  The run is small enough that the data and the
 * tweaks stay in the L1 cache across the three passes.  Sectors are whole
 * multiples of the AES block, so no ciphertext stealing.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "volume/xts_run.h"

#define RUN 4096			/* bytes per pass */
#define SECTORS (RUN / BLK_XTS_RUN_SECTOR)

struct blk_xts_run {
	EVP_CIPHER_CTX *k1;		/* ECB decryption, the data key */
	EVP_CIPHER_CTX *k2;		/* ECB encryption, the tweak key */
	unsigned char ivs[SECTORS * 16];
	unsigned char tweaks[RUN] __attribute__((aligned(16)));
};

typedef uint64_t v2 __attribute__((vector_size(16)));

struct blk_xts_run *blk_xts_run_new(const EVP_CIPHER *ecb,
				    const unsigned char *key, size_t half)
{
	struct blk_xts_run *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->k1 = EVP_CIPHER_CTX_new();
	x->k2 = EVP_CIPHER_CTX_new();
	if (!x->k1 || !x->k2 ||
	    EVP_CIPHER_get_key_length(ecb) != (int)half ||
	    !EVP_DecryptInit_ex2(x->k1, ecb, key, NULL, NULL) ||
	    !EVP_EncryptInit_ex2(x->k2, ecb, key + half, NULL, NULL)) {
		blk_xts_run_free(x);
		return NULL;
	}
	EVP_CIPHER_CTX_set_padding(x->k1, 0);
	EVP_CIPHER_CTX_set_padding(x->k2, 0);
	return x;
}

void blk_xts_run_free(struct blk_xts_run *x)
{
	if (!x)
		return;
	EVP_CIPHER_CTX_free(x->k1);	/* cleanses the key schedules */
	EVP_CIPHER_CTX_free(x->k2);
	explicit_bzero(x, sizeof(*x));
	free(x);
}

/* Each block's tweak, for n sectors whose first tweaks are in x->ivs
 * (little-endian 128-bit numbers). */
static void expand(struct blk_xts_run *x, size_t n)
{
	for (size_t s = 0; s < n; s++) {
		uint64_t lo, hi, *t = (uint64_t *)(x->tweaks +
						  s * BLK_XTS_RUN_SECTOR);

		memcpy(&lo, x->ivs + 16 * s, 8);
		memcpy(&hi, x->ivs + 16 * s + 8, 8);
		lo = le64toh(lo);
		hi = le64toh(hi);
		for (int j = 0; j < BLK_XTS_RUN_SECTOR / 16; j++) {
			/* times alpha: shift left one bit, fold x^128 in */
			uint64_t carry = (uint64_t)((int64_t)hi >> 63) & 0x87;

			t[2 * j] = htole64(lo);
			t[2 * j + 1] = htole64(hi);
			hi = hi << 1 | lo >> 63;
			lo = lo << 1 ^ carry;
		}
	}
}

static void xor_into(unsigned char *p, const unsigned char *t, size_t len)
{
	for (size_t i = 0; i < len; i += 16) {
		v2 a, b;

		memcpy(&a, p + i, 16);
		memcpy(&b, t + i, 16);
		a ^= b;
		memcpy(p + i, &a, 16);
	}
}

int blk_xts_run_decrypt(struct blk_xts_run *x, void *buf, size_t len,
			uint64_t iv, uint64_t iv_mask)
{
	unsigned char *p = buf;

	while (len) {
		size_t n = len < RUN ? len : RUN, ns = n / BLK_XTS_RUN_SECTOR;
		int outl = 0, outl2 = 0;

		memset(x->ivs, 0, sizeof(x->ivs));
		for (size_t s = 0; s < ns; s++) {
			uint64_t le = htole64((iv + s) & iv_mask);

			memcpy(x->ivs + 16 * s, &le, 8);
		}
		if (!EVP_EncryptUpdate(x->k2, x->ivs, &outl, x->ivs,
				       (int)(16 * ns)) || outl != (int)(16 * ns))
			return -EIO;
		expand(x, ns);
		xor_into(p, x->tweaks, n);
		if (!EVP_DecryptUpdate(x->k1, p, &outl2, p, (int)n) ||
		    outl2 != (int)n)
			return -EIO;
		xor_into(p, x->tweaks, n);
		p += n;
		len -= n;
		iv += ns;
	}
	return 0;
}
