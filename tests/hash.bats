#!/usr/bin/env bats
# blkfuse hash: every digest equals the digest of dd's copy of the exact
# byte range that partx reports, and sha256sum -c reads what it prints.

load helpers

setup_file() {
	export IMG=$BATS_FILE_TMPDIR/gpt.img
	# 64 MiB: more 4 MiB chunks than blkfuse has buffers, so they are reused
	random_image "$IMG" 64
	sfdisk -q "$IMG" <<-EOT
	label: gpt

	size=8MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"
	size=27MiB, type=0657FD6D-A4AB-464C-90E6-3A6F5C8C2D47, name="swap"
	size=21MiB, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="data"
	EOT
	record_checksums "$IMG"
}

setup() {
	blkfuse_setup
}

teardown() {
	blkfuse_teardown
}

# extract NAME [IMAGE [PARTX_OPTION...]]: the bytes of NAME (disk or pN),
# the range as partx gives it (in 512-byte units whatever the sector size).
extract() {
	local name=$1 img=${2:-$IMG} start sectors
	shift $(($# < 2 ? $# : 2))
	if [ "$name" = disk ]; then
		cat "$img"
		return
	fi
	read -r start sectors < <(partx "$@" -g -o START,SECTORS -n "${name#p}" "$img")
	[ -n "$sectors" ] || return 1
	dd if="$img" bs=1M iflag=skip_bytes,count_bytes skip=$((start * 512)) \
		count=$((sectors * 512)) status=none
}

# digest TOOL NAME [IMAGE [PARTX_OPTION...]]: TOOL's hex digest of NAME.
digest() {
	local tool=$1 out
	shift
	out=$(set -o pipefail; extract "$@" | "$tool") || return 1
	echo "${out%% *}"
}

@test "the image has three partitions with distinct contents" {
	run partx -g -o NR "$IMG"
	assert_success
	assert_equal "$(echo $output)" "1 2 3"
	run sort -u < <(for n in disk p1 p2 p3; do digest sha256sum $n; done)
	assert_equal "${#lines[@]}" 4
}

@test "no NAME: sha256 of the whole source, as sha256sum gives it" {
	run --separate-stderr "$BLKFUSE" hash "$IMG"
	assert_success
	assert_output "$(sha256sum <"$IMG" | cut -d' ' -f1)  disk"
	# stderr is not a terminal: no progress, and nothing else either
	assert_equal "$stderr" ""
}

@test "disk and every pN, in the order given, equal dd of partx's range" {
	local want=() n
	for n in p3 disk p1 p2; do
		want+=("$(digest sha256sum $n)  $n")
	done
	run --separate-stderr "$BLKFUSE" hash "$IMG" p3 disk p1 p2
	assert_success
	assert_output "$(printf '%s\n' "${want[@]}")"
	assert_equal "$stderr" ""
}

@test "--algo sha1 and --algo md5 alone: the plain format of sha1sum, md5sum" {
	local algo n want
	for algo in sha1 md5; do
		want=$(for n in p1 p2 p3 disk; do
			echo "$(digest ${algo}sum $n)  $n"
		done)
		run "$BLKFUSE" hash --algo $algo "$IMG" p1 p2 p3 disk
		assert_success
		assert_output "$want"
	done
}

@test "several algorithms: BSD tags, one block per algorithm in --algo order" {
	local want=() algo tag n
	for algo in md5 sha256 sha1; do
		tag=$(echo $algo | tr a-z A-Z)
		for n in p2 disk p1; do
			want+=("$tag ($n) = $(digest ${algo}sum $n)")
		done
	done
	# a list, a repeated option, and a repeated name count once each
	run "$BLKFUSE" hash -a md5,sha256 --algo=SHA1 -a md5 "$IMG" p2 disk p1 p2
	assert_success
	assert_output "$(printf '%s\n' "${want[@]}")"
}

@test "--tag with one algorithm is the format of sha256sum --tag" {
	run "$BLKFUSE" hash --tag "$IMG" p1
	assert_success
	assert_output "SHA256 (p1) = $(digest sha256sum p1)"
}

@test "sha256sum -c, sha1sum -c, md5sum -c, cksum -c accept the output" {
	local dir=$BATS_TEST_TMPDIR/extracted n
	mkdir "$dir"
	for n in disk p1 p2 p3; do
		extract $n >"$dir/$n"
	done
	cd "$dir"
	"$BLKFUSE" hash "$IMG" disk p1 p2 p3 >"$BATS_TEST_TMPDIR/plain"
	"$BLKFUSE" hash -a sha256,sha1,md5 "$IMG" disk p1 p2 p3 \
		>"$BATS_TEST_TMPDIR/tagged"

	run sha256sum --strict -c "$BATS_TEST_TMPDIR/plain"
	assert_success
	assert_output "$(printf '%s: OK\n' disk p1 p2 p3)"
	for tool in sha256sum sha1sum md5sum cksum; do
		run $tool -c "$BATS_TEST_TMPDIR/tagged"
		assert_success
		assert_line "p3: OK"
	done
	run cksum --strict -c "$BATS_TEST_TMPDIR/tagged"
	assert_success
	assert_equal "$(grep -c ': OK$' <<<"$output")" 12

	# and they notice when a byte differs (from what it was: the image is
	# random, so a fixed byte would already be there one time in 256)
	local old
	old=$(od -An -tu1 -j4096 -N1 p2 | tr -d ' ')
	printf "\\$(printf %03o $(((old + 1) % 256)))" |
		dd of=p2 bs=1 seek=4096 conv=notrunc status=none
	[ "$(od -An -tu1 -j4096 -N1 p2 | tr -d ' ')" -ne "$old" ]
	run sha256sum -c "$BATS_TEST_TMPDIR/plain"
	assert_failure
	assert_line "p2: FAILED"
	run md5sum -c "$BATS_TEST_TMPDIR/tagged"
	assert_failure
	assert_line "p2: FAILED"
}

@test "sha256sum -c accepts the output in a blkfuse mount of the image" {
	[ -w /dev/fuse ] || skip "no /dev/fuse"
	"$BLKFUSE" hash -a sha256,md5 "$IMG" disk p1 p2 p3 >"$BATS_TEST_TMPDIR/sums"
	start_blkfuse "$IMG" "$MNT"
	cd "$MNT"
	run sha256sum -c "$BATS_TEST_TMPDIR/sums"
	assert_success
	assert_output --partial "$(printf '%s: OK\n' disk p1 p2 p3)"
	cd /
	stop_blkfuse
}

@test "an unknown partition: one line naming it, exit 1, nothing on stdout" {
	run --separate-stderr "$BLKFUSE" hash "$IMG" p1 p9
	assert_failure 1
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_equal "$stderr" \
		"blkfuse: error: p9: no such partition in $IMG (see 'blkfuse --list $IMG')"
}

@test "a NAME not spelled as a mount spells it: exit 1" {
	local name
	for name in p0 p01 p-1 p sda1 disk1 P1 ''; do
		run --separate-stderr "$BLKFUSE" hash "$IMG" "$name"
		assert_failure 1
		assert_output ""
		assert_equal "${#stderr_lines[@]}" 1
		assert_equal "${stderr_lines[0]}" \
			"blkfuse: error: $name: not 'disk', 'pN' (p1, p2, ...), a volume (p3.d/vg0-root) or 'fs/VOLUME/PATH'; see 'blkfuse hash --help'"
	done
}

@test "an unknown algorithm: one line, exit 1" {
	local list
	for list in sha3 sha256,crc32 sha256,,md5 ''; do
		run --separate-stderr "$BLKFUSE" hash --algo "$list" "$IMG"
		assert_failure 1
		assert_output ""
		assert_equal "${#stderr_lines[@]}" 1
		assert_regex "${stderr_lines[0]}" \
			"^blkfuse: error: --algo: unknown algorithm '(sha3|crc32|)' \(known: sha256, sha1, md5\)$"
	done
}

@test "a missing source: one line naming it, exit 1" {
	run --separate-stderr "$BLKFUSE" hash "$BATS_TEST_TMPDIR/nonexistent.img"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" \
		"blkfuse: error: $BATS_TEST_TMPDIR/nonexistent.img: No such file or directory"
}

@test "usage errors: no SOURCE, bad option, bad --sector-size: exit 1" {
	run --separate-stderr "$BLKFUSE" hash
	assert_failure 1
	assert_equal "$stderr" "blkfuse: error: hash: no SOURCE given; see 'blkfuse hash --help'"
	run --separate-stderr "$BLKFUSE" hash --frobnicate "$IMG"
	assert_failure 1
	assert_equal "$stderr" "blkfuse: error: unrecognized option '--frobnicate'
Try 'blkfuse hash --help' for more information."
	run --separate-stderr "$BLKFUSE" hash "$IMG" --algo
	assert_failure 1
	assert_equal "$stderr" "blkfuse: error: option '--algo' needs an argument
Try 'blkfuse hash --help' for more information."
	for ss in 1000 256 131072 4k; do
		run --separate-stderr "$BLKFUSE" hash --sector-size "$ss" "$IMG"
		assert_failure 1
		assert_equal "${#stderr_lines[@]}" 1
	done
}

@test "a read error: one line with the source and the failing offset, exit 2" {
	local faulty=$REPO/tests/faulty_fs start sectors bad want
	[ -x "$faulty" ] || skip "tests/faulty_fs not built (make all)"
	[ -w /dev/fuse ] || skip "no /dev/fuse"
	read -r start sectors < <(partx -g -o START,SECTORS -n 2 "$IMG")
	# one bad byte in p2, inside its 1001st sector
	bad=$(((start + 1000) * 512 + 77))
	FAULTY_MNT=$BATS_TEST_TMPDIR/faulty
	mkdir "$FAULTY_MNT"
	"$faulty" "$IMG" "$bad" 1 "$FAULTY_MNT"	# daemonizes once mounted

	run --separate-stderr "$BLKFUSE" hash -a sha256,md5 "$FAULTY_MNT/img" p1 p2 p3
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" \
		"blkfuse: error: $FAULTY_MNT/img: read error at byte $(((start + 1000) * 512)): Input/output error"

	# what does not cover the bad sector is still hashed, and right
	run --separate-stderr "$BLKFUSE" hash "$FAULTY_MNT/img" p3 p1
	assert_success
	assert_output "$(printf '%s  p3\n%s  p1' "$(digest sha256sum p3)" "$(digest sha256sum p1)")"
}

@test "--sector-size 4096: the partitions of a 4K-sector table" {
	local img=$BATS_TEST_TMPDIR/4k.img n want
	head -c $((16 * 1024 * 1024)) /dev/urandom >"$img"
	LOOP=$(losetup -b 4096 -f --show "$img" 2>/dev/null) || skip "no loop device"
	sfdisk -q "$LOOP" >/dev/null 2>&1 <<-EOT || true
	label: gpt

	size=4MiB, name="a"
	size=6MiB, name="b"
	EOT
	losetup -d "$LOOP"
	LOOP=
	want=$(for n in p1 p2; do
		echo "$(digest sha256sum $n "$img" -S 4096)  $n"
	done)
	[ "$(grep -c '^[0-9a-f]\{64\}  p[12]$' <<<"$want")" -eq 2 ]
	run "$BLKFUSE" hash --sector-size 4096 "$img" p1 p2
	assert_success
	assert_output "$want"
	run "$BLKFUSE" hash --sector-size=4096 "$img" p2
	assert_success
	assert_output "$(sed -n 2p <<<"$want")"
	# read as 512-byte sectors there is no table, so no p1
	run "$BLKFUSE" hash "$img" p1
	assert_failure 1
}

@test "stdout that cannot be written: exit 1, said so" {
	run --separate-stderr "$BLKFUSE" hash "$IMG" p1
	assert_success
	run --separate-stderr bash -c '"$1" hash "$2" p1 >/dev/full' _ "$BLKFUSE" "$IMG"
	assert_failure 1
	assert_equal "$stderr" "blkfuse: error: stdout: No space left on device"
}

@test "on a terminal, a progress line on stderr; the digests unchanged" {
	command -v script >/dev/null || skip "no script(1)"
	run script -qec "'$BLKFUSE' hash '$IMG' p2" /dev/null
	assert_success
	assert_output --regexp $'\r\[[# ]{20}\] +[0-9]+%  .* MiB/s  ETA '
	# the line is erased before the digest is printed
	assert_output --partial $'\r\e[K'"$(digest sha256sum p2)  p2"
}

@test "--help: usage, formats, exit status" {
	run --separate-stderr "$BLKFUSE" hash --help
	assert_success
	assert_line --index 0 "Usage:"
	assert_output --partial "blkfuse hash [--algo ALGO[,ALGO...]]"
	assert_output --partial "sha256sum -c"
	assert_output --partial "Exit status:"
	assert_line --regexp '^ 2  read error'
	assert_equal "$stderr" ""
	run "$BLKFUSE" hash -h
	assert_success
	assert_line --index 0 "Usage:"
}

@test "the image is unchanged: hashing never wrote to it" {
	assert_sources_unchanged
}
