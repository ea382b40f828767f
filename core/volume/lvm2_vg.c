// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A volume group's logical volumes as layers, read from its metadata:
 *
 *   linear ("striped", stripe_count 1), any number of segments: one
 *     concatenation of slices of the PVs, so it maps (splices) wherever
 *     the PVs map;
 *   striped: the striped layer of lvm2_stripe.c (maps chunk by chunk);
 *   raid1 and mirror: served from the first leg (rimage / mimage) that is
 *     whole: every leg holds every byte;
 *   thin pools, thin volumes, snapshots' copy-on-write stores, cache,
 *     raid4/5/6/10, vdo: listed, marked unsupported.
 *
 * An LV on a missing PV is listed as incomplete; one whose extents run
 * past its PV, or whose segments do not tile it, as bad: one line each,
 * and the rest of the VG is still served.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer/layer.h"
#include "base/log.h"
#include "base/util.h"
#include "volume/lvm2.h"

#define MAX_SEGS 65536
#define MAX_LEG_DEPTH 4

struct vg_pv {
	const char *name;		/* "pv0" */
	struct blk_layer *layer;	/* NULL: missing */
	int vol;			/* the stack volume, -1: missing */
	uint64_t pe_start;		/* bytes */
	uint64_t pe_count;
	char uuid[64];
};

struct vg {
	struct blk_stack *s;
	const struct lvm_node *lvs;	/* logical_volumes */
	const char *name;
	uint64_t ext;			/* extent size, bytes */
	struct vg_pv *pv;
	unsigned int npv;
};

/* The outcome of building one LV. */
struct lv_out {
	struct blk_layer *layer;
	enum blk_vol_state st;
	char why[200];
	char detail[96];
};

static int lv_build(struct vg *g, const struct lvm_node *lv, unsigned int depth,
		    struct lv_out *o);

static void strip_dashes(char *dst, size_t len, const char *src)
{
	size_t j = 0;

	for (; *src && j + 1 < len; src++)
		if (*src != '-')
			dst[j++] = *src;
	dst[j] = '\0';
}

void blk_lvm_dm_name(char *buf, size_t len, const char *vg, const char *lv)
{
	size_t j = 0;
	const char *parts[2] = { vg, lv };

	for (int k = 0; k < 2; k++) {
		if (k && j + 1 < len)
			buf[j++] = '-';
		for (const char *c = parts[k]; *c && j + 2 < len; c++) {
			if (*c == '-')
				buf[j++] = '-';
			buf[j++] = *c;
		}
	}
	buf[j] = '\0';
}

static bool failed(struct lv_out *o, enum blk_vol_state st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool failed(struct lv_out *o, enum blk_vol_state st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->why, sizeof(o->why), fmt, ap);
	va_end(ap);
	o->st = st;
	return false;
}

static const struct vg_pv *find_pv(const struct vg *g, const char *name)
{
	for (unsigned int i = 0; i < g->npv; i++)
		if (!strcmp(g->pv[i].name, name))
			return &g->pv[i];
	return NULL;
}

/* count extents from extent pe of the PV called name: a leg, checked. */
static bool pv_leg(struct vg *g, const char *name, int64_t pe, uint64_t count,
		   struct lvm_leg *leg, struct lv_out *o)
{
	const struct vg_pv *pv = find_pv(g, name);
	uint64_t start;

	if (!pv) {
		char esc[64];

		blk_text_escape(esc, sizeof(esc), name);
		return failed(o, BLK_VOL_BAD, "names %s, not a PV of the VG", esc);
	}
	if (!pv->layer)
		return failed(o, BLK_VOL_INCOMPLETE, "PV %s (%s) is missing",
			      name, pv->uuid);
	if (pe < 0 || (uint64_t)pe > pv->pe_count || count > pv->pe_count - pe)
		return failed(o, BLK_VOL_BAD, "extents %lld-%llu are past the end of PV %s (%llu extents)",
			      (long long)pe, (unsigned long long)(pe + count - 1),
			      name, (unsigned long long)pv->pe_count);
	/* bounded by what the PV's bytes can hold first: no product overflows */
	if (pv->pe_start > pv->layer->size ||
	    (uint64_t)pe + count > (pv->layer->size - pv->pe_start) / g->ext)
		return failed(o, BLK_VOL_BAD, "extents %lld-%llu run past the end of PV %s (%s)",
			      (long long)pe, (unsigned long long)(pe + count - 1),
			      name, g->s->v[pv->vol].path);
	start = pv->pe_start + (uint64_t)pe * g->ext;
	*leg = (struct lvm_leg){ pv->layer, start };
	return true;
}

/* A "striped" segment (linear when one stripe) as one piece. */
static bool seg_striped(struct vg *g, const struct lvm_node *seg, uint64_t count,
			struct blk_layer_piece *pc, struct lv_out *o)
{
	const struct lvm_node *st = lvm_get(seg, "stripes"), *it;
	int64_t n = 1, chunk = 0;
	struct lvm_leg legs[128];
	unsigned int k = 0;

	lvm_get_int(seg, "stripe_count", &n);
	if (n < 1 || n > 128 || !st || st->kind != LVM_ARRAY || count % n)
		return failed(o, BLK_VOL_BAD, "a striped segment is malformed");
	for (it = st->child; it && k < n; it = it->next->next, k++) {
		if (it->kind != LVM_STR || !it->next || it->next->kind != LVM_INT)
			return failed(o, BLK_VOL_BAD, "a stripe is malformed");
		if (!pv_leg(g, it->str, it->next->num, count / n, &legs[k], o))
			return false;
	}
	if (k != n)
		return failed(o, BLK_VOL_BAD, "fewer stripes than stripe_count");
	if (n == 1) {
		*pc = (struct blk_layer_piece){ legs[0].layer, legs[0].start, count * g->ext };
		return true;
	}
	if (!lvm_get_int(seg, "stripe_size", &chunk) || chunk <= 0 ||
	    chunk > (int64_t)(g->ext >> 9) || ((count / n) * g->ext) % ((uint64_t)chunk << 9))
		return failed(o, BLK_VOL_BAD, "stripe size is malformed");
	pc->layer = blk_stack_own(g->s, lvm_stripe_new(legs, n, (uint64_t)chunk << 9,
						       count * g->ext));
	if (!pc->layer)
		return failed(o, BLK_VOL_BAD, "%s", strerror(ENOMEM));
	pc->start = 0;
	pc->len = count * g->ext;
	snprintf(o->detail, sizeof(o->detail), "striped, %lld stripes of %lld KiB",
		 (long long)n, (long long)chunk / 2);
	return true;
}

/* raid1 / mirror: the first whole leg, at this segment's place in it. */
static bool seg_mirror(struct vg *g, const struct lvm_node *seg, bool raid,
		       uint64_t first, uint64_t count, unsigned int depth,
		       struct blk_layer_piece *pc, struct lv_out *o)
{
	const struct lvm_node *arr = lvm_get(seg, raid ? "raids" : "mirrors");
	unsigned int k = 0;

	if (!arr || arr->kind != LVM_ARRAY || depth >= MAX_LEG_DEPTH)
		return failed(o, BLK_VOL_BAD, "a %s segment is malformed",
			      raid ? "raid1" : "mirror");
	/* raids: rmeta_0, rimage_0, rmeta_1, ...; mirrors: mimage_0, 0, ... */
	for (const struct lvm_node *it = arr->child; it; it = it->next, k++) {
		const struct lvm_node *leg;
		struct lv_out lo = { 0 };

		if (it->kind != LVM_STR || (raid && !(k & 1)))
			continue;
		leg = lvm_get(g->lvs, it->str);
		if (!leg || leg->kind != LVM_SECTION ||
		    lv_build(g, leg, depth + 1, &lo) || !lo.layer ||
		    lo.layer->size < (first + count) * g->ext)
			continue;
		*pc = (struct blk_layer_piece){ lo.layer, first * g->ext, count * g->ext };
		snprintf(o->detail, sizeof(o->detail), "%s, served from leg %s",
			 raid ? "raid1" : "mirror", it->str);
		return true;
	}
	return failed(o, BLK_VOL_INCOMPLETE, "no %s leg is whole",
		      raid ? "raid1" : "mirror");
}

static int by_start(const void *a, const void *b)
{
	int64_t x = 0, y = 0;

	lvm_get_int(*(const struct lvm_node *const *)a, "start_extent", &x);
	lvm_get_int(*(const struct lvm_node *const *)b, "start_extent", &y);
	return x < y ? -1 : x > y;
}

/* One segment as one piece of the LV. */
static bool seg_piece(struct vg *g, const struct lvm_node *seg, uint64_t at,
		      unsigned int depth, struct blk_layer_piece *pc,
		      struct lv_out *o)
{
	const char *type = lvm_get_str(seg, "type");
	int64_t start, count;
	char esc[64];

	if (!lvm_get_int(seg, "start_extent", &start) ||
	    !lvm_get_int(seg, "extent_count", &count) || !type)
		return failed(o, BLK_VOL_BAD, "segment %s is malformed", seg->key);
	if ((uint64_t)start != at || count <= 0 ||
	    (uint64_t)count > UINT64_MAX / g->ext / 2)
		return failed(o, BLK_VOL_BAD, "segments do not tile the volume (%s)",
			      seg->key);
	if (!strcmp(type, "striped"))
		return seg_striped(g, seg, count, pc, o);
	if (!strcmp(type, "raid1") || !strcmp(type, "mirror"))
		return seg_mirror(g, seg, type[0] == 'r', start, count, depth, pc, o);
	blk_text_escape(esc, sizeof(esc), type);	/* text from the disk */
	return failed(o, BLK_VOL_UNSUPPORTED, "segment type %s", esc);
}

static unsigned int count_segments(const struct lvm_node *lv)
{
	unsigned int n = 0;

	for (const struct lvm_node *c = lv->child; c; c = c->next)
		n += c->kind == LVM_SECTION && !strncmp(c->key, "segment", 7);
	return n;
}

/* The n segments of lv into seg, in extent order. */
static void segments(const struct lvm_node *lv, const struct lvm_node **seg)
{
	unsigned int n = 0;

	for (const struct lvm_node *c = lv->child; c; c = c->next)
		if (c->kind == LVM_SECTION && !strncmp(c->key, "segment", 7))
			seg[n++] = c;
	qsort(seg, n, sizeof(*seg), by_start);
}

/* 0 with o->layer or o->st/why set; -ENOMEM. */
static int lv_build(struct vg *g, const struct lvm_node *lv, unsigned int depth,
		    struct lv_out *o)
{
	unsigned int n = count_segments(lv), k;
	const struct lvm_node **seg;
	struct blk_layer_piece *pc;
	uint64_t at = 0;
	int err = 0;

	if (!n || n > MAX_SEGS) {
		failed(o, BLK_VOL_BAD, n ? "too many segments" : "no segments");
		return 0;
	}
	seg = calloc(n, sizeof(*seg));
	pc = calloc(n, sizeof(*pc));
	if (!seg || !pc) {
		err = -ENOMEM;
		goto out;
	}
	segments(lv, seg);
	for (k = 0; k < n; k++) {
		if (!seg_piece(g, seg[k], at, depth, &pc[k], o))
			goto out;
		at += pc[k].len / g->ext;
	}
	o->layer = blk_stack_own(g->s, blk_layer_concat(pc, n, pc[0].layer->sector_size));
	if (!o->layer)
		err = -ENOMEM;
	else if (!o->detail[0] || n > 1) {
		char kind[sizeof(o->detail)];

		snprintf(kind, sizeof(kind), "%s", o->detail[0] ? o->detail : "linear");
		if (snprintf(o->detail, sizeof(o->detail), "%s, %u segment%s", kind,
			     n, n == 1 ? "" : "s") >= (int)sizeof(o->detail))
			o->detail[sizeof(o->detail) - 1] = '\0';
	}
out:
	free(seg);
	free(pc);
	return err;
}

/* Snapshots' COW stores: a "snapshot" segment names it in cow_store. */
static const char *cow_of(const struct vg *g, const char *lvname)
{
	for (const struct lvm_node *lv = g->lvs->child; lv; lv = lv->next)
		for (const struct lvm_node *c = lv->child; c; c = c->next) {
			const char *t = lvm_get_str(c, "type");
			const char *cow = lvm_get_str(c, "cow_store");

			if (t && !strcmp(t, "snapshot") && cow && !strcmp(cow, lvname))
				return lvm_get_str(c, "origin");
		}
	return NULL;
}

/* The VG's PVs, in its own order, matched to the PVs met by UUID. */
static int match_pvs(struct vg *g, const struct lvm_node *pvs,
		     struct lvm_pv *met, unsigned int nmet)
{
	unsigned int n = 0;

	for (const struct lvm_node *c = pvs->child; c; c = c->next)
		n += c->kind == LVM_SECTION;
	g->pv = calloc(n ? n : 1, sizeof(*g->pv));
	if (!g->pv)
		return -ENOMEM;
	for (const struct lvm_node *c = pvs->child; c; c = c->next) {
		struct vg_pv *p = &g->pv[g->npv];
		const char *id = lvm_get_str(c, "id");
		int64_t pe_start = 0, pe_count = 0;
		char bare[64];

		if (c->kind != LVM_SECTION)
			continue;
		g->npv++;
		*p = (struct vg_pv){ .name = c->key, .vol = -1 };
		blk_text_escape(p->uuid, sizeof(p->uuid), id ? id : "?");
		strip_dashes(bare, sizeof(bare), p->uuid);
		lvm_get_int(c, "pe_start", &pe_start);
		lvm_get_int(c, "pe_count", &pe_count);
		if (pe_start < 0 || pe_count < 0 || pe_start > INT64_MAX >> 9)
			continue;	/* as if missing: its LVs are listed incomplete */
		p->pe_start = (uint64_t)pe_start << 9;
		p->pe_count = (uint64_t)pe_count;
		for (unsigned int i = 0; i < nmet; i++) {
			if (strcmp(met[i].uuid, bare))
				continue;
			if (p->vol >= 0) {	/* a cloned disk in the same source */
				blk_warn("VG %s: PV %s is in both %s and %s; %s is used",
					 g->name, p->name, g->s->v[p->vol].path,
					 g->s->v[met[i].vol].path, g->s->v[p->vol].path);
				continue;
			}
			p->vol = (int)met[i].vol;
			p->layer = g->s->v[met[i].vol].layer;
			met[i].taken = true;
		}
	}
	return 0;
}

/* The size the metadata gives lv (its extents), 0 if that overflows. */
static uint64_t nominal_size(const struct vg *g, const struct lvm_node *lv)
{
	uint64_t extents = 0;

	for (const struct lvm_node *c = lv->child; c; c = c->next) {
		int64_t n;

		if (c->kind != LVM_SECTION || strncmp(c->key, "segment", 7) ||
		    !lvm_get_int(c, "extent_count", &n))
			continue;
		if (n < 0 || (uint64_t)n > UINT64_MAX / g->ext / 2 - extents)
			return 0;
		extents += (uint64_t)n;
	}
	return extents * g->ext;
}

/* One visible LV as a child of home: 0 or -ENOMEM. */
static int add_lv(struct vg *g, const struct lvm_node *lv, unsigned int home)
{
	struct lv_out o = { .st = BLK_VOL_OPEN };
	const char *origin = cow_of(g, lv->key), *id = lvm_get_str(lv, "id");
	char name[200];
	int i, err = 0;

	if (origin) {
		char esc[64];

		blk_text_escape(esc, sizeof(esc), origin);
		failed(&o, BLK_VOL_UNSUPPORTED, "copy-on-write store of a snapshot of %s",
		       esc);
	}
	else
		err = lv_build(g, lv, 0, &o);
	if (err)
		return err;
	blk_lvm_dm_name(name, sizeof(name), g->name, lv->key);
	i = blk_stack_add(g->s, home, name, "lvm2-lv", o.layer);
	if (i < 0)
		return i == -ENOMEM ? i : 0;
	snprintf(g->s->v[i].uuid, sizeof(g->s->v[i].uuid), "%s", id ? id : "");
	snprintf(g->s->v[i].label, sizeof(g->s->v[i].label), "%s/%s", g->name, lv->key);
	snprintf(g->s->v[i].detail, sizeof(g->s->v[i].detail), "%s", o.detail);
	if (!o.layer) {
		g->s->v[i].size = nominal_size(g, lv);	/* listed, not served */
		blk_vol_fail(&g->s->v[i], o.st, "%s", o.why);
	}
	return 0;
}

static bool vg_facts(struct vg *g, const struct lvm_node *vg,
		     const struct lvm_node **pvs)
{
	int64_t ext = 0;

	*pvs = lvm_get(vg, "physical_volumes");
	g->lvs = lvm_get(vg, "logical_volumes");
	/* extent_size: sectors; lvm2 allows 1 KiB .. 16 GiB, a power of two */
	if (!lvm_get_int(vg, "extent_size", &ext) || ext < 2 || ext > (1ll << 25) ||
	    !*pvs || (*pvs)->kind != LVM_SECTION)
		return false;
	g->ext = (uint64_t)ext << 9;
	return true;
}

int lvm_vg_open(struct blk_stack *s, const struct lvm_node *vgsec,
		const char *vgname, struct lvm_pv *met, unsigned int nmet)
{
	struct vg g = { .s = s, .name = vgname };
	const struct lvm_node *pvs;
	int home = -1, err;

	if (!vg_facts(&g, vgsec, &pvs)) {
		blk_warn("VG %s: metadata is malformed (extent size or PV list); not opened",
			 vgname);
		return 0;
	}
	err = match_pvs(&g, pvs, met, nmet);
	for (unsigned int i = 0; !err && i < g.npv; i++) {
		if (g.pv[i].vol < 0) {
			blk_warn("VG %s: PV %s (%s) is missing; LVs on it are not served",
				 vgname, g.pv[i].name, g.pv[i].uuid);
		} else if (home < 0) {
			home = g.pv[i].vol;
		} else {
			s->v[g.pv[i].vol].home_of = home;
		}
	}
	if (!err && home < 0)
		blk_warn("VG %s: none of its PVs is present", vgname);
	for (const struct lvm_node *lv = g.lvs ? g.lvs->child : NULL;
	     !err && home >= 0 && lv; lv = lv->next)
		if (lv->kind == LVM_SECTION && lvm_has_flag(lv, "status", "VISIBLE"))
			err = add_lv(&g, lv, (unsigned int)home);
	free(g.pv);
	return err;
}
