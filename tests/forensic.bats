#!/usr/bin/env bats
# Forensic use: free space as mmls sees it, by-* aliases, layout.json,
# hash verification, the audit trail, exclusive access, the kernel's
# read-only flag, and zero-filling unreadable sectors.

load helpers

setup_file() {
	export DOS=$BATS_FILE_TMPDIR/dos.img GPT=$BATS_FILE_TMPDIR/gpt.img
	make_dos_image "$DOS"
	make_gpt_image "$GPT"
	# an ext4 file system in p1 of the GPT image, for by-uuid
	local start size
	read -r _ start size < <(partx_ranges -n 1 "$GPT")
	mkfs.ext4 -q -F -U 0c1fd4b6-1d7e-4b5b-9a7e-0a3b1e6a5c11 "$BATS_FILE_TMPDIR/p1.fs" $((size / 1024))k
	dd if="$BATS_FILE_TMPDIR/p1.fs" of="$GPT" bs=512 seek=$((start / 512)) conv=notrunc status=none
	record_checksums "$DOS" "$GPT"
}

setup() {
	blkfuse_setup
}

teardown() {
	blkfuse_teardown
}

# mmls's Unallocated rows as "start_bytes size_bytes".
mmls_free() {
	mmls "$@" | awk '$NF == "Unallocated" { printf "%.0f %.0f\n", $3 * 512, $5 * 512 }'
}

blkfuse_free() {
	"$BLKFUSE" --list --json "$@" 2>/dev/null | jq -r '.free[] | "\(.start_bytes) \(.size_bytes)"'
}

@test "free/ is exactly mmls's Unallocated (DOS with extended, GPT), byte for byte" {
	local img s z name
	for img in "$DOS" "$GPT"; do
		assert_equal "$(blkfuse_free "$img")" "$(mmls_free "$img")"
		start_blkfuse "$img" "$MNT"
		while read -r s z; do
			name=$(printf '%010d-%010d' $((s / 512)) $(((s + z) / 512 - 1)))
			[ "$(stat -c %s "$MNT/free/$name")" -eq "$z" ]
			cmp <(dd if="$img" bs=512 skip=$((s / 512)) count=$((z / 512)) status=none) "$MNT/free/$name"
		done < <(mmls_free "$img")
		[ "$(ls "$MNT/free" | wc -l)" -eq "$(mmls_free "$img" | wc -l)" ]
		stop_blkfuse
	done
}

@test "free/ on the shared testdata images agrees with mmls where mmls knows the table" {
	[ -d "$TESTDATA/pt" ] || skip "$TESTDATA_SKIP"
	local n img
	for n in gpt dos+bsd; do
		img=$BATS_TEST_TMPDIR/$n.img
		xz -dc "$TESTDATA/pt/$n.img.xz" >"$img"
		# dos+bsd: the BSD slices lie inside p2, which is allocated
		assert_equal "$(blkfuse_free "$img")" "$(mmls_free -t "$( [ $n = gpt ] && echo gpt || echo dos )" "$img")"
	done
}

@test "--no-free hides free/" {
	start_blkfuse --no-free "$DOS" "$MNT"
	[ ! -e "$MNT/free" ]
	[ -e "$MNT/p1" ]
}

@test "by-partuuid, by-partlabel, by-uuid link to the right pN" {
	start_blkfuse "$GPT" "$MNT"
	local nr name uuid
	while read -r nr name uuid; do
		assert_equal "$(readlink "$MNT/by-partlabel/$name")" "../p$nr"
		assert_equal "$(readlink "$MNT/by-partuuid/${uuid,,}")" "../p$nr"
		cmp "$MNT/by-partlabel/$name" "$MNT/p$nr"
	done < <(partx -g -o NR,NAME,UUID "$GPT")
	assert_equal "$(readlink "$MNT/by-uuid/0c1fd4b6-1d7e-4b5b-9a7e-0a3b1e6a5c11")" ../p1
	assert_equal "$(blkid -o value -s UUID "$MNT/p1")" 0c1fd4b6-1d7e-4b5b-9a7e-0a3b1e6a5c11
	[ "$(ls "$MNT/by-uuid" | wc -l)" -eq 1 ]
}

@test "layout.json is the --list --json document, and says what an examiner needs" {
	start_blkfuse "$DOS" "$MNT"
	assert_equal "$(jq -S . "$MNT/layout.json")" "$("$BLKFUSE" --list --json "$DOS" 2>/dev/null | jq -S .)"
	run jq -r '.opened, .sector_size, .sector_size_from, .table, (.partitions | length), (.free | length)' "$MNT/layout.json"
	assert_output "$(printf 'O_RDONLY\n512\ndefault\ndos\n6\n%s' "$(mmls_free "$DOS" | wc -l)")"
	run jq -r '.partitions[] | select(.nr == 3) | .flags' "$MNT/layout.json"
	assert_output container
}

@test "--verify: a match mounts; a mismatch refuses with exit 3 and no mount" {
	local good bad
	good=sha256:$(sha256sum "$DOS" | cut -d' ' -f1)
	bad=sha256:$(echo x | sha256sum | cut -d' ' -f1)
	run --separate-stderr "$BLKFUSE" -f --verify "$bad" "$DOS" "$MNT"
	assert_equal "$status" 3
	[[ "$stderr" == *"hash mismatch: expected $bad, found $good; not mounting"* ]]
	run mountpoint -q "$MNT"
	assert_failure
	start_blkfuse --verify "${good^^}" "$DOS" "$MNT"
	cmp "$DOS" "$MNT/disk"
	stop_blkfuse
	grep -q "verified $good" "$DAEMON_LOG"
	run --separate-stderr "$BLKFUSE" -f --verify md5:$(md5sum "$DOS" | cut -d' ' -f1 | tr 0-9a-f 1-9a-f0) "$DOS" "$MNT"
	assert_equal "$status" 3
}

@test "--audit: start, one line per open/read/release under parallel readers, stop with --verify-after" {
	local log=$BATS_TEST_TMPDIR/case42.jsonl
	start_blkfuse --audit "$log" --verify-after "$DOS" "$MNT"
	local p pids=()
	for p in p1 p2 p4 p5 p6 disk; do
		dd if="$MNT/$p" of=/dev/null bs=64K status=none &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	dd if="$MNT/p1" of=/dev/null bs=4096 count=3 skip=7 iflag=direct status=none
	local reads=0 n
	for p in disk p1 p2 p3 p4 p5 p6; do
		n=$(ctl_get "file.$p.reads")
		reads=$((reads + n))
	done
	stop_blkfuse
	# every line is JSON; the counts match the daemon's own
	run jq -c . "$log"
	assert_success
	assert_equal "$(jq -r 'select(.ev == "read") | .ev' "$log" | wc -l)" "$reads"
	assert_equal "$(jq -r 'select(.ev == "open" and .comm == "dd") | .file' "$log" | wc -l)" 7
	assert_equal "$(jq -r 'select(.ev == "release") | .file' "$log" | wc -l)" 7
	# the O_DIRECT reads are there exactly, with who did them
	# lines land as reads complete; their ts (arrival) orders them
	run jq -sc 'map(select(.ev == "read" and .file == "p1" and .offset >= 28672 and .offset <= 36864 and .length == 4096)) | sort_by(.ts)[] | [.offset, .returned, .errno, .uid, .comm]' "$log"
	assert_output "$(printf '[%s,4096,0,0,"dd"]\n' 28672 32768 36864)"
	[ "$(jq -r 'select(.ev == "read") | .pid' "$log" | grep -vc '^0$')" -gt 0 ]
	# start and stop records
	run jq -r 'select(.ev == "start") | .source, .opened, .size' "$log"
	assert_output "$(printf '%s\nO_RDONLY\n%s' "$DOS" "$(stat -c %s "$DOS")")"
	run jq -r 'select(.ev == "stop") | .verify_after, .exit' "$log"
	assert_output "$(printf 'sha256:%s\n0' "$(sha256sum "$DOS" | cut -d' ' -f1)")"
	# timestamps with nanoseconds
	[ -z "$(jq -r '.ts' "$log" | grep -Ev '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z$')" ]
}

@test "--audit: SIGHUP flushes and reopens, so rotation loses no line" {
	local log=$BATS_TEST_TMPDIR/audit.jsonl
	start_blkfuse --audit "$log" "$DOS" "$MNT"
	dd if="$MNT/p1" of=/dev/null bs=4096 count=5 iflag=direct status=none
	mv "$log" "$log.1"
	kill -HUP "$DAEMON_PID"
	for _ in $(seq 100); do [ -e "$log" ] && break; sleep 0.05; done
	[ -e "$log" ]
	dd if="$MNT/p2" of=/dev/null bs=4096 count=3 iflag=direct status=none
	stop_blkfuse
	assert_equal "$(jq -r 'select(.ev == "read" and .file == "p1") | .ev' "$log.1" | wc -l)" 5
	assert_equal "$(jq -r 'select(.ev == "read" and .file == "p2") | .ev' "$log" | wc -l)" 3
	assert_equal "$(jq -r 'select(.ev == "stop") | .ev' "$log")" stop
}

@test "--exclusive: a second exclusive blkfuse is refused; so is a source mounted rw" {
	start_blkfuse --exclusive "$DOS" "$MNT"
	run jq -r .opened "$MNT/layout.json"
	assert_output 'O_RDONLY, flock(LOCK_EX)'
	run --separate-stderr "$BLKFUSE" --exclusive --list "$DOS"
	assert_equal "$status" 1
	assert_equal "$stderr" "blkfuse: error: $DOS: cannot lock exclusively: locked by another process"
	cleanup_daemon
	# an image whose loop device is mounted read-write
	local fsimg=$BATS_TEST_TMPDIR/fs.img
	FSMNT=$BATS_TEST_TMPDIR/fsmnt
	mkdir -p "$FSMNT"
	cp "$BATS_FILE_TMPDIR/p1.fs" "$fsimg"
	LOOP=$(losetup -f --show "$fsimg")
	mount "$LOOP" "$FSMNT"
	run --separate-stderr "$BLKFUSE" --exclusive --list "$fsimg"
	assert_equal "$status" 1
	assert_equal "$stderr" "blkfuse: error: $fsimg: mounted read-write on $FSMNT; refusing (--exclusive)"
	run --separate-stderr "$BLKFUSE" --exclusive --list "$LOOP"
	assert_equal "$status" 1
	assert_equal "$stderr" "blkfuse: error: $LOOP: mounted read-write on $FSMNT; refusing (--exclusive)"
	# read-only mounts are fine
	mount -o remount,ro "$FSMNT"
	run "$BLKFUSE" --exclusive --list "$fsimg"
	assert_success
}

@test "--set-ro sets the kernel's flag on the device and partitions, then restores it" {
	cp "$DOS" "$BATS_TEST_TMPDIR/rw.img"
	LOOP=$(losetup -f --show "$BATS_TEST_TMPDIR/rw.img")
	partx -a "$LOOP"
	assert_equal "$(blockdev --getro "$LOOP")" 0
	start_blkfuse --set-ro "$LOOP" "$MNT"
	assert_equal "$(blockdev --getro "$LOOP")" 1
	assert_equal "$(blockdev --getro "${LOOP}p1")" 1
	assert_equal "$(blockdev --getro "${LOOP}p5")" 1
	run dd if=/dev/zero of="${LOOP}p1" bs=512 count=1 oflag=direct status=none
	assert_failure
	cmp "${LOOP}p1" "$MNT/p1"
	stop_blkfuse
	grep -q "$LOOP: read-only flag set (it was off)" "$DAEMON_LOG"
	assert_equal "$(blockdev --getro "$LOOP")" 0
	assert_equal "$(blockdev --getro "${LOOP}p1")" 0
	run --separate-stderr "$BLKFUSE" --set-ro --list "$DOS"
	assert_success	# --list does not set anything
	run --separate-stderr "$BLKFUSE" -f --set-ro "$DOS" "$MNT"
	assert_equal "$status" 1
	assert_equal "$stderr" "blkfuse: error: $DOS: --set-ro needs a block device"
}

@test "--on-error=zero: unreadable sectors read as zeros, each logged and audited" {
	EXPECTED_LOG='p5: Input/output error at source offset [0-9]+, 1024 bytes: filled with zeros'
	local fmnt=$BATS_TEST_TMPDIR/faulty log=$BATS_TEST_TMPDIR/audit.jsonl
	mkdir -p "$fmnt"
	# p5 starts at 18 MiB; bytes 20 MiB .. 20 MiB + 1 KiB fail
	"$REPO/tests/faulty_fs" "$DOS" $((20 * 1048576)) 1024 "$fmnt" -f 2>/dev/null &
	FAULTY_PID=$! FAULTY_MNT=$fmnt
	for _ in $(seq 200); do [ -e "$fmnt/img" ] && break; sleep 0.05; done
	start_blkfuse --on-error=zero --audit "$log" "$fmnt/img" "$MNT"
	dd if="$MNT/p5" of="$BATS_TEST_TMPDIR/p5" bs=4096 skip=511 count=3 iflag=direct status=none
	# 4 KiB before, then 1 KiB of zeros, 7 KiB of data, then 4 KiB
	cmp <(dd if="$DOS" bs=4096 skip=$(( (18 * 1048576) / 4096 + 511 )) count=1 status=none) <(head -c 4096 "$BATS_TEST_TMPDIR/p5")
	cmp <(head -c 1024 /dev/zero) <(tail -c +4097 "$BATS_TEST_TMPDIR/p5" | head -c 1024)
	cmp <(dd if="$DOS" bs=1024 skip=$(( 20 * 1024 + 1 )) count=7 status=none) <(tail -c +5121 "$BATS_TEST_TMPDIR/p5" | head -c 7168)
	stop_blkfuse
	grep -q "p5: Input/output error at source offset $((20 * 1048576)), 1024 bytes: filled with zeros" "$DAEMON_LOG"
	run jq -c 'select(.ev == "zeroed") | [.file, .offset, .length, .errno]' "$log"
	assert_output "[\"p5\",$((2 * 1048576)),1024,5]"
	run jq -r 'select(.ev == "stop") | .zeroed_bytes' "$log"
	assert_output 1024
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
