#!/usr/bin/env bats
# blkfuse --list: the table as blkfuse sees it, checked against partx and
# sleuthkit's mmls; the odd cases (4Kn, corrupt GPT, past the end, no table).

load helpers

setup_file() {
	make_dos_and_gpt_images
}

setup() {
	blkfuse_setup
}

teardown() {
	blkfuse_teardown
}

# The extended container is listed with its table size, like partx.
@test "DOS: --list agrees with partx --show and mmls" {
	assert_equal "$(blkfuse_ranges "$DOS")" "$(partx_ranges "$DOS")"
	# mmls lists the extended container as Meta: compare data partitions
	assert_equal "$(blkfuse_ranges "$DOS" | awk '$1 != 3 { print $2, $3 }' | sort -n)" \
		"$(mmls_ranges "$DOS" | sort -n)"
	run "$BLKFUSE" --list "$DOS"
	assert_success
	assert_line --regexp '^Table: +dos, id [0-9a-f]{8}$'
	assert_line --regexp '^ +3 +34816 +96255 +61440 +30M dos +Extended .* container$'
	assert_line --regexp '^ +5 +36864 +57343 +20480 +10M dos +Linux '
	# the type code with -o +TYPE (the default table fits 80 columns)
	run "$BLKFUSE" --list -o +TYPE "$DOS"
	assert_line --regexp '^ +3 +34816 +96255 +61440 +30M dos +Extended .* container +0x5$'
	assert_line --regexp '^ +5 +36864 +57343 +20480 +10M dos +Linux .* 0x83$'
}

@test "GPT: --list agrees with partx and mmls; names and UUIDs as sfdisk wrote them" {
	assert_equal "$(blkfuse_ranges "$GPT")" "$(partx_ranges "$GPT")"
	assert_equal "$(blkfuse_ranges "$GPT" | awk '{ print $2, $3 }')" "$(mmls_ranges "$GPT")"
	run bash -c "'$BLKFUSE' --list --json '$GPT' | jq -r '.partitions[] | \"\(.label) \(.uuid)\"'"
	assert_output "$(partx -g -o NAME,UUID "$GPT" | awk '{ print $1, $2 }' | tr A-F a-f)"
	run bash -c "'$BLKFUSE' --list --json '$GPT' | jq -r '.table, .gpt_header, .sector_size, .size'"
	assert_output "$(printf 'gpt\nprimary\n512\n%s' "$(stat -c %s "$GPT")")"
}

@test "4096-byte sectors: --sector-size 4096 finds what 512 cannot" {
	local img=$BATS_TEST_TMPDIR/4k.img dev
	random_image "$img" 32
	# sfdisk honours 4096-byte sectors only on a device that has them
	dev=$(losetup -b 4096 -f --show "$img")
	sfdisk -q "$dev" <<-EOT
	label: gpt

	size=2MiB, name="a"
	size=8MiB, name="b"
	EOT
	losetup -d "$dev"
	run "$BLKFUSE" --list "$img"
	assert_line --regexp '^Table: +none'
	run "$BLKFUSE" --list --sector-size 4096 "$img"
	assert_success
	assert_line 'Sector size: 4096 (--sector-size)'
	# START/SECTORS are in 4096-byte sectors: partx (512-byte units) / 8
	local want; want=$(partx -g -o NR,START,SECTORS --sector-size 4096 "$img" | awk '{ print $1, $2 * 512, $3 * 512 }')
	assert_equal "$(blkfuse_ranges --sector-size 4096 "$img")" "$want"
	run bash -c "'$BLKFUSE' --list --json --sector-size 4096 '$img' | jq -r '.partitions[0].start'"
	assert_output "$(( $(partx -g -o START -n 1 --sector-size 4096 "$img") / 8 ))"
	start_blkfuse --sector-size 4096 "$img" "$MNT"
	local nr start size
	while read -r nr start size; do
		cmp <(dd if="$img" bs=4096 skip=$((start / 4096)) count=$((size / 4096)) status=none) "$MNT/p$nr"
	done <<<"$want"
	stop_blkfuse
}

@test "no partition table: only disk, with a notice" {
	local img=$BATS_TEST_TMPDIR/raw.img
	head -c $((4 * 1048576)) /dev/zero >"$img"
	run --separate-stderr "$BLKFUSE" --list "$img"
	assert_success
	assert_equal "$stderr" "blkfuse: notice: $img: no partition table found; exposing only 'disk'"
	start_blkfuse "$img" "$MNT"
	run data_files "$MNT"
	assert_output disk
	cmp "$img" "$MNT/disk"
}

@test "corrupt primary GPT header: the backup is used, and it says so" {
	EXPECTED_LOG='primary GPT header is corrupt'
	local img=$BATS_TEST_TMPDIR/badgpt.img
	cp "$GPT" "$img"
	printf 'XXXXXXXX' | dd of="$img" bs=1 seek=512 conv=notrunc status=none
	run --separate-stderr "$BLKFUSE" --list "$img"
	assert_success
	assert_equal "$stderr" "blkfuse: warning: $img: primary GPT header is corrupt; using the backup header at the end of the disk"
	assert_line --partial 'backup GPT header (primary is corrupt)'
	assert_equal "$(blkfuse_ranges "$img")" "$(blkfuse_ranges "$GPT")"
	run bash -c "'$BLKFUSE' --list --json '$img' 2>/dev/null | jq -r .gpt_header"
	assert_output backup
	start_blkfuse "$img" "$MNT"
	local nr start size
	read -r nr start size < <(partx_ranges -n 2 "$GPT")
	cmp <(dd if="$img" bs=512 skip=$((start / 512)) count=$((size / 512)) status=none) "$MNT/p2"
	stop_blkfuse
}

@test "both GPT headers corrupt: protective MBR only, disk exposed, warning" {
	local img=$BATS_TEST_TMPDIR/deadgpt.img size
	cp "$GPT" "$img"
	size=$(stat -c %s "$img")
	printf 'XXXXXXXX' | dd of="$img" bs=1 seek=512 conv=notrunc status=none
	printf 'XXXXXXXX' | dd of="$img" bs=1 seek=$((size - 512)) conv=notrunc status=none
	run --separate-stderr "$BLKFUSE" --list "$img"
	assert_success
	assert_equal "$stderr" "blkfuse: warning: $img: protective MBR but no valid GPT header (primary and backup both bad); exposing only 'disk'"
}

@test "partitions past the end: clipped or not exposed, each named in a warning" {
	EXPECTED_LOG='p6 runs past the end|p4 starts at byte'
	local img=$BATS_TEST_TMPDIR/short.img cut=$((35 * 1048576))
	# cut at 35 MiB: p6 (29-39 MiB) runs past the end, p4 (47-57 MiB)
	# starts past it; p1, p2, p5 (18-28 MiB) are whole
	head -c "$cut" "$DOS" >"$img"
	local p4 p6 p6size
	read -r _ p4 _ < <(partx_ranges -n 4 "$DOS")
	read -r _ p6 p6size < <(partx_ranges -n 6 "$DOS")
	[ "$p4" -ge "$cut" ] && [ "$p6" -lt "$cut" ] && [ $((p6 + p6size)) -gt "$cut" ]
	run --separate-stderr "$BLKFUSE" --list "$img"
	assert_success
	assert_line --regexp '^ +4 .* beyond-end$'
	assert_line --regexp '^ +6 .* clipped$'
	assert_equal "$(grep -cE ' (clipped|beyond-end)$' <<<"$output")" 2
	assert_equal "$stderr" "$(printf '%s\n%s' \
		"blkfuse: warning: $img: p4 starts at byte $p4, past the end ($cut bytes); not exposed" \
		"blkfuse: warning: $img: p6 runs past the end; clipped to $((cut - p6)) of $p6size bytes")"
	run bash -c "'$BLKFUSE' --list --json '$img' 2>/dev/null | jq -r '.partitions[] | select(.nr == 6) | .size_bytes, .table_size_bytes, .flags'"
	assert_output "$(printf '%s\n%s\nclipped' $((cut - p6)) "$p6size")"
	start_blkfuse "$img" "$MNT"
	[ ! -e "$MNT/p4" ]
	# p6 is exactly the part of its range that exists: to the end of the image
	assert_equal "$(stat -c %s "$MNT/p6")" $((cut - p6))
	cmp <(tail -c +$((p6 + 1)) "$img") "$MNT/p6"
	stop_blkfuse
	run grep -c 'runs past the end\|past the end' "$DAEMON_LOG"
	assert_output 2
}

@test "size not a multiple of the sector: the tail is still in disk" {
	EXPECTED_LOG='is not a multiple of the 512-byte sector'
	local img=$BATS_TEST_TMPDIR/odd.img
	cp "$DOS" "$img"
	head -c 777 /dev/urandom >>"$img"
	run --separate-stderr "$BLKFUSE" --list "$img"
	assert_success
	[[ "$stderr" == *"is not a multiple of the 512-byte sector"* ]]
	start_blkfuse "$img" "$MNT"
	cmp "$img" "$MNT/disk"
	[ "$(stat -c %s "$MNT/disk")" -eq "$(stat -c %s "$img")" ]
}

@test "a looping EBR chain ends (no hang, bounded partitions)" {
	local img=$BATS_TEST_TMPDIR/loop.img
	cp "$DOS" "$img"
	# the first EBR (at the extended start, sector 34816) gets a link entry
	# pointing at itself: a chain that never ends
	printf '\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x50\x00\x00' |
		dd of="$img" bs=1 seek=$((34816 * 512 + 462)) conv=notrunc status=none
	run --separate-stderr timeout 20 "$BLKFUSE" --list "$img"
	assert_success
	[ "${#lines[@]}" -lt 300 ]
}

@test "--list --json is valid JSON with one entry per partition" {
	run bash -c "'$BLKFUSE' --list --json '$DOS' | jq '.partitions | length'"
	assert_success
	assert_output "$(partx -g "$DOS" | wc -l)"
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}

# ---- issue 10: libsmartcols columns, names, file systems --------------------

# gpt_with_names IMG: p1 "ÄÖÜäöü" holding ext4 labelled "x/y", p2 "abcdef",
# p3 a name with a terminal escape in it.
gpt_with_names() {
	local fs=$BATS_TEST_TMPDIR/p1fs.img
	random_image "$1" 16
	sfdisk -q "$1" <<-EOT
	label: gpt

	size=4MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="ÄÖÜäöü"
	size=4MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="abcdef"
	size=2MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="esc"
	EOT
	sgdisk -c 3:$'r\e[31mX' "$1" >/dev/null
	head -c 4M /dev/zero >"$fs"
	mkfs.ext4 -q -F -L 'x/y' "$fs"
	dd if="$fs" of="$1" bs=512 seek=2048 conv=notrunc status=none
}

@test "--list -o, --bytes, -n, -r, -P, -J: as partx and lsblk take them" {
	run --separate-stderr "$BLKFUSE" --list -o NR,START,SECTORS -n -r "$DOS"
	assert_success
	assert_output "$(partx -g -r -o NR,START,SECTORS "$DOS")"
	run --separate-stderr "$BLKFUSE" --list -o NR,SIZE --bytes -P "$GPT"
	assert_success
	assert_line 'NR="1" SIZE="8388608"'
	assert_equal "${#lines[@]}" 3
	run bash -c "'$BLKFUSE' --list -J -o NR,SIZE,NAME --bytes '$GPT' | jq -c '.partitions[1]'"
	assert_output '{"nr":2,"size":16777216,"name":"swap"}'
	# -o alone: the table only, with its headings
	run --separate-stderr "$BLKFUSE" --list -o NR,TYPE "$DOS"
	assert_equal "${lines[0]}" "NR TYPE"
	assert_equal "${#lines[@]}" 7
	# +COL adds to the default columns
	run --separate-stderr "$BLKFUSE" --list -n -r -o +FSUUID "$DOS"
	assert_equal "${#lines[@]}" 6
}

@test "--list type names from libfdisk's tables beside the code" {
	run --separate-stderr "$BLKFUSE" --list -n -r -o NR,TYPE,TYPENAME "$DOS"
	assert_line '3 0x5 Extended'
	assert_line '6 0x82 Linux\x20swap\x20/\x20Solaris'
	run --separate-stderr "$BLKFUSE" --list -n -P -o NR,TYPENAME "$GPT"
	assert_line 'NR="1" TYPENAME="Linux filesystem"'
	assert_line 'NR="3" TYPENAME="Microsoft basic data"'
	# the default table shows the name; +TYPE adds the code
	run --separate-stderr "$BLKFUSE" --list -o +TYPE "$DOS"
	assert_line --regexp '^ *3 +34816 +96255 +61440 +30M dos +Extended .* container +0x5$'
}

@test "--list: UTF-8 names keep columns aligned, escapes are escaped" {
	local img=$BATS_TEST_TMPDIR/names.img
	gpt_with_names "$img"
	run --separate-stderr "$BLKFUSE" --list -o NAME,NR "$img"
	assert_success
	# every line the same number of characters (not bytes): aligned
	run python3 -c 'import sys; print(len({len(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")}))' <(printf '%s\n' "$output")
	assert_output 1
	run --separate-stderr "$BLKFUSE" --list "$img"
	assert_success
	[[ "$output" != *$'\e'* ]] || fail "a raw escape reached the terminal"
	assert_line --partial 'r\x1b[31mX'
	# JSON keeps the real name
	run bash -c "'$BLKFUSE' --list -J -o NR,NAME '$img' | jq -r '.partitions[2].name'"
	assert_output $'r\e[31mX'
}

@test "--list FSTYPE, LABEL, FSUUID: the file system inside each partition" {
	local img=$BATS_TEST_TMPDIR/names.img
	gpt_with_names "$img"
	run --separate-stderr "$BLKFUSE" --list -n -P -o NR,FSTYPE,LABEL,FSUUID "$img"
	assert_line --regexp '^NR="1" FSTYPE="ext4" LABEL="x/y" FSUUID="[0-9a-f-]{36}"$'
	assert_line 'NR="2" FSTYPE="" LABEL="" FSUUID=""'
	run bash -c "'$BLKFUSE' --list --json '$img' 2>/dev/null | jq -r '.version, .partitions[0].fs_label'"
	assert_output $'4\nx/y'
}

@test "by-label/: file-system labels escaped as udev escapes them" {
	local img=$BATS_TEST_TMPDIR/names.img enc
	gpt_with_names "$img"
	dd if="$img" of="$BATS_TEST_TMPDIR/p1.img" bs=512 skip=2048 count=8192 status=none
	enc=$(blkid -p -o udev "$BATS_TEST_TMPDIR/p1.img" | sed -n 's/^ID_FS_LABEL_ENC=//p')
	assert_equal "$enc" 'x\x2fy'
	start_blkfuse "$img" "$MNT"
	assert_equal "$(readlink "$MNT/by-label/$enc")" ../p1
	cmp "$MNT/by-label/$enc" "$MNT/p1"
	assert_equal "$(ls "$MNT/by-label")" "$enc"
	stop_blkfuse
}

@test "a file system on the whole disk: by-uuid/, by-label/, no free/, named in layout.json" {
	local img=$BATS_TEST_TMPDIR/wholefs.img ID_FS_UUID ID_FS_LABEL_ENC
	head -c 8M /dev/zero >"$img"
	mkfs.ext4 -q -F -L 'a/b c' "$img"
	ID_FS_UUID=$(blkid -p -o udev "$img" | sed -n 's/^ID_FS_UUID=//p')
	ID_FS_LABEL_ENC=$(blkid -p -o udev "$img" | sed -n 's/^ID_FS_LABEL_ENC=//p')
	run --separate-stderr "$BLKFUSE" --list "$img"
	assert_success
	assert_line 'Table:       none'
	assert_line --regexp '^File system: ext4 on the whole disk'
	refute_line --partial 'free/'
	run bash -c "'$BLKFUSE' --list --json '$img' 2>/dev/null | jq -c '[.table, .disk_fs.fs_type, .disk_fs.fs_uuid, .disk_fs.fs_label, .disk_fs.file, (.free | length)]'"
	assert_output "[null,\"ext4\",\"$ID_FS_UUID\",\"a/b c\",\"disk\",0]"
	start_blkfuse "$img" "$MNT"
	assert_equal "$(readlink "$MNT/by-uuid/$ID_FS_UUID")" ../disk
	assert_equal "$(readlink "$MNT/by-label/$ID_FS_LABEL_ENC")" ../disk
	assert_equal "$ID_FS_LABEL_ENC" 'a\x2fb\x20c'
	assert_equal "$(ls "$MNT/free" | wc -l)" 0
	assert_equal "$(jq -r .disk_fs.fs_type "$MNT/layout.json")" ext4
	stop_blkfuse
}
