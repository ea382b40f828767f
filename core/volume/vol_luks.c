// SPDX-License-Identifier: GPL-2.0-or-later
/* The luks driver of the volume stack: the plaintext as "luks". */
#include "volume/crypt.h"
#include "volume/vol_probe.h"

static int luks_open(struct blk_stack *s, unsigned int vol)
{
	return blk_vol_open_crypt(s, vol, "luks", blk_luks_open);
}

const struct blk_vol_driver blk_vol_luks = {
	.name = "luks",
	.what = "LUKS1/LUKS2 encrypted volume: its plaintext",
	.library = "libcryptsetup (volume key) + libcrypto (decryption)",
	.package = "libcryptsetup12, libssl3",
	.blkid_type = "crypto_LUKS",
	.open = luks_open,
};
