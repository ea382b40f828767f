/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libtsk's allocations bounded per volume (tsk_alloc.c): a hostile file
 * system's sizes never become gigabytes of zeroed memory.
 */
#ifndef BLK_TSK_ALLOC_H
#define BLK_TSK_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/*
 * While this thread works on a volume of volume_size bytes, libtsk may
 * allocate at most a quarter of it at once (at least 16 MiB, at most
 * 1 GiB); 0 puts back the default bound (256 MiB).
 */
void blk_tsk_alloc_limit(uint64_t volume_size);

/* libtsk's own allocator, replaced (not in libtsk's public headers). */
void *tsk_malloc(size_t len);
void *tsk_realloc(void *ptr, size_t len);

#endif /* BLK_TSK_ALLOC_H */
