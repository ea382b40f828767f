/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkfuse --list: the layout as text or as the JSON document. */
#ifndef BLK_LIST_H
#define BLK_LIST_H

#include <stdbool.h>

#include "layout.h"

void blk_list_print(const struct blk_source *src,
		    const struct blk_layout *lo, bool json);

#endif /* BLK_LIST_H */
