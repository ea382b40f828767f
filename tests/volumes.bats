#!/usr/bin/env bats
# Volumes inside volumes: LVM2 volume groups made by lvm2 itself on loop
# devices (--driverloaded n: metadata only, no device-mapper), each LV
# compared byte for byte with the bytes lvm2 says it holds
# (lvs --segments -o seg_pe_ranges), cut from the image with dd.
# lvm2 sees only this suite's loop devices (a filter) and keeps its state
# in a private LVM_SYSTEM_DIR: the host's own volume groups are never
# scanned or touched.

load helpers
load lvm

setup_file() {
	command -v pvcreate >/dev/null || skip "lvm2 is not installed"
	export LVMDIR=$BATS_FILE_TMPDIR/lvm LVMLOG=$BATS_FILE_TMPDIR/lvm.log
	mkdir -p "$LVMDIR"
}

setup() {
	blkfuse_setup
}

teardown() {
	blkfuse_teardown
}

# ---- the volume groups --------------------------------------------------

# A whole-disk PV: root grown after swap was made (two segments), swap.
vg_fragmented() {
	vg_grown vgf root:8:16 swap:4 "$BATS_FILE_TMPDIR"
}

@test "fragmented LV and a second LV on a whole-disk PV: byte for byte, spliced" {
	local img=$BATS_TEST_TMPDIR/frag.img
	random_image "$img" 64
	RANGES="0:$((64 << 20))" with_loops "$img" "0:$((64 << 20))" vg_fragmented
	record_checksums "$img"
	assert_equal "$(grep -vc ext "$BATS_FILE_TMPDIR/root.segs")" 2
	start_blkfuse --audit "$BATS_TEST_TMPDIR/audit.jsonl" "$img" "$MNT"
	assert_lv "$MNT/disk.d/vgf-root" "$img" "$BATS_FILE_TMPDIR/root.segs"
	assert_lv "$MNT/disk.d/vgf-swap" "$img" "$BATS_FILE_TMPDIR/swap.segs"
	# a linear LV on a raw image is spliced straight from the image
	"$BLKFUSE" ctl "$MNT" reset
	dd if="$MNT/disk.d/vgf-root" of=/dev/null bs=1M iflag=direct status=none
	assert_counter spliced_bytes $((16 << 20))
	assert_counter copied_bytes 0
	# a read across the segment boundary (extent 2 of the LV), any offset
	cmp <(dd if="$MNT/disk.d/vgf-root" iflag=skip_bytes,count_bytes skip=$((8 << 20) - 4097) count=12345 status=none) \
		<(expected_lv "$img" "$BATS_FILE_TMPDIR/root.segs" | dd iflag=skip_bytes,count_bytes skip=$((8 << 20) - 4097) count=12345 status=none)
	# the tree in layout.json and --list
	run jq -r '.version, (.volumes[0].children[] | "\(.path) \(.type) \(.label) \(.detail)")' "$MNT/layout.json"
	assert_line --index 0 4
	assert_line "disk.d/vgf-root lvm2-lv vgf/root linear, 2 segments"
	assert_line "disk.d/vgf-swap lvm2-lv vgf/swap linear, 1 segment"
	stop_blkfuse
	# the audit trail names the LV's file
	run jq -r 'select(.ev == "read") | .file' "$BATS_TEST_TMPDIR/audit.jsonl"
	assert_line disk.d/vgf-root
	run "$BLKFUSE" --list "$img"
	assert_line --regexp '^disk +disk +LVM2_member +64M'
	assert_line --regexp '^[|`]-vgf-root +lvm2-lv +16M'
	assert_sources_unchanged
}

# Two PVs in two partitions: a striped LV over both, an LV across both,
# and an LV holding a DOS partition table of its own (a guest's disk).
vg_two_pvs() {
	lvmrun pvcreate "${LOOPDEV[0]}" "${LOOPDEV[1]}"
	lvmrun vgcreate vgs "${LOOPDEV[0]}" "${LOOPDEV[1]}"
	lvmrun lvcreate -n st -i2 -I64k -L 16M vgs
	lvmrun lvcreate -n guest -L 8M vgs "${LOOPDEV[1]}"
	lvmrun lvcreate -n span -L 24M vgs
	for lv in st guest span; do
		save_segments "vgs/$lv" "$BATS_FILE_TMPDIR/$lv.segs"
	done
}

# guest_table IMG: a DOS table with two partitions written into the one
# segment of vgs/guest, as a guest would have it in its disk.  p2 is swap
# (0x82, also Solaris's code: libblkid 2.38 refuses such a table in place
# at an offset, and blkfuse reads it from a copy instead).
guest_table() {
	local img=$1 tab=$BATS_TEST_TMPDIR/guest.tab seg
	random_image "$tab" 8
	sfdisk -q "$tab" <<-EOT
	label: dos
	start=2048, size=4096, type=83
	start=8192, size=8192, type=82
	EOT
	seg=$(awk 'NR == 1 { print $2 }' "$BATS_FILE_TMPDIR/guest.segs")
	r=${seg#*:}
	GUEST_OFF=$(( ${seg%%:*} + ${r%-*} * $(awk '$1 == "ext" { print $2 }' "$BATS_FILE_TMPDIR/guest.segs") ))
	dd if="$tab" of="$img" bs=1M seek=$((GUEST_OFF)) oflag=seek_bytes conv=notrunc status=none
}

@test "VG over two partitions: striped, spanning; LVs under the first PV, links from the other" {
	local img=$BATS_TEST_TMPDIR/two.img
	gpt_image "$img" 80 32 32
	local r1 r2
	r1=$(part_range "$img" 1) r2=$(part_range "$img" 2)
	RANGES="$r1 $r2" with_loops "$img" "$r1 $r2" vg_two_pvs
	record_checksums "$img"
	# lvm2 really striped st over both PVs and spread span over both
	run awk 'NR == 1 { print $1, NF }' "$BATS_FILE_TMPDIR/st.segs"
	assert_output "65536 3"
	assert_equal "$(grep -vc ext "$BATS_FILE_TMPDIR/span.segs")" 2
	start_blkfuse "$img" "$MNT"
	assert_lv "$MNT/p1.d/vgs-st" "$img" "$BATS_FILE_TMPDIR/st.segs"
	assert_lv "$MNT/p1.d/vgs-span" "$img" "$BATS_FILE_TMPDIR/span.segs"
	assert_lv "$MNT/p1.d/vgs-guest" "$img" "$BATS_FILE_TMPDIR/guest.segs"
	assert_equal "$(readlink "$MNT/p2.d/vgs-span")" "../p1.d/vgs-span"
	cmp "$MNT/p2.d/vgs-st" "$MNT/p1.d/vgs-st"
	# striped: spliced too (every 64 KiB chunk lies in the image)
	"$BLKFUSE" ctl "$MNT" reset
	dd if="$MNT/p1.d/vgs-st" of=/dev/null bs=128k iflag=direct status=none
	assert_counter spliced_bytes $((16 << 20))
	run jq -r '.volumes[] | select(.name == "p2") | .lvs_in' "$MNT/layout.json"
	assert_output p1
	# blkfuse hash by the same names, what sha256sum -c checks in the mount
	"$BLKFUSE" hash "$img" p1.d/vgs-st p2 p1.d/vgs-span >"$BATS_TEST_TMPDIR/sums"
	(cd "$MNT" && sha256sum -c --quiet "$BATS_TEST_TMPDIR/sums")
	expected_lv "$img" "$BATS_FILE_TMPDIR/span.segs" | sha256sum | grep -q "^$(awk '$2 == "p1.d/vgs-span" { print $1 }' "$BATS_TEST_TMPDIR/sums") "
	run --separate-stderr "$BLKFUSE" hash "$img" p1.d/vgs-nope
	assert_failure 1
	assert_regex "$stderr" "p1.d/vgs-nope: no such volume in $img"
	stop_blkfuse
	run "$BLKFUSE" --list "$img"
	assert_line --regexp '^p2 +part +LVM2_member +32M +[^ ]+ +LVs in p1\.d$'

	assert_sources_unchanged
}

@test "a partition table inside an LV: its partitions in the LV's .d folder" {
	local img=$BATS_TEST_TMPDIR/guest.img r1 r2
	gpt_image "$img" 80 32 32
	r1=$(part_range "$img" 1) r2=$(part_range "$img" 2)
	RANGES="$r1 $r2" with_loops "$img" "$r1 $r2" vg_two_pvs
	guest_table "$img"
	record_checksums "$img"
	start_blkfuse "$img" "$MNT"
	assert_lv "$MNT/p1.d/vgs-guest" "$img" "$BATS_FILE_TMPDIR/guest.segs"
	cmp "$MNT/p1.d/vgs-guest.d/p1" <(dd if="$img" iflag=skip_bytes,count_bytes \
		skip=$((GUEST_OFF + 2048 * 512)) count=$((4096 * 512)) bs=1M status=none)
	cmp "$MNT/p1.d/vgs-guest.d/p2" <(dd if="$img" iflag=skip_bytes,count_bytes \
		skip=$((GUEST_OFF + 8192 * 512)) count=$((8192 * 512)) bs=1M status=none)
	run jq -r '.volumes[0].children[] | select(.name == "vgs-guest") | .table, (.children[] | "\(.name) \(.size_bytes)")' "$MNT/layout.json"
	assert_output "dos
p1 2097152
p2 4194304"
	stop_blkfuse
	run "$BLKFUSE" --list "$img"
	assert_line --regexp '^[|` ]+[|`]-p2 +part +4M'
	assert_sources_unchanged
}

# ---- bad input ------------------------------------------------------------

# rewrite_meta IMG PVOFF OLD NEW: replace OLD by NEW in the newest metadata
# text of the PV at byte PVOFF of IMG, checksums made right again (as if
# lvm2 had written it), so only the content is wrong.
rewrite_meta() {
	python3 - "$@" <<-'PY'
		import struct, sys
		img, pvoff, old, new = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
		def crc(data, c=0xf597a6cf):
		    for b in data:
		        c ^= b
		        for _ in range(8):
		            c = (c >> 1) ^ (0xedb88320 if c & 1 else 0)
		    return c
		with open(img, "r+b") as f:
		    mda = pvoff + 4096
		    f.seek(mda); h = bytearray(f.read(512))
		    off, size = struct.unpack_from("<QQ", h, 40)
		    f.seek(mda + off); text = f.read(size)
		    assert old.encode() in text, "not in the metadata: " + old
		    text = text.replace(old.encode(), new.encode(), 1)
		    f.seek(mda + off); f.write(text)
		    struct.pack_into("<QQI", h, 40, off, len(text), crc(text))
		    struct.pack_into("<I", h, 0, crc(h[4:]))
		    f.seek(mda); f.write(h)
	PY
}

vg_missing() {
	lvmrun pvcreate "${LOOPDEV[0]}" "${LOOPDEV[1]}"
	lvmrun vgcreate vgm "${LOOPDEV[0]}" "${LOOPDEV[1]}"
	lvmrun lvcreate -n a -L 8M vgm "${LOOPDEV[0]}"
	lvmrun lvcreate -n b -L 40M vgm
	save_segments vgm/a "$BATS_FILE_TMPDIR/a.segs"
}

@test "a missing PV: the LVs on present PVs served, the others listed incomplete" {
	local img=$BATS_TEST_TMPDIR/missing.img r1 r2
	gpt_image "$img" 80 32 32
	r1=$(part_range "$img" 1) r2=$(part_range "$img" 2)
	RANGES="$r1 $r2" with_loops "$img" "$r1 $r2" vg_missing
	# p2 is no PV any more: its label gone (the rest of the disk intact)
	dd if=/dev/zero of="$img" bs=512 seek=$((${r2%:*} / 512)) count=4 conv=notrunc status=none
	record_checksums "$img"
	EXPECTED_LOG='VG vgm: PV pv1 .* is missing|p1.d/vgm-b: PV pv1 .* is missing; not served'
	start_blkfuse "$img" "$MNT"
	assert_lv "$MNT/p1.d/vgm-a" "$img" "$BATS_FILE_TMPDIR/a.segs"
	[ ! -e "$MNT/p1.d/vgm-b" ]
	run jq -r '.volumes[0].children[] | "\(.name) \(.state) \(.why)"' "$MNT/layout.json"
	assert_line "vgm-a open "
	assert_line --regexp '^vgm-b incomplete PV pv1 \(.{38}\) is missing$'
	# listed with the size its metadata gives it
	run jq -r '.volumes[0].children[] | select(.name == "vgm-b") | .size_bytes' "$MNT/layout.json"
	assert_output $((40 << 20))
	cmp "$MNT/p2" <(dd if="$img" iflag=skip_bytes,count_bytes skip=${r2%:*} count=${r2#*:} bs=1M status=none)
	stop_blkfuse
	run "$BLKFUSE" --list "$img"
	assert_success
	assert_line --regexp '^`-vgm-b +lvm2-lv .*incomplete: PV pv1'
	assert_sources_unchanged
}

@test "a cloned PV (the same disk twice in one source): one line, the VG opened once" {
	local img=$BATS_TEST_TMPDIR/clone.img r1 r2
	gpt_image "$img" 80 32 32
	r1=$(part_range "$img" 1) r2=$(part_range "$img" 2)
	RANGES="$r1" with_loops "$img" "$r1" vg_two_lvs
	dd if="$img" of="$img" bs=1M iflag=skip_bytes,count_bytes oflag=seek_bytes conv=notrunc \
		skip="${r1%:*}" count="${r1#*:}" seek="${r2%:*}" status=none
	record_checksums "$img"
	EXPECTED_LOG='VG vgc: PV pv0 is in both p1 and p2; p1 is used|by-uuid/.*: more than one partition has this name; p2 is not linked'
	run --separate-stderr "$BLKFUSE" --list "$img"
	assert_success
	assert_equal "$(grep -c 'is in both' <<<"$stderr")" 1
	start_blkfuse "$img" "$MNT"
	assert_lv "$MNT/p1.d/vgc-a" "$img" "$BATS_FILE_TMPDIR/a.segs"
	[ ! -e "$MNT/p2.d" ]
	stop_blkfuse
	assert_sources_unchanged
}

vg_two_lvs() {
	lvmrun pvcreate "${LOOPDEV[0]}"
	lvmrun vgcreate vgc "${LOOPDEV[0]}"
	lvmrun lvcreate -n a -L 4M vgc
	lvmrun lvcreate -n b -L 8M vgc
	save_segments vgc/a "$BATS_FILE_TMPDIR/a.segs"
}

@test "corrupt metadata (checksum, then text): one line, the disk still served" {
	local img=$BATS_TEST_TMPDIR/corrupt.img
	random_image "$img" 32
	RANGES="0:$((32 << 20))" with_loops "$img" "0:$((32 << 20))" vg_two_lvs
	# one byte of the newest text changed, checksum left as it was
	local at
	at=$(python3 -c 'import struct,sys; f=open(sys.argv[1],"rb"); f.seek(4096+40); o,s=struct.unpack("<QQ",f.read(16)); print(4096+o+s//2)' "$img")
	printf 'X' | dd of="$img" bs=1 seek="$at" conv=notrunc status=none
	run --separate-stderr "$BLKFUSE" --list "$img"
	assert_success
	assert_equal "$(grep -c 'metadata' <<<"$stderr")" 1
	assert_regex "$stderr" 'disk: LVM2 metadata checksum mismatch; this copy is not used'
	refute_line --partial 'vgc-a'
	# the text itself broken, checksums right: the parser says where
	random_image "$img" 32
	RANGES="0:$((32 << 20))" with_loops "$img" "0:$((32 << 20))" vg_two_lvs
	rewrite_meta "$img" 0 'logical_volumes {' 'logical_volumes { = {'
	record_checksums "$img"
	run --separate-stderr "$BLKFUSE" --list "$img"
	assert_success
	assert_regex "$stderr" 'disk: LVM2 metadata is corrupt \(line [0-9]+: expected a name\); this copy is not used'
	# and listed with the volume it is in
	assert_line --regexp '^disk +disk +LVM2_member +32M +[^ ]+ +metadata is corrupt \(line [0-9]+: expected a name\)$'
	EXPECTED_LOG='LVM2 metadata is corrupt'
	start_blkfuse "$img" "$MNT"
	[ ! -e "$MNT/disk.d" ]
	cmp "$MNT/disk" "$img"
	stop_blkfuse
	assert_sources_unchanged
}

@test "extents past the end of the PV (an image cut short): that LV bad, the others served" {
	local img=$BATS_TEST_TMPDIR/short.img
	random_image "$img" 32
	RANGES="0:$((32 << 20))" with_loops "$img" "0:$((32 << 20))" vg_two_lvs
	# a: extent 0 (1-5 MiB); b: extents 1-2 (5-13 MiB), cut at 10 MiB
	truncate -s $((10 << 20)) "$img"
	record_checksums "$img"
	EXPECTED_LOG='disk.d/vgc-b: extents 1-2 run past the end of PV pv0 \(disk\); not served'
	start_blkfuse "$img" "$MNT"
	assert_lv "$MNT/disk.d/vgc-a" "$img" "$BATS_FILE_TMPDIR/a.segs"
	[ ! -e "$MNT/disk.d/vgc-b" ]
	run jq -r '.volumes[0].children[1] | "\(.state) \(.why)"' "$MNT/layout.json"
	assert_output 'bad extents 1-2 run past the end of PV pv0 (disk)'
	# extents named past the PV's own extent count: the same, one line
	stop_blkfuse
	rewrite_meta "$img" 0 '"pv0", 1' '"pv0", 99'
	record_checksums "$img"
	run --separate-stderr "$BLKFUSE" --list "$img"
	assert_success
	assert_regex "$stderr" 'disk.d/vgc-b: extents 99-100 are past the end of PV pv0 \([0-9]+ extents\); not served'
	assert_sources_unchanged
}

# ---- nesting ----------------------------------------------------------------

vg_crypt() {
	lvmrun pvcreate "${LOOPDEV[0]}"
	lvmrun vgcreate vgk "${LOOPDEV[0]}"
	lvmrun lvcreate -n crypt -L 16M vgk
	save_segments vgk/crypt "$BATS_FILE_TMPDIR/crypt.segs"
}

@test "LUKS inside an LV: found two levels down, listed, its ciphertext served" {
	command -v cryptsetup >/dev/null || skip "cryptsetup is not installed"
	local img=$BATS_TEST_TMPDIR/crypt.img luks=$BATS_TEST_TMPDIR/luks.img seg r uuid
	random_image "$img" 32
	RANGES="0:$((32 << 20))" with_loops "$img" "0:$((32 << 20))" vg_crypt
	random_image "$luks" 16
	printf secret >"$BATS_TEST_TMPDIR/key"
	cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 \
		--key-file "$BATS_TEST_TMPDIR/key" "$luks" 2>/dev/null
	uuid=$(cryptsetup luksUUID "$luks")
	seg=$(awk 'NR == 1 { print $2 }' "$BATS_FILE_TMPDIR/crypt.segs") r=${seg#*:}
	dd if="$luks" of="$img" bs=1M oflag=seek_bytes conv=notrunc status=none \
		seek=$(( ${seg%%:*} + ${r%-*} * $(awk '$1 == "ext" { print $2 }' "$BATS_FILE_TMPDIR/crypt.segs") ))
	record_checksums "$img"
	start_blkfuse "$img" "$MNT"
	cmp "$MNT/disk.d/vgk-crypt" "$luks"
	assert_equal "$(readlink "$MNT/by-uuid/$uuid")" "../disk.d/vgk-crypt"
	run jq -r '.volumes[0].children[0] | .fs_type, (.children[0] | "\(.path) \(.type) \(.state)")' "$MNT/layout.json"
	assert_output "crypto_LUKS
disk.d/vgk-crypt.d/luks luks locked"
	# locked: no plaintext file, so nothing below it either
	[ ! -e "$MNT/disk.d/vgk-crypt.d/luks" ]
	stop_blkfuse
	run "$BLKFUSE" --list "$img"
	assert_line --regexp '^`-vgk-crypt +lvm2-lv +crypto_LUKS +16M'
	assert_line --regexp '^  `-luks +luks .*locked: '
	assert_sources_unchanged
}

# LV kinds lvm2 cannot make without device-mapper, written into the
# metadata as lvm2 writes them (lvm2's doc/lvm2-raid.txt, its test suite's
# metadata): raid1 (served from its first leg), a mirror whose first leg
# runs past the PV (served from the second), a thin pool and a thin volume,
# a snapshot's copy-on-write store (listed as unsupported).
KINDS='logical_volumes {
r { id = "rrrrrr-rrrr-rrrr-rrrr-rrrr-rrrr-rrrrrr" status = ["READ", "WRITE", "VISIBLE"] segment_count = 1
  segment1 { start_extent = 0 extent_count = 1 type = "raid1" device_count = 2 region_size = 4096
    raids = ["r_rmeta_0", "r_rimage_0", "r_rmeta_1", "r_rimage_1"] } }
r_rimage_0 { id = "r0r0r0-r0r0-r0r0-r0r0-r0r0-r0r0-r0r0r0" status = ["READ", "WRITE"] segment_count = 1
  segment1 { start_extent = 0 extent_count = 1 type = "striped" stripe_count = 1 stripes = ["pv0", 3] } }
r_rimage_1 { id = "r1r1r1-r1r1-r1r1-r1r1-r1r1-r1r1-r1r1r1" status = ["READ", "WRITE"] segment_count = 1
  segment1 { start_extent = 0 extent_count = 1 type = "striped" stripe_count = 1 stripes = ["pv0", 4] } }
m { id = "mmmmmm-mmmm-mmmm-mmmm-mmmm-mmmm-mmmmmm" status = ["READ", "WRITE", "VISIBLE"] segment_count = 1
  segment1 { start_extent = 0 extent_count = 1 type = "mirror" mirror_count = 2
    mirrors = ["m_mimage_0", 0, "m_mimage_1", 0] } }
m_mimage_0 { id = "m0m0m0-m0m0-m0m0-m0m0-m0m0-m0m0-m0m0m0" status = ["READ", "WRITE"] segment_count = 1
  segment1 { start_extent = 0 extent_count = 1 type = "striped" stripe_count = 1 stripes = ["pv0", 50] } }
m_mimage_1 { id = "m1m1m1-m1m1-m1m1-m1m1-m1m1-m1m1-m1m1m1" status = ["READ", "WRITE"] segment_count = 1
  segment1 { start_extent = 0 extent_count = 1 type = "striped" stripe_count = 1 stripes = ["pv0", 5] } }
pool { id = "pppppp-pppp-pppp-pppp-pppp-pppp-pppppp" status = ["READ", "WRITE", "VISIBLE"] segment_count = 1
  segment1 { start_extent = 0 extent_count = 1 type = "thin-pool" metadata = "pool_tmeta" pool = "pool_tdata" transaction_id = 1 chunk_size = 128 } }
thin1 { id = "tttttt-tttt-tttt-tttt-tttt-tttt-tttttt" status = ["READ", "WRITE", "VISIBLE"] segment_count = 1
  segment1 { start_extent = 0 extent_count = 4 type = "thin" thin_pool = "pool" transaction_id = 0 device_id = 1 } }
snap { id = "ssssss-ssss-ssss-ssss-ssss-ssss-ssssss" status = ["READ", "WRITE", "VISIBLE"] segment_count = 1
  segment1 { start_extent = 0 extent_count = 1 type = "striped" stripe_count = 1 stripes = ["pv0", 6] } }
snapshot0 { id = "s0s0s0-s0s0-s0s0-s0s0-s0s0-s0s0-s0s0s0" status = ["READ", "WRITE"] segment_count = 1
  segment1 { start_extent = 0 extent_count = 1 type = "snapshot" chunk_size = 8 origin = "a" cow_store = "snap" } }
'

@test "raid1 and mirror served from a whole leg; thin and snapshot stores listed as unsupported" {
	local img=$BATS_TEST_TMPDIR/kinds.img base ext
	random_image "$img" 32
	RANGES="0:$((32 << 20))" with_loops "$img" "0:$((32 << 20))" vg_two_lvs
	rewrite_meta "$img" 0 'logical_volumes {' "$KINDS"
	record_checksums "$img"
	base=$(awk 'NR == 1 { print $2 }' "$BATS_FILE_TMPDIR/a.segs") base=${base%%:*}
	ext=$(awk '$1 == "ext" { print $2 }' "$BATS_FILE_TMPDIR/a.segs")
	start_blkfuse "$img" "$MNT"
	cmp "$MNT/disk.d/vgc-r" <(dd if="$img" iflag=skip_bytes,count_bytes skip=$((base + 3 * ext)) count="$ext" bs=1M status=none)
	cmp "$MNT/disk.d/vgc-m" <(dd if="$img" iflag=skip_bytes,count_bytes skip=$((base + 5 * ext)) count="$ext" bs=1M status=none)
	run jq -r '.volumes[0].children[] | "\(.name) \(.state) \(.why) \(.detail)"' "$MNT/layout.json"
	assert_line "vgc-r open  raid1, served from leg r_rimage_0"
	assert_line "vgc-m open  mirror, served from leg m_mimage_1"
	assert_line "vgc-pool unsupported segment type thin-pool "
	assert_line "vgc-thin1 unsupported segment type thin "
	assert_line "vgc-snap unsupported copy-on-write store of a snapshot of a "
	assert_line "vgc-a open  linear, 1 segment"
	refute_line --regexp '^vgc-r_r(image|meta)'
	[ ! -e "$MNT/disk.d/vgc-thin1" ]
	stop_blkfuse
	assert_sources_unchanged
}

# self_table IMG OFF SECTORS: a DOS table at byte OFF whose one partition
# starts at sector 0 and covers SECTORS: it holds itself.
self_table() {
	python3 - "$@" <<-'PY'
		import struct, sys
		img, off, sectors = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
		mbr = bytearray(512)
		mbr[440:444] = b"\x11\x22\x33\x44"
		mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", 0, sectors)
		mbr[510:512] = b"\x55\xaa"
		with open(img, "r+b") as f:
		    f.seek(off)
		    f.write(mbr)
	PY
}

@test "a loop of nesting (a table that holds itself), raw and in an E01: one line, opened once" {
	command -v ewfacquire >/dev/null || skip "ewf-tools is not installed"
	local img=$BATS_TEST_TMPDIR/self.img ev=$BATS_TEST_TMPDIR/ev seg ext
	random_image "$img" 32
	RANGES="0:$((32 << 20))" with_loops "$img" "0:$((32 << 20))" vg_two_lvs
	seg=$(awk 'NR == 1 { print $2 }' "$BATS_FILE_TMPDIR/a.segs")
	ext=$(awk '$1 == "ext" { print $2 }' "$BATS_FILE_TMPDIR/a.segs")
	self_table "$img" "${seg%%:*}" $((ext / 512))
	ewfacquire -u -q -t "$ev" -c deflate:fast "$img" >/dev/null 2>&1
	record_checksums "$img" "$ev.E01"
	EXPECTED_LOG='disk.d/vgc-a.d/p1: holds the same bytes as a volume it is inside'
	for src in "$img" "$ev.E01"; do
		run --separate-stderr "$BLKFUSE" --list "$src"
		assert_success
		assert_equal "$(grep -c 'a loop of nesting' <<<"$stderr")" 1
		start_blkfuse "$src" "$MNT"
		# one level: the partition is there, nothing inside it is opened
		cmp "$MNT/disk.d/vgc-a.d/p1" "$MNT/disk.d/vgc-a"
		[ ! -e "$MNT/disk.d/vgc-a.d/p1.d" ]
		assert_lv "$MNT/disk.d/vgc-a" "$img" "$BATS_FILE_TMPDIR/a.segs"
		# in the E01 the LV is decoded (copied), never spliced
		[ "$src" = "$img" ] || assert_counter spliced_bytes 0
		[ "$src" = "$img" ] || [ "$(ctl_get copied_bytes)" -gt 0 ]
		stop_blkfuse
	done
	assert_sources_unchanged
}
