// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The READ of a data file, top to bottom:
 *
 *   blk_read_start   clamp to the file; throttle (may park the read)
 *   blk_read_send    choose how (policy), send it: splice, else copy
 *   read_done        count it, audit it
 *
 * A file inside a volume's file system (blk_read_start_fs) takes the same
 * path: the same throttle, sink, counters and audit; only where its bytes
 * lie differs (core/fs/ maps them to files for splice, or reads them
 * through libtsk), and it has no per-file counters, readahead or
 * --on-error=zero (libtsk's reads are not sector by sector).
 *
 * Every READ is clamped to its file first: a short read must never reach
 * the kernel as a surprise, and no byte outside the file is ever returned.
 * There is no lock on this path: the tree is immutable, each thread owns
 * its wire (pipe and buffer), and the counters are atomics.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forensic/audit.h"
#include "ctx.h"
#include "base/log.h"
#include "read/read_path.h"
#include "read/readahead.h"
#include "read/throttle.h"
#include "layer/layer.h"
#include "fs/fsvol.h"
#include "base/util.h"

#define MAX_PIECES 8	/* segment files one spliced reply may span */

/* How a read goes out; decided in one place from options and tunables. */
struct read_policy {
	int fd;			/* buffered, or O_DIRECT when aligned */
	bool splice;
	enum blk_fallback why;	/* when !splice */
	bool zero_on_error;	/* --on-error=zero */
};

/* The source itself, read with pread on its own descriptors (O_DIRECT,
 * readahead and sector rereads apply only there). */
static bool on_raw_source(const struct blk_ctx *ctx,
			  const struct blk_layer *l)
{
	return l == ctx->src.layer && !ctx->src.img;
}

/* How messages name a read position: in the source for disk and pN, in
 * the volume for a volume's file (its own layer). */
static const char *offset_word(const struct blk_ctx *ctx,
			       const struct blk_read *rd)
{
	return rd->node->layer == ctx->src.layer ? "source offset" :
	       "volume offset";
}

/*
 * O_DIRECT wants offset and length aligned to the logical block size (of
 * the file system, for an image file): a page covers both here.  Anything
 * else is read through the buffered fd.
 */
static struct read_policy choose(struct blk_ctx *ctx,
				 const struct blk_read *rd,
				 const struct blk_layer *l, uint64_t pos,
				 size_t len)
{
	const struct blk_source *src = &ctx->src;
	size_t page = blk_page_size();
	uint64_t mask = (src->sector_size > page ? src->sector_size : page) - 1;
	int fd_direct = atomic_load_explicit(&src->fd_direct,
					     memory_order_acquire);
	struct read_policy p = {
		.fd = src->fd, .splice = true,
		.zero_on_error = ctx->on_error_zero && rd->node,
	};

	/* a file inside: whether it maps is asked per read (splice_reply) */
	if (rd->node && !blk_layer_maps(l))
		p.splice = false, p.why = BLK_FB_DECODE;
	else if (!atomic_load_explicit(&ctx->tun.splice, memory_order_relaxed))
		p.splice = false, p.why = BLK_FB_SPLICE_OFF;
	else if (len < BLK_SPLICE_MIN)
		p.splice = false, p.why = BLK_FB_SMALL;
	if (rd->node && on_raw_source(ctx, l) &&
	    atomic_load_explicit(&ctx->tun.source_direct, memory_order_relaxed) &&
	    fd_direct >= 0 && !(pos & mask) && !(len & mask))
		p.fd = fd_direct;
	return p;
}

/* The file's path in the mount: "p2", "fs/p2/Windows/notepad.exe". */
static void read_name(struct blk_ctx *ctx, const struct blk_read *rd,
		      char *buf, size_t len)
{
	size_t j;

	if (rd->node) {
		blk_node_path(&ctx->tree, rd->node, buf, len);
		return;
	}
	if (!rd->fs.v) {
		snprintf(buf, len, "inode %llu", (unsigned long long)rd->ino);
		return;
	}
	j = snprintf(buf, len, "%s/", rd->fs.path);
	if (j < len)
		blk_fsvol_path(rd->fs.v, rd->fs.id, buf + j, len - j);
}

static void audit_read(struct blk_ctx *ctx, const struct blk_read *rd,
		       int64_t ret, int err)
{
	struct blk_audit_who who = { rd->pid, rd->uid, rd->gid };
	char name[1200];

	read_name(ctx, rd, name, sizeof(name));
	blk_audit_io(ctx->audit, &rd->arrived, "read", name, rd->off, rd->size,
		     ret, err, &who);
}

/*
 * The bytes of a reply, counted before it goes out (sign +1), so that a
 * reader who has them finds them counted; taken back (sign -1) when the
 * reply could not be sent that way after all.
 */
static void count_reply(struct blk_ctx *ctx, const struct blk_read *rd,
			size_t bytes, bool spliced, int sign)
{
	struct blk_stats *st = &ctx->stats;
	uint64_t n = sign > 0 ? bytes : -(uint64_t)bytes;
	uint64_t one = sign > 0 ? 1 : -1ull;

	if (rd->node)
		blk_count(&rd->node->reads, one);
	if (!rd->len)
		return;	/* at or past EOF: neither spliced nor copied */
	blk_count(&st->read_bytes, n);
	blk_count(spliced ? &st->spliced_bytes : &st->copied_bytes, n);
	blk_count(spliced ? &st->spliced_reqs : &st->copied_reqs, one);
	if (rd->node)
		blk_count(&rd->node->bytes, n);
}

/* The one place a finished READ is audited and its latency counted. */
static void read_done(struct blk_ctx *ctx, const struct blk_read *rd,
		      size_t sent, int err)
{
	struct blk_stats *st = &ctx->stats;
	uint64_t us = (blk_mono_ns() - rd->arrived_ns) / 1000;
	unsigned int bucket = 0;

	atomic_fetch_sub(&st->inflight, 1);
	if (!err && rd->len) {
		while (bucket < BLK_LAT_BUCKETS - 1 && us >= (1ull << bucket))
			bucket++;
		blk_count(&st->lat[bucket], 1);
	}
	if (ctx->audit)
		audit_read(ctx, rd, err ? -1 : (int64_t)sent, err);
}

/* The read as it arrived, clamped to a file of size bytes; in flight. */
static void read_begin(struct blk_ctx *ctx, struct blk_read *rd,
		       const struct blk_wire_req *req, uint64_t size)
{
	struct blk_stats *st = &ctx->stats;
	int64_t inflight, peak;

	rd->unique = req->unique, rd->ino = req->nodeid;
	rd->off = req->offset, rd->size = req->size;
	rd->pid = req->pid, rd->uid = req->uid, rd->gid = req->gid;
	rd->sink = req->sink;
	rd->arrived_ns = blk_mono_ns();
	if (ctx->audit)
		clock_gettime(CLOCK_REALTIME, &rd->arrived);
	if (rd->off < size)
		rd->len = size - rd->off < rd->size ? size - rd->off : rd->size;
	inflight = atomic_fetch_add(&st->inflight, 1) + 1;
	for (peak = atomic_load(&st->inflight_peak); inflight > peak;)
		if (atomic_compare_exchange_weak(&st->inflight_peak, &peak,
						 inflight))
			break;
}

void blk_read_start(struct blk_ctx *ctx, struct blk_wire *w,
		    const struct blk_wire_req *req, struct blk_node *node)
{
	struct blk_read rd = { .node = node };

	read_begin(ctx, &rd, req, node->size);
	if (blk_throttle_admit(ctx->throttle, &rd))
		blk_read_send(ctx, w, &rd);
}

void blk_read_start_fs(struct blk_ctx *ctx, struct blk_wire *w,
		       const struct blk_wire_req *req,
		       const struct blk_read_fs *fs, uint64_t size, int err)
{
	struct blk_read rd = { .fs = *fs };

	read_begin(ctx, &rd, req, err ? 0 : size);
	if (err)
		blk_read_fail(ctx, &rd, err);
	else if (blk_throttle_admit(ctx->throttle, &rd))
		blk_read_send(ctx, w, &rd);
}

void blk_read_fail(struct blk_ctx *ctx, const struct blk_read *rd, int err)
{
	int res;

	/* before the reader can look */
	blk_count_error(&ctx->stats, err);
	if (rd->node)
		blk_count(&rd->node->reads, 1);
	res = rd->sink.ops->error(&rd->sink, rd->unique, err);
	if (res)
		blk_warn("error reply to request %llu refused: %s",
			 (unsigned long long)rd->unique, strerror(-res));
	read_done(ctx, rd, 0, err);
}

/*
 * --on-error=zero, after a read of [pos, pos + len) failed: read it again
 * sector by sector, uncached where the source allows O_DIRECT (a buffered
 * read fails a whole page for one bad sector), and zero only the sectors
 * that still fail.  Each bad run is logged, counted and audited with the
 * errno the read got.
 */
static void log_zeroed(struct blk_ctx *ctx, const struct blk_read *rd,
		       uint64_t start, uint64_t len, int err)
{
	struct blk_audit_who who = { rd->pid, rd->uid, rd->gid };
	char name[300];

	blk_node_path(&ctx->tree, rd->node, name, sizeof(name));
	blk_warn("%s: %s at %s %llu, %llu bytes: filled with zeros",
		 name, strerror(err), offset_word(ctx, rd),
		 (unsigned long long)start, (unsigned long long)len);
	blk_count(&ctx->stats.zeroed_bytes, len);
	blk_audit_io(ctx->audit, NULL, "zeroed", name, start - rd->node->start,
		     len, 0, err, &who);
}

/* One sector at byte sec of l: into bounce; its bytes, or -errno. */
static ssize_t read_sector(struct blk_ctx *ctx, const struct blk_layer *l,
			   void *bounce, uint64_t sec)
{
	unsigned int ssz = l->sector_size;
	int fd = atomic_load(&ctx->src.fd_direct);
	uint64_t bad;
	ssize_t n;
	int err;

	if (l == ctx->src.layer && ctx->src.img)
		/* decoded afresh: a cached block may hold more */
		return blk_source_pread_uncached(&ctx->src, bounce, ssz, sec,
						 &bad);
	if (!on_raw_source(ctx, l)) {
		if (sec >= l->size)
			return 0;
		n = l->size - sec < ssz ? l->size - sec : ssz;
		err = blk_layer_read((struct blk_layer *)l, bounce, n, sec, &bad);
		return err ? err : n;
	}
	do
		n = pread(fd >= 0 ? fd : ctx->src.fd, bounce, ssz, sec);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EINVAL && fd >= 0)	/* not aligned enough */
		n = pread(ctx->src.fd, bounce, ssz, sec);
	return n < 0 ? -errno : n;
}

static void read_zeroing(struct blk_ctx *ctx, const struct blk_read *rd,
			 char *buf, uint64_t pos, size_t len)
{
	const struct blk_layer *l = rd->node->layer;
	unsigned int ssz = l->sector_size;
	size_t page = blk_page_size();
	uint64_t bad_start = 0, bad_len = 0;
	int bad_err = 0;
	void *bounce;

	if (on_raw_source(ctx, l))
		blk_source_open_direct(&ctx->src);	/* best effort */
	if (posix_memalign(&bounce, page, ssz > page ? ssz : page)) {
		memset(buf, 0, len);
		log_zeroed(ctx, rd, pos, len, ENOMEM);
		return;
	}
	for (size_t done = 0; done < len;) {
		uint64_t at = pos + done, sec = at - at % ssz;
		size_t skip = at - sec, chunk = ssz - skip;
		ssize_t n = read_sector(ctx, l, bounce, sec);

		if (chunk > len - done)
			chunk = len - done;
		if (n < 0) {
			if (bad_len && bad_err != -n) {
				log_zeroed(ctx, rd, bad_start, bad_len, bad_err);
				bad_len = 0;
			}
			if (!bad_len)
				bad_start = at, bad_err = -n;
			bad_len += chunk;
			memset(buf + done, 0, chunk);
		} else {
			if (bad_len)
				log_zeroed(ctx, rd, bad_start, bad_len, bad_err);
			bad_len = 0;
			/* A short sector is the end of the source: zeros past it. */
			memset(buf + done, 0, chunk);
			if ((size_t)n > skip)
				memcpy(buf + done, (char *)bounce + skip,
				       (size_t)n - skip < chunk ? (size_t)n - skip : chunk);
		}
		done += chunk;
	}
	if (bad_len)
		log_zeroed(ctx, rd, bad_start, bad_len, bad_err);
	free(bounce);
}

/* A container's corrupt chunk: said and audited at its media offset,
 * which is also its offset in 'disk'. */
static void log_corrupt(struct blk_ctx *ctx, const struct blk_read *rd,
			uint64_t bad, int err)
{
	struct blk_audit_who who = { rd->pid, rd->uid, rd->gid };

	blk_warn("%s: %s: %s in the chunk at media offset %llu",
		 ctx->src.given, rd->node->name, strerror(err),
		 (unsigned long long)bad);
	blk_audit_io(ctx->audit, NULL, "corrupt", "disk", bad, 0, 0, err,
		     &who);
}

/* One pread of the source, or the node's layer, or of a file inside
 * through libtsk (which says its own errors): bytes, or -errno. */
static ssize_t read_some(struct blk_ctx *ctx, const struct blk_read *rd,
			 int fd, void *buf, size_t len, uint64_t pos)
{
	struct blk_layer *l;
	uint64_t bad;
	ssize_t n;
	int err;

	if (!rd->node)
		return blk_fsvol_read(rd->fs.v, rd->fs.id, buf, len, pos);
	l = rd->node->layer;
	if (on_raw_source(ctx, l)) {
		n = pread(fd, buf, len, pos);
		return n < 0 ? -errno : n;
	}
	if (l == ctx->src.layer) {
		n = blk_source_pread(&ctx->src, buf, len, pos, &bad);
	} else {
		if (pos >= l->size)
			return 0;
		n = l->size - pos < len ? l->size - pos : len;
		err = blk_layer_read(l, buf, n, pos, &bad);
		n = err ? err : n;
	}
	/* a container's chunk; a volume's failure is told by the caller */
	if (n < 0 && n != -ENOMEM && l == ctx->src.layer)
		log_corrupt(ctx, rd, bad, -n);
	return n;
}

static void read_short(struct blk_ctx *ctx, const struct blk_read *rd,
		       uint64_t at)
{
	char name[1200];

	if (rd->node) {
		blk_warn("%s: the source ends at byte %llu, inside the file; it shrank or went away",
			 rd->node->name, (unsigned long long)at);
		return;
	}
	read_name(ctx, rd, name, sizeof(name));
	blk_warn("%s: ends at byte %llu, inside its size (EIO)", name,
		 (unsigned long long)at);
}

/* pread the range into buf: bytes read, or -errno. */
static ssize_t read_copy(struct blk_ctx *ctx, const struct read_policy *p,
			 const struct blk_read *rd, uint64_t pos, char *buf)
{
	size_t got = 0;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	while (got < rd->len) {
		n = read_some(ctx, rd, p->fd, buf + got, rd->len - got,
			      pos + got);
		if (n == -EINTR)
			continue;
		if (n < 0 && p->zero_on_error) {
			read_zeroing(ctx, rd, buf + got, pos + got,
				     rd->len - got);
			return rd->len;
		}
		if (n < 0)
			return n;
		if (n == 0) {
			/* The file's size is a promise: an end before it is an
			 * error (a device that went away reads as empty). */
			read_short(ctx, rd, pos + got);
			return -EIO;
		}
		got += n;
	}
	return got;
}

/* The pieces of the range in the files under the node's layer: how many,
 * or 0 when more than MAX_PIECES are in the way (or an error).  Pieces
 * of the source's own descriptor go through the policy's (O_DIRECT). */
static unsigned int map_pieces(const struct blk_ctx *ctx,
			       const struct read_policy *p,
			       const struct blk_layer *l, uint64_t pos,
			       size_t len, struct blk_wire_piece *pc)
{
	unsigned int n = 0;

	while (len) {
		struct blk_extent e;

		if (n == MAX_PIECES || blk_layer_map(l, pos, &e) || !e.len)
			return 0;
		if (e.len > len)
			e.len = len;
		if (e.fd == ctx->src.fd)
			e.fd = p->fd;
		pc[n++] = (struct blk_wire_piece){ e.fd, e.off, e.len };
		pos += e.len, len -= e.len;
	}
	return n;
}

/* The pieces of a file inside: where its file system's runs lie in
 * files (core/fs/); 0 when any byte must be read through libtsk. */
static unsigned int map_fs_pieces(const struct blk_read *rd,
				  struct blk_wire_piece *pc)
{
	struct blk_extent ext[MAX_PIECES];
	int n = blk_fsvol_map(rd->fs.v, rd->fs.id, rd->off, rd->len, ext,
			      MAX_PIECES);

	for (int i = 0; i < n; i++)
		pc[i] = (struct blk_wire_piece){ ext[i].fd, ext[i].off,
						 ext[i].len };
	return n > 0 ? n : 0;
}

static int splice_reply(struct blk_ctx *ctx, struct blk_wire *w,
			struct read_policy *p, const struct blk_read *rd,
			uint64_t pos)
{
	struct blk_wire_piece pc[MAX_PIECES];
	unsigned int n = rd->node ?
		map_pieces(ctx, p, rd->node->layer, pos, rd->len, pc) :
		map_fs_pieces(rd, pc);

	if (!n) {
		/* a file inside: resident, compressed, sparse, deleted, or
		 * in a decoding layer */
		p->why = rd->node ? BLK_FB_SEGMENTS : BLK_FB_DECODE;
		return -EAGAIN;
	}
	return rd->sink.ops->splice(&rd->sink, w, pc, n, rd->unique, &p->why);
}

/*
 * The copy path: the range read into the sink's buffer, then sent (on
 * /dev/fuse the wire's buffer; through io_uring the entry's payload, which
 * the kernel copies from).
 */
static void send_copied(struct blk_ctx *ctx, struct blk_wire *w,
			const struct blk_read *rd, const struct read_policy *p,
			uint64_t pos)
{
	size_t cap = rd->len;
	char *buf = rd->sink.ops->buffer(&rd->sink, w, rd->len, &cap);
	ssize_t got = 0;
	int err;

	if (rd->len)
		got = rd->len <= cap ? read_copy(ctx, p, rd, pos, buf) : -EIO;
	if (got < 0) {
		if (rd->node) {	/* a file inside: said by core/fs/ */
			char name[300];

			blk_node_path(&ctx->tree, rd->node, name, sizeof(name));
			blk_warn("%s: read of %u bytes at %s %llu: %s", name,
				 rd->len, offset_word(ctx, rd),
				 (unsigned long long)pos, strerror(-got));
		}
		blk_read_fail(ctx, rd, -got);
		return;
	}
	count_reply(ctx, rd, got, false, 1);
	err = rd->sink.ops->send(&rd->sink, w, rd->unique, got);
	if (err) {
		/* A reply the kernel refused leaves the reader waiting
		 * forever: answer with an error instead. */
		blk_warn("reply to request %llu refused: %s",
			 (unsigned long long)rd->unique, strerror(-err));
		count_reply(ctx, rd, got, false, -1);
		blk_read_fail(ctx, rd, EIO);
		return;
	}
	read_done(ctx, rd, got, 0);
}

void blk_read_send(struct blk_ctx *ctx, struct blk_wire *w,
		   const struct blk_read *rd)
{
	struct blk_layer *l = rd->node ? rd->node->layer : NULL;
	uint64_t pos = rd->node ? rd->node->start + rd->off : rd->off;
	struct read_policy p = choose(ctx, rd, l, pos, rd->len);
	bool can_splice = rd->sink.ops->splice != NULL;

	/* O_DIRECT has no cache to fill; a container's reads are its own */
	if (rd->node && p.fd == ctx->src.fd && on_raw_source(ctx, l))
		blk_ra_read(ctx, rd->node, p.fd, rd->off, rd->len);
	/* a transport without splice copies: counted as copied, not as
	 * a fallback */
	if (can_splice && rd->len && p.splice) {
		blk_wire_tune_pipe(w, atomic_load_explicit(&ctx->tun.pipe_size,
							   memory_order_relaxed));
		count_reply(ctx, rd, rd->len, true, 1);
		if (splice_reply(ctx, w, &p, rd, pos) == 0) {
			read_done(ctx, rd, rd->len, 0);
			return;
		}
		count_reply(ctx, rd, rd->len, true, -1);
	}
	if (can_splice && rd->len)
		blk_count(&ctx->stats.fallback[p.why], 1);
	send_copied(ctx, w, rd, &p, pos);
}

/* The throttle's thread sends or ends the reads it parked. */
static void release_parked(void *data, struct blk_wire *w,
			   const struct blk_read *rd, int err)
{
	struct blk_ctx *ctx = data;

	if (err)
		blk_read_fail(ctx, rd, err);
	else
		blk_read_send(ctx, w, rd);
}

int blk_read_throttle_new(struct blk_ctx *ctx)
{
	return blk_throttle_new(&ctx->throttle, release_parked, ctx);
}
