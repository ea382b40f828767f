/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkfuse's own EWF-E01 chunk reader (image_ewf_own.c), with libdeflate. */
#ifndef BLK_IMAGE_EWF_OWN_H
#define BLK_IMAGE_EWF_OWN_H

#include <stdint.h>

struct blk_image;

/*
 * Read im (opened and checked by libewf: size, segments named in
 * im->seg[]) with the own reader: 0 and im->ops/im->priv replaced (the
 * caller has freed libewf's priv before), or -ENOTSUP when the set is not
 * a variant it knows (libewf stays the reader), -ENOMEM.  Nothing printed.
 * BLKFUSE_EWF_READER=libewf in the environment keeps libewf (tests).
 */
int blk_ewf_own_open(struct blk_image *im, char *const *names, int n,
		     uint32_t bps, uint32_t spc);

#endif /* BLK_IMAGE_EWF_OWN_H */
