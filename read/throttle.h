/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pause and rate_limit (throttle.c).  A READ that must wait is parked, not
 * its worker: the workers stay free for the control channel and for
 * INTERRUPTs, and one thread of the throttle's own sends parked reads when
 * they are due.  throttle.c owns its lock, its queue and its wake-ups.
 */
#ifndef BLK_THROTTLE_H
#define BLK_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#include "read/read.h"

struct blk_wire;

struct blk_throttle;

/*
 * Called on the throttle's thread for each parked read: err 0 to send it
 * now (through w, the throttle's own wire), else to end it with err.
 */
typedef void (*blk_throttle_release_fn)(void *data, struct blk_wire *w,
					const struct blk_read *rd, int err);

/* 0 or -errno; the thread starts with blk_throttle_start. */
int blk_throttle_new(struct blk_throttle **thr, blk_throttle_release_fn fn,
		     void *data);
/* The thread that sends parked reads, with a wire on fuse_fd. */
int blk_throttle_start(struct blk_throttle *thr, int fuse_fd,
		       uint32_t max_reply, uint32_t pipe_max);
/* Stop: every parked read ends with EINTR; the thread is joined. */
void blk_throttle_stop(struct blk_throttle *thr);
void blk_throttle_free(struct blk_throttle *thr);

/* true: the read may go now; false: it was parked (or ended). */
bool blk_throttle_admit(struct blk_throttle *thr, const struct blk_read *rd);
/* An INTERRUPT for request unique: a parked read ends with EINTR. */
void blk_throttle_interrupt(struct blk_throttle *thr, uint64_t unique);

/* The tunables; setting either reschedules every parked read. */
void blk_throttle_set_pause(struct blk_throttle *thr, bool pause);
void blk_throttle_set_rate(struct blk_throttle *thr, uint64_t bytes_per_s);
bool blk_throttle_paused(const struct blk_throttle *thr);
/* pause and rate_limit both off, parked reads released: true if either
 * was on. */
bool blk_throttle_lift(struct blk_throttle *thr);
uint64_t blk_throttle_rate(const struct blk_throttle *thr);
/* Reads parked now. */
unsigned int blk_throttle_parked(struct blk_throttle *thr);

#endif /* BLK_THROTTLE_H */
