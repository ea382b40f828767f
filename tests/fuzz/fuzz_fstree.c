// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: fs/ over a mutated file system.  The input is a
 * volume's bytes (a memory layer under core/fs/, as a partition would be);
 * the target walks it as the mount does, through the same calls the FUSE
 * operations make: open, every directory's entries (dirent), lookup of
 * each name, stat, readlink, and reads of every file (map first, as the
 * splice path asks, then through libtsk).  Bounded: at most MAX_NODES
 * nodes, MAX_DEPTH deep, READ_MAX bytes per file.  Beyond "no crash", it
 * checks what the mount relies on: a name is non-empty with no '/', lookup
 * of a listed name finds an entry, a read returns no more than asked, a
 * directory's size says nothing about reads.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fsvol.h"
#include "layer/layer.h"
#include "base/log.h"

#define MAX_NODES 400
#define MAX_DEPTH 24
#define READ_MAX (256 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
	const uint8_t *data;
	size_t size;
};

static int mem_read(struct blk_layer *l, void *buf, size_t len, uint64_t off,
		    uint64_t *bad)
{
	struct mem *m = l->priv;

	if (off > m->size || len > m->size - off) {
		*bad = off;
		return -EIO;
	}
	memcpy(buf, m->data + off, len);
	return 0;
}

static const struct blk_layer_ops mem_ops = {
	.kind = "fuzz", .read = mem_read,
};

static unsigned int visited;
static char readbuf[READ_MAX];

static void read_file(struct blk_fsvol *v, uint64_t id, const struct stat *st)
{
	uint64_t size = st->st_size < READ_MAX ? st->st_size : READ_MAX;
	struct blk_extent ext[8];

	if (blk_fsvol_map(v, id, 0, size, ext, 8) > 8)
		abort();
	for (uint64_t off = 0; off < size;) {
		ssize_t n = blk_fsvol_read(v, id, readbuf, size - off, off);

		if (n > (ssize_t)(size - off))
			abort();	/* more than asked */
		if (n <= 0)
			break;
		off += n;
	}
}

static void walk(struct blk_fsvol *v, uint64_t dir, unsigned int depth)
{
	char name[2200], target[4096];
	uint64_t id, again;
	struct stat st;

	for (size_t i = 0; visited < MAX_NODES; i++, visited++) {
		if (blk_fsvol_dirent(v, dir, i, name, sizeof(name), &id))
			return;
		if (!name[0] || strchr(name, '/'))
			abort();
		if (blk_fsvol_lookup(v, dir, name, &again))
			abort();	/* listed but not found */
		if (blk_fsvol_stat(v, id, &st))
			continue;
		if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH)
			walk(v, id, depth + 1);
		else if (S_ISLNK(st.st_mode))
			blk_fsvol_readlink(v, id, target, sizeof(target));
		else if (S_ISREG(st.st_mode))
			read_file(v, id, &st);
		blk_fsvol_path(v, id, target, sizeof(target));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem m = { data, size };
	struct blk_layer *l;
	struct blk_fsvol *v;

	blk_log_level = 0;	/* quiet: the input is hostile by design */
	if (size < 512)
		return 0;
	l = blk_layer_new(&mem_ops, NULL, size, 512, &m);
	v = l ? blk_fsvol_new(l, 0, size, "fuzz") : NULL;
	if (v && blk_fsvol_open(v) == 0) {
		visited = 0;
		walk(v, blk_fsvol_root(v), 0);
	}
	blk_fsvol_free(v);
	blk_layer_free(l);
	return 0;
}
