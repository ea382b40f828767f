// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Memory for passphrases and keys.  mmap'ed whole pages so mlock and
 * MADV_DONTDUMP cover exactly this memory and nothing a neighbour owns;
 * munmap'ed after explicit_bzero, which the compiler may not drop.  Live
 * allocations are listed (addresses only) so that a forked daemon can lock
 * them again.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/log.h"
#include "volume/secret.h"

struct live {
	void *p;
	size_t n;
	struct live *next;
};

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct live *lives;
static atomic_bool warned;

static int lock_pages(void *p, size_t n)
{
	/* RLIMIT_MEMLOCK is small for a user: keys still work, unlocked. */
	if (mlock(p, n) == 0)
		return 0;
	if (!atomic_exchange(&warned, true))
		blk_warn("cannot lock key memory (%s); secrets may reach swap",
			 strerror(errno));
	return -errno;
}

static size_t whole_pages(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (len + page - 1) / page * page;
}

void *blk_secret_alloc(size_t len)
{
	size_t n = whole_pages(len ? len : 1);
	struct live *l = malloc(sizeof(*l));
	void *p = l ? mmap(NULL, n, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : MAP_FAILED;

	if (p == MAP_FAILED) {
		free(l);
		errno = ENOMEM;
		return NULL;
	}
	(void)madvise(p, n, MADV_DONTDUMP);	/* inherited by a fork */
	(void)lock_pages(p, n);
	*l = (struct live){ p, n, NULL };
	pthread_mutex_lock(&live_lock);
	l->next = lives;
	lives = l;
	pthread_mutex_unlock(&live_lock);
	return p;
}

int blk_secret_relock(void)
{
	int err = 0;

	pthread_mutex_lock(&live_lock);
	for (struct live *l = lives; l; l = l->next) {
		int e = lock_pages(l->p, l->n);

		err = err ? err : e;
	}
	pthread_mutex_unlock(&live_lock);
	return err;
}

/* Take p off the list. */
static void forget(void *p)
{
	pthread_mutex_lock(&live_lock);
	for (struct live **pp = &lives; *pp; pp = &(*pp)->next)
		if ((*pp)->p == p) {
			struct live *l = *pp;

			*pp = l->next;
			free(l);
			break;
		}
	pthread_mutex_unlock(&live_lock);
}

void blk_secret_free(void *p, size_t len)
{
	size_t n = whole_pages(len ? len : 1);

	if (!p)
		return;
	forget(p);
	explicit_bzero(p, n);
	(void)munlock(p, n);
	munmap(p, n);
}
