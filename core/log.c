// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Messages: "blkfuse: ..." on stderr while in the foreground, syslog once
 * daemonized (stderr is /dev/null then).  The daemon routes libfuse's own
 * messages here too (blkfuse.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

_Atomic int blk_log_level = BLK_LOG_NOTICE;
static bool use_syslog;

static const char *const level_names[] = {
	[3] = "err", [4] = "warn", [5] = "notice", [6] = "info", [7] = "debug",
};

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
		fprintf(stderr, "blkfuse: %s\n", msg);
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
		if (!strcmp(s, level_names[i]))
			return i;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 3 || v > 7)
		return -EINVAL;
	return v;
}
