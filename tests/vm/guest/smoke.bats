#!/usr/bin/env bats
# Guest test (runs inside the VM: tests/vm/run-guest-tests): proves the
# harness and the guest kernel's features that the host lacks: CUSE, the
# kernel's own DOS partition parser on loop devices, and blkfuse on top.
load guest
PARTS='1 2 3 5 6' # p2 is the extended container (the kernel shows 1 KiB)

setup_file() {
	# On the host, setup() skips every test (skip in setup_file misbehaves in bats 1.8).
	[ -n "${BLKFUSE_IN_VM:-}" ] || return 0
	IMG=$BATS_FILE_TMPDIR/dos.img
	dd if=/dev/urandom of="$IMG" bs=1M count=32 status=none
	sfdisk -q "$IMG" <<-EOT
	label: dos
	unit: sectors

	p1 : start=2048, size=8192, type=83
	p2 : start=10240, size=26624, type=5
	p3 : start=36864, size=20480, type=83
	p5 : start=12288, size=8192, type=83
	p6 : start=22528, size=12288, type=82
	EOT
	DOS_LOOP=$(losetup -r -P -f --show "$IMG")
	echo "$DOS_LOOP" >"$BATS_FILE_TMPDIR/loop"
	export IMG DOS_LOOP
}

teardown_file() {
	if [ -n "${DOS_LOOP:-}" ]; then
		losetup -d "$DOS_LOOP"
	fi
}

setup() {
	guest_setup
}

teardown() {
	guest_teardown
}

# The partition nodes appear in devtmpfs shortly after losetup -P returns.
wait_for_node() {
	local _
	for _ in $(seq 50); do
		[ -b "$1" ] && return 0
		sleep 0.1
	done
	echo "no block device $1" >&2
	return 1
}

@test "guest kernel: fuse and cuse are loaded, /dev/fuse and /dev/cuse exist" {
	[ -c /dev/fuse ]
	[ -c /dev/cuse ]
	run grep -w fuse /proc/filesystems
	assert_success
}

@test "guest kernel: loop partitions of a DOS table (primary, extended, logical)" {
	local n
	for n in $PARTS; do
		wait_for_node "${DOS_LOOP}p$n"
	done
	[ ! -e "${DOS_LOOP}p4" ]
	[ "$(blockdev --getro "$DOS_LOOP")" = 1 ]
	# Primary and logical partitions have the table's sizes.
	[ "$(blockdev --getsize64 "${DOS_LOOP}p1")" = $((8192 * 512)) ]
	[ "$(blockdev --getsize64 "${DOS_LOOP}p5")" = $((8192 * 512)) ]
	[ "$(blockdev --getsize64 "${DOS_LOOP}p6")" = $((12288 * 512)) ]
	# And their bytes are the image's.
	cmp "${DOS_LOOP}p5" <(dd if="$IMG" bs=512 skip=12288 count=8192 status=none)
}

@test "blkfuse on the loop device: each pN equals /dev/loopXpN, bytes and size" {
	[ -x "$BLKFUSE" ] || skip "$BLKFUSE not built"
	local n
	for n in $PARTS; do
		wait_for_node "${DOS_LOOP}p$n"
	done

	run "$BLKFUSE" --list "$DOS_LOOP"
	assert_success
	assert_output --partial container

	start "$DOS_LOOP" "$MNT"

	# disk and the kernel's partition numbers (other entries may come and go)
	[ -f "$MNT/disk" ]
	run bash -c "ls '$MNT' | grep -E '^p[0-9]+\$' | sort -V | xargs"
	assert_output "p1 p2 p3 p5 p6"
	cmp "$MNT/disk" "$DOS_LOOP"
	for n in $PARTS; do
		[ "$(stat -c %s "$MNT/p$n")" = "$(blockdev --getsize64 "${DOS_LOOP}p$n")" ] ||
			fail "p$n: blkfuse size $(stat -c %s "$MNT/p$n"), kernel $(blockdev --getsize64 "${DOS_LOOP}p$n")"
		cmp "$MNT/p$n" "${DOS_LOOP}p$n"
	done

	fusermount3 -u "$MNT"
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	if [ "$rc" -ne 0 ]; then
		cat "$LOG" >&2
		fail "blkfuse exited with status $rc after the unmount"
	fi
}

@test "a kernel without FUSE over io_uring: auto serves /dev/fuse, transport=uring is one line" {
	[ -x "$BLKFUSE" ] || skip "$BLKFUSE not built"
	[ ! -e /sys/module/fuse/parameters/enable_uring ] ||
		skip "this guest kernel has FUSE over io_uring"
	start "$IMG" "$MNT"
	# (the control is the CUSE node here, found by the source's name)
	run "$BLKFUSE" ctl "$(basename "$IMG")" get transport
	assert_output dev
	cmp "$MNT/p3" <(dd if="$IMG" bs=512 skip=36864 count=20480 status=none)
	fusermount3 -u "$MNT"
	wait "$DAEMON_PID"
	DAEMON_PID=
	run "$BLKFUSE" -f -o transport=uring "$IMG" "$MNT"
	assert_failure 1
	assert_output "blkfuse: error: transport=uring: this kernel has no FUSE over io_uring (Linux 6.14+ with CONFIG_FUSE_IO_URING)"
}
