// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * LUKS1 and LUKS2 (blk_luks_open, crypt.h).  libcryptsetup parses the
 * header and turns a passphrase into the volume key (crypt_load and
 * crypt_volume_key_get need no device-mapper); the payload is decrypted
 * here (crypt_layer.c).  The header is copied into a memfd first
 * (cs_glue.h): the volume may be a layer no path reaches.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "layer/layer.h"
#include "volume/crypt.h"

#ifndef HAVE_LIBCRYPTSETUP
int blk_luks_open(struct blk_layer *below, const char *where,
		  const struct blk_keyring *kr, struct blk_layer **out,
		  char *why, size_t whylen)
{
	(void)below, (void)where, (void)kr;
	*out = NULL;
	snprintf(why, whylen, "LUKS decryption is not built (no libcryptsetup)");
	return -ENOTSUP;
}
#else
#include <libcryptsetup.h>

#include "base/log.h"
#include "volume/crypt_layer.h"
#include "volume/cs_glue.h"
#include "volume/keys.h"
#include "volume/secret.h"
#include "volume/sector_cipher.h"

#define MAX_HEADER (256ull << 20)	/* LUKS2's largest keyslot area is 128 MiB */

struct luks {
	struct crypt_device *cd;
	int fd, version;
	uint64_t data_off;
	char *vk;
	size_t vklen;
};

/* The binary header: its version and how much to copy before loading. */
static int sniff(struct blk_layer *below, struct luks *lk, uint64_t *head,
		 char *why, size_t whylen)
{
	unsigned char h[4096];
	uint64_t bad, n = below->size < sizeof(h) ? below->size : sizeof(h);
	int err = blk_layer_read(below, h, n, 0, &bad);

	if (err) {
		snprintf(why, whylen, "LUKS header unreadable: %s", strerror(-err));
		return err;
	}
	if (n < 512 || memcmp(h, "LUKS\xba\xbe", 6) || h[6] != 0 ||
	    (h[7] != 1 && h[7] != 2)) {
		snprintf(why, whylen, "no LUKS header");
		return -EINVAL;
	}
	lk->version = h[7];
	*head = sizeof(h);
	if (lk->version == 2) {
		uint64_t hdr = blk_be64(h + 8);	/* one copy: binary + JSON */

		if (hdr < 16384 || hdr > (4u << 20)) {
			snprintf(why, whylen, "LUKS2 header size %llu not valid",
				 (unsigned long long)hdr);
			return -EINVAL;
		}
		*head = 2 * hdr;	/* both copies */
	}
	return 0;
}

/*
 * What this layer cannot read right, said as the reason: two segments (old
 * and new key) while cryptsetup reencrypts; authenticated encryption, whose
 * sectors sit in a dm-integrity device with tags between them.
 */
static const char *unsupported(struct crypt_device *cd)
{
	struct crypt_params_integrity ip = { 0 };
	uint32_t req = 0;

	if (crypt_persistent_flags_get(cd, CRYPT_FLAGS_REQUIREMENTS, &req) >= 0 &&
	    req & CRYPT_REQUIREMENT_ONLINE_REENCRYPT)
		return "reencryption in progress";
	if (crypt_get_integrity_info(cd, &ip) >= 0 && ip.integrity)
		return "authenticated encryption (dm-integrity)";
	return NULL;
}

/* Header, then the key slots up to the payload, into the memfd. */
static int load(struct blk_layer *below, struct luks *lk, char *why,
		size_t whylen)
{
	uint64_t head;
	int err = sniff(below, lk, &head, why, whylen);

	if (err)
		return err;
	lk->fd = blk_cs_memfd(below);
	if (lk->fd < 0)
		return snprintf(why, whylen, "memfd: %s", strerror(-lk->fd)),
		       lk->fd;
	err = blk_cs_copy(lk->fd, below, 0, head);
	if (!err)
		err = blk_cs_load(&lk->cd, lk->fd,
				  lk->version == 1 ? CRYPT_LUKS1 : CRYPT_LUKS2);
	if (err) {
		snprintf(why, whylen, "LUKS%d header not valid: %s", lk->version,
			 blk_cs_error() ? blk_cs_error() :
			 "bad checksum or damaged");
		return err == -EIO ? -EIO : -EINVAL;
	}
	if (lk->version == 2 && unsupported(lk->cd)) {
		snprintf(why, whylen, "LUKS2 %s: not supported",
			 unsupported(lk->cd));
		return -ENOTSUP;
	}
	lk->data_off = crypt_get_data_offset(lk->cd) * 512;
	if (!lk->data_off || lk->data_off >= below->size ||
	    lk->data_off > MAX_HEADER) {
		snprintf(why, whylen, "LUKS%d payload offset %llu not usable",
			 lk->version, (unsigned long long)lk->data_off);
		return -EINVAL;
	}
	err = blk_cs_copy(lk->fd, below, head, lk->data_off - head);
	if (err)
		snprintf(why, whylen, "LUKS%d key slots unreadable: %s",
			 lk->version, strerror(-err));
	return err;
}

/* Each secret in turn: the key file as the volume key, then as a
 * passphrase, then every passphrase.  0, or -EACCES. */
static int unlock(struct luks *lk, const struct blk_keyring *kr)
{
	struct blk_secret s;
	size_t n;

	if (blk_keyring_key_file(kr, &s)) {
		if (s.len == lk->vklen &&
		    crypt_volume_key_verify(lk->cd, s.data, s.len) >= 0) {
			memcpy(lk->vk, s.data, s.len);
			return 0;
		}
		n = lk->vklen;
		if (crypt_volume_key_get(lk->cd, CRYPT_ANY_SLOT, lk->vk, &n,
					 s.data, s.len) >= 0)
			return 0;
	}
	for (unsigned int i = 0; blk_keyring_passphrase(kr, i, &s); i++) {
		n = lk->vklen;
		if (crypt_volume_key_get(lk->cd, CRYPT_ANY_SLOT, lk->vk, &n,
					 s.data, s.len) >= 0)
			return 0;
	}
	return -EACCES;
}

static int make_layer(struct blk_layer *below, struct luks *lk,
		      struct blk_layer **out, char *why, size_t whylen)
{
	static const char *const label[] = { "", "LUKS1", "LUKS2" };
	unsigned int ss = (unsigned int)crypt_get_sector_size(lk->cd);
	struct blk_sector_cipher *c;
	struct blk_crypt_seg seg = { 0 };
	int err;

	ss = ss ? ss : 512;
	/* IVs count 512-byte sectors whatever the sector size: what
	 * cryptsetup itself writes (reencrypt --encrypt, tests/crypt.bats) */
	err = blk_sector_cipher_new(&c, crypt_get_cipher(lk->cd),
				    crypt_get_cipher_mode(lk->cd), lk->vk,
				    lk->vklen, ss, false, why, whylen);
	if (err)
		return err;
	seg.len = (below->size - lk->data_off) / ss * ss;
	seg.below = lk->data_off;
	seg.iv512 = crypt_get_iv_offset(lk->cd);
	if (!seg.len) {
		blk_sector_cipher_free(c);
		snprintf(why, whylen, "LUKS%d volume holds no payload",
			 lk->version);
		return -EINVAL;
	}
	*out = blk_crypt_layer_new(below, lk->version == 1 ? "luks1" : "luks2",
				   label[lk->version], c, &seg, 1, seg.len);
	if (!*out)
		return snprintf(why, whylen, "%s", strerror(errno)), -errno;
	return 0;
}

int blk_luks_open(struct blk_layer *below, const char *where,
		  const struct blk_keyring *kr, struct blk_layer **out,
		  char *why, size_t whylen)
{
	struct luks lk = { .fd = -1 };
	int err;

	*out = NULL;
	err = load(below, &lk, why, whylen);
	if (err)
		goto out_close;
	lk.vklen = (size_t)crypt_get_volume_key_size(lk.cd);
	lk.vk = blk_secret_alloc(lk.vklen);
	if (!lk.vk) {
		err = -ENOMEM;
		snprintf(why, whylen, "out of memory");
		goto out_close;
	}
	err = blk_keyring_empty(kr) ? -EACCES : unlock(&lk, kr);
	if (err)
		snprintf(why, whylen, blk_keyring_empty(kr) ?
			 "locked: no passphrase or key given" :
			 "locked: no passphrase or key matched");
	else
		err = make_layer(below, &lk, out, why, whylen);
	if (!err)
		blk_debug("%s: LUKS%d unlocked", where, lk.version);
out_close:
	blk_secret_free(lk.vk, lk.vklen);
	crypt_free(lk.cd);
	if (lk.fd >= 0)
		close(lk.fd);
	return err;
}
#endif /* HAVE_LIBCRYPTSETUP */
