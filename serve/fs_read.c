// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * READs of files inside volumes.  From a worker's wire: clamped to the
 * file, spliced from the source when every byte asked for lies unchanged
 * in runs of a mapping layer (core/fs/fsvol_read.c says where), else read
 * through libtsk into the wire's buffer.  Through libfuse (io_uring, and
 * anything the wire did not take) the same copy.  Counted with the other
 * reads; audited with the path inside.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctx.h"
#include "forensic/audit.h"
#include "fs/fsvol.h"
#include "base/log.h"
#include "serve/fs_files.h"

#define FS_PIECES 8

struct fs_rd {
	struct blk_fsvol *v;
	uint64_t id, ino, off;
	size_t len, size;
	struct blk_audit_who who;
	struct timespec when;
};

/* Volume, id and the clamped length of a read: 0 or -errno. */
static int fs_rd_init(struct blk_ctx *ctx, struct fs_rd *rd)
{
	unsigned int vi;
	struct stat st;
	int err;

	if (ctx->audit)
		clock_gettime(CLOCK_REALTIME, &rd->when);
	rd->v = blk_fs_vol(ctx, rd->ino, &rd->id, &vi);
	if (!rd->v)
		return -ENOENT;
	err = blk_fs_attr(ctx, vi, rd->id, &st);
	if (err)
		return err;
	if (!S_ISREG(st.st_mode))
		return -EISDIR;
	rd->len = 0;
	if (rd->off < (uint64_t)st.st_size)
		rd->len = st.st_size - rd->off < rd->size ? st.st_size - rd->off :
							    rd->size;
	return 0;
}

static void fs_rd_done(struct blk_ctx *ctx, const struct fs_rd *rd,
		       ssize_t got, bool spliced)
{
	struct blk_stats *st = &ctx->stats;
	char name[1200];

	if (got > 0) {
		blk_count(&st->read_bytes, got);
		blk_count(spliced ? &st->spliced_bytes : &st->copied_bytes, got);
		blk_count(spliced ? &st->spliced_reqs : &st->copied_reqs, 1);
	} else if (got < 0) {
		blk_count_error(st, -got);
	}
	if (!ctx->audit)
		return;
	blk_fs_name(ctx, rd->ino, name, sizeof(name));
	blk_audit_io(ctx->audit, &rd->when, "read", name, rd->off, rd->size,
		     got < 0 ? -1 : got, got < 0 ? -got : 0, &rd->who);
}

/* rd->len bytes through libtsk into buf: bytes, or -errno. */
static ssize_t fs_copy(struct blk_ctx *ctx, const struct fs_rd *rd, char *buf)
{
	size_t got = 0;

	while (got < rd->len) {
		ssize_t n = blk_fsvol_read(rd->v, rd->id, buf + got,
					   rd->len - got, rd->off + got);

		if (n < 0)
			return n;
		if (n == 0) {
			char name[1200];

			blk_fs_name(ctx, rd->ino, name, sizeof(name));
			blk_warn("%s: ends at byte %llu, inside its size (EIO)",
				 name, (unsigned long long)(rd->off + got));
			return -EIO;
		}
		got += n;
	}
	return got;
}

void blk_fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off)
{
	struct blk_ctx *ctx = fuse_req_userdata(req);
	const struct fuse_ctx *fc = fuse_req_ctx(req);
	struct fs_rd rd = {
		.ino = ino, .off = off, .size = size,
		.who = { fc->pid, fc->uid, fc->gid },
	};
	ssize_t got = fs_rd_init(ctx, &rd);
	char *buf = NULL;

	if (!got && rd.len) {
		buf = malloc(rd.len);
		got = buf ? fs_copy(ctx, &rd, buf) : -ENOMEM;
	}
	fs_rd_done(ctx, &rd, got, false);
	if (got < 0)
		fuse_reply_err(req, -got);
	else
		fuse_reply_buf(req, buf, got);
	free(buf);
}

/* Spliced from the extents the bytes lie in: 0 when sent. */
static int fs_splice(struct blk_ctx *ctx, struct blk_wire *w,
		     const struct fs_rd *rd, uint64_t unique)
{
	struct blk_extent ext[FS_PIECES];
	struct blk_wire_piece pc[FS_PIECES];
	enum blk_fallback why;
	int n;

	if (rd->len < BLK_SPLICE_MIN ||
	    !atomic_load_explicit(&ctx->tun.splice, memory_order_relaxed))
		return -EAGAIN;
	n = blk_fsvol_map(rd->v, rd->id, rd->off, rd->len, ext, FS_PIECES);
	if (n <= 0) {
		blk_count(&ctx->stats.fallback[BLK_FB_DECODE], 1);
		return -EAGAIN;
	}
	for (int i = 0; i < n; i++)
		pc[i] = (struct blk_wire_piece){ ext[i].fd, ext[i].off, ext[i].len };
	blk_wire_tune_pipe(w, atomic_load_explicit(&ctx->tun.pipe_size,
						   memory_order_relaxed));
	if (blk_wire_reply_splicev(w, pc, n, unique, &why) == 0)
		return 0;
	blk_count(&ctx->stats.fallback[why], 1);
	return -EAGAIN;
}

void blk_fs_read_fast(struct blk_ctx *ctx, struct blk_wire *w,
		      const struct blk_wire_req *req)
{
	struct fs_rd rd = {
		.ino = req->nodeid, .off = req->offset, .size = req->size,
		.who = { req->pid, req->uid, req->gid },
	};
	ssize_t got = fs_rd_init(ctx, &rd);
	char *buf;
	int err;

	if (!got && rd.len && fs_splice(ctx, w, &rd, req->unique) == 0) {
		fs_rd_done(ctx, &rd, rd.len, true);
		return;
	}
	if (!got && rd.len) {
		buf = blk_wire_buffer(w, rd.len);
		got = buf ? fs_copy(ctx, &rd, buf) : -ENOMEM;
	}
	fs_rd_done(ctx, &rd, got, false);
	err = got < 0 ? blk_wire_reply_err(w->fuse_fd, req->unique, -got) :
			blk_wire_reply_buffer(w, req->unique, got);
	if (err)
		blk_warn("reply to request %llu refused: %s",
			 (unsigned long long)req->unique, strerror(-err));
}
