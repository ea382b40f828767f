/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libtsk's image interface over a layer (tsk_img.c). */
#ifndef BLK_TSK_IMG_H
#define BLK_TSK_IMG_H

#include <stdint.h>
#include <tsk/libtsk.h>

struct blk_layer;

/* Bytes [start, start + size) of layer as a libtsk image: close it with
 * tsk_img_close.  NULL on failure. */
TSK_IMG_INFO *blk_tsk_img_open(struct blk_layer *layer, uint64_t start,
			       uint64_t size);

/* Read-around at byte off of the image (tsk_img.c says why): for reads
 * of file contents that bypass libtsk (spliced runs). */
void blk_tsk_img_around(TSK_IMG_INFO *img, uint64_t off);

#endif /* BLK_TSK_IMG_H */
