// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Messages: "blkfuse: ..." on stderr while in the foreground, syslog once
 * daemonized (stderr is /dev/null then).  libfuse's own messages are routed
 * through the same function.
 */
#include <fuse_log.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "blkfuse.h"

_Atomic int blk_log_level = BLK_LOG_NOTICE;
static bool use_syslog;

static void vlog(int level, const char *fmt, va_list ap)
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
	vlog(level, fmt, ap);
	va_end(ap);
}

/* libfuse's levels are syslog's levels. */
static void fuse_log_hook(enum fuse_log_level level, const char *fmt,
			  va_list ap)
{
	/* "fuse: ..." already names its origin; keep it at its own level. */
	vlog((int)level, fmt, ap);
}

void blk_log_to_syslog(void)
{
	openlog("blkfuse", LOG_PID, LOG_DAEMON);
	use_syslog = true;
}

void blk_log_init(void)
{
	fuse_set_log_func(fuse_log_hook);
}
