/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The partition table of a decoded container (probe_mount.c): libblkid
 * reads only through a file descriptor, so the decoded media is served as
 * one file, 'disk', by a private FUSE mount in a fresh directory under
 * /run, for as long as the probe takes.  Nothing is written anywhere.
 */
#ifndef BLK_PROBE_MOUNT_H
#define BLK_PROBE_MOUNT_H

#include "volume/layout.h"

/* blk_layout_probe through the private mount when src needs one:
 * 0 or -errno, printed. */
int blk_probe_layout(struct blk_source *src, struct blk_layout *lo);

#endif /* BLK_PROBE_MOUNT_H */
