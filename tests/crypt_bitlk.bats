#!/usr/bin/env bats
# BitLocker volumes made by Windows, from cryptsetup's test suite
# (tests/data/README.md): each must decrypt to exactly the bytes whose
# SHA-256 cryptsetup's own suite expects from the kernel's dm-crypt, or be
# refused with the reason, one line.  Opened through tests/crypt_open (the
# core alone: source layer, keyring, blk_bitlocker_open).

load helpers

CRYPT_OPEN=${CRYPT_OPEN:-$(dirname "$BLKFUSE")/tests/crypt_open}

setup_file() {
	[ -x "$CRYPT_OPEN" ]	# built by make with blkfuse
	# sparse: 21 volumes of 100 MiB in under a megabyte
	tar xJf "$BATS_TEST_DIRNAME/data/bitlk-images.tar.xz" -C "$BATS_FILE_TMPDIR"
	record_checksums "$BATS_FILE_TMPDIR"/bitlk-images/*.img
}

setup() {
	blkfuse_setup
	I=$BATS_FILE_TMPDIR/bitlk-images
	T=$BATS_TEST_TMPDIR
}

teardown() {
	blkfuse_teardown
}

# conf IMAGE KEY: KEY's value in IMAGE's section of images.conf.
conf() {
	awk -v sec="[$1]" -v key="$2" '
		$0 == sec { in_sec = 1; next }
		/^\[/ { in_sec = 0 }
		in_sec && index($0, key "=") == 1 { print substr($0, length(key) + 2); exit }
	' "$I/images.conf"
}

# opens IMAGE SECRETFILE-OPTIONS...: the volume's SHA-256 is the expected one.
opens() {
	local img=$1 want
	shift
	want=$(conf "$img" SHA256SUM)
	[ -n "$want" ]
	"$CRYPT_OPEN" "$@" bitlocker "$I/$img.img" >"$T/out" 2>"$T/err" || {
		cat "$T/err"
		return 1
	}
	[ "$(sha256sum <"$T/out" | cut -d' ' -f1)" = "$want" ] ||
		fail "$img: not the bytes dm-crypt gives"
}

@test "AES-CBC and AES-XTS, 128 and 256 bits, 512 and 4096-byte sectors, To Go: by password" {
	local img
	for img in bitlk-aes-cbc-128 bitlk-aes-cbc-256 bitlk-aes-xts-128 \
		bitlk-aes-xts-256 bitlk-aes-cbc-128-4k bitlk-aes-xts-128-4k \
		bitlk-togo-aes-cbc-128 bitlk-togo-aes-xts-128 \
		bitlk-aes-xts-128-crc bitlk-aes-xts-128-new-entry; do
		printf '%s\n' "$(conf $img PW)" >"$T/pw"
		opens $img -p "$T/pw"
	done
	grep -q '4096-byte sectors' <("$CRYPT_OPEN" -p "$T/pw" bitlocker \
		"$I/bitlk-aes-xts-128-4k.img" 0 512 2>&1 >/dev/null)
}

@test "recovery passwords: each of two, the first of several lines, without dashes" {
	local img=bitlk-aes-xts-128-two-recovery rp
	rp=$(conf $img RP)
	printf 'not it\n%s\n' "${rp//-/}" >"$T/rp"
	opens $img -p "$T/rp"
	printf '%s\n' "$(conf $img RP2)" >"$T/rp2"
	opens $img -p "$T/rp2"
	printf '%s\n' "$(conf bitlk-aes-xts-128-first-recovery RP)" >"$T/rp"
	opens bitlk-aes-xts-128-first-recovery -p "$T/rp"
	# a volume whose password is not ASCII opens by its recovery password
	printf '%s\n' "$(conf bitlk-aes-xts-128-unicode RP)" >"$T/rp"
	opens bitlk-aes-xts-128-unicode -p "$T/rp"
}

@test "startup keys (.BEK) of Windows 10 and 11" {
	opens bitlk-aes-xts-128-startup-key -k "$I/4381F759-C4F8-4DE0-BB61-FC33A831BDA5.BEK"
	opens bitlk-aes-xts-128-startup-key-win11 -k "$I/AA80A52B-9B66-47AE-B097-33F536FFBB07.BEK"
	run -2 --separate-stderr "$CRYPT_OPEN" -k "$I/AA80A52B-9B66-47AE-B097-33F536FFBB07.BEK" \
		bitlocker "$I/bitlk-aes-xts-128-startup-key.img"
	[ -z "$output" ]
}

@test "Windows 7's AES-CBC with the Elephant diffuser, 128 and 256 bits (libbde fails these)" {
	local img
	for img in bitlk-aes-cbc-elephant-128 bitlk-aes-cbc-elephant-256; do
		printf '%s\n' "$(conf $img PW)" >"$T/pw"
		opens $img -p "$T/pw"
	done
	grep -q 'aes-cbc-elephant, 512-bit key' "$T/err"
	# a read that starts and ends inside sectors undoes the diffuser too
	"$CRYPT_OPEN" -c 1000 -p "$T/pw" bitlocker "$I/bitlk-aes-cbc-elephant-256.img" 1000001 70000 >"$T/part"
	dd if="$T/out" bs=1M iflag=skip_bytes,count_bytes skip=1000001 count=70000 \
		status=none | cmp - "$T/part"
}

@test "protection suspended (a clear key in the metadata): opens with no secret, said" {
	opens bitlk-aes-xts-128-clearkey-only
	grep -q 'volume: BitLocker protection is suspended: opened by the clear key its metadata keeps' "$T/err"
	# a volume with no clear key still needs one
	run -2 --separate-stderr "$CRYPT_OPEN" bitlocker "$I/bitlk-aes-xts-128.img"
	assert_equal "$stderr" "locked: no password, recovery password or key given (Permission denied)"
}

@test "refused with the reason: used space only, smart card" {
	printf 'anaconda\n' >"$T/pw"
	for img in bitlk-aes-xts-128-eow bitlk-partially-encrypted-aes-cbc-128; do
		run -2 --separate-stderr "$CRYPT_OPEN" -p "$T/pw" bitlocker "$I/$img.img"
		[ -z "$output" ]
		assert_equal "$stderr" "BitLocker volume encrypting used space only (encrypt-on-write): not supported (Operation not supported)"
	done
	run -2 --separate-stderr "$CRYPT_OPEN" -p "$T/pw" bitlocker "$I/bitlk-aes-xts-128-smart-card.img"
	assert_equal "$stderr" "locked: no password, recovery password or key matched (Permission denied)"
}

@test "sources are unchanged" {
	assert_sources_unchanged
}
