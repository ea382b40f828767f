/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What libtsk reads in each volume that may hold a file system
 * (fssurvey.c): lo->fs_seen, for --list, layout.json and fs/.
 */
#ifndef BLK_FSSURVEY_H
#define BLK_FSSURVEY_H

#include "source/source.h"
#include "volume/layout.h"

/* After blk_stack_probe: every volume fs/ may show, opened through libtsk
 * and closed, its answer kept in lo.  0 or -ENOMEM (printed).  Nothing
 * without libtsk. */
int blk_fs_survey(const struct blk_source *src, struct blk_layout *lo);
/* The survey's entry for data file volume ("p2", "p3.d/luks"), or NULL. */
const struct blk_fs_seen *blk_fs_seen_find(const struct blk_layout *lo,
					   const char *volume);

#endif /* BLK_FSSURVEY_H */
