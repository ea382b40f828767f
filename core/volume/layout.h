/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The partition model: libblkid's view of the source as byte ranges
 * (layout.c), the unallocated ranges between them (freespace.c) and the
 * layout document, layout.json (layout_json.c).
 */
#ifndef BLK_LAYOUT_H
#define BLK_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "source/source.h"

/* The kernel's own limit (DISK_MAX_PARTS); also bounds a looping EBR chain. */
#define BLK_MAX_PARTS 256

enum blk_part_flag {
	BLK_PART_CLIPPED = 1 << 0,	/* ran past the end; size cut to fit */
	BLK_PART_BEYOND_END = 1 << 1,	/* starts past the end; not exposed */
	BLK_PART_CONTAINER = 1 << 2,	/* DOS extended: exposed as the kernel does */
	BLK_PART_NESTED = 1 << 3,	/* from a table nested inside a partition */
	BLK_PART_INVALID = 1 << 4,	/* overflows, inverted, empty, misaligned */
};

/* Flags that keep a partition from being a file of the mount. */
#define BLK_PART_HIDDEN (BLK_PART_BEYOND_END | BLK_PART_INVALID)

struct blk_part {
	int partno;			/* as the kernel numbers sdaN */
	uint64_t start;			/* bytes from the start of the source */
	uint64_t size;			/* bytes exposed (after clipping) */
	uint64_t table_size;		/* bytes as the table says */
	char scheme[16];		/* table holding this entry: dos, gpt, bsd... */
	char type[40];			/* GPT type GUID or 0xNN */
	char name[144];			/* GPT/Mac label, UTF-8 */
	char uuid[40];			/* partition UUID */
	unsigned long long attrs;	/* GPT attributes or DOS boot flag */
	unsigned int flags;		/* enum blk_part_flag */
	char invalid[48];		/* why BLK_PART_INVALID, "" otherwise */
	char fs_uuid[40];		/* file system UUID inside, if any */
	char fs_type[16];		/* file system type inside, if any */
	char fs_label[256];		/* file system label inside, if any */
};

/* A file system found by libblkid in a byte range. */
struct blk_fs {
	char type[16], uuid[40], label[256];	/* "" when none */
};

/* What libtsk reads in a data file that may hold a file system (the
 * volumes fs/ may show), from core/fs/fssurvey.c. */
struct blk_fs_seen {
	char volume[600];		/* its data file: "p2", "p3.d/luks" */
	char what[200];			/* "ext4", or why not: "libtsk: ..." */
	bool served;			/* its files are under fs/VOLUME */
};

/* A byte range no data partition covers: the free/ files. */
struct blk_gap {
	uint64_t start, size;		/* bytes */
};

struct blk_layout {
	char pttype[16];		/* top-level table type, "" if none */
	char ptuuid[40];		/* disk GUID or DOS disk id */
	bool gpt_backup_used;		/* primary GPT header was bad */
	bool pmbr_only;			/* protective MBR but no valid GPT */
	bool truncated;			/* more than BLK_MAX_PARTS entries */
	struct blk_fs disk_fs;		/* no table: a file system on the whole disk */
	unsigned int nparts;
	struct blk_part *parts;
	unsigned int ngaps;
	struct blk_gap *gaps;
	/* What the data files hold (volume/volume.h), NULL if nothing:
	 * filled by blk_stack_probe, freed by blk_stack_free (its owner). */
	struct blk_stack *stack;
	/* What libtsk reads in each volume (blk_fs_survey), NULL when not
	 * surveyed (-o nofs, no libtsk): freed by blk_layout_free. */
	struct blk_fs_seen *fs_seen;
	unsigned int nfs_seen;
};

/* Probe src into lo (free it with blk_layout_free): 0 or -errno, printed. */
int blk_layout_probe(const struct blk_source *src, struct blk_layout *lo);
void blk_layout_free(struct blk_layout *lo);

/* The file system in [start, start + size) of src into fs (zeroed first). */
void blk_probe_fs(const struct blk_source *src, uint64_t start, uint64_t size,
		  struct blk_fs *fs);

/* Does p show as a file (pN) of the mount? */
static inline bool blk_part_exposed(const struct blk_part *p)
{
	return !(p->flags & BLK_PART_HIDDEN);
}

/* freespace.c: fill lo->gaps; 0 or -ENOMEM. */
int blk_layout_find_gaps(const struct blk_source *src, struct blk_layout *lo);
/* free/FIRST-LAST in sectors, zero-padded so names sort by position. */
void blk_gap_name(char *buf, size_t len, const struct blk_gap *g,
		  unsigned int ssz);

/*
 * layout_json.c: the layout document, --list --json and layout.json.
 * Its "version": 2 added disk_fs, fs_label, and "table": null for none;
 * 3 added "volumes", the tree of what each data file holds; 4
 * "file_systems", what libtsk reads in each (served under fs/, or why not).
 */
#define BLK_LAYOUT_VERSION 4
void blk_layout_json(FILE *f, const struct blk_source *src,
		     const struct blk_layout *lo);
/* "clipped,nested": the flags as --list and the JSON spell them. */
void blk_part_flags_str(char *buf, size_t len, unsigned int flags);

#endif /* BLK_LAYOUT_H */
