// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkfuse ctl: the client side of the control protocol.  It speaks to
 * /dev/blkfuse-NAME or to MOUNTPOINT/.blkfuse-ctl alike, through the
 * ioctls of include/blkfuse_ioctl.h and the text snapshot.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "blkfuse_ioctl.h"
#include "cmd/ctl_client.h"
#include "ctl/tunables.h"
#include "serve/runtime.h"
#include "tree.h"
#include "base/util.h"

static void ctl_usage(FILE *out)
{
	fprintf(out,
"Usage:\n"
" blkfuse ctl NAME|PATH [show]            every tunable and statistic\n"
" blkfuse ctl NAME|PATH get KEY           one value\n"
" blkfuse ctl NAME|PATH set KEY=VALUE...  set tunables, all or none\n"
" blkfuse ctl NAME|PATH stats [-w SECONDS] [-c COUNT]\n"
"                                         rates per interval, like iostat\n"
" blkfuse ctl NAME|PATH reset             zero the statistics\n"
" blkfuse ctl --keys                      the settable keys: KEY, VALUES,\n"
"                                         what it does (tab-separated)\n"
"\n"
"NAME is what the daemon registered in /run/blkfuse/ (--name, else the\n"
"source's file name; the CUSE node or the control file, whichever serves),\n"
"or the CUSE node /dev/blkfuse-NAME. PATH (with a '/') is that node, a\n"
"blkfuse mount point (its .blkfuse-ctl file is used), or the file.\n"
"stats -w opens the control file for each sample, so it never keeps the\n"
"mount busy, and ends when the mount goes.\n"
"Keys are those 'show' prints; 'blkfuse --help' says what each tunable does.\n"
"Exit status: 0 on success, 1 on error (the daemon's reason is printed).\n");
}

/* A path as given; a directory (a mount point) means its control file. */
static char *path_as_given(const char *arg)
{
	struct stat st;
	char *p = NULL;

	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (asprintf(&p, "%s/" BLK_CTL_FILE, arg) < 0)
			return NULL;
		return p;
	}
	return strdup(arg);
}

/*
 * A registry entry whose daemon died without removing it (SIGKILL): its
 * CUSE node went with it (ENOENT), or its control file sits in a dead
 * mount (ENOTCONN).  stat alone can be answered from the kernel's
 * attribute cache for a while; statfs always asks the daemon.
 */
static bool stale_entry(const char *path)
{
	struct statfs sfs;
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOTCONN || errno == ENOENT;
	return statfs(path, &sfs) < 0 &&
	       (errno == ENOTCONN || errno == ECONNABORTED);
}

/*
 * Resolve NAME|PATH to something to open: an existing path with a '/' (or
 * a directory) as given; else NAME in the registry (spelled as the daemon
 * spells it there: characters other than [A-Za-z0-9._-] as '_'), else the
 * CUSE node /dev/blkfuse-NAME, else a file in the current directory.
 * NULL with errno ENOENT: nothing by that name.
 */
static char *ctl_path(const char *arg)
{
	struct stat st;
	char *p = NULL, safe[64];

	if (stat(arg, &st) == 0 && (strchr(arg, '/') || S_ISDIR(st.st_mode)))
		return path_as_given(arg);
	blk_name_mangle(safe, sizeof(safe), arg, false);
	if (blk_run_dir()[0]) {
		if (asprintf(&p, "%s/%s", blk_run_dir(), safe) < 0)
			return NULL;
		if (lstat(p, &st) == 0 && !stale_entry(p))
			return p;
		free(p);
	}
	if (asprintf(&p, "/dev/%s%s",
		     strncmp(arg, "blkfuse-", 8) ? "blkfuse-" : "", arg) < 0)
		return NULL;
	if (stat(p, &st) == 0)
		return p;
	free(p);
	if (strchr(arg, '/') || stat(arg, &st) == 0)
		return path_as_given(arg);	/* open() will say why */
	errno = ENOENT;
	return NULL;
}

/* A registry entry whose control file or node is gone. */
static bool dead_entry(const char *path)
{
	size_t n = strlen(blk_run_dir());
	struct stat st;

	return n && !strncmp(path, blk_run_dir(), n) && path[n] == '/' &&
	       lstat(path, &st) == 0 && S_ISLNK(st.st_mode) &&
	       stat(path, &st) < 0;
}

/* Not found: the names that are, so the user need not guess. */
static void hint_instances(const char *arg)
{
	DIR *d = blk_run_dir()[0] ? opendir(blk_run_dir()) : NULL;
	struct dirent *de;
	int n = 0;

	fprintf(stderr, "blkfuse: error: ctl: no blkfuse instance '%s'", arg);
	while (d && (de = readdir(d))) {
		char *p;
		bool stale;

		if (de->d_name[0] == '.' ||
		    asprintf(&p, "%s/%s", blk_run_dir(), de->d_name) < 0)
			continue;
		stale = stale_entry(p);
		free(p);
		if (stale)
			continue;
		fprintf(stderr, "%s%s", n++ ? ", " : "; running: ", de->d_name);
	}
	if (d)
		closedir(d);
	fprintf(stderr, n ? "\n" : "; none is running (nothing in %s)\n",
		blk_run_dir()[0] ? blk_run_dir() : "$XDG_RUNTIME_DIR/blkfuse");
}

/*
 * set and reset need an open that may write: the CUSE node opened for
 * writing; the control file lives on a read-only mount (EROFS), where the
 * daemon judges the opener by the file's mode, so it is opened for reading.
 * A reader without write permission gets the daemon's EACCES at the ioctl.
 */
static int open_ctl(const char *path, bool writes)
{
	int fd = writes ? open(path, O_RDWR | O_CLOEXEC) : -1;

	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd;
}

static int show(int fd, const char *key)
{
	char buf[65536];
	size_t len = 0;
	ssize_t n;

	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	if (n < 0) {
		/* an exit status, as every ctl failure: 1 (get gave 256 - errno) */
		fprintf(stderr, "blkfuse: error: ctl: reading the snapshot: %s\n",
			strerror(errno));
		return 1;
	}
	buf[len] = '\0';
	if (!key) {
		fputs(buf, stdout);
		return 0;
	}
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		size_t klen = strlen(key);

		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			puts(line + klen + 1);
			return 0;
		}
	}
	fprintf(stderr, "blkfuse: error: ctl: no key '%s'\n", key);
	return 1;
}

/* Read last_error back, so a failed set says why. */
static void print_last_error(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[65536], *p;
	ssize_t n, len = 0;

	if (fd < 0)
		return;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	p = strstr(buf, "\nlast_error ");
	if (p) {
		p += strlen("\nlast_error ");
		p[strcspn(p, "\n")] = '\0';
		fprintf(stderr, "blkfuse: error: ctl: %s\n", p);
	}
}

static int set(int fd, const char *path, int argc, char *argv[])
{
	struct blkfuse_set_text st = { .text = "" };
	size_t used = 0;

	for (int i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]);

		if (used + len + 2 > sizeof(st.text)) {
			fprintf(stderr, "blkfuse: error: ctl: too much to set at once\n");
			return 1;
		}
		memcpy(st.text + used, argv[i], len);
		used += len;
		st.text[used++] = ' ';
	}
	st.text[used] = '\0';
	if (ioctl(fd, BLKFUSE_IOC_SET_TEXT, &st) < 0) {
		int err = errno;

		if (err == EINVAL)
			print_last_error(path);
		else
			fprintf(stderr, "blkfuse: error: %s: %s\n", path, strerror(err));
		return 1;
	}
	return 0;
}

static void print_rates(const struct blkfuse_stats *a,
			const struct blkfuse_stats *b, double dt)
{
	uint64_t bytes = b->read_bytes - a->read_bytes;
	uint64_t reqs = (b->spliced_reqs + b->copied_reqs) -
			(a->spliced_reqs + a->copied_reqs);
	uint64_t spl = b->spliced_bytes - a->spliced_bytes;

	if (dt <= 0)
		dt = 1e-3;
	printf("%8.1f %8.0f %8.1f%% %8llu %8llu %8lld %8u %7llu\n",
	       bytes / dt / 1048576, reqs / dt,
	       bytes ? 100.0 * spl / bytes : 0.0,
	       (unsigned long long)blk_percentile(b->lat_us, a->lat_us,
						  BLKFUSE_LAT_BUCKETS, 0.5),
	       (unsigned long long)blk_percentile(b->lat_us, a->lat_us,
						  BLKFUSE_LAT_BUCKETS, 0.99),
	       (long long)b->inflight, b->waiting,
	       (unsigned long long)(b->errors - a->errors));
	fflush(stdout);
}

/* One sample, the file opened for it alone: 0 or -errno. */
static int sample(const char *path, struct blkfuse_stats *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, BLKFUSE_IOC_GET_STATS, st) < 0)
		err = -errno;
	close(fd);
	return err;
}

/*
 * Without -w: one line of averages since start; with it, one per interval.
 * The control file is opened per sample, never held between them: an open
 * file would keep the mount busy (umount: target is busy).
 */
static int stats(const char *path, double interval, long count)
{
	struct blkfuse_stats a = { 0 }, b;
	double ta, tb;
	int err = sample(path, &b);

	if (err)
		goto out_err;
	tb = blk_mono_s();
	printf("%8s %8s %9s %8s %8s %8s %8s %7s\n", "MiB/s", "IOPS",
	       "splice%", "p50_us", "p99_us", "inflight", "waiting", "errors");
	if (interval <= 0) {
		print_rates(&a, &b, b.uptime_ms / 1000.0);
		return 0;
	}
	for (long i = 0; count <= 0 || i < count; i++) {
		a = b;
		ta = tb;
		usleep((useconds_t)(interval * 1e6));
		err = sample(path, &b);
		if (err == -ENOENT || err == -ENOTCONN)
			return 0;	/* the mount went: the end of the series */
		if (err)
			goto out_err;
		tb = blk_mono_s();
		print_rates(&a, &b, tb - ta);
	}
	return 0;
out_err:
	fprintf(stderr, "blkfuse: error: %s: %s\n", path, strerror(-err));
	return 1;
}

static int ctl_run_stats(const char *arg, double w, long c)
{
	char *path = ctl_path(arg);
	int ret;

	if (!path) {
		hint_instances(arg);
		return 1;
	}
	ret = stats(path, w, c);
	free(path);
	return ret;
}

static int ctl_usage_error(const char *fmt, const char *what)
{
	fprintf(stderr, "blkfuse: error: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\nTry 'blkfuse ctl --help' for more information.\n");
	return 1;
}

/* stats [-w S] [-c N]: 0 and the values, or an exit status (printed). */
static int stats_options(int argc, char *argv[], double *w, long *c)
{
	static const struct option longopts[] = {
		{ "wait", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	char opt[3] = "-?", *end;
	int o;

	opterr = 0;
	optind = 3;
	while ((o = getopt_long(argc, argv, ":w:c:", longopts, NULL)) != -1) {
		const char *typed = argv[optind - 1];

		opt[1] = (char)optopt;
		if (optopt && strncmp(typed, "--", 2))
			typed = opt;
		if (o == ':')
			return ctl_usage_error("option '%s' needs an argument",
					       typed);
		if (o == '?')
			return ctl_usage_error("unrecognized option '%s'", typed);
		if (o == 'w')
			*w = strtod(optarg, &end);
		else
			*c = strtol(optarg, &end, 10);
		if (*end || end == optarg || *w < 0 || *c < 0)
			return ctl_usage_error("ctl: '%s' is not a number of seconds or samples",
					       optarg);
	}
	if (optind < argc)
		return ctl_usage_error("ctl: unexpected '%s'", argv[optind]);
	return 0;
}

int blk_ctl_main(int argc, char *argv[])
{
	const char *cmd = argc > 2 ? argv[2] : "show";
	double w = 0;
	long c = 0;
	char *path;
	int fd, ret = 1;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		ctl_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--keys")) {
		for (unsigned int i = 0; i < blk_ntunables; i++)
			printf("%s\t%s\t%s\n", blk_tunables[i].key,
			       blk_tunables[i].values, blk_tunables[i].help);
		printf("abort\t1\tend the connection now: readers get ENOTCONN\n");
		return 0;
	}
	for (int i = 1; i < argc && i < 3; i++)
		if (argv[i][0] == '-' && argv[i][1])
			return ctl_usage_error("unrecognized option '%s'", argv[i]);
	if (!strcmp(cmd, "stats"))
		return stats_options(argc, argv, &w, &c) ?:
		       ctl_run_stats(argv[1], w, c);
	if (!(!strcmp(cmd, "show") && argc <= 3) &&
	    !(!strcmp(cmd, "get") && argc == 4) &&
	    !(!strcmp(cmd, "set") && argc >= 4) &&
	    !(!strcmp(cmd, "reset") && argc == 3))
		return ctl_usage_error("ctl: bad command '%s'", cmd);
	path = ctl_path(argv[1]);
	if (!path) {
		hint_instances(argv[1]);
		return 1;
	}
	fd = open_ctl(path, !strcmp(cmd, "set") || !strcmp(cmd, "reset"));
	if (fd < 0 && dead_entry(path)) {
		fprintf(stderr, "blkfuse: error: ctl: %s is not running (%s is left by a daemon that was killed; the next mount by that name takes it)\n",
			argv[1], path);
		free(path);
		return 1;
	}
	if (fd < 0) {
		fprintf(stderr, "blkfuse: error: %s: %s\n", path, strerror(errno));
		free(path);
		return 1;
	}
	if (!strcmp(cmd, "show") || !strcmp(cmd, "get")) {
		ret = show(fd, argc == 4 ? argv[3] : NULL);
		if (ret < 0)
			fprintf(stderr, "blkfuse: %s: %s\n", path, strerror(-ret));
		ret = ret ? 1 : 0;
	} else if (!strcmp(cmd, "set")) {
		ret = set(fd, path, argc - 3, argv + 3);
	} else {
		ret = ioctl(fd, BLKFUSE_IOC_RESET_STATS) < 0;
		if (ret)
			fprintf(stderr, "blkfuse: error: %s: %s\n", path, strerror(errno));
	}
	close(fd);
	free(path);
	return ret;
}
