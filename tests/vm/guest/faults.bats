#!/usr/bin/env bats
# Guest test (issue 11): sources that fail under blkfuse.  A device that
# errors (dm error), flaps (dm-flakey), disappears mid-read (dmsetup remove
# --force, scsi_debug delete): readers get EIO (or ENXIO/ENOTCONN), never
# hang (every read bounded by timeout), the daemon keeps serving or exits
# with a clear line, and the source is never written (its /sys/block/X/stat
# write counters, and strace -y of the daemon's writes).  Then
# --on-error=zero exact to the sector with scsi_debug medium errors at 512
# and 4096-byte logical sectors, read buffered and O_DIRECT.
load guest
BOUND=20	# seconds for any one read: longer is a hang

setup_file() {
	[ -n "${BLKFUSE_IN_VM:-}" ] || return 0
	IMG=$BATS_FILE_TMPDIR/disk.img
	dd if=/dev/urandom of="$IMG" bs=1M count=16 status=none
	sfdisk -q "$IMG" <<-EOT
	label: dos
	unit: sectors

	p1 : start=2048, size=20480, type=83
	EOT
	export IMG
}

setup() {
	guest_setup
	DM= LOOP= SDEBUG=
}

# guest_teardown's log check may fail the test: the devices go all the same.
teardown() {
	local rc=0
	guest_teardown || rc=$?
	[ -z "$DM" ] || dmsetup remove --force --noudevsync "$DM" 2>/dev/null
	[ -z "$LOOP" ] || losetup -d "$LOOP" 2>/dev/null
	[ -z "$SDEBUG" ] || rmmod scsi_debug 2>/dev/null
	return $rc
}

# writes DEV: writes completed and sectors written, from /sys/block/DEV/stat.
writes() {
	awk '{ print $5, $7 }' "/sys/block/${1##*/}/stat"
}

# dm_linear NAME: a dm device over a loop device of $IMG; sets DM, LOOP, DMDEV.
dm_linear() {
	LOOP=$(losetup -r -f --show "$IMG")
	DM=$1
	echo "0 32768 linear $LOOP 0" | dmsetup create "$DM" --readonly --noudevsync
	dmsetup mknodes "$DM"
	DMDEV=dm-$(dmsetup info -c --noheadings -o minor "$DM" | tr -d ' ')
}

# dm_load NAME TABLE: swap the table, and drop every cached copy of the data
# (the source's page cache, the mount's) so that reads reach the device.
dm_load() {
	echo "$2" | dmsetup load "$1" --readonly
	dmsetup suspend --noudevsync "$1"
	dmsetup resume --noudevsync "$1"
	blockdev --flushbufs "/dev/mapper/$1"
	echo 3 >/proc/sys/vm/drop_caches
}

# p1_read BLOCK [dd flags]: 4 KiB block BLOCK of p1, bounded.
p1_read() {
	local b=$1
	shift
	timeout -k 2 "$BOUND" dd if="$MNT/p1" bs=4096 skip="$b" count=1 status=none "$@"
}

want_block() {
	dd if="$IMG" bs=4096 skip=$((256 + $1)) count=1 status=none
}

# The daemon still serves, or it has exited with a line saying why.
serving_or_said_why() {
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		timeout -k 2 "$BOUND" cat "$MNT/layout.json" >/dev/null
	else
		[ -s "$LOG" ] || fail "daemon gone without a word"
		grep -Ei 'error|gone|removed|no such|exiting' "$LOG"
	fi
}

# After the source went: every read, O_DIRECT or buffered, is bounded and
# returns either the right bytes (the daemon's page cache of the source may
# still hold them) or an error (EIO, ENXIO, ENODEV, ENOTCONN): never wrong bytes.
after_gone_reads() {
	local b rc
	for b in 100 200 300 400 600 900; do
		for flag in iflag=direct iflag=fullblock; do
			rc=0
			p1_read "$b" "$flag" >"$BATS_TEST_TMPDIR/b" 2>"$BATS_TEST_TMPDIR/e" || rc=$?
			[ "$rc" -lt 124 ] || fail "read of block $b ($flag) hung after the source went"
			if [ "$rc" -eq 0 ]; then
				cmp <(want_block "$b") "$BATS_TEST_TMPDIR/b" ||
					fail "block $b ($flag) after the source went: $(stat -c %s "$BATS_TEST_TMPDIR/b") bytes, not the data and no error (silent EOF/short read)"
			else
				grep -Eq 'Input/output error|No such device|not connected' "$BATS_TEST_TMPDIR/e" ||
					fail "block $b: unexpected error: $(cat "$BATS_TEST_TMPDIR/e")"
			fi
		done
	done
}

@test "dm error: EIO, not a hang; the daemon serves on; nothing written (strace, stat)" {
	dm_linear blkfuse-err
	local before
	before=$(writes "$DMDEV")
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	strace -f -qq -y -o "$BATS_TEST_TMPDIR/strace" -e trace=write,pwrite64,pwritev,pwritev2 \
		"$BLKFUSE" -f -o notify_pipe="$BATS_TEST_TMPDIR/fifo" "/dev/mapper/$DM" "$MNT" 2>>"$LOG" &
	DAEMON_PID=$!
	[ "$(timeout 30 cat "$BATS_TEST_TMPDIR/fifo")" = s ] || fail "no mount"
	cmp <(want_block 5) <(p1_read 5 iflag=direct)
	dm_load "$DM" "0 32768 error"
	run p1_read 6 iflag=direct
	[ "$status" -lt 124 ] || fail "read hung (timeout)"
	assert_failure
	assert_output --partial 'Input/output error'
	run p1_read 7
	[ "$status" -lt 124 ] || fail "buffered read hung (timeout)"
	assert_failure
	serving_or_said_why
	fusermount3 -u "$MNT"
	wait "$DAEMON_PID"
	DAEMON_PID=
	[ "$(writes "$DMDEV")" = "$before" ]
	run grep -E "<(/dev/$DMDEV|/dev/mapper/$DM)>" "$BATS_TEST_TMPDIR/strace"
	assert_output ''
}

@test "dm-flakey flapping: every read is right or EIO, never a hang, nothing written" {
	dm_linear blkfuse-flap
	local before i ok=0 eio=0
	before=$(writes "$DMDEV")
	start "/dev/mapper/$DM" "$MNT"
	for i in 1 2 3; do
		# down: flakey with no up time fails all I/O
		dm_load "$DM" "0 32768 flakey $LOOP 0 0 3600"
		run p1_read $((10 * i)) iflag=direct
		[ "$status" -lt 124 ] || fail "O_DIRECT read hung while down"
		assert_failure
		run p1_read $((10 * i + 1))
		[ "$status" -lt 124 ] || fail "buffered read hung while down"
		assert_failure
		dm_load "$DM" "0 32768 linear $LOOP 0"
		cmp <(want_block $((10 * i))) <(p1_read $((10 * i)) iflag=direct)
		cmp <(want_block $((10 * i + 1))) <(p1_read $((10 * i + 1)))
	done
	# then flapping on its own (1 s up, 1 s down): right bytes or EIO only
	dm_load "$DM" "0 32768 flakey $LOOP 0 1 1"
	for i in $(seq 40 100); do
		if p1_read "$i" iflag=direct >"$BATS_TEST_TMPDIR/b" 2>"$BATS_TEST_TMPDIR/e"; then
			cmp <(want_block "$i") "$BATS_TEST_TMPDIR/b"
			ok=$((ok + 1))
		else
			[ $? -lt 124 ] || fail "read of block $i hung"
			grep -q 'Input/output error' "$BATS_TEST_TMPDIR/e"
			eio=$((eio + 1))
		fi
	done
	echo "# flapping: $ok reads right, $eio EIO" >&3
	serving_or_said_why
	[ "$(writes "$DMDEV")" = "$before" ]
}

@test "dmsetup remove --force mid-read: readers get EIO, no hang; the daemon serves on or says why" {
	dm_linear blkfuse-gone
	start "/dev/mapper/$DM" "$MNT"
	# a reader in the middle of p1, slowed by small O_DIRECT reads
	timeout -k 2 60 dd if="$MNT/p1" of=/dev/null bs=4096 iflag=direct 2>"$BATS_TEST_TMPDIR/dd.err" &
	local rd=$!
	# --force swaps in a table that fails all I/O; the node stays while open
	dmsetup remove --force --noudevsync "$DM" || true
	local rc=0
	wait "$rd" || rc=$?
	[ "$rc" -lt 124 ] || fail "reader hung after the device went"
	after_gone_reads
	serving_or_said_why
}

@test "scsi_debug device deleted mid-read: EIO/ENXIO, no hang; nothing written by the daemon" {
	modprobe scsi_debug dev_size_mb=16
	SDEBUG=1
	local dev i before
	for i in $(seq 100); do
		dev=$(ls /sys/bus/pseudo/drivers/scsi_debug/adapter*/host*/target*/*/block 2>/dev/null | head -1)
		[ -n "$dev" ] && [ -b "/dev/$dev" ] && break
		sleep 0.1
	done
	[ -b "/dev/$dev" ] || fail "no scsi_debug disk"
	dd if="$IMG" of="/dev/$dev" bs=1M oflag=direct status=none
	before=$(writes "$dev")
	start "/dev/$dev" "$MNT"
	cmp <(want_block 3) <(p1_read 3 iflag=direct)
	timeout -k 2 60 dd if="$MNT/p1" of=/dev/null bs=4096 iflag=direct 2>/dev/null &
	local rd=$!
	[ "$(writes "$dev")" = "$before" ]
	echo 1 >"/sys/block/$dev/device/delete"
	local rc=0
	wait "$rd" || rc=$?
	[ "$rc" -lt 124 ] || fail "reader hung after the disk was deleted"
	after_gone_reads
	serving_or_said_why
	EXPECTED_LOG='Input/output error|No such device|source ends at byte|went away'
	guest_teardown
	DAEMON_PID=
}

# medium_errors SECTOR_SIZE START COUNT: a scsi_debug disk holding $IMG whose
# sectors START.. (in SECTOR_SIZE units) fail to read; sets SDEV.
medium_errors() {
	modprobe scsi_debug dev_size_mb=16 sector_size="$1" opts=0 \
		medium_error_start="$2" medium_error_count="$3"
	SDEBUG=1
	local i
	for i in $(seq 100); do
		SDEV=$(ls /sys/bus/pseudo/drivers/scsi_debug/adapter*/host*/target*/*/block 2>/dev/null | head -1)
		[ -n "$SDEV" ] && [ -b "/dev/$SDEV" ] && break
		sleep 0.1
	done
	[ -b "/dev/$SDEV" ] || fail "no scsi_debug disk"
	if [ "$1" = 4096 ]; then
		# the same table in 4 KiB sectors (p1 at 1 MiB), made on the disk
		dd if=/dev/urandom of="/dev/$SDEV" bs=1M count=16 oflag=direct status=none
		sfdisk -q "/dev/$SDEV" <<<'start=256, size=2560, type=83'
		IMG=$BATS_TEST_TMPDIR/disk4k.img
		dd if="/dev/$SDEV" of="$IMG" bs=1M iflag=direct status=none
	else
		dd if="$IMG" of="/dev/$SDEV" bs=1M oflag=direct status=none
	fi
	echo 3 >/proc/sys/vm/drop_caches
	echo 2 >/sys/bus/pseudo/drivers/scsi_debug/opts	# medium errors on
	run dd if="/dev/$SDEV" of=/dev/null bs="$1" skip="$2" count=1 iflag=direct
	assert_failure
}

# zero_exact SS START COUNT [dd flags]: read 64 KiB of p1 around the bad
# sectors with --on-error=zero: the image, with exactly those sectors zero.
zero_exact() {
	local ss=$1 bad=$2 n=$3
	shift 3
	medium_errors "$ss" "$bad" "$n"
	local before
	before=$(writes "$SDEV")
	start --on-error=zero --name zt "/dev/$SDEV" "$MNT"
	[ -z "${ZERO_CTL:-}" ] || "$BLKFUSE" ctl zt set "$ZERO_CTL"
	local bad_b=$((bad * ss)) p1=1048576
	local from=$(((bad_b - p1) / 65536 * 65536))
	timeout -k 2 "$BOUND" dd if="$MNT/p1" of="$BATS_TEST_TMPDIR/got" bs=65536 \
		skip=$((from / 65536)) count=1 status=none "$@"
	dd if="$IMG" of="$BATS_TEST_TMPDIR/want" bs=65536 skip=$(((p1 + from) / 65536)) count=1 status=none
	dd if=/dev/zero of="$BATS_TEST_TMPDIR/want" bs="$ss" seek=$(((bad_b - p1 - from) / ss)) \
		count="$n" conv=notrunc status=none
	run cmp -l "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	if [ -n "$output" ]; then
		local first last
		first=$(head -1 <<<"$output" | awk '{ print $1 - 1 }')
		last=$(tail -1 <<<"$output" | awk '{ print $1 - 1 }')
		fail "bytes $first..$last of the 64 KiB differ from 'image with exactly $n bad $ss-byte sector(s) at +$((bad_b - p1 - from)) zeroed' ($(wc -l <<<"$output") bytes)"
	fi
	[ "$(writes "$SDEV")" = "$before" ]
}

@test "--on-error=zero, 512-byte sectors, one bad sector mid-page, buffered reader: only it is zero" {
	zero_exact 512 $((2048 + 8 * 100 + 3)) 1
}

@test "--on-error=zero, 512-byte sectors, one bad sector mid-page, O_DIRECT reader: only it is zero" {
	zero_exact 512 $((2048 + 8 * 100 + 3)) 1 iflag=direct
}

@test "--on-error=zero, 512-byte sectors, source_io=direct, three bad sectors across a page boundary" {
	ZERO_CTL=source_io=direct zero_exact 512 $((2048 + 8 * 200 + 6)) 3 iflag=direct
}

@test "--on-error=zero, 4096-byte sectors, one bad sector: only it is zero (buffered and O_DIRECT)" {
	zero_exact 4096 $((256 + 50)) 1
	zero_exact_direct_again
}

zero_exact_direct_again() {
	local p1=1048576 bad_b=$(((256 + 50) * 4096))
	local from=$(((bad_b - p1) / 65536 * 65536))
	echo 3 >/proc/sys/vm/drop_caches
	timeout -k 2 "$BOUND" dd if="$MNT/p1" of="$BATS_TEST_TMPDIR/got2" bs=65536 \
		skip=$((from / 65536)) count=1 iflag=direct status=none
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got2"
}
