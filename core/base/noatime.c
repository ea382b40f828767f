// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * O_NOATIME for every file blkfuse reads itself (the source, split raw
 * segments, VMDK extents, the EWF section check).  Files a container
 * library opens by itself (libewf, libqcow, ...) are outside its reach.
 */
#include <errno.h>
#include <fcntl.h>

#include "base/noatime.h"

int blk_open_noatime(const char *path, int flags)
{
	int fd = open(path, flags | O_NOATIME);

	/* EPERM: neither the owner nor CAP_FOWNER; the read is no less right */
	if (fd < 0 && errno == EPERM)
		fd = open(path, flags);
	return fd;
}
