// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a read of the control channel returns: a snapshot taken at open,
 * every tunable then every statistic, one "key value" per line, then EOF.
 * Each open has its own cursor: a CUSE device has no file position, and
 * cat must end.  Also the stats ioctl and reset.
 */
#include <errno.h>
#include <linux/fuse.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/tunables.h"
#include "forensic/audit.h"
#include "ctx.h"
#include "base/log.h"
#include "read/throttle.h"
#include "base/util.h"

struct blk_ctl_handle {
	char *text;
	size_t len, pos;
	pthread_mutex_t lock;	/* pos: two threads may read one open file */
	struct blk_ctl *ctl;	/* on its list of open handles */
	struct blk_ctl_handle *prev, *next;
	bool may_write;		/* set/reset allowed: see blk_ctl_reply_open */
};

static uint64_t ld(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

void blk_ctl_get_stats(struct blk_ctx *ctx, struct blkfuse_stats *s,
		       bool on_mount)
{
	struct blk_stats *st = &ctx->stats;
	int64_t waiting = blk_ctl_waiting(ctx);

	memset(s, 0, sizeof(*s));
	s->version = BLKFUSE_ABI_VERSION;
	s->size = sizeof(*s);
	s->uptime_ms = (blk_mono_ns() - st->started_ns) / 1000000;
	s->read_bytes = ld(&st->read_bytes);
	s->spliced_bytes = ld(&st->spliced_bytes);
	s->copied_bytes = ld(&st->copied_bytes);
	s->spliced_reqs = ld(&st->spliced_reqs);
	s->copied_reqs = ld(&st->copied_reqs);
	for (int i = 0; i < BLK_FB_NR && i < BLKFUSE_FALLBACKS; i++)
		s->fallback[i] = ld(&st->fallback[i]);
	if (ctx->src.img) {
		s->decoded_bytes = ld(&ctx->src.img->decoded_bytes);
		s->cache_hits = ld(&ctx->src.img->cache_hits);
		s->cache_misses = ld(&ctx->src.img->cache_misses);
	}
	s->req_read = ld(&st->ops[FUSE_READ]);
	s->req_open = ld(&st->ops[FUSE_OPEN]);
	s->req_lookup = ld(&st->ops[FUSE_LOOKUP]);
	s->req_getattr = ld(&st->ops[FUSE_GETATTR]);
	for (int i = 0; i < BLK_OPS_MAX; i++)
		s->req_total += ld(&st->ops[i]);
	for (int i = 1; i < BLK_ERRNO_MAX; i++)
		s->errors += ld(&st->errors[i]);
	s->errors_eio = ld(&st->errors[EIO]);
	s->inflight = atomic_load(&st->inflight);
	s->inflight_peak = atomic_load(&st->inflight_peak);
	for (int i = 0; i < BLK_LAT_BUCKETS; i++)
		s->lat_us[i] = ld(&st->lat[i]);
	s->threads = atomic_load(&st->threads);
	s->ra_bytes = ld(&st->ra_bytes);
	s->ra_hits = ld(&st->ra_hits);
	/* Not the request asking: it is being answered, not waiting. */
	if (waiting > 0 && on_mount)
		waiting--;
	s->waiting = waiting > 0 ? waiting : 0;
}

void blk_ctl_reset_stats(struct blk_ctx *ctx)
{
	struct blk_stats *st = &ctx->stats;

	/* Counter by counter: readers may be counting at the same time. */
	for (int i = 0; i < BLK_OPS_MAX; i++)
		atomic_store(&st->ops[i], 0);
	atomic_store(&st->read_bytes, 0);
	atomic_store(&st->spliced_bytes, 0);
	atomic_store(&st->spliced_reqs, 0);
	atomic_store(&st->copied_bytes, 0);
	atomic_store(&st->copied_reqs, 0);
	for (int i = 0; i < BLK_FB_NR; i++)
		atomic_store(&st->fallback[i], 0);
	for (int i = 0; i < BLK_ERRNO_MAX; i++)
		atomic_store(&st->errors[i], 0);
	if (ctx->src.img) {
		atomic_store(&ctx->src.img->decoded_bytes, 0);
		atomic_store(&ctx->src.img->cache_hits, 0);
		atomic_store(&ctx->src.img->cache_misses, 0);
	}
	atomic_store(&st->inflight_peak, atomic_load(&st->inflight));
	for (int i = 0; i < BLK_LAT_BUCKETS; i++)
		atomic_store(&st->lat[i], 0);
	for (size_t i = 0; i < ctx->tree.count; i++) {
		atomic_store(&ctx->tree.nodes[i].reads, 0);
		atomic_store(&ctx->tree.nodes[i].bytes, 0);
	}
}

/* ---- the text snapshot -------------------------------------------------- */

struct sbuf {
	char *buf;
	size_t len, cap;
	bool failed;
};

__attribute__((format(printf, 2, 3)))
static void put(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *nb;
	int n;

	while (!b->failed) {
		va_start(ap, fmt);
		n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			break;
		if (b->len + n < b->cap) {
			b->len += n;
			return;
		}
		nb = realloc(b->buf, b->cap * 2 + n);
		if (!nb)
			break;
		b->buf = nb;
		b->cap = b->cap * 2 + n;
	}
	b->failed = true;
}

static const char *const op_names[BLK_OPS_MAX] = {
	[FUSE_LOOKUP] = "lookup", [FUSE_FORGET] = "forget",
	[FUSE_GETATTR] = "getattr", [FUSE_SETATTR] = "setattr",
	[FUSE_READLINK] = "readlink", [FUSE_OPEN] = "open",
	[FUSE_READ] = "read", [FUSE_WRITE] = "write",
	[FUSE_STATFS] = "statfs", [FUSE_RELEASE] = "release",
	[FUSE_GETXATTR] = "getxattr", [FUSE_LISTXATTR] = "listxattr",
	[FUSE_FLUSH] = "flush", [FUSE_INIT] = "init",
	[FUSE_OPENDIR] = "opendir", [FUSE_READDIR] = "readdir",
	[FUSE_RELEASEDIR] = "releasedir", [FUSE_ACCESS] = "access",
	[FUSE_CREATE] = "create", [FUSE_INTERRUPT] = "interrupt",
	[FUSE_IOCTL] = "ioctl", [FUSE_POLL] = "poll",
	[FUSE_BATCH_FORGET] = "batch_forget", [FUSE_READDIRPLUS] = "readdirplus",
	[FUSE_LSEEK] = "lseek",
};

static void render_tunables(struct blk_ctx *ctx, struct sbuf *b)
{
	struct blkfuse_tunables t;
	char last_error[256];

	blk_ctl_snapshot_tunables(ctx, &t, last_error, sizeof(last_error));
	for (unsigned int i = 0; i < blk_ntunables; i++) {
		char line[128];

		blk_tunable_format(&blk_tunables[i], &t, line, sizeof(line));
		put(b, "%s\n", line);
	}
	/* fixed at mount: the largest read, what serves the requests */
	put(b, "max_reply %u\n", t.max_reply);
	put(b, "transport %s\n", atomic_load(&ctx->on_ring) ? "uring" : "dev");
	put(b, "uring_queues %u\n", atomic_load(&ctx->uring_queues));
	put(b, "clone_fd %u\n", ctx->clone_fd);
	put(b, "last_error %s\n", last_error);
}

static void render_counters(struct blk_ctx *ctx, struct sbuf *b,
			    const struct blkfuse_stats *s)
{
	struct blk_stats *st = &ctx->stats;

	for (int i = 0; i < BLK_FB_NR; i++)
		put(b, "fallback.%s %llu\n", blk_fallback_name(i),
		    (unsigned long long)s->fallback[i]);
	put(b, "decoded_bytes %llu\n", (unsigned long long)s->decoded_bytes);
	put(b, "cache_hits %llu\n", (unsigned long long)s->cache_hits);
	put(b, "cache_misses %llu\n", (unsigned long long)s->cache_misses);
	put(b, "inflight %lld\n", (long long)s->inflight);
	put(b, "inflight_peak %lld\n", (long long)s->inflight_peak);
	put(b, "parked %u\n", blk_throttle_parked(ctx->throttle));
	put(b, "ra_bytes %llu\n", (unsigned long long)s->ra_bytes);
	put(b, "ra_hits %llu\n", (unsigned long long)s->ra_hits);
	put(b, "zeroed_bytes %llu\n",
	    (unsigned long long)ld(&st->zeroed_bytes));
	if (ctx->audit)
		put(b, "audit_lost %llu\n",
		    (unsigned long long)blk_audit_lost(ctx->audit));
	put(b, "lat_p50_us %llu\n", (unsigned long long)
	    blk_percentile(s->lat_us, NULL, BLK_LAT_BUCKETS, 0.50));
	put(b, "lat_p99_us %llu\n", (unsigned long long)
	    blk_percentile(s->lat_us, NULL, BLK_LAT_BUCKETS, 0.99));
	for (int i = 0; i < BLK_LAT_BUCKETS; i++)
		if (s->lat_us[i])
			put(b, "lat_lt_%lluus %llu\n", 1ull << i,
			    (unsigned long long)s->lat_us[i]);
	for (int i = 0; i < BLK_OPS_MAX; i++)
		if (ld(&st->ops[i]))
			put(b, "req.%s %llu\n", op_names[i] ? op_names[i] : "other",
			    (unsigned long long)ld(&st->ops[i]));
	for (int i = 1; i < BLK_ERRNO_MAX; i++)
		if (ld(&st->errors[i]))
			put(b, "errors.%s %llu\n", strerrorname_np(i) ?: "other",
			    (unsigned long long)ld(&st->errors[i]));
}

static void render_files(struct blk_ctx *ctx, struct sbuf *b)
{
	char name[300];

	for (size_t i = 0; i < ctx->tree.count; i++) {
		struct blk_node *n = &ctx->tree.nodes[i];

		if (n->kind != BLK_NODE_DATA)
			continue;
		blk_node_path(&ctx->tree, n, name, sizeof(name));
		put(b, "file.%s.reads %llu\n", name,
		    (unsigned long long)ld(&n->reads));
		put(b, "file.%s.bytes %llu\n", name,
		    (unsigned long long)ld(&n->bytes));
	}
}

/* "-", "pending", "running 41%", then the result ("sha256:... matches"). */
static void render_verify_after(struct blk_ctx *ctx, struct sbuf *b)
{
	uint64_t done = ld(&ctx->verify_after_done);

	switch (atomic_load(&ctx->verify_after)) {
	case BLK_VA_PENDING:
		put(b, "verify_after pending\n");
		break;
	case BLK_VA_RUNNING:
		put(b, "verify_after running %llu%%\n", (unsigned long long)
		    (ctx->src.size ? done * 100 / ctx->src.size : 100));
		break;
	case BLK_VA_DONE:
		put(b, "verify_after %s\n", ctx->verify_after_result);
		break;
	default:
		put(b, "verify_after -\n");
	}
}

static void render(struct blk_ctx *ctx, struct sbuf *b, bool on_mount)
{
	struct blkfuse_stats s;

	render_tunables(ctx, b);
	blk_ctl_get_stats(ctx, &s, on_mount);
	put(b, "pid %d\n", (int)getpid());
	render_verify_after(ctx, b);
	put(b, "uptime_s %.3f\n", s.uptime_ms / 1000.0);
	put(b, "threads %u\n", s.threads);
	put(b, "waiting %u\n", s.waiting);
	put(b, "read_bytes %llu\n", (unsigned long long)s.read_bytes);
	put(b, "spliced_bytes %llu\n", (unsigned long long)s.spliced_bytes);
	put(b, "copied_bytes %llu\n", (unsigned long long)s.copied_bytes);
	put(b, "spliced_reqs %llu\n", (unsigned long long)s.spliced_reqs);
	put(b, "copied_reqs %llu\n", (unsigned long long)s.copied_reqs);
	render_counters(ctx, b, &s);
	render_files(ctx, b);
}

void blk_ctl_set_may_write(struct blk_ctl_handle *h, bool may_write)
{
	h->may_write = may_write;
}

bool blk_ctl_may_write(const struct blk_ctl_handle *h)
{
	return h->may_write;
}

struct blk_ctl_handle *blk_ctl_open(struct blk_ctx *ctx, bool on_mount)
{
	struct blk_ctl_handle *h = calloc(1, sizeof(*h));
	struct sbuf b = { .cap = 4096 };

	if (!h)
		return NULL;
	b.buf = malloc(b.cap);
	if (!b.buf) {
		free(h);
		return NULL;
	}
	b.buf[0] = '\0';
	render(ctx, &b, on_mount);
	if (b.failed) {
		free(b.buf);
		free(h);
		return NULL;
	}
	h->text = b.buf;
	h->len = b.len;
	pthread_mutex_init(&h->lock, NULL);
	h->ctl = ctx->ctl;
	pthread_mutex_lock(&h->ctl->handles_lock);
	h->next = h->ctl->handles;
	if (h->next)
		h->next->prev = h;
	h->ctl->handles = h;
	pthread_mutex_unlock(&h->ctl->handles_lock);
	return h;
}

size_t blk_ctl_read(struct blk_ctl_handle *h, size_t size, const char **data)
{
	size_t n;

	pthread_mutex_lock(&h->lock);
	n = h->len - h->pos < size ? h->len - h->pos : size;
	*data = h->text + h->pos;
	h->pos += n;
	pthread_mutex_unlock(&h->lock);
	return n;
}

void blk_ctl_release(struct blk_ctl_handle *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->ctl->handles_lock);
	if (h->prev)
		h->prev->next = h->next;
	else
		h->ctl->handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&h->ctl->handles_lock);
	pthread_mutex_destroy(&h->lock);
	free(h->text);
	free(h);
}
