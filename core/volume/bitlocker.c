// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * BitLocker version 2 (Windows 7 to 11; blk_bitlocker_open, crypt.h).
 * libcryptsetup's BITLK support turns a password, a recovery password or
 * a .BEK startup key into the full-volume key (a suspended volume's clear
 * key is unwrapped here: bitlocker_key.c), from a memfd copy of the
 * boot sector and the three metadata areas (cs_glue.h).  The plaintext is
 * laid out as dm-crypt lays it out (bitlocker_meta.c) and decrypted here:
 * AES-CBC with the eboiv IV, with or without Windows 7's Elephant diffuser
 * (elephant.c), or AES-XTS.  Vista's version 1, used-space-only volumes
 * and volumes being converted are refused with the reason.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "layer/layer.h"
#include "volume/crypt.h"

#ifndef HAVE_LIBCRYPTSETUP
int blk_bitlocker_open(struct blk_layer *below, const char *where,
		       const struct blk_keyring *kr, struct blk_layer **out,
		       char *why, size_t whylen)
{
	(void)below, (void)where, (void)kr;
	*out = NULL;
	snprintf(why, whylen,
		 "BitLocker decryption is not built (no libcryptsetup)");
	return -ENOTSUP;
}
#else
#include <stdlib.h>

#include <libcryptsetup.h>

#include "base/log.h"
#include "volume/bitlocker_key.h"
#include "volume/bitlocker_meta.h"
#include "volume/crypt_layer.h"
#include "volume/cs_glue.h"
#include "volume/keys.h"
#include "volume/secret.h"
#include "volume/sector_cipher.h"

struct bitlk {
	struct crypt_device *cd;
	int fd;
	struct blk_bitlk_geom g;
	struct blk_bitlk_clear ck;	/* protection suspended: a clear key */
	char *vk;
	size_t vklen;
};

/* Boot sector and metadata into the memfd, the geometry parsed. */
static int load(struct blk_layer *below, struct bitlk *b, char *why,
		size_t whylen)
{
	unsigned char *buf = malloc(BLK_BITLK_FVE_SIZE);
	uint64_t bad;
	int err = buf ? 0 : -ENOMEM;

	if (!err && below->size < 4096)
		err = -EINVAL;
	if (!err)
		err = blk_layer_read(below, buf, 4096, 0, &bad);
	if (!err)
		err = blk_bitlk_parse_boot(buf, 4096, below->size, &b->g, why,
					   whylen);
	else
		snprintf(why, whylen, "BitLocker boot sector unreadable");
	if (!err)
		err = blk_layer_read(below, buf, BLK_BITLK_FVE_SIZE,
				     b->g.fve[0], &bad);
	if (!err)
		err = blk_bitlk_parse_fve(buf, BLK_BITLK_FVE_SIZE, below->size,
					  &b->g, why, whylen);
	if (!err && blk_bitlk_parse_clear(buf, BLK_BITLK_FVE_SIZE, &b->ck))
		b->ck.keylen = 0;	/* then the secrets given must do */
	free(buf);
	if (err)
		return err;
	b->fd = blk_cs_memfd(below);
	if (b->fd < 0)
		return snprintf(why, whylen, "memfd: %s", strerror(-b->fd)),
		       b->fd;
	err = blk_cs_copy(b->fd, below, 0, 4096);
	for (int i = 0; i < 3 && !err; i++)
		err = blk_cs_copy(b->fd, below, b->g.fve[i], BLK_BITLK_FVE_SIZE);
	if (!err)
		err = blk_cs_load(&b->cd, b->fd, CRYPT_BITLK);
	if (err)
		snprintf(why, whylen, "BitLocker metadata not valid: %s",
			 blk_cs_error() ? blk_cs_error() : "damaged or not supported");
	return err;
}

/* Volumes cryptsetup refuses too, said before any key is tried. */
static int refused(const struct bitlk *b, char *why, size_t whylen)
{
	/* as cryptsetup refuses them: parts of such volumes are plaintext,
	 * which decrypting would turn into noise */
	if (b->g.eow || b->g.state != BLK_BITLK_STATE_NORMAL ||
	    b->g.next_state != BLK_BITLK_STATE_NORMAL) {
		if (b->g.eow)
			snprintf(why, whylen, "BitLocker volume encrypting used "
				 "space only (encrypt-on-write): not supported");
		else
			snprintf(why, whylen, "BitLocker volume being converted "
				 "(state %u, next %u): not supported",
				 b->g.state, b->g.next_state);
		return -ENOTSUP;
	}
	return 0;
}

/* Every passphrase (password or recovery password), then the .BEK. */
static int unlock(struct bitlk *b, const struct blk_keyring *kr,
		  const char *where)
{
	struct blk_secret s;
	size_t n;

	/* suspended protection: the key is there for anyone, no KDF */
	if (b->ck.keylen && !blk_bitlk_clear_key(&b->ck,
			crypt_get_cipher_mode(b->cd), b->vk, b->vklen)) {
		blk_notice("%s: BitLocker protection is suspended: opened by "
			   "the clear key its metadata keeps", where);
		return 0;
	}

	for (unsigned int i = 0; blk_keyring_passphrase(kr, i, &s); i++) {
		n = b->vklen;
		if (crypt_volume_key_get(b->cd, CRYPT_ANY_SLOT, b->vk, &n,
					 s.data, s.len) >= 0)
			return 0;
	}
	n = b->vklen;
	if (blk_keyring_key_file(kr, &s) &&
	    crypt_volume_key_get(b->cd, CRYPT_ANY_SLOT, b->vk, &n, s.data,
				 s.len) >= 0)
		return 0;
	return -EACCES;
}

static int make_layer(struct blk_layer *below, struct bitlk *b,
		      struct blk_layer **out, char *why, size_t whylen)
{
	struct blk_crypt_seg seg[BLK_BITLK_MAX_SEGS];
	unsigned int ss = b->g.sector_size;
	uint64_t size = below->size / ss * ss;
	struct blk_sector_cipher *c;
	const char *mode = crypt_get_cipher_mode(b->cd);
	int n, err;

	n = blk_bitlk_segments(&b->g, size, seg);
	if (n < 0) {
		snprintf(why, whylen, "BitLocker metadata areas overlap");
		return -EINVAL;
	}
	err = blk_sector_cipher_new(&c, crypt_get_cipher(b->cd), mode ? mode : "",
				    b->vk, b->vklen, ss, ss > 512, why, whylen);
	if (err)
		return err;
	*out = blk_crypt_layer_new(below, "bitlocker", "BitLocker", c, seg,
				   (unsigned int)n, size);
	if (!*out)
		return snprintf(why, whylen, "BitLocker layout not valid"),
		       -EINVAL;
	return 0;
}

int blk_bitlocker_open(struct blk_layer *below, const char *where,
		       const struct blk_keyring *kr, struct blk_layer **out,
		       char *why, size_t whylen)
{
	struct bitlk b = { .fd = -1 };
	int err;

	*out = NULL;
	err = load(below, &b, why, whylen);
	if (err)
		goto out_close;
	b.vklen = (size_t)crypt_get_volume_key_size(b.cd);
	b.vk = blk_secret_alloc(b.vklen);
	if (!b.vk) {
		err = -ENOMEM;
		snprintf(why, whylen, "out of memory");
		goto out_close;
	}
	err = refused(&b, why, whylen);
	if (err)
		goto out_close;
	err = unlock(&b, kr, where);
	if (err)
		snprintf(why, whylen, blk_keyring_empty(kr) ?
			 "locked: no password, recovery password or key given" :
			 "locked: no password, recovery password or key matched");
	else
		err = make_layer(below, &b, out, why, whylen);
	if (!err)
		blk_debug("%s: BitLocker unlocked", where);
out_close:
	blk_secret_free(b.vk, b.vklen);
	crypt_free(b.cd);
	if (b.fd >= 0)
		close(b.fd);
	return err;
}
#endif /* HAVE_LIBCRYPTSETUP */
