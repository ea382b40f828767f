#!/usr/bin/env bats
# A real block device as the source: a read-only loop device, with 512- and
# 4096-byte logical sectors.  partx -a adds the kernel's own loopNpM nodes
# (this host kernel has no partition parsers), which are the byte oracle.

load helpers

setup_file() {
	export DOS=$BATS_FILE_TMPDIR/dos.img
	make_dos_image "$DOS"
	record_checksums "$DOS"
}

setup() {
	blkfuse_setup
}

teardown() {
	blkfuse_teardown
}

@test "losetup -r device: every pN equals the kernel's loopNpM" {
	LOOP=$(losetup -r -f --show "$DOS")
	partx -a "$LOOP"
	start_blkfuse "$LOOP" "$MNT"
	run "$BLKFUSE" --list "$LOOP"
	assert_line "Source:      $LOOP (block device, opened O_RDONLY)"
	assert_line 'Sector size: 512 (BLKSSZGET)'
	local nr start size
	while read -r nr start size; do
		[ "$nr" = 3 ] && continue
		[ "$(stat -c %s "$MNT/p$nr")" -eq "$(blockdev --getsize64 "${LOOP}p$nr")" ]
		cmp "${LOOP}p$nr" "$MNT/p$nr"
	done < <(partx_ranges "$LOOP")
	# the kernel shows the extended container as 1 KiB too
	[ "$(blockdev --getsize64 "${LOOP}p3")" -eq "$(stat -c %s "$MNT/p3")" ]
	cmp "${LOOP}p3" "$MNT/p3"
	cmp "$LOOP" "$MNT/disk"
	stop_blkfuse
}

@test "4096-byte logical sectors: found through BLKSSZGET, bytes as the kernel's" {
	local img=$BATS_TEST_TMPDIR/4k.img
	random_image "$img" 32
	LOOP=$(losetup -b 4096 -f --show "$img")
	sfdisk -q "$LOOP" <<-EOT
	label: dos
	unit: sectors

	p1 : start=256, size=1024, type=83
	p2 : start=1280, size=2048, type=5
	p5 : start=1536, size=512, type=83
	p6 : start=2304, size=512, type=82
	EOT
	losetup -d "$LOOP"
	LOOP=$(losetup -r -b 4096 -f --show "$img")
	# partx cannot add the 1 KiB container on a 4Kn device; the rest it can
	partx -a --nr 1 "$LOOP"
	partx -a --nr 5:6 "$LOOP"
	run "$BLKFUSE" --list "$LOOP"
	assert_line 'Sector size: 4096 (BLKSSZGET)'
	start_blkfuse "$LOOP" "$MNT"
	local n
	for n in 1 5 6; do
		[ "$(stat -c %s "$MNT/p$n")" -eq "$(blockdev --getsize64 "${LOOP}p$n")" ]
		cmp "${LOOP}p$n" "$MNT/p$n"
	done
	# a 4Kn extended container is one 4096-byte sector (the kernel's msdos.c)
	[ "$(stat -c %s "$MNT/p2")" -eq 4096 ]
	stop_blkfuse
}

@test "the device is opened O_RDONLY (fdinfo flags) and never written" {
	LOOP=$(losetup -f --show "$DOS")	# writable device: blkfuse must still not write
	start_blkfuse "$LOOP" "$MNT"
	local fd flags found=0
	for fd in /proc/$DAEMON_PID/fd/*; do
		[ "$(readlink "$fd")" = "$LOOP" ] || continue
		flags=$(awk '/^flags:/ { print $2 }' "/proc/$DAEMON_PID/fdinfo/${fd##*/}")
		[ $((8#$flags & 3)) -eq 0 ]	# O_ACCMODE == O_RDONLY
		found=1
	done
	[ "$found" = 1 ]
	cat "$MNT"/p* >/dev/null
	stop_blkfuse
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
