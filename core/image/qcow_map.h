/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qcow_map.c: does a QCOW2 file still hold the clusters a read needs?
 * For the short reads libqcow does not report (a truncated image).
 */
#ifndef BLK_QCOW_MAP_H
#define BLK_QCOW_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qcow_map;

/* 0 with *m (NULL for QCOW 1 or a header libqcow judges), or -errno. */
int qcow_map_open(struct qcow_map **m, const char *path);
/* 0, or -EIO with *bad the first guest offset the file cannot supply. */
int qcow_map_check(const struct qcow_map *m, uint64_t off, size_t len,
		   uint64_t *bad);
void qcow_map_free(struct qcow_map *m);

#endif /* BLK_QCOW_MAP_H */
