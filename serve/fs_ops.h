/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The FUSE low-level operations of the mount (fs_ops.c). */
#ifndef BLK_FS_OPS_H
#define BLK_FS_OPS_H

#include <fuse_lowlevel.h>
#include <stdbool.h>

extern const struct fuse_lowlevel_ops blk_fs_ops;

/* One READDIR(PLUS) entry (fs_ops.c): the size it needs in buf. */
size_t blk_add_dirent(fuse_req_t req, char *buf, size_t room,
		      const char *name, const struct stat *st, off_t next,
		      bool plus);

#endif /* BLK_FS_OPS_H */
