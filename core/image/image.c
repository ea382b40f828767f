// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Evidence containers: which format a source is (by content; split raw by
 * name), and reading its media.  Decoding libraries get one handle per
 * reading thread (none of them promises that one handle may be read from
 * two threads at once; a handle each needs no lock and lets workers decode
 * in parallel), and each thread keeps a bounded direct-mapped cache of
 * decoded 64 KiB blocks in front of it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/image.h"
#include "log.h"

#define CBLK (64u << 10)
#define BIG_READ (1u << 20)	/* past any FUSE read: not cached */

const char *const blk_image_formats[] = {
	"auto", "raw", "ewf", "split", "aff", "qcow2", "vmdk", "vhd", "vhdx",
	NULL
};

extern const bool blk_img_ewf_built, blk_img_aff_built, blk_img_qcow_built,
	blk_img_vmdk_built, blk_img_vhdi_built;

struct format {
	const char *name;	/* --format word */
	const char *what;	/* in messages */
	const char *lib, *pkg;	/* the library it needs, and its package */
	const bool *built;
};

static const struct format formats[] = {
	{ "ewf", "EWF (E01)", "libewf", "libewf-dev", &blk_img_ewf_built },
	{ "aff", "AFF", "afflib", "libafflib-dev", &blk_img_aff_built },
	{ "qcow2", "QCOW2", "libqcow", "libqcow-dev", &blk_img_qcow_built },
	{ "vmdk", "VMDK", "libvmdk", "libvmdk-dev", &blk_img_vmdk_built },
	{ "vhd", "dynamic VHD", "libvhdi", "libvhdi-dev", &blk_img_vhdi_built },
	{ "vhdx", "VHDX", "libvhdi", "libvhdi-dev", &blk_img_vhdi_built },
};

void blk_image_built_formats(char *buf, size_t len)
{
	size_t used = snprintf(buf, len, "raw split vhd(fixed)");

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (*formats[i].built && used < len &&
		    strcmp(formats[i].name, "vhd"))
			used += snprintf(buf + used, len - used, " %s",
					 formats[i].name);
	if (blk_img_vhdi_built && used < len)
		snprintf(buf + used, len - used, " vhd(dynamic)");
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

static bool has(const unsigned char *b, const char *magic, size_t n)
{
	return memcmp(b, magic, n) == 0;
}

/* The format word for what the first and last 512 bytes say; "raw" if
 * nothing; *unsupported names a container blkfuse knows but cannot read. */
static const char *sniff(const unsigned char *head, const unsigned char *tail,
			 const char **unsupported)
{
	*unsupported = NULL;
	if (has(head, "EVF\x09\x0d\x0a\xff\x00", 8))
		return "ewf";
	if (has(head, "EVF2\x0d\x0a\x81\x00", 8))
		*unsupported = "EWF2 (Ex01) image";
	else if (has(head, "LVF\x09\x0d\x0a\xff\x00", 8))
		*unsupported = "EWF logical evidence (L01) file, not a disk image";
	else if (has(head, "LUKS\xba\xbe", 6))
		*unsupported = "LUKS encrypted volume";
	else if (has(head + 0x40, "\x7f\x10\xda\xbe", 4))
		*unsupported = "VirtualBox VDI image";
	if (*unsupported)
		return NULL;
	if (has(head, "AFF10\r\n", 8))
		return "aff";
	if (has(head, "QFI\xfb", 4))
		return "qcow2";
	if (has(head, "KDMV", 4) || has(head, "COWD", 4) ||
	    has(head, "# Disk DescriptorFile", 21))
		return "vmdk";
	if (has(head, "vhdxfile", 8))
		return "vhdx";
	if (has(head, "conectix", 8) || has(tail, "conectix", 8))
		return "vhd";
	return "raw";
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

static const struct format *find_format(const char *name)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!strcmp(formats[i].name, name))
			return &formats[i];
	return NULL;
}

/* The format's open; a format this build lacks is one line. */
static int open_as(struct blk_image *im, const char *fmt, const char *path,
		   int fd, uint64_t fsize, const unsigned char *tail)
{
	const struct format *f;

	if (!strcmp(fmt, "split"))
		return blk_img_split_open(im, path);
	/* A flat VMDK is raw extent files: no library needed either. */
	if (!strcmp(fmt, "vmdk")) {
		int err = blk_img_vmdk_flat_open(im, path, fd, fsize);

		if (err != -ENOENT)
			return err;
	}
	/* A fixed VHD is the raw disk and a footer: no library needed. */
	if (!strcmp(fmt, "vhd") && has(tail, "conectix", 8) &&
	    tail[60] == 0 && tail[61] == 0 && tail[62] == 0 && tail[63] == 2)
		return blk_img_vhd_fixed_open(im, path, fd, fsize);
	f = find_format(fmt);
	if (!f)
		return -EINVAL;
	if (!*f->built) {
		blk_err("%s: %s, but this blkfuse was built without %s (Debian package %s)",
			path, f->what, f->lib, f->pkg);
		return -ENOTSUP;
	}
	if (!strcmp(fmt, "ewf"))
		return blk_img_ewf_open(im, path);
	if (!strcmp(fmt, "aff"))
		return blk_img_aff_open(im, path);
	if (!strcmp(fmt, "qcow2"))
		return blk_img_qcow_open(im, path);
	if (!strcmp(fmt, "vmdk"))
		return blk_img_vmdk_open(im, path);
	return blk_img_vhdi_open(im, path);
}

int blk_image_open(struct blk_image **imp, const char *path, int fd,
		   uint64_t fsize, const char *format)
{
	static _Atomic unsigned int gens;
	unsigned char head[512], tail[512];
	const char *fmt = format, *unsupported = NULL;
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
	fmt = sniff(head, tail, &unsupported);
	if (strcmp(format, "auto") && strcmp(format, "split") &&
	    (!fmt || strcmp(fmt, format))) {
		blk_err("%s: not a%s %s image (--format=%s); its content says %s",
			path, strchr("aeiou", format[0]) ? "n" : "", format,
			format, fmt ? fmt : unsupported);
		return -EINVAL;
	}
	fmt = format;
	if (!strcmp(format, "auto")) {
		fmt = sniff(head, tail, &unsupported);
		if (unsupported) {
			blk_err("%s: %s; not supported", path, unsupported);
			return -ENOTSUP;
		}
		err = strcmp(fmt, "raw") ? -ENOENT :
					   blk_img_split_open(NULL, path);
		if (err == -EINVAL)
			return err;
		if (!err)
			fmt = "split";
		if (!strcmp(fmt, "raw"))
			return 0;
	}
	im = calloc(1, sizeof(*im));
	if (!im)
		return -ENOMEM;
	im->cache_mb = BLK_IMAGE_CACHE_MB_DEFAULT;
	im->gen = atomic_fetch_add(&gens, 1) + 1;
	im->src_fd = fd;
	/* Absolute: handles are opened again after the daemon's chdir("/") */
	abs = realpath(path, NULL);
	err = open_as(im, fmt, abs ? abs : path, fd, fsize, tail);
	free(abs);
	if (err) {
		blk_image_close(im);
		return err;
	}
	*imp = im;
	return 0;
}

/* ---- one handle and cache per thread ------------------------------------ */

struct cblock {
	uint64_t tag;		/* block number + 1; 0: empty */
	uint32_t len;
	char *data;
};

struct tslot {
	const struct blk_image_ops *ops;
	const struct blk_image *im;
	unsigned int gen;
	void *h;
	struct cblock *blk;
	unsigned int nblk;
};

static pthread_key_t slot_key;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;

static void cache_free(struct tslot *s)
{
	for (unsigned int i = 0; i < s->nblk; i++)
		free(s->blk[i].data);
	free(s->blk);
	s->blk = NULL;
	s->nblk = 0;
}

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
	cache_free(s);
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

/* The cache of s sized for cache_mb: 0 or -ENOMEM. */
static int cache_fit(struct tslot *s, unsigned int mb)
{
	unsigned int want = mb * ((1u << 20) / CBLK);

	if (s->nblk == want)
		return 0;
	cache_free(s);
	s->blk = calloc(want, sizeof(*s->blk));
	if (!s->blk)
		return -ENOMEM;
	s->nblk = want;
	return 0;
}

/* Block b of the media through the cache: its entry, or NULL (*err). */
static struct cblock *cached_block(struct blk_image *im, struct tslot *s,
				   uint64_t b, uint64_t *bad, int *err)
{
	struct cblock *c = &s->blk[b % s->nblk];
	uint64_t at = b * CBLK;

	if (c->tag == b + 1) {
		atomic_fetch_add_explicit(&im->cache_hits, 1,
					  memory_order_relaxed);
		return c;
	}
	atomic_fetch_add_explicit(&im->cache_misses, 1, memory_order_relaxed);
	if (!c->data && !(c->data = malloc(CBLK))) {
		*err = -ENOMEM;
		return NULL;
	}
	c->tag = 0;
	c->len = im->size - at < CBLK ? im->size - at : CBLK;
	*err = decode(im, s, c->data, c->len, at, bad);
	if (*err)
		return NULL;
	c->tag = b + 1;
	return c;
}

/* Part of one block through the cache: 0 or -errno. */
static int read_partial(struct blk_image *im, struct tslot *s, char *buf,
			size_t n, uint64_t off, uint64_t *bad)
{
	int err = 0;
	struct cblock *c = cached_block(im, s, off / CBLK, bad, &err);

	if (c) {
		memcpy(buf, c->data + off % CBLK, n);
		return 0;
	}
	/* a bad chunk fails only the reads that need it, not its
	 * neighbours in the same cache block */
	return err == -EIO ? decode(im, s, buf, n, off, bad) : err;
}

/*
 * Whole blocks are decoded straight into buf (a sequential reader never
 * pays a copy); the cache holds the blocks a read covers only in part,
 * which its neighbour (on this worker) or a small reader needs next.
 */
static int read_decoded(struct blk_image *im, char *buf, size_t len,
			uint64_t off, uint64_t *bad, bool use_cache)
{
	unsigned int mb = atomic_load_explicit(&im->cache_mb,
					       memory_order_relaxed);
	struct tslot *s = get_slot(im);
	int err = 0;

	if (!s)
		return -(errno ? errno : EIO);
	if (!use_cache || !mb || len >= BIG_READ || cache_fit(s, mb))
		return decode(im, s, buf, len, off, bad);
	while (len && !err) {
		uint64_t in = off % CBLK;
		size_t n = CBLK - in < len ? CBLK - in : len;

		if (!in && len >= CBLK) {	/* the whole blocks at once */
			n = len - len % CBLK;
			err = decode(im, s, buf, n, off, bad);
		} else {
			err = read_partial(im, s, buf, n, off, bad);
		}
		buf += n, off += n, len -= n;
	}
	return err;
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

void blk_img_error_tail(const char *backtrace, char *buf, size_t len)
{
	size_t n = strlen(backtrace);
	const char *line;

	while (n && backtrace[n - 1] == '\n')
		n--;
	for (line = backtrace + n; line > backtrace && line[-1] != '\n'; line--)
		;
	snprintf(buf, len, "%.*s", (int)(backtrace + n - line), line);
}
