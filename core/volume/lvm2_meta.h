/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * LVM2's volume group metadata: the text format lvm2 keeps in the metadata
 * area of each physical volume (lvm2 "format_text": sections in braces,
 * "key = value" with numbers, "strings" and [arrays]).  Parsed into a tree
 * of nodes; lvm2.c reads the volume group out of it.  Everything here
 * treats the text as hostile: bounded depth, bounded size, no recursion
 * deeper than the nesting limit.
 */
#ifndef BLK_LVM2_META_H
#define BLK_LVM2_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lvm_kind { LVM_SECTION, LVM_INT, LVM_STR, LVM_ARRAY };

struct lvm_node {
	char *key;			/* NULL for an array item */
	enum lvm_kind kind;
	int64_t num;			/* LVM_INT */
	char *str;			/* LVM_STR */
	struct lvm_node *child;		/* members of a section, items of an array */
	struct lvm_node *next;
};

/*
 * The text (len bytes, stops at a NUL) into *root, a section holding the
 * top-level members: 0, or -EINVAL with err saying where ("line 12:
 * expected '='"), -ENOMEM.
 */
int lvm_meta_parse(const char *text, size_t len, struct lvm_node **root,
		   char *err, size_t errlen);
void lvm_meta_free(struct lvm_node *n);

/* The member key of section sec (first match), or NULL. */
const struct lvm_node *lvm_get(const struct lvm_node *sec, const char *key);
/* A number member: true with *v, false when absent or not a number. */
bool lvm_get_int(const struct lvm_node *sec, const char *key, int64_t *v);
/* A string member, or NULL. */
const char *lvm_get_str(const struct lvm_node *sec, const char *key);
/* Does the string array member key (status = [...]) hold word? */
bool lvm_has_flag(const struct lvm_node *sec, const char *key,
		  const char *word);

#endif /* BLK_LVM2_META_H */
