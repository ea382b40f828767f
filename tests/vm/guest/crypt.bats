#!/usr/bin/env bats
# Guest test (runs inside the VM: tests/vm/run-guest-tests): the kernel's
# dm-crypt as the oracle for blkfuse's decrypting layer (core/volume: luks.c,
# bitlocker*.c, crypt_layer.c, sector_cipher.c).  cryptsetup formats LUKS1
# and LUKS2 volumes in image files and opens them with dm-crypt; random bytes
# are written through /dev/mapper, then blkfuse, mounted on the image file,
# must give every byte of each volume as the kernel reads it.  The BitLocker
# volumes made by Windows (../shared/testdata/fve, copied into the initramfs
# by run-guest-tests) are opened by `cryptsetup open --type bitlk` and
# compared whole.  Secrets reach both through files only.
#
# Each comparison prints "# compared ..." with its byte count (TAP comments).
load guest

PASS='vm pass-phrase 1'
FVE=$REPO/tests/vm/fve
FVE_SKIP="no BitLocker test data in the guest: run-guest-tests copies the project's shared testdata/fve (../shared/testdata beside the repository, or BLKFUSE_TESTDATA=DIR) when the host has it"

setup() {
	guest_setup
	# in the guest both are there once run-guest-tests and fetch-kernel
	# provide them: their absence is a failure, not a reason to skip
	command -v cryptsetup >/dev/null ||
		fail "no cryptsetup in the guest (optional_tools in tests/vm/run-guest-tests)"
	dmsetup targets | grep -q '^crypt ' ||
		fail "no dm-crypt target in the guest kernel (wanted in tests/vm/fetch-kernel)"
	W=$BATS_TEST_TMPDIR
	MAPS=() LOOPS=() VGS=()
	# cryptsetup takes a key file whole (no newline); blkfuse reads lines
	printf '%s' "$PASS" >"$W/pass"
	: >"$W/cs.log"
}

teardown() {
	local i
	# blkfuse reads the image files, not these devices: its unmount can wait
	for ((i = ${#VGS[@]} - 1; i >= 0; i--)); do
		lvmrun vgchange -an "${VGS[i]}" || true
	done
	for ((i = ${#MAPS[@]} - 1; i >= 0; i--)); do
		cryptsetup close "${MAPS[i]}" 2>/dev/null || true
	done
	for ((i = ${#LOOPS[@]} - 1; i >= 0; i--)); do
		losetup -d "${LOOPS[i]}" 2>/dev/null || true
	done
	guest_teardown
}

# cs ARGS...: cryptsetup in batch mode, its output kept in $W/cs.log
# (shown when a step fails).
cs() {
	cryptsetup --batch-mode "$@" >>"$W/cs.log" 2>&1 || {
		cat "$W/cs.log"
		return 1
	}
}

# loop IMG: a writable loop device over IMG in $DEV (partitions scanned).
loop() {
	DEV=$(losetup -P -f --show "$1")
	LOOPS+=("$DEV")
}

# dm_open NAME DEV [cryptsetup open options...]: /dev/mapper/NAME by dm-crypt.
dm_open() {
	local name=$1 dev=$2
	shift 2
	cs open "$@" "$dev" "$name"
	MAPS+=("$name")
	[ -b "/dev/mapper/$name" ] || fail "cryptsetup open made no /dev/mapper/$name"
}

# fill DEV: random bytes over all of DEV, written through the kernel.
fill() {
	local size
	size=$(blockdev --getsize64 "$1")
	[ $((size % 4096)) -eq 0 ] || fail "$1: $size bytes, not whole 4 KiB blocks"
	dd if=/dev/urandom of="$1" bs=4096 count=$((size / 4096)) conv=fsync status=none
}

# same DEV FILE WHAT: FILE (blkfuse's) has DEV's size and every byte of it.
# DEV is read with O_DIRECT: dm-crypt decrypts it afresh, not the page
# cache's copy of what was written through it.
same() {
	local dev=$1 file=$2 what=$3 size
	size=$(blockdev --getsize64 "$dev")
	[ -f "$file" ] || { ls -R "$MNT" >&2; cat "$LOG" >&2; fail "$what: no $file"; }
	assert_equal "$(stat -c %s "$file")" "$size"
	cmp <(dd if="$dev" bs=1M iflag=direct status=none) "$file" || fail "$what: blkfuse's $file differs from dm-crypt's $dev"
	echo "# compared $what: $size bytes equal" >&3
}

# luks NAME TYPE SIZE_MIB KEYOPT KEYFILE [luksFormat options...]: a volume
# formatted in $W/NAME.img by cryptsetup with the secret of KEYFILE
# (KEYOPT: --key-file for a passphrase or key file, --volume-key-file for
# also setting the volume key, opened then by the passphrase), opened by
# dm-crypt as /dev/mapper/NAME and filled with random bytes.  A fast
# PBKDF: TCG is slow.
luks() {
	local name=$1 type=$2 mib=$3 keyopt=$4 key=$5 img=$W/$1.img
	shift 5
	truncate -s "${mib}M" "$img"
	if [ "$keyopt" = --volume-key-file ]; then
		cs luksFormat --type "$type" --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
			--volume-key-file "$key" --key-file "$W/pass" "$@" "$img"
		key=$W/pass
	else
		cs luksFormat --type "$type" --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
			--key-file "$key" "$@" "$img"
	fi
	loop "$img"
	dm_open "$name" "$DEV" --type "$type" --key-file "$key"
	fill "/dev/mapper/$name"
	sync
}

# luks_check NAME WHAT BLKFUSE-KEY-OPTIONS...: blkfuse on $W/NAME.img with
# those options gives /dev/mapper/NAME's bytes as disk.d/luks.
luks_check() {
	local name=$1 what=$2 sum
	shift 2
	sum=$(sha256sum <"$W/$name.img")
	start "$@" "$W/$name.img" "$MNT"
	same "/dev/mapper/$name" "$MNT/disk.d/luks" "$what"
	fusermount3 -u "$MNT"
	wait "$DAEMON_PID" || true
	DAEMON_PID=
	# the source is opened read-only: the image is as dm-crypt left it
	assert_equal "$(sha256sum <"$W/$name.img")" "$sum"
}

@test "LUKS1 by passphrase: aes-xts-plain64, aes-cbc-essiv:sha256, aes-cbc-plain64, aes-ecb against dm-crypt" {
	local m name cipher ks
	local vols=("l1xts aes-xts-plain64 512" "l1essiv aes-cbc-essiv:sha256 256"
		"l1plain64 aes-cbc-plain64 128" "l1ecb aes-ecb 256")
	for m in "${vols[@]}"; do
		read -r name cipher ks <<<"$m"
		luks "$name" luks1 6 --key-file "$W/pass" --cipher "$cipher" --key-size "$ks"
	done
	for m in "${vols[@]}"; do
		read -r name cipher ks <<<"$m"
		luks_check "$name" "LUKS1 $cipher $ks-bit key, passphrase" --passphrase-file "$W/pass"
	done
}

@test "LUKS2 by passphrase: aes-xts-plain64, aes-cbc-essiv:sha256, aes-cbc-plain64, aes-cbc-plain, 512- and 4096-byte sectors" {
	local m name cipher ks sector
	local vols=("l2xts512 aes-xts-plain64 512 512" "l2xts4k aes-xts-plain64 512 4096"
		"l2essiv512 aes-cbc-essiv:sha256 256 512" "l2essiv4k aes-cbc-essiv:sha256 256 4096"
		"l2plain64 aes-cbc-plain64 256 512" "l2plain64k aes-cbc-plain64 256 4096"
		"l2plain4k aes-cbc-plain 256 4096")
	for m in "${vols[@]}"; do
		read -r name cipher ks sector <<<"$m"
		# a 1 MiB header (16 KiB metadata, 496 KiB key slots) leaves room for data
		luks "$name" luks2 6 --key-file "$W/pass" --cipher "$cipher" --key-size "$ks" \
			--sector-size "$sector" --luks2-metadata-size 16k --luks2-keyslots-size 496k
		grep -q "sector: $sector \[bytes\]" <(cryptsetup luksDump "$W/$name.img") ||
			fail "$name: not $sector-byte sectors"
	done
	for m in "${vols[@]}"; do
		read -r name cipher ks sector <<<"$m"
		luks_check "$name" "LUKS2 $cipher $ks-bit key, $sector-byte sectors, passphrase" \
			--passphrase-file "$W/pass"
	done
}

@test "LUKS key files, raw volume keys and an argon2id key slot against dm-crypt" {
	head -c 4096 /dev/urandom >"$W/keyfile"
	head -c 64 /dev/urandom >"$W/vk512"
	head -c 32 /dev/urandom >"$W/vk256"
	luks l1kf luks1 6 --key-file "$W/keyfile" --cipher aes-xts-plain64 --key-size 256
	luks l2kf luks2 6 --key-file "$W/keyfile" --cipher aes-cbc-essiv:sha256 --key-size 256 \
		--luks2-metadata-size 16k --luks2-keyslots-size 496k
	luks l1vk luks1 6 --volume-key-file "$W/vk256" --cipher aes-cbc-essiv:sha256 --key-size 256
	luks l2vk luks2 6 --volume-key-file "$W/vk512" --cipher aes-xts-plain64 --key-size 512 \
		--sector-size 4096 --luks2-metadata-size 16k --luks2-keyslots-size 496k
	# argon2id with little memory: the KDF LUKS2 uses by default
	truncate -s 6M "$W/l2argon.img"
	cs luksFormat --type luks2 --pbkdf argon2id --pbkdf-memory 8192 \
		--pbkdf-force-iterations 4 --pbkdf-parallel 1 --key-file "$W/pass" \
		--luks2-metadata-size 16k --luks2-keyslots-size 496k "$W/l2argon.img"
	loop "$W/l2argon.img"
	dm_open l2argon "$DEV" --type luks2 --key-file "$W/pass"
	fill /dev/mapper/l2argon
	sync
	luks_check l1kf "LUKS1 aes-xts-plain64 256-bit key, 4 KiB key file" --key-file "$W/keyfile"
	luks_check l2kf "LUKS2 aes-cbc-essiv:sha256, 4 KiB key file" --key-file "$W/keyfile"
	luks_check l1vk "LUKS1 aes-cbc-essiv:sha256, raw volume key" --key-file "$W/vk256"
	luks_check l2vk "LUKS2 aes-xts-plain64 4096-byte sectors, raw volume key" --key-file "$W/vk512"
	luks_check l2argon "LUKS2 $(cryptsetup luksDump "$W/l2argon.img" | awk '$1 == "cipher:" { print $2; exit }') argon2id key slot, passphrase" \
		--passphrase-file "$W/pass"
}

lvmrun() {
	LVM_SYSTEM_DIR=$W/lvm lvm "$@" --config "$CFG" >>"$W/lvm.log" 2>&1
}

@test "LVM2 inside LUKS2 inside a GPT partition: p1.d/luks.d/VG-LV against device-mapper" {
	local img=$W/lvluks.img lv mib
	command -v lvm >/dev/null || fail "no lvm in the guest (optional_tools in tests/vm/run-guest-tests)"
	mkdir -p "$W/lvm"
	: >"$W/lvm/lvm.conf"
	truncate -s 24M "$img"
	sfdisk -q "$img" <<-EOT
	label: gpt
	size=20MiB
	EOT
	loop "$img"
	wait_until "${DEV}p1 appears" test -b "${DEV}p1"
	cs luksFormat --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--cipher aes-xts-plain64 --key-size 512 --key-file "$W/pass" \
		--luks2-metadata-size 16k --luks2-keyslots-size 496k "${DEV}p1"
	dm_open lvcrypt "${DEV}p1" --type luks2 --key-file "$W/pass"
	CFG="devices { filter=[ \"a|^/dev/mapper/lvcrypt\$|\", \"r|.*|\" ] obtain_device_list_from_udev=0 use_devicesfile=0 hints=\"none\" } global { locking_type=0 } activation { udev_sync=0 udev_rules=0 monitoring=0 } backup { backup=0 archive=0 }"
	lvmrun pvcreate /dev/mapper/lvcrypt || { cat "$W/lvm.log"; false; }
	VGS+=(vgc)
	lvmrun vgcreate -s 1M vgc /dev/mapper/lvcrypt || { cat "$W/lvm.log"; false; }
	lvmrun lvcreate -n root -L 4M vgc
	lvmrun lvcreate -n data-1 -L 3M vgc
	lvmrun lvextend -L 8M vgc/root || { cat "$W/lvm.log"; false; }
	for lv in root:8 data--1:3; do
		mib=${lv#*:} lv=${lv%:*}
		[ -b "/dev/mapper/vgc-$lv" ] || { cat "$W/lvm.log"; fail "no /dev/mapper/vgc-$lv"; }
		dd if=/dev/urandom of="/dev/mapper/vgc-$lv" bs=1M count="$mib" conv=fsync status=none
	done
	sync
	start --passphrase-file "$W/pass" "$img" "$MNT"
	same /dev/mapper/lvcrypt "$MNT/p1.d/luks" "LUKS2 in p1 holding an LVM2 PV"
	same /dev/mapper/vgc-root "$MNT/p1.d/luks.d/vgc-root" "LV vgc/root (two segments) in LUKS2"
	same /dev/mapper/vgc-data--1 "$MNT/p1.d/luks.d/vgc-data--1" "LV vgc/data-1 in LUKS2"
}

# bitlk GZ WHAT KEYOPT KEYFILE: the BitLocker volume gzipped in GZ, opened
# by dm-crypt and by blkfuse with the secret of KEYFILE (KEYOPT: blkfuse's
# --passphrase-file or --key-file; cryptsetup's --key-file takes both),
# compared whole.  The testdata images are cut short after the last metadata
# copy: extended (sparse) to the volume's size, so that dm-crypt maps all of
# it and blkfuse reads all of it.
bitlk() {
	local gz=$1 what=$2 keyopt=$3 key=$4 vol img vsize sum
	vol=${gz##*/} vol=${vol%%.*}
	img=$W/$vol.img
	gzip -dc "$gz" >"$img"
	vsize=$(cryptsetup bitlkDump "$img" | awk '$1 == "Volume" && $2 == "size:" { print $3 }')
	[ -n "$vsize" ] || fail "$vol: no volume size in bitlkDump"
	[ "$(stat -c %s "$img")" -le "$vsize" ] || fail "$vol: longer than its volume"
	truncate -s "$vsize" "$img"
	sum=$(sha256sum <"$img")
	DEV=$(losetup -r -f --show "$img")
	LOOPS+=("$DEV")
	dm_open "$vol" "$DEV" --type bitlk --readonly --key-file "$key"
	start "$keyopt" "$key" "$img" "$MNT"
	same "/dev/mapper/$vol" "$MNT/disk.d/bitlocker" "$what"
	fusermount3 -u "$MNT"
	wait "$DAEMON_PID" || true
	DAEMON_PID=
	assert_equal "$(sha256sum <"$img")" "$sum"
	cs close "$vol"
	unset 'MAPS[-1]'
	losetup -d "$DEV"
	unset 'LOOPS[-1]'
	rm -f "$img"
}

@test "BitLocker made by Windows 10: AES-CBC (eboiv) and AES-XTS by password against dm-crypt" {
	[ -d "$FVE" ] || skip "$FVE_SKIP"
	printf '%s' 'password12!@' >"$W/bdepw"
	bitlk "$FVE/bde_aes_128.bin.gz" "BitLocker AES-CBC 128 eboiv, password" --passphrase-file "$W/bdepw"
	bitlk "$FVE/bde_aes-xts_128.bin.gz" "BitLocker AES-XTS 128, password" --passphrase-file "$W/bdepw"
}

@test "BitLocker made by Windows 10: recovery password and startup key (.BEK) against dm-crypt" {
	[ -d "$FVE" ] || skip "$FVE_SKIP"
	printf '%s' 284867-596541-514998-422114-660297-261613-215424-199408 >"$W/bderp"
	bitlk "$FVE/bde_recovery_password.bin.gz" "BitLocker AES-XTS 128, recovery password" \
		--passphrase-file "$W/bderp"
	bitlk "$FVE/bde_startup_key.bin.gz" "BitLocker AES-XTS 128, startup key (.BEK)" \
		--key-file "$FVE/bde_startup_key.bek"
}

@test "BitLocker of Windows 7 (cryptsetup's test image): AES-CBC with the Elephant diffuser against dm-crypt" {
	local b=$REPO/tests/vm/bitlk pw
	# from the repository (tests/data): always there when run-guest-tests made the guest
	[ -f "$b/images.conf" ] || fail "no $b/images.conf (run-guest-tests copies tests/data/bitlk-images.tar.xz)"
	pw=$(awk '$0 == "[bitlk-aes-cbc-elephant-128]" { s = 1; next } /^\[/ { s = 0 }
		s && sub(/^PW=/, "") { print; exit }' "$b/images.conf")
	[ -n "$pw" ]
	printf '%s' "$pw" >"$W/elpw"
	bitlk "$b/bitlk-aes-cbc-elephant-128.img.gz" "BitLocker AES-CBC 128 Elephant diffuser, password" \
		--passphrase-file "$W/elpw"
}
