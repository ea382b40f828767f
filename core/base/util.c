// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The helpers of util.h.  Each exists once so that a fix (an overflow, an
 * escape) lands everywhere at once.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/util.h"

uint64_t blk_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

double blk_mono_s(void)
{
	return blk_mono_ns() / 1e9;
}

int blk_size_parse(const char *s, uint64_t *val)
{
	unsigned int shift = 0;
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (tolower((unsigned char)*end)) {
	case 'k': shift = 10; end++; break;
	case 'm': shift = 20; end++; break;
	case 'g': shift = 30; end++; break;
	case 't': shift = 40; end++; break;
	}
	if (*end || (shift && v > UINT64_MAX >> shift))
		return -EINVAL;
	*val = (uint64_t)v << shift;
	return 0;
}

void blk_size_human(char *buf, size_t len, uint64_t bytes)
{
	static const char units[] = "BKMGTPE";
	double v = bytes;
	int u = 0;

	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
	else if (v < 10 && v != (double)(uint64_t)v)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f%c", v, units[u]);
}

uint64_t blk_percentile(const uint64_t *now, const uint64_t *before,
			unsigned int nbuckets, double p)
{
	uint64_t total = 0, seen = 0;

	for (unsigned int i = 0; i < nbuckets; i++)
		total += now[i] - (before ? before[i] : 0);
	if (!total)
		return 0;
	for (unsigned int i = 0; i < nbuckets; i++) {
		seen += now[i] - (before ? before[i] : 0);
		if (seen >= p * total)
			return 1ull << i;
	}
	return 1ull << (nbuckets - 1);
}

/*
 * Length of the valid UTF-8 sequence at s (1-4), or 0 when the byte at s
 * does not start one: overlong forms, surrogates (as CESU-8 or a GPT
 * name's lone surrogate become) and code points past U+10FFFF are invalid.
 */
size_t blk_utf8_len(const unsigned char *s)
{
	unsigned int cp, n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (unsigned int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

bool blk_json_invalid(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = blk_utf8_len(p);

		if (!n)
			return true;
		p += n;
	}
	return false;
}

/* One character of s as JSON into out (at most 7 bytes); its length in s. */
static size_t json_char(const unsigned char *s, char *out, size_t *outlen)
{
	size_t n = blk_utf8_len(s);

	if (n == 0) {
		memcpy(out, "\\ufffd", 6);
		*outlen = 6;
		return 1;
	}
	if (*s == '"' || *s == '\\') {
		out[0] = '\\';
		out[1] = *s;
		*outlen = 2;
	} else if (*s < 0x20 || *s == 0x7f) {
		*outlen = snprintf(out, 8, "\\u%04x", *s);
	} else {
		memcpy(out, s, n);
		*outlen = n;
	}
	return n;
}

void blk_json_escape(char *dst, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t j = 0, n, used;
	char c[8];

	if (!len)
		return;
	while (*p) {
		used = json_char(p, c, &n);
		if (j + n >= len)
			break;
		memcpy(dst + j, c, n);
		j += n;
		p += used;
	}
	dst[j] = '\0';
}

char *blk_json_dup(const char *s)
{
	size_t len = 6 * strlen(s) + 1;	/* \u00XX at worst */
	char *dst = malloc(len);

	if (dst)
		blk_json_escape(dst, len, s);
	return dst;
}

void blk_json_fputs(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;
	char c[8];

	fputc('"', f);
	while (*p) {
		p += json_char(p, c, &n);
		fwrite(c, 1, n, f);
	}
	fputc('"', f);
}

void blk_hex(char *out, const void *data, size_t len)
{
	const unsigned char *b = data;

	for (size_t i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * len] = '\0';
}

void blk_text_escape(char *dst, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t j = 0, n;

	if (!len)
		return;
	while (*p) {
		n = blk_utf8_len(p);
		if (n == 1 && (*p < 0x20 || *p == 0x7f))
			n = 0;
		if (n == 0) {
			if (j + 5 > len)
				break;
			j += snprintf(dst + j, len - j, "\\x%02x", *p++);
			continue;
		}
		if (j + n + 1 > len)
			break;
		memcpy(dst + j, p, n);
		j += n;
		p += n;
	}
	dst[j] = '\0';
}

/* mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo: decode in place. */
static char *unescape(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' &&
		    r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0');
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

/* Fields: id parent maj:min root target options [optional...] - fstype
 * source super-options. */
static int parse_mountinfo_line(char *line, struct blk_mount *m)
{
	char *f[6], *save = NULL, *tok;
	int i;

	line[strcspn(line, "\n")] = '\0';
	tok = strtok_r(line, " ", &save);
	for (i = 0; i < 6 && tok; i++, tok = strtok_r(NULL, " ", &save))
		f[i] = tok;
	if (i < 6 || sscanf(f[2], "%u:%u", &m->major, &m->minor) != 2)
		return -EINVAL;
	while (tok && strcmp(tok, "-") != 0)
		tok = strtok_r(NULL, " ", &save);
	if (!tok)
		return -EINVAL;
	m->root = unescape(f[3]);
	m->target = unescape(f[4]);
	m->options = f[5];
	m->fstype = unescape(strtok_r(NULL, " ", &save) ?: (char *)"");
	m->source = unescape(strtok_r(NULL, " ", &save) ?: (char *)"");
	m->super_options = strtok_r(NULL, " ", &save) ?: "";
	return 0;
}

int blk_mountinfo_each(int (*fn)(const struct blk_mount *m, void *data),
		       void *data)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int res = 0;

	if (!f)
		return -errno;
	while (res == 0 && getline(&line, &cap, f) > 0) {
		struct blk_mount m;

		if (parse_mountinfo_line(line, &m) == 0)
			res = fn(&m, data);
	}
	free(line);
	fclose(f);
	return res;
}

bool blk_has_option(const char *list, const char *opt)
{
	size_t n = strlen(opt);

	for (const char *p = list; p && *p; p = strchr(p, ','), p = p ? p + 1 : p)
		if (!strncmp(p, opt, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

void blk_name_mangle(char *dst, size_t len, const char *name, bool keep_slash)
{
	snprintf(dst, len, "%s", name);
	for (char *p = dst; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p) &&
		    !(keep_slash && *p == '/'))
			*p = '_';
}

size_t blk_page_size(void)
{
	static size_t page;
	long n;

	if (!page) {
		n = sysconf(_SC_PAGESIZE);
		page = n > 0 ? (size_t)n : 4096;
	}
	return page;
}

unsigned int blk_possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	unsigned int lo = 0, hi = 0;
	int n = f ? fscanf(f, "%u-%u", &lo, &hi) : 0;

	if (f)
		fclose(f);
	if (n == 1)
		hi = lo;
	return n >= 1 ? hi + 1 : 0;
}

void blk_pin_to_cpu(unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

void *blk_map_pages(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int blk_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf = (char *)buf + n, off += n, len -= n;
	}
	return 0;
}
