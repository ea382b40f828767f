#!/usr/bin/env bats
# Multi-file evidence (issue 20, items 12 and 14 to 17): every file of a
# set is checked (sizes, headers), named when it is wrong, locked by
# --exclusive, and never read in a way that writes (O_NOATIME).

load helpers

setup_file() {
	local d=$BATS_FILE_TMPDIR
	export RAW=$d/disk.raw C=$d/c
	mkdir -p "$C"
	random_image "$RAW" 16
	sfdisk -q "$RAW" <<-EOT
	label: dos
	p1 : start=2048, size=8192, type=83
	p3 : start=12288, size=16384, type=83
	EOT
	split -b 4M -d -a 3 --numeric-suffixes=1 "$RAW" "$C/sp."
	ewfacquire -u -q -t "$C/ev" -c none -S $((4 << 20)) -d sha1 "$RAW" >/dev/null
	record_checksums "$RAW" "$C"/*
}

setup() {
	blkfuse_setup
	S=$BATS_TEST_TMPDIR/s
	mkdir -p "$S"
}

teardown() {
	# a mount whose daemon died: not `mountpoint -q` (it says no on ENOTCONN)
	if grep -qs " $MNT fuse" /proc/self/mounts; then
		fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT"
	fi
	blkfuse_teardown
}

# one_line_about FILE: the last run failed with exactly one line, naming FILE.
one_line_about() {
	[ "$status" -ne 0 ] || fail "exit 0: $output"
	[ "${#lines[@]}" -eq 1 ] || fail "want one line, got: $output"
	assert_output --regexp "^blkfuse: (error: )?$1: "
}

# ---- 14. split raw: every segment but the last has the first one's size ----

@test "14 split raw with a short middle segment is refused, naming it" {
	cp "$C"/sp.* "$S/"
	truncate -s 2M "$S/sp.002"
	run -1 "$BLKFUSE" --list "$S/sp.001"
	one_line_about "$S/sp.002"
	assert_output --partial "4194304"
	run -1 "$BLKFUSE" -f "$S/sp.001" "$MNT"
	one_line_about "$S/sp.002"
	run grep -c " $MNT fuse" /proc/self/mounts
	assert_output 0
}

@test "14 split raw with a last segment larger than the first is refused, naming it" {
	cp "$C/sp.001" "$S/"
	head -c $((6 << 20)) /dev/urandom >"$S/sp.002"
	run -1 "$BLKFUSE" --list "$S/sp.001"
	one_line_about "$S/sp.002"
}

@test "14 split raw with a short last segment still mounts, byte for byte" {
	EXPECTED_LOG='p3 runs past the end'
	cp "$C/sp.001" "$C/sp.002" "$S/"
	head -c $((1 << 20)) "$C/sp.003" >"$S/sp.003"
	start_blkfuse "$S/sp.001" "$MNT"
	assert_equal "$(stat -c %s "$MNT/disk")" $((9 << 20))
	cmp "$MNT/disk" <(head -c $((9 << 20)) "$RAW")
	stop_blkfuse
}

# ---- 12. flat VMDK: extent sizes that are no sizes ---------------------------

# vmdk_with SIZE [OFFSET]: a flat descriptor with one extent of SIZE sectors.
vmdk_with() {
	cp "$RAW" "$S/f-flat.vmdk"
	cat >"$S/f.vmdk" <<-EOT
	# Disk DescriptorFile
	version=1
	CID=fffffffe
	parentCID=ffffffff
	createType="monolithicFlat"

	RW $1 FLAT "f-flat.vmdk" ${2:-0}
	EOT
}

@test "12 flat VMDK extent of 2^55+16 sectors: refused in one line (not an 8 KiB disk)" {
	vmdk_with 36028797018963984
	run -1 "$BLKFUSE" --list "$S/f.vmdk"
	one_line_about "$S/f.vmdk"
	run -1 "$BLKFUSE" -f "$S/f.vmdk" "$MNT"
	one_line_about "$S/f.vmdk"
}

@test "12 flat VMDK extent of -1 sectors, or a negative offset: refused in one line" {
	vmdk_with -1
	run -1 "$BLKFUSE" --list "$S/f.vmdk"
	one_line_about "$S/f.vmdk"
	assert_output --partial '-1 sectors'
	vmdk_with 2048 -5
	run -1 "$BLKFUSE" --list "$S/f.vmdk"
	one_line_about "$S/f.vmdk"
	# and a sound one still mounts
	vmdk_with 32768
	start_blkfuse "$S/f.vmdk" "$MNT"
	cmp "$MNT/disk" "$RAW"
	stop_blkfuse
}

# ---- 15. truncated or corrupt EWF segments: the real file, in one line ----------

@test "15 EWF: E04, E02, E01 truncated: one line naming that segment (not a missing E05)" {
	local seg size
	for seg in E04:2000000 E02:3000000 E01:500000; do
		cp "$C"/ev.E0* "$S/"
		truncate -s "${seg#*:}" "$S/ev.${seg%:*}"
		run -1 "$BLKFUSE" --list "$S/ev.E01"
		one_line_about "$S/ev.${seg%:*}"
		assert_output --partial truncated
		refute_output --partial "ev.E05"
	done
	run -1 "$BLKFUSE" -f "$S/ev.E01" "$MNT"
	one_line_about "$S/ev.E01"
}

@test "15 EWF: a corrupt E01 header is one line naming E01, not libewf's raw message" {
	cp "$C"/ev.E0* "$S/"
	# the first section descriptor
	printf 'XXXXXXXXXXXXXXXX' | dd of="$S/ev.E01" bs=1 seek=20 conv=notrunc status=none
	run -1 "$BLKFUSE" --list "$S/ev.E01"
	one_line_about "$S/ev.E01"
	refute_output --regexp '^blkfuse: [^ ]*: libewf_'
	# the compressed header inside the first section
	cp "$C/ev.E01" "$S/"
	printf 'XXXXXXXXXXXXXXXX' | dd of="$S/ev.E01" bs=1 seek=100 conv=notrunc status=none
	run -1 "$BLKFUSE" --list "$S/ev.E01"
	one_line_about "$S/ev.E01"
	assert_output --partial 'corrupt EWF header'
	refute_output --regexp '^blkfuse: [^ ]*: libewf_'
}

# ---- 16. --exclusive locks every file of a set -----------------------------------

# second_exclusive FILE [args]: another --exclusive on FILE must be refused,
# naming the file that is locked.
second_exclusive() {
	local f=$1
	shift
	run "$BLKFUSE" --exclusive --list "$@" "$f"
	assert_equal "$status" 1
	assert_output --partial "$f: cannot lock exclusively: locked by another process"
}

@test "16 --exclusive on an E01 set locks E02 too (and the other way round)" {
	# a later segment given as the source is read as the raw file it is
	EXPECTED_LOG='is not a multiple of the 512-byte sector'
	cp "$C"/ev.E0* "$S/"
	start_blkfuse --exclusive "$S/ev.E01" "$MNT"
	second_exclusive "$S/ev.E02" --format=raw
	second_exclusive "$S/ev.E04" --format=raw
	second_exclusive "$S/ev.E01"
	# without --exclusive the others still read (a lock, not a wall)
	run "$BLKFUSE" --list --format=raw "$S/ev.E02"
	assert_success
	stop_blkfuse
	# and a first claim through a later segment holds off the set
	start_blkfuse --exclusive --format=raw "$S/ev.E03" "$MNT"
	run "$BLKFUSE" --exclusive --list "$S/ev.E01"
	assert_equal "$status" 1
	assert_output --partial "$S/ev.E03: cannot lock exclusively: locked by another process"
	stop_blkfuse
}

@test "16 --exclusive on a split set locks every segment" {
	cp "$C"/sp.* "$S/"
	start_blkfuse --exclusive "$S/sp.001" "$MNT"
	second_exclusive "$S/sp.003" --format=raw
	stop_blkfuse
}

@test "16 --exclusive on a flat VMDK locks its extent" {
	vmdk_with 32768
	start_blkfuse --exclusive "$S/f.vmdk" "$MNT"
	second_exclusive "$S/f-flat.vmdk"
	stop_blkfuse
}

# ---- 17. reading evidence does not even change its access time ------------------

# On a tmpfs with strictatime every read moves atime, unless O_NOATIME.
atime_fs() {
	ATIME_FS=$BATS_TEST_TMPDIR/atime
	mkdir -p "$ATIME_FS"
	mount -t tmpfs -o size=64m,strictatime tmpfs "$ATIME_FS"
	FSMNT=$ATIME_FS		# teardown unmounts it
}

atime_of() { stat -c %X "$@"; }

@test "17 O_NOATIME: --list, a mount and its reads leave a raw image's and a split set's atime as it was" {
	atime_fs
	cp "$RAW" "$ATIME_FS/disk.raw"
	cp "$C"/sp.* "$ATIME_FS/"
	touch -a -d '2001-02-03 04:05:06' "$ATIME_FS"/*
	local want
	want=$(atime_of "$ATIME_FS/disk.raw")
	# the file system does move atime on a read (else the test proves nothing)
	cp "$RAW" "$ATIME_FS/probe.raw"
	touch -a -d '2001-02-03 04:05:06' "$ATIME_FS/probe.raw"
	head -c 4096 "$ATIME_FS/probe.raw" >/dev/null
	[ "$(atime_of "$ATIME_FS/probe.raw")" != "$want" ] || skip "this tmpfs does not update atime"
	"$BLKFUSE" --list "$ATIME_FS/disk.raw" >/dev/null
	"$BLKFUSE" --list "$ATIME_FS/sp.001" >/dev/null
	start_blkfuse "$ATIME_FS/disk.raw" "$MNT"
	cmp "$MNT/disk" "$RAW"
	"$BLKFUSE" ctl "$MNT" set source_io=direct
	cmp <(dd if="$MNT/p1" bs=1M iflag=direct status=none) <(dd if="$RAW" bs=512 skip=2048 count=8192 status=none)
	stop_blkfuse
	start_blkfuse "$ATIME_FS/sp.001" "$MNT"
	cmp "$MNT/disk" "$RAW"
	stop_blkfuse
	local f
	for f in disk.raw sp.001 sp.002 sp.003 sp.004; do
		assert_equal "$f $(atime_of "$ATIME_FS/$f")" "$f $want"
	done
}

# ---- 12. out of descriptors: the set is named ---------------------------------------

@test "12 a 1010-segment set under ulimit -n 1024: the failure names the set and the limit" {
	local d=$BATS_TEST_TMPDIR/many
	mkdir "$d"
	head -c $((1010 * 4096)) "$RAW" | (cd "$d" && split -b 4096 -d -a 4 --numeric-suffixes=1 - sp.)
	run --separate-stderr prlimit --nofile=1024 "$BLKFUSE" -f "$d/sp.0001" "$MNT"
	assert_equal "$status" 1
	# wherever it runs out (the probe or the workers), one line says why
	# (checked before serving: the descriptors the set holds, the limit)
	run grep -cE "^blkfuse: error: $d/sp.0001: [0-9]+ files open for the source leave too few of the 1024 the daemon may open \(ulimit -n\)" <<<"$stderr"
	assert_output 1
	# nothing left mounted, not even a dead mount (mountpoint -q says no
	# to one whose daemon is gone)
	run grep -c " $MNT fuse" /proc/self/mounts
	assert_output 0
}


# ---- the decoded file is the file opened, not whatever has its name later --------

@test "QCOW2: the workers decode the file that was opened, even if its name now names another" {
	random_image "$S/b.raw" 16
	qemu-img convert -O qcow2 "$RAW" "$S/a.qcow2"
	qemu-img convert -O qcow2 "$S/b.raw" "$S/b.qcow2"
	start_blkfuse -o max_threads=1 "$S/a.qcow2" "$MNT"
	# replaced under its name before any worker opened its handle
	mv "$S/a.qcow2" "$S/a.moved"
	cp "$S/b.qcow2" "$S/a.qcow2"
	cmp "$MNT/disk" "$RAW" || fail "serves the file now named a.qcow2, not the one opened"
	stop_blkfuse
}

@test "EWF: the workers decode the segments that were opened, even if their names now name others" {
	local f
	cp "$C"/ev.E0* "$S/"
	random_image "$S/b.raw" 16
	mkdir "$S/b"
	ewfacquire -u -q -t "$S/b/ev" -c none -S $((4 << 20)) "$S/b.raw" >/dev/null
	start_blkfuse -o max_threads=1 "$S/ev.E01" "$MNT"
	for f in "$S"/ev.E0*; do
		mv "$f" "$f.moved"
		cp "$S/b/${f##*/}" "$f"
	done
	cmp "$MNT/disk" "$RAW" || fail "serves the set now under those names, not the one opened"
	stop_blkfuse
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
