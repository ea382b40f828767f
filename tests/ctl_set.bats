#!/usr/bin/env bats
# `blkfuse ctl set` says what is true and is all or nothing (issue 20):
# source_io=direct is refused where it would not hold (a container read by
# its library or its own segment descriptors), and a set whose later
# tunable fails leaves the earlier ones (the kernel's too) as they were.

load helpers

setup_file() {
	export IMG=$BATS_FILE_TMPDIR/gpt.img C=$BATS_FILE_TMPDIR/c
	make_gpt_image "$IMG"
	mkdir -p "$C"
	ewfacquire -u -q -t "$C/ev" -c none -S $((16 << 20)) "$IMG" >/dev/null
	split -b 16M -d -a 3 --numeric-suffixes=1 "$IMG" "$C/sp."
	record_checksums "$IMG" "$C"/*
}

setup() {
	blkfuse_setup
}

teardown() {
	blkfuse_teardown
}

# direct_fds: how many of the daemon's descriptors are open O_DIRECT.
direct_fds() {
	local fd n=0 flags
	for fd in /proc/$DAEMON_PID/fdinfo/*; do
		flags=$(awk '/^flags:/ { print $2 }' "$fd" 2>/dev/null) || continue
		[ -n "$flags" ] && [ $((8#$flags & 8#40000)) -ne 0 ] && n=$((n + 1))
	done
	echo "$n"
}

@test "17 source_io=direct on an E01 is refused, not reported as direct" {
	start_blkfuse "$C/ev.E01" "$MNT"
	run "$BLKFUSE" ctl "$MNT" set source_io=direct
	assert_equal "$status" 1
	assert_output --partial 'source_io=direct: not for a ewf container'
	assert_equal "$(ctl_get source_io)" buffered
	assert_equal "$(ctl_get last_error)" 'source_io=direct: not for a ewf container (its files are read buffered)'
	assert_equal "$(direct_fds)" 0
	# buffered is still fine to set
	"$BLKFUSE" ctl "$MNT" set source_io=buffered
	EXPECTED_LOG='control: source_io=direct'
}

@test "17 source_io=direct on a split raw set is refused too; on a raw image it holds" {
	start_blkfuse "$C/sp.001" "$MNT"
	run "$BLKFUSE" ctl "$MNT" set source_io=direct
	assert_equal "$status" 1
	assert_equal "$(ctl_get source_io)" buffered
	stop_blkfuse
	start_blkfuse "$IMG" "$MNT"
	"$BLKFUSE" ctl "$MNT" set source_io=direct
	assert_equal "$(ctl_get source_io)" direct
	[ "$(direct_fds)" -ge 1 ]
	EXPECTED_LOG='control: source_io=direct'
}

# ---- all or nothing, the kernel's tunables too ----------------------------------

# A wrapper that starts the daemon in a mount namespace of its own, where
# fusectl can be made read-only without touching the system's.
ns_blkfuse() {
	local w=$BATS_TEST_TMPDIR/ns-blkfuse
	printf '#!/bin/sh\nexec unshare -m --propagation private "%s" "$@"\n' "$REAL" >"$w"
	chmod +x "$w"
	BLKFUSE=$w start_blkfuse "$@"
}

in_ns() {
	nsenter -t "$DAEMON_PID" -m "$@"
}

@test "set readahead_kb=... max_background=... : the fusectl write fails, readahead is put back" {
	REAL=$BLKFUSE
	ns_blkfuse "$IMG" "$MNT"
	local dev minor bdi ra0
	dev=$(in_ns mountpoint -d "$MNT")
	minor=${dev#*:}
	bdi=/sys/class/bdi/$dev/read_ahead_kb
	ra0=$(cat "$bdi")
	# fusectl, in the daemon's namespace only: readable, never writable
	in_ns sh -ec "
		mount -t tmpfs -o size=64k tmpfs /sys/fs/fuse/connections
		mkdir /sys/fs/fuse/connections/$minor
		cd /sys/fs/fuse/connections/$minor
		echo 12 >max_background; echo 9 >congestion_threshold; echo 0 >waiting
		mount -o remount,ro /sys/fs/fuse/connections"
	run in_ns "$REAL" ctl "$MNT" set readahead_kb=$((ra0 + 4)) max_background=20
	assert_equal "$status" 1
	assert_output --partial 'max_background: Read-only file system'
	assert_equal "$(cat "$bdi")" "$ra0"
	# and one that can succeed still does
	in_ns "$REAL" ctl "$MNT" set readahead_kb=$((ra0 + 4))
	assert_equal "$(cat "$bdi")" $((ra0 + 4))
	EXPECTED_LOG='control: max_background'
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
