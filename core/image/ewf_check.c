// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * An EWF1 segment file (E01, E02, ...): a 13-byte file header, then a
 * chain of sections, each led by a 76-byte descriptor (type, absolute
 * offset of the next descriptor, size, padding, Adler-32 of the first 72
 * bytes).  The chain ends with a "next" section (more segments follow) or
 * "done" (the last segment), whose next offset points at itself.  A file
 * cut short loses its end of the chain; that is said here, naming it.
 * Other layouts (EWF2, Ex01) are left to libewf.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "image/ewf_check.h"
#include "base/log.h"
#include "base/noatime.h"

#define EWF_FILE_HEADER 13
#define EWF_DESCRIPTOR 76
#define EWF_MAX_SECTIONS 1000000

static const unsigned char ewf1_magic[8] = "EVF\x09\x0d\x0a\xff\x00";

static uint32_t adler32(const unsigned char *p, size_t len)
{
	uint32_t a = 1, b = 0;

	for (size_t i = 0; i < len; i++) {
		a = (a + p[i]) % 65521;
		b = (b + a) % 65521;
	}
	return b << 16 | a;
}

/* Walk one file's chain: 0, or -EINVAL printed. */
static int walk(const char *name, int fd, uint64_t size)
{
	unsigned char d[EWF_DESCRIPTOR];
	uint64_t off = EWF_FILE_HEADER, next;

	for (int i = 0; i < EWF_MAX_SECTIONS; i++) {
		if (off + EWF_DESCRIPTOR > size ||
		    pread(fd, d, sizeof(d), off) != (ssize_t)sizeof(d)) {
			blk_err("%s: truncated EWF segment: %llu bytes, its section at byte %llu is cut off",
				name, (unsigned long long)size,
				(unsigned long long)off);
			return -EINVAL;
		}
		if (adler32(d, 72) != blk_le32(d + 72)) {
			blk_err("%s: corrupt EWF segment: the section descriptor at byte %llu fails its checksum",
				name, (unsigned long long)off);
			return -EINVAL;
		}
		next = blk_le64(d + 16);
		if (!strncmp((char *)d, "done", 16) ||
		    !strncmp((char *)d, "next", 16))
			return 0;
		if (next <= off) {
			blk_err("%s: corrupt EWF segment: the section at byte %llu points back to byte %llu",
				name, (unsigned long long)off,
				(unsigned long long)next);
			return -EINVAL;
		}
		off = next;
	}
	blk_err("%s: corrupt EWF segment: more than %d sections", name,
		EWF_MAX_SECTIONS);
	return -EINVAL;
}

int blk_ewf_check_sections(char **names, int n)
{
	for (int i = 0; i < n; i++) {
		unsigned char magic[8];
		struct stat st;
		int fd = blk_open_noatime(names[i], O_RDONLY | O_CLOEXEC |
					  O_NOCTTY | O_NONBLOCK);
		int err = 0;

		if (fd < 0) {
			err = -errno;
			blk_err("%s: %s", names[i], strerror(errno));
			return err;
		}
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    pread(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
		    !memcmp(magic, ewf1_magic, sizeof(magic)))
			err = walk(names[i], fd, st.st_size);
		close(fd);
		if (err)
			return err;
	}
	return 0;
}
