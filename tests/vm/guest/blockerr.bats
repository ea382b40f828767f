#!/usr/bin/env bats
# Guest test: real block-layer I/O errors (device-mapper's error target in
# the middle of a disk), read through blkfuse: EIO by default, zeros for
# exactly the bad sectors with --on-error=zero.
load guest
BAD_START=20480		# sectors 20480..20487 (10 MiB in, 4 KiB) are bad
BAD_LEN=8

setup_file() {
	[ -n "${BLKFUSE_IN_VM:-}" ] || return 0
	IMG=$BATS_FILE_TMPDIR/disk.img
	dd if=/dev/urandom of="$IMG" bs=1M count=32 status=none
	sfdisk -q "$IMG" <<-EOT
	label: dos
	unit: sectors

	p1 : start=2048, size=40960, type=83
	EOT
	sha256sum "$IMG" >"$BATS_FILE_TMPDIR/sha"
	LOOP=$(losetup -r -f --show "$IMG")
	local total=$((32 * 2048))
	# no udev in the guest: no sync with it, and make the node ourselves
	dmsetup create blkfuse-bad --readonly --noudevsync <<-EOT
	0 $BAD_START linear $LOOP 0
	$BAD_START $BAD_LEN error
	$((BAD_START + BAD_LEN)) $((total - BAD_START - BAD_LEN)) linear $LOOP $((BAD_START + BAD_LEN))
	EOT
	dmsetup mknodes blkfuse-bad
	echo "$LOOP" >"$BATS_FILE_TMPDIR/loop"
	export IMG LOOP
}

teardown_file() {
	[ -n "${BLKFUSE_IN_VM:-}" ] || return 0
	dmsetup remove --noudevsync blkfuse-bad 2>/dev/null
	losetup -d "$(cat "$BATS_FILE_TMPDIR/loop")" 2>/dev/null
	return 0
}

setup() {
	guest_setup
}

teardown() {
	guest_teardown
}

@test "the dm device really fails there (the oracle)" {
	run dd if=/dev/mapper/blkfuse-bad of=/dev/null bs=512 skip=$BAD_START count=1 iflag=direct
	assert_failure
	dd if=/dev/mapper/blkfuse-bad of=/dev/null bs=512 skip=$((BAD_START - 1)) count=1 iflag=direct
}

@test "a read over the bad sectors gets EIO; the rest of p1 reads fine" {
	EXPECTED_LOG='p1: read of 4096 bytes at source offset [0-9]+: Input/output error'
	start /dev/mapper/blkfuse-bad "$MNT"
	# p1 starts at sector 2048: the bad range is at p1 offset (20480-2048)*512
	local off=$(( (BAD_START - 2048) * 512 ))
	run dd if="$MNT/p1" of=/dev/null bs=4096 skip=$((off / 4096)) count=1 iflag=direct
	assert_failure
	assert_output --partial 'Input/output error'
	cmp <(dd if="$IMG" bs=512 skip=2048 count=8192 status=none) \
		<(dd if="$MNT/p1" bs=4096 count=1024 iflag=direct status=none)
	grep -q 'Input/output error' "$LOG"
}

@test "--on-error=zero: exactly the bad sectors read as zeros, logged and audited" {
	EXPECTED_LOG='p1: Input/output error at source offset [0-9]+, 4096 bytes: filled with zeros'
	start --on-error=zero --audit "$BATS_TEST_TMPDIR/audit.jsonl" /dev/mapper/blkfuse-bad "$MNT"
	local off=$(( (BAD_START - 2048) * 512 ))
	dd if="$MNT/p1" of="$BATS_TEST_TMPDIR/out" bs=4096 skip=$((off / 4096 - 1)) count=3 iflag=direct status=none
	cmp <(dd if="$IMG" bs=512 skip=$((BAD_START - 8)) count=8 status=none) <(head -c 4096 "$BATS_TEST_TMPDIR/out")
	cmp <(head -c 4096 /dev/zero) <(tail -c +4097 "$BATS_TEST_TMPDIR/out" | head -c 4096)
	cmp <(dd if="$IMG" bs=512 skip=$((BAD_START + 8)) count=8 status=none) <(tail -c 4096 "$BATS_TEST_TMPDIR/out")
	fusermount3 -u "$MNT"
	wait "$DAEMON_PID"
	DAEMON_PID=
	grep -q "p1: Input/output error at source offset $((BAD_START * 512)), 4096 bytes: filled with zeros" "$LOG"
	grep -q '"ev":"zeroed","file":"p1","offset":'"$off"',"length":4096' "$BATS_TEST_TMPDIR/audit.jsonl"
}

@test "the image is unchanged" {
	sha256sum -c "$BATS_FILE_TMPDIR/sha"
}
