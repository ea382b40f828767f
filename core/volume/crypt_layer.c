// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reads of a decrypted volume: the whole sectors under the request are
 * read from below straight into the caller's buffer and decrypted in place;
 * a partial first or last sector goes through the thread's one-sector
 * bounce buffer, so any offset and length is exact to the byte and nothing
 * is allocated per request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer/layer.h"
#include "volume/crypt_layer.h"
#include "volume/sector_cipher.h"

struct crypt_priv {
	struct blk_sector_cipher *c;
	const char *label;
	unsigned int n;
	struct blk_crypt_seg seg[];
};

/* Sectors [a, a + n) of segment s (offsets in it) into p, decrypted. */
static int read_sectors(struct blk_layer *l, const struct blk_crypt_seg *s,
			void *p, uint64_t a, size_t n, uint64_t *bad)
{
	const struct crypt_priv *cp = l->priv;
	int err = blk_layer_read(l->below, p, n, s->below + a, bad);

	if (err) {
		uint64_t in = *bad - s->below;	/* in the segment */

		*bad = s->start + (in >= a && in < a + n ? in : a);
		return err;
	}
	err = blk_sector_decrypt(cp->c, p, n, s->iv512 + a / 512);
	if (err)
		*bad = s->start + a;
	return err;
}

/* Bytes [r, r + n) of segment s (offsets in it) into buf. */
static int read_in_seg(struct blk_layer *l, const struct blk_crypt_seg *s,
		       char *buf, uint64_t r, size_t n, uint64_t *bad)
{
	const struct crypt_priv *cp = l->priv;
	unsigned int ss = blk_sector_cipher_sector_size(cp->c);

	while (n) {
		uint64_t head = r % ss;
		size_t take;
		int err;

		if (head || n < ss) {	/* a partial sector: bounce */
			char *b = blk_sector_cipher_bounce(cp->c);

			if (!b) {
				*bad = s->start + r;
				return -ENOMEM;
			}
			take = ss - head < n ? ss - head : n;
			err = read_sectors(l, s, b, r - head, ss, bad);
			if (err) {
				explicit_bzero(b, ss);
				return err;
			}
			memcpy(buf, b + head, take);
			explicit_bzero(b, ss);
		} else {
			take = n / ss * ss;
			err = read_sectors(l, s, buf, r, take, bad);
			if (err)
				return err;
		}
		buf += take, r += take, n -= take;
	}
	return 0;
}

static int crypt_read(struct blk_layer *l, void *buf, size_t len,
		      uint64_t off, uint64_t *bad)
{
	const struct crypt_priv *cp = l->priv;
	unsigned int i = 0;

	while (len) {
		const struct blk_crypt_seg *s;
		uint64_t in;
		size_t n;
		int err = 0;

		while (i + 1 < cp->n && cp->seg[i].start + cp->seg[i].len <= off)
			i++;
		s = &cp->seg[i];
		in = off - s->start;
		n = s->len - in < len ? s->len - in : len;
		if (s->zero)
			memset(buf, 0, n);
		else
			err = read_in_seg(l, s, buf, in, n, bad);
		if (err)
			return err;
		buf = (char *)buf + n, off += n, len -= n;
	}
	return 0;
}

static void crypt_describe(const struct blk_layer *l, char *buf, size_t len)
{
	const struct crypt_priv *cp = l->priv;
	char c[128];

	blk_sector_cipher_describe(cp->c, c, sizeof(c));
	snprintf(buf, len, "%s, %s", cp->label, c);
}

static void crypt_free(struct blk_layer *l)
{
	struct crypt_priv *cp = l->priv;

	blk_sector_cipher_free(cp->c);
	free(cp);
}

#define CRYPT_OPS(k) { .kind = k, .read = crypt_read, \
			  .describe = crypt_describe, .free_priv = crypt_free }
static const struct blk_layer_ops crypt_ops[] = {
	CRYPT_OPS("luks1"), CRYPT_OPS("luks2"), CRYPT_OPS("bitlocker"),
	CRYPT_OPS("crypt"),
};

/* The ops whose kind is kind ("crypt" for one not listed). */
static const struct blk_layer_ops *ops_of(const char *kind)
{
	unsigned int i = 0;

	while (i + 1 < sizeof(crypt_ops) / sizeof(crypt_ops[0]) &&
	       strcmp(crypt_ops[i].kind, kind))
		i++;
	return &crypt_ops[i];
}

/* Do the segments tile [0, size) in whole sectors, within below? */
static bool tiles(const struct blk_layer *below, const struct blk_crypt_seg *seg,
		  unsigned int n, uint64_t size, unsigned int ss)
{
	uint64_t at = 0;

	for (unsigned int i = 0; i < n; i++) {
		const struct blk_crypt_seg *s = &seg[i];

		if (s->start != at || !s->len || s->len % ss || s->start % ss ||
		    (!s->zero && (s->below > below->size ||
				  s->len > below->size - s->below)))
			return false;
		at += s->len;
	}
	return at == size;
}

struct blk_layer *blk_crypt_layer_new(struct blk_layer *below,
				      const char *kind, const char *label,
				      struct blk_sector_cipher *c,
				      const struct blk_crypt_seg *seg,
				      unsigned int n, uint64_t size)
{
	unsigned int ss = blk_sector_cipher_sector_size(c);
	struct crypt_priv *cp;
	struct blk_layer *l;

	if (!n || !tiles(below, seg, n, size, ss)) {
		blk_sector_cipher_free(c);
		errno = EINVAL;
		return NULL;
	}
	cp = malloc(sizeof(*cp) + n * sizeof(*seg));
	if (!cp) {
		blk_sector_cipher_free(c);
		return NULL;
	}
	*cp = (struct crypt_priv){ .c = c, .label = label, .n = n };
	memcpy(cp->seg, seg, n * sizeof(*seg));
	l = blk_layer_new(ops_of(kind), below, size, ss, cp);
	if (!l)
		crypt_free(&(struct blk_layer){ .priv = cp });
	return l;
}
