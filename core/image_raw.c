// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Raw-in-file containers, read without a library and spliced from their
 * own files: split raw sets (NAME.001 NAME.002 ..., NAME.000 ..., NAME.aa
 * NAME.ab ...), found from the first segment, and fixed VHD (the raw disk
 * followed by a 512-byte footer).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "log.h"

#define MAX_SEGMENTS 100000

/* The start of each segment in the media, and one past the last. */
struct raw_priv {
	uint64_t *start;
};

static int raw_map(const struct blk_image *im, uint64_t off,
		   struct blk_extent *e)
{
	const struct raw_priv *rp = im->priv;
	unsigned int lo = 0, hi = im->nseg;

	if (off >= im->size)
		return -EIO;
	while (hi - lo > 1) {	/* the last segment starting at or before off */
		unsigned int mid = (lo + hi) / 2;

		if (rp->start[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	e->fd = im->seg[lo].fd;
	e->off = off - rp->start[lo];
	e->len = rp->start[lo + 1] - off;
	return 0;
}

static void raw_free(struct blk_image *im)
{
	struct raw_priv *rp = im->priv;

	if (rp)
		free(rp->start);
	free(rp);
	im->priv = NULL;
}

static const struct blk_image_ops split_ops = {
	.name		= "split",
	.map		= raw_map,
	.free_priv	= raw_free,
};

static const struct blk_image_ops vhd_fixed_ops = {
	.name		= "vhd",
	.map		= raw_map,
	.free_priv	= raw_free,
};

/* ---- segment names ------------------------------------------------------ */

struct split_name {
	size_t base;		/* length up to and including the '.' */
	size_t width;		/* suffix length */
	bool alpha;		/* .aa .ab ... rather than .000 .001 ... */
	unsigned long first;	/* the first segment's number */
};

/* Is path named like a segment? Its number in *n. */
static bool parse_name(const char *path, struct split_name *sn,
		       unsigned long *n)
{
	const char *dot = strrchr(path, '.'), *s;

	if (!dot || strchr(dot, '/') || !dot[1])
		return false;
	sn->base = dot + 1 - path;
	sn->width = strlen(dot + 1);
	sn->alpha = islower((unsigned char)dot[1]);
	*n = 0;
	for (s = dot + 1; *s; s++) {
		if (sn->alpha ? !islower((unsigned char)*s) :
				!isdigit((unsigned char)*s))
			return false;
		*n = *n * (sn->alpha ? 26 : 10) + (sn->alpha ? *s - 'a' : *s - '0');
	}
	if (sn->alpha ? sn->width != 2 && sn->width != 3 :
			sn->width < 2 || sn->width > 4)
		return false;
	sn->first = sn->alpha ? 0 : *n == 0 ? 0 : 1;
	return true;
}

/* The name of segment n (false if n does not fit the suffix width). */
static bool seg_name(char *buf, size_t len, const char *path,
		     const struct split_name *sn, unsigned long n)
{
	unsigned int radix = sn->alpha ? 26 : 10;

	if (sn->base + sn->width + 1 > len)
		return false;
	memcpy(buf, path, sn->base);
	buf[sn->base + sn->width] = 0;
	for (size_t i = sn->width; i-- > 0; n /= radix)
		buf[sn->base + i] = sn->alpha ? 'a' + n % radix : '0' + n % radix;
	return n == 0;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* How many files the set's glob matches (to find a gap in it). */
static size_t count_like(const char *path, const struct split_name *sn)
{
	char pat[4096 + 64];
	size_t used, n = 0;
	glob_t g;

	if (sn->base >= 4096)
		return 0;
	used = sn->base;
	memcpy(pat, path, used);
	for (size_t i = 0; i < sn->width; i++)
		used += snprintf(pat + used, sizeof(pat) - used, "%s",
				 sn->alpha ? "[a-z]" : "[0-9]");
	for (size_t i = 0; i < used; i++)	/* the base taken literally */
		if (i < sn->base && strchr("*?[\\", pat[i]))
			return 0;
	if (glob(pat, 0, NULL, &g) == 0)
		n = g.gl_pathc;
	globfree(&g);
	return n;
}

/* ---- opening ------------------------------------------------------------ */

static int add_segment(struct blk_image *im, const char *path)
{
	struct blk_segment *seg, *s;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int err = fd < 0 ? errno : EINVAL;

		blk_err("%s: %s", path, fd < 0 ? strerror(err) :
			"segment is not a regular file");
		if (fd >= 0)
			close(fd);
		return -err;
	}
	seg = realloc(im->seg, (im->nseg + 1) * sizeof(*seg));
	if (!seg) {
		close(fd);
		return -ENOMEM;
	}
	im->seg = seg;
	s = &seg[im->nseg];
	s->path = strdup(path);
	s->size = st.st_size;
	s->fd = fd;
	if (!s->path) {
		close(fd);
		return -ENOMEM;
	}
	im->nseg++;
	return 0;
}

static int finish_raw(struct blk_image *im, uint64_t last_len)
{
	struct raw_priv *rp = calloc(1, sizeof(*rp));
	uint64_t at = 0;

	if (!rp)
		return -ENOMEM;
	im->priv = rp;
	rp->start = calloc(im->nseg + 1, sizeof(*rp->start));
	if (!rp->start)
		return -ENOMEM;
	for (unsigned int i = 0; i < im->nseg; i++) {
		rp->start[i] = at;
		at += i + 1 == im->nseg ? last_len : im->seg[i].size;
	}
	rp->start[im->nseg] = at;
	im->size = at;
	return 0;
}

/* im == NULL: only "is path the first segment of a set of two or more?"
 * (0 if so, -ENOENT if not, printed and -EINVAL for a later segment or a
 * gap after the first). */
int blk_img_split_open(struct blk_image *im, const char *path)
{
	struct split_name sn;
	unsigned long n, i;
	char name[4096 + 8];
	int err;

	if (!parse_name(path, &sn, &n))
		return -ENOENT;
	if (n == sn.first && seg_name(name, sizeof(name), path, &sn, n + 1) &&
	    !exists(name) && count_like(path, &sn) > 1) {
		blk_err("%s: missing segment of the split set %s", name, path);
		return -EINVAL;
	}
	if (n != sn.first || !seg_name(name, sizeof(name), path, &sn, n + 1) ||
	    !exists(name)) {
		if (n > sn.first && seg_name(name, sizeof(name), path, &sn, sn.first) &&
		    exists(name)) {
			blk_err("%s: a later segment of the split set %s; give the first segment",
				path, name);
			return -EINVAL;
		}
		return -ENOENT;
	}
	if (!im)
		return 0;
	im->ops = &split_ops;
	for (i = n; i < n + MAX_SEGMENTS && seg_name(name, sizeof(name), path, &sn, i) &&
		    exists(name); i++) {
		err = add_segment(im, i == n ? path : name);
		if (err)
			return err;
	}
	if (count_like(path, &sn) > im->nseg) {
		seg_name(name, sizeof(name), path, &sn, i);
		blk_err("%s: missing segment of the split set %s (%u found before it, more after)",
			name, path, im->nseg);
		return -ENOENT;
	}
	for (i = 0; i < im->nseg; i++)
		if (!im->seg[i].size) {
			blk_err("%s: empty segment of the split set %s",
				im->seg[i].path, path);
			return -EINVAL;
		}
	return finish_raw(im, im->seg[im->nseg - 1].size);
}

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int blk_img_vhd_fixed_open(struct blk_image *im, const char *path, int fd,
			   uint64_t fsize)
{
	unsigned char foot[512];
	char creator[5] = "";
	uint64_t media;
	int err;

	im->ops = &vhd_fixed_ops;
	if (fsize < 1024 || pread(fd, foot, 512, fsize - 512) != 512) {
		blk_err("%s: fixed VHD too short for its footer", path);
		return -EINVAL;
	}
	media = be64(foot + 48);	/* current size */
	if (media == 0 || media > fsize - 512) {
		blk_err("%s: fixed VHD footer says %llu bytes, the file holds %llu",
			path, (unsigned long long)media,
			(unsigned long long)(fsize - 512));
		return -EINVAL;
	}
	err = add_segment(im, path);
	if (err)
		return err;
	memcpy(creator, foot + 28, 4);
	for (int i = 0; i < 4; i++)
		if (!isprint((unsigned char)creator[i]))
			creator[i] = 0;
	blk_image_add_meta(im, "subformat", "fixed");
	blk_image_add_meta(im, "creator_application", creator);
	im->sector_size = 512;
	return finish_raw(im, media);
}
