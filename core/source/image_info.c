// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a container says about itself, for --list, layout.json and the
 * audit trail's start record: its format, its segment files and their
 * sizes, its metadata (EWF header values, AFF metadata segments) and the
 * hashes stored in it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/image_info.h"
#include "base/util.h"

static const char *const hash_names[] = { "md5", "sha1", "sha256" };

static const char *stored(const struct blk_image *im, int i)
{
	return i == 0 ? im->md5 : i == 1 ? im->sha1 : im->sha256;
}

void blk_image_print_text(FILE *f, const struct blk_source *src)
{
	const struct blk_image *im = src->img;
	char esc[4096];

	fprintf(f, "Format:      %s", src->format);
	if (!im) {
		fprintf(f, "\n");
		return;
	}
	fprintf(f, ", %u file%s\n", im->nseg, im->nseg == 1 ? "" : "s");
	for (unsigned int i = 0; i < im->nseg; i++) {
		blk_text_escape(esc, sizeof(esc), im->seg[i].path);
		fprintf(f, "Segment:     %s (%llu bytes%s%s)\n", esc,
			(unsigned long long)im->seg[i].size,
			im->seg[i].role ? ", " : "",
			im->seg[i].role ? im->seg[i].role : "");
	}
	for (unsigned int i = 0; i < im->nmeta; i++) {
		blk_text_escape(esc, sizeof(esc), im->meta[i].value);
		fprintf(f, "Container:   %s: %s\n", im->meta[i].key, esc);
	}
	for (int i = 0; i < 3; i++)
		if (stored(im, i)[0])
			fprintf(f, "Stored hash: %s:%s\n", hash_names[i],
				stored(im, i));
}

void blk_image_json(FILE *f, const struct blk_source *src, const char *ind)
{
	const struct blk_image *im = src->img;

	fprintf(f, "%s\"format\": \"%s\"", ind, src->format);
	if (!im)
		return;
	fprintf(f, ",\n%s\"container\": {\"media_size\": %llu, \"bytes_per_sector\": %u, \"segments\": [",
		ind, (unsigned long long)im->size, im->sector_size);
	for (unsigned int i = 0; i < im->nseg; i++) {
		fprintf(f, "%s{\"path\": ", i ? ", " : "");
		blk_json_fputs(f, im->seg[i].path);
		fprintf(f, ", \"size\": %llu", (unsigned long long)im->seg[i].size);
		if (im->seg[i].role)
			fprintf(f, ", \"role\": \"%s\"", im->seg[i].role);
		fprintf(f, "}");
	}
	fprintf(f, "], \"metadata\": {");
	for (unsigned int i = 0; i < im->nmeta; i++) {
		fprintf(f, "%s", i ? ", " : "");
		blk_json_fputs(f, im->meta[i].key);
		fprintf(f, ": ");
		blk_json_fputs(f, im->meta[i].value);
	}
	fprintf(f, "}, \"stored_hashes\": {");
	for (int i = 0, n = 0; i < 3; i++)
		if (stored(im, i)[0])
			fprintf(f, "%s\"%s\": \"%s\"", n++ ? ", " : "",
				hash_names[i], stored(im, i));
	fprintf(f, "}}");
}

char *blk_image_json_string(const struct blk_source *src)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	blk_image_json(f, src, "");
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	/* one line, for JSON Lines */
	for (char *c = buf; *c; c++)
		if (*c == '\n')
			*c = ' ';
	return buf;
}

int blk_image_stored_spec(const struct blk_source *src, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	if (!src->img)
		return 0;
	for (int i = 0; i < 3 && used < len; i++)
		if (stored(src->img, i)[0])
			used += snprintf(buf + used, len - used, "%s%s:%s",
					 used ? " " : "", hash_names[i],
					 stored(src->img, i));
	return used > 0 && used < len;
}
