/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a volume holds, by libblkid (vol_probe.c); for stack.c and drivers. */
#ifndef BLK_VOL_PROBE_H
#define BLK_VOL_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "volume/volume.h"

/* Fill v->fs and v->pttype from libblkid on v->layer (said nothing). */
void blk_vol_probe(struct blk_volume *v);
/*
 * A descriptor libblkid can read v's bytes through: *fd, *off.  A layer
 * that maps whole to one file region gives that file (no copy); any other
 * a memfd of v's size holding its first and last MiB (the rest
 * reads as zeros).  Close *fd when *owned.  0 or -errno.
 */
int blk_vol_fd(struct blk_layer *l, int *fd, uint64_t *off, bool *owned);
/* A memfd of l's size holding its first head bytes and its last MiB. */
int blk_vol_snapshot(struct blk_layer *l, uint64_t head, int *fd);
/* Does volume i hold the same bytes as one of its ancestors? */
bool blk_vol_loops(const struct blk_stack *s, unsigned int i);

/* vol_crypt.c: open an encrypted volume with fn (crypt.h) as child name. */
typedef int (*blk_crypt_open_fn)(struct blk_layer *below, const char *where,
				 const struct blk_keyring *kr,
				 struct blk_layer **out, char *why,
				 size_t whylen);
int blk_vol_open_crypt(struct blk_stack *s, unsigned int vol,
		       const char *name, blk_crypt_open_fn fn);

#endif /* BLK_VOL_PROBE_H */
