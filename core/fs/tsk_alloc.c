// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libtsk allocates through its own tsk_malloc and tsk_realloc, which it
 * calls through the PLT: defined here, in the program, they take the
 * place of libtsk's.  They behave as libtsk's do (zeroed memory; a failure
 * is a libtsk error, TSK_ERR_AUX_MALLOC), and refuse what no file system
 * of the volume's size can need: a garbage inode's size or count (one
 * fuzzed ext4 of 40 MB asked for 2.7 GB twice, zeroed, 20 s of CPU) then
 * fails libtsk's call, which the caller answers with EIO.
 */
#ifdef HAVE_LIBTSK
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <tsk/libtsk.h>

#include "fs/tsk_alloc.h"

#define CAP_MIN		(16ull << 20)
#define CAP_MAX		(1ull << 30)
#define CAP_DEFAULT	(256ull << 20)

static _Thread_local uint64_t cap;	/* 0: CAP_DEFAULT */

void blk_tsk_alloc_limit(uint64_t volume_size)
{
	uint64_t c = volume_size / 4;

	cap = !volume_size ? 0 : c < CAP_MIN ? CAP_MIN : c > CAP_MAX ? CAP_MAX : c;
}

/* libtsk's error for a failed allocation; NULL. */
static void *failed(const char *who, size_t len, const char *why)
{
	tsk_error_reset();
	tsk_error_set_errno(TSK_ERR_AUX_MALLOC);
	tsk_error_set_errstr("%s: %s (%zu requested)", who, why, len);
	errno = ENOMEM;
	return NULL;
}

static bool too_big(size_t len)
{
	return len > (cap ? cap : CAP_DEFAULT);
}

#define MORE "more than this volume can need"

void *tsk_malloc(size_t len)
{
	void *p;

	if (too_big(len))
		return failed("tsk_malloc", len, MORE);
	p = calloc(1, len ? len : 1);
	return p ? p : failed("tsk_malloc", len, strerror(ENOMEM));
}

void *tsk_realloc(void *ptr, size_t len)
{
	void *p;

	if (too_big(len))
		return failed("tsk_realloc", len, MORE);
	p = realloc(ptr, len);
	return p ? p : failed("tsk_realloc", len, strerror(ENOMEM));
}
#endif
