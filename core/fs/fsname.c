// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The names of files inside, as the mount shows them.  A name is a byte
 * string to the file system but must be one path component to the kernel:
 * '/' cannot pass, and bytes that are not UTF-8 would reach tools that
 * assume it.  Both become \xNN (two lower-case hex digits), and a '\'
 * that is followed by 'x' becomes \x5c, so that the escape is reversible:
 * decode every \xNN to its byte and the stored name comes back.  Valid
 * UTF-8, spaces and control characters other than these pass unchanged.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "fs/fsvol.h"

void blk_fsname_escape(const char *in, char *out, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t j = 0;

	if (!len)
		return;
	while (*s) {
		size_t n = blk_utf8_len(s);
		bool esc = !n || *s == '/' || (*s == '\\' && s[1] == 'x');

		if (esc) {
			if (j + 4 >= len)
				break;
			snprintf(out + j, 5, "\\x%02x", *s);
			j += 4, s++;
			continue;
		}
		if (j + n >= len)
			break;
		memcpy(out + j, s, n);
		j += n, s += n;
	}
	out[j] = '\0';
}
