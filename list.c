// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkfuse --list: the table as blkfuse sees it, without mounting.
 * START, END and SECTORS are in logical sectors of the size that was used
 * (the header says which and why); the JSON form also gives bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "blkfuse.h"

/* free/FIRST-LAST in sectors, zero-padded so names sort by position. */
void blk_gap_name(char *buf, size_t len, const struct blk_gap *g,
		  unsigned int ssz)
{
	uint64_t first = g->start / ssz;
	uint64_t last = (g->start + g->size + ssz - 1) / ssz - 1;

	snprintf(buf, len, "%010" PRIu64 "-%010" PRIu64, first, last);
}

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

static void print_parts(const struct blk_source *src,
			const struct blk_layout *lo);

static void print_text(const struct blk_source *src,
		       const struct blk_layout *lo)
{
	unsigned int ssz = src->sector_size;

	printf("Source:      %s (%s, opened %s)\n", src->path,
	       src->is_blockdev ? "block device" : "regular file", src->opened);
	printf("Size:        %llu bytes, %llu sectors\n",
	       (unsigned long long)src->size,
	       (unsigned long long)(src->size / ssz));
	printf("Sector size: %u (%s)\n", ssz, src->sector_size_from);
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
		human_size(hsize, sizeof(hsize), g->size);
		printf("free/%-20s %12llu %12llu %12llu %7s\n", name,
		       (unsigned long long)(g->start / ssz),
		       (unsigned long long)(g->start / ssz + sectors - 1),
		       (unsigned long long)sectors, hsize);
	}
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

static void json_gap_name(char *buf, size_t len, const struct blk_gap *g,
			  unsigned int ssz)
{
	blk_gap_name(buf, len, g, ssz);
}

/* The layout document: --list --json and MOUNTPOINT/layout.json. */
void blk_layout_json(FILE *f, const struct blk_source *src,
		     const struct blk_layout *lo)
{
	unsigned int ssz = src->sector_size;
	const char *sep = "";

	fprintf(f, "{\n  \"blkfuse_version\": \"%s\",\n  \"source\": ", BLKFUSE_VERSION);
	json_str(f, src->path);
	fprintf(f, ",\n  \"source_kind\": \"%s\",\n  \"opened\": ",
		src->is_blockdev ? "block" : "file");
	json_str(f, src->opened);
	fprintf(f, ",\n  \"size\": %llu,\n  \"sector_size\": %u,\n  \"sector_size_from\": \"%s\",\n",
		(unsigned long long)src->size, ssz, src->sector_size_from);
	fprintf(f, "  \"table\": ");
	json_str(f, lo->pttype);
	fprintf(f, ",\n  \"table_id\": ");
	json_str(f, lo->ptuuid);
	fprintf(f, ",\n  \"gpt_header\": \"%s\",\n",
		strcmp(lo->pttype, "gpt") ? "" :
		lo->gpt_backup_used ? "backup" : "primary");
	fprintf(f, "  \"nested_tables\": [");
	for (unsigned int i = 0; i < lo->nparts; i++) {
		const struct blk_part *p = &lo->parts[i];

		if (!(p->flags & BLK_PART_NESTED) || strstr(sep, p->scheme))
			continue;
		fprintf(f, "%s", sep[0] ? ", " : "");
		json_str(f, p->scheme);
		sep = p->scheme;
	}
	fprintf(f, "],\n  \"partitions\": [");
	for (unsigned int i = 0; i < lo->nparts; i++) {
		const struct blk_part *p = &lo->parts[i];
		char flags[64];

		flags_str(flags, sizeof(flags), p->flags);
		fprintf(f, "%s\n    {\"nr\": %d, \"name\": \"p%d\", \"exposed\": %s, ",
			i ? "," : "", p->partno, p->partno,
			p->flags & BLK_PART_BEYOND_END ? "false" : "true");
		fprintf(f, "\"start\": %llu, \"end\": %llu, \"sectors\": %llu, \"start_bytes\": %llu, \"size_bytes\": %llu, \"table_size_bytes\": %llu, ",
			(unsigned long long)(p->start / ssz),
			(unsigned long long)((p->start + p->table_size) / ssz - 1),
			(unsigned long long)(p->table_size / ssz),
			(unsigned long long)p->start,
			(unsigned long long)p->size,
			(unsigned long long)p->table_size);
		fprintf(f, "\"scheme\": ");
		json_str(f, p->scheme);
		fprintf(f, ", \"type\": ");
		json_str(f, p->type);
		fprintf(f, ", \"label\": ");
		json_str(f, p->name);
		fprintf(f, ", \"uuid\": ");
		json_str(f, p->uuid);
		fprintf(f, ", \"fs_type\": ");
		json_str(f, p->fs_type);
		fprintf(f, ", \"fs_uuid\": ");
		json_str(f, p->fs_uuid);
		fprintf(f, ", \"attrs\": %llu, \"flags\": ", p->attrs);
		json_str(f, flags);
		fprintf(f, "}");
	}
	fprintf(f, "%s],\n  \"free\": [", lo->nparts ? "\n  " : "");
	for (unsigned int i = 0; i < lo->ngaps; i++) {
		const struct blk_gap *g = &lo->gaps[i];
		char name[64];

		json_gap_name(name, sizeof(name), g, ssz);
		fprintf(f, "%s\n    {\"name\": \"free/%s\", \"start\": %llu, \"sectors\": %llu, \"start_bytes\": %llu, \"size_bytes\": %llu}",
			i ? "," : "", name, (unsigned long long)(g->start / ssz),
			(unsigned long long)((g->size + ssz - 1) / ssz),
			(unsigned long long)g->start, (unsigned long long)g->size);
	}
	fprintf(f, "%s],\n  \"warnings\": [", lo->ngaps ? "\n  " : "");
	sep = "";
	for (unsigned int i = 0; i < lo->nparts; i++) {
		const struct blk_part *p = &lo->parts[i];
		char w[160];

		if (p->flags & BLK_PART_BEYOND_END)
			snprintf(w, sizeof(w), "p%d starts past the end; not exposed", p->partno);
		else if (p->flags & BLK_PART_CLIPPED)
			snprintf(w, sizeof(w), "p%d runs past the end; clipped to %llu of %llu bytes",
				 p->partno, (unsigned long long)p->size,
				 (unsigned long long)p->table_size);
		else
			continue;
		fprintf(f, "%s", sep);
		json_str(f, w);
		sep = ", ";
	}
	if (lo->gpt_backup_used) {
		fprintf(f, "%s", sep);
		json_str(f, "primary GPT header is corrupt; the backup header was used");
		sep = ", ";
	}
	if (lo->pmbr_only) {
		fprintf(f, "%s", sep);
		json_str(f, "protective MBR but no valid GPT header");
		sep = ", ";
	}
	if (lo->truncated) {
		fprintf(f, "%s", sep);
		json_str(f, "more partitions than blkfuse uses; the rest are ignored");
	}
	fprintf(f, "]\n}\n");
}

void blk_list_print(const struct blk_source *src,
		    const struct blk_layout *lo, bool json)
{
	if (json)
		blk_layout_json(stdout, src, lo);
	else
		print_text(src, lo);
}
