// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A directory's listing, made once from libtsk and kept sorted by name.
 * Live entries are the directory's children; unallocated ones (deleted
 * names whose metadata libtsk still finds) go to a ".deleted" directory
 * of their own inside it, each a synthetic node since its inode may be in
 * use again.  Inside ".deleted", a deleted directory and libtsk's
 * $OrphanFiles, every entry is shown.  An NTFS file's named $DATA
 * attributes appear beside it as "name:stream".  An entry that names the
 * directory itself or one of its parents (a loop) is left out and logged.
 */
#ifdef HAVE_LIBTSK
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fsvol_int.h"
#include "base/log.h"

#define NAME_MAX_BYTES 1024	/* escaped: up to 4 bytes per stored byte */

static int ent_add(struct fsnode *d, const char *name, uint64_t id)
{
	if (d->nents == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct fsent *e = realloc(d->ents, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		d->ents = e;
		d->cap = cap;
	}
	d->ents[d->nents].name = strdup(name);
	if (!d->ents[d->nents].name)
		return -ENOMEM;
	d->ents[d->nents++].id = id;
	return 0;
}

static int ent_sort(const void *a, const void *b)
{
	return strcmp(((const struct fsent *)a)->name,
		      ((const struct fsent *)b)->name);
}

/* Is inode inum the directory d or one of its parents? */
static bool is_ancestor(struct blk_fsvol *v, struct fsnode *d, uint64_t inum)
{
	for (unsigned int depth = 0; d && depth < 4096; depth++) {
		if (d->inum == inum && d->kind != FSN_DELDIR)
			return true;
		if (d->parent == d->id)
			return false;
		d = fsvol_node(v, d->parent);
	}
	return true;	/* deeper than any real tree: treat as a loop */
}

/* "name:stream" for each named $DATA attribute of an NTFS file. */
static int add_streams(struct blk_fsvol *v, struct fsnode *d,
		       TSK_FS_FILE *f, const char *name)
{
	int n = tsk_fs_file_attr_getsize(f);

	for (int i = 0; i < n; i++) {
		const TSK_FS_ATTR *a = tsk_fs_file_attr_get_idx(f, i);
		char sname[NAME_MAX_BYTES * 2 + 2], esc[NAME_MAX_BYTES];
		struct fsnode *s;

		if (!a || a->type != TSK_FS_ATTR_TYPE_NTFS_DATA || !a->name ||
		    !a->name[0] || !strcmp(a->name, "$Data"))
			continue;
		blk_fsname_escape(a->name, esc, sizeof(esc));
		snprintf(sname, sizeof(sname), "%s:%s", name, esc);
		s = fsvol_add(v, 0, d->id, sname, FSN_ADS);
		if (!s)
			return -ENOMEM;
		s->inum = f->meta->addr;
		s->attr_id = a->id;
		s->st = fsvol_node(v, f->meta->addr) ?
			fsvol_node(v, f->meta->addr)->st : s->st;
		s->st.st_mode = S_IFREG | (s->st.st_mode & 0555);
		s->st.st_nlink = 1;
		s->st.st_size = a->size;
		s->st.st_blocks = (a->size + 511) / 512;
		if (ent_add(d, sname, s->id))
			return -ENOMEM;
	}
	return 0;
}

/* The ".deleted" directory of d, made on its first deleted entry. */
static struct fsnode *deldir(struct blk_fsvol *v, struct fsnode *d)
{
	struct fsnode *dd;

	for (size_t i = 0; i < d->nents; i++)
		if (!strcmp(d->ents[i].name, BLK_FSVOL_DELETED) &&
		    (dd = fsvol_node(v, d->ents[i].id)) && dd->kind == FSN_DELDIR)
			return dd;
	dd = fsvol_add(v, 0, d->id, BLK_FSVOL_DELETED, FSN_DELDIR);
	if (!dd || ent_add(d, BLK_FSVOL_DELETED, dd->id))
		return NULL;
	dd->inum = UINT64_MAX;	/* no inode of the file system */
	dd->st = d->st;
	dd->st.st_mode = S_IFDIR | 0555;
	dd->listed = dd->all_here = true;
	return dd;
}

/* One entry of libtsk's listing of d, named nm, its metadata in f:
 * 0 or -ENOMEM. */
static int add_entry(struct blk_fsvol *v, struct fsnode *d,
		     const TSK_FS_NAME *nm, TSK_FS_FILE *f)
{
	bool deleted = nm->flags & TSK_FS_NAME_FLAG_UNALLOC;
	struct fsnode *into = d, *n;
	char name[NAME_MAX_BYTES];
	uint64_t inum = f->meta->addr;

	blk_fsname_escape(nm->name, name, sizeof(name));
	if (!name[0] || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	/*
	 * ext2/3/4 clear a deleted inode's block map, so its orphans are
	 * metadata without bytes; and libtsk's search for them allocates
	 * by the fields of every unallocated inode, hostile ones included
	 * (found by tests/fuzz/fuzz_fstree.c): not offered there.
	 */
	if (f->meta->addr == TSK_FS_ORPHANDIR_INUM(v->fs) &&
	    TSK_FS_TYPE_ISEXT(v->fs->ftype))
		return 0;
	if (deleted && !d->all_here && !(into = deldir(v, d)))
		return -ENOMEM;
	/* deleted entries too: their nodes are new ones, so a loop among
	 * them would be endless to a walker */
	if (f->meta->type == TSK_FS_META_TYPE_DIR && is_ancestor(v, d, inum)) {
		blk_warn("%s: a directory loop: %s names inode %llu, a parent of its own; left out (EIO)",
			 v->path, name, (unsigned long long)inum);
		return 0;
	}
	n = deleted ? NULL : fsvol_node(v, inum);
	if (!n) {
		n = fsvol_add(v, deleted ? 0 : inum, into->id, name,
			      deleted ? FSN_DELETED : FSN_FILE);
		if (!n)
			return -ENOMEM;
		n->inum = inum;
		fsvol_meta_stat(v->fs, f->meta, &n->st);
		/* a deleted directory's entries are all deleted ones */
		n->all_here = deleted || into->all_here ||
			      inum == TSK_FS_ORPHANDIR_INUM(v->fs);
	}
	if (ent_add(into, name, n->id))
		return -ENOMEM;
	if (!deleted && TSK_FS_TYPE_ISNTFS(v->fs->ftype))
		return add_streams(v, into, f, name);
	return 0;
}

static void sort_listing(struct blk_fsvol *v, struct fsnode *d)
{
	if (d->nents)
		qsort(d->ents, d->nents, sizeof(*d->ents), ent_sort);
	for (size_t i = 0; i < d->nents; i++) {
		struct fsnode *c = fsvol_node(v, d->ents[i].id);

		if (c && c->kind == FSN_DELDIR && c->parent == d->id && c->nents)
			qsort(c->ents, c->nents, sizeof(*c->ents), ent_sort);
	}
}

/*
 * libtsk reads a directory whole into memory of the size its inode
 * claims, zeroing what is sparse: a hostile size would cost that much.
 */
static bool size_sane(struct blk_fsvol *v, const struct fsnode *d)
{
	if ((uint64_t)d->st.st_size <= v->size)
		return true;
	blk_warn("%s: directory inode %llu claims %llu bytes in a volume of %llu: not read (EIO)",
		 v->path, (unsigned long long)d->inum,
		 (unsigned long long)d->st.st_size, (unsigned long long)v->size);
	return false;
}

/*
 * libtsk's orphan search ($OrphanFiles) reads every directory itself,
 * without the check above: it runs only once each has passed it here
 * (listed, so the listings serve later lookups too).  0 or -EIO.
 */
static int orphan_precheck(struct blk_fsvol *v, struct fsnode *d,
			   unsigned int depth, size_t *budget)
{
	if (depth > 4096 || !*budget)
		return -EIO;
	--*budget;
	if (d->inum == TSK_FS_ORPHANDIR_INUM(v->fs))
		return 0;
	if ((uint64_t)d->st.st_size > v->size)
		return -EIO;	/* fsvol_list said so */
	fsvol_list(v, d);	/* an unreadable one libtsk skips too */
	for (size_t i = 0; i < d->nents; i++) {
		struct fsnode *c = fsvol_node(v, d->ents[i].id);

		if (c && S_ISDIR(c->st.st_mode) && c != d &&
		    orphan_precheck(v, c, depth + 1, budget))
			return -EIO;
	}
	return 0;
}

int fsvol_list(struct blk_fsvol *v, struct fsnode *d)
{
	size_t budget = 1u << 20;	/* directories */
	TSK_FS_DIR *dir;
	int err = 0;

	if (d->listed)
		return d->list_err;
	d->listed = true;
	if (d->kind == FSN_DELDIR || d->kind == FSN_ADS)
		return 0;
	d->list_err = -EIO;
	if (!size_sane(v, d))
		return -EIO;
	if (d->inum == TSK_FS_ORPHANDIR_INUM(v->fs) &&
	    orphan_precheck(v, fsvol_node(v, v->root_id), 0, &budget)) {
		blk_warn("%s: deleted files no directory names ($OrphanFiles) not searched (EIO)",
			 v->path);
		return -EIO;
	}
	d->list_err = 0;
	dir = tsk_fs_dir_open_meta(v->fs, d->inum);
	if (!dir) {
		/* a deleted directory whose blocks are gone lists as empty */
		if (d->kind != FSN_DELETED)
			blk_warn("%s: directory inode %llu: %s (EIO)", v->path,
				 (unsigned long long)d->inum, fsvol_tsk_err());
		d->list_err = d->kind == FSN_DELETED ? 0 : -EIO;
		return d->list_err;
	}
	for (size_t i = 0, n = tsk_fs_dir_getsize(dir); i < n && !err; i++) {
		TSK_FS_FILE *f = tsk_fs_dir_get(dir, i), *m = NULL;

		/* libtsk leaves an unallocated name's metadata unloaded */
		if (f && f->name && f->name->name && !f->meta &&
		    f->name->meta_addr)
			m = tsk_fs_file_open_meta(v->fs, NULL, f->name->meta_addr);
		if (f && f->name && f->name->name && (f->meta || (m && m->meta)))
			err = add_entry(v, d, f->name, f->meta ? f : m);
		tsk_fs_file_close(m);
		tsk_fs_file_close(f);
	}
	tsk_fs_dir_close(dir);
	sort_listing(v, d);
	d->list_err = err;
	return err;
}
#endif
