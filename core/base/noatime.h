/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opening evidence without touching it (noatime.c): O_NOATIME where the
 * kernel permits it (the file's owner, or CAP_FOWNER), so that reading
 * does not even change the access time.
 */
#ifndef BLK_NOATIME_H
#define BLK_NOATIME_H

/* open(path, flags | O_NOATIME), or without it when not permitted (EPERM):
 * a descriptor, or -1 with errno. */
int blk_open_noatime(const char *path, int flags);

#endif /* BLK_NOATIME_H */
