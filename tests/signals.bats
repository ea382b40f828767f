#!/usr/bin/env bats
# SIGTERM and SIGINT as umount -l (issue 10, point 7): with files open the
# mount is detached at once (no new opens), open files keep working, the
# daemon says who holds them and exits 0 when the last is closed; a second
# signal, or abort=1, ends it at once.  --pidfile.

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
	exec 5<&- 6<&-
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

detached() { ! mountpoint -q "$MNT"; }
daemon_gone() { ! kill -0 "$DAEMON_PID" 2>/dev/null; }

# p1's bytes, from the image.
p1_bytes() {
	tail -c +$((2048 * 512 + 1)) "$IMG" | head -c "$1"
}

@test "SIGTERM with a file open: detached, the file still reads, exit 0 when it is closed" {
	start_blkfuse "$IMG" "$MNT"
	exec 5<"$MNT/p1"
	kill -TERM "$DAEMON_PID"
	poll 10 detached || fail "SIGTERM did not detach the mount"
	[ ! -e "$MNT/p1" ]		# no new opens
	kill -0 "$DAEMON_PID"		# still serving the open file
	cmp <(head -c 1048576 <&5) <(p1_bytes 1048576)
	poll 10 grep -q "p1 still open by pid $BASHPID (bash)" "$DAEMON_LOG" ||
		fail "the holder was not logged: $(cat "$DAEMON_LOG")"
	grep -q 'detached; 1 file still open, exiting' "$DAEMON_LOG" ||
		fail "not '1 file still open': $(cat "$DAEMON_LOG")"
	exec 5<&-
	poll 10 daemon_gone || fail "daemon still running after the last file closed"
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	assert_equal "$rc" 0
	assert_clean_log
}

@test "SIGINT does the same; a second signal ends it at once" {
	start_blkfuse "$IMG" "$MNT"
	exec 5<"$MNT/p1"
	kill -INT "$DAEMON_PID"
	poll 10 detached || fail "SIGINT did not detach the mount"
	kill -TERM "$DAEMON_PID"
	poll 10 daemon_gone || fail "a second signal did not end the daemon"
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	assert_equal "$rc" 0
	run head -c 4096 <&5	# the connection is gone now
	assert_failure
}

@test "abort=1 ends a detached daemon (through a control file opened before)" {
	EXPECTED_LOG='abort requested'
	[ -c /dev/cuse ] && skip "this kernel has CUSE: the control file is not served"
	start_blkfuse "$IMG" "$MNT"
	exec 5<"$MNT/p1" 6<"$MNT/.blkfuse-ctl"
	kill -TERM "$DAEMON_PID"
	poll 10 detached || fail "SIGTERM did not detach the mount"
	"$BLKFUSE" ctl "/proc/$BASHPID/fd/6" set abort=1
	poll 10 daemon_gone || fail "abort=1 did not end the daemon"
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	assert_equal "$rc" 0
}

@test "SIGTERM with nothing open unmounts and exits 0 at once" {
	start_blkfuse "$IMG" "$MNT"
	kill -TERM "$DAEMON_PID"
	poll 10 daemon_gone || fail "daemon still running"
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	assert_equal "$rc" 0
	run mountpoint -q "$MNT"
	assert_failure
}

@test "--pidfile: the daemon's pid while it runs, removed at exit" {
	local pf=$BATS_TEST_TMPDIR/blkfuse.pid
	start_blkfuse --pidfile "$pf" "$IMG" "$MNT"
	assert_equal "$(cat "$pf")" "$DAEMON_PID"
	assert_equal "$(ctl_get pid)" "$DAEMON_PID"
	stop_blkfuse
	[ ! -e "$pf" ]
	# in the background too: the pid after daemonizing (a relative name
	# is the caller's, though the daemon changes to /)
	(cd "$BATS_TEST_TMPDIR" && "$BLKFUSE" --pidfile blkfuse.pid "$IMG" "$MNT")
	local pid; pid=$(cat "$pf")
	assert_equal "$("$BLKFUSE" ctl "$MNT" get pid)" "$pid"
	fusermount3 -u "$MNT"
	poll 10 test ! -e "$pf" || fail "pidfile left behind"
	poll 10 eval "! kill -0 $pid 2>/dev/null" || fail "daemon $pid still running"
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
