// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Placeholder until luks.c, bitlocker.c and keys.c land: every encrypted
 * volume stays locked ("not built"), so the volume stack can be built and
 * tested around it.  Deleted by the change that adds them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "volume/crypt.h"

int blk_keyring_load(struct blk_keyring **kr, const struct blk_key_sources *ks)
{
	(void)ks;
	*kr = NULL;
	return 0;
}

void blk_keyring_free(struct blk_keyring *kr)
{
	(void)kr;
}

static int not_built(const char *what, char *why, size_t whylen)
{
	snprintf(why, whylen, "%s decryption is not built", what);
	return -ENOTSUP;
}

int blk_luks_open(struct blk_layer *below, const char *where,
		  const struct blk_keyring *kr, struct blk_layer **out,
		  char *why, size_t whylen)
{
	(void)below, (void)where, (void)kr;
	*out = NULL;
	return not_built("LUKS", why, whylen);
}

int blk_bitlocker_open(struct blk_layer *below, const char *where,
		       const struct blk_keyring *kr, struct blk_layer **out,
		       char *why, size_t whylen)
{
	(void)below, (void)where, (void)kr;
	*out = NULL;
	return not_built("BitLocker", why, whylen);
}
