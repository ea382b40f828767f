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

#include "fs/fsvol.h"

/* Bytes of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned int c = s[0], n, min, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	for (unsigned int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void blk_fsname_escape(const char *in, char *out, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t j = 0;

	if (!len)
		return;
	while (*s) {
		size_t n = utf8_len(s);
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
