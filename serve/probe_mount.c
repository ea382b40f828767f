// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A private, short-lived FUSE mount that serves a container's decoded
 * media as the file 'disk', so that libblkid (which probes only through a
 * descriptor) finds the partitions on the media, not on the container.
 * It lives in a mkdtemp directory under /run (else $TMPDIR), is served by
 * one thread of this process, and is unmounted and removed before the
 * probe returns.  No byte of the media is stored anywhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "wire.h"
#include "serve/probe_mount.h"

#define DISK_INO 2
#define MAX_READ (1u << 20)

struct probe {
	struct blk_source *src;
	struct fuse_session *se;
	pthread_t thread;
	char dir[64];
	char *buf;
	struct blk_wire wire;		/* its request buffer */
};

static struct probe *probe_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static void fill(const struct probe *p, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = ino == FUSE_ROOT_ID ? S_IFDIR | 0500 : S_IFREG | 0400;
	st->st_nlink = 1;
	st->st_size = ino == DISK_INO ? (off_t)p->src->size : 0;
}

static void pm_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e = { .ino = DISK_INO };

	if (parent != FUSE_ROOT_ID || strcmp(name, "disk")) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill(probe_of(req), DISK_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void pm_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	fill(probe_of(req), ino, &st);
	fuse_reply_attr(req, &st, 0);
}

static void pm_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != DISK_INO)
		fuse_reply_err(req, EISDIR);
	else if ((fi->flags & O_ACCMODE) != O_RDONLY)
		fuse_reply_err(req, EROFS);
	else
		fuse_reply_open(req, fi);
}

/* One thread serves the mount: one buffer is enough. */
static void pm_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct probe *p = probe_of(req);
	uint64_t bad;
	ssize_t n;

	(void)ino, (void)fi;
	if (size > MAX_READ)
		size = MAX_READ;
	n = blk_source_pread(p->src, p->buf, size, off, &bad);
	if (n < 0) {
		blk_warn("%s: while finding partitions: %s at media offset %llu",
			 p->src->given, strerror(-n), (unsigned long long)bad);
		fuse_reply_err(req, -n);
		return;
	}
	fuse_reply_buf(req, p->buf, n);
}

static const struct fuse_lowlevel_ops pm_ops = {
	.lookup		= pm_lookup,
	.getattr	= pm_getattr,
	.open		= pm_open,
	.read		= pm_read,
};

static void thread_done(void *unused)
{
	(void)unused;
	blk_image_thread_done();
}

/* The daemon's one request loop (splice_io.c): cancellable in its wait. */
static void *serve(void *arg)
{
	struct probe *p = arg;
	int err;

	pthread_cleanup_push(thread_done, NULL);
	err = blk_wire_serve(p->se, &p->wire, NULL, NULL);
	if (err)
		blk_warn("probe mount: %s", strerror(-err));
	pthread_cleanup_pop(1);
	return NULL;
}

static int make_dir(struct probe *p)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(p->dir, sizeof(p->dir), "/run/blkfuse-probe.XXXXXX");
	if (mkdtemp(p->dir))
		return 0;
	snprintf(p->dir, sizeof(p->dir), "%s/blkfuse-probe.XXXXXX",
		 tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	return mkdtemp(p->dir) ? 0 : -errno;
}

/* Mount and serve: 0, or -errno (printed). */
static int start(struct probe *p)
{
	char prog[] = "blkfuse-probe", o[] = "-o",
	     opts[] = "ro,fsname=blkfuse-probe,subtype=blkfuse-probe";
	char *argv[] = { prog, o, opts, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	int err = make_dir(p);

	if (err) {
		blk_err("cannot make a directory for the probe mount: %s",
			strerror(-err));
		return err;
	}
	p->se = fuse_session_new(&args, &pm_ops, sizeof(pm_ops), p);
	if (!p->se || fuse_session_mount(p->se, p->dir) != 0) {
		blk_err("%s: cannot mount the decoded media at %s to find its partitions",
			p->src->given, p->dir);
		err = -EIO;
		goto out_rmdir;
	}
	err = blk_wire_init(&p->wire, fuse_session_fd(p->se), 0, 0, 0);
	if (!err)
		err = -pthread_create(&p->thread, NULL, serve, p);
	if (!err)
		return 0;
	blk_err("%s: probe mount: %s", p->src->given, strerror(-err));
	blk_wire_fini(&p->wire);
	fuse_session_unmount(p->se);
out_rmdir:
	if (p->se)
		fuse_session_destroy(p->se);
	p->se = NULL;
	rmdir(p->dir);
	return err;
}

/* The thread first (it may be replying on the fd), then the mount. */
static void stop(struct probe *p)
{
	fuse_session_exit(p->se);
	pthread_cancel(p->thread);
	pthread_join(p->thread, NULL);
	blk_wire_fini(&p->wire);
	fuse_session_unmount(p->se);
	fuse_session_destroy(p->se);
	rmdir(p->dir);
}

int blk_probe_layout(struct blk_source *src, struct blk_layout *lo)
{
	struct probe p = { .src = src };
	char path[96];
	int err;

	if (!src->img || src->probe_fd >= 0)
		return blk_layout_probe(src, lo);
	p.buf = malloc(MAX_READ);
	if (!p.buf) {
		blk_err("%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	err = start(&p);
	if (!err) {
		snprintf(path, sizeof(path), "%s/disk", p.dir);
		src->probe_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (src->probe_fd < 0) {
			err = -errno;
			blk_err("%s: %s", path, strerror(errno));
		} else {
			err = blk_layout_probe(src, lo);
			close(src->probe_fd);
			src->probe_fd = -1;
		}
		stop(&p);
	}
	free(p.buf);
	return err;
}
