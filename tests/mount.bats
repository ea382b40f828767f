#!/usr/bin/env bats
# Mounting images: every exposed file equals its byte range of the source.

load helpers

setup_file() {
	make_dos_and_gpt_images
}

setup() {
	blkfuse_setup
}

teardown() {
	blkfuse_teardown
}

# cmp_parts IMG MNT: each pN equals dd of partx's range; names match exactly.
cmp_parts() {
	local img=$1 mnt=$2 nr start size want=disk
	cmp "$img" "$mnt/disk"
	while read -r nr start size; do
		[ "$(stat -c %s "$mnt/p$nr")" -eq "$size" ]
		cmp <(dd if="$img" bs=512 skip=$((start / 512)) count=$((size / 512)) status=none) "$mnt/p$nr"
		want="$want p$nr"
	done < <(partx_ranges "$img")
	[ "$(data_files "$mnt" | xargs)" = "$(echo $want | tr ' ' '\n' | sort -V | xargs)" ]
}

@test "DOS with extended and logical partitions: p1 p2 p4 p5 p6 equal their ranges" {
	start_blkfuse "$DOS" "$MNT"
	run data_files "$MNT"
	assert_output "$(printf 'disk\np1\np2\np3\np4\np5\np6')"
	# the extended container is 1 KiB, as the kernel shows it
	[ "$(stat -c %s "$MNT/p3")" -eq 1024 ]
	cmp <(dd if="$DOS" bs=512 skip=34816 count=2 status=none) "$MNT/p3"
	local nr start size
	while read -r nr start size; do
		[ "$nr" = 3 ] && continue
		[ "$(stat -c %s "$MNT/p$nr")" -eq "$size" ]
		cmp <(dd if="$DOS" bs=512 skip=$((start / 512)) count=$((size / 512)) status=none) "$MNT/p$nr"
	done < <(partx_ranges "$DOS")
	cmp "$DOS" "$MNT/disk"
	stop_blkfuse
}

@test "GPT with 128 entries: names, sizes and bytes" {
	start_blkfuse "$GPT" "$MNT"
	cmp_parts "$GPT" "$MNT"
	stop_blkfuse
}

@test "files are regular, mode 0444, owner and mtime of the source" {
	chown 1234:5678 "$DOS"
	touch -d '2020-01-02 03:04:05' "$DOS"
	start_blkfuse "$DOS" "$MNT"
	run stat -c '%F %a %u %g %Y' "$MNT/p1"
	assert_output "regular file 444 1234 5678 $(stat -c %Y "$DOS")"
	run stat -c '%a' "$MNT"
	assert_output 555
	chown 0:0 "$DOS"
}

@test "reads are clamped to the file: EOF exact, nothing past the end" {
	start_blkfuse "$DOS" "$MNT"
	local size out=$BATS_TEST_TMPDIR/out
	size=$(stat -c %s "$MNT/p1")
	# a read straddling the end returns only the bytes inside p1: its last 4 KiB
	run dd if="$MNT/p1" of="$out" bs=4096 skip=$((size / 4096 - 1)) count=4 status=none
	assert_success
	assert_equal "$(stat -c %s "$out")" 4096
	cmp "$out" <(dd if="$DOS" bs=512 skip=$((2048 + 16384 - 8)) count=8 status=none)
	# at and past EOF: zero bytes
	run dd if="$MNT/p1" of="$out" bs=1 skip="$size" count=10 status=none
	assert_success
	assert_equal "$(stat -c %s "$out")" 0
	# an unaligned O_DIRECT-free tail read matches the source
	cmp <(tail -c 777 "$MNT/p1") <(dd if="$DOS" bs=512 skip=$((2048 + 16384)) count=0 status=none; dd if="$DOS" bs=1 skip=$(((2048 + 16384) * 512 - 777)) count=777 status=none)
}

@test "O_DIRECT readers get the same bytes" {
	start_blkfuse "$GPT" "$MNT"
	local nr start size
	read -r nr start size < <(partx_ranges -n 2 "$GPT")
	cmp <(dd if="$GPT" bs=512 skip=$((start / 512)) count=$((size / 512)) status=none) \
		<(dd if="$MNT/p2" bs=1M iflag=direct status=none)
}

@test "reads are spliced: header write, splice in, splice out; no pread" {
	command -v strace >/dev/null || skip "strace not installed"
	start_blkfuse -o max_threads=1 "$GPT" "$MNT"
	strace -f -qq -e trace=splice,pread64,writev -o "$BATS_TEST_TMPDIR/strace" -p "$DAEMON_PID" &
	local tracer=$!
	# wait until strace is attached (it stops the daemon's threads briefly)
	for _ in $(seq 100); do
		grep -q TracerPid:.*[1-9] "/proc/$DAEMON_PID/status" && break
		sleep 0.05
	done
	dd if="$MNT/p3" of=/dev/null bs=512K iflag=direct status=none
	kill "$tracer"; wait "$tracer" || true
	run grep -c 'splice(' "$BATS_TEST_TMPDIR/strace"
	[ "$output" -ge 40 ]	# 10 MiB in 512 KiB replies, two splices each
	run grep -c 'pread64(' "$BATS_TEST_TMPDIR/strace"
	assert_output 0
}

@test "splice off (-o nosplice) copies and returns the same bytes" {
	start_blkfuse -o nosplice "$GPT" "$MNT"
	cmp_parts "$GPT" "$MNT"
}

@test "1 MiB replies (max_reply=1048576) still read correctly" {
	EXPECTED_LOG='needs 1056768-byte pipes but fs.pipe-max-size is 1048576'
	start_blkfuse -o max_reply=1048576 "$GPT" "$MNT"
	cmp <(dd if="$GPT" bs=1M status=none) <(dd if="$MNT/disk" bs=1M iflag=direct status=none)
	stop_blkfuse
}

@test "1 MiB replies over pipe-max-size without CAP_SYS_RESOURCE: said once that they are copied" {
	local max; max=$(cat /proc/sys/fs/pipe-max-size)
	[ "$max" -lt 2097152 ] || skip "pipe-max-size is $max here: the pipe fits 1 MiB replies"
	# the daemon without CAP_SYS_RESOURCE (it could exceed pipe-max-size
	# with it): dropped from its bounding set, so even root runs without
	local w=$BATS_TEST_TMPDIR/no-sys-resource
	printf '#!/bin/sh\nexec setpriv --bounding-set=-sys_resource --inh-caps=-sys_resource "%s" "$@"\n' \
		"$BLKFUSE" >"$w"
	chmod +x "$w"
	BLKFUSE=$w start_blkfuse -o max_reply=1048576 "$GPT" "$MNT"
	local capeff; capeff=$(awk '/^CapEff:/ { print $2 }' "/proc/$DAEMON_PID/status")
	assert_equal "$(( 0x$capeff >> 24 & 1 ))" 0	# CAP_SYS_RESOURCE is bit 24
	cmp <(dd if="$GPT" bs=1M status=none) <(dd if="$MNT/disk" bs=1M iflag=direct status=none)
	stop_blkfuse
	run grep -c 'will be copied' "$DAEMON_LOG"
	assert_output 1
	EXPECTED_LOG='will be copied'
}

@test "parallel readers of different partitions get their own bytes" {
	start_blkfuse "$DOS" "$MNT"
	local nr start size pids=() i=0
	while read -r nr start size; do
		[ "$nr" = 3 ] && continue
		( cmp <(dd if="$DOS" bs=512 skip=$((start / 512)) count=$((size / 512)) status=none) "$MNT/p$nr" &&
		  cmp <(dd if="$DOS" bs=512 skip=$((start / 512)) count=$((size / 512)) status=none) "$MNT/p$nr" ) &
		pids+=($!)
	done < <(partx_ranges "$DOS")
	for p in "${pids[@]}"; do wait "$p"; done
	stop_blkfuse
}

@test "every write path fails: EROFS, and the source is untouched" {
	start_blkfuse "$DOS" "$MNT"
	run bash -c "echo x > '$MNT/p1'"
	assert_failure; assert_output --partial 'Read-only file system'
	run truncate -s 0 "$MNT/p1"
	assert_failure; assert_output --partial 'Read-only file system'
	run touch "$MNT/new"
	assert_failure; assert_output --partial 'Read-only file system'
	run mkdir "$MNT/d"
	assert_failure; assert_output --partial 'Read-only file system'
	run rm -f "$MNT/p1"
	assert_failure; assert_output --partial 'Read-only file system'
	run mv "$MNT/p1" "$MNT/p9"
	assert_failure; assert_output --partial 'Read-only file system'
	run chmod 0666 "$MNT/p1"
	assert_failure; assert_output --partial 'Read-only file system'
	run setfattr -n user.x -v 1 "$MNT/p1"
	assert_failure
	run ln -s p1 "$MNT/l"
	assert_failure; assert_output --partial 'Read-only file system'
	# an O_RDWR open, through python to see the errno itself
	run python3 -c "import os,errno,sys
try: os.open('$MNT/p1', os.O_RDWR)
except OSError as e: print(errno.errorcode[e.errno]); sys.exit(0)
sys.exit(1)"
	assert_success; assert_output EROFS
	grep -q " $MNT fuse.blkfuse ro," /proc/mounts
}

@test "ordinary tools work on the files: file -s, mmls, fsck -n, mount -o ro,loop" {
	command -v mkfs.ext4 >/dev/null || skip "e2fsprogs missing"
	local img=$BATS_TEST_TMPDIR/fs.img fsmnt=$BATS_TEST_TMPDIR/fs
	cp "$GPT" "$img"
	# an ext4 file system in p1 of a private copy
	local start size
	read -r _ start size < <(partx_ranges -n 1 "$img")
	local part=$BATS_TEST_TMPDIR/p1.raw content=$BATS_TEST_TMPDIR/content
	mkdir -p "$content"
	cp "$REPO/tests/helpers.bash" "$content/"
	mkfs.ext4 -q -F -d "$content" "$part" $((size / 1024))k
	dd if="$part" of="$img" bs=512 seek=$((start / 512)) conv=notrunc status=none
	sha=$(sha256sum <"$img")
	start_blkfuse "$img" "$MNT"
	run file -s "$MNT/p1"
	assert_output --partial 'ext4 filesystem'
	run mmls "$MNT/disk"
	assert_output --partial 'GUID Partition Table'
	run fsck.ext4 -n "$MNT/p1"
	assert_success
	mkdir -p "$fsmnt"
	mount -o ro,noload,loop "$MNT/p1" "$fsmnt"
	FSMNT=$fsmnt	# teardown unmounts it should cmp fail
	cmp "$fsmnt/helpers.bash" "$REPO/tests/helpers.bash"
	umount "$fsmnt"
	stop_blkfuse
	[ "$(sha256sum <"$img")" = "$sha" ]
}

@test "SIGTERM and SIGINT end the daemon with exit 0 and remove the mount" {
	local sig
	for sig in TERM INT; do
		start_blkfuse "$DOS" "$MNT"
		kill -s $sig "$DAEMON_PID"
		local rc=0
		wait "$DAEMON_PID" || rc=$?
		DAEMON_PID=
		[ "$rc" -eq 0 ]
		run mountpoint -q "$MNT"
		assert_failure
	done
}

@test "umount(8) ends the daemon with exit 0" {
	start_blkfuse "$DOS" "$MNT"
	umount "$MNT"
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	[ "$rc" -eq 0 ]
}

@test "daemon mode: returns once mounted, exits on fusermount3 -u" {
	run "$BLKFUSE" "$GPT" "$MNT"
	assert_success
	mountpoint -q "$MNT"
	local pid; pid=$(pgrep -f "blkfuse $GPT $MNT")
	[ -n "$pid" ]
	cmp "$GPT" "$MNT/disk"
	fusermount3 -u "$MNT"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	run kill -0 "$pid"
	assert_failure
}

@test "source unchanged after the whole file" {
	assert_sources_unchanged
}
