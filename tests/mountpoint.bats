#!/usr/bin/env bats
# A mount point whose path mountinfo escapes (a space is \040 there): the
# daemon still finds its own mount, so the kernel-side tunables and abort
# work, and no "not found in mountinfo" warning is logged.

load helpers

setup_file() {
	export GPT=$BATS_FILE_TMPDIR/gpt.img
	make_gpt_image "$GPT"
	record_checksums "$GPT"
}

setup() {
	blkfuse_setup
	MNT="$BATS_TEST_TMPDIR/mount point	with tab"
	mkdir -p "$MNT"
	start_blkfuse --ctl=auto "$GPT" "$MNT"
}

teardown() {
	blkfuse_teardown
}

@test "a mount point with a space and a tab: readahead_kb and max_background are the kernel's" {
	local dev
	dev=$(mountpoint -d "$MNT")
	"$BLKFUSE" ctl "$MNT" set readahead_kb=1024 max_background=17
	assert_equal "$(cat "/sys/class/bdi/$dev/read_ahead_kb")" 1024
	assert_equal "$(ctl_get readahead_kb)" 1024
	assert_equal "$(cat "/sys/fs/fuse/connections/${dev#*:}/max_background")" 17
	assert_equal "$(ctl_get max_background)" 17
}

@test "a mount point with a space and a tab: abort=1 ends the connection" {
	"$BLKFUSE" ctl "$MNT" set abort=1
	# bounded: a daemon that did not find its mount would never abort it
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	run kill -0 "$DAEMON_PID"
	assert_failure
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	assert_equal "$rc" 0
	run mountpoint -q "$MNT"
	assert_failure
	EXPECTED_LOG='abort requested'
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
