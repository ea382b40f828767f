#!/usr/bin/env bats
# Dynamic VHD read by blkfuse itself (issue 22), against qemu-img's raw
# output of the same file: disks qemu-img writes with and without
# force_size (CHS-rounded size), sparse (never-written blocks), a
# partly-present block (its sector bitmap says which sectors are in it:
# the rest reads as zeros, as libvhdi reads it; qemu ignores the bitmap),
# with libvhdi (BLKFUSE_VHD_READER=libvhdi) as the second oracle.

load helpers

setup_file() {
	local d=$BATS_FILE_TMPDIR
	export RAW=$d/disk.raw V=$d/v
	mkdir -p "$V"
	# 40 MiB: random, an 8 MiB zero run (blocks never allocated), GPT
	random_image "$RAW" 40
	dd if=/dev/zero of="$RAW" bs=1M seek=10 count=8 conv=notrunc status=none
	sfdisk -q "$RAW" <<-EOT
	label: gpt
	size=16MiB, name="one"
	size=16MiB, name="two"
	EOT
	qemu-img convert -O vpc -o force_size=on "$RAW" "$V/exact.vhd"
	qemu-img convert -O vpc "$RAW" "$V/chs.vhd"
	# a block whose bitmap marks only its first half present: its second
	# half must read as zeros, whatever bytes the file holds there
	cp "$V/exact.vhd" "$V/half.vhd"
	python3 - "$V/half.vhd" <<-'PY'
	import struct, sys
	f = open(sys.argv[1], 'r+b')
	foot = f.read(512)
	dh = struct.unpack('>Q', foot[16:24])[0]
	f.seek(dh); h = f.read(1024)
	bat = struct.unpack('>Q', h[16:24])[0]; n, bs = struct.unpack('>II', h[28:36])
	f.seek(bat); e = struct.unpack('>%dI' % n, f.read(4 * n))
	blk = next(i for i in range(n) if e[i] != 0xffffffff and i > 0)
	bm = (bs // 512 // 8 + 511) // 512 * 512
	f.seek(e[blk] * 512); f.write(b'\xff' * (bs // 512 // 16) + b'\0' * (bm - bs // 512 // 16))
	print(blk * bs + bs // 2, bs // 2, file=open(sys.argv[1] + '.hole', 'w'))
	PY
	for f in exact chs; do
		qemu-img convert -f vpc -O raw "$V/$f.vhd" "$V/$f.back"
	done
	# qemu reads an allocated block whole, bitmap or not (block/vpc.c):
	# the oracle for half.vhd is the raw image with the hole zeroed
	read -r at len <"$V/half.vhd.hole"
	cp "$RAW" "$V/half.back"
	dd if=/dev/zero of="$V/half.back" bs=512 seek=$((at / 512)) count=$((len / 512)) \
		conv=notrunc status=none
	record_checksums "$RAW" "$V"/*.vhd
}

setup() {
	blkfuse_setup
}

teardown() {
	blkfuse_teardown
}

@test "qemu-img's raw output of each VHD is what it should be" {
	cmp "$RAW" "$V/exact.back"
	cmp "$RAW" <(head -c $((40 << 20)) "$V/chs.back")
}

@test "a dynamic VHD is read by blkfuse, not libvhdi" {
	DAEMON_LOG=$BATS_TEST_TMPDIR/d.log start_blkfuse -d "$V/exact.vhd" "$MNT"
	stop_blkfuse
	grep -q 'dynamic VHD read by blkfuse' "$BATS_TEST_TMPDIR/d.log"
}

@test "every byte equals qemu-img's output, with blkfuse's reader and with libvhdi" {
	local f
	for f in exact chs half; do
		start_blkfuse "$V/$f.vhd" "$MNT"
		cmp "$MNT/disk" "$V/$f.back"
		cmp <(dd if="$MNT/disk" bs=777 skip=12345 count=20000 status=none) \
		    <(dd if="$V/$f.back" bs=777 skip=12345 count=20000 status=none)
		cmp "$MNT/p1" <(tail -c +$((1 + $(partx -g -n 1 -o START "$RAW") * 512)) "$V/$f.back" |
				head -c $((16 << 20)))
		stop_blkfuse
		BLKFUSE_VHD_READER=libvhdi start_blkfuse "$V/$f.vhd" "$MNT"
		cmp "$MNT/disk" "$V/$f.back"
		stop_blkfuse
	done
	# the hole really is in the file's bytes: qemu-img reads them
	read -r at len <"$V/half.vhd.hole"
	! cmp -s <(qemu-img convert -f vpc -O raw "$V/half.vhd" /dev/stdout | tail -c +$((at + 1)) | head -c "$len") \
		<(head -c "$len" /dev/zero)
}

@test "a truncated dynamic VHD is not read past its end" {
	local t=$BATS_TEST_TMPDIR/t.vhd
	head -c $((1 << 20)) "$V/exact.vhd" >"$t"
	tail -c 512 "$V/exact.vhd" >>"$t"
	run "$BLKFUSE" --list "$t"
	# the block table points past the file: libvhdi's turn, which
	# refuses it or reads it; never a crash
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
}

@test "the sources are unchanged" {
	assert_sources_unchanged
}
