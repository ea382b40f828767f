// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include "volume/crypt.h"
int blk_bitlocker_open(struct blk_layer *below, const char *where,
		       const struct blk_keyring *kr, struct blk_layer **out,
		       char *why, size_t whylen)
{
	(void)below, (void)where, (void)kr;
	*out = NULL;
	snprintf(why, whylen, "BitLocker decryption is not built");
	return -ENOTSUP;
}
