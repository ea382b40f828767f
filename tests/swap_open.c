// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * LD_PRELOAD shim for tests/hardening.bats (--exclusive, issue 11 #7): an
 * exclusive open (O_EXCL without O_CREAT) of the path SWAP_OPEN_FROM opens
 * SWAP_OPEN_TO instead, as if the path had been replaced between the
 * daemon's first open and its exclusive claim.  Other opens are untouched.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static const char *swap(const char *path, int flags)
{
	const char *from = getenv("SWAP_OPEN_FROM"), *to = getenv("SWAP_OPEN_TO");

	if (from && to && path && (flags & O_EXCL) && !(flags & O_CREAT) &&
	    !strcmp(path, from))
		return to;
	return path;
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

#define WRAP_OPEN(name)							\
int name(const char *path, int flags, ...)				\
{									\
	static int (*real)(const char *, int, ...);			\
	va_list ap;							\
	mode_t mode;							\
									\
	va_start(ap, flags);						\
	mode = mode_arg(flags, ap);					\
	va_end(ap);							\
	if (!real)							\
		real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, #name); \
	return real(swap(path, flags), flags, mode);			\
}

#define WRAP_OPENAT(name)						\
int name(int dirfd, const char *path, int flags, ...)			\
{									\
	static int (*real)(int, const char *, int, ...);		\
	va_list ap;							\
	mode_t mode;							\
									\
	va_start(ap, flags);						\
	mode = mode_arg(flags, ap);					\
	va_end(ap);							\
	if (!real)							\
		real = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, #name); \
	return real(dirfd, swap(path, flags), flags, mode);		\
}

WRAP_OPEN(open)
WRAP_OPEN(open64)
WRAP_OPENAT(openat)
WRAP_OPENAT(openat64)
