/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every open data file, with who opened it (opens.c): the kernel sends
 * RELEASE with pid 0, so the audit's release record and the "still held
 * by" lines of a detached mount come from here.  A record is the open
 * file's fi->fh.
 */
#ifndef BLK_OPENS_H
#define BLK_OPENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blk_opens;

struct blk_open_rec {
	uint64_t ino;
	uint32_t pid, uid, gid;
	char comm[16];			/* TASK_COMM_LEN, at open when
					 * audited; else "" (blk_opens_comm) */
	struct blk_open_rec *prev, *next;
};

/* 0 or -ENOMEM. */
int blk_opens_new(struct blk_opens **op);
void blk_opens_free(struct blk_opens *o);
/*
 * A record for a new open (NULL: no memory).  comm_now: read the opener's
 * name now (the audit trail wants it at open); else only when asked: three
 * system calls per open are much of what opening a small file costs.
 */
struct blk_open_rec *blk_opens_add(struct blk_opens *o, uint64_t ino,
				   uint32_t pid, uint32_t uid, uint32_t gid,
				   bool comm_now);
/* r's opener's name into out (TASK_COMM_LEN): as read at open, else now
 * ("" when the process is gone). */
void blk_opens_comm(const struct blk_open_rec *r, char *out, size_t len);
/* Forget r (freed); the number of files still open. */
unsigned int blk_opens_del(struct blk_opens *o, struct blk_open_rec *r);
unsigned int blk_opens_count(struct blk_opens *o);
/* fn for each open file, under the lock (fn must not call back in). */
void blk_opens_each(struct blk_opens *o,
		    void (*fn)(const struct blk_open_rec *r, void *data),
		    void *data);

#endif /* BLK_OPENS_H */
