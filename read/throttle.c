// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pause and rate_limit.  While both are off a READ costs two relaxed
 * atomic loads here.  Otherwise a read that must wait is parked in a FIFO
 * and its worker goes back to /dev/fuse: a worker never sleeps here, so
 * the control channel is always answered and an INTERRUPT (the reader got
 * a signal, SIGKILL included) always reaches a parked read, which ends at
 * once with EINTR.  One thread of the throttle's own sends parked reads,
 * in order, when they are due.
 *
 * rate_limit is a virtual clock shared by all readers: a read going out
 * books bytes/limit seconds after the previous booking (a reader idle for
 * a while may catch up on at most 50 ms of it).  The next read's
 * slot is computed when it is at the head of the queue, from the limit in
 * force then, so a new limit (or 0) applies to reads already waiting, and
 * a new limit starts a new schedule from now.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "read/throttle.h"
#include "base/util.h"
#include "wire.h"

/* INTERRUPTs that arrived while their READ was not parked (yet). */
#define EARLY_INTERRUPTS 64
/* The burst a late or idle reader may catch up on, at the limit. */
#define IDLE_CREDIT_NS (50 * 1000 * 1000ull)
/* How often parked reads are checked for a requester killed meanwhile. */
#define KILL_CHECK_NS (100 * 1000 * 1000ull)

struct parked {
	struct parked *next;
	struct blk_read rd;
	bool interrupted;
};

struct blk_throttle {
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* CLOCK_MONOTONIC: anything changed */
	_Atomic bool pause;
	_Atomic uint64_t rate;		/* bytes/s; 0: no limit */
	uint64_t next_ns;		/* the virtual clock */
	struct parked *head, *tail;
	unsigned int nparked, ninterrupted;
	uint64_t unparkable;		/* sent at once: no memory to park */
	uint64_t early[EARLY_INTERRUPTS];
	unsigned int early_pos;
	bool stopping, started;
	pthread_t thread;
	struct blk_wire wire;		/* the thread's own */
	blk_throttle_release_fn release;
	void *data;
};

int blk_throttle_new(struct blk_throttle **thrp, blk_throttle_release_fn fn,
		     void *data)
{
	struct blk_throttle *thr = calloc(1, sizeof(*thr));
	pthread_condattr_t attr;
	int err;

	if (!thr)
		return -ENOMEM;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	err = pthread_cond_init(&thr->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (err) {
		free(thr);
		return -err;
	}
	pthread_mutex_init(&thr->lock, NULL);
	thr->release = fn;
	thr->data = data;
	*thrp = thr;
	return 0;
}

static void wake(struct blk_throttle *thr)
{
	pthread_cond_broadcast(&thr->cond);
}

/* Called with the lock held: took it from the early INTERRUPTs? */
static bool take_early_interrupt(struct blk_throttle *thr, uint64_t unique)
{
	for (unsigned int i = 0; i < EARLY_INTERRUPTS; i++)
		if (thr->early[i] == unique) {
			thr->early[i] = 0;
			return true;
		}
	return false;
}

static void park(struct blk_throttle *thr, struct parked *p)
{
	p->interrupted = take_early_interrupt(thr, p->rd.unique);
	thr->ninterrupted += p->interrupted;
	if (thr->tail)
		thr->tail->next = p;
	else
		thr->head = p;
	thr->tail = p;
	thr->nparked++;
	wake(thr);
}

/* Book the slot of a read of bytes, if it is due: called with the lock. */
static bool book(struct blk_throttle *thr, uint64_t bytes, uint64_t now,
		 uint64_t *slot)
{
	uint64_t rate = atomic_load(&thr->rate);

	if (!rate)
		return true;
	/*
	 * The schedule holds across late wake-ups (a slot a little in the
	 * past is still the slot); an idle spell earns no more than
	 * IDLE_CREDIT_NS of credit.
	 */
	*slot = thr->next_ns + IDLE_CREDIT_NS < now ? now : thr->next_ns;
	if (*slot > now)
		return false;
	thr->next_ns = *slot + bytes * 1000000000ull / rate;
	return true;
}

bool blk_throttle_admit(struct blk_throttle *thr, const struct blk_read *rd)
{
	struct parked *p;
	uint64_t slot;
	bool go, first = false;

	if (!atomic_load_explicit(&thr->pause, memory_order_relaxed) &&
	    !atomic_load_explicit(&thr->rate, memory_order_relaxed))
		return true;
	p = malloc(sizeof(*p));
	pthread_mutex_lock(&thr->lock);
	/* Never park after stop (nobody would send it), nor overtake. */
	go = thr->stopping || !thr->started ||
	     (!atomic_load(&thr->pause) && !thr->head &&
	      book(thr, rd->len, blk_mono_ns(), &slot));
	if (!go && p) {
		*p = (struct parked){ .rd = *rd };
		park(thr, p);
		p = NULL;
	} else if (!go) {
		/*
		 * No memory to park it: unparked and unanswered, its reader
		 * would wait forever.  It goes now, over pause or the limit.
		 */
		go = true;
		first = !thr->unparkable++;
	}
	pthread_mutex_unlock(&thr->lock);
	if (first)
		blk_warn("no memory to park a read: sent at once, over pause and rate_limit (said once)");
	free(p);
	return go;
}

void blk_throttle_interrupt(struct blk_throttle *thr, uint64_t unique)
{
	struct parked *p;

	pthread_mutex_lock(&thr->lock);
	for (p = thr->head; p && p->rd.unique != unique; p = p->next)
		;
	if (p && !p->interrupted) {
		p->interrupted = true;
		thr->ninterrupted++;
		wake(thr);
	} else if (!p) {
		thr->early[thr->early_pos++ % EARLY_INTERRUPTS] = unique;
	}
	pthread_mutex_unlock(&thr->lock);
}

/* Unlink p (the head, or an interrupted one) under the lock. */
static void unpark(struct blk_throttle *thr, struct parked *p)
{
	struct parked **pp = &thr->head, *prev = NULL;

	while (*pp != p) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	*pp = p->next;
	if (thr->tail == p)
		thr->tail = prev;
	thr->nparked--;
	thr->ninterrupted -= p->interrupted;
}

/* Send or end p without the lock (it may block on the source). */
static void release(struct blk_throttle *thr, struct parked *p, int err)
{
	pthread_mutex_unlock(&thr->lock);
	thr->release(thr->data, &thr->wire, &p->rd, err);
	free(p);
	pthread_mutex_lock(&thr->lock);
}

static void wait_until(struct blk_throttle *thr, uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = ns / 1000000000u, .tv_nsec = ns % 1000000000u,
	};

	pthread_cond_timedwait(&thr->cond, &thr->lock, &ts);
}

/*
 * Has the thread that sent a request a SIGKILL pending?  An O_DIRECT read
 * (async direct I/O) waits in the kernel uninterruptibly and no INTERRUPT
 * comes for it, so a parked read is ended when its requester is dying.
 */
static bool requester_killed(uint32_t tid)
{
	char path[40], line[128];
	uint64_t mask, kill_bit = 1ull << (SIGKILL - 1);
	bool killed = false;
	FILE *f;

	if (!tid)
		return false;
	snprintf(path, sizeof(path), "/proc/%u/status", tid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT;
	while (!killed && fgets(line, sizeof(line), f))
		if ((sscanf(line, "SigPnd: %" SCNx64, &mask) == 1 ||
		     sscanf(line, "ShdPnd: %" SCNx64, &mask) == 1) &&
		    (mask & kill_bit))
			killed = true;
	fclose(f);
	return killed;
}

/*
 * Mark the parked reads whose requester is dying; called on the throttle's
 * thread with the lock held, which it drops while /proc is read (workers'
 * admit and INTERRUPTs need the lock meanwhile).  Only this thread unparks,
 * so the parked reads it collected are all still there afterwards.
 */
static void check_killed(struct blk_throttle *thr)
{
	unsigned int n = 0, max = thr->nparked;
	struct parked **ps = malloc(max * sizeof(*ps));
	bool *dying = malloc(max * sizeof(*dying));

	for (struct parked *p = thr->head; ps && dying && p && n < max;
	     p = p->next)
		if (!p->interrupted)
			ps[n++] = p;
	pthread_mutex_unlock(&thr->lock);
	for (unsigned int i = 0; i < n; i++)
		dying[i] = requester_killed(ps[i]->rd.pid);
	pthread_mutex_lock(&thr->lock);
	for (unsigned int i = 0; i < n; i++)
		if (dying[i] && !ps[i]->interrupted) {
			ps[i]->interrupted = true;
			thr->ninterrupted++;
		}
	free(ps);
	free(dying);
}

/* The next parked read that should end now with EINTR, if any. */
static struct parked *first_interrupted(struct blk_throttle *thr)
{
	struct parked *p = thr->head;

	if (!thr->ninterrupted)
		return NULL;
	while (p && !p->interrupted)
		p = p->next;
	return p;
}

static void *throttle_thread(void *data)
{
	struct blk_throttle *thr = data;
	uint64_t slot, next_check = 0;
	struct parked *p;

	pthread_mutex_lock(&thr->lock);
	while (!thr->stopping) {
		uint64_t now = blk_mono_ns();

		if (thr->head && now >= next_check) {
			check_killed(thr);
			next_check = now + KILL_CHECK_NS;
		}
		if ((p = first_interrupted(thr))) {
			unpark(thr, p);
			release(thr, p, EINTR);
		} else if (!thr->head) {
			pthread_cond_wait(&thr->cond, &thr->lock);
		} else if (atomic_load(&thr->pause)) {
			wait_until(thr, next_check);
		} else if (!book(thr, thr->head->rd.len, now, &slot)) {
			wait_until(thr, slot < next_check ? slot : next_check);
		} else {
			p = thr->head;
			unpark(thr, p);
			release(thr, p, 0);
		}
	}
	while ((p = thr->head)) {
		unpark(thr, p);
		release(thr, p, EINTR);
	}
	pthread_mutex_unlock(&thr->lock);
	return NULL;
}

int blk_throttle_start(struct blk_throttle *thr, int fuse_fd,
		       uint32_t max_reply, uint32_t pipe_max)
{
	int err = blk_wire_init(&thr->wire, fuse_fd, max_reply, 0, pipe_max);

	if (err)
		return err;
	err = pthread_create(&thr->thread, NULL, throttle_thread, thr);
	if (err) {
		blk_wire_fini(&thr->wire);
		return -err;
	}
	pthread_mutex_lock(&thr->lock);
	thr->started = true;
	pthread_mutex_unlock(&thr->lock);
	return 0;
}

void blk_throttle_stop(struct blk_throttle *thr)
{
	bool started;

	pthread_mutex_lock(&thr->lock);
	thr->stopping = true;
	started = thr->started;
	thr->started = false;
	wake(thr);
	pthread_mutex_unlock(&thr->lock);
	if (!started)
		return;
	pthread_join(thr->thread, NULL);
	blk_wire_fini(&thr->wire);
}

void blk_throttle_free(struct blk_throttle *thr)
{
	if (!thr)
		return;
	pthread_mutex_destroy(&thr->lock);
	pthread_cond_destroy(&thr->cond);
	free(thr);
}

void blk_throttle_set_pause(struct blk_throttle *thr, bool pause)
{
	pthread_mutex_lock(&thr->lock);
	atomic_store(&thr->pause, pause);
	wake(thr);
	pthread_mutex_unlock(&thr->lock);
}

void blk_throttle_set_rate(struct blk_throttle *thr, uint64_t rate)
{
	pthread_mutex_lock(&thr->lock);
	atomic_store(&thr->rate, rate);
	thr->next_ns = 0;	/* a new schedule, from now */
	wake(thr);
	pthread_mutex_unlock(&thr->lock);
}

bool blk_throttle_paused(const struct blk_throttle *thr)
{
	return atomic_load(&thr->pause);
}

uint64_t blk_throttle_rate(const struct blk_throttle *thr)
{
	return atomic_load(&thr->rate);
}

unsigned int blk_throttle_parked(struct blk_throttle *thr)
{
	unsigned int n;

	pthread_mutex_lock(&thr->lock);
	n = thr->nparked;
	pthread_mutex_unlock(&thr->lock);
	return n;
}

bool blk_throttle_lift(struct blk_throttle *thr)
{
	bool was;

	pthread_mutex_lock(&thr->lock);
	was = atomic_load(&thr->pause) || atomic_load(&thr->rate);
	atomic_store(&thr->pause, false);
	atomic_store(&thr->rate, 0);
	thr->next_ns = 0;
	wake(thr);
	pthread_mutex_unlock(&thr->lock);
	return was;
}
