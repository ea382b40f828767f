// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dynamic VHD and VHDX through libvhdi (a fixed VHD is read without it:
 * image_raw.c).  Differencing disks (a parent) are refused.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/driver.h"
#include "image/image.h"
#include "image/libyal.h"
#include "image/image_vhd_dyn.h"
#include "base/util.h"
#include "base/log.h"

#ifdef HAVE_LIBVHDI
#include <libvhdi.h>

BLK_LIBYAL_OPENER(libvhdi, file, LIBVHDI_OPEN_READ)

static void *vhdi_handle_open(struct blk_image *im)
{
	char msg[256], fdpath[40];
	libvhdi_file_t *f;

	blk_image_fd_path(im, fdpath, sizeof(fdpath));
	f = libvhdi_open_path(fdpath, msg, sizeof(msg));
	if (!f) {
		blk_warn("%s: %s", im->seg[0].path, msg);
		errno = EIO;
	}
	return f;
}

static int vhdi_read(void *h, void *buf, size_t len, uint64_t off,
		     uint64_t *bad)
{
	(void)bad;
	return libvhdi_file_read_buffer_at_offset(h, buf, len, off, NULL) ==
	       (ssize_t)len ? 0 : -EIO;
}

static void vhdi_handle_close(void *h)
{
	libvhdi_file_t *f = h;

	libvhdi_file_close(f, NULL);
	libvhdi_file_free(&f, NULL);
}

static const struct blk_image_ops vhd_ops = {
	.name		= "vhd",
	.handle_open	= vhdi_handle_open,
	.handle_read	= vhdi_read,
	.handle_close	= vhdi_handle_close,
};

static const struct blk_image_ops vhdx_ops = {
	.name		= "vhdx",
	.handle_open	= vhdi_handle_open,
	.handle_read	= vhdi_read,
	.handle_close	= vhdi_handle_close,
};

static int vhdi_open(struct blk_image *im, const char *path)
{
	uint32_t type = 0, bps = 0;
	libvhdi_file_t *f;
	size64_t media = 0;
	char msg[256], magic[8];
	bool vhdx;
	FILE *raw;

	im->ops = &vhd_ops;
	f = libvhdi_open_path(path, msg, sizeof(msg));
	if (!f) {
		blk_err("%s: %s", path, msg);
		return -EINVAL;
	}
	libvhdi_file_get_media_size(f, &media, NULL);
	libvhdi_file_get_disk_type(f, &type, NULL);
	libvhdi_file_get_bytes_per_sector(f, &bps, NULL);
	vhdi_handle_close(f);
	raw = fopen(path, "rb");
	vhdx = raw && fread(magic, 1, 8, raw) == 8 && !memcmp(magic, "vhdxfile", 8);
	if (raw)
		fclose(raw);
	if (vhdx)
		im->ops = &vhdx_ops;
	if (type == LIBVHDI_DISK_TYPE_DIFFERENTIAL) {
		blk_err("%s: differencing %s disk (it has a parent); not supported",
			path, vhdx ? "VHDX" : "VHD");
		return -ENOTSUP;
	}
	blk_image_add_meta(im, "subformat", type == LIBVHDI_DISK_TYPE_FIXED ?
			   "fixed" : "dynamic");
	if (blk_image_one_file(im, path))
		return -ENOMEM;
	im->size = media;
	/* as a fixed VHD says 512 (image_raw.c): the container's own size,
	 * VHDX's logical sector size, a VHD's always 512 */
	im->sector_size = bps == 4096 || bps == 512 ? bps : vhdx ? 0 : 512;
	if (!media) {
		blk_err("%s: %s image of 0 bytes", path, vhdx ? "VHDX" : "VHD");
		return -EINVAL;
	}
	return 0;
}
#endif

static int vhdx_open(struct blk_image *im, const char *path, int fd,
		     uint64_t fsize, const unsigned char *tail)
{
	(void)fd, (void)fsize, (void)tail;
#ifdef HAVE_LIBVHDI
	return vhdi_open(im, path);
#else
	(void)im, (void)path;
	return -ENOTSUP;
#endif
}

/* A fixed VHD is the raw disk and a footer: no library needed. */
static bool vhd_fixed(const unsigned char *tail)
{
	return blk_magic(tail, "conectix", 8) && blk_be32(tail + 60) == 2;
}

static int vhd_open(struct blk_image *im, const char *path, int fd,
		    uint64_t fsize, const unsigned char *tail)
{
	int err;

	if (vhd_fixed(tail))
		return blk_img_vhd_fixed_open(im, path, fd, fsize);
	/* A dynamic VHD is a block table and raw blocks: read here too. */
	err = blk_img_vhd_dyn_open(im, path, fd, fsize, tail);
	if (err != -ENOTSUP)
		return err;
	return vhdx_open(im, path, fd, fsize, tail);
}

static bool vhd_probe(const unsigned char *head, const unsigned char *tail)
{
	return blk_magic(head, "conectix", 8) || blk_magic(tail, "conectix", 8);
}

static bool vhdx_probe(const unsigned char *head, const unsigned char *tail)
{
	(void)tail;
	return blk_magic(head, "vhdxfile", 8);
}

const struct blk_image_driver blk_image_vhd = {
	.name = "vhd", .what = "dynamic VHD", .lib = "libvhdi",
	.pkg = "libvhdi-dev", .partial = "fixed", .probe = vhd_probe,
	.open = vhd_open,
#ifdef HAVE_LIBVHDI
	.built = true,
#endif
};

const struct blk_image_driver blk_image_vhdx = {
	.name = "vhdx", .what = "VHDX", .lib = "libvhdi", .pkg = "libvhdi-dev",
	.probe = vhdx_probe,
#ifdef HAVE_LIBVHDI
	.built = true, .open = vhdx_open,
#endif
};
