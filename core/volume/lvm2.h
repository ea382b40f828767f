/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * LVM2 inside blkfuse: lvm2.c reads each physical volume's label and the
 * volume group metadata it carries; lvm2_vg.c turns an assembled volume
 * group into its logical volumes as layers; lvm2_stripe.c is the striped
 * layer.  No lvm2 code, no device-mapper: the on-disk format is lvm2's
 * documented one (lib/format_text/layout.h, doc/lvm2-raid.txt).
 */
#ifndef BLK_LVM2_H
#define BLK_LVM2_H

#include <stdbool.h>
#include <stdint.h>

#include "volume/lvm2_meta.h"
#include "volume/volume.h"

/* A physical volume met in the stack. */
struct lvm_pv {
	unsigned int vol;		/* the stack volume holding it */
	char uuid[33];			/* as the label has it: no dashes */
	struct lvm_node *meta;		/* its copy of the metadata, or NULL */
	const struct lvm_node *vg;	/* the VG section in meta */
	int64_t seqno;
	char vgid[64];
	bool taken;			/* assembled into a VG */
};

/*
 * Open the VG described by vg (named vgname) over the PVs met (npv):
 * each LV a child of the first PV of the VG's own order that is present.
 * Marks the PVs it uses as taken.  0 or -ENOMEM.
 */
int lvm_vg_open(struct blk_stack *s, const struct lvm_node *vg,
		const char *vgname, struct lvm_pv *pvs, unsigned int npv);

/* lvm2_stripe.c: n legs (layer, start), chunk bytes, size bytes. */
struct lvm_leg {
	struct blk_layer *layer;
	uint64_t start;
};
struct blk_layer *lvm_stripe_new(const struct lvm_leg *legs, unsigned int n,
				 uint64_t chunk, uint64_t size);

#endif /* BLK_LVM2_H */
