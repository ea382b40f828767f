#!/usr/bin/env bats
# README's "Without root", as uid 65534 (issue 10, point 11): fusermount3
# (setuid) mounts and unmounts for the user; the control file is the
# user's; -o allow_other needs user_allow_other in /etc/fuse.conf.

load helpers

AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

setup_file() {
	# a directory nobody can reach (bats' own are root-only)
	export WORK
	WORK=$(mktemp -d /tmp/blkfuse-nonroot.XXXXXX)
	chmod 755 "$WORK"
	export IMG=$WORK/dos.img
	make_dos_image "$IMG"
	chmod 644 "$IMG"
	record_checksums "$IMG"
	cp /etc/fuse.conf "$BATS_FILE_TMPDIR/fuse.conf.orig"
	# libfuse opens /dev/fuse itself before it asks fusermount3: Debian
	# makes it 0666; some hosts (this project's) have 0600
	stat -c %a /dev/fuse >"$BATS_FILE_TMPDIR/fuse.mode"
	chmod 0666 /dev/fuse
}

teardown_file() {
	cp "$BATS_FILE_TMPDIR/fuse.conf.orig" /etc/fuse.conf
	chmod "$(cat "$BATS_FILE_TMPDIR/fuse.mode")" /dev/fuse
	rm -rf "$WORK"
}

setup() {
	blkfuse_setup
	MNT=$WORK/mnt.$BATS_TEST_NUMBER
	mkdir -p "$MNT"
	chown 65534:65534 "$MNT"
	cp "$BATS_FILE_TMPDIR/fuse.conf.orig" /etc/fuse.conf
}

teardown() {
	cp "$BATS_FILE_TMPDIR/fuse.conf.orig" /etc/fuse.conf
	blkfuse_teardown
}

# start_nobody ARGS...: start_blkfuse as uid 65534 (the FIFO theirs too).
start_nobody() {
	local fifo=$WORK/notify.$BATS_TEST_NUMBER r
	mkfifo -m 0666 "$fifo"
	DAEMON_LOG=$BATS_TEST_TMPDIR/daemon.log
	"${AS_NOBODY[@]}" "$BLKFUSE" -f -o notify_pipe="$fifo" "$@" 2>>"$DAEMON_LOG" &
	DAEMON_PID=$!
	DAEMON_MNT=${!#}
	r=$(timeout 20 head -c1 "$fifo")
	rm -f "$fifo"
	[ "$r" = s ] || { cat "$DAEMON_LOG" >&2; return 1; }
}

@test "as uid 65534: mount, read, ctl through the mount point, fusermount3 -u" {
	start_nobody "$IMG" "$MNT"
	run "${AS_NOBODY[@]}" cmp "$IMG" "$MNT/disk"
	assert_success
	run "${AS_NOBODY[@]}" "$BLKFUSE" ctl "$MNT" get pid
	assert_success
	assert_output "$DAEMON_PID"
	# without allow_other, not even root gets in
	run stat "$MNT/disk"
	assert_failure
	"${AS_NOBODY[@]}" fusermount3 -u "$MNT"
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	assert_equal "$rc" 0
	assert_clean_log
}

@test "as uid 65534: allow_other needs user_allow_other in /etc/fuse.conf" {
	sed -i '/^user_allow_other/d' /etc/fuse.conf
	run --separate-stderr "${AS_NOBODY[@]}" "$BLKFUSE" -f -o allow_other "$IMG" "$MNT"
	assert_equal "$status" 1
	[[ "$stderr" == *user_allow_other* ]] || fail "no word of user_allow_other: $stderr"
	run mountpoint -q "$MNT"
	assert_failure
	echo user_allow_other >>/etc/fuse.conf
	start_nobody -o allow_other "$IMG" "$MNT"
	cmp "$IMG" "$MNT/disk"		# root, through allow_other
	stop_blkfuse
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
