// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Memory for passphrases and keys.  mmap'ed whole pages so mlock and
 * MADV_DONTDUMP cover exactly this memory and nothing a neighbour owns;
 * munmap'ed after explicit_bzero, which the compiler may not drop.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "volume/secret.h"

static size_t whole_pages(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (len + page - 1) / page * page;
}

void *blk_secret_alloc(size_t len)
{
	static atomic_bool warned;
	size_t n = whole_pages(len ? len : 1);
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	(void)madvise(p, n, MADV_DONTDUMP);
	/* RLIMIT_MEMLOCK is small for a user: keys still work, unlocked. */
	if (mlock(p, n) != 0 && !atomic_exchange(&warned, true))
		blk_warn("cannot lock key memory (%s); secrets may reach swap",
			 strerror(errno));
	return p;
}

void blk_secret_free(void *p, size_t len)
{
	size_t n = whole_pages(len ? len : 1);

	if (!p)
		return;
	explicit_bzero(p, n);
	(void)munlock(p, n);
	munmap(p, n);
}
