// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dynamic VHD read by blkfuse itself (issue 22: through libvhdi it read
 * 2.8x slower than qemu-storage-daemon).  The format is small: a footer
 * (copied at the start), a dynamic header ("cxsparse") giving the block
 * allocation table (BAT: one big-endian sector number per block,
 * 0xffffffff for a block never written) and the block size; each
 * allocated block is a sector bitmap (bit set: that sector is in the
 * block) and then the block's data.  A read is preads of the file and
 * zeros: no library, no decode, so the shared cache is skipped too.
 * Anything unexpected (differencing disks, a BAT past the file, odd
 * sizes) leaves the disk to libvhdi.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "image/image.h"
#include "image/image_vhd_dyn.h"
#include "base/log.h"

#define UNALLOCATED 0xffffffffu

struct vhd_dyn {
	uint32_t *bat;		/* host-endian sector numbers */
	uint32_t nblocks, block;	/* entries, bytes per block */
	uint32_t bitmap;	/* bytes of each block's bitmap, 512-aligned */
	int fd;
};

struct vhd_handle {
	struct vhd_dyn *v;
	uint8_t *bits;		/* one block's bitmap */
	uint32_t bits_of;	/* the block bits holds + 1; 0: none */
};

/* The sectors [s, s + n) of block b, all present in it (or all not)? */
static int bitmap_run(struct vhd_handle *h, uint32_t b, uint32_t s,
		      uint32_t n, bool *present)
{
	struct vhd_dyn *v = h->v;
	uint32_t i;

	if (h->bits_of != b + 1) {
		h->bits_of = 0;
		if (blk_pread_all(v->fd, h->bits, v->bitmap,
				(uint64_t)v->bat[b] * 512))
			return -EIO;
		h->bits_of = b + 1;
	}
	*present = h->bits[s / 8] >> (7 - s % 8) & 1;
	for (i = 1; i < n; i++) {
		uint32_t t = s + i;

		if ((h->bits[t / 8] >> (7 - t % 8) & 1) != *present)
			break;
	}
	return i;
}

static int vhd_read(void *hp, void *buf, size_t len, uint64_t off,
		    uint64_t *bad)
{
	struct vhd_handle *h = hp;
	struct vhd_dyn *v = h->v;
	char *p = buf;

	while (len) {
		uint32_t b = off / v->block, in = off % v->block;
		size_t n = v->block - in < len ? v->block - in : len;
		bool present = false;

		*bad = off;
		if (b >= v->nblocks)
			return -EIO;
		if (v->bat[b] != UNALLOCATED) {
			/* whole sectors of one kind: in the file, or zeros */
			uint32_t s = in / 512, ns = (in % 512 + n + 511) / 512;
			int run = bitmap_run(h, b, s, ns, &present);

			if (run < 0)
				return run;
			if ((uint32_t)run < ns)
				n = (uint64_t)(s + run) * 512 - in;
		}
		if (!present)
			memset(p, 0, n);
		else if (blk_pread_all(v->fd, p, n, (uint64_t)v->bat[b] * 512 +
				     v->bitmap + in))
			return -EIO;
		p += n, off += n, len -= n;
	}
	return 0;
}

static void *vhd_handle_open(struct blk_image *im)
{
	struct vhd_handle *h = calloc(1, sizeof(*h));

	if (h) {
		h->v = im->priv;
		h->bits = malloc(h->v->bitmap);
	}
	if (!h || !h->bits) {
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	return h;
}

static void vhd_handle_close(void *hp)
{
	struct vhd_handle *h = hp;

	free(h->bits);
	free(h);
}

static void vhd_free(struct blk_image *im)
{
	struct vhd_dyn *v = im->priv;

	if (v)
		free(v->bat);
	free(v);
	im->priv = NULL;
}

static const struct blk_image_ops vhd_dyn_ops = {
	.name		= "vhd",
	.handle_open	= vhd_handle_open,
	.handle_read	= vhd_read,
	.handle_close	= vhd_handle_close,
	.free_priv	= vhd_free,
	.cheap		= true,
};

/* The dynamic header and the BAT: 0, or -ENOTSUP / -ENOMEM. */
static int load(struct vhd_dyn *v, const unsigned char *foot, uint64_t fsize,
		uint64_t media)
{
	unsigned char dh[1024];
	uint64_t hdr = blk_be64(foot + 16), bat;

	if (hdr > fsize || fsize - hdr < sizeof(dh) ||
	    blk_pread_all(v->fd, dh, sizeof(dh), hdr) ||
	    memcmp(dh, "cxsparse", 8) || blk_be32(dh + 24) != 0x00010000)
		return -ENOTSUP;
	bat = blk_be64(dh + 16);
	v->nblocks = blk_be32(dh + 28);
	v->block = blk_be32(dh + 32);
	if (v->block < 512 || v->block % 512 || v->block > (256u << 20) ||
	    (uint64_t)v->nblocks * v->block < media ||
	    bat > fsize || fsize - bat < 4ull * v->nblocks)
		return -ENOTSUP;
	v->bitmap = (v->block / 512 / 8 + 511) / 512 * 512;
	v->bat = malloc(4ull * v->nblocks + 1);
	if (!v->bat)
		return -ENOMEM;
	if (blk_pread_all(v->fd, v->bat, 4ull * v->nblocks, bat))
		return -ENOTSUP;
	for (uint32_t i = 0; i < v->nblocks; i++) {
		uint32_t s = blk_be32((unsigned char *)&v->bat[i]);

		if (s != UNALLOCATED && ((uint64_t)s * 512 + v->bitmap +
					 v->block > fsize))
			return -ENOTSUP;
		v->bat[i] = s;
	}
	return 0;
}

int blk_img_vhd_dyn_open(struct blk_image *im, const char *path, int fd,
			 uint64_t fsize, const unsigned char *foot)
{
	struct vhd_dyn *v;
	int err;

	if (getenv("BLKFUSE_VHD_READER") &&
	    !strcmp(getenv("BLKFUSE_VHD_READER"), "libvhdi"))
		return -ENOTSUP;
	if (memcmp(foot, "conectix", 8) || blk_be32(foot + 60) != 3 ||
	    !blk_be64(foot + 48))
		return -ENOTSUP;	/* not dynamic (differencing: libvhdi) */
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	/* the source itself, never its name again (image.h: src_fd) */
	v->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	err = v->fd < 0 ? -ENOTSUP : load(v, foot, fsize, blk_be64(foot + 48));
	if (err) {
		if (v->fd >= 0)
			close(v->fd);
		free(v->bat);
		free(v);
		return err;
	}
	im->seg = calloc(1, sizeof(*im->seg));
	if (!im->seg || !(im->seg[0].path = strdup(path))) {
		close(v->fd);
		free(v->bat);
		free(v);
		return -ENOMEM;
	}
	im->nseg = 1;
	im->seg[0].fd = v->fd;	/* closed with the image */
	im->seg[0].size = fsize;
	im->ops = &vhd_dyn_ops;
	im->priv = v;
	im->size = blk_be64(foot + 48);
	im->sector_size = 512;	/* a VHD's sector is always 512 bytes */
	blk_image_add_meta(im, "subformat", "dynamic");
	blk_debug("%s: dynamic VHD read by blkfuse (%u blocks of %u KiB)", path,
		  v->nblocks, v->block >> 10);
	return 0;
}
