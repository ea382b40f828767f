// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The CUSE transport of the control protocol: /dev/blkfuse-NAME, served by
 * a session of its own in a thread of its own.  cuse_lowlevel_setup() is
 * not used: it would parse argv, take the signal handlers and daemonize a
 * second time.  Instead the session is created with cuse_lowlevel_new()
 * and "mounted" on an fd of /dev/cuse through /dev/fd/N.  The node goes
 * away with the connection, so also when the daemon is killed.
 */
#include <cuse_lowlevel.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/ctl_fuse.h"
#include "ctx.h"
#include "cuse_ctl.h"
#include "base/log.h"
#include "base/util.h"
#include "wire.h"

struct blk_cuse {
	struct fuse_session *se;
	struct blk_wire wire;		/* its request buffer */
	pthread_t thread;
	bool running;
};

bool blk_cuse_available(void)
{
	return access("/dev/cuse", R_OK | W_OK) == 0;
}

static struct blk_ctx *cc_ctx(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static void cc_init_done(void *userdata)
{
	struct blk_ctx *ctx = userdata;
	char path[96];

	snprintf(path, sizeof(path), "/dev/%s", ctx->ctl_name);
	/* devtmpfs made it root 0600; --ctl-mode (or a udev rule) widens it */
	if (chmod(path, ctx->ctl_mode) < 0)
		blk_warn("%s: %s", path, strerror(errno));
	blk_info("control node %s", path);
}

static void cc_open(fuse_req_t req, struct fuse_file_info *fi)
{
	blk_ctl_reply_open(req, cc_ctx(req), fi, false);
}

static void cc_read(fuse_req_t req, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)off;
	blk_ctl_reply_read(req, fi, size);
}

static void cc_write(fuse_req_t req, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	(void)off;
	blk_ctl_reply_write(req, cc_ctx(req), fi, buf, size);
}

static void cc_release(fuse_req_t req, struct fuse_file_info *fi)
{
	blk_ctl_reply_release(req, fi);
}

/* CUSE keeps "int cmd" in libfuse 3.14; the numbers are unsigned. */
static void cc_ioctl(fuse_req_t req, int cmd, void *arg,
		     struct fuse_file_info *fi, unsigned int flags,
		     const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	(void)arg;
	blk_ctl_reply_ioctl(req, cc_ctx(req), fi, (unsigned int)cmd, flags, in_buf,
			    in_bufsz, out_bufsz, false);
}

static const struct cuse_lowlevel_ops cc_ops = {
	.init_done	= cc_init_done,
	.open		= cc_open,
	.read		= cc_read,
	.write		= cc_write,
	.release	= cc_release,
	.ioctl		= cc_ioctl,
};

/* The node's requests, through the same wire loop as the mount's. */
static void *cuse_thread(void *data)
{
	struct blk_cuse *c = data;
	int err = blk_wire_serve(c->se, &c->wire, NULL, NULL);

	if (err)
		blk_err("reading /dev/cuse: %s", strerror(-err));
	return NULL;
}

int blk_cuse_start(struct blk_ctx *ctx)
{
	char devname[96], fdpath[32];
	const char *info[] = { devname };
	struct cuse_info ci = {
		.dev_info_argc = 1, .dev_info_argv = info,
	};
	char *argv[] = { (char *)"blkfuse", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct blk_cuse *c;
	int fd, err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	snprintf(devname, sizeof(devname), "DEVNAME=%s", ctx->ctl_name);
	c->se = cuse_lowlevel_new(&args, &ci, &cc_ops, ctx);
	fuse_opt_free_args(&args);	/* libfuse may have added to it */
	if (!c->se) {
		err = -EIO;
		goto out_free;
	}
	fd = open("/dev/cuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out_destroy_session;
	}
	/* fuse_session_mount() takes over an open fd given as /dev/fd/N. */
	snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", fd);
	if (fuse_session_mount(c->se, fdpath) != 0) {
		close(fd);
		err = -EIO;
		goto out_destroy_session;
	}
	err = blk_wire_init(&c->wire, fuse_session_fd(c->se), 0, 0, 0);
	if (err)
		goto out_unmount;
	err = pthread_create(&c->thread, NULL, cuse_thread, c);
	if (err) {
		err = -err;
		goto out_fini_wire;
	}
	c->running = true;
	ctx->cuse = c;
	return 0;

out_fini_wire:
	blk_wire_fini(&c->wire);
out_unmount:
	fuse_session_unmount(c->se);
out_destroy_session:
	fuse_session_destroy(c->se);
out_free:
	free(c);
	return err;
}

void blk_cuse_stop(struct blk_ctx *ctx)
{
	struct blk_cuse *c = ctx->cuse;

	if (!c)
		return;
	if (c->running) {
		fuse_session_exit(c->se);
		pthread_cancel(c->thread);
		pthread_join(c->thread, NULL);
	}
	blk_wire_fini(&c->wire);
	fuse_session_unmount(c->se);
	fuse_session_destroy(c->se);
	free(c);
	ctx->cuse = NULL;
}

/* blkfuse-NAME from --name or the source's file name; unique in /dev. */
void blk_cuse_pick_name(struct blk_ctx *ctx, const char *name,
			const char *source)
{
	char base[49], path[128];
	const char *b = strrchr(source, '/');
	struct stat st;

	blk_name_mangle(base, sizeof(base), name ? name : b ? b + 1 : source,
			name != NULL);
	for (int i = 1; i < 100; i++) {
		if (i == 1)
			snprintf(ctx->ctl_name, sizeof(ctx->ctl_name),
				 "blkfuse-%s", base);
		else
			snprintf(ctx->ctl_name, sizeof(ctx->ctl_name),
				 "blkfuse-%s-%d", base, i);
		snprintf(path, sizeof(path), "/dev/%s", ctx->ctl_name);
		if (stat(path, &st) < 0)
			return;
	}
}
