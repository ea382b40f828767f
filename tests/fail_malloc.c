// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * LD_PRELOAD for tests: malloc of exactly FAIL_MALLOC_SIZE bytes returns
 * NULL (ENOMEM) while the file FAIL_MALLOC_FLAG exists, so that a test can
 * make one allocation fail at the moment it chooses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);

void *malloc(size_t n)
{
	static size_t size;
	static const char *flag;
	static int init;

	if (!init) {	/* getenv and strtoul do not allocate */
		const char *s = getenv("FAIL_MALLOC_SIZE");

		size = s ? strtoul(s, NULL, 10) : 0;
		flag = getenv("FAIL_MALLOC_FLAG");
		init = 1;
	}
	if (size && n == size && flag && access(flag, F_OK) == 0) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_malloc(n);
}
