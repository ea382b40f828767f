#!/usr/bin/env bats
# Bad input: one clear line naming the object, non-zero exit, no mount left,
# no crash, no hang, nothing written.

load helpers

setup_file() {
	export IMG=$BATS_FILE_TMPDIR/dos.img
	make_dos_image "$IMG"
	record_checksums "$IMG"
}

setup() {
	blkfuse_setup
}

teardown() {
	blkfuse_teardown
}

# refuse ARGS... : blkfuse must fail with exit 1 and exactly one stderr line.
refuse() {
	run --separate-stderr timeout 10 "$BLKFUSE" -f "$@"
	assert_equal "$status" 1
	assert_equal "$(printf '%s\n' "$stderr" | grep -c .)" 1
	run mountpoint -q "$MNT"
	assert_failure
}

@test "missing source" {
	refuse /nonexistent/sdz "$MNT"
	assert_equal "$stderr" "blkfuse: error: /nonexistent/sdz: No such file or directory"
}

@test "source is a directory" {
	refuse "$BATS_TEST_TMPDIR" "$MNT"
	assert_equal "$stderr" "blkfuse: error: $BATS_TEST_TMPDIR: Is a directory"
}

@test "source is a FIFO (no hang)" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	refuse "$BATS_TEST_TMPDIR/fifo" "$MNT"
	assert_equal "$stderr" "blkfuse: error: $BATS_TEST_TMPDIR/fifo: not a block device or regular file"
}

@test "source is a character device" {
	refuse /dev/null "$MNT"
	assert_equal "$stderr" "blkfuse: error: /dev/null: not a block device or regular file"
}

@test "empty source" {
	: >"$BATS_TEST_TMPDIR/empty.img"
	refuse "$BATS_TEST_TMPDIR/empty.img" "$MNT"
	assert_equal "$stderr" "blkfuse: error: $BATS_TEST_TMPDIR/empty.img: empty source (0 bytes)"
}

@test "unreadable source (as an unprivileged user)" {
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	cp "$IMG" "$BATS_TEST_TMPDIR/secret.img"
	chmod 0600 "$BATS_TEST_TMPDIR/secret.img"
	chmod 0755 "$BATS_TEST_TMPDIR"
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$BLKFUSE" --list "$BATS_TEST_TMPDIR/secret.img"
	assert_equal "$status" 1
	assert_equal "$stderr" "blkfuse: error: $BATS_TEST_TMPDIR/secret.img: Permission denied"
}

@test "mountpoint missing" {
	refuse "$IMG" "$BATS_TEST_TMPDIR/nodir"
	assert_equal "$stderr" "blkfuse: error: $BATS_TEST_TMPDIR/nodir: No such file or directory"
}

@test "mountpoint is not a directory" {
	touch "$BATS_TEST_TMPDIR/file"
	refuse "$IMG" "$BATS_TEST_TMPDIR/file"
	assert_equal "$stderr" "blkfuse: error: $BATS_TEST_TMPDIR/file: Not a directory"
}

@test "usage errors say what and point to --help" {
	run --separate-stderr "$BLKFUSE"
	assert_equal "$status" 1
	assert_equal "${stderr_lines[0]}" "blkfuse: error: no SOURCE given"
	assert_equal "${stderr_lines[1]}" "Try 'blkfuse --help' for more information."
	run --separate-stderr "$BLKFUSE" "$IMG"
	assert_equal "$status" 1
	assert_equal "${stderr_lines[0]}" "blkfuse: error: no MOUNTPOINT given"
	run --separate-stderr "$BLKFUSE" "$IMG" "$MNT" extra
	assert_equal "${stderr_lines[0]}" "blkfuse: error: too many arguments"
	run --separate-stderr "$BLKFUSE" -o rw "$IMG" "$MNT"
	assert_equal "$status" 1
	assert_equal "${stderr_lines[0]}" "blkfuse: error: 'rw' is not possible: blkfuse is read-only"
	run --separate-stderr "$BLKFUSE" --sector-size 1000 --list "$IMG"
	assert_equal "$status" 1
	assert_equal "${stderr_lines[0]}" "blkfuse: error: --sector-size must be a power of two from 512 to 65536"
	run --separate-stderr "$BLKFUSE" -o max_reply=5000 "$IMG" "$MNT"
	assert_equal "$status" 1
	run --separate-stderr "$BLKFUSE" -o no_such_option "$IMG" "$MNT"
	assert_equal "$status" 1
	run mountpoint -q "$MNT"
	assert_failure
}

@test "--help and --version" {
	run "$BLKFUSE" --help
	assert_success
	assert_line --partial 'blkfuse [options] SOURCE MOUNTPOINT'
	assert_line --partial 'max_reply=BYTES'
	# only what blkfuse honours, once, with blkfuse's defaults
	refute_line --partial 'FUSE options:'
	# clone_fd once: blkfuse's own (libfuse's loop option is not used)
	assert_equal "$(grep -c 'clone_fd' <<<"$output")" 1
	refute_line --partial 'max_idle_threads'
	refute_line --partial 'auto_unmount'
	assert_line --regexp 'max_threads=N +worker threads \(default 4\)'
	assert_equal "$(grep -c -e '-h, --help' <<<"$output")" 1
	assert_equal "$(grep -c -e '-V, --version' <<<"$output")" 1
	run "$BLKFUSE" -V
	assert_success
	assert_output --regexp '^blkfuse [0-9]+\.[0-9]+\.[0-9]+ '
}

@test "fstab words are accepted and the mount is still read-only" {
	start_blkfuse -o auto,nofail,_netdev,x-systemd.automount,defaults "$IMG" "$MNT"
	grep -q " $MNT fuse.blkfuse ro," /proc/mounts
	cmp "$IMG" "$MNT/disk"
}

@test "a failed start reports 'f' on the notify pipe" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	"$BLKFUSE" -f -o notify_pipe="$BATS_TEST_TMPDIR/fifo" /nonexistent "$MNT" 2>/dev/null &
	local pid=$!
	run timeout 10 head -c1 "$BATS_TEST_TMPDIR/fifo"
	assert_output f
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 1 ]
}

@test "an I/O error in the source reaches the reader as EIO; other reads go on" {
	EXPECTED_LOG='p5: read of 4096 bytes at source offset [0-9]+: Input/output error'
	local fmnt=$BATS_TEST_TMPDIR/faulty
	mkdir -p "$fmnt"
	# bytes 20 MiB .. 20 MiB+4 KiB are "bad": that is inside p2 (9-17 MiB is
	# p2? no: p5 starts at 18 MiB), so p5 has a bad sector at its offset 2 MiB
	"$REPO/tests/faulty_fs" "$IMG" $((20 * 1048576)) 4096 "$fmnt" -f 2>"$BATS_TEST_TMPDIR/faulty.log" &
	FAULTY_PID=$! FAULTY_MNT=$fmnt
	for _ in $(seq 200); do [ -e "$fmnt/img" ] && break; sleep 0.05; done
	start_blkfuse "$fmnt/img" "$MNT"
	run dd if="$MNT/p5" of=/dev/null bs=4096 skip=512 count=1 iflag=direct
	assert_failure
	assert_output --partial 'Input/output error'
	# the daemon is still serving, and good ranges read fine
	cmp <(dd if="$IMG" bs=512 skip=2048 count=16384 status=none) "$MNT/p1"
	cmp <(dd if="$IMG" bs=512 skip=36864 count=4096 status=none) <(dd if="$MNT/p5" bs=4096 count=512 iflag=direct status=none)
	stop_blkfuse
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
