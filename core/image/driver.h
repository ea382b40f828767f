/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A container format is one file exporting one descriptor; drivers.c
 * lists them.  image.c (detection, opening), --format, --help, --version,
 * the man page's list (checked by tests/docs.bats) and the refusals of a
 * build without a library all come from this table.
 */
#ifndef BLK_IMAGE_DRIVER_H
#define BLK_IMAGE_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

struct blk_image;

struct blk_image_driver {
	const char *name;	/* the --format word */
	const char *what;	/* in messages: "EWF (E01)" */
	const char *lib;	/* the library it needs, NULL: none */
	const char *pkg;	/* its Debian package */
	bool built;		/* the library is in this build */
	/* Without the library, what still opens ("flat"), else NULL. */
	const char *partial;
	/* Does the content say so (first and last 512 bytes)?  NULL: by
	 * name only. */
	bool (*probe)(const unsigned char *head, const unsigned char *tail);
	/* By name alone (split raw): 0 it is, -ENOENT not, -errno printed. */
	int (*by_name)(const char *path);
	/*
	 * Open path (fd, fsize bytes; tail: its last 512) into im: 0, or
	 * -errno printed; -ENOTSUP unprinted when the library is missing.
	 * NULL when this build cannot open the format at all.
	 */
	int (*open)(struct blk_image *im, const char *path, int fd,
		    uint64_t fsize, const unsigned char *tail);
};

/* drivers.c: in detection order, NULL-terminated. */
extern const struct blk_image_driver *const blk_image_drivers[];

/* Known containers blkfuse does not read: said by name, not read as raw. */
struct blk_image_unsupported {
	unsigned int off, len;
	const char *magic;
	const char *what;
};
extern const struct blk_image_unsupported blk_image_unsupported[];

static inline bool blk_magic(const unsigned char *b, const char *magic,
			     unsigned int len)
{
	for (unsigned int i = 0; i < len; i++)
		if (b[i] != (unsigned char)magic[i])
			return false;
	return true;
}

#endif /* BLK_IMAGE_DRIVER_H */
