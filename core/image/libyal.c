// SPDX-License-Identifier: GPL-2.0-or-later
/* The libyal wrappers' shared helpers (libyal.h). */
#include <string.h>

#include "image/libyal.h"

void blk_libyal_error_tail(const char *backtrace, char *buf, size_t len)
{
	size_t n = strlen(backtrace);
	const char *line;

	while (n && backtrace[n - 1] == '\n')
		n--;
	for (line = backtrace + n; line > backtrace && line[-1] != '\n'; line--)
		;
	snprintf(buf, len, "%.*s", (int)(backtrace + n - line), line);
}
