// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * BitLocker's key wrapping: AES-256-CCM with a 12-byte nonce and a 16-byte
 * tag; the plaintext starts with 12 bytes of its own (a 16-bit total size
 * first), then the key.  The clear key unwraps the VMK, the VMK the FVEK.
 */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "volume/bitlocker_key.h"
#include "volume/bitlocker_meta.h"
#include "volume/secret.h"

#define KEY_DATA_HEADER 12

/* c unwrapped with key (32 bytes) into out (locked, c->len bytes): the
 * key's length, or -errno. */
static int unwrap(const unsigned char *key, const struct blk_bitlk_ccm *c,
		  unsigned char *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	ok = ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_ccm(), NULL, NULL, NULL) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_IVLEN, 12, NULL) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_TAG, 16,
				 (void *)c->tag) &&
	     EVP_DecryptInit_ex(ctx, NULL, NULL, key, c->nonce);
	/* the tag is checked here: a wrong key fails */
	ok = ok && EVP_DecryptUpdate(ctx, out, &n, c->data, (int)c->len) &&
	     n == (int)c->len;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return -EACCES;
	if (c->len < KEY_DATA_HEADER || (size_t)(out[0] | out[1] << 8) != c->len)
		return -EINVAL;
	return (int)c->len - KEY_DATA_HEADER;
}

int blk_bitlk_clear_key(const struct blk_bitlk_clear *ck, const char *mode,
			char *vk, size_t vklen)
{
	unsigned char *vmk = blk_secret_alloc(sizeof(ck->vmk.data));
	unsigned char *fvek = blk_secret_alloc(sizeof(ck->fvek.data));
	unsigned char *k;
	int n, err = 0;

	if (!vmk || !fvek) {
		err = -ENOMEM;
		goto out_free;
	}
	n = ck->keylen == 32 ? unwrap(ck->key, &ck->vmk, vmk) : -EINVAL;
	if (n == 32)
		n = unwrap(vmk + KEY_DATA_HEADER, &ck->fvek, fvek);
	else if (n >= 0)
		n = -EINVAL;
	k = fvek + KEY_DATA_HEADER;
	/* AES-128 with Elephant: 16 bytes key, 16 empty, 16 sector key */
	if (n == 64 && vklen == 32 && mode && !strcmp(mode, "cbc-elephant"))
		memmove(k + 16, k + 32, 16), n = 32;
	if (n < 0 || (size_t)n < vklen)
		err = n < 0 ? n : -EINVAL;
	else
		memcpy(vk, k, vklen);
out_free:
	blk_secret_free(vmk, sizeof(ck->vmk.data));
	blk_secret_free(fvek, sizeof(ck->fvek.data));
	return err;
}
