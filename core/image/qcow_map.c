// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Where a QCOW2 image keeps each guest cluster, to refuse what libqcow
 * would read past the end of a truncated file: libqcow 20201213 returns a
 * full count for a cluster the file no longer holds, the rest of its buffer
 * uninitialised (heap bytes served as evidence).  Only the range asked for
 * is checked, from the L1 table kept at open and the L2 entries read as
 * needed (8 bytes each, page-cached), so a read costs a pread per cluster.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/qcow_map.h"

#define OFFSET_MASK 0x00fffffffffffe00ULL
#define COMPRESSED (1ULL << 62)
#define ALL_ZEROS 1ULL			/* v3: reads as zeros */
#define MAX_L1 (1u << 25)		/* 256 MiB of table: a hostile header */

struct qcow_map {
	int fd;
	uint64_t fsize;
	unsigned int cluster_bits;
	uint32_t l1_size;
	uint64_t *l1;
};

static uint64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

static int read_l1(struct qcow_map *m, uint64_t at)
{
	size_t bytes = (size_t)m->l1_size * 8;
	unsigned char *raw = malloc(bytes ? bytes : 1);

	m->l1 = calloc(m->l1_size ? m->l1_size : 1, sizeof(*m->l1));
	if (!raw || !m->l1) {
		free(raw);
		return -ENOMEM;
	}
	/* A table cut short: the missing entries stay 0 and are checked
	 * as holes; libqcow says what it makes of them. */
	if (pread(m->fd, raw, bytes, at) < 0) {
		free(raw);
		return -errno;
	}
	for (uint32_t i = 0; i < m->l1_size; i++)
		m->l1[i] = be(raw + 8 * i, 8) & OFFSET_MASK;
	free(raw);
	return 0;
}

int qcow_map_open(struct qcow_map **mp, const char *path)
{
	struct qcow_map *m = calloc(1, sizeof(*m));
	unsigned char h[48];
	struct stat st;
	int err = 0;

	*mp = NULL;
	if (!m)
		return -ENOMEM;
	m->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (m->fd < 0 || fstat(m->fd, &st) < 0)
		err = -errno;
	else if (pread(m->fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
		 be(h + 4, 4) < 2)
		err = 1;	/* QCOW 1, or too short: libqcow decides */
	if (!err) {
		m->fsize = st.st_size;
		m->cluster_bits = be(h + 20, 4);
		m->l1_size = be(h + 36, 4);
		if (m->cluster_bits < 9 || m->cluster_bits > 21 ||
		    m->l1_size > MAX_L1)
			err = 1;
		else
			err = read_l1(m, be(h + 40, 8));
	}
	if (err) {
		qcow_map_free(m);
		return err < 0 ? err : 0;
	}
	*mp = m;
	return 0;
}

/* Does the file hold bytes [in, in + len) of the cluster that entry maps? */
static bool held(const struct qcow_map *m, uint64_t e, uint64_t in,
		 uint64_t len)
{
	if (e & COMPRESSED) {
		unsigned int shift = 62 - (m->cluster_bits - 8);
		uint64_t start = e & ((1ULL << shift) - 1);
		uint64_t sectors = ((e >> shift) &
				    ((1ULL << (m->cluster_bits - 8)) - 1)) + 1;

		/* its last sector may run past the end (qemu pads it) */
		return (start & ~511ULL) + (sectors - 1) * 512 < m->fsize;
	}
	if ((e & ALL_ZEROS) || !(e & OFFSET_MASK))
		return true;	/* zeros or a hole: nothing read */
	return (e & OFFSET_MASK) + in + len <= m->fsize;
}

int qcow_map_check(const struct qcow_map *m, uint64_t off, size_t len,
		   uint64_t *bad)
{
	uint64_t cs = 1ULL << m->cluster_bits, l2_entries = cs / 8;
	uint64_t end = off + len;

	for (uint64_t at = off; at < end; at = (at | (cs - 1)) + 1) {
		uint64_t c = at >> m->cluster_bits, l1i = c / l2_entries;
		uint64_t in = at & (cs - 1), n = cs - in;
		unsigned char raw[8];
		uint64_t where;

		if (n > end - at)
			n = end - at;
		if (l1i >= m->l1_size || !m->l1[l1i])
			continue;	/* unallocated: zeros */
		where = m->l1[l1i] + (c % l2_entries) * 8;
		if (where + 8 > m->fsize ||
		    pread(m->fd, raw, 8, where) != 8 ||
		    !held(m, be(raw, 8), in, n)) {
			*bad = at;
			return -EIO;
		}
	}
	return 0;
}

void qcow_map_free(struct qcow_map *m)
{
	if (!m)
		return;
	if (m->fd >= 0)
		close(m->fd);
	free(m->l1);
	free(m);
}
