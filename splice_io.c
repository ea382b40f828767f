// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The FUSE wire: requests in, replies out, and nothing else here knows the
 * kernel's byte layout.
 *
 * A data reply is the 16-byte fuse_out_header followed by the data, and
 * the kernel wants it in one write to /dev/fuse.  It is built in this
 * thread's pipe: write() the header, splice() the byte range from the
 * source behind it (page-cache references, no copy), then splice() the
 * whole pipe into /dev/fuse.  The kernel copies once, into the reader's
 * pages; the data never passes through this process.
 *
 * The pipe must hold the whole reply: one slot for the header plus one per
 * page the range touches (an unaligned start touches one more).  A 1 MiB
 * READ therefore needs 258 slots, which rounds to a 2 MiB pipe, and
 * fs.pipe-max-size is 1 MiB by default; without CAP_SYS_RESOURCE the grow
 * fails.  blkfuse caps READs at max_reply (512 KiB by default) at INIT so
 * that the default configuration always fits; a reply that does not fit is
 * copied and counted as a "pipe_limit" fallback, never silently.
 * SPLICE_F_MOVE is deliberately not used (see README).
 */
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/util.h"
#include "base/log.h"
#include "wire.h"

#define PAGE blk_page_size()

const char *blk_fallback_name(enum blk_fallback fb)
{
	static const char *const names[BLK_FB_NR] = {
		[BLK_FB_SPLICE_OFF] = "splice_off",
		[BLK_FB_SMALL] = "small",
		[BLK_FB_PIPE_LIMIT] = "pipe_limit",
		[BLK_FB_PIPE_ERROR] = "pipe_error",
		[BLK_FB_SOURCE] = "source",
		[BLK_FB_FUSE_WRITE] = "fuse_write",
		[BLK_FB_DECODE] = "decode",
		[BLK_FB_SEGMENTS] = "segments",
	};

	return fb < BLK_FB_NR ? names[fb] : "?";
}

/* ---- the pipe ------------------------------------------------------------ */

/* Pipe bytes a reply of len bytes at source offset pos occupies. */
static size_t pipe_need(uint64_t pos, size_t len)
{
	size_t pages = ((pos & (PAGE - 1)) + len + PAGE - 1) / PAGE;

	return (pages + 1) * PAGE;
}

static int pipe_open(struct blk_wire *w)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	w->pipe_rd = fds[0];
	w->pipe_wr = fds[1];
	w->pipe_bytes = fcntl(fds[1], F_GETPIPE_SZ);
	return 0;
}

static void pipe_close(struct blk_wire *w)
{
	if (w->pipe_rd >= 0)
		close(w->pipe_rd);
	if (w->pipe_wr >= 0)
		close(w->pipe_wr);
	w->pipe_rd = w->pipe_wr = -1;
	w->pipe_bytes = 0;
}

uint32_t blk_wire_pipe_max(void)
{
	unsigned int val = 0;
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "re");

	if (f) {
		if (fscanf(f, "%u", &val) != 1)
			val = 0;
		fclose(f);
	}
	return val;
}

/*
 * Can a worker's pipe hold the largest reply?  Tried, rather than guessed
 * at from capabilities: root here lacks CAP_SYS_RESOURCE.
 */
void blk_wire_check_pipe(uint32_t max_reply, uint32_t pipe_max)
{
	size_t need = pipe_need(PAGE - 1, max_reply);
	int fds[2], res;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return;
	res = fcntl(fds[1], F_SETPIPE_SZ, need);
	close(fds[0]);
	close(fds[1]);
	if (res < 0)
		blk_warn("max_reply=%u needs %zu-byte pipes but fs.pipe-max-size is %u: reads that large will be copied, not spliced (lower max_reply or raise fs.pipe-max-size)",
			 max_reply, need, pipe_max);
}

void blk_wire_tune_pipe(struct blk_wire *w, uint32_t want)
{
	size_t bytes = want ? want : pipe_need(PAGE - 1, w->max_reply);
	int res;

	if ((want ? want : UINT32_MAX) == w->pipe_wanted && w->pipe_rd >= 0)
		return;
	if (w->pipe_rd < 0 && pipe_open(w) < 0)
		return;	/* the next splice tries again, and counts it */
	w->pipe_wanted = want ? want : UINT32_MAX;
	res = fcntl(w->pipe_wr, F_SETPIPE_SZ, bytes);
	if (res < 0 && !want && w->pipe_max)
		res = fcntl(w->pipe_wr, F_SETPIPE_SZ, w->pipe_max);
	if (res > 0)
		w->pipe_bytes = res;
}

/* After a failed splice the pipe may hold stale bytes: start afresh. */
static int pipe_reset(struct blk_wire *w)
{
	uint32_t want = w->pipe_wanted == UINT32_MAX ? 0 : w->pipe_wanted;
	int err;

	pipe_close(w);
	err = pipe_open(w);
	if (err)
		return err;
	w->pipe_wanted = 0;
	blk_wire_tune_pipe(w, want);
	return 0;
}

int blk_wire_init(struct blk_wire *w, int fuse_fd, uint32_t max_reply,
		  uint32_t pipe_size, uint32_t pipe_max)
{
	int err;

	memset(w, 0, sizeof(*w));
	w->fuse_fd = fuse_fd;
	w->clone_fd = -1;
	w->max_reply = max_reply;
	w->pipe_max = pipe_max;
	w->pipe_rd = w->pipe_wr = -1;
	err = pipe_open(w);
	if (err)
		return err;
	blk_wire_tune_pipe(w, pipe_size);
	return 0;
}

void blk_wire_fini(struct blk_wire *w)
{
	pipe_close(w);
	free(w->buf);
	free(w->rbuf);
	w->buf = w->rbuf = NULL;
	if (w->clone_fd >= 0)
		close(w->clone_fd);
	w->clone_fd = -1;
}

int blk_wire_clone(struct blk_wire *w)
{
	uint32_t session_fd = w->fuse_fd;
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, FUSE_DEV_IOC_CLONE, &session_fd) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	w->fuse_fd = w->clone_fd = fd;
	return 0;
}

/* ---- replies ------------------------------------------------------------- */

int blk_wire_reply_err(int fuse_fd, uint64_t unique, int err)
{
	struct fuse_out_header out = {
		.len = sizeof(out), .error = -err, .unique = unique,
	};

	/* ENOENT: the request was interrupted or aborted; nothing to do. */
	if (write(fuse_fd, &out, sizeof(out)) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* The source range into the pipe behind the header already there. */
static int splice_source(struct blk_wire *w, int src_fd, uint64_t pos,
			 size_t len)
{
	loff_t p = pos;
	ssize_t n;

	while (len) {
		/* NONBLOCK: should the pipe be full after all, fail, not hang. */
		n = splice(src_fd, &p, w->pipe_wr, NULL, len,
			   SPLICE_F_NONBLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ENODATA;
		len -= n;
	}
	return 0;
}

int blk_wire_reply_splice(struct blk_wire *w, int src_fd, uint64_t unique,
			  uint64_t pos, size_t len, enum blk_fallback *why)
{
	struct blk_wire_piece one = { src_fd, pos, len };

	return blk_wire_reply_splicev(w, &one, 1, unique, why);
}

/*
 * Several pieces (a read across segment files) behind one header: the
 * kernel gets one reply.  Each piece takes its own pages in the pipe.
 */
int blk_wire_reply_splicev(struct blk_wire *w, const struct blk_wire_piece *pc,
			   unsigned int npc, uint64_t unique,
			   enum blk_fallback *why)
{
	struct fuse_out_header out = { .len = sizeof(out), .unique = unique };
	size_t need = 0;
	ssize_t n;

	for (unsigned int i = 0; i < npc; i++) {
		out.len += pc[i].len;
		need += pipe_need(pc[i].pos, pc[i].len) - PAGE;
	}

	if (w->pipe_rd < 0 && pipe_open(w) < 0) {
		*why = BLK_FB_PIPE_ERROR;
		return -EAGAIN;
	}
	if (need + PAGE > w->pipe_bytes) {
		*why = BLK_FB_PIPE_LIMIT;
		return -EAGAIN;
	}
	if (write(w->pipe_wr, &out, sizeof(out)) != sizeof(out)) {
		*why = BLK_FB_PIPE_ERROR;
		goto out_reset;
	}
	for (unsigned int i = 0; i < npc; i++)
		if (splice_source(w, pc[i].fd, pc[i].pos, pc[i].len) != 0) {
			/* EOF (source shrank) or an error: the copy path says. */
			*why = BLK_FB_SOURCE;
			goto out_reset;
		}
	n = splice(w->pipe_rd, NULL, w->fuse_fd, NULL, out.len, 0);
	if (n == (ssize_t)out.len)
		return 0;
	/* The request is gone (interrupted or aborted): the copy fails too. */
	*why = BLK_FB_FUSE_WRITE;
out_reset:
	n = pipe_reset(w);
	if (n)
		blk_warn("cannot make a new reply pipe: %s", strerror(-n));
	return -EAGAIN;
}

void *blk_wire_buffer(struct blk_wire *w, size_t len)
{
	size_t want = len > w->max_reply ? len : w->max_reply;
	void *buf;

	if (len <= w->buf_size)
		return w->buf;
	/*
	 * Allocated on first use (a splicing thread never needs it) and kept:
	 * faulting a fresh buffer in per reply costs a page fault per 4 KiB,
	 * which is what makes libfuse's own copy path slow.
	 */
	if (posix_memalign(&buf, PAGE, want))
		return NULL;
	memset(buf, 0, want);
	free(w->buf);
	w->buf = buf;
	w->buf_size = want;
	return buf;
}

int blk_wire_reply_buffer(struct blk_wire *w, uint64_t unique, size_t len)
{
	struct fuse_out_header out = {
		.len = sizeof(out) + len, .unique = unique,
	};
	struct iovec iov[2] = {
		{ &out, sizeof(out) }, { w->buf, len },
	};

	if (writev(w->fuse_fd, iov, len ? 2 : 1) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/*
 * The sink of a request read from fuse_fd.  A parked read is sent later by
 * another thread (the throttle's) through that thread's own wire: the
 * reply must still go to the descriptor the request came from (a worker's
 * clone of /dev/fuse), so the wire is pointed there first.
 */
static int sink_splice(const struct blk_sink *s, struct blk_wire *w,
		       const struct blk_wire_piece *pc, unsigned int n,
		       uint64_t unique, enum blk_fallback *why)
{
	w->fuse_fd = s->fuse_fd;
	return blk_wire_reply_splicev(w, pc, n, unique, why);
}

static void *sink_buffer(const struct blk_sink *s, struct blk_wire *w,
			 size_t len, size_t *cap)
{
	(void)s;
	*cap = len;
	return blk_wire_buffer(w, len);
}

static int sink_send(const struct blk_sink *s, struct blk_wire *w,
		     uint64_t unique, size_t len)
{
	w->fuse_fd = s->fuse_fd;
	return blk_wire_reply_buffer(w, unique, len);
}

static int sink_error(const struct blk_sink *s, uint64_t unique, int err)
{
	return blk_wire_reply_err(s->fuse_fd, unique, err);
}

static const struct blk_sink_ops devfuse_sink = {
	.splice = sink_splice, .buffer = sink_buffer, .send = sink_send,
	.error = sink_error,
};

struct blk_sink blk_wire_sink(int fuse_fd)
{
	return (struct blk_sink){ .ops = &devfuse_sink, .fuse_fd = fuse_fd };
}

/* ---- requests ------------------------------------------------------------ */

/*
 * The largest request the kernel may send: a header page plus the largest
 * READ/WRITE payload it allows (libfuse's own buffer size).  Only the pages
 * a request fills are ever touched.
 */
#define RBUF_SIZE (1024u * 1024 + PAGE)

bool blk_wire_decode(const void *mem, size_t len, struct blk_wire_req *req)
{
	const struct fuse_in_header *in = mem;

	if (len < sizeof(*in))
		return false;
	*req = (struct blk_wire_req){
		.opcode = in->opcode, .unique = in->unique,
		.nodeid = in->nodeid, .uid = in->uid, .gid = in->gid,
		.pid = in->pid,
	};
	if (in->opcode == FUSE_READ) {
		const struct fuse_read_in *arg = (const void *)(in + 1);

		if (len < sizeof(*in) + sizeof(*arg))
			return false;
		req->fh = arg->fh;
		req->offset = arg->offset;
		req->size = arg->size;
	} else if (in->opcode == FUSE_INTERRUPT) {
		const struct fuse_interrupt_in *arg = (const void *)(in + 1);

		if (len < sizeof(*in) + sizeof(*arg))
			return false;
		req->intr_unique = arg->unique;
	} else if (in->opcode == FUSE_INIT) {
		const struct fuse_init_in *arg = (const void *)(in + 1);

		/* 7.36+ sends flags2; an older kernel's INIT is shorter */
		if (len >= sizeof(*in) + offsetof(struct fuse_init_in, unused) &&
		    (arg->flags & FUSE_INIT_EXT))
			req->init_flags2 = arg->flags2;
	}
	return true;
}

/*
 * libfuse's replies.  It writes them through blkfuse's custom I/O
 * (fuse_session_custom_io), so that each goes where its request came from:
 * this thread's cloned /dev/fuse descriptor, or the io_uring entry the
 * request arrived in.  The INIT reply is where blkfuse asks for FUSE over
 * io_uring, which libfuse 3.14 does not know.
 */
struct wire_dest {
	uint64_t unique;
	blk_wire_dest_fn fn;
	void *arg;
	bool answered;
};

static __thread struct blk_wire *tl_wire;	/* the thread's own wire */
static __thread struct wire_dest *tl_dest;	/* a ring request in hand */

static struct {
	struct fuse_session *se;	/* the mount's session (attached) */
	_Atomic uint64_t init_unique;	/* the INIT in hand; 0: none */
	bool want_uring;		/* ask for it when the kernel offers */
	_Atomic bool uring;		/* asked for and offered */
	blk_wire_init_fn init_done;
	void *init_data;
} wire_se;

static void init_reply_patch(struct iovec *iov, int count,
			     struct fuse_init_out *copy)
{
	if (count < 2 || iov[1].iov_len < offsetof(struct fuse_init_out, unused))
		return;
	memcpy(copy, iov[1].iov_base, iov[1].iov_len < sizeof(*copy) ?
					  iov[1].iov_len : sizeof(*copy));
	copy->flags |= FUSE_INIT_EXT;
	copy->flags2 |= BLK_FUSE_OVER_IO_URING >> 32;
	iov[1].iov_base = copy;
}

static ssize_t wire_writev(int fd, struct iovec *iov, int count, void *data)
{
	const struct fuse_out_header *out = iov[0].iov_base;
	struct fuse_init_out init_copy;
	bool init = false;
	ssize_t res;

	(void)data;
	if (tl_dest && out->unique == tl_dest->unique) {
		tl_dest->answered = true;
		return tl_dest->fn(tl_dest->arg, iov, count);
	}
	if (out->unique && out->unique == atomic_load(&wire_se.init_unique)) {
		init = true;
		if (atomic_load(&wire_se.uring) && !out->error)
			init_reply_patch(iov, count, &init_copy);
	}
	res = writev(tl_wire ? tl_wire->fuse_fd : fd, iov, count);
	if (init) {
		atomic_store(&wire_se.init_unique, 0);
		if (res >= 0 && !out->error && wire_se.init_done)
			wire_se.init_done(wire_se.init_data,
					  atomic_load(&wire_se.uring));
	}
	return res;
}

static ssize_t wire_read(int fd, void *buf, size_t len, void *data)
{
	(void)data;
	return read(fd, buf, len);
}

int blk_wire_attach(struct fuse_session *se, bool want_uring,
		    blk_wire_init_fn init_done, void *data)
{
	static const struct fuse_custom_io io = {
		.writev = wire_writev, .read = wire_read,
	};

	wire_se.se = se;
	wire_se.want_uring = want_uring;
	wire_se.init_done = init_done;
	wire_se.init_data = data;
	return fuse_session_custom_io(se, &io, fuse_session_fd(se));
}

bool blk_wire_process(struct fuse_session *se, struct blk_wire *w,
		      void *mem, size_t len, uint64_t unique,
		      blk_wire_dest_fn fn, void *arg)
{
	struct fuse_buf fbuf = { .mem = mem, .size = len };
	struct wire_dest dest = { unique, fn, arg, false };

	tl_wire = w;
	tl_dest = fn ? &dest : NULL;
	fuse_session_process_buf(se, &fbuf);
	tl_dest = NULL;
	return dest.answered;
}

/* The mount's INIT: its reply is the one to patch and to tell about. */
static void init_seen(const struct blk_wire_req *req)
{
	if (wire_se.want_uring &&
	    (req->init_flags2 & (BLK_FUSE_OVER_IO_URING >> 32)))
		atomic_store(&wire_se.uring, true);
	atomic_store(&wire_se.init_unique, req->unique);
}

static ssize_t receive(struct blk_wire *w)
{
	ssize_t n;

	if (!w->rbuf && !(w->rbuf = malloc(RBUF_SIZE)))
		return -ENOMEM;
	n = read(w->fuse_fd, w->rbuf, RBUF_SIZE);
	return n < 0 ? -errno : n;
}

int blk_wire_serve(struct fuse_session *se, struct blk_wire *w,
		   blk_wire_fast_fn fast, void *data)
{
	struct blk_wire_req req;
	ssize_t res = 0;

	tl_wire = w;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	while (!fuse_session_exited(se)) {
		/* Only the wait for a request may be cancelled (as libfuse). */
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		res = receive(w);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		/* ENOENT: the request was interrupted before it was read */
		if (res == -EINTR || res == -EAGAIN || res == -ENOENT)
			continue;
		if (res == -ENODEV)
			fuse_session_exit(se);
		if (res <= 0)
			break;
		/* one too short to decode is libfuse's to answer, as before */
		if (blk_wire_decode(w->rbuf, res, &req)) {
			req.sink = blk_wire_sink(w->fuse_fd);
			if (req.opcode == FUSE_INIT && se == wire_se.se)
				init_seen(&req);
			if (fast && fast(data, w, &req))
				continue;
		}
		blk_wire_process(se, w, w->rbuf, res, 0, NULL, NULL);
	}
	/* ENODEV: the connection ended (unmount, abort); that is no error. */
	return res < 0 && res != -ENODEV ? (int)res : 0;
}
