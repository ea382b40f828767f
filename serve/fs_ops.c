// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The FUSE low-level operations: a static, read-only tree.  READs of data
 * files never reach this file (workers.c hands them to read_path.c); every
 * operation that would change anything fails with EROFS, even though the
 * mount is "ro" and the kernel refuses most of them first.
 */
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forensic/audit.h"
#include "ctl/ctl.h"
#include "ctl/ctl_fuse.h"
#include "ctx.h"
#include "serve/fs_files.h"
#include "serve/fs_ops.h"
#include "base/log.h"
#include "serve/opens.h"

/* The tree never changes while mounted: let the kernel cache it. */
#define BLK_TIMEOUT 3600.0

static struct blk_ctx *blk_ctx(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/*
 * The mount's readahead (readahead_kb): the bdi is set before the INIT
 * reply, and the reply's max_readahead says the same, since the kernel
 * keeps the smaller of the two.
 */
static void mount_readahead(struct blk_ctx *ctx, struct fuse_conn_info *conn)
{
	int err;

	if (ctx->mount_ra_kb == BLK_RA_KEEP)
		return;
	err = blk_ctl_set_readahead(ctx, ctx->mount_ra_kb);
	if (!err)
		conn->max_readahead = ctx->mount_ra_kb * 1024;
	else if (ctx->mount_ra_typed)
		blk_warn("readahead_kb=%u: %s", ctx->mount_ra_kb, strerror(-err));
	else
		blk_debug("readahead_kb=%u: %s (the kernel's stays)",
			  ctx->mount_ra_kb, strerror(-err));
}

static void blk_init(void *userdata, struct fuse_conn_info *conn)
{
	struct blk_ctx *ctx = userdata;

	/*
	 * libfuse 3.14 derives max_pages from max_write, so this caps every
	 * READ at max_reply: the size whose reply fits the worker's pipe.
	 */
	if (ctx->conn_opts)
		fuse_apply_conn_info_opts(ctx->conn_opts, conn);
	conn->max_write = ctx->max_reply;
	mount_readahead(ctx, conn);
	/* Our own splice code answers READs; libfuse must not try. */
	conn->want &= ~(FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
			FUSE_CAP_SPLICE_READ);
	/*
	 * READDIRPLUS for every batch of a listing, not only the first:
	 * nothing here changes, every entry's attributes are at hand, and
	 * each entry a plain READDIR gave would cost a LOOKUP (a tar of fs/
	 * made 3.75 requests a file).
	 */
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	blk_debug("INIT: proto 7.%u, max_reply %u, max_readahead %u",
		  conn->proto_minor, ctx->max_reply, conn->max_readahead);
}

/*
 * Never more readable than the source: owner, group and read bits follow
 * it (a 0600 image gives 0400 files), write bits never; directories get x
 * where they get r, to be entered.
 */
static void fill_attr(const struct blk_ctx *ctx, uint64_t ino,
		      const struct blk_node *n, struct stat *st)
{
	const struct stat *src = &ctx->src.st;
	mode_t r = src->st_mode & 0444;

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = src->st_uid;
	st->st_gid = src->st_gid;
	st->st_atim = src->st_atim;
	st->st_mtim = src->st_mtim;
	st->st_ctim = src->st_ctim;
	st->st_blksize = 4096;
	st->st_nlink = 1;
	switch (n->kind) {
	case BLK_NODE_DIR:
		st->st_mode = S_IFDIR | r | r >> 2;
		st->st_nlink = 2;
		break;
	case BLK_NODE_DATA:
	case BLK_NODE_TEXT:
		st->st_mode = S_IFREG | r;
		st->st_size = n->size;
		break;
	case BLK_NODE_LINK:
		st->st_mode = S_IFLNK | 0777;
		st->st_size = strlen(n->text);
		break;
	case BLK_NODE_CTL:
		/* the daemon's own: root's, or the user's who mounted */
		st->st_mode = S_IFREG | (ctx->ctl_mode & 0666);
		st->st_uid = geteuid();
		st->st_gid = getegid();
		break;
	}
	st->st_blocks = (st->st_size + 511) / 512;
}

static void blk_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct blk_ctx *ctx = blk_ctx(req);
	struct fuse_entry_param e = {
		.attr_timeout = BLK_TIMEOUT, .entry_timeout = BLK_TIMEOUT,
	};

	if (blk_fs_ino(parent)) {
		blk_fs_lookup(req, parent, name);
		return;
	}
	e.ino = blk_tree_lookup(&ctx->tree, parent, name);
	if (!e.ino && blk_fs_static_lookup(ctx, parent, name, &e)) {
		fuse_reply_entry(req, &e);
		return;
	}
	if (!e.ino) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(ctx, e.ino, blk_tree_get(&ctx->tree, e.ino), &e.attr);
	fuse_reply_entry(req, &e);
}

static void blk_getattr(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct blk_ctx *ctx = blk_ctx(req);
	struct blk_node *n = blk_tree_get(&ctx->tree, ino);
	struct stat st;

	(void)fi;
	if (blk_fs_ino(ino)) {
		blk_fs_getattr(req, ino);
		return;
	}
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(ctx, ino, n, &st);
	fuse_reply_attr(req, &st, BLK_TIMEOUT);
}

static void blk_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct blk_node *n = blk_tree_get(&blk_ctx(req)->tree, ino);

	if (blk_fs_ino(ino))
		blk_fs_readlink(req, ino);
	else if (!n || n->kind != BLK_NODE_LINK)
		fuse_reply_err(req, EINVAL);
	else
		fuse_reply_readlink(req, n->text);
}

static void blk_opendir(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct blk_node *n = blk_tree_get(&blk_ctx(req)->tree, ino);

	if (blk_fs_ino(ino))
		blk_fs_opendir(req, ino, fi);
	else if (!n)
		fuse_reply_err(req, ENOENT);
	else if (n->kind != BLK_NODE_DIR)
		fuse_reply_err(req, ENOTDIR);
	else {
		fi->cache_readdir = 1;
		fuse_reply_open(req, fi);
	}
}

/*
 * One entry into buf (room bytes); with plus (READDIRPLUS) its attributes
 * too, which saves the kernel a LOOKUP per name (fs/ trees are large).
 * The size it needs: more than room means it did not fit.
 */
size_t blk_add_dirent(fuse_req_t req, char *buf, size_t room,
		      const char *name, const struct stat *st, off_t next,
		      bool plus)
{
	struct fuse_entry_param e = {
		.ino = st->st_ino, .attr = *st,
		.attr_timeout = BLK_TIMEOUT, .entry_timeout = BLK_TIMEOUT,
	};

	if (!plus)
		return fuse_add_direntry(req, buf, room, name, st, next);
	/* the kernel takes no reference for "." and ".." */
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		e.ino = 0;
	return fuse_add_direntry_plus(req, buf, room, name, &e, next);
}

/* Entry i of directory ino: ".", "..", then the children in tree order. */
static void readdir_any(fuse_req_t req, fuse_ino_t ino, size_t size,
			off_t off, bool plus)
{
	struct blk_ctx *ctx = blk_ctx(req);
	const struct blk_tree *t = &ctx->tree;
	struct blk_node *dir = blk_tree_get(t, ino);
	char *buf;
	size_t used = 0;
	off_t idx = 0;

	if (blk_fs_ino(ino)) {
		blk_fs_readdir(req, ino, size, off, plus);
		return;
	}
	if (!dir) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = 0; i <= t->count + 1; i++) {
		struct stat st = { 0 };
		const char *name;
		size_t ent;

		if (i == 0) {
			name = ".";
			st.st_ino = ino;
		} else if (i == 1) {
			name = "..";
			st.st_ino = dir->parent;
		} else if (t->nodes[i - 2].parent == ino && i - 1 != ino) {
			name = t->nodes[i - 2].name;
			st.st_ino = i - 1;
		} else {
			continue;
		}
		if (idx++ < off)
			continue;
		fill_attr(ctx, st.st_ino, blk_tree_get(t, st.st_ino), &st);
		ent = blk_add_dirent(req, buf + used, size - used, name, &st,
				     idx, plus);
		if (ent > size - used)
			goto full;
		used += ent;
	}
	/* then the volumes in it whose file system libtsk reads (fs/) */
	for (size_t k = 0;; k++) {
		struct stat st;
		const char *name;
		size_t ent;

		if (!blk_fs_static_dirent(ctx, ino, k, &name, &st))
			break;
		if (idx++ < off)
			continue;
		ent = blk_add_dirent(req, buf + used, size - used, name, &st,
				     idx, plus);
		if (ent > size - used)
			break;
		used += ent;
	}
full:
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void blk_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
			off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	readdir_any(req, ino, size, off, false);
}

static void blk_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			    off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	readdir_any(req, ino, size, off, true);
}

/* The audit record of an open or release, with who opened the file. */
static void audit(struct blk_ctx *ctx, const char *ev,
		  const struct blk_open_rec *r)
{
	struct blk_audit_who who = { r->pid, r->uid, r->gid };
	char name[300];

	if (!ctx->audit)
		return;
	blk_node_path(&ctx->tree, blk_tree_get(&ctx->tree, r->ino), name,
		      sizeof(name));
	blk_audit_open_release(ctx->audit, ev, name, &who, r->comm);
}

static void blk_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct blk_ctx *ctx = blk_ctx(req);
	struct blk_node *n = blk_tree_get(&ctx->tree, ino);
	const struct fuse_ctx *fc = fuse_req_ctx(req);
	struct blk_open_rec *r;

	if (blk_fs_ino(ino)) {
		blk_fs_open(req, ino, fi);
		return;
	}
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (n->kind == BLK_NODE_DIR) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (n->kind == BLK_NODE_CTL) {
		blk_ctl_reply_open(req, ctx, fi, true);
		return;
	}
	/* Every other file has a record: the kernel's RELEASE says not who. */
	r = blk_opens_add(ctx->opens, ino, fc->pid, fc->uid, fc->gid,
			  ctx->audit != NULL);
	if (!r) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uintptr_t)r;
	/* The data cannot change under us: keep the page cache across opens. */
	fi->keep_cache = 1;
	if (n->kind == BLK_NODE_DATA)
		audit(ctx, "open", r);
	if (fuse_reply_open(req, fi) != 0)
		blk_opens_del(ctx->opens, r);	/* the opener is gone */
}

/*
 * After a SIGTERM with files open, the mount is detached and the daemon
 * waits for the last of them (blkfuse.c): this release may be it.
 */
static void blk_release(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct blk_ctx *ctx = blk_ctx(req);
	struct blk_node *n = blk_tree_get(&ctx->tree, ino);
	struct blk_open_rec *r = (struct blk_open_rec *)(uintptr_t)fi->fh;
	unsigned int left;

	if (blk_fs_ino(ino)) {
		blk_fs_release(req, ino, fi);
		return;
	}
	if (n && n->kind == BLK_NODE_CTL) {
		blk_ctl_reply_release(req, fi);
		return;
	}
	if (!r) {
		fuse_reply_err(req, 0);
		return;
	}
	if (n && n->kind == BLK_NODE_DATA)
		audit(ctx, "release", r);
	left = blk_opens_del(ctx->opens, r);
	fuse_reply_err(req, 0);
	if (left == 0 && atomic_load(&ctx->detached))
		kill(getpid(), SIGUSR1);	/* the main thread's end */
}

static void blk_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd,
		      void *arg, struct fuse_file_info *fi, unsigned int flags,
		      const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	struct blk_ctx *ctx = blk_ctx(req);
	struct blk_node *n = blk_tree_get(&ctx->tree, ino);

	(void)arg;
	if (!n || n->kind != BLK_NODE_CTL)
		fuse_reply_err(req, ENOTTY);
	else
		blk_ctl_reply_ioctl(req, ctx, fi, cmd, flags, in_buf, in_bufsz,
				    out_bufsz, true);
}

/* Reaches here for TEXT and CTL files only: READs of data files and of
 * files inside volumes are taken by the workers and the ring before
 * libfuse sees them (read_path.c). */
static void blk_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct blk_node *n = blk_tree_get(&blk_ctx(req)->tree, ino);

	if (n && n->kind == BLK_NODE_CTL) {
		blk_ctl_reply_read(req, fi, size);
		return;
	}
	if (!n || n->kind != BLK_NODE_TEXT) {
		fuse_reply_err(req, EIO);
		return;
	}
	if ((uint64_t)off >= n->size)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, n->text + off,
			       n->size - off < size ? n->size - off : size);
}

static void blk_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct blk_ctx *ctx = blk_ctx(req);
	struct statvfs sv = {
		.f_bsize = 4096,
		.f_frsize = 4096,
		.f_blocks = (ctx->src.size + 4095) / 4096,
		.f_files = ctx->tree.count,
		.f_namemax = 255,
		.f_flag = ST_RDONLY,
	};

	(void)ino;
	fuse_reply_statfs(req, &sv);
}

/* ---- everything that would write ---------------------------------------- */

static void erofs(fuse_req_t req)
{
	fuse_reply_err(req, EROFS);
}

static void blk_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			int to_set, struct fuse_file_info *fi)
{
	(void)ino, (void)attr, (void)to_set, (void)fi;
	erofs(req);
}

static void blk_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, dev_t rdev)
{
	(void)parent, (void)name, (void)mode, (void)rdev;
	erofs(req);
}

static void blk_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode)
{
	(void)parent, (void)name, (void)mode;
	erofs(req);
}

static void blk_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent, (void)name;
	erofs(req);
}

static void blk_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
			const char *name)
{
	(void)link, (void)parent, (void)name;
	erofs(req);
}

static void blk_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		       fuse_ino_t newparent, const char *newname,
		       unsigned int flags)
{
	(void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
	erofs(req);
}

static void blk_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		     const char *newname)
{
	(void)ino, (void)newparent, (void)newname;
	erofs(req);
}

static void blk_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		      size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino, (void)buf, (void)size, (void)off, (void)fi;
	erofs(req);
}

static void blk_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			 const char *value, size_t size, int flags)
{
	(void)ino, (void)name, (void)value, (void)size, (void)flags;
	erofs(req);
}

static void blk_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino, (void)name;
	erofs(req);
}

static void blk_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		       mode_t mode, struct fuse_file_info *fi)
{
	(void)parent, (void)name, (void)mode, (void)fi;
	erofs(req);
}

static void blk_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			  off_t offset, off_t length, struct fuse_file_info *fi)
{
	(void)ino, (void)mode, (void)offset, (void)length, (void)fi;
	erofs(req);
}

const struct fuse_lowlevel_ops blk_fs_ops = {
	.init		= blk_init,
	.lookup		= blk_lookup,
	.getattr	= blk_getattr,
	.setattr	= blk_setattr,
	.readlink	= blk_readlink,
	.mknod		= blk_mknod,
	.mkdir		= blk_mkdir,
	.unlink		= blk_unlink,
	.rmdir		= blk_unlink,
	.symlink	= blk_symlink,
	.rename		= blk_rename,
	.link		= blk_link,
	.open		= blk_open,
	.read		= blk_read,
	.write		= blk_write,
	.release	= blk_release,
	.opendir	= blk_opendir,
	.readdir	= blk_readdir,
	.readdirplus	= blk_readdirplus,
	.statfs		= blk_statfs,
	.setxattr	= blk_setxattr,
	.removexattr	= blk_removexattr,
	.create		= blk_create,
	.fallocate	= blk_fallocate,
	.ioctl		= blk_ioctl,
};
