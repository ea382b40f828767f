// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkfuse ctl: the client side of the control protocol.  It speaks to
 * /dev/blkfuse-NAME or to MOUNTPOINT/.blkfuse-ctl alike, through the
 * ioctls of include/blkfuse_ioctl.h and the text snapshot.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blkfuse_ioctl.h"
#include "ctl_client.h"
#include "tree.h"
#include "util.h"

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
"\n"
"NAME is the CUSE node /dev/blkfuse-NAME (or /dev/NAME); PATH is that node,\n"
"a mount point of blkfuse (its .blkfuse-ctl file is used), or the file.\n"
"Keys are those 'show' prints; 'blkfuse --help' says what each tunable does.\n"
"Exit status: 0 on success, 1 on error (the daemon's reason is printed).\n");
}

/* Resolve NAME|PATH to something to open. */
static char *ctl_path(const char *arg)
{
	struct stat st;
	char *p = NULL;

	if (stat(arg, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			if (asprintf(&p, "%s/" BLK_CTL_FILE, arg) < 0)
				return NULL;
			return p;
		}
		return strdup(arg);
	}
	if (strncmp(arg, "blkfuse-", 8) == 0) {
		if (asprintf(&p, "/dev/%s", arg) < 0)
			return NULL;
	} else if (asprintf(&p, "/dev/blkfuse-%s", arg) < 0) {
		return NULL;
	}
	return p;
}

static int show(int fd, const char *key)
{
	char buf[65536];
	size_t len = 0;
	ssize_t n;

	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	if (n < 0)
		return -errno;
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
	fprintf(stderr, "blkfuse: ctl: no key '%s'\n", key);
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
		fprintf(stderr, "blkfuse: ctl: %s\n", p);
	}
}

static int set(int fd, const char *path, int argc, char *argv[])
{
	struct blkfuse_set_text st = { .text = "" };
	size_t used = 0;

	for (int i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]);

		if (used + len + 2 > sizeof(st.text)) {
			fprintf(stderr, "blkfuse: ctl: too much to set at once\n");
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
			fprintf(stderr, "blkfuse: %s: %s\n", path, strerror(err));
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

/* Without -w: one line of averages since start; with it, one per interval. */
static int stats(int fd, const char *path, double interval, long count)
{
	struct blkfuse_stats a = { 0 }, b;
	double ta, tb;

	if (ioctl(fd, BLKFUSE_IOC_GET_STATS, &b) < 0)
		goto out_errno;
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
		if (ioctl(fd, BLKFUSE_IOC_GET_STATS, &b) < 0)
			goto out_errno;
		tb = blk_mono_s();
		print_rates(&a, &b, tb - ta);
	}
	return 0;
out_errno:
	fprintf(stderr, "blkfuse: %s: %s\n", path, strerror(errno));
	return 1;
}

int blk_ctl_main(int argc, char *argv[])
{
	const char *cmd = argc > 2 ? argv[2] : "show";
	char *path;
	int fd, ret = 1;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		ctl_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	path = ctl_path(argv[1]);
	if (!path)
		return 1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "blkfuse: %s: %s\n", path, strerror(errno));
		goto out_free_path;
	}
	if (!strcmp(cmd, "show") && argc <= 3) {
		ret = show(fd, NULL) ? 1 : 0;
	} else if (!strcmp(cmd, "get") && argc == 4) {
		ret = show(fd, argv[3]);
	} else if (!strcmp(cmd, "set") && argc >= 4) {
		ret = set(fd, path, argc - 3, argv + 3);
	} else if (!strcmp(cmd, "reset") && argc == 3) {
		ret = ioctl(fd, BLKFUSE_IOC_RESET_STATS) < 0;
		if (ret)
			fprintf(stderr, "blkfuse: %s: %s\n", path, strerror(errno));
	} else if (!strcmp(cmd, "stats")) {
		double w = 0;
		long c = 0;
		int opt;

		optind = 3;
		while ((opt = getopt(argc, argv, "w:c:")) != -1) {
			if (opt == 'w')
				w = atof(optarg);
			else if (opt == 'c')
				c = atol(optarg);
			else
				goto out_usage;
		}
		ret = stats(fd, path, w, c);
	} else {
		goto out_usage;
	}
	close(fd);
out_free_path:
	free(path);
	return ret;
out_usage:
	close(fd);
	free(path);
	fprintf(stderr, "blkfuse: ctl: bad command\nTry 'blkfuse ctl --help' for more information.\n");
	return 1;
}
