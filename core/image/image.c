// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Evidence containers: which format a source is (by content; split raw by
 * name), and reading its media.  Decoding libraries get one handle per
 * reading thread (none of them promises that one handle may be read from
 * two threads at once; a handle each needs no lock and lets workers decode
 * in parallel), behind one cache of decoded blocks that all threads share
 * (image_cache.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/driver.h"
#include "image/image.h"
#include "base/log.h"

bool blk_image_format_known(const char *word)
{
	if (!strcmp(word, "auto") || !strcmp(word, "raw"))
		return true;
	for (const struct blk_image_driver *const *d = blk_image_drivers; *d; d++)
		if (!strcmp((*d)->name, word))
			return true;
	return false;
}

void blk_image_format_words(char *buf, size_t len, const char *sep)
{
	size_t used = snprintf(buf, len, "auto%sraw", sep);

	for (const struct blk_image_driver *const *d = blk_image_drivers;
	     *d && used < len; d++)
		used += snprintf(buf + used, len - used, "%s%s", sep,
				 (*d)->name);
}

void blk_image_built_formats(char *buf, size_t len)
{
	size_t used = snprintf(buf, len, "raw");

	for (const struct blk_image_driver *const *d = blk_image_drivers;
	     *d && used < len; d++) {
		const struct blk_image_driver *f = *d;

		if (f->built)
			used += snprintf(buf + used, len - used, " %s", f->name);
		else if (f->partial)
			used += snprintf(buf + used, len - used, " %s(%s)",
					 f->name, f->partial);
	}
}

int blk_image_one_file(struct blk_image *im, const char *path)
{
	struct stat st;

	im->seg = calloc(1, sizeof(*im->seg));
	if (!im->seg || !(im->seg[0].path = strdup(path)))
		return -ENOMEM;
	im->nseg = 1;
	im->seg[0].fd = -1;
	im->seg[0].size = stat(path, &st) == 0 ? st.st_size : 0;
	return 0;
}

void blk_image_add_meta(struct blk_image *im, const char *key,
			const char *value)
{
	struct blk_meta *m;

	if (im->nmeta >= BLK_IMAGE_MAX_META || !value || !value[0])
		return;
	m = &im->meta[im->nmeta];
	m->value = strdup(value);
	if (!m->value)
		return;
	snprintf(m->key, sizeof(m->key), "%s", key);
	im->nmeta++;
}

/* ---- detection ---------------------------------------------------------- */

/* The driver the first and last 512 bytes name; NULL for raw, and
 * *unsupported when they name a container blkfuse does not read. */
static const struct blk_image_driver *sniff(const unsigned char *head,
					    const unsigned char *tail,
					    const char **unsupported)
{
	*unsupported = NULL;
	for (const struct blk_image_unsupported *u = blk_image_unsupported;
	     u->magic; u++)
		if (blk_magic(head + u->off, u->magic, u->len)) {
			*unsupported = u->what;
			return NULL;
		}
	for (const struct blk_image_driver *const *d = blk_image_drivers; *d; d++)
		if ((*d)->probe && (*d)->probe(head, tail))
			return *d;
	return NULL;
}

static int read_ends(int fd, uint64_t fsize, unsigned char *head,
		     unsigned char *tail)
{
	memset(head, 0, 512);
	memset(tail, 0, 512);
	if (pread(fd, head, 512, 0) < 0)
		return -errno;
	if (fsize >= 512 && pread(fd, tail, 512, fsize - 512) < 0)
		return -errno;
	return 0;
}

static const struct blk_image_driver *find_driver(const char *name)
{
	for (const struct blk_image_driver *const *d = blk_image_drivers; *d; d++)
		if (!strcmp((*d)->name, name))
			return *d;
	return NULL;
}

/* Raw content that a driver claims by name (split raw): it, or NULL;
 * -errno in *err when the name says so but the set is bad (printed). */
static const struct blk_image_driver *by_name(const char *path, int *err)
{
	for (const struct blk_image_driver *const *d = blk_image_drivers; *d; d++) {
		if (!(*d)->by_name)
			continue;
		*err = (*d)->by_name(path);
		if (*err != -ENOENT)
			return *err ? NULL : *d;
	}
	*err = 0;
	return NULL;
}

/* The driver's open; a format this build lacks is one line. */
static int open_as(struct blk_image *im, const struct blk_image_driver *d,
		   const char *path, int fd, uint64_t fsize,
		   const unsigned char *tail)
{
	int err = d->open ? d->open(im, path, fd, fsize, tail) : -ENOTSUP;

	if (err == -ENOTSUP && !d->built)
		blk_err("%s: %s, but this blkfuse was built without %s (Debian package %s)",
			path, d->what, d->lib, d->pkg);
	return err;
}

/* The driver for format (a --format word) and this content: 0 with *dp
 * (NULL: raw), or -errno printed. */
static int pick_driver(const char *path, const char *format,
		       const unsigned char *head, const unsigned char *tail,
		       const struct blk_image_driver **dp)
{
	const char *unsupported;
	const struct blk_image_driver *content = sniff(head, tail, &unsupported);
	int err = 0;

	*dp = NULL;
	if (!strcmp(format, "auto")) {
		if (unsupported) {
			blk_err("%s: %s; not supported", path, unsupported);
			return -ENOTSUP;
		}
		*dp = content ? content : by_name(path, &err);
		return err;
	}
	*dp = find_driver(format);
	if (!*dp)
		return -EINVAL;
	if (!(*dp)->probe || content == *dp)
		return 0;
	blk_err("%s: not a%s %s image (--format=%s); its content says %s",
		path, strchr("aeiou", format[0]) ? "n" : "", format, format,
		content ? content->name : unsupported ? unsupported : "raw");
	return -EINVAL;
}

int blk_image_open(struct blk_image **imp, const char *path, int fd,
		   uint64_t fsize, const char *format)
{
	static _Atomic unsigned int gens;
	unsigned char head[512], tail[512];
	const struct blk_image_driver *d;
	struct blk_image *im;
	char *abs;
	int err;

	*imp = NULL;
	if (!strcmp(format, "raw"))
		return 0;
	err = read_ends(fd, fsize, head, tail);
	if (err) {
		blk_err("%s: %s", path, strerror(-err));
		return err;
	}
	err = pick_driver(path, format, head, tail, &d);
	if (err || !d)
		return err;
	im = calloc(1, sizeof(*im));
	if (!im)
		return -ENOMEM;
	im->cache_mb = BLK_IMAGE_CACHE_MB_DEFAULT;
	im->gen = atomic_fetch_add(&gens, 1) + 1;
	im->src_fd = fd;
	/* Absolute: handles are opened again after the daemon's chdir("/") */
	abs = realpath(path, NULL);
	err = open_as(im, d, abs ? abs : path, fd, fsize, tail);
	free(abs);
	if (err) {
		blk_image_close(im);
		return err;
	}
	*imp = im;
	return 0;
}

/* ---- one handle and cache per thread ------------------------------------ */

struct tslot {
	const struct blk_image_ops *ops;
	const struct blk_image *im;
	unsigned int gen;
	void *h;
};

static pthread_key_t slot_key;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;

/* Library handles are opened and closed one at a time (see get_slot). */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;

static void slot_release(struct tslot *s)
{
	if (s->h) {
		pthread_mutex_lock(&open_lock);
		s->ops->handle_close(s->h);
		pthread_mutex_unlock(&open_lock);
	}
	s->h = NULL;
	s->im = NULL;
}

static void slot_destroy(void *p)
{
	slot_release(p);
	free(p);
}

static void make_key(void)
{
	pthread_key_create(&slot_key, slot_destroy);
}

/* This thread's handle on im: the slot, or NULL (errno). */
static struct tslot *get_slot(struct blk_image *im)
{
	struct tslot *s;

	pthread_once(&slot_once, make_key);
	s = pthread_getspecific(slot_key);
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s || pthread_setspecific(slot_key, s)) {
			free(s);
			errno = ENOMEM;
			return NULL;
		}
	}
	if (s->im != im || s->gen != im->gen) {
		slot_release(s);
		/*
		 * One open at a time: opening parses headers, and libewf's date
		 * conversion goes through tzset(), whose state TSan sees raced
		 * by two workers opening at once.  It happens once per thread.
		 */
		pthread_mutex_lock(&open_lock);
		s->h = im->ops->handle_open(im);
		pthread_mutex_unlock(&open_lock);
		if (!s->h)
			return NULL;
		s->ops = im->ops;
		s->im = im;
		s->gen = im->gen;
	}
	return s;
}

void blk_image_thread_done(void)
{
	struct tslot *s;

	pthread_once(&slot_once, make_key);
	s = pthread_getspecific(slot_key);
	if (s) {
		pthread_setspecific(slot_key, NULL);
		slot_destroy(s);
	}
}

/* ---- reading ------------------------------------------------------------ */

static int read_mapped(struct blk_image *im, char *buf, size_t len,
		       uint64_t off)
{
	while (len) {
		struct blk_extent e;
		ssize_t n;
		int err = im->ops->map(im, off, &e);

		if (err)
			return err;
		if (e.len > len)
			e.len = len;
		n = pread(e.fd, buf, e.len, e.off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;	/* a segment shrank under us */
		buf += n, off += n, len -= n;
	}
	return 0;
}

/* Where in [off, off + len) decoding fails first, 512 bytes at a time,
 * for libraries that do not say (errors only: the cost does not matter). */
static void find_bad(struct tslot *s, char *buf, size_t len, uint64_t off,
		     uint64_t *bad)
{
	uint64_t dummy;

	for (size_t o = 0; o < len; o += 512)
		if (s->ops->handle_read(s->h, buf, len - o < 512 ? len - o : 512,
					off + o, &dummy)) {
			*bad = off + o;
			return;
		}
}

static int decode(struct blk_image *im, struct tslot *s, void *buf,
		  size_t len, uint64_t off, uint64_t *bad)
{
	int err;

	*bad = UINT64_MAX;
	err = im->ops->handle_read(s->h, buf, len, off, bad);
	if (!err)
		atomic_fetch_add_explicit(&im->decoded_bytes, len,
					  memory_order_relaxed);
	else if (*bad == UINT64_MAX)
		find_bad(s, buf, len, off, bad);
	if (*bad == UINT64_MAX)
		*bad = off;
	return err;
}

int blk_image_decode(struct blk_image *im, void *buf, size_t len,
		     uint64_t off, uint64_t *bad)
{
	struct tslot *s = get_slot(im);

	if (!s) {
		*bad = off;
		return -(errno ? errno : EIO);
	}
	return decode(im, s, buf, len, off, bad);
}

static int read_decoded(struct blk_image *im, char *buf, size_t len,
			uint64_t off, uint64_t *bad, bool use_cache)
{
	unsigned int mb = atomic_load_explicit(&im->cache_mb,
					       memory_order_relaxed);

	if (!use_cache || !mb || im->ops->cheap)
		return blk_image_decode(im, buf, len, off, bad);
	return blk_dcache_read(im, mb, buf, len, off, bad);
}

static int image_read(struct blk_image *im, void *buf, size_t len,
		      uint64_t off, uint64_t *bad, bool use_cache)
{
	*bad = off;
	if (off >= im->size)
		return 0;
	if (len > im->size - off)
		len = im->size - off;
	if (im->ops->map)
		return read_mapped(im, buf, len, off);
	return read_decoded(im, buf, len, off, bad, use_cache);
}

int blk_image_read(struct blk_image *im, void *buf, size_t len, uint64_t off,
		   uint64_t *bad)
{
	return image_read(im, buf, len, off, bad, true);
}

int blk_image_read_uncached(struct blk_image *im, void *buf, size_t len,
			    uint64_t off, uint64_t *bad)
{
	return image_read(im, buf, len, off, bad, false);
}

void blk_image_close(struct blk_image *im)
{
	if (!im)
		return;
	blk_dcache_free(im);
	blk_image_thread_done();
	if (im->ops && im->ops->free_priv)
		im->ops->free_priv(im);
	for (unsigned int i = 0; i < im->nseg; i++) {
		if (im->seg[i].fd >= 0)
			close(im->seg[i].fd);
		if (im->seg[i].lock_fd > 0)
			close(im->seg[i].lock_fd);
		free(im->seg[i].path);
	}
	free(im->seg);
	for (unsigned int i = 0; i < im->nmeta; i++)
		free(im->meta[i].value);
	free(im);
}
