// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The FUSE operations on files inside volumes (fs_ops.c hands over every
 * inode of that range), and their READs: from a worker's wire, spliced
 * from the source where libtsk's runs map to it, else read through libtsk
 * into the reply buffer.  Opens and reads are audited with the file's path
 * inside ("fs/p2/Windows/notepad.exe").
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "forensic/audit.h"
#include "fs/fsvol.h"
#include "base/log.h"
#include "serve/fs_files.h"
#include "serve/fs_ops.h"
#include "serve/opens.h"

#define FS_TIMEOUT 3600.0
#define FS_PIECES 8		/* extents one spliced reply may span */

static struct blk_ctx *req_ctx(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static void reply_entry(fuse_req_t req, struct blk_ctx *ctx, unsigned int vi,
			uint64_t id)
{
	struct fuse_entry_param e = {
		.attr_timeout = FS_TIMEOUT, .entry_timeout = FS_TIMEOUT,
	};
	int err = blk_fs_attr(ctx, vi, id, &e.attr);

	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	e.ino = e.attr.st_ino;
	fuse_reply_entry(req, &e);
}

void blk_fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct blk_ctx *ctx = req_ctx(req);
	struct blk_fsvol *v;
	unsigned int vi;
	uint64_t dir, id;
	int err;

	v = blk_fs_vol(ctx, parent, &dir, &vi);
	if (!v) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	err = blk_fsvol_lookup(v, dir, name, &id);
	if (err)
		fuse_reply_err(req, -err);
	else
		reply_entry(req, ctx, vi, id);
}

void blk_fs_getattr(fuse_req_t req, fuse_ino_t ino)
{
	struct blk_ctx *ctx = req_ctx(req);
	unsigned int vi;
	struct stat st;
	uint64_t id;
	int err = -ENOENT;

	if (blk_fs_vol(ctx, ino, &id, &vi))
		err = blk_fs_attr(ctx, vi, id, &st);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_attr(req, &st, FS_TIMEOUT);
}

void blk_fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct blk_fsvol *v;
	char target[4096];
	unsigned int vi;
	uint64_t id;
	int err = -EINVAL;

	v = blk_fs_vol(req_ctx(req), ino, &id, &vi);
	if (v)
		err = blk_fsvol_readlink(v, id, target, sizeof(target));
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_readlink(req, target);	/* never followed here */
}

void blk_fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct blk_ctx *ctx = req_ctx(req);
	unsigned int vi;
	struct stat st;
	uint64_t id;
	int err = -ENOENT;

	if (blk_fs_vol(ctx, ino, &id, &vi))
		err = blk_fs_attr(ctx, vi, id, &st);
	if (!err && !S_ISDIR(st.st_mode))
		err = -ENOTDIR;
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

/* Entry i: ".", "..", then the listing's. */
void blk_fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    bool plus)
{
	struct blk_ctx *ctx = req_ctx(req);
	struct blk_fsvol *v;
	size_t used = 0;
	unsigned int vi;
	uint64_t dir;
	char *buf;

	v = blk_fs_vol(ctx, ino, &dir, &vi);
	buf = v ? malloc(size) : NULL;
	if (!buf) {
		fuse_reply_err(req, v ? ENOMEM : ENOENT);
		return;
	}
	for (off_t i = off;; i++) {
		struct stat st = { .st_ino = ino, .st_mode = S_IFDIR };
		char name[2200];	/* a stream: name:stream, both escaped */
		uint64_t id;
		size_t ent;
		int err = 0;

		if (i >= 2)
			err = blk_fsvol_dirent(v, dir, i - 2, name, sizeof(name), &id);
		else
			strcpy(name, i ? ".." : ".");
		if (err == -ENOENT)
			break;
		/* longer than a path component may be (the escapes, a
		 * stream's name): no lookup could reach it */
		if (!err && strlen(name) > NAME_MAX) {
			blk_info("%s: a name of %zu bytes in inode %llu is left out",
				 ctx->fs->m[vi].path, strlen(name),
				 (unsigned long long)ino);
			continue;
		}
		if (err || (i >= 2 && blk_fs_attr(ctx, vi, id, &st))) {
			if (used)
				break;	/* what was gathered goes; the error next */
			free(buf);
			fuse_reply_err(req, err ? -err : EIO);
			return;
		}
		ent = blk_add_dirent(req, buf + used, size - used, name, &st,
				     i + 1, plus);
		if (ent > size - used)
			break;
		used += ent;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void audit_open(struct blk_ctx *ctx, const char *ev,
		       const struct blk_open_rec *r)
{
	struct blk_audit_who who = { r->pid, r->uid, r->gid };
	char name[1200];

	if (!ctx->audit)
		return;
	blk_fs_name(ctx, r->ino, name, sizeof(name));
	blk_audit_open_release(ctx->audit, ev, name, &who, r->comm);
}

void blk_fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct blk_ctx *ctx = req_ctx(req);
	const struct fuse_ctx *fc = fuse_req_ctx(req);
	struct blk_open_rec *r;
	unsigned int vi;
	struct stat st;
	uint64_t id;
	int err = -ENOENT;

	if (blk_fs_vol(ctx, ino, &id, &vi))
		err = blk_fs_attr(ctx, vi, id, &st);
	if (!err && S_ISDIR(st.st_mode))
		err = -EISDIR;
	if (!err && ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)))
		err = -EROFS;
	r = err ? NULL : blk_opens_add(ctx->opens, ino, fc->pid, fc->uid,
				       fc->gid, ctx->audit != NULL);
	if (!err && !r)
		err = -ENOMEM;
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	fi->fh = (uintptr_t)r;
	fi->keep_cache = 1;
	audit_open(ctx, "open", r);
	if (fuse_reply_open(req, fi) != 0)
		blk_opens_del(ctx->opens, r);
}

void blk_fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct blk_ctx *ctx = req_ctx(req);
	struct blk_open_rec *r = (struct blk_open_rec *)(uintptr_t)fi->fh;
	unsigned int left;

	(void)ino;
	if (!r) {
		fuse_reply_err(req, 0);
		return;
	}
	audit_open(ctx, "release", r);
	left = blk_opens_del(ctx->opens, r);
	fuse_reply_err(req, 0);
	if (left == 0 && atomic_load(&ctx->detached))
		kill(getpid(), SIGUSR1);	/* the main thread's end */
}
