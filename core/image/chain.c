// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Snapshot chains (chain.h): a QCOW2 overlay on its backing file, on its
 * backing file..., down to a base that is a QCOW2 without one, a raw file
 * or any container blkfuse reads.  A read goes to the highest level that
 * holds the cluster; past a lower level's end it reads zeros, as qemu
 * does.  qemu-img convert -O raw of the top is the oracle in the tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/chain.h"
#include "image/chain_qcow.h"
#include "base/log.h"
#include "base/util.h"

#define CHAIN_MAX 16

struct level {
	char *path;		/* absolute, resolved */
	int fd;			/* blkfuse's, O_RDONLY (owned by im->seg) */
	uint64_t size;		/* media bytes */
	bool qcow;		/* a QCOW2 level (map), else the base */
	struct blk_qcow_map map;
	struct blk_image *img;	/* a base that is a container, or NULL */
};

struct chain {
	unsigned int n;
	struct level lv[CHAIN_MAX];
};

/* One thread's handles, a level each (NULL: read with pread). */
struct chain_h {
	struct chain *c;
	void *h[CHAIN_MAX];
};

/* ---- where a parent may be ---------------------------------------------- */

static char **allowed;
static unsigned int nallowed;

int blk_chain_allow_dir(const char *dir)
{
	char *real = realpath(dir, NULL), **n;

	if (!real) {
		blk_err("--backing-dir %s: %s", dir, strerror(errno));
		return -errno;
	}
	n = realloc(allowed, (nallowed + 1) * sizeof(*n));
	if (!n) {
		free(real);
		return -ENOMEM;
	}
	allowed = n;
	allowed[nallowed++] = real;
	return 0;
}

void blk_chain_allow_reset(void)
{
	while (nallowed)
		free(allowed[--nallowed]);
	free(allowed);
	allowed = NULL;
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return true;
	return !strncmp(path, dir, n) && path[n] == '/';
}

/* The folder of an absolute path, in a new string. */
static char *folder(const char *path)
{
	char *copy = strdup(path), *dir;

	if (!copy)
		return NULL;
	dir = strdup(dirname(copy));
	free(copy);
	return dir;
}

/*
 * The parent that child names: relative names from child's folder, as qemu
 * resolves them; it must exist and lie in the top's folder or an allowed
 * one.  *out: the resolved path.  0, or -errno printed.
 */
int blk_chain_resolve(const char *top, const char *child, const char *name,
		      char **out)
{
	char *cdir = folder(child), *tdir = folder(top), *cand = NULL;
	char esc[1024];
	int err = 0;

	*out = NULL;
	blk_text_escape(esc, sizeof(esc), name);
	if (!cdir || !tdir || asprintf(&cand, "%s%s%s", name[0] == '/' ? "" : cdir,
				       name[0] == '/' ? "" : "/", name) < 0) {
		cand = NULL;
		err = -ENOMEM;
	} else if (!(*out = realpath(cand, NULL))) {
		err = -errno;
		blk_err("%s: backing file %s: %s", child, esc, strerror(-err));
	} else {
		bool ok = under(*out, tdir);

		for (unsigned int i = 0; !ok && i < nallowed; i++)
			ok = under(*out, allowed[i]);
		if (!ok) {
			blk_err("%s: backing file %s lies outside %s; not followed (--backing-dir DIR allows another folder)",
				child, esc, tdir);
			free(*out);
			*out = NULL;
			err = -EPERM;
		}
	}
	free(cdir);
	free(tdir);
	free(cand);
	return err;
}

/* ---- reading ------------------------------------------------------------- */

static int level_read(struct chain_h *ch, unsigned int i, char *buf,
		      size_t len, uint64_t off, uint64_t *bad);

/* The base: a container (decoded, or mapped to its files) or raw. */
static int base_read(struct chain_h *ch, unsigned int i, char *buf,
		     size_t len, uint64_t off, uint64_t *bad)
{
	struct level *lv = &ch->c->lv[i];
	struct blk_extent e;
	int err;

	if (!lv->img)
		return blk_pread_all(lv->fd, buf, len, off);
	if (ch->h[i])
		return lv->img->ops->handle_read(ch->h[i], buf, len, off, bad);
	while (len) {
		err = lv->img->ops->map(lv->img, off, &e);
		if (err)
			return err;
		if (e.len > len)
			e.len = len;
		err = blk_pread_all(e.fd, buf, e.len, e.off);
		if (err)
			return err;
		buf += e.len;
		len -= e.len;
		off += e.len;
	}
	return 0;
}

/* One run of clusters in the same state, at most len bytes. */
static int qcow_run(struct chain_h *ch, unsigned int i, char *buf,
		    size_t len, uint64_t off, uint64_t *bad)
{
	struct level *lv = &ch->c->lv[i];
	uint64_t cs = 1ULL << lv->map.cbits;
	size_t run = cs - (off & (cs - 1));
	int st = blk_qcow_map_state(&lv->map, off), err;

	if (st < 0)
		return st;
	while (run < len && blk_qcow_map_state(&lv->map, off + run) == st)
		run += cs;
	if (run > len)
		run = len;
	if (st == BLK_QCOW_DATA) {
		err = blk_img_qcow_level_read(ch->h[i], buf, run, off);
		if (err && bad)
			*bad = off;
	} else if (st == BLK_QCOW_BELOW && i + 1 < ch->c->n) {
		err = level_read(ch, i + 1, buf, run, off, bad);
	} else {
		memset(buf, 0, run);	/* a zero cluster, or none below */
		err = 0;
	}
	return err ? err : (int)(run > INT32_MAX ? INT32_MAX : run);
}

static int level_read(struct chain_h *ch, unsigned int i, char *buf,
		      size_t len, uint64_t off, uint64_t *bad)
{
	struct level *lv = &ch->c->lv[i];
	size_t in = off >= lv->size ? 0 : lv->size - off < len ?
		    lv->size - off : len;
	int n;

	memset(buf + in, 0, len - in);	/* past this level's end */
	if (!lv->qcow)
		return in ? base_read(ch, i, buf, in, off, bad) : 0;
	while (in) {
		n = qcow_run(ch, i, buf, in, off, bad);
		if (n < 0)
			return n;
		buf += n;
		in -= n;
		off += n;
	}
	return 0;
}

static int chain_read(void *h, void *buf, size_t len, uint64_t off,
		      uint64_t *bad)
{
	return level_read(h, 0, buf, len, off, bad);
}

static void chain_handle_close(void *p)
{
	struct chain_h *ch = p;

	for (unsigned int i = 0; i < ch->c->n; i++) {
		struct level *lv = &ch->c->lv[i];

		if (!ch->h[i])
			continue;
		if (lv->qcow)
			blk_img_qcow_level_close(ch->h[i]);
		else
			lv->img->ops->handle_close(ch->h[i]);
	}
	free(ch);
}

static void *chain_handle_open(struct blk_image *im)
{
	struct chain *c = im->priv;
	struct chain_h *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	ch->c = c;
	for (unsigned int i = 0; i < c->n; i++) {
		struct level *lv = &c->lv[i];

		if (lv->qcow)
			ch->h[i] = blk_img_qcow_level_open(lv->path, NULL);
		else if (blk_image_decodes(lv->img))
			ch->h[i] = lv->img->ops->handle_open(lv->img);
		else
			continue;
		if (!ch->h[i]) {
			chain_handle_close(ch);
			errno = EIO;
			return NULL;
		}
	}
	return ch;
}

static void chain_free(struct blk_image *im)
{
	struct chain *c = im->priv;

	if (!c)
		return;
	for (unsigned int i = 0; i < c->n; i++) {
		blk_qcow_map_free(&c->lv[i].map);
		blk_image_close(c->lv[i].img);
		free(c->lv[i].path);
	}
	free(c);
	im->priv = NULL;
}

static const struct blk_image_ops chain_ops = {
	.name		= "qcow2",
	.handle_open	= chain_handle_open,
	.handle_read	= chain_read,
	.handle_close	= chain_handle_close,
	.free_priv	= chain_free,
};

/* ---- opening ------------------------------------------------------------- */

/* qemu's format names for the base, as blkfuse's --format words. */
static const char *base_format(const char *qemu_fmt)
{
	if (!qemu_fmt)
		return "auto";
	if (!strcmp(qemu_fmt, "vpc"))
		return "vhd";
	return qemu_fmt;
}

int blk_chain_add_file(struct blk_image *im, const char *path,
		       const char *role, struct stat *st)
{
	struct blk_segment *s = &im->seg[im->nseg];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), err;

	if (fd < 0 || fstat(fd, st) < 0) {
		err = errno;
		blk_err("%s: %s", path, strerror(err));
		if (fd >= 0)
			close(fd);
		return -err;
	}
	memset(s, 0, sizeof(*s));
	s->path = strdup(path);
	s->fd = fd;
	s->size = st->st_size;
	s->role = role;
	im->nseg++;
	if (!s->path)
		return -ENOMEM;
	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode)) {
		blk_err("%s: not a regular file or block device", path);
		return -EINVAL;
	}
	return fd;
}

/* Level i's file, opened and fstat'ed, a segment of im: 0 or -errno. */
static int add_file(struct blk_image *im, struct level *lv, const char *role,
		    struct stat *st)
{
	int fd = blk_chain_add_file(im, lv->path, role, st);

	if (fd < 0)
		return fd;
	lv->fd = fd;
	return 0;
}

/* The base (not QCOW2): a container blkfuse reads, or raw. */
static int open_base(struct level *lv, const char *fmt, uint64_t fsize)
{
	int err;

	if (!strcmp(fmt, "raw"))
		err = 0;
	else
		err = blk_image_open(&lv->img, lv->path, lv->fd, fsize, fmt);
	lv->size = lv->img ? lv->img->size : fsize;
	return err;
}

/* Level i: its map, its backing file's resolved path in *next (NULL at
 * the base).  0 or -errno printed. */
static int open_level(struct blk_image *im, struct chain *c, unsigned int i,
		      const char *fmt, char **next)
{
	struct level *lv = &c->lv[i];
	struct stat st, prev;
	void *h;
	int err;

	*next = NULL;
	err = add_file(im, lv, i ? "backing" : "top", &st);
	for (unsigned int j = 0; !err && j < i; j++)
		if (fstat(c->lv[j].fd, &prev) == 0 && prev.st_dev == st.st_dev &&
		    prev.st_ino == st.st_ino) {
			blk_err("%s: the backing chain loops back to %s",
				c->lv[i - 1].path, lv->path);
			err = -ELOOP;
		}
	if (err)
		return err;
	err = strcmp(fmt, "raw") ? blk_qcow_map_open(&lv->map, lv->fd, lv->path)
				 : -ENOENT;
	if (err == -ENOENT)
		return open_base(lv, fmt, S_ISREG(st.st_mode) ? st.st_size :
				 (uint64_t)lseek(lv->fd, 0, SEEK_END));
	if (err)
		return err;
	lv->qcow = true;
	/* through libqcow once, now: its own checks (encryption) */
	h = blk_img_qcow_level_open(lv->path, &lv->size);
	if (!h)
		return -errno;
	blk_img_qcow_level_close(h);
	if (!lv->map.backing)
		return 0;
	return blk_chain_resolve(c->lv[0].path, lv->path, lv->map.backing, next);
}

static int open_chain(struct blk_image *im, struct chain *c, const char *path)
{
	const char *fmt = "qcow2";
	char *next = strdup(path);
	int err = next ? 0 : -ENOMEM;

	while (!err && next) {
		if (c->n == CHAIN_MAX) {
			blk_err("%s: a backing chain deeper than %d files",
				path, CHAIN_MAX);
			free(next);
			return -ELOOP;
		}
		c->lv[c->n].path = next;
		c->lv[c->n].fd = -1;
		err = open_level(im, c, c->n++, fmt, &next);
		if (!err && next)
			fmt = base_format(c->lv[c->n - 1].map.backing_fmt);
	}
	return err;
}

int blk_chain_qcow_hook(struct blk_image *im, const char *path)
{
	struct blk_qcow_map probe;
	struct chain *c;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return 1;		/* the driver says why */
	err = blk_qcow_map_open(&probe, fd, path);
	close(fd);
	if (err)
		return err == -ENOENT ? 1 : err;
	err = probe.backing ? 0 : 1;
	blk_qcow_map_free(&probe);
	if (err)
		return err;
	c = calloc(1, sizeof(*c));
	im->seg = calloc(CHAIN_MAX, sizeof(*im->seg));
	if (!c || !im->seg) {
		free(c);
		return -ENOMEM;
	}
	im->ops = &chain_ops;
	im->priv = c;
	err = open_chain(im, c, path);
	if (!err)
		im->size = c->lv[0].size;
	return err;
}
