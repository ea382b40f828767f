// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A private, short-lived FUSE mount that serves a container's decoded
 * media as the file 'disk', so that libblkid (which probes only through a
 * descriptor) finds the partitions on the media, not on the container.
 * It lives in a mkdtemp directory under /run (else $TMPDIR), is served by
 * a child process (see serve_child), and is unmounted and removed before
 * the probe returns.  No byte of the media is stored anywhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "wire.h"
#include "serve/probe_mount.h"

#define DISK_INO 2
#define MAX_READ (1u << 20)

struct probe {
	struct blk_source *src;
	struct fuse_session *se;
	pid_t child;			/* the server */
	char dir[64];
	char *buf;
	struct blk_wire wire;		/* its request buffer */
	int nul;			/* /dev/null, opened before mounting */
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

/* One process serves the mount: one buffer is enough. */
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

/*
 * The server is a child process, never a thread of the prober: a prober
 * that dies (a signal, a crash) while its read waits on the mount would
 * otherwise wait for an answer from itself, forever (D state, the mount
 * left behind).  The child answers whatever is in flight; when its parent
 * is gone (PR_SET_PDEATHSIG) it unmounts, removes the directory and ends,
 * which ends the connection.  The mount is made with auto_unmount, so
 * fusermount3 removes it too when both are gone (SIGKILL of both).
 * Signals meant for the user's process group are the parent's to act on.
 */
static char child_dir[64];

/* The parent is gone: unmount (root; else fusermount3's auto_unmount
 * does), remove the directory, end. */
static void parent_died(int sig)
{
	(void)sig;
	umount2(child_dir, MNT_DETACH);
	rmdir(child_dir);
	_exit(1);
}

static void serve_child(struct probe *p, pid_t parent)
{
	int err;

	memcpy(child_dir, p->dir, sizeof(child_dir));
	signal(SIGUSR2, parent_died);
	prctl(PR_SET_PDEATHSIG, SIGUSR2);
	if (getppid() != parent)
		parent_died(0);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	err = blk_wire_init(&p->wire, fuse_session_fd(p->se), 0, 0, 0);
	if (!err)
		err = blk_wire_serve(p->se, &p->wire, NULL, NULL);
	if (err && err != -ENODEV)
		blk_warn("%s: probe mount: %s", p->src->given, strerror(-err));
	_exit(err ? 1 : 0);
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

/*
 * Mounted with auto_unmount (through fusermount3), else without it (no
 * fusermount3: a crash then leaves the mount, as before).
 */
static int mount_it(struct probe *p)
{
	char prog[] = "blkfuse-probe", o[] = "-o",
	     opts[] = "ro,fsname=blkfuse-probe,subtype=blkfuse-probe,auto_unmount";

	for (int i = 0; i < 2; i++) {
		char *argv[] = { prog, o, opts, NULL };
		struct fuse_args args = FUSE_ARGS_INIT(3, argv);

		if (i == 1)	/* the same, without auto_unmount */
			*strrchr(opts, ',') = '\0';

		p->se = fuse_session_new(&args, &pm_ops, sizeof(pm_ops), p);
		fuse_opt_free_args(&args);
		if (p->se && fuse_session_mount(p->se, p->dir) == 0)
			return 0;
		if (p->se)
			fuse_session_destroy(p->se);
		p->se = NULL;
	}
	blk_err("%s: cannot mount the decoded media at %s to find its partitions",
		p->src->given, p->dir);
	return -EIO;
}

/*
 * The parent keeps no descriptor on the connection (its fd becomes
 * /dev/null, for fuse_session_unmount to close): if the child dies, the
 * connection ends and a read waiting on it fails instead of hanging.
 * /dev/null was opened before mounting, so that running out of
 * descriptors fails before anything is mounted.
 */
static int drop_connection(struct probe *p)
{
	int err = dup3(p->nul, fuse_session_fd(p->se), O_CLOEXEC) < 0 ?
		  -errno : 0;

	close(p->nul);
	p->nul = -1;
	return err;
}

static void stop(struct probe *p);

/*
 * Opens /dev/null and makes sure the descriptors the mount, its server
 * and the prober need are there (FD_HEADROOM, counted with room to
 * spare): a source that holds nearly every descriptor the process may
 * have (a split set of ~1000 segments) then fails here, naming the
 * source, before anything is mounted.
 */
#define FD_HEADROOM 8

static int open_nul(struct probe *p)
{
	int fds[FD_HEADROOM], n, err = 0;

	p->nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (p->nul < 0)
		return -errno;
	for (n = 0; n < FD_HEADROOM; n++) {
		fds[n] = fcntl(p->nul, F_DUPFD_CLOEXEC, 0);
		if (fds[n] < 0) {
			err = -errno;
			break;
		}
	}
	while (n--)
		close(fds[n]);
	if (err) {
		close(p->nul);
		p->nul = -1;
	}
	return err;
}

/* Mount and serve: 0, or -errno (printed). */
static int start(struct probe *p)
{
	pid_t parent = getpid();
	int err = make_dir(p);

	if (err) {
		blk_err("cannot make a directory for the probe mount: %s",
			strerror(-err));
		return err;
	}
	err = open_nul(p);
	if (err) {
		blk_err("%s: probe mount: %s", p->src->given, strerror(-err));
		goto out_rmdir;
	}
	err = mount_it(p);
	if (err) {
		close(p->nul);
		goto out_rmdir;
	}
	p->child = fork();
	if (p->child == 0)
		serve_child(p, parent);
	err = p->child < 0 ? -errno : drop_connection(p);
	if (!err)
		return 0;
	blk_err("%s: probe mount: %s", p->src->given, strerror(-err));
	stop(p);
	return err;
out_rmdir:
	rmdir(p->dir);
	return err;
}

/* Unmounting ends the child's loop; SIGKILL in case it is stuck. */
static void stop(struct probe *p)
{
	fuse_session_unmount(p->se);
	if (p->child > 0) {
		kill(p->child, SIGKILL);
		waitpid(p->child, NULL, 0);
	}
	fuse_session_destroy(p->se);
	rmdir(p->dir);
}

int blk_probe_layout(struct blk_source *src, struct blk_layout *lo)
{
	struct probe p = { .src = src, .nul = -1 };
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
