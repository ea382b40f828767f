// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkfuse hash SOURCE fs/pN/PATH: the digest of a file inside a volume's
 * file system, by the path the mount shows it under (names escaped as
 * there), read through the same code as the mount's fs/ (core/fs/).
 * The volume is 'disk', a partition 'pN', or a volume of the stack as the
 * mount names it ('p3.d/luks', 'p3.d/luks.d/vg0-root').
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/hash_fs.h"
#include "fs/fsvol.h"
#include "base/log.h"
#include "layer/layer.h"
#include "volume/volume.h"

#define CHUNK (1u << 20)

bool blk_hash_fs_name(const char *name)
{
	return strncmp(name, "fs/", 3) == 0;
}

/* The volume's byte range for "disk" or "pN": 0, or -ENOENT (said). */
static int volume_range(const struct blk_source *src,
			const struct blk_layout *lo, const char *vol,
			const char *name, uint64_t *start, uint64_t *size)
{
	if (!strcmp(vol, "disk")) {
		*start = 0, *size = src->size;
		return 0;
	}
	for (unsigned int i = 0; vol[0] == 'p' && i < lo->nparts; i++) {
		char pn[16];

		snprintf(pn, sizeof(pn), "p%d", lo->parts[i].partno);
		if (!strcmp(pn, vol) && blk_part_exposed(&lo->parts[i])) {
			*start = lo->parts[i].start, *size = lo->parts[i].size;
			return 0;
		}
	}
	blk_err("%s: %s is not 'disk' or an exposed partition of %s", name,
		vol, src->path);
	return -ENOENT;
}

/*
 * The volume of the stack that rest ("p3.d/luks/etc/fstab") begins with,
 * the longest such: 0 with *out (NULL: none), or -ENOENT when it is not
 * served (said).
 */
static int stack_volume(const struct blk_layout *lo, const char *rest,
			const char *name, const struct blk_volume **out)
{
	const struct blk_volume *best = NULL;

	for (unsigned int i = 0; lo->stack && i < lo->stack->n; i++) {
		const struct blk_volume *v = &lo->stack->v[i];
		size_t n = strlen(v->path);

		if (!v->root && !strncmp(rest, v->path, n) && rest[n] == '/' &&
		    (!best || n > strlen(best->path)))
			best = v;
	}
	*out = best;
	if (best && (best->state != BLK_VOL_OPEN || !best->layer)) {
		blk_err("%s: %s is not served (%s)", name, best->path,
			best->why);
		return -ENOENT;
	}
	return 0;
}

/* The file at path (components after the volume) in v: 0 with *id. */
static int resolve(struct blk_fsvol *v, char *path, const char *name,
		   uint64_t *id)
{
	struct stat st;
	char *save = NULL;
	int err = 0;

	*id = blk_fsvol_root(v);
	for (char *c = strtok_r(path, "/", &save); c && !err;
	     c = strtok_r(NULL, "/", &save))
		err = blk_fsvol_lookup(v, *id, c, id);
	if (!err)
		err = blk_fsvol_stat(v, *id, &st);
	if (!err && !S_ISREG(st.st_mode))
		err = -EISDIR;
	if (err)
		blk_err("%s: %s", name, strerror(-err));
	return err;
}

/* Read file id whole into the digests: 0, or BLK_HASH_EREAD (said). */
static int digest(struct blk_fsvol *v, uint64_t id, const char *name,
		  EVP_MD_CTX **ctx)
{
	char *buf = malloc(CHUNK);
	struct stat st;
	uint64_t off = 0;

	if (!buf || blk_fsvol_stat(v, id, &st)) {
		free(buf);
		blk_err("%s: %s", name, strerror(ENOMEM));
		return -ENOMEM;
	}
	while (off < (uint64_t)st.st_size) {
		size_t want = st.st_size - off < CHUNK ? st.st_size - off : CHUNK;
		ssize_t n = blk_fsvol_read(v, id, buf, want, off);

		if (n <= 0) {
			blk_err("%s: read at byte %llu: %s", name,
				(unsigned long long)off, strerror(n ? -n : EIO));
			free(buf);
			return BLK_HASH_EREAD;
		}
		for (int a = 0; a < BLK_HASH_NR; a++)
			if (ctx[a])
				EVP_DigestUpdate(ctx[a], buf, n);
		off += n;
	}
	free(buf);
	return 0;
}

static int hash_file(struct blk_fsvol *v, char *path, const char *name,
		     unsigned int algos, unsigned char md[][BLK_HASH_MAX_LEN])
{
	EVP_MD_CTX *ctx[BLK_HASH_NR] = { NULL };
	uint64_t id;
	int err = resolve(v, path, name, &id);

	for (int a = 0; a < BLK_HASH_NR && !err; a++) {
		if (!(algos & 1u << a))
			continue;
		ctx[a] = EVP_MD_CTX_new();
		if (!ctx[a] || !EVP_DigestInit_ex(ctx[a],
				EVP_get_digestbyname(blk_hash_algo_name(a)), NULL))
			err = -ENOMEM;
	}
	if (!err)
		err = digest(v, id, name, ctx);
	for (int a = 0; a < BLK_HASH_NR; a++) {
		if (ctx[a] && !err)
			EVP_DigestFinal_ex(ctx[a], md[a], NULL);
		EVP_MD_CTX_free(ctx[a]);
	}
	return err;
}

int blk_hash_fs_file(const struct blk_source *src, const struct blk_layout *lo,
		     const char *name, unsigned int algos,
		     unsigned char md[][BLK_HASH_MAX_LEN])
{
	char *copy = strdup(name), *vol, *path;
	const struct blk_volume *sv = NULL;
	struct blk_layer *layer = src->layer;
	struct blk_fsvol *v = NULL;
	uint64_t start = 0, size;
	int err = -ENOMEM;

	if (!copy)
		goto out;
	vol = copy + 3;
	err = stack_volume(lo, vol, name, &sv);
	if (err)
		goto out;
	err = -ENOENT;
	path = sv ? vol + strlen(sv->path) : strchr(vol, '/');
	if (!path || !path[1]) {
		blk_err("%s: not fs/VOLUME/PATH", name);
		goto out;
	}
	*path++ = '\0';
	if (sv)
		layer = sv->layer, size = sv->size;
	else if ((err = volume_range(src, lo, vol, name, &start, &size)))
		goto out;
	v = blk_fsvol_new(layer, start, size, vol);
	err = v ? blk_fsvol_open(v) : -ENOMEM;
	if (err)
		blk_err("%s: no file system libtsk reads in %s", name, vol);
	else
		err = hash_file(v, path, name, algos, md);
out:
	blk_fsvol_free(v);
	free(copy);
	return err;
}
