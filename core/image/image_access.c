// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a multi-file container may reach and who may read what it gives.
 * A descriptor (flat or sparse VMDK) names its extent files: they must lie
 * in the descriptor's folder, not be named by an absolute path nor reached
 * through '..' or a symbolic link out of it, unless --extents-anywhere.
 * And the mount is never more readable than any file it reads: the read
 * bits of every segment narrow those of the first.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "base/log.h"

bool blk_img_extents_anywhere;

/* Where a file really is: by its descriptor when open, else by its name. */
static char *real_name(const char *path, int fd)
{
	char proc[64], buf[PATH_MAX];
	ssize_t n;

	if (fd < 0)
		return realpath(path, NULL);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/* The real folder of the descriptor, with a trailing '/'. */
static char *real_folder(const char *desc)
{
	const char *slash = strrchr(desc, '/');
	char *dir = slash ? strndup(desc, slash - desc + 1) : strdup(".");
	char *real = dir ? realpath(dir, NULL) : NULL, *out = NULL;

	if (real && asprintf(&out, "%s%s", real,
			     strcmp(real, "/") ? "/" : "") < 0)
		out = NULL;
	free(dir);
	free(real);
	return out;
}

int blk_image_confine(const char *desc, const char *name, const char *path,
		      int fd)
{
	char *folder, *real;
	bool inside;

	if (blk_img_extents_anywhere)
		return 0;
	folder = real_folder(desc);
	real = name[0] == '/' ? NULL : real_name(path, fd);
	inside = folder && real && !strncmp(real, folder, strlen(folder));
	/* not there at all: the open says so, naming the file */
	if (!real && name[0] != '/' && errno == ENOENT)
		inside = true;
	free(folder);
	free(real);
	if (inside)
		return 0;
	blk_err("%s: extent \"%s\" is outside the descriptor's folder (an absolute path, '..' or a symbolic link out of it); refused (--extents-anywhere allows it)",
		desc, name);
	return -EPERM;
}

/* The read bits a file gives to the class uid, gid fall in. */
static mode_t reads(const struct stat *f, uid_t uid, gid_t gid)
{
	mode_t m = f->st_mode;
	mode_t owner = f->st_uid == uid ? m & 0400 :
		       f->st_gid == gid ? (m & 0040) << 3 : (m & 0004) << 6;
	mode_t group = f->st_gid == gid ? m & 0040 : (m & 0004) << 3;

	return owner | group | (m & 0004);
}

void blk_image_narrow_access(const struct blk_image *im, struct stat *st)
{
	mode_t keep = st->st_mode & 0444;

	for (unsigned int i = 0; im && i < im->nseg; i++) {
		const struct blk_segment *s = &im->seg[i];
		struct stat f;

		if ((s->fd >= 0 ? fstat(s->fd, &f) : stat(s->path, &f)) < 0)
			keep = 0;	/* unknown: nobody but root */
		else
			keep &= reads(&f, st->st_uid, st->st_gid);
	}
	st->st_mode = (st->st_mode & ~(mode_t)0444) | keep;
}
