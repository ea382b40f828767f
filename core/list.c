// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkfuse --list: the table as blkfuse sees it, without mounting.
 * START, END and SECTORS are in logical sectors of the size that was used
 * (the header says which and why); the JSON form also gives bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "image_info.h"
#include "layout.h"
#include "list.h"
#include "util.h"

static const char *table_note(const struct blk_layout *lo)
{
	if (lo->gpt_backup_used)
		return "backup GPT header (primary is corrupt)";
	if (lo->pmbr_only)
		return "protective MBR without a valid GPT";
	return "";
}

static void print_parts(const struct blk_source *src,
			const struct blk_layout *lo)
{
	unsigned int ssz = src->sector_size;

	printf("\n%4s %12s %12s %12s %7s %-8s %-36s %-20s %-36s %s\n", "NR",
	       "START", "END", "SECTORS", "SIZE", "SCHEME", "TYPE", "NAME",
	       "UUID", "FLAGS");
	for (unsigned int i = 0; i < lo->nparts; i++) {
		const struct blk_part *p = &lo->parts[i];
		uint64_t sectors = p->table_size / ssz;
		char hsize[16], flags[64], name[4 * sizeof(p->name)];

		blk_part_flags_str(flags, sizeof(flags), p->flags);
		blk_text_escape(name, sizeof(name), p->name);
		if (p->flags & BLK_PART_INVALID) {
			printf("%4d %12s %12s %12s %7s %-8s %-36s %-20s %-36s %s (%s)\n",
			       p->partno, "-", "-", "-", "-", p->scheme, p->type,
			       name[0] ? name : "-", p->uuid[0] ? p->uuid : "-",
			       flags, p->invalid);
			continue;
		}
		blk_size_human(hsize, sizeof(hsize), p->table_size);
		printf("%4d %12llu %12llu %12llu %7s %-8s %-36s %-20s %-36s %s\n",
		       p->partno, (unsigned long long)(p->start / ssz),
		       (unsigned long long)(p->start / ssz + sectors - 1),
		       (unsigned long long)sectors, hsize, p->scheme, p->type,
		       name[0] ? name : "-", p->uuid[0] ? p->uuid : "-",
		       flags[0] ? flags : "-");
	}
}

static void print_text(const struct blk_source *src,
		       const struct blk_layout *lo)
{
	unsigned int ssz = src->sector_size;

	char path[4096];

	blk_text_escape(path, sizeof(path), src->path);
	printf("Source:      %s (%s, opened %s)\n", path,
	       src->is_blockdev ? "block device" : "regular file", src->opened);
	printf("Size:        %llu bytes, %llu sectors\n",
	       (unsigned long long)src->size,
	       (unsigned long long)(src->size / ssz));
	printf("Sector size: %u (%s)\n", ssz, src->sector_size_from);
	blk_image_print_text(stdout, src);
	printf("Table:       %s%s%s%s%s\n", lo->pttype[0] ? lo->pttype : "none",
	       lo->ptuuid[0] ? ", id " : "", lo->ptuuid,
	       table_note(lo)[0] ? ", " : "", table_note(lo));
	if (lo->nparts)
		print_parts(src, lo);
	if (!lo->ngaps)
		return;
	printf("\n%-25s %12s %12s %12s %7s\n", "FREE", "START", "END", "SECTORS", "SIZE");
	for (unsigned int i = 0; i < lo->ngaps; i++) {
		const struct blk_gap *g = &lo->gaps[i];
		char name[64], hsize[16];
		uint64_t sectors = (g->size + ssz - 1) / ssz;

		blk_gap_name(name, sizeof(name), g, ssz);
		blk_size_human(hsize, sizeof(hsize), g->size);
		printf("free/%-20s %12llu %12llu %12llu %7s\n", name,
		       (unsigned long long)(g->start / ssz),
		       (unsigned long long)(g->start / ssz + sectors - 1),
		       (unsigned long long)sectors, hsize);
	}
}

void blk_list_print(const struct blk_source *src,
		    const struct blk_layout *lo, bool json)
{
	if (json)
		blk_layout_json(stdout, src, lo);
	else
		print_text(src, lo);
}
