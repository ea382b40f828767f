// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkfuse --list: the volumes inside the data files (volume/volume.h) as
 * a tree, the way lsblk draws one: NAME with tree lines, then TYPE,
 * FSTYPE (or the partition table inside), SIZE, LABEL and UUID of what is
 * inside, and STATE with the reason a volume is not served.  Then the
 * file systems libtsk reads (FILES FS): where fs/ shows each volume's
 * files, and its type, or why fs/ does not show it.
 */
#include <errno.h>
#include <inttypes.h>
#include <libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "base/log.h"
#include "base/util.h"
#include "volume/volume.h"

enum { C_NAME, C_TYPE, C_FSTYPE, C_SIZE, C_LABEL, C_UUID, C_STATE, C_N };

static int fill_line(struct libscols_line *ln, const struct blk_stack *s,
		     const struct blk_volume *v, bool bytes)
{
	char size[32], state[sizeof(v->path) + sizeof(v->why) + 32];
	const char *cell[C_N];

	if (bytes)
		snprintf(size, sizeof(size), "%" PRIu64, v->size);
	else
		blk_size_human(size, sizeof(size), v->size);
	if (v->home_of >= 0)	/* a PV whose VG lives under another */
		snprintf(state, sizeof(state), "LVs in %s.d", s->v[v->home_of].path);
	else if (v->state == BLK_VOL_OPEN)
		snprintf(state, sizeof(state), "%s", v->why);
	else
		snprintf(state, sizeof(state), "%s: %s",
			 blk_vol_state_name(v->state), v->why);
	cell[C_NAME] = v->name;
	cell[C_TYPE] = v->type;
	cell[C_FSTYPE] = v->fs.type[0] ? v->fs.type : v->pttype;
	cell[C_SIZE] = v->size ? size : "";
	cell[C_LABEL] = v->fs.label;
	cell[C_UUID] = v->fs.uuid;
	cell[C_STATE] = state;
	for (int c = 0; c < C_N; c++) {
		char esc[4 * sizeof(v->path)];

		blk_text_escape(esc, sizeof(esc), cell[c]);
		if (scols_line_set_data(ln, c, esc))
			return -ENOMEM;
	}
	return 0;
}

int blk_list_volumes(const struct blk_stack *s, const struct blk_list_opts *o)
{
	static const char *const names[C_N] = {
		"NAME", "TYPE", "FSTYPE", "SIZE", "LABEL", "UUID", "STATE",
	};
	struct libscols_table *tb = scols_new_table();
	struct libscols_line **lines = calloc(s->n, sizeof(*lines));
	int err = tb && lines ? 0 : -ENOMEM;

	for (int c = 0; c < C_N && !err; c++)
		if (!scols_table_new_column(tb, names[c], c == C_STATE ? 0.3 : 0.1,
					    c == C_NAME ? SCOLS_FL_TREE :
					    c == C_SIZE ? SCOLS_FL_RIGHT : 0))
			err = -ENOMEM;
	for (unsigned int i = 0; i < s->n && !err; i++) {
		const struct blk_volume *v = &s->v[i];

		lines[i] = scols_table_new_line(tb, v->parent >= 0 ?
						lines[v->parent] : NULL);
		err = lines[i] ? fill_line(lines[i], s, v, o->bytes) : -ENOMEM;
	}
	if (!err) {
		putchar('\n');
		scols_print_table(tb);
	} else {
		blk_err("%s", strerror(-err));
	}
	free(lines);
	scols_unref_table(tb);
	return err;
}

int blk_list_fs(const struct blk_layout *lo)
{
	struct libscols_table *tb = scols_new_table();
	int err = tb && scols_table_new_column(tb, "FILES", 0.1, 0) &&
		  scols_table_new_column(tb, "FS", 0.5, 0) ? 0 : -ENOMEM;

	for (unsigned int i = 0; i < lo->nfs_seen && !err; i++) {
		const struct blk_fs_seen *e = &lo->fs_seen[i];
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		char path[620], esc[4 * sizeof(path)], what[sizeof(e->what) + 20];

		snprintf(path, sizeof(path), "fs/%s", e->volume);
		snprintf(what, sizeof(what), "%s%s", e->served ? "" : "not shown: ",
			 e->what);
		err = -ENOMEM;
		if (!ln)
			break;
		blk_text_escape(esc, sizeof(esc), path);
		if (scols_line_set_data(ln, 0, esc))
			break;
		blk_text_escape(esc, sizeof(esc), what);
		err = scols_line_set_data(ln, 1, esc) ? -ENOMEM : 0;
	}
	if (!err) {
		putchar('\n');
		scols_print_table(tb);
	} else {
		blk_err("%s", strerror(-err));
	}
	scols_unref_table(tb);
	return err;
}
