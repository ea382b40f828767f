/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Evidence containers behind struct blk_source (image.c): EWF, split raw,
 * AFF, QCOW2, VMDK, VHD, VHDX.  A raw image or a block device has no
 * image (src->img == NULL) and is read with pread on src->fd, exactly as
 * before.  A container is either raw-in-file (split raw, fixed VHD: map()
 * says which fd holds a byte, so the read path keeps splicing) or
 * decoding (a library's handle per thread, behind a bounded cache of
 * decoded blocks shared by all threads, image_cache.c).
 */
#ifndef BLK_IMAGE_H
#define BLK_IMAGE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "layer/layer.h"	/* struct blk_extent */

#define BLK_IMAGE_MAX_META 32
#define BLK_IMAGE_CACHE_MB_DEFAULT 8	/* per worker (BLK_DCACHE_SHARE) */
#define BLK_IMAGE_CACHE_MB_MAX 1024

struct blk_image;
struct blk_dcache;


struct blk_segment {
	char *path;		/* as found (the first as the user typed it) */
	uint64_t size;		/* bytes of the file */
	int fd;			/* O_RDONLY, -1 when a library opens it */
	/* When fd is -1: a descriptor held on the file (the library is given
	 * /proc/self/fd/N, --exclusive locks it); 0: none. */
	int lock_fd;
	const char *role;	/* in a snapshot chain: "top", "backing" */
};

struct blk_meta {
	char key[40];
	char *value;		/* UTF-8 */
};

struct blk_image_ops {
	const char *name;		/* "ewf", the --format word */
	/* Decoding formats: a handle for the calling thread; NULL (errno). */
	void *(*handle_open)(struct blk_image *im);
	/* len decoded bytes at off into buf: 0, or -errno with *bad set to
	 * the media offset of the chunk that failed. */
	int (*handle_read)(void *h, void *buf, size_t len, uint64_t off,
			   uint64_t *bad);
	void (*handle_close)(void *h);
	/* Raw-in-file formats: where off lives (e->len > 0), or -EIO. */
	int (*map)(const struct blk_image *im, uint64_t off,
		   struct blk_extent *e);
	void (*free_priv)(struct blk_image *im);
	/* handle_read is plain preads (and zeros): the shared cache of
	 * decoded blocks would only add a copy */
	bool cheap;
};

struct blk_image {
	const struct blk_image_ops *ops;
	uint64_t size;			/* media bytes */
	unsigned int sector_size;	/* as the container says; 0: unknown */
	unsigned int nseg;
	struct blk_segment *seg;
	unsigned int nmeta;
	struct blk_meta meta[BLK_IMAGE_MAX_META];
	/* stored hashes, lowercase hex, "" when the container has none */
	char md5[33], sha1[41], sha256[65];
	void *priv;
	/* The source's descriptor (the first file; not ours to close): a
	 * library that takes a name reopens that very file through
	 * /proc/self/fd (blk_image_fd_path), never the path again. */
	int src_fd;
	/* bytes one decode yields at least (EWF chunk, AFF page); 0: small */
	unsigned int unit;
	struct blk_dcache *_Atomic dcache;	/* image_cache.c, shared */
	_Atomic bool ahead;		/* decode-ahead threads allowed */
	unsigned int gen;		/* tells per-thread handles apart */
	/* per worker, pooled in one cache for all threads; 0: no cache */
	_Atomic unsigned int cache_mb;
	_Atomic uint64_t decoded_bytes, cache_hits, cache_misses;
};

/* Is word one of the --format words (auto, raw, and the drivers')? */
bool blk_image_format_known(const char *word);
/* "auto, raw, split, ewf, ...": every --format word, sep between. */
void blk_image_format_words(char *buf, size_t len, const char *sep);
/*
 * image_access.c.  blk_image_confine: an extent (name as the descriptor
 * desc writes it, path as opened, fd or -1) must lie in desc's folder,
 * else printed and -EPERM, unless blk_img_extents_anywhere
 * (--extents-anywhere).  blk_image_narrow_access: st's read bits (owner
 * and group st's) narrowed to what every segment file allows.
 */
struct stat;
extern bool blk_img_extents_anywhere;
int blk_image_confine(const char *desc, const char *name, const char *path,
		      int fd);
void blk_image_narrow_access(const struct blk_image *im, struct stat *st);

/* "ewf qcow2 ...": what this build reads, for --version. */
void blk_image_built_formats(char *buf, size_t len);

/*
 * Open path (already open as fd, fstat'ed) as format ("auto": by content,
 * and by name for split raw).  *imp = NULL for a raw image.  0, or -errno
 * with one line printed naming the file.
 */
int blk_image_open(struct blk_image **imp, const char *path, int fd,
		   uint64_t fsize, const char *format);
void blk_image_close(struct blk_image *im);

/* "/proc/self/fd/N" of the source's descriptor, for a library's open. */
static inline void blk_image_fd_path(const struct blk_image *im, char *buf,
				     size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", im->src_fd);
}

static inline bool blk_image_decodes(const struct blk_image *im)
{
	return im && !im->ops->map;
}

/*
 * Let sequential readers be decoded ahead of on helper threads.  Only
 * once the process will not fork any more (the daemon: after
 * fuse_daemonize): threads do not survive a fork, and a block one of them
 * was decoding would never be finished.  im may be NULL (raw).
 */
static inline void blk_image_allow_ahead(struct blk_image *im)
{
	if (im)
		atomic_store(&im->ahead, true);
}

/* Decoded bytes [off, off + len) through this thread's handle and cache:
 * 0, or -errno with *bad the media offset of the failing chunk. */
int blk_image_read(struct blk_image *im, void *buf, size_t len, uint64_t off,
		   uint64_t *bad);
/* The same without the cache (rereading sector by sector). */
int blk_image_read_uncached(struct blk_image *im, void *buf, size_t len,
			    uint64_t off, uint64_t *bad);
/*
 * The decoded-block cache all threads share (image_cache.c).  cache_mb is
 * per worker: the cache holds BLK_DCACHE_SHARE * cache_mb MiB (the
 * default max_threads is 4).  blk_dcache_read: decoded bytes [off, off +
 * len) (within the media) through it, decoding ahead of a sequential
 * reader on helper threads: 0, or -errno with *bad set.  blk_dcache_free:
 * stop the helpers and free it (the image is being closed).
 */
#define BLK_DCACHE_SHARE 4
int blk_dcache_read(struct blk_image *im, unsigned int mb, char *buf,
		    size_t len, uint64_t off, uint64_t *bad);
void blk_dcache_free(struct blk_image *im);
/* image.c, for the cache: len decoded bytes at off through the calling
 * thread's own library handle, no cache: 0 or -errno, *bad set. */
int blk_image_decode(struct blk_image *im, void *buf, size_t len,
		     uint64_t off, uint64_t *bad);
/* Close the calling thread's handle (a thread about to end). */
void blk_image_thread_done(void);

/* The container is one file its library opens by name (no descriptor of
 * ours): im->seg[0], with its size.  0 or -ENOMEM. */
int blk_image_one_file(struct blk_image *im, const char *path);

void blk_image_add_meta(struct blk_image *im, const char *key,
			const char *value);

/* image_raw.c: a split raw set (im NULL: is path one, by name?). */
int blk_img_split_open(struct blk_image *im, const char *path);
/* A flat VMDK (a descriptor naming raw extents): -ENOENT when it is not
 * one, so that libvmdk reads it. */
int blk_img_vmdk_flat_open(struct blk_image *im, const char *path, int fd,
			   uint64_t fsize);
/* image_raw.c, for the formats whose bytes sit raw in files: open one
 * more segment (printed); then map segment i's len[i] media bytes to its
 * file from byte base[i] (NULL: 0). */
int blk_img_raw_add_segment(struct blk_image *im, const char *path);
int blk_img_raw_finish(struct blk_image *im, const uint64_t *len,
		       const uint64_t *base);
int blk_img_vhd_fixed_open(struct blk_image *im, const char *path, int fd,
			   uint64_t fsize);

#endif /* BLK_IMAGE_H */
