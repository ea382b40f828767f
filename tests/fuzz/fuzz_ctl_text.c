// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the control protocol's text form.  Beyond "no crash":
 * a successful parse names only known bits in set_mask, and the same text
 * parses the same way twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct blkfuse_tunables a, b;
	bool abort_a, abort_b;
	char why[200];
	int ra, rb;

	if (size > 4096)
		return 0;
	ra = blk_ctl_parse_text((const char *)data, size, &a, &abort_a, why,
				sizeof(why));
	rb = blk_ctl_parse_text((const char *)data, size, &b, &abort_b, why,
				sizeof(why));
	if (ra != rb)
		abort();
	if (ra == 0 && (a.set_mask & ~BLKFUSE_T_ALL || memcmp(&a, &b, sizeof(a)) ||
			abort_a != abort_b))
		abort();
	return 0;
}
