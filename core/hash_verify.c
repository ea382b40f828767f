// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --verify: [NAME=]ALGO:HEX against the digest of the source or of the
 * file NAME of the mount (hash_target.c), or 'stored': the source against
 * the hashes its container holds.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "hash.h"
#include "image/image.h"

static int unhex(unsigned char c)
{
	c = tolower(c);
	return isdigit(c) ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* --verify stored: every hash the container holds, in one pass. */
static int verify_stored(const struct blk_source *src, char *got,
			 size_t gotlen)
{
	struct blk_hash_range r = { .name = "disk", .size = src->size };
	const char *want[BLK_HASH_NR] = { 0 };
	char hex[2 * BLK_HASH_MAX_LEN + 1];
	unsigned int mask = 0;
	size_t used = 0;
	int err, differ = 0;

	if (src->img) {
		want[BLK_HASH_MD5] = src->img->md5;
		want[BLK_HASH_SHA1] = src->img->sha1;
		want[BLK_HASH_SHA256] = src->img->sha256;
	}
	for (int a = 0; a < BLK_HASH_NR; a++)
		if (want[a] && want[a][0])
			mask |= 1u << a;
	if (!mask) {
		blk_err("%s: --verify stored: the source holds no stored hash (only an E01 or AFF image does)",
			src->given);
		return -EINVAL;
	}
	err = blk_hash_ranges(src, &r, 1, mask, isatty(STDERR_FILENO));
	if (err)
		return err;
	for (int a = BLK_HASH_NR - 1; a >= 0; a--) {	/* md5 sha1 sha256 */
		if (!(mask & 1u << a))
			continue;
		blk_hash_hex(hex, r.md[a], a);
		differ |= strcmp(hex, want[a]) != 0;
		if (got && used < gotlen)
			used += snprintf(got + used, gotlen - used, "%s%s:%s",
					 used ? " " : "", blk_hash_algo_name(a), hex);
	}
	return differ;
}

/* NAME's md[a] into md: its range in one pass, or its layer. */
static int hash_target(const struct blk_source *src,
		       const struct blk_hash_target *t, const char *name,
		       int a, unsigned char *md)
{
	struct blk_hash_range r = { .name = name, .start = t->start,
				    .size = t->size };
	unsigned char lmd[BLK_HASH_NR][BLK_HASH_MAX_LEN];
	int err;

	if (t->layer) {
		err = blk_hash_layer(t->layer, name, lmd, 1u << a);
		if (!err)
			memcpy(md, lmd[a], blk_hash_algo_len(a));
		return err;
	}
	err = blk_hash_ranges(src, &r, 1, 1u << a, isatty(STDERR_FILENO));
	if (!err)
		memcpy(md, r.md[a], blk_hash_algo_len(a));
	return err;
}

int blk_hash_verify(const struct blk_source *src,
		    const struct blk_layout *lo, const char *spec,
		    char *got, size_t gotlen)
{
	struct blk_hash_target t = { .size = src->size };
	unsigned char want[BLK_HASH_MAX_LEN], md[BLK_HASH_MAX_LEN];
	char name[16], hex[2 * BLK_HASH_MAX_LEN + 1], *target = NULL;
	const char *eq = strrchr(spec, '='), *colon, *h;
	unsigned int len;
	int a, err;

	if (got && gotlen)
		got[0] = '\0';
	if (!strcmp(spec, "stored"))
		return verify_stored(src, got, gotlen);
	if (eq) {	/* NAME=ALGO:HEX */
		target = strndup(spec, eq - spec);
		if (!target) {
			blk_err("%s", strerror(ENOMEM));
			return -ENOMEM;
		}
		err = blk_hash_target_find(src, lo, target, &t);
		if (err) {
			free(target);
			return err;
		}
		spec = eq + 1;
	}
	colon = strchr(spec, ':');
	if (!colon || colon == spec || colon - spec >= (int)sizeof(name)) {
		blk_err("%s: expected [NAME=]ALGO:HEX, ALGO one of %s", spec,
			BLK_HASH_KNOWN);
		err = -EINVAL;
		goto out;
	}
	memcpy(name, spec, colon - spec);
	name[colon - spec] = '\0';
	a = blk_hash_algo_parse(name);
	if (a < 0) {
		blk_err("%s: unknown algorithm '%s' (known: %s)", spec, name,
			BLK_HASH_KNOWN);
		err = -EINVAL;
		goto out;
	}
	len = blk_hash_algo_len(a);
	h = colon + 1;
	for (unsigned int i = 0; i < len; i++) {
		int hi = unhex(h[0]), lo_ = hi < 0 ? -1 : unhex(h[1]);

		if (lo_ < 0)
			break;
		want[i] = hi << 4 | lo_;
		h += 2;
	}
	if (*h || h - colon - 1 != 2 * len) {
		blk_err("%s: expected %u hex digits after '%s:'", spec, 2 * len,
			name);
		err = -EINVAL;
		goto out;
	}

	err = hash_target(src, &t, target ? target : "disk", a, md);
	if (err)
		goto out;
	blk_hash_hex(hex, md, a);
	if (got && gotlen)
		snprintf(got, gotlen, "%s%s%s:%s", target ? target : "",
			 target ? "=" : "", blk_hash_algo_name(a), hex);
	err = memcmp(md, want, len) ? 1 : 0;
out:
	free(target);
	return err;
}
