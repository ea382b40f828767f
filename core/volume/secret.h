/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Memory for secrets (secret.c): page-aligned, mlock'ed so it never reaches
 * swap, left out of core dumps, and wiped before it is freed.
 */
#ifndef BLK_SECRET_H
#define BLK_SECRET_H

#include <stddef.h>

/* len bytes, zeroed: NULL with errno ENOMEM.  A failed mlock is warned
 * about once and the memory used anyway. */
void *blk_secret_alloc(size_t len);
/* Wipe and free what blk_secret_alloc gave (len as asked); NULL ignored. */
void blk_secret_free(void *p, size_t len);

/* Lock every live secret again: a fork (fuse_daemonize) does not pass
 * memory locks to the child.  0, or -errno of the first that failed (warned
 * about once, as in blk_secret_alloc). */
int blk_secret_relock(void);

#endif /* BLK_SECRET_H */
