/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The full-volume key of a BitLocker volume whose protection is suspended
 * (bitlocker_key.c): unwrapped from the clear key the metadata keeps,
 * which libcryptsetup 2.6 does not do.
 */
#ifndef BLK_BITLOCKER_KEY_H
#define BLK_BITLOCKER_KEY_H

#include <stddef.h>

struct blk_bitlk_clear;

/*
 * vklen bytes of the volume key into vk (locked memory), for cipher mode
 * mode ("cbc-elephant" keys are laid out as dm-crypt takes them): 0, or
 * -EACCES when a tag does not match, -EINVAL when the sizes are wrong.
 */
int blk_bitlk_clear_key(const struct blk_bitlk_clear *ck, const char *mode,
			char *vk, size_t vklen);

#endif /* BLK_BITLOCKER_KEY_H */
