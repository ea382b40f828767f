// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The LVM2 driver: a physical volume's label ("LABELONE" in one of its
 * first four sectors), its PV header (UUID, data and metadata areas), the
 * metadata area's header and the newest metadata text in its ring buffer,
 * each checked by lvm2's own CRC.  A PV is only remembered when met; once
 * the stack has nothing left to probe, settle() assembles each volume
 * group once, from the newest copy of its metadata (highest seqno), over
 * every PV of it that was found, wherever it was (lvm2_vg.c).
 *
 * Why not libvslvm: Debian's (20181227) cannot open a VG whose LV has two
 * segments ("invalid physical volume value already set").
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "layer/layer.h"
#include "base/log.h"
#include "volume/lvm2.h"

#define LABEL_SIZE 512
#define LABEL_SCAN 4			/* sectors the label may be in */
#define MDA_HEADER_SIZE 512
#define MDA_MAGIC " LVM2 x[5A%r0N*>"
#define INITIAL_CRC 0xf597a6cfu
#define RAW_LOCN_IGNORED 1u
#define MAX_TEXT (16u << 20)		/* lvm2 caps its metadata well below */
#define MAX_AREAS 16

struct lvm_state {
	struct lvm_pv *pv;
	unsigned int n, cap;
};

/* lvm2's calc_crc: CRC-32 (reflected 0xedb88320), no final inversion. */
static uint32_t lvm_crc(uint32_t crc, const uint8_t *p, size_t n)
{
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return crc;
}

/* The label sector: its offset in the PV, or -ENOENT / -EIO. */
static int find_label(struct blk_layer *l, uint8_t *sec, uint64_t *at)
{
	uint64_t bad;

	for (unsigned int i = 0; i < LABEL_SCAN; i++) {
		if ((uint64_t)(i + 1) * LABEL_SIZE > l->size)
			break;
		if (blk_layer_read(l, sec, LABEL_SIZE, (uint64_t)i * LABEL_SIZE, &bad))
			return -EIO;
		if (memcmp(sec, "LABELONE", 8) || blk_le64(sec + 8) != i ||
		    memcmp(sec + 24, "LVM2 001", 8))
			continue;
		if (lvm_crc(INITIAL_CRC, sec + 20, LABEL_SIZE - 20) != blk_le32(sec + 16))
			continue;	/* as lvm2 does: a bad label is no label */
		*at = (uint64_t)i * LABEL_SIZE;
		return 0;
	}
	return -ENOENT;
}

/* The metadata text of the area at [mda, mda + mdasize): malloc'ed. */
static char *read_text(struct blk_layer *l, uint64_t mda, uint64_t mdasize,
		       size_t *len, const char **why)
{
	uint8_t h[MDA_HEADER_SIZE];
	uint64_t off, size, bad, first;
	char *text;

	if (mdasize < 2 * MDA_HEADER_SIZE || mda > l->size || mdasize > l->size - mda) {
		*why = "metadata area outside the PV";
		return NULL;
	}
	if (blk_layer_read(l, h, sizeof(h), mda, &bad)) {
		*why = "metadata area unreadable";
		return NULL;
	}
	if (memcmp(h + 4, MDA_MAGIC, 16) || blk_le32(h + 20) != 1 ||
	    lvm_crc(INITIAL_CRC, h + 4, MDA_HEADER_SIZE - 4) != blk_le32(h)) {
		*why = "metadata area header is corrupt (magic, version or checksum)";
		return NULL;
	}
	off = blk_le64(h + 40), size = blk_le64(h + 48);
	if (!size || (blk_le32(h + 60) & RAW_LOCN_IGNORED)) {
		*why = "";
		return NULL;	/* an area with no metadata in it */
	}
	if (off < MDA_HEADER_SIZE || off >= mdasize || size > MAX_TEXT ||
	    size > mdasize - MDA_HEADER_SIZE) {
		*why = "metadata location out of range";
		return NULL;
	}
	text = malloc(size + 1);
	if (!text) {
		*why = "out of memory";
		return NULL;
	}
	/* a ring: what does not fit before its end goes on after its header */
	first = size < mdasize - off ? size : mdasize - off;
	if (blk_layer_read(l, text, first, mda + off, &bad) ||
	    (first < size && blk_layer_read(l, text + first, size - first,
					    mda + MDA_HEADER_SIZE, &bad))) {
		free(text);
		*why = "metadata unreadable";
		return NULL;
	}
	if (lvm_crc(INITIAL_CRC, (uint8_t *)text, size) != blk_le32(h + 56)) {
		free(text);
		*why = "metadata checksum mismatch";
		return NULL;
	}
	text[size] = '\0';
	*len = size;
	return text;
}

/* The VG section of parsed metadata: the one top-level section. */
static const struct lvm_node *vg_section(const struct lvm_node *root)
{
	for (const struct lvm_node *n = root->child; n; n = n->next)
		if (n->kind == LVM_SECTION)
			return n;
	return NULL;
}

/* Parse text into pv: true when it holds a usable VG. */
static bool take_meta(struct lvm_pv *pv, const char *text, size_t len,
		      char *why, size_t whylen)
{
	char err[128];
	const char *id;

	if (lvm_meta_parse(text, len, &pv->meta, err, sizeof(err))) {
		snprintf(why, whylen, "metadata is corrupt (%s)", err);
		return false;
	}
	pv->vg = vg_section(pv->meta);
	id = pv->vg ? lvm_get_str(pv->vg, "id") : NULL;
	if (!id || !lvm_get_int(pv->vg, "seqno", &pv->seqno) ||
	    !lvm_get(pv->vg, "physical_volumes")) {
		snprintf(why, whylen, "metadata names no volume group");
		lvm_meta_free(pv->meta);
		pv->meta = NULL;
		pv->vg = NULL;
		return false;
	}
	snprintf(pv->vgid, sizeof(pv->vgid), "%s", id);
	return true;
}

/* The metadata areas after the data areas of the PV header at ph. */
static void read_meta(struct blk_layer *l, const uint8_t *ph, size_t room,
		      struct lvm_pv *pv, char *why, size_t whylen)
{
	size_t at = 40;
	int list = 0;

	why[0] = '\0';
	for (unsigned int k = 0; k < 2 * MAX_AREAS && at + 16 <= room; k++, at += 16) {
		uint64_t off = blk_le64(ph + at), size = blk_le64(ph + at + 8);
		const char *w = "";
		size_t len;
		char *text;

		if (!off) {		/* each list ends with a zero entry */
			if (++list == 2)
				return;
			continue;
		}
		if (list == 0)
			continue;	/* a data area */
		text = read_text(l, off, size, &len, &w);
		if (!text) {
			if (w[0])
				snprintf(why, whylen, "%s", w);
			continue;
		}
		if (take_meta(pv, text, len, why, whylen)) {
			free(text);
			why[0] = '\0';
			return;
		}
		free(text);
	}
}

static struct lvm_pv *new_pv(struct blk_stack *s)
{
	struct lvm_state *st = s->lvm;

	if (!st) {
		st = s->lvm = calloc(1, sizeof(*st));
		if (!st)
			return NULL;
	}
	if (st->n == st->cap) {
		unsigned int cap = st->cap ? st->cap * 2 : 8;
		struct lvm_pv *pv = realloc(st->pv, cap * sizeof(*pv));

		if (!pv)
			return NULL;
		st->pv = pv;
		st->cap = cap;
	}
	memset(&st->pv[st->n], 0, sizeof(st->pv[0]));
	return &st->pv[st->n++];
}

static int lvm_open(struct blk_stack *s, unsigned int vol)
{
	struct blk_volume *v = &s->v[vol];
	uint8_t sec[LABEL_SIZE];
	struct lvm_pv *pv;
	uint64_t at;
	uint32_t hoff;

	if (find_label(v->layer, sec, &at)) {
		snprintf(v->why, sizeof(v->why), "LVM2 label unreadable or corrupt");
		blk_warn("%s: %s; its logical volumes are not opened", v->path, v->why);
		return 0;
	}
	hoff = blk_le32(sec + 20);
	if (hoff < 32 || hoff > LABEL_SIZE - 40) {
		snprintf(v->why, sizeof(v->why), "LVM2 PV header out of range");
		blk_warn("%s: %s; its logical volumes are not opened", v->path, v->why);
		return 0;
	}
	pv = new_pv(s);
	if (!pv)
		return -ENOMEM;
	pv->vol = vol;
	memcpy(pv->uuid, sec + hoff, 32);
	read_meta(v->layer, sec + hoff, LABEL_SIZE - hoff, pv, v->why, sizeof(v->why));
	if (v->why[0])
		blk_warn("%s: LVM2 %s; this copy is not used", v->path, v->why);
	return 0;
}

/* A volume group not yet assembled: the PV with its newest metadata. */
static struct lvm_pv *newest_untaken(struct lvm_state *st)
{
	struct lvm_pv *best = NULL;

	for (unsigned int i = 0; i < st->n; i++) {
		struct lvm_pv *pv = &st->pv[i];

		if (pv->taken || !pv->vg)
			continue;
		if (!best)
			best = pv;
		else if (!strcmp(pv->vgid, best->vgid) && pv->seqno > best->seqno)
			best = pv;
	}
	return best;
}

static int lvm_settle(struct blk_stack *s)
{
	struct lvm_state *st = s->lvm;
	struct lvm_pv *best;

	while (st && (best = newest_untaken(st))) {
		int err = lvm_vg_open(s, best->vg, best->vg->key, st->pv, st->n);

		/* every copy of this VG is now used, stale ones included */
		for (unsigned int i = 0; i < st->n; i++)
			if (st->pv[i].vg && !strcmp(st->pv[i].vgid, best->vgid))
				st->pv[i].taken = true;
		if (err)
			return err;
		st = s->lvm;	/* lvm_vg_open may not move it, but be plain */
	}
	return 0;
}

static void lvm_free(struct blk_stack *s)
{
	struct lvm_state *st = s->lvm;

	if (!st)
		return;
	for (unsigned int i = 0; i < st->n; i++)
		lvm_meta_free(st->pv[i].meta);
	free(st->pv);
	free(st);
	s->lvm = NULL;
}

const struct blk_vol_driver blk_vol_lvm2 = {
	.name = "lvm2",
	.what = "LVM2 physical volume: the logical volumes of its volume group",
	.library = "own reader of the label and metadata text",
	.package = "",
	.blkid_type = "LVM2_member",
	.open = lvm_open,
	.settle = lvm_settle,
	.free_priv = lvm_free,
};
