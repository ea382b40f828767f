/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs/: the files inside every volume that holds a file system libtsk reads
 * (core/fs/fsvol.h), served beside the static tree.  Their inode numbers
 * have a range of their own: ((volume index + 1) << 48) | the volume's
 * node id (the file system's inode number for a live file), so that the
 * static tree (small numbers) and each volume never collide.
 */
#ifndef BLK_FS_FILES_H
#define BLK_FS_FILES_H

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

struct blk_ctx;

struct blk_fs_mount {
	struct blk_fsvol *v;
	uint64_t dir;			/* the static directory it sits in */
	char *name;			/* its name there ("p2") */
	char *path;			/* "fs/p2", for messages and the audit */
};

struct blk_fs_files {
	struct blk_fs_mount *m;
	unsigned int n;
};

/* Is ino a file inside a volume? */
static inline bool blk_fs_ino(uint64_t ino)
{
	return ino >> 48 != 0;
}

/*
 * After the tree is built (and every stage added its data files): an fs/
 * directory with a volume for every data file that may hold a file
 * system, nothing opened yet.  0 or -ENOMEM.  Nothing with off.
 */
int blk_fs_setup(struct blk_ctx *ctx, bool off);
void blk_fs_free(struct blk_ctx *ctx);

/* In a static directory: the volume called name (opened now): true with e. */
bool blk_fs_static_lookup(struct blk_ctx *ctx, uint64_t dir, const char *name,
			  struct fuse_entry_param *e);
/* The idx-th readable volume in static directory dir: true with name, st. */
bool blk_fs_static_dirent(struct blk_ctx *ctx, uint64_t dir, size_t idx,
			  const char **name, struct stat *st);
/* "fs/p2/dir/file" of ino (static or inside) for messages and the audit. */
void blk_fs_name(struct blk_ctx *ctx, uint64_t ino, char *buf, size_t len);

/* The operations on inodes inside (fs_files_ops.c). */
void blk_fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void blk_fs_getattr(fuse_req_t req, fuse_ino_t ino);
void blk_fs_readlink(fuse_req_t req, fuse_ino_t ino);
void blk_fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void blk_fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    bool plus);
void blk_fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void blk_fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
/* A READ from a worker's wire or the ring (fs_read.c): down the read
 * path, throttled, counted and audited like a data file's. */
void blk_fs_read_start(struct blk_ctx *ctx, struct blk_wire *w,
		       const struct blk_wire_req *req);

/* Volume and id of ino: NULL when it is not one. */
struct blk_fsvol *blk_fs_vol(struct blk_ctx *ctx, uint64_t ino, uint64_t *id,
			     unsigned int *vi);
/* Attributes of id in volume vi, with its inode number and bounded modes. */
int blk_fs_attr(struct blk_ctx *ctx, unsigned int vi, uint64_t id,
		struct stat *st);

#endif /* BLK_FS_FILES_H */
