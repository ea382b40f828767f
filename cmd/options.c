// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The command line of the daemon and of --list: one fuse_opt table and the
 * checks that run before anything is opened (the help text: options_help.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <fuse_lowlevel.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/chain.h"
#include "cmd/options.h"
#include "fs/fsvol.h"
#include "volume/volume.h"
#include "source/source.h"
#include "serve/uring.h"
#include "base/util.h"
#include "volume/crypt.h"

enum { KEY_RW, KEY_SINGLE, KEY_FUSE };

#define BLK_OPT(t, p, v) { t, offsetof(struct blk_cfg, p), v }

static const struct fuse_opt blk_opts[] = {
	BLK_OPT("--list", list, 1),
	BLK_OPT("-l", list, 1),
	BLK_OPT("--json", json, 1),
	BLK_OPT("--no-free", no_free, 1),
	BLK_OPT("--extents-anywhere", extents_anywhere, 1),
	BLK_OPT("--exclusive", exclusive, 1),
	BLK_OPT("--set-ro", set_ro, 1),
	BLK_OPT("--audit=%s", audit, 0),
	BLK_OPT("--verify=%s", verify, 0),
	BLK_OPT("--verify-after", verify_after, 1),
	BLK_OPT("--on-error=%s", on_error, 0),
	BLK_OPT("--format=%s", format, 0),
	/* the same as -o words, for fstab and .mount units */
	BLK_OPT("exclusive", exclusive, 1),
	BLK_OPT("set_ro", set_ro, 1),
	BLK_OPT("audit=%s", audit, 0),
	BLK_OPT("verify=%s", verify, 0),
	BLK_OPT("verify_after", verify_after, 1),
	BLK_OPT("on_error=%s", on_error, 0),
	BLK_OPT("format=%s", format, 0),
	BLK_OPT("cache_mb=%u", cache_mb, 0),
	BLK_OPT("cache_mb=", cache_mb_given, 1),
	BLK_OPT("--backing-dir=%s", backing_dir, 0),
	BLK_OPT("backing_dir=%s", backing_dir, 0),
	BLK_OPT("nofree", no_free, 1),
	BLK_OPT("--no-fs", no_fs, 1),
	BLK_OPT("nofs", no_fs, 1),
	BLK_OPT("--sector-size=%u", sector_size, 0),
	BLK_OPT("sector_size=%u", sector_size, 0),
	BLK_OPT("max_reply=%u", max_reply, 0),
	BLK_OPT("max_threads=%u", threads, 0),
	BLK_OPT("pipe_size=%u", pipe_size, 0),
	BLK_OPT("source_readahead_kb=%u", source_ra_kb, 0),
	BLK_OPT("readahead_kb=%u", readahead_kb, 0),
	BLK_OPT("nosplice", nosplice, 1),
	BLK_OPT("transport=%s", transport, 0),
	BLK_OPT("clone_fd", clone_fd, 1),
	BLK_OPT("noclone_fd", clone_fd, 0),
	BLK_OPT("notify_pipe=%s", notify_pipe, 0),
	BLK_OPT("--ctl=%s", ctl, 0),
	BLK_OPT("--name=%s", name, 0),
	BLK_OPT("--ctl-mode=%s", ctl_mode, 0),
	BLK_OPT("--pidfile=%s", pidfile, 0),
	BLK_OPT("--passphrase-file=%s", passphrase_file, 0),
	BLK_OPT("passphrase_file=%s", passphrase_file, 0),
	BLK_OPT("--key-file=%s", key_file, 0),
	BLK_OPT("key_file=%s", key_file, 0),
	BLK_OPT("--ask-passphrase", ask_passphrase, 1),
	FUSE_OPT_KEY("rw", KEY_RW),
	/* what libfuse does for us: passed on, everything else is refused */
	FUSE_OPT_KEY("-f", KEY_FUSE),
	FUSE_OPT_KEY("-d", KEY_FUSE),
	FUSE_OPT_KEY("debug", KEY_FUSE),
	FUSE_OPT_KEY("-h", KEY_FUSE),
	FUSE_OPT_KEY("--help", KEY_FUSE),
	FUSE_OPT_KEY("-V", KEY_FUSE),
	FUSE_OPT_KEY("--version", KEY_FUSE),
	FUSE_OPT_KEY("allow_other", KEY_FUSE),
	FUSE_OPT_KEY("allow_root", KEY_FUSE),
	FUSE_OPT_KEY("max_readahead=", KEY_FUSE),
	FUSE_OPT_KEY("nodev", KEY_FUSE),
	FUSE_OPT_KEY("nosuid", KEY_FUSE),
	FUSE_OPT_KEY("noexec", KEY_FUSE),
	FUSE_OPT_KEY("exec", KEY_FUSE),
	FUSE_OPT_KEY("noatime", KEY_FUSE),
	FUSE_OPT_KEY("atime", KEY_FUSE),
	FUSE_OPT_KEY("nodiratime", KEY_FUSE),
	FUSE_OPT_KEY("diratime", KEY_FUSE),
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
	/* mount.fuse3 adds these as root; files here are never dev nor suid */
	FUSE_OPT_KEY("dev", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("suid", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("relatime", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("async", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_END
};

/*
 * "--name X" becomes "--name=X": fuse_opt applies every template that
 * matches, and a "--name %s" template also matches "--name=X".  The
 * options that take a value are those of blk_opts spelled "--opt=%".
 */
static bool takes_value(const char *arg)
{
	size_t n = strlen(arg);

	for (const struct fuse_opt *o = blk_opts; o->templ; o++)
		if (!strncmp(o->templ, "--", 2) && !strncmp(o->templ, arg, n) &&
		    o->templ[n] == '=' && o->templ[n + 1] == '%')
			return true;
	return false;
}

static int join_long_opts(int argc, char *argv[], struct fuse_args *args)
{
	for (int i = 0; i < argc; i++) {
		char *joined = NULL;

		if (i > 0 && i + 1 < argc && !strncmp(argv[i], "--", 2) &&
		    !strchr(argv[i], '=') && takes_value(argv[i]) &&
		    asprintf(&joined, "%s=%s", argv[i], argv[i + 1]) < 0)
			return -ENOMEM;
		if (fuse_opt_add_arg(args, joined ? joined : argv[i]) != 0) {
			free(joined);
			return -ENOMEM;
		}
		i += joined != NULL;
		free(joined);
	}
	return 0;
}

/* The command name of process pid into buf ("" if unknown); its parent's pid. */
static pid_t comm_and_parent(pid_t pid, char *buf, size_t len)
{
	char path[64], stat[512], *p;
	pid_t ppid = 0;
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(stat, sizeof(stat), f)) {
		char *open = strchr(stat, '('), *close = strrchr(stat, ')');

		if (open && close && close > open) {
			*close = '\0';
			snprintf(buf, len, "%s", open + 1);
			p = close + 2;	/* "S PPID ..." */
			if (sscanf(p, "%*c %d", &ppid) != 1)
				ppid = 0;
		}
	}
	fclose(f);
	return ppid;
}

/*
 * mount(8) always hands mount.fuse3 "rw" or "ro", and mount.fuse3 becomes
 * "/bin/sh -c 'blkfuse ...'": a "rw" is mount(8)'s doing when our parent
 * is mount.fuse3, or a shell whose parent is mount(8) or mount.fuse3.
 * Typed by a person (parent: an interactive shell, sudo...) it is not.
 */
static bool started_by_mount_helper(void)
{
	char comm[32];
	pid_t pid = comm_and_parent(getppid(), comm, sizeof(comm));

	if (!strncmp(comm, "mount.fuse", 10))
		return true;
	if (strcmp(comm, "sh") && strcmp(comm, "dash") && strcmp(comm, "bash"))
		return false;
	comm_and_parent(pid, comm, sizeof(comm));
	return !strcmp(comm, "mount") || !strncmp(comm, "mount.fuse", 10);
}

/* The first unknown option, for the one line check_cfg prints. */
static void refuse(struct blk_cfg *cfg, const char *arg)
{
	if (cfg->bad_opt)
		return;
	if (!strncmp(arg, "--", 2) && takes_value(arg)) {
		if (asprintf(&cfg->bad_opt, "option '%s' needs an argument",
			     arg) < 0)
			cfg->bad_opt = NULL;
	} else if (asprintf(&cfg->bad_opt, "unrecognized option '%s%s'",
			    arg[0] == '-' ? "" : "-o ", arg) < 0) {
		cfg->bad_opt = NULL;
	}
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
		if (strncmp(arg, "x-", 2) != 0)
			refuse(cfg, arg);
		return 0;
	case KEY_FUSE:
		/* the user's cap on the kernel's readahead: ours stays off it */
		if (!strncmp(arg, "max_readahead=", 14))
			cfg->max_readahead_given = 1;
		return 1;
	case KEY_RW:
		if (started_by_mount_helper())
			cfg->rw_from_mount = 1;
		else
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
	fprintf(stderr, "blkfuse: error: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\nTry 'blkfuse --help' for more information.\n");
	return EXIT_FAILURE;
}

/* "--format must be auto, raw, ... or vhdx, not X" from the table. */
static int bad_format(const char *given)
{
	char words[256], *last;

	blk_image_format_words(words, sizeof(words), ", ");
	last = strrchr(words, ',');
	if (!last)
		return usage_error("--format must be %s", words);
	*last = '\0';
	fprintf(stderr, "blkfuse: error: --format must be %s or %s, not %s\n"
		"Try 'blkfuse --help' for more information.\n", words,
		last + 2, given);
	return EXIT_FAILURE;
}

static int check_cfg(const struct blk_cfg *cfg)
{
	unsigned int ss = cfg->sector_size;

	if (cfg->bad_opt)
		return usage_error("%s", cfg->bad_opt);
	if (cfg->json && !cfg->list)
		return usage_error("%s", "--json needs --list");
	if (cfg->json && !cfg->columns &&
	    (cfg->bytes || cfg->noheadings || cfg->raw || cfg->pairs))
		return usage_error("%s", "--json without -o is the layout document: -b, -n, -r and -P need -o");
	if (cfg->bad_rw)
		return usage_error("%s", "'rw' is not possible: blkfuse is read-only");
	if (!cfg->source)
		return usage_error("%s", "no SOURCE given");
	if (cfg->nargs > (cfg->list ? 1 : 2))
		return usage_error("%s", "too many arguments");
	if (!cfg->list && !cfg->mountpoint)
		return usage_error("%s", "no MOUNTPOINT given");
	if (ss && !blk_sector_size_valid(ss))
		return usage_error("%s", "--sector-size must be a power of two from 512 to 65536");
	if (cfg->max_reply % 4096 || cfg->max_reply < 4096 ||
	    cfg->max_reply > 1024 * 1024)
		return usage_error("%s", "max_reply must be a multiple of 4096 from 4096 to 1048576");
	if (cfg->readahead_kb != BLK_RA_DEFAULT && cfg->readahead_kb > 1048576)
		return usage_error("%s", "readahead_kb must be 0..1048576");
	if (cfg->cache_mb_given && cfg->cache_mb > BLK_IMAGE_CACHE_MB_MAX)
		return usage_error("%s", "cache_mb must be 0..1024");
	if (cfg->source_ra_kb > 1048576)
		return usage_error("%s", "source_readahead_kb must be 0..1048576");
	if (cfg->transport && strcmp(cfg->transport, "auto") &&
	    strcmp(cfg->transport, "dev") && strcmp(cfg->transport, "uring"))
		return usage_error("transport must be auto, dev or uring, not %s",
				   cfg->transport);
	if (cfg->threads < 1 || cfg->threads > 64)
		return usage_error("%s", "max_threads must be from 1 to 64");
	if (cfg->ctl && strcmp(cfg->ctl, "auto") && strcmp(cfg->ctl, "cuse") &&
	    strcmp(cfg->ctl, "none"))
		return usage_error("--ctl must be auto, cuse or none, not %s", cfg->ctl);
	if (cfg->on_error && strcmp(cfg->on_error, "eio") &&
	    strcmp(cfg->on_error, "zero"))
		return usage_error("%s", "--on-error must be eio or zero");
	if (cfg->verify && !strchr(cfg->verify, ':') &&
	    strcmp(cfg->verify, "stored"))
		return usage_error("%s", "--verify takes [NAME=]ALGO:HEX, e.g. sha256:9f86d0... or p3.d/luks=sha256:9f86d0..., or 'stored'");
	if (cfg->format && !blk_image_format_known(cfg->format))
		return bad_format(cfg->format);
	if (cfg->ctl_mode && strspn(cfg->ctl_mode, "01234567") != strlen(cfg->ctl_mode))
		return usage_error("%s", "--ctl-mode must be an octal mode such as 0660");
	if (cfg->name && (!cfg->name[0] || strstr(cfg->name, "..") ||
			  cfg->name[0] == '/' || strlen(cfg->name) > 48))
		return usage_error("%s", "--name must be 1-48 characters, not starting with '/' nor holding '..'");
	return 0;
}


/* Is this the --list command line?  Its -o is columns, not mount options. */
static bool is_list(int argc, char *argv[])
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-l") || !strcmp(argv[i], "--list"))
			return true;
	return false;
}

/* getopt's complaint, in our words: the option as typed. */
static int getopt_error(int c, char *argv[])
{
	char opt[3] = { '-', (char)optopt, '\0' };
	const char *what = optopt && strncmp(argv[optind - 1], "--", 2) ?
			   opt : argv[optind - 1];

	if (c == ':')
		return usage_error("option '%s' needs an argument", what);
	return usage_error("unrecognized option '%s'", what);
}

/* --list [-J] [-o COLS] [-b] [-n] [-r] [-P] [--sector-size N] SOURCE */
static int parse_list(int argc, char *argv[], struct blk_cfg *cfg)
{
	enum { OPT_SS = 256, OPT_EXCL, OPT_SETRO, OPT_FORMAT, OPT_PASSFILE,
	       OPT_KEYFILE, OPT_ASK, OPT_BACKING, OPT_NOFS };
	static const struct option longopts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'J' },
		{ "output", required_argument, NULL, 'o' },
		{ "bytes", no_argument, NULL, 'b' },
		{ "noheadings", no_argument, NULL, 'n' },
		{ "raw", no_argument, NULL, 'r' },
		{ "pairs", no_argument, NULL, 'P' },
		{ "sector-size", required_argument, NULL, OPT_SS },
		{ "exclusive", no_argument, NULL, OPT_EXCL },
		{ "set-ro", no_argument, NULL, OPT_SETRO },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "passphrase-file", required_argument, NULL, OPT_PASSFILE },
		{ "key-file", required_argument, NULL, OPT_KEYFILE },
		{ "ask-passphrase", no_argument, NULL, OPT_ASK },
		{ "backing-dir", required_argument, NULL, OPT_BACKING },
		{ "no-fs", no_argument, NULL, OPT_NOFS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":lJo:bnrPh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': cfg->list = 1; break;
		case 'J': cfg->json = 1; break;
		case 'o': cfg->columns = optarg; break;
		case 'b': cfg->bytes = 1; break;
		case 'n': cfg->noheadings = 1; break;
		case 'r': cfg->raw = 1; break;
		case 'P': cfg->pairs = 1; break;
		case OPT_EXCL: cfg->exclusive = 1; break;
		case OPT_SETRO: cfg->set_ro = 1; break;
		case OPT_FORMAT:
			free(cfg->format);
			cfg->format = strdup(optarg);
			break;
		case OPT_PASSFILE:
			free(cfg->passphrase_file);
			cfg->passphrase_file = strdup(optarg);
			break;
		case OPT_KEYFILE:
			free(cfg->key_file);
			cfg->key_file = strdup(optarg);
			break;
		case OPT_ASK: cfg->ask_passphrase = 1; break;
		case OPT_NOFS: cfg->no_fs = 1; break;	/* no libtsk survey */
		case OPT_BACKING:
			free(cfg->backing_dir);
			cfg->backing_dir = strdup(optarg);
			break;
		case OPT_SS:
			cfg->sector_size = strtoul(optarg, &end, 10);
			if (*end || !cfg->sector_size)
				cfg->sector_size = 1;	/* refused below */
			break;
		case 'h':
			blk_options_usage(stdout);
			return EXIT_SUCCESS;
		default:
			return getopt_error(c, argv);
		}
	}
	if (cfg->raw + cfg->pairs + (cfg->json && cfg->columns) > 1)
		return usage_error("%s", "--raw, --pairs and --json (with -o) exclude each other");
	for (; optind < argc; optind++)
		opt_proc(cfg, argv[optind], FUSE_OPT_KEY_NONOPT, NULL);
	return check_cfg(cfg) ? EXIT_FAILURE : -1;
}

int blk_options_parse(int argc, char *argv[], struct blk_cfg *cfg,
		      struct fuse_args *args)
{
	if (is_list(argc, argv))
		return parse_list(argc, argv, cfg);
	if (join_long_opts(argc, argv, args) != 0 ||
	    fuse_opt_parse(args, cfg, blk_opts, opt_proc) != 0)
		return EXIT_FAILURE;	/* libfuse said why */
	if (cfg->bad_opt)
		return check_cfg(cfg) ? EXIT_FAILURE : -1;
	if (fuse_parse_cmdline(args, &cfg->fuse) != 0)
		return EXIT_FAILURE;	/* libfuse said why */
	if (cfg->fuse.show_help) {
		blk_options_usage(stdout);
		return EXIT_SUCCESS;
	}
	if (cfg->fuse.show_version) {
		char fmts[256], vols[128];

		blk_image_built_formats(fmts, sizeof(fmts));
		blk_vol_driver_names(vols, sizeof(vols));
		printf("blkfuse %s (libfuse %s, libblkid, libsmartcols)\nformats: %s\nvolumes: %s\ntransports: dev%s\nfs/: %s\n",
		       BLKFUSE_VERSION, fuse_pkgversion(), fmts, vols,
		       blk_uring_built() ? " uring" : "", blk_fsvol_version());
		return EXIT_SUCCESS;
	}
	if (check_cfg(cfg) != 0)
		return EXIT_FAILURE;
	return -1;
}

void blk_options_free(struct blk_cfg *cfg)
{
	free(cfg->fuse.mountpoint);
	free(cfg->ctl);
	free(cfg->name);
	free(cfg->ctl_mode);
	free(cfg->audit);
	free(cfg->verify);
	free(cfg->on_error);
	free(cfg->format);
	free(cfg->backing_dir);
	blk_chain_allow_reset();
	free(cfg->source);
	free(cfg->mountpoint);
	free(cfg->notify_pipe);
	free(cfg->bad_opt);
	free(cfg->pidfile);
	free(cfg->transport);
	free(cfg->passphrase_file);
	free(cfg->key_file);
}

void blk_cfg_key_sources(const struct blk_cfg *cfg, struct blk_key_sources *ks)
{
	*ks = (struct blk_key_sources){ .passphrase_file = cfg->passphrase_file,
		.key_file = cfg->key_file, .ask = cfg->ask_passphrase };
}
