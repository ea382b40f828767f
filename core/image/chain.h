/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Snapshot chains: an image whose unwritten clusters are read from the
 * image below it (a QCOW2 backing file, a VMDK delta's parent).  Every file of the chain is
 * opened O_RDONLY by blkfuse itself (for --exclusive, the mount's modes and
 * the audit) and listed among the image's segments with its role.  A
 * parent is found as qemu finds it (a relative name from the folder of the
 * image that names it) and must lie in the top image's folder, or in a
 * folder allowed with --backing-dir.
 */
#ifndef BLK_CHAIN_H
#define BLK_CHAIN_H

#include "image/image.h"

/* Parents may also lie under dir (--backing-dir): 0 or -errno (printed). */
int blk_chain_allow_dir(const char *dir);
/* Forget the allowed folders (exit, tests). */
void blk_chain_allow_reset(void);

/*
 * The QCOW2 driver's hook, first thing in its open: path (absolute) has a
 * backing file: the whole chain opened into im, 0, or -errno with one line
 * printed naming the file; 1 (silent) when path is no QCOW2 version 2 or 3
 * with a backing file (the driver goes on alone).
 */
int blk_chain_qcow_hook(struct blk_image *im, const char *path);

/*
 * For the chain drivers: the parent that child (absolute) names, resolved
 * as qemu resolves it and confined to top's folder or an allowed one: 0
 * with the path in *out, or -errno printed.
 */
int blk_chain_resolve(const char *top, const char *child, const char *name,
		      char **out);
/* path opened O_RDONLY and fstat'ed into st, added to im's segments (room
 * for it is the caller's) with its role: the fd (owned by the segment),
 * or -errno printed. */
struct stat;
int blk_chain_add_file(struct blk_image *im, const char *path,
		       const char *role, struct stat *st);

/* The VMDK driver's hook, first thing in its open: a delta disk (one with
 * a parent) opened with its whole chain into im; 1 (silent) when path is
 * none (chain_vmdk.c). */
int blk_chain_vmdk_hook(struct blk_image *im, const char *path);

/* image_qcow.c: a level of a chain through libqcow (its backing file not
 * consulted): a handle and its media size, or NULL (printed; errno). */
void *blk_img_qcow_level_open(const char *path, uint64_t *media);
int blk_img_qcow_level_read(void *h, void *buf, size_t len, uint64_t off);
void blk_img_qcow_level_close(void *h);

#endif /* BLK_CHAIN_H */
