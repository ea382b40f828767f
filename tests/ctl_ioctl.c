// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctl_ioctl PATH TEXT: open the control node or file read-only and send
 * TEXT through BLKFUSE_IOC_SET_TEXT; print "accepted" or the errno's name.
 * For the VM stage, whose guest has no python3 (tests/vm/guest/cuse.bats).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "blkfuse_ioctl.h"

int main(int argc, char **argv)
{
	struct blkfuse_set_text st;
	const char *name;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: ctl_ioctl PATH TEXT\n");
		return 2;
	}
	memset(&st, 0, sizeof(st));
	snprintf(st.text, sizeof(st.text), "%s", argv[2]);
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	if (ioctl(fd, BLKFUSE_IOC_SET_TEXT, &st) == 0) {
		puts("accepted");
	} else {
		name = strerrorname_np(errno);
		puts(name ? name : "?");
	}
	close(fd);
	return 0;
}
