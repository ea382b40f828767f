// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The bytes behind a name of the mount (disk, pN, a volume such as
 * p3.d/vg0-root), for 'blkfuse hash NAME' and '--verify NAME=ALGO:HEX':
 * a range of the source for disk and the partitions, the volume's own
 * layer for a volume.  Only the spelling a mount uses is taken.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "hash.h"
#include "layer/layer.h"
#include "volume/layout.h"
#include "volume/volume.h"

int blk_hash_name_parse(const char *name)
{
	char *end;
	long n;

	if (strcmp(name, "disk") == 0)
		return 0;
	if (strstr(name, ".d/"))
		return BLK_HASH_VOLUME;
	if (name[0] != 'p' || name[1] < '1' || name[1] > '9')
		return -1;
	errno = 0;
	n = strtol(name + 1, &end, 10);
	if (*end || errno || n > BLK_MAX_PARTS * 16)
		return -1;
	return n;
}

/* The volume called path, served: its layer, or NULL (printed). */
static struct blk_layer *find_volume(const struct blk_source *src,
				     const struct blk_layout *lo,
				     const char *path)
{
	for (unsigned int i = 0; lo && lo->stack && i < lo->stack->n; i++) {
		const struct blk_volume *v = &lo->stack->v[i];

		if (strcmp(v->path, path))
			continue;
		if (v->state == BLK_VOL_OPEN)
			return v->layer;
		blk_err("%s: %s (%s); nothing to hash", path,
			blk_vol_state_name(v->state), v->why);
		return NULL;
	}
	blk_err("%s: no such volume in %s (see 'blkfuse --list %s')", path,
		src->path, src->path);
	return NULL;
}

static const struct blk_part *find_part(const struct blk_source *src,
					const struct blk_layout *lo,
					const char *name, int nr)
{
	for (unsigned int i = 0; lo && i < lo->nparts; i++) {
		const struct blk_part *p = &lo->parts[i];

		if (p->partno != nr)
			continue;
		if (blk_part_exposed(p))
			return p;
		blk_err("%s: not exposed in %s (past the end or invalid); nothing to hash",
			name, src->path);
		return NULL;
	}
	blk_err("%s: no such partition in %s (see 'blkfuse --list %s')", name,
		src->path, src->path);
	return NULL;
}

int blk_hash_target_find(const struct blk_source *src,
			 const struct blk_layout *lo, const char *name,
			 struct blk_hash_target *t)
{
	int nr = blk_hash_name_parse(name);
	const struct blk_part *p;

	memset(t, 0, sizeof(*t));
	if (nr == 0) {
		t->size = src->size;
		return 0;
	}
	if (nr == BLK_HASH_VOLUME) {
		t->layer = find_volume(src, lo, name);
		if (!t->layer)
			return -ENOENT;
		t->size = t->layer->size;
		return 0;
	}
	if (nr < 0) {
		blk_err("%s: not 'disk', 'pN' (p1, p2, ...) or a volume (p3.d/vg0-root)",
			name);
		return -ENOENT;
	}
	p = find_part(src, lo, name, nr);
	if (!p)
		return -ENOENT;
	t->start = p->start;
	t->size = p->size;
	return 0;
}
