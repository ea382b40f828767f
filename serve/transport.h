/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which transport serves the mount (transport.c): -o transport=auto|dev|
 * uring, checked before the mount and set up after it.
 */
#ifndef BLK_TRANSPORT_H
#define BLK_TRANSPORT_H

#include "serve/uring.h"

struct blk_ctx;

/* The option's value (NULL: auto); options.c has refused anything else. */
enum blk_transport blk_transport_parse(const char *s);
/* transport=uring where it cannot be: one line.  0, or an exit status. */
int blk_transport_check(const struct blk_ctx *ctx);
/* Mounted (and daemonized): the ring's queues made if it is to be asked
 * for, libfuse's replies routed through the wire.  0, or an exit status. */
int blk_transport_attach(struct blk_ctx *ctx);

#endif /* BLK_TRANSPORT_H */
