/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A QCOW2 file as a level of a snapshot chain (chain_qcow.c). */
#ifndef BLK_CHAIN_QCOW_H
#define BLK_CHAIN_QCOW_H

#include <stdbool.h>
#include <stdint.h>

struct blk_qcow_map {
	int fd;			/* the caller's, O_RDONLY */
	unsigned int cbits;	/* cluster size 1 << cbits */
	bool v3;
	uint64_t size;		/* virtual size */
	uint32_t l1_size;
	uint64_t *l1;		/* L2 table offsets, 0: none */
	char *backing;		/* the name the header gives, or NULL */
	char *backing_fmt;	/* its format, or NULL (not said) */
};

/* What the file holds at a byte offset. */
enum { BLK_QCOW_BELOW, BLK_QCOW_DATA, BLK_QCOW_ZERO };

/* Parse fd as QCOW2 (version 2 or 3): 0; -ENOENT when it is not one
 * (silent); other -errno printed naming path. */
int blk_qcow_map_open(struct blk_qcow_map *m, int fd, const char *path);
/* BLK_QCOW_* for the cluster holding off, or -errno. */
int blk_qcow_map_state(const struct blk_qcow_map *m, uint64_t off);
void blk_qcow_map_free(struct blk_qcow_map *m);

#endif /* BLK_CHAIN_QCOW_H */
