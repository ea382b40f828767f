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
#include "log.h"
#include "volume/cs_glue.h"

#define COPY_CHUNK (1u << 20)

static void cs_log(int level, const char *msg, void *usrptr)
{
	(void)usrptr, (void)level;
	blk_debug("libcryptsetup: %.*s", (int)strcspn(msg, "\n"), msg);
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
