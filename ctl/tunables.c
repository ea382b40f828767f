// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The tunables, one row each (tunables.h).  Adding one: its field and bit
 * in include/blkfuse_ioctl.h, a row here, its get and set in ctl.c
 * (HACKING.md).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "ctl/tunables.h"

static int parse_bool(const char *s, uint64_t *v)
{
	if (!strcmp(s, "1") || !strcmp(s, "on") || !strcmp(s, "yes"))
		*v = 1;
	else if (!strcmp(s, "0") || !strcmp(s, "off") || !strcmp(s, "no"))
		*v = 0;
	else
		return -EINVAL;
	return 0;
}

/* A number with an optional k/m/g suffix (blk_size_parse). */
static int parse_size(const char *s, uint64_t *v)
{
	return blk_size_parse(s, v);
}

static int parse_level(const char *s, uint64_t *v)
{
	int level = blk_log_level_parse(s);

	if (level < 0)
		return level;
	*v = level;
	return 0;
}

static int parse_source_io(const char *s, uint64_t *v)
{
	if (!strcmp(s, "direct"))
		*v = BLKFUSE_IO_DIRECT;
	else if (!strcmp(s, "buffered"))
		*v = BLKFUSE_IO_BUFFERED;
	else
		return -EINVAL;
	return 0;
}

static const char *word_level(uint64_t v)
{
	const char *w = blk_log_level_name((int)v);

	return w ? w : "?";
}

static const char *word_source_io(uint64_t v)
{
	return v == BLKFUSE_IO_DIRECT ? "direct" : "buffered";
}

#define FIELD(f) offsetof(struct blkfuse_tunables, f), \
		 sizeof(((struct blkfuse_tunables *)0)->f)

const struct blk_tunable blk_tunables[] = {
	{ "splice", BLKFUSE_T_SPLICE, FIELD(splice), 0, 1, false, "0 or 1",
	  parse_bool, NULL, "0|1", "splice replies (1) or pread + copy (0)" },
	{ "pipe_size", BLKFUSE_T_PIPE_SIZE, FIELD(pipe_size), 4096, 1u << 30,
	  true, "0 or 4096..1G", parse_size, NULL, "BYTES",
	  "per-worker pipe size (0: just enough for max_reply)" },
	{ "readahead_kb", BLKFUSE_T_READAHEAD_KB, FIELD(readahead_kb), 0,
	  1048576, false, "0..1048576", parse_size, NULL, "N",
	  "the mount's readahead (its bdi read_ahead_kb)" },
	{ "source_io", BLKFUSE_T_SOURCE_IO, FIELD(source_io), 0,
	  BLKFUSE_IO_DIRECT, false, "buffered or direct", parse_source_io,
	  word_source_io, "buffered|direct",
	  "page cache, or O_DIRECT (aligned reads; not for containers)" },
	{ "source_readahead_kb", BLKFUSE_T_SOURCE_READAHEAD_KB,
	  FIELD(source_readahead_kb), 0, 1048576, false, "0..1048576",
	  parse_size, NULL, "N", "blkfuse's readahead on the source (0: off)" },
	{ "rate_limit", BLKFUSE_T_RATE_LIMIT, FIELD(rate_limit), 0, UINT64_MAX,
	  false, "a byte rate", parse_size, NULL, "BYTES/S",
	  "cap on all readers together (0: none; k/m/g ok)" },
	{ "pause", BLKFUSE_T_PAUSE, FIELD(pause), 0, 1, false, "0 or 1",
	  parse_bool, NULL, "0|1",
	  "new reads wait until resumed; in-flight ones finish" },
	{ "log_level", BLKFUSE_T_LOG_LEVEL, FIELD(log_level), 3, 7, false,
	  "err, warn, notice, info or debug (3..7)", parse_level, word_level,
	  "err|warn|notice|info|debug", "what is logged, from errors only to debug" },
	{ "max_background", BLKFUSE_T_MAX_BACKGROUND, FIELD(max_background), 1,
	  65535, false, "1..65535", parse_size, NULL, "N",
	  "the kernel's limit of background requests (fusectl)" },
	{ "congestion_threshold", BLKFUSE_T_CONGESTION_THRESHOLD,
	  FIELD(congestion_threshold), 1, 65535, false, "1..65535", parse_size,
	  NULL, "N", "the kernel's congestion threshold (fusectl)" },
	{ "cache_mb", BLKFUSE_T_CACHE_MB, FIELD(cache_mb), 0, 1024, false,
	  "0..1024", parse_size, NULL, "MiB",
	  "containers: decode cache per reading thread (0: none)" },
};
const unsigned int blk_ntunables = BLK_ARRAY_SIZE(blk_tunables);

const struct blk_tunable *blk_tunable_find(const char *key)
{
	for (unsigned int i = 0; i < blk_ntunables; i++)
		if (!strcmp(blk_tunables[i].key, key))
			return &blk_tunables[i];
	return NULL;
}

uint64_t blk_tunable_get(const struct blk_tunable *tn,
			 const struct blkfuse_tunables *t)
{
	const char *p = (const char *)t + tn->off;
	uint32_t v32;
	uint64_t v64;

	if (tn->width == 8) {
		memcpy(&v64, p, 8);
		return v64;
	}
	memcpy(&v32, p, 4);
	return v32;
}

void blk_tunable_put(const struct blk_tunable *tn, struct blkfuse_tunables *t,
		     uint64_t v)
{
	char *p = (char *)t + tn->off;
	uint32_t v32 = v;

	if (tn->width == 8)
		memcpy(p, &v, 8);
	else
		memcpy(p, &v32, 4);
}

bool blk_tunable_in_range(const struct blk_tunable *tn, uint64_t v)
{
	if (tn->width == 4 && v > UINT32_MAX)
		return false;
	return (v >= tn->min && v <= tn->max) || (tn->zero_ok && v == 0);
}

void blk_tunable_format(const struct blk_tunable *tn,
			const struct blkfuse_tunables *t, char *buf,
			size_t len)
{
	uint64_t v = blk_tunable_get(tn, t);

	if (tn->word)
		snprintf(buf, len, "%s %s", tn->key, tn->word(v));
	else
		snprintf(buf, len, "%s %llu", tn->key, (unsigned long long)v);
}
