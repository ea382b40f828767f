// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Digests of a volume (an LV, a decrypted volume, a nested partition): its
 * layer read from start to end, 4 MiB at a time, each algorithm fed in
 * turn.  A volume's bytes may lie anywhere in the source (an LV's
 * segments, stripes), so this is its own pass, not part of the source's
 * one sequential read (hash.c).
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "hash.h"
#include "layer/layer.h"

#define CHUNK (4u << 20)

/* Set up a context for each algo of algos: 0 or -ENOMEM. */
static int start(EVP_MD_CTX **ctx, unsigned int algos)
{
	for (int a = 0; a < BLK_HASH_NR; a++) {
		if (!(algos & (1u << a)))
			continue;
		ctx[a] = EVP_MD_CTX_new();
		if (!ctx[a] || !EVP_DigestInit_ex(ctx[a],
				EVP_get_digestbyname(blk_hash_algo_name(a)), NULL))
			return -ENOMEM;
	}
	return 0;
}

int blk_hash_layer(struct blk_layer *l, const char *name,
		   unsigned char md[BLK_HASH_NR][BLK_HASH_MAX_LEN],
		   unsigned int algos)
{
	EVP_MD_CTX *ctx[BLK_HASH_NR] = { NULL };
	unsigned char *buf = malloc(CHUNK);
	int err = buf ? start(ctx, algos) : -ENOMEM;

	for (uint64_t off = 0; !err && off < l->size;) {
		size_t n = l->size - off < CHUNK ? l->size - off : CHUNK;
		uint64_t bad;

		if (atomic_load(&blk_hash_cancel)) {
			err = -ECANCELED;
			break;
		}

		err = blk_layer_read(l, buf, n, off, &bad);
		if (err) {
			blk_err("%s: %s at byte %llu", name, strerror(-err),
				(unsigned long long)bad);
			err = BLK_HASH_EREAD;
			break;
		}
		for (int a = 0; a < BLK_HASH_NR; a++)
			if (ctx[a] && !EVP_DigestUpdate(ctx[a], buf, n))
				err = -ENOMEM;
		off += n;
	}
	for (int a = 0; a < BLK_HASH_NR; a++) {
		if (!err && ctx[a] && !EVP_DigestFinal_ex(ctx[a], md[a], NULL))
			err = -ENOMEM;
		EVP_MD_CTX_free(ctx[a]);
	}
	if (err == -ENOMEM)
		blk_err("%s: %s", name, strerror(ENOMEM));
	free(buf);
	return err;
}
