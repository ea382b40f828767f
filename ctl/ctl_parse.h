/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control protocol's text form (ctl_parse.c). */
#ifndef BLK_CTL_PARSE_H
#define BLK_CTL_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "blkfuse_ioctl.h"

/*
 * "key=value ..." (blanks, tabs, newlines or commas between pairs) into t,
 * with set_mask naming the keys given; *abort for "abort=1".  Values are
 * parsed, not range-checked (ctl.c does that).  0; -EINVAL with a reason
 * in why; -ENOMEM.
 */
int blk_ctl_parse_text(const char *buf, size_t len, struct blkfuse_tunables *t,
		       bool *abort, char *why, size_t whylen);

#endif /* BLK_CTL_PARSE_H */
