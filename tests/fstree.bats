#!/usr/bin/env bats
# fs/: the files inside each volume, through libtsk (issue 19).  Trees made
# by the real tools (mkfs.ext4 -d, mkfs.vfat + mcopy, mkntfs + ntfs-3g)
# inside partitions of a GPT image; the oracles are not libtsk: the host
# kernel's ext4 over a loop device (ro,noload), mtools' mcopy, ntfs-3g, and
# icat for a deleted file's recoverable bytes.  Every file's bytes, size,
# mtime, type, link target and hard links compared (tests/fstree_cmp.py).
# Hostile inputs: a corrupt superblock and a directory loop.

load helpers

CMP=$BATS_TEST_DIRNAME/fstree_cmp.py

# The tree mkfs.ext4 -d copies: symlinks (relative, absolute, dangling),
# hard links, a sparse file, names with spaces and non-ASCII, nested
# directories, an empty file and files larger than one READ.
make_tree() {
	local t=$1
	mkdir -p "$t/dir/sub/deeper" "$t/with space" "$t/ünï cödé"
	head -c 3000000 /dev/urandom >"$t/big.bin"
	head -c 200000 /dev/urandom >"$t/dir/sub/deeper/mid.bin"
	echo hello >"$t/a.txt"
	: >"$t/empty"
	echo spaced >"$t/with space/file name.txt"
	echo 'ünïcödé' >"$t/ünï cödé/名前.txt"
	ln "$t/a.txt" "$t/dir/hard-a"
	ln "$t/big.bin" "$t/with space/big hard"
	ln -s a.txt "$t/rel-link"
	ln -s /etc/passwd "$t/abs-link"
	ln -s does/not/exist "$t/dangling"
	ln -s ../../a.txt "$t/dir/sub/up-link"
	# sparse: data, a 20 MB hole, data
	head -c 70000 /dev/urandom >"$t/sparse"
	head -c 5000 /dev/urandom | dd of="$t/sparse" bs=1 seek=20000000 conv=notrunc status=none
	chmod 0640 "$t/dir/sub/deeper/mid.bin"
	touch -d '2001-02-03 04:05:06.123456789' "$t/a.txt"
}

setup_file() {
	local d=$BATS_FILE_TMPDIR
	export GPTFS=$d/gptfs.img EXT=$d/ext4.img TREE=$d/tree
	make_tree "$TREE"
	truncate -s 40M "$EXT"
	mkfs.ext4 -q -F -I 256 -d "$TREE" "$EXT"
	# mkfs.ext4 -d keeps whole seconds: a nanosecond mtime set by hand
	# (mtime_extra is nsec << 2)
	debugfs -w -R 'set_inode_field a.txt mtime_extra 0x1d6f3454' "$EXT" 2>/dev/null
	random_image "$GPTFS" 64
	sfdisk -q "$GPTFS" <<-EOT
	label: gpt
	size=8MiB, type=0657FD6D-A4AB-464C-90E6-3A6F5C8C2D47, name="swap"
	size=40MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"
	EOT
	export P2_OFF=$((9 * 1024 * 1024))
	dd if="$EXT" of="$GPTFS" bs=1M seek=9 conv=notrunc status=none
	record_checksums "$GPTFS" "$EXT"
}

setup() {
	blkfuse_setup
}

teardown() {
	local rc=0
	blkfuse_teardown || rc=1
	[ -z "${OWN_MNT:-}" ] || rmdir "$OWN_MNT"
	# the system's FUSE over io_uring setting, put back after a test set it
	if [ -e "$BATS_TEST_TMPDIR/uring.saved" ]; then
		cat "$BATS_TEST_TMPDIR/uring.saved" >/sys/module/fuse/parameters/enable_uring
	fi
	return $rc
}

# The kernel's ext4 over a loop device of bytes [off, off+size) of $1: $FSMNT.
kernel_mount() {
	FSMNT=$BATS_TEST_TMPDIR/kernel
	mkdir -p "$FSMNT"
	LOOP=$(losetup -f --show -r -o "$2" --sizelimit "$3" "$1")
	mount -t "$4" -o ro${5:+,$5} "$LOOP" "$FSMNT"
}

@test "ext4 in a GPT partition: every file as the kernel's ext4 shows it" {
	start_blkfuse "$GPTFS" "$MNT"
	run ls "$MNT/fs"
	assert_output p2	# p1 (random bytes) holds no file system
	kernel_mount "$GPTFS" "$P2_OFF" $((40 << 20)) ext4 noload
	run python3 "$CMP" --ignore '$OrphanFiles' "$FSMNT" "$MNT/fs/p2"
	assert_success
	assert_output --regexp '^compared [0-9]+ files$'
	# and the tree it was made from (mkfs.ext4 -d stores whole seconds)
	run python3 "$CMP" --mtime-slack 1 --ignore '$OrphanFiles' --ignore lost+found \
		"$TREE" "$MNT/fs/p2"
	assert_success
	run stat -c '%y' "$MNT/fs/p2/a.txt"
	assert_output '2001-02-03 04:05:06.123456789 +0000'
}

@test "ext4: inode numbers, hard links as one inode, modes, symlinks never followed" {
	start_blkfuse "$GPTFS" "$MNT"
	kernel_mount "$GPTFS" "$P2_OFF" $((40 << 20)) ext4 noload
	local f=$MNT/fs/p2 k=$FSMNT ino
	# the inode number inside is the file system's own, in the low 48 bits
	for p in a.txt big.bin dir/sub/deeper/mid.bin 'ünï cödé/名前.txt'; do
		ino=$(stat -c %i "$f/$p")
		[ $((ino & ((1 << 48) - 1))) -eq "$(stat -c %i "$k/$p")" ] || fail "$p: inode $ino"
	done
	[ "$(stat -c %i "$f/a.txt")" = "$(stat -c %i "$f/dir/hard-a")" ]
	run stat -c '%h %a' "$f/big.bin"
	assert_output '2 444'
	run stat -c '%a' "$f/dir/sub/deeper/mid.bin"
	assert_output 440
	# a link is a link (the daemon never resolves it): its text as stored
	[ -L "$f/abs-link" ]
	run readlink "$f/abs-link"
	assert_output /etc/passwd
	run readlink "$f/dangling"
	assert_output does/not/exist
	run cat "$f/dir/sub/up-link"
	assert_output hello
}

@test "ext4: a large file is spliced from the source, a sparse file keeps its holes" {
	start_blkfuse "$GPTFS" "$MNT"
	cmp "$MNT/fs/p2/big.bin" "$TREE/big.bin"
	[ "$(ctl_get spliced_bytes)" -gt 2000000 ] || fail "$(counters)"
	cmp "$MNT/fs/p2/sparse" "$TREE/sparse"
	run dd if="$MNT/fs/p2/sparse" bs=4096 skip=1000 count=1 status=none
	[ "$(printf '%s' "$output" | tr -d '\0' | wc -c)" -eq 0 ]
}

@test "through a decoding layer (qcow2): the same files, read through libtsk" {
	local q=$BATS_TEST_TMPDIR/gpt.qcow2
	qemu-img convert -c -O qcow2 "$GPTFS" "$q"
	start_blkfuse "$q" "$MNT"
	kernel_mount "$GPTFS" "$P2_OFF" $((40 << 20)) ext4 noload
	run python3 "$CMP" --ignore '$OrphanFiles' "$FSMNT" "$MNT/fs/p2"
	assert_success
	# nothing of a compressed container lies in a file: copied, not spliced
	assert_counter spliced_bytes 0
	[ "$(ctl_get copied_bytes)" -gt 3000000 ] || fail "$(counters)"
}

# An LVM2 VG on the whole of IMG (a loop device lvm2 alone may see, its
# state in a private LVM_SYSTEM_DIR, no device-mapper), LV "root" of 16 MiB
# in two segments (grown after another LV was made); the ext4 image $EXT2
# written into the LV's extents where lvm2 says they lie.
make_lvm_ext4() {
	local img=$1 dir=$BATS_TEST_TMPDIR/lvm conf loop ext pe seg off=0
	mkdir -p "$dir"
	loop=$(losetup -f --show "$img")
	LOOP=$loop
	conf="devices { filter=[ \"a|^$loop\$|\", \"r|.*|\" ] obtain_device_list_from_udev=0 use_devicesfile=0 hints=\"none\" } global { locking_type=0 } activation { udev_sync=0 udev_rules=0 } backup { backup=0 archive=0 }"
	lvm() { LVM_SYSTEM_DIR=$dir "$@" --config "$conf" --driverloaded n; }
	{ lvm pvcreate "$loop" && lvm vgcreate vgt "$loop" &&
	  lvm lvcreate -n root -L 8M vgt && lvm lvcreate -n other -L 4M vgt &&
	  lvm lvextend -L 16M vgt/root; } >/dev/null 2>&1
	ext=$(lvm vgs --noheadings --units b --nosuffix -o vg_extent_size vgt | tr -d ' ')
	pe=$(lvm pvs --noheadings --units b --nosuffix -o pe_start "$loop" | tr -d ' ')
	for seg in $(lvm lvs --noheadings --segments -o seg_pe_ranges -O seg_start vgt/root); do
		seg=${seg#*:}
		dd if="$EXT2" of="$img" bs=64K iflag=skip_bytes,count_bytes oflag=seek_bytes \
			skip=$off seek=$((pe + ${seg%-*} * ext)) \
			count=$(( (${seg#*-} - ${seg%-*} + 1) * ext )) conv=notrunc status=none
		off=$(( off + (${seg#*-} - ${seg%-*} + 1) * ext ))
	done
	losetup -d "$loop"
	LOOP=
	[ "$off" -eq $((16 << 20)) ]
}

@test "a volume of the volume stack (an LVM2 LV in two segments): fs/disk.d/vgt-root" {
	command -v pvcreate >/dev/null || skip "lvm2 is not installed"
	local img=$BATS_TEST_TMPDIR/lvm.img
	export EXT2=$BATS_TEST_TMPDIR/ext16.img
	truncate -s 16M "$EXT2"
	mkfs.ext4 -q -F -I 256 -d "$TREE" "$EXT2"
	random_image "$img" 64
	make_lvm_ext4 "$img"
	start_blkfuse "$img" "$MNT"
	cmp "$EXT2" "$MNT/disk.d/vgt-root"
	run ls "$MNT/fs/disk.d"
	assert_output vgt-root
	run python3 "$CMP" --mtime-slack 1 --ignore '$OrphanFiles' --ignore lost+found \
		"$TREE" "$MNT/fs/disk.d/vgt-root"
	assert_success
	# the linear LV maps to the image: its files' bytes are spliced
	[ "$(ctl_get spliced_bytes)" -gt 3000000 ] || fail "$(counters)"
	# the PV holds volumes, the LV an ext4; "other" is empty
	run jq -r '.file_systems[] | "\(.path) \(.served) \(.fs)"' "$MNT/layout.json"
	assert_line 'fs/disk false holds volumes (LVM2_member)'
	assert_line 'fs/disk.d/vgt-root true ext4'
	assert_line --regexp '^fs/disk.d/vgt-other false libtsk: '
	# blkfuse hash by the path inside the LV, as sha256sum of the file
	run --separate-stderr "$BLKFUSE" hash "$img" fs/disk.d/vgt-root/big.bin \
		'fs/disk.d/vgt-root/ünï cödé/名前.txt'
	assert_success
	assert_line "$(sha256sum <"$TREE/big.bin" | cut -d' ' -f1)  fs/disk.d/vgt-root/big.bin"
	assert_line "$(sha256sum <"$TREE/ünï cödé/名前.txt" | cut -d' ' -f1)  fs/disk.d/vgt-root/ünï cödé/名前.txt"
}

@test "names that are not UTF-8 are escaped reversibly as \\xNN" {
	local t=$BATS_TEST_TMPDIR/t img=$BATS_TEST_TMPDIR/bad.img
	mkdir -p "$t"
	echo one >"$t/$(printf 'bad\xffname')"
	echo two >"$t/back\\xslash"
	echo three >"$t/plain\\name"
	truncate -s 8M "$img"
	mkfs.ext4 -q -d "$t" "$img"
	start_blkfuse "$img" "$MNT"
	run cat "$MNT/fs/disk/bad\\xffname"
	assert_output one
	run cat "$MNT/fs/disk/back\\x5cxslash"
	assert_output two
	run cat "$MNT/fs/disk/plain\\name"
	assert_output three
}

@test "FAT: every file as mtools copies it out" {
	local img=$BATS_TEST_TMPDIR/fat.img out=$BATS_TEST_TMPDIR/out t=$BATS_TEST_TMPDIR/t
	mkdir -p "$t/Sub Dir/deep" "$out"
	head -c 1000000 /dev/urandom >"$t/big.bin"
	echo small >"$t/Sub Dir/small.txt"
	# a long name, so it is kept as such (libtsk shows a short name's
	# bytes above 0x7f as '^')
	echo 'ünï' >"$t/Sub Dir/deep/ünï long name.txt"
	: >"$t/empty.dat"
	truncate -s 32M "$img"
	mkfs.vfat -F 16 "$img" >/dev/null
	MTOOLS_SKIP_CHECK=1 mcopy -s -m -i "$img" "$t"/* ::/
	MTOOLS_SKIP_CHECK=1 mcopy -s -m -n -i "$img" '::/*' "$out/"
	start_blkfuse "$img" "$MNT"
	# FAT's times are local and in 2 s steps; libtsk and mtools agree on UTC here
	TZ=UTC run python3 "$CMP" --mtime-slack 2 --no-links \
		--ignore '$OrphanFiles' --ignore '$MBR' --ignore '$FAT1' --ignore '$FAT2' \
		"$out" "$MNT/fs/disk"
	assert_success
	assert_output --regexp '^compared [0-9]+ files$'
	# the file system's own metadata is reachable
	[ "$(stat -c %s "$MNT/fs/disk/\$FAT1")" -gt 0 ]
}

@test "NTFS: files and streams as ntfs-3g shows them, a deleted file as icat recovers it" {
	command -v mkntfs || skip "mkntfs (ntfs-3g) is not installed"
	local img=$BATS_TEST_TMPDIR/ntfs.img w=$BATS_TEST_TMPDIR/w inum
	truncate -s 32M "$img"
	mkntfs -q -F -Q "$img"
	mkdir -p "$w"
	ntfs-3g -o streams_interface=xattr,compression "$img" "$w"
	FSMNT=$w
	mkdir -p "$w/Docs/Deep" "$w/Packed"
	# a compressed directory: what is written in it is LZNT1-compressed
	setfattr -h -v 0x00000800 -n system.ntfs_attrib_be "$w/Packed"
	yes 'compressible line of text' | head -c 300000 >"$w/Packed/text.txt"
	head -c 2000000 /dev/urandom >"$w/big.bin"
	echo tiny >"$w/Docs/resident.txt"
	head -c 300000 /dev/urandom >"$w/Docs/Deep/mid.bin"
	ln "$w/Docs/resident.txt" "$w/hard.txt"
	setfattr -n user.secret -v 'hidden stream' "$w/Docs/resident.txt"
	head -c 100000 /dev/urandom >"$w/gone.bin"
	cp "$w/gone.bin" "$BATS_TEST_TMPDIR/gone.ref"
	sync
	inum=$(stat -c %i "$w/gone.bin")
	rm "$w/gone.bin"
	umount "$w"
	# the oracle: ntfs-3g read-only, streams as name:stream
	ntfs-3g -o ro,streams_interface=windows "$img" "$w"
	start_blkfuse "$img" "$MNT"
	# the compressed file, decoded by libtsk (copied), the plain one spliced
	[ "$(getfattr --absolute-names -h -e hex -n system.ntfs_attrib_be "$w/Packed/text.txt" |
		sed -n 's/.*=0x//p')" = 00000820 ]
	assert_counter spliced_bytes 0
	cat "$MNT/fs/disk/Packed/text.txt" "$MNT/fs/disk/big.bin" >/dev/null
	[ "$(ctl_get spliced_bytes)" -ge 2000000 ] || fail "$(counters)"
	[ "$(ctl_get copied_bytes)" -ge 300000 ] || fail "$(counters)"
	# ntfs-3g lists neither the metadata files nor the streams
	run python3 "$CMP" --ignore-prefix '$' --ignore .deleted \
		--ignore 'resident.txt:secret' --ignore 'hard.txt:secret' \
		"$w" "$MNT/fs/disk"
	assert_success
	run cat "$MNT/fs/disk/Docs/resident.txt:secret"
	assert_output 'hidden stream'
	cmp "$MNT/fs/disk/Docs/resident.txt:secret" "$w/Docs/resident.txt:secret"
	# metadata files are reachable: $MFT as icat reads it
	cmp "$MNT/fs/disk/\$MFT" <(icat "$img" 0)
	# past the valid data length a stream reads as zeros ($BadClus:$Bad:
	# the volume's size, nothing allocated), so a tar of the tree works
	assert_equal "$(stat -c %s "$MNT/fs/disk/\$BadClus:\$Bad")" \
		"$(istat "$img" 8 | sed -n 's/.*Name: \$Bad .* size: \([0-9]*\) .*/\1/p')"
	cmp <(head -c 1048576 /dev/zero) <(head -c 1048576 "$MNT/fs/disk/\$BadClus:\$Bad")
	dd if="$MNT/fs/disk/\$BadClus:\$Bad" bs=4096 skip=100 count=1 status=none |
		cmp - <(head -c 4096 /dev/zero)
	# the deleted file: under .deleted/ with the bytes icat recovers
	cmp "$MNT/fs/disk/.deleted/gone.bin" <(icat "$img" "$inum")
	cmp "$MNT/fs/disk/.deleted/gone.bin" "$BATS_TEST_TMPDIR/gone.ref"
}

@test "exFAT: every file as exfat-fuse shows it" {
	command -v mount.exfat-fuse || skip "exfat-fuse is not installed"
	local img=$BATS_TEST_TMPDIR/exfat.img w=$BATS_TEST_TMPDIR/w
	truncate -s 32M "$img"
	mkfs.exfat "$img" >/dev/null
	mkdir -p "$w"
	# exfat-fuse wants a block device
	LOOP=$(losetup -f --show "$img")
	mount.exfat-fuse "$LOOP" "$w" >/dev/null
	FSMNT=$w
	mkdir -p "$w/Dir One/deep"
	head -c 700000 /dev/urandom >"$w/Dir One/big.bin"
	echo hi >"$w/small.txt"
	echo 'ünï' >"$w/Dir One/deep/ünï cödé.txt"
	: >"$w/empty"
	umount "$w"
	mount.exfat-fuse -o ro "$LOOP" "$w" >/dev/null
	start_blkfuse "$img" "$MNT"
	# exFAT keeps mtime in 2 s steps plus a 10 ms count that libtsk adds
	# and exfat-fuse 1.3 leaves out: within 2 s
	run python3 "$CMP" --mtime-slack 2 --ignore-prefix '$' "$w" "$MNT/fs/disk"
	assert_success
	assert_output --regexp '^compared [0-9]+ files$'
}

# make_small_tree DIR: what the ISO and UFS tests put in their images:
# nested directories, a file larger than a READ, a small and an empty
# file, an empty directory, names with spaces, non-ASCII and lower case
# past 8.3 (within Joliet's 64 characters), a symlink.
make_small_tree() {
	local t=$1
	mkdir -p "$t/Dir One/deep/er" "$t/empty_dir"
	head -c 3000000 /dev/urandom >"$t/big.bin"
	head -c 200000 /dev/urandom >"$t/Dir One/deep/er/mid.bin"
	echo hi >"$t/small.txt"
	: >"$t/empty"
	echo 'ünï' >"$t/Dir One/ünï cödé.txt"
	echo x >"$t/lower_case_name_longer_than_eight.dat"
	ln -s small.txt "$t/link"
}

@test "ISO 9660 by xorriso (Rock Ridge + Joliet): every file's bytes, size and time as the tree it was made from" {
	command -v xorriso >/dev/null || skip "xorriso is not installed"
	local t=$BATS_TEST_TMPDIR/t iso=$BATS_TEST_TMPDIR/t.iso
	make_small_tree "$t"
	xorriso -as mkisofs -R -J -o "$iso" "$t" 2>/dev/null
	run --separate-stderr "$BLKFUSE" --list "$iso"
	assert_line --regexp '^fs/disk +iso9660$'
	start_blkfuse "$iso" "$MNT"
	# libtsk 4.11 shows no Rock Ridge symlink (it lists it as an orphan
	# without a name): compared without it; ISO 9660 keeps whole seconds
	[ ! -e "$MNT/fs/disk/link" ] && [ ! -L "$MNT/fs/disk/link" ]
	rm "$t/link"
	run python3 "$CMP" --mtime-slack 1 --no-links --ignore '$OrphanFiles' "$t" "$MNT/fs/disk"
	assert_success
	assert_output 'compared 10 files'
	# an ISO's files are contiguous in the image: spliced
	[ "$(ctl_get spliced_bytes)" -ge 3000000 ] || fail "$(counters)"
}

@test "UFS by makefs: UFS1's files as the tree it was made from; UFS2 unread, and --list says why" {
	command -v makefs >/dev/null || skip "makefs is not installed"
	local t=$BATS_TEST_TMPDIR/t u1=$BATS_TEST_TMPDIR/u1.img u2=$BATS_TEST_TMPDIR/u2.img
	make_small_tree "$t"
	makefs -t ffs -o version=1 -s 16m "$u1" "$t" >/dev/null
	makefs -t ffs -o version=2 -s 16m "$u2" "$t" >/dev/null
	start_blkfuse "$u1" "$MNT"
	run jq -r '.file_systems[] | "\(.path) \(.served) \(.fs)"' "$MNT/layout.json"
	assert_output 'fs/disk true ufs1'
	# makefs keeps whole seconds
	run python3 "$CMP" --mtime-slack 1 --no-links --ignore '$OrphanFiles' "$t" "$MNT/fs/disk"
	assert_success
	assert_output 'compared 11 files'
	stop_blkfuse
	# makefs puts UFS2's superblock at 8192, where libtsk 4.11 looks only
	# for UFS1's (it wants UFS2's at 65536 or 262144); libblkid finds it
	run --separate-stderr "$BLKFUSE" --list "$u2"
	assert_line --regexp '^fs/disk +not shown: libtsk: Cannot determine file system type$'
	run --separate-stderr "$BLKFUSE" --list --json "$u2"
	assert_equal "$(jq -r '.disk_fs.fs_type' <<<"$output")" ufs
	start_blkfuse "$u2" "$MNT"
	run ls "$MNT/fs"
	assert_output ''
}

@test "blkfuse hash fs/disk.d/luks/PATH: a file of an ext4 inside LUKS2, as debugfs reads it" {
	command -v cryptsetup >/dev/null || skip "cryptsetup is not installed"
	local img=$BATS_TEST_TMPDIR/luks.img plain=$BATS_TEST_TMPDIR/plain.img
	local pass=$BATS_TEST_TMPDIR/pass
	printf '%s' 'fs-gaps pass' >"$pass"
	# the ext4 in the first 16 MiB of a 20 MiB file; cryptsetup encrypts it
	# in place (no device-mapper), the header taking the 4 MiB it reduces
	truncate -s 20M "$plain"
	mkfs.ext4 -q -F -I 256 -d "$TREE" "$plain" 16M
	cp "$plain" "$img"
	cryptsetup reencrypt --encrypt --type luks2 --batch-mode --reduce-device-size 4M \
		--pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$pass" "$img" >/dev/null 2>&1
	run --separate-stderr "$BLKFUSE" hash --passphrase-file "$pass" "$img" \
		fs/disk.d/luks/big.bin 'fs/disk.d/luks/dir/sub/deeper/mid.bin'
	assert_success
	assert_line "$(debugfs -R 'cat big.bin' "$plain" 2>/dev/null | sha256sum | cut -d' ' -f1)  fs/disk.d/luks/big.bin"
	assert_line "$(debugfs -R 'cat dir/sub/deeper/mid.bin' "$plain" 2>/dev/null | sha256sum | cut -d' ' -f1)  fs/disk.d/luks/dir/sub/deeper/mid.bin"
	# and the file the tree was made from
	assert_line "$(sha256sum <"$TREE/big.bin" | cut -d' ' -f1)  fs/disk.d/luks/big.bin"
	# without the passphrase: locked, said
	run --separate-stderr "$BLKFUSE" hash "$img" fs/disk.d/luks/big.bin
	assert_failure
	assert_equal "$stderr" "blkfuse: error: fs/disk.d/luks/big.bin: disk.d/luks is not served (locked: no passphrase or key given)"
}

@test "ext4: a deleted file under .deleted/, with the bytes icat recovers" {
	local img=$BATS_TEST_TMPDIR/del.img inum
	cp "$EXT" "$img"
	inum=$(debugfs -R 'stat dir/sub/deeper/mid.bin' "$img" 2>/dev/null |
		awk '/^Inode:/ { print $2; exit }')
	[ -n "$inum" ]
	debugfs -w -R 'rm dir/sub/deeper/mid.bin' "$img" 2>/dev/null
	start_blkfuse "$img" "$MNT"
	[ ! -e "$MNT/fs/disk/dir/sub/deeper/mid.bin" ]
	run stat -c %s "$MNT/fs/disk/dir/sub/deeper/.deleted/mid.bin"
	assert_output 200000
	cmp "$MNT/fs/disk/dir/sub/deeper/.deleted/mid.bin" <(icat "$img" "$inum")
	# debugfs rm frees the blocks but leaves them: the bytes as they were
	cmp "$MNT/fs/disk/dir/sub/deeper/.deleted/mid.bin" "$TREE/dir/sub/deeper/mid.bin"
}

@test "a corrupt superblock: the volume is absent, the rest of the mount works" {
	local img=$BATS_TEST_TMPDIR/c.img
	cp "$GPTFS" "$img"
	# ext4's magic (0xEF53 at byte 1080 of the file system) gone
	printf '\0\0' | dd of="$img" bs=1 seek=$((P2_OFF + 1080)) conv=notrunc status=none
	start_blkfuse "$img" "$MNT"
	run ls "$MNT/fs"
	assert_output ''
	run ls "$MNT/fs/p2"
	assert_failure
	cmp <(dd if="$img" bs=1M skip=9 count=40 status=none) "$MNT/p2"
	# why, in layout.json and in --list (the same document)
	run jq -r '.file_systems[] | "\(.path) \(.served) \(.fs)"' "$MNT/layout.json"
	assert_line 'fs/p2 false libtsk: Cannot determine file system type'
	cmp <("$BLKFUSE" --list --json "$img" 2>/dev/null) "$MNT/layout.json"
	run --separate-stderr "$BLKFUSE" --list "$img"
	assert_line --regexp '^fs/p2 +not shown: libtsk: Cannot determine file system type$'
}

@test "--list and layout.json: the file system libtsk reads in each volume, or why none" {
	run --separate-stderr "$BLKFUSE" --list "$GPTFS"
	assert_success
	assert_line --regexp '^FILES +FS$'
	# p1 is random bytes: libtsk's own words for it
	assert_line --regexp '^fs/p1 +not shown: libtsk: Possible encryption detected'
	assert_line --regexp '^fs/p2 +ext4$'
	run --separate-stderr "$BLKFUSE" --list --json "$GPTFS"
	assert_success
	run jq -c '[.version, (.file_systems[] | [.volume, .path, .served, .fs])]' <<<"$output"
	assert_output --regexp '^\[4,\["p1","fs/p1",false,"libtsk: Possible encryption detected[^"]*"\],\["p2","fs/p2",true,"ext4"\]\]$'
	# --no-fs: nothing surveyed
	run --separate-stderr "$BLKFUSE" --list --no-fs --json "$GPTFS"
	assert_success
	assert_equal "$(jq -c .file_systems <<<"$output")" '[]'
}


@test "a directory loop and garbage in the inode table: no hang, no crash, EIO logged" {
	local img=$BATS_TEST_TMPDIR/loop.img
	cp "$EXT" "$img"
	# dir/sub gets an entry naming the root directory (inode 2)
	debugfs -w -R 'link / dir/sub/loop' "$img" 2>/dev/null
	EXPECTED_LOG='directory loop|EIO'
	start_blkfuse "$img" "$MNT"
	run timeout 60 find "$MNT/fs/disk" -xdev
	[ "$status" -ne 124 ] || fail "find hung"
	assert_output --partial 'fs/disk/dir/sub/deeper/mid.bin'
	refute_output --partial 'dir/sub/loop'
	grep -q 'directory loop' "$DAEMON_LOG"
	# random bytes over the inode table: every file read ends, the daemon lives
	cp "$EXT" "$img"
	stop_blkfuse
	local itab
	itab=$(dumpe2fs "$img" 2>/dev/null | awk '/Inode table at/ { split($4, a, "-"); print a[1]; exit }')
	head -c 65536 /dev/urandom | dd of="$img" bs=1024 seek="$itab" conv=notrunc status=none
	start_blkfuse "$img" "$MNT"
	timeout 60 find "$MNT/fs/disk" -type f -exec cat {} + >/dev/null 2>&1 || true
	kill -0 "$DAEMON_PID"
	cmp "$img" "$MNT/disk"
	# libtsk's allocations are bounded by the volume: a garbage inode
	# asked for 2.7 GB twice (zeroed) before they were
	local hwm
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DAEMON_PID/status")
	[ "$hwm" -lt $((512 * 1024)) ] || fail "the daemon grew to $hwm KiB"
	run --separate-stderr "$BLKFUSE" --list "$img"
	assert_success
}

@test "owners and modes inside, never wider than the source's own" {
	local img=$BATS_TEST_TMPDIR/own.img as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	cp "$EXT" "$img"
	# mid.bin: 0440 in the tree; made nobody's here
	debugfs -w -R 'set_inode_field dir/sub/deeper/mid.bin uid 65534' "$img" 2>/dev/null
	debugfs -w -R 'set_inode_field dir/sub/deeper/mid.bin mode 0100400' "$img" 2>/dev/null
	chmod 0644 "$img"
	# a mount point nobody can reach (bats' directories are root-only)
	OWN_MNT=$(mktemp -d /tmp/blkfuse-fstree.XXXXXX) MNT=$OWN_MNT
	chmod 755 "$MNT"
	start_blkfuse -o allow_other "$img" "$MNT"
	run stat -c '%u %a' "$MNT/fs/disk/dir/sub/deeper/mid.bin"
	assert_output '65534 400'
	# a source all may read: the file system's owner reads it, and only they
	"${as_nobody[@]}" cat "$MNT/fs/disk/dir/sub/deeper/mid.bin" >/dev/null
	"${as_nobody[@]}" cat "$MNT/fs/disk/a.txt" >/dev/null
	stop_blkfuse
	# a source only root may read: so is every file inside
	chmod 0600 "$img"
	start_blkfuse -o allow_other "$img" "$MNT"
	run stat -c '%u %a' "$MNT/fs/disk/dir/sub/deeper/mid.bin" "$MNT/fs/disk/a.txt"
	assert_output $'0 400\n0 400'
	run "${as_nobody[@]}" cat "$MNT/fs/disk/dir/sub/deeper/mid.bin"
	assert_failure
	assert_output --partial 'Permission denied'
}

@test "-o nofs: no fs/" {
	start_blkfuse -o nofs "$GPTFS" "$MNT"
	[ ! -e "$MNT/fs" ]
	[ -e "$MNT/p2" ]
}

@test "--audit: opens and reads of files inside, with their path" {
	local log=$BATS_TEST_TMPDIR/audit.jsonl
	start_blkfuse --audit "$log" "$GPTFS" "$MNT"
	cat "$MNT/fs/p2/with space/file name.txt" >/dev/null
	stop_blkfuse
	grep '"open"' "$log" | grep -q '"fs/p2/with space/file name.txt"'
	grep '"read"' "$log" | grep -q '"fs/p2/with space/file name.txt"'
}

# sum_lat: READs the latency histogram has counted (lat_lt_*).
sum_lat() {
	"$BLKFUSE" ctl "$DAEMON_MNT" show | awk '/^lat_lt_/ { n += $2 } END { print n + 0 }'
}

# held_in_throttle PID: reader PID waits in the kernel for a FUSE reply
# that the daemon has (inflight 1) and its throttle parked (parked 1).
held_in_throttle() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || state=
	if [ -z "$state" ] || [ "$state" = Z ]; then
		echo "the reader finished while held" >&2
		return 2
	fi
	[[ "$(cat "/proc/$1/wchan")" == fuse_* ]] || return 1
	[ "$(ctl_get inflight)" = 1 ] && [ "$(ctl_get parked)" = 1 ]
}

@test "fs/ reads are counted as data reads are: bytes, spliced, copied, fallbacks, latency" {
	start_blkfuse "$GPTFS" "$MNT"
	local lat bytes
	lat=$(sum_lat) bytes=$(ctl_get read_bytes)
	# 3000000 bytes in 128 KiB READs that map to the source: all spliced
	cmp <(dd if="$MNT/fs/p2/big.bin" bs=128K iflag=direct status=none) "$TREE/big.bin"
	assert_counter read_bytes $((bytes + 3000000))
	assert_counter spliced_bytes 3000000
	assert_counter spliced_reqs 23
	# each went through read_done: the latency histogram has the 23 (the
	# control file's own READs, through libfuse, are not in it)
	assert_equal "$(sum_lat)" $((lat + 23))
	[ "$(ctl_get inflight_peak)" -ge 1 ] || fail "$(counters)"
	assert_counter inflight 0
	# a 6-byte file: copied, and the small-read fallback says why
	local small
	small=$(ctl_get fallback.small)
	cmp <(dd if="$MNT/fs/p2/a.txt" bs=4096 iflag=direct status=none) "$TREE/a.txt"
	assert_counter copied_bytes 6
	assert_counter fallback.small $((small + 1))
	# splice=0: copied by choice, counted as such
	"$BLKFUSE" ctl "$MNT" set splice=0
	cmp <(dd if="$MNT/fs/p2/dir/sub/deeper/mid.bin" bs=256K iflag=direct status=none) \
		"$TREE/dir/sub/deeper/mid.bin"
	assert_counter copied_bytes $((6 + 200000))
	assert_counter fallback.splice_off 1
	assert_counter spliced_bytes 3000000
}

@test "fs/: pause holds a read until pause=0; the audit names the path inside" {
	local log=$BATS_TEST_TMPDIR/audit.jsonl out=$BATS_TEST_TMPDIR/out
	start_blkfuse --audit "$log" "$GPTFS" "$MNT"
	"$BLKFUSE" ctl "$MNT" set pause=1
	dd if="$MNT/fs/p2/big.bin" of="$out" bs=64K skip=3 count=1 iflag=direct status=none &
	local reader=$!
	wait_until "the read is held by pause" held_in_throttle "$reader"
	# nothing delivered, nothing counted, while held
	held_in_throttle "$reader"
	[ ! -s "$out" ]
	assert_counter read_bytes 0
	"$BLKFUSE" ctl "$MNT" set pause=0
	wait "$reader"
	cmp <(dd if="$TREE/big.bin" bs=64K skip=3 count=1 status=none) "$out"
	assert_counter read_bytes 65536
	# the read's record: the path inside, what was asked and returned
	run jq -c 'select(.ev == "read" and .file == "fs/p2/big.bin") | [.offset, .length, .returned, .errno]' "$log"
	assert_output '[196608,65536,65536,0]'
	grep '"open"' "$log" | grep -q '"fs/p2/big.bin"'
}

@test "fs/: rate_limit parks a read past the budget; rate_limit=0 releases it" {
	local out=$BATS_TEST_TMPDIR/out
	start_blkfuse "$GPTFS" "$MNT"
	# 1 KiB/s: the first 64 KiB READ books 64 s, the second waits for it
	"$BLKFUSE" ctl "$MNT" set rate_limit=1024
	dd if="$MNT/fs/p2/big.bin" of="$out" bs=64K count=2 iflag=direct status=none &
	local reader=$!
	wait_until "the second read is held by rate_limit" held_in_throttle "$reader"
	assert_counter read_bytes 65536
	"$BLKFUSE" ctl "$MNT" set rate_limit=0
	wait "$reader"
	cmp <(head -c 131072 "$TREE/big.bin") "$out"
	assert_counter read_bytes 131072
}

@test "fs/: abort ends a read held by pause; the daemon exits 0" {
	EXPECTED_LOG='abort requested'
	start_blkfuse "$GPTFS" "$MNT"
	"$BLKFUSE" ctl "$MNT" set pause=1
	dd if="$MNT/fs/p2/big.bin" of=/dev/null bs=4096 count=1 iflag=direct status=none \
		2>"$BATS_TEST_TMPDIR/err" &
	local reader=$! rc=0
	wait_until "the read is held by pause" held_in_throttle "$reader"
	"$BLKFUSE" ctl "$MNT" set abort=1
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	[ "$rc" -eq 0 ]
	rc=0
	wait "$reader" || rc=$?
	[ "$rc" -ne 0 ] || fail "the held read succeeded after abort"
	run mountpoint -q "$MNT"
	assert_failure
}

@test "fs/ over transport=uring: the same bytes through the ring; a paused read released there" {
	local u=/sys/module/fuse/parameters/enable_uring out=$BATS_TEST_TMPDIR/out
	[ -w "$u" ] || skip "this kernel has no FUSE over io_uring"
	"$BLKFUSE" --version | grep -q '^transports:.* uring' || skip "built without liburing"
	cat "$u" >"$BATS_TEST_TMPDIR/uring.saved"
	echo Y >"$u"
	start_blkfuse -o transport=uring "$GPTFS" "$MNT"
	assert_equal "$(ctl_get transport)" uring
	cmp "$MNT/fs/p2/big.bin" "$TREE/big.bin"
	# the ring cannot splice: copied, and counted
	assert_counter spliced_reqs 0
	[ "$(ctl_get copied_bytes)" -ge 3000000 ] || fail "$(counters)"
	"$BLKFUSE" ctl "$MNT" set pause=1
	dd if="$MNT/fs/p2/dir/sub/deeper/mid.bin" of="$out" bs=64K iflag=direct status=none &
	local reader=$!
	wait_until "the read is held by pause" held_in_throttle "$reader"
	"$BLKFUSE" ctl "$MNT" set pause=0
	wait "$reader"
	cmp "$TREE/dir/sub/deeper/mid.bin" "$out"
}

@test "blkfuse hash fs/pN/PATH: the digest of a file inside, as sha256sum of the file" {
	run --separate-stderr "$BLKFUSE" hash -a sha256,md5 "$GPTFS" p2 "fs/p2/with space/big hard" \
		'fs/p2/ünï cödé/名前.txt' fs/p2/empty
	assert_success
	assert_line "SHA256 (fs/p2/with space/big hard) = $(sha256sum <"$TREE/big.bin" | cut -d' ' -f1)"
	assert_line "MD5 (fs/p2/with space/big hard) = $(md5sum <"$TREE/big.bin" | cut -d' ' -f1)"
	assert_line "SHA256 (fs/p2/ünï cödé/名前.txt) = $(sha256sum <"$TREE/ünï cödé/名前.txt" | cut -d' ' -f1)"
	assert_line "SHA256 (fs/p2/empty) = $(sha256sum </dev/null | cut -d' ' -f1)"
	assert_line "SHA256 (p2) = $(dd if="$GPTFS" bs=1M skip=9 count=40 status=none | sha256sum | cut -d' ' -f1)"
	# and sha256sum -c checks it in a mount
	"$BLKFUSE" hash "$GPTFS" fs/p2/big.bin >"$BATS_TEST_TMPDIR/sums"
	start_blkfuse "$GPTFS" "$MNT"
	(cd "$MNT" && sha256sum -c "$BATS_TEST_TMPDIR/sums")
	run --separate-stderr "$BLKFUSE" hash "$GPTFS" fs/p2/nope fs/p1/x fs/p2/dir
	assert_failure 1
	assert_equal "${stderr_lines[0]}" "blkfuse: error: fs/p2/nope: No such file or directory"
}

@test "the sources are unchanged" {
	assert_sources_unchanged
}
