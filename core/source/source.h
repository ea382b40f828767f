/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The source: a block device or a regular file holding a raw disk image
 * or an evidence container (image.h), opened O_RDONLY and never any other
 * way.  source.c opens it; guard.c adds the forensic claims on that same
 * open file (the first segment of a container).
 */
#ifndef BLK_SOURCE_H
#define BLK_SOURCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "image/image.h"

struct blk_layer;

struct blk_source {
	char *path;		/* absolute (realpath) */
	char *given;		/* as the user typed it, for messages */
	int fd;			/* O_RDONLY */
	_Atomic int fd_direct;	/* O_RDONLY|O_DIRECT once asked for, else -1 */
	bool is_blockdev;
	uint64_t size;		/* bytes */
	unsigned int sector_size;	/* logical sector size used for the table */
	const char *sector_size_from;	/* "BLKSSZGET", "--sector-size", "default" */
	char opened[64];		/* how: "O_RDONLY", "O_RDONLY|O_EXCL", ... */
	struct stat st;
	/* An evidence container, NULL for a raw image or a device. */
	struct blk_image *img;
	const char *format;		/* "raw", "ewf", ... */
	/* A container's media for libblkid: its one raw segment, or a
	 * descriptor on the decoded media that the caller provides
	 * (probe_mount.c); -1: none.  Without a container, fd is used. */
	int probe_fd;
	uint64_t probe_off;
	/* The source as the bottom layer of the stack (layer/layer.h). */
	struct blk_layer *layer;
};

/* 0, or -errno with one line printed naming path.  format: a word of
 * blk_image_formats ("auto": by content); blk_source_open is "auto". */
int blk_source_open_as(struct blk_source *src, const char *path,
		       unsigned int sector_size_opt, const char *format);
int blk_source_open(struct blk_source *src, const char *path,
		    unsigned int sector_size_opt);
/* The media bytes at off: a count (short only at the end), or -errno
 * with *bad the media offset that failed (a container's chunk). */
ssize_t blk_source_pread(const struct blk_source *src, void *buf, size_t len,
			 uint64_t off, uint64_t *bad);
/* The same, bypassing a container's decode cache. */
ssize_t blk_source_pread_uncached(const struct blk_source *src, void *buf,
				  size_t len, uint64_t off, uint64_t *bad);
/* A second, O_DIRECT descriptor on the same open file: 0 or -errno. */
int blk_source_open_direct(struct blk_source *src);
void blk_source_close(struct blk_source *src);
/* layer/source_layer.c: src as a layer (freed by blk_source_close). */
struct blk_layer *blk_source_layer(struct blk_source *src);

/* A logical sector size blkfuse takes: a power of two, 512..65536. */
static inline bool blk_sector_size_valid(uint64_t ss)
{
	return ss >= 512 && ss <= 65536 && !(ss & (ss - 1));
}

/* guard.c: --exclusive and --set-ro.  0, or -errno with the reason printed. */
int blk_source_exclusive(struct blk_source *src);
int blk_source_set_ro(const struct blk_source *src);
void blk_source_restore_ro(void);

#endif /* BLK_SOURCE_H */
