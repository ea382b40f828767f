/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The section chain of each EWF segment file (ewf_check.c), walked before
 * libewf opens the set, so that a truncated or corrupt segment is one
 * line naming that file (libewf blames the segment after the last one).
 */
#ifndef BLK_EWF_CHECK_H
#define BLK_EWF_CHECK_H

/* 0, or -EINVAL printed (the file, what is wrong, at which byte). */
int blk_ewf_check_sections(char **names, int n);

#endif /* BLK_EWF_CHECK_H */
