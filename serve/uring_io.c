// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * FUSE over io_uring (Linux 6.14+, CONFIG_FUSE_IO_URING, switched on by
 * root in /sys/module/fuse/parameters/enable_uring): the second transport.
 *
 * The kernel keeps one request queue per possible CPU and hands a request
 * to the queue of the CPU its reader runs on.  Each queue here is a thread
 * pinned to that CPU with its own ring and DEPTH entries; an entry is a
 * header buffer and a payload buffer the kernel fills with a request.  One
 * COMMIT_AND_FETCH per request sends its reply (written into the same
 * buffers) and asks for the next: one system call per batch of requests
 * instead of a read() and a write() per request.  The price: the ring has
 * no splice, so a READ's data is copied twice (source into the payload,
 * payload into the reader's pages).
 *
 * Only the queue's thread touches its ring (single issuer).  A reply made
 * elsewhere (the throttle's thread sends parked reads) is put in the
 * queue's mailbox and its eventfd, polled by the ring, wakes the thread.
 * INTERRUPT and FORGET still come through /dev/fuse: the workers stay.
 */
#include <errno.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <liburing.h>

#include "ctx.h"
#include "base/log.h"
#include "read/read_path.h"
#include "serve/fs_files.h"
#include "serve/uring.h"
#include "base/util.h"
#include "wire.h"

/* ---- the kernel's ABI (include/uapi/linux/fuse.h, 7.42) ------------------ */

enum { URING_CMD_REGISTER = 1, URING_CMD_COMMIT_AND_FETCH = 2 };

struct uring_ent_in_out {
	uint64_t flags;
	uint64_t commit_id;	/* the request's id, to commit its reply */
	uint32_t payload_sz;	/* bytes of payload (request, then reply) */
	uint32_t padding;
	uint64_t reserved;
};

struct uring_req_header {
	char in_out[128];	/* fuse_in_header, then fuse_out_header */
	char op_in[128];	/* the opcode's own header (fuse_read_in ...) */
	struct uring_ent_in_out ent;
};

struct uring_cmd_req {		/* in the SQE's 80-byte command area */
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};

/* ---- queues ----------------------------------------------------------------- */

#define DEPTH 8			/* entries per queue, to start with */
#define MAX_ENTS 1024		/* ... and at most, with parked reads */
#define SQ_SIZE 64		/* submissions per batch (more: submit first) */
#define EVENT_TAG 1ull		/* user_data of the eventfd poll */

struct ring_ent {
	struct ring_queue *q;
	struct uring_req_header *hdr;
	void *payload;
	size_t payload_cap;
	struct iovec iov[2];
	uint64_t commit_id;
	_Atomic bool in_hand;		/* holds a request not yet replied to */
	bool parked;			/* ... a read the throttle parked */
	bool dead;			/* the kernel ended it */
	struct ring_ent *next;		/* in the mailbox */
	struct ring_ent *later;		/* its command waits for an SQE */
	uint32_t later_op;
};

struct ring_queue {
	unsigned int qid;
	pthread_t thread;
	bool started;
	struct io_uring ring;
	bool ring_ok;
	int evfd;
	uint64_t evval;
	pthread_mutex_t lock;		/* the mailbox */
	struct ring_ent *mailbox;
	unsigned int live;		/* entries the kernel still holds */
	struct blk_wire wire;		/* libfuse's replies; copy buffer */
	char *scratch;			/* a request laid out as /dev/fuse's */
	size_t payload;			/* each entry's payload buffer */
	struct ring_ent **ents;		/* MAX_ENTS slots, n in use */
	unsigned int n;
	unsigned int parked;		/* entries held by parked reads */
	struct ring_ent *later;		/* commands that found the SQ full */
	bool arm_later;			/* ... and the eventfd's read */
};

static struct {
	struct blk_ctx *ctx;
	int fuse_fd;			/* the session's /dev/fuse */
	unsigned int nq;
	struct ring_queue *q;
	_Atomic bool stopping;
	_Atomic bool running;
} R;

static void sqe_cmd(struct io_uring_sqe *sqe, struct ring_ent *e, uint32_t op)
{
	struct uring_cmd_req *cmd = (void *)sqe->cmd;

	memset(sqe, 0, 128);	/* SQE128: the command area too */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = R.fuse_fd;
	sqe->cmd_op = op;
	io_uring_sqe_set_data(sqe, e);
	cmd->qid = e->q->qid;
	if (op == URING_CMD_REGISTER) {
		sqe->addr = (uint64_t)(uintptr_t)e->iov;
		sqe->len = 2;
	} else {
		cmd->commit_id = e->commit_id;
	}
}

/* An SQE (the queue's thread only); a full SQ is submitted first. */
static struct io_uring_sqe *get_sqe(struct ring_queue *q)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

	if (!sqe && io_uring_submit(&q->ring) >= 0)
		sqe = io_uring_get_sqe(&q->ring);
	return sqe;
}

/*
 * Queue a command, or keep it for the next turn of the loop when the SQ
 * stays full (retry_later): a reply dropped would hang its reader, an
 * entry never given back would shrink the queue.  Never fails.
 */
static int queue_cmd(struct ring_queue *q, struct ring_ent *e, uint32_t op)
{
	struct io_uring_sqe *sqe = get_sqe(q);

	if (!sqe) {
		e->later_op = op;
		e->later = q->later;
		q->later = e;
		return 0;
	}
	sqe_cmd(sqe, e, op);
	return 0;
}

/* The eventfd's read (replies from other threads, stop), or later. */
static void arm_event(struct ring_queue *q)
{
	struct io_uring_sqe *sqe = get_sqe(q);

	q->arm_later = !sqe;
	if (!sqe)
		return;
	io_uring_prep_read(sqe, q->evfd, &q->evval, sizeof(q->evval), 0);
	io_uring_sqe_set_data64(sqe, EVENT_TAG);
}

/* What found the SQ full, again: true if something still waits. */
static bool retry_later(struct ring_queue *q)
{
	struct ring_ent *e = q->later, *next;

	q->later = NULL;
	if (q->arm_later)
		arm_event(q);
	for (; e; e = next) {
		next = e->later;
		queue_cmd(q, e, e->later_op);
	}
	return q->later || q->arm_later;
}

/* ---- replies ------------------------------------------------------------- */

/* A READ's sink (reply.h): the entry's payload buffer; no splice here. */
static void *ring_buffer(const struct blk_sink *s, struct blk_wire *w,
			 size_t len, size_t *cap)
{
	(void)w, (void)len;
	return blk_uring_payload(s->ent, cap);
}

static int ring_send(const struct blk_sink *s, struct blk_wire *w,
		     uint64_t unique, size_t len)
{
	(void)w;
	return blk_uring_reply(s->ent, unique, 0, len);
}

static int ring_error(const struct blk_sink *s, uint64_t unique, int err)
{
	return blk_uring_reply(s->ent, unique, err, 0);
}

static const struct blk_sink_ops ring_sink = {
	.buffer = ring_buffer, .send = ring_send, .error = ring_error,
};

void *blk_uring_payload(void *ent, size_t *cap)
{
	struct ring_ent *e = ent;

	*cap = e->payload_cap;
	return e->payload;
}

int blk_uring_reply(void *ent, uint64_t unique, int err, size_t len)
{
	struct ring_ent *e = ent;
	struct ring_queue *q = e->q;
	struct fuse_out_header *out = (void *)e->hdr->in_out;

	atomic_store(&e->in_hand, false);
	out->len = sizeof(*out) + len;
	out->error = -err;
	out->unique = unique;
	e->hdr->ent.payload_sz = err ? 0 : len;
	if (pthread_equal(pthread_self(), q->thread))
		return queue_cmd(q, e, URING_CMD_COMMIT_AND_FETCH);
	pthread_mutex_lock(&q->lock);
	e->next = q->mailbox;
	q->mailbox = e;
	pthread_mutex_unlock(&q->lock);
	return eventfd_write(q->evfd, 1) < 0 ? -errno : 0;
}

/* libfuse's reply to a request from the ring, into the entry. */
static ssize_t take_reply(void *arg, struct iovec *iov, int count)
{
	struct ring_ent *e = arg;
	const struct fuse_out_header *out = iov[0].iov_base;
	size_t len = 0, total = iov[0].iov_len;

	for (int i = 1; i < count; i++) {
		if (len + iov[i].iov_len > e->payload_cap) {
			blk_warn("a reply of more than %zu bytes does not fit the ring: EIO",
				 e->payload_cap);
			blk_uring_reply(e, out->unique, EIO, 0);
			return total;
		}
		memcpy((char *)e->payload + len, iov[i].iov_base,
		       iov[i].iov_len);
		len += iov[i].iov_len;
		total += iov[i].iov_len;
	}
	blk_uring_reply(e, out->unique, -out->error, len);
	/*
	 * Sent now, not with the batch: whoever replied may act on the reply
	 * having gone out (the control's abort=1 is done after its reply).
	 */
	if (pthread_equal(pthread_self(), e->q->thread))
		io_uring_submit(&e->q->ring);
	return total;
}

/* ---- entries ------------------------------------------------------------- */

static struct ring_ent *new_ent(struct ring_queue *q)
{
	struct ring_ent *e;

	if (q->n == MAX_ENTS || !(e = calloc(1, sizeof(*e))))
		return NULL;
	e->q = q;
	e->hdr = blk_map_pages(sizeof(*e->hdr));
	e->payload = blk_map_pages(q->payload);
	e->payload_cap = q->payload;
	q->ents[q->n++] = e;	/* freed by queue_fini, mapped or not */
	if (!e->hdr || !e->payload)
		return NULL;
	e->iov[0] = (struct iovec){ e->hdr, sizeof(*e->hdr) };
	e->iov[1] = (struct iovec){ e->payload, q->payload };
	return e;
}

/* One more entry, registered now (the queue's thread). */
static int add_ent(struct ring_queue *q)
{
	struct ring_ent *e = new_ent(q);
	int err;

	if (!e)
		return -ENOMEM;
	err = queue_cmd(q, e, URING_CMD_REGISTER);
	if (!err)
		q->live++;
	return err;
}

/* ---- requests ------------------------------------------------------------ */

/* A request in e: a READ of a data file or a file inside down the read
 * path, the rest to libfuse. */
static void handle(struct ring_queue *q, struct ring_ent *e)
{
	struct blk_ctx *ctx = R.ctx;
	const struct fuse_in_header *in = (void *)e->hdr->in_out;
	uint32_t psz = e->hdr->ent.payload_sz;
	struct blk_wire_req req;
	struct blk_node *node;
	size_t opsz, len;

	e->commit_id = e->hdr->ent.commit_id;
	/* the op header's size is what the header's len leaves over */
	if (in->len < sizeof(*in) + psz || psz > e->payload_cap ||
	    (opsz = in->len - sizeof(*in) - psz) > sizeof(e->hdr->op_in)) {
		blk_warn("a malformed request from the ring (len %u, payload %u): EIO",
			 in->len, psz);
		blk_uring_reply(e, in->unique, EIO, 0);
		return;
	}
	len = in->len;
	memcpy(q->scratch, in, sizeof(*in));
	memcpy(q->scratch + sizeof(*in), e->hdr->op_in, opsz);
	memcpy(q->scratch + sizeof(*in) + opsz, e->payload, psz);
	if (!blk_wire_decode(q->scratch, len, &req)) {
		blk_uring_reply(e, in->unique, EIO, 0);
		return;
	}
	req.ring_ent = e;
	req.sink = (struct blk_sink){ .ops = &ring_sink, .ent = e };
	atomic_store(&e->in_hand, true);
	if (req.opcode < BLK_OPS_MAX)
		blk_count(&ctx->stats.ops[req.opcode], 1);
	if (req.opcode == FUSE_READ && (blk_fs_ino(req.nodeid) ||
	    ((node = blk_tree_get(&ctx->tree, req.nodeid)) &&
	     node->kind == BLK_NODE_DATA))) {
		if (blk_fs_ino(req.nodeid))
			blk_fs_read_start(ctx, &q->wire, &req);
		else
			blk_read_start(ctx, &q->wire, &req, node);
		/*
		 * Parked by the throttle: the entry is held until the read is
		 * sent.  DEPTH entries are kept free for other requests, new
		 * ones registered as needed, or enough parked reads would leave
		 * no entry for the control request that resumes them (the
		 * kernel queues a CPU's requests on its queue only).  Entries
		 * cannot be taken back: the pool stays at its largest.
		 */
		if (!atomic_load(&e->in_hand))
			return;
		e->parked = true;
		if (q->n - ++q->parked < DEPTH && add_ent(q) != 0)
			blk_warn("io_uring queue %u: no entry to add (%u in use): requests may wait for parked reads",
				 q->qid, q->n);
		return;
	}
	if (!blk_wire_process(ctx->se, &q->wire, q->scratch, len, req.unique,
			      take_reply, e)) {
		blk_warn("request %llu (opcode %u) from the ring got no reply: ENOSYS",
			 (unsigned long long)req.unique, req.opcode);
		blk_uring_reply(e, req.unique, ENOSYS, 0);
	}
}

/* The eventfd fired: commit what other threads replied, re-arm. */
static void drain_mailbox(struct ring_queue *q)
{
	struct ring_ent *e;

	pthread_mutex_lock(&q->lock);
	e = q->mailbox;
	q->mailbox = NULL;
	pthread_mutex_unlock(&q->lock);
	for (; e; e = e->next) {
		if (e->parked)
			e->parked = false, q->parked--;
		queue_cmd(q, e, URING_CMD_COMMIT_AND_FETCH);
	}
	if (!atomic_load(&R.stopping))
		arm_event(q);
}

static void completion(struct ring_queue *q, struct io_uring_cqe *cqe)
{
	struct ring_ent *e;

	if (cqe->user_data == EVENT_TAG) {
		drain_mailbox(q);
		return;
	}
	e = io_uring_cqe_get_data(cqe);
	if (cqe->res == 0) {
		handle(q, e);
		return;
	}
	if (cqe->res == -EINTR || cqe->res == -EAGAIN) {
		queue_cmd(q, e, e->commit_id ? URING_CMD_COMMIT_AND_FETCH :
					       URING_CMD_REGISTER);
		return;
	}
	/* ENOTCONN, ECONNABORTED, ECANCELED: the connection ended */
	if (cqe->res != -ENOTCONN && cqe->res != -ECONNABORTED &&
	    cqe->res != -ECANCELED && !atomic_load(&R.stopping))
		blk_warn("io_uring queue %u: %s", q->qid, strerror(-cqe->res));
	e->dead = true;
	q->live--;
}

static void *queue_main(void *arg)
{
	struct ring_queue *q = arg;
	struct io_uring_cqe *cqe;
	unsigned int head, n;
	int res;

	blk_pin_to_cpu(q->qid);
	for (unsigned int i = 0; i < q->n; i++)
		queue_cmd(q, q->ents[i], URING_CMD_REGISTER);
	q->live = q->n;
	arm_event(q);
	while (q->live && !atomic_load(&R.stopping)) {
		if (retry_later(q)) {
			/* still no SQE: submit, then wait a little, not for ever */
			struct __kernel_timespec ms = { .tv_nsec = 1000000 };

			res = io_uring_submit(&q->ring);
			if (res >= 0 || res == -EBUSY)
				res = io_uring_wait_cqe_timeout(&q->ring, &cqe, &ms);
			if (res == -ETIME)
				res = 0;
		} else {
			res = io_uring_submit_and_wait(&q->ring, 1);
		}
		if (res < 0 && res != -EINTR && res != -EAGAIN &&
		    res != -EBUSY) {
			blk_err("io_uring queue %u: %s", q->qid, strerror(-res));
			break;
		}
		n = 0;
		io_uring_for_each_cqe(&q->ring, head, cqe) {
			completion(q, cqe);
			n++;
		}
		io_uring_cq_advance(&q->ring, n);
	}
	return NULL;
}

static int queue_init(struct ring_queue *q, unsigned int qid, size_t payload)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQSIZE,
		.cq_entries = 4 * SQ_SIZE,
	};
	int err;

	q->qid = qid;
	q->payload = payload;
	pthread_mutex_init(&q->lock, NULL);	/* first: queue_fini destroys it */
	q->ents = calloc(MAX_ENTS, sizeof(*q->ents));
	if (!q->ents)
		return -ENOMEM;
	q->evfd = eventfd(0, EFD_CLOEXEC);
	if (q->evfd < 0)
		return -errno;
	err = blk_wire_init(&q->wire, R.fuse_fd, R.ctx->max_reply, 0,
			    R.ctx->pipe_max);
	if (err)
		return err;
	q->scratch = malloc(sizeof(struct fuse_in_header) + 128 + payload);
	if (!q->scratch)
		return -ENOMEM;
	err = io_uring_queue_init_params(SQ_SIZE, &q->ring, &p);
	if (err)
		return err;
	q->ring_ok = true;
	for (unsigned int i = 0; i < DEPTH; i++)
		if (!new_ent(q))
			return -ENOMEM;
	return 0;
}

static void queue_fini(struct ring_queue *q)
{
	if (q->ring_ok)
		io_uring_queue_exit(&q->ring);
	for (unsigned int i = 0; i < q->n; i++) {
		struct ring_ent *e = q->ents[i];

		if (e->hdr)
			munmap(e->hdr, sizeof(*e->hdr));
		if (e->payload)
			munmap(e->payload, e->payload_cap);
		free(e);
	}
	free(q->ents);
	if (q->evfd >= 0)
		close(q->evfd);
	free(q->scratch);
	blk_wire_fini(&q->wire);
	pthread_mutex_destroy(&q->lock);
}

/*
 * Everything that can fail for lack of memory or io_uring, before the INIT
 * reply asks for the ring: once the kernel has it, every request waits for
 * the ring to be ready.
 */
int blk_uring_prepare(struct blk_ctx *ctx, int fuse_fd)
{
	/* the kernel wants room for the largest READ (max_pages) */
	size_t payload = ctx->max_reply > 8192 ? ctx->max_reply : 8192;
	int err;

	R.ctx = ctx;
	R.fuse_fd = fuse_fd;
	R.nq = blk_possible_cpus();
	if (!R.nq)
		return -ENOENT;
	R.q = calloc(R.nq, sizeof(*R.q));
	if (!R.q)
		return -ENOMEM;
	for (unsigned int i = 0; i < R.nq; i++)
		R.q[i].evfd = -1;
	for (unsigned int i = 0; i < R.nq; i++) {
		err = queue_init(&R.q[i], i, payload);
		if (err) {
			blk_uring_stop();
			return err;
		}
	}
	return 0;
}

int blk_uring_start(void)
{
	int err;

	if (!R.q)
		return -EINVAL;
	for (unsigned int i = 0; i < R.nq; i++) {
		err = pthread_create(&R.q[i].thread, NULL, queue_main, &R.q[i]);
		if (err)
			return -err;
		R.q[i].started = true;
	}
	atomic_store(&R.running, true);
	return 0;
}

void blk_uring_stop(void)
{
	if (!R.q)
		return;
	atomic_store(&R.stopping, true);
	for (unsigned int i = 0; i < R.nq; i++)
		if (R.q[i].started) {
			eventfd_write(R.q[i].evfd, 1);
			pthread_join(R.q[i].thread, NULL);
		}
	for (unsigned int i = 0; i < R.nq; i++)
		queue_fini(&R.q[i]);
	free(R.q);
	R.q = NULL;
	atomic_store(&R.running, false);
	atomic_store(&R.stopping, false);
}

unsigned int blk_uring_queues(void)
{
	return atomic_load(&R.running) ? R.nq : 0;
}

bool blk_uring_built(void)
{
	return true;
}

bool blk_uring_prepared(void)
{
	return R.q != NULL;
}
