// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Tunables that live in the kernel, read from and written to sysfs so that
 * what is shown is what the kernel has: the mount's readahead (its bdi,
 * read_ahead_kb) and fusectl's max_background, congestion_threshold,
 * waiting and abort.  Both are named by the mount's device number, found
 * in mountinfo once mounted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctx.h"
#include "base/log.h"
#include "base/util.h"

#define FUSECTL_DIR "/sys/fs/fuse/connections"

static int sysfs_read_u32(const char *path, uint32_t *val)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%u", val) == 1;
	fclose(f);
	return ok ? 0 : -EIO;
}

static int sysfs_write_u32(const char *path, uint32_t val)
{
	char buf[16];
	int fd, len, res = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%u", val);
	if (write(fd, buf, len) != len)
		res = -errno;
	close(fd);
	return res;
}

/* The bdi file, or -ENODEV before the device is known. */
static int bdi_path(const struct blk_ctx *ctx, char *buf, size_t len)
{
	if (!ctx->ctl->conn_dev[0])
		return -ENODEV;
	snprintf(buf, len, "/sys/class/bdi/%s/read_ahead_kb", ctx->ctl->conn_dev);
	return 0;
}

/* fusectl names a connection by the minor number of the mount's device. */
static int fusectl_path(const struct blk_ctx *ctx, const char *file,
			char *buf, size_t len)
{
	const char *minor = strchr(ctx->ctl->conn_dev, ':');

	if (!minor)
		return -ENODEV;
	snprintf(buf, len, FUSECTL_DIR "/%s/%s", minor + 1, file);
	return 0;
}

static void ensure_fusectl(void)
{
	struct stat st;

	if (stat(FUSECTL_DIR "/", &st) == 0 && st.st_nlink > 2)
		return;	/* mounted: it has a directory per connection */
	if (mount("fusectl", FUSECTL_DIR, "fusectl", 0, NULL) < 0 &&
	    errno != EBUSY)
		blk_warn("cannot mount fusectl on " FUSECTL_DIR ": %s",
			 strerror(errno));
}

static int fusectl_get(const struct blk_ctx *ctx, const char *file,
		       uint32_t *val)
{
	char path[128];
	int err = fusectl_path(ctx, file, path, sizeof(path));

	return err ? err : sysfs_read_u32(path, val);
}

int blk_ctl_get_kernel(struct blk_ctx *ctx, struct blkfuse_tunables *t)
{
	char path[128];
	int err = bdi_path(ctx, path, sizeof(path));

	if (!err)
		err = sysfs_read_u32(path, &t->readahead_kb);
	if (!err)
		err = fusectl_get(ctx, "max_background", &t->max_background);
	if (!err)
		err = fusectl_get(ctx, "congestion_threshold",
				  &t->congestion_threshold);
	return err;
}

int blk_ctl_set_readahead(struct blk_ctx *ctx, uint32_t kb)
{
	char path[128];
	int err = bdi_path(ctx, path, sizeof(path));

	return err ? err : sysfs_write_u32(path, kb);
}

int blk_ctl_set_fusectl(struct blk_ctx *ctx, const char *file, uint32_t val)
{
	char path[128];
	int err;

	ensure_fusectl();
	err = fusectl_path(ctx, file, path, sizeof(path));
	return err ? err : sysfs_write_u32(path, val);
}

int64_t blk_ctl_waiting(struct blk_ctx *ctx)
{
	uint32_t val;
	int err = fusectl_get(ctx, "waiting", &val);

	return err ? err : (int64_t)val;
}

int blk_ctl_abort_now(struct blk_ctx *ctx)
{
	return blk_ctl_set_fusectl(ctx, "abort", 1);
}

struct find_dev {
	const char *target;
	char *dev;
	size_t len;
};

/* The last mount on the target is ours (a mount on top would be later). */
static int match_target(const struct blk_mount *m, void *data)
{
	struct find_dev *fd = data;

	if (strcmp(m->target, fd->target) == 0 &&
	    strcmp(m->fstype, "fuse.blkfuse") == 0)
		snprintf(fd->dev, fd->len, "%u:%u", m->major, m->minor);
	return 0;
}

/* MAJ:MIN of our mount from mountinfo: stat()ing our own mount point from a
 * worker could wait on ourselves. */
void blk_ctl_mounted(struct blk_ctx *ctx)
{
	struct find_dev fd = {
		ctx->mountpoint, ctx->ctl->conn_dev, sizeof(ctx->ctl->conn_dev),
	};
	int err = blk_mountinfo_each(match_target, &fd);

	if (err)
		blk_warn("/proc/self/mountinfo: %s", strerror(-err));
	if (!ctx->ctl->conn_dev[0])
		blk_warn("%s: not found in mountinfo; readahead and fusectl tunables unavailable",
			 ctx->mountpoint);
	ensure_fusectl();
}
