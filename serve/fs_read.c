// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * READs of files inside volumes.  Here only which volume and file a READ
 * names, and its size; the read path (read/read_path.c) does the rest as
 * for a data file: the throttle (pause, rate_limit), the request's reply
 * sink (spliced where core/fs/ maps the bytes to files, else copied
 * through libtsk), the counters and the audit record, by the path inside.
 */
#include <errno.h>
#include <sys/stat.h>

#include "ctx.h"
#include "fs/fsvol.h"
#include "base/log.h"
#include "read/read_path.h"
#include "serve/fs_files.h"

void blk_fs_read_start(struct blk_ctx *ctx, struct blk_wire *w,
		       const struct blk_wire_req *req)
{
	struct blk_read_fs fs = { 0 };
	unsigned int vi;
	struct stat st;
	int err = -ENOENT;

	blk_debug("unique: %llu, opcode: READ (15), nodeid: %llu (inside), offset %llu, size %u, pid: %u",
		  (unsigned long long)req->unique,
		  (unsigned long long)req->nodeid,
		  (unsigned long long)req->offset, req->size, req->pid);
	fs.v = blk_fs_vol(ctx, req->nodeid, &fs.id, &vi);
	if (fs.v) {
		fs.path = ctx->fs->m[vi].path;
		err = blk_fs_attr(ctx, vi, fs.id, &st);
	}
	if (!err && !S_ISREG(st.st_mode))
		err = -EISDIR;
	blk_read_start_fs(ctx, w, req, &fs, err ? 0 : st.st_size, -err);
}
