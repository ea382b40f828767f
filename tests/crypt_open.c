// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test helper: open an encrypted volume held in a file through the core
 * alone (source layer, keyring, blk_luks_open / blk_bitlocker_open) and
 * write its plaintext to stdout, so tests/crypt.bats can check the layers
 * byte for byte without a mount.
 *
 *   crypt_open [-p PASSFILE] [-k KEYFILE] [-c CHUNK] luks|bitlocker FILE [OFF LEN]
 *
 * CHUNK (default 1 MiB) sets the read size, to cross sector edges on
 * purpose.  Exit 0; 2 locked or refused (the reason on stderr); 1 other.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layer/layer.h"
#include "source.h"
#include "volume/crypt.h"

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

static int run(const char *kind, struct blk_layer *below,
	       struct blk_keyring *kr, char **range, size_t chunk)
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
	blk_layer_describe(l, desc, sizeof(desc));
	fprintf(stderr, "%s; %llu bytes\n", desc, (unsigned long long)l->size);
	len = l->size;
	if (range[0] && range[1]) {
		off = strtoull(range[0], NULL, 0);
		len = strtoull(range[1], NULL, 0);
	}
	err = off > l->size || len > l->size - off ? 1 :
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
	int c, rc;

	while ((c = getopt(argc, argv, "p:k:c:a")) != -1) {
		if (c == 'p')
			ks.passphrase_file = optarg;
		else if (c == 'k')
			ks.key_file = optarg;
		else if (c == 'a')
			ks.ask = true;
		else if (c == 'c')
			chunk = strtoul(optarg, NULL, 0);
		else
			return 1;
	}
	if (argc - optind < 2 || !chunk)
		return 1;
	if (blk_keyring_load(&kr, &ks) != 0)
		return 1;
	if (blk_source_open_as(&src, argv[optind + 1], 0, "raw") != 0) {
		blk_keyring_free(kr);
		return 1;
	}
	rc = run(argv[optind], src.layer, kr, argv + optind + 2, chunk);
	blk_keyring_free(kr);
	blk_source_close(&src);
	return rc;
}
