// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control protocol's text form, "key=value ..." into the ioctl struct:
 * no state, no FUSE, so that it can be fuzzed alone (tests/fuzz).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_parse.h"
#include "base/log.h"
#include "base/util.h"

__attribute__((format(printf, 3, 4)))
static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_bool(const char *s, uint32_t *val)
{
	if (!strcmp(s, "1") || !strcmp(s, "on") || !strcmp(s, "yes"))
		*val = 1;
	else if (!strcmp(s, "0") || !strcmp(s, "off") || !strcmp(s, "no"))
		*val = 0;
	else
		return -EINVAL;
	return 0;
}

static int parse_u32(const char *s, uint32_t *val)
{
	uint64_t v;

	if (blk_size_parse(s, &v) || v > UINT32_MAX)
		return -EINVAL;
	*val = v;
	return 0;
}

static int parse_level(const char *s, uint32_t *val)
{
	int level = blk_log_level_parse(s);

	if (level < 0)
		return level;
	*val = level;
	return 0;
}

static int parse_source_io(const char *s, uint32_t *val)
{
	if (!strcmp(s, "direct"))
		*val = BLKFUSE_IO_DIRECT;
	else if (!strcmp(s, "buffered"))
		*val = BLKFUSE_IO_BUFFERED;
	else
		return -EINVAL;
	return 0;
}

/* The settable keys, their field and their parser (none: 64 bits). */
static const struct {
	const char *key;
	uint32_t bit;
	size_t off;
	int (*parse)(const char *s, uint32_t *val);
} keys[] = {
	{ "splice", BLKFUSE_T_SPLICE, offsetof(struct blkfuse_tunables, splice), parse_bool },
	{ "pipe_size", BLKFUSE_T_PIPE_SIZE, offsetof(struct blkfuse_tunables, pipe_size), parse_u32 },
	{ "readahead_kb", BLKFUSE_T_READAHEAD_KB, offsetof(struct blkfuse_tunables, readahead_kb), parse_u32 },
	{ "source_io", BLKFUSE_T_SOURCE_IO, offsetof(struct blkfuse_tunables, source_io), parse_source_io },
	{ "rate_limit", BLKFUSE_T_RATE_LIMIT, 0, NULL },
	{ "pause", BLKFUSE_T_PAUSE, offsetof(struct blkfuse_tunables, pause), parse_bool },
	{ "log_level", BLKFUSE_T_LOG_LEVEL, offsetof(struct blkfuse_tunables, log_level), parse_level },
	{ "max_background", BLKFUSE_T_MAX_BACKGROUND, offsetof(struct blkfuse_tunables, max_background), parse_u32 },
	{ "congestion_threshold", BLKFUSE_T_CONGESTION_THRESHOLD, offsetof(struct blkfuse_tunables, congestion_threshold), parse_u32 },
	{ "source_readahead_kb", BLKFUSE_T_SOURCE_READAHEAD_KB, offsetof(struct blkfuse_tunables, source_readahead_kb), parse_u32 },
	{ "cache_mb", BLKFUSE_T_CACHE_MB, offsetof(struct blkfuse_tunables, cache_mb), parse_u32 },
};

/* One "key=value" into t; returns 0, or -EINVAL with why set. */
static int parse_pair(char *pair, struct blkfuse_tunables *t, bool *abort,
		      char *why, size_t len)
{
	char *val = strchr(pair, '=');
	uint32_t yes = 0;
	int bad = 1;

	if (!val)
		return fail(why, len, "'%s': expected key=value", pair);
	*val++ = '\0';
	for (size_t i = 0; i < BLK_ARRAY_SIZE(keys); i++) {
		if (strcmp(pair, keys[i].key))
			continue;
		if (!keys[i].parse)
			bad = blk_size_parse(val, &t->rate_limit);
		else
			bad = keys[i].parse(val, (uint32_t *)((char *)t + keys[i].off));
		t->set_mask |= keys[i].bit;
		goto out_checked;
	}
	if (!strcmp(pair, "abort")) {
		bad = parse_bool(val, &yes) || !yes;
		*abort = !bad;
	} else if (!strcmp(pair, "max_reply")) {
		return fail(why, len, "%s", "max_reply is fixed at mount (-o max_reply=)");
	} else {
		return fail(why, len, "unknown key '%s'", pair);
	}
out_checked:
	if (bad) {
		val[-1] = '=';
		return fail(why, len, "bad value in '%s'", pair);
	}
	return 0;
}

int blk_ctl_parse_text(const char *buf, size_t len, struct blkfuse_tunables *t,
		       bool *abort, char *why, size_t whylen)
{
	char *copy, *tok, *save = NULL;
	int err = 0;

	memset(t, 0, sizeof(*t));
	t->version = BLKFUSE_ABI_VERSION;
	t->size = sizeof(*t);
	*abort = false;
	why[0] = '\0';
	copy = strndup(buf, len);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, " \t\r\n,", &save); tok && !err;
	     tok = strtok_r(NULL, " \t\r\n,", &save))
		err = parse_pair(tok, t, abort, why, whylen);
	free(copy);
	return err;
}
