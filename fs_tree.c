// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The tree of files the mount shows, built once at start from the layout
 * and never changed afterwards, so lookups need no lock.  Inode N is
 * nodes[N - 1]; directories are small, so a linear scan is enough.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkfuse.h"

uint64_t blk_tree_add(struct blk_tree *t, uint64_t parent, const char *name,
		      enum blk_node_kind kind)
{
	struct blk_node *n;

	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		struct blk_node *nodes = realloc(t->nodes, cap * sizeof(*nodes));

		if (!nodes)
			return 0;
		t->nodes = nodes;
		t->cap = cap;
	}
	n = &t->nodes[t->count];
	memset(n, 0, sizeof(*n));
	n->parent = parent;
	n->kind = kind;
	n->name = strdup(name);
	if (!n->name)
		return 0;
	return ++t->count;
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

static int add_data(struct blk_tree *t, const char *name, uint64_t start,
		    uint64_t size)
{
	uint64_t ino = blk_tree_add(t, BLK_ROOT_INO, name, BLK_NODE_DATA);
	struct blk_node *n = blk_tree_get(t, ino);

	if (!n)
		return -ENOMEM;
	n->start = start;
	n->size = size;
	return 0;
}

int blk_tree_build(struct blk_tree *t, const struct blk_source *src,
		   const struct blk_layout *lo, bool ctl_file)
{
	char name[32];

	memset(t, 0, sizeof(*t));
	/* The root is its own parent, as ".." of "/" is "/". */
	if (blk_tree_add(t, BLK_ROOT_INO, "/", BLK_NODE_DIR) != BLK_ROOT_INO)
		return -ENOMEM;
	if (add_data(t, "disk", 0, src->size))
		return -ENOMEM;
	for (unsigned int i = 0; i < lo->nparts; i++) {
		const struct blk_part *p = &lo->parts[i];

		if (p->flags & BLK_PART_BEYOND_END)
			continue;
		snprintf(name, sizeof(name), "p%d", p->partno);
		if (add_data(t, name, p->start, p->size))
			return -ENOMEM;
	}
	/* Dot-named: ls, globs and imaging scripts pass it by. */
	if (ctl_file &&
	    !blk_tree_add(t, BLK_ROOT_INO, BLK_CTL_FILE, BLK_NODE_CTL))
		return -ENOMEM;
	return 0;
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
