// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkfuse --list: the table as blkfuse sees it, without mounting, built on
 * libsmartcols as partx and lsblk are (-o, --bytes, -n, -r, -P, -J; UTF-8
 * widths; control characters escaped in text).  START, END and SECTORS
 * are in logical sectors of the size that was used (the header lines say
 * which and why).  Type names come from libfdisk's type tables, beside the
 * code.  --json without -o is the layout document (layout_json.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <libfdisk.h>
#include <libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/image_info.h"
#include "volume/layout.h"
#include "list.h"
#include "base/log.h"
#include "base/util.h"

enum col_id {
	COL_NR, COL_START, COL_END, COL_SECTORS, COL_SIZE, COL_SCHEME,
	COL_TYPE, COL_TYPENAME, COL_NAME, COL_UUID, COL_FSTYPE, COL_LABEL,
	COL_FSUUID, COL_FLAGS,
};

static const struct col_info {
	const char *name;
	double whint;
	int flags;
	int json;
	const char *help;
} cols[] = {
	[COL_NR] = { "NR", 2, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "partition number (the pN file)" },
	[COL_START] = { "START", 0.1, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "first sector" },
	[COL_END] = { "END", 0.1, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "last sector" },
	[COL_SECTORS] = { "SECTORS", 0.1, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "number of sectors (as the table says)" },
	[COL_SIZE] = { "SIZE", 5, SCOLS_FL_RIGHT, SCOLS_JSON_STRING, "size as the table says (bytes with --bytes)" },
	[COL_SCHEME] = { "SCHEME", 0.1, 0, SCOLS_JSON_STRING, "table holding the entry: dos, gpt, bsd..." },
	[COL_TYPE] = { "TYPE", 0.1, 0, SCOLS_JSON_STRING, "type code or GUID" },
	[COL_TYPENAME] = { "TYPENAME", 0.1, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, "type name, as fdisk shows it" },
	[COL_NAME] = { "NAME", 0.1, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, "partition name (GPT, Mac label)" },
	[COL_UUID] = { "UUID", 36, 0, SCOLS_JSON_STRING, "partition UUID" },
	[COL_FSTYPE] = { "FSTYPE", 0.1, 0, SCOLS_JSON_STRING, "file system type inside" },
	[COL_LABEL] = { "LABEL", 0.1, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, "file system label inside" },
	[COL_FSUUID] = { "FSUUID", 36, 0, SCOLS_JSON_STRING, "file system UUID inside" },
	[COL_FLAGS] = { "FLAGS", 0.1, 0, SCOLS_JSON_STRING, "clipped, beyond-end, container, nested, invalid" },
};

/* The defaults leave out the type GUID and the UUIDs (36 characters each:
 * -o +TYPE,UUID,FSUUID) and, on a terminal, truncate type names, names and
 * labels to its width, so an 80-column terminal holds the table as it
 * holds lsblk's. */
static const enum col_id default_cols[] = {
	COL_NR, COL_START, COL_END, COL_SECTORS, COL_SIZE, COL_SCHEME,
	COL_TYPENAME, COL_NAME, COL_FSTYPE, COL_LABEL, COL_FLAGS,
};

void blk_list_columns_help(FILE *out)
{
	for (size_t i = 0; i < BLK_ARRAY_SIZE(cols); i++)
		fprintf(out, " %-10s %s\n", cols[i].name, cols[i].help);
}

/* "NR,START" (or "+NAME" to add to the defaults) into ids: count or -EINVAL. */
static int parse_columns(const char *list, enum col_id *ids, size_t max)
{
	size_t n = 0;
	char *copy, *tok, *p;

	if (!list) {
		memcpy(ids, default_cols, sizeof(default_cols));
		return BLK_ARRAY_SIZE(default_cols);
	}
	if (list[0] == '+') {
		memcpy(ids, default_cols, sizeof(default_cols));
		n = BLK_ARRAY_SIZE(default_cols);
		list++;
	}
	copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	for (p = copy; (tok = strsep(&p, ","));) {
		size_t i;

		for (i = 0; i < BLK_ARRAY_SIZE(cols) &&
			    strcasecmp(cols[i].name, tok); i++)
			;
		if (i == BLK_ARRAY_SIZE(cols) || n == max) {
			blk_err("unknown column: %s (known: see 'blkfuse --help')", tok);
			free(copy);
			return -EINVAL;
		}
		ids[n++] = i;
	}
	free(copy);
	return n;
}

/* libfdisk's name for a type code or GUID of a table scheme; "" if none. */
static const char *type_name(struct fdisk_context *cxt, const struct blk_part *p)
{
	struct fdisk_label *lb;
	struct fdisk_parttype *t;

	if (!cxt)
		return "";
	lb = fdisk_get_label(cxt, p->scheme);
	if (!lb)
		return "";
	if (!strncmp(p->type, "0x", 2))
		t = fdisk_label_get_parttype_from_code(lb,
				(unsigned int)strtoul(p->type, NULL, 16));
	else
		t = fdisk_label_get_parttype_from_string(lb, p->type);
	return t && fdisk_parttype_get_name(t) ? fdisk_parttype_get_name(t) : "";
}

static char *cell_text(const struct blk_list_opts *o, enum col_id id,
		       const struct blk_part *p, unsigned int ssz,
		       struct fdisk_context *cxt)
{
	uint64_t sectors = p->table_size / ssz;
	bool bad = p->flags & BLK_PART_INVALID;
	char buf[300], flags[64];
	char *s = NULL;

	buf[0] = '\0';
	switch (id) {
	case COL_NR: snprintf(buf, sizeof(buf), "%d", p->partno); break;
	case COL_START:
		if (!bad)
			snprintf(buf, sizeof(buf), "%" PRIu64, p->start / ssz);
		break;
	case COL_END:
		if (!bad)
			snprintf(buf, sizeof(buf), "%" PRIu64,
				 p->start / ssz + (sectors ? sectors - 1 : 0));
		break;
	case COL_SECTORS:
		if (!bad)
			snprintf(buf, sizeof(buf), "%" PRIu64, sectors);
		break;
	case COL_SIZE:
		if (bad)
			break;
		if (o->bytes)
			snprintf(buf, sizeof(buf), "%" PRIu64, p->table_size);
		else
			blk_size_human(buf, sizeof(buf), p->table_size);
		break;
	case COL_SCHEME: return strdup(p->scheme);
	case COL_TYPE: return strdup(p->type);
	case COL_TYPENAME: return strdup(type_name(cxt, p));
	case COL_NAME: return strdup(p->name);
	case COL_UUID: return strdup(p->uuid);
	case COL_FSTYPE: return strdup(p->fs_type);
	case COL_LABEL: return strdup(p->fs_label);
	case COL_FSUUID: return strdup(p->fs_uuid);
	case COL_FLAGS:
		blk_part_flags_str(flags, sizeof(flags), p->flags);
		if (bad && asprintf(&s, "%s (%s)", flags, p->invalid) >= 0)
			return s;
		return strdup(flags);
	}
	return strdup(buf);
}

static struct libscols_table *new_table(const struct blk_list_opts *o)
{
	struct libscols_table *tb = scols_new_table();

	if (!tb)
		return NULL;
	scols_table_enable_raw(tb, o->raw);
	scols_table_enable_export(tb, o->pairs);
	scols_table_enable_json(tb, o->json);
	scols_table_enable_noheadings(tb, o->noheadings);
	return tb;
}

/* The partitions; 0 or -errno (printed). */
static int print_parts(const struct blk_source *src,
		       const struct blk_layout *lo,
		       const struct blk_list_opts *o)
{
	enum col_id ids[64];
	struct libscols_table *tb;
	struct fdisk_context *cxt;
	int n = parse_columns(o->columns, ids, BLK_ARRAY_SIZE(ids));
	int err = 0;

	if (n < 0)
		return n;
	tb = new_table(o);
	if (!tb)
		goto out_nomem;
	scols_table_set_name(tb, "partitions");
	for (int c = 0; c < n; c++) {
		const struct col_info *ci = &cols[ids[c]];
		struct libscols_column *cl = scols_table_new_column(
			tb, ci->name, ci->whint, ci->flags);

		if (!cl)
			goto out_nomem;
		scols_column_set_json_type(cl, o->bytes && ids[c] == COL_SIZE ?
					   SCOLS_JSON_NUMBER : ci->json);
	}
	cxt = fdisk_new_context();	/* for its type tables only */
	for (unsigned int i = 0; i < lo->nparts && !err; i++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		for (int c = 0; ln && c < n && !err; c++) {
			char *s = cell_text(o, ids[c], &lo->parts[i],
					    src->sector_size, cxt);

			if (!s || scols_line_refer_data(ln, c, s) != 0) {
				free(s);
				err = -ENOMEM;
			}
		}
		if (!ln)
			err = -ENOMEM;
	}
	fdisk_unref_context(cxt);
	if (!err && lo->nparts + o->json > 0)
		scols_print_table(tb);
	scols_unref_table(tb);
	if (err)
		blk_err("%s", strerror(-err));
	return err;
out_nomem:
	scols_unref_table(tb);
	blk_err("%s", strerror(ENOMEM));
	return -ENOMEM;
}

/* The free/ ranges, in the default text form only. */
static int print_free(const struct blk_source *src,
		      const struct blk_layout *lo,
		      const struct blk_list_opts *o)
{
	static const char *const names[] = { "FREE", "START", "END", "SECTORS", "SIZE" };
	unsigned int ssz = src->sector_size;
	struct libscols_table *tb = new_table(o);
	int err = 0;

	if (!tb)
		return -ENOMEM;
	for (int c = 0; c < 5; c++)
		if (!scols_table_new_column(tb, names[c], 0.1,
					    c ? SCOLS_FL_RIGHT : 0))
			err = -ENOMEM;
	for (unsigned int i = 0; i < lo->ngaps && !err; i++) {
		const struct blk_gap *g = &lo->gaps[i];
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		uint64_t sectors = (g->size + ssz - 1) / ssz;
		char name[64], num[4][32], file[80];

		if (!ln) {
			err = -ENOMEM;
			break;
		}
		blk_gap_name(name, sizeof(name), g, ssz);
		snprintf(num[0], sizeof(num[0]), "%" PRIu64, g->start / ssz);
		snprintf(num[1], sizeof(num[1]), "%" PRIu64, g->start / ssz + sectors - 1);
		snprintf(num[2], sizeof(num[2]), "%" PRIu64, sectors);
		if (o->bytes)
			snprintf(num[3], sizeof(num[3]), "%" PRIu64, g->size);
		else
			blk_size_human(num[3], sizeof(num[3]), g->size);
		snprintf(file, sizeof(file), "free/%s", name);
		scols_line_set_data(ln, 0, file);
		for (int c = 0; c < 4; c++)
			scols_line_set_data(ln, c + 1, num[c]);
	}
	if (!err) {
		putchar('\n');
		scols_print_table(tb);
	}
	scols_unref_table(tb);
	return err;
}

static void print_header(const struct blk_source *src,
			 const struct blk_layout *lo)
{
	unsigned int ssz = src->sector_size;
	const char *note = lo->gpt_backup_used ? "backup GPT header (primary is corrupt)" :
			   lo->pmbr_only ? "protective MBR without a valid GPT" : "";
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
	       note[0] ? ", " : "", note);
	if (lo->disk_fs.type[0]) {
		char label[4 * sizeof(lo->disk_fs.label)];

		blk_text_escape(label, sizeof(label), lo->disk_fs.label);
		printf("File system: %s on the whole disk%s%s%s%s\n",
		       lo->disk_fs.type, lo->disk_fs.uuid[0] ? ", uuid " : "",
		       lo->disk_fs.uuid, label[0] ? ", label " : "", label);
	}
}

int blk_list_print(const struct blk_source *src, const struct blk_layout *lo,
		   const struct blk_list_opts *o)
{
	bool table_only = o->columns || o->raw || o->pairs || o->noheadings ||
			  o->json;
	int err;

	if (o->json && !o->columns) {
		blk_layout_json(stdout, src, lo);
		return 0;
	}
	if (!table_only) {
		print_header(src, lo);
		if (lo->nparts)
			putchar('\n');
	}
	err = print_parts(src, lo, o);
	if (!err && !table_only && lo->ngaps)
		err = print_free(src, lo, o);
	if (!err && !table_only && lo->stack)
		err = blk_list_volumes(lo->stack, o);
	if (!err && !table_only && lo->nfs_seen)
		err = blk_list_fs(lo);
	return err;
}
