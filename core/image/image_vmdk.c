// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VMDK (monolithic and split, sparse and flat extents; stream-optimized)
 * through libvmdk, which resolves the extent files beside the descriptor.
 * A delta disk (one with a parent) is opened with its chain by
 * chain_vmdk.c, through the hook at the top of blk_img_vmdk_open.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/driver.h"
#include "image/chain.h"
#include "image/image.h"
#include "image/libyal.h"
#include "base/log.h"

#ifdef HAVE_LIBVMDK
#include <libvmdk.h>

static void vmdk_msg(libvmdk_error_t *e, char *buf, size_t len)
{
	BLK_LIBYAL_MSG(libvmdk, e, buf, len);
}

static libvmdk_handle_t *vmdk_open_handle(const char *path, char *msg,
					  size_t len)
{
	libvmdk_handle_t *h = NULL;
	libvmdk_error_t *e = NULL;

	if (libvmdk_handle_initialize(&h, &e) != 1) {
		vmdk_msg(e, msg, len);
		return NULL;
	}
	if (libvmdk_handle_open(h, path, LIBVMDK_OPEN_READ, &e) != 1 ||
	    libvmdk_handle_open_extent_data_files(h, &e) != 1) {
		vmdk_msg(e, msg, len);
		libvmdk_handle_free(&h, NULL);
		return NULL;
	}
	return h;
}

static void *vmdk_handle_open(struct blk_image *im)
{
	char msg[256];
	libvmdk_handle_t *h = vmdk_open_handle(im->seg[0].path, msg,
					       sizeof(msg));

	if (!h) {
		blk_warn("%s: %s", im->seg[0].path, msg);
		errno = EIO;
	}
	return h;
}

static int vmdk_read(void *h, void *buf, size_t len, uint64_t off,
		     uint64_t *bad)
{
	(void)bad;
	return libvmdk_handle_read_buffer_at_offset(h, buf, len, off, NULL) ==
	       (ssize_t)len ? 0 : -EIO;
}

static void vmdk_handle_close(void *hp)
{
	libvmdk_handle_t *h = hp;

	libvmdk_handle_close(h, NULL);
	libvmdk_handle_free(&h, NULL);
}

static const struct blk_image_ops vmdk_ops = {
	.name		= "vmdk",
	.handle_open	= vmdk_handle_open,
	.handle_read	= vmdk_read,
	.handle_close	= vmdk_handle_close,
};

/* The extent files, as segments (their sizes for --list). */
static int vmdk_extents(struct blk_image *im, libvmdk_handle_t *h,
			const char *path)
{
	int n = 0;
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash + 1 - path) : 0;
	struct stat st;

	libvmdk_handle_get_number_of_extents(h, &n, NULL);
	im->seg = calloc(n + 1, sizeof(*im->seg));
	if (!im->seg || !(im->seg[0].path = strdup(path)))
		return -ENOMEM;
	im->seg[0].fd = -1;
	im->nseg = 1;
	for (int i = 0; i < n; i++) {
		libvmdk_extent_descriptor_t *d = NULL;
		char name[1024], full[2048];

		if (libvmdk_handle_get_extent_descriptor(h, i, &d, NULL) != 1)
			continue;
		if (libvmdk_extent_descriptor_get_utf8_filename(d,
				(uint8_t *)name, sizeof(name), NULL) == 1) {
			snprintf(full, sizeof(full), "%.*s%s", (int)dirlen, path,
				 name);
			if (blk_image_confine(path, name, full, -1)) {
				libvmdk_extent_descriptor_free(&d, NULL);
				return -EPERM;
			}
			if (strcmp(full, path)) {
				im->seg[im->nseg].fd = -1;
				im->seg[im->nseg].path = strdup(full);
				if (im->seg[im->nseg].path)
					im->nseg++;
			}
		}
		libvmdk_extent_descriptor_free(&d, NULL);
	}
	for (unsigned int i = 0; i < im->nseg; i++)
		if (stat(im->seg[i].path, &st) == 0)
			im->seg[i].size = st.st_size;
	return 0;
}

static int vmdk_lib_open(struct blk_image *im, const char *path)
{
	libvmdk_handle_t *h;
	size64_t media = 0;
	char msg[256];
	uint32_t pcid = 0xffffffff;
	int err, parent;

	im->ops = &vmdk_ops;
	/* a delta disk: the whole chain (chain_vmdk.c) */
	err = blk_chain_vmdk_hook(im, path);
	if (err != 1)
		return err;
	h = vmdk_open_handle(path, msg, sizeof(msg));
	if (!h) {
		blk_err("%s: %s", path, msg);
		return -EINVAL;
	}
	libvmdk_handle_get_media_size(h, &media, NULL);
	/* parentCID=ffffffff: no parent */
	parent = libvmdk_handle_get_parent_content_identifier(h, &pcid,
							      NULL) == 1 &&
		 pcid != 0xffffffff;
	err = vmdk_extents(im, h, path);
	vmdk_handle_close(h);
	if (err)
		return err;
	if (parent) {
		blk_err("%s: VMDK delta disk (it has a parent); not supported",
			path);
		return -ENOTSUP;
	}
	im->size = media;
	if (!media) {
		blk_err("%s: VMDK image of 0 bytes", path);
		return -EINVAL;
	}
	return 0;
}
#endif

/* A flat VMDK (a descriptor naming raw extents) needs no library. */
static int vmdk_open(struct blk_image *im, const char *path, int fd,
		     uint64_t fsize, const unsigned char *tail)
{
	int err = blk_img_vmdk_flat_open(im, path, fd, fsize);

	(void)tail;
	if (err != -ENOENT)
		return err;
#ifdef HAVE_LIBVMDK
	return vmdk_lib_open(im, path);
#else
	return -ENOTSUP;
#endif
}

static bool vmdk_probe(const unsigned char *head, const unsigned char *tail)
{
	(void)tail;
	return blk_magic(head, "KDMV", 4) || blk_magic(head, "COWD", 4) ||
	       blk_magic(head, "# Disk DescriptorFile", 21);
}

const struct blk_image_driver blk_image_vmdk = {
	.name = "vmdk", .what = "VMDK", .lib = "libvmdk", .pkg = "libvmdk-dev",
	.partial = "flat", .probe = vmdk_probe, .open = vmdk_open,
#ifdef HAVE_LIBVMDK
	.built = true,
#endif
};
