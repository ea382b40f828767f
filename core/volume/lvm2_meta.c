// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A parser of LVM2's metadata text (lvm2_meta.h).  The grammar, as lvm2's
 * libdm/libdm-config.c writes and reads it:
 *
 *   members := { key '=' value | key '{' members '}' }
 *   value   := number | "string" | '[' [ value { ',' value } ] ']'
 *
 * with '#' comments to the end of a line.  Hand-written recursive descent;
 * nesting is bounded (real metadata is 5 deep) and so is the node count,
 * so no input can exhaust the stack or the heap.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "volume/lvm2_meta.h"

#define MAX_DEPTH 16
#define MAX_NODES 1000000
#define MAX_STR 4096

struct parser {
	const char *p, *end;
	unsigned int line, nodes;
	char *err;
	size_t errlen;
};

static int fail(struct parser *ps, const char *what)
{
	if (!ps->err[0])
		snprintf(ps->err, ps->errlen, "line %u: %s", ps->line, what);
	return -EINVAL;
}

static void skip_space(struct parser *ps)
{
	while (ps->p < ps->end) {
		char c = *ps->p;

		if (c == '\n')
			ps->line++;
		if (c == '#') {
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
			continue;
		}
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		ps->p++;
	}
}

static bool is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("_.+-/", c);
}

static struct lvm_node *new_node(struct parser *ps, enum lvm_kind kind)
{
	struct lvm_node *n;

	if (++ps->nodes > MAX_NODES)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (n)
		n->kind = kind;
	return n;
}

/* A key or a bare word: malloc'ed, or NULL (err set). */
static char *word(struct parser *ps)
{
	const char *s = ps->p;

	while (ps->p < ps->end && is_word(*ps->p) && ps->p - s < MAX_STR)
		ps->p++;
	if (ps->p == s) {
		fail(ps, "expected a name");
		return NULL;
	}
	return strndup(s, ps->p - s);
}

/* "..." with \ escapes, the opening quote at ps->p. */
static int string(struct parser *ps, struct lvm_node *n)
{
	char *out = malloc(MAX_STR + 1);
	size_t len = 0;

	if (!out)
		return -ENOMEM;
	for (ps->p++; ps->p < ps->end && *ps->p != '"'; ps->p++) {
		if (*ps->p == '\\' && ps->p + 1 < ps->end)
			ps->p++;
		if (*ps->p == '\n')
			ps->line++;
		if (len == MAX_STR) {
			free(out);
			return fail(ps, "string too long");
		}
		out[len++] = *ps->p;
	}
	if (ps->p == ps->end) {
		free(out);
		return fail(ps, "unterminated string");
	}
	ps->p++;
	out[len] = '\0';
	n->str = out;
	return 0;
}

/* A decimal number (lvm2 writes no other base in metadata). */
static int number(struct parser *ps, struct lvm_node *n)
{
	bool neg = *ps->p == '-';
	uint64_t v = 0;
	const char *s;

	if (neg)
		ps->p++;
	for (s = ps->p; ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9'; ps->p++) {
		if (v > (uint64_t)INT64_MAX / 10)
			return fail(ps, "number too large");
		v = v * 10 + (uint64_t)(*ps->p - '0');
	}
	if (ps->p == s || v > (uint64_t)INT64_MAX)
		return fail(ps, ps->p == s ? "expected a number" : "number too large");
	/* lvm2 may write a float in a config; keep its integer part */
	if (ps->p < ps->end && *ps->p == '.')
		for (ps->p++; ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';)
			ps->p++;
	n->num = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

static int value(struct parser *ps, struct lvm_node **out, unsigned int depth);

static int array(struct parser *ps, struct lvm_node *n, unsigned int depth)
{
	struct lvm_node **tail = &n->child;
	int err;

	ps->p++;
	skip_space(ps);
	while (ps->p < ps->end && *ps->p != ']') {
		err = value(ps, tail, depth + 1);
		if (err)
			return err;
		tail = &(*tail)->next;
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			skip_space(ps);
		} else if (ps->p < ps->end && *ps->p != ']') {
			return fail(ps, "expected ',' or ']'");
		}
	}
	if (ps->p == ps->end)
		return fail(ps, "unterminated array");
	ps->p++;
	return 0;
}

static int value(struct parser *ps, struct lvm_node **out, unsigned int depth)
{
	char c;
	int err;

	if (depth > MAX_DEPTH)
		return fail(ps, "nested too deep");
	skip_space(ps);
	if (ps->p == ps->end)
		return fail(ps, "expected a value");
	c = *ps->p;
	*out = new_node(ps, c == '"' ? LVM_STR : c == '[' ? LVM_ARRAY : LVM_INT);
	if (!*out)
		return ps->nodes > MAX_NODES ? fail(ps, "too many values") : -ENOMEM;
	if (c == '"')
		err = string(ps, *out);
	else if (c == '[')
		err = array(ps, *out, depth);
	else if (c == '-' || (c >= '0' && c <= '9'))
		err = number(ps, *out);
	else
		err = fail(ps, "expected a value");
	return err;
}

static int members(struct parser *ps, struct lvm_node *sec, unsigned int depth,
		   bool top);

/* One "key = value" or "key { ... }" into *out. */
static int member(struct parser *ps, struct lvm_node **out, unsigned int depth)
{
	char *key = word(ps);
	int err;

	if (!key)
		return ps->err[0] ? -EINVAL : -ENOMEM;
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == '{') {
		ps->p++;
		*out = new_node(ps, LVM_SECTION);
		err = *out ? members(ps, *out, depth + 1, false) :
			     ps->nodes > MAX_NODES ? fail(ps, "too many values") : -ENOMEM;
	} else if (ps->p < ps->end && *ps->p == '=') {
		ps->p++;
		err = value(ps, out, depth + 1);
	} else {
		err = fail(ps, "expected '=' or '{'");
	}
	if (*out)
		(*out)->key = key;
	else
		free(key);
	return err;
}

static int members(struct parser *ps, struct lvm_node *sec, unsigned int depth,
		   bool top)
{
	struct lvm_node **tail = &sec->child;
	int err;

	if (depth > MAX_DEPTH)
		return fail(ps, "nested too deep");
	for (;;) {
		skip_space(ps);
		if (ps->p == ps->end)
			return top ? 0 : fail(ps, "missing '}'");
		if (*ps->p == '}') {
			if (top)
				return fail(ps, "unexpected '}'");
			ps->p++;
			return 0;
		}
		err = member(ps, tail, depth);
		if (*tail)
			tail = &(*tail)->next;
		if (err)
			return err;
	}
}

int lvm_meta_parse(const char *text, size_t len, struct lvm_node **root,
		   char *err, size_t errlen)
{
	const char *nul = memchr(text, '\0', len);
	struct parser ps = {
		.p = text, .end = nul ? nul : text + len, .line = 1,
		.err = err, .errlen = errlen,
	};
	int ret;

	err[0] = '\0';
	*root = new_node(&ps, LVM_SECTION);
	if (!*root)
		return -ENOMEM;
	ret = members(&ps, *root, 0, true);
	if (ret) {
		if (ret == -ENOMEM && !err[0])
			snprintf(err, errlen, "%s", strerror(ENOMEM));
		lvm_meta_free(*root);
		*root = NULL;
	}
	return ret;
}

void lvm_meta_free(struct lvm_node *n)
{
	while (n) {
		struct lvm_node *next = n->next;

		lvm_meta_free(n->child);
		free(n->key);
		free(n->str);
		free(n);
		n = next;
	}
}

const struct lvm_node *lvm_get(const struct lvm_node *sec, const char *key)
{
	if (!sec || sec->kind != LVM_SECTION)
		return NULL;
	for (const struct lvm_node *n = sec->child; n; n = n->next)
		if (n->key && !strcmp(n->key, key))
			return n;
	return NULL;
}

bool lvm_get_int(const struct lvm_node *sec, const char *key, int64_t *v)
{
	const struct lvm_node *n = lvm_get(sec, key);

	if (!n || n->kind != LVM_INT)
		return false;
	*v = n->num;
	return true;
}

const char *lvm_get_str(const struct lvm_node *sec, const char *key)
{
	const struct lvm_node *n = lvm_get(sec, key);

	return n && n->kind == LVM_STR ? n->str : NULL;
}

bool lvm_has_flag(const struct lvm_node *sec, const char *key,
		  const char *word_)
{
	const struct lvm_node *n = lvm_get(sec, key);

	if (!n || n->kind != LVM_ARRAY)
		return false;
	for (const struct lvm_node *i = n->child; i; i = i->next)
		if (i->kind == LVM_STR && !strcmp(i->str, word_))
			return true;
	return false;
}
