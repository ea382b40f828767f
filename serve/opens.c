// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The open data files and who opened them: a list under one lock, touched
 * at open and release only (never on the read path).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve/opens.h"

struct blk_opens {
	pthread_mutex_t lock;
	struct blk_open_rec head;	/* circular, head is no record */
	unsigned int count;
};

int blk_opens_new(struct blk_opens **op)
{
	struct blk_opens *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	pthread_mutex_init(&o->lock, NULL);
	o->head.prev = o->head.next = &o->head;
	*op = o;
	return 0;
}

void blk_opens_free(struct blk_opens *o)
{
	if (!o)
		return;
	while (o->head.next != &o->head)
		blk_opens_del(o, o->head.next);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

/* /proc/PID/comm, all 15 characters; "" when the process is gone. */
static void read_comm(uint32_t pid, char *out, size_t len)
{
	char path[32];
	ssize_t n = -1;
	int fd;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	fd = pid ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		n = read(fd, out, len - 1);
		close(fd);
	}
	if (n > 0)
		out[n - (out[n - 1] == '\n')] = '\0';
}

void blk_opens_comm(const struct blk_open_rec *r, char *out, size_t len)
{
	if (r->comm[0])
		snprintf(out, len, "%s", r->comm);
	else
		read_comm(r->pid, out, len);
}

struct blk_open_rec *blk_opens_add(struct blk_opens *o, uint64_t ino,
				   uint32_t pid, uint32_t uid, uint32_t gid,
				   bool comm_now)
{
	struct blk_open_rec *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->ino = ino;
	r->pid = pid;
	r->uid = uid;
	r->gid = gid;
	if (comm_now)
		read_comm(pid, r->comm, sizeof(r->comm));
	pthread_mutex_lock(&o->lock);
	r->next = &o->head;
	r->prev = o->head.prev;
	o->head.prev->next = r;
	o->head.prev = r;
	o->count++;
	pthread_mutex_unlock(&o->lock);
	return r;
}

unsigned int blk_opens_del(struct blk_opens *o, struct blk_open_rec *r)
{
	unsigned int left;

	pthread_mutex_lock(&o->lock);
	r->prev->next = r->next;
	r->next->prev = r->prev;
	left = --o->count;
	pthread_mutex_unlock(&o->lock);
	free(r);
	return left;
}

unsigned int blk_opens_count(struct blk_opens *o)
{
	unsigned int n;

	pthread_mutex_lock(&o->lock);
	n = o->count;
	pthread_mutex_unlock(&o->lock);
	return n;
}

void blk_opens_each(struct blk_opens *o,
		    void (*fn)(const struct blk_open_rec *r, void *data),
		    void *data)
{
	pthread_mutex_lock(&o->lock);
	for (struct blk_open_rec *r = o->head.next; r != &o->head; r = r->next)
		fn(r, data);
	pthread_mutex_unlock(&o->lock);
}
