// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pause and rate_limit.  Both cost one relaxed atomic load each per READ
 * while off; the lock is taken only while one of them is on, when waiting
 * is the point.  rate_limit is a virtual clock shared by all readers: each
 * read books bytes/limit seconds after the previous booking and sleeps
 * until its slot, so the sum over all threads holds to the limit.
 */
#include <time.h>

#include "blkfuse.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void wait_unpaused(struct blk_ctx *ctx)
{
	pthread_mutex_lock(&ctx->throttle_lock);
	while (atomic_load(&ctx->tun.pause) && !ctx->stopping)
		pthread_cond_wait(&ctx->throttle_cond, &ctx->throttle_lock);
	pthread_mutex_unlock(&ctx->throttle_lock);
}

void blk_throttle(struct blk_ctx *ctx, size_t bytes)
{
	uint64_t limit, now, slot;
	struct timespec ts;

	if (atomic_load_explicit(&ctx->tun.pause, memory_order_relaxed))
		wait_unpaused(ctx);
	limit = atomic_load_explicit(&ctx->tun.rate_limit, memory_order_relaxed);
	if (!limit || !bytes)
		return;

	pthread_mutex_lock(&ctx->throttle_lock);
	now = mono_ns();
	/* An idle spell earns no credit beyond the current instant. */
	slot = ctx->rate_next_ns > now ? ctx->rate_next_ns : now;
	ctx->rate_next_ns = slot + bytes * 1000000000ull / limit;
	pthread_mutex_unlock(&ctx->throttle_lock);

	if (slot > now) {
		ts.tv_sec = slot / 1000000000u;
		ts.tv_nsec = slot % 1000000000u;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

/* Shutdown: paused readers must not keep a worker from being joined. */
void blk_throttle_release_all(struct blk_ctx *ctx)
{
	pthread_mutex_lock(&ctx->throttle_lock);
	ctx->stopping = true;
	pthread_cond_broadcast(&ctx->throttle_cond);
	pthread_mutex_unlock(&ctx->throttle_lock);
}
