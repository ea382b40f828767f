// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: blkfuse's own EWF-E01 chunk reader (image_ewf_own.c).
 * The input: one byte picking the sectors per chunk, four (little endian)
 * giving the media's sectors (at most 1 Mi), then one segment file.  The
 * reader either declines (-ENOTSUP: libewf would read it) or opens; then
 * every chunk is read, and any failure must be -EIO at a chunk boundary
 * inside the media.  Beyond "no crash", that is the read path's contract.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image/image.h"
#include "image/image_ewf_own.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(struct blk_image *im, uint32_t chunk)
{
	void *h = im->ops->handle_open(im);
	char *buf = malloc(chunk + 1000);

	if (!h || !buf)
		abort();
	for (uint64_t off = 0; off < im->size; off += chunk + 1000) {
		size_t len = im->size - off < chunk + 1000 ? im->size - off
							   : chunk + 1000;
		uint64_t bad = UINT64_MAX;
		int err = im->ops->handle_read(h, buf, len, off, &bad);

		if (err && (err != -EIO || bad % chunk || bad >= im->size))
			abort();
	}
	im->ops->handle_close(h);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t spcs[] = { 16, 64, 128, 2048 };
	struct blk_segment seg = { .fd = -1 };
	struct blk_image im = { .nseg = 1, .seg = &seg, .src_fd = -1 };
	uint32_t spc, sectors;
	char path[64];
	int fd;

	if (size < 5)
		return 0;
	spc = spcs[data[0] % 4];
	sectors = (data[1] | data[2] << 8 | data[3] << 16 | (uint32_t)data[4] << 24) & 0xfffff;
	if (!sectors)
		return 0;
	fd = memfd_create("e01", 0);
	if (fd < 0 || write(fd, data + 5, size - 5) != (ssize_t)(size - 5))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	seg.path = path;
	im.src_fd = fd;
	seg.size = size - 5;
	im.size = (uint64_t)sectors * 512;
	if (blk_ewf_own_open(&im, NULL, 1, 512, spc) == 0) {
		read_all(&im, 512 * spc);
		im.ops->free_priv(&im);
	}
	close(fd);
	return 0;
}
