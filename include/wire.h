/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The FUSE wire (splice_io.c): the one module that reads raw requests
 * from /dev/fuse and writes raw replies to it.  Everything else speaks
 * through it, or through libfuse's reply functions for the requests it
 * forwards to libfuse.
 */
#ifndef BLK_WIRE_H
#define BLK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "reply.h"
#include "stats.h"

struct fuse_session;

/* One per thread that receives or replies: never shared. */
struct blk_wire {
	int fuse_fd;			/* /dev/fuse: the session's, or clone_fd */
	int clone_fd;			/* our own clone of it, or -1 */
	int pipe_rd, pipe_wr;		/* the reply is built here to splice */
	size_t pipe_bytes;		/* its capacity */
	uint32_t pipe_wanted;		/* the tunable it was sized for */
	uint32_t max_reply;		/* largest READ the kernel sends */
	uint32_t pipe_max;		/* fs.pipe-max-size */
	void *buf;			/* copy replies, page aligned */
	size_t buf_size;
	void *rbuf;			/* requests are read into it */
};

/* A request as it arrived, the fields blkfuse looks at decoded. */
struct blk_wire_req {
	uint32_t opcode;		/* FUSE_READ, FUSE_INTERRUPT, ... */
	uint64_t unique, nodeid;
	uint32_t uid, gid, pid;
	uint64_t fh, offset;		/* READ */
	uint32_t size;			/* READ */
	uint64_t intr_unique;		/* INTERRUPT: the request to end */
	uint32_t init_flags2;		/* INIT: what the kernel offers (hi) */
	void *ring_ent;			/* came through io_uring (uring_io.c) */
	struct blk_sink sink;		/* where its reply goes (reply.h) */
};

/* FUSE over io_uring (7.42; Debian 12's headers predate it). */
#define BLK_FUSE_OVER_IO_URING (1ULL << 41)

/* 0 or -errno.  The pipe is sized for pipe_size (0: for max_reply). */
int blk_wire_init(struct blk_wire *w, int fuse_fd, uint32_t max_reply,
		  uint32_t pipe_size, uint32_t pipe_max);
void blk_wire_fini(struct blk_wire *w);
/* Serve w from a clone of its /dev/fuse descriptor (FUSE_DEV_IOC_CLONE):
 * requests read there must be answered there.  0 or -errno. */
int blk_wire_clone(struct blk_wire *w);

/*
 * Route libfuse's replies through the wire (its custom I/O): each goes to
 * the descriptor or io_uring entry its request came from.  want_uring:
 * ask for FUSE over io_uring in the INIT reply when the kernel offers it.
 * init_done(data, uring) is called once the INIT reply was accepted.
 */
typedef void (*blk_wire_init_fn)(void *data, bool uring);
int blk_wire_attach(struct fuse_session *se, bool want_uring,
		    blk_wire_init_fn init_done, void *data);

/* Decode the request at mem (len bytes); false if it is too short. */
bool blk_wire_decode(const void *mem, size_t len, struct blk_wire_req *req);

/*
 * Hand one request to libfuse on this thread.  With fn, libfuse's reply to
 * unique is given to fn (a ring entry) instead of being written; returns
 * whether it was.  Returns false without fn.
 */
typedef ssize_t (*blk_wire_dest_fn)(void *arg, struct iovec *iov, int count);
bool blk_wire_process(struct fuse_session *se, struct blk_wire *w,
		      void *mem, size_t len, uint64_t unique,
		      blk_wire_dest_fn fn, void *arg);

/*
 * Receive requests until the session ends.  Each is first offered to fast
 * (which returns true when it answered it); the rest go to libfuse and
 * its low-level ops.  Only the wait for a request may be cancelled.
 * Returns 0 when the connection ended, or -errno.
 */
typedef bool (*blk_wire_fast_fn)(void *data, struct blk_wire *w,
				 const struct blk_wire_req *req);
int blk_wire_serve(struct fuse_session *se, struct blk_wire *w,
		   blk_wire_fast_fn fast, void *data);

/* An error reply (err > 0).  0, or -errno when the kernel refused it;
 * a request that is gone (interrupted, aborted) is not an error. */
int blk_wire_reply_err(int fuse_fd, uint64_t unique, int err);

/*
 * A data reply of [pos, pos + len) of src_fd, spliced: header and data
 * through the pipe into /dev/fuse, never through this process.  0 when
 * sent; -EAGAIN when it must be copied instead (nothing was sent; *why
 * says why).
 */
int blk_wire_reply_splice(struct blk_wire *w, int src_fd, uint64_t unique,
			  uint64_t pos, size_t len, enum blk_fallback *why);

/* A byte range of a file, one piece of a spliced reply. */
struct blk_wire_piece {
	int fd;
	uint64_t pos;
	size_t len;
};

/* The same from npc pieces of (possibly) different files, as one reply. */
int blk_wire_reply_splicev(struct blk_wire *w, const struct blk_wire_piece *pc,
			   unsigned int npc, uint64_t unique,
			   enum blk_fallback *why);

/* The copy buffer, at least len bytes (kept between replies); NULL: ENOMEM. */
void *blk_wire_buffer(struct blk_wire *w, size_t len);
/* The sink of a request that came through fuse_fd (reply.h). */
struct blk_sink blk_wire_sink(int fuse_fd);

/* A data reply of the first len bytes of the copy buffer.  0 or -errno. */
int blk_wire_reply_buffer(struct blk_wire *w, uint64_t unique, size_t len);

/* /proc/sys/fs/pipe-max-size (0: unknown). */
uint32_t blk_wire_pipe_max(void);
/* Warn, once at start, when a max_reply reply cannot fit a pipe. */
void blk_wire_check_pipe(uint32_t max_reply, uint32_t pipe_max);

/* Resize the pipe when the pipe_size tunable changed (0: for max_reply). */
void blk_wire_tune_pipe(struct blk_wire *w, uint32_t pipe_size);

#endif /* BLK_WIRE_H */
