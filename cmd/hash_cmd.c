// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkfuse hash: the command line over the hash engine (core/hash.c).
 * Names are the files of a mount (disk, pN, a volume as p3.d/vg0-root);
 * output is what sha256sum -c checks.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hash.h"
#include "cmd/hash_cmd.h"
#include "volume/crypt.h"
#include "cmd/hash_fs.h"
#include "volume/layout.h"
#include "volume/volume.h"
#include "layer/layer.h"
#include "base/log.h"
#include "base/util.h"
#include "source/image_info.h"
#include "serve/probe_mount.h"

#define EXIT_READ	2	/* documented in usage() */
#define EXIT_STORED	3	/* a stored hash differs, as --verify's 3 */
#define KNOWN_ALGOS "sha256, sha1, md5"

/* ---- blkfuse hash ------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
"Usage:\n"
" blkfuse hash [--algo ALGO[,ALGO...]] [--tag] [--sector-size N]\n"
"              [--passphrase-file FILE] [--key-file FILE] [--ask-passphrase]\n"
"              SOURCE [NAME...]\n"
"\n"
"Print digests of a block device or raw disk image and of its partitions,\n"
"computed in one sequential read of SOURCE (the digests themselves run in\n"
"parallel, up to one thread per CPU). NAME is 'disk', the whole source\n"
"(the default when no NAME is given), 'pN', partition N as\n"
"'blkfuse --list SOURCE' shows it, or a volume inside one (p3.d/vg0-root,\n"
"p3.d/luks). Each NAME covers exactly the bytes of\n"
"MOUNTPOINT/NAME in a blkfuse mount of SOURCE: a partition running past\n"
"the end is clipped there, a DOS extended partition is its first 1 KiB\n"
"(or sector, if larger) as the kernel shows it. NAME 'fs/VOLUME/PATH' is\n"
"the file MOUNTPOINT/fs/VOLUME/PATH (VOLUME 'disk', 'pN' or a volume inside\n"
"one: fs/p3.d/luks/etc/fstab), read through libtsk as the mount reads it. SOURCE is opened O_RDONLY and nothing is\n"
"ever written to it.\n"
"\n"
"Options:\n"
" -a, --algo LIST          digests to compute, comma-separated, in the order\n"
"                          printed: sha256, sha1, md5, in any case (default:\n"
"                          sha256); may be repeated\n"
"     --tag                print the BSD tagged format even for one digest\n"
"     --sector-size N      logical sector size the partition table was\n"
"                          written for, as for mounting (default: the\n"
"                          container's own, BLKSSZGET for block devices,\n"
"                          else 512)\n"
"     --format=FMT         read SOURCE as FMT, as for mounting (default:\n"
"                          auto, by content)\n"
"     --passphrase-file FILE, --key-file FILE, --ask-passphrase\n"
"                          secrets for encrypted volumes, as for mounting\n"
"                          (see blkfuse --help); never printed\n"
" -h, --help               print this help and exit\n"
"\n"
"Output, on stdout: for each ALGO in --algo order, one line per NAME in the\n"
"order given (a NAME given twice is printed once). With one ALGO a line is\n"
"'HEX  NAME', as sha256sum prints it; with several, or with --tag, it is\n"
"'SHA256 (NAME) = HEX', as sha256sum --tag prints it. Both are what\n"
"'sha256sum -c', 'sha1sum -c' and 'md5sum -c' check, in a directory holding\n"
"files named NAME such as a blkfuse mount of SOURCE. Given a file with\n"
"several ALGOs, each of those checks its own lines and warns about the\n"
"rest; 'cksum -c' (coreutils 9) checks them all.\n"
"\n"
"A container that stores hashes of its media (E01, AFF): each stored hash\n"
"is compared with the digest of 'disk' when 'disk' and that ALGO are asked\n"
"for, and stderr says, for each, 'matches', 'DIFFERS' (exit status %d) or\n"
"'not checked' and what to add.\n"
"\n"
"While stderr is a terminal, a progress line shows the bytes read, the\n"
"rate and the time left, at most four times a second; it is erased at the\n"
"end. Nothing is drawn when stderr is not a terminal.\n"
"\n"
"Exit status:\n"
" 0  every digest printed\n"
" 1  usage error, unknown ALGO or NAME, SOURCE cannot be opened, or\n"
"    stdout cannot be written\n"
" %d  read error: one line on stderr gives SOURCE and the byte offset of\n"
"    the first read that failed, narrowed down to one sector; nothing is\n"
"    printed on stdout, not even for NAMEs read before the error\n"
" %d  a hash the container stores differs from the media's\n"
"\n"
"Examples:\n"
" blkfuse hash -a sha256,md5 /dev/sdb disk p1 p2 > sdb.sums\n"
" blkfuse hash evidence.dd disk p1 p2 > ~/evidence.sha256\n"
" blkfuse evidence.dd /mnt/ev && cd /mnt/ev && sha256sum -c ~/evidence.sha256\n"
"\n", EXIT_STORED, EXIT_READ, EXIT_STORED);
}

/* Add each name in "sha256,md5" to order[], once; "" is no name. */
static int parse_algos(char *list, int *order, unsigned int *norder)
{
	for (char *tok; (tok = strsep(&list, ","));) {
		int a = blk_hash_algo_parse(tok);
		unsigned int i;

		if (a < 0) {
			blk_err("--algo: unknown algorithm '%s' (known: %s)",
				tok, KNOWN_ALGOS);
			return -1;
		}
		for (i = 0; i < *norder && order[i] != a; i++)
			;
		if (i == *norder)
			order[(*norder)++] = a;
	}
	return 0;
}

#define FSFILE (-3)	/* fs/VOLUME/PATH: a file inside (hash_fs.c) */

/* "disk" -> 0, "pN" -> N, a volume -> BLK_HASH_VOLUME, a file inside ->
 * FSFILE, else -1.  Only the spelling a mount uses. */
static int parse_name(const char *name)
{
	return blk_hash_fs_name(name) ? FSFILE : blk_hash_name_parse(name);
}

/* One range per distinct NAME, in the order given; lay[k]: a volume's. */
static int make_ranges(const struct blk_source *src,
		       const struct blk_layout *lo, char **names,
		       unsigned int nnames, struct blk_hash_range *r,
		       struct blk_layer **lay, unsigned int *n)
{
	for (unsigned int i = 0; i < nnames; i++) {
		struct blk_hash_target t = { 0 };
		unsigned int k;

		for (k = 0; k < *n && strcmp(r[k].name, names[i]); k++)
			;
		if (k < *n)
			continue;
		/* a file inside: hashed apart (run), an empty range here */
		if (parse_name(names[i]) != FSFILE &&
		    blk_hash_target_find(src, lo, names[i], &t) != 0)
			return -1;
		r[*n].name = names[i];
		r[*n].start = t.start;
		r[*n].size = t.size;
		lay[*n] = t.layer;
		(*n)++;
	}
	return 0;
}

static int print_sums(const struct blk_hash_range *r, unsigned int n,
		      const int *order, unsigned int norder, bool tag)
{
	char hex[2 * BLK_HASH_MAX_LEN + 1];

	for (unsigned int k = 0; k < norder; k++) {
		int a = order[k];

		for (unsigned int i = 0; i < n; i++) {
			blk_hash_hex(hex, r[i].md[a], a);
			if (tag)
				printf("%s (%s) = %s\n", blk_hash_algo_tag(a),
				       r[i].name, hex);
			else
				printf("%s  %s\n", hex, r[i].name);
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		blk_err("stdout: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct hash_args {
	const char *format;		/* --format, NULL: auto */
	int order[BLK_HASH_NR];		/* algorithms in --algo order */
	unsigned int norder, mask;
	unsigned int sector_size;
	bool tag, need_table, need_stack;
	struct blk_key_sources keys;	/* paths only */
	const char *source;
	char **names;
	unsigned int nnames;
};

static int usage_error(const char *what, const char *msg)
{
	blk_err("%s: %s; see 'blkfuse hash --help'", what, msg);
	return EXIT_FAILURE;
}

/* As the daemon and ctl say it: the option as typed, then where to look. */
static int option_error(int c, char *argv[])
{
	char opt[3] = { '-', (char)optopt, '\0' };

	fprintf(stderr, c == ':' ? "blkfuse: error: option '%s' needs an argument\n" :
		"blkfuse: error: unrecognized option '%s'\n",
		optopt && strncmp(argv[optind - 1], "--", 2) ? opt :
		argv[optind - 1]);
	fprintf(stderr, "Try 'blkfuse hash --help' for more information.\n");
	return EXIT_FAILURE;
}

/* A plain decimal power of two from 512 to 65536 (no suffixes). */
static int parse_sector_size(const char *arg, unsigned int *ss)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || !blk_sector_size_valid(v))
		return -EINVAL;
	*ss = v;
	return 0;
}

/* The options into a; -1 to go on, else the exit status. */
static int parse_options(int argc, char *argv[], struct hash_args *a)
{
	static const struct option longopts[] = {
		{ "algo", required_argument, NULL, 'a' },
		{ "tag", no_argument, NULL, 'T' },
		{ "sector-size", required_argument, NULL, 'S' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "key-file", required_argument, NULL, 'K' },
		{ "ask-passphrase", no_argument, NULL, 'A' },
		{ "format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":a:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (parse_algos(optarg, a->order, &a->norder) != 0)
				return EXIT_FAILURE;
			break;
		case 'T':
			a->tag = true;
			break;
		case 'P':
			a->keys.passphrase_file = optarg;
			break;
		case 'K':
			a->keys.key_file = optarg;
			break;
		case 'A':
			a->keys.ask = true;
			break;
		case 'S':
			if (parse_sector_size(optarg, &a->sector_size) != 0)
				return usage_error("--sector-size",
					"must be a power of two from 512 to 65536");
			break;
		case 'F':
			a->format = optarg;	/* blk_source_open_as checks it */
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			return option_error(c, argv);
		}
	}
	return -1;
}

/* SOURCE and NAMEs into a; -1 to go on, else the exit status. */
static int parse_operands(int argc, char *argv[], struct hash_args *a)
{
	static char disk[] = "disk";
	static char *default_names[] = { disk };

	if (optind >= argc)
		return usage_error("hash", "no SOURCE given");
	a->source = argv[optind];
	if (a->norder == 0)
		a->order[a->norder++] = BLK_HASH_SHA256;
	for (unsigned int k = 0; k < a->norder; k++)
		a->mask |= 1u << a->order[k];
	a->tag = a->tag || a->norder > 1;

	a->names = argv + optind + 1;
	a->nnames = argc - optind - 1;
	if (a->nnames == 0) {
		a->names = default_names;
		a->nnames = 1;
	}
	for (unsigned int i = 0; i < a->nnames; i++) {
		int n = parse_name(a->names[i]);

		if (n == -1)
			return usage_error(a->names[i],
					   "not 'disk', 'pN' (p1, p2, ...), a volume (p3.d/vg0-root) or 'fs/VOLUME/PATH'");
		a->need_table |= n > 0 || n == BLK_HASH_VOLUME || n == FSFILE;
		/* fs/p3.d/luks/...: a file inside a volume of the stack */
		a->need_stack |= n == BLK_HASH_VOLUME ||
				 (n == FSFILE && strstr(a->names[i], ".d/"));
	}
	return -1;
}

/*
 * The source's ranges in its one sequential pass, then each volume through
 * its layer: 0, BLK_HASH_EREAD or another -errno (printed).
 */
static int hash_all(const struct blk_source *src, struct blk_hash_range *r,
		    struct blk_layer **lay, unsigned int nr, unsigned int mask)
{
	struct blk_hash_range *plain = calloc(nr, sizeof(*plain));
	unsigned int np = 0, k;
	int res;

	if (!plain) {
		blk_err("%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (k = 0; k < nr; k++)
		if (!lay[k])
			plain[np++] = r[k];
	res = np ? blk_hash_ranges(src, plain, np, mask, isatty(STDERR_FILENO)) : 0;
	for (k = 0, np = 0; !res && k < nr; k++)
		if (!lay[k])
			memcpy(r[k].md, plain[np++].md, sizeof(r[k].md));
		else
			res = blk_hash_layer(lay[k], r[k].name, r[k].md, mask);
	free(plain);
	return res;

}

/*
 * The container's stored hashes against the digests of 'disk', one line
 * each on stderr (stdout stays sha256sum -c input): 0, or EXIT_STORED
 * when one differs.
 */
static int check_stored(const struct blk_source *src,
			const struct blk_hash_range *r, unsigned int nr,
			unsigned int mask)
{
	static const int algos[] = { BLK_HASH_MD5, BLK_HASH_SHA1, BLK_HASH_SHA256 };
	const char *want[] = { src->img->md5, src->img->sha1, src->img->sha256 };
	const struct blk_hash_range *disk = NULL;
	char hex[2 * BLK_HASH_MAX_LEN + 1];
	int ret = 0;

	for (unsigned int i = 0; i < nr; i++)
		if (r[i].start == 0 && r[i].size == src->size &&
		    !strcmp(r[i].name, "disk"))
			disk = &r[i];
	for (int i = 0; i < 3; i++) {
		const char *name = blk_hash_algo_name(algos[i]);

		if (!want[i][0])
			continue;
		if (!disk || !(mask & 1u << algos[i])) {
			fprintf(stderr, "blkfuse: notice: %s: stored %s:%s not checked (hash 'disk' with --algo %s)\n",
				src->given, name, want[i], name);
			continue;
		}
		blk_hash_hex(hex, disk->md[algos[i]], algos[i]);
		if (!strcasecmp(hex, want[i])) {
			fprintf(stderr, "blkfuse: notice: %s: stored %s:%s matches\n",
				src->given, name, want[i]);
			continue;
		}
		fprintf(stderr, "blkfuse: error: %s: stored %s:%s DIFFERS from the media's %s:%s\n",
			src->given, name, want[i], name, hex);
		ret = EXIT_STORED;
	}
	return ret;
}

static int run(const struct hash_args *a)
{
	struct blk_layout lo = { 0 };
	struct blk_hash_range *r;
	struct blk_layer **lay = NULL;
	struct blk_source src;
	struct blk_keyring *keys;
	unsigned int nr = 0;
	int ret = EXIT_FAILURE, res;

	if (blk_keyring_load(&keys, &a->keys) != 0)
		return EXIT_FAILURE;	/* printed, naming the file */
	if (blk_source_open_as(&src, a->source, a->sector_size,
			       a->format ? a->format : "auto") != 0) {
		blk_keyring_free(keys);
		return EXIT_FAILURE;
	}
	/* 'disk' alone needs no table, nor warnings about one */
	if (a->need_table && blk_probe_layout(&src, &lo) != 0)
		goto out_close_source;
	if (a->need_stack &&
	    blk_stack_probe(&lo.stack, src.layer, &lo, keys) != 0)
		goto out_free_layout;
	r = calloc(a->nnames, sizeof(*r));
	lay = calloc(a->nnames, sizeof(*lay));
	if (!r || !lay) {
		blk_err("%s", strerror(ENOMEM));
		goto out_free_ranges;
	}
	if (make_ranges(&src, &lo, a->names, a->nnames, r, lay, &nr) != 0)
		goto out_free_ranges;
	/* the volumes are open: no secret stays while hashing */
	blk_keyring_free(keys);
	keys = NULL;

	blk_image_allow_ahead(src.img);	/* no fork here */
	res = hash_all(&src, r, lay, nr, a->mask);
	for (unsigned int i = 0; i < nr && res == 0; i++)
		if (blk_hash_fs_name(r[i].name))
			res = blk_hash_fs_file(&src, &lo, r[i].name, a->mask,
					       r[i].md);
	if (res == BLK_HASH_EREAD)
		ret = EXIT_READ;
	else if (res == 0 && print_sums(r, nr, a->order, a->norder, a->tag) == 0)
		ret = EXIT_SUCCESS;
	if (ret == EXIT_SUCCESS && src.img)
		ret = check_stored(&src, r, nr, a->mask) ?: ret;

out_free_ranges:
	free(r);
	free(lay);
out_free_layout:
	blk_stack_free(lo.stack);
	blk_layout_free(&lo);
out_close_source:
	blk_source_close(&src);
	blk_keyring_free(keys);
	return ret;
}

int blk_hash_main(int argc, char *argv[])
{
	struct hash_args a = { .norder = 0 };
	int ret;

	ret = parse_options(argc, argv, &a);
	if (ret < 0)
		ret = parse_operands(argc, argv, &a);
	if (ret >= 0)
		return ret;
	/* "no partition table found" is no news here; warnings still are */
	blk_log_level = BLK_LOG_WARN;
	return run(&a);
}
