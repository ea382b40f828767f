/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef BLK_HASH_CMD_H
#define BLK_HASH_CMD_H

/* 'blkfuse hash ...': argv[0] is "hash".  Returns the exit status. */
int blk_hash_main(int argc, char *argv[]);

#endif /* BLK_HASH_CMD_H */
