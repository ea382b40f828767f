/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * FUSE over io_uring (uring_io.c): per-CPU queues that receive requests
 * and send replies through io_uring instead of read()/write() on
 * /dev/fuse.  Started once the kernel accepted it in the INIT reply.
 */
#ifndef BLK_URING_H
#define BLK_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blk_ctx;

enum blk_transport {
	BLK_TRANSPORT_AUTO,	/* the ring when root switched it on, else dev */
	BLK_TRANSPORT_DEV,	/* read()/write()/splice() on /dev/fuse */
	BLK_TRANSPORT_URING,	/* the ring, or the mount fails */
};

/*
 * What transport=auto picks when the kernel allows the ring: chosen by
 * measurement on this project's machines (bench/NOTES.md, "Transports").
 */
#define BLK_AUTO_URING 0

/* Built with liburing? */
bool blk_uring_built(void);
/* The kernel: 1 switched on, 0 off, -ENOENT not there (no such feature). */
int blk_uring_kernel(void);

/* Rings and buffers, before the INIT reply asks for them.  0 or -errno. */
int blk_uring_prepare(struct blk_ctx *ctx, int fuse_fd);
/* Prepared (and not stopped)? */
bool blk_uring_prepared(void);
/* After the INIT reply: register the queues and serve them.  0 or -errno. */
int blk_uring_start(void);
/* Queues being served (0: the ring is not in use). */
unsigned int blk_uring_queues(void);
/* Stop serving, join and free (safe when never started). */
void blk_uring_stop(void);

/* A ring request's payload buffer: where its READ data goes. */
void *blk_uring_payload(void *ent, size_t *cap);
/* Reply to the request in ent (err > 0: an error) with len payload bytes
 * and fetch the next.  Any thread.  0 or -errno. */
int blk_uring_reply(void *ent, uint64_t unique, int err, size_t len);

#endif /* BLK_URING_H */
