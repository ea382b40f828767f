/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The FUSE low-level operations of the mount (fs_ops.c). */
#ifndef BLK_FS_OPS_H
#define BLK_FS_OPS_H

#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops blk_fs_ops;

#endif /* BLK_FS_OPS_H */
