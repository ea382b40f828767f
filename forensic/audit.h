/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --audit FILE: append-only JSON Lines of every open, read and release,
 * with who did it, plus start, stop and rotation records (audit.c).
 */
#ifndef BLK_AUDIT_H
#define BLK_AUDIT_H

#include <stdint.h>
#include <time.h>

struct blk_audit;

/* Who asked: from the request. */
struct blk_audit_who {
	uint32_t pid, uid, gid;
};

/* 0 or -errno, printed. */
int blk_audit_open(struct blk_audit **ap, const char *path);
/*
 * One I/O record.  when: the request's arrival (NULL: now); ret: bytes
 * returned or -1; err: the errno, 0 if none.
 */
void blk_audit_io(struct blk_audit *a, const struct timespec *when,
		  const char *ev, const char *file, uint64_t off, uint64_t len,
		  int64_t ret, int err, const struct blk_audit_who *who);
/* An open or release: comm is the opener's, read at open (full 15 chars). */
void blk_audit_open_release(struct blk_audit *a, const char *ev,
			    const char *file, const struct blk_audit_who *who,
			    const char *comm);
/* A start/stop/... record: "ev" plus the caller's JSON members. */
void blk_audit_record(struct blk_audit *a, const char *ev, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));
/* fdatasync: records are written as they happen; this makes them durable. */
void blk_audit_flush(struct blk_audit *a);
/* From now on every notice, warning and error is a "log" record too
 * (after the start record, which stays the first). */
void blk_audit_keep_log(struct blk_audit *a);
/* Records that could not be written (the first failure was printed). */
uint64_t blk_audit_lost(struct blk_audit *a);
/* The session id (32 hex digits) the start and rotated records carry. */
const char *blk_audit_session(const struct blk_audit *a);
/* The source the rotated record names: 0 or -ENOMEM. */
int blk_audit_set_source(struct blk_audit *a, const char *source);
/*
 * SIGHUP: flush, reopen by name (logrotate moved the file) and begin the
 * new file with a "rotated" record: session, source, lines written so far
 * and the sha256 of every byte written before it (all earlier files of the
 * session, concatenated), so the pieces can be checked to follow.
 */
void blk_audit_reopen(struct blk_audit *a);
void blk_audit_close(struct blk_audit *a);

#endif /* BLK_AUDIT_H */
