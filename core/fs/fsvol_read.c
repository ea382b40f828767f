// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The contents of files inside.  A live file's bytes that lie in
 * non-resident runs of its data attribute, below its initialised size, are
 * mapped to the volume's layer and from there to extents of files, which
 * the daemon splices; everything else (resident and compressed NTFS data,
 * sparse runs, a deleted file's recoverable bytes, a decoding layer) is
 * read through libtsk, which decodes it as icat does.
 */
#ifdef HAVE_LIBTSK
#include <errno.h>
#include <string.h>

#include "fs/fsvol_int.h"
#include "fs/tsk_img.h"
#include "layer/layer.h"
#include "base/log.h"

/* The open libtsk file of node n, from the few kept open: NULL on error. */
static TSK_FS_FILE *file_of(struct blk_fsvol *v, const struct fsnode *n)
{
	unsigned int i;
	TSK_FS_FILE *f;

	for (i = 0; i < FSVOL_OPEN_FILES; i++)
		if (v->open[i].f && v->open[i].id == n->id)
			return v->open[i].f;
	f = tsk_fs_file_open_meta(v->fs, NULL, n->inum);
	if (!f || !f->meta) {
		blk_warn("%s: inode %llu: %s (EIO)", v->path,
			 (unsigned long long)n->inum, fsvol_tsk_err());
		tsk_fs_file_close(f);
		return NULL;
	}
	/*
	 * libtsk 4.11 sizes an ext4 inode's inline data by its i_size, which
	 * a hostile inode sets to gigabytes (found by fuzz_fstree); real
	 * inline data fits in the inode.  Such a file is not kept open, nor
	 * read.
	 */
	if (f->meta->content_type == TSK_FS_META_CONTENT_TYPE_EXT4_INLINE &&
	    f->meta->content_len > 65536) {
		blk_warn("%s: inode %llu claims %zu bytes of inline data (EIO)",
			 v->path, (unsigned long long)n->inum,
			 f->meta->content_len);
		tsk_fs_file_close(f);
		return NULL;
	}
	i = v->open_next++ % FSVOL_OPEN_FILES;
	if (v->open[i].f)
		tsk_fs_file_close(v->open[i].f);
	v->open[i].id = n->id;
	v->open[i].f = f;
	return f;
}

/* The attribute that holds n's bytes: its stream, or the default. */
static const TSK_FS_ATTR *attr_of(TSK_FS_FILE *f, const struct fsnode *n)
{
	if (n->kind == FSN_ADS)
		return tsk_fs_file_attr_get_id(f, n->attr_id);
	return tsk_fs_file_attr_get(f);
}

/* The run of a holding file offset off (in blocks): NULL if none. */
static const TSK_FS_ATTR_RUN *run_at(const TSK_FS_ATTR *a, uint64_t blk)
{
	for (const TSK_FS_ATTR_RUN *r = a->nrd.run; r; r = r->next)
		if (blk >= (uint64_t)r->offset && blk - r->offset < r->len)
			return r;
	return NULL;
}

/* Under the lock: extents of [off, off + len) of a live file's attribute. */
static int map_attr(struct blk_fsvol *v, const TSK_FS_ATTR *a, uint64_t off,
		    size_t len, struct blk_extent *ext, unsigned int max)
{
	uint64_t bs = v->fs->block_size;
	unsigned int n = 0;

	if (!(a->flags & TSK_FS_ATTR_NONRES) ||
	    (a->flags & (TSK_FS_ATTR_COMP | TSK_FS_ATTR_ENC)) ||
	    off + len > (uint64_t)a->nrd.initsize || !bs)
		return -EOPNOTSUPP;
	while (len) {
		const TSK_FS_ATTR_RUN *r = run_at(a, off / bs);
		uint64_t in_run, pos;
		struct blk_extent e;

		if (!r || r->flags != TSK_FS_ATTR_RUN_FLAG_NONE || n == max)
			return -EOPNOTSUPP;
		in_run = (r->offset + r->len) * bs - off;
		pos = (r->addr * bs) + (off - r->offset * bs);
		if ((r->addr + r->len) * bs > v->size)
			return -EOPNOTSUPP;	/* libtsk says what is past the end */
		if (blk_layer_map(v->layer, v->start + pos, &e))
			return -EOPNOTSUPP;
		blk_tsk_img_around(v->img, pos);
		if (e.len > in_run)
			e.len = in_run;
		if (e.len > len)
			e.len = len;
		ext[n++] = e;
		off += e.len;
		len -= e.len;
	}
	return n;
}

int blk_fsvol_map(struct blk_fsvol *v, uint64_t id, uint64_t off, size_t len,
		  struct blk_extent *ext, unsigned int max)
{
	const struct fsnode *n;
	const TSK_FS_ATTR *a;
	TSK_FS_FILE *f;
	int ret = -EOPNOTSUPP;

	if (!blk_layer_maps(v->layer))
		return ret;
	fsvol_lock(v);
	n = v->state > 0 ? fsvol_node(v, id) : NULL;
	if (n && (n->kind == FSN_FILE || n->kind == FSN_ADS) &&
	    S_ISREG(n->st.st_mode) && (f = file_of(v, n)) &&
	    !(f->meta->flags & TSK_FS_META_FLAG_UNALLOC) && (a = attr_of(f, n)))
		ret = map_attr(v, a, off, len, ext, max);
	fsvol_unlock(v);
	return ret;
}

/*
 * Bytes past an attribute's initialized size (NTFS's valid data length)
 * read as zeros, as Windows and ntfs-3g give them; libtsk refuses a read
 * past the allocated size ($BadClus:$Bad: the volume's size, nothing
 * allocated).  Bytes read, or -1 (libtsk's error).
 */
static ssize_t attr_read(const TSK_FS_ATTR *a, uint64_t off, char *buf,
			 size_t len)
{
	uint64_t size = a->size > 0 ? (uint64_t)a->size : 0,
		 init = a->flags & TSK_FS_ATTR_NONRES ?
			(uint64_t)a->nrd.initsize : size;
	size_t head = 0;
	ssize_t got;

	if (off >= size)
		return 0;
	if (len > size - off)
		len = size - off;
	if (init > size)
		init = size;
	if (off < init) {
		head = init - off < len ? init - off : len;
		got = tsk_fs_attr_read(a, off, buf, head,
				       TSK_FS_FILE_READ_FLAG_NONE);
		if (got < 0 || (size_t)got < head)
			return got;
	}
	memset(buf + head, 0, len - head);
	return len;
}

ssize_t blk_fsvol_read(struct blk_fsvol *v, uint64_t id, void *buf,
		       size_t len, uint64_t off)
{
	const struct fsnode *n;
	const TSK_FS_ATTR *a = NULL;
	TSK_FS_FILE *f;
	ssize_t got = -ENOENT;

	fsvol_lock(v);
	n = v->state > 0 ? fsvol_node(v, id) : NULL;
	if (n && !S_ISREG(n->st.st_mode))
		got = -EISDIR;
	else if (n && (n->kind == FSN_FILE || n->kind == FSN_DELETED) &&
		 n->st.st_size == 0)
		got = 0;	/* devices, FIFOs: shown empty */
	else if (n) {
		got = -EIO;
		if ((f = file_of(v, n)) && (a = attr_of(f, n)))
			got = attr_read(a, off, buf, len);
		if (got < 0)
			blk_warn("%s: inode %llu: read of %zu bytes at %llu: %s (EIO)",
				 v->path, (unsigned long long)n->inum, len,
				 (unsigned long long)off,
				 a ? fsvol_tsk_err() : "no data attribute");
		if (got < 0)
			got = -EIO;
	}
	fsvol_unlock(v);
	return got;
}

int blk_fsvol_readlink(struct blk_fsvol *v, uint64_t id, char *buf,
		       size_t len)
{
	struct fsnode *n;
	TSK_FS_FILE *f;
	int err = -EINVAL;

	fsvol_lock(v);
	n = v->state > 0 ? fsvol_node(v, id) : NULL;
	if (n && S_ISLNK(n->st.st_mode) && (f = file_of(v, n))) {
		err = 0;
		if (f->meta->link) {
			snprintf(buf, len, "%s", f->meta->link);
		} else {
			ssize_t got = tsk_fs_file_read(f, 0, buf, len - 1,
						       TSK_FS_FILE_READ_FLAG_NONE);
			if (got < 0)
				err = -EIO;
			else
				buf[got] = '\0';
		}
	}
	fsvol_unlock(v);
	return err;
}
#endif
