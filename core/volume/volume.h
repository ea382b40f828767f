/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Volumes inside volumes: what lies in each data file of the mount (disk,
 * pN) found by content and opened as layers (layer/layer.h), to any depth:
 * an LVM2 volume group's logical volumes, a decrypted LUKS or BitLocker
 * volume, a nested partition table's partitions.
 *
 * The stack (stack.c) is a flat array of volumes, each naming its parent;
 * the first ones are the roots (disk, or the pN files).  A driver (one
 * file each, one row of blk_vol_drivers) claims the content type libblkid
 * names and adds the children it finds with blk_stack_add.  In the mount a
 * data file X with children gets a folder X.d holding them (tree_volumes.c).
 */
#ifndef BLK_VOLUME_H
#define BLK_VOLUME_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "volume/layout.h"

struct blk_layer;
struct blk_keyring;

/* Nesting deeper than this is refused (a loop of nesting ends here too). */
#define BLK_VOL_MAX_DEPTH 8
/* Volumes in one stack, at most (a crafted VG of a million LVs). */
#define BLK_VOL_MAX 4096

enum blk_vol_state {
	BLK_VOL_OPEN,		/* served: a file of the mount */
	BLK_VOL_LOCKED,		/* encrypted, no key opened it (why) */
	BLK_VOL_UNSUPPORTED,	/* a kind blkfuse does not read (why) */
	BLK_VOL_INCOMPLETE,	/* a part of it is missing (why) */
	BLK_VOL_BAD,		/* its description is broken (why) */
};

struct blk_volume {
	char name[200];		/* in the parent's X.d folder; roots: "p3", "disk" */
	char path[600];		/* in the mount: "p3.d/luks.d/vg0-root" */
	char type[24];		/* "disk", "part", "lvm2-lv", "luks", "bitlocker" */
	char uuid[64];		/* the volume's own (LV, LUKS header, partition) */
	char label[256];	/* the volume's own name (LV "vg0/root") */
	char detail[96];	/* "linear, 2 segments", "striped, 2 stripes" */
	struct blk_fs fs;	/* what libblkid finds inside: LVM2_member, ext4 */
	char pttype[16];	/* a partition table inside, "" if none */
	enum blk_vol_state state;
	char why[200];		/* when not OPEN */
	struct blk_layer *layer;	/* OPEN: its bytes (owned by the stack) */
	uint64_t size;		/* bytes */
	int parent;		/* index, -1 for a root */
	unsigned int depth;	/* roots 0 */
	bool root;		/* disk or pN: already a file of the mount */
	int home_of;		/* LVM: the LVs of this VG live under another PV: -1 */
};

struct blk_stack;
struct blk_vol_driver {
	const char *name;	/* "lvm2" */
	const char *what;	/* "LVM2 physical volume: logical volumes" */
	const char *library;	/* "own reader", "libcryptsetup + libcrypto" */
	const char *package;	/* Debian package of the library, "" if none */
	const char *blkid_type;	/* libblkid's TYPE it claims; NULL: a table */
	/* Open what volume vol holds: add its children.  0 or -errno
	 * (-ENOMEM only; a bad volume is said and marked, not an error). */
	int (*open)(struct blk_stack *s, unsigned int vol);
	/* Once nothing is left to probe (a VG spread over several PVs is
	 * assembled here): 0 or -ENOMEM.  May add volumes. */
	int (*settle)(struct blk_stack *s);
	void (*free_priv)(struct blk_stack *s);
};

extern const struct blk_vol_driver blk_vol_lvm2, blk_vol_luks,
	blk_vol_bitlocker, blk_vol_table;
/* NULL-terminated: every driver, in the order content is matched. */
extern const struct blk_vol_driver *const blk_vol_drivers[];
/* "lvm2 luks bitlocker table": the drivers' names, for --version. */
void blk_vol_driver_names(char *buf, size_t len);

struct blk_stack {
	struct blk_volume *v;
	unsigned int n, cap;
	struct blk_layer **layers;	/* every layer the stack made */
	unsigned int nlayers, lcap;
	const struct blk_keyring *kr;
	void *lvm;			/* lvm2.c: PVs waiting for their VG */
	bool full;			/* BLK_VOL_MAX reached (said once) */
};

/*
 * Probe every data file of the mount (disk without a table, else each
 * exposed pN) and open what is inside, recursively.  *out is NULL when
 * nothing was found.  0, or -ENOMEM (printed).  kr may be NULL.
 */
int blk_stack_probe(struct blk_stack **out, struct blk_layer *source,
		    const struct blk_layout *lo, const struct blk_keyring *kr);
void blk_stack_free(struct blk_stack *s);

/* For drivers: a child of parent, state OPEN when layer, else state/why
 * filled in by the caller.  Its index, or -ENOMEM / -ENOSPC (said). */
int blk_stack_add(struct blk_stack *s, unsigned int parent, const char *name,
		  const char *type, struct blk_layer *layer);
/* Keep l to be freed with the stack: l, or NULL (l freed) on ENOMEM. */
struct blk_layer *blk_stack_own(struct blk_stack *s, struct blk_layer *l);
/* Mark v not served, with why (also printed as a warning naming it). */
void blk_vol_fail(struct blk_volume *v, enum blk_vol_state st,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *blk_vol_state_name(enum blk_vol_state st);

/* stack_json.c: the volumes as a JSON tree ("volumes": [...]) at indent. */
void blk_stack_json(FILE *f, const struct blk_stack *s, const char *indent);

/* lvm2.c: "vg-lv" as /dev/mapper names it (dashes doubled) into buf. */
void blk_lvm_dm_name(char *buf, size_t len, const char *vg, const char *lv);

#endif /* BLK_VOLUME_H */
