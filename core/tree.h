/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The files the mount shows, built once from the layout before mounting
 * and never changed afterwards, so reading it needs no lock.
 */
#ifndef BLK_TREE_H
#define BLK_TREE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "volume/layout.h"

struct blk_layer;

enum blk_node_kind {
	BLK_NODE_DIR,
	BLK_NODE_DATA,		/* a byte range of the source */
	BLK_NODE_LINK,		/* text is the target */
	BLK_NODE_TEXT,		/* text is the contents */
	BLK_NODE_CTL,		/* the control file (no CUSE) */
};

struct blk_node {
	uint64_t parent;		/* inode number of the parent */
	char *name;
	enum blk_node_kind kind;
	struct blk_layer *layer;	/* DATA: what it reads (not owned) */
	uint64_t start;			/* DATA: offset in layer */
	uint64_t size;			/* DATA and TEXT: bytes */
	char *text;
	_Atomic uint64_t reads;		/* READ requests answered */
	_Atomic uint64_t bytes;		/* bytes returned */
};

/* Inode number N is nodes[N - 1]; the root is inode 1. */
struct blk_tree {
	struct blk_node *nodes;
	size_t count, cap;
};

#define BLK_ROOT_INO 1
#define BLK_CTL_FILE ".blkfuse-ctl"

struct blk_tree_opts {
	bool ctl_file;			/* the control file (no CUSE) */
	bool no_free;			/* --no-free: hide free/ */
};

/* 0 or -ENOMEM; free with blk_tree_free in either case. */
int blk_tree_build(struct blk_tree *t, const struct blk_source *src,
		   const struct blk_layout *lo, const struct blk_tree_opts *o);
void blk_tree_free(struct blk_tree *t);

/* A data file name in dir: bytes [start, start + size) of layer.  0 or
 * -ENOMEM.  For the stages that add files below the partitions. */
int blk_tree_add_data(struct blk_tree *t, uint64_t dir, const char *name,
		      struct blk_layer *layer, uint64_t start, uint64_t size);
/* A folder (its inode in *ino) and a link in dir to target, escaped as
 * udev does (a name taken twice is said and skipped): 0 or -ENOMEM. */
int blk_tree_add_dir(struct blk_tree *t, uint64_t parent, const char *name,
		     uint64_t *ino);
int blk_tree_add_link(struct blk_tree *t, uint64_t dir, const char *name,
		      const char *target);
/* A file-system label as udev names it in /dev/disk/by-label. */
int blk_tree_add_label_link(struct blk_tree *t, uint64_t dir,
			    const char *label, const char *target);
/* tree_volumes.c: the volumes of s (volume/volume.h) as X.d/ folders, links
 * from the other PVs of a VG, by-uuid/ and by-label/.  0 or -ENOMEM. */
struct blk_stack;
int blk_tree_add_volumes(struct blk_tree *t, const struct blk_stack *s);
/* NULL when ino is not a node. */
struct blk_node *blk_tree_get(const struct blk_tree *t, uint64_t ino);
/* The child of parent called name: its inode, or 0. */
uint64_t blk_tree_lookup(const struct blk_tree *t, uint64_t parent,
			 const char *name);
/* "p1", "p3.d/vg0-root": the name relative to the root. */
void blk_node_path(const struct blk_tree *t, const struct blk_node *n,
		   char *buf, size_t len);

#endif /* BLK_TREE_H */
