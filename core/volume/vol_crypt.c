// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the encrypted volume drivers (vol_luks.c, vol_bitlocker.c) share:
 * the decryption itself is crypt.h's.  The plaintext is the child
 * "luks" / "bitlocker" of the encrypted file; a volume no key opened is
 * listed as locked with the reason and has no file, and so no children:
 * the encrypted file itself is the ciphertext.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "volume/crypt.h"
#include "volume/vol_probe.h"

int blk_vol_open_crypt(struct blk_stack *s, unsigned int vol,
		       const char *name, blk_crypt_open_fn fn)
{
	struct blk_layer *out = NULL;
	char why[sizeof(s->v->why)] = "";
	int i, err;

	err = fn(s->v[vol].layer, s->v[vol].path, s->kr, &out, why, sizeof(why));
	if (!err && !blk_stack_own(s, out))
		return -ENOMEM;
	i = blk_stack_add(s, vol, name, name, err ? NULL : out);
	if (i < 0)
		return i == -ENOMEM ? i : 0;
	snprintf(s->v[i].uuid, sizeof(s->v[i].uuid), "%s", s->v[vol].fs.uuid);
	snprintf(s->v[i].label, sizeof(s->v[i].label), "%s", s->v[vol].fs.label);
	if (err == -ENOMEM)
		return err;
	if (err == -EACCES)
		blk_vol_fail(&s->v[i], BLK_VOL_LOCKED, "%s", why[0] ? why : "no key");
	else if (err == -ENOTSUP || err == -EOPNOTSUPP)
		blk_vol_fail(&s->v[i], BLK_VOL_LOCKED, "%s", why[0] ? why : strerror(-err));
	else if (err)
		blk_vol_fail(&s->v[i], BLK_VOL_BAD, "%s", why[0] ? why : strerror(-err));
	return 0;
}
