// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * AFF through afflib.  An AFFILE has one file position (af_seek, then
 * af_read), so each reading thread has its own.  Metadata segments that
 * are text (acquisition date, command line, ...) and the stored md5,
 * sha1 and sha256 come along.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/util.h"
#include "image/driver.h"
#include "image/image.h"
#include "base/log.h"

#ifdef HAVE_AFFLIB
#include <fcntl.h>
#include <afflib/afflib.h>

static void *aff_handle_open(struct blk_image *im)
{
	AFFILE *af = af_open(im->seg[0].path, O_RDONLY, 0);

	if (!af) {
		blk_warn("%s: %s", im->seg[0].path, strerror(errno));
		errno = EIO;
	}
	return af;
}

static int aff_read(void *h, void *buf, size_t len, uint64_t off,
		    uint64_t *bad)
{
	(void)bad;
	af_seek(h, off, SEEK_SET);
	return af_read(h, buf, len) == (ssize_t)len ? 0 : -EIO;
}

static void aff_handle_close(void *h)
{
	af_close(h);
}

static const struct blk_image_ops aff_ops = {
	.name		= "aff",
	.handle_open	= aff_handle_open,
	.handle_read	= aff_read,
	.handle_close	= aff_handle_close,
};

/* Text as AFF writes it: ASCII, maybe NUL- or newline-terminated. */
static bool printable(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((s[i] < 0x20 && s[i] != '\n' && s[i] != '\t' && s[i]) ||
		    s[i] >= 0x7f)
			return false;
	return len > 0;
}

/* One metadata segment: a stored hash, a text value or neither. */
static void aff_seg(struct blk_image *im, const char *name,
		    const unsigned char *data, size_t len)
{
	static const struct { const char *seg; size_t len; size_t off; } h[] = {
		{ "md5", 16, offsetof(struct blk_image, md5) },
		{ "sha1", 20, offsetof(struct blk_image, sha1) },
		{ "sha256", 32, offsetof(struct blk_image, sha256) },
	};
	char text[1024];

	for (size_t i = 0; i < 3; i++)
		if (!strcmp(name, h[i].seg) && len == h[i].len) {
			char *out = (char *)im + h[i].off;

			blk_hex(out, data, len);
			return;
		}
	if (!strncmp(name, "page", 4) || !strcmp(name, "badflag") ||
	    !printable(data, len) || len >= sizeof(text))
		return;
	memcpy(text, data, len);
	text[len] = 0;
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' ' ||
		       !text[len - 1]))
		text[--len] = 0;
	blk_image_add_meta(im, name, text);
}

/* Names first (af_get_seg moves the segment cursor), then the small
 * segments' data. */
static void aff_meta(struct blk_image *im, AFFILE *af)
{
	char names[256][AF_MAX_NAME_LEN];
	unsigned char data[1024];
	unsigned int n = 0;

	af_rewind_seg(af);
	while (n < 256) {
		size_t len = 0;

		if (af_get_next_seg(af, names[n], sizeof(names[n]), NULL, NULL,
				    &len))
			break;
		if (names[n][0] && len < sizeof(data) &&
		    strncmp(names[n], "page", 4))
			n++;
	}
	for (unsigned int i = 0; i < n; i++) {
		size_t len = sizeof(data);
		uint32_t arg = 0;

		if (af_get_seg(af, names[i], &arg, data, &len) != 0)
			continue;
		if (!strcmp(names[i], "sectorsize") && arg >= 512 &&
		    arg <= 65536 && !(arg & (arg - 1)))
			im->sector_size = arg;
		aff_seg(im, names[i], data, len);
	}
}

static int blk_img_aff_open(struct blk_image *im, const char *path)
{
	AFFILE *af;
	int pagesize;

	im->ops = &aff_ops;
	af = af_open(path, O_RDONLY, 0);
	if (!af) {
		blk_err("%s: AFF image afflib cannot open: %s", path,
			strerror(errno));
		return -EINVAL;
	}
	im->size = af_get_imagesize(af);
	/* afflib inflates a whole page for any byte of it: the shared cache
	 * keeps pages, so that workers do not each inflate the same one */
	pagesize = af_get_pagesize(af);
	if (pagesize > 0 && pagesize <= (64 << 20))
		im->unit = pagesize;
	aff_meta(im, af);
	af_close(af);
	if (blk_image_one_file(im, path))
		return -ENOMEM;
	if ((int64_t)im->size <= 0) {
		blk_err("%s: AFF image with no media data", path);
		return -EINVAL;
	}
	return 0;
}

static int aff_open(struct blk_image *im, const char *path, int fd,
		   uint64_t fsize, const unsigned char *tail)
{
	(void)fd, (void)fsize, (void)tail;
	return blk_img_aff_open(im, path);
}
#endif

static bool aff_probe(const unsigned char *head, const unsigned char *tail)
{
	(void)tail;
	return blk_magic(head, "AFF10\r\n", 8);
}

const struct blk_image_driver blk_image_aff = {
	.name = "aff", .what = "AFF", .lib = "afflib", .pkg = "libafflib-dev",
	.probe = aff_probe,
#ifdef HAVE_AFFLIB
	.built = true, .open = aff_open,
#endif
};
