// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * faulty_fs: a test helper, not part of blkfuse.  It mounts one file,
 * MOUNTPOINT/img, whose bytes are IMAGE's, except that a read touching
 * [BAD_START, BAD_START + BAD_LEN) fails with EIO, like a bad sector.
 *
 *   faulty_fs IMAGE BAD_START BAD_LEN MOUNTPOINT [-f] [-o ...]
 *
 * With FAULTY_SLOW_MS in the environment, a read at or past byte
 * FAULTY_SLOW_FROM (default 0) takes that long, like a disk that stalls:
 * a test can then signal a reader while its read is surely in flight.
 */
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int img_fd = -1;
static off_t img_size;
static unsigned long long bad_start, bad_len, slow_from, slow_ms;

static int ff_getattr(const char *path, struct stat *st,
		      struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		return 0;
	}
	if (strcmp(path, "/img") != 0)
		return -ENOENT;
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_size = img_size;
	return 0;
}

static int ff_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	(void)off, (void)fi, (void)flags;
	if (strcmp(path, "/") != 0)
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, "img", NULL, 0, 0);
	return 0;
}

static int ff_open(const char *path, struct fuse_file_info *fi)
{
	if (strcmp(path, "/img") != 0)
		return -ENOENT;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	fi->direct_io = 1;	/* every read reaches us with its own range */
	return 0;
}

static int ff_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	ssize_t n;

	(void)path, (void)fi;
	if ((unsigned long long)off < bad_start + bad_len &&
	    (unsigned long long)off + size > bad_start)
		return -EIO;
	if (slow_ms && (unsigned long long)off + size > slow_from)
		usleep(slow_ms * 1000);
	n = pread(img_fd, buf, size, off);
	return n < 0 ? -errno : (int)n;
}

static const struct fuse_operations ff_ops = {
	.getattr	= ff_getattr,
	.readdir	= ff_readdir,
	.open		= ff_open,
	.read		= ff_read,
};

int main(int argc, char *argv[])
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s IMAGE BAD_START BAD_LEN MOUNTPOINT [fuse options]\n",
			argv[0]);
		return 1;
	}
	img_fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (img_fd < 0) {
		perror(argv[1]);
		return 1;
	}
	img_size = lseek(img_fd, 0, SEEK_END);
	bad_start = strtoull(argv[2], NULL, 0);
	bad_len = strtoull(argv[3], NULL, 0);
	if (getenv("FAULTY_SLOW_MS"))
		slow_ms = strtoull(getenv("FAULTY_SLOW_MS"), NULL, 0);
	if (getenv("FAULTY_SLOW_FROM"))
		slow_from = strtoull(getenv("FAULTY_SLOW_FROM"), NULL, 0);
	argv[3] = argv[0];
	return fuse_main(argc - 3, argv + 3, &ff_ops, NULL);
}
