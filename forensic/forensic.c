// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What runs before the mount appears and after it is gone: --verify, the
 * audit trail's start and stop records, --set-ro (core/guard.c does the
 * work) and --verify-after.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "forensic/audit.h"
#include "ctx.h"
#include "forensic/forensic.h"
#include "hash.h"
#include "source/image_info.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/util.h"

/* The command line, space-separated and JSON-escaped, whole. */
static char *command_json(int argc, char *argv[])
{
	char *line = NULL, *esc;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);

	if (!f)
		return NULL;
	for (int i = 1; i < argc; i++)
		fprintf(f, "%s%s", i > 1 ? " " : "", argv[i]);
	if (fclose(f) != 0) {
		free(line);
		return NULL;
	}
	esc = blk_json_dup(line);
	free(line);
	return esc;
}

/* The audit trail opened and its start record written: 0 or -errno. */
static int audit_start(struct blk_ctx *ctx,
		       const struct blk_forensic_opts *cfg, const char *got)
{
	char *cmd, *src_esc, *mnt_esc, *container;
	int err = blk_audit_open(&ctx->audit, cfg->audit);

	if (err)
		return err;
	cmd = command_json(cfg->argc, cfg->argv);
	src_esc = blk_json_dup(ctx->src.path);
	mnt_esc = blk_json_dup(cfg->mountpoint);
	container = blk_image_json_string(&ctx->src);
	if (!cmd || !src_esc || !mnt_esc ||
	    blk_audit_set_source(ctx->audit, ctx->src.path) != 0) {
		blk_err("%s: %s", cfg->audit, strerror(ENOMEM));
		err = -ENOMEM;
	} else {
		blk_audit_record(ctx->audit, "start",
			"\"version\":\"%s\",\"session\":\"%s\",\"pid\":%d,\"source\":\"%s\",\"size\":%llu,\"sector_size\":%u,\"opened\":\"%s\",\"table\":\"%s\",\"verified\":\"%s\",\"mountpoint\":\"%s\",\"command\":\"%s\",%s",
			BLKFUSE_VERSION, blk_audit_session(ctx->audit),
			(int)getpid(), src_esc,
			(unsigned long long)ctx->src.size, ctx->src.sector_size,
			ctx->src.opened, ctx->layout.pttype, got,
			mnt_esc, cmd, container ? container : "\"format\":\"?\"");
		blk_audit_flush(ctx->audit);
		blk_audit_keep_log(ctx->audit);
	}
	free(cmd);
	free(src_esc);
	free(mnt_esc);
	free(container);
	return err;
}

/* --verify, --audit, --set-ro: everything before the mount appears. */
int blk_forensic_start(struct blk_ctx *ctx, const struct blk_forensic_opts *cfg)
{
	char got[256] = "", want[256];

	if (cfg->verify) {
		int res = blk_hash_verify(&ctx->src, &ctx->layout, cfg->verify, got, sizeof(got));

		if (res < 0)
			return EXIT_FAILURE;
		if (!blk_image_stored_spec(&ctx->src, want, sizeof(want)) ||
		    strcmp(cfg->verify, "stored"))
			snprintf(want, sizeof(want), "%s", cfg->verify);
		if (res > 0) {
			blk_err("%s: hash mismatch: expected %s%s, found %s; not mounting",
				ctx->src.path, want,
				strcmp(cfg->verify, "stored") ? "" :
				" (stored in the container)", got);
			return BLK_EXIT_VERIFY;
		}
		blk_notice("%s: verified %s", ctx->src.path, got);
	}
	if (cfg->audit && audit_start(ctx, cfg, got) != 0)
		return EXIT_FAILURE;
	if (cfg->set_ro && blk_source_set_ro(&ctx->src) != 0)
		return EXIT_FAILURE;
	if (cfg->verify_after)
		atomic_store(&ctx->verify_after, BLK_VA_PENDING);
	return EXIT_SUCCESS;
}

/* "sha256:HEX" of the whole source into got; 0 or -errno (printed). */
static int hash_sha256(const struct blk_source *src, char *got, size_t len)
{
	struct blk_hash_range r = { .name = "disk", .size = src->size };
	char hex[2 * BLK_HASH_MAX_LEN + 1];
	int err = blk_hash_ranges(src, &r, 1, 1u << BLK_HASH_SHA256,
				  isatty(STDERR_FILENO));

	if (err)
		return err;
	blk_hash_hex(hex, r.md[BLK_HASH_SHA256], BLK_HASH_SHA256);
	snprintf(got, len, "sha256:%s", hex);
	return 0;
}

/*
 * While --verify-after hashes, a thread takes SIGINT, SIGTERM and SIGQUIT
 * (blocked in every thread since serve()) and stops the hash: a verify of
 * a large disk takes hours and must not need SIGKILL.
 */
struct watcher {
	pthread_t tid;
	_Atomic bool done;
	_Atomic int sig;
};

static void *watch(void *arg)
{
	struct watcher *w = arg;
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGQUIT);
	while (!atomic_load(&w->done)) {
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig > 0) {
			atomic_store(&w->sig, sig);
			atomic_store(&blk_hash_cancel, true);
			break;
		}
	}
	return NULL;
}

static int hash_watched(struct blk_ctx *ctx,
			const struct blk_forensic_opts *cfg, char *got,
			size_t len, int *sig)
{
	struct watcher w = { .done = false, .sig = 0 };
	bool watching = pthread_create(&w.tid, NULL, watch, &w) == 0;
	int res;

	if (cfg->verify)
		res = blk_hash_verify(&ctx->src, &ctx->layout, cfg->verify, got, len);
	else
		res = hash_sha256(&ctx->src, got, len);
	atomic_store(&w.done, true);
	if (watching)
		pthread_join(w.tid, NULL);
	*sig = atomic_load(&w.sig);
	return res;
}

/*
 * --verify-after: the same algorithm and hash as --verify, else sha256.
 * A progress line on a terminal; the bytes done in the control snapshot.
 * 0 match (or nothing to compare), 1 mismatch, -errno (printed).
 */
static int verify_after(struct blk_ctx *ctx, const struct blk_forensic_opts *cfg,
			char *got, size_t len)
{
	int res, sig;

	atomic_store(&ctx->verify_after, BLK_VA_RUNNING);
	blk_progress_mirror = &ctx->verify_after_done;
	res = hash_watched(ctx, cfg, got, len, &sig);
	blk_progress_mirror = NULL;
	if (res < 0 && sig) {
		snprintf(got, len, "interrupted by SIG%s",
			 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
		blk_err("%s: --verify-after %s; the source was not verified",
			ctx->src.path, got);
	}
	if (res >= 0)
		blk_notice("%s: after unmount: %s%s", ctx->src.path, got,
			   !cfg->verify ? "" : res ? " (MISMATCH)" : " (matches)");
	/* "sha256:HEX matches": a digest fits; a longer got is cut, on purpose */
	if (snprintf(ctx->verify_after_result, sizeof(ctx->verify_after_result),
		     "%s%s", res < 0 && !sig ? "error" : got,
		     res < 0 || !cfg->verify ? "" : res ? " mismatch" : " matches") < 0)
		ctx->verify_after_result[0] = '\0';
	atomic_store(&ctx->verify_after, BLK_VA_DONE);
	return res;
}

int blk_forensic_stop(struct blk_ctx *ctx, const struct blk_forensic_opts *cfg,
		      int ret)
{
	char got[256] = "";
	int res = 0;

	blk_source_restore_ro();
	if (cfg->verify_after && ret == EXIT_SUCCESS) {	/* it was mounted */
		res = verify_after(ctx, cfg, got, sizeof(got));
		if (res > 0)
			ret = BLK_EXIT_VERIFY;
		else if (res < 0)
			ret = EXIT_FAILURE;
	}
	if (ctx->audit) {
		blk_audit_record(ctx->audit, "stop",
			"\"exit\":%d,\"read_requests\":%llu,\"read_bytes\":%llu,\"zeroed_bytes\":%llu,\"lost_records\":%llu,\"verify_after\":\"%s\",\"verify_after_matches\":%s",
			ret, (unsigned long long)(atomic_load(&ctx->stats.spliced_reqs) +
						  atomic_load(&ctx->stats.copied_reqs)),
			(unsigned long long)atomic_load(&ctx->stats.read_bytes),
			(unsigned long long)atomic_load(&ctx->stats.zeroed_bytes),
			(unsigned long long)blk_audit_lost(ctx->audit),
			got, !cfg->verify || !got[0] || res < 0 ? "null" :
			res ? "false" : "true");
		blk_audit_close(ctx->audit);
		ctx->audit = NULL;
	}
	return ret;
}
