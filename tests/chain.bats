#!/usr/bin/env bats
# Issue 21, point 5: snapshot chains.  A QCOW2 overlay on a raw base, and
# three levels (QCOW2 on QCOW2 on a shorter raw base, with zero clusters
# and compressed clusters), made by qemu-img and qemu-io; qemu-img convert
# -O raw of the top is the oracle.  Every file of the chain is listed with
# its role, locked by --exclusive and bounds the mount's modes; a parent
# outside the top's folder is refused unless --backing-dir allows it.
# A VMDK delta disk on a sparse VMDK likewise.  (qemu-img cannot make a
# differencing VHD or VHDX: blkfuse still refuses those.)

load helpers

setup_file() {
	export D=$BATS_FILE_TMPDIR/ev
	mkdir -p "$D"
	make_gpt_image "$D/base.raw"
	qemu-img create -q -f qcow2 -b base.raw -F raw "$D/top.qcow2"
	# the overlay's own clusters: inside p1, and across the p1/p2 border
	qemu-io -c 'write -P 0xab 2M 192k' -c 'write -P 0xcd 9000k 300k' \
		"$D/top.qcow2" >/dev/null
	# three levels: base2 (16 MiB raw), mid (64 KiB clusters, compressed
	# writes), top3 (48 MiB, a zero-write and data past base2's end)
	head -c $((16 << 20)) "$D/base.raw" >"$D/base2.raw"
	qemu-img create -q -f qcow2 -b base2.raw -F raw "$D/mid.qcow2" 48M
	qemu-io -c 'write -c -P 0x11 1M 128k' -c 'write -P 0x22 15M 2M' \
		"$D/mid.qcow2" >/dev/null
	qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 "$D/top3.qcow2"
	qemu-io -c 'write -z 1M 64k' -c 'write -P 0x33 40M 64k' \
		"$D/top3.qcow2" >/dev/null
	# VMDK: a delta on a sparse base, written over
	qemu-img convert -O vmdk "$D/base.raw" "$D/vbase.vmdk"
	qemu-img create -q -f vmdk -b vbase.vmdk -F vmdk "$D/delta.vmdk"
	qemu-io -c 'write -P 0x77 3M 64k' -c 'write -P 0x78 20M 1M' \
		"$D/delta.vmdk" >/dev/null
	qemu-img convert -O raw "$D/delta.vmdk" "$BATS_FILE_TMPDIR/delta.oracle"
	qemu-img convert -O raw "$D/top.qcow2" "$BATS_FILE_TMPDIR/top.oracle"
	qemu-img convert -O raw "$D/top3.qcow2" "$BATS_FILE_TMPDIR/top3.oracle"
	record_checksums "$D"/*
}

setup() { blkfuse_setup; }
teardown() { blkfuse_teardown; }

@test "qcow2 on raw: --list names both files with their roles; disk and every partition equal qemu-img convert's" {
	local o=$BATS_FILE_TMPDIR/top.oracle
	run -0 "$BLKFUSE" --list "$D/top.qcow2"
	assert_line 'Format:      qcow2, 2 files'
	assert_line "Segment:     $D/top.qcow2 ($(stat -c %s "$D/top.qcow2") bytes, top)"
	assert_line "Segment:     $D/base.raw ($((48 << 20)) bytes, backing)"
	# the table as partx reads it from the oracle
	assert_equal "$(blkfuse_ranges "$D/top.qcow2")" "$(partx_ranges "$o")"
	start_blkfuse "$D/top.qcow2" "$MNT"
	cmp "$MNT/disk" "$o"
	local nr start size
	while read -r nr start size; do
		cmp "$MNT/p$nr" <(dd if="$o" bs=512 skip="$start" count="$size" status=none)
	done < <(partx -g -o NR,START,SECTORS "$o")
	# and the overlay really changed what the base holds
	! cmp -s "$MNT/disk" "$D/base.raw"
	jq -e '.container.segments | map(.role) == ["top", "backing"]' "$MNT/layout.json"
	stop_blkfuse
}

@test "three levels: zero clusters, compressed clusters, a base shorter than the top" {
	local o=$BATS_FILE_TMPDIR/top3.oracle
	run -0 "$BLKFUSE" --list "$D/top3.qcow2"
	assert_line 'Format:      qcow2, 3 files'
	assert_line --partial "$D/mid.qcow2 ("
	assert_line --partial "$D/base2.raw ($((16 << 20)) bytes, backing)"
	run -0 "$BLKFUSE" hash --algo sha256 "$D/top3.qcow2" disk
	assert_output "$(sha256sum <"$o" | cut -d' ' -f1)  disk"
	start_blkfuse "$D/top3.qcow2" "$MNT"
	assert_equal "$(stat -c %s "$MNT/disk")" $((48 << 20))
	cmp "$MNT/disk" "$o"
	# the zero-write hides mid's compressed data; past base2: zeros
	cmp <(dd if="$MNT/disk" bs=64k skip=16 count=1 status=none) <(head -c 65536 /dev/zero)
	cmp <(dd if="$MNT/disk" bs=1M skip=20 count=1 status=none) <(head -c 1048576 /dev/zero)
	stop_blkfuse
}

@test "VMDK delta on a sparse VMDK: both files listed; disk and partitions equal qemu-img convert's; a parent outside refused" {
	local o=$BATS_FILE_TMPDIR/delta.oracle
	run -0 "$BLKFUSE" --list "$D/delta.vmdk"
	assert_line 'Format:      vmdk, 2 files'
	assert_line --regexp "^Segment: +$D/delta.vmdk \([0-9]+ bytes, top\)$"
	assert_line --regexp "^Segment: +$D/vbase.vmdk \([0-9]+ bytes, backing\)$"
	assert_equal "$(blkfuse_ranges "$D/delta.vmdk")" "$(partx_ranges "$o")"
	start_blkfuse "$D/delta.vmdk" "$MNT"
	cmp "$MNT/disk" "$o"
	cmp "$MNT/p2" <(dd if="$o" bs=512 skip=18432 count=32768 status=none)
	! cmp -s "$MNT/disk" "$D/base.raw"
	stop_blkfuse
	local d=$BATS_TEST_TMPDIR/v
	mkdir -p "$d/img" "$d/other"
	cp "$D/vbase.vmdk" "$d/other/"
	qemu-img create -q -f vmdk -b ../other/vbase.vmdk -F vmdk "$d/img/up.vmdk"
	run -1 "$BLKFUSE" --list "$d/img/up.vmdk"
	assert_output "blkfuse: error: $d/img/up.vmdk: backing file ../other/vbase.vmdk lies outside $d/img; not followed (--backing-dir DIR allows another folder)"
	run -0 "$BLKFUSE" --list --backing-dir "$d/other" "$d/img/up.vmdk"
}

@test "QCOW2 on a container (a sparse VMDK, as its header says): the base decoded" {
	local d=$BATS_TEST_TMPDIR/c o=$BATS_TEST_TMPDIR/o.raw
	mkdir -p "$d"
	cp "$D/vbase.vmdk" "$d/"
	qemu-img create -q -f qcow2 -b vbase.vmdk -F vmdk "$d/over.qcow2"
	qemu-io -c 'write -P 0x44 5M 128k' "$d/over.qcow2" >/dev/null
	qemu-img convert -O raw "$d/over.qcow2" "$o"
	run -0 "$BLKFUSE" --list "$d/over.qcow2"
	assert_line --regexp "^Segment: +$d/vbase.vmdk \([0-9]+ bytes, backing\)$"
	start_blkfuse "$d/over.qcow2" "$MNT"
	cmp "$MNT/disk" "$o"
	stop_blkfuse
}

@test "a parent outside the top's folder is refused, named; --backing-dir and -o backing_dir allow it" {
	local d=$BATS_TEST_TMPDIR/case
	mkdir -p "$d/img" "$d/elsewhere"
	cp "$D/base.raw" "$d/elsewhere/"
	qemu-img create -q -f qcow2 -b ../elsewhere/base.raw -F raw "$d/img/up.qcow2"
	qemu-img create -q -f qcow2 -b "$d/elsewhere/base.raw" -F raw "$d/img/abs.qcow2"
	run -1 "$BLKFUSE" --list "$d/img/up.qcow2"
	assert_output "blkfuse: error: $d/img/up.qcow2: backing file ../elsewhere/base.raw lies outside $d/img; not followed (--backing-dir DIR allows another folder)"
	run -1 "$BLKFUSE" --list "$d/img/abs.qcow2"
	assert_output --partial "backing file $d/elsewhere/base.raw lies outside $d/img"
	run -0 "$BLKFUSE" --list --backing-dir "$d/elsewhere" "$d/img/up.qcow2"
	assert_line "Segment:     $d/elsewhere/base.raw ($((48 << 20)) bytes, backing)"
	start_blkfuse -o backing_dir="$d/elsewhere" "$d/img/abs.qcow2" "$MNT"
	cmp "$MNT/disk" "$D/base.raw"
	stop_blkfuse
	# a symbolic link in the folder pointing out of it is outside too
	ln -s ../elsewhere/base.raw "$d/img/link.raw"
	qemu-img create -q -f qcow2 -b link.raw -F raw -u "$d/img/ln.qcow2" 48M
	run -1 "$BLKFUSE" --list "$d/img/ln.qcow2"
	assert_output --partial "backing file link.raw lies outside $d/img"
}

@test "a missing parent and a loop are one line each" {
	local d=$BATS_TEST_TMPDIR/bad
	mkdir -p "$d"
	qemu-img create -q -f qcow2 -b gone.raw -F raw -u "$d/orphan.qcow2" 1M
	run -1 "$BLKFUSE" --list "$d/orphan.qcow2"
	assert_output "blkfuse: error: $d/orphan.qcow2: backing file gone.raw: No such file or directory"
	qemu-img create -q -f qcow2 "$d/a.qcow2" 1M
	qemu-img create -q -f qcow2 -b a.qcow2 -F qcow2 "$d/b.qcow2"
	qemu-img rebase -q -u -b b.qcow2 -F qcow2 "$d/a.qcow2"
	run -1 "$BLKFUSE" --list "$d/b.qcow2"
	assert_output "blkfuse: error: $d/a.qcow2: the backing chain loops back to $d/b.qcow2"
}

@test "--exclusive locks every file of the chain; the mount is no more readable than the least readable file" {
	local d=$BATS_TEST_TMPDIR/lock
	mkdir -p "$d"
	cp "$D/base.raw" "$D/top.qcow2" "$d/"
	# one process holding the lock (flock(1) would leave it to its child)
	python3 -c 'import fcntl, sys, time
f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX); time.sleep(30)' "$d/base.raw" &
	local holder=$!
	wait_until "the base is locked" bash -c "! flock -n '$d/base.raw' true"
	run -1 "$BLKFUSE" --list --exclusive "$d/top.qcow2"
	assert_output "blkfuse: error: $d/base.raw: cannot lock exclusively: locked by another process"
	kill "$holder"
	wait "$holder" || true
	chmod 0400 "$d/base.raw"
	chmod 0444 "$d/top.qcow2"
	start_blkfuse --exclusive "$d/top.qcow2" "$MNT"
	assert_equal "$(stat -c %a "$MNT/disk")" 400
	run flock -n "$d/base.raw" true
	assert_failure
	stop_blkfuse
}

@test "the audit start record names every file of the chain" {
	local log=$BATS_TEST_TMPDIR/audit.jsonl
	start_blkfuse --audit "$log" "$D/top.qcow2" "$MNT"
	stop_blkfuse
	jq -s -e --arg t "$D/top.qcow2" --arg b "$D/base.raw" \
		'map(select(.ev == "start"))[0].container.segments |
		 map([.path, .role]) == [[$t, "top"], [$b, "backing"]]' "$log"
}

@test "the chain's files are unchanged" {
	assert_sources_unchanged
}
