// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The source: a block device or a regular file holding a raw disk image.
 * It is opened O_RDONLY and never any other way; this file is the only
 * place that opens it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "blkfuse.h"

static int fail(const char *path, const char *what)
{
	blk_err("%s: %s", path, what);
	return -1;
}

int blk_source_open(struct blk_source *src, const char *path,
		    unsigned int sector_size_opt)
{
	memset(src, 0, sizeof(*src));
	src->fd = -1;
	src->fd_direct = -1;

	/* O_NONBLOCK: a FIFO must not hang us before fstat() rejects it. */
	src->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (src->fd < 0)
		return fail(path, strerror(errno));
	if (fstat(src->fd, &src->st) < 0)
		goto out_errno;

	if (S_ISDIR(src->st.st_mode)) {
		errno = EISDIR;
		goto out_errno;
	}
	if (S_ISBLK(src->st.st_mode)) {
		src->is_blockdev = true;
		if (ioctl(src->fd, BLKGETSIZE64, &src->size) < 0)
			goto out_errno;
	} else if (S_ISREG(src->st.st_mode)) {
		src->size = src->st.st_size;
	} else {
		close(src->fd);
		src->fd = -1;
		return fail(path, "not a block device or regular file");
	}
	/* Reads must block on a slow disk, not return EAGAIN. */
	if (fcntl(src->fd, F_SETFL, 0) < 0)
		goto out_errno;

	if (src->size == 0) {
		close(src->fd);
		src->fd = -1;
		return fail(path, "empty source (0 bytes)");
	}

	if (sector_size_opt) {
		src->sector_size = sector_size_opt;
		src->sector_size_from = "--sector-size";
	} else if (src->is_blockdev) {
		int ssz = 0;

		if (ioctl(src->fd, BLKSSZGET, &ssz) < 0 || ssz < 512)
			ssz = 512;
		src->sector_size = ssz;
		src->sector_size_from = "BLKSSZGET";
	} else {
		src->sector_size = 512;
		src->sector_size_from = "default";
	}
	if (src->size % src->sector_size)
		blk_warn("%s: size %llu is not a multiple of the %u-byte sector; the tail is still exposed in 'disk'",
			 path, (unsigned long long)src->size,
			 src->sector_size);

	snprintf(src->opened, sizeof(src->opened), "O_RDONLY");
	src->path = strdup(path);
	if (!src->path) {
		errno = ENOMEM;
		goto out_errno;
	}
	return 0;

out_errno:
	{
		int e = errno;

		close(src->fd);
		src->fd = -1;
		return fail(path, strerror(e));
	}
}

/* A second descriptor on the same object, for source_io=direct. */
int blk_source_open_direct(struct blk_source *src)
{
	char fdpath[64];
	int fd;

	if (src->fd_direct >= 0)
		return 0;
	/* Reopen through /proc so it is the very object we already hold. */
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", src->fd);
	fd = open(fdpath, O_RDONLY | O_CLOEXEC | O_DIRECT | O_NOCTTY);
	if (fd < 0)
		return -errno;
	src->fd_direct = fd;
	return 0;
}

void blk_source_close(struct blk_source *src)
{
	if (src->fd_direct >= 0)
		close(src->fd_direct);
	if (src->fd >= 0)
		close(src->fd);
	free(src->path);
	src->path = NULL;
	src->fd = src->fd_direct = -1;
}
