// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guarantees for evidence beyond O_RDONLY, on the source already open:
 *   --exclusive  an exclusive claim (O_EXCL on a block device, flock() on
 *                an image file), made on the served file itself, and a
 *                refusal to start if the source, one of its partitions, or
 *                a loop device over the image is mounted read-write;
 *   --set-ro     the kernel's read-only flag (BLKROSET) on the device and
 *                its partitions while mounted, restored afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "source.h"
#include "util.h"

/* A partition of the source: its sysfs parent is the whole disk. */
static bool is_partition_of(const struct blk_source *src, unsigned int maj,
			    unsigned int min)
{
	unsigned int pmaj, pmin;
	char path[128];
	bool ours;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/partition", maj, min);
	if (access(path, F_OK) != 0)
		return false;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/../dev", maj, min);
	f = fopen(path, "re");
	if (!f)
		return false;
	ours = fscanf(f, "%u:%u", &pmaj, &pmin) == 2 &&
	       makedev(pmaj, pmin) == src->st.st_rdev;
	fclose(f);
	return ours;
}

/* A loop device (or a partition of one) whose backing file is the image. */
static bool is_loop_over(const struct blk_source *src, unsigned int maj,
			 unsigned int min)
{
	char path[128], buf[PATH_MAX];
	bool ours = false;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/loop/backing_file", maj, min);
	f = fopen(path, "re");
	if (!f) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/../loop/backing_file",
			 maj, min);
		f = fopen(path, "re");
	}
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		ours = strcmp(src->path, buf) == 0;
	}
	fclose(f);
	return ours;
}

static int refuse_if_mounted_rw(const struct blk_mount *m, void *data)
{
	const struct blk_source *src = data;
	bool ours;

	if (!blk_has_option(m->options, "rw"))
		return 0;
	if (src->is_blockdev)
		ours = makedev(m->major, m->minor) == src->st.st_rdev ||
		       is_partition_of(src, m->major, m->minor);
	else
		ours = is_loop_over(src, m->major, m->minor);
	if (!ours)
		return 0;
	blk_err("%s: mounted read-write on %s; refusing (--exclusive)",
		src->given, m->target);
	return -EBUSY;
}

/* O_EXCL through /proc/self/fd: the claim is on the file being served. */
static int claim_blockdev(struct blk_source *src)
{
	char fdpath[64];
	struct stat st;
	int fd;

	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", src->fd);
	fd = open(fdpath, O_RDONLY | O_EXCL | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_rdev != src->st.st_rdev) {
		int err = fd < 0 ? errno : EXDEV;

		if (fd >= 0)
			close(fd);
		blk_err("%s: cannot claim exclusively: %s", src->given,
			strerror(err));
		return -err;
	}
	/* The claim lasts while fd is open: serve from it. */
	close(src->fd);
	src->fd = fd;
	snprintf(src->opened, sizeof(src->opened), "O_RDONLY|O_EXCL");
	return 0;
}

/* flock(LOCK_EX) without waiting: 0, or -1 (errno) printed. */
static int lock_file(int fd, const char *path)
{
	int err;

	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	err = errno;
	blk_err("%s: cannot lock exclusively: %s", path,
		err == EWOULDBLOCK ? "locked by another process" : strerror(err));
	errno = err;
	return -1;
}

int blk_source_exclusive(struct blk_source *src)
{
	int res = blk_mountinfo_each(refuse_if_mounted_rw, src);

	if (res < 0 && res != -EBUSY) {
		blk_err("/proc/self/mountinfo: %s", strerror(-res));
		return res;
	}
	if (res)
		return res;
	if (src->is_blockdev)
		return claim_blockdev(src);
	if (lock_file(src->fd, src->given) < 0)
		return -errno;
	/* the other files of a snapshot chain (the top is src->fd: a second
	 * lock of it through another open would fail against the first) */
	for (unsigned int i = 1; src->img && i < src->img->nseg; i++)
		if (src->img->seg[i].role && src->img->seg[i].fd >= 0 &&
		    lock_file(src->img->seg[i].fd, src->img->seg[i].path) < 0)
			return -errno;
	snprintf(src->opened, sizeof(src->opened), "O_RDONLY, flock(LOCK_EX)");
	return 0;
}

/* ---- --set-ro --------------------------------------------------------------- */

struct ro_dev {
	char path[PATH_MAX];	/* what is opened for the ioctl */
	char name[PATH_MAX];	/* what messages say */
	int was_ro;
};

static struct ro_dev *ro_devs;
static size_t ro_count;

/* Remember a device and its flag now: a partition reports its disk's flag
 * too, so every flag must be read before any is set. */
static int remember(const char *path, const char *name)
{
	struct ro_dev *d;
	int fd, was = 0;

	d = realloc(ro_devs, (ro_count + 1) * sizeof(*ro_devs));
	if (!d)
		return -ENOMEM;
	ro_devs = d;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, BLKROGET, &was) < 0) {
		int err = -errno;

		blk_err("%s: %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	close(fd);
	d = &ro_devs[ro_count++];
	snprintf(d->path, sizeof(d->path), "%s", path);
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->was_ro = was;
	return 0;
}

static int set_flag(const char *path, int on)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int res = fd < 0 ? -1 : ioctl(fd, BLKROSET, &on);
	int err = errno;

	if (fd >= 0)
		close(fd);
	errno = err;
	return res;
}

int blk_source_set_ro(const struct blk_source *src)
{
	char sys[128], dev[300], self[64];
	struct dirent *de;
	DIR *dir;
	int err;

	if (!src->is_blockdev) {
		blk_err("%s: --set-ro needs a block device", src->given);
		return -EINVAL;
	}
	/* The disk through the served file itself; partitions by name. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", src->fd);
	err = remember(self, src->path);
	if (err)
		return err;
	/* Partitions are subdirectories of the disk's sysfs directory. */
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u",
		 major(src->st.st_rdev), minor(src->st.st_rdev));
	dir = opendir(sys);
	while (dir && (de = readdir(dir))) {
		char part[400];

		snprintf(part, sizeof(part), "%s/%s/partition", sys, de->d_name);
		if (access(part, F_OK) != 0)
			continue;
		snprintf(dev, sizeof(dev), "/dev/%s", de->d_name);
		err = remember(dev, dev);
		if (err)
			break;
	}
	if (dir)
		closedir(dir);
	for (size_t i = 0; !err && i < ro_count; i++) {
		if (set_flag(ro_devs[i].path, 1) < 0) {
			err = -errno;
			blk_err("%s: cannot set read-only: %s", ro_devs[i].name,
				strerror(errno));
			break;
		}
		blk_notice("%s: read-only flag set (it was %s)", ro_devs[i].name,
			   ro_devs[i].was_ro ? "already on" : "off");
	}
	return err;
}

void blk_source_restore_ro(void)
{
	/* Partitions first: their flag reads as on while the disk's is. */
	for (size_t i = ro_count; i-- > 0;) {
		struct ro_dev *d = &ro_devs[i];

		if (set_flag(d->path, d->was_ro) < 0)
			blk_warn("%s: cannot restore the read-only flag: %s",
				 d->name, strerror(errno));
		else
			blk_info("%s: read-only flag restored to %s", d->name,
				 d->was_ro ? "on" : "off");
	}
	free(ro_devs);
	ro_devs = NULL;
	ro_count = 0;
}
