// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: BitLocker's boot sector and FVE metadata block
 * (core/volume/bitlocker_meta.c).  Input: 8 bytes of volume size (little
 * endian, capped at 2^44), the boot sector (512 bytes), then the metadata
 * block.  Beyond "no crash": what parses gives segments that tile the
 * volume exactly, each within it, whole 512-byte sectors; a clear key and
 * its wrapped keys fit their buffers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "volume/bitlocker_meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct blk_crypt_seg *seg, int n, uint64_t vsize)
{
	uint64_t at = 0;

	if (n < 1 || n > BLK_BITLK_MAX_SEGS)
		abort();
	for (int i = 0; i < n; i++) {
		if (seg[i].start != at || !seg[i].len || seg[i].len % 512 ||
		    (!seg[i].zero && (seg[i].below > vsize ||
				      seg[i].len > vsize - seg[i].below)))
			abort();
		at += seg[i].len;
	}
	if (at != vsize)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct blk_crypt_seg seg[BLK_BITLK_MAX_SEGS];
	struct blk_bitlk_geom g;
	struct blk_bitlk_clear ck;
	uint64_t vsize = 0;
	char why[200];
	int n;

	if (size < 8 + 512)
		return 0;
	for (int i = 7; i >= 0; i--)
		vsize = vsize << 8 | data[i];
	vsize = (vsize & ((1ull << 44) - 1)) / 512 * 512;
	if (blk_bitlk_parse_boot(data + 8, 512, vsize, &g, why, sizeof(why)))
		return 0;
	if (!blk_bitlk_parse_clear(data + 8 + 512, size - 8 - 512, &ck) &&
	    (ck.keylen > sizeof(ck.key) || ck.vmk.len > sizeof(ck.vmk.data) ||
	     ck.fvek.len > sizeof(ck.fvek.data)))
		abort();
	if (blk_bitlk_parse_fve(data + 8 + 512, size - 8 - 512, vsize, &g, why,
				sizeof(why)))
		return 0;
	n = blk_bitlk_segments(&g, vsize, seg);
	if (n >= 0)
		check(seg, n, vsize);
	return 0;
}
