// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fs/ in the mount: which volumes it has, where they sit in the static
 * tree, and the inode numbers and attributes of the files inside them.
 * A volume is every data file of the tree that may hold a file system
 * (partitions, the whole disk when it has no table, and whatever later
 * stages add: decrypted and logical volumes), so a new kind of volume
 * appears here without a change.  libtsk opens it on the first lookup or
 * listing of the directory it is in; one it cannot read is absent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "fs/fssurvey.h"
#include "fs/fsvol.h"
#include "base/log.h"
#include "serve/fs_files.h"

#define FS_TIMEOUT 3600.0	/* nothing inside changes while mounted */

/* Data files that may hold a file system: not free/, and the whole disk
 * only when no partition is there to hold it. */
static bool candidate(const struct blk_tree *t, uint64_t ino, bool parts)
{
	const struct blk_node *n = blk_tree_get(t, ino);
	const struct blk_node *dir = blk_tree_get(t, n->parent);

	if (n->kind != BLK_NODE_DATA || !n->layer || !n->size)
		return false;
	if (n->parent == BLK_ROOT_INO)
		return strcmp(n->name, "disk") || !parts;
	return !(dir && dir->parent == BLK_ROOT_INO && !strcmp(dir->name, "free"));
}

/* The static directory for node path "a/b/c" under fs/: fs/a/b; 0 on ENOMEM. */
static uint64_t mount_dir(struct blk_tree *t, uint64_t fs, char *path,
			  char **leaf)
{
	uint64_t dir = fs;
	char *slash;

	while (dir && (slash = strchr(path, '/'))) {
		uint64_t sub;

		*slash = '\0';
		sub = blk_tree_lookup(t, dir, path);
		if (!sub && blk_tree_add_dir(t, dir, path, &sub))
			sub = 0;
		if (sub && blk_tree_get(t, sub)->kind != BLK_NODE_DIR)
			sub = 0;	/* a file of that name: not there */
		dir = sub;
		path = slash + 1;
	}
	*leaf = path;
	return dir;
}

/* Not one the survey found no file system in (fs/fssurvey.c): that is
 * said in --list and layout.json, and not tried again. */
static bool surveyed_ok(struct blk_ctx *ctx, uint64_t ino)
{
	const struct blk_fs_seen *e;
	char path[600];

	blk_node_path(&ctx->tree, blk_tree_get(&ctx->tree, ino), path,
		      sizeof(path));
	e = blk_fs_seen_find(&ctx->layout, path);
	return !e || e->served;
}

static int add_mount(struct blk_ctx *ctx, uint64_t fs, uint64_t ino)
{
	struct blk_fs_files *f = ctx->fs;
	struct blk_node n = *blk_tree_get(&ctx->tree, ino);	/* moves */
	struct blk_fs_mount *m, *grown;
	char path[512], *leaf;
	uint64_t dir;

	blk_node_path(&ctx->tree, blk_tree_get(&ctx->tree, ino), path,
		      sizeof(path));
	grown = realloc(f->m, (f->n + 1) * sizeof(*f->m));
	if (!grown)
		return -ENOMEM;
	f->m = grown;
	m = &f->m[f->n];
	memset(m, 0, sizeof(*m));
	if (asprintf(&m->path, "fs/%s", path) < 0) {
		m->path = NULL;
		return -ENOMEM;
	}
	dir = mount_dir(&ctx->tree, fs, path, &leaf);
	m->name = strdup(leaf);
	m->v = blk_fsvol_new(n.layer, n.start, n.size, m->path);
	m->dir = dir;
	f->n++;	/* freed from here in blk_fs_free */
	return dir && m->name && m->v ? 0 : -ENOMEM;
}

int blk_fs_setup(struct blk_ctx *ctx, bool off)
{
	size_t count = ctx->tree.count;
	bool parts = false;
	uint64_t fs;

	if (off || !blk_fsvol_available())
		return 0;
	ctx->fs = calloc(1, sizeof(*ctx->fs));
	if (!ctx->fs || blk_tree_add_dir(&ctx->tree, BLK_ROOT_INO, "fs", &fs))
		return -ENOMEM;
	for (size_t i = 1; i <= count; i++) {
		const struct blk_node *n = blk_tree_get(&ctx->tree, i);

		parts |= n->kind == BLK_NODE_DATA && n->parent == BLK_ROOT_INO &&
			 strcmp(n->name, "disk");
	}
	for (size_t i = 1; i <= count && ctx->fs->n < 0x7fff; i++)
		if (candidate(&ctx->tree, i, parts) && surveyed_ok(ctx, i) &&
		    add_mount(ctx, fs, i))
			return -ENOMEM;
	return 0;
}

void blk_fs_free(struct blk_ctx *ctx)
{
	if (!ctx->fs)
		return;
	for (unsigned int i = 0; i < ctx->fs->n; i++) {
		blk_fsvol_free(ctx->fs->m[i].v);
		free(ctx->fs->m[i].name);
		free(ctx->fs->m[i].path);
	}
	free(ctx->fs->m);
	free(ctx->fs);
	ctx->fs = NULL;
}

struct blk_fsvol *blk_fs_vol(struct blk_ctx *ctx, uint64_t ino, uint64_t *id,
			     unsigned int *vi)
{
	uint64_t v = ino >> 48;

	if (!ctx->fs || !v || v > ctx->fs->n)
		return NULL;
	*vi = v - 1;
	*id = ino & ((1ull << 48) - 1);
	return ctx->fs->m[v - 1].v;
}

/*
 * The file system's owner, group and read/execute bits, never more than
 * the source's read bits allow; its owner and group only when the source
 * is readable by all (else a host user who happens to have the uid inside
 * would read what the source keeps from them): the source's then.
 */
int blk_fs_attr(struct blk_ctx *ctx, unsigned int vi, uint64_t id,
		struct stat *st)
{
	const struct stat *src = &ctx->src.st;
	mode_t r = src->st_mode & 0444, allow = r | r >> 2;
	int err = blk_fsvol_stat(ctx->fs->m[vi].v, id, st);

	if (err)
		return err;
	st->st_ino = ((uint64_t)(vi + 1) << 48) | id;
	if (!S_ISLNK(st->st_mode))
		st->st_mode = (st->st_mode & S_IFMT) | (st->st_mode & allow);
	if (!(src->st_mode & 0004)) {
		st->st_uid = src->st_uid;
		st->st_gid = src->st_gid;
	}
	return 0;
}

/* Mount m opened (first time: now): its root's attributes, or false. */
static bool mount_root(struct blk_ctx *ctx, unsigned int i, struct stat *st)
{
	struct blk_fsvol *v = ctx->fs->m[i].v;

	return blk_fsvol_open(v) == 0 &&
	       blk_fs_attr(ctx, i, blk_fsvol_root(v), st) == 0;
}

bool blk_fs_static_lookup(struct blk_ctx *ctx, uint64_t dir, const char *name,
			  struct fuse_entry_param *e)
{
	if (!ctx->fs)
		return false;
	for (unsigned int i = 0; i < ctx->fs->n; i++) {
		const struct blk_fs_mount *m = &ctx->fs->m[i];

		if (m->dir != dir || strcmp(m->name, name))
			continue;
		if (!mount_root(ctx, i, &e->attr))
			return false;
		e->ino = e->attr.st_ino;
		e->attr_timeout = e->entry_timeout = FS_TIMEOUT;
		return true;
	}
	return false;
}

bool blk_fs_static_dirent(struct blk_ctx *ctx, uint64_t dir, size_t idx,
			  const char **name, struct stat *st)
{
	if (!ctx->fs)
		return false;
	for (unsigned int i = 0; i < ctx->fs->n; i++) {
		if (ctx->fs->m[i].dir != dir || !mount_root(ctx, i, st))
			continue;
		if (idx-- == 0) {
			*name = ctx->fs->m[i].name;
			return true;
		}
	}
	return false;
}

void blk_fs_name(struct blk_ctx *ctx, uint64_t ino, char *buf, size_t len)
{
	struct blk_fsvol *v;
	unsigned int vi;
	uint64_t id;
	size_t j;

	if (!blk_fs_ino(ino)) {
		const struct blk_node *n = blk_tree_get(&ctx->tree, ino);

		if (n)
			blk_node_path(&ctx->tree, n, buf, len);
		else
			snprintf(buf, len, "inode %llu", (unsigned long long)ino);
		return;
	}
	v = blk_fs_vol(ctx, ino, &id, &vi);
	if (!v) {
		snprintf(buf, len, "inode %llu", (unsigned long long)ino);
		return;
	}
	j = snprintf(buf, len, "%s/", ctx->fs->m[vi].path);
	if (j < len)
		blk_fsvol_path(v, id, buf + j, len - j);
}
