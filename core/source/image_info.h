/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A container described (image_info.c): format, segment files, metadata
 * and stored hashes, as --list, layout.json and the audit trail show them.
 * For a raw source only the format ("raw").
 */
#ifndef BLK_IMAGE_INFO_H
#define BLK_IMAGE_INFO_H

#include <stdio.h>

#include "source/source.h"

/* --list header lines: Format:, Segment:, Container:, Stored hash: */
void blk_image_print_text(FILE *f, const struct blk_source *src);
/* JSON members "format" (and "container": {...}), each line led by ind,
 * no trailing separator. */
void blk_image_json(FILE *f, const struct blk_source *src, const char *ind);
/* The same members on one line, malloc'ed; NULL on ENOMEM. */
char *blk_image_json_string(const struct blk_source *src);
/* "md5:HEX sha256:HEX" of the stored hashes into buf: 1 if any, else 0. */
int blk_image_stored_spec(const struct blk_source *src, char *buf, size_t len);

#endif /* BLK_IMAGE_INFO_H */
