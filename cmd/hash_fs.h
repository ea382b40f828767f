/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkfuse hash of a file inside a volume: fs/pN/PATH (hash_fs.c). */
#ifndef BLK_HASH_FS_H
#define BLK_HASH_FS_H

#include <stdbool.h>

#include "hash.h"
#include "volume/layout.h"

/* Is name a file inside ("fs/...")? */
bool blk_hash_fs_name(const char *name);
/* md[a] for each algo in the mask: 0, BLK_HASH_EREAD, or -errno (said). */
int blk_hash_fs_file(const struct blk_source *src, const struct blk_layout *lo,
		     const char *name, unsigned int algos,
		     unsigned char md[][BLK_HASH_MAX_LEN]);

#endif /* BLK_HASH_FS_H */
