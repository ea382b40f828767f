// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Raw-in-file containers, read without a library and spliced from their
 * own files: split raw sets (NAME.001 NAME.002 ..., NAME.000 ..., NAME.aa
 * NAME.ab ...), found from the first segment, fixed VHD (the raw disk
 * followed by a 512-byte footer) and flat VMDK (a text descriptor naming
 * raw extent files).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "image/driver.h"
#include "image/image.h"
#include "base/log.h"
#include "base/log.h"
#include "base/noatime.h"

#define MAX_SEGMENTS 100000

/* Where each segment starts in the media (and one past the last), and
 * where its bytes start in its file. */
struct raw_priv {
	uint64_t *start;
	uint64_t *base;
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
	e->off = rp->base[lo] + off - rp->start[lo];
	e->len = rp->start[lo + 1] - off;
	return 0;
}

static void raw_free(struct blk_image *im)
{
	struct raw_priv *rp = im->priv;

	if (rp) {
		free(rp->start);
		free(rp->base);
	}
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

static const struct blk_image_ops vmdk_flat_ops = {
	.name		= "vmdk",
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

/*
 * How many files in the set's folder are named like its segments (to find
 * a gap).  Read from the folder, never through glob(3): a '[' or '*' in the
 * user's path must not change what matches.
 */
static size_t count_like(const char *path, const struct split_name *sn)
{
	const char *slash = memrchr(path, '/', sn->base);
	size_t plen = sn->base - (slash ? slash + 1 - path : 0), n = 0;
	const char *prefix = slash ? slash + 1 : path;
	char *dir = slash ? strndup(path, slash - path + 1) : strdup(".");
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;

	while (d && (de = readdir(d))) {
		const char *sfx = de->d_name + plen;

		if (strncmp(de->d_name, prefix, plen) || strlen(sfx) != sn->width)
			continue;
		for (; *sfx; sfx++)
			if (sn->alpha ? !islower((unsigned char)*sfx) :
					!isdigit((unsigned char)*sfx))
				break;
		n += !*sfx;
	}
	if (d)
		closedir(d);
	free(dir);
	return n;
}

/* ---- opening ------------------------------------------------------------ */

/*
 * The first file is the source itself: its descriptor, duplicated (the
 * very open file already checked and, with --exclusive, locked), not the
 * name again.  Other segments are opened by name.
 */
static int open_segment(const struct blk_image *im, const char *path)
{
	if (im->nseg == 0 && im->src_fd >= 0)
		return fcntl(im->src_fd, F_DUPFD_CLOEXEC, 0);
	return blk_open_noatime(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
				O_NONBLOCK);
}

int blk_img_raw_add_segment(struct blk_image *im, const char *path)
{
	struct blk_segment *seg, *s;
	struct stat st;
	/* O_NONBLOCK: a FIFO among the segments must not block the open */
	int fd = open_segment(im, path);

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
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
	memset(s, 0, sizeof(*s));	/* no role: not a snapshot chain */
	s->path = strdup(path);
	s->size = st.st_size;
	s->fd = fd;
	s->lock_fd = 0;
	if (!s->path) {
		close(fd);
		return -ENOMEM;
	}
	im->nseg++;
	return 0;
}

int blk_img_raw_finish(struct blk_image *im, const uint64_t *len,
		       const uint64_t *base)
{
	struct raw_priv *rp = calloc(1, sizeof(*rp));
	uint64_t at = 0;

	if (!rp)
		return -ENOMEM;
	im->priv = rp;
	rp->start = calloc(im->nseg + 1, sizeof(*rp->start));
	rp->base = calloc(im->nseg + 1, sizeof(*rp->base));
	if (!rp->start || !rp->base)
		return -ENOMEM;
	for (unsigned int i = 0; i < im->nseg; i++) {
		rp->start[i] = at;
		rp->base[i] = base ? base[i] : 0;
		at += len[i];
	}
	rp->start[im->nseg] = at;
	im->size = at;
	return 0;
}

/* Every segment whole, but the last: last_len bytes of it. */
static int finish_raw(struct blk_image *im, uint64_t last_len)
{
	uint64_t *len = calloc(im->nseg, sizeof(*len));
	int err;

	if (!len)
		return -ENOMEM;
	for (unsigned int i = 0; i < im->nseg; i++)
		len[i] = i + 1 == im->nseg ? last_len : im->seg[i].size;
	err = blk_img_raw_finish(im, len, NULL);
	free(len);
	return err;
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
		err = blk_img_raw_add_segment(im, i == n ? path : name);
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
	/* A short middle segment would shift every later byte. */
	for (i = 1; i + 1 < im->nseg; i++)
		if (im->seg[i].size != im->seg[0].size) {
			blk_err("%s: %llu bytes, but every segment before the last of the split set %s must have the first one's %llu",
				im->seg[i].path,
				(unsigned long long)im->seg[i].size, path,
				(unsigned long long)im->seg[0].size);
			return -EINVAL;
		}
	if (im->nseg > 1 && im->seg[im->nseg - 1].size > im->seg[0].size) {
		blk_err("%s: %llu bytes, more than the first segment's %llu: not the last segment of the split set %s",
			im->seg[im->nseg - 1].path,
			(unsigned long long)im->seg[im->nseg - 1].size,
			(unsigned long long)im->seg[0].size, path);
		return -EINVAL;
	}
	return finish_raw(im, im->seg[im->nseg - 1].size);
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
	media = blk_be64(foot + 48);	/* current size */
	if (media == 0 || media > fsize - 512) {
		blk_err("%s: fixed VHD footer says %llu bytes, the file holds %llu",
			path, (unsigned long long)media,
			(unsigned long long)(fsize - 512));
		return -EINVAL;
	}
	err = blk_img_raw_add_segment(im, path);
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

/* ---- flat VMDK ------------------------------------------------------------ */

#define VMDK_DESC_MAX (64 * 1024)
#define VMDK_MAX_EXTENTS 1024

struct vmdk_extent {
	uint64_t sectors, offset;	/* 512-byte sectors */
	char file[1024];
};

/* A sector count of an extent line: decimal, no sign, and its bytes must
 * fit an off_t (2^55+16 sectors would wrap to 8192 bytes). */
static bool extent_number(const char *s, unsigned long long *v)
{
	char *end;

	errno = 0;
	if (!isdigit((unsigned char)*s))
		return false;
	*v = strtoull(s, &end, 10);
	return !errno && (!*end || isspace((unsigned char)*end)) &&
	       *v <= (uint64_t)INT64_MAX / 512;
}

/*
 * One extent line: ACCESS SECTORS TYPE "FILE" [OFFSET].  1: a FLAT (or
 * VMFS) extent, into x; 0: not an extent line; -1: an extent of another
 * type (sparse, zero...), which only libvmdk reads; -EINVAL (printed,
 * naming desc): a size or offset that is no sector count.
 */
static int parse_extent(const char *desc, const char *line,
			struct vmdk_extent *x)
{
	char access[16], type[16], size[32], offset[32] = "0";
	unsigned long long sectors, off;
	int n = 0;

	if (sscanf(line, " %15s %31s %15s \"%1023[^\"]\"%n", access, size,
		   type, x->file, &n) != 4 || n == 0)
		return 0;
	if (strcmp(access, "RW") && strcmp(access, "RDONLY") &&
	    strcmp(access, "NOACCESS"))
		return 0;
	if (strcmp(type, "FLAT") && strcmp(type, "VMFS"))
		return -1;
	sscanf(line + n, " %31s", offset);
	if (!extent_number(size, &sectors) || !extent_number(offset, &off)) {
		blk_err("%s: extent \"%s\": %s sectors from sector %s is not a size this disk can have",
			desc, x->file, size, offset);
		return -EINVAL;
	}
	x->sectors = sectors;
	x->offset = off;
	return 1;
}

/* The extents of a descriptor: how many, or -ENOENT (not all flat, a
 * child of another disk, or no extent at all). */
static int read_descriptor(const char *path, int fd, uint64_t fsize,
			   struct vmdk_extent *x)
{
	char *desc = calloc(1, VMDK_DESC_MAX + 1), *line, *save = NULL;
	int n = 0, res = 0;

	if (!desc)
		return -ENOMEM;
	if (fsize > VMDK_DESC_MAX || pread(fd, desc, fsize, 0) != (ssize_t)fsize)
		res = -ENOENT;
	for (line = strtok_r(desc, "\n", &save); !res && line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "parentCID", 9) && !strstr(line, "ffffffff"))
			res = -ENOENT;	/* a delta disk: libvmdk refuses it */
		else if (n == VMDK_MAX_EXTENTS)
			res = -ENOENT;
		else if ((res = parse_extent(path, line, &x[n])) == 1)
			n++, res = 0;
		else if (res == -1)
			res = -ENOENT;
	}
	free(desc);
	return res ? res : n ? n : -ENOENT;
}

/* FILE relative to the descriptor's directory. */
static void extent_path(char *buf, size_t len, const char *desc,
			const char *file)
{
	const char *slash = strrchr(desc, '/');

	if (file[0] == '/' || !slash)
		snprintf(buf, len, "%s", file);
	else
		snprintf(buf, len, "%.*s/%s", (int)(slash - desc), desc, file);
}

static int vmdk_flat_map(struct blk_image *im, const char *path,
			 const struct vmdk_extent *x, int n)
{
	uint64_t *len = calloc(n + 1, sizeof(*len));
	uint64_t *base = calloc(n + 1, sizeof(*base));
	char name[4096 + 1024];
	uint64_t total = 0;
	int err = len && base ? 0 : -ENOMEM;

	/* The descriptor is segment 0 and holds no media bytes. */
	for (int i = 0; !err && i < n; i++) {
		extent_path(name, sizeof(name), path, x[i].file);
		err = blk_image_confine(path, x[i].file, name, -1) ?:
		      blk_img_raw_add_segment(im, name) ?:
		      blk_image_confine(path, x[i].file, name, im->seg[i + 1].fd);
		if (err)
			break;
		len[i + 1] = x[i].sectors * 512;
		base[i + 1] = x[i].offset * 512;
		if (base[i + 1] + len[i + 1] > im->seg[i + 1].size) {
			blk_err("%s: extent of %llu bytes from byte %llu, but the file holds %llu",
				name, (unsigned long long)len[i + 1],
				(unsigned long long)base[i + 1],
				(unsigned long long)im->seg[i + 1].size);
			err = -EINVAL;
		} else if ((total += len[i + 1]) > (uint64_t)INT64_MAX) {
			blk_err("%s: the extents add up to more than 2^63 bytes",
				path);
			err = -EINVAL;
		}
	}
	if (!err)
		err = blk_img_raw_finish(im, len, base);
	free(len);
	free(base);
	return err;
}

int blk_img_vmdk_flat_open(struct blk_image *im, const char *path, int fd,
			   uint64_t fsize)
{
	struct vmdk_extent *x = calloc(VMDK_MAX_EXTENTS, sizeof(*x));
	int n, err;

	if (!x)
		return -ENOMEM;
	n = read_descriptor(path, fd, fsize, x);
	if (n < 0) {
		free(x);
		return n;
	}
	im->ops = &vmdk_flat_ops;
	err = blk_img_raw_add_segment(im, path);
	if (!err)
		err = vmdk_flat_map(im, path, x, n);
	if (!err) {
		blk_image_add_meta(im, "subformat", n > 1 ? "flat, split extents" :
				   "monolithic flat");
		im->sector_size = 512;
	}
	free(x);
	return err;
}

/* ---- split raw: the descriptor ------------------------------------------- */

static int split_open(struct blk_image *im, const char *path, int fd,
		      uint64_t fsize, const unsigned char *tail)
{
	(void)fd, (void)fsize, (void)tail;
	return blk_img_split_open(im, path);
}

static int split_by_name(const char *path)
{
	return blk_img_split_open(NULL, path);
}

const struct blk_image_driver blk_image_split = {
	.name = "split", .what = "split raw set", .built = true,
	.by_name = split_by_name, .open = split_open,
};
