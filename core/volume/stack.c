// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The volume stack (volume.h): every data file of the mount probed for
 * what it holds, each find opened by its driver, its children probed in
 * turn, breadth first, until nothing new appears.  The array of volumes is
 * the queue: volumes are appended, and probed in the order they came.
 * When the queue is empty each driver may settle (LVM assembles the
 * volume groups whose physical volumes it has met) and add more.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer/layer.h"
#include "base/log.h"
#include "volume/volume.h"
#include "volume/vol_probe.h"

const struct blk_vol_driver *const blk_vol_drivers[] = {
	&blk_vol_lvm2, &blk_vol_luks, &blk_vol_bitlocker, &blk_vol_table,
	NULL,
};

void blk_vol_driver_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const struct blk_vol_driver *const *d = blk_vol_drivers; *d; d++) {
		int n = snprintf(buf + used, len - used, "%s%s", used ? " " : "",
				 (*d)->name);

		if (n < 0 || (size_t)n >= len - used)
			break;
		used += n;
	}
}

const char *blk_vol_state_name(enum blk_vol_state st)
{
	static const char *const names[] = {
		[BLK_VOL_OPEN] = "open", [BLK_VOL_LOCKED] = "locked",
		[BLK_VOL_UNSUPPORTED] = "unsupported",
		[BLK_VOL_INCOMPLETE] = "incomplete", [BLK_VOL_BAD] = "bad",
	};

	return st <= BLK_VOL_BAD ? names[st] : "?";
}

void blk_vol_fail(struct blk_volume *v, enum blk_vol_state st,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	v->state = st;
	v->layer = NULL;
	if (st == BLK_VOL_LOCKED || st == BLK_VOL_UNSUPPORTED)
		blk_notice("%s: %s; not served", v->path, v->why);
	else
		blk_warn("%s: %s; not served", v->path, v->why);
}

struct blk_layer *blk_stack_own(struct blk_stack *s, struct blk_layer *l)
{
	if (!l)
		return NULL;
	if (s->nlayers == s->lcap) {
		unsigned int cap = s->lcap ? s->lcap * 2 : 16;
		struct blk_layer **ls = realloc(s->layers, cap * sizeof(*ls));

		if (!ls) {
			blk_layer_free(l);
			return NULL;
		}
		s->layers = ls;
		s->lcap = cap;
	}
	s->layers[s->nlayers++] = l;
	return l;
}

/* A new volume at the end of the queue: its index, or -errno (said). */
static int add_volume(struct blk_stack *s, const char *name, const char *path,
		      int parent, struct blk_layer *layer)
{
	struct blk_volume *v;

	if (s->n == BLK_VOL_MAX) {
		if (!s->full)
			blk_warn("%s: more than %d volumes; the rest are not opened",
				 path, BLK_VOL_MAX);
		s->full = true;
		return -ENOSPC;
	}
	if (s->n == s->cap) {
		unsigned int cap = s->cap ? s->cap * 2 : 16;
		struct blk_volume *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	v = &s->v[s->n];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->path, sizeof(v->path), "%s", path);
	v->parent = parent;
	v->home_of = -1;
	v->layer = layer;
	v->size = layer ? layer->size : 0;
	if (parent >= 0)
		v->depth = s->v[parent].depth + 1;
	return (int)s->n++;
}

int blk_stack_add(struct blk_stack *s, unsigned int parent, const char *name,
		  const char *type, struct blk_layer *layer)
{
	char path[sizeof(s->v->path)];
	int i;

	/* '/' would make a name a path; udev escapes it the same way */
	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		name = "unnamed";
	if (snprintf(path, sizeof(path), "%s.d/%s", s->v[parent].path, name) >=
	    (int)sizeof(path)) {
		blk_warn("%s.d: a name inside is too long; not opened",
			 s->v[parent].path);
		return -ENOSPC;
	}
	i = add_volume(s, name, path, (int)parent, layer);
	if (i >= 0)
		snprintf(s->v[i].type, sizeof(s->v[i].type), "%s", type);
	return i;
}

/* The data files of the mount: disk without a table, else each pN. */
static int add_roots(struct blk_stack *s, struct blk_layer *source,
		     const struct blk_layout *lo)
{
	if (!lo->pttype[0]) {
		int i = add_volume(s, "disk", "disk", -1, source);

		if (i < 0)
			return i;
		s->v[i].fs = lo->disk_fs;
		snprintf(s->v[i].type, sizeof(s->v[i].type), "disk");
		s->v[i].root = true;
		return 0;
	}
	for (unsigned int k = 0; k < lo->nparts; k++) {
		const struct blk_part *p = &lo->parts[k];
		struct blk_layer *l;
		char name[32];
		int i;

		if (!blk_part_exposed(p) || (p->flags & BLK_PART_CONTAINER))
			continue;
		l = blk_stack_own(s, blk_layer_slice(source, p->start, p->size));
		if (!l)
			return -ENOMEM;
		snprintf(name, sizeof(name), "p%d", p->partno);
		i = add_volume(s, name, name, -1, l);
		if (i < 0)
			return i;
		snprintf(s->v[i].fs.type, sizeof(s->v[i].fs.type), "%s", p->fs_type);
		snprintf(s->v[i].fs.uuid, sizeof(s->v[i].fs.uuid), "%s", p->fs_uuid);
		snprintf(s->v[i].fs.label, sizeof(s->v[i].fs.label), "%s", p->fs_label);
		snprintf(s->v[i].type, sizeof(s->v[i].type), "part");
		snprintf(s->v[i].uuid, sizeof(s->v[i].uuid), "%s", p->uuid);
		s->v[i].root = true;
	}
	return 0;
}

/* The driver for what v holds, or NULL. */
static const struct blk_vol_driver *driver_for(const struct blk_volume *v)
{
	for (const struct blk_vol_driver *const *d = blk_vol_drivers; *d; d++) {
		if ((*d)->blkid_type && v->fs.type[0] &&
		    !strcmp((*d)->blkid_type, v->fs.type))
			return *d;
		if (!(*d)->blkid_type && v->pttype[0] && !v->fs.type[0])
			return *d;
	}
	return NULL;
}

/* Probe and open volume i (its content, its children). */
static int open_one(struct blk_stack *s, unsigned int i)
{
	const struct blk_vol_driver *d;
	struct blk_volume *v = &s->v[i];

	if (v->state != BLK_VOL_OPEN || !v->layer)
		return 0;
	if (!v->root)
		blk_vol_probe(v);
	d = driver_for(v);
	if (!d)
		return 0;
	if (v->depth >= BLK_VOL_MAX_DEPTH) {
		blk_warn("%s: %s inside is nested more than %d deep; not opened",
			 v->path, v->fs.type[0] ? v->fs.type : v->pttype,
			 BLK_VOL_MAX_DEPTH);
		return 0;
	}
	if (blk_vol_loops(s, i)) {
		blk_warn("%s: holds the same bytes as a volume it is inside (a loop of nesting); not opened",
			 v->path);
		return 0;
	}
	blk_debug("%s: %s, opened by %s", v->path,
		  v->fs.type[0] ? v->fs.type : v->pttype, d->name);
	return d->open(s, i);
}

static int run(struct blk_stack *s)
{
	unsigned int next = 0;
	bool more;

	do {
		for (; next < s->n; next++) {
			int err = open_one(s, next);

			if (err == -ENOMEM)
				return err;
		}
		more = false;
		for (const struct blk_vol_driver *const *d = blk_vol_drivers; *d; d++) {
			unsigned int before = s->n;

			if ((*d)->settle && (*d)->settle(s) == -ENOMEM)
				return -ENOMEM;
			more = more || s->n > before;
		}
	} while (more);
	return 0;
}

int blk_stack_probe(struct blk_stack **out, struct blk_layer *source,
		    const struct blk_layout *lo, const struct blk_keyring *kr)
{
	struct blk_stack *s = calloc(1, sizeof(*s));
	int err;

	*out = NULL;
	if (!s) {
		blk_err("%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	s->kr = kr;
	err = add_roots(s, source, lo);
	if (!err)
		err = run(s);
	if (err == -ENOSPC)
		err = 0;
	if (err) {
		blk_err("while opening volumes: %s", strerror(-err));
		blk_stack_free(s);
		return err;
	}
	/* kept when something was found inside, or found broken */
	for (unsigned int i = 0; i < s->n; i++)
		if (!s->v[i].root || s->v[i].why[0]) {
			*out = s;
			return 0;
		}
	blk_stack_free(s);	/* nothing inside anything: no tree to show */
	return 0;
}

void blk_stack_free(struct blk_stack *s)
{
	if (!s)
		return;
	for (const struct blk_vol_driver *const *d = blk_vol_drivers; *d; d++)
		if ((*d)->free_priv)
			(*d)->free_priv(s);
	for (unsigned int i = s->nlayers; i-- > 0;)
		blk_layer_free(s->layers[i]);
	free(s->layers);
	free(s->v);
	free(s);
}
