// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A partition table inside a volume (a guest disk kept in an LV, a table
 * in a decrypted volume): libblkid's partition chain on the volume's bytes
 * (vol_probe.c says through which descriptor), each partition a slice of
 * the volume named pN as the kernel numbers them.  Entries that run past
 * the volume are clipped; those that start past it, overflow or are empty
 * are listed as bad.  DOS extended containers are not files (as at the
 * top level, their logical partitions are).
 */
#include <blkid.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "layer/layer.h"
#include "base/log.h"
#include "volume/vol_probe.h"

/* One entry of the table as child pN of vol: 0 or -ENOMEM. */
static int add_part(struct blk_stack *s, unsigned int vol, blkid_partition par)
{
	struct blk_layer *below = s->v[vol].layer;
	int64_t start = blkid_partition_get_start(par);
	int64_t size = blkid_partition_get_size(par);
	const char *bad = NULL;
	struct blk_layer *l = NULL;
	char name[32];
	uint64_t b, n;
	int i;

	snprintf(name, sizeof(name), "p%d", blkid_partition_get_partno(par));
	if (start < 0 || size <= 0 || start > INT64_MAX >> 9 ||
	    size > INT64_MAX >> 9)
		bad = "start or size out of range";
	else if ((uint64_t)start << 9 >= below->size)
		bad = "starts past the end of the volume";
	if (!bad) {
		b = (uint64_t)start << 9;
		n = (uint64_t)size << 9;
		if (n > below->size - b) {
			blk_warn("%s.d/%s runs past the end of %s; clipped to %llu of %llu bytes",
				 s->v[vol].path, name, s->v[vol].path,
				 (unsigned long long)(below->size - b),
				 (unsigned long long)n);
			n = below->size - b;
		}
		l = blk_stack_own(s, blk_layer_slice(below, b, n));
		if (!l)
			return -ENOMEM;
	}
	i = blk_stack_add(s, vol, name, "part", l);
	if (i < 0)
		return i == -ENOMEM ? i : 0;
	snprintf(s->v[i].uuid, sizeof(s->v[i].uuid), "%s",
		 blkid_partition_get_uuid(par) ? blkid_partition_get_uuid(par) : "");
	snprintf(s->v[i].label, sizeof(s->v[i].label), "%s",
		 blkid_partition_get_name(par) ? blkid_partition_get_name(par) : "");
	snprintf(s->v[i].detail, sizeof(s->v[i].detail), "%s partition",
		 s->v[vol].pttype);
	if (bad)
		blk_vol_fail(&s->v[i], BLK_VOL_BAD, "%s", bad);
	return 0;
}

static int add_parts(struct blk_stack *s, unsigned int vol, blkid_partlist ls)
{
	int n = blkid_partlist_numof_partitions(ls);
	int err = 0;

	if (n > BLK_MAX_PARTS)
		n = BLK_MAX_PARTS;
	for (int k = 0; k < n && !err; k++) {
		blkid_partition par = blkid_partlist_get_partition(ls, k);

		if (par && !blkid_partition_is_extended(par) &&
		    blkid_partition_get_partno(par) > 0)
			err = add_part(s, vol, par);
	}
	return err;
}

/* The table on fd at off: 0, -ENOENT when libblkid lists nothing, -ENOMEM. */
static int probe_table(struct blk_stack *s, unsigned int vol, int fd,
		       uint64_t off)
{
	struct blk_layer *l = s->v[vol].layer;
	blkid_probe pr = blkid_new_probe();
	blkid_partlist ls;
	int err = -ENOENT;

	if (pr && blkid_probe_set_device(pr, fd, off, l->size) == 0 &&
	    blkid_probe_set_sectorsize(pr, l->sector_size) == 0) {
		blkid_probe_enable_superblocks(pr, 0);
		blkid_probe_enable_partitions(pr, 1);
		ls = blkid_probe_get_partitions(pr);
		if (ls)
			err = add_parts(s, vol, ls);
	}
	blkid_free_probe(pr);
	return err;
}

/*
 * libblkid 2.38 refuses a whole DOS table, in place at a non-zero offset,
 * when an entry has a type it looks inside (0x82 Solaris/swap, BSD,
 * Minix, UnixWare) and starts before that offset: its nested probe takes
 * the entry's start, relative, for an absolute one ("overflow").  Then
 * the table is read again from a copy of the volume's first SNAP_HEAD
 * bytes at offset 0.
 */
#define SNAP_HEAD (64ull << 20)

static int table_open(struct blk_stack *s, unsigned int vol)
{
	uint64_t off;
	bool owned;
	int fd, err;

	if (s->v[vol].root)	/* the top-level table holds its nested ones */
		return 0;
	if (blk_vol_fd(s->v[vol].layer, &fd, &off, &owned) != 0)
		return 0;
	err = probe_table(s, vol, fd, off);
	if (owned)
		close(fd);
	if (err != -ENOENT || (owned && off == 0))
		return err == -ENOENT ? 0 : err;
	if (blk_vol_snapshot(s->v[vol].layer, SNAP_HEAD, &fd) != 0)
		return 0;
	err = probe_table(s, vol, fd, 0);
	close(fd);
	return err == -ENOENT ? 0 : err;
}

const struct blk_vol_driver blk_vol_table = {
	.name = "table",
	.what = "a partition table inside a volume: its partitions",
	.library = "libblkid",
	.package = "libblkid1",
	.blkid_type = NULL,
	.open = table_open,
};
