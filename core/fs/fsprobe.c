// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The file system in a byte range of the source: libblkid's superblock
 * chain on a window of it, for by-uuid/, by-label/ and --list.
 */
#include <blkid.h>
#include <stdio.h>
#include <string.h>

#include "volume/layout.h"

static void copy_value(blkid_probe pr, const char *name, char *dst, size_t len)
{
	const char *val;

	if (blkid_probe_lookup_value(pr, name, &val, NULL) == 0)
		snprintf(dst, len, "%s", val);
}

void blk_probe_fs(const struct blk_source *src, uint64_t start, uint64_t size,
		  struct blk_fs *fs)
{
	/* a container: its decoded media, not the file */
	int fd = src->img ? src->probe_fd : src->fd;
	uint64_t off = src->img ? src->probe_off : 0;
	blkid_probe pr;

	memset(fs, 0, sizeof(*fs));
	if (fd < 0)
		return;
	pr = blkid_new_probe();
	if (!pr)
		return;	/* no memory: no alias links, nothing worse */
	if (blkid_probe_set_device(pr, fd, off + start, size) == 0) {
		blkid_probe_enable_partitions(pr, 0);
		blkid_probe_enable_superblocks(pr, 1);
		blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_UUID |
						  BLKID_SUBLKS_TYPE |
						  BLKID_SUBLKS_LABEL);
		if (blkid_do_safeprobe(pr) == 0) {
			copy_value(pr, "TYPE", fs->type, sizeof(fs->type));
			copy_value(pr, "UUID", fs->uuid, sizeof(fs->uuid));
			copy_value(pr, "LABEL", fs->label, sizeof(fs->label));
		}
	}
	blkid_free_probe(pr);
}
