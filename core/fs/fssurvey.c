// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What libtsk reads in each data file that may hold a file system, for
 * --list, layout.json and the mount's fs/ alike: the volumes the mount
 * would show under fs/ (each exposed partition, or the disk without one,
 * and every volume the stack opened), each opened once through libtsk
 * and closed.  A volume that holds volumes (an LVM2 PV, a LUKS header, a
 * table) is not asked: what it holds is surveyed instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fssurvey.h"
#include "fs/fsvol.h"
#include "base/log.h"
#include "volume/volume.h"

/* The stack's volume called path, or NULL. */
static const struct blk_volume *stack_vol(const struct blk_stack *s,
					  const char *path, int *idx)
{
	for (unsigned int i = 0; s && i < s->n; i++)
		if (!strcmp(s->v[i].path, path)) {
			*idx = i;
			return &s->v[i];
		}
	return NULL;
}

/* Does stack volume idx hold volumes (children, a table)? Its kind. */
static const char *holds_volumes(const struct blk_stack *s, int idx)
{
	const struct blk_volume *v = &s->v[idx];

	if (v->pttype[0])
		return v->pttype;
	for (unsigned int c = idx + 1; c < s->n; c++)
		if (s->v[c].parent == idx)
			return v->fs.type[0] ? v->fs.type : v->type;
	return NULL;
}

/* One more entry: libtsk's answer for bytes [start, start + size) of l. */
static int survey_one(struct blk_layout *lo, struct blk_layer *l,
		      uint64_t start, uint64_t size, const char *name)
{
	struct blk_fs_seen *e, *grown;
	const struct blk_volume *sv;
	struct blk_fsvol *v;
	const char *kind;
	char path[620];
	int idx;

	grown = realloc(lo->fs_seen, (lo->nfs_seen + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	lo->fs_seen = grown;
	e = &grown[lo->nfs_seen++];
	memset(e, 0, sizeof(*e));
	snprintf(e->volume, sizeof(e->volume), "%s", name);
	sv = stack_vol(lo->stack, name, &idx);
	if (sv && (kind = holds_volumes(lo->stack, idx))) {
		snprintf(e->what, sizeof(e->what), "holds volumes (%s)", kind);
		return 0;
	}
	snprintf(path, sizeof(path), "fs/%s", name);
	v = blk_fsvol_new(l, start, size, path);
	if (!v)
		return -ENOMEM;
	e->served = blk_fsvol_open(v) == 0;
	snprintf(e->what, sizeof(e->what), "%s",
		 e->served ? blk_fsvol_type(v) : blk_fsvol_why(v));
	blk_fsvol_free(v);
	return 0;
}

static int survey_roots(const struct blk_source *src, struct blk_layout *lo)
{
	bool parts = false;
	int err = 0;

	for (unsigned int i = 0; i < lo->nparts && !err; i++) {
		const struct blk_part *p = &lo->parts[i];
		char name[16];

		if (!blk_part_exposed(p))
			continue;
		parts = true;
		if (!p->size)
			continue;
		snprintf(name, sizeof(name), "p%d", p->partno);
		err = survey_one(lo, src->layer, p->start, p->size, name);
	}
	if (!parts && !err && src->size)
		err = survey_one(lo, src->layer, 0, src->size, "disk");
	return err;
}

int blk_fs_survey(const struct blk_source *src, struct blk_layout *lo)
{
	const struct blk_stack *s = lo->stack;
	int err;

	if (!blk_fsvol_available())
		return 0;
	err = survey_roots(src, lo);
	for (unsigned int i = 0; s && i < s->n && !err; i++) {
		const struct blk_volume *v = &s->v[i];

		if (!v->root && v->state == BLK_VOL_OPEN && v->layer && v->size)
			err = survey_one(lo, v->layer, 0, v->size, v->path);
	}
	if (err)
		blk_err("surveying the file systems: %s", strerror(-err));
	return err;
}

const struct blk_fs_seen *blk_fs_seen_find(const struct blk_layout *lo,
					   const char *volume)
{
	for (unsigned int i = 0; i < lo->nfs_seen; i++)
		if (!strcmp(lo->fs_seen[i].volume, volume))
			return &lo->fs_seen[i];
	return NULL;
}
