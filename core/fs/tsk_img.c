// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libtsk's image interface over a layer: libtsk reads the bytes of the
 * volume through blk_layer_read, whatever lies below (a slice of a raw
 * image, a container's decoded media, a decrypted volume).  libtsk 4.11's
 * tsk_img_open_external fills the TSK_IMG_INFO at the head of our struct.
 */
#ifdef HAVE_LIBTSK
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <tsk/libtsk.h>

#include "fs/tsk_img.h"
#include "layer/layer.h"

/*
 * Read-around: a file system's metadata and small files lie scattered
 * through its volume, and libtsk reads them a few KiB at a time; from a
 * cold cache each would be a disk read of its own.  The first read in
 * each AROUND-byte block asks the kernel to read the whole block ahead
 * (where the layer maps onto files), as the kernel's own file systems
 * read ahead around their metadata.  A small table remembers the blocks
 * asked for, so that a hot tree costs no system call.
 */
#define AROUND (1u << 20)
#define AROUND_SLOTS 64

struct blk_tsk_img {
	TSK_IMG_INFO img;	/* first: libtsk's pointer is ours */
	struct blk_layer *layer;
	uint64_t start, size;
	bool maps;		/* the layer lies in files: read-around */
	_Atomic uint64_t asked[AROUND_SLOTS];	/* block + 1; 0: none */
};

void blk_tsk_img_around(TSK_IMG_INFO *img, uint64_t off)
{
	struct blk_tsk_img *ti = (struct blk_tsk_img *)img;
	uint64_t block = off / AROUND;
	_Atomic uint64_t *slot = &ti->asked[block % AROUND_SLOTS];

	if (!ti->maps ||
	    atomic_load_explicit(slot, memory_order_relaxed) == block + 1)
		return;
	atomic_store_explicit(slot, block + 1, memory_order_relaxed);
	blk_layer_willneed(ti->layer, ti->start + block * AROUND, AROUND);
}

static ssize_t img_read(TSK_IMG_INFO *img, TSK_OFF_T off, char *buf,
			size_t len)
{
	struct blk_tsk_img *ti = (struct blk_tsk_img *)img;
	uint64_t bad;
	int err;

	if (off < 0 || (uint64_t)off >= ti->size)
		return 0;
	if (len > ti->size - off)
		len = ti->size - off;
	blk_tsk_img_around(img, off);
	err = blk_layer_read(ti->layer, buf, len, ti->start + off, &bad);
	if (err) {
		tsk_error_reset();
		tsk_error_set_errno(TSK_ERR_IMG_READ);
		tsk_error_set_errstr("layer read at %llu: %s",
				     (unsigned long long)bad, strerror(-err));
		return -1;
	}
	return len;
}

static void img_close(TSK_IMG_INFO *img)
{
	free(img);
}

static void img_stat(TSK_IMG_INFO *img, FILE *f)
{
	(void)img;
	fputs("blkfuse layer\n", f);
}

TSK_IMG_INFO *blk_tsk_img_open(struct blk_layer *layer, uint64_t start,
			       uint64_t size)
{
	struct blk_tsk_img *ti = calloc(1, sizeof(*ti));

	if (!ti)
		return NULL;
	ti->layer = layer;
	ti->start = start;
	ti->size = size;
	ti->maps = blk_layer_maps(layer);
	ti->img.tag = TSK_IMG_INFO_TAG;	/* the caller's, its comment says */
	if (!tsk_img_open_external(ti, size, layer->sector_size, img_read,
				   img_close, img_stat)) {
		free(ti);
		return NULL;
	}
	return &ti->img;
}
#endif
