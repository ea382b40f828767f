#!/usr/bin/env bats
# Issue 10, points 8 and 10: --verify-after reports where it can be seen
# (progress on a terminal, stderr, exit status 3, the control snapshot),
# and the audit trail names the opener in release records, the source by
# its absolute path, and begins each rotated file with a "rotated" record.

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
	if [ -n "${SCRIPT_PID:-}" ]; then
		! mountpoint -q "$MNT" || fusermount3 -u -z "$MNT"
		kill "$SCRIPT_PID" 2>/dev/null || true
		wait "$SCRIPT_PID" 2>/dev/null || true
	fi
	blkfuse_teardown
}

@test "release records carry the opener's pid, uid and full 15-character comm" {
	local log=$BATS_TEST_TMPDIR/a.jsonl prog=$BATS_TEST_TMPDIR/averylongprocessname pid
	cp "$(command -v head)" "$prog"
	start_blkfuse --audit "$log" "$IMG" "$MNT"
	"$prog" -c 8192 "$MNT/p1" >/dev/null &
	pid=$!
	wait "$pid"
	stop_blkfuse
	run jq -c "select(.ev == \"release\" and .file == \"p1\") | [.pid, .uid, .comm]" "$log"
	assert_output "[$pid,0,\"averylongproces\"]"
	run jq -c "select(.ev == \"open\" and .file == \"p1\") | [.pid, .comm]" "$log"
	assert_output "[$pid,\"averylongproces\"]"
	# no release record without its opener
	assert_equal "$(jq -r 'select(.ev == "release") | .pid' "$log" | grep -c '^0$')" 0
}

@test "the audit's source is absolute when given relative" {
	local log=$BATS_TEST_TMPDIR/a.jsonl
	cd "$(dirname "$IMG")"
	start_blkfuse --audit "$log" "$(basename "$IMG")" "$MNT"
	stop_blkfuse
	run jq -r 'select(.ev == "start") | .source' "$log"
	assert_output "$IMG"
}

@test "SIGHUP: the new file begins with a rotated record that chains to the old" {
	local log=$BATS_TEST_TMPDIR/audit.jsonl
	start_blkfuse --audit "$log" "$IMG" "$MNT"
	dd if="$MNT/p1" of=/dev/null bs=4096 count=5 iflag=direct status=none
	mv "$log" "$log.1"
	kill -HUP "$DAEMON_PID"
	for _ in $(seq 200); do [ -s "$log" ] && break; sleep 0.05; done
	[ -s "$log" ]
	stop_blkfuse
	run jq -r 'select(.ev == "start") | .session' "$log.1"
	assert_success
	local session=$output
	[ ${#session} -eq 32 ]
	run jq -c -s '.[0] | [.ev, .session, .source, .lines_before, .sha256_before]' "$log"
	assert_output "[\"rotated\",\"$session\",\"$IMG\",$(wc -l <"$log.1"),\"$(sha256sum <"$log.1" | cut -d' ' -f1)\"]"
}

@test "--verify-after: pending in the snapshot while mounted; - without it" {
	start_blkfuse --verify-after "$IMG" "$MNT"
	assert_equal "$(ctl_get verify_after)" pending
	stop_blkfuse
	start_blkfuse "$IMG" "$MNT"
	assert_equal "$(ctl_get verify_after)" -
	stop_blkfuse
}

@test "--verify-after: a source changed under the mount is exit 3, said on stderr and in the audit" {
	local img=$BATS_TEST_TMPDIR/changing.img log=$BATS_TEST_TMPDIR/a.jsonl sum
	cp "$IMG" "$img"
	sum=$(sha256sum <"$img" | cut -d' ' -f1)
	start_blkfuse --verify "sha256:$sum" --verify-after --audit "$log" "$img" "$MNT"
	printf 'X' | dd of="$img" bs=1 seek=1000000 conv=notrunc status=none
	local rc=0
	stop_blkfuse || rc=$?
	assert_equal "$rc" 3
	grep -q "after unmount: sha256:.* (MISMATCH)" "$DAEMON_LOG"
	run jq -c 'select(.ev == "stop") | [.exit, .verify_after_matches]' "$log"
	assert_output '[3,false]'
	# and when it matches: 0, said too
	DAEMON_LOG=$BATS_TEST_TMPDIR/d2.log
	start_blkfuse --verify "sha256:$(sha256sum <"$img" | cut -d' ' -f1)" --verify-after "$img" "$MNT"
	stop_blkfuse
	grep -q "after unmount: sha256:.* (matches)" "$DAEMON_LOG"
}

@test "--verify-after: a progress line on a terminal" {
	local fifo=$BATS_TEST_TMPDIR/n.fifo ts=$BATS_TEST_TMPDIR/typescript r
	mkfifo "$fifo"
	script -qfec "'$BLKFUSE' -f -o notify_pipe='$fifo' --verify-after '$IMG' '$MNT'" "$ts" >/dev/null &
	SCRIPT_PID=$!
	r=$(timeout 20 head -c1 "$fifo")
	assert_equal "$r" s
	fusermount3 -u "$MNT"
	local rc=0
	timeout 60 tail --pid="$SCRIPT_PID" -f /dev/null || rc=$?
	assert_equal "$rc" 0
	wait "$SCRIPT_PID"
	SCRIPT_PID=
	grep -q 'ETA' "$ts"
	grep -q 'after unmount: sha256:' "$ts"
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
