#!/usr/bin/env bats
# Guest test: the control protocol on a real CUSE node (/dev/blkfuse-NAME),
# on Debian's kernel in the VM.  The host runs the same protocol through
# the control file (tests/ctl.bats).
load guest

setup_file() {
	[ -n "${BLKFUSE_IN_VM:-}" ] || return 0
	IMG=$BATS_FILE_TMPDIR/evidence.img
	dd if=/dev/urandom of="$IMG" bs=1M count=24 status=none
	sfdisk -q "$IMG" <<-EOT
	label: dos
	unit: sectors

	p1 : start=2048, size=16384, type=83
	p2 : start=18432, size=24576, type=83
	EOT
	sha256sum "$IMG" >"$BATS_FILE_TMPDIR/sha"
	export IMG
}

setup() {
	guest_setup
}

teardown() {
	guest_teardown
}

# wait_node PATH [gone]: the node appears once CUSE_INIT is answered.
wait_node() {
	local _
	for _ in $(seq 100); do
		if [ -z "${2:-}" ]; then [ -c "$1" ] && return 0; else [ -e "$1" ] || return 0; fi
		sleep 0.05
	done
	return 1
}

val() {
	awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$1"
}

@test "the node appears as /dev/blkfuse-NAME, root 0600; cat prints it and ends" {
	start "$IMG" "$MNT"
	wait_node /dev/blkfuse-evidence.img
	run stat -c '%a %U' /dev/blkfuse-evidence.img
	assert_output '600 root'
	[ ! -e "$MNT/.blkfuse-ctl" ]		# CUSE here: no control file
	run timeout 10 cat /dev/blkfuse-evidence.img
	assert_success
	assert_line 'splice 1'
	assert_line --regexp '^read_bytes [0-9]+$'
	assert_line --regexp '^readahead_kb [0-9]+$'
}

@test "echo 'splice=0 readahead_kb=1024' > node: the copy path is used; sysfs follows" {
	start --name ev "$IMG" "$MNT"
	local node=/dev/blkfuse-ev
	wait_node $node
	echo 'splice=0 readahead_kb=1024' >$node
	assert_equal "$(val $node splice)" 0
	local bdi; bdi=$(mountpoint -d "$MNT")
	assert_equal "$(cat /sys/class/bdi/$bdi/read_ahead_kb)" 1024
	cmp <(dd if="$IMG" bs=512 skip=2048 count=16384 status=none) "$MNT/p1"
	assert_equal "$(val $node copied_bytes)" $((16384 * 512))
	assert_equal "$(val $node spliced_bytes)" 0
	echo 'splice=1' >$node
	cat "$MNT/p2" >/dev/null
	assert_equal "$(val $node spliced_bytes)" $((24576 * 512))
}

@test "a bad write fails whole with EINVAL and changes nothing; last_error says why" {
	start --name ev "$IMG" "$MNT"
	wait_node /dev/blkfuse-ev
	run sh -c 'echo "splice=0 bogus=1" > /dev/blkfuse-ev'
	assert_failure
	assert_output --partial 'Invalid argument'
	assert_equal "$(val /dev/blkfuse-ev splice)" 1
	assert_equal "$(val /dev/blkfuse-ev last_error)" "unknown key 'bogus'"
}

@test "ioctls (blkfuse ctl) and the text agree on the CUSE node" {
	start --name ev "$IMG" "$MNT"
	wait_node /dev/blkfuse-ev
	cat "$MNT/p1" >/dev/null
	"$BLKFUSE" ctl ev set max_background=40 congestion_threshold=30
	local conn=/sys/fs/fuse/connections/$(mountpoint -d "$MNT" | cut -d: -f2)
	assert_equal "$(cat $conn/max_background)" 40
	assert_equal "$("$BLKFUSE" ctl ev get max_background)" 40
	assert_equal "$("$BLKFUSE" ctl /dev/blkfuse-ev get read_bytes)" "$(val /dev/blkfuse-ev read_bytes)"
	run "$BLKFUSE" ctl ev stats
	assert_success
	assert_line --regexp '^ +[0-9.]+ +[0-9]+ +100\.0%'
	"$BLKFUSE" ctl ev reset
	assert_equal "$(val /dev/blkfuse-ev read_bytes)" 0
}

@test "--ctl-mode 0644: uid 65534 reads the node; set, reset, text writes and the SET ioctls are refused" {
	start --name ev --ctl-mode 0644 "$IMG" "$MNT"
	wait_node /dev/blkfuse-ev
	local nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	run "${nobody[@]}" "$BLKFUSE" ctl /dev/blkfuse-ev get pause
	assert_success
	assert_output 0
	run "${nobody[@]}" "$BLKFUSE" ctl /dev/blkfuse-ev set pause=1
	assert_failure
	assert_output --partial 'Permission denied'
	run "${nobody[@]}" "$BLKFUSE" ctl /dev/blkfuse-ev reset
	assert_failure
	run "${nobody[@]}" sh -c 'echo abort=1 >/dev/blkfuse-ev'
	assert_failure
	# an open for reading: the ioctl itself says EACCES
	run "${nobody[@]}" /repo/tests/ctl_ioctl /dev/blkfuse-ev pause=1
	assert_output EACCES
	assert_equal "$(val /dev/blkfuse-ev pause)" 0
	# root opens it for writing and may
	"$BLKFUSE" ctl ev set rate_limit=8m
	assert_equal "$(val /dev/blkfuse-ev rate_limit)" $((8 << 20))
}

# held_by_pause PID: the reader waits in the kernel for a FUSE reply, the
# daemon has the request (inflight 1), and one of its threads sleeps on a
# futex (pause's condition variable; idle workers wait in fuse_dev_do_read).
held_by_pause() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || state=
	if [ -z "$state" ] || [ "$state" = Z ]; then
		echo "the reader finished while paused" >&2
		return 2
	fi
	[[ "$(cat "/proc/$1/wchan")" == @(fuse_*|request_wait_answer) ]] || return 1
	[ "$(val /dev/blkfuse-ev inflight)" = 1 ] || return 1
	# parked by the throttle: pause holds it, not a worker
	[ "$(val /dev/blkfuse-ev parked)" = 1 ] || return 1
	return 0
}

@test "pause holds a reader until pause=0 releases it; source_io=direct shows O_DIRECT" {
	# /tmp is tmpfs here, which has no O_DIRECT: use a loop device
	LOOP=$(losetup -r -f --show "$IMG")
	start --name ev "$LOOP" "$MNT"
	wait_node /dev/blkfuse-ev
	echo 'pause=1' >/dev/blkfuse-ev
	local out=$BATS_TEST_TMPDIR/out
	dd if="$MNT/p2" of="$out" bs=4096 count=1 iflag=direct 2>/dev/null &
	local reader=$!
	wait_until "the read is held by pause" held_by_pause "$reader"
	assert_equal "$(val /dev/blkfuse-ev file.p2.reads)" 0
	held_by_pause "$reader"
	[ ! -s "$out" ]
	echo 'pause=0' >/dev/blkfuse-ev
	wait $reader
	assert_equal "$(val /dev/blkfuse-ev file.p2.reads)" 1
	cmp <(dd if="$IMG" bs=512 skip=18432 count=8 status=none) "$out"
	echo 'source_io=direct' >/dev/blkfuse-ev
	local fd direct=0
	for fd in /proc/$DAEMON_PID/fdinfo/*; do
		flags=$(awk '/^flags:/ { print $2 }' "$fd")
		[ $((8#$flags & 8#40000)) -ne 0 ] && direct=1
	done
	[ "$direct" = 1 ]
	cmp <(dd if="$IMG" bs=512 skip=18432 count=24576 status=none) "$MNT/p2"
	fusermount3 -u "$MNT"
	wait "$DAEMON_PID"
	DAEMON_PID=
	losetup -d "$LOOP"
	LOOP=
}

@test "--name with a '/' makes a subdirectory; --ctl-mode; names are made unique" {
	start --name case42/ev1 --ctl-mode 0640 "$IMG" "$MNT"
	wait_node /dev/blkfuse-case42/ev1
	run stat -c %a /dev/blkfuse-case42/ev1
	assert_output 640
	local first=$DAEMON_PID mnt2=$BATS_TEST_TMPDIR/mnt2 mnt3=$BATS_TEST_TMPDIR/mnt3
	mkdir -p "$mnt2" "$mnt3"
	"$BLKFUSE" "$IMG" "$mnt2"
	wait_node /dev/blkfuse-evidence.img
	# a second blkfuse mount on mnt2 is refused (issue 10); another place is not
	run "$BLKFUSE" "$IMG" "$MNT/../mnt2"
	assert_failure
	"$BLKFUSE" "$IMG" "$mnt3"
	wait_node /dev/blkfuse-evidence.img-2
	# both registered by name too, pointing at their nodes
	assert_equal "$(readlink /run/blkfuse/evidence.img)" /dev/blkfuse-evidence.img
	assert_equal "$("$BLKFUSE" ctl case42/ev1 get pid)" "$first"
	fusermount3 -u "$mnt2"
	fusermount3 -u "$mnt3"
	wait_node /dev/blkfuse-evidence.img gone
	wait_node /dev/blkfuse-evidence.img-2 gone
	DAEMON_PID=$first
}

@test "the node vanishes on a clean exit and after SIGKILL" {
	start --name gone "$IMG" "$MNT"
	wait_node /dev/blkfuse-gone
	fusermount3 -u "$MNT"
	wait "$DAEMON_PID"
	DAEMON_PID=
	wait_node /dev/blkfuse-gone gone
	start --name killed "$IMG" "$MNT"
	wait_node /dev/blkfuse-killed
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" || true
	DAEMON_PID=
	wait_node /dev/blkfuse-killed gone
	umount -l "$MNT" 2>/dev/null || true
}

@test "--ctl=cuse works here; abort through the node ends the daemon with 0" {
	EXPECTED_LOG='abort requested'
	start --ctl=cuse --name ab "$IMG" "$MNT"
	wait_node /dev/blkfuse-ab
	echo 'abort=1' >/dev/blkfuse-ab
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	[ "$rc" -eq 0 ]
	wait_node /dev/blkfuse-ab gone
	run mountpoint -q "$MNT"
	assert_failure
}

@test "the image is unchanged" {
	sha256sum -c "$BATS_FILE_TMPDIR/sha"
}
