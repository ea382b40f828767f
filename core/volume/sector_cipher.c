// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dm-crypt's sector transforms in user space.  The IV of a sector is made
 * from its number the way dm-crypt's IV generators make it (plain, plain64,
 * essiv:HASH, eboiv), so a volume decrypts here exactly as the kernel
 * would.  Every thread that reads keeps its own pair of libcrypto contexts
 * (key schedule done once), found through a pthread key; they are listed
 * here so that blk_sector_cipher_free frees them all.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "volume/elephant.h"
#include "volume/secret.h"
#include "volume/sector_cipher.h"
#include "volume/xts_run.h"

enum iv_kind { IV_NONE, IV_PLAIN, IV_PLAIN64, IV_ESSIV, IV_EBOIV,
	       IV_ELEPHANT };

struct cs_thread {
	EVP_CIPHER_CTX *data;	/* the sector cipher, keyed */
	EVP_CIPHER_CTX *ivc;	/* ECB for essiv/eboiv, keyed; else NULL */
	EVP_CIPHER_CTX *elc;	/* ECB with the Elephant key; else NULL */
	struct blk_xts_run *xts; /* XTS on 512-byte sectors; else NULL */
	unsigned char *bounce;	/* one sector */
	struct cs_thread *next;
};

struct blk_sector_cipher {
	EVP_CIPHER *data_cipher, *iv_cipher, *el_cipher;
	EVP_CIPHER *xts_ecb;	/* one XTS half's ECB: runs of 512-byte sectors */
	unsigned char *key, *ivkey;	/* locked memory */
	size_t keylen, ivkeylen;
	size_t datalen;		/* of key: the rest is Elephant's sector key */
	enum iv_kind iv;
	unsigned int sector_size, shift;
	char name[96];
	pthread_key_t tls;
	pthread_mutex_t lock;
	struct cs_thread *threads;
};

static int fail(char *why, size_t whylen, int err, const char *fmt,
		const char *a, const char *b)
{
	snprintf(why, whylen, fmt, a, b);
	return err;
}

/* "xts-plain64" -> chain "xts", iv plain64; "cbc-essiv:sha256" -> hash. */
static int parse_mode(const char *mode, char *chain, size_t clen,
		      enum iv_kind *iv, char *hash, size_t hlen)
{
	const char *dash = strchr(mode, '-'), *ivs = dash ? dash + 1 : "";
	size_t n = dash ? (size_t)(dash - mode) : strlen(mode);

	if (n == 0 || n >= clen)
		return -EINVAL;
	memcpy(chain, mode, n);
	chain[n] = '\0';
	hash[0] = '\0';
	if (!*ivs)
		*iv = IV_NONE;
	else if (!strcmp(ivs, "plain"))
		*iv = IV_PLAIN;
	else if (!strcmp(ivs, "plain64"))
		*iv = IV_PLAIN64;
	else if (!strcmp(ivs, "eboiv"))
		*iv = IV_EBOIV;
	else if (!strcmp(ivs, "elephant"))
		*iv = IV_ELEPHANT;
	else if (!strncmp(ivs, "essiv:", 6) && strlen(ivs + 6) < hlen) {
		*iv = IV_ESSIV;
		strcpy(hash, ivs + 6);
	} else
		return -ENOTSUP;
	return 0;
}

/* ESSIV's IV key: HASH(key); EBOIV's: the key itself. */
static int make_iv_key(struct blk_sector_cipher *c, const char *cipher,
		       const char *hash)
{
	char name[64];
	unsigned int n = 0;
	unsigned char md[EVP_MAX_MD_SIZE];

	if (c->iv == IV_ESSIV) {
		EVP_MD *h = EVP_MD_fetch(NULL, hash, NULL);

		if (!h || !EVP_Digest(c->key, c->datalen, md, &n, h, NULL)) {
			EVP_MD_free(h);
			return -ENOTSUP;
		}
		EVP_MD_free(h);
	} else {
		n = c->datalen;
		memcpy(md, c->key, n);
	}
	snprintf(name, sizeof(name), "%s-%u-ecb", cipher, n * 8);
	c->iv_cipher = EVP_CIPHER_fetch(NULL, name, NULL);
	c->ivkey = blk_secret_alloc(n);
	if (c->ivkey)
		memcpy(c->ivkey, md, n), c->ivkeylen = n;
	explicit_bzero(md, sizeof(md));
	if (!c->ivkey)
		return -ENOMEM;
	return c->iv_cipher ? 0 : -ENOTSUP;
}

static int setup(struct blk_sector_cipher *c, const char *cipher,
		 const char *mode, char *why, size_t whylen)
{
	char chain[16], hash[32], name[64];
	size_t bits;
	int err = parse_mode(mode, chain, sizeof(chain), &c->iv, hash,
			     sizeof(hash));

	/* dm-crypt's elephant: the data key, then as long a sector key */
	c->datalen = c->iv == IV_ELEPHANT ? c->keylen / 2 : c->keylen;
	bits = c->datalen * 8;
	if (err)
		return fail(why, whylen, err, "cipher mode %s-%s not supported",
			    cipher, mode);
	if (!strcmp(chain, "xts"))
		bits /= 2;	/* two keys: data and tweak */
	if ((c->iv == IV_NONE) != !strcmp(chain, "ecb"))
		return fail(why, whylen, -ENOTSUP,
			    "cipher mode %s-%s not supported", cipher, mode);
	snprintf(name, sizeof(name), "%s-%zu-%s", cipher, bits, chain);
	c->data_cipher = EVP_CIPHER_fetch(NULL, name, NULL);
	if (!c->data_cipher)
		return fail(why, whylen, -ENOTSUP,
			    "cipher %s-%s not supported by libcrypto", cipher,
			    mode);
	/* xts-plain/plain64 on 512-byte sectors: see xts_run.h */
	if (!strcmp(chain, "xts") && c->sector_size == BLK_XTS_RUN_SECTOR &&
	    (c->iv == IV_PLAIN || c->iv == IV_PLAIN64)) {
		snprintf(name, sizeof(name), "%s-%zu-ecb", cipher, bits);
		c->xts_ecb = EVP_CIPHER_fetch(NULL, name, NULL);
	}
	if (c->iv == IV_ELEPHANT) {
		snprintf(name, sizeof(name), "%s-%zu-ecb", cipher, bits);
		c->el_cipher = EVP_CIPHER_fetch(NULL, name, NULL);
		if (!c->el_cipher)
			return fail(why, whylen, -ENOTSUP, "cipher %s-%s not "
				    "supported by libcrypto", cipher, mode);
	}
	if (c->iv == IV_ESSIV || c->iv == IV_EBOIV || c->iv == IV_ELEPHANT) {
		err = make_iv_key(c, cipher, hash);
		if (err)
			return fail(why, whylen, err,
				    "IV generator of %s-%s not supported",
				    cipher, mode);
	}
	snprintf(c->name, sizeof(c->name), "%s-%s, %zu-bit key", cipher, mode,
		 c->keylen * 8);
	return 0;
}

int blk_sector_cipher_new(struct blk_sector_cipher **out, const char *cipher,
			  const char *mode, const void *key, size_t keylen,
			  unsigned int sector_size, bool iv_large,
			  char *why, size_t whylen)
{
	struct blk_sector_cipher *c = calloc(1, sizeof(*c));
	int err = -ENOMEM;

	*out = NULL;
	if (!c || !(c->key = blk_secret_alloc(keylen)))
		goto out_free;
	memcpy(c->key, key, keylen);
	c->keylen = keylen;
	c->sector_size = sector_size;
	for (unsigned int s = sector_size / 512; iv_large && s > 1; s /= 2)
		c->shift++;
	err = setup(c, cipher, mode, why, whylen);
	if (err)
		goto out_free;
	if (pthread_key_create(&c->tls, NULL) != 0) {
		err = -EAGAIN;
		goto out_free;
	}
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
out_free:
	if (err == -ENOMEM)
		snprintf(why, whylen, "out of memory");
	if (c) {
		EVP_CIPHER_free(c->data_cipher);
		EVP_CIPHER_free(c->iv_cipher);
		EVP_CIPHER_free(c->el_cipher);
		EVP_CIPHER_free(c->xts_ecb);
		blk_secret_free(c->key, c->keylen);
		blk_secret_free(c->ivkey, c->ivkeylen);
	}
	free(c);
	return err;
}

static void thread_free(struct cs_thread *t)
{
	EVP_CIPHER_CTX_free(t->data);	/* cleanses the key schedule */
	EVP_CIPHER_CTX_free(t->ivc);
	EVP_CIPHER_CTX_free(t->elc);
	blk_xts_run_free(t->xts);
	free(t->bounce);
	free(t);
}

void blk_sector_cipher_free(struct blk_sector_cipher *c)
{
	if (!c)
		return;
	pthread_key_delete(c->tls);
	pthread_mutex_destroy(&c->lock);
	while (c->threads) {
		struct cs_thread *t = c->threads;

		c->threads = t->next;
		thread_free(t);
	}
	EVP_CIPHER_free(c->data_cipher);
	EVP_CIPHER_free(c->iv_cipher);
	EVP_CIPHER_free(c->el_cipher);
	EVP_CIPHER_free(c->xts_ecb);
	blk_secret_free(c->key, c->keylen);
	blk_secret_free(c->ivkey, c->ivkeylen);
	free(c);
}

unsigned int blk_sector_cipher_sector_size(const struct blk_sector_cipher *c)
{
	return c->sector_size;
}

void blk_sector_cipher_describe(const struct blk_sector_cipher *c, char *buf,
				size_t len)
{
	snprintf(buf, len, "%s, %u-byte sectors", c->name, c->sector_size);
}

static struct cs_thread *thread_new(const struct blk_sector_cipher *c)
{
	struct cs_thread *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->data = EVP_CIPHER_CTX_new();
	t->bounce = malloc(c->sector_size);
	if (!t->data || !t->bounce ||
	    !EVP_DecryptInit_ex2(t->data, c->data_cipher, c->key, NULL, NULL))
		goto fail;
	EVP_CIPHER_CTX_set_padding(t->data, 0);
	if (c->iv_cipher) {
		t->ivc = EVP_CIPHER_CTX_new();
		if (!t->ivc || !EVP_EncryptInit_ex2(t->ivc, c->iv_cipher,
						    c->ivkey, NULL, NULL))
			goto fail;
		EVP_CIPHER_CTX_set_padding(t->ivc, 0);
	}
	if (c->el_cipher) {
		t->elc = EVP_CIPHER_CTX_new();
		if (!t->elc || !EVP_EncryptInit_ex2(t->elc, c->el_cipher,
						    c->key + c->datalen, NULL,
						    NULL))
			goto fail;
		EVP_CIPHER_CTX_set_padding(t->elc, 0);
	}
	if (c->xts_ecb) {
		t->xts = blk_xts_run_new(c->xts_ecb, c->key, c->datalen / 2);
		if (!t->xts)
			goto fail;
	}
	return t;
fail:
	thread_free(t);
	return NULL;
}

/* The calling thread's contexts, made on its first use: NULL, ENOMEM. */
static struct cs_thread *thread_state(struct blk_sector_cipher *c)
{
	struct cs_thread *t = pthread_getspecific(c->tls);

	if (t)
		return t;
	t = thread_new(c);
	if (!t)
		return NULL;
	if (pthread_setspecific(c->tls, t) != 0) {
		thread_free(t);
		return NULL;
	}
	pthread_mutex_lock(&c->lock);
	t->next = c->threads;
	c->threads = t;
	pthread_mutex_unlock(&c->lock);
	return t;
}

void *blk_sector_cipher_bounce(struct blk_sector_cipher *c)
{
	struct cs_thread *t = thread_state(c);

	return t ? t->bounce : NULL;
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* dm-crypt's IV for sector number n (already in IV units). */
static int make_iv(const struct blk_sector_cipher *c, struct cs_thread *t,
		   uint64_t n, unsigned char iv[16])
{
	unsigned char blk[16] = { 0 };
	int outl;

	memset(iv, 0, 16);
	switch (c->iv) {
	case IV_NONE:
		return 0;
	case IV_PLAIN:
		put_le64(iv, n & 0xffffffffu);
		return 0;
	case IV_PLAIN64:
		put_le64(iv, n);
		return 0;
	case IV_ESSIV:
		put_le64(blk, n);
		break;
	case IV_EBOIV:
	case IV_ELEPHANT:
		put_le64(blk, n * c->sector_size);
		break;
	}
	return EVP_EncryptUpdate(t->ivc, iv, &outl, blk, 16) && outl == 16 ?
	       0 : -EIO;
}

/* Elephant's sector key of sector n: E(Ks, e(s)) || E(Ks, e'(s)). */
static int elephant(const struct blk_sector_cipher *c, struct cs_thread *t,
		    uint64_t n, unsigned char *sector)
{
	unsigned char e[32] = { 0 }, ks[32];
	int l1 = 0, l2 = 0;

	put_le64(e, n * c->sector_size);
	memcpy(e + 16, e, 16);
	e[31] = 0x80;
	if (!EVP_EncryptUpdate(t->elc, ks, &l1, e, 16) ||
	    !EVP_EncryptUpdate(t->elc, ks + 16, &l2, e + 16, 16) ||
	    l1 != 16 || l2 != 16)
		return -EIO;
	blk_elephant_undo(sector, c->sector_size, ks);
	explicit_bzero(ks, sizeof(ks));
	return 0;
}

int blk_sector_decrypt(struct blk_sector_cipher *c, void *buf, size_t len,
		       uint64_t sector512)
{
	struct cs_thread *t = thread_state(c);
	unsigned char *p = buf, iv[16];
	uint64_t step = c->sector_size / 512;

	if (!t)
		return -ENOMEM;
	if (t->xts)
		return blk_xts_run_decrypt(t->xts, buf, len, sector512 >> c->shift,
					   c->iv == IV_PLAIN ? 0xffffffffu :
					   UINT64_MAX);
	for (size_t i = 0; i < len / c->sector_size; i++) {
		int outl = 0;

		if (make_iv(c, t, (sector512 + i * step) >> c->shift, iv) ||
		    (c->iv != IV_NONE &&
		     !EVP_DecryptInit_ex2(t->data, NULL, NULL, iv, NULL)) ||
		    !EVP_DecryptUpdate(t->data, p, &outl, p,
				       (int)c->sector_size) ||
		    outl != (int)c->sector_size)
			return -EIO;
		if (c->iv == IV_ELEPHANT &&
		    elephant(c, t, (sector512 + i * step) >> c->shift, p))
			return -EIO;
		p += c->sector_size;
	}
	explicit_bzero(iv, sizeof(iv));
	return 0;
}
