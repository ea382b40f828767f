// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkfuse --list: the table as blkfuse sees it, without mounting.
 * START, END and SECTORS are in logical sectors of the size that was used
 * (the header says which and why); the JSON form also gives bytes.
 */
#include <stdio.h>
#include <string.h>

#include "blkfuse.h"

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void flags_str(char *buf, size_t len, unsigned int flags)
{
	static const struct { unsigned int bit; const char *name; } names[] = {
		{ BLK_PART_CLIPPED, "clipped" },
		{ BLK_PART_BEYOND_END, "beyond-end" },
		{ BLK_PART_CONTAINER, "container" },
		{ BLK_PART_NESTED, "nested" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].bit))
			continue;
		used += snprintf(buf + used, len - used, "%s%s",
				 used ? "," : "", names[i].name);
		if (used >= len)
			break;
	}
}

static void human_size(char *buf, size_t len, uint64_t bytes)
{
	static const char units[] = "BKMGTPE";
	double v = bytes;
	int u = 0;

	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
	else if (v < 10 && v != (double)(uint64_t)v)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f%c", v, units[u]);
}

static const char *table_note(const struct blk_layout *lo)
{
	if (lo->gpt_backup_used)
		return "backup GPT header (primary is corrupt)";
	if (lo->pmbr_only)
		return "protective MBR without a valid GPT";
	return "";
}

static void print_text(const struct blk_source *src,
		       const struct blk_layout *lo)
{
	unsigned int ssz = src->sector_size;

	printf("Source:      %s (%s, opened read-only)\n", src->path,
	       src->is_blockdev ? "block device" : "regular file");
	printf("Size:        %llu bytes, %llu sectors\n",
	       (unsigned long long)src->size,
	       (unsigned long long)(src->size / ssz));
	printf("Sector size: %u (%s)\n", ssz, src->sector_size_from);
	printf("Table:       %s%s%s%s%s\n", lo->pttype[0] ? lo->pttype : "none",
	       lo->ptuuid[0] ? ", id " : "", lo->ptuuid,
	       table_note(lo)[0] ? ", " : "", table_note(lo));
	if (!lo->nparts)
		return;
	printf("\n%4s %12s %12s %12s %7s %-8s %-36s %-20s %-36s %s\n", "NR",
	       "START", "END", "SECTORS", "SIZE", "SCHEME", "TYPE", "NAME",
	       "UUID", "FLAGS");
	for (unsigned int i = 0; i < lo->nparts; i++) {
		const struct blk_part *p = &lo->parts[i];
		uint64_t sectors = p->table_size / ssz;
		char hsize[16], flags[64];

		human_size(hsize, sizeof(hsize), p->table_size);
		flags_str(flags, sizeof(flags), p->flags);
		printf("%4d %12llu %12llu %12llu %7s %-8s %-36s %-20s %-36s %s\n",
		       p->partno, (unsigned long long)(p->start / ssz),
		       (unsigned long long)(p->start / ssz + sectors - 1),
		       (unsigned long long)sectors, hsize, p->scheme, p->type,
		       p->name[0] ? p->name : "-", p->uuid[0] ? p->uuid : "-",
		       flags[0] ? flags : "-");
	}
}

static void print_json(const struct blk_source *src,
		       const struct blk_layout *lo)
{
	unsigned int ssz = src->sector_size;

	printf("{\n  \"source\": ");
	json_str(stdout, src->path);
	printf(",\n  \"source_kind\": \"%s\",\n  \"opened\": \"O_RDONLY\",\n",
	       src->is_blockdev ? "block" : "file");
	printf("  \"size\": %llu,\n  \"sector_size\": %u,\n  \"sector_size_from\": \"%s\",\n",
	       (unsigned long long)src->size, ssz, src->sector_size_from);
	printf("  \"table\": ");
	json_str(stdout, lo->pttype);
	printf(",\n  \"table_id\": ");
	json_str(stdout, lo->ptuuid);
	printf(",\n  \"gpt_header\": \"%s\",\n",
	       strcmp(lo->pttype, "gpt") ? "" :
	       lo->gpt_backup_used ? "backup" : "primary");
	printf("  \"partitions\": [");
	for (unsigned int i = 0; i < lo->nparts; i++) {
		const struct blk_part *p = &lo->parts[i];
		char flags[64];

		flags_str(flags, sizeof(flags), p->flags);
		printf("%s\n    {\"nr\": %d, \"name\": \"p%d\", \"exposed\": %s, ",
		       i ? "," : "", p->partno, p->partno,
		       p->flags & BLK_PART_BEYOND_END ? "false" : "true");
		printf("\"start\": %llu, \"sectors\": %llu, \"start_bytes\": %llu, \"size_bytes\": %llu, \"table_size_bytes\": %llu, ",
		       (unsigned long long)(p->start / ssz),
		       (unsigned long long)(p->table_size / ssz),
		       (unsigned long long)p->start,
		       (unsigned long long)p->size,
		       (unsigned long long)p->table_size);
		printf("\"scheme\": ");
		json_str(stdout, p->scheme);
		printf(", \"type\": ");
		json_str(stdout, p->type);
		printf(", \"label\": ");
		json_str(stdout, p->name);
		printf(", \"uuid\": ");
		json_str(stdout, p->uuid);
		printf(", \"attrs\": %llu, \"flags\": ", p->attrs);
		json_str(stdout, flags);
		printf("}");
	}
	printf("%s]\n}\n", lo->nparts ? "\n  " : "");
}

void blk_list_print(const struct blk_source *src,
		    const struct blk_layout *lo, bool json)
{
	if (json)
		print_json(src, lo);
	else
		print_text(src, lo);
}
