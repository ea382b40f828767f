// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * QCOW2 as a level of a snapshot chain: which clusters the file holds.
 * libqcow decodes the clusters a file holds but cannot say which those
 * are, and takes only a QCOW file as a parent (qemu-img's usual chain is
 * a QCOW2 overlay on a raw base); so the header, the backing file's name
 * and format, and the L1/L2 tables are read here, from blkfuse's own
 * O_RDONLY descriptor, following qemu's docs/interop/qcow2.txt.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "image/chain_qcow.h"
#include "base/log.h"

#define OFF_MASK 0x00fffffffffffe00ULL	/* L1 and standard L2 offsets */
#define L2_COMPRESSED (1ULL << 62)
#define L2_ZERO 1ULL			/* version 3: reads as zeros */
#define EXT_BACKING_FORMAT 0xe2792acaU
/* incompatible features blkfuse cannot read right */
#define INCOMPAT_DATA_FILE (1ULL << 2)
#define INCOMPAT_EXTENDED_L2 (1ULL << 4)

/* A string of the file: NUL-terminated copy in *out (NULL when len 0). */
static int read_string(int fd, uint64_t off, uint32_t len, char **out)
{
	*out = NULL;
	if (!len)
		return 0;
	if (len > 4096)
		return -EINVAL;
	*out = calloc(1, len + 1);
	if (!*out)
		return -ENOMEM;
	if (blk_pread_all(fd, *out, len, off) || strlen(*out) != len) {
		free(*out);
		*out = NULL;
		return -EINVAL;		/* short, or a NUL inside the name */
	}
	return 0;
}

/* The backing format from the header extensions (version 3 says where
 * they start; version 2 starts them at 72). */
static int read_backing_format(struct blk_qcow_map *m, int fd,
			       const unsigned char *h)
{
	uint64_t off = blk_get_be(h + 4, 4) >= 3 ? blk_get_be(h + 100, 4) : 72;
	unsigned char e[8];

	for (int i = 0; i < 64; i++) {
		uint32_t type, len;

		if (blk_pread_all(fd, e, sizeof(e), off))
			return -EINVAL;
		type = blk_get_be(e, 4);
		len = blk_get_be(e + 4, 4);
		if (!type)
			return 0;
		if (type == EXT_BACKING_FORMAT)
			return read_string(fd, off + 8, len, &m->backing_fmt);
		off += 8 + ((uint64_t)len + 7) / 8 * 8;
	}
	return -EINVAL;
}

static int read_header(struct blk_qcow_map *m, int fd, const char *path,
		       const unsigned char *h)
{
	uint64_t incompat = blk_get_be(h + 4, 4) >= 3 ? blk_get_be(h + 72, 8) : 0;
	uint64_t l1_off = blk_get_be(h + 40, 8);

	m->cbits = blk_get_be(h + 20, 4);
	m->size = blk_get_be(h + 24, 8);
	m->l1_size = blk_get_be(h + 36, 4);
	if (m->cbits < 9 || m->cbits > 21 || !m->size) {
		blk_err("%s: QCOW2 header: cluster bits %u, size %llu", path,
			m->cbits, (unsigned long long)m->size);
		return -EINVAL;
	}
	if (incompat & (INCOMPAT_DATA_FILE | INCOMPAT_EXTENDED_L2)) {
		blk_err("%s: QCOW2 with an external data file or extended L2 entries; not supported",
			path);
		return -ENOTSUP;
	}
	/* no more L1 entries than the size needs (the table is read whole) */
	if (m->l1_size > (m->size >> (2 * m->cbits - 3)) + 1) {
		blk_err("%s: QCOW2 L1 table of %u entries for %llu bytes",
			path, m->l1_size, (unsigned long long)m->size);
		return -EINVAL;
	}
	m->l1 = calloc(m->l1_size ? m->l1_size : 1, sizeof(*m->l1));
	if (!m->l1)
		return -ENOMEM;
	if (m->l1_size && blk_pread_all(fd, m->l1, m->l1_size * 8ULL, l1_off)) {
		blk_err("%s: QCOW2 L1 table unreadable", path);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < m->l1_size; i++)
		m->l1[i] = blk_get_be((unsigned char *)&m->l1[i], 8) & OFF_MASK;
	m->v3 = blk_get_be(h + 4, 4) >= 3;
	return 0;
}

int blk_qcow_map_open(struct blk_qcow_map *m, int fd, const char *path)
{
	unsigned char h[112] = "";
	int err;

	memset(m, 0, sizeof(*m));
	m->fd = fd;
	if (pread(fd, h, sizeof(h), 0) < 72 || memcmp(h, "QFI\xfb", 4) ||
	    blk_get_be(h + 4, 4) < 2)
		return -ENOENT;		/* not QCOW2: not a chain level */
	err = read_header(m, fd, path, h);
	if (!err && read_string(fd, blk_get_be(h + 8, 8), blk_get_be(h + 16, 4), &m->backing))
		err = -EINVAL;
	if (!err && m->backing && read_backing_format(m, fd, h))
		err = -EINVAL;
	if (err == -EINVAL && m->l1)
		blk_err("%s: QCOW2 header: unreadable backing file name or format",
			path);
	if (err)
		blk_qcow_map_free(m);
	return err;
}

int blk_qcow_map_state(const struct blk_qcow_map *m, uint64_t off)
{
	unsigned int l2_bits = m->cbits - 3;
	uint64_t l1_idx = off >> (m->cbits + l2_bits);
	uint64_t l2_idx = (off >> m->cbits) & ((1ULL << l2_bits) - 1);
	unsigned char e[8];
	uint64_t entry;
	int err;

	if (l1_idx >= m->l1_size || !m->l1[l1_idx])
		return BLK_QCOW_BELOW;
	err = blk_pread_all(m->fd, e, sizeof(e), m->l1[l1_idx] + l2_idx * 8);
	if (err)
		return err;
	entry = blk_get_be(e, 8);
	if (entry & L2_COMPRESSED)
		return BLK_QCOW_DATA;
	if (m->v3 && (entry & L2_ZERO))
		return BLK_QCOW_ZERO;
	return entry & OFF_MASK ? BLK_QCOW_DATA : BLK_QCOW_BELOW;
}

void blk_qcow_map_free(struct blk_qcow_map *m)
{
	free(m->l1);
	free(m->backing);
	free(m->backing_fmt);
	m->l1 = NULL;
	m->backing = m->backing_fmt = NULL;
}
