// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkfuse's own reader of EWF-E01 chunks, with libdeflate (issue 22).
 * libewf (Debian 12 ships a 2014 snapshot) spends 80 % of a sequential
 * read in zlib's inflate and adler32; libdeflate does both several times
 * faster.  libewf still opens and checks the set first (image_ewf.c), and
 * stays the reader of everything this one does not recognise: the
 * section chain is walked and each table checked here, and any surprise
 * (SMART/EWF-S01 volume, table checksum, chunk offsets that wrap past
 * 2 GiB, sizes that do not add up, a chunk count other than the volume's)
 * leaves the image to libewf.
 *
 * A segment is the 13-byte file header, then sections, each a 76-byte
 * descriptor (type, next section's offset, size) and its data.  "volume"
 * (or "disk") holds the chunk count, sectors per chunk, bytes per sector
 * and sector count; "sectors" the chunks; "table" a header (entries, base
 * offset, Adler-32) and one 32-bit entry per chunk: bit 31 compressed,
 * the rest the chunk's offset from the base.  A chunk ends where the
 * next begins; a table's last ends with its "sectors" section.  A
 * compressed chunk is a zlib stream (its Adler-32 inside), a stored one
 * its bytes and their Adler-32 (little-endian).
 *
 * A compressed chunk whose stream is byte for byte one seen before to
 * inflate to zeros is zeros, without inflating (ewfacquire compresses
 * every empty chunk the same way).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/util.h"
#include "image/image.h"
#include "image/image_ewf_own.h"

#ifndef HAVE_LIBDEFLATE
int blk_ewf_own_open(struct blk_image *im, char *const *names, int n,
		     uint32_t bps, uint32_t spc)
{
	(void)im, (void)names, (void)n, (void)bps, (void)spc;
	return -ENOTSUP;
}
#else
#include <libdeflate.h>

#define DESC 76			/* section descriptor */
#define VOLUME_E01 1052		/* volume data of EWF-E01 (SMART's: 94) */
#define ZERO_MAX 512		/* compressed zero chunks remembered: bytes */
#define ZERO_N 4		/* ... and how many */
#define MAX_SECTIONS 1000000

struct ewf_table {
	uint64_t base, end;	/* entries' base; the last chunk's end */
	uint64_t first;		/* chunk number of the first entry */
	uint32_t n;
	unsigned int seg;
};

struct ewf_zero {
	uint32_t len;
	unsigned char b[ZERO_MAX];
};

struct ewf_own {
	uint32_t *ent;		/* raw table entries, one per chunk */
	uint64_t nchunks, media;
	uint32_t chunk;		/* bytes */
	struct ewf_table *tab;
	unsigned int ntab, cap;
	const struct blk_image *im;
	int *fd;		/* each segment: a dup of what image_ewf.c holds */
	pthread_mutex_t zlock;
	_Atomic unsigned int nzero;
	struct ewf_zero zero[ZERO_N];
};

struct own_handle {
	struct ewf_own *o;
	struct libdeflate_decompressor *d;
	unsigned char *cbuf;	/* one chunk as stored */
	unsigned char *part;	/* one chunk decoded, for partial reads */
};

/* ---- open: the section chain of every segment --------------------------- */

static int add_table(struct ewf_own *o, int fd, uint64_t off, uint64_t size,
		     uint64_t sectors_end, unsigned int seg)
{
	unsigned char h[24];
	struct ewf_table *t;
	uint32_t n;

	if (size < DESC + 24 || blk_pread_all(fd, h, 24, off + DESC) ||
	    libdeflate_adler32(1, h, 20) != blk_le32(h + 20))
		return -ENOTSUP;
	n = blk_le32(h);
	if (!n || size < DESC + 24 + 4ull * n)
		return -ENOTSUP;
	if (o->ntab == o->cap) {
		unsigned int cap = o->cap ? 2 * o->cap : 64;
		void *p = realloc(o->tab, cap * sizeof(*o->tab));

		if (!p)
			return -ENOMEM;
		o->tab = p, o->cap = cap;
	}
	t = &o->tab[o->ntab];
	t->first = o->ntab ? t[-1].first + t[-1].n : 0;
	if (t->first + n > o->nchunks)
		return -ENOTSUP;
	t->n = n, t->seg = seg, t->base = blk_le64(h + 8);
	/* the chunks sit in the "sectors" section before the table (EnCase
	 * 2 and later); else they end where the table begins */
	t->end = sectors_end && sectors_end <= off ? sectors_end : off;
	if (blk_pread_all(fd, o->ent + t->first, 4ull * n, off + DESC + 24))
		return -ENOTSUP;
	for (uint32_t i = 0; i < n; i++)
		o->ent[t->first + i] = blk_le32((unsigned char *)&o->ent[t->first + i]);
	o->ntab++;
	return 0;
}

/* The volume section: the chunk geometry, as libewf reported it. */
static int check_volume(struct ewf_own *o, int fd, uint64_t off,
			uint64_t size, uint32_t bps, uint32_t spc)
{
	unsigned char v[24];

	if (size < DESC + VOLUME_E01 || blk_pread_all(fd, v, 24, off + DESC))
		return -ENOTSUP;	/* SMART (S01) or unknown */
	if (blk_le32(v + 8) != spc || blk_le32(v + 12) != bps ||
	    blk_le64(v + 16) * bps != o->media || !blk_le32(v + 4))
		return -ENOTSUP;
	o->nchunks = blk_le32(v + 4);
	if ((o->nchunks - 1) * o->chunk >= o->media ||
	    o->nchunks * o->chunk < o->media)
		return -ENOTSUP;
	o->ent = malloc(o->nchunks * sizeof(*o->ent));
	return o->ent ? 0 : -ENOMEM;
}

static int walk_segment(struct ewf_own *o, int fd, unsigned int seg,
			uint64_t fsize, uint32_t bps, uint32_t spc)
{
	uint64_t off = 13, sectors_end = 0;
	int err = 0;

	for (unsigned int i = 0; !err && i < MAX_SECTIONS; i++) {
		unsigned char d[DESC];
		uint64_t next, size;
		char type[17] = "";

		if (off + DESC > fsize || blk_pread_all(fd, d, DESC, off))
			return -ENOTSUP;
		memcpy(type, d, 16);
		next = blk_le64(d + 16), size = blk_le64(d + 24);
		if (!strcmp(type, "done") || !strcmp(type, "next"))
			return 0;
		if (!strcmp(type, "volume") || !strcmp(type, "disk"))
			err = o->ent ? 0 : check_volume(o, fd, off, size, bps, spc);
		else if (!strcmp(type, "sectors"))
			sectors_end = off + size;
		else if (!strcmp(type, "table"))
			err = o->ent ? add_table(o, fd, off, size, sectors_end, seg)
				     : -ENOTSUP;
		if (next <= off || next > fsize)
			return -ENOTSUP;
		off = next;
	}
	return err ? err : -ENOTSUP;
}

/* Every chunk's stored size plausible: else libewf reads the image. */
static int check_chunks(const struct ewf_own *o)
{
	for (unsigned int t = 0; t < o->ntab; t++) {
		const struct ewf_table *tb = &o->tab[t];

		for (uint32_t i = 0; i < tb->n; i++) {
			uint64_t c = tb->first + i;
			uint64_t at = tb->base + (o->ent[c] & 0x7fffffff);
			uint64_t end = i + 1 < tb->n ?
				tb->base + (o->ent[c + 1] & 0x7fffffff) : tb->end;
			uint64_t want = o->media - c * o->chunk < o->chunk ?
					o->media - c * o->chunk : o->chunk;

			if (end <= at || end > o->im->seg[tb->seg].size)
				return -ENOTSUP;
			if (o->ent[c] >> 31 ? end - at > 2 * want + 1024 :
					      end - at != want + 4)
				return -ENOTSUP;
		}
	}
	return 0;
}

/* ---- reading ------------------------------------------------------------- */

static const struct ewf_table *table_of(const struct ewf_own *o, uint64_t c)
{
	unsigned int lo = 0, hi = o->ntab;

	while (hi - lo > 1) {
		unsigned int mid = (lo + hi) / 2;

		if (o->tab[mid].first <= c)
			lo = mid;
		else
			hi = mid;
	}
	return &o->tab[lo];
}

static bool known_zero(struct ewf_own *o, const unsigned char *z, size_t len)
{
	unsigned int n = atomic_load_explicit(&o->nzero, memory_order_acquire);

	for (unsigned int i = 0; i < n; i++)
		if (o->zero[i].len == len && !memcmp(o->zero[i].b, z, len))
			return true;
	return false;
}

/* A small stream that inflated to zeros: remembered for the next one. */
static void learn_zero(struct ewf_own *o, const unsigned char *z, size_t len,
		       const unsigned char *out, size_t outlen)
{
	unsigned int n;

	if (len > ZERO_MAX || out[0] || memcmp(out, out + 1, outlen - 1))
		return;
	pthread_mutex_lock(&o->zlock);
	n = atomic_load(&o->nzero);
	if (n < ZERO_N && !known_zero(o, z, len)) {
		o->zero[n].len = len;
		memcpy(o->zero[n].b, z, len);
		atomic_store_explicit(&o->nzero, n + 1, memory_order_release);
	}
	pthread_mutex_unlock(&o->zlock);
}

/* Chunk c, want bytes of it, into out: 0 or -EIO (corrupt, or unreadable). */
static int chunk_read(struct own_handle *h, uint64_t c, unsigned char *out,
		      size_t want)
{
	struct ewf_own *o = h->o;
	const struct ewf_table *t = table_of(o, c);
	uint64_t at = t->base + (o->ent[c] & 0x7fffffff);
	uint64_t end = c + 1 < t->first + t->n ?
		t->base + (o->ent[c + 1] & 0x7fffffff) : t->end;
	int fd = o->fd[t->seg];
	size_t got = 0;

	if (!(o->ent[c] >> 31)) {	/* stored: bytes, then their Adler-32 */
		unsigned char sum[4];
		struct iovec iov[2] = { { out, want }, { sum, 4 } };

		if (preadv(fd, iov, 2, at) != (ssize_t)want + 4)
			return -EIO;
		return libdeflate_adler32(1, out, want) == blk_le32(sum) ? 0 : -EIO;
	}
	if (blk_pread_all(fd, h->cbuf, end - at, at))
		return -EIO;
	if (end - at <= ZERO_MAX && known_zero(o, h->cbuf, end - at)) {
		memset(out, 0, want);
		return 0;
	}
	if (libdeflate_zlib_decompress(h->d, h->cbuf, end - at, out, want,
				       &got) != LIBDEFLATE_SUCCESS || got != want)
		return -EIO;
	learn_zero(o, h->cbuf, end - at, out, want);
	return 0;
}

static int own_read(void *hp, void *buf, size_t len, uint64_t off,
		    uint64_t *bad)
{
	struct own_handle *h = hp;
	struct ewf_own *o = h->o;
	unsigned char *p = buf;

	while (len) {
		uint64_t c = off / o->chunk, in = off % o->chunk;
		size_t want = o->media - c * o->chunk < o->chunk ?
			      o->media - c * o->chunk : o->chunk;
		size_t n = want - in < len ? want - in : len;
		int err;

		if (c >= o->nchunks)
			return -EIO;
		if (!in && n == want) {
			err = chunk_read(h, c, p, want);
		} else {
			err = chunk_read(h, c, h->part, want);
			if (!err)
				memcpy(p, h->part + in, n);
		}
		if (err) {
			*bad = c * o->chunk;
			return err;
		}
		p += n, off += n, len -= n;
	}
	return 0;
}

static void own_handle_close(void *hp)
{
	struct own_handle *h = hp;

	if (!h)
		return;
	if (h->d)
		libdeflate_free_decompressor(h->d);
	free(h->cbuf);
	free(h->part);
	free(h);
}

static void *own_handle_open(struct blk_image *im)
{
	struct own_handle *h = calloc(1, sizeof(*h));
	struct ewf_own *o = im->priv;

	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	h->o = o;
	h->d = libdeflate_alloc_decompressor();
	h->cbuf = malloc(2 * (size_t)o->chunk + 1024);
	h->part = malloc(o->chunk);
	if (!h->d || !h->cbuf || !h->part) {
		own_handle_close(h);
		errno = ENOMEM;
		return NULL;
	}
	return h;
}

static void own_destroy(struct ewf_own *o, unsigned int nseg)
{
	for (unsigned int i = 0; o->fd && i < nseg; i++)
		if (o->fd[i] >= 0)
			close(o->fd[i]);
	pthread_mutex_destroy(&o->zlock);
	free(o->fd);
	free(o->ent);
	free(o->tab);
	free(o);
}

static void own_free(struct blk_image *im)
{
	if (im->priv)
		own_destroy(im->priv, im->nseg);
	im->priv = NULL;
}

static const struct blk_image_ops own_ops = {
	.name		= "ewf",
	.handle_open	= own_handle_open,
	.handle_read	= own_read,
	.handle_close	= own_handle_close,
	.free_priv	= own_free,
};

/* The set's tables, or -ENOTSUP (libewf reads it) / -ENOMEM. */
static int own_load(struct ewf_own *o, struct blk_image *im, uint32_t bps,
		    uint32_t spc)
{
	int err = 0;

	o->fd = malloc(im->nseg * sizeof(*o->fd));
	if (!o->fd)
		return -ENOMEM;
	for (unsigned int i = 0; i < im->nseg; i++)
		o->fd[i] = -1;
	/* the files libewf checked, held open by image_ewf.c (the first is
	 * the source itself), never their names again */
	for (unsigned int i = 0; !err && i < im->nseg; i++) {
		int held = i == 0 ? im->src_fd : im->seg[i].lock_fd;

		o->fd[i] = held > 0 ? fcntl(held, F_DUPFD_CLOEXEC, 0) : -1;
		if (o->fd[i] < 0)
			return -ENOTSUP;
		err = walk_segment(o, o->fd[i], i, im->seg[i].size, bps, spc);
	}
	if (!err && (!o->ntab || o->tab[o->ntab - 1].first +
				 o->tab[o->ntab - 1].n != o->nchunks))
		err = -ENOTSUP;
	return err ? err : check_chunks(o);
}

int blk_ewf_own_open(struct blk_image *im, char *const *names, int n,
		     uint32_t bps, uint32_t spc)
{
	struct ewf_own *o;
	const char *env = getenv("BLKFUSE_EWF_READER");
	int err;

	(void)names;
	if ((env && !strcmp(env, "libewf")) || (unsigned int)n != im->nseg ||
	    !bps || !spc || (uint64_t)bps * spc > (16u << 20))
		return -ENOTSUP;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	pthread_mutex_init(&o->zlock, NULL);
	o->im = im, o->media = im->size, o->chunk = bps * spc;
	err = own_load(o, im, bps, spc);
	if (err) {
		own_destroy(o, im->nseg);
		return err;
	}
	im->ops = &own_ops;
	im->priv = o;
	return 0;
}
#endif
