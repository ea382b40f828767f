/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the openers (luks.c, bitlocker.c) see of the keyring (keys.c): the
 * secrets, one at a time, in locked memory that the keyring owns.
 */
#ifndef BLK_KEYS_H
#define BLK_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "volume/crypt.h"

struct blk_secret {
	const char *data;	/* not NUL-terminated */
	size_t len;
};

/* Passphrase i (lines of --passphrase-file, then the typed one, then the
 * dashed form of each 48-digit recovery password): false past the last. */
bool blk_keyring_passphrase(const struct blk_keyring *kr, unsigned int i,
			    struct blk_secret *s);
/* The --key-file bytes: false when there is none. */
bool blk_keyring_key_file(const struct blk_keyring *kr, struct blk_secret *s);
/* Were any secrets given at all? */
bool blk_keyring_empty(const struct blk_keyring *kr);

#endif /* BLK_KEYS_H */
