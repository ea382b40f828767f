/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Messages: "blkfuse: LEVEL: ..." on stderr, or syslog once daemonized.
 * Levels are syslog's (and libfuse's).
 */
#ifndef BLK_LOG_H
#define BLK_LOG_H

#include <stdarg.h>
#include <stdatomic.h>

enum blk_log_level { BLK_LOG_ERR = 3, BLK_LOG_WARN = 4, BLK_LOG_NOTICE = 5,
		     BLK_LOG_INFO = 6, BLK_LOG_DEBUG = 7 };

extern _Atomic int blk_log_level;

void blk_log_to_syslog(void);
void blk_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void blk_vlog(int level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
#define blk_err(...)	blk_log(BLK_LOG_ERR, __VA_ARGS__)
#define blk_warn(...)	blk_log(BLK_LOG_WARN, __VA_ARGS__)
#define blk_notice(...)	blk_log(BLK_LOG_NOTICE, __VA_ARGS__)
#define blk_info(...)	blk_log(BLK_LOG_INFO, __VA_ARGS__)
#define blk_debug(...)	blk_log(BLK_LOG_DEBUG, __VA_ARGS__)

/*
 * Called for every notice, warning and error after it is printed (the
 * audit trail keeps them); NULL to stop.  Set before threads start.
 */
typedef void (*blk_log_sink_fn)(void *data, int level, const char *msg);
void blk_log_set_sink(blk_log_sink_fn fn, void *data);
/* "error", "warning", "notice", "info", "debug": what stderr shows. */
const char *blk_log_level_word(int level);
/* "err", "warn", ... for levels 3..7; NULL otherwise. */
const char *blk_log_level_name(int level);
/* A name or a number 3..7; -EINVAL otherwise. */
int blk_log_level_parse(const char *s);

#endif /* BLK_LOG_H */
