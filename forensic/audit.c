// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --audit FILE: an append-only JSON Lines record of every open, read and
 * release, with who did it, plus start and stop records.
 *
 * A line is formatted on the caller's stack and written at once, under a
 * mutex, with one write(2) to the file (O_APPEND), right after its request
 * was answered: a crash of the daemon (SIGKILL included) loses at most the
 * records of requests being answered then; a crash of the machine, what the
 * page cache had not written back (fdatasync at SIGHUP and at exit).  A
 * record that cannot be written is counted (audit_lost in the control
 * snapshot, "lost_records" in the stop record, a warning at exit) and the
 * first failure is said.  Process names come from /proc/PID/comm through a
 * small cache, refreshed at each open.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sys/random.h>

#include "forensic/audit.h"
#include "base/log.h"
#include "base/util.h"

#define AUDIT_LINE 1024
#define COMM_CACHE 256
#define COMM_LEN 96	/* 15 characters of /proc/PID/comm, JSON-escaped */

struct blk_audit {
	char *path;
	char *source;			/* for the rotated record */
	char session[33];		/* random, in start and rotated records */
	EVP_MD_CTX *chain;		/* sha256 of every byte written so far */
	int fd;
	pthread_mutex_t lock;
	uint64_t lines, lost;
	struct { uint32_t pid; char comm[COMM_LEN]; } comm[COMM_CACHE];
};

static void timestamp(char *buf, size_t len, const struct timespec *when)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	if (when)
		ts = *when;
	else
		clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09uZ", (unsigned int)ts.tv_nsec);
}

/*
 * Write out the lines in buf (nlines of them); called with the lock held.
 * A line the disk had room for only in part is cut off again, so that the
 * file stays whole lines (and the chain covers exactly what it holds).
 */
static void write_locked(struct blk_audit *a, const char *buf, size_t len,
			 unsigned int nlines)
{
	size_t done = 0;
	ssize_t n;
	off_t end;

	while (done < len) {
		n = write(a->fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!a->lost)
				blk_err("%s: %s; audit records lost (counted in audit_lost)",
					a->path, n < 0 ? strerror(errno) :
					"short write");
			end = done ? lseek(a->fd, 0, SEEK_CUR) : -1;
			if (end >= (off_t)done && ftruncate(a->fd, end - done) < 0)
				blk_err("%s: %s; a partial record stays",
					a->path, strerror(errno));
			a->lost += nlines;
			return;
		}
		done += n;
	}
	if (a->chain)
		EVP_DigestUpdate(a->chain, buf, len);
}

/* One record, however long, written as it is (one write: no buffer). */
static void put_locked(struct blk_audit *a, const char *line, size_t len)
{
	write_locked(a, line, len, 1);
	a->lines++;
}

static void append(struct blk_audit *a, const char *line, size_t len)
{
	pthread_mutex_lock(&a->lock);
	put_locked(a, line, len);
	pthread_mutex_unlock(&a->lock);
}

uint64_t blk_audit_lost(struct blk_audit *a)
{
	uint64_t n;

	pthread_mutex_lock(&a->lock);
	n = a->lost;
	pthread_mutex_unlock(&a->lock);
	return n;
}

/* The process name, from the cache or /proc (a read may be the first). */
static void comm_of(struct blk_audit *a, uint32_t pid, char *out, bool fresh)
{
	unsigned int slot = pid % COMM_CACHE;
	char path[32], name[17] = "";	/* TASK_COMM_LEN */
	int fd;
	ssize_t n;

	pthread_mutex_lock(&a->lock);
	if (!fresh && a->comm[slot].pid == pid && pid) {
		memcpy(out, a->comm[slot].comm, sizeof(a->comm[slot].comm));
		pthread_mutex_unlock(&a->lock);
		return;
	}
	pthread_mutex_unlock(&a->lock);

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	fd = pid ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		n = read(fd, name, sizeof(name) - 1);
		close(fd);
		if (n > 0)
			name[n - (name[n - 1] == '\n')] = '\0';
	}
	blk_json_escape(out, COMM_LEN, name);
	pthread_mutex_lock(&a->lock);
	a->comm[slot].pid = pid;
	memcpy(a->comm[slot].comm, out, COMM_LEN);
	pthread_mutex_unlock(&a->lock);
}

/*
 * when: the time the request arrived (NULL: now).  Lines are appended as
 * requests complete, so concurrent ones can land out of order; "ts" puts
 * them back in order.
 */
static void audit_line(struct blk_audit *a, const struct timespec *when,
		       const char *ev, const char *file, uint64_t off,
		       uint64_t len, int64_t ret, int err,
		       const struct blk_audit_who *who, const char *known_comm)
{
	char line[AUDIT_LINE], ts[40], comm[COMM_LEN], name[256];
	int n;

	if (!a)
		return;
	timestamp(ts, sizeof(ts), when);
	if (known_comm) {
		/* an open: what its reads will find in the cache */
		blk_json_escape(comm, sizeof(comm), known_comm);
		pthread_mutex_lock(&a->lock);
		a->comm[who->pid % COMM_CACHE].pid = who->pid;
		memcpy(a->comm[who->pid % COMM_CACHE].comm, comm, COMM_LEN);
		pthread_mutex_unlock(&a->lock);
	} else
		comm_of(a, who->pid, comm, false);
	blk_json_escape(name, sizeof(name), file);
	n = snprintf(line, sizeof(line),
		     "{\"ts\":\"%s\",\"ev\":\"%s\",\"file\":\"%s\",\"offset\":%llu,\"length\":%llu,\"returned\":%lld,\"errno\":%d,\"pid\":%u,\"uid\":%u,\"gid\":%u,\"comm\":\"%s\"}\n",
		     ts, ev, name, (unsigned long long)off,
		     (unsigned long long)len, (long long)ret, err, who->pid,
		     who->uid, who->gid, comm);
	if (n > 0 && n < (int)sizeof(line))
		append(a, line, n);
}

void blk_audit_io(struct blk_audit *a, const struct timespec *when,
		  const char *ev, const char *file, uint64_t off, uint64_t len,
		  int64_t ret, int err, const struct blk_audit_who *who)
{
	audit_line(a, when, ev, file, off, len, ret, err, who, NULL);
}

void blk_audit_open_release(struct blk_audit *a, const char *ev,
			    const char *file, const struct blk_audit_who *who,
			    const char *comm)
{
	audit_line(a, NULL, ev, file, 0, 0, 0, 0, who, comm);
}

/*
 * A start/stop/verify record: "ev" plus the caller's JSON members, however
 * long (an E01 set of many segments under a long path): never cut, which
 * would leave a line that is not JSON.
 */
void blk_audit_record(struct blk_audit *a, const char *ev, const char *fmt,
		      ...)
{
	char ts[40], *body = NULL, *line = NULL;
	va_list ap;
	int n;

	if (!a)
		return;
	timestamp(ts, sizeof(ts), NULL);
	va_start(ap, fmt);
	n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0)
		body = NULL;	/* undefined after a failure */
	else if ((n = asprintf(&line, "{\"ts\":\"%s\",\"ev\":\"%s\",%s}\n",
			       ts, ev, body)) < 0)
		line = NULL;
	if (n < 0) {
		blk_err("%s: %s; the %s record is lost", a->path,
			strerror(ENOMEM), ev);
		pthread_mutex_lock(&a->lock);
		a->lost++;
		pthread_mutex_unlock(&a->lock);
	} else {
		append(a, line, n);
	}
	free(body);
	free(line);
}

/* A session id, and the digest that chains the files of a rotation. */
static void new_session(struct blk_audit *a)
{
	unsigned char id[16] = { 0 };

	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		memset(id, 0, sizeof(id));	/* an all-zero id says so */
	blk_hex(a->session, id, sizeof(id));
	a->chain = EVP_MD_CTX_new();
	if (a->chain && !EVP_DigestInit_ex(a->chain, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(a->chain);
		a->chain = NULL;
	}
}

const char *blk_audit_session(const struct blk_audit *a)
{
	return a ? a->session : "";
}

int blk_audit_set_source(struct blk_audit *a, const char *source)
{
	free(a->source);
	a->source = blk_json_dup(source);
	return a->source ? 0 : -ENOMEM;
}

/* "sha256" of everything written so far, without ending the digest. */
static void chain_hex(struct blk_audit *a, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *copy = a->chain ? EVP_MD_CTX_new() : NULL;

	hex[0] = '\0';
	if (copy && EVP_MD_CTX_copy_ex(copy, a->chain) &&
	    EVP_DigestFinal_ex(copy, md, &len))
		blk_hex(hex, md, len);
	EVP_MD_CTX_free(copy);
}

/* The first line of a new file after a rotation; called with the lock held. */
static void rotated_locked(struct blk_audit *a)
{
	char ts[40], hex[2 * EVP_MAX_MD_SIZE + 1], *line = NULL;
	int n;

	timestamp(ts, sizeof(ts), NULL);
	chain_hex(a, hex);
	n = asprintf(&line,
		     "{\"ts\":\"%s\",\"ev\":\"rotated\",\"session\":\"%s\",\"source\":\"%s\",\"lines_before\":%llu,\"sha256_before\":\"%s\"}\n",
		     ts, a->session, a->source ? a->source : "",
		     (unsigned long long)a->lines, hex);
	if (n < 0) {
		blk_err("%s: %s; the rotated record is lost", a->path,
			strerror(ENOMEM));
		a->lost++;
		return;
	}
	put_locked(a, line, n);
	free(line);
}

/*
 * Recursive: a message logged while the lock is held (a failed write)
 * comes back through the log sink as a record of its own.
 */
static void init_lock(struct blk_audit *a)
{
	pthread_mutexattr_t attr;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&a->lock, &attr);
	pthread_mutexattr_destroy(&attr);
}

/* Every notice, warning and error as a "log" record, with its level. */
static void log_sink(void *data, int level, const char *msg)
{
	char esc[2048];

	blk_json_escape(esc, sizeof(esc), msg);
	blk_audit_record(data, "log", "\"level\":\"%s\",\"message\":\"%s\"",
			 blk_log_level_word(level), esc);
}

void blk_audit_keep_log(struct blk_audit *a)
{
	if (a)
		blk_log_set_sink(log_sink, a);
}

int blk_audit_open(struct blk_audit **ap, const char *path)
{
	struct blk_audit *a = calloc(1, sizeof(*a));

	if (!a) {
		blk_err("%s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	a->path = realpath(path, NULL);
	if (!a->path) {
		/* It may not exist yet: keep the name as given, made absolute. */
		char cwd[4096];

		if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) &&
		    asprintf(&a->path, "%s/%s", cwd, path) < 0)
			a->path = NULL;
		else if (path[0] == '/')
			a->path = strdup(path);
	}
	if (!a->path) {
		free(a);
		blk_err("%s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	/* Append only, never truncated: an earlier session's lines stay. */
	a->fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (a->fd < 0) {
		int err = -errno;

		blk_err("%s: %s", path, strerror(errno));
		free(a->path);
		free(a);
		return err;
	}
	init_lock(a);
	new_session(a);
	*ap = a;
	return 0;
}

void blk_audit_flush(struct blk_audit *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	fdatasync(a->fd);
	pthread_mutex_unlock(&a->lock);
}

/* SIGHUP: flush, then reopen by name, so logrotate can move the file. */
void blk_audit_reopen(struct blk_audit *a)
{
	int fd;

	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	fdatasync(a->fd);
	fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		blk_err("%s: %s; still writing to the old file", a->path,
			strerror(errno));
	} else {
		close(a->fd);
		a->fd = fd;
		rotated_locked(a);
	}
	pthread_mutex_unlock(&a->lock);
}

void blk_audit_close(struct blk_audit *a)
{
	if (!a)
		return;
	blk_log_set_sink(NULL, NULL);
	blk_audit_flush(a);
	if (a->lost)
		blk_warn("%s: %llu audit records could not be written",
			 a->path, (unsigned long long)a->lost);
	close(a->fd);
	pthread_mutex_destroy(&a->lock);
	EVP_MD_CTX_free(a->chain);
	free(a->source);
	free(a->path);
	free(a);
}
