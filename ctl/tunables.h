/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The table of tunables (tunables.c): one row each, the text protocol's
 * key, its field and bit in struct blkfuse_tunables, its range, its
 * parser, its words, its help.  The text form (ctl_parse.c), the range
 * checks (ctl.c), the snapshot (ctl_stats.c), --help and the completion
 * (`blkfuse ctl --keys`) are made from it.  No state, no FUSE: the fuzz
 * target links it with ctl_parse.c alone.
 */
#ifndef BLK_TUNABLES_H
#define BLK_TUNABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blkfuse_ioctl.h"

struct blk_tunable {
	const char *key;
	uint32_t bit;			/* BLKFUSE_T_* */
	size_t off;			/* its field in struct blkfuse_tunables */
	unsigned int width;		/* 4 or 8 bytes */
	uint64_t min, max;		/* the range accepted */
	bool zero_ok;			/* 0 besides min..max ("none") */
	const char *range;		/* "0 or 4096..1G", for the refusal */
	/* text into a value: 0 or -EINVAL */
	int (*parse)(const char *s, uint64_t *v);
	/* the value as text (NULL: decimal) */
	const char *(*word)(uint64_t v);
	const char *values;		/* what --help shows after '=' */
	const char *help;		/* one line */
};

extern const struct blk_tunable blk_tunables[];
extern const unsigned int blk_ntunables;

/* The row of key, or NULL. */
const struct blk_tunable *blk_tunable_find(const char *key);
uint64_t blk_tunable_get(const struct blk_tunable *tn,
			 const struct blkfuse_tunables *t);
void blk_tunable_put(const struct blk_tunable *tn, struct blkfuse_tunables *t,
		     uint64_t v);
/* Is v in the row's range? */
bool blk_tunable_in_range(const struct blk_tunable *tn, uint64_t v);
/* "splice 1", "log_level notice": the snapshot's line, no newline. */
void blk_tunable_format(const struct blk_tunable *tn,
			const struct blkfuse_tunables *t, char *buf,
			size_t len);

#endif /* BLK_TUNABLES_H */
