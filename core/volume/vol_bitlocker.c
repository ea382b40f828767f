// SPDX-License-Identifier: GPL-2.0-or-later
/* The bitlocker driver of the volume stack: the plaintext as "bitlocker". */
#include "volume/crypt.h"
#include "volume/vol_probe.h"

static int bitlocker_open(struct blk_stack *s, unsigned int vol)
{
	return blk_vol_open_crypt(s, vol, "bitlocker", blk_bitlocker_open);
}

const struct blk_vol_driver blk_vol_bitlocker = {
	.name = "bitlocker",
	.what = "BitLocker encrypted volume: its plaintext",
	.library = "libcryptsetup (volume key) + libcrypto (decryption)",
	.package = "libcryptsetup12, libssl3",
	.blkid_type = "BitLocker",
	.open = bitlocker_open,
};
