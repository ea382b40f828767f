/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef BLK_CTL_CLIENT_H
#define BLK_CTL_CLIENT_H

/* 'blkfuse ctl ...': argv[0] is "ctl".  Returns the exit status. */
int blk_ctl_main(int argc, char *argv[]);

#endif /* BLK_CTL_CLIENT_H */
