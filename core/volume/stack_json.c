// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The volume stack in layout.json: "volumes", each data file with what it
 * holds, as a tree (children inside their parent).
 */
#include <stdio.h>

#include "base/util.h"
#include "layer/layer.h"
#include "volume/volume.h"

static void member(FILE *f, const char *key, const char *val)
{
	fprintf(f, ", \"%s\": ", key);
	blk_json_fputs(f, val);
}

static void json_volume(FILE *f, const struct blk_stack *s, unsigned int i,
			const char *indent, unsigned int level)
{
	const struct blk_volume *v = &s->v[i];
	char layer[512] = "";
	bool first = true;

	if (v->layer)
		blk_layer_describe(v->layer, layer, sizeof(layer));
	fprintf(f, "%s%*s{\"name\": ", indent, 2 * level, "");
	blk_json_fputs(f, v->name);
	member(f, "path", v->path);
	member(f, "type", v->type);
	member(f, "state", blk_vol_state_name(v->state));
	member(f, "why", v->why);
	fprintf(f, ", \"size_bytes\": %llu", (unsigned long long)v->size);
	member(f, "uuid", v->uuid);
	member(f, "label", v->label);
	member(f, "detail", v->detail);
	member(f, "fs_type", v->fs.type);
	member(f, "fs_uuid", v->fs.uuid);
	member(f, "fs_label", v->fs.label);
	member(f, "table", v->pttype);
	member(f, "layer", layer);
	if (v->home_of >= 0)
		member(f, "lvs_in", s->v[v->home_of].path);
	fprintf(f, ", \"children\": [");
	for (unsigned int c = i + 1; c < s->n; c++) {
		if (s->v[c].parent != (int)i)
			continue;
		fprintf(f, "%s\n", first ? "" : ",");
		json_volume(f, s, c, indent, level + 1);
		first = false;
	}
	if (!first)
		fprintf(f, "\n%s%*s", indent, 2 * level, "");
	fprintf(f, "]}");
}

void blk_stack_json(FILE *f, const struct blk_stack *s, const char *indent)
{
	bool first = true;

	fprintf(f, "%s\"volumes\": [", indent);
	for (unsigned int i = 0; s && i < s->n; i++) {
		if (s->v[i].parent >= 0)
			continue;
		fprintf(f, "%s\n", first ? "" : ",");
		json_volume(f, s, i, indent, 1);
		first = false;
	}
	fprintf(f, "%s]", first ? "" : "\n  ");
}
