/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers every part of blkfuse uses, each written once: the clock,
 * sizes with suffixes, latency percentiles, JSON strings, mountinfo.
 */
#ifndef BLK_UTIL_H
#define BLK_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BLKFUSE_VERSION "0.2.0"

#define BLK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* CLOCK_MONOTONIC in nanoseconds and in seconds. */
uint64_t blk_mono_ns(void);
double blk_mono_s(void);

/*
 * "4096", "64k", "8M", "1g" (powers of 1024, any case) into *val.
 * 0, or -EINVAL for anything else, including a value that overflows.
 */
int blk_size_parse(const char *s, uint64_t *val);

/* "512B", "8M", "1.5G": what lsblk and partx print. */
void blk_size_human(char *buf, size_t len, uint64_t bytes);

/*
 * Latency histograms: bucket i counts events that took < 2^i microseconds.
 * The upper bound (us) of the bucket holding fraction p of the events in
 * (now - before); before may be NULL.  0 when there are none.
 */
uint64_t blk_percentile(const uint64_t *now, const uint64_t *before,
			unsigned int nbuckets, double p);

/*
 * JSON string contents (without the quotes) for s: '"', '\\' and control
 * characters escaped, valid UTF-8 kept, every byte that is not valid
 * UTF-8 replaced by U+FFFD, so that strict parsers accept the output.
 * blk_json_escape truncates at a character boundary to fit len.
 * blk_json_invalid tells whether s needed replacements.
 */
void blk_json_escape(char *dst, size_t len, const char *s);
/* s escaped whole, in a new string (free it); NULL without memory. */
char *blk_json_dup(const char *s);
void blk_json_fputs(FILE *f, const char *s);	/* with the quotes */
bool blk_json_invalid(const char *s);

/* Bytes of the valid UTF-8 sequence at s (1 for ASCII), 0 when invalid
 * (overlong, surrogate, past U+10FFFF, cut short). */
size_t blk_utf8_len(const unsigned char *s);
/* Lowercase hex of len bytes; out holds 2 * len + 1. */
void blk_hex(char *out, const void *data, size_t len);

/*
 * A name safe for /dev and /run/blkfuse: every byte but [A-Za-z0-9._-]
 * (and '/' when keep_slash: a CUSE subdirectory) becomes '_'; cut to fit
 * len.  The one rule 'blkfuse ctl NAME' and the daemon both apply.
 */
void blk_name_mangle(char *dst, size_t len, const char *name, bool keep_slash);

/* CPUs the kernel may bring up (/sys/devices/system/cpu/possible): the
 * highest number + 1, or 0 when it cannot say. */
unsigned int blk_possible_cpus(void);
/* Run the calling thread on cpu (best effort: an offline CPU is fine). */
void blk_pin_to_cpu(unsigned int cpu);
/* len bytes of zeroed anonymous memory, page aligned; NULL on failure. */
void *blk_map_pages(size_t len);

/* Exactly len bytes at off of fd (EINTR retried): 0, -errno, or -EIO
 * when the file ends first. */
int blk_pread_all(int fd, void *buf, size_t len, uint64_t off);

/* The kernel's page size (pipe buffers are counted in pages). */
size_t blk_page_size(void);

/* Integers stored big- or little-endian in on-disk structures. */
static inline uint64_t blk_get_be(const void *p, unsigned int bytes)
{
	const unsigned char *b = p;
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v = v << 8 | b[i];
	return v;
}
static inline uint64_t blk_get_le(const void *p, unsigned int bytes)
{
	const unsigned char *b = p;
	uint64_t v = 0;

	for (unsigned int i = bytes; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}
#define blk_be32(p) ((uint32_t)blk_get_be((p), 4))
#define blk_be64(p) blk_get_be((p), 8)
#define blk_le16(p) ((uint16_t)blk_get_le((p), 2))
#define blk_le32(p) ((uint32_t)blk_get_le((p), 4))
#define blk_le64(p) blk_get_le((p), 8)

/*
 * Text for a terminal: control characters and invalid UTF-8 bytes as \xNN,
 * so a partition name cannot move the cursor or change colours.
 */
void blk_text_escape(char *dst, size_t len, const char *s);

/* One line of /proc/self/mountinfo, octal escapes (\040) decoded. */
struct blk_mount {
	unsigned int major, minor;
	const char *root;
	const char *target;	/* the mount point */
	const char *options;	/* per-mount: "ro,nosuid,..." */
	const char *fstype;	/* "fuse.blkfuse", "ext4" */
	const char *source;
	const char *super_options;
};

/*
 * Call fn for each mount until it returns non-zero; that value is
 * returned (0 after the last).  -errno when mountinfo cannot be read.
 */
int blk_mountinfo_each(int (*fn)(const struct blk_mount *m, void *data),
		       void *data);

/* Is opt (e.g. "rw") one of the comma-separated options in list? */
bool blk_has_option(const char *list, const char *opt);

#endif /* BLK_UTIL_H */
