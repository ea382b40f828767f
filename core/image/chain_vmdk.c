// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VMDK delta disks (chain.h): a delta and its parents, each a VMDK named by
 * the one above it (parentFileNameHint), down to one without a parent.
 * libvmdk reads a grain the delta lacks from the parent handle it is given,
 * so each reading thread opens one handle per level and links them.  The
 * files are blkfuse's to find (confined as chain.c confines) and to count:
 * every descriptor and extent file is opened O_RDONLY and listed with its
 * role.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/chain.h"
#include "image/libyal.h"
#include "base/log.h"

#ifndef HAVE_LIBVMDK
int blk_chain_vmdk_hook(struct blk_image *im, const char *path)
{
	(void)im, (void)path;
	return 1;
}
#else
#include <libvmdk.h>

#define VMDK_CHAIN_MAX 16
#define VMDK_SEG_MAX 256	/* every level's descriptor and extents */

struct vchain {
	unsigned int n;
	char *path[VMDK_CHAIN_MAX];	/* descriptors, top first */
};

static libvmdk_handle_t *open_level(const char *path, bool quiet)
{
	libvmdk_handle_t *h = NULL;
	libvmdk_error_t *e = NULL;
	char msg[256];

	if (libvmdk_handle_initialize(&h, &e) == 1 &&
	    libvmdk_handle_open(h, path, LIBVMDK_OPEN_READ, &e) == 1 &&
	    libvmdk_handle_open_extent_data_files(h, &e) == 1)
		return h;
	BLK_LIBYAL_MSG(libvmdk, e, msg, sizeof(msg));
	if (!quiet)
		blk_err("%s: %s", path, msg);
	libvmdk_handle_free(&h, NULL);
	return NULL;
}

static void close_level(libvmdk_handle_t *h)
{
	libvmdk_handle_close(h, NULL);
	libvmdk_handle_free(&h, NULL);
}

/* One thread's handles, top first, each the parent of the one above. */
static void vchain_close(void *p)
{
	libvmdk_handle_t **h = p;

	for (unsigned int i = 0; i < VMDK_CHAIN_MAX; i++)
		if (h[i])
			close_level(h[i]);	/* children before parents */
	free(h);
}

static void *vchain_open(struct blk_image *im)
{
	struct vchain *c = im->priv;
	libvmdk_handle_t **h = calloc(VMDK_CHAIN_MAX, sizeof(*h));

	if (!h)
		return NULL;
	for (unsigned int i = c->n; i-- > 0;) {
		h[i] = open_level(c->path[i], false);
		if (!h[i] || (i + 1 < c->n &&
			      libvmdk_handle_set_parent_handle(h[i], h[i + 1],
							       NULL) != 1)) {
			vchain_close(h);
			errno = EIO;
			return NULL;
		}
	}
	return h;
}

static int vchain_read(void *p, void *buf, size_t len, uint64_t off,
		       uint64_t *bad)
{
	libvmdk_handle_t **h = p;

	if (libvmdk_handle_read_buffer_at_offset(h[0], buf, len, off, NULL) ==
	    (ssize_t)len)
		return 0;
	if (bad)
		*bad = off;
	return -EIO;
}

static void vchain_free(struct blk_image *im)
{
	struct vchain *c = im->priv;

	if (!c)
		return;
	for (unsigned int i = 0; i < c->n; i++)
		free(c->path[i]);
	free(c);
	im->priv = NULL;
}

static const struct blk_image_ops vchain_ops = {
	.name		= "vmdk",
	.handle_open	= vchain_open,
	.handle_read	= vchain_read,
	.handle_close	= vchain_close,
	.free_priv	= vchain_free,
};

/* A level's descriptor and extent files as segments: 0 or -errno. */
static int add_files(struct blk_image *im, libvmdk_handle_t *h,
		     const char *path, const char *role)
{
	const char *slash = strrchr(path, '/');
	int n = 0, fd;
	struct stat st;

	fd = blk_chain_add_file(im, path, role, &st);
	if (fd < 0)
		return fd;
	libvmdk_handle_get_number_of_extents(h, &n, NULL);
	for (int i = 0; i < n && im->nseg < VMDK_SEG_MAX; i++) {
		libvmdk_extent_descriptor_t *d = NULL;
		char name[1024] = "", full[4096];

		if (libvmdk_handle_get_extent_descriptor(h, i, &d, NULL) != 1)
			continue;
		libvmdk_extent_descriptor_get_utf8_filename(d, (uint8_t *)name,
							    sizeof(name), NULL);
		libvmdk_extent_descriptor_free(&d, NULL);
		snprintf(full, sizeof(full), "%.*s%s",
			 (int)(slash + 1 - path), path, name);
		if (name[0] && strcmp(full, path) &&
		    (fd = blk_chain_add_file(im, full, role, &st)) < 0)
			return fd;
	}
	return 0;
}

/* The name of h's parent, or "" when it has none. */
static void parent_name(libvmdk_handle_t *h, char *name, size_t len)
{
	uint32_t pcid = 0xffffffff;

	name[0] = '\0';
	/* parentCID=ffffffff: no parent */
	if (libvmdk_handle_get_parent_content_identifier(h, &pcid, NULL) != 1 ||
	    pcid == 0xffffffff)
		return;
	if (libvmdk_handle_get_utf8_parent_filename(h, (uint8_t *)name, len,
						    NULL) != 1 || !name[0])
		snprintf(name, len, "(no parentFileNameHint)");
}

/* Level after level from path: 0, or -errno printed. */
static int open_chain(struct blk_image *im, struct vchain *c, const char *path)
{
	char name[1024], *next = strdup(path);
	int err = next ? 0 : -ENOMEM;
	size64_t media = 0;

	while (!err && next) {
		libvmdk_handle_t *h;

		if (c->n == VMDK_CHAIN_MAX) {
			blk_err("%s: a VMDK chain deeper than %d files", path,
				VMDK_CHAIN_MAX);
			free(next);
			return -ELOOP;
		}
		for (unsigned int i = 0; i < c->n; i++)
			if (!strcmp(c->path[i], next)) {
				blk_err("%s: the VMDK chain loops back to %s",
					c->path[c->n - 1], next);
				free(next);
				return -ELOOP;
			}
		c->path[c->n++] = next;
		next = NULL;
		h = open_level(c->path[c->n - 1], false);
		if (!h)
			return -EINVAL;
		parent_name(h, name, sizeof(name));
		err = add_files(im, h, c->path[c->n - 1],
				c->n == 1 ? "top" : "backing");
		if (c->n == 1 &&
		    libvmdk_handle_get_media_size(h, &media, NULL) == 1)
			im->size = media;
		close_level(h);
		if (!err && name[0])
			err = blk_chain_resolve(path, c->path[c->n - 1], name,
						&next);
	}
	return err;
}

int blk_chain_vmdk_hook(struct blk_image *im, const char *path)
{
	libvmdk_handle_t *h = open_level(path, true);
	struct vchain *c;
	char name[1024];

	if (!h)
		return 1;	/* the driver says why */
	parent_name(h, name, sizeof(name));
	close_level(h);
	if (!name[0])
		return 1;
	c = calloc(1, sizeof(*c));
	im->seg = calloc(VMDK_SEG_MAX, sizeof(*im->seg));
	if (!c || !im->seg) {
		free(c);
		return -ENOMEM;
	}
	im->ops = &vchain_ops;
	im->priv = c;
	return open_chain(im, c, path);
}
#endif
