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
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkfuse.h"
#include "blkfuse_hash.h"

#define DEFAULT_MAX_REPLY (512u * 1024)
#define DEFAULT_THREADS 4

struct blk_cfg {
	char *source;
	char *mountpoint;
	int nargs;
	int list;
	int json;
	unsigned int sector_size;
	unsigned int max_reply;
	unsigned int threads;
	unsigned int pipe_size;
	int nosplice;
	char *notify_pipe;
	char *ctl;
	char *name;
	char *ctl_mode;
	int bad_rw;
	int no_free;
	int exclusive;
	int set_ro;
	char *audit;
	char *verify;
	int verify_after;
	char *on_error;
};

enum { KEY_RW, KEY_SINGLE };

#define BLK_OPT(t, p, v) { t, offsetof(struct blk_cfg, p), v }

static const struct fuse_opt blk_opts[] = {
	BLK_OPT("--list", list, 1),
	BLK_OPT("-l", list, 1),
	BLK_OPT("--json", json, 1),
	BLK_OPT("--no-free", no_free, 1),
	BLK_OPT("--exclusive", exclusive, 1),
	BLK_OPT("--set-ro", set_ro, 1),
	BLK_OPT("--audit=%s", audit, 0),
	BLK_OPT("--verify=%s", verify, 0),
	BLK_OPT("--verify-after", verify_after, 1),
	BLK_OPT("--on-error=%s", on_error, 0),
	BLK_OPT("nofree", no_free, 1),
	BLK_OPT("--sector-size=%u", sector_size, 0),
	BLK_OPT("sector_size=%u", sector_size, 0),
	BLK_OPT("max_reply=%u", max_reply, 0),
	BLK_OPT("max_threads=%u", threads, 0),
	BLK_OPT("pipe_size=%u", pipe_size, 0),
	BLK_OPT("nosplice", nosplice, 1),
	BLK_OPT("notify_pipe=%s", notify_pipe, 0),
	BLK_OPT("--ctl=%s", ctl, 0),
	BLK_OPT("--name=%s", name, 0),
	BLK_OPT("--ctl-mode=%s", ctl_mode, 0),
	FUSE_OPT_KEY("rw", KEY_RW),
	FUSE_OPT_KEY("-s", KEY_SINGLE),
	/* fstab words that mean nothing to us */
	FUSE_OPT_KEY("ro", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("auto", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("noauto", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("defaults", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("user", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("nouser", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("users", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("_netdev", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("nofail", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_END
};

static void usage(FILE *out)
{
	fprintf(out,
"Usage:\n"
" blkfuse [options] SOURCE MOUNTPOINT\n"
" blkfuse --list [--json] [--sector-size N] SOURCE\n"
" blkfuse ctl NAME|PATH [show | get KEY | set KEY=VALUE... | stats [-w S] | reset]\n"
" blkfuse hash [--algo sha256,sha1,md5] SOURCE [disk] [pN...]\n"
"\n"
"Expose a block device or raw disk image, and each partition on it, as\n"
"read-only files: MOUNTPOINT/disk is the whole source, MOUNTPOINT/pN is\n"
"partition N, numbered as the Linux kernel numbers them (DOS logical\n"
"partitions from p5). Partition tables are read with libblkid (DOS, GPT,\n"
"BSD, Sun, SGI, Atari, ...). The source is opened O_RDONLY and nothing is\n"
"ever written to it. Reads are spliced from the source into /dev/fuse.\n"
"\n"
"Options:\n"
" -l, --list               print the partition table as blkfuse sees it and\n"
"                          exit: number, start, end, sectors (in units of\n"
"                          the sector size shown), size, type, name, uuid\n"
"     --json               with --list: print it as JSON\n"
"     --sector-size N      logical sector size of an image made on a disk\n"
"                          with N-byte sectors (512, 1024, 2048, 4096);\n"
"                          default: BLKSSZGET for block devices, else 512\n"
" -f                       stay in the foreground (log to stderr)\n"
"\n"
"Forensic options:\n"
"     --exclusive          claim the source exclusively (O_EXCL on a block\n"
"                          device, flock on an image) and refuse to start if\n"
"                          it, a partition of it or a loop device over it is\n"
"                          mounted read-write anywhere\n"
"     --set-ro             set the kernel's read-only flag (BLKROSET) on the\n"
"                          device and its partitions while mounted; the old\n"
"                          state is logged and restored at exit\n"
"     --verify ALGO:HEX    hash the whole source first (sha256, sha1, md5) and\n"
"                          refuse to mount on a mismatch (exit status 3)\n"
"     --verify-after       hash the source again at unmount; the result goes\n"
"                          to the log and the audit trail\n"
"     --audit FILE         append JSON Lines to FILE: start, every open, read\n"
"                          and release (time, file, offset, length, bytes\n"
"                          returned, errno, pid, uid, gid, process name),\n"
"                          stop; SIGHUP flushes and reopens FILE (rotation)\n"
"     --on-error=eio|zero  a read that hits a bad sector fails with EIO\n"
"                          (default) or gets zeros for the unreadable sectors,\n"
"                          each logged and audited\n"
"     --no-free            hide free/ (unallocated space)\n"
"\n"
"     --ctl=auto|cuse|none  the control interface (default auto): a CUSE\n"
"                          character device /dev/blkfuse-NAME when the kernel\n"
"                          has CUSE, else the file MOUNTPOINT/.blkfuse-ctl\n"
"                          (root only; read it, set with 'blkfuse ctl');\n"
"                          'cuse' fails without CUSE; 'none' serves neither\n"
"     --name NAME          control node name (default: the source's file\n"
"                          name, made safe and unique); a '/' in NAME makes\n"
"                          a subdirectory of /dev\n"
"     --ctl-mode MODE      octal mode of the control node (default 0600)\n"
" -d                       debug: foreground, log every request\n"
" -s                       one worker thread (same as -o max_threads=1)\n"
" -h, --help               print this help and exit\n"
" -V, --version            print the version and exit\n"
"\n"
"Mount options (-o opt[,opt...]):\n"
" max_threads=N            worker threads (default %u); readers of different\n"
"                          partitions never wait on each other's lock\n"
" max_reply=BYTES          largest READ the kernel may send, a multiple of\n"
"                          4096 (default %u). A reply must fit one pipe:\n"
"                          BYTES + 8 KiB, rounded up to a power of two,\n"
"                          must not exceed fs.pipe-max-size (1 MiB by\n"
"                          default) or replies are copied, not spliced\n"
" pipe_size=BYTES          pipe size per worker (default: just enough for\n"
"                          max_reply)\n"
" nosplice                 start with splice off (pread + copy)\n"
" notify_pipe=PATH         write 's' to the FIFO PATH once mounted, 'f' if\n"
"                          the mount failed (for scripts and tests)\n"
" allow_other              let other users read (file modes still apply)\n"
" max_readahead=BYTES      cap the kernel's readahead for this mount\n"
" The mount is always 'ro'; 'rw' is refused. fstab words (auto, noauto,\n"
" user, users, _netdev, nofail, defaults, x-*) are accepted and ignored.\n"
"\n"
"Control tunables (blkfuse ctl NAME set KEY=VALUE; take effect at once):\n"
" splice=0|1               splice replies (1) or pread + copy (0)\n"
" pipe_size=BYTES          per-worker pipe size (0: just enough for max_reply)\n"
" readahead_kb=N           the mount's readahead (its bdi read_ahead_kb)\n"
" source_io=buffered|direct  read the source through the page cache or with\n"
"                          O_DIRECT (no second cached copy; aligned reads only)\n"
" rate_limit=BYTES/S       cap on all readers together (0: none; k/m/g ok)\n"
" pause=0|1                new reads wait until resumed; in-flight ones finish\n"
" log_level=err|warn|notice|info|debug\n"
" max_background=N, congestion_threshold=N  the kernel's limits (fusectl)\n"
" abort=1                  end the connection now: readers get ENOTCONN\n"
" max_reply is shown but fixed at mount.\n"
"\n"
"Mount contents: disk, pN, free/FIRST-LAST (unallocated sectors), by-partuuid/,\n"
"by-partlabel/, by-uuid/ (links to pN), layout.json (= --list --json).\n"
"\n"
"Exit status: 0 on success and on a clean unmount or SIGINT/SIGTERM,\n"
"1 on any error (one line on stderr says what and where), 3 when\n"
"--verify finds a different hash.\n"
"\n"
"Examples:\n"
" blkfuse --list evidence.dd\n"
" blkfuse evidence.dd /mnt/ev && mount -o ro,noload,loop /mnt/ev/p2 /mnt/fs\n"
" blkfuse -o allow_other /dev/sdb /mnt/sdb\n"
" fusermount3 -u /mnt/ev\n"
"\n",
		DEFAULT_THREADS, DEFAULT_MAX_REPLY);
}

/*
 * "--name X" becomes "--name=X": fuse_opt applies every template that
 * matches, and a "--name %s" template also matches "--name=X".
 */
static int join_long_opts(int argc, char *argv[], struct fuse_args *args)
{
	static const char *const with_value[] = {
		"--sector-size", "--ctl", "--name", "--ctl-mode", "--audit",
		"--verify", "--on-error",
	};

	for (int i = 0; i < argc; i++) {
		char *joined = NULL;

		for (size_t k = 0; k < sizeof(with_value) / sizeof(*with_value); k++)
			if (i > 0 && i + 1 < argc && !strcmp(argv[i], with_value[k]) &&
			    asprintf(&joined, "%s=%s", argv[i], argv[i + 1]) < 0)
				return -1;
		if (fuse_opt_add_arg(args, joined ? joined : argv[i]) != 0) {
			free(joined);
			return -1;
		}
		i += joined != NULL;
		free(joined);
	}
	return 0;
}

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct blk_cfg *cfg = data;

	(void)outargs;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (cfg->nargs == 0)
			cfg->source = strdup(arg);
		else if (cfg->nargs == 1)
			cfg->mountpoint = strdup(arg);
		cfg->nargs++;
		return 0;
	case FUSE_OPT_KEY_OPT:
		/* x-systemd.automount and friends are for fstab's readers */
		return strncmp(arg, "x-", 2) == 0 ? 0 : 1;
	case KEY_RW:
		cfg->bad_rw = 1;
		return 0;
	case KEY_SINGLE:
		cfg->threads = 1;
		return 0;
	}
	return 1;
}

static int usage_error(const char *fmt, const char *what)
{
	fprintf(stderr, "blkfuse: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\nTry 'blkfuse --help' for more information.\n");
	return EXIT_FAILURE;
}

static int check_cfg(const struct blk_cfg *cfg)
{
	unsigned int ss = cfg->sector_size;

	if (cfg->bad_rw)
		return usage_error("%s", "'rw' is not possible: blkfuse is read-only");
	if (!cfg->source)
		return usage_error("%s", "no SOURCE given");
	if (cfg->nargs > (cfg->list ? 1 : 2))
		return usage_error("%s", "too many arguments");
	if (!cfg->list && !cfg->mountpoint)
		return usage_error("%s", "no MOUNTPOINT given");
	if (ss && (ss < 512 || ss > 65536 || (ss & (ss - 1))))
		return usage_error("%s", "--sector-size must be a power of two from 512 to 65536");
	if (cfg->max_reply % 4096 || cfg->max_reply < 4096 ||
	    cfg->max_reply > 1024 * 1024)
		return usage_error("%s", "max_reply must be a multiple of 4096 from 4096 to 1048576");
	if (cfg->threads < 1 || cfg->threads > 64)
		return usage_error("%s", "max_threads must be from 1 to 64");
	if (cfg->ctl && strcmp(cfg->ctl, "auto") && strcmp(cfg->ctl, "cuse") &&
	    strcmp(cfg->ctl, "none"))
		return usage_error("--ctl must be auto, cuse or none, not %s", cfg->ctl);
	if (cfg->on_error && strcmp(cfg->on_error, "eio") &&
	    strcmp(cfg->on_error, "zero"))
		return usage_error("%s", "--on-error must be eio or zero");
	if (cfg->verify && !strchr(cfg->verify, ':'))
		return usage_error("%s", "--verify takes ALGO:HEX, e.g. sha256:9f86d0...");
	if (cfg->ctl_mode && strspn(cfg->ctl_mode, "01234567") != strlen(cfg->ctl_mode))
		return usage_error("%s", "--ctl-mode must be an octal mode such as 0660");
	if (cfg->name && (!cfg->name[0] || strstr(cfg->name, "..") ||
			  cfg->name[0] == '/' || strlen(cfg->name) > 48))
		return usage_error("%s", "--name must be 1-48 characters, not starting with '/' nor holding '..'");
	return 0;
}

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
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		blk_err("%s: %s", *path, strerror(ENOTDIR));
		return -1;
	}
	abs = realpath(*path, NULL);
	if (!abs) {
		blk_err("%s: %s", *path, strerror(errno));
		return -1;
	}
	free(*path);
	*path = abs;
	return 0;
}

static unsigned int read_pipe_max(void)
{
	unsigned int val = 0;
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "re");

	if (f) {
		if (fscanf(f, "%u", &val) != 1)
			val = 0;
		fclose(f);
	}
	return val;
}

/*
 * Can a worker's pipe hold the largest reply?  Try it, rather than guess
 * at capabilities: root here lacks CAP_SYS_RESOURCE.
 */
static void check_pipe_fits(const struct blk_ctx *ctx)
{
	size_t need = ctx->max_reply + 2 * 4096;
	int fds[2], res;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return;
	res = fcntl(fds[1], F_SETPIPE_SZ, need);
	close(fds[0]);
	close(fds[1]);
	if (res < 0)
		blk_warn("max_reply=%u needs %zu-byte pipes but fs.pipe-max-size is %u: reads that large will be copied, not spliced (lower max_reply or raise fs.pipe-max-size)",
			 ctx->max_reply, need, ctx->pipe_max);
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
		return -1;

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
	return res ? -1 : 0;
}

/* blkfuse-NAME from --name or the source's file name; unique in /dev. */
static void pick_ctl_name(struct blk_ctx *ctx, const char *name,
			  const char *source)
{
	char base[49], path[128];
	const char *b = strrchr(source, '/');
	struct stat st;

	snprintf(base, sizeof(base), "%s", name ? name : b ? b + 1 : source);
	for (char *p = base; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p) &&
		    !(name && *p == '/'))
			*p = '_';
	for (int i = 1; i < 100; i++) {
		if (i == 1)
			snprintf(ctx->ctl_name, sizeof(ctx->ctl_name),
				 "blkfuse-%s", base);
		else
			snprintf(ctx->ctl_name, sizeof(ctx->ctl_name),
				 "blkfuse-%s-%d", base, i);
		snprintf(path, sizeof(path), "/dev/%s", ctx->ctl_name);
		if (stat(path, &st) < 0)
			return;
	}
}

#define BLK_SIGNALS { SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2 }

/*
 * Wait for the end: a signal, or the connection ending (unmount, abort).
 * SIGUSR1 comes from a worker that saw the connection end, SIGUSR2 from
 * the control protocol's abort.
 */
static void wait_for_end(struct blk_ctx *ctx)
{
	static const int sigs[] = BLK_SIGNALS;
	const struct timespec settle = { 0, 100 * 1000 * 1000 };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaddset(&set, sigs[i]);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		switch (sig) {
		case SIGHUP:
			blk_audit_reopen(ctx);
			continue;
		case SIGUSR2:
			/* let the abort request's own reply go out first */
			nanosleep(&settle, NULL);
			blk_ctl_abort_now(ctx);
			continue;	/* the workers' SIGUSR1 follows */
		case SIGUSR1:
			return;
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

static int serve(struct blk_ctx *ctx, struct fuse_args *args,
		 const struct blk_cfg *cfg, int foreground)
{
	int ret = EXIT_FAILURE, err;

	ctx->se = fuse_session_new(args, &blk_fs_ops, sizeof(blk_fs_ops), ctx);
	if (!ctx->se)
		return EXIT_FAILURE;	/* libfuse said why */
	block_signals();
	if (fuse_session_mount(ctx->se, cfg->mountpoint) != 0)
		goto out_destroy_session;
	if (fuse_daemonize(foreground) != 0)
		goto out_unmount;
	if (!foreground)
		blk_log_to_syslog();
	err = blk_workers_start(ctx);
	if (err) {
		blk_err("cannot start worker threads: %s", strerror(-err));
		goto out_stop_workers;
	}
	blk_ctl_mounted(ctx);
	if (ctx->ctl_name[0]) {
		err = blk_cuse_start(ctx);
		if (err) {
			blk_err("/dev/%s: cannot create the CUSE node: %s",
				ctx->ctl_name, strerror(-err));
			goto out_stop_workers;
		}
	}
	blk_info("%s mounted on %s: %u files, %u threads, max_reply %u",
		 ctx->src.path, cfg->mountpoint, (unsigned int)ctx->tree.count - 1,
		 ctx->threads, ctx->max_reply);
	notify(cfg->notify_pipe, 's');
	wait_for_end(ctx);
	ret = EXIT_SUCCESS;

out_stop_workers:
	blk_cuse_stop(ctx);
	blk_workers_stop(ctx);
out_unmount:
	fuse_session_unmount(ctx->se);
	/* After an abort libfuse leaves the dead mount; it must not stay. */
	if (atomic_load(&ctx->aborted) && umount2(cfg->mountpoint, MNT_DETACH) < 0)
		blk_warn("%s: %s", cfg->mountpoint, strerror(errno));
out_destroy_session:
	fuse_session_destroy(ctx->se);
	ctx->se = NULL;
	return ret;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_cmdline_opts opts = { 0 };
	struct blk_cfg cfg = {
		.max_reply = DEFAULT_MAX_REPLY, .threads = DEFAULT_THREADS,
	};
	static struct blk_ctx ctx;
	struct blk_tree_opts tree_opts = { 0 };
	struct blk_forensic_opts fo;
	int ret = EXIT_FAILURE;

	if (argc > 1 && strcmp(argv[1], "ctl") == 0)
		return blk_ctl_main(argc - 1, argv + 1);

	if (argc > 1 && strcmp(argv[1], "hash") == 0)
		return blk_hash_main(argc - 1, argv + 1);

	blk_log_init();
	if (join_long_opts(argc, argv, &args) != 0 ||
	    fuse_opt_parse(&args, &cfg, blk_opts, opt_proc) != 0)
		goto out_notify;
	if (fuse_parse_cmdline(&args, &opts) != 0)
		goto out_notify;
	if (opts.show_help) {
		usage(stdout);
		printf("FUSE options:\n");
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = EXIT_SUCCESS;
		goto out_free_args;
	}
	if (opts.show_version) {
		printf("blkfuse %s (libfuse %s, libblkid)\n", BLKFUSE_VERSION,
		       fuse_pkgversion());
		ret = EXIT_SUCCESS;
		goto out_free_args;
	}
	if (check_cfg(&cfg) != 0)
		goto out_notify;
	if (opts.debug)
		blk_log_level = BLK_LOG_DEBUG;

	ctx.conn_opts = fuse_parse_conn_info_opts(&args);
	if (!ctx.conn_opts)
		goto out_notify;
	ctx.max_reply = cfg.max_reply;
	ctx.threads = cfg.threads;
	ctx.pipe_max = read_pipe_max();
	atomic_store(&ctx.tun.splice, !cfg.nosplice);
	atomic_store(&ctx.tun.pipe_size, cfg.pipe_size);
	clock_gettime(CLOCK_MONOTONIC, &ctx.stats.started);
	blk_ctl_init(&ctx);

	if (blk_source_open(&ctx.src, cfg.source, cfg.sector_size) != 0)
		goto out_notify;
	if (cfg.exclusive && blk_source_exclusive(&ctx.src) != 0)
		goto out_close_source;
	if (cfg.set_ro && !cfg.list && !ctx.src.is_blockdev) {
		blk_err("%s: --set-ro needs a block device", ctx.src.path);
		goto out_close_source;
	}
	if (blk_layout_probe(&ctx.src, &ctx.layout) != 0)
		goto out_close_source;
	if (cfg.list) {
		blk_list_print(&ctx.src, &ctx.layout, cfg.json);
		ret = EXIT_SUCCESS;
		goto out_free_layout;
	}
	if (check_mountpoint(&cfg.mountpoint) != 0)
		goto out_free_layout;
	ctx.mountpoint = cfg.mountpoint;
	ctx.ctl_mode = cfg.ctl_mode ? (int)strtol(cfg.ctl_mode, NULL, 8) : 0600;
	if (!cfg.ctl || !strcmp(cfg.ctl, "auto")) {
		if (blk_cuse_available())
			pick_ctl_name(&ctx, cfg.name, cfg.source);
		else
			blk_notice("no CUSE in this kernel (/dev/cuse): control file %s/" BLK_CTL_FILE " instead",
				   cfg.mountpoint);
		tree_opts.ctl_file = !ctx.ctl_name[0];
	} else if (!strcmp(cfg.ctl, "cuse")) {
		if (!blk_cuse_available()) {
			blk_err("/dev/cuse: %s (the kernel has no CUSE; use --ctl=auto)",
				strerror(errno));
			goto out_free_layout;
		}
		pick_ctl_name(&ctx, cfg.name, cfg.source);
	}
	tree_opts.no_free = cfg.no_free;
	if (blk_tree_build(&ctx.tree, &ctx.src, &ctx.layout, &tree_opts) != 0) {
		blk_err("%s", strerror(ENOMEM));
		goto out_free_tree;
	}
	if (add_mount_opts(&args, ctx.src.path) != 0)
		goto out_free_tree;
	check_pipe_fits(&ctx);
	ctx.on_error_zero = cfg.on_error && !strcmp(cfg.on_error, "zero");

	fo = (struct blk_forensic_opts){
		.verify = cfg.verify, .audit = cfg.audit, .set_ro = cfg.set_ro,
		.verify_after = cfg.verify_after, .mountpoint = cfg.mountpoint,
		.argc = argc, .argv = argv,
	};
	ret = blk_forensic_start(&ctx, &fo);
	if (ret == EXIT_SUCCESS)
		ret = serve(&ctx, &args, &cfg, opts.foreground);
	blk_forensic_stop(&ctx, &fo, ret);

out_free_tree:
	blk_tree_free(&ctx.tree);
out_free_layout:
	blk_layout_free(&ctx.layout);
out_close_source:
	blk_source_close(&ctx.src);
out_notify:
	if (ret != EXIT_SUCCESS)
		notify(cfg.notify_pipe, 'f');
out_free_args:
	blk_ctl_fini(&ctx);
	free(ctx.conn_opts);
	free(opts.mountpoint);
	free(cfg.ctl);
	free(cfg.name);
	free(cfg.ctl_mode);
	free(cfg.audit);
	free(cfg.verify);
	free(cfg.on_error);
	free(cfg.source);
	free(cfg.mountpoint);
	free(cfg.notify_pipe);
	fuse_opt_free_args(&args);
	return ret;
}
