/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the wrappers of the libyal family (libewf, libqcow, libvmdk,
 * libvhdi) repeated, written once (libyal.c): the library's own words for
 * an error, and opening a file or handle read-only with them.
 */
#ifndef BLK_LIBYAL_H
#define BLK_LIBYAL_H

#include <stddef.h>
#include <stdio.h>

/*
 * libyal reports an error as a backtrace; its last line says what went
 * wrong in the library's words: that line into buf.
 */
void blk_libyal_error_tail(const char *backtrace, char *buf, size_t len);

/* BLK_LIBYAL_MSG(libqcow, e, buf, len): that line in buf; e is freed. */
#define BLK_LIBYAL_MSG(lib, e, buf, len)					\
	do {								\
		char full_[2048] = "";					\
									\
		snprintf((buf), (len), "unknown " #lib " error");	\
		if (e) {						\
			lib##_error_backtrace_sprint((e), full_, sizeof(full_)); \
			lib##_error_free(&(e));				\
			blk_libyal_error_tail(full_, (buf), (len));	\
		}							\
	} while (0)

/*
 * BLK_LIBYAL_OPENER(libqcow, file, LIBQCOW_OPEN_READ) defines
 *   static libqcow_file_t *libqcow_open_path(const char *path, char *msg,
 *                                             size_t len);
 * which initializes and opens one read-only: NULL with the library's words
 * in msg when it cannot.
 */
#define BLK_LIBYAL_OPENER(lib, obj, mode)					\
static lib##_##obj##_t *lib##_open_path(const char *path, char *msg,	\
					size_t len)			\
{									\
	lib##_##obj##_t *o = NULL;					\
	lib##_error_t *e = NULL;					\
									\
	if (lib##_##obj##_initialize(&o, &e) != 1) {			\
		BLK_LIBYAL_MSG(lib, e, msg, len);			\
		return NULL;						\
	}								\
	if (lib##_##obj##_open(o, path, (mode), &e) != 1) {		\
		BLK_LIBYAL_MSG(lib, e, msg, len);			\
		lib##_##obj##_free(&o, NULL);				\
		return NULL;						\
	}								\
	return o;							\
}

#endif /* BLK_LIBYAL_H */
