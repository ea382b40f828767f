#!/usr/bin/env bats
# The real partition-table images in ../shared/testdata/pt (made by others,
# from util-linux's test suite): blkfuse must expose exactly what partx
# (same libblkid) and, where it knows the scheme, sleuthkit's mmls list.

load helpers

setup_file() {
	[ -d "$TESTDATA/pt" ] || return 0
	for f in "$TESTDATA"/pt/*.img.xz; do
		xz -dc "$f" >"$BATS_FILE_TMPDIR/$(basename "$f" .xz)"
	done
	record_checksums "$BATS_FILE_TMPDIR"/*.img
}

setup() {
	[ -d "$TESTDATA/pt" ] || skip "$TESTDATA_SKIP"
	blkfuse_setup
}

teardown() {
	blkfuse_teardown
}

# check_image NAME: --list equals partx; every exposed pN equals its
# (clipped) range; nothing else is exposed.
check_image() {
	local img=$BATS_FILE_TMPDIR/$1.img isize nr start size want=disk
	isize=$(stat -c %s "$img")
	assert_equal "$(blkfuse_ranges "$img")" "$(partx_ranges "$img" 2>/dev/null)"
	start_blkfuse "$img" "$MNT"
	while read -r nr start size; do
		[ "$start" -ge "$isize" ] && continue	# listed, not exposed
		[ $((start + size)) -gt "$isize" ] && size=$((isize - start))
		[ "$(stat -c %s "$MNT/p$nr")" -eq "$size" ]
		cmp <(tail -c +$((start + 1)) "$img" | head -c "$size") "$MNT/p$nr"
		want="$want p$nr"
	done < <(partx_ranges "$img" 2>/dev/null)
	assert_equal "$(data_files "$MNT" | xargs)" "$(echo $want | tr ' ' '\n' | sort -V | xargs)"
	cmp "$img" "$MNT/disk"
	stop_blkfuse
}

@test "gpt: 5 named partitions, the first at sector 34; same as mmls" {
	EXPECTED_LOG='by-partlabel/primary: more than one partition has this name'
	check_image gpt
	assert_equal "$(blkfuse_ranges "$BATS_FILE_TMPDIR/gpt.img" | awk '{ print $2, $3 }')" \
		"$(mmls_ranges "$BATS_FILE_TMPDIR/gpt.img")"
	run bash -c "'$BLKFUSE' --list --json '$BATS_FILE_TMPDIR/gpt.img' | jq -r '.partitions[0].label'"
	assert_output ThisIsName
}

@test "dos+bsd: nested BSD slices p5 p6 inside p2; DOS part same as mmls" {
	check_image dos+bsd
	assert_equal "$(blkfuse_ranges "$BATS_FILE_TMPDIR/dos+bsd.img" | awk '$1 < 5 { print $2, $3 }')" \
		"$(mmls_ranges -t dos "$BATS_FILE_TMPDIR/dos+bsd.img")"
	run "$BLKFUSE" --list "$BATS_FILE_TMPDIR/dos+bsd.img"
	assert_line --regexp '^ +5 .* freebsd .* nested$'
}

@test "bsd: disklabel alone; p2 lies past the end and is not exposed" {
	EXPECTED_LOG='runs past the end|past the end \('
	check_image bsd
	# mmls lists the raw label slots; the ones libblkid uses must be among them
	local s z
	while read -r s z; do
		mmls_ranges "$BATS_FILE_TMPDIR/bsd.img" | grep -qx "$s $z"
	done < <(blkfuse_ranges "$BATS_FILE_TMPDIR/bsd.img" | awk '{ print $2, $3 }')
}

@test "sun: whole-disk entry and clipping" {
	EXPECTED_LOG='runs past the end|past the end \('
	check_image sun
}

@test "sgi: partitions far past the end are clipped or hidden" {
	EXPECTED_LOG='runs past the end|past the end \('
	check_image sgi
	run --separate-stderr "$BLKFUSE" --list "$BATS_FILE_TMPDIR/sgi.img"
	[[ "$stderr" == *"p2 starts at byte"*"past the end"* ]]
	[[ "$stderr" == *"p1 runs past the end; clipped"* ]]
}

@test "atari-primary and atari-xgm" {
	check_image atari-primary
	check_image atari-xgm
}

@test "dasd-cdl and dasd-ldl: no table found, only disk" {
	local n
	for n in dasd-cdl dasd-ldl; do
		run --separate-stderr "$BLKFUSE" --list "$BATS_FILE_TMPDIR/$n.img"
		assert_success
		assert_equal "$stderr" "blkfuse: notice: $BATS_FILE_TMPDIR/$n.img: no partition table found; exposing only 'disk'"
		start_blkfuse "$BATS_FILE_TMPDIR/$n.img" "$MNT"
		run data_files "$MNT"
		assert_output disk
		stop_blkfuse
	done
}

@test "source images unchanged after the whole file" {
	[ -d "$TESTDATA/pt" ] || skip "$TESTDATA_SKIP"
	assert_sources_unchanged
}
