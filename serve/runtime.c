// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the daemon leaves outside its mount while it runs, and checks
 * before it mounts: the mount point, --pidfile, /run/blkfuse/NAME.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "ctx.h"
#include "base/log.h"
#include "serve/fs_files.h"
#include "serve/opens.h"
#include "serve/runtime.h"
#include "base/util.h"

struct mnt_search {
	const char *target;
	char source[512];
};

static int holds_blkfuse(const struct blk_mount *m, void *data)
{
	struct mnt_search *s = data;

	if (strcmp(m->target, s->target) || strcmp(m->fstype, "fuse.blkfuse"))
		return 0;
	snprintf(s->source, sizeof(s->source), "%s", m->source);
	return 1;
}

const char *blk_run_dir(void)
{
	static char dir[4096];
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0)
		return BLK_RUN_DIR;
	if (!xdg || xdg[0] != '/')
		return "";
	snprintf(dir, sizeof(dir), "%s/blkfuse", xdg);
	return dir;
}

int blk_mountpoint_check(const char *mnt)
{
	struct mnt_search s = { .target = mnt };
	struct dirent *de;
	DIR *d;

	if (blk_mountinfo_each(holds_blkfuse, &s) == 1) {
		blk_err("%s: already a blkfuse mount (of %s); unmount it first",
			mnt, s.source);
		return -EBUSY;
	}
	d = opendir(mnt);
	if (!d)
		return 0;	/* the mount itself will say why */
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			blk_warn("%s: mount point is not empty; what it holds is hidden while mounted",
				   mnt);
			break;
		}
	closedir(d);
	return 0;
}

/* Only the instance that wrote the pid file removes it: a second one that
 * fails (mount point busy, --verify mismatch) leaves the first one's. */
static bool pidfile_written;

int blk_pidfile_write(const char *path)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

	if (fd < 0 || write(fd, buf, len) != len) {
		int err = -errno;

		blk_err("--pidfile %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	close(fd);
	pidfile_written = true;
	return 0;
}

void blk_pidfile_remove(const char *path)
{
	if (path && pidfile_written && unlink(path) < 0 && errno != ENOENT)
		blk_warn("--pidfile %s: %s", path, strerror(errno));
}

/*
 * A registry entry is stale when what it points to is gone, sits in a
 * dead mount (statfs asks the daemon; stat may come from the kernel's
 * attribute cache), or points to the very control file this daemon now
 * serves: a daemon killed (SIGKILL) left it, and this one was mounted on
 * the same mount point (a live blkfuse mount there is refused).
 */
static bool entry_free(const char *path, const char *target)
{
	struct statfs sfs;
	char old[4200];
	ssize_t n;
	struct stat st;

	if (lstat(path, &st) < 0)
		return true;
	n = readlink(path, old, sizeof(old) - 1);
	if (n >= 0)
		old[n] = '\0';
	if (stat(path, &st) == 0 && (n < 0 || strcmp(old, target)) &&
	    (statfs(path, &sfs) == 0 ||
	     (errno != ENOTCONN && errno != ECONNABORTED)))
		return false;
	unlink(path);
	return true;
}

void blk_registry_add(const char *want, const char *target, char *buf,
		      size_t len)
{
	const char *dir = blk_run_dir();
	char base[49], path[4200];

	buf[0] = '\0';
	if (!dir[0]) {
		blk_info("not root and no XDG_RUNTIME_DIR: not registered by name; 'blkfuse ctl MOUNTPOINT' reaches it");
		return;
	}
	blk_name_mangle(base, sizeof(base), want, false);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		blk_warn("%s: %s; 'blkfuse ctl %s' will not find this mount by name",
			 dir, strerror(errno), base);
		return;
	}
	for (int i = 1; i < 100; i++) {
		if (i == 1)
			snprintf(buf, len, "%s", base);
		else
			snprintf(buf, len, "%s-%d", base, i);
		snprintf(path, sizeof(path), "%s/%s", dir, buf);
		if (!entry_free(path, target))
			continue;
		if (symlink(target, path) == 0)
			return;
		if (errno != EEXIST)
			break;
	}
	blk_warn("%s/%s: %s; 'blkfuse ctl %s' will not find this mount by name",
		 dir, buf, strerror(errno), base);
	buf[0] = '\0';
}

void blk_registry_remove(const char *name)
{
	char path[4200];

	if (!name || !name[0])
		return;
	snprintf(path, sizeof(path), "%s/%s", blk_run_dir(), name);
	if (unlink(path) < 0 && errno != ENOENT)
		blk_warn("%s: %s", path, strerror(errno));
}

static void log_holder(const struct blk_open_rec *r, void *data)
{
	struct blk_ctx *ctx = data;
	char name[300], comm[16];

	blk_fs_name(ctx, r->ino, name, sizeof(name));
	blk_opens_comm(r, comm, sizeof(comm));
	blk_notice("%s: %s still open by pid %u (%s), uid %u", ctx->mountpoint,
		   name, r->pid, comm, r->uid);
}

void blk_log_holders(struct blk_ctx *ctx)
{
	blk_opens_each(ctx->opens, log_holder, ctx);
}

/*
 * What could not start, and why; out of descriptors, the source's set is
 * the likely reason (a descriptor per segment): name it and its size.
 */
void blk_start_failed(const struct blk_ctx *ctx, const char *what, int err)
{
	const struct blk_image *im = ctx->src.img;
	struct rlimit rl = { 0 };

	if ((err == -EMFILE || err == -ENFILE) && im && im->nseg > 1) {
		getrlimit(RLIMIT_NOFILE, &rl);
		blk_err("%s: cannot start %s: %s (its set holds %u files open; the limit is %llu: ulimit -n)",
			ctx->src.given, what, strerror(-err), im->nseg,
			(unsigned long long)rl.rlim_cur);
	} else {
		blk_err("%s: cannot start %s: %s", ctx->src.given, what,
			strerror(-err));
	}
}
/* Nothing here uses select(): descriptors above 1023 are fine. */
void blk_nofile_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			blk_debug("RLIMIT_NOFILE: %s", strerror(errno));
	}
}

static unsigned long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned long n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

/*
 * Per worker a clone of /dev/fuse, a splice pipe and a container handle
 * or two; the rest (CUSE, audit, fusectl, probe) fits in 64.
 */
int blk_nofile_check(const char *source, unsigned int threads)
{
	unsigned long need = open_fds() + 64 + 8UL * threads;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    need <= rl.rlim_cur)
		return 0;
	blk_err("%s: %lu files open for the source leave too few of the %llu the daemon may open (ulimit -n) to serve (%s); raise the hard limit to %lu",
		source, open_fds(), (unsigned long long)rl.rlim_cur,
		strerror(EMFILE), need);
	return -EMFILE;
}
