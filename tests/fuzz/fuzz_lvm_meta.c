// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: LVM2's metadata text (core/volume/lvm2_meta.c) and
 * what lvm2_vg.c builds from it.  The input is the text.  When it parses,
 * its volume group is opened over one 64 MiB physical volume of zeros
 * that takes the UUID of the VG's first PV (so the fuzzer need not guess
 * one), and every LV that comes out is read at its start, its end and
 * across its middle.  Beyond "no crash" it checks what the mount relies
 * on: an open LV has a layer of its size, every read inside it succeeds
 * (the PV holds every byte it names), and a volume that is not open has
 * a reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer/layer.h"
#include "base/log.h"
#include "volume/lvm2.h"

#define PV_SIZE (64ull << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int zero_read(struct blk_layer *l, void *buf, size_t len, uint64_t off,
		     uint64_t *bad)
{
	(void)l, (void)off, (void)bad;
	memset(buf, 0, len);
	return 0;
}

static const struct blk_layer_ops zero_ops = { .kind = "zero", .read = zero_read };

/* The first PV section's id, without dashes, into uuid. */
static void first_pv_uuid(const struct lvm_node *vg, char *uuid, size_t len)
{
	const struct lvm_node *pvs = lvm_get(vg, "physical_volumes");
	size_t j = 0;

	uuid[0] = '\0';
	for (const struct lvm_node *c = pvs ? pvs->child : NULL; c; c = c->next) {
		const char *id = lvm_get_str(c, "id");

		if (c->kind != LVM_SECTION || !id)
			continue;
		for (; *id && j + 1 < len; id++)
			if (*id != '-')
				uuid[j++] = *id;
		uuid[j] = '\0';
		return;
	}
}

static void read_lvs(const struct blk_stack *s)
{
	static char buf[3 << 16];

	for (unsigned int i = 1; i < s->n; i++) {
		const struct blk_volume *v = &s->v[i];
		uint64_t bad, n;

		if (v->state != BLK_VOL_OPEN) {
			if (!v->why[0])
				abort();	/* not served, and no reason */
			continue;
		}
		if (!v->layer || v->layer->size != v->size || !v->size)
			abort();
		n = v->size < sizeof(buf) ? v->size : sizeof(buf);
		if (blk_layer_read(v->layer, buf, n, 0, &bad) ||
		    blk_layer_read(v->layer, buf, n, v->size - n, &bad) ||
		    blk_layer_read(v->layer, buf, n, (v->size - n) / 2, &bad))
			abort();	/* a byte the PV does not hold */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lvm_pv pv = { .vol = 0 };
	struct blk_stack *s;
	struct lvm_node *root;
	const struct lvm_node *vg = NULL;
	char err[128];

	blk_log_level = 0;	/* the warnings are the point; not on stderr */
	if (lvm_meta_parse((const char *)data, size, &root, err, sizeof(err)))
		return 0;
	for (const struct lvm_node *n = root->child; n && !vg; n = n->next)
		if (n->kind == LVM_SECTION)
			vg = n;
	s = calloc(1, sizeof(*s));
	if (vg && s && (s->v = calloc(1, sizeof(*s->v)))) {
		s->n = s->cap = 1;
		s->v[0] = (struct blk_volume){ .name = "disk", .path = "disk",
			.parent = -1, .root = true, .home_of = -1, .size = PV_SIZE };
		s->v[0].layer = blk_stack_own(s, blk_layer_new(&zero_ops, NULL,
							       PV_SIZE, 512, NULL));
		first_pv_uuid(vg, pv.uuid, sizeof(pv.uuid));
		if (s->v[0].layer &&
		    lvm_vg_open(s, vg, vg->key, &pv, 1) == 0)
			read_lvs(s);
	}
	blk_stack_free(s);
	lvm_meta_free(root);
	return 0;
}
