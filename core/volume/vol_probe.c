// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a volume holds: libblkid's superblock and partition chains on the
 * volume's bytes.  libblkid reads only through a descriptor, so a volume
 * that maps whole onto one region of a file (a partition, a one-segment
 * LV on a raw image) is probed there, in place.  A volume that does not
 * (a fragmented or striped LV, anything decrypted or in a decoding
 * container) is probed through a memfd of its size that holds its first
 * and last MiB: every superblock and table header libblkid looks for lies
 * there (LVM label, LUKS, BitLocker, file systems, GPT with its backup,
 * MBR).  What it misses: DOS logical partitions whose EBR lies past the
 * first MiB, and file systems probed by a magic deeper inside.
 */
#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "layer/layer.h"
#include "volume/vol_probe.h"

#define WINDOW (1u << 20)

/* [off, off + len) of l into fd at the same offset; errors leave zeros. */
static int copy_range(struct blk_layer *l, int fd, uint64_t off, size_t len,
		      char *buf)
{
	uint64_t bad;

	if (blk_layer_read(l, buf, len, off, &bad) != 0)
		return 0;	/* unreadable: libblkid sees zeros there */
	for (size_t done = 0; done < len;) {
		ssize_t n = pwrite(fd, buf + done, len - done, off + done);

		if (n < 0)
			return -errno;
		done += n;
	}
	return 0;
}

int blk_vol_snapshot(struct blk_layer *l, uint64_t head, int *fd)
{
	if (head > l->size)
		head = l->size;
	uint64_t tail = l->size - head < WINDOW ? l->size - head : WINDOW;
	char *buf = malloc(WINDOW);
	int err = 0;

	*fd = memfd_create("blkfuse-volume-probe", MFD_CLOEXEC);
	if (*fd < 0 || !buf) {
		err = *fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	err = ftruncate(*fd, (off_t)l->size) ? -errno : 0;
	for (uint64_t at = 0; !err && at < head; at += WINDOW)
		err = copy_range(l, *fd, at, head - at < WINDOW ? head - at : WINDOW, buf);
	if (!err && tail)
		err = copy_range(l, *fd, l->size - tail, tail, buf);
out:
	free(buf);
	if (err && *fd >= 0)
		close(*fd);
	return err;
}

int blk_vol_fd(struct blk_layer *l, int *fd, uint64_t *off, bool *owned)
{
	struct blk_extent e;

	*owned = false;
	if (blk_layer_map(l, 0, &e) == 0 && e.len >= l->size) {
		*fd = e.fd;
		*off = e.off;
		return 0;
	}
	*off = 0;
	*owned = true;
	return blk_vol_snapshot(l, WINDOW, fd);
}

static void copy_value(blkid_probe pr, const char *name, char *dst, size_t len)
{
	const char *val;

	if (blkid_probe_lookup_value(pr, name, &val, NULL) == 0)
		snprintf(dst, len, "%s", val);
}

void blk_vol_probe(struct blk_volume *v)
{
	blkid_probe pr;
	uint64_t off;
	bool owned;
	int fd;

	memset(&v->fs, 0, sizeof(v->fs));
	v->pttype[0] = '\0';
	if (!v->layer || blk_vol_fd(v->layer, &fd, &off, &owned) != 0)
		return;
	pr = blkid_new_probe();
	if (pr && blkid_probe_set_device(pr, fd, off, v->layer->size) == 0 &&
	    blkid_probe_set_sectorsize(pr, v->layer->sector_size) == 0) {
		blkid_probe_enable_superblocks(pr, 1);
		blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_UUID |
						  BLKID_SUBLKS_TYPE |
						  BLKID_SUBLKS_LABEL);
		blkid_probe_enable_partitions(pr, 1);
		if (blkid_do_safeprobe(pr) == 0) {
			copy_value(pr, "TYPE", v->fs.type, sizeof(v->fs.type));
			copy_value(pr, "UUID", v->fs.uuid, sizeof(v->fs.uuid));
			copy_value(pr, "LABEL", v->fs.label, sizeof(v->fs.label));
			copy_value(pr, "PTTYPE", v->pttype, sizeof(v->pttype));
		}
	}
	blkid_free_probe(pr);
	if (owned)
		close(fd);
}

/* Where l's first byte lies in a file: false for a decoding layer. */
static bool first_byte(const struct blk_layer *l, struct blk_extent *e)
{
	return l && blk_layer_map(l, 0, e) == 0;
}

/* Do a and b (same size) begin with the same 64 KiB? */
static bool same_head(struct blk_layer *a, struct blk_layer *b)
{
	size_t n = a->size < 65536 ? a->size : 65536;
	char *x = malloc(n), *y = malloc(n);
	uint64_t bad;
	bool same = x && y && !blk_layer_read(a, x, n, 0, &bad) &&
		    !blk_layer_read(b, y, n, 0, &bad) && !memcmp(x, y, n);

	free(x);
	free(y);
	return same;
}

/*
 * The same bytes: where both map, the same first byte of the same file;
 * where either decodes, the same size and the same first 64 KiB.  Either
 * way with the same content found inside.
 */
static bool same_volume(const struct blk_volume *a, const struct blk_volume *v)
{
	struct blk_extent me, an;

	if (!a->layer || strcmp(a->fs.type, v->fs.type) ||
	    strcmp(a->pttype, v->pttype))
		return false;
	if (first_byte(v->layer, &me) && first_byte(a->layer, &an))
		return an.fd == me.fd && an.off == me.off;
	return a->size == v->size && same_head(a->layer, v->layer);
}

bool blk_vol_loops(const struct blk_stack *s, unsigned int i)
{
	const struct blk_volume *v = &s->v[i];

	for (int p = v->parent; p >= 0; p = s->v[p].parent)
		if (same_volume(&s->v[p], v))
			return true;
	return false;
}
