/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Dynamic VHD read without libvhdi (image_vhd_dyn.c). */
#ifndef BLK_IMAGE_VHD_DYN_H
#define BLK_IMAGE_VHD_DYN_H

#include <stdint.h>

struct blk_image;

/*
 * path (open as fd, fsize bytes, its last 512 bytes foot) as a dynamic
 * VHD: 0, or -ENOTSUP when it is not one this reader knows (libvhdi reads
 * it), -ENOMEM.  Nothing printed.  BLKFUSE_VHD_READER=libvhdi in the
 * environment keeps libvhdi (tests).
 */
int blk_img_vhd_dyn_open(struct blk_image *im, const char *path, int fd,
			 uint64_t fsize, const unsigned char *foot);

#endif /* BLK_IMAGE_VHD_DYN_H */
