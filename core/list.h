/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkfuse --list: the layout as a libsmartcols table or the JSON document. */
#ifndef BLK_LIST_H
#define BLK_LIST_H

#include <stdbool.h>
#include <stdio.h>

#include "volume/layout.h"

struct blk_list_opts {
	const char *columns;	/* -o: "NR,START", "+FSTYPE"; NULL: defaults */
	bool json;		/* with columns: a JSON table; else layout.json */
	bool bytes, noheadings, raw, pairs;
};

/* 0 or -errno (printed: an unknown column, no memory). */
int blk_list_print(const struct blk_source *src, const struct blk_layout *lo,
		   const struct blk_list_opts *o);
/* list_volumes.c: the volume tree (NAME TYPE FSTYPE SIZE LABEL UUID
 * STATE).  0 or -ENOMEM (printed). */
struct blk_stack;
int blk_list_volumes(const struct blk_stack *s, const struct blk_list_opts *o);
/* list_volumes.c: what libtsk reads in each volume (FILES FS): its fs/
 * path and type, or why it is not there.  0 or -ENOMEM (printed). */
int blk_list_fs(const struct blk_layout *lo);
/* The columns -o takes, one a line, for --help. */
void blk_list_columns_help(FILE *out);

#endif /* BLK_LIST_H */
