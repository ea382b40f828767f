/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A progress line on stderr: bytes done, rate, time left, at most four
 * times a second, erased at the end.  Drawn only when asked to (the
 * caller checks that stderr is a terminal).
 */
#ifndef BLK_PROGRESS_H
#define BLK_PROGRESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct blk_progress {
	bool on;
	uint64_t total, done;
	double started, drawn;	/* seconds, CLOCK_MONOTONIC */
};

/*
 * When set, every progress (drawn or not) also stores the bytes done
 * there: the daemon shows its --verify-after in the control snapshot.
 */
extern _Atomic(uint64_t) *blk_progress_mirror;

void blk_progress_start(struct blk_progress *pg, bool on, uint64_t total);
void blk_progress_add(struct blk_progress *pg, uint64_t bytes);
void blk_progress_end(struct blk_progress *pg);

#endif /* BLK_PROGRESS_H */
