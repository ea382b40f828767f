// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test helper: open an encrypted volume held in a file through the core
 * alone (source layer, keyring, blk_luks_open / blk_bitlocker_open) and
 * write its plaintext to stdout, so tests/crypt.bats can check the layers
 * byte for byte without a mount.
 *
 *   crypt_open [-p PASSFILE] [-k KEYFILE] [-a] [-c CHUNK] [-t THREADS]
 *              luks|bitlocker FILE [OFF LEN]
 *
 * CHUNK (default 1 MiB) sets the read size, to cross sector edges on
 * purpose; THREADS readers share the chunks (thread i reads chunks i,
 * i + THREADS, ...), as the daemon's workers share a volume.  -a asks for
 * a passphrase on the terminal.  -F forks once the volume is open, as the
 * daemon does, and reads in the child, which says its VmLck on stderr.
 * Exit 0; 2 locked or refused (the reason on stderr); 1 other.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "layer/layer.h"
#include "source/source.h"
#include "volume/crypt.h"
#include "volume/secret.h"

struct reader {
	pthread_t tid;
	struct blk_layer *l;
	char *buf;
	uint64_t off, len;
	size_t chunk;
	unsigned int first, step;
	int err;
};

static void *reader(void *arg)
{
	struct reader *r = arg;

	for (uint64_t at = (uint64_t)r->first * r->chunk; at < r->len && !r->err;
	     at += (uint64_t)r->step * r->chunk) {
		size_t n = r->len - at < r->chunk ? r->len - at : r->chunk;
		uint64_t bad;

		r->err = blk_layer_read(r->l, r->buf + at, n, r->off + at, &bad);
	}
	return NULL;
}

/* len bytes at off by nt threads into memory, then to stdout. */
static int dump_threads(struct blk_layer *l, uint64_t off, uint64_t len,
			size_t chunk, unsigned int nt)
{
	struct reader r[64];
	char *buf = malloc(len ? len : 1);
	int err = buf ? 0 : ENOMEM;

	for (unsigned int i = 0; i < nt && !err; i++) {
		r[i] = (struct reader){ .l = l, .buf = buf, .off = off, .len = len,
			.chunk = chunk, .first = i, .step = nt };
		if (pthread_create(&r[i].tid, NULL, reader, &r[i]))
			nt = i;
	}
	for (unsigned int i = 0; i < nt; i++) {
		pthread_join(r[i].tid, NULL);
		err = err ? err : -r[i].err;
	}
	if (!err && fwrite(buf, 1, len, stdout) != len)
		err = EIO;
	if (err)
		fprintf(stderr, "threaded read: %s\n", strerror(err));
	free(buf);
	return err ? 1 : 0;
}

static int dump(struct blk_layer *l, uint64_t off, uint64_t len, size_t chunk)
{
	char *buf = malloc(chunk);

	if (!buf)
		return 1;
	while (len) {
		size_t n = len < chunk ? len : chunk;
		uint64_t bad;
		int err = blk_layer_read(l, buf, n, off, &bad);

		if (err) {
			fprintf(stderr, "read at %llu: %s\n",
				(unsigned long long)bad, strerror(-err));
			free(buf);
			return 1;
		}
		if (fwrite(buf, 1, n, stdout) != n) {
			free(buf);
			return 1;
		}
		off += n, len -= n;
	}
	free(buf);
	return 0;
}

/* Fork as fuse_daemonize does; the parent waits for the child's status. */
static int become_child(void)
{
	pid_t pid = fork();
	int st;
	char line[256];
	FILE *f;

	if (pid < 0)
		return -1;
	if (pid > 0) {
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
			_exit(1);
		_exit(WEXITSTATUS(st));
	}
	blk_secret_relock();
	f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmLck:", 6))
			fputs(line, stderr);
	if (f)
		fclose(f);
	return 0;
}

static int run(const char *kind, struct blk_layer *below,
	       struct blk_keyring *kr, char **range, size_t chunk,
	       unsigned int nt, bool forked)
{
	struct blk_layer *l = NULL;
	char why[256] = "", desc[512];
	int err = !strcmp(kind, "luks") ?
		  blk_luks_open(below, "volume", kr, &l, why, sizeof(why)) :
		  blk_bitlocker_open(below, "volume", kr, &l, why, sizeof(why));
	uint64_t off = 0, len;

	if (err) {
		fprintf(stderr, "%s (%s)\n", why, strerror(-err));
		return 2;
	}
	if (forked && become_child() != 0)
		return 1;
	blk_layer_describe(l, desc, sizeof(desc));
	fprintf(stderr, "%s; %llu bytes\n", desc, (unsigned long long)l->size);
	len = l->size;
	if (range[0] && range[1]) {
		off = strtoull(range[0], NULL, 0);
		len = strtoull(range[1], NULL, 0);
	}
	err = off > l->size || len > l->size - off ? 1 :
	      nt > 1 ? dump_threads(l, off, len, chunk, nt) :
	      dump(l, off, len, chunk);
	blk_layer_free(l);
	return err;
}

int main(int argc, char *argv[])
{
	struct blk_key_sources ks = { 0 };
	struct blk_keyring *kr;
	struct blk_source src;
	size_t chunk = 1 << 20;
	unsigned int nt = 1;
	bool forked = false;
	int c, rc;

	while ((c = getopt(argc, argv, "p:k:c:t:aF")) != -1) {
		if (c == 'p')
			ks.passphrase_file = optarg;
		else if (c == 'k')
			ks.key_file = optarg;
		else if (c == 'a')
			ks.ask = true;
		else if (c == 'F')
			forked = true;
		else if (c == 'c')
			chunk = strtoul(optarg, NULL, 0);
		else if (c == 't')
			nt = strtoul(optarg, NULL, 0);
		else
			return 1;
	}
	if (argc - optind < 2 || !chunk || !nt || nt > 64)
		return 1;
	if (blk_keyring_load(&kr, &ks) != 0)
		return 1;
	if (blk_source_open_as(&src, argv[optind + 1], 0, "raw") != 0) {
		blk_keyring_free(kr);
		return 1;
	}
	rc = run(argv[optind], src.layer, kr, argv + optind + 2, chunk, nt, forked);
	blk_keyring_free(kr);
	blk_source_close(&src);
	return rc;
}
