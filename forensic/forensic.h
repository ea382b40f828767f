/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --verify, --audit, --set-ro, --verify-after: before and after (forensic.c). */
#ifndef BLK_FORENSIC_H
#define BLK_FORENSIC_H

#include <stdbool.h>

struct blk_ctx;

#define BLK_EXIT_VERIFY 3	/* --verify found another hash */

struct blk_forensic_opts {
	const char *verify;		/* ALGO:HEX or NULL */
	const char *audit;		/* file or NULL */
	bool set_ro;
	bool verify_after;
	const char *mountpoint;
	int argc;			/* for the audit's start record */
	char **argv;
};

/* Before the mount: an exit status (EXIT_SUCCESS to go on), printed. */
int blk_forensic_start(struct blk_ctx *ctx, const struct blk_forensic_opts *o);
/*
 * After it: ret is the daemon's exit status so far; the final one comes
 * back (BLK_EXIT_VERIFY when --verify-after finds another hash).
 */
int blk_forensic_stop(struct blk_ctx *ctx, const struct blk_forensic_opts *o,
		       int ret);

#endif /* BLK_FORENSIC_H */
