// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkfuse: a disk or disk image, and each of its partitions, as read-only
 * files in a FUSE mount.  This file is main(): options, start-up in an
 * order that leaves nothing behind on failure, and shutdown.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "forensic/audit.h"
#include "ctl/ctl.h"
#include "cmd/ctl_client.h"
#include "ctx.h"
#include "cuse_ctl.h"
#include "forensic/forensic.h"
#include "serve/fs_files.h"
#include "serve/fs_ops.h"
#include "cmd/hash_cmd.h"
#include "fs/fssurvey.h"
#include "image/chain.h"
#include "volume/layout.h"
#include "volume/volume.h"
#include "list.h"
#include "base/log.h"
#include "cmd/options.h"
#include "serve/opens.h"
#include "serve/probe_mount.h"
#include "read/read_path.h"
#include "read/readahead.h"
#include "serve/runtime.h"
#include "read/throttle.h"
#include "serve/transport.h"
#include "serve/uring.h"
#include "base/util.h"
#include "volume/crypt.h"
#include "volume/secret.h"
#include "wire.h"
#include "serve/workers.h"

/*
 * The mount point must be an existing directory.  Made absolute, because
 * fuse_daemonize() changes to "/" even in the foreground.
 */
static int check_mountpoint(char **path)
{
	struct stat st;
	char *abs;

	if (stat(*path, &st) < 0) {
		blk_err("%s: %s", *path, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		blk_err("%s: %s", *path, strerror(ENOTDIR));
		return -ENOTDIR;
	}
	abs = realpath(*path, NULL);
	if (!abs) {
		blk_err("%s: %s", *path, strerror(errno));
		return -errno;
	}
	free(*path);
	*path = abs;
	return 0;
}

static void notify(const char *fifo, char c)
{
	int fd;

	if (!fifo)
		return;
	fd = open(fifo, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		blk_warn("%s: %s", fifo, strerror(errno));
		return;
	}
	if (write(fd, &c, 1) != 1)
		blk_warn("%s: %s", fifo, strerror(errno));
	close(fd);
}

static int add_mount_opts(struct fuse_args *args, const char *path)
{
	char *source = realpath(path, NULL);
	char *opts = NULL;
	int res;

	if (!source)
		return -errno;

	/* fsname is what mount(8) and df show; escape commas in the path. */
	res = fuse_opt_add_opt_escaped(&opts, source) ||
	      fuse_opt_add_arg(args, "-oro,default_permissions,subtype=blkfuse");
	if (!res) {
		char *arg = malloc(strlen(opts) + 12);

		res = !arg;
		if (arg) {
			sprintf(arg, "-ofsname=%s", opts);
			res = fuse_opt_add_arg(args, arg);
			free(arg);
		}
	}
	free(opts);
	free(source);
	return res ? -ENOMEM : 0;
}

#define BLK_SIGNALS { SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2 }

/*
 * Detached, the control file went with the mount: nobody can lift pause
 * or rate_limit any more, and a reader they hold would wait forever (in D
 * for O_DIRECT).  Lift both, so open files are read to their end.  A
 * CUSE node stays until the end, and with it the control.
 */
static void release_throttle(struct blk_ctx *ctx)
{
	if (ctx->ctl_file && blk_throttle_lift(ctx->throttle))
		blk_notice("%s: the control file is gone with the mount: pause and rate_limit lifted for the files still open",
			   ctx->mountpoint);
}

/*
 * SIGTERM or SIGINT as umount -l: with files open, detach the mount (no
 * new opens; open files keep working) and end when the last is released
 * (fs_ops.c sends SIGUSR1).  true: end now.
 */
static bool detach_on_signal(struct blk_ctx *ctx, int sig)
{
	unsigned int n;

	if (atomic_load(&ctx->detached)) {
		blk_notice("%s again: ending now; open files get ENOTCONN",
			   strsignal(sig));
		if (blk_ctl_abort_now(ctx) == 0)
			atomic_store(&ctx->aborted, true);
		return true;
	}
	if (blk_opens_count(ctx->opens) == 0) {
		blk_info("%s: unmounting", strsignal(sig));
		return true;
	}
	if (umount2(ctx->mountpoint, MNT_DETACH) < 0) {
		blk_err("%s: cannot detach: %s; ending now", ctx->mountpoint,
			strerror(errno));
		return true;
	}
	atomic_store(&ctx->detached, true);
	release_throttle(ctx);
	n = blk_opens_count(ctx->opens);
	blk_notice("%s: %s: detached; %u file%s still open, exiting when the last is closed (send it again to end now)",
		   ctx->mountpoint, strsignal(sig), n, n == 1 ? "" : "s");
	blk_log_holders(ctx);
	/* the last release may have come between the count and the flag */
	return blk_opens_count(ctx->opens) == 0;
}

/*
 * Wait for the end: a signal, or the connection ending (unmount, abort,
 * the last file of a detached mount closed).  SIGUSR1 comes from a worker
 * that saw the connection end or from that last release, SIGUSR2 from
 * the control protocol's abort.  While detached, who still holds files is
 * logged once a minute.
 */
static void wait_for_end(struct blk_ctx *ctx)
{
	static const int sigs[] = BLK_SIGNALS;
	const struct timespec minute = { 60, 0 };
	sigset_t set;
	int sig, err;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaddset(&set, sigs[i]);
	for (;;) {
		sig = sigtimedwait(&set, NULL, &minute);
		if (sig < 0) {
			if (errno == EAGAIN && atomic_load(&ctx->detached))
				blk_log_holders(ctx);
			continue;
		}
		switch (sig) {
		case SIGHUP:
			if (ctx->audit)
				blk_audit_reopen(ctx->audit);
			continue;
		case SIGUSR2:
			/* sent once the abort request's own reply went out */
			err = blk_ctl_abort_now(ctx);
			if (err)
				blk_err("abort: %s", strerror(-err));
			continue;	/* the workers' SIGUSR1 follows */
		case SIGUSR1:
			return;
		case SIGINT:
		case SIGTERM:
			if (detach_on_signal(ctx, sig))
				return;
			continue;
		default:
			blk_info("%s: unmounting", strsignal(sig));
			return;
		}
	}
}

static void block_signals(void)
{
	static const int sigs[] = BLK_SIGNALS;
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaddset(&set, sigs[i]);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Mounted: everything that serves it, in the order it is stopped. */
static int start_serving(struct blk_ctx *ctx)
{
	int err;

	err = blk_throttle_start(ctx->throttle, fuse_session_fd(ctx->se),
				 ctx->max_reply, ctx->pipe_max);
	if (err) {
		blk_start_failed(ctx, "the throttle thread", err);
		return err;
	}
	err = blk_workers_start(ctx);
	if (err) {
		blk_start_failed(ctx, "worker threads", err);
		return err;
	}
	if (ctx->ctl_name[0]) {
		err = blk_cuse_start(ctx);
		if (err) {
			blk_err("/dev/%s: cannot create the CUSE node: %s",
				ctx->ctl_name, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* The CUSE node stays until --verify-after is done (run() stops it). */
static void stop_serving(struct blk_ctx *ctx)
{
	blk_throttle_stop(ctx->throttle);	/* its replies may need the ring */
	blk_uring_stop();
	blk_workers_stop(ctx);
}

/* Mounted and served: say so, once, and leave our name where ctl finds it. */
static void announce(struct blk_ctx *ctx, const struct blk_cfg *cfg)
{
	char target[4200];
	const char *b = strrchr(cfg->source, '/');

	blk_info("%s mounted on %s: %u files, %u threads, max_reply %u",
		 ctx->src.path, cfg->mountpoint, (unsigned int)ctx->tree.count - 1,
		 ctx->threads, ctx->max_reply);
	if (cfg->rw_from_mount)
		blk_notice("%s: 'rw' from mount(8) taken as 'ro': blkfuse is read-only",
			   cfg->mountpoint);
	if (ctx->ctl_name[0])
		snprintf(target, sizeof(target), "/dev/%s", ctx->ctl_name);
	else if (ctx->ctl_file)
		snprintf(target, sizeof(target), "%s/" BLK_CTL_FILE,
			 cfg->mountpoint);
	else
		return;		/* --ctl=none */
	if (ctx->ctl_file)
		blk_notice("no CUSE in this kernel (/dev/cuse): control file %s instead",
			   target);
	blk_registry_add(cfg->name ? cfg->name : b ? b + 1 : cfg->source,
			 target, ctx->reg_name, sizeof(ctx->reg_name));
}

static bool connection_gone(struct fuse_session *se)
{
	struct pollfd p = { .fd = fuse_session_fd(se) };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

static int serve(struct blk_ctx *ctx, struct fuse_args *args,
		 const struct blk_cfg *cfg)
{
	int ret = EXIT_FAILURE;

	ctx->se = fuse_session_new(args, &blk_fs_ops, sizeof(blk_fs_ops), ctx);
	if (!ctx->se)
		return EXIT_FAILURE;	/* libfuse said why */
	block_signals();
	if (blk_transport_check(ctx) != 0 ||
	    fuse_session_mount(ctx->se, cfg->mountpoint) != 0)
		goto out_destroy_session;
	if (fuse_daemonize(cfg->fuse.foreground) != 0)
		goto out_unmount;
	/* a fork leaves memory locks behind: the volume keys' too */
	(void)blk_secret_relock();
	if (!cfg->fuse.foreground)
		blk_log_to_syslog();
	if (cfg->pidfile && blk_pidfile_write(cfg->pidfile) != 0)
		goto out_unmount;
	/* after the fork: rings belong to the process that uses them, and
	 * so do the decode-ahead threads */
	if (blk_transport_attach(ctx) != 0)
		goto out_unmount;
	blk_image_allow_ahead(ctx->src.img);
	/* Before any worker runs: they read what this learns. */
	blk_ctl_mounted(ctx);
	if (start_serving(ctx) != 0)
		goto out_stop_serving;
	announce(ctx, cfg);
	notify(cfg->notify_pipe, 's');
	wait_for_end(ctx);
	ret = EXIT_SUCCESS;

out_stop_serving:
	blk_registry_remove(ctx->reg_name);
	stop_serving(ctx);
out_unmount:
	/*
	 * Detached: the mount point may hold someone else's mount by now.
	 * libfuse unmounts nothing once the connection is gone (POLLERR),
	 * and only then is it safe to let it free what it kept.
	 */
	if (!atomic_load(&ctx->detached) || connection_gone(ctx->se))
		fuse_session_unmount(ctx->se);
	/* After an abort libfuse leaves the dead mount; it must not stay. */
	if (atomic_load(&ctx->aborted) && !atomic_load(&ctx->detached) &&
	    umount2(cfg->mountpoint, MNT_DETACH) < 0)
		blk_warn("%s: %s", cfg->mountpoint, strerror(errno));
out_destroy_session:
	fuse_session_destroy(ctx->se);
	ctx->se = NULL;
	return ret;
}

/* --ctl: the CUSE node's name, or the control file; 0 or an exit status. */
static int choose_ctl(struct blk_ctx *ctx, const struct blk_cfg *cfg,
		      struct blk_tree_opts *tree_opts)
{
	ctx->ctl_mode = cfg->ctl_mode ? (int)strtol(cfg->ctl_mode, NULL, 8) : 0600;
	if (!cfg->ctl || !strcmp(cfg->ctl, "auto")) {
		/* said once mounted (announce): a failure before needs no note */
		if (blk_cuse_available())
			blk_cuse_pick_name(ctx, cfg->name, cfg->source);
		tree_opts->ctl_file = !ctx->ctl_name[0];
		ctx->ctl_file = tree_opts->ctl_file;
	} else if (!strcmp(cfg->ctl, "cuse")) {
		if (!blk_cuse_available()) {
			blk_err("/dev/cuse: %s (the kernel has no CUSE; use --ctl=auto)",
				strerror(errno));
			return EXIT_FAILURE;
		}
		blk_cuse_pick_name(ctx, cfg->name, cfg->source);
	}
	return 0;
}

/* Everything before mounting that --list does not need. */
static int prepare_mount(struct blk_ctx *ctx, struct blk_cfg *cfg,
			 struct fuse_args *args)
{
	struct blk_tree_opts tree_opts = { .no_free = cfg->no_free };
	int err;

	if (check_mountpoint(&cfg->mountpoint) != 0 ||
	    blk_mountpoint_check(cfg->mountpoint) != 0)
		return EXIT_FAILURE;
	/* fuse_daemonize() changes to "/": the pid file's name must not move */
	if (cfg->pidfile && cfg->pidfile[0] != '/') {
		char *abs = NULL, *cwd = getcwd(NULL, 0);

		if (!cwd || asprintf(&abs, "%s/%s", cwd, cfg->pidfile) < 0) {
			free(cwd);
			blk_err("--pidfile %s: %s", cfg->pidfile, strerror(ENOMEM));
			return EXIT_FAILURE;
		}
		free(cwd);
		free(cfg->pidfile);
		cfg->pidfile = abs;
	}
	ctx->mountpoint = cfg->mountpoint;
	/* fuse_daemonize() changes to "/": a relative FIFO must still work. */
	if (cfg->notify_pipe && cfg->notify_pipe[0] != '/') {
		char *abs = realpath(cfg->notify_pipe, NULL);

		if (abs) {
			free(cfg->notify_pipe);
			cfg->notify_pipe = abs;
		}
	}
	if (choose_ctl(ctx, cfg, &tree_opts) != 0 ||
	    blk_nofile_check(ctx->src.given, ctx->threads) != 0)
		return EXIT_FAILURE;
	err = blk_tree_build(&ctx->tree, &ctx->src, &ctx->layout, &tree_opts);
	/* last: fs/ has a volume for every data file the stages added */
	if (!err)
		err = blk_fs_setup(ctx, cfg->no_fs);
	if (!err)
		err = blk_ra_new(ctx);
	if (!err)
		err = add_mount_opts(args, ctx->src.path);
	if (err) {
		blk_err("%s", strerror(-err));
		return EXIT_FAILURE;
	}
	blk_wire_check_pipe(ctx->max_reply, ctx->pipe_max);
	ctx->on_error_zero = cfg->on_error && !strcmp(cfg->on_error, "zero");
	return 0;
}

/* The source, its layout, and --list or the mount. */
static int run(struct blk_ctx *ctx, struct blk_cfg *cfg,
	       struct fuse_args *args, int argc, char *argv[])
{
	struct blk_forensic_opts fo = {
		.verify = cfg->verify, .audit = cfg->audit, .set_ro = cfg->set_ro,
		.verify_after = cfg->verify_after, .mountpoint = cfg->mountpoint,
		.argc = argc, .argv = argv,
	};
	struct blk_key_sources ks;
	int ret = EXIT_FAILURE;

	blk_img_extents_anywhere = cfg->extents_anywhere;
	if (cfg->backing_dir && blk_chain_allow_dir(cfg->backing_dir) != 0)
		return EXIT_FAILURE;
	blk_cfg_key_sources(cfg, &ks);
	if (blk_keyring_load(&ctx->keys, &ks) != 0)
		return EXIT_FAILURE;	/* printed, naming the file */
	if (blk_source_open_as(&ctx->src, cfg->source, cfg->sector_size,
			       cfg->format ? cfg->format : "auto") != 0)
		goto out_free_keys;
	/* -o cache_mb=: the tunable's value from the start */
	if (cfg->cache_mb_given && ctx->src.img)
		atomic_store(&ctx->src.img->cache_mb, cfg->cache_mb);
	if (cfg->exclusive && blk_source_exclusive(&ctx->src) != 0)
		goto out_close_source;
	if (cfg->set_ro && !cfg->list && !ctx->src.is_blockdev) {
		blk_err("%s: --set-ro needs a block device", ctx->src.given);
		goto out_close_source;
	}
	/* a set that holds nearly every descriptor: said before the probe
	 * mount needs its own (and again before serving, volumes opened) */
	if (!cfg->list && blk_nofile_check(ctx->src.given, ctx->threads) != 0)
		goto out_close_source;
	if (blk_probe_layout(&ctx->src, &ctx->layout) != 0)
		goto out_close_source;
	/* What the data files hold (LVM, LUKS, BitLocker, nested tables),
	 * opened with the keyring of --passphrase-file & co. */
	if (blk_stack_probe(&ctx->layout.stack, ctx->src.layer, &ctx->layout,
			    ctx->keys) != 0)
		goto out_free_layout;
	/* what libtsk reads in each volume: --list, layout.json and fs/ */
	if (!cfg->no_fs && blk_fs_survey(&ctx->src, &ctx->layout) != 0)
		goto out_free_layout;
	if (cfg->list) {
		struct blk_list_opts lo = {
			.columns = cfg->columns, .json = cfg->json,
			.bytes = cfg->bytes, .noheadings = cfg->noheadings,
			.raw = cfg->raw, .pairs = cfg->pairs,
		};

		ret = blk_list_print(&ctx->src, &ctx->layout, &lo) ?
		      EXIT_FAILURE : EXIT_SUCCESS;
		goto out_free_layout;
	}
	ret = prepare_mount(ctx, cfg, args);
	/* every volume is open by now: no secret stays while serving */
	blk_keyring_free(ctx->keys);
	ctx->keys = NULL;
	if (ret == 0) {
		fo.mountpoint = cfg->mountpoint;
		ret = blk_forensic_start(ctx, &fo);
		if (ret == EXIT_SUCCESS)
			ret = serve(ctx, args, cfg);
		ret = blk_forensic_stop(ctx, &fo, ret);
		blk_cuse_stop(ctx);
		blk_pidfile_remove(cfg->pidfile);
	}
	blk_ra_free(ctx);
	blk_fs_free(ctx);
	blk_tree_free(&ctx->tree);
out_free_layout:
	blk_stack_free(ctx->layout.stack);	/* before the layers below it */
	ctx->layout.stack = NULL;
	blk_layout_free(&ctx->layout);
out_close_source:
	blk_source_close(&ctx->src);
out_free_keys:
	blk_keyring_free(ctx->keys);
	ctx->keys = NULL;
	return ret;
}

/* libfuse's messages go where ours go; its levels are syslog's. */
static void fuse_log_hook(enum fuse_log_level level, const char *fmt,
			  va_list ap)
{
	blk_vlog((int)level, fmt, ap);
}

static int init_ctx(struct blk_ctx *ctx, const struct blk_cfg *cfg,
		    struct fuse_args *args)
{
	int err;

	ctx->conn_opts = fuse_parse_conn_info_opts(args);
	if (!ctx->conn_opts)
		return -EINVAL;	/* libfuse said why */
	ctx->max_reply = cfg->max_reply;
	ctx->threads = cfg->threads;
	ctx->clone_fd = cfg->clone_fd < 0 ? DEFAULT_CLONE_FD : cfg->clone_fd;
	ctx->mount_ra_typed = cfg->readahead_kb != BLK_RA_DEFAULT;
	ctx->mount_ra_kb = ctx->mount_ra_typed ? cfg->readahead_kb :
			   cfg->max_readahead_given ? BLK_RA_KEEP :
			   DEFAULT_READAHEAD_KB;
	ctx->transport = blk_transport_parse(cfg->transport);
	ctx->pipe_max = blk_wire_pipe_max();
	ctx->stats.started_ns = blk_mono_ns();
	atomic_store(&ctx->tun.splice, !cfg->nosplice);
	atomic_store(&ctx->tun.pipe_size, cfg->pipe_size);
	atomic_store(&ctx->tun.source_ra_kb, cfg->source_ra_kb);
	err = blk_ctl_new(ctx);
	if (!err)
		err = blk_opens_new(&ctx->opens);
	if (!err)
		err = blk_read_throttle_new(ctx);
	if (err)
		blk_err("%s", strerror(-err));
	return err;
}

static void fini_ctx(struct blk_ctx *ctx)
{
	blk_throttle_free(ctx->throttle);
	blk_opens_free(ctx->opens);
	blk_ctl_free(ctx);
	free(ctx->conn_opts);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct blk_cfg cfg = {
		.max_reply = DEFAULT_MAX_REPLY, .threads = DEFAULT_THREADS,
		.source_ra_kb = DEFAULT_SOURCE_RA_KB, .clone_fd = -1,
		.readahead_kb = BLK_RA_DEFAULT,
	};
	static struct blk_ctx ctx;
	int ret;

	blk_nofile_raise();
	if (argc > 1 && strcmp(argv[1], "ctl") == 0)
		return blk_ctl_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "hash") == 0)
		return blk_hash_main(argc - 1, argv + 1);

	fuse_set_log_func(fuse_log_hook);
	ret = blk_options_parse(argc, argv, &cfg, &args);
	if (ret < 0) {
		if (cfg.fuse.debug)
			blk_log_level = BLK_LOG_DEBUG;
		ret = EXIT_FAILURE;
		if (init_ctx(&ctx, &cfg, &args) == 0)
			ret = run(&ctx, &cfg, &args, argc, argv);
		fini_ctx(&ctx);
	}
	if (ret != EXIT_SUCCESS)
		notify(cfg.notify_pipe, 'f');
	blk_options_free(&cfg);
	fuse_opt_free_args(&args);
	return ret;
}
