// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which transport serves the mount (-o transport=auto|dev|uring): what the
 * kernel offers, the checks said before mounting, and the switch to the
 * ring once the kernel accepted it at INIT.  The transports themselves are
 * splice_io.c (/dev/fuse) and uring_io.c (FUSE over io_uring).
 */
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctx.h"
#include "base/log.h"
#include "serve/transport.h"
#include "serve/uring.h"
#include "wire.h"

/* ---- what the kernel offers ------------------------------------------------ */

#define ENABLE_URING "/sys/module/fuse/parameters/enable_uring"

int blk_uring_kernel(void)
{
	char c = 0;
	int fd = open(ENABLE_URING, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -ENOENT;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == 'Y' ? 1 : 0;
}

enum blk_transport blk_transport_parse(const char *s)
{
	if (!s || !strcmp(s, "auto"))
		return BLK_TRANSPORT_AUTO;
	return !strcmp(s, "dev") ? BLK_TRANSPORT_DEV : BLK_TRANSPORT_URING;
}

/*
 * The INIT reply was accepted (on a worker's thread).  With the ring asked
 * for, every request now waits in the kernel until all its queues are
 * registered: start them, or end the connection rather than hang.
 */
static void init_done(void *data, bool uring)
{
	struct blk_ctx *ctx = data;
	int err;

	if (!uring) {
		if (ctx->transport == BLK_TRANSPORT_URING)
			blk_warn("transport=uring: the kernel did not offer FUSE over io_uring at INIT; serving /dev/fuse");
		blk_uring_stop();
		return;
	}
	err = blk_uring_start();
	if (!err) {
		atomic_store(&ctx->uring_queues, blk_uring_queues());
		atomic_store(&ctx->on_ring, true);
		blk_debug("io_uring: %u queues", blk_uring_queues());
		return;
	}
	blk_err("cannot start the io_uring queues: %s", strerror(-err));
	blk_ctl_abort_now(ctx);
}

int blk_transport_check(const struct blk_ctx *ctx)
{
	int kernel;

	if (ctx->transport != BLK_TRANSPORT_URING)
		return 0;
	kernel = blk_uring_kernel();
	if (!blk_uring_built())
		blk_err("transport=uring: this blkfuse was built without liburing");
	else if (kernel < 0)
		blk_err("transport=uring: this kernel has no FUSE over io_uring (Linux 6.14+ with CONFIG_FUSE_IO_URING)");
	else if (kernel == 0)
		blk_err("transport=uring: FUSE over io_uring is switched off (as root: echo Y > /sys/module/fuse/parameters/enable_uring)");
	else
		return 0;
	return EXIT_FAILURE;
}

/*
 * Whether to ask for the ring, its rings made now, while a failure can
 * still fall back to /dev/fuse.  0, or an exit status.
 */
static int prepare(struct blk_ctx *ctx)
{
	bool must = ctx->transport == BLK_TRANSPORT_URING;
	int err;

	if (ctx->transport == BLK_TRANSPORT_DEV || !blk_uring_built() ||
	    blk_uring_kernel() != 1 || (!BLK_AUTO_URING && !must))
		return 0;
	err = blk_uring_prepare(ctx, fuse_session_fd(ctx->se));
	if (!err)
		return 0;
	if (must) {
		blk_err("transport=uring: %s", strerror(-err));
		return EXIT_FAILURE;
	}
	blk_notice("FUSE over io_uring unusable (%s): serving /dev/fuse",
		   strerror(-err));
	return 0;
}

int blk_transport_attach(struct blk_ctx *ctx)
{
	int err = prepare(ctx);

	if (err)
		return err;
	if (blk_wire_attach(ctx->se, blk_uring_prepared(), init_done, ctx) == 0)
		return 0;
	blk_uring_stop();	/* libfuse said why */
	return EXIT_FAILURE;
}
