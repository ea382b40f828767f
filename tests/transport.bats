#!/usr/bin/env bats
# How requests reach the daemon: transport=dev|uring|auto (FUSE over
# io_uring where the kernel has it and root switched it on) and clone_fd
# (a /dev/fuse clone per worker).  Every transport serves the same bytes,
# parks and releases throttled reads, and says which it is in ctl show.

load helpers

BOUND=10	# seconds: anything longer counts as a hang
URING=/sys/module/fuse/parameters/enable_uring

setup_file() {
	export IMG=$BATS_FILE_TMPDIR/gpt.img
	make_gpt_image "$IMG"
	record_checksums "$IMG"
	# the system setting, put back after each test that changes it
	if [ -e "$URING" ]; then cat "$URING" >"$BATS_FILE_TMPDIR/uring.saved"; fi
}

setup() {
	blkfuse_setup
	READERS=()
}

restore_uring() {
	local saved=$BATS_FILE_TMPDIR/uring.saved
	if [ -e "$saved" ]; then cat "$saved" >"$URING"; fi
}

teardown() {
	local p
	for p in "${READERS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	blkfuse_teardown
	restore_uring
}

# kernel_has_uring: the kernel has it and this blkfuse was built with it.
kernel_has_uring() {
	[ -w "$URING" ] || skip "this kernel has no FUSE over io_uring ($URING)"
	"$BLKFUSE" --version | grep -q '^transports:.* uring' ||
		skip "blkfuse built without liburing"
}

# uring_on: switch FUSE over io_uring on (restored by teardown), or skip.
uring_on() {
	kernel_has_uring
	echo Y >"$URING"
}

# every_file_reads_right: each data file, buffered; p2 O_DIRECT too.
every_file_reads_right() {
	local f start size
	while read -r f start size; do
		cmp <(dd if="$IMG" bs=512 skip=$((start / 512)) count=$((size / 512)) status=none) "$MNT/$f" ||
			fail "$f differs from the image"
	done < <(blkfuse_ranges "$IMG" | sed 's/^/p/'; echo "disk 0 $(stat -c %s "$IMG")")
	cmp <(dd if="$IMG" bs=1M skip=9 count=16 status=none) \
	    <(dd if="$MNT/p2" bs=1M iflag=direct status=none) || fail "p2 O_DIRECT differs"
}

# parked_is N: the throttle holds N reads now.
parked_is() {
	[ "$(ctl_get parked)" = "$1" ]
}

# paused_read_released: a read parked by pause=1 is sent when resumed.
paused_read_released() {
	"$BLKFUSE" ctl "$MNT" set pause=1
	dd if="$MNT/p3" of="$BATS_TEST_TMPDIR/out" bs=4096 skip=5 count=1 iflag=direct status=none &
	READERS+=($!)
	wait_until "the read is parked" parked_is 1
	"$BLKFUSE" ctl "$MNT" set pause=0
	wait "${READERS[0]}" || fail "the reader failed after pause=0"
	READERS=()
	cmp <(dd if="$IMG" bs=4096 skip=$((25 * 256 + 5)) count=1 status=none) "$BATS_TEST_TMPDIR/out"
}

@test "transport=dev: requests come through /dev/fuse, replies spliced" {
	start_blkfuse -o transport=dev "$IMG" "$MNT"
	assert_equal "$(ctl_get transport)" dev
	assert_equal "$(ctl_get uring_queues)" 0
	every_file_reads_right
	[ "$(ctl_get spliced_reqs)" -gt 0 ] || fail "nothing spliced: $(counters)"
}

@test "transport=auto never switches FUSE over io_uring on by itself" {
	[ -w "$URING" ] || skip "this kernel has no FUSE over io_uring ($URING)"
	echo N >"$URING"
	start_blkfuse "$IMG" "$MNT"
	assert_equal "$(ctl_get transport)" dev
	assert_equal "$(cat "$URING")" N
	every_file_reads_right
}

@test "transport=uring with io_uring switched off: one line, exit 1, nothing mounted" {
	kernel_has_uring
	echo N >"$URING"
	run "$BLKFUSE" -f -o transport=uring "$IMG" "$MNT"
	assert_failure 1
	assert_output --partial "transport=uring: FUSE over io_uring is switched off"
	assert_equal "${#lines[@]}" 1
	run mountpoint -q "$MNT"
	assert_failure
}

@test "transport=bogus is refused before anything is opened" {
	run "$BLKFUSE" -f -o transport=bogus "$IMG" "$MNT"
	assert_failure 1
	assert_output --partial "transport must be auto, dev or uring, not bogus"
}

@test "transport=uring: every file, the tree and layout.json come through the ring" {
	uring_on
	start_blkfuse -o transport=uring "$IMG" "$MNT"
	assert_equal "$(ctl_get transport)" uring
	# one queue per possible CPU: the kernel will not use the ring otherwise
	local cpus
	cpus=$(sed 's/.*-//' /sys/devices/system/cpu/possible)
	assert_equal "$(ctl_get uring_queues)" $((cpus + 1))
	every_file_reads_right
	cmp <("$BLKFUSE" --list --json "$IMG") "$MNT/layout.json"
	run ls "$MNT/by-partlabel"
	assert_success
	assert_output "$(printf 'data\nroot\nswap')"
	# the ring cannot splice: every byte was copied into its buffers
	assert_counter spliced_reqs 0
	[ "$(ctl_get copied_reqs)" -gt 0 ] || fail "no reads counted: $(counters)"
	stop_blkfuse
}

@test "transport=uring: a paused read is answered through the ring when resumed" {
	uring_on
	start_blkfuse -o transport=uring "$IMG" "$MNT"
	paused_read_released
}

@test "transport=uring: a parked read whose reader is killed ends (INTERRUPT), the next one is served" {
	uring_on
	start_blkfuse -o transport=uring "$IMG" "$MNT"
	"$BLKFUSE" ctl "$MNT" set pause=1
	dd if="$MNT/p1" of=/dev/null bs=4096 count=1 status=none &
	READERS+=($!)
	wait_until "the read is parked" parked_is 1
	kill -TERM "${READERS[0]}"	# (SIGINT: ignored in the background)
	wait_until "the parked read ends" parked_is 0
	run wait "${READERS[0]}"
	assert_failure
	READERS=()
	"$BLKFUSE" ctl "$MNT" set pause=0
	cmp <(dd if="$IMG" bs=1M skip=1 count=8 status=none) "$MNT/p1"
}

@test "transport=uring: more parked reads than a queue's entries; the resume is still answered" {
	uring_on
	start_blkfuse -o transport=uring "$IMG" "$MNT"
	# O_DIRECT reads are background requests: room for 20 of them
	"$BLKFUSE" ctl "$MNT" set pause=1 max_background=30
	local i
	# all on CPU 0: the kernel puts them on queue 0 (8 entries to start)
	for ((i = 0; i < 20; i++)); do
		taskset -c 0 dd if="$MNT/p2" of="$BATS_TEST_TMPDIR/out.$i" bs=4096 skip=$i count=1 iflag=direct status=none &
		READERS+=($!)
	done
	wait_until "20 reads are parked" parked_is 20
	run timeout "$BOUND" taskset -c 0 "$BLKFUSE" ctl "$MNT" set pause=0
	assert_success
	for i in "${!READERS[@]}"; do
		wait "${READERS[i]}" || fail "reader $i failed"
		cmp <(dd if="$IMG" bs=4096 skip=$((9 * 256 + i)) count=1 status=none) "$BATS_TEST_TMPDIR/out.$i"
	done
	READERS=()
}

@test "transport=uring: abort=1 ends the connection; a reader gets ENOTCONN" {
	uring_on
	start_blkfuse -o transport=uring "$IMG" "$MNT"
	exec 5<"$MNT/p1"
	"$BLKFUSE" ctl "$MNT" set abort=1
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	assert_equal "$rc" 0
	run dd of=/dev/null bs=4096 count=1 <&5
	assert_failure
	assert_output --partial "Transport endpoint is not connected"
	exec 5<&-
	EXPECTED_LOG='abort requested'
}

@test "clone_fd: readers of every file at once through cloned descriptors" {
	start_blkfuse -o clone_fd,max_threads=4 "$IMG" "$MNT"
	assert_equal "$(ctl_get clone_fd)" 1
	local i
	for i in 1 2 3 4; do
		every_file_reads_right &
		READERS+=($!)
	done
	for i in "${!READERS[@]}"; do
		wait "${READERS[i]}" || fail "reader $i saw wrong bytes"
	done
	READERS=()
	[ "$(ctl_get spliced_reqs)" -gt 0 ] || fail "nothing spliced: $(counters)"
}

@test "clone_fd: a paused read is answered on the descriptor it came from" {
	start_blkfuse -o clone_fd "$IMG" "$MNT"
	paused_read_released
	paused_read_released
}

@test "source unchanged" {
	assert_sources_unchanged
}
