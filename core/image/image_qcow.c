// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * QCOW (1 and 2, compressed clusters too) through libqcow.  Backing files
 * are not followed: an image that has one is refused, naming the file and
 * whether it is there (a backing file is another piece of evidence: give
 * blkfuse a flattened copy, qemu-img convert -O qcow2).  Encrypted images
 * are refused too.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/driver.h"
#include "image/chain.h"
#include "image/image.h"
#include "image/libyal.h"
#include "base/log.h"
#include "image/qcow_map.h"
#include "base/log.h"

#ifndef HAVE_LIBQCOW
void *blk_img_qcow_level_open(const char *path, uint64_t *media)
{
	(void)path, (void)media;
	errno = ENOTSUP;
	return NULL;
}

int blk_img_qcow_level_read(void *h, void *buf, size_t len, uint64_t off)
{
	(void)h, (void)buf, (void)len, (void)off;
	return -ENOTSUP;
}

void blk_img_qcow_level_close(void *h)
{
	(void)h;
}
#else
#include <libqcow.h>

BLK_LIBYAL_OPENER(libqcow, file, LIBQCOW_OPEN_READ)

/* A thread's handle: libqcow's, and the map shared by all (im->priv). */
struct qcow_handle {
	libqcow_file_t *f;
	const struct qcow_map *map;
};

static void close_file(libqcow_file_t *f)
{
	libqcow_file_close(f, NULL);
	libqcow_file_free(&f, NULL);
}

static void *qcow_handle_open(struct blk_image *im)
{
	char msg[256], path[40];
	struct qcow_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	blk_image_fd_path(im, path, sizeof(path));
	h->f = libqcow_open_path(path, msg, sizeof(msg));
	if (!h->f) {
		blk_warn("%s: %s", im->seg[0].path, msg);
		free(h);
		errno = EIO;
		return NULL;
	}
	h->map = im->priv;
	return h;
}

/* What the file no longer holds is EIO, never libqcow's unfilled buffer. */
static int qcow_read(void *hp, void *buf, size_t len, uint64_t off,
		     uint64_t *bad)
{
	struct qcow_handle *h = hp;

	if (h->map && qcow_map_check(h->map, off, len, bad))
		return -EIO;
	return libqcow_file_read_buffer_at_offset(h->f, buf, len, off, NULL) ==
	       (ssize_t)len ? 0 : -EIO;
}

static void qcow_handle_close(void *hp)
{
	struct qcow_handle *h = hp;

	close_file(h->f);
	free(h);
}

static void qcow_free(struct blk_image *im)
{
	qcow_map_free(im->priv);
	im->priv = NULL;
}

static const struct blk_image_ops qcow_ops = {
	.name		= "qcow2",
	.handle_open	= qcow_handle_open,
	.handle_read	= qcow_read,
	.handle_close	= qcow_handle_close,
	.free_priv	= qcow_free,
};

static uint64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

/* qemu takes a relative backing name from the image's folder, not ours. */
static bool backing_exists(const char *image, const char *name)
{
	const char *slash = strrchr(image, '/');
	char *full = NULL;
	struct stat st;
	bool there;

	if (name[0] == '/' || !slash)
		return stat(name, &st) == 0;
	if (asprintf(&full, "%.*s/%s", (int)(slash - image), image, name) < 0)
		return false;
	there = stat(full, &st) == 0;
	free(full);
	return there;
}

/* A backing file is refused, named: -ENOTSUP (printed), or 0. */
static int no_backing_file(FILE *f, const char *path)
{
	unsigned char hdr[20];
	char name[1024] = "";
	uint64_t off;
	uint32_t len;

	if (fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr))
		return 0;	/* libqcow says what is wrong */
	off = be(hdr + 8, 8);
	len = be(hdr + 16, 4);
	if (!off || !len)
		return 0;
	if (len >= sizeof(name))
		len = sizeof(name) - 1;
	if (fseeko(f, off, SEEK_SET) || fread(name, 1, len, f) != len)
		snprintf(name, sizeof(name), "(unreadable name)");
	name[len] = 0;
	blk_err("%s: QCOW2 image with backing file %s (%s); backing files are not followed: flatten it with qemu-img convert",
		path, name, backing_exists(path, name) ? "present" : "missing");
	return -ENOTSUP;
}

static int blk_img_qcow_open(struct blk_image *im, const char *path)
{
	libqcow_file_t *f;
	FILE *raw = fopen(path, "rb");
	size64_t media = 0;
	uint32_t method = 0;
	char msg[256];
	int err;

	im->ops = &qcow_ops;
	/* a QCOW2 with a backing file: the whole chain (chain.c) */
	err = raw ? blk_chain_qcow_hook(im, path) : 1;
	if (err != 1) {
		fclose(raw);
		return err;
	}
	err = raw ? no_backing_file(raw, path) : -errno;
	if (raw)
		fclose(raw);
	if (err == -ENOTSUP)
		return err;
	if (err) {
		blk_err("%s: %s", path, strerror(-err));
		return err;
	}
	f = libqcow_open_path(path, msg, sizeof(msg));
	if (!f) {
		blk_err("%s: %s", path, msg);
		return -EINVAL;
	}
	libqcow_file_get_media_size(f, &media, NULL);
	libqcow_file_get_encryption_method(f, &method, NULL);
	close_file(f);
	if (method != LIBQCOW_ENCRYPTION_METHOD_NONE) {
		blk_err("%s: encrypted QCOW image; not supported", path);
		return -ENOTSUP;
	}
	if (blk_image_one_file(im, path))
		return -ENOMEM;
	im->size = media;
	if (!media) {
		blk_err("%s: QCOW image of 0 bytes", path);
		return -EINVAL;
	}
	err = qcow_map_open((struct qcow_map **)&im->priv, path);
	if (err)
		blk_err("%s: %s", path, strerror(-err));
	return err;
}

static int qcow_open(struct blk_image *im, const char *path, int fd,
		   uint64_t fsize, const unsigned char *tail)
{
	(void)fd, (void)fsize, (void)tail;
	return blk_img_qcow_open(im, path);
}

/*
 * A level of a snapshot chain (chain.c), which reads from it only the
 * clusters the file holds.  libqcow will not read a file that names a
 * backing file until it is given a parent, and takes only a QCOW file as
 * one; its parent here is a second handle on the same file, never read
 * (a cluster the file lacks is read from the level below by chain.c; were
 * libqcow asked for one, that handle fails it with EIO, it cannot loop).
 */
struct level {
	libqcow_file_t *f, *guard;
};

static int level_guard(struct level *l, const char *path)
{
	size_t n = 0;
	char msg[256];

	if (libqcow_file_get_utf8_backing_filename_size(l->f, &n, NULL) != 1 ||
	    n <= 1)
		return 0;
	l->guard = libqcow_open_path(path, msg, sizeof(msg));
	if (!l->guard || libqcow_file_set_parent_file(l->f, l->guard, NULL) != 1) {
		blk_err("%s: %s", path, l->guard ? "libqcow refuses a parent" : msg);
		return -EIO;
	}
	return 0;
}

void *blk_img_qcow_level_open(const char *path, uint64_t *media)
{
	char msg[256];
	struct level *l = calloc(1, sizeof(*l));
	size64_t size = 0;
	uint32_t method = 0;

	if (!l) {
		errno = ENOMEM;
		return NULL;
	}
	l->f = libqcow_open_path(path, msg, sizeof(msg));
	if (!l->f) {
		blk_err("%s: %s", path, msg);
		free(l);
		errno = EINVAL;
		return NULL;
	}
	libqcow_file_get_media_size(l->f, &size, NULL);
	libqcow_file_get_encryption_method(l->f, &method, NULL);
	if (method != LIBQCOW_ENCRYPTION_METHOD_NONE) {
		blk_err("%s: encrypted QCOW image; not supported", path);
		blk_img_qcow_level_close(l);
		errno = ENOTSUP;
		return NULL;
	}
	if (level_guard(l, path)) {
		blk_img_qcow_level_close(l);
		errno = EIO;
		return NULL;
	}
	if (media)
		*media = size;
	return l;
}

int blk_img_qcow_level_read(void *h, void *buf, size_t len, uint64_t off)
{
	/* chain.c reads only the clusters the level's own tables hold */
	struct qcow_handle qh = { .f = ((struct level *)h)->f };
	uint64_t bad;

	return qcow_read(&qh, buf, len, off, &bad);
}

void blk_img_qcow_level_close(void *h)
{
	struct level *l = h;

	close_file(l->f);	/* before its parent */
	if (l->guard)
		close_file(l->guard);
	free(l);
}
#endif

static bool qcow_probe(const unsigned char *head, const unsigned char *tail)
{
	(void)tail;
	return blk_magic(head, "QFI\xfb", 4);
}

const struct blk_image_driver blk_image_qcow2 = {
	.name = "qcow2", .what = "QCOW2", .lib = "libqcow", .pkg = "libqcow-dev",
	.probe = qcow_probe,
#ifdef HAVE_LIBQCOW
	.built = true, .open = qcow_open,
#endif
};
