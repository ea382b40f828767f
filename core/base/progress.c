// SPDX-License-Identifier: GPL-2.0-or-later
/* A progress line on stderr for long reads (hash, --verify). */
#include <stdio.h>
#include <string.h>

#include "base/progress.h"
#include "base/util.h"

_Atomic(uint64_t) *blk_progress_mirror;
_Atomic bool blk_hash_cancel;	/* hash.h: here beside the mirror */

static void progress_draw(struct blk_progress *pg, double t)
{
	char done[16], total[16], eta[24] = "--:--", bar[21];
	double secs = t - pg->started;
	double rate = secs > 0 ? pg->done / secs : 0;
	unsigned int pct = pg->total ? pg->done * 100 / pg->total : 100;

	if (rate > 0) {
		unsigned long left = (pg->total - pg->done) / rate + 0.5;

		if (left >= 3600)
			snprintf(eta, sizeof(eta), "%lu:%02lu:%02lu", left / 3600,
				 left / 60 % 60, left % 60);
		else
			snprintf(eta, sizeof(eta), "%lu:%02lu", left / 60,
				 left % 60);
	}
	memset(bar, ' ', 20);
	memset(bar, '#', pct / 5);
	bar[20] = '\0';
	blk_size_human(done, sizeof(done), pg->done);
	blk_size_human(total, sizeof(total), pg->total);
	/* \033[K: a shorter line must not leave the end of a longer one */
	fprintf(stderr, "\r[%s] %3u%%  %s / %s  %.1f MiB/s  ETA %s\033[K",
		bar, pct, done, total, rate / (1 << 20), eta);
	pg->drawn = t;
}

void blk_progress_start(struct blk_progress *pg, bool on, uint64_t total)
{
	pg->on = on;
	pg->total = total;
	pg->done = 0;
	pg->started = blk_mono_s();
	if (on)
		progress_draw(pg, pg->started);
}

/* At most four times a second: a terminal is slow, and eyes are slower. */
void blk_progress_add(struct blk_progress *pg, uint64_t bytes)
{
	double t;

	pg->done += bytes;
	if (blk_progress_mirror)
		atomic_store(blk_progress_mirror, pg->done);
	if (!pg->on)
		return;
	t = blk_mono_s();
	if (t - pg->drawn >= 0.25)
		progress_draw(pg, t);
}

/* Leave the line empty for whatever is printed next. */
void blk_progress_end(struct blk_progress *pg)
{
	if (pg->on)
		fputs("\r\033[K", stderr);
	pg->on = false;
}

