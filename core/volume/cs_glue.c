// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libcryptsetup over a memfd copy of a volume's metadata (cs_glue.h).  Its
 * messages go to the debug log: they name the memfd, not the volume, and
 * the caller says what failed in the user's words.
 */
#ifdef HAVE_LIBCRYPTSETUP
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libcryptsetup.h>

#include "layer/layer.h"
#include "base/log.h"
#include "volume/cs_glue.h"

#define COPY_CHUNK (1u << 20)

/* The first error libcryptsetup gave this thread since blk_cs_load began,
 * with the memfd's path taken out: it is not a name the user knows. */
static __thread char last_err[160];

static void keep_error(const char *msg)
{
	const char *p = strstr(msg, "/proc/self/fd/");
	size_t n = p ? (size_t)(p - msg) : strlen(msg);

	if (last_err[0])
		return;
	if (n >= 7 && !strncmp(p ? p - 7 : msg, "Device ", 7))
		n -= 7;		/* "Device /proc/self/fd/5 is" -> "volume is" */
	snprintf(last_err, sizeof(last_err), "%.*s", (int)n, msg);
	if (p) {
		p += strspn(p + 14, "0123456789") + 14;
		n = strlen(last_err);
		snprintf(last_err + n, sizeof(last_err) - n, "volume%s", p);
	}
	last_err[strcspn(last_err, "\n")] = '\0';
	n = strlen(last_err);
	if (n && last_err[n - 1] == '.')
		last_err[n - 1] = '\0';
}

static void cs_log(int level, const char *msg, void *usrptr)
{
	(void)usrptr;
	if (level == CRYPT_LOG_ERROR)
		keep_error(msg);
	blk_debug("libcryptsetup: %.*s", (int)strcspn(msg, "\n"), msg);
}

const char *blk_cs_error(void)
{
	return last_err[0] ? last_err : NULL;
}

static void cs_setup(void)
{
	crypt_set_log_callback(NULL, cs_log, NULL);
	/* the memfd is private: no lock files under /run/cryptsetup */
	crypt_metadata_locking(NULL, 0);
}

int blk_cs_memfd(const struct blk_layer *below)
{
	int fd = memfd_create("blkfuse-crypt-metadata", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)below->size) != 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int blk_cs_copy(int fd, struct blk_layer *below, uint64_t off, uint64_t len)
{
	char *buf;
	int err = 0;

	if (off >= below->size)
		return 0;
	if (len > below->size - off)
		len = below->size - off;
	buf = malloc(COPY_CHUNK);
	if (!buf)
		return -ENOMEM;
	while (len && !err) {
		size_t n = len < COPY_CHUNK ? len : COPY_CHUNK;
		uint64_t bad;

		err = blk_layer_read(below, buf, n, off, &bad);
		if (!err && pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
			err = -EIO;
		off += n, len -= n;
	}
	free(buf);
	return err;
}

int blk_cs_load(struct crypt_device **cd, int fd, const char *type)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	char path[64];
	int err;

	pthread_once(&once, cs_setup);
	last_err[0] = '\0';
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err = crypt_init(cd, path);
	if (err < 0)
		return err;
	crypt_set_log_callback(*cd, cs_log, NULL);
	err = crypt_load(*cd, type, NULL);
	if (err < 0) {
		crypt_free(*cd);
		*cd = NULL;
	}
	return err;
}
#endif /* HAVE_LIBCRYPTSETUP */
