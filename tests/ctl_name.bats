#!/usr/bin/env bats
# blkfuse ctl NAME on either transport (issue 10, point 9): the daemon
# registers NAME in /run/blkfuse/; --name and --ctl-mode apply to the
# control file; an unknown NAME gets the running ones; stats -w never keeps
# the mount busy; waiting does not count the asking request.

load helpers

setup_file() {
	export IMG=$BATS_FILE_TMPDIR/dos.img
	make_dos_image "$IMG"
	record_checksums "$IMG"
}

setup() {
	blkfuse_setup
	# names of our own: other suites may run beside this one
	NAME=t10-$$-$BATS_TEST_NUMBER
}

teardown() {
	if [ -n "${STATS_PID:-}" ]; then
		kill "$STATS_PID" 2>/dev/null || true
		wait "$STATS_PID" 2>/dev/null || true
	fi
	blkfuse_teardown
}

# poll SECONDS CMD...: until CMD succeeds, at most SECONDS, checked every
# 20 ms (not on $SECONDS, which ticks in whole seconds: "SECONDS + 1" can be
# over at once).
poll() {
	local i n=$(($1 * 50))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.02
	done
	"$@"
}

@test "ctl NAME: the source's file name, registered in /run/blkfuse, gone at exit" {
	local img=$BATS_TEST_TMPDIR/$NAME.img
	cp "$IMG" "$img"
	start_blkfuse "$img" "$MNT"
	run "$BLKFUSE" ctl "$NAME.img" get pid
	assert_success
	assert_output "$DAEMON_PID"
	[ -L "/run/blkfuse/$NAME.img" ]
	stop_blkfuse
	[ ! -e "/run/blkfuse/$NAME.img" ] && [ ! -L "/run/blkfuse/$NAME.img" ]
}

@test "--name and --ctl-mode apply to the control file" {
	start_blkfuse --name "$NAME" --ctl-mode 0640 "$IMG" "$MNT"
	run "$BLKFUSE" ctl "$NAME" get pid
	assert_output "$DAEMON_PID"
	"$BLKFUSE" ctl "$NAME" set pause=1
	assert_equal "$(ctl_get pause)" 1
	"$BLKFUSE" ctl "$NAME" set pause=0
	if [ ! -c /dev/cuse ]; then
		assert_equal "$(stat -c '%a %U' "$MNT/.blkfuse-ctl")" '640 root'
	fi
	stop_blkfuse
}

@test "an unknown NAME: a hint with the running instances" {
	start_blkfuse --name "$NAME" "$IMG" "$MNT"
	run --separate-stderr "$BLKFUSE" ctl "nosuch-$NAME" show
	assert_equal "$status" 1
	[[ "$stderr" == "blkfuse: error: ctl: no blkfuse instance 'nosuch-$NAME'; running: "*"$NAME"* ]] ||
		fail "no hint: $stderr"
	stop_blkfuse
}

@test "stats -w opens the control file per sample: the mount unmounts under it" {
	[ -c /dev/cuse ] && skip "this kernel has CUSE: the node is not on the mount"
	start_blkfuse "$IMG" "$MNT"
	"$BLKFUSE" ctl "$MNT" stats -w 0.05 >"$BATS_TEST_TMPDIR/stats.out" &
	STATS_PID=$!
	poll 10 eval '[ "$(wc -l <"$BATS_TEST_TMPDIR/stats.out")" -ge 3 ]' || fail "no samples"
	# a sample is open for microseconds: an unmount may meet one, not all
	poll 10 fusermount3 -u "$MNT" 2>/dev/null || fail "stats -w keeps the mount busy"
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	assert_equal "$rc" 0
	# and stats ends by itself when the mount is gone
	rc=0
	timeout 10 tail --pid="$STATS_PID" -f /dev/null || rc=$?
	assert_equal "$rc" 0
	wait "$STATS_PID"
	STATS_PID=
}

@test "waiting is 0 on an idle mount (the asking request is not counted)" {
	start_blkfuse "$IMG" "$MNT"
	assert_equal "$(ctl_get waiting)" 0
	run "$BLKFUSE" ctl "$MNT" stats
	assert_equal "$(awk 'NR == 2 { print $7 }' <<<"$output")" 0
	stop_blkfuse
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
