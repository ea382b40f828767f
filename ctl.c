// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control protocol, one module for both transports (the CUSE node in
 * cuse_ctl.c and MOUNTPOINT/.blkfuse-ctl in fs_ops.c):
 *
 *   read   a snapshot taken at open: every tunable, then every statistic,
 *          one "key value" per line, then EOF (a per-open cursor: a CUSE
 *          device has no file position, and cat must end);
 *   write  "key=value ..." sets tunables, all or nothing: one unknown key or
 *          bad value fails the whole write with EINVAL (see last_error);
 *   ioctl  the fixed-size structs of include/blkfuse_ioctl.h.
 *
 * Tunables that live in the kernel (readahead_kb through the mount's bdi,
 * max_background and congestion_threshold through fusectl) are read from
 * and written to sysfs, so what is shown is what the kernel has.
 */
#include <ctype.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "blkfuse.h"
#include "blkfuse_ioctl.h"

#define FUSECTL_DIR "/sys/fs/fuse/connections"

struct blk_ctl_handle {
	char *text;
	size_t len, pos;
};

/* ---- sysfs ---------------------------------------------------------------- */

static int sysfs_read_u32(const char *path, uint32_t *val)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%u", val) == 1;
	fclose(f);
	return ok ? 0 : -EIO;
}

static int sysfs_write_u32(const char *path, uint32_t val)
{
	char buf[16];
	int fd, len, res = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%u", val);
	if (write(fd, buf, len) != len)
		res = -errno;
	close(fd);
	return res;
}

static void bdi_path(const struct blk_ctx *ctx, char *buf, size_t len)
{
	snprintf(buf, len, "/sys/class/bdi/%s/read_ahead_kb", ctx->conn_dev);
}

/* fusectl names a connection by the minor number of the mount's device. */
static void fusectl_path(const struct blk_ctx *ctx, const char *file,
			 char *buf, size_t len)
{
	const char *minor = strchr(ctx->conn_dev, ':');

	snprintf(buf, len, FUSECTL_DIR "/%s/%s", minor ? minor + 1 : "?", file);
}

static void ensure_fusectl(void)
{
	struct stat st;

	if (stat(FUSECTL_DIR "/", &st) == 0 && st.st_nlink > 2)
		return;	/* mounted: it has a directory per connection */
	if (mount("fusectl", FUSECTL_DIR, "fusectl", 0, NULL) < 0 &&
	    errno != EBUSY)
		blk_warn("cannot mount fusectl on " FUSECTL_DIR ": %s",
			 strerror(errno));
}

static uint32_t fusectl_get(const struct blk_ctx *ctx, const char *file)
{
	char path[128];
	uint32_t val = 0;

	fusectl_path(ctx, file, path, sizeof(path));
	sysfs_read_u32(path, &val);
	return val;
}

/* ---- tunables --------------------------------------------------------------- */

static void get_tunables(struct blk_ctx *ctx, struct blkfuse_tunables *t)
{
	char path[128];

	memset(t, 0, sizeof(*t));
	t->version = BLKFUSE_ABI_VERSION;
	t->size = sizeof(*t);
	t->splice = atomic_load(&ctx->tun.splice);
	t->pipe_size = atomic_load(&ctx->tun.pipe_size);
	t->max_reply = ctx->max_reply;
	bdi_path(ctx, path, sizeof(path));
	sysfs_read_u32(path, &t->readahead_kb);
	t->source_io = atomic_load(&ctx->tun.source_direct) ?
		       BLKFUSE_IO_DIRECT : BLKFUSE_IO_BUFFERED;
	t->rate_limit = atomic_load(&ctx->tun.rate_limit);
	t->pause = atomic_load(&ctx->tun.pause);
	t->log_level = atomic_load(&blk_log_level);
	t->max_background = fusectl_get(ctx, "max_background");
	t->congestion_threshold = fusectl_get(ctx, "congestion_threshold");
}

static int fail(struct blk_ctx *ctx, const char *fmt, const char *what)
{
	snprintf(ctx->last_error, sizeof(ctx->last_error), fmt, what);
	blk_notice("control: %s", ctx->last_error);
	return -EINVAL;
}

/* Apply t's fields named in set_mask; called with ctl_lock held. */
static int set_tunables(struct blk_ctx *ctx, const struct blkfuse_tunables *t)
{
	uint32_t m = t->set_mask;
	char path[128];
	int err;

	if (m & ~0x1ffu)
		return fail(ctx, "%s", "unknown bits in set_mask");
	/* Validate everything before changing anything. */
	if ((m & BLKFUSE_T_SPLICE) && t->splice > 1)
		return fail(ctx, "%s", "splice must be 0 or 1");
	if ((m & BLKFUSE_T_PIPE_SIZE) && t->pipe_size &&
	    (t->pipe_size < 4096 || t->pipe_size > (1u << 30)))
		return fail(ctx, "%s", "pipe_size must be 0 or 4096..1G");
	if ((m & BLKFUSE_T_READAHEAD_KB) && t->readahead_kb > 1048576)
		return fail(ctx, "%s", "readahead_kb must be 0..1048576");
	if ((m & BLKFUSE_T_SOURCE_IO) && t->source_io > BLKFUSE_IO_DIRECT)
		return fail(ctx, "%s", "source_io must be buffered or direct");
	if ((m & BLKFUSE_T_PAUSE) && t->pause > 1)
		return fail(ctx, "%s", "pause must be 0 or 1");
	if ((m & BLKFUSE_T_LOG_LEVEL) && (t->log_level < 3 || t->log_level > 7))
		return fail(ctx, "%s", "log_level must be err, warn, notice, info or debug (3..7)");
	if ((m & BLKFUSE_T_MAX_BACKGROUND) &&
	    (t->max_background < 1 || t->max_background > 65535))
		return fail(ctx, "%s", "max_background must be 1..65535");
	if ((m & BLKFUSE_T_CONGESTION_THRESHOLD) &&
	    (t->congestion_threshold < 1 || t->congestion_threshold > 65535))
		return fail(ctx, "%s", "congestion_threshold must be 1..65535");

	/* Those that can fail first, so a failure changes nothing of ours. */
	if (m & BLKFUSE_T_SOURCE_IO && t->source_io == BLKFUSE_IO_DIRECT) {
		err = blk_source_open_direct(&ctx->src);
		if (err)
			return fail(ctx, "source_io=direct: %s", strerror(-err));
	}
	if (m & BLKFUSE_T_READAHEAD_KB) {
		bdi_path(ctx, path, sizeof(path));
		err = sysfs_write_u32(path, t->readahead_kb);
		if (err)
			return fail(ctx, "readahead_kb: %s", strerror(-err));
	}
	if (m & (BLKFUSE_T_MAX_BACKGROUND | BLKFUSE_T_CONGESTION_THRESHOLD))
		ensure_fusectl();
	if (m & BLKFUSE_T_MAX_BACKGROUND) {
		fusectl_path(ctx, "max_background", path, sizeof(path));
		err = sysfs_write_u32(path, t->max_background);
		if (err)
			return fail(ctx, "max_background: %s", strerror(-err));
	}
	if (m & BLKFUSE_T_CONGESTION_THRESHOLD) {
		fusectl_path(ctx, "congestion_threshold", path, sizeof(path));
		err = sysfs_write_u32(path, t->congestion_threshold);
		if (err)
			return fail(ctx, "congestion_threshold: %s",
				    strerror(-err));
	}
	if (m & BLKFUSE_T_SOURCE_IO)
		atomic_store(&ctx->tun.source_direct,
			     t->source_io == BLKFUSE_IO_DIRECT);
	if (m & BLKFUSE_T_SPLICE)
		atomic_store(&ctx->tun.splice, t->splice);
	if (m & BLKFUSE_T_PIPE_SIZE)
		atomic_store(&ctx->tun.pipe_size, t->pipe_size);
	if (m & BLKFUSE_T_RATE_LIMIT)
		atomic_store(&ctx->tun.rate_limit, t->rate_limit);
	if (m & BLKFUSE_T_LOG_LEVEL)
		atomic_store(&blk_log_level, t->log_level);
	if (m & BLKFUSE_T_PAUSE) {
		pthread_mutex_lock(&ctx->throttle_lock);
		atomic_store(&ctx->tun.pause, t->pause);
		pthread_cond_broadcast(&ctx->throttle_cond);
		pthread_mutex_unlock(&ctx->throttle_lock);
	}
	snprintf(ctx->last_error, sizeof(ctx->last_error), "-");
	return 0;
}

/* ---- text: key=value parsing -------------------------------------------- */

static const char *const level_names[] = {
	[3] = "err", [4] = "warn", [5] = "notice", [6] = "info", [7] = "debug",
};

/* A number with an optional k/m/g (powers of 1024) suffix. */
static int parse_size(const char *s, uint64_t *val)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (tolower((unsigned char)*end)) {
	case 'k': v <<= 10; end++; break;
	case 'm': v <<= 20; end++; break;
	case 'g': v <<= 30; end++; break;
	}
	if (*end)
		return -1;
	*val = v;
	return 0;
}

static int parse_bool(const char *s, uint32_t *val)
{
	if (!strcmp(s, "1") || !strcmp(s, "on") || !strcmp(s, "yes"))
		*val = 1;
	else if (!strcmp(s, "0") || !strcmp(s, "off") || !strcmp(s, "no"))
		*val = 0;
	else
		return -1;
	return 0;
}

static int parse_u32(const char *s, uint32_t *val)
{
	uint64_t v;

	if (parse_size(s, &v) || v > UINT32_MAX)
		return -1;
	*val = v;
	return 0;
}

static int parse_level(const char *s, uint32_t *val)
{
	for (uint32_t i = 3; i <= 7; i++)
		if (!strcmp(s, level_names[i])) {
			*val = i;
			return 0;
		}
	return parse_u32(s, val);
}

/* One "key=value" into t; returns 0, or -EINVAL with last_error set. */
static int parse_pair(struct blk_ctx *ctx, char *pair,
		      struct blkfuse_tunables *t, bool *abort)
{
	char *val = strchr(pair, '=');
	int bad;

	if (!val)
		return fail(ctx, "'%s': expected key=value", pair);
	*val++ = '\0';
	if (!strcmp(pair, "splice")) {
		bad = parse_bool(val, &t->splice);
		t->set_mask |= BLKFUSE_T_SPLICE;
	} else if (!strcmp(pair, "pipe_size")) {
		bad = parse_u32(val, &t->pipe_size);
		t->set_mask |= BLKFUSE_T_PIPE_SIZE;
	} else if (!strcmp(pair, "readahead_kb")) {
		bad = parse_u32(val, &t->readahead_kb);
		t->set_mask |= BLKFUSE_T_READAHEAD_KB;
	} else if (!strcmp(pair, "source_io")) {
		bad = strcmp(val, "direct") && strcmp(val, "buffered");
		t->source_io = strcmp(val, "direct") ? BLKFUSE_IO_BUFFERED :
						       BLKFUSE_IO_DIRECT;
		t->set_mask |= BLKFUSE_T_SOURCE_IO;
	} else if (!strcmp(pair, "rate_limit")) {
		bad = parse_size(val, &t->rate_limit);
		t->set_mask |= BLKFUSE_T_RATE_LIMIT;
	} else if (!strcmp(pair, "pause")) {
		bad = parse_bool(val, &t->pause);
		t->set_mask |= BLKFUSE_T_PAUSE;
	} else if (!strcmp(pair, "log_level")) {
		bad = parse_level(val, &t->log_level);
		t->set_mask |= BLKFUSE_T_LOG_LEVEL;
	} else if (!strcmp(pair, "max_background")) {
		bad = parse_u32(val, &t->max_background);
		t->set_mask |= BLKFUSE_T_MAX_BACKGROUND;
	} else if (!strcmp(pair, "congestion_threshold")) {
		bad = parse_u32(val, &t->congestion_threshold);
		t->set_mask |= BLKFUSE_T_CONGESTION_THRESHOLD;
	} else if (!strcmp(pair, "abort")) {
		uint32_t yes = 0;

		bad = parse_bool(val, &yes) || !yes;
		*abort = !bad;
	} else if (!strcmp(pair, "max_reply")) {
		return fail(ctx, "%s", "max_reply is fixed at mount (-o max_reply=)");
	} else {
		return fail(ctx, "unknown key '%s'", pair);
	}
	if (bad) {
		val[-1] = '=';
		return fail(ctx, "bad value in '%s'", pair);
	}
	return 0;
}

/*
 * End the FUSE connection: readers get ENOTCONN, the daemon exits 0.  The
 * main thread does it (SIGUSR2), so that this request's own reply still
 * reaches the caller first.
 */
static int do_abort(struct blk_ctx *ctx)
{
	blk_warn("control: abort requested; ending the connection");
	atomic_store(&ctx->aborted, true);
	kill(getpid(), SIGUSR2);
	return 0;
}

void blk_ctl_abort_now(struct blk_ctx *ctx)
{
	char path[128];
	int err;

	ensure_fusectl();
	fusectl_path(ctx, "abort", path, sizeof(path));
	err = sysfs_write_u32(path, 1);
	if (err)
		blk_err("abort: %s: %s", path, strerror(-err));
}

int blk_ctl_write(struct blk_ctx *ctx, const char *buf, size_t len)
{
	struct blkfuse_tunables t = { .version = BLKFUSE_ABI_VERSION };
	char *copy, *tok, *save = NULL;
	bool abort = false;
	int err = 0;

	copy = strndup(buf, len);
	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&ctx->ctl_lock);
	for (tok = strtok_r(copy, " \t\r\n,", &save); tok && !err;
	     tok = strtok_r(NULL, " \t\r\n,", &save))
		err = parse_pair(ctx, tok, &t, &abort);
	if (!err && t.set_mask)
		err = set_tunables(ctx, &t);
	if (!err && abort)
		err = do_abort(ctx);
	pthread_mutex_unlock(&ctx->ctl_lock);
	free(copy);
	return err;
}

/* ---- statistics ------------------------------------------------------------- */

static uint64_t ld(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static uint64_t uptime_ms(const struct blk_ctx *ctx)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - ctx->stats.started.tv_sec) * 1000 +
	       (now.tv_nsec - ctx->stats.started.tv_nsec) / 1000000;
}

static void get_stats(struct blk_ctx *ctx, struct blkfuse_stats *s)
{
	struct blk_stats *st = &ctx->stats;

	memset(s, 0, sizeof(*s));
	s->version = BLKFUSE_ABI_VERSION;
	s->size = sizeof(*s);
	s->uptime_ms = uptime_ms(ctx);
	s->read_bytes = ld(&st->read_bytes);
	s->spliced_bytes = ld(&st->spliced_bytes);
	s->copied_bytes = ld(&st->copied_bytes);
	s->spliced_reqs = ld(&st->spliced_reqs);
	s->copied_reqs = ld(&st->copied_reqs);
	for (int i = 0; i < BLK_FB_NR && i < BLKFUSE_FALLBACKS; i++)
		s->fallback[i] = ld(&st->fallback[i]);
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
	s->waiting = fusectl_get(ctx, "waiting");
}

static void reset_stats(struct blk_ctx *ctx)
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
	atomic_store(&st->inflight_peak, atomic_load(&st->inflight));
	for (int i = 0; i < BLK_LAT_BUCKETS; i++)
		atomic_store(&st->lat[i], 0);
	for (size_t i = 0; i < ctx->tree.count; i++) {
		atomic_store(&ctx->tree.nodes[i].reads, 0);
		atomic_store(&ctx->tree.nodes[i].bytes, 0);
	}
}

/* Upper bound (us) of the bucket holding the p-th fraction of reads. */
static uint64_t percentile(const uint64_t *lat, double p)
{
	uint64_t total = 0, seen = 0;

	for (int i = 0; i < BLK_LAT_BUCKETS; i++)
		total += lat[i];
	if (!total)
		return 0;
	for (int i = 0; i < BLK_LAT_BUCKETS; i++) {
		seen += lat[i];
		if (seen >= p * total)
			return 1ull << i;
	}
	return 1ull << (BLK_LAT_BUCKETS - 1);
}

/* ---- the text snapshot -------------------------------------------------------- */

struct sbuf {
	char *buf;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3)))
static void put(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->len + n < b->cap) {
			b->len += n;
			return;
		}
		char *nb = realloc(b->buf, b->cap * 2 + n);

		if (!nb)
			return;
		b->buf = nb;
		b->cap = b->cap * 2 + n;
	}
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

static void render(struct blk_ctx *ctx, struct sbuf *b)
{
	struct blkfuse_tunables t;
	struct blkfuse_stats s;
	struct blk_stats *st = &ctx->stats;

	pthread_mutex_lock(&ctx->ctl_lock);
	get_tunables(ctx, &t);
	put(b, "splice %u\n", t.splice);
	put(b, "pipe_size %u\n", t.pipe_size);
	put(b, "max_reply %u\n", t.max_reply);
	put(b, "readahead_kb %u\n", t.readahead_kb);
	put(b, "source_io %s\n", t.source_io ? "direct" : "buffered");
	put(b, "rate_limit %llu\n", (unsigned long long)t.rate_limit);
	put(b, "pause %u\n", t.pause);
	put(b, "log_level %s\n", level_names[t.log_level]);
	put(b, "max_background %u\n", t.max_background);
	put(b, "congestion_threshold %u\n", t.congestion_threshold);
	put(b, "last_error %s\n", ctx->last_error);
	pthread_mutex_unlock(&ctx->ctl_lock);

	get_stats(ctx, &s);
	put(b, "uptime_s %.3f\n", s.uptime_ms / 1000.0);
	put(b, "threads %u\n", s.threads);
	put(b, "waiting %u\n", s.waiting);
	put(b, "read_bytes %llu\n", (unsigned long long)s.read_bytes);
	put(b, "spliced_bytes %llu\n", (unsigned long long)s.spliced_bytes);
	put(b, "copied_bytes %llu\n", (unsigned long long)s.copied_bytes);
	put(b, "spliced_reqs %llu\n", (unsigned long long)s.spliced_reqs);
	put(b, "copied_reqs %llu\n", (unsigned long long)s.copied_reqs);
	for (int i = 0; i < BLK_FB_NR; i++)
		put(b, "fallback.%s %llu\n", blk_fallback_name(i),
		    (unsigned long long)s.fallback[i]);
	put(b, "inflight %lld\n", (long long)s.inflight);
	put(b, "inflight_peak %lld\n", (long long)s.inflight_peak);
	put(b, "lat_p50_us %llu\n",
	    (unsigned long long)percentile(s.lat_us, 0.50));
	put(b, "lat_p99_us %llu\n",
	    (unsigned long long)percentile(s.lat_us, 0.99));
	for (int i = 0; i < BLK_LAT_BUCKETS; i++)
		if (s.lat_us[i])
			put(b, "lat_lt_%lluus %llu\n", 1ull << i,
			    (unsigned long long)s.lat_us[i]);
	for (int i = 0; i < BLK_OPS_MAX; i++)
		if (ld(&st->ops[i]))
			put(b, "req.%s %llu\n", op_names[i] ? op_names[i] : "other",
			    (unsigned long long)ld(&st->ops[i]));
	for (int i = 1; i < BLK_ERRNO_MAX; i++)
		if (ld(&st->errors[i]))
			put(b, "errors.%s %llu\n", strerrorname_np(i) ?: "other",
			    (unsigned long long)ld(&st->errors[i]));
	for (size_t i = 0; i < ctx->tree.count; i++) {
		struct blk_node *n = &ctx->tree.nodes[i];

		char name[300];

		if (n->kind != BLK_NODE_DATA)
			continue;
		blk_node_path(&ctx->tree, n, name, sizeof(name));
		put(b, "file.%s.reads %llu\n", name,
		    (unsigned long long)ld(&n->reads));
		put(b, "file.%s.bytes %llu\n", name,
		    (unsigned long long)ld(&n->bytes));
	}
}

struct blk_ctl_handle *blk_ctl_open(struct blk_ctx *ctx)
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
	render(ctx, &b);
	h->text = b.buf;
	h->len = b.len;
	return h;
}

size_t blk_ctl_read(struct blk_ctl_handle *h, size_t size, const char **data)
{
	size_t n = h->len - h->pos < size ? h->len - h->pos : size;

	*data = h->text + h->pos;
	h->pos += n;
	return n;
}

void blk_ctl_release(struct blk_ctl_handle *h)
{
	if (!h)
		return;
	free(h->text);
	free(h);
}

/* ---- ioctl -------------------------------------------------------------- */

int blk_ctl_ioctl(struct blk_ctx *ctx, unsigned int cmd, const void *in,
		  size_t in_size, void *out, size_t *out_size)
{
	int err;

	*out_size = 0;
	switch (cmd) {
	case BLKFUSE_IOC_GET_STATS:
		get_stats(ctx, out);
		*out_size = sizeof(struct blkfuse_stats);
		return 0;
	case BLKFUSE_IOC_GET_TUNABLES:
		pthread_mutex_lock(&ctx->ctl_lock);
		get_tunables(ctx, out);
		pthread_mutex_unlock(&ctx->ctl_lock);
		*out_size = sizeof(struct blkfuse_tunables);
		return 0;
	case BLKFUSE_IOC_SET_TUNABLES: {
		const struct blkfuse_tunables *t = in;

		if (in_size < sizeof(*t) || t->version != BLKFUSE_ABI_VERSION ||
		    t->size != sizeof(*t))
			return -EINVAL;
		pthread_mutex_lock(&ctx->ctl_lock);
		err = set_tunables(ctx, t);
		pthread_mutex_unlock(&ctx->ctl_lock);
		return err;
	}
	case BLKFUSE_IOC_RESET_STATS:
		reset_stats(ctx);
		return 0;
	case BLKFUSE_IOC_SET_TEXT: {
		const struct blkfuse_set_text *st = in;

		if (in_size < sizeof(*st))
			return -EINVAL;
		return blk_ctl_write(ctx, st->text,
				     strnlen(st->text, sizeof(st->text)));
	}
	}
	return -ENOTTY;
}

/* ---- life cycle ------------------------------------------------------------- */

/* MAJ:MIN of our mount from mountinfo: stat()ing our own mount point from a
 * worker could wait on ourselves. */
static void find_conn_dev(struct blk_ctx *ctx)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], dev[32], mnt[2048];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %31s %*s %2047s", dev, mnt) == 2 &&
		    strcmp(mnt, ctx->mountpoint) == 0)
			snprintf(ctx->conn_dev, sizeof(ctx->conn_dev), "%s", dev);
	fclose(f);
}

void blk_ctl_init(struct blk_ctx *ctx)
{
	pthread_mutex_init(&ctx->ctl_lock, NULL);
	pthread_mutex_init(&ctx->throttle_lock, NULL);
	pthread_cond_init(&ctx->throttle_cond, NULL);
	snprintf(ctx->last_error, sizeof(ctx->last_error), "-");
}

/* Once mounted: learn the connection, make fusectl readable. */
void blk_ctl_mounted(struct blk_ctx *ctx)
{
	find_conn_dev(ctx);
	if (!ctx->conn_dev[0])
		blk_warn("%s: not found in mountinfo; readahead and fusectl tunables unavailable",
			 ctx->mountpoint);
	ensure_fusectl();
}

void blk_ctl_fini(struct blk_ctx *ctx)
{
	pthread_mutex_destroy(&ctx->ctl_lock);
	pthread_mutex_destroy(&ctx->throttle_lock);
	pthread_cond_destroy(&ctx->throttle_cond);
}

/* ---- FUSE glue shared by both transports ------------------------------ */

/* open: a snapshot per open, no page cache (size 0), no position. */
void blk_ctl_reply_open(fuse_req_t req, struct blk_ctx *ctx,
			struct fuse_file_info *fi)
{
	struct blk_ctl_handle *h = blk_ctl_open(ctx);

	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	fi->nonseekable = 1;
	fuse_reply_open(req, fi);
}

/*
 * read: from the handle's cursor; the offset means nothing on CUSE.  The
 * reply goes out from a copy: once the kernel has it the reader may close,
 * and the RELEASE (on another worker) frees the handle while this writev()
 * is still returning.
 */
void blk_ctl_reply_read(fuse_req_t req, struct fuse_file_info *fi,
			size_t size)
{
	const char *data;
	size_t len = blk_ctl_read((struct blk_ctl_handle *)(uintptr_t)fi->fh,
				  size, &data);
	char *copy = len ? malloc(len) : NULL;

	if (len && !copy) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (len)
		memcpy(copy, data, len);
	fuse_reply_buf(req, copy, len);
	free(copy);
}

void blk_ctl_reply_ioctl(fuse_req_t req, struct blk_ctx *ctx,
			 unsigned int cmd, unsigned int flags,
			 const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	union {
		struct blkfuse_stats s;
		struct blkfuse_tunables t;
	} out;
	size_t out_size;
	int res;

	if (flags & FUSE_IOCTL_COMPAT) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	res = blk_ctl_ioctl(ctx, cmd, in_buf, in_bufsz, &out, &out_size);
	if (res < 0)
		fuse_reply_err(req, -res);
	else
		fuse_reply_ioctl(req, 0, out_size ? &out : NULL,
				 out_size < out_bufsz ? out_size : out_bufsz);
}
