// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * BitLocker's on-disk layout (the boot sector's "-FVE-FS-" signature, the
 * FVE metadata block and its entries), read defensively: every offset and
 * length is checked against the bytes given and the volume's size.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "volume/bitlocker_meta.h"

#define ENTRY_VMK 0x0002
#define ENTRY_FVEK 0x0003
#define ENTRY_VOLUME_HEADER 0x000f
#define VALUE_KEY 0x0001		/* a key in the clear */
#define VALUE_CCM 0x0005		/* an AES-CCM wrapped key */
#define VMK_HEADER_LEN 28		/* GUID, time, ?, protection */
#define PROTECTION_CLEAR 0x0000
/* the boot sector's volume GUID for a used-space-only volume */
static const unsigned char guid_eow[16] = {
	0x3b, 0x4d, 0xa8, 0x92, 0x80, 0xdd, 0x0e, 0x4d,
	0x9e, 0x4e, 0xb1, 0xe3, 0x28, 0x4e, 0xae, 0xd8,
};
#define BLOCK_HEADER_LEN 64	/* the block header, then ... */
#define META_HEADER_LEN 48	/* ... the metadata header, then entries */

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

int blk_bitlk_parse_boot(const unsigned char *b, size_t blen, uint64_t size,
			 struct blk_bitlk_geom *g, char *why, size_t whylen)
{
	size_t at;

	memset(g, 0, sizeof(*g));
	if (blen < 512) {
		snprintf(why, whylen, "BitLocker boot sector cut short");
		return -EINVAL;
	}
	if (!memcmp(b, "\xeb\x52\x90-FVE-FS-", 11)) {
		snprintf(why, whylen, "BitLocker of Windows Vista (version 1) "
			 "is not supported");
		return -ENOTSUP;
	}
	if (!memcmp(b, "\xeb\x58\x90-FVE-FS-", 11))
		at = 160 + 16;	/* past the volume GUID */
	else if (!memcmp(b, "\xeb\x58\x90MSWIN4.1", 11))
		at = 424 + 16;	/* BitLocker To Go */
	else {
		snprintf(why, whylen, "no BitLocker signature");
		return -EINVAL;
	}
	g->eow = !memcmp(b + at - 16, guid_eow, 16);
	g->sector_size = (unsigned int)le(b + 11, 2);
	if (g->sector_size != 512 && g->sector_size != 4096)
		g->sector_size = 512;
	for (int i = 0; i < 3; i++) {
		g->fve[i] = le(b + at + 8 * i, 8);
		if (g->fve[i] % 512 || g->fve[i] >= size ||
		    BLK_BITLK_FVE_SIZE > size - g->fve[i]) {
			snprintf(why, whylen, "BitLocker metadata offset %llu "
				 "not valid", (unsigned long long)g->fve[i]);
			return -EINVAL;
		}
	}
	return 0;
}

/* The volume header entry among the metadata entries [p, p + len). */
static int find_vh(const unsigned char *p, size_t len,
		   struct blk_bitlk_geom *g)
{
	while (len >= 8) {
		size_t esize = (size_t)le(p, 2);

		if (esize == 0)
			break;
		if (esize < 8 || esize > len)
			return -EINVAL;
		if (le(p + 2, 2) == ENTRY_VOLUME_HEADER && esize >= 8 + 16) {
			g->vh_off = le(p + 8, 8);
			g->vh_size = le(p + 16, 8);
			return 0;
		}
		p += esize, len -= esize;
	}
	return -ENOENT;
}

int blk_bitlk_parse_fve(const unsigned char *f, size_t flen, uint64_t size,
			struct blk_bitlk_geom *g, char *why, size_t whylen)
{
	size_t head = BLOCK_HEADER_LEN + META_HEADER_LEN;
	uint64_t msize;

	if (flen < head || memcmp(f, "-FVE-FS-", 8) || le(f + 10, 2) != 2) {
		snprintf(why, whylen, "BitLocker metadata block not valid");
		return -EINVAL;
	}
	g->state = (unsigned int)le(f + 12, 2);
	g->next_state = (unsigned int)le(f + 14, 2);
	msize = le(f + BLOCK_HEADER_LEN, 4);
	if (msize < META_HEADER_LEN || msize - META_HEADER_LEN > flen - head ||
	    find_vh(f + head, msize - META_HEADER_LEN, g)) {
		snprintf(why, whylen, "BitLocker metadata entries not valid");
		return -EINVAL;
	}
	if (!g->vh_size || g->vh_size % 512 || g->vh_off % 512 ||
	    g->vh_off >= size || g->vh_size > size - g->vh_off ||
	    g->vh_size > g->vh_off) {
		snprintf(why, whylen, "BitLocker volume header at %llu+%llu "
			 "not valid", (unsigned long long)g->vh_off,
			 (unsigned long long)g->vh_size);
		return -EINVAL;
	}
	return 0;
}

/* An AES-CCM entry's payload [p, p + len) into c: 0 or -EINVAL. */
static int take_ccm(const unsigned char *p, size_t len,
		    struct blk_bitlk_ccm *c)
{
	if (len < 12 + 16 || len - 28 > sizeof(c->data))
		return -EINVAL;
	memcpy(c->nonce, p, 12);
	memcpy(c->tag, p + 12, 16);
	c->len = len - 28;
	memcpy(c->data, p + 28, c->len);
	return 0;
}

/* The nested entries [p, p + len) of a clear-key VMK entry. */
static int take_clear_vmk(const unsigned char *p, size_t len,
			  struct blk_bitlk_clear *ck)
{
	while (len >= 8) {
		size_t esize = (size_t)le(p, 2);
		unsigned int value = (unsigned int)le(p + 4, 2);

		if (esize == 0)
			break;
		if (esize < 8 || esize > len)
			return -EINVAL;
		if (value == VALUE_KEY) {
			if (esize < 12 || esize - 12 > sizeof(ck->key))
				return -EINVAL;
			ck->keylen = esize - 12;
			memcpy(ck->key, p + 12, ck->keylen);
		} else if (value == VALUE_CCM &&
			   take_ccm(p + 8, esize - 8, &ck->vmk))
			return -EINVAL;
		p += esize, len -= esize;
	}
	return 0;
}

/* One top-level entry: a clear-key VMK, or the FVEK. */
static int take_entry(const unsigned char *p, size_t esize,
		      struct blk_bitlk_clear *ck)
{
	unsigned int type = (unsigned int)le(p + 2, 2);

	if (type == ENTRY_VMK && esize >= 8 + VMK_HEADER_LEN &&
	    le(p + 8 + 26, 2) == PROTECTION_CLEAR && !ck->keylen)
		return take_clear_vmk(p + 8 + VMK_HEADER_LEN,
				      esize - 8 - VMK_HEADER_LEN, ck);
	if (type == ENTRY_FVEK && le(p + 4, 2) == VALUE_CCM && !ck->fvek.len)
		return take_ccm(p + 8, esize - 8, &ck->fvek);
	return 0;
}

int blk_bitlk_parse_clear(const unsigned char *f, size_t flen,
			  struct blk_bitlk_clear *ck)
{
	size_t head = BLOCK_HEADER_LEN + META_HEADER_LEN, len;
	uint64_t msize;
	const unsigned char *p;

	memset(ck, 0, sizeof(*ck));
	if (flen < head)
		return -EINVAL;
	msize = le(f + BLOCK_HEADER_LEN, 4);
	if (msize < META_HEADER_LEN || msize - META_HEADER_LEN > flen - head)
		return -EINVAL;
	p = f + head;
	len = msize - META_HEADER_LEN;
	while (len >= 8) {
		size_t esize = (size_t)le(p, 2);

		if (esize == 0)
			break;
		if (esize < 8 || esize > len || take_entry(p, esize, ck))
			return -EINVAL;
		p += esize, len -= esize;
	}
	if (ck->keylen && (!ck->vmk.len || !ck->fvek.len))
		ck->keylen = 0;		/* incomplete: not usable */
	return 0;
}

/* The zeroed ranges, sorted: the three metadata areas and the copy. */
static void zero_ranges(const struct blk_bitlk_geom *g, uint64_t z[4][2])
{
	for (int i = 0; i < 3; i++)
		z[i][0] = g->fve[i], z[i][1] = BLK_BITLK_FVE_SIZE;
	z[3][0] = g->vh_off, z[3][1] = g->vh_size;
	for (int i = 1; i < 4; i++)
		for (int j = i; j > 0 && z[j][0] < z[j - 1][0]; j--) {
			uint64_t t0 = z[j][0], t1 = z[j][1];

			z[j][0] = z[j - 1][0], z[j][1] = z[j - 1][1];
			z[j - 1][0] = t0, z[j - 1][1] = t1;
		}
}

static void add(struct blk_crypt_seg *seg, int *n, uint64_t start,
		uint64_t len, int zero, uint64_t below)
{
	if (!len)
		return;
	seg[*n] = (struct blk_crypt_seg){ .start = start, .len = len,
		.zero = zero, .below = below, .iv512 = below / 512 };
	(*n)++;
}

int blk_bitlk_segments(const struct blk_bitlk_geom *g, uint64_t size,
		       struct blk_crypt_seg seg[BLK_BITLK_MAX_SEGS])
{
	uint64_t z[4][2], at = g->vh_size;
	int n = 0;

	if (g->vh_size > size)
		return -EINVAL;
	zero_ranges(g, z);
	add(seg, &n, 0, g->vh_size, 0, g->vh_off);
	for (int i = 0; i < 4; i++) {
		uint64_t end = z[i][0] + z[i][1];

		if (z[i][0] < at || end > size)
			return -EINVAL;	/* overlapping or past the end */
		add(seg, &n, at, z[i][0] - at, 0, at);
		add(seg, &n, z[i][0], z[i][1], 1, 0);
		at = end;
	}
	add(seg, &n, at, size - at, 0, at);
	return n;
}
