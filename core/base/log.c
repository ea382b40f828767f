// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Messages: "blkfuse: LEVEL: ..." on stderr while in the foreground,
 * syslog (with its level) once daemonized (stderr is /dev/null then).
 * The daemon routes libfuse's own messages here too (blkfuse.c), and the
 * audit trail keeps every notice, warning and error (the sink).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "base/log.h"

_Atomic int blk_log_level = BLK_LOG_NOTICE;
static bool use_syslog;

static const char *const level_names[] = {
	[3] = "err", [4] = "warn", [5] = "notice", [6] = "info", [7] = "debug",
};
/* As stderr and the audit trail show them. */
static const char *const level_words[] = {
	[3] = "error", [4] = "warning", [5] = "notice", [6] = "info",
	[7] = "debug",
};

static blk_log_sink_fn sink;
static void *sink_data;
static __thread bool in_sink;	/* a sink that logs must not recurse */

void blk_log_set_sink(blk_log_sink_fn fn, void *data)
{
	sink_data = data;
	sink = fn;
}

const char *blk_log_level_word(int level)
{
	if (level < 3)
		level = 3;
	return level <= 7 ? level_words[level] : level_words[7];
}

void blk_vlog(int level, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t len;

	if (level > atomic_load_explicit(&blk_log_level, memory_order_relaxed))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	while (len && msg[len - 1] == '\n')
		msg[--len] = '\0';
	if (use_syslog)
		syslog(level, "%s", msg);
	else
		fprintf(stderr, "blkfuse: %s: %s\n", blk_log_level_word(level),
			msg);
	if (sink && level <= BLK_LOG_NOTICE && !in_sink) {
		in_sink = true;
		sink(sink_data, level, msg);
		in_sink = false;
	}
}

void blk_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	blk_vlog(level, fmt, ap);
	va_end(ap);
}

void blk_log_to_syslog(void)
{
	openlog("blkfuse", LOG_PID, LOG_DAEMON);
	use_syslog = true;
}

const char *blk_log_level_name(int level)
{
	return level >= 3 && level <= 7 ? level_names[level] : NULL;
}

int blk_log_level_parse(const char *s)
{
	char *end;
	long v;

	for (int i = 3; i <= 7; i++)
		if (!strcmp(s, level_names[i]) || !strcmp(s, level_words[i]))
			return i;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 3 || v > 7)
		return -EINVAL;
	return v;
}
