// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guarantees for evidence beyond O_RDONLY:
 *   --exclusive  an exclusive claim on the source (O_EXCL on a block
 *                device, flock() on an image file), and a refusal to start
 *                if the source, one of its partitions, or a loop device
 *                over the image file is mounted read-write anywhere;
 *   --set-ro     the kernel's read-only flag (BLKROSET) on the device and
 *                its partitions while mounted, restored afterwards;
 * and what runs before the mount appears and after it is gone: --verify,
 * the audit trail's start and stop records, --verify-after.
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

#include "blkfuse.h"
#include "blkfuse_hash.h"

/* Is device MAJ:MIN ours: the source, a partition of it, or a loop device
 * backed by the source file? */
static bool dev_is_ours(const struct blk_source *src, unsigned int maj,
			unsigned int min)
{
	char path[128], buf[PATH_MAX], *real;
	unsigned int pmaj, pmin;
	FILE *f;
	bool ours = false;

	if (src->is_blockdev) {
		if (makedev(maj, min) == src->st.st_rdev)
			return true;
		/* a partition: its parent directory is the whole disk */
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/../dev", maj, min);
		f = fopen(path, "re");
		if (!f)
			return false;
		ours = fscanf(f, "%u:%u", &pmaj, &pmin) == 2 &&
		       makedev(pmaj, pmin) == src->st.st_rdev &&
		       access(path, F_OK) == 0;
		fclose(f);
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/partition", maj, min);
		return ours && access(path, F_OK) == 0;
	}
	/* a loop device (or a partition of one) over the image file */
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
		real = realpath(src->path, NULL);
		ours = real && strcmp(real, buf) == 0;
		free(real);
	}
	fclose(f);
	return ours;
}

/* Refuse if mounted read-write anywhere (mountinfo field 6: options). */
static int check_not_mounted_rw(const struct blk_source *src)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mnt[2048], opts[512];
	unsigned int maj, min;
	int res = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %u:%u %*s %2047s %511s", &maj, &min,
			   mnt, opts) != 4)
			continue;
		if (strncmp(opts, "rw", 2) || (opts[2] && opts[2] != ','))
			continue;
		if (dev_is_ours(src, maj, min)) {
			blk_err("%s: mounted read-write on %s; refusing (--exclusive)",
				src->path, mnt);
			res = -1;
			break;
		}
	}
	fclose(f);
	return res;
}

int blk_source_exclusive(struct blk_source *src)
{
	int fd;

	if (check_not_mounted_rw(src))
		return -1;
	if (src->is_blockdev) {
		/* The claim: fails with EBUSY while anyone else holds one. */
		fd = open(src->path, O_RDONLY | O_EXCL | O_CLOEXEC);
		if (fd < 0) {
			blk_err("%s: cannot claim exclusively: %s", src->path,
				strerror(errno));
			return -1;
		}
		close(src->fd);
		src->fd = fd;
		snprintf(src->opened, sizeof(src->opened), "O_RDONLY|O_EXCL");
		return 0;
	}
	if (flock(src->fd, LOCK_EX | LOCK_NB) < 0) {
		blk_err("%s: cannot lock exclusively: %s", src->path,
			errno == EWOULDBLOCK ? "locked by another process" :
			strerror(errno));
		return -1;
	}
	snprintf(src->opened, sizeof(src->opened), "O_RDONLY, flock(LOCK_EX)");
	return 0;
}

/* ---- start and stop -------------------------------------------------------- */

/* --verify, --audit, --set-ro: everything before the mount appears. */
int blk_forensic_start(struct blk_ctx *ctx, const struct blk_forensic_opts *cfg)
{
	char got[128] = "", opts[2048] = "", esc[4096];
	char src_esc[1024], mnt_esc[1024];
	size_t used = 0;

	if (cfg->verify) {
		int res = blk_hash_verify(&ctx->src, cfg->verify, got, sizeof(got));

		if (res < 0)
			return EXIT_FAILURE;
		if (res > 0) {
			blk_err("%s: hash mismatch: expected %s, found %s; not mounting",
				ctx->src.path, cfg->verify, got);
			return BLK_EXIT_VERIFY;
		}
		blk_notice("%s: verified %s", ctx->src.path, got);
	}
	if (cfg->audit) {
		if (blk_audit_open(ctx, cfg->audit) != 0)
			return EXIT_FAILURE;
		for (int i = 1; i < cfg->argc && used < sizeof(opts) - 1; i++)
			used += snprintf(opts + used, sizeof(opts) - used, "%s%s",
					 i > 1 ? " " : "", cfg->argv[i]);
		blk_json_escape(esc, sizeof(esc), opts);
		blk_json_escape(src_esc, sizeof(src_esc), ctx->src.path);
		blk_json_escape(mnt_esc, sizeof(mnt_esc), cfg->mountpoint);
		blk_audit_record(ctx, "start",
			"\"version\":\"%s\",\"pid\":%d,\"source\":\"%s\",\"size\":%llu,\"sector_size\":%u,\"opened\":\"%s\",\"table\":\"%s\",\"verified\":\"%s\",\"mountpoint\":\"%s\",\"command\":\"%s\"",
			BLKFUSE_VERSION, (int)getpid(), src_esc,
			(unsigned long long)ctx->src.size, ctx->src.sector_size,
			ctx->src.opened, ctx->layout.pttype, got,
			mnt_esc, esc);
		blk_audit_flush(ctx);
	}
	if (cfg->set_ro && blk_source_set_ro(&ctx->src) != 0)
		return EXIT_FAILURE;
	return EXIT_SUCCESS;
}

/* "sha256:HEX" of the whole source into got; -1 on error (printed). */
static int hash_sha256(const struct blk_source *src, char *got, size_t len)
{
	struct blk_hash_range r = { .name = "disk", .size = src->size };
	char hex[2 * BLK_HASH_MAX_LEN + 1];

	if (blk_hash_ranges(src, &r, 1, 1u << BLK_HASH_SHA256, false) != 0)
		return -1;
	blk_hash_hex(hex, r.md[BLK_HASH_SHA256], BLK_HASH_SHA256);
	snprintf(got, len, "sha256:%s", hex);
	return 0;
}

void blk_forensic_stop(struct blk_ctx *ctx, const struct blk_forensic_opts *cfg,
		       int ret)
{
	char got[128] = "";
	int res = 0;

	blk_source_restore_ro();
	if (cfg->verify_after && ret == EXIT_SUCCESS) {	/* it was mounted */
		/* with --verify, the same algorithm and hash; else sha256 */
		if (cfg->verify)
			res = blk_hash_verify(&ctx->src, cfg->verify, got,
					      sizeof(got));
		else
			res = hash_sha256(&ctx->src, got, sizeof(got));
		if (res >= 0)
			blk_notice("%s: after unmount: %s%s", ctx->src.path, got,
				   !cfg->verify ? "" : res ? " (MISMATCH)" : " (matches)");
	}
	if (ctx->audit) {
		blk_audit_record(ctx, "stop",
			"\"exit\":%d,\"read_requests\":%llu,\"read_bytes\":%llu,\"zeroed_bytes\":%llu,\"verify_after\":\"%s\",\"verify_after_matches\":%s",
			ret, (unsigned long long)(atomic_load(&ctx->stats.spliced_reqs) +
						  atomic_load(&ctx->stats.copied_reqs)),
			(unsigned long long)atomic_load(&ctx->stats.read_bytes),
			(unsigned long long)atomic_load(&ctx->stats.zeroed_bytes),
			got, !cfg->verify || !got[0] ? "null" : res ? "false" : "true");
		blk_audit_close(ctx);
	}
}

/* ---- --set-ro --------------------------------------------------------------- */

struct ro_dev {
	char path[PATH_MAX];
	int was_ro;
};

static struct ro_dev *ro_devs;
static size_t ro_count;

/* Remember a device and its flag now: a partition reports its disk's flag
 * too, so every flag must be read before any is set. */
static int remember(const char *path)
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

		blk_err("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	close(fd);
	d = &ro_devs[ro_count++];
	snprintf(d->path, sizeof(d->path), "%s", path);
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
	char sys[128], dev[300];
	struct dirent *de;
	DIR *dir;
	int err;

	if (!src->is_blockdev) {
		blk_err("%s: --set-ro needs a block device", src->path);
		return -EINVAL;
	}
	err = remember(src->path);
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
		err = remember(dev);
		if (err)
			break;
	}
	if (dir)
		closedir(dir);
	for (size_t i = 0; !err && i < ro_count; i++) {
		if (set_flag(ro_devs[i].path, 1) < 0) {
			err = -errno;
			blk_err("%s: cannot set read-only: %s", ro_devs[i].path,
				strerror(errno));
			break;
		}
		blk_notice("%s: read-only flag set (it was %s)", ro_devs[i].path,
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
				 d->path, strerror(errno));
		else
			blk_info("%s: read-only flag restored to %s", d->path,
				 d->was_ro ? "on" : "off");
	}
	free(ro_devs);
	ro_devs = NULL;
	ro_count = 0;
}
