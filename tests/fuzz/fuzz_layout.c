// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the table layer.  The input: one byte that picks the
 * logical sector size, two (little endian) that give the disk's size in
 * MiB (1 to 1024), then the disk's first bytes (at most 1 MiB); the rest
 * reads as zeros (a sparse memfd: libblkid wants a file descriptor).  Beyond "no crash", it checks what the
 * mount relies on: exposed partitions lie inside the source, nothing
 * exposed is empty or inverted, free ranges lie inside the source and
 * overlap no exposed data partition, and the JSON document is produced.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "volume/layout.h"
#include "base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct blk_source *src, const struct blk_layout *lo)
{
	for (unsigned int i = 0; i < lo->nparts; i++) {
		const struct blk_part *p = &lo->parts[i];

		if (!blk_part_exposed(p))
			continue;
		if (p->start >= src->size || p->size > src->size - p->start)
			abort();	/* outside the source */
		if (!p->size || !p->table_size || p->size > p->table_size)
			abort();
		if (p->flags & BLK_PART_CONTAINER)
			continue;
		for (unsigned int g = 0; g < lo->ngaps; g++) {
			const struct blk_gap *gap = &lo->gaps[g];

			if (gap->start < p->start + p->size &&
			    p->start < gap->start + gap->size)
				abort();	/* free space over data */
		}
	}
	for (unsigned int g = 0; g < lo->ngaps; g++)
		if (!lo->gaps[g].size || lo->gaps[g].start >= src->size ||
		    lo->gaps[g].size > src->size - lo->gaps[g].start)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int sizes[] = { 512, 512, 1024, 2048, 4096 };
	struct blk_layout lo;
	struct blk_source src;
	char *json = NULL;
	size_t jlen = 0;
	FILE *f;
	int fd;

	uint64_t disk;

	if (size < 4 || size > (1u << 20) + 3)
		return 0;
	disk = (uint64_t)((data[1] | data[2] << 8) % 1024 + 1) << 20;
	if (disk < size - 3)
		disk = size - 3;
	blk_log_level = 0;	/* the warnings are the point; not on stderr */
	fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data + 3, size - 3) != (ssize_t)(size - 3) ||
	    ftruncate(fd, disk) != 0)
		abort();
	memset(&src, 0, sizeof(src));
	src.path = src.given = (char *)"fuzz";
	src.fd = fd;
	src.fd_direct = -1;
	src.size = disk;
	src.sector_size = sizes[data[0] % 5];
	src.sector_size_from = "fuzz";
	if (blk_layout_probe(&src, &lo) == 0) {
		check(&src, &lo);
		f = open_memstream(&json, &jlen);
		if (f) {
			blk_layout_json(f, &src, &lo);
			fclose(f);
		}
		free(json);
		blk_layout_free(&lo);
	}
	close(fd);
	return 0;
}
