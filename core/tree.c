// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The tree of files the mount shows, built once at start from the layout
 * and never changed afterwards, so lookups need no lock.  Inode N is
 * nodes[N - 1]; directories are small, so a linear scan is enough.
 */
#include <blkid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "tree.h"

/* A new node; its inode in *ino.  0 or -ENOMEM. */
static int tree_add(struct blk_tree *t, uint64_t parent, const char *name,
		    enum blk_node_kind kind, uint64_t *ino)
{
	struct blk_node *n;

	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		struct blk_node *nodes = realloc(t->nodes, cap * sizeof(*nodes));

		if (!nodes)
			return -ENOMEM;
		t->nodes = nodes;
		t->cap = cap;
	}
	n = &t->nodes[t->count];
	memset(n, 0, sizeof(*n));
	n->parent = parent;
	n->kind = kind;
	n->name = strdup(name);
	if (!n->name)
		return -ENOMEM;
	*ino = ++t->count;
	return 0;
}

struct blk_node *blk_tree_get(const struct blk_tree *t, uint64_t ino)
{
	if (ino == 0 || ino > t->count)
		return NULL;
	return &t->nodes[ino - 1];
}

uint64_t blk_tree_lookup(const struct blk_tree *t, uint64_t parent,
			 const char *name)
{
	for (size_t i = 0; i < t->count; i++)
		if (t->nodes[i].parent == parent && i + 1 != parent &&
		    strcmp(t->nodes[i].name, name) == 0)
			return i + 1;
	return 0;
}

int blk_tree_add_data(struct blk_tree *t, uint64_t dir, const char *name,
		      struct blk_layer *layer, uint64_t start, uint64_t size)
{
	uint64_t ino;
	int err = tree_add(t, dir, name, BLK_NODE_DATA, &ino);

	if (err)
		return err;
	t->nodes[ino - 1].layer = layer;
	t->nodes[ino - 1].start = start;
	t->nodes[ino - 1].size = size;
	return 0;
}

int blk_tree_add_dir(struct blk_tree *t, uint64_t parent, const char *name,
		     uint64_t *ino)
{
	return tree_add(t, parent, name, BLK_NODE_DIR, ino);
}

int blk_tree_add_link(struct blk_tree *t, uint64_t dir, const char *name,
		      const char *target)
{
	char safe[256];
	size_t j = 0;
	uint64_t ino;

	/* As udev does for /dev/disk/by-*: no '/' in a name. */
	for (const char *c = name; *c && j + 5 < sizeof(safe); c++) {
		if (*c == '/') {
			memcpy(safe + j, "\\x2f", 4);
			j += 4;
		} else {
			safe[j++] = *c;
		}
	}
	safe[j] = '\0';
	if (!safe[0] || !strcmp(safe, ".") || !strcmp(safe, ".."))
		return 0;
	if (blk_tree_lookup(t, dir, safe)) {
		blk_warn("%s/%s: more than one partition has this name; %s is not linked",
			 blk_tree_get(t, dir)->name, safe, target + 3);
		return 0;
	}
	if (tree_add(t, dir, safe, BLK_NODE_LINK, &ino))
		return -ENOMEM;
	blk_tree_get(t, ino)->text = strdup(target);
	return blk_tree_get(t, ino)->text ? 0 : -ENOMEM;
}

static int add_text(struct blk_tree *t, const char *name,
		    const struct blk_source *src, const struct blk_layout *lo)
{
	struct blk_node *n;
	size_t len = 0;
	uint64_t ino;
	FILE *f;

	if (tree_add(t, BLK_ROOT_INO, name, BLK_NODE_TEXT, &ino))
		return -ENOMEM;
	n = blk_tree_get(t, ino);
	f = open_memstream(&n->text, &len);
	if (!f)
		return -ENOMEM;
	blk_layout_json(f, src, lo);
	if (fclose(f) != 0)
		return -ENOMEM;
	n->size = len;
	return 0;
}

/* A file-system label or a partition name as udev names it in
 * /dev/disk/by-label and by-partlabel (libblkid's encoding: \x20 for a
 * space, \x2f for '/'). */
int blk_tree_add_label_link(struct blk_tree *t, uint64_t dir,
			    const char *label, const char *target)
{
	char enc[4 * 256 + 1];

	if (!label[0] || blkid_encode_string(label, enc, sizeof(enc)) != 0)
		return 0;
	return blk_tree_add_link(t, dir, enc, target);
}

/*
 * by-partuuid/, by-partlabel/, by-uuid/, by-label/: links to the pN files,
 * and to disk when a file system fills the whole disk.
 */
static int add_aliases(struct blk_tree *t, const struct blk_layout *lo)
{
	static const char *const dirs[] = {
		"by-partuuid", "by-partlabel", "by-uuid", "by-label",
	};
	uint64_t ino[4];

	for (int d = 0; d < 4; d++)
		if (tree_add(t, BLK_ROOT_INO, dirs[d], BLK_NODE_DIR, &ino[d]))
			return -ENOMEM;
	if (lo->disk_fs.type[0] &&
	    (blk_tree_add_link(t, ino[2], lo->disk_fs.uuid, "../disk") ||
	     blk_tree_add_label_link(t, ino[3], lo->disk_fs.label, "../disk")))
		return -ENOMEM;
	for (unsigned int i = 0; i < lo->nparts; i++) {
		const struct blk_part *p = &lo->parts[i];
		char target[32];

		if (!blk_part_exposed(p))
			continue;
		snprintf(target, sizeof(target), "../p%d", p->partno);
		if (blk_tree_add_link(t, ino[0], p->uuid, target) ||
		    blk_tree_add_label_link(t, ino[1], p->name, target) ||
		    blk_tree_add_link(t, ino[2], p->fs_uuid, target) ||
		    blk_tree_add_label_link(t, ino[3], p->fs_label, target))
			return -ENOMEM;
	}
	return 0;
}

static int add_free(struct blk_tree *t, const struct blk_source *src,
		    const struct blk_layout *lo)
{
	char name[64];
	uint64_t dir;

	if (tree_add(t, BLK_ROOT_INO, "free", BLK_NODE_DIR, &dir))
		return -ENOMEM;
	for (unsigned int i = 0; i < lo->ngaps; i++) {
		blk_gap_name(name, sizeof(name), &lo->gaps[i], src->sector_size);
		if (blk_tree_add_data(t, dir, name, src->layer, lo->gaps[i].start, lo->gaps[i].size))
			return -ENOMEM;
	}
	return 0;
}

int blk_tree_build(struct blk_tree *t, const struct blk_source *src,
		   const struct blk_layout *lo, const struct blk_tree_opts *o)
{
	char name[32];
	uint64_t ino;

	memset(t, 0, sizeof(*t));
	/* The root is its own parent, as ".." of "/" is "/". */
	if (tree_add(t, BLK_ROOT_INO, "/", BLK_NODE_DIR, &ino))
		return -ENOMEM;
	if (blk_tree_add_data(t, BLK_ROOT_INO, "disk", src->layer, 0, src->size))
		return -ENOMEM;
	for (unsigned int i = 0; i < lo->nparts; i++) {
		const struct blk_part *p = &lo->parts[i];

		if (!blk_part_exposed(p))
			continue;
		snprintf(name, sizeof(name), "p%d", p->partno);
		if (blk_tree_add_data(t, BLK_ROOT_INO, name, src->layer, p->start, p->size))
			return -ENOMEM;
	}
	if (!o->no_free && add_free(t, src, lo))
		return -ENOMEM;
	if (add_aliases(t, lo) || add_text(t, "layout.json", src, lo))
		return -ENOMEM;
	/* Dot-named: ls, globs and imaging scripts pass it by. */
	if (lo->stack && blk_tree_add_volumes(t, lo->stack))
		return -ENOMEM;
	if (o->ctl_file &&
	    tree_add(t, BLK_ROOT_INO, BLK_CTL_FILE, BLK_NODE_CTL, &ino))
		return -ENOMEM;
	return 0;
}

/* "p1", "p3.d/luks.d/vg0-root": the name relative to the root. */
void blk_node_path(const struct blk_tree *t, const struct blk_node *n,
		   char *buf, size_t len)
{
	const struct blk_node *dir = blk_tree_get(t, n->parent);
	char up[1024];

	if (n->parent == BLK_ROOT_INO || !dir || dir == n) {
		snprintf(buf, len, "%s", n->name);
		return;
	}
	blk_node_path(t, dir, up, sizeof(up));	/* depth: bounded by the stack */
	if (snprintf(buf, len, "%s/%s", up, n->name) >= (int)len && len)
		buf[len - 1] = '\0';
}

void blk_tree_free(struct blk_tree *t)
{
	for (size_t i = 0; i < t->count; i++) {
		free(t->nodes[i].name);
		free(t->nodes[i].text);
	}
	free(t->nodes);
	memset(t, 0, sizeof(*t));
}
