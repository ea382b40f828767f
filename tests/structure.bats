#!/usr/bin/env bats
# The structure rules of HACKING.md: no import circle between files or
# folders, no file over 600 lines and no function over 80, core/ free of
# FUSE, and README's and HACKING.md's layout naming every source file.

load helpers

REPO=$BATS_TEST_DIRNAME/..

@test "deps-check: no import circle, no file over 600 lines, no function over 80" {
	run "$REPO/tests/deps-check" "$REPO"
	assert_success
	assert_line --regexp '^deps-check: [0-9]+ files, 0 problems$'
}

@test "deps-check fails on a circle between files, between folders, and on a long function" {
	local t=$BATS_TEST_TMPDIR/tree
	mkdir -p "$t"
	(cd "$REPO" && git ls-files '*.c' '*.h' | grep -v '^tests/' | cpio -pdm --quiet "$t")
	run "$REPO/tests/deps-check" "$t"
	assert_success
	# a file circle: the parked read's header includes the throttle
	sed -i 's|#include "reply.h"|#include "reply.h"\n#include "read/throttle.h"|' "$t/read/read.h"
	run "$REPO/tests/deps-check" "$t"
	assert_failure
	assert_line --regexp '^import circle between files: .*read/read .*read/throttle'
	git -C "$REPO" show HEAD:read/read.h >/dev/null 2>&1 && cp "$REPO/read/read.h" "$t/read/read.h"
	# a folder circle: the base of core includes the source
	echo '#include "source/source.h"' >>"$t/core/base/util.c"
	run "$REPO/tests/deps-check" "$t"
	assert_failure
	assert_line --regexp '^import circle between folders: .*core/base.*core/source'
	# a function of 81 lines
	{ echo 'void too_long(void);'; echo 'void too_long(void)'; echo '{'
	  for i in $(seq 81); do echo "	(void)$i;"; done; echo '}'; } >"$t/core/base/long.c"
	run "$REPO/tests/deps-check" "$t"
	assert_line 'core/base/long.c:2: too_long() is 81 lines (at most 80)'
}

@test "core/ builds without fuse3's flags and includes no FUSE header" {
	run grep -rln '#include.*fuse' "$REPO/core"
	assert_failure
	run grep -E '^CORE_CPPFLAGS' "$REPO/Makefile"
	assert_success
	refute_output --partial FUSE
}

# Every tracked .c and .h outside tests/ and bench/, by its name (a header
# beside its .c by the .c's), in a section of a document.
names_missing() { # FILE FIRST_HEADING_REGEX
	local doc=$1 start=$2 f section
	section=$(awk -v s="$start" '$0 ~ s { on = 1; next } on && /^## / { exit } on' "$doc")
	[ -n "$section" ] || { echo "no section /$start/ in $doc"; return; }
	for f in $(cd "$REPO" && git ls-files '*.c' '*.h' | grep -v '^tests/\|^bench/'); do
		# a header beside its .c counts as named with it
		[[ $f == *.h && -e $REPO/${f%.h}.c ]] && f=${f%.h}.c
		grep -qF "$(basename "$f")" <<<"$section" || echo "$f"
	done
}

@test "README's layout and HACKING.md's module map name every source file" {
	run names_missing "$REPO/README.md" '^## Layout'
	assert_output ''
	run names_missing "$REPO/HACKING.md" '^## The module map'
	assert_output ''
}
