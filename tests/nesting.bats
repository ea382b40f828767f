#!/usr/bin/env bats
# Volumes nested through the whole stack, read through the mount with their
# keys: LVM inside LUKS, LUKS inside an LV, BitLocker in a partition of an
# E01; --on-error=zero below a decrypting layer.  Oracles: lvm2 (where
# lvs --segments says an LV's extents lie in the plaintext), cryptsetup
# (which encrypted a known plaintext in place), ewfacquire, and
# tests/crypt_open for the BitLocker volume made by Windows 10
# (../shared/testdata/fve; tests/crypt.bats checks crypt_open against its
# known plaintext and libbde).

load helpers
load lvm
load crypt

CRYPT_OPEN=${CRYPT_OPEN:-$(dirname "$BLKFUSE")/tests/crypt_open}
PASS='nested Pass-word'

setup_file() {
	command -v pvcreate >/dev/null || skip "lvm2 is not installed"
	command -v cryptsetup >/dev/null || skip "cryptsetup is not installed"
	export LVMDIR=$BATS_FILE_TMPDIR/lvm LVMLOG=$BATS_FILE_TMPDIR/lvm.log
	mkdir -p "$LVMDIR"
	D=$BATS_FILE_TMPDIR
	printf '%s\n' "$PASS" >"$D/pass"
	printf '%s' "$PASS" >"$D/pass.raw"	# cryptsetup takes it whole
	: >"$D/sources"
}

setup() {
	blkfuse_setup
	D=$BATS_FILE_TMPDIR
	T=$BATS_TEST_TMPDIR
}

teardown() {
	blkfuse_teardown
}

# keep FILE: FILE is a source whose checksum the last test checks.
keep() {
	sha256sum "$1" >>"$D/sources"
}

# gpt_around IMG VOLUME: IMG is a GPT disk whose p1 (from 1 MiB) holds
# exactly VOLUME's bytes.
gpt_around() {
	local size sectors
	size=$(stat -c %s "$2")
	sectors=$(( (size + 511) / 512 ))
	truncate -s $(( (sectors + 4096) * 512 )) "$1"
	sfdisk -q "$1" <<-EOT
	label: gpt
	start=2048, size=$sectors
	EOT
	dd if="$2" of="$1" bs=1M seek=1 conv=notrunc status=none
}

# data_offset LUKS: where its encrypted payload starts, in bytes.
data_offset() {
	cryptsetup luksDump "$1" |
		awk '/^Data segments:/ { s = 1 } s && /offset:/ { print $2; exit }'
}

# Two LVs on a whole-disk PV, "a" in two segments.
vg_two() {
	vg_grown vgn a:4:8 b:8 "$BATS_TEST_TMPDIR"
}

# lvm_in_luks_disk [luks1]: $T/disk.img, a GPT disk whose p1 is LUKS2
# (or LUKS1: made as LUKS2 and converted, as cryptsetup encrypts LUKS1 only
# through dm) over an LVM PV (vg_two) made on $T/plain.img.
lvm_in_luks_disk() {
	local reduce=4
	[ "${1:-}" = luks1 ] && reduce=8	# LUKS1's header is larger
	random_image "$T/plain.img" $((20 + reduce))
	# the PV is the plaintext LUKS will show: the first 20 MiB
	RANGES="0:$((20 << 20))" with_loops "$T/plain.img" "0:$((20 << 20))" vg_two
	cp "$T/plain.img" "$T/luks.img"
	luks_encrypt "$T/luks.img" "$reduce" "$D/pass.raw"
	if [ "${1:-}" = luks1 ]; then
		cryptsetup convert --type luks1 --batch-mode "$T/luks.img"
		cryptsetup luksDump "$T/luks.img" | grep -q '^Version:[[:space:]]*1$'
	fi
	gpt_around "$T/disk.img" "$T/luks.img"
	keep "$T/disk.img"
}

@test "LVM inside LUKS2 inside a GPT partition: every LV decrypted, byte for byte" {
	local plain=$T/plain.img
	lvm_in_luks_disk
	start_blkfuse --passphrase-file "$D/pass" "$T/disk.img" "$MNT"
	assert_lv "$MNT/p1.d/luks.d/vgn-a" "$plain" "$T/a.segs"
	assert_lv "$MNT/p1.d/luks.d/vgn-b" "$plain" "$T/b.segs"
	run jq -r '.. | objects | select(.path? == "p1.d/luks.d/vgn-a") | .type' "$MNT/layout.json"
	assert_output lvm2-lv
	stop_blkfuse
	run "$BLKFUSE" --list --passphrase-file "$D/pass" "$T/disk.img"
	assert_success
	assert_line --regexp '^`-luks +luks +LVM2_member'
	assert_line --regexp '^  \|-vgn-a +lvm2-lv .* 8M'
	# no key: the LUKS volume stays locked and nothing below it appears
	run "$BLKFUSE" --list "$T/disk.img"
	assert_line --regexp '^`-luks +luks .*locked: '
	refute_output --partial vgn-a
}

@test "LVM inside LUKS1: both LVs decrypted, byte for byte" {
	lvm_in_luks_disk luks1
	start_blkfuse --passphrase-file "$D/pass" "$T/disk.img" "$MNT"
	assert_lv "$MNT/p1.d/luks.d/vgn-a" "$T/plain.img" "$T/a.segs"
	assert_lv "$MNT/p1.d/luks.d/vgn-b" "$T/plain.img" "$T/b.segs"
	grep -q 'LUKS1, aes-xts-plain64' <(jq -r '.. | objects | select(.path? == "p1.d/luks") | .layer' "$MNT/layout.json")
}

@test "LUKS2 inside an LV: the plaintext under the LV's .d folder" {
	local img=$T/vg.img plain=$T/plain.img luks=$T/luks.img seg r ext off
	random_image "$img" 32
	RANGES="0:$((32 << 20))" with_loops "$img" "0:$((32 << 20))" vg_two
	random_image "$plain" 8
	cp "$plain" "$luks"
	luks_encrypt "$luks" 4 "$D/pass.raw"
	off=$(data_offset "$luks")
	# the LUKS volume into LV b's single segment (8 MiB, as big)
	seg=$(awk 'NR == 1 { print $2 }' "$T/b.segs") r=${seg#*:}
	ext=$(awk '$1 == "ext" { print $2 }' "$T/b.segs")
	dd if="$luks" of="$img" bs=1M oflag=seek_bytes conv=notrunc status=none \
		seek=$(( ${seg%%:*} + ${r%-*} * ext ))
	keep "$img"
	start_blkfuse --passphrase-file "$D/pass" "$img" "$MNT"
	assert_equal "$(stat -c %s "$MNT/disk.d/vgn-b.d/luks")" $(( (8 << 20) - off ))
	head -c $((4 << 20)) "$MNT/disk.d/vgn-b.d/luks" | cmp <(head -c $((4 << 20)) "$plain") -
}

@test "BitLocker (Windows 10, AES-XTS) in a GPT partition of an E01: the plaintext" {
	command -v ewfacquire >/dev/null || skip "ewfacquire (ewf-tools) is not installed"
	"$BLKFUSE" --version | grep -q ewf || skip "built without an EWF reader"
	gzip -dc "$TESTDATA/fve/bde_aes-xts_128.bin.gz" >"$T/bde.bin"
	printf '%s\n' 'password12!@' >"$T/bde.pass"
	gpt_around "$T/disk.img" "$T/bde.bin"
	ewfacquire -u -q -t "$T/ev" -c fast -S $((16 << 20)) "$T/disk.img" >/dev/null
	keep "$T/ev.E01"
	start_blkfuse --passphrase-file "$T/bde.pass" "$T/ev.E01" "$MNT"
	local size
	size=$(stat -c %s "$MNT/p1.d/bitlocker")
	[ "$size" -gt $((32 << 20)) ]
	"$CRYPT_OPEN" -p "$T/bde.pass" bitlocker "$T/bde.bin" 0 "$size" 2>/dev/null |
		cmp - "$MNT/p1.d/bitlocker"
	run jq -r '.. | objects | select(.path? == "p1.d/bitlocker") | "\(.type) \(.state)"' "$MNT/layout.json"
	assert_output 'bitlocker open'
}

@test "--on-error=zero below LUKS: the sectors over a bad range read as zeros, logged by name" {
	local fmnt=$T/faulty plain=$T/plain.img luks=$T/luks.img off bad
	random_image "$plain" 8
	cp "$plain" "$luks"
	luks_encrypt "$luks" 4 "$D/pass.raw" --sector-size 512
	gpt_around "$T/disk.img" "$luks"
	keep "$T/disk.img"
	off=$(data_offset "$luks")
	# 1000 bad bytes from plaintext byte 64 KiB + 100: sectors 128..130
	bad=$(( (1 << 20) + off + 65536 + 100 ))
	mkdir -p "$fmnt"
	"$REPO/tests/faulty_fs" "$T/disk.img" "$bad" 1000 "$fmnt" -f 2>/dev/null &
	FAULTY_PID=$! FAULTY_MNT=$fmnt
	for _ in $(seq 200); do [ -e "$fmnt/img" ] && break; sleep 0.05; done
	EXPECTED_LOG='p1.d/luks: (Input/output error at volume offset 65536, 1536 bytes: filled with zeros|read of [0-9]+ bytes at volume offset [0-9]+: Input/output error)'
	start_blkfuse --on-error=zero --audit "$T/audit" --passphrase-file "$D/pass" "$fmnt/img" "$MNT"
	head -c $((4 << 20)) "$plain" >"$T/want"
	dd if=/dev/zero of="$T/want" bs=512 seek=128 count=3 conv=notrunc status=none
	head -c $((4 << 20)) "$MNT/p1.d/luks" | cmp "$T/want" -
	stop_blkfuse
	grep -q 'p1.d/luks: Input/output error at volume offset 65536, 1536 bytes: filled with zeros' "$DAEMON_LOG"
	run jq -c 'select(.ev == "zeroed") | [.file, .offset, .length, .errno]' "$T/audit"
	assert_output '["p1.d/luks",65536,1536,5]'
	# without it: EIO for a read over the bad sectors, the rest still served
	start_blkfuse --passphrase-file "$D/pass" "$fmnt/img" "$MNT"
	run dd if="$MNT/p1.d/luks" of=/dev/null bs=4096 skip=16 count=1 iflag=direct
	assert_failure
	assert_output --partial 'Input/output error'
	cmp <(head -c 65536 "$plain") <(head -c 65536 "$MNT/p1.d/luks")
}

@test "--verify NAME=ALGO:HEX: an LV inside LUKS, a partition; mismatch exits 3, unknown names one line" {
	local want part
	lvm_in_luks_disk
	want=$(expected_lv "$T/plain.img" "$T/a.segs" | sha256sum | cut -d' ' -f1)
	part=$(dd if="$T/disk.img" bs=1M skip=1 count=24 status=none | sha256sum | cut -d' ' -f1)
	start_blkfuse --verify "p1.d/luks.d/vgn-a=sha256:$want" --verify-after \
		--audit "$T/audit" --passphrase-file "$D/pass" "$T/disk.img" "$MNT"
	stop_blkfuse
	grep -q "verified p1.d/luks.d/vgn-a=sha256:$want" "$DAEMON_LOG"
	run jq -r 'select(.ev == "stop") | "\(.verify_after) \(.verify_after_matches)"' "$T/audit"
	assert_output "p1.d/luks.d/vgn-a=sha256:$want true"
	start_blkfuse --verify "p1=SHA256:${part^^}" "$T/disk.img" "$MNT"
	stop_blkfuse
	run -3 "$BLKFUSE" -f --verify "p1.d/luks.d/vgn-b=sha256:$want" \
		--passphrase-file "$D/pass" "$T/disk.img" "$MNT"
	assert_output --regexp "^blkfuse: error: .*hash mismatch: expected p1.d/luks.d/vgn-b=sha256:$want, found p1.d/luks.d/vgn-b=sha256:[0-9a-f]{64}; not mounting\$"
	# without the key the LV is not there: the LUKS volume said locked,
	# then the one error line, nothing mounted
	run -1 "$BLKFUSE" -f --verify "p1.d/luks.d/vgn-a=sha256:$want" "$T/disk.img" "$MNT"
	assert_line --index 0 --regexp "^blkfuse: notice: p1.d/luks: locked: "
	assert_line --index 1 --regexp "^blkfuse: error: p1.d/luks.d/vgn-a: no such volume in "
	assert_equal "${#lines[@]}" 2
	run -1 "$BLKFUSE" -f --verify "p9=sha256:$want" "$T/disk.img" "$MNT"
	assert_line --regexp "^blkfuse: error: p9: no such partition in "
	run "$BLKFUSE" -f --verify "p1.d/luks=stored" "$T/disk.img" "$MNT"
	assert_failure
	assert_line --index 0 --partial "--verify takes [NAME=]ALGO:HEX"
	run -1 "$BLKFUSE" -f --verify "p1.d/luks=sha256:abc" "$T/disk.img" "$MNT"
	assert_line --regexp "^blkfuse: error: p1.d/luks: locked .*nothing to hash"
	! mountpoint -q "$MNT"
}

@test "sources are unchanged" {
	run sha256sum -c "$D/sources"
	assert_success
}
