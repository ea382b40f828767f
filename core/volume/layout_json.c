// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The layout document: --list --json and MOUNTPOINT/layout.json, one JSON
 * object.  Strings go through blk_json_fputs, so it is valid UTF-8 even
 * when a table holds bytes that are not; a name that needed replacing
 * also comes as "label_hex", the raw bytes.
 */
#include <stdio.h>
#include <string.h>

#include "source/image_info.h"
#include "volume/layout.h"
#include "base/util.h"
#include "volume/volume.h"

void blk_part_flags_str(char *buf, size_t len, unsigned int flags)
{
	static const struct { unsigned int bit; const char *name; } names[] = {
		{ BLK_PART_CLIPPED, "clipped" },
		{ BLK_PART_BEYOND_END, "beyond-end" },
		{ BLK_PART_CONTAINER, "container" },
		{ BLK_PART_NESTED, "nested" },
		{ BLK_PART_INVALID, "invalid" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < BLK_ARRAY_SIZE(names); i++) {
		if (!(flags & names[i].bit))
			continue;
		used += snprintf(buf + used, len - used, "%s%s",
				 used ? "," : "", names[i].name);
		if (used >= len)
			break;
	}
}

/* "key": "value" with a leading separator. */
static void member(FILE *f, const char *sep, const char *key, const char *val)
{
	fprintf(f, "%s\"%s\": ", sep, key);
	blk_json_fputs(f, val);
}

static void json_source(FILE *f, const struct blk_source *src,
			const struct blk_layout *lo)
{
	fprintf(f, "{\n  \"version\": %d,\n  \"blkfuse_version\": \"%s\",\n",
		BLK_LAYOUT_VERSION, BLKFUSE_VERSION);
	member(f, "  ", "source", src->path);
	fprintf(f, ",\n  \"source_kind\": \"%s\",\n",
		src->is_blockdev ? "block" : "file");
	member(f, "  ", "opened", src->opened);
	fprintf(f, ",\n");
	blk_image_json(f, src, "  ");
	fprintf(f, ",\n  \"size\": %llu,\n  \"sector_size\": %u,\n  \"sector_size_from\": \"%s\",\n",
		(unsigned long long)src->size, src->sector_size,
		src->sector_size_from);
	if (lo->pttype[0])
		member(f, "  ", "table", lo->pttype);
	else
		fprintf(f, "  \"table\": null");
	member(f, ",\n  ", "table_id", lo->ptuuid);
	fprintf(f, ",\n  \"disk_fs\": ");
	if (!lo->disk_fs.type[0]) {
		fprintf(f, "null");
	} else {
		member(f, "{", "fs_type", lo->disk_fs.type);
		member(f, ", ", "fs_uuid", lo->disk_fs.uuid);
		member(f, ", ", "fs_label", lo->disk_fs.label);
		fprintf(f, ", \"file\": \"disk\"}");
	}
	fprintf(f, ",\n  \"gpt_header\": \"%s\",\n",
		strcmp(lo->pttype, "gpt") ? "" :
		lo->gpt_backup_used ? "backup" : "primary");
}

/* Each scheme of a nested table (bsd, ...) once. */
static void json_nested(FILE *f, const struct blk_layout *lo)
{
	const char *sep = "";

	fprintf(f, "  \"nested_tables\": [");
	for (unsigned int i = 0; i < lo->nparts; i++) {
		const struct blk_part *p = &lo->parts[i];

		if (!(p->flags & BLK_PART_NESTED) || strstr(sep, p->scheme))
			continue;
		fprintf(f, "%s", sep[0] ? ", " : "");
		blk_json_fputs(f, p->scheme);
		sep = p->scheme;
	}
	fprintf(f, "],\n");
}

static void json_part(FILE *f, const struct blk_part *p, unsigned int ssz)
{
	uint64_t sectors = p->table_size / ssz;
	char flags[64], hex[2 * sizeof(p->name) + 1];

	blk_part_flags_str(flags, sizeof(flags), p->flags);
	fprintf(f, "    {\"nr\": %d, \"name\": \"p%d\", \"exposed\": %s, ",
		p->partno, p->partno, blk_part_exposed(p) ? "true" : "false");
	fprintf(f, "\"start\": %llu, \"end\": %llu, \"sectors\": %llu, \"start_bytes\": %llu, \"size_bytes\": %llu, \"table_size_bytes\": %llu",
		(unsigned long long)(p->start / ssz),
		(unsigned long long)(sectors ? p->start / ssz + sectors - 1 :
					       p->start / ssz),
		(unsigned long long)sectors, (unsigned long long)p->start,
		(unsigned long long)p->size,
		(unsigned long long)p->table_size);
	member(f, ", ", "scheme", p->scheme);
	member(f, ", ", "type", p->type);
	member(f, ", ", "label", p->name);
	if (blk_json_invalid(p->name)) {
		blk_hex(hex, p->name, strlen(p->name));
		member(f, ", ", "label_hex", hex);
	}
	member(f, ", ", "uuid", p->uuid);
	member(f, ", ", "fs_type", p->fs_type);
	member(f, ", ", "fs_uuid", p->fs_uuid);
	member(f, ", ", "fs_label", p->fs_label);
	fprintf(f, ", \"attrs\": %llu", p->attrs);
	member(f, ", ", "flags", flags);
	if (p->flags & BLK_PART_INVALID)
		member(f, ", ", "invalid", p->invalid);
	fprintf(f, "}");
}

static void json_free(FILE *f, const struct blk_layout *lo, unsigned int ssz)
{
	fprintf(f, "  \"free\": [");
	for (unsigned int i = 0; i < lo->ngaps; i++) {
		const struct blk_gap *g = &lo->gaps[i];
		char name[64];

		blk_gap_name(name, sizeof(name), g, ssz);
		fprintf(f, "%s\n    {\"name\": \"free/%s\", \"start\": %llu, \"sectors\": %llu, \"start_bytes\": %llu, \"size_bytes\": %llu}",
			i ? "," : "", name, (unsigned long long)(g->start / ssz),
			(unsigned long long)((g->size + ssz - 1) / ssz),
			(unsigned long long)g->start, (unsigned long long)g->size);
	}
	fprintf(f, "%s],\n", lo->ngaps ? "\n  " : "");
}

/* What the daemon warned about, in words, for readers of the file. */
static void json_warnings(FILE *f, const struct blk_layout *lo)
{
	const char *sep = "";
	char w[200];

	fprintf(f, "  \"warnings\": [");
	for (unsigned int i = 0; i < lo->nparts; i++) {
		const struct blk_part *p = &lo->parts[i];

		if (p->flags & BLK_PART_INVALID)
			snprintf(w, sizeof(w), "p%d is invalid (%s); not exposed",
				 p->partno, p->invalid);
		else if (p->flags & BLK_PART_BEYOND_END)
			snprintf(w, sizeof(w), "p%d starts past the end; not exposed", p->partno);
		else if (p->flags & BLK_PART_CLIPPED)
			snprintf(w, sizeof(w), "p%d runs past the end; clipped to %llu of %llu bytes",
				 p->partno, (unsigned long long)p->size,
				 (unsigned long long)p->table_size);
		else
			continue;
		fprintf(f, "%s", sep);
		blk_json_fputs(f, w);
		sep = ", ";
	}
	if (lo->gpt_backup_used) {
		fprintf(f, "%s", sep);
		blk_json_fputs(f, "primary GPT header is corrupt; the backup header was used");
		sep = ", ";
	}
	if (lo->pmbr_only) {
		fprintf(f, "%s", sep);
		blk_json_fputs(f, "protective MBR but no valid GPT header");
		sep = ", ";
	}
	if (lo->truncated) {
		fprintf(f, "%s", sep);
		blk_json_fputs(f, "more partitions than blkfuse uses; the rest are ignored");
	}
	fprintf(f, "]\n");
}

/* What libtsk reads in each volume: its fs/ path, type or why not. */
static void json_fs_seen(FILE *f, const struct blk_layout *lo)
{
	fprintf(f, "  \"file_systems\": [");
	for (unsigned int i = 0; i < lo->nfs_seen; i++) {
		const struct blk_fs_seen *e = &lo->fs_seen[i];
		char path[620];

		snprintf(path, sizeof(path), "fs/%s", e->volume);
		fprintf(f, "%s\n    {\"volume\": ", i ? "," : "");
		blk_json_fputs(f, e->volume);
		fprintf(f, ", \"path\": ");
		blk_json_fputs(f, path);
		fprintf(f, ", \"fs\": ");
		blk_json_fputs(f, e->what);
		fprintf(f, ", \"served\": %s}", e->served ? "true" : "false");
	}
	fprintf(f, "%s],\n", lo->nfs_seen ? "\n  " : "");
}

void blk_layout_json(FILE *f, const struct blk_source *src,
		     const struct blk_layout *lo)
{
	json_source(f, src, lo);
	json_nested(f, lo);
	fprintf(f, "  \"partitions\": [");
	for (unsigned int i = 0; i < lo->nparts; i++) {
		fprintf(f, "%s\n", i ? "," : "");
		json_part(f, &lo->parts[i], src->sector_size);
	}
	fprintf(f, "%s],\n", lo->nparts ? "\n  " : "");
	json_free(f, lo, src->sector_size);
	blk_stack_json(f, lo->stack, "  ");
	fprintf(f, ",\n");
	json_fs_seen(f, lo);
	json_warnings(f, lo);
	fprintf(f, "}\n");
}
