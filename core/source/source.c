// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The source: a block device or a regular file holding a raw disk image.
 * It is opened O_RDONLY and never any other way.  Every other descriptor
 * on it (O_DIRECT here, O_EXCL in guard.c) is a reopen of this open file
 * through /proc/self/fd, so it is the very object already checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/log.h"
#include "base/noatime.h"
#include "layer/layer.h"
#include "source/source.h"

static int fail(struct blk_source *src, const char *path, int err,
		const char *what)
{
	blk_err("%s: %s", path, what ? what : strerror(err));
	if (src->fd >= 0)
		close(src->fd);
	src->fd = -1;
	blk_image_close(src->img);
	src->img = NULL;
	return -err;
}

/* The logical sector size the table was written for. */
static void pick_sector_size(struct blk_source *src, unsigned int opt)
{
	int ssz = 0;

	if (opt) {
		src->sector_size = opt;
		src->sector_size_from = "--sector-size";
	} else if (src->img && blk_sector_size_valid(src->img->sector_size)) {
		src->sector_size = src->img->sector_size;
		src->sector_size_from = "container";
	} else if (src->is_blockdev) {
		if (ioctl(src->fd, BLKSSZGET, &ssz) < 0 || ssz < 512)
			ssz = 512;
		src->sector_size = ssz;
		src->sector_size_from = "BLKSSZGET";
	} else {
		src->sector_size = 512;
		src->sector_size_from = "default";
	}
}

/* A container: its media size and format; where libblkid can read it. */
static int open_image(struct blk_source *src, const char *path,
		      const char *format)
{
	int err;

	src->format = "raw";
	src->probe_fd = src->fd;
	if (src->is_blockdev && !strcmp(format, "auto"))
		return 0;	/* a device is read as it is unless told */
	err = blk_image_open(&src->img, path, src->fd, src->size, format);
	if (err || !src->img)
		return err;
	src->format = src->img->ops->name;
	src->size = src->img->size;
	blk_image_narrow_access(src->img, &src->st);
	src->probe_fd = -1;
	/* a snapshot chain: the mount no more readable than any of its files */
	for (unsigned int i = 0; i < src->img->nseg; i++) {
		struct stat st;

		if (src->img->seg[i].role && src->img->seg[i].fd >= 0 &&
		    fstat(src->img->seg[i].fd, &st) == 0)
			src->st.st_mode &= st.st_mode | ~(mode_t)0444;
	}
	/* one raw segment: libblkid reads it directly */
	if (src->img->ops->map && src->img->nseg == 1)
		src->probe_fd = src->img->seg[0].fd;
	return 0;
}

int blk_source_open(struct blk_source *src, const char *path,
		    unsigned int sector_size_opt)
{
	return blk_source_open_as(src, path, sector_size_opt, "auto");
}

int blk_source_open_as(struct blk_source *src, const char *path,
		       unsigned int sector_size_opt, const char *format)
{
	int err;

	memset(src, 0, sizeof(*src));
	src->fd_direct = -1;

	/* O_NONBLOCK: a FIFO must not hang us before fstat() rejects it. */
	src->fd = blk_open_noatime(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
				   O_NOCTTY);
	if (src->fd < 0)
		return fail(src, path, errno, NULL);
	if (fstat(src->fd, &src->st) < 0)
		return fail(src, path, errno, NULL);
	if (S_ISDIR(src->st.st_mode))
		return fail(src, path, EISDIR, NULL);
	if (S_ISBLK(src->st.st_mode)) {
		src->is_blockdev = true;
		if (ioctl(src->fd, BLKGETSIZE64, &src->size) < 0)
			return fail(src, path, errno, NULL);
	} else if (S_ISREG(src->st.st_mode)) {
		src->size = src->st.st_size;
	} else {
		return fail(src, path, ENODEV,
			    "not a block device or regular file");
	}
	/* Reads must block on a slow disk, not return EAGAIN (O_NOATIME stays). */
	if (fcntl(src->fd, F_SETFL, fcntl(src->fd, F_GETFL) & O_NOATIME) < 0)
		return fail(src, path, errno, NULL);
	if (src->size == 0)
		return fail(src, path, EINVAL, "empty source (0 bytes)");
	err = open_image(src, path, format);
	if (err) {
		close(src->fd);
		src->fd = -1;
		return err;	/* printed */
	}

	pick_sector_size(src, sector_size_opt);
	if (src->size % src->sector_size)
		blk_warn("%s: size %llu is not a multiple of the %u-byte sector; the tail is still exposed in 'disk'",
			 path, (unsigned long long)src->size,
			 src->sector_size);

	snprintf(src->opened, sizeof(src->opened), "O_RDONLY");
	src->path = realpath(path, NULL);
	src->given = strdup(path);
	if (!src->path || !src->given) {
		free(src->path);
		free(src->given);
		src->path = src->given = NULL;
		return fail(src, path, ENOMEM, NULL);
	}
	src->layer = blk_source_layer(src);
	if (!src->layer) {
		blk_err("%s: %s", path, strerror(ENOMEM));
		blk_source_close(src);
		return -ENOMEM;
	}
	return 0;
}

/* A second descriptor on the same object, for source_io=direct. */
int blk_source_open_direct(struct blk_source *src)
{
	char fdpath[64];
	int fd, none = -1;

	if (atomic_load(&src->fd_direct) >= 0)
		return 0;
	/* Reopen through /proc so it is the very object we already hold. */
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", src->fd);
	fd = blk_open_noatime(fdpath, O_RDONLY | O_CLOEXEC | O_DIRECT | O_NOCTTY);
	if (fd < 0)
		return -errno;
	/* Two control writers may race here: keep the first, close ours. */
	if (!atomic_compare_exchange_strong(&src->fd_direct, &none, fd))
		close(fd);
	return 0;
}

ssize_t blk_source_pread(const struct blk_source *src, void *buf, size_t len,
			 uint64_t off, uint64_t *bad)
{
	ssize_t n;
	int err;

	*bad = off;
	if (!src->img) {
		n = pread(src->fd, buf, len, off);
		return n < 0 ? -errno : n;
	}
	if (off >= src->size)
		return 0;
	if (len > src->size - off)
		len = src->size - off;
	err = blk_image_read(src->img, buf, len, off, bad);
	return err ? err : (ssize_t)len;
}

ssize_t blk_source_pread_uncached(const struct blk_source *src, void *buf,
				  size_t len, uint64_t off, uint64_t *bad)
{
	int err;

	if (!src->img)
		return blk_source_pread(src, buf, len, off, bad);
	*bad = off;
	if (off >= src->size)
		return 0;
	if (len > src->size - off)
		len = src->size - off;
	err = blk_image_read_uncached(src->img, buf, len, off, bad);
	return err ? err : (ssize_t)len;
}

void blk_source_close(struct blk_source *src)
{
	int fd_direct = atomic_exchange(&src->fd_direct, -1);

	if (fd_direct >= 0)
		close(fd_direct);
	if (src->fd >= 0)
		close(src->fd);
	free(src->path);
	free(src->given);
	blk_layer_free(src->layer);
	src->layer = NULL;
	blk_image_close(src->img);
	src->img = NULL;
	src->path = src->given = NULL;
	src->fd = -1;
}
