// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The table of container formats (driver.h).  Adding one is a file in
 * this folder exporting its descriptor, and a line here (HACKING.md).
 */
#include <stddef.h>

#include "image/driver.h"

extern const struct blk_image_driver blk_image_split, blk_image_ewf,
	blk_image_aff, blk_image_qcow2, blk_image_vmdk, blk_image_vhd,
	blk_image_vhdx;

const struct blk_image_driver *const blk_image_drivers[] = {
	&blk_image_split, &blk_image_ewf, &blk_image_aff, &blk_image_qcow2,
	&blk_image_vmdk, &blk_image_vhd, &blk_image_vhdx, NULL,
};

const struct blk_image_unsupported blk_image_unsupported[] = {
	{ 0, 8, "EVF2\x0d\x0a\x81\x00", "EWF2 (Ex01) image" },
	{ 0, 8, "LVF\x09\x0d\x0a\xff\x00",
	  "EWF logical evidence (L01) file, not a disk image" },
	{ 0x40, 4, "\x7f\x10\xda\xbe", "VirtualBox VDI image" },
	{ 0, 0, NULL, NULL },
};
