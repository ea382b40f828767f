// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * EWF (E01 and its segments E02 ...) through libewf.  The segment set is
 * found from the first file by libewf_glob and checked here, so that a
 * missing or duplicate segment is one line naming it.  A chunk whose
 * checksum fails is an error for the read that met it (libewf hands back
 * the bytes and only counts the error), with the chunk's media offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"
#include "image/driver.h"
#include "image/image.h"
#include "image/libyal.h"
#include "base/log.h"
#include "image/ewf_check.h"
#include "image/image_ewf_own.h"
#include "base/log.h"
#include "base/noatime.h"

#ifdef HAVE_LIBEWF
#include <libewf.h>

struct ewf_priv {
	char **names;		/* as found by libewf_glob */
	char **fdnames;		/* /proc/self/fd/N of each, what libewf opens */
	int n;
};

struct ewf_handle {
	libewf_handle_t *h;
	uint32_t bps;
};

/* libewf's last (innermost) message, for the one line. */
static void ewf_msg(libewf_error_t *e, char *buf, size_t len)
{
	BLK_LIBYAL_MSG(libewf, e, buf, len);
}

static libewf_handle_t *open_names(char **names, int n, char *msg, size_t len)
{
	libewf_handle_t *h = NULL;
	libewf_error_t *e = NULL;

	if (libewf_handle_initialize(&h, &e) != 1) {
		ewf_msg(e, msg, len);
		return NULL;
	}
	if (libewf_handle_open(h, names, n, LIBEWF_OPEN_READ, &e) != 1) {
		ewf_msg(e, msg, len);
		libewf_handle_free(&h, NULL);
		return NULL;
	}
	return h;
}

static void *ewf_handle_open(struct blk_image *im)
{
	struct ewf_priv *p = im->priv;
	struct ewf_handle *eh = calloc(1, sizeof(*eh));
	char msg[256];

	if (!eh)
		return NULL;
	eh->h = open_names(p->fdnames, p->n, msg, sizeof(msg));
	if (!eh->h) {
		blk_warn("%s: %s", im->seg[0].path, msg);
		free(eh);
		errno = EIO;
		return NULL;
	}
	eh->bps = im->sector_size ? im->sector_size : 512;
	return eh;
}

/*
 * libewf returns a chunk whose checksum fails as it is and lists it: any
 * listed range that meets the read fails the read (libewf may serve that
 * chunk from its own cache the next time, without listing it again).
 */
static int ewf_read(void *hp, void *buf, size_t len, uint64_t off,
		    uint64_t *bad)
{
	struct ewf_handle *eh = hp;
	uint32_t nerr = 0;
	ssize_t n;

	n = libewf_handle_read_random(eh->h, buf, len, off, NULL);
	if (n != (ssize_t)len)
		return -EIO;
	if (libewf_handle_get_number_of_checksum_errors(eh->h, &nerr, NULL) != 1)
		return 0;
	for (uint32_t i = 0; i < nerr; i++) {
		uint64_t sector = 0, count = 0, start, end;

		if (libewf_handle_get_checksum_error(eh->h, i, &sector, &count,
						     NULL) != 1)
			continue;
		start = sector * eh->bps;
		end = start + count * eh->bps;
		if (start < off + len && end > off) {
			*bad = start;
			return -EIO;
		}
	}
	return 0;
}

static void ewf_handle_close(void *hp)
{
	struct ewf_handle *eh = hp;

	libewf_handle_close(eh->h, NULL);
	libewf_handle_free(&eh->h, NULL);
	free(eh);
}

static void ewf_free(struct blk_image *im)
{
	struct ewf_priv *p = im->priv;

	if (p && p->names)
		libewf_glob_free(p->names, p->n, NULL);
	for (int i = 0; p && p->fdnames && i < p->n; i++)
		free(p->fdnames[i]);
	if (p)
		free(p->fdnames);
	free(p);
	im->priv = NULL;
}

static const struct blk_image_ops ewf_ops = {
	.name		= "ewf",
	.handle_open	= ewf_handle_open,
	.handle_read	= ewf_read,
	.handle_close	= ewf_handle_close,
	.free_priv	= ewf_free,
};

/* The header values (case number, examiner, ...) into im->meta. */
static void ewf_meta(struct blk_image *im, libewf_handle_t *h)
{
	uint32_t n = 0;

	libewf_handle_set_header_codepage(h, LIBEWF_CODEPAGE_ASCII, NULL);
	if (libewf_handle_get_number_of_header_values(h, &n, NULL) != 1)
		return;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t id[64], val[1024];

		if (libewf_handle_get_header_value_identifier(h, i, id, sizeof(id),
							     NULL) != 1)
			continue;
		if (libewf_handle_get_utf8_header_value(h, id, strlen((char *)id),
						       val, sizeof(val), NULL) == 1)
			blk_image_add_meta(im, (char *)id, (char *)val);
	}
}

/* MD5, SHA1 and SHA256 as stored in the image, when they are. */
static void ewf_hashes(struct blk_image *im, libewf_handle_t *h)
{
	uint8_t md[32], val[256];
	static const struct { const char *id; size_t hexlen; } ids[] = {
		{ "MD5", 32 }, { "SHA1", 40 }, { "SHA256", 64 },
	};
	char *dst[] = { im->md5, im->sha1, im->sha256 };

	if (libewf_handle_get_md5_hash(h, md, 16, NULL) == 1)
		blk_hex(im->md5, md, 16);
	if (libewf_handle_get_sha1_hash(h, md, 20, NULL) == 1)
		blk_hex(im->sha1, md, 20);
	for (size_t i = 0; i < 3; i++) {
		if (dst[i][0] || libewf_handle_get_utf8_hash_value(h,
				(const uint8_t *)ids[i].id, strlen(ids[i].id),
				val, sizeof(val), NULL) != 1 ||
		    strlen((char *)val) != ids[i].hexlen)
			continue;
		for (char *c = (char *)val; *c; c++)
			*c = *c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c;
		memcpy(dst[i], val, ids[i].hexlen + 1);
	}
}

static int add_segments(struct blk_image *im, char **names, int n)
{
	im->seg = calloc(n, sizeof(*im->seg));
	if (!im->seg)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct stat st;

		im->seg[i].fd = -1;
		im->seg[i].path = strdup(names[i]);
		if (!im->seg[i].path)
			return -ENOMEM;
		im->nseg++;
		if (stat(names[i], &st) == 0)
			im->seg[i].size = st.st_size;
	}
	return 0;
}

/* The next segment's name (E01 -> E02), false past E99. */
static bool bump(char *name)
{
	char *p = name + strlen(name) - 1;

	while (p > name && *p == '9')
		*p-- = '0';
	if (*p < '0' || *p > '8')
		return false;
	(*p)++;
	return true;
}

/* libewf_glob stops at the first gap: if the segment after the next one
 * exists, the next one is missing, not the end of the set. */
static int check_gap(char **names, int n)
{
	char missing[4096], after[4096];
	struct stat st;

	snprintf(missing, sizeof(missing), "%s", names[n - 1]);
	if (!bump(missing))
		return 0;
	memcpy(after, missing, sizeof(after));
	if (!bump(after) || stat(after, &st) != 0)
		return 0;
	blk_err("%s: missing segment of the EWF set %s (%s exists)", missing,
		names[0], after);
	return -ENOENT;
}

/* Each file's own segment number (header bytes 9-10) against its place
 * in the set: a copied or misnamed segment is refused, named. */
static int check_numbers(char **names, int n)
{
	for (int i = 0; i < n; i++) {
		unsigned char hdr[13] = { 0 };
		FILE *f = fopen(names[i], "rb");
		size_t got = f ? fread(hdr, 1, sizeof(hdr), f) : 0;
		unsigned int num;

		if (f)
			fclose(f);
		if (got != sizeof(hdr)) {
			blk_err("%s: truncated EWF segment header", names[i]);
			return -EINVAL;
		}
		num = hdr[9] | hdr[10] << 8;
		if (num != (unsigned int)i + 1) {
			blk_err("%s: EWF segment number %u where segment %d belongs (a duplicate or misnamed segment)",
				names[i], num, i + 1);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Hold every segment open (the first is the source itself) and give libewf
 * /proc/self/fd/N, here and for each thread's handle: what is decoded is
 * the files checked, whatever their names come to name later.
 */
static int hold_segments(struct blk_image *im, struct ewf_priv *p)
{
	p->fdnames = calloc(p->n, sizeof(*p->fdnames));
	if (!p->fdnames)
		return -ENOMEM;
	for (int i = 0; i < p->n; i++) {
		int fd = i == 0 ? im->src_fd :
			 blk_open_noatime(p->names[i], O_RDONLY | O_CLOEXEC |
					  O_NOCTTY | O_NONBLOCK);

		if (fd < 0) {
			blk_err("%s: %s", p->names[i], strerror(errno));
			return -errno;
		}
		if (i > 0)
			im->seg[i].lock_fd = fd;
		if (asprintf(&p->fdnames[i], "/proc/self/fd/%d", fd) < 0) {
			p->fdnames[i] = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

/* One rule with split sets: the set is given by its first segment; a
 * later one (its own header says which it is) is refused, named. */
static int check_first(const char *path, char **names)
{
	unsigned char hdr[13];
	FILE *f = fopen(path, "rb");
	size_t got = f ? fread(hdr, 1, sizeof(hdr), f) : 0;

	if (f)
		fclose(f);
	if (got != sizeof(hdr) || (hdr[9] | hdr[10] << 8) == 1)
		return 0;	/* check_numbers says what is wrong */
	blk_err("%s: a later segment of the EWF set %s; give the first segment",
		path, names[0]);
	return -EINVAL;
}

/* A set whose last segments are gone opens, but its end cannot be read. */
static int check_complete(libewf_handle_t *h, char **names, int n,
			  uint64_t media)
{
	char missing[4096];
	uint8_t buf[512];

	if (libewf_handle_segment_files_corrupted(h, NULL) != 1 &&
	    libewf_handle_read_random(h, buf, sizeof(buf), media - sizeof(buf),
				      NULL) == sizeof(buf))
		return 0;
	snprintf(missing, sizeof(missing), "%s", names[n - 1]);
	if (bump(missing))
		blk_err("%s: missing segment of the EWF set %s (the set ends early)",
			missing, names[0]);
	else
		blk_err("%s: the EWF set ends early", names[0]);
	return -ENOENT;
}

/* blkfuse's own chunk reader where it knows the variant (faster); the
 * libewf handles otherwise.  Which one is said at debug level. */
static int use_own_reader(struct blk_image *im, const char *path,
			  uint32_t bps, uint32_t spc)
{
	struct ewf_priv *p = im->priv;
	int err = blk_ewf_own_open(im, p->names, p->n, bps, spc);
	void *own;

	if (err == -ENOMEM)
		return err;
	if (err) {
		blk_debug("%s: EWF chunks read by libewf", path);
		return 0;
	}
	own = im->priv;		/* libewf's names are no longer needed */
	im->priv = p;
	ewf_free(im);
	im->priv = own;
	blk_debug("%s: EWF chunks read by blkfuse's own reader (libdeflate)",
		  path);
	return 0;
}

static int blk_img_ewf_open(struct blk_image *im, const char *path)
{
	struct ewf_priv *p = calloc(1, sizeof(*p));
	libewf_handle_t *h;
	libewf_error_t *e = NULL;
	size64_t media = 0;
	uint32_t bps = 0, spc = 0;
	char msg[256];
	int err;

	im->ops = &ewf_ops;
	im->priv = p;
	if (!p)
		return -ENOMEM;
	if (libewf_glob(path, strlen(path), LIBEWF_FORMAT_UNKNOWN, &p->names,
			&p->n, &e) != 1) {
		ewf_msg(e, msg, sizeof(msg));
		blk_err("%s: %s", path, msg);
		return -EINVAL;
	}
	err = check_first(path, p->names);
	if (!err)
		err = add_segments(im, p->names, p->n);
	if (!err)
		err = check_gap(p->names, p->n);
	if (!err)
		err = check_numbers(p->names, p->n);
	if (!err)
		err = blk_ewf_check_sections(p->names, p->n);
	if (!err)
		err = hold_segments(im, p);
	if (err)
		return err;
	h = open_names(p->fdnames, p->n, msg, sizeof(msg));
	if (!h) {
		/*
		 * Every segment's chain is whole: what libewf refuses is
		 * inside a section, in practice E01's header sections.
		 */
		blk_err("%s: corrupt EWF header: libewf cannot open the set (%s)",
			path, msg);
		return -EINVAL;
	}
	libewf_handle_get_media_size(h, &media, NULL);
	libewf_handle_get_bytes_per_sector(h, &bps, NULL);
	if (libewf_handle_get_sectors_per_chunk(h, &spc, NULL) == 1 &&
	    (uint64_t)spc * bps <= (16u << 20))
		im->unit = spc * bps;
	im->size = media;
	im->sector_size = bps;
	ewf_meta(im, h);
	ewf_hashes(im, h);
	err = media < 512 ? -EINVAL : check_complete(h, p->names, p->n, media);
	libewf_handle_close(h, NULL);
	libewf_handle_free(&h, NULL);
	if (media < 512)
		blk_err("%s: EWF image with no media data", path);
	return err ? err : use_own_reader(im, path, bps, spc);
}

static int ewf_open(struct blk_image *im, const char *path, int fd,
		   uint64_t fsize, const unsigned char *tail)
{
	(void)fd, (void)fsize, (void)tail;
	return blk_img_ewf_open(im, path);
}
#endif

static bool ewf_probe(const unsigned char *head, const unsigned char *tail)
{
	(void)tail;
	return blk_magic(head, "EVF\x09\x0d\x0a\xff\x00", 8);
}

const struct blk_image_driver blk_image_ewf = {
	.name = "ewf", .what = "EWF (E01)", .lib = "libewf", .pkg = "libewf-dev",
	.probe = ewf_probe,
#ifdef HAVE_LIBEWF
	.built = true, .open = ewf_open,
#endif
};
