#!/usr/bin/env bats
# Encrypted volumes (core/volume: luks.c, bitlocker.c, keys.c), checked
# through tests/crypt_open, which opens a volume in a file with the core
# alone.  Oracles: LUKS volumes are encrypted by cryptsetup itself
# (`reencrypt --encrypt` works on a plain file without device-mapper), so
# the plaintext is the random file it started from; BitLocker volumes made
# by Windows 10 (../shared/testdata/fve) decrypt to their README's known
# bytes and, where libbde's bdemount can mount, to every byte bdemount gives.

load helpers
load crypt

CRYPT_OPEN=${CRYPT_OPEN:-$(dirname "$BLKFUSE")/tests/crypt_open}
FVE=$TESTDATA/fve
PASS='s3cret-Pass word'
BDE_PASS='password12!@'
BDE_RECOVERY=284867-596541-514998-422114-660297-261613-215424-199408

setup_file() {
	[ -x "$CRYPT_OPEN" ]	# built by make with blkfuse
	D=$BATS_FILE_TMPDIR
	printf '%s\n' "$PASS" >"$D/pass"
	# cryptsetup takes a key file whole, newline and all
	printf '%s' "$PASS" >"$D/pass.raw"
	for f in bde_aes_128 bde_aes-xts_128 bde_recovery_password bde_startup_key; do
		gzip -dc "$FVE/$f.bin.gz" >"$D/$f.bin"
	done
	gzip -dc "$FVE/luks2_aes-xts-plain64.bin.gz" >"$D/luks2_testdata.bin"
	record_checksums "$D"/*.bin "$FVE"/*
}

setup() {
	blkfuse_setup
	D=$BATS_FILE_TMPDIR
	T=$BATS_TEST_TMPDIR
}

teardown() {
	blkfuse_teardown
}

# assert_error TEXT: $stderr is the one line "blkfuse: TEXT", with or
# without the level word (blkfuse: error: TEXT) the log is moving to.
assert_error() {
	[ "$stderr" = "blkfuse: $1" ] || [ "$stderr" = "blkfuse: error: $1" ] ||
		fail "stderr is '$stderr', not the error line '$1'"
}

# encrypt OUT TYPE REDUCE_MIB [cryptsetup options...]: OUT is a random
# $T/plain.img (REDUCE_MIB + 4 MiB) that cryptsetup encrypted in place with
# $PASS; the first 4 MiB of its plaintext are those of plain.img.  LUKS1 is
# made as LUKS2 and converted (cryptsetup encrypts LUKS1 only through dm).
encrypt() {
	local out=$1 type=$2 reduce=$3
	shift 3
	random_image "$T/plain.img" $((reduce + 4))
	cp "$T/plain.img" "$out"
	luks_encrypt "$out" "$reduce" "$D/pass.raw" "$@" || return 1
	if [ "$type" = luks1 ]; then
		cryptsetup convert --type luks1 --batch-mode "$out" || return 1
	fi
	cryptsetup luksDump "$out" | grep -q "^Version:[[:space:]]*${type#luks}$"
}

# same_plaintext FILE [crypt_open options...]: FILE decrypts to plain.img's
# first 4 MiB.
same_plaintext() {
	local f=$1
	shift
	"$CRYPT_OPEN" "$@" luks "$f" 0 $((4 << 20)) >"$T/out" 2>"$T/err" || {
		cat "$T/err"
		return 1
	}
	head -c $((4 << 20)) "$T/plain.img" | cmp - "$T/out"
}

luks_cipher() {
	local type=$1 cipher=$2 ks=256 reduce=4
	[ "$cipher" = aes-xts-plain64 ] && ks=512
	[ "$type" = luks1 ] && reduce=8
	encrypt "$T/v.img" "$type" "$reduce" --cipher "$cipher" --key-size $ks
	same_plaintext "$T/v.img" -p "$D/pass"
	grep -q "${type^^}, $cipher, $ks-bit key, 512-byte sectors" "$T/err"
}

@test "LUKS2 aes-xts-plain64: every byte as cryptsetup encrypted it" {
	luks_cipher luks2 aes-xts-plain64
}

@test "LUKS2 aes-xts-plain (32-bit IVs), 256-bit key (AES-128): every byte" {
	luks_cipher luks2 aes-xts-plain
}

@test "LUKS2 aes-cbc-essiv:sha256: every byte as cryptsetup encrypted it" {
	luks_cipher luks2 aes-cbc-essiv:sha256
}

@test "LUKS2 aes-cbc-plain and aes-cbc-plain64: every byte" {
	luks_cipher luks2 aes-cbc-plain
	luks_cipher luks2 aes-cbc-plain64
}

@test "LUKS2 aes-ecb: every byte" {
	luks_cipher luks2 aes-ecb
}

@test "LUKS1 (converted from cryptsetup's LUKS2): every cipher, every byte" {
	for c in aes-xts-plain64 aes-cbc-essiv:sha256 aes-cbc-plain aes-cbc-plain64 aes-ecb; do
		luks_cipher luks1 "$c"
	done
}

@test "LUKS2 with 4096-byte sectors (xts and cbc-essiv): IVs as cryptsetup counts them" {
	encrypt "$T/v.img" luks2 4 --sector-size 4096
	same_plaintext "$T/v.img" -p "$D/pass"
	grep -q '4096-byte sectors' "$T/err"
	encrypt "$T/v.img" luks2 4 --sector-size 4096 --cipher aes-cbc-essiv:sha256 --key-size 256
	same_plaintext "$T/v.img" -p "$D/pass"
}

@test "LUKS2 argon2id and a second key slot: each line of the file is tried" {
	encrypt "$T/v.img" luks2 4 --pbkdf argon2id --pbkdf-memory 32 --pbkdf-force-iterations 4
	printf 'other one' >"$T/newpass"
	cryptsetup luksAddKey --batch-mode --pbkdf argon2i --pbkdf-memory 32 \
		--pbkdf-force-iterations 4 --key-file "$D/pass.raw" "$T/v.img" "$T/newpass"
	printf 'wrong\r\n\nother one\r\n' >"$T/passes"
	same_plaintext "$T/v.img" -p "$T/passes"
}

@test "LUKS: --key-file as the raw volume key, or as a key file for a slot" {
	encrypt "$T/v.img" luks2 4
	cryptsetup luksDump --dump-volume-key --volume-key-file "$T/vk" \
		--key-file "$D/pass.raw" --batch-mode "$T/v.img" >/dev/null
	[ "$(stat -c %s "$T/vk")" -eq 64 ]
	same_plaintext "$T/v.img" -k "$T/vk"
	head -c 100 /dev/urandom >"$T/keyfile"
	cryptsetup luksAddKey --batch-mode --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--key-file "$D/pass.raw" "$T/v.img" "$T/keyfile"
	same_plaintext "$T/v.img" -k "$T/keyfile"
	head -c 64 /dev/urandom >"$T/badvk"
	run -2 "$CRYPT_OPEN" -k "$T/badvk" luks "$T/v.img"
	assert_output --partial 'locked: no passphrase or key matched'
}

@test "LUKS: reads at any offset and length are exact to the byte" {
	encrypt "$T/v.img" luks2 4 --sector-size 4096
	# 1000-byte reads cross every sector edge at a different place
	"$CRYPT_OPEN" -c 1000 -p "$D/pass" luks "$T/v.img" 1234567 300001 >"$T/out"
	dd if="$T/plain.img" bs=1M iflag=skip_bytes,count_bytes skip=1234567 \
		count=300001 status=none | cmp - "$T/out"
	"$CRYPT_OPEN" -c 1 -p "$D/pass" luks "$T/v.img" 4095 2 >"$T/out"
	dd if="$T/plain.img" bs=1 skip=4095 count=2 status=none | cmp - "$T/out"
}

@test "LUKS and BitLocker: 8 threads reading at once get the same bytes" {
	encrypt "$T/v.img" luks2 4 --cipher aes-cbc-essiv:sha256 --key-size 256
	"$CRYPT_OPEN" -t 8 -c 12345 -p "$D/pass" luks "$T/v.img" 0 $((4 << 20)) >"$T/out"
	head -c $((4 << 20)) "$T/plain.img" | cmp - "$T/out"
	printf '%s\n' "$BDE_PASS" >"$T/p"
	"$CRYPT_OPEN" -p "$T/p" bitlocker "$D/bde_aes-xts_128.bin" >"$T/one"
	"$CRYPT_OPEN" -t 8 -c 65536 -p "$T/p" bitlocker "$D/bde_aes-xts_128.bin" >"$T/eight"
	cmp "$T/one" "$T/eight"
}

@test "LUKS2 made elsewhere (testdata): sector i is 512 bytes of value i" {
	printf 'password\n' >"$T/p"
	"$CRYPT_OPEN" -p "$T/p" luks "$D/luks2_testdata.bin" 0 2048 >"$T/out"
	for i in 0 1 2 3; do
		head -c 512 /dev/zero | tr '\0' "\\$(printf %o $i)" >"$T/want"
		dd if="$T/out" bs=512 skip=$i count=1 status=none | cmp - "$T/want"
	done
}

@test "LUKS: a wrong passphrase, or none, leaves it locked with the reason and nothing exposed" {
	encrypt "$T/v.img" luks2 4
	printf 'nope\nnot this either\n' >"$T/wrong"
	run -2 --separate-stderr "$CRYPT_OPEN" -p "$T/wrong" luks "$T/v.img"
	[ -z "$output" ]
	[ "$stderr" = "locked: no passphrase or key matched (Permission denied)" ]
	run -2 --separate-stderr "$CRYPT_OPEN" luks "$T/v.img"
	[ -z "$output" ]
	[ "$stderr" = "locked: no passphrase or key given (Permission denied)" ]
}

@test "LUKS2: bad checksums on both headers: one line; on one only: the backup serves" {
	encrypt "$T/v.img" luks2 4
	cp "$T/v.img" "$T/one.img"
	# a byte of the primary header's JSON area (its checksum covers it)
	printf 'X' | dd of="$T/one.img" bs=1 seek=$((4096 + 100)) conv=notrunc status=none
	same_plaintext "$T/one.img" -p "$D/pass"
	cp "$T/one.img" "$T/both.img"
	printf 'X' | dd of="$T/both.img" bs=1 seek=$((16384 + 4096 + 100)) conv=notrunc status=none
	run -2 --separate-stderr "$CRYPT_OPEN" -p "$D/pass" luks "$T/both.img"
	[ -z "$output" ]
	[ "$stderr" = "LUKS2 header not valid: bad checksum or damaged (Invalid argument)" ]
}

@test "LUKS: a volume cut short in its key slots, or no LUKS at all: one line" {
	encrypt "$T/v.img" luks2 4
	head -c 100000 "$T/v.img" >"$T/short.img"
	run -2 --separate-stderr "$CRYPT_OPEN" -p "$D/pass" luks "$T/short.img"
	[ -z "$output" ]
	assert_equal "${stderr##*$'\n'}" "LUKS2 header not valid: volume is too small. Need at least 2097152 bytes (Invalid argument)"
	run -2 --separate-stderr "$CRYPT_OPEN" -p "$D/pass" luks "$T/plain.img"
	[ "$stderr" = "no LUKS header (Invalid argument)" ]
}

@test "LUKS2 in the middle of a reencryption: refused with the reason, not misread" {
	random_image "$T/plain.img" 4
	cp "$T/plain.img" "$T/r.img"
	cryptsetup reencrypt --encrypt --init-only --type luks2 --batch-mode \
		--reduce-device-size 2M --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--key-file "$D/pass.raw" "$T/r.img" 2>/dev/null
	run -2 --separate-stderr "$CRYPT_OPEN" -p "$D/pass" luks "$T/r.img"
	[ -z "$output" ]
	assert_equal "$stderr" "LUKS2 reencryption in progress: not supported (Operation not supported)"
}

# bde_known FILE: the README's known plaintext of the decrypted volume.
bde_known() {
	[ "$(dd if="$1" bs=1 skip=3 count=8 status=none)" = "NTFS    " ]
	dd if="$1" bs=1 skip=$((0x2000)) count=8 status=none | od -An -tx1 >"$T/hex"
	[ "$(tr -d ' \n' <"$T/hex")" = 46494c4530000300 ]
}

# bde_oracle IMAGE OUT bdemount-options...: OUT equals every byte bdemount
# gives of the same volume (up to the end of the cut-short image).
bde_oracle() {
	local img=$1 out=$2
	shift 2
	command -v bdemount >/dev/null && [ -c /dev/fuse ] || return 0
	mkdir -p "$T/bde"
	timeout 20 bdemount "$@" "$img" "$T/bde" >/dev/null 2>&1 || return 1
	FAULTY_MNT=$T/bde	# teardown unmounts it whatever happens
	head -c "$(stat -c %s "$out")" "$T/bde/bde1" | cmp - "$out"
	fusermount3 -u "$T/bde" 2>/dev/null || fusermount -u "$T/bde"
}

@test "BitLocker AES-CBC 128 and AES-XTS 128 by password: known plaintext, every byte as libbde" {
	printf '%s\n' "$BDE_PASS" >"$T/p"
	for f in bde_aes_128 bde_aes-xts_128; do
		"$CRYPT_OPEN" -p "$T/p" bitlocker "$D/$f.bin" >"$T/$f.out" 2>"$T/err"
		bde_known "$T/$f.out"
		[ "$(stat -c %s "$T/$f.out")" -eq "$(stat -c %s "$D/$f.bin")" ]
		bde_oracle "$D/$f.bin" "$T/$f.out" -p "$BDE_PASS"
	done
	grep -q 'aes-xts-plain64, 256-bit key' "$T/err"
}

@test "BitLocker by recovery password, with or without its dashes" {
	printf '%s\n' "$BDE_RECOVERY" >"$T/r1"
	printf 'wrong\n%s\n' "${BDE_RECOVERY//-/}" >"$T/r2"
	"$CRYPT_OPEN" -p "$T/r1" bitlocker "$D/bde_recovery_password.bin" >"$T/o1"
	"$CRYPT_OPEN" -p "$T/r2" bitlocker "$D/bde_recovery_password.bin" >"$T/o2"
	bde_known "$T/o1"
	cmp "$T/o1" "$T/o2"
	bde_oracle "$D/bde_recovery_password.bin" "$T/o1" -r "$BDE_RECOVERY"
}

@test "BitLocker by startup key (.BEK); a wrong one stays locked" {
	"$CRYPT_OPEN" -k "$FVE/bde_startup_key.bek" bitlocker "$D/bde_startup_key.bin" >"$T/o"
	bde_known "$T/o"
	bde_oracle "$D/bde_startup_key.bin" "$T/o" -s "$FVE/bde_startup_key.bek"
	head -c 156 /dev/urandom >"$T/bad.bek"
	run -2 --separate-stderr "$CRYPT_OPEN" -k "$T/bad.bek" bitlocker "$D/bde_startup_key.bin"
	[ -z "$output" ]
	assert_equal "$stderr" "locked: no password, recovery password or key matched (Permission denied)"
}

@test "BitLocker: unaligned reads across the relocated header and a metadata area" {
	printf '%s\n' "$BDE_PASS" >"$T/p"
	"$CRYPT_OPEN" -p "$T/p" bitlocker "$D/bde_aes-xts_128.bin" >"$T/all"
	# 8192: end of the relocated header; 35586048: the first metadata area
	for range in "8000 500" "35585000 70000" "1 1"; do
		set -- $range
		"$CRYPT_OPEN" -c 999 -p "$T/p" bitlocker "$D/bde_aes-xts_128.bin" "$1" "$2" >"$T/part"
		dd if="$T/all" bs=1M iflag=skip_bytes,count_bytes skip="$1" count="$2" \
			status=none | cmp - "$T/part"
	done
	# the metadata area reads as zeros, as dm-crypt maps it
	cmp <(dd if="$T/all" bs=64K iflag=skip_bytes skip=35586048 count=1 status=none) \
		<(head -c 65536 /dev/zero)
}

@test "BitLocker: wrong password, cut short before its metadata, not BitLocker: one line each" {
	printf 'password12\n' >"$T/p"
	run -2 --separate-stderr "$CRYPT_OPEN" -p "$T/p" bitlocker "$D/bde_aes_128.bin"
	[ -z "$output" ]
	assert_equal "$stderr" "locked: no password, recovery password or key matched (Permission denied)"
	head -c 1M "$D/bde_aes_128.bin" >"$T/short.bin"
	run -2 --separate-stderr "$CRYPT_OPEN" -p "$T/p" bitlocker "$T/short.bin"
	assert_equal "$stderr" "BitLocker metadata offset 35586048 not valid (Invalid argument)"
	run -2 --separate-stderr "$CRYPT_OPEN" -p "$T/p" bitlocker "$D/luks2_testdata.bin"
	assert_equal "$stderr" "no BitLocker signature (Invalid argument)"
}

@test "BitLocker being converted (encryption paused): refused, not served as noise" {
	cp "$D/bde_aes_128.bin" "$T/part.bin"
	# the first metadata block's state: 2 (encrypting), not 4 (normal)
	printf '\x02' | dd of="$T/part.bin" bs=1 seek=$((35586048 + 12)) conv=notrunc status=none
	printf '%s\n' "$BDE_PASS" >"$T/p"
	run -2 --separate-stderr "$CRYPT_OPEN" -p "$T/p" bitlocker "$T/part.bin"
	[ -z "$output" ]
	assert_equal "$stderr" "BitLocker volume being converted (state 2, next 4): not supported (Operation not supported)"
}

@test "keys: a missing passphrase file is one line naming it" {
	run -1 --separate-stderr "$CRYPT_OPEN" -p "$T/nothere" luks "$D/luks2_testdata.bin"
	assert_error "$T/nothere: No such file or directory"
	run -1 --separate-stderr "$CRYPT_OPEN" -k /dev/null luks "$D/luks2_testdata.bin"
	assert_error "/dev/null: not a key file (a regular file of at most 1 MiB, or a pipe)"
	# a pipe is taken, as cryptsetup takes one
	"$CRYPT_OPEN" -p <(printf 'password\n') luks "$D/luks2_testdata.bin" 0 512 | cmp - <(head -c 512 /dev/zero)
}

@test "secrets never reach the output, the error lines or argv" {
	encrypt "$T/v.img" luks2 4
	printf 'wrong-%s\n' "$PASS" >"$T/wrong"
	run -2 "$CRYPT_OPEN" -p "$T/wrong" luks "$T/v.img"
	refute_output --partial "$PASS"
	run -0 --separate-stderr "$CRYPT_OPEN" -p "$D/pass" luks "$T/v.img" 0 512
	[[ "$stderr" != *"$PASS"* ]]
	printf '%s\n' "$BDE_PASS" >"$T/p"
	run -0 --separate-stderr "$CRYPT_OPEN" -p "$T/p" bitlocker "$D/bde_aes_128.bin" 0 512
	[[ "$stderr" != *"$BDE_PASS"* ]]
	# the key lives in locked memory (AddressSanitizer makes mlock a no-op)
	"$CRYPT_OPEN" -c 1 -p "$D/pass" luks "$T/v.img" >/dev/null 2>"$T/err" &
	local pid=$!
	opened() { grep -q 'LUKS2' "$T/err"; }
	wait_until "the volume open" opened
	tr '\0' ' ' </proc/$pid/cmdline | grep -vqF "$PASS"
	nm -D "$CRYPT_OPEN" | grep -q __asan_init ||
		grep -q '^VmLck:[[:space:]]*[1-9]' /proc/$pid/status
	kill $pid
	wait $pid || true
}

@test "--ask-passphrase: asked on the terminal, typed without echo" {
	command -v script >/dev/null || skip "no script(1) for a terminal"
	encrypt "$T/v.img" luks2 4
	mkfifo "$T/typed"
	script -qec "'$CRYPT_OPEN' -a luks '$T/v.img' 0 4096 >'$T/out'" /dev/null \
		<"$T/typed" >"$T/tty" 2>&1 &
	local pid=$! fd
	exec {fd}>"$T/typed"
	prompted() { grep -q 'Passphrase for encrypted volumes: ' "$T/tty"; }
	wait_until "the prompt" prompted
	printf '%s\n' "$PASS" >&$fd
	exec {fd}>&-
	wait $pid
	head -c 4096 "$T/plain.img" | cmp - "$T/out"
	run ! grep -qF "$PASS" "$T/tty"
}

@test "options: a missing secret file is one line, before anything is opened" {
	run -1 --separate-stderr "$BLKFUSE" --list --passphrase-file "$T/none" "$D/luks2_testdata.bin"
	assert_error "$T/none: No such file or directory"
	run -1 --separate-stderr "$BLKFUSE" hash --key-file "$T/none" "$D/luks2_testdata.bin"
	assert_error "$T/none: No such file or directory"
	run -1 --separate-stderr "$BLKFUSE" -f -o passphrase_file="$T/none" "$D/luks2_testdata.bin" "$MNT"
	assert_error "$T/none: No such file or directory"
	run ! mountpoint -q "$MNT"
}

# luks_disk IMG: a GPT disk whose p1 (1 MiB on, 8 MiB) is an encrypted
# copy of plain.img, the first 4 MiB of its plaintext known.
luks_disk() {
	encrypt "$T/v.img" luks2 4
	truncate -s 10M "$1"
	sfdisk -q "$1" <<-EOT
	label: gpt
	start=2048, size=16384, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
	EOT
	dd if="$T/v.img" of="$1" bs=1M seek=1 conv=notrunc status=none
}

@test "the volume key stays locked in a forked daemon (fork drops memory locks)" {
	nm -D "$CRYPT_OPEN" | grep -q __asan_init && skip "AddressSanitizer ignores mlock"
	encrypt "$T/v.img" luks2 4
	"$CRYPT_OPEN" -F -p "$D/pass" luks "$T/v.img" 0 4096 >"$T/out" 2>"$T/err"
	head -c 4096 "$T/plain.img" | cmp - "$T/out"
	grep -Eq '^VmLck:[[:space:]]*[1-9]' "$T/err"
}

@test "a mount given secrets: none in its argv, log, audit, layout.json or control" {
	luks_disk "$T/disk.img"
	start_blkfuse --passphrase-file "$D/pass" --audit "$T/audit" "$T/disk.img" "$MNT"
	tr '\0' '\n' </proc/$DAEMON_PID/cmdline >"$T/cmdline"
	cat "$MNT"/layout.json >"$T/layout"
	"$BLKFUSE" ctl "$MNT" show >"$T/ctl" || true
	find "$MNT" -type f ! -name '.blkfuse-ctl' -exec cat {} + >/dev/null 2>&1 || true
	stop_blkfuse
	grep -q -- '--passphrase-file' "$T/cmdline"
	for f in "$T/cmdline" "$T/layout" "$T/ctl" "$T/audit" "$DAEMON_LOG"; do
		! grep -qF "$PASS" "$f" || fail "the passphrase is in $f"
	done
}

@test "through the mount: the plaintext of a LUKS2 partition in p1.d/" {
	luks_disk "$T/disk.img"
	start_blkfuse --passphrase-file "$D/pass" "$T/disk.img" "$MNT"
	[ -d "$MNT/p1.d" ] || skip "no volume stack in this build (issue 18, branch lvm)"
	local f
	f=$(find "$MNT/p1.d" -maxdepth 2 -type f -size $((6 << 20))c | head -1)
	[ -n "$f" ]
	head -c $((4 << 20)) "$f" | cmp - <(head -c $((4 << 20)) "$T/plain.img")
}

@test "sources are unchanged" {
	assert_sources_unchanged
}
