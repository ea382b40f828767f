/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The insides of a volume, shared by fsvol.c, fsvol_list.c, fsvol_read.c. */
#ifndef BLK_FSVOL_INT_H
#define BLK_FSVOL_INT_H

#include <pthread.h>
#include <tsk/libtsk.h>

#include "fs/fsvol.h"
#include "fs/tsk_alloc.h"

enum fsn_kind {
	FSN_FILE,	/* a live inode: id is its number */
	FSN_ADS,	/* a named $DATA attribute of inum */
	FSN_DELDIR,	/* ".deleted": the unallocated entries of a directory */
	FSN_DELETED,	/* an unallocated entry naming inum */
};

/* One entry of a directory's listing, sorted by name. */
struct fsent {
	char *name;
	uint64_t id;
};

struct fsnode {
	uint64_t id, parent;
	char *name;			/* the first name it was seen under */
	enum fsn_kind kind;
	uint64_t inum;			/* in the file system */
	uint16_t attr_id;		/* FSN_ADS */
	struct stat st;
	char *link;			/* symlink target, once read */
	bool listed, all_here;		/* all_here: deleted entries too */
	int list_err;
	struct fsent *ents;
	size_t nents, cap;
};

#define FSVOL_OPEN_FILES 16
/* Nodes kept per volume (about 250 bytes each with their names). */
#define FSVOL_MAX_NODES (4u << 20)

struct blk_fsvol {
	pthread_mutex_t lock;
	struct blk_layer *layer;
	uint64_t start, size;
	char *path;
	int state;			/* 0 untried, 1 open, -errno */
	TSK_IMG_INFO *img;
	TSK_FS_INFO *fs;
	char type[16];
	char why[200];			/* state < 0: why, for --list */
	uint64_t root_id;		/* the root's node id (ISO 9660's root
					 * is inode 0, which is no node id) */
	struct fsnode **tab;		/* open addressing on id */
	size_t tcap, tcount;
	uint64_t next_synth;
	/* the files last read: opening one costs an inode parse */
	struct { uint64_t id; TSK_FS_FILE *f; } open[FSVOL_OPEN_FILES];
	unsigned int open_next;
};

/* Every libtsk call on v holds its lock, and libtsk's allocations are
 * bounded by v's size meanwhile (tsk_alloc.c). */
static inline void fsvol_lock(struct blk_fsvol *v)
{
	pthread_mutex_lock(&v->lock);
	blk_tsk_alloc_limit(v->size);
}

static inline void fsvol_unlock(struct blk_fsvol *v)
{
	blk_tsk_alloc_limit(0);
	pthread_mutex_unlock(&v->lock);
}

/* The node of id, or NULL. */
struct fsnode *fsvol_node(struct blk_fsvol *v, uint64_t id);
/* A new node (id 0: a synthetic one) in the table: NULL on ENOMEM. */
struct fsnode *fsvol_add(struct blk_fsvol *v, uint64_t id, uint64_t parent,
			 const char *name, enum fsn_kind kind);
/* Attributes from libtsk's metadata, bounded by nothing wider. */
void fsvol_meta_stat(const TSK_FS_INFO *fs, const TSK_FS_META *m,
		     struct stat *st);
/* List directory node d once: 0 or -errno (kept in d->list_err). */
int fsvol_list(struct blk_fsvol *v, struct fsnode *d);
/* libtsk's last error as one line, for a message. */
const char *fsvol_tsk_err(void);

#endif /* BLK_FSVOL_INT_H */
