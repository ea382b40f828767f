// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Partition discovery: libblkid's partition chain turned into a table of
 * byte ranges.  No FUSE in here, so it is testable through --list alone.
 *
 * libblkid reports start and size in 512-byte units whatever the logical
 * sector size is; everything below is converted to bytes at once.
 */
#include <blkid.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "volume/layout.h"
#include "base/log.h"

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* The kernel shows a DOS extended container as 1-2 sectors (msdos.c). */
static uint64_t container_size(uint64_t table_size, unsigned int ssz)
{
	uint64_t n = ssz > 1024 ? ssz : 1024;

	return table_size < n ? table_size : n;
}

/*
 * Look at the NAME=value side of the probe for what the binary partition
 * list does not say: which GPT header was used, and a lone protective MBR.
 */
static void probe_header_facts(blkid_probe pr, struct blk_layout *lo,
			       unsigned int ssz)
{
	const char *val = NULL;

	if (blkid_do_safeprobe(pr) != 0)
		return;
	if (blkid_probe_lookup_value(pr, "PTTYPE", &val, NULL) == 0 &&
	    strcmp(val, "PMBR") == 0)
		lo->pmbr_only = true;
	if (blkid_probe_lookup_value(pr, "PTTYPE", &val, NULL) == 0 &&
	    strcmp(val, "gpt") == 0 &&
	    blkid_probe_lookup_value(pr, "PTMAGIC_OFFSET", &val, NULL) == 0 &&
	    strtoull(val, NULL, 10) != ssz)
		lo->gpt_backup_used = true;
}

/*
 * Start and size in bytes from libblkid's 512-byte units, checked: an
 * entry that overflows 64 bits, is empty or inverted (a negative size), or
 * is not aligned to the logical sector size is kept only to be listed.
 */
static const char *check_range(struct blk_part *p, int64_t start512,
			       int64_t size512, unsigned int ssz)
{
	if (start512 < 0 || start512 > (int64_t)(INT64_MAX >> 9))
		return "start overflows";
	if (size512 < 0)
		return "end before start";
	if (size512 == 0)
		return "zero size";
	if (size512 > (int64_t)(INT64_MAX >> 9) ||
	    (uint64_t)start512 + (uint64_t)size512 > (uint64_t)INT64_MAX >> 9)
		return "end overflows";
	p->start = (uint64_t)start512 << 9;
	p->table_size = (uint64_t)size512 << 9;
	if (p->start % ssz || p->table_size % ssz)
		return "not aligned to the sector size";
	return NULL;
}

/* The part of p the source holds: clipped, or none of it. */
static void fit_to_source(struct blk_part *p, const struct blk_source *src)
{
	if (p->start >= src->size) {
		p->flags |= BLK_PART_BEYOND_END;
		p->size = 0;
		blk_warn("%s: p%d starts at byte %llu, past the end (%llu bytes); not exposed",
			 src->given, p->partno, (unsigned long long)p->start,
			 (unsigned long long)src->size);
	} else if (p->size > src->size - p->start) {
		p->flags |= BLK_PART_CLIPPED;
		p->size = src->size - p->start;
		blk_warn("%s: p%d runs past the end; clipped to %llu of %llu bytes",
			 src->given, p->partno, (unsigned long long)p->size,
			 (unsigned long long)p->table_size);
	}
}

static void fill_part(struct blk_part *p, blkid_partition par,
		      const struct blk_source *src)
{
	blkid_parttable tab = blkid_partition_get_table(par);
	const char *tstr = blkid_partition_get_type_string(par);
	const char *invalid;

	p->partno = blkid_partition_get_partno(par);
	p->attrs = blkid_partition_get_flags(par);
	copy_str(p->scheme, sizeof(p->scheme),
		 tab ? blkid_parttable_get_type(tab) : "");
	if (tstr)
		copy_str(p->type, sizeof(p->type), tstr);
	else
		snprintf(p->type, sizeof(p->type), "0x%x",
			 blkid_partition_get_type(par));
	copy_str(p->name, sizeof(p->name), blkid_partition_get_name(par));
	copy_str(p->uuid, sizeof(p->uuid), blkid_partition_get_uuid(par));
	if (tab && blkid_parttable_get_parent(tab))
		p->flags |= BLK_PART_NESTED;

	invalid = check_range(p, blkid_partition_get_start(par),
			      blkid_partition_get_size(par), src->sector_size);
	if (invalid) {
		p->flags |= BLK_PART_INVALID;
		p->start = p->size = p->table_size = 0;
		copy_str(p->invalid, sizeof(p->invalid), invalid);
		blk_warn("%s: p%d is invalid (%s: start %" PRId64 ", size %" PRId64 " in 512-byte units); not exposed",
			 src->given, p->partno, invalid,
			 (int64_t)blkid_partition_get_start(par),
			 (int64_t)blkid_partition_get_size(par));
		return;
	}
	p->size = p->table_size;
	if (blkid_partition_is_extended(par)) {
		p->flags |= BLK_PART_CONTAINER;
		p->size = container_size(p->table_size, src->sector_size);
	}
	fit_to_source(p, src);
}

/* What libblkid reads: the source, or a container's decoded media. */
static int probe_fd(const struct blk_source *src)
{
	return src->img ? src->probe_fd : src->fd;
}

static uint64_t probe_off(const struct blk_source *src)
{
	return src->img ? src->probe_off : 0;
}

/* The file system inside a partition, for by-uuid/ and by-label/. */
static void probe_fs(const struct blk_source *src, struct blk_part *p)
{
	struct blk_fs fs;

	blk_probe_fs(src, p->start, p->size, &fs);
	copy_str(p->fs_uuid, sizeof(p->fs_uuid), fs.uuid);
	copy_str(p->fs_type, sizeof(p->fs_type), fs.type);
	copy_str(p->fs_label, sizeof(p->fs_label), fs.label);
}

static bool partno_taken(const struct blk_layout *lo, int partno)
{
	for (unsigned int i = 0; i < lo->nparts; i++)
		if (lo->parts[i].partno == partno)
			return true;
	return false;
}

/* The probe, set up for partition tables; NULL (printed) on failure. */
static blkid_probe new_table_probe(const struct blk_source *src)
{
	blkid_probe pr = blkid_new_probe();

	if (!pr) {
		blk_err("%s: cannot allocate a libblkid probe", src->given);
		return NULL;
	}
	/* A container: its media, not the file (a fixed VHD's footer) */
	if (blkid_probe_set_device(pr, probe_fd(src), probe_off(src),
				   src->img ? src->size : 0) != 0 ||
	    blkid_probe_set_sectorsize(pr, src->sector_size) != 0) {
		blk_err("%s: libblkid cannot use this source", src->given);
		blkid_free_probe(pr);
		return NULL;
	}
	blkid_probe_enable_superblocks(pr, 0);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	return pr;
}

static void say_no_table(const struct blk_source *src,
			 const struct blk_layout *lo)
{
	if (lo->disk_fs.type[0])
		blk_notice("%s: no partition table; the whole disk holds a file system (%s)",
			   src->given, lo->disk_fs.type);
	else if (lo->pmbr_only)
		blk_warn("%s: protective MBR but no valid GPT header (primary and backup both bad); exposing only 'disk'",
			 src->given);
	else
		blk_notice("%s: no partition table found; exposing only 'disk'",
			   src->given);
}

/* Every usable entry of ls into lo->parts: 0 or -ENOMEM. */
static int add_parts(const struct blk_source *src, blkid_partlist ls,
		     struct blk_layout *lo)
{
	int n = blkid_partlist_numof_partitions(ls);

	if (n > BLK_MAX_PARTS) {
		blk_warn("%s: %d partitions found; only the first %d are used",
			 src->given, n, BLK_MAX_PARTS);
		lo->truncated = true;
		n = BLK_MAX_PARTS;
	}
	lo->parts = calloc(n > 0 ? n : 1, sizeof(*lo->parts));
	if (!lo->parts)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		blkid_partition par = blkid_partlist_get_partition(ls, i);
		int partno;

		if (!par)
			continue;
		partno = blkid_partition_get_partno(par);
		if (partno <= 0 || partno_taken(lo, partno)) {
			blk_warn("%s: partition entry %d has an unusable number (%d); skipped",
				 src->given, i, partno);
			continue;
		}
		fill_part(&lo->parts[lo->nparts++], par, src);
	}
	for (unsigned int i = 0; i < lo->nparts; i++)
		if (blk_part_exposed(&lo->parts[i]) &&
		    !(lo->parts[i].flags & BLK_PART_CONTAINER))
			probe_fs(src, &lo->parts[i]);
	return 0;
}

int blk_layout_probe(const struct blk_source *src, struct blk_layout *lo)
{
	blkid_parttable tab = NULL;
	blkid_partlist ls;
	blkid_probe pr;
	int err = 0;

	memset(lo, 0, sizeof(*lo));
	if (probe_fd(src) < 0) {
		blk_err("%s: no descriptor on the decoded media to find the partitions with",
			src->given);
		return -EIO;
	}
	pr = new_table_probe(src);
	if (!pr)
		return -EIO;
	probe_header_facts(pr, lo, src->sector_size);
	/* NULL means "nothing found" as much as "cannot read", as in partx. */
	ls = blkid_probe_get_partitions(pr);
	if (ls)
		tab = blkid_partlist_get_table(ls);
	if (!tab) {
		if (!lo->pmbr_only)
			blk_probe_fs(src, 0, src->size, &lo->disk_fs);
		say_no_table(src, lo);
	} else {
		copy_str(lo->pttype, sizeof(lo->pttype),
			 blkid_parttable_get_type(tab));
		copy_str(lo->ptuuid, sizeof(lo->ptuuid),
			 blkid_parttable_get_id(tab));
		if (lo->gpt_backup_used)
			blk_warn("%s: primary GPT header is corrupt; using the backup header at the end of the disk",
				 src->given);
		err = add_parts(src, ls, lo);
	}
	blkid_free_probe(pr);
	if (!err)
		err = blk_layout_find_gaps(src, lo);
	if (err) {
		blk_err("%s: %s", src->given, strerror(-err));
		blk_layout_free(lo);
	}
	return err;
}

void blk_layout_free(struct blk_layout *lo)
{

	free(lo->parts);
	free(lo->gaps);
	free(lo->fs_seen);
	lo->parts = NULL;
	lo->gaps = NULL;
	lo->fs_seen = NULL;
	lo->nparts = lo->ngaps = lo->nfs_seen = 0;
}
