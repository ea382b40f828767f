// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control protocol's text form, "key=value ..." into the ioctl struct:
 * no state, no FUSE, so that it can be fuzzed alone (tests/fuzz).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_parse.h"
#include "ctl/tunables.h"
#include "base/log.h"
#include "base/util.h"

__attribute__((format(printf, 3, 4)))
static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_bool(const char *s, uint32_t *val)
{
	if (!strcmp(s, "1") || !strcmp(s, "on") || !strcmp(s, "yes"))
		*val = 1;
	else if (!strcmp(s, "0") || !strcmp(s, "off") || !strcmp(s, "no"))
		*val = 0;
	else
		return -EINVAL;
	return 0;
}

/* One "key=value" into t; returns 0, or -EINVAL with why set. */
static int parse_pair(char *pair, struct blkfuse_tunables *t, bool *abort,
		      char *why, size_t len)
{
	char *val = strchr(pair, '=');
	const struct blk_tunable *tn;
	uint32_t yes = 0;
	uint64_t v = 0;
	int bad = 1;

	if (!val)
		return fail(why, len, "'%s': expected key=value", pair);
	*val++ = '\0';
	tn = blk_tunable_find(pair);
	if (tn) {
		bad = tn->parse(val, &v) || (tn->width == 4 && v > UINT32_MAX);
		if (!bad)
			blk_tunable_put(tn, t, v);
		t->set_mask |= tn->bit;
		goto out_checked;
	}
	if (!strcmp(pair, "abort")) {
		bad = parse_bool(val, &yes) || !yes;
		*abort = !bad;
	} else if (!strcmp(pair, "max_reply")) {
		return fail(why, len, "%s", "max_reply is fixed at mount (-o max_reply=)");
	} else {
		return fail(why, len, "unknown key '%s'", pair);
	}
out_checked:
	if (bad) {
		val[-1] = '=';
		return fail(why, len, "bad value in '%s'", pair);
	}
	return 0;
}

int blk_ctl_parse_text(const char *buf, size_t len, struct blkfuse_tunables *t,
		       bool *abort, char *why, size_t whylen)
{
	char *copy, *tok, *save = NULL;
	int err = 0;

	memset(t, 0, sizeof(*t));
	t->version = BLKFUSE_ABI_VERSION;
	t->size = sizeof(*t);
	*abort = false;
	why[0] = '\0';
	copy = strndup(buf, len);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, " \t\r\n,", &save); tok && !err;
	     tok = strtok_r(NULL, " \t\r\n,", &save))
		err = parse_pair(tok, t, abort, why, whylen);
	free(copy);
	return err;
}
