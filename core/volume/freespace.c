// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unallocated space: every byte range of the source that no data
 * partition covers.  Extended containers do not count as allocated (their
 * EBRs and slack are free space to an examiner), nested slices lie inside
 * a partition that does.  This is what sleuthkit's mmls calls Unallocated.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "volume/layout.h"

struct span {
	uint64_t start, end;	/* [start, end) */
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int blk_layout_find_gaps(const struct blk_source *src, struct blk_layout *lo)
{
	struct span *spans = calloc(lo->nparts + 1, sizeof(*spans));
	unsigned int n = 0;
	uint64_t pos = 0;

	if (!spans)
		return -ENOMEM;
	for (unsigned int i = 0; i < lo->nparts; i++) {
		const struct blk_part *p = &lo->parts[i];

		if (p->flags & (BLK_PART_CONTAINER | BLK_PART_HIDDEN))
			continue;
		spans[n++] = (struct span){ p->start, p->start + p->size };
	}
	/* A file system on the whole disk allocates all of it. */
	if (lo->disk_fs.type[0])
		spans[n++] = (struct span){ 0, src->size };
	qsort(spans, n, sizeof(*spans), cmp_span);

	/* At most one gap before each span, and one after the last. */
	lo->gaps = calloc(n + 1, sizeof(*lo->gaps));
	if (!lo->gaps) {
		free(spans);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i <= n; i++) {
		uint64_t next = i < n ? spans[i].start : src->size;

		if (next > pos)
			lo->gaps[lo->ngaps++] = (struct blk_gap){ pos, next - pos };
		if (i < n && spans[i].end > pos)
			pos = spans[i].end;
	}
	free(spans);
	return 0;
}

void blk_gap_name(char *buf, size_t len, const struct blk_gap *g,
		  unsigned int ssz)
{
	uint64_t first = g->start / ssz;
	uint64_t last = (g->start + g->size + ssz - 1) / ssz - 1;

	snprintf(buf, len, "%010" PRIu64 "-%010" PRIu64, first, last);
}
