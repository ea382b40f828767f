#!/usr/bin/env bats
# Evidence containers (issue 9): EWF, split raw, AFF, QCOW2, VMDK, VHD and
# VHDX made here by the tools users use (ewfacquire, affconvert, qemu-img,
# split) from one raw image; each mounted and compared byte for byte with
# the raw image's ranges (partx is the oracle for the table), plus
# ewfverify and qemu-img compare on the containers themselves.  Stored
# hashes, corrupt chunks and incomplete segment sets.

load helpers

setup_file() {
	local d=$BATS_FILE_TMPDIR
	export RAW=$d/disk.raw C=$d/c
	mkdir -p "$C"
	# 32 MiB: random, with compressible text (so qcow2 -c and the E01
	# really compress) and a zero run; GPT with three named partitions
	random_image "$RAW" 32
	yes 'blkfuse evidence container line' | head -c $((4 << 20)) |
		dd of="$RAW" bs=1M seek=2 conv=notrunc status=none
	dd if=/dev/zero of="$RAW" bs=1M seek=20 count=4 conv=notrunc status=none
	sfdisk -q "$RAW" <<-EOT
	label: gpt
	size=8MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"
	size=12MiB, type=0657FD6D-A4AB-464C-90E6-3A6F5C8C2D47, name="swap"
	size=6MiB, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="data"
	EOT
	ewfacquire -u -q -t "$C/ev" -c deflate:fast -S $((12 << 20)) -d sha1,sha256 \
		-C CASE-9 -E EV-1 -e 'Examiner Nine' -D 'issue 9 image' -N 'test notes' \
		"$RAW" >/dev/null
	split -b 10M -d -a 3 --numeric-suffixes=1 "$RAW" "$C/sp."
	split -b 10M -d -a 3 --numeric-suffixes=0 "$RAW" "$C/zero."
	split -b 10M "$RAW" "$C/alpha."
	cp "$RAW" "$d/src.raw"	# affconvert refuses *.img and *.dd names
	(cd "$C" && affconvert -q -o"$C/ev.aff" "$d/src.raw" >/dev/null)
	rm "$d/src.raw"
	qemu-img convert -c -O qcow2 "$RAW" "$C/d.qcow2"
	qemu-img convert -O vmdk "$RAW" "$C/sparse.vmdk"
	qemu-img convert -O vmdk -o subformat=monolithicFlat "$RAW" "$C/flat.vmdk"
	qemu-img convert -O vhdx "$RAW" "$C/d.vhdx"
	qemu-img convert -O vpc -o subformat=fixed,force_size=on "$RAW" "$C/fixed.vhd"
	qemu-img convert -O vpc -o force_size=on "$RAW" "$C/dyn.vhd"
	record_checksums "$RAW" "$C"/*
}

setup() {
	blkfuse_setup
}

teardown() {
	blkfuse_teardown
}

# range START SIZE (bytes) of the raw image
raw_range() {
	dd if="$RAW" bs=512 skip=$(($1 / 512)) count=$(($2 / 512)) status=none
}

# check_container FILE FORMAT: listed as the raw image is, and every file
# of the mount (disk, pN, free/*) equal to the raw image's bytes.
check_container() {
	local f=$1 fmt=$2 nr start size name first last
	run "$BLKFUSE" --list --json "$f"
	assert_success
	assert_equal "$(jq -r .format <<<"$output")" "$fmt"
	assert_equal "$(blkfuse_ranges "$f")" "$(partx_ranges "$RAW")"
	start_blkfuse "$f" "$MNT"
	assert_equal "$(stat -c %s "$MNT/disk")" "$(stat -c %s "$RAW")"
	cmp "$MNT/disk" "$RAW"
	while read -r nr start size; do
		assert_equal "$(stat -c %s "$MNT/p$nr")" "$size"
		cmp "$MNT/p$nr" <(raw_range "$start" "$size")
	done < <(partx_ranges "$RAW")
	[ "$(ls "$MNT/free" | wc -l)" -ge 2 ]
	for name in "$MNT"/free/*; do
		IFS=- read -r first last <<<"${name##*/}"
		cmp "$name" <(raw_range $((10#$first * 512)) $(((10#$last - 10#$first + 1) * 512)))
	done
	assert_equal "$(readlink "$MNT/by-partlabel/swap")" ../p2
	assert_equal "$(jq -r .format "$MNT/layout.json")" "$fmt"
	stop_blkfuse
	assert_clean_log
}

@test "--version lists the formats this build reads" {
	run "$BLKFUSE" --version
	assert_success
	assert_line 'formats: raw split ewf aff qcow2 vmdk vhd vhdx'
}

@test "the containers themselves are right (ewfverify, qemu-img compare)" {
	run ewfverify -q "$C/ev.E01"
	assert_success
	for f in qcow2:d.qcow2 vmdk:sparse.vmdk vmdk:flat.vmdk vhdx:d.vhdx \
		 vpc:fixed.vhd vpc:dyn.vhd; do
		qemu-img compare -q -f raw -F "${f%%:*}" "$RAW" "$C/${f#*:}"
	done
}

@test "EWF (compressed, three segments): every file equals the raw image" {
	[ -e "$C/ev.E03" ]
	check_container "$C/ev.E01" ewf
}

# spliced_across_10mib: a read of disk across byte 10 MiB (a segment or
# extent boundary) equals the raw image, and every byte was spliced.
spliced_across_10mib() {
	cmp <(dd if="$MNT/disk" bs=64k skip=$(((10 << 20) / 65536 - 2)) count=4 status=none) \
		<(dd if="$RAW" bs=64k skip=$(((10 << 20) / 65536 - 2)) count=4 status=none)
	[ "$(ctl_get spliced_bytes)" -gt 0 ]
	assert_equal "$(ctl_get copied_bytes)" 0
	assert_equal "$(ctl_get decoded_bytes)" 0
}

@test "split raw .001 .002 ...: every file equals the raw image; spliced, one reply across segments" {
	check_container "$C/sp.001" split
	start_blkfuse "$C/sp.001" "$MNT"
	# 10 MiB is a segment boundary: a read across it
	spliced_across_10mib
	assert_equal "$(ctl_get fallback.segments)" 0
	stop_blkfuse
}

@test "split raw .000 and .aa sets, found from the first segment" {
	check_container "$C/zero.000" split
	check_container "$C/alpha.aa" split
	run "$BLKFUSE" --list "$C/sp.001"
	assert_line --regexp "^Segment: +$C/sp.004 \(2097152 bytes\)$"
}

@test "AFF: every file equals the raw image" {
	check_container "$C/ev.aff" aff
}

@test "QCOW2 (compressed clusters): every file equals the raw image" {
	check_container "$C/d.qcow2" qcow2
}

@test "VMDK, sparse and flat: every file equals the raw image" {
	check_container "$C/sparse.vmdk" vmdk
	check_container "$C/flat.vmdk" vmdk
	run "$BLKFUSE" --list --json "$C/flat.vmdk"
	assert_equal "$(jq -r '.container.segments[1].path' <<<"$output")" "$C/flat-flat.vmdk"
}

@test "flat VMDK extents are spliced from their own files, one reply across two extents" {
	local d=$BATS_TEST_TMPDIR/vm sectors=$(($(stat -c %s "$RAW") / 512))
	mkdir -p "$d"
	# two extents, the second at byte 4096 of its file: as split flat VMDKs are
	head -c $((10 << 20)) "$RAW" >"$d/two-f001.vmdk"
	{ head -c 4096 /dev/zero; tail -c +$(((10 << 20) + 1)) "$RAW"; } >"$d/two-f002.vmdk"
	cat >"$d/two.vmdk" <<-EOT
	# Disk DescriptorFile
	version=1
	CID=12345678
	parentCID=ffffffff
	createType="twoGbMaxExtentFlat"
	# Extent description
	RW 20480 FLAT "two-f001.vmdk" 0
	RW $((sectors - 20480)) FLAT "two-f002.vmdk" 8
	EOT
	check_container "$d/two.vmdk" vmdk
	start_blkfuse "$d/two.vmdk" "$MNT"
	spliced_across_10mib
	stop_blkfuse
	# an extent its file cannot hold: one line, exit 1
	truncate -s $((4 << 20)) "$d/two-f002.vmdk"
	run --separate-stderr "$BLKFUSE" --list "$d/two.vmdk"
	assert_failure 1
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "two-f002.vmdk: extent of [0-9]+ bytes from byte 4096, but the file holds 4194304"
}

@test "VHDX, fixed VHD (spliced) and dynamic VHD: every file equals the raw image" {
	check_container "$C/d.vhdx" vhdx
	check_container "$C/fixed.vhd" vhd
	check_container "$C/dyn.vhd" vhd
}

@test "EWF metadata and stored hashes in --list, layout.json and the audit start record" {
	local log=$BATS_TEST_TMPDIR/audit.jsonl md5 sha1
	md5=$(md5sum <"$RAW" | cut -d' ' -f1)
	sha1=$(sha1sum <"$RAW" | cut -d' ' -f1)
	run "$BLKFUSE" --list "$C/ev.E01"
	assert_success
	assert_line 'Container:   case_number: CASE-9'
	assert_line 'Container:   examiner_name: Examiner Nine'
	assert_line 'Container:   evidence_number: EV-1'
	assert_line 'Container:   description: issue 9 image'
	assert_line "Stored hash: md5:$md5"
	assert_line "Stored hash: sha1:$sha1"
	assert_line --regexp "^Segment: +$C/ev.E02 \([0-9]+ bytes\)$"
	start_blkfuse --audit "$log" "$C/ev.E01" "$MNT"
	assert_equal "$(jq -r '.container.metadata.case_number, .container.stored_hashes.md5, .container.bytes_per_sector' "$MNT/layout.json")" \
		"$(printf 'CASE-9\n%s\n512' "$md5")"
	cmp "$MNT/layout.json" <("$BLKFUSE" --list --json "$C/ev.E01")
	stop_blkfuse
	assert_equal "$(jq -r 'select(.ev == "start") | "\(.format) \(.container.metadata.examiner_name) \(.container.stored_hashes.sha1)"' "$log")" \
		"ewf Examiner Nine $sha1"
}

@test "--verify stored: E01 and AFF match and mount; a changed stored hash exits 3; no stored hash: one line" {
	local aff=$BATS_TEST_TMPDIR/bad.aff off
	start_blkfuse --verify stored "$C/ev.E01" "$MNT"
	stop_blkfuse
	grep -q 'verified md5:[0-9a-f]\{32\} sha1:[0-9a-f]\{40\}$' "$DAEMON_LOG"
	start_blkfuse --verify stored "$C/ev.aff" "$MNT"
	stop_blkfuse
	# the AFF's md5 segment holds the digest in binary: change one byte
	cp "$C/ev.aff" "$aff"
	off=$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read().find(bytes.fromhex(sys.argv[2])))' \
		"$aff" "$(md5sum <"$RAW" | cut -d' ' -f1)")
	[ "$off" -gt 0 ]
	[ -n "$off" ]
	printf '\x00' | dd of="$aff" bs=1 seek="$off" conv=notrunc status=none
	run -3 "$BLKFUSE" --ctl=none --verify stored "$aff" "$MNT"
	assert_output --regexp 'hash mismatch: expected md5:[0-9a-f]+ sha1:[0-9a-f]+ \(stored in the container\), found md5:'
	run -1 "$BLKFUSE" --ctl=none --verify stored "$C/d.qcow2" "$MNT"
	assert_output "blkfuse: error: $C/d.qcow2: --verify stored: the source holds no stored hash (only an E01 or AFF image does)"
	run ! mountpoint -q "$MNT"
}

@test "hash of a container hashes the media" {
	local start size
	read -r _ start size < <(partx_ranges -n 2 "$RAW")
	for f in ev.E01 sp.001 d.qcow2; do
		run --separate-stderr "$BLKFUSE" hash "$C/$f" disk p2
		assert_success
		assert_line "$(sha256sum <"$RAW" | cut -d' ' -f1)  disk"
		assert_line "$(raw_range "$start" "$size" | sha256sum | cut -d' ' -f1)  p2"
	done
	local md5 sha1 aff=$BATS_TEST_TMPDIR/bad.aff off
	md5=$(md5sum <"$RAW" | cut -d' ' -f1)
	sha1=$(sha1sum <"$RAW" | cut -d' ' -f1)
	run --separate-stderr "$BLKFUSE" hash --algo md5 "$C/ev.E01"
	assert_success
	assert_output "$md5  disk"
	assert_equal "$stderr" "blkfuse: notice: $C/ev.E01: stored md5:$md5 matches
blkfuse: notice: $C/ev.E01: stored sha1:$sha1 not checked (hash 'disk' with --algo sha1)"
	# a stored hash that differs: said, and exit 3 (as --verify)
	cp "$C/ev.aff" "$aff"
	off=$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read().find(bytes.fromhex(sys.argv[2])))' \
		"$aff" "$md5")
	[ -n "$off" ] && [ "$off" -gt 0 ]
	printf '\x00' | dd of="$aff" bs=1 seek="$off" conv=notrunc status=none
	run --separate-stderr "$BLKFUSE" hash --format=aff --algo md5,sha1 "$aff"
	assert_equal "$status" 3
	assert_line "MD5 (disk) = $md5"
	assert_equal "$(grep -c DIFFERS <<<"$stderr")" 1
	[[ $stderr == *"stored md5:00"*" DIFFERS from the media's md5:$md5"* ]] || fail "$stderr"
	[[ $stderr == *"stored sha1:$sha1 matches"* ]] || fail "$stderr"
}

@test "decoding: statistics, the decode fallback and the cache_mb tunable" {
	start_blkfuse "$C/d.qcow2" "$MNT"
	cat "$MNT/p1" >/dev/null
	[ "$(ctl_get decoded_bytes)" -gt 0 ]
	[ "$(ctl_get fallback.decode)" -gt 0 ]
	assert_equal "$(ctl_get spliced_bytes)" 0
	assert_equal "$(ctl_get cache_mb)" 8
	"$BLKFUSE" ctl "$MNT" set cache_mb=0
	assert_equal "$(ctl_get cache_mb)" 0
	cmp "$MNT/p1" <(raw_range $((2048 * 512)) $((8 << 20)))
	run "$BLKFUSE" ctl "$MNT" set cache_mb=5000
	assert_failure
	"$BLKFUSE" ctl "$MNT" set cache_mb=1
	cmp "$MNT/disk" "$RAW"
	# whole 64 KiB blocks are decoded into the reply; a 4 KiB read (no
	# page cache: O_DIRECT) goes through the cache: a miss, then a hit
	dd if="$MNT/disk" of=/dev/null bs=4k skip=100 count=1 iflag=direct status=none
	dd if="$MNT/disk" of=/dev/null bs=4k skip=101 count=1 iflag=direct status=none
	[ "$(ctl_get cache_hits)" -gt 0 ]
	[ "$(ctl_get cache_misses)" -gt 0 ]
	stop_blkfuse
}

# The media offset of the first chunk libewf reports bad, from ewfverify.
@test "a corrupt EWF chunk: EIO at that chunk, zeros with --on-error=zero, logged and audited" {
	EXPECTED_LOG='Input/output error'
	local e=$BATS_TEST_TMPDIR/e log=$BATS_TEST_TMPDIR/audit.jsonl bad first last n
	mkdir "$e"
	cp "$C"/ev.E0? "$e/"
	# the middle of the first segment's chunk data
	printf '\xde\xad\xbe\xef%.0s' 1 2 3 4 | dd of="$e/ev.E01" bs=1 seek=$((5 << 20)) conv=notrunc status=none
	start_blkfuse "$e/ev.E01" "$MNT"
	run dd if="$MNT/disk" of=/dev/null bs=4k
	assert_failure
	bad=$(sed -n 's/^\([0-9]*\) bytes .* copied.*/\1/p' <<<"$output")
	[ $((bad % 32768)) -eq 0 ]	# a chunk (64 sectors) boundary
	grep -q "Input/output error in the chunk at media offset $bad\$" "$DAEMON_LOG"
	# every other chunk reads right
	cmp <(head -c "$bad" "$MNT/disk") <(head -c "$bad" "$RAW")
	cmp <(tail -c +$((bad + 32769)) "$MNT/disk") <(tail -c +$((bad + 32769)) "$RAW")
	stop_blkfuse
	start_blkfuse --on-error=zero --audit "$log" "$e/ev.E01" "$MNT"
	read -r first last n < <(cmp -l "$MNT/disk" "$RAW" | awk 'NR == 1 { f = $1 } { l = $1 } END { print f - 1, l - 1, NR }')
	[ "$first" -ge "$bad" ] && [ "$last" -lt $((bad + 32768)) ]
	cmp <(dd if="$MNT/disk" bs=32k skip=$((bad / 32768)) count=1 status=none) <(head -c 32768 /dev/zero)
	stop_blkfuse
	# one run per request that met the chunk: together, exactly the chunk
	assert_equal "$(jq -r 'select(.ev == "corrupt") | "\(.file) \(.offset) \(.errno)"' "$log" | sort -u)" "disk $bad 5"
	assert_equal "$(jq -rs '[.[] | select(.ev == "zeroed")] | unique_by(.offset) | "\(.[0].file) \(map(.offset) | min) \(map(.length) | add)"' "$log")" \
		"disk $bad 32768"
	grep -q "filled with zeros" "$DAEMON_LOG"
}

# qcow2: the host offset of the compressed cluster holding guest byte $2
qcow2_cluster() {
	python3 - "$1" "$2" <<-'EOF'
	import struct, sys
	f = open(sys.argv[1], 'rb'); g = int(sys.argv[2]); h = f.read(72)
	cbits = struct.unpack('>I', h[20:24])[0]; l1 = struct.unpack('>Q', h[40:48])[0]
	cs = 1 << cbits; per = cs // 8; ci = g // cs
	f.seek(l1 + 8 * (ci // per)); l2 = struct.unpack('>Q', f.read(8))[0] & 0x00fffffffffffe00
	f.seek(l2 + 8 * (ci % per)); e = struct.unpack('>Q', f.read(8))[0]
	assert e >> 62 & 1, 'not a compressed cluster'
	print(e & ((1 << (62 - (cbits - 8))) - 1), ci * cs)
	EOF
}

@test "a corrupt QCOW2 compressed cluster: EIO at that cluster, the rest intact" {
	EXPECTED_LOG='Input/output error'
	local q=$BATS_TEST_TMPDIR/bad.qcow2 host guest
	cp "$C/d.qcow2" "$q"
	read -r host guest < <(qcow2_cluster "$q" $((3 << 20)))
	# 0xff: a deflate block of the reserved type, an invalid stream
	head -c 16 /dev/zero | tr '\0' '\377' | dd of="$q" bs=1 seek="$host" conv=notrunc status=none
	start_blkfuse "$q" "$MNT"
	run dd if="$MNT/disk" of=/dev/null bs=4k
	assert_failure
	assert_output --partial "$guest bytes"
	grep -q "Input/output error in the chunk at media offset $guest\$" "$DAEMON_LOG"
	cmp <(tail -c +$((guest + 65537)) "$MNT/disk") <(tail -c +$((guest + 65537)) "$RAW")
	stop_blkfuse
}

@test "incomplete, duplicate or wrong sets: one line naming the file, exit 1" {
	local s=$BATS_TEST_TMPDIR/s
	mkdir "$s"
	cp "$C/ev.E01" "$C/ev.E03" "$s/"
	run -1 "$BLKFUSE" --list "$s/ev.E01"
	assert_output "blkfuse: error: $s/ev.E02: missing segment of the EWF set $s/ev.E01 ($s/ev.E03 exists)"
	rm "$s/ev.E03"; cp "$C/ev.E02" "$s/"
	run -1 "$BLKFUSE" --list "$s/ev.E01"
	assert_output "blkfuse: error: $s/ev.E03: missing segment of the EWF set $s/ev.E01 (the set ends early)"
	cp "$C/ev.E02" "$s/ev.E03"
	run -1 "$BLKFUSE" "$s/ev.E01" "$MNT"
	assert_output "blkfuse: error: $s/ev.E03: EWF segment number 2 where segment 3 belongs (a duplicate or misnamed segment)"
	head -c 8 "$C/ev.E01" >"$s/t.E01"
	run -1 "$BLKFUSE" --list "$s/t.E01"
	assert_output --regexp "^blkfuse: error: $s/t.E01: "
	[ "${#lines[@]}" -eq 1 ]
	cp "$C/sp.001" "$C/sp.003" "$s/"
	run -1 "$BLKFUSE" --list "$s/sp.001"
	assert_output "blkfuse: error: $s/sp.002: missing segment of the split set $s/sp.001"
	cp "$C/sp.002" "$s/"
	run -1 "$BLKFUSE" --list "$s/sp.002"
	assert_output "blkfuse: error: $s/sp.002: a later segment of the split set $s/sp.001; give the first segment"
	qemu-img create -q -u -f qcow2 -b "$s/gone.raw" -F raw "$s/child.qcow2" 32M
	run -1 "$BLKFUSE" --list "$s/child.qcow2"
	assert_output "blkfuse: error: $s/child.qcow2: backing file $s/gone.raw: No such file or directory"
	run -1 "$BLKFUSE" --list --format=qcow2 "$RAW"
	assert_output "blkfuse: error: $RAW: not a qcow2 image (--format=qcow2); its content says raw"
	printf 'LUKS\xba\xbe\0\2' >"$s/luks"; head -c 1M /dev/zero >>"$s/luks"
	# a LUKS header is a volume, not a container: listed as what it is
	run -0 "$BLKFUSE" --list "$s/luks"
	assert_line --regexp '^`-luks +luks .*bad: LUKS2 header size 0 not valid$'
	run -1 "$BLKFUSE" --list --format=bogus "$RAW"
	assert_line --partial "--format must be auto, raw, split, ewf"
	run ! mountpoint -q "$MNT"
}

@test "--format=raw reads a container's files as they are" {
	run "$BLKFUSE" --list --json --format=raw "$C/fixed.vhd"
	assert_success
	assert_equal "$(jq -r '.format, .size' <<<"$output")" "$(printf 'raw\n%s' "$(stat -c %s "$C/fixed.vhd")")"
}

@test "the probe mount is gone and the sources are unchanged" {
	run bash -c "grep -c blkfuse-probe /proc/self/mountinfo"
	assert_output 0
	run bash -c 'ls -d /run/blkfuse-probe.* 2>/dev/null'
	assert_output ''
	assert_sources_unchanged
}
