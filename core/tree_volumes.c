// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The volume stack (volume/volume.h) in the mount: a data file X whose content was opened gets a folder X.d beside
 * it holding each served child by name ("p3.d/luks", "p3.d/vg0-root",
 * "p3.d/luks.d/vg0-root", a nested table's "X.d/p1").  A volume group is
 * assembled once: its LVs are files under the first of its PVs (in the
 * VG's own order) that is present; the .d folder of each other PV holds
 * links to them.  by-uuid/ and by-label/ link to every served volume by
 * what is inside it, as udev links /dev/disk/by-*.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer/layer.h"
#include "tree.h"
#include "volume/volume.h"

/* "../" once per folder above a file of the folder holding path. */
static void up_to_root(char *buf, size_t len, const char *dir_path)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const char *c = dir_path; ; c++) {
		if ((*c == '/' || !*c) && used + 4 < len)
			used += snprintf(buf + used, len - used, "../");
		if (!*c)
			break;
	}
}

/* The folder X.d of volume i, made on first use: its inode, 0 on ENOMEM. */
static uint64_t dot_d(struct blk_tree *t, const struct blk_stack *s,
		      uint64_t *dirs, unsigned int i)
{
	const struct blk_volume *v = &s->v[i];
	uint64_t parent = BLK_ROOT_INO;
	char name[sizeof(v->name) + 2];

	if (dirs[i])
		return dirs[i];
	if (v->parent >= 0) {
		parent = dot_d(t, s, dirs, (unsigned int)v->parent);
		if (!parent)
			return 0;
	}
	snprintf(name, sizeof(name), "%s.d", v->name);
	if (blk_tree_add_dir(t, parent, name, &dirs[i]))
		return 0;
	return dirs[i];
}

/* Links in the .d of each PV that is not its VG's home, to the LVs. */
static int add_pv_links(struct blk_tree *t, const struct blk_stack *s,
			uint64_t *dirs, unsigned int pv)
{
	const struct blk_volume *v = &s->v[pv];
	char up[256], target[1024];

	for (unsigned int i = 0; i < s->n; i++) {
		const struct blk_volume *lv = &s->v[i];
		uint64_t dir;

		if (lv->parent != v->home_of || lv->state != BLK_VOL_OPEN ||
		    strcmp(lv->type, "lvm2-lv"))
			continue;
		dir = dot_d(t, s, dirs, pv);
		if (!dir)
			return -ENOMEM;
		up_to_root(up, sizeof(up), v->path);
		snprintf(target, sizeof(target), "%s%s", up, lv->path);
		if (blk_tree_add_link(t, dir, lv->name, target))
			return -ENOMEM;
	}
	return 0;
}

/* by-uuid/ and by-label/ links to volume v. */
static int add_aliases(struct blk_tree *t, const struct blk_volume *v)
{
	uint64_t by_uuid = blk_tree_lookup(t, BLK_ROOT_INO, "by-uuid");
	uint64_t by_label = blk_tree_lookup(t, BLK_ROOT_INO, "by-label");
	char target[sizeof(v->path) + 4];

	snprintf(target, sizeof(target), "../%s", v->path);
	if (by_uuid && v->fs.uuid[0] &&
	    blk_tree_add_link(t, by_uuid, v->fs.uuid, target))
		return -ENOMEM;
	if (by_label && v->fs.label[0] &&
	    blk_tree_add_label_link(t, by_label, v->fs.label, target))
		return -ENOMEM;
	return 0;
}

int blk_tree_add_volumes(struct blk_tree *t, const struct blk_stack *s)
{
	uint64_t *dirs = calloc(s->n, sizeof(*dirs));
	int err = dirs ? 0 : -ENOMEM;

	for (unsigned int i = 0; i < s->n && !err; i++) {
		const struct blk_volume *v = &s->v[i];
		uint64_t dir;

		if (v->home_of >= 0)
			err = add_pv_links(t, s, dirs, i);
		if (err || v->root || v->state != BLK_VOL_OPEN)
			continue;
		dir = dot_d(t, s, dirs, (unsigned int)v->parent);
		if (!dir) {
			err = -ENOMEM;
			break;
		}
		if (blk_tree_lookup(t, dir, v->name))
			continue;	/* two VGs of one name: said by the link code */
		err = blk_tree_add_data(t, dir, v->name, v->layer, 0, v->size);
		if (!err)
			err = add_aliases(t, v);
	}
	free(dirs);
	return err;
}
