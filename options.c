// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The command line of the daemon and of --list: one fuse_opt table, the
 * help text, and the checks that run before anything is opened.
 */
#include <errno.h>
#include <stdbool.h>
#include <fuse_lowlevel.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "source.h"
#include "util.h"

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
	BLK_OPT("--format=%s", format, 0),
	BLK_OPT("nofree", no_free, 1),
	BLK_OPT("--sector-size=%u", sector_size, 0),
	BLK_OPT("sector_size=%u", sector_size, 0),
	BLK_OPT("max_reply=%u", max_reply, 0),
	BLK_OPT("max_threads=%u", threads, 0),
	BLK_OPT("pipe_size=%u", pipe_size, 0),
	BLK_OPT("source_readahead_kb=%u", source_ra_kb, 0),
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
"     --format=FMT         auto (default: by content), raw, ewf, split, aff,\n"
"                          qcow2, vmdk, vhd or vhdx (--version: what this\n"
"                          build reads); --verify stored checks the hashes\n"
"                          an E01 or AFF holds\n"
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
" source_readahead_kb=N    blkfuse's own readahead on the source for each\n"
"                          sequential reader of a file, up to N KiB ahead\n"
"                          (default %u; 0: off)\n"
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
" source_readahead_kb=N    blkfuse's readahead on the source (0: off)\n"
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
		DEFAULT_THREADS, DEFAULT_MAX_REPLY, DEFAULT_SOURCE_RA_KB);
}

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

static bool blk_format_valid(const char *f)
{
	for (const char *const *w = blk_image_formats; *w; w++)
		if (!strcmp(*w, f))
			return true;
	return false;
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
	if (ss && !blk_sector_size_valid(ss))
		return usage_error("%s", "--sector-size must be a power of two from 512 to 65536");
	if (cfg->max_reply % 4096 || cfg->max_reply < 4096 ||
	    cfg->max_reply > 1024 * 1024)
		return usage_error("%s", "max_reply must be a multiple of 4096 from 4096 to 1048576");
	if (cfg->source_ra_kb > 1048576)
		return usage_error("%s", "source_readahead_kb must be 0..1048576");
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
		return usage_error("%s", "--verify takes ALGO:HEX, e.g. sha256:9f86d0..., or 'stored'");
	if (cfg->format && !blk_format_valid(cfg->format))
		return usage_error("--format must be auto, raw, ewf, split, aff, qcow2, vmdk, vhd or vhdx, not %s",
				   cfg->format);
	if (cfg->ctl_mode && strspn(cfg->ctl_mode, "01234567") != strlen(cfg->ctl_mode))
		return usage_error("%s", "--ctl-mode must be an octal mode such as 0660");
	if (cfg->name && (!cfg->name[0] || strstr(cfg->name, "..") ||
			  cfg->name[0] == '/' || strlen(cfg->name) > 48))
		return usage_error("%s", "--name must be 1-48 characters, not starting with '/' nor holding '..'");
	return 0;
}


int blk_options_parse(int argc, char *argv[], struct blk_cfg *cfg,
		      struct fuse_args *args)
{
	if (join_long_opts(argc, argv, args) != 0 ||
	    fuse_opt_parse(args, cfg, blk_opts, opt_proc) != 0 ||
	    fuse_parse_cmdline(args, &cfg->fuse) != 0)
		return EXIT_FAILURE;	/* libfuse said why */
	if (cfg->fuse.show_help) {
		usage(stdout);
		printf("FUSE options:\n");
		fuse_cmdline_help();
		fuse_lowlevel_help();
		return EXIT_SUCCESS;
	}
	if (cfg->fuse.show_version) {
		char fmts[256];

		blk_image_built_formats(fmts, sizeof(fmts));
		printf("blkfuse %s (libfuse %s, libblkid)\nformats: %s\n",
		       BLKFUSE_VERSION, fuse_pkgversion(), fmts);
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
	free(cfg->source);
	free(cfg->mountpoint);
	free(cfg->notify_pipe);
}
