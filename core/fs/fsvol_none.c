// SPDX-License-Identifier: GPL-2.0-or-later
/* Built without libtsk: no fs/ in the mount (every volume is unreadable). */
#ifndef HAVE_LIBTSK
#include <errno.h>
#include <stdlib.h>

#include "fs/fsvol.h"

struct blk_fsvol {
	int unused;
};

bool blk_fsvol_available(void)
{
	return false;
}

const char *blk_fsvol_version(void)
{
	return "none (built without libtsk)";
}

struct blk_fsvol *blk_fsvol_new(struct blk_layer *layer, uint64_t start,
				uint64_t size, const char *path)
{
	(void)layer, (void)start, (void)size, (void)path;
	return calloc(1, sizeof(struct blk_fsvol));
}

void blk_fsvol_free(struct blk_fsvol *v)
{
	free(v);
}

int blk_fsvol_open(struct blk_fsvol *v)
{
	(void)v;
	return -EOPNOTSUPP;
}

const char *blk_fsvol_type(const struct blk_fsvol *v)
{
	(void)v;
	return "";
}

const char *blk_fsvol_why(const struct blk_fsvol *v)
{
	(void)v;
	return "built without libtsk";
}

uint64_t blk_fsvol_root(const struct blk_fsvol *v)
{
	(void)v;
	return 0;
}

int blk_fsvol_stat(struct blk_fsvol *v, uint64_t id, struct stat *st)
{
	(void)v, (void)id, (void)st;
	return -ENOENT;
}

int blk_fsvol_lookup(struct blk_fsvol *v, uint64_t dir, const char *name,
		     uint64_t *id)
{
	(void)v, (void)dir, (void)name, (void)id;
	return -ENOENT;
}

int blk_fsvol_dirent(struct blk_fsvol *v, uint64_t dir, size_t idx,
		     char *buf, size_t len, uint64_t *id)
{
	(void)v, (void)dir, (void)idx, (void)buf, (void)len, (void)id;
	return -ENOENT;
}

int blk_fsvol_readlink(struct blk_fsvol *v, uint64_t id, char *buf,
		       size_t len)
{
	(void)v, (void)id, (void)buf, (void)len;
	return -EINVAL;
}

void blk_fsvol_path(struct blk_fsvol *v, uint64_t id, char *buf, size_t len)
{
	(void)v, (void)id;
	if (len)
		buf[0] = '\0';
}

int blk_fsvol_map(struct blk_fsvol *v, uint64_t id, uint64_t off, size_t len,
		  struct blk_extent *ext, unsigned int max)
{
	(void)v, (void)id, (void)off, (void)len, (void)ext, (void)max;
	return -EOPNOTSUPP;
}

ssize_t blk_fsvol_read(struct blk_fsvol *v, uint64_t id, void *buf,
		       size_t len, uint64_t off)
{
	(void)v, (void)id, (void)buf, (void)len, (void)off;
	return -EIO;
}
#endif
