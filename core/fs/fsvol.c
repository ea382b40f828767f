// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A file system inside a volume, through libtsk: opened on first use, its
 * nodes kept in a table by id as listings find them (a directory is listed
 * once, fsvol_list.c), contents read in fsvol_read.c.  One lock per volume
 * serialises every libtsk call on it: libtsk's TSK_FS_INFO caches (the
 * NTFS MFT, ext4 group descriptors) are not safe to share unlocked.
 */
#ifdef HAVE_LIBTSK
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fsvol_int.h"
#include "fs/tsk_img.h"
#include "base/log.h"

bool blk_fsvol_available(void)
{
	return true;
}

const char *blk_fsvol_version(void)
{
	static char v[48];

	if (!v[0])
		snprintf(v, sizeof(v), "libtsk %s", tsk_version_get_str());
	return v;
}

const char *fsvol_tsk_err(void)
{
	const char *e = tsk_error_get();

	return e && e[0] ? e : "libtsk error";
}

static size_t slot(uint64_t id, size_t cap)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

struct fsnode *fsvol_node(struct blk_fsvol *v, uint64_t id)
{
	if (!v->tcap)
		return NULL;
	for (size_t i = slot(id, v->tcap);; i = (i + 1) & (v->tcap - 1)) {
		if (!v->tab[i])
			return NULL;
		if (v->tab[i]->id == id)
			return v->tab[i];
	}
}

static int grow(struct blk_fsvol *v)
{
	size_t cap = v->tcap ? v->tcap * 2 : 256;
	struct fsnode **tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < v->tcap; i++) {
		size_t j;

		if (!v->tab[i])
			continue;
		for (j = slot(v->tab[i]->id, cap); tab[j]; j = (j + 1) & (cap - 1))
			;
		tab[j] = v->tab[i];
	}
	free(v->tab);
	v->tab = tab;
	v->tcap = cap;
	return 0;
}

struct fsnode *fsvol_add(struct blk_fsvol *v, uint64_t id, uint64_t parent,
			 const char *name, enum fsn_kind kind)
{
	struct fsnode *n;
	size_t i;

	/* bounded memory: a hostile or huge tree stops here (EIO) */
	if (v->tcount >= FSVOL_MAX_NODES) {
		if (v->tcount++ == FSVOL_MAX_NODES)
			blk_warn("%s: more than %u files seen: no more are (EIO)",
				 v->path, FSVOL_MAX_NODES);
		return NULL;
	}
	if ((v->tcount + 1) * 2 > v->tcap && grow(v))
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n || !(n->name = strdup(name))) {
		free(n);
		return NULL;
	}
	n->id = id ? id : BLK_FSVOL_SYNTH + v->next_synth++;
	n->parent = parent;
	n->kind = kind;
	n->inum = id;
	for (i = slot(n->id, v->tcap); v->tab[i]; i = (i + 1) & (v->tcap - 1))
		;
	v->tab[i] = n;
	v->tcount++;
	return n;
}

/*
 * The file system's own bits, never more than read and execute; where it
 * has none of its own (FAT, exFAT, NTFS, ISO 9660: libtsk makes some up)
 * every file is 0444 and every directory 0555.
 */
void fsvol_meta_stat(const TSK_FS_INFO *fs, const TSK_FS_META *m,
		     struct stat *st)
{
	bool unix_modes = TSK_FS_TYPE_ISEXT(fs->ftype) ||
			  TSK_FS_TYPE_ISFFS(fs->ftype) ||
			  TSK_FS_TYPE_ISHFS(fs->ftype);
	mode_t perm = unix_modes ? m->mode & 0555 : 0555;

	memset(st, 0, sizeof(*st));
	switch (m->type) {
	case TSK_FS_META_TYPE_DIR:
	case TSK_FS_META_TYPE_VIRT_DIR:
		st->st_mode = S_IFDIR | perm;
		st->st_nlink = 2;
		break;
	case TSK_FS_META_TYPE_LNK:
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		break;
	default:
		/* devices, FIFOs and sockets are shown as empty files */
		st->st_mode = S_IFREG | (unix_modes ? perm : 0444);
		st->st_nlink = m->nlink > 0 ? m->nlink : 1;
		break;
	}
	if (m->type == TSK_FS_META_TYPE_REG || m->type == TSK_FS_META_TYPE_VIRT ||
	    m->type == TSK_FS_META_TYPE_LNK || m->type == TSK_FS_META_TYPE_DIR)
		st->st_size = m->size > 0 ? m->size : 0;
	st->st_uid = m->uid;
	st->st_gid = m->gid;
	st->st_atim.tv_sec = m->atime;
	st->st_atim.tv_nsec = m->atime_nano;
	st->st_mtim.tv_sec = m->mtime;
	st->st_mtim.tv_nsec = m->mtime_nano;
	st->st_ctim.tv_sec = m->ctime;
	st->st_ctim.tv_nsec = m->ctime_nano;
	/* libtsk gives ISO 9660's one time, the directory record's (what
	 * Linux's isofs shows as mtime), as crtime only */
	if (TSK_FS_TYPE_ISISO9660(fs->ftype) && !m->mtime && !m->ctime) {
		st->st_mtim.tv_sec = st->st_ctim.tv_sec = m->crtime;
		st->st_mtim.tv_nsec = st->st_ctim.tv_nsec = m->crtime_nano;
	}
	st->st_blksize = fs->block_size ? fs->block_size : 4096;
	st->st_blocks = (st->st_size + 511) / 512;
}

struct blk_fsvol *blk_fsvol_new(struct blk_layer *layer, uint64_t start,
				uint64_t size, const char *path)
{
	struct blk_fsvol *v = calloc(1, sizeof(*v));

	if (!v || !(v->path = strdup(path))) {
		free(v);
		return NULL;
	}
	pthread_mutex_init(&v->lock, NULL);
	v->layer = layer;
	v->start = start;
	v->size = size;
	return v;
}

static void node_free(struct fsnode *n)
{
	for (size_t i = 0; i < n->nents; i++)
		free(n->ents[i].name);
	free(n->ents);
	free(n->name);
	free(n->link);
	free(n);
}

void blk_fsvol_free(struct blk_fsvol *v)
{
	if (!v)
		return;
	for (unsigned int i = 0; i < FSVOL_OPEN_FILES; i++)
		if (v->open[i].f)
			tsk_fs_file_close(v->open[i].f);
	for (size_t i = 0; i < v->tcap; i++)
		if (v->tab[i])
			node_free(v->tab[i]);
	free(v->tab);
	if (v->fs)
		tsk_fs_close(v->fs);
	if (v->img)
		tsk_img_close(v->img);
	pthread_mutex_destroy(&v->lock);
	free(v->path);
	free(v);
}

/* Under the lock: libtsk's open and the root's node. */
static int open_locked(struct blk_fsvol *v)
{
	TSK_FS_FILE *root;
	struct fsnode *n;

	v->img = blk_tsk_img_open(v->layer, v->start, v->size);
	if (!v->img) {
		snprintf(v->why, sizeof(v->why), "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	v->fs = tsk_fs_open_img(v->img, 0, TSK_FS_TYPE_DETECT);
	if (!v->fs) {
		snprintf(v->why, sizeof(v->why), "libtsk: %s", fsvol_tsk_err());
		blk_info("%s: no file system libtsk can read (%s)", v->path,
			 fsvol_tsk_err());
		return -ENOENT;
	}
	snprintf(v->type, sizeof(v->type), "%s",
		 tsk_fs_type_toname(v->fs->ftype));
	/*
	 * Memory is bounded by the volume's size: no file system keeps an
	 * inode in fewer than 32 bytes (a FAT entry), and libtsk sizes its
	 * tables (the orphan search's bitmaps) by the count it was told.
	 */
	if (v->fs->inum_count > v->size / 32 + 1024) {
		snprintf(v->why, sizeof(v->why),
			 "%s claims %llu inodes in %llu bytes: not read",
			 v->type, (unsigned long long)v->fs->inum_count,
			 (unsigned long long)v->size);
		blk_warn("%s: %s claims %llu inodes in %llu bytes: not read (EIO)",
			 v->path, v->type, (unsigned long long)v->fs->inum_count,
			 (unsigned long long)v->size);
		return -EIO;
	}
	root = tsk_fs_file_open_meta(v->fs, NULL, v->fs->root_inum);
	if (!root || !root->meta) {
		snprintf(v->why, sizeof(v->why), "%s: the root directory: libtsk: %s",
			 v->type, fsvol_tsk_err());
		blk_warn("%s: %s: the root directory: %s", v->path, v->type,
			 fsvol_tsk_err());
		tsk_fs_file_close(root);
		return -EIO;
	}
	n = fsvol_add(v, v->fs->root_inum, v->fs->root_inum, "", FSN_FILE);
	if (n) {
		/* inode 0 (ISO 9660's root) got a synthetic id: its own */
		n->inum = v->fs->root_inum;
		n->parent = v->root_id = n->id;
		fsvol_meta_stat(v->fs, root->meta, &n->st);
	}
	tsk_fs_file_close(root);
	if (!n) {
		snprintf(v->why, sizeof(v->why), "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	blk_info("%s: %s file system, %llu inodes", v->path, v->type,
		 (unsigned long long)v->fs->inum_count);
	return 0;
}

int blk_fsvol_open(struct blk_fsvol *v)
{
	int ret;

	fsvol_lock(v);
	if (!v->state) {
		ret = open_locked(v);
		v->state = ret ? ret : 1;
	}
	ret = v->state < 0 ? v->state : 0;
	fsvol_unlock(v);
	return ret;
}

const char *blk_fsvol_type(const struct blk_fsvol *v)
{
	return v->type;
}

const char *blk_fsvol_why(const struct blk_fsvol *v)
{
	return v->why;
}

uint64_t blk_fsvol_root(const struct blk_fsvol *v)
{
	return v->fs ? v->root_id : 0;
}

int blk_fsvol_stat(struct blk_fsvol *v, uint64_t id, struct stat *st)
{
	struct fsnode *n;

	fsvol_lock(v);
	n = v->state > 0 ? fsvol_node(v, id) : NULL;
	if (n)
		*st = n->st;
	fsvol_unlock(v);
	return n ? 0 : -ENOENT;
}

/* Directory node dir, listed: NULL with *err. */
static struct fsnode *listed_dir(struct blk_fsvol *v, uint64_t dir, int *err)
{
	struct fsnode *d = v->state > 0 ? fsvol_node(v, dir) : NULL;

	*err = -ENOENT;
	if (!d)
		return NULL;
	*err = -ENOTDIR;
	if (!S_ISDIR(d->st.st_mode))
		return NULL;
	*err = fsvol_list(v, d);
	return *err ? NULL : d;
}

static int ent_cmp(const void *key, const void *e)
{
	return strcmp(key, ((const struct fsent *)e)->name);
}

int blk_fsvol_lookup(struct blk_fsvol *v, uint64_t dir, const char *name,
		     uint64_t *id)
{
	struct fsnode *d;
	struct fsent *e = NULL;
	int err;

	fsvol_lock(v);
	d = listed_dir(v, dir, &err);
	if (d)
		e = bsearch(name, d->ents, d->nents, sizeof(*e), ent_cmp);
	if (e)
		*id = e->id;
	fsvol_unlock(v);
	return e ? 0 : d ? -ENOENT : err;
}

int blk_fsvol_dirent(struct blk_fsvol *v, uint64_t dir, size_t idx,
		     char *buf, size_t len, uint64_t *id)
{
	struct fsnode *d;
	int err;

	fsvol_lock(v);
	d = listed_dir(v, dir, &err);
	if (d && idx < d->nents) {
		snprintf(buf, len, "%s", d->ents[idx].name);
		*id = d->ents[idx].id;
		err = 0;
	} else if (d) {
		err = -ENOENT;
	}
	fsvol_unlock(v);
	return err;
}

void blk_fsvol_path(struct blk_fsvol *v, uint64_t id, char *buf, size_t len)
{
	const char *parts[64];
	unsigned int n = 0;
	size_t j = 0;

	fsvol_lock(v);
	for (struct fsnode *c = fsvol_node(v, id); c && c->name[0] && n < 64;
	     c = fsvol_node(v, c->parent))
		parts[n++] = c->name;
	buf[0] = '\0';
	while (n-- > 0 && j < len)
		j += snprintf(buf + j, len - j, "%s%s", j ? "/" : "", parts[n]);
	fsvol_unlock(v);
}
#endif
