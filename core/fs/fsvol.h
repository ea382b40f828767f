/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The files inside a volume: one file system, read through libtsk over any
 * layer (a partition, a decoded container, a decrypted volume), parsed
 * lazily.  FUSE-free: the daemon (serve/fs_files.c) turns these calls into
 * replies.  Every call takes the volume's lock: libtsk objects of one file
 * system are not shared between threads without it.
 *
 * A node of the volume has a 48-bit id: the file system's own inode number
 * (below BLK_FSVOL_SYNTH) for live files, so hard links are one node; or a
 * synthetic id for what the file system has no inode number of its own for:
 * an NTFS alternate data stream ("name:stream"), a directory's ".deleted"
 * (its unallocated entries), a deleted entry (its inode may be in use again).
 */
#ifndef BLK_FSVOL_H
#define BLK_FSVOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "image/image.h"	/* struct blk_extent */

struct blk_layer;
struct blk_fsvol;

#define BLK_FSVOL_ID_BITS 48
#define BLK_FSVOL_SYNTH (1ull << 40)	/* ids from here are synthetic */
#define BLK_FSVOL_DELETED ".deleted"

/* Is libtsk built in? */
bool blk_fsvol_available(void);
/* "libtsk 4.11.1", or "none (built without libtsk)". */
const char *blk_fsvol_version(void);

/* A volume over bytes [start, start + size) of layer (not owned), named
 * path in messages ("p2").  Nothing is read yet.  NULL: ENOMEM. */
struct blk_fsvol *blk_fsvol_new(struct blk_layer *layer, uint64_t start,
				uint64_t size, const char *path);
void blk_fsvol_free(struct blk_fsvol *v);

/* Open the file system on first use: 0, or the -errno it failed with
 * (remembered: a volume libtsk cannot read is tried once). */
int blk_fsvol_open(struct blk_fsvol *v);
/* "ext4", "ntfs", ... after a successful open. */
const char *blk_fsvol_type(const struct blk_fsvol *v);
/* After a failed open, why: "libtsk: Cannot determine file system type". */
const char *blk_fsvol_why(const struct blk_fsvol *v);
/* The root directory's id (after a successful open). */
uint64_t blk_fsvol_root(const struct blk_fsvol *v);

/* Attributes of id (st_ino is left to the caller).  0 or -errno. */
int blk_fsvol_stat(struct blk_fsvol *v, uint64_t id, struct stat *st);
/* The child called name of directory dir: 0 with *id, or -errno. */
int blk_fsvol_lookup(struct blk_fsvol *v, uint64_t dir, const char *name,
		     uint64_t *id);
/*
 * Entry idx of directory dir (its listing is made once and kept): 0 with
 * name copied to buf (len bytes) and *id; -ENOENT past the last; -errno.
 */
int blk_fsvol_dirent(struct blk_fsvol *v, uint64_t dir, size_t idx,
		     char *buf, size_t len, uint64_t *id);
/* The target of symlink id into buf (NUL-terminated): 0 or -errno. */
int blk_fsvol_readlink(struct blk_fsvol *v, uint64_t id, char *buf,
		       size_t len);
/* "dir/sub/name" of id from the volume's root (for the audit). */
void blk_fsvol_path(struct blk_fsvol *v, uint64_t id, char *buf, size_t len);

/*
 * Where the len bytes at off of file id lie unchanged in files, to splice:
 * the number of extents (at most max) covering them all, or -EOPNOTSUPP
 * when any of them must be read through libtsk (resident, compressed,
 * sparse, past the initialised size, a decoding layer, a deleted file).
 */
int blk_fsvol_map(struct blk_fsvol *v, uint64_t id, uint64_t off, size_t len,
		  struct blk_extent *ext, unsigned int max);
/* len bytes at off of file id (clamped by the caller to its size) through
 * libtsk: bytes read, or -errno. */
ssize_t blk_fsvol_read(struct blk_fsvol *v, uint64_t id, void *buf,
		       size_t len, uint64_t off);

/* Names: bytes that are not valid UTF-8, and '/', as \xNN; a '\' that
 * would read as such an escape as \x5c.  out gets at most len - 1 bytes. */
void blk_fsname_escape(const char *in, char *out, size_t len);

#endif /* BLK_FSVOL_H */
