#!/usr/bin/env bats
# Issue 21, point 6: the rest of an examiner's run.  The forensic options as
# -o words (fstab, .mount units); a later EWF segment refused like a later
# split segment; by-partlabel escaped as udev escapes it; the sector size of
# a dynamic VHD and a VHDX from the container, as for a fixed VHD; booting
# the evidence in a VM through a QCOW2 overlay on MNT/disk.

load helpers

setup_file() {
	export IMG=$BATS_FILE_TMPDIR/gpt.img
	random_image "$IMG" 48
	sfdisk -q "$IMG" <<-EOT
	label: gpt
	size=8MiB, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="Basic data partition"
	size=8MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="a/b"
	EOT
	record_checksums "$IMG"
}

setup() { blkfuse_setup; }
teardown() { blkfuse_teardown; }

@test "-o exclusive,audit=,verify=,verify_after,on_error=,format=,cache_mb= work as the long options do" {
	local log=$BATS_TEST_TMPDIR/audit.jsonl sum
	sum=$(sha256sum <"$IMG" | cut -d' ' -f1)
	start_blkfuse -o "exclusive,audit=$log,verify=sha256:$sum,verify_after,on_error=zero,format=raw" "$IMG" "$MNT"
	cmp "$MNT/disk" "$IMG"
	# the lock is held, the audit is written, the options reached the run
	run flock -n "$IMG" true
	assert_failure
	jq -s -e --arg s "$sum" 'map(select(.ev == "start"))[0] |
		(.opened | test("flock")) and .verified == ("sha256:" + $s)' "$log"
	stop_blkfuse
	jq -s -e --arg s "$sum" 'map(select(.ev == "stop"))[0] |
		.verify_after_matches == true and (.verify_after | test($s))' "$log"
}

@test "-o cache_mb= sets a container's cache from the start; out of range is a usage error" {
	local q=$BATS_TEST_TMPDIR/d.qcow2
	qemu-img convert -O qcow2 "$IMG" "$q"
	start_blkfuse -o cache_mb=3 "$q" "$MNT"
	assert_equal "$(ctl_get cache_mb)" 3
	cmp "$MNT/disk" "$IMG"
	stop_blkfuse
	run -1 "$BLKFUSE" -o cache_mb=2000 "$q" "$MNT"
	assert_line 'blkfuse: error: cache_mb must be 0..1024'
	run -1 "$BLKFUSE" -o on_error=maybe "$IMG" "$MNT"
	assert_line 'blkfuse: error: --on-error must be eio or zero'
}

@test "a later EWF segment is refused as a later split segment is" {
	command -v ewfacquire >/dev/null || skip "ewf-tools is not installed"
	"$BLKFUSE" --version | grep -q '^formats: .* ewf' || skip "built without libewf"
	local e=$BATS_TEST_TMPDIR/ev
	ewfacquire -u -q -t "$e" -S $((20 << 20)) "$IMG" >/dev/null
	[ -e "$e.E02" ]
	run -1 "$BLKFUSE" --list "$e.E02"
	assert_output "blkfuse: error: $e.E02: a later segment of the EWF set $e.E01; give the first segment"
	run -0 "$BLKFUSE" --list "$e.E01"
}

@test "by-partlabel escapes as udev does (\\x20, \\x2f), as by-label does" {
	start_blkfuse "$IMG" "$MNT"
	assert_equal "$(readlink "$MNT/by-partlabel/Basic\x20data\x20partition")" ../p1
	assert_equal "$(readlink "$MNT/by-partlabel/a\x2fb")" ../p2
	[ ! -e "$MNT/by-partlabel/Basic data partition" ]
	stop_blkfuse
}

@test "dynamic VHD and VHDX: the sector size comes from the container, as for a fixed VHD" {
	local f
	for f in vpc vhdx; do
		qemu-img convert -O "$f" "$IMG" "$BATS_TEST_TMPDIR/d.$f"
		run -0 "$BLKFUSE" --list "$BATS_TEST_TMPDIR/d.$f"
		assert_line 'Sector size: 512 (container)'
	done
}

@test "the evidence boots in a VM through a QCOW2 overlay on MNT/disk; writes land in the overlay only" {
	local ov=$BATS_TEST_TMPDIR/overlay.qcow2
	start_blkfuse "$IMG" "$MNT"
	qemu-img create -q -f qcow2 -b "$MNT/disk" -F raw "$ov"
	# what a guest would see, and what it writes
	qemu-img compare -q "$ov" "$IMG"
	qemu-io -c 'write -P 0x5a 1M 64k' "$ov" >/dev/null
	run qemu-img compare -q "$ov" "$IMG"
	assert_failure
	cmp "$MNT/disk" "$IMG"
	stop_blkfuse
}

@test "after a SIGKILL the name is recognised as dead, and the next mount on that mount point takes it back" {
	local name=examiner-$$-$RANDOM old
	start_blkfuse --name "$name" "$IMG" "$MNT"
	old=$DAEMON_PID
	[ -L "/run/blkfuse/$name" ]
	kill -KILL "$old"
	wait "$old" || true
	DAEMON_PID=
	fusermount3 -u -z "$MNT"
	run -1 "$BLKFUSE" ctl "$name" get pid
	# the dead entry is not listed as running (it may already be gone)
	assert_output --regexp "^blkfuse: error: ctl: ($name is not running \\(/run/blkfuse/$name is left by a daemon that was killed|no blkfuse instance '$name')"
	start_blkfuse --name "$name" "$IMG" "$MNT"
	run -0 "$BLKFUSE" ctl "$name" get pid
	assert_output "$DAEMON_PID"
	[ ! -e "/run/blkfuse/$name-2" ] && [ ! -L "/run/blkfuse/$name-2" ]
	stop_blkfuse
	[ ! -L "/run/blkfuse/$name" ]
}

@test "the default --list table fits an 80-column terminal (as lsblk); piped, nothing is cut; -o +TYPE,UUID adds the long columns" {
	local widest
	# on a terminal (script's pty) of 80 columns
	run -0 script -qec "stty cols 80; '$BLKFUSE' --list '$IMG'" /dev/null
	# the Source line carries the path: the table's lines are what count
	widest=$(tr -d '\r' <<<"$output" | sed -n '/^NR /,/^\s*$/p' | awk '{ print length($0) }' | sort -n | tail -1)
	[ "$widest" -le 80 ] || fail "the table is $widest columns wide: $output"
	run -0 "$BLKFUSE" --list "$IMG"
	assert_line --regexp '^NR +START +END +SECTORS +SIZE +SCHEME +TYPENAME +NAME +FSTYPE +LABEL +FLAGS$'
	assert_line --regexp '^ +1 .* Microsoft basic data +Basic data partition *$'
	run -0 "$BLKFUSE" --list -n -r -o +TYPE,UUID "$IMG"
	assert_line --regexp '^1 2048 18431 16384 8M gpt Microsoft\\x20basic\\x20data Basic\\x20data\\x20partition +ebd0a0a2-b9e5-4433-87c0-68b6b72699c7 [0-9a-f-]{36}$'
}

@test "the image is unchanged" {
	assert_sources_unchanged
}
