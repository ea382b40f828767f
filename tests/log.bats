#!/usr/bin/env bats
# Every message carries its level ("blkfuse: warning: ..."), the audit
# trail keeps it, and the suite's log check (assert_clean_log, run by
# every teardown) fails on a warning nobody expected.

load helpers

setup_file() {
	make_dos_and_gpt_images
	# cut at 35 MiB: p6 runs past the end (a warning), p4 starts past it
	export SHORT=$BATS_FILE_TMPDIR/short.img
	head -c $((35 * 1048576)) "$DOS" >"$SHORT"
	record_checksums "$DOS" "$GPT" "$SHORT"
}

setup() {
	blkfuse_setup
}

teardown() {
	blkfuse_teardown
}

@test "messages carry their level: error and warning on stderr" {
	run --separate-stderr "$BLKFUSE" --list "$BATS_TEST_TMPDIR/none.img"
	assert_failure
	assert_equal "$stderr" "blkfuse: error: $BATS_TEST_TMPDIR/none.img: No such file or directory"
	run --separate-stderr "$BLKFUSE" --list "$SHORT"
	assert_success
	assert_equal "${#stderr_lines[@]}" 2
	for l in "${stderr_lines[@]}"; do
		[[ $l == "blkfuse: warning: $SHORT: p"[46]" "* ]] || fail "no level: $l"
	done
}

@test "the log check fails on an unexpected warning, passes when it is expected" {
	start_blkfuse "$SHORT" "$MNT"
	grep -q '^blkfuse: warning: .*p6 runs past the end' "$DAEMON_LOG"
	run assert_clean_log
	assert_failure
	assert_output --partial 'p6 runs past the end'
	run assert_clean_log 'p6 runs past the end|p4 starts at byte'
	assert_success
	# and a clean mount passes it
	EXPECTED_LOG='p6 runs past the end|p4 starts at byte'
}

@test "the log check passes a clean mount and catches a sanitizer report" {
	start_blkfuse "$GPT" "$MNT"
	run assert_clean_log
	assert_success
	echo "==1234==ERROR: AddressSanitizer: heap-use-after-free" >>"$DAEMON_LOG"
	run assert_clean_log
	assert_failure
	EXPECTED_LOG='AddressSanitizer'
}

@test "the audit trail keeps notices, warnings and errors with their level" {
	local audit=$BATS_TEST_TMPDIR/audit.jsonl img=$BATS_TEST_TMPDIR/shrinks.img
	cp "$GPT" "$img"
	start_blkfuse --audit "$audit" "$img" "$MNT"
	EXPECTED_LOG='the source ends at byte|read of .* bytes at source offset'
	# a warning while serving: the image shrinks under the mount
	truncate -s 1M "$img"
	run cat "$MNT/disk"
	assert_failure
	stop_blkfuse
	head -n 1 "$audit" | jq -e '.ev == "start"' >/dev/null
	run jq -r 'select(.ev == "log") | "\(.level) \(.message)"' "$audit"
	assert_success
	assert_line --regexp '^warning disk: the source ends at byte 1048576, inside the file'
	for l in "${lines[@]}"; do
		[[ $l =~ ^(error|warning|notice)\  ]] || fail "level of '$l'"
	done
	# and stderr said the same with the level
	grep -q '^blkfuse: warning: disk: the source ends at byte 1048576' "$DAEMON_LOG"
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
