/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blkfuse hash: digests of the source and of byte ranges of it (its
 * partitions), all computed in one sequential read of the source.  Used by
 * 'blkfuse hash' and by the daemon's --verify.
 */
#ifndef BLK_HASH_H
#define BLK_HASH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>

#include "source/source.h"

enum blk_hash_algo {
	BLK_HASH_SHA256,
	BLK_HASH_SHA1,
	BLK_HASH_MD5,
	BLK_HASH_NR
};

#define BLK_HASH_MAX_LEN 32	/* bytes in the longest digest (sha256) */

/* blk_hash_ranges() failed reading the source, not setting up. */
#define BLK_HASH_EREAD (-EIO)

struct blk_hash_range {
	const char *name;		/* "disk", "p1": the caller's label */
	uint64_t start;			/* bytes from the start of the source */
	uint64_t size;			/* bytes */
	/* out: md[algo] for each algo asked for, blk_hash_algo_len() bytes */
	unsigned char md[BLK_HASH_NR][BLK_HASH_MAX_LEN];
};

#define BLK_HASH_KNOWN "sha256, sha1, md5"	/* for messages */

/* "sha256" (any case) -> BLK_HASH_SHA256; -1 if unknown. */
int blk_hash_algo_parse(const char *name);
const char *blk_hash_algo_name(enum blk_hash_algo algo);
/* "SHA256": as the BSD tagged format (sha256sum --tag) spells it. */
const char *blk_hash_algo_tag(enum blk_hash_algo algo);
unsigned int blk_hash_algo_len(enum blk_hash_algo algo);
/* Lowercase hex of an algo's digest; out holds 2 * BLK_HASH_MAX_LEN + 1. */
void blk_hash_hex(char *out, const unsigned char *md, enum blk_hash_algo algo);

/*
 * Fill r[i].md[a] for each of the n ranges and each algo a in the bit mask
 * algos (1u << BLK_HASH_SHA256 | ...).  Ranges may overlap and come in any
 * order; the source is read once, from the lowest byte any range needs to
 * the highest, skipping what none needs.  progress: draw a progress line
 * on stderr (the caller decides; stderr should be a terminal).
 * 0 on success; -errno on error, with the message printed: BLK_HASH_EREAD
 * (-EIO) when reading the source failed.
 */
/*
 * Set (from another thread: a signal watcher) to stop a hash in progress:
 * blk_hash_ranges and blk_hash_verify then return -ECANCELED, unprinted.
 */
extern _Atomic bool blk_hash_cancel;

int blk_hash_ranges(const struct blk_source *src, struct blk_hash_range *r,
		    unsigned int n, unsigned int algos, bool progress);

/*
 * hash_layer.c: md[a] of every byte of layer l (a volume called name, for
 * messages) for each algo a in algos.  0; BLK_HASH_EREAD or -ENOMEM,
 * printed.
 */
struct blk_layer;
int blk_hash_layer(struct blk_layer *l, const char *name,
		   unsigned char md[BLK_HASH_NR][BLK_HASH_MAX_LEN],
		   unsigned int algos);

/*
 * hash_target.c: what a file of the mount covers, by its name there.
 * blk_hash_name_parse: "disk" -> 0, "pN" -> N, a volume ("p3.d/vg0-root")
 * -> BLK_HASH_VOLUME, anything else -> -1 (fs/ paths are the caller's).
 * blk_hash_target_find: the bytes of such a name: a range of the source,
 * or a volume's layer (the layout's volume stack must be probed for
 * volumes).  0, or -ENOENT with the message printed.
 */
#define BLK_HASH_VOLUME (-2)

struct blk_layout;
struct blk_hash_target {
	uint64_t start, size;		/* in the source, when layer is NULL */
	struct blk_layer *layer;	/* a volume's, read whole */
};

int blk_hash_name_parse(const char *name);
int blk_hash_target_find(const struct blk_source *src,
			 const struct blk_layout *lo, const char *name,
			 struct blk_hash_target *t);

/*
 * spec "[NAME=]ALGO:HEX" (hex in any case): NAME's bytes (default: the
 * whole source; NAME as blk_hash_target_find takes it, lo then needed),
 * or "stored": the source against every hash the container stores (got:
 * "md5:HEX sha256:HEX").  got, if gotlen > 0, receives "[NAME=]algo:hex"
 * as computed (truncated to fit; "" on error).  0 on match, 1 on
 * mismatch, -errno on error (message printed).
 */
int blk_hash_verify(const struct blk_source *src,
		    const struct blk_layout *lo, const char *spec,
		    char *got, size_t gotlen);


#endif /* BLK_HASH_H */
