/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libcryptsetup without a device (cs_glue.c).  The volume may sit inside a
 * container or another layer, where no path reaches it; so its metadata is
 * copied into a sparse memfd as large as the volume, at the same offsets,
 * and libcryptsetup reads that through /proc/self/fd.  It only parses and
 * derives keys there: no device-mapper, no locks in /run, no writes.
 */
#ifndef BLK_CS_GLUE_H
#define BLK_CS_GLUE_H

#include <stdint.h>

struct blk_layer;
struct crypt_device;

/* A sparse memfd of below's size: the descriptor, or -errno. */
int blk_cs_memfd(const struct blk_layer *below);
/* Bytes [off, off + len) of below (clamped to its end) into fd at off:
 * 0, or -errno (EIO: the volume is cut short there). */
int blk_cs_copy(int fd, struct blk_layer *below, uint64_t off, uint64_t len);
/* *cd: crypt_init + crypt_load(type) over the memfd: 0, or -errno. */
int blk_cs_load(struct crypt_device **cd, int fd, const char *type);

/* What libcryptsetup last said failed (its first error since blk_cs_load
 * began, in this thread), or NULL: for the one line the caller prints. */
const char *blk_cs_error(void);

#endif /* BLK_CS_GLUE_H */
