/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's command line (options.c). */
#ifndef BLK_OPTIONS_H
#define BLK_OPTIONS_H

#include <fuse_lowlevel.h>
#include <stdint.h>
#include <stdio.h>

#define DEFAULT_MAX_REPLY (512u * 1024)
#define DEFAULT_THREADS 4
#define DEFAULT_SOURCE_RA_KB 4096
#define DEFAULT_CLONE_FD 0
/* The mount's readahead (bdi read_ahead_kb): 128 KiB, the kernel's
 * default, halves a first sequential read (bench/NOTES.md). */
#define DEFAULT_READAHEAD_KB 1024
#define BLK_RA_DEFAULT UINT32_MAX	/* readahead_kb not typed */

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
	unsigned int source_ra_kb;
	unsigned int readahead_kb;	/* BLK_RA_DEFAULT: not typed */
	int max_readahead_given;	/* -o max_readahead= (libfuse's) */
	int nosplice;
	char *transport;		/* auto, dev, uring */
	int clone_fd;			/* 1, 0, or -1: the default */
	char *notify_pipe;
	char *ctl;
	char *name;
	char *ctl_mode;
	int bad_rw;			/* -o rw typed: refused */
	int rw_from_mount;		/* rw from mount(8): taken as ro */
	char *bad_opt;			/* the first unknown option */
	char *pidfile;
	int no_free;
	int no_fs;			/* no fs/ (files inside the volumes) */
	int extents_anywhere;		/* VMDK extents outside its folder */
	int exclusive;
	int set_ro;
	char *audit;
	char *verify;
	int verify_after;
	char *on_error;
	char *format;			/* --format, NULL: auto */
	/* secrets for encrypted volumes: paths only, never the secrets */
	char *passphrase_file;		/* --passphrase-file, passphrase_file= */
	char *key_file;			/* --key-file, key_file= */
	int ask_passphrase;		/* --ask-passphrase */
	char *backing_dir;		/* --backing-dir: snapshot parents may be there */
	unsigned int cache_mb;		/* -o cache_mb= (when cache_mb_given) */
	int cache_mb_given;
	struct fuse_cmdline_opts fuse;	/* -f, -d, -h, -V ... */
	/* --list's own command line (list_opts in options.c) */
	const char *columns;		/* -o/--output */
	int bytes, noheadings, raw, pairs;
};

/*
 * Parse argv into cfg and the arguments left for libfuse (args).
 * -1: go on; otherwise the exit status (help, version, a usage error:
 * printed).
 */
int blk_options_parse(int argc, char *argv[], struct blk_cfg *cfg,
		      struct fuse_args *args);
void blk_options_free(struct blk_cfg *cfg);
/* The help text (options_help.c). */
void blk_options_usage(FILE *out);

/* cfg's key options as the keyring takes them (volume/crypt.h). */
struct blk_key_sources;
void blk_cfg_key_sources(const struct blk_cfg *cfg, struct blk_key_sources *ks);

#endif /* BLK_OPTIONS_H */
