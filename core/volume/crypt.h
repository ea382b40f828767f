/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Encrypted volumes as decrypting layers (layer/layer.h): LUKS1/LUKS2
 * (luks.c) and BitLocker (bitlocker.c), and the secrets that open them
 * (keys.c).  Secrets live in mlock'ed memory, are wiped once a volume key
 * is derived, and never reach output, logs, the audit trail or argv.
 */
#ifndef BLK_CRYPT_H
#define BLK_CRYPT_H

#include <stdbool.h>
#include <stddef.h>

struct blk_layer;
struct blk_keyring;

/* Where the secrets come from (any may be NULL/false). */
struct blk_key_sources {
	const char *passphrase_file;	/* each line a passphrase to try */
	const char *key_file;		/* a .BEK startup key or a raw volume key */
	bool ask;			/* prompt on the terminal, no echo */
};

/* *kr (empty when no source is given): 0, or -errno printed. */
int blk_keyring_load(struct blk_keyring **kr, const struct blk_key_sources *ks);
/* Wipe and free; NULL is ignored. */
void blk_keyring_free(struct blk_keyring *kr);

/*
 * Open the encrypted volume held by below (named where, for messages):
 * *out a layer of its plaintext, owned by the caller.  0; -EACCES when no
 * key was given or none matched; another -errno when the header is bad or
 * the cipher unsupported.  why (never a secret) says which, one line.
 */
int blk_luks_open(struct blk_layer *below, const char *where,
		  const struct blk_keyring *kr, struct blk_layer **out,
		  char *why, size_t whylen);
int blk_bitlocker_open(struct blk_layer *below, const char *where,
		       const struct blk_keyring *kr, struct blk_layer **out,
		       char *why, size_t whylen);

#endif /* BLK_CRYPT_H */
